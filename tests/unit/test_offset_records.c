/* test_offset_records.c - __consumer_offsets records: encode -> decode round
 * trips (commits, tombstones, many records), the batch is one the log store
 * accepts from a producer, Kafka's older value versions read, and what the
 * decoder skips (damaged CRC, compressed, partial tail, group metadata). */
#include "broker/offset_records.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log/batch.h"
#include "log/crc32c.h"
#include "tap.h"

struct seen {
    int n;
    struct zc_offset_rec rec[8];
    char group[8][64], topic[8][64], meta[8][64];
};

static void on_rec(void *arg, const struct zc_offset_rec *r)
{
    struct seen *s = arg;

    if (s->n < 8) {
        s->rec[s->n] = *r;
        snprintf(s->group[s->n], 64, "%.*s", (int)r->group_len, r->group);
        snprintf(s->topic[s->n], 64, "%.*s", (int)r->topic_len, r->topic);
        snprintf(s->meta[s->n], 64, "%.*s", (int)r->metadata_len,
                 r->metadata ? r->metadata : "");
    }
    s->n++;
}

#define REC(g, t, p, off, ep, m)                                                   \
    (struct zc_offset_rec){ .group = (g), .group_len = strlen(g), .topic = (t),    \
                            .topic_len = strlen(t), .partition = (p), .offset = (off), \
                            .leader_epoch = (ep), .metadata = (m),                 \
                            .metadata_len = strlen(m), .commit_ts_ms = 1234 }

static void test_round_trip(void)
{
    struct zc_offset_rec in[3] = {
        REC("grp", "orders", 0, 42, 3, "meta-0"),
        REC("grp", "orders", 3, 1LL << 40, -1, ""),
        REC("other", "t.x_y-z", 7, 0, 0, "m"),
    };
    struct zc_batch b;
    struct seen s = { 0 };
    uint8_t *buf;
    size_t len, used;
    int64_t next = -1;

    in[2].tombstone = true;
    t_is_int(zc_offset_batch_encode(in, 3, 5000, &buf, &len), 0, "encode 3 records");
    t_is_int(zc_batch_validate(buf, len, 1 << 20, &b), (long long)len,
             "the batch passes the log store's producer validation");
    t_is_int(b.records_count, 3, "3 records");
    t_is_int(b.max_timestamp, 5000, "timestamp");
    used = zc_offset_batches_decode(buf, len, on_rec, &s, &next);
    t_is_int(used, len, "whole batch walked");
    t_is_int(next, 3, "next offset after base 0 + 3 records");
    t_is_int(s.n, 3, "3 records decoded");
    t_is_str(s.group[0], "grp", "group");
    t_is_str(s.topic[0], "orders", "topic");
    t_is_int(s.rec[0].partition, 0, "partition");
    t_is_int(s.rec[0].offset, 42, "offset");
    t_is_int(s.rec[0].leader_epoch, 3, "leader epoch");
    t_is_str(s.meta[0], "meta-0", "metadata");
    t_is_int(s.rec[0].commit_ts_ms, 1234, "commit timestamp");
    t_is_int(s.rec[1].offset, 1LL << 40, "large offset");
    t_is_int(s.rec[1].leader_epoch, -1, "epoch -1");
    t_is_int(s.rec[1].metadata_len, 0, "empty metadata");
    t_ok(!s.rec[0].tombstone && !s.rec[1].tombstone, "commits are not tombstones");
    t_ok(s.rec[2].tombstone, "tombstone decoded");
    t_is_str(s.topic[2], "t.x_y-z", "tombstone's topic");
    t_is_int(s.rec[2].partition, 7, "tombstone's partition");

    /* As stored: base offset patched to 100; next follows it. */
    zc_put_be64(buf, 100);
    memset(&s, 0, sizeof(s));
    zc_offset_batches_decode(buf, len, on_rec, &s, &next);
    t_is_int(next, 103, "next offset follows the stored base offset");

    /* A partial tail is not walked. */
    memset(&s, 0, sizeof(s));
    next = -1;
    t_is_int(zc_offset_batches_decode(buf, len - 1, on_rec, &s, &next), 0, "torn batch: 0 bytes");
    t_is_int(s.n, 0, "... no records");
    t_is_int(next, -1, "... next offset unchanged");

    /* A flipped bit: the batch is skipped, its offsets still passed. */
    buf[len - 3] ^= 1;
    memset(&s, 0, sizeof(s));
    t_is_int(zc_offset_batches_decode(buf, len, on_rec, &s, &next), (long long)len,
             "damaged batch walked over");
    t_is_int(s.n, 0, "... its records ignored");
    t_is_int(next, 103, "... next offset still advances");
    free(buf);

    t_is_int(zc_offset_batch_encode(in, 0, 0, &buf, &len), -EINVAL, "no records: EINVAL");
}

/* Kafka's value versions 0-2 (no leader epoch), a group-metadata key and a
 * compressed batch, built by hand. */
