/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "harness.h"

TEST(env_returns_consumed_count_and_leaves_app_args)
{
	char *argv[] = { "prog", "-l", "0", "--no-huge", "--", "--app-opt", "x", NULL };
	bp_cleanup();
	int n = bp_init(7, argv);
	CHECK_EQ(n, 4); /* argv += 4 leaves "--" as the app's argv[0] */
	CHECK(strcmp(argv[n], "--") == 0);
	CHECK(strcmp(argv[n + 1], "--app-opt") == 0);
	CHECK(bp_env_no_huge());
	CHECK_EQ(bp_lcore_count(), 1);
	CHECK_EQ(bp_lcore_main(), 0);
	CHECK_EQ(bp_lcore_id(), 0);
	CHECK_EQ(bp_init(7, argv), -EALREADY);
	bp_cleanup();
}

TEST(env_rejects_bad_arguments_with_einval)
{
	const char *bad[] = {
		"-l",                 /* missing value */
		"-l x",               /* not a number */
		"-l 3-1",             /* backwards range */
		"-l 0,500",           /* beyond BP_MAX_LCORE */
		"-a 0000:00:03",      /* no function */
		"-a 00:03.9",         /* function > 7 */
		"-a zz:00.0",         /* not hex */
		"-a 00:03.0 -b 00:04.0", /* both lists */
		"--log-level loud",
		"--iova-mode xx",
		"--frobnicate",
		"--vdev net_bogus0",  /* no such driver */
		"--vdev net_null0,size=abc",
		"--vdev net_null0,colour=blue",
		"--vdev net_null0 --vdev net_null0", /* same name twice */
	};
	for (unsigned i = 0; i < BP_ARRAY_SIZE(bad); i++) {
		char args[128];
		snprintf(args, sizeof(args), "--no-huge -l 0 %s", bad[i]);
		int rc = test_env(args);
		if (rc >= 0)
			printf("    accepted: %s\n", bad[i]);
		CHECK(rc < 0);
		/* nothing was left behind: no port, and a good init works after */
		CHECK_EQ(bp_eth_dev_count_avail(), 0);
	}
	CHECK(test_env("--no-huge -l 0 --vdev net_null0") >= 0);
	CHECK_EQ(bp_eth_dev_count_avail(), 1);
	bp_cleanup();
	CHECK_EQ(bp_eth_dev_count_avail(), 0);
}

TEST(env_pci_allow_and_block_lists_normalise_addresses)
{
	setenv("BYPASS_SYSFS", "/nonexistent", 1); /* no PCI scan on this machine */
	CHECK(test_env("--no-huge -l 0 -b 03:00.0 --block 0000:0a:1f.7") >= 0);
	CHECK(!bp_env_pci_allowed("0000:03:00.0"));
	CHECK(!bp_env_pci_allowed("0000:0a:1f.7"));
	CHECK(bp_env_pci_allowed("0000:03:00.1"));
	CHECK(test_env("--no-huge -l 0 -b 0000:00:02.0") >= 0);
	CHECK(!bp_env_pci_allowed("0000:00:02.0"));
	CHECK(bp_env_pci_allowed("0000:00:03.0"));
	CHECK(test_env("--no-huge -l 0 --iova-mode=pa --log-level=warning") >= 0);
	CHECK_EQ(bp_env_iova_mode(), BP_IOVA_PA);
	bp_cleanup();
	unsetenv("BYPASS_SYSFS");
}

static int whoami(void *arg)
{
	*(uint32_t *)arg = bp_lcore_id();
	return 42;
}

TEST(env_launches_work_on_pinned_worker)
{
	CHECK(test_env("--no-huge -l 0-1") >= 0);
	uint32_t id, seen = 99, count = 0;
	BP_LCORE_FOREACH_WORKER(id)
		count++;
	CHECK_EQ(count, 1);
	CHECK_EQ(bp_lcore_launch(1, whoami, &seen), 0);
	CHECK_EQ(bp_lcore_wait(1), 42);
	CHECK_EQ(seen, 1);
	CHECK_EQ(bp_lcore_launch(0, whoami, &seen), -EINVAL); /* main is not a worker */
	CHECK(bp_tsc_hz() > 100000000ull);
	bp_cleanup();
}

TEST(env_help_is_reported_not_an_error_exit)
{
	CHECK_EQ(test_env("--help"), -ECANCELED);
}

TEST(env_dpdk_options_work_or_say_why_they_have_no_effect)
{
	/* What a DPDK user's script passes: accepted, each no-op with one notice. */
	char cmd[1024], out[8192];
	snprintf(cmd, sizeof(cmd),
		 "%s -c 0x1 -n 4 -m 256 --socket-mem 512,512 --file-prefix=run7 --in-memory --proc-type=primary "
		 "--no-huge --vdev net_null0 -- --duration=0.2 --stats-period=0 2>&1",
		 test_build_path("apps/testpmd/bypass-testpmd"));
	CHECK_EQ(test_run(cmd, out, sizeof(out)), 0);
	static const char *const notices[] = {
		"-n 4 has no effect: memory channels",
		"-m 256 has no effect",
		"--socket-mem 512,512 has no effect",
		"--file-prefix run7 has no effect",
		"--in-memory has no effect",
		"--proc-type primary has no effect",
	};
	for (unsigned i = 0; i < BP_ARRAY_SIZE(notices); i++) {
		if (!strstr(out, notices[i]))
			printf("    no notice '%s' in:\n%s", notices[i], out);
		CHECK(strstr(out, notices[i]) != NULL);
	}
	CHECK(strstr(out, "unknown option") == NULL);
	CHECK(strstr(out, "mbufs in use at exit: 0") != NULL);
	/* -c is a real core mask */
	CHECK(test_env("--no-huge -c 0x1") >= 0);
	CHECK_EQ(bp_lcore_count(), 1);
	CHECK_EQ(bp_lcore_main(), 0);
	CHECK(test_env("--no-huge -c 1") >= 0);
	CHECK_EQ(bp_lcore_main(), 0);
	/* what cannot work is refused in one line */
	CHECK_EQ(test_env("--no-huge -c 0x1 -l 0"), -EINVAL);
	CHECK_EQ(test_env("--no-huge -c 0xg"), -EINVAL);
	CHECK_EQ(test_env("--no-huge -c 0"), -EINVAL);
	CHECK_EQ(test_env("--no-huge -l 0 --proc-type=secondary"), -EINVAL);
	CHECK(test_env("--no-huge -l 0 --huge-dir /tmp") < 0); /* not hugetlbfs */
	CHECK_EQ(test_env("--no-huge -l 0 -n"), -EINVAL);     /* value missing */
	bp_cleanup();
}
