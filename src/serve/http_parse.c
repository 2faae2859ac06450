/* http_parse.c - strict HTTP/1.x request-head parser (RFC 9110/9112).
 *
 * One forward pass over the buffer with a byte-class table; no strlen, no
 * strtol, no allocation. The parser is stateless: the server calls it again
 * on the whole buffer after each read, like picohttpparser. Each error is
 * returned as soon as the bytes proving it are in the buffer, so a client
 * cannot keep a bad request open by never finishing it. */
#include "serve/http_parse.h"

#include <arpa/inet.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <limits.h>
#include <stdbool.h>
#include <string.h>

enum {
    C_TCHAR = 1,                    /* token character (RFC 9110 5.6.2) */
    C_VCHAR = 2,                    /* VCHAR or obs-text: field-vchar, target */
    C_WS = 4,                       /* SP or HTAB */
    C_REGNAME = 8,                  /* unreserved / sub-delims / '%' */
    C_DIGIT = 16,
    C_HEX = 32,
};

#define V C_VCHAR
#define TV (C_TCHAR | C_VCHAR)
#define TVR (C_TCHAR | C_VCHAR | C_REGNAME)
#define VR (C_VCHAR | C_REGNAME)

/* Disjoint GNU range designators (gnu11), in byte order. */
static const unsigned char cls[256] = {
    ['\t'] = C_WS, [' '] = C_WS,
    ['!'] = TVR, ['"'] = V, ['#'] = TV, ['$' ... '\''] = TVR,
    ['(' ... ')'] = VR, ['*' ... '+'] = TVR, [','] = VR, ['-' ... '.'] = TVR,
    ['/'] = V, ['0' ... '9'] = TVR | C_DIGIT | C_HEX, [':'] = V, [';'] = VR,
    ['<'] = V, ['='] = VR, ['>' ... '@'] = V,
    ['A' ... 'F'] = TVR | C_HEX, ['G' ... 'Z'] = TVR, ['[' ... ']'] = V,
    ['^'] = TV, ['_'] = TVR, ['`'] = TV,
    ['a' ... 'f'] = TVR | C_HEX, ['g' ... 'z'] = TVR,
    ['{'] = V, ['|'] = TV, ['}'] = V, ['~'] = TVR,
    [0x80 ... 0xff] = V,
};

#undef V
#undef TV
#undef TVR
#undef VR

/* The first byte at or after @p that is below @lo or DEL (0x7f), except
 * that HTAB passes when @lo is 0x20; @end if there is none. With @lo 0x21
 * it skips a request-target (VCHAR / obs-text), with 0x20 a field value
 * (VCHAR / obs-text / SP / HTAB). Values and targets are most of a head's
 * bytes, so SSE2 checks 16 of them per step; it never loads past @end. */
static const unsigned char *skip_bytes(const unsigned char *p,
                                       const unsigned char *end,
                                       unsigned char lo)
{
#ifdef __SSE2__
    /* Unsigned "x < lo" as a signed compare after flipping the top bit. */
    const __m128i flip = _mm_set1_epi8((char)0x80);
    const __m128i lim = _mm_set1_epi8((char)(lo ^ 0x80));
    const __m128i del = _mm_set1_epi8(0x7f);

    for (;;) {
        while (end - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i bad = _mm_or_si128(_mm_cmplt_epi8(_mm_xor_si128(x, flip), lim),
                                       _mm_cmpeq_epi8(x, del));
            unsigned mask = (unsigned)_mm_movemask_epi8(bad);

            if (mask) {
                p += __builtin_ctz(mask);
                break;
            }
            p += 16;
        }
        if (lo == 0x20 && p < end && *p == '\t')
            p++;                        /* HTAB inside a value: keep going */
        else
            break;
    }
#endif
    if (lo == 0x20) {
        while (p < end && (cls[*p] & (C_VCHAR | C_WS)))
            p++;
    } else {
        while (p < end && (cls[*p] & C_VCHAR))
            p++;
    }
    return p;
}

