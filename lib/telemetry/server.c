/* SPDX-License-Identifier: MIT
 * The telemetry socket: a thread of its own accepts clients on a UNIX
 * stream socket and answers each line they send with one line of JSON
 * (report.c), so a program's statistics are read without stopping it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>
#include <bypass/env.h>
#include <bypass/log.h>
#include <bypass/telemetry.h>

#define MAX_CLIENTS 8
#define LINE_MAX_BYTES (BP_TELEMETRY_REQUEST_MAX + 1) /* with its newline */
/* A client that has asked nothing for this long gives its place to a new
 * one when all are taken (bypass stats reconnects when that happens to it),
 * so idle connections cannot shut everyone else out. */
#define IDLE_EVICT_MS 1000
/* accept() failing for want of fds (EMFILE, ENFILE) or memory leaves the
 * connection waiting and the socket readable: the thread rests this long
 * before trying again rather than spin on poll. */
#define ACCEPT_PAUSE_MS 100

static struct {
	bool running;
	pthread_t thread;
	int listen_fd, stop_fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client {
		int fd; /* -1: free */
		int64_t last_ms; /* when it connected or last sent a request */
		size_t len;
		char line[LINE_MAX_BYTES];
	} clients[MAX_CLIENTS];
} srv = { .listen_fd = -1, .stop_fd = -1 };

int bp_telemetry_dir(char *buf, size_t len, const char *run_dir)
{
	const char *env_dir = getenv("BYPASS_RUNDIR"), *xdg = getenv("XDG_RUNTIME_DIR");
	int n;
	if (run_dir && *run_dir)
		n = snprintf(buf, len, "%s/telemetry", run_dir);
	else if (env_dir && *env_dir)
		n = snprintf(buf, len, "%s/telemetry", env_dir);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/run/bypass/telemetry");
	else if (xdg && *xdg)
		n = snprintf(buf, len, "%s/bypass/telemetry", xdg);
	else
		n = snprintf(buf, len, "/tmp/bypass-%u/telemetry", (unsigned)geteuid());
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* dir and its parent exist; dir is ours and no one else's (0700). A folder
 * someone else owns is refused: they could read or replace our socket. So is
 * a parent another user could rename dir in (owned by someone but us or
 * root, or writable by others without the sticky bit): /tmp/bypass-UID made
 * in advance by another user would let them swap the folder under us. */
static int private_dir(const char *dir)
{
	char parent[PATH_MAX];
	struct stat st;
	snprintf(parent, sizeof(parent), "%s", dir);
	char *slash = strrchr(parent, '/');
	if (slash && slash != parent) {
		*slash = '\0';
		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return -errno;
		if (stat(parent, &st) < 0)
			return -errno;
		if ((st.st_uid != geteuid() && st.st_uid != 0) || ((st.st_mode & 022) && !(st.st_mode & S_ISVTX)))
			return -EPERM;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return -EPERM;
	if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
		return -errno;
	return 0;
}

/* Sockets of processes that ended without bp_cleanup (killed): PID.sock
 * that nothing listens on any more. Asked by connecting, not by the pid: a
 * process in another pid namespace sharing the folder is alive though its
 * pid means nothing here. */
static void remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *end;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		long pid = strtol(e->d_name, &end, 10);
		int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, e->d_name);
		if (pid <= 0 || strcmp(end, ".sock") || n < 0 || (size_t)n >= sizeof(sa.sun_path))
			continue;
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno == ECONNREFUSED)
			unlinkat(dirfd(d), e->d_name, 0);
		if (fd >= 0)
			close(fd);
	}
	if (d)
		closedir(d);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends all of it within SEND_LIMIT_MS, or gives up on the client. The limit
 * is for the whole of it: a client reading a little now and then must not
 * keep the thread (and bp_cleanup, which joins it) for as long as it likes;
 * bp_telemetry_stop cuts it short. */
