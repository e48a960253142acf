/* SPDX-License-Identifier: MIT
 * The environment: command-line initialisation, worker cores and time.
 *
 *   int n = bp_init(argc, argv);   // consumes the options before "--"
 *   argc -= n; argv += n;          // the application's own options remain
 */
#ifndef BYPASS_ENV_H
#define BYPASS_ENV_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>

#define BP_MAX_LCORE 128
#define BP_LCORE_ANY UINT32_MAX /* a thread that is not one of ours */

enum bp_iova_mode {
	BP_IOVA_DC = 0, /* decide from the devices and the IOMMU */
	BP_IOVA_PA = 1, /* physical addresses (UIO, VFIO no-IOMMU) */
	BP_IOVA_VA = 2, /* addresses through the IOMMU */
};

/* Parses the environment options (-l, -a, -b, --vdev, --log-level, --no-huge,
 * --iova-mode, --run-dir, --no-telemetry, --mbuf-debug, --help), starts one pinned worker
 * thread per extra core, probes the devices and opens the statistics socket
 * (bypass/telemetry.h). Returns the number of argv entries consumed (including a
 * "--" separator), or a negative errno after logging one line that names the
 * argument at fault. */
int bp_init(int argc, char **argv);
/* Stops the workers, closes every port and frees what bp_init() took. */
void bp_cleanup(void);

/* Core identity. Threads not started by bypass have id BP_LCORE_ANY. */
extern __thread uint32_t bp_lcore_id_tls;
static inline uint32_t bp_lcore_id(void) { return bp_lcore_id_tls; }
uint32_t bp_lcore_main(void);
uint32_t bp_lcore_count(void);
bool bp_lcore_enabled(uint32_t id);
/* true while the lcore runs a function (bp_lcore_launch); the main lcore
 * always runs the program. */
bool bp_lcore_running(uint32_t id);
/* The next enabled lcore after `prev` (start with BP_LCORE_ANY), or BP_LCORE_ANY. */
uint32_t bp_lcore_next(uint32_t prev, bool skip_main);
#define BP_LCORE_FOREACH_WORKER(i)                                                   \
	for ((i) = bp_lcore_next(BP_LCORE_ANY, true); (i) != BP_LCORE_ANY;              \
	     (i) = bp_lcore_next((i), true))

typedef int (*bp_lcore_fn)(void *arg);
/* Runs fn(arg) on a waiting worker; -EBUSY if it is still running something. */
int bp_lcore_launch(uint32_t id, bp_lcore_fn fn, void *arg);
/* Waits for the worker to finish; returns fn's return value. */
int bp_lcore_wait(uint32_t id);
void bp_lcore_wait_all(void);

/* Options bp_init() parsed, for the libraries that act on them. */
bool bp_env_no_huge(void);
/* --mbuf-debug (or a build with -Dmbuf_debug=true): pools created now are
 * malloc-backed debug pools (bypass/mempool.h). */
bool bp_env_mbuf_debug(void);
/* --huge-dir, or NULL (hugepages of the default size from memfd). */
const char *bp_env_huge_dir(void);
/* Bytes per hugepage: the --huge-dir mount's, else 2 MiB. */
size_t bp_env_huge_page_size(void);
enum bp_iova_mode bp_env_iova_mode(void);
/* --run-dir, or NULL (bypass/telemetry.h picks the default). */
const char *bp_env_run_dir(void);
/* true if the PCI address (canonical "DDDD:BB:DD.F") may be used under -a/-b. */
bool bp_env_pci_allowed(const char *addr);
/* The -a list, canonical addresses. */
unsigned bp_env_pci_allow_count(void);
const char *bp_env_pci_allow_at(unsigned i);

/* Time: TSC ticks per second, measured once at start-up. */
uint64_t bp_tsc_hz(void);
void bp_delay_us(uint32_t us);

/* "key=val,key=val" device arguments. */
struct bp_kvargs;
struct bp_kvargs *bp_kvargs_parse(const char *args, const char *const valid_keys[]);
const char *bp_kvargs_get(const struct bp_kvargs *kv, const char *key);
/* Reads key as an unsigned number in [lo, hi]; *out is left alone if the key is
 * absent. -EINVAL (logged, naming dev and key) if it is not such a number. */
int bp_kvargs_get_uint(const struct bp_kvargs *kv, const char *dev, const char *key,
		       unsigned long lo, unsigned long hi, unsigned long *out);
void bp_kvargs_free(struct bp_kvargs *kv);

#endif
