/* body.h - move a response body from a socket into a file: Content-Length,
 * chunked, or until the connection closes. Chunk data and plain bodies go
 * through zc_transfer (socket -> pipe -> file with splice, no user-space
 * copy); only the chunk framing is read into user space. */
#ifndef ZC_BODY_H
#define ZC_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/progress.h"
#include "zcopy.h"

enum zc_body_kind { ZC_BODY_LENGTH, ZC_BODY_CHUNKED, ZC_BODY_UNTIL_CLOSE };

struct zc_body {
    zc_ctx *ctx;
    enum zc_method method;          /* as asked; ZC_AUTO settles after one call */
    int sock, file_fd;
    int timeout_ms;                 /* sock's SO_RCVTIMEO (0: not known) */
    bool stalled;                   /* a call ended on that timeout */
    enum zc_body_kind kind;
    uint64_t length;                /* ZC_BODY_LENGTH */
    uint64_t limit;                 /* ZC_BODY_CHUNKED with limited: at most
                                     * this many bytes (a 206's range) */
    bool limited;
    const char *pending;            /* body bytes read along with the head */
    size_t pending_len;
    uint64_t written;               /* body bytes that reached the file */
    uint64_t progress_base;         /* added to written for the progress bar */
    struct zc_progress *progress;
};

/* Why zc_body_receive stopped short. */
enum zc_body_error {
    ZC_BODY_OK,
    ZC_BODY_EOF,                    /* connection closed before the end */
    ZC_BODY_NET,                    /* socket error or timeout (err set) */
    ZC_BODY_FILE,                   /* writing the file failed (err set) */
    ZC_BODY_FRAMING,                /* malformed chunked framing, or a
                                     * chunked body longer than b->limit */
};

/* zc_body_receive - move the body; b->written counts what reached the file
 * (exactly the bytes received, in order, on every path).
 * Return: ZC_BODY_OK or the reason it stopped, with *err the -errno. */
enum zc_body_error zc_body_receive(struct zc_body *b, int *err);

#endif /* ZC_BODY_H */