#define SEND_LIMIT_MS 1000
static int send_all(int fd, const char *s, size_t n)
{
	const int64_t deadline = now_ms() + SEND_LIMIT_MS;
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			s += w, n -= (size_t)w;
			continue;
		}
		if (w == 0 || (errno != EAGAIN && errno != EINTR))
			return -1;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd pf[2] = { { .fd = fd, .events = POLLOUT }, { .fd = srv.stop_fd, .events = POLLIN } };
		if (poll(pf, 2, (int)left) < 0 && errno != EINTR)
			return -1;
		if (pf[1].revents)
			return -1; /* stopping */
	}
	return 0;
}

static int answer(int fd, const char *req)
{
	char *a = bp_telemetry_answer(req);
	int rc = a ? send_all(fd, a, strlen(a)) : -1;
	if (rc == 0)
		rc = send_all(fd, "\n", 1);
	free(a);
	return rc;
}

static void drop(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Reads what the client sent and answers each whole line. A line longer
 * than a request may be is answered with an error and the client dropped
 * (what follows could not be told from the rest of it). */
static void serve(struct client *c)
{
	ssize_t r = recv(c->fd, c->line + c->len, sizeof(c->line) - c->len, MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		drop(c);
		return;
	}
	c->len += (size_t)r;
	char *nl;
	while (c->fd >= 0 && (nl = memchr(c->line, '\n', c->len))) {
		size_t n = (size_t)(nl - c->line);
		char req[LINE_MAX_BYTES];
		memcpy(req, c->line, n);
		req[n] = '\0';
		if (n && req[n - 1] == '\r')
			req[n - 1] = '\0';
		if (memchr(c->line, '\0', n))
			req[0] = '\x01'; /* a NUL inside: not text, answered as such */
		memmove(c->line, nl + 1, c->len - n - 1);
		c->len -= n + 1;
		if (answer(c->fd, req) < 0)
			drop(c);
	}
	if (c->fd >= 0 && c->len == sizeof(c->line)) {
		/* answered as any request too long to be one is */
		char *too_long = malloc(c->len + 2);
		if (too_long) {
			memset(too_long, 'x', c->len + 1);
			too_long[c->len + 1] = '\0';
			answer(c->fd, too_long);
			free(too_long);
		}
		drop(c);
	}
}

/* A place for a new client: a free one, else the one idle longest if it
 * has been idle IDLE_EVICT_MS (closed: it reconnects if it still cares). */
static struct client *place(int64_t now)
{
	struct client *idlest = NULL;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &srv.clients[i];
		if (c->fd < 0)
			return c;
		if (!idlest || c->last_ms < idlest->last_ms)
			idlest = c;
	}
	if (now - idlest->last_ms < IDLE_EVICT_MS)
		return NULL;
	drop(idlest);
	return idlest;
}

