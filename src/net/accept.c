/* accept.c - a worker's listeners (see accept.h). */
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/accept.h"

static void refuse(struct zc_acceptor *a, int fd)
{
    /* Best effort: a fresh socket's buffer always takes a short reply. */
    if (a->busy_reply)
        (void)!send(fd, a->busy_reply, a->busy_len, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(fd);
}

static void pause_accepting(struct zc_acceptor *a)
{
    for (unsigned i = 0; i < a->n; i++)
        zc_loop_mod(a->loop, &a->listeners[i].io, 0);
    a->paused = true;
    zc_timer_arm(a->loop, &a->pause_list, &a->pause_timer);
}

void zc_acceptor_resume(struct zc_acceptor *a)
{
    if (!a->paused || a->closed)
        return;
    zc_timer_disarm(&a->pause_timer);
    for (unsigned i = 0; i < a->n; i++)
        zc_loop_mod(a->loop, &a->listeners[i].io, ZC_EV_READ);
    a->paused = false;
}

static void on_pause_over(struct zc_loop *loop, struct zc_timer *t)
{
    struct zc_acceptor *a =
        (struct zc_acceptor *)((char *)t - offsetof(struct zc_acceptor, pause_timer));

    (void)loop;
    zc_acceptor_resume(a);
}

static void on_listener(struct zc_loop *loop, struct zc_io *io, unsigned events)
{
    struct zc_acceptor *a = ((struct zc_listener *)io)->acc;

    (void)events;
    for (int i = 0; i < ZC_ACCEPT_BATCH && !a->paused && !a->closed; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        int fd = zc_loop_accept(loop, io, &peer, &plen);

        if (fd == -EMFILE || fd == -ENFILE || fd == -ENOBUFS || fd == -ENOMEM) {
            /* Out of fds: stop watching the listeners for a while instead
             * of spinning on an always-readable socket. */
            pause_accepting(a);
            return;
        }
        if (fd == -EAGAIN)
            return;
        if (fd < 0)
            continue;                   /* ECONNABORTED, EPROTO...: the next */
        if (a->has_room && !a->has_room(a, a->arg)) {
            refuse(a, fd);
            continue;
        }
        a->on_accept(a, fd, &peer, a->arg);
    }
}

int zc_acceptor_init(struct zc_acceptor *a, struct zc_loop *loop,
                     zc_accept_fn *on_accept, zc_accept_room_fn *has_room,
                     void *arg)
{
    *a = (struct zc_acceptor){ .loop = loop, .on_accept = on_accept,
                               .has_room = has_room, .arg = arg };
    return zc_loop_add_list(loop, &a->pause_list, ZC_ACCEPT_PAUSE_MS, on_pause_over);
}

int zc_acceptor_add(struct zc_acceptor *a, int fd)
{
    struct zc_listener *l;
    int ret;

    if (a->n >= ZC_NET_MAX_LISTEN || a->closed) {
        close(fd);
        return -ENOSPC;
    }
    l = &a->listeners[a->n];
    *l = (struct zc_listener){ .io = { .fd = fd, .on_event = on_listener }, .acc = a };
    ret = zc_loop_add(a->loop, &l->io, a->paused ? 0 : ZC_EV_READ);
    if (ret < 0) {
        close(fd);
        return ret;
    }
    a->n++;
    return 0;
}

void zc_acceptor_close(struct zc_acceptor *a)
{
    zc_timer_disarm(&a->pause_timer);
    for (unsigned i = 0; i < a->n; i++) {
        if (a->loop->backend)
            zc_loop_del(a->loop, &a->listeners[i].io);
        close(a->listeners[i].io.fd);
        a->listeners[i].io.fd = -1;
    }
    a->n = 0;
    a->closed = true;
}
