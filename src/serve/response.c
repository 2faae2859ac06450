/* response.c - status, headers and body plan for one request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "zcopy.h"
#include "serve/file_cache.h"
#include "serve/fs.h"
#include "serve/http_cond.h"
#include "serve/http_date.h"
#include "serve/response.h"
#include "serve/url.h"

#define SERVER_NAME "zcopy/" ZC_VERSION_STRING

const char *zc_status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default:  return "Unknown";
    }
}

/* A tiny appender: the head is bounded by ZC_HEAD_CAP by construction
 * (fixed fields plus the request target, itself bounded by the parser). */
struct out {
    char *p, *end;
};

static void put(struct out *o, const char *s, size_t n)
{
    if ((size_t)(o->end - o->p) < n)
        n = (size_t)(o->end - o->p);
    if (n == 0)
        return;                         /* s may be NULL */
    memcpy(o->p, s, n);
    o->p += n;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof(tmp);

    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, tmp + i, sizeof(tmp) - (size_t)i);
}

static void put_status(struct out *o, const struct zc_resp_ctx *x, int status)
{
    PUT_LIT(o, "HTTP/1.1 ");
    put_u64(o, (uint64_t)status);
    *o->p++ = ' ';
    put_str(o, zc_status_reason(status));
    PUT_LIT(o, "\r\nServer: " SERVER_NAME "\r\nDate: ");
    put_str(o, x->date);
    PUT_LIT(o, "\r\n");
}

static void put_connection(struct out *o, bool keep_alive, int version_minor)
{
    if (!keep_alive)
        PUT_LIT(o, "Connection: close\r\n");
    else if (version_minor == 0)
        PUT_LIT(o, "Connection: keep-alive\r\n");
}

static void plan_head(struct zc_resp *r, char *buf, struct out *o)
{
    PUT_LIT(o, "\r\n");
    r->head_len = (size_t)(o->p - buf);
    r->seg[0] = (struct zc_seg){ .p = buf, .len = r->head_len };
    r->nseg = 1;
}

static void resp_reset(struct zc_resp *r, int status, bool keep_alive)
{
    r->status = status;
    r->close = !keep_alive;
    r->nseg = r->cur = 0;                /* xbuf is kept */
    r->file = NULL;
    r->heap = NULL;
    r->head_len = 0;
    r->body_len = 0;
    r->sent = 0;
}

/* Error pages are static strings: nothing to build per request. */
static const char *error_body(int status, size_t *len)
{
#define PAGE(code, text) \
    case code: { static const char s[] = "<html><head><title>" #code " " text \
        "</title></head><body><h1>" #code " " text "</h1></body></html>\n"; \
        *len = sizeof(s) - 1; return s; }
    switch (status) {
    PAGE(201, "Created")
    PAGE(301, "Moved Permanently")
    PAGE(400, "Bad Request")
    PAGE(403, "Forbidden")
    PAGE(404, "Not Found")
    PAGE(405, "Method Not Allowed")
    PAGE(406, "Not Acceptable")
    PAGE(408, "Request Timeout")
    PAGE(409, "Conflict")
    PAGE(411, "Length Required")
    PAGE(412, "Precondition Failed")
    PAGE(413, "Content Too Large")
    PAGE(414, "URI Too Long")
    PAGE(416, "Range Not Satisfiable")
    PAGE(417, "Expectation Failed")
    PAGE(431, "Request Header Fields Too Large")
    PAGE(501, "Not Implemented")
    PAGE(503, "Service Unavailable")
    PAGE(505, "HTTP Version Not Supported")
    PAGE(507, "Insufficient Storage")
    PAGE(500, "Internal Server Error")
    default:
        *len = 0;
        return "";
    }
#undef PAGE
}

/* Headers and body of a status page; @extra is inserted verbatim (Allow,
 * Location, Content-Range), each line ending in CRLF. */
