/* method_msgzc.c - mmap the source and send(MSG_ZEROCOPY) from the mapping
 * to a TCP socket: the NIC reads the page-cache pages in place, and the
 * kernel tells us through the socket's error queue when it let go of them.
 *
 * The kernel numbers a socket's zero-copy sends 0, 1, 2, ... (one number per
 * send() that returned > 0; a failed send takes none) and reports finished
 * ones as ranges [ee_info, ee_data], possibly merged and possibly out of
 * order. Each mapping remembers the numbers of the sends made from it and is
 * unmapped only when all of them are reported. The numbering is the
 * socket's, so the library assumes it is the only MSG_ZEROCOPY user of a
 * socket it serves; a socket that already had SO_ZEROCOPY on before we saw
 * it is served with plain sends from the mapping.
 *
 * SO_EE_CODE_ZEROCOPY_COPIED means the kernel copied anyway (always on
 * loopback, or a device without scatter-gather): zero-copy then only costs
 * pinning and notifications, so the socket is switched to plain send() from
 * the mapping for the rest of its life. We keep serving rather than refuse:
 * a refusal mid-stream would mark the method dead for that pair, while the
 * mapping still saves readwrite's second copy. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/errqueue.h>             /* after <time.h>: it needs timespec */

#include "internal.h"

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

/* A blocking caller waits this long for outstanding completions before the
 * call returns; what is still out then is reaped by later calls or by
 * zc_ctx_free(), which waits RELEASE_WAIT_MS in total. Completions need the
 * peer's ACKs, so a peer that stopped reading can hold them forever. */
#define BLOCKING_WAIT_MS 5000
#define RELEASE_WAIT_MS 2000
/* ENOBUFS (option memory for the notifications, or locked-page limit):
 * reap and retry this many times, then send that piece without zero-copy. */
#define ENOBUFS_RETRIES 4
#define ENOBUFS_WAIT_MS 5
/* Reap without waiting once this many mappings are outstanding. */
#define REAP_BACKLOG 4

/* One mapping and the zero-copy sends made from it: numbers
 * [first, first + nsends), with their byte counts in lens[]. */
struct zc_zmap {
    struct zc_zmap *next;
    void *addr;
    size_t len;
    uint32_t first, nsends, ndone;
    bool open;                  /* still being sent from: never freed */
    uint32_t lens_cap;
    uint32_t *lens;
};

struct zc_zsock {
    int fd;
    dev_t dev;
    ino_t ino;                  /* fd numbers are reused; the inode is not */
    uint32_t next_id;           /* number the kernel gives our next ZC send */
    bool plain;                 /* send without MSG_ZEROCOPY from now on */
    bool starved;               /* ENOBUFS persisted: plain until a completion */
    unsigned npending;
    struct zc_zmap *head, **tail;
};

struct zc_msgzc {
    struct zc_zsock **by_fd;
    size_t nfd;
};

static long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int sockopt_get(zc_ctx *ctx, int fd, int name, int *val)
{
    socklen_t len = sizeof(*val);

    zc__count(ctx);
    return getsockopt(fd, SOL_SOCKET, name, val, &len) < 0 ? -errno : 0;
}

static void map_free(zc_ctx *ctx, struct zc_zmap *m)
{
    zc__munmap(ctx, m->addr, m->len);
    free(m->lens);
    free(m);
}

static void map_unlink_free(zc_ctx *ctx, struct zc_zsock *s, struct zc_zmap *m)
{
    struct zc_zmap **pp = &s->head;

    while (*pp != m)
        pp = &(*pp)->next;
    *pp = m->next;
    if (s->tail == &m->next)
        s->tail = pp;
    s->npending--;
    map_free(ctx, m);
}

/* Drop every mapping of @s. Safe without completions only because the
 * kernel holds its own references to the pages it still sends; the
 * mappings are read-only, so nothing the library does can change them. */
static void sock_drop_maps(zc_ctx *ctx, struct zc_zsock *s)
{
    while (s->head) {
        struct zc_zmap *m = s->head;

        s->head = m->next;
        map_free(ctx, m);
    }
    s->tail = &s->head;
    s->npending = 0;
}

