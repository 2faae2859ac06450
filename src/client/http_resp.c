/* http_resp.c - see http_resp.h. Written to be fed untrusted bytes: every
 * index is checked against len before it is read, and no number overflows. */
#include <string.h>

#include "client/http_resp.h"

/* Largest Content-Length or range bound accepted: 2^62, far beyond any file,
 * and small enough that the arithmetic callers do on it cannot overflow. */
#define MAX_LENGTH ((int64_t)1 << 62)

static bool is_tchar(unsigned char c)
{
    /* RFC 9110 token characters. */
    static const char extra[] = "!#$%&'*+-.^_`|~";

    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && memchr(extra, c, sizeof(extra) - 1) != NULL;
}

/* field-vchar, SP, HTAB and obs-text: what a field value may hold. */
static bool is_value_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool name_is(const char *p, size_t len, const char *name)
{
    size_t n = strlen(name);

    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(p[i]) != name[i])
            return false;
    return true;
}

/* Digits only, at least one, at most MAX_LENGTH. Return: value or -1. */
static int64_t parse_decimal(const char *p, size_t len)
{
    int64_t v = 0;

    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit((unsigned char)p[i]))
            return -1;
        int d = p[i] - '0';

        if (v > (MAX_LENGTH - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    return v;
}

static int parse_status_line(const char *p, size_t len, struct zc_http_resp *r)
{
    /* "HTTP/1.1 200" is the shortest; the reason phrase may be empty. */
    if (len < 12 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit((unsigned char)p[7]) ||
        p[8] != ' ')
        return ZC_RESP_BAD;
    r->version_minor = p[7] - '0';
    if (!is_digit((unsigned char)p[9]) || !is_digit((unsigned char)p[10]) ||
        !is_digit((unsigned char)p[11]) || p[9] == '0')
        return ZC_RESP_BAD;
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    if (len == 12) {                    /* tolerated: no SP before an empty reason */
        r->reason = (struct zc_resp_str){ p + 12, 0 };
        return 0;
    }
    if (p[12] != ' ')
        return ZC_RESP_BAD;
    for (size_t i = 13; i < len; i++)
        if (!is_value_char((unsigned char)p[i]))
            return ZC_RESP_BAD;
    r->reason = (struct zc_resp_str){ p + 13, len - 13 };
    return 0;
}

/* Scan "FIRST-LAST/COMPLETE" style numbers. Return: chars used or -1. */
static int scan_number(const char *p, size_t len, int64_t *out)
{
    size_t n = 0;

    while (n < len && is_digit((unsigned char)p[n]))
        n++;
    *out = parse_decimal(p, n);
    return *out < 0 ? -1 : (int)n;
}

static int parse_content_range(const char *p, size_t len, struct zc_content_range *cr)
{
    size_t i = 6;
    int n;

    if (len < 6 || memcmp(p, "bytes ", 6) != 0)
        return ZC_RESP_BAD;
    cr->present = true;
    if (i < len && p[i] == '*') {
        cr->unsatisfied = true;
        cr->first = cr->last = -1;
        i++;
    } else {
        n = scan_number(p + i, len - i, &cr->first);
        if (n < 0)
            return ZC_RESP_BAD;
        i += (size_t)n;
        if (i >= len || p[i] != '-')
            return ZC_RESP_BAD;
        i++;
        n = scan_number(p + i, len - i, &cr->last);
        if (n < 0 || cr->last < cr->first)
            return ZC_RESP_BAD;
        i += (size_t)n;
    }
    if (i >= len || p[i] != '/')
        return ZC_RESP_BAD;
    i++;
    if (i + 1 == len && p[i] == '*' && !cr->unsatisfied) {
        cr->complete = -1;
        return 0;
    }
    n = scan_number(p + i, len - i, &cr->complete);
    if (n < 0 || i + (size_t)n != len)
        return ZC_RESP_BAD;
    if (!cr->unsatisfied && cr->last >= cr->complete)
        return ZC_RESP_BAD;
    return 0;
}

/* Connection is a comma list of tokens; only "close" and "keep-alive" matter. */
static void scan_connection(const char *p, size_t len, bool *close, bool *keep)
{
    size_t i = 0;

    while (i < len) {
        size_t start, end;

        while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == ','))
            i++;
        start = i;
        while (i < len && p[i] != ',' && p[i] != ' ' && p[i] != '\t')
            i++;
        end = i;
        if (name_is(p + start, end - start, "close"))
            *close = true;
        else if (name_is(p + start, end - start, "keep-alive"))
            *keep = true;
    }
}

