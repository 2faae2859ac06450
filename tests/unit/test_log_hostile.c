/* test_log_hostile.c - the log store against what a hostile user, a crashing
 * machine and bit rot hand it: damaged topic metadata, configuration out of
 * range, segment files with crafted offsets, a batch torn at every byte,
 * reads at every boundary, and no fd or mapping left behind by roll,
 * retention, delete and close. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log/crc32c.h"
#include "log/guard.h"
#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

static uint8_t buf[1 << 16];

static off_t file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) < 0 ? -1 : st.st_size;
}

static void write_file(const char *path, const void *bytes, size_t len, int flags)
{
    int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);

    if (fd < 0 || write(fd, bytes, len) != (ssize_t)len)
        abort();
    close(fd);
}

static void unlink_in(const char *dir, const char *name)
{
    char path[4200];

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
}

/* A topic "t" of one partition holding @n one-record batches, closed. */
static const char *make_log(const char *name, int n, const struct zc_log_config *cfg)
{
    const char *dir = tl_dir(name);
    struct zc_log *log;

    if (zc_log_open(dir, cfg, &log) < 0 || zc_log_topic_create(log, "t", 1, NULL) < 0)
        abort();
    for (int i = 0; i < n; i++) {
        size_t len = tl_batch(buf, sizeof(buf), 1, 100, (unsigned)i, 1000 + i);

        if (zc_log_append(zc_log_partition(log, "t", 0), buf, len, 0, NULL) < 0)
            abort();
    }
    zc_log_close(log);
    return dir;
}

/* A topic file the store cannot read (a newer version's, bit rot, an edit)
 * is not a deleted topic: its partitions' data must survive the open. The
 * damaged file is one readdir lists before another topic's (an error met
 * last used to fail the open only by chance). */
static void test_unreadable_topic_file(void)
{
    const char *dir = tl_dir("meta");
    char victim[256] = "", path[4200], seg[4200];
    struct dirent *e;
    struct zc_log *log;
    DIR *d;
    int ret;

    zc_log_open(dir, NULL, &log);
    for (int i = 0; i < 4; i++) {
        size_t len = tl_batch(buf, sizeof(buf), 1, 100, 1, 1000);

        snprintf(path, sizeof(path), "topic%d", i);
        zc_log_topic_create(log, path, 1, NULL);
        zc_log_append(zc_log_partition(log, path, 0), buf, len, 0, NULL);
    }
    zc_log_close(log);
    d = opendir(dir);
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".topic") && !victim[0])
            snprintf(victim, sizeof(victim), "%.*s", (int)(strlen(e->d_name) - 6), e->d_name);
    closedir(d);
    snprintf(path, sizeof(path), "%s/%s.topic", dir, victim);
    snprintf(seg, sizeof(seg), "%s/%s-0/%020d.log", dir, victim, 0);
    write_file(path, "version 2\npartitions 1\n", 23, O_TRUNC);
    ret = zc_log_open(dir, NULL, &log);
    t_is_int(ret, -EBADMSG, "open refuses a topic file it cannot read (%s)", victim);
    if (ret == 0)
        zc_log_close(log);
    t_ok(file_size(seg) > 0, "the topic's segment is still there");
}

/* Index entries hold 32-bit positions: a segment over 2^31 - 1 bytes (Kafka's
 * limit for segment.bytes) would index wrong positions. */
static void test_config_limits(void)
{
    struct zc_log_config big = { .segment_bytes = 5ULL << 30 };
    struct zc_log_config ok = { .segment_bytes = (uint64_t)INT32_MAX };
    struct zc_log *log;
    int ret;

    ret = zc_log_open(tl_dir("cfg"), &big, &log);
    t_is_int(ret, -EINVAL, "open refuses segment_bytes of 5 GiB");
    if (ret == 0)
        zc_log_close(log);
    t_is_int(zc_log_open(tl_dir("cfg"), &ok, &log), 0, "2^31 - 1 is accepted");
    t_is_int(zc_log_topic_create(log, "big", 1, &big), -EINVAL,
             "a topic override of 5 GiB is refused");
    t_is_int(zc_log_topic_partitions(log, "big"), -ENOENT, "and no topic made");
    zc_log_close(log);
}

