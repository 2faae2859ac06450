/* test_group.c - the group coordinator's state machine, driven by a fake
 * clock: joins (with the MEMBER_ID_REQUIRED round), the initial delay,
 * leader election, syncs, heartbeats, leaves, session, rebalance and sync
 * timeouts, the error codes, cancel, shutdown, describe/list, many groups. */
#include "broker/group.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"

#define SESSION 10000
#define REBALANCE 20000
#define DELAY 300

/* One client request's answer, as a connection would park it. */
struct call {
    int calls;
    int16_t err;
    int32_t gen;
    char member_id[160], leader[160], protocol[32];
    size_t n_members;
    char members[4][160];
    char meta[4][32];
    char assign[64];
    size_t assign_len;
};

static void on_join(void *cookie, const struct zc_group_join_result *r)
{
    struct call *k = cookie;

    k->calls++;
    k->err = r->error;
    k->gen = r->generation_id;
    snprintf(k->member_id, sizeof(k->member_id), "%s", r->member_id);
    snprintf(k->leader, sizeof(k->leader), "%s", r->leader_id);
    snprintf(k->protocol, sizeof(k->protocol), "%s", r->protocol_name);
    k->n_members = r->n_members;
    for (size_t i = 0; i < r->n_members && i < 4; i++) {
        snprintf(k->members[i], sizeof(k->members[i]), "%s", r->members[i].member_id);
        snprintf(k->meta[i], sizeof(k->meta[i]), "%.*s", (int)r->members[i].metadata_len,
                 (const char *)r->members[i].metadata);
    }
}

static void on_sync(void *cookie, int16_t err, const uint8_t *a, size_t len)
{
    struct call *k = cookie;

    k->calls++;
    k->err = err;
    k->assign_len = len < sizeof(k->assign) ? len : sizeof(k->assign);
    if (len)
        memcpy(k->assign, a, k->assign_len);
}

struct client {
    const char *group;
    const char *client_id;
    const char *meta;               /* metadata of every protocol it offers */
    const char *protos[3];          /* NULL-terminated; default {"range"} */
    const char *type;               /* default "consumer" */
    int32_t session_ms;
    bool v4;                        /* require_known_member_id */
    char id[160];
    int32_t gen;
    struct call join, sync;
};

static struct zc_group_coord *coord_new(int64_t delay)
{
    struct zc_group_config cfg = {
        .initial_rebalance_delay_ms = delay, .min_session_timeout_ms = 1000,
    };

    return zc_group_coord_new(&cfg);
}

static int do_join(struct zc_group_coord *c, struct client *cl, int64_t now)
{
    struct zc_group_protocol p[3];
    size_t n = 0;
    struct zc_group_join_req req = {
        .group_id = cl->group, .member_id = cl->id, .client_id = cl->client_id,
        .client_host = "/127.0.0.1", .protocol_type = cl->type ? cl->type : "consumer",
        .session_timeout_ms = cl->session_ms ? cl->session_ms : SESSION,
        .rebalance_timeout_ms = REBALANCE, .protocols = p,
        .require_known_member_id = cl->v4,
    };

    for (; n < 3 && cl->protos[n]; n++)
        p[n] = (struct zc_group_protocol){ cl->protos[n], (const uint8_t *)cl->meta,
                                           strlen(cl->meta) };
    if (n == 0)
        p[n++] = (struct zc_group_protocol){ "range", (const uint8_t *)cl->meta,
                                             strlen(cl->meta) };
    req.n_protocols = n;
    memset(&cl->join, 0, sizeof(cl->join));
    return zc_group_join(c, &req, now, on_join, &cl->join);
}

/* After a successful join answer: remember the id and generation. */
static void took(struct client *cl)
{
    if (cl->join.err == 0 || cl->join.err == ZC_GERR_MEMBER_ID_REQUIRED)
        snprintf(cl->id, sizeof(cl->id), "%s", cl->join.member_id);
    if (cl->join.err == 0)
        cl->gen = cl->join.gen;
}

static int do_sync(struct zc_group_coord *c, struct client *cl, int64_t now,
                   const struct zc_group_assignment *a, size_t n)
{
    struct zc_group_sync_req req = {
        .group_id = cl->group, .generation_id = cl->gen, .member_id = cl->id,
        .assignments = a, .n_assignments = n,
    };

    memset(&cl->sync, 0, sizeof(cl->sync));
    return zc_group_sync(c, &req, now, on_sync, &cl->sync);
}

static int16_t do_hb(struct zc_group_coord *c, struct client *cl, int64_t now)
{
    return zc_group_heartbeat(c, cl->group, cl->gen, cl->id, now);
}

struct desc_copy {
    int16_t error;
    enum zc_group_state state;
    char protocol[32], type[32];
    size_t n;
    char client_ids[4][32];
    char assign[4][32];
};

