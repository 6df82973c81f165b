/* SPDX-License-Identifier: GPL-2.0 */
/*
 * symbolize.h: names for code addresses: user frames through libdwfl (.symtab, .dynsym, and
 * debuginfo found by build-id or debuglink under /usr/lib/debug), kernel frames through
 * /proc/kallsyms. Every name is interned, so that equal names are equal pointers.
 */
#ifndef WRITEAMP_SYMBOLIZE_H
#define WRITEAMP_SYMBOLIZE_H

#include <stdbool.h>
#include <linux/types.h>

#include "procmaps.h"

struct wa_symbols;

struct wa_symbols *symbols_new(void);
void symbols_free(struct wa_symbols *sy);

/*
 * The function at a user address of the process. A return address (every frame but the leaf)
 * is looked up one byte back, inside its call instruction. Unknown code gives "[unknown]" with
 * its module, e.g. "[unknown] (libfoo.so.1)", or "[unknown]" outside any module.
 */
const char *symbols_user(struct wa_symbols *sy, struct wa_addrspace *as, __u64 pc,
			 bool return_address, bool *known);

/* The kernel function at pc, "[unknown] ([kernel])" if kallsyms has none (or hides them). */
const char *symbols_kernel(struct wa_symbols *sy, __u64 pc, bool *known);

/* An interned copy of a name that symbolization did not produce ("[writeback]", ...). */
const char *symbols_intern(struct wa_symbols *sy, const char *name);

#endif /* WRITEAMP_SYMBOLIZE_H */
