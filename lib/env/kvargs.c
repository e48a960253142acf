/* SPDX-License-Identifier: MIT
 * "key=val,key=val" parsing for device arguments. */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/env.h>
#include <bypass/log.h>

#define KV_MAX 16

struct bp_kvargs {
	unsigned n;
	char *buf;
	const char *key[KV_MAX];
	const char *val[KV_MAX];
};

static bool key_valid(const char *key, const char *const valid[])
{
	if (!valid)
		return true;
	for (; *valid; valid++)
		if (strcmp(*valid, key) == 0)
			return true;
	return false;
}

struct bp_kvargs *bp_kvargs_parse(const char *args, const char *const valid_keys[])
{
	struct bp_kvargs *kv = calloc(1, sizeof(*kv));
	if (!kv || !(kv->buf = strdup(args ? args : ""))) {
		free(kv);
		errno = ENOMEM;
		return NULL;
	}
	char *save = NULL;
	for (char *tok = strtok_r(kv->buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok) {
			BP_LOG(ERR, "device argument '%s' is not key=value", tok);
			goto bad;
		}
		*eq = '\0';
		if (!key_valid(tok, valid_keys)) {
			BP_LOG(ERR, "unknown device argument '%s'", tok);
			goto bad;
		}
		if (kv->n == KV_MAX) {
			BP_LOG(ERR, "too many device arguments (at most %d)", KV_MAX);
			goto bad;
		}
		kv->key[kv->n] = tok;
		kv->val[kv->n++] = eq + 1;
	}
	return kv;
bad:
	bp_kvargs_free(kv);
	errno = EINVAL;
	return NULL;
}

const char *bp_kvargs_get(const struct bp_kvargs *kv, const char *key)
{
	for (unsigned i = 0; i < kv->n; i++)
		if (strcmp(kv->key[i], key) == 0)
			return kv->val[i];
	return NULL;
}

void bp_kvargs_free(struct bp_kvargs *kv)
{
	if (kv) {
		free(kv->buf);
		free(kv);
	}
}

int bp_kvargs_get_uint(const struct bp_kvargs *kv, const char *dev, const char *key,
		       unsigned long lo, unsigned long hi, unsigned long *out)
{
	const char *v = bp_kvargs_get(kv, key);
	char *end;

	if (!v)
		return 0;
	errno = 0;
	unsigned long x = strtoul(v, &end, 0);
	if (!*v || *end || errno || x < lo || x > hi || *v == '-') {
		BP_LOG(ERR, "%s: %s=%s is not a number from %lu to %lu", dev, key, v, lo, hi);
		return -EINVAL;
	}
	*out = x;
	return 0;
}
