/* test_net_sendq.c - the send queue (src/net/sendq.c): memory and file
 * parts leave in order, a full socket (tiny SO_SNDBUF) stops the flush with
 * -EAGAIN and the next flush resumes at exactly the next byte, and each
 * part's release callback runs exactly once: with sent = true after its
 * last byte left, or sent = false when the queue is cleared (connection
 * closed) before that; a chunk bound gives the socket up after that many
 * file bytes and the next flush goes on where it stopped. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sendq.h"
#include "tap.h"
#include "testutil.h"

#define MAX_PARTS 16

struct rel {
    struct zc_sendq *q;
    int id;
    int calls;
    bool sent;
    uint64_t q_sent_at_release;           /* q->sent when it was called */
};

static int order[64], norder;

static void on_release(void *arg, bool sent)
{
    struct rel *r = arg;

    r->calls++;
    r->sent = sent;
    r->q_sent_at_release = r->q->sent;
    if (norder < 64)
        order[norder++] = r->id;
}

/* A TCP pair whose sender fills after a few KiB: loopback moves bytes to
 * the receiver's queue at once, so its buffer is kept small too (not below
 * 16 KiB: a window smaller than that opens only on the persist timer). */
static void small_tcp_pair(int sp[2])
{
    int small = 4096, rcv = 16384;

    t_tcp_pair(sp);
    t_set_sndbuf(sp[0], small);
    if (setsockopt(sp[1], SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) < 0)
        abort();
    t_set_nonblock(sp[0], true);
}

/* Read what is waiting on @fd (non-blocking) into buf[*got, cap). */
static void drain(int fd, char *buf, size_t *got, size_t cap)
{
    for (;;) {
        ssize_t n = recv(fd, buf + *got, cap - *got, MSG_DONTWAIT);

        if (n <= 0)
            return;
        *got += (size_t)n;
    }
}

static void test_parts_in_order_with_eagain(zc_ctx *zc)
{
    static char mem_a[100], mem_b[50], mem_c[1], big[150000];
    const uint64_t fsize = 300000;
    struct { bool file; const char *p; uint64_t off, len; } spec[] = {
        { false, mem_a, 0, sizeof(mem_a) },
        { true, NULL, 1000, 200000 },      /* a range from inside the file */
        { false, mem_b, 0, sizeof(mem_b) },
        { true, NULL, 0, 10 },
        { false, big, 0, sizeof(big) },    /* a memory part cut by EAGAIN */
        { false, mem_c, 0, 0 },            /* empty parts are released too */
        { false, mem_c, 0, sizeof(mem_c) },
    };
    const unsigned nspec = T_ARRAY_SIZE(spec);
    struct rel rel[MAX_PARTS];
    struct zc_sendq q;
    struct zc_xmit x;
    char *expect, *got;
    size_t elen = 0, glen = 0;
    uint64_t ends[MAX_PARTS];
    int fd = t_pattern_file(fsize, false, NULL), sp[2], ret, eagains = 0;
    bool in_order = true, after_bytes = true;

    memset(mem_a, 'A', sizeof(mem_a));
    memset(mem_b, 'B', sizeof(mem_b));
    mem_c[0] = 'C';
    t_fill_pattern(big, sizeof(big), 7);
    expect = malloc(600000);
    got = malloc(600000);
    small_tcp_pair(sp);
    zc_xmit_init(&x, zc, ZC_AUTO, "test", 0);
    zc_sendq_init(&q);
    for (unsigned i = 0; i < nspec; i++) {
        rel[i] = (struct rel){ .q = &q, .id = (int)i };
        if (spec[i].file) {
            ret = zc_sendq_push_file(&q, fd, (off_t)spec[i].off, spec[i].len,
                                     on_release, &rel[i]);
            t_fill_pattern(expect + elen, spec[i].len, spec[i].off);
        } else {
            ret = zc_sendq_push_mem(&q, spec[i].p, spec[i].len, on_release, &rel[i]);
            memcpy(expect + elen, spec[i].p, spec[i].len);
        }
        t_is_int(ret, 0, "push part %u", i);
        elen += spec[i].len;
        ends[i] = elen;
    }
    norder = 0;
    for (int turn = 0; turn < 100000; turn++) {
        ret = zc_sendq_flush(&q, sp[0], &x);
        if (ret != -EAGAIN)
            break;
        eagains++;
        drain(sp[1], got, &glen, 600000);
        /* Wait until the socket is writable again (what a loop does) or
         * more bytes arrived to read. */
        {
            struct pollfd pf[2] = { { .fd = sp[0], .events = POLLOUT },
                                    { .fd = sp[1], .events = POLLIN } };

            poll(pf, 2, 10);
        }
    }
    t_is_int(ret, 0, "flush ends with everything sent");
    t_ok(eagains > 0, "the tiny send buffer made flush stop with -EAGAIN (%d times)", eagains);
    t_ok(zc_sendq_empty(&q), "queue empty");
    t_ok(q.sent == elen, "q->sent counts every byte (%llu)", (unsigned long long)q.sent);
    shutdown(sp[0], SHUT_WR);
    t_set_nonblock(sp[1], false);
    for (;;) {
        ssize_t n = recv(sp[1], got + glen, 600000 - glen, 0);

        if (n <= 0)
            break;
        glen += (size_t)n;
    }
    t_ok(glen == elen && memcmp(got, expect, elen) == 0,
         "the peer got every part, in order, resumed at the exact byte (%zu of %zu)", glen, elen);
    for (unsigned i = 0; i < nspec; i++) {
        t_ok(rel[i].calls == 1 && rel[i].sent, "part %u released once, as sent", i);
        if (order[i] != (int)i)
            in_order = false;
        if (rel[i].q_sent_at_release < ends[i])
            after_bytes = false;
    }
    t_ok(in_order && norder == (int)nspec, "released in queue order");
    t_ok(after_bytes, "each release came after the part's last byte was sent");
    zc_sendq_free(&q);
    t_is_int(norder, (int)nspec, "free after success releases nothing again");
    close(sp[0]);
    close(sp[1]);
    close(fd);
    free(expect);
    free(got);
}

