/* sinks.c - where a measurement's bytes go. Socket and pipe sinks have a
 * receiving process that reads into a 1 MiB buffer and discards, as a real
 * consumer would, measures its own CPU with getrusage and reports it back over
 * a pipe when it sees end of file. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define RECEIVER_BUF ((size_t)1 << 20)
/* A receiver that outlives this is stuck (the sender died without closing):
 * SIGALRM's default action ends it, which closes its end. */
#define RECEIVER_MAX_SECONDS 600

/* For the signal handler: what to kill and remove if the run is cut short. */
static volatile pid_t current_receiver = -1;
static char current_path[512];

void bench_sink_kill_current(void)
{
    pid_t pid = current_receiver;

    if (pid > 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        current_receiver = -1;
    }
    if (current_path[0]) {
        unlink(current_path);
        current_path[0] = '\0';
    }
}

static double tv_s(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static ssize_t write_full(int fd, const void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = write(fd, (const char *)buf + done, len - done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return (ssize_t)done;
}

/* Close every fd but the two this process keeps. */
static void close_others(int a, int b)
{
    int lo = a < b ? a : b, hi = a < b ? b : a;

    if (lo > 3)
        close_range(3, (unsigned)lo - 1, 0);
    if (hi > lo + 1)
        close_range((unsigned)lo + 1, (unsigned)hi - 1, 0);
    close_range((unsigned)hi + 1, ~0U, 0);
}

static void __attribute__((noreturn)) receiver_main(int fd, int report_fd)
{
    struct bench_rcv_report rep = { 0 };
    struct rusage r0, r1;
    char *buf;

    close_others(fd, report_fd);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN);    /* the parent cleans up and kills us */
    alarm(RECEIVER_MAX_SECONDS);
    buf = malloc(RECEIVER_BUF);
    getrusage(RUSAGE_SELF, &r0);
    if (!buf)
        rep.error = -ENOMEM;
    while (buf) {
        ssize_t n = read(fd, buf, RECEIVER_BUF);

        if (n > 0) {
            rep.bytes += (uint64_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rep.error = -errno;
        break;
    }
    getrusage(RUSAGE_SELF, &r1);
    rep.user = tv_s(r1.ru_utime) - tv_s(r0.ru_utime);
    rep.sys = tv_s(r1.ru_stime) - tv_s(r0.ru_stime);
    rep.nvcsw = (uint64_t)(r1.ru_nvcsw - r0.ru_nvcsw);
    rep.nivcsw = (uint64_t)(r1.ru_nivcsw - r0.ru_nivcsw);
    write_full(report_fd, &rep, sizeof(rep));
    _exit(rep.error ? 1 : 0);
}

/* Fork the receiver on @rcv_fd; the parent keeps nothing of it but its pid
 * and the report pipe's read end. */
static int start_receiver(struct bench_sink_conn *c, int rcv_fd)
{
    int rp[2], ret;
    pid_t pid;

    if (pipe2(rp, O_CLOEXEC) < 0)
        return -errno;
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        ret = -errno;
        close(rp[0]);
        close(rp[1]);
        return ret;
    }
    if (pid == 0) {
        close(rp[0]);
        receiver_main(rcv_fd, rp[1]);
    }
    close(rp[1]);
    close(rcv_fd);
    c->receiver = pid;
    c->report_fd = rp[0];
    current_receiver = pid;
    return 0;
}

static int tcp_loopback_pair(int *client, int *server)
{
    struct sockaddr_in sa = { .sin_family = AF_INET,
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof(sa);
    int lfd, cfd = -1, sfd, ret;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0)
        return -errno;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0 ||
        getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
        goto fail;
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto fail;
    sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (sfd < 0)
        goto fail;
    close(lfd);
    *client = cfd;
    *server = sfd;
    return 0;

fail:
    ret = -errno;
    if (cfd >= 0)
        close(cfd);
    close(lfd);
    return ret;
}

int bench_sink_open(enum bench_sink s, const char *dir, struct bench_netns *ns,
                    struct bench_sink_conn *c)
{
    int fds[2], ret;

    memset(c, 0, sizeof(*c));
    c->sink = s;
    c->out_fd = c->report_fd = -1;
    c->receiver = -1;

    switch (s) {
    case BENCH_SINK_DEVNULL:
        c->out_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        return c->out_fd < 0 ? -errno : 0;
    case BENCH_SINK_FILE:
        snprintf(c->path, sizeof(c->path), "%s/zcopy-bench-sink.%ld", dir,
                 (long)getpid());
        c->out_fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (c->out_fd < 0) {
            c->path[0] = '\0';
            return -errno;
        }
        snprintf(current_path, sizeof(current_path), "%s", c->path);
        return 0;
    case BENCH_SINK_PIPE:
        if (pipe2(fds, O_CLOEXEC) < 0)
            return -errno;
        /* A tuned consumer's pipe (the library's own splice pipe is 1 MiB
         * too); best effort: pipe-max-size may be lower. */
        fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
        c->out_fd = fds[1];
        ret = start_receiver(c, fds[0]);
        break;
    case BENCH_SINK_UNIX:
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
            return -errno;
        c->out_fd = fds[0];
        ret = start_receiver(c, fds[1]);
        break;
    case BENCH_SINK_TCP:
        ret = tcp_loopback_pair(&fds[0], &fds[1]);
        if (ret < 0)
            return ret;
        c->out_fd = fds[0];
        ret = start_receiver(c, fds[1]);
        break;
    case BENCH_SINK_VETH:
        if (!ns || !ns->up)
            return -ENODEV;
        ret = bench_netns_tcp_pair(ns, &fds[0], &fds[1]);
        if (ret < 0)
            return ret;
        c->out_fd = fds[0];
        ret = start_receiver(c, fds[1]);
        break;
    default:
        return -EINVAL;
    }
    if (ret < 0) {
        close(fds[0]);
        close(fds[1]);
        c->out_fd = -1;
    }
    return ret;
}

int bench_sink_finish(struct bench_sink_conn *c, struct bench_rcv_report *rep,
                      int timeout_s)
{
    int ret = 0;

    memset(rep, 0, sizeof(*rep));
    if (c->out_fd >= 0) {
        close(c->out_fd);       /* the receiver's end of file */
        c->out_fd = -1;
    }
    if (c->path[0]) {
        unlink(c->path);
        c->path[0] = current_path[0] = '\0';
    }
    if (c->receiver <= 0)
        return 0;

    struct pollfd pfd = { .fd = c->report_fd, .events = POLLIN };
    int pr;

    do {
        pr = poll(&pfd, 1, timeout_s * 1000);
    } while (pr < 0 && errno == EINTR);
    if (pr == 1) {
        ssize_t n;

        do {
            n = read(c->report_fd, rep, sizeof(*rep));
        } while (n < 0 && errno == EINTR);
        ret = n == (ssize_t)sizeof(*rep) ? 1 : -EIO;
    } else {
        ret = -ETIMEDOUT;
    }
    if (ret != 1)
        kill(c->receiver, SIGKILL);
    while (waitpid(c->receiver, NULL, 0) < 0 && errno == EINTR)
        ;
    close(c->report_fd);
    c->report_fd = -1;
    c->receiver = -1;
    current_receiver = -1;
    return ret;
}
