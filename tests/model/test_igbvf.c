/* SPDX-License-Identifier: MIT
 * The 82576 VF: the VF side of the mailbox (drivers/net/igb/igb_mbx.c)
 * against the model of the PF's side (igbvf_pf.c): the reset handshake with
 * and without an address from the PF, SET_MAC_ADDR acknowledged and refused,
 * the multicast hashes as the PF stores them, a PF that never answers, a PF
 * in reset and one that resets under a running VF. */
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <bypass/env.h>
#include <bypass/mmio.h>
#include "../unit/harness.h"
#include "../../drivers/net/igb/igb_mbx.h"
#include "igbvf_model.h"

static const uint8_t pf_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A VF and its PF, not probed: the test is the VF driver. */
static struct igbvf_model *vf_up(const uint8_t *mac, bool admin, struct igb_mbx *mbx)
{
	if (test_env("--no-huge -l 0 --log-level=err") < 0)
		return NULL;
	struct igbvf_model *m = igbvf_model_new("0000:01:10.0", mac, admin, false);
	if (m)
		igb_mbx_init(mbx, m->reg, m->addr);
	return m;
}

/* The VF's own reset, as the driver starts: VTCTRL.RST, then the handshake. */
static int vf_reset(struct igbvf_model *m, struct igb_mbx *mbx, uint8_t mac[6], bool *has)
{
	bp_write32(m->reg, IGBVF_CTRL, IGBVF_CTRL_RST);
	return igb_mbx_vf_reset(mbx, mac, has);
}

TEST(igbvf_mbx_reset_handshake_takes_the_permanent_address_from_the_pf)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6] = { 0 };
	bool has = false;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(has);
	CHECK(memcmp(mac, pf_mac, 6) == 0);
	CHECK(mbx.cts);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.vflr), 1);      /* the PF heard the VF's reset */
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.requests), 1);  /* one VF_RESET */
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.acks_from_vf), 1); /* its reply read and acknowledged */
	CHECK(IGBVF_MODEL_GET(m, pf.cts));
	/* the buffer is back with nobody, nothing left to read */
	CHECK_EQ(igbvf_model_reg(m, IGBVF_V2PMAILBOX) & (IGBVF_MBX_VFU | IGBVF_MBX_PFU), 0);
	CHECK_EQ(igb_mbx_read(&mbx, (uint32_t[1]){ 0 }, 1, false), -EAGAIN);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_no_address_from_the_pf_is_a_nack_and_the_vf_sets_its_own)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(NULL, false, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6] = { 1, 1, 1, 1, 1, 1 };
	bool has = true;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(!has);
	CHECK(mbx.cts); /* clear to send all the same */
	static const uint8_t own[6] = { 0x02, 0xbb, 0, 0, 0, 7 };
	CHECK_EQ(igb_mbx_set_mac(&mbx, own), 0);
	pthread_mutex_lock(&m->lock);
	bool stored = m->pf.has_mac && memcmp(m->pf.mac, own, 6) == 0;
	pthread_mutex_unlock(&m->lock);
	CHECK(stored);
	CHECK_EQ(mbx.st.nacks, 1); /* the VF_RESET's */
	igbvf_model_free(m);
}

TEST(igbvf_mbx_set_mac_acked_or_refused_when_the_administrator_set_one)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, true, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6];
	bool has;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	static const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 0x42 };
	CHECK_EQ(igb_mbx_set_mac(&mbx, other), -EPERM);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.nacks), 1);
	pthread_mutex_lock(&m->lock);
	bool kept = memcmp(m->pf.mac, pf_mac, 6) == 0;
	pthread_mutex_unlock(&m->lock);
	CHECK(kept);
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), 0); /* its own address is fine */
	CHECK(mbx.cts);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_requests_before_the_reset_are_refused)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), -ENETRESET); /* not sent: we know we have no CTS */
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.requests), 0);
	/* sent anyway, the PF refuses it and is not clear to send */
	uint32_t msg[3] = { IGBVF_MSG_SET_MAC_ADDR, 0x00123456, 0x0002 }, reply = 0;
	CHECK_EQ(igb_mbx_request(&mbx, msg, 3, &reply, 1), -EPERM);
	CHECK(reply & IGBVF_MSG_NACK);
	CHECK(!(reply & IGBVF_MSG_CTS));
	igbvf_model_free(m);
}

TEST(igbvf_mbx_multicast_list_reaches_the_pf_as_its_hashes)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	uint8_t mac[6];
	bool has;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	/* hashes: destination address bits 47:36, (a[4] >> 4) | (a[5] << 4) */
	static const uint8_t mc[3][6] = {
		{ 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb }, /* 224.0.0.251: 0xfb0 */
		{ 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 }, /* ff02::1: 0x010 */
		{ 0x01, 0x80, 0xc2, 0x00, 0xae, 0x0e }, /* 0x0ea */
	};
	CHECK_EQ(igb_mbx_set_multicast(&mbx, mc, 3), 0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.nb_mc), 3);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.mc[0]), 0xfb0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.mc[1]), 0x010);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.mc[2]), 0x0ea);
	/* the empty list empties the PF's table; 31 is more than the PF takes */
	CHECK_EQ(igb_mbx_set_multicast(&mbx, mc, 0), 0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.nb_mc), 0);
	unsigned before = IGBVF_MODEL_GET(m, pf.requests);
	uint8_t many[31][6] = { { 0 } };
	CHECK_EQ(igb_mbx_set_multicast(&mbx, (const uint8_t(*)[6])many, 31), -EINVAL);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.requests), before);
	CHECK_EQ(igb_mbx_set_allmulti(&mbx, true), 0);
	CHECK(IGBVF_MODEL_GET(m, pf.allmulti));
	CHECK_EQ(igb_mbx_set_max_frame(&mbx, 1522), 0);
	CHECK_EQ(IGBVF_MODEL_GET(m, pf.max_frame), 1522);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_a_pf_that_never_answers_times_out_with_an_error)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	igbvf_model_pf_dead(m, true);
	mbx.timeout_ms = 100;
	uint8_t mac[6];
	bool has;
	uint64_t t0 = model_now_ns();
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), -ETIMEDOUT);
	uint64_t ms = (model_now_ns() - t0) / 1000000;
	CHECK(ms >= 100 && ms < 1000);
	CHECK_EQ(mbx.st.timeouts, 1);
	CHECK(!mbx.cts);
	/* its driver back: the next reset goes through */
	igbvf_model_pf_dead(m, false);
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(has);
	igbvf_model_free(m);
}

TEST(igbvf_mbx_pf_reset_under_a_running_vf_then_the_vf_resets_again)
{
	struct igb_mbx mbx;
	struct igbvf_model *m = vf_up(pf_mac, false, &mbx);
	CHECK(m != NULL);
	mbx.timeout_ms = 100;
	uint8_t mac[6];
	bool has;
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(!igb_mbx_pf_reset(&mbx));
	igbvf_model_pf_reset(m);
	CHECK(igb_mbx_pf_reset(&mbx)); /* RSTI */
	CHECK(!mbx.cts);
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), -ENETRESET);
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), -ETIMEDOUT); /* still resetting */
	igbvf_model_pf_reset_done(m);
	CHECK(igb_mbx_pf_reset(&mbx)); /* RSTD, once */
	CHECK_EQ(vf_reset(m, &mbx, mac, &has), 0);
	CHECK(has && memcmp(mac, pf_mac, 6) == 0);
	CHECK(!igb_mbx_pf_reset(&mbx));
	CHECK_EQ(igb_mbx_set_mac(&mbx, pf_mac), 0);
	igbvf_model_free(m);
}
