/* log_verify.c - `zcopy log verify DIR [--repair]`: read every segment of a
 * data directory (length, magic, CRC-32C, offsets within and across
 * segments) and check every index entry against the batches it points at.
 * Read-only unless --repair, which runs the store's own recovery over every
 * segment first and then verifies the result. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_internal.h"
#include "logcmd/logcmd.h"

struct verify {
    int problems;
    const char *dir;
};

__attribute__((format(printf, 2, 3)))
static void problem(struct verify *v, const char *fmt, ...)
{
    va_list ap;

    v->problems++;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

/* Batch starts and last offsets of one segment, to check index entries. */
struct batch_list {
    uint64_t *pos;
    int64_t *last;
    int64_t *max_ts;
    size_t n, cap;
};

static int on_batch(void *arg, uint64_t pos, const struct zc_batch *b, const uint8_t *bytes)
{
    struct batch_list *l = arg;

    (void)bytes;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        uint64_t *p = realloc(l->pos, cap * sizeof(*p));
        int64_t *q = p ? realloc(l->last, cap * sizeof(*q)) : NULL;
        int64_t *r = q ? realloc(l->max_ts, cap * sizeof(*r)) : NULL;

        if (p)
            l->pos = p;
        if (q)
            l->last = q;
        if (r)
            l->max_ts = r;
        if (!r)
            return -ENOMEM;
        l->cap = cap;
    }
    l->pos[l->n] = pos;
    l->last[l->n] = zc_batch_last_offset(b);
    l->max_ts[l->n] = b->max_timestamp;
    l->n++;
    return 0;
}

