/* conn_upload.c - PUT bodies (--upload): check the request, answer
 * 100-continue, receive the body into the upload (serve/upload.h), plan
 * the answer. */
#include <errno.h>
#include <sys/socket.h>

#include "serve/conn.h"
#include "serve/worker.h"

/* A refused PUT's body was never read, so the connection cannot find the
 * next request: answer and close. */
static void refuse_upload(struct zc_conn *c, int status)
{
    zc_upload_abort(&c->upload);
    zc_resp_upload(&c->resp, zc_worker_resp_ctx(c->w), status, &c->req, false, c->wbuf);
    zc_conn_start_response(c);
}

void zc_conn_start_upload(struct zc_conn *c)
{
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct zc_worker *w = c->w;
    const struct zc_http_req *q = &c->req;
    char path[ZC_HTTP_DEFAULT_MAX_TARGET + 1];
    size_t plen, avail, take;
    ssize_t n;
    int status;

    if (q->transfer_encoding.p || q->content_length < 0)
        status = 411;                   /* bodies must say their length */
    else if ((uint64_t)q->content_length > w->cfg->max_upload)
        status = 413;
    else
        status = zc_resp_request_path(q, path, sizeof(path), &plen);
    if (!status)
        status = zc_upload_begin(&c->upload, w->cfg->root_fd, path, plen,
                                 (uint64_t)q->content_length);
    if (!status)
        status = zc_upload_preconditions(&c->upload, q);
    if (status) {
        refuse_upload(c, status);
        return;
    }

    avail = c->rlen - c->rpos - c->req_len;
    if (avail == 0 && q->expect_continue && c->upload.length > 0) {
        /* The client waits for this before sending the body. A fresh
         * connection's send buffer always has room for it, and the send
         * queue is empty here (one request at a time). */
        n = send(c->io.fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != (ssize_t)sizeof(cont) - 1) {
            refuse_upload(c, 500);
            return;
        }
    }
    /* Body bytes that arrived with the head are written from the buffer;
     * the rest is spliced from the socket. */
    take = avail < c->upload.length ? avail : (size_t)c->upload.length;
    if (take && zc_upload_write(&c->upload, c->rbuf + c->rpos + c->req_len, take)
                    != (ssize_t)take) {
        refuse_upload(c, 500);
        return;
    }
    c->req_len += take;                 /* consumed with the head */
    c->state = ZC_CONN_BODY;
    zc_timer_arm(&w->net.loop, &w->send_timers, &c->timer);
}

/* This worker's cached entry for the replaced path must not outlive the
 * upload; other workers notice the new inode at their next revalidation
 * (--cache-valid), as with any file changed on disk. */
static void forget_cached(struct zc_worker *w, const struct zc_http_req *q)
{
    char path[ZC_HTTP_DEFAULT_MAX_TARGET + 1];
    struct zc_file *f;
    size_t len;

    if (!w->fs.cache || zc_resp_request_path(q, path, sizeof(path), &len))
        return;
    f = zc_file_cache_get(w->fs.cache, path, len, w->net.loop.now_ms);
    if (f) {
        zc_file_cache_drop(w->fs.cache, f);
        zc_file_unref(f);
    }
}

/* Body bytes the loop backend holds: copied out and written, up to the
 * body's end (what follows is the next request's). Return: bytes, or -errno. */
static ssize_t receive_queued(struct zc_conn *c)
{
    char buf[16384];
    uint64_t left = c->upload.length - c->upload.received;
    ssize_t n = zc_loop_recv(&c->w->net.loop, &c->io, buf,
                             left < sizeof(buf) ? (size_t)left : sizeof(buf));

    return n > 0 ? zc_upload_write(&c->upload, buf, (size_t)n) : n;
}

bool zc_conn_receive_body(struct zc_conn *c)
{
    struct zc_worker *w = c->w;
    int status;

    while (!zc_upload_complete(&c->upload)) {
        ssize_t n;

        if (!c->rd_ready)
            return false;
        if (zc_loop_queued(&w->net.loop, &c->io) > 0) {
            /* A completion backend (--loop uring) took these from the
             * socket already: they come before what is still in it. */
            n = receive_queued(c);
        } else {
            /* Spliced straight from the socket. */
            n = zc_upload_receive(&c->upload, w->net.zc, c->io.fd);
        }
        if (n == -EAGAIN) {
            c->rd_ready = false;
            return false;
        }
        if (n == 0 || n == -ECONNRESET) {
            /* The client went away mid-body: nothing is kept, no one to
             * answer. */
            zc_conn_close(c);
            return false;
        }
        if (n < 0) {
            refuse_upload(c, n == -ENOSPC || n == -EDQUOT ? 507 : 500);
            return true;
        }
        /* Progress: a stalled uploader is dropped after the send timeout,
         * a slow one is not. */
        zc_timer_arm(&w->net.loop, &w->send_timers, &c->timer);
    }
    status = zc_upload_commit(&c->upload);
    if (status < 300)
        forget_cached(w, &c->req);
    zc_resp_upload(&c->resp, zc_worker_resp_ctx(w), status, &c->req,
                   c->req.keep_alive && !w->net.stopping, c->wbuf);
    zc_conn_start_response(c);
    return true;
}
