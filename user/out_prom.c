// SPDX-License-Identifier: GPL-2.0
/* Prometheus text exposition (format 0.0.4) of a snapshot; see README "Prometheus". */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "out_prom.h"
#include "seq_out.h"
#include "peers.h"
#include "tunnels.h"

#ifndef IPSM_VERSION
#define IPSM_VERSION "0.0.0"
#endif

/*
 * One family at a time. The HELP/TYPE header is written with the first
 * sample, so that a family whose every value is unknown vanishes entirely
 * instead of leaving a header without samples.
 */
struct pw {
	FILE *f;
	const char *name;
	const char *type;
	const char *help;
	bool header_done;
};

static void family(struct pw *w, const char *name, const char *type, const char *help)
{
	w->name = name;
	w->type = type;
	w->help = help;
	w->header_done = false;
}

/* Label values may hold anything an interface name can: escape \, " and newline. */
static void put_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '"')
			fputs("\\\"", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* name{k="v",...} value: labels are (key, value) pairs ending with NULL. */
static void vsample(struct pw *w, const char *value, va_list ap)
{
	const char *k, *v;
	bool first = true;

	if (!w->header_done) {
		/* Help texts are ours: no backslash or newline to escape. */
		fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", w->name, w->help, w->name, w->type);
		w->header_done = true;
	}
	fputs(w->name, w->f);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		fprintf(w->f, "%s%s=\"", first ? "{" : ",", k);
		put_label_value(w->f, v);
		fputc('"', w->f);
		first = false;
	}
	fprintf(w->f, "%s %s\n", first ? "" : "}", value);
}

static void sample(struct pw *w, __u64 value, ...)
{
	char buf[24];
	va_list ap;

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
	va_start(ap, value);
	vsample(w, buf, ap);
	va_end(ap);
}

static void sample_str(struct pw *w, const char *value, ...)
{
	va_list ap;

	va_start(ap, value);
	vsample(w, value, ap);
	va_end(ap);
}

/*
 * Traffic and IKE counters sum over the snapshot's interfaces: one label
 * value naming all of them ("eth0,eth1"), not one series per interface.
 */
static char *iface_label(const struct ipsm_snapshot *s)
{
	size_t i, len = 1;
	char *l;

	for (i = 0; i < s->n_ifaces; i++)
		len += strnlen(s->ifaces[i].name, IPSM_IFNAMSIZ) + 1;
	l = calloc(1, len);
	if (!l)
		return NULL;
	for (i = 0; i < s->n_ifaces; i++) {
		if (i)
			strcat(l, ",");
		strncat(l, s->ifaces[i].name, IPSM_IFNAMSIZ);
	}
	return l;
}

static void render_meta(struct pw *w, const struct ipsm_snapshot *s)
{
	char ts[32];
	size_t i;
	int h;

	family(w, "ipsecmon_build_info", "gauge", "ipsecmon-bpf version; always 1.");
	sample(w, 1, "version", IPSM_VERSION, NULL);
	family(w, "ipsecmon_snapshot_timestamp_seconds", "gauge",
	       "When the maps were read (Unix time).");
	snprintf(ts, sizeof(ts), "%lld.%03ld", (long long)s->time.tv_sec,
		 s->time.tv_nsec / 1000000);
	sample_str(w, ts, NULL);
	family(w, "ipsecmon_interface_hook_live", "gauge",
	       "1 while a hook attached by ipsecmon-bpf is still in place with its program, else 0.");
	for (i = 0; i < s->n_ifaces; i++)
		for (h = 0; h < IPSM_HOOK_MAX; h++)
			if (s->ifaces[i].hooks & (1U << h))
				sample(w, !!(s->ifaces[i].hooks_live & (1U << h)), "interface",
				       s->ifaces[i].name, "hook", ipsm_hook_name(h), NULL);
}

