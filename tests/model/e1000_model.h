/* SPDX-License-Identifier: MIT
 * A software 82540EM for the e1000 PMD, and with E1000_MODEL_82574 a
 * software 82574L for the e1000e PMD: the register file (CTRL, STATUS, EERD,
 * ICR/ICS/IMS/IMC, RCTL, TCTL, RDBA/RDLEN/RDH/RDT, TDBA/TDLEN/TDH/TDT, RAL/RAH,
 * the clear-on-read statistics) and descriptor DMA with legacy descriptors
 * (SDM 3.2, 3.3), done by a thread of its own.
 *
 * What it does like the hardware: RDH == RDT means no free descriptor, and a
 * frame arriving then is dropped and counted in MPC (the real NIC first fills
 * a FIFO of some KB; the model has none, so the count is exact); a frame
 * longer than one buffer spans descriptors with EOP on the last; tx writes DD
 * back only on descriptors with RS; frames longer than 1522 bytes without
 * RCTL.LPE are dropped and counted in ROC. Its choices: while the link is
 * down, tx descriptors wait (the MAC cannot send) and arriving frames are lost;
 * a receiver that is off loses arriving frames.
 *
 * The 82574L (e1000e_model.c) adds what the e1000e PMD uses: a second rx and
 * tx ring at + 0x100, extended rx descriptors (RFCTL.EXSTEN) written back
 * with the RSS type and hash, RSS (MRQC, RETA, RSSRK; computed with
 * bypass/rss.h) choosing the ring as RETA[hash & 127], and MSI-X: IVAR maps
 * each queue cause and OTHER to a vector (an eventfd), EIAC clears a cause
 * as its message goes out, CTRL_EXT.EIAME with IAM masks it. Like QEMU's
 * e1000e, a read of ICR clears it only while IMS is 0 (drivers write its
 * bits back) and the 82574L's EERD layout is its own. */
#ifndef BYPASS_TEST_E1000_MODEL_H
#define BYPASS_TEST_E1000_MODEL_H

#include "model.h"
#include "../../lib/pci/pci_model.h"
#include <bypass/ethdev.h>

#define E1000_MODEL_BAR_LEN 0x20000 /* 128 KiB, SDM 4.1 (memory BAR); the 82576's too */
#define MODEL_MAX_RINGS 16 /* the 82576's */
#define MODEL_MAX_VEC 25   /* the 82576 PF's MSI-X vectors */

struct e1000_model {
	uint32_t reg[E1000_MODEL_BAR_LEN / 4]; /* the BAR the driver is given */
	pthread_mutex_t lock;
	pthread_cond_t kick;  /* work for the model */
	pthread_cond_t quiet; /* the model has nothing it can do */
	pthread_t thread;
	bool running, stop, is_quiet;
	uint64_t work_seq; /* bumped by every doorbell and injection */
	uint16_t eeprom[64];
	char addr[16];
	struct bp_pci_model pci;

	/* knobs, set through the functions below */
	bool paused;
	bool link_up;
	bool eeprom_dead;      /* EERD never reports done */
	bool deliver_oversize; /* accept frames longer than 1522 bytes without LPE */
	bool qemu;             /* E1000_MODEL_QEMU */
	unsigned budget;       /* descriptors per step in each direction; 0: no limit */
	unsigned step_us;      /* pause between steps; 0: none */
	unsigned drop_next;    /* frames on the wire to lose before the NIC sees them */
	unsigned bad_crc_next; /* frames to receive with a CRC error */

	/* PCI command register (PCI 3.0 §6.2.2) as the driver last wrote it,
	 * and as it stood when the driver first reset the NIC (CTRL.RST) */
	uint16_t command, command_at_reset;
	bool reset_seen;

	/* the wire */
	struct frame_queue in;   /* frames on their way to us */
	struct frame_queue out;  /* frames we sent, when there is no peer */
	struct e1000_model *peer;

