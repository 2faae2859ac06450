/* test_pool.c - zc_pool: slices filled once and sent by reference; bytes in
 * flight never change when the slice is rewritten or its memory reused; a
 * pool shared with another process through SCM_RIGHTS; a full pool; release
 * while queued; offset resume and -EAGAIN; exact syscall counts; no SIGPIPE;
 * no fd or mapping left behind. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "zcopy.h"

#define SLICE ((size_t)64 << 10)

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Read exactly @len bytes from @fd into @buf (blocking, 5 s per wait). */
static size_t read_exact(int fd, void *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, 5000) <= 0)
            break;
        n = read(fd, (char *)buf + got, len - got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* Send the whole slice, waiting for out_fd to drain at most ~1 s; returns
 * the bytes queued (less than s->len only if the receiver never reads). */
static size_t send_all(zc_ctx *ctx, int out_fd, zc_pool *p, const struct zc_slice *s,
                       enum zc_method m)
{
    size_t pos = 0;

    for (int waits = 0; pos < s->len && waits < 20;) {
        ssize_t n = zc_pool_send(ctx, out_fd, p, s, &pos, s->len, m);

        if (n == -EAGAIN) {
            struct pollfd pfd = { .fd = out_fd, .events = POLLOUT };

            poll(&pfd, 1, 50);
            waits++;
            continue;
        }
        if (n <= 0)
            break;
    }
    return pos;
}

/* fds[0] (non-blocking) to fds[1], which does not read: a socket with a
 * 4 KiB receive buffer and a large send buffer, or a pipe of one slice. */
static void paused_receiver(const char *sink, int fds[2])
{
    int small = 4096;

    if (!strcmp(sink, "tcp"))
        t_tcp_pair(fds);
    else if (!strcmp(sink, "unix"))
        t_unix_pair(fds);
    else
        t_pipe(fds);
    if (strcmp(sink, "pipe")) {
        setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        t_set_sndbuf(fds[0], 4 << 20);
    } else {
        fcntl(fds[0], F_SETPIPE_SZ, (int)SLICE);
    }
    t_set_nonblock(fds[0], true);
}

enum reuse { REUSE_REWRITE, REUSE_REALLOC };

/* The hard guarantee: a receiver that has not read yet (tiny receive
 * buffer, not reading) gets the bytes as they were when sent, although the
 * slice is written again or its memory handed out again right after. The
 * slice's first send (a copy) goes to /dev/null, so the receiver's is the
 * second: by reference. */
static void case_in_flight(const char *sink, enum reuse how)
{
    const char *how_name = how == REUSE_REWRITE ? "rewrite" : "release + alloc";
    uint8_t *want = malloc(SLICE), *got = malloc(SLICE);
    struct zc_slice s, again;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    int fds[2];
    size_t queued, rcvd;
    bool zeroed = true;

    paused_receiver(sink, fds);

    /* A pool of exactly one slice: reallocation must return the same range. */
    t_is_int(zc_pool_new(&p, SLICE), 0, "%s, %s: pool created", sink, how_name);
    t_is_int(zc_pool_alloc(p, SLICE, &s), 0, "%s, %s: slice allocated", sink, how_name);
    t_fill_pattern(s.data, SLICE, 12345);
    memcpy(want, s.data, SLICE);
    {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

        t_is_int(send_all(ctx, devnull, p, &s, ZC_AUTO), (long long)SLICE,
                 "%s, %s: first send (by copy) to /dev/null", sink, how_name);
        close(devnull);
    }
    queued = send_all(ctx, fds[0], p, &s, ZC_AUTO);
    t_ok(queued > 0, "%s, %s: %zu of %zu bytes queued to a receiver not reading",
         sink, how_name, queued, SLICE);

    if (how == REUSE_REWRITE) {
        t_is_int(zc_pool_rewrite(p, &s), 0, "%s: rewrite of a sent slice", sink);
        again = s;
    } else {
        t_is_int(zc_pool_release(p, &s), 0, "%s: release while queued", sink);
        t_is_int(zc_pool_alloc(p, SLICE, &again), 0, "%s: allocated again", sink);
        t_is_int(again.off, 0, "%s: the same range came back", sink);
    }
    for (size_t i = 0; i < SLICE; i++)
        zeroed &= ((uint8_t *)again.data)[i] == 0;
    t_ok(zeroed, "%s, %s: the reused range reads as zeros (a hole)", sink, how_name);
    if (how == REUSE_REWRITE) {
        memset(again.data, 0xEE, SLICE);        /* through the pointer */
    } else {
        memset(got, 0xEE, SLICE);               /* by pwrite into the memfd */
        t_is_int(zc_pool_write(p, &again, 0, got, SLICE), (long long)SLICE,
                 "%s: zc_pool_write fills the new slice", sink);
    }

    rcvd = read_exact(fds[1], got, queued);
    t_is_int(rcvd, queued, "%s, %s: receiver drained what was queued", sink, how_name);
    t_ok(memcmp(got, want, rcvd) == 0,
         "%s, %s: bytes arrived as they were when sent", sink, how_name);

    /* The new content goes out as the new content. */
    {
        size_t pos = 0, n;

        t_set_nonblock(fds[0], false);
        t_is_int(zc_pool_send(ctx, fds[0], p, &again, &pos, 4096, ZC_AUTO), 4096,
                 "%s, %s: the rewritten slice sends", sink, how_name);
        n = read_exact(fds[1], got, 4096);
        t_ok(n == 4096 && got[0] == 0xEE && got[4095] == 0xEE,
             "%s, %s: and carries the new bytes", sink, how_name);
    }
    t_is_int(zc_pool_release(p, &again), 0, "%s, %s: released", sink, how_name);
    {
        struct zc_pool_stats st;

        zc_pool_stats(p, &st);
        t_is_int(st.pages_punched, SLICE / page_size(),
                 "%s, %s: every page of the sent slice was replaced, once", sink, how_name);
        t_is_int(st.bytes_copied, (long long)SLICE + 4096,
                 "%s, %s: copied: the first send and the new content's first; "
                 "the receiver's went by reference", sink, how_name);
        t_is_int(st.sends_by_copy, 2, "%s, %s: two sends by copy", sink, how_name);
    }
    zc_pool_free(p);
    zc_ctx_free(ctx);
    close(fds[0]);
    close(fds[1]);
    free(want);
    free(got);
}

/* One receiver: the slice's first send is a copy, so the slice stays
 * writable in place, with no page replaced, while the receiver (not
 * reading) still gets the bytes as they were when sent. */
static void case_copy_first(const char *sink)
{
    uint8_t *want = malloc(SLICE), *got = malloc(SLICE);
    struct zc_pool_stats st;
    struct zc_stats cs;
    struct zc_slice s, again;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    int fds[2];
    size_t queued;
    bool kept = true;

    paused_receiver(sink, fds);
    zc_pool_new(&p, SLICE);
    zc_pool_alloc(p, SLICE, &s);
    t_fill_pattern(s.data, SLICE, 2468);
    memcpy(want, s.data, SLICE);
    queued = send_all(ctx, fds[0], p, &s, ZC_AUTO);
    t_ok(queued > 0, "copy first, %s: %zu bytes queued", sink, queued);

    memset(got, 0xEE, SLICE);
    zc_pool_stats(p, &st);
    t_is_int(zc_pool_write(p, &s, 0, got, queued), (long long)queued,
             "copy first, %s: a slice sent once is written in place (no -EBUSY)", sink);
    {
        struct zc_pool_stats after;

        zc_pool_stats(p, &after);
        t_is_int(after.syscalls - st.syscalls, 0,
                 "copy first, %s: by memcpy into the pages the copy mapped", sink);
    }
    t_is_int(zc_pool_write(p, &s, 0, got, SLICE), (long long)SLICE,
             "copy first, %s: the whole slice too", sink);
    t_is_int(read_exact(fds[1], got, queued), (long long)queued,
             "copy first, %s: receiver drained", sink);
    t_ok(memcmp(got, want, queued) == 0, "copy first, %s: bytes as they were when sent", sink);

    t_is_int(zc_pool_release(p, &s), 0, "copy first, %s: released", sink);
    t_is_int(zc_pool_alloc(p, SLICE, &again), 0, "copy first, %s: allocated again", sink);
    for (size_t i = 0; i < SLICE; i++)
        kept &= ((uint8_t *)again.data)[i] == 0xEE;
    t_ok(kept, "copy first, %s: the range kept its pages and bytes (no hole)", sink);
    zc_pool_stats(p, &st);
    t_is_int(st.pages_punched, 0, "copy first, %s: no page replaced", sink);
    t_is_int(st.bytes_copied, (long long)queued, "copy first, %s: stats say copied", sink);
    t_ok(st.sends_by_copy >= 1, "copy first, %s: %llu sends by copy", sink,
         (unsigned long long)st.sends_by_copy);
    zc_ctx_stats(ctx, &cs);
    t_is_int(cs.method[ZC_READWRITE].bytes, (long long)queued,
             "copy first, %s: billed to readwrite in the ctx", sink);
    t_is_int(cs.method[ZC_SENDFILE].bytes + cs.method[ZC_SPLICE].bytes, 0,
             "copy first, %s: nothing by reference", sink);
    zc_pool_release(p, &again);
    zc_pool_free(p);
    zc_ctx_free(ctx);
    close(fds[0]);
    close(fds[1]);
    free(want);
    free(got);
}

/* Where slices fan out (the last one released had been sent by reference)
 * the first send copies by pread + write, mapping no page: a punch later
 * has no page table entries to tear down. The receiver gets the bytes, and
 * the slice stays writable (by pwrite: nothing mapped). */
static void case_copy_unmapped(void)
{
    uint8_t *want = malloc(SLICE), *got = malloc(SLICE);
    struct zc_pool_stats st, after;
    struct zc_stats cs;
    struct zc_slice s;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), fds[2];

    t_pipe(fds);
    fcntl(fds[0], F_SETPIPE_SZ, (int)SLICE);
    zc_pool_new(&p, 2 * SLICE);
    zc_pool_alloc(p, SLICE, &s);
    for (int i = 0; i < 2; i++)         /* a copy, then by reference */
        t_is_int(send_all(ctx, devnull, p, &s, ZC_AUTO), (long long)SLICE,
                 "unmapped: fan-out send %d", i);
    zc_pool_release(p, &s);
    zc_pool_alloc(p, SLICE, &s);
    t_fill_pattern(want, SLICE, 8642);
    t_is_int(zc_pool_write(p, &s, 0, want, SLICE), (long long)SLICE, "unmapped: filled");
    zc_ctx_stats_reset(ctx);
    t_is_int(send_all(ctx, fds[0], p, &s, ZC_AUTO), (long long)SLICE,
             "unmapped: first send of the next slice");
    zc_ctx_stats(ctx, &cs);
    t_is_int(cs.method[ZC_READWRITE].bytes, (long long)SLICE,
             "unmapped: by copy (readwrite)");
    t_is_int(read_exact(fds[1], got, SLICE), (long long)SLICE, "unmapped: drained");
    t_ok(memcmp(got, want, SLICE) == 0, "unmapped: byte-exact");
    zc_pool_stats(p, &st);
    t_is_int(zc_pool_write(p, &s, 0, want, 1), 1, "unmapped: still writable");
    zc_pool_stats(p, &after);
    t_is_int(after.syscalls - st.syscalls, 1, "unmapped: by pwrite (no page mapped)");
    zc_pool_free(p);
    zc_ctx_free(ctx);
    close(devnull);
    close(fds[0]);
    close(fds[1]);
    free(want);
    free(got);
}

