/* test_offsets.c - committed offsets on a real log store: commit, get,
 * list, per-item errors, unchanged commits not rewritten, reopen (the last
 * record wins, tombstones stay), offsets of deleted topics dropped both
 * while running and at the next open, and many commits across segments. */
#include "broker/offsets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/group.h"
#include "logutil.h"
#include "tap.h"

static struct zc_log *open_log(const char *dir, uint64_t segment_bytes)
{
    struct zc_log_config cfg = { .segment_bytes = segment_bytes };
    struct zc_log *log = NULL;
    int ret = zc_log_open(dir, &cfg, &log);

    if (ret < 0) {
        printf("# zc_log_open(%s): %s\n", dir, strerror(-ret));
        exit(1);
    }
    return log;
}

static int64_t committed(struct zc_offsets *o, const char *g, const char *t, int32_t p)
{
    struct zc_offset off;

    return zc_offsets_get(o, g, t, p, &off) == 0 ? off.offset : -1;
}

static int64_t log_end(struct zc_log *log)
{
    return zc_log_end_offset(zc_log_partition(log, ZC_OFFSETS_TOPIC, 0));
}

struct listed {
    int n;
    int64_t sum;
};

static void on_list(void *arg, const char *topic, int32_t partition, int64_t offset,
                    int32_t epoch, const char *meta, size_t meta_len)
{
    struct listed *l = arg;

    (void)topic;
    (void)partition;
    (void)epoch;
    (void)meta;
    (void)meta_len;
    l->n++;
    l->sum += offset;
}

static void test_commit_get_reopen(const char *dir)
{
    struct zc_log *log = open_log(dir, 0);
    struct zc_offsets *o = NULL;
    struct zc_offset off;
    char big[ZC_OFFSET_METADATA_MAX + 2];
    struct zc_offset_commit c[5] = {
        { .topic = "orders", .partition = 0, .offset = 10, .leader_epoch = 2,
          .metadata = "hello", .metadata_len = 5 },
        { .topic = "orders", .partition = 3, .offset = 33, .leader_epoch = -1 },
        { .topic = "nope", .partition = 0, .offset = 1, .leader_epoch = -1 },
        { .topic = "orders", .partition = 4, .offset = 1, .leader_epoch = -1 },
        { .topic = "orders", .partition = 1, .offset = 1, .leader_epoch = -1,
          .metadata = big, .metadata_len = sizeof(big) - 1 },
    };
    struct listed l = { 0 };
    int64_t end;

    memset(big, 'm', sizeof(big));
    t_is_int(zc_log_topic_create(log, "orders", 4, NULL), 0, "topic with 4 partitions");
    t_is_int(zc_offsets_open(log, &o), 0, "open on a fresh store");
    t_is_int(zc_offsets_get(o, "g", "orders", 0, &off), -ENOENT, "nothing committed yet");
    t_is_int(zc_offsets_commit(o, "g", c, 5, 1000), 0, "commit");
    t_is_int(c[0].error, 0, "partition 0 stored");
    t_is_int(c[1].error, 0, "partition 3 stored");
    t_is_int(c[2].error, ZC_GERR_UNKNOWN_TOPIC_OR_PARTITION, "unknown topic refused");
    t_is_int(c[3].error, ZC_GERR_UNKNOWN_TOPIC_OR_PARTITION, "partition past the count refused");
    t_is_int(c[4].error, ZC_GERR_OFFSET_METADATA_TOO_LARGE, "metadata over 4096 bytes refused");
    t_is_int(zc_offsets_get(o, "g", "orders", 0, &off), 0, "get");
    t_is_int(off.offset, 10, "offset");
    t_is_int(off.leader_epoch, 2, "leader epoch");
    t_is_str(off.metadata, "hello", "metadata");
    t_is_int(committed(o, "other", "orders", 0), -1, "groups are separate");
    end = log_end(log);
    t_is_int(end, 2, "one record per stored partition in the internal topic");
    t_is_int(zc_offsets_commit(o, "g", c, 2, 2000), 0, "the same commit again");
    t_is_int(log_end(log), end, "unchanged offsets are not written again");
    c[0].offset = 11;
    c[0].metadata = NULL;
    t_is_int(zc_offsets_commit(o, "g", c, 1, 3000), 0, "a newer offset");
    t_is_int(committed(o, "g", "orders", 0), 11, "newest wins in memory");
    zc_offsets_list(o, "g", on_list, &l);
    t_ok(l.n == 2 && l.sum == 44, "list: two partitions of g (%d, sum %lld)", l.n,
         (long long)l.sum);
    zc_offsets_free(o);
    t_is_int(zc_log_close(log), 0, "log closed");

    log = open_log(dir, 0);
    t_is_int(zc_offsets_open(log, &o), 0, "reopen");
    t_is_int(committed(o, "g", "orders", 0), 11, "last record wins after reopen");
    t_is_int(zc_offsets_get(o, "g", "orders", 0, &off), 0, "get after reopen");
    t_is_int(off.metadata_len, 0, "NULL metadata stored as empty");
    t_is_int(committed(o, "g", "orders", 3), 33, "other partition after reopen");
    zc_offsets_free(o);
    zc_log_close(log);
}

