/* SPDX-License-Identifier: MIT
 * bypass status/bind/unbind/restore against fake machines (tests/fixtures)
 * with a fake kernel that reacts to the writes. */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"
#include "fake_sysfs.h"
#include "../../tools/devbind/devbind.h"

static char out[65536], err[16384];
static const char *root;

/* Runs "bypass CMD ARGS" against the fake machine; output in out/err. */
static int bypass(const char *args) { return fake_bypass(args, out, sizeof(out), err, sizeof(err)); }

static bool exists(const char *rel)
{
	char p[4096];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static bool one_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl && nl[1] == '\0';
}

#define SETUP(flags)                                                                 \
	root = fake_machine("machine-iommu.txt", flags);                             \
	CHECK(root != NULL)

TEST(devbind_status_groups_names_and_activity)
{
	SETUP(NULL);
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "Network devices on a kernel driver") != NULL);
	CHECK(strstr(out, "0000:00:03.0  Intel Corporation 82540EM Gigabit Ethernet Controller [8086:100e]") != NULL);
	CHECK(strstr(out, "driver e1000, could use vfio-pci,uio_pci_generic; interface eth0 (up)") != NULL);
	CHECK(strstr(out, "interface eth1 (up, 10.0.2.15, default route)") != NULL);
	CHECK(strstr(out, "active: eth1 carries the default route") != NULL);
	CHECK(strstr(out, "active: eth4 is a member of bond0") != NULL);
	CHECK(strstr(out, "active: eth5 is up with address 2001:db8::5") != NULL);
	CHECK(strstr(out, "active: eth6 carries the current SSH session (to 192.168.50.7)") != NULL);
	CHECK(strstr(out, "iommu group 5") != NULL);
	CHECK(strstr(out, "ahci") == NULL); /* storage only with --all */
	CHECK_EQ(bypass("status --all"), 0);
	CHECK(strstr(out, "Other devices") != NULL);
	CHECK(strstr(out, "active: /dev/sda1 is mounted on /") != NULL);
	CHECK_EQ(fake_writes, 0);
	fake_machine_destroy();
}

/* A small JSON checker: the document must parse as a value, and nothing follow. */
static const char *js_ws(const char *s) { while (isspace((unsigned char)*s)) s++; return s; }
static const char *js_value(const char *s);
static const char *js_string(const char *s)
{
	if (*s != '"')
		return NULL;
	for (s++; *s && *s != '"'; s++)
		if (*s == '\\' && !*++s)
			return NULL;
	return *s == '"' ? s + 1 : NULL;
}
static const char *js_seq(const char *s, char close, bool obj)
{
	s = js_ws(s + 1);
	if (*s == close)
		return s + 1;
	for (;;) {
		if (obj) {
			if (!(s = js_string(js_ws(s))) || *(s = js_ws(s)) != ':')
				return NULL;
			s++;
		}
		if (!(s = js_value(s)))
			return NULL;
		s = js_ws(s);
		if (*s == close)
			return s + 1;
		if (*s++ != ',')
			return NULL;
	}
}
static const char *js_value(const char *s)
{
	s = js_ws(s);
	if (*s == '{')
		return js_seq(s, '}', true);
	if (*s == '[')
		return js_seq(s, ']', false);
	if (*s == '"')
		return js_string(s);
	if (!strncmp(s, "true", 4) || !strncmp(s, "null", 4))
		return s + 4;
	if (!strncmp(s, "false", 5))
		return s + 5;
	const char *t = s;
	while (*t == '-' || isdigit((unsigned char)*t))
		t++;
	return t > s ? t : NULL;
}

TEST(devbind_status_json_is_valid_and_complete)
{
	SETUP(NULL);
	CHECK_EQ(bypass("status --json --all"), 0);
	const char *end = js_value(out);
	CHECK(end != NULL);
	CHECK(*js_ws(end) == '\0');
	CHECK(strstr(out, "\"address\": \"0000:00:04.0\", \"vendor\": \"8086\", \"device\": \"100e\"") != NULL);
	CHECK(strstr(out, "\"driver\": \"e1000\", \"driver_kind\": \"kernel\"") != NULL);
	CHECK(strstr(out, "\"active\": true, \"active_reasons\": [\"eth1 is up with address 10.0.2.15\"") != NULL);
	CHECK(strstr(out, "\"iommu_group\": 3") != NULL);
	CHECK(strstr(out, "\"name\": \"Intel Corporation 82574L Gigabit Network Connection\"") != NULL);
	fake_machine_destroy();
}

