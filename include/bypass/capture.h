/* SPDX-License-Identifier: MIT
 * Capture on any port, without a second process: what a port receives or
 * sends is copied on the data path into a ring and written as pcapng by a
 * thread of the capture's own, for tshark or Wireshark.
 *
 *   bp_capture_start(0, BP_CAPTURE_ALL_QUEUES, BP_CAPTURE_BOTH, "port0.pcapng", 0, 0);
 *   ... traffic ...
 *   bp_capture_stop(0, &st);   // st.written, st.dropped
 *
 * The cost when no capture runs: one load and one branch per burst, in
 * bp_eth_rx_burst / bp_eth_tx_burst (the port's bp_eth_fp.capture). While one
 * runs, each burst takes a timestamp and copies up to snaplen bytes of each
 * frame into its queue's ring (one ring per queue and direction: one
 * producer each, no lock). A frame that finds its ring full is not captured
 * and counted as dropped; forwarding never waits for the file. tx frames are
 * captured only if the port took them (tx bursts are then handed to the
 * driver 64 frames at a time). Records of different rings reach the file in
 * the order the writer drains them, each with its own time.
 *
 * One capture per port at a time; it outlives a stop or close of the port
 * until bp_capture_stop (bp_cleanup stops any left).
 */
#ifndef BYPASS_CAPTURE_H
#define BYPASS_CAPTURE_H

#include <stdint.h>

#define BP_CAPTURE_RX 1u
#define BP_CAPTURE_TX 2u
#define BP_CAPTURE_BOTH (BP_CAPTURE_RX | BP_CAPTURE_TX)
#define BP_CAPTURE_ALL_QUEUES UINT16_MAX
#define BP_CAPTURE_RING_KB 4096 /* per queue and direction, by default */

struct bp_capture_stats {
	uint64_t written; /* frames in the file */
	uint64_t dropped; /* frames not captured: their ring was full */
};

/* Captures port's queue (or every queue) in dir (BP_CAPTURE_RX/TX/BOTH) into
 * a new pcapng file, snaplen bytes of each frame at most (0: all), and stops
 * writing after count frames (0: no limit). 0 or negative errno (logged). */
int bp_capture_start(uint16_t port, uint16_t queue, unsigned dir, const char *file, uint32_t snaplen,
		     uint64_t count);
/* The same from a spec, as testpmd's --capture takes it:
 * "PORT:FILE[,count=N][,dir=rx|tx|both][,queue=Q][,snaplen=N][,ring_kb=N]".
 * *port is the captured port. */
int bp_capture_start_spec(const char *spec, uint16_t *port);
/* Stops the capture, writes what its rings hold, closes the file (with an
 * Interface Statistics Block giving the drops) and fills *st (may be NULL).
 * 0, or -ENOENT if port has no capture. */
int bp_capture_stop(uint16_t port, struct bp_capture_stats *st);
/* The counts so far, while it runs. */
int bp_capture_stats_get(uint16_t port, struct bp_capture_stats *st);
/* Stops every capture (bp_cleanup). */
void bp_capture_stop_all(void);

#endif