static void test_clear_on_close(zc_ctx *zc)
{
    static const char head[10] = "0123456789", tail[5] = "abcde";
    struct rel rel[3];
    struct zc_sendq q;
    struct zc_xmit x;
    int fd = t_pattern_file(1 << 20, false, NULL), sp[2], ret;

    small_tcp_pair(sp);
    zc_xmit_init(&x, zc, ZC_AUTO, "test", 0);
    zc_sendq_init(&q);
    for (int i = 0; i < 3; i++)
        rel[i] = (struct rel){ .q = &q, .id = i };
    zc_sendq_push_mem(&q, head, sizeof(head), on_release, &rel[0]);
    zc_sendq_push_file(&q, fd, 0, 1 << 20, on_release, &rel[1]);
    zc_sendq_push_mem(&q, tail, sizeof(tail), on_release, &rel[2]);
    norder = 0;
    ret = zc_sendq_flush(&q, sp[0], &x);
    t_is_int(ret, -EAGAIN, "1 MiB does not fit: -EAGAIN");
    t_ok(rel[0].calls == 1 && rel[0].sent, "the header part left and was released");
    t_ok(rel[1].calls == 0 && rel[2].calls == 0, "unsent parts not released yet");
    zc_sendq_clear(&q);                    /* what closing the connection does */
    t_ok(rel[1].calls == 1 && !rel[1].sent, "a half-sent part is released once, not sent");
    t_ok(rel[2].calls == 1 && !rel[2].sent, "an unsent part is released once, not sent");
    t_is_int(rel[0].calls, 1, "the sent part is not released again");
    t_ok(zc_sendq_empty(&q) && q.sent == 0, "clear empties the queue and its count");
    zc_sendq_clear(&q);
    zc_sendq_free(&q);
    t_is_int(norder, 3, "clear again and free call nothing more");
    t_is_int(zc_sendq_push_mem(&q, head, 1, NULL, NULL), 0, "a freed queue can be used again");
    zc_sendq_free(&q);
    close(sp[0]);
    close(sp[1]);
    close(fd);
}

