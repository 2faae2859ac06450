/* test_body.c - zc_body_receive over a real TCP pair into a file: plain,
 * until-close and chunked bodies, with body bytes already in the head buffer,
 * framing split across writes, a truncated stream (the file keeps exactly
 * what arrived) and malformed framing. Each case runs with ZC_AUTO (splice)
 * and ZC_READWRITE. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/body.h"
#include "client/client.h"
#include "tap.h"
#include "testutil.h"

#define BODY_MAX (3u << 20)

static uint8_t body[BODY_MAX];

/* What the peer writes: @len bytes of @wire, @piece bytes per write. */
struct writer {
    pthread_t thread;
    int fd;
    const uint8_t *wire;
    size_t len, piece;
};

static void *write_all_then_close(void *arg)
{
    struct writer *w = arg;

    for (size_t off = 0; off < w->len;) {
        size_t n = w->len - off < w->piece ? w->len - off : w->piece;
        ssize_t got = send(w->fd, w->wire + off, n, MSG_NOSIGNAL);

        if (got <= 0)
            break;
        off += (size_t)got;
    }
    shutdown(w->fd, SHUT_WR);
    return NULL;
}

/* Chunked encoding of body[0, len) in chunks of @chunk, with extensions. */
static uint8_t *encode_chunked(size_t len, size_t chunk, size_t *out_len)
{
    uint8_t *out = malloc(len + len / chunk * 32 + 64);
    size_t o = 0;

    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;

        o += (size_t)sprintf((char *)out + o, "%zx;i=%zu\r\n", n, i);
        memcpy(out + o, body + i, n);
        o += n;
        memcpy(out + o, "\r\n", 2);
        o += 2;
    }
    o += (size_t)sprintf((char *)out + o, "0\r\nT: x\r\n\r\n");
    *out_len = o;
    return out;
}

struct run {
    enum zc_body_kind kind;
    uint64_t length;
    const uint8_t *pending;         /* "read with the head" */
    size_t pending_len;
    const uint8_t *wire;            /* then on the socket */
    size_t wire_len, piece;
    enum zc_method method;
};

/* Returns the error; *written and the file's bytes are checked by callers. */
static enum zc_body_error receive(const struct run *r, uint64_t *written, int *file_fd)
{
    struct zc_body b = { 0 };
    struct writer w;
    int fds[2], err;
    char path[64];
    enum zc_body_error e;
    zc_ctx *ctx = zc_ctx_new();

    snprintf(path, sizeof(path), "%s/body.XXXXXX", t_tmpdir());
    *file_fd = mkstemp(path);
    unlink(path);
    t_tcp_pair(fds);
    w = (struct writer){ .fd = fds[0], .wire = r->wire, .len = r->wire_len,
                         .piece = r->piece };
    pthread_create(&w.thread, NULL, write_all_then_close, &w);
    b = (struct zc_body){ .ctx = ctx, .method = r->method, .sock = fds[1],
                          .file_fd = *file_fd, .kind = r->kind, .length = r->length,
                          .pending = (const char *)r->pending,
                          .pending_len = r->pending_len };
    e = zc_body_receive(&b, &err);
    *written = b.written;
    /* The writer may still be blocked if we stopped early: unblock it. */
    shutdown(fds[1], SHUT_RDWR);
    pthread_join(w.thread, NULL);
    close(fds[0]);
    close(fds[1]);
    zc_ctx_free(ctx);
    return e;
}

static bool file_is(int fd, const uint8_t *want, size_t len)
{
    uint8_t *got = malloc(len + 1);
    ssize_t n = pread(fd, got, len + 1, 0);
    bool same = n == (ssize_t)len && memcmp(got, want, len) == 0;

    free(got);
    return same;
}

