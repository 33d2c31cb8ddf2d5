/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet classifier shared by the XDP and TC programs. BPF only.
 *
 * classify() reads headers between data and data_end and never writes to
 * the packet. Every bound is checked against data_end before a load; a
 * header that does not fit makes the packet IPSM_CLASS_MALFORMED. Behind
 * VLAN tags or IPv6 extension headers it stops at an ESP, AH or UDP
 * header, which parse_l4_deferred() reads (see defer_l4()).
 */
#ifndef IPSECMON_PARSE_H
#define IPSECMON_PARSE_H

#include "ipsecmon.h"

#define ETH_HLEN_ 14
#define ETH_P_IP_ 0x0800
#define ETH_P_IPV6_ 0x86DD
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8

#define IPPROTO_UDP_ 17
#define IPPROTO_ESP_ 50
#define IPPROTO_AH_ 51
#define NEXTHDR_HOP_ 0
#define NEXTHDR_ROUTING_ 43
#define NEXTHDR_FRAGMENT_ 44
#define NEXTHDR_DEST_ 60
#define NEXTHDR_MOBILITY_ 135
#define NEXTHDR_HIP_ 139
#define NEXTHDR_SHIM6_ 140

#define IKE_PORT 500
#define NATT_PORT 4500
#define IKE_HDR_LEN 28

#define VLAN_MAX_DEPTH 2
/* Extension headers walked before giving up and calling the packet "other". */
#define IPV6_EXT_MAX 8

struct pkt {
	__u32 cls; /* enum ipsm_class */
	__u32 af; /* enum ipsm_family */
	__u32 ip_len; /* bytes counted: IP total length */
	/* IPsec (cls ESP, AH, ESP_IN_UDP) */
	__u32 spi; /* network order */
	__u32 seq; /* host order */
	__u8 proto;
	/* IKE (cls IKE) */
	__u8 ike_ver;
	__u8 ike_exch;
	__u8 ike_resp;
	/* Addresses, copied for IPsec and IKE packets only: IPv4 in the first 4 bytes. */
	__u8 src[16];
	__u8 dst[16];
	__u32 ifindex; /* the hook's, set on the slow path only */
	__u16 ike_off; /* IKEv2 header from the IP header (cls IKE, ike_ver V2) */
	__u8 l3_off; /* IP header from the frame's start */
	__u8 pad;
	/* ESP, AH or UDP still to parse (parse_l4_deferred): l4_proto not 0 */
	__u32 l4_len; /* IP packet bytes from the L4 header on */
	__u16 l4_off; /* L4 header from the frame's start */
	__u8 l4_proto;
	__u8 first_frag; /* the first of several fragments: UDP's length is not all there */
} __attribute__((aligned(8))); /* the addresses are read and written as words */

_Static_assert(__builtin_offsetof(struct pkt, src) % 8 == 0 &&
		       __builtin_offsetof(struct pkt, dst) % 8 == 0,
	       "struct pkt: addresses at word offsets");

/* Past any L4 header classify() can find (8 IPv6 extension headers of 2 KiB). */
#define L4_OFF_MAX 0x7fff

/* One (unaligned) load and a byte swap, not four byte loads. */
static __always_inline __u16 load_be16(const __u8 *p)
{
	return __builtin_bswap16(*(const __u16 *)p);
}

static __always_inline __u32 load_be32(const __u8 *p)
{
	return __builtin_bswap32(*(const __u32 *)p);
}

/*
 * The IKE header is cleartext in both versions: version at 17, exchange at
 * 18. len is what the IP packet holds from ike on; data_end bounds the frame.
 * For IKEv2 the header's offset is kept: the health checks read it again.
 */
static __always_inline void parse_ike(struct pkt *p, __u8 *ike, __u32 len, void *data_end, __u8 *ip)
{
	__u8 ver, exch, flags;

	p->cls = IPSM_CLASS_IKE;
	p->ike_ver = IPSM_IKE_UNKNOWN;
	p->ike_exch = IPSM_IKE_XOTHER;
	p->ike_resp = 0;
	if (len < IKE_HDR_LEN || (void *)(ike + IKE_HDR_LEN) > data_end)
		return;
	ver = ike[17] >> 4;
	exch = ike[18];
	flags = ike[19];
	if (ver == 2) {
		p->ike_ver = IPSM_IKE_V2;
		p->ike_resp = !!(flags & 0x20);
		p->ike_off = ike - ip;
		switch (exch) {
		case 34:
			p->ike_exch = IPSM_IKE_X0;
			break;
		case 35:
			p->ike_exch = IPSM_IKE_X1;
			break;
		case 36:
			p->ike_exch = IPSM_IKE_X2;
			break;
		case 37:
			p->ike_exch = IPSM_IKE_X3;
			break;
		}
	} else if (ver == 1) {
		p->ike_ver = IPSM_IKE_V1;
		switch (exch) {
		case 2:
			p->ike_exch = IPSM_IKE_X0;
			break;
		case 4:
			p->ike_exch = IPSM_IKE_X1;
			break;
		case 32:
			p->ike_exch = IPSM_IKE_X2;
			break;
		case 5:
			p->ike_exch = IPSM_IKE_X3;
			break;
		}
	}
}

