/* conn.h - zcopy broker's worker threads and connections on the shared
 * event loop module (src/net): frames read into a per-connection buffer,
 * requests answered one at a time in order, responses queued as parts (a
 * buffer, segment-file ranges) on the connection's send queue, Fetch
 * requests parked until an append or their MaxWaitMs. */
#ifndef ZC_BROKER_CONN_H
#define ZC_BROKER_CONN_H

#include <stdatomic.h>

#include "broker/broker.h"
#include "net/worker.h"

struct zc_bconn;

struct zc_bworker {
    struct zc_net_worker nw;        /* first: ops get &nw */
    struct zc_broker *b;
    struct zc_bconn *conns;         /* every open connection */
    struct zc_bconn *parked;        /* connections with a parked Fetch */
    uint_fast64_t seen_appends;     /* b->appends when parked fetches last ran */
    atomic_bool has_parked;         /* read by appenders on other threads */
    atomic_bool *stop;              /* the program's stop flag */
    struct zc_task stop_task;       /* begins the stop after a wakeup's events */
};

/* zc_bworker_init - a worker on @listen_fds (taken, closed on every path).
 * Return: 0 or -errno; call zc_bworker_destroy either way. */
int zc_bworker_init(struct zc_bworker *w, struct zc_broker *b, unsigned id,
                    enum zc_method fetch_method, const char *loop, atomic_bool *stop,
                    const int *listen_fds, unsigned nfds);
void zc_bworker_destroy(struct zc_bworker *w);

/* zc_bworker_notify_append - from any thread after an append: wake @w if it
 * has fetches parked. */
void zc_bworker_notify_append(struct zc_bworker *w);

#endif /* ZC_BROKER_CONN_H */
