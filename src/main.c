// SPDX-License-Identifier: GPL-2.0
/* main.c: writeamp's entry point: parse the command line and run the subcommand. */
#include <stdio.h>

#include "cli.h"
#include "commands.h"

static const struct {
	enum wa_command command;
	int (*run)(const struct wa_options *opts);
} commands[] = {
	{WA_CMD_REPORT, cmd_report},
	{WA_CMD_RUN, cmd_run},
	{WA_CMD_COMPARE, cmd_compare},
	{WA_CMD_PLAYBOOK, cmd_playbook},
};

int main(int argc, char **argv)
{
	struct wa_options opts;

	switch (cli_parse(argc, argv, &opts, stdout, stderr)) {
	case WA_PARSE_EXIT_OK:
		return 0;
	case WA_PARSE_ERROR:
		return CLI_EXIT_USAGE;
	case WA_PARSE_OK:
		break;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].command == opts.command)
			return commands[i].run(&opts);
	return CLI_EXIT_USAGE;
}
