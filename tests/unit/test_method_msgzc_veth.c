/* test_method_msgzc_veth.c - MSG_ZEROCOPY across a veth pair between two
 * network namespaces (root only), as the kernel's msg_zerocopy selftest
 * does: a real device with scatter-gather and segmentation offloads instead
 * of loopback. Asserts the bytes, that completions were counted and that
 * nothing stays mapped; only reports how much the kernel copied anyway
 * (local delivery in the peer namespace still copies). The namespaces are
 * always deleted, also when the test skips or fails. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sinks.h"

static char ns_a[32], ns_b[32];

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    return system(cmd);
}

static void cleanup_netns(void)
{
    if (ns_a[0])
        run("ip netns del %s 2>/dev/null", ns_a);
    if (ns_b[0])
        run("ip netns del %s 2>/dev/null", ns_b);
}

static int open_netns(const char *name)
{
    char path[128];

    snprintf(path, sizeof(path), "/var/run/netns/%s", name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Sockets keep the namespace they were created in, so the thread visits
 * B to listen, A to connect, and comes home. */
static bool make_pair(int fds[2])
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(47813) };
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    int a = open_netns(ns_a), b = open_netns(ns_b), lfd = -1, cfd = -1, one = 1;
    bool ok = false;

    inet_pton(AF_INET, "10.213.0.2", &sa.sin_addr);
    if (home < 0 || a < 0 || b < 0 || setns(b, CLONE_NEWNET) < 0)
        goto out;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 1) < 0)
        goto back;
    if (setns(a, CLONE_NEWNET) < 0)
        goto back;
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto back;
    fds[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fds[1] < 0)
        goto back;
    fds[0] = cfd;
    cfd = -1;
    ok = true;
back:
    if (setns(home, CLONE_NEWNET) < 0)
        abort();                /* a test thread stranded in a namespace */
out:
    if (lfd >= 0)
        close(lfd);
    if (cfd >= 0)
        close(cfd);
    if (home >= 0)
        close(home);
    if (a >= 0)
        close(a);
    if (b >= 0)
        close(b);
    return ok;
}

static bool setup_netns(void)
{
    int pid = getpid();

    if (run("command -v ip >/dev/null 2>&1") != 0)
        return false;
    snprintf(ns_a, sizeof(ns_a), "zcA%d", pid);
    snprintf(ns_b, sizeof(ns_b), "zcB%d", pid);
    atexit(cleanup_netns);
    return run("ip netns add %s", ns_a) == 0 && run("ip netns add %s", ns_b) == 0 &&
           run("ip link add zva%d netns %s type veth peer name zvb%d netns %s",
               pid, ns_a, pid, ns_b) == 0 &&
           run("ip -n %s addr add 10.213.0.1/24 dev zva%d", ns_a, pid) == 0 &&
           run("ip -n %s addr add 10.213.0.2/24 dev zvb%d", ns_b, pid) == 0 &&
           run("ip -n %s link set zva%d up && ip -n %s link set lo up", ns_a, pid, ns_a) == 0 &&
           run("ip -n %s link set zvb%d up && ip -n %s link set lo up", ns_b, pid, ns_b) == 0;
}

int main(void)
{
    const uint64_t size = (8u << 20) + 3;
    int fds_before, fds[2], in_fd;
    struct zc_stats st;
    struct t_sink r;
    zc_ctx *ctx;
    off_t off = 0;
    ssize_t n;

    if (geteuid() != 0)
        t_skip_all("needs root to create network namespaces");
    fds_before = t_count_fds();
    if (!setup_netns())
        t_skip_all("cannot build two network namespaces with a veth pair");
    if (!make_pair(fds))
        t_skip_all("no TCP connection across the veth pair");
    in_fd = t_pattern_file(size, false, NULL);
    ctx = zc_ctx_new();
    t_sink_start(&r, fds[1], 0, 0);
    n = zc_transfer(ctx, fds[0], in_fd, &off, (size_t)size, ZC_MSG_ZEROCOPY);
    t_is_int(t_maps_of(in_fd), 0, "veth: nothing left mapped after a blocking call");
    close(fds[0]);
    t_sink_join(&r);
    close(fds[1]);
    zc_ctx_stats(ctx, &st);
    t_is_int(n, (long long)size, "veth: all moved");
    t_ok(r.bytes == size && r.hash == pattern_hash(size), "veth: byte-exact");
    t_ok(st.method[ZC_MSG_ZEROCOPY].zc_sent >= 1, "veth: completions counted (%llu)",
         (unsigned long long)st.method[ZC_MSG_ZEROCOPY].zc_sent);
    t_diag("veth: %llu zero-copy completions, %llu of %llu bytes copied anyway",
           (unsigned long long)st.method[ZC_MSG_ZEROCOPY].zc_sent,
           (unsigned long long)st.method[ZC_MSG_ZEROCOPY].zc_copied,
           (unsigned long long)size);
    zc_ctx_free(ctx);
    close(in_fd);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
