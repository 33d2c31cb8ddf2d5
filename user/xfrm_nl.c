// SPDX-License-Identifier: GPL-2.0
/* XFRM netlink: message parsing and the socket (dumps, events), with libmnl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/xfrm.h>

#include "xfrm_nl.h"

/* Packet offload (6.2+): uapi headers of older kernels lack the name. */
#ifndef XFRM_OFFLOAD_PACKET
#define XFRM_OFFLOAD_PACKET 4
#endif

#define DUMP_RETRIES 5
/* A dump read holds many messages; the kernel sends at most 32 KiB per read. */
#define NL_BUF_SIZE 32768
/* Datagrams read per call of xfrm_nl_read_events(), each holding many events. */
#define EVENT_BATCHES 64
/*
 * The event socket's receive buffer: a daemon restart or a flush of
 * 100,000 SAs is 100,000 events of a few hundred bytes each.
 */
#define EVENT_RCVBUF (64 << 20)

struct xfrm_nl {
	struct mnl_socket *nl;
	unsigned int portid;
	unsigned int seq;
	char *buf;
};

bool xfrm_sa_confidential(const struct ipsm_xfrm_sa *sa)
{
	/* AEAD always encrypts; "ecb(cipher_null)" is ESP without encryption. */
	if (sa->aead_alg[0])
		return true;
	return sa->enc_alg[0] && !strstr(sa->enc_alg, "cipher_null");
}

bool xfrm_sa_authenticated(const struct ipsm_xfrm_sa *sa)
{
	if (sa->proto == IPPROTO_AH || sa->aead_alg[0])
		return true;
	return sa->auth_alg[0] && strstr(sa->auth_alg, "digest_null") == NULL;
}

void xfrm_sa_fail(const struct ipsm_xfrm_sa *sa, struct ipsm_sa_fail *f)
{
	f->integrity_failed = sa->stats_integrity_failed;
	f->replayed = (__u64)sa->stats_replay + sa->stats_replay_window;
}

/* Attributes we read, with the minimum payload each must have. */
static const size_t attr_min_len[XFRMA_MAX + 1] = {
	[XFRMA_ALG_AUTH] = sizeof(struct xfrm_algo),
	[XFRMA_ALG_CRYPT] = sizeof(struct xfrm_algo),
	[XFRMA_ALG_AEAD] = sizeof(struct xfrm_algo_aead),
	[XFRMA_ALG_AUTH_TRUNC] = sizeof(struct xfrm_algo_auth),
	[XFRMA_ENCAP] = sizeof(struct xfrm_encap_tmpl),
	[XFRMA_SA] = sizeof(struct xfrm_usersa_info),
	[XFRMA_POLICY] = sizeof(struct xfrm_userpolicy_info),
	[XFRMA_REPLAY_VAL] = sizeof(struct xfrm_replay_state),
	[XFRMA_REPLAY_ESN_VAL] = sizeof(struct xfrm_replay_state_esn),
	[XFRMA_LASTUSED] = sizeof(__u64),
	[XFRMA_IF_ID] = sizeof(__u32),
	[XFRMA_MARK] = sizeof(struct xfrm_mark),
	[XFRMA_OFFLOAD_DEV] = sizeof(struct xfrm_user_offload),
	[XFRMA_TMPL] = 0,
};

struct attr_tb {
	const struct nlattr *a[XFRMA_MAX + 1];
	int bad;
};

static int attr_cb(const struct nlattr *attr, void *data)
{
	struct attr_tb *tb = data;
	unsigned int type = mnl_attr_get_type(attr);

	/* Newer kernels add attributes: skip what this build does not know. */
	if (type > XFRMA_MAX)
		return MNL_CB_OK;
	if (mnl_attr_get_payload_len(attr) < attr_min_len[type]) {
		tb->bad = 1;
		return MNL_CB_ERROR;
	}
	tb->a[type] = attr;
	return MNL_CB_OK;
}

static int parse_attrs(const struct nlmsghdr *nlh, size_t fixed, struct attr_tb *tb)
{
	memset(tb, 0, sizeof(*tb));
	if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(fixed))
		return -EINVAL;
	if (mnl_attr_parse(nlh, MNL_ALIGN(fixed), attr_cb, tb) < 0 || tb->bad)
		return -EINVAL;
	return 0;
}

