/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet builder for the datapath tests and the benchmark: writes one
 * Ethernet frame into a caller-owned buffer, header by header.
 *
 * Each pkt_*() appends one header. The "type" fields that name the next
 * header (EtherType, IPv4 protocol, IPv6 next header) are filled in by the
 * header appended after them, so a chain is built in wire order without
 * look-ahead. pkt_finish() then fixes the lengths and checksums that depend
 * on what follows (IPv4 total length and checksum, IPv6 payload length, UDP
 * length and checksum). Errors are sticky: once the buffer is too small
 * every later call fails with the same error, so a builder may check only
 * the return of pkt_finish().
 *
 * Only the first IP header of a frame is tracked (no tunnels in tunnels).
 */
#ifndef IPSM_TEST_PKT_H
#define IPSM_TEST_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PKT_ETH_HLEN 14
#define PKT_ETH_MIN 60 /* minimum frame without FCS: shorter ones are padded */
#define PKT_IKE_HLEN 28

#define PKT_ETH_P_IP 0x0800
#define PKT_ETH_P_ARP 0x0806
#define PKT_ETH_P_8021Q 0x8100
#define PKT_ETH_P_8021AD 0x88a8
#define PKT_ETH_P_IPV6 0x86dd

#define PKT_IPPROTO_HOPOPTS 0
#define PKT_IPPROTO_TCP 6
#define PKT_IPPROTO_UDP 17
#define PKT_IPPROTO_ROUTING 43
#define PKT_IPPROTO_FRAGMENT 44
#define PKT_IPPROTO_ESP 50
#define PKT_IPPROTO_AH 51
#define PKT_IPPROTO_NONE 59
#define PKT_IPPROTO_DSTOPTS 60

struct pkt_buf {
	__u8 *data;
	size_t cap;
	size_t len;
	int err; /* 0 or the first negative errno */
	int type_off; /* EtherType the next L2/L3 header fills in, -1: none */
	int nh_off; /* protocol byte the next L4/extension header fills in, -1: none */
	int l2_len; /* bytes before the IP header (Ethernet + tags) */
	int l3_off; /* -1 until an IP header is added */
	int l3_ver; /* 4 or 6 */
	int udp_off; /* -1: no UDP header */
	size_t l3_end; /* set by pkt_finish(): end of the IP packet */
	__u32 ip_len; /* set by pkt_finish(): IP total length */
	__u8 saddr[16]; /* IPv4 in the first 4 bytes */
	__u8 daddr[16];
};

struct pkt_ipv4 {
	__u32 saddr; /* host order; 0 picks 192.0.2.1 */
	__u32 daddr; /* host order; 0 picks 198.51.100.1 */
	__u16 id;
	__u16 frag_off; /* in 8-byte units */
	bool mf; /* more fragments */
	bool df;
	__u8 ttl; /* 0 picks 64 */
	__u8 opt_len; /* bytes of options, a multiple of 4, at most 40 */
};

void pkt_init(struct pkt_buf *b, void *buf, size_t cap);

/* NULL addresses pick fixed locally administered ones. */
int pkt_eth(struct pkt_buf *b, const __u8 *dst, const __u8 *src);
int pkt_vlan(struct pkt_buf *b, __u16 tpid, __u16 vid);
/* Fill the pending EtherType, for a payload the builder does not know. */
int pkt_ethertype(struct pkt_buf *b, __u16 type);
int pkt_arp(struct pkt_buf *b);

int pkt_ipv4(struct pkt_buf *b, const struct pkt_ipv4 *ip);
/* NULL addresses pick 2001:db8::1 and 2001:db8::2. */
int pkt_ipv6(struct pkt_buf *b, const __u8 *saddr, const __u8 *daddr);
/* Hop-by-hop, routing or destination options; len a multiple of 8, >= 8. */
int pkt_ipv6_ext(struct pkt_buf *b, __u8 type, unsigned int len);
/* offset in 8-byte units */
int pkt_ipv6_frag(struct pkt_buf *b, __u16 offset, bool more, __u32 id);
/* Fill the pending protocol byte, for a payload the builder does not know. */
int pkt_proto(struct pkt_buf *b, __u8 proto);

