/* SPDX-License-Identifier: MIT
 * A program that makes one mbuf mistake on a debug pool (--mbuf-debug) and is
 * expected to die of it: test_mbuf_debug.c runs it and reads what was printed.
 *   bypass-mbuf-debug-crash double-free|double-put|canary|use-after-free|leak
 * The mistakes sit in functions of their own, never inlined, so the reports'
 * stacks name them. Built with frame pointers for ASan's unwinder. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <bypass/env.h>
#include <bypass/mbuf.h>

#define NOINLINE __attribute__((noinline, noclone))

/* The two frees of the same mbuf, as two places in a program would do them. */
NOINLINE void crash_free_after_rx(struct bp_mbuf *m) { bp_pktmbuf_free(m); }
NOINLINE void crash_free_again_in_tx(struct bp_mbuf *m) { bp_pktmbuf_free(m); }
NOINLINE void crash_put_first(struct bp_mempool *mp, void *o) { bp_mempool_put(mp, o); }
NOINLINE void crash_put_second(struct bp_mempool *mp, void *o) { bp_mempool_put(mp, o); }

/* One byte past the data room, where a bad length would put it. Not
 * instrumented: this exercises the pool's own canary check, which ASan would
 * otherwise pre-empt at the write (the canaries are poisoned for it too). */
__attribute__((no_sanitize_address)) NOINLINE void crash_write_past_data_room(struct bp_mbuf *m)
{
	volatile char *end = (char *)m->buf_addr + m->buf_len;
	*end = 'X';
}
/* Through a pointer to the data kept past the free, as a stale reference does. */
NOINLINE void crash_write_after_free(volatile char *data) { data[0] = 'X'; }

int main(int argc, char **argv)
{
	char *env_argv[] = { argv[0], "-l", "0", "--no-huge", "--no-telemetry", "--mbuf-debug",
			     "--log-level", "warning", NULL };
	const char *mode = argc > 1 ? argv[1] : "";
	/* abort() is the expected end: no core file in the test's directory. */
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });
	if (bp_init(8, env_argv) < 0)
		return 2;
	struct bp_mempool *mp = bp_pktmbuf_pool_create("crashpool", 16, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	struct bp_mbuf *m = mp ? bp_pktmbuf_alloc(mp) : NULL;
	if (!m)
		return 2;
	if (strcmp(mode, "double-free") == 0) {
		crash_free_after_rx(m);
		crash_free_again_in_tx(m);
	} else if (strcmp(mode, "double-put") == 0) {
		crash_put_first(mp, m);
		crash_put_second(mp, m);
	} else if (strcmp(mode, "canary") == 0) {
		crash_write_past_data_room(m);
		bp_pktmbuf_free(m);
	} else if (strcmp(mode, "use-after-free") == 0) {
		volatile char *data = bp_pktmbuf_mtod(m, volatile char *);
		bp_pktmbuf_free(m);
		crash_write_after_free(data);
	} else if (strcmp(mode, "leak") == 0) {
		bp_pktmbuf_alloc(mp); /* two mbufs out now */
	} else {
		fprintf(stderr, "usage: %s double-free|double-put|canary|use-after-free|leak\n", argv[0]);
		return 2;
	}
	bp_mempool_free(mp);
	bp_cleanup();
	printf("survived %s\n", mode);
	return 0;
}