/* Only the name: the key that follows it in the attribute stays in the buffer. */
static void alg_name(char *dst, const struct nlattr *a)
{
	const char *name = mnl_attr_get_payload(a);

	memcpy(dst, name, IPSM_XFRM_ALG_NAMELEN);
	dst[IPSM_XFRM_ALG_NAMELEN - 1] = '\0';
}

/*
 * Attributes are only 4-byte aligned, and these structs hold __u64s: they
 * are copied out before any member is read.
 */
static void sa_from_info(struct ipsm_xfrm_sa *sa, const void *payload)
{
	struct xfrm_usersa_info info;
	const struct xfrm_usersa_info *p = &info;

	memcpy(&info, payload, sizeof(info));
	sa->family = p->family;
	sa->proto = p->id.proto;
	sa->mode = p->mode;
	sa->spi = p->id.spi;
	memcpy(sa->daddr, &p->id.daddr, sizeof(sa->daddr));
	memcpy(sa->saddr, &p->saddr, sizeof(sa->saddr));
	sa->reqid = p->reqid;
	sa->flags = p->flags;
	sa->replay_window = p->replay_window;
	sa->bytes = p->curlft.bytes;
	sa->packets = p->curlft.packets;
	sa->add_time = p->curlft.add_time;
	sa->use_time = p->curlft.use_time;
	sa->soft_byte_limit = p->lft.soft_byte_limit;
	sa->hard_byte_limit = p->lft.hard_byte_limit;
	sa->soft_packet_limit = p->lft.soft_packet_limit;
	sa->hard_packet_limit = p->lft.hard_packet_limit;
	sa->soft_add_expires = p->lft.soft_add_expires_seconds;
	sa->hard_add_expires = p->lft.hard_add_expires_seconds;
	sa->stats_replay_window = p->stats.replay_window;
	sa->stats_replay = p->stats.replay;
	sa->stats_integrity_failed = p->stats.integrity_failed;
}

static void sa_from_attrs(struct ipsm_xfrm_sa *sa, const struct attr_tb *tb)
{
	if (tb->a[XFRMA_ALG_CRYPT])
		alg_name(sa->enc_alg, tb->a[XFRMA_ALG_CRYPT]);
	if (tb->a[XFRMA_ALG_AUTH_TRUNC]) {
		const struct xfrm_algo_auth *a = mnl_attr_get_payload(tb->a[XFRMA_ALG_AUTH_TRUNC]);

		alg_name(sa->auth_alg, tb->a[XFRMA_ALG_AUTH_TRUNC]);
		sa->auth_trunc_bits = a->alg_trunc_len;
	} else if (tb->a[XFRMA_ALG_AUTH]) {
		alg_name(sa->auth_alg, tb->a[XFRMA_ALG_AUTH]);
	}
	if (tb->a[XFRMA_ALG_AEAD]) {
		const struct xfrm_algo_aead *a = mnl_attr_get_payload(tb->a[XFRMA_ALG_AEAD]);

		alg_name(sa->aead_alg, tb->a[XFRMA_ALG_AEAD]);
		sa->aead_icv_bits = a->alg_icv_len;
	}
	if (tb->a[XFRMA_ENCAP]) {
		const struct xfrm_encap_tmpl *e = mnl_attr_get_payload(tb->a[XFRMA_ENCAP]);

		sa->encap_type = e->encap_type;
		sa->encap_sport = ntohs(e->encap_sport);
		sa->encap_dport = ntohs(e->encap_dport);
	}
	if (tb->a[XFRMA_REPLAY_ESN_VAL]) {
		const struct xfrm_replay_state_esn *r =
			mnl_attr_get_payload(tb->a[XFRMA_REPLAY_ESN_VAL]);

		sa->have_replay = true;
		sa->seq = (__u64)r->seq_hi << 32 | r->seq;
		sa->oseq = (__u64)r->oseq_hi << 32 | r->oseq;
	} else if (tb->a[XFRMA_REPLAY_VAL]) {
		const struct xfrm_replay_state *r = mnl_attr_get_payload(tb->a[XFRMA_REPLAY_VAL]);

		sa->have_replay = true;
		sa->seq = r->seq;
		sa->oseq = r->oseq;
	}
	if (tb->a[XFRMA_LASTUSED])
		sa->lastused = mnl_attr_get_u64(tb->a[XFRMA_LASTUSED]);
	if (tb->a[XFRMA_IF_ID])
		sa->if_id = mnl_attr_get_u32(tb->a[XFRMA_IF_ID]);
	if (tb->a[XFRMA_MARK]) {
		const struct xfrm_mark *m = mnl_attr_get_payload(tb->a[XFRMA_MARK]);

		sa->mark = m->v;
		sa->mark_mask = m->m;
	}
	if (tb->a[XFRMA_OFFLOAD_DEV]) {
		const struct xfrm_user_offload *o = mnl_attr_get_payload(tb->a[XFRMA_OFFLOAD_DEV]);

		sa->offload = o->flags & XFRM_OFFLOAD_PACKET ? IPSM_OFFLOAD_PACKET :
							       IPSM_OFFLOAD_CRYPTO;
		sa->offload_inbound = o->flags & XFRM_OFFLOAD_INBOUND;
		sa->offload_ifindex = o->ifindex;
	}
}

