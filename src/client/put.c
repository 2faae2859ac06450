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
    int max_time_ms;                /* --max-time, 0: none */
};

static void usage(FILE *out)
{
    fprintf(out,
"usage: zcopy put FILE URL [--stats] [-q] [--method NAME] [--timeout SEC]\n"
"                          [--max-time SEC]\n"
"\n"
"Upload FILE to URL (http:// only) with an HTTP/1.1 PUT and Content-Length.\n"
"The body goes from the page cache to the socket by sendfile, with no copy\n"
"through user space. Bodies of 1 MiB or more first ask with Expect:\n"
"100-continue, so a refusal costs no upload (a server silent for 1 s gets the\n"
"body anyway). The server's status line is printed on stdout.\n"
"\n"
"FILE is only read. What happens to an existing resource at URL is the\n"
"server's choice (zcopy serve --upload replaces the file whole, 204, or\n"
"creates it, 201). A 2xx that comes before the body was sent (after Expect)\n"
"is not an upload: exit 5.\n"
"\n"
"  -q, --quiet        print nothing but errors\n"
"      --stats        print bytes, syscalls and the method(s) used to stderr\n"
"      --method NAME  libzcopy method for the body (default auto: sendfile)\n"
"      --timeout SEC  connect timeout, and how long the socket may stay full\n"
"                     or the answer silent (default %d)\n"
"      --max-time SEC give up (exit 2) when the whole upload takes longer\n"
"                     (default: no limit)\n"
"\n"
"A progress bar with rate and ETA is drawn when stderr is a terminal.\n"
"\n"
"exit status: 0 the server answered 2xx after the whole body; 1 usage error;\n"
"2 network error, timeout or --max-time; 3 the server answered another status;\n"
"4 FILE cannot be read; 5 malformed response (response heads over 16 KiB,\n"
"interim 1xx ones included), 2xx before the body, or unsupported scheme;\n"
"130 interrupted.\n",
            DEFAULT_TIMEOUT_S);
}

static int parse_args(int argc, char **argv, struct put_opts *o)
{
    enum { OPT_STATS = 256, OPT_METHOD, OPT_TIMEOUT, OPT_MAX_TIME };
    static const struct option longopts[] = {
        { "quiet", no_argument, NULL, 'q' },
        { "stats", no_argument, NULL, OPT_STATS },
        { "method", required_argument, NULL, OPT_METHOD },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "max-time", required_argument, NULL, OPT_MAX_TIME },
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
        case OPT_MAX_TIME:
            if (zc_parse_timeout_opt(optarg, &o->max_time_ms) < 0) {
                fprintf(stderr, "zcopy put: bad --max-time '%s'\n", optarg);
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
    size_t have;
    int ret;

    ret = zc_net_wait(sock, POLLIN, EXPECT_WAIT_MS);
    if (ret < 0)
        return ret;
    if (ret == 0)
        return 1;                       /* a server that ignores Expect */
    ret = zc_net_read_head(sock, head, cap, &have, resp, true);
    if (ret < 0)
        return ret;
    return resp->status < 200 ? 1 : 0;
}

/* Send the file; returns 0, or the -errno that stopped it (0 bytes more
 * from the file, i.e. it shrank, is -EIO). The socket is non-blocking for
 * this and --timeout is a poll: a blocking sendfile that times out after
 * part of its bytes returns them, and the next call waits a second timeout
 * before it can say EAGAIN. */
static int send_body(const struct put_opts *o, zc_ctx *ctx, int sock, int fd,
                     uint64_t size, struct zc_progress *pr)
{
    off_t off = 0;
    int flags, ret = 0;

    zc_client_syscalls += 2;
    flags = fcntl(sock, F_GETFL);
    if (flags < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    while ((uint64_t)off < size) {
        uint64_t left = size - (uint64_t)off;
        ssize_t n = zc_transfer(ctx, sock, fd, &off, left < STEP ? (size_t)left : STEP,
                                o->method);

        if (n == -EAGAIN) {
            ret = zc_net_wait(sock, POLLOUT, o->timeout_ms);
            if (ret <= 0) {
                ret = ret < 0 ? ret : -EAGAIN;      /* the socket stayed full */
                break;
            }
            ret = 0;
            continue;
        }
        if (n <= 0) {
            ret = n < 0 ? (int)n : -EIO;
            break;
        }
        zc_progress_update(pr, (uint64_t)off);
    }
    zc_client_syscalls++;
    if (fcntl(sock, F_SETFL, flags) < 0 && ret == 0)
        ret = -errno;
    return ret;
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
        fprintf(stderr, "zcopy put: sending the body: %s\n", zc_net_error_text(body_err));
        return ZC_EXIT_NETWORK;
    }
    return ZC_EXIT_OK;
}

/* SIGINT/SIGTERM, or the --max-time deadline, ended the upload. */
static int stopped_exit(void)
{
    if (zc_interrupted) {
        fprintf(stderr, "zcopy put: interrupted\n");
        return ZC_EXIT_INTERRUPTED;
    }
    fprintf(stderr, "zcopy put: --max-time reached\n");
    return ZC_EXIT_NETWORK;
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
        body_err = send_body(o, ctx, sock, fd, size, &pr);
    zc_progress_finish(&pr);
    if (zc_stopping())
        return stopped_exit();
    if (body_err == -EIO) {
        fprintf(stderr, "zcopy put: %s shrank while it was being sent\n", o->file);
        return ZC_EXIT_LOCAL;
    }
    if (answered && resp.status >= 200 && resp.status <= 299) {
        /* Success for a body it never received is not an upload. */
        if (!o->quiet)
            printf("%d %.*s\n", resp.status, (int)resp.reason.len, resp.reason.p);
        fprintf(stderr, "zcopy put: server answered %d before the body was sent: "
                "nothing was uploaded\n", resp.status);
        return ZC_EXIT_PROTOCOL;
    }
    if (answered)
        return report_status(o, &resp, 0);

    /* Even when the body could not all go (the server may refuse early and
     * close, e.g. 413), its answer says more than our EPIPE. */
    ret = zc_net_read_head(sock, head, sizeof(head), &have, &resp, false);
    if (ret >= 0)
        return report_status(o, &resp, body_err);
    if (zc_stopping())
        return stopped_exit();
    if (!body_err && zc_net_head_problem(ret)) {
        fprintf(stderr, "zcopy put: reading the response: %s\n", zc_net_head_problem(ret));
        return ZC_EXIT_PROTOCOL;
    }
    fprintf(stderr, "zcopy put: %s: %s\n",
            body_err ? "sending the body" : "reading the response",
            zc_net_error_text(body_err ? body_err : ret));
    return ZC_EXIT_NETWORK;
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
        if (zc_stopping())
            return stopped_exit();
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
    ret = zc_deadline_arm(o.max_time_ms);
    if (ret < 0) {
        fprintf(stderr, "zcopy put: --max-time: %s\n", strerror(-ret));
        ret = ZC_EXIT_LOCAL;
    } else {
        ret = upload(&o, ctx, fd, (uint64_t)st.st_size);
    }
    if (o.stats)
        zc_report_stats(stderr, "put", ctx);
    zc_ctx_free(ctx);
    close(fd);
    return ret;
}
