// SPDX-License-Identifier: GPL-2.0
/* report_file.c: a writeamp --json report read back from a file, checked and queried. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model.h"
#include "report_file.h"
#include "sanitize.h"

#define SHOWN_NAME_LEN	  256
#define SHOWN_VERSION_LEN 48
#define SHOWN_WHERE_LEN	  96

/* The members without which nothing can be compared, and the JSON type each must have. */
static const struct {
	const char *key;
	json_type type;
} required_members[] = {
	{"processes", JSON_ARRAY},
	{"files", JSON_ARRAY},
	{"totals", JSON_OBJECT},
};

/*
 * What each entry must carry for compare to tell it apart and name it. Without these checks
 * a number in processes[] became a row named "" and a finding without an id a blank line.
 */
enum member_kind { STRING, NONEMPTY_STRING, STRING_OR_NULL, OBJECT, ARRAY };

struct member_rule {
	const char *key;
	const char *inner; /* NULL: @key itself; else the member @inner of the object @key */
	enum member_kind kind;
};

static const struct member_rule process_members[] = {{.key = "comm", .kind = STRING}};
static const struct member_rule file_members[] = {{.key = "path", .kind = STRING}};
static const struct member_rule container_members[] = {
	{.key = "id", .kind = STRING},
	{.key = "name", .kind = STRING_OR_NULL},
};
static const struct member_rule finding_members[] = {
	{.key = "id", .kind = NONEMPTY_STRING},
	{.key = "severity", .kind = STRING_OR_NULL},
	{.key = "title", .kind = STRING_OR_NULL},
	{.key = "target", .kind = OBJECT},
	{.key = "target", .inner = "comm", .kind = STRING},
	{.key = "target", .inner = "container", .kind = STRING_OR_NULL},
	{.key = "target", .inner = "file", .kind = STRING_OR_NULL},
};

#define RULES(a) a, sizeof(a) / sizeof(a[0])

/* containers[] and findings[] may be absent: reports of older writeamps lack them. */
static const struct {
	const char *array;
	bool optional;
	const struct member_rule *members;
	size_t nmembers;
} entry_rules[] = {
	{"processes", false, RULES(process_members)},
	{"files", false, RULES(file_members)},
	{"containers", true, RULES(container_members)},
	{"findings", true, RULES(finding_members)},
};

static const char *type_name(json_type type)
{
	return type == JSON_ARRAY ? "array" : "object";
}

static const char *kind_text(enum member_kind kind)
{
	static const char *const text[] = {
		[STRING] = "a string",
		[NONEMPTY_STRING] = "a non-empty string",
		[STRING_OR_NULL] = "a string or null",
		[OBJECT] = "an object",
		[ARRAY] = "an array",
	};

	return text[kind];
}

static const char *value_text(const json_t *v)
{
	if (!v)
		return "missing";
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return json_string_length(v) ? "a string" : "an empty string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_NULL:
		return "null";
	default:
		return "a boolean";
	}
}

static bool is_kind(const json_t *v, enum member_kind kind)
{
	switch (kind) {
	case STRING:
		return json_is_string(v);
	case NONEMPTY_STRING:
		return json_is_string(v) && json_string_length(v);
	case STRING_OR_NULL:
		return !v || json_is_string(v) || json_is_null(v);
	case OBJECT:
		return json_is_object(v);
	default:
		return json_is_array(v);
	}
}

/* "@shown: @where is a number; it must be a string", @where as a JSON path: files[3].path */
static bool check_kind(const json_t *v, enum member_kind kind, const char *shown, const char *where,
		       char *why, size_t len)
{
	if (is_kind(v, kind))
		return true;
	snprintf(why, len, "%s: %s is %s; it must be %s", shown, where, value_text(v),
		 kind_text(kind));
	return false;
}

static bool check_entry(const json_t *entry, const char *array, size_t index,
			const struct member_rule *rules, size_t nrules, const char *shown,
			char *why, size_t len)
{
	char where[SHOWN_WHERE_LEN];

	snprintf(where, sizeof(where), "%s[%zu]", array, index);
	if (!check_kind(entry, OBJECT, shown, where, why, len))
		return false;
	for (size_t i = 0; i < nrules; i++) {
		const struct member_rule *r = &rules[i];
		const json_t *v = json_object_get(entry, r->key);

		if (r->inner)
			v = json_object_get(v, r->inner);
		snprintf(where, sizeof(where), "%s[%zu].%s%s%s", array, index, r->key,
			 r->inner ? "." : "", r->inner ? r->inner : "");
		if (!check_kind(v, r->kind, shown, where, why, len))
			return false;
	}
	return true;
}

static bool check_entries(const json_t *root, const char *shown, char *why, size_t len)
{
	for (size_t i = 0; i < sizeof(entry_rules) / sizeof(entry_rules[0]); i++) {
		const json_t *array = json_object_get(root, entry_rules[i].array);
		const json_t *entry;
		size_t index;

		if (!array && entry_rules[i].optional)
			continue;
		if (!check_kind(array, ARRAY, shown, entry_rules[i].array, why, len))
			return false;
		json_array_foreach(array, index, entry)
		{
			if (!check_entry(entry, entry_rules[i].array, index, entry_rules[i].members,
					 entry_rules[i].nmembers, shown, why, len))
				return false;
		}
	}
	return true;
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
	if (!check_version(root, shown, why, len) || !check_members(root, shown, why, len) ||
	    !check_entries(root, shown, why, len))
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
