// SPDX-License-Identifier: GPL-2.0
/* Read the pinned maps and sum them over all possible CPUs. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "aggregate.h"
#include "attach.h"
#include "log.h"
#include "netns.h"

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
	int i;

	memset(out, 0, sizeof(*out));
	out->key = *key;
	for (i = 0; i < ncpus; i++) {
		const struct ipsm_sa_val *v = &percpu[i];

		out->packets += v->packets;
		out->bytes += v->bytes;
		out->seq_gaps += v->seq_gaps;
		out->seq_replays += v->seq_replays;
		out->seq_late += v->seq_late;
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
			have_seq = true;
		}
	}
	out->first_seen = to_realtime(first, mono_now, real_now);
	out->last_seen = to_realtime(last, mono_now, real_now);
}

static int sa_cmp(const void *a, const void *b)
{
	const struct ipsm_sa_key *x = &((const struct ipsm_sa *)a)->key;
	const struct ipsm_sa_key *y = &((const struct ipsm_sa *)b)->key;

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

void agg_sort_sas(struct ipsm_sa *sas, size_t n)
{
	if (n)
		qsort(sas, n, sizeof(*sas), sa_cmp);
}

static int open_pin(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int fd;

	pins_path(path, sizeof(path), dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	return fd;
}

static int read_iface_counters(const char *dir, int ncpus, struct ipsm_snapshot *s)
{
	void *buf;
	__u32 k;
	int fd = -1, err = 0;

	buf = calloc(ncpus, sizeof(struct ipsm_ctr));
	if (!buf)
		return -ENOMEM;
	fd = open_pin(dir, "traffic");
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
	fd = open_pin(dir, "ike");
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
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return err;
}

/* All SA rows, with one batch lookup per 256 keys. */
static int read_sas(int fd, int ncpus, __u64 mono_now, __u64 real_now, struct ipsm_snapshot *s)
{
	const __u32 chunk = 256;
	struct ipsm_sa_key *keys;
	struct ipsm_sa_val *vals;
	struct ipsm_sa *sas = NULL, *ns;
	__u32 batch, count, i;
	bool first = true;
	size_t n = 0;
	int err = 0;

	keys = calloc(chunk, sizeof(*keys));
	vals = calloc((size_t)chunk * ncpus, sizeof(*vals));
	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	for (;;) {
		count = chunk;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys, vals, &count,
					   NULL);
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
			for (i = 0; i < count; i++)
				agg_sum_sa(&sas[n + i], &keys[i], &vals[(size_t)i * ncpus], ncpus,
					   mono_now, real_now);
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
	struct ipsm_dp *dpv = NULL;
	struct bpf_map_info info = {};
	__u32 *ids = NULL, ilen = sizeof(info), k = 0;
	char dir[PATH_MAX];
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
		pins_iface_dir(p, s->ifaces[j].ifindex, dir, sizeof(dir));
		err = read_iface_counters(dir, ncpus, s);
		if (err)
			goto out;
	}
	fd = open_pin(p->ns, "sa_stats");
	if (fd < 0) {
		err = fd;
		goto out;
	}
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		s->max_sas = info.max_entries;
	err = read_sas(fd, ncpus, mono.tv_sec * 1000000000ULL + mono.tv_nsec,
		       s->time.tv_sec * 1000000000ULL + s->time.tv_nsec, s);
	if (err) {
		err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot read the SA table: %s",
				 strerror(-err));
		goto out;
	}
	close(fd);
	fd = open_pin(p->ns, "dp");
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
	s->have_xfrm_stat = xfrm_stat_read(&s->xfrm_stat) == 0;
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