/* ESP header plus payload_len bytes standing for IV, ciphertext and ICV. */
int pkt_esp(struct pkt_buf *b, __u32 spi, __u32 seq, unsigned int payload_len);
/* AH with an ICV of icv_len bytes (a multiple of 4); the next header follows. */
int pkt_ah(struct pkt_buf *b, __u32 spi, __u32 seq, unsigned int icv_len);
int pkt_udp(struct pkt_buf *b, __u16 sport, __u16 dport);
int pkt_tcp(struct pkt_buf *b, __u16 sport, __u16 dport, __u8 flags);
/* RFC 3948 non-ESP marker: four zero bytes before IKE on port 4500. */
int pkt_natt_marker(struct pkt_buf *b);
/* RFC 3948 NAT-keepalive: one 0xff byte. */
int pkt_keepalive(struct pkt_buf *b);
/* IKE header (version 1 or 2) followed by body_len bytes of payloads. */
int pkt_ike(struct pkt_buf *b, int ver, __u8 exch, __u8 flags, unsigned int body_len);
int pkt_fill(struct pkt_buf *b, __u8 byte, unsigned int n);

/* Fix lengths and checksums; returns b->err. */
int pkt_finish(struct pkt_buf *b);
/* After pkt_finish(): pad the frame with zeros to min_len, outside the IP packet. */
int pkt_pad(struct pkt_buf *b, size_t min_len);

/* Byte access for tests that corrupt a finished frame on purpose. */
void pkt_put16(struct pkt_buf *b, size_t off, __u16 v);
__u16 pkt_get16(const struct pkt_buf *b, size_t off);
/* Recompute the IPv4 header checksum, e.g. after pkt_put16() on it. */
void pkt_ipv4_csum(struct pkt_buf *b);

/* One frame described as data, for tables of test cases and benchmarks. */
enum pkt_l4 {
	PKT_L4_ESP = 0,
	PKT_L4_AH, /* AH, then a TCP header */
	PKT_L4_UDP_ESP, /* ESP-in-UDP */
	PKT_L4_UDP_MARKER_IKE, /* non-ESP marker + IKE header */
	PKT_L4_UDP_IKE, /* IKE header right after UDP */
	PKT_L4_UDP_KEEPALIVE,
	PKT_L4_UDP, /* UDP with payload_len bytes */
	PKT_L4_TCP,
	PKT_L4_NONE, /* IPv4 protocol / IPv6 next header "no next header" (59) */
};

#define PKT_SPEC_MAX_VLAN 3
#define PKT_SPEC_MAX_EXT 4

struct pkt_spec {
	int vlans; /* 0..3 tags */
	__u16 tpid[PKT_SPEC_MAX_VLAN]; /* 0: 802.1ad outside when stacked, else 802.1Q */
	int l3; /* 4, 6, or 0 for an ARP frame */
	int ip_opt_len; /* IPv4 options */
	__u16 frag_off; /* IPv4 fragment offset, or the IPv6 fragment header's */
	bool mf; /* IPv4 MF, or the IPv6 fragment header's M flag */
	int n_ext; /* IPv6 extension headers before L4 */
	__u8 ext[PKT_SPEC_MAX_EXT]; /* 0, 43, 44 or 60 */
	enum pkt_l4 l4;
	__u16 sport, dport;
	__u32 spi; /* host order */
	__u32 seq;
	unsigned int payload_len; /* ESP payload, IKE body or UDP payload */
	int ike_ver;
	__u8 ike_exch;
	__u8 ike_flags;
	size_t pad_to; /* Ethernet padding after the IP packet: frame length */
};

/* Build and finish the frame described by s; returns 0 or -ENOSPC/-EINVAL. */
int pkt_build(struct pkt_buf *b, const struct pkt_spec *s);

#endif
