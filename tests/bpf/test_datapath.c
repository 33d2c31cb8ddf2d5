// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath tests: crafted frames through the three programs with
 * BPF_PROG_TEST_RUN, then exact checks of every counter they may touch.
 *
 * The skeleton is loaded unpinned, so the tests never see (or disturb) the
 * maps of an attached ipsecmon. Maps are zeroed before each case, the
 * process is pinned to one CPU so the per-CPU sequence state of an SA lives
 * in one slot, and each case runs with repeat = REPEAT so that counters must
 * be exactly REPEAT times the per-packet value.
 *
 * Output, all through report.c: "ok NAME" or "FAIL NAME: what differed" per
 * case, "# " notes for what is not run, then "N passed, N failed". Exit 1
 * if any case failed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ipsecmon.h"
#include "ipsecmon.skel.h"
#include "bpf_env.h"
#include "learned.h"
#include "sa_table.h"
#include "pkt.h"
#include "report.h"

#define REPEAT 7
#define XDP_PASS_ 2
#define TC_ACT_UNSPEC_ (-1)
#define FRAME_MAX 512
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct hook {
	const char *name;
	int dir;
	int verdict;
};

/* The three programs and what each must return; order matches progs[] below. */
static const struct hook hooks[] = {
	{ "xdp", IPSM_DIR_RX, XDP_PASS_ },
	{ "tc_in", IPSM_DIR_RX, TC_ACT_UNSPEC_ },
	{ "tc_eg", IPSM_DIR_TX, TC_ACT_UNSPEC_ },
};

struct env {
	struct ipsecmon *skel;
	struct bpf_program *progs[3];
	int ncpus;
};

/* What one packet must do to the maps. */
struct expect {
	int af;
	int cls;
	__u64 bytes; /* per packet */
	/* cls IKE */
	int ike_ver;
	int ike_exch;
	int ike_resp;
	/* cls ESP, AH, ESP_IN_UDP: one SA row */
	bool sa;
	struct ipsm_sa_key key;
	__u32 seq;
	__u32 sa_flags;
	__u8 saddr[16];
	/* cls ESP, AH, ESP_IN_UDP with a reserved SPI (1-255): no row, counted in dp */
	bool reserved;
};

/* --- maps -------------------------------------------------------------- */

#define FILTER_BYTES ((size_t)IPSM_ROW_FILTER_SLOTS * sizeof(__u64))

/* A skeleton's sa_filter, mapped once (the skeletons live as long as the test). */
static __u64 *filter_of(struct ipsecmon *s)
{
	static struct {
		int fd;
		__u64 *p;
	} m[8];
	int fd = bpf_map__fd(s->maps.sa_filter);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(m) && m[i].p; i++)
		if (m[i].fd == fd)
			return m[i].p;
	if (i == ARRAY_SIZE(m))
		return NULL;
	m[i].p = bpf_env_mmap(fd, FILTER_BYTES);
	m[i].fd = fd;
	return m[i].p;
}

/* The SA table with its cache and filter, as user space reads and writes it. */
static struct sa_table table(struct env *e)
{
	struct ipsecmon *s = e->skel;

	return (struct sa_table){ .fd_rows = bpf_map__fd(s->maps.sa_stats),
				  .fd_cache = bpf_map__fd(s->maps.sa_cache),
				  .fd_epoch = bpf_map__fd(s->maps.sa_epoch),
				  .ncpus = e->ncpus,
				  .filter = filter_of(s) };
}

/* The row filter trusted, as attach makes it; the rest of the config kept. */
static int trust_filter(struct ipsecmon *s)
{
	struct ipsm_config c = { 0 };
	__u32 k = 0;
	int fd = bpf_map__fd(s->maps.correlation);

	if (bpf_map_lookup_elem(fd, &k, &c))
		return -errno;
	c.flags |= IPSM_CFG_ROW_FILTER;
	return bpf_map_update_elem(fd, &k, &c, BPF_ANY) ? -errno : 0;
}

/*
 * The correlation map as the tests set it: the row filter trusted, as
 * attach makes it, whatever else a test asks for.
 */
static int set_config(struct ipsecmon *s, __u64 live_until, __u32 seed, __u32 flags)
{
	struct ipsm_config c = { .live_until = live_until,
				 .hash_seed = seed,
				 .flags = flags | IPSM_CFG_ROW_FILTER };
	__u32 k = 0;

	return bpf_map_update_elem(bpf_map__fd(s->maps.correlation), &k, &c, BPF_ANY) ? -errno : 0;
}

static int reset_maps(struct env *e)
{
	struct ipsecmon *s = e->skel;
	int err;

	err = bpf_env_zero_array(bpf_map__fd(s->maps.traffic), IPSM_TRAFFIC_MAX,
				 sizeof(struct ipsm_ctr), e->ncpus);
	if (!err)
		err = bpf_env_zero_array(bpf_map__fd(s->maps.ike), IPSM_IKE_SLOTS, sizeof(__u64),
					 e->ncpus);
	if (!err)
		err = bpf_env_zero_array(bpf_map__fd(s->maps.ike_msgs), IPSM_IKE_MSG_SETS,
					 sizeof(struct ipsm_ike_msg_set), 1);
	if (!err)
		err = bpf_env_clear_hash(bpf_map__fd(s->maps.ike_sas),
					 sizeof(struct ipsm_ike_sa_key));
	if (!err)
		err = bpf_env_zero_array(bpf_map__fd(s->maps.dp), 1, sizeof(struct ipsm_dp),
					 e->ncpus);
	if (!err)
		err = bpf_env_zero_array(bpf_map__fd(s->maps.local_memo), IPSM_LOCAL_MEMO_SLOTS,
					 sizeof(struct ipsm_local_memo), e->ncpus);
	if (!err)
		err = bpf_env_zero_array(bpf_map__fd(s->maps.ike_peers), IPSM_IKE_PEER_SLOTS,
					 sizeof(struct ipsm_ike_peer), e->ncpus);
	if (!err)
		err = bpf_env_clear_hash(bpf_map__fd(s->maps.sa_stats), sizeof(struct ipsm_sa_key));
	if (!err && !filter_of(s))
		err = -ENOMEM;
	if (!err)
		memset(filter_of(s), 0, FILTER_BYTES);
	if (!err)
		err = trust_filter(s);
	if (!err)
		err = bpf_env_zero_array(bpf_map__fd(s->maps.sa_cache), IPSM_SA_CACHE_SLOTS,
					 sizeof(struct ipsm_sa_slot), e->ncpus);
	if (!err) {
		struct sa_table t = table(e);

		err = sa_table_new_epoch(&t);
	}
	return err;
}

static int read_traffic(struct env *e, struct ipsm_ctr *out)
{
	int fd = bpf_map__fd(e->skel->maps.traffic), i, err = 0;
	struct ipsm_ctr *v = calloc(e->ncpus, sizeof(*v));
	__u32 k;

	if (!v)
		return -ENOMEM;
	for (k = 0; k < IPSM_TRAFFIC_MAX && !err; k++) {
		err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
		out[k].packets = out[k].bytes = 0;
		for (i = 0; i < e->ncpus && !err; i++) {
			out[k].packets += v[i].packets;
			out[k].bytes += v[i].bytes;
		}
	}
	free(v);
	return err;
}

static int read_ike(struct env *e, __u64 *out)
{
	int fd = bpf_map__fd(e->skel->maps.ike), i, err = 0;
	__u64 *v = calloc(e->ncpus, sizeof(*v));
	__u32 k;

	if (!v)
		return -ENOMEM;
	for (k = 0; k < IPSM_IKE_MAX && !err; k++) {
		err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
		out[k] = 0;
		for (i = 0; i < e->ncpus && !err; i++)
			out[k] += v[i];
	}
	free(v);
	return err;
}

static int read_dp(struct env *e, struct ipsm_dp *out)
{
	int fd = bpf_map__fd(e->skel->maps.dp), i;
	struct ipsm_dp *v = calloc(e->ncpus, sizeof(*v));
	__u32 k = 0;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	if (bpf_map_lookup_elem(fd, &k, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < e->ncpus; i++) {
		out->sa_inserts += v[i].sa_inserts;
		out->untracked_packets += v[i].untracked_packets;
		out->untracked_bytes += v[i].untracked_bytes;
		out->table_full += v[i].table_full;
		out->reserved_spi_packets += v[i].reserved_spi_packets;
		out->kernel_checks_skipped += v[i].kernel_checks_skipped;
	}
	free(v);
	return 0;
}

/*
 * Sum one SA row over CPUs the way the loader does (counters added, highest
 * seq_max, flags or'ed); seq_window is or'ed too since only one CPU ran.
 * Returns -ENOENT when the row does not exist.
 */
static int read_sa(struct env *e, const struct ipsm_sa_key *key, struct ipsm_sa_val *out)
{
	struct ipsm_sa_val *v = calloc(e->ncpus, sizeof(*v));
	struct sa_table t = table(e);
	int i, err;

	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));
	err = sa_table_lookup(&t, key, v);
	if (err) {
		free(v);
		return err;
	}
	for (i = 0; i < e->ncpus; i++) {
		out->packets += v[i].packets;
		out->bytes += v[i].bytes;
		out->seq_gaps += v[i].seq_gaps;
		out->seq_replays += v[i].seq_replays;
		out->seq_late += v[i].seq_late;
		out->seq_filled += v[i].seq_filled;
		out->seq_suspect += v[i].seq_suspect;
		out->seq_window |= v[i].seq_window;
		if (v[i].checked > out->checked)
			out->checked = v[i].checked;
		out->flags |= v[i].flags;
		if (v[i].first_seen && (!out->first_seen || v[i].first_seen < out->first_seen))
			out->first_seen = v[i].first_seen;
		if (v[i].last_seen > out->last_seen)
			out->last_seen = v[i].last_seen;
		if (v[i].seq_max > out->seq_max)
			out->seq_max = v[i].seq_max;
		if (v[i].packets)
			memcpy(out->saddr, v[i].saddr, 16);
	}
	free(v);
	return 0;
}

static int count_sa_rows(struct env *e)
{
	int fd = bpf_map__fd(e->skel->maps.sa_stats), n = 0;
	struct ipsm_sa_key k, next;
	struct ipsm_sa_key *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

/*
 * Whether sa_filter counts exactly the rows sa_stats has, slot by slot:
 * what every writer (datapath and user space) keeps when none is killed
 * halfway. Reported as a case of its own.
 */
static void check_filter(struct env *e, const char *name)
{
	__u64 *want = calloc(IPSM_ROW_FILTER_SLOTS, sizeof(*want)), *f = filter_of(e->skel);
	__u32 i;
	int fd = bpf_map__fd(e->skel->maps.sa_stats), rows = 0;
	struct ipsm_sa_key k, next, *prev = NULL;
	struct result r = { 0 };

	if (!want || !f) {
		mismatch(&r, "out of memory");
		goto out;
	}
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		want[ipsm_row_filter_slot(&k)]++;
		rows++;
	}
	for (i = 0; i < IPSM_ROW_FILTER_SLOTS; i++)
		if (f[i] != want[i]) {
			mismatch(&r, "slot %u counts %llu rows, the table has %llu (%d rows)", i,
				 (unsigned long long)f[i], (unsigned long long)want[i], rows);
			break;
		}
out:
	free(want);
	report_case(name, &r);
}

/* --- running ----------------------------------------------------------- */

/* Returns 0 or the negative errno of the syscall; *retval is the program's verdict. */
static int run(struct bpf_program *prog, const void *data, __u32 len, __u32 repeat, int *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = data, .data_size_in = len, .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
	if (err)
		return err;
	*retval = (int)o.retval;
	return 0;
}

static const char *const cls_names[] = { "esp",		  "ah",	   "esp_in_udp", "ike",
					 "nat_keepalive", "other", "fragment",	 "malformed" };
static const char *const af_names[] = { "ipv4", "ipv6", "non_ip" };

static void slot_name(__u32 k, char *buf, size_t sz)
{
	__u32 cls = k % IPSM_CLASS_MAX, af = k / IPSM_CLASS_MAX % IPSM_AF_MAX;

	snprintf(buf, sz, "%s/%s/%s", k / (IPSM_CLASS_MAX * IPSM_AF_MAX) ? "tx" : "rx",
		 af_names[af], cls_names[cls]);
}

static void check_traffic(struct env *e, struct result *r, int dir, const struct expect *x, __u64 n)
{
	struct ipsm_ctr t[IPSM_TRAFFIC_MAX];
	__u32 want = IPSM_TRAFFIC_IDX(dir, x->af, x->cls), k;
	char name[48];
	int err;

	err = read_traffic(e, t);
	if (err) {
		mismatch(r, "reading traffic: %s", strerror(-err));
		return;
	}
	for (k = 0; k < IPSM_TRAFFIC_MAX; k++) {
		__u64 p = k == want ? n : 0, b = k == want ? n * x->bytes : 0;

		slot_name(k, name, sizeof(name));
		if (t[k].packets != p || t[k].bytes != b)
			mismatch(r, "traffic %s: %llu pkts %llu bytes, want %llu pkts %llu bytes",
				 name, (unsigned long long)t[k].packets,
				 (unsigned long long)t[k].bytes, (unsigned long long)p,
				 (unsigned long long)b);
	}
}

/* An IKE message over IP is one peer's: one slot, n messages in this direction. */
static void check_ike_peer(struct env *e, struct result *r, int dir, const struct expect *x,
			   __u64 n)
{
	bool want = x->cls == IPSM_CLASS_IKE && x->af != IPSM_AF_OTHER;
	struct ipsm_ike_peer *v = calloc(e->ncpus, sizeof(*v));
	__u64 msgs[IPSM_DIR_MAX] = {};
	__u32 k, used = 0;
	int c;

	if (!v) {
		mismatch(r, "no memory");
		return;
	}
	for (k = 0; k < IPSM_IKE_PEER_SLOTS; k++) {
		if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.ike_peers), &k, v)) {
			mismatch(r, "reading ike_peers: %s", strerror(errno));
			break;
		}
		for (c = 0; c < e->ncpus; c++) {
			if (!v[c].used)
				continue;
			used++;
			msgs[IPSM_DIR_RX] += v[c].msgs[IPSM_DIR_RX];
			msgs[IPSM_DIR_TX] += v[c].msgs[IPSM_DIR_TX];
			if (v[c].family != x->af)
				mismatch(r, "ike peer family %u, want %d", v[c].family, x->af);
			/* The peer's address, not the zeros of a header left uncopied. */
			if (!memcmp(v[c].addr, (__u8[16]){ 0 }, 16))
				mismatch(r, "ike peer address all zero");
		}
	}
	free(v);
	if (used != want || msgs[dir] != (want ? n : 0) || msgs[!dir])
		mismatch(r, "ike peers: %u slots, %llu/%llu messages rx/tx, want %d, %llu one way",
			 used, (unsigned long long)msgs[IPSM_DIR_RX],
			 (unsigned long long)msgs[IPSM_DIR_TX], want,
			 (unsigned long long)(want ? n : 0));
}

