/* test_log_faults.c - faults from below: a mapped segment or index
 * truncated behind the store's back gives -EIO, not SIGBUS; a write refused
 * by the kernel (EFBIG under RLIMIT_FSIZE, standing in for ENOSPC) fails
 * that append only and leaves the log as it was, in both modes. */
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

static uint8_t buf[1 << 16];

static void test_truncated_behind(void)
{
    struct zc_log_config cfg = { .append_mode = ZC_LOG_APPEND_MMAP, .segment_bytes = 1 << 20 };
    const char *dir = tl_dir("sigbus");
    struct zc_log_partition *p;
    struct zc_log_range r;
    struct zc_log *log;
    char path[4200];
    size_t n;
    int ret;

    zc_log_open(dir, &cfg, &log);
    zc_log_topic_create(log, "t", 1, NULL);
    p = zc_log_partition(log, "t", 0);
    for (int i = 0; i < 10; i++) {
        n = tl_batch(buf, sizeof(buf), 1, 1000, (unsigned)i, i);
        zc_log_append(p, buf, n, 0, NULL);
    }
    snprintf(path, sizeof(path), "%s/t-0/%020d.log", dir, 0);
    t_is_int(truncate(path, 0), 0, "truncate the mapped segment behind the store");
    n = tl_batch(buf, sizeof(buf), 1, 1000, 10, 10);
    ret = zc_log_append(p, buf, n, 0, NULL);
    t_is_int(ret, -EIO, "the append through the mapping fails with -EIO (no SIGBUS)");
    t_is_int(zc_log_end_offset(p), 10, "and assigns nothing");

    snprintf(path, sizeof(path), "%s/t-0/%020d.index", dir, 0);
    t_is_int(truncate(path, 0), 0, "truncate the mapped index behind the store");
    ret = zc_log_read(p, 9, 100, true, &r);
    t_is_int(ret, -EIO, "an index lookup fails with -EIO (no SIGBUS)");
    if (ret == 0)
        zc_log_range_release(&r);
    zc_log_close(log);
    t_ok(1, "the process survived");
}

static void test_write_refused(enum zc_log_append_mode mode)
{
    const char *name = mode == ZC_LOG_APPEND_MMAP ? "mmap" : "write";
    struct zc_log_config cfg = { .append_mode = mode, .segment_bytes = 64 << 10 };
    const char *dir = tl_dir("efbig");
    struct zc_log_partition *p;
    struct rlimit old, lim;
    struct zc_log *log;
    int64_t end = -1;
    char path[4200];
    int ret = 0;
    size_t n;

    zc_log_open(dir, &cfg, &log);
    zc_log_topic_create(log, "t", 1, NULL);
    p = zc_log_partition(log, "t", 0);
    signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 40 << 10;            /* below one segment */
    setrlimit(RLIMIT_FSIZE, &lim);
    for (int i = 0; i < 200 && ret == 0; i++) {
        end = zc_log_end_offset(p);
        n = tl_batch(buf, sizeof(buf), 1, 3000, (unsigned)i, i);
        ret = zc_log_append(p, buf, n, 0, NULL);
    }
    setrlimit(RLIMIT_FSIZE, &old);
    t_is_int(ret, -EFBIG, "%s: an append the kernel refuses fails (-EFBIG)", name);
    t_is_int(zc_log_end_offset(p), end, "%s: nothing assigned (end %lld)", name, (long long)end);
    t_is_int(tl_walk(p, 0, NULL, NULL), end, "%s: the log reads back whole", name);
    n = tl_batch(buf, sizeof(buf), 1, 3000, 999, 999);
    t_is_int(zc_log_append(p, buf, n, 0, NULL), 0, "%s: appends again once there is room", name);
    zc_log_close(log);
    snprintf(path, sizeof(path), "%s/.kafka_cleanshutdown", dir);
    unlink(path);
    zc_log_open(dir, &cfg, &log);
    t_is_int(zc_log_end_offset(zc_log_partition(log, "t", 0)), end + 1,
             "%s: recovery finds exactly the acknowledged appends", name);
    zc_log_close(log);
}

/* A real full disk: a 1 MiB tmpfs in a private mount namespace (root
 * only; skipped otherwise). Appends fail with -ENOSPC, nothing is lost, no
 * SIGBUS in mmap mode, and a new store still recovers what was stored. */
static void test_full_disk(enum zc_log_append_mode mode)
{
    const char *name = mode == ZC_LOG_APPEND_MMAP ? "mmap" : "write";
    struct zc_log_config cfg = { .append_mode = mode, .segment_bytes = 256 << 10 };
    const char *dir = tl_dir("full");
    struct zc_log_partition *p;
    struct zc_log *log;
    int64_t end = -1;
    int ret = 0;

    if (mount("zctest", dir, "tmpfs", 0, "size=1m") < 0) {
        t_diag("%s: no tmpfs mount (%s): full-disk case skipped", name, strerror(errno));
        return;
    }
    if (zc_log_open(dir, &cfg, &log) < 0 || zc_log_topic_create(log, "t", 1, NULL) < 0) {
        t_ok(0, "%s: open on the small tmpfs", name);
        umount(dir);
        return;
    }
    p = zc_log_partition(log, "t", 0);
    for (int i = 0; i < 2000 && ret == 0; i++) {
        size_t n = tl_batch(buf, sizeof(buf), 1, 3000, (unsigned)i, i);

        end = zc_log_end_offset(p);
        ret = zc_log_append(p, buf, n, 0, NULL);
    }
    t_is_int(ret, -ENOSPC, "%s: a full disk fails the append with -ENOSPC", name);
    t_is_int(zc_log_end_offset(p), end, "%s: nothing assigned (end %lld)", name, (long long)end);
    t_is_int(tl_walk(p, 0, NULL, NULL), end, "%s: everything stored reads back", name);
    zc_log_close(log);
    ret = zc_log_open(dir, &cfg, &log);
    t_is_int(ret, 0, "%s: reopens on the full disk", name);
    if (ret == 0) {
        t_is_int(zc_log_end_offset(zc_log_partition(log, "t", 0)), end, "%s: same end offset", name);
        zc_log_close(log);
    }
    umount2(dir, MNT_DETACH);
}

int main(void)
{
    test_truncated_behind();
    test_write_refused(ZC_LOG_APPEND_WRITE);
    test_write_refused(ZC_LOG_APPEND_MMAP);
    /* Private mounts: the tmpfs is invisible outside this process. */
    if (unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
        test_full_disk(ZC_LOG_APPEND_WRITE);
        test_full_disk(ZC_LOG_APPEND_MMAP);
    } else {
        t_diag("no private mount namespace (not root?): full-disk cases skipped");
    }
    return t_done();
}
