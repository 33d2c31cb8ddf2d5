// SPDX-License-Identifier: GPL-2.0
/* How long outbound SAs' sequence numbers last. */
#include <linux/xfrm.h>

#include "seq_out.h"

bool sa_seq_out(const struct ipsm_sa *sa, __u64 *seq)
{
	if (!sa->known || sa->key.dir != IPSM_DIR_TX || !sa->x.have_replay)
		return false;
	*seq = sa->x.oseq;
	return true;
}

bool sa_esn(const struct ipsm_sa *sa)
{
	return sa->known && (sa->x.flags & XFRM_STATE_ESN);
}

void seq_out_estimate(struct ipsm_snapshot *cur, const struct ipsm_snapshot *prev)
{
	const struct ipsm_sa *p;
	double seconds = 0;
	__u64 seq, pseq;
	size_t i;

	if (prev)
		seconds = (cur->time.tv_sec - prev->time.tv_sec) +
			  (cur->time.tv_nsec - prev->time.tv_nsec) / 1e9;
	for (i = 0; i < cur->n_sas; i++) {
		struct ipsm_sa *sa = &cur->sas[i];

		sa->have_seq_exhaustion = false;
		if (seconds <= 0 || !sa_seq_out(sa, &seq) || sa_esn(sa))
			continue;
		p = snapshot_find_sa(prev, &sa->key);
		if (!p || !sa_seq_out(p, &pseq) || p->x.add_time != sa->x.add_time || seq <= pseq)
			continue;
		sa->seq_exhaustion_s = seq >= IPSM_SEQ_OUT_LIMIT ?
					       0 :
					       (IPSM_SEQ_OUT_LIMIT - seq) * seconds / (seq - pseq);
		sa->have_seq_exhaustion = true;
	}
}

const struct ipsm_sa *seq_out_soonest(const struct ipsm_snapshot *s)
{
	const struct ipsm_sa *soonest = NULL;
	size_t i;

	for (i = 0; i < s->n_sas; i++)
		if (s->sas[i].have_seq_exhaustion &&
		    (!soonest || s->sas[i].seq_exhaustion_s < soonest->seq_exhaustion_s))
			soonest = &s->sas[i];
	return soonest;
}