static void *server_main(void *arg)
{
	(void)arg;
	int64_t paused_until = 0;
	for (;;) {
		struct pollfd pf[MAX_CLIENTS + 2];
		int64_t now = now_ms();
		bool paused = now < paused_until;
		pf[0] = (struct pollfd){ .fd = srv.stop_fd, .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = srv.listen_fd, .events = paused ? 0 : POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			pf[i + 2] = (struct pollfd){ .fd = srv.clients[i].fd, .events = POLLIN };
		if (poll(pf, MAX_CLIENTS + 2, paused ? (int)(paused_until - now) : -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		now = now_ms();
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (srv.clients[i].fd >= 0 && pf[i + 2].revents) {
				srv.clients[i].last_ms = now;
				serve(&srv.clients[i]);
			}
		if (!(pf[1].revents & POLLIN))
			continue;
		int fd = accept4(srv.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (!paused_until)
					BP_LOG(WARNING, "telemetry: cannot take a client: %s; trying again every %d ms "
							"(raise 'ulimit -n' if this lasts)", strerror(errno), ACCEPT_PAUSE_MS);
				paused_until = now + ACCEPT_PAUSE_MS;
			}
			continue;
		}
		paused_until = 0;
		struct client *c = place(now);
		if (!c) {
			/* busy: one error line, so a client is never left hanging */
			static const char busy[] = "{\"error\":\"more clients at once than the 8 served; try again\"}\n";
			send_all(fd, busy, sizeof(busy) - 1);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = 0;
		c->last_ms = now;
	}
	return NULL;
}

static int start_failed(const char *what, const char *where, int err)
{
	BP_LOG(WARNING, "telemetry: cannot %s %s: %s; 'bypass stats' will not see this process "
			"(give --run-dir DIR, or --no-telemetry)", what, where, strerror(err));
	if (srv.listen_fd >= 0)
		close(srv.listen_fd);
	if (srv.stop_fd >= 0)
		close(srv.stop_fd);
	if (srv.path[0])
		unlink(srv.path);
	srv.listen_fd = srv.stop_fd = -1;
	srv.path[0] = '\0';
	return -err;
}

int bp_telemetry_start(void)
{
	char dir[PATH_MAX];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int rc;
	if (srv.running)
		return -EALREADY;
	srv.path[0] = '\0';
	if ((rc = bp_telemetry_dir(dir, sizeof(dir), bp_env_run_dir())) < 0)
		return start_failed("name a folder in", bp_env_run_dir() ? bp_env_run_dir() : "the run folder", -rc);
	if ((rc = private_dir(dir)) < 0)
		return start_failed(rc == -EPERM ? "use (not a folder of this user's own)" : "make the folder", dir, -rc);
	remove_stale(dir);
	/* Bound and listening under a name remove_stale() passes over (.PID.sock.new),
	 * then renamed into place: a process starting at the same moment never
	 * finds PID.sock bound but not yet listening, which it would take for a
	 * dead process's and remove. The rename also replaces the socket of a
	 * process of our pid before us. */
	char tmp[sizeof(srv.path)];
	int n = snprintf(srv.path, sizeof(srv.path), "%s/%d.sock", dir, (int)getpid());
	int m = snprintf(tmp, sizeof(tmp), "%s/.%d.sock.new", dir, (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(srv.path) || m < 0 || (size_t)m >= sizeof(tmp)) {
		srv.path[0] = '\0';
		return start_failed("fit a socket name (100 bytes at most) in", dir, ENAMETOOLONG);
	}
	memcpy(sa.sun_path, tmp, sizeof(tmp));
	unlink(tmp);
	srv.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	srv.stop_fd = eventfd(0, EFD_CLOEXEC);
	if (srv.listen_fd < 0 || srv.stop_fd < 0)
		return start_failed("open a socket for", srv.path, errno);
	/* The folder is 0700, so no one else reaches the socket before the chmod. */
	if (bind(srv.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(tmp, 0600) < 0 ||
	    listen(srv.listen_fd, 8) < 0 || rename(tmp, srv.path) < 0) {
		int e = errno;
		unlink(tmp);
		return start_failed("listen on", srv.path, e);
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		srv.clients[i].fd = -1;
	/* The thread takes no signals meant for the program (Ctrl-C goes to main). */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&srv.thread, NULL, server_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		return start_failed("start a thread for", srv.path, rc);
	pthread_setname_np(srv.thread, "bp-telemetry");
	srv.running = true;
	BP_LOG(INFO, "telemetry: statistics on %s (bypass stats %d)", srv.path, (int)getpid());
	return 0;
}

void bp_telemetry_stop(void)
{
	if (!srv.running)
		return;
	uint64_t one = 1;
	if (write(srv.stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(srv.thread, NULL);
	else
		pthread_cancel(srv.thread), pthread_join(srv.thread, NULL);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (srv.clients[i].fd >= 0)
			drop(&srv.clients[i]);
	close(srv.listen_fd);
	close(srv.stop_fd);
	unlink(srv.path);
	srv.listen_fd = srv.stop_fd = -1;
	srv.path[0] = '\0';
	srv.running = false;
}

const char *bp_telemetry_path(void) { return srv.running ? srv.path : NULL; }
