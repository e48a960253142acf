/* SPDX-License-Identifier: MIT
 * A software 82576 virtual function for the igbvf PMD, and the PF behind it.
 *
 * The VF (igbvf_model.c): its 16 KiB register file (VTCTRL, VTSTATUS, the
 * mailbox, two rx and two tx queues, MSI-X causes, the cumulative VFG*
 * statistics) reached through the BP_MMIO_MODEL hooks, attached through the
 * normal probe path as 8086:10ca. Its rings take advanced descriptors
 * (datasheet 7.1.5, 7.2.2.3): rx writes DD, EOP and the length back into
 * every descriptor it fills, and a frame that finds RDH == RDT is missed
 * (counted, exactly); tx sends a frame at its EOP descriptor and writes DD
 * back where RS asks. A queue works while its RXDCTL/TXDCTL.ENABLE is set;
 * while the link is down tx waits and arriving frames are lost.
 *
 * The PF (igbvf_pf.c): what the kernel's igb driver does on its side of the
 * mailbox, as its public protocol says: it acknowledges each message (PFACK),
 * answers VF_RESET with the address it keeps for the VF (ACK) or none (NACK)
 * and from then on is clear to send (CTS in every reply), accepts or refuses
 * SET_MAC_ADDR (an address set by the administrator wins), keeps the VF's
 * multicast hashes, largest frame and multicast promiscuity, ignores every
 * request but VF_RESET until the VF reset (NACK without CTS). Knobs make it
 * a PF that never answers (its driver gone) or one that resets under a
 * running VF: RSTI while it resets (the link drops, the VF's queues are
 * cleared as the PF's reset clears them), then RSTD and a control message.
 *
 * Like the hardware (and QEMU 10's model of it): VFU is granted only while
 * the PF does not hold the buffer, PFSTS/PFACK/RSTD clear on a read of
 * V2PMailbox, REQ or ACK written without VFU gives the buffer back.
 */
#ifndef BYPASS_TEST_IGBVF_MODEL_H
#define BYPASS_TEST_IGBVF_MODEL_H

#include "model.h"
#include "../../lib/pci/pci_model.h"
#include "../../drivers/net/igb/igbvf_regs.h"

/* The PF's side of one VF's mailbox. */
struct igbvf_pf {
	bool dead;         /* its driver is gone: no acknowledgement, no answer */
	bool has_mac;      /* it keeps an address for the VF */
	bool admin_mac;    /* set by the administrator: SET_MAC_ADDR of another is refused */
	uint8_t mac[6];
	bool cts;          /* the VF reset since the PF last forgot it */
	bool resetting;    /* RSTI: between igbvf_model_pf_reset and _done */
	uint16_t mc[IGBVF_MAX_MC_HASHES];
	unsigned nb_mc;
	uint32_t max_frame;
	bool allmulti;
	/* what it saw */
	unsigned vflr, requests, replies, nacks, acks_from_vf;
	uint32_t last_id;
	/* internal */
	bool req, reply_pending;
	uint32_t reply[IGBVF_MBX_WORDS];
	unsigned reply_len;
};

struct igbvf_model {
	uint32_t reg[IGBVF_BAR0_LEN / 4];
	pthread_mutex_t lock;
	pthread_cond_t kick;
	pthread_t thread;
	bool stop, link_up;
	uint64_t work_seq;
	char addr[16];
	struct bp_pci_model pci;
	struct igbvf_pf pf;
	/* the wire: frames on their way to the VF (to rx queue rx_queue), and
	 * what it sent */
	struct frame_queue in, out;
	unsigned rx_queue;
	bool paused;     /* the NIC does nothing: rings fill */
	bool is_quiet;   /* the thread found nothing it could do */
	pthread_cond_t quiet;
	/* what it saw */
	uint64_t rx_frames, tx_frames, rx_missed, lost_link_down;
	/* MSI-X: an eventfd per vector; the causes whose message went out */
	bool msix;
	unsigned nb_vec;
	int vec_fd[IGBVF_MSIX_VECTORS];
	uint64_t vec_irqs[IGBVF_MSIX_VECTORS];
	uint32_t msix_sent;
	uint64_t dma_faults;
	/* knobs, set before the port starts: one MSI-X vector whatever is
	 * asked (bypass_uio); VTIVAR_MISC's vector field read as a mask of
	 * vectors (QEMU 10's igb); no mailbox interrupt at all */
	bool one_vector, misc_as_mask, mbx_irq_none;
	/* hot-unplug (as e1000_model.h): the eventfd lib/pci gave for the
	 * device request (-1: none); gone once bypass let go (release): from
	 * then on registers read all ones, writes are lost, no DMA, and every
	 * access counts in late_accesses */
	int req_fd;
	bool gone;
	uint64_t late_accesses;
};

