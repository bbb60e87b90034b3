/*
 * wipe.h: clearing memory that held a secret without making it resident.
 *
 * explicit_bzero() writes every byte, so wiping a buffer sized for the
 * largest answer faults in every page of it, pages a small answer never
 * used, and keeps them resident until the process ends. Multiplied by a
 * fleet, those pages are the sidecar's memory. wipe() gives the whole
 * pages back to the kernel instead (madvise MADV_DONTNEED), which maps a
 * zero page on the next touch, and clears only the partial pages at the
 * two ends. Either way the bytes read as zero afterwards, in this process,
 * in /proc/PID/mem and in a core.
 */
#ifndef TB_WIPE_H
#define TB_WIPE_H

#include <stddef.h>

/*
 * Make p[0..n) zero, leaving the whole pages inside it not resident.
 * Only for private anonymous memory: static storage (.bss), the stack,
 * or an anonymous mapping, which is where this program keeps secrets.
 * Never for a file mapping, whose pages MADV_DONTNEED resets to the
 * file's bytes. When madvise fails the whole range is written instead.
 */
void wipe(void *p, size_t n);

/* How far below its caller wipe_stack() reaches: far past the deepest
 * frames of an exchange (the certificate chain's parse, 36 KiB). */
#define WIPE_STACK_DEPTH ((size_t)256 * 1024)

/*
 * Clear the stack below the caller's frame, down to WIPE_STACK_DEPTH, and
 * give its pages back: during and after an exchange those are dead frames
 * that held the key, the assertion, the form and the parsed answer, and
 * they would stay resident at the deepest call's size for the life of the
 * process. Called where nothing below is live, from a frame as shallow as
 * the work it follows (the loop's, once the jobs have stepped), since the
 * unused slots of live frames keep bytes too; signal handlers must not
 * run on this stack meanwhile (the loop unblocks signals only in ppoll).
 */
void wipe_stack(void);

#endif