	/* INTx, as VFIO delivers it: an eventfd signalled when ICR & IMS is not
	 * zero, the line then masked until the driver unmasks it */
	int irq_fd;
	bool intr_on, irq_masked;
	uint64_t irqs;
	/* the 82574L's and 82576's MSI-X: an eventfd per vector, the causes
	 * whose message went out and that are still pending (one message per
	 * assertion) */
	bool i82574, i82576, msix;
	unsigned nb_vec, max_vec;
	int vec_fd[MODEL_MAX_VEC];
	uint64_t vec_irqs[MODEL_MAX_VEC];
	uint32_t msix_sent;
	/* the 82576: VFs enabled (refused by the PF PMD); the PHY's
	 * auto-negotiation restarts (MDIC writes of BMCR with ANRESTART) */
	uint16_t numvfs;
	unsigned an_restarts;
	bool an_pending; /* QEMU's igb after CTRL.RST: link down until a restart */

	/* hot-unplug: the eventfd lib/pci gave for the device request (-1:
	 * none), the requests sent; gone once bypass let go (release): then
	 * reads answer all ones, writes are lost (both counted), no DMA, and
	 * frames from the wire are lost */
	int req_fd;
	unsigned requests;
	bool gone;
	uint64_t late_accesses, lost_gone;

	/* what the model saw, for tests (read under the lock or when quiet) */
	uint64_t tx_frames, rx_frames, lost_on_wire, lost_link_down, lost_rx_off;
	uint64_t rx_queue_frames[MODEL_MAX_RINGS], tx_queue_frames[MODEL_MAX_RINGS];
	uint64_t dma_faults, bad_tx_desc;
	unsigned resets;
};

/* Creates the model and attaches it as PCI device `addr` through the normal
 * probe path: the e1000 PMD makes a port of it. Needs bp_init() done. NULL on
 * failure (logged). Flags: */
#define E1000_MODEL_EEPROM_DEAD 0x1 /* EERD never answers, RAL0/RAH0 not loaded */
#define E1000_MODEL_QEMU 0x2 /* as QEMU's e1000 (subsystem 1af4:1100): statistics
			      * kept across reads, CTRL.RST resets nothing */
#define E1000_MODEL_82574 0x4 /* an 82574L (8086:10d3), see above */
#define E1000_MODEL_82576 0x8 /* an 82576 PF (8086:10c9), see igb_model.c */
#define E1000_MODEL_VFS_SYSFS 0x10  /* 82576: sysfs says 2 VFs are enabled */
#define E1000_MODEL_VFS_STATUS 0x20 /* 82576: STATUS says so (IOV mode, 2 VFs) */
struct e1000_model *e1000_model_attach(const char *addr, const struct bp_ether_addr *mac,
				       unsigned flags);
/* Attaches the same model again (after bp_cleanup): a new process finds the
 * NIC as the last one left it. */
int e1000_model_reattach(struct e1000_model *m);
/* Sets a register as something else left it (no side effects). */
void e1000_model_poke(struct e1000_model *m, uint32_t off, uint32_t v);
/* Stops the thread and frees the model; call after bp_cleanup() removed the port. */
void e1000_model_free(struct e1000_model *m);
/* Joins two models back to back: what one sends, the other receives. */
void e1000_model_connect(struct e1000_model *a, struct e1000_model *b);

/* A frame arrives from the wire. */
void e1000_model_inject(struct e1000_model *m, const void *frame, uint32_t len);
/* Waits until the model can do nothing more (wire drained or blocked, tx ring
 * done or blocked); false after timeout_ms. */
bool e1000_model_wait_quiet(struct e1000_model *m, unsigned timeout_ms);
void e1000_model_pause(struct e1000_model *m, bool paused);
/* Link down/up: STATUS.LU follows, ICR.LSC is raised. */
void e1000_model_set_link(struct e1000_model *m, bool up);
/* A slow NIC: at most `budget` descriptors per direction per step, `step_us`
 * between steps (0, 0: as fast as it can). */
void e1000_model_set_speed(struct e1000_model *m, unsigned budget, unsigned step_us);
/* Hot-unplug, as QEMU's device_del reaches vfio-pci: the model asks for the
 * device back through the eventfd lib/pci gave it (false if there is none),
 * and is gone once bypass lets go of it; wait_gone waits for that (false
 * after timeout_ms). */
