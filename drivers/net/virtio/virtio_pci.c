/* SPDX-License-Identifier: MIT
 * virtio-net over PCI (virtio 1.2 §4.1): the modern interface, found through
 * vendor capabilities in config space and reached through memory BARs
 * (§4.1.4), and the legacy interface, registers in I/O-port BAR 0 (§4.1.4.10).
 * Whichever way, the rings are the same; under vfio-pci with an IOMMU the
 * device must translate our addresses (VIRTIO_F_ACCESS_PLATFORM, QEMU's
 * iommu_platform=on), or it would read guest-physical memory at our IOVAs.
 *
 * Interrupts (modern, MSI-X: vfio-pci or bypass_uio): vector 0 for
 * configuration changes — the link, read from the status field (§5.1.4) —
 * and vector 1 + q for rx queue q (§4.1.5.1.2); tx queues raise none. The
 * legacy interface polls (rx interrupts are refused at configure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <bypass/log.h>
#include <bypass/mem.h>
#include <bypass/pci.h>
#include "virtio.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_NET_MODERN 0x1041  /* 0x1040 + device type 1 (§4.1.2.1) */
#define VIRTIO_PCI_NET_LEGACY 0x1000  /* transitional; subsystem device 1 = network */

/* Vendor capability (§4.1.4) */
#define PCI_CAP_ID_VNDR 0x09
enum { CAP_COMMON = 1, CAP_NOTIFY = 2, CAP_ISR = 3, CAP_DEVICE = 4 };

/* Common configuration (§4.1.4.3) */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0c
#define COMMON_MSIX 0x10
#define COMMON_NUMQ 0x12
#define COMMON_STATUS 0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF 0x1e
#define COMMON_Q_DESCLO 0x20
#define COMMON_Q_AVAILLO 0x28
#define COMMON_Q_USEDLO 0x30
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Legacy registers in BAR 0 (§4.1.4.10), device config after them at 20
 * without MSI-X */
#define LEG_HOST_FEATURES 0x00
#define LEG_GUEST_FEATURES 0x04
#define LEG_QUEUE_PFN 0x08
#define LEG_QUEUE_NUM 0x0c
#define LEG_QUEUE_SEL 0x0e
#define LEG_QUEUE_NOTIFY 0x10
#define LEG_STATUS 0x12
#define LEG_ISR 0x13
#define LEG_CONFIG 0x14
#define LEG_PFN_SHIFT 12

struct vpci {
	struct bp_pci_device *pci;
	bool legacy;
	bool config_cb; /* the link callback is on vector 0 */
	bool link_up;   /* as last read, for the link callback */
	volatile uint8_t *common, *notify, *device;
	uint32_t notify_mult;
	uint64_t offered;
};

/* ---- modern: memory-mapped registers ---- */
static inline void w8(volatile uint8_t *b, uint32_t o, uint8_t v) { __atomic_store_n(&b[o], v, __ATOMIC_SEQ_CST); }
static inline uint8_t r8(volatile uint8_t *b, uint32_t o) { return __atomic_load_n(&b[o], __ATOMIC_SEQ_CST); }
static inline void w16(volatile uint8_t *b, uint32_t o, uint16_t v) { __atomic_store_n((volatile uint16_t *)(b + o), v, __ATOMIC_SEQ_CST); }
static inline uint16_t r16(volatile uint8_t *b, uint32_t o) { return __atomic_load_n((volatile uint16_t *)(b + o), __ATOMIC_SEQ_CST); }
static inline void w32(volatile uint8_t *b, uint32_t o, uint32_t v) { __atomic_store_n((volatile uint32_t *)(b + o), v, __ATOMIC_SEQ_CST); }
static inline uint32_t r32(volatile uint8_t *b, uint32_t o) { return __atomic_load_n((volatile uint32_t *)(b + o), __ATOMIC_SEQ_CST); }
static inline void w64(volatile uint8_t *b, uint32_t o, uint64_t v) /* two halves (§4.1.3.1) */
{
	w32(b, o, (uint32_t)v);
	w32(b, o + 4, (uint32_t)(v >> 32));
}

/* ---- legacy: port I/O through lib/pci ---- */
static uint32_t lr(struct vpci *p, uint32_t off, uint32_t len)
{
	uint32_t v = 0;
	bp_pci_bar_read(p->pci, 0, off, &v, len);
	return v;
}
static void lw(struct vpci *p, uint32_t off, uint32_t v, uint32_t len)
{
	bp_pci_bar_write(p->pci, 0, off, &v, len);
}

static uint8_t get_status(struct vpci *p) { return p->legacy ? (uint8_t)lr(p, LEG_STATUS, 1) : r8(p->common, COMMON_STATUS); }
static void set_status(struct vpci *p, uint8_t s)
{
	if (p->legacy)
		lw(p, LEG_STATUS, s, 1);
	else
		w8(p->common, COMMON_STATUS, s);
}