static void on_desc(void *arg, const struct zc_group_desc *d)
{
    struct desc_copy *out = arg;

    out->error = d->error;
    out->state = d->state;
    snprintf(out->protocol, sizeof(out->protocol), "%s", d->protocol_name);
    snprintf(out->type, sizeof(out->type), "%s", d->protocol_type);
    out->n = d->n_members;
    for (size_t i = 0; i < d->n_members && i < 4; i++) {
        snprintf(out->client_ids[i], 32, "%s", d->members[i].client_id);
        snprintf(out->assign[i], 32, "%.*s", (int)d->members[i].assignment_len,
                 (const char *)d->members[i].assignment);
    }
}

static struct desc_copy describe(struct zc_group_coord *c, const char *group)
{
    struct desc_copy d;

    memset(&d, 0, sizeof(d));
    zc_group_describe(c, group, on_desc, &d);
    return d;
}

/* Joins made at @t0 during an initial delay complete after two delays
 * (the arrivals extended it once). */
static void settle(struct zc_group_coord *c, int64_t t0)
{
    zc_group_tick(c, t0 + DELAY);
    zc_group_tick(c, t0 + 2 * DELAY);
}

/* v4 client: MEMBER_ID_REQUIRED, then a real join that parks. */
static void test_member_id_required_and_initial_delay(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "rdkafka", .meta = "A", .v4 = true };
    struct zc_group_assignment as = { NULL, (const uint8_t *)"parts-A", 7 };
    int ret;

    ret = do_join(c, &a, 0);
    t_is_int(ret, ZC_GROUP_DONE, "v4 first join answered at once");
    t_is_int(a.join.err, ZC_GERR_MEMBER_ID_REQUIRED, "... with MEMBER_ID_REQUIRED");
    t_ok(strncmp(a.join.member_id, "rdkafka-", 8) == 0 && strlen(a.join.member_id) == 8 + 36,
         "member id is client id + uuid: %s", a.join.member_id);
    took(&a);
    t_is_int(describe(c, "g").state, ZC_GROUP_EMPTY, "a pending member leaves the group empty");

    ret = do_join(c, &a, 10);
    t_is_int(ret, ZC_GROUP_PARKED, "join with the given id parks");
    t_is_int(zc_group_next_deadline(c), 10 + DELAY, "deadline: the initial delay");
    zc_group_tick(c, 10 + DELAY - 1);
    t_is_int(a.join.calls, 0, "not answered before the initial delay ends");
    t_is_int(describe(c, "g").state, ZC_GROUP_PREPARING_REBALANCE, "preparing rebalance");
    zc_group_tick(c, 10 + DELAY);
    t_is_int(a.join.calls, 1, "answered when the delay ends");
    t_is_int(a.join.err, 0, "no error");
    t_is_int(a.join.gen, 1, "generation 1");
    t_is_str(a.join.leader, a.id, "the only member leads");
    t_is_int(a.join.n_members, 1, "the leader gets the member list");
    t_is_str(a.join.meta[0], "A", "... with its metadata");
    t_is_str(a.join.protocol, "range", "protocol chosen");
    took(&a);
    t_is_int(describe(c, "g").state, ZC_GROUP_COMPLETING_REBALANCE, "completing rebalance");
    t_is_int(do_hb(c, &a, 400), 0, "heartbeat while completing: NONE");

    as.member_id = a.id;
    ret = do_sync(c, &a, 400, &as, 1);
    t_is_int(ret, ZC_GROUP_DONE, "leader's sync answered at once");
    t_is_int(a.sync.err, 0, "sync ok");
    t_is_mem(a.sync.assign, a.sync.assign_len, "parts-A", "leader gets its assignment");
    t_is_int(describe(c, "g").state, ZC_GROUP_STABLE, "stable");
    t_is_int(do_hb(c, &a, 500), 0, "heartbeat ok when stable");
    zc_group_coord_free(c);
}

/* Two members of one group, both inside the initial delay; the follower
 * syncs first and waits for the leader's assignment. */
