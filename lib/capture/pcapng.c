/* SPDX-License-Identifier: MIT
 * See pcapng.h. */
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "pcapng.h"

void pcapng_flush(struct pcapng_writer *w)
{
	size_t off = 0;
	while (!w->err && off < w->used) {
		ssize_t n = write(w->fd, w->buf + off, w->used - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->err = n < 0 ? -errno : -EIO;
		else
			off += (size_t)n;
	}
	w->used = 0;
}

/* Room for len more bytes in the buffer (a block never exceeds it: frames
 * are at most 64 KiB). */
static uint8_t *reserve(struct pcapng_writer *w, size_t len)
{
	if (w->used + len > sizeof(w->buf))
		pcapng_flush(w);
	uint8_t *p = w->buf + w->used;
	w->used += len;
	return p;
}

static inline size_t pad4(size_t n) { return (n + 3) & ~(size_t)3; }

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return p + 4;
}

/* §3.5: code, length, value, zero padding to 32 bits. */
static uint8_t *put_opt(uint8_t *p, uint16_t code, const void *v, uint16_t len)
{
	memcpy(p, &code, 2);
	memcpy(p + 2, &len, 2);
	if (len)
		memcpy(p + 4, v, len);
	memset(p + 4 + len, 0, pad4(len) - len);
	return p + 4 + pad4(len);
}

static inline size_t opt_size(size_t len) { return 4 + pad4(len); }

/* §4.3 and §4.6 timestamps: the units since 1970 as two 32-bit halves, the
 * high one first. */
static uint8_t *put_ts(uint8_t *p, uint64_t ts)
{
	p = put32(p, (uint32_t)(ts >> 32));
	return put32(p, (uint32_t)ts);
}

int pcapng_open(struct pcapng_writer *w, const char *path, const char *if_name, uint32_t snaplen)
{
	static const char app[] = "bypass";
	w->used = 0;
	w->err = 0;
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
		return -errno;
	/* §4.1 SHB: type, length, byte-order magic, version 1.0, section
	 * length -1 (not given), options, length. */
	size_t len = 28 + opt_size(sizeof(app) - 1) + 4;
	uint8_t *p = reserve(w, len);
	p = put32(p, PCAPNG_SHB);
	p = put32(p, (uint32_t)len);
	p = put32(p, PCAPNG_BYTE_ORDER);
	uint16_t ver[2] = { 1, 0 };
	memcpy(p, ver, 4);
	p += 4;
	memset(p, 0xff, 8);
	p += 8;
	p = put_opt(p, PCAPNG_OPT_SHB_USERAPPL, app, sizeof(app) - 1);
	p = put_opt(p, PCAPNG_OPT_END, NULL, 0);
	put32(p, (uint32_t)len);
	/* §4.2 IDB: link type, reserved, snaplen, options (name, ns units). */
	uint16_t nl = (uint16_t)strnlen(if_name, 64);
	uint8_t tsresol = 9;
	len = 16 + opt_size(nl) + opt_size(1) + 4 + 4;
	p = reserve(w, len);
	p = put32(p, PCAPNG_IDB);
	p = put32(p, (uint32_t)len);
	uint16_t lt[2] = { PCAPNG_LINKTYPE_ETHERNET, 0 };
	memcpy(p, lt, 4);
	p = put32(p + 4, snaplen);
	p = put_opt(p, PCAPNG_OPT_IF_NAME, if_name, nl);
	p = put_opt(p, PCAPNG_OPT_IF_TSRESOL, &tsresol, 1);
	p = put_opt(p, PCAPNG_OPT_END, NULL, 0);
	put32(p, (uint32_t)len);
	pcapng_flush(w);
	if (w->err) {
		close(w->fd);
		unlink(path);
	}
	return w->err;
}

void pcapng_packet(struct pcapng_writer *w, uint64_t ts_ns, const void *data, uint32_t cap_len,
		   uint32_t orig_len, uint32_t flags)
{
	/* §4.3 EPB: interface id, timestamp, captured and original length,
	 * the data padded to 32 bits, epb_flags (direction), end. */
	size_t len = 28 + pad4(cap_len) + opt_size(4) + 4 + 4;
	uint8_t *p = reserve(w, len);
	p = put32(p, PCAPNG_EPB);
	p = put32(p, (uint32_t)len);
	p = put32(p, 0);
	p = put_ts(p, ts_ns);
	p = put32(p, cap_len);
	p = put32(p, orig_len);
	memcpy(p, data, cap_len);
	memset(p + cap_len, 0, pad4(cap_len) - cap_len);
	p += pad4(cap_len);
	p = put_opt(p, PCAPNG_OPT_EPB_FLAGS, &flags, 4);
	p = put_opt(p, PCAPNG_OPT_END, NULL, 0);
	put32(p, (uint32_t)len);
}

int pcapng_close(struct pcapng_writer *w, uint64_t start_ns, uint64_t end_ns, uint64_t dropped)
{
	/* §4.6 ISB: interface id, timestamp, then start, end, drops. */
	size_t len = 20 + 3 * opt_size(8) + 4 + 4;
	uint8_t *p = reserve(w, len), ts[8];
	p = put32(p, PCAPNG_ISB);
	p = put32(p, (uint32_t)len);
	p = put32(p, 0);
	p = put_ts(p, end_ns);
	put_ts(ts, start_ns);
	p = put_opt(p, PCAPNG_OPT_ISB_STARTTIME, ts, 8);
	put_ts(ts, end_ns);
	p = put_opt(p, PCAPNG_OPT_ISB_ENDTIME, ts, 8);
	p = put_opt(p, PCAPNG_OPT_ISB_OSDROP, &dropped, 8);
	p = put_opt(p, PCAPNG_OPT_END, NULL, 0);
	put32(p, (uint32_t)len);
	pcapng_flush(w);
	if (close(w->fd) < 0 && !w->err)
		w->err = -errno;
	w->fd = -1;
	return w->err;
}
