/* request.c - advertised versions and the request-body check (request.h).
 *
 * Each version's body is described by a layout string, one character a field:
 *   b int8/bool   h int16   i int32   q int64
 *   s STRING      n NULLABLE_STRING   B NULLABLE_BYTES
 *   [ ... ] ARRAY of the enclosed fields      ( ... ) nullable ARRAY
 *   S COMPACT_STRING   T tagged fields (flexible versions)
 * Field lists follow Kafka's message definitions (KAFKA.md 1.5). */
#include <stddef.h>
#include <string.h>

#include "broker/request.h"

static const struct zc_kapi_range supported[] = {
    { ZC_KAPI_PRODUCE, 0, 7 },
    { ZC_KAPI_FETCH, 4, 11 },
    { ZC_KAPI_LIST_OFFSETS, 1, 3 },
    { ZC_KAPI_METADATA, 0, 4 },
    /* Consumer groups (broker/groups.h). FindCoordinator and JoinGroup
     * from v0: librdkafka 2.0.2 keys its group and LZ4 features on them. */
    { ZC_KAPI_OFFSET_COMMIT, 2, 7 },
    { ZC_KAPI_OFFSET_FETCH, 1, 5 },
    { ZC_KAPI_FIND_COORDINATOR, 0, 2 },
    { ZC_KAPI_JOIN_GROUP, 0, 5 },
    { ZC_KAPI_HEARTBEAT, 0, 3 },
    { ZC_KAPI_LEAVE_GROUP, 0, 3 },
    { ZC_KAPI_SYNC_GROUP, 0, 3 },
    { ZC_KAPI_DESCRIBE_GROUPS, 0, 4 },
    { ZC_KAPI_LIST_GROUPS, 0, 2 },
    { ZC_KAPI_API_VERSIONS, 0, 3 },
    { ZC_KAPI_CREATE_TOPICS, 0, 4 },
    { ZC_KAPI_DELETE_TOPICS, 0, 3 },
};

const struct zc_kapi_range *zc_kapi_supported(unsigned *n)
{
    *n = sizeof(supported) / sizeof(supported[0]);
    return supported;
}

const struct zc_kapi_range *zc_kapi_find(int16_t key)
{
    for (size_t i = 0; i < sizeof(supported) / sizeof(supported[0]); i++)
        if (supported[i].key == key)
            return &supported[i];
    return NULL;
}

static const char *layout(int16_t key, int16_t v)
{
    switch (key) {
    case ZC_KAPI_PRODUCE:
        return v < 3 ? "hi[s[iB]]" : "nhi[s[iB]]";
    case ZC_KAPI_FETCH:
        if (v <= 4)
            return "iiiib[s[iqi]]";
        if (v <= 6)
            return "iiiib[s[iqqi]]";
        if (v <= 8)
            return "iiiibii[s[iqqi]][s[i]]";
        if (v <= 10)
            return "iiiibii[s[iiqqi]][s[i]]";
        return "iiiibii[s[iiqqi]][s[i]]s";
    case ZC_KAPI_LIST_OFFSETS:
        return v == 1 ? "i[s[iq]]" : "ib[s[iq]]";
    case ZC_KAPI_METADATA:
        if (v == 0)
            return "[s]";
        return v < 4 ? "(s)" : "(s)b";
    case ZC_KAPI_API_VERSIONS:
        return v < 3 ? "" : "SST";
    case ZC_KAPI_CREATE_TOPICS:
        return v == 0 ? "[sih[i[i]][sn]]i" : "[sih[i[i]][sn]]ib";
    case ZC_KAPI_DELETE_TOPICS:
        return "[s]i";
    case ZC_KAPI_OFFSET_COMMIT:
        if (v <= 4)
            return "sisq[s[iqn]]";
        if (v == 5)
            return "sis[s[iqn]]";
        return v == 6 ? "sis[s[iqin]]" : "sisn[s[iqin]]";
    case ZC_KAPI_OFFSET_FETCH:
        return v == 1 ? "s[s[i]]" : "s(s[i])";
    case ZC_KAPI_FIND_COORDINATOR:
        return v == 0 ? "s" : "sb";
    case ZC_KAPI_JOIN_GROUP:
        if (v == 0)
            return "siss[sB]";
        return v < 5 ? "siiss[sB]" : "siisns[sB]";
    case ZC_KAPI_HEARTBEAT:
        return v < 3 ? "sis" : "sisn";
    case ZC_KAPI_LEAVE_GROUP:
        return v < 3 ? "ss" : "s[sn]";
    case ZC_KAPI_SYNC_GROUP:
        return v < 3 ? "sis[sB]" : "sisn[sB]";
    case ZC_KAPI_DESCRIBE_GROUPS:
        return v < 3 ? "[s]" : "[s]b";
    case ZC_KAPI_LIST_GROUPS:
        return "";
    }
    return NULL;
}

/* The end of the group opened at @s (which points just past '[' or '('). */
static const char *group_end(const char *s)
{
    int depth = 1;

    for (; *s; s++) {
        if (*s == '[' || *s == '(')
            depth++;
        else if ((*s == ']' || *s == ')') && --depth == 0)
            return s;
    }
    return s;
}

/* Fewest bytes the fields in [s, end) can take: bounds array counts. */
static size_t min_size(const char *s, const char *end)
{
    size_t n = 0;

    while (s < end) {
        switch (*s) {
        case 'b': case 'S': case 'T': n += 1; break;
        case 'h': case 's': case 'n': n += 2; break;
        case 'i': case 'B': n += 4; break;
        case 'q': n += 8; break;
        case '[': case '(':
            n += 4;
            s = group_end(s + 1);
            break;
        }
        s++;
    }
    return n;
}

static void walk(struct zc_kr *r, const char *s, const char *end)
{
    while (s < end && !r->bad) {
        switch (*s) {
        case 'b': (void)zc_kr_i8(r); break;
        case 'h': (void)zc_kr_i16(r); break;
        case 'i': (void)zc_kr_i32(r); break;
        case 'q': (void)zc_kr_i64(r); break;
        case 's': (void)zc_kr_string(r); break;
        case 'n': (void)zc_kr_nullable_string(r); break;
        case 'B': (void)zc_kr_nullable_bytes(r); break;
        case 'S': (void)zc_kr_compact_string(r); break;
        case 'T': zc_kr_skip_tags(r); break;
        case '[': case '(': {
            const char *close = group_end(s + 1);
            int32_t count = zc_kr_array(r, min_size(s + 1, close), *s == '(');

            /* Each element takes at least one byte, so the count is
             * bounded by the request size and this loop by its length. */
            for (int32_t i = 0; i < count && !r->bad; i++)
                walk(r, s + 1, close);
            s = close;
            break;
        }
        }
        s++;
    }
}

bool zc_kreq_check_body(const struct zc_kr *r, int16_t key, int16_t version)
{
    const struct zc_kapi_range *range = zc_kapi_find(key);
    struct zc_kr copy = *r;
    const char *s;

    if (!range || version < range->min || version > range->max)
        return false;
    s = layout(key, version);
    walk(&copy, s, s + strlen(s));
    return !copy.bad;
}
