/*
 * jsonw.c: one flat JSON object written into a bounded buffer.
 */
#include <inttypes.h>
#include <string.h>

#include "fmt.h"
#include "jsonw.h"

static void
put(struct jsonw *w, const char *s, size_t n)
{
	if (w->full || n > w->cap - w->len) {
		w->full = 1;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void
key(struct jsonw *w, const char *k)
{
	if (w->members++ > 0)
		put(w, ",", 1);
	put(w, "\"", 1);
	put(w, k, strlen(k));
	put(w, "\":", 2);
}

void
jsonw_begin(struct jsonw *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->full = 0;
	w->members = 0;
	put(w, "{", 1);
}

void
jsonw_string(struct jsonw *w, const char *k, const char *v, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	unsigned char c;
	size_t i;

	key(w, k);
	put(w, "\"", 1);
	for (i = 0; i < n; i++) {
		c = (unsigned char)v[i];
		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			put(w, esc, 2);
			esc[1] = 'u';
		} else if (c < 0x20) {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(w, esc, 6);
		} else {
			put(w, v + i, 1);
		}
	}
	put(w, "\"", 1);
}

void
jsonw_int(struct jsonw *w, const char *k, int64_t v)
{
	char num[24];
	int n = fmt_snprintf(num, sizeof num, "%" PRId64, v);

	key(w, k);
	put(w, num, (size_t)n);
}

int
jsonw_end(struct jsonw *w, size_t *len)
{
	put(w, "}", 1);
	if (w->full || w->len == w->cap)
		return -1;
	w->buf[w->len] = '\0';
	*len = w->len;
	return 0;
}
