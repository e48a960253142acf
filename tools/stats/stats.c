/* SPDX-License-Identifier: MIT
 * bypass stats [PID] [--watch] [--json] [--prometheus]: a running bypass
 * process's ports, pools and lcores, read from its telemetry socket
 * (bypass/telemetry.h). By default two readings an interval apart give
 * rates, one line per port as testpmd prints them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <bypass/telemetry.h>
#include "jsonflat.h"
#include "stats.h"

#define ASK_LIMIT_S 5

static volatile sig_atomic_t quit;
static void on_signal(int sig) { (void)sig, quit = 1; }

/* Connects to PID's socket in dir: the fd, or -errno. */
static int connect_pid(const char *dir, long pid)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%ld.sock", dir, pid);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A process that is stopped (kill -STOP, a debugger) or stuck answers
	 * nothing: give up after ASK_LIMIT_S rather than hang (the limit also
	 * bounds connect, which waits while the process's backlog is full). */
	struct timeval tv = { .tv_sec = ASK_LIMIT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* The one process with a live socket in dir (-1 with a line saying why:
 * none, or several, named). */
static long find_pid(const char *dir, FILE *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long found = -1, live = 0;
	char list[512] = "";
	while (d && (e = readdir(d))) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		int fd;
		if (pid <= 0 || strcmp(end, ".sock") || (fd = connect_pid(dir, pid)) < 0)
			continue; /* not a socket, or its process is gone */
		close(fd);
		live++;
		found = pid;
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%ld", l ? ", " : "", pid);
	}
	if (d)
		closedir(d);
	if (live == 1)
		return found;
	if (live == 0)
		fprintf(err, "bypass stats: no running bypass process has a statistics socket in %s "
			     "(another user's? give --run-dir DIR as it was given to the program)\n", dir);
	else
		fprintf(err, "bypass stats: %ld bypass processes are running (%s); name one: bypass stats PID\n",
			live, list);
	return -1;
}

/* Sends one request and reads its one-line answer (malloc'd), or NULL. */
static char *ask(int fd, const char *req)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	if (!buf || send(fd, req, strlen(req), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
		return free(buf), NULL;
	for (;;) {
		if (n + 1 == cap) {
			char *b = realloc(buf, cap *= 2);
			if (!b)
				return free(buf), NULL;
			buf = b;
		}
		ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			errno = ECONNRESET; /* closed, not timed out */
		if (r <= 0)
			return free(buf), NULL;
		char *nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
		if (nl) {
			*nl = '\0';
			return buf;
		}
	}
}

/* The process's socket, reopened when the process closed it: a watcher that
 * asked nothing for a while gives its place to a new client when all are
 * taken (lib/telemetry/server.c), and asks again on a new connection. */
struct conn {
	const char *dir;
	long pid;
	int fd;
};

static int reading(struct conn *c, char **text, struct jf_doc *doc, FILE *err)
{
	*text = ask(c->fd, "/stats");
	if (!*text && (errno == ECONNRESET || errno == EPIPE)) {
		int fd = connect_pid(c->dir, c->pid);
		if (fd >= 0) {
			close(c->fd);
			c->fd = fd;
			*text = ask(c->fd, "/stats");
		}
	}
	if (!*text && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		fprintf(err, "bypass stats: the process did not answer in %d s (stopped? stuck?)\n", ASK_LIMIT_S);
		return -1;
	}
	if (!*text) {
		fprintf(err, "bypass stats: the process closed its statistics socket (it ended?)\n");
		return -1;
	}
	if (jf_parse(*text, doc) < 0 || !jf_get(doc, "info.pid")) {
		fprintf(err, "bypass stats: the answer is not the JSON of /stats: %.200s\n", *text);
		free(*text);
		return -1;
	}
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL); /* a signal ends it early, and quit says so */
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bypass stats [PID] [--watch] [--json | --prometheus] [--interval=S] [--count=N]\n"
		   "                    [--run-dir=DIR]\n"
		   "  PID            the process (default: the only one running)\n"
		   "  --watch        again every interval until Ctrl-C (or --count readings)\n"
		   "  --json         the process's /stats document, one line per reading\n"
		   "  --prometheus   the counters in Prometheus's text format\n"
		   "  --interval=S   seconds between readings (default 1)\n"
		   "  --run-dir=DIR  where the program was told to put its socket (its --run-dir)\n");
}

