/* test_log_durable.c - what reaches the disk in what order, seen by
 * interposing ftruncate and fdatasync/fsync (this executable's definitions
 * win over libc's for the store's calls). A segment cut at roll (mmap mode:
 * from its preallocated length to its data) must be fdatasync'ed before the
 * store calls anything below the end offset durable: under flush=every
 * before the append that rolled returns, under every policy before close
 * writes the clean-shutdown marker. Otherwise a power loss can bring the
 * old segment back with its zero tail, recovery cuts it and deletes every
 * later segment, acknowledged appends included. */
#include <dlfcn.h>
#include <fcntl.h>

#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

enum op { OP_SHRINK, OP_SYNC };

static struct event {
    enum op op;
    int fd;
} events[4096];
static int nevents;
static bool recording;

static void record(enum op op, int fd)
{
    if (recording && nevents < (int)T_ARRAY_SIZE(events))
        events[nevents++] = (struct event){ op, fd };
}

int ftruncate(int fd, off_t len)
{
    static int (*real)(int, off_t);
    struct stat st;

    if (!real)
        real = (int (*)(int, off_t))dlsym(RTLD_NEXT, "ftruncate");
    if (fstat(fd, &st) == 0 && len < st.st_size)
        record(OP_SHRINK, fd);
    return real(fd, len);
}

int fdatasync(int fd)
{
    static int (*real)(int);

    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    record(OP_SYNC, fd);
    return real(fd);
}

int fsync(int fd)
{
    static int (*real)(int);

    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    record(OP_SYNC, fd);
    return real(fd);
}

/* True when every shrink of @fd recorded was followed by a sync of it. */
static bool synced_after_shrink(int fd)
{
    bool pending = false;

    for (int i = 0; i < nevents; i++)
        if (events[i].fd == fd)
            pending = events[i].op == OP_SHRINK;
    return !pending;
}

static bool shrunk(int fd)
{
    for (int i = 0; i < nevents; i++)
        if (events[i].fd == fd && events[i].op == OP_SHRINK)
            return true;
    return false;
}

static void run(enum zc_log_flush flush)
{
    static const char *const names[] = { "none", "roll", "every", "interval" };
    struct zc_log_config cfg = { .append_mode = ZC_LOG_APPEND_MMAP, .segment_bytes = 3000,
                                 .flush = flush, .flush_interval_ms = 1000000 };
    static uint8_t buf[4096];
    struct zc_log_partition *p;
    struct zc_log *log;
    int old_fd;

    zc_log_open(tl_dir(names[flush]), &cfg, &log);
    zc_log_topic_create(log, "t", 1, NULL);
    p = zc_log_partition(log, "t", 0);
    for (int i = 0; i < 2; i++) {
        size_t n = tl_batch(buf, sizeof(buf), 1, 1000, (unsigned)i, 1000 + i);

        zc_log_append(p, buf, n, 0, NULL);
    }
    if (flush == ZC_LOG_FLUSH_INTERVAL)     /* everything so far flushed */
        zc_log_tick(log, zc__log_now_ms() + 2000000);
    old_fd = p->segs[0]->fd;
    nevents = 0;
    recording = true;
    {
        size_t n = tl_batch(buf, sizeof(buf), 1, 1000, 2, 1002);

        t_is_int(zc_log_append(p, buf, n, 0, NULL), 0, "%s: the third append rolls", names[flush]);
    }
    t_ok(p->nsegs == 2 && shrunk(old_fd), "%s: the old mapped segment was cut to its data",
         names[flush]);
    if (flush == ZC_LOG_FLUSH_EVERY || flush == ZC_LOG_FLUSH_ROLL)
        t_ok(synced_after_shrink(old_fd),
             "%s: and fdatasync'ed before the append returned", names[flush]);
    zc_log_close(log);
    recording = false;
    t_ok(synced_after_shrink(old_fd), "%s: the cut is durable before the clean-shutdown marker",
         names[flush]);
}

int main(void)
{
    for (int f = ZC_LOG_FLUSH_NONE; f <= ZC_LOG_FLUSH_INTERVAL; f++)
        run((enum zc_log_flush)f);
    return t_done();
}
