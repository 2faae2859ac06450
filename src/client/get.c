/* get.c - `zcopy get URL`: download over HTTP/1.1 into a file, the body
 * spliced socket -> pipe -> file. Follows redirects, resumes with -c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "client/body.h"
#include "client/client.h"
#include "client/url.h"
#include "commands.h"
#include "common/atomic_file.h"
#include "common/dest.h"

#define MAX_REDIRECTS 5
/* The validator (strong ETag, else Last-Modified) of the response a file was
 * downloaded from, kept with the file so -c can send If-Range: a partial
 * file is then only continued if the server's file is still the same one. */
#define VALIDATOR_XATTR "user.zcopy.validator"
#define VALIDATOR_MAX 256
#define DEFAULT_TIMEOUT_S 30
/* A server may answer a range with less than was asked (206 for part of the
 * rest): ask again for what is missing, this many times at most. */
#define MAX_RANGE_ROUNDS 1000
#define RECEIVE_MORE (-1)               /* receive(): ask for the rest */

struct get_opts {
    const char *url;
    const char *output;             /* NULL: from the URL; "-": stdout */
    bool resume, stats, quiet;
    enum zc_method method;
    int timeout_ms;
    int max_time_ms;                /* --max-time, 0: none */
};

struct get {
    struct get_opts o;
    zc_ctx *ctx;
    struct zc_url url;
    char path[PATH_MAX];
    bool to_stdout;
    int sock, file_fd;
    int dir_fd;                     /* the output's directory (a new file) */
    struct zc_atomic_file file;     /* the new file, until published */
    bool in_place;                  /* -c: bytes land in FILE itself */
    uint64_t existing;              /* bytes already in the file (-c) */
    char final_name[NAME_MAX + 1];  /* the new file's name in dir_fd */
    char if_range[VALIDATOR_MAX];   /* the partial file's validator, or "" */
    char head[ZC_HEAD_MAX];
    size_t head_len, have;
    struct zc_http_resp resp;
    struct zc_progress progress;
};

static void usage(FILE *out)
{
    fprintf(out,
"usage: zcopy get URL [-o FILE] [-c] [--stats] [-q] [--method NAME] [--timeout SEC]\n"
"                     [--max-time SEC]\n"
"\n"
"Download URL (http:// only) into FILE over HTTP/1.1. The body moves from the\n"
"socket to the file by splice (socket -> pipe -> file), never through a\n"
"user-space buffer; chunked bodies too (only the chunk framing is read).\n"
"\n"
"  -o, --output FILE  write here (default: the URL's last path segment, or\n"
"                     index.html; '-' for standard output)\n"
"  -c, --continue     resume a partial FILE: ask for the missing bytes with\n"
"                     Range (206: appended, asking again while the server\n"
"                     sends only part of the rest; 200: the server ignored\n"
"                     the range, a new FILE replaces the partial one once\n"
"                     complete; 416 with the server's length equal to FILE's:\n"
"                     already complete), with If-Range when FILE kept the\n"
"                     server's validator (an xattr), so a file changed on the\n"
"                     server restarts from 0\n"
"  -q, --quiet        no progress bar or messages (errors are still printed)\n"
"      --stats        print bytes, syscalls and the method(s) used to stderr\n"
"      --method NAME  libzcopy method for the body (default auto: splice)\n"
"      --timeout SEC  connect and per-read timeout (default %d)\n"
"      --max-time SEC give up (exit 2) when the whole download, redirects and\n"
"                     range requests included, takes longer (default: no limit)\n"
"\n"
"What happens to FILE: nothing until the server answers 2xx. Then, without\n"
"-c, the body goes to a new file in FILE's directory that replaces FILE (a\n"
"new inode) only once complete: a failed or interrupted download leaves FILE\n"
"as it was and no partial file. With -c the bytes go into FILE itself (206,\n"
"or a missing or empty FILE), so a failure keeps exactly the bytes received\n"
"for the next -c. A device or FIFO is written into (-o /dev/null works); a\n"
"symlink is followed (dangling: exit 4).\n"
"\n"
"Up to %d redirects (301 302 303 307 308) are followed. A progress bar with\n"
"rate and ETA is drawn when stderr is a terminal.\n"
"\n"
"exit status:\n"
"  0    success (also: -c and FILE already complete)\n"
"  1    usage error\n"
"  2    network error: resolve, connect, timeout, --max-time, connection\n"
"       lost mid-body\n"
"  3    the server answered an HTTP error status (FILE untouched), or 416\n"
"       to -c without its length or with another length than FILE's\n"
"  4    local file error (cannot create or write FILE)\n"
"  5    protocol error: malformed response (heads over 16 KiB, interim 1xx\n"
"       ones included), unsupported scheme (https), a 206 that does not\n"
"       continue FILE or whose length is not its range's\n"
"  6    too many redirects (more than %d)\n"
"  130  interrupted by SIGINT or SIGTERM (FILE as it was; with -c the\n"
"       bytes received are kept)\n",
            DEFAULT_TIMEOUT_S, MAX_REDIRECTS, MAX_REDIRECTS);
}

