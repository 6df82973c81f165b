/* SPDX-License-Identifier: GPL-2.0 */
/* playbook_scripts.h: the bpftrace scripts of writeamp playbook, filtered to one target. */
#ifndef WRITEAMP_PLAYBOOK_SCRIPTS_H
#define WRITEAMP_PLAYBOOK_SCRIPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Longest bpftrace string literal the scripts are given: bpftrace 0.17 refuses over 64 bytes. */
#define PB_LITERAL_MAX 64

struct pb_target {
	const char *description; /* terminal-safe, one line: "pid 1234 (workload)" */
	const char *label;	 /* terminal-safe and short, for the scripts' first message */
	const char *predicate;	 /* a bpftrace filter: "pid == 1234", "comm == \"redis\"" */
	const char *scope_note;	 /* what the predicate matches and what it misses, one line */
};

struct pb_script {
	const char *name;     /* file name: "write-syscalls.bt" */
	const char *measures; /* one line, for the playbook's step */
	const char *compare;  /* the writeamp figures its counts correspond to */
	const char *template; /* the script; {FILTER}, {TARGET}, {LABEL}, {SCOPE} are filled in */
};

extern const struct pb_script pb_scripts[];
extern const size_t pb_nscripts;

/*
 * pb_bpftrace_literal() - @src as the inside of a bpftrace string literal: printable ASCII
 * other than '"' and '\\' as is, every other byte as \xHH, so that no byte of a hostile name
 * can end the literal or the line. Returns false when the result would not fit @cap.
 */
bool pb_bpftrace_literal(char *dst, size_t cap, const char *src);

/*
 * pb_cgroup_predicate() - the bpftrace filter that matches the tasks of the @n cgroup v2 ids
 * @ids: "cgroup == 12" for one, "(cgroup == 12 || cgroup == 34)" for more. Returns false,
 * with @dst empty, when @n is 0 or the filter would not fit @cap: a cut filter would not parse.
 */
bool pb_cgroup_predicate(char *dst, size_t cap, const unsigned long long *ids, size_t n);

/*
 * pb_write_wrapped() - @text as lines of at most @width bytes (a longer word gets a line of
 * its own): the first starts with @first, the others with @prefix, of the same length.
 */
void pb_write_wrapped(FILE *out, const char *first, const char *prefix, const char *text,
		      size_t width);

/* pb_write_script() - the complete script for @t, with a header saying what it measures. */
void pb_write_script(FILE *out, const struct pb_script *s, const struct pb_target *t);

#endif /* WRITEAMP_PLAYBOOK_SCRIPTS_H */
