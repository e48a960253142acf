/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <bypass/log.h>

static enum bp_log_level log_level = BP_LOG_NOTICE;

static const char *const level_names[] = {
	[BP_LOG_ERR] = "err",       [BP_LOG_WARNING] = "warning", [BP_LOG_NOTICE] = "notice",
	[BP_LOG_INFO] = "info",     [BP_LOG_DEBUG] = "debug",
};

void bp_log(enum bp_log_level level, const char *fmt, ...)
{
	va_list ap;
	char line[512];

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line so lines from several threads do not interleave. */
	fprintf(stderr, "bypass: %s%s\n", level == BP_LOG_ERR ? "error: " :
			level == BP_LOG_WARNING ? "warning: " : "", line);
}

void bp_log_set_level(enum bp_log_level level) { log_level = level; }
enum bp_log_level bp_log_get_level(void) { return log_level; }

int bp_log_parse_level(const char *s)
{
	for (int i = BP_LOG_ERR; i <= BP_LOG_DEBUG; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s && !*end && !errno && v >= BP_LOG_ERR && v <= BP_LOG_DEBUG)
		return (int)v;
	return -EINVAL;
}
