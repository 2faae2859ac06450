/* test_kafka_codec.c - the Kafka wire primitives, the request header (v1 and
 * the v2 of the ApiVersions v3 probe) and the request-body check. Inputs end
 * at a PROT_NONE guard page, so any over-read crashes. */
#include <errno.h>
#include <string.h>

#include "broker/codec.h"
#include "broker/request.h"
#include "tap.h"
#include "testutil.h"

#define IN(lit) (lit), sizeof(lit) - 1

static char *guard;

/* A reader over a copy of @in that ends right at the guard page. */
static struct zc_kr at_guard(const char *in, size_t len)
{
    struct zc_kr r;

    memcpy(guard - len, in, len);
    zc_kr_init(&r, guard - len, len);
    return r;
}

static void test_integers(void)
{
    struct zc_kr r = at_guard(IN("\x80\x7f\xfe\xff\xff\xff\xff\x80\0\0\0\0\0\0\x01\x01"));

    t_is_int(zc_kr_i8(&r), -128, "i8");
    t_is_int(zc_kr_i16(&r), 0x7ffe, "i16");
    t_is_int(zc_kr_i32(&r), -1, "i32 -1");
    t_is_int(zc_kr_i64(&r), INT64_MIN + 1, "i64 with the top bit set");
    t_ok(!r.bad && zc_kr_left(&r) == 1, "one byte left, not bad");
    t_is_int(zc_kr_i16(&r), 0, "i16 with one byte left reads 0");
    t_ok(r.bad, "short read sets bad");
    t_is_int(zc_kr_i8(&r), 0, "reads after bad return 0");
}

static const struct varint_case {
    const char *name, *in;
    size_t len;
    uint32_t want;
    bool bad;
} varint_cases[] = {
    { "zero", IN("\x00"), 0, false },
    { "one byte max", IN("\x7f"), 127, false },
    { "two bytes", IN("\x80\x01"), 128, false },
    { "max u32", IN("\xff\xff\xff\xff\x0f"), 0xffffffffu, false },
    { "fifth byte too big", IN("\xff\xff\xff\xff\x1f"), 0, true },
    { "six bytes", IN("\x80\x80\x80\x80\x80\x01"), 0, true },
    { "truncated", IN("\x80"), 0, true },
    { "empty", IN(""), 0, true },
};

static void test_varints(void)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(varint_cases); i++) {
        const struct varint_case *c = &varint_cases[i];
        struct zc_kr r = at_guard(c->in, c->len);
        uint32_t v = zc_kr_uvarint(&r);

        t_ok(r.bad == c->bad && (c->bad || v == c->want), "uvarint %s", c->name);
    }
}

static void test_strings(void)
{
    struct zc_kr r = at_guard(IN("\0\x03" "abc\xff\xff\0\x05" "ab"));
    struct zc_kstr s;

    s = zc_kr_string(&r);
    t_ok(s.len == 3 && !memcmp(s.p, "abc", 3), "string");
    s = zc_kr_nullable_string(&r);
    t_ok(!r.bad && s.len == -1 && !s.p, "nullable string -1 is null");
    s = zc_kr_string(&r);
    t_ok(r.bad && s.len == -1, "string longer than the request is bad");

    r = at_guard(IN("\xff\xff"));
    (void)zc_kr_string(&r);
    t_ok(r.bad, "a non-nullable string refuses -1");

    r = at_guard(IN("\xff\xfe"));
    (void)zc_kr_nullable_string(&r);
    t_ok(r.bad, "nullable string -2 is bad");

    r = at_guard(IN("\x04xyz\x00"));
    s = zc_kr_compact_string(&r);
    t_ok(s.len == 3 && !memcmp(s.p, "xyz", 3), "compact string (length + 1)");
    (void)zc_kr_compact_string(&r);
    t_ok(r.bad, "compact null string refused");

    r = at_guard(IN("\x7f\xff\xff\xff"));
    (void)zc_kr_nullable_bytes(&r);
    t_ok(r.bad, "a 2 GiB bytes length is bad, nothing allocated");
    r = at_guard(IN("\xff\xff\xff\xff"));
    s = zc_kr_nullable_bytes(&r);
    t_ok(!r.bad && s.len == -1, "null bytes");
}

