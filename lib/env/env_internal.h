/* SPDX-License-Identifier: MIT
 * bp_init()'s option parsing on its own, for tests/fuzz: the parser takes
 * what a user types, so it is fuzzed without starting threads or devices. */
#ifndef BYPASS_ENV_INTERNAL_H
#define BYPASS_ENV_INTERNAL_H

#define BP_ENV_MAX_VDEVS 32

/* Resets the environment and fills it from the options before "--" (cores,
 * -a/-b, --log-level, ...); the --vdev values go to vdevs (pointers into
 * argv). Returns how many argv entries it consumed (counting argv[0] and a
 * "--"), or a negative errno after one line naming the option at fault. */
int bp_env_parse_args(int argc, char **argv, const char *vdevs[BP_ENV_MAX_VDEVS], unsigned *nb_vdevs);

#endif