/* Field names we act on are compared case-insensitively by OR-ing 0x20:
 * for a token character that maps exactly 'A'-'Z' to 'a'-'z' and leaves
 * '-' and digits alone (the only other byte that ORs to '-' is CR, which
 * is never inside a name). @lower is lower case. */
static bool name_eq(const unsigned char *n, const char *lower, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((n[i] | 0x20) != (unsigned char)lower[i])
            return false;
    return true;
}

static enum zc_http_method method_from(const unsigned char *m, size_t len)
{
    switch (len) {
    case 3:
        if (!memcmp(m, "GET", 3))
            return ZC_HTTP_GET;
        if (!memcmp(m, "PUT", 3))
            return ZC_HTTP_PUT;
        break;
    case 4:
        if (!memcmp(m, "HEAD", 4))
            return ZC_HTTP_HEAD;
        if (!memcmp(m, "POST", 4))
            return ZC_HTTP_POST;
        break;
    case 5:
        if (!memcmp(m, "PATCH", 5))
            return ZC_HTTP_PATCH;
        if (!memcmp(m, "TRACE", 5))
            return ZC_HTTP_TRACE;
        break;
    case 6:
        if (!memcmp(m, "DELETE", 6))
            return ZC_HTTP_DELETE;
        break;
    case 7:
        if (!memcmp(m, "OPTIONS", 7))
            return ZC_HTTP_OPTIONS;
        if (!memcmp(m, "CONNECT", 7))
            return ZC_HTTP_CONNECT;
        break;
    }
    return ZC_HTTP_OTHER;
}

const char *zc_http_method_name(enum zc_http_method m)
{
    static const char *const names[] = {
        [ZC_HTTP_GET] = "GET", [ZC_HTTP_HEAD] = "HEAD", [ZC_HTTP_PUT] = "PUT",
        [ZC_HTTP_POST] = "POST", [ZC_HTTP_DELETE] = "DELETE",
        [ZC_HTTP_OPTIONS] = "OPTIONS", [ZC_HTTP_PATCH] = "PATCH",
        [ZC_HTTP_TRACE] = "TRACE", [ZC_HTTP_CONNECT] = "CONNECT",
    };

    if ((unsigned)m >= sizeof(names) / sizeof(names[0]))
        return "";
    return names[m];
}

/* IP-literal = "[" ( IPv6address / IPvFuture ) "]" without the brackets. */
static bool ip_literal_valid(const unsigned char *p, size_t len)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char addr[16];
    size_t i;

    if (len >= 2 && (p[0] | 0x20) == 'v') {
        /* IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ) */
        for (i = 1; i < len && (cls[p[i]] & C_HEX); i++)
            ;
        if (i == 1 || i >= len - 1 || p[i] != '.')
            return false;
        for (i++; i < len; i++)
            if (p[i] == '%' || !((cls[p[i]] & C_REGNAME) || p[i] == ':'))
                return false;
        return true;
    }
    /* inet_pton is allocation- and locale-free; it only needs a C string. */
    if (len == 0 || len >= sizeof(tmp))
        return false;
    for (i = 0; i < len; i++)
        if (!(cls[p[i]] & C_HEX) && p[i] != ':' && p[i] != '.')
            return false;
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET6, tmp, addr) == 1;
}

/* authority = host [ ":" port ] with host = IP-literal / IPv4address /
 * reg-name (RFC 3986 3.2.2; IPv4address is a subset of reg-name). No
 * userinfo (RFC 9110 4.2.4). An empty host is allowed here (Host: with an
 * empty value is valid); callers that need a host check the length. */
