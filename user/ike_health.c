// SPDX-License-Identifier: GPL-2.0
/* Half-open IKEv2 SAs from the datapath's ike_sas table. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "ike_health.h"
#include "ipsecmon.h"
#include "maps.h"

void ike_sas_count(const struct ipsm_ike_sa *e, size_t n, __u64 mono_ns, __u32 after_s,
		   struct ipsm_ike_sas *out)
{
	const __u64 after = (__u64)after_s * 1000000000ULL;
	const __u64 window = (__u64)IPSM_IKE_HALF_OPEN_WINDOW_S * 1000000000ULL;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->tracked = n;
	for (i = 0; i < n; i++) {
		/* The datapath's coarse clock can be a tick ahead of ours: age 0 then. */
		__u64 age = mono_ns > e[i].answered ? mono_ns - e[i].answered : 0;

		if (age >= window)
			continue;
		if (e[i].authed)
			out->auth_seen++;
		else if (age >= after)
			out->half_open++;
		else
			out->awaiting_auth++;
	}
}

int ike_sas_read(const struct ipsm_paths *p, __u64 mono_ns, __u32 after_s, struct ipsm_ike_sas *out)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct ipsm_ike_sa_key *keys = NULL;
	struct ipsm_ike_sa *v = NULL;
	__u32 batch = 0, count;
	char path[PATH_MAX];
	size_t n = 0;
	bool first = true;
	int fd, err = 0;

	ipsm_map_path(p, 0, IPSM_MAP_IKE_SAS, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	keys = calloc(IPSM_IKE_SAS_MAX, sizeof(*keys));
	v = calloc(IPSM_IKE_SAS_MAX, sizeof(*v));
	if (!keys || !v) {
		err = -ENOMEM;
		goto out;
	}
	/*
	 * In batches, bucket by bucket: a key-by-key walk starts over when the
	 * key it stands on is evicted, and under an IKE_SA_INIT flood (when
	 * this table matters) it would count entries twice.
	 */
	while (n < IPSM_IKE_SAS_MAX) {
		count = IPSM_IKE_SAS_MAX - n;
		err = bpf_map_lookup_batch(fd, first ? NULL : &batch, &batch, keys + n, v + n,
					   &count, &opts);
		first = false;
		n += count;
		if (err) {
			err = errno == ENOENT ? 0 : -errno;
			break;
		}
	}
	if (!err)
		ike_sas_count(v, n, mono_ns, after_s, out);
out:
	free(keys);
	free(v);
	close(fd);
	return err;
}
