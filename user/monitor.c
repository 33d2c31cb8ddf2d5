// SPDX-License-Identifier: GPL-2.0
/* The monitor loop behind `run`: XFRM events in, SA table and totals kept, JSON lines out. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <stddef.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <jansson.h>
#include <linux/ipsec.h>
#include <linux/xfrm.h>

#include "aggregate.h"
#include "correlate.h"
#include "dp_config.h"
#include "events.h"
#include "learned.h"
#include "log.h"
#include "loop.h"
#include "maps.h"
#include "monitor.h"
#include "sa_index.h"
#include "rekeys.h"
#include "sa_table.h"
#include "seq_out.h"
#include "peers.h"
#include "tunnels.h"
#include "out_json.h"
#include "stream.h"

#define MAX_ACQUIRES 256
#define MAX_RECENT 64
/*
 * strongSwan, as the responder of a rekey, deletes the old outbound SA
 * before it installs the new one: a new SA for a CHILD_SA that lost its SA
 * this recently is a rekey too.
 */
#define RECENT_S 10
/* The kernel drops an unanswered ACQUIRE after net.core.xfrm_acq_expires (30 s). */
#define ACQUIRE_TTL_S 30

struct acquire {
	__u16 family;
	__u8 proto;
	__u8 daddr[16];
	time_t at;
};

/* An SA deleted lately, by what identifies its CHILD_SA. */
struct recent {
	__u32 spi;
	__u32 reqid;
	__u16 family;
	__u8 proto;
	__u8 saddr[16];
	__u8 daddr[16];
	time_t at;
};

struct monitor {
	const struct ipsm_paths *p;
	const struct monitor_opts *o;
	int ncpus;
	struct sa_table sa; /* the rows and their cache */
	int fd_info, fd_totals;
	struct dp_config dc; /* heartbeat, addresses, marks */
	struct xfrm_nl *ev;
	struct local_addrs la;
	struct ipsm_xfrm_sa *sas; /* the kernel's SAs as we know them now */
	size_t n_sas, cap_sas;
	struct sa_index by_id, by_child; /* over sas */
	struct ipsm_totals totals;
	struct acquire acq[MAX_ACQUIRES];
	size_t n_acq;
	struct recent recent[MAX_RECENT];
	size_t n_recent;
	struct ipsm_events events;
	int fd_bad_spis; /* for rekeys' early packets; -1: none counted */
	struct rekeys *rekeys; /* rekeys whose old SA is still there */
	struct ipsm_stream out;
	struct ipsm_snapshot prev; /* the last interval's, for deltas and events */
	bool have_prev;
	struct timespec prev_at;
	bool resync; /* events were lost, or a flush: dump again */
	int err; /* first output error */
};

static __u64 mono_coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* --- output ---------------------------------------------------------------- */

static void emit(struct monitor *m, json_t *doc)
{
	int err = json_write(m->out.f, doc, false);

	json_decref(doc);
	if (err && !m->err)
		m->err = err;
}

static void emit_cb(void *ctx, json_t *doc)
{
	emit(ctx, doc);
}

static void emit_sa_event(struct monitor *m, const char *name, const struct ipsm_xfrm_sa *x,
			  const struct ipsm_sa_key *key)
{
	emit(m, event_sa(name, key, x->saddr, x));
}

/* --- the SA table ---------------------------------------------------------- */

