/* SPDX-License-Identifier: MIT
 * bypass status/bind/restore with SR-IOV, on the fake machine of
 * tests/fixtures/machine-sriov.txt: PFs listed with their VFs and which are
 * free, a VF's IOMMU group checked at bind, the no-interrupt warning for a VF
 * on uio_pci_generic, and a PF that stays put while its VFs are on
 * user-space drivers. A refusal is one line and leaves the tree as it was. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "fake_sysfs.h"

static char out[65536], err[16384];

static int bypass(const char *args) { return fake_bypass(args, out, sizeof(out), err, sizeof(err)); }

static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl && nl[1] == '\0';
}

/* A refusal: exit 1, the reason in one line, not one write, not one change. */
static bool refused(const char *args, const char *reason)
{
	uint64_t before = fake_tree_digest();
	unsigned writes = fake_writes;
	int rc = bypass(args);
	bool ok = rc == 1 && strstr(err, reason) && one_line(err) && fake_tree_digest() == before &&
		  fake_writes == writes;
	if (!ok)
		printf("    %s -> %d (%u writes): %s", args, rc, fake_writes - writes, err);
	return ok;
}

TEST(devbind_sriov_status_lists_pfs_with_their_vfs_and_which_are_free)
{
	CHECK(fake_machine("machine-sriov.txt", NULL) != NULL);
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "0000:01:00.0  Intel Corporation 82576 Gigabit Network Connection [8086:10c9]") != NULL);
	CHECK(strstr(out, "      SR-IOV physical function: 2 of 7 virtual functions\n"
			  "        0000:01:10.0  igbvf, in use: the kernel's, interface eth2; iommu group 3\n"
			  "        0000:01:10.2  no driver, free; iommu group 4\n") != NULL);
	CHECK(strstr(out, "      SR-IOV physical function: 0 of 7 virtual functions (make some: "
			  "echo N > /sys/bus/pci/devices/ADDR/sriov_numvfs)") != NULL);
	CHECK(strstr(out, "  0000:01:10.2  Intel Corporation 82576 Virtual Function [8086:10ca]\n"
			  "      driver none, could use igbvf,vfio-pci,uio_pci_generic; iommu group 4; numa node 0\n"
			  "      SR-IOV virtual function of 0000:01:00.0\n") != NULL);
	/* a process on a VF's group: no longer free */
	CHECK_EQ(bypass("bind 0000:01:10.2"), 0);
	CHECK_EQ(fake_add_proc(77, "bypass-testpmd", "/dev/vfio/4"), 0);
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "        0000:01:10.2  vfio-pci, in use: process 77 (bypass-testpmd) holds /dev/vfio/4; "
			  "iommu group 4\n") != NULL);
	CHECK_EQ(bypass("status --json"), 0);
	CHECK(strstr(out, "\"physfn\": null, \"sriov_totalvfs\": 7, \"vfs\": [{\"address\": \"0000:01:10.0\", "
			  "\"driver\": \"igbvf\", \"free\": false, \"in_use\": \"the kernel's, interface eth2\"}, "
			  "{\"address\": \"0000:01:10.2\", \"driver\": \"vfio-pci\", \"free\": false, \"in_use\": "
			  "\"process 77 (bypass-testpmd) holds /dev/vfio/4\"}]") != NULL);
	CHECK(strstr(out, "\"address\": \"0000:01:10.0\", \"vendor\": \"8086\", \"device\": \"10ca\"") != NULL);
	CHECK(strstr(out, "\"physfn\": \"0000:01:00.0\", \"sriov_totalvfs\": 0, \"vfs\": []") != NULL);
	fake_machine_destroy();
}

