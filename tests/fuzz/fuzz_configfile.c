/*
 * fuzz_configfile.c: CONFIG_PATH's file on arbitrary bytes, then every
 * token's configuration read through it. What is accepted names at most
 * CONFIG_TOKENS_MAX tokens with valid, distinct names; what is refused
 * says why in a message of its own; nothing reads past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "configfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An environment with the process-wide settings only. */
static const char *
env(const char *name)
{
	return strcmp(name, "LOG_FORMAT") == 0 ? "json" : NULL;
}

static struct configfile file;

static void
check_names(const struct configfile *f)
{
	size_t i, j;
	const char *p;

	if (f->count == 0 || f->count > CONFIG_TOKENS_MAX)
		abort();
	for (i = 0; i < f->count; i++) {
		p = f->token[i].name;
		if (*p == '\0' || strlen(p) > CONFIGFILE_NAME_MAX)
			abort();
		for (; *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') ||
			        (*p >= '0' && *p <= '9') || *p == '-'))
				abort();
		for (j = 0; j < i; j++)
			if (strcmp(f->token[i].name, f->token[j].name) == 0)
				abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct err err;
	char *text = malloc(size + 1);
	size_t i;

	if (text == NULL)
		abort();
	/* No NUL after the input: a read past it is caught. */
	memcpy(text, data, size);
	if (configfile_parse(&file, "/fuzz.json", text, size, env, &err) ==
	    -1) {
		if (err.kind != ERR_CONFIG || err.msg[0] == '\0')
			abort();
		free(text);
		return 0;
	}
	check_names(&file);
	for (i = 0; i < file.count; i++) {
		if (configfile_config(&file, i, &cfg, &err) == -1) {
			if (err.kind != ERR_CONFIG ||
			    strstr(err.msg, file.token[i].name) == NULL)
				abort();
			continue;
		}
		if (cfg.name != file.token[i].name ||
		    cfg.log_format != LOG_JSON || cfg.sa_token_path == NULL ||
		    cfg.output_token_path == NULL || cfg.exchange_url == NULL)
			abort();
	}
	free(text);
	return 0;
}
