/* offsets.c - committed offsets in memory, durable in __consumer_offsets
 * (offsets.h). One hash table keyed by (group, topic, partition). */
#include "broker/offsets.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/group.h"
#include "broker/htab.h"
#include "broker/offset_records.h"

#define REPLAY_CHUNK (1u << 20)
/* Kafka's offsets.topic.segment.bytes; the topic is never aged out. */
#define OFFSETS_SEGMENT_BYTES (100u << 20)

struct entry {
    struct zc_hnode node;           /* first: the table hands back &node */
    int32_t partition;
    char *group, *topic;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    size_t metadata_len;
};

struct zc_offsets {
    pthread_mutex_t lock;
    struct zc_log *log;
    struct zc_log_partition *part;
    struct zc_htab entries;         /* of struct entry */
};

static uint32_t key_hash(const char *group, size_t glen, const char *topic, size_t tlen,
                         int32_t partition)
{
    uint32_t h = ZC_FNV1A_INIT;

    h = zc_hash_fnv1a(h, group, glen + 1);      /* the NUL separates group from topic */
    h = zc_hash_fnv1a(h, topic, tlen + 1);
    return zc_hash_fnv1a(h, &partition, sizeof(partition));
}

/* The link to the entry of this key, or the chain's final NULL link. */
static struct zc_hnode **find_slot(struct zc_offsets *o, const char *group, size_t glen,
                                   const char *topic, size_t tlen, int32_t partition,
                                   uint32_t h)
{
    struct zc_hnode **pp = zc_htab_chain(&o->entries, h);

    for (; *pp; pp = &(*pp)->next) {
        struct entry *e = (struct entry *)*pp;

        if (e->node.hash == h && e->partition == partition && strlen(e->group) == glen &&
            !memcmp(e->group, group, glen) && strlen(e->topic) == tlen &&
            !memcmp(e->topic, topic, tlen))
            return pp;
    }
    return pp;
}

static void entry_free(struct entry *e)
{
    free(e->group);
    free(e->topic);
    free(e->metadata);
    free(e);
}

static char *memdup_nul(const char *s, size_t len)
{
    char *d = malloc(len + 1);

    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

/* Apply one record to memory: the last one of a key wins. */
static int apply(struct zc_offsets *o, const struct zc_offset_rec *r)
{
    uint32_t h = key_hash(r->group, r->group_len, r->topic, r->topic_len, r->partition);
    struct zc_hnode **pp = find_slot(o, r->group, r->group_len, r->topic, r->topic_len,
                                     r->partition, h);
    struct entry *e = (struct entry *)*pp;
    char *meta;

    if (r->tombstone) {
        if (e) {
            zc_htab_unlink(&o->entries, pp);
            entry_free(e);
        }
        return 0;
    }
    meta = memdup_nul(r->metadata ? r->metadata : "", r->metadata ? r->metadata_len : 0);
    if (!meta)
        return -ENOMEM;
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e || !(e->group = memdup_nul(r->group, r->group_len)) ||
            !(e->topic = memdup_nul(r->topic, r->topic_len))) {
            if (e)
                entry_free(e);
            free(meta);
            return -ENOMEM;
        }
        e->node.hash = h;
        e->partition = r->partition;
        zc_htab_insert(&o->entries, &e->node);
    }
    free(e->metadata);
    e->metadata = meta;
    e->metadata_len = r->metadata ? r->metadata_len : 0;
    e->offset = r->offset;
    e->leader_epoch = r->leader_epoch;
    return 0;
}

/* Append @n records as one batch. */
static int append_records(struct zc_offsets *o, const struct zc_offset_rec *recs, size_t n,
                          int64_t now_ms)
{
    struct zc_log_append_result res;
    uint8_t *buf;
    size_t len;
    int ret;

    if (n == 0)
        return 0;
    ret = zc_offset_batch_encode(recs, n, now_ms, &buf, &len);
    if (ret < 0)
        return ret;
    ret = zc_log_append(o->part, buf, len, 0, &res);
    free(buf);
    return ret;
}

struct replay {
    struct zc_offsets *o;
    int err;
};

static void on_replayed(void *arg, const struct zc_offset_rec *r)
{
    struct replay *rp = arg;

    if (!rp->err)
        rp->err = apply(rp->o, r);
}

