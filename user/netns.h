/* SPDX-License-Identifier: GPL-2.0 */
/* --netns: enter a network namespace, and name the one we are in. */
#ifndef IPSM_NETNS_H
#define IPSM_NETNS_H

#include <stdbool.h>
#include <linux/types.h>

/*
 * Switch this process's network namespace to NAME (from `ip netns add`, i.e.
 * /run/netns/NAME) or to a path such as /proc/PID/ns/net. Only the network
 * namespace changes: /sys and so the pins stay the ones we see now.
 */
int netns_enter(const char *name);

/* A per-boot unique id of the current network namespace (SO_NETNS_COOKIE). */
int netns_id(__u64 *id);
/* The nsfs inode of the current network namespace; 0 or -errno. */
int netns_ino(__u64 *ino);
/* Whether a process or a bind mount (/run/netns) still holds namespace ino. */
bool netns_alive(__u64 ino);

#endif
