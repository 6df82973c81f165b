/* test_flamegraph.c: unit tests of the SVG flame graph, read back by a small XML scanner. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "comma_locale.h"
#include "flamegraph.h"
#include "sanitize.h"

#define MAX_FRAMES	 256
#define MAX_TEXT	 1024
#define MAX_DEPTH	 64
#define MAX_NAME	 64
#define PIXEL_EPSILON	 0.011 /* coordinates are written with two decimals */
#define SVG_WIDTH	 1200
#define FONT_SIZE	 12.0
#define MONO_ADVANCE	 0.6 /* em per character of a monospace font */
#define KERNEL_SUFFIX	 "_[k]"
#define REPLACEMENT_UTF8 "\xef\xbf\xbd" /* U+FFFD */
#define DEV_FULL	 "/dev/full"
#define NAME_COUNT	 40

static const struct flame_style bytes_style = {
	.title = "writeamp: device bytes by call path",
	.weight_name = "device bytes",
	.weight_is_bytes = true,
};

static const struct flame_style count_style = {
	.title = "writeamp: syncs by call path",
	.weight_name = "syncs",
	.weight_is_bytes = false,
};

/* One drawn frame as read back from the SVG; texts are unescaped. */
struct frame {
	char title[MAX_TEXT];
	char label[MAX_TEXT];
	bool has_label;
	double x, y, width;
	unsigned int rgb[3];
};

struct svg {
	char *text;
	size_t len;
	struct frame frames[MAX_FRAMES];
	size_t nframes;
};

/* ---- a strict little XML scanner: enough to prove the document well-formed ---- */

static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"};

/* The length of the entity or character reference at @s, 0 if there is none. */
static size_t entity_len(const char *s)
{
	const char *p = s + 2;

	for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
		if (!strncmp(s, entities[i], strlen(entities[i])))
			return strlen(entities[i]);
	}
	if (strncmp(s, "&#", 2))
		return 0;
	if (*p == 'x')
		p++;
	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F'))
		p++;
	return *p == ';' && p > s + 2 ? (size_t)(p - s + 1) : 0;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == ':' || c == '.';
}

/* Every byte valid UTF-8, and no character that XML 1.0 forbids. */
static const char *check_characters(const char *s, size_t len)
{
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		i += utf8_next(s + i, len - i, &cp);
		if (cp == UTF8_INVALID)
			return "invalid UTF-8";
		if ((cp < 0x20 && cp != '\n' && cp != '\t' && cp != '\r') || cp == 0xfffe ||
		    cp == 0xffff)
			return "a character XML forbids";
	}
	return NULL;
}

/* Text between tags: '&' only as an entity, no raw '<' (that is a tag) and no raw '>'. */
static const char *scan_text(const char **pp)
{
	const char *p = *pp;

	for (; *p && *p != '<'; p++) {
		if (*p == '>')
			return "a raw '>' in text";
		if (*p == '&' && !entity_len(p))
			return "a bare '&' in text";
	}
	*pp = p;
	return NULL;
}

static const char *scan_attributes(const char **pp)
{
	const char *p = *pp;

	for (;;) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (*p == '>' || *p == '/' || *p == '?')
			break;
		if (!is_name_char(*p))
			return "a bad attribute name";
		while (is_name_char(*p))
			p++;
		if (p[0] != '=' || p[1] != '"')
			return "an attribute without =\"";
		for (p += 2; *p != '"'; p++) {
			if (!*p || *p == '<')
				return "a '<' or the end inside an attribute";
			if (*p == '&' && !entity_len(p))
				return "a bare '&' in an attribute";
		}
		p++;
	}
	*pp = p;
	return NULL;
}

