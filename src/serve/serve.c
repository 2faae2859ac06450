/* serve.c - `zcopy serve`: options, listeners, privileges, worker threads
 * and signals. The main thread only waits for signals; workers serve. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "commands.h"
#include "net/activation.h"
#include "serve/fs.h"
#include "serve/worker_run.h"

#define DEFAULT_LISTEN "127.0.0.1:8080"
#define BACKLOG 4096

static void usage(FILE *out)
{
    fprintf(out,
"usage: zcopy serve [DIR] [options]\n"
"\n"
"Serve the files under DIR (default: .) over HTTP/1.1: GET and HEAD, keep-alive,\n"
"pipelining, ranges, conditional requests. Paths never leave DIR: the kernel\n"
"resolves them beneath it (openat2 RESOLVE_BENEATH), symlinks out of DIR are refused.\n"
"\n"
"options:\n"
"  --listen ADDR:PORT      address to listen on, repeatable (default %s);\n"
"                          IPv6 as [::1]:8080; port 0 picks a free port.\n"
"                          Started by systemd socket activation (LISTEN_PID,\n"
"                          LISTEN_FDS), it serves the sockets passed instead\n"
"  --threads N             worker threads, one event loop each (default: cores)\n"
"  --method NAME           how file bodies are sent: auto (default), sendfile,\n"
"                          splice, readwrite, mmap, msg_zerocopy, uring, direct...\n"
"                          auto sends bodies up to 16 KiB with the headers in one\n"
"                          writev and larger ones through libzcopy's choice\n"
"  --access-log FILE|-|off combined-format access log (default off; - is stdout);\n"
"                          SIGHUP reopens it\n"
"  --index NAME            file served for a directory URL (default index.html)\n"
"  --listing               HTML listing of directories without an index file\n"
"  --max-connections N     open connections, all workers together (default 4096);\n"
"                          excess connections get a 503 and are closed\n"
"  --header-timeout SEC    whole request head must arrive within this (default 10);\n"
"                          then 408 and close\n"
"  --keepalive-timeout SEC idle keep-alive connections are closed after (default 60)\n"
"  --send-timeout SEC      a client that accepts no bytes for this long is\n"
"                          dropped (default 60)\n"
"  --cache-valid MS        open-file cache: re-check a cached file with one statx\n"
"                          when its last check is older than MS (default 1000;\n"
"                          0 checks on every request)\n"
"  --cache-entries N       open files cached per worker (default 1024; 0: off)\n"
"  --drain-timeout SEC     on SIGTERM, longest wait for responses in flight\n"
"                          (default 10)\n"
"  --user NAME             drop privileges to NAME after opening the listeners\n"
"  --upload                accept PUT: the body is spliced from the socket into a\n"
"                          temporary file beside the target, fsync'ed, then renamed\n"
"                          into place (201 Created, 204 replaced); off by default\n"
"  --max-upload SIZE       largest PUT body, with k/M/G suffixes (default 1G); 413\n"
"  --notsent-lowat SIZE    unsent bytes a client socket may hold before the worker\n"
"                          waits for it to drain (TCP_NOTSENT_LOWAT; default 64k;\n"
"                          0: the kernel's send buffer decides). Small: the worker\n"
"                          transmits its own bytes, faster for slow readers; large\n"
"                          or 0: less server CPU per GB for fast readers\n"
"  --send-chunk SIZE       file bytes one connection sends per turn, after a\n"
"                          first turn of up to 2M, before the worker turns to\n"
"                          its others (default 512k; 0: until the socket is\n"
"                          full). Keeps long bodies from starving the others\n"
"  --loop epoll|uring      event loop: epoll readiness (default), or io_uring\n"
"                          completions (multishot accept and receive into\n"
"                          provided buffers: no recv or epoll_wait per\n"
"                          request); falls back to epoll where io_uring is\n"
"                          refused, and says so\n"
"  --mime-types FILE       Content-Type by extension, from FILE (mime.types\n"
"                          format; default /etc/mime.types, else built-in)\n"
"  --default-type TYPE     Content-Type of unknown extensions (default\n"
"                          application/octet-stream); text/* gets charset=utf-8\n"
"  --precompressed LIST    send FILE.br, FILE.zst or FILE.gz for FILE when the\n"
"                          request's Accept-Encoding allows it and the variant\n"
"                          is not older than FILE; LIST orders the codings,\n"
"                          e.g. br,zstd,gzip (default off)\n"
"  --cache-control VALUE   Cache-Control sent with files (200, 206, 304)\n"
"  --max-age SEC           Cache-Control: max-age=SEC (unless --cache-control)\n"
"                          and Expires: Date + SEC, with files\n"
"  -h, --help              this text\n"
"\n"
"On start it prints one line per listener, e.g.\n"
"  zcopy serve: http://127.0.0.1:8080/ (root /srv/www, 2 threads, method auto,\n"
"  loop epoll)\n"
"SIGTERM or SIGINT: stop accepting, finish responses in flight, exit 0.\n"
"SIGHUP: reopen the access log.\n", DEFAULT_LISTEN);
}

static void release_claims(int *fds, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (fds[i] >= 0)
            close(fds[i]);
        fds[i] = -1;
    }
}

static int parse_seconds(const char *s, int64_t *ms)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v > 0) || v > 86400.0 * 365)
        return -EINVAL;
    *ms = (int64_t)ceil(v * 1000.0);
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    unsigned long v;

    errno = 0;
    if (*s == '-' || *s == '+')
        return -EINVAL;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

enum {
    OPT_LISTEN = 256, OPT_THREADS, OPT_METHOD, OPT_ACCESS_LOG, OPT_INDEX,
    OPT_LISTING, OPT_MAX_CONN, OPT_HEADER_TO, OPT_KEEPALIVE_TO, OPT_SEND_TO,
    OPT_CACHE_VALID, OPT_CACHE_ENTRIES, OPT_DRAIN_TO, OPT_USER, OPT_UPLOAD,
    OPT_MAX_UPLOAD, OPT_NOTSENT_LOWAT, OPT_SEND_CHUNK, OPT_MIME_TYPES, OPT_DEFAULT_TYPE,
    OPT_PRECOMPRESSED, OPT_CACHE_CONTROL, OPT_MAX_AGE, OPT_LOOP,
};

static const struct option long_options[] = {
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "method", required_argument, NULL, OPT_METHOD },
    { "access-log", required_argument, NULL, OPT_ACCESS_LOG },
    { "index", required_argument, NULL, OPT_INDEX },
    { "listing", no_argument, NULL, OPT_LISTING },
    { "max-connections", required_argument, NULL, OPT_MAX_CONN },
    { "header-timeout", required_argument, NULL, OPT_HEADER_TO },
    { "keepalive-timeout", required_argument, NULL, OPT_KEEPALIVE_TO },
    { "send-timeout", required_argument, NULL, OPT_SEND_TO },
    { "cache-valid", required_argument, NULL, OPT_CACHE_VALID },
    { "cache-entries", required_argument, NULL, OPT_CACHE_ENTRIES },
    { "drain-timeout", required_argument, NULL, OPT_DRAIN_TO },
    { "user", required_argument, NULL, OPT_USER },
    { "upload", no_argument, NULL, OPT_UPLOAD },
    { "max-upload", required_argument, NULL, OPT_MAX_UPLOAD },
    { "notsent-lowat", required_argument, NULL, OPT_NOTSENT_LOWAT },
    { "send-chunk", required_argument, NULL, OPT_SEND_CHUNK },
    { "mime-types", required_argument, NULL, OPT_MIME_TYPES },
    { "default-type", required_argument, NULL, OPT_DEFAULT_TYPE },
    { "precompressed", required_argument, NULL, OPT_PRECOMPRESSED },
    { "cache-control", required_argument, NULL, OPT_CACHE_CONTROL },
    { "max-age", required_argument, NULL, OPT_MAX_AGE },
    { "loop", required_argument, NULL, OPT_LOOP },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* What parse_options hands back besides the config: used once at start. */
