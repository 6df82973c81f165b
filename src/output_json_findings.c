// SPDX-License-Identifier: GPL-2.0
/* output_json_findings.c: the report's top-level "findings" array. */
#include <math.h>

#include "findings.h"
#include "json_writer.h"
#include "model.h"
#include "output.h"

static void json_target(struct json_writer *jw, const struct wa_finding *f)
{
	jw_key(jw, "target");
	jw_start_object(jw);
	jw_kv_u64(jw, "pid", f->pid);
	jw_kv_string(jw, "comm", f->comm);
	jw_kv_string_or_null(jw, "container", f->container);
	jw_kv_string_or_null(jw, "file", f->file);
	jw_kv_string_or_null(jw, "software", f->software);
	jw_kv_u64(jw, "processes", f->processes);
	jw_end_object(jw);
}

static void json_evidence(struct json_writer *jw, const struct wa_finding *f)
{
	jw_key(jw, "evidence");
	jw_start_array(jw);
	for (size_t i = 0; i < f->nevidence; i++) {
		const struct wa_evidence *e = &f->evidence[i];

		jw_start_object(jw);
		jw_kv_string(jw, "name", e->name);
		jw_kv_double(jw, "value", e->value);
		jw_kv_string(jw, "op", e->op);
		jw_kv_double(jw, "threshold", e->threshold);
		jw_kv_string(jw, "unit", e->unit);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}

static void json_software_advice(struct json_writer *jw, const struct wa_software_advice *a)
{
	if (!a) {
		jw_kv_null(jw, "software_advice");
		return;
	}
	jw_key(jw, "software_advice");
	jw_start_object(jw);
	jw_kv_string(jw, "software", a->software);
	jw_kv_string(jw, "setting", a->setting);
	jw_kv_string(jw, "change", a->change);
	jw_kv_string(jw, "tradeoff", a->tradeoff);
	jw_end_object(jw);
}

void output_json_findings(struct json_writer *jw, const struct wa_report *r)
{
	jw_key(jw, "findings");
	jw_start_array(jw);
	for (size_t i = 0; i < r->nfindings; i++) {
		const struct wa_finding *f = &r->findings[i];

		jw_start_object(jw);
		jw_kv_string(jw, "id", f->id);
		jw_kv_string(jw, "severity", f->severity);
		jw_kv_string(jw, "title", f->title);
		json_target(jw, f);
		json_evidence(jw, f);
		jw_kv_u64(jw, "stake_bytes", f->stake_bytes);
		jw_kv_u64(jw, "saving_bytes", f->saving_bytes);
		jw_kv_string(jw, "advice", f->advice);
		json_software_advice(jw, f->software_advice);
		jw_end_object(jw);
	}
	jw_end_array(jw);
}