static void test_two_members_split(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "MA" };
    struct client b = { .group = "g", .client_id = "b", .meta = "MB" };
    struct zc_group_assignment as[2];
    struct desc_copy d;

    t_is_int(do_join(c, &a, 0), ZC_GROUP_PARKED, "v3 join of a new member parks");
    t_is_int(do_join(c, &b, 100), ZC_GROUP_PARKED, "second member parks too");
    zc_group_tick(c, DELAY);
    t_is_int(a.join.calls + b.join.calls, 0, "a member arrived during the delay: extended");
    t_is_int(zc_group_next_deadline(c), 2 * DELAY, "by one more delay");
    zc_group_tick(c, 2 * DELAY);
    t_is_int(a.join.calls, 1, "a answered");
    t_is_int(b.join.calls, 1, "b answered");
    took(&a);
    took(&b);
    t_is_int(a.gen, 1, "one generation for both");
    t_is_int(b.gen, 1, "same generation");
    t_is_str(b.join.leader, a.id, "the first to join leads");
    t_is_int(a.join.n_members, 2, "leader sees both members");
    t_is_str(a.join.members[1], b.id, "... b among them");
    t_is_str(a.join.meta[1], "MB", "... with b's metadata");
    t_is_int(b.join.n_members, 0, "follower gets no member list");

    t_is_int(do_sync(c, &b, 700, NULL, 0), ZC_GROUP_PARKED, "follower's sync waits for the leader");
    as[0] = (struct zc_group_assignment){ a.id, (const uint8_t *)"p0,p1", 5 };
    as[1] = (struct zc_group_assignment){ b.id, (const uint8_t *)"p2,p3", 5 };
    t_is_int(do_sync(c, &a, 710, as, 2), ZC_GROUP_DONE, "leader's sync");
    t_is_int(b.sync.calls, 1, "follower answered by the leader's sync");
    t_is_mem(b.sync.assign, b.sync.assign_len, "p2,p3", "follower's part");
    t_is_mem(a.sync.assign, a.sync.assign_len, "p0,p1", "leader's part");
    d = describe(c, "g");
    t_is_int(d.state, ZC_GROUP_STABLE, "describe: Stable");
    t_is_str(d.type, "consumer", "describe: protocol type");
    t_is_str(d.protocol, "range", "describe: protocol");
    t_is_int(d.n, 2, "describe: two members");
    t_is_str(d.client_ids[1], "b", "describe: client id");
    t_is_str(d.assign[1], "p2,p3", "describe: assignment");

    /* b leaves: a must rejoin, and is then alone in generation 2. */
    t_is_int(zc_group_leave(c, "g", b.id, 800), 0, "leave ok");
    t_is_int(do_hb(c, &a, 810), ZC_GERR_REBALANCE_IN_PROGRESS, "a told to rejoin");
    t_is_int(do_sync(c, &a, 810, NULL, 0), ZC_GROUP_DONE, "sync while preparing");
    t_is_int(a.sync.err, ZC_GERR_REBALANCE_IN_PROGRESS, "... REBALANCE_IN_PROGRESS");
    t_is_int(do_join(c, &a, 820), ZC_GROUP_DONE, "rejoin completes at once: everyone is in");
    t_is_int(a.join.gen, 2, "generation 2");
    t_is_int(a.join.n_members, 1, "only a");
    t_is_int(zc_group_leave(c, "g", b.id, 830), ZC_GERR_UNKNOWN_MEMBER_ID, "b is gone");
    took(&a);
    t_is_int(zc_group_leave(c, "g", a.id, 840), 0, "a leaves");
    d = describe(c, "g");
    t_is_int(d.state, ZC_GROUP_EMPTY, "group empty after the last leave");
    t_is_int(d.n, 0, "no members");
    zc_group_coord_free(c);
}

/* Common setup: a and b stable in generation 1 of "g", at t=1000. */
static void make_stable(struct zc_group_coord *c, struct client *a, struct client *b)
{
    struct zc_group_assignment as[2];

    do_join(c, a, 0);
    do_join(c, b, 0);
    settle(c, 0);
    took(a);
    took(b);
    as[0] = (struct zc_group_assignment){ a->id, (const uint8_t *)"x", 1 };
    as[1] = (struct zc_group_assignment){ b->id, (const uint8_t *)"y", 1 };
    do_sync(c, b, 1000, NULL, 0);
    do_sync(c, a, 1000, as, 2);
}

static void test_session_timeout_expels(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client b = { .group = "g", .client_id = "b", .meta = "B" };
    int64_t t;

    make_stable(c, &a, &b);
    t_is_int(b.sync.err, 0, "setup: stable");
    /* a heartbeats every 3 s; b has stopped. */
    for (t = 4000; t < 1000 + SESSION; t += 3000)
        t_ok(do_hb(c, &a, t) == 0 && zc_group_tick(c, t) > t, "a heartbeats at %lld", (long long)t);
    t_ok(zc_group_next_deadline(c) <= 1000 + SESSION, "next deadline is b's session end");
    zc_group_tick(c, 1000 + SESSION);
    t_is_int(describe(c, "g").n, 1, "b expelled after its session timeout");
    t_is_int(do_hb(c, &b, 1000 + SESSION + 1), ZC_GERR_UNKNOWN_MEMBER_ID,
             "b's late heartbeat: UNKNOWN_MEMBER_ID");
    t_is_int(do_hb(c, &a, 1000 + SESSION + 1), ZC_GERR_REBALANCE_IN_PROGRESS,
             "a must rejoin");
    t_is_int(do_join(c, &a, 1000 + SESSION + 2), ZC_GROUP_DONE, "a rejoins alone at once");
    t_is_int(a.join.gen, 2, "generation 2");
    t_is_str(a.join.leader, a.id, "a leads");
    zc_group_coord_free(c);
}

/* A member that does not rejoin within the rebalance timeout is dropped
 * from the new generation; the others go on without it. */