struct head_state {
    bool have_te, have_cl, keep_alive;
};

static int parse_field(const char *p, size_t len, struct zc_http_resp *r,
                       struct head_state *hs)
{
    size_t colon = 0, vs, ve;
    const char *v;
    size_t vlen;

    while (colon < len && is_tchar((unsigned char)p[colon]))
        colon++;
    /* No name, a non-token byte in it, or whitespace before the colon. */
    if (colon == 0 || colon == len || p[colon] != ':')
        return ZC_RESP_BAD;
    vs = colon + 1;
    ve = len;
    for (size_t i = vs; i < ve; i++)
        if (!is_value_char((unsigned char)p[i]))
            return ZC_RESP_BAD;
    while (vs < ve && (p[vs] == ' ' || p[vs] == '\t'))
        vs++;
    while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
        ve--;
    v = p + vs;
    vlen = ve - vs;

    if (name_is(p, colon, "content-length")) {
        int64_t cl = parse_decimal(v, vlen);

        if (cl < 0 || (hs->have_cl && cl != r->content_length))
            return ZC_RESP_BAD;
        hs->have_cl = true;
        r->content_length = cl;
    } else if (name_is(p, colon, "transfer-encoding")) {
        /* We ask for no coding; anything but plain chunked we cannot decode. */
        if (hs->have_te || !name_is(v, vlen, "chunked"))
            return ZC_RESP_BAD;
        hs->have_te = true;
        r->chunked = true;
    } else if (name_is(p, colon, "location")) {
        if (r->location.p || vlen == 0)
            return ZC_RESP_BAD;
        r->location = (struct zc_resp_str){ v, vlen };
    } else if (name_is(p, colon, "etag")) {
        if (r->etag.p || vlen == 0)
            return ZC_RESP_BAD;
        r->etag = (struct zc_resp_str){ v, vlen };
    } else if (name_is(p, colon, "last-modified")) {
        if (r->last_modified.p || vlen == 0)
            return ZC_RESP_BAD;
        r->last_modified = (struct zc_resp_str){ v, vlen };
    } else if (name_is(p, colon, "content-range")) {
        if (r->range.present)
            return ZC_RESP_BAD;
        return parse_content_range(v, vlen, &r->range);
    } else if (name_is(p, colon, "connection")) {
        scan_connection(v, vlen, &r->conn_close, &hs->keep_alive);
    }
    return 0;
}

int zc_http_parse_response(const char *buf, size_t len, struct zc_http_resp *r)
{
    struct head_state hs = { 0 };
    size_t pos = 0;
    bool first = true;

    memset(r, 0, sizeof(*r));
    r->content_length = -1;

    for (;;) {
        const char *lf = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
        size_t line_end;
        int ret;

        if (!lf) {
            /* Reject what can already be seen to be wrong: a status line
             * that does not start like one, or a bare CR mid-line. */
            size_t n = len - pos;

            if (first && memcmp(buf, "HTTP/1.", n < 7 ? n : 7) != 0)
                return ZC_RESP_BAD;
            for (size_t i = pos; i + 1 < len; i++)
                if (buf[i] == '\r')
                    return ZC_RESP_BAD;
            return ZC_RESP_PARTIAL;
        }
        line_end = (size_t)(lf - buf);
        if (line_end == pos || buf[line_end - 1] != '\r')
            return ZC_RESP_BAD;                   /* bare LF */
        if (memchr(buf + pos, '\r', line_end - 1 - pos))
            return ZC_RESP_BAD;                   /* bare CR */

        if (first) {
            ret = parse_status_line(buf + pos, line_end - 1 - pos, r);
            first = false;
        } else if (line_end - 1 == pos) {
            pos = line_end + 1;
            break;                                /* the blank line */
        } else if (buf[pos] == ' ' || buf[pos] == '\t') {       /* obs-fold */
            ret = ZC_RESP_BAD;
        } else if (++r->field_count > ZC_RESP_MAX_FIELDS) {
            ret = ZC_RESP_TOO_MANY_FIELDS;
        } else {
            ret = parse_field(buf + pos, line_end - 1 - pos, r, &hs);
        }
        if (ret < 0)
            return ret;
        pos = line_end + 1;
    }

    if (hs.have_te && (hs.have_cl || r->version_minor == 0))
        return ZC_RESP_BAD;       /* smuggling shape; no chunked in HTTP/1.0 */
    if (r->version_minor == 0 && !hs.keep_alive)
        r->conn_close = true;
    return pos > (size_t)INT32_MAX ? ZC_RESP_BAD : (int)pos;
}

