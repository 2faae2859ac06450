/* url.c - percent-decoding, path checks and escaping for the server. */
#include "serve/url.h"

#include <errno.h>
#include <stdbool.h>

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

ssize_t zc_url_decode_path(const char *in, size_t len, char *out, size_t cap)
{
    size_t i = 0, o = 0;

    for (; i < len && in[i] != '?' && in[i] != '#'; i++) {
        unsigned char c = (unsigned char)in[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -EINVAL;
            hi = hex_value((unsigned char)in[i + 1]);
            lo = hex_value((unsigned char)in[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap)
            return -EINVAL;
        out[o++] = (char)c;
    }
    if (o >= cap)
        return -EINVAL;                  /* no room for the NUL (cap 0) */
    out[o] = '\0';
    return (ssize_t)o;
}

int zc_url_path_check(const char *path, size_t len)
{
    size_t seg = 0;                      /* start of the current segment */

    if (len == 0 || path[0] != '/')
        return -EINVAL;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || path[i] == '/') {
            if (i - seg == 2 && path[seg] == '.' && path[seg + 1] == '.')
                return -EINVAL;
            seg = i + 1;
        } else if (path[i] == '\\' || path[i] == '\0') {
            return -EINVAL;
        }
    }
    return 0;
}

/* Append @s (@n bytes) at *pos if it fits whole with room for a NUL; once
 * something did not fit, nothing more is written, so the output is
 * a clean prefix. *pos always advances: it measures the full length. */
static void emit(char *out, size_t cap, size_t *pos, size_t *written,
                 const char *s, size_t n)
{
    if (*written == *pos && *pos + n < cap) {
        for (size_t i = 0; i < n; i++)
            out[*pos + i] = s[i];
        *written += n;
    }
    *pos += n;
}

static void terminate(char *out, size_t cap, size_t written)
{
    if (cap > 0)
        out[written] = '\0';
}

size_t zc_html_escape(char *out, size_t cap, const char *in, size_t len)
{
    size_t pos = 0, written = 0;

    for (size_t i = 0; i < len; i++) {
        switch (in[i]) {
        case '&': emit(out, cap, &pos, &written, "&amp;", 5); break;
        case '<': emit(out, cap, &pos, &written, "&lt;", 4); break;
        case '>': emit(out, cap, &pos, &written, "&gt;", 4); break;
        case '"': emit(out, cap, &pos, &written, "&quot;", 6); break;
        case '\'': emit(out, cap, &pos, &written, "&#39;", 5); break;
        default: emit(out, cap, &pos, &written, in + i, 1); break;
        }
    }
    terminate(out, cap, written);
    return pos;
}

static bool is_unreserved_or_slash(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~' || c == '/';
}

size_t zc_url_encode_path(char *out, size_t cap, const char *in, size_t len)
{
    size_t pos = 0, written = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if (is_unreserved_or_slash(c)) {
            emit(out, cap, &pos, &written, in + i, 1);
        } else {
            char esc[3] = { '%', "0123456789ABCDEF"[c >> 4],
                            "0123456789ABCDEF"[c & 15] };

            emit(out, cap, &pos, &written, esc, 3);
        }
    }
    terminate(out, cap, written);
    return pos;
}
