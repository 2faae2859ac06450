/* test_net_loop.c - the event loop core, its timer lists and deferred tasks
 * (src/net/loop.c, src/net/timer.c) and the epoll backend behind the seam
 * (src/net/loop_epoll.c). Everything here calls the real functions: the
 * expiry tests use zc_loop_expire_timers with a clock the test sets, and a
 * recording backend shows the core reaches the OS only through the table. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/loop.h"
#include "net/loop_backend.h"
#include "tap.h"
#include "testutil.h"

struct item {
    struct zc_timer timer;
    int id;
    struct zc_timer_list *rearm_on;     /* re-arm itself when it fires */
    struct item *disarm_other;          /* disarm another when it fires */
};

static int fired[32], nfired;

static void on_expire(struct zc_loop *loop, struct zc_timer *t)
{
    struct item *it = (struct item *)t;

    if (nfired < 32)
        fired[nfired++] = it->id;
    if (it->rearm_on)
        zc_timer_arm(loop, it->rearm_on, t);
    if (it->disarm_other)
        zc_timer_disarm(&it->disarm_other->timer);
}

static void test_timer_lists(void)
{
    struct zc_loop loop;
    struct zc_timer_list a, never;
    struct item it[4];

    t_is_int(zc_loop_init(&loop), 0, "loop init");
    t_is_int(zc_loop_add_list(&loop, &a, 100, on_expire), 0, "add a list");
    t_is_int(zc_loop_add_list(&loop, &never, 0, on_expire), 0, "add a list that never fires");
    memset(it, 0, sizeof(it));
    for (int i = 0; i < 4; i++) {
        it[i].id = i;
        loop.now_ms = 1000 + i * 10;
        zc_timer_arm(&loop, &a, &it[i].timer);
    }
    t_ok(a.head == &it[0].timer && a.tail == &it[3].timer, "armed in deadline order");
    t_is_int((int)it[2].timer.deadline_ms, 1120, "deadline = now + duration");
    zc_timer_disarm(&it[1].timer);
    t_ok(it[1].timer.list == NULL && it[0].timer.next == &it[2].timer, "disarm unlinks");
    zc_timer_disarm(&it[1].timer);
    t_ok(it[1].timer.list == NULL, "disarm twice is harmless");
    loop.now_ms = 1040;
    zc_timer_arm(&loop, &a, &it[0].timer);   /* re-arm moves it to the tail */
    t_ok(a.head == &it[2].timer && a.tail == &it[0].timer, "re-arm moves to the tail");
    zc_timer_arm(&loop, &never, &it[1].timer);
    t_ok(it[1].timer.list == NULL, "a list with duration 0 never holds timers");

    /* Deadlines: it2 1120, it3 1130, it0 1140. */
    nfired = 0;
    loop.now_ms = 1119;
    zc_loop_expire_timers(&loop);
    t_is_int(nfired, 0, "nothing fires before the first deadline");
    loop.now_ms = 1135;
    zc_loop_expire_timers(&loop);
    t_is_int(nfired, 2, "every passed deadline fires in one expiry, not only the head");
    t_is_int(fired[0], 2, "earliest first");
    t_is_int(fired[1], 3, "then the next");
    t_ok(a.head == &it[0].timer && a.head == a.tail, "the later timer still waits");
    t_ok(it[2].timer.list == NULL && it[3].timer.list == NULL, "fired timers are disarmed");
    loop.now_ms = 1140;
    zc_loop_expire_timers(&loop);
    t_ok(nfired == 3 && fired[2] == 0, "a deadline equal to now fires");
    t_ok(a.head == NULL && a.tail == NULL, "list empty");
    t_is_int(zc_loop_add_list(&loop, &never, 0, on_expire), 0, "lists 3..8 fit");
    for (int i = 3; i < ZC_LOOP_MAX_LISTS; i++)
        zc_loop_add_list(&loop, &never, 0, on_expire);
    t_is_int(zc_loop_add_list(&loop, &never, 0, on_expire), -ENOSPC, "a ninth list is refused");
    zc_loop_destroy(&loop);
}

