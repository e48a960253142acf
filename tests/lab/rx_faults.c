/* SPDX-License-Identifier: MIT
 * In the lab guest (e1000x2, both NICs bound): faults on the receive side,
 * with port A sending numbered, checksummed test frames (apps/common/
 * testpkt.h) across the wire to port B, in one process.
 *   rx-faults drain A B      the mempool runs dry under traffic
 *   rx-faults bad-iova A B   one rx descriptor points at an IOVA the IOMMU
 *                            does not map (needs vfio-pci with the IOMMU)
 * Each step prints one line; the last says "rx-faults: ok" or names what
 * failed, and the exit status is 0 only then. Only what is exact on an
 * emulator is asserted: QEMU may drop frames no register counts, so while
 * the pool is dry "dropped > 0", never an exact count; frames sent in steps
 * where the receiver takes everything in time all arrive, in order. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <sys/mman.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/mem.h>
#include <bypass/mbuf.h>
#include "../../apps/common/testpkt.h"
#include "e1000_fault.h"

#define LEN 128    /* frame bytes, without FCS */
#define BATCH 32   /* frames sent before the receiver takes them */
#define HELD_MAX 4096

static struct bp_mempool *txpool, *rxpool;
static uint16_t pa, pb; /* the sending and the receiving port */
static uint8_t tmpl[TESTPKT_HDRS];
static uint64_t tx_seq;
static int failures;

/* What the receiver saw of the current stream. */
struct tally {
	uint16_t stream;
	uint64_t verified, bytes, bad, other, out_of_order, next_seq;
};

