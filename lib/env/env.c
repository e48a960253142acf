/* SPDX-License-Identifier: MIT
 * bp_init(): command-line options, worker cores, virtual devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <ctype.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/vfs.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/capture.h>
#include <bypass/ethdev.h>
#include <bypass/pci.h>
#include <bypass/mem.h>
#include <bypass/intr.h>
#include <bypass/telemetry.h>
#include "env_internal.h"

#define MAX_PCI_LIST 64
#define MAX_VDEVS BP_ENV_MAX_VDEVS
#define PCI_ADDR_LEN BP_PCI_ADDR_LEN

__thread uint32_t bp_lcore_id_tls = BP_LCORE_ANY;

enum worker_state { W_WAIT, W_RUNNING, W_FINISHED };

struct worker {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum worker_state state;
	bool quit;
	bp_lcore_fn fn;
	void *arg;
	int ret;
	int cpu;
};

static struct {
	bool initialised;
	bool no_huge;
	char huge_dir[PATH_MAX]; /* --huge-dir: a hugetlbfs mount, or "" */
	size_t huge_page_size;
	enum bp_iova_mode iova_mode;
	uint32_t main_lcore;
	uint32_t nb_lcores;
	bool enabled[BP_MAX_LCORE];
	struct worker workers[BP_MAX_LCORE];
	char allow[MAX_PCI_LIST][PCI_ADDR_LEN];
	unsigned nb_allow;
	char block[MAX_PCI_LIST][PCI_ADDR_LEN];
	unsigned nb_block;
	char run_dir[PATH_MAX]; /* --run-dir, or "" */
	bool no_telemetry;
	bool mbuf_debug; /* --mbuf-debug */
	cpu_set_t saved_affinity; /* the main thread's, given back by bp_cleanup() */
	bool affinity_saved;
} env;

static const char usage_text[] =
	"Environment options (before --):\n"
	"  -l CORES            cores to use, e.g. 0-3,6 (default: every core we may run on);\n"
	"                      the first is the main core, the others run workers\n"
	"  -a, --allow ADDR    use only this PCI device (repeatable), e.g. 0000:03:00.0 or 03:00.0\n"
	"  -b, --block ADDR    never use this PCI device (repeatable)\n"
	"  --vdev NAME[,k=v]   create a virtual port: net_null0, net_ring0,peer=net_ring1 ...\n"
	"  --log-level LEVEL   err, warning, notice (default), info, debug\n"
	"  --no-huge           use ordinary pages (no hugepages needed; software ports only)\n"
	"  --iova-mode pa|va   force physical or IOMMU addresses for DMA\n"
	"  --huge-dir DIR      take hugepages from this hugetlbfs mount (e.g. of 1 GiB pages)\n"
	"  --run-dir DIR       put the statistics socket (read by 'bypass stats') under DIR/telemetry\n"
	"                      (default: /run/bypass as root, else $XDG_RUNTIME_DIR/bypass or /tmp/bypass-UID)\n"
	"  --no-telemetry      no statistics socket\n"
	"  --mbuf-debug        malloc every mbuf (and mempool object) on its own, with canaries\n"
	"                      and poison, so ASan/valgrind catch double frees and use after\n"
	"                      free; slow, no lcore caches, software ports only (no DMA)\n"
	"  -c COREMASK         cores as a hex mask, DPDK style (-l is clearer)\n"
	"  -h, --help          this text\n"
	"DPDK's -n, -m, --socket-mem, --file-prefix, --in-memory and --proc-type=primary\n"
	"are accepted and have no effect here; each says why.\n";

static int parse_core_list(const char *s, bool set[BP_MAX_LCORE], uint32_t *first)
{
	const char *p = s;
	*first = BP_LCORE_ANY;
	memset(set, 0, BP_MAX_LCORE * sizeof(bool));
	while (*p) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			hi = strtoul(p, &end, 10);
			p = end;
		}
		if (lo > hi || hi >= BP_MAX_LCORE)
			return -ERANGE;
		for (unsigned long c = lo; c <= hi; c++) {
			if (*first == BP_LCORE_ANY)
				*first = (uint32_t)c;
			set[c] = true;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return *first == BP_LCORE_ANY ? -EINVAL : 0;
}

