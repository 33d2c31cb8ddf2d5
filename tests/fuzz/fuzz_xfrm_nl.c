// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness for xfrm_msg_parse(). The input is a stream of netlink
 * messages as one recv() on an XFRM socket returns them. Each message goes
 * to the parser in a heap block of exactly its aligned length, so ASan
 * catches any read past what the kernel would have sent. The harness itself
 * only reads nlmsg_len and never hands over a message longer than the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>

#include "xfrm_nl.h"

/* What a parsed event must look like whatever the input was. */
static void check_event(int err, const struct ipsm_xfrm_event *ev)
{
	if (err != 0 && err != -EINVAL && err != -ENOTSUP)
		abort();
	if (err)
		return;
	if (ev->type < IPSM_XEV_NEWSA || ev->type > IPSM_XEV_FLUSHPOLICY)
		abort();
	/* Algorithm names are printed: they must be terminated inside their field. */
	if (!memchr(ev->sa.enc_alg, '\0', sizeof(ev->sa.enc_alg)) ||
	    !memchr(ev->sa.auth_alg, '\0', sizeof(ev->sa.auth_alg)) ||
	    !memchr(ev->sa.aead_alg, '\0', sizeof(ev->sa.aead_alg)))
		abort();
	/* Exercise the helpers that read the parsed SA. */
	if (xfrm_sa_confidential(&ev->sa) + xfrm_sa_authenticated(&ev->sa) > 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipsm_xfrm_event ev;
	size_t off = 0;

	while (size - off >= sizeof(struct nlmsghdr)) {
		struct nlmsghdr h;
		size_t len, alloc;
		void *msg;

		memcpy(&h, data + off, sizeof(h));
		len = h.nlmsg_len;
		/* libmnl's mnl_nlmsg_ok() stops at these before any callback runs. */
		if (len < sizeof(h) || len > size - off)
			break;
		/*
		 * The kernel pads a message to NLMSG_ALIGN and libmnl walks
		 * attributes up to the aligned end: give it that padding, zeroed.
		 */
		alloc = MNL_ALIGN(len);
		msg = calloc(1, alloc);
		if (!msg)
			return 0;
		memcpy(msg, data + off, len);
		check_event(xfrm_msg_parse(msg, &ev), &ev);
		free(msg);
		off += alloc;
		if (off > size)
			break;
	}
	return 0;
}