static ssize_t find_pos(const struct batch_list *l, uint64_t pos)
{
    size_t lo = 0, hi = l->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (l->pos[mid] < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < l->n && l->pos[lo] == pos ? (ssize_t)lo : -1;
}

static void *read_file(const char *path, size_t *len, bool *missing)
{
    struct stat st;
    uint8_t *buf;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *missing = fd < 0 && errno == ENOENT;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (buf && pread(fd, buf, (size_t)st.st_size, 0) != st.st_size) {
        free(buf);
        buf = NULL;
    }
    *len = (size_t)st.st_size;
    close(fd);
    return buf;
}

static bool all_zero_from(const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

static void check_offset_index(struct verify *v, const char *path, int64_t base,
                               const struct batch_list *l)
{
    size_t len = 0;
    bool missing;
    uint8_t *e = read_file(path, &len, &missing);
    int64_t prev = -1;

    if (!e) {
        problem(v, "%s: %s", path, missing ? "missing (recovery rebuilds it)" : strerror(errno));
        return;
    }
    if (len % ZC_INDEX_OFFSET)
        problem(v, "%s: %zu bytes is not whole 8-byte entries", path, len);
    for (size_t i = 0; i + ZC_INDEX_OFFSET <= len; i += ZC_INDEX_OFFSET) {
        int64_t off = base + (int32_t)zc_be32(e + i);
        uint64_t pos = zc_be32(e + i + 4);
        ssize_t at = find_pos(l, pos);

        /* (0, 0) is never written: the first batch gets no entry. */
        if (off == base && pos == 0 && all_zero_from(e + i, len - i)) {
            problem(v, "%s: %zu preallocated entries never trimmed (not shut down cleanly)",
                    path, (len - i) / ZC_INDEX_OFFSET);
            break;
        }
        if (at < 0 || l->last[at] != off || off <= prev) {
            problem(v, "%s: entry %zu (offset %" PRId64 ", position %" PRIu64
                    ") does not name a batch ending at that offset", path, i / 8, off, pos);
            break;
        }
        prev = off;
    }
    free(e);
}

static void check_time_index(struct verify *v, const char *path, int64_t base,
                             const struct batch_list *l)
{
    size_t len = 0;
    bool missing;
    uint8_t *e = read_file(path, &len, &missing);
    int64_t prev_ts = INT64_MIN, seg_max = -1;

    if (!e) {
        problem(v, "%s: %s", path, missing ? "missing (recovery rebuilds it)" : strerror(errno));
        return;
    }
    for (size_t i = 0; i < l->n; i++)
        if (l->max_ts[i] > seg_max)
            seg_max = l->max_ts[i];
    if (len % ZC_INDEX_TIME)
        problem(v, "%s: %zu bytes is not whole 12-byte entries", path, len);
    for (size_t i = 0; i + ZC_INDEX_TIME <= len; i += ZC_INDEX_TIME) {
        int64_t ts = (int64_t)zc_be64(e + i);
        int64_t off = base + (int32_t)zc_be32(e + i + 8);

        if (ts == 0 && off == base && all_zero_from(e + i, len - i)) {
            problem(v, "%s: %zu preallocated entries never trimmed (not shut down cleanly)",
                    path, (len - i) / ZC_INDEX_TIME);
            break;
        }
        if (ts <= prev_ts || ts > seg_max || off < base ||
            (l->n && off > l->last[l->n - 1])) {
            problem(v, "%s: entry %zu (timestamp %" PRId64 ", offset %" PRId64
                    ") is out of order or outside the segment", path, i / 12, ts, off);
            break;
        }
        prev_ts = ts;
    }
    free(e);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

static void verify_partition(struct verify *v, const char *pdir)
{
    DIR *d = opendir(pdir);
    struct dirent *e;
    int64_t *bases = NULL, next = -1;
    size_t n = 0, cap = 0;

    if (!d) {
        problem(v, "%s: %s", pdir, strerror(errno));
        return;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);

        if (len != 24 || strcmp(e->d_name + 20, ".log") ||
            strspn(e->d_name, "0123456789") != 20)
            continue;
        if (n == cap) {
            int64_t *m = realloc(bases, (cap = cap ? cap * 2 : 16) * sizeof(*m));

            if (!m)
                break;
            bases = m;
        }
        bases[n++] = strtoll(e->d_name, NULL, 10);
    }
    closedir(d);
    if (n == 0)
        problem(v, "%s: no segment", pdir);
    if (n > 1)
        qsort(bases, n, sizeof(*bases), cmp_i64);
    for (size_t i = 0; i < n; i++) {
        struct batch_list l = { 0 };
        struct zc_log_scan scan;
        char path[PATH_MAX + 32];
        int fd, ret;

        snprintf(path, sizeof(path), "%s/%020" PRId64 ".log", pdir, bases[i]);
        if (next > bases[i])
            problem(v, "%s: starts at %" PRId64 " but the previous segment ends at %" PRId64,
                    path, bases[i], next);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            problem(v, "%s: %s", path, strerror(errno));
            continue;
        }
        ret = zc__seg_scan(fd, bases[i], &scan, on_batch, &l);
        close(fd);
        if (ret < 0)
            problem(v, "%s: %s", path, strerror(-ret));
        else if (scan.problem)
            problem(v, "%s: position %" PRIu64 " (after offset %" PRId64 "): %s; %" PRIu64
                    " bytes from there would be cut", path, scan.valid_bytes,
                    scan.next_offset - 1, scan.problem, scan.file_size - scan.valid_bytes);
        next = scan.next_offset;
        snprintf(path, sizeof(path), "%s/%020" PRId64 ".index", pdir, bases[i]);
        check_offset_index(v, path, bases[i], &l);
        snprintf(path, sizeof(path), "%s/%020" PRId64 ".timeindex", pdir, bases[i]);
        check_time_index(v, path, bases[i], &l);
        free(l.pos);
        free(l.last);
        free(l.max_ts);
    }
    free(bases);
}

static int verify_dir(struct verify *v)
{
    DIR *d = opendir(v->dir);
    struct dirent *e;
    char path[PATH_MAX];
    int topics = 0;

    if (!d) {
        fprintf(stderr, "zcopy log verify: %s: %s\n", v->dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name), sl = strlen(ZC_LOG_TOPIC_SUFFIX);
        struct zc_log_config c;
        char name[256];
        int32_t parts;

        if (len <= sl || len - sl >= sizeof(name) ||
            strcmp(e->d_name + len - sl, ZC_LOG_TOPIC_SUFFIX))
            continue;
        memcpy(name, e->d_name, len - sl);
        name[len - sl] = '\0';
        snprintf(path, sizeof(path), "%s/%s", v->dir, e->d_name);
        if (zc__log_config_read(path, &parts, &c) < 0) {
            problem(v, "%s: unreadable topic metadata", path);
            continue;
        }
        topics++;
        for (int32_t i = 0; i < parts; i++) {
            snprintf(path, sizeof(path), "%s/%s-%" PRId32, v->dir, name, i);
            verify_partition(v, path);
        }
    }
    closedir(d);
    snprintf(path, sizeof(path), "%s/%s", v->dir, ZC_LOG_CLEAN_MARKER);
    if (topics && access(path, F_OK) != 0)
        problem(v, "%s: no clean-shutdown marker: the next start runs recovery", v->dir);
    return topics;
}

int zc_logcmd_verify(int argc, char **argv)
{
    struct verify v = { 0, NULL };
    bool repair = false;
    char path[PATH_MAX];
    int lock_fd, topics;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repair"))
            repair = true;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return printf("usage: zcopy log verify DIR [--repair]\n"), 0;
        else if (argv[i][0] != '-' && !v.dir)
            v.dir = argv[i];
        else
            v.dir = NULL, i = argc;
    }
    if (!v.dir) {
        fprintf(stderr, "usage: zcopy log verify DIR [--repair]\n");
        return ZC_LOG_EXIT_USAGE;
    }
    /* A running store holds the lock; its files change under us. */
    snprintf(path, sizeof(path), "%s/%s", v.dir, ZC_LOG_LOCK_FILE);
    lock_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (lock_fd >= 0 && flock(lock_fd, LOCK_SH | LOCK_NB) < 0) {
        fprintf(stderr, "zcopy log verify: %s is in use by a running store\n", v.dir);
        close(lock_fd);
        return ZC_LOG_EXIT_ERROR;
    }
    if (lock_fd >= 0)
        close(lock_fd);
    if (repair) {
        struct zc_log *log;
        int ret = zc__log_open(v.dir, NULL, ZC_LOG_OPEN_RECOVER_ALL, &log);

        if (ret == 0)
            ret = zc_log_close(log);
        if (ret < 0) {
            fprintf(stderr, "zcopy log verify: repair of %s failed: %s\n", v.dir, strerror(-ret));
            return ZC_LOG_EXIT_ERROR;
        }
        printf("repaired: every segment re-read, bad tails cut, indexes rebuilt\n");
    }
    topics = verify_dir(&v);
    if (topics < 0)
        return ZC_LOG_EXIT_ERROR;
    printf("%d topic(s), %d problem(s)\n", topics, v.problems);
    return v.problems ? ZC_LOG_EXIT_PROBLEMS : ZC_LOG_EXIT_CLEAN;
}
