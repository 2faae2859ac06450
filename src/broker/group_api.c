/* group_api.c - the group membership APIs: FindCoordinator (key 10) v0-2,
 * JoinGroup (11) v0-5, Heartbeat (12) v0-3, LeaveGroup (13) v0-3,
 * SyncGroup (14) v0-3, DescribeGroups (15) v0-4, ListGroups (16) v0-2.
 * Requests become group.h calls; JoinGroup and SyncGroup park their
 * connection until the coordinator answers (group_wait.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group_wait.h"

/* A join may wait for its rebalance timeout; a sync for the leader, at most
 * a rebalance timeout too. These bounds only catch a lost answer. */
#define JOIN_MARGIN_MS 5000
#define SYNC_WAIT_MS (60 * 60 * 1000)
#define AUTHORIZED_OPS_OMITTED INT32_MIN

/* A request string as a C string (NULL for a null string). *oom on failure. */
static char *kstr_dup(struct zc_kstr s, bool *oom)
{
    char *d;

    if (s.len < 0)
        return NULL;
    d = malloc((size_t)s.len + 1);
    if (!d) {
        *oom = true;
        return NULL;
    }
    memcpy(d, s.p, (size_t)s.len);
    d[s.len] = '\0';
    return d;
}

static void write_bytes(struct zc_kw *w, const uint8_t *p, size_t len)
{
    zc_kw_i32(w, (int32_t)len);
    zc_kw_raw(w, p, len);
}

/* ---- FindCoordinator ------------------------------------------------------ */

#define KEY_TYPE_TRANSACTION 1

void zc_api_find_coordinator(struct zc_broker *b, const struct zc_kreq *req,
                             struct zc_kresp *resp)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    int8_t key_type;
    int16_t err = ZC_GERR_NONE;

    (void)zc_kr_string(&r);                     /* the group: we are all of them */
    key_type = v >= 1 ? zc_kr_i8(&r) : 0;
    /* Transactions have no coordinator here. */
    if (key_type == KEY_TYPE_TRANSACTION || !zc__groups_coord(b))
        err = ZC_GERR_COORDINATOR_NOT_AVAILABLE;
    if (v >= 1)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    zc_kw_i16(&resp->w, err);
    if (v >= 1)
        zc_kw_cstring(&resp->w, err ? "no coordinator for this key type" : NULL);
    zc_kw_i32(&resp->w, err ? -1 : ZC_BROKER_NODE_ID);
    zc_kw_cstring(&resp->w, err ? "" : b->cfg->advertise_host);
    zc_kw_i32(&resp->w, err ? -1 : b->cfg->advertise_port);
}

/* ---- parked requests -------------------------------------------------------- */

typedef void encode_error_fn(struct zc_kw *w, int16_t version, int16_t err);

/* Answer from the slot if the coordinator did; withdraw the request when
 * its time is up (or the broker stops); else park again. */
static enum zc_handled finish_parked(struct zc_group_coord *c, struct zc_gwait *gw,
                                     bool expired, struct zc_kresp *resp, int32_t *wait_ms,
                                     encode_error_fn *encode_error)
{
    int64_t now = zc_groups_now_ms();

    if (!atomic_load_explicit(&gw->ready, memory_order_acquire)) {
        if (!expired && now < gw->deadline_ms) {
            int64_t left = gw->deadline_ms - now;

            *wait_ms = left > INT32_MAX ? INT32_MAX : (int32_t)left;
            return ZC_HANDLED_PARK;
        }
        /* Not withdrawn: the answer came in the meantime (cancel and the
         * callback both hold the coordinator's lock). */
        if (zc_group_cancel(c, gw) ||
            !atomic_load_explicit(&gw->ready, memory_order_acquire)) {
            encode_error(&resp->w, gw->version, ZC_GERR_NOT_COORDINATOR);
            zc__gwait_reset(gw);
            return ZC_HANDLED;
        }
    }
    if (gw->body.oom) {
        zc__gwait_reset(gw);
        return ZC_HANDLED_CLOSE;
    }
    zc_kw_raw(&resp->w, gw->body.buf, gw->body.len);
    zc__gwait_reset(gw);
    return ZC_HANDLED;
}

/* ---- JoinGroup -------------------------------------------------------------- */