/* Pass the pool fd and a slice description; the child attaches, checks it
 * sees the same pages, sends the slice into a pipe the parent reads. */
struct share_msg {
    off_t off;
    size_t len;
};

struct share_result {
    int attach, alloc, view_ok;
    ssize_t sent;
    uint64_t copied;
};

static void send_fd(int sock, int fd, const void *data, size_t len)
{
    char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf) };
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    if (sendmsg(sock, &mh, 0) != (ssize_t)len)
        abort();
}

static int recv_fd(int sock, void *data, size_t len)
{
    char cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { .iov_base = data, .iov_len = len };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                         .msg_controllen = sizeof(cbuf) };
    struct cmsghdr *c;
    int fd = -1;

    if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)len)
        return -1;
    c = CMSG_FIRSTHDR(&mh);
    if (c && c->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
    return fd;
}

static void __attribute__((noreturn)) share_child(int sock, int out_fd)
{
    struct share_result r = { 0 };
    struct share_msg m;
    struct zc_slice s, mine;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    int fd = recv_fd(sock, &m, sizeof(m));

    r.attach = zc_pool_attach(&p, fd);
    close(fd);                          /* the pool holds its own dup */
    if (r.attach == 0 && zc_pool_slice_at(p, m.off, m.len, &s) == 0) {
        uint8_t *expect = malloc(m.len);
        struct zc_pool_stats st;
        size_t pos = 0;

        r.alloc = zc_pool_alloc(p, 4096, &mine);
        t_fill_pattern(expect, m.len, 777);
        r.view_ok = memcmp(s.data, expect, m.len) == 0;
        r.sent = zc_pool_send(ctx, out_fd, p, &s, &pos, m.len, ZC_AUTO);
        zc_pool_stats(p, &st);
        r.copied = st.bytes_copied;
        free(expect);
    }
    if (write(sock, &r, sizeof(r)) != sizeof(r))
        _exit(2);
    zc_pool_free(p);
    zc_ctx_free(ctx);
    _exit(0);
}

