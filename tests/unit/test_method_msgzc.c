/* test_method_msgzc.c - mmap + send(MSG_ZEROCOPY) to TCP: byte-exact over
 * IPv4 and IPv6 loopback, blocking and non-blocking; completions counted and
 * every mapping released; the switch to plain send after a COPIED report;
 * sockets whose zero-copy numbering is not ours; an fd number reused for a
 * new socket; refusals; a source truncated mid-transfer.
 *
 * Loopback always copies (the receiver cannot keep the sender's pages), so
 * the copied/zero-copied split is only reported, as the kernel's
 * msg_zerocopy selftest does; the data and the completion count are asserted. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sinks.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif

static bool zerocopy_supported(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    bool ok = fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0;

    if (fd >= 0)
        close(fd);
    return ok;
}

/* A connected ::1 pair, or false when IPv6 loopback is unavailable. */
static bool tcp6_pair(int fds[2])
{
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    socklen_t len = sizeof(sa);
    int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = false;

    if (lfd < 0)
        return false;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(lfd, 1) == 0 &&
        getsockname(lfd, (struct sockaddr *)&sa, &len) == 0) {
        fds[1] = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fds[1] >= 0 && connect(fds[1], (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            fds[0] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
            ok = fds[0] >= 0;
        }
        if (!ok && fds[1] >= 0)
            close(fds[1]);
    }
    close(lfd);
    return ok;
}

static void report_zc(zc_ctx *ctx, const char *what)
{
    struct zc_stats st;

    zc_ctx_stats(ctx, &st);
    t_diag("%s: %llu zero-copy completions, %llu bytes the kernel copied anyway",
           what, (unsigned long long)st.method[ZC_MSG_ZEROCOPY].zc_sent,
           (unsigned long long)st.method[ZC_MSG_ZEROCOPY].zc_copied);
}

static void test_matrix(zc_ctx *ctx)
{
    static const struct sink_opts blocking = { 0 };

    for (size_t i = 0; i < T_ARRAY_SIZE(sink_sizes); i++) {
        struct zc_stats st;

        zc_ctx_stats_reset(ctx);
        sink_case(ctx, ZC_MSG_ZEROCOPY, SINK_TCP, sink_sizes[i], &blocking);
        zc_ctx_stats(ctx, &st);
        /* A fresh socket: its first send is zero-copy, and a blocking call
         * returns only after that send's completion arrived. */
        if (sink_sizes[i])
            t_ok(st.method[ZC_MSG_ZEROCOPY].zc_sent >= 1,
                 "%llu bytes: completions reaped (%llu)",
                 (unsigned long long)sink_sizes[i],
                 (unsigned long long)st.method[ZC_MSG_ZEROCOPY].zc_sent);
        t_ok(st.method[ZC_MSG_ZEROCOPY].zc_copied <= sink_sizes[i],
             "%llu bytes: copied bytes within what was sent",
             (unsigned long long)sink_sizes[i]);
        report_zc(ctx, "blocking");
    }
}

/* Over ::1 the notifications come as IPV6_RECVERR. */
static void test_ipv6(zc_ctx *ctx)
{
    int fds[2], in_fd = t_pattern_file((1u << 20) + 1, false, NULL);
    struct t_sink r;
    struct zc_stats st;
    off_t off = 0;
    ssize_t n;

    if (!tcp6_pair(fds)) {
        t_diag("no IPv6 loopback: IPv6 case skipped");
        close(in_fd);
        return;
    }
    zc_ctx_stats_reset(ctx);
    t_sink_start(&r, fds[1], 0, 0);
    n = zc_transfer(ctx, fds[0], in_fd, &off, (1u << 20) + 1, ZC_MSG_ZEROCOPY);
    t_is_int(t_maps_of(in_fd), 0, "ipv6: nothing left mapped");
    close(fds[0]);
    t_sink_join(&r);
    close(fds[1]);
    zc_ctx_stats(ctx, &st);
    t_is_int(n, (1 << 20) + 1, "ipv6: all moved");
    t_ok(r.bytes == (1u << 20) + 1 && r.hash == pattern_hash(r.bytes), "ipv6: byte-exact");
    t_ok(st.method[ZC_MSG_ZEROCOPY].zc_sent >= 1, "ipv6: completions reaped");
    report_zc(ctx, "ipv6");
    close(in_fd);
}