static size_t put16(uint8_t *p, int v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; return 2; }
static size_t putstr(uint8_t *p, const char *s)
{
    size_t n = strlen(s);

    put16(p, (int)n);
    memcpy(p + 2, s, n);
    return n + 2;
}

static size_t varint(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;

    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* One record with @key/@val (val NULL: null value) in a batch with @attrs. */
static size_t hand_batch(uint8_t *out, const uint8_t *key, size_t klen, const uint8_t *val,
                         size_t vlen, int16_t attrs)
{
    uint8_t rec[512];
    size_t r = 0, n = ZC_BATCH_HEADER;

    memset(out, 0, ZC_BATCH_HEADER);
    rec[r++] = 0;
    r += varint(rec + r, 0);
    r += varint(rec + r, 0);
    r += varint(rec + r, (int64_t)klen);
    memcpy(rec + r, key, klen);
    r += klen;
    r += varint(rec + r, val ? (int64_t)vlen : -1);
    if (val) {
        memcpy(rec + r, val, vlen);
        r += vlen;
    }
    r += varint(rec + r, 0);
    n += varint(out + n, (int64_t)r);
    memcpy(out + n, rec, r);
    n += r;
    out[ZC_BATCH_MAGIC] = 2;
    put16(out + ZC_BATCH_ATTRIBUTES, attrs);
    zc_put_be32(out + ZC_BATCH_RECORDS_COUNT, 1);
    zc_put_be32(out + ZC_BATCH_LENGTH, (uint32_t)(n - ZC_BATCH_LOG_OVERHEAD));
    zc_put_be32(out + ZC_BATCH_CRC, zc_crc32c(0, out + ZC_BATCH_ATTRIBUTES,
                                              n - ZC_BATCH_ATTRIBUTES));
    return n;
}

static void test_kafka_versions(void)
{
    uint8_t key[128], val[128], batch[4][600];
    size_t k = 0, v, len[4], total = 0;
    uint8_t all[2400];
    struct seen s = { 0 };
    int64_t next = 0;

    k += put16(key + k, 0);                     /* key version 0 */
    k += putstr(key + k, "g0");
    k += putstr(key + k, "t0");
    memcpy(key + k, "\0\0\0\x05", 4);
    k += 4;
    for (int ver = 0; ver <= 2; ver++) {
        v = put16(val, ver);
        zc_put_be64(val + v, 77 + (uint64_t)ver);
        v += 8;
        v += putstr(val + v, "old");
        zc_put_be64(val + v, 99);               /* commit timestamp */
        v += 8;
        if (ver == 1) {
            zc_put_be64(val + v, 0);            /* expire timestamp */
            v += 8;
        }
        len[ver] = hand_batch(batch[ver], key, k, val, v, 0);
    }
    /* A group-metadata key (version 2) is not an offset. */
    {
        uint8_t gk[16];
        size_t gl = put16(gk, 2);

        gl += putstr(gk + gl, "g0");
        len[3] = hand_batch(batch[3], gk, gl, val, v, 0);
    }
    for (int i = 0; i < 4; i++) {
        memcpy(all + total, batch[i], len[i]);
        total += len[i];
    }
    t_is_int(zc_offset_batches_decode(all, total, on_rec, &s, &next), (long long)total,
             "four batches walked");
    t_is_int(s.n, 3, "three offset records, the group-metadata one skipped");
    for (int ver = 0; ver <= 2; ver++) {
        t_is_int(s.rec[ver].offset, 77 + ver, "value v%d: offset", ver);
        t_is_int(s.rec[ver].leader_epoch, -1, "value v%d: no epoch", ver);
        t_is_str(s.meta[ver], "old", "value v%d: metadata", ver);
        t_is_int(s.rec[ver].partition, 5, "key v0: partition");
    }

    /* The same record in a gzip batch is not decoded (never ours). */
    memset(&s, 0, sizeof(s));
    len[0] = hand_batch(batch[0], key, k, val, v, 1);
    zc_offset_batches_decode(batch[0], len[0], on_rec, &s, &next);
    t_is_int(s.n, 0, "compressed batch skipped");
    /* A truncated key inside a valid batch: the record is skipped. */
    memset(&s, 0, sizeof(s));
    len[0] = hand_batch(batch[0], key, k - 2, val, v, 0);
    zc_offset_batches_decode(batch[0], len[0], on_rec, &s, &next);
    t_is_int(s.n, 0, "truncated key skipped");
    /* A null value is a tombstone. */
    memset(&s, 0, sizeof(s));
    len[0] = hand_batch(batch[0], key, k, NULL, 0, 0);
    zc_offset_batches_decode(batch[0], len[0], on_rec, &s, &next);
    t_ok(s.n == 1 && s.rec[0].tombstone, "null value: tombstone");
}

int main(void)
{
    test_round_trip();
    test_kafka_versions();
    return t_done();
}
