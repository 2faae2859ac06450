/* test_serve_loop.c - the serve loop's FIFO timer lists and epoll seam
 * (src/serve/loop.c): order of expiry, disarm, re-arm, and I/O dispatch. */
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "serve/loop.h"
#include "tap.h"

struct item {
    struct zc_timer timer;
    int id;
};

static int fired[16], nfired;

static void on_expire(struct zc_loop *loop, struct zc_timer *t)
{
    struct item *it = (struct item *)t;

    (void)loop;
    if (nfired < 16)
        fired[nfired++] = it->id;
}

static void test_timer_lists(void)
{
    struct zc_loop loop;
    struct zc_timer_list a, never;
    struct item it[4];

    t_is_int(zc_loop_init(&loop), 0, "loop init");
    zc_loop_add_list(&loop, &a, 100, on_expire);
    zc_loop_add_list(&loop, &never, 0, on_expire);
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 4; i++) {
        it[i].id = i;
        loop.now_ms = 1000 + i * 10;
        zc_timer_arm(&loop, &a, &it[i].timer);
    }
    t_ok(a.head == &it[0].timer && a.tail == &it[3].timer, "armed in deadline order");
    zc_timer_disarm(&it[1].timer);
    t_ok(it[1].timer.list == NULL && it[0].timer.next == &it[2].timer, "disarm unlinks");
    zc_timer_disarm(&it[1].timer);
    t_ok(it[1].timer.list == NULL, "disarm twice is harmless");
    loop.now_ms = 1040;
    zc_timer_arm(&loop, &a, &it[0].timer);   /* re-arm moves it to the tail */
    t_ok(a.head == &it[2].timer && a.tail == &it[0].timer, "re-arm moves to the tail");
    zc_timer_arm(&loop, &never, &it[1].timer);
    t_ok(it[1].timer.list == NULL, "a list with duration 0 never holds timers");

    /* Run the loop with a stop after the deadlines: expiries in order. */
    nfired = 0;
    loop.now_ms = 1135;
    {
        /* The loop expires a list from its head while deadline <= now;
         * done here with a fixed clock (zc_loop_run reads the real one). */
        struct zc_timer_list *l = &a;
        struct zc_timer *t;

        while ((t = l->head) && t->deadline_ms <= loop.now_ms) {
            zc_timer_disarm(t);
            l->on_expire(&loop, t);
        }
    }
    t_is_int(nfired, 2, "two deadlines passed at 1135");
    t_is_int(fired[0], 2, "earliest first");
    t_is_int(fired[1], 3, "then the next");
    t_ok(a.head == &it[0].timer && a.head == a.tail, "re-armed timer still waiting");
    zc_loop_destroy(&loop);
}

static struct zc_loop *stop_loop;
static int events_seen;

static void on_pipe(struct zc_loop *loop, struct zc_io *io, uint32_t events)
{
    char c;

    (void)loop;
    if ((events & EPOLLIN) && read(io->fd, &c, 1) == 1)
        events_seen++;
    stop_loop->stop = true;
}

static void on_deadline(struct zc_loop *loop, struct zc_timer *t)
{
    (void)t;
    fired[nfired++] = 99;
    loop->stop = true;
}

static void test_run(void)
{
    struct zc_loop loop;
    struct zc_timer_list l;
    struct zc_timer t = { 0 };
    struct zc_io io;
    int p[2];

    t_is_int(zc_loop_init(&loop), 0, "loop init");
    t_ok(pipe(p) == 0, "pipe");
    io = (struct zc_io){ .fd = p[0], .on_event = on_pipe };
    t_is_int(zc_loop_add(&loop, &io, EPOLLIN), 0, "add fd");
    t_ok(write(p[1], "x", 1) == 1, "make it readable");
    stop_loop = &loop;
    t_is_int(zc_loop_run(&loop), 0, "run returns after stop");
    t_is_int(events_seen, 1, "callback saw EPOLLIN");

    loop.stop = false;
    nfired = 0;
    zc_loop_add_list(&loop, &l, 20, on_deadline);
    loop.now_ms = zc_now_ms();
    zc_timer_arm(&loop, &l, &t);
    t_is_int(zc_loop_run(&loop), 0, "run until the timer fires");
    t_ok(nfired == 1 && fired[0] == 99, "timer fired through the loop");
    t_ok(zc_now_ms() >= t.deadline_ms, "not before its deadline");
    t_is_int(zc_loop_del(&loop, &io), 0, "del fd");
    close(p[0]);
    close(p[1]);
    zc_loop_destroy(&loop);
}

int main(void)
{
    test_timer_lists();
    test_run();
    return t_done();
}
