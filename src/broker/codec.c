/* codec.c - Kafka wire primitives (see codec.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/codec.h"

static const uint8_t *take(struct zc_kr *r, size_t n)
{
    const uint8_t *p = r->p;

    if (r->bad || zc_kr_left(r) < n) {
        r->bad = true;
        r->p = r->end;
        return NULL;
    }
    r->p += n;
    return p;
}

int8_t zc_kr_i8(struct zc_kr *r)
{
    const uint8_t *p = take(r, 1);

    return p ? (int8_t)p[0] : 0;
}

int16_t zc_kr_i16(struct zc_kr *r)
{
    const uint8_t *p = take(r, 2);

    return p ? (int16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

int32_t zc_kr_i32(struct zc_kr *r)
{
    const uint8_t *p = take(r, 4);

    return p ? (int32_t)zc_kbe32(p) : 0;
}

int64_t zc_kr_i64(struct zc_kr *r)
{
    const uint8_t *p = take(r, 8);

    return p ? (int64_t)((uint64_t)zc_kbe32(p) << 32 | zc_kbe32(p + 4)) : 0;
}

bool zc_kr_bool(struct zc_kr *r)
{
    return zc_kr_i8(r) != 0;
}

uint32_t zc_kr_uvarint(struct zc_kr *r)
{
    uint32_t v = 0;

    for (int shift = 0; shift <= 28; shift += 7) {
        const uint8_t *p = take(r, 1);

        if (!p)
            return 0;
        /* The fifth byte may only hold the top 4 bits of a 32-bit value. */
        if (shift == 28 && (*p & 0xf0)) {
            r->bad = true;
            return 0;
        }
        v |= (uint32_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static struct zc_kstr take_str(struct zc_kr *r, int64_t len)
{
    struct zc_kstr s = { NULL, -1 };
    const uint8_t *p;

    if (len < 0 || (uint64_t)len > zc_kr_left(r)) {
        r->bad = true;
        r->p = r->end;
        return s;
    }
    p = take(r, (size_t)len);
    if (p) {
        s.p = (const char *)p;
        s.len = (int32_t)len;
    }
    return s;
}

struct zc_kstr zc_kr_string(struct zc_kr *r)
{
    int16_t len = zc_kr_i16(r);

    return take_str(r, r->bad ? -1 : len);
}

struct zc_kstr zc_kr_nullable_string(struct zc_kr *r)
{
    int16_t len = zc_kr_i16(r);
    struct zc_kstr null = { NULL, -1 };

    if (!r->bad && len == -1)
        return null;
    return take_str(r, r->bad ? -1 : len);
}

struct zc_kstr zc_kr_compact_string(struct zc_kr *r)
{
    uint32_t n = zc_kr_uvarint(r);

    return take_str(r, r->bad ? -1 : (int64_t)n - 1);
}

struct zc_kstr zc_kr_nullable_bytes(struct zc_kr *r)
{
    int32_t len = zc_kr_i32(r);
    struct zc_kstr null = { NULL, -1 };

    if (!r->bad && len == -1)
        return null;
    return take_str(r, r->bad ? -1 : len);
}

void zc_kr_skip_tags(struct zc_kr *r)
{
    uint32_t n = zc_kr_uvarint(r);

    /* Each tag is at least two bytes (number and size). */
    if (!r->bad && n > zc_kr_left(r) / 2) {
        r->bad = true;
        return;
    }
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t size;

        (void)zc_kr_uvarint(r);
        size = zc_kr_uvarint(r);
        take(r, size);
    }
}

static int32_t check_count(struct zc_kr *r, int64_t count, size_t min_elem)
{
    if (r->bad || count < 0 ||
        (min_elem && (uint64_t)count > zc_kr_left(r) / min_elem) ||
        (!min_elem && (uint64_t)count > zc_kr_left(r))) {
        r->bad = true;
        r->p = r->end;
        return 0;
    }
    return (int32_t)count;
}

int32_t zc_kr_array(struct zc_kr *r, size_t min_elem, bool nullable)
{
    int32_t n = zc_kr_i32(r);

    if (!r->bad && n == -1 && nullable)
        return -1;
    return check_count(r, n, min_elem);
}

int32_t zc_kr_compact_array(struct zc_kr *r, size_t min_elem)
{
    uint32_t n = zc_kr_uvarint(r);

    return check_count(r, r->bad ? -1 : (int64_t)n - 1, min_elem);
}

/* --- writer ------------------------------------------------------------ */

