// SPDX-License-Identifier: GPL-2.0
/* playbook_scripts.c: the bpftrace scripts of writeamp playbook, filtered to one target. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "playbook_scripts.h"

#define ASCII_FIRST_PRINTABLE 0x20
#define ASCII_LAST_PRINTABLE  0x7e
#define HEX_ESCAPE_LEN	      4 /* \xHH */
#define COMMENT_WIDTH	      92
#define TEXT_MAX	      4096

/*
 * Every script starts its counters at 0 in BEGIN with sum(0), so that each one is printed at
 * the end even when it stayed 0; sum() is per CPU, so no count is lost to a race. Each
 * tracepoint appears in one probe only: bpftrace 0.17 fails to load a program that lists a
 * tracepoint both alone and in a probe list.
 */
static const char header[] = "#!/usr/bin/env bpftrace\n"
			     "// {NAME}: {MEASURES}.\n"
			     "{SCOPE}"
			     "//\n";

static const char footer_comment[] =
	"//\n"
	"// Tracepoints only (no kprobes). bpftrace 0.17 needs debugfs for them:\n"
	"//   mount -t debugfs none /sys/kernel/debug\n"
	"// Run: bpftrace {NAME}, and stop it with Ctrl-C (or: timeout -s INT 30 bpftrace "
	"{NAME}).\n"
	"// It prints its counters at the end, one per line: \"@name: value\".\n";

static const char write_syscalls[] =
	"// bpftrace cannot easily tell a file descriptor on storage from a pipe, socket or tty,\n"
	"// so this counts every write, pwrite64, writev, pwritev and pwritev2 call and the bytes\n"
	"// each returned. writeamp counts storage writes apart: compare @write_calls with its\n"
	"// write.calls + nonstorage.calls, and @write_bytes with write.bytes + nonstorage.bytes.\n"
	"{FOOTER}\n"
	"BEGIN\n"
	"{\n"
	"	@write_calls = sum(0);\n"
	"	@write_bytes = sum(0);\n"
	"	@write_errors = sum(0);\n"
	"	printf(\"Tracing write syscalls of %s... Hit Ctrl-C to end.\\n\", \"{LABEL}\");\n"
	"}\n"
	"\n"
	"tracepoint:syscalls:sys_enter_write,\n"
	"tracepoint:syscalls:sys_enter_pwrite64,\n"
	"tracepoint:syscalls:sys_enter_writev,\n"
	"tracepoint:syscalls:sys_enter_pwritev,\n"
	"tracepoint:syscalls:sys_enter_pwritev2\n"
	"/{FILTER}/\n"
	"{\n"
	"	@write_calls = sum(1);\n"
	"}\n"
	"\n"
	"tracepoint:syscalls:sys_exit_write,\n"
	"tracepoint:syscalls:sys_exit_pwrite64,\n"
	"tracepoint:syscalls:sys_exit_writev,\n"
	"tracepoint:syscalls:sys_exit_pwritev,\n"
	"tracepoint:syscalls:sys_exit_pwritev2\n"
	"/{FILTER}/\n"
	"{\n"
	"	if (args->ret >= 0) {\n"
	"		@write_bytes = sum(args->ret);\n"
	"	} else {\n"
	"		@write_errors = sum(1);\n"
	"	}\n"
	"}\n";