static void policy_from_info(struct ipsm_xfrm_policy *pol, const void *payload)
{
	struct xfrm_userpolicy_info info;
	const struct xfrm_userpolicy_info *p = &info;

	memcpy(&info, payload, sizeof(info));
	pol->family = p->sel.family;
	pol->dir = p->dir;
	pol->action = p->action;
	pol->index = p->index;
	pol->priority = p->priority;
}

static void policy_templates(struct ipsm_xfrm_policy *pol, const struct attr_tb *tb)
{
	const struct xfrm_user_tmpl *t;
	size_t n, i;

	if (!tb->a[XFRMA_TMPL])
		return;
	t = mnl_attr_get_payload(tb->a[XFRMA_TMPL]);
	n = mnl_attr_get_payload_len(tb->a[XFRMA_TMPL]) / sizeof(*t);
	pol->n_tmpl = n;
	for (i = 0; i < n; i++) {
		static const __u8 any[16];
		size_t alen = t[i].family == AF_INET6 ? 16 : 4;

		if (t[i].mode == XFRM_MODE_TUNNEL)
			pol->tunnel = true;
		if (pol->have_ends || (t[i].family != AF_INET && t[i].family != AF_INET6) ||
		    !memcmp(&t[i].saddr, any, alen) || !memcmp(&t[i].id.daddr, any, alen))
			continue;
		pol->have_ends = true;
		pol->tmpl_family = t[i].family;
		memcpy(pol->tmpl_saddr, &t[i].saddr, alen);
		memcpy(pol->tmpl_daddr, &t[i].id.daddr, alen);
	}
}

bool xfrm_sa_hard_expired(const struct ipsm_xfrm_sa *sa, __u64 now)
{
	/* 0 and XFRM_INF both mean no limit. */
	return sa->hard_add_expires && sa->hard_add_expires != XFRM_INF &&
	       sa->add_time + sa->hard_add_expires <= now;
}