static void test_callbacks_change_lists(void)
{
    struct zc_loop loop;
    struct zc_timer_list a, b;
    struct item it[4];

    memset(it, 0, sizeof(it));
    t_is_int(zc_loop_init(&loop), 0, "loop init");
    zc_loop_add_list(&loop, &a, 50, on_expire);
    zc_loop_add_list(&loop, &b, 10, on_expire);
    loop.now_ms = 0;
    for (int i = 0; i < 3; i++) {
        it[i].id = i;
        zc_timer_arm(&loop, &a, &it[i].timer);
    }
    it[0].rearm_on = &a;                 /* fires at 50, comes back at 100 */
    it[0].disarm_other = &it[1];         /* and cancels it1, due at 50 too */
    it[3].id = 3;
    zc_timer_arm(&loop, &b, &it[3].timer);
    nfired = 0;
    loop.now_ms = 50;
    zc_loop_expire_timers(&loop);
    t_is_int(nfired, 3, "it0, it2 on one list and it3 on the other fired");
    t_ok(fired[0] == 0 && fired[1] == 2 && fired[2] == 3,
         "a timer disarmed by a callback does not fire");
    t_ok(it[0].timer.list == &a && it[0].timer.deadline_ms == 100,
         "a timer re-armed by its callback waits for its new deadline");
    t_is_int(zc_loop_next_timeout(&loop), 50, "next sleep until the re-armed deadline");
    loop.max_wait_ms = 20;
    t_is_int(zc_loop_next_timeout(&loop), 20, "max_wait_ms bounds the sleep");
    loop.now_ms = 200;
    t_is_int(zc_loop_next_timeout(&loop), 0, "an overdue timer: no sleep");
    zc_loop_destroy(&loop);
}

/* --- deferred tasks -------------------------------------------------------- */

struct job {
    struct zc_task task;
    int runs;
    bool again;                          /* defer itself when run */
    struct job *cancel;                  /* cancel another when run */
};

static void on_job(struct zc_loop *loop, struct zc_task *t)
{
    struct job *j = (struct job *)t;

    j->runs++;
    if (j->again)
        zc_loop_defer(loop, t);
    if (j->cancel)
        zc_loop_cancel(loop, &j->cancel->task);
}

static void test_tasks(void)
{
    struct zc_loop loop;
    struct job j[3];

    memset(j, 0, sizeof(j));
    for (int i = 0; i < 3; i++)
        j[i].task.run = on_job;
    t_is_int(zc_loop_init(&loop), 0, "loop init");
    t_is_int(zc_loop_next_timeout(&loop), -1, "nothing to wait for: sleep without bound");
    zc_loop_defer(&loop, &j[0].task);
    zc_loop_defer(&loop, &j[0].task);
    t_is_int(zc_loop_next_timeout(&loop), 0, "a deferred task: do not sleep");
    j[0].again = true;                   /* a connection that keeps yielding */
    j[0].cancel = &j[1];
    zc_loop_defer(&loop, &j[1].task);
    zc_loop_defer(&loop, &j[2].task);
    t_is_int(zc_loop_run_once(&loop, 0), 0, "one turn");
    t_is_int(j[0].runs, 1, "deferring twice runs once; re-deferring waits for the next turn");
    t_is_int(j[1].runs, 0, "a task cancelled by an earlier one in the batch does not run");
    t_is_int(j[2].runs, 1, "the rest of the batch runs");
    t_ok(j[0].task.queued, "the re-deferred task is queued");
    j[0].again = false;
    j[0].cancel = NULL;
    zc_loop_run_once(&loop, 0);
    t_is_int(j[0].runs, 2, "and runs on the next turn");
    t_ok(!j[0].task.queued && loop.tasks_head == NULL, "queue empty");
    zc_loop_defer(&loop, &j[2].task);
    zc_loop_cancel(&loop, &j[2].task);
    zc_loop_run_once(&loop, 0);
    t_is_int(j[2].runs, 1, "a cancelled task does not run");
    zc_loop_destroy(&loop);
}

