// SPDX-License-Identifier: GPL-2.0
/* JSON rendering of a snapshot and of the attach status. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "counters.h"
#include "out_json.h"
#include "seq_out.h"
#include "topn.h"
#include "peers.h"
#include "tunnels.h"

/* Counters are u64; jansson's integers are signed 64-bit, ample for either. */
static json_t *jint(__u64 v)
{
	return json_integer((json_int_t)v);
}

static json_t *jtime(__u64 realtime_ns)
{
	char buf[32];

	if (!realtime_ns)
		return json_null();
	ipsm_time_str(realtime_ns, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *ctr_obj(const struct ipsm_ctr *c)
{
	return json_pack("{s:o,s:o}", "packets", jint(c->packets), "bytes", jint(c->bytes));
}

static json_t *hooks_arr(__u32 hooks)
{
	json_t *a = json_array();
	int h;

	for (h = 0; h < IPSM_HOOK_MAX; h++)
		if (hooks & (1U << h))
			json_array_append_new(a, json_string(ipsm_hook_name(h)));
	return a;
}

static json_t *iface_obj(const struct ipsm_iface *ifc)
{
	const char *mode = NULL;

	if (ifc->hooks & (1U << IPSM_HOOK_XDP))
		mode = ifc->xdp_flags == XDP_FLAGS_DRV_MODE ? "native" : "skb";
	return json_pack("{s:s,s:I,s:o,s:o,s:b,s:o,s:o,s:o}", "name", ifc->name, "ifindex",
			 (json_int_t)ifc->ifindex, "hooks", hooks_arr(ifc->hooks), "hooks_live",
			 hooks_arr(ifc->hooks_live), "present", ifc->present, "xdp_mode",
			 mode ? json_string(mode) : json_null(), "xdp_sa_lookup",
			 json_string(mode && ifc->xdp_kfunc ? "kernel" : "map"), "attached_at",
			 jtime(ifc->attached_at * 1000000000ULL));
}

static json_t *ifaces_arr(const struct ipsm_iface *ifs, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, iface_obj(&ifs[i]));
	return a;
}

static json_t *traffic_obj(const struct ipsm_snapshot *s)
{
	json_t *t = json_object(), *d, *c;
	struct ipsm_ctr tot;
	int dir, cls, af;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++) {
		d = json_object();
		for (cls = 0; cls < IPSM_CLASS_MAX; cls++) {
			tot = snapshot_class_total(s, dir, cls);
			c = ctr_obj(&tot);
			for (af = 0; af < IPSM_AF_MAX; af++)
				json_object_set_new(c, ipsm_af_name(af),
						    ctr_obj(&s->traffic[dir][af][cls]));
			json_object_set_new(d, ipsm_class_name(cls), c);
		}
		json_object_set_new(t, ipsm_dir_name(dir), d);
	}
	return t;
}

/* Unknown counters are null, never a made-up 0 (README "IPSECMON counters"). */
static json_t *ipsecmon_obj(const struct ipsm_snapshot *s)
{
	bool bad = s->correlation != IPSM_CORR_INACTIVE;
	const struct ipsm_counter_def *d;
	json_t *o = json_object();

	json_object_set_new(o, "correlation", json_string(ipsm_correlation_name(s->correlation)));
	json_object_set_new(o, "bad_spi_detection", json_string(bad ? "active" : "inactive"));
	ipsm_for_each_counter(d) json_object_set_new(
		o, d->json,
		ipsm_counter_known(s, d) ? jint(ipsm_counter_value(s, d)) : json_null());
	return o;
}