int stats_main(int argc, char **argv, FILE *out, FILE *err)
{
	static const struct option opts[] = {
		{ "watch", no_argument, 0, 'w' },	 { "json", no_argument, 0, 'j' },
		{ "prometheus", no_argument, 0, 'p' },	 { "interval", required_argument, 0, 'i' },
		{ "count", required_argument, 0, 'c' }, { "run-dir", required_argument, 0, 'r' },
		{ "help", no_argument, 0, 'h' },	 { 0, 0, 0, 0 }
	};
	bool watch = false, json = false, prom = false;
	double interval = 1;
	long count = 0, pid = -1;
	const char *run_dir = NULL;
	char dir[PATH_MAX], *end;
	optind = 1;
	for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
		switch (c) {
		case 'w': watch = true; break;
		case 'j': json = true; break;
		case 'p': prom = true; break;
		case 'r': run_dir = optarg; break;
		case 'i':
			if ((interval = strtod(optarg, &end)) < 0.01 || *end)
				return fprintf(err, "bypass stats: --interval=%s: give seconds, 0.01 or more\n", optarg), 2;
			break;
		case 'c':
			if ((count = strtol(optarg, &end, 10)) < 1 || *end)
				return fprintf(err, "bypass stats: --count=%s: give a number of readings, 1 or more\n", optarg), 2;
			break;
		case 'h': usage(out); return 0;
		default: usage(err); return 2;
		}
	}
	if (optind < argc && ((pid = strtol(argv[optind], &end, 10)) <= 0 || *end || optind + 1 < argc))
		return fprintf(err, "bypass stats: '%s' is not a process id; see bypass stats --help\n", argv[optind]), 2;
	if (json && prom)
		return fprintf(err, "bypass stats: --json or --prometheus, not both\n"), 2;
	if (bp_telemetry_dir(dir, sizeof(dir), run_dir) < 0)
		return fprintf(err, "bypass stats: --run-dir %s is too long a path\n", run_dir), 2;
	if (pid < 0 && (pid = find_pid(dir, err)) < 0)
		return 1;
	struct conn c = { dir, pid, connect_pid(dir, pid) };
	if (c.fd < 0) {
		fprintf(err, "bypass stats: cannot reach process %ld at %s/%ld.sock: %s (is it running, as this "
			     "user, with this --run-dir?)\n", pid, dir, pid, strerror(-c.fd));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* Rates need a reading before; --json and --prometheus print each as it is. */
	bool rates = !json && !prom;
	long readings = count ? count : (watch ? 0 : 1);
	char *prev_text = NULL;
	struct jf_doc prev = { 0 };
	int rc = 0;
	if (rates && reading(&c, &prev_text, &prev, err) < 0)
		rc = 1;
	for (long i = 0; rc == 0 && !quit && (!readings || i < readings); i++) {
		char *text;
		struct jf_doc doc;
		if (rates || i > 0)
			sleep_s(interval);
		if (quit || reading(&c, &text, &doc, err) < 0) {
			rc = quit ? 0 : 1;
			break;
		}
		if (json)
			fprintf(out, "%s\n", text);
		else if (prom)
			stats_prometheus(out, &doc);
		else
			stats_rates(out, &prev, &doc);
		fflush(out);
		jf_free(&prev);
		free(prev_text);
		prev = doc, prev_text = text;
	}
	jf_free(&prev);
	free(prev_text);
	close(c.fd);
	return rc;
}