static bool authority_valid(const unsigned char *p, size_t len,
                            size_t *host_len)
{
    size_t i = 0, port_digits = 0;
    unsigned port = 0;

    if (len > 0 && p[0] == '[') {
        const unsigned char *close = memchr(p, ']', len);

        if (!close || !ip_literal_valid(p + 1, (size_t)(close - p) - 1))
            return false;
        i = (size_t)(close - p) + 1;
    } else {
        for (; i < len && p[i] != ':'; i++) {
            if (!(cls[p[i]] & C_REGNAME))
                return false;
            if (p[i] == '%' && (len - i < 3 || !(cls[p[i + 1]] & C_HEX) ||
                                !(cls[p[i + 2]] & C_HEX)))
                return false;
        }
    }
    *host_len = i;
    if (i == len)
        return true;
    if (p[i] != ':')
        return false;
    for (i++; i < len; i++) {
        if (!(cls[p[i]] & C_DIGIT) || ++port_digits > 5)
            return false;
        port = port * 10 + (unsigned)(p[i] - '0');
    }
    return port <= 65535;
}

/* Connection = #connection-option: only "close" and "keep-alive" matter;
 * other options (e.g. "Upgrade") are ignored. */
static void parse_connection(struct zc_http_req *req, const unsigned char *v,
                             size_t len, bool *keep_alive_seen)
{
    size_t i = 0;

    while (i < len) {
        size_t s, e;

        while (i < len && (v[i] == ',' || (cls[v[i]] & C_WS)))
            i++;
        s = i;
        while (i < len && v[i] != ',' && !(cls[v[i]] & C_WS))
            i++;
        e = i;
        if (e - s == 5 && name_eq(v + s, "close", 5))
            req->has_connection_close = 1;
        else if (e - s == 10 && name_eq(v + s, "keep-alive", 10))
            *keep_alive_seen = true;
    }
}

static int parse_content_length(struct zc_http_req *req,
                                const unsigned char *v, size_t len)
{
    int64_t n = 0;

    if (req->content_length >= 0 || len == 0)
        return -400;              /* duplicates are 400 even when equal */
    for (size_t i = 0; i < len; i++) {
        if (!(cls[v[i]] & C_DIGIT))
            return -400;
        int d = v[i] - '0';

        if (n > (INT64_MAX - d) / 10)
            return -400;          /* would overflow: nothing that big is real */
        n = n * 10 + d;
    }
    req->content_length = n;
    return 0;
}

/* quoted-string (RFC 9110 5.6.4) starting at v[*i] == '"'; advances *i past
 * the closing quote. The value already holds only VCHAR, obs-text, SP and
 * HTAB, so every byte but '"' and '\\' is qdtext. */
static bool skip_quoted(const unsigned char *v, size_t len, size_t *i)
{
    size_t j = *i + 1;

    while (j < len && v[j] != '"') {
        if (v[j] == '\\' && ++j == len)
            return false;
        j++;
    }
    if (j == len)
        return false;
    *i = j + 1;
    return true;
}

/* *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ) after a
 * transfer-coding's name (RFC 9112 7). Return: false when malformed. */
static bool skip_parameters(const unsigned char *v, size_t len, size_t *i,
                            bool *any)
{
    size_t j = *i;

    for (;;) {
        size_t s;

        while (j < len && (cls[v[j]] & C_WS))
            j++;
        if (j == len || v[j] != ';')
            break;
        *any = true;
        for (j++; j < len && (cls[v[j]] & C_WS); j++)
            ;
        for (s = j; j < len && (cls[v[j]] & C_TCHAR); j++)
            ;
        if (j == s)
            return false;
        while (j < len && (cls[v[j]] & C_WS))
            j++;
        if (j == len || v[j] != '=')
            return false;
        for (j++; j < len && (cls[v[j]] & C_WS); j++)
            ;
        if (j < len && v[j] == '"') {
            if (!skip_quoted(v, len, &j))
                return false;
        } else {
            for (s = j; j < len && (cls[v[j]] & C_TCHAR); j++)
                ;
            if (j == s)
                return false;
        }
    }
    *i = j;
    return true;
}

/* Transfer-Encoding = #transfer-coding, the codings in the order they were
 * applied (RFC 9112 6.1). The body's length is only known when chunked is
 * the final coding, applied once (6.3 item 4): anything else is -400, as is
 * a malformed or empty list. With chunked final, any coding before it is
 * one this server does not implement (it decodes none): -501 (6.1).
 * Return: 0 for exactly "chunked", -400 or -501. */
