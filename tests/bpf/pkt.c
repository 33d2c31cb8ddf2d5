// SPDX-License-Identifier: GPL-2.0
/* Packet builder for the datapath tests and the benchmark; see pkt.h. */
#include <errno.h>
#include <string.h>

#include "pkt.h"

static const __u8 def_dst_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const __u8 def_src_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const __u8 def_src6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
static const __u8 def_dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x02 };

void pkt_init(struct pkt_buf *b, void *buf, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->data = buf;
	b->cap = cap;
	b->type_off = -1;
	b->nh_off = -1;
	b->l3_off = -1;
	b->udp_off = -1;
}

void pkt_put16(struct pkt_buf *b, size_t off, __u16 v)
{
	b->data[off] = v >> 8;
	b->data[off + 1] = v & 0xff;
}

__u16 pkt_get16(const struct pkt_buf *b, size_t off)
{
	return (__u16)(b->data[off] << 8 | b->data[off + 1]);
}

static void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Reserve n zeroed bytes at the end; NULL (and b->err set) if they do not fit. */
static __u8 *push(struct pkt_buf *b, size_t n)
{
	__u8 *p;

	if (b->err)
		return NULL;
	if (b->len + n > b->cap) {
		b->err = -ENOSPC;
		return NULL;
	}
	p = b->data + b->len;
	memset(p, 0, n);
	b->len += n;
	return p;
}

/* A header that wants an EtherType in front of it. */
static void set_type(struct pkt_buf *b, __u16 type)
{
	if (b->type_off >= 0)
		pkt_put16(b, b->type_off, type);
	b->type_off = -1;
}

/* A header that wants its protocol number in the previous next-header byte. */
static void set_proto(struct pkt_buf *b, __u8 proto)
{
	if (b->nh_off >= 0)
		b->data[b->nh_off] = proto;
	b->nh_off = -1;
}

int pkt_eth(struct pkt_buf *b, const __u8 *dst, const __u8 *src)
{
	__u8 *p = push(b, PKT_ETH_HLEN);

	if (!p)
		return b->err;
	memcpy(p, dst ? dst : def_dst_mac, 6);
	memcpy(p + 6, src ? src : def_src_mac, 6);
	b->type_off = 12;
	b->l2_len = PKT_ETH_HLEN;
	return 0;
}

int pkt_vlan(struct pkt_buf *b, __u16 tpid, __u16 vid)
{
	size_t off = b->len;

	if (!push(b, 4))
		return b->err;
	set_type(b, tpid);
	pkt_put16(b, off, vid & 0x0fff);
	b->type_off = off + 2;
	b->l2_len += 4;
	return 0;
}

int pkt_ethertype(struct pkt_buf *b, __u16 type)
{
	if (b->err)
		return b->err;
	set_type(b, type);
	return 0;
}

int pkt_arp(struct pkt_buf *b)
{
	size_t off = b->len;
	__u8 *p = push(b, 28);

	if (!p)
		return b->err;
	set_type(b, PKT_ETH_P_ARP);
	pkt_put16(b, off, 1); /* Ethernet */
	pkt_put16(b, off + 2, PKT_ETH_P_IP);
	p[4] = 6;
	p[5] = 4;
	pkt_put16(b, off + 6, 1); /* request */
	memcpy(p + 8, def_src_mac, 6);
	put32(p + 14, 0xc0000201);
	put32(p + 24, 0xc0000202);
	return 0;
}

int pkt_ipv4(struct pkt_buf *b, const struct pkt_ipv4 *ip)
{
	size_t off = b->len, i;
	__u32 saddr = ip->saddr ? ip->saddr : 0xc0000201;
	__u32 daddr = ip->daddr ? ip->daddr : 0xc6336401;
	__u16 frag;
	__u8 *p;

	if (ip->opt_len % 4 || ip->opt_len > 40) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	p = push(b, 20 + ip->opt_len);
	if (!p)
		return b->err;
	set_type(b, PKT_ETH_P_IP);
	p[0] = 0x40 | (20 + ip->opt_len) / 4;
	pkt_put16(b, off + 4, ip->id);
	frag = (ip->frag_off & 0x1fff) | (ip->mf ? 0x2000 : 0) | (ip->df ? 0x4000 : 0);
	pkt_put16(b, off + 6, frag);
	p[8] = ip->ttl ? ip->ttl : 64;
	put32(p + 12, saddr);
	put32(p + 16, daddr);
	/* Options: NOPs, then End of Options List in the last byte. */
	for (i = 0; i < ip->opt_len; i++)
		p[20 + i] = i + 1 == ip->opt_len ? 0 : 1;

	memset(b->saddr, 0, 16);
	memset(b->daddr, 0, 16);
	memcpy(b->saddr, p + 12, 4);
	memcpy(b->daddr, p + 16, 4);
	b->l3_off = off;
	b->l3_ver = 4;
	b->nh_off = off + 9;
	return 0;
}