static const char syncs[] =
	"// Each counter is named like writeamp's sync.* figure it matches; @sync_calls is all of\n"
	"// them (writeamp: sync.calls). @sync_latency_us is the time spent in fsync and "
	"fdatasync.\n"
	"{FOOTER}\n"
	"BEGIN\n"
	"{\n"
	"	@fsync = sum(0);\n"
	"	@fdatasync = sum(0);\n"
	"	@sync_file_range = sum(0);\n"
	"	@msync = sum(0);\n"
	"	@sync = sum(0);\n"
	"	@syncfs = sum(0);\n"
	"	@sync_calls = sum(0);\n"
	"	printf(\"Tracing sync syscalls of %s... Hit Ctrl-C to end.\\n\", \"{LABEL}\");\n"
	"}\n"
	"\n"
	"tracepoint:syscalls:sys_enter_fsync /{FILTER}/ { @fsync = sum(1); @sync_calls = sum(1); "
	"@sync_start[tid] = nsecs; }\n"
	"tracepoint:syscalls:sys_enter_fdatasync /{FILTER}/ { @fdatasync = sum(1); "
	"@sync_calls = sum(1); @sync_start[tid] = nsecs; }\n"
	"tracepoint:syscalls:sys_enter_sync_file_range /{FILTER}/ { @sync_file_range = sum(1); "
	"@sync_calls = sum(1); }\n"
	"tracepoint:syscalls:sys_enter_msync /{FILTER}/ { @msync = sum(1); @sync_calls = sum(1); "
	"}\n"
	"tracepoint:syscalls:sys_enter_sync /{FILTER}/ { @sync = sum(1); @sync_calls = sum(1); }\n"
	"tracepoint:syscalls:sys_enter_syncfs /{FILTER}/ { @syncfs = sum(1); @sync_calls = sum(1); "
	"}\n"
	"\n"
	"tracepoint:syscalls:sys_exit_fsync,\n"
	"tracepoint:syscalls:sys_exit_fdatasync\n"
	"/@sync_start[tid]/\n"
	"{\n"
	"	@sync_latency_us = hist((nsecs - @sync_start[tid]) / 1000);\n"
	"	delete(@sync_start[tid]);\n"
	"}\n"
	"\n"
	"END\n"
	"{\n"
	"	clear(@sync_start);\n"
	"}\n";

static const char page_dirtying[] =
	"// writeback:writeback_dirty_folio fires once for each page-cache folio that turns "
	"dirty,\n"
	"// in the context of the task that dirtied it: a write into the page cache, or a store\n"
	"// into a shared mapping. It includes metadata blocks dirtied through the block device's\n"
	"// page cache (inode tables, bitmaps). writeamp counts the same event as dirtied_pages,\n"
	"// also once per folio, for regular files and block devices (the folios that can reach\n"
	"// a disk); their size is its dirtied_bytes + metadata_dirtied_bytes.\n"
	"{FOOTER}\n"
	"BEGIN\n"
	"{\n"
	"	@dirtied_folios = sum(0);\n"
	"	printf(\"Tracing page-cache dirtying by %s... Hit Ctrl-C to end.\\n\", "
	"\"{LABEL}\");\n"
	"}\n"
	"\n"
	"tracepoint:writeback:writeback_dirty_folio\n"
	"/{FILTER}/\n"
	"{\n"
	"	@dirtied_folios = sum(1);\n"
	"	@dirtied_folios_by_comm[comm] = count();\n"
	"}\n";

