/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include "fuzz_tree.h"

#define MAX_SLOTS 96

static char root[PATH_MAX];
static struct saved {
	bool present;
	bool parents_made; /* no slot is inside another: made once, they stay */
	char *data;
	size_t len;
} saved[MAX_SLOTS];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path);
	return 0;
}

static void rm_root(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	for (unsigned i = 0; i < MAX_SLOTS; i++)
		free(saved[i].data);
}

const char *fuzz_tree_root(void)
{
	if (root[0])
		return root;
	/* tmpfs if there is one: a run writes a few dozen files */
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(root, sizeof(root), "%s/bypass-fuzz-XXXXXX", tmp);
	if (!mkdtemp(root)) {
		perror("fuzz_tree_root: mkdtemp");
		abort();
	}
	atexit(rm_root);
	return root;
}

void fuzz_tree_adopt(const char *dir)
{
	snprintf(root, sizeof(root), "%s", dir);
}

static void make_parents(char *path)
{
	for (char *s = strchr(path + strlen(root) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
}

/* A link's target may not lead out of the tree (the parsers would read the
 * real machine's files, and runs would depend on it): relative, and never
 * more ".." than the link is deep. */
static bool target_inside(const char *slot, const char *target)
{
	if (target[0] == '/' || !target[0])
		return false;
	int depth = 0;
	for (const char *s = slot; *s; s++)
		depth += *s == '/';
	const char *c = target;
	while (*c) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n && !(n == 1 && c[0] == '.')) {
			depth++;
		}
		c += n + (c[n] == '/');
	}
	return true;
}

static void put(const char *slot, bool *parents_made, bool present, const char *data, size_t len)
{
	bool link = slot[0] == '@' || slot[0] == '=';
	const char *rel = slot + link;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (!*parents_made)
		make_parents(path);
	*parents_made = true;
	unlink(path);
	if (!present)
		return;
	if (link) {
		char t[PATH_MAX];
		snprintf(t, sizeof(t), "%.*s", (int)len, data);
		if (strlen(t) == len && (slot[0] == '=' || target_inside(rel, t)))
			symlink(t, path);
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, data, len) < 0)
		perror("fuzz_tree: write");
	close(fd);
}

void fuzz_tree_save(const char *const slots[], unsigned n)
{
	for (unsigned i = 0; i < n && i < MAX_SLOTS; i++) {
		bool link = slots[i][0] == '@' || slots[i][0] == '=';
		char path[PATH_MAX], buf[65536];
		ssize_t len = -1;
		snprintf(path, sizeof(path), "%s/%s", root, slots[i] + link);
		if (link) {
			len = readlink(path, buf, sizeof(buf));
		} else {
			int fd = open(path, O_RDONLY | O_CLOEXEC);
			if (fd >= 0) {
				len = read(fd, buf, sizeof(buf));
				close(fd);
			}
		}
		free(saved[i].data);
		saved[i] = (struct saved){ .present = len >= 0, .parents_made = saved[i].parents_made };
		if (len > 0) {
			saved[i].data = malloc((size_t)len);
			memcpy(saved[i].data, buf, (size_t)len);
			saved[i].len = (size_t)len;
		}
	}
}

void fuzz_tree_apply(const char *const slots[], unsigned n, const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	size_t off = 0;
	bool more = size > 0; /* a piece starts at off */
	for (unsigned i = 0; i < n && i < MAX_SLOTS; i++) {
		if (!more) {
			put(slots[i], &saved[i].parents_made, saved[i].present, saved[i].data, saved[i].len);
			continue;
		}
		const char *nul = memchr(p + off, '\0', size - off);
		size_t len = nul ? (size_t)(nul - (p + off)) : size - off;
		if (len == 1 && p[off] == '\x02')
			put(slots[i], &saved[i].parents_made, saved[i].present, saved[i].data, saved[i].len);
		else
			put(slots[i], &saved[i].parents_made, !(len == 1 && p[off] == '\x01'), p + off, len);
		more = nul != NULL; /* a NUL always starts another piece, maybe empty */
		off += len + (nul != NULL);
	}
}
