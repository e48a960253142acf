/* SPDX-License-Identifier: MIT
 * Live statistics: every bypass process answers requests on a UNIX stream
 * socket, DIR/telemetry/PID.sock (DIR: --run-dir, else /run/bypass as root,
 * else $XDG_RUNTIME_DIR/bypass or /tmp/bypass-UID), which bp_init() opens
 * and bp_cleanup() removes. The folder is the user's own (0700), the socket
 * too (0600): only the process's user (and root) may read it.
 *
 * A request is one line of text; each gets one line of JSON back, and the
 * connection stays open for the next:
 *   /           the requests there are
 *   /info       {"pid", "name", "version", "time"}
 *   /ports      every port: driver, state, MAC, link, queues, counters (the
 *               meanings of struct bp_eth_stats), per-queue counters
 *   /mempools   every pool: size, in use, free, object and cache size
 *   /lcores     every lcore: main or worker, running or waiting
 *   /stats      all of the above in one document (what `bypass stats` reads)
 * A request it does not know, or that is not one line of printable text of
 * at most 255 bytes, gets {"error": "..."} (a line that long is answered,
 * then the connection is closed); it never stops the process.
 *
 *   echo /ports | socat - UNIX-CONNECT:/run/bypass/telemetry/1234.sock | jq .
 */
#ifndef BYPASS_TELEMETRY_H
#define BYPASS_TELEMETRY_H

#include <stddef.h>

#define BP_TELEMETRY_REQUEST_MAX 255

/* The socket folder for run_dir (NULL: the default) into buf: 0, or
 * -ENAMETOOLONG. Clients (bypass stats) look where servers put it. */
int bp_telemetry_dir(char *buf, size_t len, const char *run_dir);
/* Opens the socket and starts its thread (bp_init does, unless
 * --no-telemetry): 0, or a negative errno after one warning line that says
 * what to change; the process runs on without it. */
int bp_telemetry_start(void);
/* Closes and removes the socket (bp_cleanup does). */
void bp_telemetry_stop(void);
/* The socket's path while it is open, else NULL. */
const char *bp_telemetry_path(void);
/* The answer to one request, as the socket would send it (without the
 * newline), in memory the caller frees; NULL if out of memory. */
char *bp_telemetry_answer(const char *request);

#endif
