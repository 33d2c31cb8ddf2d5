// SPDX-License-Identifier: GPL-2.0
/*
 * The live IPSECMON window for watch: one screen, 80x24, redrawn in place
 * with ANSI escapes (no curses: it only clears and writes lines).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters.h"
#include "out_term.h"
#include "seq_out.h"
#include "peers.h"
#include "tunnels.h"

/* Rates per second of a counter between two snapshots. */
static double per_s(__u64 cur, __u64 prev, double seconds)
{
	if (seconds <= 0 || cur < prev)
		return 0;
	return (cur - prev) / seconds;
}

static void cell(char *buf, size_t len, bool have, __u64 v)
{
	if (have)
		snprintf(buf, len, "%llu", (unsigned long long)v);
	else
		snprintf(buf, len, "-");
}

/* Bytes with a unit, so that large totals fit their column. */
static void human(char *buf, size_t len, bool have, __u64 v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double d = v;
	int u = 0;

	if (!have) {
		snprintf(buf, len, "-");
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (u)
		snprintf(buf, len, "%.1f %s", d, unit[u]);
	else
		snprintf(buf, len, "%llu B", (unsigned long long)v);
}

/* A counter's cell: bytes with a unit, counts as they are, "-" if unknown. */
static void value(char *buf, size_t len, const struct ipsm_snapshot *s,
		  const struct ipsm_counter_def *d)
{
	bool have = ipsm_counter_known(s, d);
	__u64 v = ipsm_counter_value(s, d);

	if (d->unit == IPSM_UNIT_BYTES)
		human(buf, len, have, v);
	else
		cell(buf, len, have, v);
}

/* The counter the window shows at a row and column. */
static const struct ipsm_counter_def *term_at(int row, int col)
{
	const struct ipsm_counter_def *d;

	ipsm_for_each_counter(d) if (d->term_row == row && d->term_col == col) return d;
	return NULL;
}

/* The busiest SAs by packets in the interval (by total on the first screen). */
static void busiest(const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
		    const struct ipsm_sa **top, int n)
{
	__u64 best[8] = {};
	size_t i;
	int j, k;

	for (j = 0; j < n; j++)
		top[j] = NULL;
	for (i = 0; i < cur->n_sas; i++) {
		const struct ipsm_sa *sa = &cur->sas[i], *p = snapshot_find_sa(prev, &sa->key);
		__u64 score = sa->packets - (p && p->packets <= sa->packets ? p->packets : 0);

		if (!prev)
			score = sa->packets;
		for (j = 0; j < n; j++) {
			if (top[j] && score <= best[j])
				continue;
			for (k = n - 1; k > j; k--) {
				top[k] = top[k - 1];
				best[k] = best[k - 1];
			}
			top[j] = sa;
			best[j] = score;
			break;
		}
	}
}

/* A duration in its largest unit: "45 s", "17 min", "5.2 h", "12 d". */
static void duration_str(double s, char *buf, size_t len)
{
	if (s < 120)
		snprintf(buf, len, "%.0f s", s);
	else if (s < 7200)
		snprintf(buf, len, "%.0f min", s / 60);
	else if (s < 172800)
		snprintf(buf, len, "%.1f h", s / 3600);
	else
		snprintf(buf, len, "%.0f d", s / 86400);
}

/* The last line: the SA that runs out of sequence numbers first, and the keys. */
static void seq_line(FILE *f, const struct ipsm_snapshot *cur)
{
	const struct ipsm_sa *soonest = seq_out_soonest(cur);
	char spi[16], left[32], text[64];

	if (soonest) {
		ipsm_spi_str(soonest->key.spi, spi, sizeof(spi));
		duration_str(soonest->seq_exhaustion_s, left, sizeof(left));
		snprintf(text, sizeof(text), "%s in %s", spi, left);
	} else {
		snprintf(text, sizeof(text), "no SA running out");
	}
	fprintf(f, " Seq out: %-22.22s [q]uit [+/-] [r]efresh [t]unnels [p]eers\033[K\033[J", text);
}

/* Traffic per class with rates, and the busiest SAs: 11 lines. */
static void traffic_pane(FILE *f, const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
			 double seconds)
{
	char spi[16], src[48], dst[48];
	const struct ipsm_sa *top[3];
	struct ipsm_ctr rx, tx, prx, ptx;
	int cls, v;

	fprintf(f, " %-14s %13s %10s %13s %10s  corr: %s\033[K\n", "TRAFFIC", "RX PACKETS",
		"RX PKT/S", "TX PACKETS", "TX PKT/S", ipsm_correlation_name(cur->correlation));
	for (cls = 0; cls <= IPSM_CLASS_OTHER; cls++) {
		rx = snapshot_class_total(cur, IPSM_DIR_RX, cls);
		tx = snapshot_class_total(cur, IPSM_DIR_TX, cls);
		prx = prev ? snapshot_class_total(prev, IPSM_DIR_RX, cls) : rx;
		ptx = prev ? snapshot_class_total(prev, IPSM_DIR_TX, cls) : tx;
		fprintf(f, " %-14s %13llu %10.1f %13llu %10.1f\033[K\n", ipsm_class_name(cls),
			(unsigned long long)rx.packets, per_s(rx.packets, prx.packets, seconds),
			(unsigned long long)tx.packets, per_s(tx.packets, ptx.packets, seconds));
	}

	fprintf(f, " %-3s %-10s %-41s %10s %8s\033[K\n", "DIR", "BUSIEST SA",
		"SOURCE > DESTINATION", "PACKETS", "PKT/S");
	busiest(cur, prev, top, 3);
	for (v = 0; v < 3; v++) {
		const struct ipsm_sa *sa = top[v], *p;
		char peers[100];

		if (!sa) {
			fprintf(f, "\033[K\n");
			continue;
		}
		p = snapshot_find_sa(prev, &sa->key);
		ipsm_spi_str(sa->key.spi, spi, sizeof(spi));
		ipsm_addr_str(sa->key.family, sa->saddr, src, sizeof(src));
		ipsm_addr_str(sa->key.family, sa->key.daddr, dst, sizeof(dst));
		snprintf(peers, sizeof(peers), "%s > %s", src, dst);
		fprintf(f, " %-3s %-10s %-41.41s %10llu %8.1f\033[K\n", ipsm_dir_name(sa->key.dir),
			spi, peers, (unsigned long long)sa->packets,
			per_s(sa->packets, p ? p->packets : sa->packets, seconds));
	}
}

#define TUNNEL_ROWS 7

/* One line of three counters, named by their JSON names, into fmt's three %s. */
static void counters_line(FILE *f, const struct ipsm_snapshot *cur, const char *fmt,
			  const char *const names[3])
{
	char v[3][24], line[160];
	int i;

	for (i = 0; i < 3; i++)
		value(v[i], sizeof(v[i]), cur, ipsm_counter_by_json(names[i]));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(line, sizeof(line), fmt, v[0], v[1], v[2]);
#pragma GCC diagnostic pop
	fprintf(f, " %.78s\033[K\n", line);
}

/* The pane's last lines: how rekeys went on the wire (known while a monitor has run)... */
static void rekey_line(FILE *f, const struct ipsm_snapshot *cur)
{
	static const char *const names[3] = { "rekeys", "rekey_early_packets",
					      "rekey_late_packets" };

	counters_line(f, cur,
		      "REKEYS %s: early packets %s (new SPI before its SA), late %s (old SPI)",
		      names);
}

/* ...and IPSECMON's offload counters, which its table has no row left for. */
static void offload_line(FILE *f, const struct ipsm_snapshot *cur)
{
	static const char *const names[3] = { "offloaded_sas", "offloaded_bytes_sent",
					      "offloaded_bytes_received" };

	counters_line(f, cur, "OFFLOADED SAs %s: bytes sent %s, received %s (kernel's count)",
		      names);
}

/*
 * The tunnels by state, the most troubled and then the busiest, the rekeys
 * and the offloaded SAs: 11 lines.
 */
static void tunnels_pane(FILE *f, const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
			 double seconds)
{
	size_t by_state[IPSM_TUN_UP + 1] = {}, i, n;
	struct ipsm_tunnel *v = NULL;
	char more[32] = "", head[160];
	int row;

	if (!cur->ipsecmon.have_xfrm) {
		fprintf(f, " TUNNELS: unknown (the kernel's SAs could not be read)\033[K\n");
		for (row = 0; row < TUNNEL_ROWS + 1; row++)
			fprintf(f, "\033[K\n");
		rekey_line(f, cur);
		offload_line(f, cur);
		return;
	}
	for (i = 0; i < cur->n_tunnels; i++)
		by_state[cur->tunnels[i].state]++;
	n = cur->n_tunnels < TUNNEL_ROWS ? cur->n_tunnels : TUNNEL_ROWS;
	if (cur->n_tunnels > n)
		snprintf(more, sizeof(more), ", %zu more", cur->n_tunnels - n);
	snprintf(head, sizeof(head), "TUNNELS %zu: up %zu, idle %zu, one way %zu, down %zu%s%s",
		 cur->n_tunnels, by_state[IPSM_TUN_UP], by_state[IPSM_TUN_IDLE],
		 by_state[IPSM_TUN_ONE_WAY], by_state[IPSM_TUN_DOWN], more,
		 cur->tunnels_tracked ? "" : " (states after 2 readings)");
	/* Cut to the width: a wrapped line would push the window past 24 lines. */
	fprintf(f, " %.78s\033[K\n", head);
	fprintf(f, " %-43s %-8s %4s %10s %10s\033[K\n", "LOCAL > REMOTE", "STATE", "SAS",
		"RX PKT/S", "TX PKT/S");
	if (n && !(v = tunnels_by_trouble(cur)))
		n = 0;
	for (row = 0; row < TUNNEL_ROWS; row++) {
		const struct ipsm_tunnel *t = (size_t)row < n ? &v[row] : NULL, *p;
		char local[IPSM_ADDR_STRLEN], remote[IPSM_ADDR_STRLEN],
			pair[2 * IPSM_ADDR_STRLEN + 4];

		if (!t) {
			fprintf(f, "\033[K\n");
			continue;
		}
		p = tunnels_find(prev, t->family, t->local, t->remote);
		tunnel_addr_strs(t, local, remote);
		snprintf(pair, sizeof(pair), "%s > %s", local, remote);
		fprintf(f, " %-43.43s %-8s %4u %10.1f %10.1f\033[K\n", pair,
			ipsm_tunnel_state_name(t->state), t->sas,
			per_s(t->rx.packets, p ? p->rx.packets : t->rx.packets, seconds),
			per_s(t->tx.packets, p ? p->tx.packets : t->tx.packets, seconds));
	}
	free(v);
	rekey_line(f, cur);
	offload_line(f, cur);
}

#define PEER_ROWS 8

/*
 * IKEv2 health: retransmits received/sent, half-open IKE SAs and the
 * refusing notifies of IKE_SA_INIT responses. One line.
 */
static void ike_health_line(FILE *f, const struct ipsm_snapshot *cur)
{
	char line[160], ho[24] = "-";
	const __u64 *n = cur->ike_notify;

	if (cur->have_ike_sas)
		snprintf(ho, sizeof(ho), "%llu", (unsigned long long)cur->ike_sas.half_open);
	snprintf(line, sizeof(line),
		 "IKE retx %llu/%llu half-open %s | NOTIFY proposal %llu ke %llu cookie %llu "
		 "syntax %llu other %llu",
		 (unsigned long long)cur->ike_retransmits[IPSM_DIR_RX],
		 (unsigned long long)cur->ike_retransmits[IPSM_DIR_TX], ho,
		 (unsigned long long)n[IPSM_NTF_NO_PROPOSAL_CHOSEN],
		 (unsigned long long)n[IPSM_NTF_INVALID_KE_PAYLOAD],
		 (unsigned long long)n[IPSM_NTF_COOKIE],
		 (unsigned long long)n[IPSM_NTF_INVALID_SYNTAX],
		 (unsigned long long)n[IPSM_NTF_OTHER]);
	fprintf(f, " %.78s\033[K\n", line);
}

/* The peers, the most troubled and then the busiest, and IKE health: 11 lines. */
static void peers_pane(FILE *f, const struct ipsm_snapshot *cur)
{
	bool *pick = calloc(cur->n_peers ? cur->n_peers : 1, sizeof(*pick));
	long n = pick ? peers_pick(cur, PEER_ROWS, pick) : -1;
	const struct ipsm_peer **v = calloc(PEER_ROWS, sizeof(*v));
	char head[128], addr[64], rx[24], tx[24], ike[48], when[32];
	size_t i, shown = 0;
	int row;

	snprintf(head, sizeof(head), "PEERS %zu%s", cur->n_peers,
		 n >= 0 && (size_t)n < cur->n_peers ? ": the most troubled and the busiest" : "");
	fprintf(f, " %.78s\033[K\n", head);
	fprintf(f, " %-24s %4s %9s %9s %7s %9s %9s\033[K\n", "PEER", "SAS", "RX BYTES", "TX BYTES",
		"BAD SPI", "IKE RX/TX", "LAST SEEN");
	/* Trouble first, then traffic: the order peers_pick() chose them in. */
	for (i = 0; v && n > 0 && i < cur->n_peers; i++)
		if (pick[i] && shown < PEER_ROWS)
			v[shown++] = &cur->peers[i];
	for (i = 1; i < shown; i++) {
		const struct ipsm_peer *x = v[i];
		size_t j = i;

		for (; j > 0 &&
		       (peer_trouble(v[j - 1]) < peer_trouble(x) ||
			(peer_trouble(v[j - 1]) == peer_trouble(x) &&
			 v[j - 1]->rx.bytes + v[j - 1]->tx.bytes < x->rx.bytes + x->tx.bytes));
		     j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (row = 0; row < PEER_ROWS; row++) {
		const struct ipsm_peer *p = (size_t)row < shown ? v[row] : NULL;

		if (!p) {
			fprintf(f, "\033[K\n");
			continue;
		}
		ipsm_addr_str(p->family, p->addr, addr, sizeof(addr));
		human(rx, sizeof(rx), true, p->rx.bytes);
		human(tx, sizeof(tx), true, p->tx.bytes);
		snprintf(ike, sizeof(ike), "%llu/%llu",
			 (unsigned long long)p->ike_msgs[IPSM_DIR_RX],
			 (unsigned long long)p->ike_msgs[IPSM_DIR_TX]);
		if (p->last_seen)
			ipsm_time_str(p->last_seen, when, sizeof(when));
		fprintf(f, " %-24.24s %4u %9s %9s %7llu %9.9s %9s\033[K\n", addr, p->sas, rx, tx,
			(unsigned long long)p->bad_spi_packets, ike,
			p->last_seen ? when + 11 : "-");
	}
	free(v);
	free(pick);
	ike_health_line(f, cur);
}

void term_view(FILE *f, const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
	       double seconds, unsigned int interval_ms, enum term_pane pane)
{
	bool bad = cur->correlation != IPSM_CORR_INACTIVE;
	char a[32], b[32], when[32], spi[16], src[48], ifs[40] = "";
	size_t i;
	int row;

	for (i = 0; i < cur->n_ifaces && strlen(ifs) < 28; i++) {
		if (i)
			strcat(ifs, ",");
		strncat(ifs, cur->ifaces[i].name, sizeof(ifs) - strlen(ifs) - 1);
	}
	ipsm_time_str(cur->time.tv_sec * 1000000000ULL, when, sizeof(when));
	/* Home, then each line cleared to its end, then the rest of the screen. */
	fputs("\033[H", f);
	fprintf(f, "IP Security Monitor %-20.20s %s every %.1fs\033[K\n", ifs, when + 11,
		interval_ms / 1000.0);

	for (row = 0; row < IPSM_TERM_ROWS; row++) {
		const struct ipsm_counter_def *l = term_at(row, 0), *r = term_at(row, 1);

		value(a, sizeof(a), cur, l);
		value(b, sizeof(b), cur, r);
		/* The right column's values end at column 80. */
		fprintf(f, " %-28s %9s  %s %*s\033[K\n", l->label, a, r->label,
			(int)(37 - strlen(r->label)), b);
	}

	if (pane == TERM_PANE_TUNNELS)
		tunnels_pane(f, cur, prev, seconds);
	else if (pane == TERM_PANE_PEERS)
		peers_pane(f, cur);
	else
		traffic_pane(f, cur, prev, seconds);

	if (!bad) {
		fprintf(f,
			" Bad SPIs: detection inactive (no kernel SA lookup, no monitor)\033[K\n");
	} else if (!cur->n_bad_spis) {
		fprintf(f, " Bad SPIs: none\033[K\n");
	} else {
		const struct ipsm_bad_spi_row *r = &cur->bad_spis[0];

		ipsm_spi_str(r->spi, spi, sizeof(spi));
		ipsm_addr_str(r->family, r->saddr, src, sizeof(src));
		fprintf(f, " Bad SPIs: %zu, most: %s from %.39s, %llu packets\033[K\n",
			cur->n_bad_spis, spi, src, (unsigned long long)r->packets);
	}
	{
		__u64 v2[IPSM_IKE_EXCH_MAX] = {}, v1[IPSM_IKE_EXCH_MAX] = {};
		int d, e;

		for (d = 0; d < IPSM_DIR_MAX; d++)
			for (e = 0; e < IPSM_IKE_EXCH_MAX; e++) {
				v2[e] += cur->ike[d][IPSM_IKE_V2][e][0] +
					 cur->ike[d][IPSM_IKE_V2][e][1];
				v1[e] += cur->ike[d][IPSM_IKE_V1][e][0] +
					 cur->ike[d][IPSM_IKE_V1][e][1];
			}
		fprintf(f,
			" IKEv2 init %llu auth %llu child %llu info %llu | IKEv1 main %llu aggr %llu "
			"quick %llu\033[K\n",
			(unsigned long long)v2[0], (unsigned long long)v2[1],
			(unsigned long long)v2[2], (unsigned long long)v2[3],
			(unsigned long long)v1[0], (unsigned long long)v1[1],
			(unsigned long long)v1[2]);
	}
	seq_line(f, cur);
	fflush(f);
}
