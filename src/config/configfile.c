/*
 * configfile.c: several tokens from one sidecar (CONFIG_PATH).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "configfile.h"
#include "log.h"
#include "regular.h"

_Static_assert(CONFIG_TOKENS_MAX <= LOG_JOBS,
    "every token has its own row of log secrets");

/* The per-token variables; the file's keys are these in lower case. */
static const char *const names[CONFIGFILE_KEYS] = { "SA_TOKEN_PATH",
	"OUTPUT_TOKEN_PATH", "EXCHANGE_URL", "AUDIENCE", "REFRESH_INTERVAL",
	"SUBJECT_TOKEN_TYPE", "TOKEN_FILE_MODE", "EXCHANGE_TIMEOUT",
	"ALLOW_INSECURE_HTTP", "CA_BUNDLE_PATH", "GRANT_TYPE", "CLIENT_ID",
	"CLIENT_SECRET_PATH", "CLIENT_AUTH", "CLIENT_KEY_PATH", "CLIENT_KEY_ID",
	"TLS_CLIENT_CERT_PATH", "TLS_CLIENT_KEY_PATH", "SCOPE", "RESOURCE",
	"REQUESTED_TOKEN_TYPE", "ACTOR_TOKEN_PATH", "ACTOR_TOKEN_TYPE",
	"OUTPUT_FORMAT" };

/* The one key whose value is a JSON boolean. */
#define BOOL_KEY 8

/* Where parsing is: the document and the arena's fill. */
struct parse {
	struct configfile *f;
	struct json_doc doc;
	size_t used;  /* bytes of f->arena */
	size_t entry; /* tokens[entry], for messages */
};

static int
upper(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static char
lower(char c)
{
	static const char letters[] = "abcdefghijklmnopqrstuvwxyz";

	if (c >= 'A' && c <= 'Z')
		return letters[c - 'A'];
	return c;
}

/* Index of the variable whose lower-case name is key[0..len), or -1. */
static int
key_index(const char *key, size_t len)
{
	size_t i, k;

	for (i = 0; i < CONFIGFILE_KEYS; i++) {
		if (strlen(names[i]) != len)
			continue;
		for (k = 0; k < len && key[k] == lower(names[i][k]); k++)
			;
		if (k == len)
			return (int)i;
	}
	return -1;
}

/* The file's key for variable i. */
static void
key_of(size_t i, char *out, size_t cap)
{
	size_t k;

	for (k = 0; names[i][k] != '\0' && k + 1 < cap; k++)
		out[k] = lower(names[i][k]);
	out[k] = '\0';
}

/* A key or name for a message: printable ASCII, the rest as '?'. */
static void
shown(char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"')
			*s = '?';
}

static int
fail(const struct parse *p, const char *what, const char *key, struct err *err)
{
	return err_set(err, ERR_CONFIG,
	    "CONFIG_PATH=%.100s: tokens[%zu]: %s%s%s", p->f->path, p->entry,
	    key != NULL ? key : "", key != NULL ? ": " : "", what);
}

/* Decode string value i into the arena; *out points at it. */
static int
arena_string(struct parse *p, int i, const char **out)
{
	struct configfile *f = p->f;
	size_t len;

	if (json_string(&p->doc, i, f->arena + p->used,
	        sizeof f->arena - p->used, &len) == -1)
		return -1;
	*out = f->arena + p->used;
	p->used += len + 1;
	return 0;
}

/* The value of key k at token i, type-checked. */
static int
value(struct parse *p, struct configfile_token *t, size_t k, int i,
    const char *key, struct err *err)
{
	const struct json_doc *d = &p->doc;
	const char *text = d->text + d->tok[i].start;

	if (t->value[k] != NULL)
		return fail(p, "the key appears twice: keep one", key, err);
	if (k == BOOL_KEY) {
		if (json_type(d, i) != JSMN_PRIMITIVE ||
		    (text[0] != 't' && text[0] != 'f'))
			return fail(p, "not a boolean: use true or false", key,
			    err);
		t->value[k] = text[0] == 't' ? "true" : "false";
		return 0;
	}
	if (json_type(d, i) != JSMN_STRING)
		return fail(p,
		    "not a string: give the text the environment variable "
		    "would hold, in quotes (\"1h\", \"0640\")",
		    key, err);
	if (arena_string(p, i, &t->value[k]) == -1)
		return fail(p, "the value does not fit", key, err);
	return 0;
}

static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CONFIGFILE_NAME_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		        *s == '-'))
			return 0;
	return 1;
}