static void check_ike(struct env *e, struct result *r, int dir, const struct expect *x, __u64 n)
{
	__u64 v[IPSM_IKE_MAX];
	__u32 want = ~0U, k;
	int err;

	if (x->cls == IPSM_CLASS_IKE)
		want = IPSM_IKE_IDX(dir, x->ike_ver, x->ike_exch, x->ike_resp);
	err = read_ike(e, v);
	if (err) {
		mismatch(r, "reading ike: %s", strerror(-err));
		return;
	}
	for (k = 0; k < IPSM_IKE_MAX; k++) {
		__u64 w = k == want ? n : 0;

		if (v[k] != w)
			mismatch(r, "ike[dir %u ver %u exch %u resp %u] = %llu, want %llu",
				 k / (IPSM_IKE_VER_MAX * IPSM_IKE_EXCH_MAX * 2),
				 k / (IPSM_IKE_EXCH_MAX * 2) % IPSM_IKE_VER_MAX,
				 k / 2 % IPSM_IKE_EXCH_MAX, k % 2, (unsigned long long)v[k],
				 (unsigned long long)w);
	}
}

/* The SA row of x after n identical packets, and the datapath counters. */
static void check_sa(struct env *e, struct result *r, const struct expect *x, __u64 n)
{
	struct ipsm_sa_val v;
	struct ipsm_dp d;
	int rows, err;

	rows = count_sa_rows(e);
	err = read_dp(e, &d);
	if (err) {
		mismatch(r, "reading dp: %s", strerror(-err));
		return;
	}
	if (d.untracked_packets || d.untracked_bytes || d.table_full)
		mismatch(r, "dp: untracked %llu/%llu table_full %llu, want 0",
			 (unsigned long long)d.untracked_packets,
			 (unsigned long long)d.untracked_bytes, (unsigned long long)d.table_full);
	if (d.reserved_spi_packets != (x->reserved ? n : 0))
		mismatch(r, "dp: reserved_spi_packets %llu, want %llu",
			 (unsigned long long)d.reserved_spi_packets,
			 (unsigned long long)(x->reserved ? n : 0));
	if (!x->sa) {
		if (rows || d.sa_inserts)
			mismatch(r, "%d SA rows, %llu inserts, want none", rows,
				 (unsigned long long)d.sa_inserts);
		return;
	}
	if (rows != 1 || d.sa_inserts != 1)
		mismatch(r, "%d SA rows, %llu inserts, want 1", rows,
			 (unsigned long long)d.sa_inserts);
	err = read_sa(e, &x->key, &v);
	if (err) {
		mismatch(r, "no SA row dir %u proto %u af %u spi 0x%08x: %s", x->key.dir,
			 x->key.proto, x->key.family, ntohl(x->key.spi), strerror(-err));
		return;
	}
	if (v.packets != n || v.bytes != n * x->bytes)
		mismatch(r, "SA %llu pkts %llu bytes, want %llu/%llu",
			 (unsigned long long)v.packets, (unsigned long long)v.bytes,
			 (unsigned long long)n, (unsigned long long)(n * x->bytes));
	/* The same packet n times: one new sequence number, then n - 1 duplicates. */
	if (v.seq_max != x->seq || v.seq_replays != n - 1 || v.seq_gaps || v.seq_late ||
	    v.seq_window != 1)
		mismatch(
			r,
			"SA seq_max %u replays %llu gaps %llu late %llu window %#llx, want %u %llu 0 0 0x1",
			v.seq_max, (unsigned long long)v.seq_replays,
			(unsigned long long)v.seq_gaps, (unsigned long long)v.seq_late,
			(unsigned long long)v.seq_window, x->seq, (unsigned long long)(n - 1));
	if (v.flags != (IPSM_SA_F_SEQ_VALID | x->sa_flags))
		mismatch(r, "SA flags %#x, want %#x", v.flags, IPSM_SA_F_SEQ_VALID | x->sa_flags);
	if (memcmp(v.saddr, x->saddr, 16))
		mismatch(r, "SA saddr differs");
	if (!v.first_seen)
		mismatch(r, "SA first_seen 0");
}

/*
 * Run one frame through one hook with repeat n and check everything. len
 * below ETH_HLEN: BPF_PROG_TEST_RUN refuses frames shorter than an Ethernet
 * header (bpf_test_init() in net/bpf/test_run.c, both XDP and skb), so the
 * program never sees them; assert that refusal instead.
 */
static void run_case(struct env *e, int h, const char *name, const void *frame, __u32 len,
		     const struct expect *x)
{
	struct result r = { 0 };
	char full[160];
	int err, ret = 0;

	snprintf(full, sizeof(full), "%s/%s", hooks[h].name, name);
	err = reset_maps(e);
	if (err) {
		mismatch(&r, "resetting maps: %s", strerror(-err));
		goto out;
	}
	err = run(e->progs[h], frame, len, REPEAT, &ret);
	if (len < PKT_ETH_HLEN) {
		if (err != -EINVAL)
			mismatch(&r, "test run of %u bytes: %d, want -EINVAL", len, err);
		goto out;
	}
	if (err) {
		mismatch(&r, "test run: %s", strerror(-err));
		goto out;
	}
	if (ret != hooks[h].verdict)
		mismatch(&r, "verdict %d, want %d", ret, hooks[h].verdict);
	check_traffic(e, &r, hooks[h].dir, x, REPEAT);
	check_ike(e, &r, hooks[h].dir, x, REPEAT);
	check_ike_peer(e, &r, hooks[h].dir, x, REPEAT);
	check_sa(e, &r, x, REPEAT);
out:
	report_case(full, &r);
}

/* Direction-dependent parts of an expectation. */
static struct expect for_dir(const struct expect *x, int dir)
{
	struct expect y = *x;

	y.key.dir = dir;
	return y;
}

static void run_all_hooks(struct env *e, const char *name, const struct pkt_buf *b,
			  const struct expect *x)
{
	size_t h;

	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		struct expect y = for_dir(x, hooks[h].dir);

		run_case(e, h, name, b->data, b->len, &y);
	}
}

/* SA part of an expectation from the frame just built. */
static void expect_sa(struct expect *x, const struct pkt_buf *b, __u32 spi, __u32 seq)
{
	x->sa = true;
	memset(&x->key, 0, sizeof(x->key));
	x->key.proto = x->cls == IPSM_CLASS_AH ? PKT_IPPROTO_AH : PKT_IPPROTO_ESP;
	x->key.family = x->af;
	x->key.spi = htonl(spi);
	memcpy(x->key.daddr, b->daddr, 16);
	memcpy(x->saddr, b->saddr, 16);
	x->seq = seq;
	x->sa_flags = x->cls == IPSM_CLASS_ESP_IN_UDP ? IPSM_SA_F_UDP_ENCAP : IPSM_SA_F_PLAIN;
}

/* --- the table --------------------------------------------------------- */

enum bytes_mode {
	BYTES_IP = 0, /* IP total length as built */
	BYTES_L3, /* everything after Ethernet and the first two tags */
};

struct tcase {
	const char *name;
	struct pkt_spec s;
	int af;
	int cls;
	int ike_ver, ike_exch, ike_resp;
	enum bytes_mode bytes;
	/* Applied after building: corrupts the frame on purpose. */
	void (*mutate)(struct pkt_buf *b);
	/* Replaces pkt_build() for frames struct pkt_spec cannot describe. */
	int (*build)(struct pkt_buf *b);
	/*
	 * What TC egress finds, where it differs: a UDP port is ours when it is
	 * the destination of what we receive and the source of what we send.
	 */
	bool tx_differs;
	int tx_cls, tx_ike_ver, tx_ike_exch, tx_ike_resp;
};

/* The case as TC egress sees it; SKIP: a receive-side case only. */
#define TX(cls_, ...) .tx_differs = true, .tx_cls = cls_, __VA_ARGS__
#define SKIP (-1)

#define V4 IPSM_AF_IPV4
#define V6 IPSM_AF_IPV6
#define NON_IP IPSM_AF_OTHER
#define ESP IPSM_CLASS_ESP
#define AH IPSM_CLASS_AH
#define EIU IPSM_CLASS_ESP_IN_UDP
#define IKE IPSM_CLASS_IKE
#define KA IPSM_CLASS_NAT_KEEPALIVE
#define OTHER IPSM_CLASS_OTHER
#define FRAG IPSM_CLASS_FRAGMENT
#define BAD IPSM_CLASS_MALFORMED

/*
 * The case macros below set defaults that a case overrides by naming the
 * field again: that is the point of them, not a mistake.
 */
#pragma GCC diagnostic ignored "-Woverride-init"

#define ESP4(...)                                                                                  \
	{                                                                                          \
		.l3 = 4, .l4 = PKT_L4_ESP, .spi = 0x1001, .seq = 7, .payload_len = 48, __VA_ARGS__ \
	}
#define ESP6(...)                                                                                  \
	{                                                                                          \
		.l3 = 6, .l4 = PKT_L4_ESP, .spi = 0x2002, .seq = 9, .payload_len = 48, __VA_ARGS__ \
	}
#define IKE2(l3_, exch, fl, ...)                                                                  \
	{                                                                                         \
		.l3 = l3_, .l4 = PKT_L4_UDP_IKE, .ike_ver = 2, .ike_exch = exch, .ike_flags = fl, \
		.payload_len = 40, __VA_ARGS__                                                    \
	}
#define IKE1(exch, fl)                                                                          \
	{                                                                                       \
		.l3 = 4, .l4 = PKT_L4_UDP_IKE, .ike_ver = 1, .ike_exch = exch, .ike_flags = fl, \
		.payload_len = 40                                                               \
	}
#define NATT_IKE(l3_, ...)                                                            \
	{                                                                             \
		.l3 = l3_, .l4 = PKT_L4_UDP_MARKER_IKE, .ike_ver = 2, .ike_exch = 35, \
		.payload_len = 80, __VA_ARGS__                                        \
	}

/* IPv4 header fields, at the offsets of an untagged frame. */
#define IP4 PKT_ETH_HLEN
#define IP6 PKT_ETH_HLEN

static void ip4_version5(struct pkt_buf *b)
{
	b->data[IP4] = 0x55;
	pkt_ipv4_csum(b);
}

static void ip4_ihl4(struct pkt_buf *b)
{
	b->data[IP4] = 0x44;
}

static void ip4_tot_plus1(struct pkt_buf *b)
{
	pkt_put16(b, IP4 + 2, pkt_get16(b, IP4 + 2) + 1);
	pkt_ipv4_csum(b);
}

static void ip4_tot_below_ihl(struct pkt_buf *b)
{
	pkt_put16(b, IP4 + 2, 16);
	pkt_ipv4_csum(b);
}

static void ip6_version4(struct pkt_buf *b)
{
	b->data[IP6] = 0x40;
}

static void ip6_plen_plus1(struct pkt_buf *b)
{
	pkt_put16(b, IP6 + 4, pkt_get16(b, IP6 + 4) + 1);
}

/* Payload length 0 (jumbogram / BIG TCP): the frame's length is trusted. */
static void ip6_plen0(struct pkt_buf *b)
{
	pkt_put16(b, IP6 + 4, 0);
}

static void ip4_totlen0(struct pkt_buf *b)
{
	pkt_put16(b, b->l3_off + 2, 0);
}

static void udp_len_plus1(struct pkt_buf *b)
{
	pkt_put16(b, b->udp_off + 4, pkt_get16(b, b->udp_off + 4) + 1);
}

static void udp_len7(struct pkt_buf *b)
{
	pkt_put16(b, b->udp_off + 4, 7);
}

static void keepalive_not_ff(struct pkt_buf *b)
{
	b->data[b->udp_off + 8] = 0xfe;
}

/*
 * The UDP length of a first fragment is the whole datagram's (RFC 768 and
 * 791): bigger than the fragment's own payload.
 */
static void udp_len_whole_datagram(struct pkt_buf *b)
{
	pkt_put16(b, b->udp_off + 4, 1400);
}

/* IP total length ends after the SPI: the sequence number lies outside. */
static void ip4_tot_cuts_esp(struct pkt_buf *b)
{
	pkt_put16(b, IP4 + 2, 24);
	pkt_ipv4_csum(b);
}

/* The last IPv6 header says its extension runs past the payload length. */
static void ip6_ext_overrun(struct pkt_buf *b)
{
	b->data[IP6 + 40 + 1] = 200;
}

/* IPv6, n destination-options headers, then ESP. */
static int build_v6_dst_chain(struct pkt_buf *b, int n)
{
	int i;

	pkt_init(b, b->data, b->cap);
	pkt_eth(b, NULL, NULL);
	pkt_ipv6(b, NULL, NULL);
	for (i = 0; i < n; i++)
		pkt_ipv6_ext(b, PKT_IPPROTO_DSTOPTS, 8);
	pkt_esp(b, 0x2002, 9, 48);
	return pkt_finish(b);
}

static int build_v6_ext7(struct pkt_buf *b)
{
	return build_v6_dst_chain(b, 7);
}

/* One more than parse.h IPV6_EXT_MAX walks: the ESP after it is not looked at. */
static int build_v6_ext8(struct pkt_buf *b)
{
	return build_v6_dst_chain(b, 8);
}

/* Ethernet + IPv4 + ICMP echo: a protocol the classifier does not name. */
static int build_icmp(struct pkt_buf *b)
{
	struct pkt_ipv4 ip = { 0 };

	pkt_init(b, b->data, b->cap);
	pkt_eth(b, NULL, NULL);
	pkt_ipv4(b, &ip);
	pkt_proto(b, 1);
	pkt_fill(b, 8, 1);
	pkt_fill(b, 0, 31);
	return pkt_finish(b);
}

/* UDP 4500, the non-ESP marker, then 27 bytes: one short of an IKE header. */
static int build_natt_short_ike(struct pkt_buf *b)
{
	struct pkt_ipv4 ip = { 0 };

	pkt_init(b, b->data, b->cap);
	pkt_eth(b, NULL, NULL);
	pkt_ipv4(b, &ip);
	pkt_udp(b, 4500, 4500);
	pkt_natt_marker(b);
	pkt_fill(b, 0x20, PKT_IKE_HLEN - 1);
	return pkt_finish(b);
}