static void case_share(void)
{
    const size_t len = 32 << 10;
    int ctl[2], pfd[2], status = 0;
    struct share_result r = { .attach = -1 };
    struct share_msg m;
    struct zc_slice s, reused;
    uint8_t *got = malloc(len), *want = malloc(len);
    zc_pool *p = NULL;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ctl) < 0 ||
        pipe2(pfd, O_CLOEXEC) < 0)
        abort();
    fcntl(pfd[1], F_SETPIPE_SZ, (int)len);
    /* Forked before the pool exists: the child can only get it by SCM_RIGHTS. */
    pid = fork();
    if (pid == 0) {
        close(ctl[0]);
        close(pfd[0]);
        share_child(ctl[1], pfd[1]);
    }
    close(ctl[1]);
    close(pfd[1]);

    t_is_int(zc_pool_new(&p, 4 * len), 0, "share: pool created");
    t_is_int(zc_pool_alloc(p, len, &s), 0, "share: slice allocated");
    t_fill_pattern(s.data, len, 777);
    memcpy(want, s.data, len);
    /* Its description leaves this process: frozen from now on. */
    t_is_int(zc_pool_freeze(p, &s), 0, "share: slice frozen before it is shared");
    m.off = s.off;
    m.len = s.len;
    send_fd(ctl[0], zc_pool_fd(p), &m, sizeof(m));
    if (read(ctl[0], &r, sizeof(r)) != sizeof(r))
        r.attach = -999;
    t_is_int(r.attach, 0, "share: the other process attached the fd it received");
    t_ok(r.view_ok, "share: it sees the bytes this process wrote (same pages)");
    t_is_int(r.alloc, -EPERM, "share: an attached pool does not allocate");
    t_is_int(r.sent, (long long)len, "share: it sent the slice into a pipe");
    t_is_int(r.copied, 0, "share: by reference");

    /* The bytes sit in the pipe; this process reuses the memory at once. */
    t_is_int(zc_pool_release(p, &s), 0, "share: released while the other's send is queued");
    for (int i = 0; i < 4; i++) {
        t_is_int(zc_pool_alloc(p, len, &reused), 0, "share: allocated again (%d)", i);
        memset(reused.data, 0x5A, len);
    }
    t_is_int(read_exact(pfd[0], got, len), (long long)len, "share: pipe drained");
    t_ok(memcmp(got, want, len) == 0, "share: bytes as they were when shared");
    waitpid(pid, &status, 0);
    t_ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "share: child exited cleanly");
    zc_pool_free(p);
    close(ctl[0]);
    close(pfd[0]);
    free(got);
    free(want);
}