TEST(devbind_bind_vfio_then_restore_brings_the_interface_back)
{
	SETUP(NULL);
	CHECK(exists("sys/bus/pci/devices/0000:00:03.0/net/eth0"));
	CHECK(!exists("sys/bus/pci/drivers/vfio-pci"));
	CHECK_EQ(bypass("bind 00:03.0"), 0); /* short address, default driver vfio-pci */
	CHECK(strstr(out, "0000:00:03.0: e1000 -> vfio-pci (/dev/vfio/3)") != NULL);
	CHECK(exists("sys/bus/pci/drivers/vfio-pci")); /* the module was loaded */
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "vfio-pci") == 0);
	CHECK(!exists("sys/bus/pci/devices/0000:00:03.0/net/eth0"));
	CHECK(strcmp(fake_read("run/bypass/0000:00:03.0"), "e1000\n") == 0);
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "Network devices on a user-space driver\n  0000:00:03.0") != NULL);
	CHECK(strstr(out, "driver vfio-pci, could use e1000,uio_pci_generic") != NULL);
	CHECK_EQ(bypass("bind 0000:00:03.0"), 0);
	CHECK(strstr(out, "already on vfio-pci") != NULL);

	CHECK_EQ(bypass("restore 0000:00:03.0"), 0);
	CHECK(strstr(out, "0000:00:03.0: vfio-pci -> e1000 eth0") != NULL);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	CHECK(exists("sys/bus/pci/devices/0000:00:03.0/net/eth0"));
	CHECK(strcmp(fake_read("sys/bus/pci/devices/0000:00:03.0/driver_override"), "\n") == 0);
	CHECK(!exists("run/bypass/0000:00:03.0"));
	fake_machine_destroy();
}

/* A refusal names the reason in one line and changes nothing at all. */
static void refused(const char *args, const char *addr, const char *reason)
{
	uint64_t before = fake_tree_digest();
	int rc = bypass(args);
	if (rc != 1 || !strstr(err, reason))
		printf("    %s -> %d: %s", args, rc, err);
	CHECK_EQ(rc, 1);
	CHECK(strstr(err, reason) != NULL);
	CHECK(strstr(err, "nothing was changed") != NULL || strstr(err, "vfio-pci needs the whole group") != NULL ||
	      strstr(err, "Three ways on") != NULL);
	CHECK(fake_tree_digest() == before);
	CHECK_EQ(fake_writes, 0);
	(void)addr;
}

TEST(devbind_refuses_active_devices_and_touches_nothing)
{
	SETUP(NULL);
	refused("bind 0000:00:04.0", "0000:00:04.0", "eth1 carries the default route");
	CHECK(!test_failed);
	refused("bind 0000:00:04.0", "0000:00:04.0", "eth1 is up with address 10.0.2.15");
	CHECK(!test_failed);
	refused("bind 0000:00:07.0", "0000:00:07.0", "eth4 is a member of bond0");
	CHECK(!test_failed);
	refused("bind 0000:00:08.0", "0000:00:08.0", "eth5 is up with address 2001:db8::5");
	CHECK(!test_failed);
	refused("bind 0000:00:09.0", "0000:00:09.0", "eth6 carries the current SSH session");
	CHECK(!test_failed);
	refused("bind --driver uio_pci_generic 0000:00:1f.2", "0000:00:1f.2", "/dev/sda1 is mounted on /");
	CHECK(!test_failed);
	refused("unbind 0000:00:04.0", "0000:00:04.0", "eth1 carries the default route");
	CHECK(!test_failed);
	/* one bad device in the list: none of the others is touched either */
	refused("bind 0000:00:03.0 0000:00:04.0", "", "eth1 carries the default route");
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	fake_machine_destroy();
}

TEST(devbind_force_binds_an_active_device_and_says_what_is_lost)
{
	SETUP(NULL);
	CHECK_EQ(bypass("bind --force 0000:00:04.0"), 0);
	CHECK(strstr(err, "warning: --force: this will be lost: eth1 is up with address 10.0.2.15") != NULL);
	CHECK(strcmp(fake_driver_of("0000:00:04.0"), "vfio-pci") == 0);
	fake_machine_destroy();
}