static const char block_io[] =
	"// block:block_bio_queue fires when a bio is submitted, always in the submitter: the\n"
	"// bytes and flushes the target queued itself. When its own syncs (or O_DIRECT, O_SYNC)\n"
	"// put all its I/O on the device, with no writeback left to kworkers and no journal,\n"
	"// @queued_write_bytes = device.write_bytes and @queued_flushes = device.flush_requests;\n"
	"// otherwise they are the part of those done in its own context.\n"
	"// block:block_rq_issue fires when a request is handed to the driver, in whatever task\n"
	"// runs then; args->bytes is the request's size. On a device with no I/O scheduler\n"
	"// (\"none\": loop devices, NVMe) the target's requests are issued in its own\n"
	"// context, so @issued_write_bytes = @queued_write_bytes, and @issued_write_requests =\n"
	"// the device's requests.writes when the target alone writes to it; with mq-deadline\n"
	"// or a busy queue, kblockd may issue part of them. blk-mq always issues flush\n"
	"// requests from kblockd, so flushes are counted where they are queued only.\n"
	"// Writeback by kworker threads, journal commits by jbd2 and the I/O that a loop\n"
	"// device passes on to the disk below it are not seen: writeamp charges them back to\n"
	"// the target (device.write_bytes; device.forced_bytes is the part its syncs forced).\n"
	"{FOOTER}\n"
	"BEGIN\n"
	"{\n"
	"	@issued_write_bytes = sum(0);\n"
	"	@issued_write_requests = sum(0);\n"
	"	@queued_write_bytes = sum(0);\n"
	"	@queued_flushes = sum(0);\n"
	"	printf(\"Tracing block I/O issued by %s... Hit Ctrl-C to end.\\n\", \"{LABEL}\");\n"
	"}\n"
	"\n"
	"// rwbs starts with F for a preflush, then W for a write or F for a flush (R read, D\n"
	"// discard, N none).\n"
	"tracepoint:block:block_rq_issue\n"
	"/{FILTER}/\n"
	"{\n"
	"	if (strncmp(args->rwbs, \"W\", 1) == 0 || strncmp(args->rwbs, \"FW\", 2) == 0) {\n"
	"		@issued_write_bytes = sum(args->bytes);\n"
	"		@issued_write_requests = sum(1);\n"
	"	}\n"
	"}\n"
	"\n"
	"tracepoint:block:block_bio_queue\n"
	"/{FILTER}/\n"
	"{\n"
	"	if (strncmp(args->rwbs, \"W\", 1) == 0 || strncmp(args->rwbs, \"FW\", 2) == 0) {\n"
	"		@queued_write_bytes = sum(args->nr_sector * 512);\n"
	"	}\n"
	"	if (strncmp(args->rwbs, \"F\", 1) == 0) {\n"
	"		@queued_flushes = sum(1);\n"
	"	}\n"
	"}\n";

const struct pb_script pb_scripts[] = {
	{
		.name = "write-syscalls.bt",
		.measures = "write-family syscalls: calls, bytes written and errors",
		.compare = "@write_calls = write.calls + nonstorage.calls (bpftrace counts "
			   "pipes, sockets and ttys too)",
		.template = write_syscalls,
	},
	{
		.name = "syncs.bt",
		.measures = "fsync, fdatasync and the other sync calls, and fsync latency",
		.compare = "@fsync, @fdatasync, ... = sync.fsync, sync.fdatasync, ...; "
			   "@sync_calls = sync.calls",
		.template = syncs,
	},
	{
		.name = "page-dirtying.bt",
		.measures = "page-cache folios dirtied (writeback_dirty_folio), per comm",
		.compare = "@dirtied_folios = dirtied_pages (both count each folio once; writeamp "
			   "leaves "
			   "out folios of inodes other than regular files and block devices)",
		.template = page_dirtying,
	},
	{
		.name = "block-io.bt",
		.measures = "write bios and flushes queued (block_bio_queue) and block write "
			    "requests issued (block_rq_issue) in the target's own context",
		.compare =
			"@queued_write_bytes = device.write_bytes and @queued_flushes = "
			"device.flush_requests when the target's syncs force all its I/O (no "
			"writeback left to kworkers, no journal), else they are the part done in "
			"its own context; on a device with no I/O scheduler (none) "
			"@issued_write_bytes = @queued_write_bytes, and @issued_write_requests = "
			"the device's requests.writes when the target alone writes to it, while "
			"with mq-deadline or a busy queue kblockd may issue part of them",
		.template = block_io,
	},
};

const size_t pb_nscripts = sizeof(pb_scripts) / sizeof(pb_scripts[0]);

bool pb_bpftrace_literal(char *dst, size_t cap, const char *src)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
		bool plain = *p >= ASCII_FIRST_PRINTABLE && *p <= ASCII_LAST_PRINTABLE &&
			     *p != '"' && *p != '\\';

		if (n + (plain ? 1 : HEX_ESCAPE_LEN) >= cap)
			return false;
		if (plain)
			dst[n++] = (char)*p;
		else
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", *p);
	}
	if (!cap)
		return false;
	dst[n] = '\0';
	return true;
}

