/* response.h - turn a parsed request into a response plan: the status line
 * and headers written into the connection's buffer, then a list of segments
 * (memory or file ranges) that the connection queues for sending in order
 * (net/sendq.h).
 *
 * Decides: method (405/501), path (400/301/403/404), conditionals (304/412),
 * ranges (206, multipart/byteranges, 416), and for small bodies reads the
 * bytes with pread() right behind the headers so both leave in one writev. */
#ifndef ZC_SERVE_RESPONSE_H
#define ZC_SERVE_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "serve/coding.h"
#include "serve/http_parse.h"
#include "serve/range.h"

struct zc_file;
struct zc_fs;

/* What the options add to file responses (200, 206, 304). */
struct zc_resp_opts {
    /* --cache-control VALUE, or "max-age=N" from --max-age N; NULL: none. */
    const char *cache_control;
    /* --max-age N: Expires is the response's Date + N seconds; -1: none. */
    int64_t expires_s;
    /* --precompressed: variants served by Accept-Encoding, with
     * Content-Encoding and Vary: Accept-Encoding. */
    struct zc_coding_list precompressed;
};

/* What response building may see of its worker: nothing else, so that a
 * test can build responses with a root directory and a fixed date. */
struct zc_resp_ctx {
    struct zc_fs *fs;               /* lookup and the open-file cache */
    int64_t now_ms;                 /* loop clock (cache revalidation) */
    const char *date;               /* Date header value (IMF-fixdate) */
    time_t date_sec;                /* ... as seconds since the epoch */
    const char *boundary;           /* multipart/byteranges separator */
    bool upload;                    /* PUT is served: 405 lists it in Allow */
    /* Small bodies may come from memory (the open-file cache or a pread):
     * false when a --method was named, so every body goes through
     * zc_transfer with it (what the benchmark table compares). */
    bool small_from_cache;
    const struct zc_resp_opts *opts;    /* caching headers, precompressed */
};

/* Body segments up to this size are read into the connection buffer and sent
 * with the headers in one writev (lighttpd's threshold; below it sendfile's
 * setup costs more than the copy). */
#define ZC_SMALL_BODY (16 * 1024)
/* Status line and headers; a 301's Location echoes the request target. */
#define ZC_HEAD_CAP (ZC_HTTP_DEFAULT_MAX_TARGET + 2048)
#define ZC_WBUF_SIZE ZC_HEAD_CAP

#define ZC_RESP_MAX_SEGS (2 + 2 * ZC_RANGE_MAX_PARTS + 1)

struct zc_seg {
    const char *p;                  /* NULL: a file range of resp->file */
    uint64_t len;
    off_t off;                      /* file offset for a file range */
};

struct zc_resp {
    int status;
    bool close;                     /* close the connection after it */
    unsigned nseg, cur;             /* segments, and the one being sent */
    struct zc_seg seg[ZC_RESP_MAX_SEGS];
    struct zc_file *file;           /* reference held while sending */
    char *heap;                     /* malloc'ed body (listing) */
    /* ZC_SMALL_BODY bytes for preads and multipart part headers, allocated
     * on first need and kept for the connection's life (most connections
     * never need it: small bodies come from the open-file cache). */
    char *xbuf;
    size_t head_len;
    uint64_t body_len;              /* bytes after the head (log) */
    uint64_t sent;                  /* bytes of all segments sent so far */
};

/* zc_resp_build - plan the response to @req in @buf (ZC_WBUF_SIZE bytes).
 * @keep_alive: what the request allows; the plan may still close. */
void zc_resp_build(struct zc_resp *r, const struct zc_resp_ctx *x,
                   const struct zc_http_req *req, bool keep_alive, char *buf);

/* zc_resp_error - plan a bodyful error/status response with no request
 * context (400, 408, 414, 431, 503, ...). @head: HEAD request (no body). */
void zc_resp_error(struct zc_resp *r, const struct zc_resp_ctx *x, int status,
                   bool keep_alive, bool head, char *buf);

/* zc_resp_release - drop the file reference and the heap body (xbuf stays). */
void zc_resp_release(struct zc_resp *r);

/* zc_resp_request_path - the decoded, checked path of @req's target into
 * @out (NUL-terminated, @cap bytes). Return: 0 with *len set, or 400. */
int zc_resp_request_path(const struct zc_http_req *req, char *out, size_t cap,
                         size_t *len);

/* zc_resp_upload - plan the answer to a PUT: 201, 204 (no body, no
 * Content-Length) or an error status page. */
void zc_resp_upload(struct zc_resp *r, const struct zc_resp_ctx *x, int status,
                    const struct zc_http_req *req, bool keep_alive, char *buf);

const char *zc_status_reason(int status);

#endif /* ZC_SERVE_RESPONSE_H */
