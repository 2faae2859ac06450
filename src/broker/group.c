/* group.c - the consumer-group coordinator (see group.h). Kafka's classic
 * protocol as its GroupCoordinator implements it: the same states, timers
 * and error codes, so clients recover from every situation the way they do
 * against Kafka. Groups live in a string hash table; a group's members in
 * an array kept in join order (the first one is the default leader). */
#include "broker/group.h"
#include "broker/htab.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define DEFAULT_INITIAL_DELAY_MS 3000
#define DEFAULT_MIN_SESSION_MS 6000
#define DEFAULT_MAX_SESSION_MS 1800000
#define NEVER INT64_MAX

struct proto {
    char *name;
    uint8_t *meta;
    size_t len;
};

struct member {
    char *id, *instance_id, *client_id, *client_host;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    struct proto *protocols;
    size_t n_protocols;
    uint8_t *assignment;
    size_t assignment_len;
    int64_t last_seen_ms;           /* join, sync, heartbeat or commit */
    bool awaiting_join;             /* rejoined during this rebalance */
    bool synced;                    /* sent SyncGroup in this generation */
    bool doomed;                    /* did not sync in time: to be removed */
    zc_group_join_cb *join_cb;      /* a parked JoinGroup */
    void *join_cookie;
    zc_group_sync_cb *sync_cb;      /* a parked SyncGroup */
    void *sync_cookie;
};

/* A member id handed out with MEMBER_ID_REQUIRED, not joined yet. */
struct pending {
    char *id;
    int64_t deadline_ms;
};

struct group {
    struct zc_hnode node;           /* first: the table hands back &node */
    char *id;
    enum zc_group_state state;
    int32_t generation;
    char *protocol_type;            /* NULL while empty */
    char *protocol;                 /* chosen for this generation, or NULL */
    char *leader;                   /* a member's id (not owned), or NULL */
    struct member **members;
    size_t n_members, cap_members;
    struct pending *pending;
    size_t n_pending, cap_pending;
    int64_t join_deadline_ms;       /* PREPARING_REBALANCE: end of the join phase */
    bool initial_join;              /* that phase is the initial delay */
    bool new_member_added;          /* ... and someone new came during it */
    int64_t initial_remaining_ms;   /* how far the delay may still extend */
    int64_t sync_deadline_ms;       /* members not synced by then are removed */
};

struct zc_group_coord {
    pthread_mutex_t lock;
    struct zc_group_config cfg;
    struct zc_htab groups;          /* of struct group, by id */
    int64_t next_deadline_ms;       /* early, never late */
    bool shut;
    void *call_cookie;              /* the request being handled... */
    bool call_done;                 /* ... got its answer already */
    uint64_t id_counter;
};

const char *zc_group_state_name(enum zc_group_state s)
{
    switch (s) {
    case ZC_GROUP_EMPTY: return "Empty";
    case ZC_GROUP_PREPARING_REBALANCE: return "PreparingRebalance";
    case ZC_GROUP_COMPLETING_REBALANCE: return "CompletingRebalance";
    case ZC_GROUP_STABLE: return "Stable";
    case ZC_GROUP_DEAD: return "Dead";
    }
    return "Unknown";
}

static void note_deadline(struct zc_group_coord *c, int64_t t)
{
    if (t < c->next_deadline_ms)
        c->next_deadline_ms = t;
}

static uint32_t hash_str(const char *s)
{
    return zc_hash_fnv1a(ZC_FNV1A_INIT, s, strlen(s));
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static bool str_eq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* ---- groups and members ------------------------------------------------ */

static struct group *group_find(struct zc_group_coord *c, const char *id)
{
    uint32_t h = hash_str(id);

    for (struct zc_hnode *n = *zc_htab_chain(&c->groups, h); n; n = n->next)
        if (n->hash == h && strcmp(((struct group *)n)->id, id) == 0)
            return (struct group *)n;
    return NULL;
}

static struct group *group_create(struct zc_group_coord *c, const char *id)
{
    struct group *g = calloc(1, sizeof(*g));

    if (!g || !(g->id = strdup(id))) {
        free(g);
        return NULL;
    }
    g->node.hash = hash_str(id);
    g->state = ZC_GROUP_EMPTY;
    g->join_deadline_ms = NEVER;
    g->sync_deadline_ms = NEVER;
    zc_htab_insert(&c->groups, &g->node);
    return g;
}

static void protocols_free(struct proto *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].meta);
    }
    free(p);
}

static int protocols_copy(const struct zc_group_join_req *req, struct proto **out)
{
    struct proto *p = calloc(req->n_protocols, sizeof(*p));

    if (!p)
        return -ENOMEM;
    for (size_t i = 0; i < req->n_protocols; i++) {
        const struct zc_group_protocol *src = &req->protocols[i];

        p[i].name = strdup(src->name);
        p[i].meta = malloc(src->metadata_len ? src->metadata_len : 1);
        if (!p[i].name || !p[i].meta) {
            protocols_free(p, i + 1);
            return -ENOMEM;
        }
        memcpy(p[i].meta, src->metadata, src->metadata_len);
        p[i].len = src->metadata_len;
    }
    *out = p;
    return 0;
}

static void member_free(struct member *m)
{
    if (!m)
        return;
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    protocols_free(m->protocols, m->n_protocols);
    free(m->assignment);
    free(m);
}

static struct member *member_find(struct group *g, const char *id, size_t *idx)
{
    for (size_t i = 0; i < g->n_members; i++)
        if (strcmp(g->members[i]->id, id) == 0) {
            if (idx)
                *idx = i;
            return g->members[i];
        }
    return NULL;
}

