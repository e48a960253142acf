/* SPDX-License-Identifier: MIT
 * Poll-mode driver for the Intel 82576 virtual function (8086:10ca; QEMU's
 * igbvf, made by `echo N > /sys/bus/pci/devices/PF/sriov_numvfs` on a PF
 * the kernel's igb driver keeps). Two rx and two tx queues of advanced
 * descriptors (the PF's data path, igb.h); everything that is the port's
 * (address, multicast filter, largest frame) asked of the PF through the
 * mailbox (igb_mbx.h); the link from VTSTATUS and the PF's messages; MSI-X
 * with a vector for the mailbox and one per rx queue. Registers are cited in
 * igbvf_regs.h.
 *
 * A PF reset clears the VF's queues with its own (they are the PF's queues):
 * the port then reports its link down, and its next stop -> start resets the
 * VF with the PF again and rebuilds the rings.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/timerfd.h>
#include <sys/random.h>
#include <bypass/igbvf.h>
#include <bypass/intr.h>
#include <bypass/log.h>
#include "igb.h"
#include "igb_mbx.h"
#include "igbvf_regs.h"

#define DRIVER_NAME "net_igbvf"
/* MSI-X vectors: 0 for the mailbox (link, PF resets), 1 + q for rx queue q
 * (the convention of bypass/intr.h). */
#define VEC_MBX 0
#define VEC_RXQ(q) (1 + (q))
#define MBX_PROBE_MS 200 /* the PF answers within a few ms; QEMU raises the vector as it writes */
#define LINK_POLL_MS 250 /* (the log line in intr_start says so) */
#define EITR_US 100 /* at most one interrupt per 100 us per vector: VTEITR interval, bits 14:2, 1 us units (QEMU: 1.024 us) */

enum { ST_GPRC, ST_GPTC, ST_GORC, ST_GOTC, ST_MPRC, ST_GPRLBC, ST_GPTLBC, ST_GORLBC, ST_GOTLBC, ST_N };
static const uint32_t st_regs[ST_N] = {
	IGBVF_GPRC, IGBVF_GPTC, IGBVF_GORC, IGBVF_GOTC, IGBVF_MPRC,
	IGBVF_GPRLBC, IGBVF_GPTLBC, IGBVF_GORLBC, IGBVF_GOTLBC,
};

struct igbvf {
	struct bp_pci_device *pci;
	volatile void *regs;
	struct bp_eth_dev *eth;
	/* The mailbox, the link state and the counters' totals: the control
	 * path and the interrupt thread both use them. */
	pthread_mutex_t lock;
	struct igb_mbx mbx;
	bool need_reset; /* the PF reset since our last VF_RESET */
	bool no_irq;     /* uio_pci_generic: a VF has no INTx, so no interrupt at all */
	bool intr_on, vec0_cb;
	bool shared;     /* one vector (bypass_uio): the mailbox and rx queue 0 share it */
	struct e1000_rx_wake wake; /* rx queue 0's eventfd when shared */
	int poll_fd;     /* the link poll timer when the mailbox raises no interrupt, else -1 */
	bool started;    /* between start and stop: the link can be up */
	bool mac_from_pf; /* the PF keeps an address for us (VF_RESET's ACK) */
	struct bp_ether_addr mc[IGBVF_MAX_MC_HASHES];
	unsigned nb_mc;
	uint64_t st_total[ST_N];
	uint32_t st_last[ST_N];
};

static void stats_accumulate_locked(struct igbvf *a)
{
	for (unsigned i = 0; i < ST_N; i++) {
		uint32_t v = bp_read32(a->regs, st_regs[i]);
		a->st_total[i] += (uint32_t)(v - a->st_last[i]); /* counts up and wraps at 32 bits */
		a->st_last[i] = v;
	}
}

/* ---- the VF's reset, with the PF ---- */

/* VTCTRL.RST stops the VF's queues and tells the PF (a function-level
 * reset); then VF_RESET through the mailbox gives us the PF's address for
 * us, or none, and the PF's clearance to send. The PF forgot what we had set
 * (it clears a VF's address and filters at its reset): set them again. */
