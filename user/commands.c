// SPDX-License-Identifier: GPL-2.0
/*
 * What each command does once its options are parsed and the namespace and
 * pins are set up: the glue between the command line and the modules.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attach.h"
#include "check.h"
#include "cli.h"
#include "commands.h"
#include "counters.h"
#include "http.h"
#include "log.h"
#include "loop.h"
#include "monitor.h"
#include "netns.h"
#include "out_json.h"
#include "out_prom.h"
#include "out_text.h"
#include "stream.h"
#include "watch.h"

static int exit_code(int err)
{
	return err ? ipsm_exit_code() : IPSM_EXIT_OK;
}

static int do_attach(struct cli_args *a)
{
	return exit_code(attach_all(&a->paths, a->ifnames, a->n_ifnames, &a->attach));
}

/* The pins of namespaces that are gone: nothing to detach, only to unpin. */
static int detach_stale(struct cli_args *a)
{
	int rc = IPSM_EXIT_OK, err;
	char **dirs;
	size_t n, k;

	err = pins_stale_namespaces(&a->paths, &dirs, &n);
	if (err) {
		ipsm_error(IPSM_EXIT_FAIL, err, "cannot list %s: %s", a->paths.base,
			   strerror(-err));
		return ipsm_exit_code();
	}
	for (k = 0; k < n; k++) {
		err = pins_remove_ns_dir(dirs[k]);
		if (err) {
			ipsm_error(IPSM_EXIT_FAIL, err, "cannot remove %s: %s", dirs[k],
				   strerror(-err));
			rc = ipsm_exit_code();
		} else {
			pr_info("removed %s", dirs[k]);
		}
		free(dirs[k]);
	}
	free(dirs);
	return rc;
}

static int detach_locked(struct cli_args *a);

static int do_detach(struct cli_args *a)
{
	int lock = attach_lock(&a->paths), rc;

	if (lock < 0)
		return ipsm_exit_code();
	rc = detach_locked(a);
	close(lock);
	return rc;
}

static int detach_locked(struct cli_args *a)
{
	__u32 *ids = NULL, idx;
	int i, rc = IPSM_EXIT_OK;
	size_t n, k;

	if (a->stale && !a->all)
		return detach_stale(a);
	if (a->all) {
		if (pins_list_ifaces(&a->paths, &ids, &n) || !n) {
			free(ids);
			ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT,
				   "nothing attached in this network namespace");
			return ipsm_exit_code();
		}
		for (k = 0; k < n; k++)
			if (ipsm_detach(&a->paths, ids[k]))
				rc = ipsm_exit_code();
		free(ids);
		return rc;
	}
	/* Resolve every name before touching anything. */
	for (i = 0; i < a->n_ifnames; i++)
		if (attach_find_pinned(&a->paths, a->ifnames[i], &idx)) {
			ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT, "%s is not attached",
				   a->ifnames[i]);
			return ipsm_exit_code();
		}
	for (i = 0; i < a->n_ifnames; i++)
		if (attach_find_pinned(&a->paths, a->ifnames[i], &idx) ||
		    ipsm_detach(&a->paths, idx))
			rc = ipsm_exit_code();
	return rc;
}

static int do_status(struct cli_args *a)
{
	struct ipsm_iface *ifs = NULL;
	char **stale = NULL;
	__u32 *ids = NULL;
	size_t n = 0, k, m = 0, n_stale = 0;
	__u64 nsid = 0;
	json_t *doc;
	int err;

	netns_id(&nsid);
	err = pins_present(&a->paths) ? pins_list_ifaces(&a->paths, &ids, &n) : 0;
	if (err) {
		ipsm_error(IPSM_EXIT_FAIL, err, "cannot list %s: %s", a->paths.ns, strerror(-err));
		return ipsm_exit_code();
	}
	ifs = calloc(n ? n : 1, sizeof(*ifs));
	if (!ifs) {
		free(ids);
		return IPSM_EXIT_FAIL;
	}
	for (k = 0; k < n; k++) {
		if (ipsm_iface_read(&a->paths, ids[k], &ifs[m]))
			pr_warn("cannot read the state pinned for ifindex %u", ids[k]);
		else
			m++;
	}
	if (pins_stale_namespaces(&a->paths, &stale, &n_stale))
		pr_warn("cannot look for stale pins under %s", a->paths.base);
	if (a->json) {
		doc = json_status(ifs, m, nsid, (const char *const *)stale, n_stale);
		err = json_write(stdout, doc, a->pretty);
		json_decref(doc);
	} else {
		text_status(stdout, ifs, m);
		for (k = 0; k < n_stale; k++)
			printf("stale: %s (its network namespace is gone; detach --stale removes "
			       "it)\n",
			       stale[k]);
	}
	for (k = 0; k < n_stale; k++)
		free(stale[k]);
	free(stale);
	free(ids);
	free(ifs);
	if (err)
		return IPSM_EXIT_FAIL;
	return m ? IPSM_EXIT_OK : IPSM_EXIT_NOT_ATTACHED;
}