static void case_attach_refuses(void)
{
    zc_pool *p = (zc_pool *)1;
    int fd = memfd_create("plain", MFD_CLOEXEC);
    int file = t_pattern_file(8192, false, NULL);

    t_ok(fd >= 0 && ftruncate(fd, 8192) == 0, "attach: an unsealed memfd");
    t_is_int(zc_pool_attach(&p, fd), -EINVAL, "attach: unsealed memfd refused (it could shrink)");
    t_ok(p == NULL, "attach: *out cleared on failure");
    t_is_int(zc_pool_attach(&p, file), -EINVAL, "attach: a regular file refused");
    t_is_int(zc_pool_attach(&p, -1), -EBADF, "attach: -1 is -EBADF");
    close(fd);
    close(file);
}

static void case_full(void)
{
    const size_t pg = page_size();
    struct zc_slice s[4], extra;
    struct zc_pool_stats st;
    zc_pool *p = NULL;

    t_is_int(zc_pool_new(&p, 4 * pg - 100), 0, "full: pool of 4 pages (size rounded up)");
    t_is_int(zc_pool_size(p), 4 * pg, "full: size is a page multiple");
    t_is_int(zc_pool_alloc(p, 0, &extra), -EINVAL, "full: length 0 refused");
    t_is_int(zc_pool_alloc(p, 4 * pg + 1, &extra), -EINVAL, "full: longer than the pool refused");
    for (int i = 0; i < 4; i++)
        t_is_int(zc_pool_alloc(p, 1, &s[i]), 0, "full: 1-byte slice %d takes a page", i);
    t_is_int(zc_pool_alloc(p, 1, &extra), -ENOMEM, "full: the fifth is -ENOMEM");
    t_is_int(zc_pool_release(p, &s[1]), 0, "full: release one");
    t_is_int(zc_pool_release(p, &s[1]), -EINVAL, "full: double release refused");
    t_is_int(zc_pool_alloc(p, 2 * pg, &extra), -ENOMEM,
             "full: two pages do not fit in one free page");
    t_is_int(zc_pool_release(p, &s[2]), 0, "full: release its neighbour");
    t_is_int(zc_pool_alloc(p, 2 * pg, &extra), 0, "full: now two contiguous pages fit");
    t_is_int(extra.off, (long long)pg, "full: at the freed run");
    zc_pool_stats(p, &st);
    t_is_int(st.full, 2, "full: stats count the two refusals");
    t_is_int(st.allocs, 5, "full: and the five slices");
    zc_pool_free(p);
}

