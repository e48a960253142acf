/* SPDX-License-Identifier: MIT
 * Intel 82576 (QEMU "igb", PF 8086:10c9) registers and advanced descriptors.
 * Source: "Intel 82576EB Gigabit Ethernet Controller Datasheet" (Intel
 * 82576eg-gbe-datasheet), cited as "datasheet" with the section that holds
 * the register (chapter 8: 8.2 general, 8.4 EEPROM, 8.8 interrupts, 8.10
 * receive, 8.12 transmit, 8.19 statistics) or the function (chapter 7: 7.1
 * receive, 7.2 transmit, 7.3 interrupts, 7.10 virtualization; chapter 4.5
 * the initialization sequence). Where QEMU's model (hw/net/igb_core.c, read
 * to learn what the emulated device does) differs in a way the PMD must
 * allow for, the comment says so.
 *
 * Checked: every offset and bit below against Intel's own Linux igb
 * headers (e1000_regs.h, e1000_defines.h) and QEMU's igb model; they
 * agree. The section numbers could not be checked against the
 * datasheet's text (the stored copy holds only its cover); QEMU's igb_core.c
 * cites the same numbering for 8.8.10 (IMC), 8.19 (statistics), 7.10
 * (virtualization) and 8.26.1 (a VF's queues, PF queue = VF + 8 x VF queue).
 *
 * The registers the 82576 keeps where the 82540EM has them (CTRL, STATUS,
 * EERD, CTRL_EXT, RCTL, TCTL, TIPG, MTA, RAL0/RAH0, the statistics at
 * 0x4000-0x40FC: datasheet 8.2, 8.10, 8.12, 8.19), with the same bits, come
 * from ../e1000/e1000_regs.h.
 */
#ifndef BYPASS_IGB_REGS_H
#define BYPASS_IGB_REGS_H

#include "../e1000/e1000_regs.h"

/* ---- general, datasheet 8.2 ---- */
#define IGB_MDIC 0x00020 /* MDI Control: PHY registers, datasheet 8.2.4 */
#define IGB_MDIC_DATA_MASK 0xffffu
#define IGB_MDIC_REG_SHIFT 16
#define IGB_MDIC_PHY_SHIFT 21 /* the internal PHY answers at address 1 */
#define IGB_MDIC_OP_WRITE (1u << 26)
#define IGB_MDIC_READY (1u << 28)
#define IGB_MDIC_ERROR (1u << 30)
#define IGB_PHY_ADDR 1
/* PHY control register 0 (IEEE 802.3 clause 22): auto-negotiation enable
 * and restart, full duplex, 1000 Mb/s. */
#define IGB_PHY_BMCR 0
#define IGB_BMCR_ANRESTART (1u << 9)
#define IGB_BMCR_FD (1u << 8)
#define IGB_BMCR_AUTOEN (1u << 12)
#define IGB_BMCR_SPEED1000 (1u << 6)

/* STATUS (8.2.2): set while VFs are enabled (IOV mode), with their number in
 * bits 17:14. QEMU's igb reports both from sriov_numvfs. */
#define IGB_STATUS_IOV_MODE (1u << 18)
#define IGB_STATUS_NUM_VFS_SHIFT 14
#define IGB_STATUS_NUM_VFS_MASK (0xfu << 14)

/* EERD (8.4.2, EEPROM/Flash registers): start bit 0, done bit 1, word
 * address 15:2, data 31:16 (the 82574L's layout, not the 82540EM's). */
#define IGB_EERD_START (1u << 0)
#define IGB_EERD_DONE (1u << 1)
#define IGB_EERD_ADDR_SHIFT 2
#define IGB_EERD_DATA_SHIFT 16

