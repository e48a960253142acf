/* SPDX-License-Identifier: MIT
 * The telemetry socket: where it is and who may open it, what it answers
 * (JSON read back with the reader `bypass stats` uses), bad requests answered
 * with an error and nothing else, reads racing a port's close, and the
 * socket gone after bp_cleanup. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <bypass/env.h>
#include <bypass/ethdev.h>
#include <bypass/telemetry.h>
#include "../../tools/stats/jsonflat.h"
#include "harness.h"

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct timeval tv = { .tv_sec = 5 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends raw bytes, reads one line back into buf (without its newline): its
 * length, 0 if the server closed the connection, -1 on a time-out. */
static int roundtrip(int fd, const void *req, size_t n, char *buf, size_t cap)
{
	size_t len = 0;
	if (send(fd, req, n, MSG_NOSIGNAL) != (ssize_t)n)
		return -1;
	while (len + 1 < cap) {
		ssize_t r = recv(fd, buf + len, 1, 0);
		if (r <= 0)
			return r == 0 ? 0 : -1;
		if (buf[len] == '\n')
			break;
		len++;
	}
	buf[len] = '\0';
	return (int)len;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The statistics thread's id (0 if there is none). */
static pid_t telemetry_tid(void)
{
	pid_t tid = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char p[300], comm[32] = "";
		snprintf(p, sizeof(p), "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(p, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strcmp(comm, "bp-telemetry\n"))
			tid = (pid_t)atoi(e->d_name);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return tid;
}

/* CPU time a thread has used, in clock ticks (utime + stime), from its
 * /proc stat file opened beforehand (fd: the read needs no new fd). */
static long thread_ticks(int fd)
{
	char line[1024];
	ssize_t n = pread(fd, line, sizeof(line) - 1, 0);
	if (n <= 0)
		return -1;
	line[n] = '\0';
	char *s = strrchr(line, ')'); /* the name may hold spaces */
	long ut, st;
	if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

static char run_dir[64];

static int start(void)
{
	snprintf(run_dir, sizeof(run_dir), "/tmp/bp-tel.XXXXXX");
	if (!mkdtemp(run_dir))
		return -1;
	char args[256];
	snprintf(args, sizeof(args), "-l 0 --no-huge --vdev net_null0 --vdev net_null1 --run-dir %s", run_dir);
	return test_env(args);
}

static void finish(void)
{
	char p[128];
	bp_cleanup();
	snprintf(p, sizeof(p), "%s/telemetry", run_dir);
	rmdir(p);
	rmdir(run_dir);
}

TEST(telemetry_socket_private_and_removed)
{
	struct stat st;
	char path[128], want[128];
	CHECK(start() >= 0);
	const char *p = bp_telemetry_path();
	CHECK(p != NULL);
	snprintf(want, sizeof(want), "%s/telemetry/%d.sock", run_dir, (int)getpid());
	CHECK(strcmp(p, want) == 0);
	snprintf(path, sizeof(path), "%s", p);
	CHECK(stat(path, &st) == 0 && S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(st.st_uid, geteuid());
	snprintf(want, sizeof(want), "%s/telemetry", run_dir);
	CHECK(stat(want, &st) == 0);
	CHECK_EQ(st.st_mode & 0777, 0700);
	bp_cleanup();
	CHECK(stat(path, &st) < 0 && errno == ENOENT);
	CHECK(bp_telemetry_path() == NULL);
	finish();
	/* --no-telemetry: none */
	CHECK(test_env("-l 0 --no-huge --no-telemetry") >= 0);
	CHECK(bp_telemetry_path() == NULL);
	bp_cleanup();
}

TEST(telemetry_answers_json)
{
	char buf[65536];
	struct jf_doc d;
	CHECK(start() >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("tel-pool", 1024, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp != NULL);
	CHECK(bp_eth_dev_configure(0, 1, 1, NULL) == 0 && bp_eth_rx_queue_setup(0, 0, 256, mp) == 0 &&
	      bp_eth_tx_queue_setup(0, 0, 256) == 0 && bp_eth_dev_start(0) == 0);
	struct bp_mbuf *pkts[32];
	uint16_t n = bp_eth_rx_burst(0, 0, pkts, 32); /* net_null makes 64-byte frames */
	CHECK_EQ(n, 32);
	CHECK_EQ(bp_eth_tx_burst(0, 0, pkts, n), 32);
	int fd = connect_to(bp_telemetry_path());
	CHECK(fd >= 0);
	CHECK(roundtrip(fd, "/stats\n", 7, buf, sizeof(buf)) > 0);
	CHECK(jf_parse(buf, &d) == 0);
	CHECK_EQ(jf_num(&d, "info.pid"), getpid());
	CHECK(strcmp(jf_get(&d, "ports.0.name")->text, "net_null0") == 0);
	CHECK(strcmp(jf_get(&d, "ports.0.state")->text, "started") == 0);
	CHECK(strcmp(jf_get(&d, "ports.1.state")->text, "attached") == 0);
	CHECK_EQ(jf_num(&d, "ports.0.stats.ipackets"), 32);
	CHECK_EQ(jf_num(&d, "ports.0.stats.ibytes"), 32 * 64);
	CHECK_EQ(jf_num(&d, "ports.0.stats.opackets"), 32);
	CHECK_EQ(jf_num(&d, "ports.0.rx_queues.0.packets"), 32);
	CHECK_EQ(jf_num(&d, "ports.0.tx_queues.0.bytes"), 32 * 64);
	CHECK(strcmp(jf_get(&d, "mempools.0.name")->text, "tel-pool") == 0);
	CHECK_EQ(jf_num(&d, "mempools.0.in_use"), bp_mempool_in_use_count(mp));
	CHECK_EQ(jf_num(&d, "mempools.0.size"), 1024);
	CHECK(strcmp(jf_get(&d, "lcores.0.role")->text, "main") == 0);
	jf_free(&d);
	/* each request on its own: the same connection goes on */
	CHECK(roundtrip(fd, "/lcores\r\n", 9, buf, sizeof(buf)) > 0);
	CHECK(jf_parse(buf, &d) == 0 && jf_get(&d, "lcores.0.lcore") && !jf_get(&d, "ports.0.name"));
	jf_free(&d);
	CHECK(roundtrip(fd, "/\n", 2, buf, sizeof(buf)) > 0);
	CHECK(jf_parse(buf, &d) == 0 && jf_get(&d, "requests./stats"));
	jf_free(&d);
	close(fd);
	CHECK(bp_eth_dev_stop(0) == 0);
	bp_eth_dev_close(0);
	bp_mempool_free(mp);
	finish();
}

TEST(telemetry_bad_requests_get_errors)
{
	char buf[4096];
	struct jf_doc d;
	CHECK(start() >= 0);
	int fd = connect_to(bp_telemetry_path());
	CHECK(fd >= 0);
	static const struct {
		const char *req;
		size_t n;
		const char *says;
	} bad[] = {
		{ "/nope\n", 6, "unknown request '/nope'" },
		{ "\n", 1, "unknown request ''" },
		{ "/st\x01ts\n", 7, "printable text" },
		{ "/stats\0junk\n", 12, "printable text" },
		{ "\xff\xfe\n", 3, "printable text" },
		{ "{\"cmd\": \"/stats\"}\n", 18, "unknown request" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(roundtrip(fd, bad[i].req, bad[i].n, buf, sizeof(buf)) > 0);
		CHECK(jf_parse(buf, &d) == 0);
		const struct jf_leaf *e = jf_get(&d, "error");
		if (!e || !strstr(e->text, bad[i].says))
			test_fail(__FILE__, __LINE__, "request %u answered with an error saying '%s', got %s", i,
				  bad[i].says, buf);
		jf_free(&d);
		if (test_failed)
			return;
	}
	/* still answering */
	CHECK(roundtrip(fd, "/info\n", 6, buf, sizeof(buf)) > 0 && strstr(buf, "\"pid\""));
	/* a line longer than a request: an error, then the connection closes */
	char big[1000];
	memset(big, 'a', sizeof(big));
	CHECK(roundtrip(fd, big, sizeof(big), buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "at most 255 bytes") != NULL);
	ssize_t r = recv(fd, buf, sizeof(buf), 0); /* closed; reset if our bytes were left unread */
	CHECK(r == 0 || (r < 0 && errno == ECONNRESET));
	close(fd);
	/* a client that connects and goes away, one that sends half a line */
	fd = connect_to(bp_telemetry_path());
	close(fd);
	fd = connect_to(bp_telemetry_path());
	CHECK(send(fd, "/sta", 4, 0) == 4);
	close(fd);
	fd = connect_to(bp_telemetry_path());
	CHECK(fd >= 0 && roundtrip(fd, "/info\n", 6, buf, sizeof(buf)) > 0 && strstr(buf, "\"pid\""));
	close(fd);
	finish();
}

/* Readers while the program closes its ports and frees its pool: under
 * ASan a read of a freed queue would show. */
static volatile bool racing;
static void *reader(void *arg)
{
	char buf[65536];
	int fd = connect_to(arg), answers = 0;
	while (fd >= 0 && __atomic_load_n(&racing, __ATOMIC_ACQUIRE) &&
	       roundtrip(fd, "/stats\n", 7, buf, sizeof(buf)) > 0)
		answers++;
	if (fd >= 0)
		close(fd);
	return (void *)(intptr_t)answers;
}

TEST(telemetry_reads_race_close)
{
	CHECK(start() >= 0);
	char path[128];
	snprintf(path, sizeof(path), "%s", bp_telemetry_path());
	racing = true;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reader, path) == 0);
	for (int round = 0; round < 30; round++) {
		char name[32];
		snprintf(name, sizeof(name), "race%d", round);
		struct bp_mempool *mp = bp_pktmbuf_pool_create(name, 512, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
		uint16_t port;
		snprintf(name, sizeof(name), "net_null%d", 10 + round);
		if (!mp || bp_vdev_probe(name) < 0 || bp_eth_dev_get_port_by_name(name, &port) < 0) {
			test_fail(__FILE__, __LINE__, "port %s made", name);
			break;
		}
		bp_eth_dev_configure(port, 1, 1, NULL);
		bp_eth_rx_queue_setup(port, 0, 128, mp);
		bp_eth_tx_queue_setup(port, 0, 128);
		bp_eth_dev_start(port);
		usleep(2000);
		bp_eth_dev_close(port);
		bp_mempool_free(mp);
	}
	__atomic_store_n(&racing, false, __ATOMIC_RELEASE);
	void *answers;
	pthread_join(t, &answers);
	CHECK((intptr_t)answers > 0);
	finish();
}

/* A socket a killed process left (bound, no one listening) is removed by the
 * next process to start; a live one (ours, listening) is not. */
TEST(telemetry_stale_socket_removed)
{
	char dir[80], stale[100], live[100];
	struct stat st;
	CHECK(start() >= 0);
	snprintf(dir, sizeof(dir), "%s/telemetry", run_dir);
	snprintf(stale, sizeof(stale), "%s/999999.sock", dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	close(fd); /* the file stays, nothing listens */
	/* a second listener stands for another live process */
	snprintf(live, sizeof(live), "%s/999998.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", live);
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0);
	bp_cleanup();
	char args[256];
	snprintf(args, sizeof(args), "-l 0 --no-huge --run-dir %s", run_dir);
	CHECK(test_env(args) >= 0 && bp_telemetry_path() != NULL);
	bool stale_gone = stat(stale, &st) < 0, live_kept = stat(live, &st) == 0;
	close(lfd);
	unlink(live);
	CHECK(stale_gone);
	CHECK(live_kept);
	finish();
}

/* A port configured but not yet given its queues, and queues set up again
 * (each freeing the one before) while a reader asks: an af_packet port,
 * whose driver reads its queues for the kernel's drop counts. Before, the
 * first asked a NULL queue and the second read a freed one (ASan shows). */
TEST(telemetry_reads_queues_being_set_up)
{
	char buf[65536];
	struct jf_doc d;
	uint16_t port;
	CHECK(start() >= 0);
	struct bp_mempool *mp = bp_pktmbuf_pool_create("tel-afp", 1024, 0, 0, BP_MBUF_DEFAULT_BUF_SIZE);
	CHECK(mp != NULL);
	CHECK(bp_vdev_probe("net_af_packet7,iface=lo,queues=2") == 0);
	CHECK(bp_eth_dev_get_port_by_name("net_af_packet7", &port) == 0);
	CHECK(bp_eth_dev_configure(port, 2, 1, NULL) == 0);
	int fd = connect_to(bp_telemetry_path());
	CHECK(fd >= 0);
	CHECK(roundtrip(fd, "/ports\n", 7, buf, sizeof(buf)) > 0);
	CHECK(jf_parse(buf, &d) == 0);
	const struct jf_leaf *st = jf_get(&d, "ports.%u.state", 2u);
	CHECK(st && !strcmp(st->text, "configured"));
	CHECK_EQ(jf_num(&d, "ports.2.stats.imissed"), 0);
	jf_free(&d);
	CHECK(bp_eth_rx_queue_setup(port, 0, 128, mp) == 0); /* queue 1 still missing */
	CHECK(roundtrip(fd, "/ports\n", 7, buf, sizeof(buf)) > 0 && strstr(buf, "net_af_packet7"));
	close(fd);
	char path[128];
	snprintf(path, sizeof(path), "%s", bp_telemetry_path());
	racing = true;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, reader, path) == 0);
	for (int round = 0; round < 2000; round++)
		if (bp_eth_rx_queue_setup(port, (uint16_t)(round & 1), 128, mp) != 0) {
			test_fail(__FILE__, __LINE__, "rx queue %d set up again", round & 1);
			break;
		}
	__atomic_store_n(&racing, false, __ATOMIC_RELEASE);
	void *answers;
	pthread_join(t, &answers);
	CHECK((intptr_t)answers > 0);
	bp_eth_dev_close(port);
	bp_mempool_free(mp);
	finish();
}

/* A client that asks a lot and reads a little now and then: the server
 * gives up on it, and bp_cleanup (which stops the thread) returns at once
 * instead of waiting until the client has read every answer. */
static void *trickle(void *arg)
{
	int fd = *(int *)arg;
	char buf[2048];
	while (__atomic_load_n(&racing, __ATOMIC_ACQUIRE) && recv(fd, buf, sizeof(buf), 0) > 0)
		usleep(500 * 1000);
	return NULL;
}

TEST(telemetry_slow_reader_does_not_hold_cleanup)
{
	CHECK(start() >= 0);
	int fd = connect_to(bp_telemetry_path());
	CHECK(fd >= 0);
	char reqs[7 * 1000];
	for (unsigned i = 0; i < 1000; i++)
		memcpy(reqs + 7 * i, "/stats\n", 7);
	CHECK(send(fd, reqs, sizeof(reqs), MSG_NOSIGNAL) == (ssize_t)sizeof(reqs));
	racing = true;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, trickle, &fd) == 0);
	usleep(1500 * 1000); /* the answers fill the socket: the server waits on the client */
	uint64_t t0 = mono_ms();
	bp_cleanup();
	uint64_t took = mono_ms() - t0;
	__atomic_store_n(&racing, false, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	close(fd);
	if (took > 1500)
		test_fail(__FILE__, __LINE__, "bp_cleanup took %llu ms with a slow client (want under 1500)",
			  (unsigned long long)took);
	finish();
}

/* The statistics thread runs off the lcores' cores (here lcore 0) when the
 * program was given others, so an answer takes nothing from the main
 * lcore's bursts; the main thread stays pinned to its core. */
TEST(telemetry_thread_not_on_the_main_lcore)
{
	cpu_set_t given, tel, main_set;
	CHECK(sched_getaffinity(0, sizeof(given), &given) == 0);
	CHECK(start() >= 0);
	pid_t tid = telemetry_tid();
	CHECK(tid > 0);
	CHECK(sched_getaffinity(tid, sizeof(tel), &tel) == 0);
	CHECK(sched_getaffinity(0, sizeof(main_set), &main_set) == 0);
	CHECK(CPU_COUNT(&main_set) == 1 && CPU_ISSET(0, &main_set));
	if (CPU_COUNT(&given) > 1 || !CPU_ISSET(0, &given)) {
		CHECK(!CPU_ISSET(0, &tel));
		CPU_CLR(0, &given);
		CHECK(CPU_EQUAL(&tel, &given));
	} else {
		CHECK(CPU_ISSET(0, &tel)); /* the only core it was given */
	}
	finish();
}

/* The reader `bypass stats` uses: RFC 8259 or nothing, escapes decoded,
 * truncated or malformed text refused whole (ASan checks the reads). */
TEST(jsonflat_reads_json_and_refuses_the_rest)
{
	struct jf_doc d;
	static const char *const bad[] = {
		"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[01]", "[1.]", "[.5]", "[-]",
		"[1e]", "[+1]", "[tru]", "[truex]", "[nul]", "\"abc", "\"a\\\"", "\"a\\", "\"\\x\"", "\"\\u12\"",
		"\"\\u12g4\"", "\"tab\there\"", "[1] [2]", "{\"a\":1}x", "[\"a\"\"b\"]", "[1 2]",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (jf_parse(bad[i], &d) == 0 || d.n || d.leaf) {
			test_fail(__FILE__, __LINE__, "'%s' refused with nothing kept", bad[i]);
			jf_free(&d);
			return;
		}
	CHECK(jf_parse(" {\"a\" : [ 1 , -2.5e+3 , true , null , \"x\\\"\\\\\\/\\n\\u0041\\u00e9\" ] ,"
		       " \"b\" : { } , \"c\":{\"d\":0}}\n", &d) == 0);
	CHECK_EQ(d.n, 6);
	CHECK(!strcmp(jf_get(&d, "a.0")->text, "1") && !jf_get(&d, "a.0")->is_string);
	CHECK_EQ(jf_num(&d, "a.1"), -2500);
	CHECK(!strcmp(jf_get(&d, "a.2")->text, "true") && !strcmp(jf_get(&d, "a.3")->text, "null"));
	CHECK(!strcmp(jf_get(&d, "a.4")->text, "x\"\\/\nA?") && jf_get(&d, "a.4")->is_string);
	CHECK_EQ(jf_num(&d, "c.d"), 0);
	CHECK(jf_get(&d, "b") == NULL && jf_get(&d, "a.5") == NULL);
	jf_free(&d);
	/* a long document reads in one pass: 20000 strings */
	size_t cap = 20000 * 12 + 16, len = 0;
	char *big = malloc(cap);
	CHECK(big != NULL);
	len += (size_t)snprintf(big + len, cap - len, "[");
	for (unsigned i = 0; i < 20000; i++)
		len += (size_t)snprintf(big + len, cap - len, "%s\"s%u\"", i ? "," : "", i);
	snprintf(big + len, cap - len, "]");
	CHECK(jf_parse(big, &d) == 0);
	CHECK_EQ(d.n, 20000);
	CHECK(!strcmp(jf_get(&d, "19999")->text, "s19999"));
	jf_free(&d);
	free(big);
}

/* Eight clients that connect and ask nothing do not shut out a ninth for
 * longer than the server's idle limit (1 s): while they are fresh the ninth
 * hears "busy", after that it is served and the idlest is closed. */
TEST(telemetry_idle_clients_give_way)
{
	char buf[65536];
	int fds[8];
	CHECK(start() >= 0);
	for (int i = 0; i < 8; i++)
		CHECK((fds[i] = connect_to(bp_telemetry_path())) >= 0);
	/* the first answers prove all eight were taken in before the ninth */
	for (int i = 0; i < 8; i++)
		CHECK(roundtrip(fds[i], "/\n", 2, buf, sizeof(buf)) > 0);
	int late = connect_to(bp_telemetry_path());
	CHECK(late >= 0);
	CHECK(roundtrip(late, "/\n", 2, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "more clients at once") != NULL);
	close(late);
	usleep(1200 * 1000);
	late = connect_to(bp_telemetry_path());
	CHECK(late >= 0);
	CHECK(roundtrip(late, "/stats\n", 7, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"info\"") != NULL);
	int closed = 0;
	for (int i = 0; i < 8; i++) {
		char c;
		struct timeval tv = { .tv_usec = 200 * 1000 };
		setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		closed += recv(fds[i], &c, 1, 0) == 0;
		close(fds[i]);
	}
	CHECK_EQ(closed, 1);
	close(late);
	finish();
}

/* Out of file descriptors, accept() fails and the connection waits: the
 * thread must not spin on a socket that stays readable, and must take the
 * client once fds are free again. In a child: the limit is the process's. */
TEST(telemetry_out_of_fds_does_not_spin)
{
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char buf[65536];
		int fillers[64], nf = 0, client;
		if (start() < 0 || (client = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
			_exit(10);
		char stat_path[64];
		snprintf(stat_path, sizeof(stat_path), "/proc/self/task/%d/stat", (int)telemetry_tid());
		int stat_fd = open(stat_path, O_RDONLY | O_CLOEXEC);
		struct rlimit rl;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = (rlim_t)client + 1 + 64;
		if (stat_fd < 0 || setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(11);
		while (nf < 64 && (fillers[nf] = dup(0)) >= 0)
			nf++;
		if (dup(0) >= 0 || errno != EMFILE)
			_exit(12);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", bp_telemetry_path());
		struct timeval tv = { .tv_sec = 5 };
		setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (connect(client, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			_exit(13);
		long t0 = thread_ticks(stat_fd);
		usleep(500 * 1000);
		long used = thread_ticks(stat_fd) - t0;
		if (t0 < 0 || used > 10) /* a spinning thread takes ~50 ticks here */
			_exit(14);
		while (nf)
			close(fillers[--nf]);
		if (roundtrip(client, "/stats\n", 7, buf, sizeof(buf)) <= 0 || !strstr(buf, "\"info\""))
			_exit(15);
		close(client);
		close(stat_fd);
		finish();
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		test_fail(__FILE__, __LINE__, "child: %s %d (10 start, 11 limit, 12 fds not exhausted, 13 connect, "
					       "14 the thread spun, 15 not served after fds came back)",
			  WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

/* A run folder others may write in without the sticky bit is refused (its
 * telemetry folder could be renamed away under us); /tmp-like (sticky) is
 * fine. */
TEST(telemetry_refuses_a_parent_others_can_write)
{
	snprintf(run_dir, sizeof(run_dir), "/tmp/bp-tel.XXXXXX");
	CHECK(mkdtemp(run_dir) != NULL);
	char args[256];
	snprintf(args, sizeof(args), "-l 0 --no-huge --run-dir %s", run_dir);
	CHECK(chmod(run_dir, 0777) == 0);
	CHECK(test_env(args) >= 0);
	CHECK(bp_telemetry_path() == NULL);
	bp_cleanup();
	CHECK(chmod(run_dir, 01777) == 0);
	CHECK(test_env(args) >= 0);
	CHECK(bp_telemetry_path() != NULL);
	finish();
}

/* `bypass stats --watch` between two readings is an idle client: when eight
 * new clients take every place, it is the one closed, and it reconnects for
 * its next reading rather than stop. */
TEST(telemetry_evicted_watcher_reconnects)
{
	char cmd[512], out[8192] = "";
	int fds[8];
	CHECK(start() >= 0);
	snprintf(cmd, sizeof(cmd), "%s stats %d --json --count=2 --interval=3 --run-dir %s 2>&1",
		 test_build_path("tools/bypass"), (int)getpid(), run_dir);
	FILE *p = popen(cmd, "r");
	CHECK(p != NULL);
	usleep(1500 * 1000); /* its first reading done; it waits 3 s for the next */
	char buf[65536];
	for (int i = 0; i < 8; i++) {
		CHECK((fds[i] = connect_to(bp_telemetry_path())) >= 0);
		CHECK(roundtrip(fds[i], "/\n", 2, buf, sizeof(buf)) > 0);
		CHECK(strstr(buf, "more clients") == NULL);
	}
	size_t n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	int rc = pclose(p);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
	int readings = 0;
	for (char *l = out; (l = strstr(l, "{\"info\"")); l++)
		readings++;
	if (rc != 0 || readings != 2)
		test_fail(__FILE__, __LINE__, "bypass stats: exit %d, %d readings (want 0, 2): %.300s", rc, readings, out);
	finish();
}