static json_t *ike_version_obj(const struct ipsm_snapshot *s, int ver)
{
	json_t *v = json_object(), *dirs[IPSM_DIR_MAX], *e;
	__u64 req = 0, resp = 0, n;
	int x, dir;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		dirs[dir] = json_object();
	for (x = 0; x < IPSM_IKE_EXCH_MAX; x++) {
		n = 0;
		for (dir = 0; dir < IPSM_DIR_MAX; dir++) {
			const __u64 *c = s->ike[dir][ver][x];

			n += c[0] + c[1];
			req += c[0];
			resp += c[1];
			if (ver == IPSM_IKE_V2)
				e = json_pack("{s:o,s:o}", "requests", jint(c[0]), "responses",
					      jint(c[1]));
			else
				e = jint(c[0] + c[1]);
			json_object_set_new(dirs[dir], ipsm_ike_exch_name(ver, x), e);
		}
		json_object_set_new(v, ipsm_ike_exch_name(ver, x), jint(n));
	}
	/* IKEv1 headers carry no request/response flag. */
	if (ver == IPSM_IKE_V2) {
		json_object_set_new(v, "requests", jint(req));
		json_object_set_new(v, "responses", jint(resp));
	}
	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		json_object_set_new(v, ipsm_dir_name(dir), dirs[dir]);
	return v;
}

/* All messages of one IKE version, both directions. */
static __u64 ike_total(const struct ipsm_snapshot *s, int ver)
{
	__u64 n = 0;
	int dir, x;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		for (x = 0; x < IPSM_IKE_EXCH_MAX; x++)
			n += s->ike[dir][ver][x][0] + s->ike[dir][ver][x][1];
	return n;
}

/* Retransmits, notifies and half-open IKE SAs (README "IKE health"); null where unknown. */
static void ike_health_members(const struct ipsm_snapshot *s, json_t *o)
{
	json_t *ntf = json_object(), *sas;
	int n;

	for (n = 0; n < IPSM_NTF_MAX; n++)
		json_object_set_new(ntf, ipsm_ike_notify_name(n), jint(s->ike_notify[n]));
	json_object_set_new(json_object_get(o, "ikev2"), "notify", ntf);
	json_object_set_new(
		o, "retransmits",
		jint(s->ike_retransmits[IPSM_DIR_RX] + s->ike_retransmits[IPSM_DIR_TX]));
	json_object_set_new(o, "retransmits_by_direction",
			    json_pack("{s:o,s:o}", "rx", jint(s->ike_retransmits[IPSM_DIR_RX]),
				      "tx", jint(s->ike_retransmits[IPSM_DIR_TX])));
	if (s->have_ike_sas)
		sas = json_pack("{s:o,s:o,s:o,s:o}", "awaiting_auth",
				jint(s->ike_sas.awaiting_auth), "auth_seen",
				jint(s->ike_sas.auth_seen), "tracked", jint(s->ike_sas.tracked),
				"max", jint(IPSM_IKE_SAS_MAX));
	else
		sas = json_null();
	json_object_set_new(o, "half_open",
			    s->have_ike_sas ? jint(s->ike_sas.half_open) : json_null());
	json_object_set_new(o, "ike_sas", sas);
}

static json_t *ike_obj(const struct ipsm_snapshot *s)
{
	__u64 unknown = 0;
	int dir, x;
	json_t *o;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		for (x = 0; x < IPSM_IKE_EXCH_MAX; x++)
			unknown += s->ike[dir][IPSM_IKE_UNKNOWN][x][0] +
				   s->ike[dir][IPSM_IKE_UNKNOWN][x][1];
	o = json_pack("{s:o,s:o,s:o}", "ikev2", ike_version_obj(s, IPSM_IKE_V2), "ikev1",
		      ike_version_obj(s, IPSM_IKE_V1), "unparsed", jint(unknown));
	ike_health_members(s, o);
	return o;
}

static const char *encap_name(__u32 flags)
{
	__u32 both = IPSM_SA_F_UDP_ENCAP | IPSM_SA_F_PLAIN;

	if ((flags & both) == both)
		return "mixed";
	return flags & IPSM_SA_F_UDP_ENCAP ? "udp" : "none";
}

static json_t *sa_mode(const struct ipsm_sa *sa)
{
	if (sa->known)
		return json_string(ipsm_mode_name(sa->x.mode));
	if (sa->have_info)
		return json_string(sa->info.flags & IPSM_SA_I_TUNNEL ? "tunnel" : "transport");
	return json_null();
}