static void render_traffic(struct pw *w, const struct ipsm_snapshot *s, const char *ifl)
{
	int dir, af, cls, pass;

	static const char *const fam[2][2] = {
		{ "ipsecmon_traffic_packets_total",
		  "Packets seen on the interfaces, by direction, class and family." },
		{ "ipsecmon_traffic_bytes_total",
		  "IP bytes (outer IP header included, L2 excluded) seen on the interfaces." },
	};

	for (pass = 0; pass < 2; pass++) {
		family(w, fam[pass][0], "counter", fam[pass][1]);
		for (dir = 0; dir < IPSM_DIR_MAX; dir++)
			for (cls = 0; cls < IPSM_CLASS_MAX; cls++)
				for (af = 0; af < IPSM_AF_MAX; af++) {
					const struct ipsm_ctr *c = &s->traffic[dir][af][cls];

					sample(w, pass ? c->bytes : c->packets, "interface", ifl,
					       "direction", ipsm_dir_name(dir), "class",
					       ipsm_class_name(cls), "family", ipsm_af_name(af),
					       NULL);
				}
	}
}

static void render_ike(struct pw *w, const struct ipsm_snapshot *s, const char *ifl)
{
	static const char *const kinds[2] = { "request", "response" };
	__u64 unparsed;
	int dir, x, r;

	family(w, "ipsecmon_ike_messages_total", "counter",
	       "IKE messages by version, exchange, direction and kind (IKEv1 has no request/response flag: kind=\"message\").");
	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		for (x = 0; x < IPSM_IKE_EXCH_MAX; x++) {
			const __u64 *v1 = s->ike[dir][IPSM_IKE_V1][x];
			const __u64 *v2 = s->ike[dir][IPSM_IKE_V2][x];

			for (r = 0; r < 2; r++)
				sample(w, v2[r], "interface", ifl, "version", "2", "exchange",
				       ipsm_ike_exch_name(IPSM_IKE_V2, x), "direction",
				       ipsm_dir_name(dir), "kind", kinds[r], NULL);
			sample(w, v1[0] + v1[1], "interface", ifl, "version", "1", "exchange",
			       ipsm_ike_exch_name(IPSM_IKE_V1, x), "direction", ipsm_dir_name(dir),
			       "kind", "message", NULL);
		}
	family(w, "ipsecmon_ike_unparsed_packets_total", "counter",
	       "IKE-port packets too short for an IKE header or with an unknown version.");
	for (dir = 0; dir < IPSM_DIR_MAX; dir++) {
		unparsed = 0;
		for (x = 0; x < IPSM_IKE_EXCH_MAX; x++)
			unparsed += s->ike[dir][IPSM_IKE_UNKNOWN][x][0] +
				    s->ike[dir][IPSM_IKE_UNKNOWN][x][1];
		sample(w, unparsed, "interface", ifl, "direction", ipsm_dir_name(dir), NULL);
	}
	family(w, "ipsecmon_ike_retransmits_total", "counter",
	       "IKEv2 messages seen again: same SPIs, message ID, flags, length, peer and direction.");
	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		sample(w, s->ike_retransmits[dir], "interface", ifl, "direction",
		       ipsm_dir_name(dir), NULL);
	family(w, "ipsecmon_ike_notify_total", "counter",
	       "Error and cookie notifies in IKEv2 IKE_SA_INIT responses, retransmits not counted.");
	for (x = 0; x < IPSM_NTF_MAX; x++)
		sample(w, s->ike_notify[x], "interface", ifl, "notify", ipsm_ike_notify_name(x),
		       NULL);
	if (s->have_ike_sas) {
		family(w, "ipsecmon_ike_half_open", "gauge",
		       "IKEv2 SAs answered in the last 15 minutes with no IKE_AUTH within --half-open-after.");
		sample(w, s->ike_sas.half_open, NULL);
		family(w, "ipsecmon_ike_awaiting_auth", "gauge",
		       "IKEv2 SAs answered less than --half-open-after ago, no IKE_AUTH yet.");
		sample(w, s->ike_sas.awaiting_auth, NULL);
		family(w, "ipsecmon_ike_sas_tracked", "gauge",
		       "Entries of the IKEv2 SA table (bounded: the oldest go first when full).");
		sample(w, s->ike_sas.tracked, NULL);
	}
}