static const struct tcase cases[] = {
	/* every class and family, plain Ethernet */
	{ "esp_v4", ESP4(), V4, ESP },
	{ "esp_v6", ESP6(), V6, ESP },
	{ "esp_v4_seq_max", ESP4(.seq = 0xffffffff), V4, ESP },
	{ "esp_v4_spi_ffffffff", ESP4(.spi = 0xffffffff), V4, ESP },
	{ "esp_v4_no_payload", ESP4(.payload_len = 0), V4, ESP },
	{ "ah_v4", { .l3 = 4, .l4 = PKT_L4_AH, .spi = 0x3003, .seq = 11 }, V4, AH },
	{ "ah_v6", { .l3 = 6, .l4 = PKT_L4_AH, .spi = 0x3003, .seq = 11 }, V6, AH },
	{ "ah_v6_ext2_hop_dst",
	  { .l3 = 6, .n_ext = 2, .ext = { 0, 60 }, .l4 = PKT_L4_AH, .spi = 0x3004, .seq = 3 },
	  V6,
	  AH },
	{ "ah_v6_ext3_hop_rt_dst",
	  { .l3 = 6, .n_ext = 3, .ext = { 0, 43, 60 }, .l4 = PKT_L4_AH, .spi = 0x3005, .seq = 3 },
	  V6,
	  AH },
	{ "esp_in_udp_v4",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 0x4004, .seq = 2, .payload_len = 64 },
	  V4,
	  EIU },
	/* From the peer's 4500 to a port of ours that is not 4500: not NAT-T here. */
	{ "esp_in_udp_v4_sport4500",
	  { .l3 = 4,
	    .l4 = PKT_L4_UDP_ESP,
	    .sport = 4500,
	    .dport = 31000,
	    .spi = 0x4005,
	    .seq = 2,
	    .payload_len = 64 },
	  V4,
	  OTHER,
	  TX(EIU) },
	{ "esp_in_udp_v4_dport4500",
	  { .l3 = 4,
	    .l4 = PKT_L4_UDP_ESP,
	    .sport = 31000,
	    .dport = 4500,
	    .spi = 0x4006,
	    .seq = 2,
	    .payload_len = 64 },
	  V4,
	  EIU,
	  TX(OTHER) },
	{ "esp_in_udp_v6",
	  { .l3 = 6, .l4 = PKT_L4_UDP_ESP, .spi = 0x4007, .seq = 5, .payload_len = 64 },
	  V6,
	  EIU },
	/*
	 * Exactly 8 bytes of payload on 4500: the kernel's decapsulation wants
	 * more than an ESP header and hands it to the IKE socket.
	 */
	{ "esp_in_udp_v4_8_bytes_is_ike",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 0x4008, .seq = 1, .payload_len = 0 },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0 },
	{ "esp_in_udp_v4_9_bytes",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 0x4009, .seq = 1, .payload_len = 1 },
	  V4,
	  EIU },
	{ "natt_ike_v4", NATT_IKE(4), V4, IKE, 2, IPSM_IKE_X1, 0 },
	{ "natt_ike_v4_sport4500_resp",
	  NATT_IKE(4, .sport = 4500, .dport = 31000, .ike_flags = 0x20), V4, OTHER,
	  TX(IKE, .tx_ike_ver = 2, .tx_ike_exch = IPSM_IKE_X1, .tx_ike_resp = 1) },
	{ "natt_ike_v4_dport4500", NATT_IKE(4, .sport = 31000, .dport = 4500), V4, IKE, 2,
	  IPSM_IKE_X1, 0, TX(OTHER) },
	{ "natt_ike_v6", NATT_IKE(6, .ike_exch = 37, .ike_flags = 0x20), V6, IKE, 2, IPSM_IKE_X3,
	  1 },
	{ "natt_ike_v4_ikev1_quick", NATT_IKE(4, .ike_ver = 1, .ike_exch = 32), V4, IKE, 1,
	  IPSM_IKE_X2, 0 },
	/* Marker and 27 bytes of IKE: too short for the header, still IKE. */
	{ "natt_ike_v4_short_header",
	  { 0 },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0,
	  .build = build_natt_short_ike },
	{ "keepalive_v4", { .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE }, V4, KA },
	{ "keepalive_v4_sport4500",
	  { .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE, .sport = 4500, .dport = 31000 },
	  V4,
	  OTHER,
	  TX(KA) },
	{ "keepalive_v4_dport4500",
	  { .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE, .sport = 31000, .dport = 4500 },
	  V4,
	  KA,
	  TX(OTHER) },
	{ "keepalive_v6", { .l3 = 6, .l4 = PKT_L4_UDP_KEEPALIVE }, V6, KA },
	/* 43 bytes padded to 60 on the wire: bytes are the IP length, not the frame's. */
	{ "keepalive_v4_eth_padding",
	  { .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE, .pad_to = 60 },
	  V4,
	  KA },
	/* IKE on 500: every exchange slot, request and response */
	{ "ikev2_sa_init_req", IKE2(4, 34, 0x08), V4, IKE, 2, IPSM_IKE_X0, 0 },
	{ "ikev2_sa_init_resp", IKE2(4, 34, 0x20), V4, IKE, 2, IPSM_IKE_X0, 1 },
	{ "ikev2_auth_req", IKE2(4, 35, 0x08), V4, IKE, 2, IPSM_IKE_X1, 0 },
	{ "ikev2_auth_resp", IKE2(4, 35, 0x20), V4, IKE, 2, IPSM_IKE_X1, 1 },
	{ "ikev2_create_child_req", IKE2(4, 36, 0x00), V4, IKE, 2, IPSM_IKE_X2, 0 },
	{ "ikev2_create_child_resp", IKE2(4, 36, 0x28), V4, IKE, 2, IPSM_IKE_X2, 1 },
	{ "ikev2_informational_req", IKE2(4, 37, 0x08), V4, IKE, 2, IPSM_IKE_X3, 0 },
	{ "ikev2_informational_resp", IKE2(4, 37, 0x20), V4, IKE, 2, IPSM_IKE_X3, 1 },
	{ "ikev2_exch38_other", IKE2(4, 38, 0x20), V4, IKE, 2, IPSM_IKE_XOTHER, 1 },
	{ "ikev2_v6_auth_resp", IKE2(6, 35, 0x20), V6, IKE, 2, IPSM_IKE_X1, 1 },
	{ "ikev2_sport500_only", IKE2(4, 34, 0x08, .sport = 500, .dport = 41000), V4, OTHER,
	  TX(IKE, .tx_ike_ver = 2, .tx_ike_exch = IPSM_IKE_X0, .tx_ike_resp = 0) },
	{ "ikev2_dport500_only", IKE2(4, 34, 0x20, .sport = 41000, .dport = 500), V4, IKE, 2,
	  IPSM_IKE_X0, 1, TX(OTHER) },
	/* A client's IKE_SA_INIT from its NAT-T port to 500 is IKE, not ESP-in-UDP. */
	{ "ikev2_sa_init_sport4500_dport500", IKE2(4, 34, 0x08, .sport = 4500, .dport = 500), V4,
	  IKE, 2, IPSM_IKE_X0, 0, TX(SKIP) },
	/* Any UDP from a source port 4500 to a port of ours that is not 4500. */
	{ "udp_sport4500_to_dns",
	  { .l3 = 4, .l4 = PKT_L4_UDP, .sport = 4500, .dport = 53, .payload_len = 30 },
	  V4,
	  OTHER,
	  TX(SKIP) },
	{ "ikev1_main", IKE1(2, 0x00), V4, IKE, 1, IPSM_IKE_X0, 0 },
	{ "ikev1_aggressive", IKE1(4, 0x00), V4, IKE, 1, IPSM_IKE_X1, 0 },
	{ "ikev1_quick", IKE1(32, 0x01), V4, IKE, 1, IPSM_IKE_X2, 0 },
	{ "ikev1_informational", IKE1(5, 0x01), V4, IKE, 1, IPSM_IKE_X3, 0 },
	/* IKEv1 has no Response flag: bit 0x20 must not count as one. */
	{ "ikev1_main_flag20", IKE1(2, 0x20), V4, IKE, 1, IPSM_IKE_X0, 0 },
	{ "ikev1_new_group_other", IKE1(6, 0x00), V4, IKE, 1, IPSM_IKE_XOTHER, 0 },
	{ "ike_version3_unknown",
	  { .l3 = 4,
	    .l4 = PKT_L4_UDP_IKE,
	    .ike_ver = 3,
	    .ike_exch = 34,
	    .ike_flags = 0x20,
	    .payload_len = 8 },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0 },
	{ "ike500_short_header",
	  { .l3 = 4, .l4 = PKT_L4_UDP, .dport = 500, .payload_len = 27 },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0,
	  TX(OTHER) },
	/* other */
	{ "tcp_v4", { .l3 = 4, .l4 = PKT_L4_TCP, .payload_len = 100 }, V4, OTHER },
	{ "tcp_v6", { .l3 = 6, .l4 = PKT_L4_TCP, .payload_len = 100 }, V6, OTHER },
	{ "udp_v4_dns", { .l3 = 4, .l4 = PKT_L4_UDP, .payload_len = 30 }, V4, OTHER },
	{ "udp_v6_port4501",
	  { .l3 = 6, .l4 = PKT_L4_UDP, .sport = 4501, .dport = 4501, .payload_len = 30 },
	  V6,
	  OTHER },
	{ "v6_no_next_header", { .l3 = 6, .l4 = PKT_L4_NONE, .payload_len = 16 }, V6, OTHER },
	{ "v6_ext2_tcp", { .l3 = 6, .n_ext = 2, .ext = { 0, 60 }, .l4 = PKT_L4_TCP }, V6, OTHER },
	{ "icmp_v4", { 0 }, V4, OTHER, .build = build_icmp },
	{ "arp", { .l3 = 0 }, NON_IP, OTHER, .bytes = BYTES_L3 },
	/* Not IP: every byte after L2 counts, padding included. */
	{ "arp_eth_padding", { .l3 = 0, .pad_to = 60 }, NON_IP, OTHER, .bytes = BYTES_L3 },
	/* VLAN tags: 0x8100 and 0x88a8, one and two; a third is not looked under */
	{ "esp_v4_vlan_8021q", ESP4(.vlans = 1), V4, ESP },
	{ "esp_v4_vlan_8021ad", ESP4(.vlans = 1, .tpid = { 0x88a8 }), V4, ESP },
	{ "esp_v4_qinq", ESP4(.vlans = 2), V4, ESP },
	{ "esp_v6_qinq_8021q_8021q", ESP6(.vlans = 2, .tpid = { 0x8100, 0x8100 }), V6, ESP },
	{ "esp_v6_vlan_8021q", ESP6(.vlans = 1), V6, ESP },
	{ "ah_v4_qinq", { .vlans = 2, .l3 = 4, .l4 = PKT_L4_AH, .spi = 0x3006, .seq = 1 }, V4, AH },
	{ "esp_in_udp_v6_qinq",
	  { .vlans = 2, .l3 = 6, .l4 = PKT_L4_UDP_ESP, .spi = 0x4009, .seq = 1, .payload_len = 64 },
	  V6,
	  EIU },
	{ "natt_ike_v4_vlan", NATT_IKE(4, .vlans = 1), V4, IKE, 2, IPSM_IKE_X1, 0 },
	{ "ikev2_v6_qinq", IKE2(6, 36, 0x20, .vlans = 2), V6, IKE, 2, IPSM_IKE_X2, 1 },
	{ "keepalive_v4_qinq_padding",
	  { .vlans = 2, .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE, .pad_to = 64 },
	  V4,
	  KA },
	{ "tcp_v4_qinq", { .vlans = 2, .l3 = 4, .l4 = PKT_L4_TCP }, V4, OTHER },
	{ "arp_qinq", { .vlans = 2, .l3 = 0 }, NON_IP, OTHER, .bytes = BYTES_L3 },
	{ "esp_v4_vlan3", ESP4(.vlans = 3), NON_IP, OTHER, .bytes = BYTES_L3 },
	{ "esp_v6_vlan3_8021q", ESP6(.vlans = 3, .tpid = { 0x8100, 0x8100, 0x8100 }), NON_IP, OTHER,
	  .bytes = BYTES_L3 },
	/* IPv6 with 0-4 extension headers before ESP */
	{ "esp_v6_ext1_hop", ESP6(.n_ext = 1, .ext = { 0 }), V6, ESP },
	{ "esp_v6_ext1_dst", ESP6(.n_ext = 1, .ext = { 60 }), V6, ESP },
	{ "esp_v6_ext1_rt", ESP6(.n_ext = 1, .ext = { 43 }), V6, ESP },
	{ "esp_v6_ext1_frag0", ESP6(.n_ext = 1, .ext = { 44 }), V6, ESP },
	{ "esp_v6_ext2_hop_dst", ESP6(.n_ext = 2, .ext = { 0, 60 }), V6, ESP },
	{ "esp_v6_ext3_hop_rt_dst", ESP6(.n_ext = 3, .ext = { 0, 43, 60 }), V6, ESP },
	{ "esp_v6_ext4_hop_rt_frag_dst", ESP6(.n_ext = 4, .ext = { 0, 43, 44, 60 }), V6, ESP },
	{ "esp_v6_ext4_dst_rt_dst_dst", ESP6(.n_ext = 4, .ext = { 60, 43, 60, 60 }), V6, ESP },
	{ "esp_v6_ext4_qinq", ESP6(.vlans = 2, .n_ext = 4, .ext = { 0, 43, 44, 60 }), V6, ESP },
	{ "esp_in_udp_v6_ext3",
	  { .l3 = 6,
	    .n_ext = 3,
	    .ext = { 0, 43, 60 },
	    .l4 = PKT_L4_UDP_ESP,
	    .spi = 0x400a,
	    .seq = 1,
	    .payload_len = 64 },
	  V6,
	  EIU },
	{ "esp_v6_ext7", { 0 }, V6, ESP, .build = build_v6_ext7 },
	{ "esp_v6_ext8_beyond_walk", { 0 }, V6, OTHER, .build = build_v6_ext8 },
	/* fragments */
	{ "esp_v4_first_fragment", ESP4(.mf = true), V4, ESP },
	{ "esp_v4_middle_fragment", ESP4(.mf = true, .frag_off = 185), V4, FRAG },
	{ "esp_v4_last_fragment", ESP4(.frag_off = 185), V4, FRAG },
	{ "udp4500_v4_nonfirst_fragment",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .frag_off = 1, .mf = true, .spi = 1, .seq = 1 },
	  V4,
	  FRAG },
	{ "ikev2_v4_first_fragment", IKE2(4, 35, 0x08, .mf = true), V4, IKE, 2, IPSM_IKE_X1, 0 },
	{ "esp_v6_frag_first", ESP6(.n_ext = 1, .ext = { 44 }, .mf = true), V6, ESP },
	{ "esp_v6_frag_offset", ESP6(.n_ext = 1, .ext = { 44 }, .frag_off = 100, .mf = true), V6,
	  FRAG },
	{ "esp_v6_frag_offset_last", ESP6(.n_ext = 1, .ext = { 44 }, .frag_off = 1), V6, FRAG },
	{ "esp_v6_hop_frag_offset", ESP6(.n_ext = 2, .ext = { 0, 44 }, .frag_off = 50, .mf = true),
	  V6, FRAG },
	/* IPv4 options */
	{ "esp_v4_options8", ESP4(.ip_opt_len = 8), V4, ESP },
	{ "ikev2_v4_options40", IKE2(4, 34, 0x08, .ip_opt_len = 40), V4, IKE, 2, IPSM_IKE_X0, 0 },
	{ "esp_in_udp_v4_options4",
	  { .l3 = 4,
	    .ip_opt_len = 4,
	    .l4 = PKT_L4_UDP_ESP,
	    .spi = 0x400b,
	    .seq = 1,
	    .payload_len = 16 },
	  V4,
	  EIU },
	/* malformed */
	{ "esp_v4_spi0", ESP4(.spi = 0), V4, BAD },
	{ "esp_v6_spi0", ESP6(.spi = 0), V6, BAD },
	{ "esp_v6_ext2_spi0", ESP6(.spi = 0, .n_ext = 2, .ext = { 0, 60 }), V6, BAD },
	{ "ah_v4_spi0", { .l3 = 4, .l4 = PKT_L4_AH, .spi = 0, .seq = 1 }, V4, BAD },
	{ "esp_in_udp_v4_spi0_is_marker",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 0, .seq = 1, .payload_len = 40 },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0 },
	{ "ip4_version5", ESP4(), V4, BAD, .bytes = BYTES_L3, .mutate = ip4_version5 },
	{ "ip4_ihl4", ESP4(), V4, BAD, .bytes = BYTES_L3, .mutate = ip4_ihl4 },
	{ "ip4_tot_beyond_frame", ESP4(), V4, BAD, .bytes = BYTES_L3, .mutate = ip4_tot_plus1 },
	{ "ip4_tot_below_ihl", ESP4(), V4, BAD, .bytes = BYTES_L3, .mutate = ip4_tot_below_ihl },
	{ "ip6_version4", ESP6(), V6, BAD, .bytes = BYTES_L3, .mutate = ip6_version4 },
	{ "ip6_plen_beyond_frame", ESP6(), V6, BAD, .bytes = BYTES_L3, .mutate = ip6_plen_plus1 },
	{ "ip6_plen0_jumbo_trusts_frame", ESP6(), V6, ESP, .bytes = BYTES_L3, .mutate = ip6_plen0 },
	{ "ip6_ext_overruns_plen", ESP6(.n_ext = 1, .ext = { 0 }), V6, BAD,
	  .mutate = ip6_ext_overrun },
	{ "udp4500_len_beyond_ip",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 5, .seq = 1 },
	  V4,
	  BAD,
	  .mutate = udp_len_plus1 },
	{ "udp4500_len7",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 5, .seq = 1 },
	  V4,
	  BAD,
	  .mutate = udp_len7 },
	/* What the kernel's decapsulation passes to the IKE socket: IKE, unparsed. */
	{ "udp4500_empty",
	  { .l3 = 4, .l4 = PKT_L4_UDP, .dport = 4500 },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0,
	  TX(OTHER) },
	{ "udp4500_3_bytes",
	  { .l3 = 6, .l4 = PKT_L4_UDP, .dport = 4500, .payload_len = 3 },
	  V6,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0,
	  TX(OTHER) },
	{ "keepalive_not_ff",
	  { .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE },
	  V4,
	  IKE,
	  IPSM_IKE_UNKNOWN,
	  IPSM_IKE_XOTHER,
	  0,
	  .mutate = keepalive_not_ff },
	/* Reserved SPIs (RFC 4303 §2.1): ESP on the wire, but no SA can have them. */
	{ "esp_v4_spi1_reserved", ESP4(.spi = 1), V4, ESP },
	{ "esp_v6_spi255_reserved", ESP6(.spi = 255), V6, ESP },
	{ "ah_v4_spi200_reserved", { .l3 = 4, .l4 = PKT_L4_AH, .spi = 200, .seq = 1 }, V4, AH },
	{ "esp_in_udp_v4_spi7_reserved",
	  { .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 7, .seq = 1, .payload_len = 16 },
	  V4,
	  EIU },
	{ "esp_v4_spi256_first_usable", ESP4(.spi = 256), V4, ESP },
	/* IPv4 total length 0: BIG TCP (over 64 KiB), its length is the frame's. */
	{ "ip4_totlen0_big_tcp_trusts_frame", ESP4(), V4, ESP, .bytes = BYTES_L3,
	  .mutate = ip4_totlen0 },
	/*
	 * First fragments of NAT-T traffic carry the whole datagram's UDP
	 * length: still ESP-in-UDP and IKE, like the same on port 500 or bare ESP.
	 */
	{ "esp_in_udp_v4_first_fragment",
	  { .l3 = 4, .mf = true, .l4 = PKT_L4_UDP_ESP, .spi = 0x400c, .seq = 1, .payload_len = 200 },
	  V4,
	  EIU,
	  .mutate = udp_len_whole_datagram },
	{ "natt_ike_v4_first_fragment", NATT_IKE(4, .mf = true, .payload_len = 200), V4, IKE, 2,
	  IPSM_IKE_X1, 0, .mutate = udp_len_whole_datagram },
	{ "esp_in_udp_v6_first_fragment",
	  { .l3 = 6,
	    .n_ext = 1,
	    .ext = { 44 },
	    .mf = true,
	    .l4 = PKT_L4_UDP_ESP,
	    .spi = 0x400d,
	    .seq = 1,
	    .payload_len = 200 },
	  V6,
	  EIU,
	  .mutate = udp_len_whole_datagram },
	/*
	 * Headers are bounded by the IP length, not the frame: an ESP header cut
	 * by the IP total length is not read on into the Ethernet padding.
	 */
	{ "esp_v4_header_past_ip_length", ESP4(.payload_len = 0, .pad_to = 60), V4, BAD,
	  .mutate = ip4_tot_cuts_esp },
};