static const char *xfrm_encap_name(__u16 type)
{
	switch (type) {
	case 0:
		return "none";
	case 1:
		return "espinudp-nonike";
	case 2:
		return "espinudp";
	case 7:
		return "espintcp";
	}
	return "other";
}

static json_t *jstr_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

/* What the kernel says about the SA: names, never keys. */
static json_t *kernel_sa_obj(const struct ipsm_xfrm_sa *x)
{
	return json_pack("{s:I,s:o,s:o,s:o,s:o,s:b,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "reqid",
			 (json_int_t)x->reqid, "encap", json_string(xfrm_encap_name(x->encap_type)),
			 "enc_alg", jstr_or_null(x->enc_alg), "auth_alg", jstr_or_null(x->auth_alg),
			 "aead_alg", jstr_or_null(x->aead_alg), "confidential",
			 xfrm_sa_confidential(x), "authenticated", xfrm_sa_authenticated(x),
			 "packets", jint(x->packets), "bytes", jint(x->bytes), "integrity_failed",
			 jint(x->stats_integrity_failed), "replay", jint(x->stats_replay),
			 "replay_window", jint(x->stats_replay_window), "added",
			 jtime(x->add_time * 1000000000ULL), "last_used",
			 jtime(x->use_time * 1000000000ULL), "replay_seq",
			 x->have_replay ? jint(x->seq) : json_null());
}

static json_t *bad_spi_obj(const struct ipsm_bad_spi_row *b)
{
	char spi[16], src[64], dst[64];

	ipsm_spi_str(b->spi, spi, sizeof(spi));
	ipsm_addr_str(b->family, b->saddr, src, sizeof(src));
	ipsm_addr_str(b->family, b->daddr, dst, sizeof(dst));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "spi", spi, "proto",
			 ipsm_proto_name(b->proto), "family", ipsm_af_name(b->family), "src", src,
			 "dst", dst, "packets", jint(b->packets), "bytes", jint(b->bytes),
			 "first_seen", jtime(b->first_seen), "last_seen", jtime(b->last_seen));
}

/*
 * offload (none, crypto, packet), and the device: its name (null if it has
 * none here) and ifindex. All null for an SA the kernel does not have.
 */
static void sa_offload(const struct ipsm_sa *sa, json_t *o)
{
	bool on = sa->known && sa->x.offload != IPSM_OFFLOAD_NONE;
	char dev[IF_NAMESIZE];

	json_object_set_new(o, "offload",
			    sa->known ? json_string(ipsm_offload_name(sa->x.offload)) :
					json_null());
	json_object_set_new(o, "offload_dev",
			    on && if_indextoname(sa->x.offload_ifindex, dev) ? json_string(dev) :
									       json_null());
	json_object_set_new(o, "offload_ifindex", on ? jint(sa->x.offload_ifindex) : json_null());
}

static json_t *jint_exact(const struct ipsm_sa *sa, __u64 v)
{
	return sa->seq_exact ? jint(v) : json_null();
}