static int do_stats(struct cli_args *a)
{
	struct snapshot_req req = { .ifnames = a->ifnames,
				    .n_ifnames = a->n_ifnames,
				    .half_open_after_s = a->half_open_after_s };
	struct ipsm_snapshot s;
	json_t *doc;
	int err;

	if (snapshot_take(&a->paths, &req, &s))
		return ipsm_exit_code();
	if (a->json) {
		doc = json_snapshot(&s);
		err = json_write(stdout, doc, a->pretty);
		json_decref(doc);
	} else {
		text_stats(stdout, &s);
		err = fflush(stdout) ? -EIO : 0;
	}
	snapshot_free(&s);
	return err ? IPSM_EXIT_FAIL : IPSM_EXIT_OK;
}

/* Every interval's snapshot, as the text the endpoint serves next. */
static void publish_prom(void *ctx, const struct ipsm_snapshot *s)
{
	size_t len;
	char *text;

	if (!prom_render(s, &text, &len))
		prom_server_publish(ctx, text, len);
}

static int do_run(struct cli_args *a)
{
	struct monitor_opts mo = { .ifnames = a->ifnames,
				   .n_ifnames = a->n_ifnames,
				   .interval_ms = a->interval_ms,
				   .output = a->output,
				   .gap_threshold = a->gap_threshold,
				   .seq_warn_s = a->seq_warn_s,
				   .one_way_after = a->one_way_after,
				   .half_open_after_s = a->half_open_after_s,
				   .sas_all = a->sas_all,
				   .learned_idle_ns = a->learned_idle_s * 1000000000ULL };
	struct prom_server *srv = NULL;
	int lock, err;

	/* Before anything is touched: a second monitor changes nothing. */
	lock = monitor_lock(&a->paths);
	if (lock < 0)
		return ipsm_exit_code();
	/* Interfaces attached before keep their hooks unless --hooks says otherwise. */
	a->attach.keep_hooks = !a->hooks_given;
	if (attach_all(&a->paths, a->ifnames, a->n_ifnames, &a->attach)) {
		close(lock);
		return ipsm_exit_code();
	}
	/* Before the HTTP thread exists (see loop_block_signals()). */
	loop_block_signals();
	/* In the namespace already: the endpoint listens there. */
	if (a->prometheus) {
		if (prom_server_start(a->prometheus, &srv)) {
			close(lock);
			return ipsm_exit_code();
		}
		mo.publish = publish_prom;
		mo.publish_ctx = srv;
	}
	/* A reader that goes away ends us through EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	err = monitor_run(&a->paths, &mo);
	prom_server_stop(srv);
	close(lock);
	return stream_reader_gone(err) ? IPSM_EXIT_OK : exit_code(err);
}

static int do_watch(struct cli_args *a)
{
	struct watch_opts wo = { .ifnames = a->ifnames,
				 .n_ifnames = a->n_ifnames,
				 .interval_ms = a->interval_ms,
				 .json = a->json,
				 .output = a->output,
				 .gap_threshold = a->gap_threshold,
				 .seq_warn_s = a->seq_warn_s,
				 .one_way_after = a->one_way_after,
				 .half_open_after_s = a->half_open_after_s,
				 .sas_all = a->sas_all };
	struct snapshot_req req = { .ifnames = a->ifnames, .n_ifnames = a->n_ifnames };
	struct ipsm_snapshot s;
	int err;

	/* Refuse at once, before a screen is drawn, if there is nothing to watch. */
	if (snapshot_take(&a->paths, &req, &s))
		return ipsm_exit_code();
	snapshot_free(&s);
	signal(SIGPIPE, SIG_IGN);
	err = watch_run(&a->paths, &wo);
	return stream_reader_gone(err) ? IPSM_EXIT_OK : exit_code(err);
}

