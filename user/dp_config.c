// SPDX-License-Identifier: GPL-2.0
/* The datapath's view of the namespace, kept by attach and the monitor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "dp_config.h"
#include "log.h"
#include "maps.h"
#include "names.h"
#include "netns.h"

int dp_config_open(const struct ipsm_paths *p, struct dp_config *dc)
{
	dc->fd_corr = ipsm_map_open(p, 0, IPSM_MAP_CORRELATION);
	dc->fd_addrs = ipsm_map_open(p, 0, IPSM_MAP_LOCAL_ADDRS);
	dc->fd_marks = ipsm_map_open(p, 0, IPSM_MAP_MARKS);
	if (dc->fd_corr < 0 || dc->fd_addrs < 0 || dc->fd_marks < 0) {
		dp_config_close(dc);
		return -ENOENT;
	}
	return 0;
}

void dp_config_close(struct dp_config *dc)
{
	if (dc->fd_marks >= 0)
		close(dc->fd_marks);
	if (dc->fd_addrs >= 0)
		close(dc->fd_addrs);
	if (dc->fd_corr >= 0)
		close(dc->fd_corr);
	dc->fd_corr = dc->fd_addrs = dc->fd_marks = -1;
}

/* Read, change, write: every writer keeps the fields it does not own. */
static int config_update(struct dp_config *dc, void (*fn)(struct ipsm_config *c, void *arg),
			 void *arg)
{
	struct ipsm_config c = {};
	__u32 k = 0;

	if (bpf_map_lookup_elem(dc->fd_corr, &k, &c))
		return -errno;
	fn(&c, arg);
	return bpf_map_update_elem(dc->fd_corr, &k, &c, BPF_ANY) ? -errno : 0;
}

struct ns_ident {
	__u32 seed;
	__u64 ino;
};

static void set_ident(struct ipsm_config *c, void *arg)
{
	const struct ns_ident *id = arg;

	if (!c->hash_seed)
		c->hash_seed = id->seed;
	c->netns_ino = id->ino;
}

int dp_config_seed(struct dp_config *dc)
{
	struct ns_ident id = {};

	while (!id.seed)
		if (getrandom(&id.seed, sizeof(id.seed), 0) != sizeof(id.seed))
			return -errno;
	netns_ino(&id.ino);
	return config_update(dc, set_ident, &id);
}

static void set_live(struct ipsm_config *c, void *arg)
{
	c->live_until = *(__u64 *)arg;
}

int dp_config_heartbeat(struct dp_config *dc, __u64 live_until_mono_ns)
{
	return config_update(dc, set_live, &live_until_mono_ns);
}

static void set_row_filter(struct ipsm_config *c, void *arg)
{
	if (arg)
		c->flags |= IPSM_CFG_ROW_FILTER;
	else
		c->flags &= ~IPSM_CFG_ROW_FILTER;
}

int dp_config_row_filter(struct dp_config *dc, bool trusted)
{
	return config_update(dc, set_row_filter, trusted ? dc : NULL);
}

static void set_flag(struct ipsm_config *c, void *arg)
{
	if (arg)
		c->flags |= IPSM_CFG_LOCAL_ADDRS;
	else
		c->flags &= ~IPSM_CFG_LOCAL_ADDRS;
}

static void addr_key(struct ipsm_addr_key *k, __u16 family, const __u8 *addr)
{
	memset(k, 0, sizeof(*k));
	k->family = ipsm_af_of(family);
	memcpy(k->addr, addr, family == AF_INET6 ? 16 : 4);
}

static bool listed(const struct local_addrs *la, const struct ipsm_addr_key *k)
{
	__u16 family = k->family == IPSM_AF_IPV6 ? AF_INET6 : AF_INET;
	__u8 zero[12] = {};

	/* An IPv4 key has zeros after its 4 bytes, as the datapath builds it. */
	if (k->family == IPSM_AF_IPV4 && memcmp(k->addr + 4, zero, 12))
		return false;
	return local_addrs_has(la, family, k->addr);
}

