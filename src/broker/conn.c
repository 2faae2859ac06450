/* conn.c - broker connections (see conn.h).
 *
 * A connection reads whole frames (int32 size + request) into its buffer
 * and answers them strictly in order: the request at the front is handled,
 * its response queued, and only then is the next one looked at. A parked
 * Fetch therefore holds back later requests on its connection, as in Kafka
 * (KAFKA.md 7.7). Anything that is not a request we can parse (a size over
 * the limit, a truncated header, HTTP) closes the connection: there is no
 * correlation id to answer with. */
#include <errno.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/conn.h"
#include "broker/groups.h"
#include "broker/request.h"

#define IN_INITIAL (64u << 10)
#define MIN_REQUEST 10              /* key, version, correlation id, client id */
#define MAX_QUEUED_PARTS 256        /* stop taking requests while this backed up */

struct zc_bconn {
    struct zc_io io;                /* first: the loop hands back &io */
    struct zc_bworker *w;
    struct zc_bconn *prev, *next;   /* w->conns */
    struct zc_bconn *park_next;     /* w->parked, when parked */
    uint8_t *in;
    size_t in_len, in_cap;
    struct zc_sendq q;
    bool parked;
    int64_t park_deadline_ms;
    bool closing;                   /* stop taking requests; close when sent */
    struct zc_gwait *gwait;         /* a JoinGroup/SyncGroup's wait, or NULL */
    unsigned interest;
};

/* A queued response, freed by the release callback of its last part. */
struct queued {
    struct zc_kresp resp;
};

static void conn_close(struct zc_bconn *c);
static void conn_process(struct zc_bconn *c);

static struct zc_bworker *of_nw(struct zc_net_worker *nw)
{
    return (struct zc_bworker *)nw;
}

static void set_interest(struct zc_bconn *c)
{
    unsigned want = ZC_EV_RDHUP;

    if (!c->parked && !c->closing)
        want |= ZC_EV_READ;
    if (!zc_sendq_empty(&c->q))
        want |= ZC_EV_WRITE;
    if (want != c->interest && zc_loop_mod(&c->w->nw.loop, &c->io, want) == 0)
        c->interest = want;
}

static void release_queued(void *arg, bool sent)
{
    struct queued *qr = arg;

    (void)sent;
    zc_kresp_free(&qr->resp);
    free(qr);
}

/* Queue @resp's parts: buffer runs with the file ranges between them.
 * Return: 0 or -ENOMEM (the response is freed either way). */
static int queue_response(struct zc_bconn *c, struct zc_kresp *resp)
{
    struct queued *qr = malloc(sizeof(*qr));
    size_t from = 0;
    int ret = 0;

    if (!qr) {
        zc_kresp_free(resp);
        return -ENOMEM;
    }
    qr->resp = *resp;
    resp = &qr->resp;
    for (unsigned i = 0; i < resp->nranges && !ret; i++) {
        struct zc_kresp_range *r = &resp->ranges[i];

        ret = zc_sendq_push_mem(&c->q, resp->w.buf + from, r->at - from, NULL, NULL);
        if (!ret)
            ret = zc_sendq_push_file(&c->q, r->r.fd, r->r.pos, r->r.len, NULL, NULL);
        from = r->at;
    }
    if (!ret)
        ret = zc_sendq_push_mem(&c->q, resp->w.buf + from, resp->w.len - from,
                                release_queued, qr);
    if (ret < 0) {
        /* Parts already queued point into qr: drop them with it. */
        zc_sendq_clear(&c->q);
        release_queued(qr, false);
    }
    return ret;
}

/* Send what the socket takes. Return: false when the connection closed. */
static bool conn_flush(struct zc_bconn *c)
{
    int ret = zc_sendq_flush(&c->q, c->io.fd, &c->w->nw.xmit);

    if (ret < 0 && ret != -EAGAIN) {
        conn_close(c);
        return false;
    }
    if (ret == 0 && c->closing && !c->parked) {
        conn_close(c);
        return false;
    }
    set_interest(c);
    return true;
}

static void park_remove(struct zc_bconn *c)
{
    struct zc_bconn **pp = &c->w->parked;

    while (*pp && *pp != c)
        pp = &(*pp)->park_next;
    if (*pp)
        *pp = c->park_next;
    c->park_next = NULL;
    c->parked = false;
    atomic_store(&c->w->has_parked, c->w->parked != NULL);
}

static void conn_close(struct zc_bconn *c)
{
    struct zc_bworker *w = c->w;

    if (c->parked)
        park_remove(c);
    zc_loop_del(&w->nw.loop, &c->io);
    close(c->io.fd);
    zc_sendq_free(&c->q);
    zc_gwait_free(w->b, c->gwait);      /* withdraws a waiting group request */
    free(c->in);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    free(c);
    zc_net_worker_conn_closed(&w->nw);
}

/* The size of the frame at the front of the buffer, 0 when unknown yet, or
 * -1 when it cannot be a request. */
static int64_t front_frame(const struct zc_bconn *c)
{
    uint32_t size;

    if (c->in_len < 4)
        return 0;
    size = zc_kbe32(c->in);
    if (size < MIN_REQUEST || size > ZC_BROKER_MAX_REQUEST)
        return -1;
    return (int64_t)size + 4;
}