static json_t *sa_obj(const struct ipsm_sa *sa, bool have_xfrm)
{
	char spi[16], src[64], dst[64];
	int af = sa->key.family;
	__u64 seq;
	json_t *o;

	ipsm_spi_str(sa->key.spi, spi, sizeof(spi));
	ipsm_addr_str(af, sa->key.daddr, dst, sizeof(dst));
	ipsm_addr_str(af, sa->saddr, src, sizeof(src));
	/* Analysed on several CPUs, a sequence says nothing exact: no numbers. */
	o = json_pack(
		"{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:b,s:o,s:o,s:o,s:o,s:o,"
		"s:o}",
		"spi", spi, "proto", ipsm_proto_name(sa->key.proto), "dir",
		ipsm_dir_name(sa->key.dir), "family", ipsm_af_name(af), "src", src, "dst", dst,
		"encap", encap_name(sa->flags), "mode", sa_mode(sa), "packets", jint(sa->packets),
		"bytes", jint(sa->bytes), "first_seen", jtime(sa->first_seen), "last_seen",
		jtime(sa->last_seen), "seq_max", (json_int_t)sa->seq_max, "seq_exact",
		sa->seq_exact, "seq_gaps", jint_exact(sa, sa_seq_lost(sa)), "seq_reordered",
		jint_exact(sa, sa->seq_filled), "seq_replays", jint_exact(sa, sa->seq_replays),
		"seq_late", jint_exact(sa, sa->seq_late), "seq_suspect",
		jint_exact(sa, sa->seq_suspect), "known",
		have_xfrm ? json_boolean(sa->known) : json_null());
	if (sa->known)
		json_object_set_new(o, "kernel", kernel_sa_obj(&sa->x));
	sa_offload(sa, o);
	json_object_set_new(o, "kernel_dropped",
			    sa->have_dropped ? jint(sa->kernel_dropped) : json_null());
	json_object_set_new(o, "seq_out", sa_seq_out(sa, &seq) ? jint(seq) : json_null());
	json_object_set_new(o, "esn", sa->known ? json_boolean(sa_esn(sa)) : json_null());
	json_object_set_new(o, "seq_exhaustion_seconds",
			    sa->have_seq_exhaustion ? jint((__u64)sa->seq_exhaustion_s) :
						      json_null());
	return o;
}

static json_t *kernel_obj(const struct ipsm_snapshot *s)
{
	json_t *x = json_object();
	unsigned int i;

	if (s->have_xfrm_stat)
		for (i = 0; i < s->xfrm_stat.n; i++)
			json_object_set_new(x, s->xfrm_stat.e[i].name,
					    jint(s->xfrm_stat.e[i].value));
	if (!s->have_kxfrm)
		return json_pack("{s:o,s:n,s:n}", "xfrm_stat", x, "sad", "policies");
	return json_pack("{s:o,s:{s:I},s:{s:I,s:I,s:I,s:I}}", "xfrm_stat", x, "sad", "sa_count",
			 (json_int_t)s->kxfrm.sad_count, "policies", "in",
			 (json_int_t)s->kxfrm.policies[0], "out", (json_int_t)s->kxfrm.policies[1],
			 "fwd", (json_int_t)s->kxfrm.policies[2], "block",
			 (json_int_t)s->kxfrm.policies_block);
}

/* What an SA did in the interval: its packets since prev (all of them without prev). */
static __u64 traffic_score(const struct ipsm_sa *sa, const struct ipsm_snapshot *prev)
{
	const struct ipsm_sa *p = snapshot_find_sa(prev, &sa->key);

	return p && p->packets <= sa->packets ? sa->packets - p->packets : sa->packets;
}

/* How much trouble an SA shows: drops, failures, losses and replays. */
static __u64 trouble_score(const struct ipsm_sa *sa)
{
	__u64 t = sa->have_dropped ? sa->kernel_dropped : 0;

	if (sa->known)
		t += (__u64)sa->x.stats_integrity_failed + sa->x.stats_replay +
		     sa->x.stats_replay_window;
	if (sa->seq_exact)
		t += sa_seq_lost(sa) + sa->seq_replays;
	return t;
}

/* Mark the (at most) k rows with the highest non-zero score. */
static int pick_top(const struct ipsm_snapshot *s, const struct json_view *v, bool trouble,
		    size_t k, bool *pick)
{
	struct ipsm_scored *sc = calloc(s->n_sas ? s->n_sas : 1, sizeof(*sc));
	size_t i;

	if (!sc)
		return -ENOMEM;
	for (i = 0; i < s->n_sas; i++) {
		sc[i].i = i;
		sc[i].score = trouble ? trouble_score(&s->sas[i]) :
					traffic_score(&s->sas[i], v->prev);
	}
	ipsm_sort_scored(sc, s->n_sas);
	for (i = 0; i < s->n_sas && i < k && sc[i].score; i++)
		pick[sc[i].i] = true;
	free(sc);
	return 0;
}

static json_t *tunnel_dir_obj(const struct ipsm_ctr *c, bool wire)
{
	return json_pack("{s:o,s:o,s:s}", "packets", jint(c->packets), "bytes", jint(c->bytes),
			 "from", wire ? "wire" : "kernel");
}

