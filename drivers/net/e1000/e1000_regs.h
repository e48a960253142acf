/* SPDX-License-Identifier: MIT
 * Intel 82540EM/82545EM (QEMU "e1000", "e1000-82545em") registers and
 * descriptors. Sources: "PCI/PCI-X Family of Gigabit Ethernet Controllers
 * Software Developer's Manual" (Intel 317453), cited as SDM with its section.
 */
#ifndef BYPASS_E1000_REGS_H
#define BYPASS_E1000_REGS_H

#include <stdint.h>

/* ---- registers (SDM 13.3, table 13-2: offsets from BAR0) ---- */
#define E1000_CTRL 0x00000     /* Device Control, SDM 13.4.1 */
#define E1000_STATUS 0x00008   /* Device Status, SDM 13.4.2 */
#define E1000_EERD 0x00014     /* EEPROM Read, SDM 13.4.4 */
#define E1000_CTRL_EXT 0x00018 /* Extended Device Control, SDM 13.4.6 */
#define E1000_ICR 0x000C0      /* Interrupt Cause Read, SDM 13.4.17 */
#define E1000_ITR 0x000C4      /* Interrupt Throttling, SDM 13.4.18 */
#define E1000_ICS 0x000C8      /* Interrupt Cause Set, SDM 13.4.19 */
#define E1000_IMS 0x000D0      /* Interrupt Mask Set, SDM 13.4.20 */
#define E1000_IMC 0x000D8      /* Interrupt Mask Clear, SDM 13.4.21 */
#define E1000_RCTL 0x00100     /* Receive Control, SDM 13.4.22 */
#define E1000_TCTL 0x00400     /* Transmit Control, SDM 13.4.33 */
#define E1000_TIPG 0x00410     /* Transmit IPG, SDM 13.4.34 */
#define E1000_RDBAL 0x02800    /* Receive Descriptor Base Low, SDM 13.4.25 */
#define E1000_RDBAH 0x02804    /* Receive Descriptor Base High, SDM 13.4.26 */
#define E1000_RDLEN 0x02808    /* Receive Descriptor Length, SDM 13.4.27 */
#define E1000_RDH 0x02810      /* Receive Descriptor Head, SDM 13.4.28 */
#define E1000_RDT 0x02818      /* Receive Descriptor Tail, SDM 13.4.29 */
#define E1000_RDTR 0x02820     /* Receive Delay Timer, SDM 13.4.30 */
#define E1000_TDBAL 0x03800    /* Transmit Descriptor Base Low, SDM 13.4.36 */
#define E1000_TDBAH 0x03804    /* Transmit Descriptor Base High, SDM 13.4.37 */
#define E1000_TDLEN 0x03808    /* Transmit Descriptor Length, SDM 13.4.38 */
#define E1000_TDH 0x03810      /* Transmit Descriptor Head, SDM 13.4.39 */
#define E1000_TDT 0x03818      /* Transmit Descriptor Tail, SDM 13.4.40 */
#define E1000_TIDV 0x03820     /* Transmit Interrupt Delay, SDM 13.4.41 */
#define E1000_MTA 0x05200      /* Multicast Table Array, 128 x 32 bits, SDM 13.5.1 */
#define E1000_RAL0 0x05400     /* Receive Address Low, SDM 13.5.2 */
#define E1000_RAH0 0x05404     /* Receive Address High, SDM 13.5.3 */

/* Statistics, all clear on read (SDM 13.7) */
#define E1000_CRCERRS 0x04000 /* CRC errors, SDM 13.7.1 */
#define E1000_MPC 0x04010     /* missed packets: no room in the rx FIFO, SDM 13.7.4 */
#define E1000_RLEC 0x04040    /* receive length errors, SDM 13.7.11 */
#define E1000_GPRC 0x04074    /* good packets received, SDM 13.7.21 */
#define E1000_GPTC 0x04080    /* good packets transmitted, SDM 13.7.24 */
#define E1000_RNBC 0x040A0    /* receive no buffers (ring empty), SDM 13.7.29 */
#define E1000_RUC 0x040A4     /* receive undersize, SDM 13.7.30 */
#define E1000_ROC 0x040AC     /* receive oversize, SDM 13.7.32 */

