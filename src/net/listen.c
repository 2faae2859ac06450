/* listen.c - listener sockets (see listen.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "net/listen.h"

int zc_listen_parse(const char *spec, struct zc_listen_addr *out)
{
    char host[256];
    const char *colon, *port_str;
    char *end;
    unsigned long port;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (!close || close[1] != ':')
            return -EINVAL;
        hlen = (size_t)(close - spec - 1);
        if (hlen >= sizeof(host))
            return -EINVAL;
        memcpy(host, spec + 1, hlen);
        host[hlen] = '\0';
        port_str = close + 2;
    } else {
        colon = strrchr(spec, ':');
        if (!colon)
            return -EINVAL;
        hlen = (size_t)(colon - spec);
        if (hlen >= sizeof(host))
            return -EINVAL;
        memcpy(host, spec, hlen);
        host[hlen] = '\0';
        port_str = colon + 1;
    }
    if (!*port_str)
        return -EINVAL;
    errno = 0;
    port = strtoul(port_str, &end, 10);
    if (errno || *end || port > 65535 || *port_str == '-' || *port_str == '+')
        return -EINVAL;

    if (!host[0])
        strcpy(host, "0.0.0.0");
    {
        struct sockaddr_in *in4 = (struct sockaddr_in *)&out->sa;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&out->sa;

        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
            in4->sin_family = AF_INET;
            in4->sin_port = htons((uint16_t)port);
            out->len = sizeof(*in4);
            return 0;
        }
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons((uint16_t)port);
            out->len = sizeof(*in6);
            return 0;
        }
    }
    /* A name: take the first address the resolver gives (startup only). */
    {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_ADDRCONFIG };
        struct addrinfo *res;

        if (getaddrinfo(host, NULL, &hints, &res) != 0)
            return -EINVAL;
        if (res->ai_addrlen > sizeof(out->sa)) {
            freeaddrinfo(res);
            return -EINVAL;
        }
        memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
        out->len = res->ai_addrlen;
        freeaddrinfo(res);
        if (out->sa.ss_family == AF_INET)
            ((struct sockaddr_in *)&out->sa)->sin_port = htons((uint16_t)port);
        else if (out->sa.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&out->sa)->sin6_port = htons((uint16_t)port);
        else
            return -EINVAL;
    }
    return 0;
}

int zc_listen_claim(struct zc_listen_addr *addr, int *held)
{
    int one = 1, fd, ret = 0;

    *held = -1;
    fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /* SO_REUSEADDR only forgives TIME_WAIT leftovers: a listener still
     * makes this bind fail. */
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        (addr->sa.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0) ||
        bind(fd, (struct sockaddr *)&addr->sa, addr->len) < 0)
        ret = -errno;
    if (ret == 0) {
        addr->len = sizeof(addr->sa);
        if (getsockname(fd, (struct sockaddr *)&addr->sa, &addr->len) < 0)
            ret = -errno;
    }
    if (ret < 0) {
        close(fd);
        fd = -1;
    }
    *held = fd;
    return ret;
}

int zc_listen_open(struct zc_listen_addr *addr, int backlog)
{
    int one = 1, fd, ret;

    fd = socket(addr->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
        goto fail;
    /* "[::]:80" means IPv6 only; IPv4 gets its own --listen. */
    if (addr->sa.ss_family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&addr->sa, addr->len) < 0 ||
        listen(fd, backlog) < 0)
        goto fail;
    /* Port 0: learn the port so every worker binds the same one. */
    addr->len = sizeof(addr->sa);
    if (getsockname(fd, (struct sockaddr *)&addr->sa, &addr->len) < 0)
        goto fail;
    return fd;

fail:
    ret = -errno;                        /* before close() can change it */
    close(fd);
    return ret;
}

void zc_listen_format(const struct zc_listen_addr *addr, const char *scheme,
                      char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN];
    const char *sep = scheme ? "://" : "", *tail = scheme ? "/" : "";
    bool v6 = addr->sa.ss_family == AF_INET6;
    unsigned port;

    if (v6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr->sa;

        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
    } else {
        const struct sockaddr_in *in4 = (const struct sockaddr_in *)&addr->sa;

        inet_ntop(AF_INET, &in4->sin_addr, host, sizeof(host));
        port = ntohs(in4->sin_port);
    }
    snprintf(out, cap, "%s%s%s%s%s:%u%s", scheme ? scheme : "", sep, v6 ? "[" : "",
             host, v6 ? "]" : "", port, tail);
}
