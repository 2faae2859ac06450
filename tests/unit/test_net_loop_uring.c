/* test_net_loop_uring.c - the io_uring loop backend (src/net/loop_uring.c)
 * behind the same seam as epoll: edge and level reports, bytes taken by
 * the ring handed over in order and none lost when a connection stops
 * reading, end of stream and errors after the bytes, buffers given back on
 * del, multishot accept with pause, poll-mode fds, and refusal. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/loop_backend.h"
#include "tap.h"
#include "testutil.h"

static unsigned last_events;
static int ncalls;

static void on_io(struct zc_loop *loop, struct zc_io *io, unsigned events)
{
    (void)loop;
    (void)io;
    last_events |= events;
    ncalls++;
}

/* One wakeup without sleeping; the ring may need a second enter to run the
 * completions of what the first one submitted, so up to a few tries until
 * something is reported (bounded: a test that expects nothing still ends). */
static int turn(struct zc_loop *loop)
{
    int n = 0;

    ncalls = 0;
    last_events = 0;
    for (int i = 0; i < 4 && n == 0; i++)
        n = zc_loop_run_once(loop, i == 0 ? 0 : 20);
    return n;
}

static void init_or_skip(struct zc_loop *loop)
{
    int ret = zc_loop_init_backend(loop, &zc_loop_backend_uring);

    if (ret == -ENOSYS || ret == -EPERM || ret == -EINVAL)
        t_skip_all("io_uring loop unavailable here: %s", strerror(-ret));
    t_is_int(ret, 0, "uring loop init");
}

static void test_edge_and_level(void)
{
    struct zc_loop loop;
    struct zc_io io;
    char buf[16];
    int sp[2];

    init_or_skip(&loop);
    t_is_str(zc_loop_backend_name(&loop), "uring", "backend name");
    t_unix_pair(sp);
    t_set_nonblock(sp[0], true);
    io = (struct zc_io){ .fd = sp[0], .on_event = on_io };
    t_is_int(zc_loop_add(&loop, &io, ZC_EV_READ | ZC_EV_EDGE), 0, "add, edge");
    t_is_int(turn(&loop), 0, "nothing to read: nothing fired");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), -EAGAIN, "recv: -EAGAIN");
    t_ok(write(sp[1], "hello", 5) == 5, "peer writes 5 bytes");
    t_is_int(turn(&loop), 1, "one event");
    t_ok(ncalls == 1 && last_events == ZC_EV_READ, "ZC_EV_READ only");
    t_is_int((int)zc_loop_queued(&loop, &io), 5, "5 bytes queued by the ring");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, 2), 2, "recv 2");
    t_is_mem(buf, 2, "he", "the first two");
    t_is_int((int)zc_loop_queued(&loop, &io), 3, "3 left");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 3, "recv the rest");
    t_is_mem(buf, 3, "llo", "in order");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), -EAGAIN, "then -EAGAIN");
    t_ok(write(sp[1], "ab", 2) == 2, "peer writes again");
    t_is_int(turn(&loop), 1, "edge: reported");
    t_is_int(turn(&loop), 0, "edge: not again while unread");

    t_is_int(zc_loop_mod(&loop, &io, ZC_EV_READ), 0, "switch to level");
    t_is_int(turn(&loop), 1, "level: what waits is reported on the switch");
    t_is_int(turn(&loop), 1, "level: and again while unread");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 2, "recv takes it");
    t_is_int(turn(&loop), 0, "level: quiet once read");

    t_is_int(zc_loop_mod(&loop, &io, ZC_EV_WRITE), 0, "watch writability");
    t_is_int(turn(&loop), 1, "writable");
    t_ok(last_events == ZC_EV_WRITE, "ZC_EV_WRITE");
    t_is_int(zc_loop_mod(&loop, &io, 0), 0, "interest 0");
    t_ok(write(sp[1], "z", 1) == 1, "peer writes while not watched");
    t_is_int(turn(&loop), 0, "silent with interest 0");
    t_is_int(zc_loop_mod(&loop, &io, ZC_EV_READ | ZC_EV_RDHUP | ZC_EV_EDGE), 0,
             "read again, with the FIN");
    t_is_int(turn(&loop), 1, "the byte that came meanwhile is reported");
    t_ok(write(sp[1], "xy", 2) == 2 && shutdown(sp[1], SHUT_WR) == 0, "peer: 2 bytes, then FIN");
    /* The byte from before, the two, then the end: in that order. */
    for (int i = 0; i < 3 && zc_loop_queued(&loop, &io) < 3; i++)
        turn(&loop);
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 3, "recv the 3 bytes");
    t_is_mem(buf, 3, "zxy", "in order");
    if (!(last_events & ZC_EV_RDHUP))
        turn(&loop);
    t_ok(last_events & ZC_EV_RDHUP, "ZC_EV_RDHUP");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 0, "recv: end of stream after them");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 0, "and stays there");
    t_is_int(zc_loop_del(&loop, &io), 0, "del");
    close(sp[0]);
    close(sp[1]);
    zc_loop_destroy(&loop);
    zc_loop_destroy(&loop);
    t_ok(loop.backend == NULL, "destroy twice is harmless");
}

