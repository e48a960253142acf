/* SPDX-License-Identifier: MIT
 * A vhost-user backend as a device model: the other end of the virtio PMD's
 * net_virtio_user port, in the test process. A thread answers the protocol on
 * a UNIX socket (features, memory table — mapped from the fds the driver
 * passes, as a real backend does —, rings, enable, GET_VRING_BASE); the test
 * moves frames itself, when it chooses and as many as it chooses, so that it
 * can fill a ring to the last descriptor, be slow, complete out of order,
 * report an in-order batch with one used entry, or vanish.
 */
#ifndef BYPASS_TEST_VHOST_MODEL_H
#define BYPASS_TEST_VHOST_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include "model.h"

struct vmodel;

struct vmodel_conf {
	uint64_t features;   /* virtio features offered (VERSION_1 at least) */
	uint16_t queue_pairs;
	bool reply_ack;      /* offer REPLY_ACK */
};

/* Listens on path; NULL on failure. */
struct vmodel *vmodel_create(const char *path, const struct vmodel_conf *c);
void vmodel_destroy(struct vmodel *m);

/* Device work: up to budget frames from tx queue q to m->out, or from m->in
 * into rx queue q. Returns the frames moved. */
unsigned vmodel_tx(struct vmodel *m, uint16_t q, unsigned budget);
unsigned vmodel_rx(struct vmodel *m, uint16_t q, unsigned budget);
/* What a device polling the ring would see now, taking nothing: the
 * descriptors available from its position on (split: available entries) in
 * tx queue q (tx = true) or rx queue q. Safe on another thread than the
 * driver's, as a real device is. */
unsigned vmodel_peek(struct vmodel *m, uint16_t q, bool tx);
/* Closes the connection, as a backend that exits; a new one is accepted. */
void vmodel_hangup(struct vmodel *m);

struct vmodel {
	struct frame_queue out; /* frames the driver sent, without the net header */
	struct frame_queue in;  /* frames for the driver to receive */
	/* behaviour */
	bool reverse;       /* complete each batch in reverse order (no IN_ORDER) */
	bool one_used;      /* IN_ORDER tx: one used entry per batch, its last */
	bool want_kicks;    /* ask for notifications (else: we poll) */
	/* what it saw */
	uint64_t negotiated;
	unsigned nregions;
	uint64_t kicks, calls, faults, stops, connections;
	uint64_t rx_new_addrs; /* split rx: a descriptor used with another buffer than the last time */
	uint64_t bad_headers; /* tx frames whose net header was not all zero (§5.1.6.2) */
	struct vmodel_state *st; /* the rest, in vhost_model.c */
};

#endif