/* "0x3" or "3": cores 0 and 1. */
static int parse_core_mask(const char *s, bool set[BP_MAX_LCORE], uint32_t *first)
{
	const char *p = s + (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 2 : 0);
	size_t n = strlen(p);
	*first = BP_LCORE_ANY;
	memset(set, 0, BP_MAX_LCORE * sizeof(bool));
	if (n == 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) { /* the last hex digit holds cores 0-3 */
		char c = p[n - 1 - i];
		if (!isxdigit((unsigned char)c))
			return -EINVAL;
		unsigned v = (unsigned)(isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
		for (unsigned b = 0; b < 4; b++)
			if (v & (1u << b)) {
				size_t core = 4 * i + b;
				if (core >= BP_MAX_LCORE)
					return -ERANGE;
				set[core] = true;
			}
	}
	for (uint32_t c = 0; c < BP_MAX_LCORE; c++)
		if (set[c]) {
			*first = c;
			break;
		}
	return *first == BP_LCORE_ANY ? -EINVAL : 0;
}

#define HUGETLBFS_MAGIC 0x958458f6 /* linux/magic.h */

static int set_huge_dir(const char *dir)
{
	struct statfs fs;
	if (statfs(dir, &fs) < 0) {
		BP_LOG(ERR, "--huge-dir %s: %s; give a hugetlbfs mount point", dir, strerror(errno));
		return -errno;
	}
	if ((unsigned long)fs.f_type != HUGETLBFS_MAGIC) {
		BP_LOG(ERR, "--huge-dir %s is not a hugetlbfs mount; mount one with: mount -t hugetlbfs "
			    "-o pagesize=1G none %s", dir, dir);
		return -EINVAL;
	}
	/* A mount root owns (mode 0755 by default) takes files from root only:
	 * said here, not later as a shortage of hugepages. */
	if (faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) < 0) {
		int e = errno;
		BP_LOG(ERR, "--huge-dir %s: %s for uid %u; mount one this user may use: mount -t hugetlbfs "
			    "-o uid=%u,gid=%u none DIR", dir, strerror(e), (unsigned)geteuid(),
		       (unsigned)geteuid(), (unsigned)getegid());
		return -e;
	}
	snprintf(env.huge_dir, sizeof(env.huge_dir), "%s", dir);
	env.huge_page_size = (size_t)fs.f_bsize;
	return 0;
}

/* A DPDK option that bypass accepts and needs not: one notice saying why. */
static const struct {
	const char *opt;
	bool value; /* takes a value */
	const char *why;
} dpdk_noops[] = {
	{ "-n", true, "memory channels: bypass does not spread objects over channels" },
	{ "-m", true, "bypass reserves memory zone by zone, as the program asks" },
	{ "--socket-mem", true, "bypass reserves memory zone by zone, as the program asks" },
	{ "--file-prefix", true, "bypass keeps no shared runtime files that could collide" },
	{ "--in-memory", false, "bypass never keeps memory in files: hugepages come from memfd" },
};

static void *worker_main(void *argp)
{
	struct worker *w = argp;
	uint32_t id = (uint32_t)(w - env.workers);

	bp_lcore_id_tls = id;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (w->state != W_RUNNING && !w->quit)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->quit)
			break;
		pthread_mutex_unlock(&w->lock);
		int ret = w->fn(w->arg);
		pthread_mutex_lock(&w->lock);
		w->ret = ret;
		w->state = W_FINISHED;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static int pin_thread(pthread_t t, int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(t, sizeof(set), &set);
}

/* The statistics thread is no lcore's: it runs on the cores the program
 * was given that no lcore uses (else on any it was given), not on the main
 * lcore's, where each answer would take its time from the main lcore's
 * bursts. It inherits the affinity of the thread that creates it, so the
 * main thread holds that affinity for the moment. */
static void start_telemetry(void)
{
	cpu_set_t set = env.saved_affinity;
	bool moved = false;
	if (env.affinity_saved) {
		for (int c = 0; c < BP_MAX_LCORE && c < CPU_SETSIZE; c++)
			if (env.enabled[c])
				CPU_CLR(c, &set);
		if (CPU_COUNT(&set) == 0)
			set = env.saved_affinity;
		moved = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
	}
	bp_telemetry_start(); /* a process without one still runs: it says why */
	if (moved)
		pin_thread(pthread_self(), (int)env.main_lcore);
}

