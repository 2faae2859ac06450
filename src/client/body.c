/* body.c - see body.h. */
#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/io.h"
#include "client/body.h"
#include "client/client.h"

#define STEP_MIN ((size_t)64 << 10)
#define STEP_MAX ((size_t)8 << 20)
#define FRAMING_PEEK 64                 /* a chunk-size line is rarely longer */

/* zc_transfer reports errors of either fd; these can only be the output's
 * (EPIPE included: only the output is written, e.g. stdout into a closed pipe). */
static bool is_file_error(int err)
{
    return err == -ENOSPC || err == -EDQUOT || err == -EFBIG || err == -EIO ||
           err == -EROFS || err == -EISDIR || err == -EBADF || err == -EPERM ||
           err == -EACCES || err == -EPIPE;
}

static int write_all(int fd, const char *p, size_t len)
{
    /* An interrupt stops a write that the signal cut short. */
    return zc_write_all(fd, p, len, zc_stopping, &zc_client_syscalls);
}

/* Move up to @want bytes socket -> file by zc_transfer, in steps sized so the
 * progress bar moves about every 100 ms whatever the link's speed.
 * Return: bytes moved (> 0), 0 at end of stream, or -errno. */
static ssize_t splice_some(struct zc_body *b, uint64_t want, size_t *step)
{
    size_t count = want < *step ? (size_t)want : *step;
    int64_t t0 = zc_now_ns(), dt;
    ssize_t n;

    n = zc_transfer(b->ctx, b->file_fd, b->sock, NULL, count, b->method);
    if (n > 0 && b->method == ZC_AUTO) {
        /* The pair of fds is fixed: settle on what AUTO found working,
         * sparing its fstat of both fds on every later call. */
        enum zc_method m;

        if (zc_method_choose(b->ctx, b->file_fd, b->sock, &m) == 0)
            b->method = m;
    }
    if (n > 0 && (size_t)n < count && b->timeout_ms > 0 &&
        zc_net_stalled(b->sock, t0, b->timeout_ms))
        b->stalled = true;          /* the caller reports the timeout now */
    dt = zc_now_ns() - t0;
    if (n == (ssize_t)count && dt < 50000000 && *step < STEP_MAX)
        *step *= 2;
    else if (dt > 250000000 && *step > STEP_MIN)
        *step /= 2;
    return n;
}

static void advance(struct zc_body *b, uint64_t n)
{
    b->written += n;
    if (b->progress)
        zc_progress_update(b->progress, b->progress_base + b->written);
}

static enum zc_body_error classify(ssize_t n, int *err)
{
    if (n == 0)
        return ZC_BODY_EOF;
    *err = (int)n;
    return is_file_error((int)n) ? ZC_BODY_FILE : ZC_BODY_NET;
}

static enum zc_body_error receive_plain(struct zc_body *b, int *err)
{
    bool bounded = b->kind == ZC_BODY_LENGTH;
    size_t step = STEP_MIN * 4;
    size_t first = b->pending_len;
    int ret;

    if (bounded && first > b->length)
        first = (size_t)b->length;          /* extra bytes are not the body's */
    ret = write_all(b->file_fd, b->pending, first);
    if (ret < 0) {
        *err = ret;
        return ZC_BODY_FILE;
    }
    advance(b, first);

    while (!bounded || b->written < b->length) {
        uint64_t want = bounded ? b->length - b->written : UINT64_MAX;
        ssize_t n = splice_some(b, want, &step);

        if (n <= 0) {
            if (n == 0 && !bounded)
                return ZC_BODY_OK;          /* the close ends such a body */
            return classify(n, err);
        }
        advance(b, (uint64_t)n);
        if (b->stalled)
            return classify(-EAGAIN, err);
    }
    return ZC_BODY_OK;
}

/* A chunk that would take the body past its limit is refused before any of
 * its bytes are written. */
static bool over_limit(const struct zc_body *b, uint64_t chunk_left)
{
    return b->limited && chunk_left > b->limit - b->written;
}

/* Decode framing from the bytes read with the head; write the chunk data
 * found there. Leaves d->data_left for the socket when the buffer runs out. */
static enum zc_body_error chunked_from_buffer(struct zc_body *b, struct zc_chunked *d,
                                              int *err)
{
    const char *p = b->pending;
    size_t avail = b->pending_len;

    while (avail > 0 && !zc_chunked_done(d)) {
        ssize_t n = zc_chunked_parse(d, p, avail);
        size_t m;
        int ret;

        if (n < 0)
            return ZC_BODY_FRAMING;
        p += n;
        avail -= (size_t)n;
        if (!d->data_left || !avail)
            continue;
        if (over_limit(b, d->data_left))
            return ZC_BODY_FRAMING;
        m = d->data_left < avail ? (size_t)d->data_left : avail;
        ret = write_all(b->file_fd, p, m);
        if (ret < 0) {
            *err = ret;
            return ZC_BODY_FILE;
        }
        zc_chunked_consumed_data(d, m);
        advance(b, m);
        p += m;
        avail -= m;
    }
    return ZC_BODY_OK;
}

/* Parse framing straight off the socket: peek, decode, then consume exactly
 * the framing bytes, so chunk data is never read into user space. */
static enum zc_body_error chunked_framing(struct zc_body *b, struct zc_chunked *d,
                                          int *err)
{
    char buf[FRAMING_PEEK];
    ssize_t n, used;

    n = zc_net_recv(b->sock, buf, sizeof(buf), MSG_PEEK);
    if (n <= 0)
        return classify(n, err);
    used = zc_chunked_parse(d, buf, (size_t)n);
    if (used < 0)
        return ZC_BODY_FRAMING;
    while (used > 0) {
        ssize_t got = zc_net_recv(b->sock, buf, (size_t)used, 0);

        if (got <= 0)
            return classify(got, err);
        used -= got;
    }
    return ZC_BODY_OK;
}

static enum zc_body_error receive_chunked(struct zc_body *b, int *err)
{
    struct zc_chunked d = { 0 };
    size_t step = STEP_MIN * 4;
    enum zc_body_error e;

    e = chunked_from_buffer(b, &d, err);
    while (e == ZC_BODY_OK && !zc_chunked_done(&d)) {
        if (d.data_left) {
            ssize_t n;

            if (over_limit(b, d.data_left))
                return ZC_BODY_FRAMING;
            n = splice_some(b, d.data_left, &step);

            if (n <= 0)
                return classify(n, err);
            zc_chunked_consumed_data(&d, (uint64_t)n);
            advance(b, (uint64_t)n);
            if (b->stalled)
                return classify(-EAGAIN, err);
        } else {
            e = chunked_framing(b, &d, err);
        }
    }
    return e;
}

enum zc_body_error zc_body_receive(struct zc_body *b, int *err)
{
    *err = 0;
    b->written = 0;
    if (b->kind == ZC_BODY_CHUNKED)
        return receive_chunked(b, err);
    return receive_plain(b, err);
}
