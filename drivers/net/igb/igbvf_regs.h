/* SPDX-License-Identifier: MIT
 * The Intel 82576 virtual function (8086:10ca): its register file and the
 * PF <-> VF mailbox protocol.
 *
 * Sources: the 82576 GbE Controller Datasheet, "Virtual Function Registers"
 * (8.26; the VF's 16 KiB BAR 0; its queue n is the PF's queue VF + 8 n, 8.26.1) and "Mailbox" (PF/VF communication, VMBMEM and the
 * V2PMailbox/P2VMailbox bits); the message ids are the protocol the kernel's
 * igb PF driver speaks (its public mailbox definitions, e1000_mbx.h and
 * igb_main.c). Where QEMU 10's model (hw/net/igbvf.c, igb_core.c) behaves in
 * a way a driver must know, the comment says so.
 *
 * The VF sees the PF's per-pool registers at fixed VF offsets: its queue 0
 * is the PF's queue `vf`, its queue 1 the PF's queue `vf + 8`.
 */
#ifndef BYPASS_IGBVF_REGS_H
#define BYPASS_IGBVF_REGS_H

#define IGBVF_BAR0_LEN 0x4000 /* 16 KiB of registers; the MSI-X table is in BAR 3 */
#define IGBVF_MAX_QUEUES 2    /* two rx and two tx queues per VF (datasheet: VMDq pools, 2 queues each) */
#define IGBVF_MSIX_VECTORS 3  /* the VF's MSI-X table: three entries */

/* ---- general (datasheet, VF registers: VTCTRL, VTSTATUS, VTFRTIMER) ---- */
#define IGBVF_CTRL 0x0000           /* VTCTRL */
#define IGBVF_CTRL_RST (1u << 26)   /* VF software reset: queues stop, the PF hears a VFLR */
#define IGBVF_STATUS 0x0008         /* VTSTATUS: the port's STATUS, read-only to the VF */
#define IGBVF_STATUS_FD (1u << 0)
#define IGBVF_STATUS_LU (1u << 1)
#define IGBVF_STATUS_SPEED_SHIFT 6  /* 00 10, 01 100, 1x 1000 Mb/s */
#define IGBVF_STATUS_SPEED_MASK (3u << 6)
#define IGBVF_FRTIMER 0x1048

/* ---- interrupts (datasheet, VF registers: VTEICS .. VTIVAR_MISC) ----
 * Three causes, one per MSI-X vector: bit v of VTEICR is vector v. VTIVAR
 * sends each queue's cause to a vector, VTIVAR_MISC the mailbox's. VTEIAC
 * bits clear themselves in VTEICR when their message goes out; VTEIAM bits
 * mask themselves in VTEIMS then (auto-mask): an armed queue fires once. */
#define IGBVF_EICS 0x1520
#define IGBVF_EIMS 0x1524
#define IGBVF_EIMC 0x1528
#define IGBVF_EIAC 0x152C
#define IGBVF_EIAM 0x1530
#define IGBVF_EICR 0x1580
#define IGBVF_EITR(v) (0x1680 + 4 * (v))
#define IGBVF_IVAR0 0x1700 /* rx0 bits 7:0, tx0 15:8, rx1 23:16, tx1 31:24 */
#define IGBVF_IVAR_RX_SHIFT(q) (16 * (q))
#define IGBVF_IVAR_TX_SHIFT(q) (16 * (q) + 8)
#define IGBVF_IVAR_VALID 0x80u /* in each byte; the vector in its bits 1:0 (QEMU masks 2:0 in VTIVAR) */
#define IGBVF_IVAR_MISC 0x1740 /* the mailbox cause: bits 7:0, same layout */
/* QEMU 10 honours VTIVAR's rx0/tx0 bytes only ("Ignoring assigned vectors
 * associated with queues Rx#1 and Tx#1"): queue 1 raises no interrupt there. */

/* ---- the mailbox (datasheet, "PF/VF Mailbox", in chapter 7.10 on
 * virtualization — subsection not checked; VMBMEM, V2PMailbox) ---- */
#define IGBVF_VMBMEM 0x0800   /* 16 words shared with the PF */
#define IGBVF_MBX_WORDS 16
#define IGBVF_V2PMAILBOX 0x0C40
#define IGBVF_MBX_REQ (1u << 0)   /* W: a message for the PF is in VMBMEM */
#define IGBVF_MBX_ACK (1u << 1)   /* W: the PF's message was read */
#define IGBVF_MBX_VFU (1u << 2)   /* RW: the VF holds the buffer (set only if PFU is clear) */
#define IGBVF_MBX_PFU (1u << 3)   /* RO: the PF holds the buffer */
#define IGBVF_MBX_PFSTS (1u << 4) /* RC: the PF wrote a message */
#define IGBVF_MBX_PFACK (1u << 5) /* RC: the PF read ours */
#define IGBVF_MBX_RSTI (1u << 6)  /* RO: the PF is resetting (set at its reset) */
#define IGBVF_MBX_RSTD (1u << 7)  /* RC: the PF's reset is done (its CTRL_EXT.PFRSTD) */
/* Read-to-clear: one read of V2PMailbox clears PFSTS, PFACK and RSTD. A
 * driver that reads it for one bit must keep the others it saw. */
