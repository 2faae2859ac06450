/* put.c - `zcopy put FILE URL`: upload with PUT, the body sent by sendfile
 * (zc_transfer file -> socket) right behind the request head. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "client/progress.h"
#include "client/url.h"
#include "commands.h"

#define DEFAULT_TIMEOUT_S 30
#define STEP ((size_t)4 << 20)          /* bytes per zc_transfer: progress ticks */
/* Bodies this large first ask with Expect: 100-continue (as curl does), so a
 * refusal (413, 403...) costs no upload; a server that does not answer within
 * EXPECT_WAIT_MS gets the body anyway. */
#define EXPECT_MIN ((uint64_t)1 << 20)
#define EXPECT_WAIT_MS 1000

struct put_opts {
    const char *file, *url;
    bool stats, quiet;
    enum zc_method method;
    int timeout_ms;
};

static void usage(FILE *out)
{
    fprintf(out,
"usage: zcopy put FILE URL [--stats] [-q] [--method NAME] [--timeout SEC]\n"
"\n"
"Upload FILE to URL (http:// only) with an HTTP/1.1 PUT and Content-Length.\n"
"The body goes from the page cache to the socket by sendfile, with no copy\n"
"through user space. Bodies of 1 MiB or more first ask with Expect:\n"
"100-continue, so a refusal costs no upload (a server silent for 1 s gets the\n"
"body anyway). The server's status line is printed on stdout.\n"
"\n"
"  -q, --quiet        print nothing but errors\n"
"      --stats        print bytes, syscalls and the method(s) used to stderr\n"
"      --method NAME  libzcopy method for the body (default auto: sendfile)\n"
"      --timeout SEC  connect and per-call timeout (default %d)\n"
"\n"
"A progress bar with rate and ETA is drawn when stderr is a terminal.\n"
"\n"
"exit status: 0 the server answered 2xx; 1 usage error; 2 network error;\n"
"3 the server answered another status; 4 FILE cannot be read;\n"
"5 malformed response or unsupported scheme; 130 interrupted.\n",
            DEFAULT_TIMEOUT_S);
}

