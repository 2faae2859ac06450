/* group.h - the consumer-group coordinator of zcopy broker (Kafka's classic
 * group protocol), as pure logic: no sockets, no clock of its own.
 *
 * Groups move through Kafka's states: EMPTY -> PREPARING_REBALANCE (members
 * (re)join) -> COMPLETING_REBALANCE (the elected leader computes the
 * assignment) -> STABLE; DEAD after zc_group_coord_shutdown. The coordinator
 * never looks inside protocol metadata or assignments: it relays them as
 * opaque bytes, and the leader (a client) assigns.
 *
 * Time enters as @now_ms (any monotonic millisecond clock) on every call;
 * zc_group_tick() fires the timers (initial rebalance delay, rebalance
 * timeout, session timeouts, pending-member and pending-sync timeouts) and
 * zc_group_next_deadline() says when it must run next.
 *
 * JoinGroup and SyncGroup may have to wait (for the other members, for the
 * leader's assignment): they complete through a callback with the caller's
 * opaque cookie, either before the call returns (ZC_GROUP_DONE) or later from
 * another coordinator call or a tick (ZC_GROUP_PARKED). Every accepted
 * request's callback runs exactly once, unless zc_group_cancel() removes it.
 *
 * Threads: every call is safe from any thread; one mutex guards the whole
 * coordinator. Callbacks run with that mutex held, from whichever thread's
 * call completed them: they must not call back into the coordinator, and the
 * data they receive is borrowed for the duration of the callback. After
 * zc_group_cancel(cookie) returns, that cookie's callback never runs. */
#ifndef ZC_BROKER_GROUP_H
#define ZC_BROKER_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The Kafka error codes this module returns (the protocol's numbering). */
enum {
    ZC_GERR_NONE = 0,
    ZC_GERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    ZC_GERR_OFFSET_METADATA_TOO_LARGE = 12,
    ZC_GERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    ZC_GERR_COORDINATOR_NOT_AVAILABLE = 15,
    ZC_GERR_NOT_COORDINATOR = 16,
    ZC_GERR_ILLEGAL_GENERATION = 22,
    ZC_GERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    ZC_GERR_INVALID_GROUP_ID = 24,
    ZC_GERR_UNKNOWN_MEMBER_ID = 25,
    ZC_GERR_INVALID_SESSION_TIMEOUT = 26,
    ZC_GERR_REBALANCE_IN_PROGRESS = 27,
    ZC_GERR_MEMBER_ID_REQUIRED = 79,
    ZC_GERR_GROUP_MAX_SIZE_REACHED = 81,
    ZC_GERR_FENCED_INSTANCE_ID = 82,
};

enum zc_group_state {
    ZC_GROUP_EMPTY,
    ZC_GROUP_PREPARING_REBALANCE,
    ZC_GROUP_COMPLETING_REBALANCE,
    ZC_GROUP_STABLE,
    ZC_GROUP_DEAD,
};

/* The state's name as DescribeGroups reports it ("Stable", ...). */
const char *zc_group_state_name(enum zc_group_state s);

/* All-zero means Kafka's defaults. */
struct zc_group_config {
    /* group.initial.rebalance.delay.ms: how long the first rebalance of an
     * empty group waits for more members (extended by the same amount while
     * new ones arrive, up to the rebalance timeout). 0: 3000; < 0: none. */
    int64_t initial_rebalance_delay_ms;
    int32_t min_session_timeout_ms;     /* 0: 6000 (group.min.session.timeout.ms) */
    int32_t max_session_timeout_ms;     /* 0: 1800000 */
    uint32_t max_group_size;            /* 0: unlimited */
};

struct zc_group_coord;

/* Return: a coordinator, or NULL (ENOMEM). */
struct zc_group_coord *zc_group_coord_new(const struct zc_group_config *cfg);
/* Frees everything; parked callbacks are dropped without being called
 * (call zc_group_coord_shutdown first to answer them). NULL-safe. */
void zc_group_coord_free(struct zc_group_coord *c);
/* zc_group_coord_shutdown - answer every parked request with
 * NOT_COORDINATOR, mark every group DEAD, and answer every later request
 * with NOT_COORDINATOR, so clients look for the coordinator again. */
void zc_group_coord_shutdown(struct zc_group_coord *c);

/* Outcome of zc_group_join / zc_group_sync. */
enum { ZC_GROUP_DONE = 0, ZC_GROUP_PARKED = 1 };

struct zc_group_protocol {
    const char *name;
    const uint8_t *metadata;
    size_t metadata_len;
};

struct zc_group_join_req {
    const char *group_id;
    const char *member_id;              /* "" for a member new to the group */
    const char *group_instance_id;      /* static membership (KIP-345), or NULL */
    const char *client_id;              /* for member ids and DescribeGroups */
    const char *client_host;
    const char *protocol_type;          /* "consumer" */
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;       /* < 0: the session timeout (v0) */
    const struct zc_group_protocol *protocols;
    size_t n_protocols;
    bool require_known_member_id;       /* JoinGroup v4+: MEMBER_ID_REQUIRED round */
};