/* Appends to the *@len bytes of @dst; false, and @dst unchanged, when the text does not fit. */
static bool __attribute__((format(printf, 4, 5)))
append(char *dst, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= cap)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(dst + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *len) {
		dst[*len] = '\0';
		return false;
	}
	*len += (size_t)n;
	return true;
}

bool pb_cgroup_predicate(char *dst, size_t cap, const unsigned long long *ids, size_t n)
{
	bool grouped = n > 1, ok = n > 0 && cap > 0;
	size_t len = 0;

	if (ok)
		dst[0] = '\0';
	ok = ok && (!grouped || append(dst, cap, &len, "("));
	for (size_t i = 0; ok && i < n; i++)
		ok = append(dst, cap, &len, "%scgroup == %llu", i ? " || " : "", ids[i]);
	ok = ok && (!grouped || append(dst, cap, &len, ")"));
	if (!ok && cap)
		dst[0] = '\0';
	return ok;
}

/* The BEGIN message names the target when its label fits a bpftrace literal. */
static void label_for(char *buf, size_t cap, const struct pb_target *t)
{
	if (strlen(t->label) >= PB_LITERAL_MAX || !pb_bpftrace_literal(buf, cap, t->label))
		snprintf(buf, cap, "the target");
}

void pb_write_wrapped(FILE *out, const char *first, const char *prefix, const char *text,
		      size_t width)
{
	size_t room = width > strlen(prefix) ? width - strlen(prefix) : 1;
	const char *p = text;

	while (*p) {
		const char *line = p, *end = p, *next;

		/* Takes words while the line has room; always at least one. */
		for (next = p; *next;) {
			const char *w = next + strspn(next, " ");
			const char *wend = w + strcspn(w, " ");

			if (!*w || (end != line && (size_t)(wend - line) > room))
				break;
			end = wend;
			next = wend;
		}
		fprintf(out, "%s%.*s\n", line == text ? first : prefix, (int)(end - line), line);
		p = end + strspn(end, " ");
	}
}

struct fill {
	const struct pb_script *script;
	const struct pb_target *target;
	const char *label;
};

static void write_filled(FILE *out, const char *text, const struct fill *f);

/* Writes the value of the placeholder that starts at @p; returns its length, 0 if none. */
static size_t write_placeholder(FILE *out, const char *p, const struct fill *f)
{
	const struct {
		const char *token;
		const char *value;
	} values[] = {
		{"{NAME}", f->script->name},
		{"{MEASURES}", f->script->measures},
		{"{TARGET}", f->target->description},
		{"{FILTER}", f->target->predicate},
		{"{LABEL}", f->label},
	};

	if (!strncmp(p, "{SCOPE}", 7)) {
		char scope[TEXT_MAX];

		snprintf(scope, sizeof(scope), "Target: %s. %s", f->target->description,
			 f->target->scope_note);
		pb_write_wrapped(out, "// ", "// ", scope, COMMENT_WIDTH);
		return 7;
	}
	if (!strncmp(p, "{FOOTER}", 8)) {
		write_filled(out, footer_comment, f);
		return 8;
	}
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		size_t len = strlen(values[i].token);

		if (!strncmp(p, values[i].token, len)) {
			fputs(values[i].value, out);
			return len;
		}
	}
	return 0;
}

static void write_filled(FILE *out, const char *text, const struct fill *f)
{
	for (const char *p = text; *p;) {
		size_t skip = *p == '{' ? write_placeholder(out, p, f) : 0;

		if (skip) {
			p += skip;
			continue;
		}
		fputc(*p++, out);
	}
}

void pb_write_script(FILE *out, const struct pb_script *s, const struct pb_target *t)
{
	char label[PB_LITERAL_MAX * HEX_ESCAPE_LEN + 1];
	struct fill f = {s, t, label};

	label_for(label, sizeof(label), t);
	write_filled(out, header, &f);
	write_filled(out, s->template, &f);
}
