// SPDX-License-Identifier: GPL-2.0
/*
 * cmocka tests for the XFRM netlink parser, on messages built here, and for
 * the dumps (a real NETLINK_XFRM socket, its send and receive scripted).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/xfrm.h>

#include "xfrm_nl.h"

/* Recognisable key bytes: the parser must never copy them anywhere. */
static const unsigned char key[20] = { 0xde, 0xad, 0xbe, 0xef, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
				       0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xf0, 0x0d };

static char buf[8192];

static void fill_info(struct xfrm_usersa_info *p, __u32 spi)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->id.proto = IPPROTO_ESP;
	p->id.spi = htonl(spi);
	inet_pton(AF_INET, "10.0.0.2", &p->id.daddr);
	inet_pton(AF_INET, "10.0.0.1", &p->saddr);
	p->mode = XFRM_MODE_TUNNEL;
	p->reqid = 7;
	p->replay_window = 32;
	p->curlft.bytes = 1234;
	p->curlft.packets = 10;
	p->curlft.add_time = 1700000000;
	p->lft.soft_byte_limit = XFRM_INF;
	p->stats.replay = 2;
	p->stats.replay_window = 3;
	p->stats.integrity_failed = 4;
}

/* An xfrm_algo attribute: name, key length, then the key itself. */
static void put_algo(struct nlmsghdr *nlh, int type, const char *name, size_t extra)
{
	char a[sizeof(struct xfrm_algo_auth) + sizeof(key)] = {};
	size_t hdr = sizeof(struct xfrm_algo) + extra;

	/* Like the kernel's field: NUL-padded, not always NUL-terminated. */
	memcpy(a, name, strnlen(name, IPSM_XFRM_ALG_NAMELEN));
	*(unsigned int *)(a + IPSM_XFRM_ALG_NAMELEN) = sizeof(key) * 8;
	if (extra)
		*(unsigned int *)(a + sizeof(struct xfrm_algo)) = 96; /* trunc or ICV bits */
	memcpy(a + hdr, key, sizeof(key));
	mnl_attr_put(nlh, type, hdr + sizeof(key), a);
}

/* A message of type in buf with a zeroed payload of len bytes; *payload: it. */
static struct nlmsghdr *newmsg(__u16 type, size_t len, void **payload)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	*payload = mnl_nlmsg_put_extra_header(nlh, len);
	return nlh;
}

static struct nlmsghdr *newsa(__u16 type, __u32 spi)
{
	struct xfrm_usersa_info *p;
	struct nlmsghdr *nlh = newmsg(type, sizeof(*p), (void **)&p);

	fill_info(p, spi);
	return nlh;
}

/* A NEWPOLICY for dir and family with index, its templates still to add. */
static struct nlmsghdr *newpolicy(__u8 dir, __u16 family, __u32 index)
{
	struct xfrm_userpolicy_info *p;
	struct nlmsghdr *nlh = newmsg(XFRM_MSG_NEWPOLICY, sizeof(*p), (void **)&p);

	p->sel.family = family;
	p->dir = dir;
	p->index = index;
	return nlh;
}

static void assert_no_key(const void *mem, size_t len)
{
	/* Any 4 consecutive key bytes would be a leak. */
	size_t i;

	for (i = 0; i + 4 <= sizeof(key); i++)
		assert_null(memmem(mem, len, key + i, 4));
}