static int parse_args(int argc, char **argv, struct get_opts *o)
{
    enum { OPT_STATS = 256, OPT_METHOD, OPT_TIMEOUT, OPT_MAX_TIME };
    static const struct option longopts[] = {
        { "output", required_argument, NULL, 'o' },
        { "continue", no_argument, NULL, 'c' },
        { "quiet", no_argument, NULL, 'q' },
        { "stats", no_argument, NULL, OPT_STATS },
        { "method", required_argument, NULL, OPT_METHOD },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "max-time", required_argument, NULL, OPT_MAX_TIME },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    *o = (struct get_opts){ .method = ZC_AUTO, .timeout_ms = DEFAULT_TIMEOUT_S * 1000 };
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:cqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'c': o->resume = true; break;
        case 'q': o->quiet = true; break;
        case OPT_STATS: o->stats = true; break;
        case OPT_METHOD:
            if (zc_method_parse(optarg, &o->method) < 0) {
                fprintf(stderr, "zcopy get: unknown method '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_TIMEOUT:
            if (zc_parse_timeout_opt(optarg, &o->timeout_ms) < 0) {
                fprintf(stderr, "zcopy get: bad --timeout '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_MAX_TIME:
            if (zc_parse_timeout_opt(optarg, &o->max_time_ms) < 0) {
                fprintf(stderr, "zcopy get: bad --max-time '%s'\n", optarg);
                return -1;
            }
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
    }
    if (argc - optind != 1) {
        usage(stderr);
        return -1;
    }
    o->url = argv[optind];
    return 0;
}

static int url_error(const char *what, const char *url, int err)
{
    if (err == -EPROTONOSUPPORT) {
        fprintf(stderr, "zcopy get: %s '%s': only http:// is supported\n", what, url);
        return ZC_EXIT_PROTOCOL;
    }
    fprintf(stderr, "zcopy get: %s '%s': %s\n", what, url,
            err == -ENAMETOOLONG ? "too long" : "malformed URL");
    return ZC_EXIT_USAGE;
}

static int send_request(struct get *g)
{
    char target[ZC_URL_PATH_MAX * 3], host[ZC_URL_HOST_MAX + 16];
    char range[64 + VALIDATOR_MAX] = "";
    char req[sizeof(target) + sizeof(host) + 256];
    int n;

    if (zc_url_request_target(&g->url, target, sizeof(target)) < 0 ||
        zc_url_host_header(&g->url, host, sizeof(host)) < 0)
        return -ENAMETOOLONG;
    if (g->existing)
        snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-\r\n%s%s%s",
                 g->existing, g->if_range[0] ? "If-Range: " : "", g->if_range,
                 g->if_range[0] ? "\r\n" : "");
    n = snprintf(req, sizeof(req),
                 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                 "%sConnection: close\r\n\r\n", target, host, ZC_USER_AGENT, range);
    if (n < 0 || (size_t)n >= sizeof(req))
        return -ENAMETOOLONG;
    return zc_net_send_all(g->sock, req, (size_t)n, 0);
}

/* After a failed body: what FILE holds now. */
static const char *kept_hint(const struct get *g)
{
    if (g->in_place)
        return "; the bytes received are kept: resume with -c";
    if (g->file.fd >= 0)
        return "; the file was left as it was (-c keeps partial downloads)";
    return "";
}

/* SIGINT/SIGTERM, or the --max-time deadline, ended what was under way. */
static int interrupted_exit(struct get *g)
{
    zc_progress_finish(&g->progress);
    if (!zc_interrupted) {
        fprintf(stderr, "zcopy get: --max-time reached%s\n", kept_hint(g));
        return ZC_EXIT_NETWORK;
    }
    fprintf(stderr, "zcopy get: interrupted%s\n", kept_hint(g));
    return ZC_EXIT_INTERRUPTED;
}

static int net_error(struct get *g, const char *what, int err)
{
    if (zc_stopping())
        return interrupted_exit(g);
    if (zc_net_head_problem(err)) {
        fprintf(stderr, "zcopy get: %s: %s\n", what, zc_net_head_problem(err));
        return ZC_EXIT_PROTOCOL;
    }
    fprintf(stderr, "zcopy get: %s: %s\n", what, zc_net_error_text(err));
    return ZC_EXIT_NETWORK;
}

/* -c: the validator stored with the partial file, if any and sane. */
static void load_validator(struct get *g)
{
    ssize_t n;

    g->if_range[0] = '\0';
    zc_client_syscalls++;
    n = getxattr(g->path, VALIDATOR_XATTR, g->if_range, sizeof(g->if_range) - 1);
    if (n <= 0)
        return;
    g->if_range[n] = '\0';
    for (ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)g->if_range[i];

        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            g->if_range[0] = '\0';       /* not from us: send no If-Range */
            return;
        }
    }
}