void zc_kw_free(struct zc_kw *w)
{
    free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

static uint8_t *grow(struct zc_kw *w, size_t n)
{
    uint8_t *p;

    if (w->oom)
        return NULL;
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 256;

        while (cap - w->len < n) {
            if (cap > SIZE_MAX / 2) {
                w->oom = true;
                return NULL;
            }
            cap *= 2;
        }
        p = realloc(w->buf, cap);
        if (!p) {
            w->oom = true;
            return NULL;
        }
        w->buf = p;
        w->cap = cap;
    }
    p = w->buf + w->len;
    w->len += n;
    return p;
}

void zc_kw_raw(struct zc_kw *w, const void *src, size_t len)
{
    uint8_t *p = len ? grow(w, len) : NULL;

    if (p)
        memcpy(p, src, len);
}

static void put_be(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void put(struct zc_kw *w, uint64_t v, int bytes)
{
    uint8_t *p = grow(w, (size_t)bytes);

    if (p)
        put_be(p, v, bytes);
}

void zc_kw_i8(struct zc_kw *w, int8_t v)   { put(w, (uint8_t)v, 1); }
void zc_kw_i16(struct zc_kw *w, int16_t v) { put(w, (uint16_t)v, 2); }
void zc_kw_i32(struct zc_kw *w, int32_t v) { put(w, (uint32_t)v, 4); }
void zc_kw_i64(struct zc_kw *w, int64_t v) { put(w, (uint64_t)v, 8); }

void zc_kw_uvarint(struct zc_kw *w, uint32_t v)
{
    while (v >= 0x80) {
        put(w, (v & 0x7f) | 0x80, 1);
        v >>= 7;
    }
    put(w, v, 1);
}

void zc_kw_string(struct zc_kw *w, const char *s, size_t len)
{
    if (!s) {
        zc_kw_i16(w, -1);
        return;
    }
    if (len > INT16_MAX)
        len = INT16_MAX;
    zc_kw_i16(w, (int16_t)len);
    zc_kw_raw(w, s, len);
}

void zc_kw_cstring(struct zc_kw *w, const char *s)
{
    zc_kw_string(w, s, s ? strlen(s) : 0);
}

void zc_kw_compact_string(struct zc_kw *w, const char *s)
{
    size_t len = strlen(s);

    zc_kw_uvarint(w, (uint32_t)len + 1);
    zc_kw_raw(w, s, len);
}

size_t zc_kw_reserve_i32(struct zc_kw *w)
{
    size_t at = w->len;

    zc_kw_i32(w, 0);
    return at;
}

void zc_kw_patch_i32(struct zc_kw *w, size_t at, int32_t v)
{
    if (!w->oom && at + 4 <= w->len)
        put_be(w->buf + at, (uint32_t)v, 4);
}

/* --- request header ---------------------------------------------------- */

/* First flexible version of the APIs a client may send us, from Kafka's
 * message definitions (clients/src/main/resources/common/message/). */
static const struct {
    int16_t key, first_flexible;
} flexible_from[] = {
    { 0, 9 },   /* Produce */
    { 1, 12 },  /* Fetch */
    { 2, 6 },   /* ListOffsets */
    { 3, 9 },   /* Metadata */
    { 8, 8 },   /* OffsetCommit */
    { 9, 6 },   /* OffsetFetch */
    { 10, 3 },  /* FindCoordinator */
    { 11, 6 },  /* JoinGroup */
    { 12, 4 },  /* Heartbeat */
    { 13, 4 },  /* LeaveGroup */
    { 14, 4 },  /* SyncGroup */
    { 15, 5 },  /* DescribeGroups */
    { 16, 3 },  /* ListGroups */
    { 18, 3 },  /* ApiVersions */
    { 19, 5 },  /* CreateTopics */
    { 20, 4 },  /* DeleteTopics */
    { 22, 2 },  /* InitProducerId */
};

bool zc_kreq_is_flexible(int16_t api_key, int16_t version)
{
    for (size_t i = 0; i < sizeof(flexible_from) / sizeof(flexible_from[0]); i++)
        if (flexible_from[i].key == api_key)
            return version >= flexible_from[i].first_flexible;
    return false;
}

int zc_kreq_parse_header(const void *buf, size_t len, struct zc_kreq_header *h,
                         struct zc_kr *body)
{
    zc_kr_init(body, buf, len);
    h->api_key = zc_kr_i16(body);
    h->api_version = zc_kr_i16(body);
    h->correlation_id = zc_kr_i32(body);
    /* ClientId stays an int16-length string even in header v2. */
    h->client_id = zc_kr_nullable_string(body);
    h->flexible = !body->bad && zc_kreq_is_flexible(h->api_key, h->api_version);
    if (h->flexible)
        zc_kr_skip_tags(body);
    if (body->bad || h->api_key < 0 || h->api_version < 0)
        return -EBADMSG;
    return 0;
}
