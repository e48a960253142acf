/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libgen.h>
#include <limits.h>
#include <sys/wait.h>
#include <bypass/env.h>
#include "harness.h"

static struct test_case *head, **tail = &head;
bool test_failed;

void test_register(struct test_case *t)
{
	*tail = t;
	tail = &t->next;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	test_failed = true;
	fprintf(stdout, "    %s:%d: expected ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

int test_env(const char *args)
{
	static char buf[1024];
	char *argv[64];
	int argc = 0;
	bp_cleanup();
	snprintf(buf, sizeof(buf), "%s", args);
	argv[argc++] = "unit";
	for (char *s = strtok(buf, " "); s && argc < 63; s = strtok(NULL, " "))
		argv[argc++] = s;
	argv[argc] = NULL;
	return bp_init(argc, argv);
}

int test_run(const char *cmd, char *out, size_t outlen)
{
	FILE *p = popen(cmd, "r");
	size_t n = 0;
	if (!p)
		return -1;
	while (n + 1 < outlen) {
		size_t r = fread(out + n, 1, outlen - 1 - n, p);
		if (r == 0)
			break;
		n += r;
	}
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

const char *test_build_path(const char *rel)
{
	static char path[PATH_MAX + 64];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return rel;
	exe[n] = '\0';
	/* this binary is <build>/tests/unit/bypass-unit */
	snprintf(path, sizeof(path), "%s/../../%s", dirname(exe), rel);
	return path;
}

int main(int argc, char **argv)
{
	int passed = 0, failed = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (struct test_case *t = head; t; t = t->next) {
		if (argc > 1 && !strstr(t->name, argv[1]))
			continue;
		test_failed = false;
		t->fn();
		printf("%s %s\n", test_failed ? "FAIL" : "ok  ", t->name);
		test_failed ? failed++ : passed++;
	}
	bp_cleanup();
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
