// SPDX-License-Identifier: GPL-2.0
/* The datapath test's reporter: see report.h. */
#include <stdarg.h>
#include <stdio.h>

#include "report.h"

static int passed;
static int failed;

void mismatch(struct result *r, const char *fmt, ...)
{
	va_list ap;
	int w;

	/* Count every mismatch, keep the first four: one readable line. */
	if (r->n++ >= 4 || r->len >= sizeof(r->msg) - 1)
		return;
	if (r->len) {
		w = snprintf(r->msg + r->len, sizeof(r->msg) - r->len, "; ");
		r->len += w > 0 ? (size_t)w : 0;
	}
	va_start(ap, fmt);
	w = vsnprintf(r->msg + r->len, sizeof(r->msg) - r->len, fmt, ap);
	va_end(ap);
	if (w > 0)
		r->len += (size_t)w;
	if (r->len >= sizeof(r->msg))
		r->len = sizeof(r->msg) - 1;
}

void report_case(const char *name, const struct result *r)
{
	if (!r->n) {
		printf("ok %s\n", name);
		passed++;
	} else {
		printf("FAIL %s: %s%s\n", name, r->msg, r->n > 4 ? " ..." : "");
		failed++;
	}
	/* Line by line, also when a later case crashes the process. */
	fflush(stdout);
}

void report_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

int report_finish(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	fflush(stdout);
	return failed;
}
