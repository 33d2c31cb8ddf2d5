// SPDX-License-Identifier: GPL-2.0
/*
 * Datapath cost under BPF_PROG_TEST_RUN: ns per packet of each program the
 * loader may attach (XDP, XDP with the kernel's SA lookup where the kernel
 * has it, TC ingress, TC egress) against a bare program of the same hook,
 * in one run, interleaved, so that the host's drift hits all alike. Method
 * and targets: performance-anchors.md §3.6, §7A, and issue #11.
 *
 * Cases that need a different packet each time (random SPIs, many SAs in
 * turn) go through a driver program that rewrites the SPI and tail-calls
 * either the bare program or the one under test: the driver's cost is in
 * both and cancels out of the difference.
 *
 * Numbers are informative only: the exit status is 0 whatever they are.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "ipsecmon.h"
#include "ipsecmon.skel.h"
#include "bench_pass.skel.h"
#include "bpf_env.h"
#include "pkt.h"

#define XDP_PASS_ 2
#define TC_ACT_UNSPEC_ (-1)
#define FRAME_MAX 512
#define MAX_TRIALS 1001
#define RR_SAS 1024
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The programs under test; each is measured against its hook's bare one. */
enum variant {
	V_XDP,
	V_XDP_KFUNC,
	V_TC_IN,
	V_TC_EG,
	V_MAX,
};

static const char *const variant_name[V_MAX] = { "xdp", "xdp_kfunc", "tc_in", "tc_eg" };

enum target_kind {
	T_NONE = 0,
	T_NON_IPSEC, /* Δ <= 3 ns */
	T_IKE, /* Δ <= 8 ns */
	T_KNOWN_SA, /* Δ <= 15 ns */
	T_FLOOD, /* Δ <= 1.5 x the known-SA case's Δ */
};

enum drive { D_NONE, D_RANDOM, D_ROUND_ROBIN };

struct bcase {
	const char *name;
	struct pkt_spec s;
	enum target_kind target;
	enum drive drive;
	bool transit; /* destination not one of ours (no bad SPIs) */
	/* filled while running */
	struct pkt_buf b;
	__u8 frame[FRAME_MAX];
	double delta[V_MAX]; /* median per-trial clf - bare, ns */
	double iqr[V_MAX]; /* interquartile range of those differences */
	double bare[V_MAX];
	bool ran[V_MAX];
};

#define ESP4_SPEC(spi_)                                                             \
	{                                                                           \
		.l3 = 4, .l4 = PKT_L4_ESP, .spi = spi_, .seq = 1, .payload_len = 64 \
	}

static struct bcase cases[] = {
	{ "tcp_v4 (non-IPsec)", { .l3 = 4, .l4 = PKT_L4_TCP, .payload_len = 64 }, T_NON_IPSEC },
	{ "ikev2_v4 udp/500",
	  { .l3 = 4, .l4 = PKT_L4_UDP_IKE, .ike_ver = 2, .ike_exch = 34, .payload_len = 40 },
	  T_IKE },
	{ "esp_v4 known SA", ESP4_SPEC(0x1001), T_KNOWN_SA },
	{ "esp_v6 known SA",
	  { .l3 = 6, .l4 = PKT_L4_ESP, .spi = 0x2001, .seq = 1, .payload_len = 64 },
	  T_KNOWN_SA },
	{ "esp_v6 4 ext hdrs",
	  { .l3 = 6,
	    .n_ext = 4,
	    .ext = { 0, 43, 44, 60 },
	    .l4 = PKT_L4_ESP,
	    .spi = 0x2002,
	    .seq = 1,
	    .payload_len = 64 },
	  T_NONE },
	{ "esp_v4 1024 SAs in turn", ESP4_SPEC(0x10000), T_NONE, D_ROUND_ROBIN },
	{ "esp_v4 random SPIs, local", ESP4_SPEC(0x3001), T_FLOOD, D_RANDOM },
	{ "esp_v4 random SPIs, transit", ESP4_SPEC(0x3002), T_FLOOD, D_RANDOM, true },
};

#define KNOWN_V4 2
#define FLOOD_LOCAL 6

struct env {
	struct ipsecmon *clf;
	__u64 *filter; /* sa_filter, mapped: rows are counted in as attach's users do */
	struct bench_pass *base;
	int clf_fd[V_MAX];
	bool have[V_MAX];
	const char *only; /* -k: cases whose name holds this, or NULL for all */
	int trials;
	__u32 repeat;
	int cpu;
	int ncpus;
};

