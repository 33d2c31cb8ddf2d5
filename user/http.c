// SPDX-License-Identifier: GPL-2.0
/* The Prometheus endpoint (GET /metrics) on libmicrohttpd's internal thread. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "http.h"
#include "log.h"

#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* A scraper that stalls must not hold a connection slot for long. */
#define PROM_CONN_TIMEOUT_S 10
#define PROM_MAX_CONNS 16

struct prom_server {
	struct MHD_Daemon *daemon;
	pthread_mutex_t lock; /* guards text and len */
	char *text; /* NULL until the first publish */
	size_t len;
};

union prom_sockaddr {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int status, const char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	resp = MHD_create_response_from_buffer(len, (void *)body, mode);
	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free((void *)body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_msg(struct MHD_Connection *conn, unsigned int status, const char *msg)
{
	return reply(conn, status, msg, strlen(msg), MHD_RESPMEM_PERSISTENT,
		     "text/plain; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct prom_server *srv = cls;
	char *copy = NULL;
	size_t len = 0;
	bool have;

	(void)version;
	(void)upload_data;
	(void)upload_data_size;
	(void)req_cls;
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_msg(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (strcmp(url, "/metrics"))
		return reply_msg(conn, MHD_HTTP_NOT_FOUND, "not found: try /metrics\n");

	/*
	 * A copy, so the monitor can publish the next text while this one is
	 * still being sent; texts are small (about 100 KiB at the SA cap).
	 */
	pthread_mutex_lock(&srv->lock);
	have = srv->text != NULL;
	if (have) {
		len = srv->len;
		copy = malloc(len ? len : 1);
		if (copy)
			memcpy(copy, srv->text, len);
	}
	pthread_mutex_unlock(&srv->lock);
	if (!have)
		return reply_msg(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no snapshot yet\n");
	if (!copy)
		return reply_msg(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
	return reply(conn, MHD_HTTP_OK, copy, len, MHD_RESPMEM_MUST_FREE, PROM_CONTENT_TYPE);
}

/*
 * "127.0.0.1:9477", "[::1]:9477", ":9477" or "9477". Numeric addresses only:
 * a name would need a resolver, and the default must stay loopback.
 */
static int parse_addr_port(const char *arg, union prom_sockaddr *a, socklen_t *alen)
{
	char host[INET6_ADDRSTRLEN + 2] = "";
	const char *port_s, *colon, *end;
	unsigned long port;
	char *p_end;

	memset(a, 0, sizeof(*a));
	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (!end || end[1] != ':' || (size_t)(end - arg - 1) >= sizeof(host))
			return -EINVAL;
		memcpy(host, arg + 1, end - arg - 1);
		host[end - arg - 1] = '\0';
		port_s = end + 2;
		if (inet_pton(AF_INET6, host, &a->in6.sin6_addr) != 1)
			return -EINVAL;
		a->in6.sin6_family = AF_INET6;
		*alen = sizeof(a->in6);
	} else {
		colon = strrchr(arg, ':');
		if (colon && memchr(arg, ':', colon - arg))
			return -EINVAL; /* an IPv6 address needs its brackets */
		if (colon && colon != arg) {
			if ((size_t)(colon - arg) >= sizeof(host))
				return -EINVAL;
			memcpy(host, arg, colon - arg);
			host[colon - arg] = '\0';
		} else {
			strcpy(host, "127.0.0.1");
		}
		port_s = colon ? colon + 1 : arg;
		if (inet_pton(AF_INET, host, &a->in4.sin_addr) != 1)
			return -EINVAL;
		a->in4.sin_family = AF_INET;
		*alen = sizeof(a->in4);
	}
	if (*port_s < '0' || *port_s > '9')
		return -EINVAL;
	errno = 0;
	port = strtoul(port_s, &p_end, 10);
	if (errno || *p_end || !port || port > 65535)
		return -EINVAL;
	/* sin_port and sin6_port sit at the same offset. */
	a->in4.sin_port = htons(port);
	return 0;
}

/* Our own socket, so that a bind failure comes back as an errno we can report. */
static int listen_socket(const union prom_sockaddr *a, socklen_t alen)
{
	char host[INET6_ADDRSTRLEN], arg[INET6_ADDRSTRLEN + 8];
	int fd, one = 1, err;

	/* Name what we tried, with the default address filled in. */
	if (a->sa.sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &a->in6.sin6_addr, host, sizeof(host));
		snprintf(arg, sizeof(arg), "[%s]:%u", host, ntohs(a->in6.sin6_port));
	} else {
		inet_ntop(AF_INET, &a->in4.sin_addr, host, sizeof(host));
		snprintf(arg, sizeof(arg), "%s:%u", host, ntohs(a->in4.sin_port));
	}

	fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ipsm_error(IPSM_EXIT_FAIL, -errno, "cannot create a socket for %s: %s", arg,
				  strerror(errno));
	/* A restarted monitor must not wait for the old connections' TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->sa.sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, &a->sa, alen) || listen(fd, 64)) {
		err = -errno;
		close(fd);
		return ipsm_error(IPSM_EXIT_FAIL, err, "cannot listen on %s for --prometheus: %s",
				  arg, strerror(-err));
	}
	return fd;
}

int prom_server_start(const char *addr_port, struct prom_server **out)
{
	struct prom_server *srv;
	union prom_sockaddr a;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	socklen_t alen;
	int fd, err;

	*out = NULL;
	if (parse_addr_port(addr_port, &a, &alen))
		return ipsm_error(
			IPSM_EXIT_USAGE, -EINVAL,
			"bad --prometheus address '%s': expected ADDR:PORT (127.0.0.1:9477, [::1]:9477) or PORT",
			addr_port);
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return ipsm_error(IPSM_EXIT_FAIL, -ENOMEM, "out of memory");
	err = pthread_mutex_init(&srv->lock, NULL);
	if (err) {
		err = ipsm_error(IPSM_EXIT_FAIL, -err, "cannot create a mutex: %s", strerror(err));
		goto err_free;
	}
	fd = listen_socket(&a, alen);
	if (fd < 0) {
		err = fd;
		goto err_mutex;
	}
	if (a.sa.sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
				       MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_TIMEOUT,
				       (unsigned int)PROM_CONN_TIMEOUT_S,
				       MHD_OPTION_CONNECTION_LIMIT, (unsigned int)PROM_MAX_CONNS,
				       MHD_OPTION_END);
	if (!srv->daemon) {
		err = ipsm_error(IPSM_EXIT_FAIL, -EIO, "cannot start the HTTP server on %s",
				 addr_port);
		/* Whether MHD closed the socket on its way out is not documented. */
		if (fcntl(fd, F_GETFD) >= 0)
			close(fd);
		goto err_mutex;
	}
	*out = srv;
	return 0;

err_mutex:
	pthread_mutex_destroy(&srv->lock);
err_free:
	free(srv);
	return err;
}

void prom_server_publish(struct prom_server *srv, char *text, size_t len)
{
	char *old;

	if (!srv) {
		free(text);
		return;
	}
	pthread_mutex_lock(&srv->lock);
	old = srv->text;
	srv->text = text;
	srv->len = len;
	pthread_mutex_unlock(&srv->lock);
	free(old);
}

void prom_server_stop(struct prom_server *srv)
{
	if (!srv)
		return;
	/* Joins the server thread: nobody reads the text after this. */
	MHD_stop_daemon(srv->daemon);
	pthread_mutex_destroy(&srv->lock);
	free(srv->text);
	free(srv);
}