static void test_rebalance_timeout_drops_laggard(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A", .session_ms = 60000 };
    struct client b = { .group = "g", .client_id = "b", .meta = "B", .session_ms = 60000 };
    struct client n = { .group = "g", .client_id = "n", .meta = "N", .session_ms = 60000 };

    make_stable(c, &a, &b);
    t_is_int(do_join(c, &n, 2000), ZC_GROUP_PARKED, "a newcomer triggers a rebalance");
    t_is_int(describe(c, "g").state, ZC_GROUP_PREPARING_REBALANCE, "preparing");
    t_is_int(do_hb(c, &a, 2100), ZC_GERR_REBALANCE_IN_PROGRESS, "a learns it by heartbeat");
    t_is_int(do_join(c, &a, 2200), ZC_GROUP_PARKED, "a rejoins and waits for b");
    zc_group_tick(c, 2000 + REBALANCE - 1);
    t_is_int(a.join.calls, 0, "still waiting just before the rebalance timeout");
    zc_group_tick(c, 2000 + REBALANCE);
    t_is_int(a.join.calls, 1, "answered at the rebalance timeout");
    t_is_int(n.join.calls, 1, "newcomer answered");
    t_is_int(a.join.gen, 2, "generation 2");
    t_is_int(a.join.n_members, 2, "leader a sees a and n, not b");
    t_is_int(do_hb(c, &b, 2000 + REBALANCE + 1), ZC_GERR_UNKNOWN_MEMBER_ID, "b is out");
    zc_group_coord_free(c);
}

static void test_join_completes_when_all_rejoined(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client b = { .group = "g", .client_id = "b", .meta = "B" };
    struct client n = { .group = "g", .client_id = "n", .meta = "N" };

    make_stable(c, &a, &b);
    do_join(c, &n, 2000);
    t_is_int(do_join(c, &a, 2010), ZC_GROUP_PARKED, "a rejoins, b not yet");
    t_is_int(do_join(c, &b, 2020), ZC_GROUP_DONE, "b's rejoin completes the phase at once");
    t_is_int(a.join.calls + b.join.calls + n.join.calls, 3, "all three answered");
    t_is_int(b.join.gen, 2, "generation 2");
    t_is_str(b.join.leader, a.id, "a keeps the leadership");
    t_is_int(a.join.n_members, 3, "leader sees three");
    zc_group_coord_free(c);
}

static void test_generation_and_member_errors(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client b = { .group = "g", .client_id = "b", .meta = "B" };
    struct client ghost = { .group = "g", .client_id = "z", .meta = "Z" };
    struct client nogroup = { .group = "nope", .client_id = "z", .meta = "Z" };
    int32_t gen;

    make_stable(c, &a, &b);
    snprintf(ghost.id, sizeof(ghost.id), "z-unknown");
    snprintf(nogroup.id, sizeof(nogroup.id), "z-unknown");
    gen = a.gen;
    a.gen = gen - 1;
    t_is_int(do_hb(c, &a, 1100), ZC_GERR_ILLEGAL_GENERATION, "old generation heartbeat");
    do_sync(c, &a, 1100, NULL, 0);
    t_is_int(a.sync.err, ZC_GERR_ILLEGAL_GENERATION, "old generation sync");
    t_is_int(zc_group_commit_check(c, "g", a.gen, a.id, 1100), ZC_GERR_ILLEGAL_GENERATION,
             "old generation commit");
    a.gen = gen;
    t_is_int(do_hb(c, &ghost, 1100), ZC_GERR_UNKNOWN_MEMBER_ID, "unknown member heartbeat");
    t_is_int(do_hb(c, &nogroup, 1100), ZC_GERR_UNKNOWN_MEMBER_ID, "unknown group heartbeat");
    do_sync(c, &ghost, 1100, NULL, 0);
    t_is_int(ghost.sync.err, ZC_GERR_UNKNOWN_MEMBER_ID, "unknown member sync");
    do_join(c, &ghost, 1100);
    t_is_int(ghost.join.err, ZC_GERR_UNKNOWN_MEMBER_ID, "join with an id never given");
    do_join(c, &nogroup, 1100);
    t_is_int(nogroup.join.err, ZC_GERR_UNKNOWN_MEMBER_ID, "join of an unknown group with an id");
    t_is_int(zc_group_leave(c, "nope", "x", 1100), ZC_GERR_UNKNOWN_MEMBER_ID, "leave unknown group");

    t_is_int(zc_group_commit_check(c, "g", a.gen, a.id, 1200), 0, "member commit when stable");
    t_is_int(zc_group_commit_check(c, "g", -1, "", 1200), ZC_GERR_UNKNOWN_MEMBER_ID,
             "simple commit to a managed group");
    t_is_int(zc_group_commit_check(c, "other", 3, "m", 1200), ZC_GERR_ILLEGAL_GENERATION,
             "member commit to a group we never had");
    t_is_int(zc_group_commit_check(c, "simple", -1, "", 1200), 0, "simple commit, new group");
    t_is_int(describe(c, "simple").state, ZC_GROUP_EMPTY, "simple group exists, Empty");
    t_is_int(zc_group_commit_check(c, "", -1, "", 1200), ZC_GERR_INVALID_GROUP_ID, "empty group id");

    /* Rebalance in progress: commits are fine while preparing, refused
     * while the leader assigns. */
    do_join(c, &a, 1300);
    t_is_int(zc_group_commit_check(c, "g", b.gen, b.id, 1310), 0, "commit while preparing");
    do_join(c, &b, 1320);
    took(&a);
    took(&b);
    t_is_int(describe(c, "g").state, ZC_GROUP_COMPLETING_REBALANCE, "completing");
    t_is_int(zc_group_commit_check(c, "g", b.gen, b.id, 1330), ZC_GERR_REBALANCE_IN_PROGRESS,
             "commit while completing");
    zc_group_coord_free(c);
}

