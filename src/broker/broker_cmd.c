/* broker_cmd.c - `zcopy broker DIR`: options, the log store, worker threads,
 * signals. The main thread only waits for signals and ticks the log store
 * (retention, age rolls, interval flushes) once a second; workers serve. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/conn.h"
#include "broker/groups.h"
#include "cli/cli.h"
#include "commands.h"
#include "net/listen.h"

#define WHO "zcopy broker"
#define BACKLOG 1024
#define DEFAULT_LISTEN "127.0.0.1:9092"
#define MAX_THREADS 256

static const char usage_text[] =
"usage: zcopy broker DIR [options]\n"
"\n"
"Serve the log store in DIR (created if missing) with the Kafka wire protocol:\n"
"unmodified Kafka clients (librdkafka, kcat, confluent-kafka, kafkajs) produce\n"
"and consume; fetches are sent zero-copy from the segment files.\n"
"\n"
"options:\n"
"  --listen HOST:PORT      address to listen on (default " DEFAULT_LISTEN "; port 0: any)\n"
"  --advertise HOST:PORT   address Metadata gives clients (default: the listen\n"
"                          address; the host name when listening on all addresses)\n"
"  --partitions N          partitions of auto-created topics (default 1)\n"
"  --no-auto-create        unknown topics are errors, not created on Metadata\n"
"  --segment-bytes SIZE    roll segments above SIZE (default 1G)\n"
"  --retention-bytes SIZE  keep at most SIZE per partition (default: unlimited)\n"
"  --retention-ms MS       delete segments older than MS (default 7 days; -1: forever)\n"
"  --max-message-bytes SIZE  largest batch accepted (default 1048588, as Kafka)\n"
"  --append write|mmap     append with pwrite (Kafka) or into a mapping (RocketMQ)\n"
"  --fetch-method NAME     libzcopy method for fetches: auto, sendfile, splice,\n"
"                          mmap, readwrite, ... (default auto)\n"
"  --flush POLICY          none (page cache, Kafka's default), roll, every\n"
"                          (fsync before acknowledging), or MS (every MS ms)\n"
"  --threads N             worker threads (default: one per core)\n"
"  --loop epoll|uring      event loop: epoll (default) or io_uring completions\n"
"                          (falls back to epoll where io_uring is refused)\n"
"  --user NAME             drop privileges to NAME after opening the listeners\n"
"  --group-initial-delay MS  an empty group's first rebalance waits MS for more\n"
"                          members (default 3000, as Kafka; 0: none)\n"
"  --group-min-session MS  smallest session.timeout.ms a member may ask\n"
"                          (default 6000, as Kafka)\n"
"  -h, --help              this text\n"
"\n"
"SIZE takes k, M, G suffixes (powers of 1024). SIGTERM or SIGINT: stop accepting,\n"
"answer requests in flight, close the store cleanly, exit 0.\n";

struct options {
    struct zc_broker_config cfg;
    struct zc_listen_addr listen;
    bool advertise_set;
    enum zc_method fetch_method;
    const char *loop;                   /* --loop: event loop backend */
    unsigned threads;
    const char *user;
    struct zc_group_config groups;
};

enum {
    OPT_LISTEN = 256, OPT_ADVERTISE, OPT_PARTITIONS, OPT_NO_AUTO, OPT_SEGMENT,
    OPT_RET_BYTES, OPT_RET_MS, OPT_MAX_MSG, OPT_APPEND, OPT_FETCH, OPT_FLUSH,
    OPT_THREADS, OPT_LOOP, OPT_USER, OPT_GROUP_DELAY, OPT_GROUP_MIN_SESSION,
};

