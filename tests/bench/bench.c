// SPDX-License-Identifier: GPL-2.0
/*
 * Classifier cost under BPF_PROG_TEST_RUN: ns per packet of ipsecmon_xdp
 * against a bare XDP_PASS program (and one that does a single per-CPU array
 * increment), in one run, interleaved, so that the host's drift hits all
 * programs alike. Method and targets: performance-anchors.md §3.6, §7A.
 *
 * Numbers are hot-cache (the same frame, the same hash bucket, every time)
 * and informative only: the exit status is 0 whatever they are.
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
#include <bpf/libbpf.h>

#include "ipsecmon.h"
#include "ipsecmon.skel.h"
#include "bench_pass.skel.h"
#include "pkt.h"

#define XDP_PASS_ 2
#define FRAME_MAX 512
#define MAX_TRIALS 1001
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum prog_id {
	P_BARE = 0,
	P_COUNT,
	P_CLF,
	P_MAX,
};

enum target_kind {
	T_NONE = 0,
	T_NON_IPSEC, /* Δ <= 5 ns */
	T_KNOWN_SA, /* Δ <= 35 ns */
	T_FLOOD, /* judged against the known-SA case below the table */
};

struct bcase {
	const char *name;
	struct pkt_spec s;
	enum target_kind target;
	bool flood; /* SPI picked at run time, not in the (full) SA table */
	/* filled while running */
	struct pkt_buf b;
	__u8 frame[FRAME_MAX];
	double med[P_MAX]; /* median duration, ns */
	double delta; /* median per-trial clf - bare, ns */
	double ratio; /* median per-trial clf / bare */
	double wall_delta; /* the same from clock_gettime, fractional ns */
};

static struct bcase cases[] = {
	{ "tcp_v4 (non-IPsec)", { .l3 = 4, .l4 = PKT_L4_TCP, .payload_len = 64 }, T_NON_IPSEC },
	{ "esp_v4 known SA",
	  { .l3 = 4, .l4 = PKT_L4_ESP, .spi = 0x1001, .seq = 1, .payload_len = 64 },
	  T_KNOWN_SA },
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
	  T_KNOWN_SA },
	{ "esp_v4 random-SPI flood",
	  { .l3 = 4, .l4 = PKT_L4_ESP, .seq = 1, .payload_len = 64 },
	  T_FLOOD,
	  true },
	{ "ikev2_v4 udp/500",
	  { .l3 = 4,
	    .l4 = PKT_L4_UDP_IKE,
	    .ike_ver = 2,
	    .ike_exch = 34,
	    .ike_flags = 0x08,
	    .payload_len = 200 },
	  T_NONE },
};

#define KNOWN_CASE 1 /* esp_v4 known SA: the flood's reference */
#define FLOOD_CASE 4

struct env {
	struct ipsecmon *clf;
	struct bench_pass *base;
	int prog_fd[P_MAX];
	int trials;
	__u32 repeat;
	int cpu;
	int ncpus;
};

static int run_once(int fd, const struct pkt_buf *b, __u32 repeat, double *dur, double *wall)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = b->data, .data_size_in = b->len,
		    .repeat = repeat);
	struct timespec t0, t1;
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = bpf_prog_test_run_opts(fd, &o);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (err)
		return err;
	if (o.retval != XDP_PASS_)
		return -EPROTO;
	*dur = o.duration;
	*wall = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / repeat;
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

/*
 * Trials alternate the order (bare count clf, then clf count bare: A B B A),
 * so a slow drift of the host adds the same to every program.
 */