/* Keep the response's validator with the file for a later -c. If-Range
 * needs a strong one: a weak ETag (W/) does not qualify, Last-Modified does.
 * A filesystem without user xattrs just resumes without If-Range. */
static void store_validator(struct get *g)
{
    const struct zc_http_resp *r = &g->resp;
    const struct zc_resp_str *v = NULL;

    if (g->to_stdout)
        return;
    if (r->etag.p && !(r->etag.len >= 2 && r->etag.p[0] == 'W' && r->etag.p[1] == '/'))
        v = &r->etag;
    else if (r->last_modified.p)
        v = &r->last_modified;
    zc_client_syscalls++;
    if (v && v->len < VALIDATOR_MAX)
        fsetxattr(g->file_fd, VALIDATOR_XATTR, v->p, v->len, 0);
    else
        fremovexattr(g->file_fd, VALIDATOR_XATTR);   /* an old one must not stay */
}

/* -c: how much of the file is already here. */
static int probe_existing(struct get *g)
{
    struct stat st;

    g->existing = 0;
    if (!g->o.resume)
        return 0;
    if (stat(g->path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "zcopy get: %s: %s\n", g->path, strerror(errno));
        return ZC_EXIT_LOCAL;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "zcopy get: %s: not a regular file\n", g->path);
        return ZC_EXIT_LOCAL;
    }
    g->existing = (uint64_t)st.st_size;
    load_validator(g);
    return 0;
}

/* Connect, send, and read the final response head into g->resp. */
static int exchange(struct get *g)
{
    char err[256];
    int ret;

    g->sock = zc_net_connect(g->url.host, g->url.port, g->o.timeout_ms, err,
                             sizeof(err));
    if (g->sock < 0) {
        if (zc_stopping())
            return interrupted_exit(g);
        fprintf(stderr, "zcopy get: %s\n", err);
        return ZC_EXIT_NETWORK;
    }
    zc_interrupt_watch(g->sock);
    ret = send_request(g);
    if (ret < 0)
        return net_error(g, "sending the request", ret);
    ret = zc_net_read_head(g->sock, g->head, sizeof(g->head), &g->have, &g->resp,
                           false);
    if (ret < 0)
        return net_error(g, "reading the response", ret);
    g->head_len = (size_t)ret;
    return 0;
}

static void close_sock(struct get *g)
{
    zc_interrupt_watch(-1);
    if (g->sock >= 0)
        close(g->sock);
    g->sock = -1;
}

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 ||
           status == 308;
}

static void print_status_error(const struct get *g)
{
    fprintf(stderr, "zcopy get: server answered %d %.*s\n", g->resp.status,
            (int)g->resp.reason.len, g->resp.reason.p);
}

/* 416 after a Range request: the file is complete only when the server says
 * its length (Content-Range: bytes * /LEN) and that is what we have. */
