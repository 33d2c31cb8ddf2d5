// SPDX-License-Identifier: GPL-2.0
/* The addresses of this network namespace (getifaddrs). */
#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "local_addrs.h"

int local_addrs_read(struct local_addrs *la)
{
	struct ifaddrs *ifa, *i;
	size_t n = 0;

	la->n = 0;
	la->v = NULL;
	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr &&
		    (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6))
			n++;
	la->v = calloc(n ? n : 1, sizeof(*la->v));
	if (!la->v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			la->v[la->n].family = AF_INET;
			memcpy(la->v[la->n++].addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			la->v[la->n].family = AF_INET6;
			memcpy(la->v[la->n++].addr,
			       &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
	return 0;
}

bool local_addrs_has(const struct local_addrs *la, __u16 family, const __u8 *addr)
{
	size_t i, len = family == AF_INET ? 4 : 16;

	for (i = 0; i < la->n; i++)
		if (la->v[i].family == family && !memcmp(la->v[i].addr, addr, len))
			return true;
	return false;
}

void local_addrs_free(struct local_addrs *la)
{
	free(la->v);
	la->v = NULL;
	la->n = 0;
}
