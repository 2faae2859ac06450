/* net.c - the clients' sockets: connect with a deadline, send and receive
 * with EINTR handled, and read a response head without taking body bytes. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client/client.h"

uint64_t zc_client_syscalls;

static void set_timeouts(int fd, int timeout_ms)
{
    struct timeval tv = { .tv_sec = timeout_ms / 1000,
                          .tv_usec = (suseconds_t)(timeout_ms % 1000) * 1000 };

    zc_client_syscalls += 2;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

int zc_net_wait(int fd, short events, int timeout_ms)
{
    struct pollfd pfd = { .fd = fd, .events = events };
    int ret;

    do {
        zc_client_syscalls++;
        ret = poll(&pfd, 1, timeout_ms);
    } while (ret < 0 && errno == EINTR && !zc_stopping());
    return ret < 0 ? -errno : ret;
}

/* Non-blocking connect bounded by @timeout_ms, then back to blocking. */
static int connect_one(const struct addrinfo *ai, int timeout_ms)
{
    int fd, ret, soerr = 0;
    socklen_t sl = sizeof(soerr);

    zc_client_syscalls++;
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                ai->ai_protocol);
    if (fd < 0)
        return -errno;
    zc_client_syscalls++;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            ret = -errno;
            goto fail;
        }
        ret = zc_net_wait(fd, POLLOUT, timeout_ms);
        if (ret < 0)
            goto fail;
        if (ret == 0) {
            ret = -ETIMEDOUT;
            goto fail;
        }
        zc_client_syscalls++;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr) {
            ret = soerr ? -soerr : -errno;
            goto fail;
        }
    }
    zc_client_syscalls++;
    if (fcntl(fd, F_SETFL, 0) < 0) {
        ret = -errno;
        goto fail;
    }
    set_timeouts(fd, timeout_ms);
    return fd;

fail:
    close(fd);
    return ret;
}

int zc_net_connect(const char *host, uint16_t port, int timeout_ms, char *err,
                   size_t err_len)
{
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV };
    struct addrinfo *res, *ai;
    char port_str[8];
    int gai, ret = -EHOSTUNREACH;

    snprintf(port_str, sizeof(port_str), "%u", port);
    gai = getaddrinfo(host, port_str, &hints, &res);
    if (gai == EAI_ADDRFAMILY || gai == EAI_NONAME) {
        /* AI_ADDRCONFIG hides ::1 and 127.0.0.1 on a host with only loopback. */
        hints.ai_flags &= ~AI_ADDRCONFIG;
        gai = getaddrinfo(host, port_str, &hints, &res);
    }
    if (gai != 0) {
        snprintf(err, err_len, "cannot resolve %s: %s", host, gai_strerror(gai));
        return gai == EAI_SYSTEM ? -errno : -EHOSTUNREACH;
    }
    for (ai = res; ai && !zc_stopping(); ai = ai->ai_next) {
        ret = connect_one(ai, timeout_ms);
        if (ret >= 0)
            break;
    }
    freeaddrinfo(res);
    if (ret < 0)
        snprintf(err, err_len, "cannot connect to %s port %u: %s", host, port,
                 strerror(-ret));
    return ret;
}

int zc_net_send_all(int fd, const void *buf, size_t len, int flags)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n;

        zc_client_syscalls++;
        n = send(fd, p, len, flags | MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR && !zc_stopping())
                continue;
            return -errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int64_t zc_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool zc_net_stalled(int fd, int64_t started_ns, int timeout_ms)
{
    if (zc_now_ns() - started_ns < (int64_t)timeout_ms * 1000000)
        return false;
    return zc_net_wait(fd, POLLIN, 0) == 0;
}

ssize_t zc_net_recv(int fd, void *buf, size_t len, int flags)
{
    ssize_t n;

    for (;;) {
        zc_client_syscalls++;
        n = recv(fd, buf, len, flags);
        if (n >= 0)
            return n;
        if (errno != EINTR || zc_stopping())
            return -errno;
    }
}

