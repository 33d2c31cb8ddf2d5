// SPDX-License-Identifier: GPL-2.0
/*
 * Mutated frames through every program of the object with BPF_PROG_TEST_RUN.
 *
 * Seeds of every shape the classifier knows (pkt.c) are mutated (bit flips,
 * bytes, header fields set to values the parser branches on, lengths that
 * lie, truncation, growth) and each frame goes through ipsecmon_xdp,
 * ipsecmon_tc_ingress, ipsecmon_tc_egress and, where the kernel has
 * bpf_xdp_get_xfrm_state, ipsecmon_xdp_kfunc. For every frame and program:
 * the verdict is the pass verdict, the frame comes back byte for byte, and
 * the traffic map counts it exactly once, in the hook's direction (DESIGN §2,
 * fail-open).
 *
 * Frame i is a pure function of (seed, i), so one failure is replayed alone:
 *
 *   fuzz_datapath [-n FRAMES] [-s SEED] [-f INDEX]
 *
 * IPSM_FUZZ_SEED and IPSM_FUZZ_FRAMES stand in for -s and -n. Output goes
 * through report.c: one "ok NAME" or "FAIL NAME: ..." line per program, the
 * first failing frames in hex as "# " lines, then "N passed, N failed".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ipsecmon.h"
#include "ipsecmon.skel.h"
#include "bpf_env.h"
#include "pkt.h"
#include "report.h"

#define XDP_PASS_ 2
#define TC_ACT_UNSPEC_ (-1)
#define FRAME_MAX 640
#define SHOW_MAX 3 /* failing frames printed per program */
#define CHUNK 8192 /* frames between map resets */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/*
 * Instructions the verifier may process for one program: a quarter of its
 * 1M limit. The classifier's paths multiply (VLAN tags, IPv6 extension
 * headers, TC's second parse); this keeps room for older verifiers and
 * for what comes next, and fails before a kernel refuses the program.
 */
#define VERIFIER_BUDGET 250000
#define VLOG_SIZE 4096

struct prog {
	const char *name;
	struct bpf_program *bp;
	char vlog[VLOG_SIZE]; /* the verifier's statistics (log level 4) */
	int fd;
	int dir;
	int verdict;
	bool on;
	bool skb; /* a TC program: BPF_PROG_TEST_RUN builds an skb */
	/* results */
	unsigned long long frames, bad, refused;
	int shown;
	struct result r;
	unsigned long long per_class[IPSM_CLASS_MAX]; /* where the frames landed */
};

struct env {
	struct ipsecmon *skel;
	struct prog progs[4];
	int nprogs;
	int ncpus;
	int traffic_fd;
	struct ipsm_ctr *vals; /* IPSM_TRAFFIC_MAX * ncpus */
	__u64 *keys;
	bool batch; /* BPF_MAP_LOOKUP_BATCH works on this kernel */
};

/* --- PRNG: splitmix64, so frame i can be recreated from (seed, i) alone -- */