static int read_row(struct monitor *m, const struct ipsm_sa_key *key, struct ipsm_sa *row)
{
	struct ipsm_sa_val *v;
	int err = 0;

	v = calloc(m->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	err = sa_table_lookup(&m->sa, key, v);
	if (!err)
		agg_sum_sa(row, key, v, m->ncpus, 0, 0);
	free(v);
	return err;
}

/*
 * The kernel's SAs of a dump that resync is taking in, before they are the
 * monitor's own list: their rows must survive an eviction too. The index is
 * built only if an eviction needs it.
 */
struct dump_sas {
	const struct ipsm_xfrm_sa *sas;
	size_t n;
	struct sa_index ix;
	bool indexed;
};

static bool row_is_sa(struct monitor *m, const struct ipsm_sa_key *key);
static bool row_in(const struct ipsm_xfrm_sa *sas, const struct sa_index *ix,
		   const struct local_addrs *la, const struct ipsm_sa_key *key);

struct keep_ctx {
	struct monitor *m;
	struct dump_sas *d;
};

/* Rows that are not learned: kernel SAs, as known or as dumped, and recorded ones. */
static bool keep_row(void *ctx, const struct ipsm_sa_key *key)
{
	struct keep_ctx *k = ctx;
	struct ipsm_sa_info info;

	if (row_is_sa(k->m, key) || !bpf_map_lookup_elem(k->m->fd_info, key, &info))
		return true;
	if (!k->d)
		return false;
	if (!k->d->indexed) {
		if (sa_index_build(&k->d->ix, k->d->sas, k->d->n))
			return true; /* cannot tell: keep it */
		k->d->indexed = true;
	}
	return row_in(k->d->sas, &k->d->ix, &k->m->la, key);
}

/*
 * A row for a kernel SA, so that its packets count as known. In a table
 * full of learned rows, the least recently seen of those make room.
 */
static int ensure_row(struct monitor *m, const struct ipsm_sa_key *key, struct dump_sas *d)
{
	struct keep_ctx k = { .m = m, .d = d };
	struct ipsm_sa_val *zero;
	int err = 0, n, tries;

	zero = calloc(m->ncpus, sizeof(*zero));
	if (!zero)
		return -ENOMEM;
	for (tries = 0; tries < 2; tries++) {
		err = sa_table_create(&m->sa, key, zero);
		if (!err || err == -EEXIST) {
			err = 0;
			break;
		}
		if (err != -E2BIG || tries)
			break;
		n = learned_evict(&m->sa, keep_row, &k);
		if (n <= 0)
			break;
		pr_debug("SA table full: %d learned rows evicted for a kernel SA", n);
	}
	free(zero);
	if (err == -E2BIG) {
		pr_warn("SA table full of kernel SAs: an SA gets no row (attach --max-sas to size it)");
		return 0;
	}
	return err;
}

static void info_from_sa(struct ipsm_sa_info *info, const struct ipsm_xfrm_sa *x)
{
	info->flags = (info->flags & IPSM_SA_I_REKEY) |
		      (xfrm_sa_confidential(x) ? IPSM_SA_I_CONFIDENTIAL : 0) |
		      (xfrm_sa_authenticated(x) ? IPSM_SA_I_AUTHENTICATED : 0) |
		      (x->mode == IPSM_XFRM_MODE_TUNNEL ? IPSM_SA_I_TUNNEL : 0) |
		      (x->offload != IPSM_OFFLOAD_NONE ? IPSM_SA_I_OFFLOADED : 0);
	info->reqid = x->reqid;
	info->k_packets = x->packets;
	info->k_bytes = x->bytes;
	xfrm_sa_fail(x, &info->k_fail);
}

/* The monitor's record of an SA it sees for the first time: the baselines. */
static int ensure_info(struct monitor *m, const struct ipsm_sa_key *key,
		       const struct ipsm_xfrm_sa *x)
{
	struct ipsm_sa_info info = {};
	struct ipsm_sa row = {};

	if (!bpf_map_lookup_elem(m->fd_info, key, &info))
		return 0;
	read_row(m, key, &row);
	info_from_sa(&info, x);
	info.add_time = x->add_time;
	info.base_wire = row.packets;
	info.base_kernel = x->packets;
	info.base_failed = info.k_fail.integrity_failed + info.k_fail.replayed;
	if (bpf_map_update_elem(m->fd_info, key, &info, BPF_ANY))
		return errno == E2BIG ? 0 : -errno;
	return 0;
}

/* --- the journal (struct ipsm_totals) -------------------------------------- */

/*
 * Crash points for the fault scenarios (tests/vm): IPSECMON_TEST_CRASH=NAME
 * makes the monitor SIGKILL itself there, between the two writes of a
 * journaled change. Unset, nothing happens.
 */
static void crash_point(const char *name)
{
	static const char *want;
	static bool read;

	if (!read) {
		want = getenv("IPSECMON_TEST_CRASH");
		read = true;
	}
	if (want && !strcmp(want, name))
		kill(getpid(), SIGKILL);
}

static void write_totals(struct monitor *m);

/* One numbered change of the totals, written at once. */
static void journal_commit(struct monitor *m)
{
	m->totals.journal++;
	write_totals(m);
}

/*
 * Count an SA's addition (and rekey): noted in its record first, so that a
 * monitor killed before the totals are written has the next one count it,
 * and one killed after does not count it twice.
 */
static void count_addition(struct monitor *m, const struct ipsm_sa_key *key, bool rekey)
{
	struct ipsm_sa_info info;

	if (!bpf_map_lookup_elem(m->fd_info, key, &info) && !info.added_in) {
		info.added_in = m->totals.journal + 1;
		if (rekey)
			info.flags |= IPSM_SA_I_REKEY;
		bpf_map_update_elem(m->fd_info, key, &info, BPF_EXIST);
		crash_point("add-noted");
	}
	m->totals.key_additions++;
	if (rekey)
		m->totals.rekeys++;
	journal_commit(m);
}

/*
 * An SA is gone: note what it adds in its record, add that to the totals,
 * then drop its record and, unless share is given, its row. A monitor
 * killed at any point in between leaves the record saying how far it got
 * (recover_journal()). x is the SA's final state when the kernel told us,
 * NULL otherwise. share: the part of the row that was the SA's, when its
 * key is another SA's now, which keeps the row; NULL: the whole row.
 */
static void fold_share(struct monitor *m, const struct ipsm_sa_key *key,
		       const struct ipsm_xfrm_sa *x, const struct ipsm_sa *share)
{
	struct ipsm_sa_info info;
	struct ipsm_contrib c;
	struct ipsm_sa row = {};
	bool have_info;

	have_info = !bpf_map_lookup_elem(m->fd_info, key, &info);
	if (share)
		row = *share;
	else if (read_row(m, key, &row))
		row.key = *key;
	if (have_info && !info.folded_in) {
		memset(&info.fold, 0, sizeof(info.fold));
		if (sa_contrib(&row, x, &info, &c))
			info.fold = c.acct;
		info.folded_in = m->totals.journal + 1;
		bpf_map_update_elem(m->fd_info, key, &info, BPF_EXIST);
		crash_point("fold-noted");
	} else if (!have_info) {
		/* No record (its table was full): nothing to fold but the kernel's view. */
		memset(&info, 0, sizeof(info));
		if (sa_contrib(&row, x, NULL, &c))
			info.fold = c.acct;
	}
	if (!have_info || info.folded_in > m->totals.journal) {
		acct_add(&m->totals.acct, &info.fold);
		m->totals.key_deletions++;
		journal_commit(m);
		crash_point("fold-committed");
	}
	if (!share)
		sa_table_delete(&m->sa, key);
	bpf_map_delete_elem(m->fd_info, key);
}

static void fold(struct monitor *m, const struct ipsm_sa_key *key, const struct ipsm_xfrm_sa *x)
{
	fold_share(m, key, x, NULL);
}

/* Take packets and bytes off the CPUs' values, in CPU order: only the sums matter. */
static void row_take(struct ipsm_sa_val *v, int ncpus, __u64 packets, __u64 bytes)
{
	__u64 p, b;
	int i;

	for (i = 0; i < ncpus; i++) {
		p = v[i].packets < packets ? v[i].packets : packets;
		b = v[i].bytes < bytes ? v[i].bytes : bytes;
		v[i].packets -= p;
		v[i].bytes -= b;
		packets -= p;
		bytes -= b;
	}
}

/*
 * The same SPI and destination, another SA: the old one went while no
 * monitor watched, and the new one's packets since then are in its row
 * too (the datapath keys rows by SPI and destination). The new SA's share
 * is what the kernel counted on it (accepted, and inbound also what the SA
 * itself dropped); the old SA is folded with the rest, and the row keeps
 * the new share, with its sequence analysis started afresh. Bytes go in
 * proportion to packets: exact for packets of one size. Done again after a
 * crash, it finds the row already split and the fold already committed.
 */
static int split_reused(struct monitor *m, const struct ipsm_sa_key *key,
			const struct ipsm_xfrm_sa *x, struct ipsm_snapshot *s)
{
	struct ipsm_sa row, *read;
	__u64 p_new, b_new;
	struct ipsm_sa_val *v;
	int i, err = 0;

	v = calloc(m->ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (sa_table_lookup(&m->sa, key, v)) {
		/* No row: nothing to split. */
		fold(m, key, NULL);
		goto out;
	}
	agg_sum_sa(&row, key, v, m->ncpus, 0, 0);
	p_new = x->packets;
	if (key->dir == IPSM_DIR_RX)
		p_new +=
			(__u64)x->stats_replay_window + x->stats_replay + x->stats_integrity_failed;
	if (p_new > row.packets)
		p_new = row.packets;
	b_new = row.packets ? (__u64)((unsigned __int128)row.bytes * p_new / row.packets) : 0;
	row.packets -= p_new;
	row.bytes -= b_new;
	fold_share(m, key, NULL, &row);
	row_take(v, m->ncpus, row.packets, row.bytes);
	for (i = 0; i < m->ncpus; i++) {
		/* When the new SA's first packet came is not known: the next one says. */
		v[i].first_seen = 0;
		v[i].flags &= ~(IPSM_SA_F_SEQ_VALID | IPSM_SA_F_SEQ_JUMP | IPSM_SA_F_MISSING);
		v[i].checked = 0; /* a new SA: the kernel is asked afresh */
		v[i].seq_max = v[i].seq_jump = 0;
		v[i].seq_window = v[i].seq_gaps = v[i].seq_filled = v[i].seq_replays = 0;
		v[i].seq_late = v[i].seq_suspect = 0;
	}
	/* Packets that came in since the lookup above are lost from the row only. */
	err = sa_table_update(&m->sa, key, v, BPF_EXIST);
	if (err == -ENOENT)
		err = 0;
	/*
	 * The snapshot being taken read the row whole, with the old SA's
	 * record, and the totals without its fold: it gets the new share,
	 * no record (the new SA's is made next), and the totals with the fold.
	 */
	s->totals = m->totals;
	s->have_totals = true;
	read = agg_find_sa(s->sas, s->n_sas, key);
	if (read) {
		read->have_info = false;
		read->packets = p_new < read->packets ? p_new : read->packets;
		read->bytes = b_new < read->bytes ? b_new : read->bytes;
		read->flags &= ~(IPSM_SA_F_SEQ_VALID | IPSM_SA_F_SEQ_JUMP);
		read->seq_max = 0;
		read->seq_gaps = read->seq_filled = read->seq_replays = 0;
		read->seq_late = read->seq_suspect = 0;
		read->first_seen = 0;
	}
out:
	free(v);
	return err;
}

/*
 * A monitor that was killed left at most one record whose change the
 * totals do not hold yet: complete it, and drop what was folded.
 */
static int recover_journal(struct monitor *m)
{
	struct ipsm_sa_key key, next;
	struct ipsm_sa_info info;
	bool more;

	for (more = !bpf_map_get_next_key(m->fd_info, NULL, &next); more;) {
		key = next;
		more = !bpf_map_get_next_key(m->fd_info, &key, &next);
		if (bpf_map_lookup_elem(m->fd_info, &key, &info))
			continue;
		if (info.added_in > m->totals.journal) {
			m->totals.key_additions++;
			if (info.flags & IPSM_SA_I_REKEY)
				m->totals.rekeys++;
			m->totals.journal = info.added_in - 1;
			journal_commit(m);
		}
		if (info.folded_in)
			fold(m, &key, NULL);
	}
	return 0;
}

static ssize_t find_sa(struct monitor *m, const struct ipsm_xfrm_sa *x)
{
	return sa_index_find(&m->by_id, m->sas, x);
}

static bool same_child(const struct ipsm_xfrm_sa *a, __u32 reqid, __u16 family, __u8 proto,
		       const __u8 *saddr, const __u8 *daddr)
{
	return a->reqid == reqid && a->proto == proto && a->family == family &&
	       !memcmp(a->daddr, daddr, 16) && !memcmp(a->saddr, saddr, 16);
}

/*
 * A rekey: another SA of the same CHILD_SA (reqid, protocol, gateway
 * addresses) is live (*live: its index), or was deleted by itself in the
 * last RECENT_S seconds (*live -1). *old_spi: that SA's.
 */
static bool replaces_existing(struct monitor *m, const struct ipsm_xfrm_sa *x, ssize_t *live,
			      __u32 *old_spi)
{
	time_t now = time(NULL);
	size_t i;

	*live = -1;
	if (!x->reqid)
		return false;
	*live = sa_index_find(&m->by_child, m->sas, x);
	if (*live >= 0) {
		*old_spi = m->sas[*live].spi;
		return true;
	}
	for (i = 0; i < m->n_recent; i++)
		if (now - m->recent[i].at <= RECENT_S &&
		    same_child(x, m->recent[i].reqid, m->recent[i].family, m->recent[i].proto,
			       m->recent[i].saddr, m->recent[i].daddr)) {
			*old_spi = m->recent[i].spi;
			return true;
		}
	return false;
}

static void remember_deleted(struct monitor *m, const struct ipsm_xfrm_sa *x)
{
	time_t now = time(NULL);
	struct recent *r = NULL;
	size_t i;

	/* Reuse an expired slot, else the oldest: the list stays small. */
	for (i = 0; i < m->n_recent; i++)
		if (!r || m->recent[i].at < r->at)
			r = &m->recent[i];
	if (m->n_recent < MAX_RECENT && (!r || now - r->at <= RECENT_S))
		r = &m->recent[m->n_recent++];
	r->spi = x->spi;
	r->reqid = x->reqid;
	r->family = x->family;
	r->proto = x->proto;
	memcpy(r->saddr, x->saddr, 16);
	memcpy(r->daddr, x->daddr, 16);
	r->at = now;
}

static void clear_acquires(struct monitor *m, const struct ipsm_xfrm_sa *x)
{
	size_t i = 0;
	time_t now = time(NULL);

	while (i < m->n_acq) {
		if ((m->acq[i].family == x->family && m->acq[i].proto == x->proto &&
		     !memcmp(m->acq[i].daddr, x->daddr, 16)) ||
		    now - m->acq[i].at > ACQUIRE_TTL_S)
			m->acq[i] = m->acq[--m->n_acq];
		else
			i++;
	}
}

/* --- rekey analytics (rekeys.h) -------------------------------------------- */

/*
 * Before the addition is counted: a new inbound SA's early packets, into
 * the totals that count_addition() commits.
 */
static void rekey_early(struct monitor *m, const struct ipsm_xfrm_sa *x,
			const struct ipsm_sa_key *key, struct rekey_outcome *o)
{
	if (key->dir != IPSM_DIR_RX || m->fd_bad_spis < 0 ||
	    rekey_early_packets(m->fd_bad_spis, m->ncpus, x, &o->early))
		return;
	o->have_early = true;
	m->totals.rekey_early_packets += o->early;
}

/*
 * Tell a pending rekey. old_gone: its old SA goes now (its row still there):
 * how long both lived and, inbound, what came on the old SPI since. The
 * late packets go into the totals that the old SA's fold commits next.
 */
static void rekey_tell(struct monitor *m, const struct rekey *r, bool old_gone)
{
	struct rekey_outcome o = { .have_old_spi = true,
				   .old_spi = r->old_spi,
				   .have_early = r->have_early,
				   .early = r->early };
	struct ipsm_sa row;

	if (old_gone) {
		o.have_overlap = true;
		o.overlap_s = (mono_coarse_ns() - r->added_ns) / 1e9;
		if (r->new_key.dir == IPSM_DIR_RX && !read_row(m, &r->old_key, &row)) {
			o.have_late = true;
			o.late = row.packets > r->old_packets ? row.packets - r->old_packets : 0;
			m->totals.rekey_late_packets += o.late;
		}
	}
	emit(m, rekey_event(&r->new_sa, &r->new_key, &o));
}

/*
 * A new SA x replaced another of its CHILD_SA (live: its index, or -1 when
 * it went first). With the old one gone already there is no overlap and
 * nothing came late on it; else the event waits for its end.
 */
static void rekey_begin(struct monitor *m, const struct ipsm_xfrm_sa *x,
			const struct ipsm_sa_key *key, ssize_t live, __u32 old_spi,
			struct rekey_outcome *o)
{
	struct rekey *r, evicted;
	struct ipsm_sa row;
	bool did_evict;

	o->have_old_spi = true;
	o->old_spi = old_spi;
	if (live < 0 || !m->rekeys) {
		o->have_overlap = live < 0;
		o->have_late = live < 0 && key->dir == IPSM_DIR_RX;
		emit(m, rekey_event(x, key, o));
		return;
	}
	r = rekeys_add(m->rekeys, &evicted, &did_evict);
	if (did_evict)
		rekey_tell(m, &evicted, false);
	r->new_sa = *x;
	r->new_key = *key;
	correlate_key(&m->sas[live], &m->la, &r->old_key);
	r->old_spi = old_spi;
	r->added_ns = mono_coarse_ns();
	r->have_early = o->have_early;
	r->early = o->early;
	if (!read_row(m, &r->old_key, &row))
		r->old_packets = row.packets;
}

/* An SA goes (its row still there): the rekey it ends, or that it was new in. */
static void rekey_sa_gone(struct monitor *m, const struct ipsm_xfrm_sa *x,
			  const struct ipsm_sa_key *key)
{
	struct rekey *r;

	if (!m->rekeys)
		return;
	while ((r = rekeys_find(m->rekeys, key, x->spi, true))) {
		rekey_tell(m, r, true);
		rekeys_remove(m->rekeys, r);
	}
	/* The new SA went before the old one (a collision): told as far as known. */
	while ((r = rekeys_find(m->rekeys, key, x->spi, false))) {
		rekey_tell(m, r, false);
		rekeys_remove(m->rekeys, r);
	}
}

static int on_newsa(struct monitor *m, const struct ipsm_xfrm_sa *x, bool from_event)
{
	struct ipsm_sa_key key;
	struct ipsm_xfrm_sa *nv;
	int err;

	correlate_key(x, &m->la, &key);
	/*
	 * The XDP SA lookup only finds a marked SA with its mark: a mark first
	 * seen here must be tried before the SA's row exists, not only after
	 * the next dump, or its packets are bad SPIs until then.
	 */
	err = dp_config_mark_add(&m->dc, x->mark);
	if (!err)
		err = ensure_row(m, &key, NULL);
	if (!err)
		err = ensure_info(m, &key, x);
	if (err)
		return err;
	if (from_event) {
		struct rekey_outcome o = {};
		__u32 old_spi = 0;
		ssize_t live;
		bool rekey = replaces_existing(m, x, &live, &old_spi);

		if (rekey)
			rekey_early(m, x, &key, &o);
		count_addition(m, &key, rekey);
		emit_sa_event(m, "sa_added", x, &key);
		if (rekey)
			rekey_begin(m, x, &key, live, old_spi, &o);
	}
	clear_acquires(m, x);
	if (m->n_sas == m->cap_sas) {
		m->cap_sas = m->cap_sas ? 2 * m->cap_sas : 64;
		nv = realloc(m->sas, m->cap_sas * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		m->sas = nv;
	}
	m->sas[m->n_sas] = *x;
	err = sa_index_add(&m->by_id, m->sas, m->n_sas);
	if (!err)
		err = sa_index_add(&m->by_child, m->sas, m->n_sas);
	m->n_sas++;
	return err;
}

/* sas[i] is gone: the last one takes its place, in the array and the indexes. */
static void drop_sa(struct monitor *m, size_t i)
{
	size_t last = m->n_sas - 1;

	sa_index_del(&m->by_id, m->sas, i);
	sa_index_del(&m->by_child, m->sas, i);
	if (i != last) {
		sa_index_move(&m->by_id, m->sas, last, i);
		sa_index_move(&m->by_child, m->sas, last, i);
		m->sas[i] = m->sas[last];
	}
	m->n_sas--;
}

/* final: x is the SA's last state from the kernel, else use our record. */
static void on_delsa(struct monitor *m, const struct ipsm_xfrm_sa *x, const char *event, bool final)
{
	struct ipsm_sa_key key;
	ssize_t i = find_sa(m, x);

	struct ipsm_xfrm_sa fin;

	/* A hard expire is followed by nothing, or by a DELSA: fold once. */
	if (i < 0)
		return;
	correlate_key(&m->sas[i], &m->la, &key);
	/*
	 * An EXPIRE carries the SA's counters but no algorithms: the SA as we
	 * knew it, with the kernel's last counters, is its final state.
	 */
	rekey_sa_gone(m, &m->sas[i], &key);
	fin = m->sas[i];
	if (final) {
		fin.packets = x->packets;
		fin.bytes = x->bytes;
		fin.use_time = x->use_time;
		fin.stats_replay = x->stats_replay;
		fin.stats_replay_window = x->stats_replay_window;
		fin.stats_integrity_failed = x->stats_integrity_failed;
	}
	fold(m, &key, final ? &fin : NULL);
	/* A flush ends its SAs' CHILD_SAs; a single deletion may be half a rekey. */
	if (final)
		remember_deleted(m, &m->sas[i]);
	emit_sa_event(m, event, &m->sas[i], &key);
	drop_sa(m, i);
}

static int on_event(const struct ipsm_xfrm_event *ev, void *data)
{
	struct monitor *m = data;
	struct ipsm_sa_key key;
	ssize_t i;

	switch (ev->type) {
	case IPSM_XEV_NEWSA:
		if (ev->sa.proto != IPPROTO_ESP && ev->sa.proto != IPPROTO_AH)
			return 0;
		if (find_sa(m, &ev->sa) >= 0)
			return 0;
		return on_newsa(m, &ev->sa, true);
	case IPSM_XEV_UPDSA:
		if (ev->sa.proto != IPPROTO_ESP && ev->sa.proto != IPPROTO_AH)
			return 0;
		i = find_sa(m, &ev->sa);
		if (i >= 0) {
			/* Same SA; its CHILD_SA's key might change with it. */
			sa_index_del(&m->by_child, m->sas, i);
			m->sas[i] = ev->sa;
			return sa_index_add(&m->by_child, m->sas, i);
		}
		/*
		 * IKE daemons reserve an inbound SPI (ALLOCSPI: a larval SA,
		 * no event) and install the SA by updating it: its addition.
		 */
		return on_newsa(m, &ev->sa, true);
	case IPSM_XEV_DELSA:
		on_delsa(m, &ev->sa, "sa_deleted", true);
		return 0;
	case IPSM_XEV_EXPIRE_HARD:
		on_delsa(m, &ev->sa, "sa_expired", true);
		return 0;
	case IPSM_XEV_EXPIRE_SOFT:
		/* The IKE daemon rekeys now; the new SA counts the rekey. */
		correlate_key(&ev->sa, &m->la, &key);
		emit_sa_event(m, "sa_soft_expired", &ev->sa, &key);
		return 0;
	case IPSM_XEV_ACQUIRE:
		if (m->n_acq < MAX_ACQUIRES) {
			m->acq[m->n_acq].family = ev->sa.family;
			m->acq[m->n_acq].proto = ev->sa.proto;
			memcpy(m->acq[m->n_acq].daddr, ev->sa.daddr, 16);
			m->acq[m->n_acq++].at = time(NULL);
		}
		return 0;
	case IPSM_XEV_FLUSHSA:
		/*
		 * Fold the flushed SAs now: SAs added right after the flush,
		 * in the same batch of events, must not look like their rekeys.
		 */
		for (i = (ssize_t)m->n_sas - 1; i >= 0; i--)
			if (ev->flush_proto == IPSEC_PROTO_ANY || !ev->flush_proto ||
			    m->sas[i].proto == ev->flush_proto)
				on_delsa(m, &m->sas[i], "sa_deleted", false);
		m->resync = true;
		return 0;
	default:
		return 0;
	}
}

/* Whether the SA table row key is one of sas (indexed by ix). */
static bool row_in(const struct ipsm_xfrm_sa *sas, const struct sa_index *ix,
		   const struct local_addrs *la, const struct ipsm_sa_key *key)
{
	struct ipsm_xfrm_sa probe = { .spi = key->spi, .proto = key->proto };
	struct ipsm_sa_key k;
	ssize_t i;

	probe.family = key->family == IPSM_AF_IPV6 ? AF_INET6 : AF_INET;
	memcpy(probe.daddr, key->daddr, sizeof(probe.daddr));
	i = sa_index_find(ix, sas, &probe);
	if (i < 0)
		return false;
	correlate_key(&sas[i], la, &k);
	return k.dir == key->dir;
}

/* Whether the SA table row key is one of the kernel's SAs (after a resync). */
static bool row_is_sa(struct monitor *m, const struct ipsm_sa_key *key)
{
	return row_in(m->sas, &m->by_id, &m->la, key);
}

/*
 * Make the SA table match a dump: rows and records for every kernel SA;
 * the rows of SAs that vanished unseen are folded into the totals; rows
 * the datapath made for SPIs that were never SAs here are dropped, from
 * the table and from s, the snapshot being taken. initial: the first dump
 * of this monitor process.
 */
static int resync(struct monitor *m, const struct ipsm_xfrm_sa *xs, size_t n, bool initial,
		  struct ipsm_snapshot *s)
{
	struct dump_sas d = { .sas = xs, .n = n, .ix = sa_index_by_id };
	__u64 now = s->time.tv_sec * 1000000000ULL + s->time.tv_nsec;
	struct ipsm_sa_info info;
	size_t i, kept;
	__u16 fam;
	int err;

	local_addrs_free(&m->la);
	err = local_addrs_read(&m->la);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot list local addresses: %s",
				  strerror(-err));
	/* The datapath's view follows addresses and SAs as they come and go. */
	err = dp_config_addrs(&m->dc, &m->la);
	if (!err)
		err = dp_config_marks(&m->dc, xs, n);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot update the datapath's config: %s",
				  strerror(-err));
	for (i = 0; i < n; i++) {
		struct ipsm_sa_key key;
		bool recorded, added, rekey = false;
		__u32 old_spi = 0;
		ssize_t live = -1;

		if (find_sa(m, &xs[i]) >= 0)
			continue;
		correlate_key(&xs[i], &m->la, &key);
		recorded = !bpf_map_lookup_elem(m->fd_info, &key, &info);
		/* The same SPI and destination, another SA: the old one went unseen. */
		if (recorded && info.add_time != xs[i].add_time) {
			err = split_reused(m, &key, &xs[i], s);
			if (err)
				goto out;
			recorded = false;
		}
		/*
		 * Not seen by this process. Added while no monitor watched if
		 * an earlier one recorded nothing of it; else simply added
		 * (its event is unread, or was lost), and a rekey if its
		 * CHILD_SA has another SA.
		 */
		added = !initial || (m->totals.monitor_since && !recorded &&
				     xs[i].add_time >= m->totals.monitor_since);
		if (added && !initial)
			rekey = replaces_existing(m, &xs[i], &live, &old_spi);
		err = ensure_row(m, &key, &d);
		if (!err)
			err = ensure_info(m, &key, &xs[i]);
		if (err)
			goto out;
		if (added) {
			struct rekey_outcome o = { .have_old_spi = true, .old_spi = old_spi };
			/*
			 * No events lost: its event is still unread (it came
			 * while this tick read the maps), so it is as timely
			 * as if told by that event, which then finds it known.
			 */
			bool timely = rekey && !m->resync;

			if (timely)
				rekey_early(m, &xs[i], &key, &o);
			count_addition(m, &key, rekey);
			emit_sa_event(m, "sa_added", &xs[i], &key);
			if (timely)
				rekey_begin(m, &xs[i], &key, live, old_spi, &o);
			else if (rekey)
				/* Events were lost: when and how it happened is not known. */
				emit(m, rekey_event(&xs[i], &key, &o));
		}
		clear_acquires(m, &xs[i]);
	}
	/*
	 * SAs gone from the dump before their DELSA was read (a burst longer
	 * than one event batch, lost events): that event will find nothing,
	 * so the deletion is told now, as last known; the fold follows below.
	 */
	if (!d.indexed) {
		err = sa_index_build(&d.ix, xs, n);
		if (err)
			goto out;
		d.indexed = true;
	}
	for (i = 0; i < m->n_sas; i++) {
		struct ipsm_sa_key key;

		if (sa_index_find(&d.ix, xs, &m->sas[i]) >= 0)
			continue;
		correlate_key(&m->sas[i], &m->la, &key);
		rekey_sa_gone(m, &m->sas[i], &key);
		/*
		 * Gone past its hard lifetime: the kernel expired it, and its
		 * EXPIRE, still unread while this tick dumped, will find nothing.
		 */
		emit_sa_event(m,
			      xfrm_sa_hard_expired(&m->sas[i], (__u64)time(NULL)) ? "sa_expired" :
										    "sa_deleted",
			      &m->sas[i], &key);
	}
	if (n > m->cap_sas) {
		struct ipsm_xfrm_sa *nv = realloc(m->sas, n * sizeof(*nv));

		if (!nv) {
			err = -ENOMEM;
			goto out;
		}
		m->sas = nv;
		m->cap_sas = n;
	}
	memcpy(m->sas, xs, n * sizeof(*xs));
	m->n_sas = n;
	/* The dump's index is the list's now: the same SAs in the same slots. */
	sa_index_free(&m->by_id);
	m->by_id = d.ix;
	d.ix = sa_index_by_id;
	err = sa_index_build(&m->by_child, m->sas, n);
	if (err)
		goto out;

	/* The rows the maps held when the snapshot was read, against the SAD. */
	for (i = kept = 0; i < s->n_sas; i++) {
		const struct ipsm_sa_key *key = &s->sas[i].key;

		fam = key->family == IPSM_AF_IPV6 ? AF_INET6 : AF_INET;
		if (!row_is_sa(m, key)) {
			if (!bpf_map_lookup_elem(m->fd_info, key, &info)) {
				/* A kernel SA that went while nobody watched. */
				fold(m, key, NULL);
			} else if (key->dir == IPSM_DIR_RX &&
				   local_addrs_has(&m->la, fam, key->daddr)) {
				/* Made from the wire before correlation: a bad SPI's row. */
				sa_table_delete(&m->sa, key);
				continue;
			} else if (learned_idle(&s->sas[i], now, m->o->learned_idle_ns)) {
				/* Learned (forwarded, another host's SA) and idle: it ages out. */
				sa_table_delete(&m->sa, key);
				continue;
			}
		}
		s->sas[kept++] = s->sas[i];
	}
	s->n_sas = kept;
out:
	sa_index_free(&d.ix);
	return err;
}

/* --- the loop -------------------------------------------------------------- */

/*
 * The heartbeat is refreshed every HEARTBEAT_MS whatever the interval, so
 * a monitor that died is not trusted for more than HEARTBEAT_GRACE_NS.
 */
#define HEARTBEAT_MS 1000
#define HEARTBEAT_GRACE_NS 5000000000ULL

static void heartbeat(struct monitor *m, bool alive)
{
	dp_config_heartbeat(&m->dc, alive ? mono_coarse_ns() + HEARTBEAT_GRACE_NS : 0);
}

static int on_heartbeat(void *ctx)
{
	heartbeat(ctx, true);
	return 0;
}

int monitor_lock(const struct ipsm_paths *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, len, err;

	/* sun_path[0] = 0: an abstract name, one namespace of them per network namespace. */
	len = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "ipsecmon-bpf-monitor:%s",
		       p->base);
	if (len >= (int)sizeof(sa.sun_path) - 1)
		len = sizeof(sa.sun_path) - 2;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + 1 + len)) {
		err = -errno;
		close(fd);
		if (err == -EADDRINUSE)
			return ipsm_error(IPSM_EXIT_BUSY, err,
					  "another monitor already runs in this network namespace "
					  "(pins under %s); it keeps running",
					  p->base);
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot take the monitor lock: %s",
				  strerror(-err));
	}
	return fd;
}

