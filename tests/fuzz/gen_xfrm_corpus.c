// SPDX-License-Identifier: GPL-2.0
/*
 * Writes the seed corpus of fuzz_xfrm_nl: XFRM messages in the layout the
 * kernel sends them (struct first, then attributes in the order
 * net/xfrm/xfrm_user.c emits them), one file per message, plus one file
 * holding a whole dump. Keys are fake: the bytes of "FAKEKEY-" repeated.
 *
 *   gen_xfrm_corpus DIR
 *
 * Run by "make fuzz-corpus"; its output is checked in.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/ipsec.h>
#include <linux/udp.h>
#include <linux/xfrm.h>

#define BUF_SIZE 8192
/* An attribute type above this header's XFRMA_MAX, as newer kernels send (e.g. XFRMA_SA_DIR). */
#define XFRMA_NEWER 40

static char buf[BUF_SIZE];

static void fake_key(char *k, size_t n)
{
	static const char pat[] = "FAKEKEY-";
	size_t i;

	for (i = 0; i < n; i++)
		k[i] = pat[i % 8];
}

static struct nlmsghdr *msg(void *b, __u16 type, size_t fixed)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);

	nlh->nlmsg_type = type;
	mnl_nlmsg_put_extra_header(nlh, fixed);
	return nlh;
}

static void addr(int af, const char *s, xfrm_address_t *a)
{
	memset(a, 0, sizeof(*a));
	inet_pton(af, s, a);
}

static void sa_info(struct xfrm_usersa_info *p, int af, __u8 proto, __u32 spi, __u8 mode)
{
	memset(p, 0, sizeof(*p));
	p->family = af;
	p->id.proto = proto;
	p->id.spi = htonl(spi);
	addr(af, af == AF_INET ? "198.51.100.2" : "2001:db8::2", &p->id.daddr);
	addr(af, af == AF_INET ? "198.51.100.1" : "2001:db8::1", &p->saddr);
	p->sel.family = af;
	p->sel.prefixlen_d = af == AF_INET ? 32 : 128;
	p->sel.prefixlen_s = p->sel.prefixlen_d;
	p->mode = mode;
	p->reqid = 1;
	p->replay_window = 32;
	p->flags = XFRM_STATE_AF_UNSPEC;
	p->lft.soft_byte_limit = XFRM_INF;
	p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = XFRM_INF;
	p->lft.hard_packet_limit = XFRM_INF;
	p->lft.soft_add_expires_seconds = 3300;
	p->lft.hard_add_expires_seconds = 3600;
	p->curlft.bytes = 123456;
	p->curlft.packets = 789;
	p->curlft.add_time = 1700000000;
	p->curlft.use_time = 1700000042;
	p->stats.replay_window = 3;
	p->stats.replay = 2;
	p->stats.integrity_failed = 1;
}

static void put_alg(struct nlmsghdr *nlh, __u16 type, const char *name, unsigned int key_bits)
{
	char a[sizeof(struct xfrm_algo) + 64];
	struct xfrm_algo *x = (struct xfrm_algo *)a;

	memset(a, 0, sizeof(a));
	snprintf(x->alg_name, sizeof(x->alg_name), "%s", name);
	x->alg_key_len = key_bits;
	fake_key(x->alg_key, key_bits / 8);
	mnl_attr_put(nlh, type, sizeof(*x) + key_bits / 8, x);
}

static void put_auth_trunc(struct nlmsghdr *nlh, const char *name, unsigned int key_bits,
			   unsigned int trunc)
{
	char a[sizeof(struct xfrm_algo_auth) + 64];
	struct xfrm_algo_auth *x = (struct xfrm_algo_auth *)a;

	memset(a, 0, sizeof(a));
	snprintf(x->alg_name, sizeof(x->alg_name), "%s", name);
	x->alg_key_len = key_bits;
	x->alg_trunc_len = trunc;
	fake_key(x->alg_key, key_bits / 8);
	mnl_attr_put(nlh, XFRMA_ALG_AUTH_TRUNC, sizeof(*x) + key_bits / 8, x);
}

