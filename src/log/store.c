/* store.c - the data directory: topics (a metadata file each, partitions in
 * DIR/<topic>-<n>/), the recovery-point checkpoint, the clean-shutdown
 * marker, the lock that keeps a second process out, and the tick. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log/log_internal.h"

#define CHECKPOINT_EVERY_MS 5000

static bool topic_name_ok(const char *name)
{
    size_t len = strlen(name);

    if (len == 0 || len > 249 || !strcmp(name, ".") || !strcmp(name, ".."))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int path_in(char *out, const struct zc_log *log, const char *name, const char *suffix)
{
    int n = snprintf(out, PATH_MAX, "%s/%s%s", log->dir, name, suffix);

    return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Remove a partition directory and the files in it (no subdirectories). */
static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[PATH_MAX];

    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static void topic_free(struct zc_log_topic *t)
{
    if (!t)
        return;
    for (int32_t i = 0; i < t->npart; i++)
        zc__partition_free(t->parts ? t->parts[i] : NULL);
    free(t->parts);
    free(t);
}

static struct zc_log_topic *find_topic(struct zc_log *log, const char *name, size_t *at)
{
    for (size_t i = 0; i < log->ntopics; i++)
        if (!strcmp(log->topics[i]->name, name)) {
            if (at)
                *at = i;
            return log->topics[i];
        }
    return NULL;
}

static int add_topic(struct zc_log *log, struct zc_log_topic *t)
{
    if (log->ntopics == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 16;
        struct zc_log_topic **n = realloc(log->topics, cap * sizeof(*n));

        if (!n)
            return -ENOMEM;
        log->topics = n;
        log->cap = cap;
    }
    log->topics[log->ntopics++] = t;
    return 0;
}

/* The recovery-point checkpoint, Kafka's text format: version, count, then
 * "topic partition offset" lines. */
struct checkpoint {
    char (*topic)[256];
    int32_t *part;
    int64_t *offset;
    size_t n;
};

static void checkpoint_free(struct checkpoint *c)
{
    free(c->topic);
    free(c->part);
    free(c->offset);
    memset(c, 0, sizeof(*c));
}

static void checkpoint_read(struct zc_log *log, struct checkpoint *c)
{
    char path[PATH_MAX], name[256];
    long long off, part;
    size_t count = 0, version = 0;
    FILE *f;

    memset(c, 0, sizeof(*c));
    if (path_in(path, log, ZC_LOG_RECOVERY_CHECKPOINT, "") < 0)
        return;
    f = fopen(path, "re");
    if (!f)
        return;                         /* none: recover everything */
    if (fscanf(f, "%zu %zu", &version, &count) != 2 || version != 0 || count > 1000000)
        goto out;
    c->topic = calloc(count ? count : 1, sizeof(*c->topic));
    c->part = calloc(count ? count : 1, sizeof(*c->part));
    c->offset = calloc(count ? count : 1, sizeof(*c->offset));
    if (!c->topic || !c->part || !c->offset) {
        checkpoint_free(c);
        goto out;
    }
    while (c->n < count && fscanf(f, "%255s %lld %lld", name, &part, &off) == 3) {
        snprintf(c->topic[c->n], 256, "%s", name);
        c->part[c->n] = (int32_t)part;
        c->offset[c->n] = off;
        c->n++;
    }
out:
    fclose(f);
}

static int64_t checkpoint_get(const struct checkpoint *c, const char *topic, int32_t part)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->part[i] == part && !strcmp(c->topic[i], topic))
            return c->offset[i];
    return 0;
}

/* Write every partition's recovery point. The table lock is held; each
 * partition's is taken in turn (table, then partition: the only order). */
