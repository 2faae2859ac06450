/* access_log.c - combined-format access log, buffered per worker. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve/access_log.h"

static int open_path(const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

    return fd < 0 ? -errno : fd;
}

int zc_access_log_open(struct zc_access_log *log, const char *path)
{
    *log = (struct zc_access_log){ .fd = -1, .stamp_sec = -1 };
    if (!path || !strcmp(path, "off"))
        return 0;
    log->buf = malloc(ZC_ACCESS_LOG_BUF);
    if (!log->buf)
        return -ENOMEM;
    log->path = path;
    if (!strcmp(path, "-")) {
        log->fd = STDOUT_FILENO;
        return 0;
    }
    log->fd = open_path(path);
    if (log->fd < 0) {
        int ret = log->fd;

        free(log->buf);
        log->buf = NULL;
        log->fd = -1;
        return ret;
    }
    log->owned = true;
    return 0;
}

void zc_access_log_flush(struct zc_access_log *log)
{
    size_t off = 0;

    while (log->fd >= 0 && off < log->len) {
        ssize_t n = write(log->fd, log->buf + off, log->len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;                      /* a full disk loses lines, not the server */
        off += (size_t)n;
    }
    log->len = 0;
}

int zc_access_log_reopen(struct zc_access_log *log)
{
    int fd;

    zc_access_log_flush(log);
    if (!log->owned)
        return 0;
    fd = open_path(log->path);
    if (fd < 0)
        return fd;
    close(log->fd);
    log->fd = fd;
    return 0;
}

void zc_access_log_close(struct zc_access_log *log)
{
    zc_access_log_flush(log);
    if (log->owned)
        close(log->fd);
    free(log->buf);
    log->buf = NULL;
    log->fd = -1;
}

/* Quotes, backslashes and control bytes from the client are escaped as
 * \xHH so a line cannot be forged or broken (nginx does the same). */
static size_t put_escaped(char *dst, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    if (!s || n == 0) {
        dst[o++] = '-';
        return o;
    }
    if (n > max)
        n = max;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[ch >> 4];
            dst[o++] = hex[ch & 15];
        } else {
            dst[o++] = (char)ch;
        }
    }
    return o;
}

#define FIELD_MAX 2048                  /* bytes of a field kept before escaping */
#define LINE_MAX_BYTES (4 * FIELD_MAX * 4 + 256)

void zc_access_log_write(struct zc_access_log *log, time_t now,
                         const struct zc_access_entry *e)
{
    char host[INET6_ADDRSTRLEN] = "-";
    char *p;

    if (log->fd < 0)
        return;
    if (log->len + LINE_MAX_BYTES > ZC_ACCESS_LOG_BUF)
        zc_access_log_flush(log);
    if (now != log->stamp_sec) {
        struct tm tm;

        gmtime_r(&now, &tm);
        strftime(log->stamp, sizeof(log->stamp), "%d/%b/%Y:%H:%M:%S +0000", &tm);
        log->stamp_sec = now;
    }
    if (e->peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)e->peer)->sin_addr,
                  host, sizeof(host));
    else if (e->peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)e->peer)->sin6_addr,
                  host, sizeof(host));

    p = log->buf + log->len;
    p += sprintf(p, "%s - - [%s] \"", host, log->stamp);
    if (e->method) {
        p += put_escaped(p, e->method, e->method_len, 32);
        *p++ = ' ';
        p += put_escaped(p, e->target, e->target_len, FIELD_MAX);
        if (e->version_minor >= 0)
            p += sprintf(p, " HTTP/1.%d", e->version_minor);
    } else {
        *p++ = '-';
    }
    p += sprintf(p, "\" %d %llu \"", e->status, (unsigned long long)e->body_bytes);
    p += put_escaped(p, e->referer, e->referer_len, FIELD_MAX);
    p += sprintf(p, "\" \"");
    p += put_escaped(p, e->user_agent, e->user_agent_len, FIELD_MAX);
    *p++ = '"';
    *p++ = '\n';
    log->len = (size_t)(p - log->buf);
}
