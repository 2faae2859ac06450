/* listen.h - parse listen addresses and open SO_REUSEPORT listeners: each
 * worker opens its own listener on the same address, and the kernel spreads
 * new connections across them (no shared accept queue, no lock). */
#ifndef ZC_NET_LISTEN_H
#define ZC_NET_LISTEN_H

#include <netinet/in.h>
#include <sys/socket.h>

struct zc_listen_addr {
    struct sockaddr_storage sa;
    socklen_t len;
};

/* zc_listen_parse - "127.0.0.1:8080", "[::1]:0", "0.0.0.0:80", ":8080"
 * (all IPv4 addresses) or "localhost:8080". Return: 0 or -EINVAL. */
int zc_listen_parse(const char *spec, struct zc_listen_addr *out);

/* zc_listen_claim - check that nobody listens on @addr yet, and for port 0
 * pick a free port (written back into @addr). The check binds without
 * SO_REUSEPORT: otherwise a server already on the port with SO_REUSEPORT
 * and the same uid (nginx reuseport, another zcopy) would silently share
 * our connections. The claiming socket stays bound (not listening) in
 * *@held until the caller has opened its listeners and closes it: were it
 * closed at once, another process binding port 0 could be given the same
 * port before our listeners took it, and share it with them.
 * Return: 0, or -EADDRINUSE / -errno (*@held is then -1). */
int zc_listen_claim(struct zc_listen_addr *addr, int *held);

/* zc_listen_open - a non-blocking listening socket with SO_REUSEPORT bound
 * to @addr. When @addr's port is 0 the kernel picks one and @addr is updated
 * to it, so the other workers' listeners can join the same port.
 * Return: the fd, or -errno. */
int zc_listen_open(struct zc_listen_addr *addr, int backlog);

/* zc_listen_format - "127.0.0.1:8080" or "[::1]:8080"; with a @scheme,
 * a URL: "http://127.0.0.1:8080/". */
void zc_listen_format(const struct zc_listen_addr *addr, const char *scheme,
                      char *out, size_t cap);

#endif /* ZC_NET_LISTEN_H */
