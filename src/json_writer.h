/* json_writer.h: a streaming JSON writer that emits valid JSON and UTF-8 by construction. */
#ifndef WRITEAMP_JSON_WRITER_H
#define WRITEAMP_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Usage: jw_new(), then values: containers with jw_start_*()/jw_end_*(), inside objects a
 * jw_key() before every value (or the jw_kv_*() shorthands), then jw_free(). The writer puts in
 * the commas, the colons and, in pretty mode, newlines and an indentation of 2 spaces per level;
 * compact mode writes no whitespace at all. Each complete top-level value is followed by a
 * newline, and more top-level values may follow: one per line in compact mode (JSON Lines).
 *
 * Misuse (a value where a key is due, a key outside an object, an end that does not match,
 * nesting deeper than JW_MAX_DEPTH) writes nothing and puts the writer into a failed state in
 * which every later call is ignored too; jw_ok() tells. So what was written is always a prefix
 * of valid JSON, and a complete document whenever jw_ok() holds after the last end.
 *
 * Every function accepts a NULL writer and then does nothing.
 */
struct json_writer;

#define JW_MAX_DEPTH 64

/* jw_new() - a writer onto @out (not owned). Returns NULL when out of memory. */
struct json_writer *jw_new(FILE *out, bool pretty);

/* jw_free() - release @jw (NULL is fine); it neither closes nor flushes the stream. */
void jw_free(struct json_writer *jw);

/* jw_ok() - false for NULL, once a call was misused, or once the stream had a write error. */
bool jw_ok(const struct json_writer *jw);

/* jw_start_object(), jw_start_array() - open a container where a value is due. */
void jw_start_object(struct json_writer *jw);
void jw_start_array(struct json_writer *jw);

/* jw_end_object(), jw_end_array() - close the innermost container, which must be of that kind. */
void jw_end_object(struct json_writer *jw);
void jw_end_array(struct json_writer *jw);

/* jw_key() - the name of the next member of the innermost object; escaped like jw_string(). */
void jw_key(struct json_writer *jw, const char *name);

/*
 * jw_string() - a string value from NUL-terminated untrusted bytes; NULL writes null.
 *
 * Escaped: '"' and '\\'; \b \f \n \r \t; the other C0 controls, DEL, the C1 controls
 * U+0080..U+009F and U+2028/U+2029 as \u00XX / \u2028 / \u2029. Other valid UTF-8 is copied
 * as is, so that a parser returns the input byte for byte. Each maximal invalid subpart (see
 * utf8_next() in sanitize.h) becomes one \ufffd: bad lead bytes, truncated, overlong and
 * surrogate sequences, and anything above U+10FFFF.
 */
void jw_string(struct json_writer *jw, const char *s);

/* jw_string_len() - jw_string() for @n bytes that may contain NULs (written as \u0000). */
void jw_string_len(struct json_writer *jw, const char *s, size_t n);

/* jw_u64(), jw_i64() - integers, in full: a reader that keeps 64-bit integers loses nothing. */
void jw_u64(struct json_writer *jw, uint64_t v);
void jw_i64(struct json_writer *jw, int64_t v);

/*
 * jw_double() - a number that reads back as exactly @v: the shortest of %.15g, %.16g and %.17g
 * that round-trips, in the C locale whatever LC_NUMERIC says, with ".0" added when that would
 * look like an integer (1.0, not 1) so that typed readers keep it a float. NaN and the
 * infinities, which JSON cannot express, are written as null.
 */
void jw_double(struct json_writer *jw, double v);

/* jw_bool(), jw_null() - the literals true/false and null. */
void jw_bool(struct json_writer *jw, bool v);
void jw_null(struct json_writer *jw);

/* jw_kv_*() - jw_key(@key) followed by the value, for members of an object. */
void jw_kv_u64(struct json_writer *jw, const char *key, uint64_t v);
void jw_kv_i64(struct json_writer *jw, const char *key, int64_t v);
void jw_kv_double(struct json_writer *jw, const char *key, double v);
void jw_kv_string(struct json_writer *jw, const char *key, const char *s);
void jw_kv_bool(struct json_writer *jw, const char *key, bool v);
void jw_kv_null(struct json_writer *jw, const char *key);
/* key: s, or null when s is NULL or empty. */
void jw_kv_string_or_null(struct json_writer *jw, const char *key, const char *s);

#endif /* WRITEAMP_JSON_WRITER_H */
