/* mime.c - extension -> Content-Type table: one allocation for the file's
 * text, one for the sorted entries, one for the charset-suffixed types. */
#include "serve/mime.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16u << 20)
#define MAX_EXT 32                      /* longer "extensions" are not looked up */
#define CHARSET "; charset=utf-8"

struct mime_entry {
    const char *ext;                    /* lower case, not NUL-terminated */
    size_t ext_len;
    const char *type;                   /* NUL-terminated */
    size_t order;                       /* position in the file: first wins */
};

struct zc_mime {
    struct mime_entry *v;
    size_t n;
    char *text;                         /* the file, tokens NUL-terminated in place */
    char *types;                        /* "text/...; charset=utf-8" strings */
    char *default_type;                 /* --default-type, or NULL */
};

/* Sorted by extension (byte order of the lower-case names). */
static const struct mime_entry builtin[] = {
#define E(ext, type) { ext, sizeof(ext) - 1, type, 0 }
    E("7z", "application/x-7z-compressed"),
    E("avif", "image/avif"),
    E("bmp", "image/bmp"),
    E("css", "text/css" CHARSET),
    E("csv", "text/csv" CHARSET),
    E("gif", "image/gif"),
    E("gz", "application/gzip"),
    E("htm", "text/html" CHARSET),
    E("html", "text/html" CHARSET),
    E("ico", "image/vnd.microsoft.icon"),
    E("jpeg", "image/jpeg"),
    E("jpg", "image/jpeg"),
    E("js", "text/javascript" CHARSET),
    E("json", "application/json"),
    E("md", "text/markdown" CHARSET),
    E("mjs", "text/javascript" CHARSET),
    E("mp3", "audio/mpeg"),
    E("mp4", "video/mp4"),
    E("ogg", "audio/ogg"),
    E("otf", "font/otf"),
    E("pdf", "application/pdf"),
    E("png", "image/png"),
    E("svg", "image/svg+xml"),
    E("tar", "application/x-tar"),
    E("ttf", "font/ttf"),
    E("txt", "text/plain" CHARSET),
    E("wasm", "application/wasm"),
    E("webm", "video/webm"),
    E("webp", "image/webp"),
    E("woff", "font/woff"),
    E("woff2", "font/woff2"),
    E("xml", "application/xml"),
    E("xz", "application/x-xz"),
    E("zip", "application/zip"),
    E("zst", "application/zstd"),
#undef E
};

static int cmp_ext(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);

    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static int cmp_entry(const void *pa, const void *pb)
{
    const struct mime_entry *a = pa, *b = pb;
    int c = cmp_ext(a->ext, a->ext_len, b->ext, b->ext_len);

    if (c)
        return c;
    return a->order < b->order ? -1 : a->order > b->order;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c | 0x20) : c;
}

/* RFC 9110 5.6.2 token characters: what a media type and subtype are made of. */
static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "token/token", the only form a table line's type may have. */
static bool is_media_type(const char *s, size_t len)
{
    size_t i = 0, slash;

    while (i < len && is_tchar(s[i]))
        i++;
    if (i == 0 || i == len || s[i] != '/')
        return false;
    slash = i++;
    while (i < len && is_tchar(s[i]))
        i++;
    return i == len && i > slash + 1;
}

/* Read a whole regular file into a NUL-terminated buffer.
 * Return: 0 with *buf malloc'ed, or -errno. */
static int read_file(const char *path, char **buf, size_t *len)
{
    struct stat st;
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC), ret = 0;

    *buf = NULL;
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        ret = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
        goto out;
    }
    if (st.st_size > MAX_FILE) {
        ret = -EFBIG;
        goto out;
    }
    *buf = malloc((size_t)st.st_size + 1);
    if (!*buf) {
        ret = -ENOMEM;
        goto out;
    }
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, *buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            ret = -errno;
            free(*buf);
            *buf = NULL;
            goto out;
        }
        if (n == 0)
            break;                      /* shrank under us: use what we got */
        got += (size_t)n;
    }
    (*buf)[got] = '\0';
    *len = got;
out:
    close(fd);
    return ret;
}

/* One pass over the text. With @v NULL it only counts extensions and the
 * bytes the charset-suffixed types need; otherwise it fills @v and @types
 * and terminates tokens in place. */
static size_t scan(char *text, size_t len, struct mime_entry *v, char *types,
                   size_t *types_len)
{
    size_t n = 0, tl = 0, i = 0;

    while (i < len) {
        size_t line_end = i, type_start, type_end;
        const char *type;
        bool text_type;

        while (line_end < len && text[line_end] != '\n')
            line_end++;
        while (i < line_end && is_space(text[i]))
            i++;
        if (i == line_end || text[i] == '#') {
            i = line_end + 1;
            continue;
        }
        type_start = i;
        while (i < line_end && !is_space(text[i]))
            i++;
        type_end = i;
        if (!is_media_type(text + type_start, type_end - type_start)) {
            i = line_end + 1;           /* not a type: skip the line */
            continue;
        }
        text_type = type_end - type_start > 5 && !memcmp(text + type_start, "text/", 5);
        type = text + type_start;
        if (v) {
            if (text_type) {
                memcpy(types + tl, text + type_start, type_end - type_start);
                memcpy(types + tl + (type_end - type_start), CHARSET, sizeof(CHARSET));
                type = types + tl;
            }
        }
        if (text_type)
            tl += type_end - type_start + sizeof(CHARSET);

        for (;;) {
            size_t e;

            while (i < line_end && is_space(text[i]))
                i++;
            if (i == line_end)
                break;
            e = i;
            while (i < line_end && !is_space(text[i]))
                i++;
            if (v) {
                for (size_t k = e; k < i; k++)
                    text[k] = lower(text[k]);
                v[n].ext = text + e;
                v[n].ext_len = i - e;
                v[n].type = type;
                v[n].order = n;
            }
            n++;
        }
        /* Terminate the type in place only now: the byte after it (a space
         * or the line's '\n') was a separator for the extension scan. */
        if (v && !text_type)
            text[type_end] = '\0';
        i = line_end + 1;
    }
    *types_len = tl;
    return n;
}