static int start_workers(void)
{
	for (uint32_t id = 0; id < BP_MAX_LCORE; id++) {
		struct worker *w = &env.workers[id];
		if (!env.enabled[id] || id == env.main_lcore)
			continue;
		pthread_mutex_init(&w->lock, NULL);
		pthread_cond_init(&w->cond, NULL);
		w->state = W_WAIT;
		w->quit = false;
		w->cpu = (int)id;
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			BP_LOG(ERR, "cannot start the thread for core %u: %s", id, strerror(rc));
			for (uint32_t later = id; later < BP_MAX_LCORE; later++)
				if (later != env.main_lcore)
					env.enabled[later] = false;
			return -rc;
		}
		char name[16];
		snprintf(name, sizeof(name), "bp-lcore-%u", id);
		pthread_setname_np(w->thread, name);
		if ((rc = pin_thread(w->thread, w->cpu)) != 0)
			BP_LOG(WARNING, "cannot pin worker to core %u: %s", id, strerror(rc));
	}
	return 0;
}

static void stop_workers(void)
{
	for (uint32_t id = 0; id < BP_MAX_LCORE; id++) {
		struct worker *w = &env.workers[id];
		if (!env.enabled[id] || id == env.main_lcore)
			continue;
		pthread_mutex_lock(&w->lock);
		while (w->state == W_RUNNING)
			pthread_cond_wait(&w->cond, &w->lock);
		w->quit = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
		pthread_mutex_destroy(&w->lock);
		pthread_cond_destroy(&w->cond);
	}
}

/* Option value from "--opt=value" or the next argv entry. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
	const char *a = argv[*i];
	size_t ol = strlen(opt);
	if (strncmp(a, opt, ol) == 0 && a[ol] == '=')
		return a + ol + 1;
	if (*i + 1 >= argc) {
		BP_LOG(ERR, "option %s needs a value; see --help", opt);
		return NULL;
	}
	return argv[++*i];
}

static bool opt_is(const char *arg, const char *opt)
{
	size_t ol = strlen(opt);
	return strncmp(arg, opt, ol) == 0 && (arg[ol] == '\0' || (arg[ol] == '=' && opt[1] == '-'));
}

static int add_pci(char list[][PCI_ADDR_LEN], unsigned *n, const char *opt, const char *v)
{
	if (*n == MAX_PCI_LIST) {
		BP_LOG(ERR, "too many %s addresses (at most %d)", opt, MAX_PCI_LIST);
		return -E2BIG;
	}
	if (bp_pci_addr_normalize(v, list[*n]) < 0) {
		BP_LOG(ERR, "%s '%s' is not a PCI address; use DDDD:BB:DD.F or BB:DD.F, e.g. 0000:00:03.0",
		       opt, v);
		return -EINVAL;
	}
	(*n)++;
	return 0;
}

static int default_cores(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	env.main_lcore = BP_LCORE_ANY;
	for (int c = 0; c < BP_MAX_LCORE; c++)
		if (CPU_ISSET(c, &set)) {
			env.enabled[c] = true;
			if (env.main_lcore == BP_LCORE_ANY)
				env.main_lcore = (uint32_t)c;
		}
	return env.main_lcore == BP_LCORE_ANY ? -ENODEV : 0;
}

/* A DPDK option with no effect here: says so and consumes it with its value
 * (1); 0 if it is not one; -EINVAL if its value is missing. */
static int dpdk_noop(int argc, char **argv, int *i)
{
	for (unsigned k = 0; k < BP_ARRAY_SIZE(dpdk_noops); k++) {
		if (!opt_is(argv[*i], dpdk_noops[k].opt))
			continue;
		const char *v = NULL;
		if (dpdk_noops[k].value && !(v = opt_value(argc, argv, i, dpdk_noops[k].opt)))
			return -EINVAL;
		BP_LOG(NOTICE, "%s%s%s has no effect: %s", dpdk_noops[k].opt, v ? " " : "", v ? v : "",
		       dpdk_noops[k].why);
		return 1;
	}
	return 0;
}

