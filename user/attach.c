// SPDX-License-Identifier: GPL-2.0
/*
 * Attach lifecycle. The datapath is loaded once per interface and its
 * programs and maps pinned; hooks are attached over netlink (XDP, and tc
 * filters on clsact), so they stay after this process exits. Detach takes
 * away only what the pinned metadata says attach made, and only while it is
 * still our program in place.
 */
#include <errno.h>
#include <net/if.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/sockios.h>
#include <linux/if_link.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "attach.h"
#include "dp_config.h"
#include "ipsecmon.skel.h"
#include "log.h"
#include "maps.h"
#include "tc_filters.h"

static const char *const prog_pin[IPSM_HOOK_MAX] = { "xdp", "tc_ingress", "tc_egress" };

/* Everything we hold for one interface while attaching or detaching. */
struct iface_ctx {
	char dir[PATH_MAX];
	int ifindex;
	int prog_fd[IPSM_HOOK_MAX];
	struct ipsm_iface_meta meta;
};

static void ctx_close(struct iface_ctx *c)
{
	int h;

	for (h = 0; h < IPSM_HOOK_MAX; h++) {
		if (c->prog_fd[h] >= 0)
			close(c->prog_fd[h]);
		c->prog_fd[h] = -1;
	}
}

static int meta_access(const char *dir, struct ipsm_iface_meta *m, bool write)
{
	char path[PATH_MAX];
	__u32 key = 0;
	int fd, err;

	pins_path(path, sizeof(path), dir, ipsm_maps[IPSM_MAP_IFACE_META].name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	err = write ? bpf_map_update_elem(fd, &key, m, BPF_ANY) : bpf_map_lookup_elem(fd, &key, m);
	if (err)
		err = -errno;
	close(fd);
	if (!err && !write && m->abi != IPSM_ABI_VERSION)
		return -EPROTO;
	return err;
}

static __u32 prog_id(int fd)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.id;
}

/* max_entries of a pinned map, 0 if it is not pinned. */
static __u32 pinned_max_entries(const char *path)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

static int load_err(int err)
{
	/* EACCES is the verifier's answer; privileges were checked up front. */
	if (err == -EPERM)
		return ipsm_error(IPSM_EXIT_PERM, err,
				  "the kernel refused to load the datapath: %s", strerror(-err));
	return ipsm_error(IPSM_EXIT_KERNEL, err,
			  "cannot load the datapath: %s (run with -v for the verifier's log)",
			  strerror(-err));
}

/* Whether the running kernel has the XDP SA lookup kfunc (Linux 6.8+). */
static bool kernel_has_xfrm_kfunc(void)
{
	struct btf *btf;
	bool found;

	log_libbpf_quiet(1);
	btf = btf__load_vmlinux_btf();
	log_libbpf_quiet(0);
	if (!btf)
		return false;
	found = btf__find_by_name_kind(btf, "bpf_xdp_get_xfrm_state", BTF_KIND_FUNC) >= 0;
	btf__free(btf);
	return found;
}

/*
 * Whether the datapath may skip the table's lookup where sa_filter counts
 * no row. trust 1: the table was made now, with its filter; 0: both were
 * pinned, the filter as trusted as it was; -1: rows were pinned without
 * their filter (a removal cut short), so the new one misses them, for good.
 */
static int trust_filter(int fd_corr, int trust)
{
	struct dp_config dc = { .fd_corr = fd_corr, .fd_addrs = -1, .fd_marks = -1 };

	if (!trust)
		return 0;
	if (trust < 0)
		pr_warn("the SA table's filter was missing from its pins: every miss looks the "
			"table up until all interfaces of the namespace are detached");
	return dp_config_row_filter(&dc, trust > 0);
}

/* Remove the pins of the programs in mask (a load cut short). */
static void unpin_progs(struct iface_ctx *c, __u32 mask)
{
	char path[PATH_MAX];
	int h;

	for (h = 0; h < IPSM_HOOK_MAX; h++) {
		if (!(mask & (1U << h)))
			continue;
		pins_path(path, sizeof(path), c->dir, prog_pin[h]);
		unlink(path);
		if (c->prog_fd[h] >= 0)
			close(c->prog_fd[h]);
		c->prog_fd[h] = -1;
		c->meta.prog_id[h] = 0;
	}
}

