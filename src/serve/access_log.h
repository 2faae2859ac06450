/* access_log.h - per-worker access log in the combined format, buffered:
 * a line is appended to the worker's buffer and the buffer is written with
 * one write(2) when it fills or at the latest a second later. Each worker
 * owns its fd (O_APPEND), so workers never share a lock or a buffer. */
#ifndef ZC_SERVE_ACCESS_LOG_H
#define ZC_SERVE_ACCESS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define ZC_ACCESS_LOG_BUF (64 * 1024)

struct zc_access_log {
    int fd;                         /* -1: logging off */
    bool owned;                     /* opened by us (not stdout) */
    const char *path;               /* NULL: off; "-": stdout */
    char *buf;
    size_t len;
    time_t stamp_sec;               /* second the cached stamp describes */
    char stamp[40];                 /* "22/Nov/2026:00:30:13 +0000" */
};

struct zc_access_entry {
    const struct sockaddr_storage *peer;
    const char *method, *target;    /* target may be NULL (unparsable request) */
    size_t method_len, target_len;
    int version_minor;              /* -1: no version known */
    int status;
    uint64_t body_bytes;
    const char *referer, *user_agent;
    size_t referer_len, user_agent_len;
};

/* zc_access_log_open - @path NULL or "off": no log; "-": stdout; else a file
 * opened O_WRONLY|O_APPEND|O_CREAT 0644. Return: 0 or -errno. */
int zc_access_log_open(struct zc_access_log *log, const char *path);

/* zc_access_log_write - append one line (flushing first when full). */
void zc_access_log_write(struct zc_access_log *log, time_t now,
                         const struct zc_access_entry *e);

/* zc_access_log_flush - write the buffered lines. */
void zc_access_log_flush(struct zc_access_log *log);

/* zc_access_log_reopen - flush, then open the path again (after rotation).
 * Return: 0, or -errno with the old fd kept. */
int zc_access_log_reopen(struct zc_access_log *log);

void zc_access_log_close(struct zc_access_log *log);

#endif /* ZC_SERVE_ACCESS_LOG_H */