/* Sending resumes at an exact position after -EAGAIN, by copy (the slice's
 * first send, @copy_sends 1) or by reference (0); syscalls are exact. */
static void case_resume(unsigned copy_sends)
{
    const size_t pg = page_size();
    uint8_t *got = malloc(SLICE);
    struct zc_stats cs;
    struct zc_pool_stats ps;
    struct zc_slice s;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    size_t pos = 0, rcvd = 0;
    unsigned eagain = 0;
    int fds[2];

    t_pipe(fds);
    fcntl(fds[0], F_SETPIPE_SZ, (int)pg);
    t_set_nonblock(fds[0], true);
    zc_pool_new(&p, SLICE);
    t_is_int(zc_pool_set_copy_sends(p, copy_sends), 0, "resume: %u sends by copy first",
             copy_sends);
    zc_pool_alloc(p, SLICE - 10, &s);
    t_fill_pattern(s.data, s.len, 99);
    for (int i = 0; i < 10000 && pos < s.len; i++) {
        size_t before = pos;
        ssize_t n = zc_pool_send(ctx, fds[0], p, &s, &pos, 3000, ZC_SPLICE);

        if (n == -EAGAIN) {
            eagain++;
            t_ok(pos == before || (eagain = 1000), "resume: -EAGAIN moves nothing");
            rcvd += read_exact(fds[1], got + rcvd, pos - rcvd);
            continue;
        }
        if (n <= 0 || (size_t)n != pos - before || n > 3000) {
            t_ok(0, "resume: send returned %zd with pos %zu -> %zu", n, before, pos);
            break;
        }
    }
    rcvd += read_exact(fds[1], got + rcvd, pos - rcvd);
    t_ok(eagain > 0 && eagain < 1000, "resume: the full pipe answered -EAGAIN (%u times)",
         eagain);
    t_is_int(pos, (long long)s.len, "resume: position at the end of the slice");
    t_is_int(rcvd, (long long)s.len, "resume: every byte arrived");
    {
        uint8_t *want = malloc(s.len);

        t_fill_pattern(want, s.len, 99);
        t_ok(memcmp(got, want, s.len) == 0, "resume: in order, byte-exact");
        free(want);
    }
    t_is_int(zc_pool_send(ctx, fds[0], p, &s, &pos, 100, ZC_SPLICE), 0,
             "resume: 0 at the end of the slice");
    pos = s.len + 1;
    t_is_int(zc_pool_send(ctx, fds[0], p, &s, &pos, 100, ZC_SPLICE), -EINVAL,
             "resume: a position past the end is -EINVAL");
    zc_pool_stats(p, &ps);
    t_is_int(ps.bytes_copied, copy_sends ? (long long)s.len : 0,
             "resume: copy_sends %u: %s", copy_sends,
             copy_sends ? "every byte by copy" : "none by copy");
    t_ok(copy_sends ? ps.sends_by_copy > 1 : ps.sends_by_copy == 0,
         "resume: %llu partial sends by copy", (unsigned long long)ps.sends_by_copy);
    {
        char one = 1;

        t_is_int(zc_pool_write(p, &s, 0, &one, 1), copy_sends ? 1 : -EBUSY,
                 "resume: copy_sends %u: the slice is %s", copy_sends,
                 copy_sends ? "still writable" : "frozen");
        t_fill_pattern(s.data, 1, 99);
    }

    /* The slice was sent whole from its start before: sent again from the
     * start it fans out by tee. Counted exactly: in the ctx the one splice
     * into the pipe; in the pool the fstat that chose the method (ZC_AUTO),
     * the two pipes the pool makes on first use (pipe2 + F_SETPIPE_SZ
     * each), the splice that loads the slice into the first, and the tee
     * into the second. */
    t_set_nonblock(fds[0], false);
    fcntl(fds[0], F_SETPIPE_SZ, (int)SLICE);
    for (unsigned i = 0; i < 2 * copy_sends; i++) {
        /* zc_pool_write made the content new: one more send by copy, then
         * one by reference, which freezes the slice. */
        struct zc_pool_stats after;

        zc_pool_stats(p, &ps);
        pos = 0;
        t_is_int(zc_pool_send(ctx, fds[0], p, &s, &pos, s.len, ZC_AUTO), (long long)s.len,
                 "resume: whole send %u", i);
        t_is_int(read_exact(fds[1], got, s.len), (long long)s.len, "resume: drained");
        zc_pool_stats(p, &after);
        t_is_int(after.sends_by_copy - ps.sends_by_copy, i == 0,
                 "resume: whole send %u %s", i, i == 0 ? "by copy" : "by reference");
    }
    if (copy_sends)
        t_is_int(zc_pool_write(p, &s, 0, got, 1), -EBUSY, "resume: now frozen");
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    zc_ctx_stats_reset(ctx);
    zc_pool_stats(p, &ps);
    pos = 0;
    t_is_int(zc_pool_send(ctx, fds[0], p, &s, &pos, s.len, ZC_AUTO), (long long)s.len,
             "stats: whole slice in one call");
    zc_ctx_stats(ctx, &cs);
    t_is_int(cs.syscalls, 1, "stats: exactly one syscall in the ctx (the splice)");
    t_is_int(cs.method[ZC_SPLICE].bytes, (long long)s.len, "stats: billed to splice");
    {
        struct zc_pool_stats after;

        zc_pool_stats(p, &after);
        t_is_int(after.syscalls - ps.syscalls, 7,
                 "stats: fstat, 2 x (pipe2 + fcntl), the load, the tee in the pool");
    }
    t_is_int(read_exact(fds[1], got, s.len), (long long)s.len, "stats: drained");
    zc_pool_free(p);
    zc_ctx_free(ctx);
    close(fds[0]);
    close(fds[1]);
    free(got);
}

