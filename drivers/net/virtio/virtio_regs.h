/* SPDX-License-Identifier: MIT
 * virtio-net as the virtio 1.2 specification lays it out: feature bits,
 * device status, the split virtqueue and the net header. All fields are
 * little-endian (§2.4: a VERSION_1 device uses the driver's ring in LE; this
 * driver builds only for little-endian hosts, see virtio.h).
 */
#ifndef BYPASS_VIRTIO_REGS_H
#define BYPASS_VIRTIO_REGS_H

#include <stdint.h>

/* Device status field (§2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* Feature bits: device independent (§6), net device (§5.1.3) */
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_BIT(b) (1ull << (b))

/* Net device configuration layout (§5.1.4) */
#define VIRTIO_NET_CFG_MAC 0          /* u8[6], with VIRTIO_NET_F_MAC */
#define VIRTIO_NET_CFG_STATUS 6       /* le16, with VIRTIO_NET_F_STATUS */
#define VIRTIO_NET_CFG_MAX_QUEUE_PAIRS 8 /* le16, with VIRTIO_NET_F_MQ */
#define VIRTIO_NET_S_LINK_UP 1

/* Split virtqueue (§2.7). Alignment: descriptor table 16, available ring 2,
 * used ring 4 (§2.7, table "Virtqueue Part Alignment"). */
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1 /* §2.7.7 */
#define VRING_USED_F_NO_NOTIFY 1     /* §2.7.10 */

struct vring_desc { /* §2.7.5 */
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct vring_avail { /* §2.7.6; used_event follows ring[num] (EVENT_IDX) */
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];
};

struct vring_used_elem { /* §2.7.8 */
	uint32_t id;
	uint32_t len;
};

struct vring_used { /* §2.7.8; avail_event follows ring[num] (EVENT_IDX) */
	uint16_t flags;
	uint16_t idx;
	struct vring_used_elem ring[];
};

/* §2.7.7.2 / §2.7.10.1: with EVENT_IDX, the other side wants a notification
 * when the index moves from old past event: (new - event - 1) < (new - old),
 * all in 16-bit arithmetic. */
static inline int vring_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

/* Packed virtqueue (§2.8): one ring of descriptors that both sides write.
 * A descriptor is available when its AVAIL bit equals the driver's wrap
 * counter and its USED bit does not; the device marks it used by setting
 * both to its own wrap counter (§2.8.1). */
#define VRING_PACKED_DESC_F_AVAIL (1u << 7)
#define VRING_PACKED_DESC_F_USED (1u << 15)

struct vring_packed_desc { /* §2.8.13 */
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	uint16_t flags;
};

/* Event suppression (§2.8.10, §2.8.14): the driver's area tells the device
 * when to interrupt us, the device's area when to kick it. */
#define VRING_PACKED_EVENT_ENABLE 0
#define VRING_PACKED_EVENT_DISABLE 1
#define VRING_PACKED_EVENT_DESC 2 /* at off_wrap; needs EVENT_IDX */
struct vring_packed_event {
	uint16_t off_wrap; /* bits 0-14: descriptor index, bit 15: wrap counter */
	uint16_t flags;
};

/* Net header (§5.1.6). With VERSION_1 it is always 12 bytes (num_buffers
 * included, MRG_RXBUF or not). It precedes every frame, in both directions. */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));
#define VIRTIO_NET_HDR_LEN 12
_Static_assert(sizeof(struct virtio_net_hdr) == VIRTIO_NET_HDR_LEN, "virtio 1.2 §5.1.6");

#endif
