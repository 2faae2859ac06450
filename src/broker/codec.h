/* codec.h - the Kafka wire primitives: bounded big-endian readers over a
 * request held in memory, a growable response writer, and the request header
 * (v1, and v2 for the ApiVersions v3 probe).
 *
 * A reader never reads past its end and never allocates: strings and byte
 * fields are views into the request buffer. The first short or invalid read
 * sets r->bad, and every later read then returns zero/empty, so a handler
 * parses a whole request and checks r->bad once at the end. Array counts are
 * checked against the bytes left before the caller allocates anything. */
#ifndef ZC_BROKER_CODEC_H
#define ZC_BROKER_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct zc_kr {
    const uint8_t *p, *end;
    bool bad;
};

/* A string or byte field: p points into the request; len -1 means null. */
struct zc_kstr {
    const char *p;
    int32_t len;
};

static inline void zc_kr_init(struct zc_kr *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
    r->bad = false;
}

static inline size_t zc_kr_left(const struct zc_kr *r)
{
    return (size_t)(r->end - r->p);
}

int8_t  zc_kr_i8(struct zc_kr *r);
int16_t zc_kr_i16(struct zc_kr *r);
int32_t zc_kr_i32(struct zc_kr *r);
int64_t zc_kr_i64(struct zc_kr *r);
bool    zc_kr_bool(struct zc_kr *r);        /* any non-zero byte is true */
/* Unsigned LEB128 of at most 5 bytes (a 32-bit value), as the flexible
 * versions' lengths and tag numbers use. */
uint32_t zc_kr_uvarint(struct zc_kr *r);

/* STRING (int16 length); NULLABLE_STRING allows length -1. */
struct zc_kstr zc_kr_string(struct zc_kr *r);
struct zc_kstr zc_kr_nullable_string(struct zc_kr *r);
/* COMPACT_STRING (uvarint length + 1; 0 is null, refused here). */
struct zc_kstr zc_kr_compact_string(struct zc_kr *r);
/* NULLABLE_BYTES (int32 length, -1 null). */
struct zc_kstr zc_kr_nullable_bytes(struct zc_kr *r);
/* Skip a flexible version's tagged-field section. */
void zc_kr_skip_tags(struct zc_kr *r);

/* zc_kr_array - an ARRAY's int32 count, checked so that @count elements of
 * at least @min_elem bytes each fit in what is left of the request (a count
 * the request cannot hold sets r->bad and returns 0). A null array (-1)
 * returns -1 when @nullable, else it is bad. */
int32_t zc_kr_array(struct zc_kr *r, size_t min_elem, bool nullable);
/* COMPACT_ARRAY: uvarint count + 1 (0 is null, refused). */
int32_t zc_kr_compact_array(struct zc_kr *r, size_t min_elem);

/* The response writer: one heap buffer growing as needed. A failed
 * allocation sets w->oom and later writes do nothing. */
struct zc_kw {
    uint8_t *buf;
    size_t len, cap;
    bool oom;
};

void zc_kw_free(struct zc_kw *w);
void zc_kw_i8(struct zc_kw *w, int8_t v);
void zc_kw_i16(struct zc_kw *w, int16_t v);
void zc_kw_i32(struct zc_kw *w, int32_t v);
void zc_kw_i64(struct zc_kw *w, int64_t v);
void zc_kw_uvarint(struct zc_kw *w, uint32_t v);
/* STRING / NULLABLE_STRING: s == NULL writes null (-1). @len is bounded to
 * INT16_MAX by the caller (names are at most 249 bytes). */
void zc_kw_string(struct zc_kw *w, const char *s, size_t len);
void zc_kw_cstring(struct zc_kw *w, const char *s);
void zc_kw_compact_string(struct zc_kw *w, const char *s);
void zc_kw_raw(struct zc_kw *w, const void *p, size_t len);
/* Reserve 4 bytes for a value known later (a size, a count); returns the
 * offset to hand to zc_kw_patch_i32. */
size_t zc_kw_reserve_i32(struct zc_kw *w);
void zc_kw_patch_i32(struct zc_kw *w, size_t at, int32_t v);

/* Big-endian loads for callers that look at raw bytes (frame sizes). */
static inline uint32_t zc_kbe32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The request header. Header v1 everywhere except a flexible request (here:
 * ApiVersions v3+, the only flexible version a client sends to a broker that
 * advertises none other), whose header v2 adds a tagged-field section. */
struct zc_kreq_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    struct zc_kstr client_id;   /* nullable */
    bool flexible;              /* the body uses compact types and tags */
};

/* zc_kreq_parse_header - parse the header at the start of one request (the
 * bytes after the 4-byte size prefix). On success @body is set to the rest.
 * Return: 0, or -EBADMSG when even the header is truncated or malformed (the
 * connection must close: there is no correlation id to answer). */
int zc_kreq_parse_header(const void *buf, size_t len, struct zc_kreq_header *h,
                         struct zc_kr *body);

/* zc_kreq_is_flexible - whether @version of @api_key uses flexible encoding
 * (request header v2), per the protocol's first flexible version. */
bool zc_kreq_is_flexible(int16_t api_key, int16_t version);

#endif /* ZC_BROKER_CODEC_H */