struct zc_group_member_meta {
    const char *member_id;
    const char *group_instance_id;      /* may be NULL */
    const uint8_t *metadata;            /* for the group's chosen protocol */
    size_t metadata_len;
};

struct zc_group_join_result {
    int16_t error;
    int32_t generation_id;              /* -1 on error */
    const char *protocol_name;          /* "" on error */
    const char *leader_id;              /* "" on error */
    const char *member_id;              /* the id given (also with MEMBER_ID_REQUIRED) */
    const struct zc_group_member_meta *members;  /* the leader only; else NULL */
    size_t n_members;
};

typedef void zc_group_join_cb(void *cookie, const struct zc_group_join_result *res);

/* zc_group_join - JoinGroup. @cb runs once with the result: at once
 * (Return ZC_GROUP_DONE) or when the rebalance completes (ZC_GROUP_PARKED).
 * Strings in @req are copied. Return: as above, or -ENOMEM (@cb not called). */
int zc_group_join(struct zc_group_coord *c, const struct zc_group_join_req *req,
                  int64_t now_ms, zc_group_join_cb *cb, void *cookie);

struct zc_group_assignment {
    const char *member_id;
    const uint8_t *data;
    size_t len;
};

struct zc_group_sync_req {
    const char *group_id;
    int32_t generation_id;
    const char *member_id;
    const struct zc_group_assignment *assignments;  /* the leader's; else none */
    size_t n_assignments;
};

typedef void zc_group_sync_cb(void *cookie, int16_t error, const uint8_t *assignment,
                              size_t len);

/* zc_group_sync - SyncGroup. A follower that syncs before the leader waits
 * for the leader's assignment (ZC_GROUP_PARKED); the leader's sync completes
 * every waiting member. Return: ZC_GROUP_DONE, ZC_GROUP_PARKED, or -ENOMEM. */
int zc_group_sync(struct zc_group_coord *c, const struct zc_group_sync_req *req,
                  int64_t now_ms, zc_group_sync_cb *cb, void *cookie);

/* zc_group_cancel - forget the parked request with @cookie (its connection
 * closed). The member stays in the group until its session times out, as in
 * Kafka. Return: true if a parked request was found. */
bool zc_group_cancel(struct zc_group_coord *c, void *cookie);

/* Heartbeat. Return: the Kafka error code (NONE, REBALANCE_IN_PROGRESS when
 * the member must rejoin, UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, ...). */
int16_t zc_group_heartbeat(struct zc_group_coord *c, const char *group_id,
                           int32_t generation_id, const char *member_id,
                           int64_t now_ms);

/* LeaveGroup of one member (a pending one too); the rest rebalance.
 * Return: the Kafka error code. */
int16_t zc_group_leave(struct zc_group_coord *c, const char *group_id,
                       const char *member_id, int64_t now_ms);

/* zc_group_commit_check - may this OffsetCommit be stored? Generation -1
 * with an empty member id is a commit from outside group management (simple
 * consumers, admin tools): allowed while the group has no members. A valid
 * commit counts as a heartbeat. Return: the Kafka error code. */
int16_t zc_group_commit_check(struct zc_group_coord *c, const char *group_id,
                              int32_t generation_id, const char *member_id,
                              int64_t now_ms);

/* zc_group_tick - fire every timer due at @now_ms (completing parked
 * requests). Return: the next deadline, INT64_MAX when none. */
int64_t zc_group_tick(struct zc_group_coord *c, int64_t now_ms);
/* The earliest time zc_group_tick has work (may be early, never late). */
int64_t zc_group_next_deadline(struct zc_group_coord *c);

/* ListGroups: @fn once per known group (under the lock). */
void zc_group_list(struct zc_group_coord *c,
                   void (*fn)(void *arg, const char *group_id,
                              const char *protocol_type, enum zc_group_state state),
                   void *arg);

struct zc_group_member_desc {
    const char *member_id;
    const char *group_instance_id;      /* may be NULL */
    const char *client_id;
    const char *client_host;
    const uint8_t *metadata;            /* for the chosen protocol; may be empty */
    size_t metadata_len;
    const uint8_t *assignment;
    size_t assignment_len;
};

struct zc_group_desc {
    int16_t error;                      /* NOT_COORDINATOR after shutdown */
    const char *group_id;
    enum zc_group_state state;          /* DEAD for an unknown group, as Kafka */
    const char *protocol_type;
    const char *protocol_name;
    const struct zc_group_member_desc *members;
    size_t n_members;
};

/* DescribeGroups of one group: @fn runs once, under the lock, with data
 * borrowed for its duration. Return: 0 or -ENOMEM (@fn not called). */
int zc_group_describe(struct zc_group_coord *c, const char *group_id,
                      void (*fn)(void *arg, const struct zc_group_desc *d), void *arg);

#endif /* ZC_BROKER_GROUP_H */
