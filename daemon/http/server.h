/*
 * ticklerd's HTTP server: libmicrohttpd driven by the daemon's libuv loop,
 * as systemd-journal-remote drives it from its own. One MHD daemon per
 * listening socket, each in epoll mode without a thread of its own: one
 * uv_poll_t on MHD's epoll fd, and one uv_timer_t armed from
 * MHD_get_timeout() after every MHD_run() (the epoll fd is edge-triggered
 * inside; without the timer connections stall, systemd#7130). With no
 * connection open MHD asks for no timeout, so an idle daemon does not wake.
 *
 * Requests are parsed by libmicrohttpd; their path and query are read by
 * request.c; the handler (the web face's pages) answers them on the loop
 * thread. GET and HEAD are served everywhere (a body is discarded); POST
 * only on a route that takes a form (tkl_route_form), url-encoded and at
 * most TKL_FORM_BODY_MAX bytes, read with libmicrohttpd's post processor
 * (form.c) before the page sees it. Anything else is refused at its
 * headers, before its body is read: 405, 413 (announced too long) or 415;
 * a body found too long as it comes is answered 413 at its end. No log
 * line names a path: pages by their route, and libmicrohttpd's own
 * messages with a signed link's token cut out.
 */
#ifndef TKL_SERVER_H
#define TKL_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "http.h"
#include "http_conf.h"

struct tkl_http_server;

struct tkl_http_server_host {
    /* answers one request; see web.h */
    int (*handle)(void *data, const struct tkl_http_request *req, struct tkl_http_response *resp);
    /* told of every answer sent (route TKL_ROUTE_COUNT: none matched) */
    void (*answered)(void *data, enum tkl_route route, unsigned code);
    int64_t (*now)(void *data); /* the service's clock, seconds */
    void *data;
};

/*
 * Starts serving on loop: on the sockets fds (n_fds > 0: inherited from
 * systemd's socket activation, already listening) or else on every
 * conf->listen address. HTTPS when conf names a certificate and key (read
 * now, from files or credentials). Returns 0 with *ret set, or a negative
 * errno with a message in err (an address, never a secret) and nothing
 * left open except the inherited fds.
 */
int tkl_http_server_start(uv_loop_t *loop, const struct tkl_http_conf *conf, const int *fds,
                          size_t n_fds, const struct tkl_http_server_host *host,
                          struct tkl_http_server **ret, char *err, size_t err_len);

/* The addresses served, for the log ("127.0.0.1:8470, [::1]:8470"). */
const char *tkl_http_server_addresses(const struct tkl_http_server *srv);

/*
 * Stops serving: every connection and listening socket is closed and the
 * loop's handles with them; the server frees itself once their close
 * callbacks have run. Accepts NULL.
 */
void tkl_http_server_close(struct tkl_http_server *srv);

#endif