static void put_aead(struct nlmsghdr *nlh, const char *name, unsigned int key_bits,
		     unsigned int icv)
{
	char a[sizeof(struct xfrm_algo_aead) + 64];
	struct xfrm_algo_aead *x = (struct xfrm_algo_aead *)a;

	memset(a, 0, sizeof(a));
	snprintf(x->alg_name, sizeof(x->alg_name), "%s", name);
	x->alg_key_len = key_bits;
	x->alg_icv_len = icv;
	fake_key(x->alg_key, key_bits / 8);
	mnl_attr_put(nlh, XFRMA_ALG_AEAD, sizeof(*x) + key_bits / 8, x);
}

static void put_encap(struct nlmsghdr *nlh)
{
	struct xfrm_encap_tmpl e = { .encap_type = UDP_ENCAP_ESPINUDP,
				     .encap_sport = htons(4500),
				     .encap_dport = htons(4500) };

	mnl_attr_put(nlh, XFRMA_ENCAP, sizeof(e), &e);
}

static void put_replay(struct nlmsghdr *nlh)
{
	struct xfrm_replay_state r = { .oseq = 0, .seq = 789, .bitmap = 0xffffffff };

	mnl_attr_put(nlh, XFRMA_REPLAY_VAL, sizeof(r), &r);
}

static void put_replay_esn(struct nlmsghdr *nlh)
{
	char a[sizeof(struct xfrm_replay_state_esn) + 4 * sizeof(__u32)];
	struct xfrm_replay_state_esn *r = (struct xfrm_replay_state_esn *)a;

	memset(a, 0, sizeof(a));
	r->bmp_len = 4;
	r->seq = 5;
	r->seq_hi = 1;
	r->oseq = 0;
	r->replay_window = 128;
	r->bmp[0] = 0x1f;
	mnl_attr_put(nlh, XFRMA_REPLAY_ESN_VAL, sizeof(a), a);
}

/* The attributes after the SA, as copy_to_user_state_extra() orders them. */
static void sa_extra(struct nlmsghdr *nlh, int kind)
{
	struct xfrm_mark mark = { .v = 0x2a, .m = 0xffffffff };

	mnl_attr_put_u32(nlh, XFRMA_SA_EXTRA_FLAGS, XFRM_SA_XFLAG_DONT_ENCAP_DSCP);
	mnl_attr_put_u64(nlh, XFRMA_LASTUSED, 1700000042);
	switch (kind) {
	case 0: /* AES-CBC + HMAC-SHA256, the auth key also as plain XFRMA_ALG_AUTH */
		put_alg(nlh, XFRMA_ALG_AUTH, "hmac(sha256)", 256);
		put_auth_trunc(nlh, "hmac(sha256)", 256, 128);
		put_alg(nlh, XFRMA_ALG_CRYPT, "cbc(aes)", 128);
		put_replay(nlh);
		break;
	case 1: /* AES-GCM over UDP with ESN */
		put_aead(nlh, "rfc4106(gcm(aes))", 160, 128);
		put_encap(nlh);
		mnl_attr_put(nlh, XFRMA_MARK, sizeof(mark), &mark);
		put_replay_esn(nlh);
		mnl_attr_put_u32(nlh, XFRMA_IF_ID, 7);
		break;
	case 2: /* AH, HMAC-SHA1 */
		put_alg(nlh, XFRMA_ALG_AUTH, "hmac(sha1)", 160);
		put_auth_trunc(nlh, "hmac(sha1)", 160, 96);
		put_replay(nlh);
		mnl_attr_put_u8(nlh, XFRMA_NEWER, 1);
		break;
	case 3: /* ESP null encryption */
		put_alg(nlh, XFRMA_ALG_CRYPT, "ecb(cipher_null)", 0);
		put_auth_trunc(nlh, "digest_null", 0, 0);
		mnl_attr_put_u32(nlh, XFRMA_SET_MARK, 1);
		mnl_attr_put_u32(nlh, XFRMA_SET_MARK_MASK, 0xff);
		put_replay(nlh);
		break;
	}
}

static struct nlmsghdr *newsa(void *b, __u16 type, int af, __u8 proto, __u32 spi, int kind)
{
	struct nlmsghdr *nlh = msg(b, type, sizeof(struct xfrm_usersa_info));