static int vf_reset_locked(struct igbvf *a, bool probing)
{
	struct bp_eth_dev *dev = a->eth;
	uint8_t mac[6];
	bool has;
	bp_write32(a->regs, IGBVF_CTRL, IGBVF_CTRL_RST);
	int rc = igb_mbx_vf_reset(&a->mbx, mac, &has);
	if (rc < 0)
		return rc;
	a->need_reset = false;
	a->mac_from_pf = has;
	if (has && probing)
		memcpy(dev->mac.b, mac, 6);
	if (!has && probing) {
		/* No address from the PF: one of our own, unicast and locally
		 * administered, as the kernel's VF driver does. */
		if (getrandom(dev->mac.b, 6, 0) != 6)
			for (unsigned i = 0; i < 6; i++)
				dev->mac.b[i] = (uint8_t)(bp_rdtsc() >> (8 * i));
		dev->mac.b[0] = (uint8_t)((dev->mac.b[0] & 0xfe) | 0x02);
	}
	if (!has || memcmp(mac, dev->mac.b, 6) != 0) {
		if ((rc = igb_mbx_set_mac(&a->mbx, dev->mac.b)) < 0) {
			char want[32], pf[32];
			bp_ether_format_addr(want, sizeof(want), &dev->mac);
			memcpy(dev->mac.b, mac, 6);
			bp_ether_format_addr(pf, sizeof(pf), &dev->mac);
			BP_LOG(ERR, "%s: the PF refused the address %s%s%s; the VF keeps %s", a->pci->addr, want,
			       has ? ": the administrator set " : "", has ? pf : "", has ? pf : "none");
			if (!has)
				return rc;
		}
	}
	if (a->nb_mc) {
		uint8_t list[IGBVF_MAX_MC_HASHES][6];
		for (unsigned i = 0; i < a->nb_mc; i++)
			memcpy(list[i], a->mc[i].b, 6);
		if ((rc = igb_mbx_set_multicast(&a->mbx, (const uint8_t(*)[6])list, a->nb_mc)) < 0)
			return rc;
	}
	/* The largest frame, with its CRC: standard frames and one VLAN tag. */
	return igb_mbx_set_max_frame(&a->mbx, MAX_FRAME + 4);
}

/* ---- link ---- */

/* Up while the port's link is (VTSTATUS.LU) and the PF is clear to send;
 * a PF reset (RSTI/RSTD, or its control message without CTS) takes it down
 * until the VF resets again (start). Takes the PF's control messages. */
static bool link_check_locked(struct igbvf *a)
{
	uint32_t msg;
	if (igb_mbx_pf_reset(&a->mbx))
		a->need_reset = true;
	while (igb_mbx_read(&a->mbx, &msg, 1, false) == 0)
		if (IGBVF_MSG_ID(msg) == IGBVF_MSG_PF_CONTROL && !(msg & IGBVF_MSG_CTS))
			a->need_reset = true;
	uint32_t st = bp_read32(a->regs, IGBVF_STATUS);
	static const uint32_t speeds[] = { 10, 100, 1000, 1000 };
	struct bp_eth_link *l = &a->eth->link;
	l->up = !a->need_reset && a->mbx.cts && (st & IGBVF_STATUS_LU) && a->started;
	l->full_duplex = !!(st & IGBVF_STATUS_FD);
	l->speed_mbps = l->up ? speeds[(st & IGBVF_STATUS_SPEED_MASK) >> IGBVF_STATUS_SPEED_SHIFT] : 0;
	l->autoneg = 1;
	return l->up;
}

