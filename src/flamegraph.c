// SPDX-License-Identifier: GPL-2.0
/* flamegraph.c: weighted call paths merged into a tree and drawn as one SVG flame graph. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flamegraph.h"
#include "sanitize.h"

#define SVG_WIDTH	  1200
#define PAD_X		  10
#define DRAW_WIDTH	  (SVG_WIDTH - 2 * PAD_X)
#define FRAME_HEIGHT	  16
#define RECT_HEIGHT	  15 /* one pixel of gap between the levels */
#define TITLE_Y		  24
#define SUBTITLE_Y	  44
#define FRAMES_TOP	  60 /* the deepest frame's top edge */
#define PAD_BOTTOM	  10
#define EMPTY_HEIGHT	  120
#define EMPTY_TEXT_Y	  80
#define LABEL_PAD_X	  3
#define LABEL_BASE_Y	  11 /* the baseline, from the frame's top edge */
#define FONT_SIZE	  12
/* Labels are monospace, 0.6 em per character, so that the truncation can count. */
#define CHAR_WIDTH	  (0.6 * FONT_SIZE)
#define LABEL_MIN	  3 /* a label shorter than this says nothing */
#define LABEL_ELLIPSIS	  ".."
#define ELLIPSIS_LEN	  2
/* Narrower frames are not drawn: less than a pixel, they only add noise and bytes. */
#define MIN_SHARE	  0.001
#define KERNEL_SUFFIX	  "_[k]"
#define KERNEL_SUFFIX_LEN 4
#define ALL_NAME	  "all"
#define DEFAULT_TITLE	  "Flame Graph"
#define DECIMAL		  1000ULL /* byte units are 1000-based: kB, MB, GB */
#define HUNDREDTHS	  100
#define TENTHS		  10
#define NUM_LEN		  24 /* "18446744073709551615.99" */
#define FMT_LEN		  48
#define FNV_OFFSET	  2166136261U
#define FNV_PRIME	  16777619U
#define HASH_BYTE(h, i)	  (((h) >> (8 * (i))) & 0xff)
#define REPLACEMENT	  "\xef\xbf\xbd" /* U+FFFD */
#define XML_NONCHAR_1	  0xfffe
#define XML_NONCHAR_2	  0xffff
#define C1_FIRST	  0x80
#define C1_LAST		  0x9f
#define ASCII_SPACE	  0x20
#define ASCII_DEL	  0x7f
#define RGB_CHANNELS	  3

static const char *const byte_units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};

#define BYTE_UNITS (sizeof(byte_units) / sizeof(byte_units[0]))

/*
 * The tree is kept in pre-order in one array: the paths are sorted first, so each node is
 * created after all of its elder siblings are complete, and its place (offset, in weight
 * units from the left edge) is known when it is created.
 */
struct flame_node {
	const char *name;
	size_t depth; /* 0 is the "all" node; a path's frames[i] is at depth i + 1 */
	__u64 weight;
	__u64 child_weight; /* the part of weight that went on to a child */
	__u64 offset;
};

struct flame_tree {
	struct flame_node *nodes;
	size_t count;
	__u64 total;
};

enum palette { PALETTE_ROOT, PALETTE_USER, PALETTE_KERNEL };

