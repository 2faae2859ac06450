/* test_http_cond.c - entity-tag comparison, ETag generation and If-Range;
 * field values end at a PROT_NONE guard page. */
#include <stdio.h>
#include <string.h>

#include "serve/http_cond.h"
#include "serve/http_parse.h"
#include "tap.h"
#include "testutil.h"

#define IN(lit) (lit), sizeof(lit) - 1

static const struct match_case {
    const char *name;
    const char *list;
    size_t list_len;
    const char *etag;                    /* ours, quotes included */
    int weak_want, strong_want;          /* If-None-Match, If-Match results */
} cases[] = {
    { "star", IN("*"), "\"a\"", 1, 1 },
    { "star with OWS", IN(" \t* "), "\"a\"", 1, 1 },
    { "star with a weak etag", IN("*"), "W/\"a\"", 1, 1 },
    { "same strong", IN("\"a\""), "\"a\"", 1, 1 },
    { "different", IN("\"b\""), "\"a\"", 0, 0 },
    { "weak theirs", IN("W/\"a\""), "\"a\"", 1, 0 },
    { "weak ours", IN("\"a\""), "W/\"a\"", 1, 0 },
    { "both weak", IN("W/\"a\""), "W/\"a\"", 1, 0 },
    { "list, match last", IN("\"x\", \"y\",\"a\""), "\"a\"", 1, 1 },
    { "list, OWS and empties", IN(" , \"x\" ,\t, W/\"a\" , "), "\"a\"", 1, 0 },
    { "list, no match", IN("\"x\", W/\"y\""), "\"a\"", 0, 0 },
    { "prefix is not a match", IN("\"ab\""), "\"a\"", 0, 0 },
    { "case matters", IN("\"A\""), "\"a\"", 0, 0 },
    { "empty opaque", IN("\"\""), "\"\"", 1, 1 },
    { "empty list", IN(""), "\"a\"", 0, 0 },
    { "unquoted", IN("a"), "\"a\"", 0, 0 },
    { "unterminated", IN("\"a"), "\"a\"", 0, 0 },
    { "lower-case w/", IN("w/\"a\""), "\"a\"", 0, 0 },
    { "star inside a list", IN("\"x\", *"), "\"a\"", 0, 0 },
    { "junk after tag", IN("\"a\"x"), "\"a\"", 1, 1 },  /* matched before the junk */
    { "junk before match", IN("\"x\"y, \"a\""), "\"a\"", 0, 0 },
    { "space inside tag", IN("\"a b\""), "\"a b\"", 0, 0 },
    { "DEL inside tag", IN("\"a\x7f\""), "\"a\x7f\"", 0, 0 },
    { "obs-text inside tag", IN("\"\xc3\xa9\""), "\"\xc3\xa9\"", 1, 1 },
    { "NUL inside list", IN("\"x\"\0, \"a\""), "\"a\"", 0, 0 },
    { "malformed own tag", IN("\"a\""), "a", 0, 0 },
};

static void test_match_table(void)
{
    char *guard = t_guard_page();

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        const struct match_case *tc = &cases[i];
        char *buf = guard - tc->list_len;
        size_t el = strlen(tc->etag);

        memcpy(buf, tc->list, tc->list_len);
        t_is_int(zc_etag_match_list(buf, tc->list_len, tc->etag, el, true),
                 tc->weak_want, "%s: weak (If-None-Match)", tc->name);
        t_is_int(zc_etag_match_list(buf, tc->list_len, tc->etag, el, false),
                 tc->strong_want, "%s: strong (If-Match)", tc->name);
    }
}

static void test_etag_make(void)
{
    char a[ZC_ETAG_MAX], b[ZC_ETAG_MAX];

    zc_etag_make(a, 0x1a2b, 1024, 0x6553f1c0, 500000000);
    t_is_str(a, "\"1a2b-400-6553f1c0.1dcd6500\"", "format");
    zc_etag_make(a, 0, 0, 0, 0);
    t_is_str(a, "\"0-0-0.0\"", "zeros");
    zc_etag_make(a, UINT64_MAX, UINT64_MAX, -1, 999999999);
    t_is_str(a, "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff.3b9ac9ff\"",
             "largest values");
    t_ok(strlen(a) <= 62, "largest fits in 64 bytes");
    zc_etag_make(a, 5, 100, 1700000000, 1);
    zc_etag_make(b, 5, 100, 1700000000, 2);
    t_ok(strcmp(a, b) != 0, "a nanosecond of mtime changes the tag");
    zc_etag_make(b, 6, 100, 1700000000, 1);
    t_ok(strcmp(a, b) != 0, "a new inode changes the tag");
    zc_etag_make(b, 5, 101, 1700000000, 1);
    t_ok(strcmp(a, b) != 0, "a new size changes the tag");
    t_ok(zc_etag_match_list(a, strlen(a), a, strlen(a), false),
         "a made tag matches itself strongly");
}