static void plan_status_page(struct zc_resp *r, const struct zc_resp_ctx *x, int status,
                             bool keep_alive, bool head, int version_minor,
                             const char *extra, size_t extra_len, char *buf)
{
    struct out o = { buf, buf + ZC_HEAD_CAP - 2 };
    size_t blen;
    const char *body = error_body(status, &blen);

    resp_reset(r, status, keep_alive);
    put_status(&o, x, status);
    PUT_LIT(&o, "Content-Type: text/html\r\nContent-Length: ");
    put_u64(&o, blen);
    PUT_LIT(&o, "\r\n");
    put(&o, extra, extra_len);
    put_connection(&o, keep_alive, version_minor);
    plan_head(r, buf, &o);
    if (!head && blen) {
        r->seg[r->nseg++] = (struct zc_seg){ .p = body, .len = blen };
        r->body_len = blen;
    }
}

void zc_resp_error(struct zc_resp *r, const struct zc_resp_ctx *x, int status,
                   bool keep_alive, bool head, char *buf)
{
    plan_status_page(r, x, status, keep_alive, head, 1, NULL, 0, buf);
}

void zc_resp_release(struct zc_resp *r)
{
    zc_file_unref(r->file);
    r->file = NULL;
    free(r->heap);
    r->heap = NULL;
}

/* --- conditionals (RFC 9110 section 13.2.2 order) ---------------------- */

/* --- conditionals (RFC 9110 section 13.2.2, http_cond.c) ----------------- */

/* Return: 0 to go on, or 304 / 412. */
static int evaluate_preconditions(const struct zc_http_req *req,
                                  const struct zc_file *f)
{
    const struct zc_cond_target t = { .exists = true, .etag = f->etag,
                                      .etag_len = f->etag_len,
                                      .mtime = f->mtime.tv_sec };

    return zc_http_preconditions(req, &t, true, time(NULL));
}

static bool if_range_allows(const struct zc_http_req *req, const struct zc_file *f)
{
    const struct zc_str *v = &req->if_range;

    if (!v->p)
        return true;
    /* RFC 9110 8.8.2.2: a Last-Modified less than a second old is a weak
     * validator (the file may change again within that second), and
     * If-Range never matches a weak one. Entity-tags start with '"' or W/. */
    if (v->len > 0 && v->p[0] != '"' && !(v->len > 1 && v->p[0] == 'W' && v->p[1] == '/') &&
        f->mtime.tv_sec >= time(NULL))
        return false;
    return zc_if_range_match(req->if_range.p, req->if_range.len, f->etag,
                             f->etag_len, f->mtime.tv_sec);
}

static void put_validators(struct out *o, const struct zc_file *f)
{
    PUT_LIT(o, "Last-Modified: ");
    put_str(o, f->last_modified);
    PUT_LIT(o, "\r\nETag: ");
    put(o, f->etag, f->etag_len);
    PUT_LIT(o, "\r\n");
}

/* Vary (the file has precompressed variants), Cache-Control and Expires
 * (--cache-control, --max-age): on 200, 206 and 304 alike, since a 304
 * carries the fields its 200 would (RFC 9110 15.4.5). */
static void put_file_policy(struct out *o, const struct zc_resp_ctx *x, bool vary)
{
    const struct zc_resp_opts *opts = x->opts;

    if (vary)
        PUT_LIT(o, "Vary: Accept-Encoding\r\n");
    if (!opts)
        return;
    if (opts->cache_control) {
        PUT_LIT(o, "Cache-Control: ");
        put_str(o, opts->cache_control);
        PUT_LIT(o, "\r\n");
    }
    if (opts->expires_s >= 0) {
        char date[ZC_HTTP_DATE_LEN + 1];

        /* From the Date header's second, so Expires - Date is exactly N. */
        zc_http_date_format(x->date_sec + (time_t)opts->expires_s, date);
        PUT_LIT(o, "Expires: ");
        put_str(o, date);
        PUT_LIT(o, "\r\n");
    }
}

