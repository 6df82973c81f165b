/* SPDX-License-Identifier: GPL-2.0 */
/* report_file.h: a writeamp --json report read back from a file, checked and queried. */
#ifndef WRITEAMP_REPORT_FILE_H
#define WRITEAMP_REPORT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/*
 * report_file_load() - parse @path as a writeamp --json report of the schema version this
 * writeamp writes (WA_SCHEMA_VERSION) and return its root object, to be json_decref()'d.
 *
 * Returns NULL with a one-line @why naming the file when it cannot be read, is not JSON, is
 * not a writeamp report, or carries another schema version. Also when an entry of
 * processes[], files[], containers[] or findings[] is malformed: not an object, or without
 * the member that names it (comm, path, id; a finding's target with its comm); @why then
 * names the entry and the member, as in "files[3].path is a number; it must be a string".
 * The file name in @why is sanitized for the terminal.
 */
json_t *report_file_load(const char *path, char *why, size_t len);

/*
 * report_u64() - the unsigned integer at @outer.@inner of @obj (@inner may be NULL for a
 * direct member). A member that is missing, null, negative or not an integer reads as 0:
 * a report leaves out what it did not measure.
 */
uint64_t report_u64(const json_t *obj, const char *outer, const char *inner);

/* report_str() - the string member @key of @obj, or NULL when it is missing or not a string. */
const char *report_str(const json_t *obj, const char *key);

#endif /* WRITEAMP_REPORT_FILE_H */
