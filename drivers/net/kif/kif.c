/* SPDX-License-Identifier: MIT
 * See kif.h: the kernel interface behind a TAP or af_packet port. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <net/if_arp.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "kif.h"

/* netdevice(7): the interface ioctls take "any socket's file descriptor
 * regardless of the family or type". */
static int ifreq_ioctl(const char *name, unsigned long req, struct ifreq *ifr)
{
	if (strlen(name) >= IFNAMSIZ)
		return -ENAMETOOLONG;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
	if (s < 0)
		return -errno;
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, req, ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

int kif_flags_get(const char *name, unsigned *flags)
{
	struct ifreq ifr = { 0 };
	int rc = ifreq_ioctl(name, SIOCGIFFLAGS, &ifr);
	if (rc == 0)
		*flags = (unsigned short)ifr.ifr_flags;
	return rc;
}

int kif_flags_change(const char *name, unsigned set, unsigned clear)
{
	unsigned flags;
	int rc = kif_flags_get(name, &flags);
	if (rc < 0 || ((flags | set) & ~clear) == flags)
		return rc;
	struct ifreq ifr = { .ifr_flags = (short)((flags | set) & ~clear) };
	return ifreq_ioctl(name, SIOCSIFFLAGS, &ifr);
}

int kif_mac_get(const char *name, struct bp_ether_addr *mac)
{
	struct ifreq ifr = { 0 };
	int rc = ifreq_ioctl(name, SIOCGIFHWADDR, &ifr);
	if (rc == 0)
		memcpy(mac->b, ifr.ifr_hwaddr.sa_data, BP_ETHER_ADDR_LEN);
	return rc;
}

int kif_mac_set(const char *name, const struct bp_ether_addr *mac)
{
	struct ifreq ifr = { 0 };
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac->b, BP_ETHER_ADDR_LEN);
	return ifreq_ioctl(name, SIOCSIFHWADDR, &ifr);
}

int kif_mtu_get(const char *name, unsigned *mtu)
{
	struct ifreq ifr = { 0 };
	int rc = ifreq_ioctl(name, SIOCGIFMTU, &ifr);
	if (rc == 0)
		*mtu = (unsigned)ifr.ifr_mtu;
	return rc;
}

int kif_link_update(struct bp_eth_dev *dev, const char *name)
{
	unsigned flags = 0;
	int rc = kif_flags_get(name, &flags);
	dev->link = (struct bp_eth_link){
		.up = rc == 0 && (flags & IFF_UP) && (flags & IFF_RUNNING),
		.full_duplex = 1,
	};
	return rc;
}

uint64_t kif_sysfs_counter(const char *name, const char *counter)
{
	char path[128];
	unsigned long long v = 0;
	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", name, counter);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* An armed queue's kernel fd became readable: signal, then disarm. (From
 * the interrupt thread itself, unregistering does not wait; whoever else
 * unregisters waits for this to return, so the eventfd outlives the write.) */
static void intr_fire(void *arg)
{
	struct kif_intr *ki = arg;
	uint64_t one = 1;
	if (write(ki->efd, &one, sizeof(one)) < 0)
		BP_LOG(DEBUG, "rx interrupt eventfd %d: %s", ki->efd, strerror(errno));
	bp_intr_callback_unregister(ki->src, intr_fire, ki);
}

int kif_intr_start(struct bp_eth_dev *dev, uint16_t q, struct kif_intr *ki, int src)
{
	ki->src = src;
	ki->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ki->efd < 0) {
		int rc = -errno;
		BP_LOG(ERR, "%s: rx queue %u: eventfd: %s", dev->name, q, strerror(errno));
		return rc;
	}
	dev->rx_intr_fd[q] = ki->efd;
	return 0;
}

/* Arming twice, or re-arming while the last firing runs: the old
 * registration goes first (epoll takes an fd once). */
int kif_intr_enable(struct kif_intr *ki)
{
	bp_intr_callback_unregister(ki->src, intr_fire, ki);
	return bp_intr_callback_register(ki->src, 0, intr_fire, ki);
}

int kif_intr_disable(struct kif_intr *ki)
{
	bp_intr_callback_unregister(ki->src, intr_fire, ki);
	return 0;
}

void kif_intr_stop(struct bp_eth_dev *dev, uint16_t q, struct kif_intr *ki)
{
	if (ki->efd < 0)
		return;
	kif_intr_disable(ki);
	close(ki->efd);
	ki->efd = -1;
	dev->rx_intr_fd[q] = -1;
}

uint32_t kif_fd_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}