/* Device reset (§2.4.1 / §4.1.4.3.2): write 0, wait until it reads 0. */
static int reset(struct vpci *p)
{
	set_status(p, 0);
	for (int i = 0; i < 10000; i++) {
		if (get_status(p) == 0)
			return 0;
		usleep(100);
	}
	BP_LOG(ERR, "%s: the virtio device did not reset within 1 s", p->pci->addr);
	return -ETIMEDOUT;
}

static void cfg_read(struct vpci *p, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *b = buf;
	for (uint32_t i = 0; i < len; i++)
		b[i] = p->legacy ? (uint8_t)lr(p, LEG_CONFIG + off + i, 1) : r8(p->device, off + i);
}

static uint64_t pci_features(struct virtio_dev *vd)
{
	return ((struct vpci *)vd->tr_priv)->offered;
}

static uint16_t pci_queue_max(struct virtio_dev *vd, uint16_t index)
{
	struct vpci *p = vd->tr_priv;
	if (p->legacy) {
		lw(p, LEG_QUEUE_SEL, index, 2);
		return (uint16_t)lr(p, LEG_QUEUE_NUM, 2);
	}
	w16(p->common, COMMON_Q_SELECT, index);
	return r16(p->common, COMMON_Q_SIZE);
}

static void legacy_notify(struct virtqueue *vq)
{
	struct vpci *p = vq->dev->tr_priv;
	lw(p, LEG_QUEUE_NOTIFY, vq->index, 2);
}

static int pci_link(struct virtio_dev *vd, bool *up)
{
	struct vpci *p = vd->tr_priv;
	if (!(vd->features & VIRTIO_BIT(VIRTIO_NET_F_STATUS))) {
		*up = true; /* no status field: always up (§5.1.4) */
		return 0;
	}
	uint16_t st;
	cfg_read(p, VIRTIO_NET_CFG_STATUS, &st, sizeof(st));
	*up = st & VIRTIO_NET_S_LINK_UP;
	return 0;
}

/* A configuration change (vector 0): the link may have moved. */
static void on_config(void *arg)
{
	struct virtio_dev *vd = arg;
	struct vpci *p = vd->tr_priv;
	bool up;
	if (p->legacy)
		return;
	(void)r8(p->common, COMMON_STATUS); /* nothing to acknowledge with MSI-X (§4.1.4.5) */
	if (pci_link(vd, &up) == 0 && up != p->link_up) {
		p->link_up = up;
		virtio_link_changed(vd, up); /* last: a callback may close the port */
	}
}

/* MSI-X vectors for what the port was configured with; 0 or negative errno. */
static int intr_setup(struct virtio_dev *vd, bool *use_rx, bool *use_link)
{
	struct vpci *p = vd->tr_priv;
	const struct bp_eth_conf *c = &vd->eth->conf;
	*use_rx = c->rx_intr && !p->legacy; /* configure refused rx_intr on legacy */
	*use_link = c->link_intr && !p->legacy;
	if (!*use_rx && !*use_link)
		return 0;
	/* the link alone takes vector 0: bypass_uio's single MSI-X vector does */
	unsigned want = *use_rx ? 1u + vd->eth->nb_rx_queues : 1u;
	int rc = bp_pci_intr_enable(p->pci, (uint16_t)want);
	bool msix = rc == 0 && p->pci->intr.mode == BP_INTR_MSIX && p->pci->intr.nb_vec >= want;
	if (msix)
		return 0;
	if (rc == 0)
		bp_pci_intr_disable(p->pci);
	if (*use_rx) {
		BP_LOG(ERR, "%s: virtio rx interrupts need MSI-X with %u vectors (one for the link, one per rx "
			    "queue): bind the device to vfio-pci (UIO has one vector), or poll it",
		       p->pci->addr, want);
		return -ENOTSUP;
	}
	BP_LOG(NOTICE, "%s: no MSI-X here: the link is read when asked, not announced", p->pci->addr);
	*use_link = false;
	return 0;
}

