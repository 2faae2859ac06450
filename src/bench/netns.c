/* netns.c - two network namespaces joined by a veth pair, the closest this
 * machine gets to a real NIC: TCP crosses a device with GSO/GRO and a peer
 * stack instead of loopback's shortcut.
 *
 * The namespaces are never named or mounted: each is created by a short-lived
 * child (unshare) and kept alive only by an fd of this process. When the
 * process ends, however it ends, the last reference goes and the kernel
 * destroys both namespaces and the veth pair with them: nothing to clean up
 * after a crash. iproute2's `ip` configures the link from inside each one. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ADDR_A "10.231.0.1"
#define ADDR_B "10.231.0.2"

/* A child that unshares a new network namespace and waits on @hold until the
 * parent closes its write end. Return: its pid, or -errno. */
static pid_t spawn_holder(int hold_rd, int hold_wr, int ready_wr)
{
    pid_t pid = fork();

    if (pid < 0)
        return -errno;
    if (pid == 0) {
        char c;

        close(hold_wr);         /* or our own copy would keep it open */
        c = unshare(CLONE_NEWNET) == 0 ? 'y' : 'n';

        if (write(ready_wr, &c, 1) != 1)
            _exit(1);
        while (read(hold_rd, &c, 1) < 0 && errno == EINTR)
            ;
        _exit(0);
    }
    return pid;
}

/* Run `ip ARGS...` inside the namespace @ns_fd; stderr kept for diagnosis
 * only when it fails. Return: 0, or -EIO. */
static int ip_in(int ns_fd, const char *const argv[])
{
    int status = bench_run_quiet(argv, ns_fd);

    if (status < 0)
        return status;
    if (status == 127)
        return -ENOENT;
    return status == 0 ? 0 : -EIO;
}

void bench_netns_teardown(struct bench_netns *ns)
{
    for (int i = 0; i < 2; i++) {
        if (ns->ns_fd[i] >= 0)
            close(ns->ns_fd[i]);
        ns->ns_fd[i] = -1;
    }
    if (ns->orig_fd >= 0)
        close(ns->orig_fd);
    ns->orig_fd = -1;
    ns->up = false;
}

int bench_netns_setup(struct bench_netns *ns)
{
    int hold[2] = { -1, -1 }, ready[2] = { -1, -1 }, ret = 0;
    pid_t holder[2] = { -1, -1 };
    char path[64], pidbuf[32];

    ns->orig_fd = ns->ns_fd[0] = ns->ns_fd[1] = -1;
    ns->up = false;
    if (geteuid() != 0)
        return -EPERM;
    ns->orig_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (ns->orig_fd < 0)
        return -errno;
    if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
        ret = -errno;
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        char c = 'n';

        fflush(NULL);
        holder[i] = spawn_holder(hold[0], hold[1], ready[1]);
        if (holder[i] < 0) {
            ret = holder[i];
            goto out;
        }
        if (read(ready[0], &c, 1) != 1 || c != 'y') {
            ret = -EPERM;
            goto out;
        }
        snprintf(path, sizeof(path), "/proc/%ld/ns/net", (long)holder[i]);
        ns->ns_fd[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (ns->ns_fd[i] < 0) {
            ret = -errno;
            goto out;
        }
    }
    /* Both ends are born in their namespaces: no interface ever appears in
     * the machine's own. */
    snprintf(pidbuf, sizeof(pidbuf), "%ld", (long)holder[1]);
    {
        const char *add[] = { "ip", "link", "add", "zcb0", "type", "veth", "peer",
                              "name", "zcb1", "netns", pidbuf, NULL };
        const char *addr_a[] = { "ip", "addr", "add", ADDR_A "/24", "dev", "zcb0", NULL };
        const char *addr_b[] = { "ip", "addr", "add", ADDR_B "/24", "dev", "zcb1", NULL };
        const char *up_a[] = { "ip", "link", "set", "zcb0", "up", NULL };
        const char *up_b[] = { "ip", "link", "set", "zcb1", "up", NULL };
        const char *lo[] = { "ip", "link", "set", "lo", "up", NULL };

        if ((ret = ip_in(ns->ns_fd[0], add)) < 0 ||
            (ret = ip_in(ns->ns_fd[0], addr_a)) < 0 ||
            (ret = ip_in(ns->ns_fd[1], addr_b)) < 0 ||
            (ret = ip_in(ns->ns_fd[0], up_a)) < 0 ||
            (ret = ip_in(ns->ns_fd[1], up_b)) < 0 ||
            (ret = ip_in(ns->ns_fd[0], lo)) < 0 ||
            (ret = ip_in(ns->ns_fd[1], lo)) < 0)
            goto out;
    }
    ns->up = true;

out:
    /* The holders' job ends here either way: our fds keep the namespaces. */
    for (int i = 0; i < 2; i++)
        if (hold[i] >= 0)
            close(hold[i]);
    for (int i = 0; i < 2; i++) {
        if (holder[i] > 0)
            while (waitpid(holder[i], NULL, 0) < 0 && errno == EINTR)
                ;
        if (ready[i] >= 0)
            close(ready[i]);
    }
    if (ret < 0)
        bench_netns_teardown(ns);
    return ret;
}

int bench_netns_tcp_pair(struct bench_netns *ns, int *client, int *server)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t sl = sizeof(sa);
    int lfd = -1, cfd = -1, sfd = -1, ret = 0;

    if (!ns->up)
        return -ENODEV;
    /* A socket stays in the namespace it was created in: switch, create,
     * and always switch back. */
    if (setns(ns->ns_fd[1], CLONE_NEWNET) < 0)
        return -errno;
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    inet_pton(AF_INET, ADDR_B, &sa.sin_addr);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
        ret = -errno;
    if (ret == 0 && setns(ns->ns_fd[0], CLONE_NEWNET) < 0)
        ret = -errno;
    if (ret == 0) {
        cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
            ret = -errno;
    }
    if (setns(ns->orig_fd, CLONE_NEWNET) < 0 && ret == 0)
        ret = -errno;
    if (ret == 0) {
        sfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (sfd < 0)
            ret = -errno;
    }
    if (lfd >= 0)
        close(lfd);
    if (ret < 0) {
        if (cfd >= 0)
            close(cfd);
        return ret;
    }
    *client = cfd;
    *server = sfd;
    return 0;
}
