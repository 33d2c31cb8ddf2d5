// SPDX-License-Identifier: GPL-2.0
/* ipsecmon-bpf command line: option parsing and dispatch to the commands. */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <linux/capability.h>

#include "aggregate.h"
#include "attach.h"
#include "check.h"
#include "correlate.h"
#include "log.h"
#include "loop.h"
#include "events.h"
#include "http.h"
#include "monitor.h"
#include "netns.h"
#include "out_json.h"
#include "out_prom.h"
#include "out_text.h"
#include "pins.h"
#include "stream.h"
#include "watch.h"

#ifndef IPSM_VERSION
#define IPSM_VERSION "0.0.0"
#endif

#ifndef CAP_BPF
#define CAP_BPF 39
#endif

struct common {
	const char *netns;
	const char *pin_dir;
	int verbose;
	bool json;
	bool pretty;
};

static const char usage_text[] =
	"Usage: ipsecmon-bpf COMMAND [OPTIONS]\n"
	"\n"
	"Count IPsec traffic (ESP, AH, ESP-in-UDP, IKE, NAT keepalives) with XDP and\n"
	"TC eBPF programs, per interface and per SA.\n"
	"\n"
	"Commands:\n"
	"  attach IFACE... [--xdp-mode native|skb|auto] [--hooks LIST] [--force]\n"
	"                  [--max-sas N]     load, attach and pin, then return\n"
	"  detach IFACE... | --all          remove exactly what attach made\n"
	"  status [--json]                  what is attached in this namespace\n"
	"  stats  [--json [--pretty]] [IFACE...]\n"
	"                                   one snapshot of the counters\n"
	"  run    IFACE... [--interval SEC] [--output FILE] [--prometheus ADDR:PORT]\n"
	"                                   the monitor: XFRM correlation, JSON lines\n"
	"  watch  [--json] [--interval SEC] [IFACE...]\n"
	"                                   the live IPSECMON window, or JSON lines\n"
	"  check  [THRESHOLDS] [IFACE...]   monitoring-plugin check (exit 0/1/2/3)\n"
	"\n"
	"Common options:\n"
	"  --netns NAME     act in network namespace NAME (/run/netns/NAME or a path)\n"
	"  --pin-dir DIR    bpffs directory for pins (default " IPSM_DEFAULT_PIN_DIR ")\n"
	"  -v, --verbose    more detail on stderr; twice for libbpf debug output\n"
	"  -h, --help       this text, or a command's with COMMAND --help\n"
	"  -V, --version    print the version\n"
	"\n"
	"Exit codes: 0 ok, 1 runtime error, 2 usage, 3 not privileged, 4 no such\n"
	"interface or namespace, 5 kernel lacks BTF/BPF/hook, 6 attach conflict,\n"
	"7 nothing attached, 8 bpffs unavailable.\n";

static const char attach_help[] =
	"Usage: ipsecmon-bpf attach IFACE... [OPTIONS]\n"
	"\n"
	"Load the datapath for each interface, attach it and pin programs and maps\n"
	"under the pin directory, then return; counters keep running. Attaching again\n"
	"is harmless and adds hooks that are missing.\n"
	"\n"
	"  --hooks LIST       comma-separated: xdp, tc-ingress, tc-egress\n"
	"                     (default xdp,tc-egress; xdp and tc-ingress exclude each other)\n"
	"  --xdp-mode MODE    native, skb (generic) or auto (default: native, else skb)\n"
	"  --force            replace an XDP program that is already attached\n"
	"  --max-sas N        SA table size when the namespace's maps are first made\n"
	"                     (default 8192)\n";

static const char detach_help[] =
	"Usage: ipsecmon-bpf detach IFACE... | --all\n"
	"\n"
	"Remove our programs from the interfaces and unpin their maps. Only what\n"
	"attach made goes: a clsact qdisc is deleted only if attach created it and no\n"
	"other filter uses it; another XDP program put in our place stays.\n"
	"\n"
	"  --all              every interface attached in this network namespace\n";

static const char status_help[] = "Usage: ipsecmon-bpf status [--json [--pretty]]\n"
				  "\n"
				  "List the interfaces attached in this network namespace, their\n"
				  "hooks, and whether those hooks still run our programs.\n"
				  "Exit code 7 when nothing is attached.\n";