int bp_env_parse_args(int argc, char **argv, const char *vdevs[MAX_VDEVS], unsigned *nb_vdevs)
{
	bool cores_given = false;
	int i, rc;

	memset(&env, 0, sizeof(env));
	*nb_vdevs = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			return -ECANCELED;
		} else if (opt_is(a, "-l")) {
			if (cores_given) {
				BP_LOG(ERR, "-l: the cores were given already; give them once, with -l (or -c)");
				return -EINVAL;
			}
			if (!(v = opt_value(argc, argv, &i, "-l")))
				return -EINVAL;
			int rc = parse_core_list(v, env.enabled, &env.main_lcore);
			if (rc < 0) {
				BP_LOG(ERR, "-l '%s' is not a core list; write e.g. -l 0-3 or -l 0,2 (cores below %d)",
				       v, BP_MAX_LCORE);
				return rc;
			}
			cores_given = true;
		} else if (opt_is(a, "-c")) {
			if (!(v = opt_value(argc, argv, &i, "-c")))
				return -EINVAL;
			if (cores_given) {
				BP_LOG(ERR, "-c: the cores were given already; give them once, with -l (or -c)");
				return -EINVAL;
			}
			int rc = parse_core_mask(v, env.enabled, &env.main_lcore);
			if (rc < 0) {
				BP_LOG(ERR, "-c '%s' is not a core mask; write e.g. -c 0x3 for cores 0 and 1 "
					    "(or -l 0-1)", v);
				return rc;
			}
			cores_given = true;
		} else if (opt_is(a, "--huge-dir")) {
			if (!(v = opt_value(argc, argv, &i, "--huge-dir")))
				return -EINVAL;
			int rc = set_huge_dir(v);
			if (rc < 0)
				return rc;
		} else if (opt_is(a, "--proc-type")) {
			if (!(v = opt_value(argc, argv, &i, "--proc-type")))
				return -EINVAL;
			if (strcmp(v, "primary") && strcmp(v, "auto")) {
				BP_LOG(ERR, "--proc-type %s: bypass has no secondary processes; each process "
					    "drives its own devices (drop the option)", v);
				return -EINVAL;
			}
			BP_LOG(NOTICE, "--proc-type %s has no effect: every bypass process is a primary", v);
		} else if ((rc = dpdk_noop(argc, argv, &i)) != 0) {
			if (rc < 0)
				return rc;
		} else if (opt_is(a, "-a") || opt_is(a, "--allow")) {
			const char *o = a[1] == 'a' ? "-a" : "--allow";
			if (!(v = opt_value(argc, argv, &i, o)) ||
			    add_pci(env.allow, &env.nb_allow, o, v) < 0)
				return -EINVAL;
		} else if (opt_is(a, "-b") || opt_is(a, "--block")) {
			const char *o = a[1] == 'b' ? "-b" : "--block";
			if (!(v = opt_value(argc, argv, &i, o)) ||
			    add_pci(env.block, &env.nb_block, o, v) < 0)
				return -EINVAL;
		} else if (opt_is(a, "--vdev")) {
			if (!(v = opt_value(argc, argv, &i, "--vdev")))
				return -EINVAL;
			if (*nb_vdevs == MAX_VDEVS) {
				BP_LOG(ERR, "too many --vdev (at most %d)", MAX_VDEVS);
				return -E2BIG;
			}
			vdevs[(*nb_vdevs)++] = v;
		} else if (opt_is(a, "--log-level")) {
			if (!(v = opt_value(argc, argv, &i, "--log-level")))
				return -EINVAL;
			int lvl = bp_log_parse_level(v);
			if (lvl < 0) {
				BP_LOG(ERR, "--log-level '%s' is unknown; use err, warning, notice, info or debug", v);
				return -EINVAL;
			}
			bp_log_set_level((enum bp_log_level)lvl);
		} else if (strcmp(a, "--no-huge") == 0) {
			env.no_huge = true;
		} else if (strcmp(a, "--no-telemetry") == 0) {
			env.no_telemetry = true;
		} else if (strcmp(a, "--mbuf-debug") == 0) {
			env.mbuf_debug = true;
		} else if (opt_is(a, "--run-dir")) {
			if (!(v = opt_value(argc, argv, &i, "--run-dir")))
				return -EINVAL;
			if (!*v || strlen(v) >= sizeof(env.run_dir)) {
				BP_LOG(ERR, "--run-dir '%s': give a folder path shorter than %zu characters", v,
				       sizeof(env.run_dir));
				return -EINVAL;
			}
			snprintf(env.run_dir, sizeof(env.run_dir), "%s", v);
		} else if (opt_is(a, "--iova-mode")) {
			if (!(v = opt_value(argc, argv, &i, "--iova-mode")))
				return -EINVAL;
			if (strcmp(v, "pa") == 0)
				env.iova_mode = BP_IOVA_PA;
			else if (strcmp(v, "va") == 0)
				env.iova_mode = BP_IOVA_VA;
			else {
				BP_LOG(ERR, "--iova-mode '%s' is unknown; use pa or va", v);
				return -EINVAL;
			}
		} else {
			BP_LOG(ERR, "unknown option '%s'; put application options after --, see --help", a);
			return -EINVAL;
		}
	}
	if (env.nb_allow && env.nb_block) {
		BP_LOG(ERR, "-a and -b cannot be used together; list the devices to use with -a only");
		return -EINVAL;
	}
	if (!cores_given) {
		int rc = default_cores();
		if (rc < 0) {
			BP_LOG(ERR, "cannot read this thread's CPU affinity; give the cores with -l");
			return rc;
		}
	} else {
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			for (int c = 0; c < BP_MAX_LCORE; c++)
				if (env.enabled[c] && !CPU_ISSET(c, &set)) {
					BP_LOG(ERR, "-l names core %d, which this process may not run on; "
						    "pick cores from 'taskset -p %d'", c, (int)getpid());
					return -EINVAL;
				}
	}
	return i;
}