/* NULL when @text is one well-formed XML document with a single <svg> root, else why not. */
static const char *check_well_formed(const char *text, size_t len)
{
	const char *stack[MAX_DEPTH];
	size_t stack_len[MAX_DEPTH];
	size_t depth = 0, roots = 0;
	const char *p = text, *err;

	if (strlen(text) != len)
		return "a NUL byte";
	err = check_characters(text, len);
	if (err)
		return err;
	if (!strncmp(p, "<?xml", 5)) {
		p = strstr(p, "?>");
		if (!p)
			return "an unterminated declaration";
		p += 2;
	}
	while (*p) {
		const char *name;
		size_t name_len;
		bool closing;

		err = scan_text(&p);
		if (err)
			return err;
		if (!*p)
			break;
		if (depth == 0 && roots && strspn(p, " \n") != strlen(p))
			return "content after the root element";
		closing = p[1] == '/';
		name = p + 1 + closing;
		for (name_len = 0; is_name_char(name[name_len]); name_len++)
			;
		if (!name_len)
			return "a '<' that starts no tag";
		p = name + name_len;
		if (closing) {
			if (!depth || stack_len[depth - 1] != name_len ||
			    strncmp(stack[depth - 1], name, name_len))
				return "a closing tag that does not match";
			depth--;
			if (*p++ != '>')
				return "junk in a closing tag";
			continue;
		}
		err = scan_attributes(&p);
		if (err)
			return err;
		if (!depth && (roots++ || name_len != 3 || strncmp(name, "svg", 3)))
			return "a root element that is not the one <svg>";
		if (p[0] == '/' && p[1] == '>') {
			p += 2;
			continue;
		}
		if (*p++ != '>')
			return "an unterminated tag";
		if (depth == MAX_DEPTH)
			return "nesting too deep for the scanner";
		stack[depth] = name;
		stack_len[depth++] = name_len;
	}
	if (depth)
		return "unclosed elements";
	return roots == 1 ? NULL : "no root element";
}

/* ---- reading the frames back ---- */

/* Copies @len escaped bytes into @dst (MAX_TEXT) with the entities resolved. */
static void unescape(char *dst, const char *src, size_t len)
{
	static const char plain[] = {'&', '<', '>', '"', '\''};
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < MAX_TEXT;) {
		size_t n = src[i] == '&' ? entity_len(src + i) : 0;
		bool found = false;

		for (size_t e = 0; n && e < sizeof(entities) / sizeof(entities[0]); e++) {
			if (!strncmp(src + i, entities[e], n) && strlen(entities[e]) == n) {
				dst[o++] = plain[e];
				found = true;
			}
		}
		if (n && !found) {
			/* only &#39; is expected among the numeric references */
			assert_true(!strncmp(src + i, "&#39;", n));
			dst[o++] = '\'';
		}
		if (!n)
			dst[o++] = src[i];
		i += n ? n : 1;
	}
	dst[o] = '\0';
}

/* The element text between @open's end and @close, within [p, end). */
static bool element_text(char *dst, const char *p, const char *end, const char *open,
			 const char *close)
{
	const char *start = strstr(p, open);
	const char *stop;

	if (!start || start >= end)
		return false;
	start = strchr(start, '>') + 1;
	stop = strstr(start, close);
	assert_non_null(stop);
	assert_true(stop < end);
	unescape(dst, start, (size_t)(stop - start));
	return true;
}

static double attr_number(const char *tag, const char *name)
{
	char key[MAX_NAME];
	const char *v;

	snprintf(key, sizeof(key), " %s=\"", name);
	v = strstr(tag, key);
	assert_non_null(v);
	assert_true(v < strchr(tag, '>'));
	return strtod(v + strlen(key), NULL);
}

static void parse_frame(struct frame *f, const char *p, const char *end)
{
	const char *rect = strstr(p, "<rect ");
	const char *fill;

	assert_true(element_text(f->title, p, end, "<title", "</title>"));
	assert_true(rect && rect < end);
	f->x = attr_number(rect, "x");
	f->y = attr_number(rect, "y");
	f->width = attr_number(rect, "width");
	fill = strstr(rect, "fill=\"rgb(");
	assert_non_null(fill);
	assert_int_equal(sscanf(fill, "fill=\"rgb(%u,%u,%u)\"", &f->rgb[0], &f->rgb[1], &f->rgb[2]),
			 3);
	f->has_label = element_text(f->label, rect, end, "<text", "</text>");
}

/* Renders the paths onto a memory stream, checks the XML and reads the frames back. */
static void render(struct svg *s, const struct flame_path *paths, size_t npaths,
		   const struct flame_style *style)
{
	FILE *out;
	const char *p, *err;

	s->text = NULL;
	s->len = 0;
	s->nframes = 0;
	out = open_memstream(&s->text, &s->len);
	assert_non_null(out);
	assert_int_equal(flamegraph_svg(out, paths, npaths, style), 0);
	assert_int_equal(fclose(out), 0);
	err = check_well_formed(s->text, s->len);
	if (err)
		fail_msg("not well-formed XML: %s\n%s", err, s->text);
	for (p = s->text; (p = strstr(p, "<g class=\"frame\">")); p++) {
		const char *end = strstr(p, "</g>");

		assert_non_null(end);
		assert_true(s->nframes < MAX_FRAMES);
		parse_frame(&s->frames[s->nframes++], p, end);
	}
}