static void test_newsa(void **state)
{
	struct xfrm_encap_tmpl enc = { .encap_type = 2,
				       .encap_sport = htons(4500),
				       .encap_dport = htons(4501) };
	struct xfrm_replay_state rs = { .oseq = 5, .seq = 9, .bitmap = 0xff };
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;
	char sabuf[64];

	(void)state;
	nlh = newsa(XFRM_MSG_NEWSA, 0xc0ffee);
	put_algo(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", 0);
	put_algo(nlh, XFRMA_ALG_AUTH_TRUNC, "hmac(sha256)", sizeof(unsigned int));
	mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(enc), &enc);
	mnl_attr_put(nlh, XFRMA_REPLAY_VAL, sizeof(rs), &rs);
	mnl_attr_put_u64(nlh, XFRMA_LASTUSED, 1700000100);
	mnl_attr_put_u32(nlh, XFRMA_IF_ID, 42);

	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ev.type, IPSM_XEV_NEWSA);
	assert_int_equal(ntohl(ev.sa.spi), 0xc0ffee);
	assert_int_equal(ev.sa.proto, IPPROTO_ESP);
	assert_int_equal(ev.sa.family, AF_INET);
	assert_int_equal(ev.sa.mode, IPSM_XFRM_MODE_TUNNEL);
	inet_ntop(AF_INET, ev.sa.daddr, sabuf, sizeof(sabuf));
	assert_string_equal(sabuf, "10.0.0.2");
	inet_ntop(AF_INET, ev.sa.saddr, sabuf, sizeof(sabuf));
	assert_string_equal(sabuf, "10.0.0.1");
	assert_int_equal(ev.sa.reqid, 7);
	assert_int_equal(ev.sa.if_id, 42);
	assert_string_equal(ev.sa.enc_alg, "cbc(aes)");
	assert_string_equal(ev.sa.auth_alg, "hmac(sha256)");
	assert_int_equal(ev.sa.auth_trunc_bits, 96);
	assert_string_equal(ev.sa.aead_alg, "");
	assert_int_equal(ev.sa.encap_type, 2);
	assert_int_equal(ev.sa.encap_sport, 4500);
	assert_int_equal(ev.sa.encap_dport, 4501);
	assert_int_equal(ev.sa.bytes, 1234);
	assert_int_equal(ev.sa.packets, 10);
	assert_int_equal(ev.sa.stats_replay, 2);
	assert_int_equal(ev.sa.stats_replay_window, 3);
	assert_int_equal(ev.sa.stats_integrity_failed, 4);
	assert_true(ev.sa.have_replay);
	assert_int_equal(ev.sa.seq, 9);
	assert_int_equal(ev.sa.oseq, 5);
	assert_int_equal(ev.sa.lastused, 1700000100);
	assert_true(xfrm_sa_confidential(&ev.sa));
	assert_true(xfrm_sa_authenticated(&ev.sa));
	assert_no_key(&ev, sizeof(ev));
}

static void test_esn_and_aead(void **state)
{
	struct {
		struct xfrm_replay_state_esn r;
		__u32 bmp[4];
	} esn = { .r = { .bmp_len = 4,
			 .oseq = 1,
			 .seq = 2,
			 .oseq_hi = 3,
			 .seq_hi = 4,
			 .replay_window = 128 } };
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = newsa(XFRM_MSG_UPDSA, 1);
	put_algo(nlh, XFRMA_ALG_AEAD, "rfc4106(gcm(aes))", sizeof(unsigned int));
	mnl_attr_put(nlh, XFRMA_REPLAY_ESN_VAL, sizeof(esn), &esn);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ev.type, IPSM_XEV_UPDSA);
	assert_string_equal(ev.sa.aead_alg, "rfc4106(gcm(aes))");
	assert_int_equal(ev.sa.aead_icv_bits, 96);
	assert_true(ev.sa.seq == (4ULL << 32 | 2));
	assert_true(ev.sa.oseq == (3ULL << 32 | 1));
	assert_true(xfrm_sa_confidential(&ev.sa));
	assert_true(xfrm_sa_authenticated(&ev.sa));
	assert_no_key(&ev, sizeof(ev));
}

/* A NEWSA with an XFRMA_OFFLOAD_DEV of len bytes (none when o is NULL), parsed into ev. */
static int parse_offload(__u32 seq, const struct xfrm_user_offload *o, size_t len,
			 struct ipsm_xfrm_event *ev)
{
	struct nlmsghdr *nlh = newsa(XFRM_MSG_NEWSA, seq);

	if (o)
		mnl_attr_put(nlh, XFRMA_OFFLOAD_DEV, len, o);
	return xfrm_msg_parse(nlh, ev);
}

/* XFRMA_OFFLOAD_DEV: crypto offload outbound, packet offload inbound; none without it. */
static void test_offload(void **state)
{
	struct xfrm_user_offload crypto = { .ifindex = 5, .flags = 0 };
	struct xfrm_user_offload packet = { .ifindex = 6, .flags = XFRM_OFFLOAD_INBOUND | 4 };
	struct ipsm_xfrm_event ev;

	(void)state;
	assert_int_equal(parse_offload(2, NULL, 0, &ev), 0);
	assert_int_equal(ev.sa.offload, IPSM_OFFLOAD_NONE);
	assert_int_equal(ev.sa.offload_ifindex, 0);

	assert_int_equal(parse_offload(3, &crypto, sizeof(crypto), &ev), 0);
	assert_int_equal(ev.sa.offload, IPSM_OFFLOAD_CRYPTO);
	assert_false(ev.sa.offload_inbound);
	assert_int_equal(ev.sa.offload_ifindex, 5);

	assert_int_equal(parse_offload(4, &packet, sizeof(packet), &ev), 0);
	assert_int_equal(ev.sa.offload, IPSM_OFFLOAD_PACKET);
	assert_true(ev.sa.offload_inbound);
	assert_int_equal(ev.sa.offload_ifindex, 6);

	/* Shorter than struct xfrm_user_offload: the message is refused, as for every attribute. */
	assert_int_equal(parse_offload(5, &crypto, 2, &ev), -EINVAL);
}