int bp_init(int argc, char **argv)
{
	const char *vdevs[MAX_VDEVS];
	unsigned nb_vdevs = 0;
	int consumed, rc;

	if (env.initialised) {
		BP_LOG(ERR, "bp_init() was already called; call bp_cleanup() first");
		return -EALREADY;
	}
	consumed = bp_env_parse_args(argc, argv, vdevs, &nb_vdevs);
	if (consumed < 0)
		return consumed;
	env.nb_lcores = 0;
	for (int c = 0; c < BP_MAX_LCORE; c++)
		env.nb_lcores += env.enabled[c];

	bp_lcore_id_tls = env.main_lcore;
	env.affinity_saved = pthread_getaffinity_np(pthread_self(), sizeof(env.saved_affinity),
						    &env.saved_affinity) == 0;
	if ((rc = pin_thread(pthread_self(), (int)env.main_lcore)) != 0)
		BP_LOG(WARNING, "cannot pin the main thread to core %u: %s", env.main_lcore, strerror(rc));
	if ((rc = start_workers()) < 0)
		goto fail;
	env.initialised = true;
	for (unsigned i = 0; i < nb_vdevs; i++)
		if ((rc = bp_vdev_probe(vdevs[i])) < 0)
			goto fail;
	if ((rc = bp_pci_probe_all()) < 0)
		goto fail;
	if (!env.no_telemetry)
		start_telemetry();
	if (bp_env_mbuf_debug())
		BP_LOG(NOTICE, "mbuf debug: every pool is malloc-backed (slow; ports with DMA refuse it)");
	BP_LOG(INFO, "%u cores (main %u), %u virtual devices, %s pages", env.nb_lcores,
	       env.main_lcore, nb_vdevs, env.no_huge ? "ordinary" : "huge");
	/* Like DPDK: the caller does argv += ret, and the last consumed entry stands in
	 * for the program name of the application's own option parsing. */
	return consumed - 1;
fail:
	bp_cleanup();
	return rc;
}

void bp_cleanup(void)
{
	if (!env.initialised && env.nb_lcores == 0)
		return;
	/* The statistics thread first: it reads ports and pools. Then the
	 * workers: a worker still polling a port must not see it closed.
	 * (stop_workers waits for each one's function to return.) */
	bp_telemetry_stop();
	stop_workers();
	bp_capture_stop_all();
	bp_eth_dev_close_all();
	bp_pci_remove_all();
	bp_intr_shutdown();
	bp_mem_reset();
	if (env.affinity_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(env.saved_affinity), &env.saved_affinity);
	memset(&env, 0, sizeof(env));
	bp_lcore_id_tls = BP_LCORE_ANY;
}

uint32_t bp_lcore_main(void) { return env.main_lcore; }
uint32_t bp_lcore_count(void) { return env.nb_lcores; }
bool bp_lcore_enabled(uint32_t id) { return id < BP_MAX_LCORE && env.enabled[id]; }