static __u64 add_saturated(__u64 a, __u64 b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static const char *frame_at(const struct flame_path *p, size_t i)
{
	return p->frames[i] ? p->frames[i] : "";
}

static int compare_paths(const void *a, const void *b)
{
	const struct flame_path *pa = *(const struct flame_path *const *)a;
	const struct flame_path *pb = *(const struct flame_path *const *)b;
	size_t n = pa->nframes < pb->nframes ? pa->nframes : pb->nframes;

	for (size_t i = 0; i < n; i++) {
		int c = strcmp(frame_at(pa, i), frame_at(pb, i));

		if (c)
			return c;
	}
	return (pa->nframes > pb->nframes) - (pa->nframes < pb->nframes);
}

static size_t common_prefix(const struct flame_path *a, const struct flame_path *b)
{
	size_t n = a->nframes < b->nframes ? a->nframes : b->nframes;
	size_t i = 0;

	while (i < n && !strcmp(frame_at(a, i), frame_at(b, i)))
		i++;
	return i;
}

static struct flame_node *new_child(struct flame_tree *t, struct flame_node *parent,
				    const char *name)
{
	struct flame_node *n = &t->nodes[t->count++];

	n->name = name;
	n->depth = parent->depth + 1;
	n->weight = 0;
	n->child_weight = 0;
	n->offset = add_saturated(parent->offset, parent->child_weight);
	return n;
}

/* @chain[d] is the node of the previous path at depth d; the first @shared are reused. */
static void add_path(struct flame_tree *t, const struct flame_path *p, size_t shared, size_t *chain)
{
	struct flame_node *all = &t->nodes[0];

	all->weight = add_saturated(all->weight, p->weight);
	for (size_t i = 0; i < p->nframes; i++) {
		struct flame_node *parent = &t->nodes[chain[i]];
		struct flame_node *n;

		if (i >= shared)
			chain[i + 1] = (size_t)(new_child(t, parent, frame_at(p, i)) - t->nodes);
		n = &t->nodes[chain[i + 1]];
		parent->child_weight = add_saturated(parent->child_weight, p->weight);
		n->weight = add_saturated(n->weight, p->weight);
	}
}

static int count_nodes(const struct flame_path *paths, size_t npaths, size_t *nodes,
		       size_t *longest)
{
	*nodes = 1;
	*longest = 0;
	for (size_t i = 0; i < npaths; i++) {
		if (paths[i].nframes > SIZE_MAX / sizeof(struct flame_node) - *nodes) {
			errno = ENOMEM;
			return -1;
		}
		*nodes += paths[i].nframes;
		if (paths[i].nframes > *longest)
			*longest = paths[i].nframes;
	}
	return 0;
}

static int build_tree(struct flame_tree *t, const struct flame_path *paths, size_t npaths)
{
	const struct flame_path **sorted = NULL;
	size_t *chain = NULL;
	size_t max_nodes, longest;
	const struct flame_path *prev = NULL;

	if (count_nodes(paths, npaths, &max_nodes, &longest))
		return -1;
	t->nodes = calloc(max_nodes, sizeof(*t->nodes));
	sorted = calloc(npaths ? npaths : 1, sizeof(*sorted));
	chain = calloc(longest + 1, sizeof(*chain));
	if (!t->nodes || !sorted || !chain) {
		free(t->nodes);
		free(sorted);
		free(chain);
		t->nodes = NULL;
		errno = ENOMEM;
		return -1;
	}
	t->nodes[0].name = ALL_NAME;
	t->count = 1;
	for (size_t i = 0; i < npaths; i++)
		sorted[i] = &paths[i];
	qsort(sorted, npaths, sizeof(*sorted), compare_paths);
	for (size_t i = 0; i < npaths; i++) {
		size_t shared = prev ? common_prefix(prev, sorted[i]) : 0;

		add_path(t, sorted[i], shared, chain);
		prev = sorted[i];
	}
	t->total = t->nodes[0].weight;
	free(sorted);
	free(chain);
	return 0;
}

static bool is_drawn(const struct flame_tree *t, const struct flame_node *n)
{
	return (double)n->weight >= MIN_SHARE * (double)t->total;
}

static size_t deepest_drawn(const struct flame_tree *t)
{
	size_t deepest = 0;

	for (size_t i = 0; i < t->count; i++) {
		if (is_drawn(t, &t->nodes[i]) && t->nodes[i].depth > deepest)
			deepest = t->nodes[i].depth;
	}
	return deepest;
}

/*
 * Fixed-point text by integer arithmetic: numbers in an SVG must use '.', whatever
 * LC_NUMERIC says.
 */
static const char *fmt_fixed(char *buf, double v, unsigned int scale)
{
	unsigned long long scaled = (unsigned long long)(v * scale + 0.5);
	int digits = scale == HUNDREDTHS ? 2 : 1;

	if (v < 0)
		scaled = 0;
	snprintf(buf, NUM_LEN, "%llu.%0*llu", scaled / scale, digits, scaled % scale);
	return buf;
}

static const char *fmt_bytes(char *buf, __u64 n)
{
	double v = (double)n;
	size_t unit = 0;
	char num[NUM_LEN];

	if (n < DECIMAL) {
		snprintf(buf, FMT_LEN, "%llu B", (unsigned long long)n);
		return buf;
	}
	/* Compare after rounding, so that 999.996 kB reads 1.00 MB, not 1000.00 kB. */
	while (unit + 1 < BYTE_UNITS && v * HUNDREDTHS + 0.5 >= (double)DECIMAL * HUNDREDTHS) {
		v /= DECIMAL;
		unit++;
	}
	snprintf(buf, FMT_LEN, "%s %s", fmt_fixed(num, v, HUNDREDTHS), byte_units[unit]);
	return buf;
}

static const char *fmt_weight(char *buf, __u64 n, const struct flame_style *style)
{
	if (style->weight_is_bytes)
		return fmt_bytes(buf, n);
	snprintf(buf, FMT_LEN, "%llu", (unsigned long long)n);
	return buf;
}

/* XML 1.0 allows no C0 control but tab, newline and CR, and neither U+FFFE nor U+FFFF. */
static bool is_xml_unsafe(uint32_t cp)
{
	return cp == UTF8_INVALID || cp < ASCII_SPACE || cp == ASCII_DEL ||
	       (cp >= C1_FIRST && cp <= C1_LAST) || cp == XML_NONCHAR_1 || cp == XML_NONCHAR_2;
}

static void write_xml_char(FILE *out, const char *s, size_t len, uint32_t cp)
{
	switch (cp) {
	case '&':
		fputs("&amp;", out);
		break;
	case '<':
		fputs("&lt;", out);
		break;
	case '>':
		fputs("&gt;", out);
		break;
	case '"':
		fputs("&quot;", out);
		break;
	case '\'':
		fputs("&#39;", out);
		break;
	default:
		if (is_xml_unsafe(cp))
			fputs(REPLACEMENT, out);
		else
			fwrite(s, 1, len, out);
	}
}

/* Characters as a reader sees them: each invalid subpart will be one U+FFFD. */
static size_t count_chars(const char *s, size_t len)
{
	size_t chars = 0;
	uint32_t cp;

	for (size_t i = 0; i < len; chars++)
		i += utf8_next(s + i, len - i, &cp);
	return chars;
}

/*
 * Writes up to @max_chars characters of @len untrusted bytes, escaped for both text and
 * attribute values, valid UTF-8 by construction.
 */
static void write_xml_text(FILE *out, const char *s, size_t len, size_t max_chars)
{
	uint32_t cp;
	size_t n;

	for (size_t i = 0; i < len && max_chars; i += n, max_chars--) {
		n = utf8_next(s + i, len - i, &cp);
		write_xml_char(out, s + i, n, cp);
	}
}

static void write_xml_string(FILE *out, const char *s)
{
	write_xml_text(out, s, strlen(s), SIZE_MAX);
}

static bool is_kernel_frame(const char *name, size_t len)
{
	return len >= KERNEL_SUFFIX_LEN &&
	       !memcmp(name + len - KERNEL_SUFFIX_LEN, KERNEL_SUFFIX, KERNEL_SUFFIX_LEN);
}

static enum palette palette_of(const struct flame_node *n)
{
	if (n->depth <= 1)
		return PALETTE_ROOT;
	return is_kernel_frame(n->name, strlen(n->name)) ? PALETTE_KERNEL : PALETTE_USER;
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = FNV_OFFSET;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= FNV_PRIME;
	}
	return h;
}