static bool is_tc(int v)
{
	return v == V_TC_IN || v == V_TC_EG;
}

static int run_once(int fd, const struct pkt_buf *b, __u32 repeat, int want, double *dur)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b->data, .data_size_in = b->len,
		    .repeat = repeat);
	int err;

	err = bpf_prog_test_run_opts(fd, &o);
	if (err)
		return err;
	if ((int)o.retval != want)
		return -EPROTO;
	*dur = o.duration;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The q-quantile of sorted v, interpolated between ranks. */
static double quantile(const double *v, int n, double q)
{
	double r = q * (n - 1);
	int i = (int)r;

	return i + 1 < n ? v[i] + (r - i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* Where the SPI of the frame is: the driver rewrites it there. */
static int spi_offset(const struct pkt_buf *b, __u32 spi)
{
	__u32 be = htonl(spi);
	size_t i;

	for (i = b->l3_off; i + 4 <= b->len; i++)
		if (!memcmp(b->data + i, &be, 4))
			return i;
	return -1;
}

static int set_drive(struct env *e, const struct bcase *c)
{
	struct {
		__u32 mode, spi_off, n, base;
	} cfg = { c->drive == D_ROUND_ROBIN, spi_offset(&c->b, c->s.spi), RR_SAS, c->s.spi };
	__u32 k = 0;

	return bpf_map_update_elem(bpf_map__fd(e->base->maps.drive_cfg), &k, &cfg, BPF_ANY) ?
		       -errno :
		       0;
}

/* Slot 1 of the hook's program array: the program under test, for driven cases. */
static int set_target(struct env *e, bool tc, int prog_fd)
{
	int fd = bpf_map__fd(tc ? e->base->maps.tc_targets : e->base->maps.xdp_targets);
	__u32 k = 1;

	return bpf_map_update_elem(fd, &k, &prog_fd, BPF_ANY) ? -errno : 0;
}

/*
 * Medians of fd[0]'s time and of fd[1]'s over it, and the interquartile
 * range of the latter (iqr may be NULL): how far the host's noise moves
 * one trial. Trials alternate the order (bare, clf, then clf, bare), so a
 * slow drift of the host adds the same to both.
 */
static int run_pair(struct env *e, const struct pkt_buf *b, const int fd[2], int want,
		    double *bare_med, double *delta_med, double *iqr)
{
	static double bare[MAX_TRIALS], delta[MAX_TRIALS];
	double d[2];
	int t, i, err;

	for (t = 0; t < e->trials; t++) {
		for (i = 0; i < 2; i++) {
			int p = t % 2 ? 1 - i : i;

			err = run_once(fd[p], b, e->repeat, want, &d[p]);
			if (err)
				return err;
		}
		bare[t] = d[0];
		delta[t] = d[1] - d[0];
	}
	*bare_med = median(bare, e->trials);
	*delta_med = median(delta, e->trials); /* sorts delta */
	if (iqr)
		*iqr = quantile(delta, e->trials, 0.75) - quantile(delta, e->trials, 0.25);
	return 0;
}

/* The driver pair of a hook, for cases that need a new SPI per packet. */
static void drivers(struct env *e, bool tc, int fd[2])
{
	fd[0] = bpf_program__fd(tc ? e->base->progs.bench_drive_tc0 :
				     e->base->progs.bench_drive_xdp0);
	fd[1] = bpf_program__fd(tc ? e->base->progs.bench_drive_tc1 :
				     e->base->progs.bench_drive_xdp1);
}

static int measure(struct env *e, struct bcase *c, int v)
{
	int want = is_tc(v) ? TC_ACT_UNSPEC_ : XDP_PASS_;
	int fd[2], err;

	if (c->drive) {
		drivers(e, is_tc(v), fd);
		err = set_target(e, is_tc(v), e->clf_fd[v]);
		if (!err)
			err = set_drive(e, c);
		if (err)
			return err;
	} else {
		fd[0] = bpf_program__fd(is_tc(v) ? e->base->progs.bench_pass_tc :
						   e->base->progs.bench_pass);
		fd[1] = e->clf_fd[v];
	}
	err = run_pair(e, &c->b, fd, want, &c->bare[v], &c->delta[v], &c->iqr[v]);
	if (!err)
		c->ran[v] = true;
	return err;
}

/* --- setup --------------------------------------------------------------- */

static size_t val_stride(void)
{
	return (sizeof(struct ipsm_sa_val) + 7) & ~7UL;
}

static void sa_key_of(const struct pkt_buf *b, int dir, __u32 spi, struct ipsm_sa_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dir = dir;
	k->proto = PKT_IPPROTO_ESP;
	k->family = b->l3_ver == 4 ? IPSM_AF_IPV4 : IPSM_AF_IPV6;
	k->spi = htonl(spi);
	memcpy(k->daddr, b->daddr, 16);
}

/* A row for the SPI in both directions, as the monitor makes for kernel SAs. */
static int add_rows(struct env *e, const struct pkt_buf *b, __u32 spi, const void *zero)
{
	int fd = bpf_map__fd(e->clf->maps.sa_stats), dir;
	struct ipsm_sa_key k;

	for (dir = 0; dir < IPSM_DIR_MAX; dir++) {
		sa_key_of(b, dir, spi, &k);
		if (bpf_map_update_elem(fd, &k, zero, BPF_NOEXIST))
			return -errno;
		e->filter[ipsm_row_filter_slot(&k)]++;
	}
	return 0;
}

/*
 * Fill sa_stats up to max_entries with random IPv4 keys, as a busy
 * gateway's table is: what lookups see, and what a random-SPI flood
 * reaches once the insert budget has filled the table.
 */
static int fill_table(struct env *e, unsigned int *seed, const void *zero)
{
	int fd = bpf_map__fd(e->clf->maps.sa_stats), n = 0;
	struct ipsm_sa_key k;

	for (;;) {
		memset(&k, 0, sizeof(k));
		k.proto = PKT_IPPROTO_ESP;
		k.spi = (__u32)rand_r(seed) << 1 | 1;
		k.daddr[0] = 10;
		k.daddr[1] = rand_r(seed);
		k.daddr[2] = rand_r(seed);
		k.daddr[3] = rand_r(seed);
		if (!bpf_map_update_elem(fd, &k, zero, BPF_NOEXIST)) {
			e->filter[ipsm_row_filter_slot(&k)]++;
			n++;
			continue;
		}
		if (errno == EEXIST)
			continue;
		return errno == E2BIG ? n : -errno;
	}
}

/*
 * A monitor's state: heartbeat fresh, this namespace's addresses known
 * (the local flood's destination among them, the transit one not).
 */
static int set_correlation(struct env *e, const struct pkt_buf *local)
{
	struct ipsm_config c = { .live_until = ~0ULL,
				 .hash_seed = 0x5eed,
				 .flags = IPSM_CFG_LOCAL_ADDRS | IPSM_CFG_ROW_FILTER };
	struct ipsm_addr_key a = { .family = IPSM_AF_IPV4 };
	__u8 one = 1;
	__u32 k = 0;

	memcpy(a.addr, local->daddr, 4);
	if (bpf_map_update_elem(bpf_map__fd(e->clf->maps.correlation), &k, &c, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(e->clf->maps.local_addrs), &a, &one, BPF_ANY))
		return -errno;
	return 0;
}

static int prepare(struct env *e, int *filled)
{
	void *zero = calloc(e->ncpus, val_stride());
	unsigned int seed = 12345;
	struct bcase *local = NULL;
	__u32 i;
	size_t c;
	int err = 0;

	if (!zero)
		return -ENOMEM;
	/* Before any row: single-threaded set-up, no packet runs meanwhile. */
	e->filter = bpf_env_mmap(bpf_map__fd(e->clf->maps.sa_filter),
				 (size_t)IPSM_ROW_FILTER_SLOTS * sizeof(__u64));
	if (!e->filter) {
		free(zero);
		return -errno;
	}
	for (c = 0; c < ARRAY_SIZE(cases) && !err; c++) {
		struct bcase *bc = &cases[c];

		pkt_init(&bc->b, bc->frame, sizeof(bc->frame));
		err = pkt_build(&bc->b, &bc->s);
		if (err)
			break;
		/*
		 * To loopback's MAC (zeros), which BPF_PROG_TEST_RUN's skb is
		 * "received" on: a frame for this host, as on a real interface.
		 */
		memset(bc->b.data, 0, 6);
		if (bc->transit) {
			/* Another host's: change the destination to one not listed. */
			bc->b.data[bc->b.l3_off + 19] ^= 0x55;
			bc->b.daddr[3] ^= 0x55;
		} else if (bc->drive == D_RANDOM) {
			local = bc;
		}
		if (bc->s.l4 == PKT_L4_ESP && !bc->drive)
			err = add_rows(e, &bc->b, bc->s.spi, zero);
		for (i = 0; bc->drive == D_ROUND_ROBIN && i < RR_SAS && !err; i++)
			err = add_rows(e, &bc->b, bc->s.spi + i, zero);
	}
	if (!err && local)
		err = set_correlation(e, &local->b);
	if (!err) {
		*filled = fill_table(e, &seed, zero);
		err = *filled < 0 ? *filled : 0;
	}
	free(zero);
	return err;
}

/* --- environment --------------------------------------------------------- */

static void read_sysctl(const char *path, char *buf, size_t sz)
{
	FILE *f = fopen(path, "r");

	snprintf(buf, sz, "?");
	if (!f)
		return;
	if (fgets(buf, sz, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* Steal ticks of one CPU from /proc/stat: the hypervisor's share of our time. */
static long long steal_ticks(int cpu)
{
	char line[256], want[16];
	long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	snprintf(want, sizeof(want), "cpu%d ", cpu);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		sscanf(line + strlen(want), "%lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1],
		       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		fclose(f);
		return v[7];
	}
	fclose(f);
	return -1;
}

/* CPU 1 when we may run there (CPU 0 takes interrupts and housekeeping). */
static int pin(int want)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) || !CPU_ISSET(want, &set))
		want = sched_getcpu();
	if (want < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(want, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return -1;
	return want;
}

/* --- report -------------------------------------------------------------- */

/* The target of a case for a variant, as text; *ok tells whether it is met. */
static const char *target(const struct bcase *c, int v, char *buf, size_t len, int *ok)
{
	const struct bcase *known = &cases[KNOWN_V4];
	double limit = 0;

	*ok = -1;
	switch (c->target) {
	case T_NON_IPSEC:
		limit = 3;
		break;
	case T_IKE:
		limit = 8;
		break;
	case T_KNOWN_SA:
		limit = 15;
		break;
	case T_FLOOD:
		if (!known->ran[v])
			return "-";
		limit = 1.5 * (known->delta[v] > 1 ? known->delta[v] : 1);
		snprintf(buf, len, "<= 1.5x known (%.1f)", limit);
		*ok = c->delta[v] <= limit;
		return buf;
	case T_NONE:
		return "-";
	}
	snprintf(buf, len, "<= +%.0f ns", limit);
	*ok = c->delta[v] <= limit;
	return buf;
}

static void print_table(struct env *e, int filled)
{
	char buf[48];
	size_t c;
	int v, ok;

	printf("\n%-30s %-10s %8s %8s %6s  %-22s %s\n", "case", "program", "bare ns", "+ns", "iqr",
	       "target", "met");
	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		const struct bcase *bc = &cases[c];

		for (v = 0; v < V_MAX; v++) {
			const char *t;

			if (!bc->ran[v])
				continue;
			t = target(bc, v, buf, sizeof(buf), &ok);
			printf("%-30s %-10s %8.1f %8.1f %6.1f  %-22s %s\n", bc->name,
			       variant_name[v], bc->bare[v], bc->delta[v], bc->iqr[v], t,
			       ok < 0 ? "" :
			       ok     ? "met" :
					"not met");
		}
	}
	printf("\nsetup: sa_stats filled to max_entries (%u rows, %d random from userspace, "
	       "counted in sa_filter), known SAs have rows, a monitor's heartbeat and address "
	       "list are in place, the "
	       "kernel lookup's revalidation period is set past the run (the hit path is what "
	       "is measured). +ns: median over trials of (program - bare program of the same "
	       "hook), from the kernel's integer `duration`; iqr: the interquartile range of "
	       "those differences over the trials, the host's noise (a change smaller than it "
	       "is not shown by one run); driven cases rewrite the SPI per "
	       "packet and tail-call either program.\n",
	       bpf_map__max_entries(e->clf->maps.sa_stats), filled);
}

/* The floors: what the parts of a packet's path cost on this machine. */
static int print_references(struct env *e)
{
	static const char *const what[] = { "one count (per-CPU array)",
					    "per-CPU hash lookup, 24-byte key, 8192 rows",
					    "bpf_ktime_get_coarse_ns()",
					    "bpf_jiffies64()",
					    "least classifier: Ethernet + IPv4, one count",
					    "least known SA: that + ESP, one per-CPU slot" };
	struct bpf_program *ref[] = {
		e->base->progs.bench_count,	   e->base->progs.bench_ref_hash,
		e->base->progs.bench_ref_clock,	   e->base->progs.bench_ref_jiffies,
		e->base->progs.bench_ref_classify, e->base->progs.bench_ref_slot
	};
	struct ipsm_sa_key k = { .proto = 50, .spi = htonl(0x1100), .daddr = { 198, 51, 100, 1 } };
	const struct pkt_buf *b = &cases[KNOWN_V4].b;
	int fd[2] = { bpf_program__fd(e->base->progs.bench_pass) };
	void *zero = calloc(e->ncpus, 8);
	unsigned int seed = 7;
	double bare, delta;
	size_t r;
	int err, i;

	if (!zero)
		return -ENOMEM;
	/* The reference table as full as sa_stats, the looked-up key among the rows. */
	bpf_map_update_elem(bpf_map__fd(e->base->maps.ref_hash), &k, zero, BPF_ANY);
	for (i = 1; i < 8192; i++) {
		k.spi = rand_r(&seed) | 1;
		bpf_map_update_elem(bpf_map__fd(e->base->maps.ref_hash), &k, zero, BPF_ANY);
	}
	free(zero);
	printf("\nreference (xdp, + ns over the bare program):\n");
	for (r = 0; r < ARRAY_SIZE(ref); r++) {
		fd[1] = bpf_program__fd(ref[r]);
		err = run_pair(e, b, fd, XDP_PASS_, &bare, &delta, NULL);
		if (err)
			return err;
		printf("  %-46s %6.1f\n", what[r], delta);
	}
	/* The flood's floor, driven as the flood cases are: a new SPI per packet. */
	if (cases[FLOOD_LOCAL].drive != D_RANDOM || cases[FLOOD_LOCAL].transit)
		return -EINVAL; /* FLOOD_LOCAL must name the local flood case */
	drivers(e, false, fd);
	err = set_target(e, false, bpf_program__fd(e->base->progs.bench_ref_bad_spi));
	if (!err)
		err = set_drive(e, &cases[FLOOD_LOCAL]);
	if (!err)
		err = run_pair(e, &cases[FLOOD_LOCAL].b, fd, XDP_PASS_, &bare, &delta, NULL);
	if (err)
		return err;
	printf("  %-46s %6.1f\n", "least bad SPI: slot missed, filter, offender", delta);
	return 0;
}

/* Whether -k lets case i run; a flood's target is relative to the known-SA case. */
static bool selected(const struct env *e, size_t i)
{
	size_t c;

	if (!e->only || strstr(cases[i].name, e->only))
		return true;
	if (i != KNOWN_V4)
		return false;
	for (c = 0; c < ARRAY_SIZE(cases); c++)
		if (cases[c].target == T_FLOOD && strstr(cases[c].name, e->only))
			return true;
	return false;
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-t trials] [-r repeat] [-c cpu] [-k text] [-R]\n"
		"  -t  interleaved trials per case, odd, default 15\n"
		"  -r  packets per BPF_PROG_TEST_RUN call, default 1000000\n"
		"  -c  CPU to pin to, default 1\n"
		"  -k  only the cases whose name contains text (the known-SA\n"
		"      case runs too when a flood case does: its target needs it)\n"
		"  -R  no reference lines\n",
		prog);
}

static int load(struct env *e)
{
	struct bpf_program *prog;
	int err;

	e->have[V_XDP] = e->have[V_TC_IN] = e->have[V_TC_EG] = true;
	e->have[V_XDP_KFUNC] = bpf_env_has_kfunc();
	e->clf = ipsecmon__open();
	if (!e->clf)
		return -errno;
	bpf_object__for_each_program(prog, e->clf->obj)
		if (prog == e->clf->progs.ipsecmon_xdp_kfunc && !e->have[V_XDP_KFUNC])
			bpf_program__set_autoload(prog, false);
	/* Known rows stay trusted for the whole run: the hit path is measured. */
	e->clf->rodata->revalidate_ns = 1ULL << 62;
	err = ipsecmon__load(e->clf);
	if (err)
		return err;
	e->clf_fd[V_XDP] = bpf_program__fd(e->clf->progs.ipsecmon_xdp);
	e->clf_fd[V_XDP_KFUNC] =
		e->have[V_XDP_KFUNC] ? bpf_program__fd(e->clf->progs.ipsecmon_xdp_kfunc) : -1;
	e->clf_fd[V_TC_IN] = bpf_program__fd(e->clf->progs.ipsecmon_tc_ingress);
	e->clf_fd[V_TC_EG] = bpf_program__fd(e->clf->progs.ipsecmon_tc_egress);

	e->base = bench_pass__open_and_load();
	if (!e->base)
		return -errno;
	{
		int fx = bpf_program__fd(e->base->progs.bench_pass);
		int ft = bpf_program__fd(e->base->progs.bench_pass_tc);
		__u32 k = 0;

		if (bpf_map_update_elem(bpf_map__fd(e->base->maps.xdp_targets), &k, &fx, BPF_ANY) ||
		    bpf_map_update_elem(bpf_map__fd(e->base->maps.tc_targets), &k, &ft, BPF_ANY))
			return -errno;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct env e = { .trials = 15, .repeat = 1000000, .cpu = 1 };
	char jit[32], harden[32], stats[32];
	long long steal0, steal1;
	struct utsname u;
	int opt, err, filled = 0, v;
	bool no_refs = false;
	size_t i;

	while ((opt = getopt(argc, argv, "t:r:c:k:Rh")) != -1) {
		switch (opt) {
		case 't':
			e.trials = atoi(optarg);
			break;
		case 'r':
			e.repeat = strtoul(optarg, NULL, 0);
			break;
		case 'c':
			e.cpu = atoi(optarg);
			break;
		case 'k':
			e.only = optarg;
			break;
		case 'R':
			no_refs = true;
			break;
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (e.trials < 1 || e.trials > MAX_TRIALS || !e.repeat) {
		usage(argv[0]);
		return 2;
	}
	libbpf_set_print(bpf_env_print);
	e.ncpus = libbpf_num_possible_cpus();
	if (e.ncpus <= 0) {
		fprintf(stderr, "cannot count possible CPUs\n");
		return 1;
	}
	e.cpu = pin(e.cpu);
	err = load(&e);
	if (err) {
		fprintf(stderr, "loading the programs: %s\n", strerror(-err));
		goto cleanup;
	}
	err = prepare(&e, &filled);
	if (err) {
		fprintf(stderr, "preparing the maps: %s\n", strerror(-err));
		goto cleanup;
	}

	uname(&u);
	read_sysctl("/proc/sys/net/core/bpf_jit_enable", jit, sizeof(jit));
	read_sysctl("/proc/sys/net/core/bpf_jit_harden", harden, sizeof(harden));
	read_sysctl("/proc/sys/kernel/bpf_stats_enabled", stats, sizeof(stats));
	printf("# bench: kernel %s %s, bpf_jit_enable=%s bpf_jit_harden=%s bpf_stats_enabled=%s, "
	       "cpu %d, %d trials x %u packets, BPF_PROG_TEST_RUN%s\n",
	       u.release, u.machine, jit, harden, stats, e.cpu, e.trials, e.repeat,
	       e.have[V_XDP_KFUNC] ? "" : "; no bpf_xdp_get_xfrm_state: xdp_kfunc not measured");
	fflush(stdout);

	steal0 = steal_ticks(e.cpu);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		if (!selected(&e, i))
			continue;
		for (v = 0; v < V_MAX; v++) {
			if (!e.have[v])
				continue;
			err = measure(&e, &cases[i], v);
			if (err) {
				fprintf(stderr, "%s on %s: test run: %s\n", cases[i].name,
					variant_name[v], strerror(-err));
				goto cleanup;
			}
		}
		fprintf(stderr, "  %s done\n", cases[i].name);
	}
	steal1 = steal_ticks(e.cpu);
	print_table(&e, filled);
	err = no_refs ? 0 : print_references(&e);
	if (err)
		goto cleanup;
	if (steal0 >= 0 && steal1 >= 0)
		printf("steal on cpu %d during the run: %lld ticks\n", e.cpu, steal1 - steal0);
	err = 0;
cleanup:
	bench_pass__destroy(e.base);
	ipsecmon__destroy(e.clf);
	return err ? 1 : 0;
}