int pkt_ipv6(struct pkt_buf *b, const __u8 *saddr, const __u8 *daddr)
{
	size_t off = b->len;
	__u8 *p = push(b, 40);

	if (!p)
		return b->err;
	set_type(b, PKT_ETH_P_IPV6);
	p[0] = 0x60;
	p[7] = 64;
	memcpy(p + 8, saddr ? saddr : def_src6, 16);
	memcpy(p + 24, daddr ? daddr : def_dst6, 16);
	memcpy(b->saddr, p + 8, 16);
	memcpy(b->daddr, p + 24, 16);
	b->l3_off = off;
	b->l3_ver = 6;
	b->nh_off = off + 6;
	return 0;
}

int pkt_ipv6_ext(struct pkt_buf *b, __u8 type, unsigned int len)
{
	size_t off = b->len;
	__u8 *p;

	if (len < 8 || len % 8 || len > 2048) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	p = push(b, len);
	if (!p)
		return b->err;
	set_proto(b, type);
	p[1] = len / 8 - 1;
	if (type == PKT_IPPROTO_ROUTING) {
		/* Type 253 is for experiments (RFC 4727); segments left 0: nothing to do. */
		p[2] = 253;
	} else if (len - 2 == 1) {
		p[2] = 0; /* Pad1 */
	} else {
		p[2] = 1; /* PadN covering the rest */
		p[3] = len - 4;
	}
	b->nh_off = off;
	return 0;
}

int pkt_ipv6_frag(struct pkt_buf *b, __u16 offset, bool more, __u32 id)
{
	size_t off = b->len;
	__u8 *p = push(b, 8);

	if (!p)
		return b->err;
	set_proto(b, PKT_IPPROTO_FRAGMENT);
	pkt_put16(b, off + 2, (__u16)(offset << 3) | (more ? 1 : 0));
	put32(p + 4, id);
	b->nh_off = off;
	return 0;
}

int pkt_proto(struct pkt_buf *b, __u8 proto)
{
	if (b->err)
		return b->err;
	set_proto(b, proto);
	return 0;
}

int pkt_fill(struct pkt_buf *b, __u8 byte, unsigned int n)
{
	__u8 *p = push(b, n);

	if (!p)
		return b->err;
	memset(p, byte, n);
	return 0;
}

int pkt_esp(struct pkt_buf *b, __u32 spi, __u32 seq, unsigned int payload_len)
{
	unsigned int i;
	__u8 *p = push(b, 8 + payload_len);

	if (!p)
		return b->err;
	set_proto(b, PKT_IPPROTO_ESP);
	put32(p, spi);
	put32(p + 4, seq);
	/* Not zeros: a parser reading past the header must not find a marker. */
	for (i = 0; i < payload_len; i++)
		p[8 + i] = 0xa5 ^ i;
	return 0;
}

int pkt_ah(struct pkt_buf *b, __u32 spi, __u32 seq, unsigned int icv_len)
{
	size_t off = b->len;
	__u8 *p;

	if (icv_len % 4) {
		if (!b->err)
			b->err = -EINVAL;
		return b->err;
	}
	p = push(b, 12 + icv_len);
	if (!p)
		return b->err;
	set_proto(b, PKT_IPPROTO_AH);
	p[1] = (12 + icv_len) / 4 - 2; /* RFC 4302 §2.2: in 32-bit words, minus 2 */
	put32(p + 4, spi);
	put32(p + 8, seq);
	memset(p + 12, 0x5a, icv_len);
	b->nh_off = off;
	return 0;
}

