/* test_url.c - percent-decoding, the path check, HTML escaping and URL
 * encoding; inputs end at a PROT_NONE guard page. */
#include <errno.h>
#include <string.h>

#include "serve/url.h"
#include "tap.h"
#include "testutil.h"

#define IN(lit) (lit), sizeof(lit) - 1

static const struct decode_case {
    const char *name;
    const char *in;
    size_t in_len;
    int want;                            /* decoded length or -EINVAL */
    const char *out;                     /* checked when want >= 0 */
    size_t out_len;
} decode_cases[] = {
    { "plain", IN("/a/b.txt"), 8, IN("/a/b.txt") },
    { "root", IN("/"), 1, IN("/") },
    { "empty", IN(""), 0, IN("") },
    { "space", IN("/a%20b"), 4, IN("/a b") },
    { "lower-case hex", IN("/%c3%a9"), 3, IN("/\xc3\xa9") },
    { "upper-case hex", IN("/%C3%A9"), 3, IN("/\xc3\xa9") },
    { "plus stays plus", IN("/a+b"), 4, IN("/a+b") },
    { "query dropped", IN("/a?b=%zz"), 2, IN("/a") },
    { "fragment dropped", IN("/a#%zz"), 2, IN("/a") },
    { "encoded question mark", IN("/a%3Fb"), 4, IN("/a?b") },
    { "decoded once only", IN("/%2541"), 4, IN("/%41") },
    { "encoded dots not resolved", IN("/%2e%2e/x"), 5, IN("/../x") },
    { "encoded slash", IN("/a%2Fb"), 4, IN("/a/b") },
    { "encoded backslash", IN("/a%5Cb"), 4, IN("/a\\b") },
    { "percent at end", IN("/a%"), -EINVAL, IN("") },
    { "one hex digit at end", IN("/a%4"), -EINVAL, IN("") },
    { "bad hex", IN("/a%4g"), -EINVAL, IN("") },
    { "bad hex first", IN("/a%g4"), -EINVAL, IN("") },
    { "percent before query", IN("/a%?x"), -EINVAL, IN("") },
    { "encoded NUL", IN("/a%00b"), -EINVAL, IN("") },
    { "raw NUL", IN("/a\0b"), -EINVAL, IN("") },
};

static void test_decode(void)
{
    char *guard = t_guard_page();
    char out[64];

    for (size_t i = 0; i < T_ARRAY_SIZE(decode_cases); i++) {
        const struct decode_case *tc = &decode_cases[i];
        char *buf = guard - tc->in_len;
        ssize_t n;

        memcpy(buf, tc->in, tc->in_len);
        memset(out, 'x', sizeof(out));
        n = zc_url_decode_path(buf, tc->in_len, out, sizeof(out));
        t_is_int(n, tc->want, "decode %s: return", tc->name);
        if (tc->want >= 0 && n == tc->want) {
            t_ok(memcmp(out, tc->out, tc->out_len) == 0, "decode %s: bytes", tc->name);
            t_is_int(out[n], 0, "decode %s: NUL-terminated", tc->name);
        }
    }

    /* capacity: "/abc" needs 5 bytes with its NUL */
    memcpy(guard - 4, "/abc", 4);
    t_is_int(zc_url_decode_path(guard - 4, 4, out, 5), 4, "cap exactly len + 1");
    t_is_int(zc_url_decode_path(guard - 4, 4, out, 4), -EINVAL, "cap len: no room for NUL");
    t_is_int(zc_url_decode_path(guard - 4, 4, out, 0), -EINVAL, "cap 0");
    memcpy(guard - 7, "/%41%42", 7);
    t_is_int(zc_url_decode_path(guard - 7, 7, out, 4), 3, "decoded length counts against cap");
    t_is_str(out, "/AB", "decoded into a tight buffer");
    t_is_int(zc_url_decode_path(guard - 7, 7, out, 3), -EINVAL, "decoded over cap");
}

