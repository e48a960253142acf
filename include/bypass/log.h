/* SPDX-License-Identifier: MIT
 * One-line logging for the control path. The data path never logs. */
#ifndef BYPASS_LOG_H
#define BYPASS_LOG_H

#include <stdarg.h>

enum bp_log_level {
	BP_LOG_ERR = 1,
	BP_LOG_WARNING = 2,
	BP_LOG_NOTICE = 3,
	BP_LOG_INFO = 4,
	BP_LOG_DEBUG = 5,
};

void bp_log(enum bp_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void bp_log_set_level(enum bp_log_level level);
enum bp_log_level bp_log_get_level(void);
/* Parses "err|warning|notice|info|debug" or 1..5; returns -EINVAL otherwise. */
int bp_log_parse_level(const char *s);

#define BP_LOG(lvl, ...) bp_log(BP_LOG_##lvl, __VA_ARGS__)

#endif
