// SPDX-License-Identifier: GPL-2.0
/* Output streams for watch and run: stdout or an append-only file. */
#include <errno.h>
#include <string.h>

#include "log.h"
#include "stream.h"

int stream_open(struct ipsm_stream *st, const char *path)
{
	st->path = path;
	if (!path) {
		st->f = stdout;
		setvbuf(stdout, NULL, _IOLBF, 0);
		return 0;
	}
	st->f = fopen(path, "ae");
	if (!st->f)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot open %s: %s", path,
				  strerror(errno));
	setvbuf(st->f, NULL, _IOLBF, 0);
	return 0;
}

int stream_reopen(struct ipsm_stream *st)
{
	FILE *f;

	if (!st->path)
		return 0;
	f = fopen(st->path, "ae");
	if (!f)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot reopen %s: %s", st->path,
				  strerror(errno));
	setvbuf(f, NULL, _IOLBF, 0);
	fclose(st->f);
	st->f = f;
	pr_info("reopened %s", st->path);
	return 0;
}

void stream_close(struct ipsm_stream *st)
{
	if (st->f && st->f != stdout)
		fclose(st->f);
	else if (st->f)
		fflush(st->f);
	st->f = NULL;
}

bool stream_reader_gone(int err)
{
	return err == -EPIPE;
}