/* One line that says what failed. */
static void __attribute__((format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct bp_eth_stats stats(uint16_t port)
{
	struct bp_eth_stats st;
	bp_eth_stats_get(port, &st);
	return st;
}

static int port_setup(const char *name, uint16_t *port, struct bp_mempool *mp, uint16_t rxd)
{
	struct bp_eth_conf conf = { .size = sizeof(conf), .promiscuous = 1 };
	if (bp_eth_dev_get_port_by_name(name, port) < 0) {
		fail("no port %s", name);
		return -1;
	}
	if (bp_eth_dev_configure(*port, 1, 1, &conf) < 0 || bp_eth_rx_queue_setup(*port, 0, rxd, mp) < 0 ||
	    bp_eth_tx_queue_setup(*port, 0, 256) < 0 || bp_eth_dev_start(*port) < 0) {
		fail("port %s could not be started", name);
		return -1;
	}
	return 0;
}

/* Both ports up: A sends from txpool, B receives into an rx ring of rxd
 * descriptors from rxpool, a pool of rx_mbufs with no lcore cache (so that
 * "the pool is empty" is exact). */
static int open_ports(char *argv0, const char *a, const char *b, uint32_t rx_mbufs, uint16_t rxd)
{
	char *eargv[] = { argv0, "-l", "0", "-a", (char *)a, "-a", (char *)b, "--log-level", "warning", NULL };
	if (bp_init(9, eargv) < 0)
		return -1;
	txpool = bp_pktmbuf_pool_create("faults_tx", 2048, 64, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	rxpool = bp_pktmbuf_pool_create("faults_rx", rx_mbufs, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	if (!txpool || !rxpool || port_setup(a, &pa, txpool, 64) < 0 || port_setup(b, &pb, rxpool, rxd) < 0)
		return -1;
	struct bp_ether_addr src, dst;
	bp_eth_macaddr_get(pa, &src);
	bp_eth_macaddr_get(pb, &dst);
	testpkt_template(tmpl, &dst, &src, LEN, 0);
	return 0;
}

/* Sends n frames of `stream` from A (every one: a full tx ring is retried). */
static int send_frames(unsigned n, uint16_t stream)
{
	tmpl[TESTPKT_L2 + 4] = (uint8_t)(stream >> 8), tmpl[TESTPKT_L2 + 5] = (uint8_t)stream;
	tmpl[TESTPKT_L2 + 10] = tmpl[TESTPKT_L2 + 11] = 0;
	uint16_t c = testpkt_ip_cksum(tmpl + TESTPKT_L2);
	tmpl[TESTPKT_L2 + 10] = (uint8_t)(c >> 8), tmpl[TESTPKT_L2 + 11] = (uint8_t)c;
	while (n) {
		struct bp_mbuf *m[BATCH];
		uint16_t k = (uint16_t)(n < BATCH ? n : BATCH), sent = 0;
		if (bp_pktmbuf_alloc_bulk(txpool, m, k) < 0) {
			fail("the sender's pool ran out");
			return -1;
		}
		for (uint16_t i = 0; i < k; i++) {
			testpkt_fill((uint8_t *)bp_pktmbuf_append(m[i], LEN), tmpl, LEN, tx_seq++);
		}
		for (double end = now_s() + 5; sent < k && now_s() < end;)
			sent = (uint16_t)(sent + bp_eth_tx_burst(pa, 0, m + sent, (uint16_t)(k - sent)));
		if (sent < k) {
			bp_pktmbuf_free_bulk(m + sent, (unsigned)(k - sent));
			fail("port A took %u of %u frames in 5 s", sent, k);
			return -1;
		}
		n -= k;
	}
	return 0;
}

/* Counts one received frame into t. */
static void tally_frame(struct tally *t, struct bp_mbuf *m)
{
	const uint8_t *p = bp_pktmbuf_mtod(m, const uint8_t *);
	uint64_t seq;
	enum testpkt_verdict v = testpkt_check(p, m->pkt_len, &seq);
	if (v == TESTPKT_NOT_OURS || testpkt_stream(p) != t->stream) {
		t->other++; /* an earlier step's frame, which QEMU held back */
		return;
	}
	if (v != TESTPKT_OK) {
		t->bad++;
		return;
	}
	if (t->verified && seq != t->next_seq)
		t->out_of_order++;
	t->next_seq = seq + 1;
	t->verified++;
	t->bytes += m->pkt_len;
}

/* Takes frames from B until `want` of t's stream have verified or `secs`
 * passed; keeps them in held[] (up to HELD_MAX) when held is not NULL, else
 * frees them. Returns how many rx_burst handed out. */
static uint64_t receive(struct tally *t, uint64_t want, double secs, struct bp_mbuf **held, unsigned *nheld)
{
	uint64_t got = 0;
	for (double end = now_s() + secs; t->verified < want && now_s() < end;) {
		struct bp_mbuf *m[BATCH];
		uint16_t n = bp_eth_rx_burst(pb, 0, m, BATCH);
		for (uint16_t i = 0; i < n; i++) {
			tally_frame(t, m[i]);
			if (held && *nheld < HELD_MAX)
				held[(*nheld)++] = m[i];
			else
				bp_pktmbuf_free(m[i]);
		}
		got += n;
	}
	return got;
}

/* n frames of a new stream, BATCH at a time, each batch taken before the
 * next is sent (so that neither the ring nor QEMU's queue overflows): all
 * must arrive, verified, in order, with their bytes. */
static void traffic_verified(const char *what, unsigned n, uint16_t stream)
{
	struct tally t = { .stream = stream };
	uint64_t first = tx_seq;
	for (unsigned done = 0; done < n && !failures; done += BATCH) {
		unsigned k = n - done < BATCH ? n - done : BATCH;
		if (send_frames(k, stream) < 0)
			return;
		receive(&t, done + k, 5, NULL, NULL);
	}
	if (t.verified != n || t.bytes != (uint64_t)n * LEN || t.bad || t.out_of_order || t.next_seq != first + n)
		fail("%s: %llu of %u frames verified (%llu bytes), %llu bad, %llu out of order", what,
		     (unsigned long long)t.verified, n, (unsigned long long)t.bytes, (unsigned long long)t.bad,
		     (unsigned long long)t.out_of_order);
	else
		printf("%s: %u of %u frames verified in order, %llu bytes; %llu of an earlier step\n", what, n, n,
		       (unsigned long long)t.bytes, (unsigned long long)t.other);
}

/* The first frame crosses once QEMU's e1000 takes frames again (it holds
 * them for a second after RCTL is written): a readiness marker, not a sleep. */
static void first_frame(void)
{
	struct tally t = { .stream = 1 };
	if (send_frames(1, 1) == 0 && (receive(&t, 1, 15, NULL, NULL), t.verified != 1))
		fail("the first frame never crossed the wire");
}

static int finish(void)
{
	uint16_t p;
	BP_ETH_FOREACH_DEV(p)
		bp_eth_dev_close(p);
	uint32_t tx_out = bp_mempool_in_use_count(txpool), rx_out = bp_mempool_in_use_count(rxpool);
	printf("mbufs in use at exit: %u of the sender's, %u of the receiver's\n", tx_out, rx_out);
	if (tx_out || rx_out)
		failures++;
	bp_mempool_free(txpool);
	bp_mempool_free(rxpool);
	bp_cleanup();
	printf("rx-faults: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}

/* The receiver holds every frame it gets until its pool is empty; frames
 * that then arrive find no mbuf to replace their buffer: rx_burst hands out
 * nothing and counts each in rx_nombuf, the ring never runs dry. Once the
 * frames are freed, traffic flows again, every frame verified. */
static int drain(void)
{
	static struct bp_mbuf *held[HELD_MAX];
	unsigned nheld = 0;
	const uint16_t rxd = 128;
	first_frame();
	/* the ring has rxd mbufs, the pool the rest: hold them all */
	struct tally t = { .stream = 2 };
	while (!failures && bp_mempool_avail_count(rxpool) > 0) {
		if (send_frames(16, 2) < 0)
			break;
		receive(&t, t.verified + 16, 5, held, &nheld);
		if (nheld >= HELD_MAX)
			break;
	}
	if (failures)
		return finish();
	struct bp_eth_stats before = stats(pb);
	printf("drain: holding %u frames, the pool has %u free of %u\n", nheld, bp_mempool_avail_count(rxpool),
	       rxpool->size);
	/* More traffic into the dry pool: rx_burst must hand out nothing and
	 * count drops; polled until it has counted some (or 10 s). */
	uint64_t handed = 0;
	if (send_frames(2 * rxd, 2) == 0)
		for (double end = now_s() + 10; now_s() < end && stats(pb).rx_nombuf == before.rx_nombuf;)
			handed += receive(&t, UINT64_MAX, 0.05, held, &nheld);
	handed += receive(&t, UINT64_MAX, 0.2, held, &nheld); /* and after the drops: still nothing */
	struct bp_eth_stats dry = stats(pb);
	unsigned long long nombuf = dry.rx_nombuf - before.rx_nombuf, missed = dry.imissed - before.imissed;
	if (handed || dry.ipackets != before.ipackets || nombuf == 0)
		fail("pool empty: rx_burst handed out %llu frames, counted %llu in rx_nombuf",
		     (unsigned long long)handed, nombuf);
	else
		printf("pool empty: %u frames sent, rx_burst handed out none; rx_nombuf %llu, imissed %llu\n",
		       2 * rxd, nombuf, missed);
	bp_pktmbuf_free_bulk(held, nheld);
	printf("released: the pool has %u free of %u\n", bp_mempool_avail_count(rxpool), rxpool->size);
	traffic_verified("after the release", 512, 3);
	return finish();
}

/* Where the bad descriptor points: an address the process owns and fills
 * with a canary, but never maps into the IOMMU. bypass maps its zones at
 * IOVA = VA where the VA fits the IOMMU's ranges, so were this address mapped
 * by mistake, the NIC's write would land in the canary; a write that goes to
 * the physical address of the same number instead (no IOMMU at all) would
 * miss it, which is why the mbuf buffer the descriptor should have named is
 * checked too: it must stay as we filled it. 256 GiB: inside the IOMMU's
 * address width (39 bits on QEMU 7.2's intel-iommu, 48 on QEMU 10's, where
 * VFIO reports ranges up to 0xffffffffffff), far above the IOVAs bypass
 * allocates when a VA does not fit (upward from 4 GiB), far below the VAs
 * mmap hands out for zones (0x7f...). */
#define CANARY_VA 0x4000000000ull /* 256 GiB */
#define CANARY_LEN 8192

static int bad_iova(void)
{
	uint8_t *canary = mmap((void *)CANARY_VA, CANARY_LEN, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_POPULATE, -1, 0);
	if (canary == MAP_FAILED || (uintptr_t)canary != CANARY_VA) {
		fail("cannot map the canary at %#llx: %s", CANARY_VA, strerror(errno));
		return finish();
	}
	memset(canary, 0x5a, CANARY_LEN);
	if (bp_mem_iova_to_va(CANARY_VA, CANARY_LEN))
		fail("canary: %#llx is the IOVA of a bypass zone", CANARY_VA);
	first_frame();
	traffic_verified("before", 64, 2);
	if (failures)
		return finish();
	void *intended;
	int idx = e1000_fault_rx_misdirect(pb, 0, CANARY_VA, &intended);
	if (idx < 0) {
		fail("the fault could not be injected: %s", strerror(-idx));
		return finish();
	}
	memset(intended, 0xa5, LEN);
	printf("bad-iova: %s rx descriptor %d points at %#llx, which the IOMMU does not map\n", bp_eth_dev_name(pb),
	       idx, CANARY_VA);
	fflush(stdout);
	/* One frame for that descriptor. The NIC's write to the buffer is
	 * blocked; what it does next is the emulator's (QEMU's e1000 writes
	 * the descriptor back all the same): rx_burst may hand out the mbuf
	 * whose buffer the NIC never reached, which must then still hold what
	 * we wrote into it. */
	struct tally t = { .stream = 4 };
	uint64_t sent_at = tx_seq, handed = 0, untouched = 0, reached = 0;
	if (send_frames(1, 4) == 0)
		for (double end = now_s() + 3; now_s() < end && !handed;) {
			struct bp_mbuf *m;
			if (bp_eth_rx_burst(pb, 0, &m, 1) == 0)
				continue;
			handed++;
			const uint8_t *p = bp_pktmbuf_mtod(m, const uint8_t *);
			if (p == intended) {
				untouched = 1;
				for (unsigned i = 0; i < LEN; i++)
					untouched &= p[i] == 0xa5;
				reached = !untouched;
			} else {
				tally_frame(&t, m);
			}
			bp_pktmbuf_free(m);
		}
	if (reached || t.verified)
		fail("bad-iova: the NIC wrote frame %llu through the bad descriptor (%llu verified)",
		     (unsigned long long)sent_at, (unsigned long long)t.verified);
	else
		printf("bad-iova: the frame for it was %s\n",
		       untouched ? "handed out by rx_burst with its buffer untouched (the NIC's write never landed)"
				 : "never handed out");
	traffic_verified("after the bad descriptor", 512, 5);
	unsigned changed = 0;
	for (unsigned i = 0; i < CANARY_LEN; i++)
		changed += canary[i] != 0x5a;
	if (changed)
		fail("canary: %u bytes at %#llx changed", changed, CANARY_VA);
	else
		printf("canary: all %u bytes at %#llx as they were\n", CANARY_LEN, CANARY_VA);
	munmap(canary, CANARY_LEN);
	return finish();
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[1], "drain") && strcmp(argv[1], "bad-iova"))) {
		fprintf(stderr, "usage: rx-faults drain|bad-iova PCI-A PCI-B\n");
		return 2;
	}
	bool dry = !strcmp(argv[1], "drain");
	/* drain: a ring of 128 and 64 mbufs to spare */
	if (open_ports(argv[0], argv[2], argv[3], dry ? 192 : 1024, dry ? 128 : 256) < 0) {
		printf("rx-faults: FAILED to start\n");
		return 1;
	}
	return dry ? drain() : bad_iova();
}