static json_t *tunnel_obj(const struct ipsm_snapshot *s, const struct ipsm_tunnel *t)
{
	char local[IPSM_ADDR_STRLEN], remote[IPSM_ADDR_STRLEN];

	tunnel_addr_strs(t, local, remote);
	return json_pack("{s:s,s:s,s:s,s:b,s:I,s:o,s:o,s:s,s:I}", "local", local, "remote", remote,
			 "mode", t->tunnel_mode ? "tunnel" : "transport", "configured",
			 t->configured, "sas", (json_int_t)t->sas, "rx",
			 tunnel_dir_obj(&t->rx, s->tunnel_wire[IPSM_DIR_RX]), "tx",
			 tunnel_dir_obj(&t->tx, s->tunnel_wire[IPSM_DIR_TX]), "state",
			 ipsm_tunnel_state_name(t->state), "one_way_intervals",
			 (json_int_t)t->one_way_intervals);
}

static json_t *peer_obj(const struct ipsm_peer *p)
{
	char addr[64];

	ipsm_addr_str(p->family, p->addr, addr, sizeof(addr));
	return json_pack("{s:s,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}", "address", addr, "sas",
			 (json_int_t)p->sas, "tunnels", (json_int_t)p->tunnels, "tunnels_down",
			 (json_int_t)p->tunnels_down, "rx", ctr_obj(&p->rx), "tx", ctr_obj(&p->tx),
			 "bad_spi_packets", jint(p->bad_spi_packets), "ike_messages",
			 json_pack("{s:o,s:o}", "rx", jint(p->ike_msgs[IPSM_DIR_RX]), "tx",
				   jint(p->ike_msgs[IPSM_DIR_TX])),
			 "last_seen", jtime(p->last_seen));
}

/* All peers, or max of them: the busiest and the most troubled, in address order. */
static json_t *peers_arr(const struct ipsm_snapshot *s, size_t max, size_t *shown)
{
	json_t *a = json_array();
	bool *pick;
	long n;
	size_t i;

	*shown = 0;
	pick = calloc(s->n_peers ? s->n_peers : 1, sizeof(*pick));
	n = pick ? peers_pick(s, max, pick) : -ENOMEM;
	if (n < 0) {
		free(pick);
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < s->n_peers; i++)
		if (pick[i])
			json_array_append_new(a, peer_obj(&s->peers[i]));
	*shown = (size_t)n;
	free(pick);
	return a;
}

/* All tunnels in pair order, or the max most troubled and busiest. */
static json_t *tunnels_arr(const struct ipsm_snapshot *s, size_t max, size_t *shown)
{
	json_t *a = json_array();
	struct ipsm_tunnel *v;
	size_t i;

	*shown = 0;
	if (s->n_tunnels <= max) {
		for (i = 0; i < s->n_tunnels; i++)
			json_array_append_new(a, tunnel_obj(s, &s->tunnels[i]));
		*shown = s->n_tunnels;
		return a;
	}
	v = tunnels_by_trouble(s);
	if (!v) {
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < max; i++)
		json_array_append_new(a, tunnel_obj(s, &v[i]));
	*shown = max;
	free(v);
	return a;
}

