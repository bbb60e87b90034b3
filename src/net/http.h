/*
 * http.h: one HTTP/1.1 request and its response, over a struct stream.
 *
 * The response reader is an incremental parser that owns a caller-provided
 * buffer: the driver asks for free space, reads into it, and commits the
 * count, as with BearSSL's engine buffers. It checks the status line and
 * headers, skips 1xx interim responses, frames the body by Content-Length,
 * chunked transfer coding (extensions and trailers allowed) or the end of
 * the stream, and decodes chunks in place. Every size is bounded.
 */
#ifndef TB_HTTP_H
#define TB_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "stream.h"
#include "url.h"

#define HTTP_HEADERS_MAX 16384u   /* 16 KiB: status line and headers */
#define HTTP_BODY_MAX 65536u      /* 64 KiB: decoded body */
#define HTTP_CHUNK_LINE_MAX 1024u /* chunk size line or trailer line */
/* Informational (1xx) answers followed before the answer: Go's limit. */
#define HTTP_INTERIMS_MAX 5
/* A buffer this large never runs out of room within the limits above. */
#define HTTP_READER_BUF \
	(HTTP_HEADERS_MAX + HTTP_BODY_MAX + HTTP_CHUNK_LINE_MAX + 16)

struct http_header {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;
	const struct url *url;
	bool absolute; /* "POST http://host/path": to a proxy, for http:// */
	const char *user_agent;
	const char *content_type;        /* NULL: no body headers */
	const struct http_header *extra; /* more headers, may be NULL */
	size_t extra_count;
	const char *body;
	size_t body_len;
};

/*
 * Serialize `req` into buf. Returns 0 and the length in *len, or -1 with
 * err set when it does not fit in cap or a header value holds CR or LF.
 */
int http_request_write(const struct http_request *req, char *buf, size_t cap,
    size_t *len, struct err *err);

enum http_framing {
	HTTP_FRAME_NONE,
	HTTP_FRAME_LENGTH,
	HTTP_FRAME_CHUNKED,
	HTTP_FRAME_CLOSE
};

struct http_response {
	int status;
	/* Interesting header values, NUL-terminated, truncated to fit. */
	char content_type[128];
	char content_encoding[64];
	char location[512];
	char retry_after[64];
	/* Valid once the reader is done: points into the reader's buffer. */
	const char *body;
	size_t body_len;
};

enum http_step { HTTP_MORE = 0, HTTP_DONE = 1, HTTP_FAIL = -1 };

struct http_reader {
	char *buf;
	size_t cap;
	size_t len;        /* bytes held */
	size_t high;       /* most bytes ever held: what to wipe */
	size_t scan;       /* head: where the search for its end resumes;
	                      chunked body: trailer bytes seen */
	size_t body_start; /* offset of the body (after the headers) */
	size_t body_end;   /* decoded body bytes end here */
	size_t raw;        /* next undecoded byte (chunked) */
	enum http_framing framing;
	uint64_t content_length;
	uint64_t chunk_left; /* bytes left in the current chunk */
	int chunk_state;
	unsigned interims; /* 1xx answers skipped */
	bool head_done;
	bool eof;
	struct http_response *resp;
};

/* Start reading a response into buf[0..cap) and `resp`. */
void http_reader_init(struct http_reader *r, char *buf, size_t cap,
    struct http_response *resp);

/* Where the next read goes, and how much may be read. */
char *http_reader_space(struct http_reader *r, size_t *avail);

/*
 * Account for n bytes read into the space (n == 0: end of stream), then
 * parse as far as possible. Returns HTTP_MORE, HTTP_DONE (resp complete),
 * or HTTP_FAIL with err set (kind ERR_HTTP).
 */
enum http_step http_reader_commit(struct http_reader *r, size_t n,
    struct err *err);

/*
 * Is s[0..n) free of control characters but horizontal tab, as a status
 * line's reason or a header value must be? Returns 1 or 0.
 */
int http_printable(const char *s, size_t n);

/*
 * Read a Retry-After value: delay-seconds, or an IMF-fixdate HTTP-date
 * ("Sun, 06 Nov 1994 08:49:37 GMT") taken relative to `now` (Unix
 * seconds). A date in the past is 0 seconds. Returns 0 with *seconds set,
 * or -1 when the value is neither form.
 */
int http_retry_after(const char *value, int64_t now, uint64_t *seconds);

/* One request sent, then its response read, over a non-blocking stream. */
struct http_call {
	const char *req; /* serialized, outlives the call */
	size_t req_len;
	size_t sent;
	bool flushed; /* the whole request is on the wire */
	struct http_reader *reader;
};

/* Prepare to send req[0..req_len) and read the answer with `r`. */
void http_call_init(struct http_call *c, const char *req, size_t req_len,
    struct http_reader *r);

/*
 * Go as far as the stream allows, but never more than a few reads: a
 * server that keeps sending (1xx answers without end, say) must leave the
 * caller's loop its turn. Returns HTTP_DONE with the reader's response
 * complete, HTTP_MORE with *events set (the socket readiness to wait for,
 * or 0: call again at once), or HTTP_FAIL with err set.
 */
enum http_step http_call_step(struct http_call *c, struct stream *s,
    short *events, struct err *err);

#endif
