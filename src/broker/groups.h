/* groups.h - consumer groups in zcopy broker: the coordinator (group.h) and
 * the committed offsets (offsets.h) wired to the broker, the thread that
 * fires the coordinator's timers, and the per-connection slot in which a
 * JoinGroup or SyncGroup waits for its answer (the connection parks, as a
 * Fetch does, and is woken when the coordinator answers).
 * The API handlers are in group_api.c and offsets_api.c. */
#ifndef ZC_BROKER_GROUPS_H
#define ZC_BROKER_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/broker.h"
#include "broker/group.h"
#include "broker/offsets.h"

/* zc_groups_start - the coordinator with @cfg, the offsets of @b->log
 * (replayed), and the timer thread; sets b->groups.
 * Return: 0 or -errno (nothing left started). */
int zc_groups_start(struct zc_broker *b, const struct zc_group_config *cfg);

/* zc_groups_shutdown - answer every waiting JoinGroup/SyncGroup with
 * NOT_COORDINATOR (so clients look for a coordinator again after a restart)
 * and refuse new group requests. Call while the workers still run. */
void zc_groups_shutdown(struct zc_broker *b);

/* zc_groups_stop - stop the timer thread and free everything; after the
 * workers are gone. NULL-safe for b->groups. */
void zc_groups_stop(struct zc_broker *b);

/* zc_groups_topic_deleted - drop every group's offsets of @topic (after
 * DeleteTopics). Return: 0 or -errno. */
int zc_groups_topic_deleted(struct zc_broker *b, const char *topic);

/* The clock every group call uses (CLOCK_MONOTONIC, ms). */
int64_t zc_groups_now_ms(void);

/* A connection's waiting group request; created by the handlers on first
 * use, freed by the connection when it closes (a waiting request is then
 * withdrawn from the coordinator). */
struct zc_gwait;
void zc_gwait_free(struct zc_broker *b, struct zc_gwait *gw);

/* Handlers. JoinGroup and SyncGroup may park (ZC_HANDLED_PARK with
 * *wait_ms): call again with the same request when woken or expired. */
void zc_api_find_coordinator(struct zc_broker *b, const struct zc_kreq *req,
                             struct zc_kresp *resp);
enum zc_handled zc_api_join_group(struct zc_broker *b, const struct zc_kreq *req,
                                  bool expired, struct zc_kresp *resp, int32_t *wait_ms);
enum zc_handled zc_api_sync_group(struct zc_broker *b, const struct zc_kreq *req,
                                  bool expired, struct zc_kresp *resp, int32_t *wait_ms);
void zc_api_heartbeat(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
void zc_api_leave_group(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
void zc_api_list_groups(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp);
void zc_api_describe_groups(struct zc_broker *b, const struct zc_kreq *req,
                            struct zc_kresp *resp);
void zc_api_offset_commit(struct zc_broker *b, const struct zc_kreq *req,
                          struct zc_kresp *resp);
void zc_api_offset_fetch(struct zc_broker *b, const struct zc_kreq *req,
                         struct zc_kresp *resp);

#endif /* ZC_BROKER_GROUPS_H */
