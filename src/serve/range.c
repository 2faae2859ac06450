/* range.c - parse "Range: bytes=..." and format Content-Range. */
#include "serve/range.h"

#include <stdbool.h>
#include <string.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* 1*DIGIT at *i; saturates at UINT64_MAX: a position that large is still
 * syntactically valid, only unsatisfiable (or clipped, as a last-pos). */
static bool parse_u64(const char *s, size_t len, size_t *i, uint64_t *out)
{
    uint64_t n = 0;
    size_t start = *i;

    while (*i < len && is_digit(s[*i])) {
        unsigned d = (unsigned)(s[*i] - '0');

        n = n > (UINT64_MAX - d) / 10 ? UINT64_MAX : n * 10 + d;
        (*i)++;
    }
    *out = n;
    return *i > start;
}

int zc_range_parse(const char *value, size_t len, uint64_t size,
                   struct zc_range *out, int max_parts)
{
    size_t i = 6;
    int specs = 0, n = 0;
    uint64_t total = 0;
    bool empty_suffix = false;

    /* The unit is case-insensitive: the only bytes that OR 0x20 to a lower
     * case letter are that letter's two cases. */
    if (len < 6 || value[5] != '=')
        return 0;
    for (size_t k = 0; k < 5; k++)
        if ((value[k] | 0x20) != "bytes"[k])
            return 0;

    /* range-set = 1#range-spec: elements separated by OWS "," OWS; empty
     * elements are allowed by the list rule (RFC 9110 5.6.1). */
    while (i < len) {
        uint64_t first, last;
        bool suffix = false, has_last = false;

        if (value[i] == ',' || is_ows(value[i])) {
            i++;
            continue;
        }
        if (++specs > max_parts)
            return 0;
        if (value[i] == '-') {
            suffix = true;
            i++;
            if (!parse_u64(value, len, &i, &last))
                return 0;
        } else {
            if (!parse_u64(value, len, &i, &first))
                return 0;
            if (i == len || value[i] != '-')
                return 0;
            i++;
            has_last = parse_u64(value, len, &i, &last);
            if (has_last && last < first)
                return 0;             /* invalid spec: ignore the field */
        }
        /* the spec must end at OWS, a comma or the end */
        while (i < len && is_ows(value[i]))
            i++;
        if (i < len && value[i] != ',')
            return 0;

        if (suffix) {
            if (last == 0)
                continue;             /* "-0": unsatisfiable */
            if (size == 0) {
                /* RFC 9110 14.1.1: satisfiable on an empty body, yet no
                 * Content-Range can name its bytes: serve the body whole. */
                empty_suffix = true;
                continue;
            }
            first = last >= size ? 0 : size - last;
            last = size - 1;
        } else {
            if (first >= size)
                continue;
            if (!has_last || last > size - 1)
                last = size - 1;
        }
        /* Parts adding up beyond the body would let a short request make a
         * response larger than the file: serve the file once instead. */
        total += last - first + 1;
        if (total > size)
            return 0;
        out[n].first = first;
        out[n].last = last;
        n++;
    }
    if (specs == 0)
        return 0;                     /* "bytes=" or "bytes= , ": no spec */
    if (n == 0)
        return empty_suffix ? 0 : -416;
    return n;
}

/* Decimal digits of @v written backwards into the end of tmp[20]. */
static size_t fmt_u64(char tmp[20], uint64_t v)
{
    size_t n = 0;

    do {
        tmp[19 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return n;
}

static void put(char *out, size_t cap, size_t *pos, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++, (*pos)++)
        if (*pos + 1 < cap)
            out[*pos] = s[i];
}

static void put_u64(char *out, size_t cap, size_t *pos, uint64_t v)
{
    char tmp[20];
    size_t n = fmt_u64(tmp, v);

    put(out, cap, pos, tmp + 20 - n, n);
}

size_t zc_range_content_range(char *out, size_t cap, const struct zc_range *r,
                              uint64_t size)
{
    size_t pos = 0;

    put(out, cap, &pos, "bytes ", 6);
    if (r) {
        put_u64(out, cap, &pos, r->first);
        put(out, cap, &pos, "-", 1);
        put_u64(out, cap, &pos, r->last);
    } else {
        put(out, cap, &pos, "*", 1);
    }
    put(out, cap, &pos, "/", 1);
    put_u64(out, cap, &pos, size);
    if (cap > 0)
        out[pos < cap ? pos : cap - 1] = '\0';
    return pos;
}
