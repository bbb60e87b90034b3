/*
 * err.h: errors as values.
 *
 * A function that fails fills the caller's struct err with a kind and one
 * human sentence naming what failed and on which object, then returns -1.
 * The top of the program logs that sentence once; lower layers never log.
 */
#ifndef TB_ERR_H
#define TB_ERR_H

enum err_kind {
	ERR_NONE = 0,
	ERR_CONFIG,   /* bad configuration: exit status 2 */
	ERR_FILE,     /* reading the subject token or writing the token file */
	ERR_TRUST,    /* CA bundle */
	ERR_DNS,      /* name resolution */
	ERR_CONNECT,  /* TCP connection */
	ERR_TIMEOUT,  /* the exchange deadline passed */
	ERR_TLS,      /* handshake, certificate or record layer */
	ERR_HTTP,     /* malformed or oversized HTTP response */
	ERR_STATUS,   /* the server answered with a non-success status */
	ERR_RESPONSE, /* the success response holds no usable token */
	ERR_INTERRUPTED, /* a termination signal arrived */
	ERR_SYSTEM       /* resource exhaustion and other local failures */
};

#define ERR_MSG_MAX 320

struct err {
	enum err_kind kind;
	char msg[ERR_MSG_MAX];
};

/*
 * Record an error: kind, then a printf-style sentence. Always returns -1 so
 * that callers can write `return err_set(err, ...);`.
 */
int err_set(struct err *err, enum err_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Prefix the existing message with more context ("connecting to x: " +
 * old message). Returns -1.
 */
int err_wrap(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Both return -1 whatever happens, and callers rely on it (`if (f() == -1)`
 * after `return err_set(...)`). The clang static analyzer reads one file at
 * a time: these macros show it the -1, instead of letting it invent paths
 * where a failure "returned 0" and left an output unset. err.c undefines
 * them.
 */
#ifdef __clang_analyzer__
#define err_set(...) (err_set(__VA_ARGS__), -1)
#define err_wrap(...) (err_wrap(__VA_ARGS__), -1)
#endif

/* A short lower-case name for an error kind, for the log's `error` key. */
const char *err_kind_name(enum err_kind kind);

#endif