static int igbvf_link_update(struct bp_eth_dev *dev, int wait)
{
	struct igbvf *a = dev->priv;
	pthread_mutex_lock(&a->lock);
	bool up = link_check_locked(a);
	for (int i = 0; wait && !up && !a->need_reset && i < 90; i++) {
		pthread_mutex_unlock(&a->lock);
		bp_delay_us(100000); /* up to 9 s, like the kernel's autonegotiation wait */
		pthread_mutex_lock(&a->lock);
		up = link_check_locked(a);
	}
	stats_accumulate_locked(a); /* often enough for the 32-bit counters */
	BP_LOG(DEBUG, "%s: link %s: VTSTATUS %#x, V2PMailbox %#x, CTS %d, PF reset %d, VTEIMS %#x, VTIVAR_MISC %#x",
	       dev->name, up ? "up" : "down", bp_read32(a->regs, IGBVF_STATUS), igb_mbx_state(&a->mbx), a->mbx.cts,
	       a->need_reset, bp_read32(a->regs, IGBVF_EIMS), bp_read32(a->regs, IGBVF_IVAR_MISC));
	pthread_mutex_unlock(&a->lock);
	return 0;
}

/* ---- interrupts ---- */

/* Vector 0, on the interrupt thread: the mailbox (the PF wrote: a control
 * message, a reset) and, when the VF has a single vector (bypass_uio), rx
 * queue 0 too. One cause bit for both, so the handler asks each: the
 * mailbox and VTSTATUS for the link, the ring for a frame written back (an
 * armed queue is woken only for one). Also the link's poll timer's callback. */
static void vec0_intr(void *arg)
{
	struct igbvf *a = arg;
	struct bp_eth_dev *dev = a->eth;
	/* A device that went (hot-unplug) has nothing to say: its registers
	 * read all ones, which the mailbox would take for a PF reset and the
	 * link for a change. The link poll's timer goes on until stop. */
	if (__atomic_load_n(&dev->removed, __ATOMIC_ACQUIRE))
		return;
	if (a->shared && igb_rx_queue_count(dev->rx_queues[0]) && e1000_rx_wake_take(&a->wake)) {
		if (!dev->conf.link_intr)
			bp_write32(a->regs, IGBVF_EIMC, 1u << VEC_MBX); /* one wake-up per arming */
		e1000_rx_wake_signal(dev, &a->wake);
	}
	uint8_t was = dev->link.up;
	bool now = was;
	if (dev->conf.link_intr) {
		pthread_mutex_lock(&a->lock);
		now = link_check_locked(a);
		BP_LOG(DEBUG, "%s: vector 0: VTSTATUS %#x, CTS %d, PF reset %d, link %s", dev->name,
		       bp_read32(a->regs, IGBVF_STATUS), a->mbx.cts, a->need_reset, now ? "up" : "down");
		pthread_mutex_unlock(&a->lock);
	}
	bp_write32(a->regs, IGBVF_EICR, 1u << VEC_MBX);
	/* Unmasked again: QEMU 10's igb sets in EIAM every bit a VTEIAM write
	 * leaves clear (igb_set_eiam ORs in ~val), so vector 0 masks itself
	 * after each message there; on an 82576 this is a no-op. */
	if (dev->conf.link_intr || __atomic_load_n(&a->wake.armed, __ATOMIC_ACQUIRE))
		bp_write32(a->regs, IGBVF_EIMS, 1u << VEC_MBX);
	if (was != now)
		bp_eth_dev_event(dev, BP_ETH_EVENT_LINK);
}

static void intr_stop(struct igbvf *a)
{
	if (!a->intr_on)
		return;
	bp_write32(a->regs, IGBVF_EIMC, 0x7);
	/* when these return, vec0_intr is not running */
	if (a->vec0_cb)
		bp_intr_callback_unregister(bp_intr_fd(&a->pci->intr, VEC_MBX), vec0_intr, a);
	if (a->poll_fd >= 0) {
		bp_intr_callback_unregister(a->poll_fd, vec0_intr, a);
		close(a->poll_fd);
	}
	a->poll_fd = -1;
	if (a->no_irq) {
		a->intr_on = false;
		return;
	}
	bp_pci_intr_disable(a->pci);
	bp_write32(a->regs, IGBVF_EIAC, 0);
	bp_write32(a->regs, IGBVF_EIAM, 0);
	bp_write32(a->regs, IGBVF_IVAR0, 0);
	bp_write32(a->regs, IGBVF_IVAR_MISC, 0);
	bp_write32(a->regs, IGBVF_EICR, 0x7);
	e1000_rx_wake_close(a->eth, &a->wake);
	for (uint16_t q = 0; q < BP_MAX_QUEUES_PER_PORT; q++)
		a->eth->rx_intr_fd[q] = -1;
	a->intr_on = a->vec0_cb = a->shared = false;
}