/* Apply one finished range [lo, hi] of send numbers. The u32 numbers wrap,
 * so overlaps are computed relative to each mapping's first number. */
static void apply_range(zc_ctx *ctx, struct zc_zsock *s, uint32_t lo, uint32_t hi,
                        bool copied)
{
    struct zc_method_stats *ms = &ctx->stats.method[ZC_MSG_ZEROCOPY];
    uint32_t rlen = hi - lo + 1;
    struct zc_zmap **pp = &s->head;

    if (copied)
        s->plain = true;
    s->starved = false;         /* the completion freed option memory */
    while (*pp) {
        struct zc_zmap *m = *pp;
        uint32_t start, n, from = lo - m->first;

        if (from < m->nsends) {
            start = from;
            n = ZC_MIN(rlen, m->nsends - from);
        } else if (m->first - lo < rlen) {
            start = 0;
            n = ZC_MIN(rlen - (m->first - lo), m->nsends);
        } else {
            n = 0;
            start = 0;
        }
        if (n) {
            m->ndone += n;
            ms->zc_sent += n;
            if (copied)
                for (uint32_t i = start; i < start + n; i++)
                    ms->zc_copied += m->lens[i];
        }
        if (!m->open && m->ndone >= m->nsends)
            map_unlink_free(ctx, s, m); /* *pp is now its successor */
        else
            pp = &m->next;
    }
}

/* Read the error queue until it is empty. Returns the notifications read,
 * or -errno (never -EAGAIN). */
static int reap(zc_ctx *ctx, struct zc_zsock *s)
{
    int got = 0;

    for (;;) {
        char control[CMSG_SPACE(sizeof(struct sock_extended_err)) +
                     CMSG_SPACE(sizeof(struct sockaddr_in6))];
        struct msghdr msg = { .msg_control = control,
                              .msg_controllen = sizeof(control) };
        struct cmsghdr *cm;
        ssize_t n;

        do {
            zc__count(ctx);
            n = recvmsg(s->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
            return errno == EAGAIN ? got : -errno;
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
            const struct sock_extended_err *ee;

            if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
                  (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
                continue;
            ee = (const struct sock_extended_err *)CMSG_DATA(cm);
            if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee->ee_errno != 0)
                continue;
            apply_range(ctx, s, ee->ee_info, ee->ee_data,
                        ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
            got++;
        }
    }
}

/* Wait (poll for POLLERR) until every completion of @s arrived, at most
 * until @deadline. Returns true when none is outstanding. */
static bool wait_all(zc_ctx *ctx, struct zc_zsock *s, long deadline)
{
    while (s->npending) {
        struct pollfd p = { .fd = s->fd, .events = 0 };
        long left = deadline - now_ms();
        int r;

        if (left <= 0)
            break;
        zc__count(ctx);
        r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (reap(ctx, s) < 0)
            break;
        /* A dead connection with nothing more to report would wake us
         * forever; its pages are freed by the kernel anyway. */
        if (!(p.revents & POLLERR) && (p.revents & (POLLHUP | POLLNVAL)))
            break;
    }
    return s->npending == 0;
}

static struct zc_msgzc *state(zc_ctx *ctx)
{
    if (!ctx->msgzc)
        ctx->msgzc = calloc(1, sizeof(*ctx->msgzc));
    return ctx->msgzc;
}

static void sock_forget(zc_ctx *ctx, struct zc_zsock *s)
{
    sock_drop_maps(ctx, s);
    ctx->msgzc->by_fd[s->fd] = NULL;
    free(s);
}

/* The record for TCP socket @fd (@st its fstat), created on first sight:
 * checks it is TCP and turns SO_ZEROCOPY on. -EINVAL for other sinks. */
static int sock_get(zc_ctx *ctx, int fd, const struct stat *st,
                    struct zc_zsock **out)
{
    struct zc_msgzc *z = state(ctx);
    struct zc_zsock *s;
    int domain, type, proto, on = 1, was_on = 0, ret;

    if (!z)
        return -ENOMEM;
    if ((size_t)fd < z->nfd && (s = z->by_fd[fd])) {
        if (s->ino == st->st_ino && s->dev == st->st_dev) {
            *out = s;
            return 0;
        }
        /* The fd now names another socket: the old one is closed, and its
         * completions can no longer be read. */
        sock_forget(ctx, s);
    }
    if ((ret = sockopt_get(ctx, fd, SO_DOMAIN, &domain)) < 0)
        return ret;
    if (domain != AF_INET && domain != AF_INET6)
        return -EINVAL;
    if ((ret = sockopt_get(ctx, fd, SO_TYPE, &type)) < 0 ||
        (ret = sockopt_get(ctx, fd, SO_PROTOCOL, &proto)) < 0)
        return ret;
    if (type != SOCK_STREAM || proto != IPPROTO_TCP)
        return -EINVAL;
    if ((size_t)fd >= z->nfd) {
        size_t n = z->nfd ? z->nfd : 64;
        struct zc_zsock **grown;

        while (n <= (size_t)fd)
            n *= 2;
        grown = realloc(z->by_fd, n * sizeof(*grown));
        if (!grown)
            return -ENOMEM;
        memset(grown + z->nfd, 0, (n - z->nfd) * sizeof(*grown));
        z->by_fd = grown;
        z->nfd = n;
    }
    s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->fd = fd;
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->tail = &s->head;
    /* Someone else numbered this socket's zero-copy sends already: we
     * cannot match completions to mappings, so we never use it here. */
    if ((ret = sockopt_get(ctx, fd, SO_ZEROCOPY, &was_on)) < 0 || was_on) {
        s->plain = true;
    } else {
        zc__count(ctx);
        if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &on, sizeof(on)) < 0) {
            ret = -errno;
            free(s);
            return ret == -ENOPROTOOPT ? -EOPNOTSUPP : ret;
        }
    }
    z->by_fd[fd] = s;
    *out = s;
    return 0;
}