static int
entry_name(struct parse *p, struct configfile_token *t, int i, struct err *err)
{
	size_t len, k;

	if (t->name[0] != '\0')
		return fail(p, "the key appears twice: keep one", "name", err);
	if (json_type(&p->doc, i) != JSMN_STRING ||
	    json_string(&p->doc, i, t->name, sizeof t->name, &len) == -1 ||
	    len != strlen(t->name) || !name_ok(t->name)) {
		t->name[0] = '\0';
		return fail(p,
		    "not a name of 1 to 63 characters a-z, 0-9 and '-' "
		    "(it labels the metrics)",
		    "name", err);
	}
	for (k = 0; k < p->entry; k++)
		if (strcmp(p->f->token[k].name, t->name) == 0)
			return fail(p,
			    "another token has this name: give each its own",
			    "name", err);
	return 0;
}

/* One member of an entry: the key at i, its value at i + 1. */
static int
member(struct parse *p, struct configfile_token *t, int i, struct err *err)
{
	char key[48];
	size_t len;
	int k;

	if (json_string_prefix(&p->doc, i, key, sizeof key, &len) == -1)
		return fail(p, "a key is not a string", NULL, err);
	if (strcmp(key, "name") == 0 && len == 4)
		return entry_name(p, t, i + 1, err);
	if (len != strlen(key) || (k = key_index(key, len)) == -1) {
		shown(key);
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s: tokens[%zu]: unknown key \"%s\": the "
		    "keys are name and the per-token variables in lower case "
		    "(README, \"Several tokens\")",
		    p->f->path, p->entry, key);
	}
	return value(p, t, (size_t)k, i + 1, key, err);
}

static int
entry(struct parse *p, int i, struct err *err)
{
	struct configfile_token *t = &p->f->token[p->entry];
	const struct json_doc *d = &p->doc;
	int k, j;

	memset(t, 0, sizeof *t);
	t->file = p->f;
	if (json_type(d, i) != JSMN_OBJECT)
		return fail(p, "not an object: each token is {\"name\": ...}",
		    NULL, err);
	for (j = i + 1, k = 0; k < d->tok[i].size; k++, j = json_next(d, j + 1))
		if (member(p, t, j, err) == -1)
			return -1;
	if (t->name[0] == '\0')
		return fail(p,
		    "no name: give each token a name (a-z, 0-9, '-')", NULL,
		    err);
	return 0;
}

/* The value of the top-level "tokens"; -1 with err set when absent. */
static int
tokens_array(const struct parse *p, struct err *err)
{
	const struct json_doc *d = &p->doc;
	const char *path = p->f->path;
	char key[48];
	size_t len;
	int i, k;

	if (!json_is_object(d))
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s is not a JSON object: write "
		    "{\"tokens\": [...]}",
		    path);
	for (i = 1, k = 0; k < d->tok[0].size; k++, i = json_next(d, i + 1)) {
		if (json_string_prefix(d, i, key, sizeof key, &len) == -1 ||
		    (len == 6 && strcmp(key, "tokens") == 0))
			continue;
		shown(key);
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s: unknown key \"%s\" at the top: only "
		    "\"tokens\" is read",
		    path, key);
	}
	if ((i = json_member(d, "tokens")) == -2)
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s: \"tokens\" appears twice: keep one",
		    path);
	if (i < 0 || json_type(d, i) != JSMN_ARRAY || d->tok[i].size == 0)
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s has no \"tokens\" list: write "
		    "{\"tokens\": [{\"name\": ...}, ...]}",
		    path);
	if (d->tok[i].size > CONFIG_TOKENS_MAX)
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s lists %d tokens: one sidecar serves at "
		    "most %d; run a second sidecar for the rest",
		    path, d->tok[i].size, CONFIG_TOKENS_MAX);
	return i;
}