/* Which VTIVAR_MISC brings the mailbox's cause to vector 0. The datasheet's
 * (VTIVAR_MISC: the vector's number in bits 1:0) is 0; QEMU 10's igb reads
 * that field as a mask of the VF's vectors (hw/net/igb_core.c,
 * mailbox_interrupt_to_vf: causes = (ent & 3) << (22 - 3 vfn), the VF's
 * vector v being the PF's EICR bit 22 - 3 vfn + v), so there 0 raises
 * nothing and 1 raises vector 0. Each is tried with a message from the PF
 * (its acknowledgement of and reply to SET_LPE); the first that fires vector
 * 0 stays. Neither: -1, and the link is polled. Before vector 0 has a
 * callback, which would take the firing. */
static int mbx_vector_probe(struct igbvf *a, int fd, unsigned read_len)
{
	static const uint8_t tries[] = { 0, 1 };
	for (unsigned i = 0; i < sizeof(tries); i++) {
		bp_write32(a->regs, IGBVF_IVAR_MISC, IGBVF_IVAR_VALID | tries[i]);
		bp_write32(a->regs, IGBVF_EIMS, 1u << VEC_MBX);
		while (bp_intr_wait(fd, read_len, 0) > 0) /* what came before */
			;
		pthread_mutex_lock(&a->lock);
		int rc = igb_mbx_set_max_frame(&a->mbx, MAX_FRAME + 4);
		pthread_mutex_unlock(&a->lock);
		if (rc < 0)
			return rc;
		if (bp_intr_wait(fd, read_len, MBX_PROBE_MS) == 1) {
			bp_write32(a->regs, IGBVF_EICR, 1u << VEC_MBX);
			return tries[i];
		}
	}
	bp_write32(a->regs, IGBVF_IVAR_MISC, 0);
	return -1;
}

/* Link changes from a timer on the interrupt thread, for a VF whose mailbox
 * raises no interrupt. */
static int link_poll_start(struct igbvf *a)
{
	struct itimerspec it = { .it_interval = { 0, LINK_POLL_MS * 1000000L }, .it_value = { 0, LINK_POLL_MS * 1000000L } };
	a->poll_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (a->poll_fd < 0 || timerfd_settime(a->poll_fd, 0, &it, NULL) < 0) {
		int rc = -errno;
		BP_LOG(ERR, "%s: link poll timer: %s", a->eth->name, strerror(errno));
		return rc;
	}
	return bp_intr_callback_register(a->poll_fd, 8, vec0_intr, a);
}

/* MSI-X (datasheet, VTIVAR/VTIVAR_MISC, VTEIAC/VTEIAM): the mailbox's cause
 * to vector 0, rx queue q's to vector 1 + q. A queue's cause clears itself
 * (VTEIAC) and masks itself (VTEIAM) as its message goes out: an armed queue
 * fires once. With a single vector (bypass_uio gives a device one), the
 * mailbox and rx queue 0 share vector 0 and its handler tells them apart,
 * as the 82540EM's one line carries link and rx (../e1000): rx interrupts
 * for one queue there. */
