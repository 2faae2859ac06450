/* url.c - see url.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/url.h"

static bool is_host_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
           (c >= 'A' && c <= 'Z') || c == '-' || c == '.' || c == '_';
}

/* Copy path + query from s[0, len) into u->path, dropping any fragment and
 * making sure it starts with '/'. */
static int set_path(struct zc_url *u, const char *s, size_t len)
{
    const char *hash = memchr(s, '#', len);
    size_t off = 0;

    if (hash)
        len = (size_t)(hash - s);
    for (size_t i = 0; i < len; i++)
        if (s[i] == '\0')
            return -EINVAL;
    if (len == 0 || s[0] != '/')
        u->path[off++] = '/';
    if (off + len >= sizeof(u->path))
        return -ENAMETOOLONG;
    memcpy(u->path + off, s, len);
    u->path[off + len] = '\0';
    return 0;
}

/* Parse "host[:port]" or "[v6][:port]" from s[0, len). */
static int parse_authority(const char *s, size_t len, struct zc_url *u)
{
    const char *host = s, *port = NULL;
    size_t host_len = len, port_len = 0;
    unsigned long p = 0;

    if (memchr(s, '@', len))
        return -EINVAL;                     /* userinfo: refused */
    u->ipv6 = false;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        struct in6_addr a;
        char tmp[64];

        if (!close)
            return -EINVAL;
        host = s + 1;
        host_len = (size_t)(close - host);
        if (host_len == 0 || host_len >= sizeof(tmp))
            return -EINVAL;
        memcpy(tmp, host, host_len);
        tmp[host_len] = '\0';
        if (inet_pton(AF_INET6, tmp, &a) != 1)
            return -EINVAL;
        u->ipv6 = true;
        if (close + 1 < s + len) {
            if (close[1] != ':')
                return -EINVAL;
            port = close + 2;
            port_len = (size_t)(s + len - port);
        }
    } else {
        const char *colon = memchr(s, ':', len);

        if (colon) {
            host_len = (size_t)(colon - s);
            port = colon + 1;
            port_len = (size_t)(s + len - port);
        }
        for (size_t i = 0; i < host_len; i++)
            if (!is_host_char(host[i]))
                return -EINVAL;
    }
    if (host_len == 0)
        return -EINVAL;
    if (host_len >= sizeof(u->host))
        return -ENAMETOOLONG;
    memcpy(u->host, host, host_len);
    u->host[host_len] = '\0';

    u->port = 80;
    if (port) {
        if (port_len == 0 || port_len > 5)
            return -EINVAL;
        for (size_t i = 0; i < port_len; i++) {
            if (port[i] < '0' || port[i] > '9')
                return -EINVAL;
            p = p * 10 + (unsigned long)(port[i] - '0');
        }
        if (p == 0 || p > 65535)
            return -EINVAL;
        u->port = (uint16_t)p;
    }
    return 0;
}

/* "http://" + authority + rest, from s[0, len) (not NUL-terminated). */
static int parse_absolute(const char *s, size_t len, struct zc_url *u)
{
    size_t auth_end = 0;
    int ret;

    if (len < 7 || strncasecmp(s, "http://", 7) != 0)
        return memchr(s, ':', len) ? -EPROTONOSUPPORT : -EINVAL;
    s += 7;
    len -= 7;
    while (auth_end < len && s[auth_end] != '/' && s[auth_end] != '?' &&
           s[auth_end] != '#')
        auth_end++;
    ret = parse_authority(s, auth_end, u);
    if (ret < 0)
        return ret;
    return set_path(u, s + auth_end, len - auth_end);
}

int zc_url_parse(const char *s, struct zc_url *u)
{
    char buf[ZC_URL_PATH_MAX * 2];
    int n;

    if (!s)
        return -EINVAL;
    if (strstr(s, "://"))
        return parse_absolute(s, strlen(s), u);
    /* "host:port/path" as curl and wget take it: http is implied. */
    n = snprintf(buf, sizeof(buf), "http://%s", s);
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -ENAMETOOLONG;
    return parse_absolute(buf, (size_t)n, u);
}

/* RFC 3986 5.2.4 remove_dot_segments on a path that starts with '/' (the
 * caller splits off the query). @path holds at most ZC_URL_PATH_MAX * 2 bytes. */
static void remove_dot_segments(char *path)
{
    char in_buf[ZC_URL_PATH_MAX * 2];
    char *in = in_buf, *out = path;

    snprintf(in_buf, sizeof(in_buf), "%s", path);
    while (*in) {
        if (!strncmp(in, "/./", 3)) {
            in += 2;
        } else if (!strcmp(in, "/.")) {
            in[1] = '\0';
        } else if (!strncmp(in, "/../", 4) || !strcmp(in, "/..")) {
            if (in[3] == '/')
                in += 3;
            else
                in[1] = '\0';
            while (out > path && *--out != '/')
                ;                           /* drop the last output segment */
        } else {
            do
                *out++ = *in++;
            while (*in && *in != '/');
        }
    }
    if (out == path)
        *out++ = '/';
    *out = '\0';
}

