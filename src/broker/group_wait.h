/* group_wait.h - internals shared by groups.c and the group handlers: the
 * slot in which a connection's JoinGroup or SyncGroup waits, and access to
 * the broker's coordinator and offsets. */
#ifndef ZC_BROKER_GROUP_WAIT_H
#define ZC_BROKER_GROUP_WAIT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/groups.h"

/* The connection's thread owns everything but @ready and @body, which the
 * coordinator's callback (any thread, under the coordinator's lock) writes
 * before it sets @ready. */
struct zc_gwait {
    struct zc_broker *b;
    bool waiting;                   /* a request is with the coordinator */
    int16_t version;                /* of that request: the answer's layout */
    int64_t deadline_ms;            /* safety net: withdraw it then */
    atomic_bool ready;              /* @body holds the answer */
    struct zc_kw body;              /* the response after the correlation id */
};

/* The connection's slot, created on first use; NULL when out of memory. */
struct zc_gwait *zc__gwait_get(struct zc_broker *b, struct zc_gwait **slot);
/* From the callback, @body written: mark ready and wake the workers. */
void zc__gwait_answered(struct zc_gwait *gw);
/* The answer was sent: the slot is free for the next request. */
void zc__gwait_reset(struct zc_gwait *gw);

/* NULL when groups are not started. */
struct zc_group_coord *zc__groups_coord(struct zc_broker *b);
struct zc_offsets *zc__groups_offsets(struct zc_broker *b);

#endif /* ZC_BROKER_GROUP_WAIT_H */
