/* SPDX-License-Identifier: MIT
 * Device arguments ("key=value,..."): the first byte picks the keys of one
 * user (a driver, or the capture spec PORT:FILE,k=v), the rest is the text.
 * Every key is read as the driver reads it, as text and as a number. */
#include <stdlib.h>
#include <string.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/capture.h>

static const char *const null_keys[] = { "size", "no-rx", "queues", NULL };
static const char *const ring_keys[] = { "queues", "size", "peer", NULL };
static const char *const pcap_keys[] = { "rx_pcap", "tx_pcap", "infinite_rx", NULL };
static const char *const user_keys[] = { "path", "queues", "in_order", "event_idx", "mac", "packed", NULL };
static const char *const *const key_sets[] = { null_keys, ring_keys, pcap_keys, user_keys, NULL };
#define NB_SETS (sizeof(key_sets) / sizeof(key_sets[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	unsigned pick = data[0] % (NB_SETS + 1);

	bp_log_set_level(BP_LOG_DEBUG);
	if (pick == NB_SETS) {
		/* No port exists here, so a spec that parses stops at "no such
		 * port", before any file is made. */
		uint16_t port;
		bp_capture_start_spec(text, &port);
	} else {
		const char *const *keys = key_sets[pick];
		struct bp_kvargs *kv = bp_kvargs_parse(text, keys);
		if (kv) {
			for (unsigned i = 0; keys && keys[i]; i++) {
				unsigned long v = 0;
				const char *s = bp_kvargs_get(kv, keys[i]);
				if (s && strlen(s) > size)
					abort(); /* a value longer than the input: not ours */
				bp_kvargs_get_uint(kv, "fuzz0", keys[i], 1, 4096, &v);
			}
			bp_kvargs_free(kv);
		}
	}
	free(text);
	return 0;
}