static void encode_join(struct zc_kw *w, int16_t v, const struct zc_group_join_result *res)
{
    if (v >= 2)
        zc_kw_i32(w, 0);                        /* ThrottleTimeMs */
    zc_kw_i16(w, res->error);
    zc_kw_i32(w, res->generation_id);
    zc_kw_cstring(w, res->protocol_name);
    zc_kw_cstring(w, res->leader_id);
    zc_kw_cstring(w, res->member_id);
    zc_kw_i32(w, (int32_t)res->n_members);
    for (size_t i = 0; i < res->n_members; i++) {
        const struct zc_group_member_meta *m = &res->members[i];

        zc_kw_cstring(w, m->member_id);
        if (v >= 5)
            zc_kw_cstring(w, m->group_instance_id);
        write_bytes(w, m->metadata, m->metadata_len);
    }
}

static void encode_join_error(struct zc_kw *w, int16_t v, int16_t err)
{
    struct zc_group_join_result res = {
        .error = err, .generation_id = -1, .protocol_name = "", .leader_id = "",
        .member_id = "",
    };

    encode_join(w, v, &res);
}

/* Runs under the coordinator's lock, on whichever thread completed it. */
static void on_join_answer(void *cookie, const struct zc_group_join_result *res)
{
    struct zc_gwait *gw = cookie;

    gw->body.len = 0;
    encode_join(&gw->body, gw->version, res);
    zc__gwait_answered(gw);
}

/* Parse the JoinGroup and hand it to the coordinator. Return: 0 or -ENOMEM. */
static int start_join(struct zc_group_coord *c, struct zc_gwait *gw, const struct zc_kreq *req)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    struct zc_group_join_req jr = { 0 };
    struct zc_group_protocol *protos = NULL;
    char *group, *member, *instance = NULL, *type, *client;
    bool oom = false;
    int32_t n;
    int ret = -ENOMEM;

    group = kstr_dup(zc_kr_string(&r), &oom);
    jr.session_timeout_ms = zc_kr_i32(&r);
    jr.rebalance_timeout_ms = v >= 1 ? zc_kr_i32(&r) : -1;
    member = kstr_dup(zc_kr_string(&r), &oom);
    if (v >= 5)
        instance = kstr_dup(zc_kr_nullable_string(&r), &oom);
    type = kstr_dup(zc_kr_string(&r), &oom);
    client = kstr_dup(req->h.client_id.len >= 0 ? req->h.client_id
                                                : (struct zc_kstr){ "", 0 }, &oom);
    n = zc_kr_array(&r, 6, false);
    protos = calloc(n > 0 ? (size_t)n : 1, sizeof(*protos));
    if (!protos)
        oom = true;
    for (int32_t i = 0; i < n && protos; i++) {
        struct zc_kstr meta;

        protos[i].name = kstr_dup(zc_kr_string(&r), &oom);
        meta = zc_kr_nullable_bytes(&r);
        protos[i].metadata = (const uint8_t *)meta.p;
        protos[i].metadata_len = meta.len > 0 ? (size_t)meta.len : 0;
    }
    if (oom)
        goto out;

    jr.group_id = group;
    jr.member_id = member;
    jr.group_instance_id = instance;
    jr.client_id = client;
    jr.client_host = "";
    jr.protocol_type = type;
    jr.protocols = protos;
    jr.n_protocols = (size_t)n;
    /* KIP-394: from v4 a new member first gets its id and joins with it. */
    jr.require_known_member_id = v >= 4;
    gw->waiting = true;
    gw->version = v;
    {
        int64_t wait = (int64_t)(jr.rebalance_timeout_ms >= 0 ? jr.rebalance_timeout_ms
                                                              : jr.session_timeout_ms);

        gw->deadline_ms = zc_groups_now_ms() + (wait > 0 ? wait : 0) + JOIN_MARGIN_MS;
    }
    ret = zc_group_join(c, &jr, zc_groups_now_ms(), on_join_answer, gw);
    if (ret < 0)
        gw->waiting = false;
    else
        ret = 0;
out:
    for (int32_t i = 0; protos && i < n; i++)
        free((char *)protos[i].name);
    free(protos);
    free(group);
    free(member);
    free(instance);
    free(type);
    free(client);
    return ret;
}

enum zc_handled zc_api_join_group(struct zc_broker *b, const struct zc_kreq *req,
                                  bool expired, struct zc_kresp *resp, int32_t *wait_ms)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    struct zc_gwait *gw;

    if (!c) {
        encode_join_error(&resp->w, req->h.api_version, ZC_GERR_COORDINATOR_NOT_AVAILABLE);
        return ZC_HANDLED;
    }
    gw = zc__gwait_get(b, req->gwait);
    if (!gw)
        return ZC_HANDLED_CLOSE;
    if (!gw->waiting && start_join(c, gw, req) < 0)
        return ZC_HANDLED_CLOSE;
    return finish_parked(c, gw, expired, resp, wait_ms, encode_join_error);
}

