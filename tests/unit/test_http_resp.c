/* test_http_resp.c - the clients' response-head parser and chunked decoder,
 * table-driven, every input ending at a PROT_NONE guard page. */
#include <stdint.h>
#include <string.h>

#include "client/http_resp.h"
#include "tap.h"
#include "testutil.h"

/* Table rows that expect a refusal leave the result columns out. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define IN(lit) (lit), sizeof(lit) - 1  /* keeps embedded NULs */

static const struct head_case {
    const char *name;
    const char *in;
    size_t in_len;
    int want;                   /* head length, ZC_RESP_PARTIAL or ZC_RESP_BAD */
    int status;
    int64_t content_length;
    bool chunked, conn_close;
    const char *location;       /* NULL: absent */
    const char *reason;
} heads[] = {
    { "200 with length", IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), 38, 200, 5,
      false, false, NULL, "OK" },
    { "body bytes after the head are not consumed",
      IN("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), 38, 200, 5, false, false,
      NULL, "OK" },
    { "HTTP/1.0 closes by default", IN("HTTP/1.0 200 OK\r\n\r\n"), 19, 200, -1, false,
      true, NULL, "OK" },
    { "HTTP/1.0 keep-alive", IN("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n"), 43,
      200, -1, false, false, NULL, "OK" },
    { "Connection close in a list", IN("HTTP/1.1 200 OK\r\nConnection: foo, Close\r\n\r\n"),
      43, 200, -1, false, true, NULL, "OK" },
    { "chunked", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"), 47, 200, -1,
      true, false, NULL, "OK" },
    { "empty reason", IN("HTTP/1.1 204 \r\n\r\n"), 17, 204, -1, false, false, NULL, "" },
    { "no reason and no space", IN("HTTP/1.1 204\r\n\r\n"), 16, 204, -1, false, false,
      NULL, "" },
    { "reason with spaces", IN("HTTP/1.1 404 Not Found\r\n\r\n"), 26, 404, -1, false,
      false, NULL, "Not Found" },
    { "location, OWS stripped", IN("HTTP/1.1 302 Found\r\nLocation: \t/x?y \r\n\r\n"), 40,
      302, -1, false, false, "/x?y", "Found" },
    { "identical duplicate Content-Length",
      IN("HTTP/1.1 200 OK\r\nContent-Length: 7\r\ncontent-length: 7\r\n\r\n"), 57, 200, 7,
      false, false, NULL, "OK" },
    { "unknown fields ignored", IN("HTTP/1.1 200 OK\r\nX-A:\r\nServer: a b\r\n\r\n"), 38,
      200, -1, false, false, NULL, "OK" },
    { "1xx parsed as such", IN("HTTP/1.1 100 Continue\r\n\r\n"), 25, 100, -1, false,
      false, NULL, "Continue" },
    { "higher minor version", IN("HTTP/1.9 200 OK\r\n\r\n"), 19, 200, -1, false, false,
      NULL, "OK" },
    { "large Content-Length", IN("HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387903\r\n\r\n"),
      56, 200, INT64_C(4611686018427387903), false, false, NULL, "OK" },

    { "empty input", IN(""), ZC_RESP_PARTIAL },
    { "status line only", IN("HTTP/1.1 200 OK\r\n"), ZC_RESP_PARTIAL },
    { "prefix of the version", IN("HTT"), ZC_RESP_PARTIAL },
    { "head without blank line", IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"),
      ZC_RESP_PARTIAL },
    { "CR awaiting its LF", IN("HTTP/1.1 200 OK\r\n\r"), ZC_RESP_PARTIAL },

    { "not HTTP", IN("SSH-2.0-OpenSSH\r\n\r\n"), ZC_RESP_BAD },
    { "wrong start seen early", IN("HTTX"), ZC_RESP_BAD },
    { "HTTP/2 status line", IN("HTTP/2.0 200 OK\r\n\r\n"), ZC_RESP_BAD },
    { "two-digit status", IN("HTTP/1.1 20 OK\r\n\r\n"), ZC_RESP_BAD },
    { "status with a letter", IN("HTTP/1.1 2x0 OK\r\n\r\n"), ZC_RESP_BAD },
    { "status below 100", IN("HTTP/1.1 099 X\r\n\r\n"), ZC_RESP_BAD },
    { "four-digit status", IN("HTTP/1.1 2000 OK\r\n\r\n"), ZC_RESP_BAD },
    { "bare LF after status", IN("HTTP/1.1 200 OK\n\r\n"), ZC_RESP_BAD },
    { "bare LF ends the head", IN("HTTP/1.1 200 OK\r\nA: b\r\n\n"), ZC_RESP_BAD },
    { "bare CR in a field", IN("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"), ZC_RESP_BAD },
    { "NUL in a value", IN("HTTP/1.1 200 OK\r\nA: b\0c\r\n\r\n"), ZC_RESP_BAD },
    { "NUL in the reason", IN("HTTP/1.1 200 O\0K\r\n\r\n"), ZC_RESP_BAD },
    { "space before colon", IN("HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n"),
      ZC_RESP_BAD },
    { "no colon", IN("HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\n"), ZC_RESP_BAD },
    { "empty field name", IN("HTTP/1.1 200 OK\r\n: 5\r\n\r\n"), ZC_RESP_BAD },
    { "obs-fold", IN("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n"), ZC_RESP_BAD },
    { "negative length", IN("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), ZC_RESP_BAD },
    { "length with sign", IN("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n"), ZC_RESP_BAD },
    { "length list", IN("HTTP/1.1 200 OK\r\nContent-Length: 1, 1\r\n\r\n"), ZC_RESP_BAD },
    { "empty length", IN("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n"), ZC_RESP_BAD },
    { "length overflow", IN("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n"),
      ZC_RESP_BAD },
    { "length above 2^62", IN("HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387905\r\n\r\n"),
      ZC_RESP_BAD },
    { "differing duplicate lengths",
      IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), ZC_RESP_BAD },
    { "length and chunked",
      IN("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
      ZC_RESP_BAD },
    { "gzip coding", IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
      ZC_RESP_BAD },
    { "duplicate Transfer-Encoding",
      IN("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
      ZC_RESP_BAD },
    { "duplicate Location", IN("HTTP/1.1 302 F\r\nLocation: /a\r\nLocation: /b\r\n\r\n"),
      ZC_RESP_BAD },
    { "empty Location", IN("HTTP/1.1 302 F\r\nLocation: \r\n\r\n"), ZC_RESP_BAD },
    { "duplicate ETag", IN("HTTP/1.1 200 OK\r\nETag: \"a\"\r\nETag: \"b\"\r\n\r\n"),
      ZC_RESP_BAD },
    { "duplicate Last-Modified",
      IN("HTTP/1.1 200 OK\r\nLast-Modified: x\r\nLast-Modified: x\r\n\r\n"), ZC_RESP_BAD },
    { "DEL in a value", IN("HTTP/1.1 200 OK\r\nA: \x7f\r\n\r\n"), ZC_RESP_BAD },
    { "chunked in HTTP/1.0",
      IN("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), ZC_RESP_BAD },
};

static const struct range_case {
    const char *name;
    const char *value;
    bool ok, unsatisfied;
    int64_t first, last, complete;
} ranges[] = {
    { "full form", "bytes 10-19/100", true, false, 10, 19, 100 },
    { "unknown length", "bytes 0-0/*", true, false, 0, 0, -1 },
    { "unsatisfied", "bytes */42", true, true, -1, -1, 42 },
    { "last before first", "bytes 5-4/10", false },
    { "last beyond length", "bytes 0-10/10", false },
    { "other unit", "items 0-1/2", false },
    { "missing slash", "bytes 0-1", false },
    { "both stars", "bytes */*", false },
    { "trailing junk", "bytes 0-1/2x", false },
    { "no numbers", "bytes -/2", false },
};

/* Copy @len bytes to end right at the guard page, so any over-read faults. */
static char *at_guard(char *guard, const char *in, size_t len)
{
    char *p = guard - len;

    memcpy(p, in, len);
    return p;
}

static void test_heads(char *guard)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(heads); i++) {
        const struct head_case *tc = &heads[i];
        const char *buf = at_guard(guard, tc->in, tc->in_len);
        struct zc_http_resp r;
        int ret = zc_http_parse_response(buf, tc->in_len, &r);

        t_is_int(ret, tc->want, "%s: return value", tc->name);
        if (tc->want <= 0 || ret != tc->want)
            continue;
        t_is_int(r.status, tc->status, "%s: status", tc->name);
        t_is_int(r.content_length, tc->content_length, "%s: content length", tc->name);
        t_is_int(r.chunked, tc->chunked, "%s: chunked", tc->name);
        t_is_int(r.conn_close, tc->conn_close, "%s: connection close", tc->name);
        t_is_mem(r.reason.p, r.reason.len, tc->reason, "%s: reason", tc->name);
        if (tc->location)
            t_is_mem(r.location.p, r.location.len, tc->location, "%s: location", tc->name);
        else
            t_ok(r.location.p == NULL, "%s: no location", tc->name);
    }
}

/* Every proper prefix of a valid head is PARTIAL, never BAD. */
static void test_prefixes(char *guard)
{
    static const char head[] = "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 1-2/3\r\n"
                               "Content-Length: 2\r\nConnection: close\r\n\r\n";
    size_t len = sizeof(head) - 1;
    unsigned wrong = 0;

    for (size_t n = 0; n < len; n++) {
        struct zc_http_resp r;

        if (zc_http_parse_response(at_guard(guard, head, n), n, &r) != ZC_RESP_PARTIAL)
            wrong++;
    }
    t_is_int(wrong, 0, "every proper prefix of a head is partial");
}

static void test_ranges(char *guard)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(ranges); i++) {
        const struct range_case *tc = &ranges[i];
        char in[256];
        int n = snprintf(in, sizeof(in), "HTTP/1.1 206 P\r\nContent-Range: %s\r\n\r\n",
                         tc->value);
        struct zc_http_resp r;
        int ret = zc_http_parse_response(at_guard(guard, in, (size_t)n), (size_t)n, &r);

        t_is_int(ret, tc->ok ? n : ZC_RESP_BAD, "range %s: return value", tc->name);
        if (!tc->ok || ret != n)
            continue;
        t_ok(r.range.present, "range %s: present", tc->name);
        t_is_int(r.range.unsatisfied, tc->unsatisfied, "range %s: unsatisfied", tc->name);
        t_is_int(r.range.first, tc->first, "range %s: first", tc->name);
        t_is_int(r.range.last, tc->last, "range %s: last", tc->name);
        t_is_int(r.range.complete, tc->complete, "range %s: complete", tc->name);
    }
}

static void test_validators(char *guard)
{
    static const char in[] = "HTTP/1.1 200 OK\r\nETag:  W/\"x-1\" \r\n"
                             "last-modified: Sun, 22 Nov 2026 01:00:00 GMT\r\n\r\n";
    struct zc_http_resp r;
    int ret = zc_http_parse_response(at_guard(guard, in, sizeof(in) - 1), sizeof(in) - 1, &r);

    t_is_int(ret, (int)sizeof(in) - 1, "validators: parsed");
    t_is_mem(r.etag.p, r.etag.len, "W/\"x-1\"", "validators: ETag, OWS stripped");
    t_is_mem(r.last_modified.p, r.last_modified.len, "Sun, 22 Nov 2026 01:00:00 GMT",
             "validators: Last-Modified");
}

static void test_field_limit(char *guard)
{
    static char in[8192];
    size_t n = 0;
    struct zc_http_resp r;

    n += (size_t)snprintf(in + n, sizeof(in) - n, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < ZC_RESP_MAX_FIELDS + 1; i++)
        n += (size_t)snprintf(in + n, sizeof(in) - n, "X: %d\r\n", i);
    n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\n");
    t_is_int(zc_http_parse_response(at_guard(guard, in, n), n, &r),
             ZC_RESP_TOO_MANY_FIELDS, "more than %d fields is refused as too many",
             ZC_RESP_MAX_FIELDS);
}

static const struct chunk_case {
    const char *name;
    const char *in;
    size_t in_len;
    bool ok;                    /* decodes to done with exactly @body */
    const char *body;
    size_t rest;                /* bytes after the body left unconsumed */
} chunks[] = {
    { "one chunk", IN("5\r\nhello\r\n0\r\n\r\n"), true, "hello", 0 },
    { "two chunks, hex sizes", IN("3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n"), true,
      "abc0123456789", 0 },
    { "upper and lower hex", IN("a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n"), true,
      "01234567890123456789a", 0 },
    { "leading zeros", IN("0003\r\nabc\r\n000\r\n\r\n"), true, "abc", 0 },
    { "extension skipped", IN("3;name=\"v\"\r\nabc\r\n0;x\r\n\r\n"), true, "abc", 0 },
    { "BWS before extension", IN("3 ;a\r\nabc\r\n0\r\n\r\n"), true, "abc", 0 },
    { "trailers skipped", IN("1\r\nx\r\n0\r\nA: b\r\nC: d\r\n\r\n"), true, "x", 0 },
    { "empty body", IN("0\r\n\r\n"), true, "", 0 },
    { "bytes after the body stay", IN("1\r\nx\r\n0\r\n\r\nHTTP/1.1"), true, "x", 8 },
    { "data holding CRLF", IN("4\r\n\r\n\r\n\r\n0\r\n\r\n"), true, "\r\n\r\n", 0 },
    { "data holding NUL", IN("2\r\n\0\0\r\n0\r\n\r\n"), true, "", 0 },

    { "no size", IN("\r\nabc\r\n0\r\n\r\n"), false },
    { "non-hex size", IN("g\r\n"), false },
    { "negative size", IN("-1\r\n"), false },
    { "size overflow", IN("1000000000000000\r\n"), false },
    { "bare LF after size", IN("1\nx\r\n0\r\n\r\n"), false },
    { "missing CRLF after data", IN("1\r\nxy\r\n0\r\n\r\n"), false },
    { "bare LF after data", IN("1\r\nx\n0\r\n\r\n"), false },
    { "junk in size line", IN("1x\r\nx\r\n0\r\n\r\n"), false },
    { "control byte in extension", IN("1;\x01\r\nx\r\n0\r\n\r\n"), false },
    { "obs-fold trailer", IN("0\r\nA: b\r\n c\r\n\r\n"), false },
    { "trailer without LF", IN("0\r\nA: b\r\r\n"), false },
    { "final CR without LF", IN("0\r\n\rX"), false },
};

/* Feed @len bytes in pieces of @piece, moving data out of the buffer as a
 * caller would. Return: 1 done, 0 not done, -1 bad; body and rest out. */
static int decode(const char *in, size_t len, size_t piece, char *body, size_t *body_len,
                  size_t *rest)
{
    struct zc_chunked d = { 0 };
    size_t pos = 0;

    *body_len = 0;
    while (pos < len && !zc_chunked_done(&d)) {
        size_t avail = len - pos < piece ? len - pos : piece;
        ssize_t n = zc_chunked_parse(&d, in + pos, avail);

        if (n < 0)
            return -1;
        pos += (size_t)n;
        avail -= (size_t)n;
        if (d.data_left && avail) {
            size_t m = d.data_left < avail ? (size_t)d.data_left : avail;

            memcpy(body + *body_len, in + pos, m);
            *body_len += m;
            zc_chunked_consumed_data(&d, m);
            pos += m;
        } else if (n == 0 && !d.data_left && !zc_chunked_done(&d)) {
            return -1;              /* no progress: would loop forever */
        }
    }
    *rest = len - pos;
    return zc_chunked_done(&d) ? 1 : 0;
}

static void test_chunks(char *guard)
{
    static const size_t pieces[] = { 1, 2, 3, 7, 4096 };

    for (size_t i = 0; i < T_ARRAY_SIZE(chunks); i++) {
        const struct chunk_case *tc = &chunks[i];
        const char *in = at_guard(guard, tc->in, tc->in_len);

        for (size_t p = 0; p < T_ARRAY_SIZE(pieces); p++) {
            char body[256];
            size_t body_len, rest;
            int ret = decode(in, tc->in_len, pieces[p], body, &body_len, &rest);

            if (!tc->ok) {
                t_is_int(ret, -1, "chunked %s (pieces of %zu): refused", tc->name,
                         pieces[p]);
                continue;
            }
            t_is_int(ret, 1, "chunked %s (pieces of %zu): done", tc->name, pieces[p]);
            if (strcmp(tc->name, "data holding NUL") == 0)
                t_ok(body_len == 2 && !body[0] && !body[1], "chunked %s: body", tc->name);
            else
                t_is_mem(body, body_len, tc->body, "chunked %s (pieces of %zu): body",
                         tc->name, pieces[p]);
            t_is_int(rest, tc->rest, "chunked %s (pieces of %zu): rest", tc->name,
                     pieces[p]);
        }
    }
}

/* A decoder never finishes on a truncated body. */
static void test_chunk_truncation(char *guard)
{
    static const char in[] = "5\r\nhello\r\n3;e\r\nabc\r\n0\r\nT: v\r\n\r\n";
    size_t len = sizeof(in) - 1;
    unsigned wrong = 0;

    for (size_t n = 0; n < len; n++) {
        char body[64];
        size_t body_len, rest;

        if (decode(at_guard(guard, in, n), n, 4096, body, &body_len, &rest) != 0)
            wrong++;
    }
    t_is_int(wrong, 0, "no truncation of a chunked body decodes as complete");
}

int main(void)
{
    char *guard = t_guard_page();

    test_heads(guard);
    test_prefixes(guard);
    test_ranges(guard);
    test_validators(guard);
    test_field_limit(guard);
    test_chunks(guard);
    test_chunk_truncation(guard);
    return t_done();
}
