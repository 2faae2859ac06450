/* activation.c - systemd socket activation: read LISTEN_PID / LISTEN_FDS,
 * check and adopt fds 3.. (see activation.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/activation.h"

/* A decimal number with nothing around it. Return: 0 or -EINVAL. */
static int parse_number(const char *s, unsigned long max, unsigned long *out)
{
    char *end;

    if (!s || *s < '0' || *s > '9')
        return -EINVAL;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || *end || *out > max ? -EINVAL : 0;
}

/* A listening TCP socket, its address written to @addr. */
static int check_listener(int fd, struct zc_listen_addr *addr)
{
    int type = 0, listening = 0;
    socklen_t len = sizeof(type);

    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
        return -errno;
    len = sizeof(listening);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
        return -errno;
    addr->len = sizeof(addr->sa);
    if (getsockname(fd, (struct sockaddr *)&addr->sa, &addr->len) < 0)
        return -errno;
    if (type != SOCK_STREAM || !listening ||
        (addr->sa.ss_family != AF_INET && addr->sa.ss_family != AF_INET6))
        return -EAFNOSUPPORT;
    return 0;
}

int zc_listen_inherited(int *fds, struct zc_listen_addr *addrs, unsigned max)
{
    const char *pid_s = getenv("LISTEN_PID"), *fds_s = getenv("LISTEN_FDS");
    unsigned long pid, n;
    int ret;

    /* The variables are for us alone: unset them whatever they say. */
    ret = pid_s ? parse_number(pid_s, (unsigned long)INT32_MAX, &pid) : 0;
    if (ret == 0 && pid_s)
        ret = parse_number(fds_s, (unsigned long)INT32_MAX - ZC_LISTEN_FDS_START, &n);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!pid_s)
        return 0;
    if (ret < 0)
        return ret;
    if (pid != (unsigned long)getpid() || n == 0)
        return 0;
    if (n > max)
        return -E2BIG;
    for (unsigned i = 0; i < n; i++) {
        int fd = ZC_LISTEN_FDS_START + (int)i;

        ret = check_listener(fd, &addrs[i]);
        if (ret < 0)
            return ret;
        fds[i] = fd;
    }
    /* Only now change the fds: an error above leaves them untouched. */
    for (unsigned i = 0; i < n; i++) {
        int fl = fcntl(fds[i], F_GETFL);

        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0)
            return -errno;
    }
    return (int)n;
}
