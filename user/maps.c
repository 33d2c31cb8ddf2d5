// SPDX-License-Identifier: GPL-2.0
/* The table of the datapath's maps and how to reach their pins. */
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>

#include "log.h"
#include "maps.h"

const struct ipsm_map_def ipsm_maps[IPSM_MAP_MAX] = {
	[IPSM_MAP_TRAFFIC] = { "traffic", false },
	[IPSM_MAP_IKE] = { "ike", false },
	[IPSM_MAP_IFACE_META] = { "iface_meta", false },
	[IPSM_MAP_SA_STATS] = { "sa_stats", true },
	[IPSM_MAP_SA_CACHE] = { "sa_cache", true },
	[IPSM_MAP_SA_EPOCH] = { "sa_epoch", true },
	[IPSM_MAP_SA_FILTER] = { "sa_filter", true },
	[IPSM_MAP_DP] = { "dp", true },
	[IPSM_MAP_DP_CLOCK] = { "dp_clock", true },
	[IPSM_MAP_CORRELATION] = { "correlation", true },
	[IPSM_MAP_BAD_SPIS] = { "bad_spis", true },
	[IPSM_MAP_IKE_PEERS] = { "ike_peers", true },
	[IPSM_MAP_IKE_MSGS] = { "ike_msgs", true },
	[IPSM_MAP_IKE_SAS] = { "ike_sas", true },
	[IPSM_MAP_SA_INFO] = { "sa_info", true },
	[IPSM_MAP_TOTALS] = { "totals", true },
	[IPSM_MAP_LOCAL_ADDRS] = { "local_addrs", true },
	[IPSM_MAP_LOCAL_MEMO] = { "local_memo", true },
	[IPSM_MAP_MARKS] = { "marks", true },
};

const struct ipsm_map_def *ipsm_map_find(const char *name)
{
	int i;

	for (i = 0; i < IPSM_MAP_MAX; i++)
		if (!strcmp(ipsm_maps[i].name, name))
			return &ipsm_maps[i];
	return NULL;
}

void ipsm_map_path(const struct ipsm_paths *p, __u32 ifindex, enum ipsm_map_id id, char *buf,
		   size_t len)
{
	char dir[PATH_MAX];

	if (ipsm_maps[id].shared) {
		pins_path(buf, len, p->ns, ipsm_maps[id].name);
		return;
	}
	pins_iface_dir(p, ifindex, dir, sizeof(dir));
	pins_path(buf, len, dir, ipsm_maps[id].name);
}

int ipsm_map_open(const struct ipsm_paths *p, __u32 ifindex, enum ipsm_map_id id)
{
	char path[PATH_MAX];
	int fd;

	ipsm_map_path(p, ifindex, id, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	return fd;
}