static bool sends_in_flight(const struct zc_zsock *s)
{
    for (const struct zc_zmap *m = s->head; m; m = m->next)
        if (m->ndone < m->nsends)
            return true;
    return false;
}

static int map_reserve(struct zc_zmap *m)
{
    uint32_t cap;
    uint32_t *lens;

    if (m->nsends < m->lens_cap)
        return 0;
    cap = m->lens_cap ? m->lens_cap * 2 : 4;
    lens = realloc(m->lens, cap * sizeof(*lens));
    if (!lens)
        return -ENOMEM;
    m->lens = lens;
    m->lens_cap = cap;
    return 0;
}

/* Send one piece of the mapping: with MSG_ZEROCOPY while the socket allows
 * it, retrying ENOBUFS after reaping, then without. */
static ssize_t send_piece(zc_ctx *ctx, struct zc_zsock *s, struct zc_zmap *m,
                          const char *p, size_t len)
{
    for (int tries = 0;; tries++) {
        bool zc = !s->plain && !s->starved;
        ssize_t n;

        if (zc && map_reserve(m) < 0)
            zc = false;
        n = zc__send(ctx, s->fd, p, len, zc ? MSG_ZEROCOPY : 0);
        if (n > 0 && zc) {
            if (m->nsends == 0)
                m->first = s->next_id;
            m->lens[m->nsends++] = (uint32_t)n;
            s->next_id++;
        }
        if (n != -ENOBUFS || !zc)
            return n;
        /* Notifications not yet read hold the option memory: read them;
         * if none was there but sends are in flight, give them a moment.
         * With nothing in flight, or after a few rounds, send plainly
         * until a completion frees memory (apply_range clears starved). */
        if (tries >= ENOBUFS_RETRIES) {
            s->starved = true;
            continue;
        }
        if (reap(ctx, s) > 0)
            continue;
        if (!sends_in_flight(s)) {
            s->starved = true;
            continue;
        }
        {
            struct pollfd pf = { .fd = s->fd, .events = 0 };

            zc__count(ctx);
            if (poll(&pf, 1, ENOBUFS_WAIT_MS) > 0)
                reap(ctx, s);
        }
    }
}

/* After EFAULT from a mapping: 0 (end the transfer) when the file now ends
 * at or before @pos, -EIO when it does not, or the fstat error. */