static int measure(struct env *e, struct bcase *c)
{
	static double dur[P_MAX][MAX_TRIALS], wall[P_MAX][MAX_TRIALS];
	static double delta[MAX_TRIALS], ratio[MAX_TRIALS], wdelta[MAX_TRIALS];
	int t, i, p, err;

	for (t = 0; t < e->trials; t++) {
		for (i = 0; i < P_MAX; i++) {
			p = t % 2 ? P_MAX - 1 - i : i;
			err = run_once(e->prog_fd[p], &c->b, e->repeat, &dur[p][t], &wall[p][t]);
			if (err)
				return err;
		}
		delta[t] = dur[P_CLF][t] - dur[P_BARE][t];
		ratio[t] = dur[P_CLF][t] / dur[P_BARE][t];
		wdelta[t] = wall[P_CLF][t] - wall[P_BARE][t];
	}
	for (p = 0; p < P_MAX; p++)
		c->med[p] = median(dur[p], e->trials);
	c->delta = median(delta, e->trials);
	c->ratio = median(ratio, e->trials);
	c->wall_delta = median(wdelta, e->trials);
	return 0;
}

/* --- setup --------------------------------------------------------------- */

static int read_dp(struct env *e, struct ipsm_dp *sum)
{
	struct ipsm_dp *v = calloc(e->ncpus, sizeof(*v));
	__u32 k = 0;
	int i;

	if (!v)
		return -ENOMEM;
	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(bpf_map__fd(e->clf->maps.dp), &k, v)) {
		free(v);
		return -errno;
	}
	for (i = 0; i < e->ncpus; i++) {
		sum->sa_inserts += v[i].sa_inserts;
		sum->untracked_packets += v[i].untracked_packets;
		sum->table_full += v[i].table_full;
	}
	free(v);
	return 0;
}

static void sa_key_of(const struct pkt_buf *b, __u32 spi, struct ipsm_sa_key *k)
{
	memset(k, 0, sizeof(*k));
	k->dir = IPSM_DIR_RX;
	k->proto = PKT_IPPROTO_ESP;
	k->family = b->l3_ver == 4 ? IPSM_AF_IPV4 : IPSM_AF_IPV6;
	k->spi = htonl(spi);
	memcpy(k->daddr, b->daddr, 16);
}

/*
 * Fill sa_stats to max_entries with random IPv4 keys from userspace, so
 * that an unknown SPI can only miss: what a random-SPI flood reaches once
 * it has filled the table. Returns the number of rows added.
 */
static int fill_table(struct env *e, unsigned int *seed)
{
	void *zero = calloc(e->ncpus, (sizeof(struct ipsm_sa_val) + 7) & ~7UL);
	int fd = bpf_map__fd(e->clf->maps.sa_stats), n = 0, err = 0;
	struct ipsm_sa_key k;

	if (!zero)
		return -ENOMEM;
	for (;;) {
		memset(&k, 0, sizeof(k));
		k.proto = PKT_IPPROTO_ESP;
		k.spi = (__u32)rand_r(seed) << 1 | 1;
		k.daddr[0] = 10;
		k.daddr[1] = rand_r(seed);
		k.daddr[2] = rand_r(seed);
		k.daddr[3] = rand_r(seed);
		if (!bpf_map_update_elem(fd, &k, zero, BPF_NOEXIST)) {
			n++;
			continue;
		}
		if (errno == EEXIST)
			continue;
		err = errno == E2BIG ? 0 : -errno;
		break;
	}
	free(zero);
	return err ? err : n;
}

/* An SPI (for the flood frame's daddr) that has no row. */
static int unknown_spi(struct env *e, const struct pkt_buf *b, unsigned int *seed, __u32 *out)
{
	void *v = calloc(e->ncpus, (sizeof(struct ipsm_sa_val) + 7) & ~7UL);
	int fd = bpf_map__fd(e->clf->maps.sa_stats), err;
	struct ipsm_sa_key k;

	if (!v)
		return -ENOMEM;
	do {
		*out = (__u32)rand_r(seed) | 0x80000000;
		sa_key_of(b, *out, &k);
		err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
	} while (!err);
	free(v);
	return err == -ENOENT ? 0 : err;
}

