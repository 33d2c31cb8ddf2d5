/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where JSON lines and text snapshots go: stdout, or --output FILE opened
 * for appending and reopened on SIGHUP (log rotation). Every line is flushed.
 */
#ifndef IPSM_STREAM_H
#define IPSM_STREAM_H

#include <stdbool.h>
#include <stdio.h>

struct ipsm_stream {
	FILE *f;
	const char *path; /* NULL: stdout */
};

int stream_open(struct ipsm_stream *st, const char *path);
/* After SIGHUP: the old file was renamed away; open the name again. */
int stream_reopen(struct ipsm_stream *st);
void stream_close(struct ipsm_stream *st);
/* A write error that means "the reader went away": end quietly. */
bool stream_reader_gone(int err);

#endif