static int checkpoint_write(struct zc_log *log)
{
    size_t cap = 64, len = 0, count = 0;
    char *buf = malloc(cap), path[PATH_MAX];
    int ret;

    if (!buf)
        return -ENOMEM;
    for (size_t i = 0; i < log->ntopics; i++)
        count += (size_t)log->topics[i]->npart;
    len = (size_t)snprintf(buf, cap, "0\n%zu\n", count);
    for (size_t i = 0; i < log->ntopics; i++) {
        struct zc_log_topic *t = log->topics[i];

        for (int32_t j = 0; j < t->npart; j++) {
            struct zc_log_partition *p = t->parts[j];
            int64_t rp;
            int n;

            pthread_mutex_lock(&p->lock);
            rp = p->recovery_point;
            p->checkpointed = rp;
            pthread_mutex_unlock(&p->lock);
            while ((n = snprintf(buf + len, cap - len, "%s %" PRId32 " %" PRId64 "\n",
                                 t->name, j, rp)) >= (int)(cap - len)) {
                char *m = realloc(buf, cap * 2);

                if (!m) {
                    free(buf);
                    return -ENOMEM;
                }
                buf = m;
                cap *= 2;
            }
            len += (size_t)n;
        }
    }
    ret = path_in(path, log, ZC_LOG_RECOVERY_CHECKPOINT, "");
    if (ret == 0)
        ret = zc__log_write_atomic(path, buf, len);
    free(buf);
    return ret;
}

static int partition_dir(char *out, const struct zc_log *log, const char *topic, int32_t i)
{
    int n = snprintf(out, PATH_MAX, "%s/%s-%" PRId32, log->dir, topic, i);

    return n < 0 || n + 32 >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Build a topic's partitions, loading whatever files exist. */
static int topic_open(struct zc_log *log, struct zc_log_topic *t, bool create,
                      const struct checkpoint *cp, bool clean)
{
    char dir[PATH_MAX];
    int ret;

    t->parts = calloc((size_t)t->npart, sizeof(*t->parts));
    if (!t->parts)
        return -ENOMEM;
    for (int32_t i = 0; i < t->npart; i++) {
        int64_t from;

        ret = partition_dir(dir, log, t->name, i);
        if (ret < 0)
            return ret;
        if (create)
            remove_dir(dir);            /* leftovers of an interrupted delete */
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
            return -errno;
        t->parts[i] = zc__partition_new(t, i, dir);
        if (!t->parts[i])
            return -ENOMEM;
        from = create || clean ? INT64_MAX : checkpoint_get(cp, t->name, i);
        ret = zc__partition_load(t->parts[i], &t->cfg, from);
        if (ret < 0)
            return ret;
    }
    return 0;
}

/* Partition directories whose topic file is gone: a delete that was cut
 * short. Finish it. */
static void remove_orphans(struct zc_log *log)
{
    DIR *d = opendir(log->dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        char name[256], path[PATH_MAX], *dash;

        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(name))
            continue;
        snprintf(name, sizeof(name), "%s", e->d_name);
        dash = strrchr(name, '-');
        if (!dash || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
            continue;
        *dash = '\0';
        if (!topic_name_ok(name) || find_topic(log, name, NULL))
            continue;
        if (path_in(path, log, e->d_name, "") == 0)
            remove_dir(path);
    }
    closedir(d);
}

static int load_topics(struct zc_log *log, bool clean, const struct checkpoint *cp)
{
    DIR *d = opendir(log->dir);
    struct dirent *e;
    int ret = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name), sl = strlen(ZC_LOG_TOPIC_SUFFIX);
        struct zc_log_topic *t;
        char path[PATH_MAX];

        if (len <= sl || strcmp(e->d_name + len - sl, ZC_LOG_TOPIC_SUFFIX) ||
            len - sl >= sizeof(t->name))
            continue;
        t = calloc(1, sizeof(*t));
        if (!t) {
            ret = -ENOMEM;
            break;
        }
        memcpy(t->name, e->d_name, len - sl);
        ret = topic_name_ok(t->name) ? path_in(path, log, e->d_name, "") : -EBADMSG;
        if (ret == 0)
            ret = zc__log_config_read(path, &t->npart, &t->overrides);
        if (ret < 0) {
            free(t);
            if (ret == -EBADMSG)
                continue;               /* not ours */
            break;
        }
        zc__log_config_merge(&t->cfg, &log->cfg, &t->overrides);
        ret = add_topic(log, t);
        if (ret < 0) {
            free(t);
            break;
        }
        ret = topic_open(log, t, false, cp, clean);
        if (ret < 0)
            break;
    }
    closedir(d);
    return ret;
}

static void log_free(struct zc_log *log)
{
    for (size_t i = 0; i < log->ntopics; i++)
        topic_free(log->topics[i]);
    while (log->deleted) {
        struct zc_log_topic *t = log->deleted;

        log->deleted = t->next_deleted;
        topic_free(t);
    }
    free(log->topics);
    if (log->lock_fd >= 0)
        close(log->lock_fd);            /* releases the flock */
    pthread_mutex_destroy(&log->lock);
    free(log);
}