/* Small send buffer and a slow reader: many -EAGAIN resumes; mappings of
 * sends in flight stay in the ctx and are released by later calls or by
 * zc_ctx_free(). */
static void test_nonblocking(void)
{
    static const struct sink_opts nb = {
        .nonblock = true, .sndbuf = 4096, .delay_us = 50, .read_chunk = 4096 };
    static const uint64_t sizes[] = { 1, 65537, (8u << 20) + 3 };

    for (size_t i = 0; i < T_ARRAY_SIZE(sizes); i++) {
        zc_ctx *ctx = zc_ctx_new();
        int in_fd = t_pattern_file(sizes[i], false, NULL);
        struct sink s;
        unsigned eagains;
        uint64_t bytes, hash;
        ssize_t n;

        sink_open(&s, SINK_TCP, &nb);
        n = sink_pump(ctx, s.out_fd, in_fd, (size_t)sizes[i], ZC_MSG_ZEROCOPY, &eagains);
        t_is_int(n, (long long)sizes[i], "non-blocking %llu bytes: moved all",
                 (unsigned long long)sizes[i]);
        t_diag("non-blocking %llu bytes: %u EAGAINs, %d mappings still in flight",
               (unsigned long long)sizes[i], eagains, t_maps_of(in_fd));
        report_zc(ctx, "non-blocking");
        /* Freed while the socket is open: waits (bounded) and unmaps. */
        zc_ctx_free(ctx);
        t_is_int(t_maps_of(in_fd), 0, "non-blocking %llu bytes: zc_ctx_free unmapped all",
                 (unsigned long long)sizes[i]);
        sink_close(&s, &bytes, &hash);
        t_ok(bytes == sizes[i] && hash == pattern_hash(sizes[i]),
             "non-blocking %llu bytes: byte-exact", (unsigned long long)sizes[i]);
        close(in_fd);
    }
}

/* Once loopback reported COPIED, the socket gets plain sends: a second
 * transfer on it adds no zero-copy completion. */
static void test_copied_switch(zc_ctx *ctx)
{
    int fds[2], in_fd = t_pattern_file(300000, false, NULL);
    struct t_sink r;
    struct zc_stats a, b;
    off_t off = 0;

    t_tcp_pair(fds);
    t_sink_start(&r, fds[1], 0, 0);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, fds[0], in_fd, &off, 100000, ZC_MSG_ZEROCOPY), 100000,
             "first transfer");
    zc_ctx_stats(ctx, &a);
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, fds[0], in_fd, &off, 200000, ZC_MSG_ZEROCOPY), 200000,
             "second transfer on the same socket");
    zc_ctx_stats(ctx, &b);
    zc_ctx_set_flags(ctx, 0);
    if (a.method[ZC_MSG_ZEROCOPY].zc_copied > 0) {
        t_is_int(b.method[ZC_MSG_ZEROCOPY].zc_sent, 0,
                 "after COPIED: plain sends, no new zero-copy completion");
        /* A known socket, nothing in flight: fstat x2, fcntl, then
         * mmap + one blocking send + munmap. */
        t_is_int(b.method[ZC_MSG_ZEROCOPY].syscalls, 6,
                 "after COPIED: syscalls exact");
    } else
        t_diag("the kernel did not copy (not loopback-like): no switch to test");
    close(fds[0]);
    t_sink_join(&r);
    t_ok(r.bytes == 300000 && r.hash == pattern_hash(300000), "both transfers byte-exact");
    close(fds[1]);
    close(in_fd);
}

/* SO_ZEROCOPY already on: someone else numbers its sends, so the method
 * never sends MSG_ZEROCOPY there (plain sends from the mapping). */
