/* timer.c - FIFO timer lists (see timer.h). */
#include <errno.h>
#include <stddef.h>

#include "net/loop.h"

int zc_loop_add_list(struct zc_loop *loop, struct zc_timer_list *list,
                     int64_t duration_ms, zc_timer_fn *on_expire)
{
    *list = (struct zc_timer_list){ .duration_ms = duration_ms,
                                    .on_expire = on_expire };
    if (loop->nlists >= ZC_LOOP_MAX_LISTS)
        return -ENOSPC;
    loop->lists[loop->nlists++] = list;
    return 0;
}

void zc_timer_disarm(struct zc_timer *t)
{
    struct zc_timer_list *l = t->list;

    if (!l)
        return;
    if (t->prev)
        t->prev->next = t->next;
    else
        l->head = t->next;
    if (t->next)
        t->next->prev = t->prev;
    else
        l->tail = t->prev;
    t->prev = t->next = NULL;
    t->list = NULL;
}

void zc_timer_arm(struct zc_loop *loop, struct zc_timer_list *list,
                  struct zc_timer *t)
{
    zc_timer_disarm(t);
    if (list->duration_ms <= 0)
        return;
    /* Every timer on the list has the same duration, so the tail is always
     * the latest deadline: the list stays sorted without a search. */
    t->deadline_ms = loop->now_ms + list->duration_ms;
    t->list = list;
    t->prev = list->tail;
    t->next = NULL;
    if (list->tail)
        list->tail->next = t;
    else
        list->head = t;
    list->tail = t;
}

void zc_loop_expire_timers(struct zc_loop *loop)
{
    for (unsigned i = 0; i < loop->nlists; i++) {
        struct zc_timer_list *l = loop->lists[i];
        struct zc_timer *t;

        /* Every expired timer, not only the head: a callback may arm or
         * free other timers, so the head is read again each time. */
        while ((t = l->head) && t->deadline_ms <= loop->now_ms) {
            zc_timer_disarm(t);
            l->on_expire(loop, t);
        }
    }
}
