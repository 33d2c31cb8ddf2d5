/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The datapath test's reporter. Every pass/fail decision and the closing
 * count go through here, so the output contract lives in one place: one
 * "ok NAME" or "FAIL NAME: what differed" line per case, "# ..." notes for
 * what was not run, and the "N passed, N failed" line tests/run.sh adds up.
 */
#ifndef IPSM_TEST_REPORT_H
#define IPSM_TEST_REPORT_H

#include <stddef.h>

/* First few mismatches of one case, as one line. */
struct result {
	char msg[512];
	size_t len;
	int n;
};

/* Note one mismatch: the case fails; the first four are shown. */
void mismatch(struct result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print and count one case: ok without mismatches, else FAIL with them. */
void report_case(const char *name, const struct result *r);

/* Print a "# " note about something not run; not counted. */
void report_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print "N passed, N failed"; returns the number of failed cases. */
int report_finish(void);

#endif /* IPSM_TEST_REPORT_H */