#define IGBVF_MODEL_REG(m, off) ((m)->reg[(off) / 4])

/* Creates a VF and its PF; with attach, probes it as PCI device `addr`
 * (needs bp_init()), else the register file is only reachable at m->reg
 * (the mailbox tests drive igb_mbx directly). mac: the address the PF keeps
 * for the VF, or NULL for none. */
struct igbvf_model *igbvf_model_new(const char *addr, const uint8_t *mac, bool admin_mac, bool attach);
void igbvf_model_free(struct igbvf_model *m);

/* A frame arrives from the wire for the VF's address. */
void igbvf_model_inject(struct igbvf_model *m, const void *frame, uint32_t len);
/* Waits until the NIC can do nothing more (wire drained or no descriptor,
 * tx rings done); false after timeout_ms. */
bool igbvf_model_wait_quiet(struct igbvf_model *m, unsigned timeout_ms);
void igbvf_model_pause(struct igbvf_model *m, bool paused);
/* The PF's driver: gone (dead) or back. */
void igbvf_model_pf_dead(struct igbvf_model *m, bool dead);
/* The PF resets: RSTI, link down, the VF's queues and CTS gone. */
void igbvf_model_pf_reset(struct igbvf_model *m);
/* ... and is done: RSTD, link up, a control message without CTS. */
void igbvf_model_pf_reset_done(struct igbvf_model *m);
/* The port's link (VTSTATUS.LU), and the PF's control message about it. */
void igbvf_model_set_link(struct igbvf_model *m, bool up);
/* The device asks to go (QEMU's device_del reaching vfio-pci's request):
 * false if lib/pci gave it no eventfd. */
bool igbvf_model_unplug(struct igbvf_model *m);
/* Until bypass has let go of it (release), timeout_ms at most. */
bool igbvf_model_wait_gone(struct igbvf_model *m, unsigned timeout_ms);
/* Register as the VF holds it, without read side effects. */
uint32_t igbvf_model_reg(struct igbvf_model *m, uint32_t off);
void igbvf_model_poke(struct igbvf_model *m, uint32_t off, uint32_t v);
#define IGBVF_MODEL_GET(m, field)                                                    \
	({                                                                           \
		pthread_mutex_lock(&(m)->lock);                                      \
		__typeof__((m)->field) v_ = (m)->field;                              \
		pthread_mutex_unlock(&(m)->lock);                                    \
		v_;                                                                  \
	})

/* ---- between igbvf_model.c and igbvf_pf.c (under the lock) ---- */
/* A VF write to V2PMailbox; its read. */
void igbvf_pf_vf_wrote_locked(struct igbvf_model *m, uint32_t v);
uint32_t igbvf_pf_vf_read_locked(struct igbvf_model *m);
/* VTCTRL.RST: the PF hears a function-level reset of the VF. */
void igbvf_pf_vflr_locked(struct igbvf_model *m);
/* The model thread's turn: answers what the VF sent. true if it did something. */
bool igbvf_pf_step_locked(struct igbvf_model *m);
/* A mailbox interrupt to the VF (VTIVAR_MISC's vector). */
void igbvf_model_mbx_irq_locked(struct igbvf_model *m);

#endif
