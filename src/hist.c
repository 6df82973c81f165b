/* hist.c: slot arithmetic for struct wa_hist and its bpftrace-style text form. */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "hist.h"

#define BITS_PER_U64	64
#define POWERS_PER_UNIT 10 /* 2^10 = 1K: each suffix is 1024 times the one before */
#define HIST_ZERO_SLOT	0
#define HIST_ONE_SLOT	1

/* The suffixes of 2^0, 2^10, 2^20, ...; the last one is used for everything beyond. */
static const char *const unit_suffix[] = {"", "K", "M", "G", "T"};

#define UNIT_COUNT (sizeof(unit_suffix) / sizeof(unit_suffix[0]))

unsigned int hist_slot(__u64 value)
{
	unsigned int bits;

	if (value == 0)
		return HIST_ZERO_SLOT;
	/* The number of significant bits is floor(log2(value)) + 1: slot k starts at 2^(k-1). */
	bits = BITS_PER_U64 - (unsigned int)__builtin_clzll(value);
	return bits < HIST_OPEN_SLOT ? bits : HIST_OPEN_SLOT;
}

__u64 hist_slot_min(unsigned int slot)
{
	return slot == HIST_ZERO_SLOT ? 0 : 1ULL << (slot - 1);
}

/* Writes 2^@power as bpftrace does: the mantissa with the largest suffix that keeps it whole. */
static void format_power_of_two(char *buf, size_t cap, unsigned int power)
{
	unsigned int unit = power / POWERS_PER_UNIT;

	if (unit >= UNIT_COUNT)
		unit = UNIT_COUNT - 1;
	snprintf(buf, cap, "%" PRIu64 "%s", (uint64_t)1 << (power - unit * POWERS_PER_UNIT),
		 unit_suffix[unit]);
}

const char *hist_slot_label(char *buf, size_t cap, unsigned int slot)
{
	char low[HIST_LABEL_MAX], high[HIST_LABEL_MAX];

	if (slot == HIST_ZERO_SLOT || slot == HIST_ONE_SLOT) {
		/* Single values: bpftrace writes [0] and [1] rather than [0, 1) and [1, 2). */
		snprintf(buf, cap, "[%u]", slot);
		return buf;
	}
	format_power_of_two(low, sizeof(low), slot - 1);
	if (slot == HIST_OPEN_SLOT) {
		snprintf(buf, cap, "[%s, ...)", low);
		return buf;
	}
	format_power_of_two(high, sizeof(high), slot);
	snprintf(buf, cap, "[%s, %s)", low, high);
	return buf;
}

/*
 * Single precision on purpose: bpftrace computes count / (float)max * 52, and some ratios
 * land on the other side of an integer in double.
 */
static unsigned int bar_length(__u64 count, __u64 max)
{
	float fraction = (float)count / (float)max;
	unsigned int len = (unsigned int)(fraction * HIST_BAR_COLS);

	/* Cannot happen for count <= max; it keeps the bar inside its buffer regardless. */
	return len < HIST_BAR_COLS ? len : HIST_BAR_COLS;
}

static void print_line(FILE *out, unsigned int slot, __u64 count, __u64 max)
{
	char label[HIST_LABEL_MAX];
	char bar[HIST_BAR_COLS + 1];
	unsigned int len = bar_length(count, max);

	memset(bar, '@', len);
	bar[len] = '\0';
	fprintf(out, "%-*s%*" PRIu64 " |%-*s|\n", HIST_LABEL_COLS,
		hist_slot_label(label, sizeof(label), slot), HIST_COUNT_COLS, (uint64_t)count,
		HIST_BAR_COLS, bar);
}

void hist_print(FILE *out, const struct wa_hist *h)
{
	int first = -1, last = -1;
	__u64 max = 0;

	for (int slot = 0; slot < WA_HIST_SLOTS; slot++) {
		if (h->slot[slot] == 0)
			continue;
		if (first < 0)
			first = slot;
		last = slot;
		if (h->slot[slot] > max)
			max = h->slot[slot];
	}
	if (first < 0)
		return;
	for (int slot = first; slot <= last; slot++)
		print_line(out, (unsigned int)slot, h->slot[slot], max);
}