static int check_transfer_encoding(const unsigned char *v, size_t len)
{
    bool chunked = false, other = false;
    size_t i = 0;

    while (i < len) {
        bool params = false, is_chunked;
        size_t s;

        /* Empty list elements and OWS around commas are allowed (5.6.1). */
        if (v[i] == ',' || (cls[v[i]] & C_WS)) {
            i++;
            continue;
        }
        for (s = i; i < len && (cls[v[i]] & C_TCHAR); i++)
            ;
        is_chunked = i - s == 7 && name_eq(v + s, "chunked", 7);
        if (i == s || !skip_parameters(v, len, &i, &params) ||
            (i < len && v[i] != ','))
            return -400;
        if (chunked)
            return -400;                /* a coding after chunked, or chunked twice */
        if (is_chunked && params)
            return -400;                /* chunked has no parameters */
        if (is_chunked)
            chunked = true;
        else
            other = true;
    }
    if (!chunked)
        return -400;
    return other ? -501 : 0;
}

/* Expect = #expectation (RFC 9110 10.1.1): 100-continue is the only one
 * defined. An empty list expects nothing.
 * Return: 0 with *cont set when 100-continue is there, or -417 for any
 * other expectation. */
static int check_expect(const unsigned char *v, size_t len, bool *cont)
{
    size_t i = 0;

    *cont = false;
    while (i < len) {
        size_t s;

        if (v[i] == ',' || (cls[v[i]] & C_WS)) {
            i++;
            continue;
        }
        for (s = i; i < len && v[i] != ',' && !(cls[v[i]] & C_WS); i++)
            ;
        /* name_eq is exact here too: no byte allowed in a value ORs to a
         * digit or '-' except that digit or '-' itself. */
        if (i - s != 12 || !name_eq(v + s, "100-continue", 12))
            return -417;
        *cont = true;
    }
    return 0;
}

static int set_once(struct zc_str *s, const unsigned char *v, size_t len)
{
    if (s->p)
        return -400;
    s->p = (const char *)v;
    s->len = len;
    return 0;
}

/* Dispatch on the name's length first, so most fields cost one switch and
 * at most one or two short comparisons. */
static int on_field(struct zc_http_req *req, const unsigned char *n,
                    size_t nlen, const unsigned char *v, size_t vlen,
                    bool *keep_alive_seen)
{
    switch (nlen) {
    case 4:
        if (name_eq(n, "host", 4)) {
            size_t host_len;

            if (!authority_valid(v, vlen, &host_len))
                return -400;
            return set_once(&req->host, v, vlen);
        }
        break;
    case 5:
        if (name_eq(n, "range", 5))
            return set_once(&req->range, v, vlen);
        break;
    case 6:
        if (name_eq(n, "expect", 6))
            return set_once(&req->expect, v, vlen);
        break;
    case 7:
        if (name_eq(n, "referer", 7))
            return set_once(&req->referer, v, vlen);
        break;
    case 8:
        if (name_eq(n, "if-match", 8))
            return set_once(&req->if_match, v, vlen);
        if (name_eq(n, "if-range", 8))
            return set_once(&req->if_range, v, vlen);
        break;
    case 10:
        if (name_eq(n, "connection", 10)) {
            parse_connection(req, v, vlen, keep_alive_seen);
            return 0;
        }
        if (name_eq(n, "user-agent", 10))
            return set_once(&req->user_agent, v, vlen);
        break;
    case 13:
        if (name_eq(n, "if-none-match", 13))
            return set_once(&req->if_none_match, v, vlen);
        break;
    case 14:
        if (name_eq(n, "content-length", 14))
            return parse_content_length(req, v, vlen);
        break;
    case 15:
        if (name_eq(n, "accept-encoding", 15)) {
            if (req->accept_encoding.p)
                req->accept_encoding_repeated = 1;
            else
                req->accept_encoding = (struct zc_str){ (const char *)v, vlen };
            return 0;
        }
        break;
    case 17:
        if (name_eq(n, "transfer-encoding", 17))
            return set_once(&req->transfer_encoding, v, vlen);
        if (name_eq(n, "if-modified-since", 17))
            return set_once(&req->if_modified_since, v, vlen);
        break;
    case 19:
        if (name_eq(n, "if-unmodified-since", 19))
            return set_once(&req->if_unmodified_since, v, vlen);
        break;
    }
    return 0;
}