static void put_coding(struct out *o, const char *coding)
{
    if (coding) {
        PUT_LIT(o, "Content-Encoding: ");
        put_str(o, coding);
        PUT_LIT(o, "\r\n");
    }
}

static void put_content_range(struct out *o, const struct zc_range *rg,
                              uint64_t size)
{
    char tmp[96];
    size_t n = zc_range_content_range(tmp, sizeof(tmp), rg, size);

    PUT_LIT(o, "Content-Range: ");
    put(o, tmp, n);
    PUT_LIT(o, "\r\n");
}

/* Read a small body right behind the headers so both go out in one writev.
 * Return: true, or false when the file proved shorter than its cached size
 * (it changed under us: the caller drops the entry and resolves again). */
static bool read_small_body(struct zc_resp *r, const struct zc_resp_ctx *x,
                            struct zc_file *entry, char *body, off_t off, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(r->file->fd, body + got, len - got, off + (off_t)got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            zc_file_cache_drop(x->fs->cache, entry);
            return false;
        }
        got += (size_t)n;
    }
    r->seg[r->nseg++] = (struct zc_seg){ .p = body, .len = len };
    return true;
}

static char *body_area(struct zc_resp *r)
{
    if (!r->xbuf)
        r->xbuf = malloc(ZC_SMALL_BODY);
    return r->xbuf;
}

/* Plan the response with @f, the file to send: @entry itself or one of its
 * precompressed variants (@coding its name, else NULL). @entry is the cache
 * entry, dropped when a read finds the file shorter than its stat; @vary:
 * the entry has variants, so the response depends on Accept-Encoding.
 * Takes @f's reference. */