/* A per-token variable in the environment as well: neither would win. */
static int
no_env_overlap(const struct configfile *f, struct err *err)
{
	const char *v;
	char key[32];
	size_t i;

	for (i = 0; i < CONFIGFILE_KEYS; i++) {
		if ((v = f->env(names[i])) == NULL || *v == '\0')
			continue;
		key_of(i, key, sizeof key);
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s and %s are both set, and neither "
		    "wins: give each token its \"%s\" in the file and unset "
		    "%s, or unset CONFIG_PATH",
		    f->path, names[i], key, names[i]);
	}
	return 0;
}

int
configfile_parse(struct configfile *f, const char *path, const char *text,
    size_t len, config_lookup_fn env, struct err *err)
{
	struct parse p = { f, { 0 }, 0, 0 };
	int i, k, n;

	f->path = path;
	f->env = env;
	f->count = 0;
	if (no_env_overlap(f, err) == -1)
		return -1;
	if (len > CONFIGFILE_MAX)
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s is over %u bytes", path,
		    CONFIGFILE_MAX);
	if (json_parse(&p.doc, text, len, f->tok, CONFIGFILE_VALUES, err) == -1)
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s is not valid JSON (RFC 8259), or holds "
		    "more than %u values: check it with jq",
		    path, CONFIGFILE_VALUES);
	if ((i = tokens_array(&p, err)) == -1)
		return -1;
	n = p.doc.tok[i].size;
	for (k = 0, i++; k < n; k++, i = json_next(&p.doc, i), p.entry++)
		if (entry(&p, i, err) == -1)
			return -1;
	f->count = (size_t)n;
	return 0;
}

int
configfile_read(struct configfile *f, const char *path, config_lookup_fn env,
    struct err *err)
{
	size_t len = 0;
	ssize_t n = 1;
	int fd, saved;

	/* A ConfigMap's file is a symlink into its current version; a FIFO
	 * or device is refused unopened. */
	if ((fd = regular_open(path)) == -1)
		return errno == EINVAL ?
		    err_set(err, ERR_CONFIG,
		        "CONFIG_PATH=%.100s is not a regular file", path) :
		    err_set(err, ERR_CONFIG,
		        "CONFIG_PATH=%.100s cannot be opened: %s", path,
		        strerror(errno));
	while (len < sizeof f->text && n > 0) {
		n = read(fd, f->text + len, sizeof f->text - len);
		if (n == -1 && errno == EINTR)
			n = 1;
		else if (n > 0)
			len += (size_t)n;
	}
	saved = errno;
	(void)close(fd);
	if (n == -1)
		return err_set(err, ERR_CONFIG,
		    "CONFIG_PATH=%.100s cannot be read: %s", path,
		    strerror(saved));
	return configfile_parse(f, path, f->text, len, env, err);
}

/* The lookup over one entry: its keys, else the environment. */
static const char *
token_get(const void *ctx, const char *name)
{
	const struct configfile_token *t = ctx;
	size_t i;

	for (i = 0; i < CONFIGFILE_KEYS; i++)
		if (strcmp(names[i], name) == 0)
			return t->value[i];
	return t->file->env(name);
}

/*
 * The messages of config.c name variables: in the file they are keys, so
 * every per-token variable named as a word is put in lower case.
 */
static void
keys_in_lower_case(char *msg)
{
	size_t i, k, n;
	char *p;

	for (i = 0; i < CONFIGFILE_KEYS; i++) {
		n = strlen(names[i]);
		for (p = msg; (p = strstr(p, names[i])) != NULL; p += n) {
			if ((p > msg && upper(p[-1])) || upper(p[n]))
				continue;
			for (k = 0; k < n; k++)
				p[k] = lower(p[k]);
		}
	}
}

int
configfile_config(const struct configfile *f, size_t i, struct config *cfg,
    struct err *err)
{
	const struct configfile_token *t = &f->token[i];
	const struct config_source src = { token_get, t };

	if (config_load_from(cfg, &src, err) == -1) {
		keys_in_lower_case(err->msg);
		return err_wrap(err, "CONFIG_PATH=%.100s: token %s", f->path,
		    t->name);
	}
	cfg->name = t->name;
	return 0;
}