static void test_invalid_joins(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client e = { .group = "", .client_id = "e", .meta = "E" };
    struct client s = { .group = "g", .client_id = "s", .meta = "S", .session_ms = 500 };
    struct client l = { .group = "g", .client_id = "s", .meta = "S", .session_ms = 1800001 };
    struct client t = { .group = "g", .client_id = "t", .meta = "T", .type = "connect" };
    struct client p = { .group = "g", .client_id = "p", .meta = "P", .protos = { "sticky" } };
    struct client empty_type = { .group = "h", .client_id = "x", .meta = "X", .type = "" };

    do_join(c, &e, 0);
    t_is_int(e.join.err, ZC_GERR_INVALID_GROUP_ID, "empty group id");
    do_join(c, &s, 0);
    t_is_int(s.join.err, ZC_GERR_INVALID_SESSION_TIMEOUT, "session below the minimum");
    do_join(c, &l, 0);
    t_is_int(l.join.err, ZC_GERR_INVALID_SESSION_TIMEOUT, "session above the maximum");
    do_join(c, &empty_type, 0);
    t_is_int(empty_type.join.err, ZC_GERR_INCONSISTENT_GROUP_PROTOCOL, "empty protocol type");
    do_join(c, &a, 0);
    do_join(c, &t, 10);
    t_is_int(t.join.err, ZC_GERR_INCONSISTENT_GROUP_PROTOCOL, "other protocol type");
    do_join(c, &p, 10);
    t_is_int(p.join.err, ZC_GERR_INCONSISTENT_GROUP_PROTOCOL, "no protocol in common");
    t_is_int(describe(c, "g").n, 1, "refused joins left no member");
    zc_group_coord_free(c);
}

/* Each member votes for its first protocol that all support. */
static void test_protocol_selection(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A",
                        .protos = { "range", "roundrobin" } };
    struct client b = { .group = "g", .client_id = "b", .meta = "B",
                        .protos = { "roundrobin", "range" } };
    struct client d = { .group = "g", .client_id = "d", .meta = "D",
                        .protos = { "cooperative", "roundrobin" } };

    do_join(c, &a, 0);
    do_join(c, &b, 0);
    do_join(c, &d, 0);
    settle(c, 0);
    t_is_int(a.join.calls, 1, "leader answered");
    t_is_str(a.join.protocol, "roundrobin", "the only protocol all three support");
    t_is_str(a.join.meta[1], "B", "metadata relayed for the chosen protocol");
    zc_group_coord_free(c);

    c = coord_new(DELAY);
    memset(a.id, 0, sizeof(a.id));
    memset(b.id, 0, sizeof(b.id));
    struct client e = { .group = "g", .client_id = "e", .meta = "E",
                        .protos = { "roundrobin", "range" } };
    do_join(c, &a, 0);
    do_join(c, &b, 0);
    do_join(c, &e, 0);
    settle(c, 0);
    t_is_str(a.join.protocol, "roundrobin", "two votes beat one");
    zc_group_coord_free(c);
}

/* Without an initial delay a lone first member is answered at once. */
static void test_no_initial_delay(void)
{
    struct zc_group_coord *c = coord_new(-1);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };

    t_is_int(do_join(c, &a, 0), ZC_GROUP_DONE, "no delay: the first join completes at once");
    t_is_int(a.join.gen, 1, "generation 1");
    zc_group_coord_free(c);
}

/* The leader never syncs: after the rebalance timeout it is removed, the
 * waiting follower is told to rejoin and then leads. */
