/* worker.c - one worker thread: its loop, listeners, timers, log and the
 * main thread's nudges (stop, reopen the log). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "serve/conn.h"
#include "serve/http_date.h"
#include "serve/worker_run.h"

#define LOG_FLUSH_MS 1000

const char *zc_worker_date(struct zc_worker *w)
{
    time_t now = time(NULL);

    if (now != w->date_sec) {
        zc_http_date_format(now, w->date);
        w->date_sec = now;
    }
    return w->date;
}

static void begin_stop(struct zc_worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    w->stop_deadline_ms = w->loop.now_ms + w->cfg->drain_timeout_ms;
    /* Stop accepting: connections still queued on this listener are reset
     * by the kernel when it closes, which a client sees as a refused try. */
    for (unsigned i = 0; i < w->nlisteners; i++) {
        zc_loop_del(&w->loop, &w->listeners[i].io);
        close(w->listeners[i].io.fd);
        w->listeners[i].io.fd = -1;
    }
    w->nlisteners = 0;
    zc_conns_begin_stop(w);
}

static void on_wake(struct zc_loop *loop, struct zc_io *io, uint32_t events)
{
    struct zc_worker *w = (struct zc_worker *)((char *)io - offsetof(struct zc_worker, wake_io));
    uint64_t v;
    unsigned gen;

    (void)loop;
    (void)events;
    while (read(io->fd, &v, sizeof(v)) < 0 && errno == EINTR)
        ;
    gen = atomic_load(&w->shared->log_generation);
    if (gen != w->log_generation) {
        w->log_generation = gen;
        if (zc_access_log_reopen(&w->log) < 0)
            fprintf(stderr, "zcopy serve: worker %u: cannot reopen the access log\n", w->id);
    }
    if (atomic_load(&w->shared->stop))
        begin_stop(w);
}

static void after_poll(struct zc_loop *loop, void *arg)
{
    struct zc_worker *w = arg;

    if (w->ready)
        zc_conns_run_ready(w);
    loop->max_wait_ms = w->log.fd >= 0 ? LOG_FLUSH_MS : 0;
    if (w->log.len && loop->now_ms - w->log_flush_ms >= LOG_FLUSH_MS) {
        zc_access_log_flush(&w->log);
        w->log_flush_ms = loop->now_ms;
    }
    if (w->accept_paused) {
        if (loop->now_ms >= w->accept_resume_ms)
            zc_accept_resume(w);
        else
            loop->max_wait_ms = w->accept_resume_ms - loop->now_ms;
    }
    if (w->stopping) {
        if (w->nconns && loop->now_ms >= w->stop_deadline_ms)
            zc_conns_close_all(w);
        if (!w->nconns)
            loop->stop = true;
        else
            loop->max_wait_ms = 100;
    }
}

int zc_worker_init(struct zc_worker *w, struct zc_serve_config *cfg, unsigned id,
                   const int *listen_fds)
{
    uint8_t rnd[8];
    int ret;

    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->shared = cfg;
    w->id = id;
    w->wake_fd = -1;
    w->log.fd = -1;
    w->max_conns = (cfg->max_connections + cfg->threads - 1) / cfg->threads;
    ret = zc_loop_init(&w->loop);
    if (ret < 0)
        return ret;
    w->zc = zc_ctx_new();
    if (!w->zc)
        return -ENOMEM;
    /* SIGPIPE is ignored process-wide: the library can skip its guard. */
    zc_ctx_set_flags(w->zc, ZC_SIGPIPE_HANDLED);

    w->fs = (struct zc_fs){ .root_fd = cfg->root_fd, .index = cfg->index,
                            .listing = cfg->listing, .mime = cfg->mime,
                            .precompressed = &cfg->resp.precompressed };
    if (cfg->cache_entries) {
        w->fs.cache = zc_file_cache_new(cfg->root_fd, cfg->cache_entries,
                                        cfg->cache_valid_ms);
        if (!w->fs.cache)
            return -ENOMEM;
    }
    ret = zc_access_log_open(&w->log, cfg->access_log);
    if (ret < 0)
        return ret;
    w->log_generation = atomic_load(&cfg->log_generation);

    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, (int)id, sizeof(rnd));
    snprintf(w->boundary, sizeof(w->boundary), "zc%02x%02x%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);

    zc_loop_add_list(&w->loop, &w->head_timers, cfg->header_timeout_ms,
                     zc_conn_on_head_timeout);
    zc_loop_add_list(&w->loop, &w->idle_timers, cfg->keepalive_timeout_ms,
                     zc_conn_on_idle_timeout);
    zc_loop_add_list(&w->loop, &w->send_timers, cfg->send_timeout_ms,
                     zc_conn_on_send_timeout);
    w->loop.after_poll = after_poll;
    w->loop.after_arg = w;

    w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (w->wake_fd < 0)
        return -errno;
    w->wake_io = (struct zc_io){ .fd = w->wake_fd, .on_event = on_wake };
    ret = zc_loop_add(&w->loop, &w->wake_io, EPOLLIN);
    if (ret < 0)
        return ret;

    for (unsigned i = 0; i < cfg->naddrs; i++) {
        struct zc_listener *l = &w->listeners[w->nlisteners++];

        l->io = (struct zc_io){ .fd = listen_fds[i], .on_event = zc_listener_on_event };
        l->w = w;
        ret = zc_loop_add(&w->loop, &l->io, EPOLLIN);
        if (ret < 0)
            return ret;
    }
    return 0;
}

void zc_worker_wake(struct zc_worker *w)
{
    uint64_t one = 1;

    (void)!write(w->wake_fd, &one, sizeof(one));
}

void *zc_worker_main(void *arg)
{
    struct zc_worker *w = arg;
    int ret = zc_loop_run(&w->loop);

    if (ret < 0) {
        fprintf(stderr, "zcopy serve: worker %u: epoll_wait: %s\n", w->id, strerror(-ret));
        w->exit_status = 1;
    }
    zc_conns_close_all(w);
    return NULL;
}

void zc_worker_destroy(struct zc_worker *w)
{
    zc_conns_close_all(w);
    zc_conns_free_pool(w);
    for (unsigned i = 0; i < w->nlisteners; i++)
        if (w->listeners[i].io.fd >= 0)
            close(w->listeners[i].io.fd);
    w->nlisteners = 0;
    zc_access_log_close(&w->log);
    zc_file_cache_free(w->fs.cache);
    w->fs.cache = NULL;
    zc_ctx_free(w->zc);
    w->zc = NULL;
    if (w->wake_fd >= 0)
        close(w->wake_fd);
    w->wake_fd = -1;
    zc_loop_destroy(&w->loop);
}