TEST(devbind_sriov_bind_of_a_vf_checks_its_iommu_group)
{
	CHECK(fake_machine("machine-sriov.txt", NULL) != NULL);
	/* its own group: vfio-pci takes it */
	CHECK_EQ(bypass("bind 0000:01:10.2"), 0);
	CHECK(strstr(out, "0000:01:10.2: no driver -> vfio-pci (/dev/vfio/4)") != NULL);
	CHECK(strcmp(fake_driver_of("0000:01:10.2"), "vfio-pci") == 0);
	/* a group shared with its own PF: the PF must stay on igb, so no */
	CHECK(refused("bind 0000:03:10.0",
		      "0000:03:10.0 is a virtual function in IOMMU group 6 with its own PF 0000:03:00.0 (igb): "
		      "the bridge above them does not isolate functions (no ACS), and the PF must stay on igb "
		      "for the VF to exist, so vfio-pci cannot take the VF; bypass bind --driver bypass_uio "
		      "0000:03:10.0 works without IOMMU isolation"));
	CHECK(strcmp(fake_driver_of("0000:03:10.0"), "") == 0);
	fake_machine_destroy();
}

TEST(devbind_sriov_a_vf_on_uio_pci_generic_is_told_it_gets_no_interrupt)
{
	CHECK(fake_machine("machine-sriov.txt", NULL) != NULL);
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:01:10.2"), 0);
	CHECK(strstr(err, "bypass: warning: 0000:01:10.2 (a virtual function of 0000:01:00.0) has no INTx pin: "
			  "uio_pci_generic gives it no interrupt at all, only poll mode works; bypass_uio or "
			  "vfio-pci give it MSI-X\n") != NULL);
	CHECK(one_line(err));
	CHECK(strcmp(fake_driver_of("0000:01:10.2"), "uio_pci_generic") == 0);
	/* a PF has its pin: no such warning */
	CHECK_EQ(bypass("bind --driver uio_pci_generic --force 0000:02:00.0"), 0);
	CHECK(strstr(err, "INTx") == NULL);
	fake_machine_destroy();
}

TEST(devbind_sriov_a_pf_stays_while_its_vfs_are_on_user_space_drivers)
{
	CHECK(fake_machine("machine-sriov.txt", NULL) != NULL);
	/* the PF on vfio-pci (bypass took it from igb), then a VF too */
	CHECK_EQ(bypass("bind 0000:01:00.0"), 0);
	CHECK_EQ(bypass("bind 0000:01:10.2"), 0);
	const char *why = "bypass: refusing to restore 0000:01:00.0 (vfio-pci), nothing was changed: its virtual "
			  "function 0000:01:10.2 (vfio-pci) is on a user-space driver, and the PF leaving vfio-pci "
			  "would remove it under its user; give it back first: bypass restore 0000:01:10.2\n";
	CHECK(refused("restore 0000:01:00.0", why));
	CHECK(strcmp(err, why) == 0);
	CHECK(refused("restore --force 0000:01:00.0", "refusing to restore 0000:01:00.0")); /* not even forced */
	CHECK(refused("unbind 0000:01:00.0", "refusing to unbind 0000:01:00.0 (vfio-pci)"));
	CHECK(refused("bind --driver uio_pci_generic 0000:01:00.0", "refusing to bind 0000:01:00.0 (vfio-pci)"));
	/* two VFs on user-space drivers: both named */
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:01:10.0"), 0);
	CHECK(refused("restore 0000:01:00.0", "its virtual functions 0000:01:10.0 (uio_pci_generic), 0000:01:10.2 "
					      "(vfio-pci) are on a user-space driver, and the PF leaving vfio-pci "
					      "would remove them under their users; give them back first: bypass "
					      "restore 0000:01:10.0 0000:01:10.2"));
	CHECK(strcmp(fake_driver_of("0000:01:00.0"), "vfio-pci") == 0);
	/* restore --all gives the VFs back first, then the PF */
	CHECK_EQ(bypass("restore --all"), 0);
	CHECK(strcmp(fake_driver_of("0000:01:10.0"), "igbvf") == 0);
	CHECK(strcmp(fake_driver_of("0000:01:10.2"), "igbvf") == 0);
	CHECK(strcmp(fake_driver_of("0000:01:00.0"), "igb") == 0);
	CHECK(strstr(out, "0000:01:00.0: vfio-pci -> igb eth0") != NULL);
	fake_machine_destroy();
}