static void test_leader_never_syncs(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A", .session_ms = 60000 };
    struct client b = { .group = "g", .client_id = "b", .meta = "B", .session_ms = 60000 };

    do_join(c, &a, 0);
    do_join(c, &b, 0);
    settle(c, 0);
    took(&a);
    took(&b);
    t_is_int(do_sync(c, &b, 1000, NULL, 0), ZC_GROUP_PARKED, "follower waits");
    zc_group_tick(c, 2 * DELAY + REBALANCE - 1);
    t_is_int(b.sync.calls, 0, "still waiting before the timeout");
    zc_group_tick(c, 2 * DELAY + REBALANCE);
    t_is_int(b.sync.calls, 1, "follower answered at the timeout");
    t_is_int(b.sync.err, ZC_GERR_REBALANCE_IN_PROGRESS, "... REBALANCE_IN_PROGRESS");
    t_is_int(do_hb(c, &a, 1000 + REBALANCE + 1), ZC_GERR_UNKNOWN_MEMBER_ID, "leader removed");
    t_is_int(do_join(c, &b, 1000 + REBALANCE + 2), ZC_GROUP_DONE, "b rejoins alone");
    t_is_str(b.join.leader, b.id, "b now leads");
    zc_group_coord_free(c);
}

/* The leader assigns but a follower never asks for its part: after the
 * rebalance timeout it is removed and the leader is told to rejoin. */
static void test_follower_never_syncs(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A", .session_ms = 60000 };
    struct client b = { .group = "g", .client_id = "b", .meta = "B", .session_ms = 60000 };
    struct zc_group_assignment as;

    do_join(c, &a, 0);
    do_join(c, &b, 0);
    settle(c, 0);
    took(&a);
    took(&b);
    as = (struct zc_group_assignment){ a.id, (const uint8_t *)"all", 3 };
    t_is_int(do_sync(c, &a, 2 * DELAY, &as, 1), ZC_GROUP_DONE, "leader syncs");
    t_is_int(describe(c, "g").state, ZC_GROUP_STABLE, "stable without b's sync");
    zc_group_tick(c, 2 * DELAY + REBALANCE - 1);
    t_is_int(describe(c, "g").n, 2, "b still a member before the timeout");
    zc_group_tick(c, 2 * DELAY + REBALANCE);
    t_is_int(describe(c, "g").n, 1, "b removed at the timeout");
    t_is_int(do_hb(c, &a, 2 * DELAY + REBALANCE + 1), ZC_GERR_REBALANCE_IN_PROGRESS,
             "the leader must rejoin");
    zc_group_coord_free(c);
}

/* KIP-345: a static member whose process restarts comes back under its
 * group.instance.id: in a stable group it keeps its assignment with no
 * rebalance, its old id is gone, its old waiting requests are fenced. */
static void test_static_member_rejoin(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client b = { .group = "g", .client_id = "b", .meta = "B", .v4 = true };
    struct zc_group_protocol p = { "range", (const uint8_t *)"B", 1 };
    struct zc_group_join_req req = {
        .group_id = "g", .member_id = "", .group_instance_id = "inst-b", .client_id = "b",
        .client_host = "h", .protocol_type = "consumer", .session_timeout_ms = SESSION,
        .rebalance_timeout_ms = REBALANCE, .protocols = &p, .n_protocols = 1,
        .require_known_member_id = true,
    };
    struct zc_group_assignment as[2];
    struct call j;
    char old_id[160];

    do_join(c, &a, 0);
    memset(&j, 0, sizeof(j));
    t_is_int(zc_group_join(c, &req, 0, on_join, &j), ZC_GROUP_PARKED,
             "static member: no MEMBER_ID_REQUIRED round, its join waits");
    settle(c, 0);
    t_is_int(j.err, 0, "static member in generation 1");
    took(&a);
    snprintf(b.id, sizeof(b.id), "%s", j.member_id);
    b.gen = j.gen;
    as[0] = (struct zc_group_assignment){ a.id, (const uint8_t *)"pa", 2 };
    as[1] = (struct zc_group_assignment){ b.id, (const uint8_t *)"pb", 2 };
    t_is_int(do_sync(c, &b, 700, NULL, 0), ZC_GROUP_PARKED, "b waits for the leader");
    do_sync(c, &a, 700, as, 2);
    t_is_mem(b.sync.assign, b.sync.assign_len, "pb", "b's part");
    snprintf(old_id, sizeof(old_id), "%s", b.id);

    /* b restarts: same instance id, no member id. */
    memset(&j, 0, sizeof(j));
    t_is_int(zc_group_join(c, &req, 800, on_join, &j), ZC_GROUP_DONE,
             "static rejoin of a stable group answered at once");
    t_is_int(j.err, 0, "no error");
    t_is_int(j.gen, 1, "same generation: no rebalance");
    t_ok(strcmp(j.member_id, old_id) != 0, "a new member id");
    t_is_str(j.leader, a.id, "a still leads");
    t_is_int(describe(c, "g").state, ZC_GROUP_STABLE, "still stable");
    t_is_int(do_hb(c, &b, 810), ZC_GERR_UNKNOWN_MEMBER_ID, "the old id is gone");
    snprintf(b.id, sizeof(b.id), "%s", j.member_id);
    do_sync(c, &b, 820, NULL, 0);
    t_is_mem(b.sync.assign, b.sync.assign_len, "pb", "the new id gets the same part");
    t_is_int(do_hb(c, &a, 830), 0, "a was never disturbed");
    t_is_int(describe(c, "g").n, 2, "still two members");

    /* A request of the old incarnation still waiting is fenced. */
    do_join(c, &a, 900);                        /* leader rejoin: rebalance */
    t_is_int(do_join(c, &b, 910), ZC_GROUP_DONE, "b rejoins with its id: phase done");
    took(&a);
    took(&b);
    t_is_int(do_sync(c, &b, 920, NULL, 0), ZC_GROUP_PARKED, "b's sync waits for the leader");
    memset(&j, 0, sizeof(j));
    zc_group_join(c, &req, 930, on_join, &j);   /* b restarts meanwhile */
    t_is_int(b.sync.err, ZC_GERR_FENCED_INSTANCE_ID, "the old incarnation's sync is fenced");
    t_is_int(j.calls, 0, "a restart while completing rebalances: the join waits");
    t_is_int(describe(c, "g").state, ZC_GROUP_PREPARING_REBALANCE, "preparing");
    zc_group_coord_free(c);
}