static int intr_start(struct bp_eth_dev *dev)
{
	struct igbvf *a = dev->priv;
	struct bp_intr_handle *h = &a->pci->intr;
	uint16_t nrx = dev->conf.rx_intr ? dev->nb_rx_queues : 0;
	if (a->no_irq && dev->conf.rx_intr) {
		BP_LOG(ERR, "%s: rx interrupts need MSI-X, and a VF on uio_pci_generic has no interrupt at all (no "
			    "INTx pin); poll it, or bind it to vfio-pci or bypass_uio", dev->name);
		return -ENOTSUP;
	}
	if (a->no_irq) { /* link changes only: from the poll timer */
		a->intr_on = true;
		int rc = link_poll_start(a);
		if (rc < 0)
			intr_stop(a);
		else
			BP_LOG(INFO, "%s: no interrupt (uio_pci_generic): the link is polled every 250 ms", dev->name);
		return rc;
	}
	int rc = bp_pci_intr_enable(a->pci, (uint16_t)(1 + nrx));
	if (rc < 0)
		return rc;
	a->intr_on = true;
	if (h->nb_vec == 1 && nrx > 1) {
		BP_LOG(ERR, "%s: rx interrupts for %u queues need a vector each, and %s gives the VF one (shared by "
			    "the mailbox and rx queue 0): configure 1 rx queue, or bind it to vfio-pci",
		       dev->name, nrx, a->pci->kdriver);
		intr_stop(a);
		return -ENOTSUP;
	}
	a->shared = h->nb_vec == 1 && nrx == 1;
	if (!a->shared && (h->mode != BP_INTR_MSIX || h->nb_vec < 1 + nrx)) {
		BP_LOG(ERR, "%s: %s interrupts need MSI-X with %u vectors (the VF has 3; got %s with %u): bind it to "
			    "vfio-pci or bypass_uio, or poll it", dev->name, nrx ? "rx" : "link", 1 + nrx,
		       bp_intr_mode_name(h->mode), h->nb_vec);
		intr_stop(a);
		return -ENOTSUP;
	}
	int fd0 = bp_intr_fd(h, VEC_MBX);
	for (uint16_t v = 0; v < h->nb_vec && v < 1 + nrx; v++)
		bp_write32(a->regs, IGBVF_EITR(v), EITR_US << 2);
	int misc = -1;
	if (dev->conf.link_intr && (misc = mbx_vector_probe(a, fd0, h->read_len)) < -1) {
		intr_stop(a);
		return misc;
	}
	uint32_t ivar = 0, queues = 0;
	if (a->shared) {
		if ((rc = e1000_rx_wake_open(dev, &a->wake)) < 0) {
			intr_stop(a);
			return rc;
		}
		ivar = (IGBVF_IVAR_VALID | VEC_MBX) << IGBVF_IVAR_RX_SHIFT(0);
		queues = 1u << VEC_MBX; /* cleared as it goes; never masked by it: the mailbox needs it */
	}
	for (uint16_t q = 0; !a->shared && q < nrx; q++) {
		ivar |= (IGBVF_IVAR_VALID | VEC_RXQ(q)) << IGBVF_IVAR_RX_SHIFT(q);
		queues |= 1u << VEC_RXQ(q);
		dev->rx_intr_fd[q] = bp_intr_fd(h, VEC_RXQ(q));
	}
	bp_write32(a->regs, IGBVF_IVAR0, ivar);
	bp_write32(a->regs, IGBVF_EIAC, queues);
	bp_write32(a->regs, IGBVF_EIAM, a->shared ? 0 : queues);
	bp_write32(a->regs, IGBVF_EICR, 0x7); /* causes from before start */
	if (misc >= 0 || a->shared) {
		if ((rc = bp_intr_callback_register(fd0, h->read_len, vec0_intr, a)) < 0) {
			intr_stop(a);
			return rc;
		}
		a->vec0_cb = true;
	}
	if (dev->conf.link_intr) {
		if (misc < 0 && (rc = link_poll_start(a)) < 0) {
			intr_stop(a);
			return rc;
		}
		bp_write32(a->regs, IGBVF_EIMS, 1u << VEC_MBX);
	}
	BP_LOG(INFO, "%s: interrupts: %s %u vector%s%s%s", dev->name, bp_intr_mode_name(h->mode), h->nb_vec,
	       h->nb_vec == 1 ? "" : "s", a->shared ? ", the mailbox and rx queue 0 share vector 0" : "",
	       !dev->conf.link_intr ? ""
	       : misc == 0	    ? ", the mailbox on vector 0"
	       : misc == 1	    ? ", the mailbox on vector 0 through VTIVAR_MISC 1 (QEMU's igb reads it as a mask)"
				    : ", the mailbox raises no interrupt: the link is polled every 250 ms");
	return 0;
}