static int pread_full(int fd, void *buf, size_t len, off_t pos)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, (char *)buf + done, len - done, pos + (off_t)done);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;            /* the segment is shorter than the log said */
        done += (size_t)n;
    }
    return 0;
}

static int replay(struct zc_offsets *o)
{
    int64_t off = zc_log_start_offset(o->part), end = zc_log_end_offset(o->part);
    struct replay rp = { o, 0 };
    uint8_t *buf = NULL;
    size_t cap = 0;
    int ret = 0;

    while (off < end && !rp.err) {
        struct zc_log_range r;
        int64_t next = off;
        size_t len;

        ret = zc_log_read(o->part, off, REPLAY_CHUNK, true, &r);
        if (ret < 0 || r.len == 0)
            break;
        if (r.len > cap) {
            uint8_t *nb = realloc(buf, r.len);

            if (!nb) {
                zc_log_range_release(&r);
                ret = -ENOMEM;
                break;
            }
            buf = nb;
            cap = r.len;
        }
        len = r.len;
        ret = pread_full(r.fd, buf, len, r.pos);
        zc_log_range_release(&r);
        if (ret < 0)
            break;
        zc_offset_batches_decode(buf, len, on_replayed, &rp, &next);
        if (next <= off) {
            ret = -EBADMSG;         /* no whole batch where one must be */
            break;
        }
        off = next;
    }
    free(buf);
    return rp.err ? rp.err : ret;
}

static bool partition_exists(struct zc_log *log, const char *topic, int32_t partition)
{
    int n = zc_log_topic_partitions(log, topic);

    return n > 0 && partition >= 0 && partition < n;
}

/* Tombstones for every entry @gone says goes; then drop them from memory. */
static int drop_where(struct zc_offsets *o, int64_t now_ms,
                      bool (*gone)(struct zc_offsets *o, const struct entry *e, const void *arg),
                      const void *arg)
{
    struct zc_offset_rec *recs = NULL;
    size_t n = 0, cap = 0;
    int ret;

    zc_htab_each(&o->entries, i, node) {
        const struct entry *e = (const struct entry *)node;

        if (!gone(o, e, arg))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct zc_offset_rec *nr = realloc(recs, ncap * sizeof(*nr));

            if (!nr) {
                free(recs);
                return -ENOMEM;
            }
            recs = nr;
            cap = ncap;
        }
        recs[n++] = (struct zc_offset_rec){
            .group = e->group, .group_len = strlen(e->group),
            .topic = e->topic, .topic_len = strlen(e->topic),
            .partition = e->partition, .tombstone = true,
        };
    }
    ret = append_records(o, recs, n, now_ms);
    /* Each record points into its own entry, which only its own
     * tombstone frees. */
    for (size_t i = 0; ret == 0 && i < n; i++)
        apply(o, &recs[i]);
    free(recs);
    return ret;
}

static bool entry_orphaned(struct zc_offsets *o, const struct entry *e, const void *arg)
{
    (void)arg;
    return !partition_exists(o->log, e->topic, e->partition);
}

static bool entry_of_topic(struct zc_offsets *o, const struct entry *e, const void *arg)
{
    (void)o;
    return strcmp(e->topic, arg) == 0;
}

int zc_offsets_open(struct zc_log *log, struct zc_offsets **out)
{
    struct zc_log_config cfg = {
        .segment_bytes = OFFSETS_SEGMENT_BYTES, .retention_ms = -1, .retention_bytes = -1,
    };
    struct zc_offsets *o = calloc(1, sizeof(*o));
    int ret;

    if (!o)
        return -ENOMEM;
    o->log = log;
    if (zc_htab_init(&o->entries) < 0 || pthread_mutex_init(&o->lock, NULL) != 0) {
        zc_htab_free(&o->entries);
        free(o);
        return -ENOMEM;
    }
    ret = zc_log_topic_create(log, ZC_OFFSETS_TOPIC, 1, &cfg);
    if (ret < 0 && ret != -EEXIST)
        goto fail;
    o->part = zc_log_partition(log, ZC_OFFSETS_TOPIC, 0);
    ret = o->part ? replay(o) : -ENOENT;
    if (ret == 0)
        ret = drop_where(o, 0, entry_orphaned, NULL);
    if (ret < 0)
        goto fail;
    *out = o;
    return 0;
fail:
    zc_offsets_free(o);
    return ret;
}