bool zc_http_body_expected(int status, bool head_request)
{
    return !head_request && status >= 200 && status != 204 && status != 304;
}

/* ---- chunked decoder ---------------------------------------------------- */

enum {
    CH_SIZE,            /* hex digits of chunk-size */
    CH_SIZE_WS,         /* BWS after the size, before ';' or CR */
    CH_EXT,             /* chunk extension: skipped up to CR */
    CH_SIZE_LF,         /* CR seen after the size line */
    CH_DATA,            /* data_left bytes belong to the caller */
    CH_DATA_CR,         /* CRLF after chunk data */
    CH_DATA_LF,
    CH_TRAILER,         /* start of a trailer line, or the final CRLF */
    CH_TRAILER_LINE,
    CH_TRAILER_LF,
    CH_END_LF,
    CH_DONE,
    CH_BAD,
};

#define MAX_CHUNK_DIGITS 15             /* < 2^60 per chunk */
#define MAX_EXT_LINE 4096
#define MAX_TRAILER 8192

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* The state after a size line: data, or the trailer after the last chunk. */
static unsigned after_size_line(struct zc_chunked *d)
{
    d->data_left = d->size;
    return d->size ? CH_DATA : CH_TRAILER;
}

ssize_t zc_chunked_parse(struct zc_chunked *d, const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len) {
        char c = buf[i];
        int h;

        switch (d->state) {
        case CH_SIZE:
            h = hex_value(c);
            if (h >= 0) {
                if (++d->digits > MAX_CHUNK_DIGITS)
                    goto bad;
                d->size = d->size * 16 + (uint64_t)h;
                break;
            }
            if (d->digits == 0)
                goto bad;
            d->line_len = 0;
            if (c == '\r')
                d->state = CH_SIZE_LF;
            else if (c == ';')
                d->state = CH_EXT;
            else if (c == ' ' || c == '\t')
                d->state = CH_SIZE_WS;
            else
                goto bad;
            break;
        case CH_SIZE_WS:
            if (c == '\r')
                d->state = CH_SIZE_LF;
            else if (c == ';')
                d->state = CH_EXT;
            else if (c != ' ' && c != '\t')
                goto bad;
            break;
        case CH_EXT:
            if (c == '\r')
                d->state = CH_SIZE_LF;
            else if (!is_value_char((unsigned char)c) || ++d->line_len > MAX_EXT_LINE)
                goto bad;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                goto bad;
            d->state = after_size_line(d);
            i++;
            if (d->state == CH_DATA)
                return (ssize_t)i;          /* the caller moves the data */
            continue;
        case CH_DATA:
            return (ssize_t)i;              /* data_left > 0: the caller's */
        case CH_DATA_CR:
            if (c != '\r')
                goto bad;
            d->state = CH_DATA_LF;
            break;
        case CH_DATA_LF:
            if (c != '\n')
                goto bad;
            d->state = CH_SIZE;
            d->size = 0;
            d->digits = 0;
            break;
        case CH_TRAILER:
            if (++d->trailer_bytes > MAX_TRAILER)
                goto bad;
            if (c == '\r') {
                d->state = CH_END_LF;
            } else if (is_tchar((unsigned char)c)) {
                d->state = CH_TRAILER_LINE;
            } else {
                goto bad;                   /* obs-fold or junk */
            }
            break;
        case CH_TRAILER_LINE:
            if (++d->trailer_bytes > MAX_TRAILER)
                goto bad;
            if (c == '\r')
                d->state = CH_TRAILER_LF;
            else if (!is_value_char((unsigned char)c))
                goto bad;
            break;
        case CH_TRAILER_LF:
            if (c != '\n')
                goto bad;
            d->state = CH_TRAILER;
            break;
        case CH_END_LF:
            if (c != '\n')
                goto bad;
            d->state = CH_DONE;
            return (ssize_t)(i + 1);
        case CH_DONE:
            return (ssize_t)i;              /* bytes after the body are not ours */
        default:
            goto bad;
        }
        i++;
    }
    return (ssize_t)i;

bad:
    d->state = CH_BAD;
    return ZC_CHUNKED_BAD;
}

void zc_chunked_consumed_data(struct zc_chunked *d, uint64_t n)
{
    if (d->state != CH_DATA || n > d->data_left)
        return;
    d->data_left -= n;
    d->body_bytes += n;
    if (!d->data_left)
        d->state = CH_DATA_CR;
}

bool zc_chunked_done(const struct zc_chunked *d)
{
    return d->state == CH_DONE;
}