struct start_options {
    const char *root, *user;
    const char *mime_types, *default_type;
    const char *cache_control;
};

/* A field value given on the command line goes into every response as is:
 * visible characters, spaces and tabs only (a CR or LF would split it). */
static bool header_value_ok(const char *s)
{
    if (!*s || *s == ' ' || *s == '\t')
        return false;
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && *s != '\t') || *s == 0x7f)
            return false;
    return s[-1] != ' ' && s[-1] != '\t';
}

static int parse_options(int argc, char **argv, struct zc_serve_config *cfg,
                         struct start_options *so)
{
    unsigned long v;
    int opt;

    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
        switch (opt) {
        case 'h':
            usage(stdout);
            exit(0);
        case OPT_LISTEN:
            if (cfg->naddrs == ZC_SERVE_MAX_LISTEN ||
                zc_listen_parse(optarg, &cfg->addrs[cfg->naddrs]) < 0) {
                fprintf(stderr, "zcopy serve: bad --listen '%s'\n", optarg);
                return -1;
            }
            cfg->naddrs++;
            break;
        case OPT_THREADS:
            if (parse_uint(optarg, 1024, &v) < 0) {
                fprintf(stderr, "zcopy serve: bad --threads '%s'\n", optarg);
                return -1;
            }
            cfg->threads = (unsigned)v;
            break;
        case OPT_METHOD:
            if (zc_method_parse(optarg, &cfg->method) < 0) {
                fprintf(stderr, "zcopy serve: unknown --method '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_ACCESS_LOG:
            cfg->access_log = strcmp(optarg, "off") ? optarg : NULL;
            break;
        case OPT_INDEX:
            if (strchr(optarg, '/')) {
                fprintf(stderr, "zcopy serve: --index is a file name, not a path\n");
                return -1;
            }
            cfg->index = optarg;
            break;
        case OPT_LISTING:
            cfg->listing = true;
            break;
        case OPT_MAX_CONN:
            if (parse_uint(optarg, 1u << 24, &v) < 0 || v == 0) {
                fprintf(stderr, "zcopy serve: bad --max-connections '%s'\n", optarg);
                return -1;
            }
            cfg->max_connections = (unsigned)v;
            break;
        case OPT_HEADER_TO:
        case OPT_KEEPALIVE_TO:
        case OPT_SEND_TO:
        case OPT_DRAIN_TO: {
            int64_t *dst = opt == OPT_HEADER_TO ? &cfg->header_timeout_ms :
                           opt == OPT_KEEPALIVE_TO ? &cfg->keepalive_timeout_ms :
                           opt == OPT_SEND_TO ? &cfg->send_timeout_ms :
                           &cfg->drain_timeout_ms;

            if (parse_seconds(optarg, dst) < 0) {
                fprintf(stderr, "zcopy serve: bad timeout '%s' (seconds > 0)\n", optarg);
                return -1;
            }
            break;
        }
        case OPT_CACHE_VALID:
            if (parse_uint(optarg, 86400000, &v) < 0) {
                fprintf(stderr, "zcopy serve: bad --cache-valid '%s'\n", optarg);
                return -1;
            }
            cfg->cache_valid_ms = (int64_t)v;
            break;
        case OPT_CACHE_ENTRIES:
            if (parse_uint(optarg, 1u << 20, &v) < 0) {
                fprintf(stderr, "zcopy serve: bad --cache-entries '%s'\n", optarg);
                return -1;
            }
            cfg->cache_entries = (unsigned)v;
            break;
        case OPT_USER:
            so->user = optarg;
            break;
        case OPT_MIME_TYPES:
            so->mime_types = optarg;
            break;
        case OPT_DEFAULT_TYPE:
            so->default_type = optarg;
            break;
        case OPT_PRECOMPRESSED:
            if (zc_coding_list_parse(optarg, &cfg->resp.precompressed) < 0) {
                fprintf(stderr, "zcopy serve: bad --precompressed '%s' (e.g. br,zstd,gzip)\n",
                        optarg);
                return -1;
            }
            break;
        case OPT_CACHE_CONTROL:
            if (!header_value_ok(optarg)) {
                fprintf(stderr, "zcopy serve: bad --cache-control '%s'\n", optarg);
                return -1;
            }
            so->cache_control = optarg;
            break;
        case OPT_MAX_AGE:
            /* Up to a year: RFC 9111 5.3 says no further than that. */
            if (parse_uint(optarg, 365 * 86400, &v) < 0) {
                fprintf(stderr, "zcopy serve: bad --max-age '%s' (seconds, 0 to 31536000)\n",
                        optarg);
                return -1;
            }
            cfg->resp.expires_s = (int64_t)v;
            break;
        case OPT_UPLOAD:
            cfg->upload = true;
            break;
        case OPT_MAX_UPLOAD:
            if (zc_cli_parse_size(optarg, &cfg->max_upload) < 0) {
                fprintf(stderr, "zcopy serve: bad --max-upload '%s'\n", optarg);
                return -1;
            }
            break;
        case OPT_NOTSENT_LOWAT: {
            uint64_t lowat;

            /* The socket option is an int; past 1 GiB it means "off" anyway. */
            if (zc_cli_parse_size(optarg, &lowat) < 0 || lowat > (1u << 30)) {
                fprintf(stderr, "zcopy serve: bad --notsent-lowat '%s'\n", optarg);
                return -1;
            }
            cfg->notsent_lowat = (int)lowat;
            break;
        }
        case OPT_LOOP:
            if (!zc_loop_backend_named(optarg)) {
                fprintf(stderr, "zcopy serve: bad --loop '%s' (epoll or uring)\n", optarg);
                return -1;
            }
            cfg->loop = optarg;
            break;
        case OPT_SEND_CHUNK:
            if (zc_cli_parse_size(optarg, &cfg->send_chunk) < 0) {
                fprintf(stderr, "zcopy serve: bad --send-chunk '%s'\n", optarg);
                return -1;
            }
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc)
        so->root = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "zcopy serve: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int dup_listener(int fd)
{
    int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);

    return dup < 0 ? -errno : dup;
}

static void wake_all(struct zc_worker *workers, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        zc_worker_wake(&workers[i]);
}

/* Each worker reopens the access log on its own loop. Say when all of them
 * write to the new file, so a rotation script (or a test) knows when the old
 * file is complete; bounded, the main thread has nothing else to do. */
static void await_log_reopen(struct zc_worker *workers, unsigned n, unsigned gen)
{
    unsigned done = 0;

    for (int waited_ms = 0; waited_ms < 2000; waited_ms++) {
        done = 0;
        for (unsigned i = 0; i < n; i++)
            done += atomic_load(&workers[i].log_acked) == gen;
        if (done == n)
            break;
        nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
    }
    if (done == n)
        fprintf(stderr, "zcopy serve: access log reopened\n");
    else
        fprintf(stderr, "zcopy serve: access log reopened by %u of %u workers so far\n",
                done, n);
}

int cmd_serve(int argc, char **argv)
{
    static struct zc_serve_config cfg;
    static char max_age_value[32];
    struct zc_listen_addr inherited_addrs[ZC_SERVE_MAX_LISTEN];
    int inherited[ZC_SERVE_MAX_LISTEN], ninherited;
    int claimed[ZC_SERVE_MAX_LISTEN];
    struct start_options so = { .root = "." };
    char root_abs[PATH_MAX];
    struct zc_worker *workers = NULL;
    struct zc_mime *mime = NULL;
    unsigned started = 0, inited = 0;
    int status = 1, ret;
    sigset_t sigs;

    cfg = (struct zc_serve_config){
        .root_fd = -1, .method = ZC_AUTO, .index = "index.html",
        .max_connections = 4096, .header_timeout_ms = 10000,
        .keepalive_timeout_ms = 60000, .send_timeout_ms = 60000,
        .cache_valid_ms = 1000, .cache_entries = 1024, .drain_timeout_ms = 10000,
        .max_upload = (uint64_t)1 << 30, .notsent_lowat = 64 << 10,
        .send_chunk = 512 << 10, .resp.expires_s = -1,
    };
    memset(claimed, -1, sizeof(claimed));   /* every entry -1: none held */
    if (parse_options(argc, argv, &cfg, &so) < 0)
        return 2;
    cfg.resp.cache_control = so.cache_control;
    if (!so.cache_control && cfg.resp.expires_s >= 0) {
        snprintf(max_age_value, sizeof(max_age_value), "max-age=%lld",
                 (long long)cfg.resp.expires_s);
        cfg.resp.cache_control = max_age_value;
    }
    ninherited = zc_listen_inherited(inherited, inherited_addrs, ZC_SERVE_MAX_LISTEN);
    if (ninherited < 0) {
        fprintf(stderr, "zcopy serve: socket activation (LISTEN_FDS): %s\n",
                strerror(-ninherited));
        return 1;
    }
    if (ninherited > 0) {
        /* systemd's sockets replace --listen: the unit file's ListenStream=
         * is the one place that says where the server listens. */
        if (cfg.naddrs)
            fprintf(stderr, "zcopy serve: socket activation: --listen ignored\n");
        memcpy(cfg.addrs, inherited_addrs, sizeof(inherited_addrs[0]) * (size_t)ninherited);
        cfg.naddrs = (unsigned)ninherited;
    }
    if (cfg.naddrs == 0)
        zc_listen_parse(DEFAULT_LISTEN, &cfg.addrs[cfg.naddrs++]);
    if (cfg.threads == 0)
        cfg.threads = zc_cli_cores();

    if (!realpath(so.root, root_abs)) {
        fprintf(stderr, "zcopy serve: %s: %s\n", so.root, strerror(errno));
        goto out;
    }
    cfg.root_path = root_abs;
    cfg.root_fd = open(root_abs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cfg.root_fd < 0) {
        fprintf(stderr, "zcopy serve: %s: %s\n", root_abs, strerror(errno));
        goto out;
    }
    ret = zc_fs_open_beneath(cfg.root_fd, ".");
    if (ret < 0 && ret != -EACCES) {
        fprintf(stderr, "zcopy serve: openat2 unavailable (%s): the kernel must be 5.6 or later\n",
                strerror(-ret));
        goto out;
    }
    if (ret >= 0)
        close(ret);
    ret = zc_mime_load(&mime, so.mime_types);
    if (ret < 0) {
        fprintf(stderr, "zcopy serve: --mime-types %s: %s\n",
                so.mime_types ? so.mime_types : "(default)",
                ret == -ENODATA ? "no 'type ext...' line in it" : strerror(-ret));
        goto out;
    }
    if (so.default_type && (ret = zc_mime_set_default(mime, so.default_type)) < 0) {
        fprintf(stderr, "zcopy serve: bad --default-type '%s'%s\n", so.default_type,
                ret == -EINVAL ? " (type/subtype[; parameters])" : "");
        goto out;
    }
    cfg.mime = mime;
    zc_cli_raise_fd_limit();

    /* Signals: SIGPIPE ignored for good; the others blocked in every thread
     * (threads inherit the mask) and taken by the main thread with sigwait. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    workers = calloc(cfg.threads, sizeof(*workers));
    if (!workers)
        goto out;
    for (unsigned a = 0; a < cfg.naddrs && ninherited == 0; a++) {
        ret = zc_listen_claim(&cfg.addrs[a], &claimed[a]);
        if (ret < 0) {
            char url[128];

            zc_listen_format(&cfg.addrs[a], "http", url, sizeof(url));
            fprintf(stderr, "zcopy serve: cannot listen on %s: %s\n", url, strerror(-ret));
            goto out;
        }
    }
    /* Listeners and logs are opened before dropping privileges (ports below
     * 1024, root-owned log directories), like nginx's master. */
    for (unsigned t = 0; t < cfg.threads; t++) {
        int fds[ZC_SERVE_MAX_LISTEN];

        for (unsigned a = 0; a < cfg.naddrs; a++) {
            /* An inherited socket is one accept queue that every worker
             * watches (its own fd for it, so each can close its own). */
            if (ninherited > 0)
                fds[a] = dup_listener(inherited[a]);
            else
                fds[a] = zc_listen_open(&cfg.addrs[a], BACKLOG);
            if (fds[a] < 0) {
                char url[128];

                zc_listen_format(&cfg.addrs[a], "http", url, sizeof(url));
                fprintf(stderr, "zcopy serve: listen on %s: %s\n", url, strerror(-fds[a]));
                while (a-- > 0)
                    close(fds[a]);
                goto out;
            }
        }
        inited++;
        ret = zc_worker_init(&workers[t], &cfg, t, fds);
        if (ret < 0) {
            fprintf(stderr, "zcopy serve: worker %u: %s\n", t, strerror(-ret));
            goto out;
        }
    }
    release_claims(claimed, ZC_SERVE_MAX_LISTEN);  /* the listeners hold the ports now */
    if (so.user && zc_cli_drop_privileges("zcopy serve", so.user) < 0)
        goto out;

    for (unsigned t = 0; t < cfg.threads; t++) {
        ret = zc_worker_start(&workers[t]);
        if (ret < 0) {
            fprintf(stderr, "zcopy serve: pthread_create: %s\n", strerror(-ret));
            atomic_store(&cfg.stop, true);
            wake_all(workers, started);
            goto join;
        }
        started++;
    }
    for (unsigned a = 0; a < cfg.naddrs; a++) {
        char url[128];

        zc_listen_format(&cfg.addrs[a], "http", url, sizeof(url));
        printf("zcopy serve: %s (root %s, %u thread%s, method %s, loop %s)\n", url, root_abs,
               cfg.threads, cfg.threads == 1 ? "" : "s", zc_method_name(cfg.method),
               zc_loop_backend_name(&workers[0].net.loop));
    }
    fflush(stdout);

    for (;;) {
        int sig = sigwaitinfo(&sigs, NULL);

        if (sig == SIGHUP) {
            unsigned gen = atomic_fetch_add(&cfg.log_generation, 1) + 1;

            wake_all(workers, started);
            if (cfg.access_log && strcmp(cfg.access_log, "-"))
                await_log_reopen(workers, started, gen);
        } else if (sig == SIGTERM || sig == SIGINT) {
            atomic_store(&cfg.stop, true);
            wake_all(workers, started);
            break;
        }
    }
    status = 0;
join:
    for (unsigned t = 0; t < started; t++) {
        if (zc_worker_join(&workers[t]))
            status = 1;
    }
out:
    release_claims(claimed, ZC_SERVE_MAX_LISTEN);
    for (unsigned t = 0; t < inited; t++)
        zc_worker_destroy(&workers[t]);
    free(workers);
    zc_mime_free(mime);
    for (int a = 0; a < ninherited; a++)
        close(inherited[a]);
    if (cfg.root_fd >= 0)
        close(cfg.root_fd);
    return status;
}