static int range_not_satisfiable(struct get *g)
{
    const struct zc_content_range *cr = &g->resp.range;

    if (!cr->present || !cr->unsatisfied || cr->complete < 0) {
        fprintf(stderr, "zcopy get: server answered 416 without its file's length "
                "(Content-Range: bytes */LEN): cannot tell whether %s is complete\n",
                g->path);
        return ZC_EXIT_HTTP;
    }
    if ((uint64_t)cr->complete != g->existing) {
        fprintf(stderr, "zcopy get: %s holds %" PRIu64 " bytes but the server's "
                "file has %" PRId64 ": not resumable\n", g->path, g->existing,
                cr->complete);
        return ZC_EXIT_HTTP;
    }
    if (!g->o.quiet && zc_progress_enabled(false))
        fprintf(stderr, "zcopy get: %s is already complete (%" PRIu64 " bytes)\n",
                g->path, g->existing);
    return ZC_EXIT_OK;
}

static int local_error(const char *path, int err)
{
    fprintf(stderr, "zcopy get: %s: %s\n", path, strerror(err));
    return ZC_EXIT_LOCAL;
}

/* Where the body goes. A device or FIFO is written into. Otherwise, with
 * -c, a 206 appends to FILE and a 200 for an empty or missing FILE writes
 * it in place (a cut download stays resumable); every other 2xx builds a
 * new file next to FILE, renamed over it only once the body is complete, so
 * a failed download never damages what FILE held. */
static int open_output(struct get *g, bool partial)
{
    struct zc_dest d;
    int ret;

    if (g->to_stdout) {
        g->file_fd = STDOUT_FILENO;
        return 0;
    }
    zc_client_syscalls += 2;
    ret = zc_dest_resolve(g->path, &d);
    if (ret < 0)
        return local_error(g->path, -ret);
    if (d.kind == ZC_DEST_DIR)
        return local_error(g->path, EISDIR);
    if (d.kind == ZC_DEST_DANGLING) {
        fprintf(stderr, "zcopy get: not writing through dangling symlink '%s'\n",
                g->path);
        return ZC_EXIT_LOCAL;
    }
    zc_client_syscalls++;
    if (d.kind == ZC_DEST_SPECIAL) {
        g->file_fd = open(d.path, O_WRONLY | O_TRUNC | O_NOCTTY | O_CLOEXEC);
        return g->file_fd < 0 ? local_error(g->path, errno) : 0;
    }
    g->in_place = g->o.resume && (partial || g->existing == 0);
    if (g->in_place) {
        /* No O_APPEND: splice refuses to write into append-mode files. */
        g->file_fd = open(d.path, O_WRONLY | O_CREAT | O_CLOEXEC | (partial ? 0 : O_TRUNC),
                          0666);
        if (g->file_fd < 0 ||
            (partial && lseek(g->file_fd, (off_t)g->existing, SEEK_SET) < 0))
            return local_error(g->path, errno);
        return 0;
    }
    g->dir_fd = open(d.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g->dir_fd < 0)
        return local_error(d.dir, errno);
    ret = zc_atomic_file_open(&g->file, g->dir_fd, "get", 0666);
    if (ret < 0)
        return local_error(d.dir, -ret);
    snprintf(g->final_name, sizeof(g->final_name), "%s", d.name);
    g->file_fd = g->file.fd;
    return 0;
}

/* A complete body in a new file: give it FILE's name. */
static int publish_output(struct get *g)
{
    int ret;

    if (g->file.fd < 0)
        return 0;
    g->file_fd = -1;
    zc_client_syscalls += 3;
    ret = zc_atomic_file_publish(&g->file, g->final_name, 0);
    return ret < 0 ? local_error(g->path, -ret) : 0;
}

/* What a 206 must be: the bytes from where FILE ends, its Content-Length (if
 * any) the size of its Content-Range. Return: the range's length, or 0. */
static uint64_t check_partial(const struct get *g)
{
    const struct zc_http_resp *r = &g->resp;
    uint64_t len;

    if (!g->existing || !r->range.present || r->range.unsatisfied ||
        (uint64_t)r->range.first != g->existing) {
        fprintf(stderr, "zcopy get: 206 response does not continue at byte "
                "%" PRIu64 "\n", g->existing);
        return 0;
    }
    len = (uint64_t)(r->range.last - r->range.first) + 1;
    if (r->content_length >= 0 && (uint64_t)r->content_length != len) {
        fprintf(stderr, "zcopy get: 206 response: Content-Length %" PRId64 " does not "
                "match Content-Range bytes %" PRId64 "-%" PRId64 "\n",
                r->content_length, r->range.first, r->range.last);
        return 0;
    }
    return len;
}

