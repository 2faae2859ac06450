/* conn_send.c - a response plan goes into the connection's send queue
 * (net/sendq.h), which sends it; and the access log line once it ends. */
#include <errno.h>
#include <time.h>

#include "serve/conn.h"
#include "serve/file_cache.h"
#include "serve/worker.h"

int zc_conn_queue_response(struct zc_conn *c)
{
    struct zc_resp *r = &c->resp;

    for (unsigned i = 0; i < r->nseg; i++) {
        const struct zc_seg *s = &r->seg[i];
        /* The response holds the file reference until it is released after
         * the queue is done or cleared: the parts need no callback. */
        int ret = s->p ? zc_sendq_push_mem(&c->out, s->p, (size_t)s->len, NULL, NULL)
                       : zc_sendq_push_file(&c->out, r->file->fd, s->off, s->len,
                                            NULL, NULL);

        if (ret < 0)
            return ret;
    }
    return 0;
}

enum zc_send_result zc_conn_send(struct zc_conn *c)
{
    int ret = zc_sendq_flush(&c->out, c->io.fd, &c->w->net.xmit);

    if (ret == 0)
        return ZC_SEND_DONE;
    if (ret == -EAGAIN)
        return ZC_SEND_AGAIN;
    if (ret == 1)
        return ZC_SEND_YIELD;
    /* The file ended before the length we announced: it was truncated
     * under us, so the cached entry must not be reused. */
    if (ret == -ENODATA)
        zc_file_cache_drop(c->w->fs.cache, c->resp.file);
    return ZC_SEND_FAILED;
}

void zc_conn_log(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    const struct zc_http_req *q = &c->req;
    struct zc_access_entry e = { .peer = &c->peer, .status = c->resp.status,
                                 .version_minor = -1 };
    uint64_t sent = c->out.sent;

    if (w->log.fd < 0)
        return;
    e.body_bytes = sent > c->resp.head_len ? sent - c->resp.head_len : 0;
    if (c->have_req) {
        e.method = q->method_str.p;
        e.method_len = q->method_str.len;
        e.target = q->target.p;
        e.target_len = q->target.len;
        e.version_minor = q->version_minor;
        e.referer = q->referer.p;
        e.referer_len = q->referer.len;
        e.user_agent = q->user_agent.p;
        e.user_agent_len = q->user_agent.len;
    }
    zc_access_log_write(&w->log, time(NULL), &e);
}