static const char run_help[] =
	"Usage: ipsecmon-bpf run IFACE... [--interval SEC] [OPTIONS]\n"
	"\n"
	"Attach to the interfaces (as attach does, if not attached yet), then stay in\n"
	"the foreground as the monitor: keep the SA table equal to the kernel's SAs\n"
	"from XFRM events (this makes bad-SPI detection live where the kernel has no\n"
	"XDP SA lookup), count key additions, deletions and rekeys, fold deleted SAs\n"
	"into totals that survive restarts, and write one JSON line per interval\n"
	"plus one per event (sa_added, sa_deleted, sa_expired, sa_soft_expired,\n"
	"sa_rekeyed, bad_spi, seq_gap). SIGINT or SIGTERM end it; the programs stay\n"
	"attached. A closed pipe ends it too, with exit status 0.\n"
	"\n"
	"Each snapshot line carries the totals, plus \"delta\" (growth over the interval)\n"
	"and \"rate\" (per second) from the second line on.\n"
	"\n"
	"  --interval SEC       seconds between snapshots (default 15, as IPSECMON)\n"
	"  --output FILE        append to FILE instead of stdout; SIGHUP reopens it\n"
	"  --prometheus ADDR:PORT\n"
	"                       serve /metrics (Prometheus text format) there; ADDR\n"
	"                       defaults to 127.0.0.1 (\":9477\"); numeric addresses only\n"
	"  --gap-threshold N    a seq_gap event when an SA loses more than N sequence\n"
	"                       numbers in one interval (default 10)\n"
	"  --hooks, --xdp-mode, --max-sas   as for attach\n";

static const char watch_help[] =
	"Usage: ipsecmon-bpf watch [--json] [--interval SEC] [--output FILE] [IFACE...]\n"
	"\n"
	"Show the counters every interval: on a terminal, the IPSECMON window (the\n"
	"counters, traffic per class with rates, the busiest SAs, bad SPIs, IKE\n"
	"exchanges) with keys q (quit), + and - (double or halve the interval) and r\n"
	"(refresh now); elsewhere plain-text snapshots. watch only reads: the\n"
	"counters that need correlation come from a running monitor (run) or the\n"
	"kernel's XDP SA lookup.\n"
	"\n"
	"  --json             JSON lines: one snapshot per interval with \"delta\" and\n"
	"                     \"rate\" members, and event objects (sa_added, sa_deleted,\n"
	"                     bad_spi, seq_gap)\n"
	"  --interval SEC     seconds between snapshots (default 15, as IPSECMON)\n"
	"  --output FILE      append to FILE instead of stdout; SIGHUP reopens it\n"
	"  --gap-threshold N  seq_gap events above N lost per interval (default 10)\n";

static const char check_help[] =
	"Usage: ipsecmon-bpf check [THRESHOLDS] [--interval SEC] [IFACE...]\n"
	"\n"
	"A monitoring plugin (Nagios, Icinga): read the counters twice, --interval\n"
	"seconds apart, and print one status line with perfdata. Exit 0 OK,\n"
	"1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for bad options and when nothing is\n"
	"attached, or a threshold asks for a counter that is unknown).\n"
	"\n"
	"  --bad-spi-rate W,C        bad SPI packets per second\n"
	"  --not-decrypted W,C       packets not decrypted per second\n"
	"  --not-authenticated W,C   packets not authenticated per second\n"
	"  --min-sas N               CRITICAL with fewer than N active SAs\n"
	"  --max-idle SEC            WARNING when a kernel SA carried nothing for longer\n"
	"  --interval SEC            between the two readings (default 5)\n";

static const char stats_help[] =
	"Usage: ipsecmon-bpf stats [--json [--pretty]] [IFACE...]\n"
	"\n"
	"Print one snapshot: traffic per class and direction, IKE exchanges, the SAs\n"
	"seen on the wire. Traffic and IKE counters cover the named interfaces (all\n"
	"attached ones by default); SA rows cover the namespace.\n"
	"\n"
	"  --json             the JSON document of README \"JSON\" (one line)\n"
	"  --pretty           indent the JSON\n";