int zc__log_open(const char *dir, const struct zc_log_config *cfg, unsigned flags,
                 struct zc_log **out)
{
    struct zc_log *log = calloc(1, sizeof(*log));
    struct checkpoint cp;
    char path[PATH_MAX];
    bool clean;
    int ret;

    if (!log)
        return -ENOMEM;
    pthread_mutex_init(&log->lock, NULL);
    log->lock_fd = -1;
    if (cfg)
        log->cfg = *cfg;
    zc__log_config_defaults(&log->cfg);
    if (snprintf(log->dir, sizeof(log->dir), "%s", dir) >= (int)sizeof(log->dir) - 300) {
        ret = -ENAMETOOLONG;
        goto fail;
    }
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        ret = -errno;
        goto fail;
    }
    ret = path_in(path, log, ZC_LOG_LOCK_FILE, "");
    if (ret < 0)
        goto fail;
    log->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (log->lock_fd < 0) {
        ret = -errno;
        goto fail;
    }
    if (flock(log->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        ret = errno == EWOULDBLOCK ? -EBUSY : -errno;
        goto fail;
    }
    ret = path_in(path, log, ZC_LOG_CLEAN_MARKER, "");
    if (ret < 0)
        goto fail;
    clean = access(path, F_OK) == 0 && !(flags & ZC_LOG_OPEN_RECOVER_ALL);
    memset(&cp, 0, sizeof(cp));
    if (!clean && !(flags & ZC_LOG_OPEN_RECOVER_ALL))
        checkpoint_read(log, &cp);
    ret = load_topics(log, clean, &cp);
    checkpoint_free(&cp);
    if (ret < 0)
        goto fail;
    remove_orphans(log);
    /* From now on a crash must lead to recovery: the marker goes first. */
    if (unlink(path) == 0) {
        ret = zc__log_fsync_dir(log->dir);
        if (ret < 0)
            goto fail;
    }
    log->last_checkpoint_ms = zc__log_now_ms();
    *out = log;
    return 0;

fail:
    log_free(log);
    return ret;
}

int zc_log_open(const char *dir, const struct zc_log_config *cfg, struct zc_log **out)
{
    return zc__log_open(dir, cfg, 0, out);
}

int zc_log_close(struct zc_log *log)
{
    char path[PATH_MAX];
    int ret = 0, r;

    if (!log)
        return 0;
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < log->ntopics; i++)
        for (int32_t j = 0; j < log->topics[i]->npart; j++) {
            r = zc__partition_close(log->topics[i]->parts[j]);
            if (ret == 0)
                ret = r;
        }
    r = checkpoint_write(log);
    if (ret == 0)
        ret = r;
    /* The marker only when everything above is on disk. */
    if (ret == 0) {
        ret = path_in(path, log, ZC_LOG_CLEAN_MARKER, "");
        if (ret == 0)
            ret = zc__log_write_atomic(path, "", 0);
    }
    pthread_mutex_unlock(&log->lock);
    log_free(log);
    return ret;
}

int zc_log_topic_create(struct zc_log *log, const char *topic, int32_t partitions,
                        const struct zc_log_config *overrides)
{
    struct zc_log_topic *t;
    char path[PATH_MAX];
    int ret;

    if (!topic_name_ok(topic) || partitions < 1 || partitions > 100000)
        return -EINVAL;
    t = calloc(1, sizeof(*t));
    if (!t)
        return -ENOMEM;
    snprintf(t->name, sizeof(t->name), "%s", topic);
    t->npart = partitions;
    if (overrides)
        t->overrides = *overrides;
    pthread_mutex_lock(&log->lock);
    zc__log_config_merge(&t->cfg, &log->cfg, &t->overrides);
    if (find_topic(log, topic, NULL)) {
        ret = -EEXIST;
        goto fail;
    }
    ret = path_in(path, log, topic, ZC_LOG_TOPIC_SUFFIX);
    if (ret == 0)
        ret = topic_open(log, t, true, NULL, true);
    if (ret == 0)
        ret = zc__log_fsync_dir(log->dir);
    /* The metadata file last: without it the directories are orphans that
     * the next open removes. */
    if (ret == 0)
        ret = zc__log_config_write(path, partitions, &t->overrides);
    if (ret == 0)
        ret = add_topic(log, t);
    if (ret < 0)
        goto fail_dirs;
    pthread_mutex_unlock(&log->lock);
    return 0;

fail_dirs:
    unlink(path);
    for (int32_t i = 0; t->parts && i < t->npart; i++)
        if (t->parts[i])
            zc__partition_delete(t->parts[i]);
fail:
    pthread_mutex_unlock(&log->lock);
    topic_free(t);
    return ret;
}

