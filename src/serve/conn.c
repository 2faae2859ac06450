/* conn.c - the connection state machine (see conn.h for the other parts).
 *
 * Sockets are registered once, edge-triggered, for reading, writing and
 * the peer's FIN: no loop call per request. rd_ready remembers an input
 * edge until a read comes back short, so after a response the connection
 * reads again only if bytes may be waiting; otherwise it goes back to the
 * loop without a read that would only say EAGAIN. A request for a small
 * hot file costs one recv and one sendmsg (headers + the body cached in the
 * open-file cache; a statx once a second revalidates it); a large file
 * costs recv, sendmsg(MSG_MORE) for the headers, and zc_transfer for the
 * body. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

#include "serve/conn.h"
#include "serve/worker.h"

/* Responses one connection may finish per turn before it yields to the
 * others: a client streaming pipelined requests would otherwise keep the
 * worker to itself for as long as it reads fast enough. */
#define PIPELINE_BATCH 32

static struct zc_conn *conn_of_timer(struct zc_timer *t)
{
    return (struct zc_conn *)((char *)t - offsetof(struct zc_conn, timer));
}

void zc_conn_start_response(struct zc_conn *c)
{
    c->state = ZC_CONN_SEND;
    zc_timer_disarm(&c->timer);
    if (zc_conn_queue_response(c) < 0) {
        /* Out of memory for the queue: nothing can be sent; the empty
         * queue completes at once and the connection closes. */
        zc_sendq_clear(&c->out);
        c->resp.close = true;
    }
}

static void plan_error(struct zc_conn *c, int status)
{
    c->have_req = false;
    zc_resp_error(&c->resp, zc_worker_resp_ctx(c->w), status, false, false, c->wbuf);
    zc_conn_start_response(c);
}

/* Return: true to go on with the next request, false when c was closed. */
static bool finish_response(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    bool close_it = c->resp.close || w->net.stopping;

    zc_conn_log(c);
    zc_resp_release(&c->resp);
    zc_sendq_clear(&c->out);
    c->have_req = false;
    if (close_it) {
        zc_conn_close(c);
        return false;
    }
    c->rpos += c->req_len;
    c->req_len = 0;
    if (c->rpos == c->rlen)
        c->rpos = c->rlen = 0;
    c->state = ZC_CONN_READ;
    /* Idle until the next request's first byte, which starts its head
     * deadline; a pipelined partial head is already under way. */
    zc_timer_arm(&w->net.loop, c->rlen ? &w->head_timers : &w->idle_timers, &c->timer);
    return true;
}

/* Return: true when a response was planned, false when more bytes are
 * needed (or the connection was closed). */
static bool read_request(struct zc_conn *c)
{
    struct zc_worker *w = c->w;

    for (;;) {
        size_t space;
        ssize_t n;

        if (c->rlen > c->rpos) {
            int ret = zc_http_parse_request(c->rbuf + c->rpos, c->rlen - c->rpos,
                                            &w->cfg->limits, &c->req);

            if (ret > 0) {
                c->req_len = (size_t)ret;
                c->have_req = true;
                if (c->req.method == ZC_HTTP_PUT && w->cfg->upload) {
                    zc_conn_start_upload(c);
                    return true;
                }
                /* Stopping: say so, rather than close after a keep-alive. */
                zc_resp_build(&c->resp, zc_worker_resp_ctx(w), &c->req,
                              c->req.keep_alive && !w->net.stopping, c->wbuf);
                zc_conn_start_response(c);
                return true;
            }
            if (ret != ZC_HTTP_PARTIAL) {
                plan_error(c, -ret);
                return true;
            }
            if (c->rpos == 0 && c->rlen == sizeof(c->rbuf)) {
                plan_error(c, 431);
                return true;
            }
        }
        if (!c->rd_ready)
            return false;
        if (c->rpos > 0) {
            memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
            c->rlen -= c->rpos;
            c->rpos = 0;
        }
        space = sizeof(c->rbuf) - c->rlen;
        n = zc_loop_recv(&w->net.loop, &c->io, c->rbuf + c->rlen, space);
        if (n == -EAGAIN) {
            c->rd_ready = false;
            return false;
        }
        if (n <= 0) {
            zc_conn_close(c);           /* peer closed or reset */
            return false;
        }
        /* The head deadline counts from a request's first byte (from accept
         * for a connection's first request) and is not extended by later
         * ones: a slow drip cannot keep a worker busy. */
        if (c->rlen == 0 && c->timer.list != &w->head_timers)
            zc_timer_arm(&w->net.loop, &w->head_timers, &c->timer);
        c->rlen += (size_t)n;
        /* A short read drained the socket, unless the FIN came with the
         * data: its edge is spent, so the 0 must still be read after the
         * response, or the connection would idle until its timeout. */
        if ((size_t)n < space && !c->rd_hup)
            c->rd_ready = false;
    }
}