static void test_truncated_file_and_growth(zc_ctx *zc)
{
    static const char bytes[200] = "x";
    struct zc_sendq q;
    struct zc_xmit x;
    char buf[512];
    int fd = t_pattern_file(100, false, NULL), sp[2], ret;
    ssize_t n;

    t_unix_pair(sp);
    zc_xmit_init(&x, zc, ZC_AUTO, "test", 0);
    zc_sendq_init(&q);
    zc_sendq_push_file(&q, fd, 0, 200, NULL, NULL);   /* the file has 100 */
    ret = zc_sendq_flush(&q, sp[0], &x);
    t_is_int(ret, -ENODATA, "a file shorter than its range: -ENODATA");
    t_ok(q.sent == 100, "after the bytes it had");
    zc_sendq_clear(&q);
    n = recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT);
    t_is_int((int)n, 100, "the peer got those");

    /* More parts than the first array holds: it grows, order is kept. */
    for (int i = 0; i < 100; i++) {
        ret = zc_sendq_push_mem(&q, bytes + i, 1, NULL, NULL);
        if (ret)
            break;
        if (i % 10 == 9)
            zc_sendq_push_file(&q, fd, i / 10, 1, NULL, NULL);
    }
    t_is_int(ret, 0, "110 parts queued");
    t_is_int(zc_sendq_flush(&q, sp[0], &x), 0, "flushed");
    n = recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT);
    t_is_int((int)n, 110, "110 bytes arrived");
    {
        bool same = true;

        for (int i = 0, k = 0; i < 100; i++) {
            if (buf[k++] != bytes[i])
                same = false;
            if (i % 10 == 9 && (uint8_t)buf[k++] != t_pattern_byte((uint64_t)(i / 10)))
                same = false;
        }
        t_ok(same, "in the order they were queued");
    }
    zc_sendq_free(&q);
    close(sp[0]);
    close(sp[1]);
    close(fd);
}

/* Reads a socket to EOF into a buffer, on its own thread. */
struct collector {
    pthread_t thread;
    int fd;
    char *buf;
    size_t cap, len;
};

static void *collect_main(void *arg)
{
    struct collector *c = arg;
    ssize_t n;

    while (c->len < c->cap && (n = read(c->fd, c->buf + c->len, c->cap - c->len)) > 0)
        c->len += (size_t)n;
    return NULL;
}

/* x->chunk bounds the file bytes of one flush: it returns 1 with the rest
 * still queued, and the next flush goes on at the next byte. A file part's
 * first turn may send ZC_SENDQ_FIRST_TURN (a body that fits goes in one
 * call); memory parts do not count. The sender blocks, so a turn is cut
 * only by the chunk, never by a full socket. */