enum {
	OPT_NETNS = 256,
	OPT_PIN_DIR,
	OPT_HOOKS,
	OPT_XDP_MODE,
	OPT_FORCE,
	OPT_MAX_SAS,
	OPT_ALL,
	OPT_JSON,
	OPT_PRETTY,
	OPT_INTERVAL,
	OPT_OUTPUT,
	OPT_GAP,
	OPT_PROMETHEUS,
	OPT_BAD_SPI_RATE,
	OPT_NOT_DECRYPTED,
	OPT_NOT_AUTHENTICATED,
	OPT_MIN_SAS,
	OPT_MAX_IDLE,
};

#define COMMON_OPTS                                                                        \
	{ "netns", required_argument, NULL, OPT_NETNS },                                   \
		{ "pin-dir", required_argument, NULL, OPT_PIN_DIR },                       \
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' }, \
	{                                                                                  \
		"version", no_argument, NULL, 'V'                                          \
	}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "ipsecmon-bpf: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'ipsecmon-bpf --help'.\n");
	return IPSM_EXIT_USAGE;
}

/* Common options; returns 1 if handled, -1 to exit with *rc, 0 if not common. */
static int common_opt(int c, struct common *co, const char *help, int *rc)
{
	switch (c) {
	case OPT_NETNS:
		co->netns = optarg;
		return 1;
	case OPT_PIN_DIR:
		co->pin_dir = optarg;
		return 1;
	case 'v':
		co->verbose++;
		return 1;
	case 'h':
		fputs(help, stdout);
		*rc = IPSM_EXIT_OK;
		return -1;
	case 'V':
		printf("ipsecmon-bpf %s\n", IPSM_VERSION);
		*rc = IPSM_EXIT_OK;
		return -1;
	case '?':
		*rc = IPSM_EXIT_USAGE;
		return -1;
	}
	return 0;
}

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

/* Privileges, namespace, then pin paths: what every command needs. */
static int setup(const struct common *co, struct ipsm_paths *p)
{
	int err;

	log_init(co->verbose);
	err = check_privileges();
	if (err)
		return err;
	if (co->netns) {
		err = netns_enter(co->netns);
		if (err)
			return err;
	}
	return pins_init(p, co->pin_dir ? co->pin_dir : IPSM_DEFAULT_PIN_DIR);
}

static int parse_hooks(const char *arg, __u32 *hooks)
{
	char buf[128], *tok, *save;
	int h;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", arg);
	*hooks = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (h = 0; h < IPSM_HOOK_MAX; h++)
			if (!strcmp(tok, ipsm_hook_name(h)))
				break;
		if (h == IPSM_HOOK_MAX)
			return -EINVAL;
		*hooks |= 1U << h;
	}
	return *hooks ? 0 : -EINVAL;
}

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

/* --hooks, --xdp-mode, --max-sas: shared by attach and run. Non-zero: usage error shown. */
static int attach_opt(int c, struct attach_opts *o)
{
	switch (c) {
	case OPT_HOOKS:
		if (parse_hooks(optarg, &o->hooks))
			return usage_error("bad --hooks '%s': use xdp, tc-ingress, tc-egress",
					   optarg);
		break;
	case OPT_XDP_MODE:
		if (!strcmp(optarg, "native"))
			o->xdp_mode = IPSM_XDP_NATIVE;
		else if (!strcmp(optarg, "skb") || !strcmp(optarg, "generic"))
			o->xdp_mode = IPSM_XDP_SKB;
		else if (!strcmp(optarg, "auto"))
			o->xdp_mode = IPSM_XDP_AUTO;
		else
			return usage_error("bad --xdp-mode '%s': use native, skb or auto", optarg);
		break;
	case OPT_MAX_SAS:
		if (parse_u32(optarg, 16, 1U << 24, &o->max_sas))
			return usage_error("bad --max-sas '%s': a number from 16 to 16777216",
					   optarg);
		break;
	}
	return 0;
}

/*
 * Attach to every named interface, or to none: all names are checked first,
 * and a failure undoes the interfaces this call attached from scratch.
 * Returns the exit code.
 */