static void test_method(enum zc_method m)
{
    const char *mn = zc_method_name(m);
    size_t clen, size = 2u << 20;
    uint8_t *chunked = encode_chunked(size, 65536 + 3, &clen);
    uint64_t written;
    int fd;
    enum zc_body_error e;

    /* Content-Length, the first 100 bytes already read with the head. */
    e = receive(&(struct run){ ZC_BODY_LENGTH, size, body, 100, body + 100, size - 100,
                               1 << 20, m }, &written, &fd);
    t_ok(e == ZC_BODY_OK && written == size && file_is(fd, body, size),
         "%s: Content-Length body, head-buffer bytes first", mn);
    close(fd);

    /* Extra bytes beyond Content-Length in the head buffer are not body. */
    e = receive(&(struct run){ ZC_BODY_LENGTH, 10, body, 50, NULL, 0, 1, m }, &written, &fd);
    t_ok(e == ZC_BODY_OK && written == 10 && file_is(fd, body, 10),
         "%s: only Content-Length bytes of the head buffer are written", mn);
    close(fd);

    /* Truncated: the file holds exactly what arrived. */
    e = receive(&(struct run){ ZC_BODY_LENGTH, size, NULL, 0, body, size / 3, 4096, m },
                &written, &fd);
    t_ok(e == ZC_BODY_EOF && written == size / 3 && file_is(fd, body, size / 3),
         "%s: a stream cut short: EOF, the file holds exactly the bytes received", mn);
    close(fd);

    /* Until close. */
    e = receive(&(struct run){ ZC_BODY_UNTIL_CLOSE, 0, body, 7, body + 7, 99993, 9999, m },
                &written, &fd);
    t_ok(e == ZC_BODY_OK && written == 100000 && file_is(fd, body, 100000),
         "%s: a body that ends with the connection", mn);
    close(fd);

    /* Chunked, written in pieces that split framing everywhere. */
    static const size_t pieces[] = { 1 << 20, 4093, 7 };
    for (size_t i = 0; i < T_ARRAY_SIZE(pieces); i++) {
        size_t wire_len = clen, body_len = size;
        uint8_t *small = NULL;

        if (pieces[i] == 7) {
            /* Dripping 7 bytes a write: a shorter body keeps it quick. */
            small = encode_chunked(20000, 1000, &wire_len);
            body_len = 20000;
        }
        e = receive(&(struct run){ ZC_BODY_CHUNKED, 0, small ? small : chunked, 5,
                                   (small ? small : chunked) + 5, wire_len - 5,
                                   pieces[i], m }, &written, &fd);
        t_ok(e == ZC_BODY_OK && written == body_len && file_is(fd, body, body_len),
             "%s: chunked body, %zu bytes per write", mn, pieces[i]);
        close(fd);
        free(small);
    }

    /* Chunked, cut inside the second chunk: 70000 wire bytes are "10003;i=0"
     * CRLF (11), 65539 data, CRLF (2), "10003;i=65539" CRLF (15) and 4433
     * data bytes: the file must hold exactly 65539 + 4433 bytes. */
    e = receive(&(struct run){ ZC_BODY_CHUNKED, 0, NULL, 0, chunked, 70000, 65536, m },
                &written, &fd);
    t_ok(e == ZC_BODY_EOF && written == 69972 && file_is(fd, body, 69972),
         "%s: chunked stream cut mid-chunk: EOF, the file holds exactly the data "
         "received", mn);
    close(fd);

    /* Malformed framing after the first chunk. */
    {
        static const char bad[] = "3\r\nabcXX0\r\n\r\n";

        e = receive(&(struct run){ ZC_BODY_CHUNKED, 0, NULL, 0, (const uint8_t *)bad,
                                   sizeof(bad) - 1, 64, m }, &written, &fd);
        t_ok(e == ZC_BODY_FRAMING && written == 3, "%s: malformed framing detected", mn);
        close(fd);
    }
    free(chunked);
}

int main(void)
{
    t_fill_pattern(body, sizeof(body), 12345);
    zc_interrupt_install();         /* SIGPIPE ignored, as the commands do */
    test_method(ZC_AUTO);
    test_method(ZC_READWRITE);
    return t_done();
}