/* --- I/O through the epoll backend ---------------------------------------- */

static unsigned last_events;
static int ncalls;

static void on_io(struct zc_loop *loop, struct zc_io *io, unsigned events)
{
    (void)loop;
    (void)io;
    last_events = events;
    ncalls++;
}

static int turn(struct zc_loop *loop)
{
    ncalls = 0;
    last_events = 0;
    return zc_loop_run_once(loop, 0);
}

static void test_io(void)
{
    struct zc_loop loop;
    struct zc_io io;
    struct sockaddr_storage peer;
    socklen_t plen = sizeof(peer);
    char buf[8];
    int sp[2];

    t_is_int(zc_loop_init(&loop), 0, "loop init");
    t_unix_pair(sp);
    t_set_nonblock(sp[0], true);
    io = (struct zc_io){ .fd = sp[0], .on_event = on_io };
    t_is_int(zc_loop_add(&loop, &io, ZC_EV_READ), 0, "add for reading");
    t_is_int(turn(&loop), 0, "nothing to read: nothing fired");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), -EAGAIN, "recv: -EAGAIN");
    t_ok(write(sp[1], "ab", 2) == 2, "peer writes");
    t_is_int(turn(&loop), 1, "one event");
    t_ok(ncalls == 1 && last_events == ZC_EV_READ, "callback got ZC_EV_READ only");
    t_is_int(turn(&loop), 1, "level-triggered: reported again while unread");

    t_is_int(zc_loop_mod(&loop, &io, ZC_EV_READ | ZC_EV_EDGE), 0, "switch to edge");
    t_ok(io.interest == (ZC_EV_READ | ZC_EV_EDGE), "the core keeps the interest");
    t_is_int(turn(&loop), 1, "edge: reported once");
    t_is_int(turn(&loop), 0, "edge: not again without new bytes");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 2, "recv takes the bytes");

    t_is_int(zc_loop_mod(&loop, &io, ZC_EV_WRITE), 0, "watch writability");
    t_is_int(turn(&loop), 1, "writable");
    t_ok(last_events == ZC_EV_WRITE, "callback got ZC_EV_WRITE");
    t_is_int(zc_loop_mod(&loop, &io, 0), 0, "interest 0");
    t_is_int(turn(&loop), 0, "silent while registered with interest 0");

    t_is_int(zc_loop_mod(&loop, &io, ZC_EV_READ | ZC_EV_RDHUP), 0, "watch the FIN");
    shutdown(sp[1], SHUT_WR);
    t_is_int(turn(&loop), 1, "peer shut down");
    t_ok(last_events & ZC_EV_RDHUP, "callback got ZC_EV_RDHUP");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 0, "recv: end of stream");
    close(sp[1]);
    t_is_int(turn(&loop), 1, "peer closed");
    t_ok(last_events & ZC_EV_HUP, "callback got ZC_EV_HUP");
    t_is_int(zc_loop_del(&loop, &io), 0, "del");
    t_is_int(turn(&loop), 0, "nothing after del");
    t_is_int(zc_loop_accept(&loop, &io, &peer, &plen), -EINVAL,
             "accept on a socket that does not listen: -EINVAL");
    close(sp[0]);
    t_ok(zc_loop_add(&loop, &io, ZC_EV_READ) == -EBADF, "add a closed fd: -EBADF");
    zc_loop_destroy(&loop);
    zc_loop_destroy(&loop);
    t_ok(loop.backend == NULL, "destroy twice is harmless");
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

    t_is_int(zc_loop_init(&loop), 0, "loop init");
    nfired = 0;
    zc_loop_add_list(&loop, &l, 20, on_deadline);
    zc_timer_arm(&loop, &l, &t);
    t_is_int(zc_loop_run(&loop), 0, "run until a timer callback stops the loop");
    t_ok(nfired == 1 && fired[0] == 99, "the timer fired through zc_loop_run");
    t_ok(loop.now_ms >= t.deadline_ms, "not before its deadline");
    zc_loop_destroy(&loop);
}