bool e1000_model_unplug(struct e1000_model *m);
bool e1000_model_wait_gone(struct e1000_model *m, unsigned timeout_ms);
/* Register value as the NIC holds it, without read side effects. */
uint32_t e1000_model_reg(struct e1000_model *m, uint32_t off);
/* Under the model's lock: a counter or knob, consistently. */
#define E1000_MODEL_GET(m, field)                                                    \
	({                                                                           \
		pthread_mutex_lock(&(m)->lock);                                      \
		__typeof__((m)->field) v_ = (m)->field;                              \
		pthread_mutex_unlock(&(m)->lock);                                    \
		v_;                                                                  \
	})
#define E1000_MODEL_SET(m, field, value)                                             \
	do {                                                                         \
		pthread_mutex_lock(&(m)->lock);                                      \
		(m)->field = (value);                                                \
		(m)->work_seq++;                                                     \
		pthread_cond_broadcast(&(m)->kick);                                  \
		pthread_mutex_unlock(&(m)->lock);                                    \
	} while (0)

/* ---- between e1000_model.c and e1000e_model.c (the 82574L's parts) ---- */
#define E1000_MODEL_REG(m, off) ((m)->reg[(off) / 4])
/* RSS (MRQC, RETA, RSSRK): the ring frame f goes to, its hash and RSS type
 * (0: none). Ring 0 on an 82540EM or with RSS off. */
unsigned e1000e_model_rss(struct e1000_model *m, const struct model_frame *f, uint32_t *hash, uint32_t *type);
/* Writes an extended descriptor back (RFCTL.EXSTEN). */
void e1000e_model_write_ext(void *desc, uint16_t len, bool last, bool crc_error, uint32_t hash, uint32_t type);
bool e1000e_model_extended(const struct e1000_model *m);
/* MSI-X: sends a message for each cause newly in ICR & IMS (under the lock). */
void e1000e_model_msix_locked(struct e1000_model *m);
/* Interrupts as the 82574L offers them: MSI-X with up to 5 vectors. */
int e1000e_model_msix_enable(struct e1000_model *m, uint16_t want, struct bp_intr_handle *h);
void e1000e_model_msix_disable(struct e1000_model *m);
/* MSI-X with n vectors (an eventfd each) into h; update_locked then sends
 * what is pending. */
int e1000_model_msix_open(struct e1000_model *m, unsigned n, struct bp_intr_handle *h,
			  void (*update_locked)(struct e1000_model *m));
/* Sends one MSI-X message on vector v (under the lock). */
void e1000_model_msix_send(struct e1000_model *m, unsigned v);

/* ---- between e1000_model.c and igb_model.c (the 82576's parts) ---- */
/* Where ring q's registers start (its base-low register). */
uint32_t model_rx_block(const struct e1000_model *m, unsigned q);
uint32_t model_tx_block(const struct e1000_model *m, unsigned q);
/* Power-on/CTRL.RST defaults beyond the family's. */
void igb_model_reset_locked(struct e1000_model *m);
/* Register accesses with side effects; false: a plain register. */
bool igb_model_read_locked(struct e1000_model *m, uint32_t off, uint32_t *v);
bool igb_model_write_locked(struct e1000_model *m, uint32_t off, uint32_t v);
/* Ring q runs (RXDCTL/TXDCTL.ENABLE); its buffer size (SRRCTL). */
bool igb_model_queue_on(const struct e1000_model *m, bool rx, unsigned q);
uint32_t igb_model_rx_buf(const struct e1000_model *m, unsigned q);
/* RSS: ring, hash and type (igb_regs.h codes) of frame f. */
unsigned igb_model_rss(struct e1000_model *m, const struct model_frame *f, uint32_t *hash, uint32_t *type);
/* Advanced write-back (7.1.5). */
void igb_model_write_adv(void *desc, uint16_t len, bool last, bool crc_error, uint32_t hash, uint32_t type);
/* A queue's cause: its vector's EICR bit (IVAR) under MSI-X, and ICR's. */
void igb_model_queue_cause(struct e1000_model *m, bool rx, unsigned q);
/* A frame for ring q found no descriptor: RQDPC (Drop_En) or MPC. */
void igb_model_no_room(struct e1000_model *m, unsigned q);
/* Interrupts: MSI-X per EICR & EIMS, or ICR & IMS on one vector. */
void igb_model_irq_locked(struct e1000_model *m);
int igb_model_msix_enable(struct e1000_model *m, uint16_t want, struct bp_intr_handle *h);

#endif