/*
 * Load the programs of the hooks in want and pin them, with the maps
 * pinned where they belong (made now, or reused from their pins). fresh:
 * the interface has no pins yet; else c->meta is what open_iface() read
 * and the programs loaded before are kept. Only the programs of hooks
 * asked for are loaded, another later when a hook is added: verifying a
 * program is most of an attach's time, and a hook never used needs none.
 */
static int load_iface(const struct ipsm_paths *p, struct iface_ctx *c, const char *ifname,
		      const struct attach_opts *o, __u32 want, bool fresh)
{
	struct bpf_program *progs[IPSM_HOOK_MAX];
	__u32 max, pinned = 0;
	char path[PATH_MAX];
	int filter_trust = 0;
	struct ipsecmon *skel;
	struct bpf_map *map;
	int h, err;

	skel = ipsecmon__open();
	if (!skel)
		return load_err(-errno);
	/* One of the two XDP programs: the kernel's SA lookup where it exists. */
	if (fresh) {
		c->meta.xdp_kfunc = kernel_has_xfrm_kfunc();
		c->meta.inserts_per_sec = o->inserts_per_sec;
	}
	progs[IPSM_HOOK_XDP] = c->meta.xdp_kfunc ? skel->progs.ipsecmon_xdp_kfunc :
						   skel->progs.ipsecmon_xdp;
	bpf_program__set_autoload(c->meta.xdp_kfunc ? skel->progs.ipsecmon_xdp :
						      skel->progs.ipsecmon_xdp_kfunc,
				  false);
	progs[IPSM_HOOK_TC_INGRESS] = skel->progs.ipsecmon_tc_ingress;
	progs[IPSM_HOOK_TC_EGRESS] = skel->progs.ipsecmon_tc_egress;
	for (h = 0; h < IPSM_HOOK_MAX; h++)
		if (!(want & (1U << h)))
			bpf_program__set_autoload(progs[h], false);

	/* Per-interface maps in the interface's directory, shared ones above it. */
	bpf_object__for_each_map(map, skel->obj) {
		const struct ipsm_map_def *def = ipsm_map_find(bpf_map__name(map));

		if (bpf_map__is_internal(map))
			continue;
		if (!def) {
			err = ipsm_error(IPSM_EXIT_FAIL, -EINVAL, "map %s is missing from maps.c",
					 bpf_map__name(map));
			goto out_destroy;
		}
		ipsm_map_path(p, c->ifindex, def - ipsm_maps, path, sizeof(path));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			goto out_destroy;
	}
	/* The namespace's SA table may exist already, with its own size. */
	ipsm_map_path(p, 0, IPSM_MAP_SA_STATS, path, sizeof(path));
	max = pinned_max_entries(path);
	ipsm_map_path(p, 0, IPSM_MAP_SA_FILTER, path, sizeof(path));
	if (fresh)
		filter_trust = !max ? 1 : access(path, F_OK) ? -1 : 0;
	err = bpf_map__set_max_entries(skel->maps.sa_stats, max ? max : o->max_sas);
	if (!err)
		err = bpf_map__set_max_entries(skel->maps.sa_info, max ? max : o->max_sas);
	if (err)
		goto out_destroy;
	/* A program added later counts within the budget the first ones got. */
	skel->rodata->inserts_per_sec = c->meta.inserts_per_sec ? c->meta.inserts_per_sec :
								  o->inserts_per_sec;

	if (fresh && mkdir(c->dir, 0700) && errno != EEXIST) {
		err = ipsm_error(IPSM_EXIT_BPFFS, -errno, "cannot create %s: %s", c->dir,
				 strerror(errno));
		goto out_destroy;
	}
	err = ipsecmon__load(skel);
	if (err) {
		err = load_err(err);
		goto out_unpin;
	}
	err = trust_filter(bpf_map__fd(skel->maps.correlation), filter_trust);
	if (err) {
		err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot set up the SA table's filter: %s",
				 strerror(-err));
		goto out_unpin;
	}
	for (h = 0; h < IPSM_HOOK_MAX; h++) {
		if (!(want & (1U << h)))
			continue;
		pins_path(path, sizeof(path), c->dir, prog_pin[h]);
		err = bpf_program__pin(progs[h], path);
		if (err) {
			err = ipsm_error(IPSM_EXIT_BPFFS, err, "cannot pin %s: %s", path,
					 strerror(-err));
			goto out_unpin;
		}
		pinned |= 1U << h;
		c->prog_fd[h] = dup(bpf_program__fd(progs[h]));
		c->meta.prog_id[h] = prog_id(c->prog_fd[h]);
	}
	/*
	 * A program added later is recorded by the attach that uses it, once
	 * its hook is on: open_iface() takes its id from the pin till then.
	 */
	if (fresh) {
		c->meta.abi = IPSM_ABI_VERSION;
		c->meta.ifindex = c->ifindex;
		snprintf(c->meta.name, sizeof(c->meta.name), "%s", ifname);
		c->meta.attached_at = time(NULL);
		err = meta_access(c->dir, &c->meta, true);
		if (err) {
			err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot record attach state: %s",
					 strerror(-err));
			goto out_unpin;
		}
	}
	ipsecmon__destroy(skel);
	return 0;

