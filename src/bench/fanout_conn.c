/* fanout_conn.c - N connections for `zcopy bench --fanout`: AF_UNIX socket
 * pairs or loopback TCP connections, whose receiving ends all go to one
 * child process. It drains them with poll + read (1 MiB per call, as a
 * consumer would), checks one byte per page of every message (a page
 * changed in flight would show), and reports its CPU over a pipe. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define RECEIVER_BUF ((size_t)1 << 20)
#define RECEIVER_MAX_SECONDS 600
#define CHECK_STRIDE ((uint64_t)4096)

/* Every byte at a multiple of CHECK_STRIDE in the stream, and the first of
 * each read, must be its message's byte. */
static bool check_bytes(const uint8_t *buf, size_t len, uint64_t at, uint64_t size)
{
    uint64_t p = at;

    while (p < at + len) {
        if (buf[p - at] != bench_fanout_byte(p / size))
            return false;
        p = (p / CHECK_STRIDE + 1) * CHECK_STRIDE;
    }
    return true;
}

static void __attribute__((noreturn)) receiver_main(int *fds, unsigned n, uint64_t size,
                                                    int report_fd)
{
    struct bench_rcv_report rep = { 0 };
    struct pollfd *pfd = calloc(n, sizeof(*pfd));
    uint64_t *at = calloc(n, sizeof(*at));
    uint8_t *buf = malloc(RECEIVER_BUF);
    struct rusage r0, r1;
    unsigned open_fds = n;

    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);    /* the parent cleans up and kills us */
    alarm(RECEIVER_MAX_SECONDS);
    getrusage(RUSAGE_SELF, &r0);
    if (!pfd || !at || !buf) {
        rep.error = -ENOMEM;
        open_fds = 0;
    }
    for (unsigned i = 0; pfd && i < n; i++) {
        pfd[i].fd = fds[i];
        pfd[i].events = POLLIN;
    }
    while (open_fds > 0) {
        if (poll(pfd, n, -1) < 0) {
            if (errno == EINTR)
                continue;
            rep.error = -errno;
            break;
        }
        for (unsigned i = 0; i < n; i++) {
            ssize_t got;

            if (pfd[i].fd < 0 || !pfd[i].revents)
                continue;
            got = read(pfd[i].fd, buf, RECEIVER_BUF);
            if (got > 0) {
                if (!check_bytes(buf, (size_t)got, at[i], size))
                    rep.error = -EBADMSG;
                at[i] += (uint64_t)got;
                rep.bytes += (uint64_t)got;
                continue;
            }
            if (got < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (got < 0 && !rep.error)
                rep.error = -errno;
            close(pfd[i].fd);
            pfd[i].fd = -1;
            open_fds--;
        }
    }
    getrusage(RUSAGE_SELF, &r1);
    rep.user = bench_tv_s(r1.ru_utime) - bench_tv_s(r0.ru_utime);
    rep.sys = bench_tv_s(r1.ru_stime) - bench_tv_s(r0.ru_stime);
    rep.nvcsw = (uint64_t)(r1.ru_nvcsw - r0.ru_nvcsw);
    rep.nivcsw = (uint64_t)(r1.ru_nivcsw - r0.ru_nivcsw);
    if (write(report_fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
        _exit(2);
    _exit(rep.error ? 1 : 0);
}

/* One TCP connection over 127.0.0.1: *snd is the connecting end. */
static int tcp_conn(int listener, const struct sockaddr_in *sa, int *snd, int *rcv)
{
    int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), a, ret;

    if (c < 0)
        return -errno;
    if (connect(c, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
        ret = -errno;
        close(c);
        return ret;
    }
    a = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (a < 0) {
        ret = -errno;
        close(c);
        return ret;
    }
    *snd = c;
    *rcv = a;
    return 0;
}

static int tcp_listener(struct sockaddr_in *sa, unsigned backlog)
{
    socklen_t len = sizeof(*sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ret;

    if (fd < 0)
        return -errno;
    memset(sa, 0, sizeof(*sa));
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) < 0 ||
        listen(fd, (int)backlog) < 0 ||
        getsockname(fd, (struct sockaddr *)sa, &len) < 0) {
        ret = -errno;
        close(fd);
        return ret;
    }
    return fd;
}

static void close_all(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int bench_fanout_open(enum bench_sink sink, unsigned n, uint64_t size,
                      struct bench_fanout_conn *c)
{
    int *rcv = calloc(n, sizeof(int)), listener = -1, rp[2], ret = 0;
    struct sockaddr_in sa;
    unsigned made = 0;
    pid_t pid;

    memset(c, 0, sizeof(*c));
    c->receiver = -1;
    c->report_fd = -1;
    c->out_fd = calloc(n, sizeof(int));
    if (!rcv || !c->out_fd) {
        free(rcv);
        free(c->out_fd);
        c->out_fd = NULL;
        return -ENOMEM;
    }
    if (sink == BENCH_SINK_TCP) {
        listener = tcp_listener(&sa, n);
        if (listener < 0)
            ret = listener;
    } else if (sink != BENCH_SINK_UNIX) {
        ret = -EINVAL;
    }
    for (; ret == 0 && made < n; made++) {
        int pair[2];

        if (sink == BENCH_SINK_TCP) {
            ret = tcp_conn(listener, &sa, &pair[0], &pair[1]);
        } else if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
            ret = -errno;
        }
        if (ret < 0)
            break;
        c->out_fd[made] = pair[0];
        rcv[made] = pair[1];
    }
    if (listener >= 0)
        close(listener);
    if (ret == 0 && pipe2(rp, O_CLOEXEC) < 0)
        ret = -errno;
    if (ret < 0)
        goto fail;
    pid = fork();
    if (pid < 0) {
        ret = -errno;
        close(rp[0]);
        close(rp[1]);
        goto fail;
    }
    if (pid == 0) {
        close_all(c->out_fd, n);
        close(rp[0]);
        receiver_main(rcv, n, size, rp[1]);
    }
    close(rp[1]);
    close_all(rcv, n);
    free(rcv);
    c->n = n;
    c->receiver = pid;
    c->report_fd = rp[0];
    return 0;

fail:
    close_all(c->out_fd, made);
    close_all(rcv, made);
    free(rcv);
    free(c->out_fd);
    c->out_fd = NULL;
    return ret;
}

int bench_fanout_finish(struct bench_fanout_conn *c, struct bench_rcv_report *rep,
                        int timeout_s)
{
    struct pollfd pfd = { .fd = c->report_fd, .events = POLLIN };
    int ret = 0, status;

    memset(rep, 0, sizeof(*rep));
    close_all(c->out_fd, c->n);
    free(c->out_fd);
    c->out_fd = NULL;
    if (c->receiver < 0)
        return 0;
    if (poll(&pfd, 1, timeout_s * 1000) <= 0 ||
        read(c->report_fd, rep, sizeof(*rep)) != (ssize_t)sizeof(*rep)) {
        kill(c->receiver, SIGKILL);
        ret = -ETIMEDOUT;
    }
    waitpid(c->receiver, &status, 0);
    close(c->report_fd);
    c->receiver = -1;
    c->report_fd = -1;
    return ret;
}