/* Arms queue q: its stale cause first, so only what comes now wakes it.
 * Sharing vector 0, the handler wakes it and looks at the ring first. */
static int igbvf_rx_intr_enable(struct bp_eth_dev *dev, uint16_t q)
{
	struct igbvf *a = dev->priv;
	if (a->shared) {
		e1000_rx_wake_arm(&a->wake, true);
		bp_write32(a->regs, IGBVF_EIMS, 1u << VEC_MBX);
		return 0;
	}
	bp_write32(a->regs, IGBVF_EICR, 1u << VEC_RXQ(q));
	bp_write32(a->regs, IGBVF_EIMS, 1u << VEC_RXQ(q));
	return 0;
}

static int igbvf_rx_intr_disable(struct bp_eth_dev *dev, uint16_t q)
{
	struct igbvf *a = dev->priv;
	if (a->shared) {
		e1000_rx_wake_arm(&a->wake, false);
		if (!dev->conf.link_intr)
			bp_write32(a->regs, IGBVF_EIMC, 1u << VEC_MBX);
		return 0;
	}
	bp_write32(a->regs, IGBVF_EIMC, 1u << VEC_RXQ(q));
	return 0;
}

/* ---- start, stop, close ---- */

static int igbvf_stop(struct bp_eth_dev *dev)
{
	struct igbvf *a = dev->priv;
	intr_stop(a);
	igb_queues_stop(dev, a->regs); /* VTSTATUS sits where the PF's STATUS does */
	a->started = false;
	dev->link.up = 0;
	return 0;
}

static int igbvf_start(struct bp_eth_dev *dev)
{
	struct igbvf *a = dev->priv;
	pthread_mutex_lock(&a->lock);
	int rc = vf_reset_locked(a, false);
	pthread_mutex_unlock(&a->lock);
	if (rc < 0)
		return rc;
	if ((rc = igb_queues_start(dev)) < 0)
		return rc;
	e1000_rx_give(dev);
	if (dev->conf.rx_intr || dev->conf.link_intr) {
		if ((rc = intr_start(dev)) < 0) {
			igbvf_stop(dev);
			return rc;
		}
	}
	a->started = true;
	return igbvf_link_update(dev, 0);
}

static void igbvf_close(struct bp_eth_dev *dev)
{
	struct igbvf *a = dev->priv;
	/* The VF's reset stops its queues and tells the PF we are gone. */
	bp_write32(a->regs, IGBVF_CTRL, IGBVF_CTRL_RST);
	a->pci->drv_data = NULL;
	pthread_mutex_destroy(&a->lock);
	free(a);
	dev->priv = NULL;
}

/* ---- the port's settings, asked of the PF ---- */

static int igbvf_mac_addr_set(struct bp_eth_dev *dev, const struct bp_ether_addr *mac)
{
	struct igbvf *a = dev->priv;
	pthread_mutex_lock(&a->lock);
	int rc = igb_mbx_set_mac(&a->mbx, mac->b);
	pthread_mutex_unlock(&a->lock);
	if (rc == -EPERM) {
		char s[32];
		bp_ether_format_addr(s, sizeof(s), mac);
		BP_LOG(ERR, "%s: the PF refused the address %s: the administrator set this VF's address on the PF "
			    "(ip link show PF lists it; ip link set PF vf N mac ADDR changes it)", dev->name, s);
	}
	return rc;
}

/* The PF's igb never lets a VF see other stations' unicast frames; the
 * nearest it allows is every multicast frame. */
static int igbvf_promisc(struct bp_eth_dev *dev, int on)
{
	struct igbvf *a = dev->priv;
	pthread_mutex_lock(&a->lock);
	int rc = igb_mbx_set_allmulti(&a->mbx, on);
	pthread_mutex_unlock(&a->lock);
	if (on && rc == 0) {
		BP_LOG(NOTICE, "%s: a VF cannot be promiscuous (its PF passes it only its own address); it now gets "
			       "every multicast frame as well", dev->name);
		return -ENOTSUP;
	}
	return rc;
}