out_unpin:
	if (fresh) {
		ctx_close(c);
		/* Only this interface's pins; shared maps go with pins_cleanup_ns(). */
		pins_remove_dir(c->dir);
		pins_cleanup_ns(p);
	} else {
		/* What was attached before stays as it was. */
		unpin_progs(c, pinned);
	}
out_destroy:
	ipsecmon__destroy(skel);
	return err;
}

/*
 * An attach that did not finish (killed while it loaded): the directory,
 * maybe some pins, no metadata written. Hooks come only after the
 * metadata, so none is attached: it can be made again from the start.
 */
static bool unfinished_attach(const char *dir)
{
	struct ipsm_iface_meta m = {};
	int err = meta_access(dir, &m, false);

	return err == -ENOENT || (err == -EPROTO && !m.abi);
}

/* Open the pinned programs and metadata of an interface attached before. */
static int open_iface(struct iface_ctx *c)
{
	char path[PATH_MAX];
	int h, err;

	err = meta_access(c->dir, &c->meta, false);
	if (err == -EPROTO)
		return ipsm_error(
			IPSM_EXIT_FAIL, err,
			"%s was pinned by another version of ipsecmon-bpf; detach it first",
			c->dir);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot read %s/iface_meta: %s", c->dir,
				  strerror(-err));
	for (h = 0; h < IPSM_HOOK_MAX; h++) {
		pins_path(path, sizeof(path), c->dir, prog_pin[h]);
		c->prog_fd[h] = bpf_obj_get(path);
		if (c->prog_fd[h] >= 0) {
			/* The pin, not the record: an attach killed after pinning it wrote none. */
			c->meta.prog_id[h] = prog_id(c->prog_fd[h]);
			continue;
		}
		err = -errno;
		/* Never loaded: no hook asked for it yet (see load_iface()). */
		if (err == -ENOENT && !(c->meta.hooks & (1U << h))) {
			c->meta.prog_id[h] = 0;
			continue;
		}
		ctx_close(c);
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot open %s: %s", path, strerror(-err));
	}
	return 0;
}

/* The hooks whose programs are loaded (pinned and open). */
static __u32 loaded_hooks(const struct iface_ctx *c)
{
	__u32 mask = 0;
	int h;

	for (h = 0; h < IPSM_HOOK_MAX; h++)
		if (c->prog_fd[h] >= 0)
			mask |= 1U << h;
	return mask;
}

static int xdp_attached_id(int ifindex, __u32 *id, __u32 *mode_flags)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	int err;

	err = bpf_xdp_query(ifindex, 0, &q);
	if (err)
		return err;
	*id = 0;
	*mode_flags = 0;
	if (q.drv_prog_id) {
		*id = q.drv_prog_id;
		*mode_flags = XDP_FLAGS_DRV_MODE;
	} else if (q.skb_prog_id) {
		*id = q.skb_prog_id;
		*mode_flags = XDP_FLAGS_SKB_MODE;
	} else if (q.hw_prog_id) {
		*id = q.hw_prog_id;
		*mode_flags = XDP_FLAGS_HW_MODE;
	}
	return 0;
}

static void prog_name(__u32 id, char *buf, size_t len)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd;

	snprintf(buf, len, "?");
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return;
	if (!bpf_obj_get_info_by_fd(fd, &info, &ilen))
		snprintf(buf, len, "%s", info.name);
	close(fd);
}

/*
 * Drivers whose native XDP costs the traffic it watches: on veth it turns
 * GRO off (TCP through a veth drops to a third), virtio_net gives up its
 * offloads for it. There, "auto" means generic XDP, which sees the same
 * packets; --xdp-mode native still asks for the driver's.
 */
