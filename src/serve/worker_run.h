/* worker_run.h - lifecycle of a worker, for serve.c. */
#ifndef ZC_SERVE_WORKER_RUN_H
#define ZC_SERVE_WORKER_RUN_H

#include "serve/worker.h"

/* zc_worker_init - set up worker @id of @cfg; @listen_fds (one per
 * cfg->addrs entry) pass to the worker, which closes them on every path.
 * Return: 0 or -errno; on error the caller still calls zc_worker_destroy(). */
int zc_worker_init(struct zc_worker *w, struct zc_serve_config *cfg, unsigned id,
                   const int *listen_fds);

/* zc_worker_start - run the worker's loop on its own thread.
 * Return: 0 or -errno. */
int zc_worker_start(struct zc_worker *w);

/* zc_worker_wake - nudge the worker to look at cfg->stop / log_generation. */
void zc_worker_wake(struct zc_worker *w);

/* zc_worker_join - wait for a started worker. Return: 1 if its loop failed. */
int zc_worker_join(struct zc_worker *w);

void zc_worker_destroy(struct zc_worker *w);

#endif /* ZC_SERVE_WORKER_RUN_H */