static struct igbvf *vf_port(uint16_t port)
{
	struct bp_eth_dev *dev = bp_eth_dev_get(port);
	if (!dev || !dev->driver_name || strcmp(dev->driver_name, DRIVER_NAME) != 0 || !dev->priv)
		return NULL;
	return dev->priv;
}

int bp_igbvf_mc_addr_list_set(uint16_t port, const struct bp_ether_addr *addrs, uint32_t n)
{
	struct igbvf *a = vf_port(port);
	if (!a || n > IGBVF_MAX_MC_HASHES) {
		BP_LOG(ERR, "port %u: %s", port, a ? "at most 30 multicast addresses (the PF's limit for a VF)"
						  : "not an 82576 VF port");
		return -EINVAL;
	}
	uint8_t list[IGBVF_MAX_MC_HASHES][6];
	for (uint32_t i = 0; i < n; i++)
		memcpy(list[i], addrs[i].b, 6);
	pthread_mutex_lock(&a->lock);
	int rc = igb_mbx_set_multicast(&a->mbx, (const uint8_t(*)[6])list, n);
	if (rc == 0 || rc == -ENETRESET) { /* kept for the next VF reset either way */
		memcpy(a->mc, addrs, n * sizeof(*addrs));
		a->nb_mc = n;
		rc = 0;
	}
	pthread_mutex_unlock(&a->lock);
	return rc;
}

int bp_igbvf_stats_get(uint16_t port, struct bp_igbvf_stats *st)
{
	struct igbvf *a = vf_port(port);
	if (!a)
		return -EINVAL;
	pthread_mutex_lock(&a->lock);
	stats_accumulate_locked(a);
	*st = (struct bp_igbvf_stats){
		.rx_packets = a->st_total[ST_GPRC], .tx_packets = a->st_total[ST_GPTC],
		.rx_bytes = a->st_total[ST_GORC], .tx_bytes = a->st_total[ST_GOTC],
		.rx_multicast = a->st_total[ST_MPRC],
		.rx_local_packets = a->st_total[ST_GPRLBC], .tx_local_packets = a->st_total[ST_GPTLBC],
		.rx_local_bytes = a->st_total[ST_GORLBC], .tx_local_bytes = a->st_total[ST_GOTLBC],
	};
	pthread_mutex_unlock(&a->lock);
	return 0;
}

/* The hardware's view adds nothing to ethdev's exact software counters;
 * the read keeps the 64-bit totals current (bp_igbvf_stats_get). */
static int igbvf_stats_get(struct bp_eth_dev *dev, struct bp_eth_stats *st)
{
	struct igbvf *a = dev->priv;
	(void)st;
	pthread_mutex_lock(&a->lock);
	stats_accumulate_locked(a);
	pthread_mutex_unlock(&a->lock);
	return 0;
}

/* ---- queues ---- */

static int igbvf_rxq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb, struct bp_mempool *mp)
{
	struct igbvf *a = dev->priv;
	return e1000_rxq_init(dev, q, nb, mp, (volatile char *)a->regs + IGBVF_RDBAL(q));
}

static int igbvf_txq_setup(struct bp_eth_dev *dev, uint16_t q, uint16_t nb)
{
	struct igbvf *a = dev->priv;
	return e1000_txq_init(dev, q, nb, (volatile char *)a->regs + IGBVF_TDBAL(q));
}

static void igbvf_info(struct bp_eth_dev *dev, struct bp_eth_dev_info *info)
{
	(void)dev;
	info->dma = true; /* the NIC writes the buffers by IOVA */
	info->max_rx_queues = info->max_tx_queues = IGBVF_MAX_QUEUES;
	info->rx_desc_min = info->tx_desc_min = E1000_RING_MIN;
	info->rx_desc_max = info->tx_desc_max = E1000_RING_MAX;
	info->max_rx_pktlen = MAX_FRAME;
	info->min_rx_bufsize = IGB_RX_BUF_SIZE;
	/* no RSS of its own: the PF spreads a pool's frames over its queues */
}