int xfrm_msg_parse(const struct nlmsghdr *nlh, struct ipsm_xfrm_event *ev)
{
	struct attr_tb tb;
	int err;

	memset(ev, 0, sizeof(*ev));
	switch (nlh->nlmsg_type) {
	case XFRM_MSG_NEWSA:
	case XFRM_MSG_UPDSA:
		err = parse_attrs(nlh, sizeof(struct xfrm_usersa_info), &tb);
		if (err)
			return err;
		ev->type = nlh->nlmsg_type == XFRM_MSG_NEWSA ? IPSM_XEV_NEWSA : IPSM_XEV_UPDSA;
		sa_from_info(&ev->sa, mnl_nlmsg_get_payload(nlh));
		sa_from_attrs(&ev->sa, &tb);
		return 0;
	case XFRM_MSG_DELSA: {
		/* DELSA leads with xfrm_usersa_id; the whole SA is in XFRMA_SA. */
		const struct xfrm_usersa_id *id = mnl_nlmsg_get_payload(nlh);

		err = parse_attrs(nlh, sizeof(*id), &tb);
		if (err)
			return err;
		ev->type = IPSM_XEV_DELSA;
		if (tb.a[XFRMA_SA]) {
			sa_from_info(&ev->sa, mnl_attr_get_payload(tb.a[XFRMA_SA]));
		} else {
			ev->sa.family = id->family;
			ev->sa.proto = id->proto;
			ev->sa.spi = id->spi;
			memcpy(ev->sa.daddr, &id->daddr, sizeof(ev->sa.daddr));
		}
		sa_from_attrs(&ev->sa, &tb);
		return 0;
	}
	case XFRM_MSG_EXPIRE: {
		const struct xfrm_user_expire *x = mnl_nlmsg_get_payload(nlh);

		err = parse_attrs(nlh, sizeof(*x), &tb);
		if (err)
			return err;
		ev->type = x->hard ? IPSM_XEV_EXPIRE_HARD : IPSM_XEV_EXPIRE_SOFT;
		sa_from_info(&ev->sa, &x->state);
		sa_from_attrs(&ev->sa, &tb);
		return 0;
	}
	case XFRM_MSG_ACQUIRE: {
		const struct xfrm_user_acquire *a = mnl_nlmsg_get_payload(nlh);

		err = parse_attrs(nlh, sizeof(*a), &tb);
		if (err)
			return err;
		ev->type = IPSM_XEV_ACQUIRE;
		ev->sa.family = a->policy.sel.family;
		ev->sa.proto = a->id.proto;
		ev->sa.spi = a->id.spi;
		memcpy(ev->sa.daddr, &a->id.daddr, sizeof(ev->sa.daddr));
		memcpy(ev->sa.saddr, &a->saddr, sizeof(ev->sa.saddr));
		policy_from_info(&ev->pol, &a->policy);
		return 0;
	}
	case XFRM_MSG_NEWPOLICY:
	case XFRM_MSG_UPDPOLICY:
		err = parse_attrs(nlh, sizeof(struct xfrm_userpolicy_info), &tb);
		if (err)
			return err;
		ev->type = nlh->nlmsg_type == XFRM_MSG_NEWPOLICY ? IPSM_XEV_NEWPOLICY :
								   IPSM_XEV_UPDPOLICY;
		policy_from_info(&ev->pol, mnl_nlmsg_get_payload(nlh));
		policy_templates(&ev->pol, &tb);
		return 0;
	case XFRM_MSG_DELPOLICY: {
		/* Like DELSA: an id first, the whole policy in XFRMA_POLICY. */
		const struct xfrm_userpolicy_id *id = mnl_nlmsg_get_payload(nlh);

		err = parse_attrs(nlh, sizeof(*id), &tb);
		if (err)
			return err;
		ev->type = IPSM_XEV_DELPOLICY;
		if (tb.a[XFRMA_POLICY]) {
			policy_from_info(&ev->pol, mnl_attr_get_payload(tb.a[XFRMA_POLICY]));
		} else {
			ev->pol.family = id->sel.family;
			ev->pol.dir = id->dir;
			ev->pol.index = id->index;
		}
		policy_templates(&ev->pol, &tb);
		return 0;
	}
	case XFRM_MSG_POLEXPIRE: {
		const struct xfrm_user_polexpire *x = mnl_nlmsg_get_payload(nlh);

		err = parse_attrs(nlh, sizeof(*x), &tb);
		if (err)
			return err;
		ev->type = IPSM_XEV_POLEXPIRE;
		policy_from_info(&ev->pol, &x->pol);
		return 0;
	}
	case XFRM_MSG_FLUSHSA: {
		const struct xfrm_usersa_flush *f = mnl_nlmsg_get_payload(nlh);

		if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(*f))
			return -EINVAL;
		ev->type = IPSM_XEV_FLUSHSA;
		ev->flush_proto = f->proto;
		return 0;
	}
	case XFRM_MSG_FLUSHPOLICY:
		ev->type = IPSM_XEV_FLUSHPOLICY;
		return 0;
	}
	return -ENOTSUP;
}

/* As large as root may make it (SO_RCVBUFFORCE), else as large as allowed. */
static void size_event_buffer(struct xfrm_nl *x)
{
	int fd = mnl_socket_get_fd(x->nl), want = EVENT_RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
}

int xfrm_nl_rcvbuf(const struct xfrm_nl *x, int *got, int *wanted)
{
	socklen_t len = sizeof(*got);

	*wanted = EVENT_RCVBUF;
	if (getsockopt(mnl_socket_get_fd(x->nl), SOL_SOCKET, SO_RCVBUF, got, &len))
		return -errno;
	/* The kernel reports twice the size set (its bookkeeping). */
	*got /= 2;
	return 0;
}