/* A stored batch whose base offset is near INT64_MAX (the CRC does not
 * cover it) must be cut by recovery, not wrap the end offset negative. */
static void test_offset_overflow(void)
{
    const char *dir = make_log("ovf", 3, NULL);
    struct zc_log_partition *p;
    struct zc_log *log;
    char seg[4200];
    size_t n;

    snprintf(seg, sizeof(seg), "%s/t-0/%020d.log", dir, 0);
    n = tl_batch(buf, sizeof(buf), 2, 10, 1, 5);
    zc_put_be64(buf, (uint64_t)INT64_MAX);     /* last offset INT64_MAX + 1 */
    write_file(seg, buf, n, O_APPEND);
    unlink_in(dir, ".kafka_cleanshutdown");
    unlink_in(dir, "recovery-point-offset-checkpoint");
    t_is_int(zc_log_open(dir, NULL, &log), 0, "open");
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 3, "the batch at INT64_MAX is cut: end offset 3");
    zc_log_close(log);

    /* After a clean shutdown the tail past the last index entry is only
     * walked: the same header must send the segment to a rebuild. */
    write_file(seg, buf, n, O_APPEND);
    t_is_int(zc_log_open(dir, NULL, &log), 0, "open (clean marker present)");
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 3, "trusted load: the batch at INT64_MAX is cut too");
    zc_log_close(log);
}

/* Mappings in this process of files whose path contains @dir. */
static int maps_under(const char *dir)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[4600];
    int n = 0;

    if (!f)
        abort();
    while (fgets(line, sizeof(line), f))
        n += strstr(line, dir) != NULL;
    fclose(f);
    return n;
}

/* A crash can stop a write after any byte of the last batch: for each
 * prefix (and a whole batch with its last byte changed) recovery keeps
 * exactly the batches before it and serves nothing of it. In mmap mode the
 * prefix is followed by the zeros of the preallocated tail; where the bytes
 * missing are zeros anyway the batch is whole and byte-exact, and kept. */
static void test_torn_every_byte(enum zc_log_append_mode mode)
{
    struct zc_log_config cfg = { .append_mode = mode, .segment_bytes = 16 << 10 };
    const char *dir = make_log(mode == ZC_LOG_APPEND_MMAP ? "tornm" : "tornw", 3, &cfg);
    uint8_t torn[512];
    char seg[4200];
    off_t clean;
    size_t n;
    int bad = 0, first_bad = -1;

    snprintf(seg, sizeof(seg), "%s/t-0/%020d.log", dir, 0);
    clean = file_size(seg);
    n = tl_batch(torn, sizeof(torn), 2, 20, 9, 5);
    zc_put_be64(torn, 3);
    for (size_t k = 1; k <= n; k++) {
        struct zc_log_partition *p;
        struct zc_log_range r;
        struct zc_log *log;
        bool whole = mode == ZC_LOG_APPEND_MMAP && k < n;
        int64_t end;
        int ok;

        for (size_t i = k; i < n; i++)
            whole = whole && torn[i] == 0;
        end = whole ? 5 : 3;

        if (truncate(seg, clean) < 0)
            abort();
        if (k == n)
            torn[n - 1] ^= 1;           /* whole, but the CRC does not match */
        write_file(seg, torn, k, O_APPEND);
        if (k == n)
            torn[n - 1] ^= 1;
        if (mode == ZC_LOG_APPEND_MMAP && truncate(seg, 16 << 10) < 0)
            abort();
        unlink_in(dir, ".kafka_cleanshutdown");
        if (zc_log_open(dir, &cfg, &log) < 0)
            abort();
        p = zc_log_partition(log, "t", 0);
        ok = zc_log_end_offset(p) == end && zc_log_read(p, end, 4096, true, &r) == 0 &&
             r.len == 0;
        zc_log_range_release(&r);
        ok = ok && tl_walk(p, 0, NULL, NULL) == end;
        zc_log_close(log);
        ok = ok && file_size(seg) == clean + (whole ? (off_t)n : 0);
        if (!ok && first_bad < 0)
            first_bad = (int)k;
        bad += !ok;
    }
    t_is_int(bad, 0, "%s: torn after each of %zu bytes: cut to the 3 whole batches "
             "(first failure at %d)", mode == ZC_LOG_APPEND_MMAP ? "mmap" : "write", n, first_bad);
}

