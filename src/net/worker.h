/* worker.h - the per-thread scaffolding a server runs on: a thread with
 * its own loop, zc_ctx (and the zc_xmit send policy on it), acceptor, a
 * wake eventfd the main thread nudges, a connection count, and a graceful
 * stop (stop accepting, let responses in flight finish, close the rest at
 * a deadline). The program (zcopy serve, zcopy broker) embeds a
 * zc_net_worker in its own worker and fills the ops.
 *
 * Nothing here is shared between workers: each accepts on its own
 * SO_REUSEPORT listeners. The main thread only calls zc_net_worker_wake()
 * (after setting whatever atomics the program's on_wake reads). */
#ifndef ZC_NET_WORKER_H
#define ZC_NET_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "zcopy.h"
#include "net/accept.h"
#include "net/loop.h"
#include "net/sendq.h"

struct zc_net_worker;

struct zc_net_worker_ops {
    /* A new connection (the callee owns @fd); zc_net_worker_conn_opened()
     * once it is kept. */
    void (*on_accept)(struct zc_net_worker *nw, int fd,
                      const struct sockaddr_storage *peer);
    /* The main thread called zc_net_worker_wake(): look at the program's
     * atomics; call zc_net_worker_begin_stop() to stop. May be NULL. */
    void (*on_wake)(struct zc_net_worker *nw);
    /* Stopping began (listeners are closed): close idle connections now;
     * the others close after the response in flight. May be NULL. */
    void (*on_stop)(struct zc_net_worker *nw);
    /* Close every connection (drain deadline passed, or the thread ends). */
    void (*close_all)(struct zc_net_worker *nw);
    /* Once per wakeup, after events, timers and deferred tasks. May be NULL. */
    void (*after_poll)(struct zc_net_worker *nw);
};

struct zc_net_worker_config {
    const char *who;                /* "zcopy serve": messages' prefix */
    unsigned id;
    enum zc_method method;          /* file ranges: zc_xmit policy */
    uint64_t send_chunk;            /* file bytes per turn (zc_xmit.chunk) */
    const char *loop;               /* loop backend name; NULL: "epoll" */
    unsigned max_conns;             /* this worker's share; 0: no limit */
    int64_t drain_ms;               /* stop: longest wait for responses */
    const char *busy_reply;         /* to refused connections; NULL: none */
    size_t busy_len;
};

struct zc_net_worker {
    struct zc_loop loop;
    zc_ctx *zc;
    struct zc_xmit xmit;
    struct zc_acceptor acceptor;
    const struct zc_net_worker_ops *ops;
    struct zc_net_worker_config cfg;
    unsigned nconns;
    int wake_fd;                    /* eventfd */
    struct zc_io wake_io;
    bool stopping;
    int64_t stop_deadline_ms;
    int64_t max_wait_ms;            /* the program's bound on a sleep; <= 0 none */
    pthread_t thread;
    bool started;
    int exit_status;                /* 1 when the loop failed */
};

/* zc_net_worker_init - loop, zc_ctx, xmit, acceptor and wake fd; the
 * worker takes @listen_fds[0..@nfds) (closed on every path, including
 * errors). Return: 0 or -errno; on error call zc_net_worker_destroy(). */
int zc_net_worker_init(struct zc_net_worker *nw, const struct zc_net_worker_config *cfg,
                       const struct zc_net_worker_ops *ops, const int *listen_fds,
                       unsigned nfds);

/* zc_net_worker_start - run the loop on a new thread until it stops.
 * Return: 0 or -errno (pthread_create). */
int zc_net_worker_start(struct zc_net_worker *nw);

/* zc_net_worker_wake - from any thread: the worker calls ops->on_wake. */
void zc_net_worker_wake(struct zc_net_worker *nw);

/* zc_net_worker_join - wait for a started thread. Return: its exit_status. */
int zc_net_worker_join(struct zc_net_worker *nw);

/* zc_net_worker_begin_stop - on the worker's thread: close the listeners,
 * call ops->on_stop, and leave the loop once no connection is left (or
 * close them all after cfg.drain_ms). Idempotent. */
void zc_net_worker_begin_stop(struct zc_net_worker *nw);

/* zc_net_worker_conn_opened / _closed - keep the count that bounds
 * accepting (cfg.max_conns) and ends a graceful stop; a close also resumes
 * an acceptor paused by EMFILE (an fd is free again). */
void zc_net_worker_conn_opened(struct zc_net_worker *nw);
void zc_net_worker_conn_closed(struct zc_net_worker *nw);

/* zc_net_worker_destroy - after the thread ended (or never started):
 * ops->close_all, then everything init created. Safe after a failed init. */
void zc_net_worker_destroy(struct zc_net_worker *nw);

#endif /* ZC_NET_WORKER_H */