/* A connection that stops reading: the ring pauses its receive after a few
 * buffers; the bytes wait in the socket, and all come out in order. */
static void test_no_loss_when_not_reading(void)
{
    enum { TOTAL = 3 << 20 };
    struct zc_loop loop;
    struct zc_io io;
    char *out = malloc(TOTAL), *in = malloc(TOTAL);
    size_t sent = 0, got = 0, max_queued = 0;
    int sp[2], rounds = 0;

    init_or_skip(&loop);
    t_fill_pattern(out, TOTAL, 7);
    t_unix_pair(sp);
    t_set_nonblock(sp[0], true);
    t_set_nonblock(sp[1], true);
    io = (struct zc_io){ .fd = sp[0], .on_event = on_io };
    zc_loop_add(&loop, &io, ZC_EV_READ | ZC_EV_EDGE);
    /* First: fill, turn, read nothing, until the peer cannot write more. */
    for (int i = 0; i < 200; i++) {
        ssize_t w = write(sp[1], out + sent, TOTAL - sent);

        if (w > 0)
            sent += (size_t)w;
        turn(&loop);
        if (zc_loop_queued(&loop, &io) > max_queued)
            max_queued = zc_loop_queued(&loop, &io);
        if (w < 0 && i > 20)
            break;
    }
    t_ok(max_queued >= 16 * 4096 && max_queued < (1 << 20),
         "the ring held %zu bytes for a connection not reading: bounded", max_queued);
    /* Then read everything. */
    while (got < TOTAL && rounds++ < 100000) {
        ssize_t n;

        if (sent < TOTAL) {
            ssize_t w = write(sp[1], out + sent, TOTAL - sent);

            if (w > 0)
                sent += (size_t)w;
        }
        while ((n = zc_loop_recv(&loop, &io, in + got, 10000)) > 0)
            got += (size_t)n;
        if (got < TOTAL)
            zc_loop_run_once(&loop, 0);
    }
    t_is_int((int)got, TOTAL, "every byte came out");
    t_ok(memcmp(in, out, TOTAL) == 0, "in order, none lost or doubled");
    zc_loop_del(&loop, &io);
    close(sp[0]);
    close(sp[1]);
    zc_loop_destroy(&loop);
    free(out);
    free(in);
}

/* Connections deleted with bytes queued give their buffers back: more
 * deletions than the ring has buffers, each still gets its bytes. */
static void test_del_returns_buffers(void)
{
    struct zc_loop loop;
    int reported = 0;

    init_or_skip(&loop);
    for (int i = 0; i < 1500; i++) {
        struct zc_io io;
        int sp[2];

        t_unix_pair(sp);
        io = (struct zc_io){ .fd = sp[0], .on_event = on_io };
        zc_loop_add(&loop, &io, ZC_EV_READ | ZC_EV_EDGE);
        if (write(sp[1], "data", 4) == 4 && turn(&loop) == 1 && zc_loop_queued(&loop, &io) == 4)
            reported++;
        zc_loop_del(&loop, &io);        /* unread: its buffer goes back */
        close(sp[0]);
        close(sp[1]);
    }
    t_is_int(reported, 1500, "1500 connections deleted unread, each got its bytes");
    zc_loop_destroy(&loop);
}