/* ---- interrupts, datasheet 7.3 and 8.8 ----
 * ICR, ICS, IMS, IMC and IAM (8.8.7-8.8.11) are listed at 0x1500-0x1510;
 * the 82576 also decodes them where the 82540EM has them (E1000_ICR 0xC0,
 * E1000_ICS 0xC8, E1000_IMS 0xD0, E1000_IMC 0xD8, IAM 0xE0): Intel's own
 * Linux igb driver uses only those offsets, for the 82575, 82576, I350 and
 * I210 alike. The cause bits are the 82540EM's (LSC 2; RXDW 7 where the
 * 82540EM has RXT0). The PMD uses the 0xC0 offsets: QEMU's igb decodes only
 * those (its igb_core.c has no 0x1500 alias: a write of 0x1508 is lost). */
#define IGB_ICR_ALIAS 0x01500
#define IGB_GPIE 0x01514 /* General Purpose Interrupt Enable (8.8.15) */
#define IGB_EICS 0x01520 /* Extended Interrupt Cause Set (8.8.2) */
#define IGB_EIMS 0x01524 /* Extended Interrupt Mask Set/Read (8.8.3) */
#define IGB_EIMC 0x01528 /* Extended Interrupt Mask Clear (8.8.4) */
#define IGB_EIAC 0x0152C /* Extended Interrupt Auto Clear (8.8.5) */
#define IGB_EIAM 0x01530 /* Extended Interrupt Auto Mask (8.8.6) */
#define IGB_EICR 0x01580 /* Extended Interrupt Cause Read (8.8.1) */
#define IGB_EITR(v) (0x01680 + 4 * (v)) /* per-vector throttling (8.8.12), v < 25 */
#define IGB_IVAR0 0x01700                /* Interrupt Vector Allocation (8.8.13), 8 registers */
#define IGB_IVAR_MISC 0x01740            /* the same for the other causes (8.8.14) */
#define IGB_MSIX_VECTORS 25              /* EICR bits, EITRs; QEMU's PF table has 10, Linux igb uses <= 10 */

/* GPIE (8.8.15): NSICR clears ICR on read whatever IMS holds; Multiple_MSIX
 * makes each EICR bit one MSI-X vector's cause (7.3.1.3, "MSI-X mode");
 * EIAME lets a message mask its cause in EIMS through EIAM; PBA_support
 * keeps the MSI-X pending bits in PBA. */
#define IGB_GPIE_NSICR (1u << 0)
#define IGB_GPIE_MULTIPLE_MSIX (1u << 4)
#define IGB_GPIE_EIAME (1u << 30)
#define IGB_GPIE_PBA (1u << 31)

/* IVAR (8.8.13): IVAR0[n] holds four 8-bit entries: rx queue n in bits 7:0,
 * tx queue n in 15:8, rx queue n + 8 in 23:16, tx queue n + 8 in 31:24 (the
 * 82576's layout, unlike the 82575's or 82580's). An entry is the vector in
 * bits 4:0 and valid in bit 7. IVAR_MISC: TCP timer in bits 7:0, the other
 * causes (ICR: link, ...) in bits 15:8. */
#define IGB_IVAR_VALID 0x80u
#define IGB_IVAR_REG(q) (IGB_IVAR0 + 4 * ((q) & 7))
#define IGB_IVAR_RX_SHIFT(q) ((q) < 8 ? 0u : 16u)
#define IGB_IVAR_TX_SHIFT(q) ((q) < 8 ? 8u : 24u)
#define IGB_IVAR_MISC_OTHER_SHIFT 8

/* EITR (8.8.12): the interval in bits 14:2, in 1 us units on the 82576
 * (Linux igb: EITR 196, interval 49, is its "20K interrupts/s"). QEMU
 * multiplies the whole register value (interval << 2, bits 14:1 kept) by
 * 256 ns: 1.024 us per interval unit, 2.4% longer. */
#define IGB_EITR_INTERVAL_SHIFT 2

