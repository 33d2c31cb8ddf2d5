// SPDX-License-Identifier: GPL-2.0
/* ipsecmon-bpf: find the command, parse its options, set up, run it. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include "check.h"
#include "cli.h"
#include "commands.h"
#include "log.h"

static const struct cli_cmd *const commands[] = {
	&cmd_attach, &cmd_detach, &cmd_status,	 &cmd_stats, &cmd_run,
	&cmd_watch,  &cmd_check,  &cmd_counters, NULL,
};

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd = NULL;
	struct cli_args a;
	int i, rc;

	/* XFRM dumps carry keys: this process must never leave a core behind. */
	prctl(PR_SET_DUMPABLE, 0);
	if (argc < 2)
		return cli_usage_error("which command?");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		cli_usage(commands);
		return IPSM_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ipsecmon-bpf %s\n", IPSM_VERSION);
		return IPSM_EXIT_OK;
	}
	for (i = 0; commands[i] && !cmd; i++)
		if (!strcmp(argv[1], commands[i]->name))
			cmd = commands[i];
	if (!cmd)
		return cli_usage_error("unknown command '%s'", argv[1]);
	/* The command's getopt sees its own name as argv[0]. */
	rc = cli_parse(cmd, argc - 1, argv + 1, &a);
	if (rc >= 0)
		return rc;
	if (!cmd->no_setup && cli_setup(&a)) {
		if (!cmd->plugin)
			return ipsm_exit_code();
		printf("IPSECMON UNKNOWN - cannot read the counters (exit %d of the CLI; see stderr)\n",
		       ipsm_exit_code());
		return CHECK_UNKNOWN;
	}
	return cmd->run(&a);
}
