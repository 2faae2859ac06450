/* worker.h - the server's configuration (read-only once threads start) and
 * one worker: a zc_net_worker (thread, loop, listeners, zc_ctx) with its
 * open-file cache, access log and connections. Nothing here is shared between
 * workers except the read-only config and two atomics (stop, log reopen). */
#ifndef ZC_SERVE_WORKER_H
#define ZC_SERVE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "zcopy.h"
#include "serve/access_log.h"
#include "serve/file_cache.h"
#include "serve/fs.h"
#include "serve/http_parse.h"
#include "serve/mime.h"
#include "serve/response.h"
#include "net/listen.h"
#include "net/worker.h"

#define ZC_SERVE_MAX_LISTEN ZC_NET_MAX_LISTEN

struct zc_serve_config {
    const char *root_path;          /* absolute, for messages */
    int root_fd;                    /* O_PATH | O_DIRECTORY */
    unsigned threads;
    enum zc_method method;          /* ZC_AUTO unless --method */
    const char *access_log;         /* NULL: off */
    const char *index;
    bool listing;
    bool upload;                    /* --upload: PUT writes into the root */
    uint64_t max_upload;            /* --max-upload bytes */
    unsigned max_connections;       /* whole server */
    int64_t header_timeout_ms, keepalive_timeout_ms, send_timeout_ms;
    int64_t cache_valid_ms;
    unsigned cache_entries;         /* per worker; 0 disables the cache */
    int64_t drain_timeout_ms;       /* SIGTERM: longest wait for responses */
    int notsent_lowat;              /* TCP_NOTSENT_LOWAT per client; 0: not set */
    uint64_t send_chunk;            /* file bytes per turn; 0: no limit */
    const char *loop;               /* --loop: event loop backend name */
    struct zc_http_limits limits;
    const struct zc_mime *mime;
    struct zc_resp_opts resp;       /* caching headers, precompressed */
    unsigned naddrs;
    struct zc_listen_addr addrs[ZC_SERVE_MAX_LISTEN];
    /* Signals from the main thread to the workers. */
    atomic_bool stop;
    atomic_uint log_generation;
};

struct zc_conn;

/* One worker: the shared scaffolding (net/worker.h: thread, loop, zc_ctx,
 * acceptor, stop) plus what HTTP needs. */
struct zc_worker {
    struct zc_net_worker net;       /* first: ops get &net back */
    const struct zc_serve_config *cfg;
    struct zc_serve_config *shared; /* for the atomics only */
    unsigned id;

    struct zc_conn *conns;          /* all open connections */
    struct zc_conn *free_conns;     /* recycled, so accept rarely mallocs */
    unsigned nfree;
    struct zc_timer_list head_timers, idle_timers, send_timers;

    struct zc_fs fs;
    struct zc_access_log log;
    unsigned log_generation;
    atomic_uint log_acked;          /* the generation this worker reopened for */
    int64_t log_flush_ms;

    struct zc_resp_ctx rctx;        /* what response building may see */
    time_t date_sec;
    char date[32];                  /* IMF-fixdate for the Date header */
    char boundary[24];              /* multipart/byteranges separator */
};

/* zc_worker_resp_ctx - the response context, its clock and Date refreshed
 * (the Date text at most once a second). */
const struct zc_resp_ctx *zc_worker_resp_ctx(struct zc_worker *w);

#endif /* ZC_SERVE_WORKER_H */