static bool native_xdp_harms(const char *ifname, char *driver, size_t len)
{
	static const char *const harmful[] = { "veth", "virtio_net" };
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = {};
	bool found = false;
	size_t i;
	int fd;

	driver[0] = '\0';
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return false;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (!ioctl(fd, SIOCETHTOOL, &ifr)) {
		snprintf(driver, len, "%s", info.driver);
		for (i = 0; i < sizeof(harmful) / sizeof(harmful[0]); i++)
			found |= !strcmp(info.driver, harmful[i]);
	}
	close(fd);
	return found;
}

static int xdp_attach(struct iface_ctx *c, const char *ifname, const struct attach_opts *o,
		      bool *attached_now)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo, .old_prog_fd = c->prog_fd[IPSM_HOOK_XDP]);
	__u32 modes[2] = {}, cur_id, cur_mode, flags, switched_from = 0;
	char name[64], driver[32];
	int n = 0, i, err;

	err = xdp_attached_id(c->ifindex, &cur_id, &cur_mode);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot query XDP on %s: %s", ifname,
				  strerror(-err));
	if (cur_id && cur_id == c->meta.prog_id[IPSM_HOOK_XDP]) {
		c->meta.xdp_flags = cur_mode;
		if (o->xdp_mode == IPSM_XDP_AUTO ||
		    cur_mode == (o->xdp_mode == IPSM_XDP_NATIVE ? XDP_FLAGS_DRV_MODE :
								  XDP_FLAGS_SKB_MODE))
			return 0;
		/* Ours, in the other mode: the kernel runs one mode at a time. */
		err = bpf_xdp_detach(c->ifindex, cur_mode | XDP_FLAGS_REPLACE, &xo);
		if (err)
			return ipsm_error(IPSM_EXIT_FAIL, err,
					  "cannot change the XDP mode on %s: %s", ifname,
					  strerror(-err));
		pr_info("%s: switching XDP to %s mode", ifname,
			o->xdp_mode == IPSM_XDP_NATIVE ? "native" : "skb");
		switched_from = cur_mode;
		cur_id = 0;
	}
	if (cur_id && !o->force) {
		prog_name(cur_id, name, sizeof(name));
		return ipsm_error(IPSM_EXIT_CONFLICT, -EBUSY,
				  "%s already runs XDP program %u (%s); use --force to replace it, "
				  "or --hooks tc-ingress,tc-egress",
				  ifname, cur_id, name);
	}
	if (o->xdp_mode == IPSM_XDP_NATIVE ||
	    (o->xdp_mode == IPSM_XDP_AUTO && !native_xdp_harms(ifname, driver, sizeof(driver))))
		modes[n++] = XDP_FLAGS_DRV_MODE;
	else if (o->xdp_mode == IPSM_XDP_AUTO)
		pr_info("%s: generic XDP (driver %s: native XDP would slow its traffic)", ifname,
			driver);
	if (o->xdp_mode != IPSM_XDP_NATIVE)
		modes[n++] = XDP_FLAGS_SKB_MODE;
	/* --force: replace in place where the mode allows, else remove theirs first. */
	if (cur_id && cur_mode != modes[0] && (n == 1 || cur_mode != modes[1])) {
		err = bpf_xdp_detach(c->ifindex, cur_mode, NULL);
		if (err)
			return ipsm_error(IPSM_EXIT_CONFLICT, err,
					  "cannot remove XDP program %u from %s: %s", cur_id,
					  ifname, strerror(-err));
		cur_id = 0;
	}
	for (i = 0; i < n; i++) {
		flags = modes[i] | (cur_id ? 0 : XDP_FLAGS_UPDATE_IF_NOEXIST);
		if (cur_id && modes[i] != cur_mode)
			continue;
		err = bpf_xdp_attach(c->ifindex, c->prog_fd[IPSM_HOOK_XDP], flags, NULL);
		if (!err) {
			c->meta.xdp_flags = modes[i];
			*attached_now = true;
			return 0;
		}
		if (err != -EOPNOTSUPP)
			break;
		pr_info("%s: no native XDP, trying generic", ifname);
	}
	/* A switch that failed puts ours back as it was: never no program. */
	if (switched_from && !bpf_xdp_attach(c->ifindex, c->prog_fd[IPSM_HOOK_XDP],
					     switched_from | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL))
		pr_warn("%s: kept XDP in %s mode", ifname,
			switched_from == XDP_FLAGS_DRV_MODE ? "native" : "skb");
	if (err == -EOPNOTSUPP)
		return ipsm_error(IPSM_EXIT_KERNEL, err,
				  "%s: the driver has no native XDP; use --xdp-mode skb or auto",
				  ifname);
	if (err == -EBUSY || err == -EEXIST)
		return ipsm_error(IPSM_EXIT_CONFLICT, err,
				  "%s: another XDP program was attached meanwhile", ifname);
	if (err == -EPERM)
		return ipsm_error(IPSM_EXIT_PERM, err, "not allowed to attach XDP on %s", ifname);
	return ipsm_error(IPSM_EXIT_FAIL, err, "cannot attach XDP on %s: %s", ifname,
			  strerror(-err));
}