static int receive(struct get *g)
{
    const struct zc_http_resp *r = &g->resp;
    bool partial = r->status == 206;
    struct zc_body b = {
        .ctx = g->ctx, .method = g->o.method, .sock = g->sock,
        .timeout_ms = g->o.timeout_ms,
        .pending = g->head + g->head_len, .pending_len = g->have - g->head_len,
    };
    uint64_t total = UINT64_MAX, range_len = 0;
    enum zc_body_error e;
    int ret, err;

    if (partial) {
        range_len = check_partial(g);
        if (!range_len)
            return ZC_EXIT_PROTOCOL;
    }
    ret = open_output(g, partial);
    if (ret)
        return ret;
    if (!partial)
        g->existing = 0;                     /* 200: whole body, from byte 0 */
    store_validator(g);

    if (!zc_http_body_expected(r->status, false)) {
        b.kind = ZC_BODY_LENGTH;
        b.length = 0;
    } else if (r->chunked) {
        b.kind = ZC_BODY_CHUNKED;
        b.limited = partial;                 /* never past the range */
        b.limit = range_len;
    } else if (partial || r->content_length >= 0) {
        /* A 206 without Content-Length is still exactly its range long. */
        b.kind = ZC_BODY_LENGTH;
        b.length = partial ? range_len : (uint64_t)r->content_length;
        total = g->existing + b.length;
    } else {
        b.kind = ZC_BODY_UNTIL_CLOSE;
    }
    if (partial && r->range.complete >= 0)
        total = (uint64_t)r->range.complete;
    b.file_fd = g->file_fd;
    b.progress_base = g->existing;
    b.progress = &g->progress;
    zc_progress_start(&g->progress, zc_progress_enabled(g->o.quiet), total, g->existing);

    e = zc_body_receive(&b, &err);
    if (e != ZC_BODY_OK && zc_stopping())
        return interrupted_exit(g);
    zc_progress_finish(&g->progress);
    if (e == ZC_BODY_OK && partial && b.written != range_len) {
        fprintf(stderr, "zcopy get: 206 response: %" PRIu64 " bytes for a range of "
                "%" PRIu64 "\n", b.written, range_len);
        return ZC_EXIT_PROTOCOL;
    }
    switch (e) {
    case ZC_BODY_OK:
        break;
    case ZC_BODY_EOF:
        fprintf(stderr, "zcopy get: connection closed after %" PRIu64 " body bytes%s\n",
                b.written, kept_hint(g));
        return ZC_EXIT_NETWORK;
    case ZC_BODY_NET:
        fprintf(stderr, "zcopy get: receiving the body: %s%s\n", zc_net_error_text(err),
                kept_hint(g));
        return ZC_EXIT_NETWORK;
    case ZC_BODY_FILE:
        fprintf(stderr, "zcopy get: writing %s: %s\n", g->to_stdout ? "stdout" : g->path,
                strerror(-err));
        return ZC_EXIT_LOCAL;
    case ZC_BODY_FRAMING:
        fprintf(stderr, "zcopy get: malformed chunked body after %" PRIu64 " bytes%s\n",
                b.written, partial ? " (or longer than its range)" : "");
        return ZC_EXIT_PROTOCOL;
    }
    ret = publish_output(g);
    if (ret)
        return ret;
    g->existing += b.written;
    if (partial && r->range.complete >= 0 && g->existing < (uint64_t)r->range.complete)
        return RECEIVE_MORE;
    if (g->progress.drawn && !g->to_stdout)
        fprintf(stderr, "zcopy get: saved %s (%" PRIu64 " bytes)\n", g->path,
                g->existing);
    return ZC_EXIT_OK;
}

/* The next request after a 206 that covered only part of the rest: the
 * same URL, from where FILE now ends. */
static int next_round(struct get *g, int *rounds)
{
    int ret;

    close_sock(g);
    ret = close(g->file_fd);
    g->file_fd = -1;
    if (ret < 0)
        return local_error(g->path, errno);
    if (++*rounds == MAX_RANGE_ROUNDS) {
        fprintf(stderr, "zcopy get: %s incomplete after %d partial responses "
                "(%" PRIu64 " of %" PRId64 " bytes); resume with -c\n", g->path,
                MAX_RANGE_ROUNDS, g->existing, g->resp.range.complete);
        return ZC_EXIT_NETWORK;
    }
    return 0;
}