/* A member joining while the leader assigns invalidates that generation. */
static void test_join_during_completing(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client b = { .group = "g", .client_id = "b", .meta = "B" };
    struct client n = { .group = "g", .client_id = "n", .meta = "N" };

    do_join(c, &a, 0);
    do_join(c, &b, 0);
    settle(c, 0);
    took(&a);
    took(&b);
    do_sync(c, &b, 1000, NULL, 0);
    t_is_int(do_join(c, &n, 1010), ZC_GROUP_PARKED, "newcomer while completing");
    t_is_int(b.sync.calls, 1, "parked sync answered");
    t_is_int(b.sync.err, ZC_GERR_REBALANCE_IN_PROGRESS, "... to rejoin");
    /* a lost its join answer and asks again with the same metadata: while
     * stable it just gets the current generation back. */
    zc_group_coord_free(c);

    c = coord_new(DELAY);
    memset(&a.id, 0, sizeof(a.id));
    memset(&b.id, 0, sizeof(b.id));
    make_stable(c, &a, &b);
    t_is_int(do_join(c, &b, 1500), ZC_GROUP_DONE, "follower rejoin, same metadata, stable");
    t_is_int(b.join.gen, 1, "same generation");
    t_is_int(describe(c, "g").state, ZC_GROUP_STABLE, "no rebalance");
    b.meta = "B2";
    t_is_int(do_join(c, &b, 1600), ZC_GROUP_PARKED, "changed metadata rebalances");
    t_is_int(describe(c, "g").state, ZC_GROUP_PREPARING_REBALANCE, "preparing");
    zc_group_coord_free(c);

    c = coord_new(DELAY);
    memset(&a.id, 0, sizeof(a.id));
    memset(&b.id, 0, sizeof(b.id));
    make_stable(c, &a, &b);
    t_is_int(do_join(c, &a, 1500), ZC_GROUP_PARKED, "leader rejoin always rebalances");
    zc_group_coord_free(c);
}

/* MEMBER_ID_REQUIRED ids that never come back expire after the session
 * timeout; until then a rebalance waits for them. */
static void test_pending_member_expires(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };
    struct client b = { .group = "g", .client_id = "b", .meta = "B" };
    struct client p = { .group = "g", .client_id = "p", .meta = "P", .v4 = true };

    make_stable(c, &a, &b);
    do_join(c, &p, 2000);
    t_is_int(p.join.err, ZC_GERR_MEMBER_ID_REQUIRED, "pending id given");
    took(&p);
    t_is_int(describe(c, "g").state, ZC_GROUP_STABLE, "a pending id alone does not rebalance");
    do_join(c, &a, 2100);
    do_join(c, &b, 2100);
    t_is_int(a.join.calls + b.join.calls, 0, "rebalance waits for the pending member");
    zc_group_tick(c, 2000 + SESSION);
    t_is_int(a.join.calls + b.join.calls, 2, "pending id expired: phase complete");
    t_is_int(a.join.n_members, 2, "without it");
    do_join(c, &p, 2000 + SESSION + 1);
    t_is_int(p.join.err, ZC_GERR_UNKNOWN_MEMBER_ID, "the expired id is refused");
    zc_group_coord_free(c);
}