static size_t batch_at(struct zc_log_partition *p, int64_t offset, struct zc_batch *b,
                       struct zc_log_range *r)
{
    uint8_t h[61];

    if (zc_log_read(p, offset, 1, true, r) < 0 || r->len < 61 ||
        pread(r->fd, h, 61, r->pos) != 61 || zc_batch_header(h, 61, b) <= 0)
        return 0;
    return r->len;
}

/* Reads at every boundary: an empty partition, the first and last offset
 * of each segment, the end, past it, below the start after retention,
 * max_bytes below a batch with and without min_one_batch, a range held
 * across retention and across a topic delete. */
static void test_read_boundaries(void)
{
    /* Each 2-record batch is ~150 bytes: a segment each. */
    struct zc_log_config cfg = { .segment_bytes = 200, .retention_bytes = 1 };
    const char *dir = tl_dir("bounds");
    struct zc_log_range r, held, held2;
    struct zc_log_partition *p;
    struct zc_batch b;
    struct zc_log *log;
    int fds = t_count_fds();
    uint8_t one[4096];
    size_t n;

    zc_log_open(dir, &cfg, &log);
    zc_log_topic_create(log, "t", 1, NULL);
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_read(p, 0, 100, true, &r), 0, "empty: read at 0");
    t_is_int((int64_t)r.len, 0, "empty: nothing to send");
    t_ok(r.segment == NULL && r.fd == -1, "empty: no reference");
    t_is_int(zc_log_read(p, 1, 100, true, &r), -ERANGE, "empty: read at 1");
    t_is_int(zc_log_read(p, -1, 100, true, &r), -ERANGE, "empty: read at -1");
    for (int i = 0; i < 4; i++) {
        n = tl_batch(buf, sizeof(buf), 2, 20, (unsigned)i, 100 + i);
        zc_log_append(p, buf, n, 0, NULL);
    }
    t_is_int(zc_log_end_offset(p), 8, "4 batches of 2");
    for (int64_t o = 0; o < 8; o++) {
        t_ok(batch_at(p, o, &b, &r) > 0 && b.base_offset == (o & ~1) && r.pos == 0,
             "offset %lld: its batch, at the start of its segment", (long long)o);
        zc_log_range_release(&r);
    }
    t_is_int(zc_log_read(p, 8, 100, true, &r), 0, "read at the end");
    t_is_int((int64_t)r.len, 0, "nothing to send");
    t_is_int(zc_log_read(p, 9, 100, true, &r), -ERANGE, "past the end: -ERANGE");
    t_is_int(zc_log_read(p, 2, 10, false, &r), 0, "max_bytes 10, no min_one_batch");
    t_is_int((int64_t)r.len, 10, "10 bytes of the batch (a partial batch)");
    zc_log_range_release(&r);
    t_is_int(zc_log_read(p, 2, 0, true, &r), 0, "max_bytes 0, min_one_batch");
    t_is_int((int64_t)r.len, (int64_t)n, "the whole batch");
    zc_log_range_release(&r);
    t_is_int(zc_log_read(p, 2, 100000, true, &held), 0, "hold a range on segment 2");
    t_is_int(zc_log_read(p, 6, 100000, true, &held2), 0, "and one on segment 6");
    zc_log_tick(log, zc__log_now_ms());
    t_is_int(zc_log_start_offset(p), 6, "retention left the active segment only");
    t_is_int(zc_log_read(p, 5, 100, true, &r), -ERANGE, "below the start: -ERANGE");
    t_is_int(pread(held.fd, one, held.len, held.pos), (ssize_t)held.len,
             "the held range still reads after its file was deleted");
    t_ok(zc_batch_check(one, held.len, &b) > 0 && b.base_offset == 2, "and it is the batch");
    zc_log_range_release(&held);
    t_is_int(zc_log_topic_delete(log, "t"), 0, "delete the topic with a range held");
    t_is_int(zc_log_read(p, 6, 100, true, &r), -ENOENT, "reads of the deleted partition: -ENOENT");
    n = tl_batch(buf, sizeof(buf), 2, 20, 9, 100);
    t_is_int(zc_log_append(p, buf, n, 0, NULL), -ENOENT, "appends too");
    t_is_int(pread(held2.fd, one, held2.len, held2.pos), (ssize_t)held2.len,
             "the held range still reads");
    zc_log_range_release(&held2);
    zc_log_close(log);
    t_is_int(t_count_fds(), fds, "no fd left");
    t_is_int(maps_under(dir), 0, "no mapping left");
}

