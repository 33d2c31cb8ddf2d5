// SPDX-License-Identifier: GPL-2.0
/* Parser for /proc/net/xfrm_stat. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "xfrm_stat.h"

int xfrm_stat_parse(FILE *f, struct ipsm_xfrm_stat *st)
{
	char line[256], name[IPSM_XFRM_STAT_NAMELEN];
	unsigned long long v;
	char tail;

	st->n = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n') && !feof(f))
			return -EINVAL; /* a line longer than any counter's */
		if (sscanf(line, "%39s %llu %c", name, &v, &tail) != 2)
			return -EINVAL;
		if (st->n == IPSM_XFRM_STAT_MAX)
			return -E2BIG;
		snprintf(st->e[st->n].name, sizeof(st->e[st->n].name), "%s", name);
		st->e[st->n].value = v;
		st->n++;
	}
	return ferror(f) ? -EIO : 0;
}

int xfrm_stat_read(struct ipsm_xfrm_stat *st)
{
	FILE *f;
	int err;

	f = fopen("/proc/net/xfrm_stat", "re");
	if (!f)
		return -errno;
	err = xfrm_stat_parse(f, st);
	fclose(f);
	return err;
}

long long xfrm_stat_get(const struct ipsm_xfrm_stat *st, const char *name)
{
	unsigned int i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->e[i].name, name))
			return (long long)st->e[i].value;
	return -1;
}