static int attach_all(const struct ipsm_paths *p, char **names, int n, const struct attach_opts *o)
{
	char dir[PATH_MAX];
	bool *fresh;
	int i, j;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		ipsm_error(IPSM_EXIT_KERNEL, -ENOENT,
			   "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
			   "ipsecmon-bpf needs CONFIG_DEBUG_INFO_BTF");
		return ipsm_exit_code();
	}
	for (i = 0; i < n; i++)
		if (!if_nametoindex(names[i])) {
			ipsm_error(IPSM_EXIT_NODEV, -ENODEV, "no interface '%s'", names[i]);
			return ipsm_exit_code();
		}
	if (pins_prepare(p))
		return ipsm_exit_code();
	fresh = calloc(n, sizeof(*fresh));
	if (!fresh)
		return IPSM_EXIT_FAIL;
	for (i = 0; i < n; i++) {
		pins_iface_dir(p, if_nametoindex(names[i]), dir, sizeof(dir));
		fresh[i] = access(dir, F_OK) != 0;
		if (ipsm_attach(p, names[i], o)) {
			for (j = 0; j < i; j++)
				if (fresh[j])
					ipsm_detach(p, if_nametoindex(names[j]));
			free(fresh);
			pins_cleanup_ns(p);
			return ipsm_exit_code();
		}
		pr_info("attached to %s", names[i]);
	}
	free(fresh);
	return IPSM_EXIT_OK;
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "hooks", required_argument, NULL, OPT_HOOKS },
		{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "max-sas", required_argument, NULL, OPT_MAX_SAS },
		COMMON_OPTS,
		{},
	};
	struct attach_opts o = {
		.hooks = IPSM_DEFAULT_HOOKS,
		.max_sas = IPSM_DEFAULT_MAX_SAS,
		.inserts_per_sec = IPSM_DEFAULT_INSERTS_PER_SEC,
	};
	struct common co = {};
	struct ipsm_paths p;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (common_opt(c, &co, attach_help, &rc) < 0)
			return rc;
		switch (c) {
		case OPT_FORCE:
			o.force = true;
			break;
		default:
			if (attach_opt(c, &o))
				return IPSM_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "attach: which interface?");
	if ((o.hooks & (1U << IPSM_HOOK_XDP)) && (o.hooks & (1U << IPSM_HOOK_TC_INGRESS)))
		return usage_error("%s", "--hooks: xdp and tc-ingress would count rx twice");
	if (setup(&co, &p))
		return ipsm_exit_code();
	return attach_all(&p, argv + optind, argc - optind, &o);
}

/* The pinned ifindex for a name: the live interface, or a recorded name if it is gone. */
static int find_pinned(const struct ipsm_paths *p, const char *name, __u32 *ifindex)
{
	struct ipsm_iface ifc;
	char dir[PATH_MAX];
	__u32 *ids;
	size_t n, i;
	int err;

	*ifindex = if_nametoindex(name);
	if (*ifindex) {
		pins_iface_dir(p, *ifindex, dir, sizeof(dir));
		if (!access(dir, F_OK))
			return 0;
	}
	err = pins_list_ifaces(p, &ids, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < n; i++) {
		if (!ipsm_iface_read(p, ids[i], &ifc) && !ifc.present && !strcmp(ifc.name, name)) {
			*ifindex = ids[i];
			err = 0;
			break;
		}
	}
	free(ids);
	return err;
}

static int cmd_detach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		COMMON_OPTS,
		{},
	};
	struct common co = {};
	struct ipsm_paths p;
	__u32 *ids = NULL, idx;
	bool all = false;
	int c, i, rc = 0, err;
	size_t n, k;

	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (common_opt(c, &co, detach_help, &rc) < 0)
			return rc;
		if (c == OPT_ALL)
			all = true;
	}
	if (all == (optind < argc))
		return usage_error("%s", all ? "detach: give interfaces or --all, not both" :
					       "detach: which interface? (or --all)");
	if (setup(&co, &p))
		return ipsm_exit_code();
	if (all) {
		err = pins_list_ifaces(&p, &ids, &n);
		if (err || !n) {
			free(ids);
			ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT,
				   "nothing attached in this network namespace");
			return ipsm_exit_code();
		}
		for (k = 0; k < n; k++)
			if (ipsm_detach(&p, ids[k]))
				rc = ipsm_exit_code();
		free(ids);
		return rc;
	}
	/* Resolve every name before touching anything. */
	for (i = optind; i < argc; i++)
		if (find_pinned(&p, argv[i], &idx)) {
			ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT, "%s is not attached", argv[i]);
			return ipsm_exit_code();
		}
	for (i = optind; i < argc; i++)
		if (find_pinned(&p, argv[i], &idx) || ipsm_detach(&p, idx))
			rc = ipsm_exit_code();
	return rc;
}