static int prepare(struct env *e, int *filled)
{
	int fd = bpf_map__fd(e->clf->maps.sa_stats), err;
	unsigned int seed = 12345;
	double d, w;
	size_t i;

	/* Known SAs: the datapath's own first packet creates their rows. */
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bcase *c = &cases[i];
		struct ipsm_sa_key k;
		void *v;

		pkt_init(&c->b, c->frame, sizeof(c->frame));
		if (c->flood)
			continue;
		err = pkt_build(&c->b, &c->s);
		if (err)
			return err;
		if (c->s.l4 != PKT_L4_ESP)
			continue;
		err = run_once(e->prog_fd[P_CLF], &c->b, 1, &d, &w);
		if (err)
			return err;
		v = calloc(e->ncpus, (sizeof(struct ipsm_sa_val) + 7) & ~7UL);
		if (!v)
			return -ENOMEM;
		sa_key_of(&c->b, c->s.spi, &k);
		err = bpf_map_lookup_elem(fd, &k, v) ? -errno : 0;
		free(v);
		if (err) {
			fprintf(stderr, "%s: the datapath made no SA row\n", c->name);
			return err;
		}
	}

	*filled = fill_table(e, &seed);
	if (*filled < 0)
		return *filled;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct bcase *c = &cases[i];

		if (!c->flood)
			continue;
		/* daddr first, then an SPI without a row for it */
		err = pkt_build(&c->b, &c->s);
		if (err)
			return err;
		err = unknown_spi(e, &c->b, &seed, &c->s.spi);
		if (!err)
			err = pkt_build(&c->b, &c->s);
		if (err)
			return err;
	}
	return 0;
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

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* --- report -------------------------------------------------------------- */

static const char *met(bool ok)
{
	return ok ? "met" : "not met";
}

static void print_table(struct env *e, int filled, const struct ipsm_dp *dp)
{
	const struct bcase *k = &cases[KNOWN_CASE], *f = &cases[FLOOD_CASE];
	double fr_delta, fr_abs;
	size_t i;

	/* Header by hand: printf pads bytes, and "Δ" takes two. */
	printf("\ncase                      bare ns count ns   clf ns     Δns   ratio  Δns wall"
	       "  target       met\n");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bcase *c = &cases[i];
		const char *target = "-", *verdict = "";

		switch (c->target) {
		case T_NON_IPSEC:
			target = "d <= 5";
			verdict = met(c->delta <= 5);
			break;
		case T_KNOWN_SA:
			target = "d <= 35";
			verdict = met(c->delta <= 35);
			break;
		case T_FLOOD:
			target = "<= 2x known";
			verdict = "see below";
			break;
		case T_NONE:
			break;
		}
		printf("%-24s %8.1f %8.1f %8.1f %7.1f %7.3f %9.2f  %-12s %s\n", c->name,
		       c->med[P_BARE], c->med[P_COUNT], c->med[P_CLF], c->delta, c->ratio,
		       c->wall_delta, target, verdict);
	}

	/* The flood target is on the program's own cost (Δ over the bare hook). */
	fr_delta = k->delta > 0 ? f->delta / k->delta : INFINITY;
	fr_abs = f->med[P_CLF] / k->med[P_CLF];
	printf("\nflood / known SA: Δ ratio %.2f (target ≤ 2.00: %s), absolute ratio %.2f\n",
	       fr_delta, met(fr_delta <= 2.0), fr_abs);
	printf("flood setup: sa_stats filled to max_entries (%u rows, %d random from userspace); "
	       "flood SPI 0x%08x; after the run: table_full %llu, untracked %llu, sa_inserts %llu\n",
	       bpf_map__max_entries(e->clf->maps.sa_stats), filled, f->s.spi,
	       (unsigned long long)dp->table_full, (unsigned long long)dp->untracked_packets,
	       (unsigned long long)dp->sa_inserts);
	printf("Δns, ratio: medians of per-trial paired values (clf - bare, clf / bare) from the "
	       "kernel's integer `duration`;\nΔns wall: the same from clock_gettime around each "
	       "syscall (includes the syscall's fixed cost / repeat).\n");
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-t trials] [-r repeat] [-c cpu]\n"
		"  -t  interleaved trials per case, odd, default 21\n"
		"  -r  packets per BPF_PROG_TEST_RUN call, default 2000000\n"
		"  -c  CPU to pin to, default 1\n",
		prog);
}