static ssize_t pending_find(struct group *g, const char *id)
{
    for (size_t i = 0; i < g->n_pending; i++)
        if (strcmp(g->pending[i].id, id) == 0)
            return (ssize_t)i;
    return -1;
}

static void pending_remove(struct group *g, size_t i)
{
    free(g->pending[i].id);
    g->pending[i] = g->pending[--g->n_pending];
}

static const struct proto *member_protocol(const struct member *m, const char *name)
{
    for (size_t i = 0; i < m->n_protocols; i++)
        if (strcmp(m->protocols[i].name, name) == 0)
            return &m->protocols[i];
    return NULL;
}

/* Is @name supported by every member other than @except? */
static bool all_support(const struct group *g, const char *name, const struct member *except)
{
    for (size_t i = 0; i < g->n_members; i++)
        if (g->members[i] != except && !member_protocol(g->members[i], name))
            return false;
    return true;
}

/* Kafka's rule: a member may (re)join a non-empty group only with the
 * group's protocol type and at least one protocol all the others support. */
static bool protocols_acceptable(const struct group *g, const struct zc_group_join_req *req,
                                 const struct member *self)
{
    size_t others = g->n_members - (self ? 1 : 0);

    if (!req->protocol_type || !req->protocol_type[0] || req->n_protocols == 0)
        return false;
    if (others == 0)
        return true;
    if (!str_eq(g->protocol_type, req->protocol_type))
        return false;
    for (size_t i = 0; i < req->n_protocols; i++)
        if (all_support(g, req->protocols[i].name, self))
            return true;
    return false;
}

/* Each member votes for the first protocol of its own preference order that
 * every member supports; the most votes win, ties go to the earlier one in
 * the first member's order. */
static const char *select_protocol(const struct group *g)
{
    const struct member *first = g->members[0];
    const char *best = first->protocols[0].name;
    size_t best_votes = 0;

    for (size_t i = 0; i < first->n_protocols; i++) {
        const char *cand = first->protocols[i].name;
        size_t votes = 0;

        if (!all_support(g, cand, NULL))
            continue;
        for (size_t j = 0; j < g->n_members; j++) {
            const struct member *m = g->members[j];

            for (size_t k = 0; k < m->n_protocols; k++)
                if (all_support(g, m->protocols[k].name, NULL)) {
                    votes += strcmp(m->protocols[k].name, cand) == 0;
                    break;
                }
        }
        if (best_votes == 0 || votes > best_votes) {
            best = cand;
            best_votes = votes ? votes : 1;
        }
    }
    return best;
}

static int32_t group_rebalance_timeout(const struct group *g)
{
    int32_t t = 0;

    for (size_t i = 0; i < g->n_members; i++)
        if (g->members[i]->rebalance_timeout_ms > t)
            t = g->members[i]->rebalance_timeout_ms;
    return t;
}

/* ---- answering parked requests ------------------------------------------ */

static void answer_join(struct zc_group_coord *c, zc_group_join_cb *cb, void *cookie,
                        const struct zc_group_join_result *res)
{
    if (cookie == c->call_cookie)
        c->call_done = true;
    cb(cookie, res);
}

static void answer_join_error(struct zc_group_coord *c, zc_group_join_cb *cb, void *cookie,
                              int16_t error, const char *member_id)
{
    struct zc_group_join_result res = {
        .error = error, .generation_id = -1, .protocol_name = "", .leader_id = "",
        .member_id = member_id ? member_id : "",
    };

    answer_join(c, cb, cookie, &res);
}

static void answer_sync(struct zc_group_coord *c, zc_group_sync_cb *cb, void *cookie,
                        int16_t error, const uint8_t *data, size_t len)
{
    if (cookie == c->call_cookie)
        c->call_done = true;
    cb(cookie, error, data, len);
}

static void member_fail_parked(struct zc_group_coord *c, struct member *m, int16_t error)
{
    if (m->join_cb) {
        zc_group_join_cb *cb = m->join_cb;

        m->join_cb = NULL;
        answer_join_error(c, cb, m->join_cookie, error, m->id);
    }
    if (m->sync_cb) {
        zc_group_sync_cb *cb = m->sync_cb;

        m->sync_cb = NULL;
        answer_sync(c, cb, m->sync_cookie, error, NULL, 0);
    }
}

/* The JoinGroup answer for the current generation: the leader also gets
 * every member's metadata for the chosen protocol. */
static void answer_join_current(struct zc_group_coord *c, struct group *g, struct member *m,
                                zc_group_join_cb *cb, void *cookie)
{
    struct zc_group_join_result res = {
        .error = ZC_GERR_NONE, .generation_id = g->generation,
        .protocol_name = g->protocol ? g->protocol : "",
        .leader_id = g->leader ? g->leader : "", .member_id = m->id,
    };
    struct zc_group_member_meta *list = NULL;

    if (g->leader && strcmp(g->leader, m->id) == 0) {
        list = calloc(g->n_members, sizeof(*list));
        if (!list) {
            answer_join_error(c, cb, cookie, ZC_GERR_COORDINATOR_NOT_AVAILABLE, m->id);
            return;
        }
        for (size_t i = 0; i < g->n_members; i++) {
            const struct member *o = g->members[i];
            const struct proto *p = member_protocol(o, g->protocol);

            list[i].member_id = o->id;
            list[i].group_instance_id = o->instance_id;
            list[i].metadata = p ? p->meta : NULL;
            list[i].metadata_len = p ? p->len : 0;
        }
        res.members = list;
        res.n_members = g->n_members;
    }
    answer_join(c, cb, cookie, &res);
    free(list);
}

/* ---- the state machine -------------------------------------------------- */

static void complete_join(struct zc_group_coord *c, struct group *g, int64_t now);