static void write_totals(struct monitor *m)
{
	time_t now = time(NULL);
	size_t i = 0;
	__u32 k = 0;

	while (i < m->n_acq) {
		if (now - m->acq[i].at > ACQUIRE_TTL_S)
			m->acq[i] = m->acq[--m->n_acq];
		else
			i++;
	}
	m->totals.pending = m->n_acq;
	bpf_map_update_elem(m->fd_totals, &k, &m->totals, BPF_ANY);
}

/* Record the SA's kernel counters and keep the reconciliation monotonic. */
static void update_infos(struct monitor *m, const struct ipsm_snapshot *s)
{
	struct ipsm_contrib c;
	size_t i;

	for (i = 0; i < s->n_sas; i++) {
		const struct ipsm_sa *row = &s->sas[i];
		struct ipsm_sa_info info;

		if (!row->known || !row->have_info)
			continue;
		info = row->info;
		if (sa_contrib(row, &row->x, &row->info, &c))
			info.other_drops = c.other_drops;
		info_from_sa(&info, &row->x);
		bpf_map_update_elem(m->fd_info, &row->key, &info, BPF_EXIST);
	}
}

/* The interval's line (totals, delta, rate), then its events; s becomes prev. */
static void emit_snapshot(struct monitor *m, struct ipsm_snapshot *s)
{
	struct timespec now;
	json_t *doc;

	clock_gettime(CLOCK_MONOTONIC, &now);
	seq_out_estimate(s, m->have_prev ? &m->prev : NULL);
	tunnels_track(s, m->have_prev ? &m->prev : NULL, m->o->one_way_after);
	doc = json_snapshot_view(
		s, &(struct json_view){
			   .max_sas = m->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_SAS,
			   .max_bad_spis = m->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_BAD_SPIS,
			   .max_tunnels = m->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_TUNNELS,
			   .max_peers = m->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_PEERS,
			   .prev = m->have_prev ? &m->prev : NULL });
	if (doc && m->have_prev)
		json_add_changes(doc, s, &m->prev,
				 (now.tv_sec - m->prev_at.tv_sec) +
					 (now.tv_nsec - m->prev_at.tv_nsec) / 1e9);
	emit(m, doc);
	events_compare(&m->events, m->have_prev ? &m->prev : NULL, s, emit_cb, m);
	if (m->o->publish)
		m->o->publish(m->o->publish_ctx, s);
	snapshot_free(&m->prev);
	m->prev = *s;
	memset(s, 0, sizeof(*s));
	m->have_prev = true;
	m->prev_at = now;
}