/* The IPSECMON counters: a series exactly where the JSON has a number. */
static void render_ipsecmon(struct pw *w, const struct ipsm_snapshot *s)
{
	const struct ipsm_counter_def *d;
	const char *const *l;

	family(w, "ipsecmon_correlation_info", "gauge",
	       "Who decides bad SPIs: kernel (XDP SA lookup), monitor (SA table kept by run), or inactive.");
	sample(w, 1, "mode", ipsm_correlation_name(s->correlation), NULL);
	ipsm_for_each_counter(d)
	{
		if (!ipsm_counter_known(s, d))
			continue;
		/* Labelled counters of one family follow each other in the table. */
		if (!w->name || strcmp(w->name, d->prom))
			family(w, d->prom, d->type == IPSM_CTR_GAUGE ? "gauge" : "counter",
			       d->help);
		l = d->prom_labels;
		if (l[0])
			sample(w, ipsm_counter_value(s, d), l[0], l[1], l[2], l[3], NULL);
		else
			sample(w, ipsm_counter_value(s, d), NULL);
	}
}

/* Busiest first; equal counts keep the snapshot's order, so series stay put. */
static int sa_busier(const void *a, const void *b)
{
	const struct ipsm_sa *x = *(const struct ipsm_sa *const *)a;
	const struct ipsm_sa *y = *(const struct ipsm_sa *const *)b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return x < y ? -1 : x > y;
}

struct sa_labels {
	char spi[16];
	char src[64];
	char dst[64];
};

static void sa_sample(struct pw *w, __u64 v, const struct ipsm_sa *sa, const struct sa_labels *l)
{
	sample(w, v, "spi", l->spi, "proto", ipsm_proto_name(sa->key.proto), "direction",
	       ipsm_dir_name(sa->key.dir), "src", l->src, "dst", l->dst, NULL);
}