int xfrm_nl_open(struct xfrm_nl **out, bool subscribe)
{
	unsigned int groups = 0;
	struct xfrm_nl *x;
	int err, one = 1;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->buf = malloc(NL_BUF_SIZE);
	if (!x->buf) {
		err = -ENOMEM;
		goto err_free;
	}
	x->nl = mnl_socket_open2(NETLINK_XFRM, SOCK_CLOEXEC);
	if (!x->nl) {
		err = -errno;
		goto err_free;
	}
	if (subscribe)
		groups = 1U << (XFRMNLGRP_ACQUIRE - 1) | 1U << (XFRMNLGRP_EXPIRE - 1) |
			 1U << (XFRMNLGRP_SA - 1) | 1U << (XFRMNLGRP_POLICY - 1);
	if (mnl_socket_bind(x->nl, groups, MNL_SOCKET_AUTOPID)) {
		err = -errno;
		goto err_close;
	}
	/* Extended ACKs make kernel errors readable; best effort. */
	mnl_socket_setsockopt(x->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (subscribe)
		size_event_buffer(x);
	x->portid = mnl_socket_get_portid(x->nl);
	x->seq = time(NULL);
	*out = x;
	return 0;

err_close:
	mnl_socket_close(x->nl);
err_free:
	free(x->buf);
	free(x);
	return err;
}

void xfrm_nl_close(struct xfrm_nl *x)
{
	if (!x)
		return;
	mnl_socket_close(x->nl);
	explicit_bzero(x->buf, NL_BUF_SIZE);
	free(x->buf);
	free(x);
}

int xfrm_nl_fd(const struct xfrm_nl *x)
{
	return mnl_socket_get_fd(x->nl);
}

struct dump_ctx {
	xfrm_sa_cb sa_cb;
	xfrm_pol_cb pol_cb;
	xfrm_reset_cb reset;
	void *data;
	int err;
	bool intr;
};

static int dump_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *d = data;
	struct ipsm_xfrm_event ev;
	int err;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		d->intr = true;
	err = xfrm_msg_parse(nlh, &ev);
	if (err == -ENOTSUP)
		return MNL_CB_OK;
	if (err) {
		d->err = err;
		return MNL_CB_ERROR;
	}
	if (d->sa_cb && (ev.type == IPSM_XEV_NEWSA))
		err = d->sa_cb(&ev.sa, d->data);
	else if (d->pol_cb && ev.type == IPSM_XEV_NEWPOLICY)
		err = d->pol_cb(&ev.pol, d->data);
	if (err) {
		d->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * One received batch of our request's answer. Not mnl_cb_run(): it fails
 * a whole batch with EINTR for NLM_F_DUMP_INTR before any callback runs,
 * and then the rest of the dump (its NLMSG_DONE included) would be left in
 * the socket. Here the flag reaches the callback, which asks for a retry,
 * and the dump is read to its end. Returns MNL_CB_OK to read on,
 * MNL_CB_STOP at the end, or a negative errno.
 */
static int run_batch(struct xfrm_nl *x, size_t n, mnl_cb_t cb, void *data)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)x->buf;
	int len = n, ret;

	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		/* A late answer to an earlier request: not ours now. */
		if (nlh->nlmsg_seq != x->seq || (nlh->nlmsg_pid && nlh->nlmsg_pid != x->portid))
			continue;
		if (nlh->nlmsg_type == NLMSG_DONE)
			return MNL_CB_STOP;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
				return -EBADMSG;
			/* error 0 is the ACK of a request without a dump. */
			return e->error ? e->error : MNL_CB_STOP;
		}
		if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
			continue;
		ret = cb(nlh, data);
		if (ret <= MNL_CB_STOP)
			return ret == MNL_CB_ERROR ? -EPROTO : ret;
	}
	return MNL_CB_OK;
}