static const struct check_case {
    const char *name;
    const char *in;
    size_t in_len;
    int want;
} check_cases[] = {
    { "root", IN("/"), 0 },
    { "file", IN("/a/b.txt"), 0 },
    { "dot segment", IN("/./a/."), 0 },
    { "empty segments", IN("//a//b/"), 0 },
    { "dots in names", IN("/a..b/..c/d../...") , 0 },
    { "dotfile", IN("/.hidden"), 0 },
    { "dot-dot", IN("/.."), -EINVAL },
    { "dot-dot slash", IN("/../x"), -EINVAL },
    { "inner dot-dot", IN("/a/../../etc/passwd"), -EINVAL },
    { "trailing dot-dot", IN("/a/.."), -EINVAL },
    { "dot-dot before slash", IN("/a/../"), -EINVAL },
    { "backslash", IN("/a\\b"), -EINVAL },
    { "backslash dot-dot", IN("/..\\x"), -EINVAL },
    { "NUL", IN("/a\0b"), -EINVAL },
    { "relative", IN("a/b"), -EINVAL },
    { "empty", IN(""), -EINVAL },
};

static void test_path_check(void)
{
    char *guard = t_guard_page();

    for (size_t i = 0; i < T_ARRAY_SIZE(check_cases); i++) {
        const struct check_case *tc = &check_cases[i];

        memcpy(guard - tc->in_len, tc->in, tc->in_len);
        t_is_int(zc_url_path_check(guard - tc->in_len, tc->in_len), tc->want,
                 "check %s", tc->name);
    }
}

static void test_html_escape(void)
{
    static const char in[] = "<a href=\"x\">Tom & Jerry's</a>";
    static const char want[] =
        "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;";
    char *guard = t_guard_page();
    char out[128];
    size_t n;

    memcpy(guard - (sizeof(in) - 1), in, sizeof(in) - 1);
    n = zc_html_escape(out, sizeof(out), guard - (sizeof(in) - 1), sizeof(in) - 1);
    t_is_str(out, want, "html escape");
    t_is_int(n, sizeof(want) - 1, "html escape length");
    n = zc_html_escape(out, 3, "a<b", 3);
    t_is_str(out, "a", "html truncated before a partial escape");
    t_is_int(n, 6, "html truncated returns full length");
    n = zc_html_escape(out, 7, "a<b", 3);
    t_is_str(out, "a&lt;b", "html exact fit");
    t_is_int(n, 6, "html exact fit length");
    n = zc_html_escape(out, 6, "a<b", 3);
    t_is_str(out, "a&lt;", "html one short");
    n = zc_html_escape(NULL, 0, "a<b", 3);
    t_is_int(n, 6, "html measure only");
    n = zc_html_escape(out, sizeof(out), "", 0);
    t_is_str(out, "", "html empty");
    t_is_int(n, 0, "html empty length");
    n = zc_html_escape(out, sizeof(out), "plain \xc3\xa9 text", 13);
    t_is_str(out, "plain \xc3\xa9 text", "html passes UTF-8 through");
}

static void test_url_encode(void)
{
    static const char in[] = "/dir/a b&c\"d'e<>%?#\\\xc3\xa9~_-.txt";
    static const char want[] =
        "/dir/a%20b%26c%22d%27e%3C%3E%25%3F%23%5C%C3%A9~_-.txt";
    char *guard = t_guard_page();
    char out[128], back[128];
    size_t n;

    memcpy(guard - (sizeof(in) - 1), in, sizeof(in) - 1);
    n = zc_url_encode_path(out, sizeof(out), guard - (sizeof(in) - 1), sizeof(in) - 1);
    t_is_str(out, want, "url encode");
    t_is_int(n, sizeof(want) - 1, "url encode length");
    t_is_int(zc_url_decode_path(out, n, back, sizeof(back)), sizeof(in) - 1,
             "decode of encode: length");
    t_ok(memcmp(back, in, sizeof(in) - 1) == 0, "decode of encode: bytes");
    n = zc_url_encode_path(out, 4, "a b", 3);
    t_is_str(out, "a", "url truncated before a partial escape");
    t_is_int(n, 5, "url truncated returns full length");
    n = zc_url_encode_path(out, 6, "a b", 3);
    t_is_str(out, "a%20b", "url exact fit");
    n = zc_url_encode_path(out, sizeof(out), "\x00\x7f\xff", 3);
    t_is_str(out, "%00%7F%FF", "url encodes NUL, DEL, 0xFF");
}

int main(void)
{
    test_decode();
    test_path_check();
    test_html_escape();
    test_url_encode();
    return t_done();
}