/* One slice to several fds: the first by sendfile, the others by tee from
 * a pipe the pool loaded once, resuming after -EAGAIN with what the pool
 * holds; then a receiver not reading while the slice's range is reused. */
static void case_fanout(void)
{
    const size_t len = SLICE - 10;
    uint8_t *got = malloc(SLICE), *want = malloc(SLICE);
    int a[2], b[2], c[2];
    struct zc_slice s, again;
    struct zc_stats cs;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    size_t pos;
    unsigned eagain = 0;
    ssize_t n;

    t_pipe(a);
    t_pipe(b);
    t_pipe(c);
    fcntl(a[0], F_SETPIPE_SZ, (int)SLICE);
    fcntl(c[0], F_SETPIPE_SZ, (int)SLICE);
    fcntl(b[0], F_SETPIPE_SZ, (int)page_size());
    t_set_nonblock(b[0], true);
    zc_pool_new(&p, SLICE);
    zc_pool_set_copy_sends(p, 0);       /* by reference from the first */
    zc_pool_alloc(p, len, &s);
    t_fill_pattern(s.data, len, 31337);
    memcpy(want, s.data, len);

    pos = 0;
    t_is_int(zc_pool_send(ctx, a[0], p, &s, &pos, len, ZC_SENDFILE), (long long)len,
             "fanout: first receiver, whole slice");
    pos = 0;
    for (int i = 0; i < 1000 && pos < len; i++) {
        n = zc_pool_send(ctx, b[0], p, &s, &pos, len - pos, ZC_SENDFILE);
        if (n == -EAGAIN) {
            eagain++;
            read_exact(b[1], got + pos - page_size(), page_size());
        } else if (n <= 0) {
            break;
        }
    }
    t_is_int(pos, (long long)len, "fanout: second receiver (a 4 KiB pipe) got it all");
    t_ok(eagain > 0, "fanout: ... resuming after -EAGAIN %u times", eagain);
    read_exact(b[1], got + (len / page_size()) * page_size(), len % page_size());
    t_ok(memcmp(got, want, len) == 0, "fanout: second receiver byte-exact");
    pos = 0;
    t_is_int(zc_pool_send(ctx, c[0], p, &s, &pos, len, ZC_SENDFILE), (long long)len,
             "fanout: third receiver");
    zc_ctx_stats(ctx, &cs);
    t_is_int(cs.method[ZC_SENDFILE].bytes, (long long)len,
             "fanout: only the first receiver went by sendfile");
    t_is_int(cs.method[ZC_SPLICE].bytes, 2 * (long long)len,
             "fanout: the others by tee + splice from the pool's pipe");
    t_is_int(read_exact(a[1], got, len), (long long)len, "fanout: first drained");
    t_ok(memcmp(got, want, len) == 0, "fanout: first receiver byte-exact");

    /* c still holds the bytes; the range is handed out again at once. */
    zc_pool_release(p, &s);
    t_is_int(zc_pool_alloc(p, len, &again), 0, "fanout: range reallocated");
    memset(again.data, 0x77, len);
    pos = 0;
    t_is_int(zc_pool_send(ctx, a[0], p, &again, &pos, len, ZC_SENDFILE), (long long)len,
             "fanout: the new slice sent");
    t_is_int(read_exact(a[1], got, len), (long long)len, "fanout: new bytes drained");
    t_ok(got[0] == 0x77 && got[len - 1] == 0x77, "fanout: the first resend is the new bytes");
    pos = 0;
    t_is_int(zc_pool_send(ctx, a[0], p, &again, &pos, len, ZC_SENDFILE), (long long)len,
             "fanout: and sent again (by tee: the pool's pipe reloaded)");
    t_is_int(read_exact(c[1], got, len), (long long)len, "fanout: third drained");
    t_ok(memcmp(got, want, len) == 0, "fanout: third receiver got the old bytes");
    t_is_int(read_exact(a[1], got, len), (long long)len, "fanout: tee'd new bytes drained");
    t_ok(got[0] == 0x77 && got[len - 1] == 0x77, "fanout: the tee'd resend is the new bytes");
    zc_pool_free(p);
    zc_ctx_free(ctx);
    for (int i = 0; i < 2; i++) {
        close(a[i]);
        close(b[i]);
        close(c[i]);
    }
    free(got);
    free(want);
}