int zc_url_resolve(const struct zc_url *base, const char *ref, size_t ref_len,
                   struct zc_url *out)
{
    char buf[ZC_URL_PATH_MAX * 2];
    char *query;
    size_t n;
    int ret;

    if (memchr(ref, '\0', ref_len))
        return -EINVAL;
    if (ref_len >= 2 && ref[0] == '/' && ref[1] == '/') {
        n = (size_t)snprintf(buf, sizeof(buf), "http:%.*s", (int)ref_len, ref);
        if (n >= sizeof(buf))
            return -ENAMETOOLONG;
        return parse_absolute(buf, n, out);
    }
    /* A scheme is letters, digits, '+', '-', '.' before the first ':', and a
     * ':' after a '/', '?' or '#' is part of a relative path. */
    for (size_t i = 0; i < ref_len; i++) {
        char c = ref[i];

        if (c == ':' && i > 0)
            return parse_absolute(ref, ref_len, out);
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))))
            break;
    }

    if (ref_len > 0 && ref[0] == '/') {
        n = (size_t)snprintf(buf, sizeof(buf), "%.*s", (int)ref_len, ref);
    } else if (ref_len > 0 && ref[0] == '?') {
        size_t plen = strcspn(base->path, "?");

        n = (size_t)snprintf(buf, sizeof(buf), "%.*s%.*s", (int)plen, base->path,
                             (int)ref_len, ref);
    } else if (ref_len == 0 || ref[0] == '#') {
        n = (size_t)snprintf(buf, sizeof(buf), "%s", base->path);
    } else {
        size_t plen = strcspn(base->path, "?");
        const char *slash = base->path;

        for (size_t i = 0; i < plen; i++)
            if (base->path[i] == '/')
                slash = base->path + i;
        n = (size_t)snprintf(buf, sizeof(buf), "%.*s/%.*s",
                             (int)(slash - base->path), base->path,
                             (int)ref_len, ref);
    }
    if (n >= sizeof(buf))
        return -ENAMETOOLONG;

    buf[strcspn(buf, "#")] = '\0';
    query = strchr(buf, '?');
    if (query) {
        /* Dot segments live in the path only; move the query aside. */
        char q[ZC_URL_PATH_MAX];
        size_t qlen = strlen(query), plen;

        if (qlen >= sizeof(q))
            return -ENAMETOOLONG;
        memcpy(q, query, qlen + 1);
        *query = '\0';
        remove_dot_segments(buf);
        plen = strlen(buf);
        if (plen + qlen >= sizeof(buf))
            return -ENAMETOOLONG;
        memcpy(buf + plen, q, qlen + 1);
    } else {
        remove_dot_segments(buf);
    }
    if (out != base)
        memcpy(out, base, sizeof(*out));
    ret = set_path(out, buf, strlen(buf));
    return ret;
}

int zc_url_request_target(const struct zc_url *u, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char unsafe[] = " \"<>\\^`{|}";
    size_t o = 0;

    for (const unsigned char *p = (const unsigned char *)u->path; *p; p++) {
        bool enc = *p < 0x21 || *p >= 0x7f || strchr(unsafe, *p);

        if (o + (enc ? 3 : 1) >= size)
            return -ENAMETOOLONG;
        if (enc) {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    if (o >= size)
        return -ENAMETOOLONG;
    out[o] = '\0';
    return (int)o;
}

int zc_url_host_header(const struct zc_url *u, char *out, size_t size)
{
    int n;

    if (u->port == 80)
        n = snprintf(out, size, u->ipv6 ? "[%s]" : "%s", u->host);
    else
        n = snprintf(out, size, u->ipv6 ? "[%s]:%u" : "%s:%u", u->host, u->port);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int zc_url_file_name(const struct zc_url *u, char *out, size_t size)
{
    size_t plen = strcspn(u->path, "?"), start = 0, o = 0;
    static const char fallback[] = "index.html";

    for (size_t i = 0; i < plen; i++)
        if (u->path[i] == '/')
            start = i + 1;
    for (size_t i = start; i < plen; i++) {
        char c = u->path[i];
        int hi, lo;

        if (c == '%' && i + 2 < plen && (hi = hex_digit(u->path[i + 1])) >= 0 &&
            (lo = hex_digit(u->path[i + 2])) >= 0) {
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '/' || c == '\0') {
            o = 0;
            break;
        }
        /* A CR, LF or escape sequence in a file name ends up on terminals
         * (ls, our own messages): the server does not get to write there. */
        if ((unsigned char)c < 0x20 || c == 0x7f)
            c = '_';
        if (o + 1 >= size)
            return -ENAMETOOLONG;
        out[o++] = c;
    }
    if (o + 1 > size)
        return -ENAMETOOLONG;
    out[o] = '\0';
    if (o == 0 || !strcmp(out, ".") || !strcmp(out, "..")) {
        if (size < sizeof(fallback))
            return -ENAMETOOLONG;
        memcpy(out, fallback, sizeof(fallback));
        return (int)sizeof(fallback) - 1;
    }
    return (int)o;
}
