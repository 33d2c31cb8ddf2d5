// SPDX-License-Identifier: GPL-2.0
/* Option tables, their parsing and the --help texts made from them. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "cli.h"
#include "counters.h"
#include "events.h"
#include "learned.h"
#include "log.h"
#include "netns.h"
#include "seq_out.h"
#include "tunnels.h"

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define FIELD(f) offsetof(struct cli_args, f)
#define AT(a, off, type) ((type *)((char *)(a) + (off)))
#define HELP_COL 25
#define IPSM_STR_(x) #x
#define IPSM_STR(x) IPSM_STR_(x)

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ipsecmon-bpf: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'ipsecmon-bpf --help'.\n");
	return IPSM_EXIT_USAGE;
}

/* --- value parsers ---------------------------------------------------------- */

static int parse_u32(const char *arg, __u32 min, __u32 max, __u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max || arg[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_str(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	*AT(a, o->param, const char *) = arg;
	return 0;
}

static int set_flag(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)arg;
	*AT(a, o->param, bool) = true;
	return 0;
}

static int set_pretty(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	(void)arg;
	a->json = a->pretty = true;
	return 0;
}

static int set_verbose(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	(void)arg;
	a->verbose++;
	return 0;
}

/* Seconds, with a fraction: at least 0.1 s, at most a day. */
static int set_interval(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	char *end;
	double v;

	(void)o;
	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < 0.1 || v > 86400)
		return -EINVAL;
	a->interval_ms = (unsigned int)(v * 1000 + 0.5);
	return 0;
}

static int set_sas(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	if (!strcmp(arg, "all"))
		a->sas_all = true;
	else if (!strcmp(arg, "top"))
		a->sas_all = false;
	else
		return -EINVAL;
	return 0;
}

static int set_gap(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	return parse_u32(arg, 0, ~0U, &a->gap_threshold);
}

static int set_one_way_after(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	return parse_u32(arg, 0, 1000000, &a->one_way_after);
}

static int set_half_open_after(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	return parse_u32(arg, 1, IPSM_MAX_HALF_OPEN_AFTER_S, &a->half_open_after_s);
}

/* Whole seconds, 0 (never) to a year. */
static int set_seq_warn(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	return parse_u32(arg, 0, 366 * 86400, &a->seq_warn_s);
}

/* Whole seconds, 0 (never) to a week. */
static int set_learned_idle(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	__u32 sec;
	int err;

	(void)o;
	err = parse_u32(arg, 0, 7 * 86400, &sec);
	if (!err)
		a->learned_idle_s = sec;
	return err;
}

static int set_hooks(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	a->hooks_given = true;
	return attach_parse_hooks(arg, &a->attach.hooks);
}

static int set_xdp_mode(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	if (!strcmp(arg, "native"))
		a->attach.xdp_mode = IPSM_XDP_NATIVE;
	else if (!strcmp(arg, "skb") || !strcmp(arg, "generic"))
		a->attach.xdp_mode = IPSM_XDP_SKB;
	else if (!strcmp(arg, "auto"))
		a->attach.xdp_mode = IPSM_XDP_AUTO;
	else
		return -EINVAL;
	return 0;
}

static int set_max_sas(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	return parse_u32(arg, 16, 1U << 24, &a->attach.max_sas);
}

static int set_force(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	(void)arg;
	a->attach.force = true;
	return 0;
}

static int set_rate(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	return check_parse_range(arg, &a->check.rate[o->param], false);
}

static int set_seq_exhaustion(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	(void)o;
	return check_parse_range(arg, &a->check.seq_exhaustion, true);
}

static int set_limit(struct cli_args *a, const struct cli_opt *o, const char *arg)
{
	__u32 v;

	if (parse_u32(arg, 0, 1U << 30, &v))
		return -EINVAL;
	*AT(&a->check, o->param, long) = v;
	return 0;
}

/* --- the groups --------------------------------------------------------------- */