static void tc_hook_init(struct bpf_tc_hook *h, int ifindex, int hook)
{
	memset(h, 0, sizeof(*h));
	h->sz = sizeof(*h);
	h->ifindex = ifindex;
	h->attach_point = hook == IPSM_HOOK_TC_INGRESS ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}

static void tc_opts_init(struct bpf_tc_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->sz = sizeof(*o);
	o->handle = IPSM_TC_HANDLE;
	o->priority = IPSM_TC_PRIORITY;
}

/* Program id of the filter at our handle/priority, 0 if none. */
static __u32 tc_attached_id(int ifindex, int hook)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts q;

	tc_hook_init(&h, ifindex, hook);
	tc_opts_init(&q);
	log_libbpf_quiet(1);
	if (bpf_tc_query(&h, &q))
		q.prog_id = 0;
	log_libbpf_quiet(0);
	return q.prog_id;
}

static int tc_attach(struct iface_ctx *c, const char *ifname, int hook, bool force,
		     bool *created_clsact, bool *attached_now)
{
	struct bpf_tc_hook h;
	struct bpf_tc_opts a;
	__u32 cur;
	int err;

	tc_hook_init(&h, c->ifindex, hook);
	log_libbpf_quiet(1);
	err = bpf_tc_hook_create(&h);
	log_libbpf_quiet(0);
	if (!err)
		*created_clsact = true;
	else if (err != -EEXIST)
		return ipsm_error(err == -EPERM ? IPSM_EXIT_PERM : IPSM_EXIT_FAIL, err,
				  "cannot create the clsact qdisc on %s: %s", ifname,
				  strerror(-err));

	cur = tc_attached_id(c->ifindex, hook);
	if (cur && cur == c->meta.prog_id[hook])
		return 0;
	if (cur && !force)
		return ipsm_error(IPSM_EXIT_CONFLICT, -EBUSY,
				  "%s: tc filter handle 0x%x priority %u is taken by program %u; "
				  "use --force to replace it",
				  ifname, IPSM_TC_HANDLE, IPSM_TC_PRIORITY, cur);
	tc_opts_init(&a);
	a.prog_fd = c->prog_fd[hook];
	a.flags = cur ? BPF_TC_F_REPLACE : 0;
	err = bpf_tc_attach(&h, &a);
	if (err)
		return ipsm_error(err == -EPERM ? IPSM_EXIT_PERM : IPSM_EXIT_FAIL, err,
				  "cannot attach %s on %s: %s", ipsm_hook_name(hook), ifname,
				  strerror(-err));
	*attached_now = true;
	return 0;
}

/* Remove our hooks in mask, each only while our program is the one there. */
static void undo_hooks(struct iface_ctx *c, __u32 mask, bool destroy_clsact)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, xo, .old_prog_fd = c->prog_fd[IPSM_HOOK_XDP]);
	struct bpf_tc_hook h;
	struct bpf_tc_opts d;
	char name[IF_NAMESIZE];
	__u32 id, mode;
	int hook, err;

	/* A deleted interface took its hooks and qdisc with it. */
	if (!if_indextoname(c->ifindex, name))
		return;
	if (mask & (1U << IPSM_HOOK_XDP)) {
		if (!xdp_attached_id(c->ifindex, &id, &mode) && id &&
		    id == c->meta.prog_id[IPSM_HOOK_XDP]) {
			/* REPLACE with our fd: the kernel detaches only if it is still ours. */
			err = bpf_xdp_detach(c->ifindex, mode | XDP_FLAGS_REPLACE, &xo);
			if (err)
				pr_warn("cannot detach XDP from ifindex %d: %s", c->ifindex,
					strerror(-err));
		}
	}
	for (hook = IPSM_HOOK_TC_INGRESS; hook <= IPSM_HOOK_TC_EGRESS; hook++) {
		if (!(mask & (1U << hook)))
			continue;
		if (tc_attached_id(c->ifindex, hook) != c->meta.prog_id[hook])
			continue;
		tc_hook_init(&h, c->ifindex, hook);
		tc_opts_init(&d);
		err = bpf_tc_detach(&h, &d);
		if (err)
			pr_warn("cannot detach %s from ifindex %d: %s", ipsm_hook_name(hook),
				c->ifindex, strerror(-err));
	}
	if (!destroy_clsact)
		return;
	err = tc_clsact_filter_count(c->ifindex);
	if (err != 0) {
		/* Filters of someone else's, or we cannot tell: leave the qdisc. */
		if (err > 0)
			pr_info("leaving clsact on ifindex %d: %d other filter(s) on it",
				c->ifindex, err);
		return;
	}
	tc_hook_init(&h, c->ifindex, IPSM_HOOK_TC_INGRESS);
	h.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
	err = bpf_tc_hook_destroy(&h);
	if (err && err != -ENOENT && err != -EINVAL)
		pr_warn("cannot remove clsact from ifindex %d: %s", c->ifindex, strerror(-err));
}

