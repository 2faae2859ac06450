/* fuzz_http_parse.c - the request parser over arbitrary bytes, with the
 * default limits and with tiny ones, checking what callers rely on. */
#include <string.h>
#include <strings.h>

#include "fuzz.h"
#include "serve/http_parse.h"

static int inside(const struct zc_str *s, const uint8_t *data, int consumed)
{
    if (!s->p)
        return s->len == 0;
    return (const uint8_t *)s->p >= data &&
           (const uint8_t *)s->p + s->len <= data + consumed;
}

static void check(const uint8_t *data, size_t size, const struct zc_http_limits *lim)
{
    struct zc_http_req req;
    int ret = zc_http_parse_request((const char *)data, size, lim, &req);

    FUZZ_CHECK(ret == ZC_HTTP_PARTIAL || ret == -400 || ret == -414 ||
               ret == -417 || ret == -431 || ret == -501 || ret == -505 || ret > 0);
    if (ret <= 0)
        return;
    FUZZ_CHECK((size_t)ret <= size);
    FUZZ_CHECK((size_t)ret <= (lim ? lim->max_head : ZC_HTTP_DEFAULT_MAX_HEAD));
    FUZZ_CHECK(ret >= 4 && !memcmp(data + ret - 4, "\r\n\r\n", 4));
    FUZZ_CHECK(req.method_str.len > 0 && inside(&req.method_str, data, ret));
    FUZZ_CHECK(req.target.len > 0 && inside(&req.target, data, ret));
    FUZZ_CHECK(req.target.len <= (lim ? lim->max_target : ZC_HTTP_DEFAULT_MAX_TARGET));
    FUZZ_CHECK(req.field_count <= (lim ? lim->max_fields : ZC_HTTP_DEFAULT_MAX_FIELDS));
    FUZZ_CHECK(req.version_minor == 0 || req.version_minor == 1);
    FUZZ_CHECK(req.version_minor == 0 || req.host.p);
    FUZZ_CHECK(req.content_length >= -1);
    FUZZ_CHECK(!(req.content_length >= 0 && req.transfer_encoding.p));
    /* Framing was decided: a Transfer-Encoding that parsed is HTTP/1.1 and
     * ends in chunked; 100-continue is only expected from 1.1. */
    if (req.transfer_encoding.p) {
        size_t n = req.transfer_encoding.len;

        while (n > 0 && memchr(", \t", req.transfer_encoding.p[n - 1], 3))
            n--;                        /* empty list elements at the end */
        FUZZ_CHECK(req.version_minor == 1 && n >= 7 &&
                   strncasecmp(req.transfer_encoding.p + n - 7, "chunked", 7) == 0);
    }
    FUZZ_CHECK(!req.expect_continue || (req.version_minor == 1 && req.expect.len >= 12));
    FUZZ_CHECK(!(req.has_connection_close && req.keep_alive));
    const struct zc_str *all[] = {
        &req.host, &req.range, &req.if_range, &req.if_match, &req.if_none_match,
        &req.if_modified_since, &req.if_unmodified_since, &req.transfer_encoding,
        &req.expect, &req.user_agent, &req.referer, &req.authority,
    };
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        FUZZ_CHECK(inside(all[i], data, ret));
        /* stripped values neither start nor end with SP/HTAB */
        if (all[i]->len)
            FUZZ_CHECK(all[i]->p[0] != ' ' && all[i]->p[0] != '\t' &&
                       all[i]->p[all[i]->len - 1] != ' ' &&
                       all[i]->p[all[i]->len - 1] != '\t');
    }
    /* No control byte or DEL survives in the target or a stored value
     * (HTAB only inside a value): cross-checks the vectorised scans. */
    for (size_t i = 0; i < req.target.len; i++) {
        unsigned char c = (unsigned char)req.target.p[i];

        FUZZ_CHECK(c > 0x20 && c != 0x7f);
    }
    for (size_t k = 0; k < sizeof(all) / sizeof(all[0]); k++)
        for (size_t i = 0; i < all[k]->len; i++) {
            unsigned char c = (unsigned char)all[k]->p[i];

            FUZZ_CHECK((c >= 0x20 || c == '\t') && c != 0x7f);
        }
    switch (req.target_form) {
    case ZC_HTTP_TARGET_ORIGIN:
        FUZZ_CHECK(req.path.p == req.target.p && req.path.p[0] == '/');
        break;
    case ZC_HTTP_TARGET_ABSOLUTE:
        FUZZ_CHECK(req.authority.len > 0 && req.path.len > 0 && req.path.p[0] == '/');
        FUZZ_CHECK(inside(&req.path, data, ret) || (req.path.len == 1));
        break;
    case ZC_HTTP_TARGET_AUTHORITY:
        FUZZ_CHECK(req.method == ZC_HTTP_CONNECT && !req.path.p);
        break;
    case ZC_HTTP_TARGET_ASTERISK:
        FUZZ_CHECK(req.method == ZC_HTTP_OPTIONS && req.target.len == 1);
        break;
    default:
        FUZZ_CHECK(0);
    }
    /* The head alone parses the same, and every shorter prefix of it is
     * merely incomplete: the server can call the parser after each read. */
    struct zc_http_req again;
    FUZZ_CHECK(zc_http_parse_request((const char *)data, (size_t)ret, lim, &again) == ret);
    FUZZ_CHECK(zc_http_parse_request((const char *)data, (size_t)ret - 1, lim, &again) ==
               ZC_HTTP_PARTIAL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct zc_http_limits tiny = { 96, 24, 3 };
    static const struct zc_http_limits dflt = { ZC_HTTP_DEFAULT_MAX_HEAD,
                                                ZC_HTTP_DEFAULT_MAX_TARGET,
                                                ZC_HTTP_DEFAULT_MAX_FIELDS };

    check(data, size, &dflt);
    check(data, size, &tiny);
    return 0;
}