static void svg_free(struct svg *s)
{
	free(s->text);
}

/* The frames whose tooltip names @name; fails unless there are exactly @expected of them. */
static const struct frame *frame_named_n(const struct svg *s, const char *name, size_t expected,
					 size_t nth)
{
	const struct frame *hit = NULL;
	size_t n = 0, len = strlen(name);

	for (size_t i = 0; i < s->nframes; i++) {
		const struct frame *f = &s->frames[i];

		if (!strncmp(f->title, name, len) && !strncmp(f->title + len, ": ", 2)) {
			if (n == nth)
				hit = f;
			n++;
		}
	}
	if (n != expected)
		fail_msg("%zu frames named %s, expected %zu\n%s", n, name, expected, s->text);
	return hit;
}

static const struct frame *frame_named(const struct svg *s, const char *name)
{
	return frame_named_n(s, name, 1, 0);
}

static void assert_near(double actual, double expected)
{
	if (fabs(actual - expected) > PIXEL_EPSILON)
		fail_msg("%.4f is not %.4f", actual, expected);
}

/* The share as the test works it out, to compare with the tooltip's. */
static void expected_tooltip(char *buf, size_t cap, const char *name, const char *weight,
			     const char *what, __u64 part, __u64 whole)
{
	snprintf(buf, cap, "%s: %s %s (%.1f%%)", name, weight, what,
		 100.0 * (double)part / (double)whole);
}

#define PATH(w, ...)                                                                          \
	{                                                                                     \
		.frames = (const char *const[]){__VA_ARGS__},                                 \
		.nframes = sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *), \
		.weight = (w),                                                                \
	}

/* ---- the tests ---- */

static void test_shared_prefix_is_one_frame_of_the_summed_weight(void **state)
{
	const struct flame_path paths[] = {
		PATH(30, "proc", "a", "x"),
		PATH(10, "proc", "a", "y"),
		PATH(60, "proc", "b"),
	};
	struct svg s;
	const struct frame *all, *proc, *a, *b, *x, *y;
	double left, full;

	render(&s, paths, 3, &bytes_style);
	assert_int_equal(s.nframes, 6); /* all, proc, a, b, x, y */
	all = frame_named(&s, "all");
	proc = frame_named(&s, "proc");
	a = frame_named(&s, "a");
	b = frame_named(&s, "b");
	x = frame_named(&s, "x");
	y = frame_named(&s, "y");
	left = all->x;
	full = all->width;
	assert_true(left >= 0 && left + full <= SVG_WIDTH && full > SVG_WIDTH * 0.9);
	assert_near(proc->width, full);
	/* a's width is x's plus y's: 40 of 100 */
	assert_near(a->width, full * 40 / 100);
	assert_near(a->width, x->width + y->width);
	assert_near(b->width, full * 60 / 100);
	/* children start at their parent's left edge and follow one another */
	assert_near(a->x, left);
	assert_near(x->x, left);
	assert_near(y->x, left + full * 30 / 100);
	assert_near(b->x, left + full * 40 / 100);
	svg_free(&s);
}

static void test_levels_stack_upwards_from_the_root(void **state)
{
	const struct flame_path paths[] = {PATH(5, "proc", "main", "work", "write_[k]")};
	static const char *const chain[] = {"all", "proc", "main", "work", "write_[k]"};
	struct svg s;
	double step = 0;

	render(&s, paths, 1, &count_style);
	for (size_t i = 1; i < sizeof(chain) / sizeof(chain[0]); i++) {
		const struct frame *parent = frame_named(&s, chain[i - 1]);
		const struct frame *child = frame_named(&s, chain[i]);

		if (i == 1)
			step = parent->y - child->y;
		/* one level up each time, and no level overlaps the one below */
		assert_true(step >= FONT_SIZE);
		assert_near(parent->y - child->y, step);
	}
	svg_free(&s);
}

