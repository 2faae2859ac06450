/* offsets_api.c - OffsetCommit (key 8) v2-7 and OffsetFetch (key 9) v1-5:
 * the coordinator says whether a commit may be stored (group membership and
 * generation), offsets.h stores it durably and answers fetches. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/group_wait.h"

#define INVALID_COMMIT_OFFSET_SIZE 28

struct commit_topic {
    struct zc_kstr name;            /* as the request spelled it */
    char valid[256];                /* NUL-terminated, "" when invalid */
    size_t first, count;            /* its items */
};

/* The Kafka error for a failed append of the commit, as Kafka maps them. */
static int16_t commit_error(int err)
{
    return err == -EMSGSIZE ? INVALID_COMMIT_OFFSET_SIZE : ZC_GERR_COORDINATOR_NOT_AVAILABLE;
}

void zc_api_offset_commit(struct zc_broker *b, const struct zc_kreq *req,
                          struct zc_kresp *resp)
{
    struct zc_group_coord *c = zc__groups_coord(b);
    struct zc_offsets *o = zc__groups_offsets(b);
    int16_t v = req->h.api_version, err;
    struct zc_kr r = req->body, scan;
    struct zc_kstr gs, ms;
    struct commit_topic *topics = NULL;
    struct zc_offset_commit *items = NULL;
    char *group = NULL, *member = NULL;
    int32_t gen, nt, total = 0;

    gs = zc_kr_string(&r);
    gen = zc_kr_i32(&r);
    ms = zc_kr_string(&r);
    if (v >= 7)
        (void)zc_kr_nullable_string(&r);        /* GroupInstanceId */
    if (v <= 4)
        (void)zc_kr_i64(&r);                    /* RetentionTimeMs: kept forever */
    nt = zc_kr_array(&r, 6, false);

    /* Count the partitions first: they are stored in one append. */
    scan = r;
    for (int32_t t = 0; t < nt; t++) {
        int32_t np;

        (void)zc_kr_string(&scan);
        np = zc_kr_array(&scan, v >= 6 ? 18 : 14, false);
        for (int32_t i = 0; i < np; i++) {
            (void)zc_kr_i32(&scan);
            (void)zc_kr_i64(&scan);
            if (v >= 6)
                (void)zc_kr_i32(&scan);
            (void)zc_kr_nullable_string(&scan);
        }
        total += np;
    }
    topics = calloc(nt > 0 ? (size_t)nt : 1, sizeof(*topics));
    items = calloc(total > 0 ? (size_t)total : 1, sizeof(*items));
    group = malloc((size_t)(gs.len > 0 ? gs.len : 0) + 1);
    member = malloc((size_t)(ms.len > 0 ? ms.len : 0) + 1);
    if (!topics || !items || !group || !member || scan.bad) {
        resp->failed = true;
        goto out;
    }
    memcpy(group, gs.p, gs.len > 0 ? (size_t)gs.len : 0);
    group[gs.len > 0 ? gs.len : 0] = '\0';
    memcpy(member, ms.p, ms.len > 0 ? (size_t)ms.len : 0);
    member[ms.len > 0 ? ms.len : 0] = '\0';

    total = 0;
    for (int32_t t = 0; t < nt; t++) {
        struct commit_topic *ct = &topics[t];
        int32_t np;

        ct->name = zc_kr_string(&r);
        if (!zc_broker_topic_name(ct->name, ct->valid))
            ct->valid[0] = '\0';
        np = zc_kr_array(&r, v >= 6 ? 18 : 14, false);
        ct->first = (size_t)total;
        ct->count = (size_t)np;
        for (int32_t i = 0; i < np; i++, total++) {
            struct zc_offset_commit *it = &items[total];
            struct zc_kstr meta;

            it->topic = ct->valid[0] ? ct->valid : NULL;
            it->partition = zc_kr_i32(&r);
            it->offset = zc_kr_i64(&r);
            it->leader_epoch = v >= 6 ? zc_kr_i32(&r) : -1;
            meta = zc_kr_nullable_string(&r);
            it->metadata = meta.len >= 0 ? meta.p : NULL;
            it->metadata_len = meta.len >= 0 ? (size_t)meta.len : 0;
        }
    }

    {
        int64_t now = zc_groups_now_ms();

        err = c && o ? zc_group_commit_check(c, group, gen, member, now)
                     : ZC_GERR_COORDINATOR_NOT_AVAILABLE;
        if (err == ZC_GERR_NONE) {
            int ret = zc_offsets_commit(o, group, items, (size_t)total, now);

            if (ret < 0)
                err = commit_error(ret);
        }
        if (err != ZC_GERR_NONE)
            for (int32_t i = 0; i < total; i++)
                items[i].error = err;
    }

    if (v >= 3)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    zc_kw_i32(&resp->w, nt);
    for (int32_t t = 0; t < nt; t++) {
        const struct commit_topic *ct = &topics[t];

        zc_kw_string(&resp->w, ct->name.p, (size_t)ct->name.len);
        zc_kw_i32(&resp->w, (int32_t)ct->count);
        for (size_t i = ct->first; i < ct->first + ct->count; i++) {
            zc_kw_i32(&resp->w, items[i].partition);
            zc_kw_i16(&resp->w, items[i].error);
        }
    }
out:
    free(topics);
    free(items);
    free(group);
    free(member);
}

