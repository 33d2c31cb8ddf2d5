/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where things are pinned:
 *   BASE/netns-ID/            per network namespace (ID from netns_id())
 *   BASE/netns-ID/sa_stats    maps shared by the namespace's interfaces
 *   BASE/netns-ID/if-IFINDEX/ programs and per-interface maps
 * BASE is /sys/fs/bpf/ipsecmon unless --pin-dir says otherwise.
 */
#ifndef IPSM_PINS_H
#define IPSM_PINS_H

#include <limits.h>
#include <stddef.h>
#include <linux/types.h>

#define IPSM_DEFAULT_PIN_DIR "/sys/fs/bpf/ipsecmon"

struct ipsm_paths {
	char base[PATH_MAX - 64];
	char ns[PATH_MAX - 32];
};

int pins_init(struct ipsm_paths *p, const char *base);
/* Make sure BASE is on bpffs, mounting /sys/fs/bpf if that is what's missing. */
int pins_prepare(const struct ipsm_paths *p);
/* 1 if BASE/netns-ID exists on a bpffs, else 0. */
int pins_present(const struct ipsm_paths *p);
void pins_iface_dir(const struct ipsm_paths *p, __u32 ifindex, char *buf, size_t len);
void pins_path(char *buf, size_t len, const char *dir, const char *name);
/* Interfaces with a pin directory, sorted by ifindex; *ids is malloc'ed. */
int pins_list_ifaces(const struct ipsm_paths *p, __u32 **ids, size_t *n);
/* Unpin everything in DIR (files only), then remove DIR. */
int pins_remove_dir(const char *dir);
/* Remove the namespace directory (and BASE) once no interface is left. */
int pins_cleanup_ns(const struct ipsm_paths *p);
/*
 * Pin directories under BASE of network namespaces that are gone (deleted
 * without detach); *dirs is malloc'ed, each path too.
 */
int pins_stale_namespaces(const struct ipsm_paths *p, char ***dirs, size_t *n);
/* Remove a namespace's pin directory with all its interfaces' pins. */
int pins_remove_ns_dir(const char *nsdir);

#endif