static void plan_file_as(struct zc_resp *r, const struct zc_resp_ctx *x,
                         const struct zc_http_req *req, bool keep_alive, char *buf,
                         struct zc_file *f, struct zc_file *entry, const char *coding,
                         bool vary, bool *retry)
{
    struct zc_range ranges[ZC_RANGE_MAX_PARTS];
    struct out o = { buf, buf + ZC_HEAD_CAP - 2 };
    char *body;
    bool head = req->method == ZC_HTTP_HEAD;
    int nranges = 0, status;

    *retry = false;
    status = evaluate_preconditions(req, f);
    if (status == 412) {
        zc_file_unref(f);
        plan_status_page(r, x, 412, keep_alive, head, req->version_minor, NULL, 0, buf);
        return;
    }
    resp_reset(r, status ? status : 200, keep_alive);
    r->file = f;
    if (status == 304) {
        put_status(&o, x, 304);
        put_validators(&o, f);
        put_file_policy(&o, x, vary);
        put_connection(&o, keep_alive, req->version_minor);
        plan_head(r, buf, &o);
        return;
    }

    if (req->range.p && !head && if_range_allows(req, f))
        nranges = zc_range_parse(req->range.p, req->range.len, f->size, ranges,
                                 ZC_RANGE_MAX_PARTS);
    if (nranges == -416) {
        char extra[64];
        int n = snprintf(extra, sizeof(extra), "Content-Range: bytes */%llu\r\n",
                         (unsigned long long)f->size);

        r->file = NULL;
        zc_file_unref(f);
        plan_status_page(r, x, 416, keep_alive, head, req->version_minor, extra,
                         (size_t)n, buf);
        return;
    }
    if (nranges < 0)
        nranges = 0;

    if (nranges <= 1) {
        uint64_t off = nranges ? ranges[0].first : 0;
        uint64_t len = nranges ? ranges[0].last - ranges[0].first + 1 : f->size;

        r->status = nranges ? 206 : 200;
        put_status(&o, x, r->status);
        PUT_LIT(&o, "Content-Type: ");
        put_str(&o, f->mime);
        PUT_LIT(&o, "\r\nContent-Length: ");
        put_u64(&o, len);
        PUT_LIT(&o, "\r\n");
        put_coding(&o, coding);
        put_validators(&o, f);
        put_file_policy(&o, x, vary);
        PUT_LIT(&o, "Accept-Ranges: bytes\r\n");
        if (nranges)
            put_content_range(&o, &ranges[0], f->size);
        put_connection(&o, keep_alive, req->version_minor);
        plan_head(r, buf, &o);
        if (head || len == 0)
            return;
        r->body_len = len;
        /* A named --method means every body goes through zc_transfer with it
         * (what the benchmark table compares); auto takes the fast path. */
        if (len <= ZC_SMALL_BODY && x->small_from_cache) {
            const char *cached;
            int ret = zc_file_cache_body(x->fs->cache, f, &cached);

            if (ret == 0)
                r->seg[r->nseg++] = (struct zc_seg){ .p = cached + off, .len = len };
            else if (ret == -ESTALE)
                *retry = true;
            else if (!(body = body_area(r)))
                r->seg[r->nseg++] = (struct zc_seg){ .len = len, .off = (off_t)off };
            else if (!read_small_body(r, x, entry, body, (off_t)off, (size_t)len))
                *retry = true;
            return;
        }
        r->seg[r->nseg++] = (struct zc_seg){ .len = len, .off = (off_t)off };
        return;
    }

    /* multipart/byteranges: part headers go into the body area, the head
     * (which needs the total length) is written last. */
    body = body_area(r);
    if (!body) {
        r->file = NULL;
        zc_file_unref(f);
        plan_status_page(r, x, 503, false, head, req->version_minor, NULL, 0, buf);
        return;
    }
    {
        struct zc_seg parts[ZC_RESP_MAX_SEGS];
        struct out pb = { body, body + ZC_SMALL_BODY };
        unsigned np = 0;
        uint64_t total = 0;

        for (int i = 0; i < nranges; i++) {
            char *start = pb.p;

            if (i)
                PUT_LIT(&pb, "\r\n");
            PUT_LIT(&pb, "--");
            put_str(&pb, x->boundary);
            PUT_LIT(&pb, "\r\nContent-Type: ");
            put_str(&pb, f->mime);
            PUT_LIT(&pb, "\r\n");
            put_content_range(&pb, &ranges[i], f->size);
            PUT_LIT(&pb, "\r\n");
            parts[np++] = (struct zc_seg){ .p = start, .len = (uint64_t)(pb.p - start) };
            parts[np] = (struct zc_seg){ .len = ranges[i].last - ranges[i].first + 1,
                                         .off = (off_t)ranges[i].first };
            total += parts[np - 1].len + parts[np].len;
            np++;
        }
        {
            char *start = pb.p;

            PUT_LIT(&pb, "\r\n--");
            put_str(&pb, x->boundary);
            PUT_LIT(&pb, "--\r\n");
            parts[np++] = (struct zc_seg){ .p = start, .len = (uint64_t)(pb.p - start) };
            total += parts[np - 1].len;
        }
        r->status = 206;
        put_status(&o, x, 206);
        PUT_LIT(&o, "Content-Type: multipart/byteranges; boundary=");
        put_str(&o, x->boundary);
        PUT_LIT(&o, "\r\nContent-Length: ");
        put_u64(&o, total);
        PUT_LIT(&o, "\r\n");
        put_coding(&o, coding);
        put_validators(&o, f);
        put_file_policy(&o, x, vary);
        PUT_LIT(&o, "Accept-Ranges: bytes\r\n");
        put_connection(&o, keep_alive, req->version_minor);
        plan_head(r, buf, &o);
        memcpy(&r->seg[1], parts, np * sizeof(parts[0]));
        r->nseg = 1 + np;
        r->body_len = total;
    }
}

/* Plan the response with the cache entry @f (its reference is taken):
 * choose the variant Accept-Encoding asks for, if @f has any. */
static void plan_file(struct zc_resp *r, const struct zc_resp_ctx *x,
                      const struct zc_http_req *req, bool keep_alive, char *buf,
                      struct zc_file *f, bool *retry)
{
    static const char vary[] = "Vary: Accept-Encoding\r\n";
    int c;

