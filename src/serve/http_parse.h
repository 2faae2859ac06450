/* http_parse.h - strict HTTP/1.x request-head parser (RFC 9110/9112).
 * Never allocates: every string points into the caller's buffer, which must
 * outlive the request. Never reads past buf[len). Single pass, stateless:
 * call it again on the whole buffer when more bytes arrive. */
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

/* The four shapes of request-target (RFC 9112 section 3.2). */
enum zc_http_target_form {
    ZC_HTTP_TARGET_ORIGIN,          /* "/path?query" */
    ZC_HTTP_TARGET_ABSOLUTE,        /* "http://authority/path?query" */
    ZC_HTTP_TARGET_AUTHORITY,       /* "host:port", only with CONNECT */
    ZC_HTTP_TARGET_ASTERISK         /* "*", only with OPTIONS */
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

    /* Added after the first version (append-only). */
    enum zc_http_target_form target_form;
    /* The part of the target to map to a file, raw (not decoded):
     * origin-form: the whole target ("/a%20b?x=1");
     * absolute-form: from the first '/' after the authority, or a static "/"
     *   (outside buf) when the URI has no path ("http://h?q" gives "/");
     * asterisk-form: "*"; authority-form: absent (p NULL). */
    struct zc_str path;
    /* The authority of an absolute-form or authority-form target (RFC 9112
     * 3.2.2: it overrides Host, which must still be present in 1.1);
     * absent (p NULL) for the other forms. Validated like Host. */
    struct zc_str authority;
    /* Expect: 100-continue in an HTTP/1.1 request: the client waits for a
     * 100 before the body (a 1.0 client's is ignored, RFC 9110 10.1.1). */
    unsigned expect_continue : 1;
    /* Accept-Encoding (a list field, so repeating it is legal): the first
     * line's value, and whether more lines followed (their union is not
     * kept; the server then answers without content coding). */
    struct zc_str accept_encoding;
    unsigned accept_encoding_repeated : 1;
};

/* zc_http_parse_request - parse one request head from buf[0, len).
 * @buf, @len: the bytes received so far on the connection; leading empty
 *   lines (CRLF) before the request line are skipped, as RFC 9112 2.2 allows.
 * @lim: size bounds; NULL or zero members mean the ZC_HTTP_DEFAULT_* values.
 * @req: filled on success; its strings point into @buf. On any other return
 *   its contents are unspecified.
 * Strictness: CRLF line endings only (a bare LF or lone CR is -400), one SP
 * between request-line parts, no whitespace before a field's colon, no
 * obs-fold, no control characters (HTAB allowed in values; bytes 0x80-0xFF
 * are accepted in the target and in values as obs-text), one Host in 1.1
 * with a valid authority, no duplicate Host / Content-Length / Range / If-*
 * (or the other fields stored in *req).
 * Framing (RFC 9112 6), decided here for every method: Content-Length is
 * digits only (a list, even "5, 5", is -400); Transfer-Encoding with
 * Content-Length, or in HTTP/1.0, is -400; Transfer-Encoding must be a
 * well-formed list whose final coding is chunked, applied once (else -400:
 * the body's end cannot be known), with no coding before it (else -501:
 * none is implemented). So a request that parses has no body, a
 * Content-Length body, or a chunked one; the server decides what to do
 * with it. Expect must list only 100-continue (else -417). An unknown but
 * valid method is not an error: it is reported as ZC_HTTP_OTHER (answer
 * 501).
 * Return: bytes of the head consumed (through the blank line) with *req
 * filled; ZC_HTTP_PARTIAL when the head is not complete yet (and within the
 * limits); or -400, -414, -417, -431, -501 or -505 for a request the server
 * must refuse with that status and then close the connection. Errors are reported as
 * soon as the bytes that prove them have arrived, even if the head is not
 * complete. */
int zc_http_parse_request(const char *buf, size_t len,
                          const struct zc_http_limits *lim,
                          struct zc_http_req *req);

/* zc_http_method_name - "GET" for ZC_HTTP_GET.
 * Return: the method's name; "" for ZC_HTTP_OTHER or a value out of range
 * (use req->method_str for the name the client sent). Never NULL. */
const char *zc_http_method_name(enum zc_http_method m);

#endif /* ZC_HTTP_PARSE_H */
