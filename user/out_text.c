// SPDX-License-Identifier: GPL-2.0
/* Plain-text tables, 80 columns wide. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_link.h>

#include "counters.h"
#include "out_text.h"

const char *iface_state(const struct ipsm_iface *ifc)
{
	if (!ifc->present)
		return "gone";
	return ifc->hooks_live == ifc->hooks ? "ok" : "partial";
}

static void hooks_str(__u32 hooks, char *buf, size_t len)
{
	int h;

	buf[0] = '\0';
	for (h = 0; h < IPSM_HOOK_MAX; h++) {
		if (!(hooks & (1U << h)))
			continue;
		if (buf[0])
			strncat(buf, ",", len - strlen(buf) - 1);
		strncat(buf, ipsm_hook_name(h), len - strlen(buf) - 1);
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static const char *xdp_mode(const struct ipsm_iface *ifc)
{
	if (!(ifc->hooks & (1U << IPSM_HOOK_XDP)))
		return "-";
	return ifc->xdp_flags == XDP_FLAGS_DRV_MODE ? "native" : "skb";
}

void text_status(FILE *f, const struct ipsm_iface *ifs, size_t n)
{
	char hooks[64], when[32];
	size_t i;

	if (!n) {
		fprintf(f, "nothing attached\n");
		return;
	}
	fprintf(f, "%-15s %7s  %-25s %-8s %-8s %s\n", "INTERFACE", "IFINDEX", "HOOKS", "XDP",
		"STATE", "ATTACHED");
	for (i = 0; i < n; i++) {
		hooks_str(ifs[i].hooks, hooks, sizeof(hooks));
		ipsm_time_str(ifs[i].attached_at * 1000000000ULL, when, sizeof(when));
		fprintf(f, "%-15s %7u  %-25s %-8s %-8s %s\n", ifs[i].name, ifs[i].ifindex, hooks,
			xdp_mode(&ifs[i]), iface_state(&ifs[i]), when);
	}
}

static void text_traffic(FILE *f, const struct ipsm_snapshot *s)
{
	struct ipsm_ctr rx, tx;
	int cls;

	fprintf(f, "%-15s %15s %15s %15s %15s\n", "TRAFFIC", "RX PACKETS", "RX BYTES", "TX PACKETS",
		"TX BYTES");
	for (cls = 0; cls < IPSM_CLASS_MAX; cls++) {
		rx = snapshot_class_total(s, IPSM_DIR_RX, cls);
		tx = snapshot_class_total(s, IPSM_DIR_TX, cls);
		fprintf(f, "%-15s %15llu %15llu %15llu %15llu\n", ipsm_class_name(cls),
			(unsigned long long)rx.packets, (unsigned long long)rx.bytes,
			(unsigned long long)tx.packets, (unsigned long long)tx.bytes);
	}
}

static void text_ike(FILE *f, const struct ipsm_snapshot *s)
{
	int ver, x;

	fprintf(f, "\n%-24s %12s %12s %12s %12s\n", "IKE EXCHANGES", "RX REQUEST", "RX RESPONSE",
		"TX REQUEST", "TX RESPONSE");
	for (x = 0; x < IPSM_IKE_EXCH_MAX; x++) {
		const __u64 *r = s->ike[IPSM_DIR_RX][IPSM_IKE_V2][x];
		const __u64 *t = s->ike[IPSM_DIR_TX][IPSM_IKE_V2][x];

		fprintf(f, "v2 %-21s %12llu %12llu %12llu %12llu\n",
			ipsm_ike_exch_name(IPSM_IKE_V2, x), (unsigned long long)r[0],
			(unsigned long long)r[1], (unsigned long long)t[0],
			(unsigned long long)t[1]);
	}
	fprintf(f, "%-24s %25s %25s\n", "", "RX MESSAGES", "TX MESSAGES");
	for (ver = IPSM_IKE_V1; ver >= IPSM_IKE_UNKNOWN; ver--) {
		for (x = 0; x < IPSM_IKE_EXCH_MAX; x++) {
			const __u64 *r = s->ike[IPSM_DIR_RX][ver][x];
			const __u64 *t = s->ike[IPSM_DIR_TX][ver][x];
			char label[32];

			if (ver == IPSM_IKE_UNKNOWN && x != IPSM_IKE_XOTHER)
				continue;
			snprintf(label, sizeof(label), "%s %s", ver == IPSM_IKE_V1 ? "v1" : "??",
				 ver == IPSM_IKE_V1 ? ipsm_ike_exch_name(ver, x) : "unparsed");
			fprintf(f, "%-24s %25llu %25llu\n", label,
				(unsigned long long)(r[0] + r[1]),
				(unsigned long long)(t[0] + t[1]));
		}
	}
}

static void text_sas(FILE *f, const struct ipsm_snapshot *s)
{
	char spi[16], src[64], dst[64], peers[140], when[32], gaps[24], replays[24];
	size_t i;

	fprintf(f, "\nSECURITY ASSOCIATIONS (%zu; table holds %u)\n", s->n_sas, s->max_sas);
	if (!s->n_sas)
		return;
	fprintf(f, "%-3s %-5s %-10s %-4s %-31s %9s %11s %6s %6s %s\n", "DIR", "PROTO", "SPI",
		"MODE", "SOURCE > DESTINATION", "PACKETS", "BYTES", "GAPS", "REPLAY", "LAST SEEN");
	for (i = 0; i < s->n_sas; i++) {
		const struct ipsm_sa *sa = &s->sas[i];

		ipsm_spi_str(sa->key.spi, spi, sizeof(spi));
		ipsm_addr_str(sa->key.family, sa->saddr, src, sizeof(src));
		ipsm_addr_str(sa->key.family, sa->key.daddr, dst, sizeof(dst));
		snprintf(peers, sizeof(peers), "%s > %s", src, dst);
		if (sa->last_seen)
			ipsm_time_str(sa->last_seen, when, sizeof(when));
		else
			snprintf(when, sizeof(when), "%11s-", "");
		/* Sequence numbers analysed on several CPUs say nothing exact: "-". */
		if (sa->seq_exact) {
			snprintf(gaps, sizeof(gaps), "%llu", (unsigned long long)sa_seq_lost(sa));
			snprintf(replays, sizeof(replays), "%llu",
				 (unsigned long long)sa->seq_replays);
		} else {
			snprintf(gaps, sizeof(gaps), "-");
			snprintf(replays, sizeof(replays), "-");
		}
		fprintf(f, "%-3s %-5s %-10s %-4s %-31s %9llu %11llu %6s %6s %s\n",
			ipsm_dir_name(sa->key.dir), ipsm_proto_name(sa->key.proto), spi,
			!sa->known			    ? "?" :
			sa->x.mode == IPSM_XFRM_MODE_TUNNEL ? "tun" :
							      "tra",
			peers, (unsigned long long)sa->packets, (unsigned long long)sa->bytes, gaps,
			replays, when + 11 /* the time of day is enough here */);
	}
}