/* The XFRM events queued now; lost ones ask for a dump (m->resync). */
static int read_events(struct monitor *m)
{
	int err;

	err = xfrm_nl_read_events(m->ev, on_event, m);
	if (err == -ENOBUFS) {
		pr_warn("XFRM events were lost; dumping the SAs again");
		m->resync = true;
		err = 0;
	}
	write_totals(m);
	return err ? err : m->err;
}

struct tick_ctx {
	struct monitor *m;
	bool initial;
};

/* Between reading the maps and correlating: bring the SA table in line with the dump. */
static int tick_sync(void *ctx, struct ipsm_snapshot *s, const struct ipsm_xfrm_sa *xs, size_t n)
{
	struct tick_ctx *t = ctx;
	struct monitor *m = t->m;
	int err;

	err = resync(m, xs, n, t->initial, s);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot sync with the kernel's SAs: %s",
				  strerror(-err));
	m->resync = false;
	if (t->initial && !m->totals.monitor_since)
		m->totals.monitor_since = time(NULL);
	write_totals(m);
	heartbeat(m, true);
	/* The snapshot was read before this heartbeat: it is ours, and live. */
	s->monitor_live = true;
	s->monitor_live_until = ~0ULL;
	s->correlation = correlation_decide(s);
	return 0;
}