TEST(devbind_vfio_needs_the_whole_iommu_group)
{
	SETUP(NULL);
	/* 00:05.0 shares group 5 with 00:06.0 (e1000e) and a bridge (pcieport: fine) */
	refused("bind 0000:00:05.0", "0000:00:05.0", "shares IOMMU group 5 with 0000:00:06.0 (e1000e)");
	CHECK(!test_failed);
	CHECK(strstr(err, "1c.0") == NULL);
	CHECK_EQ(bypass("bind 0000:00:05.0 0000:00:06.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:05.0"), "vfio-pci") == 0);
	CHECK(strcmp(fake_driver_of("0000:00:06.0"), "vfio-pci") == 0);
	CHECK_EQ(bypass("restore --all"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:05.0"), "e1000e") == 0);
	CHECK(strcmp(fake_driver_of("0000:00:06.0"), "e1000e") == 0);
	fake_machine_destroy();
}

TEST(devbind_no_iommu_explains_three_ways_uio_works)
{
	SETUP("noiommu");
	refused("bind 0000:00:03.0", "0000:00:03.0", "has no IOMMU group");
	CHECK(!test_failed);
	CHECK(strstr(err, "intel_iommu=on") && strstr(err, "enable_unsafe_noiommu_mode=1") &&
	      strstr(err, "bypass bind --driver uio_pci_generic 0000:00:03.0"));
	CHECK(one_line(err));
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:03.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "uio_pci_generic") == 0);
	fake_machine_destroy();
}

TEST(devbind_failed_bind_rolls_back_to_the_original_driver)
{
	SETUP("fail=vfio-pci");
	CHECK_EQ(bypass("bind 0000:00:03.0"), 1);
	CHECK(strstr(err, "did not end up on vfio-pci") != NULL);
	CHECK(strstr(err, "rolled back, the device is on e1000 again") != NULL);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	CHECK(exists("sys/bus/pci/devices/0000:00:03.0/net/eth0"));
	CHECK(strcmp(fake_read("sys/bus/pci/devices/0000:00:03.0/driver_override"), "\n") == 0);
	CHECK(!exists("run/bypass/0000:00:03.0"));
	fake_machine_destroy();
}

