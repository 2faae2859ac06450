/* groups.c - the coordinator and offsets as a broker service (groups.h):
 * start/stop, the timer thread, and the wait slots of parked requests. */
#include "broker/groups.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "broker/group_wait.h"

/* The timer thread wakes at least this often: the coordinator's deadlines
 * (seconds: session timeouts, the 3 s initial delay) need no finer grain,
 * and it is redis's serverCron rate. */
#define TICK_MS 100

struct zc_broker_groups {
    struct zc_group_coord *coord;
    struct zc_offsets *offsets;
    pthread_t ticker;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

int64_t zc_groups_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *ticker_main(void *arg)
{
    struct zc_broker_groups *g = arg;

    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        int64_t now = zc_groups_now_ms(), next;
        struct timespec until;

        pthread_mutex_unlock(&g->lock);
        next = zc_group_tick(g->coord, now);
        pthread_mutex_lock(&g->lock);
        if (next > now + TICK_MS)
            next = now + TICK_MS;
        until.tv_sec = next / 1000;
        until.tv_nsec = (next % 1000) * 1000000;
        if (!g->stop)
            pthread_cond_timedwait(&g->cond, &g->lock, &until);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int zc_groups_start(struct zc_broker *b, const struct zc_group_config *cfg)
{
    struct zc_broker_groups *g = calloc(1, sizeof(*g));
    pthread_condattr_t ca;
    int ret;

    if (!g)
        return -ENOMEM;
    g->coord = zc_group_coord_new(cfg);
    if (!g->coord) {
        free(g);
        return -ENOMEM;
    }
    ret = zc_offsets_open(b->log, &g->offsets);
    if (ret < 0)
        goto fail_coord;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    ret = -pthread_cond_init(&g->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (ret < 0)
        goto fail_offsets;
    pthread_mutex_init(&g->lock, NULL);
    ret = -pthread_create(&g->ticker, NULL, ticker_main, g);
    if (ret < 0) {
        pthread_mutex_destroy(&g->lock);
        pthread_cond_destroy(&g->cond);
        goto fail_offsets;
    }
    b->groups = g;
    return 0;

fail_offsets:
    zc_offsets_free(g->offsets);
fail_coord:
    zc_group_coord_free(g->coord);
    free(g);
    return ret;
}

void zc_groups_shutdown(struct zc_broker *b)
{
    if (b->groups)
        zc_group_coord_shutdown(b->groups->coord);
}

void zc_groups_stop(struct zc_broker *b)
{
    struct zc_broker_groups *g = b->groups;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->cond);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->ticker, NULL);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
    zc_group_coord_free(g->coord);
    zc_offsets_free(g->offsets);
    free(g);
    b->groups = NULL;
}

int zc_groups_topic_deleted(struct zc_broker *b, const char *topic)
{
    if (!b->groups)
        return 0;
    return zc_offsets_drop_topic(b->groups->offsets, topic, zc_groups_now_ms());
}

struct zc_group_coord *zc__groups_coord(struct zc_broker *b)
{
    return b->groups ? b->groups->coord : NULL;
}

struct zc_offsets *zc__groups_offsets(struct zc_broker *b)
{
    return b->groups ? b->groups->offsets : NULL;
}

/* ---- wait slots ----------------------------------------------------------- */

struct zc_gwait *zc__gwait_get(struct zc_broker *b, struct zc_gwait **slot)
{
    if (!slot)
        return NULL;                /* not from a connection: cannot wait */
    if (!*slot) {
        *slot = calloc(1, sizeof(**slot));
        if (*slot) {
            (*slot)->b = b;
            atomic_init(&(*slot)->ready, false);
        }
    }
    return *slot;
}

void zc__gwait_answered(struct zc_gwait *gw)
{
    struct zc_broker *b = gw->b;

    atomic_store_explicit(&gw->ready, true, memory_order_release);
    /* Parked connections re-check when the append counter moves; a spurious
     * wake (the answer came before the request parked) costs one look. */
    atomic_fetch_add(&b->appends, 1);
    if (b->on_append)
        b->on_append(b);
}

void zc__gwait_reset(struct zc_gwait *gw)
{
    gw->waiting = false;
    atomic_store_explicit(&gw->ready, false, memory_order_relaxed);
    gw->body.len = 0;
    gw->body.oom = false;
}

void zc_gwait_free(struct zc_broker *b, struct zc_gwait *gw)
{
    struct zc_group_coord *c = zc__groups_coord(b);

    if (!gw)
        return;
    /* After the cancel the coordinator never touches @gw again. */
    if (gw->waiting && c)
        zc_group_cancel(c, gw);
    zc_kw_free(&gw->body);
    free(gw);
}
