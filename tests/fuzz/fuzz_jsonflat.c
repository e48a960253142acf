/* SPDX-License-Identifier: MIT
 * The JSON reader of `bypass stats` (tools/stats/jsonflat.c): it reads what
 * a process's statistics socket sends, and any process may listen there. */
#include <stdlib.h>
#include <string.h>
#include "../../tools/stats/jsonflat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	struct jf_doc doc;
	if (jf_parse(text, &doc) == 0) {
		/* the look-ups bypass stats makes */
		jf_get(&doc, "info.pid");
		jf_num(&doc, "ports.%u.stats.ipackets", 0u);
		for (unsigned i = 0; i < doc.n; i++)
			if (!doc.leaf[i].path || !doc.leaf[i].text ||
			    (strlen(doc.leaf[i].path) < 500 && !jf_get(&doc, "%s", doc.leaf[i].path)))
				abort(); /* every leaf is found by its own path (look-ups take 511 bytes) */
		jf_free(&doc);
	} else if (doc.n) {
		abort(); /* refused: the document is left empty */
	}
	free(text);
	return 0;
}