static void test_foreign_zerocopy(zc_ctx *ctx)
{
    int fds[2], one = 1, in_fd = t_pattern_file(65537, false, NULL);
    struct t_sink r;
    struct zc_stats st;
    off_t off = 0;

    t_tcp_pair(fds);
    setsockopt(fds[0], SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one));
    t_sink_start(&r, fds[1], 0, 0);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, fds[0], in_fd, &off, 65537, ZC_MSG_ZEROCOPY), 65537,
             "foreign SO_ZEROCOPY: moved");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.method[ZC_MSG_ZEROCOPY].zc_sent, 0, "foreign SO_ZEROCOPY: no zero-copy send");
    close(fds[0]);
    t_sink_join(&r);
    t_ok(r.bytes == 65537 && r.hash == pattern_hash(65537), "foreign SO_ZEROCOPY: byte-exact");
    close(fds[1]);
    close(in_fd);
}

/* Socket A leaves sends in flight (non-blocking, nobody reading), is closed,
 * and its fd number is reused by socket B: B starts a fresh numbering. */
static void test_fd_reuse(zc_ctx *ctx)
{
    int a[2], b[2], in_fd = t_pattern_file(1u << 20, false, NULL);
    struct t_sink r;
    off_t off = 0;
    ssize_t n;

    t_tcp_pair(a);
    t_set_nonblock(a[0], true);
    n = zc_transfer(ctx, a[0], in_fd, &off, 1u << 20, ZC_MSG_ZEROCOPY);
    t_ok(n > 0, "socket A: some bytes left (%zd)", n);
    close(a[0]);
    close(a[1]);
    t_tcp_pair(b);
    if (b[0] != a[0]) {
        dup2(b[0], a[0]);
        close(b[0]);
        b[0] = a[0];
    }
    t_sink_start(&r, b[1], 0, 0);
    zc_ctx_stats_reset(ctx);
    off = 0;
    n = zc_transfer(ctx, b[0], in_fd, &off, 1u << 20, ZC_MSG_ZEROCOPY);
    t_is_int(n, 1 << 20, "socket B on A's fd number: all moved");
    t_is_int(t_maps_of(in_fd), 0, "A's mappings released, B's completed");
    close(b[0]);
    t_sink_join(&r);
    t_ok(r.bytes == 1u << 20 && r.hash == pattern_hash(1u << 20), "socket B: byte-exact");
    close(b[1]);
    close(in_fd);
}

static void test_refusals(zc_ctx *ctx)
{
    int in_fd = t_pattern_file(100, false, NULL), u[2], p[2];
    int udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int file = t_pattern_file(0, false, NULL);
    int proc = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    int tcp[2];
    struct zc_stats st;
    off_t off = 0;

    t_unix_pair(u);
    t_pipe(p);
    t_tcp_pair(tcp);
    zc_ctx_stats_reset(ctx);
    t_is_int(zc_transfer(ctx, u[0], in_fd, &off, 100, ZC_MSG_ZEROCOPY), -EINVAL, "AF_UNIX sink");
    zc_ctx_stats(ctx, &st);
    t_is_int(st.method[ZC_MSG_ZEROCOPY].syscalls, 3,
             "AF_UNIX refused after fstat x2 + getsockopt(SO_DOMAIN)");
    t_is_int(zc_transfer(ctx, p[0], in_fd, &off, 100, ZC_MSG_ZEROCOPY), -EINVAL, "pipe sink");
    t_is_int(zc_transfer(ctx, file, in_fd, &off, 100, ZC_MSG_ZEROCOPY), -EINVAL, "file sink");
    t_is_int(zc_transfer(ctx, null_fd, in_fd, &off, 100, ZC_MSG_ZEROCOPY), -EINVAL,
             "/dev/null sink");
    t_is_int(zc_transfer(ctx, udp, in_fd, &off, 100, ZC_MSG_ZEROCOPY), -EINVAL, "UDP sink");
    t_is_int(zc_transfer(ctx, tcp[0], p[1], NULL, 100, ZC_MSG_ZEROCOPY), -EINVAL,
             "pipe source");
    t_is_int(zc_transfer(ctx, tcp[0], proc, &off, 100, ZC_MSG_ZEROCOPY), -EINVAL,
             "procfs source (size 0, not mappable)");
    t_is_int(off, 0, "refusals leave the offset");
    close(tcp[0]); close(tcp[1]);
    close(proc); close(file); close(null_fd); close(udp);
    close(u[0]); close(u[1]); close(p[0]); close(p[1]);
    close(in_fd);
}

