/* http_parse.h - strict HTTP/1.x request-head parser (RFC 9110/9112).
 * Never allocates: every string points into the caller's buffer, which must
 * outlive the request. Never reads past buf[len). */
#ifndef ZC_HTTP_PARSE_H
#define ZC_HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Returns of zc_http_parse_request() other than "bytes consumed". Errors are
 * the negated HTTP status the server must answer with before closing. */
#define ZC_HTTP_PARTIAL (-1)        /* head incomplete: read more, call again */

enum zc_http_method {
    ZC_HTTP_GET, ZC_HTTP_HEAD, ZC_HTTP_PUT, ZC_HTTP_POST, ZC_HTTP_DELETE,
    ZC_HTTP_OPTIONS, ZC_HTTP_PATCH, ZC_HTTP_TRACE, ZC_HTTP_CONNECT,
    ZC_HTTP_OTHER                   /* a valid token we do not know: 501 */
};

struct zc_str {
    const char *p;                  /* NULL when absent */
    size_t len;
};

struct zc_http_limits {
    size_t max_head;                /* request line + fields; over it: -431 */
    size_t max_target;              /* request-target length; over it: -414 */
    unsigned max_fields;            /* field lines; over it: -431 */
};                                  /* zero members mean the defaults below */

#define ZC_HTTP_DEFAULT_MAX_HEAD   8192
#define ZC_HTTP_DEFAULT_MAX_TARGET 4096
#define ZC_HTTP_DEFAULT_MAX_FIELDS 64

struct zc_http_req {
    enum zc_http_method method;
    struct zc_str method_str;
    struct zc_str target;           /* raw request-target, not decoded */
    int version_minor;              /* 0 or 1 (a higher 1.x is reported as 1) */
    unsigned field_count;

    /* Fields the server acts on; value with surrounding SP/HTAB stripped.
     * Duplicates of any of these are rejected (-400). */
    struct zc_str host, range, if_range, if_match, if_none_match,
        if_modified_since, if_unmodified_since, transfer_encoding, expect,
        user_agent, referer;
    int64_t content_length;         /* -1 when absent */
    unsigned keep_alive : 1;        /* after Connection and version rules */
    unsigned has_connection_close : 1;
};

/* zc_http_parse_request - parse one request head from buf[0, len).
 * Return: bytes of the head consumed (through the blank line) with *req
 * filled; ZC_HTTP_PARTIAL when the head is not complete yet (and within the
 * limits); or -400, -414, -431, -501, -505 for a request the server must
 * refuse with that status and then close the connection. */
int zc_http_parse_request(const char *buf, size_t len,
                          const struct zc_http_limits *lim,
                          struct zc_http_req *req);

/* zc_http_method_name - "GET" for ZC_HTTP_GET. */
const char *zc_http_method_name(enum zc_http_method m);

#endif /* ZC_HTTP_PARSE_H */