static const struct cli_opt common_opts[] = {
	{ "netns", 0, "NAME", "act in network namespace NAME\n(/run/netns/NAME or a path)", set_str,
	  NULL, FIELD(netns) },
	{ "pin-dir", 0, "DIR", "bpffs directory for pins\n(default " IPSM_DEFAULT_PIN_DIR ")",
	  set_str, NULL, FIELD(pin_dir) },
	{ "verbose", 'v', NULL, "more detail on stderr; twice for libbpf debug output",
	  set_verbose },
	{ "help", 'h', NULL, "this text" },
	{ "version", 'V', NULL, "print the version" },
	{},
};

const struct cli_opt cli_attach_opts[] = {
	{ "hooks", 0, "LIST",
	  "comma-separated: xdp, tc-ingress, tc-egress (default\nxdp,tc-egress; on veth and virtio_net, where XDP\nslows the traffic, tc-ingress,tc-egress; attached\nbefore, the receive hook it has). xdp and tc-ingress\nexclude each other",
	  set_hooks, "bad --hooks '%s': use xdp, tc-ingress, tc-egress" },
	{ "xdp-mode", 0, "MODE",
	  "native, skb (generic) or auto (default: native\nwhere it does not slow the traffic, else skb);\nnative or skb without --hooks: xdp,tc-egress",
	  set_xdp_mode, "bad --xdp-mode '%s': use native, skb or auto" },
	{ "max-sas", 0, "N",
	  "SA table size when the namespace's maps are first made\n(default " IPSM_STR(
		  IPSM_DEFAULT_MAX_SAS) ")",
	  set_max_sas, "bad --max-sas '%s': a number from 16 to 16777216" },
	{},
};

const struct cli_opt cli_force_opts[] = {
	{ "force", 0, NULL, "replace an XDP program that is already attached", set_force },
	{},
};

const struct cli_opt cli_stream_opts[] = {
	{ "interval", 0, "SEC", "seconds between snapshots (default 15, as IPSECMON)", set_interval,
	  "bad --interval '%s': seconds, 0.1 to 86400" },
	{ "output", 0, "FILE", "append to FILE instead of stdout; SIGHUP reopens it", set_str, NULL,
	  FIELD(output) },
	{ "gap-threshold", 0, "N",
	  "a seq_gap event when an SA loses more than N sequence\nnumbers in one interval (default 10)",
	  set_gap, "bad --gap-threshold '%s': a number" },
	{ "seq-warn", 0, "SEC",
	  "a seq_exhaustion_near event when an outbound SA without\nESN will run out of sequence numbers within SEC\nseconds at its send rate; 0: never (default " IPSM_STR(
		  IPSM_DEFAULT_SEQ_WARN_S) ")",
	  set_seq_warn, "bad --seq-warn '%s': seconds, 0 to 31622400" },
	{ "one-way-after", 0, "N",
	  "a tunnel is one_way (and a tunnel_one_way event) when\nits traffic went one way only for N intervals\nin a row; 0: never (default " IPSM_STR(
		  IPSM_DEFAULT_ONE_WAY_AFTER) ")",
	  set_one_way_after, "bad --one-way-after '%s': intervals, 0 to 1000000" },
	{ "sas", 0, "top|all",
	  "SAs in each JSON line: top (default: the 10 busiest and\nthe 10 most troubled, with sas_omitted) or all",
	  set_sas, "bad --sas '%s': use top or all" },
	{},
};

const struct cli_opt cli_monitor_opts[] = {
	{ "learned-idle", 0, "SEC",
	  "remove SA rows the datapath learned for SPIs that are\nnone of this host's SAs (forwarded ESP) after SEC\nseconds without a packet; 0 keeps them (default " IPSM_STR(
		  IPSM_DEFAULT_LEARNED_IDLE_S) ")",
	  set_learned_idle, "bad --learned-idle '%s': seconds, 0 to 604800" },
	{},
};

