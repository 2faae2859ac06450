/* timer.h - FIFO timer lists for fixed-duration deadlines.
 *
 * Every deadline a server keeps has one of a few fixed durations (request
 * head, keep-alive idle, send stall, accept pause, a Kafka long poll). A
 * timer list holds timers of one duration, so appending at the tail keeps
 * it sorted: arming, disarming and expiring are O(1), and the loop only
 * looks at each list's head. */
#ifndef ZC_NET_TIMER_H
#define ZC_NET_TIMER_H

#include <stdint.h>

struct zc_loop;
struct zc_timer;
struct zc_timer_list;

/* Called on the loop's thread when @t's deadline passed; @t is already
 * disarmed, and the callback may re-arm it, arm or disarm others, or free
 * the object holding it. */
typedef void zc_timer_fn(struct zc_loop *loop, struct zc_timer *t);

/* Embed in the object the deadline belongs to; zero it before first use. */
struct zc_timer {
    struct zc_timer *prev, *next;
    struct zc_timer_list *list;     /* NULL when not armed */
    int64_t deadline_ms;
};

struct zc_timer_list {
    struct zc_timer *head, *tail;
    int64_t duration_ms;            /* <= 0: timers on this list never fire */
    zc_timer_fn *on_expire;
};

/* zc_loop_add_list - let @loop expire the timers of @list, which is set
 * up here with @duration_ms and @on_expire.
 * Return: 0, or -ENOSPC when the loop has ZC_LOOP_MAX_LISTS already. */
int zc_loop_add_list(struct zc_loop *loop, struct zc_timer_list *list,
                     int64_t duration_ms, zc_timer_fn *on_expire);

/* zc_timer_arm - (re)arm @t on @list to fire list->duration_ms after
 * loop->now_ms. On a list with duration <= 0 it only disarms @t. */
void zc_timer_arm(struct zc_loop *loop, struct zc_timer_list *list,
                  struct zc_timer *t);

/* zc_timer_disarm - unlink @t; harmless when it is not armed. */
void zc_timer_disarm(struct zc_timer *t);

/* zc_loop_expire_timers - fire, in deadline order, every timer of the
 * loop's lists whose deadline is <= loop->now_ms. zc_loop_run_once calls
 * it after refreshing now_ms; tests call it with a clock they set. */
void zc_loop_expire_timers(struct zc_loop *loop);

#endif /* ZC_NET_TIMER_H */