/* CTRL bits, SDM 13.4.1 table 13-3 */
#define E1000_CTRL_FD (1u << 0)    /* full duplex */
#define E1000_CTRL_LRST (1u << 3)  /* link reset */
#define E1000_CTRL_ASDE (1u << 5)  /* auto-speed detection enable */
#define E1000_CTRL_SLU (1u << 6)   /* set link up */
#define E1000_CTRL_ILOS (1u << 7)  /* invert loss-of-signal */
#define E1000_CTRL_RST (1u << 26)  /* device reset, self-clearing */
#define E1000_CTRL_VME (1u << 30)  /* VLAN mode enable */
#define E1000_CTRL_PHY_RST (1u << 31)

/* STATUS bits, SDM 13.4.2 table 13-5 */
#define E1000_STATUS_FD (1u << 0)
#define E1000_STATUS_LU (1u << 1)
#define E1000_STATUS_SPEED_SHIFT 6 /* 00: 10, 01: 100, 1x: 1000 Mb/s */
#define E1000_STATUS_SPEED_MASK (3u << 6)

/* EERD, SDM 13.4.4 (82540EM layout: start bit 0, done bit 4, address 15:8,
 * data 31:16) */
#define E1000_EERD_START (1u << 0)
#define E1000_EERD_DONE (1u << 4)
#define E1000_EERD_ADDR_SHIFT 8
#define E1000_EERD_DATA_SHIFT 16

/* Interrupt causes: ICR, ICS, IMS, IMC share the layout, SDM 13.4.17 table 13-40 */
#define E1000_ICR_TXDW (1u << 0)   /* a descriptor with RS was written back */
#define E1000_ICR_TXQE (1u << 1)   /* transmit queue empty */
#define E1000_ICR_LSC (1u << 2)    /* link status change */
#define E1000_ICR_RXDMT0 (1u << 4) /* free rx descriptors below RCTL.RDMTS */
#define E1000_ICR_RXO (1u << 6)    /* receiver overrun: a frame was missed */
#define E1000_ICR_RXT0 (1u << 7)   /* receiver timer: a frame was received */

/* RCTL bits, SDM 13.4.22 table 13-67 */
#define E1000_RCTL_EN (1u << 1)     /* receiver enable */
#define E1000_RCTL_SBP (1u << 2)    /* store bad packets */
#define E1000_RCTL_UPE (1u << 3)    /* unicast promiscuous */
#define E1000_RCTL_MPE (1u << 4)    /* multicast promiscuous */
#define E1000_RCTL_LPE (1u << 5)    /* long packets (> 1522 bytes) */
#define E1000_RCTL_RDMTS_HALF (0u << 8)
#define E1000_RCTL_BAM (1u << 15)   /* accept broadcast */
#define E1000_RCTL_BSIZE_2048 (0u << 16) /* with BSEX = 0 */
#define E1000_RCTL_BSIZE_SHIFT 16        /* 00: 2048, 01: 1024, 10: 512, 11: 256 bytes */
#define E1000_RCTL_BSIZE_MASK (3u << 16)
#define E1000_RCTL_BSEX (1u << 25)       /* buffer sizes x16 (not 00) */
#define E1000_RCTL_SECRC (1u << 26) /* strip the Ethernet CRC */

/* TCTL bits, SDM 13.4.33 table 13-76 */
#define E1000_TCTL_EN (1u << 1)
#define E1000_TCTL_PSP (1u << 3)         /* pad short packets to 64 bytes */
#define E1000_TCTL_CT_SHIFT 4            /* collision threshold */
#define E1000_TCTL_COLD_SHIFT 12         /* collision distance */
#define E1000_TCTL_CT_DEFAULT 0x0F       /* SDM recommends 0Fh */
#define E1000_TCTL_COLD_FULL_DUPLEX 0x40 /* 64-byte times, SDM 14.5 */