int pkt_udp(struct pkt_buf *b, __u16 sport, __u16 dport)
{
	size_t off = b->len;

	if (!push(b, 8))
		return b->err;
	set_proto(b, PKT_IPPROTO_UDP);
	pkt_put16(b, off, sport);
	pkt_put16(b, off + 2, dport);
	b->udp_off = off;
	return 0;
}

int pkt_tcp(struct pkt_buf *b, __u16 sport, __u16 dport, __u8 flags)
{
	size_t off = b->len;
	__u8 *p = push(b, 20);

	if (!p)
		return b->err;
	set_proto(b, PKT_IPPROTO_TCP);
	pkt_put16(b, off, sport);
	pkt_put16(b, off + 2, dport);
	put32(p + 4, 1000);
	p[12] = 5 << 4;
	p[13] = flags;
	pkt_put16(b, off + 14, 65535);
	return 0;
}

int pkt_natt_marker(struct pkt_buf *b)
{
	return push(b, 4) ? 0 : b->err;
}

int pkt_keepalive(struct pkt_buf *b)
{
	return pkt_fill(b, 0xff, 1);
}

int pkt_ike(struct pkt_buf *b, int ver, __u8 exch, __u8 flags, unsigned int body_len)
{
	static const __u8 spi_i[8] = { 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88 };
	__u8 *p = push(b, PKT_IKE_HLEN + body_len);

	if (!p)
		return b->err;
	memcpy(p, spi_i, 8);
	if (!(ver == 2 && exch == 34 && !(flags & 0x20)))
		memset(p + 8, 0x99, 8); /* responder SPI, zero only in the first message */
	p[16] = ver == 1 ? 1 : 33; /* first payload: SA in both versions */
	p[17] = (__u8)(ver << 4);
	p[18] = exch;
	p[19] = flags;
	put32(p + 24, PKT_IKE_HLEN + body_len);
	memset(p + PKT_IKE_HLEN, 0x3c, body_len);
	return 0;
}