/* ENOBUFS without EPOLLERR: in a network namespace of its own (root only)
 * a child sets net.core.optmem_max to 0, so no zero-copy notification can
 * be allocated and every MSG_ZEROCOPY send fails with ENOBUFS. The method
 * must fall back to plain sends and still deliver every byte. */
struct enobufs_result {
    ssize_t n;
    uint64_t bytes, zc_sent;
    int hash_ok, maps;
};

static int enobufs_child(int in_fd, uint64_t size, struct enobufs_result *res)
{
    struct ifreq ifr = { .ifr_name = "lo" };
    int ctl, fds[2], optmem;
    struct zc_stats st;
    struct t_sink r;
    zc_ctx *ctx;
    off_t off = 0;

    if (unshare(CLONE_NEWNET) < 0)
        return 77;
    ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (ctl < 0 || ioctl(ctl, SIOCGIFFLAGS, &ifr) < 0)
        return 77;
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(ctl, SIOCSIFFLAGS, &ifr) < 0)
        return 77;
    close(ctl);
    optmem = open("/proc/sys/net/core/optmem_max", O_WRONLY | O_CLOEXEC);
    if (optmem < 0 || write(optmem, "0\n", 2) != 2)
        return 77;
    close(optmem);
    ctx = zc_ctx_new();
    t_tcp_pair(fds);
    t_sink_start(&r, fds[1], 0, 0);
    res->n = zc_transfer(ctx, fds[0], in_fd, &off, (size_t)size, ZC_MSG_ZEROCOPY);
    res->maps = t_maps_of(in_fd);
    close(fds[0]);
    t_sink_join(&r);
    close(fds[1]);
    zc_ctx_stats(ctx, &st);
    res->bytes = r.bytes;
    res->hash_ok = r.hash == pattern_hash(size);
    res->zc_sent = st.method[ZC_MSG_ZEROCOPY].zc_sent;
    zc_ctx_free(ctx);
    return 0;
}

static void test_enobufs(void)
{
    const uint64_t size = (1u << 20) + 1;
    int in_fd = t_pattern_file(size, false, NULL), p[2], status = 0;
    struct enobufs_result res = { 0 };
    pid_t pid;

    if (geteuid() != 0) {
        t_diag("not root: ENOBUFS case (own network namespace) skipped");
        close(in_fd);
        return;
    }
    if (pipe2(p, O_CLOEXEC) < 0)
        abort();
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        int rc = enobufs_child(in_fd, size, &res);

        if (write(p[1], &res, sizeof(res)) != sizeof(res))
            rc = 1;
        _exit(rc);
    }
    close(p[1]);
    if (read(p[0], &res, sizeof(res)) != sizeof(res))
        res.n = -1;
    close(p[0]);
    waitpid(pid, &status, 0);
    close(in_fd);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        t_diag("no private network namespace: ENOBUFS case skipped");
        return;
    }
    t_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ENOBUFS child ran cleanly");
    t_is_int(res.n, (long long)size, "optmem_max 0 (ENOBUFS): all moved by plain sends");
    t_ok(res.bytes == size && res.hash_ok, "optmem_max 0: byte-exact");
    t_is_int(res.zc_sent, 0, "optmem_max 0: no zero-copy send succeeded");
    t_is_int(res.maps, 0, "optmem_max 0: nothing left mapped");
}

static void on_sigbus(int sig)
{
    (void)sig;
    _exit(3);                   /* a SIGBUS is a failure: leave loudly */
}

int main(void)
{
    int fds_before = t_count_fds();
    zc_ctx *ctx;

    if (!zerocopy_supported())
        t_skip_all("SO_ZEROCOPY not supported by this kernel");
    signal(SIGBUS, on_sigbus);
    ctx = zc_ctx_new();
    test_matrix(ctx);
    test_ipv6(ctx);
    test_nonblocking();
    test_copied_switch(ctx);
    test_foreign_zerocopy(ctx);
    test_fd_reuse(ctx);
    test_refusals(ctx);
    tcp_truncation_case(ctx, ZC_MSG_ZEROCOPY);
    test_enobufs();
    sink_case_over_4g(ctx, ZC_MSG_ZEROCOPY, SINK_TCP);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