static int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		COMMON_OPTS,
		{},
	};
	struct ipsm_iface *ifs = NULL;
	struct common co = {};
	struct ipsm_paths p;
	__u32 *ids = NULL;
	size_t n = 0, k, m = 0;
	int c, rc = 0, err;
	__u64 nsid = 0;
	json_t *doc;

	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (common_opt(c, &co, status_help, &rc) < 0)
			return rc;
		if (c == OPT_JSON)
			co.json = true;
		else if (c == OPT_PRETTY)
			co.json = co.pretty = true;
	}
	if (optind < argc)
		return usage_error("status: unexpected '%s'", argv[optind]);
	if (setup(&co, &p))
		return ipsm_exit_code();
	netns_id(&nsid);
	err = pins_present(&p) ? pins_list_ifaces(&p, &ids, &n) : 0;
	if (err) {
		ipsm_error(IPSM_EXIT_FAIL, err, "cannot list %s: %s", p.ns, strerror(-err));
		return ipsm_exit_code();
	}
	ifs = calloc(n ? n : 1, sizeof(*ifs));
	if (!ifs) {
		free(ids);
		return IPSM_EXIT_FAIL;
	}
	for (k = 0; k < n; k++) {
		if (ipsm_iface_read(&p, ids[k], &ifs[m]))
			pr_warn("cannot read the state pinned for ifindex %u", ids[k]);
		else
			m++;
	}
	if (co.json) {
		doc = json_status(ifs, m, nsid);
		err = json_write(stdout, doc, co.pretty);
		json_decref(doc);
	} else {
		text_status(stdout, ifs, m);
	}
	free(ids);
	free(ifs);
	if (err)
		return IPSM_EXIT_FAIL;
	return m ? IPSM_EXIT_OK : IPSM_EXIT_NOT_ATTACHED;
}

static int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "pretty", no_argument, NULL, OPT_PRETTY },
		COMMON_OPTS,
		{},
	};
	struct ipsm_snapshot s;
	struct common co = {};
	struct ipsm_paths p;
	int c, rc = 0, err;
	json_t *doc;

	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (common_opt(c, &co, stats_help, &rc) < 0)
			return rc;
		if (c == OPT_JSON)
			co.json = true;
		else if (c == OPT_PRETTY)
			co.json = co.pretty = true;
	}
	if (setup(&co, &p))
		return ipsm_exit_code();
	if (snapshot_read(&p, argv + optind, argc - optind, &s))
		return ipsm_exit_code();
	err = snapshot_correlate(&s);
	if (err) {
		snapshot_free(&s);
		return IPSM_EXIT_FAIL;
	}
	if (co.json) {
		doc = json_snapshot(&s);
		err = json_write(stdout, doc, co.pretty);
		json_decref(doc);
	} else {
		text_stats(stdout, &s);
		err = fflush(stdout) ? -EIO : 0;
	}
	snapshot_free(&s);
	return err ? IPSM_EXIT_FAIL : IPSM_EXIT_OK;
}

/* Seconds, with a fraction: at least 0.1 s, at most a day. */
static int parse_interval(const char *arg, unsigned int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < 0.1 || v > 86400)
		return -EINVAL;
	*ms = (unsigned int)(v * 1000 + 0.5);
	return 0;
}