static void test_widths_are_proportional_to_weights(void **state)
{
	static const __u64 weights[] = {1000, 2000, 3000, 7000, 87000};
	static const char *const leaves[] = {"a", "b", "c", "d", "e"};
	struct flame_path paths[5];
	const char *frames[5][2];
	__u64 total = 0;
	double expected_x;
	struct svg s;
	const struct frame *all;

	for (size_t i = 0; i < 5; i++) {
		frames[i][0] = "proc";
		frames[i][1] = leaves[i];
		paths[i] = (struct flame_path){
			.frames = frames[i], .nframes = 2, .weight = weights[i]};
		total += weights[i];
	}
	render(&s, paths, 5, &bytes_style);
	all = frame_named(&s, "all");
	expected_x = all->x;
	for (size_t i = 0; i < 5; i++) {
		const struct frame *f = frame_named(&s, leaves[i]);

		assert_near(f->width, all->width * (double)weights[i] / (double)total);
		assert_near(f->x, expected_x);
		expected_x += all->width * (double)weights[i] / (double)total;
	}
	svg_free(&s);
}

static void test_siblings_are_alphabetical_whatever_the_input_order(void **state)
{
	const struct flame_path forward[] = {
		PATH(10, "p", "zeta"),
		PATH(20, "p", "alpha"),
		PATH(30, "p", "mid"),
		PATH(5, "p", "alpha", "leaf"),
	};
	const struct flame_path backward[] = {forward[3], forward[2], forward[1], forward[0]};
	struct svg s1, s2;

	render(&s1, forward, 4, &bytes_style);
	render(&s2, backward, 4, &bytes_style);
	assert_true(frame_named(&s1, "alpha")->x < frame_named(&s1, "mid")->x);
	assert_true(frame_named(&s1, "mid")->x < frame_named(&s1, "zeta")->x);
	/* alpha's 20 + its child's 5 */
	assert_near(frame_named(&s1, "alpha")->width, frame_named(&s1, "all")->width * 25 / 65);
	assert_string_equal(s1.text, s2.text);
	svg_free(&s1);
	svg_free(&s2);
}

static void test_equal_paths_merge_and_a_parent_keeps_its_own_weight(void **state)
{
	const struct flame_path paths[] = {
		PATH(50, "p", "caller"),
		PATH(20, "p", "caller", "callee"),
		PATH(30, "p", "caller", "callee"),
	};
	struct svg s;
	const struct frame *all, *callee;

	render(&s, paths, 3, &count_style);
	all = frame_named(&s, "all");
	callee = frame_named(&s, "callee");
	assert_near(frame_named(&s, "caller")->width, all->width);
	/* the caller's own 50 are the space to the right of its children */
	assert_near(callee->width, all->width / 2);
	assert_near(callee->x, all->x);
	svg_free(&s);
}

static void test_same_name_under_different_parents_is_two_frames(void **state)
{
	const struct flame_path paths[] = {
		PATH(10, "p", "a", "common"),
		PATH(30, "p", "b", "common"),
	};
	struct svg s;
	const struct frame *under_a, *under_b;

	render(&s, paths, 2, &count_style);
	under_a = frame_named_n(&s, "common", 2, 0);
	under_b = frame_named_n(&s, "common", 2, 1);
	if (under_a->x > under_b->x) {
		const struct frame *t = under_a;

		under_a = under_b;
		under_b = t;
	}
	assert_near(under_a->x, frame_named(&s, "a")->x);
	assert_near(under_b->x, frame_named(&s, "b")->x);
	assert_near(under_a->width * 3, under_b->width);
	svg_free(&s);
}

static void test_tooltips_give_weight_and_share(void **state)
{
	const struct flame_path paths[] = {
		PATH(1201000, "redis-server", "flushAppendOnlyFile"),
		PATH(33000, "redis-server", "rdbSave"),
	};
	__u64 total = 1201000 + 33000;
	char expected[MAX_TEXT];
	struct svg s;

	render(&s, paths, 2, &bytes_style);
	expected_tooltip(expected, sizeof(expected), "flushAppendOnlyFile", "1.20 MB",
			 "device bytes", 1201000, total);
	assert_string_equal(frame_named(&s, "flushAppendOnlyFile")->title, expected);
	expected_tooltip(expected, sizeof(expected), "rdbSave", "33.00 kB", "device bytes", 33000,
			 total);
	assert_string_equal(frame_named(&s, "rdbSave")->title, expected);
	assert_string_equal(frame_named(&s, "all")->title, "all: 1.23 MB device bytes (100.0%)");
	assert_non_null(strstr(s.text, ">total 1.23 MB of device bytes</text>"));
	assert_non_null(strstr(s.text, ">writeamp: device bytes by call path</text>"));
	svg_free(&s);
}

