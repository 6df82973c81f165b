/* json_writer.c: the JSON writer: a nesting stack, separators, string escaping, numbers. */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "sanitize.h"

#define JW_INDENT	     2
#define JW_NUMBER_MAX	     48 /* "%.17g" of any double, plus ".0" */
#define JW_DOUBLE_DIGITS_MIN 15 /* DBL_DIG: so that 0.1 comes out as 0.1 */
#define JW_DOUBLE_DIGITS_MAX 17 /* enough for every double to read back exactly */
#define ASCII_SPACE	     0x20
#define ASCII_DEL	     0x7f
#define C1_FIRST	     0x80
#define C1_LAST		     0x9f
#define LINE_SEPARATOR	     0x2028
#define PARAGRAPH_SEPARATOR  0x2029

enum jw_container {
	JW_TOP, /* outside any container: a sequence of top-level values */
	JW_OBJECT,
	JW_ARRAY,
};

struct jw_level {
	enum jw_container kind;
	unsigned int members;
	bool key_written; /* in an object: the key is out, its value is due */
};

struct json_writer {
	FILE *out;
	bool pretty;
	bool failed;
	unsigned int depth; /* level[depth] is the innermost; level[0] is the top */
	struct jw_level level[JW_MAX_DEPTH + 1];
};

struct json_writer *jw_new(FILE *out, bool pretty)
{
	struct json_writer *jw = calloc(1, sizeof(*jw));

	if (!jw)
		return NULL;
	jw->out = out;
	jw->pretty = pretty;
	jw->level[0].kind = JW_TOP;
	return jw;
}

void jw_free(struct json_writer *jw)
{
	free(jw);
}

bool jw_ok(const struct json_writer *jw)
{
	return jw && !jw->failed && !ferror(jw->out);
}

static struct jw_level *innermost(struct json_writer *jw)
{
	return &jw->level[jw->depth];
}

static void put(struct json_writer *jw, const char *s, size_t n)
{
	fwrite(s, 1, n, jw->out);
}

static void put_str(struct json_writer *jw, const char *s)
{
	put(jw, s, strlen(s));
}

static void put_char(struct json_writer *jw, char c)
{
	fputc(c, jw->out);
}

static void newline_and_indent(struct json_writer *jw, unsigned int depth)
{
	put_char(jw, '\n');
	for (unsigned int i = 0; i < depth * JW_INDENT; i++)
		put_char(jw, ' ');
}

/* The comma and, when pretty, the line break that precede a member of the innermost level. */
static void separate_member(struct json_writer *jw)
{
	if (innermost(jw)->members > 0)
		put_char(jw, ',');
	if (jw->pretty)
		newline_and_indent(jw, jw->depth);
	innermost(jw)->members++;
}

static bool fail(struct json_writer *jw)
{
	jw->failed = true;
	return false;
}

/* Checks that a value may come now and writes what must precede it. */
static bool begin_value(struct json_writer *jw)
{
	struct jw_level *level;

	if (!jw || jw->failed)
		return false;
	level = innermost(jw);
	switch (level->kind) {
	case JW_OBJECT:
		if (!level->key_written)
			return fail(jw);
		level->key_written = false;
		return true;
	case JW_ARRAY:
		separate_member(jw);
		return true;
	case JW_TOP:
		return true;
	}
	return fail(jw);
}

/* A value at the top is complete once written: end its line. */
static void end_value(struct json_writer *jw)
{
	if (innermost(jw)->kind == JW_TOP)
		put_char(jw, '\n');
}

static bool needs_unicode_escape(uint32_t cp)
{
	return cp < ASCII_SPACE || cp == ASCII_DEL || (cp >= C1_FIRST && cp <= C1_LAST) ||
	       cp == LINE_SEPARATOR || cp == PARAGRAPH_SEPARATOR;
}

static const char *short_escape(uint32_t cp)
{
	switch (cp) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	}
	return NULL;
}

/* Writes the character @s[0..len) that decodes to @cp, escaped as JSON requires or as we want. */
static void put_char_escaped(struct json_writer *jw, const char *s, size_t len, uint32_t cp)
{
	/* Only \uHHHH is ever written, but the compiler cannot tell. */
	char escape[sizeof("\\uffffffff")];
	const char *short_form;

	if (cp == UTF8_INVALID) {
		put_str(jw, "\\ufffd");
		return;
	}
	short_form = short_escape(cp);
	if (short_form) {
		put_str(jw, short_form);
		return;
	}
	if (needs_unicode_escape(cp)) {
		snprintf(escape, sizeof(escape), "\\u%04x", (unsigned int)cp);
		put_str(jw, escape);
		return;
	}
	put(jw, s, len);
}

static void put_quoted(struct json_writer *jw, const char *s, size_t n)
{
	put_char(jw, '"');
	while (n > 0) {
		uint32_t cp;
		size_t len = utf8_next(s, n, &cp);

		put_char_escaped(jw, s, len, cp);
		s += len;
		n -= len;
	}
	put_char(jw, '"');
}

static void start_container(struct json_writer *jw, enum jw_container kind, char open)
{
	/* Checked first, so that not even the separator of the refused value is written. */
	if (jw && jw->depth == JW_MAX_DEPTH) {
		fail(jw);
		return;
	}
	if (!begin_value(jw))
		return;
	put_char(jw, open);
	jw->depth++;
	*innermost(jw) = (struct jw_level){.kind = kind};
}