TEST(devbind_old_kernel_uses_new_id_and_bind)
{
	SETUP("nooverride");
	CHECK(!exists("sys/bus/pci/devices/0000:00:03.0/driver_override"));
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:03.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "uio_pci_generic") == 0);
	CHECK(strstr(fake_read("sys/bus/pci/drivers/uio_pci_generic/remove_id"), "8086 100e") != NULL);
	CHECK_EQ(bypass("restore 0000:00:03.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	fake_machine_destroy();
}

TEST(devbind_dry_run_prints_the_writes_and_makes_none)
{
	SETUP(NULL);
	uint64_t before = fake_tree_digest();
	CHECK_EQ(bypass("bind --dry-run 0000:00:03.0"), 0);
	CHECK(strstr(out, "modprobe vfio-pci") != NULL);
	CHECK(strstr(out, "/sys/bus/pci/devices/0000:00:03.0/driver_override <- vfio-pci") != NULL);
	CHECK(strstr(out, "/sys/bus/pci/drivers/e1000/unbind <- 0000:00:03.0") != NULL);
	CHECK(strstr(out, "/sys/bus/pci/drivers_probe <- 0000:00:03.0") != NULL);
	CHECK(fake_tree_digest() == before);
	CHECK_EQ(fake_writes, 0);
	CHECK_EQ(bypass("unbind --dry-run 0000:00:03.0"), 0);
	CHECK_EQ(bypass("bind --dry-run --persist --driver uio_pci_generic 0000:00:03.0"), 0);
	CHECK(strstr(out, "create ") != NULL);
	CHECK(fake_tree_digest() == before);
	fake_machine_destroy();
}

TEST(devbind_persist_writes_a_udev_rule_restore_removes_it)
{
	SETUP(NULL);
	CHECK_EQ(bypass("bind --persist 0000:00:03.0"), 0);
	const char *rule = fake_read("etc/udev/rules.d/70-bypass-0000:00:03.0.rules");
	CHECK(strstr(rule, "KERNEL==\"0000:00:03.0\", ATTR{driver_override}=\"vfio-pci\"") != NULL);
	CHECK(strstr(fake_read("etc/modules-load.d/bypass-0000:00:03.0.conf"), "vfio-pci") != NULL);
	CHECK(strstr(out, "undo with: bypass restore 0000:00:03.0") != NULL);
	CHECK_EQ(bypass("restore 0000:00:03.0"), 0);
	CHECK(!exists("etc/udev/rules.d/70-bypass-0000:00:03.0.rules"));
	CHECK(!exists("etc/modules-load.d/bypass-0000:00:03.0.conf"));
	fake_machine_destroy();
}

TEST(devbind_unbind_then_restore_all)
{
	SETUP(NULL);
	CHECK_EQ(bypass("unbind 0000:00:03.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "") == 0);
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "Network devices on no driver\n  0000:00:03.0") != NULL);
	CHECK_EQ(bypass("restore --all"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	fake_machine_destroy();
}

TEST(devbind_tests_cannot_write_outside_the_fake_machine)
{
	SETUP(NULL);
	struct db_opts o = { .out = stdout, .err = stderr };
	CHECK_EQ(devbind_write(&o, "/sys/bus/pci/drivers_probe", "0000:00:03.0"), -EACCES);
	char p[4096];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/drivers_probe", root);
	CHECK_EQ(devbind_write(&o, p, "0000:00:03.0"), 0); /* inside: allowed */
	fake_machine_destroy();
}

TEST(devbind_bad_input_gets_one_line_and_changes_nothing)
{
	SETUP(NULL);
	struct { const char *args, *msg; int rc; } bad[] = {
		{ "bind 00:03", "is not a PCI address", 2 },
		{ "bind 0000:00:03.9", "is not a PCI address", 2 },
		{ "bind xyz", "is not a PCI address", 2 },
		{ "bind 0000:00:0a.0", "there is no PCI device 0000:00:0a.0", 2 },
		{ "bind --driver igb 0000:00:03.0", "unknown driver 'igb'", 2 },
		{ "bind", "name the devices to bind", 2 },
		{ "restore", "name the devices to restore, or --all", 2 },
		{ "bind --frob 0000:00:03.0", "unknown or incomplete option", 2 },
		{ "status 0000:00:03.0", "takes no device names", 2 },
	};
	uint64_t before = fake_tree_digest();
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = bypass(bad[i].args);
		if (rc != bad[i].rc || !strstr(err, bad[i].msg) || !one_line(err))
			printf("    %s -> %d: %s", bad[i].args, rc, err);
		CHECK_EQ(rc, bad[i].rc);
		CHECK(strstr(err, bad[i].msg) != NULL);
		CHECK(one_line(err));
	}
	CHECK(fake_tree_digest() == before);
	/* a module that cannot be loaded: clear message, device untouched */
	fake_machine_destroy();
	root = fake_machine("machine-iommu.txt", NULL);
	CHECK(root);
	unlink(strcat(strcpy(out, root), "/modprobe"));
	FILE *f = fopen(out, "w");
	fputs("#!/bin/sh\nexit 1\n", f);
	fclose(f);
	chmod(out, 0755);
	CHECK_EQ(bypass("bind 0000:00:03.0"), 1);
	CHECK(strstr(err, "driver vfio-pci is not loaded") != NULL);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	fake_machine_destroy();
}

/* ---- host safety on a virtual machine's own devices (tests/fixtures/machine-host.txt) ---- */

#define HOST() \
	root = fake_machine("machine-host.txt", NULL); \
	CHECK(root != NULL)

/* Refused in one line that names the device and why, with nothing written. */
static void refused_line(const char *args, const char *addr, const char *reason)
{
	refused(args, addr, reason);
	if (test_failed)
		return;
	if (!one_line(err) || !strstr(err, addr))
		printf("    %s: %s", args, err);
	CHECK(one_line(err));
	CHECK(strstr(err, addr) != NULL);
}

TEST(devbind_never_moves_a_bridge_not_even_with_force)
{
	HOST();
	refused_line("bind --dry-run --driver uio_pci_generic 0000:00:00.0", "0000:00:00.0",
		     "a host bridge (class 060000) is not an endpoint");
	CHECK(!test_failed);
	CHECK(strstr(err, "not even with --force") != NULL);
	CHECK(strstr(out, "write ") == NULL); /* the dry run lists no write either */
	refused_line("bind --force --driver uio_pci_generic 0000:00:00.0", "0000:00:00.0", "host bridge");
	CHECK(!test_failed);
	refused_line("bind --force 0000:00:1f.0", "0000:00:1f.0", "an ISA bridge (class 060100) is not an endpoint");
	CHECK(!test_failed);
	/* the class says nothing; config byte 0x0e says PCI-to-PCI bridge */
	refused_line("bind --force --driver uio_pci_generic 0000:00:1e.0", "0000:00:1e.0",
		     "config header type 1 (PCI-to-PCI bridge) is not an endpoint");
	CHECK(!test_failed);
	fake_machine_destroy();
	/* a bridge on its kernel driver: unbind refused too, even with --force */
	SETUP(NULL);
	refused_line("unbind --force 0000:00:1c.0", "0000:00:1c.0", "a PCI-to-PCI bridge (class 060400)");
	CHECK(!test_failed);
	CHECK(strcmp(fake_driver_of("0000:00:1c.0"), "pcieport") == 0);
	fake_machine_destroy();
}

TEST(devbind_finds_a_root_shown_as_dev_root_behind_a_usb_controller)
{
	HOST();
	/* class 0c0330 (USB xHCI), sda nine levels down, / mounted as /dev/root */
	refused_line("bind --dry-run --driver uio_pci_generic 0000:00:02.0", "0000:00:02.0",
		     "/dev/sda1 is mounted on / (as /dev/root)");
	CHECK(!test_failed);
	refused_line("unbind 0000:00:02.0", "0000:00:02.0", "/dev/sda1 is mounted on /");
	CHECK(!test_failed);
	/* virtio-blk: virtio0/block/vda/vda1 */
	refused_line("bind --driver uio_pci_generic 0000:00:04.0", "0000:00:04.0", "/dev/vda1 is mounted on /var");
	CHECK(!test_failed);
	fake_machine_destroy();
}

TEST(devbind_refuses_swap_on_device_mapper_over_nvme)
{
	HOST();
	refused_line("bind --dry-run 0000:00:03.0", "0000:00:03.0",
		     "/dev/dm-0 (/dev/mapper/vg-swap, over /dev/nvme0n1p2) is in use as swap");
	CHECK(!test_failed);
	CHECK(strstr(err, "/dev/nvme0n1p2 is held by dm-0") != NULL);
	/* the kernel's own name for it in /proc/swaps */
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc/swaps", root);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	fputs("Filename\tType\tSize\tUsed\tPriority\n/dev/dm-0\tpartition\t1048572\t0\t-2\n", f);
	fclose(f);
	refused_line("bind --dry-run 0000:00:03.0", "0000:00:03.0", "/dev/dm-0 (/dev/mapper/vg-swap, over");
	CHECK(!test_failed);
	fake_machine_destroy();
}

TEST(devbind_mounts_fall_back_to_proc_mounts_by_name)
{
	SETUP(NULL);
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc/self/mountinfo", root);
	CHECK(unlink(p) == 0);
	refused("bind --driver uio_pci_generic 0000:00:1f.2", "0000:00:1f.2", "/dev/sda1 is mounted on /");
	fake_machine_destroy();
}

TEST(devbind_refuses_a_usb_nic_that_carries_the_default_route)
{
	HOST();
	refused_line("bind --driver uio_pci_generic 0000:00:0c.0", "0000:00:0c.0", "eth9 carries the default route");
	fake_machine_destroy();
}

TEST(devbind_refuses_the_vsock_channel_unless_forced)
{
	HOST();
	refused_line("bind --dry-run --driver uio_pci_generic 0000:00:05.0", "0000:00:05.0",
		     "virtio socket device on vmw_vsock_virtio_transport");
	CHECK(!test_failed);
	CHECK(strstr(err, "--force goes ahead") != NULL);
	CHECK_EQ(bypass("bind --dry-run --force --driver uio_pci_generic 0000:00:05.0"), 0);
	CHECK(strstr(err, "warning: --force: this will be lost: virtio socket device") != NULL);
	CHECK(strstr(out, "drivers/virtio-pci/unbind <- 0000:00:05.0") != NULL);
	/* without the transport bound, nothing uses the channel: it binds */
	char p[4096];
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:00:05.0/virtio1/driver", root);
	CHECK(unlink(p) == 0);
	CHECK_EQ(bypass("bind --dry-run --driver uio_pci_generic 0000:00:05.0"), 0);
	CHECK(err[0] == '\0');
	CHECK_EQ(fake_writes, 0);
	fake_machine_destroy();
}

TEST(devbind_refuses_vmci_and_a_console_in_use)
{
	HOST();
	refused_line("bind --driver uio_pci_generic 0000:00:09.0", "0000:00:09.0", "VMware VMCI device on vmw_vmci");
	CHECK(!test_failed);
	/* the guest agent holds a port of this console */
	refused_line("bind --driver uio_pci_generic 0000:00:08.0", "0000:00:08.0",
		     "virtio console in use: process 311 (qemu-ga) holds /dev/vport4p1");
	CHECK(!test_failed);
	/* a console nobody holds binds... */
	CHECK_EQ(bypass("bind --dry-run --driver uio_pci_generic 0000:00:0a.0"), 0);
	CHECK(err[0] == '\0');
	/* ...until a getty opens hvc0, or the kernel writes its messages there */
	CHECK_EQ(fake_add_proc(420, "agetty", "/dev/hvc0"), 0);
	refused_line("bind --dry-run --driver uio_pci_generic 0000:00:0a.0", "0000:00:0a.0",
		     "process 420 (agetty) holds /dev/hvc0");
	CHECK(!test_failed);
	char p[4096];
	snprintf(p, sizeof(p), "%s/proc/420/fd/3", root);
	CHECK(unlink(p) == 0);
	CHECK_EQ(bypass("bind --dry-run --driver uio_pci_generic 0000:00:0a.0"), 0);
	snprintf(p, sizeof(p), "%s/proc/consoles", root);
	FILE *f = fopen(p, "w");
	CHECK(f != NULL);
	fputs("hvc0                 -W- (EC p  )  229:0\n", f);
	fclose(f);
	refused_line("bind --dry-run --driver uio_pci_generic 0000:00:0a.0", "0000:00:0a.0",
		     "virtio console in use: /dev/hvc0 is a system console");
	CHECK(!test_failed);
	fake_machine_destroy();
}

TEST(devbind_balloon_and_entropy_bind_with_a_warning)
{
	HOST();
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:06.0"), 0);
	CHECK(strstr(err, "bypass: warning: 0000:00:06.0: it is the virtio memory balloon") != NULL);
	CHECK(one_line(err));
	CHECK(strcmp(fake_driver_of("0000:00:06.0"), "uio_pci_generic") == 0);
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:07.0"), 0);
	CHECK(strstr(err, "bypass: warning: 0000:00:07.0: it is the virtio entropy source") != NULL);
	CHECK(strcmp(fake_driver_of("0000:00:07.0"), "uio_pci_generic") == 0);
	/* back on the kernel: the child has its driver again */
	CHECK_EQ(bypass("restore 0000:00:06.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:06.0"), "virtio-pci") == 0);
	CHECK(exists("sys/bus/pci/devices/0000:00:06.0/virtio2/driver"));
	/* the idle e1000 binds with nothing said */
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:0b.0"), 0);
	CHECK(err[0] == '\0');
	fake_machine_destroy();
}

TEST(devbind_status_shows_why_host_devices_stay)
{
	HOST();
	CHECK_EQ(bypass("status --all"), 0);
	const char *want[] = {
		"never bound: a host bridge (class 060000) is not an endpoint",
		"never bound: a device with config header type 1 (PCI-to-PCI bridge) is not an endpoint",
		"active: /dev/sda1 is mounted on / (as /dev/root)",
		"active: /dev/dm-0 (/dev/mapper/vg-swap, over /dev/nvme0n1p2) is in use as swap",
		"active: virtio socket device on vmw_vsock_virtio_transport",
		"active: VMware VMCI device on vmw_vmci",
		"active: virtio console in use: process 311 (qemu-ga) holds /dev/vport4p1",
		"warning: it is the virtio memory balloon",
		"warning: it is the virtio entropy source",
		"active: eth9 carries the default route",
	};
	for (unsigned i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (!strstr(out, want[i]))
			printf("    missing: %s\n", want[i]);
		CHECK(strstr(out, want[i]) != NULL);
	}
	CHECK(strstr(out, "0000:00:0b.0") && strstr(strstr(out, "0000:00:0b.0"), "not active: safe to bind"));
	CHECK_EQ(bypass("status --all --json"), 0);
	const char *end = js_value(out);
	CHECK(end != NULL);
	CHECK(*js_ws(end) == '\0');
	CHECK(strstr(out, "\"never_reasons\": [\"a host bridge (class 060000) is not an endpoint\"]") != NULL);
	CHECK(strstr(out, "\"warnings\": [\"it is the virtio memory balloon") != NULL);
	CHECK_EQ(fake_writes, 0);
	fake_machine_destroy();
}

/* ---- a device a user-space driver process drives (issue 8) ---- */

/* A real process that takes bypass's device lock the way lib/pci/pci.c does
 * (fcntl F_WRLCK on <run dir>/lock-ADDR) and keeps it until told to go. */
static pid_t lock_holder_start(const char *addr, int *go)
{
	char p[4096];
	int ready[2], quit[2];
	snprintf(p, sizeof(p), "%s/run/bypass/lock-%s", root, addr);
	if (pipe(ready) < 0 || pipe(quit) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
		int fd = open(p, O_RDWR | O_CREAT, 0644);
		char c = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
		close(quit[1]);
		if (write(ready[1], &c, 1) != 1 || read(quit[0], &c, 1) < 0)
			_exit(1);
		_exit(0); /* not exit(): the parent's atexit would remove its fake machine */
	}
	char c = 'n';
	close(ready[1]);
	close(quit[0]);
	if (pid < 0 || read(ready[0], &c, 1) != 1 || c != 'y') {
		close(ready[0]);
		close(quit[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(ready[0]);
	*go = quit[1];
	return pid;
}

static void lock_holder_stop(pid_t pid, int go)
{
	close(go); /* the child reads end-of-file and exits; the kernel drops its lock */
	waitpid(pid, NULL, 0);
}

TEST(devbind_refuses_a_device_a_bypass_process_holds_locked)
{
	SETUP(NULL);
	CHECK_EQ(bypass("bind 0000:00:03.0"), 0);
	int go;
	pid_t pid = lock_holder_start("0000:00:03.0", &go);
	CHECK(pid > 0);
	char p[4096], who[128];
	/* its name, as procfs would give it */
	snprintf(p, sizeof(p), "%s/run/bypass/lock-0000:00:03.0", root);
	fake_add_proc(pid, "bypass-testpmd", p);
	snprintf(who, sizeof(who), "process %d (bypass-testpmd) holds bypass's lock on it", (int)pid);
	fake_writes = 0;
	refused("restore 0000:00:03.0", "0000:00:03.0", who);
	if (!test_failed)
		refused("unbind 0000:00:03.0", "0000:00:03.0", who);
	if (!test_failed) /* vfio-pci -> uio_pci_generic is taking it away too */
		refused("bind --driver uio_pci_generic 0000:00:03.0", "0000:00:03.0", who);
	if (!test_failed)
		refused("restore --all", "0000:00:03.0", who);
	bool ok = !test_failed && one_line(err) && strstr(err, "stop that process first");
	CHECK_EQ(bypass("status"), 0);
	ok = ok && strstr(out, "      in use: process ") != NULL;
	lock_holder_stop(pid, go);
	CHECK(ok);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "vfio-pci") == 0);
	/* the holder is gone; its file stays behind, stale, and stops nothing */
	CHECK(exists("run/bypass/lock-0000:00:03.0"));
	CHECK_EQ(bypass("restore 0000:00:03.0"), 0);
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	fake_machine_destroy();
}

TEST(devbind_refuses_a_device_whose_vfio_group_a_process_holds)
{
	SETUP(NULL);
	CHECK_EQ(bypass("bind 0000:00:03.0"), 0);
	/* someone else's group: not ours to worry about */
	CHECK_EQ(fake_add_proc(99, "qemu-system-x86", "/dev/vfio/4"), 0);
	CHECK_EQ(fake_add_proc(4242, "dpdk-testpmd", "/dev/vfio/vfio"), 0);
	CHECK_EQ(fake_add_proc(4242, "dpdk-testpmd", "/dev/vfio/3"), 0);
	fake_writes = 0;
	refused("restore 0000:00:03.0", "0000:00:03.0", "process 4242 (dpdk-testpmd) holds /dev/vfio/3");
	CHECK(!test_failed);
	CHECK(one_line(err));
	CHECK(strstr(err, "qemu") == NULL);
	refused("unbind 0000:00:03.0", "0000:00:03.0", "process 4242 (dpdk-testpmd) holds /dev/vfio/3");
	CHECK(!test_failed);
	refused("bind --driver uio_pci_generic 0000:00:03.0", "0000:00:03.0", "process 4242 (dpdk-testpmd)");
	CHECK(!test_failed);
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "      in use: process 4242 (dpdk-testpmd) holds /dev/vfio/3") != NULL);
	/* --force: one line on what happens to the process, then it goes */
	CHECK_EQ(bypass("restore --force 0000:00:03.0"), 0);
	CHECK(strstr(err, "bypass: warning: --force: 0000:00:03.0 is in use (process 4242 (dpdk-testpmd) holds "
			  "/dev/vfio/3): vfio-pci asks that process to let go and the kernel's unbind waits") != NULL);
	CHECK(one_line(err));
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "e1000") == 0);
	fake_machine_destroy();
}