/* Driver initialisation (§3.1.1), then the queues (§4.1.5.1.3), then go. */
static int pci_start(struct virtio_dev *vd)
{
	struct vpci *p = vd->tr_priv;
	bool use_rx = false, use_link = false;
	int rc;
	if ((rc = reset(p)) < 0)
		return rc;
	set_status(p, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(p, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	uint8_t st = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
	if (p->legacy) {
		lw(p, LEG_GUEST_FEATURES, (uint32_t)vd->features, 4);
	} else {
		w32(p->common, COMMON_GFSELECT, 0);
		w32(p->common, COMMON_GF, (uint32_t)vd->features);
		w32(p->common, COMMON_GFSELECT, 1);
		w32(p->common, COMMON_GF, (uint32_t)(vd->features >> 32));
		st |= VIRTIO_STATUS_FEATURES_OK;
		set_status(p, st);
		if (!(get_status(p) & VIRTIO_STATUS_FEATURES_OK)) {
			BP_LOG(ERR, "%s: the device refused the features %#llx", p->pci->addr,
			       (unsigned long long)vd->features);
			set_status(p, VIRTIO_STATUS_FAILED);
			return -ENOTSUP;
		}
	}
	if ((rc = intr_setup(vd, &use_rx, &use_link)) < 0)
		return rc;
	for (uint16_t i = 0; i < vd->nb_vq; i++) {
		struct virtqueue *vq = vd->vq[i];
		if (p->legacy) {
			lw(p, LEG_QUEUE_SEL, i, 2);
			lw(p, LEG_QUEUE_PFN, (uint32_t)(vq->desc_iova >> LEG_PFN_SHIFT), 4);
			vq->notify_addr = NULL;
			continue;
		}
		w16(p->common, COMMON_Q_SELECT, i);
		w16(p->common, COMMON_Q_SIZE, vq->nb);
		uint16_t vec = use_rx && !vq->is_tx ? (uint16_t)(1 + i / 2) : VIRTIO_MSI_NO_VECTOR;
		w16(p->common, COMMON_Q_MSIX, vec);
		if (r16(p->common, COMMON_Q_MSIX) != vec) { /* §4.1.5.1.2.1: NO_VECTOR if refused */
			BP_LOG(ERR, "%s: the device refused MSI-X vector %u for queue %u", p->pci->addr, vec, i);
			bp_pci_intr_disable(p->pci);
			return -EIO;
		}
		if (vec != VIRTIO_MSI_NO_VECTOR)
			vd->eth->rx_intr_fd[i / 2] = bp_intr_fd(&p->pci->intr, vec);
		w64(p->common, COMMON_Q_DESCLO, vq->desc_iova);
		w64(p->common, COMMON_Q_AVAILLO, vq->avail_iova);
		w64(p->common, COMMON_Q_USEDLO, vq->used_iova);
		vq->notify_addr = (volatile uint16_t *)(p->notify + (uint32_t)r16(p->common, COMMON_Q_NOFF) * p->notify_mult);
		w16(p->common, COMMON_Q_ENABLE, 1);
	}
	if (!p->legacy)
		w16(p->common, COMMON_MSIX, use_link ? 0 : VIRTIO_MSI_NO_VECTOR);
	set_status(p, st | VIRTIO_STATUS_DRIVER_OK);
	bool up;
	pci_link(vd, &up);
	vd->eth->link.up = up;
	p->link_up = up;
	const struct bp_intr_handle *h = &p->pci->intr; /* eventfd (vfio) or /dev/uioN: read_len says */
	if (use_link && bp_intr_callback_register(bp_intr_fd(h, 0), h->read_len, on_config, vd) == 0)
		p->config_cb = true;
	return 0;
}

static void pci_stop(struct virtio_dev *vd)
{
	struct vpci *p = vd->tr_priv;
	if (p->config_cb) /* when it returns, on_config is not running */
		bp_intr_callback_unregister(bp_intr_fd(&p->pci->intr, 0), on_config, vd);
	p->config_cb = false;
	reset(p); /* the device lets go of every ring */
	bp_pci_intr_disable(p->pci);
	for (uint16_t i = 0; i < vd->nb_vq; i++)
		if (vd->vq[i])
			vd->vq[i]->notify_addr = NULL;
}

static void pci_close(struct virtio_dev *vd)
{
	struct vpci *p = vd->tr_priv;
	reset(p);
	p->pci->drv_data = NULL;
	free(p);
}

static const struct virtio_transport modern_transport = {
	.name = "virtio-pci (modern)",
	.features = pci_features,
	.queue_max = pci_queue_max,
	.start = pci_start,
	.stop = pci_stop,
	.close = pci_close,
	.link = pci_link,
	.hdr_len = VIRTIO_NET_HDR_LEN,
	.used_align = BP_CACHE_LINE,
};

static const struct virtio_transport legacy_transport = {
	.name = "virtio-pci (legacy)",
	.features = pci_features,
	.queue_max = pci_queue_max,
	.start = pci_start,
	.stop = pci_stop,
	.close = pci_close,
	.notify = legacy_notify,
	.link = pci_link,
	.hdr_len = 10, /* no num_buffers without MRG_RXBUF (§5.1.6.1) */
	.used_align = 4096, /* the legacy layout (§2.7, "Legacy Interfaces") */
	.fixed_size = true,
	.no_rx_intr = true,
};

/* The modern capabilities (§4.1.4): where each structure lives. */
static int find_caps(struct vpci *p)
{
	struct bp_pci_device *d = p->pci;
	uint8_t pos = 0;
	uint16_t status = 0;
	bp_pci_cfg_read(d, 0x06, &status, 2);
	if (!(status & 0x10)) /* no capability list (PCI 3.0 §6.2.3) */
		return -ENODEV;
	bp_pci_cfg_read(d, 0x34, &pos, 1);
	for (int guard = 0; pos && guard < 48; guard++) {
		uint8_t cap[16];
		if (bp_pci_cfg_read(d, pos, cap, sizeof(cap)) < 0)
			return -EIO;
		if (cap[0] == PCI_CAP_ID_VNDR) {
			uint8_t type = cap[3], bar = cap[4];
			uint32_t off, len;
			memcpy(&off, &cap[8], 4);
			memcpy(&len, &cap[12], 4);
			if (bar < BP_PCI_MAX_BARS && d->bar[bar].va && (uint64_t)off + len <= d->bar[bar].len) {
				volatile uint8_t *va = (volatile uint8_t *)d->bar[bar].va + off;
				if (type == CAP_COMMON && !p->common)
					p->common = va;
				else if (type == CAP_DEVICE && !p->device)
					p->device = va;
				else if (type == CAP_NOTIFY && !p->notify) {
					p->notify = va;
					bp_pci_cfg_read(d, pos + 16, &p->notify_mult, 4);
				}
			}
		}
		pos = cap[1];
	}
	if (!p->common || !p->notify || !p->device) {
		BP_LOG(ERR, "%s: a virtio device without its common, notify and device capabilities in "
			    "mapped BARs", d->addr);
		return -ENODEV;
	}
	return 0;
}

static int virtio_pci_probe(struct bp_pci_device *d)
{
	if (d->id.device == VIRTIO_PCI_NET_LEGACY && d->sub_device != 1)
		return -ENODEV; /* a transitional device of another type */
	struct vpci *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pci = d;
	p->legacy = d->id.device == VIRTIO_PCI_NET_LEGACY;
	int rc = p->legacy ? 0 : find_caps(p);
	if (rc < 0 || (rc = reset(p)) < 0)
		goto fail;
	set_status(p, VIRTIO_STATUS_ACKNOWLEDGE);
	set_status(p, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	if (p->legacy) {
		p->offered = lr(p, LEG_HOST_FEATURES, 4);
	} else {
		w32(p->common, COMMON_DFSELECT, 0);
		p->offered = r32(p->common, COMMON_DF);
		w32(p->common, COMMON_DFSELECT, 1);
		p->offered |= (uint64_t)r32(p->common, COMMON_DF) << 32;
	}
	if (d->access == BP_PCI_VFIO && bp_mem_iova_mode() == BP_IOVA_VA &&
	    !(p->offered & VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM))) {
		BP_LOG(ERR, "%s: behind the IOMMU, but the virtio device does not translate addresses "
			    "(no ACCESS_PLATFORM): give it iommu_platform=on (QEMU), or bind it to "
			    "uio_pci_generic", d->addr);
		rc = -ENOTSUP;
		goto fail;
	}
	struct bp_ether_addr mac;
	struct bp_ether_addr *macp = NULL;
	if (p->offered & VIRTIO_BIT(VIRTIO_NET_F_MAC)) {
		cfg_read(p, VIRTIO_NET_CFG_MAC, mac.b, sizeof(mac.b));
		macp = &mac;
	}
	struct virtio_port_args a = { .name = d->addr, .queues = 1, .in_order = -1, .event_idx = -1,
				      .packed = -1, .mac = macp };
	struct virtio_dev *vd;
	if ((rc = virtio_port_create(p->legacy ? &legacy_transport : &modern_transport, p, &a, &vd)) < 0)
		goto fail;
	d->drv_data = vd;
	BP_LOG(INFO, "%s: virtio-net, %s interface", d->addr, p->legacy ? "legacy" : "modern");
	return 0;
fail:
	free(p);
	return rc;
}

static void virtio_pci_remove(struct bp_pci_device *d)
{
	struct virtio_dev *vd = d->drv_data;
	if (vd)
		bp_eth_dev_close(vd->eth->port_id);
}

static const struct bp_pci_id virtio_ids[] = {
	{ VIRTIO_PCI_VENDOR, VIRTIO_PCI_NET_MODERN },
	{ VIRTIO_PCI_VENDOR, VIRTIO_PCI_NET_LEGACY },
	{ 0, 0 },
};

const struct bp_pci_driver bp_pci_net_virtio = {
	.name = "net_virtio",
	.ids = virtio_ids,
	.probe = virtio_pci_probe,
	.remove = virtio_pci_remove,
};
