// SPDX-License-Identifier: GPL-2.0
/* Read the pinned maps and sum them over all possible CPUs. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate.h"
#include "attach.h"
#include "log.h"
#include "maps.h"
#include "netns.h"
#include "sa_table.h"

void agg_add_ctr(struct ipsm_ctr *sum, const struct ipsm_ctr *percpu, int ncpus)
{
	int i;

	for (i = 0; i < ncpus; i++) {
		sum->packets += percpu[i].packets;
		sum->bytes += percpu[i].bytes;
	}
}

__u64 agg_sum_u64(const __u64 *percpu, int ncpus)
{
	__u64 t = 0;
	int i;

	for (i = 0; i < ncpus; i++)
		t += percpu[i];
	return t;
}

void agg_sum_dp(struct ipsm_dp *sum, const struct ipsm_dp *percpu, int ncpus)
{
	int i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < ncpus; i++) {
		sum->sa_inserts += percpu[i].sa_inserts;
		sum->untracked_packets += percpu[i].untracked_packets;
		sum->untracked_bytes += percpu[i].untracked_bytes;
		sum->table_full += percpu[i].table_full;
		sum->bad_spi_packets += percpu[i].bad_spi_packets;
		sum->bad_spi_bytes += percpu[i].bad_spi_bytes;
		sum->bad_spi_evicted += percpu[i].bad_spi_evicted;
		sum->reserved_spi_packets += percpu[i].reserved_spi_packets;
		sum->ike_peer_evicted += percpu[i].ike_peer_evicted;
		sum->kernel_checks_skipped += percpu[i].kernel_checks_skipped;
	}
}

static __u64 to_realtime(__u64 mono, __u64 mono_now, __u64 real_now)
{
	if (!mono)
		return 0;
	/* A CPU may have stamped it after we read the clock. */
	if (mono >= mono_now)
		return real_now;
	return real_now - (mono_now - mono);
}

void agg_sum_sa(struct ipsm_sa *out, const struct ipsm_sa_key *key,
		const struct ipsm_sa_val *percpu, int ncpus, __u64 mono_now, __u64 real_now)
{
	__u64 first = 0, last = 0;
	bool have_seq = false;
	int i, seq_cpus = 0;

	memset(out, 0, sizeof(*out));
	out->key = *key;
	for (i = 0; i < ncpus; i++) {
		const struct ipsm_sa_val *v = &percpu[i];

		out->packets += v->packets;
		out->bytes += v->bytes;
		out->seq_gaps += v->seq_gaps;
		out->seq_filled += v->seq_filled;
		out->seq_replays += v->seq_replays;
		out->seq_late += v->seq_late;
		out->seq_suspect += v->seq_suspect;
		out->flags |= v->flags;
		if (v->first_seen && (!first || v->first_seen < first))
			first = v->first_seen;
		if (v->last_seen > last) {
			last = v->last_seen;
			memcpy(out->saddr, v->saddr, sizeof(out->saddr));
		}
		if (v->flags & IPSM_SA_F_SEQ_VALID) {
			/* Highest in serial-number order, as the datapath compares. */
			if (!have_seq || (__s32)(v->seq_max - out->seq_max) > 0)
				out->seq_max = v->seq_max;
			seq_cpus++;
			have_seq = true;
		}
	}
	out->seq_exact = seq_cpus <= 1;
	out->first_seen = to_realtime(first, mono_now, real_now);
	out->last_seen = to_realtime(last, mono_now, real_now);
}

int agg_key_cmp(const struct ipsm_sa_key *x, const struct ipsm_sa_key *y)
{
	if (x->dir != y->dir)
		return x->dir - y->dir;
	if (x->proto != y->proto)
		return x->proto - y->proto;
	if (x->family != y->family)
		return x->family - y->family;
	if (x->spi != y->spi)
		return ntohl(x->spi) < ntohl(y->spi) ? -1 : 1;
	return memcmp(x->daddr, y->daddr, sizeof(x->daddr));
}

static int sa_cmp(const void *a, const void *b)
{
	return agg_key_cmp(&((const struct ipsm_sa *)a)->key, &((const struct ipsm_sa *)b)->key);
}