static int do_check(struct cli_args *a)
{
	return check_run(&a->paths, a->ifnames, a->n_ifnames, &a->check, a->interval_ms);
}

static int do_counters(struct cli_args *a)
{
	const struct ipsm_counter_def *d;
	json_t *arr, *e;
	int err, i;

	if (!a->json) {
		printf("%-29s %-29s %-7s %-17s %s\n", "COUNTER", "JSON", "TYPE", "KNOWN WHEN",
		       "PROMETHEUS");
		ipsm_for_each_counter(d)
		{
			printf("%-29s %-29s %-7s %-17s %s", d->label, d->json,
			       d->type == IPSM_CTR_GAUGE ? "gauge" : "counter",
			       ipsm_avail_name(d->avail), d->prom);
			for (i = 0; i < 4 && d->prom_labels[i]; i += 2)
				printf("%s%s=\"%s\"", i ? "," : "{", d->prom_labels[i],
				       d->prom_labels[i + 1]);
			printf("%s\n", d->prom_labels[0] ? "}" : "");
		}
		return fflush(stdout) ? IPSM_EXIT_FAIL : IPSM_EXIT_OK;
	}
	arr = json_array();
	ipsm_for_each_counter(d)
	{
		e = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "json", d->json, "label", d->label,
			      "type", d->type == IPSM_CTR_GAUGE ? "gauge" : "counter", "unit",
			      d->unit == IPSM_UNIT_BYTES ? "bytes" : "count", "known_when",
			      ipsm_avail_name(d->avail), "prometheus", d->prom, "help", d->help);
		if (d->prom_labels[0]) {
			json_t *l = json_object();

			/* One or two label pairs. */
			for (i = 0; i < 4 && d->prom_labels[i]; i += 2)
				json_object_set_new(l, d->prom_labels[i],
						    json_string(d->prom_labels[i + 1]));
			json_object_set_new(e, "prometheus_labels", l);
		}
		if (d->check_opt)
			json_object_set_new(e, "check_option", json_sprintf("--%s", d->check_opt));
		json_array_append_new(arr, e);
	}
	e = json_pack("{s:s,s:o}", "schema", IPSM_SCHEMA, "counters", arr);
	err = json_write(stdout, e, a->pretty);
	json_decref(e);
	return err ? IPSM_EXIT_FAIL : IPSM_EXIT_OK;
}

static const struct cli_opt *const attach_groups[] = { cli_attach_opts, cli_force_opts, NULL };
static const struct cli_opt *const detach_groups[] = { cli_all_opts, NULL };
static const struct cli_opt *const json_groups[] = { cli_json_opts, cli_pretty_opts, NULL };
static const struct cli_opt *const stats_groups[] = { cli_json_opts, cli_pretty_opts, cli_ike_opts,
						      NULL };
static const struct cli_opt *const run_groups[] = { cli_stream_opts,  cli_ike_opts,
						    cli_monitor_opts, cli_prometheus_opts,
						    cli_attach_opts,  NULL };
static const struct cli_opt *const watch_groups[] = { cli_json_lines_opts, cli_stream_opts,
						      cli_ike_opts, NULL };
static const struct cli_opt *const check_groups[] = { cli_check_opts, NULL };

const struct cli_cmd cmd_attach = {
	.name = "attach",
	.synopsis = "IFACE... [OPTIONS]",
	.summary = "load, attach and pin, then return",
	.description =
		"Load the datapath for each interface, attach it and pin programs and maps\n"
		"under the pin directory, then return; counters keep running. Attaching again\n"
		"is harmless and adds hooks that are missing.",
	.groups = attach_groups,
	.positional = CLI_IFACES_REQUIRED,
	.run = do_attach,
};

