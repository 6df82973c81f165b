/* sanitize.h: untrusted bytes (comms, paths, container names) made safe for a terminal. */
#ifndef WRITEAMP_SANITIZE_H
#define WRITEAMP_SANITIZE_H

#include <stddef.h>
#include <stdint.h>

/* utf8_next()'s code point for bytes that are not valid UTF-8 */
#define UTF8_INVALID 0xffffffffU

/* No input byte grows into more than this many output bytes ("\xHH"). */
#define SANITIZE_MAX_EXPANSION 4

/* Appended when the output had to be cut short; ASCII so that byte and column widths agree. */
#define SANITIZE_ELLIPSIS "..."

/*
 * utf8_next() - decode the character that starts at @s, where @n >= 1 bytes are left.
 *
 * Valid means the shortest encoding of a Unicode scalar value: no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF. Then *@cp is the code point and the
 * return value its length (1..4).
 *
 * Otherwise *@cp is UTF8_INVALID and the return value is the length of the "maximal subpart"
 * (Unicode ch. 3, "U+FFFD Substitution of Maximal Subparts"): the lead byte plus the
 * continuation bytes that could still have begun a valid sequence, at least 1. Replacing each
 * such subpart with one U+FFFD gives the same result as WHATWG decoders and Python's
 * errors="replace": C0 80 is two subparts, E2 82 followed by 'A' is one, then 'A'.
 */
size_t utf8_next(const char *s, size_t n, uint32_t *cp);

/*
 * sanitize_for_terminal() - copy @srclen bytes of @src into @dst so that printing them cannot
 * move the cursor, change colours or otherwise talk to the terminal.
 *
 * Valid, printable UTF-8 is copied unchanged. Everything else becomes a visible ASCII escape:
 *   newline, tab, carriage return  ->  \n  \t  \r
 *   a backslash                    ->  \\   (so that escapes cannot be forged by a name)
 *   other C0 controls and DEL      ->  \xHH (e.g. ESC is \x1b)
 *   each byte that is not part of valid UTF-8 (e.g. a raw 0x9b, the C1 CSI)  ->  \xHH
 *   C1 controls U+0080..U+009F, the line and paragraph separators U+2028/U+2029 and the bidi
 *   controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069)  ->  \uHHHH
 *
 * @dst receives at most @cap bytes including the terminating NUL; it is always terminated when
 * @cap > 0 (nothing is written when @cap is 0). When the result does not fit, it is cut at a
 * character or escape boundary, never inside one, and ends with SANITIZE_ELLIPSIS; when not
 * even that fits, with as much of it as fits. A @cap of SANITIZE_MAX_EXPANSION * @srclen + 1
 * never truncates. @src may be NULL when @srclen is 0.
 *
 * Returns the length written, excluding the NUL.
 */
size_t sanitize_for_terminal(char *dst, size_t cap, const char *src, size_t srclen);

/*
 * sanitize_column() - sanitize_for_terminal() for a NUL-terminated @src (NULL reads as ""),
 * into a caller's buffer of @cap bytes sized for a table column.
 *
 * Returns @buf, so that the call can be an argument of printf(); when @cap is 0 it returns a
 * static "" instead, since @buf cannot hold even the NUL. The width is in bytes: a column of
 * non-ASCII names is wider in bytes than on screen.
 */
const char *sanitize_column(char *buf, size_t cap, const char *src);

#endif /* WRITEAMP_SANITIZE_H */
