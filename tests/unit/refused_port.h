/* Shared by the unit tests that need a connection refused: a loopback
 * port bound but not listening. The kernel refuses every connection to
 * it, and no other program can take the port while the socket is held. */
#ifndef TKL_REFUSED_PORT_H
#define TKL_REFUSED_PORT_H

#include <check.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

/* Binds a socket to a free loopback port without listening; *fd holds it
 * (the caller closes it). Returns the port. */
static inline int tkl_refused_port(int *fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(*fd, 0);
    ck_assert_int_eq(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

#endif