static void prepare_rebalance(struct zc_group_coord *c, struct group *g, int64_t now)
{
    int64_t rt = group_rebalance_timeout(g);
    bool initial = g->state == ZC_GROUP_EMPTY;

    /* Syncs waiting for the leader will never get this generation's
     * assignment. (Joins parked now belong to the coming phase.) */
    if (g->state == ZC_GROUP_COMPLETING_REBALANCE)
        for (size_t i = 0; i < g->n_members; i++) {
            struct member *m = g->members[i];
            zc_group_sync_cb *cb = m->sync_cb;

            if (cb) {
                m->sync_cb = NULL;
                answer_sync(c, cb, m->sync_cookie, ZC_GERR_REBALANCE_IN_PROGRESS, NULL, 0);
            }
        }
    for (size_t i = 0; i < g->n_members; i++) {
        free(g->members[i]->assignment);
        g->members[i]->assignment = NULL;
        g->members[i]->assignment_len = 0;
    }
    g->state = ZC_GROUP_PREPARING_REBALANCE;
    g->sync_deadline_ms = NEVER;
    g->initial_join = initial && c->cfg.initial_rebalance_delay_ms > 0;
    if (g->initial_join) {
        int64_t delay = c->cfg.initial_rebalance_delay_ms;

        g->join_deadline_ms = now + delay;
        g->initial_remaining_ms = rt > delay ? rt - delay : 0;
        g->new_member_added = false;
    } else {
        g->join_deadline_ms = now + rt;
    }
    note_deadline(c, g->join_deadline_ms);
}

static bool all_joined(const struct group *g)
{
    if (g->n_pending)
        return false;
    for (size_t i = 0; i < g->n_members; i++)
        if (!g->members[i]->awaiting_join)
            return false;
    return true;
}

/* The join phase ends early once every known member has rejoined, except
 * during the initial delay, which exists to wait for members not known yet. */
static void try_complete_join(struct zc_group_coord *c, struct group *g, int64_t now)
{
    if (g->state == ZC_GROUP_PREPARING_REBALANCE && !g->initial_join && all_joined(g))
        complete_join(c, g, now);
}

static void member_remove_at(struct group *g, size_t idx)
{
    struct member *m = g->members[idx];

    memmove(&g->members[idx], &g->members[idx + 1],
            (g->n_members - idx - 1) * sizeof(*g->members));
    g->n_members--;
    if (g->leader == m->id)
        g->leader = g->n_members ? g->members[0]->id : NULL;
    member_free(m);
}

static void complete_join(struct zc_group_coord *c, struct group *g, int64_t now)
{
    /* Members that did not rejoin in time are out of the new generation. */
    for (size_t i = 0; i < g->n_members;) {
        if (!g->members[i]->awaiting_join) {
            member_fail_parked(c, g->members[i], ZC_GERR_UNKNOWN_MEMBER_ID);
            member_remove_at(g, i);
        } else {
            i++;
        }
    }
    g->join_deadline_ms = NEVER;
    g->initial_join = false;
    g->generation++;
    free(g->protocol);
    g->protocol = NULL;
    if (g->n_members == 0) {
        g->state = ZC_GROUP_EMPTY;
        free(g->protocol_type);
        g->protocol_type = NULL;
        return;
    }
    g->protocol = strdup(select_protocol(g));
    if (!g->leader)
        g->leader = g->members[0]->id;
    g->state = ZC_GROUP_COMPLETING_REBALANCE;
    g->sync_deadline_ms = now + group_rebalance_timeout(g);
    note_deadline(c, g->sync_deadline_ms);
    for (size_t i = 0; i < g->n_members; i++) {
        struct member *m = g->members[i];
        zc_group_join_cb *cb = m->join_cb;

        m->awaiting_join = false;
        m->synced = false;
        m->last_seen_ms = now;      /* the session restarts with the answer */
        note_deadline(c, now + m->session_timeout_ms);
        if (!cb)
            continue;
        m->join_cb = NULL;
        if (!g->protocol)
            answer_join_error(c, cb, m->join_cookie, ZC_GERR_COORDINATOR_NOT_AVAILABLE, m->id);
        else
            answer_join_current(c, g, m, cb, m->join_cookie);
    }
}

/* A member leaves (LeaveGroup, session timeout, no sync in time): its parked
 * requests fail and the others rebalance. */
static void remove_member(struct zc_group_coord *c, struct group *g, size_t idx, int64_t now)
{
    member_fail_parked(c, g->members[idx], ZC_GERR_UNKNOWN_MEMBER_ID);
    member_remove_at(g, idx);
    if (g->state == ZC_GROUP_STABLE || g->state == ZC_GROUP_COMPLETING_REBALANCE)
        prepare_rebalance(c, g, now);
    try_complete_join(c, g, now);
}

/* ---- public calls -------------------------------------------------------- */

struct zc_group_coord *zc_group_coord_new(const struct zc_group_config *cfg)
{
    struct zc_group_coord *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    if (cfg)
        c->cfg = *cfg;
    if (c->cfg.initial_rebalance_delay_ms == 0)
        c->cfg.initial_rebalance_delay_ms = DEFAULT_INITIAL_DELAY_MS;
    if (c->cfg.min_session_timeout_ms <= 0)
        c->cfg.min_session_timeout_ms = DEFAULT_MIN_SESSION_MS;
    if (c->cfg.max_session_timeout_ms <= 0)
        c->cfg.max_session_timeout_ms = DEFAULT_MAX_SESSION_MS;
    if (zc_htab_init(&c->groups) < 0 || pthread_mutex_init(&c->lock, NULL) != 0) {
        zc_htab_free(&c->groups);
        free(c);
        errno = ENOMEM;
        return NULL;
    }
    c->next_deadline_ms = NEVER;
    return c;
}