static void test_arrays(void)
{
    struct zc_kr r = at_guard(IN("\0\0\0\x02\0\0\0\0\0\0\0\0"));

    t_is_int(zc_kr_array(&r, 4, false), 2, "2 elements of 4 bytes fit in 8");
    r = at_guard(IN("\0\0\0\x03\0\0\0\0\0\0\0\0"));
    t_is_int(zc_kr_array(&r, 4, false), 0, "3 elements of 4 bytes do not fit in 8");
    t_ok(r.bad, "...and the reader is bad");
    r = at_guard(IN("\x7f\xff\xff\xff"));
    (void)zc_kr_array(&r, 1, false);
    t_ok(r.bad, "a 2^31-1 count in a 4-byte request is bad");
    r = at_guard(IN("\xff\xff\xff\xff"));
    t_is_int(zc_kr_array(&r, 1, true), -1, "nullable array -1");
    r = at_guard(IN("\xff\xff\xff\xff"));
    (void)zc_kr_array(&r, 1, false);
    t_ok(r.bad, "non-nullable array refuses -1");
    r = at_guard(IN("\x80\x80\x80\x80\x01"));
    (void)zc_kr_compact_array(&r, 1);
    t_ok(r.bad, "compact array count beyond the request is bad");
}

static void test_writer(void)
{
    struct zc_kw w = { 0 };
    size_t at;

    zc_kw_i8(&w, -1);
    zc_kw_i16(&w, 0x1234);
    at = zc_kw_reserve_i32(&w);
    zc_kw_i64(&w, -2);
    zc_kw_cstring(&w, "ab");
    zc_kw_string(&w, NULL, 0);
    zc_kw_uvarint(&w, 300);
    zc_kw_compact_string(&w, "q");
    zc_kw_patch_i32(&w, at, 0x01020304);
    t_ok(!w.oom && w.len == 1 + 2 + 4 + 8 + 4 + 2 + 2 + 2, "writer length");
    t_ok(!memcmp(w.buf, "\xff\x12\x34\x01\x02\x03\x04\xff\xff\xff\xff\xff\xff\xff\xfe"
                        "\0\x02" "ab" "\xff\xff" "\xac\x02" "\x02q", w.len),
         "writer bytes (big-endian, patched size, null string, varint 300)");
    for (int i = 0; i < 10000; i++)
        zc_kw_i32(&w, i);
    t_ok(!w.oom && w.len == 25 + 40000 && zc_kbe32(w.buf + w.len - 4) == 9999,
         "writer grows");
    zc_kw_free(&w);
}

static void test_header(void)
{
    struct zc_kreq_header h;
    struct zc_kr body;
    /* librdkafka 2.0.2's first request, captured (KAFKA.md 1.4). */
    static const char probe[] = "\0\x12\0\x03\0\0\0\x01\0\x07rdkafka\0"
                                "\x0blibrdkafka\x06" "2.0.2\0";
    struct zc_kr r = at_guard(probe, sizeof(probe) - 1);

    t_is_int(zc_kreq_parse_header(r.p, zc_kr_left(&r), &h, &body), 0, "v3 probe header");
    t_ok(h.api_key == 18 && h.api_version == 3 && h.correlation_id == 1 && h.flexible,
         "probe: key 18 v3 corr 1, flexible");
    t_ok(h.client_id.len == 7 && !memcmp(h.client_id.p, "rdkafka", 7), "probe client id");
    t_is_int(zc_kr_left(&body), 18, "probe body starts after the tag byte");
    t_ok(zc_kreq_check_body(&body, 18, 3), "probe body is a valid ApiVersions v3");

    r = at_guard(IN("\0\x03\0\x04\0\0\0\x09\xff\xff\xff\xff\xff\xff\x01"));
    t_is_int(zc_kreq_parse_header(r.p, zc_kr_left(&r), &h, &body), 0, "v1 header, null client");
    t_ok(!h.flexible && h.client_id.len == -1 && h.correlation_id == 9, "null client id, not flexible");
    t_ok(zc_kreq_check_body(&body, 3, 4), "Metadata v4 with null topics");
    t_ok(!zc_kreq_check_body(&body, 3, 9), "Metadata v9 is not advertised");
    t_ok(!zc_kreq_check_body(&body, 99, 0), "unknown key refused");

    r = at_guard(IN("\0\x03\0\x04\0\0\0"));
    t_is_int(zc_kreq_parse_header(r.p, zc_kr_left(&r), &h, &body), -EBADMSG, "truncated header");
    r = at_guard(IN("GET / HTTP/1.1\r\n"));
    t_is_int(zc_kreq_parse_header(r.p, zc_kr_left(&r), &h, &body), -EBADMSG,
             "HTTP request line is not a header");
    r = at_guard(IN("\0\x12\0\x03\0\0\0\x01\0\0"));
    t_is_int(zc_kreq_parse_header(r.p, zc_kr_left(&r), &h, &body), -EBADMSG,
             "flexible header without its tag byte");
    r = at_guard(IN("\xff\xff\0\0\0\0\0\0\0\0"));
    t_is_int(zc_kreq_parse_header(r.p, zc_kr_left(&r), &h, &body), -EBADMSG, "negative key");
}

