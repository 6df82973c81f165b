/* sanitize.c: a strict UTF-8 decoder and the terminal escaping of untrusted strings. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "sanitize.h"

#define ASCII_MAX      0x7f
#define ASCII_DEL      0x7f
#define ASCII_SPACE    0x20 /* the first character that is not a C0 control */
#define C1_FIRST       0x80
#define C1_LAST	       0x9f
#define UTF8_CONT_MIN  0x80 /* continuation bytes are 10xxxxxx */
#define UTF8_CONT_MAX  0xbf
#define UTF8_CONT_BITS 6
#define UTF8_CONT_MASK 0x3f
#define ESCAPE_MAX_LEN 6	      /* "\uHHHH" */
#define UNIT_MAX_LEN   ESCAPE_MAX_LEN /* longer than any UTF-8 character */
#define ELLIPSIS_LEN   (sizeof(SANITIZE_ELLIPSIS) - 1)

/*
 * The well-formed byte sequences, Unicode ch. 3, table 3-7. Only the second byte has a range
 * narrower than a continuation byte's: that is what rules out overlong forms, surrogates and
 * code points above U+10FFFF.
 */
struct utf8_form {
	unsigned char lead_min, lead_max;
	unsigned char len;
	unsigned char lead_mask; /* the payload bits of the lead byte */
	unsigned char second_min, second_max;
};

static const struct utf8_form utf8_forms[] = {
	{0x00, 0x7f, 1, 0x7f, 0, 0},	   {0xc2, 0xdf, 2, 0x1f, 0x80, 0xbf},
	{0xe0, 0xe0, 3, 0x0f, 0xa0, 0xbf}, {0xe1, 0xec, 3, 0x0f, 0x80, 0xbf},
	{0xed, 0xed, 3, 0x0f, 0x80, 0x9f}, {0xee, 0xef, 3, 0x0f, 0x80, 0xbf},
	{0xf0, 0xf0, 4, 0x07, 0x90, 0xbf}, {0xf1, 0xf3, 4, 0x07, 0x80, 0xbf},
	{0xf4, 0xf4, 4, 0x07, 0x80, 0x8f},
};

/*
 * Code points that are valid and not C0/C1 controls yet still steer the display: line breaks
 * that some terminals honour, and bidi controls that reorder what is shown ("Trojan Source").
 */
static const struct {
	uint32_t first, last;
} display_controls[] = {
	{0x061c, 0x061c}, /* ARABIC LETTER MARK */
	{0x200e, 0x200f}, /* LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK */
	{0x2028, 0x2029}, /* LINE SEPARATOR, PARAGRAPH SEPARATOR */
	{0x202a, 0x202e}, /* embeddings and overrides */
	{0x2066, 0x2069}, /* isolates */
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct utf8_form *utf8_form_of(unsigned char lead)
{
	for (size_t i = 0; i < ARRAY_LEN(utf8_forms); i++) {
		if (lead >= utf8_forms[i].lead_min && lead <= utf8_forms[i].lead_max)
			return &utf8_forms[i];
	}
	return NULL;
}

static bool continuation_fits(const struct utf8_form *form, size_t pos, unsigned char byte)
{
	if (pos == 1)
		return byte >= form->second_min && byte <= form->second_max;
	return byte >= UTF8_CONT_MIN && byte <= UTF8_CONT_MAX;
}

size_t utf8_next(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	const struct utf8_form *form = utf8_form_of(u[0]);
	uint32_t value;

	*cp = UTF8_INVALID;
	if (!form)
		return 1;
	value = u[0] & form->lead_mask;
	for (size_t pos = 1; pos < form->len; pos++) {
		if (pos >= n || !continuation_fits(form, pos, u[pos]))
			return pos;
		value = value << UTF8_CONT_BITS | (u[pos] & UTF8_CONT_MASK);
	}
	*cp = value;
	return form->len;
}

static bool is_display_control(uint32_t cp)
{
	for (size_t i = 0; i < ARRAY_LEN(display_controls); i++) {
		if (cp >= display_controls[i].first && cp <= display_controls[i].last)
			return true;
	}
	return false;
}

/* What one input character becomes: a copy of it or an escape, never split. */
struct unit {
	char text[UNIT_MAX_LEN + 1];
	size_t len;
	size_t consumed;
};

static void unit_byte_escape(struct unit *u, unsigned char byte)
{
	u->len = (size_t)snprintf(u->text, sizeof(u->text), "\\x%02x", byte);
}

static void unit_code_point_escape(struct unit *u, uint32_t cp)
{
	u->len = (size_t)snprintf(u->text, sizeof(u->text), "\\u%04x", (unsigned int)cp);
}

static void unit_literal(struct unit *u, const char *text)
{
	u->len = strlen(text);
	memcpy(u->text, text, u->len);
}

static void unit_ascii(struct unit *u, unsigned char c)
{
	switch (c) {
	case '\n':
		unit_literal(u, "\\n");
		return;
	case '\t':
		unit_literal(u, "\\t");
		return;
	case '\r':
		unit_literal(u, "\\r");
		return;
	case '\\':
		unit_literal(u, "\\\\");
		return;
	}
	if (c < ASCII_SPACE || c == ASCII_DEL) {
		unit_byte_escape(u, c);
		return;
	}
	u->text[0] = (char)c;
	u->len = 1;
}

static void next_unit(const char *s, size_t n, struct unit *u)
{
	uint32_t cp;

	u->consumed = utf8_next(s, n, &cp);
	if (cp == UTF8_INVALID) {
		/* Escape the bytes one by one: the rest of the subpart follows as invalid too. */
		u->consumed = 1;
		unit_byte_escape(u, (unsigned char)s[0]);
	} else if (cp <= ASCII_MAX) {
		unit_ascii(u, (unsigned char)cp);
	} else if ((cp >= C1_FIRST && cp <= C1_LAST) || is_display_control(cp)) {
		unit_code_point_escape(u, cp);
	} else {
		memcpy(u->text, s, u->consumed);
		u->len = u->consumed;
	}
}

/* Ends @dst after @keep bytes with as much of the ellipsis as fits in @cap. */
static size_t finish_truncated(char *dst, size_t cap, size_t keep)
{
	size_t tail = cap - 1 - keep;

	if (tail > ELLIPSIS_LEN)
		tail = ELLIPSIS_LEN;
	memcpy(dst + keep, SANITIZE_ELLIPSIS, tail);
	dst[keep + tail] = '\0';
	return keep + tail;
}

size_t sanitize_for_terminal(char *dst, size_t cap, const char *src, size_t srclen)
{
	size_t room, len = 0;
	size_t keep = 0; /* the longest output so far that still leaves room for the ellipsis */

	if (cap == 0)
		return 0;
	room = cap - 1;
	while (srclen > 0) {
		struct unit u;

		next_unit(src, srclen, &u);
		if (len + u.len > room)
			return finish_truncated(dst, cap, keep);
		memcpy(dst + len, u.text, u.len);
		len += u.len;
		if (len + ELLIPSIS_LEN <= room)
			keep = len;
		src += u.consumed;
		srclen -= u.consumed;
	}
	dst[len] = '\0';
	return len;
}

const char *sanitize_column(char *buf, size_t cap, const char *src)
{
	if (cap == 0)
		return "";
	if (!src)
		src = "";
	sanitize_for_terminal(buf, cap, src, strlen(src));
	return buf;
}