#define IGBVF_MBX_R2C (IGBVF_MBX_PFSTS | IGBVF_MBX_PFACK | IGBVF_MBX_RSTD)

/* Messages: word 0 is the message id in bits 15:0, a count or argument in
 * bits 23:16, and the reply's ACK/NACK/CTS bits in 31:29; the rest follows
 * in words 1..15. */
#define IGBVF_MSG_ID(w) ((w) & 0xffffu)
#define IGBVF_MSG_INFO_SHIFT 16
#define IGBVF_MSG_INFO_MASK (0xffu << 16)
#define IGBVF_MSG_ACK (1u << 31)  /* the PF did it */
#define IGBVF_MSG_NACK (1u << 30) /* the PF refused it */
#define IGBVF_MSG_CTS (1u << 29)  /* the PF takes requests from us (after VF_RESET) */
#define IGBVF_MSG_VF_RESET 0x01      /* reply: ACK + the permanent MAC in words 1-2, or NACK (none set) */
#define IGBVF_MSG_SET_MAC_ADDR 0x02  /* words 1-2: the address */
#define IGBVF_MSG_SET_MULTICAST 0x03 /* info: count (<= 30), then 16-bit MTA hashes */
#define IGBVF_MSG_SET_LPE 0x05       /* word 1: the largest frame, CRC included */
#define IGBVF_MSG_SET_PROMISC 0x06   /* info: which kinds */
#define IGBVF_PROMISC_MULTICAST (2u << 16)
#define IGBVF_MSG_PF_CONTROL 0x0100 /* from the PF: a reset or a link change (CTS: still clear to send) */
#define IGBVF_MAX_MC_HASHES 30

/* The 12-bit multicast hash the PF sets in its MTA for us: destination
 * address bits 47:36 (MTA with MO = 00b, datasheet "Multicast Table Array"). */
#define IGBVF_MC_HASH(a) ((uint16_t)((((a)[4] >> 4) | ((uint16_t)(a)[5] << 4)) & 0xfff))

/* ---- queues (datasheet, VF registers: RDBAL0.. / TDBAL0.., one per 0x100) ---- */
#define IGBVF_RDBAL(q) (0x2800 + 0x100 * (q))
#define IGBVF_RDBAH(q) (0x2804 + 0x100 * (q))
#define IGBVF_RDLEN(q) (0x2808 + 0x100 * (q))
#define IGBVF_SRRCTL(q) (0x280C + 0x100 * (q))
#define IGBVF_RDH(q) (0x2810 + 0x100 * (q))
#define IGBVF_RDT(q) (0x2818 + 0x100 * (q))
#define IGBVF_RXDCTL(q) (0x2828 + 0x100 * (q))
#define IGBVF_TDBAL(q) (0x3800 + 0x100 * (q))
#define IGBVF_TDBAH(q) (0x3804 + 0x100 * (q))
#define IGBVF_TDLEN(q) (0x3808 + 0x100 * (q))
#define IGBVF_TDH(q) (0x3810 + 0x100 * (q))
#define IGBVF_TDT(q) (0x3818 + 0x100 * (q))
#define IGBVF_TXDCTL(q) (0x3828 + 0x100 * (q))
#define IGBVF_XDCTL_ENABLE (1u << 25) /* RXDCTL/TXDCTL queue enable */
#define IGBVF_PSRTYPE 0x0F0C

/* ---- statistics (datasheet, VF registers: VFGPRC ..): 32-bit counters
 * that count up and wrap, never cleared by a read ---- */
#define IGBVF_GPRC 0x0F10   /* good packets received */
#define IGBVF_GPTC 0x0F14   /* good packets sent */
#define IGBVF_GORC 0x0F18   /* good octets received */
#define IGBVF_GOTC 0x0F34   /* good octets sent */
#define IGBVF_MPRC 0x0F3C   /* multicast packets received */
#define IGBVF_GPRLBC 0x0F40 /* good packets received from another pool (loopback) */
#define IGBVF_GPTLBC 0x0F44 /* good packets sent to another pool */
#define IGBVF_GORLBC 0x0F48
#define IGBVF_GOTLBC 0x0F50

#endif