static void test_if_range(void)
{
    static const char etag[] = "\"1-2-3.4\"";
    const time_t lm = 784111777;         /* Sun, 06 Nov 1994 08:49:37 GMT */
    static const struct {
        const char *name, *v;
        int want;
    } ir[] = {
        { "same etag", "\"1-2-3.4\"", 1 },
        { "other etag", "\"1-2-3.5\"", 0 },
        { "weak etag", "W/\"1-2-3.4\"", 0 },
        { "list is not allowed", "\"1-2-3.4\", \"x\"", 0 },
        { "star is not allowed", "*", 0 },
        { "same date", "Sun, 06 Nov 1994 08:49:37 GMT", 1 },
        { "same date, asctime", "Sun Nov  6 08:49:37 1994", 1 },
        { "later date", "Sun, 06 Nov 1994 08:49:38 GMT", 0 },
        { "earlier date", "Sun, 06 Nov 1994 08:49:36 GMT", 0 },
        { "date starting with W", "Wed, 09 Nov 1994 08:49:37 GMT", 0 },
        { "garbage", "yesterday", 0 },
        { "empty", "", 0 },
    };
    char *guard = t_guard_page();

    for (size_t i = 0; i < T_ARRAY_SIZE(ir); i++) {
        size_t n = strlen(ir[i].v);

        memcpy(guard - n, ir[i].v, n);
        t_is_int(zc_if_range_match(guard - n, n, etag, sizeof(etag) - 1, lm),
                 ir[i].want, "If-Range %s", ir[i].name);
    }
    t_is_int(zc_if_range_match("Wed, 09 Nov 1994 08:49:37 GMT", 29, etag,
                               sizeof(etag) - 1, lm + 3 * 86400),
             1, "If-Range date starting with W matches");
    t_is_int(zc_if_range_match("W/\"1-2-3.4\"", 11, "W/\"1-2-3.4\"", 11, lm), 0,
             "If-Range never matches a weak current tag");
}

/* The evaluation order of RFC 9110 13.2.2 for a read (GET) and a write
 * (PUT), against a file with etag "e1" modified at 1994-11-06 08:49:37. */
static const struct pre_case {
    const char *name;
    const char *headers;
    bool exists, read;
    int want;
} pre_cases[] = {
    { "no conditions", "", true, true, 0 },
    { "If-Match same", "If-Match: \"e1\"\r\n", true, true, 0 },
    { "If-Match other", "If-Match: \"e2\"\r\n", true, true, 412 },
    { "If-Match * on nothing (PUT)", "If-Match: *\r\n", false, false, 412 },
    { "If-Match * on a file", "If-Match: *\r\n", true, false, 0 },
    { "If-Match weak never matches", "If-Match: W/\"e1\"\r\n", true, true, 412 },
    { "If-Unmodified-Since earlier", "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n",
      true, true, 412 },
    { "If-Unmodified-Since equal", "If-Unmodified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
      true, true, 0 },
    { "If-Match wins over If-Unmodified-Since",
      "If-Match: \"e1\"\r\nIf-Unmodified-Since: Sun, 06 Nov 1994 08:49:36 GMT\r\n", true, true, 0 },
    { "If-None-Match same (GET)", "If-None-Match: W/\"e1\"\r\n", true, true, 304 },
    { "If-None-Match same (PUT)", "If-None-Match: \"e1\"\r\n", true, false, 412 },
    { "If-None-Match * creates only (PUT)", "If-None-Match: *\r\n", false, false, 0 },
    { "If-None-Match * on a file (PUT)", "If-None-Match: *\r\n", true, false, 412 },
    { "If-None-Match other", "If-None-Match: \"e2\"\r\n", true, true, 0 },
    { "If-Modified-Since equal (GET)", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
      true, true, 304 },
    { "If-Modified-Since ignored for PUT",
      "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n", true, false, 0 },
    { "If-Modified-Since in our future", "If-Modified-Since: Sun, 06 Nov 2094 08:49:37 GMT\r\n",
      true, true, 0 },
    { "If-None-Match wins over If-Modified-Since",
      "If-None-Match: \"e2\"\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n",
      true, true, 0 },
    { "bad date ignored", "If-Unmodified-Since: yesterday\r\n", true, true, 0 },
};

static void test_preconditions(void)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(pre_cases); i++) {
        const struct pre_case *tc = &pre_cases[i];
        struct zc_cond_target t = { .exists = tc->exists, .etag = "\"e1\"", .etag_len = 4,
                                    .mtime = 784111777 };
        char buf[512];
        struct zc_http_req req;
        int n = snprintf(buf, sizeof(buf), "%s / HTTP/1.1\r\nHost: x\r\n%s\r\n",
                         tc->read ? "GET" : "PUT", tc->headers);

        if (!t_ok(zc_http_parse_request(buf, (size_t)n, NULL, &req) > 0, "%s: parses", tc->name))
            continue;
        t_is_int(zc_http_preconditions(&req, &t, tc->read, 1700000000), tc->want, "%s", tc->name);
    }
}

int main(void)
{
    test_match_table();
    test_etag_make();
    test_if_range();
    test_preconditions();
    return t_done();
}