static void end_container(struct json_writer *jw, enum jw_container kind, char close)
{
	struct jw_level *level;

	if (!jw || jw->failed)
		return;
	level = innermost(jw);
	if (level->kind != kind || level->key_written) {
		fail(jw);
		return;
	}
	/* An empty container stays on one line: {} and []. */
	if (jw->pretty && level->members > 0)
		newline_and_indent(jw, jw->depth - 1);
	put_char(jw, close);
	jw->depth--;
	end_value(jw);
}

void jw_start_object(struct json_writer *jw)
{
	start_container(jw, JW_OBJECT, '{');
}

void jw_start_array(struct json_writer *jw)
{
	start_container(jw, JW_ARRAY, '[');
}

void jw_end_object(struct json_writer *jw)
{
	end_container(jw, JW_OBJECT, '}');
}

void jw_end_array(struct json_writer *jw)
{
	end_container(jw, JW_ARRAY, ']');
}

void jw_key(struct json_writer *jw, const char *name)
{
	struct jw_level *level;

	if (!jw || jw->failed)
		return;
	level = innermost(jw);
	if (level->kind != JW_OBJECT || level->key_written || !name) {
		fail(jw);
		return;
	}
	separate_member(jw);
	put_quoted(jw, name, strlen(name));
	put_str(jw, jw->pretty ? ": " : ":");
	level->key_written = true;
}

/* Writes a value that needs no escaping: a number or a literal. */
static void put_scalar(struct json_writer *jw, const char *text)
{
	if (!begin_value(jw))
		return;
	put_str(jw, text);
	end_value(jw);
}

void jw_string_len(struct json_writer *jw, const char *s, size_t n)
{
	if (!s && n > 0) {
		if (jw)
			fail(jw);
		return;
	}
	if (!begin_value(jw))
		return;
	put_quoted(jw, s, n);
	end_value(jw);
}

void jw_string(struct json_writer *jw, const char *s)
{
	if (!s) {
		jw_null(jw);
		return;
	}
	jw_string_len(jw, s, strlen(s));
}

void jw_u64(struct json_writer *jw, uint64_t v)
{
	char text[JW_NUMBER_MAX];

	snprintf(text, sizeof(text), "%" PRIu64, v);
	put_scalar(jw, text);
}

void jw_i64(struct json_writer *jw, int64_t v)
{
	char text[JW_NUMBER_MAX];

	snprintf(text, sizeof(text), "%" PRId64, v);
	put_scalar(jw, text);
}

/* Replaces the locale's decimal point, which may be "," or even multibyte, with '.'. */
static void use_decimal_dot(char *text)
{
	const char *point = localeconv()->decimal_point;
	size_t point_len = strlen(point);
	char *at;

	if (point_len == 0 || strcmp(point, ".") == 0)
		return;
	at = strstr(text, point);
	if (!at)
		return;
	*at = '.';
	memmove(at + 1, at + point_len, strlen(at + point_len) + 1);
}

static bool looks_like_integer(const char *text)
{
	return strpbrk(text, ".eE") == NULL;
}

static void format_double(char *text, size_t cap, double v)
{
	for (int digits = JW_DOUBLE_DIGITS_MIN; digits <= JW_DOUBLE_DIGITS_MAX; digits++) {
		snprintf(text, cap, "%.*g", digits, v);
		if (strtod(text, NULL) == v)
			break;
	}
	use_decimal_dot(text);
	if (looks_like_integer(text))
		strncat(text, ".0", cap - strlen(text) - 1);
}

void jw_double(struct json_writer *jw, double v)
{
	char text[JW_NUMBER_MAX];

	if (!isfinite(v)) {
		jw_null(jw);
		return;
	}
	format_double(text, sizeof(text), v);
	put_scalar(jw, text);
}

void jw_bool(struct json_writer *jw, bool v)
{
	put_scalar(jw, v ? "true" : "false");
}

void jw_null(struct json_writer *jw)
{
	put_scalar(jw, "null");
}

void jw_kv_u64(struct json_writer *jw, const char *key, uint64_t v)
{
	jw_key(jw, key);
	jw_u64(jw, v);
}

void jw_kv_i64(struct json_writer *jw, const char *key, int64_t v)
{
	jw_key(jw, key);
	jw_i64(jw, v);
}

void jw_kv_double(struct json_writer *jw, const char *key, double v)
{
	jw_key(jw, key);
	jw_double(jw, v);
}

void jw_kv_string(struct json_writer *jw, const char *key, const char *s)
{
	jw_key(jw, key);
	jw_string(jw, s);
}

void jw_kv_bool(struct json_writer *jw, const char *key, bool v)
{
	jw_key(jw, key);
	jw_bool(jw, v);
}

void jw_kv_null(struct json_writer *jw, const char *key)
{
	jw_key(jw, key);
	jw_null(jw);
}

void jw_kv_string_or_null(struct json_writer *jw, const char *key, const char *s)
{
	if (s && *s)
		jw_kv_string(jw, key, s);
	else
		jw_kv_null(jw, key);
}