static const struct option long_opts[] = {
    { "listen", required_argument, NULL, OPT_LISTEN },
    { "advertise", required_argument, NULL, OPT_ADVERTISE },
    { "partitions", required_argument, NULL, OPT_PARTITIONS },
    { "no-auto-create", no_argument, NULL, OPT_NO_AUTO },
    { "segment-bytes", required_argument, NULL, OPT_SEGMENT },
    { "retention-bytes", required_argument, NULL, OPT_RET_BYTES },
    { "retention-ms", required_argument, NULL, OPT_RET_MS },
    { "max-message-bytes", required_argument, NULL, OPT_MAX_MSG },
    { "append", required_argument, NULL, OPT_APPEND },
    { "fetch-method", required_argument, NULL, OPT_FETCH },
    { "flush", required_argument, NULL, OPT_FLUSH },
    { "threads", required_argument, NULL, OPT_THREADS },
    { "loop", required_argument, NULL, OPT_LOOP },
    { "user", required_argument, NULL, OPT_USER },
    { "group-initial-delay", required_argument, NULL, OPT_GROUP_DELAY },
    { "group-min-session", required_argument, NULL, OPT_GROUP_MIN_SESSION },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
};

/* "host:port" for --advertise: never a wildcard or "localhost", which
 * clients may resolve to an address we do not listen on (KAFKA.md 7.12). */
static int parse_advertise(const char *s, struct zc_broker_config *cfg)
{
    const char *colon = strrchr(s, ':');
    size_t host_len;
    int64_t port;

    if (!colon || colon == s)
        return -EINVAL;
    host_len = (size_t)(colon - s);
    if (s[0] == '[' && colon[-1] == ']') {           /* [v6]:port */
        s++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof(cfg->advertise_host) ||
        zc_cli_parse_int(colon + 1, 1, 65535, &port) < 0)
        return -EINVAL;
    memcpy(cfg->advertise_host, s, host_len);
    cfg->advertise_host[host_len] = '\0';
    if (!strcmp(cfg->advertise_host, "0.0.0.0") || !strcmp(cfg->advertise_host, "::") ||
        !strcasecmp(cfg->advertise_host, "localhost"))
        return -EINVAL;
    cfg->advertise_port = (int32_t)port;
    return 0;
}

static int bad(const char *opt, const char *arg)
{
    fprintf(stderr, WHO ": bad %s '%s'\n", opt, arg);
    return -1;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    struct zc_log_config *log = &o->cfg.log;
    uint64_t size;
    int64_t n;
    int c;

    while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            fputs(usage_text, stdout);
            exit(0);
        case OPT_LISTEN:
            if (zc_listen_parse(optarg, &o->listen) < 0)
                return bad("--listen", optarg);
            break;
        case OPT_ADVERTISE:
            if (parse_advertise(optarg, &o->cfg) < 0)
                return bad("--advertise (HOST:PORT, not a wildcard or localhost)", optarg);
            o->advertise_set = true;
            break;
        case OPT_PARTITIONS:
            if (zc_cli_parse_int(optarg, 1, 100000, &n) < 0)
                return bad("--partitions", optarg);
            o->cfg.partitions = (int32_t)n;
            break;
        case OPT_NO_AUTO:
            o->cfg.auto_create = false;
            break;
        case OPT_SEGMENT:
            if (zc_cli_parse_size(optarg, &size) < 0 || size < 4096 || size > INT32_MAX)
                return bad("--segment-bytes (4k..2G)", optarg);
            log->segment_bytes = size;
            break;
        case OPT_RET_BYTES:
            if (zc_cli_parse_size(optarg, &size) < 0 || size > INT64_MAX)
                return bad("--retention-bytes", optarg);
            log->retention_bytes = (int64_t)size;
            break;
        case OPT_RET_MS:
            if (zc_cli_parse_int(optarg, -1, INT64_MAX, &n) < 0 || n == 0)
                return bad("--retention-ms", optarg);
            log->retention_ms = n;
            break;
        case OPT_MAX_MSG:
            if (zc_cli_parse_size(optarg, &size) < 0 || size < 64 ||
                size > ZC_BROKER_MAX_REQUEST)
                return bad("--max-message-bytes", optarg);
            log->max_message_bytes = (uint32_t)size;
            break;
        case OPT_APPEND:
            if (!strcmp(optarg, "write"))
                log->append_mode = ZC_LOG_APPEND_WRITE;
            else if (!strcmp(optarg, "mmap"))
                log->append_mode = ZC_LOG_APPEND_MMAP;
            else
                return bad("--append (write or mmap)", optarg);
            break;
        case OPT_FETCH:
            if (zc_method_parse(optarg, &o->fetch_method) < 0)
                return bad("--fetch-method", optarg);
            break;
        case OPT_FLUSH:
            if (!strcmp(optarg, "none")) {
                log->flush = ZC_LOG_FLUSH_NONE;
            } else if (!strcmp(optarg, "roll")) {
                log->flush = ZC_LOG_FLUSH_ROLL;
            } else if (!strcmp(optarg, "every")) {
                log->flush = ZC_LOG_FLUSH_EVERY;
            } else if (zc_cli_parse_int(optarg, 1, INT32_MAX, &n) == 0) {
                log->flush = ZC_LOG_FLUSH_INTERVAL;
                log->flush_interval_ms = n;
            } else {
                return bad("--flush (none, roll, every or MS)", optarg);
            }
            break;
        case OPT_LOOP:
            if (!zc_loop_backend_named(optarg))
                return bad("--loop (epoll or uring)", optarg);
            o->loop = optarg;
            break;
        case OPT_THREADS:
            if (zc_cli_parse_int(optarg, 1, MAX_THREADS, &n) < 0)
                return bad("--threads", optarg);
            o->threads = (unsigned)n;
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_GROUP_DELAY:
            if (zc_cli_parse_int(optarg, 0, 300000, &n) < 0)
                return bad("--group-initial-delay", optarg);
            o->groups.initial_rebalance_delay_ms = n ? n : -1;     /* -1: none */
            break;
        case OPT_GROUP_MIN_SESSION:
            if (zc_cli_parse_int(optarg, 1, 1800000, &n) < 0)
                return bad("--group-min-session", optarg);
            o->groups.min_session_timeout_ms = (int32_t)n;
            break;
        default:
            fputs(usage_text, stderr);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fputs(optind < argc ? WHO ": one DIR only\n" : WHO ": DIR is required\n", stderr);
        fputs(usage_text, stderr);
        return -1;
    }
    o->cfg.dir = argv[optind];
    return 0;
}