/* A colour family: each channel is base + (a byte of the name's hash) % span. */
struct colour_family {
	unsigned int base[RGB_CHANNELS];
	unsigned int span[RGB_CHANNELS];
	bool grey; /* the red channel's value for all three */
};

/*
 * The colour depends on the name only, so that a function has the same colour in every graph.
 * User code is warm (red to yellow: red >= green > blue), the kernel teal, the "all" node and
 * the processes grey: families that do not overlap, so a glance tells where the weight went.
 */
static const struct colour_family families[] = {
	[PALETTE_ROOT] = {.base = {170, 0, 0}, .span = {40, 1, 1}, .grey = true},
	[PALETTE_USER] = {.base = {215, 70, 20}, .span = {41, 140, 50}},
	[PALETTE_KERNEL] = {.base = {30, 170, 160}, .span = {60, 60, 60}},
};

static void write_fill(FILE *out, const struct flame_node *n)
{
	const struct colour_family *f = &families[palette_of(n)];
	uint32_t h = name_hash(n->name);
	unsigned int c[RGB_CHANNELS];

	for (int i = 0; i < RGB_CHANNELS; i++)
		c[i] = f->base[i] + HASH_BYTE(h, i) % f->span[i];
	if (f->grey)
		c[1] = c[2] = c[0];
	fprintf(out, "rgb(%u,%u,%u)", c[0], c[1], c[2]);
}

static void write_header(FILE *out, unsigned int height)
{
	fprintf(out,
		"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
		"height=\"%u\" viewBox=\"0 0 %d %u\">\n"
		"<style>\n"
		"text { font-family: monospace; font-size: %dpx; fill: #000; }\n"
		"text.title { font-family: sans-serif; font-size: 17px; }\n"
		"text.subtitle { font-family: sans-serif; font-size: 12px; fill: #555; }\n"
		"g.frame:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		"</style>\n"
		"<rect x=\"0\" y=\"0\" width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
		SVG_WIDTH, height, SVG_WIDTH, height, FONT_SIZE);
}