static void case_expect(const struct tcase *c, const struct pkt_buf *b, struct expect *x)
{
	int vlans = c->s.vlans < 2 ? c->s.vlans : 2;

	memset(x, 0, sizeof(*x));
	x->af = c->af;
	x->cls = c->cls;
	if (c->bytes == BYTES_L3)
		x->bytes = b->len - PKT_ETH_HLEN - 4 * vlans;
	else
		x->bytes = pkt_get16(b, b->l3_off + (b->l3_ver == 4 ? 2 : 4)) +
			   (b->l3_ver == 6 ? 40 : 0);
	x->ike_ver = c->ike_ver;
	x->ike_exch = c->ike_exch;
	x->ike_resp = c->ike_resp;
	if ((c->cls == ESP || c->cls == AH || c->cls == EIU) && !c->build && c->s.spi < 256)
		x->reserved = true;
	else if (c->cls == ESP || c->cls == AH || c->cls == EIU)
		expect_sa(x, b, c->build ? 0x2002 : c->s.spi, c->build ? 9 : c->s.seq);
}

/* The case with TC egress's expectations in place of the receiving hooks'. */
static struct tcase tx_view(const struct tcase *c)
{
	struct tcase t = *c;

	if (c->tx_differs) {
		t.cls = c->tx_cls;
		t.ike_ver = c->tx_ike_ver;
		t.ike_exch = c->tx_ike_exch;
		t.ike_resp = c->tx_ike_resp;
	}
	return t;
}

static void run_table(struct env *e)
{
	__u8 frame[FRAME_MAX];
	struct pkt_buf b;
	struct expect x;
	size_t i, h;
	int err;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct tcase *c = &cases[i];

		pkt_init(&b, frame, sizeof(frame));
		err = c->build ? c->build(&b) : pkt_build(&b, &c->s);
		if (err) {
			struct result r = { 0 };

			mismatch(&r, "building the frame: %s", strerror(-err));
			report_case(c->name, &r);
			continue;
		}
		if (c->mutate)
			c->mutate(&b);
		if (!c->tx_differs) {
			case_expect(c, &b, &x);
			run_all_hooks(e, c->name, &b, &x);
			continue;
		}
		for (h = 0; h < ARRAY_SIZE(hooks); h++) {
			struct tcase t = hooks[h].dir == IPSM_DIR_TX ? tx_view(c) : *c;
			struct expect y;

			if (t.cls == SKIP)
				continue;
			case_expect(&t, &b, &x);
			y = for_dir(&x, hooks[h].dir);
			run_case(e, h, c->name, b.data, b.len, &y);
		}
	}
}

/* --- truncation ---------------------------------------------------------- */

/*
 * ESP over IPv6 with hop-by-hop (8) and destination options (16) over QinQ,
 * cut at every length. The IPv6 payload length keeps the full packet's
 * value, so by parse.h every cut is one of:
 *   < 14  refused by BPF_PROG_TEST_RUN;
 *   14-17 outer tag incomplete: non_ip malformed, bytes len - 14;
 *   18-21 inner tag incomplete: non_ip malformed, bytes len - 18;
 *   22..full-1 ipv6 malformed (header short, or payload length > frame):
 *         bytes = what is left after the tags, len - 22;
 *   full  esp.
 */
static const struct pkt_spec trunc_spec = {
	.vlans = 2,
	.l3 = 6,
	.n_ext = 2,
	.ext = { 0, 60 },
	.l4 = PKT_L4_ESP,
	.spi = 0xc0ffee,
	.seq = 42,
	.payload_len = 16,
};

static void run_truncations(struct env *e)
{
	__u8 frame[FRAME_MAX], cut[FRAME_MAX];
	struct pkt_buf b;
	struct expect x;
	char name[64];
	size_t len;

	pkt_init(&b, frame, sizeof(frame));
	if (pkt_build(&b, &trunc_spec)) {
		struct result r = { 0 };

		mismatch(&r, "building the frame");
		report_case("trunc", &r);
		return;
	}
	for (len = 0; len <= b.len; len++) {
		struct pkt_buf t = b;

		memset(&x, 0, sizeof(x));
		x.cls = BAD;
		if (len < 18) {
			x.af = NON_IP;
			x.bytes = len > 14 ? len - 14 : 0;
		} else if (len < 22) {
			x.af = NON_IP;
			x.bytes = len - 18;
		} else {
			x.af = V6;
			x.bytes = len - 22;
		}
		if (len == b.len) {
			x.cls = ESP;
			expect_sa(&x, &b, trunc_spec.spi, trunc_spec.seq);
		}
		memcpy(cut, frame, len);
		t.data = cut;
		t.len = len;
		snprintf(name, sizeof(name), "trunc_qinq_v6x2_esp/%zu", len);
		run_all_hooks(e, name, &t, &x);
	}
}

/*
 * The same frame cut at every length from the IPv6 header on, but with the
 * payload length cut too, so each bound inside the IPv6 walk is reached
 * with a consistent header. With L the IPv6 packet length (40 + payload):
 *   40-41 hop-by-hop header's first 2 bytes missing: malformed;
 *   42-47 its length field takes off to 48 > L: malformed;
 *   48-49 destination options' first 2 bytes missing: malformed;
 *   50-63 its length takes off to 64 > L: malformed;
 *   64-71 ESP header (8 bytes) incomplete: malformed;
 *   72..  esp.
 * Bytes are L in every case (the payload length matches the frame).
 */
static void run_consistent_truncations(struct env *e)
{
	__u8 frame[FRAME_MAX];
	struct pkt_buf b;
	struct expect x;
	char name[64];
	size_t l3;

	pkt_init(&b, frame, sizeof(frame));
	if (pkt_build(&b, &trunc_spec))
		return;
	for (l3 = 40; l3 <= b.ip_len; l3++) {
		struct pkt_buf t = b;

		t.len = b.l3_off + l3;
		pkt_put16(&t, b.l3_off + 4, l3 - 40);
		memset(&x, 0, sizeof(x));
		x.af = V6;
		x.cls = l3 < 72 ? BAD : ESP;
		x.bytes = l3;
		if (x.cls == ESP)
			expect_sa(&x, &b, trunc_spec.spi, trunc_spec.seq);
		snprintf(name, sizeof(name), "trunc_plen_qinq_v6x2_esp/%zu", l3);
		run_all_hooks(e, name, &t, &x);
	}
}

/* --- sequence numbers ---------------------------------------------------- */

struct seq_step {
	__u32 seq;
	__u32 seq_max;
	__u64 gaps, replays, late; /* gaps: net, seq_gaps - seq_filled */
	__u64 filled, suspect;
};

/*
 * Hand-derived from seq_track() in bpf/ipsecmon.bpf.c (window of 64):
 *   1    first: seq_max 1, window 1
 *   2, 3 diff 1: no gaps
 *   5    diff 2: gaps += 1 (4 missing), window 0b11101
 *   4    back 1, bit clear: a hole filled, gaps 1 -> 0, window 0b11111
 *   4    back 1, bit set: replays 1
 *   100  diff 95 >= 64: window reset to 1, gaps += 94
 *   36   back 64 >= window: late 1
 *   37   back 63, bit clear: hole filled, gaps 94 -> 93
 *   37   back 63, bit set now: replays 2
 */
static const struct seq_step seq_steps[] = {
	{ 1, 1, 0, 0, 0 },	   { 2, 2, 0, 0, 0 },	     { 3, 3, 0, 0, 0 },
	{ 5, 5, 1, 0, 0 },	   { 4, 5, 0, 0, 0, 1 },     { 4, 5, 0, 1, 0, 1 },
	{ 100, 100, 94, 1, 0, 1 }, { 36, 100, 94, 1, 1, 1 }, { 37, 100, 93, 1, 1, 2 },
	{ 37, 100, 93, 2, 1, 2 },
};

/*
 * Far jumps (more than IPSM_SEQ_JUMP_MAX ahead) need a second packet:
 *   10              first
 *   200010          one spoof: suspect 1, seq_max stays 10
 *   11              on as before, no gap
 *   80000           far again, and not near 200010: suspect 2
 *   80002           near 80000: confirmed (suspect 1), seq_max 80002,
 *                   80000 is in the window: gaps 80002 - 11 - 1 - 1 = 79989
 */
static const struct seq_step jump_steps[] = {
	{ 10, 10, 0, 0, 0 },
	{ 200010, 10, 0, 0, 0, 0, 1 },
	{ 11, 11, 0, 0, 0, 0, 1 },
	{ 80000, 11, 0, 0, 0, 0, 2 },
	{ 80002, 80002, 79989, 0, 0, 0, 1 },
};

/*
 * Serial-number wrap: 0xfffffffe, 0xffffffff, then 1 skips 0 (one gap,
 * window 0b1101); 0xffffffff again is back 2, bit set: a replay.
 */
static const struct seq_step wrap_steps[] = {
	{ 0xfffffffe, 0xfffffffe, 0, 0, 0 },
	{ 0xffffffff, 0xffffffff, 0, 0, 0 },
	{ 1, 1, 1, 0, 0 },
	{ 0xffffffff, 1, 1, 1, 0 },
};

static void run_seq(struct env *e, const char *tag, const struct seq_step *steps, size_t n,
		    __u64 final_window)
{
	__u8 frame[FRAME_MAX];
	struct pkt_spec s = ESP4(.spi = 0x5005);
	struct ipsm_sa_val v = { 0 };
	struct pkt_buf b;
	struct expect x;
	size_t h, i;
	char name[64];
	int ret = 0, err;

	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		struct result r = { 0 };

		snprintf(name, sizeof(name), "%s/%s", hooks[h].name, tag);
		err = reset_maps(e);
		if (err) {
			mismatch(&r, "resetting maps: %s", strerror(-err));
			report_case(name, &r);
			continue;
		}
		for (i = 0; i < n; i++) {
			s.seq = steps[i].seq;
			pkt_init(&b, frame, sizeof(frame));
			pkt_build(&b, &s);
			err = run(e->progs[h], b.data, b.len, 1, &ret);
			if (err || ret != hooks[h].verdict) {
				mismatch(&r, "seq %u: run %d verdict %d", steps[i].seq, err, ret);
				break;
			}
			memset(&x, 0, sizeof(x));
			x.cls = ESP;
			x.af = V4;
			expect_sa(&x, &b, s.spi, s.seq);
			x.key.dir = hooks[h].dir;
			err = read_sa(e, &x.key, &v);
			if (err) {
				mismatch(&r, "seq %u: no SA row", steps[i].seq);
				break;
			}
			if (v.packets != i + 1 || v.seq_max != steps[i].seq_max ||
			    v.seq_gaps - v.seq_filled != steps[i].gaps ||
			    v.seq_replays != steps[i].replays || v.seq_late != steps[i].late ||
			    v.seq_filled != steps[i].filled || v.seq_suspect != steps[i].suspect)
				mismatch(
					&r,
					"after seq %u: pkts %llu max %u net gaps %llu replays %llu late %llu filled %llu suspect %llu, want %zu %u %llu %llu %llu %llu %llu",
					steps[i].seq, (unsigned long long)v.packets, v.seq_max,
					(unsigned long long)(v.seq_gaps - v.seq_filled),
					(unsigned long long)v.seq_replays,
					(unsigned long long)v.seq_late,
					(unsigned long long)v.seq_filled,
					(unsigned long long)v.seq_suspect, i + 1, steps[i].seq_max,
					(unsigned long long)steps[i].gaps,
					(unsigned long long)steps[i].replays,
					(unsigned long long)steps[i].late,
					(unsigned long long)steps[i].filled,
					(unsigned long long)steps[i].suspect);
		}
		if (!r.n && v.seq_window != final_window)
			mismatch(&r, "window %#llx, want %#llx", (unsigned long long)v.seq_window,
				 (unsigned long long)final_window);
		report_case(name, &r);
	}
}