static ssize_t fault_outcome(zc_ctx *ctx, int in_fd, off_t pos)
{
    struct stat st;
    int ret = zc__fstat(ctx, in_fd, &st);

    if (ret < 0)
        return ret;
    return st.st_size <= pos ? 0 : -EIO;
}

ssize_t zc__m_msg_zerocopy(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                           size_t count)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), done = 0;
    struct stat in_st, out_st;
    struct zc_zsock *s = NULL;
    bool stop = false;
    ssize_t ret;
    int fl;

    if (!off)
        return -EINVAL;
    if ((ret = zc__fstat(ctx, in_fd, &in_st)) < 0)
        return ret;
    if (!S_ISREG(in_st.st_mode))
        return -EINVAL;
    if ((ret = zc__fstat(ctx, out_fd, &out_st)) < 0)
        return ret;
    if (!S_ISSOCK(out_st.st_mode))
        return -EINVAL;
    if ((ret = sock_get(ctx, out_fd, &out_st, &s)) < 0)
        return ret;
    if ((fl = zc__fcntl(ctx, out_fd, F_GETFL, 0)) < 0)
        return fl;
    if (s->npending)
        reap(ctx, s);
    if (in_st.st_size == 0) {
        /* Empty, or a pseudo-file that cannot be mapped (procfs): ENODEV. */
        ret = zc__probe_mappable(ctx, in_fd);
        return ret < 0 ? ret : 0;
    }
    if (*off >= in_st.st_size)
        return 0;
    if (count > (uint64_t)(in_st.st_size - *off))
        count = (size_t)(in_st.st_size - *off);

    ret = 0;
    while (done < count && !stop) {
        off_t map_off = *off & ~(off_t)(page - 1);
        size_t skip = (size_t)(*off - map_off);
        size_t want = ZC_MIN(ctx->chunk, count - done), sent = 0;
        struct zc_zmap *m = calloc(1, sizeof(*m));
        int r;

        if (!m) {
            ret = -ENOMEM;
            break;
        }
        m->len = skip + want;
        r = zc__map_source(ctx, &m->addr, m->len, in_fd, map_off);
        if (r < 0) {
            free(m);
            ret = r;
            break;
        }
        /* Listed before the first send, so completions reaped while it is
         * being sent from (ENOBUFS) are counted against it. */
        m->open = true;
        *s->tail = m;
        s->tail = &m->next;
        s->npending++;
        while (sent < want) {
            ssize_t n = send_piece(ctx, s, m, (char *)m->addr + skip + sent,
                                   want - sent);

            if (n > 0) {
                sent += (size_t)n;
                *off += n;
                continue;
            }
            /* EFAULT: the kernel lost a mapped page. A truncated source
             * ends the transfer at what already went out. */
            ret = n == -EFAULT ? fault_outcome(ctx, in_fd, *off) : n ? n : -EIO;
            stop = true;
            break;
        }
        done += sent;
        m->open = false;
        if (m->ndone >= m->nsends)
            map_unlink_free(ctx, s, m); /* nothing of it is in flight */
        else if (s->npending >= REAP_BACKLOG)
            reap(ctx, s);
    }
    if (!(fl & O_NONBLOCK) && s->npending)
        wait_all(ctx, s, now_ms() + BLOCKING_WAIT_MS);
    if (ret < 0 && !done)
        return ret;
    return (ssize_t)done;
}

void zc__msgzc_release(zc_ctx *ctx)
{
    struct zc_msgzc *z = ctx->msgzc;
    long deadline = now_ms() + RELEASE_WAIT_MS;

    if (!z)
        return;
    for (size_t fd = 0; fd < z->nfd; fd++) {
        struct zc_zsock *s = z->by_fd[fd];
        struct stat st;

        if (!s)
            continue;
        /* Reap only from the socket we know: the fd may name another file
         * by now, whose error queue is not ours to read. */
        if (s->npending && fstat((int)fd, &st) == 0 && st.st_ino == s->ino &&
            st.st_dev == s->dev)
            wait_all(ctx, s, deadline);
        sock_forget(ctx, s);
    }
    free(z->by_fd);
    free(z);
    ctx->msgzc = NULL;
}
