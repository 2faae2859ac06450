/* http_cond.c - entity-tag comparison (RFC 9110 8.8.3.2) and If-Range. */
#include "serve/http_cond.h"

#include <string.h>

#include "serve/http_date.h"
#include "serve/http_parse.h"

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* etagc: 0x21, 0x23-0x7E and obs-text (0x80-0xFF) */
static bool is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c != 0x7f);
}

/* Parse one entity-tag at s[*i]: on success *op and *op_len are the opaque-tag
 * (quotes included), *is_weak its W/ prefix, and *i points past it. */
static bool parse_etag(const char *s, size_t len, size_t *i, const char **op,
                       size_t *op_len, bool *is_weak)
{
    size_t j = *i;

    *is_weak = false;
    if (len - j >= 2 && s[j] == 'W' && s[j + 1] == '/') {
        *is_weak = true;
        j += 2;
    }
    if (j == len || s[j] != '"')
        return false;
    for (j++; j < len && s[j] != '"'; j++)
        if (!is_etagc((unsigned char)s[j]))
            return false;
    if (j == len)
        return false;                       /* no closing quote */
    j++;
    *op = s + *i + (*is_weak ? 2 : 0);
    *op_len = (size_t)(s + j - *op);
    *i = j;
    return true;
}

bool zc_etag_match_list(const char *list, size_t len, const char *etag,
                        size_t etag_len, bool weak)
{
    const char *mine, *theirs;
    size_t mine_len, theirs_len, i = 0, end = len;
    bool mine_weak, theirs_weak;

    while (i < end && is_ows(list[i]))
        i++;
    while (end > i && is_ows(list[end - 1]))
        end--;
    if (end - i == 1 && list[i] == '*')
        return true;

    {
        size_t k = 0;

        if (!parse_etag(etag, etag_len, &k, &mine, &mine_len, &mine_weak) ||
            k != etag_len)
            return false;                   /* our own tag is malformed */
    }
    if (!weak && mine_weak)
        return false;

    while (i < end) {
        if (list[i] == ',' || is_ows(list[i])) {
            i++;
            continue;
        }
        if (!parse_etag(list, end, &i, &theirs, &theirs_len, &theirs_weak))
            return false;
        if (theirs_len == mine_len && !memcmp(theirs, mine, mine_len) &&
            (weak || !theirs_weak))
            return true;
        while (i < end && is_ows(list[i]))
            i++;
        if (i < end && list[i] != ',')
            return false;
    }
    return false;
}

static char *put_hex(char *p, uint64_t v)
{
    char tmp[16];
    int n = 0;

    do {
        tmp[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

void zc_etag_make(char out[64], uint64_t ino, uint64_t size, int64_t mtime_sec,
                  long mtime_nsec)
{
    char *p = out;

    *p++ = '"';
    p = put_hex(p, ino);
    *p++ = '-';
    p = put_hex(p, size);
    *p++ = '-';
    p = put_hex(p, (uint64_t)mtime_sec);
    *p++ = '.';
    p = put_hex(p, (uint64_t)mtime_nsec & 0xffffffffu);
    *p++ = '"';
    *p = '\0';
}

bool zc_if_range_match(const char *value, size_t len, const char *etag,
                       size_t etag_len, time_t last_modified)
{
    time_t t;

    /* "W/" cannot start a date, but 'W' alone can ("Wed, ..."). */
    if ((len > 0 && value[0] == '"') || (len > 1 && value[0] == 'W' && value[1] == '/')) {
        const char *theirs, *mine;
        size_t theirs_len, mine_len, i = 0, k = 0;
        bool theirs_weak, mine_weak;

        if (!parse_etag(value, len, &i, &theirs, &theirs_len, &theirs_weak) ||
            i != len || theirs_weak)
            return false;
        if (!parse_etag(etag, etag_len, &k, &mine, &mine_len, &mine_weak) ||
            k != etag_len || mine_weak)
            return false;
        return theirs_len == mine_len && !memcmp(theirs, mine, mine_len);
    }
    return zc_http_date_parse(value, len, &t) == 0 && t == last_modified;
}

int zc_http_preconditions(const struct zc_http_req *req, const struct zc_cond_target *t,
                          bool read, time_t now)
{
    time_t d;

    if (req->if_match.p) {
        if (!t->exists || !zc_etag_match_list(req->if_match.p, req->if_match.len,
                                              t->etag, t->etag_len, false))
            return 412;
    } else if (req->if_unmodified_since.p && t->exists &&
               zc_http_date_parse(req->if_unmodified_since.p,
                                  req->if_unmodified_since.len, &d) == 0 &&
               t->mtime > d) {
        return 412;
    }
    /* If-None-Match wins over If-Modified-Since: the latter is only looked
     * at when the former is absent. */
    if (req->if_none_match.p) {
        if (t->exists && zc_etag_match_list(req->if_none_match.p, req->if_none_match.len,
                                            t->etag, t->etag_len, true))
            return read ? 304 : 412;    /* PUT with "*": create only */
    } else if (read && t->exists && req->if_modified_since.p &&
               zc_http_date_parse(req->if_modified_since.p, req->if_modified_since.len,
                                  &d) == 0 &&
               t->mtime <= d && d <= now) {
        return 304;
    }
    return 0;
}