static void write_titles(FILE *out, const struct flame_style *style, __u64 total)
{
	const char *what = style->weight_name ? style->weight_name : "";
	char weight[FMT_LEN];

	fprintf(out, "<text class=\"title\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		SVG_WIDTH / 2, TITLE_Y);
	write_xml_string(out, style->title ? style->title : DEFAULT_TITLE);
	fprintf(out, "</text>\n<text class=\"subtitle\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">",
		SVG_WIDTH / 2, SUBTITLE_Y);
	fprintf(out, "total %s", fmt_weight(weight, total, style));
	if (*what) {
		/* "1.23 MB of device bytes" but "42 syncs" */
		fputs(style->weight_is_bytes ? " of " : " ", out);
		write_xml_string(out, what);
	}
	fputs("</text>\n", out);
}

static void write_tooltip(FILE *out, const struct flame_node *n, __u64 total,
			  const struct flame_style *style)
{
	char weight[FMT_LEN], share[NUM_LEN];

	fputs("<title>", out);
	write_xml_string(out, n->name);
	fprintf(out, ": %s", fmt_weight(weight, n->weight, style));
	if (style->weight_name && *style->weight_name) {
		fputc(' ', out);
		write_xml_string(out, style->weight_name);
	}
	fprintf(out, " (%s%%)</title>",
		fmt_fixed(share, 100.0 * (double)n->weight / (double)total, TENTHS));
}

/*
 * The label drops the "_[k]" of kernel frames, which the colour already tells, to leave
 * room for the name; the tooltip keeps the full name, "_[k]" included, as in folded stacks.
 */
static void write_label(FILE *out, const struct flame_node *n, double x, double y, double w)
{
	size_t len = strlen(n->name);
	size_t fit = w > 2 * LABEL_PAD_X ? (size_t)((w - 2 * LABEL_PAD_X) / CHAR_WIDTH) : 0;
	size_t chars;
	char num[NUM_LEN];

	if (fit < LABEL_MIN)
		return;
	if (palette_of(n) == PALETTE_KERNEL)
		len -= KERNEL_SUFFIX_LEN;
	chars = count_chars(n->name, len);
	fprintf(out, "<text x=\"%s\"", fmt_fixed(num, x + LABEL_PAD_X, HUNDREDTHS));
	fprintf(out, " y=\"%s\">", fmt_fixed(num, y + LABEL_BASE_Y, HUNDREDTHS));
	if (chars <= fit) {
		write_xml_text(out, n->name, len, chars);
	} else {
		write_xml_text(out, n->name, len, fit - ELLIPSIS_LEN);
		fputs(LABEL_ELLIPSIS, out);
	}
	fputs("</text>", out);
}

static void write_frame(FILE *out, const struct flame_tree *t, const struct flame_node *n,
			unsigned int height, const struct flame_style *style)
{
	double scale = (double)DRAW_WIDTH / (double)t->total;
	double x = PAD_X + (double)n->offset * scale;
	double w = (double)n->weight * scale;
	double y = (double)height - PAD_BOTTOM - (double)(n->depth + 1) * FRAME_HEIGHT;
	char num[NUM_LEN];

	fputs("<g class=\"frame\">", out);
	write_tooltip(out, n, t->total, style);
	fprintf(out, "<rect x=\"%s\"", fmt_fixed(num, x, HUNDREDTHS));
	fprintf(out, " y=\"%s\"", fmt_fixed(num, y, HUNDREDTHS));
	fprintf(out, " width=\"%s\" height=\"%d\" rx=\"2\" fill=\"", fmt_fixed(num, w, HUNDREDTHS),
		RECT_HEIGHT);
	write_fill(out, n);
	fputs("\"/>", out);
	write_label(out, n, x, y, w);
	fputs("</g>\n", out);
}

static void write_graph(FILE *out, const struct flame_tree *t, const struct flame_style *style)
{
	unsigned int height =
		FRAMES_TOP + (unsigned int)(deepest_drawn(t) + 1) * FRAME_HEIGHT + PAD_BOTTOM;

	write_header(out, height);
	write_titles(out, style, t->total);
	for (size_t i = 0; i < t->count; i++) {
		if (is_drawn(t, &t->nodes[i]))
			write_frame(out, t, &t->nodes[i], height, style);
	}
	fputs("</svg>\n", out);
}

static void write_empty(FILE *out, const struct flame_style *style)
{
	write_header(out, EMPTY_HEIGHT);
	write_titles(out, style, 0);
	fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no data</text>\n</svg>\n",
		SVG_WIDTH / 2, EMPTY_TEXT_Y);
}

/* errno is cleared first so that a failed write leaves its own cause, not a stale one. */
static int finish(FILE *out)
{
	if (fflush(out) || ferror(out)) {
		if (!errno)
			errno = EIO;
		return -1;
	}
	return 0;
}

int flamegraph_svg(FILE *out, const struct flame_path *paths, size_t npaths,
		   const struct flame_style *style)
{
	static const struct flame_style no_style;
	struct flame_tree tree = {0};

	if (!style)
		style = &no_style;
	if (build_tree(&tree, paths, npaths))
		return -1;
	errno = 0;
	if (tree.total)
		write_graph(out, &tree, style);
	else
		write_empty(out, style);
	free(tree.nodes);
	return finish(out);
}
