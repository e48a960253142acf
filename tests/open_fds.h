/* SPDX-License-Identifier: MIT
 * How many file descriptors this process holds: tests compare it before and
 * after, so a leaked eventfd, epoll or device fd fails them. */
#ifndef BYPASS_TEST_OPEN_FDS_H
#define BYPASS_TEST_OPEN_FDS_H

#include <dirent.h>

static inline int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	for (struct dirent *e; d && (e = readdir(d));)
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n; /* (counts the directory's own fd while it is open: the same every call) */
}

#endif
