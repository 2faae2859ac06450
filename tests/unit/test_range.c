/* test_range.c - Range parsing and Content-Range formatting; inputs end at
 * a PROT_NONE guard page. */
#include <string.h>

#include "serve/range.h"
#include "tap.h"
#include "testutil.h"

#define IN(lit) (lit), sizeof(lit) - 1

static const struct range_case {
    const char *name;
    const char *in;
    size_t in_len;
    uint64_t size;
    int want;                            /* count, 0 (ignore) or -416 */
    struct zc_range r[4];                /* the first min(want, 4) ranges */
} cases[] = {
    { "single", IN("bytes=0-499"), 1000, 1, { { 0, 499 } } },
    { "single, unit upper case", IN("BYTES=0-0"), 1000, 1, { { 0, 0 } } },
    { "open-ended", IN("bytes=500-"), 1000, 1, { { 500, 999 } } },
    { "suffix", IN("bytes=-200"), 1000, 1, { { 800, 999 } } },
    { "suffix longer than body", IN("bytes=-5000"), 1000, 1, { { 0, 999 } } },
    { "suffix of whole body", IN("bytes=-1000"), 1000, 1, { { 0, 999 } } },
    { "last clipped", IN("bytes=900-2000"), 1000, 1, { { 900, 999 } } },
    { "last at end", IN("bytes=999-999"), 1000, 1, { { 999, 999 } } },
    { "huge last clipped", IN("bytes=0-99999999999999999999999"), 10, 1, { { 0, 9 } } },
    { "whole body", IN("bytes=0-"), 1, 1, { { 0, 0 } } },
    { "two parts", IN("bytes=0-9,20-29"), 100, 2, { { 0, 9 }, { 20, 29 } } },
    { "OWS around commas", IN("bytes=0-9 ,\t20-29 , -5"), 100, 3, { { 0, 9 }, { 20, 29 }, { 95, 99 } } },
    { "request order kept", IN("bytes=50-59,0-9"), 100, 2, { { 50, 59 }, { 0, 9 } } },
    { "empty elements", IN("bytes=,0-1,,2-3,"), 100, 2, { { 0, 1 }, { 2, 3 } } },
    { "unsatisfiable part dropped", IN("bytes=0-9,500-600"), 100, 1, { { 0, 9 } } },
    { "suffix zero part dropped", IN("bytes=-0,0-0"), 100, 1, { { 0, 0 } } },
    /* unsatisfiable */
    { "first at size", IN("bytes=1000-"), 1000, -416, { { 0, 0 } } },
    { "first beyond size", IN("bytes=5000-6000"), 1000, -416, { { 0, 0 } } },
    { "suffix zero", IN("bytes=-0"), 1000, -416, { { 0, 0 } } },
    { "empty body", IN("bytes=0-"), 0, -416, { { 0, 0 } } },
    /* RFC 9110 14.1.1: a non-zero suffix is satisfiable on an empty body,
     * but there are no bytes to name: ignored, the (empty) body is sent. */
    { "empty body suffix", IN("bytes=-10"), 0, 0, { { 0, 0 } } },
    { "empty body first and suffix", IN("bytes=0-,-1"), 0, 0, { { 0, 0 } } },
    { "empty body suffix zero", IN("bytes=-0"), 0, -416, { { 0, 0 } } },
    { "all parts unsatisfiable", IN("bytes=100-,200-300"), 100, -416, { { 0, 0 } } },
    { "huge first", IN("bytes=99999999999999999999999-"), 10, -416, { { 0, 0 } } },
    /* ignored: whole body with 200 */
    { "other unit", IN("items=0-1"), 100, 0, { { 0, 0 } } },
    { "unit prefix", IN("byte=0-1"), 100, 0, { { 0, 0 } } },
    { "no equals", IN("bytes 0-1"), 100, 0, { { 0, 0 } } },
    { "unit only", IN("bytes="), 100, 0, { { 0, 0 } } },
    { "commas only", IN("bytes=, ,"), 100, 0, { { 0, 0 } } },
    { "empty", IN(""), 100, 0, { { 0, 0 } } },
    { "last before first", IN("bytes=10-5"), 100, 0, { { 0, 0 } } },
    { "just a dash", IN("bytes=-"), 100, 0, { { 0, 0 } } },
    { "no dash", IN("bytes=5"), 100, 0, { { 0, 0 } } },
    { "spaces inside spec", IN("bytes=0 - 1"), 100, 0, { { 0, 0 } } },
    { "negative suffix twice", IN("bytes=--1"), 100, 0, { { 0, 0 } } },
    { "junk after spec", IN("bytes=0-1x"), 100, 0, { { 0, 0 } } },
    { "junk after spec and space", IN("bytes=0-1 x"), 100, 0, { { 0, 0 } } },
    { "hex", IN("bytes=0x1-2"), 100, 0, { { 0, 0 } } },
    { "plus sign", IN("bytes=+1-2"), 100, 0, { { 0, 0 } } },
    { "semicolon separator", IN("bytes=0-1;2-3"), 100, 0, { { 0, 0 } } },
    { "NUL inside", IN("bytes=0-1\0,2-3"), 100, 0, { { 0, 0 } } },
    { "invalid spec after valid", IN("bytes=0-1,5-2"), 100, 0, { { 0, 0 } } },
    { "invalid spec after unsatisfiable", IN("bytes=500-,x"), 100, 0, { { 0, 0 } } },
    { "overlap adds up beyond size", IN("bytes=0-60,40-99"), 100, 0, { { 0, 0 } } },
    { "whole body twice", IN("bytes=0-,0-"), 100, 0, { { 0, 0 } } },
    { "suffix plus all", IN("bytes=-1,0-"), 100, 0, { { 0, 0 } } },
    { "adds up to exactly size", IN("bytes=0-49,50-99"), 100, 2, { { 0, 49 }, { 50, 99 } } },
    { "17 parts", IN("bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12,13-13,14-14,15-15,16-16"), 100, 0, { { 0, 0 } } },
    { "16 parts", IN("bytes=0-0,1-1,2-2,3-3,4-4,5-5,6-6,7-7,8-8,9-9,10-10,11-11,12-12,13-13,14-14,-1"), 100, 16, { { 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 } } },
    { "17 parts, all unsatisfiable", IN("bytes=200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-,200-"), 100, 0, { { 0, 0 } } },
};