static void test_byte_units_are_decimal_and_round_up_to_the_next_unit(void **state)
{
	static const struct {
		__u64 weight;
		const char *text;
	} cases[] = {
		{1, "1 B"},
		{999, "999 B"},
		{1000, "1.00 kB"},
		{1234, "1.23 kB"},
		{999994, "999.99 kB"},
		{999996, "1.00 MB"},
		{2500000, "2.50 MB"},
		{7000000000ULL, "7.00 GB"},
		{12345678901234ULL, "12.35 TB"},
		{UINT64_MAX, "18.45 EB"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct flame_path paths[] = {PATH(cases[i].weight, "p", "leaf"),
						   PATH(1, "q", "other")};
		char expected[MAX_TEXT];
		struct svg s;

		render(&s, paths, cases[i].weight == UINT64_MAX ? 1 : 2, &bytes_style);
		snprintf(expected, sizeof(expected), "leaf: %s device bytes (", cases[i].text);
		assert_memory_equal(frame_named(&s, "leaf")->title, expected, strlen(expected));
		svg_free(&s);
	}
}

static void test_counts_are_plain_integers(void **state)
{
	const struct flame_path paths[] = {PATH(3, "db", "fsync_[k]"), PATH(1, "db", "commit")};
	struct svg s;

	render(&s, paths, 2, &count_style);
	assert_string_equal(frame_named(&s, "fsync_[k]")->title, "fsync_[k]: 3 syncs (75.0%)");
	assert_string_equal(frame_named(&s, "commit")->title, "commit: 1 syncs (25.0%)");
	assert_non_null(strstr(s.text, ">total 4 syncs</text>"));
	svg_free(&s);
}

static void test_hostile_names_stay_well_formed(void **state)
{
	/* invalid: \xff, the overlong \xc0\x80 (two subparts), a surrogate (three) */
	static const char hostile[] = "a<b&\"c'\x01\xff\xc0\x80\xed\xa0\x80</g>]]>";
	static const char expected[] = "a<b&\"c'" REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8
		REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8 "</g>]]>";
	static const char proc[] = "evil\n\t\x1b[31m";
	const struct flame_path paths[] = {PATH(100, proc, hostile)};
	const struct flame_style style = {
		.title = "<script>alert('x')</script> & \x7f",
		.weight_name = "\"bytes\" <&>",
		.weight_is_bytes = true,
	};
	struct svg s;
	const struct frame *f;

	render(&s, paths, 1, &style);
	assert_null(strstr(s.text, "<script"));
	assert_null(strstr(s.text, "\x1b"));
	f = frame_named(&s, expected);
	assert_string_equal(f->title + strlen(expected), ": 100 B \"bytes\" <&> (100.0%)");
	assert_true(f->has_label);
	assert_string_equal(f->label, expected);
	frame_named(&s, "evil" REPLACEMENT_UTF8 REPLACEMENT_UTF8 REPLACEMENT_UTF8 "[31m");
	svg_free(&s);
}

static void test_no_paths_gives_a_valid_no_data_graph(void **state)
{
	const struct flame_path zero[] = {PATH(0, "p", "a"), PATH(0, "q")};
	struct svg s;

	render(&s, NULL, 0, &bytes_style);
	assert_int_equal(s.nframes, 0);
	assert_non_null(strstr(s.text, ">no data</text>"));
	assert_non_null(strstr(s.text, ">writeamp: device bytes by call path</text>"));
	assert_non_null(strstr(s.text, ">total 0 B of device bytes</text>"));
	svg_free(&s);

	render(&s, zero, 2, &count_style);
	assert_int_equal(s.nframes, 0);
	assert_non_null(strstr(s.text, ">no data</text>"));
	svg_free(&s);
}

static bool is_grey(const unsigned int *c)
{
	return c[0] == c[1] && c[1] == c[2];
}

/* Red dominant, blue low: red, orange or yellow. */
static bool is_warm(const unsigned int *c)
{
	return c[0] >= c[1] && c[0] > c[2] + 100 && c[1] > c[2];
}

/* Green and blue above red: teal. */
static bool is_cool(const unsigned int *c)
{
	return c[1] > c[0] + 50 && c[2] > c[0] + 50;
}

static void test_kernel_user_and_root_colours_are_distinct_families(void **state)
{
	char names[2 * NAME_COUNT][MAX_NAME];
	const char *frames[2 * NAME_COUNT][2];
	struct flame_path paths[2 * NAME_COUNT];
	struct svg s;

	for (size_t i = 0; i < 2 * NAME_COUNT; i++) {
		snprintf(names[i], MAX_NAME, "func%zu%s", i % NAME_COUNT,
			 i < NAME_COUNT ? "" : KERNEL_SUFFIX);
		frames[i][0] = "proc";
		frames[i][1] = names[i];
		paths[i] = (struct flame_path){.frames = frames[i], .nframes = 2, .weight = 10};
	}
	render(&s, paths, 2 * NAME_COUNT, &count_style);
	assert_int_equal(s.nframes, 2 + 2 * NAME_COUNT);
	for (size_t i = 0; i < s.nframes; i++) {
		const struct frame *f = &s.frames[i];
		bool kernel = strstr(f->title, KERNEL_SUFFIX ":") != NULL;
		bool root = !strncmp(f->title, "all:", 4) || !strncmp(f->title, "proc:", 5);

		if (root)
			assert_true(is_grey(f->rgb));
		else if (kernel)
			assert_true(is_cool(f->rgb) && !is_warm(f->rgb) && !is_grey(f->rgb));
		else
			assert_true(is_warm(f->rgb) && !is_cool(f->rgb) && !is_grey(f->rgb));
	}
	svg_free(&s);
}

static void test_colours_depend_on_the_name_only(void **state)
{
	const struct flame_path one[] = {PATH(1, "p", "write_all_bytes")};
	const struct flame_path two[] = {PATH(1, "q", "x", "write_all_bytes"), PATH(9, "q", "y")};
	struct svg s1, s2;
	const unsigned int *c1, *c2;

	render(&s1, one, 1, &count_style);
	render(&s2, two, 2, &bytes_style);
	c1 = frame_named(&s1, "write_all_bytes")->rgb;
	c2 = frame_named(&s2, "write_all_bytes")->rgb;
	assert_memory_equal(c1, c2, sizeof(unsigned int) * 3);
	svg_free(&s1);
	svg_free(&s2);
}

static void test_kernel_labels_drop_the_suffix_that_tooltips_keep(void **state)
{
	const struct flame_path paths[] = {PATH(1, "p", "vfs_write_[k]")};
	struct svg s;
	const struct frame *f;

	render(&s, paths, 1, &count_style);
	f = frame_named(&s, "vfs_write_[k]");
	assert_true(f->has_label);
	assert_string_equal(f->label, "vfs_write");
	svg_free(&s);
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static void test_labels_are_truncated_to_fit_their_frame(void **state)
{
	static const char long_name[] = "a_function_name_that_is_much_too_long_for_its_frame";
	static const char wide_name[] = "\xc3\xa9t\xc3\xa9_\xe2\x82\xac_name"; /* été_€_name */
	const struct flame_path paths[] = {
		PATH(15, "p", long_name),
		PATH(80, "p", wide_name),
		PATH(4, "p", "z_narrow"),
		PATH(1, "p", "zz_too_narrow"),
	};
	struct svg s;
	const struct frame *f;
	double char_px = MONO_ADVANCE * FONT_SIZE;

	render(&s, paths, 4, &count_style);
	f = frame_named(&s, long_name);
	assert_true(f->has_label);
	assert_true(strlen(f->label) < strlen(long_name));
	assert_int_equal(strncmp(f->label, long_name, strlen(f->label) - 2), 0);
	assert_string_equal(f->label + strlen(f->label) - 2, "..");
	assert_true(utf8_chars(f->label) * char_px <= f->width);
	assert_true((utf8_chars(f->label) + 2) * char_px > f->width - 2 * char_px);
	f = frame_named(&s, wide_name);
	assert_string_equal(f->label, wide_name);
	/* 4% of 1180 px is 47 px: room for a few characters */
	f = frame_named(&s, "z_narrow");
	assert_true(f->has_label && !strcmp(f->label + strlen(f->label) - 2, ".."));
	assert_true(utf8_chars(f->label) * char_px <= f->width);
	/* 1% is under 12 px: no room for a useful label */
	assert_false(frame_named(&s, "zz_too_narrow")->has_label);
	svg_free(&s);
}

static void test_frames_under_a_thousandth_are_dropped_but_counted(void **state)
{
	const struct flame_path paths[] = {
		PATH(99999, "p", "big"),
		PATH(1, "p", "speck", "deeper"),
	};
	struct svg s;

	render(&s, paths, 2, &bytes_style);
	assert_int_equal(s.nframes, 3); /* all, p, big */
	assert_null(strstr(s.text, "speck"));
	assert_null(strstr(s.text, "deeper"));
	assert_string_equal(frame_named(&s, "p")->title, "p: 100.00 kB device bytes (100.0%)");
	assert_near(frame_named(&s, "big")->width,
		    frame_named(&s, "all")->width * 99999.0 / 100000.0);
	svg_free(&s);
}

static void test_paths_without_frames_count_only_in_the_total(void **state)
{
	const struct flame_path paths[] = {
		{.frames = NULL, .nframes = 0, .weight = 30},
		PATH(10, "p"),
	};
	struct svg s;

	render(&s, paths, 2, &count_style);
	assert_string_equal(frame_named(&s, "p")->title, "p: 10 syncs (25.0%)");
	assert_string_equal(frame_named(&s, "all")->title, "all: 40 syncs (100.0%)");
	svg_free(&s);
}

static void test_write_error_is_reported(void **state)
{
	const struct flame_path paths[] = {PATH(1, "p", "a")};
	FILE *out = fopen(DEV_FULL, "w");

	if (!out)
		skip();
	errno = 0;
	assert_int_equal(flamegraph_svg(out, paths, 1, &bytes_style), -1);
	assert_int_equal(errno, ENOSPC);
	fclose(out);
}

static void test_numbers_ignore_a_decimal_comma_locale(void **state)
{
	const struct flame_path paths[] = {PATH(1234, "p", "a"), PATH(1000, "p", "b")};
	char *comma_text, *c_text = NULL;
	size_t comma_len, c_len = 0;
	FILE *out;

	if (!use_comma_locale())
		skip();
	out = open_memstream(&comma_text, &comma_len);
	assert_non_null(out);
	assert_int_equal(flamegraph_svg(out, paths, 2, &bytes_style), 0);
	fclose(out);
	setlocale(LC_NUMERIC, "C");
	unsetenv("LOCPATH");
	out = open_memstream(&c_text, &c_len);
	assert_non_null(out);
	assert_int_equal(flamegraph_svg(out, paths, 2, &bytes_style), 0);
	fclose(out);
	assert_string_equal(comma_text, c_text);
	assert_non_null(strstr(c_text, "1.23 kB"));
	free(comma_text);
	free(c_text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_prefix_is_one_frame_of_the_summed_weight),
		cmocka_unit_test(test_levels_stack_upwards_from_the_root),
		cmocka_unit_test(test_widths_are_proportional_to_weights),
		cmocka_unit_test(test_siblings_are_alphabetical_whatever_the_input_order),
		cmocka_unit_test(test_equal_paths_merge_and_a_parent_keeps_its_own_weight),
		cmocka_unit_test(test_same_name_under_different_parents_is_two_frames),
		cmocka_unit_test(test_tooltips_give_weight_and_share),
		cmocka_unit_test(test_byte_units_are_decimal_and_round_up_to_the_next_unit),
		cmocka_unit_test(test_counts_are_plain_integers),
		cmocka_unit_test(test_hostile_names_stay_well_formed),
		cmocka_unit_test(test_no_paths_gives_a_valid_no_data_graph),
		cmocka_unit_test(test_kernel_user_and_root_colours_are_distinct_families),
		cmocka_unit_test(test_colours_depend_on_the_name_only),
		cmocka_unit_test(test_kernel_labels_drop_the_suffix_that_tooltips_keep),
		cmocka_unit_test(test_labels_are_truncated_to_fit_their_frame),
		cmocka_unit_test(test_frames_under_a_thousandth_are_dropped_but_counted),
		cmocka_unit_test(test_paths_without_frames_count_only_in_the_total),
		cmocka_unit_test(test_write_error_is_reported),
		cmocka_unit_test(test_numbers_ignore_a_decimal_comma_locale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