    *retry = false;
    if (!f->variants || !x->opts) {
        plan_file_as(r, x, req, keep_alive, buf, f, f, NULL, false, retry);
        return;
    }
    /* Several Accept-Encoding lines: their union is not kept, and identity
     * is the answer that cannot be wrong for any of them. */
    c = req->accept_encoding_repeated ? ZC_CODING_IDENTITY :
        zc_coding_choose(req->accept_encoding.p, req->accept_encoding.len, f->variants,
                         &x->opts->precompressed);
    if (c == ZC_CODING_NOT_ACCEPTABLE) {
        zc_file_unref(f);
        plan_status_page(r, x, 406, keep_alive, req->method == ZC_HTTP_HEAD,
                         req->version_minor, vary, sizeof(vary) - 1, buf);
        return;
    }
    if (c == ZC_CODING_IDENTITY) {
        plan_file_as(r, x, req, keep_alive, buf, f, f, NULL, true, retry);
        return;
    }
    zc_file_ref(f->variant[c]);
    plan_file_as(r, x, req, keep_alive, buf, f->variant[c], f,
                 zc_coding_name((enum zc_coding)c), true, retry);
    zc_file_unref(f);
}

/* The path part of the request-target, as the parser found it: origin-form
 * as is, absolute-form from the first '/' after the authority, or "/" when
 * the URI has none ("http://host" and "http://host?q" mean "/", RFC 9112
 * 3.2.2). Asterisk- and authority-form have no path to serve. */
static bool target_path(const struct zc_http_req *req, const char **p, size_t *len)
{
    if (!req->path.p || req->path.len == 0 || req->path.p[0] != '/')
        return false;
    *p = req->path.p;
    *len = req->path.len;
    return true;
}

static void plan_redirect(struct zc_resp *r, const struct zc_resp_ctx *x,
                          const struct zc_http_req *req, bool keep_alive,
                          const char *path, size_t plen, char *buf)
{
    char extra[ZC_HTTP_DEFAULT_MAX_TARGET + 32];
    const char *q = memchr(path, '?', plen);
    size_t before = q ? (size_t)(q - path) : plen;
    struct out o = { extra, extra + sizeof(extra) };

    /* The target passed the parser's grammar (no CTLs), so echoing it in a
     * header cannot split the response. */
    /* Leading slashes collapse to one: "//host/" would send the client to
     * another host (a protocol-relative URL). */
    while (before > 1 && path[0] == '/' && path[1] == '/') {
        path++;
        plen--;
        before--;
    }
    PUT_LIT(&o, "Location: ");
    put(&o, path, before);
    PUT_LIT(&o, "/");
    if (q)
        put(&o, q, plen - before);
    PUT_LIT(&o, "\r\n");
    plan_status_page(r, x, 301, keep_alive, req->method == ZC_HTTP_HEAD,
                     req->version_minor, extra, (size_t)(o.p - extra), buf);
}

static void plan_listing(struct zc_resp *r, const struct zc_resp_ctx *x,
                         const struct zc_http_req *req, bool keep_alive,
                         char *html, size_t len, char *buf)
{
    struct out o = { buf, buf + ZC_HEAD_CAP - 2 };

    resp_reset(r, 200, keep_alive);
    r->heap = html;
    put_status(&o, x, 200);
    PUT_LIT(&o, "Content-Type: text/html; charset=utf-8\r\nContent-Length: ");
    put_u64(&o, len);
    PUT_LIT(&o, "\r\nCache-Control: no-cache\r\n");
    put_connection(&o, keep_alive, req->version_minor);
    plan_head(r, buf, &o);
    if (req->method != ZC_HTTP_HEAD && len) {
        r->seg[r->nseg++] = (struct zc_seg){ .p = html, .len = len };
        r->body_len = len;
    }
}