const struct cli_cmd cmd_detach = {
	.name = "detach",
	.synopsis = "IFACE... | --all | --stale",
	.summary = "remove exactly what attach made",
	.description =
		"Remove our programs from the interfaces and unpin their maps. Only what\n"
		"attach made goes: a clsact qdisc is deleted only if attach created it and no\n"
		"other filter uses it; another XDP program put in our place stays. --stale\n"
		"removes the pins of network namespaces deleted without detach.",
	.groups = detach_groups,
	.positional = CLI_IFACES_OR_ALL,
	.run = do_detach,
};

const struct cli_cmd cmd_status = {
	.name = "status",
	.synopsis = "[--json [--pretty]]",
	.summary = "what is attached in this namespace",
	.description = "List the interfaces attached in this network namespace, their\n"
		       "hooks, and whether those hooks still run our programs.\n"
		       "Exit code 7 when nothing is attached.",
	.groups = json_groups,
	.positional = CLI_NONE,
	.run = do_status,
};

const struct cli_cmd cmd_stats = {
	.name = "stats",
	.synopsis = "[--json [--pretty]] [IFACE...]",
	.summary = "one snapshot of the counters",
	.description =
		"Print one snapshot: traffic per class and direction, IKE exchanges, the SAs\n"
		"seen on the wire. Traffic and IKE counters cover the named interfaces (all\n"
		"attached ones by default); SA rows cover the namespace.",
	.groups = stats_groups,
	.positional = CLI_IFACES_ANY,
	.run = do_stats,
};

const struct cli_cmd cmd_run = {
	.name = "run",
	.synopsis = "IFACE... [OPTIONS]",
	.summary = "the monitor: XFRM correlation, JSON lines",
	.description =
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
		"and \"rate\" (per second) from the second line on.",
	.groups = run_groups,
	.positional = CLI_IFACES_REQUIRED,
	.run = do_run,
};

const struct cli_cmd cmd_watch = {
	.name = "watch",
	.synopsis = "[--json] [--interval SEC] [--output FILE] [IFACE...]",
	.summary = "the live IPSECMON window, or JSON lines",
	.description =
		"Show the counters every interval: on a terminal, the IPSECMON window (the\n"
		"counters, traffic per class with rates, the busiest SAs, bad SPIs, IKE\n"
		"exchanges) with keys q (quit), + and - (double or halve the interval) and r\n"
		"(refresh now); elsewhere plain-text snapshots. watch only reads: the\n"
		"counters that need correlation come from a running monitor (run) or the\n"
		"kernel's XDP SA lookup.",
	.groups = watch_groups,
	.positional = CLI_IFACES_ANY,
	.run = do_watch,
};

const struct cli_cmd cmd_check = {
	.name = "check",
	.synopsis = "[THRESHOLDS] [--interval SEC] [IFACE...]",
	.summary = "monitoring-plugin check (exit 0/1/2/3)",
	.description =
		"A monitoring plugin (Nagios, Icinga): read the counters twice, --interval\n"
		"seconds apart, and print one status line with perfdata. Exit 0 OK,\n"
		"1 WARNING, 2 CRITICAL, 3 UNKNOWN (also for bad options and when nothing is\n"
		"attached, or a threshold asks for a counter that is unknown).\n"
		"Thresholds are WARNING,CRITICAL.",
	.groups = check_groups,
	.positional = CLI_IFACES_ANY,
	.plugin = true,
	.run = do_check,
};

const struct cli_cmd cmd_counters = {
	.name = "counters",
	.synopsis = "[--json [--pretty]]",
	.summary = "the IPSECMON counters: names, types, when each is known",
	.description =
		"List the IPSECMON counters as every output names them: the window's label,\n"
		"the JSON member of \"ipsecmon\", gauge or counter, when the value is known\n"
		"(otherwise JSON null, no Prometheus series, \"-\"), and the Prometheus\n"
		"family. Needs no privileges and reads nothing.",
	.groups = json_groups,
	.positional = CLI_NONE,
	.no_setup = true,
	.run = do_counters,
};