static void test_null_cipher_and_ah(void **state)
{
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;
	struct xfrm_usersa_info *p;

	(void)state;
	nlh = newsa(XFRM_MSG_NEWSA, 2);
	put_algo(nlh, XFRMA_ALG_CRYPT, "ecb(cipher_null)", 0);
	put_algo(nlh, XFRMA_ALG_AUTH_TRUNC, "hmac(sha256)", sizeof(unsigned int));
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_false(xfrm_sa_confidential(&ev.sa));
	assert_true(xfrm_sa_authenticated(&ev.sa));

	nlh = newsa(XFRM_MSG_NEWSA, 3);
	p = mnl_nlmsg_get_payload(nlh);
	p->id.proto = IPPROTO_AH;
	put_algo(nlh, XFRMA_ALG_AUTH, "hmac(sha1)", 0);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ev.sa.proto, IPPROTO_AH);
	assert_false(xfrm_sa_confidential(&ev.sa));
	assert_true(xfrm_sa_authenticated(&ev.sa));
}

static void test_delsa(void **state)
{
	struct xfrm_usersa_info info;
	struct xfrm_usersa_id *id;
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;

	(void)state;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_DELSA;
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	id->family = AF_INET;
	id->proto = IPPROTO_ESP;
	id->spi = htonl(0x1001);
	fill_info(&info, 0x1001);
	info.curlft.packets = 77;
	mnl_attr_put(nlh, XFRMA_SA, sizeof(info), &info);
	put_algo(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", 0);

	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ev.type, IPSM_XEV_DELSA);
	assert_int_equal(ntohl(ev.sa.spi), 0x1001);
	assert_int_equal(ev.sa.packets, 77); /* from XFRMA_SA: final counters */
	assert_int_equal(ev.sa.mode, IPSM_XFRM_MODE_TUNNEL);
	assert_string_equal(ev.sa.enc_alg, "cbc(aes)");
	assert_no_key(&ev, sizeof(ev));

	/* Without XFRMA_SA the id alone still names the SA. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_DELSA;
	id = mnl_nlmsg_put_extra_header(nlh, sizeof(*id));
	id->family = AF_INET6;
	id->proto = IPPROTO_AH;
	id->spi = htonl(0x2002);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ntohl(ev.sa.spi), 0x2002);
	assert_int_equal(ev.sa.family, AF_INET6);
	assert_int_equal(ev.sa.proto, IPPROTO_AH);
}

static void test_expire(void **state)
{
	struct xfrm_user_expire *x;
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;
	int hard;

	(void)state;
	for (hard = 0; hard <= 1; hard++) {
		memset(buf, 0, sizeof(buf));
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = XFRM_MSG_EXPIRE;
		x = mnl_nlmsg_put_extra_header(nlh, sizeof(*x));
		fill_info(&x->state, 0x3000 + hard);
		x->hard = hard;
		assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
		assert_int_equal(ev.type, hard ? IPSM_XEV_EXPIRE_HARD : IPSM_XEV_EXPIRE_SOFT);
		assert_int_equal(ntohl(ev.sa.spi), 0x3000 + hard);
		assert_int_equal(ev.sa.packets, 10);
	}
}

static void test_acquire(void **state)
{
	struct xfrm_user_acquire *a;
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;
	char s[64];

	(void)state;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = XFRM_MSG_ACQUIRE;
	a = mnl_nlmsg_put_extra_header(nlh, sizeof(*a));
	a->id.proto = IPPROTO_ESP;
	inet_pton(AF_INET, "192.0.2.9", &a->id.daddr);
	inet_pton(AF_INET, "192.0.2.1", &a->saddr);
	a->policy.sel.family = AF_INET;
	a->policy.dir = XFRM_POLICY_OUT;
	a->policy.index = 99;
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ev.type, IPSM_XEV_ACQUIRE);
	inet_ntop(AF_INET, ev.sa.daddr, s, sizeof(s));
	assert_string_equal(s, "192.0.2.9");
	assert_int_equal(ev.pol.index, 99);
	assert_int_equal(ev.pol.dir, XFRM_POLICY_OUT);
}

static void test_policy(void **state)
{
	struct xfrm_user_tmpl t[2] = {};
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;

	(void)state;
	nlh = newpolicy(XFRM_POLICY_IN, AF_INET6, 8);
	t[1].mode = XFRM_MODE_TUNNEL;
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), t);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(ev.type, IPSM_XEV_NEWPOLICY);
	assert_int_equal(ev.pol.family, AF_INET6);
	assert_int_equal(ev.pol.n_tmpl, 2);
	assert_true(ev.pol.tunnel);
	/* Neither template names both ends (a transport template may not). */
	assert_false(ev.pol.have_ends);
}

