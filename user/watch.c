// SPDX-License-Identifier: GPL-2.0
/*
 * watch: read the counters every interval and show them — the live window
 * on a terminal, plain-text snapshots elsewhere, or JSON lines. Read-only:
 * it attaches nothing and writes no pinned state.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "aggregate.h"
#include "correlate.h"
#include "events.h"
#include "log.h"
#include "loop.h"
#include "out_json.h"
#include "out_term.h"
#include "out_text.h"
#include "seq_out.h"
#include "peers.h"
#include "tunnels.h"
#include "stream.h"
#include "watch.h"

#define MIN_INTERVAL_MS 100
#define MAX_INTERVAL_MS 86400000U

struct watch {
	const struct ipsm_paths *p;
	const struct watch_opts *o;
	struct ipsm_stream out;
	struct ipsm_events events;
	struct ipsm_snapshot prev;
	bool have_prev;
	struct timespec prev_at;
	struct loop loop;
	bool tty; /* the live window, with keys on stdin */
	enum term_pane pane;
	int err;
};

static void emit(void *ctx, json_t *doc)
{
	struct watch *w = ctx;
	int err = json_write(w->out.f, doc, false);

	json_decref(doc);
	if (err && !w->err)
		w->err = err;
}

static int show(struct watch *w)
{
	struct snapshot_req req = { .ifnames = w->o->ifnames,
				    .n_ifnames = w->o->n_ifnames,
				    .half_open_after_s = w->o->half_open_after_s };
	struct ipsm_snapshot s;
	struct timespec now;
	double seconds = 0;
	json_t *doc;
	int err;

	err = snapshot_take(w->p, &req, &s);
	if (err)
		return err;
	clock_gettime(CLOCK_MONOTONIC, &now);
	seq_out_estimate(&s, w->have_prev ? &w->prev : NULL);
	tunnels_track(&s, w->have_prev ? &w->prev : NULL, w->o->one_way_after);
	if (w->have_prev)
		seconds =
			(now.tv_sec - w->prev_at.tv_sec) + (now.tv_nsec - w->prev_at.tv_nsec) / 1e9;
	if (w->o->json) {
		doc = json_snapshot_view(
			&s,
			&(struct json_view){
				.max_sas = w->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_SAS,
				.max_bad_spis = w->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_BAD_SPIS,
				.max_tunnels = w->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_TUNNELS,
				.max_peers = w->o->sas_all ? SIZE_MAX : IPSM_STREAM_MAX_PEERS,
				.prev = w->have_prev ? &w->prev : NULL });
		if (doc && w->have_prev)
			json_add_changes(doc, &s, &w->prev, seconds);
		emit(w, doc);
		events_compare(&w->events, w->have_prev ? &w->prev : NULL, &s, emit, w);
	} else if (w->tty) {
		term_view(w->out.f, &s, w->have_prev ? &w->prev : NULL, seconds,
			  w->loop.interval_ms, w->pane);
	} else {
		text_stats(w->out.f, &s);
		fputs("\n", w->out.f);
	}
	/* Line-buffered: a write may have failed before this flush. */
	if ((fflush(w->out.f) || ferror(w->out.f)) && !w->err)
		w->err = errno == EPIPE ? -EPIPE : -EIO;
	snapshot_free(&w->prev);
	w->prev = s;
	w->have_prev = true;
	w->prev_at = now;
	return w->err;
}

static int on_tick(void *ctx)
{
	return show(ctx);
}

/* A key from the terminal. */
static int on_key(void *ctx)
{
	struct watch *w = ctx;
	char c;

	if (read(STDIN_FILENO, &c, 1) != 1)
		return LOOP_STOP;
	switch (c) {
	case 'q':
	case 'Q':
		return LOOP_STOP;
	case '+':
		if (w->loop.interval_ms <= MAX_INTERVAL_MS / 2)
			loop_set_interval(&w->loop, w->loop.interval_ms * 2);
		break;
	case '-':
		if (w->loop.interval_ms / 2 >= MIN_INTERVAL_MS)
			loop_set_interval(&w->loop, w->loop.interval_ms / 2);
		break;
	case 'r':
	case 'R':
		loop_set_interval(&w->loop, w->loop.interval_ms);
		break;
	case 't':
	case 'T':
		w->pane = w->pane == TERM_PANE_TUNNELS ? TERM_PANE_TRAFFIC : TERM_PANE_TUNNELS;
		break;
	case 'p':
	case 'P':
		w->pane = w->pane == TERM_PANE_PEERS ? TERM_PANE_TRAFFIC : TERM_PANE_PEERS;
		break;
	default:
		return 0;
	}
	/* Show the change now rather than at the next tick. */
	return LOOP_TICK;
}

int watch_run(const struct ipsm_paths *p, const struct watch_opts *o)
{
	struct watch w = { .p = p, .o = o };
	struct termios saved, raw;
	bool raw_set = false;
	int err;

	w.loop = (struct loop){
		.interval_ms = o->interval_ms, .on_tick = on_tick, .ctx = &w, .sfd = -1, .tfd = -1
	};
	w.events.gap_threshold = o->gap_threshold;
	w.events.seq_warn_s = o->seq_warn_s;
	w.events.sa_changes = true;
	err = stream_open(&w.out, o->output);
	if (err)
		return err;
	w.tty = !o->json && !o->output && isatty(STDOUT_FILENO);
	w.loop.out = &w.out;
	err = loop_open(&w.loop);
	if (err)
		goto out;
	/* Keys without Enter and without echo, restored on the way out. */
	if (w.tty && isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved)) {
		raw = saved;
		raw.c_lflag &= ~(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		raw_set = !tcsetattr(STDIN_FILENO, TCSANOW, &raw);
		w.loop.fds[0].fd = STDIN_FILENO;
		w.loop.fds[0].fn = on_key;
		w.loop.n_fds = 1;
		fputs("\033[?25l\033[2J", w.out.f); /* hide the cursor, clear */
	}
	err = show(&w);
	if (!err)
		err = loop_run(&w.loop);
	if (raw_set) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
		fputs("\033[?25h\n", w.out.f);
	}
out:
	loop_close(&w.loop);
	snapshot_free(&w.prev);
	stream_close(&w.out);
	return err;
}