	sa_info(mnl_nlmsg_get_payload(nlh), af, proto, spi,
		kind == 1 ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT);
	sa_extra(nlh, kind);
	return nlh;
}

static void tmpl(struct xfrm_user_tmpl *t, int af, __u8 mode)
{
	memset(t, 0, sizeof(*t));
	t->family = af;
	t->id.proto = IPPROTO_ESP;
	addr(af, af == AF_INET ? "198.51.100.2" : "2001:db8::2", &t->id.daddr);
	addr(af, af == AF_INET ? "198.51.100.1" : "2001:db8::1", &t->saddr);
	t->mode = mode;
	t->reqid = 1;
	t->aalgos = t->ealgos = t->calgos = ~0U;
}

static void pol_info(struct xfrm_userpolicy_info *p, int af, __u8 dir)
{
	memset(p, 0, sizeof(*p));
	p->sel.family = af;
	p->lft.soft_byte_limit = p->lft.hard_byte_limit = XFRM_INF;
	p->lft.soft_packet_limit = p->lft.hard_packet_limit = XFRM_INF;
	p->priority = 375423;
	p->index = 0x100 + dir;
	p->dir = dir;
	p->action = XFRM_POLICY_ALLOW;
	p->share = XFRM_SHARE_ANY;
}

static struct nlmsghdr *newpolicy(void *b, __u16 type, int af, __u8 dir)
{
	struct nlmsghdr *nlh = msg(b, type, sizeof(struct xfrm_userpolicy_info));
	struct xfrm_user_tmpl t[2];

	pol_info(mnl_nlmsg_get_payload(nlh), af, dir);
	tmpl(&t[0], af, XFRM_MODE_TUNNEL);
	tmpl(&t[1], af, XFRM_MODE_TRANSPORT);
	mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), t);
	return nlh;
}

static int write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	if (fwrite(p, 1, n, f) != n) {
		fclose(f);
		return -EIO;
	}
	return fclose(f) ? -errno : 0;
}

static int one(const char *dir, const char *name, const struct nlmsghdr *nlh)
{
	return write_file(dir, name, nlh, nlh->nlmsg_len);
}

