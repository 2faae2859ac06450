/* http_resp.h - strict HTTP/1.x response-head parser and chunked-body decoder
 * for the clients (RFC 9112). Neither allocates: every string points into the
 * caller's buffer, and neither reads past buf[len). */
#ifndef ZC_HTTP_RESP_H
#define ZC_HTTP_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ZC_RESP_PARTIAL (-1)        /* head incomplete: read more, call again */
#define ZC_RESP_BAD (-2)            /* not a well-formed HTTP/1.x response head */
#define ZC_RESP_TOO_MANY_FIELDS (-3) /* well-formed so far, but over the field limit */

#define ZC_RESP_MAX_FIELDS 100

struct zc_resp_str {
    const char *p;                  /* NULL when absent */
    size_t len;
};

/* Content-Range: "bytes FIRST-LAST/COMPLETE", "bytes FIRST-LAST/ *" or
 * "bytes * /COMPLETE" (the last two without the space). */
struct zc_content_range {
    bool present;
    bool unsatisfied;               /* the "*" /COMPLETE form (416) */
    int64_t first, last;            /* -1 in the unsatisfied form */
    int64_t complete;               /* -1 when "*" */
};

struct zc_http_resp {
    int version_minor;              /* HTTP/1.<minor> */
    int status;                     /* 100..999 */
    struct zc_resp_str reason;      /* may be empty */
    unsigned field_count;

    int64_t content_length;         /* -1 when absent */
    bool chunked;                   /* Transfer-Encoding: chunked */
    bool conn_close;                /* Connection: close (or HTTP/1.0 without keep-alive) */
    struct zc_resp_str location;    /* Location value, OWS stripped */
    struct zc_resp_str etag;        /* ETag value as sent (W/ included) */
    struct zc_resp_str last_modified;
    struct zc_content_range range;
};

/* zc_http_parse_response - parse one response head from buf[0, len).
 * Strict: CRLF line endings only, "HTTP/1.x SP 3DIGIT SP reason", field names
 * are tokens with no space before the colon, no obs-fold, no control bytes;
 * Content-Length is digits only (identical duplicates tolerated);
 * Transfer-Encoding must be exactly "chunked", may not come with
 * Content-Length nor in an HTTP/1.0 response (RFC 9112 6.1); Location, Content-Range, ETag and Last-Modified at most
 * once each.
 * Return: bytes of the head (through the blank line) with *r filled;
 * ZC_RESP_PARTIAL when buf holds only the start of a valid head;
 * ZC_RESP_TOO_MANY_FIELDS after ZC_RESP_MAX_FIELDS fields; ZC_RESP_BAD
 * otherwise. The caller bounds the head size. */
int zc_http_parse_response(const char *buf, size_t len, struct zc_http_resp *r);

/* zc_http_body_expected - whether a response with this status to a request
 * with this method carries a body (no body for HEAD, 1xx, 204, 304). */
bool zc_http_body_expected(int status, bool head_request);

#define ZC_CHUNKED_BAD (-1)

/* Chunked body decoder. Zero-initialise, then alternate:
 *   n = zc_chunked_parse(&d, buf, len)  consumes framing bytes only; it stops
 *       where chunk data begins (d.data_left > 0), at the end of the body
 *       (zc_chunked_done()), or at the end of buf;
 *   the caller moves min(d.data_left, available) data bytes by whatever means
 *       (write from a buffer, splice from the socket) and reports them with
 *       zc_chunked_consumed_data().
 * Chunk extensions are skipped; trailer fields are checked and ignored. */
struct zc_chunked {
    unsigned state;
    unsigned digits;                /* hex digits of the current size */
    unsigned line_len;              /* bytes of the current ext/trailer line */
    unsigned trailer_bytes;         /* whole trailer section so far */
    uint64_t size;                  /* size being parsed */
    uint64_t data_left;             /* chunk data the caller must move next */
    uint64_t body_bytes;            /* decoded body bytes so far */
};

/* Return: framing bytes consumed (0 is possible when data_left > 0 or done),
 * or ZC_CHUNKED_BAD for malformed framing. */
ssize_t zc_chunked_parse(struct zc_chunked *d, const char *buf, size_t len);
/* The caller moved @n (<= data_left) bytes of chunk data. */
void zc_chunked_consumed_data(struct zc_chunked *d, uint64_t n);
bool zc_chunked_done(const struct zc_chunked *d);

#endif /* ZC_HTTP_RESP_H */
