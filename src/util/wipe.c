/*
 * wipe.c: see wipe.h.
 */
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "wipe.h"

static uintptr_t
page_size(void)
{
	uintptr_t page = (uintptr_t)getauxval(AT_PAGESZ);

	/* No auxiliary vector entry: the smallest page there is. */
	return page == 0 || (page & (page - 1)) != 0 ? 4096 : page;
}

void
wipe(void *p, size_t n)
{
	uintptr_t start = (uintptr_t)p, end = start + n;
	uintptr_t page = page_size();
	uintptr_t lo, hi;

	lo = (start + page - 1) & ~(page - 1);
	hi = end & ~(page - 1);
	if (n == 0 || lo >= hi) {
		explicit_bzero(p, n);
		return;
	}
	explicit_bzero(p, lo - start);
	explicit_bzero((void *)hi, end - hi);
	if (madvise((void *)lo, hi - lo, MADV_DONTNEED) != 0)
		explicit_bzero((void *)lo, hi - lo);
}

/*
 * The margin wipe_stack() keeps out of madvise (its own frame and
 * madvise()'s live there), cleared from a frame of its own just below
 * the caller's: dead frames left bytes there too. Three pages, more than
 * the margin's two at most.
 */
static __attribute__((noinline)) void
clear_margin(void)
{
	unsigned char pad[3 * 4096];

	explicit_bzero(pad, sizeof pad);
}

/*
 * Not inlined, so that every live frame (the caller's locals included)
 * lies above this one; the page of margin below it, which holds this
 * frame's few bytes and madvise()'s, is cleared instead. The range may
 * reach below the stack's mapping (madvise then fails with ENOMEM after
 * releasing what is mapped), never into another mapping: the kernel
 * keeps a guard gap of at least 1 MiB below a growing stack.
 */
__attribute__((noinline)) void
wipe_stack(void)
{
	uintptr_t page = page_size();
	uintptr_t hi = ((uintptr_t)__builtin_frame_address(0) - page) &
	    ~(page - 1);

	clear_margin();
	(void)madvise((void *)(hi - WIPE_STACK_DEPTH), WIPE_STACK_DEPTH,
	    MADV_DONTNEED);
}
