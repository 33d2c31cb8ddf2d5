/* SPDX-License-Identifier: GPL-2.0 */
/* Attach/pin lifecycle: load once per interface, attach hooks, detach exactly. */
#ifndef IPSM_ATTACH_H
#define IPSM_ATTACH_H

#include <stdbool.h>
#include <linux/types.h>

#include "pins.h"
#include "snapshot.h"

enum ipsm_xdp_mode {
	IPSM_XDP_AUTO = 0, /* native where the driver has it, else generic */
	IPSM_XDP_NATIVE,
	IPSM_XDP_SKB,
};

struct attach_opts {
	__u32 hooks; /* bits of enum ipsm_hook */
	enum ipsm_xdp_mode xdp_mode;
	bool force; /* replace another XDP program */
	__u32 max_sas; /* SA table size when the namespace's maps are created */
	__u32 inserts_per_sec;
	bool keep_hooks; /* an interface attached before keeps its hooks (run) */
	bool hooks_auto; /* no --hooks: the receive hook is chosen per driver */
};

#define IPSM_DEFAULT_HOOKS ((1U << IPSM_HOOK_XDP) | (1U << IPSM_HOOK_TC_EGRESS))
/* The default where any XDP would slow the traffic (see attach_all()). */
#define IPSM_TC_HOOKS ((1U << IPSM_HOOK_TC_INGRESS) | (1U << IPSM_HOOK_TC_EGRESS))

/*
 * Make IFNAME's requested hooks run our programs. Idempotent; on failure
 * everything this call created is undone.
 */
int ipsm_attach(const struct ipsm_paths *p, const char *ifname, const struct attach_opts *o);

/* Remove what attach made on the pinned interface ifindex. */
int ipsm_detach(const struct ipsm_paths *p, __u32 ifindex);

/* Recorded and live state of a pinned interface. */
int ipsm_iface_read(const struct ipsm_paths *p, __u32 ifindex, struct ipsm_iface *out);

/*
 * attach and detach one at a time per namespace: a lock the kernel drops
 * with the process. Waits up to 10 s; the fd to close, or -errno.
 */
int attach_lock(const struct ipsm_paths *p);

/* The hook rule: XDP and TC ingress would both count what is received. */
bool attach_hooks_conflict(__u32 hooks);
/* "xdp,tc-egress" into hook bits; -EINVAL for an unknown or empty list. */
int attach_parse_hooks(const char *arg, __u32 *hooks);
/* The hook rule as a usage error (printed); 0 or -EINVAL. */
int attach_check_hooks(__u32 hooks);

/*
 * Attach to every named interface, or to none: all names are checked
 * first, and a failure undoes the interfaces this call attached from
 * scratch. 0 or -errno (reported).
 */
int attach_all(const struct ipsm_paths *p, char *const *names, int n, const struct attach_opts *o);

/* The pinned ifindex of a name: the live interface, or a recorded name that is gone. */
int attach_find_pinned(const struct ipsm_paths *p, const char *name, __u32 *ifindex);

#endif