/* A regular file cannot take pages by reference: the stats say copied. */
static void case_file_sink(void)
{
    int out = t_pattern_file(0, false, NULL);
    struct zc_pool_stats st;
    struct zc_slice s;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    size_t pos = 0;
    uint64_t got_len;
    uint64_t want, got;

    zc_pool_new(&p, SLICE);
    zc_pool_alloc(p, 10000, &s);
    t_fill_pattern(s.data, s.len, 0);
    want = t_hash(T_HASH_INIT, s.data, s.len);
    /* The first send is the pool's copy; the second is sendfile into the
     * file, a copy too: neither freezes the slice. */
    for (int i = 0; i < 2; i++) {
        pos = 0;
        t_is_int(zc_pool_send(ctx, out, p, &s, &pos, s.len, ZC_AUTO), 10000,
                 "file: sent (%d)", i);
    }
    for (int i = 0; i < 2; i++) {
        got = t_hash_file(out, 10000 * (uint64_t)i, 10000, &got_len);
        t_ok(got_len == 10000 && got == want, "file: copy %d byte-exact", i);
    }
    zc_pool_stats(p, &st);
    t_is_int(st.bytes_copied, 20000, "file: stats say the bytes were copied");
    t_is_int(st.bytes_sent, 20000, "file: and sent");
    t_is_int(st.sends_by_copy, 1, "file: the first by the pool's copy");
    t_is_int(zc_pool_write(p, &s, 0, "x", 1), 1, "file: the slice is still writable");
    t_is_int(zc_pool_release(p, &s), 0, "file: released");
    zc_pool_stats(p, &st);
    t_is_int(st.pages_punched, 0, "file: no page replaced");
    zc_pool_free(p);
    zc_ctx_free(ctx);
    close(out);
}

/* A pipe whose reader is gone: -EPIPE, and this process is not killed. */
static void case_no_sigpipe(void)
{
    struct zc_slice s;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    size_t pos = 0;
    int fds[2];

    signal(SIGPIPE, SIG_DFL);
    t_pipe(fds);
    close(fds[1]);
    zc_pool_new(&p, SLICE);
    zc_pool_alloc(p, 100, &s);
    t_is_int(zc_pool_send(ctx, fds[0], p, &s, &pos, 100, ZC_AUTO), -EPIPE,
             "sigpipe: -EPIPE, and still alive");
    zc_pool_free(p);
    zc_ctx_free(ctx);
    close(fds[0]);
}

