/* SPDX-License-Identifier: MIT
 * A pcapng writer of our own: the few blocks a capture needs, written in
 * the host's byte order (the Section Header says which), buffered, with
 * write(2) when the buffer fills.
 *
 * The format is the IETF's "PCAP Now Generic (pcapng) Capture File Format"
 * (draft-ietf-opsawg-pcapng): §3.1 the general block layout (type, total
 * length, body padded to 32 bits, total length again), §3.5 options (code,
 * length, value padded to 32 bits, opt_endofopt last), §4.1 Section Header
 * Block, §4.2 Interface Description Block, §4.3 Enhanced Packet Block, §4.6
 * Interface Statistics Block.
 */
#ifndef BYPASS_LIB_PCAPNG_H
#define BYPASS_LIB_PCAPNG_H

#include <stddef.h>
#include <stdint.h>

#define PCAPNG_SHB 0x0A0D0D0Au       /* §4.1, the same in either byte order */
#define PCAPNG_BYTE_ORDER 0x1A2B3C4Du /* §4.1 Byte-Order Magic */
#define PCAPNG_IDB 0x00000001u       /* §4.2 */
#define PCAPNG_ISB 0x00000005u       /* §4.6 */
#define PCAPNG_EPB 0x00000006u       /* §4.3 */
#define PCAPNG_LINKTYPE_ETHERNET 1   /* LINKTYPE_ETHERNET, in the IDB */

#define PCAPNG_OPT_END 0             /* §3.5 opt_endofopt */
#define PCAPNG_OPT_SHB_USERAPPL 4    /* §4.1 shb_userappl: the writing program */
#define PCAPNG_OPT_IF_NAME 2         /* §4.2 if_name */
#define PCAPNG_OPT_IF_TSRESOL 9      /* §4.2 if_tsresol: 9 = 10^-9 s units */
#define PCAPNG_OPT_EPB_FLAGS 2       /* §4.3 epb_flags: bits 0-1 direction */
#define PCAPNG_EPB_INBOUND 1u
#define PCAPNG_EPB_OUTBOUND 2u
#define PCAPNG_OPT_ISB_STARTTIME 2   /* §4.6 isb_starttime */
#define PCAPNG_OPT_ISB_ENDTIME 3     /* §4.6 isb_endtime */
#define PCAPNG_OPT_ISB_OSDROP 7      /* §4.6 isb_osdrop: dropped by the capture system */

struct pcapng_writer {
	int fd;
	int err;      /* first write error (negative errno), then nothing more is written */
	size_t used;
	uint8_t buf[256 * 1024];
};

/* Writes the Section Header Block and one Interface Description Block
 * (interface 0: the port) into a new file. 0 or negative errno. */
int pcapng_open(struct pcapng_writer *w, const char *path, const char *if_name, uint32_t snaplen);
/* One Enhanced Packet Block of interface 0: cap_len bytes of a frame of
 * orig_len, at ts_ns (ns since 1970), flags PCAPNG_EPB_INBOUND/OUTBOUND. */
void pcapng_packet(struct pcapng_writer *w, uint64_t ts_ns, const void *data, uint32_t cap_len,
		   uint32_t orig_len, uint32_t flags);
/* Writes out what is buffered. */
void pcapng_flush(struct pcapng_writer *w);
/* An Interface Statistics Block (frames the capture dropped, its start and
 * end), then flushes and closes. 0 or the first write error. */
int pcapng_close(struct pcapng_writer *w, uint64_t start_ns, uint64_t end_ns, uint64_t dropped);

#endif