/* The pair comes from the first template with both ends, as the policy sends. */
static void test_policy_ends(void **state)
{
	struct xfrm_user_tmpl t[2] = {};
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;
	__u8 want[16] = {};

	(void)state;
	nlh = newpolicy(XFRM_POLICY_IN, AF_INET, 0);
	t[0].family = AF_INET;
	inet_pton(AF_INET, "10.0.0.9", &t[0].saddr); /* no destination: skipped */
	t[1].family = AF_INET;
	t[1].mode = XFRM_MODE_TUNNEL;
	inet_pton(AF_INET, "10.0.0.1", &t[1].saddr);
	inet_pton(AF_INET, "10.0.0.2", &t[1].id.daddr);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), t);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_true(ev.pol.have_ends);
	assert_int_equal(ev.pol.tmpl_family, AF_INET);
	inet_pton(AF_INET, "10.0.0.1", want);
	assert_memory_equal(ev.pol.tmpl_saddr, want, 16);
	inet_pton(AF_INET, "10.0.0.2", want);
	assert_memory_equal(ev.pol.tmpl_daddr, want, 16);
}

static void test_hard_expired(void **state)
{
	struct ipsm_xfrm_sa sa = { .add_time = 1000, .hard_add_expires = 6 };

	(void)state;
	assert_false(xfrm_sa_hard_expired(&sa, 1005));
	assert_true(xfrm_sa_hard_expired(&sa, 1006));
	sa.hard_add_expires = 0; /* no limit */
	assert_false(xfrm_sa_hard_expired(&sa, 99999));
	sa.hard_add_expires = ~0ULL; /* XFRM_INF */
	assert_false(xfrm_sa_hard_expired(&sa, 99999));
}

static void test_truncated_and_unknown(void **state)
{
	struct xfrm_algo short_algo = {};
	struct ipsm_xfrm_event ev;
	struct nlmsghdr *nlh;

	(void)state;
	/* Fixed header cut short. */
	nlh = newsa(XFRM_MSG_NEWSA, 4);
	nlh->nlmsg_len = MNL_NLMSG_HDRLEN + sizeof(struct xfrm_usersa_info) / 2;
	assert_int_equal(xfrm_msg_parse(nlh, &ev), -EINVAL);

	/* An attribute shorter than its struct. */
	nlh = newsa(XFRM_MSG_NEWSA, 5);
	mnl_attr_put(nlh, XFRMA_ALG_CRYPT, sizeof(short_algo) - 8, &short_algo);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), -EINVAL);

	/* An attribute from a newer kernel is skipped. */
	nlh = newsa(XFRM_MSG_NEWSA, 6);
	mnl_attr_put_u32(nlh, XFRMA_MAX + 7, 0xffffffff);
	put_algo(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", 0);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_string_equal(ev.sa.enc_alg, "cbc(aes)");

	/* A name that fills its field is cut, not read past. */
	nlh = newsa(XFRM_MSG_NEWSA, 7);
	put_algo(nlh, XFRMA_ALG_CRYPT,
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), 0);
	assert_int_equal(strlen(ev.sa.enc_alg), IPSM_XFRM_ALG_NAMELEN - 1);

	/* Message types we do not use. */
	nlh = newsa(XFRM_MSG_NEWAE, 8);
	assert_int_equal(xfrm_msg_parse(nlh, &ev), -ENOTSUP);
}

/*
 * The netlink socket's send and receive, scripted: the test binary is
 * linked with --wrap for both (Makefile), so xfrm_sas_read() and
 * xfrm_summary_read() run whole against these answers. Each dump request
 * is answered in one batch: two SAs (or two policies) and NLMSG_DONE; the
 * first dump has NLM_F_DUMP_INTR on its second message, as a kernel marks
 * a dump that changed under it, so it is asked again.
 */
static struct {
	int dumps; /* dump requests so far */
	__u16 type; /* of the last request */
	__u32 seq;
} nl;

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *sock, const void *req, size_t len);
ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *sock, void *b, size_t len);

