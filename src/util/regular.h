/*
 * regular.h: opening a file to read it, only if it is a regular file.
 */
#ifndef TB_REGULAR_H
#define TB_REGULAR_H

/*
 * Open `path` for reading (O_RDONLY, O_NONBLOCK, close-on-exec) only if
 * it is a regular file, deciding its type before anything is opened:
 * opening a device node planted at the path can act by itself (a tape
 * rewinds, a terminal or modem line hangs up), and a FIFO would block the
 * event loop. The path is opened O_PATH (which opens no file and follows
 * symlinks, as the atomic-writer volumes of Secrets, ConfigMaps and
 * projected tokens need), fstat() tells the type, and the regular file is
 * opened through /proc/self/fd/N, the very inode, whatever the path names
 * by then; without /proc, the path once more, its type checked again.
 * Every file this program reads is opened so. Returns the descriptor, or
 * -1 with errno set (EINVAL: not a regular file).
 */
int regular_open(const char *path);

#endif