static void test_table(void)
{
    char *guard = t_guard_page();

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        const struct range_case *tc = &cases[i];
        char *buf = guard - tc->in_len;
        struct zc_range out[ZC_RANGE_MAX_PARTS];
        int ret;

        memcpy(buf, tc->in, tc->in_len);
        memset(out, 0xa5, sizeof(out));
        ret = zc_range_parse(buf, tc->in_len, tc->size, out, ZC_RANGE_MAX_PARTS);
        t_is_int(ret, tc->want, "%s: return value", tc->name);
        for (int k = 0; k < ret && k < 4; k++) {
            t_is_int(out[k].first, tc->r[k].first, "%s: part %d first", tc->name, k);
            t_is_int(out[k].last, tc->r[k].last, "%s: part %d last", tc->name, k);
        }
    }
}

static void test_max_parts_argument(void)
{
    static const char v[] = "bytes=0-0,2-2,4-4";
    struct zc_range out[3];

    t_is_int(zc_range_parse(v, sizeof(v) - 1, 10, out, 3), 3, "3 parts, max 3");
    t_is_int(zc_range_parse(v, sizeof(v) - 1, 10, out, 2), 0, "3 parts, max 2: ignored");
    t_is_int(zc_range_parse(v, sizeof(v) - 1, 10, out, 0), 0, "max 0: ignored");
}

static void test_content_range(void)
{
    struct zc_range r = { 0, 499 };
    struct zc_range big = { UINT64_MAX - 1, UINT64_MAX - 1 };
    char buf[80];
    size_t n;

    n = zc_range_content_range(buf, sizeof(buf), &r, 1000);
    t_is_str(buf, "bytes 0-499/1000", "single range");
    t_is_int(n, 16, "single range length");
    n = zc_range_content_range(buf, sizeof(buf), NULL, 1000);
    t_is_str(buf, "bytes */1000", "unsatisfied form");
    t_is_int(n, 12, "unsatisfied length");
    n = zc_range_content_range(buf, sizeof(buf), &big, UINT64_MAX);
    t_is_str(buf, "bytes 18446744073709551614-18446744073709551614/18446744073709551615",
             "largest values");
    t_is_int(n, 68, "largest values length");
    n = zc_range_content_range(buf, 8, &r, 1000);
    t_is_str(buf, "bytes 0", "truncated, NUL-terminated");
    t_is_int(n, 16, "truncated still returns the full length");
    n = zc_range_content_range(NULL, 0, &r, 1000);
    t_is_int(n, 16, "cap 0 measures only");
    n = zc_range_content_range(buf, 17, &r, 1000);
    t_is_str(buf, "bytes 0-499/1000", "exact fit");
}

int main(void)
{
    test_table();
    test_max_parts_argument();
    test_content_range();
    return t_done();
}