/* --- insert budget ------------------------------------------------------- */

/*
 * Load only the three programs under test: the object may carry others
 * (e.g. one needing a kfunc an older kernel lacks) whose absence the
 * loader handles, and which must not keep these tests from loading on 6.1.
 */
static int only_tested_progs(struct ipsecmon *s)
{
	struct bpf_program *p;
	int err;

	bpf_object__for_each_program(p, s->obj) {
		if (p == s->progs.ipsecmon_xdp || p == s->progs.ipsecmon_tc_ingress ||
		    p == s->progs.ipsecmon_tc_egress)
			continue;
		err = bpf_program__set_autoload(p, false);
		if (err)
			return err;
	}
	return 0;
}

static int open_skel(struct ipsecmon **out, __u32 max_sas, __u32 inserts_per_sec)
{
	struct ipsecmon *s;
	int err;

	s = ipsecmon__open();
	if (!s)
		return -errno;
	/* max_sas ~0: the kfunc program too (on kernels that have the kfunc). */
	err = max_sas == ~0U ? 0 : only_tested_progs(s);
	if (max_sas == ~0U)
		max_sas = 0;
	if (err)
		goto err_destroy;
	if (max_sas) {
		err = bpf_map__set_max_entries(s->maps.sa_stats, max_sas);
		if (err)
			goto err_destroy;
	}
	if (inserts_per_sec)
		s->rodata->inserts_per_sec = inserts_per_sec;
	err = ipsecmon__load(s);
	if (err)
		goto err_destroy;
	*out = s;
	return 0;

err_destroy:
	ipsecmon__destroy(s);
	return err;
}

static void use_skel(struct env *e, struct ipsecmon *s)
{
	e->skel = s;
	e->progs[0] = s->progs.ipsecmon_xdp;
	e->progs[1] = s->progs.ipsecmon_tc_ingress;
	e->progs[2] = s->progs.ipsecmon_tc_egress;
}

/* Rows no packet of the tests matches: another direction byte (7). */
static int fill_sa_table(struct env *e, int n)
{
	void *zero = calloc(1, bpf_env_percpu_size(sizeof(struct ipsm_sa_val), e->ncpus));
	struct ipsm_sa_key k = { .dir = 7, .proto = PKT_IPPROTO_ESP };
	struct sa_table t = table(e);
	int i, err = 0;

	if (!zero)
		return -ENOMEM;
	for (i = 0; i < n && !err; i++) {
		k.spi = htonl(0x70000000 + i);
		err = sa_table_create(&t, &k, zero);
	}
	free(zero);
	return err;
}

#define SMALL_TABLE 16

/*
 * sa_stats full (16 rows from userspace): an unknown SPI gets no row, one
 * insert attempt fails (table_full 1, and no retry for a second), and all
 * its packets are untracked. Then one row is freed: within that second the
 * datapath must still not retry.
 */
static void run_table_full(struct env *e)
{
	struct pkt_spec s = ESP4(.spi = 0x6006);
	__u8 frame[FRAME_MAX];
	struct ipsm_sa_val v;
	struct ipsm_sa_key del;
	struct ipsm_dp d;
	struct pkt_buf b;
	struct expect x;
	size_t h;
	char name[64];
	int ret = 0, err, rows;

	pkt_init(&b, frame, sizeof(frame));
	pkt_build(&b, &s);
	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		struct sa_table t = table(e);
		struct result r = { 0 };

		snprintf(name, sizeof(name), "%s/budget_table_full", hooks[h].name);
		err = reset_maps(e);
		if (!err)
			err = fill_sa_table(e, SMALL_TABLE);
		if (err) {
			mismatch(&r, "preparing maps: %s", strerror(-err));
			goto next;
		}
		err = run(e->progs[h], b.data, b.len, REPEAT, &ret);
		if (err || ret != hooks[h].verdict) {
			mismatch(&r, "run %d verdict %d", err, ret);
			goto next;
		}
		memset(&x, 0, sizeof(x));
		x.af = V4;
		x.cls = ESP;
		x.bytes = b.ip_len;
		expect_sa(&x, &b, s.spi, s.seq);
		x.key.dir = hooks[h].dir;
		check_traffic(e, &r, hooks[h].dir, &x, REPEAT);
		if (read_sa(e, &x.key, &v) != -ENOENT)
			mismatch(&r, "the unknown SPI got a row");
		rows = count_sa_rows(e);
		if (rows != SMALL_TABLE)
			mismatch(&r, "%d rows, want %d", rows, SMALL_TABLE);
		read_dp(e, &d);
		if (d.table_full != 1 || d.untracked_packets != REPEAT ||
		    d.untracked_bytes != REPEAT * b.ip_len || d.sa_inserts)
			mismatch(
				&r,
				"dp table_full %llu untracked %llu/%llu inserts %llu, want 1 %d/%llu 0",
				(unsigned long long)d.table_full,
				(unsigned long long)d.untracked_packets,
				(unsigned long long)d.untracked_bytes,
				(unsigned long long)d.sa_inserts, REPEAT,
				(unsigned long long)REPEAT * b.ip_len);

		/* Room again, but the datapath waits out full_until before retrying. */
		memset(&del, 0, sizeof(del));
		del.dir = 7;
		del.proto = PKT_IPPROTO_ESP;
		del.spi = htonl(0x70000000);
		if (sa_table_delete(&t, &del))
			mismatch(&r, "deleting a row: %s", strerror(errno));
		err = run(e->progs[h], b.data, b.len, REPEAT, &ret);
		if (err || ret != hooks[h].verdict)
			mismatch(&r, "second run %d verdict %d", err, ret);
		read_dp(e, &d);
		if (d.table_full != 1 || d.untracked_packets != 2 * REPEAT || d.sa_inserts)
			mismatch(
				&r,
				"after freeing a row: table_full %llu untracked %llu inserts %llu, want 1 %d 0",
				(unsigned long long)d.table_full,
				(unsigned long long)d.untracked_packets,
				(unsigned long long)d.sa_inserts, 2 * REPEAT);
		if (read_sa(e, &x.key, &v) != -ENOENT)
			mismatch(&r, "the unknown SPI got a row inside the back-off second");
next:
		report_case(name, &r);
	}
}

/* Learned rows for the eviction test: tx, SPI 0x7100 + i, last seen at 1000 + i. */
#define LEARNED_SPI 0x7100
#define LEARNED_KEPT 2 /* the two oldest are kernel SAs: never evicted */

static void learned_key(struct ipsm_sa_key *k, int i)
{
	memset(k, 0, sizeof(*k));
	k->dir = IPSM_DIR_TX;
	k->proto = PKT_IPPROTO_ESP;
	k->spi = htonl(LEARNED_SPI + i);
}

static bool keep_kernel_sas(void *ctx, const struct ipsm_sa_key *key)
{
	(void)ctx;
	return ntohl(key->spi) < LEARNED_SPI + LEARNED_KEPT;
}

/*
 * A table of 16 rows full: the monitor's eviction removes the least
 * recently seen eighth of the learned rows (2 of 14: SPIs 0x7102 and
 * 0x7103, not the older kernel SAs' rows), after which a kernel SA's row
 * can be made; a second eviction takes the next two.
 */
static void run_learned_evict(struct env *e)
{
	int i, n, err;
	struct ipsm_sa_val *v = calloc(e->ncpus, sizeof(*v));
	struct sa_table t = table(e);
	struct result r = { 0 };
	struct ipsm_sa_val one;
	struct ipsm_sa_key k;

	err = v ? reset_maps(e) : -ENOMEM;
	for (i = 0; i < SMALL_TABLE && !err; i++) {
		learned_key(&k, i);
		memset(v, 0, e->ncpus * sizeof(*v));
		/* Seen on the last CPU: the eviction takes the latest of all CPUs. */
		v[e->ncpus - 1].packets = 1;
		v[e->ncpus - 1].last_seen = 1000 + i;
		err = sa_table_create(&t, &k, v);
	}
	if (err) {
		mismatch(&r, "preparing the table: %s", strerror(-err));
		goto out;
	}
	learned_key(&k, SMALL_TABLE);
	memset(v, 0, e->ncpus * sizeof(*v));
	err = sa_table_create(&t, &k, v);
	if (err != -E2BIG)
		mismatch(&r, "a 17th row in a table of 16: %s", strerror(-err));
	n = learned_evict(&t, keep_kernel_sas, NULL);
	if (n != 2)
		mismatch(&r, "evicted %d rows, want 2", n);
	for (i = 0; i < SMALL_TABLE; i++) {
		bool want = i < LEARNED_KEPT || i >= LEARNED_KEPT + 2;

		learned_key(&k, i);
		if ((read_sa(e, &k, &one) == 0) != want)
			mismatch(&r, "row 0x%x %s", LEARNED_SPI + i, want ? "gone" : "kept");
	}
	learned_key(&k, SMALL_TABLE);
	err = sa_table_create(&t, &k, v);
	if (err)
		mismatch(&r, "the kernel SA's row after the eviction: %s", strerror(-err));
	n = learned_evict(&t, keep_kernel_sas, NULL);
	learned_key(&k, LEARNED_KEPT + 2);
	if (n != 2 || !read_sa(e, &k, &one))
		mismatch(&r, "second eviction: %d rows, row 0x%x %s, want 2 and gone", n,
			 LEARNED_SPI + LEARNED_KEPT + 2, read_sa(e, &k, &one) ? "gone" : "kept");
	/* 16, less 2, plus the kernel SA's, less 2. */
	n = count_sa_rows(e);
	if (n != SMALL_TABLE - 3)
		mismatch(&r, "%d rows at the end, want %d", n, SMALL_TABLE - 3);
out:
	free(v);
	report_case("learned_rows_evict_oldest", &r);
}

/*
 * A learned row that aged out (the monitor deleted it) is learned again
 * from its next packet, from zero: 3 packets, deleted, 2 more -> 2, and the
 * datapath counted two inserts. The age test itself: idle from idle_ns on,
 * never with 0, and a row with no packet at all is idle.
 */
static void run_learned_relearn(struct env *e)
{
	struct pkt_spec s = ESP4(.spi = 0x7200);
	const int h = 2; /* tc-egress: a sent SPI's row is always learned */
	struct ipsm_sa row = { .last_seen = 5000 };
	struct sa_table t = table(e);
	__u8 frame[FRAME_MAX];
	struct result r = { 0 };
	struct ipsm_sa_val v;
	struct ipsm_dp d;
	struct pkt_buf b;
	struct expect x;
	int ret = 0, err;

	pkt_init(&b, frame, sizeof(frame));
	pkt_build(&b, &s);
	memset(&x, 0, sizeof(x));
	expect_sa(&x, &b, s.spi, s.seq);
	x.key.dir = hooks[h].dir;
	err = reset_maps(e);
	if (!err)
		err = run(e->progs[h], b.data, b.len, 3, &ret);
	if (!err && read_sa(e, &x.key, &v))
		err = -ENOENT;
	if (err || v.packets != 3) {
		mismatch(&r, "first packets: %s, row packets %llu, want 3", strerror(-err),
			 (unsigned long long)v.packets);
		goto out;
	}
	if (sa_table_delete(&t, &x.key))
		mismatch(&r, "ageing the row out: %s", strerror(errno));
	err = run(e->progs[h], b.data, b.len, 2, &ret);
	if (err || read_sa(e, &x.key, &v) || v.packets != 2 || v.bytes != 2ULL * b.ip_len)
		mismatch(&r, "after ageing: row packets %llu bytes %llu, want 2 %llu",
			 (unsigned long long)v.packets, (unsigned long long)v.bytes,
			 2ULL * b.ip_len);
	read_dp(e, &d);
	if (d.sa_inserts != 2 || d.untracked_packets)
		mismatch(&r, "dp inserts %llu untracked %llu, want 2 0",
			 (unsigned long long)d.sa_inserts, (unsigned long long)d.untracked_packets);
	if (learned_idle(&row, 5999, 1000) || !learned_idle(&row, 6000, 1000) ||
	    learned_idle(&row, 1000000, 0) || !learned_idle(&(struct ipsm_sa){ 0 }, 1, 1000) ||
	    learned_idle(&row, 4000, 1000))
		mismatch(&r, "learned_idle: idle from last_seen + idle_ns, never with 0");
out:
	report_case("learned_row_ages_out_and_is_learned_again", &r);
}

/* --- the SA cache -------------------------------------------------------- */

/* A row's packets as the table holds them, without what CPUs' slots hold. */
static __u64 raw_packets(struct env *e, const struct ipsm_sa_key *key)
{
	struct ipsm_sa_val *v = calloc(e->ncpus, sizeof(*v));
	__u64 n = 0;
	int i;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.sa_stats), key, v))
		for (i = 0; i < e->ncpus; i++)
			n += v[i].packets;
	free(v);
	return n;
}

static int insert_row(struct env *e, const struct ipsm_sa_key *k);
static __u64 mono_coarse_ns(void);

/* An IPv4 ESP frame of SPI spi, and its row's key at hook h. */
static void spi_frame(int h, __u32 spi, struct pkt_buf *b, __u8 *frame, struct ipsm_sa_key *key)
{
	struct pkt_spec s = ESP4(.spi = spi);
	struct expect x;

	pkt_init(b, frame, FRAME_MAX);
	pkt_build(b, &s);
	memset(&x, 0, sizeof(x));
	x.af = IPSM_AF_IPV4;
	expect_sa(&x, b, s.spi, s.seq);
	x.key.dir = hooks[h].dir;
	*key = x.key;
}

/* Send n frames of SPI spi through hook h. */
static int send_spi(struct env *e, int h, __u32 spi, int n)
{
	struct ipsm_sa_key key;
	__u8 frame[FRAME_MAX];
	struct pkt_buf b;
	int ret = 0, err;

	spi_frame(h, spi, &b, frame, &key);
	err = run(e->progs[h], b.data, b.len, n, &ret);
	return err ? err : ret == hooks[h].verdict ? 0 : -EPROTO;
}

static __u64 cached_packets(struct env *e, const struct ipsm_sa_key *key)
{
	struct ipsm_sa_val v;

	return read_sa(e, key, &v) ? ~0ULL : v.packets;
}