static void test_cancel_and_duplicate_join(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };

    do_join(c, &a, 0);
    t_ok(zc_group_cancel(c, &a.join), "parked join found and cancelled");
    t_ok(!zc_group_cancel(c, &a.join), "a second cancel finds nothing");
    zc_group_tick(c, DELAY);
    t_is_int(a.join.calls, 0, "a cancelled join is never answered");
    t_is_int(describe(c, "g").n, 1, "the member stays until its session ends");
    zc_group_tick(c, DELAY + SESSION);
    t_is_int(describe(c, "g").n, 0, "then it is gone");
    zc_group_coord_free(c);

    /* A member joins twice while the other is awaited (its first
     * connection went stale): the first parked join is told to start over,
     * the second is answered when the phase completes. */
    c = coord_new(DELAY);
    {
        struct client b = { .group = "g", .client_id = "b", .meta = "B" };
        struct client again;

        memset(a.id, 0, sizeof(a.id));
        make_stable(c, &a, &b);
        t_is_int(do_join(c, &a, 2000), ZC_GROUP_PARKED, "leader rejoins, waits for b");
        again = a;                  /* same member, another connection */
        t_is_int(do_join(c, &again, 2005), ZC_GROUP_PARKED, "second join parks");
        t_is_int(a.join.calls, 1, "first join answered");
        t_is_int(a.join.err, ZC_GERR_REBALANCE_IN_PROGRESS, "... REBALANCE_IN_PROGRESS");
        t_is_int(do_join(c, &b, 2010), ZC_GROUP_DONE, "b rejoins: phase complete");
        t_is_int(again.join.calls, 1, "second join answered");
        t_is_int(again.join.gen, 2, "generation 2");
        t_is_int(a.join.calls, 1, "first join answered only once");
    }
    zc_group_coord_free(c);
}

static void test_shutdown(void)
{
    struct zc_group_coord *c = coord_new(DELAY);
    struct client a = { .group = "g", .client_id = "a", .meta = "A" };

    do_join(c, &a, 0);
    zc_group_coord_shutdown(c);
    t_is_int(a.join.calls, 1, "parked join answered at shutdown");
    t_is_int(a.join.err, ZC_GERR_NOT_COORDINATOR, "... NOT_COORDINATOR");
    t_is_int(do_hb(c, &a, 10), ZC_GERR_NOT_COORDINATOR, "heartbeat after shutdown");
    do_join(c, &a, 10);
    t_is_int(a.join.err, ZC_GERR_NOT_COORDINATOR, "join after shutdown");
    t_is_int(zc_group_commit_check(c, "g", -1, "", 10), ZC_GERR_NOT_COORDINATOR,
             "commit after shutdown");
    t_is_int(describe(c, "g").error, ZC_GERR_NOT_COORDINATOR, "describe after shutdown");
    zc_group_coord_free(c);
}

static void count_group(void *arg, const char *id, const char *type, enum zc_group_state st)
{
    int *n = arg;

    (void)id;
    (void)type;
    if (st == ZC_GROUP_STABLE)
        n[0]++;
    else
        n[1]++;
}

/* 300 groups: one whose follower waits for a silent leader holds nobody
 * else up; the table grows; unknown groups describe as Dead. */
static void test_many_groups(void)
{
    enum { N = 300 };
    static struct client cl[N];
    struct zc_group_coord *c = coord_new(DELAY);
    struct client lead = { .group = "slow", .client_id = "l", .meta = "L" };
    struct client fol = { .group = "slow", .client_id = "f", .meta = "F" };
    int counts[2] = { 0, 0 }, ok = 0;
    char names[N][16];

    do_join(c, &lead, 0);
    do_join(c, &fol, 0);
    settle(c, 0);
    took(&lead);
    took(&fol);
    t_is_int(do_sync(c, &fol, 1, NULL, 0), ZC_GROUP_PARKED, "slow group's follower waits");
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "g%d", i);
        cl[i] = (struct client){ .group = names[i], .client_id = "c", .meta = "M" };
        do_join(c, &cl[i], 2);
    }
    zc_group_tick(c, 2 + DELAY);
    for (int i = 0; i < N; i++) {
        struct zc_group_assignment as;

        took(&cl[i]);
        as = (struct zc_group_assignment){ cl[i].id, (const uint8_t *)"a", 1 };
        ok += cl[i].join.err == 0 && do_sync(c, &cl[i], 3, &as, 1) == ZC_GROUP_DONE &&
              cl[i].sync.err == 0;
    }
    t_is_int(ok, N, "every other group completed its rebalance");
    zc_group_list(c, count_group, counts);
    t_is_int(counts[0], N, "ListGroups: N stable groups");
    t_is_int(counts[1], 1, "... and the slow one");
    t_is_int(describe(c, "no-such-group").state, ZC_GROUP_DEAD, "unknown group: Dead");
    t_is_int(fol.sync.calls, 0, "the slow follower still waits");
    zc_group_coord_free(c);
}

int main(void)
{
    test_member_id_required_and_initial_delay();
    test_two_members_split();
    test_session_timeout_expels();
    test_rebalance_timeout_drops_laggard();
    test_join_completes_when_all_rejoined();
    test_generation_and_member_errors();
    test_invalid_joins();
    test_protocol_selection();
    test_no_initial_delay();
    test_leader_never_syncs();
    test_follower_never_syncs();
    test_static_member_rejoin();
    test_join_during_completing();
    test_pending_member_expires();
    test_cancel_and_duplicate_join();
    test_shutdown();
    test_many_groups();
    return t_done();
}