static int request(struct xfrm_nl *x, __u16 type, __u16 flags, size_t payload_len, mnl_cb_t cb,
		   void *data)
{
	struct nlmsghdr *nlh;
	size_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(x->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++x->seq;
	if (payload_len)
		mnl_nlmsg_put_extra_header(nlh, payload_len);
	if (mnl_socket_sendto(x->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((ret = mnl_socket_recvfrom(x->nl, x->buf, NL_BUF_SIZE)) > 0) {
		n = ret;
		ret = run_batch(x, n, cb, data);
		/* SA messages carry keys: none stays in memory once parsed. */
		explicit_bzero(x->buf, n);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (ret < 0)
		return ret == -1 ? -errno : ret;
	return 0;
}

static int dump(struct xfrm_nl *x, __u16 type, struct dump_ctx *d)
{
	int i, err;

	for (i = 0; i < DUMP_RETRIES; i++) {
		if (i && d->reset)
			d->reset(d->data);
		d->err = 0;
		d->intr = false;
		err = request(x, type, NLM_F_DUMP, 0, dump_msg_cb, d);
		if (d->err)
			return d->err;
		if (err)
			return err;
		if (!d->intr)
			return 0;
	}
	return -EAGAIN;
}

int xfrm_nl_dump_sas(struct xfrm_nl *x, xfrm_sa_cb cb, xfrm_reset_cb reset, void *data)
{
	struct dump_ctx d = { .sa_cb = cb, .reset = reset, .data = data };

	return dump(x, XFRM_MSG_GETSA, &d);
}

int xfrm_nl_dump_policies(struct xfrm_nl *x, xfrm_pol_cb cb, xfrm_reset_cb reset, void *data)
{
	struct dump_ctx d = { .pol_cb = cb, .reset = reset, .data = data };

	return dump(x, XFRM_MSG_GETPOLICY, &d);
}

static int sadinfo_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == XFRMA_SAD_CNT &&
	    mnl_attr_get_payload_len(attr) >= sizeof(__u32))
		*(__u32 *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int sadinfo_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type != XFRM_MSG_NEWSADINFO)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, MNL_ALIGN(sizeof(__u32)), sadinfo_attr_cb, data);
	return MNL_CB_OK;
}

int xfrm_nl_sad_count(struct xfrm_nl *x, __u32 *count)
{
	*count = 0;
	/*
	 * The request body is a u32 the kernel ignores. NLM_F_ACK: the ACK
	 * after the one reply is what ends the receive loop.
	 */
	return request(x, XFRM_MSG_GETSADINFO, NLM_F_ACK, sizeof(__u32), sadinfo_cb, count);
}

struct ev_ctx {
	xfrm_ev_cb cb;
	void *data;
	int err;
};

static int ev_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ev_ctx *e = data;
	struct ipsm_xfrm_event ev;
	int err;

	err = xfrm_msg_parse(nlh, &ev);
	if (err == -ENOTSUP)
		return MNL_CB_OK;
	if (!err)
		err = e->cb(&ev, e->data);
	if (err) {
		e->err = err;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

int xfrm_nl_read_events(struct xfrm_nl *x, xfrm_ev_cb cb, void *data)
{
	struct ev_ctx e = { .cb = cb, .data = data };
	ssize_t n;
	int ret, batches;

	/* Bounded: a flood of events must not keep ticks and signals waiting. */
	for (batches = 0; batches < EVENT_BATCHES; batches++) {
		n = recv(xfrm_nl_fd(x), x->buf, NL_BUF_SIZE, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno; /* ENOBUFS: the kernel dropped events */
		}
		/* Events carry sequence 0 and port 0: accept any. */
		ret = mnl_cb_run(x->buf, n, 0, 0, ev_msg_cb, &e);
		explicit_bzero(x->buf, n);
		if (e.err)
			return e.err;
		if (ret < 0)
			return -errno;
	}
	return 0;
}

struct sa_list {
	struct ipsm_xfrm_sa *v;
	size_t n, cap;
};

static int collect_sa(const struct ipsm_xfrm_sa *sa, void *data)
{
	struct sa_list *l = data;
	struct ipsm_xfrm_sa *nv;

	/* IPcomp and anything else has no ESP/AH packets to match. */
	if (sa->proto != IPPROTO_ESP && sa->proto != IPPROTO_AH)
		return 0;
	/*
	 * A larval SA (an SPI reserved with ALLOCSPI, keys still to come)
	 * carries no algorithm and no packet can use it: not active yet.
	 */
	if (!sa->enc_alg[0] && !sa->auth_alg[0] && !sa->aead_alg[0])
		return 0;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		nv = realloc(l->v, l->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		l->v = nv;
	}
	l->v[l->n++] = *sa;
	return 0;
}

/* A dump started again: the SAs of the last try go (the memory stays for the next). */
static void restart_sas(void *data)
{
	((struct sa_list *)data)->n = 0;
}

int xfrm_sas_read(struct ipsm_xfrm_sa **xs, size_t *n)
{
	struct sa_list l = {};
	struct xfrm_nl *x;
	int err;

	*xs = NULL;
	*n = 0;
	err = xfrm_nl_open(&x, false);
	if (err)
		return err;
	err = xfrm_nl_dump_sas(x, collect_sa, restart_sas, &l);
	xfrm_nl_close(x);
	if (err) {
		free(l.v);
		return err;
	}
	/* Non-NULL even when empty: "no SAs" is not "could not ask". */
	if (!l.v && !(l.v = calloc(1, sizeof(*l.v))))
		return -ENOMEM;
	*xs = l.v;
	*n = l.n;
	return 0;
}

int xfrm_pair_cmp(const void *a, const void *b)
{
	const struct ipsm_xfrm_pair *x = a, *y = b;
	int c;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->local, y->local, 16);
	return c ? c : memcmp(x->remote, y->remote, 16);
}

struct summary_ctx {
	struct ipsm_xfrm_summary *sum;
	size_t cap;
};

/* An allowing policy's template pair, local end first (in and fwd come from the remote). */
static int add_pair(struct summary_ctx *c, const struct ipsm_xfrm_policy *pol)
{
	struct ipsm_xfrm_summary *sum = c->sum;
	bool out = pol->dir == XFRM_POLICY_OUT;
	struct ipsm_xfrm_pair *p, *nv;

	if (!pol->have_ends || pol->action != XFRM_POLICY_ALLOW || pol->dir > XFRM_POLICY_FWD)
		return 0;
	if (sum->n_pairs == IPSM_MAX_POLICY_PAIRS) {
		sum->pairs_dropped++;
		return 0;
	}
	if (sum->n_pairs == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		nv = realloc(sum->pairs, c->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		sum->pairs = nv;
	}
	p = &sum->pairs[sum->n_pairs++];
	memset(p, 0, sizeof(*p));
	p->family = pol->tmpl_family;
	memcpy(p->local, out ? pol->tmpl_saddr : pol->tmpl_daddr, 16);
	memcpy(p->remote, out ? pol->tmpl_daddr : pol->tmpl_saddr, 16);
	p->tunnel = pol->tunnel;
	return 0;
}

static int count_policy(const struct ipsm_xfrm_policy *pol, void *data)
{
	struct summary_ctx *c = data;

	if (pol->dir < 3)
		c->sum->policies[pol->dir]++;
	if (pol->action == XFRM_POLICY_BLOCK)
		c->sum->policies_block++;
	return add_pair(c, pol);
}

/* A policy dump started again: the counts of the last try go; the SAD count stays. */
static void restart_policies(void *data)
{
	struct ipsm_xfrm_summary *sum = ((struct summary_ctx *)data)->sum;

	memset(sum->policies, 0, sizeof(sum->policies));
	sum->policies_block = 0;
	sum->n_pairs = 0;
	sum->pairs_dropped = 0;
}

/* Sort and merge the pairs (a pair with any tunnel-mode template is a tunnel). */
static void unique_pairs(struct ipsm_xfrm_summary *sum)
{
	size_t i, kept;

	if (!sum->n_pairs)
		return;
	qsort(sum->pairs, sum->n_pairs, sizeof(*sum->pairs), xfrm_pair_cmp);
	for (i = 1, kept = 1; i < sum->n_pairs; i++) {
		if (xfrm_pair_cmp(&sum->pairs[i], &sum->pairs[kept - 1]))
			sum->pairs[kept++] = sum->pairs[i];
		else if (sum->pairs[i].tunnel)
			sum->pairs[kept - 1].tunnel = true;
	}
	sum->n_pairs = kept;
}

void xfrm_summary_free(struct ipsm_xfrm_summary *sum)
{
	free(sum->pairs);
	sum->pairs = NULL;
	sum->n_pairs = 0;
}

int xfrm_summary_read(struct ipsm_xfrm_summary *sum)
{
	struct summary_ctx c = { .sum = sum };
	struct xfrm_nl *x;
	int err;

	memset(sum, 0, sizeof(*sum));
	err = xfrm_nl_open(&x, false);
	if (err)
		return err;
	err = xfrm_nl_sad_count(x, &sum->sad_count);
	if (!err)
		err = xfrm_nl_dump_policies(x, count_policy, restart_policies, &c);
	xfrm_nl_close(x);
	if (err) {
		xfrm_summary_free(sum);
		return err;
	}
	unique_pairs(sum);
	return 0;
}