/* Classify the request-target once the request line is complete. */
static int check_target(struct zc_http_req *req)
{
    const unsigned char *t = (const unsigned char *)req->target.p;
    size_t len = req->target.len, i, host_len;

    if (t[0] == '/') {
        req->target_form = ZC_HTTP_TARGET_ORIGIN;
        req->path = req->target;
        return 0;
    }
    if (len == 1 && t[0] == '*') {
        if (req->method != ZC_HTTP_OPTIONS)
            return -400;
        req->target_form = ZC_HTTP_TARGET_ASTERISK;
        req->path = req->target;
        return 0;
    }
    if (req->method == ZC_HTTP_CONNECT) {
        if (!authority_valid(t, len, &host_len) || host_len == 0)
            return -400;
        req->target_form = ZC_HTTP_TARGET_AUTHORITY;
        req->authority = req->target;
        return 0;
    }
    /* absolute-form: only the http and https schemes mean anything here. */
    if (len >= 7 && name_eq(t, "http://", 7))
        i = 7;
    else if (len >= 8 && name_eq(t, "https://", 8))
        i = 8;
    else
        return -400;
    {
        size_t a = i;

        while (i < len && t[i] != '/' && t[i] != '?' && t[i] != '#')
            i++;
        /* RFC 9110 4.2.1: an http URI with an empty host is invalid. */
        if (!authority_valid(t + a, i - a, &host_len) || host_len == 0)
            return -400;
        req->authority.p = (const char *)t + a;
        req->authority.len = i - a;
    }
    req->target_form = ZC_HTTP_TARGET_ABSOLUTE;
    if (i < len && t[i] == '/') {
        req->path.p = (const char *)t + i;
        req->path.len = len - i;
    } else {
        req->path.p = "/";
        req->path.len = 1;
    }
    return 0;
}

int zc_http_parse_request(const char *buf, size_t len,
                          const struct zc_http_limits *lim,
                          struct zc_http_req *req)
{
    size_t max_head = lim && lim->max_head ? lim->max_head
                                           : ZC_HTTP_DEFAULT_MAX_HEAD;
    size_t max_target = lim && lim->max_target ? lim->max_target
                                               : ZC_HTTP_DEFAULT_MAX_TARGET;
    unsigned max_fields = lim && lim->max_fields ? lim->max_fields
                                                 : ZC_HTTP_DEFAULT_MAX_FIELDS;
    const unsigned char *start = (const unsigned char *)buf, *p = start, *end;
    const unsigned char *tok;
    bool keep_alive_seen = false;
    int more, ret;

    /* The return value is an int: keep every consumed count representable. */
    if (max_head > INT_MAX)
        max_head = INT_MAX;
    /* Scanning stops at max_head: running out of bytes there means the head
     * is too large (431), before it only that it is not complete yet. */
    end = start + (len < max_head ? len : max_head);
    more = len > max_head ? -431 : ZC_HTTP_PARTIAL;

    memset(req, 0, sizeof(*req));
    req->content_length = -1;

    /* RFC 9112 2.2: ignore empty lines before the request line. */
    while (p < end && *p == '\r') {
        if (p + 1 == end)
            return more;
        if (p[1] != '\n')
            return -400;
        p += 2;
    }

    /* method SP */
    tok = p;
    while (p < end && (cls[*p] & C_TCHAR))
        p++;
    if (p == end)
        return more;
    if (p == tok || *p != ' ')
        return -400;
    req->method_str.p = (const char *)tok;
    req->method_str.len = (size_t)(p - tok);
    req->method = method_from(tok, (size_t)(p - tok));
    p++;