/*
 * One interval, on one dump: the maps are read (the wire first, see
 * sa_contrib()), then the kernel's SAs, which the SA table is brought in
 * line with before they are correlated with what was read.
 */
static int tick(struct monitor *m, bool initial)
{
	struct tick_ctx t = { .m = m, .initial = initial };
	struct snapshot_req req = { .ifnames = m->o->ifnames,
				    .n_ifnames = m->o->n_ifnames,
				    .la = &m->la,
				    .half_open_after_s = m->o->half_open_after_s,
				    .on_sas = tick_sync,
				    .ctx = &t };
	__u64 start = mono_coarse_ns();
	struct ipsm_snapshot s = {};
	int err;

	/*
	 * What is queued came before the dump below: read it first, so that
	 * the dump finds unread only the events of the moment it takes (a new
	 * SA then is told as if by its event, see resync()).
	 */
	if (!initial) {
		err = read_events(m);
		if (err)
			return err;
	}
	err = snapshot_take(m->p, &req, &s);
	if (err)
		return err;
	update_infos(m, &s);
	emit_snapshot(m, &s);
	/* -vv: what make bench-scale reads as the tick time. */
	pr_debug("tick: %llu ms, %zu SAs, %zu rows",
		 (unsigned long long)(mono_coarse_ns() - start) / 1000000, m->n_sas, s.n_sas);
	snapshot_free(&s);
	return m->err;
}

