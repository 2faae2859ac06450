/* activation.h - listening sockets handed over by systemd (socket
 * activation, the sd_listen_fds(3) protocol) without libsystemd: the
 * protocol is three environment variables. */
#ifndef ZC_NET_ACTIVATION_H
#define ZC_NET_ACTIVATION_H

#include "net/listen.h"

#define ZC_LISTEN_FDS_START 3           /* SD_LISTEN_FDS_START */

/* zc_listen_inherited - the sockets passed to this process: when
 * LISTEN_PID is our pid and LISTEN_FDS is N > 0, fds 3 .. 3 + N - 1
 * (LISTEN_FDNAMES is not needed and ignored). Each must be a listening TCP
 * socket (IPv4 or IPv6); it is made non-blocking and close-on-exec, and its
 * bound address goes to @addrs. LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES
 * are removed from the environment either way, so that nothing started
 * later takes the sockets for its own.
 * @fds, @addrs: room for @max entries.
 * Return: the number of sockets; 0 when not activated (no LISTEN_PID, or
 * another process's); -EINVAL (malformed variables), -E2BIG (more than
 * @max), -ENOTSOCK / -EBADF (an fd that is no socket, or not open),
 * -EAFNOSUPPORT (not TCP over IPv4 or IPv6, or not listening). On error
 * the fds are left as they were. */
int zc_listen_inherited(int *fds, struct zc_listen_addr *addrs, unsigned max);

#endif /* ZC_NET_ACTIVATION_H */