static __u32 csum_add(__u32 sum, const __u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (__u32)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (__u32)p[n - 1] << 8;
	return sum;
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

void pkt_ipv4_csum(struct pkt_buf *b)
{
	size_t off = b->l3_off;
	size_t ihl = (b->data[off] & 0x0f) * 4;

	pkt_put16(b, off + 10, 0);
	pkt_put16(b, off + 10, csum_fold(csum_add(0, b->data + off, ihl)));
}

static void udp_csum(struct pkt_buf *b)
{
	size_t off = b->udp_off, ulen = b->len - off;
	__u8 pseudo[8];
	__u32 sum = 0;
	__u16 c;

	if (b->l3_ver == 4) {
		sum = csum_add(sum, b->saddr, 4);
		sum = csum_add(sum, b->daddr, 4);
	} else {
		sum = csum_add(sum, b->saddr, 16);
		sum = csum_add(sum, b->daddr, 16);
	}
	put32(pseudo, ulen);
	put32(pseudo + 4, PKT_IPPROTO_UDP);
	sum = csum_add(sum, pseudo, 8);
	sum = csum_add(sum, b->data + off, ulen);
	c = csum_fold(sum);
	/* 0 means "no checksum" on the wire (RFC 768). */
	pkt_put16(b, off + 6, c ? c : 0xffff);
}

int pkt_finish(struct pkt_buf *b)
{
	size_t off = b->l3_off;

	if (b->err)
		return b->err;
	b->l3_end = b->len;
	if (b->l3_off < 0)
		return 0;
	if (b->len - off > 0xffff || (b->l3_ver == 6 && b->len - off - 40 > 0xffff))
		return b->err = -EINVAL;
	if (b->udp_off >= 0) {
		pkt_put16(b, b->udp_off + 4, b->len - b->udp_off);
		udp_csum(b);
	}
	if (b->l3_ver == 4) {
		pkt_put16(b, off + 2, b->len - off);
		pkt_ipv4_csum(b);
	} else {
		pkt_put16(b, off + 4, b->len - off - 40);
	}
	b->ip_len = b->len - off;
	return 0;
}

int pkt_pad(struct pkt_buf *b, size_t min_len)
{
	if (b->len >= min_len)
		return b->err;
	return push(b, min_len - b->len) ? 0 : b->err;
}

/* Extension header lengths picked to be different from each other. */
static unsigned int ext_len(__u8 type)
{
	switch (type) {
	case PKT_IPPROTO_ROUTING:
		return 24;
	case PKT_IPPROTO_DSTOPTS:
		return 16;
	default:
		return 8;
	}
}

static __u16 port_or(__u16 port, __u16 def)
{
	return port ? port : def;
}

static int build_l4(struct pkt_buf *b, const struct pkt_spec *s)
{
	switch (s->l4) {
	case PKT_L4_ESP:
		return pkt_esp(b, s->spi, s->seq, s->payload_len);
	case PKT_L4_AH:
		pkt_ah(b, s->spi, s->seq, 12);
		return pkt_tcp(b, 40000, 443, 0x18);
	case PKT_L4_UDP_ESP:
		pkt_udp(b, port_or(s->sport, 4500), port_or(s->dport, 4500));
		return pkt_esp(b, s->spi, s->seq, s->payload_len);
	case PKT_L4_UDP_MARKER_IKE:
		pkt_udp(b, port_or(s->sport, 4500), port_or(s->dport, 4500));
		pkt_natt_marker(b);
		return pkt_ike(b, s->ike_ver, s->ike_exch, s->ike_flags, s->payload_len);
	case PKT_L4_UDP_IKE:
		pkt_udp(b, port_or(s->sport, 500), port_or(s->dport, 500));
		return pkt_ike(b, s->ike_ver, s->ike_exch, s->ike_flags, s->payload_len);
	case PKT_L4_UDP_KEEPALIVE:
		pkt_udp(b, port_or(s->sport, 4500), port_or(s->dport, 4500));
		return pkt_keepalive(b);
	case PKT_L4_UDP:
		pkt_udp(b, port_or(s->sport, 40000), port_or(s->dport, 53));
		return pkt_fill(b, 0x42, s->payload_len);
	case PKT_L4_TCP:
		pkt_tcp(b, port_or(s->sport, 40000), port_or(s->dport, 443), 0x18);
		return pkt_fill(b, 0x42, s->payload_len);
	case PKT_L4_NONE:
		pkt_proto(b, PKT_IPPROTO_NONE);
		return pkt_fill(b, 0x42, s->payload_len);
	}
	if (!b->err)
		b->err = -EINVAL;
	return b->err;
}

int pkt_build(struct pkt_buf *b, const struct pkt_spec *s)
{
	int i;

	pkt_init(b, b->data, b->cap);
	if (s->vlans < 0 || s->vlans > PKT_SPEC_MAX_VLAN || s->n_ext < 0 ||
	    s->n_ext > PKT_SPEC_MAX_EXT)
		return b->err = -EINVAL;
	pkt_eth(b, NULL, NULL);
	for (i = 0; i < s->vlans; i++) {
		__u16 tpid = s->tpid[i];

		if (!tpid)
			tpid = s->vlans > 1 && i == 0 ? PKT_ETH_P_8021AD : PKT_ETH_P_8021Q;
		pkt_vlan(b, tpid, 100 + i);
	}

	if (s->l3 == 4) {
		struct pkt_ipv4 ip = {
			.id = 0x1234,
			.frag_off = s->frag_off,
			.mf = s->mf,
			.opt_len = s->ip_opt_len,
		};

		pkt_ipv4(b, &ip);
	} else if (s->l3 == 6) {
		pkt_ipv6(b, NULL, NULL);
		for (i = 0; i < s->n_ext; i++) {
			if (s->ext[i] == PKT_IPPROTO_FRAGMENT)
				pkt_ipv6_frag(b, s->frag_off, s->mf, 0x1234);
			else
				pkt_ipv6_ext(b, s->ext[i], ext_len(s->ext[i]));
		}
	} else {
		pkt_arp(b);
		pkt_finish(b);
		return pkt_pad(b, s->pad_to);
	}
	build_l4(b, s);
	pkt_finish(b);
	return pkt_pad(b, s->pad_to);
}
