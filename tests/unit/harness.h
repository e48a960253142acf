/* SPDX-License-Identifier: MIT
 * A minimal test harness: TEST() registers, CHECK*() stop the test at the first
 * failed assertion and say what was expected. The runner prints one line per
 * test and ends with "N passed, N failed". */
#ifndef BYPASS_TEST_HARNESS_H
#define BYPASS_TEST_HARNESS_H

#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>

struct test_case {
	const char *name;
	void (*fn)(void);
	struct test_case *next;
};
void test_register(struct test_case *t);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
extern bool test_failed;

#define TEST(name)                                                                   \
	static void name(void);                                                      \
	__attribute__((constructor)) static void register_##name(void)               \
	{                                                                            \
		static struct test_case t = { #name, name, NULL };                   \
		test_register(&t);                                                   \
	}                                                                            \
	static void name(void)

#define CHECK(c)                                                                     \
	do {                                                                         \
		if (!(c)) {                                                          \
			test_fail(__FILE__, __LINE__, "%s", #c);                     \
			return;                                                      \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                               \
	do {                                                                         \
		long long va_ = (long long)(a), vb_ = (long long)(b);                \
		if (va_ != vb_) {                                                    \
			test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, va_, vb_); \
			return;                                                      \
		}                                                                    \
	} while (0)

/* bp_cleanup() then bp_init() with these arguments (argv[0] is added). */
int test_env(const char *args);
/* Runs a command line through /bin/sh, captures stdout+stderr into out. */
int test_run(const char *cmd, char *out, size_t outlen);
/* Path of a built program, relative to the build directory (e.g.
 * "apps/testpmd/bypass-testpmd"). */
const char *test_build_path(const char *rel);

#endif