static void text_kernel(FILE *f, const struct ipsm_snapshot *s)
{
	unsigned int i, shown = 0;

	fprintf(f, "\nKERNEL /proc/net/xfrm_stat: ");
	if (!s->have_xfrm_stat) {
		fprintf(f, "not available\n");
		return;
	}
	for (i = 0; i < s->xfrm_stat.n; i++) {
		if (!s->xfrm_stat.e[i].value)
			continue;
		fprintf(f, "%s%s %llu", shown++ ? ", " : "", s->xfrm_stat.e[i].name,
			(unsigned long long)s->xfrm_stat.e[i].value);
	}
	fprintf(f, "%s\n", shown ? "" : "all zero");
}

static void text_ipsecmon(FILE *f, const struct ipsm_snapshot *s)
{
	bool bad = s->correlation != IPSM_CORR_INACTIVE;
	const struct ipsm_counter_def *d;

	fprintf(f, "IP SECURITY MONITOR (correlation: %s%s)\n",
		ipsm_correlation_name(s->correlation), bad ? "" : ", bad-SPI detection inactive");
	/* A value, or "-" where it is unknown. */
	ipsm_for_each_counter(d) if (ipsm_counter_known(s, d)) fprintf(
		f, "  %-32s %15llu\n", d->label, (unsigned long long)ipsm_counter_value(s, d));
	else fprintf(f, "  %-32s %15s\n", d->label, "-");
	fprintf(f, "\n");
}

static void text_bad_spis(FILE *f, const struct ipsm_snapshot *s)
{
	char spi[16], src[64], dst[64], peers[140], when[32];
	size_t i;

	fprintf(f, "\nBAD SPIS");
	if (s->correlation == IPSM_CORR_INACTIVE) {
		fprintf(f, ": detection inactive (no kernel SA lookup, no monitor running)\n");
		return;
	}
	fprintf(f, " (%zu)\n", s->n_bad_spis);
	if (!s->n_bad_spis)
		return;
	fprintf(f, "%-5s %-10s %-37s %9s %11s %s\n", "PROTO", "SPI", "SOURCE > DESTINATION",
		"PACKETS", "BYTES", "LAST SEEN");
	for (i = 0; i < s->n_bad_spis; i++) {
		const struct ipsm_bad_spi_row *b = &s->bad_spis[i];

		ipsm_spi_str(b->spi, spi, sizeof(spi));
		ipsm_addr_str(b->family, b->saddr, src, sizeof(src));
		ipsm_addr_str(b->family, b->daddr, dst, sizeof(dst));
		snprintf(peers, sizeof(peers), "%s > %s", src, dst);
		ipsm_time_str(b->last_seen, when, sizeof(when));
		fprintf(f, "%-5s %-10s %-37s %9llu %11llu %s\n", ipsm_proto_name(b->proto), spi,
			peers, (unsigned long long)b->packets, (unsigned long long)b->bytes,
			when + 11);
	}
}

void text_stats(FILE *f, const struct ipsm_snapshot *s)
{
	char when[32];

	ipsm_time_str(s->time.tv_sec * 1000000000ULL, when, sizeof(when));
	fprintf(f, "ipsecmon-bpf  %s  netns %llu\n\n", when, (unsigned long long)s->netns_id);
	text_status(f, s->ifaces, s->n_ifaces);
	fprintf(f, "\n");
	text_ipsecmon(f, s);
	text_traffic(f, s);
	text_ike(f, s);
	text_sas(f, s);
	text_bad_spis(f, s);
	fprintf(f,
		"\nDATAPATH: %llu SA rows created, %llu ESP/AH packets without a row, "
		"table full %llu times\n",
		(unsigned long long)s->dp.sa_inserts, (unsigned long long)s->dp.untracked_packets,
		(unsigned long long)s->dp.table_full);
	text_kernel(f, s);
}
