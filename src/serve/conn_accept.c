/* conn_accept.c - opening, closing and recycling connections, and closing
 * them when the worker stops. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/conn.h"
#include "serve/worker.h"

#define FREE_POOL_MAX 64
/* Unsent bytes a socket may hold before it stops taking more (see
 * zc_conn_open). Measured at 1 MiB: 16 and 32 KiB gave the same req/s for
 * more server CPU, 128 KiB and 256 KiB fewer req/s. */
#define NOTSENT_LOWAT (64 << 10)

static void free_conn(struct zc_conn *c)
{
    zc_sendq_free(&c->out);
    free(c->resp.xbuf);
    free(c);
}

void zc_conn_close(struct zc_conn *c)
{
    struct zc_worker *w = c->w;

    zc_loop_cancel(&w->net.loop, &c->resume);
    zc_timer_disarm(&c->timer);
    zc_upload_abort(&c->upload);        /* an unfinished body leaves nothing */
    zc_sendq_clear(&c->out);            /* before the file its parts name */
    zc_resp_release(&c->resp);
    zc_loop_del(&w->net.loop, &c->io);
    close(c->io.fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (w->nfree < FREE_POOL_MAX) {
        c->next = w->free_conns;
        w->free_conns = c;
        w->nfree++;
    } else {
        free_conn(c);
    }
    zc_net_worker_conn_closed(&w->net);
}

void zc_conn_open(struct zc_worker *w, int fd, const struct sockaddr_storage *peer)
{
    struct zc_conn *c = w->free_conns;
    int one = 1, lowat = NOTSENT_LOWAT;

    if (c) {
        w->free_conns = c->next;
        w->nfree--;
    } else if ((c = malloc(sizeof(*c)))) {
        /* A recycled struct keeps its buffers: only a new one starts empty. */
        c->resp.xbuf = NULL;
        zc_sendq_init(&c->out);
    } else {
        close(fd);
        return;
    }
    c->io = (struct zc_io){ .fd = fd, .on_event = zc_conn_on_event };
    c->w = w;
    c->timer = (struct zc_timer){ 0 };
    c->resume = (struct zc_task){ .run = zc_conn_on_resume };
    c->peer = *peer;
    c->state = ZC_CONN_READ;
    /* The request is often already there (the client sends it right after
     * the handshake): try to read before waiting for an edge. */
    c->rd_ready = true;
    c->rd_hup = false;
    c->have_req = false;
    zc_upload_init(&c->upload);
    c->rpos = c->rlen = c->req_len = 0;
    {
        char *xbuf = c->resp.xbuf;

        memset(&c->resp, 0, sizeof(c->resp));
        c->resp.xbuf = xbuf;
    }
    /* MSG_MORE already coalesces headers with the body; without Nagle the
     * last partial segment of each response leaves at once. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    /* Queue at most NOTSENT_LOWAT bytes the peer's window cannot take yet,
     * and be woken to send more when they drain. Without it one sendfile
     * parks a whole 1 MiB body in the socket, and it is the reader's window
     * updates that push it out: on loopback the client's thread pays for
     * our transmissions (its softirq runs them). With it the worker sends
     * from its own thread, on the other core: +13-42% req/s at 1 MiB and
     * +42-57% at 256 MiB under wrk, with less CPU per GB for client and
     * server together (docs/BENCHMARKS.md). Also bounds the kernel memory
     * a slow client pins. */
    setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof(lowat));
    if (zc_loop_add(&w->net.loop, &c->io,
                    ZC_EV_READ | ZC_EV_WRITE | ZC_EV_RDHUP | ZC_EV_EDGE) < 0) {
        close(fd);
        free_conn(c);
        return;
    }
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    zc_net_worker_conn_opened(&w->net);
    zc_timer_arm(&w->net.loop, &w->head_timers, &c->timer);
    zc_conn_run(c);
}

void zc_conns_begin_stop(struct zc_worker *w)
{
    struct zc_conn *c = w->conns, *next;

    for (; c; c = next) {
        next = c->next;
        if (c->state == ZC_CONN_READ && c->rlen == c->rpos)
            zc_conn_close(c);
    }
}

void zc_conns_close_all(struct zc_worker *w)
{
    while (w->conns) {
        if (w->conns->state == ZC_CONN_SEND)
            zc_conn_log(w->conns);
        zc_conn_close(w->conns);
    }
}

void zc_conns_free_pool(struct zc_worker *w)
{
    while (w->free_conns) {
        struct zc_conn *c = w->free_conns;

        w->free_conns = c->next;
        free_conn(c);
    }
    w->nfree = 0;
}