/* Every fd and mapping is released across roll, retention, a range
 * outliving its segment, topic delete and re-create, and close (mmap mode:
 * the active segment and both indexes are mapped). */
static void test_no_leaks(void)
{
    struct zc_log_config cfg = { .segment_bytes = 8192, .retention_bytes = 20000,
                                 .append_mode = ZC_LOG_APPEND_MMAP,
                                 .index_interval_bytes = 512 };
    const char *dir = tl_dir("leaks");
    int fds = t_count_fds();
    struct zc_log_range held;
    struct zc_log *log;

    for (int round = 0; round < 3; round++) {
        struct zc_log_partition *p;

        t_is_int(zc_log_open(dir, &cfg, &log), 0, "round %d: open", round);
        zc_log_topic_create(log, "t", 2, NULL);
        p = zc_log_partition(log, "t", round % 2);
        for (int i = 0; i < 100; i++) {
            size_t n = tl_batch(buf, sizeof(buf), 1, 700, (unsigned)i, 1000 + i);

            zc_log_append(p, buf, n, 0, NULL);
            if (i == 10)
                zc_log_read(p, 3, 1000, true, &held);
            if (i % 20 == 0)
                zc_log_tick(log, zc__log_now_ms());
        }
        zc_log_range_release(&held);
        if (round == 1) {
            zc_log_read(p, zc_log_start_offset(p), 1000, true, &held);
            zc_log_topic_delete(log, "t");
            zc_log_range_release(&held);
        }
        zc_log_close(log);
        t_is_int(t_count_fds(), fds, "round %d: no fd left", round);
        t_is_int(maps_under(dir), 0, "round %d: no mapping left", round);
    }
}

/* The tests' private directory goes at exit with everything under it (the
 * log tests nest DIR/<topic>-<n>/ files; a flat removal left them in /tmp). */
static void test_tmpdir_removed(void)
{
    char path[4200] = "";
    int fds[2];
    pid_t pid;

    if (pipe(fds) < 0)
        abort();
    pid = fork();
    if (pid == 0) {
        const char *dir = tl_dir("nested");

        snprintf(path, sizeof(path), "%s/t-0", dir);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/t-0/%020d.log", dir, 0);
        write_file(path, "x", 1, 0);
        if (write(fds[1], t_tmpdir(), strlen(t_tmpdir())) < 0)
            _exit(1);
        exit(0);                        /* runs the atexit removal */
    }
    close(fds[1]);
    if (read(fds[0], path, sizeof(path) - 1) <= 0)
        abort();
    close(fds[0]);
    waitpid(pid, NULL, 0);
    t_ok(access(path, F_OK) != 0, "a nested tmpdir is removed at exit (%s)", path);
}