/* Build @m's entries from @text (owned by @m from now on, NUL-terminated at
 * @len). Return: 0, -ENODATA (no extension) or -ENOMEM. */
static int build_table(struct zc_mime *m, char *text, size_t len)
{
    size_t n, types_len, w = 0;

    m->text = text;
    n = scan(m->text, len, NULL, NULL, &types_len);
    if (n == 0)
        return -ENODATA;
    m->v = malloc(n * sizeof(*m->v));
    m->types = malloc(types_len ? types_len : 1);
    if (!m->v || !m->types)
        return -ENOMEM;
    scan(m->text, len, m->v, m->types, &types_len);
    qsort(m->v, n, sizeof(*m->v), cmp_entry);
    /* Keep the first occurrence of each extension (sorted by order within
     * equal extensions), dropping the ones a lookup could never choose. */
    for (size_t i = 0; i < n; i++)
        if (w == 0 || cmp_ext(m->v[w - 1].ext, m->v[w - 1].ext_len, m->v[i].ext,
                              m->v[i].ext_len) != 0)
            m->v[w++] = m->v[i];
    m->n = w;
    return 0;
}

int zc_mime_parse(struct zc_mime **out, const char *text, size_t len)
{
    struct zc_mime *m = calloc(1, sizeof(*m));
    char *copy = malloc(len + 1);
    int ret;

    *out = NULL;
    if (!m || !copy) {
        free(m);
        free(copy);
        return -ENOMEM;
    }
    memcpy(copy, text, len);
    copy[len] = '\0';
    ret = build_table(m, copy, len);
    if (ret < 0) {
        zc_mime_free(m);
        return ret;
    }
    *out = m;
    return 0;
}

int zc_mime_load(struct zc_mime **out, const char *path)
{
    struct zc_mime *m = calloc(1, sizeof(*m));
    char *text;
    size_t len = 0;
    int ret;

    *out = NULL;
    if (!m)
        return -ENOMEM;
    ret = read_file(path ? path : "/etc/mime.types", &text, &len);
    if (ret == 0)
        ret = build_table(m, text, len);
    if (ret == -ENOMEM || (ret < 0 && path)) {
        zc_mime_free(m);
        return ret;
    }
    if (ret < 0) {
        /* No usable /etc/mime.types: lookups use builtin[]. */
        free(m->text);
        free(m->v);
        free(m->types);
        *m = (struct zc_mime){ 0 };
    }
    *out = m;
    return 0;
}

int zc_mime_set_default(struct zc_mime *m, const char *type)
{
    const char *semi = strchr(type, ';');
    size_t base = semi ? (size_t)(semi - type) : strlen(type);
    bool text_type;
    char *copy;

    while (base > 0 && (type[base - 1] == ' ' || type[base - 1] == '\t'))
        base--;
    if (!is_media_type(type, base))
        return -EINVAL;
    /* Parameters go into a header verbatim: no control characters (a CR or
     * LF would split the response). */
    for (const char *p = type; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
            return -EINVAL;
    text_type = base > 5 && !strncasecmp(type, "text/", 5) && !semi;
    copy = malloc(strlen(type) + (text_type ? sizeof(CHARSET) : 1));
    if (!copy)
        return -ENOMEM;
    strcpy(copy, type);
    if (text_type)
        strcat(copy, CHARSET);
    free(m->default_type);
    m->default_type = copy;
    return 0;
}

void zc_mime_free(struct zc_mime *m)
{
    if (!m)
        return;
    free(m->v);
    free(m->text);
    free(m->types);
    free(m->default_type);
    free(m);
}

const char *zc_mime_lookup(const struct zc_mime *m, const char *path, size_t len)
{
    const struct mime_entry *v = builtin;
    size_t n = sizeof(builtin) / sizeof(builtin[0]), lo = 0, hi, dot = len;
    const char *dflt = m && m->default_type ? m->default_type : ZC_MIME_DEFAULT;
    char ext[MAX_EXT];
    size_t ext_len;

    if (m && m->v) {
        v = m->v;
        n = m->n;
    }
    /* The last '.' of the last component, not its first byte (dotfiles). */
    for (size_t i = len; i > 0; i--) {
        if (path[i - 1] == '/')
            break;
        if (path[i - 1] == '.') {
            dot = i - 1;
            break;
        }
    }
    if (dot == len || dot == 0 || path[dot - 1] == '/')
        return dflt;
    ext_len = len - dot - 1;
    if (ext_len == 0 || ext_len > MAX_EXT)
        return dflt;
    for (size_t i = 0; i < ext_len; i++)
        ext[i] = lower(path[dot + 1 + i]);

    hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_ext(ext, ext_len, v[mid].ext, v[mid].ext_len);

        if (c == 0)
            return v[mid].type;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return dflt;
}