static const struct body_case {
    const char *name;
    int16_t key, version;
    const char *in;
    size_t len;
    bool ok;
} body_cases[] = {
    { "produce v7 one record set", 0, 7,
      IN("\xff\xff\xff\xff\0\0\x75\x30\0\0\0\x01\0\x01t\0\0\0\x01\0\0\0\0\0\0\0\x02xy"), true },
    { "produce v7 records cut", 0, 7,
      IN("\xff\xff\xff\xff\0\0\x75\x30\0\0\0\x01\0\x01t\0\0\0\x01\0\0\0\0\0\0\0\x03xy"), false },
    { "produce v7 partition count lies", 0, 7,
      IN("\xff\xff\xff\xff\0\0\x75\x30\0\0\0\x01\0\x01t\x7f\xff\xff\xff"), false },
    { "produce v2 (no transactional id)", 0, 2,
      IN("\xff\xff\0\0\x75\x30\0\0\0\x01\0\x01t\0\0\0\x01\0\0\0\0\0\0\0\x02xy"), true },
    { "produce v8 not advertised", 0, 8, IN(""), false },
    { "fetch v11 empty", 1, 11, IN("\xff\xff\xff\xff\0\0\x01\xf4\0\0\0\x01\x03\x20\0\0\0"
                                   "\0\0\0\0\xff\xff\xff\xff\0\0\0\0\0\0\0\0\0\0"), true },
    { "fetch v11 without rack id", 1, 11, IN("\xff\xff\xff\xff\0\0\x01\xf4\0\0\0\x01\x03\x20\0\0\0"
                                   "\0\0\0\0\xff\xff\xff\xff\0\0\0\0\0\0\0\0"), false },
    { "list offsets v1", 2, 1, IN("\xff\xff\xff\xff\0\0\0\x01\0\x01t\0\0\0\x01\0\0\0\0"
                                  "\xff\xff\xff\xff\xff\xff\xff\xfe"), true },
    { "metadata v0 null topics refused", 3, 0, IN("\xff\xff\xff\xff"), false },
    { "metadata v1 null topics", 3, 1, IN("\xff\xff\xff\xff"), true },
    { "api versions v0 empty", 18, 0, IN(""), true },
    { "create topics v0", 19, 0, IN("\0\0\0\x01\0\x01t\0\0\0\x04\0\x01\0\0\0\0\0\0\0\0\0\0\x75\x30"), true },
    { "create topics v1 missing validate", 19, 1, IN("\0\0\0\x01\0\x01t\0\0\0\x04\0\x01\0\0\0\0\0\0\0\0\0\0\x75\x30"), false },
    { "delete topics v3", 20, 3, IN("\0\0\0\x02\0\x01t\0\x01u\0\0\x75\x30"), true },
    { "delete topics v4 (flexible)", 20, 4, IN("\0\0\0\0\0\0\0\0"), false },
};

static void test_bodies(void)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(body_cases); i++) {
        const struct body_case *c = &body_cases[i];
        struct zc_kr r = at_guard(c->in, c->len);

        t_is_int(zc_kreq_check_body(&r, c->key, c->version), c->ok, "body: %s", c->name);
    }
}

static void test_versions(void)
{
    const struct zc_kapi_range *ranges, *fetch, *produce;
    unsigned n;

    ranges = zc_kapi_supported(&n);
    fetch = zc_kapi_find(ZC_KAPI_FETCH);
    produce = zc_kapi_find(ZC_KAPI_PRODUCE);
    t_ok(n == 16 && ranges[0].key == 0, "sixteen APIs advertised");
    t_ok(produce->min <= 3 && produce->max >= 7 && fetch->min <= 4 && fetch->max >= 10,
         "ranges enable MsgVer2 and ZSTD in librdkafka");
    t_ok(produce->min == 0, "Produce from v0: librdkafka 2.0.2 compresses gzip/snappy only then");
    t_ok(zc_kapi_find(10) && zc_kapi_find(10)->min == 0 && zc_kapi_find(11)->min == 0,
         "FindCoordinator and JoinGroup from v0 (librdkafka's group and LZ4 features)");
    for (unsigned i = 0; i < n; i++)
        t_ok(!zc_kreq_is_flexible(ranges[i].key, ranges[i].max) ||
             ranges[i].key == ZC_KAPI_API_VERSIONS,
             "api %d max version %d is not flexible", ranges[i].key, ranges[i].max);
}

int main(void)
{
    guard = t_guard_page();
    test_integers();
    test_varints();
    test_strings();
    test_arrays();
    test_writer();
    test_header();
    test_bodies();
    test_versions();
    return t_done();
}