static void group_free(struct group *g)
{
    for (size_t i = 0; i < g->n_members; i++)
        member_free(g->members[i]);
    free(g->members);
    for (size_t i = 0; i < g->n_pending; i++)
        free(g->pending[i].id);
    free(g->pending);
    free(g->protocol_type);
    free(g->protocol);
    free(g->id);
    free(g);
}

void zc_group_coord_free(struct zc_group_coord *c)
{
    if (!c)
        return;
    zc_htab_each(&c->groups, i, n)
        group_free((struct group *)n);
    zc_htab_free(&c->groups);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void zc_group_coord_shutdown(struct zc_group_coord *c)
{
    pthread_mutex_lock(&c->lock);
    c->shut = true;
    c->call_cookie = NULL;
    zc_htab_each(&c->groups, i, n) {
        struct group *g = (struct group *)n;

        for (size_t j = 0; j < g->n_members; j++)
            member_fail_parked(c, g->members[j], ZC_GERR_NOT_COORDINATOR);
        g->state = ZC_GROUP_DEAD;
        g->join_deadline_ms = g->sync_deadline_ms = NEVER;
    }
    c->next_deadline_ms = NEVER;
    pthread_mutex_unlock(&c->lock);
}

/* "<client id>-<uuid v4>", as Kafka names members. */
static char *new_member_id(struct zc_group_coord *c, const char *client_id)
{
    uint8_t r[16];
    char *id;
    size_t n;

    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        /* No entropy yet: a counter still keeps ids unique in this process. */
        uint64_t k = ++c->id_counter;

        memset(r, 0, sizeof(r));
        memcpy(r, &k, sizeof(k));
        memcpy(r + 8, &c, sizeof(c) < 8 ? sizeof(c) : 8);
    }
    r[6] = (uint8_t)((r[6] & 0x0f) | 0x40);
    r[8] = (uint8_t)((r[8] & 0x3f) | 0x80);
    n = strlen(client_id) + 38;
    id = malloc(n);
    if (!id)
        return NULL;
    snprintf(id, n,
             "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             client_id, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9],
             r[10], r[11], r[12], r[13], r[14], r[15]);
    return id;
}

static int member_set_from_req(struct member *m, const struct zc_group_join_req *req)
{
    struct proto *p;

    if (protocols_copy(req, &p) < 0)
        return -ENOMEM;
    protocols_free(m->protocols, m->n_protocols);
    m->protocols = p;
    m->n_protocols = req->n_protocols;
    m->session_timeout_ms = req->session_timeout_ms;
    m->rebalance_timeout_ms = req->rebalance_timeout_ms < 0 ? req->session_timeout_ms
                                                            : req->rebalance_timeout_ms;
    return 0;
}

static bool same_protocols(const struct member *m, const struct zc_group_join_req *req)
{
    if (m->n_protocols != req->n_protocols)
        return false;
    for (size_t i = 0; i < m->n_protocols; i++) {
        const struct zc_group_protocol *p = &req->protocols[i];

        if (strcmp(m->protocols[i].name, p->name) != 0 || m->protocols[i].len != p->metadata_len ||
            (p->metadata_len && memcmp(m->protocols[i].meta, p->metadata, p->metadata_len)))
            return false;
    }
    return true;
}

/* A new member enters with its join parked; the group rebalances. */
static int add_member_and_rebalance(struct zc_group_coord *c, struct group *g,
                                    const struct zc_group_join_req *req, char *id,
                                    int64_t now, zc_group_join_cb *cb, void *cookie)
{
    struct member *m = calloc(1, sizeof(*m));

    if (g->n_members == g->cap_members) {
        size_t cap = g->cap_members ? g->cap_members * 2 : 4;
        struct member **a = realloc(g->members, cap * sizeof(*a));

        if (!a)
            goto nomem;
        g->members = a;
        g->cap_members = cap;
    }
    if (!m || member_set_from_req(m, req) < 0)
        goto nomem;
    m->id = id;
    m->instance_id = dup_or_null(req->group_instance_id);
    m->client_id = strdup(req->client_id ? req->client_id : "");
    m->client_host = strdup(req->client_host ? req->client_host : "");
    if ((req->group_instance_id && !m->instance_id) || !m->client_id || !m->client_host) {
        m->id = NULL;
        goto nomem;
    }
    if (g->n_members == 0) {
        free(g->protocol_type);
        g->protocol_type = strdup(req->protocol_type);
        if (!g->protocol_type) {
            m->id = NULL;
            goto nomem;
        }
    }
    m->last_seen_ms = now;
    m->awaiting_join = true;
    m->join_cb = cb;
    m->join_cookie = cookie;
    g->members[g->n_members++] = m;
    if (!g->leader)
        g->leader = m->id;
    if (g->state == ZC_GROUP_PREPARING_REBALANCE && g->initial_join)
        g->new_member_added = true;
    if (g->state != ZC_GROUP_PREPARING_REBALANCE)
        prepare_rebalance(c, g, now);
    try_complete_join(c, g, now);
    return 0;

nomem:
    member_free(m);
    free(id);
    return -ENOMEM;
}

/* A known member rejoins: new metadata, its join parked until the phase ends. */
static int update_member_and_rebalance(struct zc_group_coord *c, struct group *g,
                                       struct member *m, const struct zc_group_join_req *req,
                                       int64_t now, zc_group_join_cb *cb, void *cookie)
{
    if (member_set_from_req(m, req) < 0)
        return -ENOMEM;
    if (m->join_cb) {
        /* A second join from the same member: the first one's connection is
         * stale (clients keep one join in flight); tell it to start over. */
        zc_group_join_cb *old = m->join_cb;

        m->join_cb = NULL;
        answer_join_error(c, old, m->join_cookie, ZC_GERR_REBALANCE_IN_PROGRESS, m->id);
    }
    m->awaiting_join = true;
    m->join_cb = cb;
    m->join_cookie = cookie;
    if (g->state != ZC_GROUP_PREPARING_REBALANCE)
        prepare_rebalance(c, g, now);
    try_complete_join(c, g, now);
    return 0;
}