ssize_t __wrap_mnl_socket_sendto(const struct mnl_socket *sock, const void *req, size_t len)
{
	const struct nlmsghdr *nlh = req;

	(void)sock;
	nl.type = nlh->nlmsg_type;
	nl.seq = nlh->nlmsg_seq;
	if (nlh->nlmsg_flags & NLM_F_DUMP)
		nl.dumps++;
	return len;
}

/* The i-th message of a dump answer: an SA, or an allowing outbound policy. */
static struct nlmsghdr *dump_msg(int i)
{
	struct xfrm_user_tmpl t = {};
	struct nlmsghdr *nlh;

	if (nl.type == XFRM_MSG_GETSA) {
		nlh = newsa(XFRM_MSG_NEWSA, 0x100 + i);
		put_algo(nlh, XFRMA_ALG_AEAD, "rfc4106(gcm(aes))", sizeof(unsigned int));
		return nlh;
	}
	nlh = newpolicy(XFRM_POLICY_OUT, AF_INET, i);
	t.family = AF_INET;
	t.mode = XFRM_MODE_TUNNEL;
	inet_pton(AF_INET, "10.0.0.1", &t.saddr);
	inet_pton(AF_INET, i == 1 ? "10.0.0.2" : "10.0.0.3", &t.id.daddr);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
	return nlh;
}

/* A message of type with a payload of len zero bytes, at out. */
static size_t put_msg(char *out, __u16 type, __u16 flags, size_t len)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(out);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = nl.seq;
	mnl_nlmsg_put_extra_header(nlh, len);
	return MNL_ALIGN(nlh->nlmsg_len);
}

ssize_t __wrap_mnl_socket_recvfrom(const struct mnl_socket *sock, void *b, size_t len)
{
	struct nlmsghdr *nlh;
	size_t n = 0;
	char *out = b;
	int i;

	(void)sock;
	(void)len;
	if (nl.type == XFRM_MSG_GETSADINFO) {
		/* The SADINFO (no SAD count attribute: 0), then the ACK. */
		n = put_msg(out, XFRM_MSG_NEWSADINFO, 0, sizeof(__u32));
		return n + put_msg(out + n, NLMSG_ERROR, 0, sizeof(struct nlmsgerr));
	}
	for (i = 1; i <= 2; i++) {
		nlh = dump_msg(i);
		nlh->nlmsg_seq = nl.seq;
		nlh->nlmsg_flags = NLM_F_MULTI | (i == 2 && nl.dumps == 1 ? NLM_F_DUMP_INTR : 0);
		memcpy(out + n, nlh, nlh->nlmsg_len);
		n += MNL_ALIGN(nlh->nlmsg_len);
	}
	return n + put_msg(out + n, NLMSG_DONE, NLM_F_MULTI, sizeof(int));
}

/* A dump cut short and asked again: what the first try gave does not count twice. */
static void test_dump_restarted(void **state)
{
	struct ipsm_xfrm_summary sum;
	struct ipsm_xfrm_sa *xs;
	size_t n;

	(void)state;
	memset(&nl, 0, sizeof(nl));
	assert_int_equal(xfrm_sas_read(&xs, &n), 0);
	assert_int_equal(nl.dumps, 2);
	assert_int_equal(n, 2);
	assert_int_equal(ntohl(xs[0].spi), 0x101);
	assert_int_equal(ntohl(xs[1].spi), 0x102);
	free(xs);

	memset(&nl, 0, sizeof(nl));
	assert_int_equal(xfrm_summary_read(&sum), 0);
	assert_int_equal(nl.dumps, 2);
	assert_int_equal(sum.policies[XFRM_POLICY_OUT], 2);
	assert_int_equal(sum.policies[XFRM_POLICY_IN], 0);
	assert_int_equal(sum.n_pairs, 2);
	assert_true(sum.pairs[0].tunnel && sum.pairs[1].tunnel);
	xfrm_summary_free(&sum);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_newsa),
		cmocka_unit_test(test_esn_and_aead),
		cmocka_unit_test(test_null_cipher_and_ah),
		cmocka_unit_test(test_delsa),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_acquire),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_ends),
		cmocka_unit_test(test_hard_expired),
		cmocka_unit_test(test_offload),
		cmocka_unit_test(test_truncated_and_unknown),
		cmocka_unit_test(test_dump_restarted),
	};

	return cmocka_run_group_tests_name("xfrm_nl", tests, NULL, NULL);
}
