/* offsets.h - committed offsets: (group, topic, partition) -> offset,
 * leader epoch and metadata string, held in memory and made durable in the
 * log store's internal topic __consumer_offsets (records in Kafka's format,
 * offset_records.h), replayed on open (the last record of a key wins).
 *
 * A commit returns once its records are appended, so it is as durable as
 * the log's flush policy makes any produced message: a kill -9 of the broker
 * loses nothing acknowledged (the page cache survives it).
 *
 * Threads: every call is safe from any thread (one mutex; appends of
 * commits happen under it, so memory and log agree on the order). */
#ifndef ZC_BROKER_OFFSETS_H
#define ZC_BROKER_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "log/log.h"

#define ZC_OFFSETS_TOPIC "__consumer_offsets"
#define ZC_OFFSETS_TOPIC_LEN (sizeof(ZC_OFFSETS_TOPIC) - 1)
#define ZC_OFFSET_METADATA_MAX 4096     /* Kafka's offset.metadata.max.bytes */

struct zc_offsets;

/* zc_offsets_open - create the internal topic in @log if missing, replay it,
 * and drop (with tombstones) offsets of topics or partitions that no longer
 * exist. @log is borrowed and must outlive the result.
 * Return: 0 with *out set, or -errno. */
int zc_offsets_open(struct zc_log *log, struct zc_offsets **out);
void zc_offsets_free(struct zc_offsets *o);     /* NULL-safe */

/* One partition of an OffsetCommit; @error is set by zc_offsets_commit. */
struct zc_offset_commit {
    const char *topic;              /* NUL-terminated; NULL: an invalid name */
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;           /* -1: unknown */
    const char *metadata;           /* NULL is stored as "" */
    size_t metadata_len;
    int16_t error;                  /* NONE, UNKNOWN_TOPIC_OR_PARTITION,
                                       OFFSET_METADATA_TOO_LARGE */
};

/* zc_offsets_commit - store the valid items of @items for @group in one
 * append (all of them or none), then in memory. Items already stored with
 * the same value are not written again (auto-commit repeats them).
 * Return: 0 (per-item errors in .error), or the append's -errno (nothing
 * stored; the caller answers every item with an error). */
int zc_offsets_commit(struct zc_offsets *o, const char *group,
                      struct zc_offset_commit *items, size_t n, int64_t now_ms);

struct zc_offset {
    int64_t offset;
    int32_t leader_epoch;
    size_t metadata_len;
    char metadata[ZC_OFFSET_METADATA_MAX + 1];  /* NUL-terminated too */
};

/* Return: 0 with *out set, or -ENOENT when nothing is committed. */
int zc_offsets_get(struct zc_offsets *o, const char *group, const char *topic,
                   int32_t partition, struct zc_offset *out);

/* zc_offsets_list - @fn for each committed partition of @group, under the
 * lock (@fn must not call back in; @metadata is borrowed). */
void zc_offsets_list(struct zc_offsets *o, const char *group,
                     void (*fn)(void *arg, const char *topic, int32_t partition,
                                int64_t offset, int32_t leader_epoch,
                                const char *metadata, size_t metadata_len),
                     void *arg);

/* zc_offsets_drop_topic - forget every group's offsets of @topic (deleted):
 * tombstones in the log, then memory. Return: 0 or -errno. */
int zc_offsets_drop_topic(struct zc_offsets *o, const char *topic, int64_t now_ms);

#endif /* ZC_BROKER_OFFSETS_H */