int zc_log_topic_delete(struct zc_log *log, const char *topic)
{
    struct zc_log_topic *t;
    char path[PATH_MAX];
    size_t at;
    int ret;

    pthread_mutex_lock(&log->lock);
    t = find_topic(log, topic, &at);
    if (!t) {
        pthread_mutex_unlock(&log->lock);
        return -ENOENT;
    }
    /* The metadata file first: a crash after it leaves orphans to finish. */
    ret = path_in(path, log, topic, ZC_LOG_TOPIC_SUFFIX);
    if (ret == 0 && unlink(path) < 0)
        ret = -errno;
    if (ret == 0)
        ret = zc__log_fsync_dir(log->dir);
    if (ret < 0) {
        pthread_mutex_unlock(&log->lock);
        return ret;
    }
    log->topics[at] = log->topics[--log->ntopics];
    for (int32_t i = 0; i < t->npart; i++)
        zc__partition_delete(t->parts[i]);
    /* Kept until close: callers may still hold its partitions. */
    t->next_deleted = log->deleted;
    log->deleted = t;
    log->checkpoint_due = true;
    pthread_mutex_unlock(&log->lock);
    return 0;
}

int zc_log_topic_partitions(struct zc_log *log, const char *topic)
{
    struct zc_log_topic *t;
    int ret;

    pthread_mutex_lock(&log->lock);
    t = find_topic(log, topic, NULL);
    ret = t ? t->npart : -ENOENT;
    pthread_mutex_unlock(&log->lock);
    return ret;
}

void zc_log_topic_list(struct zc_log *log,
                       void (*fn)(void *arg, const char *topic, int32_t partitions),
                       void *arg)
{
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < log->ntopics; i++)
        fn(arg, log->topics[i]->name, log->topics[i]->npart);
    pthread_mutex_unlock(&log->lock);
}

struct zc_log_partition *zc_log_partition(struct zc_log *log, const char *topic,
                                          int32_t partition)
{
    struct zc_log_topic *t;
    struct zc_log_partition *p = NULL;

    pthread_mutex_lock(&log->lock);
    t = find_topic(log, topic, NULL);
    if (t && partition >= 0 && partition < t->npart)
        p = t->parts[partition];
    pthread_mutex_unlock(&log->lock);
    return p;
}

int zc_log_tick(struct zc_log *log, int64_t now_ms)
{
    struct zc_log_partition **all = NULL;
    size_t n = 0, cap = 0;
    bool due;
    int ret = 0, r;

    /* Partitions live until close, so the table lock is not held while
     * each one rolls, deletes and fsyncs. */
    pthread_mutex_lock(&log->lock);
    for (size_t i = 0; i < log->ntopics; i++)
        cap += (size_t)log->topics[i]->npart;
    all = calloc(cap ? cap : 1, sizeof(*all));
    if (!all) {
        pthread_mutex_unlock(&log->lock);
        return -ENOMEM;
    }
    for (size_t i = 0; i < log->ntopics; i++)
        for (int32_t j = 0; j < log->topics[i]->npart; j++)
            all[n++] = log->topics[i]->parts[j];
    pthread_mutex_unlock(&log->lock);

    due = false;
    for (size_t i = 0; i < n; i++) {
        r = zc__partition_tick(all[i], now_ms);
        if (ret == 0)
            ret = r;
        pthread_mutex_lock(&all[i]->lock);
        due |= all[i]->recovery_point != all[i]->checkpointed;
        pthread_mutex_unlock(&all[i]->lock);
    }
    free(all);

    pthread_mutex_lock(&log->lock);
    if ((due || log->checkpoint_due) && now_ms - log->last_checkpoint_ms >= CHECKPOINT_EVERY_MS) {
        r = checkpoint_write(log);
        if (ret == 0)
            ret = r;
        log->checkpoint_due = false;
        log->last_checkpoint_ms = now_ms;
    }
    pthread_mutex_unlock(&log->lock);
    return ret;
}