/* ---- SyncGroup -------------------------------------------------------------- */

static void encode_sync(struct zc_kw *w, int16_t v, int16_t err, const uint8_t *a, size_t len)
{
    if (v >= 1)
        zc_kw_i32(w, 0);                        /* ThrottleTimeMs */
    zc_kw_i16(w, err);
    write_bytes(w, a, len);
}

static void encode_sync_error(struct zc_kw *w, int16_t v, int16_t err)
{
    encode_sync(w, v, err, NULL, 0);
}

static void on_sync_answer(void *cookie, int16_t err, const uint8_t *a, size_t len)
{
    struct zc_gwait *gw = cookie;

    gw->body.len = 0;
    encode_sync(&gw->body, gw->version, err, a, len);
    zc__gwait_answered(gw);
}

static int start_sync(struct zc_group_coord *c, struct zc_gwait *gw, const struct zc_kreq *req)
{
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    struct zc_group_sync_req sr = { 0 };
    struct zc_group_assignment *as = NULL;
    char *group, *member;
    bool oom = false;
    int32_t n;
    int ret = -ENOMEM;

    group = kstr_dup(zc_kr_string(&r), &oom);
    sr.generation_id = zc_kr_i32(&r);
    member = kstr_dup(zc_kr_string(&r), &oom);
    if (v >= 3)
        (void)zc_kr_nullable_string(&r);        /* GroupInstanceId */
    n = zc_kr_array(&r, 6, false);
    as = calloc(n > 0 ? (size_t)n : 1, sizeof(*as));
    if (!as)
        oom = true;
    for (int32_t i = 0; i < n && as; i++) {
        struct zc_kstr a;

        as[i].member_id = kstr_dup(zc_kr_string(&r), &oom);
        a = zc_kr_nullable_bytes(&r);
        as[i].data = (const uint8_t *)a.p;
        as[i].len = a.len > 0 ? (size_t)a.len : 0;
    }
    if (oom)
        goto out;
    sr.group_id = group;
    sr.member_id = member;
    sr.assignments = as;
    sr.n_assignments = (size_t)n;
    gw->waiting = true;
    gw->version = v;
    gw->deadline_ms = zc_groups_now_ms() + SYNC_WAIT_MS;
    ret = zc_group_sync(c, &sr, zc_groups_now_ms(), on_sync_answer, gw);
    if (ret < 0)
        gw->waiting = false;
    else
        ret = 0;
out:
    for (int32_t i = 0; as && i < n; i++)
        free((char *)as[i].member_id);
    free(as);
    free(group);
    free(member);
    return ret;
}

enum zc_handled zc_api_sync_group(struct zc_broker *b, const struct zc_kreq *req,
                                  bool expired, struct zc_kresp *resp, int32_t *wait_ms)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    struct zc_gwait *gw;

    if (!c) {
        encode_sync_error(&resp->w, req->h.api_version, ZC_GERR_COORDINATOR_NOT_AVAILABLE);
        return ZC_HANDLED;
    }
    gw = zc__gwait_get(b, req->gwait);
    if (!gw)
        return ZC_HANDLED_CLOSE;
    if (!gw->waiting && start_sync(c, gw, req) < 0)
        return ZC_HANDLED_CLOSE;
    return finish_parked(c, gw, expired, resp, wait_ms, encode_sync_error);
}

/* ---- Heartbeat, LeaveGroup -------------------------------------------------- */

void zc_api_heartbeat(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    struct zc_kr r = req->body;
    bool oom = false;
    char *group = kstr_dup(zc_kr_string(&r), &oom);
    int32_t gen = zc_kr_i32(&r);
    char *member = kstr_dup(zc_kr_string(&r), &oom);
    int16_t err = ZC_GERR_COORDINATOR_NOT_AVAILABLE;

    if (c && !oom)
        err = zc_group_heartbeat(c, group, gen, member, zc_groups_now_ms());
    if (req->h.api_version >= 1)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    zc_kw_i16(&resp->w, err);
    free(group);
    free(member);
}