/* Slices the pool did not hand out, or took back, are refused everywhere. */
static void case_bad_slices(void)
{
    const size_t pg = page_size();
    struct zc_slice s, bad;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    size_t pos = 0;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);

    zc_pool_new(&p, 4 * pg);
    zc_pool_alloc(p, pg, &s);
    bad = s;
    bad.off += 1;
    bad.data = (char *)bad.data + 1;
    t_is_int(zc_pool_send(ctx, devnull, p, &bad, &pos, 1, ZC_AUTO), -EINVAL,
             "bad: unaligned slice refused");
    bad = s;
    bad.off = (off_t)pg;
    bad.data = (char *)s.data + pg;
    t_is_int(zc_pool_release(p, &bad), -EINVAL, "bad: a free range is not a slice");
    t_is_int(zc_pool_slice_at(p, (off_t)(3 * pg), 2 * pg, &bad), -EINVAL,
             "bad: slice_at past the end refused");
    t_is_int(zc_pool_slice_at(p, (off_t)pg, pg, &bad), 0, "bad: slice_at inside is fine");

    /* zc_pool_write: bounds, and a sent slice is refused. */
    {
        char two[2] = { 'a', 'b' };
        size_t at = 0;

        t_is_int(zc_pool_write(p, &s, pg - 1, two, 2), -EINVAL,
                 "bad: zc_pool_write past the slice refused");
        t_is_int(zc_pool_write(p, &s, pg - 2, two, 2), 2, "bad: zc_pool_write at the end");
        t_ok(((char *)s.data)[pg - 1] == 'b', "bad: ... visible through the pointer");
        t_is_int(zc_pool_freeze(p, &s), 0, "bad: freeze");
        t_is_int(zc_pool_write(p, &s, 0, two, 1), -EBUSY,
                 "bad: zc_pool_write into a frozen slice is -EBUSY");
        t_is_int(zc_pool_rewrite(p, &s), 0, "bad: rewrite the frozen slice");
        t_ok(((char *)s.data)[pg - 1] == 0, "bad: ... it reads as zeros");
        t_is_int(zc_pool_write(p, &s, at, two, 1), 1, "bad: writable again");
    }

    /* Never sent: rewrite keeps the bytes (no page replaced). */
    memset(s.data, 0x42, pg);
    t_is_int(zc_pool_rewrite(p, &s), 0, "bad: rewrite of an unsent slice");
    t_ok(((uint8_t *)s.data)[0] == 0x42, "bad: ... keeps its bytes");
    {
        struct zc_pool_stats st;

        zc_pool_stats(p, &st);
        t_is_int(st.pages_punched, 1, "bad: only the frozen page was punched");
    }
    bad = s;
    zc_pool_release(p, &s);
    t_ok(s.data == NULL && s.len == 0, "bad: release clears the slice");
    t_is_int(zc_pool_send(ctx, devnull, p, &bad, &pos, 1, ZC_AUTO), -EINVAL,
             "bad: sending a released slice refused");
    zc_pool_free(p);
    zc_pool_free(NULL);
    zc_ctx_free(ctx);
    close(devnull);
}

/* Releasing and freeing the pool while bytes are queued: nothing leaks, the
 * queued bytes stay intact. */
static void case_teardown_while_queued(void)
{
    int fds_before = t_count_fds(), fds[2], keep;
    uint8_t *got = malloc(SLICE), *want = malloc(SLICE);
    struct zc_slice s;
    zc_pool *p = NULL;
    zc_ctx *ctx = zc_ctx_new();
    size_t pos = 0;

    t_pipe(fds);
    fcntl(fds[0], F_SETPIPE_SZ, (int)SLICE);
    zc_pool_new(&p, 4 * SLICE);
    zc_pool_set_copy_sends(p, 0);       /* the pipe holds the pool's pages */
    keep = dup(zc_pool_fd(p));          /* to look for its mappings later */
    t_is_int(t_maps_of(keep), 1, "teardown: the pool is mapped once");
    zc_pool_alloc(p, SLICE, &s);
    t_fill_pattern(s.data, SLICE, 4242);
    memcpy(want, s.data, SLICE);
    t_is_int(zc_pool_send(ctx, fds[0], p, &s, &pos, SLICE, ZC_AUTO), (long long)SLICE,
             "teardown: slice queued in a pipe");
    zc_pool_release(p, &s);
    zc_pool_free(p);
    t_is_int(t_maps_of(keep), 0, "teardown: no mapping left after zc_pool_free");
    close(keep);
    t_is_int(read_exact(fds[1], got, SLICE), (long long)SLICE, "teardown: drained after free");
    t_ok(memcmp(got, want, SLICE) == 0, "teardown: bytes intact after the pool is gone");
    close(fds[0]);
    close(fds[1]);
    zc_ctx_free(ctx);
    t_is_int(t_count_fds(), fds_before, "teardown: no fd left open");
    free(got);
    free(want);
}

int main(void)
{
    int fds_before = t_count_fds();
    static const char *const sinks[] = { "tcp", "unix", "pipe" };

    for (size_t i = 0; i < T_ARRAY_SIZE(sinks); i++) {
        case_in_flight(sinks[i], REUSE_REWRITE);
        case_in_flight(sinks[i], REUSE_REALLOC);
    }
    for (size_t i = 0; i < T_ARRAY_SIZE(sinks); i++)
        case_copy_first(sinks[i]);
    case_copy_unmapped();
    case_share();
    case_attach_refuses();
    case_full();
    case_resume(0);
    case_resume(1);
    case_fanout();
    case_file_sink();
    case_bad_slices();
    case_teardown_while_queued();
    case_no_sigpipe();
    t_is_int(t_count_fds(), fds_before, "no fd left open by the whole test");
    return t_done();
}
