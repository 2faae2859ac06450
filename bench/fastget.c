/* bench/fastget.c - a load client that reads 1 MiB per recv, so that with
 * large bodies the server, not the client, is the bottleneck (wrk reads 8 KiB
 * per call and tops out near 1.5-2 GB/s on this machine).
 *
 * One thread, CONNS keep-alive connections on epoll, one GET at a time per
 * connection, for SECONDS. Bytes are everything read (headers included, and
 * the partial bodies in flight at the end), as wrk counts them.
 *
 * usage: fastget [-c CONNS] [-d SECONDS] [-r READ_BYTES] HOST PORT PATH
 * prints: requests N bytes B seconds S non2xx K errors E
 *
 * Benchmark tool only (built by `make bench-serve`), not part of zcopy. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    char head[8192];   /* response headers seen so far */
    size_t head_len;
    long long body_left; /* -1 while reading headers */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int send_request(struct conn *c, const char *req, size_t len)
{
    c->head_len = 0;
    c->body_left = -1;
    /* A request is a few dozen bytes: an empty socket takes it whole. */
    ssize_t n = send(c->fd, req, len, MSG_NOSIGNAL);
    return n == (ssize_t)len ? 0 : -1;
}

static int open_conn(struct conn *c, const struct sockaddr_in *sa, int ep)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    if (setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
        connect(c->fd, (const struct sockaddr *)sa, sizeof *sa) < 0) {
        close(c->fd);
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        close(c->fd);
        return -1;
    }
    return 0;
}

/* Parse "HTTP/1.1 200 ...\r\n...Content-Length: N\r\n...\r\n\r\n". */
static long long content_length(const char *head, int *status)
{
    *status = atoi(head + 9);
    const char *p = strcasestr(head, "\r\ncontent-length:");
    return p ? atoll(p + 17) : -1;
}

int main(int argc, char **argv)
{
    int conns = 4, opt;
    double seconds = 5;
    size_t rsize = 1 << 20;
    while ((opt = getopt(argc, argv, "c:d:r:")) != -1) {
        switch (opt) {
        case 'c': conns = atoi(optarg); break;
        case 'd': seconds = atof(optarg); break;
        case 'r': rsize = (size_t)atol(optarg); break;
        default: goto usage;
        }
    }
    if (argc - optind != 3 || conns < 1 || conns > 1024 || seconds <= 0 || rsize < 1)
        goto usage;

    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(argv[optind + 1]))};
    if (inet_pton(AF_INET, argv[optind], &sa.sin_addr) != 1)
        goto usage;
    char req[1024];
    int rlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n",
                        argv[optind + 2], argv[optind]);
    if (rlen < 0 || (size_t)rlen >= sizeof req)
        goto usage;

    char *buf = malloc(rsize);
    struct conn *cs = calloc((size_t)conns, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!buf || !cs || ep < 0) {
        perror("fastget");
        return 1;
    }
    for (int i = 0; i < conns; i++) {
        if (open_conn(&cs[i], &sa, ep) < 0 || send_request(&cs[i], req, (size_t)rlen) < 0) {
            perror("fastget: connect");
            return 1;
        }
    }

    long long requests = 0, bytes = 0, non2xx = 0, errors = 0;
    double start = now(), end = start + seconds, t;
    struct epoll_event evs[64];
    while ((t = now()) < end) {
        int ms = (int)((end - t) * 1000) + 1;
        int n = epoll_wait(ep, evs, 64, ms);
        if (n < 0 && errno != EINTR) {
            perror("fastget: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = evs[i].data.ptr;
            ssize_t got = recv(c->fd, buf, rsize, 0);
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR))
                    continue;
                errors++;   /* closed or failed: reconnect, as wrk does */
                close(c->fd);
                if (open_conn(c, &sa, ep) < 0 || send_request(c, req, (size_t)rlen) < 0) {
                    perror("fastget: reconnect");
                    return 1;
                }
                continue;
            }
            bytes += got;
            const char *p = buf;
            size_t left = (size_t)got;
            if (c->body_left < 0) {
                size_t take = left;
                if (take > sizeof c->head - 1 - c->head_len)
                    take = sizeof c->head - 1 - c->head_len;
                memcpy(c->head + c->head_len, p, take);
                size_t old = c->head_len;
                c->head_len += take;
                c->head[c->head_len] = '\0';
                char *e = strstr(c->head, "\r\n\r\n");
                if (!e) {
                    if (c->head_len == sizeof c->head - 1) {
                        fprintf(stderr, "fastget: headers too long\n");
                        return 1;
                    }
                    continue;
                }
                size_t used = (size_t)(e + 4 - c->head) - old;
                p += used;
                left -= used;
                int status;
                c->body_left = content_length(c->head, &status);
                if (c->body_left < 0) {
                    fprintf(stderr, "fastget: no Content-Length\n");
                    return 1;
                }
                if (status < 200 || status > 299)
                    non2xx++;
            }
            if ((long long)left > c->body_left) {
                fprintf(stderr, "fastget: more bytes than Content-Length\n");
                return 1;
            }
            c->body_left -= (long long)left;
            if (c->body_left == 0) {
                requests++;
                if (send_request(c, req, (size_t)rlen) < 0) {
                    perror("fastget: send");
                    return 1;
                }
            }
        }
    }
    printf("requests %lld bytes %lld seconds %.3f non2xx %lld errors %lld\n",
           requests, bytes, now() - start, non2xx, errors);
    for (int i = 0; i < conns; i++)
        close(cs[i].fd);
    close(ep);
    free(cs);
    free(buf);
    return 0;

usage:
    fprintf(stderr, "usage: fastget [-c CONNS] [-d SECONDS] [-r READ_BYTES] HOST PORT PATH\n");
    return 2;
}
