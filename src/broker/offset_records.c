/* offset_records.c - __consumer_offsets records and their RecordBatch v2
 * framing (offset_records.h). */
#include "broker/offset_records.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log/batch.h"
#include "log/crc32c.h"

#define KEY_VERSION 1
#define VALUE_VERSION 3

/* ---- writing ---------------------------------------------------------- */

struct wbuf {
    uint8_t *p;
    size_t len, cap;
    bool oom;
};

static void put(struct wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        uint8_t *np;

        while (cap < w->len + n)
            cap *= 2;
        np = realloc(w->p, cap);
        if (!np) {
            w->oom = true;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void put_be(struct wbuf *w, uint64_t v, int bytes)
{
    uint8_t b[8];

    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(w, b, (size_t)bytes);
}

static void put_varlong(struct wbuf *w, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);    /* zigzag */
    uint8_t b[10];
    size_t n = 0;

    while (z >= 0x80) {
        b[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    b[n++] = (uint8_t)z;
    put(w, b, n);
}

static void put_str(struct wbuf *w, const char *s, size_t len)
{
    put_be(w, len, 2);
    put(w, s, len);
}

static void put_record(struct wbuf *w, struct wbuf *scratch, const struct zc_offset_rec *r,
                       int32_t offset_delta)
{
    struct wbuf key = { 0 }, val = { 0 };

    put_be(&key, KEY_VERSION, 2);
    put_str(&key, r->group, r->group_len);
    put_str(&key, r->topic, r->topic_len);
    put_be(&key, (uint32_t)r->partition, 4);
    if (!r->tombstone) {
        put_be(&val, VALUE_VERSION, 2);
        put_be(&val, (uint64_t)r->offset, 8);
        put_be(&val, (uint32_t)r->leader_epoch, 4);
        put_str(&val, r->metadata ? r->metadata : "", r->metadata ? r->metadata_len : 0);
        put_be(&val, (uint64_t)r->commit_ts_ms, 8);
    }

    scratch->len = 0;
    put(scratch, "", 1);                        /* attributes */
    put_varlong(scratch, 0);                    /* timestamp delta */
    put_varlong(scratch, offset_delta);
    put_varlong(scratch, (int64_t)key.len);
    put(scratch, key.p, key.len);
    if (r->tombstone) {
        put_varlong(scratch, -1);
    } else {
        put_varlong(scratch, (int64_t)val.len);
        put(scratch, val.p, val.len);
    }
    put_varlong(scratch, 0);                    /* headers */
    w->oom |= key.oom || val.oom || scratch->oom;
    put_varlong(w, (int64_t)scratch->len);
    put(w, scratch->p, scratch->len);
    free(key.p);
    free(val.p);
}

int zc_offset_batch_encode(const struct zc_offset_rec *recs, size_t n, int64_t now_ms,
                           uint8_t **out, size_t *out_len)
{
    struct wbuf w = { 0 }, scratch = { 0 };

    if (n == 0 || n > INT32_MAX)
        return -EINVAL;
    for (size_t i = 0; i < n; i++)
        if (recs[i].group_len > INT16_MAX || recs[i].topic_len > INT16_MAX ||
            (recs[i].metadata && recs[i].metadata_len > INT16_MAX))
            return -EINVAL;

    put_be(&w, 0, 8);                           /* base offset: the log's */
    put_be(&w, 0, 4);                           /* batch length, below */
    put_be(&w, 0, 4);                           /* partition leader epoch */
    put(&w, "\x02", 1);                         /* magic */
    put_be(&w, 0, 4);                           /* CRC, below */
    put_be(&w, 0, 2);                           /* attributes: no codec */
    put_be(&w, (uint32_t)(n - 1), 4);           /* last offset delta */
    put_be(&w, (uint64_t)now_ms, 8);            /* first timestamp */
    put_be(&w, (uint64_t)now_ms, 8);            /* max timestamp */
    put_be(&w, UINT64_MAX, 8);                  /* producer id -1 */
    put_be(&w, 0xffff, 2);                      /* producer epoch -1 */
    put_be(&w, UINT32_MAX, 4);                  /* base sequence -1 */
    put_be(&w, (uint32_t)n, 4);
    for (size_t i = 0; i < n; i++)
        put_record(&w, &scratch, &recs[i], (int32_t)i);
    free(scratch.p);
    if (w.oom || w.len - 12 > INT32_MAX) {
        free(w.p);
        return -ENOMEM;
    }
    zc_put_be32(w.p + ZC_BATCH_LENGTH, (uint32_t)(w.len - ZC_BATCH_LOG_OVERHEAD));
    zc_put_be32(w.p + ZC_BATCH_CRC, zc_crc32c(0, w.p + ZC_BATCH_ATTRIBUTES,
                                              w.len - ZC_BATCH_ATTRIBUTES));
    *out = w.p;
    *out_len = w.len;
    return 0;
}

/* ---- reading ---------------------------------------------------------- */

struct rbuf {
    const uint8_t *p, *end;
    bool bad;
};

static bool need(struct rbuf *r, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static uint64_t get_be(struct rbuf *r, int bytes)
{
    uint64_t v = 0;

    if (!need(r, (size_t)bytes))
        return 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *r->p++;
    return v;
}

static int64_t get_varlong(struct rbuf *r)
{
    uint64_t z = 0;

    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b;

        if (!need(r, 1))
            return 0;
        b = *r->p++;
        z |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    }
    r->bad = true;
    return 0;
}

static const char *get_str(struct rbuf *r, size_t *len)
{
    int16_t n = (int16_t)get_be(r, 2);
    const char *s;

    if (n < 0 || !need(r, (size_t)n)) {
        r->bad = true;
        return NULL;
    }
    s = (const char *)r->p;
    r->p += n;
    *len = (size_t)n;
    return s;
}

/* A record's key and value; false for keys that are not offset commits. */
static bool parse_kv(struct rbuf *key, struct rbuf *val, bool null_value,
                     struct zc_offset_rec *out)
{
    int16_t kv = (int16_t)get_be(key, 2), vv;

    if (key->bad || (kv != 0 && kv != 1))
        return false;               /* version 2: group metadata */
    out->group = get_str(key, &out->group_len);
    out->topic = get_str(key, &out->topic_len);
    out->partition = (int32_t)get_be(key, 4);
    if (key->bad)
        return false;
    out->tombstone = null_value;
    if (null_value)
        return true;
    vv = (int16_t)get_be(val, 2);
    out->offset = (int64_t)get_be(val, 8);
    out->leader_epoch = vv >= 3 ? (int32_t)get_be(val, 4) : -1;
    out->metadata = get_str(val, &out->metadata_len);
    out->commit_ts_ms = (int64_t)get_be(val, 8);
    return !val->bad && vv >= 0 && vv <= 3;
}

static void decode_records(struct rbuf *r, int32_t count,
                           void (*fn)(void *arg, const struct zc_offset_rec *rec), void *arg)
{
    for (int32_t i = 0; i < count && !r->bad; i++) {
        int64_t len = get_varlong(r);
        struct rbuf rec, key, val;
        struct zc_offset_rec out;
        int64_t klen, vlen, headers;

        if (len < 0 || !need(r, (size_t)len))
            return;
        rec = (struct rbuf){ r->p, r->p + len, false };
        r->p += len;
        (void)get_be(&rec, 1);                  /* attributes */
        (void)get_varlong(&rec);                /* timestamp delta */
        (void)get_varlong(&rec);                /* offset delta */
        klen = get_varlong(&rec);
        if (klen < 0 || !need(&rec, (size_t)klen))
            continue;
        key = (struct rbuf){ rec.p, rec.p + klen, false };
        rec.p += klen;
        vlen = get_varlong(&rec);
        if (vlen < -1 || (vlen > 0 && !need(&rec, (size_t)vlen)))
            continue;
        val = (struct rbuf){ rec.p, rec.p + (vlen > 0 ? vlen : 0), false };
        rec.p += vlen > 0 ? vlen : 0;
        headers = get_varlong(&rec);
        if (rec.bad || headers != 0)
            continue;                           /* we never write headers */
        memset(&out, 0, sizeof(out));
        if (parse_kv(&key, &val, vlen == -1, &out))
            fn(arg, &out);
    }
}

size_t zc_offset_batches_decode(const uint8_t *buf, size_t len,
                                void (*fn)(void *arg, const struct zc_offset_rec *r),
                                void *arg, int64_t *next_offset)
{
    size_t pos = 0;

    for (;;) {
        struct zc_batch b;
        ssize_t size = zc_batch_header(buf + pos, len - pos, &b);
        struct rbuf r;

        if (size <= 0 || (size_t)size > len - pos)
            break;                  /* partial (or nonsense) tail */
        /* Other magics, damaged, compressed or control batches: not ours. */
        if (zc_batch_check(buf + pos, (size_t)size, &b) == size &&
            (b.attributes & ZC_BATCH_CODEC_MASK) == 0 && !(b.attributes & ZC_BATCH_CONTROL)) {
            r = (struct rbuf){ buf + pos + ZC_BATCH_HEADER, buf + pos + size, false };
            decode_records(&r, b.records_count, fn, arg);
        }
        if (next_offset && b.magic == 2)
            *next_offset = zc_batch_last_offset(&b) + 1;
        pos += (size_t)size;
    }
    return pos;
}
