/*
 * glibc_ntop.h: where the host's inet_ntop (glibc) writes an IPv6 address
 * otherwise than musl's, which fmt_addr follows: the tests compare with
 * glibc everywhere else (test_fmt.c, fuzz_fmt.c).
 */
#ifndef TB_GLIBC_NTOP_H
#define TB_GLIBC_NTOP_H

/*
 * Where glibc's text is not musl's: the IPv4-compatible ::/96 (words 0 to
 * 5 zero, word 6 not), or a leading run of zero groups as long as the
 * longest inner one.
 */
static inline int
glibc_differs(const unsigned char *a)
{
	int w[8], i, lead = 0, run = 0, inner = 0;

	for (i = 0; i < 8; i++)
		w[i] = a[2 * i] << 8 | a[2 * i + 1];
	if (w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 &&
	    w[5] == 0 && w[6] != 0)
		return 1;
	while (lead < 8 && w[lead] == 0)
		lead++;
	for (i = lead; i < 8; i++) {
		run = w[i] == 0 ? run + 1 : 0;
		if (i < 7 && w[i + 1] != 0 && run > inner)
			inner = run;
	}
	return lead >= 2 && lead == inner;
}

#endif
