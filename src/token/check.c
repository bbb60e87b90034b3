/*
 * check.c: is the token file usable?
 */
#include <errno.h>
#include <string.h>

#include "base64.h"
#include "check.h"
#include "exchange.h"
#include "json.h"
#include "tokenfile.h"

int64_t
check_jwt_exp(const char *token, size_t len,
    unsigned char payload[CHECK_PAYLOAD_MAX])
{
	jsmntok_t tok[JSON_TOKENS_MAX];
	struct json_doc d;
	struct err ignored;
	const char *p1, *p2;
	uint64_t exp;
	long n;
	int i;

	if ((p1 = memchr(token, '.', len)) == NULL ||
	    (p2 = memchr(p1 + 1, '.', len - (size_t)(p1 + 1 - token))) ==
	        NULL ||
	    memchr(p2 + 1, '.', len - (size_t)(p2 + 1 - token)) != NULL ||
	    (size_t)(p2 - p1 - 1) > CHECK_PAYLOAD_MAX)
		return -1;
	n = base64_decode(payload, (const unsigned char *)p1 + 1,
	    (size_t)(p2 - p1 - 1), BASE64_URL);
	if (n <= 0)
		return -1;
	if (json_parse(&d, (const char *)payload, (size_t)n, tok,
	        sizeof tok / sizeof tok[0], &ignored) == -1 ||
	    (i = json_member(&d, "exp")) < 0 ||
	    json_type(&d, i) != JSMN_PRIMITIVE ||
	    json_uint(&d, i, INT64_MAX, &exp) == -1)
		exp = (uint64_t)-1;
	explicit_bzero(payload, (size_t)n);
	return exp == (uint64_t)-1 ? -1 : (int64_t)exp;
}

/* The expiry recorded next to the token; -1 when there is none. */
static int64_t
recorded_expiry(const char *path)
{
	char meta[4096], text[32];
	uint64_t v = 0;
	size_t i;
	long n;

	if (tokenfile_expiry_path(path, meta, sizeof meta) == -1 ||
	    (n = tokenfile_read_small(meta, text, sizeof text)) <= 0)
		return -1;
	for (i = 0; i < (size_t)n && text[i] >= '0' && text[i] <= '9'; i++)
		v = v * 10 + (uint64_t)(text[i] - '0');
	if (i == 0 || i > 18 || (i < (size_t)n && text[i] != '\n'))
		return -1;
	return (int64_t)v;
}

int
check_token_file(struct check_buf *b, const char *path, int64_t now,
    int64_t margin_s, int64_t *expires_at, struct err *err)
{
	char *token = b->token;
	int64_t exp;
	long n;

	*expires_at = 0;
	if ((n = tokenfile_read_small(path, token, sizeof b->token)) == -1) {
		if (errno == ENOENT)
			return err_set(err, ERR_FILE, "no token at %s yet",
			    path);
		if (errno == EINVAL)
			return err_set(err, ERR_FILE,
			    "the token %s is not a regular file", path);
		return err_set(err, ERR_FILE, "reading the token %s: %s", path,
		    strerror(errno));
	}
	if (n == 0)
		return err_set(err, ERR_FILE, "the token file %s is empty",
		    path);
	if ((exp = check_jwt_exp(token, (size_t)n, b->payload)) == -1)
		exp = recorded_expiry(path);
	explicit_bzero(token, (size_t)n);
	if (exp == -1)
		return 0;
	*expires_at = exp;
	if (exp <= now)
		return err_set(err, ERR_FILE,
		    "the token in %s expired %lld s ago", path,
		    (long long)(now - exp));
	if (exp - now < margin_s)
		return err_set(err, ERR_FILE,
		    "the token in %s expires in %lld s, under the %lld s "
		    "margin (READY_MIN_VALIDITY)",
		    path, (long long)(exp - now), (long long)margin_s);
	return 0;
}