json_t *json_snapshot_view(const struct ipsm_snapshot *s, const struct json_view *v)
{
	json_t *doc, *sas = json_array(), *bad = json_array(), *tunnels, *peers;
	size_t i, n_sas = 0, n_bad, n_tunnels = 0, n_peers = 0;
	bool *pick = NULL, all = s->n_sas <= v->max_sas;

	/* Too many for one line: the busiest and the most troubled, in key order. */
	if (!all) {
		pick = calloc(s->n_sas, sizeof(*pick));
		if (!pick || pick_top(s, v, false, v->max_sas / 2, pick) ||
		    pick_top(s, v, true, v->max_sas - v->max_sas / 2, pick)) {
			free(pick);
			json_decref(sas);
			json_decref(bad);
			return NULL;
		}
	}
	for (i = 0; i < s->n_sas; i++)
		if (all || pick[i]) {
			json_array_append_new(sas, sa_obj(&s->sas[i], s->ipsecmon.have_xfrm));
			n_sas++;
		}
	free(pick);
	n_bad = s->n_bad_spis < v->max_bad_spis ? s->n_bad_spis : v->max_bad_spis;
	for (i = 0; i < n_bad; i++)
		json_array_append_new(bad, bad_spi_obj(&s->bad_spis[i]));
	doc = json_pack("{s:s,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:I,s:o,s:o,s:o,s:o,s:o,s:o,"
			"s:o},s:o}",
			"schema", IPSM_SCHEMA, "time",
			jtime(s->time.tv_sec * 1000000000ULL + s->time.tv_nsec), "netns_id",
			(json_int_t)s->netns_id, "interfaces", ifaces_arr(s->ifaces, s->n_ifaces),
			"traffic", traffic_obj(s), "ipsecmon", ipsecmon_obj(s), "ike", ike_obj(s),
			"sas", sas, "bad_spis", bad, "datapath", "sa_rows", (json_int_t)s->n_sas,
			"max_sas", (json_int_t)s->max_sas, "sa_inserts", jint(s->dp.sa_inserts),
			"untracked_packets", jint(s->dp.untracked_packets), "untracked_bytes",
			jint(s->dp.untracked_bytes), "table_full", jint(s->dp.table_full),
			"bad_spi_packets", jint(s->dp.bad_spi_packets), "bad_spi_bytes",
			jint(s->dp.bad_spi_bytes), "bad_spi_evicted", jint(s->dp.bad_spi_evicted),
			"kernel", kernel_obj(s));
	json_object_set_new(json_object_get(doc, "datapath"), "reserved_spi_packets",
			    jint(s->dp.reserved_spi_packets));
	json_object_set_new(json_object_get(doc, "datapath"), "ike_peer_evicted",
			    jint(s->dp.ike_peer_evicted));
	json_object_set_new(json_object_get(doc, "datapath"), "kernel_checks_skipped",
			    jint(s->dp.kernel_checks_skipped));
	/* Without the kernel's SAs the pairs are unknown, not none. */
	tunnels = s->ipsecmon.have_xfrm ? tunnels_arr(s, v->max_tunnels, &n_tunnels) : json_null();
	if (!doc || !tunnels) {
		json_decref(doc);
		json_decref(tunnels);
		return NULL;
	}
	json_object_set_new(doc, "tunnels", tunnels);
	peers = peers_arr(s, v->max_peers, &n_peers);
	if (!peers) {
		json_decref(doc);
		return NULL;
	}
	json_object_set_new(doc, "peers", peers);
	if (!all || n_bad < s->n_bad_spis || n_tunnels < s->n_tunnels || n_peers < s->n_peers) {
		json_object_set_new(doc, "sas_omitted", jint(s->n_sas - n_sas));
		json_object_set_new(doc, "bad_spis_omitted", jint(s->n_bad_spis - n_bad));
		json_object_set_new(doc, "tunnels_omitted", jint(s->n_tunnels - n_tunnels));
		json_object_set_new(doc, "peers_omitted", jint(s->n_peers - n_peers));
	}
	return doc;
}

json_t *json_snapshot(const struct ipsm_snapshot *s)
{
	const struct json_view all = { .max_sas = SIZE_MAX,
				       .max_bad_spis = SIZE_MAX,
				       .max_tunnels = SIZE_MAX,
				       .max_peers = SIZE_MAX };

	return json_snapshot_view(s, &all);
}

json_t *json_status(const struct ipsm_iface *ifs, size_t n, __u64 netns_id,
		    const char *const *stale, size_t n_stale)
{
	json_t *st = json_array();
	size_t i;

	for (i = 0; i < n_stale; i++)
		json_array_append_new(st, json_string(stale[i]));
	return json_pack("{s:s,s:I,s:o,s:o}", "schema", IPSM_SCHEMA, "netns_id",
			 (json_int_t)netns_id, "interfaces", ifaces_arr(ifs, n), "stale_namespaces",
			 st);
}