static void test_chunk_turns(zc_ctx *zc)
{
    static const char head[7] = "HEADER:";
    const uint64_t rest = 200000, fsize = ZC_SENDQ_FIRST_TURN + rest, chunk = 65536;
    struct collector col = { .cap = fsize + sizeof(head) + 1 };
    struct zc_sendq q;
    struct zc_xmit x;
    int fd = t_pattern_file(fsize, false, NULL), sp[2], ret = 0, turns = 0;
    bool exact = true, same = true;
    uint64_t at_start;

    t_tcp_pair(sp);
    col.fd = sp[1];
    col.buf = malloc(col.cap);
    if (!col.buf || pthread_create(&col.thread, NULL, collect_main, &col) != 0)
        abort();
    zc_xmit_init(&x, zc, ZC_AUTO, "test", 0);
    x.chunk = chunk;
    zc_sendq_init(&q);
    zc_sendq_push_mem(&q, head, sizeof(head), NULL, NULL);
    zc_sendq_push_file(&q, fd, 0, fsize, NULL, NULL);
    while (turns < 100) {
        uint64_t before = q.sent, want;

        ret = zc_sendq_flush(&q, sp[0], &x);
        turns++;
        if (ret != 1)
            break;
        want = turns == 1 ? sizeof(head) + ZC_SENDQ_FIRST_TURN : chunk;
        if (q.sent - before != want)
            exact = false;
    }
    shutdown(sp[0], SHUT_WR);
    pthread_join(col.thread, NULL);
    t_is_int(ret, 0, "the last turn empties the queue");
    t_is_int(turns, 5, "2 MiB in the first turn, then 200000 bytes in 64 KiB turns: 5");
    t_ok(exact, "each turn before the last sent exactly its allowance");
    t_ok(col.len == fsize + sizeof(head) && memcmp(col.buf, head, sizeof(head)) == 0,
         "the peer got every byte (%zu)", col.len);
    for (uint64_t i = 0; i < fsize && col.len == fsize + sizeof(head); i++)
        if ((uint8_t)col.buf[sizeof(head) + i] != t_pattern_byte(i)) {
            same = false;
            break;
        }
    t_ok(same, "in order, none twice or skipped");

    close(sp[0]);
    close(sp[1]);

    /* A body shorter than the first turn goes in one flush. */
    t_tcp_pair(sp);
    col.fd = sp[1];
    col.len = 0;
    if (pthread_create(&col.thread, NULL, collect_main, &col) != 0)
        abort();
    zc_sendq_push_file(&q, fd, 0, 300000, NULL, NULL);
    ret = zc_sendq_flush(&q, sp[0], &x);
    shutdown(sp[0], SHUT_WR);
    pthread_join(col.thread, NULL);
    t_is_int(ret, 0, "300000 bytes with a 64 KiB chunk: one turn");
    t_ok(col.len == 300000, "all of them (%zu)", col.len);
    close(sp[0]);
    close(sp[1]);

    /* Many short ranges (multipart/byteranges): the first turn's 2 MiB is
     * for the flush, not for each range. */
    t_tcp_pair(sp);
    col.fd = sp[1];
    col.len = 0;
    col.cap = 3000000;
    col.buf = realloc(col.buf, col.cap);
    if (!col.buf || pthread_create(&col.thread, NULL, collect_main, &col) != 0)
        abort();
    for (int i = 0; i < 30; i++)
        zc_sendq_push_file(&q, fd, (off_t)(i % 20) * 100000, 100000, NULL, NULL);
    at_start = q.sent;
    ret = zc_sendq_flush(&q, sp[0], &x);
    t_is_int(ret, 1, "30 ranges of 100000 bytes: the first flush ends a turn");
    t_ok(q.sent - at_start <= ZC_SENDQ_FIRST_TURN,
         "after at most the first turn's 2 MiB (%llu)",
         (unsigned long long)(q.sent - at_start));
    while (ret == 1)
        ret = zc_sendq_flush(&q, sp[0], &x);
    shutdown(sp[0], SHUT_WR);
    pthread_join(col.thread, NULL);
    t_ok(ret == 0 && col.len == 3000000, "then the rest, in turns (%zu)", col.len);
    zc_sendq_free(&q);
    free(col.buf);
    close(sp[0]);
    close(sp[1]);
    close(fd);
}

static void test_xmit_policy(zc_ctx *zc)
{
    struct zc_xmit x;
    char buf[64];
    off_t off = 0;
    int fd = t_pattern_file(64, false, NULL), sp[2];
    ssize_t n;

    t_unix_pair(sp);
    zc_xmit_init(&x, zc, ZC_AUTO, "test", 0);
    n = zc_xmit_file(&x, sp[0], fd, &off, 32);
    t_is_int((int)n, 32, "auto sends");
    t_ok(x.is_resolved && x.resolved != ZC_AUTO, "auto's choice is remembered (%s)",
         zc_method_name(x.resolved));
    /* copy_file_range cannot write to a socket: reported once, then auto. */
    zc_xmit_init(&x, zc, ZC_COPY_FILE_RANGE, "test_net_sendq (expected message)", 0);
    n = zc_xmit_file(&x, sp[0], fd, &off, 32);
    t_is_int((int)n, 32, "a refused method falls back to auto and sends");
    t_ok(x.warned, "and says so once");
    t_is_int((int)off, 64, "the offset advanced by what was sent");
    n = recv(sp[1], buf, sizeof(buf), MSG_DONTWAIT);
    t_is_int((int)n, 64, "the peer got both halves");
    close(sp[0]);
    close(sp[1]);
    close(fd);
}

int main(void)
{
    zc_ctx *zc = zc_ctx_new();

    if (!zc)
        return 1;
    test_parts_in_order_with_eagain(zc);
    test_clear_on_close(zc);
    test_truncated_file_and_growth(zc);
    test_chunk_turns(zc);
    test_xmit_policy(zc);
    zc_ctx_free(zc);
    return t_done();
}