/*
 * The classifier expects an Ethernet header; on an L3 device (tun, xfrm,
 * WireGuard) it would read the IP header as one. Loopback carries a zeroed
 * Ethernet header, so it qualifies.
 */
static int check_link_type(const char *ifname, __u8 *mac)
{
	struct ifreq ifr = {};
	int fd, err = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "socket: %s", strerror(errno));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr))
		err = ipsm_error(IPSM_EXIT_NODEV, -errno, "cannot query %s: %s", ifname,
				 strerror(errno));
	else if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER &&
		 ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK)
		err = ipsm_error(IPSM_EXIT_USAGE, -EOPNOTSUPP,
				 "%s is not an Ethernet interface (link type %u); attach to the "
				 "interface that carries the ESP packets",
				 ifname, ifr.ifr_hwaddr.sa_family);
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

int ipsm_attach(const struct ipsm_paths *p, const char *ifname, const struct attach_opts *o)
{
	struct iface_ctx c = { .prog_fd = { -1, -1, -1 } };
	bool fresh, created_clsact = false, now[IPSM_HOOK_MAX] = {};
	__u32 done = 0, want, added = 0, all;
	struct stat st;
	__u8 mac[6];
	int hook, err;

	c.ifindex = if_nametoindex(ifname);
	if (!c.ifindex)
		return ipsm_error(IPSM_EXIT_NODEV, -ENODEV, "no interface '%s'", ifname);
	err = check_link_type(ifname, mac);
	if (err)
		return err;
	pins_iface_dir(p, c.ifindex, c.dir, sizeof(c.dir));
	fresh = stat(c.dir, &st) != 0;
	if (!fresh && unfinished_attach(c.dir)) {
		pr_warn("%s: an earlier attach did not finish; starting again", ifname);
		err = pins_remove_dir(c.dir);
		if (err)
			return ipsm_error(IPSM_EXIT_FAIL, err, "cannot remove %s: %s", c.dir,
					  strerror(-err));
		fresh = true;
	}
	err = fresh ? load_iface(p, &c, ifname, o, o->hooks, true) : open_iface(&c);
	if (err)
		return err;

	all = c.meta.hooks | o->hooks;
	if (attach_hooks_conflict(all)) {
		err = ipsm_error(IPSM_EXIT_USAGE, -EINVAL,
				 "%s: xdp and tc-ingress would both count received packets; "
				 "detach first to change hooks",
				 ifname);
		goto out_undo;
	}
	/* A hook added to an interface attached before: its program now. */
	want = fresh ? 0 : o->hooks & ~loaded_hooks(&c);
	if (want) {
		err = load_iface(p, &c, ifname, o, want, false);
		if (err)
			goto out_undo;
		added = want;
	}
	for (hook = 0; hook < IPSM_HOOK_MAX; hook++) {
		if (!(o->hooks & (1U << hook)))
			continue;
		if (hook == IPSM_HOOK_XDP)
			err = xdp_attach(&c, ifname, o, &now[hook]);
		else
			err = tc_attach(&c, ifname, hook, o->force, &created_clsact, &now[hook]);
		if (err)
			goto out_undo;
		done |= now[hook] ? 1U << hook : 0;
	}
	c.meta.hooks |= o->hooks;
	c.meta.created_clsact |= created_clsact;
	memcpy(c.meta.mac, mac, sizeof(c.meta.mac));
	snprintf(c.meta.name, sizeof(c.meta.name), "%s", ifname);
	err = meta_access(c.dir, &c.meta, true);
	if (err) {
		err = ipsm_error(IPSM_EXIT_FAIL, err, "cannot record attach state: %s",
				 strerror(-err));
		goto out_undo;
	}
	ctx_close(&c);
	return 0;

out_undo:
	undo_hooks(&c, done, created_clsact);
	/* A program loaded now for a hook it did not get goes again (unrecorded). */
	unpin_progs(&c, added);
	ctx_close(&c);
	if (fresh) {
		pins_remove_dir(c.dir);
		pins_cleanup_ns(p);
	}
	return err;
}