static int key_vs_row(const void *key, const void *row)
{
	return agg_key_cmp(key, &((const struct ipsm_sa *)row)->key);
}

struct ipsm_sa *agg_find_sa(struct ipsm_sa *sas, size_t n, const struct ipsm_sa_key *key)
{
	if (!n)
		return NULL;
	return bsearch(key, sas, n, sizeof(*sas), key_vs_row);
}

void agg_sort_sas(struct ipsm_sa *sas, size_t n)
{
	if (n)
		qsort(sas, n, sizeof(*sas), sa_cmp);
}

static bool bad_key_eq(const struct ipsm_bad_spi_row *r, const struct ipsm_bad_spi *b)
{
	return r->spi == b->spi && r->proto == b->proto && r->family == b->family &&
	       !memcmp(r->saddr, b->saddr, 16) && !memcmp(r->daddr, b->daddr, 16);
}

static int bad_cmp(const void *a, const void *b)
{
	const struct ipsm_bad_spi_row *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return ntohl(x->spi) < ntohl(y->spi) ? -1 : ntohl(x->spi) > ntohl(y->spi);
}

static int ike_peer_cmp(const void *a, const void *b)
{
	const struct ipsm_ike_peer_row *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

int agg_merge_ike_peers(const struct ipsm_ike_peer *percpu, int slots, int ncpus, __u64 mono_now,
			__u64 real_now, struct ipsm_ike_peer_row **out, size_t *n)
{
	struct ipsm_ike_peer_row *rows;
	size_t cnt = 0, kept, j;
	int i, d;

	*out = NULL;
	*n = 0;
	rows = calloc((size_t)slots * ncpus + 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < slots * ncpus; i++) {
		const struct ipsm_ike_peer *e = &percpu[i];

		if (!e->used)
			continue;
		rows[cnt].family = e->family;
		memcpy(rows[cnt].addr, e->addr, 16);
		for (d = 0; d < IPSM_DIR_MAX; d++)
			rows[cnt].msgs[d] = e->msgs[d];
		rows[cnt++].last_seen = to_realtime(e->last_seen, mono_now, real_now);
	}
	/* Sorted, then merged: many CPUs may hold the same peer. */
	qsort(rows, cnt, sizeof(*rows), ike_peer_cmp);
	for (j = 0, kept = 0; j < cnt; j++) {
		if (kept && !ike_peer_cmp(&rows[j], &rows[kept - 1])) {
			for (d = 0; d < IPSM_DIR_MAX; d++)
				rows[kept - 1].msgs[d] += rows[j].msgs[d];
			if (rows[j].last_seen > rows[kept - 1].last_seen)
				rows[kept - 1].last_seen = rows[j].last_seen;
			continue;
		}
		rows[kept++] = rows[j];
	}
	*out = rows;
	*n = kept;
	return 0;
}

/* The IKE peer slots, merged across CPUs. */
static int read_ike_peers(const struct ipsm_paths *p, int ncpus, __u64 mono_ns, __u64 real_ns,
			  struct ipsm_snapshot *s)
{
	struct ipsm_ike_peer *v;
	char path[PATH_MAX];
	int fd, err;
	__u32 k;

	ipsm_map_path(p, 0, IPSM_MAP_IKE_PEERS, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	v = calloc((size_t)IPSM_IKE_PEER_SLOTS * ncpus, sizeof(*v));
	if (!v) {
		close(fd);
		return -ENOMEM;
	}
	for (k = 0; k < IPSM_IKE_PEER_SLOTS; k++)
		if (bpf_map_lookup_elem(fd, &k, &v[(size_t)k * ncpus])) {
			err = -errno;
			goto out;
		}
	err = agg_merge_ike_peers(v, IPSM_IKE_PEER_SLOTS, ncpus, mono_ns, real_ns, &s->ike_peers,
				  &s->n_ike_peers);
out:
	free(v);
	close(fd);
	return err;
}

int agg_merge_bad_spis(const struct ipsm_bad_spi *percpu, int slots, int ncpus, __u64 mono_now,
		       __u64 real_now, struct ipsm_bad_spi_row **out, size_t *n)
{
	struct ipsm_bad_spi_row *rows;
	size_t cnt = 0, j;
	int i;

	*out = NULL;
	*n = 0;
	rows = calloc((size_t)slots * ncpus, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	for (i = 0; i < slots * ncpus; i++) {
		const struct ipsm_bad_spi *b = &percpu[i];
		__u64 first = to_realtime(b->first_seen, mono_now, real_now);
		__u64 last = to_realtime(b->last_seen, mono_now, real_now);

		if (!b->spi)
			continue;
		/* The same key lands in the same slot on every CPU; a linear merge is fine. */
		for (j = 0; j < cnt; j++)
			if (bad_key_eq(&rows[j], b))
				break;
		if (j == cnt) {
			rows[cnt].spi = b->spi;
			rows[cnt].proto = b->proto;
			rows[cnt].family = b->family;
			memcpy(rows[cnt].saddr, b->saddr, 16);
			memcpy(rows[cnt].daddr, b->daddr, 16);
			rows[cnt].first_seen = first;
			cnt++;
		}
		rows[j].packets += b->packets;
		rows[j].bytes += b->bytes;
		if (first && first < rows[j].first_seen)
			rows[j].first_seen = first;
		if (last > rows[j].last_seen)
			rows[j].last_seen = last;
	}
	if (cnt)
		qsort(rows, cnt, sizeof(*rows), bad_cmp);
	*out = rows;
	*n = cnt;
	return 0;
}

static int read_iface_counters(const struct ipsm_paths *p, __u32 ifindex, int ncpus,
			       struct ipsm_snapshot *s)
{
	void *buf;
	__u32 k;
	int fd = -1, err = 0;

	buf = calloc(ncpus, sizeof(struct ipsm_ctr));
	if (!buf)
		return -ENOMEM;
	fd = ipsm_map_open(p, ifindex, IPSM_MAP_TRAFFIC);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	for (k = 0; k < IPSM_TRAFFIC_MAX; k++) {
		__u32 dir_ = k / (IPSM_AF_MAX * IPSM_CLASS_MAX);
		__u32 af = k / IPSM_CLASS_MAX % IPSM_AF_MAX, cls = k % IPSM_CLASS_MAX;

		if (bpf_map_lookup_elem(fd, &k, buf)) {
			err = -errno;
			goto out;
		}
		agg_add_ctr(&s->traffic[dir_][af][cls], buf, ncpus);
	}
	close(fd);
	fd = ipsm_map_open(p, ifindex, IPSM_MAP_IKE);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	for (k = 0; k < IPSM_IKE_MAX; k++) {
		__u64 *flat = &s->ike[0][0][0][0];

		if (bpf_map_lookup_elem(fd, &k, buf)) {
			err = -errno;
			goto out;
		}
		/* The map index is the flat index of the snapshot's array. */
		flat[k] += agg_sum_u64(buf, ncpus);
	}
	/* IKEv2 health, in the slots after the message counts. */
	for (k = IPSM_IKE_MAX; k < IPSM_IKE_SLOTS; k++) {
		if (bpf_map_lookup_elem(fd, &k, buf)) {
			err = -errno;
			goto out;
		}
		if (k < IPSM_IKE_NOTIFY_IDX(0))
			s->ike_retransmits[k - IPSM_IKE_RETX_IDX(0)] += agg_sum_u64(buf, ncpus);
		else
			s->ike_notify[k - IPSM_IKE_NOTIFY_IDX(0)] += agg_sum_u64(buf, ncpus);
	}
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

/* All SA rows, with one batch lookup per 256 keys. */
static int read_sas(const struct sa_table *t, __u64 mono_now, __u64 real_now,
		    struct ipsm_snapshot *s)
{
	struct ipsm_sa_slot *slots = NULL;
	const int ncpus = t->ncpus;
	const __u32 chunk = 256;
	struct ipsm_sa_key *keys;
	struct ipsm_sa_val *vals;
	struct ipsm_sa *sas = NULL, *ns;
	__u32 batch, count, i;
	bool first = true;
	size_t n = 0;
	int err = 0;

	/* The cache before the rows: a slot written back meanwhile is in its row then. */
	err = sa_table_slots(t, &slots);
	if (err)
		return err;
	keys = calloc(chunk, sizeof(*keys));
	vals = calloc((size_t)chunk * ncpus, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = chunk;
		err = bpf_map_lookup_batch(t->fd_rows, first ? NULL : &batch, &batch, keys, vals,
					   &count, NULL);
		if (err && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		if (count) {
			ns = realloc(sas, (n + count) * sizeof(*sas));
			if (!ns) {
				err = -ENOMEM;
				goto out;
			}
			sas = ns;
			for (i = 0; i < count; i++) {
				sa_table_overlay(slots, ncpus, &keys[i], &vals[(size_t)i * ncpus]);
				agg_sum_sa(&sas[n + i], &keys[i], &vals[(size_t)i * ncpus], ncpus,
					   mono_now, real_now);
			}
			n += count;
		}
		if (err) /* ENOENT: that was the last batch */
			break;
		first = false;
	}
	err = 0;
	agg_sort_sas(sas, n);
	s->sas = sas;
	s->n_sas = n;
	sas = NULL;
out:
	free(sas);
	free(keys);
	free(vals);
	free(slots);
	return err;
}

/*
 * The monitor's pinned state (heartbeat, totals, per-SA records) and the
 * bad-SPI table. Who decides bad SPIs from that is correlate.c's call.
 */
static int read_correlation_state(const struct ipsm_paths *p, int ncpus, __u64 mono_ns,
				  __u64 real_ns, struct ipsm_snapshot *s)
{
	struct ipsm_bad_spi *bad = NULL;
	struct ipsm_config cfg = {};
	struct ipsm_totals again;
	int fd, info_fd, tries, err = 0;
	__u32 k = 0;
	size_t i;

	fd = ipsm_map_open(p, 0, IPSM_MAP_CORRELATION);
	if (fd < 0)
		return fd;
	bpf_map_lookup_elem(fd, &k, &cfg);
	close(fd);
	s->read_mono_ns = mono_ns;
	s->monitor_live_until = cfg.live_until;

	fd = ipsm_map_open(p, 0, IPSM_MAP_TOTALS);
	if (fd < 0)
		return fd;
	info_fd = ipsm_map_open(p, 0, IPSM_MAP_SA_INFO);
	if (info_fd < 0) {
		close(fd);
		return info_fd;
	}
	/*
	 * Totals and records as of one journal number: a fold that lands
	 * between the two reads would count an SA twice or not at all.
	 */
	for (tries = 0; tries < 8; tries++) {
		s->have_totals = !bpf_map_lookup_elem(fd, &k, &s->totals);
		for (i = 0; i < s->n_sas; i++)
			s->sas[i].have_info =
				!bpf_map_lookup_elem(info_fd, &s->sas[i].key, &s->sas[i].info);
		if (bpf_map_lookup_elem(fd, &k, &again) || again.journal == s->totals.journal)
			break;
	}
	close(info_fd);
	close(fd);

	fd = ipsm_map_open(p, 0, IPSM_MAP_BAD_SPIS);
	if (fd < 0)
		return fd;
	bad = calloc((size_t)IPSM_BAD_SPI_SLOTS * ncpus, sizeof(*bad));
	if (!bad) {
		err = -ENOMEM;
		goto out;
	}
	for (k = 0; k < IPSM_BAD_SPI_SLOTS; k++) {
		if (bpf_map_lookup_elem(fd, &k, &bad[(size_t)k * ncpus])) {
			err = ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot read bad SPIs: %s",
					 strerror(errno));
			goto out;
		}
	}
	err = agg_merge_bad_spis(bad, IPSM_BAD_SPI_SLOTS, ncpus, mono_ns, real_ns, &s->bad_spis,
				 &s->n_bad_spis);
	if (!err) {
		err = read_ike_peers(p, ncpus, mono_ns, real_ns, s);
		if (err)
			err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot read the IKE peers: %s",
					 strerror(-err));
	}
out:
	free(bad);
	close(fd);
	return err;
}

static bool selected(const struct ipsm_iface *ifc, char *const *names, int n_names)
{
	char cur[IF_NAMESIZE];
	int i;

	if (!n_names)
		return true;
	for (i = 0; i < n_names; i++) {
		if (!strcmp(names[i], ifc->name))
			return true;
		/* Renamed since attach: the current name counts too. */
		if (ifc->present && if_indextoname(ifc->ifindex, cur) && !strcmp(names[i], cur))
			return true;
	}
	return false;
}

int snapshot_read(const struct ipsm_paths *p, char *const *names, int n_names,
		  struct ipsm_snapshot *s)
{
	struct timespec mono;
	struct sa_table t = { .fd_rows = -1, .fd_cache = -1, .fd_epoch = -1 };
	struct ipsm_dp *dpv = NULL;
	struct bpf_map_info info = {};
	__u32 *ids = NULL, ilen = sizeof(info), k = 0;
	__u64 mono_ns, real_ns;
	int ncpus, fd = -1, i, err;
	size_t j, n_ids;

	memset(s, 0, sizeof(*s));
	netns_id(&s->netns_id);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0)
		return ipsm_error(IPSM_EXIT_FAIL, ncpus, "cannot count CPUs: %s", strerror(-ncpus));
	if (!pins_present(p))
		return ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT,
				  "nothing attached in this network namespace");
	err = pins_list_ifaces(p, &ids, &n_ids);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot list %s: %s", p->ns, strerror(-err));
	if (!n_ids) {
		err = ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT,
				 "nothing attached in this network namespace");
		goto out;
	}
	s->ifaces = calloc(n_ids, sizeof(*s->ifaces));
	if (!s->ifaces) {
		err = -ENOMEM;
		goto out;
	}
	for (j = 0; j < n_ids; j++) {
		struct ipsm_iface ifc;

		err = ipsm_iface_read(p, ids[j], &ifc);
		if (err) {
			err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot read ifindex %u's state: %s",
					 ids[j], strerror(-err));
			goto out;
		}
		if (selected(&ifc, names, n_names))
			s->ifaces[s->n_ifaces++] = ifc;
	}
	for (i = 0; i < n_names; i++) {
		for (j = 0; j < s->n_ifaces; j++)
			if (selected(&s->ifaces[j], &names[i], 1))
				break;
		if (j == s->n_ifaces) {
			err = ipsm_error(IPSM_EXIT_NOT_ATTACHED, -ENOENT,
					 "ipsecmon-bpf is not attached to %s", names[i]);
			goto out;
		}
	}

	/* One instant on both clocks, as close to the reads as we can. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &mono);
	clock_gettime(CLOCK_REALTIME, &s->time);
	for (j = 0; j < s->n_ifaces; j++) {
		err = read_iface_counters(p, s->ifaces[j].ifindex, ncpus, s);
		if (err)
			goto out;
	}
	err = sa_table_open(p, &t);
	if (err)
		goto out;
	if (!bpf_obj_get_info_by_fd(t.fd_rows, &info, &ilen))
		s->max_sas = info.max_entries;
	mono_ns = mono.tv_sec * 1000000000ULL + mono.tv_nsec;
	real_ns = s->time.tv_sec * 1000000000ULL + s->time.tv_nsec;
	err = read_sas(&t, mono_ns, real_ns, s);
	sa_table_close(&t);
	if (err) {
		err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot read the SA table: %s",
				 strerror(-err));
		goto out;
	}
	fd = ipsm_map_open(p, 0, IPSM_MAP_DP);
	if (fd < 0) {
		err = fd;
		goto out;
	}
	dpv = calloc(ncpus, sizeof(*dpv));
	if (!dpv) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, &k, dpv)) {
		err = ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot read datapath counters: %s",
				 strerror(errno));
		goto out;
	}
	agg_sum_dp(&s->dp, dpv, ncpus);
	err = read_correlation_state(p, ncpus, mono_ns, real_ns, s);
	if (err)
		goto out;
	err = 0;
out:
	if (fd >= 0)
		close(fd);
	free(dpv);
	free(ids);
	if (err)
		snapshot_free(s);
	return err;
}