/* Consume exactly @len bytes already known to be queued (they were peeked). */
static int consume(int fd, char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = zc_net_recv(fd, buf + got, len - got, 0);

        if (n < 0)
            return (int)n;
        if (n == 0)
            return -ECONNRESET;
        got += (size_t)n;
    }
    return 0;
}

#define PEEK_FIRST 1024                 /* most heads fit; less body is copied */

/* Peek at the queued bytes, peeking further while the peek comes back full
 * and the head is still incomplete. Consume exactly the head when it is all
 * there, so the body stays queued for splice; otherwise consume what was
 * peeked (peeking again would only return the same bytes).
 * Return: bytes now in buf, or -errno. */
static ssize_t take_head_start(int fd, char *buf, size_t cap,
                               struct zc_http_resp *resp)
{
    size_t want = cap < PEEK_FIRST ? cap : PEEK_FIRST;
    ssize_t n;
    int ret;

    for (;;) {
        n = zc_net_recv(fd, buf, want, MSG_PEEK);
        if (n <= 0)
            return n < 0 ? n : -ECONNRESET;
        ret = zc_http_parse_response(buf, (size_t)n, resp);
        if (ret == ZC_RESP_BAD || ret == ZC_RESP_TOO_MANY_FIELDS)
            return ret == ZC_RESP_BAD ? -EPROTO : -E2BIG;
        if (ret > 0) {
            n = ret;
            break;
        }
        if ((size_t)n < want || want == cap)
            break;
        want = want * 2 < cap ? want * 2 : cap;
    }
    ret = consume(fd, buf, (size_t)n);
    return ret < 0 ? ret : n;
}

int zc_net_read_head(int fd, char *buf, size_t cap, size_t *have,
                     struct zc_http_resp *resp, bool interim_too)
{
    size_t len = 0;
    int ret;

    /* @cap bounds all the heads read, interim 1xx ones included: a server
     * sending "100 Continue" forever runs out of room, not us of time. */
    for (;;) {
        ssize_t n;

        if (cap == 0)
            return -EMSGSIZE;
        if (len == 0) {
            n = take_head_start(fd, buf, cap, resp);
            if (n < 0)
                return (int)n;
            len = (size_t)n;
        } else {
            ret = zc_http_parse_response(buf, len, resp);
            if (ret == ZC_RESP_PARTIAL) {
                if (len == cap)
                    return -EMSGSIZE;
                n = zc_net_recv(fd, buf + len, cap - len, 0);
                if (n <= 0)
                    return n < 0 ? (int)n : -ECONNRESET;
                len += (size_t)n;
            }
        }
        ret = zc_http_parse_response(buf, len, resp);
        if (ret == ZC_RESP_BAD || ret == ZC_RESP_TOO_MANY_FIELDS)
            return ret == ZC_RESP_BAD ? -EPROTO : -E2BIG;
        if (ret == ZC_RESP_PARTIAL)
            continue;
        if (resp->status >= 200 || resp->status == 101 || interim_too) {
            *have = len;
            return ret;
        }
        /* An interim 1xx response (100 Continue): skip it, keep what follows,
         * and count it against the room left. */
        memmove(buf, buf + ret, len - (size_t)ret);
        len -= (size_t)ret;
        cap -= (size_t)ret;
    }
}

const char *zc_net_head_problem(int err)
{
    switch (err) {
    case -EPROTO:
        return "malformed response from the server";
    case -E2BIG:
        return "too many header fields in the response";
    case -EMSGSIZE:
        return "response head too large (interim 1xx heads included)";
    default:
        return NULL;
    }
}

const char *zc_net_error_text(int err)
{
    if (err == -EAGAIN)
        return "timed out";
    return err == -ECONNRESET ? "connection closed by the server" : strerror(-err);
}
