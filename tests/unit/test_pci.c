/* SPDX-License-Identifier: MIT
 * PCI scan and the choice of the way in, on fake machines (tests/fixtures). */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <unistd.h>
#include <sys/stat.h>
#include <linux/vfio.h>
#include <bypass/mem.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include "harness.h"
#include "fake_sysfs.h"
#include "../../lib/pci/pci_internal.h"

static char sysfs[256], devfs[256];

static const char *machine(void)
{
	const char *root = fake_machine("machine-iommu.txt", NULL);
	if (!root)
		return NULL;
	snprintf(sysfs, sizeof(sysfs), "%s/sys", root);
	snprintf(devfs, sizeof(devfs), "%s/dev", root);
	mkdir(devfs, 0755);
	setenv("BYPASS_SYSFS", sysfs, 1);
	setenv("BYPASS_DEVFS", devfs, 1);
	setenv("BYPASS_RUNDIR", root, 1);
	return root;
}

static void done(void)
{
	unsetenv("BYPASS_SYSFS");
	unsetenv("BYPASS_DEVFS");
	unsetenv("BYPASS_RUNDIR");
	bp_cleanup();
	fake_machine_destroy();
}

TEST(pci_devices_on_kernel_drivers_are_skipped_unless_asked_for)
{
	CHECK(machine());
	/* Without -a: the e1000s are on e1000, so they are left alone. */
	CHECK(test_env("--no-huge -l 0") >= 0);
	CHECK_EQ(bp_eth_dev_count_avail(), 0);
	/* Asked for by name while the kernel holds it: one clear refusal. */
	CHECK_EQ(test_env("--no-huge -l 0 -a 00:03.0"), -EBUSY);
	CHECK_EQ(bp_eth_dev_count_avail(), 0);
	CHECK_EQ(test_env("--no-huge -l 0 -a 0000:00:0a.0"), -ENODEV); /* no such device */
	CHECK_EQ(test_env("--no-huge -l 0 -a 0000:00:1f.2"), -ENODEV); /* no bypass driver for ahci */
	done();
}

static void set_driver(const char *addr, const char *drv)
{
	char p[PATH_MAX], t[PATH_MAX];
	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s/driver", sysfs, addr);
	unlink(p);
	snprintf(t, sizeof(t), "../../drivers/%s", drv);
	if (symlink(t, p) != 0)
		perror(p);
}

TEST(pci_way_in_follows_the_bound_driver_and_dev_nodes)
{
	struct bp_pci_device d = { .iommu_group = 3 };
	char p[PATH_MAX];
	CHECK(machine());
	snprintf(d.kdriver, sizeof(d.kdriver), "e1000");
	CHECK_EQ(bp_pci_access_of(&d), BP_PCI_NONE);
	snprintf(d.kdriver, sizeof(d.kdriver), "uio_pci_generic");
	CHECK_EQ(bp_pci_access_of(&d), BP_PCI_UIO);
	snprintf(d.kdriver, sizeof(d.kdriver), "vfio-pci");
	CHECK_EQ(bp_pci_access_of(&d), BP_PCI_VFIO);
	/* vfio's no-IOMMU mode names its groups noiommu-N */
	snprintf(p, sizeof(p), "%s/vfio", devfs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/vfio/noiommu-3", devfs);
	fclose(fopen(p, "w"));
	CHECK_EQ(bp_pci_access_of(&d), BP_PCI_VFIO_NOIOMMU);
	d.iommu_group = -1;
	CHECK_EQ(bp_pci_access_of(&d), BP_PCI_NONE); /* vfio-pci without a group cannot be */
	done();
}

TEST(pci_vfio_device_without_vfio_fails_with_a_clear_error)
{
	CHECK(machine());
	set_driver("0000:00:03.0", "vfio-pci");
	/* /dev/vfio/vfio is missing in the fake /dev: the open fails, nothing hangs */
	int rc = test_env("--no-huge -l 0 -a 0000:00:03.0");
	CHECK(rc < 0);
	CHECK_EQ(bp_eth_dev_count_avail(), 0);
	done();
}

/* A VFIO_IOMMU_GET_INFO reply: the info header, then capabilities. */
struct reply {
	struct vfio_iommu_type1_info info;
	struct vfio_iommu_type1_info_cap_iova_range cap;
	struct vfio_iova_range r[2];
} __attribute__((packed, aligned(8)));

static void good_reply(struct reply *rp)
{
	memset(rp, 0, sizeof(*rp));
	rp->info.argsz = sizeof(*rp);
	rp->info.flags = VFIO_IOMMU_INFO_CAPS;
	rp->info.cap_offset = sizeof(rp->info);
	rp->cap.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	rp->cap.header.version = 1;
	rp->cap.nr_iovas = 2;
	rp->r[0] = (struct vfio_iova_range){ 0, 0xfedfffff };
	rp->r[1] = (struct vfio_iova_range){ 0xfef00000, (1ull << 39) - 1 };
}

TEST(vfio_iova_ranges_are_read_within_the_reply)
{
	struct reply rp;
	struct bp_iova_range out[8];
	good_reply(&rp);
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp), out, 8), 2);
	CHECK_EQ(out[1].end, (1ull << 39) - 1);
	/* more ranges claimed than the reply holds: only those inside count */
	rp.cap.nr_iovas = 1000000;
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp), out, 8), 2);
	/* a reply cut short in the middle of the second range */
	good_reply(&rp);
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp) - 4, out, 8), 1);
	/* a capability that starts past the end */
	good_reply(&rp);
	rp.info.cap_offset = 4096;
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp), out, 8), 0);
	/* a chain that points back at itself ends, it does not loop */
	good_reply(&rp);
	rp.cap.header.next = rp.info.cap_offset;
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp), out, 8), 2);
	/* a range that ends before it starts is dropped */
	good_reply(&rp);
	rp.r[0] = (struct vfio_iova_range){ 0x5000, 0x1000 };
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp), out, 8), 1);
	/* no capabilities at all */
	good_reply(&rp);
	rp.info.flags = 0;
	CHECK_EQ(bp_vfio_parse_iova_ranges(&rp, sizeof(rp), out, 8), 0);
}