/* Appenders, readers checking every byte they are handed, a ticker rolling
 * by age and deleting by size, and a topic delete while the readers run:
 * nothing read is ever torn or wrong (run under TSan by hand: see
 * docs/LOG.md). */
struct churn {
    struct zc_log *log;
    struct zc_log_partition *p;
    atomic_int appending;
    atomic_int bad;
    atomic_long batches_read;
};

static void *churn_append(void *arg)
{
    struct churn *c = arg;
    uint8_t b[4096];

    for (int i = 0; i < 300; i++) {
        size_t n = tl_batch(b, sizeof(b), 1 + i % 3, 50 + (size_t)(i % 5) * 200, (unsigned)i, i);

        if (zc_log_append(c->p, b, n, 0, NULL) < 0)
            atomic_fetch_add(&c->bad, 1);
    }
    atomic_fetch_sub(&c->appending, 1);
    return NULL;
}

static void *churn_read(void *arg)
{
    struct churn *c = arg;
    static _Thread_local uint8_t b[1 << 16];

    for (int i = 0; i < 2000; i++) {
        int64_t start = zc_log_start_offset(c->p), end = zc_log_end_offset(c->p);
        struct zc_log_range r;
        size_t at = 0;
        int ret;

        if (start < 0)
            break;                      /* deleted */
        int64_t offset = end > start ? start + i % (end - start) : start;

        ret = zc_log_read(c->p, offset, sizeof(b), true, &r);
        if (ret == -ERANGE || ret == -ENOENT)
            continue;                   /* retention or the delete got there first */
        if (ret == 0 && r.len == 0 && offset >= end)
            continue;                   /* at the end: nothing yet */
        if (ret < 0 || r.len == 0 || pread(r.fd, b, r.len, r.pos) != (ssize_t)r.len) {
            atomic_fetch_add(&c->bad, 1);
            zc_log_range_release(&r);
            continue;
        }
        while (at < r.len) {
            struct zc_batch h;
            ssize_t n = zc_batch_check(b + at, r.len - at, &h);

            if (n == 0)
                break;
            if (n < 0) {
                atomic_fetch_add(&c->bad, 1);
                break;
            }
            atomic_fetch_add(&c->batches_read, 1);
            at += (size_t)n;
        }
        zc_log_range_release(&r);
    }
    return NULL;
}

static void *churn_tick(void *arg)
{
    struct churn *c = arg;
    int64_t now = zc__log_now_ms();

    for (int i = 0; atomic_load(&c->appending) > 0 && i < 100000; i++) {
        zc_log_tick(c->log, now + i * 1000LL);
        usleep(200);
    }
    return NULL;
}

static void test_churn(enum zc_log_append_mode mode)
{
    struct zc_log_config cfg = { .segment_bytes = 4096, .segment_ms = 500,
                                 .retention_bytes = 16384, .append_mode = mode,
                                 .index_interval_bytes = 256 };
    const char *dir = tl_dir("churn");
    struct churn c;
    pthread_t th[5];
    int fds = t_count_fds();

    zc_log_open(dir, &cfg, &c.log);
    zc_log_topic_create(c.log, "t", 1, NULL);
    c.p = zc_log_partition(c.log, "t", 0);
    atomic_init(&c.appending, 2);
    atomic_init(&c.bad, 0);
    atomic_init(&c.batches_read, 0);
    pthread_create(&th[0], NULL, churn_append, &c);
    pthread_create(&th[1], NULL, churn_append, &c);
    pthread_create(&th[2], NULL, churn_tick, &c);
    pthread_create(&th[3], NULL, churn_read, &c);
    pthread_create(&th[4], NULL, churn_read, &c);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    t_is_int(zc_log_end_offset(c.p), 1200, "%s churn: 2 x 300 appends of 1-3 records",
             mode == ZC_LOG_APPEND_MMAP ? "mmap" : "write");
    zc_log_topic_delete(c.log, "t");
    pthread_join(th[3], NULL);
    pthread_join(th[4], NULL);
    t_is_int(atomic_load(&c.bad), 0, "no failed append, no torn or corrupt read (%ld batches read)",
             (long)atomic_load(&c.batches_read));
    zc_log_close(c.log);
    t_is_int(t_count_fds(), fds, "no fd left");
    t_is_int(maps_under(dir), 0, "no mapping left");
}