void zc_offsets_free(struct zc_offsets *o)
{
    if (!o)
        return;
    zc_htab_each(&o->entries, i, node)
        entry_free((struct entry *)node);
    zc_htab_free(&o->entries);
    pthread_mutex_destroy(&o->lock);
    free(o);
}

static struct entry *lookup(struct zc_offsets *o, const char *group, const char *topic,
                            int32_t partition)
{
    size_t glen = strlen(group), tlen = strlen(topic);

    return (struct entry *)*find_slot(o, group, glen, topic, tlen, partition,
                                      key_hash(group, glen, topic, tlen, partition));
}

int zc_offsets_commit(struct zc_offsets *o, const char *group,
                      struct zc_offset_commit *items, size_t n, int64_t now_ms)
{
    struct zc_offset_rec *recs = calloc(n ? n : 1, sizeof(*recs));
    size_t nrec = 0;
    int ret;

    if (!recs)
        return -ENOMEM;
    pthread_mutex_lock(&o->lock);
    for (size_t i = 0; i < n; i++) {
        struct zc_offset_commit *it = &items[i];
        size_t mlen = it->metadata ? it->metadata_len : 0;
        const struct entry *e;

        it->error = ZC_GERR_NONE;
        if (!it->topic || !partition_exists(o->log, it->topic, it->partition)) {
            it->error = ZC_GERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        if (mlen > ZC_OFFSET_METADATA_MAX) {
            it->error = ZC_GERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        e = lookup(o, group, it->topic, it->partition);
        if (e && e->offset == it->offset && e->leader_epoch == it->leader_epoch &&
            e->metadata_len == mlen && (!mlen || !memcmp(e->metadata, it->metadata, mlen)))
            continue;               /* already stored as is */
        recs[nrec++] = (struct zc_offset_rec){
            .group = group, .group_len = strlen(group),
            .topic = it->topic, .topic_len = strlen(it->topic),
            .partition = it->partition, .offset = it->offset,
            .leader_epoch = it->leader_epoch, .metadata = it->metadata ? it->metadata : "",
            .metadata_len = mlen, .commit_ts_ms = now_ms,
        };
    }
    ret = append_records(o, recs, nrec, now_ms);
    for (size_t i = 0; ret == 0 && i < nrec; i++)
        ret = apply(o, &recs[i]);
    pthread_mutex_unlock(&o->lock);
    free(recs);
    return ret;
}

int zc_offsets_get(struct zc_offsets *o, const char *group, const char *topic,
                   int32_t partition, struct zc_offset *out)
{
    const struct entry *e;
    int ret = -ENOENT;

    pthread_mutex_lock(&o->lock);
    e = lookup(o, group, topic, partition);
    if (e) {
        out->offset = e->offset;
        out->leader_epoch = e->leader_epoch;
        out->metadata_len = e->metadata_len <= ZC_OFFSET_METADATA_MAX
                                ? e->metadata_len : ZC_OFFSET_METADATA_MAX;
        memcpy(out->metadata, e->metadata, out->metadata_len);
        out->metadata[out->metadata_len] = '\0';
        ret = 0;
    }
    pthread_mutex_unlock(&o->lock);
    return ret;
}

void zc_offsets_list(struct zc_offsets *o, const char *group,
                     void (*fn)(void *arg, const char *topic, int32_t partition,
                                int64_t offset, int32_t leader_epoch,
                                const char *metadata, size_t metadata_len),
                     void *arg)
{
    pthread_mutex_lock(&o->lock);
    zc_htab_each(&o->entries, i, node) {
        const struct entry *e = (const struct entry *)node;

        if (strcmp(e->group, group) == 0)
            fn(arg, e->topic, e->partition, e->offset, e->leader_epoch, e->metadata,
               e->metadata_len);
    }
    pthread_mutex_unlock(&o->lock);
}

int zc_offsets_drop_topic(struct zc_offsets *o, const char *topic, int64_t now_ms)
{
    int ret;

    pthread_mutex_lock(&o->lock);
    ret = drop_where(o, now_ms, entry_of_topic, topic);
    pthread_mutex_unlock(&o->lock);
    return ret;
}