/* TIPG for IEEE 802.3 copper, SDM 13.4.34 table 13-78: IPGT 10, IPGR1 8, IPGR2 6 */
#define E1000_TIPG_COPPER (10u | (8u << 10) | (6u << 20))

#define E1000_RAH_AV (1u << 31) /* address valid, SDM 13.5.3 */

/* Descriptor rings: length a multiple of 128 bytes (8 descriptors), base
 * 16-byte aligned (SDM 13.4.25, 13.4.27); the index registers are 16 bits. */
#define E1000_RING_ALIGN 128
#define E1000_RING_MIN 8
#define E1000_RING_MAX 4096

/* Family members with more than one queue (the 82574L) keep queue n's ring
 * registers at these offsets + n x 0x100 (82574L datasheet 10.2.5, 10.2.6:
 * RDBAL1 0x2900, TDBAL1 0x3900). */
#define E1000_QUEUE_STRIDE 0x100
#define E1000_RDBAL_Q(n) (E1000_RDBAL + E1000_QUEUE_STRIDE * (n))
#define E1000_RDT_Q(n) (E1000_RDT + E1000_QUEUE_STRIDE * (n))
#define E1000_TDBAL_Q(n) (E1000_TDBAL + E1000_QUEUE_STRIDE * (n))
#define E1000_TDH_Q(n) (E1000_TDH + E1000_QUEUE_STRIDE * (n))
#define E1000_TDT_Q(n) (E1000_TDT + E1000_QUEUE_STRIDE * (n))
/* Offsets from a ring's base-low register (SDM 13.4.25-29, 13.4.36-40). */
#define E1000_RING_BAH 0x04
#define E1000_RING_LEN 0x08
#define E1000_RING_H 0x10
#define E1000_RING_T 0x18

/* Receive descriptor, legacy format, SDM 3.2.3 table 3-1 */
struct e1000_rx_desc {
	uint64_t addr;     /* buffer address (device view) */
	uint16_t length;   /* bytes written by hardware */
	uint16_t csum;
	volatile uint8_t status;
	uint8_t errors;
	uint16_t special;
};
#define E1000_RXD_STAT_DD (1u << 0)  /* descriptor done, SDM 3.2.3.1 */
#define E1000_RXD_STAT_EOP (1u << 1) /* end of packet */
/* receive errors, SDM 3.2.3.2: CRC, symbol, sequence, carrier extension, rx data */
#define E1000_RXD_ERR_FRAME 0x97u
#define E1000_RXD_ERR_CE (1u << 0) /* CRC or alignment error */
/* Seen as 32-bit words (e1000_common.h): status, errors and special are the
 * fourth, length is the fifth 16-bit half-word. */
#define E1000_RXD_LEGACY_LAYOUT { .status_dw = 3, .length_w = 4, .err_mask = E1000_RXD_ERR_FRAME << 8 }

/* Transmit descriptor, legacy format, SDM 3.3.3 table 3-10 */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	volatile uint8_t status;
	uint8_t css;
	uint16_t special;
};
#define E1000_TXD_CMD_EOP (1u << 0)  /* end of packet, SDM 3.3.3.1 */
#define E1000_TXD_CMD_IFCS (1u << 1) /* insert FCS */
#define E1000_TXD_CMD_RS (1u << 3)   /* report status: write back DD */
#define E1000_TXD_STAT_DD (1u << 0)  /* SDM 3.3.3.2 */

_Static_assert(sizeof(struct e1000_rx_desc) == 16, "SDM 3.2.3: 16-byte rx descriptors");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "SDM 3.3.3: 16-byte tx descriptors");

#endif
