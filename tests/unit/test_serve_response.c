/* test_serve_response.c - response building (src/serve/response.c) through
 * its narrow context (struct zc_resp_ctx): a table of requests, each with
 * the status, header lines and segment plan it must produce, against a
 * document root made here, with a fixed Date and multipart boundary. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/coding.h"
#include "serve/file_cache.h"
#include "serve/fs.h"
#include "serve/http_parse.h"
#include "serve/mime.h"
#include "serve/response.h"
#include "tap.h"
#include "testutil.h"

#define DATE "Thu, 01 Jan 1970 00:00:00 GMT"

static int root_fd;

static void put_file(const char *name, size_t size)
{
    char *buf = malloc(size ? size : 1);
    int fd = openat(root_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    t_fill_pattern(buf, size, 0);
    if (fd < 0 || write(fd, buf, size) != (ssize_t)size)
        t_ok(0, "write %s", name);
    close(fd);
    free(buf);
}

enum { NO_UPLOAD, UPLOAD };
enum { TRANSFER, CACHE };                /* small_from_cache */

static const struct resp_case {
    const char *name;
    const char *req;
    int upload, cache;
    int status;
    const char *kinds;                   /* one letter per segment: H head, M memory, F file */
    bool close;
    const char *has[4];                  /* header lines that must be there */
    const char *lacks;                   /* and one that must not */
} cases[] = {
    { "small file from the cache", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      200, "HM", false, { "Content-Length: 100\r\n", "Content-Type: text/plain",
                          "Date: " DATE "\r\n", "Accept-Ranges: bytes\r\n" }, "Connection:" },
    { "small file with a named method", "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, TRANSFER,
      200, "HF", false, { "Content-Length: 100\r\n" }, NULL },
    { "large file", "GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      200, "HF", false, { "Content-Length: 65536\r\n", "ETag: " }, NULL },
    { "HEAD", "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      200, "H", false, { "Content-Length: 65536\r\n" }, NULL },
    { "empty file", "GET /empty HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      200, "H", false, { "Content-Length: 0\r\n" }, NULL },
    { "HTTP/1.0 closes", "GET /a.txt HTTP/1.0\r\n\r\n", NO_UPLOAD, CACHE,
      200, "HM", true, { "Connection: close\r\n" }, NULL },
    { "HTTP/1.0 keep-alive says so", "GET /a.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      NO_UPLOAD, CACHE, 200, "HM", false, { "Connection: keep-alive\r\n" }, NULL },
    { "one small range of a large file: read", "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n", NO_UPLOAD, CACHE,
      206, "HM", false, { "Content-Range: bytes 10-19/65536\r\n", "Content-Length: 10\r\n" }, NULL },
    { "one large range", "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=100-\r\n\r\n",
      NO_UPLOAD, CACHE, 206, "HF", false, { "Content-Range: bytes 100-65535/65536\r\n" }, NULL },
    { "two ranges: multipart", "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-0,100-199\r\n\r\n",
      NO_UPLOAD, CACHE, 206, "HMFMFM", false,
      { "Content-Type: multipart/byteranges; boundary=BOUNDARY\r\n" }, "Content-Range" },
    { "range past the end", "GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=200-\r\n\r\n", NO_UPLOAD, CACHE,
      416, "HM", false, { "Content-Range: bytes */100\r\n" }, NULL },
    { "If-None-Match *", "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n", NO_UPLOAD, CACHE,
      304, "H", false, { "ETag: " }, "Content-Length" },
    { "If-Match other tag", "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"nope\"\r\n\r\n", NO_UPLOAD, CACHE,
      412, "HM", false, { "Content-Type: text/html\r\n" }, NULL },
    { "POST without --upload", "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", NO_UPLOAD, CACHE,
      405, "HM", false, { "Allow: GET, HEAD\r\n" }, NULL },
    { "POST with --upload", "POST /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", UPLOAD, CACHE,
      405, "HM", false, { "Allow: GET, HEAD, PUT\r\n" }, NULL },
    { "unknown method", "BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      501, "HM", false, { "Content-Length: " }, NULL },
    { "GET with a body closes", "GET /a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n", NO_UPLOAD, CACHE,
      400, "HM", true, { "Connection: close\r\n" }, NULL },
    { "missing", "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      404, "HM", false, { "Content-Type: text/html\r\n" }, NULL },
    { "dot-dot", "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      400, "HM", false, { NULL }, NULL },
    { "directory without slash", "GET /d?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      301, "HM", false, { "Location: /d/?q=1\r\n" }, NULL },
    { "protocol-relative redirect collapsed", "GET //d HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      301, "HM", false, { "Location: /d/\r\n" }, NULL },
    { "directory index", "GET /d/ HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      200, "HM", false, { "Content-Length: 7\r\n", "Content-Type: text/html" }, NULL },
    { "directory listing", "GET /e/ HTTP/1.1\r\nHost: x\r\n\r\n", NO_UPLOAD, CACHE,
      200, "HM", false, { "Cache-Control: no-cache\r\n" }, NULL },
};

static void check_plan(const struct resp_case *tc, const struct zc_resp *r, const char *buf)
{
    char kinds[ZC_RESP_MAX_SEGS + 1];
    char head[ZC_WBUF_SIZE + 1];
    uint64_t body = 0;

    for (unsigned i = 0; i < r->nseg; i++) {
        kinds[i] = i == 0 ? 'H' : r->seg[i].p ? 'M' : 'F';
        if (i)
            body += r->seg[i].len;
    }
    kinds[r->nseg] = '\0';
    t_is_int(r->status, tc->status, "%s: status", tc->name);
    t_ok(strcmp(kinds, tc->kinds) == 0, "%s: segments %s (got %s)", tc->name, tc->kinds, kinds);
    t_ok(r->close == tc->close, "%s: close %d", tc->name, tc->close);
    t_ok(r->nseg > 0 && r->seg[0].p == buf && r->seg[0].len == r->head_len,
         "%s: the head is the first segment", tc->name);
    memcpy(head, buf, r->head_len);
    head[r->head_len] = '\0';
    t_ok(r->head_len > 4 && strcmp(head + r->head_len - 4, "\r\n\r\n") == 0,
         "%s: head ends with an empty line", tc->name);
    for (int i = 0; i < 4 && tc->has[i]; i++)
        t_ok(strstr(head, tc->has[i]) != NULL, "%s: has %.*s", tc->name,
             (int)strcspn(tc->has[i], "\r"), tc->has[i]);
    if (tc->lacks)
        t_ok(strstr(head, tc->lacks) == NULL, "%s: no %s", tc->name, tc->lacks);
    t_ok(body == r->body_len, "%s: body segments add up to body_len", tc->name);
    if (strstr(head, "Content-Length: ") && tc->status != 304 &&
        strncmp(tc->req, "HEAD", 4) != 0) {
        unsigned long long cl = strtoull(strstr(head, "Content-Length: ") + 16, NULL, 10);

        t_ok(cl == body, "%s: Content-Length matches the body planned", tc->name);
    }
}

static void test_table(struct zc_fs *fs)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        const struct resp_case *tc = &cases[i];
        struct zc_resp_ctx ctx = { .fs = fs, .now_ms = 1000, .date = DATE,
                                   .boundary = "BOUNDARY", .upload = tc->upload == UPLOAD,
                                   .small_from_cache = tc->cache == CACHE };
        struct zc_resp r = { 0 };
        struct zc_http_req req;
        char *buf = malloc(ZC_WBUF_SIZE), *in = strdup(tc->req);
        int ret = zc_http_parse_request(in, strlen(in), NULL, &req);

        t_ok(ret > 0, "%s: request parses", tc->name);
        if (ret > 0) {
            zc_resp_build(&r, &ctx, &req, req.keep_alive, buf);
            check_plan(tc, &r, buf);
        }
        zc_resp_release(&r);
        free(r.xbuf);
        free(buf);
        free(in);
    }
}

static void test_body_bytes(struct zc_fs *fs)
{
    struct zc_resp_ctx ctx = { .fs = fs, .date = DATE, .boundary = "B",
                               .small_from_cache = true };
    static const char get[] = "GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=5-9\r\n\r\n";
    char expect[5], *buf = malloc(ZC_WBUF_SIZE), in[sizeof(get)];
    struct zc_resp r = { 0 };
    struct zc_http_req req;

    memcpy(in, get, sizeof(get));
    t_fill_pattern(expect, sizeof(expect), 5);
    t_ok(zc_http_parse_request(in, sizeof(get) - 1, NULL, &req) > 0, "range request parses");
    zc_resp_build(&r, &ctx, &req, true, buf);
    t_ok(r.nseg == 2 && r.seg[1].len == 5 && memcmp(r.seg[1].p, expect, 5) == 0,
         "a small range's bytes are the file's bytes 5-9");
    zc_resp_release(&r);

    /* Status pages and upload answers need no request path. */
    zc_resp_error(&r, &ctx, 408, false, false, buf);
    t_ok(r.status == 408 && r.close && strstr(buf, "HTTP/1.1 408 Request Timeout\r\n") == buf,
         "408 status line");
    zc_resp_upload(&r, &ctx, 204, &req, true, buf);
    t_ok(r.status == 204 && r.nseg == 1 && !memmem(buf, r.head_len, "Content-Length", 14),
         "204 has neither body nor Content-Length");
    zc_resp_upload(&r, &ctx, 201, &req, true, buf);
    t_ok(r.status == 201 && r.nseg == 2, "201 has a status page body");
    zc_resp_release(&r);
    free(r.xbuf);
    free(buf);
}

/* Build the response to @req_text with @ctx; return the head (static). */
static const char *head_of(const struct zc_resp_ctx *ctx, const char *req_text, int *status)
{
    static char head[ZC_WBUF_SIZE + 1];
    char *buf = malloc(ZC_WBUF_SIZE), *in = strdup(req_text);
    struct zc_resp r = { 0 };
    struct zc_http_req req;

    head[0] = '\0';
    *status = 0;
    if (zc_http_parse_request(in, strlen(in), NULL, &req) > 0) {
        zc_resp_build(&r, ctx, &req, req.keep_alive, buf);
        memcpy(head, buf, r.head_len);
        head[r.head_len] = '\0';
        *status = r.status;
    }
    zc_resp_release(&r);
    free(r.xbuf);
    free(buf);
    free(in);
    return head;
}

/* --cache-control / --max-age through zc_resp_ctx.opts: on 200, 206 and
 * 304 for files, Expires = the Date second + max-age; not on status pages
 * or listings. */
static void test_caching_headers(struct zc_fs *fs)
{
    struct zc_resp_opts opts = { .cache_control = "max-age=60", .expires_s = 60 };
    struct zc_resp_ctx ctx = { .fs = fs, .now_ms = 1000, .date = DATE, .date_sec = 0,
                               .boundary = "B", .small_from_cache = true, .opts = &opts };
    static const struct {
        const char *req;
        int status;
        bool cached;                        /* carries the caching headers */
    } reqs[] = {
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", 200, true },
        { "HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n", 200, true },
        { "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2\r\n\r\n", 206, true },
        { "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=1-2,5-6\r\n\r\n", 206, true },
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\nIf-None-Match: *\r\n\r\n", 304, true },
        { "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", 404, false },
        { "GET /a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=900-\r\n\r\n", 416, false },
        { "GET /e/ HTTP/1.1\r\nHost: x\r\n\r\n", 200, false },
    };

    for (size_t i = 0; i < T_ARRAY_SIZE(reqs); i++) {
        int status;
        const char *head = head_of(&ctx, reqs[i].req, &status);
        bool cc = strstr(head, "Cache-Control: max-age=60\r\n") != NULL;
        bool ex = strstr(head, "Expires: Thu, 01 Jan 1970 00:01:00 GMT\r\n") != NULL;

        t_is_int(status, reqs[i].status, "caching %zu: status", i);
        t_ok(cc == reqs[i].cached && ex == reqs[i].cached,
             "caching %zu (%d): Cache-Control and Expires %s", i, status,
             reqs[i].cached ? "present" : "absent");
    }
    opts = (struct zc_resp_opts){ .cache_control = "no-store", .expires_s = -1 };
    {
        int status;
        const char *head = head_of(&ctx, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", &status);

        t_ok(strstr(head, "Cache-Control: no-store\r\n") && !strstr(head, "Expires:"),
             "--cache-control alone: no Expires");
    }
    ctx.opts = NULL;
    {
        int status;
        const char *head = head_of(&ctx, "GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n", &status);

        t_ok(!strstr(head, "Cache-Control") && !strstr(head, "Expires"), "no opts: neither");
    }
}

/* --precompressed through the context: the variant beside the file,
 * Content-Encoding and Vary, the 406 when identity is excluded. */
static void test_precompressed(int dir_fd)
{
    struct zc_resp_opts opts = { .expires_s = -1 };
    struct zc_fs fs = { .root_fd = dir_fd, .index = "index.html",
                        .precompressed = &opts.precompressed,
                        .cache = zc_file_cache_new(dir_fd, 16, 1000) };
    struct zc_resp_ctx ctx = { .fs = &fs, .now_ms = 1000, .date = DATE, .boundary = "B",
                               .small_from_cache = true, .opts = &opts };
    const char *head;
    int status;

    t_is_int(zc_coding_list_parse("br,gzip", &opts.precompressed), 0, "--precompressed br,gzip");
    put_file("v.txt.gz", 30);               /* after v.txt: not stale */
    head = head_of(&ctx, "GET /v.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n",
                   &status);
    t_ok(status == 200 && strstr(head, "Content-Encoding: gzip\r\n") &&
         strstr(head, "Content-Length: 30\r\n") && strstr(head, "Vary: Accept-Encoding\r\n"),
         "gzip asked: the .gz variant with Content-Encoding and Vary");
    head = head_of(&ctx, "GET /v.txt HTTP/1.1\r\nHost: x\r\n\r\n", &status);
    t_ok(status == 200 && !strstr(head, "Content-Encoding") &&
         strstr(head, "Content-Length: 100\r\n") && strstr(head, "Vary: Accept-Encoding\r\n"),
         "not asked: identity, still Vary");
    head = head_of(&ctx, "GET /v.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, identity;q=0\r\n\r\n",
                   &status);
    t_ok(status == 406 && strstr(head, "Vary: Accept-Encoding\r\n"),
         "identity excluded, no br variant: 406 with Vary");
    zc_file_cache_free(fs.cache);
}

int main(void)
{
    struct zc_mime *mime = NULL;
    struct zc_fs fs;
    char path[4096];

    snprintf(path, sizeof(path), "%s/root", t_tmpdir());
    if (mkdir(path, 0755) < 0 || (root_fd = open(path, O_PATH | O_DIRECTORY)) < 0)
        return 1;
    put_file("a.txt", 100);
    put_file("big.bin", 65536);
    put_file("empty", 0);
    mkdirat(root_fd, "d", 0755);
    mkdirat(root_fd, "e", 0755);
    {
        int fd = openat(root_fd, "d/index.html", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

        t_ok(fd >= 0 && write(fd, "<html>\n", 7) == 7, "index.html");
        close(fd);
    }
    t_is_int(zc_mime_load(&mime, NULL), 0, "built-in MIME types");
    fs = (struct zc_fs){ .root_fd = root_fd, .index = "index.html", .listing = true,
                         .mime = mime, .cache = zc_file_cache_new(root_fd, 16, 1000) };
    test_table(&fs);
    test_body_bytes(&fs);
    test_caching_headers(&fs);
    put_file("v.txt", 100);
    test_precompressed(root_fd);
    zc_file_cache_free(fs.cache);
    zc_mime_free(mime);
    close(root_fd);
    return t_done();
}