const struct cli_opt cli_ike_opts[] = {
	{ "half-open-after", 0, "SEC",
	  "an IKEv2 SA whose IKE_SA_INIT was answered is half-open\nwhen no IKE_AUTH followed within SEC seconds\n(default " IPSM_STR(
		  IPSM_DEFAULT_HALF_OPEN_AFTER_S) ")",
	  set_half_open_after,
	  "bad --half-open-after '%s': seconds, 1 to " IPSM_STR(IPSM_MAX_HALF_OPEN_AFTER_S) },
	{},
};

const struct cli_opt cli_json_opts[] = {
	{ "json", 0, NULL, "the JSON document of README \"JSON\" (one line)", set_flag, NULL,
	  FIELD(json) },
	{},
};

const struct cli_opt cli_json_lines_opts[] = {
	{ "json", 0, NULL,
	  "JSON lines: one snapshot per interval with \"delta\"\nand \"rate\" members, and event objects (sa_added,\nsa_deleted, bad_spi, seq_gap)",
	  set_flag, NULL, FIELD(json) },
	{},
};

const struct cli_opt cli_pretty_opts[] = {
	{ "pretty", 0, NULL, "indent the JSON (implies --json)", set_pretty },
	{},
};

const struct cli_opt cli_prometheus_opts[] = {
	{ "prometheus", 0, "ADDR:PORT",
	  "serve /metrics (Prometheus text format) there; ADDR\ndefaults to 127.0.0.1 (\":9477\"); numeric addresses only",
	  set_str, NULL, FIELD(prometheus) },
	{},
};

const struct cli_opt cli_all_opts[] = {
	{ "all", 0, NULL, "every interface attached in this network namespace", set_flag, NULL,
	  FIELD(all) },
	{ "stale", 0, NULL,
	  "the pins of network namespaces that are gone (deleted\nwithout detach; status lists them)",
	  set_flag, NULL, FIELD(stale) },
	{},
};

/* check's thresholds on rates: one per counter the table gives a check option. */
static struct cli_opt check_rate_opts[IPSM_N_COUNTERS + 1];
static char check_rate_help[IPSM_N_COUNTERS][64];

const struct cli_opt cli_check_opts[] = {
	{ "min-sas", 0, "N", "CRITICAL with fewer than N active SAs", set_limit, NULL,
	  offsetof(struct check_opts, min_sas) },
	{ "max-idle", 0, "SEC", "WARNING when a kernel SA carried nothing\nfor longer", set_limit,
	  NULL, offsetof(struct check_opts, max_idle) },
	{ "seq-exhaustion", 0, "W,C",
	  "WARNING/CRITICAL when an outbound SA without ESN will\nrun out of sequence numbers within W/C seconds at\nits send rate (C <= W)",
	  set_seq_exhaustion, "bad --seq-exhaustion '%s': two numbers of seconds W,C with C <= W" },
	{ "interval", 0, "SEC", "between the two readings (default 5)", set_interval },
	{},
};

static const struct cli_opt *check_rates(void)
{
	const struct ipsm_counter_def *d;
	int n = 0;

	if (check_rate_opts[0].name)
		return check_rate_opts;
	ipsm_for_each_counter(d)
	{
		if (!d->check_opt)
			continue;
		snprintf(check_rate_help[n], sizeof(check_rate_help[n]), "%s per second",
			 d->check_what);
		check_rate_opts[n] = (struct cli_opt){ .name = d->check_opt,
						       .arg = "W,C",
						       .help = check_rate_help[n],
						       .set = set_rate,
						       .param = d - ipsm_counter_defs };
		n++;
	}
	return check_rate_opts;
}

/* --- parsing -------------------------------------------------------------- */

/* The groups of a command, common last; check's rates before its other options. */
static int cmd_groups(const struct cli_cmd *cmd, const struct cli_opt **g, int max)
{
	int n = 0, i;

	for (i = 0; cmd->groups[i] && n < max - 2; i++) {
		if (cmd->groups[i] == cli_check_opts)
			g[n++] = check_rates();
		g[n++] = cmd->groups[i];
	}
	g[n++] = common_opts;
	return n;
}

