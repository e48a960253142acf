/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "capfile.h"

static int load(const char *path, struct capfile *f)
{
	memset(f, 0, sizeof(*f));
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -1;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	f->buf = malloc((size_t)n + 1);
	f->len = f->buf && fread(f->buf, 1, (size_t)n, fp) == (size_t)n ? (size_t)n : 0;
	fclose(fp);
	f->pkt = calloc(f->len / 16 + 1, sizeof(*f->pkt));
	return f->buf && f->pkt ? 0 : -1;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* The classic format: a 24-byte file header (magic a1b2c3d4 for
 * microseconds, a1b23c4d for nanoseconds, host order here), then per frame
 * seconds, sub-seconds, captured length, original length, the bytes. */
const char *capfile_read_pcap(const char *path, struct capfile *f)
{
	if (load(path, f) < 0)
		return "cannot read the file";
	if (f->len < 24)
		return "shorter than a pcap header";
	uint32_t magic = rd32(f->buf), mult;
	if (magic == 0xa1b2c3d4u)
		mult = 1000;
	else if (magic == 0xa1b23c4du)
		mult = 1;
	else
		return "not a pcap file of this host's byte order";
	if (rd32(f->buf + 20) != 1)
		return "link type is not Ethernet";
	for (size_t off = 24; off < f->len;) {
		if (off + 16 > f->len)
			return "a record header is cut short";
		struct cap_pkt *p = &f->pkt[f->n++];
		p->ts_ns = (uint64_t)rd32(f->buf + off) * 1000000000u + (uint64_t)rd32(f->buf + off + 4) * mult;
		p->cap_len = rd32(f->buf + off + 8);
		p->orig_len = rd32(f->buf + off + 12);
		p->data = f->buf + off + 16;
		off += 16 + p->cap_len;
		if (off > f->len)
			return "a record's data is cut short";
	}
	return NULL;
}

/* Options of a block: code, length, value padded to 4, until code 0. */
static const char *options(struct capfile *f, uint32_t type, const uint8_t *p, const uint8_t *end,
			   struct cap_pkt *pkt)
{
	while (p + 4 <= end) {
		uint16_t code, len;
		memcpy(&code, p, 2);
		memcpy(&len, p + 2, 2);
		if (code == 0)
			return NULL;
		if (p + 4 + len > end)
			return "an option runs past its block";
		const uint8_t *v = p + 4;
		if (type == 1 && code == 2)
			snprintf(f->if_name, sizeof(f->if_name), "%.*s", len, (const char *)v);
		if (type == 1 && code == 9 && len == 1)
			f->if_tsresol = v[0];
		if (type == 6 && code == 2 && len == 4)
			pkt->flags = rd32(v);
		if (type == 5 && code == 7 && len == 8) {
			memcpy(&f->isb_osdrop, v, 8);
			f->isb_has_osdrop = 1;
		}
		p += 4 + ((len + 3u) & ~3u);
	}
	return "options without an end";
}

const char *capfile_read_pcapng(const char *path, struct capfile *f)
{
	if (load(path, f) < 0)
		return "cannot read the file";
	for (size_t off = 0; off < f->len;) {
		if (off + 12 > f->len)
			return "a block header is cut short";
		uint32_t type = rd32(f->buf + off), len = rd32(f->buf + off + 4);
		if (len < 12 || len % 4 || off + len > f->len)
			return "a block length is wrong";
		if (rd32(f->buf + off + len - 4) != len)
			return "a block's two lengths differ";
		const uint8_t *b = f->buf + off + 8, *end = f->buf + off + len - 4;
		const char *err = NULL;
		if (off == 0 && type != 0x0A0D0D0Au)
			return "the file does not start with a Section Header Block";
		if (type == 0x0A0D0D0Au) {
			if (rd32(b) != 0x1A2B3C4Du)
				return "SHB byte-order magic";
			f->shb++;
			err = options(f, type, b + 16, end, NULL);
		} else if (type == 1) {
			f->idb++;
			err = options(f, type, b + 8, end, NULL);
		} else if (type == 6) {
			struct cap_pkt *p = &f->pkt[f->n++];
			if (rd32(b) != 0)
				return "an EPB of an interface other than 0";
			p->ts_ns = (uint64_t)rd32(b + 4) << 32 | rd32(b + 8);
			p->cap_len = rd32(b + 12);
			p->orig_len = rd32(b + 16);
			p->data = b + 20;
			err = options(f, type, b + 20 + ((p->cap_len + 3u) & ~3u), end, p);
		} else if (type == 5) {
			f->isb++;
			err = options(f, type, b + 12, end, NULL);
		}
		if (err)
			return err;
		off += len;
	}
	return NULL;
}

void capfile_free(struct capfile *f)
{
	free(f->buf);
	free(f->pkt);
	memset(f, 0, sizeof(*f));
}

int capfile_write_pcap(const char *path, const uint8_t *const *frames, const uint32_t *lens, unsigned n)
{
	FILE *fp = fopen(path, "wb");
	if (!fp)
		return -1;
	uint32_t hdr[6] = { 0xa1b23c4du, 2 | 4u << 16, 0, 0, 65535, 1 };
	fwrite(hdr, 4, 6, fp);
	for (unsigned i = 0; i < n; i++) {
		uint32_t rec[4] = { 1700000000u + i, i * 1000u, lens[i], lens[i] };
		fwrite(rec, 4, 4, fp);
		fwrite(frames[i], 1, lens[i], fp);
	}
	return fclose(fp) ? -1 : 0;
}