void zc_conn_run(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    unsigned finished = 0;

    zc_loop_cancel(&w->net.loop, &c->resume);
    for (;;) {
        if (c->state == ZC_CONN_READ) {
            if (finished == PIPELINE_BATCH) {
                /* The rest after the others' turn. */
                zc_loop_defer(&w->net.loop, &c->resume);
                return;
            }
            if (!read_request(c))
                return;                 /* waiting for bytes, or closed */
            continue;
        }
        if (c->state == ZC_CONN_BODY) {
            if (!zc_conn_receive_body(c))
                return;
            continue;
        }
        switch (zc_conn_send(c)) {
        case ZC_SEND_AGAIN:
            /* Re-armed on each wakeup with progress: a stalled reader is
             * dropped after the send timeout, a slow one is not. */
            zc_timer_arm(&w->net.loop, &w->send_timers, &c->timer);
            return;
        case ZC_SEND_YIELD:
            /* The socket still takes more, so no edge will come: run again
             * after the worker's other connections had a turn. */
            zc_timer_arm(&w->net.loop, &w->send_timers, &c->timer);
            zc_loop_defer(&w->net.loop, &c->resume);
            return;
        case ZC_SEND_FAILED:
            zc_conn_log(c);
            zc_conn_close(c);
            return;
        case ZC_SEND_DONE:
            if (!finish_response(c))
                return;
            finished++;
            break;
        }
    }
}

/* ZC_EV_ERR also signals a MSG_ZEROCOPY completion waiting on the error
 * queue (--method msg_zerocopy), which the library reaps during the next
 * transfer: only a pending socket error means the connection is dead. */
static bool socket_failed(int fd)
{
    int err = 0;
    socklen_t len = sizeof(err);

    return getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0;
}

void zc_conn_on_event(struct zc_loop *loop, struct zc_io *io, unsigned events)
{
    struct zc_conn *c = (struct zc_conn *)io;

    (void)loop;
    if ((events & ZC_EV_ERR) && socket_failed(c->io.fd)) {
        if (c->state == ZC_CONN_SEND)
            zc_conn_log(c);
        zc_conn_close(c);
        return;
    }
    if (events & (ZC_EV_READ | ZC_EV_RDHUP | ZC_EV_HUP))
        c->rd_ready = true;
    if (events & (ZC_EV_RDHUP | ZC_EV_HUP))
        c->rd_hup = true;
    if (c->state == ZC_CONN_SEND && !(events & (ZC_EV_WRITE | ZC_EV_HUP)))
        return;                         /* input edge only: remembered */
    zc_conn_run(c);
}

void zc_conn_on_resume(struct zc_loop *loop, struct zc_task *task)
{
    (void)loop;
    zc_conn_run((struct zc_conn *)((char *)task - offsetof(struct zc_conn, resume)));
}

/* --- timers ------------------------------------------------------------ */

void zc_conn_on_head_timeout(struct zc_loop *loop, struct zc_timer *t)
{
    struct zc_conn *c = conn_of_timer(t);

    (void)loop;
    plan_error(c, 408);
    zc_conn_run(c);
}

void zc_conn_on_idle_timeout(struct zc_loop *loop, struct zc_timer *t)
{
    (void)loop;
    zc_conn_close(conn_of_timer(t));
}

void zc_conn_on_send_timeout(struct zc_loop *loop, struct zc_timer *t)
{
    struct zc_conn *c = conn_of_timer(t);

    (void)loop;
    zc_conn_log(c);
    zc_conn_close(c);
}