/* What Metadata tells clients when --advertise is absent: the listen
 * address, or for a wildcard the host name (as Kafka does). */
static int default_advertise(struct options *o)
{
    char addr[128], *colon;
    int port;

    zc_listen_format(&o->listen, NULL, addr, sizeof(addr));
    colon = strrchr(addr, ':');
    port = atoi(colon + 1);
    *colon = '\0';
    if (!strcmp(addr, "0.0.0.0") || !strcmp(addr, "[::]")) {
        if (gethostname(o->cfg.advertise_host, sizeof(o->cfg.advertise_host) - 1) < 0)
            return -errno;
    } else {
        char *h = addr[0] == '[' ? addr + 1 : addr;

        h[strcspn(h, "]")] = '\0';
        snprintf(o->cfg.advertise_host, sizeof(o->cfg.advertise_host), "%s", h);
    }
    o->cfg.advertise_port = port;
    return 0;
}

struct workers {
    struct zc_bworker *v;
    unsigned n;
};

static void notify_append(struct zc_broker *b)
{
    struct workers *ws = b->on_append_arg;

    for (unsigned i = 0; i < ws->n; i++)
        zc_bworker_notify_append(&ws->v[i]);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cmd_broker(int argc, char **argv)
{
    struct options o = {
        .cfg = { .partitions = 1, .auto_create = true },
        .fetch_method = ZC_AUTO,
    };
    struct zc_broker b = { 0 };
    struct workers ws = { 0 };
    atomic_bool stop;
    unsigned inited = 0, started = 0;
    struct timespec tick = { 1, 0 };
    int status = 1, ret, claimed = -1;
    char url[160];
    sigset_t sigs;

    atomic_init(&stop, false);
    if (zc_listen_parse(DEFAULT_LISTEN, &o.listen) < 0)
        return 1;
    if (parse_options(argc, argv, &o) < 0)
        return 2;
    if (!o.threads)
        o.threads = zc_cli_cores();
    zc_cli_raise_fd_limit();

    /* SIGPIPE ignored for good; the others blocked in every thread (threads
     * inherit the mask) and taken by the main thread. */
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    ret = zc_listen_claim(&o.listen, &claimed);
    zc_listen_format(&o.listen, NULL, url, sizeof(url));
    if (ret < 0) {
        fprintf(stderr, WHO ": cannot listen on %s: %s\n", url, strerror(-ret));
        return 1;
    }
    if (!o.advertise_set && default_advertise(&o) < 0) {
        fprintf(stderr, WHO ": no host name to advertise: use --advertise\n");
        close(claimed);
        return 1;
    }
    ws.v = calloc(o.threads, sizeof(*ws.v));
    if (!ws.v) {
        close(claimed);
        return 1;
    }
    b.cfg = &o.cfg;
    b.on_append = notify_append;
    b.on_append_arg = &ws;
    /* Listeners before dropping privileges (ports below 1024); the store
     * after, so its files belong to the user that runs it. */
    for (unsigned t = 0; t < o.threads; t++) {
        int fd = zc_listen_open(&o.listen, BACKLOG);

        if (fd < 0) {
            fprintf(stderr, WHO ": listen on %s: %s\n", url, strerror(-fd));
            goto out;
        }
        inited++;
        ret = zc_bworker_init(&ws.v[t], &b, t, o.fetch_method, o.loop, &stop, &fd, 1);
        if (ret < 0) {
            fprintf(stderr, WHO ": worker %u: %s\n", t, strerror(-ret));
            goto out;
        }
    }
    ws.n = inited;
    close(claimed);                     /* the listeners hold the port now */
    claimed = -1;
    if (o.user && zc_cli_drop_privileges(WHO, o.user) < 0)
        goto out;
    ret = zc_log_open(o.cfg.dir, &o.cfg.log, &b.log);
    if (ret < 0) {
        fprintf(stderr, WHO ": %s: %s\n", o.cfg.dir, strerror(-ret));
        goto out;
    }
    ret = zc_groups_start(&b, &o.groups);
    if (ret < 0) {
        fprintf(stderr, WHO ": consumer groups (%s): %s\n", ZC_OFFSETS_TOPIC, strerror(-ret));
        goto out;
    }
    for (unsigned t = 0; t < o.threads; t++) {
        ret = zc_net_worker_start(&ws.v[t].nw);
        if (ret < 0) {
            fprintf(stderr, WHO ": thread: %s\n", strerror(-ret));
            break;
        }
        started++;
    }
    if (started == o.threads) {
        printf(WHO ": kafka://%s (data %s, %u thread%s, append %s, fetch %s, loop %s)\n",
               url, o.cfg.dir, o.threads, o.threads == 1 ? "" : "s",
               o.cfg.log.append_mode == ZC_LOG_APPEND_MMAP ? "mmap" : "write",
               zc_method_name(o.fetch_method), zc_loop_backend_name(&ws.v[0].nw.loop));
        fflush(stdout);
        status = 0;
        for (;;) {
            int sig = sigtimedwait(&sigs, NULL, &tick);

            if (sig == SIGTERM || sig == SIGINT)
                break;
            if (sig < 0 && errno != EAGAIN && errno != EINTR) {
                status = 1;
                break;
            }
            ret = zc_log_tick(b.log, wall_ms());
            if (ret < 0)
                fprintf(stderr, WHO ": log maintenance: %s\n", strerror(-ret));
        }
    }
    /* Waiting group requests are told NOT_COORDINATOR: their clients look
     * for the coordinator again and rejoin once we are back. */
    zc_groups_shutdown(&b);
    atomic_store(&stop, true);
    for (unsigned t = 0; t < started; t++)
        zc_net_worker_wake(&ws.v[t].nw);
    for (unsigned t = 0; t < started; t++)
        if (zc_net_worker_join(&ws.v[t].nw))
            status = 1;
out:
    if (claimed >= 0)
        close(claimed);
    for (unsigned t = 0; t < inited; t++)
        zc_bworker_destroy(&ws.v[t]);
    ws.n = 0;
    zc_groups_stop(&b);
    if (b.log && zc_log_close(b.log) < 0)
        status = 1;
    free(ws.v);
    return status;
}