/* Every interval's snapshot, as the text the endpoint serves next. */
static void publish_prom(void *ctx, const struct ipsm_snapshot *s)
{
	size_t len;
	char *text;

	if (!prom_render(s, &text, &len))
		prom_server_publish(ctx, text, len);
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "gap-threshold", required_argument, NULL, OPT_GAP },
		{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
		{ "hooks", required_argument, NULL, OPT_HOOKS },
		{ "xdp-mode", required_argument, NULL, OPT_XDP_MODE },
		{ "max-sas", required_argument, NULL, OPT_MAX_SAS },
		COMMON_OPTS,
		{},
	};
	struct attach_opts ao = {
		.hooks = IPSM_DEFAULT_HOOKS,
		.max_sas = IPSM_DEFAULT_MAX_SAS,
		.inserts_per_sec = IPSM_DEFAULT_INSERTS_PER_SEC,
	};
	struct monitor_opts mo = { .interval_ms = 15000,
				   .gap_threshold = IPSM_DEFAULT_GAP_THRESHOLD };
	struct prom_server *srv = NULL;
	const char *prom_addr = NULL;
	struct common co = {};
	struct ipsm_paths p;
	int c, rc = 0, err;

	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (common_opt(c, &co, run_help, &rc) < 0)
			return rc;
		switch (c) {
		case OPT_INTERVAL:
			if (parse_interval(optarg, &mo.interval_ms))
				return usage_error("bad --interval '%s': seconds, 0.1 to 86400",
						   optarg);
			break;
		case OPT_OUTPUT:
			mo.output = optarg;
			break;
		case OPT_GAP:
			if (parse_u32(optarg, 0, ~0U, &mo.gap_threshold))
				return usage_error("bad --gap-threshold '%s': a number", optarg);
			break;
		case OPT_PROMETHEUS:
			prom_addr = optarg;
			break;
		default:
			if (attach_opt(c, &ao))
				return IPSM_EXIT_USAGE;
		}
	}
	if (optind >= argc)
		return usage_error("%s", "run: which interface?");
	if ((ao.hooks & (1U << IPSM_HOOK_XDP)) && (ao.hooks & (1U << IPSM_HOOK_TC_INGRESS)))
		return usage_error("%s", "--hooks: xdp and tc-ingress would count rx twice");
	if (setup(&co, &p))
		return ipsm_exit_code();
	rc = attach_all(&p, argv + optind, argc - optind, &ao);
	if (rc)
		return rc;
	/* Before the HTTP thread exists (see loop_block_signals()). */
	loop_block_signals();
	/* In the namespace already: the endpoint listens there. */
	if (prom_addr) {
		if (prom_server_start(prom_addr, &srv))
			return ipsm_exit_code();
		mo.publish = publish_prom;
		mo.publish_ctx = srv;
	}
	/* A reader that goes away ends us through EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	mo.ifnames = argv + optind;
	mo.n_ifnames = argc - optind;
	err = monitor_run(&p, &mo);
	prom_server_stop(srv);
	if (stream_reader_gone(err))
		return IPSM_EXIT_OK;
	return err ? ipsm_exit_code() : IPSM_EXIT_OK;
}

static int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "gap-threshold", required_argument, NULL, OPT_GAP },
		COMMON_OPTS,
		{},
	};
	struct watch_opts wo = { .interval_ms = 15000,
				 .gap_threshold = IPSM_DEFAULT_GAP_THRESHOLD };
	struct common co = {};
	struct ipsm_paths p;
	struct ipsm_snapshot s;
	int c, rc = 0, err;

	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (common_opt(c, &co, watch_help, &rc) < 0)
			return rc;
		switch (c) {
		case OPT_JSON:
			wo.json = true;
			break;
		case OPT_INTERVAL:
			if (parse_interval(optarg, &wo.interval_ms))
				return usage_error("bad --interval '%s': seconds, 0.1 to 86400",
						   optarg);
			break;
		case OPT_OUTPUT:
			wo.output = optarg;
			break;
		case OPT_GAP:
			if (parse_u32(optarg, 0, ~0U, &wo.gap_threshold))
				return usage_error("bad --gap-threshold '%s': a number", optarg);
			break;
		}
	}
	if (setup(&co, &p))
		return ipsm_exit_code();
	wo.ifnames = argv + optind;
	wo.n_ifnames = argc - optind;
	/* Refuse at once, before a screen is drawn, if there is nothing to watch. */
	if (snapshot_read(&p, wo.ifnames, wo.n_ifnames, &s))
		return ipsm_exit_code();
	snapshot_free(&s);
	signal(SIGPIPE, SIG_IGN);
	err = watch_run(&p, &wo);
	if (stream_reader_gone(err))
		return IPSM_EXIT_OK;
	return err ? ipsm_exit_code() : IPSM_EXIT_OK;
}