static struct member *member_by_instance(struct group *g, const char *instance_id)
{
    for (size_t i = 0; instance_id && i < g->n_members; i++)
        if (str_eq(g->members[i]->instance_id, instance_id))
            return g->members[i];
    return NULL;
}

/* A static member rejoins with a fresh id (its process restarted): the
 * record keeps its place and assignment under the new id; requests still
 * waiting under the old one are fenced. In a stable group with unchanged
 * metadata there is no rebalance at all (KIP-345's point): the answer is
 * the current generation, naming the current leader (never the rejoiner as
 * a new leader, so no client reassigns a stable group). */
static int static_rejoin(struct zc_group_coord *c, struct group *g, struct member *m,
                         const struct zc_group_join_req *req, int64_t now,
                         zc_group_join_cb *cb, void *cookie)
{
    char *id = new_member_id(c, req->client_id ? req->client_id : "");
    char *leader_before;
    bool was_leader = g->leader == m->id;

    if (!id)
        return -ENOMEM;
    leader_before = strdup(g->leader ? g->leader : "");
    if (!leader_before) {
        free(id);
        return -ENOMEM;
    }
    member_fail_parked(c, m, ZC_GERR_FENCED_INSTANCE_ID);
    free(m->id);
    m->id = id;
    if (was_leader)
        g->leader = m->id;
    m->last_seen_ms = now;
    if (g->state == ZC_GROUP_STABLE && same_protocols(m, req)) {
        struct zc_group_join_result res = {
            .error = ZC_GERR_NONE, .generation_id = g->generation,
            .protocol_name = g->protocol ? g->protocol : "", .leader_id = leader_before,
            .member_id = m->id,
        };

        answer_join(c, cb, cookie, &res);
        free(leader_before);
        return 0;
    }
    free(leader_before);
    return update_member_and_rebalance(c, g, m, req, now, cb, cookie);
}

static int join_locked(struct zc_group_coord *c, const struct zc_group_join_req *req,
                       int64_t now, zc_group_join_cb *cb, void *cookie)
{
    const char *mid = req->member_id ? req->member_id : "";
    struct group *g;
    struct member *m;
    ssize_t pi;

    if (c->shut) {
        answer_join_error(c, cb, cookie, ZC_GERR_NOT_COORDINATOR, mid);
        return 0;
    }
    if (!req->group_id || !req->group_id[0]) {
        answer_join_error(c, cb, cookie, ZC_GERR_INVALID_GROUP_ID, mid);
        return 0;
    }
    if (req->session_timeout_ms < c->cfg.min_session_timeout_ms ||
        req->session_timeout_ms > c->cfg.max_session_timeout_ms) {
        answer_join_error(c, cb, cookie, ZC_GERR_INVALID_SESSION_TIMEOUT, mid);
        return 0;
    }
    g = group_find(c, req->group_id);
    if (!g) {
        if (mid[0]) {
            answer_join_error(c, cb, cookie, ZC_GERR_UNKNOWN_MEMBER_ID, mid);
            return 0;
        }
        g = group_create(c, req->group_id);
        if (!g)
            return -ENOMEM;
    }
    /* A static member (KIP-345) comes back without its id: find it by its
     * group.instance.id. */
    m = mid[0] ? member_find(g, mid, NULL) : member_by_instance(g, req->group_instance_id);
    if (!protocols_acceptable(g, req, m)) {
        answer_join_error(c, cb, cookie, ZC_GERR_INCONSISTENT_GROUP_PROTOCOL, mid);
        return 0;
    }

    if (!mid[0] && m)
        return static_rejoin(c, g, m, req, now, cb, cookie);
    if (!mid[0]) {
        char *id;

        if (c->cfg.max_group_size &&
            g->n_members + g->n_pending >= c->cfg.max_group_size) {
            answer_join_error(c, cb, cookie, ZC_GERR_GROUP_MAX_SIZE_REACHED, mid);
            return 0;
        }
        id = new_member_id(c, req->client_id ? req->client_id : "");
        if (!id)
            return -ENOMEM;
        /* Static members skip it, as in Kafka: their instance id already
         * names them. */
        if (req->require_known_member_id && !req->group_instance_id) {
            /* KIP-394: the id comes back first, so a client that loses this
             * answer leaves no orphan member behind a rebalance. */
            if (g->n_pending == g->cap_pending) {
                size_t cap = g->cap_pending ? g->cap_pending * 2 : 4;
                struct pending *a = realloc(g->pending, cap * sizeof(*a));

                if (!a) {
                    free(id);
                    return -ENOMEM;
                }
                g->pending = a;
                g->cap_pending = cap;
            }
            g->pending[g->n_pending].id = id;
            g->pending[g->n_pending].deadline_ms = now + req->session_timeout_ms;
            note_deadline(c, g->pending[g->n_pending].deadline_ms);
            g->n_pending++;
            answer_join_error(c, cb, cookie, ZC_GERR_MEMBER_ID_REQUIRED, id);
            return 0;
        }
        return add_member_and_rebalance(c, g, req, id, now, cb, cookie);
    }

    pi = pending_find(g, mid);
    if (pi >= 0) {
        char *id = strdup(mid);

        if (!id)
            return -ENOMEM;
        pending_remove(g, (size_t)pi);
        return add_member_and_rebalance(c, g, req, id, now, cb, cookie);
    }
    if (!m) {
        answer_join_error(c, cb, cookie, ZC_GERR_UNKNOWN_MEMBER_ID, mid);
        return 0;
    }
    m->last_seen_ms = now;
    switch (g->state) {
    case ZC_GROUP_PREPARING_REBALANCE:
        return update_member_and_rebalance(c, g, m, req, now, cb, cookie);
    case ZC_GROUP_COMPLETING_REBALANCE:
        /* Same metadata: the member lost our answer; give it again. */
        if (same_protocols(m, req)) {
            answer_join_current(c, g, m, cb, cookie);
            return 0;
        }
        return update_member_and_rebalance(c, g, m, req, now, cb, cookie);
    case ZC_GROUP_STABLE:
        /* The leader rejoining means it wants a new assignment (e.g. the
         * topics it watches changed), so it always rebalances. */
        if (strcmp(g->leader, m->id) == 0 || !same_protocols(m, req))
            return update_member_and_rebalance(c, g, m, req, now, cb, cookie);
        answer_join_current(c, g, m, cb, cookie);
        return 0;
    case ZC_GROUP_EMPTY:
    case ZC_GROUP_DEAD:
        break;
    }
    answer_join_error(c, cb, cookie, ZC_GERR_UNKNOWN_MEMBER_ID, mid);
    return 0;
}

