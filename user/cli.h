/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The command line, declared once: options in groups (common, attach, the
 * output of run and watch, JSON, check's thresholds), commands that name
 * the groups they take. The same tables drive getopt and produce --help.
 */
#ifndef IPSM_CLI_H
#define IPSM_CLI_H

#include <stdbool.h>
#include <linux/types.h>

#include "attach.h"
#include "check.h"
#include "pins.h"

#ifndef IPSM_VERSION
#define IPSM_VERSION "0.0.0"
#endif

/* Everything any command can be told, after parsing. */
struct cli_args {
	const struct cli_cmd *cmd;
	const char *netns;
	const char *pin_dir;
	int verbose;
	bool json, pretty, all, stale;
	struct attach_opts attach;
	bool hooks_given; /* --hooks named them: attach exactly those */
	unsigned int interval_ms;
	const char *output;
	__u32 gap_threshold;
	__u32 seq_warn_s; /* run/watch --seq-warn */
	__u32 one_way_after; /* run/watch --one-way-after */
	__u32 half_open_after_s; /* --half-open-after */
	__u32 learned_idle_s; /* run --learned-idle */
	const char *prometheus;
	bool sas_all;
	struct check_opts check;
	char **ifnames; /* the positional arguments */
	int n_ifnames;
	struct ipsm_paths paths; /* filled by cli_setup() */
};

struct cli_opt {
	const char *name; /* long option, without "--" */
	char short_name; /* 0: none */
	const char *arg; /* what the argument is, in --help; NULL: a flag */
	const char *help; /* lines after the first start with "\n" */
	/* Store the value (arg NULL for a flag); 0, or -EINVAL for a bad value. */
	int (*set)(struct cli_args *a, const struct cli_opt *o, const char *arg);
	const char *bad; /* usage error for a bad value, with the value as %s */
	int param; /* for set(): which field, which counter */
};

/* How a command takes its positional arguments. */
enum cli_positional {
	CLI_IFACES_ANY, /* optional interfaces */
	CLI_IFACES_REQUIRED,
	CLI_IFACES_OR_ALL, /* interfaces or --all, not both */
	CLI_NONE,
};

struct cli_cmd {
	const char *name;
	const char *synopsis; /* after "ipsecmon-bpf NAME" */
	const char *summary; /* one line for the command list */
	const char *description; /* the paragraph of COMMAND --help */
	const struct cli_opt *const *groups; /* NULL-terminated; the common group is implied */
	enum cli_positional positional;
	bool plugin; /* check: errors are "IPSECMON UNKNOWN" lines and exit 3 */
	bool no_setup; /* needs no privileges, namespace or pins */
	int (*run)(struct cli_args *a); /* after cli_setup(); returns the exit code */
};

/* The groups commands may name. */
extern const struct cli_opt cli_attach_opts[];
extern const struct cli_opt cli_force_opts[];
extern const struct cli_opt cli_stream_opts[];
extern const struct cli_opt cli_monitor_opts[];
extern const struct cli_opt cli_ike_opts[];
extern const struct cli_opt cli_json_opts[];
extern const struct cli_opt cli_json_lines_opts[];
extern const struct cli_opt cli_pretty_opts[];
extern const struct cli_opt cli_prometheus_opts[];
extern const struct cli_opt cli_all_opts[];
extern const struct cli_opt cli_check_opts[];

/*
 * Parse argv (argv[0] is the command's name) into a. Returns -1 when the
 * command should run, else the exit code to leave with (help, version,
 * usage errors, which it has printed).
 */
int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a);
/* Privileges, namespace, pin paths: what every command needs; 0 or -errno. */
int cli_setup(struct cli_args *a);
/* A usage error: "ipsecmon-bpf: MESSAGE" and the hint; returns IPSM_EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The top-level usage text for a command table. */
void cli_usage(const struct cli_cmd *const *cmds);

#endif
