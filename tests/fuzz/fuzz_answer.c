/*
 * fuzz_answer.c: net_answer_check on arbitrary bytes as a resolver
 * worker's answer. The worker fills it from getaddrinfo, that is from what
 * DNS servers sent: whatever passes must be addresses connect() takes as
 * they are, and no count may reach past the arrays.
 */
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_answer a;
	struct err err;
	unsigned i;

	memset(&a, 0, sizeof a);
	memcpy(&a, data, size < sizeof a ? size : sizeof a);
	if (net_answer_check(&a, "fuzz.tokenbridge.test", &err) == -1) {
		if (err.kind != ERR_DNS || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (a.count == 0 || a.count > NET_ADDRS_MAX)
		abort();
	for (i = 0; i < a.count; i++)
		if (!(a.addr[i].ss_family == AF_INET &&
		        a.len[i] == sizeof(struct sockaddr_in)) &&
		    !(a.addr[i].ss_family == AF_INET6 &&
		        a.len[i] == sizeof(struct sockaddr_in6)))
			abort();
	return 0;
}