/* A snapshot for check; the plugin convention turns every failure into UNKNOWN. */
static int check_read(const struct ipsm_paths *p, char **names, int n, struct ipsm_snapshot *s)
{
	if (snapshot_read(p, names, n, s))
		return -1;
	if (snapshot_correlate(s)) {
		snapshot_free(s);
		return -1;
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bad-spi-rate", required_argument, NULL, OPT_BAD_SPI_RATE },
		{ "not-decrypted", required_argument, NULL, OPT_NOT_DECRYPTED },
		{ "not-authenticated", required_argument, NULL, OPT_NOT_AUTHENTICATED },
		{ "min-sas", required_argument, NULL, OPT_MIN_SAS },
		{ "max-idle", required_argument, NULL, OPT_MAX_IDLE },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		COMMON_OPTS,
		{},
	};
	struct check_opts o = { .min_sas = -1, .max_idle = -1 };
	struct ipsm_snapshot a, b;
	unsigned int interval_ms = 5000;
	struct common co = {};
	struct ipsm_paths p;
	struct timespec t0, t1;
	char line[1024];
	__u32 v;
	int c, rc = 0, state;

	opterr = 0; /* our own message, and exit 3 as plugins do */
	while ((c = getopt_long(argc, argv, "vhV", opts, NULL)) != -1) {
		if (c == '?') {
			printf("IPSECMON UNKNOWN - bad option %s (see check --help)\n",
			       argv[optind - 1]);
			return CHECK_UNKNOWN;
		}
		if (common_opt(c, &co, check_help, &rc) < 0)
			return rc;
		switch (c) {
		case OPT_BAD_SPI_RATE:
			rc = check_parse_range(optarg, &o.bad_spi_rate);
			break;
		case OPT_NOT_DECRYPTED:
			rc = check_parse_range(optarg, &o.not_decrypted);
			break;
		case OPT_NOT_AUTHENTICATED:
			rc = check_parse_range(optarg, &o.not_authenticated);
			break;
		case OPT_MIN_SAS:
			rc = parse_u32(optarg, 0, 1U << 30, &v);
			o.min_sas = v;
			break;
		case OPT_MAX_IDLE:
			rc = parse_u32(optarg, 0, 1U << 30, &v);
			o.max_idle = v;
			break;
		case OPT_INTERVAL:
			rc = parse_interval(optarg, &interval_ms);
			break;
		}
		if (rc) {
			printf("IPSECMON UNKNOWN - bad value '%s' (thresholds are WARNING,CRITICAL)\n",
			       optarg);
			return CHECK_UNKNOWN;
		}
	}
	if (setup(&co, &p) || check_read(&p, argv + optind, argc - optind, &a)) {
		printf("IPSECMON UNKNOWN - cannot read the counters (exit %d of the CLI; see stderr)\n",
		       ipsm_exit_code());
		return CHECK_UNKNOWN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	usleep(interval_ms * 1000);
	if (check_read(&p, argv + optind, argc - optind, &b)) {
		snapshot_free(&a);
		printf("IPSECMON UNKNOWN - cannot read the counters\n");
		return CHECK_UNKNOWN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	state = check_eval(&o, &a, &b, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
			   line, sizeof(line));
	printf("%s\n", line);
	snapshot_free(&a);
	snapshot_free(&b);
	return state;
}

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "attach", cmd_attach }, { "detach", cmd_detach }, { "status", cmd_status },
	{ "stats", cmd_stats },	  { "run", cmd_run },	    { "watch", cmd_watch },
	{ "check", cmd_check },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return usage_error("%s", "which command?");
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		fputs(usage_text, stdout);
		return IPSM_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("ipsecmon-bpf %s\n", IPSM_VERSION);
		return IPSM_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			/* The command's getopt sees its own name as argv[0]. */
			return commands[i].fn(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", argv[1]);
}
