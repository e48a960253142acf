/* SPDX-License-Identifier: MIT
 * What the ports that reach the Linux kernel (net_tap, net_af_packet) share:
 * a kernel network interface seen from a port (its flags, MAC, MTU, link and
 * kernel-side counters, through the ioctls of netdevice(7)), and rx
 * interrupts for a queue whose kernel fd is readable while a frame waits.
 *
 * Compiled once into the library, included by those drivers only.
 */
#ifndef BYPASS_DRIVERS_KIF_H
#define BYPASS_DRIVERS_KIF_H

#include <net/if.h>
#include <bypass/ethdev.h>

/* netdevice(7): SIOCGIFFLAGS / SIOCSIFFLAGS on any socket. The flags of
 * interface name in *flags; 0 or negative errno. */
int kif_flags_get(const char *name, unsigned *flags);
/* Sets the flags in set and clears those in clear (IFF_UP: up). */
int kif_flags_change(const char *name, unsigned set, unsigned clear);
/* netdevice(7): SIOCGIFHWADDR / SIOCSIFHWADDR. */
int kif_mac_get(const char *name, struct bp_ether_addr *mac);
int kif_mac_set(const char *name, const struct bp_ether_addr *mac);
/* netdevice(7): SIOCGIFMTU. */
int kif_mtu_get(const char *name, unsigned *mtu);
/* The port's link is the interface's: up while it is IFF_UP and IFF_RUNNING
 * (the kernel's "carrier"); speed unknown (0). */
int kif_link_update(struct bp_eth_dev *dev, const char *name);
/* A counter of /sys/class/net/NAME/statistics/ (read only), or 0. Of the
 * network namespace sysfs was mounted in: `ip netns exec` mounts the
 * namespace's own. */
uint64_t kif_sysfs_counter(const char *name, const char *counter);

/* rx interrupts for queues whose kernel fd (a TAP queue, a packet socket)
 * poll()s readable while a frame waits. That fd cannot be the queue's
 * interrupt fd itself: the contract of bp_eth_rx_intr_fd is "read 8 bytes to
 * clear it", and 8 bytes read from a TAP fd are a frame lost. So each queue
 * has an eventfd; arming hands the kernel fd to the interrupt thread
 * (lib/intr), whose epoll is level-triggered: a frame that is already there
 * fires at once (no race with the arming), and the callback signals the
 * eventfd and unregisters itself (an armed queue fires once). The cost is a
 * hop through that thread on wake-up; the poll-mode data path pays nothing. */
struct kif_intr {
	int src;      /* the kernel fd */
	int efd;      /* the eventfd given out as dev->rx_intr_fd[q], -1: none */
};
/* Creates the eventfd for src and puts it in dev->rx_intr_fd[q]. */
int kif_intr_start(struct bp_eth_dev *dev, uint16_t q, struct kif_intr *ki, int src);
int kif_intr_enable(struct kif_intr *ki);
int kif_intr_disable(struct kif_intr *ki);
/* Disarms, closes the eventfd, dev->rx_intr_fd[q] = -1. */
void kif_intr_stop(struct bp_eth_dev *dev, uint16_t q, struct kif_intr *ki);
/* 1 if fd is readable now (a frame waits), else 0: rx_queue_count's hint. */
uint32_t kif_fd_readable(int fd);

#endif
