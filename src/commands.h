/* SPDX-License-Identifier: GPL-2.0 */
/* commands.h: the subcommands; each returns the process exit status. */
#ifndef WRITEAMP_COMMANDS_H
#define WRITEAMP_COMMANDS_H

#include "cli.h"

int cmd_report(const struct wa_options *opts);
int cmd_run(const struct wa_options *opts);
int cmd_compare(const struct wa_options *opts);	 /* cmd_compare.c */
int cmd_playbook(const struct wa_options *opts); /* cmd_playbook.c */

#endif /* WRITEAMP_COMMANDS_H */