/*
 * The datapath's timestamps are CLOCK_MONOTONIC_COARSE, read once per jiffy
 * (dp_now): never ahead of the clock, at most a tick (10 ms at HZ 100)
 * behind it, and a packet 30 ms later is seen later.
 */
static int times_on_coarse_clock(struct env *e, int h, __u32 spi, const struct ipsm_sa_key *key,
				 struct result *r)
{
	const __u64 tick = 10000000ULL;
	__u64 t0, t1, t2, t3;
	struct ipsm_sa_val v;
	int err;

	t0 = mono_coarse_ns();
	err = send_spi(e, h, spi, 1);
	t1 = mono_coarse_ns();
	usleep(30000);
	t2 = mono_coarse_ns();
	if (!err)
		err = send_spi(e, h, spi, 1);
	t3 = mono_coarse_ns();
	if (!err)
		err = read_sa(e, key, &v);
	if (err)
		return err;
	if (v.first_seen + tick < t0 || v.first_seen > t1 || v.last_seen + tick < t2 ||
	    v.last_seen > t3 || v.last_seen <= v.first_seen)
		mismatch(r, "first %llu in [%llu, %llu], last %llu in [%llu, %llu] (less a tick)",
			 (unsigned long long)v.first_seen, (unsigned long long)t0,
			 (unsigned long long)t1, (unsigned long long)v.last_seen,
			 (unsigned long long)t2, (unsigned long long)t3);
	return 0;
}

/* One step of a cache case, on row a or row b (SPIs that share a slot). */
enum cache_op { OP_END, OP_ROW, OP_SEND, OP_DEL, OP_REWRITE, OP_EPOCH0 };

struct cache_step {
	enum cache_op op;
	int row; /* 0: a, 1: b */
	int n; /* OP_SEND: packets */
};

struct cache_case {
	const char *name;
	struct cache_step steps[10];
	/* Reads afterwards (-1: not checked); want_a adds 100 per CPU when rewritten. */
	long long want_a, want_b, want_raw_a;
	bool rewritten;
};

/*
 * A known SA's packets count in its CPU's cache slot: after 10 packets the
 * row itself holds the first (the one that filled the slot), readers see
 * 10. Two rows of one slot take it in turn: each hands its counts back to
 * its row, 3+4 and 2+1 exactly. A row that user space rewrote (as the
 * monitor's SPI-reuse split does, 100 on every CPU) keeps what was
 * written; nor does an old slot come back over a row deleted and made
 * again: by the datapath in the same tick with as many packets as at the
 * fill, by the monitor for a new SA, or after two epochs in a row (the
 * second used to be the one the slot was filled under).
 */
static const struct cache_case cache_cases[] = {
	{ "sa_cache_known_sa_counts_in_its_slot", { { OP_ROW }, { OP_SEND, 0, 10 } }, 10, -1, 1 },
	{ "sa_cache_colliding_rows_written_back",
	  { { OP_ROW },
	    { OP_ROW, 1 },
	    { OP_SEND, 0, 3 },
	    { OP_SEND, 1, 2 },
	    { OP_SEND, 0, 4 },
	    { OP_SEND, 1, 1 } },
	  7,
	  3,
	  7 },
	{ "sa_cache_rewritten_row_kept",
	  { { OP_ROW }, { OP_SEND, 0, 5 }, { OP_REWRITE }, { OP_SEND, 0, 3 } },
	  3,
	  -1,
	  -1,
	  true },
	{ "sa_cache_row_made_anew_not_overwritten",
	  { { OP_ROW }, { OP_SEND, 0, 3 }, { OP_DEL }, { OP_SEND, 0, 2 } },
	  2,
	  -1,
	  -1 },
	{ "sa_cache_sa_deleted_and_added_again",
	  { { OP_ROW }, { OP_SEND, 0, 10 }, { OP_DEL }, { OP_ROW }, { OP_SEND, 0, 10 } },
	  10,
	  -1,
	  -1 },
	{ "sa_cache_two_epochs_in_a_row",
	  { { OP_EPOCH0 },
	    { OP_ROW },
	    { OP_ROW, 1 },
	    { OP_SEND, 0, 10 },
	    { OP_DEL, 1 },
	    { OP_DEL },
	    { OP_ROW },
	    { OP_SEND, 0, 4 } },
	  4,
	  -1,
	  -1 },
};

static int cache_step(struct env *e, int h, const struct cache_step *st,
		      const struct ipsm_sa_key *keys, const __u32 *spis, struct ipsm_sa_val *w)
{
	struct sa_table t = table(e);
	__u64 zero = 0;
	__u32 k = 0;
	int c;

	switch (st->op) {
	case OP_ROW:
		return insert_row(e, &keys[st->row]);
	case OP_SEND:
		return send_spi(e, h, spis[st->row], st->n);
	case OP_DEL:
		return sa_table_delete(&t, &keys[st->row]);
	case OP_REWRITE:
		memset(w, 0, e->ncpus * sizeof(*w));
		for (c = 0; c < e->ncpus; c++)
			w[c].packets = 100;
		return sa_table_update(&t, &keys[st->row], w, BPF_EXIST);
	case OP_EPOCH0:
		return bpf_map_update_elem(t.fd_epoch, &k, &zero, BPF_ANY) ? -errno : 0;
	case OP_END:
		break;
	}
	return 0;
}

static void run_sa_cache(struct env *e)
{
	struct ipsm_sa_key keys[2];
	__u32 spis[2] = { 0x7300 };
	struct ipsm_sa_val *w;
	__u8 frame[FRAME_MAX];
	struct pkt_buf pb;
	size_t h, i, j;
	long long a, b, raw, want;
	int err;

	w = calloc(e->ncpus, sizeof(*w));
	if (!w)
		return;
	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		struct result r = { 0 };
		char name[80];

		spi_frame(h, spis[0], &pb, frame, &keys[0]);
		/* b: another SPI of the same slot. */
		keys[1] = keys[0];
		for (spis[1] = spis[0] + 1; spis[1] < spis[0] + 1000000; spis[1]++) {
			keys[1].spi = htonl(spis[1]);
			if (ipsm_sa_slot_of(&keys[1]) == ipsm_sa_slot_of(&keys[0]))
				break;
		}
		for (i = 0; i < ARRAY_SIZE(cache_cases); i++) {
			const struct cache_case *cc = &cache_cases[i];

			memset(&r, 0, sizeof(r));
			snprintf(name, sizeof(name), "%s/%s", hooks[h].name, cc->name);
			err = reset_maps(e);
			for (j = 0; !err && cc->steps[j].op != OP_END; j++)
				err = cache_step(e, h, &cc->steps[j], keys, spis, w);
			a = (long long)cached_packets(e, &keys[0]);
			b = (long long)cached_packets(e, &keys[1]);
			raw = (long long)raw_packets(e, &keys[0]);
			want = cc->want_a + (cc->rewritten ? 100LL * e->ncpus : 0);
			if (err || ipsm_sa_slot_of(&keys[0]) != ipsm_sa_slot_of(&keys[1]) ||
			    a != want || (cc->want_b >= 0 && b != cc->want_b) ||
			    (cc->want_raw_a >= 0 && raw != cc->want_raw_a))
				mismatch(
					&r,
					"%s: a read %lld (row %lld), b read %lld; want %lld %lld %lld",
					strerror(-err), a, raw, b, want, cc->want_b,
					cc->want_raw_a);
			report_case(name, &r);
		}

		memset(&r, 0, sizeof(r));
		snprintf(name, sizeof(name), "%s/sa_times_on_the_coarse_clock", hooks[h].name);
		err = reset_maps(e);
		if (!err)
			err = insert_row(e, &keys[0]);
		if (!err)
			err = times_on_coarse_clock(e, h, spis[0], &keys[0], &r);
		if (err)
			mismatch(&r, "%s", strerror(-err));
		report_case(name, &r);
	}
	free(w);
}

#define RATE_BUDGET 3
#define RATE_SPIS 5

/*
 * inserts_per_sec = 3: five new SPIs in a burst (well inside one second)
 * get three rows; the other two are untracked, and the table is not full.
 */
static void run_rate_budget(struct env *e)
{
	__u8 frame[FRAME_MAX];
	struct pkt_spec s = ESP4();
	struct ipsm_dp d;
	struct pkt_buf b;
	size_t h;
	char name[64];
	int i, ret = 0, err, rows;

	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		struct result r = { 0 };

		snprintf(name, sizeof(name), "%s/budget_inserts_per_sec", hooks[h].name);
		err = reset_maps(e);
		if (err) {
			mismatch(&r, "resetting maps: %s", strerror(-err));
			goto next;
		}
		for (i = 0; i < RATE_SPIS; i++) {
			s.spi = 0x8000 + i;
			pkt_init(&b, frame, sizeof(frame));
			pkt_build(&b, &s);
			err = run(e->progs[h], b.data, b.len, 1, &ret);
			if (err || ret != hooks[h].verdict)
				mismatch(&r, "spi %#x: run %d verdict %d", s.spi, err, ret);
		}
		rows = count_sa_rows(e);
		read_dp(e, &d);
		if (rows != RATE_BUDGET || d.sa_inserts != RATE_BUDGET ||
		    d.untracked_packets != RATE_SPIS - RATE_BUDGET ||
		    d.untracked_bytes != (RATE_SPIS - RATE_BUDGET) * b.ip_len || d.table_full)
			mismatch(
				&r,
				"rows %d inserts %llu untracked %llu/%llu table_full %llu, want %d %d %d/%u 0",
				rows, (unsigned long long)d.sa_inserts,
				(unsigned long long)d.untracked_packets,
				(unsigned long long)d.untracked_bytes,
				(unsigned long long)d.table_full, RATE_BUDGET, RATE_BUDGET,
				RATE_SPIS - RATE_BUDGET, (RATE_SPIS - RATE_BUDGET) * b.ip_len);
next:
		report_case(name, &r);
	}
}

/* --- bad SPIs --------------------------------------------------------------- */

#define BAD_N 5

/* An ESP frame from 127.0.0.2 to 127.0.0.1: a local destination for the FIB. */
static int build_local_esp(struct pkt_buf *b, __u8 *frame, __u32 spi)
{
	struct pkt_spec s = ESP4(.spi = spi);
	static const __u8 src[4] = { 127, 0, 0, 2 }, dst[4] = { 127, 0, 0, 1 };
	int err;

	pkt_init(b, frame, FRAME_MAX);
	err = pkt_build(b, &s);
	if (err)
		return err;
	/* The classifier reads addresses, not the checksum. */
	memcpy(b->data + b->l3_off + 12, src, 4);
	memcpy(b->data + b->l3_off + 16, dst, 4);
	/*
	 * To the test device's own MAC (loopback's, all zeros): a frame to
	 * another host's is never ours, so never a bad SPI.
	 */
	memset(b->data, 0, 6);
	return 0;
}

static void local_key(struct ipsm_sa_key *k, int dir, __u32 spi)
{
	memset(k, 0, sizeof(*k));
	k->dir = dir;
	k->proto = PKT_IPPROTO_ESP;
	k->family = IPSM_AF_IPV4;
	k->spi = htonl(spi);
	k->daddr[0] = 127;
	k->daddr[3] = 1;
}

/* Packets recorded for spi in the bad-SPI table, over all slots and CPUs. */
static __u64 bad_spi_packets(struct env *e, struct ipsecmon *s, __u32 spi)
{
	int fd = bpf_map__fd(s->maps.bad_spis), i;
	struct ipsm_bad_spi *v = calloc(e->ncpus, sizeof(*v));
	__u64 n = 0;
	__u32 k;

	if (!v)
		return 0;
	for (k = 0; k < IPSM_BAD_SPI_SLOTS; k++) {
		if (bpf_map_lookup_elem(fd, &k, v))
			break;
		for (i = 0; i < e->ncpus; i++)
			if (v[i].spi == htonl(spi) && v[i].daddr[0] == 127)
				n += v[i].packets;
	}
	free(v);
	return n;
}

static __u64 dp_bad(struct env *e, struct ipsecmon *s)
{
	struct ipsm_dp *v = calloc(e->ncpus, sizeof(*v));
	__u64 n = 0;
	__u32 k = 0;
	int i;

	if (v && !bpf_map_lookup_elem(bpf_map__fd(s->maps.dp), &k, v))
		for (i = 0; i < e->ncpus; i++)
			n += v[i].bad_spi_packets;
	free(v);
	return n;
}

static int set_live(struct ipsecmon *s, bool live)
{
	return set_config(s, live ? ~0ULL : 0, 0, 0);
}

static int insert_row(struct env *e, const struct ipsm_sa_key *k)
{
	void *zero = calloc(1, bpf_env_percpu_size(sizeof(struct ipsm_sa_val), e->ncpus));
	struct sa_table t = table(e);
	int err;

	if (!zero)
		return -ENOMEM;
	err = sa_table_create(&t, k, zero);
	free(zero);
	return err;
}

/*
 * A monitor's heartbeat in the correlation map: a row is a kernel SA, an
 * inbound miss to a local address is a bad SPI (no row, counted in dp and
 * the bad-SPI table), an outbound miss is not. Without the heartbeat the same
 * SPI gets a row.
 */
static void run_bad_spi_monitor(struct env *e)
{
	const __u32 known = 0x5001, unknown = 0x5002;
	__u8 frame[FRAME_MAX];
	struct ipsm_sa_key k;
	struct ipsm_sa_val v;
	struct pkt_buf b;
	char name[64];
	size_t h;
	int ret = 0, err;

	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		struct result r = { 0 };
		int dir = hooks[h].dir;

		snprintf(name, sizeof(name), "%s/bad_spi_monitor_live", hooks[h].name);
		err = reset_maps(e);
		if (!err)
			err = bpf_env_zero_array(bpf_map__fd(e->skel->maps.bad_spis),
						 IPSM_BAD_SPI_SLOTS, sizeof(struct ipsm_bad_spi),
						 e->ncpus);
		local_key(&k, dir, known);
		if (!err)
			err = insert_row(e, &k);
		if (!err)
			err = set_live(e->skel, true) ? -errno : 0;
		if (err) {
			mismatch(&r, "setup: %s", strerror(-err));
			goto next;
		}
		build_local_esp(&b, frame, known);
		if (run(e->progs[h], b.data, b.len, BAD_N, &ret) || ret != hooks[h].verdict)
			mismatch(&r, "known: verdict %d", ret);
		if (read_sa(e, &k, &v) || v.packets != BAD_N)
			mismatch(&r, "known SA row: %llu packets, want %d",
				 (unsigned long long)v.packets, BAD_N);

		build_local_esp(&b, frame, unknown);
		if (run(e->progs[h], b.data, b.len, BAD_N, &ret) || ret != hooks[h].verdict)
			mismatch(&r, "unknown: verdict %d", ret);
		local_key(&k, dir, unknown);
		if (dir == IPSM_DIR_RX) {
			if (read_sa(e, &k, &v) != -ENOENT)
				mismatch(&r, "a bad SPI got an SA row");
			if (dp_bad(e, e->skel) != BAD_N ||
			    bad_spi_packets(e, e->skel, unknown) != BAD_N)
				mismatch(&r, "bad SPI packets %llu, table %llu, want %d",
					 (unsigned long long)dp_bad(e, e->skel),
					 (unsigned long long)bad_spi_packets(e, e->skel, unknown),
					 BAD_N);
		} else {
			/* We send with SAs the kernel chose: an outbound miss is a late row. */
			if (read_sa(e, &k, &v) || v.packets != BAD_N || dp_bad(e, e->skel))
				mismatch(&r, "outbound unknown SPI: row %llu packets, bad %llu",
					 (unsigned long long)v.packets,
					 (unsigned long long)dp_bad(e, e->skel));
		}
next:
		report_case(name, &r);

		/* Heartbeat gone: no one vouches for the table, nothing is bad. */
		struct result r2 = { 0 };

		snprintf(name, sizeof(name), "%s/bad_spi_monitor_stale", hooks[h].name);
		reset_maps(e);
		set_live(e->skel, false);
		build_local_esp(&b, frame, unknown);
		if (run(e->progs[h], b.data, b.len, BAD_N, &ret) || ret != hooks[h].verdict)
			mismatch(&r2, "verdict %d", ret);
		local_key(&k, dir, unknown);
		if (read_sa(e, &k, &v) || v.packets != BAD_N || dp_bad(e, e->skel))
			mismatch(&r2, "row %llu packets, bad %llu, want %d and 0",
				 (unsigned long long)v.packets,
				 (unsigned long long)dp_bad(e, e->skel), BAD_N);
		report_case(name, &r2);
	}
}