bool bp_lcore_running(uint32_t id)
{
	if (!bp_lcore_enabled(id) || id == env.main_lcore)
		return bp_lcore_enabled(id); /* the main lcore runs the program */
	struct worker *w = &env.workers[id];
	pthread_mutex_lock(&w->lock);
	bool running = w->state == W_RUNNING;
	pthread_mutex_unlock(&w->lock);
	return running;
}

uint32_t bp_lcore_next(uint32_t prev, bool skip_main)
{
	for (uint32_t id = prev == BP_LCORE_ANY ? 0 : prev + 1; id < BP_MAX_LCORE; id++)
		if (env.enabled[id] && !(skip_main && id == env.main_lcore))
			return id;
	return BP_LCORE_ANY;
}

int bp_lcore_launch(uint32_t id, bp_lcore_fn fn, void *arg)
{
	if (!bp_lcore_enabled(id) || id == env.main_lcore)
		return -EINVAL;
	struct worker *w = &env.workers[id];
	pthread_mutex_lock(&w->lock);
	if (w->state == W_RUNNING) {
		pthread_mutex_unlock(&w->lock);
		return -EBUSY;
	}
	w->fn = fn;
	w->arg = arg;
	w->state = W_RUNNING;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return 0;
}

int bp_lcore_wait(uint32_t id)
{
	if (!bp_lcore_enabled(id) || id == env.main_lcore)
		return -EINVAL;
	struct worker *w = &env.workers[id];
	pthread_mutex_lock(&w->lock);
	while (w->state == W_RUNNING)
		pthread_cond_wait(&w->cond, &w->lock);
	int ret = w->state == W_FINISHED ? w->ret : 0;
	w->state = W_WAIT;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

void bp_lcore_wait_all(void)
{
	uint32_t id;
	BP_LCORE_FOREACH_WORKER(id)
		bp_lcore_wait(id);
}

bool bp_env_no_huge(void) { return env.no_huge; }
/* -Dmbuf_debug=true makes every pool a debug pool, bp_init() or not. */
#ifndef BP_MBUF_DEBUG_BUILD
#define BP_MBUF_DEBUG_BUILD 0
#endif
bool bp_env_mbuf_debug(void) { return BP_MBUF_DEBUG_BUILD || env.mbuf_debug; }
const char *bp_env_run_dir(void) { return env.run_dir[0] ? env.run_dir : NULL; }
const char *bp_env_huge_dir(void) { return env.huge_dir[0] ? env.huge_dir : NULL; }
size_t bp_env_huge_page_size(void) { return env.huge_page_size ? env.huge_page_size : 2u << 20; }
enum bp_iova_mode bp_env_iova_mode(void) { return env.iova_mode; }

bool bp_env_pci_allowed(const char *addr)
{
	if (env.nb_allow) {
		for (unsigned i = 0; i < env.nb_allow; i++)
			if (strcmp(env.allow[i], addr) == 0)
				return true;
		return false;
	}
	for (unsigned i = 0; i < env.nb_block; i++)
		if (strcmp(env.block[i], addr) == 0)
			return false;
	return true;
}

unsigned bp_env_pci_allow_count(void) { return env.nb_allow; }
const char *bp_env_pci_allow_at(unsigned i) { return i < env.nb_allow ? env.allow[i] : NULL; }

static uint64_t tsc_hz;
static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void tsc_calibrate(void)
{
	/* 10 ms against the monotonic clock: accurate to ~0.1%, and done only when
	 * something asks for time. */
	uint64_t t0 = mono_ns(), c0 = bp_rdtsc();
	struct timespec d = { 0, 10 * 1000 * 1000 };
	nanosleep(&d, NULL);
	uint64_t t1 = mono_ns(), c1 = bp_rdtsc();
	tsc_hz = (c1 - c0) * 1000000000ull / (t1 - t0);
}

uint64_t bp_tsc_hz(void)
{
	pthread_once(&tsc_once, tsc_calibrate);
	return tsc_hz;
}

void bp_delay_us(uint32_t us)
{
	uint64_t end = bp_rdtsc() + bp_tsc_hz() * us / 1000000;
	while (bp_rdtsc() < end)
		bp_pause();
}