int zc_group_join(struct zc_group_coord *c, const struct zc_group_join_req *req,
                  int64_t now_ms, zc_group_join_cb *cb, void *cookie)
{
    int ret;

    pthread_mutex_lock(&c->lock);
    c->call_cookie = cookie;
    c->call_done = false;
    ret = join_locked(c, req, now_ms, cb, cookie);
    if (ret == 0)
        ret = c->call_done ? ZC_GROUP_DONE : ZC_GROUP_PARKED;
    c->call_cookie = NULL;
    pthread_mutex_unlock(&c->lock);
    return ret;
}

/* The leader's assignment: every member gets its part (empty if none). */
static int set_assignments(struct group *g, const struct zc_group_sync_req *req)
{
    uint8_t **copies = calloc(g->n_members, sizeof(*copies));
    size_t *lens = calloc(g->n_members, sizeof(*lens));
    int ret = 0;

    if (!copies || !lens) {
        ret = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < req->n_assignments; i++) {
        const struct zc_group_assignment *a = &req->assignments[i];
        size_t idx;

        if (!a->member_id || !member_find(g, a->member_id, &idx) || copies[idx])
            continue;
        copies[idx] = malloc(a->len ? a->len : 1);
        if (!copies[idx]) {
            ret = -ENOMEM;
            goto out;
        }
        memcpy(copies[idx], a->data, a->len);
        lens[idx] = a->len;
    }
    for (size_t i = 0; i < g->n_members; i++) {
        free(g->members[i]->assignment);
        g->members[i]->assignment = copies[i];
        g->members[i]->assignment_len = lens[i];
        copies[i] = NULL;
    }
out:
    if (copies)
        for (size_t i = 0; i < g->n_members; i++)
            free(copies[i]);
    free(copies);
    free(lens);
    return ret;
}

static void note_all_synced(struct group *g)
{
    for (size_t i = 0; i < g->n_members; i++)
        if (!g->members[i]->synced)
            return;
    g->sync_deadline_ms = NEVER;
}

static int sync_locked(struct zc_group_coord *c, const struct zc_group_sync_req *req,
                       int64_t now, zc_group_sync_cb *cb, void *cookie)
{
    struct group *g;
    struct member *m;

    if (c->shut) {
        answer_sync(c, cb, cookie, ZC_GERR_NOT_COORDINATOR, NULL, 0);
        return 0;
    }
    g = req->group_id ? group_find(c, req->group_id) : NULL;
    m = g && req->member_id ? member_find(g, req->member_id, NULL) : NULL;
    if (!m) {
        answer_sync(c, cb, cookie, ZC_GERR_UNKNOWN_MEMBER_ID, NULL, 0);
        return 0;
    }
    if (req->generation_id != g->generation) {
        answer_sync(c, cb, cookie, ZC_GERR_ILLEGAL_GENERATION, NULL, 0);
        return 0;
    }
    m->last_seen_ms = now;
    switch (g->state) {
    case ZC_GROUP_PREPARING_REBALANCE:
        answer_sync(c, cb, cookie, ZC_GERR_REBALANCE_IN_PROGRESS, NULL, 0);
        return 0;
    case ZC_GROUP_COMPLETING_REBALANCE:
        if (strcmp(g->leader, m->id) == 0) {
            if (set_assignments(g, req) < 0)
                return -ENOMEM;
        }
        if (m->sync_cb) {
            zc_group_sync_cb *old = m->sync_cb;

            m->sync_cb = NULL;
            answer_sync(c, old, m->sync_cookie, ZC_GERR_REBALANCE_IN_PROGRESS, NULL, 0);
        }
        m->synced = true;
        m->sync_cb = cb;
        m->sync_cookie = cookie;
        if (strcmp(g->leader, m->id) == 0) {
            g->state = ZC_GROUP_STABLE;
            for (size_t i = 0; i < g->n_members; i++) {
                struct member *o = g->members[i];
                zc_group_sync_cb *ocb = o->sync_cb;

                if (!ocb)
                    continue;
                o->sync_cb = NULL;
                o->last_seen_ms = now;
                answer_sync(c, ocb, o->sync_cookie, ZC_GERR_NONE, o->assignment,
                            o->assignment_len);
            }
        }
        note_all_synced(g);
        return 0;
    case ZC_GROUP_STABLE:
        m->synced = true;
        note_all_synced(g);
        answer_sync(c, cb, cookie, ZC_GERR_NONE, m->assignment, m->assignment_len);
        return 0;
    case ZC_GROUP_EMPTY:
    case ZC_GROUP_DEAD:
        break;
    }
    answer_sync(c, cb, cookie, ZC_GERR_UNKNOWN_MEMBER_ID, NULL, 0);
    return 0;
}

