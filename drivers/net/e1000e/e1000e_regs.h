/* SPDX-License-Identifier: MIT
 * Intel 82574L (QEMU "e1000e") registers and descriptors beyond those it
 * shares with the 82540EM (../e1000/e1000_regs.h: same offsets, same bits).
 * Source: "Intel 82574 GbE Controller Family Datasheet" (Intel 317694),
 * cited as "datasheet" with the section that holds the register or format
 * (chapter 10.2 registers, chapter 7 the receive and transmit functions) and
 * the register's name. Where QEMU's model (hw/net/
 * e1000e_core.c, read to learn what the emulated device does) behaves in a
 * way the PMD must allow for, the comment says so.
 */
#ifndef BYPASS_E1000E_REGS_H
#define BYPASS_E1000E_REGS_H

#include "../e1000/e1000_regs.h"

/* ---- interrupts, datasheet 10.2.4 ---- */
#define E1000E_EIAC 0x000DC  /* Extended Interrupt Auto Clear */
#define E1000E_IAM 0x000E0   /* Interrupt Acknowledge Auto Mask */
#define E1000E_IVAR 0x000E4  /* Interrupt Vector Allocation */
#define E1000E_EITR(n) (0x000E8 + 4 * (n)) /* per-vector throttling, n < 5 */
#define E1000E_MSIX_VECTORS 5

/* ICR/ICS/IMS/IMC causes of the 82574L beyond the 82540EM's (10.2.4, ICR):
 * in MSI-X mode each queue has its own cause, and every cause without one
 * (link, overrun, ...) also raises OTHER. */
#define E1000E_ICR_RXQ0 (1u << 20)
#define E1000E_ICR_RXQ1 (1u << 21)
#define E1000E_ICR_TXQ0 (1u << 22)
#define E1000E_ICR_TXQ1 (1u << 23)
#define E1000E_ICR_OTHER (1u << 24)
#define E1000E_ICR_RXQ(q) (E1000E_ICR_RXQ0 << (q))
#define E1000E_ICR_QUEUES (E1000E_ICR_RXQ0 | E1000E_ICR_RXQ1 | E1000E_ICR_TXQ0 | E1000E_ICR_TXQ1)

/* IVAR (10.2.4): a 4-bit entry per cause (RxQ0 3:0, RxQ1 7:4, TxQ0 11:8,
 * TxQ1 15:12, Other 19:16): bits 2:0 the MSI-X vector, bit 3 valid. */
#define E1000E_IVAR_VALID 0x8u
#define E1000E_IVAR_RXQ_SHIFT(q) (4u * (q))
#define E1000E_IVAR_OTHER_SHIFT 16

/* CTRL_EXT bits */
#define E1000E_CTRL_EXT_EIAME (1u << 24) /* MSI-X: a message masks its IAM causes in IMS */
#define E1000E_CTRL_EXT_IAME (1u << 27)  /* a read of ICR masks the IAM causes */

/* EERD (10.2.2): start bit 0, done bit 1, word address 15:2, data 31:16
 * (not the 82540EM's layout) */
#define E1000E_EERD_START (1u << 0)
#define E1000E_EERD_DONE (1u << 1)
#define E1000E_EERD_ADDR_SHIFT 2
#define E1000E_EERD_DATA_SHIFT 16

/* ---- receive, datasheet 10.2.5 ---- */
#define E1000E_RXCSUM 0x05000 /* Receive Checksum Control */
#define E1000E_RXCSUM_PCSD (1u << 13) /* write back the RSS hash, not the packet checksum */
#define E1000E_RFCTL 0x05008  /* Receive Filter Control */
#define E1000E_RFCTL_EXSTEN (1u << 15) /* extended receive descriptors */
#define E1000E_MRQC 0x05818   /* Multiple Receive Queues Command */
#define E1000E_MRQC_RSS (1u << 0) /* MRQE (bits 1:0) = 01b: RSS on two queues */
/* The hash types MRQC enables (bits 20:16), all the 82574L has (7.1, receive-side scaling):
 * TCP/IPv4, IPv4, TCP/IPv6 with extension-header parsing (TcpIPv6Ex), IPv6
 * with extension headers (IPv6Ex), IPv6. No UDP type: a UDP frame is hashed
 * on its addresses when the IPv4/IPv6 type is on. QEMU's e1000e implements
 * the same five (e1000e_rss_get_hash_type). */
#define E1000E_MRQC_TCPIPV4 (1u << 16)
#define E1000E_MRQC_IPV4 (1u << 17)
#define E1000E_MRQC_TCPIPV6EX (1u << 18)
#define E1000E_MRQC_IPV6EX (1u << 19)
#define E1000E_MRQC_IPV6 (1u << 20)
#define E1000E_RETA 0x05C00   /* Redirection Table: 32 registers */
#define E1000E_RETA_SIZE 128  /* one byte per entry, indexed by hash bits 6:0 */
#define E1000E_RETA_QUEUE_SHIFT 7 /* an entry's bit 7 is its queue (bits 6:0 reserved) */
#define E1000E_RSSRK 0x05C80  /* RSS Random Key: 10 registers, 40 bytes */
#define E1000E_RSS_KEY_LEN 40

/* Extended receive descriptor (7.1, receive descriptor formats). Read format: buffer address, then 8
 * bytes the NIC overwrites. Write-back format: MRQ (RSS type bits 3:0), the
 * RSS hash (RXCSUM.PCSD set) or IP id and checksum, extended status (bits
 * 19:0: DD 0, EOP 1, ...) and errors (bits 31:24: CE 24, SE 25, SEQ 26, CXE
 * 28, RXE 31; TCPE 29, IPE 30 are checksum results, not frame errors), then
 * length and VLAN tag. As an e1000_rxd_layout (e1000_common.h): */
#define E1000E_RXD_EXT_LAYOUT { .status_dw = 2, .length_w = 6, .err_mask = 0x97u << 24, .rss = true }

/* ---- transmit, datasheet 10.2.6 ---- */
#define E1000E_TARC(n) (0x03840 + E1000_QUEUE_STRIDE * (n)) /* Transmit Arbitration Count */
/* TARC bit 10 enables the queue. QEMU's e1000e transmits from a ring only
 * while it is set (its reset value sets it; e1000e_set_tdt). */
#define E1000E_TARC_ENABLE (1u << 10)

#endif