static void test_accept(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof(a);
    struct sockaddr_storage peer;
    socklen_t plen;
    struct zc_loop loop;
    struct zc_io lio;
    int lfd, c[4], fd, accepted = 0;

    init_or_skip(&loop);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    t_ok(lfd >= 0 && bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 16) == 0 &&
             getsockname(lfd, (struct sockaddr *)&a, &alen) == 0,
         "listener on 127.0.0.1:0");
    lio = (struct zc_io){ .fd = lfd, .on_event = on_io };
    t_is_int(zc_loop_add(&loop, &lio, ZC_EV_READ), 0, "watch the listener");
    for (int i = 0; i < 3; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        connect(c[i], (struct sockaddr *)&a, sizeof(a));
    }
    for (int i = 0; i < 4 && accepted < 3; i++) {
        turn(&loop);
        plen = sizeof(peer);
        while ((fd = zc_loop_accept(&loop, &lio, &peer, &plen)) >= 0) {
            accepted += peer.ss_family == AF_INET && plen == sizeof(struct sockaddr_in) &&
                        ((struct sockaddr_in *)&peer)->sin_port != 0;
            close(fd);
            plen = sizeof(peer);
        }
    }
    t_is_int(accepted, 3, "3 connections accepted, each with its peer's address");
    plen = sizeof(peer);
    t_is_int(zc_loop_accept(&loop, &lio, &peer, &plen), -EAGAIN, "then -EAGAIN");
    t_is_int(zc_loop_mod(&loop, &lio, 0), 0, "pause accepting");
    c[3] = socket(AF_INET, SOCK_STREAM, 0);
    connect(c[3], (struct sockaddr *)&a, sizeof(a));
    t_is_int(turn(&loop), 0, "paused: a new connection is not reported");
    t_is_int(zc_loop_mod(&loop, &lio, ZC_EV_READ), 0, "resume");
    t_is_int(turn(&loop), 1, "it is reported now");
    plen = sizeof(peer);
    fd = zc_loop_accept(&loop, &lio, &peer, &plen);
    t_ok(fd >= 0, "and accepted");
    if (fd >= 0)
        close(fd);
    zc_loop_del(&loop, &lio);
    for (int i = 0; i < 4; i++)
        close(c[i]);
    close(lfd);
    zc_loop_destroy(&loop);
}

static void test_poll_fd_and_teardown(void)
{
    struct zc_loop loop;
    struct zc_io eio, sio;
    uint64_t v = 1;
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), sp[2];

    init_or_skip(&loop);
    eio = (struct zc_io){ .fd = efd, .on_event = on_io };
    t_is_int(zc_loop_add(&loop, &eio, ZC_EV_READ), 0, "watch an eventfd (poll mode)");
    t_is_int(turn(&loop), 0, "quiet");
    t_ok(write(efd, &v, sizeof(v)) == 8, "signal it");
    t_is_int(turn(&loop), 1, "reported");
    t_ok(last_events == ZC_EV_READ, "ZC_EV_READ");
    t_is_int(turn(&loop), 1, "level: again while not read");
    t_ok(read(efd, &v, sizeof(v)) == 8, "read it");
    t_is_int(turn(&loop), 0, "quiet once read");

    /* A parked connection: not reading, told when the peer goes. */
    t_unix_pair(sp);
    sio = (struct zc_io){ .fd = sp[0], .on_event = on_io };
    zc_loop_add(&loop, &sio, ZC_EV_RDHUP);
    t_is_int(turn(&loop), 0, "parked: quiet");
    close(sp[1]);
    t_is_int(turn(&loop), 1, "parked: the peer's close is reported");
    t_ok(last_events & (ZC_EV_RDHUP | ZC_EV_HUP), "as RDHUP/HUP");
    /* Torn down with requests in flight and fds registered: no leak (ASan). */
    zc_loop_destroy(&loop);
    close(sp[0]);
    close(efd);
}

static void test_refused(void)
{
    struct zc_loop loop;

    if (t_forbid_syscall(__NR_io_uring_setup, EPERM) < 0) {
        t_ok(1, "io_uring refused # SKIP seccomp unavailable");
        return;
    }
    t_is_int(zc_loop_init_backend(&loop, &zc_loop_backend_uring), -EPERM,
             "io_uring refused by seccomp: init says -EPERM");
    t_ok(loop.backend == NULL, "and leaves no backend");
    t_is_int(zc_loop_init(&loop), 0, "epoll still starts");
    zc_loop_destroy(&loop);
}

int main(void)
{
    test_edge_and_level();
    test_no_loss_when_not_reading();
    test_del_returns_buffers();
    test_accept();
    test_poll_fd_and_teardown();
    test_refused();                     /* last: the filter stays */
    return t_done();
}