/* Offsets of a deleted topic: dropped by zc_offsets_drop_topic, and (if the
 * topic vanished while we were not looking) at the next open. */
static void test_deleted_topics(const char *dir)
{
    struct zc_log *log = open_log(dir, 0);
    struct zc_offsets *o = NULL;
    struct zc_offset_commit c[3] = {
        { .topic = "a", .partition = 0, .offset = 5, .leader_epoch = -1 },
        { .topic = "b", .partition = 0, .offset = 6, .leader_epoch = -1 },
        { .topic = "c", .partition = 0, .offset = 7, .leader_epoch = -1 },
    };

    zc_log_topic_create(log, "a", 1, NULL);
    zc_log_topic_create(log, "b", 1, NULL);
    zc_log_topic_create(log, "c", 1, NULL);
    t_is_int(zc_offsets_open(log, &o), 0, "open");
    t_is_int(zc_offsets_commit(o, "g1", c, 3, 1), 0, "commit a, b, c for g1");
    t_is_int(zc_offsets_commit(o, "g2", c, 1, 1), 0, "commit a for g2");
    t_is_int(zc_log_topic_delete(log, "a"), 0, "delete topic a");
    t_is_int(zc_offsets_drop_topic(o, "a", 2), 0, "drop its offsets");
    t_is_int(committed(o, "g1", "a", 0), -1, "g1's offset of a gone");
    t_is_int(committed(o, "g2", "a", 0), -1, "g2's offset of a gone");
    t_is_int(committed(o, "g1", "b", 0), 6, "b kept");
    zc_offsets_free(o);
    /* b deleted while the offsets were closed. */
    t_is_int(zc_log_topic_delete(log, "b"), 0, "delete topic b behind our back");
    t_is_int(zc_offsets_open(log, &o), 0, "reopen");
    t_is_int(committed(o, "g1", "b", 0), -1, "b's offsets dropped at open");
    t_is_int(committed(o, "g1", "a", 0), -1, "a's tombstones held");
    t_is_int(committed(o, "g1", "c", 0), 7, "c kept");
    /* Recreated topic: no stale offsets come back. */
    zc_log_topic_create(log, "b", 1, NULL);
    zc_offsets_free(o);
    t_is_int(zc_offsets_open(log, &o), 0, "reopen after b came back");
    t_is_int(committed(o, "g1", "b", 0), -1, "the recreated topic starts without offsets");
    zc_offsets_free(o);
    zc_log_close(log);
}

/* Thousands of commits over small segments: the replay walks them all and
 * ends with each key's last value. */
static void test_many_commits(const char *dir)
{
    struct zc_log *log = open_log(dir, 16 << 10);
    struct zc_offsets *o = NULL;
    char group[32];
    int ok = 1;

    zc_log_topic_create(log, "t", 8, NULL);
    t_is_int(zc_offsets_open(log, &o), 0, "open");
    for (int i = 1; i <= 2000 && ok; i++) {
        struct zc_offset_commit c = { .topic = "t", .partition = i % 8, .offset = i,
                                      .leader_epoch = -1 };

        snprintf(group, sizeof(group), "g%d", i % 5);
        ok = zc_offsets_commit(o, group, &c, 1, i) == 0 && c.error == 0;
    }
    t_ok(ok, "2000 commits");
    zc_offsets_free(o);
    zc_log_close(log);

    log = open_log(dir, 16 << 10);
    t_is_int(zc_offsets_open(log, &o), 0, "reopen over several segments");
    ok = 1;
    for (int g = 0; g < 5; g++)
        for (int p = 0; p < 8; p++) {
            int64_t want = -1;

            snprintf(group, sizeof(group), "g%d", g);
            for (int i = 1; i <= 2000; i++)
                if (i % 5 == g && i % 8 == p)
                    want = i;
            ok &= committed(o, group, "t", p) == want;
        }
    t_ok(ok, "every (group, partition) has its last commit");
    zc_offsets_free(o);
    zc_log_close(log);
}

int main(void)
{
    char d1[4096], d2[4096], d3[4096];

    snprintf(d1, sizeof(d1), "%s", tl_dir("offsets"));
    snprintf(d2, sizeof(d2), "%s", tl_dir("deleted"));
    snprintf(d3, sizeof(d3), "%s", tl_dir("many"));
    test_commit_get_reopen(d1);
    test_deleted_topics(d2);
    test_many_commits(d3);
    return t_done();
}
