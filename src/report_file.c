// SPDX-License-Identifier: GPL-2.0
/* report_file.c: a writeamp --json report read back from a file, checked and queried. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "report_file.h"
#include "sanitize.h"

#define SHOWN_NAME_LEN	  256
#define SHOWN_VERSION_LEN 48

/* The members without which nothing can be compared, and the JSON type each must have. */
static const struct {
	const char *key;
	json_type type;
} required_members[] = {
	{"processes", JSON_ARRAY},
	{"files", JSON_ARRAY},
	{"totals", JSON_OBJECT},
};

static const char *type_name(json_type type)
{
	return type == JSON_ARRAY ? "array" : "object";
}

static json_t *parse_file(const char *path, const char *shown, char *why, size_t len)
{
	json_error_t err;
	struct stat st;
	json_t *root;
	FILE *f = fopen(path, "re");

	if (!f) {
		snprintf(why, len, "%s: %s", shown, strerror(errno));
		return NULL;
	}
	if (!fstat(fileno(f), &st) && S_ISDIR(st.st_mode)) {
		snprintf(why, len, "%s: is a directory, not a report", shown);
		fclose(f);
		return NULL;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &err);
	fclose(f);
	if (!root) {
		char text[sizeof(err.text) * SANITIZE_MAX_EXPANSION];

		snprintf(why, len, "%s: not JSON (line %d, column %d: %s)", shown, err.line,
			 err.column, sanitize_column(text, sizeof(text), err.text));
	}
	return root;
}

/* The version as it is written in the file, for an error message. */
static const char *version_text(const json_t *version, char *buf, size_t cap)
{
	char *dumped = json_dumps(version, JSON_ENCODE_ANY | JSON_COMPACT);

	sanitize_column(buf, cap, dumped ? dumped : "?");
	free(dumped);
	return buf;
}

static bool check_version(const json_t *root, const char *shown, char *why, size_t len)
{
	const json_t *version = json_object_get(root, "version");
	char text[SHOWN_VERSION_LEN];

	if (!version) {
		snprintf(why, len,
			 "%s: not a writeamp --json report (it has no schema \"version\"; this "
			 "writeamp reads version %d)",
			 shown, WA_SCHEMA_VERSION);
		return false;
	}
	if (json_is_integer(version) && json_integer_value(version) == WA_SCHEMA_VERSION)
		return true;
	snprintf(why, len, "%s: schema version %s, this writeamp reads version %d", shown,
		 version_text(version, text, sizeof(text)), WA_SCHEMA_VERSION);
	return false;
}

static bool check_members(const json_t *root, const char *shown, char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(required_members) / sizeof(required_members[0]); i++) {
		const json_t *member = json_object_get(root, required_members[i].key);

		if (!member || json_typeof(member) != required_members[i].type) {
			snprintf(why, len, "%s: not a writeamp --json report (no \"%s\" %s)", shown,
				 required_members[i].key, type_name(required_members[i].type));
			return false;
		}
	}
	return true;
}

json_t *report_file_load(const char *path, char *why, size_t len)
{
	char shown[SHOWN_NAME_LEN];
	json_t *root;

	sanitize_column(shown, sizeof(shown), path);
	root = parse_file(path, shown, why, len);
	if (!root)
		return NULL;
	if (!json_is_object(root)) {
		snprintf(why, len, "%s: not a writeamp --json report (not a JSON object)", shown);
		goto fail;
	}
	if (!check_version(root, shown, why, len) || !check_members(root, shown, why, len))
		goto fail;
	return root;
fail:
	json_decref(root);
	return NULL;
}

uint64_t report_u64(const json_t *obj, const char *outer, const char *inner)
{
	const json_t *v = json_object_get(obj, outer);
	json_int_t n;

	if (inner)
		v = json_object_get(v, inner);
	if (!json_is_integer(v))
		return 0;
	n = json_integer_value(v);
	return n > 0 ? (uint64_t)n : 0;
}

const char *report_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}