int dp_config_addrs(struct dp_config *dc, const struct local_addrs *la)
{
	struct ipsm_addr_key k, next, *gone = NULL;
	size_t i, n_gone = 0, cap = 0;
	bool more;
	__u8 one = 1;
	int err = 0;

	if (la->n > IPSM_MAX_LOCAL_ADDRS) {
		/* Too many to list: the FIB decides, as before the first list. */
		pr_warn("%zu local addresses, more than the %d the datapath keeps: "
			"asking the FIB what is local",
			la->n, IPSM_MAX_LOCAL_ADDRS);
		return config_update(dc, set_flag, NULL);
	}
	for (i = 0; i < la->n; i++) {
		addr_key(&k, la->v[i].family, la->v[i].addr);
		if (bpf_map_update_elem(dc->fd_addrs, &k, &one, BPF_ANY))
			return -errno;
	}
	/* Addresses that went away; collected first, deleting while walking skips keys. */
	for (more = !bpf_map_get_next_key(dc->fd_addrs, NULL, &next); more;
	     more = !bpf_map_get_next_key(dc->fd_addrs, &k, &next)) {
		k = next;
		if (listed(la, &k))
			continue;
		if (n_gone == cap) {
			struct ipsm_addr_key *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(gone, cap * sizeof(*nv));
			if (!nv) {
				free(gone);
				return -ENOMEM;
			}
			gone = nv;
		}
		gone[n_gone++] = k;
	}
	for (i = 0; i < n_gone; i++)
		bpf_map_delete_elem(dc->fd_addrs, &gone[i]);
	free(gone);
	if (!err)
		err = config_update(dc, set_flag, &one);
	return err;
}

int dp_config_marks(struct dp_config *dc, const struct ipsm_xfrm_sa *xs, size_t n)
{
	struct ipsm_marks m = {};
	size_t i, skipped = 0;
	__u32 j, k = 0;

	for (i = 0; i < n; i++) {
		if (!xs[i].mark)
			continue;
		for (j = 0; j < m.n && m.mark[j] != xs[i].mark; j++)
			;
		if (j < m.n)
			continue;
		if (m.n == IPSM_MAX_MARKS) {
			skipped++;
			continue;
		}
		m.mark[m.n++] = xs[i].mark;
	}
	if (skipped)
		pr_warn("more than %d distinct SA marks: the XDP SA lookup tries the first %d",
			IPSM_MAX_MARKS, IPSM_MAX_MARKS);
	return bpf_map_update_elem(dc->fd_marks, &k, &m, BPF_ANY) ? -errno : 0;
}

int dp_config_mark_add(struct dp_config *dc, __u32 mark)
{
	struct ipsm_marks m;
	__u32 j, k = 0;

	if (!mark)
		return 0;
	if (bpf_map_lookup_elem(dc->fd_marks, &k, &m))
		return -errno;
	for (j = 0; j < m.n && j < IPSM_MAX_MARKS; j++)
		if (m.mark[j] == mark)
			return 0;
	if (m.n >= IPSM_MAX_MARKS)
		return 0; /* the next full rebuild warns */
	m.mark[m.n++] = mark;
	return bpf_map_update_elem(dc->fd_marks, &k, &m, BPF_ANY) ? -errno : 0;
}

int dp_config_refresh(const struct ipsm_paths *p)
{
	struct local_addrs la = {};
	struct ipsm_xfrm_sa *xs = NULL;
	struct dp_config dc;
	size_t n = 0;
	int err;

	err = dp_config_open(p, &dc);
	if (err)
		return err;
	err = dp_config_seed(&dc);
	if (!err && !local_addrs_read(&la))
		err = dp_config_addrs(&dc, &la);
	/* No XFRM here, or no rights to it: no marks to know of. */
	if (!err && !xfrm_sas_read(&xs, &n))
		err = dp_config_marks(&dc, xs, n);
	free(xs);
	local_addrs_free(&la);
	dp_config_close(&dc);
	return err;
}