/* A handler installed after the guard's that chains to it, as crash
 * reporters and sanitizer runtimes do, runs it with SIGBUS blocked (no
 * SA_NODEFER): after the jump out, the next guarded fault must still be
 * caught, not kill the process. */
static struct sigaction guard_handler;

static void chaining_handler(int sig, siginfo_t *si, void *uc)
{
    guard_handler.sa_sigaction(sig, si, uc);
}

static void test_guard_chained(void)
{
    long page = sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    char path[4200];
    uint8_t *m;
    int fd;

    zc__guard_copy(buf, buf + 8, 8);    /* installs the guard's handler */
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = chaining_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &guard_handler);
    snprintf(path, sizeof(path), "%s/bus", t_tmpdir());
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, page) < 0)
        abort();
    m = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED || ftruncate(fd, 0) < 0)
        abort();
    t_is_int(zc__guard_copy(m, buf, 8), -EIO, "a fault through a chaining handler: -EIO");
    t_is_int(zc__guard_copy(m, buf, 8), -EIO, "a second one too (SIGBUS not left blocked)");
    munmap(m, (size_t)page);
    close(fd);
    sigaction(SIGBUS, &guard_handler, NULL);
}

/* Stray files in a partition directory: names with 20 digits that are not
 * an int64 (99999999999999999999.log), Kafka's .deleted and temp files, an
 * index without its .log. None is a segment; none may stop the open or
 * change the log. */
static void test_stray_files(void)
{
    const char *dir = make_log("stray", 5, NULL);
    static const char *const names[] = {
        "99999999999999999999.log", "00000000000000000003.log.deleted",
        "00000000000000000003.log.swap", "x.log.tmp", "00000000000000000100.index",
        "00000000000000000100.timeindex", "-0000000000000000001.log",
    };
    struct zc_log_partition *p;
    struct zc_log *log;
    char path[4200];
    int ret;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/t-0/%s", dir, names[i]);
        write_file(path, buf, 100, O_TRUNC);
    }
    unlink_in(dir, ".kafka_cleanshutdown");
    ret = zc_log_open(dir, NULL, &log);
    t_is_int(ret, 0, "open with stray files beside the segments");
    if (ret < 0)
        return;
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 5, "the log is unchanged: end offset 5");
    t_is_int(tl_walk(p, 0, NULL, NULL), 5, "and reads back");
    zc_log_close(log);
    snprintf(path, sizeof(path), "%s/t-0/99999999999999999999.log", dir);
    t_ok(file_size(path) == 100, "the stray file is left alone");
}

/* Damage that recovery must not trust: a checkpoint naming an offset far past
 * the log end (with a torn tail behind it), a time index whose entries go
 * backwards, an offset index entry pointing past the end of its segment. */
