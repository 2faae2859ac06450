/* worker.c - per-thread scaffolding of a server (see worker.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/worker.h"
#include "net/loop_backend.h"

/* While stopping, how often the loop looks at the connection count. */
#define STOP_POLL_MS 100

static struct zc_net_worker *of_wake_io(struct zc_io *io)
{
    return (struct zc_net_worker *)((char *)io - offsetof(struct zc_net_worker, wake_io));
}

static void on_wake(struct zc_loop *loop, struct zc_io *io, unsigned events)
{
    struct zc_net_worker *nw = of_wake_io(io);
    uint64_t v;

    (void)loop;
    (void)events;
    while (read(io->fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    if (nw->ops->on_wake)
        nw->ops->on_wake(nw);
}

static void after_poll(struct zc_loop *loop, void *arg)
{
    struct zc_net_worker *nw = arg;

    loop->max_wait_ms = nw->max_wait_ms;
    if (nw->ops->after_poll)
        nw->ops->after_poll(nw);
    if (nw->stopping) {
        if (nw->nconns && loop->now_ms >= nw->stop_deadline_ms)
            nw->ops->close_all(nw);
        if (!nw->nconns)
            loop->stop = true;
        else if (loop->max_wait_ms <= 0 || loop->max_wait_ms > STOP_POLL_MS)
            loop->max_wait_ms = STOP_POLL_MS;
    }
}

static bool has_room(struct zc_acceptor *a, void *arg)
{
    struct zc_net_worker *nw = arg;

    (void)a;
    return !nw->cfg.max_conns || nw->nconns < nw->cfg.max_conns;
}

static void on_accept(struct zc_acceptor *a, int fd, const struct sockaddr_storage *peer,
                      void *arg)
{
    struct zc_net_worker *nw = arg;

    (void)a;
    nw->ops->on_accept(nw, fd, peer);
}

/* The loop on the backend the program asked for; io_uring refused (seccomp,
 * a kernel before 6.1, a build without liburing) falls back to epoll, once
 * said on stderr. */
static int init_loop(struct zc_net_worker *nw)
{
    const struct zc_loop_backend *b =
        zc_loop_backend_named(nw->cfg.loop ? nw->cfg.loop : "epoll");
    int ret;

    if (!b)
        return -EINVAL;
    ret = zc_loop_init_backend(&nw->loop, b);
    if (ret < 0 && b != &zc_loop_backend_epoll) {
        if (nw->cfg.id == 0)
            fprintf(stderr, "%s: --loop %s: %s; using epoll\n", nw->cfg.who, b->name,
                    strerror(-ret));
        ret = zc_loop_init(&nw->loop);
    }
    return ret;
}

int zc_net_worker_init(struct zc_net_worker *nw, const struct zc_net_worker_config *cfg,
                       const struct zc_net_worker_ops *ops, const int *listen_fds,
                       unsigned nfds)
{
    unsigned i = 0;
    int ret;

    memset(nw, 0, sizeof(*nw));
    nw->cfg = *cfg;
    nw->ops = ops;
    nw->wake_fd = -1;
    ret = init_loop(nw);
    if (ret < 0)
        goto fail;
    nw->zc = zc_ctx_new();
    if (!nw->zc) {
        ret = -ENOMEM;
        goto fail;
    }
    /* SIGPIPE is ignored process-wide by the servers (MSG_NOSIGNAL on our
     * own sends): the library can skip its guard. */
    zc_ctx_set_flags(nw->zc, ZC_SIGPIPE_HANDLED);
    zc_xmit_init(&nw->xmit, nw->zc, cfg->method, cfg->who, cfg->id);
    nw->xmit.chunk = cfg->send_chunk;

    ret = zc_acceptor_init(&nw->acceptor, &nw->loop, on_accept, has_room, nw);
    if (ret < 0)
        goto fail;
    nw->acceptor.busy_reply = cfg->busy_reply;
    nw->acceptor.busy_len = cfg->busy_len;
    nw->loop.after_poll = after_poll;
    nw->loop.after_arg = nw;

    nw->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (nw->wake_fd < 0) {
        ret = -errno;
        goto fail;
    }
    nw->wake_io = (struct zc_io){ .fd = nw->wake_fd, .on_event = on_wake };
    ret = zc_loop_add(&nw->loop, &nw->wake_io, ZC_EV_READ);
    if (ret < 0)
        goto fail;
    for (; i < nfds; i++) {
        ret = zc_acceptor_add(&nw->acceptor, listen_fds[i]);
        if (ret < 0) {
            i++;                        /* that one is closed already */
            goto fail;
        }
    }
    return 0;

fail:
    for (; i < nfds; i++)
        close(listen_fds[i]);
    return ret;
}

static void *worker_main(void *arg)
{
    struct zc_net_worker *nw = arg;
    int ret = zc_loop_run(&nw->loop);

    if (ret < 0) {
        fprintf(stderr, "%s: worker %u: event loop: %s\n", nw->cfg.who, nw->cfg.id,
                strerror(-ret));
        nw->exit_status = 1;
    }
    nw->ops->close_all(nw);
    return NULL;
}

int zc_net_worker_start(struct zc_net_worker *nw)
{
    int ret = pthread_create(&nw->thread, NULL, worker_main, nw);

    if (ret)
        return -ret;
    nw->started = true;
    return 0;
}

void zc_net_worker_wake(struct zc_net_worker *nw)
{
    uint64_t one = 1;

    (void)!write(nw->wake_fd, &one, sizeof(one));
}

int zc_net_worker_join(struct zc_net_worker *nw)
{
    if (nw->started) {
        pthread_join(nw->thread, NULL);
        nw->started = false;
    }
    return nw->exit_status;
}

void zc_net_worker_begin_stop(struct zc_net_worker *nw)
{
    if (nw->stopping)
        return;
    nw->stopping = true;
    nw->stop_deadline_ms = nw->loop.now_ms + nw->cfg.drain_ms;
    zc_acceptor_close(&nw->acceptor);
    if (nw->ops->on_stop)
        nw->ops->on_stop(nw);
}

void zc_net_worker_conn_opened(struct zc_net_worker *nw)
{
    nw->nconns++;
}

void zc_net_worker_conn_closed(struct zc_net_worker *nw)
{
    nw->nconns--;
    /* A closed connection freed an fd: accepting may work again. */
    zc_acceptor_resume(&nw->acceptor);
}

void zc_net_worker_destroy(struct zc_net_worker *nw)
{
    if (nw->ops)
        nw->ops->close_all(nw);
    zc_acceptor_close(&nw->acceptor);
    zc_ctx_free(nw->zc);
    nw->zc = NULL;
    if (nw->wake_fd >= 0)
        close(nw->wake_fd);
    nw->wake_fd = -1;
    zc_loop_destroy(&nw->loop);
}