/* ---- receive, datasheet 7.1 and 8.10 ---- */
#define IGB_RXCSUM 0x05000 /* Receive Checksum Control (8.10.9) */
#define IGB_RXCSUM_PCSD (1u << 13) /* write the RSS hash back, not the packet checksum */
#define IGB_RLPML 0x05004 /* Receive Long Packet Maximum Length (8.10.10) */
#define IGB_MRQC 0x05818  /* Multiple Receive Queues Command (8.10.16) */
/* MRQC.Multiple_Receive_Queues_Enable, bits 2:0: 000b none (every frame to
 * queue 0), 010b RSS only (QEMU's igb: RSS runs with (MRQC & 3) == 2 and
 * RXCSUM.PCSD). Hash types, bits 31:16 (7.1.2.10, receive-side scaling).
 * TCP over IPv6 takes two bits: 21 (TcpIPv6, frames without extension
 * headers) and 18 (TcpIPv6Ex, with them); QEMU's igb ignores bit 21 and
 * hashes every TCP/IPv6 frame by bit 18 alone, so both are set. */
#define IGB_MRQC_RSS 0x2u
#define IGB_MRQC_TCPIPV4 (1u << 16)
#define IGB_MRQC_IPV4 (1u << 17)
#define IGB_MRQC_TCPIPV6EX (1u << 18)
#define IGB_MRQC_IPV6EX (1u << 19)
#define IGB_MRQC_IPV6 (1u << 20)
#define IGB_MRQC_TCPIPV6 (1u << 21)
#define IGB_MRQC_UDPIPV4 (1u << 22)
#define IGB_MRQC_UDPIPV6 (1u << 23)
#define IGB_MRQC_UDPIPV6EX (1u << 24)
#define IGB_RETA 0x05C00  /* Redirection Table (8.10.17): 32 registers */
#define IGB_RETA_SIZE 128 /* entry i in byte i mod 4 of register i / 4, indexed by hash bits 6:0 */
/* An entry's queue in RSS-only mode: QEMU reads bits 3:0; Linux igb writes
 * the 82576's queue unshifted (shifted to bit 3 with VMDq). The field's
 * width on hardware is not checked against the datasheet. */
#define IGB_RETA_QUEUE_MASK 0x0fu
#define IGB_RSSRK 0x05C80 /* RSS Random Key (8.10.18): 10 registers, 40 bytes */
#define IGB_RSS_KEY_LEN 40

/* ---- per-queue registers ----
 * The PF's 16 rx rings have their register blocks at 0xC000 + 0x40 q, the
 * tx rings at 0xE000 + 0x40 q (8.10, 8.12; queues 0-3 also at the 82575's
 * 0x2800/0x3800 + 0x100 q). A VF reaches its own rings at 0x2800/0x3800 +
 * 0x100 q of its BAR. Inside a block, the offsets are the same everywhere: */
#define IGB_RXQ_REGS(q) (0x0C000u + 0x40u * (q))
#define IGB_TXQ_REGS(q) (0x0E000u + 0x40u * (q))
#define IGB_MAX_QUEUES 16
/* From a block's base (RDBAL/TDBAL): base high, length, head, tail as in the
 * family (E1000_RING_BAH, _LEN, _H, _T), and: */
#define IGB_Q_SRRCTL 0x0C /* rx: Split and Replication Receive Control (8.10.2) */
#define IGB_Q_XDCTL 0x28  /* RXDCTL (8.10.11) / TXDCTL (8.12.14) */
#define IGB_RQDPC(q) (0x0C030u + 0x40u * (q)) /* rx queue q's drop count, clear on read (QEMU; Linux igb adds it up) */

/* SRRCTL (8.10.2): BSIZEPACKET in 1 KB units (bits 6:0), DESCTYPE (27:25)
 * 001b advanced one-buffer descriptors, Drop_En (31): a frame for this
 * queue with no free descriptor is dropped and counted in RQDPC instead of
 * waiting in the packet buffer (where it holds up every other queue). */
