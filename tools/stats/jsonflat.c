/* SPDX-License-Identifier: MIT
 * A recursive-descent reader of RFC 8259 JSON that keeps only the leaves. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include <ctype.h>
#include "jsonflat.h"

struct rd {
	const char *p;
	struct jf_doc *doc;
	int depth;
};

static void ws(struct rd *r)
{
	while (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')
		r->p++;
}

static int add(struct rd *r, const char *path, char *text, bool is_string)
{
	struct jf_doc *d = r->doc;
	if (d->n == d->cap) {
		unsigned cap = d->cap ? 2 * d->cap : 256;
		struct jf_leaf *l = realloc(d->leaf, cap * sizeof(*l));
		if (!l)
			return free(text), -1;
		d->leaf = l, d->cap = cap;
	}
	char *p = strdup(path);
	if (!p)
		return free(text), -1;
	d->leaf[d->n++] = (struct jf_leaf){ .path = p, .text = text, .is_string = is_string };
	return 0;
}

/* A string's contents, unescaped (\uXXXX below 0x80 only: all we write). */
static char *string(struct rd *r)
{
	if (*r->p != '"')
		return NULL;
	r->p++;
	/* Unescaped, it is no longer than it is up to its closing quote (not
	 * strlen of the rest: that made a document's reading quadratic). */
	const char *q = r->p;
	while (*q && *q != '"')
		q += q[0] == '\\' && q[1] ? 2 : 1;
	size_t cap = (size_t)(q - r->p) + 1, n = 0;
	char *s = malloc(cap);
	while (s && *r->p != '"') {
		unsigned char c = (unsigned char)*r->p++;
		if (c < 0x20)
			return free(s), NULL; /* also the end of the text */
		if (c == '\\') {
			char e = *r->p++;
			const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t", *k = e ? strchr(from, e) : NULL;
			if (k) {
				c = (unsigned char)to[k - from];
			} else if (e == 'u' && isxdigit((unsigned char)r->p[0]) && isxdigit((unsigned char)r->p[1]) &&
				   isxdigit((unsigned char)r->p[2]) && isxdigit((unsigned char)r->p[3])) {
				unsigned v = (unsigned)strtoul((char[5]){ r->p[0], r->p[1], r->p[2], r->p[3], 0 }, NULL, 16);
				r->p += 4;
				c = v < 0x80 ? (unsigned char)v : '?';
			} else {
				return free(s), NULL;
			}
		}
		s[n++] = (char)c;
	}
	if (!s)
		return NULL;
	r->p++;
	s[n] = '\0';
	return s;
}

/* RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static char *number(struct rd *r)
{
	const char *s = r->p, *q = s;
	if (*q == '-')
		q++;
	if (*q == '0')
		q++;
	else if (isdigit((unsigned char)*q))
		while (isdigit((unsigned char)*q))
			q++;
	else
		return NULL;
	if (*q == '.') {
		if (!isdigit((unsigned char)*++q))
			return NULL;
		while (isdigit((unsigned char)*q))
			q++;
	}
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return NULL;
		while (isdigit((unsigned char)*q))
			q++;
	}
	r->p = q;
	return strndup(s, (size_t)(q - s));
}

static int value(struct rd *r, char *path, size_t plen);

/* Members of an object or elements of an array, each at path.KEY or path.N. */
static int members(struct rd *r, char *path, size_t plen, bool object)
{
	char close = object ? '}' : ']';
	r->p++;
	ws(r);
	if (*r->p == close)
		return r->p++, 0;
	for (unsigned i = 0;; i++) {
		char key[64];
		if (object) {
			char *k = string(r);
			if (!k)
				return -1;
			snprintf(key, sizeof(key), "%s", k);
			free(k);
			ws(r);
			if (*r->p++ != ':')
				return -1;
		} else {
			snprintf(key, sizeof(key), "%u", i);
		}
		int n = snprintf(path + plen, 512 - plen, "%s%s", plen ? "." : "", key);
		if (n < 0 || plen + (size_t)n >= 512 || value(r, path, plen + (size_t)n) < 0)
			return -1;
		path[plen] = '\0';
		ws(r);
		if (*r->p == ',') {
			r->p++;
			ws(r);
			continue;
		}
		return *r->p++ == close ? 0 : -1;
	}
}

static int value(struct rd *r, char *path, size_t plen)
{
	ws(r);
	if (*r->p == '{' || *r->p == '[') {
		if (++r->depth > 32)
			return -1;
		int rc = members(r, path, plen, *r->p == '{');
		r->depth--;
		return rc;
	}
	if (*r->p == '"') {
		char *s = string(r);
		return s ? add(r, path, s, true) : -1;
	}
	static const char *const words[] = { "true", "false", "null" };
	for (unsigned i = 0; i < 3; i++)
		if (!strncmp(r->p, words[i], strlen(words[i]))) {
			r->p += strlen(words[i]);
			return add(r, path, strdup(words[i]), false);
		}
	char *num = number(r);
	return num ? add(r, path, num, false) : -1;
}

int jf_parse(const char *text, struct jf_doc *doc)
{
	char path[512] = "";
	struct rd r = { .p = text, .doc = doc };
	*doc = (struct jf_doc){ 0 };
	if (value(&r, path, 0) < 0 || (ws(&r), *r.p != '\0')) {
		jf_free(doc);
		return -1;
	}
	return 0;
}

void jf_free(struct jf_doc *doc)
{
	for (unsigned i = 0; i < doc->n; i++)
		free(doc->leaf[i].path), free(doc->leaf[i].text);
	free(doc->leaf);
	*doc = (struct jf_doc){ 0 };
}

static const struct jf_leaf *vget(const struct jf_doc *doc, const char *fmt, va_list ap)
{
	char path[512];
	vsnprintf(path, sizeof(path), fmt, ap);
	for (unsigned i = 0; i < doc->n; i++)
		if (!strcmp(doc->leaf[i].path, path))
			return &doc->leaf[i];
	return NULL;
}

const struct jf_leaf *jf_get(const struct jf_doc *doc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const struct jf_leaf *l = vget(doc, fmt, ap);
	va_end(ap);
	return l;
}

double jf_num(const struct jf_doc *doc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const struct jf_leaf *l = vget(doc, fmt, ap);
	va_end(ap);
	return l && !l->is_string ? strtod(l->text, NULL) : 0;
}
