/* test_net_accept.c - a worker's acceptor (src/net/accept.c) on a real loop
 * and listener: connections handed over, refusal with the program's reply
 * when full, and the EMFILE pause that ends by its timer or by a resume. */
#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/accept.h"
#include "net/listen.h"
#include "tap.h"
#include "testutil.h"

static int accepted[8], naccepted;
static bool room = true;

static void on_accept(struct zc_acceptor *a, int fd, const struct sockaddr_storage *peer,
                      void *arg)
{
    (void)a;
    (void)peer;
    (void)arg;
    if (naccepted < 8)
        accepted[naccepted++] = fd;
    else
        close(fd);
}

static bool has_room(struct zc_acceptor *a, void *arg)
{
    (void)a;
    (void)arg;
    return room;
}

static int connect_to(const struct zc_listen_addr *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0 || connect(fd, (const struct sockaddr *)&addr->sa, addr->len) < 0)
        abort();
    return fd;
}

int main(void)
{
    static const char busy[] = "BUSY";
    struct zc_listen_addr addr;
    struct zc_acceptor acc;
    struct zc_loop loop;
    struct rlimit old, low;
    char buf[8];
    int c1, c2, c3, lfd, spare;

    t_is_int(zc_loop_init(&loop), 0, "loop");
    t_is_int(zc_acceptor_init(&acc, &loop, on_accept, has_room, NULL), 0, "acceptor");
    acc.busy_reply = busy;
    acc.busy_len = sizeof(busy) - 1;
    t_is_int(zc_listen_parse("127.0.0.1:0", &addr), 0, "parse");
    lfd = zc_listen_open(&addr, 16);
    t_ok(lfd >= 0, "listener");
    t_is_int(zc_acceptor_add(&acc, lfd), 0, "acceptor takes the listener");

    c1 = connect_to(&addr);
    c2 = connect_to(&addr);
    zc_loop_run_once(&loop, 1000);
    t_is_int(naccepted, 2, "both pending connections accepted in one wakeup");

    room = false;
    c3 = connect_to(&addr);
    zc_loop_run_once(&loop, 1000);
    t_is_int(naccepted, 2, "full: not handed over");
    t_ok(recv(c3, buf, sizeof(buf), 0) == 4 && memcmp(buf, busy, 4) == 0,
         "full: the program's reply was sent");
    t_is_int((int)recv(c3, buf, sizeof(buf), 0), 0, "and the connection closed");
    close(c3);
    room = true;

    /* Out of fds: the next accept fails with EMFILE and the acceptor pauses
     * instead of spinning on a listener that stays readable. */
    spare = dup(0);
    close(spare);                        /* the lowest free fd number */
    getrlimit(RLIMIT_NOFILE, &old);
    low = old;
    low.rlim_cur = (rlim_t)spare;        /* no fd may be opened now */
    c3 = connect_to(&addr);              /* opened before the limit */
    t_ok(setrlimit(RLIMIT_NOFILE, &low) == 0, "fd limit lowered to %d", spare);
    zc_loop_run_once(&loop, 1000);
    t_ok(acc.paused, "EMFILE pauses accepting");
    t_ok(acc.listeners[0].io.interest == 0, "the listener is silent while paused");
    t_is_int(zc_loop_run_once(&loop, 0), 0, "no busy loop: nothing fires while paused");
    setrlimit(RLIMIT_NOFILE, &old);
    t_ok(acc.pause_timer.list != NULL, "the pause has a deadline");
    loop.now_ms = acc.pause_timer.deadline_ms;
    zc_loop_expire_timers(&loop);
    t_ok(!acc.paused && acc.listeners[0].io.interest == ZC_EV_READ,
         "the pause ends at its deadline");
    zc_loop_run_once(&loop, 1000);
    t_is_int(naccepted, 3, "the waiting connection is accepted then");

    /* Again, this time ended by a connection closing (an fd is free). */
    {
        int c4 = connect_to(&addr);

        setrlimit(RLIMIT_NOFILE, &low);
        zc_loop_run_once(&loop, 1000);
        t_ok(acc.paused, "paused again");
        setrlimit(RLIMIT_NOFILE, &old);
        zc_acceptor_resume(&acc);
        t_ok(!acc.paused && acc.pause_timer.list == NULL,
             "resume ends the pause and its timer");
        zc_loop_run_once(&loop, 1000);
        t_is_int(naccepted, 4, "the waiting connection is accepted");
        close(c4);
    }
    zc_acceptor_close(&acc);
    t_ok(acc.closed && acc.n == 0, "close forgets the listeners");
    zc_acceptor_resume(&acc);
    t_ok(!acc.paused, "resume after close does nothing");
    for (int i = 0; i < naccepted; i++)
        close(accepted[i]);
    close(c1);
    close(c2);
    close(c3);
    zc_loop_destroy(&loop);
    return t_done();
}