/* --- the seam: a backend that records what the core asks ------------------ */

static struct {
    int inits, destroys, watches, polls;
    int last_op;
    unsigned last_old, last_interest;
    struct zc_io *deliver;                /* reported by the next poll */
} rec;

static int rec_init(struct zc_loop *loop)
{
    rec.inits++;
    loop->backend_data = &rec;
    return 0;
}

static void rec_destroy(struct zc_loop *loop)
{
    rec.destroys++;
    loop->backend_data = NULL;
}

static int rec_watch(struct zc_loop *loop, struct zc_io *io, unsigned old,
                     unsigned interest, int op)
{
    (void)loop;
    (void)io;
    rec.watches++;
    rec.last_op = op;
    rec.last_old = old;
    rec.last_interest = interest;
    return io->fd < 0 ? -EBADF : 0;
}

static int rec_poll(struct zc_loop *loop, int timeout_ms)
{
    (void)timeout_ms;
    rec.polls++;
    if (!rec.deliver)
        return 0;
    loop->fired[0] = (struct zc_fired){ .io = rec.deliver, .events = ZC_EV_READ | ZC_EV_RDHUP };
    rec.deliver = NULL;
    return 1;
}

static ssize_t rec_recv(struct zc_loop *loop, struct zc_io *io, void *buf, size_t cap)
{
    (void)loop;
    (void)io;
    if (cap < 3)
        return -EINVAL;
    memcpy(buf, "xyz", 3);
    return 3;
}

static const struct zc_loop_backend recording = {
    .name = "recording", .init = rec_init, .destroy = rec_destroy,
    .watch = rec_watch, .poll = rec_poll, .recv = rec_recv,
};

static void test_seam(void)
{
    struct zc_loop loop;
    struct zc_io io = { .fd = 1000, .on_event = on_io };
    struct zc_io bad = { .fd = -1, .on_event = on_io };
    char buf[4];

    t_is_int(zc_loop_init_backend(&loop, &recording), 0, "init with a named backend");
    t_is_int(rec.inits, 1, "backend init called");
    zc_loop_add(&loop, &io, ZC_EV_READ | ZC_EV_EDGE);
    t_ok(rec.last_op == ZC_WATCH_ADD && rec.last_old == 0 &&
         rec.last_interest == (ZC_EV_READ | ZC_EV_EDGE), "add -> watch(ADD, 0 -> interest)");
    zc_loop_mod(&loop, &io, ZC_EV_WRITE);
    t_ok(rec.last_op == ZC_WATCH_MOD && rec.last_old == (ZC_EV_READ | ZC_EV_EDGE) &&
         rec.last_interest == ZC_EV_WRITE, "mod -> watch(MOD, old -> new)");
    t_is_int(zc_loop_mod(&loop, &bad, ZC_EV_READ), -EBADF, "a backend error is returned");
    t_is_int((int)bad.interest, 0, "and the interest is unchanged");
    rec.deliver = &io;
    t_is_int(turn(&loop), 1, "the core dispatches what poll reported");
    t_ok(ncalls == 1 && last_events == (ZC_EV_READ | ZC_EV_RDHUP), "with the backend's bits");
    t_is_int((int)zc_loop_recv(&loop, &io, buf, sizeof(buf)), 3,
             "recv goes to the backend when it has one (completion style)");
    zc_loop_del(&loop, &io);
    t_ok(rec.last_op == ZC_WATCH_DEL && io.interest == 0, "del -> watch(DEL)");
    zc_loop_destroy(&loop);
    t_is_int(rec.destroys, 1, "backend destroy called");
}

int main(void)
{
    test_timer_lists();
    test_callbacks_change_lists();
    test_tasks();
    test_io();
    test_run();
    test_seam();
    return t_done();
}