int main(int argc, char **argv)
{
	struct env e = { .trials = 21, .repeat = 2000000, .cpu = 1 };
	char jit[32], harden[32], stats[32];
	long long steal0, steal1;
	struct utsname u;
	struct bpf_program *prog;
	struct ipsm_dp dp;
	int opt, err, filled = 0;
	size_t i;

	while ((opt = getopt(argc, argv, "t:r:c:h")) != -1) {
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
		default:
			usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (e.trials < 1 || e.trials > MAX_TRIALS || !e.repeat) {
		usage(argv[0]);
		return 2;
	}
	libbpf_set_print(print_fn);
	e.ncpus = libbpf_num_possible_cpus();
	if (e.ncpus <= 0) {
		fprintf(stderr, "cannot count possible CPUs\n");
		return 1;
	}
	e.cpu = pin(e.cpu);

	e.clf = ipsecmon__open();
	if (!e.clf) {
		fprintf(stderr, "opening ipsecmon: %s\n", strerror(errno));
		return 1;
	}
	/* Only the XDP classifier: other programs may need what this kernel lacks. */
	bpf_object__for_each_program(prog, e.clf->obj) {
		if (prog != e.clf->progs.ipsecmon_xdp)
			bpf_program__set_autoload(prog, false);
	}
	err = ipsecmon__load(e.clf);
	if (err) {
		fprintf(stderr, "loading ipsecmon: %s\n", strerror(-err));
		goto cleanup;
	}
	e.base = bench_pass__open_and_load();
	if (!e.base) {
		err = -errno;
		fprintf(stderr, "loading bench_pass: %s\n", strerror(-err));
		goto cleanup;
	}
	e.prog_fd[P_BARE] = bpf_program__fd(e.base->progs.bench_pass);
	e.prog_fd[P_COUNT] = bpf_program__fd(e.base->progs.bench_count);
	e.prog_fd[P_CLF] = bpf_program__fd(e.clf->progs.ipsecmon_xdp);

	err = prepare(&e, &filled);
	if (err) {
		fprintf(stderr, "preparing the SA table: %s\n", strerror(-err));
		goto cleanup;
	}

	uname(&u);
	read_sysctl("/proc/sys/net/core/bpf_jit_enable", jit, sizeof(jit));
	read_sysctl("/proc/sys/net/core/bpf_jit_harden", harden, sizeof(harden));
	read_sysctl("/proc/sys/kernel/bpf_stats_enabled", stats, sizeof(stats));
	printf("# bench: kernel %s %s, bpf_jit_enable=%s bpf_jit_harden=%s bpf_stats_enabled=%s, "
	       "cpu %d, %d trials x %u packets, BPF_PROG_TEST_RUN xdp\n",
	       u.release, u.machine, jit, harden, stats, e.cpu, e.trials, e.repeat);
	fflush(stdout);

	steal0 = steal_ticks(e.cpu);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		err = measure(&e, &cases[i]);
		if (err) {
			fprintf(stderr, "%s: test run: %s\n", cases[i].name, strerror(-err));
			goto cleanup;
		}
		fprintf(stderr, "  %s done\n", cases[i].name);
	}
	steal1 = steal_ticks(e.cpu);

	err = read_dp(&e, &dp);
	if (err)
		memset(&dp, 0, sizeof(dp));
	print_table(&e, filled, &dp);
	if (steal0 >= 0 && steal1 >= 0)
		printf("steal on cpu %d during the run: %lld ticks\n", e.cpu, steal1 - steal0);
	err = 0;
cleanup:
	bench_pass__destroy(e.base);
	ipsecmon__destroy(e.clf);
	return err ? 1 : 0;
}
