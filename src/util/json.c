/*
 * json.c: strict reading of a JSON object with jsmn.
 *
 * jsmn finds token boundaries; it does not check what lies between tokens
 * or inside them. json_parse() walks the token tree once and checks both:
 * the text between two tokens may hold only white space and the one
 * punctuation mark the grammar expects there, and each token's text must
 * match the RFC 8259 grammar of its type.
 */
#include <limits.h>
#include <string.h>

#define JSMN_STRICT
#define JSMN_STATIC
#include <jsmn.h>

#include "json.h"

#define JSON_DEPTH_MAX 64

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* text[a..b) is white space around at most the one separator `sep`. */
static int
gap_ok(const struct json_doc *d, int a, int b, char sep)
{
	int seen = sep == '\0';

	if (a > b)
		return 0;
	for (; a < b; a++) {
		if (is_ws(d->text[a]))
			continue;
		if (d->text[a] != sep || seen)
			return 0;
		seen = 1;
	}
	return seen;
}

/* Where a token's text begins and ends, quotes included. */
static int
tok_begin(const jsmntok_t *t)
{
	return t->type == JSMN_STRING ? t->start - 1 : t->start;
}

static int
tok_end(const jsmntok_t *t)
{
	return t->type == JSMN_STRING ? t->end + 1 : t->end;
}

static int
is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static unsigned
hex4(const char *s)
{
	unsigned v = 0;
	int i;

	for (i = 0; i < 4; i++)
		v = v * 16 +
		    (unsigned)(s[i] <= '9' ? s[i] - '0' :
		                             (s[i] | 0x20) - 'a' + 10);
	return v;
}

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing past U+10FFFF.
 */
static size_t
utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Check one string's escapes, control characters and UTF-8. */
static int
string_ok(const char *s, size_t n)
{
	size_t i = 0, l;
	unsigned u;

	while (i < n) {
		if ((unsigned char)s[i] < 0x20)
			return 0;
		if (s[i] != '\\') {
			if ((l = utf8_len((const unsigned char *)s + i,
			         n - i)) == 0)
				return 0;
			i += l;
			continue;
		}
		if (++i >= n)
			return 0;
		if (strchr("\"\\/bfnrt", s[i]) != NULL && s[i] != '\0') {
			i++;
			continue;
		}
		if (s[i] != 'u' || n - i < 5 || !is_hex(s[i + 1]) ||
		    !is_hex(s[i + 2]) || !is_hex(s[i + 3]) || !is_hex(s[i + 4]))
			return 0;
		u = hex4(s + i + 1);
		i += 5;
		/* Surrogates only as a high-low pair. */
		if (u >= 0xdc00 && u <= 0xdfff)
			return 0;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (n - i < 6 || s[i] != '\\' || s[i + 1] != 'u' ||
			    !is_hex(s[i + 2]) || !is_hex(s[i + 3]) ||
			    !is_hex(s[i + 4]) || !is_hex(s[i + 5]))
				return 0;
			u = hex4(s + i + 2);
			if (u < 0xdc00 || u > 0xdfff)
				return 0;
			i += 6;
		}
	}
	return 1;
}

