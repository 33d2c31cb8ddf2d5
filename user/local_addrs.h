/* SPDX-License-Identifier: GPL-2.0 */
/* The addresses of this network namespace: an SA to one of them is inbound. */
#ifndef IPSM_LOCAL_ADDRS_H
#define IPSM_LOCAL_ADDRS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct local_addrs {
	size_t n;
	struct {
		__u16 family; /* AF_INET, AF_INET6 */
		__u8 addr[16];
	} * v;
};

int local_addrs_read(struct local_addrs *la);
bool local_addrs_has(const struct local_addrs *la, __u16 family, const __u8 *addr);
void local_addrs_free(struct local_addrs *la);

#endif
