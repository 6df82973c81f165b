/* hist.h: log2 histograms (struct wa_hist) and their text form, that of bpftrace's hist(). */
#ifndef WRITEAMP_HIST_H
#define WRITEAMP_HIST_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>
#include <linux/bpf.h>

#include "writeamp.h"

/*
 * Slot k < WA_HIST_SLOTS - 1 of struct wa_hist is exactly the bucket bpftrace 0.17's hist()
 * puts a value in: slot 0 is [0], slot 1 is [1], slot k >= 2 is [2^(k-1), 2^k), and bpftrace
 * labels it alike, from "[2, 4)" up to slot 30's "[512M, 1G)".
 *
 * The last slot, HIST_OPEN_SLOT, holds every value >= 2^30 (HIST_OPEN_MIN) and has no upper
 * bound, so it is labelled "[1G, ...)", the form bpftrace gives the open-ended last bucket of
 * lhist(). bpftrace itself would split these values into "[1G, 2G)" and "[2G, 4G)"; in 0.17
 * the latter takes every value from 2^31 up to 2^63 - 1, as its log2 stops at 32 bits
 * (tests/unit/fixtures/bpftrace_beyond_1g.bpftrace).
 */
#define HIST_OPEN_SLOT	(WA_HIST_SLOTS - 1)
#define HIST_OPEN_MIN	(1ULL << (HIST_OPEN_SLOT - 1))
#define HIST_LABEL_MAX	32 /* bytes for any slot label and its NUL */
#define HIST_LABEL_COLS 16 /* bpftrace pads labels to this; longer ones push the line right */
#define HIST_COUNT_COLS 8  /* likewise the count, right-aligned */
#define HIST_BAR_COLS	52 /* the bar of the fullest slot; the others in proportion */

/* hist_slot() - the slot of @value: the BPF side's computation, done in user space. */
unsigned int hist_slot(__u64 value);

/* hist_slot_min() - the smallest value in @slot (< WA_HIST_SLOTS): 0, 1, 2, 4, ... 2^30. */
__u64 hist_slot_min(unsigned int slot);

/*
 * hist_slot_label() - write the label of @slot (< WA_HIST_SLOTS) into @buf of @cap bytes
 * (HIST_LABEL_MAX always suffices): "[0]", "[1]", "[2, 4)", ..., "[512, 1K)", "[1K, 2K)", ...,
 * "[1G, ...)". Powers of two from 2^10 on are written with the binary suffixes K, M, G and T, as
 * bpftrace does.
 *
 * Returns @buf.
 */
const char *hist_slot_label(char *buf, size_t cap, unsigned int slot);

/*
 * hist_print() - print the lines of @h as bpftrace 0.17 prints a hist() map's value: one line
 * per slot from the lowest non-empty slot to the highest, empty slots in between included,
 * nothing at all when every slot is empty. No "@name:" header and no blank line after.
 *
 * Each line is the label left-aligned in HIST_LABEL_COLS, the count right-aligned in
 * HIST_COUNT_COLS, " |", a bar of '@' padded with spaces to HIST_BAR_COLS, and "|". The bar is
 * count / max * HIST_BAR_COLS, truncated, computed in single precision as bpftrace does (in
 * double, 15 of 26 would give 29 '@' where bpftrace draws 30). bpftrace's output stops being
 * sensible for counts above INT_MAX, which it truncates to int; these are printed in full.
 */
void hist_print(FILE *out, const struct wa_hist *h);

#endif /* WRITEAMP_HIST_H */
