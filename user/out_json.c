// SPDX-License-Identifier: GPL-2.0
/* JSON rendering of a snapshot and of the attach status. */
#include <errno.h>
#include <stdio.h>
#include <linux/if_link.h>

#include "out_json.h"

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
	return json_pack("{s:s,s:I,s:o,s:o,s:b,s:o,s:o}", "name", ifc->name, "ifindex",
			 (json_int_t)ifc->ifindex, "hooks", hooks_arr(ifc->hooks), "hooks_live",
			 hooks_arr(ifc->hooks_live), "present", ifc->present, "xdp_mode",
			 mode ? json_string(mode) : json_null(), "attached_at",
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

/* The IPSECMON counters need XFRM correlation; until it runs they are unknown. */
static json_t *ipsecmon_obj(void)
{
	static const char *const names[] = {
		"active_sas",
		"active_tunnels",
		"pending_key_operations",
		"key_additions",
		"key_deletions",
		"rekeys",
		"bad_spi_packets",
		"packets_not_decrypted",
		"packets_not_authenticated",
		"packets_replayed",
		"confidential_bytes_sent",
		"confidential_bytes_received",
		"authenticated_bytes_sent",
		"authenticated_bytes_received",
		"transport_bytes_sent",
		"transport_bytes_received",
		"tunnel_bytes_sent",
		"tunnel_bytes_received",
	};
	json_t *o = json_object();
	size_t i;

	json_object_set_new(o, "correlation", json_string("inactive"));
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_object_set_new(o, names[i], json_null());
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

static json_t *ike_obj(const struct ipsm_snapshot *s)
{
	__u64 unknown = 0;
	int dir, x;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++)
		for (x = 0; x < IPSM_IKE_EXCH_MAX; x++)
			unknown += s->ike[dir][IPSM_IKE_UNKNOWN][x][0] +
				   s->ike[dir][IPSM_IKE_UNKNOWN][x][1];
	return json_pack("{s:o,s:o,s:o}", "ikev2", ike_version_obj(s, IPSM_IKE_V2), "ikev1",
			 ike_version_obj(s, IPSM_IKE_V1), "unparsed", jint(unknown));
}

static const char *encap_name(__u32 flags)
{
	__u32 both = IPSM_SA_F_UDP_ENCAP | IPSM_SA_F_PLAIN;

	if ((flags & both) == both)
		return "mixed";
	return flags & IPSM_SA_F_UDP_ENCAP ? "udp" : "none";
}

static json_t *sa_obj(const struct ipsm_sa *sa)
{
	char spi[16], src[64], dst[64];
	int af = sa->key.family;

	ipsm_spi_str(sa->key.spi, spi, sizeof(spi));
	ipsm_addr_str(af, sa->key.daddr, dst, sizeof(dst));
	ipsm_addr_str(af, sa->saddr, src, sizeof(src));
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:I,s:o,s:o,s:o,s:o}",
			 "spi", spi, "proto", ipsm_proto_name(sa->key.proto), "dir",
			 ipsm_dir_name(sa->key.dir), "family", ipsm_af_name(af), "src", src, "dst",
			 dst, "encap", encap_name(sa->flags), "mode", json_null(), "packets",
			 jint(sa->packets), "bytes", jint(sa->bytes), "first_seen",
			 jtime(sa->first_seen), "last_seen", jtime(sa->last_seen), "seq_max",
			 (json_int_t)sa->seq_max, "seq_gaps", jint(sa->seq_gaps), "seq_replays",
			 jint(sa->seq_replays), "seq_late", jint(sa->seq_late), "known",
			 json_null());
}

static json_t *kernel_obj(const struct ipsm_snapshot *s)
{
	json_t *x = json_object();
	unsigned int i;

	if (s->have_xfrm_stat)
		for (i = 0; i < s->xfrm_stat.n; i++)
			json_object_set_new(x, s->xfrm_stat.e[i].name,
					    jint(s->xfrm_stat.e[i].value));
	return json_pack("{s:o}", "xfrm_stat", x);
}

json_t *json_snapshot(const struct ipsm_snapshot *s)
{
	json_t *doc, *sas = json_array();
	size_t i;

	for (i = 0; i < s->n_sas; i++)
		json_array_append_new(sas, sa_obj(&s->sas[i]));
	doc = json_pack("{s:s,s:o,s:I,s:o,s:o,s:o,s:o,s:o,s:[],s:{s:I,s:I,s:o,s:o,s:o,s:o},s:o}",
			"schema", IPSM_SCHEMA, "time",
			jtime(s->time.tv_sec * 1000000000ULL + s->time.tv_nsec), "netns_id",
			(json_int_t)s->netns_id, "interfaces", ifaces_arr(s->ifaces, s->n_ifaces),
			"traffic", traffic_obj(s), "ipsecmon", ipsecmon_obj(), "ike", ike_obj(s),
			"sas", sas, "bad_spis", "datapath", "sa_rows", (json_int_t)s->n_sas,
			"max_sas", (json_int_t)s->max_sas, "sa_inserts", jint(s->dp.sa_inserts),
			"untracked_packets", jint(s->dp.untracked_packets), "untracked_bytes",
			jint(s->dp.untracked_bytes), "table_full", jint(s->dp.table_full), "kernel",
			kernel_obj(s));
	return doc;
}

json_t *json_status(const struct ipsm_iface *ifs, size_t n, __u64 netns_id)
{
	return json_pack("{s:s,s:I,s:o}", "schema", IPSM_SCHEMA, "netns_id", (json_int_t)netns_id,
			 "interfaces", ifaces_arr(ifs, n));
}

int json_write(FILE *f, json_t *doc, bool pretty)
{
	size_t flags = JSON_PRESERVE_ORDER | (pretty ? JSON_INDENT(2) : JSON_COMPACT);

	if (!doc)
		return -ENOMEM;
	if (json_dumpf(doc, f, flags) || fputc('\n', f) == EOF || fflush(f))
		return -EIO;
	return 0;
}