int ipsm_detach(const struct ipsm_paths *p, __u32 ifindex)
{
	struct iface_ctx c = { .prog_fd = { -1, -1, -1 }, .ifindex = ifindex };
	int err;

	pins_iface_dir(p, ifindex, c.dir, sizeof(c.dir));
	err = open_iface(&c);
	if (!err) {
		/*
		 * Every hook one of our programs may be on: an attach killed
		 * after attaching a hook and before recording it left it out
		 * of hooks. undo_hooks() removes only what runs our program.
		 */
		undo_hooks(&c, c.meta.hooks | loaded_hooks(&c), c.meta.created_clsact);
		ctx_close(&c);
	} else {
		pr_warn("removing the pins in %s anyway", c.dir);
	}
	err = pins_remove_dir(c.dir);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot remove %s: %s", c.dir,
				  strerror(-err));
	err = pins_cleanup_ns(p);
	if (err)
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot remove %s: %s", p->ns,
				  strerror(-err));
	return 0;
}

int ipsm_iface_read(const struct ipsm_paths *p, __u32 ifindex, struct ipsm_iface *out)
{
	struct ipsm_iface_meta m;
	char dir[PATH_MAX], name[IF_NAMESIZE];
	__u32 id, mode;
	int hook, err;

	pins_iface_dir(p, ifindex, dir, sizeof(dir));
	err = meta_access(dir, &m, false);
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	out->ifindex = ifindex;
	snprintf(out->name, sizeof(out->name), "%s", m.name);
	out->present = if_indextoname(ifindex, name) != NULL;
	out->hooks = m.hooks;
	out->xdp_flags = m.xdp_flags;
	out->attached_at = m.attached_at;
	out->xdp_kfunc = m.xdp_kfunc;
	memcpy(out->prog_id, m.prog_id, sizeof(out->prog_id));
	if (!out->present)
		return 0;
	if ((m.hooks & (1U << IPSM_HOOK_XDP)) && !xdp_attached_id(ifindex, &id, &mode) &&
	    id == m.prog_id[IPSM_HOOK_XDP])
		out->hooks_live |= 1U << IPSM_HOOK_XDP;
	for (hook = IPSM_HOOK_TC_INGRESS; hook <= IPSM_HOOK_TC_EGRESS; hook++)
		if ((m.hooks & (1U << hook)) && tc_attached_id(ifindex, hook) == m.prog_id[hook])
			out->hooks_live |= 1U << hook;
	return 0;
}

int attach_lock(const struct ipsm_paths *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, len, tries;

	/* An abstract name: per network namespace, dropped however we die. */
	len = snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "ipsecmon-bpf-attach:%s", p->base);
	if (len >= (int)sizeof(sa.sun_path) - 1)
		len = sizeof(sa.sun_path) - 2;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "socket: %s", strerror(errno));
	/* Attaching takes milliseconds: wait for another attach or detach, 10 s at most. */
	for (tries = 0; tries < 1000; tries++) {
		if (!bind(fd, (struct sockaddr *)&sa,
			  offsetof(struct sockaddr_un, sun_path) + 1 + len))
			return fd;
		if (errno != EADDRINUSE)
			break;
		usleep(10000);
	}
	close(fd);
	return ipsm_error(IPSM_EXIT_CONFLICT, -EBUSY,
			  "another attach or detach in this network namespace does not finish");
}

bool attach_hooks_conflict(__u32 hooks)
{
	return (hooks & (1U << IPSM_HOOK_XDP)) && (hooks & (1U << IPSM_HOOK_TC_INGRESS));
}

int attach_parse_hooks(const char *arg, __u32 *hooks)
{
	char buf[128], *tok, *save;
	int h;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", arg);
	*hooks = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (h = 0; h < IPSM_HOOK_MAX; h++)
			if (!strcmp(tok, ipsm_hook_name(h)))
				break;
		if (h == IPSM_HOOK_MAX)
			return -EINVAL;
		*hooks |= 1U << h;
	}
	return *hooks ? 0 : -EINVAL;
}

