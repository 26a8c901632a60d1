/*
 * A form POSTed to libmicrohttpd over a real loopback TCP connection and
 * read with tkl_form_read, as ticklerd's server reads it (the whole body,
 * then the post processor): for the form's tests (test_form) and its
 * fuzzer (fuzz_form). One thread: the MHD daemon has no listening socket
 * and no thread of its own; connections are handed to it and MHD_run()
 * drives it from here. Functions return 0 or a negative errno; nothing
 * here uses check.h.
 */
#ifndef TKL_FORM_CONN_H
#define TKL_FORM_CONN_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/form.h"

struct form_conn {
    struct MHD_Daemon *d;
    int listen_fd;
    struct sockaddr_in addr;
    struct tkl_form *form; /* where the handler reads the form to */
    int r;                 /* what tkl_form_read returned */
    bool read;             /* the handler has read a form */
    char body[TKL_FORM_BODY_MAX];
    size_t len;
    bool too_long;
};

static int form_conn_marker;

static enum MHD_Result form_conn_handler(void *cls, struct MHD_Connection *c, const char *url,
                                         const char *method, const char *version,
                                         const char *upload_data, size_t *upload_data_size,
                                         void **con_cls)
{
    struct form_conn *fc = cls;
    (void)url;
    (void)method;
    (void)version;
    if (!*con_cls) {
        *con_cls = &form_conn_marker;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (n > sizeof(fc->body) - fc->len)
            fc->too_long = true;
        else
            memcpy(fc->body + fc->len, upload_data, n);
        fc->len += fc->too_long ? 0 : n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    fc->r = fc->too_long ? -E2BIG : tkl_form_read(fc->form, c, fc->body, fc->len);
    fc->read = true;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    enum MHD_Result ok = MHD_queue_response(c, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    return ok;
}

static inline int form_conn_start(struct form_conn *fc)
{
    socklen_t len = sizeof(fc->addr);
    memset(fc, 0, sizeof(*fc));
    fc->addr.sin_family = AF_INET;
    fc->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fc->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fc->listen_fd < 0 || bind(fc->listen_fd, (struct sockaddr *)&fc->addr, len) < 0 ||
        getsockname(fc->listen_fd, (struct sockaddr *)&fc->addr, &len) < 0 ||
        listen(fc->listen_fd, 4) < 0)
        return -errno;
    fc->d = MHD_start_daemon(MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, form_conn_handler, fc,
                             MHD_OPTION_END);
    return fc->d ? 0 : -EIO;
}

static inline void form_conn_stop(struct form_conn *fc)
{
    if (fc->d)
        MHD_stop_daemon(fc->d);
    if (fc->listen_fd >= 0)
        close(fc->listen_fd);
    fc->d = NULL;
    fc->listen_fd = -1;
}

/* A connected pair: *ret_client ours, the other end handed to MHD. */
static inline int form_conn_pair(struct form_conn *fc, int *ret_client)
{
    int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (client < 0)
        return -errno;
    if (connect(client, (struct sockaddr *)&fc->addr, sizeof(fc->addr)) < 0) {
        int r = -errno;
        close(client);
        return r;
    }
    struct sockaddr_in peer;
    socklen_t plen = sizeof(peer);
    int server = accept(fc->listen_fd, (struct sockaddr *)&peer, &plen);
    if (server < 0 ||
        MHD_add_connection(fc->d, server, (struct sockaddr *)&peer, plen) != MHD_YES) {
        int r = server < 0 ? -errno : -EIO;
        close(client);
        return r;
    }
    (void)fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK);
    *ret_client = client;
    return 0;
}

/* Whether MHD still holds a connection. */
static inline bool form_conn_busy(const struct form_conn *fc)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(fc->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
    return i && i->num_connections > 0;
}

/*
 * POSTs body (len bytes) with content_type, read into form (readied with
 * tkl_form_init by the caller). Returns 0 when the handler read the form
 * (its answer in fc->r), or a negative errno when it never did.
 */
static inline int form_conn_post(struct form_conn *fc, const char *content_type, const void *body,
                                 size_t len, struct tkl_form *form)
{
    char head[256];
    int client = -1, r = form_conn_pair(fc, &client);
    if (r < 0)
        return r;
    int hn = snprintf(head, sizeof(head),
                      "POST /a/x HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      content_type, len);
    size_t sent = 0, total = (size_t)hn + len;
    bool eof = false;
    fc->form = form;
    fc->read = fc->too_long = false;
    fc->len = 0;
    fc->r = 0;
    for (int spins = 0; spins < 200000 && !eof; spins++) {
        if (sent < total) {
            const char *p = sent < (size_t)hn ? head + sent : (const char *)body + sent - hn;
            size_t n = sent < (size_t)hn ? (size_t)hn - sent : total - sent;
            ssize_t w = send(client, p, n, MSG_NOSIGNAL);
            sent += w > 0 ? (size_t)w : 0;
        }
        (void)MHD_run(fc->d);
        char buf[512];
        ssize_t got = recv(client, buf, sizeof(buf), 0);
        eof = got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
    }
    close(client);
    for (int spins = 0; spins < 200000 && form_conn_busy(fc); spins++)
        (void)MHD_run(fc->d);
    fc->form = NULL;
    return fc->read ? 0 : -ETIMEDOUT;
}

#endif