static __u64 rng_next(__u64 *s)
{
	__u64 z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static __u32 rng_below(__u64 *s, __u32 n)
{
	return n ? (__u32)(rng_next(s) % n) : 0;
}

/* --- seeds ---------------------------------------------------------------- */

#define Q PKT_ETH_P_8021Q
#define AD PKT_ETH_P_8021AD

/* Every shape of DESIGN §9's table, built once by pkt_build(). */
static const struct pkt_spec seed_specs[] = {
	{ .l3 = 4, .l4 = PKT_L4_ESP, .spi = 0x1001, .seq = 7, .payload_len = 48 },
	{ .l3 = 6, .l4 = PKT_L4_ESP, .spi = 0x2002, .seq = 9, .payload_len = 48 },
	{ .l3 = 4, .l4 = PKT_L4_AH, .spi = 0x3003, .seq = 1 },
	{ .l3 = 6, .l4 = PKT_L4_AH, .spi = 0x3004, .seq = 2 },
	{ .vlans = 1,
	  .tpid = { Q },
	  .l3 = 4,
	  .l4 = PKT_L4_ESP,
	  .spi = 0x11,
	  .seq = 1,
	  .payload_len = 32 },
	{ .vlans = 1,
	  .tpid = { AD },
	  .l3 = 6,
	  .l4 = PKT_L4_ESP,
	  .spi = 0x12,
	  .seq = 1,
	  .payload_len = 32 },
	{ .vlans = 2, .tpid = { AD, Q }, .l3 = 4, .l4 = PKT_L4_AH, .spi = 0x13, .seq = 1 },
	{ .vlans = 2,
	  .tpid = { Q, Q },
	  .l3 = 6,
	  .l4 = PKT_L4_ESP,
	  .spi = 0x14,
	  .seq = 1,
	  .payload_len = 16 },
	{ .vlans = 3, .l3 = 4, .l4 = PKT_L4_ESP, .spi = 0x15, .seq = 1, .payload_len = 16 },
	{ .l3 = 6,
	  .n_ext = 3,
	  .ext = { 0, 43, 60 },
	  .l4 = PKT_L4_ESP,
	  .spi = 0x21,
	  .seq = 3,
	  .payload_len = 32 },
	{ .l3 = 6,
	  .n_ext = 2,
	  .ext = { 0, 44 },
	  .l4 = PKT_L4_ESP,
	  .spi = 0x22,
	  .seq = 3,
	  .payload_len = 32 },
	{ .l3 = 6,
	  .n_ext = 1,
	  .ext = { 44 },
	  .frag_off = 3,
	  .mf = true,
	  .l4 = PKT_L4_ESP,
	  .spi = 0x23,
	  .payload_len = 32 },
	{ .l3 = 6, .n_ext = 4, .ext = { 0, 60, 43, 60 }, .l4 = PKT_L4_AH, .spi = 0x24, .seq = 1 },
	{ .l3 = 6,
	  .n_ext = 2,
	  .ext = { 60, 43 },
	  .l4 = PKT_L4_UDP_ESP,
	  .spi = 0x25,
	  .seq = 1,
	  .payload_len = 32 },
	{ .l3 = 4, .ip_opt_len = 4, .l4 = PKT_L4_ESP, .spi = 0x31, .seq = 1, .payload_len = 32 },
	{ .l3 = 4, .ip_opt_len = 40, .l4 = PKT_L4_UDP_ESP, .spi = 0x32, .seq = 1, .payload_len = 32 },
	{ .l3 = 4, .mf = true, .l4 = PKT_L4_ESP, .spi = 0x33, .payload_len = 64 },
	{ .l3 = 4, .frag_off = 185, .l4 = PKT_L4_ESP, .spi = 0x34, .payload_len = 64 },
	{ .l3 = 4, .l4 = PKT_L4_UDP_ESP, .spi = 0x41, .seq = 5, .payload_len = 48 },
	{ .l3 = 6, .l4 = PKT_L4_UDP_ESP, .spi = 0x42, .seq = 5, .payload_len = 48 },
	{ .l3 = 4, .l4 = PKT_L4_UDP_MARKER_IKE, .ike_ver = 2, .ike_exch = 35, .payload_len = 80 },
	{ .l3 = 6,
	  .l4 = PKT_L4_UDP_MARKER_IKE,
	  .ike_ver = 2,
	  .ike_exch = 37,
	  .ike_flags = 0x20,
	  .payload_len = 40 },
	{ .l3 = 4, .l4 = PKT_L4_UDP_KEEPALIVE, .pad_to = PKT_ETH_MIN },
	{ .l3 = 6, .l4 = PKT_L4_UDP_KEEPALIVE },
	{ .l3 = 4, .l4 = PKT_L4_UDP_IKE, .ike_ver = 2, .ike_exch = 34, .payload_len = 40 },
	{ .l3 = 6,
	  .l4 = PKT_L4_UDP_IKE,
	  .ike_ver = 2,
	  .ike_exch = 36,
	  .ike_flags = 0x28,
	  .payload_len = 40 },
	{ .l3 = 4, .l4 = PKT_L4_UDP_IKE, .ike_ver = 1, .ike_exch = 2, .payload_len = 40 },
	{ .l3 = 4,
	  .l4 = PKT_L4_UDP_IKE,
	  .ike_ver = 1,
	  .ike_exch = 32,
	  .ike_flags = 1,
	  .payload_len = 40 },
	{ .vlans = 1,
	  .l3 = 4,
	  .l4 = PKT_L4_UDP_IKE,
	  .ike_ver = 2,
	  .ike_exch = 35,
	  .payload_len = 24 },
	{ .l3 = 4, .l4 = PKT_L4_UDP, .payload_len = 20 },
	{ .l3 = 6, .l4 = PKT_L4_TCP, .payload_len = 10 },
	{ .l3 = 4, .l4 = PKT_L4_NONE, .payload_len = 4 },
	{ .l3 = 0, .pad_to = PKT_ETH_MIN },
};

struct seed {
	__u8 data[FRAME_MAX];
	size_t len;
	size_t hdr_end; /* end of the headers the classifier reads */
};

static struct seed seeds[ARRAY_SIZE(seed_specs)];

static int build_seeds(void)
{
	size_t i;
	int err;

	for (i = 0; i < ARRAY_SIZE(seed_specs); i++) {
		struct pkt_buf b;

		pkt_init(&b, seeds[i].data, sizeof(seeds[i].data));
		err = pkt_build(&b, &seed_specs[i]);
		if (err) {
			fprintf(stderr, "seed %zu: %s\n", i, strerror(-err));
			return err;
		}
		seeds[i].len = b.len;
		/* Headers end where the payload starts; 64 bytes covers IKE and ESP. */
		seeds[i].hdr_end = b.l3_off >= 0 ? (size_t)b.l3_off + 64 : b.len;
		if (b.udp_off >= 0)
			seeds[i].hdr_end = (size_t)b.udp_off + 40;
		if (seeds[i].hdr_end > b.len)
			seeds[i].hdr_end = b.len;
	}
	return 0;
}

/* --- mutations ------------------------------------------------------------ */

/* Values the classifier branches on: EtherTypes, protocols, ports, markers. */
static const __u16 magic16[] = { 0x0800, 0x86dd, 0x8100, 0x88a8, 0x9100, 0x0806,
				 500,	 4500,	 0,	 0xffff, 0x4500, 0x6000,
				 0x0001, 0x2000, 0x3fff, 0x0028, 0x0014, 0x0008 };
static const __u8 magic8[] = { 0,   6,	 17,  41, 43,	44,   50,   51,	  59,	60,   135,
			       139, 140, 253, 1,  0x45, 0x4f, 0x46, 0x60, 0xff, 0x7f, 0x80 };

struct frame {
	__u8 data[FRAME_MAX];
	size_t len;
	size_t seed;
	char how[160]; /* the mutations applied, for the failure report */
	size_t how_len;
};

static void note(struct frame *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct frame *f, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (f->how_len >= sizeof(f->how) - 1)
		return;
	va_start(ap, fmt);
	w = vsnprintf(f->how + f->how_len, sizeof(f->how) - f->how_len, fmt, ap);
	va_end(ap);
	if (w > 0)
		f->how_len += (size_t)w;
	if (f->how_len >= sizeof(f->how))
		f->how_len = sizeof(f->how) - 1;
}

/* An offset inside the headers most of the time, anywhere otherwise. */
static size_t pick_off(__u64 *s, const struct frame *f, size_t hdr_end)
{
	size_t end = hdr_end < f->len ? hdr_end : f->len;

	if (end > 12 && rng_below(s, 8))
		return 12 + rng_below(s, end - 12);
	return rng_below(s, f->len);
}

static void mutate_once(__u64 *s, struct frame *f, size_t hdr_end)
{
	size_t off = pick_off(s, f, hdr_end), n;
	__u16 v16;

	switch (rng_below(s, 9)) {
	case 0: /* flip one bit */
		n = rng_below(s, 8);
		f->data[off] ^= 1u << n;
		note(f, " flip@%zu.%zu", off, n);
		break;
	case 1: /* a random byte */
		f->data[off] = (__u8)rng_next(s);
		note(f, " byte@%zu=%02x", off, f->data[off]);
		break;
	case 2: /* a byte the parser branches on */
		f->data[off] = magic8[rng_below(s, ARRAY_SIZE(magic8))];
		note(f, " magic8@%zu=%02x", off, f->data[off]);
		break;
	case 3: /* a 16-bit field the parser branches on */
		if (off + 2 > f->len)
			break;
		v16 = magic16[rng_below(s, ARRAY_SIZE(magic16))];
		f->data[off] = v16 >> 8;
		f->data[off + 1] = v16 & 0xff;
		note(f, " magic16@%zu=%04x", off, v16);
		break;
	case 4: /* a length that lies a little: near the frame's own size */
		if (off + 2 > f->len)
			break;
		v16 = (__u16)(f->len - off + rng_below(s, 64) - 32);
		f->data[off] = v16 >> 8;
		f->data[off + 1] = v16 & 0xff;
		note(f, " len16@%zu=%u", off, v16);
		break;
	case 5: /* a random 32-bit word (SPIs, sequence numbers, markers) */
		if (off + 4 > f->len)
			break;
		for (n = 0; n < 4; n++)
			f->data[off + n] = (__u8)rng_next(s);
		note(f, " word@%zu", off);
		break;
	case 6: /* truncate, never below an Ethernet header (test_run refuses those) */
		if (f->len <= PKT_ETH_HLEN)
			break;
		f->len = PKT_ETH_HLEN + rng_below(s, f->len - PKT_ETH_HLEN);
		note(f, " trunc=%zu", f->len);
		break;
	case 7: /* grow with random bytes */
		n = 1 + rng_below(s, 64);
		if (f->len + n > sizeof(f->data))
			n = sizeof(f->data) - f->len;
		for (size_t i = 0; i < n; i++)
			f->data[f->len + i] = (__u8)rng_next(s);
		f->len += n;
		note(f, " grow+%zu", n);
		break;
	case 8: /* insert or remove 4 bytes: a VLAN tag, an option word */
		if (rng_below(s, 2) && f->len + 4 <= sizeof(f->data)) {
			memmove(f->data + off + 4, f->data + off, f->len - off);
			for (n = 0; n < 4; n++)
				f->data[off + n] = (__u8)rng_next(s);
			f->len += 4;
			note(f, " ins4@%zu", off);
		} else if (off + 4 <= f->len && f->len - 4 >= PKT_ETH_HLEN) {
			memmove(f->data + off, f->data + off + 4, f->len - off - 4);
			f->len -= 4;
			note(f, " del4@%zu", off);
		}
		break;
	}
}

/* Frame index i of the run with this seed: a pure function of both. */
static void make_frame(__u64 seed, __u64 i, struct frame *f)
{
	__u64 s = seed ^ (i * 0xd1b54a32d192ed03ULL);
	unsigned int n, k;

	rng_next(&s);
	f->seed = rng_below(&s, ARRAY_SIZE(seeds));
	memcpy(f->data, seeds[f->seed].data, seeds[f->seed].len);
	f->len = seeds[f->seed].len;
	f->how_len = 0;
	f->how[0] = '\0';
	/* Mostly few mutations (near the seed's paths), sometimes many. */
	n = rng_below(&s, 8) ? 1 + rng_below(&s, 3) : 1 + rng_below(&s, 16);
	for (k = 0; k < n; k++)
		mutate_once(&s, f, seeds[f->seed].hdr_end);
}

/* --- maps ------------------------------------------------------------------- */

/* Heartbeat on or off: with it, inbound misses take the bad-SPI path (FIB lookup). */
static int set_live(struct env *e, bool live)
{
	struct ipsm_config c = { .live_until = live ? ~0ULL : 0 };
	__u32 k = 0;

	return bpf_map_update_elem(bpf_map__fd(e->skel->maps.correlation), &k, &c, BPF_ANY) ?
		       -errno :
		       0;
}

/* A fresh SA table now and then, so inserts run as well as "table full". */
static int reset_maps(struct env *e, bool live)
{
	struct ipsecmon *s = e->skel;
	int err;

	err = bpf_env_zero_array(e->traffic_fd, IPSM_TRAFFIC_MAX, sizeof(struct ipsm_ctr),
				 e->ncpus);
	if (!err)
		err = bpf_env_clear_hash(bpf_map__fd(s->maps.sa_stats), sizeof(struct ipsm_sa_key));
	if (!err)
		err = set_live(e, live);
	return err;
}

/* Packets per traffic slot, summed over CPUs; one syscall when batches work. */
static int read_traffic(struct env *e, __u64 *pkts)
{
	__u32 n = IPSM_TRAFFIC_MAX, k, out_batch;
	size_t stride = bpf_env_percpu_size(sizeof(struct ipsm_ctr), 1);
	int i, err = 0;

	if (e->batch) {
		err = bpf_map_lookup_batch(e->traffic_fd, NULL, &out_batch, e->keys, e->vals, &n,
					   NULL);
		/* An array's batch ends with ENOENT after its last key. */
		if (err && errno != ENOENT)
			return -errno;
		if (n != IPSM_TRAFFIC_MAX)
			return -EIO;
	} else {
		for (k = 0; k < IPSM_TRAFFIC_MAX; k++)
			if (bpf_map_lookup_elem(e->traffic_fd, &k,
						(char *)e->vals + k * stride * e->ncpus))
				return -errno;
	}
	for (k = 0; k < IPSM_TRAFFIC_MAX; k++) {
		const char *row = (const char *)e->vals + k * stride * e->ncpus;

		pkts[k] = 0;
		for (i = 0; i < e->ncpus; i++)
			pkts[k] += ((const struct ipsm_ctr *)(row + i * stride))->packets;
	}
	return 0;
}

/* --- checking ------------------------------------------------------------- */

static void hex_dump(const struct frame *f)
{
	size_t i;

	for (i = 0; i < f->len; i++) {
		if (i % 32 == 0)
			printf("%s#   %04zx ", i ? "\n" : "", i);
		printf("%02x", f->data[i]);
	}
	printf("\n");
}

/*
 * Recent kernels (6.18 here; not 6.1) refuse an skb test run whose EtherType
 * says IPv4 or IPv6 but whose frame is shorter than that header: the kernel
 * reads the addresses out of it for its fake socket. The program never sees
 * such a frame, so it is not a finding; XDP still runs it.
 */
static bool skb_refuses(const struct frame *f)
{
	__u16 type = (__u16)(f->data[12] << 8 | f->data[13]);

	return (type == PKT_ETH_P_IP && f->len < PKT_ETH_HLEN + 20) ||
	       (type == PKT_ETH_P_IPV6 && f->len < PKT_ETH_HLEN + 40);
}

/* Run frame f through p and note what breaks fail-open or counting. */
static void check_frame(struct env *e, struct prog *p, const struct frame *f, __u64 seed, __u64 idx,
			const __u64 *before, __u64 *after)
{
	__u8 out[FRAME_MAX + 256];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = f->data, .data_size_in = f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	char why[256];
	__u64 sum = 0, here = 0;
	int err, k;

	why[0] = '\0';
	err = bpf_prog_test_run_opts(p->fd, &o);
	p->frames++;
	if (err == -EINVAL && p->skb && skb_refuses(f)) {
		p->refused++;
		memcpy(after, before, IPSM_TRAFFIC_MAX * sizeof(*after));
		return;
	}
	if (err) {
		snprintf(why, sizeof(why), "test run: %s", strerror(-err));
		goto bad;
	}
	if ((int)o.retval != p->verdict) {
		snprintf(why, sizeof(why), "verdict %d, want %d", (int)o.retval, p->verdict);
		goto bad;
	}
	if (o.data_size_out != f->len || memcmp(out, f->data, f->len)) {
		snprintf(why, sizeof(why), "frame changed (%u bytes out of %zu)", o.data_size_out,
			 f->len);
		goto bad;
	}
	err = read_traffic(e, after);
	if (err) {
		snprintf(why, sizeof(why), "reading traffic: %s", strerror(-err));
		goto bad;
	}
	for (k = 0; k < IPSM_TRAFFIC_MAX; k++) {
		__u64 d = after[k] - before[k];

		sum += d;
		if (k / (IPSM_AF_MAX * IPSM_CLASS_MAX) == p->dir)
			here += d;
		p->per_class[k % IPSM_CLASS_MAX] += d;
	}
	if (sum != 1 || here != 1) {
		snprintf(why, sizeof(why), "counted %llu times, %llu in its direction, want 1",
			 (unsigned long long)sum, (unsigned long long)here);
		goto bad;
	}
	return;
bad:
	p->bad++;
	if (p->shown++ < SHOW_MAX) {
		mismatch(&p->r, "frame %llu: %s", (unsigned long long)idx, why);
		printf("# %s: frame %llu (seed %llu, from seed frame %zu,%s): %s; replay with -s %llu -f %llu\n",
		       p->name, (unsigned long long)idx, (unsigned long long)seed, f->seed, f->how,
		       why, (unsigned long long)seed, (unsigned long long)idx);
		hex_dump(f);
		fflush(stdout);
	}
	/* The maps may not have moved as they should: resync for the next frame. */
	if (read_traffic(e, after))
		memcpy(after, before, IPSM_TRAFFIC_MAX * sizeof(*after));
}

/* --- setup ---------------------------------------------------------------- */

/* The verifier's count of processed instructions, against VERIFIER_BUDGET. */
static void check_verifier_budget(struct prog *pr)
{
	struct result r = { 0 };
	unsigned long insns = 0;
	const char *at = strstr(pr->vlog, "processed ");
	char name[64];

	snprintf(name, sizeof(name), "%s/verifier_budget", pr->name);
	if (!at || sscanf(at, "processed %lu insns", &insns) != 1)
		mismatch(&r, "no \"processed N insns\" in the verifier's log");
	else if (insns > VERIFIER_BUDGET)
		mismatch(&r, "the verifier processed %lu instructions, more than %d", insns,
			 VERIFIER_BUDGET);
	report_case(name, &r);
	printf("# %s: the verifier processed %lu instructions (budget %d, kernel limit 1000000)\n",
	       pr->name, insns, VERIFIER_BUDGET);
}

static void prog_init(struct prog *pr, const char *name, struct bpf_program *bp, int dir, bool skb,
		      bool on)
{
	memset(pr, 0, sizeof(*pr));
	pr->name = name;
	pr->bp = bp;
	pr->dir = dir;
	pr->verdict = skb ? TC_ACT_UNSPEC_ : XDP_PASS_;
	pr->skb = skb;
	pr->on = on;
}

static int open_env(struct env *e, bool kfunc)
{
	struct ipsecmon *s;
	int err, i;

	s = ipsecmon__open();
	if (!s)
		return -errno;
	if (!kfunc) {
		err = bpf_program__set_autoload(s->progs.ipsecmon_xdp_kfunc, false);
		if (err)
			goto err_destroy;
	}
	/* No insert budget: random SPIs should reach the insert path, not only the limit. */
	s->rodata->inserts_per_sec = ~0U;
	prog_init(&e->progs[0], "xdp", s->progs.ipsecmon_xdp, IPSM_DIR_RX, false, true);
	prog_init(&e->progs[1], "tc_in", s->progs.ipsecmon_tc_ingress, IPSM_DIR_RX, true, true);
	prog_init(&e->progs[2], "tc_eg", s->progs.ipsecmon_tc_egress, IPSM_DIR_TX, true, true);
	prog_init(&e->progs[3], "xdp_kfunc", s->progs.ipsecmon_xdp_kfunc, IPSM_DIR_RX, false,
		  kfunc);
	e->nprogs = 4;
	for (i = 0; i < e->nprogs; i++) {
		if (!e->progs[i].on)
			continue;
		err = bpf_program__set_log_level(e->progs[i].bp, 4);
		if (!err)
			err = bpf_program__set_log_buf(e->progs[i].bp, e->progs[i].vlog, VLOG_SIZE);
		if (err)
			goto err_destroy;
	}
	err = ipsecmon__load(s);
	if (err)
		goto err_destroy;
	e->skel = s;
	for (i = 0; i < e->nprogs; i++)
		e->progs[i].fd = e->progs[i].on ? bpf_program__fd(e->progs[i].bp) : -1;
	e->traffic_fd = bpf_map__fd(s->maps.traffic);
	e->vals = calloc(IPSM_TRAFFIC_MAX, bpf_env_percpu_size(sizeof(struct ipsm_ctr), e->ncpus));
	e->keys = calloc(IPSM_TRAFFIC_MAX, sizeof(*e->keys));
	if (!e->vals || !e->keys) {
		err = -ENOMEM;
		goto err_destroy;
	}
	e->batch = true;
	return 0;

err_destroy:
	ipsecmon__destroy(s);
	e->skel = NULL;
	return err;
}

static unsigned long long env_ull(const char *name, unsigned long long def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned long long frames, seed, only = ~0ULL, i, first, last;
	__u64 before[IPSM_TRAFFIC_MAX], after[IPSM_TRAFFIC_MAX];
	struct env e = { 0 };
	struct frame f;
	double t0, dt;
	int opt, err, p;
	char name[64];

	frames = env_ull("IPSM_FUZZ_FRAMES", 100000);
	seed = env_ull("IPSM_FUZZ_SEED",
		       (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 16));
	while ((opt = getopt(argc, argv, "n:s:f:")) != -1) {
		switch (opt) {
		case 'n':
			frames = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			only = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-n FRAMES] [-s SEED] [-f INDEX]\n", argv[0]);
			return 2;
		}
	}

	libbpf_set_print(bpf_env_print);
	bpf_env_pin_cpu();
	e.ncpus = libbpf_num_possible_cpus();
	if (e.ncpus <= 0) {
		fprintf(stderr, "cannot count possible CPUs: %s\n", strerror(-e.ncpus));
		return 1;
	}
	err = build_seeds();
	if (err)
		return 1;
	err = open_env(&e, bpf_env_has_kfunc());
	if (err) {
		fprintf(stderr, "loading the skeleton: %s\n", strerror(-err));
		return 1;
	}
	if (!e.progs[3].on)
		report_skip("no bpf_xdp_get_xfrm_state in this kernel: xdp_kfunc not fuzzed");
	for (p = 0; p < e.nprogs; p++)
		if (e.progs[p].on)
			check_verifier_budget(&e.progs[p]);

	first = only == ~0ULL ? 0 : only;
	last = only == ~0ULL ? frames : only + 1;
	printf("# seed %llu (IPSM_FUZZ_SEED=%llu or -s to repeat), %llu frames per program, %zu seeds\n",
	       seed, seed, last - first, ARRAY_SIZE(seeds));
	fflush(stdout);

	err = reset_maps(&e, false);
	if (!err)
		err = read_traffic(&e, before);
	if (err) {
		/* Older kernels: no batch lookup on per-CPU arrays; one key at a time. */
		e.batch = false;
		err = read_traffic(&e, before);
	}
	if (err) {
		fprintf(stderr, "preparing the maps: %s\n", strerror(-err));
		goto cleanup;
	}

	t0 = now_s();
	for (i = first; i < last; i++) {
		if (i != first && i % CHUNK == 0) {
			/* Alternate the heartbeat per chunk: both bad-SPI branches get frames. */
			err = reset_maps(&e, i / CHUNK % 2);
			if (!err)
				err = read_traffic(&e, before);
			if (err) {
				fprintf(stderr, "resetting the maps: %s\n", strerror(-err));
				goto cleanup;
			}
		}
		make_frame(seed, i, &f);
		for (p = 0; p < e.nprogs; p++) {
			if (!e.progs[p].on)
				continue;
			check_frame(&e, &e.progs[p], &f, seed, i, before, after);
			memcpy(before, after, sizeof(before));
		}
	}
	dt = now_s() - t0;

	for (p = 0; p < e.nprogs; p++) {
		struct prog *pr = &e.progs[p];

		if (!pr->on)
			continue;
		snprintf(name, sizeof(name), "%s/mutated_frames", pr->name);
		if (pr->bad)
			mismatch(&pr->r, "%llu of %llu frames failed", pr->bad, pr->frames);
		report_case(name, &pr->r);
		/* Shows the mutations reach every class, not only "malformed". */
		printf("# %s classes: esp %llu ah %llu esp_in_udp %llu ike %llu keepalive %llu other %llu fragment %llu malformed %llu\n",
		       pr->name, pr->per_class[IPSM_CLASS_ESP], pr->per_class[IPSM_CLASS_AH],
		       pr->per_class[IPSM_CLASS_ESP_IN_UDP], pr->per_class[IPSM_CLASS_IKE],
		       pr->per_class[IPSM_CLASS_NAT_KEEPALIVE], pr->per_class[IPSM_CLASS_OTHER],
		       pr->per_class[IPSM_CLASS_FRAGMENT], pr->per_class[IPSM_CLASS_MALFORMED]);
		if (pr->refused)
			report_skip(
				"%s: %llu frames with a short IP header refused by the kernel's skb test run",
				pr->name, pr->refused);
	}
	printf("# %llu frames x %d programs in %.1f s: %.0f frames/s\n", last - first,
	       e.progs[3].on ? 4 : 3, dt,
	       dt > 0 ? (double)(last - first) * (e.progs[3].on ? 4 : 3) / dt : 0.0);
	err = report_finish() ? 1 : 0;
cleanup:
	free(e.vals);
	free(e.keys);
	ipsecmon__destroy(e.skel);
	return err ? 1 : 0;
}