static const struct bp_eth_dev_ops igbvf_ops = {
	.start = igbvf_start,
	.stop = igbvf_stop,
	.close = igbvf_close,
	.info_get = igbvf_info,
	.rx_queue_setup = igbvf_rxq_setup,
	.tx_queue_setup = igbvf_txq_setup,
	.rx_queue_release = e1000_rxq_release,
	.tx_queue_release = e1000_txq_release,
	.link_update = igbvf_link_update,
	.stats_get = igbvf_stats_get,
	.promiscuous_set = igbvf_promisc,
	.mac_addr_set = igbvf_mac_addr_set,
	.rx_intr_enable = igbvf_rx_intr_enable,
	.rx_intr_disable = igbvf_rx_intr_disable,
	.rx_queue_count = igb_rx_queue_count,
};

/* ---- probe ---- */

static int igbvf_probe(struct bp_pci_device *pci)
{
	if (!pci->bar[0].va || pci->bar[0].len < IGBVF_BAR0_LEN) {
		BP_LOG(ERR, "%s: BAR0 (registers) is not mapped", pci->addr);
		return -ENODEV;
	}
	struct igbvf *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->pci = pci;
	a->regs = pci->bar[0].va;
	a->poll_fd = a->wake.fd = -1;
	pthread_mutex_init(&a->lock, NULL);
	igb_mbx_init(&a->mbx, a->regs, pci->addr);
	if (pci->access == BP_PCI_UIO && !strcmp(pci->kdriver, "uio_pci_generic")) {
		a->no_irq = true;
		BP_LOG(WARNING, "%s: a VF has no INTx pin, so uio_pci_generic gives it no interrupt (no rx interrupts; "
				"its link is polled); poll mode works; vfio-pci or bypass_uio give it MSI-X", pci->addr);
	}
	if (!(a->eth = bp_eth_dev_allocate(pci->addr))) {
		int rc = -errno;
		free(a);
		return rc;
	}
	pthread_mutex_lock(&a->lock);
	int rc = vf_reset_locked(a, true);
	for (unsigned i = 0; rc == 0 && i < ST_N; i++) /* the counters count from here */
		a->st_last[i] = bp_read32(a->regs, st_regs[i]);
	pthread_mutex_unlock(&a->lock);
	if (rc < 0) {
		bp_write32(a->regs, IGBVF_CTRL, IGBVF_CTRL_RST);
		bp_eth_dev_release(a->eth);
		pthread_mutex_destroy(&a->lock);
		free(a);
		return rc;
	}
	struct bp_eth_dev *dev = a->eth;
	dev->priv = a;
	dev->ops = &igbvf_ops;
	dev->driver_name = DRIVER_NAME;
	dev->rx_burst = igb_rx;
	dev->tx_burst = igb_tx;
	pci->drv_data = a;
	char mac[32];
	bp_ether_format_addr(mac, sizeof(mac), &dev->mac);
	BP_LOG(INFO, "%s: 82576 VF, MAC %s (%s), port %u", pci->addr, mac,
	       a->mac_from_pf ? "from the PF" : "ours: the PF has none for this VF", dev->port_id);
	return 0;
}

static void igbvf_remove(struct bp_pci_device *pci)
{
	struct igbvf *a = pci->drv_data;
	if (a)
		bp_eth_dev_close(a->eth->port_id);
}

static void igbvf_removed(struct bp_pci_device *pci)
{
	struct igbvf *a = pci->drv_data;
	if (a)
		bp_eth_dev_removed(a->eth);
}

static const struct bp_pci_id igbvf_ids[] = {
	{ 0x8086, 0x10ca }, /* 82576 virtual function (QEMU igbvf) */
	{ 0, 0 },
};

const struct bp_pci_driver bp_pci_net_igbvf = {
	.name = DRIVER_NAME,
	.ids = igbvf_ids,
	.probe = igbvf_probe,
	.remove = igbvf_remove,
	.removed = igbvf_removed,
};