/*
 * Copy the SA's addresses from the IP header. af is a constant at every call
 * site, so each inlined copy keeps only its family's branch: the verifier
 * then never sees a 16-byte read of a header checked for 20 bytes. Word
 * loads (the packet may be unaligned, which XDP and TC allow where the CPU
 * does): a memcpy from it is a byte loop. An IPv4 address is stored as a
 * whole word, so that the word reads of the SA key that follow are
 * forwarded from one store (bytes 8-15 are the initial zeros).
 */
static __always_inline void copy_ip_addrs(struct pkt *p, __u8 *ip, const __u32 af)
{
	__u64 *s = (__u64 *)p->src, *d = (__u64 *)p->dst;

	if (af == IPSM_AF_IPV4) {
		/* The address in the word's first 4 bytes, whatever the byte order. */
		const int first = __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 0 : 32;

		s[0] = (__u64)(*(const __u32 *)(ip + 12)) << first;
		d[0] = (__u64)(*(const __u32 *)(ip + 16)) << first;
	} else {
		s[0] = *(const __u64 *)(ip + 8);
		s[1] = *(const __u64 *)(ip + 16);
		d[0] = *(const __u64 *)(ip + 24);
		d[1] = *(const __u64 *)(ip + 32);
	}
}

/*
 * ESP or AH header at h, len bytes of IP packet from there; spi_off differs.
 * ip/af: the outer IP header, for the addresses.
 */