void zc_api_leave_group(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    bool oom = false;
    char *group = kstr_dup(zc_kr_string(&r), &oom);
    int16_t err = ZC_GERR_NONE;

    if (v >= 1)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    if (v <= 2) {
        char *member = kstr_dup(zc_kr_string(&r), &oom);

        err = c && !oom ? zc_group_leave(c, group, member, zc_groups_now_ms())
                        : ZC_GERR_COORDINATOR_NOT_AVAILABLE;
        zc_kw_i16(&resp->w, err);
        free(member);
    } else {
        /* v3 (KIP-345): a batch of members, each with its own error. */
        int32_t n = zc_kr_array(&r, 4, false);

        zc_kw_i16(&resp->w, c && !oom ? ZC_GERR_NONE : ZC_GERR_COORDINATOR_NOT_AVAILABLE);
        zc_kw_i32(&resp->w, c && !oom ? n : 0);
        for (int32_t i = 0; c && !oom && i < n; i++) {
            struct zc_kstr ms = zc_kr_string(&r), inst = zc_kr_nullable_string(&r);
            char *member = kstr_dup(ms, &oom);

            err = member ? zc_group_leave(c, group, member, zc_groups_now_ms())
                         : ZC_GERR_COORDINATOR_NOT_AVAILABLE;
            zc_kw_string(&resp->w, ms.p, (size_t)ms.len);
            zc_kw_string(&resp->w, inst.len >= 0 ? inst.p : NULL,
                         inst.len >= 0 ? (size_t)inst.len : 0);
            zc_kw_i16(&resp->w, err);
            free(member);
        }
        if (oom)
            resp->failed = true;
    }
    free(group);
}

/* ---- ListGroups, DescribeGroups --------------------------------------------- */

struct list_ctx {
    struct zc_kw *w;
    int32_t n;
};

static void on_list(void *arg, const char *id, const char *type, enum zc_group_state st)
{
    struct list_ctx *x = arg;

    (void)st;
    zc_kw_cstring(x->w, id);
    zc_kw_cstring(x->w, type);
    x->n++;
}

void zc_api_list_groups(struct zc_broker *b, const struct zc_kreq *req, struct zc_kresp *resp)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    struct list_ctx x = { &resp->w, 0 };
    size_t count_at;

    if (req->h.api_version >= 1)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    zc_kw_i16(&resp->w, c ? ZC_GERR_NONE : ZC_GERR_COORDINATOR_NOT_AVAILABLE);
    count_at = zc_kw_reserve_i32(&resp->w);
    if (c)
        zc_group_list(c, on_list, &x);
    zc_kw_patch_i32(&resp->w, count_at, x.n);
}

struct describe_ctx {
    struct zc_kw *w;
    int16_t version;
};

static void on_describe(void *arg, const struct zc_group_desc *d)
{
    struct describe_ctx *x = arg;
    struct zc_kw *w = x->w;

    zc_kw_i16(w, d->error);
    zc_kw_cstring(w, d->group_id);
    zc_kw_cstring(w, zc_group_state_name(d->state));
    zc_kw_cstring(w, d->protocol_type);
    zc_kw_cstring(w, d->protocol_name);
    zc_kw_i32(w, (int32_t)d->n_members);
    for (size_t i = 0; i < d->n_members; i++) {
        const struct zc_group_member_desc *m = &d->members[i];

        zc_kw_cstring(w, m->member_id);
        if (x->version >= 4)
            zc_kw_cstring(w, m->group_instance_id);
        zc_kw_cstring(w, m->client_id);
        zc_kw_cstring(w, m->client_host);
        write_bytes(w, m->metadata, m->metadata_len);
        write_bytes(w, m->assignment, m->assignment_len);
    }
    if (x->version >= 3)
        zc_kw_i32(w, AUTHORIZED_OPS_OMITTED);
}

void zc_api_describe_groups(struct zc_broker *b, const struct zc_kreq *req,
                            struct zc_kresp *resp)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    struct describe_ctx x = { &resp->w, req->h.api_version };
    struct zc_kr r = req->body;
    int32_t n = zc_kr_array(&r, 2, false);

    if (req->h.api_version >= 1)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    zc_kw_i32(&resp->w, n);
    for (int32_t i = 0; i < n; i++) {
        bool oom = false;
        char *id = kstr_dup(zc_kr_string(&r), &oom);

        if (!c || oom || zc_group_describe(c, id, on_describe, &x) < 0) {
            struct zc_group_desc d = {
                .error = ZC_GERR_COORDINATOR_NOT_AVAILABLE, .group_id = id ? id : "",
                .state = ZC_GROUP_DEAD, .protocol_type = "", .protocol_name = "",
            };

            on_describe(&x, &d);
        }
        free(id);
    }
}
