/* SPDX-License-Identifier: MIT
 * In the lab guest: proves that an interrupt reaches user space through
 * bypass_uio on an 82574L (QEMU e1000e), whatever vector kind bypass_uio gave
 * it. The NIC is made to raise one itself: a link-status-change cause set
 * through ICS (82574L datasheet 10.2.2.6), enabled in IMS; in MSI-X mode the
 * "other" causes are first routed to vector 0 through IVAR (10.2.2.9:
 * bits 18:16 the vector, bit 19 valid).
 *   uio-irq PCI-ADDRESS       prints "interrupt N arrived" and the vector's line of
 *                             /proc/interrupts, and exits 0; or exits 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/mman.h>

#define ICR 0x000C0
#define ICS 0x000C8
#define IMS 0x000D0
#define IMC 0x000D8
#define IVAR 0x000E4
#define ICR_LSC (1u << 2)
#define ICR_OTHER (1u << 24)     /* MSI-X: one of the other causes, 82574L 10.2.2.4 */
#define IVAR_OTHER(v) ((0x8u | (v)) << 16)

static volatile uint32_t *regs;
static uint32_t rd(uint32_t off) { return regs[off / 4]; }
static void wr(uint32_t off, uint32_t v) { regs[off / 4] = v; }

int main(int argc, char **argv)
{
	char p[512], uio[64] = "", mode[16] = "";
	if (argc != 2) {
		fprintf(stderr, "usage: uio-irq PCI-ADDRESS\n");
		return 2;
	}
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/uio", argv[1]);
	DIR *d = opendir(p);
	for (struct dirent *e; d && (e = readdir(d));)
		if (!strncmp(e->d_name, "uio", 3))
			snprintf(uio, sizeof(uio), "/dev/%.50s", e->d_name);
	if (d)
		closedir(d);
	snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/bypass_uio/intr_mode", argv[1]);
	FILE *f = fopen(p, "r");
	if (!f || !fgets(mode, sizeof(mode), f) || !uio[0]) {
		fprintf(stderr, "uio-irq: %s is not on bypass_uio\n", argv[1]);
		return 1;
	}
	fclose(f);
	mode[strcspn(mode, "\n")] = '\0';
	int fd = open(uio, O_RDWR);
	if (fd < 0) {
		perror("uio-irq: open");
		return 1;
	}
	/* BAR0 is bypass_uio's map 0 (/sys/class/uio/uioN/maps/map0), at offset 0 */
	long size = 0;
	snprintf(p, sizeof(p), "/sys/class/uio/%s/maps/map0/size", uio + 5);
	f = fopen(p, "r");
	if (!f || fscanf(f, "%li", &size) != 1 || size < 0x1000) {
		fprintf(stderr, "uio-irq: %s has no map 0 for BAR0\n", uio);
		return 1;
	}
	fclose(f);
	regs = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (regs == MAP_FAILED) {
		perror("uio-irq: mmap");
		return 1;
	}
	int32_t on = 1;
	if (write(fd, &on, sizeof(on)) != sizeof(on)) {
		perror("uio-irq: irqcontrol");
		return 1;
	}
	wr(IMC, 0xffffffff);
	(void)rd(ICR);
	if (!strcmp(mode, "msix"))
		wr(IVAR, IVAR_OTHER(0));
	wr(IMS, ICR_LSC | (!strcmp(mode, "msix") ? ICR_OTHER : 0));
	wr(ICS, ICR_LSC);
	struct pollfd pf = { fd, POLLIN, 0 };
	int n = poll(&pf, 1, 5000);
	uint32_t count = 0;
	if (n == 1 && read(fd, &count, sizeof(count)) == sizeof(count)) {
		wr(IMC, 0xffffffff);
		(void)rd(ICR);
		printf("interrupt %u arrived (%s)\n", count, mode);
		/* the vector, as the kernel lists it while the device is open */
		char want[64], line[512];
		snprintf(want, sizeof(want), "bypass_uio-%s", argv[1]);
		FILE *pi = fopen("/proc/interrupts", "r");
		while (pi && fgets(line, sizeof(line), pi))
			if (strstr(line, want))
				printf("irq: %s", line);
		if (pi)
			fclose(pi);
		return 0;
	}
	wr(IMC, 0xffffffff);
	printf("no interrupt within 5 s (%s; ICR now %#x)\n", mode, rd(ICR));
	return 1;
}
