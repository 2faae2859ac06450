/* test_coding.c - --precompressed lists and Accept-Encoding negotiation
 * (RFC 9110 12.5.3): q-values, q=0, "*", identity; values end at a
 * PROT_NONE guard page so an over-read crashes. */
#include <errno.h>
#include <string.h>

#include "serve/coding.h"
#include "tap.h"
#include "testutil.h"

#define BR (1u << ZC_CODING_BR)
#define ZS (1u << ZC_CODING_ZSTD)
#define GZ (1u << ZC_CODING_GZIP)
#define ALL (BR | ZS | GZ)
#define ID ZC_CODING_IDENTITY
#define NA ZC_CODING_NOT_ACCEPTABLE

static const struct choose_case {
    const char *ae;                     /* NULL: no Accept-Encoding */
    unsigned avail;
    int want;
} cases[] = {
    { NULL, ALL, ID },                  /* not asked: no coding */
    { "", ALL, ID },                    /* empty: identity only */
    { "gzip", ALL, ZC_CODING_GZIP },
    { "gzip", BR | ZS, ID },            /* nothing asked for exists */
    { "GZIP", ALL, ZC_CODING_GZIP },
    { "x-gzip", GZ, ZC_CODING_GZIP },
    { "gzip, deflate, br, zstd", ALL, ZC_CODING_BR },       /* server order */
    { "gzip, deflate, br, zstd", ZS | GZ, ZC_CODING_ZSTD },
    { "gzip, deflate, br", GZ, ZC_CODING_GZIP },
    { "br;q=0.5, gzip", ALL, ZC_CODING_GZIP },              /* q beats order */
    { "br;q=0.5, gzip;q=0.8", BR, ZC_CODING_BR },
    { "br;q=0, gzip", ALL, ZC_CODING_GZIP },                /* q=0 excludes */
    { "br;q=0", BR, ID },
    { "br;q=0.000", BR, ID },
    { "*", ALL, ZC_CODING_BR },
    { "*;q=0.3, br;q=0", BR | GZ, ZC_CODING_GZIP },
    { "gzip;q=0, *", GZ | ZS, ZC_CODING_ZSTD },
    { "gzip, identity;q=1", GZ, ZC_CODING_GZIP },   /* equal q: the variant */
    { "gzip;q=0.5, identity", GZ, ID }, /* identity listed higher */
    { "gzip;q=0.5", GZ, ZC_CODING_GZIP },   /* unlisted identity: not higher */
    { "identity;q=0", BR, NA },
    { "identity;q=0, br", BR, ZC_CODING_BR },
    { "*;q=0", GZ, NA },
    { "*;q=0", 0, NA },
    { "*;q=0, identity", GZ, ID },      /* a more specific identity entry */
    { "*;q=0, gzip", GZ, ZC_CODING_GZIP },
    { "identity;q=0", 0, NA },
    { "identity;q=0.001", 0, ID },
    { "gzip;q=1.0", GZ, ZC_CODING_GZIP },
    { "gzip;q=1.001", GZ, ID },         /* malformed q: element ignored */
    { "gzip;q=2", GZ, ID },
    { "gzip;q=0.1234", GZ, ID },
    { "gzip;q=", GZ, ID },
    { "gzip;q", GZ, ID },
    { "gzip;Q=0.5", GZ, ZC_CODING_GZIP },
    { "gzip ; q=0.5 ; foo=bar", GZ, ZC_CODING_GZIP },
    { "gzip;q=0 ;", GZ, ID },            /* malformed after q: ignored */
    { " ,, gzip ,", GZ, ZC_CODING_GZIP },
    { "gzip, gzip;q=0", GZ, ZC_CODING_GZIP },   /* first mention counts */
    { "gzipx", GZ, ID },
    { "br\t;\tq=0.9", BR, ZC_CODING_BR },
    { "@gzip", GZ, ID },
    { "zstd;q=0.9, br;q=0.9, gzip;q=0.9", ZS | GZ, ZC_CODING_ZSTD },
};

static void test_choose(void)
{
    char *guard = t_guard_page();
    struct zc_coding_list pref;

    t_is_int(zc_coding_list_parse("br,zstd,gzip", &pref), 0, "pref list");
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        const struct choose_case *tc = &cases[i];
        const char *v = NULL;
        size_t n = 0;

        if (tc->ae) {
            n = strlen(tc->ae);
            v = memcpy(guard - n, tc->ae, n);
        }
        t_is_int(zc_coding_choose(v, n, tc->avail, &pref), tc->want, "choose \"%s\" avail %u",
                 tc->ae ? tc->ae : "(absent)", tc->avail);
    }
    /* The server's order breaks ties, and only listed codings are used. */
    t_is_int(zc_coding_list_parse("gzip,br", &pref), 0, "pref gzip,br");
    t_is_int(zc_coding_choose("br, gzip, zstd", 14, ALL, &pref), ZC_CODING_GZIP,
             "gzip preferred by the server");
    t_is_int(zc_coding_choose("zstd", 4, ALL, &pref), ID, "zstd not in --precompressed");
}

static void test_list(void)
{
    static const struct {
        const char *s;
        int ret;
        unsigned n;
        int first;
    } lists[] = {
        { "br,zstd,gzip", 0, 3, ZC_CODING_BR },
        { "gzip", 0, 1, ZC_CODING_GZIP },
        { "zst,br", 0, 2, ZC_CODING_ZSTD },
        { "GZIP", 0, 1, ZC_CODING_GZIP },
        { "off", 0, 0, -1 },
        { "", 0, 0, -1 },
        { "gzip,gzip", -EINVAL, 0, -1 },
        { "deflate", -EINVAL, 0, -1 },
        { "gzip,", -EINVAL, 0, -1 },
        { ",gzip", -EINVAL, 0, -1 },
        { "gzip br", -EINVAL, 0, -1 },
    };

    for (size_t i = 0; i < T_ARRAY_SIZE(lists); i++) {
        struct zc_coding_list l;
        int ret = zc_coding_list_parse(lists[i].s, &l);

        t_is_int(ret, lists[i].ret, "list \"%s\"", lists[i].s);
        if (ret == 0) {
            t_is_int((int)l.n, (int)lists[i].n, "list \"%s\": count", lists[i].s);
            if (l.n)
                t_is_int((int)l.v[0], lists[i].first, "list \"%s\": first", lists[i].s);
        }
    }
    t_is_str(zc_coding_name(ZC_CODING_ZSTD), "zstd", "name");
    t_is_str(zc_coding_suffix(ZC_CODING_ZSTD), ".zst", "suffix");
    t_is_str(zc_coding_suffix(ZC_CODING_GZIP), ".gz", "gzip suffix");
}

int main(void)
{
    test_choose();
    test_list();
    return t_done();
}