void zc_resp_build(struct zc_resp *r, const struct zc_resp_ctx *x,
                   const struct zc_http_req *req, bool keep_alive, char *buf)
{
    static const char allow[] = "Allow: GET, HEAD\r\n";
    static const char allow_put[] = "Allow: GET, HEAD, PUT\r\n";
    char decoded[ZC_HTTP_DEFAULT_MAX_TARGET + 1];
    bool head = req->method == ZC_HTTP_HEAD;
    struct zc_fs_result res;
    const char *path;
    size_t plen;
    ssize_t dlen;
    int status;

    /* A body we do not read would be parsed as the next request: whatever
     * the answer, the connection closes after it. */
    if (req->content_length > 0 || req->transfer_encoding.p)
        keep_alive = false;
    if (req->method == ZC_HTTP_OTHER) {
        plan_status_page(r, x, 501, keep_alive, false, req->version_minor,
                         NULL, 0, buf);
        return;
    }
    if (req->method != ZC_HTTP_GET && !head) {
        if (x->upload)
            plan_status_page(r, x, 405, keep_alive, false, req->version_minor,
                             allow_put, sizeof(allow_put) - 1, buf);
        else
            plan_status_page(r, x, 405, keep_alive, false, req->version_minor,
                             allow, sizeof(allow) - 1, buf);
        return;
    }
    /* A GET or HEAD with a body: refusing and closing is safer than
     * draining, since the body's end would be our only framing guess. */
    if (req->content_length > 0 || req->transfer_encoding.p) {
        plan_status_page(r, x, 400, false, head, req->version_minor, NULL, 0, buf);
        return;
    }
    if (!target_path(req, &path, &plen)) {
        plan_status_page(r, x, 400, keep_alive, head, req->version_minor, NULL, 0, buf);
        return;
    }
    dlen = zc_url_decode_path(path, plen, decoded, sizeof(decoded) - 1);
    if (dlen <= 0 || decoded[0] != '/' ||
        zc_url_path_check(decoded, (size_t)dlen) < 0) {
        plan_status_page(r, x, 400, keep_alive, head, req->version_minor, NULL, 0, buf);
        return;
    }
    decoded[dlen] = '\0';

    for (int attempt = 0; attempt < 2; attempt++) {
        bool retry;

        status = zc_fs_lookup(x->fs, decoded, (size_t)dlen, x->now_ms, &res);
        if (status == 301) {
            plan_redirect(r, x, req, keep_alive, path, plen, buf);
            return;
        }
        if (status != 200) {
            plan_status_page(r, x, status, keep_alive, head, req->version_minor,
                             NULL, 0, buf);
            return;
        }
        if (res.body) {
            plan_listing(r, x, req, keep_alive, res.body, res.body_len, buf);
            return;
        }
        plan_file(r, x, req, keep_alive, buf, res.file, &retry);
        if (!retry)
            return;
        zc_resp_release(r);
    }
    plan_status_page(r, x, 503, false, head, req->version_minor, NULL, 0, buf);
}

int zc_resp_request_path(const struct zc_http_req *req, char *out, size_t cap,
                         size_t *len)
{
    const char *path;
    size_t plen;
    ssize_t dlen;

    if (cap < 2 || !target_path(req, &path, &plen))
        return 400;
    dlen = zc_url_decode_path(path, plen, out, cap - 1);
    if (dlen <= 0 || out[0] != '/' || zc_url_path_check(out, (size_t)dlen) < 0)
        return 400;
    out[dlen] = '\0';
    *len = (size_t)dlen;
    return 0;
}

void zc_resp_upload(struct zc_resp *r, const struct zc_resp_ctx *x, int status,
                    const struct zc_http_req *req, bool keep_alive, char *buf)
{
    struct out o = { buf, buf + ZC_HEAD_CAP - 2 };

    if (status != 204) {
        plan_status_page(r, x, status, keep_alive, false, req->version_minor,
                         NULL, 0, buf);
        return;
    }
    /* 204 carries neither a body nor Content-Length (RFC 9110 8.6). */
    resp_reset(r, status, keep_alive);
    put_status(&o, x, status);
    put_connection(&o, keep_alive, req->version_minor);
    plan_head(r, buf, &o);
}