int zc_group_sync(struct zc_group_coord *c, const struct zc_group_sync_req *req,
                  int64_t now_ms, zc_group_sync_cb *cb, void *cookie)
{
    int ret;

    pthread_mutex_lock(&c->lock);
    c->call_cookie = cookie;
    c->call_done = false;
    ret = sync_locked(c, req, now_ms, cb, cookie);
    if (ret == 0)
        ret = c->call_done ? ZC_GROUP_DONE : ZC_GROUP_PARKED;
    c->call_cookie = NULL;
    pthread_mutex_unlock(&c->lock);
    return ret;
}

bool zc_group_cancel(struct zc_group_coord *c, void *cookie)
{
    bool found = false;

    pthread_mutex_lock(&c->lock);
    zc_htab_each(&c->groups, i, n) {
        struct group *g = (struct group *)n;

        for (size_t j = 0; j < g->n_members && !found; j++) {
            struct member *m = g->members[j];

            if (m->join_cb && m->join_cookie == cookie) {
                m->join_cb = NULL;
                found = true;
            } else if (m->sync_cb && m->sync_cookie == cookie) {
                m->sync_cb = NULL;
                found = true;
            }
            /* Nobody waits any more: its session clock runs again. */
            if (found)
                note_deadline(c, m->last_seen_ms + m->session_timeout_ms);
        }
        if (found)
            break;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

/* The checks Heartbeat and OffsetCommit share: the member exists and is of
 * the current generation. Sets *out. */
static int16_t check_member(struct zc_group_coord *c, const char *group_id,
                            int32_t generation_id, const char *member_id,
                            struct group **gout, struct member **out)
{
    struct group *g;

    if (c->shut)
        return ZC_GERR_NOT_COORDINATOR;
    g = group_id ? group_find(c, group_id) : NULL;
    *gout = g;
    *out = g && member_id ? member_find(g, member_id, NULL) : NULL;
    if (!*out)
        return ZC_GERR_UNKNOWN_MEMBER_ID;
    if (generation_id != g->generation)
        return ZC_GERR_ILLEGAL_GENERATION;
    return ZC_GERR_NONE;
}

int16_t zc_group_heartbeat(struct zc_group_coord *c, const char *group_id,
                           int32_t generation_id, const char *member_id, int64_t now_ms)
{
    struct group *g;
    struct member *m;
    int16_t err;

    pthread_mutex_lock(&c->lock);
    err = check_member(c, group_id, generation_id, member_id, &g, &m);
    if (err == ZC_GERR_NONE) {
        m->last_seen_ms = now_ms;
        if (g->state == ZC_GROUP_PREPARING_REBALANCE)
            err = ZC_GERR_REBALANCE_IN_PROGRESS;
    }
    pthread_mutex_unlock(&c->lock);
    return err;
}

int16_t zc_group_leave(struct zc_group_coord *c, const char *group_id,
                       const char *member_id, int64_t now_ms)
{
    int16_t err = ZC_GERR_UNKNOWN_MEMBER_ID;
    struct group *g;
    size_t idx;
    ssize_t pi;

    pthread_mutex_lock(&c->lock);
    c->call_cookie = NULL;
    if (c->shut) {
        err = ZC_GERR_NOT_COORDINATOR;
    } else if (group_id && member_id && (g = group_find(c, group_id))) {
        if ((pi = pending_find(g, member_id)) >= 0) {
            pending_remove(g, (size_t)pi);
            try_complete_join(c, g, now_ms);
            err = ZC_GERR_NONE;
        } else if (member_find(g, member_id, &idx)) {
            remove_member(c, g, idx, now_ms);
            err = ZC_GERR_NONE;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return err;
}

int16_t zc_group_commit_check(struct zc_group_coord *c, const char *group_id,
                              int32_t generation_id, const char *member_id, int64_t now_ms)
{
    bool simple = generation_id < 0 && (!member_id || !member_id[0]);
    struct group *g;
    struct member *m;
    int16_t err;

    pthread_mutex_lock(&c->lock);
    if (c->shut) {
        err = ZC_GERR_NOT_COORDINATOR;
        goto out;
    }
    if (!group_id || !group_id[0]) {
        err = ZC_GERR_INVALID_GROUP_ID;
        goto out;
    }
    g = group_find(c, group_id);
    if (simple) {
        /* Offsets kept for a group Kafka does not manage: fine while no
         * member is managed under that name. The group shows in ListGroups. */
        if (!g && !group_create(c, group_id))
            err = ZC_GERR_COORDINATOR_NOT_AVAILABLE;
        else
            err = g && g->n_members ? ZC_GERR_UNKNOWN_MEMBER_ID : ZC_GERR_NONE;
        goto out;
    }
    if (!g) {
        err = ZC_GERR_ILLEGAL_GENERATION;   /* from a generation we never had */
        goto out;
    }
    err = check_member(c, group_id, generation_id, member_id, &g, &m);
    if (err != ZC_GERR_NONE)
        goto out;
    if (g->state == ZC_GROUP_COMPLETING_REBALANCE) {
        err = ZC_GERR_REBALANCE_IN_PROGRESS;
        goto out;
    }
    m->last_seen_ms = now_ms;
out:
    pthread_mutex_unlock(&c->lock);
    return err;
}

static bool kept_alive(const struct member *m)
{
    return m->join_cb || m->sync_cb;
}

/* Fire @g's timers due at @now; returns its next deadline. */
static int64_t group_tick(struct zc_group_coord *c, struct group *g, int64_t now)
{
    int64_t next = NEVER;
    bool again;

    do {
        again = false;
        for (size_t i = 0; i < g->n_pending; i++)
            if (now >= g->pending[i].deadline_ms) {
                pending_remove(g, i);
                try_complete_join(c, g, now);
                again = true;
                break;
            }
        for (size_t i = 0; !again && i < g->n_members; i++) {
            struct member *m = g->members[i];

            if (!kept_alive(m) && now >= m->last_seen_ms + m->session_timeout_ms) {
                remove_member(c, g, i, now);
                again = true;
            }
        }
        if (!again && g->state == ZC_GROUP_PREPARING_REBALANCE && now >= g->join_deadline_ms) {
            if (g->initial_join && g->new_member_added && g->initial_remaining_ms > 0) {
                int64_t d = c->cfg.initial_rebalance_delay_ms;

                if (d > g->initial_remaining_ms)
                    d = g->initial_remaining_ms;
                g->initial_remaining_ms -= d;
                g->new_member_added = false;
                g->join_deadline_ms = now + d;
            } else {
                complete_join(c, g, now);
            }
            again = true;
        }
        if (!again && (g->state == ZC_GROUP_COMPLETING_REBALANCE ||
                       g->state == ZC_GROUP_STABLE) && now >= g->sync_deadline_ms) {
            /* Members that never sent SyncGroup this generation (a leader
             * that never assigns, a follower that vanished) are removed. */
            g->sync_deadline_ms = NEVER;
            for (size_t i = 0; i < g->n_members; i++)
                g->members[i]->doomed = !g->members[i]->synced;
            again = true;
        }
        /* Removal by removal: each one may move the state machine on. */
        for (size_t i = 0; !again && i < g->n_members; i++)
            if (g->members[i]->doomed) {
                remove_member(c, g, i, now);
                again = true;
            }
    } while (again);

    for (size_t i = 0; i < g->n_pending; i++)
        if (g->pending[i].deadline_ms < next)
            next = g->pending[i].deadline_ms;
    for (size_t i = 0; i < g->n_members; i++) {
        struct member *m = g->members[i];

        if (!kept_alive(m) && m->last_seen_ms + m->session_timeout_ms < next)
            next = m->last_seen_ms + m->session_timeout_ms;
    }
    if (g->state == ZC_GROUP_PREPARING_REBALANCE && g->join_deadline_ms < next)
        next = g->join_deadline_ms;
    if ((g->state == ZC_GROUP_COMPLETING_REBALANCE || g->state == ZC_GROUP_STABLE) &&
        g->sync_deadline_ms < next)
        next = g->sync_deadline_ms;
    return next;
}

int64_t zc_group_tick(struct zc_group_coord *c, int64_t now_ms)
{
    int64_t next = NEVER;

    pthread_mutex_lock(&c->lock);
    c->call_cookie = NULL;
    if (!c->shut && now_ms >= c->next_deadline_ms) {
        zc_htab_each(&c->groups, i, n) {
            int64_t t = group_tick(c, (struct group *)n, now_ms);

            if (t < next)
                next = t;
        }
        c->next_deadline_ms = next;
    }
    next = c->next_deadline_ms;
    pthread_mutex_unlock(&c->lock);
    return next;
}

int64_t zc_group_next_deadline(struct zc_group_coord *c)
{
    int64_t t;

    pthread_mutex_lock(&c->lock);
    t = c->next_deadline_ms;
    pthread_mutex_unlock(&c->lock);
    return t;
}

void zc_group_list(struct zc_group_coord *c,
                   void (*fn)(void *arg, const char *group_id, const char *protocol_type,
                              enum zc_group_state state),
                   void *arg)
{
    pthread_mutex_lock(&c->lock);
    zc_htab_each(&c->groups, i, n) {
        struct group *g = (struct group *)n;

        if (g->state != ZC_GROUP_DEAD)
            fn(arg, g->id, g->protocol_type ? g->protocol_type : "", g->state);
    }
    pthread_mutex_unlock(&c->lock);
}

int zc_group_describe(struct zc_group_coord *c, const char *group_id,
                      void (*fn)(void *arg, const struct zc_group_desc *d), void *arg)
{
    struct zc_group_desc d = {
        .group_id = group_id, .state = ZC_GROUP_DEAD, .protocol_type = "", .protocol_name = "",
    };
    struct zc_group_member_desc *list = NULL;
    struct group *g;

    pthread_mutex_lock(&c->lock);
    g = group_find(c, group_id);
    if (c->shut) {
        d.error = ZC_GERR_NOT_COORDINATOR;
    } else if (g) {
        d.state = g->state;
        d.protocol_type = g->protocol_type ? g->protocol_type : "";
        d.protocol_name = g->protocol ? g->protocol : "";
        if (g->n_members) {
            list = calloc(g->n_members, sizeof(*list));
            if (!list) {
                pthread_mutex_unlock(&c->lock);
                return -ENOMEM;
            }
        }
        for (size_t i = 0; i < g->n_members; i++) {
            const struct member *m = g->members[i];
            const struct proto *p = g->protocol ? member_protocol(m, g->protocol) : NULL;

            list[i] = (struct zc_group_member_desc){
                .member_id = m->id, .group_instance_id = m->instance_id,
                .client_id = m->client_id, .client_host = m->client_host,
                .metadata = p ? p->meta : NULL, .metadata_len = p ? p->len : 0,
                .assignment = m->assignment, .assignment_len = m->assignment_len,
            };
        }
        d.members = list;
        d.n_members = g->n_members;
    }
    fn(arg, &d);
    pthread_mutex_unlock(&c->lock);
    free(list);
    return 0;
}