static void print_opt(FILE *f, const struct cli_opt *o)
{
	const char *h = o->help, *nl;
	char head[64];
	int len;

	if (o->short_name)
		len = snprintf(head, sizeof(head), "  -%c, --%s", o->short_name, o->name);
	else
		len = snprintf(head, sizeof(head), "  --%s", o->name);
	if (o->arg)
		len += snprintf(head + len, sizeof(head) - len, " %s", o->arg);
	if (len >= HELP_COL - 1)
		fprintf(f, "%s\n%*s", head, HELP_COL, "");
	else
		fprintf(f, "%-*s", HELP_COL, head);
	while ((nl = strchr(h, '\n'))) {
		fprintf(f, "%.*s\n%*s", (int)(nl - h), h, HELP_COL, "");
		h = nl + 1;
	}
	fprintf(f, "%s\n", h);
}

static void cmd_help(const struct cli_cmd *cmd)
{
	const struct cli_opt *g[8], *o;
	int n, i;

	printf("Usage: ipsecmon-bpf %s %s\n\n%s\n", cmd->name, cmd->synopsis, cmd->description);
	n = cmd_groups(cmd, g, 8);
	for (i = 0; i < n; i++) {
		/* The command's groups make one list; the common ones another. */
		if (!i || g[i] == common_opts)
			printf("\n%s\n", g[i] == common_opts ? "Common options:" : "Options:");
		for (o = g[i]; o->name; o++)
			print_opt(stdout, o);
	}
}

void cli_usage(const struct cli_cmd *const *cmds)
{
	const struct cli_opt *o;
	int i;

	printf("Usage: ipsecmon-bpf COMMAND [OPTIONS]\n"
	       "\n"
	       "Count IPsec traffic (ESP, AH, ESP-in-UDP, IKE, NAT keepalives) with XDP and\n"
	       "TC eBPF programs, per interface and per SA.\n"
	       "\n"
	       "Commands:\n");
	for (i = 0; cmds[i]; i++)
		printf("  %s %s\n      %s\n", cmds[i]->name, cmds[i]->synopsis, cmds[i]->summary);
	printf("\nCommon options (COMMAND --help lists each command's own):\n");
	for (o = common_opts; o->name; o++)
		print_opt(stdout, o);
	printf("\n"
	       "Exit codes: 0 ok, 1 runtime error, 2 usage, 3 not privileged, 4 no such\n"
	       "interface or namespace, 5 kernel lacks BTF/BPF/hook, 6 attach conflict,\n"
	       "7 nothing attached, 8 bpffs unavailable, 9 another monitor runs here;\n"
	       "check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.\n");
}

/* A usage error; check answers the plugin way. */
static int bad(const struct cli_cmd *cmd, const char *fmt, const char *arg)
{
	if (cmd->plugin) {
		printf("IPSECMON UNKNOWN - ");
		printf(fmt, arg);
		printf("\n");
		return CHECK_UNKNOWN;
	}
	return cli_usage_error(fmt, arg);
}

static void defaults(const struct cli_cmd *cmd, struct cli_args *a)
{
	memset(a, 0, sizeof(*a));
	a->cmd = cmd;
	a->attach.hooks = IPSM_DEFAULT_HOOKS;
	a->attach.max_sas = IPSM_DEFAULT_MAX_SAS;
	a->attach.inserts_per_sec = IPSM_DEFAULT_INSERTS_PER_SEC;
	a->interval_ms = cmd->plugin ? 5000 : 15000;
	a->gap_threshold = IPSM_DEFAULT_GAP_THRESHOLD;
	a->seq_warn_s = IPSM_DEFAULT_SEQ_WARN_S;
	a->one_way_after = IPSM_DEFAULT_ONE_WAY_AFTER;
	a->half_open_after_s = IPSM_DEFAULT_HALF_OPEN_AFTER_S;
	a->learned_idle_s = IPSM_DEFAULT_LEARNED_IDLE_S;
	a->check.min_sas = -1;
	a->check.max_idle = -1;
}