/* ---- OffsetFetch ------------------------------------------------------------ */

static void write_partition(struct zc_kw *w, int16_t v, int32_t partition, int64_t offset,
                            int32_t epoch, const char *meta, size_t meta_len)
{
    zc_kw_i32(w, partition);
    zc_kw_i64(w, offset);
    if (v >= 5)
        zc_kw_i32(w, epoch);
    zc_kw_string(w, meta, meta_len);
    zc_kw_i16(w, ZC_GERR_NONE);
}

struct committed {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t epoch;
    char *meta;
    size_t meta_len;
};

struct collect {
    struct committed *v;
    size_t n, cap;
    bool oom;
};

static void on_committed(void *arg, const char *topic, int32_t partition, int64_t offset,
                         int32_t epoch, const char *meta, size_t meta_len)
{
    struct collect *x = arg;
    struct committed *e;

    if (x->oom)
        return;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        struct committed *nv = realloc(x->v, cap * sizeof(*nv));

        if (!nv) {
            x->oom = true;
            return;
        }
        x->v = nv;
        x->cap = cap;
    }
    e = &x->v[x->n];
    e->topic = strdup(topic);
    e->meta = malloc(meta_len + 1);
    if (!e->topic || !e->meta) {
        free(e->topic);
        free(e->meta);
        x->oom = true;
        return;
    }
    memcpy(e->meta, meta, meta_len);
    e->meta_len = meta_len;
    e->partition = partition;
    e->offset = offset;
    e->epoch = epoch;
    x->n++;
}

static int by_topic_partition(const void *a, const void *b)
{
    const struct committed *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);

    if (c)
        return c;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

/* Topics null (v2+): every partition the group committed, by topic. */
static void fetch_all(struct zc_offsets *o, const char *group, int16_t v, struct zc_kresp *resp)
{
    struct collect x = { 0 };
    size_t topics_at = zc_kw_reserve_i32(&resp->w);
    int32_t ntopics = 0;

    if (o)
        zc_offsets_list(o, group, on_committed, &x);
    if (x.oom) {
        resp->failed = true;
        goto out;
    }
    qsort(x.v, x.n, sizeof(*x.v), by_topic_partition);
    for (size_t i = 0; i < x.n;) {
        size_t j = i;

        while (j < x.n && strcmp(x.v[j].topic, x.v[i].topic) == 0)
            j++;
        zc_kw_cstring(&resp->w, x.v[i].topic);
        zc_kw_i32(&resp->w, (int32_t)(j - i));
        for (size_t k = i; k < j; k++)
            write_partition(&resp->w, v, x.v[k].partition, x.v[k].offset, x.v[k].epoch,
                            x.v[k].meta, x.v[k].meta_len);
        ntopics++;
        i = j;
    }
    zc_kw_patch_i32(&resp->w, topics_at, ntopics);
out:
    for (size_t i = 0; i < x.n; i++) {
        free(x.v[i].topic);
        free(x.v[i].meta);
    }
    free(x.v);
}

void zc_api_offset_fetch(struct zc_broker *b, const struct zc_kreq *req,
                         struct zc_kresp *resp)
{
    struct zc_offsets *o = zc__groups_offsets(b);
    int16_t v = req->h.api_version;
    struct zc_kr r = req->body;
    struct zc_kstr gs = zc_kr_string(&r);
    char *group = malloc((size_t)(gs.len > 0 ? gs.len : 0) + 1);
    int32_t nt;

    if (!group) {
        resp->failed = true;
        return;
    }
    memcpy(group, gs.p, gs.len > 0 ? (size_t)gs.len : 0);
    group[gs.len > 0 ? gs.len : 0] = '\0';
    nt = zc_kr_array(&r, 6, v >= 2);
    if (v >= 3)
        zc_kw_i32(&resp->w, 0);                 /* ThrottleTimeMs */
    if (nt < 0) {
        fetch_all(o, group, v, resp);
    } else {
        zc_kw_i32(&resp->w, nt);
        for (int32_t t = 0; t < nt; t++) {
            struct zc_kstr ts = zc_kr_string(&r);
            int32_t np = zc_kr_array(&r, 4, false);
            char name[256];
            bool valid = zc_broker_topic_name(ts, name);

            zc_kw_string(&resp->w, ts.p, (size_t)ts.len);
            zc_kw_i32(&resp->w, np);
            for (int32_t i = 0; i < np; i++) {
                int32_t p = zc_kr_i32(&r);
                struct zc_offset off;

                /* Nothing committed: offset -1 and no error, as Kafka. */
                if (!valid || !o || zc_offsets_get(o, group, name, p, &off) < 0)
                    write_partition(&resp->w, v, p, -1, -1, "", 0);
                else
                    write_partition(&resp->w, v, p, off.offset, off.leader_epoch,
                                    off.metadata, off.metadata_len);
            }
        }
    }
    if (v >= 2)
        zc_kw_i16(&resp->w, o ? ZC_GERR_NONE : ZC_GERR_COORDINATOR_NOT_AVAILABLE);
    free(group);
}