enum front { FRONT_ANSWERED, FRONT_PARKED, FRONT_CLOSED };

/* Answer the request at the front. After FRONT_CLOSED @c is freed. */
static enum front handle_front(struct zc_bconn *c, size_t frame, bool expired)
{
    struct zc_bworker *w = c->w;
    struct zc_kresp resp;
    struct zc_kreq req;
    enum zc_handled h;
    int32_t wait_ms = 0;

    req.gwait = &c->gwait;
    if (zc_kreq_parse_header(c->in + 4, frame - 4, &req.h, &req.body) < 0)
        goto close;
    if (req.h.api_key == ZC_KAPI_API_VERSIONS) {
        const struct zc_kapi_range *range = zc_kapi_find(req.h.api_key);

        /* A newer ApiVersions is answered (v0 layout, UNSUPPORTED_VERSION)
         * without looking at its body: that is how clients negotiate. */
        if (req.h.api_version <= range->max &&
            !zc_kreq_check_body(&req.body, req.h.api_key, req.h.api_version))
            goto close;
    } else if (!zc_kreq_check_body(&req.body, req.h.api_key, req.h.api_version)) {
        goto close;                             /* unknown API or version, or garbage */
    }

    h = zc_broker_handle(w->b, &req, expired, &resp, &wait_ms);
    if (h == ZC_HANDLED_CLOSE)
        goto close;
    if (h == ZC_HANDLED_PARK) {
        c->parked = true;
        c->park_deadline_ms = w->nw.loop.now_ms + wait_ms;
        c->park_next = w->parked;
        w->parked = c;
        atomic_store(&w->has_parked, true);
        return FRONT_PARKED;
    }
    if (resp.none) {
        zc_kresp_free(&resp);
    } else if (zc_kresp_finish(&resp) < 0) {
        zc_kresp_free(&resp);
        goto close;
    } else if (queue_response(c, &resp) < 0) {
        goto close;                             /* it freed the response */
    }
    /* Consume the request only now: Produce patched it in place, and a
     * parked Fetch is re-read from it. */
    memmove(c->in, c->in + frame, c->in_len - frame);
    c->in_len -= frame;
    return FRONT_ANSWERED;

close:
    conn_close(c);
    return FRONT_CLOSED;
}

/* Answer every complete request in the buffer (unless parked or backed up),
 * then send. */
static void conn_process(struct zc_bconn *c)
{
    while (!c->parked && !c->closing) {
        int64_t frame = front_frame(c);

        if (frame < 0) {
            conn_close(c);
            return;
        }
        if (frame == 0 || (size_t)frame > c->in_len)
            break;
        if (c->q.tail - c->q.head > MAX_QUEUED_PARTS)
            break;
        switch (handle_front(c, (size_t)frame, false)) {
        case FRONT_CLOSED:
            return;
        case FRONT_PARKED:
            break;
        case FRONT_ANSWERED:
            continue;
        }
        break;
    }
    conn_flush(c);
}

/* Read what arrived. Return: false when the connection closed. */
static bool conn_read(struct zc_bconn *c)
{
    for (;;) {
        int64_t frame = front_frame(c);
        ssize_t n;

        if (frame < 0) {
            conn_close(c);
            return false;
        }
        if (c->in_len == c->in_cap) {
            size_t want = (size_t)frame > c->in_cap ? (size_t)frame : 0;
            uint8_t *p;

            if (!want)
                return true;                    /* full of whole requests */
            /* Grow as bytes come, not to what a size prefix claims. */
            if (want > c->in_cap * 2)
                want = c->in_cap * 2;
            p = realloc(c->in, want);
            if (!p) {
                conn_close(c);
                return false;
            }
            c->in = p;
            c->in_cap = want;
        }
        n = zc_loop_recv(&c->w->nw.loop, &c->io, c->in + c->in_len, c->in_cap - c->in_len);
        if (n == -EAGAIN)
            return true;
        if (n <= 0) {
            conn_close(c);
            return false;
        }
        c->in_len += (size_t)n;
    }
}

static void on_conn_event(struct zc_loop *loop, struct zc_io *io, unsigned events)
{
    struct zc_bconn *c = (struct zc_bconn *)io;

    (void)loop;
    /* The peer shut its side while we are not reading (a parked fetch, a
     * stop): it is gone, and the level-triggered report would repeat. */
    if ((events & (ZC_EV_ERR | ZC_EV_HUP)) ||
        ((events & ZC_EV_RDHUP) && (c->parked || c->closing))) {
        conn_close(c);
        return;
    }
    if ((events & ZC_EV_WRITE) && !conn_flush(c))
        return;
    if ((events & (ZC_EV_READ | ZC_EV_RDHUP)) && !c->parked && !c->closing &&
        !conn_read(c))
        return;
    conn_process(c);
}

