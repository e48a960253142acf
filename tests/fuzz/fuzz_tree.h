/* SPDX-License-Identifier: MIT
 * Fake file trees whose files hold the fuzzer's bytes, for the targets of
 * parsers that read sysfs and procfs.
 *
 * A target names its slots: paths relative to the tree's root, a leading
 * '@' for a symbolic link whose target stays inside the tree (a target that
 * would lead out is not made), '=' for a link that is only ever read, never
 * followed (procfs fd links: any target). The input is cut at each NUL byte; piece i
 * becomes the contents of slot i (a link's target), the piece "\x01" leaves
 * slot i out of the tree, and the piece "\x02" and slots past the last
 * piece get the contents they had when fuzz_tree_save() ran (absent if they
 * had none). So every
 * run sees a tree made from its input alone. */
#ifndef BYPASS_FUZZ_TREE_H
#define BYPASS_FUZZ_TREE_H

#include <stddef.h>
#include <stdint.h>

/* A new folder under $TMPDIR (or /tmp), removed when the process exits. */
const char *fuzz_tree_root(void);
/* Uses a tree made elsewhere (tests/unit/fake_sysfs.c's fake machine); its
 * maker removes it. */
void fuzz_tree_adopt(const char *dir);
/* Remembers what each slot holds now, as its default. */
void fuzz_tree_save(const char *const slots[], unsigned n);
/* Writes every slot from data (see above). */
void fuzz_tree_apply(const char *const slots[], unsigned n, const uint8_t *data, size_t size);

#endif