/*
 * The XDP program that asks the kernel's SAD (6.8+). This host has no SAs
 * at all (no ESP in its kernel): every inbound ESP to a local address is a
 * bad SPI, whatever the SA table says.
 */
static int set_iface_mac(struct ipsecmon *s, const __u8 *mac);

static void run_bad_spi_kernel(struct env *e, struct ipsecmon *s)
{
	const __u32 spi = 0x5003;
	__u8 frame[FRAME_MAX];
	struct result r = { 0 };
	struct ipsm_sa_key k;
	struct ipsm_sa_val v;
	struct pkt_buf b;
	int ret = 0;

	e->skel = s;
	reset_maps(e);
	local_key(&k, IPSM_DIR_RX, spi);
	insert_row(e, &k);
	build_local_esp(&b, frame, spi);
	if (run(s->progs.ipsecmon_xdp_kfunc, b.data, b.len, BAD_N, &ret) || ret != XDP_PASS_)
		mismatch(&r, "verdict %d", ret);
	if (dp_bad(e, s) != BAD_N || bad_spi_packets(e, s, spi) != BAD_N)
		mismatch(&r, "bad SPI packets %llu, table %llu, want %d",
			 (unsigned long long)dp_bad(e, s),
			 (unsigned long long)bad_spi_packets(e, s, spi), BAD_N);
	if (read_sa(e, &k, &v) || v.packets)
		mismatch(&r, "the stale row counted %llu packets", (unsigned long long)v.packets);
	/* The verdict is kept for the revalidation period: one lookup, not one per packet. */
	if (!(v.flags & IPSM_SA_F_MISSING) || !v.checked)
		mismatch(&r, "the row's verdict not kept: flags 0x%x, checked %llu", v.flags,
			 (unsigned long long)v.checked);
	report_case("xdp_kfunc/bad_spi_no_sa_in_kernel", &r);

	/* While the verdict is kept, a frame to another host's MAC is still not ours. */
	{
		static const __u8 mac[6] = { 0x02, 0, 0, 0, 0, 0x09 };
		struct result r2 = { 0 };

		set_iface_mac(s, mac);
		b.data[5] = 0x22;
		if (run(s->progs.ipsecmon_xdp_kfunc, b.data, b.len, BAD_N, &ret) ||
		    ret != XDP_PASS_)
			mismatch(&r2, "verdict %d", ret);
		if (read_sa(e, &k, &v) || v.packets != BAD_N || dp_bad(e, s) != BAD_N)
			mismatch(&r2, "row %llu, bad %llu, want %d and %d",
				 (unsigned long long)v.packets, (unsigned long long)dp_bad(e, s),
				 BAD_N, BAD_N);
		set_iface_mac(s, (const __u8[6]){ 0 });
		report_case("xdp_kfunc/kept_verdict_other_host_not_bad", &r2);
	}
}

/* --- local, transit and another host's frames --------------------------- */

static int set_local(struct ipsecmon *s, const __u8 *v4, bool add)
{
	struct ipsm_addr_key k = { .family = IPSM_AF_IPV4 };
	__u8 one = 1;
	int fd = bpf_map__fd(s->maps.local_addrs);

	memcpy(k.addr, v4, 4);
	if (add)
		return bpf_map_update_elem(fd, &k, &one, BPF_ANY) ? -errno : 0;
	return bpf_map_delete_elem(fd, &k) && errno != ENOENT ? -errno : 0;
}

static int set_iface_mac(struct ipsecmon *s, const __u8 *mac)
{
	struct ipsm_iface_meta m = { 0 };
	__u32 k = 0;

	memcpy(m.mac, mac, 6);
	return bpf_map_update_elem(bpf_map__fd(s->maps.iface_meta), &k, &m, BPF_ANY) ? -errno : 0;
}

/* One receive-side decision: BAD_N packets, then bad SPIs and the row's packets. */
static void decide(struct env *e, const char *name, int h, const struct pkt_buf *b, __u32 spi,
		   __u64 want_bad, __u64 want_row)
{
	struct result r = { 0 };
	struct ipsm_sa_key k;
	struct ipsm_sa_val v = { 0 };
	char full[96];
	int ret = 0;

	snprintf(full, sizeof(full), "%s/%s", hooks[h].name, name);
	if (run(e->progs[h], b->data, b->len, BAD_N, &ret) || ret != hooks[h].verdict)
		mismatch(&r, "verdict %d", ret);
	local_key(&k, IPSM_DIR_RX, spi);
	if (read_sa(e, &k, &v) && want_row)
		mismatch(&r, "no SA row");
	if (dp_bad(e, e->skel) != want_bad || v.packets != want_row)
		mismatch(&r, "bad SPI packets %llu, row %llu, want %llu and %llu",
			 (unsigned long long)dp_bad(e, e->skel), (unsigned long long)v.packets,
			 (unsigned long long)want_bad, (unsigned long long)want_row);
	report_case(full, &r);
}

/*
 * With the monitor's address list in place (IPSM_CFG_LOCAL_ADDRS) it alone
 * says what is ours: 127.0.0.1, which the FIB calls local, is transit once
 * it is not in the list, and a frame to another host's MAC is never ours.
 */
static void run_local_decisions(struct env *e)
{
	static const __u8 lo1[4] = { 127, 0, 0, 1 };
	static const __u8 mac[6] = { 0x02, 0, 0, 0, 0, 0x09 };
	const __u32 spi = 0x6001;
	__u8 frame[FRAME_MAX];
	struct pkt_buf b;
	size_t h;
	int err;

	for (h = 0; h < ARRAY_SIZE(hooks); h++) {
		if (hooks[h].dir != IPSM_DIR_RX)
			continue;
		build_local_esp(&b, frame, spi);

		err = reset_maps(e);
		if (!err)
			err = set_config(e->skel, ~0ULL, 0, IPSM_CFG_LOCAL_ADDRS);
		if (!err)
			err = set_local(e->skel, lo1, true);
		if (err)
			fprintf(stderr, "local setup: %s\n", strerror(-err));
		decide(e, "local_addrs_map_local", h, &b, spi, BAD_N, 0);

		reset_maps(e);
		set_local(e->skel, lo1, false);
		decide(e, "local_addrs_map_transit", h, &b, spi, 0, BAD_N);

		/*
		 * The answer is kept per CPU for IPSM_LOCAL_MEMO_NS; once that
		 * passed, an address gone from the list is transit again.
		 */
		reset_maps(e);
		set_local(e->skel, lo1, true);
		decide(e, "local_memo_filled", h, &b, spi, BAD_N, 0);
		set_local(e->skel, lo1, false);
		usleep(3 * IPSM_LOCAL_MEMO_NS / 1000);
		decide(e, "local_memo_expired", h, &b, spi, BAD_N, BAD_N);

		/* No list yet: the FIB decides, and it calls 127.0.0.1 local. */
		reset_maps(e);
		set_config(e->skel, ~0ULL, 0, 0);
		decide(e, "local_by_fib_before_list", h, &b, spi, BAD_N, 0);

		/* To another host's MAC (TC: PACKET_OTHERHOST; XDP: not the interface's). */
		reset_maps(e);
		set_iface_mac(e->skel, mac);
		b.data[5] = 0x22;
		decide(e, "other_host_mac_never_bad", h, &b, spi, 0, BAD_N);
		if (hooks[h].dir == IPSM_DIR_RX && h == 0) {
			/* XDP: the interface's own MAC is ours. */
			reset_maps(e);
			memcpy(b.data, mac, 6);
			decide(e, "own_mac_is_ours", h, &b, spi, BAD_N, 0);
		}
		set_iface_mac(e->skel, (const __u8[6]){ 0 });
		set_config(e->skel, 0, 0, 0);
	}
}

/* The slot of a bad SPI as count_bad_spi() computes it. */
static __u32 bad_slot(__u32 spi_be, __u32 seed, const __u8 *src4, const __u8 *dst4)
{
	__u32 h, s, d;

	memcpy(&s, src4, 4);
	memcpy(&d, dst4, 4);
	h = (spi_be ^ seed) * 0x9e3779b1;
	h ^= s * 0x85ebca6b ^ d * 0xc2b2ae35;
	h ^= h >> 16;
	return h & (IPSM_BAD_SPI_SLOTS - 1);
}

/* The namespace's seed moves a bad SPI to another slot: flooders cannot aim. */
static void run_bad_spi_seed(struct env *e)
{
	static const __u8 src[4] = { 127, 0, 0, 2 }, dst[4] = { 127, 0, 0, 1 };
	const __u32 spi = 0x6101;
	__u32 seeds[2] = { 1, 2 }, slot[2], k;
	struct ipsm_bad_spi *v = calloc(e->ncpus, sizeof(*v));
	__u8 frame[FRAME_MAX];
	struct result r = { 0 };
	struct pkt_buf b;
	int i, c, ret = 0;

	/* Two seeds that put this SPI in different slots. */
	while (bad_slot(htonl(spi), seeds[0], src, dst) == bad_slot(htonl(spi), seeds[1], src, dst))
		seeds[1]++;
	for (i = 0; i < 2 && v; i++) {
		reset_maps(e);
		bpf_env_zero_array(bpf_map__fd(e->skel->maps.bad_spis), IPSM_BAD_SPI_SLOTS,
				   sizeof(struct ipsm_bad_spi), e->ncpus);
		set_config(e->skel, ~0ULL, seeds[i], 0);
		build_local_esp(&b, frame, spi);
		if (run(e->progs[0], b.data, b.len, BAD_N, &ret) || ret != XDP_PASS_)
			mismatch(&r, "verdict %d", ret);
		slot[i] = ~0U;
		for (k = 0; k < IPSM_BAD_SPI_SLOTS; k++) {
			if (bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.bad_spis), &k, v))
				continue;
			for (c = 0; c < e->ncpus; c++)
				if (v[c].spi == htonl(spi) && v[c].packets == BAD_N)
					slot[i] = k;
		}
		if (slot[i] != bad_slot(htonl(spi), seeds[i], src, dst))
			mismatch(&r, "seed %u: slot %u, want %u", seeds[i], slot[i],
				 bad_slot(htonl(spi), seeds[i], src, dst));
	}
	if (!v)
		mismatch(&r, "out of memory");
	set_config(e->skel, 0, 0, 0);
	free(v);
	report_case("xdp/bad_spi_seeded_slot", &r);
}

static __u64 mono_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * The kfunc program trusts a row the kernel confirmed less than
 * IPSM_REVALIDATE_NS ago without asking again: here, where the kernel has
 * no SAs at all, such a row still counts its packets. Marks in use are
 * tried on the miss path and find nothing either.
 */
static void run_kfunc_revalidation(struct env *e, struct ipsecmon *s)
{
	const __u32 spi = 0x5004;
	struct ipsm_marks m = { .n = 3, .mark = { 5, 0x10, 0xff00 } };
	void *vals = calloc(e->ncpus, bpf_env_percpu_size(sizeof(struct ipsm_sa_val), e->ncpus));
	__u8 frame[FRAME_MAX];
	struct result r = { 0 }, r2 = { 0 };
	struct ipsm_sa_key k;
	struct ipsm_sa_val v;
	struct pkt_buf b;
	__u32 zero = 0;
	int c, ret = 0;

	e->skel = s;
	reset_maps(e);
	local_key(&k, IPSM_DIR_RX, spi);
	if (!vals)
		return;
	/*
	 * Confirmed on every CPU, and stamped an hour ahead so that no
	 * scheduling delay of this test can make the confirmation look old.
	 */
	for (c = 0; c < e->ncpus; c++)
		((struct ipsm_sa_val *)((char *)vals +
					c * ((sizeof(struct ipsm_sa_val) + 7) & ~7UL)))
			->checked = mono_coarse_ns() + 3600 * 1000000000ULL;
	{
		struct sa_table t = table(e);

		sa_table_create(&t, &k, vals);
	}
	build_local_esp(&b, frame, spi);
	if (run(s->progs.ipsecmon_xdp_kfunc, b.data, b.len, BAD_N, &ret) || ret != XDP_PASS_)
		mismatch(&r, "verdict %d", ret);
	memset(&v, 0, sizeof(v));
	if (read_sa(e, &k, &v) || dp_bad(e, s) || v.packets != BAD_N)
		mismatch(&r, "bad %llu, row %llu packets, want 0 and %d",
			 (unsigned long long)dp_bad(e, s), (unsigned long long)v.packets, BAD_N);
	report_case("xdp_kfunc/confirmed_row_not_asked_again", &r);

	reset_maps(e);
	bpf_map_update_elem(bpf_map__fd(s->maps.marks), &zero, &m, BPF_ANY);
	if (run(s->progs.ipsecmon_xdp_kfunc, b.data, b.len, BAD_N, &ret) || ret != XDP_PASS_)
		mismatch(&r2, "verdict %d", ret);
	if (dp_bad(e, s) != BAD_N || read_sa(e, &k, &v) != -ENOENT)
		mismatch(&r2, "bad %llu, want %d and no row", (unsigned long long)dp_bad(e, s),
			 BAD_N);
	memset(&m, 0, sizeof(m));
	bpf_map_update_elem(bpf_map__fd(s->maps.marks), &zero, &m, BPF_ANY);
	report_case("xdp_kfunc/marks_tried_on_miss", &r2);
	free(vals);
}

/*
 * Past IPSM_KERNEL_CHECKS_PER_SEC SPIs without a row in a second the kernel
 * is not asked: with no monitor, the next packet makes a row as the plain
 * program would; that row's revalidation is asked whatever the budget, and
 * finds the SA missing from the next packet on.
 */