int json_write(FILE *f, json_t *doc, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);
	size_t len;
	char *buf;
	int err = 0;

	if (!doc)
		return -ENOMEM;
	/*
	 * Rendered whole, then written at once: json_dumpf's many small
	 * stdio writes cost more than the rendering with thousands of SAs.
	 */
	buf = json_dumps(doc, flags);
	if (!buf)
		return -ENOMEM;
	len = strlen(buf);
	buf[len] = '\n'; /* over the terminating NUL: fwrite needs no string */
	if (fwrite(buf, 1, len + 1, f) != len + 1 || fflush(f))
		err = errno == EPIPE ? -EPIPE : -EIO;
	free(buf);
	return err;
}

/* A counter's growth; a counter that went down was reset (re-attached): all new. */
static __u64 grew(__u64 cur, __u64 prev)
{
	return cur >= prev ? cur - prev : cur;
}

static json_t *jnum(__u64 d, double seconds)
{
	/* Rates to the thousandth: enough for packets per second. */
	if (seconds > 0)
		return json_real((double)(long long)(d / seconds * 1000 + 0.5) / 1000);
	return jint(d);
}

static void add_change(json_t *o, const char *name, __u64 cur, __u64 prev, double seconds)
{
	json_object_set_new(o, name, jnum(grew(cur, prev), seconds));
}

/* The same shape for deltas (seconds 0) and rates (per second). */
static json_t *change_obj(const struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev,
			  double seconds)
{
	json_t *o = json_object(), *t = json_object(), *m = json_object(), *per_dir, *k;
	const struct ipsm_counter_def *d;
	struct ipsm_ctr a, b;
	int dir, cls;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++) {
		per_dir = json_object();
		for (cls = 0; cls < IPSM_CLASS_MAX; cls++) {
			a = snapshot_class_total(cur, dir, cls);
			b = snapshot_class_total(prev, dir, cls);
			json_object_set_new(per_dir, ipsm_class_name(cls),
					    json_pack("{s:o,s:o}", "packets",
						      jnum(grew(a.packets, b.packets), seconds),
						      "bytes",
						      jnum(grew(a.bytes, b.bytes), seconds)));
		}
		json_object_set_new(t, ipsm_dir_name(dir), per_dir);
	}
	json_object_set_new(o, "traffic", t);

	/* Only what both snapshots know: a counter that became known has no delta. */
	ipsm_for_each_counter(d) if (d->type == IPSM_CTR_COUNTER && ipsm_counter_known(cur, d) &&
				     ipsm_counter_known(prev, d))
		add_change(m, d->json, ipsm_counter_value(cur, d), ipsm_counter_value(prev, d),
			   seconds);
	json_object_set_new(o, "ipsecmon", m);
	k = json_object();
	add_change(k, "ikev2", ike_total(cur, IPSM_IKE_V2), ike_total(prev, IPSM_IKE_V2), seconds);
	add_change(k, "ikev1", ike_total(cur, IPSM_IKE_V1), ike_total(prev, IPSM_IKE_V1), seconds);
	add_change(k, "retransmits",
		   cur->ike_retransmits[IPSM_DIR_RX] + cur->ike_retransmits[IPSM_DIR_TX],
		   prev->ike_retransmits[IPSM_DIR_RX] + prev->ike_retransmits[IPSM_DIR_TX],
		   seconds);
	json_object_set_new(o, "ike", k);
	return o;
}

void json_add_changes(json_t *doc, const struct ipsm_snapshot *cur,
		      const struct ipsm_snapshot *prev, double seconds)
{
	json_object_set_new(doc, "interval_seconds",
			    json_real((double)(long long)(seconds * 1000 + 0.5) / 1000));
	json_object_set_new(doc, "delta", change_obj(cur, prev, 0));
	json_object_set_new(doc, "rate", change_obj(cur, prev, seconds > 0 ? seconds : 1));
}
