/* offset_records.h - committed offsets as records of the internal topic
 * __consumer_offsets, in Kafka's own formats so the topic reads like
 * Kafka's: RecordBatch v2 (uncompressed, CRC-32C) whose records have
 *   key   int16 version 1, STRING group, STRING topic, INT32 partition
 *   value int16 version 3, INT64 offset, INT32 leader epoch,
 *         STRING metadata, INT64 commit timestamp       (null: deleted)
 * [K core/src/main/scala/kafka/coordinator/group/GroupMetadataManager.scala
 * and group-coordinator's OffsetCommitKey/Value.json]. The decoder also reads
 * value versions 0-2 and skips group-metadata keys (version 2), which this
 * broker never writes but a Kafka-written topic holds. */
#ifndef ZC_BROKER_OFFSET_RECORDS_H
#define ZC_BROKER_OFFSET_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* One record; strings are views (not NUL-terminated) of at most INT16_MAX. */
struct zc_offset_rec {
    const char *group;
    size_t group_len;
    const char *topic;
    size_t topic_len;
    int32_t partition;
    bool tombstone;                 /* the offset was deleted */
    int64_t offset;
    int32_t leader_epoch;           /* -1: unknown */
    const char *metadata;
    size_t metadata_len;
    int64_t commit_ts_ms;
};

/* zc_offset_batch_encode - @n records (n >= 1) as one RecordBatch v2 with
 * base offset 0, ready for zc_log_append. *out is malloc'd.
 * Return: 0, -EINVAL (a string over INT16_MAX, n == 0), or -ENOMEM. */
int zc_offset_batch_encode(const struct zc_offset_rec *recs, size_t n, int64_t now_ms,
                           uint8_t **out, size_t *out_len);

/* zc_offset_batches_decode - call @fn for each offset record in the whole
 * batches of @buf (log bytes: batches back to back). Batches this format does
 * not describe (other magic, compressed, control, bad CRC) and malformed
 * records are skipped; a partial batch at the end stops the walk.
 * *next_offset is set past the last whole batch (unchanged if none).
 * Return: bytes of whole batches walked. Never reads outside @buf. */
size_t zc_offset_batches_decode(const uint8_t *buf, size_t len,
                                void (*fn)(void *arg, const struct zc_offset_rec *r),
                                void *arg, int64_t *next_offset);

#endif /* ZC_BROKER_OFFSET_RECORDS_H */