int cli_parse(const struct cli_cmd *cmd, int argc, char **argv, struct cli_args *a)
{
	struct option lopts[64];
	const struct cli_opt *g[8], *o, *by_val[64];
	char shorts[16] = "";
	int n_g, i, n = 0, c;

	defaults(cmd, a);
	n_g = cmd_groups(cmd, g, 8);
	for (i = 0; i < n_g; i++)
		for (o = g[i]; o->name && n < 63; o++) {
			lopts[n] = (struct option){ o->name,
						    o->arg ? required_argument : no_argument, NULL,
						    o->short_name ? o->short_name : 256 + n };
			by_val[n++] = o;
			if (o->short_name)
				shorts[strlen(shorts)] = o->short_name;
		}
	lopts[n] = (struct option){};
	/* check prints its own message, and exits 3 as plugins do. */
	opterr = !cmd->plugin;
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, lopts, NULL)) != -1) {
		if (c == '?')
			return cmd->plugin ? bad(cmd, "bad option %s (see check --help)",
						 argv[optind - 1]) :
					     IPSM_EXIT_USAGE;
		for (i = 0; i < n; i++)
			if (c == (by_val[i]->short_name ? by_val[i]->short_name : 256 + i))
				break;
		o = by_val[i];
		if (!strcmp(o->name, "help")) {
			cmd_help(cmd);
			return IPSM_EXIT_OK;
		}
		if (!strcmp(o->name, "version")) {
			printf("ipsecmon-bpf %s\n", IPSM_VERSION);
			return IPSM_EXIT_OK;
		}
		if (o->set(a, o, optarg)) {
			if (cmd->plugin)
				return bad(cmd, "bad value '%s' (thresholds are WARNING,CRITICAL)",
					   optarg);
			return cli_usage_error(o->bad ? o->bad : "bad value '%s'", optarg);
		}
	}
	a->ifnames = argv + optind;
	a->n_ifnames = argc - optind;
	switch (cmd->positional) {
	case CLI_IFACES_REQUIRED:
		if (!a->n_ifnames)
			return cli_usage_error("%s: which interface?", cmd->name);
		break;
	case CLI_IFACES_OR_ALL:
		if ((a->all || a->stale) && a->n_ifnames)
			return cli_usage_error("%s: give interfaces, --all or --stale, not both",
					       cmd->name);
		if (!a->all && !a->stale && !a->n_ifnames)
			return cli_usage_error("%s: which interface? (or --all, --stale)",
					       cmd->name);
		break;
	case CLI_NONE:
		if (a->n_ifnames)
			return cli_usage_error("%s: unexpected '%s'", cmd->name, a->ifnames[0]);
		break;
	case CLI_IFACES_ANY:
		break;
	}
	if (attach_check_hooks(a->attach.hooks))
		return IPSM_EXIT_USAGE;
	/* --xdp-mode skb or native asks for XDP: only auto leaves the choice. */
	a->attach.hooks_auto = !a->hooks_given && a->attach.xdp_mode == IPSM_XDP_AUTO;
	return -1;
}

/* --- setup ------------------------------------------------------------------ */

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1U << (cap % 32));
}

/* BPF and netlink need CAP_NET_ADMIN plus CAP_BPF (or CAP_SYS_ADMIN). */
static int check_privileges(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &h, d))
		return ipsm_error(IPSM_EXIT_PERM, -errno, "cannot read capabilities: %s",
				  strerror(errno));
	if (!has_cap(d, CAP_NET_ADMIN) || !(has_cap(d, CAP_BPF) || has_cap(d, CAP_SYS_ADMIN)))
		return ipsm_error(IPSM_EXIT_PERM, -EPERM,
				  "needs root (CAP_NET_ADMIN and CAP_BPF or CAP_SYS_ADMIN)");
	return 0;
}

int cli_setup(struct cli_args *a)
{
	int err;

	log_init(a->verbose);
	err = check_privileges();
	if (err)
		return err;
	if (a->netns) {
		err = netns_enter(a->netns);
		if (err)
			return err;
	}
	return pins_init(&a->paths, a->pin_dir ? a->pin_dir : IPSM_DEFAULT_PIN_DIR);
}
