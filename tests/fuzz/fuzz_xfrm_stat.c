// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for xfrm_stat_parse(): the input is the file's text. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xfrm_stat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipsm_xfrm_stat st;
	unsigned int i;
	char *buf;
	FILE *f;
	int err;

	/* fmemopen() refuses a zero-sized buffer; an empty file is tested by the unit tests. */
	if (!size)
		return 0;
	/* A copy of exactly size bytes: ASan sees any read past the end of the "file". */
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	f = fmemopen(buf, size, "r");
	if (!f) {
		free(buf);
		return 0;
	}
	err = xfrm_stat_parse(f, &st);
	fclose(f);
	free(buf);
	if (err && err != -EINVAL && err != -E2BIG && err != -EIO)
		abort();
	if (st.n > IPSM_XFRM_STAT_MAX)
		abort();
	for (i = 0; i < st.n; i++) {
		if (!memchr(st.e[i].name, '\0', sizeof(st.e[i].name)))
			abort();
		/*
		 * Only run it: a value of 2^63 or more comes back negative, which
		 * the API cannot tell from "absent" (-1); no kernel counter gets there.
		 */
		(void)xfrm_stat_get(&st, st.e[i].name);
	}
	return 0;
}