static void on_accept(struct zc_net_worker *nw, int fd, const struct sockaddr_storage *peer)
{
    struct zc_bworker *w = of_nw(nw);
    struct zc_bconn *c = calloc(1, sizeof(*c));
    int one = 1;

    (void)peer;
    if (!c || !(c->in = malloc(IN_INITIAL))) {
        free(c);
        close(fd);
        return;
    }
    /* Kafka's socket options (KAFKA.md 7.17); failures only cost latency. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    c->w = w;
    c->in_cap = IN_INITIAL;
    c->io.fd = fd;
    c->io.on_event = on_conn_event;
    c->interest = ZC_EV_READ | ZC_EV_RDHUP;
    zc_sendq_init(&c->q);
    if (zc_loop_add(&nw->loop, &c->io, c->interest) < 0) {
        free(c->in);
        free(c);
        close(fd);
        return;
    }
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    zc_net_worker_conn_opened(nw);
}

/* Retry parked fetches: all of them when appends happened since the last
 * look, the expired ones otherwise; then bound the loop's sleep by the
 * nearest deadline. */
static void run_parked(struct zc_bworker *w)
{
    uint_fast64_t appends = atomic_load(&w->b->appends);
    bool moved = appends != w->seen_appends;
    int64_t now = w->nw.loop.now_ms, nearest = -1;
    struct zc_bconn *c, *next, *list;

    w->seen_appends = appends;
    list = w->parked;
    w->parked = NULL;
    for (c = list; c; c = next) {
        bool expired = now >= c->park_deadline_ms || w->nw.stopping;

        next = c->park_next;
        c->park_next = NULL;
        c->parked = false;
        if (!moved && !expired) {
            c->parked = true;
            c->park_next = w->parked;
            w->parked = c;
            continue;
        }
        if (handle_front(c, (size_t)front_frame(c), expired) == FRONT_ANSWERED)
            conn_process(c);                    /* the requests behind it */
    }
    for (c = w->parked; c; c = c->park_next)
        if (nearest < 0 || c->park_deadline_ms < nearest)
            nearest = c->park_deadline_ms;
    atomic_store(&w->has_parked, w->parked != NULL);
    w->nw.max_wait_ms = nearest < 0 ? 0 : (nearest - now > 0 ? nearest - now : 1);
    w->nw.loop.max_wait_ms = w->nw.max_wait_ms;
}

static void on_after_poll(struct zc_net_worker *nw)
{
    struct zc_bworker *w = of_nw(nw);

    if (w->parked)
        run_parked(w);
}

static void run_stop(struct zc_loop *loop, struct zc_task *task)
{
    struct zc_bworker *w = (struct zc_bworker *)((char *)task - offsetof(struct zc_bworker, stop_task));

    (void)loop;
    zc_net_worker_begin_stop(&w->nw);
}

static void on_wake(struct zc_net_worker *nw)
{
    struct zc_bworker *w = of_nw(nw);

    /* Stopping closes connections, which must not happen while the loop
     * still holds this wakeup's events for them: run it as a deferred task,
     * after the events. */
    if (atomic_load(w->stop))
        zc_loop_defer(&nw->loop, &w->stop_task);
    /* Appends from other threads: after_poll re-checks parked fetches. */
}

/* Stopping: answer parked fetches with what they have, finish the requests
 * already received, close connections with nothing in flight. */
static void on_stop(struct zc_net_worker *nw)
{
    struct zc_bworker *w = of_nw(nw);
    struct zc_bconn *c, *next;

    if (w->parked)
        run_parked(w);
    for (c = w->conns; c; c = next) {
        next = c->next;
        if (c->parked)
            continue;
        conn_process(c);
    }
    for (c = w->conns; c; c = next) {
        next = c->next;
        c->closing = true;
        if (!c->parked && zc_sendq_empty(&c->q))
            conn_close(c);
    }
}

static void close_all(struct zc_net_worker *nw)
{
    struct zc_bworker *w = of_nw(nw);

    while (w->conns)
        conn_close(w->conns);
}

static const struct zc_net_worker_ops ops = {
    .on_accept = on_accept,
    .on_wake = on_wake,
    .on_stop = on_stop,
    .close_all = close_all,
    .after_poll = on_after_poll,
};

int zc_bworker_init(struct zc_bworker *w, struct zc_broker *b, unsigned id,
                    enum zc_method fetch_method, const char *loop, atomic_bool *stop,
                    const int *listen_fds, unsigned nfds)
{
    struct zc_net_worker_config cfg = {
        .who = "zcopy broker",
        .id = id,
        .method = fetch_method,
        .loop = loop,
        .drain_ms = 5000,
    };

    w->b = b;
    w->conns = w->parked = NULL;
    w->seen_appends = 0;
    atomic_init(&w->has_parked, false);
    w->stop = stop;
    memset(&w->stop_task, 0, sizeof(w->stop_task));
    w->stop_task.run = run_stop;
    return zc_net_worker_init(&w->nw, &cfg, &ops, listen_fds, nfds);
}

void zc_bworker_destroy(struct zc_bworker *w)
{
    zc_net_worker_destroy(&w->nw);
}

void zc_bworker_notify_append(struct zc_bworker *w)
{
    if (atomic_load(&w->has_parked))
        zc_net_worker_wake(&w->nw);
}