    /* request-target SP */
    tok = p;
    p = skip_bytes(p, end, 0x21);
    if ((size_t)(p - tok) > max_target)
        return -414;
    if (p == end)
        return more;
    if (p == tok || *p != ' ')
        return -400;
    req->target.p = (const char *)tok;
    req->target.len = (size_t)(p - tok);
    p++;

    /* HTTP-version CRLF, checked byte by byte so a short buffer that is
     * still a valid prefix is PARTIAL, and a wrong byte is 400 at once. */
    if (end - p >= 10 && !memcmp(p, "HTTP/1.1\r\n", 10)) {
        req->version_minor = 1;         /* nearly every request */
        p += 10;
    } else {
        static const char shape[] = "HTTP/D.D\r\n";

        for (size_t i = 0; i < sizeof(shape) - 1; i++) {
            if (p + i == end)
                return more;
            if (shape[i] == 'D' ? !(cls[p[i]] & C_DIGIT) : p[i] != shape[i])
                return -400;
        }
        if (p[5] != '1')
            return -505;
        req->version_minor = p[7] == '0' ? 0 : 1;
        p += sizeof(shape) - 1;
    }

    ret = check_target(req);
    if (ret)
        return ret;

    /* field-line CRLF ... CRLF */
    for (;;) {
        const unsigned char *v, *v_end;
        size_t name_len;

        if (p == end)
            return more;
        if (*p == '\r') {
            if (p + 1 == end)
                return more;
            if (p[1] != '\n')
                return -400;
            p += 2;
            break;
        }
        /* A line starting with SP/HTAB is obs-fold (or whitespace before
         * the first field): both are 400, as is a bare LF, a control byte
         * or a line starting with ':'. */
        if (!(cls[*p] & C_TCHAR))
            return -400;
        if (++req->field_count > max_fields)
            return -431;
        tok = p;
        while (p < end && (cls[*p] & C_TCHAR))
            p++;
        if (p == end)
            return more;
        if (*p != ':')
            return -400;            /* space before colon, or no colon */
        name_len = (size_t)(p - tok);
        p++;
        while (p < end && (cls[*p] & C_WS))
            p++;
        v = p;
        p = skip_bytes(p, end, 0x20);
        for (v_end = p; v_end > v && (cls[v_end[-1]] & C_WS); v_end--)
            ;
        if (p == end)
            return more;
        if (*p != '\r')
            return -400;            /* bare LF, NUL or another control byte */
        if (p + 1 == end)
            return more;
        if (p[1] != '\n')
            return -400;
        ret = on_field(req, tok, name_len, v, (size_t)(v_end - v),
                       &keep_alive_seen);
        if (ret)
            return ret;
        p += 2;
    }

    /* Framing (RFC 9112 6) is decided here, before anyone looks at the
     * method: every error below closes the connection, so a body whose end
     * is uncertain is never read as the next request. */
    ret = 0;
    if (req->transfer_encoding.p) {
        /* 6.1: a 1.0 request with Transfer-Encoding has faulty framing (1.0
         * intermediaries do not know it); 6.3: both framings at once is how
         * requests are smuggled. */
        if (req->version_minor == 0 || req->content_length >= 0)
            return -400;
        ret = check_transfer_encoding((const unsigned char *)req->transfer_encoding.p,
                                      req->transfer_encoding.len);
        if (ret == -400)
            return ret;
    }
    if (req->version_minor == 1 && !req->host.p)
        return -400;
    if (ret)
        return ret;                     /* -501: a coding we do not decode */
    if (req->expect.p) {
        bool cont;

        ret = check_expect((const unsigned char *)req->expect.p, req->expect.len, &cont);
        if (ret)
            return ret;
        /* RFC 9110 10.1.1: a 1.0 client does not wait for 100; never send it. */
        req->expect_continue = cont && req->version_minor == 1;
    }
    if (req->has_connection_close)
        req->keep_alive = 0;
    else
        req->keep_alive = req->version_minor == 1 || keep_alive_seen;
    return (int)(p - start);
}