static int render_sas(struct pw *w, const struct ipsm_snapshot *s)
{
	/* seq: sequence analysis, only for SAs whose packets one CPU saw. */
	static const struct {
		const char *name;
		const char *help;
		size_t off;
		bool seq;
	} fams[] = {
		{ "ipsecmon_sa_packets_total", "Packets of an SA seen on the wire.",
		  offsetof(struct ipsm_sa, packets) },
		{ "ipsecmon_sa_bytes_total", "IP bytes of an SA seen on the wire.",
		  offsetof(struct ipsm_sa, bytes) },
		{ "ipsecmon_sa_seq_gaps_total",
		  "Sequence numbers skipped on the wire; minus the reordered ones, packets lost before us.",
		  offsetof(struct ipsm_sa, seq_gaps), true },
		{ "ipsecmon_sa_seq_reordered_total",
		  "Skipped sequence numbers that arrived later within the 64-number window.",
		  offsetof(struct ipsm_sa, seq_filled), true },
		{ "ipsecmon_sa_seq_replays_total",
		  "Sequence numbers seen again within the 64-number window.",
		  offsetof(struct ipsm_sa, seq_replays), true },
		{ "ipsecmon_sa_seq_late_total", "Packets older than the 64-number window.",
		  offsetof(struct ipsm_sa, seq_late), true },
	};
	const struct ipsm_sa **top = NULL;
	struct sa_labels *lab = NULL;
	size_t i, n = 0, f;
	__u64 seq;

	if (s->n_sas) {
		top = calloc(s->n_sas, sizeof(*top));
		if (!top)
			return -ENOMEM;
		for (i = 0; i < s->n_sas; i++)
			top[i] = &s->sas[i];
		qsort(top, s->n_sas, sizeof(*top), sa_busier);
		n = s->n_sas < IPSM_PROM_MAX_SA_SERIES ? s->n_sas : IPSM_PROM_MAX_SA_SERIES;
		lab = calloc(n, sizeof(*lab));
		if (!lab) {
			free(top);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++) {
		/* The SA's own source where the kernel has it: a packet's can be spoofed. */
		ipsm_spi_str(top[i]->key.spi, lab[i].spi, sizeof(lab[i].spi));
		ipsm_addr_str(top[i]->key.family, top[i]->known ? top[i]->x.saddr : top[i]->saddr,
			      lab[i].src, sizeof(lab[i].src));
		ipsm_addr_str(top[i]->key.family, top[i]->key.daddr, lab[i].dst,
			      sizeof(lab[i].dst));
	}
	for (f = 0; f < sizeof(fams) / sizeof(fams[0]); f++) {
		family(w, fams[f].name, "counter", fams[f].help);
		for (i = 0; i < n; i++)
			if (!fams[f].seq || top[i]->seq_exact)
				sa_sample(w, *(const __u64 *)((const char *)top[i] + fams[f].off),
					  top[i], &lab[i]);
	}
	family(w, "ipsecmon_sa_seq_out", "gauge",
	       "The last sequence number an outbound SA sent, as the kernel counts it.");
	for (i = 0; i < n; i++)
		if (sa_seq_out(top[i], &seq))
			sa_sample(w, seq, top[i], &lab[i]);
	family(w, "ipsecmon_sa_seq_exhaustion_seconds", "gauge",
	       "Seconds until an outbound SA without ESN runs out of sequence numbers at its rate.");
	for (i = 0; i < n; i++)
		if (top[i]->have_seq_exhaustion)
			sa_sample(w, (__u64)top[i]->seq_exhaustion_s, top[i], &lab[i]);
	family(w, "ipsecmon_sa_series_dropped", "gauge",
	       "SAs left without ipsecmon_sa_* series: only the 100 busiest by packets get them.");
	sample(w, s->n_sas - n, NULL);
	family(w, "ipsecmon_datapath_sa_rows", "gauge", "Rows in the SA table.");
	sample(w, s->n_sas, NULL);
	family(w, "ipsecmon_datapath_max_sas", "gauge", "Size of the SA table (attach --max-sas).");
	sample(w, s->max_sas, NULL);
	free(lab);
	free(top);
	return 0;
}

static void render_bad_spis(struct pw *w, const struct ipsm_snapshot *s)
{
	size_t i, n, pass;
	char spi[16], src[64], dst[64];

	/* Already sorted by packets, most first. */
	n = s->n_bad_spis < IPSM_PROM_MAX_BAD_SPI_SERIES ? s->n_bad_spis :
							   IPSM_PROM_MAX_BAD_SPI_SERIES;
	static const char *const fam[2][2] = {
		{ "ipsecmon_bad_spi_packets_by_spi_total",
		  "Packets of a recent bad SPI (the 20 busiest)." },
		{ "ipsecmon_bad_spi_bytes_by_spi_total",
		  "IP bytes of a recent bad SPI (the 20 busiest)." },
	};

	for (pass = 0; pass < 2; pass++) {
		family(w, fam[pass][0], "counter", fam[pass][1]);
		for (i = 0; i < n; i++) {
			const struct ipsm_bad_spi_row *b = &s->bad_spis[i];

			ipsm_spi_str(b->spi, spi, sizeof(spi));
			ipsm_addr_str(b->family, b->saddr, src, sizeof(src));
			ipsm_addr_str(b->family, b->daddr, dst, sizeof(dst));
			sample(w, pass ? b->bytes : b->packets, "spi", spi, "proto",
			       ipsm_proto_name(b->proto), "src", src, "dst", dst, NULL);
		}
	}
	family(w, "ipsecmon_bad_spi_series_dropped", "gauge",
	       "Recent bad SPIs left without series: only the 20 busiest get them.");
	sample(w, s->n_bad_spis - n, NULL);
}

struct tunnel_labels {
	char local[IPSM_ADDR_STRLEN];
	char remote[IPSM_ADDR_STRLEN];
};

/*
 * Tunnels: the most troubled first, then the busiest, at most
 * IPSM_PROM_MAX_TUNNEL_SERIES. Their packet and byte sums are gauges: they
 * fall when an SA of the pair goes (a rekey), as no counter may.
 */
static int render_tunnels(struct pw *w, const struct ipsm_snapshot *s)
{
	static const enum ipsm_tunnel_state states[] = { IPSM_TUN_UP, IPSM_TUN_IDLE,
							 IPSM_TUN_ONE_WAY, IPSM_TUN_DOWN };
	struct tunnel_labels *lab = NULL;
	struct ipsm_tunnel *v = NULL;
	size_t i, n, k;
	int dir;

	n = s->n_tunnels < IPSM_PROM_MAX_TUNNEL_SERIES ? s->n_tunnels : IPSM_PROM_MAX_TUNNEL_SERIES;
	if (n) {
		v = tunnels_by_trouble(s);
		lab = calloc(n, sizeof(*lab));
		if (!v || !lab) {
			free(v);
			free(lab);
			return -ENOMEM;
		}
	}
	for (i = 0; i < n; i++)
		tunnel_addr_strs(&v[i], lab[i].local, lab[i].remote);
	family(w, "ipsecmon_tunnel_state", "gauge",
	       "1 for a tunnel's state (up, idle, one_way, down), 0 for the others.");
	for (i = 0; i < n; i++)
		for (k = 0; k < sizeof(states) / sizeof(states[0]); k++)
			sample(w, v[i].state == states[k], "local", lab[i].local, "remote",
			       lab[i].remote, "state", ipsm_tunnel_state_name(states[k]), NULL);
	family(w, "ipsecmon_tunnel_sas", "gauge", "The kernel's SAs between a gateway pair.");
	for (i = 0; i < n; i++)
		sample(w, v[i].sas, "local", lab[i].local, "remote", lab[i].remote, NULL);
	for (k = 0; k < 2; k++) {
		family(w, k ? "ipsecmon_tunnel_bytes" : "ipsecmon_tunnel_packets", "gauge",
		       k ? "Bytes of a gateway pair's SAs now (JSON tunnels[].rx/tx.from says whose count)." :
			   "Packets of a gateway pair's SAs now (falls when an SA goes).");
		for (i = 0; i < n; i++)
			for (dir = 0; dir < IPSM_DIR_MAX; dir++) {
				const struct ipsm_ctr *c = dir == IPSM_DIR_RX ? &v[i].rx : &v[i].tx;

				sample(w, k ? c->bytes : c->packets, "local", lab[i].local,
				       "remote", lab[i].remote, "direction", ipsm_dir_name(dir),
				       NULL);
			}
	}
	family(w, "ipsecmon_tunnel_series_dropped", "gauge",
	       "Tunnels left without ipsecmon_tunnel_* series: the most troubled and busiest get them.");
	sample(w, s->n_tunnels - n, NULL);
	free(lab);
	free(v);
	return 0;
}

/*
 * Peers: IPSM_PROM_MAX_PEER_SERIES of them, the busiest and the most
 * troubled. Gauges: a peer's sums follow its SAs and its slots, which go.
 */
static int render_peers(struct pw *w, const struct ipsm_snapshot *s)
{
	bool *pick = calloc(s->n_peers ? s->n_peers : 1, sizeof(*pick));
	char(*addr)[64] = calloc(s->n_peers ? s->n_peers : 1, sizeof(*addr));
	long shown = pick && addr ? peers_pick(s, IPSM_PROM_MAX_PEER_SERIES, pick) : -ENOMEM;
	size_t i;
	int dir, k;

	if (shown < 0) {
		free(pick);
		free(addr);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_peers; i++)
		ipsm_addr_str(s->peers[i].family, s->peers[i].addr, addr[i], sizeof(addr[i]));
	family(w, "ipsecmon_peer_sas", "gauge", "The kernel's SAs with a remote gateway.");
	for (i = 0; i < s->n_peers; i++)
		if (pick[i])
			sample(w, s->peers[i].sas, "peer", addr[i], NULL);
	family(w, "ipsecmon_peer_bad_spi_packets", "gauge",
	       "Packets of a remote address's recent bad SPIs.");
	for (i = 0; i < s->n_peers; i++)
		if (pick[i])
			sample(w, s->peers[i].bad_spi_packets, "peer", addr[i], NULL);
	for (k = 0; k < 2; k++) {
		family(w, k ? "ipsecmon_peer_ike_messages" : "ipsecmon_peer_bytes", "gauge",
		       k ? "IKE messages from (rx) and to (tx) a peer address." :
			   "Bytes of the tunnels to a remote gateway, by direction.");
		for (i = 0; i < s->n_peers; i++)
			for (dir = 0; pick[i] && dir < IPSM_DIR_MAX; dir++) {
				const struct ipsm_peer *p = &s->peers[i];

				sample(w,
				       k ? p->ike_msgs[dir] :
					   (dir == IPSM_DIR_RX ? p->rx.bytes : p->tx.bytes),
				       "peer", addr[i], "direction", ipsm_dir_name(dir), NULL);
			}
	}
	family(w, "ipsecmon_peer_series_dropped", "gauge",
	       "Peers left without ipsecmon_peer_* series: the busiest and most troubled get them.");
	sample(w, s->n_peers - (size_t)shown, NULL);
	free(addr);
	free(pick);
	return 0;
}

static void render_datapath(struct pw *w, const struct ipsm_snapshot *s)
{
	static const struct {
		const char *name;
		const char *help;
		size_t off;
	} fams[] = {
		{ "ipsecmon_datapath_sa_inserts_total", "SA rows created by the datapath.",
		  offsetof(struct ipsm_dp, sa_inserts) },
		{ "ipsecmon_datapath_untracked_packets_total",
		  "ESP/AH packets counted in no SA row (insert budget spent or table full).",
		  offsetof(struct ipsm_dp, untracked_packets) },
		{ "ipsecmon_datapath_untracked_bytes_total", "IP bytes of the untracked packets.",
		  offsetof(struct ipsm_dp, untracked_bytes) },
		{ "ipsecmon_datapath_sa_table_full_total",
		  "SA row inserts refused because the SA table was full.",
		  offsetof(struct ipsm_dp, table_full) },
		{ "ipsecmon_datapath_bad_spi_evicted_total",
		  "Bad-SPI slots taken over by another SPI.",
		  offsetof(struct ipsm_dp, bad_spi_evicted) },
		{ "ipsecmon_datapath_ike_peer_evicted_total",
		  "IKE peer slots taken over by another address (more peers than slots).",
		  offsetof(struct ipsm_dp, ike_peer_evicted) },
		{ "ipsecmon_datapath_reserved_spi_packets_total",
		  "ESP/AH packets with a reserved SPI (1-255): no SA can have one.",
		  offsetof(struct ipsm_dp, reserved_spi_packets) },
		{ "ipsecmon_datapath_kernel_checks_skipped_total",
		  "Packets of SPIs without a row not checked with the kernel's SA lookup "
		  "(4096 per second per CPU spent): a random-SPI flood.",
		  offsetof(struct ipsm_dp, kernel_checks_skipped) },
	};
	unsigned int i;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		family(w, fams[i].name, "counter", fams[i].help);
		sample(w, *(const __u64 *)((const char *)&s->dp + fams[i].off), NULL);
	}
	if (!s->have_xfrm_stat)
		return;
	family(w, "ipsecmon_kernel_xfrm_stat_total", "counter",
	       "/proc/net/xfrm_stat of the namespace, by the kernel's counter names.");
	for (i = 0; i < s->xfrm_stat.n; i++)
		sample(w, s->xfrm_stat.e[i].value, "counter", s->xfrm_stat.e[i].name, NULL);
}

int prom_render(const struct ipsm_snapshot *s, char **text, size_t *len)
{
	struct pw w = {};
	char *buf = NULL, *ifl;
	size_t size = 0;
	int err;

	ifl = iface_label(s);
	if (!ifl)
		return -ENOMEM;
	w.f = open_memstream(&buf, &size);
	if (!w.f) {
		err = -errno;
		goto out_ifl;
	}
	render_meta(&w, s);
	render_traffic(&w, s, ifl);
	render_ike(&w, s, ifl);
	render_ipsecmon(&w, s);
	err = render_sas(&w, s);
	if (!err)
		err = render_tunnels(&w, s);
	if (!err)
		err = render_peers(&w, s);
	if (!err) {
		render_bad_spis(&w, s);
		render_datapath(&w, s);
	}
	/* A memstream fails only for memory; fclose reports it too. */
	if (ferror(w.f) && !err)
		err = -ENOMEM;
	if (fclose(w.f) && !err)
		err = -ENOMEM;
	if (err) {
		free(buf);
		goto out_ifl;
	}
	*text = buf;
	*len = size;
out_ifl:
	free(ifl);
	return err;
}
