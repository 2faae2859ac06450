/* coding.c - Accept-Encoding negotiation for precompressed variants. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "serve/coding.h"

static const struct {
    const char *name, *suffix;
} codings[ZC_CODING_COUNT] = {
    [ZC_CODING_BR] = { "br", ".br" },
    [ZC_CODING_ZSTD] = { "zstd", ".zst" },
    [ZC_CODING_GZIP] = { "gzip", ".gz" },
};

const char *zc_coding_name(enum zc_coding c)
{
    return codings[c].name;
}

const char *zc_coding_suffix(enum zc_coding c)
{
    return codings[c].suffix;
}

static bool token_is(const char *p, size_t len, const char *lit)
{
    return strlen(lit) == len && strncasecmp(p, lit, len) == 0;
}

int zc_coding_list_parse(const char *s, struct zc_coding_list *out)
{
    unsigned seen = 0;

    out->n = 0;
    if (!strcmp(s, "off"))
        return 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        int c = -1;

        if (token_is(s, len, "br"))
            c = ZC_CODING_BR;
        else if (token_is(s, len, "zstd") || token_is(s, len, "zst"))
            c = ZC_CODING_ZSTD;
        else if (token_is(s, len, "gzip"))
            c = ZC_CODING_GZIP;
        if (c < 0 || (seen & (1u << c)))
            return -EINVAL;
        seen |= 1u << c;
        out->v[out->n++] = (enum zc_coding)c;
        s += len;
        if (*s == ',' && !*++s)
            return -EINVAL;             /* trailing comma */
    }
    return 0;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), as
 * thousandths. Return: 0..1000, or -1 when malformed. */
static int parse_qvalue(const char *p, size_t len)
{
    int v, scale = 100;

    if (len == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    v = (p[0] - '0') * 1000;
    if (len == 1)
        return v;
    if (p[1] != '.' || len > 5)
        return -1;
    for (size_t i = 2; i < len; i++, scale /= 10) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v += (p[i] - '0') * scale;
    }
    return v > 1000 ? -1 : v;
}

/* One list element "coding *( OWS ; OWS param )" between @p and @end,
 * surrounding OWS already skipped by the caller's scan. Return: its q in
 * thousandths (1000 without a q parameter), or -1 when malformed; *name and
 * *name_len are the coding. */
static int parse_element(const char *p, const char *end, const char **name,
                         size_t *name_len)
{
    int q = 1000;

    *name = p;
    while (p < end && is_tchar(*p))
        p++;
    *name_len = (size_t)(p - *name);
    if (*name_len == 0)
        return -1;
    for (;;) {
        const char *pn, *pv;
        size_t nlen;

        while (p < end && is_ows(*p))
            p++;
        if (p == end)
            return q;
        if (*p++ != ';')
            return -1;
        while (p < end && is_ows(*p))
            p++;
        pn = p;
        while (p < end && is_tchar(*p))
            p++;
        nlen = (size_t)(p - pn);
        if (nlen == 0 || p == end || *p++ != '=')
            return -1;
        pv = p;
        while (p < end && is_tchar(*p))
            p++;
        if (p == pv)
            return -1;                  /* quoted-string values: not for q */
        if (token_is(pn, nlen, "q") && (q = parse_qvalue(pv, (size_t)(p - pv))) < 0)
            return -1;
    }
}

int zc_coding_choose(const char *ae, size_t len, unsigned avail,
                     const struct zc_coding_list *pref)
{
    int q[ZC_CODING_COUNT] = { -1, -1, -1 }, q_identity = -1, q_star = -1;
    const char *p = ae, *end = ae + len;
    int best = ZC_CODING_IDENTITY, best_q = 0;
    bool identity_excluded;

    if (!ae)
        return ZC_CODING_IDENTITY;
    while (p < end) {
        const char *e, *name, *stop;
        size_t name_len;
        int eq, *slot = NULL;

        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        if (p == end)
            break;
        e = memchr(p, ',', (size_t)(end - p));
        stop = e ? e : end;
        eq = parse_element(p, stop, &name, &name_len);
        p = stop;
        if (eq < 0)
            continue;
        if (token_is(name, name_len, "br"))
            slot = &q[ZC_CODING_BR];
        else if (token_is(name, name_len, "zstd"))
            slot = &q[ZC_CODING_ZSTD];
        else if (token_is(name, name_len, "gzip") || token_is(name, name_len, "x-gzip"))
            slot = &q[ZC_CODING_GZIP];
        else if (token_is(name, name_len, "identity"))
            slot = &q_identity;
        else if (token_is(name, name_len, "*"))
            slot = &q_star;
        if (slot && *slot < 0)
            *slot = eq;                 /* the first mention counts */
    }

    for (unsigned i = 0; i < pref->n; i++) {
        enum zc_coding c = pref->v[i];
        int cq = q[c] >= 0 ? q[c] : q_star >= 0 ? q_star : 0;

        if ((avail & (1u << c)) && cq > best_q) {
            best = (int)c;
            best_q = cq;
        }
    }
    identity_excluded = q_identity == 0 || (q_identity < 0 && q_star == 0);
    if (best >= 0 && !(q_identity > best_q))
        return best;
    return identity_excluded ? ZC_CODING_NOT_ACCEPTABLE : ZC_CODING_IDENTITY;
}
