/* SPDX-License-Identifier: MIT
 * bypass-lab-monitor: QEMU's human monitor, from inside the lab guest.
 *
 * The lab joins a virtio-serial port named org.bypass.monitor to a monitor of
 * its QEMU, so a test in the guest can change the machine it runs on:
 *   bypass-lab-monitor set_link nic1 off
 *   bypass-lab-monitor device_del nic1
 * Prints what the monitor answered; exits 1 if it answered with an error, 2
 * if it could not be reached.
 *
 * The monitor echoes what it is sent, answers, and ends with its "(qemu) "
 * prompt; anything before the echo (its banner, earlier prompts) is dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#define PORT_NAME "org.bypass.monitor"

static int find_port(char *dev, size_t len)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	for (struct dirent *e; d && (e = readdir(d));) {
		char p[512], name[64] = "";
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
		FILE *f = fopen(p, "r");
		if (f) {
			if (!fgets(name, sizeof(name), f))
				name[0] = '\0';
			fclose(f);
		}
		name[strcspn(name, "\n")] = '\0';
		if (!strcmp(name, PORT_NAME)) {
			snprintf(dev, len, "/dev/%s", e->d_name);
			closedir(d);
			return 0;
		}
	}
	if (d)
		closedir(d);
	return -1;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char dev[300], cmd[1024] = "";
	if (argc < 2) {
		fprintf(stderr, "usage: bypass-lab-monitor COMMAND [ARGS...]  (e.g. set_link nic1 off)\n");
		return 2;
	}
	for (int i = 1; i < argc; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i > 1 ? " " : "", argv[i]);
	if (find_port(dev, sizeof(dev)) < 0) {
		fprintf(stderr, "bypass-lab-monitor: no virtio port named %s: this works inside the lab guest "
				"(bypass lab run/shell), with virtio_console loaded\n", PORT_NAME);
		return 2;
	}
	int fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bypass-lab-monitor: cannot open %s: %s\n", dev, strerror(errno));
		return 2;
	}
	char line[1100];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	if (write(fd, line, (size_t)n) != n) {
		fprintf(stderr, "bypass-lab-monitor: cannot write to %s: %s\n", dev, strerror(errno));
		return 2;
	}
	/* Read until the prompt that follows our echoed command. */
	static char buf[65536];
	size_t got = 0;
	const char *echo = NULL;
	double deadline = now() + 10;
	while (now() < deadline && got < sizeof(buf) - 1) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 200) <= 0)
			continue;
		ssize_t r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		buf[got] = '\0';
		if (!echo)
			echo = strstr(buf, cmd);
		if (echo && strstr(echo + strlen(cmd), "(qemu) "))
			break;
	}
	close(fd);
	if (!echo || !strstr(echo + strlen(cmd), "(qemu) ")) {
		fprintf(stderr, "bypass-lab-monitor: no answer from the monitor within 10 s\n");
		return 2;
	}
	/* the answer: between the echo's line end and the prompt, without \r */
	const char *a = strchr(echo, '\n');
	a = a ? a + 1 : echo + strlen(cmd);
	const char *end = strstr(a, "(qemu) ");
	int err = 0;
	for (const char *c = a; c < end; c++)
		if (*c != '\r')
			putchar(*c);
	char answer[4096];
	snprintf(answer, sizeof(answer), "%.*s", (int)(end - a), a);
	if (strstr(answer, "rror") || strstr(answer, "not found") || strstr(answer, "nknown command"))
		err = 1;
	return err;
}
