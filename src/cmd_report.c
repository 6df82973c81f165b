// SPDX-License-Identifier: GPL-2.0
/* cmd_report.c: `writeamp report`: trace the host for a while and print what happened. */
#include <stdio.h>

#include "commands.h"
#include "session.h"

#define READY_LINE "Tracing write amplification... Hit Ctrl-C to end."

int cmd_report(const struct wa_options *opts)
{
	struct session s;
	double until;
	int err;

	if (session_handle_signals() || session_start(&s, opts, false))
		return 1;
	fprintf(stderr, "%s\n", READY_LINE);
	until = opts->duration_s > 0 ? s.started_s + opts->duration_s : 1e18;
	while (!session_stop_requested && monotonic_seconds() < until)
		session_wait(&s, until);
	err = session_final_report(&s);
	session_stop(&s);
	return err ? 1 : 0;
}