static __always_inline void parse_ipsec(struct pkt *p, __u8 *h, __u32 len, void *data_end,
					__u32 cls, __u8 proto, __u32 hlen, __u32 spi_off, __u8 *ip,
					const __u32 af)
{
	if (len < hlen || (void *)(h + hlen) > data_end) {
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	p->spi = *(__u32 *)(h + spi_off);
	if (!p->spi) {
		/* SPI 0 is reserved (RFC 4303 §2.1): not an SA's packet. */
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	p->seq = load_be32(h + spi_off + 4);
	p->proto = proto;
	p->cls = cls;
	copy_ip_addrs(p, ip, af);
}

/*
 * UDP at l4, l4_len bytes of it inside the IP packet. RFC 3948 §2.2-2.3.
 * A first fragment (more follow) carries the whole datagram's UDP length,
 * so there only what is present is read.
 *
 * Our port is the destination of what we receive and the source of what we
 * send; the other end's may be anything (a NAT's), so only ours decides.
 * Payloads on 4500 are told apart as the kernel's UDP encapsulation does
 * (xfrm4_udp_encap_rcv): one 0xff byte is a keepalive, more than 8 bytes
 * that do not start with four zeros are ESP, anything else goes to the IKE
 * daemon's socket.
 */
static __always_inline void parse_udp(struct pkt *p, __u8 *l4, __u32 l4_len, bool first_frag,
				      void *data_end, __u8 *ip, const __u32 af, const __u32 dir)
{
	__u16 port, ulen;
	__u32 avail;
	__u8 *pl;

	if (l4_len < 8 || (void *)(l4 + 8) > data_end) {
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	port = load_be16(dir == IPSM_DIR_RX ? l4 + 2 : l4);
	ulen = load_be16(l4 + 4);
	pl = l4 + 8;
	avail = l4_len - 8;

	if (port == NATT_PORT || port == IKE_PORT)
		/* IKE is counted per peer: the addresses, once for both ports. */
		copy_ip_addrs(p, ip, af);
	if (port == NATT_PORT) {
		if (ulen < 8 || (!first_frag && ulen > l4_len)) {
			p->cls = IPSM_CLASS_MALFORMED;
			return;
		}
		ulen -= 8;
		if (!first_frag)
			avail = ulen;
		if (ulen == 1 && avail >= 1 && (void *)(pl + 1) <= data_end && pl[0] == 0xff) {
			p->cls = IPSM_CLASS_NAT_KEEPALIVE;
			return;
		}
		if (ulen > 8 && avail >= 4 && (void *)(pl + 4) <= data_end && *(__u32 *)pl) {
			parse_ipsec(p, pl, avail, data_end, IPSM_CLASS_ESP_IN_UDP, IPPROTO_ESP_, 8,
				    0, ip, af);
			return;
		}
		/* For the daemon: IKE behind the non-ESP marker, or too short to say. */
		if (ulen >= 4 && avail >= 4 && (void *)(pl + 4) <= data_end && !*(__u32 *)pl)
			parse_ike(p, pl + 4, avail - 4, data_end, ip);
		else
			parse_ike(p, pl, 0, data_end, ip);
		return;
	}
	if (port == IKE_PORT) {
		parse_ike(p, pl, avail, data_end, ip);
		return;
	}
	p->cls = IPSM_CLASS_OTHER;
}

static __always_inline void parse_l4(struct pkt *p, __u8 proto, __u8 *l4, __u32 l4_len,
				     bool first_frag, void *data_end, __u8 *ip, const __u32 af,
				     const __u32 dir)
{
	switch (proto) {
	case IPPROTO_ESP_:
		parse_ipsec(p, l4, l4_len, data_end, IPSM_CLASS_ESP, IPPROTO_ESP_, 8, 0, ip, af);
		break;
	case IPPROTO_AH_:
		parse_ipsec(p, l4, l4_len, data_end, IPSM_CLASS_AH, IPPROTO_AH_, 12, 4, ip, af);
		break;
	case IPPROTO_UDP_:
		parse_udp(p, l4, l4_len, first_frag, data_end, ip, af, dir);
		break;
	default:
		p->cls = IPSM_CLASS_OTHER;
	}
}

/*
 * ESP, AH and UDP behind VLAN tags or IPv6 extension headers are parsed by
 * parse_l4_deferred(), called by the program once classify() is done (a
 * global function: the verifier checks it once, not again on every path of
 * tags and extension headers that leads to an L4 header). Untagged IPv4,
 * and IPv6 without extension headers, parse it inline: the common frames
 * pay no call. off: of the L4 header from the IP header.
 */
static __always_inline void defer_l4(struct pkt *p, __u8 proto, __u32 off, __u32 len,
				     bool first_frag)
{
	if (proto != IPPROTO_ESP_ && proto != IPPROTO_AH_ && proto != IPPROTO_UDP_)
		return; /* IPSM_CLASS_OTHER */
	p->l4_proto = proto;
	p->l4_off = p->l3_off + off;
	p->l4_len = len;
	p->first_frag = first_frag;
}

/*
 * The L4 part of classify(), from what defer_l4() kept. The offsets are
 * checked again for the verifier, which sees them here as any value.
 */
static __always_inline void parse_l4_deferred(struct pkt *p, void *data, void *data_end,
					      const __u32 dir)
{
	__u32 l3 = p->l3_off, l4 = p->l4_off;
	__u8 *ip = data, *h = data;

	if (l3 > ETH_HLEN_ + 4 * VLAN_MAX_DEPTH || l4 > L4_OFF_MAX) {
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	ip += l3;
	h += l4;
	if (p->af == IPSM_AF_IPV4) {
		if ((void *)(ip + 20) > data_end) {
			p->cls = IPSM_CLASS_MALFORMED;
			return;
		}
		parse_l4(p, p->l4_proto, h, p->l4_len, p->first_frag, data_end, ip, IPSM_AF_IPV4,
			 dir);
	} else {
		if ((void *)(ip + 40) > data_end) {
			p->cls = IPSM_CLASS_MALFORMED;
			return;
		}
		parse_l4(p, p->l4_proto, h, p->l4_len, p->first_frag, data_end, ip, IPSM_AF_IPV6,
			 dir);
	}
}

static __always_inline void parse_ipv4(struct pkt *p, __u8 *ip, __u32 avail, void *data_end,
				       const __u32 l2, const __u32 dir)
{
	__u32 ihl, tot;
	__u16 frag;

	p->af = IPSM_AF_IPV4;
	if ((void *)(ip + 20) > data_end) {
		p->ip_len = avail;
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	ihl = (ip[0] & 0x0f) * 4;
	tot = load_be16(ip + 2);
	/* Total length 0 is an IPv4 BIG TCP packet (over 64 KiB): trust the frame. */
	if (!tot)
		tot = avail;
	p->ip_len = tot;
	if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || tot > avail) {
		p->ip_len = avail;
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	frag = load_be16(ip + 6);
	if (frag & 0x1fff) {
		p->cls = IPSM_CLASS_FRAGMENT;
		return;
	}
	if ((void *)(ip + ihl) > data_end) {
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	/* MF with offset 0: the first of several fragments. */
	if (l2 == ETH_HLEN_)
		parse_l4(p, ip[9], ip + ihl, tot - ihl, frag & 0x2000, data_end, ip, IPSM_AF_IPV4,
			 dir);
	else
		defer_l4(p, ip[9], ihl, tot - ihl, frag & 0x2000);
}

static __always_inline void parse_ipv6(struct pkt *p, __u8 *ip, __u32 avail, void *data_end,
				       const __u32 l2, const __u32 dir)
{
	__u32 plen, off = 40, i;
	bool first_frag = false;
	__u8 nh;
	__u8 *h;

	p->af = IPSM_AF_IPV6;
	if ((void *)(ip + 40) > data_end) {
		p->ip_len = avail;
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	plen = load_be16(ip + 4);
	/* Payload length 0 is a jumbogram or a BIG TCP packet: trust the frame. */
	p->ip_len = plen ? plen + 40 : avail;
	if ((ip[0] >> 4) != 6 || p->ip_len > avail) {
		p->ip_len = avail;
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	nh = ip[6];

#pragma unroll
	for (i = 0; i < IPV6_EXT_MAX; i++) {
		h = ip + off;
		switch (nh) {
		case NEXTHDR_HOP_:
		case NEXTHDR_ROUTING_:
		case NEXTHDR_DEST_:
		case NEXTHDR_MOBILITY_:
		case NEXTHDR_HIP_:
		case NEXTHDR_SHIM6_:
			if ((void *)(h + 2) > data_end) {
				p->cls = IPSM_CLASS_MALFORMED;
				return;
			}
			nh = h[0];
			off += ((__u32)h[1] + 1) * 8;
			break;
		case NEXTHDR_FRAGMENT_:
			if ((void *)(h + 8) > data_end) {
				p->cls = IPSM_CLASS_MALFORMED;
				return;
			}
			if (load_be16(h + 2) & 0xfff8) {
				p->cls = IPSM_CLASS_FRAGMENT;
				return;
			}
			first_frag = h[3] & 1; /* M: more fragments follow */
			nh = h[0];
			off += 8;
			break;
		default:
			/* ESP, AH (an extension header we stop at), UDP or other. */
			if (off > p->ip_len) {
				p->cls = IPSM_CLASS_MALFORMED;
				return;
			}
			if (!i && l2 == ETH_HLEN_)
				parse_l4(p, nh, h, p->ip_len - off, first_frag, data_end, ip,
					 IPSM_AF_IPV6, dir);
			else
				defer_l4(p, nh, off, p->ip_len - off, first_frag);
			return;
		}
		if (off > p->ip_len) {
			p->cls = IPSM_CLASS_MALFORMED;
			return;
		}
	}
	/* Longer chains than we walk: not classified as IPsec. */
	p->cls = IPSM_CLASS_OTHER;
}

/*
 * Classify one frame. frame_len is the whole frame's length (it exceeds
 * data_end - data for a non-linear skb at TC); dir is the hook's. With
 * p->l4_proto set on return the L4 header is still to parse: the caller
 * runs the global function that calls parse_l4_deferred() before counting.
 */
static __always_inline void classify(struct pkt *p, void *data, void *data_end, __u32 frame_len,
				     const __u32 dir)
{
	__u8 *pos = data;
	__u16 proto;
	__u32 l2 = ETH_HLEN_, i;

	p->cls = IPSM_CLASS_OTHER;
	p->af = IPSM_AF_OTHER;
	p->ip_len = 0;
	p->l4_proto = 0;
	if ((void *)(pos + ETH_HLEN_) > data_end) {
		p->cls = IPSM_CLASS_MALFORMED;
		p->ip_len = frame_len;
		return;
	}
	proto = load_be16(pos + 12);
	pos += ETH_HLEN_;

#pragma unroll
	for (i = 0; i < VLAN_MAX_DEPTH; i++) {
		if (proto != ETH_P_8021Q_ && proto != ETH_P_8021AD_)
			break;
		if ((void *)(pos + 4) > data_end) {
			p->cls = IPSM_CLASS_MALFORMED;
			p->ip_len = frame_len > l2 ? frame_len - l2 : 0;
			return;
		}
		proto = load_be16(pos + 2);
		pos += 4;
		l2 += 4;
	}

	if (frame_len < l2) {
		p->cls = IPSM_CLASS_MALFORMED;
		return;
	}
	p->l3_off = l2;
	if (proto == ETH_P_IP_)
		parse_ipv4(p, pos, frame_len - l2, data_end, l2, dir);
	else if (proto == ETH_P_IPV6_)
		parse_ipv6(p, pos, frame_len - l2, data_end, l2, dir);
	else
		p->ip_len = frame_len - l2; /* not IP (or a third tag): L3 bytes */
}

#endif /* IPSECMON_PARSE_H */