static int on_tick(void *ctx)
{
	return tick(ctx, false);
}

/* XFRM events; a lost batch or a flush asks for a dump at once. */
static int on_xfrm(void *ctx)
{
	struct monitor *m = ctx;
	int err = read_events(m);

	if (err)
		return err;
	return m->resync ? LOOP_TICK : 0;
}

int monitor_run(const struct ipsm_paths *p, const struct monitor_opts *o)
{
	struct monitor m = { .p = p,
			     .o = o,
			     .sa = { -1, -1, -1, 0 },
			     .fd_info = -1,
			     .fd_totals = -1,
			     .fd_bad_spis = -1,
			     .dc = { -1, -1, -1 } };
	struct loop l = { .interval_ms = o->interval_ms,
			  .on_tick = on_tick,
			  .n_fds = 1,
			  .ctx = &m,
			  .sfd = -1,
			  .tfd = -1 };
	__u32 k = 0;
	int err, got, wanted;

	m.by_id = sa_index_by_id;
	m.by_child = sa_index_by_child;
	m.ncpus = libbpf_num_possible_cpus();
	if (m.ncpus < 0)
		return m.ncpus;
	m.events.gap_threshold = o->gap_threshold;
	m.events.seq_warn_s = o->seq_warn_s;
	err = stream_open(&m.out, o->output);
	if (err)
		return err;
	err = sa_table_open(p, &m.sa);
	m.fd_info = ipsm_map_open(p, 0, IPSM_MAP_SA_INFO);
	m.fd_totals = ipsm_map_open(p, 0, IPSM_MAP_TOTALS);
	if (err || m.fd_info < 0 || m.fd_totals < 0 || dp_config_open(p, &m.dc)) {
		err = -ENOENT;
		goto out;
	}
	/* Rekey analytics are extras: without them the rekeys are still told. */
	m.fd_bad_spis = ipsm_map_open(p, 0, IPSM_MAP_BAD_SPIS);
	m.rekeys = calloc(1, sizeof(*m.rekeys));
	bpf_map_lookup_elem(m.fd_totals, &k, &m.totals);
	/* Whatever a killed monitor left half done, before anything else. */
	recover_journal(&m);
	/* Subscribe before the first dump, so that nothing falls between them. */
	err = xfrm_nl_open(&m.ev, true);
	if (err) {
		err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot open XFRM netlink: %s",
				 strerror(-err));
		goto out;
	}
	if (!xfrm_nl_rcvbuf(m.ev, &got, &wanted) && got < wanted)
		pr_warn("the XFRM event buffer is %d KiB, not %d KiB (net.core.rmem_max): a burst "
			"of SA changes may overflow it, which costs a full dump",
			got / 1024, wanted / 1024);
	l.out = &m.out;
	l.fds[0].fd = xfrm_nl_fd(m.ev);
	l.fds[0].fn = on_xfrm;
	err = loop_open(&l);
	if (!err)
		err = loop_add_timer(&l, HEARTBEAT_MS, on_heartbeat);
	if (err)
		goto out;
	err = tick(&m, true);
	if (!err)
		err = loop_run(&l);
	/* Without us the SA table no longer mirrors the SAD: stop calling misses bad. */
	heartbeat(&m, false);
	/* Rekeys still waiting for their old SA: told as far as they got. */
	while (m.rekeys && m.rekeys->n) {
		rekey_tell(&m, &m.rekeys->v[0], false);
		rekeys_remove(m.rekeys, &m.rekeys->v[0]);
	}
	write_totals(&m);
out:
	loop_close(&l);
	xfrm_nl_close(m.ev);
	snapshot_free(&m.prev);
	stream_close(&m.out);
	sa_index_free(&m.by_child);
	sa_index_free(&m.by_id);
	free(m.sas);
	free(m.rekeys);
	local_addrs_free(&m.la);
	dp_config_close(&m.dc);
	if (m.fd_totals >= 0)
		close(m.fd_totals);
	if (m.fd_info >= 0)
		close(m.fd_info);
	if (m.fd_bad_spis >= 0)
		close(m.fd_bad_spis);
	sa_table_close(&m.sa);
	return err;
}