static int run(struct get *g)
{
    int ret, rounds = 0;

    for (int redirects = 0;;) {
        ret = probe_existing(g);
        if (ret)
            return ret;
        ret = exchange(g);
        if (ret)
            return ret;
        if (is_redirect(g->resp.status) && g->resp.location.p) {
            if (redirects++ == MAX_REDIRECTS) {
                fprintf(stderr, "zcopy get: more than %d redirects\n", MAX_REDIRECTS);
                return ZC_EXIT_REDIRECTS;
            }
            ret = zc_url_resolve(&g->url, g->resp.location.p, g->resp.location.len,
                                 &g->url);
            if (ret < 0) {
                fprintf(stderr, "zcopy get: cannot follow redirect to '%.*s': %s\n",
                        (int)g->resp.location.len, g->resp.location.p,
                        ret == -EPROTONOSUPPORT ? "only http:// is supported"
                                                : "malformed or too long");
                return ZC_EXIT_PROTOCOL;
            }
            close_sock(g);
            continue;
        }
        if (g->resp.status == 416 && g->existing)
            return range_not_satisfiable(g);
        if (g->resp.status < 200 || g->resp.status > 299) {
            print_status_error(g);
            return ZC_EXIT_HTTP;
        }
        ret = receive(g);
        if (ret != RECEIVE_MORE)
            return ret;
        ret = next_round(g, &rounds);
        if (ret)
            return ret;
    }
}

int cmd_get(int argc, char **argv)
{
    struct get *g;
    int ret;

    g = calloc(1, sizeof(*g));
    if (!g) {
        fprintf(stderr, "zcopy get: out of memory\n");
        return ZC_EXIT_LOCAL;
    }
    g->sock = g->file_fd = g->dir_fd = -1;
    zc_atomic_file_init(&g->file);
    ret = parse_args(argc, argv, &g->o);
    if (ret) {
        free(g);
        return ret > 0 ? ZC_EXIT_OK : ZC_EXIT_USAGE;
    }
    ret = zc_url_parse(g->o.url, &g->url);
    if (ret < 0) {
        ret = url_error("bad URL", g->o.url, ret);
        free(g);
        return ret;
    }
    g->to_stdout = g->o.output && !strcmp(g->o.output, "-");
    if (g->to_stdout && g->o.resume) {
        fprintf(stderr, "zcopy get: -c needs a file, not standard output\n");
        free(g);
        return ZC_EXIT_USAGE;
    }
    if (g->o.output)
        snprintf(g->path, sizeof(g->path), "%s", g->o.output);
    else if (zc_url_file_name(&g->url, g->path, sizeof(g->path)) < 0)
        snprintf(g->path, sizeof(g->path), "index.html");

    g->ctx = zc_ctx_new();
    if (!g->ctx) {
        fprintf(stderr, "zcopy get: %s\n", strerror(errno));
        free(g);
        return ZC_EXIT_LOCAL;
    }
    zc_interrupt_install();
    ret = zc_deadline_arm(g->o.max_time_ms);
    if (ret < 0) {
        fprintf(stderr, "zcopy get: --max-time: %s\n", strerror(-ret));
        zc_ctx_free(g->ctx);
        free(g);
        return ZC_EXIT_LOCAL;
    }
    /* SIGPIPE is ignored for the whole process: spare the per-call guard. */
    zc_ctx_set_flags(g->ctx, ZC_SIGPIPE_HANDLED);

    ret = run(g);
    close_sock(g);
    if (g->file.fd >= 0)
        g->file_fd = -1;                /* not published: dropped below */
    zc_atomic_file_abort(&g->file);
    if (g->dir_fd >= 0)
        close(g->dir_fd);
    if (g->file_fd > STDOUT_FILENO && close(g->file_fd) < 0 && ret == ZC_EXIT_OK) {
        fprintf(stderr, "zcopy get: %s: %s\n", g->path, strerror(errno));
        ret = ZC_EXIT_LOCAL;
    }
    if (g->o.stats)
        zc_report_stats(stderr, "get", g->ctx);
    zc_ctx_free(g->ctx);
    free(g);
    return ret;
}
