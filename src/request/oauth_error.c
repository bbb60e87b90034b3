/*
 * oauth_error.c: what an error response says, as text for one log line.
 */
#include <stdarg.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "oauth_error.h"

static const char *const fields[] = { "error", "error_description", "title",
	"detail", "message" };
/* Members of an "error" object, named as logged: the key after NESTED. */
#define NESTED "error."
static const char *const nested[] = { NESTED "status", NESTED "message" };

/* An output line being appended to; stops quietly when full. */
struct line {
	char *buf;
	size_t cap;
	size_t len;
};

static void __attribute__((format(printf, 2, 3)))
addf(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (l->len + 1 >= l->cap)
		return;
	va_start(ap, fmt);
	w = fmt_vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
	va_end(ap);
	if (w > 0)
		l->len += (size_t)w < l->cap - l->len ? (size_t)w :
		                                        l->cap - l->len - 1;
}

static int
b64url(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A JWT's header starts `{"` (eyJ) and is followed by a dot. */
static int
jwt_at(const char *s, size_t n, size_t i)
{
	size_t j;

	if (n - i < 4 || memcmp(s + i, "eyJ", 3) != 0)
		return 0;
	for (j = i + 3; j < n && b64url((unsigned char)s[j]); j++)
		;
	return j < n && s[j] == '.' && j - i >= 10;
}

/* Does s[0..n) look like it holds a credential? */
static int
secretish(const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		if (jwt_at(s, n, i))
			return 1;
		if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '\'' ||
		    s[i] == '<' || s[i] == '>' || s[i] == ',' || s[i] == ';')
			run = 0;
		else if (++run >= OAUTH_ERROR_WORD_MAX)
			return 1;
	}
	return 0;
}

/*
 * Clean s[0..n) into out (cap > 0): control bytes and white space runs
 * become one space, bytes past ASCII '?', '"' becomes '\'' (the log
 * quotes the value), cut at OAUTH_ERROR_FIELD_MAX with " ...".
 */
static size_t
clean(char *out, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0, max = cap - 1;
	unsigned char c;

	if (max > OAUTH_ERROR_FIELD_MAX)
		max = OAUTH_ERROR_FIELD_MAX;
	for (i = 0; i < n && o < max; i++) {
		c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f) {
			if (o > 0 && out[o - 1] != ' ')
				out[o++] = ' ';
			continue;
		}
		if (c >= 0x80)
			c = '?';
		else if (c == '"')
			c = '\'';
		out[o++] = (char)c;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	/* A space first: a cut word never reads as a JWT's "header." */
	if (i < n && o + 4 <= cap - 1) {
		memcpy(out + o, " ...", 4);
		o += 4;
	}
	out[o] = '\0';
	return o;
}

/* key="value", the value cleaned, or withheld when it looks secret. */
static void
quote(struct line *l, const char *key, const char *v, size_t n)
{
	char text[OAUTH_ERROR_FIELD_MAX + 5];
	const char *sep = l->len > 0 ? " " : "";

	if (secretish(v, n))
		addf(l, "%s%s=(withheld: %zu bytes that may hold a credential)",
		    sep, key, n);
	else if (clean(text, sizeof text, v, n) > 0)
		addf(l, "%s%s=\"%s\"", sep, key, text);
}

/* A header's value for the text: cleaned, and withheld like a body. */
static void
header(char *out, size_t cap, const char *value)
{
	size_t n = strlen(value);

	if (secretish(value, n))
		(void)fmt_snprintf(out, cap, "(withheld)");
	else
		(void)clean(out, cap, value, n);
}

/* 0: fields quoted; 1: a JSON object without them; -1: not an object. */
static int
from_json(struct line *l, const char *body, size_t len)
{
	jsmntok_t tok[JSON_TOKENS_MAX];
	char v[OAUTH_ERROR_FIELD_MAX * 4 + 1];
	struct json_doc d;
	struct err ignored;
	size_t i, n;
	int t, m, any = 0;

	if (json_parse(&d, body, len, tok, JSON_TOKENS_MAX, &ignored) == -1 ||
	    !json_is_object(&d))
		return -1;
	for (i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		t = json_member(&d, fields[i]);
		if (t < 0 || json_string_prefix(&d, t, v, sizeof v, &n) == -1)
			continue;
		quote(l, fields[i], v, n);
		any = 1;
	}
	/* Google's APIs (AIP-193) nest theirs: {"error":{"status","message"}}.
	 */
	t = json_member(&d, "error");
	for (i = 0; t >= 0 && i < sizeof nested / sizeof nested[0]; i++) {
		m = json_member_of(&d, t, nested[i] + sizeof NESTED - 1);
		if (m < 0 || json_string_prefix(&d, m, v, sizeof v, &n) == -1)
			continue;
		quote(l, nested[i], v, n);
		any = 1;
	}
	return any ? 0 : 1;
}

void
oauth_error_text(char *out, size_t cap, const char *content_type,
    const char *content_encoding, const char *body, size_t len)
{
	struct line l = { out, cap, 0 };
	char ctype[64], enc[32];
	int json;

	if (cap == 0)
		return;
	out[0] = '\0';
	header(ctype, sizeof ctype, content_type);
	header(enc, sizeof enc, content_encoding);
	if (len == 0) {
		addf(&l, "an empty body (Content-Type \"%s\")", ctype);
	} else if (enc[0] != '\0' && strcmp(enc, "identity") != 0) {
		addf(&l,
		    "a %zu-byte body in Content-Encoding \"%s\", which the "
		    "sidecar does not decode",
		    len, enc);
	} else if ((json = from_json(&l, body, len)) >= 0) {
		if (json == 1 || l.len == 0)
			addf(&l,
			    "a %zu-byte JSON object without error, title, "
			    "detail or message",
			    len);
	} else if (secretish(body, len)) {
		addf(&l,
		    "a %zu-byte body (Content-Type \"%s\"), withheld: it may "
		    "hold a credential",
		    len, ctype);
	} else {
		quote(&l, "body", body, len);
		if (l.len == 0)
			addf(&l, "a %zu-byte blank body (Content-Type \"%s\")",
			    len, ctype);
	}
}