static void test_untrusted_metadata(void)
{
    struct zc_log_config cfg = { .segment_bytes = 1024, .index_interval_bytes = 100 };
    const char *dir = make_log("meta2", 30, &cfg);
    struct zc_log_partition *p;
    struct zc_log *log;
    char path[4200];
    uint8_t e[12];
    int64_t off, ts;
    size_t n;
    int fd;

    /* 30 batches of 170 bytes, 6 a segment: bases 0, 6, ..., 24. */
    snprintf(path, sizeof(path), "%s/recovery-point-offset-checkpoint", dir);
    write_file(path, "0\n1\nt 0 999999\n", 15, O_TRUNC);
    snprintf(path, sizeof(path), "%s/t-0/%020d.log", dir, 24);
    if (file_size(path) != 1020)
        abort();
    n = tl_batch(buf, sizeof(buf), 1, 100, 1, 5);
    write_file(path, buf, n / 2, O_APPEND);
    unlink_in(dir, ".kafka_cleanshutdown");
    t_is_int(zc_log_open(dir, &cfg, &log), 0, "checkpoint past the end: open");
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 30, "the torn tail behind it is cut anyway");
    zc_log_close(log);

    /* Swap the two entries of a time index: timestamps go backwards. */
    snprintf(path, sizeof(path), "%s/t-0/%020d.timeindex", dir, 12);
    fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, buf, 24, 0) != 24)
        abort();
    memcpy(e, buf, 12);
    memcpy(buf, buf + 12, 12);
    memcpy(buf + 12, e, 12);
    pwrite(fd, buf, 24, 0);
    close(fd);
    /* An offset entry pointing past its segment's end. */
    snprintf(path, sizeof(path), "%s/t-0/%020d.index", dir, 18);
    fd = open(path, O_RDWR);
    zc_put_be32(buf, 1);
    zc_put_be32(buf + 4, 100000);
    if (fd < 0 || pwrite(fd, buf, 8, 0) != 8)
        abort();
    close(fd);
    t_is_int(zc_log_open(dir, &cfg, &log), 0, "damaged indexes (clean marker): open");
    p = zc_log_partition(log, "t", 0);
    t_is_int(tl_walk(p, 0, NULL, NULL), 30, "every batch reads back in order");
    for (int i = 0; i < 30; i++) {
        if (zc_log_offset_for_time(p, 1000 + i, &off, &ts) < 0 || off != i)
            break;
        if (i == 29)
            t_ok(1, "offset for each batch's time is that batch");
    }
    zc_log_close(log);
}

/* An empty .log whose base falls inside an earlier segment's offsets (a
 * stray file: the store only creates segments at the end offset) holds
 * nothing. Recovery must not take it as an overlap and delete every later
 * segment, with their acknowledged appends. */
static void test_empty_overlapping_segment(void)
{
    struct zc_log_config cfg = { .segment_bytes = 1024 };
    const char *dir = make_log("overlap", 30, &cfg);
    struct zc_log_partition *p;
    struct zc_log *log;
    char path[4200];

    /* 30 batches of 170 bytes, 6 a segment: bases 0, 6, ..., 24. */
    snprintf(path, sizeof(path), "%s/t-0/%020d.log", dir, 22);
    write_file(path, buf, 0, O_TRUNC);
    unlink_in(dir, ".kafka_cleanshutdown");
    unlink_in(dir, "recovery-point-offset-checkpoint");
    t_is_int(zc_log_open(dir, &cfg, &log), 0, "open with an empty 22.log inside 18..23");
    p = zc_log_partition(log, "t", 0);
    t_is_int(zc_log_end_offset(p), 30, "end offset 30: nothing deleted");
    t_is_int(tl_walk(p, 0, NULL, NULL), 30, "every batch reads back");
    zc_log_close(log);
}

int main(void)
{
    /* Recovery does not depend on the filesystem, and the torn-tail test
     * opens and closes a store ~400 times: each close fsyncs a few files,
     * free on tmpfs, seconds on a busy disk. */
    if (!getenv("TMPDIR") && access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    test_tmpdir_removed();
    test_unreadable_topic_file();
    test_config_limits();
    test_offset_overflow();
    test_stray_files();
    test_untrusted_metadata();
    test_empty_overlapping_segment();
    test_torn_every_byte(ZC_LOG_APPEND_WRITE);
    test_torn_every_byte(ZC_LOG_APPEND_MMAP);
    test_read_boundaries();
    test_no_leaks();
    test_guard_chained();
    test_churn(ZC_LOG_APPEND_WRITE);
    test_churn(ZC_LOG_APPEND_MMAP);
    return t_done();
}