TEST(devbind_names_a_shared_iommu_group_a_process_holds)
{
	SETUP(NULL);
	CHECK_EQ(bypass("bind 0000:00:05.0 0000:00:06.0"), 0);
	CHECK_EQ(fake_add_proc(4242, "dpdk-testpmd", "/dev/vfio/5"), 0);
	fake_writes = 0;
	refused("restore 0000:00:05.0", "0000:00:05.0", "process 4242 (dpdk-testpmd) holds IOMMU group 5 (/dev/vfio/5)");
	CHECK(!test_failed);
	CHECK(strstr(err, "0000:00:06.0") != NULL); /* the other device in the group */
	fake_machine_destroy();
}

TEST(devbind_refuses_a_device_whose_uio_node_a_process_holds)
{
	SETUP(NULL);
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:03.0"), 0);
	CHECK(exists("sys/bus/pci/devices/0000:00:03.0/uio/uio0"));
	CHECK_EQ(fake_add_proc(77, "l2fwd", "/dev/uio0"), 0);
	fake_writes = 0;
	refused("unbind 0000:00:03.0", "0000:00:03.0", "process 77 (l2fwd) holds /dev/uio0");
	CHECK(!test_failed);
	refused("bind 0000:00:03.0", "0000:00:03.0", "process 77 (l2fwd) holds /dev/uio0");
	CHECK(!test_failed);
	CHECK_EQ(bypass("unbind --force 0000:00:03.0"), 0);
	CHECK(strstr(err, "warning: --force: 0000:00:03.0 is in use (process 77 (l2fwd) holds /dev/uio0): "
			  "that process loses the device under its feet") != NULL);
	CHECK(one_line(err));
	CHECK(strcmp(fake_driver_of("0000:00:03.0"), "") == 0);
	fake_machine_destroy();
}

