// SPDX-License-Identifier: GPL-2.0
/* Pending rekeys, early packets from the bad-SPI slots, the sa_rekeyed event; see rekeys.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <bpf/bpf.h>

#include "events.h"
#include "names.h"
#include "rekeys.h"

int rekey_early_packets(int fd_bad_spis, int ncpus, const struct ipsm_xfrm_sa *x, __u64 *early)
{
	__u8 family = ipsm_af_of(x->family);
	size_t alen = x->family == AF_INET6 ? 16 : 4;
	struct ipsm_bad_spi *v;
	__u32 k;
	int c;

	*early = 0;
	v = calloc(ncpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (k = 0; k < IPSM_BAD_SPI_SLOTS; k++) {
		if (bpf_map_lookup_elem(fd_bad_spis, &k, v))
			continue;
		for (c = 0; c < ncpus; c++)
			if (v[c].spi == x->spi && v[c].proto == x->proto && v[c].family == family &&
			    !memcmp(v[c].daddr, x->daddr, alen))
				*early += v[c].packets;
	}
	free(v);
	return 0;
}

struct rekey *rekeys_add(struct rekeys *t, struct rekey *evicted, bool *did_evict)
{
	*did_evict = false;
	if (t->n == IPSM_MAX_PENDING_REKEYS) {
		/* v[0] is the oldest: entries are appended and removed in place. */
		*evicted = t->v[0];
		*did_evict = true;
		rekeys_remove(t, &t->v[0]);
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	return &t->v[t->n++];
}

struct rekey *rekeys_find(struct rekeys *t, const struct ipsm_sa_key *key, __u32 spi, bool old)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		const struct rekey *r = &t->v[i];
		const struct ipsm_sa_key *k = old ? &r->old_key : &r->new_key;

		if (!memcmp(k, key, sizeof(*k)) && (old ? r->old_spi : r->new_sa.spi) == spi)
			return &t->v[i];
	}
	return NULL;
}

void rekeys_remove(struct rekeys *t, struct rekey *r)
{
	size_t i = r - t->v;

	/* Keep the order: the oldest stays first. */
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof(*r));
	t->n--;
}

json_t *rekey_event(const struct ipsm_xfrm_sa *x, const struct ipsm_sa_key *key,
		    const struct rekey_outcome *o)
{
	json_t *e = event_sa("sa_rekeyed", key, x->saddr, x);
	char spi[16];

	ipsm_spi_str(x->spi, spi, sizeof(spi));
	json_object_set_new(e, "new_spi", json_string(spi));
	ipsm_spi_str(o->old_spi, spi, sizeof(spi));
	json_object_set_new(e, "old_spi", o->have_old_spi ? json_string(spi) : json_null());
	json_object_set_new(e, "early_packets",
			    o->have_early ? json_integer((json_int_t)o->early) : json_null());
	json_object_set_new(e, "old_spi_packets_after",
			    o->have_late ? json_integer((json_int_t)o->late) : json_null());
	json_object_set_new(
		e, "overlap_seconds",
		o->have_overlap ? json_real((double)(long long)(o->overlap_s * 1000 + 0.5) / 1000) :
				  json_null());
	return e;
}