static void run_kfunc_budget(struct env *e, struct ipsecmon *s)
{
	const __u32 spi = 0x5005, n = IPSM_KERNEL_CHECKS_PER_SEC + 100;
	struct ipsm_dp d;
	__u8 frame[FRAME_MAX];
	struct result r = { 0 };
	struct ipsm_sa_key k;
	struct ipsm_sa_val v = { 0 };
	struct pkt_buf b;
	int ret = 0;

	e->skel = s;
	reset_maps(e);
	local_key(&k, IPSM_DIR_RX, spi);
	build_local_esp(&b, frame, spi);
	if (run(s->progs.ipsecmon_xdp_kfunc, b.data, b.len, n, &ret) || ret != XDP_PASS_)
		mismatch(&r, "verdict %d", ret);
	if (read_sa(e, &k, &v) || dp_bad(e, s) != n - 1 || v.packets != 1)
		mismatch(&r, "bad %llu, row %llu packets, want %u and 1",
			 (unsigned long long)dp_bad(e, s), (unsigned long long)v.packets, n - 1);
	/* Only the packet that made the row went unasked; the row's are revalidations. */
	if (read_dp(e, &d) || d.kernel_checks_skipped != 1)
		mismatch(&r, "kernel_checks_skipped %llu, want 1",
			 (unsigned long long)d.kernel_checks_skipped);
	report_case("xdp_kfunc/check_budget_then_plain", &r);
}

/* --- main ---------------------------------------------------------------- */
/* --- IKEv2 health ------------------------------------------------------ */

/* One IKE slot (IPSM_IKE_*_IDX) summed over CPUs; ~0 when unreadable. */
static __u64 ike_slot(struct env *e, __u32 k)
{
	__u64 *v = calloc(e->ncpus, sizeof(*v)), n = 0;
	int i;

	if (!v || bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.ike), &k, v)) {
		free(v);
		return ~0ULL;
	}
	for (i = 0; i < e->ncpus; i++)
		n += v[i];
	free(v);
	return n;
}

/*
 * An IKEv2 payload for ike2_frame(): a notify of type ntype, or 12 bytes of
 * another type; for an IKE fragment (53), ntype is its Fragment Number.
 */
struct ike2_pl {
	__u8 type;
	__u16 ntype;
};

/* The addresses an IKE step's message goes between. */
enum ike_hosts {
	IKE_V4, /* the frame builder's default pair: 192.0.2.1 to 198.51.100.1 */
	IKE_V4_OTHER, /* 192.0.2.99 to 198.51.100.99 */
	IKE_V6, /* 2001:db8::1 to 2001:db8::2 */
	IKE_V6_NEXT, /* the same but for the last byte of each: ::11 to ::12 */
};

/*
 * IKEv2 over UDP 500 between the hosts given, with the given SPIs (low
 * byte; 0 stays 0), message ID and payloads.
 */
static int ike2_frame(struct pkt_buf *b, __u8 *frame, __u8 exch, __u8 flags, __u8 spi_i, __u8 spi_r,
		      __u32 msgid, const struct ike2_pl *pl, int n, enum ike_hosts hosts)
{
	__u8 s6[16] = { 0x20, 0x01, 0x0d, 0xb8 }, d6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	unsigned int body = 0, off;
	__u8 *h;
	int i;

	for (i = 0; i < n; i++)
		body += pl[i].type == 41 ? 8 : 12;
	pkt_init(b, frame, FRAME_MAX);
	pkt_eth(b, NULL, NULL);
	/* Other hosts differ from the first whichever end is the peer. */
	if (hosts == IKE_V6 || hosts == IKE_V6_NEXT) {
		s6[15] = hosts == IKE_V6 ? 1 : 0x11;
		d6[15] = hosts == IKE_V6 ? 2 : 0x12;
		pkt_ipv6(b, s6, d6);
	} else {
		bool other = hosts == IKE_V4_OTHER;

		pkt_ipv4(b, &(struct pkt_ipv4){ .saddr = other ? 0xc0000263 : 0,
						.daddr = other ? 0xc6336463 : 0 });
	}
	pkt_udp(b, 500, 500);
	off = b->len;
	pkt_ike(b, 2, exch, flags, body);
	if (b->err)
		return b->err;
	h = b->data + off;
	memset(h, 0, 16);
	h[7] = spi_i;
	h[15] = spi_r;
	h[16] = n ? pl[0].type : 0;
	h[20] = msgid >> 24;
	h[23] = msgid & 0xff;
	off += PKT_IKE_HLEN;
	for (i = 0; i < n; i++) {
		unsigned int len = pl[i].type == 41 ? 8 : 12;
		__u8 *g = b->data + off;

		memset(g, 0, len);
		g[0] = i + 1 < n ? pl[i + 1].type : 0;
		g[2] = len >> 8;
		g[3] = len & 0xff;
		if (pl[i].type == 41) {
			g[4] = 1; /* protocol IKE */
			g[6] = pl[i].ntype >> 8;
			g[7] = pl[i].ntype & 0xff;
		} else if (pl[i].type == 53) {
			g[4] = pl[i].ntype >> 8; /* Fragment Number, of 2 */
			g[5] = pl[i].ntype & 0xff;
			g[7] = 2;
		}
		off += len;
	}
	return pkt_finish(b);
}

struct ike_step {
	const char *what;
	__u8 exch, flags, spi_i, spi_r;
	__u32 msgid;
	struct ike2_pl pl[6];
	int n;
	int times;
	enum ike_hosts hosts;
};

#define SA_PL         \
	{             \
		33, 0 \
	}
#define N_PL(t)       \
	{             \
		41, t \
	}

/* Each hook on its own: what one gateway's hook sees of these messages. */
/* One step per entry, not one field per line. */
/* clang-format off */
static const struct ike_step ike_steps[] = {
	{ "init request, twice more", 34, 0x08, 1, 0, 0, { SA_PL }, 1, 3 },
	{ "the same from another host: no retransmit", 34, 0x08, 1, 0, 0, { SA_PL }, 1, 1, IKE_V4_OTHER },
	{ "init request again with a cookie: longer, not a retransmit", 34, 0x08, 1, 0, 0,
	  { N_PL(16390), SA_PL }, 2, 1 },
	{ "refused: no proposal chosen", 34, 0x20, 2, 0, 0, { N_PL(14) }, 1, 1 },
	{ "refused: invalid KE, resent once", 34, 0x20, 3, 0, 0, { N_PL(17) }, 1, 2 },
	{ "refused: cookie", 34, 0x20, 4, 0, 0, { N_PL(16390) }, 1, 1 },
	{ "refused: invalid syntax", 34, 0x20, 5, 0, 0, { N_PL(7) }, 1, 1 },
	{ "refused: authentication failed (other)", 34, 0x20, 6, 0, 0, { N_PL(24) }, 1, 1 },
	{ "answered: SA, KE, Nonce, two NAT-D status notifies", 34, 0x20, 7, 0x71, 0,
	  { SA_PL, { 34, 0 }, { 40, 0 }, N_PL(16388), N_PL(16389) }, 5, 1 },
	{ "answered, then its IKE_AUTH request", 34, 0x20, 8, 0x81, 0, { SA_PL }, 1, 1 },
	{ "IKE_AUTH of the answered SA 8", 35, 0x08, 8, 0x81, 1, { { 46, 0 } }, 1, 1 },
	{ "an error notify as the sixth payload: still walked", 34, 0x20, 9, 0x91, 0,
	  { SA_PL, SA_PL, SA_PL, SA_PL, SA_PL, N_PL(14) }, 6, 1 },
	{ "a notify with a length under 8: not read", 34, 0x20, 10, 0xa1, 0, { { 41, 14 } }, 1, 1 },
	/* IKE fragments of one message, all alike but for the number; the second resent. */
	{ "IKE_AUTH fragment 1", 35, 0x08, 11, 0xb1, 1, { { 53, 1 } }, 1, 1 },
	{ "IKE_AUTH fragment 2, twice", 35, 0x08, 11, 0xb1, 1, { { 53, 2 } }, 1, 2 },
	/* Step 1 again but for one field the digest packs with others. */
	{ "step 1 with the Response flag: another message", 34, 0x28, 1, 0, 0, { SA_PL }, 1, 1 },
	{ "step 1 as CREATE_CHILD_SA: another message", 36, 0x08, 1, 0, 0, { SA_PL }, 1, 1 },
	{ "step 1 over IPv6, twice", 34, 0x08, 1, 0, 0, { SA_PL }, 1, 2, IKE_V6 },
	{ "the same between IPv6 neighbours: no retransmit", 34, 0x08, 1, 0, 0, { SA_PL }, 1, 1,
	  IKE_V6_NEXT },
};
/* clang-format on */

/* Expected after all steps, per hook's direction. */
#define IKE_WANT_RETX 5 /* two of step 1, one of step 4, fragment 2, step 1 over IPv6 */
#define IKE_WANT_NOTIFY       \
	{                     \
		2, 1, 1, 1, 1 \
	} /* steps 3+11, 4, 5, 6, 7 */

static void run_ike_health(struct env *e)
{
	static const __u64 want_ntf[IPSM_NTF_MAX] = IKE_WANT_NOTIFY;
	static const char *const ntf[IPSM_NTF_MAX] = { "no_proposal_chosen", "invalid_ke_payload",
						       "cookie", "invalid_syntax", "other" };
	__u8 frame[FRAME_MAX];
	struct pkt_buf b;
	size_t i;
	int h, k;

	for (h = 0; h < 3; h++) {
		struct ipsm_ike_sa_key sk = { 0 };
		struct ipsm_ike_sa sa;
		struct result r = { 0 };
		char name[64];
		int ret, err;
		__u64 n;

		if (reset_maps(e)) {
			mismatch(&r, "resetting the maps");
			goto report;
		}
		for (i = 0; i < ARRAY_SIZE(ike_steps); i++) {
			const struct ike_step *st = &ike_steps[i];

			err = ike2_frame(&b, frame, st->exch, st->flags, st->spi_i, st->spi_r,
					 st->msgid, st->pl, st->n, st->hosts);
			/* Step 13: shrink the notify to 4 bytes (a bare payload header). */
			if (!err && i == 12) {
				__u8 *g = b.data + b.len - 8;

				g[3] = 4;
			}
			for (k = 0; !err && k < st->times; k++)
				err = run(e->progs[h], b.data, b.len, 1, &ret);
			if (err) {
				mismatch(&r, "%s: %s", st->what, strerror(-err));
				goto report;
			}
		}
		n = ike_slot(e, IPSM_IKE_RETX_IDX(hooks[h].dir));
		if (n != IKE_WANT_RETX)
			mismatch(&r, "retransmits %llu, want %d", (unsigned long long)n,
				 IKE_WANT_RETX);
		n = ike_slot(e, IPSM_IKE_RETX_IDX(!hooks[h].dir));
		if (n)
			mismatch(&r, "retransmits the other way %llu, want 0",
				 (unsigned long long)n);
		for (k = 0; k < IPSM_NTF_MAX; k++) {
			n = ike_slot(e, IPSM_IKE_NOTIFY_IDX(k));
			if (n != want_ntf[k])
				mismatch(&r, "notify %s %llu, want %llu", ntf[k],
					 (unsigned long long)n, (unsigned long long)want_ntf[k]);
		}
		/* Answered: 7, 8 (authenticated), 10 (no error read); 9 refused. */
		for (k = 7; k <= 10; k++) {
			sk.spi_i = (__u64)k << 56;
			sk.spi_r = (__u64)(k * 16 + 1) << 56;
			err = bpf_map_lookup_elem(bpf_map__fd(e->skel->maps.ike_sas), &sk, &sa);
			if (k == 9) {
				if (!err)
					mismatch(&r, "IKE SA 9 tracked, but its response refused");
				continue;
			}
			if (err) {
				mismatch(&r, "IKE SA %d not tracked", k);
				continue;
			}
			if (!sa.answered || (k == 8) != !!sa.authed || sa.family != IPSM_AF_IPV4)
				mismatch(&r, "IKE SA %d: answered %llu authed %llu family %u", k,
					 (unsigned long long)sa.answered,
					 (unsigned long long)sa.authed, sa.family);
			/* The peer is the other end of the response. */
			if (sa.peer[0] != (hooks[h].dir == IPSM_DIR_RX ? 192 : 198))
				mismatch(&r, "IKE SA %d: peer starts %u", k, sa.peer[0]);
		}
report:
		snprintf(name, sizeof(name), "ike_health_%s", hooks[h].name);
		report_case(name, &r);
	}
}

int main(void)
{
	struct ipsecmon *main_skel = NULL, *small = NULL, *rate = NULL, *kf = NULL;
	struct env e = { 0 };
	int err, failed = 0;

	libbpf_set_print(bpf_env_print);
	bpf_env_pin_cpu();
	e.ncpus = libbpf_num_possible_cpus();
	if (e.ncpus <= 0) {
		fprintf(stderr, "cannot count possible CPUs: %s\n", strerror(-e.ncpus));
		return 1;
	}

	err = open_skel(&main_skel, 0, 0);
	if (err) {
		fprintf(stderr, "loading the skeleton: %s\n", strerror(-err));
		return 1;
	}
	err = open_skel(&small, SMALL_TABLE, 0);
	if (err) {
		fprintf(stderr, "loading the skeleton with %d SAs: %s\n", SMALL_TABLE,
			strerror(-err));
		goto cleanup;
	}
	err = open_skel(&rate, 0, RATE_BUDGET);
	if (err) {
		fprintf(stderr, "loading the skeleton with %d inserts/s: %s\n", RATE_BUDGET,
			strerror(-err));
		goto cleanup;
	}

	use_skel(&e, main_skel);
	run_table(&e);
	check_filter(&e, "row_filter_after_datapath_rows");
	run_truncations(&e);
	run_consistent_truncations(&e);
	run_seq(&e, "seq_1_2_3_5_4_4_100_36_37_37", seq_steps, ARRAY_SIZE(seq_steps),
		1 | 1ULL << 63);
	run_seq(&e, "seq_wrap", wrap_steps, ARRAY_SIZE(wrap_steps), 0xd);
	run_seq(&e, "seq_far_jump_needs_a_second_packet", jump_steps, ARRAY_SIZE(jump_steps), 0x5);

	run_bad_spi_monitor(&e);
	run_local_decisions(&e);
	run_bad_spi_seed(&e);
	run_sa_cache(&e);
	run_ike_health(&e);

	use_skel(&e, small);
	run_table_full(&e);
	check_filter(&e, "row_filter_after_refused_inserts");
	run_learned_evict(&e);
	check_filter(&e, "row_filter_after_evictions");
	run_learned_relearn(&e);
	use_skel(&e, rate);
	run_rate_budget(&e);
	check_filter(&e, "row_filter_after_insert_budget");

	if (bpf_env_has_kfunc()) {
		err = open_skel(&kf, ~0U, 0);
		if (err) {
			fprintf(stderr, "loading the kfunc program: %s\n", strerror(-err));
			goto cleanup;
		}
		run_bad_spi_kernel(&e, kf);
		run_kfunc_revalidation(&e, kf);
		run_kfunc_budget(&e, kf);
		check_filter(&e, "row_filter_after_kernel_checks");
	} else {
		report_skip("no bpf_xdp_get_xfrm_state in this kernel: kfunc case not run");
	}

	failed = report_finish();
	err = 0;
cleanup:
	ipsecmon__destroy(kf);
	ipsecmon__destroy(rate);
	ipsecmon__destroy(small);
	ipsecmon__destroy(main_skel);
	if (err)
		return 1;
	return failed ? 1 : 0;
}
