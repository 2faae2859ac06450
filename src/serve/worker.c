/* worker.c - one serve worker: the HTTP side of a zc_net_worker (its
 * connections, timer lists, open-file cache, access log) and the main
 * thread's nudges (stop, reopen the log). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "serve/conn.h"
#include "serve/http_date.h"
#include "serve/worker_run.h"

#define LOG_FLUSH_MS 1000

static const char busy_reply[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
    "Connection: close\r\n\r\n";

static struct zc_worker *of_net(struct zc_net_worker *nw)
{
    return (struct zc_worker *)nw;      /* net is the first member */
}

const struct zc_resp_ctx *zc_worker_resp_ctx(struct zc_worker *w)
{
    time_t now = time(NULL);

    if (now != w->date_sec) {
        zc_http_date_format(now, w->date);
        w->date_sec = now;
    }
    w->rctx.now_ms = w->net.loop.now_ms;
    w->rctx.date_sec = w->date_sec;
    return &w->rctx;
}

static void on_accept(struct zc_net_worker *nw, int fd, const struct sockaddr_storage *peer)
{
    zc_conn_open(of_net(nw), fd, peer);
}

static void on_wake(struct zc_net_worker *nw)
{
    struct zc_worker *w = of_net(nw);
    unsigned gen = atomic_load(&w->shared->log_generation);

    if (gen != w->log_generation) {
        w->log_generation = gen;
        if (zc_access_log_reopen(&w->log) < 0)
            fprintf(stderr, "zcopy serve: worker %u: cannot reopen the access log\n", w->id);
        atomic_store(&w->log_acked, gen);
    }
    if (atomic_load(&w->shared->stop))
        zc_net_worker_begin_stop(nw);
}

static void on_stop(struct zc_net_worker *nw)
{
    zc_conns_begin_stop(of_net(nw));
}

static void close_all(struct zc_net_worker *nw)
{
    zc_conns_close_all(of_net(nw));
}

static void after_poll(struct zc_net_worker *nw)
{
    struct zc_worker *w = of_net(nw);

    if (w->log.len && nw->loop.now_ms - w->log_flush_ms >= LOG_FLUSH_MS) {
        zc_access_log_flush(&w->log);
        w->log_flush_ms = nw->loop.now_ms;
    }
}

static const struct zc_net_worker_ops serve_ops = {
    .on_accept = on_accept,
    .on_wake = on_wake,
    .on_stop = on_stop,
    .close_all = close_all,
    .after_poll = after_poll,
};

int zc_worker_init(struct zc_worker *w, struct zc_serve_config *cfg, unsigned id,
                   const int *listen_fds)
{
    const struct zc_net_worker_config ncfg = {
        .who = "zcopy serve", .id = id, .method = cfg->method,
        .send_chunk = cfg->send_chunk, .loop = cfg->loop,
        .max_conns = (cfg->max_connections + cfg->threads - 1) / cfg->threads,
        .drain_ms = cfg->drain_timeout_ms,
        .busy_reply = busy_reply, .busy_len = sizeof(busy_reply) - 1,
    };
    uint8_t rnd[8];
    int ret;

    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->shared = cfg;
    w->id = id;
    w->log.fd = -1;
    ret = zc_net_worker_init(&w->net, &ncfg, &serve_ops, listen_fds, cfg->naddrs);
    if (ret < 0)
        return ret;

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
    /* Buffered log lines leave at least once a second. */
    w->net.max_wait_ms = w->log.fd >= 0 ? LOG_FLUSH_MS : 0;

    if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
        memset(rnd, (int)id, sizeof(rnd));
    snprintf(w->boundary, sizeof(w->boundary), "zc%02x%02x%02x%02x%02x%02x%02x%02x",
             rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    w->rctx = (struct zc_resp_ctx){ .fs = &w->fs, .date = w->date,
                                    .boundary = w->boundary, .upload = cfg->upload,
                                    .small_from_cache = cfg->method == ZC_AUTO,
                                    .opts = &cfg->resp };

    if (zc_loop_add_list(&w->net.loop, &w->head_timers, cfg->header_timeout_ms,
                         zc_conn_on_head_timeout) < 0 ||
        zc_loop_add_list(&w->net.loop, &w->idle_timers, cfg->keepalive_timeout_ms,
                         zc_conn_on_idle_timeout) < 0 ||
        zc_loop_add_list(&w->net.loop, &w->send_timers, cfg->send_timeout_ms,
                         zc_conn_on_send_timeout) < 0)
        return -ENOSPC;
    return 0;
}

int zc_worker_start(struct zc_worker *w)
{
    return zc_net_worker_start(&w->net);
}

void zc_worker_wake(struct zc_worker *w)
{
    zc_net_worker_wake(&w->net);
}

int zc_worker_join(struct zc_worker *w)
{
    return zc_net_worker_join(&w->net);
}

void zc_worker_destroy(struct zc_worker *w)
{
    zc_net_worker_destroy(&w->net);     /* closes the connections first */
    zc_conns_free_pool(w);
    zc_access_log_close(&w->log);
    zc_file_cache_free(w->fs.cache);
    w->fs.cache = NULL;
}
