/*
 * regular.c: see regular.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "regular.h"

static int
is_regular(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

/*
 * The regular file behind `at`, an O_PATH descriptor of `path`, opened for
 * reading: through /proc/self/fd/N, which names that very inode whatever
 * the path names by now; without /proc, the path once more, never waiting
 * (O_NONBLOCK) and its type checked again. Returns 0 with *fd set, or an
 * errno value (EINVAL: no longer a regular file).
 */
static int
reopen(int at, const char *path, int *fd)
{
	const int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
	char self[32];

	(void)fmt_snprintf(self, sizeof self, "/proc/self/fd/%d", at);
	if ((*fd = open(self, flags)) != -1)
		return 0;
	if (errno != ENOENT || (*fd = open(path, flags)) == -1)
		return errno;
	if (is_regular(*fd))
		return 0;
	(void)close(*fd);
	*fd = -1;
	return EINVAL;
}

int
regular_open(const char *path)
{
	struct stat st;
	int at, fd = -1, saved;

	if ((at = open(path, O_PATH | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(at, &st) == -1)
		saved = errno;
	else if (!S_ISREG(st.st_mode))
		saved = EINVAL;
	else
		saved = reopen(at, path, &fd);
	(void)close(at);
	errno = saved;
	return fd;
}
