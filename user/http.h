/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Prometheus endpoint: GET /metrics serves the text last published, from
 * libmicrohttpd's own thread, so the monitor loop never waits on a scraper.
 */
#ifndef IPSM_HTTP_H
#define IPSM_HTTP_H

#include <stddef.h>

struct prom_server;

/*
 * Listen on ADDR:PORT: "127.0.0.1:9477", "[::1]:9477", or ":9477" / "9477"
 * for 127.0.0.1 (loopback unless an address is given). 0 or a negative
 * errno, reported through ipsm_error().
 */
int prom_server_start(const char *addr_port, struct prom_server **out);
/* Serve text (malloc'ed, ownership taken) from now on; the old text is freed. */
void prom_server_publish(struct prom_server *srv, char *text, size_t len);
/* Stop serving and free everything; NULL is fine. */
void prom_server_stop(struct prom_server *srv);

#endif