#define IGB_SRRCTL_BSIZEPKT_SHIFT 10 /* bytes >> 10 */
#define IGB_SRRCTL_DESCTYPE_ADV_ONEBUF (1u << 25)
#define IGB_SRRCTL_DROP_EN (1u << 31)

/* RXDCTL / TXDCTL (8.10.11, 8.12.14): prefetch, host and write-back
 * thresholds in bits 4:0, 12:8, 20:16; queue enable bit 25, which reads
 * back set once the queue runs (and clear once it stopped) — software waits
 * for it (4.5.9, 4.5.10). After reset queue 0 is enabled. */
#define IGB_XDCTL_ENABLE (1u << 25)
#define IGB_XDCTL_PTHRESH(n) ((uint32_t)(n) << 0)
#define IGB_XDCTL_HTHRESH(n) ((uint32_t)(n) << 8)
#define IGB_XDCTL_WTHRESH(n) ((uint32_t)(n) << 16)

/* ---- advanced receive descriptor, datasheet 7.1.5 ----
 * Read format: packet buffer address, header buffer address (0: no header
 * split; its bit 0 is where DD comes back). Write-back format, as 32-bit
 * words: [0] RSS type (bits 3:0), packet type (16:4), header length;
 * [1] the RSS hash (RXCSUM.PCSD) or IP id and checksum; [2] extended status
 * (19:0: DD 0, EOP 1, ...) and extended errors (31:20: HBO 23, L4E 29, IPE
 * 30, RXE 31); [3] packet length (15:0), VLAN tag (31:16). RXE is the frame
 * error (CRC, symbol, length); L4E and IPE are checksum results. As an
 * e1000_rxd_layout (../e1000/e1000_common.h): */
#define IGB_RXD_ERR_RXE (1u << 31)
#define IGB_RXD_ADV_LAYOUT { .status_dw = 2, .length_w = 6, .err_mask = IGB_RXD_ERR_RXE, .rss = true }
/* RSS types of the write-back's bits 3:0 (7.1.5): 0 none, 1 TCP/IPv4,
 * 2 IPv4, 3 TCP/IPv6, 4 IPv6Ex, 5 IPv6, 6 TCP/IPv6Ex, 7 UDP/IPv4, 8 UDP/IPv6,
 * 9 UDP/IPv6Ex. */
enum igb_rss_type {
	IGB_RSS_NONE, IGB_RSS_TCPIPV4, IGB_RSS_IPV4, IGB_RSS_TCPIPV6, IGB_RSS_IPV6EX, IGB_RSS_IPV6,
	IGB_RSS_TCPIPV6EX, IGB_RSS_UDPIPV4, IGB_RSS_UDPIPV6, IGB_RSS_UDPIPV6EX,
};

/* ---- advanced transmit data descriptor, datasheet 7.2.2.3 ----
 * Address; then DTALEN (15:0, this buffer's bytes), DTYP (23:20) 0011b data,
 * DCMD (31:24: EOP 24, IFCS 25, RS 27, DEXT 29, VLE 30, TSE 31); then STA
 * (3:0, DD 0, written back where RS asks), IDX (6:4, context 0), POPTS
 * (13:8, no offload) and PAYLEN (31:14: the whole packet's bytes without
 * TSO). EOP, IFCS, RS and DD are where the legacy descriptor has them
 * (e1000_regs.h), so the family's tx burst writes both; as an
 * e1000_txd_layout (../e1000/e1000_common.h): */
#define IGB_TXD_DTYP_DATA (0x3u << 20)
#define IGB_TXD_DCMD_DEXT (1u << 29)
#define IGB_TXD_ADV_LAYOUT { .lower = IGB_TXD_DTYP_DATA | IGB_TXD_DCMD_DEXT, .paylen = true }

/* ---- statistics, datasheet 8.19 (beyond e1000_regs.h's) ---- */
#define IGB_STATS_LAST 0x04124 /* the clear-on-read block ends here (ICRXOC in Linux igb, HTCBDPC in QEMU) */

#endif