static int parse_args(int argc, char **argv, struct put_opts *o)
{
    enum { OPT_STATS = 256, OPT_METHOD, OPT_TIMEOUT };
    static const struct option longopts[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "stats", no_argument, NULL, OPT_STATS },
        { "method", required_argument, NULL, OPT_METHOD },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct put_opts){ .method = ZC_AUTO, .timeout_ms = DEFAULT_TIMEOUT_S * 1000 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'q': o->quiet = true; break;
        case OPT_STATS: o->stats = true; break;
        case OPT_METHOD:
            if (zc_method_parse(optarg, &o->method) < 0) {
                fprintf(stderr, "zcopy put: unknown method '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_TIMEOUT:
            if (zc_parse_timeout_opt(optarg, &o->timeout_ms) < 0) {
                fprintf(stderr, "zcopy put: bad --timeout '%s'\n", optarg);
                return -1;
            }
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (argc - optind != 2) {
        usage(stderr);
        return -1;
    }
    o->file = argv[optind];
    o->url = argv[optind + 1];
    return 0;
}

static int send_head(int sock, const struct zc_url *u, uint64_t size, bool expect)
{
    char target[ZC_URL_PATH_MAX * 3], host[ZC_URL_HOST_MAX + 16];
    char req[sizeof(target) + sizeof(host) + 256];
    int n;

    if (zc_url_request_target(u, target, sizeof(target)) < 0 ||
        zc_url_host_header(u, host, sizeof(host)) < 0)
        return -ENAMETOOLONG;
    n = snprintf(req, sizeof(req),
                 "PUT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                 "Content-Type: application/octet-stream\r\n"
                 "Content-Length: %" PRIu64 "\r\n%sConnection: close\r\n\r\n",
                 target, host, ZC_USER_AGENT, size,
                 expect ? "Expect: 100-continue\r\n" : "");
    if (n < 0 || (size_t)n >= sizeof(req))
        return -ENAMETOOLONG;
    /* MSG_MORE: the head leaves in the same segment as the first body bytes
     * (not when it must go alone and wait for 100 Continue). */
    return zc_net_send_all(sock, req, (size_t)n, size && !expect ? MSG_MORE : 0);
}

/* After "Expect: 100-continue", wait for the server's word.
 * Return: 1 to send the body (an interim 1xx, or no answer in time), 0 when
 * a final response is already in *resp (the body must not be sent), or -errno. */
static int await_continue(int sock, char *head, size_t cap, struct zc_http_resp *resp)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    size_t have;
    int ret;

    do {
        zc_client_syscalls++;
        ret = poll(&pfd, 1, EXPECT_WAIT_MS);
    } while (ret < 0 && errno == EINTR && !zc_interrupted);
    if (ret < 0)
        return -errno;
    if (ret == 0)
        return 1;                       /* a server that ignores Expect */
    ret = zc_net_read_head(sock, head, cap, &have, resp, true);
    if (ret < 0)
        return ret;
    return resp->status < 200 ? 1 : 0;
}

/* Send the file; returns 0, or the -errno that stopped it (0 bytes more
 * from the file, i.e. it shrank, is -EIO). */
static int send_body(zc_ctx *ctx, int sock, int fd, uint64_t size,
                     enum zc_method method, struct zc_progress *pr)
{
    off_t off = 0;

    while ((uint64_t)off < size) {
        uint64_t left = size - (uint64_t)off;
        ssize_t n = zc_transfer(ctx, sock, fd, &off, left < STEP ? (size_t)left : STEP,
                                method);

        if (n <= 0)
            return n < 0 ? (int)n : -EIO;
        zc_progress_update(pr, (uint64_t)off);
    }
    return 0;
}

/* The exit code for the final response in *resp (printed unless quiet). */
static int report_status(const struct put_opts *o, const struct zc_http_resp *resp,
                         int body_err)
{
    if (!o->quiet)
        printf("%d %.*s\n", resp->status, (int)resp->reason.len, resp->reason.p);
    if (resp->status < 200 || resp->status > 299) {
        fprintf(stderr, "zcopy put: server answered %d %.*s\n", resp->status,
                (int)resp->reason.len, resp->reason.p);
        return ZC_EXIT_HTTP;
    }
    if (body_err) {
        fprintf(stderr, "zcopy put: sending the body: %s\n", strerror(-body_err));
        return ZC_EXIT_NETWORK;
    }
    return ZC_EXIT_OK;
}

/* Send head and body, then read the answer. */
static int exchange(const struct put_opts *o, zc_ctx *ctx, int sock, int fd,
                    const struct zc_url *url, uint64_t size)
{
    bool expect = size >= EXPECT_MIN, answered = false;
    struct zc_http_resp resp = { 0 };
    struct zc_progress pr;
    char head[ZC_HEAD_MAX];
    size_t have;
    int ret, body_err;

    zc_progress_start(&pr, zc_progress_enabled(o->quiet), size, 0);
    body_err = send_head(sock, url, size, expect);
    if (!body_err && expect) {
        ret = await_continue(sock, head, sizeof(head), &resp);
        if (ret < 0)
            body_err = ret;
        answered = ret == 0;
    }
    if (!body_err && !answered)
        body_err = send_body(ctx, sock, fd, size, o->method, &pr);
    zc_progress_finish(&pr);
    if (zc_interrupted) {
        fprintf(stderr, "zcopy put: interrupted\n");
        return ZC_EXIT_INTERRUPTED;
    }
    if (body_err == -EIO) {
        fprintf(stderr, "zcopy put: %s shrank while it was being sent\n", o->file);
        return ZC_EXIT_LOCAL;
    }
    if (answered)
        return report_status(o, &resp, 0);

    /* Even when the body could not all go (the server may refuse early and
     * close, e.g. 413), its answer says more than our EPIPE. */
    ret = zc_net_read_head(sock, head, sizeof(head), &have, &resp, false);
    if (ret >= 0)
        return report_status(o, &resp, body_err);
    if (zc_interrupted) {
        fprintf(stderr, "zcopy put: interrupted\n");
        return ZC_EXIT_INTERRUPTED;
    }
    fprintf(stderr, "zcopy put: %s: %s\n",
            body_err ? "sending the body" : "reading the response",
            strerror(-(body_err ? body_err : ret)));
    return ret == -EPROTO && !body_err ? ZC_EXIT_PROTOCOL : ZC_EXIT_NETWORK;
}

static int upload(const struct put_opts *o, zc_ctx *ctx, int fd, uint64_t size)
{
    struct zc_url url;
    char err[256];
    int sock, ret;

    ret = zc_url_parse(o->url, &url);
    if (ret < 0) {
        fprintf(stderr, "zcopy put: bad URL '%s': %s\n", o->url,
                ret == -EPROTONOSUPPORT ? "only http:// is supported" : "malformed");
        return ret == -EPROTONOSUPPORT ? ZC_EXIT_PROTOCOL : ZC_EXIT_USAGE;
    }
    sock = zc_net_connect(url.host, url.port, o->timeout_ms, err, sizeof(err));
    if (sock < 0) {
        if (zc_interrupted)
            return ZC_EXIT_INTERRUPTED;
        fprintf(stderr, "zcopy put: %s\n", err);
        return ZC_EXIT_NETWORK;
    }
    zc_interrupt_watch(sock);
    ret = exchange(o, ctx, sock, fd, &url, size);
    zc_interrupt_watch(-1);
    close(sock);
    return ret;
}

int cmd_put(int argc, char **argv)
{
    struct put_opts o;
    struct stat st;
    zc_ctx *ctx;
    int fd, ret;

    ret = parse_args(argc, argv, &o);
    if (ret)
        return ret > 0 ? ZC_EXIT_OK : ZC_EXIT_USAGE;
    /* O_NONBLOCK: opening a FIFO must not hang before it is refused below. */
    fd = open(o.file, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "zcopy put: %s: %s\n", o.file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return ZC_EXIT_LOCAL;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "zcopy put: %s: not a regular file\n", o.file);
        close(fd);
        return ZC_EXIT_LOCAL;
    }
    zc_client_syscalls += 2;
    ctx = zc_ctx_new();
    if (!ctx) {
        fprintf(stderr, "zcopy put: %s\n", strerror(errno));
        close(fd);
        return ZC_EXIT_LOCAL;
    }
    zc_interrupt_install();
    zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
    ret = upload(&o, ctx, fd, (uint64_t)st.st_size);
    if (o.stats)
        zc_report_stats(stderr, "put", ctx);
    zc_ctx_free(ctx);
    close(fd);
    return ret;
}