int main(int argc, char **argv)
{
	struct nlmsghdr *nlh;
	const char *d;
	size_t off;
	int err = 0, i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	d = argv[1];

	err |= one(d, "newsa-v4-cbc-sha256",
		   newsa(buf, XFRM_MSG_NEWSA, AF_INET, IPPROTO_ESP, 0xc0010001, 0));
	err |= one(d, "newsa-v4-gcm-udp-esn",
		   newsa(buf, XFRM_MSG_NEWSA, AF_INET, IPPROTO_ESP, 0xc0010002, 1));
	err |= one(d, "newsa-v6-ah-sha1",
		   newsa(buf, XFRM_MSG_NEWSA, AF_INET6, IPPROTO_AH, 0xc0010003, 2));
	err |= one(d, "updsa-v6-null",
		   newsa(buf, XFRM_MSG_UPDSA, AF_INET6, IPPROTO_ESP, 0xc0010004, 3));

	/* DELSA: the id, then the whole SA in XFRMA_SA (xfrm_notify_sa()). */
	{
		struct xfrm_usersa_id *id;
		struct xfrm_usersa_info sa;

		nlh = msg(buf, XFRM_MSG_DELSA, sizeof(*id));
		id = mnl_nlmsg_get_payload(nlh);
		sa_info(&sa, AF_INET, IPPROTO_ESP, 0xc0010001, XFRM_MODE_TRANSPORT);
		id->daddr = sa.id.daddr;
		id->spi = sa.id.spi;
		id->family = AF_INET;
		id->proto = IPPROTO_ESP;
		mnl_attr_put(nlh, XFRMA_SA, sizeof(sa), &sa);
		sa_extra(nlh, 0);
		err |= one(d, "delsa-v4", nlh);
		/* Without XFRMA_SA: only the id. */
		nlh = msg(buf, XFRM_MSG_DELSA, sizeof(*id));
		id = mnl_nlmsg_get_payload(nlh);
		id->daddr = sa.id.daddr;
		id->spi = sa.id.spi;
		id->family = AF_INET;
		id->proto = IPPROTO_ESP;
		err |= one(d, "delsa-v4-id-only", nlh);
	}

	for (i = 0; i < 2; i++) {
		struct xfrm_user_expire *x;

		nlh = msg(buf, XFRM_MSG_EXPIRE, sizeof(*x));
		x = mnl_nlmsg_get_payload(nlh);
		sa_info(&x->state, AF_INET, IPPROTO_ESP, 0xc0010005, XFRM_MODE_TUNNEL);
		x->hard = i;
		sa_extra(nlh, 1);
		err |= one(d, i ? "expire-hard" : "expire-soft", nlh);
	}

	{
		struct xfrm_user_acquire *a;
		struct xfrm_user_tmpl t;

		nlh = msg(buf, XFRM_MSG_ACQUIRE, sizeof(*a));
		a = mnl_nlmsg_get_payload(nlh);
		a->id.proto = IPPROTO_ESP;
		addr(AF_INET, "198.51.100.2", &a->id.daddr);
		addr(AF_INET, "198.51.100.1", &a->saddr);
		a->sel.family = AF_INET;
		pol_info(&a->policy, AF_INET, XFRM_POLICY_OUT);
		a->aalgos = a->ealgos = a->calgos = ~0U;
		a->seq = 1;
		tmpl(&t, AF_INET, XFRM_MODE_TUNNEL);
		mnl_attr_put(nlh, XFRMA_TMPL, sizeof(t), &t);
		err |= one(d, "acquire-v4", nlh);
	}

	err |= one(d, "newpolicy-v4-out",
		   newpolicy(buf, XFRM_MSG_NEWPOLICY, AF_INET, XFRM_POLICY_OUT));
	err |= one(d, "updpolicy-v6-fwd",
		   newpolicy(buf, XFRM_MSG_UPDPOLICY, AF_INET6, XFRM_POLICY_FWD));
	{
		struct xfrm_userpolicy_id *id;
		struct xfrm_userpolicy_info p;

		nlh = msg(buf, XFRM_MSG_DELPOLICY, sizeof(*id));
		id = mnl_nlmsg_get_payload(nlh);
		pol_info(&p, AF_INET, XFRM_POLICY_IN);
		id->sel = p.sel;
		id->index = p.index;
		id->dir = p.dir;
		mnl_attr_put(nlh, XFRMA_POLICY, sizeof(p), &p);
		err |= one(d, "delpolicy-v4-in", nlh);
	}
	{
		struct xfrm_user_polexpire *x;

		nlh = msg(buf, XFRM_MSG_POLEXPIRE, sizeof(*x));
		x = mnl_nlmsg_get_payload(nlh);
		pol_info(&x->pol, AF_INET6, XFRM_POLICY_OUT);
		x->hard = 1;
		err |= one(d, "polexpire-v6", nlh);
	}
	{
		struct xfrm_usersa_flush *f;

		nlh = msg(buf, XFRM_MSG_FLUSHSA, sizeof(*f));
		f = mnl_nlmsg_get_payload(nlh);
		f->proto = IPSEC_PROTO_ANY;
		err |= one(d, "flushsa-any", nlh);
		/* FLUSHPOLICY carries no struct, only an optional XFRMA_POLICY_TYPE. */
		nlh = msg(buf, XFRM_MSG_FLUSHPOLICY, 0);
		err |= one(d, "flushpolicy", nlh);
	}

	/* A dump as one recv() returns it: several SAs then NLMSG_DONE. */
	off = 0;
	for (i = 0; i < 3; i++) {
		nlh = newsa(buf + off, XFRM_MSG_NEWSA, i == 1 ? AF_INET6 : AF_INET, IPPROTO_ESP,
			    0xd0000000 + i, i);
		nlh->nlmsg_flags = NLM_F_MULTI;
		nlh->nlmsg_seq = 42;
		off += MNL_ALIGN(nlh->nlmsg_len);
	}
	nlh = mnl_nlmsg_put_header(buf + off);
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	mnl_nlmsg_put_extra_header(nlh, sizeof(int));
	off += nlh->nlmsg_len;
	err |= write_file(d, "dump-3-sas-done", buf, off);

	if (err) {
		fprintf(stderr, "writing the corpus to %s failed\n", d);
		return 1;
	}
	return 0;
}