TEST(devbind_refuses_a_device_whose_vfio_cdev_a_process_holds)
{
	SETUP("cdev");
	CHECK_EQ(bypass("bind 0000:00:03.0"), 0);
	CHECK(exists("sys/bus/pci/devices/0000:00:03.0/vfio-dev/vfio0"));
	CHECK_EQ(fake_add_proc(4242, "dpdk-testpmd", "/dev/vfio/devices/vfio0"), 0);
	fake_writes = 0;
	refused("restore 0000:00:03.0", "0000:00:03.0", "process 4242 (dpdk-testpmd) holds /dev/vfio/devices/vfio0");
	fake_machine_destroy();
}

/* A "build" of bypass_uio in the fake source tree: the fake insmod loads a
 * file that says bypass_uio, and refuses anything else. */
static void fake_build(const char *rel, const char *content)
{
	char p[4096], d[4096];
	snprintf(p, sizeof(p), "%s/src/%s", root, rel);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	db_make_dirs(d);
	FILE *f = fopen(p, "w");
	if (f) {
		fprintf(f, "%s\n", content);
		fclose(f);
	}
}

TEST(devbind_bypass_uio_loads_a_build_binds_and_restores)
{
	SETUP(NULL);
	unsetenv("BYPASS_UIO_KO");
	/* not installed, no build: one line that says how to build it; nothing moved */
	uint64_t before = fake_tree_digest();
	CHECK_EQ(bypass("bind --driver bypass_uio 0000:00:03.0"), 1);
	CHECK(strstr(err, "bypass_uio is not installed and there is no build of it") != NULL);
	CHECK(strstr(err, "/src/kernel/linux/bypass_uio") != NULL);
	CHECK(one_line(err));
	CHECK_EQ(fake_tree_digest(), before);
	CHECK(!strcmp(fake_driver_of("0000:00:03.0"), "e1000"));
	/* a build for another kernel (insmod refuses it), then the lab's good one */
	fake_build("kernel/linux/bypass_uio/bypass_uio.ko", "a module for some other kernel");
	fake_build("lab/cache/bypass_uio/bypass_uio.ko", "bypass_uio");
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "could use vfio-pci,uio_pci_generic,bypass_uio") != NULL);
	CHECK_EQ(bypass("bind --driver bypass_uio 0000:00:03.0"), 0);
	CHECK(strstr(out, "/src/lab/cache/bypass_uio/bypass_uio.ko") != NULL);
	CHECK(strstr(out, "0000:00:03.0: e1000 -> bypass_uio") != NULL);
	CHECK(!strcmp(fake_driver_of("0000:00:03.0"), "bypass_uio"));
	/* a user-space driver, as status says; and back */
	CHECK_EQ(bypass("status"), 0);
	CHECK(strstr(out, "on a user-space driver") != NULL);
	CHECK_EQ(bypass("restore 0000:00:03.0"), 0);
	CHECK(!strcmp(fake_driver_of("0000:00:03.0"), "e1000"));
	/* now loaded: binding again needs no module */
	CHECK_EQ(bypass("bind --driver bypass_uio 0000:00:03.0"), 0);
	CHECK(strstr(out, "loaded") == NULL);
	CHECK(!strcmp(fake_driver_of("0000:00:03.0"), "bypass_uio"));
	CHECK_EQ(bypass("restore --all"), 0);
	fake_machine_destroy();
}

TEST(devbind_uio_pci_generic_warns_a_device_without_intx)
{
	SETUP(NULL);
	char p[4096];
	uint8_t cfg[64] = { 0x86, 0x80, 0x0e, 0x10 }; /* Interrupt Pin (3Dh) 0: no INTx */
	snprintf(p, sizeof(p), "%s/sys/bus/pci/devices/0000:00:03.0/config", root);
	FILE *f = fopen(p, "w");
	CHECK(f);
	fwrite(cfg, 1, sizeof(cfg), f);
	fclose(f);
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:03.0"), 0);
	CHECK(strstr(err, "0000:00:03.0 has no INTx pin") != NULL);
	CHECK(strstr(err, "bypass_uio or vfio-pci give it MSI-X") != NULL);
	CHECK_EQ(bypass("restore 0000:00:03.0"), 0);
	cfg[0x3d] = 1; /* INTA# */
	f = fopen(p, "w");
	CHECK(f);
	fwrite(cfg, 1, sizeof(cfg), f);
	fclose(f);
	CHECK_EQ(bypass("bind --driver uio_pci_generic 0000:00:03.0"), 0);
	CHECK(strstr(err, "no INTx") == NULL);
	fake_machine_destroy();
}