static size_t
digits(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	return i;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
number_ok(const char *s, size_t n)
{
	size_t i = 0, k;

	if (i < n && s[i] == '-')
		i++;
	if ((k = digits(s + i, n - i)) == 0 || (k > 1 && s[i] == '0'))
		return 0;
	i += k;
	if (i < n && s[i] == '.') {
		i++;
		if ((k = digits(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if ((k = digits(s + i, n - i)) == 0)
			return 0;
		i += k;
	}
	return i == n;
}

static int
primitive_ok(const char *s, size_t n)
{
	return (n == 4 && memcmp(s, "true", 4) == 0) ||
	    (n == 5 && memcmp(s, "false", 5) == 0) ||
	    (n == 4 && memcmp(s, "null", 4) == 0) || number_ok(s, n);
}

/* Validate token *i and its subtree; *i moves past it. */
static int
/* NOLINTNEXTLINE(misc-no-recursion): depth stops at JSON_DEPTH_MAX */
walk(const struct json_doc *d, int *i, int depth)
{
	const jsmntok_t *t = &d->tok[*i];
	int k, pos, child;
	char sep;

	if (depth > JSON_DEPTH_MAX)
		return 0;
	(*i)++;
	if (t->type == JSMN_STRING)
		return string_ok(d->text + t->start,
		    (size_t)(t->end - t->start));
	if (t->type == JSMN_PRIMITIVE)
		return primitive_ok(d->text + t->start,
		    (size_t)(t->end - t->start));
	if (t->type != JSMN_OBJECT && t->type != JSMN_ARRAY)
		return 0;
	pos = t->start + 1;
	for (k = 0; k < t->size; k++) {
		if (*i >= d->count)
			return 0;
		child = *i;
		sep = k == 0 ? '\0' : ',';
		if (!gap_ok(d, pos, tok_begin(&d->tok[child]), sep))
			return 0;
		if (t->type == JSMN_OBJECT) {
			/* A key: a string with exactly one value. */
			if (d->tok[child].type != JSMN_STRING ||
			    d->tok[child].size != 1 || !walk(d, i, depth + 1))
				return 0;
			pos = tok_end(&d->tok[child]);
			if (*i >= d->count)
				return 0;
			child = *i;
			if (!gap_ok(d, pos, tok_begin(&d->tok[child]), ':'))
				return 0;
		}
		if (!walk(d, i, depth + 1))
			return 0;
		pos = tok_end(&d->tok[child]);
	}
	return gap_ok(d, pos, t->end - 1, '\0') &&
	    d->text[t->end - 1] == (t->type == JSMN_OBJECT ? '}' : ']');
}

int
json_parse(struct json_doc *d, const char *text, size_t len, jsmntok_t *tok,
    unsigned ntok, struct err *err)
{
	jsmn_parser p;
	int n, i = 0;

	d->text = text;
	d->len = len;
	d->tok = tok;
	d->count = 0;
	if (memchr(text, '\0', len) != NULL)
		return err_set(err, ERR_RESPONSE,
		    "the response body is not JSON: it holds a NUL byte");
	if (ntok == 0 || len > INT_MAX / 2)
		return err_set(err, ERR_RESPONSE,
		    "the JSON document is too large to read");
	/*
	 * jsmn's strict mode refuses a lone top-level literal or number
	 * unless white space follows it: check those here directly.
	 */
	for (i = 0; i < (int)len && is_ws(text[i]); i++)
		;
	if (i < (int)len && strchr("{[\"", text[i]) == NULL) {
		n = (int)len;
		while (n > i && is_ws(text[n - 1]))
			n--;
		if (!primitive_ok(text + i, (size_t)(n - i)))
			return err_set(err, ERR_RESPONSE,
			    "the response body is not valid JSON");
		tok[0].type = JSMN_PRIMITIVE;
		tok[0].start = i;
		tok[0].end = n;
		tok[0].size = 0;
		d->count = 1;
		return 0;
	}
	i = 0;
	jsmn_init(&p);
	n = jsmn_parse(&p, text, len, tok, ntok);
	if (n == JSMN_ERROR_NOMEM)
		return err_set(err, ERR_RESPONSE,
		    "the response JSON has more "
		    "than %u values, far more than a token response holds",
		    ntok);
	if (n <= 0)
		return err_set(err, ERR_RESPONSE,
		    "the response body is not valid JSON");
	d->count = n;
	if (!gap_ok(d, 0, tok_begin(&tok[0]), '\0') || !walk(d, &i, 0) ||
	    i != n || !gap_ok(d, tok_end(&tok[0]), (int)len, '\0')) {
		d->count = 0;
		return err_set(err, ERR_RESPONSE,
		    "the response body is not valid JSON");
	}
	return 0;
}

int
json_is_object(const struct json_doc *d)
{
	return d->count > 0 && d->tok[0].type == JSMN_OBJECT;
}

int
json_type(const struct json_doc *d, int i)
{
	return d->tok[i].type;
}

int
/* NOLINTNEXTLINE(misc-no-recursion): walk() bounded the depth already */
json_next(const struct json_doc *d, int i)
{
	int k, size = d->tok[i].size;

	for (i++, k = 0; k < size; k++)
		i = json_next(d, i);
	return i;
}

int
json_member(const struct json_doc *d, const char *key)
{
	return json_member_of(d, 0, key);
}

int
json_member_of(const struct json_doc *d, int obj, const char *key)
{
	char name[64];
	size_t len;
	int i, k, found = -1;

	if (obj < 0 || obj >= d->count || d->tok[obj].type != JSMN_OBJECT)
		return -1;
	for (i = obj + 1, k = 0; k < d->tok[obj].size;
	     k++, i = json_next(d, i + 1)) {
		if (json_string(d, i, name, sizeof name, &len) == -1 ||
		    len != strlen(key) || memcmp(name, key, len) != 0)
			continue;
		if (found != -1)
			return -2;
		found = i + 1;
	}
	return found;
}

/* Write code point u as UTF-8 at out[*o], if it fits before cap. */
static int
put_utf8(char *out, size_t cap, size_t *o, unsigned u)
{
	unsigned char b[4];
	size_t n, j;

	if (u < 0x80) {
		b[0] = (unsigned char)u;
		n = 1;
	} else if (u < 0x800) {
		b[0] = (unsigned char)(0xc0 | u >> 6);
		b[1] = (unsigned char)(0x80 | (u & 0x3f));
		n = 2;
	} else if (u < 0x10000) {
		b[0] = (unsigned char)(0xe0 | u >> 12);
		b[1] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (u & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | u >> 18);
		b[1] = (unsigned char)(0x80 | (u >> 12 & 0x3f));
		b[2] = (unsigned char)(0x80 | (u >> 6 & 0x3f));
		b[3] = (unsigned char)(0x80 | (u & 0x3f));
		n = 4;
	}
	if (cap - *o <= n)
		return -1;
	for (j = 0; j < n; j++)
		out[(*o)++] = (char)b[j];
	return 0;
}

/*
 * Decode string token i into out. With `cut`, stop at the last whole
 * character that fits instead of failing.
 */
static int
decode(const struct json_doc *d, int i, char *out, size_t cap, size_t *len,
    int cut)
{
	const jsmntok_t *t = &d->tok[i];
	const char *s = d->text + t->start;
	size_t n = (size_t)(t->end - t->start), k = 0, o = 0;
	unsigned u;
	char c;

	if (t->type != JSMN_STRING || cap == 0)
		return -1;
	while (k < n) {
		if (s[k] != '\\') {
			/* A cut prefix may end inside a raw UTF-8
			 * sequence; the logger escapes such bytes. */
			if (cap - o <= 1)
				goto full;
			out[o++] = s[k++];
			continue;
		}
		c = s[k + 1];
		k += 2;
		if (c == 'u') {
			u = hex4(s + k);
			k += 4;
			if (u >= 0xd800 && u <= 0xdbff) {
				u = 0x10000 + ((u - 0xd800) << 10) +
				    (hex4(s + k + 2) - 0xdc00);
				k += 6;
			}
		} else {
			u = (unsigned char)(c == 'b' ? '\b' :
			        c == 'f'             ? '\f' :
			        c == 'n'             ? '\n' :
			        c == 'r'             ? '\r' :
			        c == 't'             ? '\t' :
			                               c);
		}
		if (put_utf8(out, cap, &o, u) == -1)
			goto full;
	}
	out[o] = '\0';
	*len = o;
	return 0;
full:
	if (!cut) {
		/* What was copied may be a secret too long to keep. */
		explicit_bzero(out, o);
		return -1;
	}
	out[o] = '\0';
	*len = o;
	return 0;
}

int
json_string(const struct json_doc *d, int i, char *out, size_t cap, size_t *len)
{
	return decode(d, i, out, cap, len, 0);
}

int
json_string_prefix(const struct json_doc *d, int i, char *out, size_t cap,
    size_t *len)
{
	return decode(d, i, out, cap, len, 1);
}

int
json_uint(const struct json_doc *d, int i, uint64_t max, uint64_t *out)
{
	const jsmntok_t *t = &d->tok[i];
	const char *s = d->text + t->start;
	size_t n = (size_t)(t->end - t->start), k;
	uint64_t v = 0;

	if (t->type != JSMN_PRIMITIVE && t->type != JSMN_STRING)
		return -1;
	if (t->type == JSMN_STRING && !number_ok(s, n))
		return -1;
	if (n == 0 || s[0] < '0' || s[0] > '9')
		return -1;
	for (k = 0; k < n && s[k] >= '0' && s[k] <= '9'; k++) {
		if (v > max / 10 || v * 10 > max - (uint64_t)(s[k] - '0'))
			return -1;
		v = v * 10 + (uint64_t)(s[k] - '0');
	}
	/* A fraction is truncated; an exponent is not a plain count. */
	if (k < n && s[k] == '.')
		for (k++; k < n && s[k] >= '0' && s[k] <= '9'; k++)
			;
	if (k != n)
		return -1;
	*out = v;
	return 0;
}
