/* SPDX-License-Identifier: GPL-2.0 */
/* The commands: their options, help texts and what they do. */
#ifndef IPSM_COMMANDS_H
#define IPSM_COMMANDS_H

#include "cli.h"

extern const struct cli_cmd cmd_attach;
extern const struct cli_cmd cmd_detach;
extern const struct cli_cmd cmd_status;
extern const struct cli_cmd cmd_stats;
extern const struct cli_cmd cmd_run;
extern const struct cli_cmd cmd_watch;
extern const struct cli_cmd cmd_check;
extern const struct cli_cmd cmd_counters;

#endif