int attach_check_hooks(__u32 hooks)
{
	if (!attach_hooks_conflict(hooks))
		return 0;
	fprintf(stderr, "ipsecmon-bpf: --hooks: xdp and tc-ingress would count rx twice\n"
			"Try 'ipsecmon-bpf --help'.\n");
	return -EINVAL;
}

/*
 * The hooks of an attach without --hooks: the receive hook an interface
 * already has, else XDP, except where the driver makes any XDP slow its
 * traffic. On veth and virtio_net native XDP turns GRO or the offloads
 * off, and generic XDP copies every GRO'd skb into one linear buffer (TCP
 * through a veth loses ~20%); TC ingress sees the same packets at the
 * cost of one program run per skb. What it gives up is the kernel's SA
 * lookup, which only XDP has: correlation then needs the monitor.
 */
static __u32 auto_hooks(const char *ifname, __u32 recorded)
{
	const __u32 rx = (1U << IPSM_HOOK_XDP) | (1U << IPSM_HOOK_TC_INGRESS);
	char driver[32];

	if (recorded & rx)
		return (recorded & rx) | (1U << IPSM_HOOK_TC_EGRESS);
	if (!native_xdp_harms(ifname, driver, sizeof(driver)))
		return IPSM_DEFAULT_HOOKS;
	pr_info("%s: receiving on TC ingress (driver %s: XDP would slow its traffic; "
		"--hooks xdp,tc-egress to have it)",
		ifname, driver);
	return IPSM_TC_HOOKS;
}

int attach_all(const struct ipsm_paths *p, char *const *names, int n, const struct attach_opts *o)
{
	char dir[PATH_MAX];
	bool *fresh;
	int i, j, lock;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return ipsm_error(IPSM_EXIT_KERNEL, -ENOENT,
				  "the kernel has no BTF (/sys/kernel/btf/vmlinux): "
				  "ipsecmon-bpf needs CONFIG_DEBUG_INFO_BTF");
	for (i = 0; i < n; i++)
		if (!if_nametoindex(names[i]))
			return ipsm_error(IPSM_EXIT_NODEV, -ENODEV, "no interface '%s'", names[i]);
	i = pins_prepare(p);
	if (i)
		return i;
	/* Two attaches of one interface at once would pin and unpin each other's. */
	lock = attach_lock(p);
	if (lock < 0)
		return lock;
	fresh = calloc(n, sizeof(*fresh));
	if (!fresh) {
		close(lock);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct attach_opts oi = *o;
		struct ipsm_iface ifc;

		pins_iface_dir(p, if_nametoindex(names[i]), dir, sizeof(dir));
		fresh[i] = access(dir, F_OK) != 0;
		if (fresh[i] || ipsm_iface_read(p, if_nametoindex(names[i]), &ifc))
			ifc.hooks = 0;
		if (o->keep_hooks && ifc.hooks)
			oi.hooks = ifc.hooks;
		else if (o->hooks_auto)
			oi.hooks = auto_hooks(names[i], ifc.hooks);
		j = ipsm_attach(p, names[i], &oi);
		if (j) {
			/* All or none: undo the interfaces this call attached from scratch. */
			while (i--)
				if (fresh[i])
					ipsm_detach(p, if_nametoindex(names[i]));
			free(fresh);
			pins_cleanup_ns(p);
			close(lock);
			return j;
		}
		pr_info("attached to %s", names[i]);
	}
	free(fresh);
	j = dp_config_refresh(p);
	close(lock);
	if (j)
		return ipsm_error(IPSM_EXIT_FAIL, j, "cannot set up the datapath's config: %s",
				  strerror(-j));
	return 0;
}

int attach_find_pinned(const struct ipsm_paths *p, const char *name, __u32 *ifindex)
{
	struct ipsm_iface ifc;
	char dir[PATH_MAX];
	__u32 *ids;
	size_t n, i;
	int err;

	*ifindex = if_nametoindex(name);
	if (*ifindex) {
		pins_iface_dir(p, *ifindex, dir, sizeof(dir));
		if (!access(dir, F_OK))
			return 0;
	}
	err = pins_list_ifaces(p, &ids, &n);
	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < n; i++) {
		if (!ipsm_iface_read(p, ids[i], &ifc) && !ifc.present && !strcmp(ifc.name, name)) {
			*ifindex = ids[i];
			err = 0;
			break;
		}
	}
	free(ids);
	return err;
}
