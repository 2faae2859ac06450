/* test_log_tools.c - `zcopy log dump` and `zcopy log verify [--repair]`
 * run as a user would, on a data directory written by the store: a clean
 * directory verifies (exit 0); a flipped bit, a torn tail, a damaged index
 * and a missing clean-shutdown marker are each reported (exit 1); --repair
 * cuts and rebuilds until verify passes; dump lists every batch and entry. */
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

static char out[1 << 20];

/* Run `zcopy log ARGS`, capture stdout into out[]; the exit status. */
static int run(const char *args)
{
    char cmd[8192];
    size_t n = 0;
    FILE *f;
    int st;

    snprintf(cmd, sizeof(cmd), "'%s' log %s 2>&1", getenv("ZCOPY"), args);
    f = popen(cmd, "r");
    if (!f)
        return -1;
    while (n < sizeof(out) - 1) {
        size_t got = fread(out + n, 1, sizeof(out) - 1 - n, f);

        if (got == 0)
            break;
        n += got;
    }
    out[n] = '\0';
    st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_lines(const char *prefix)
{
    int n = 0;

    for (const char *p = out; (p = strstr(p, prefix)); p++)
        n += p == out || p[-1] == '\n';
    return n;
}

int main(void)
{
    static uint8_t buf[1 << 16];
    struct zc_log_config cfg = { .segment_bytes = 16 << 10 };
    const char *dir = tl_dir("tools");
    char args[8192], seg[4200];
    struct zc_log *log;
    int fd;

    if (!getenv("ZCOPY"))
        t_skip_all("ZCOPY is not set (run through ctest)");
    zc_log_open(dir, &cfg, &log);
    zc_log_topic_create(log, "t", 2, NULL);
    for (int i = 0; i < 40; i++) {
        size_t n = tl_batch(buf, sizeof(buf), 1 + i % 3, 1000, (unsigned)i, 5000 + i);

        zc_log_append(zc_log_partition(log, "t", i % 2), buf, n, 0, NULL);
    }
    zc_log_close(log);

    snprintf(args, sizeof(args), "verify '%s'", dir);
    t_is_int(run(args), 0, "verify: a cleanly closed directory is clean");
    t_ok(strstr(out, "1 topic(s), 0 problem(s)") != NULL, "verify says so");

    snprintf(seg, sizeof(seg), "%s/t-0/%020d.log", dir, 0);
    snprintf(args, sizeof(args), "dump '%s'", seg);
    t_is_int(run(args), 0, "dump a segment");
    {
        char want[64];

        snprintf(want, sizeof(want), "batches=%d ", count_lines("baseOffset="));
        t_ok(count_lines("baseOffset=") >= 5 && strstr(out, want),
             "one line per batch (%d), and the count", count_lines("baseOffset="));
    }
    t_ok(strstr(out, "baseOffset=0 lastOffset=0 position=0") && strstr(out, "codec=none") &&
         strstr(out, "maxTimestamp=5000") && strstr(out, "crc=ok"), "fields of the first batch");
    snprintf(args, sizeof(args), "dump '%s/t-0/%020d.index'", dir, 0);
    t_is_int(run(args), 0, "dump an index");
    t_ok(count_lines("offset=") >= 1 && strstr(out, "position="), "index entries listed");
    snprintf(args, sizeof(args), "dump '%s/t-0/%020d.timeindex'", dir, 0);
    t_is_int(run(args), 0, "dump a time index");
    t_ok(strstr(out, "timestamp=") != NULL, "time entries listed");

    /* A flipped bit in the first segment of partition 0. */
    fd = open(seg, O_RDWR);
    pwrite(fd, "\xff", 1, 3000);
    close(fd);
    snprintf(args, sizeof(args), "dump '%s'", seg);
    t_is_int(run(args), 1, "dump of a damaged segment: exit 1");
    t_ok(strstr(out, "crc=bad") != NULL, "dump shows the bad CRC");
    snprintf(args, sizeof(args), "verify '%s'", dir);
    t_is_int(run(args), 1, "verify finds the flipped bit");
    t_ok(strstr(out, "00000000000000000000.log: position") &&
         strstr(out, "length, magic or CRC-32C"), "and names the segment and the fault");
    /* A torn tail on partition 1 and a short index. */
    {
        char p1[4200], idx[4200];
        struct stat st;

        snprintf(p1, sizeof(p1), "%s/t-1/%020d.log", dir, 0);
        fd = open(p1, O_WRONLY | O_APPEND);
        write(fd, buf, 100);
        close(fd);
        snprintf(idx, sizeof(idx), "%s/t-1/%020d.index", dir, 0);
        stat(idx, &st);
        truncate(idx, st.st_size - 1);
    }
    t_is_int(run(args), 1, "verify: torn tail and short index");
    t_ok(strstr(out, "runs past the end") || strstr(out, "length, magic"), "torn tail reported");
    t_ok(strstr(out, "not whole 8-byte entries") != NULL, "short index reported");

    snprintf(args, sizeof(args), "verify '%s' --repair", dir);
    t_is_int(run(args), 0, "verify --repair: clean afterwards");
    t_ok(strstr(out, "repaired") && strstr(out, "0 problem(s)"), "repair output");
    snprintf(args, sizeof(args), "verify '%s'", dir);
    t_is_int(run(args), 0, "verify again: clean");

    /* Open it (no close): the marker is gone, so verify says recovery is due. */
    zc_log_open(dir, &cfg, &log);
    {
        pid_t pid = fork();

        if (pid == 0) {
            /* The store's lock is held by the parent: verify refuses. */
            _exit(run(args) == 3 ? 0 : 1);
        }
        {
            int st;

            waitpid(pid, &st, 0);
            t_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "verify refuses a directory in use (exit 3)");
        }
    }
    zc_log_close(log);
    {
        char marker[4200];

        snprintf(marker, sizeof(marker), "%s/.kafka_cleanshutdown", dir);
        unlink(marker);
    }
    t_is_int(run(args), 1, "verify: no clean-shutdown marker is reported");
    t_ok(strstr(out, "no clean-shutdown marker") != NULL, "as such");

    /* A store that died without closing (mmap mode: the active segment and
     * its indexes still at their preallocated length). */
    {
        struct zc_log_config mcfg = { .segment_bytes = 16 << 10, .append_mode = ZC_LOG_APPEND_MMAP };
        const char *dead = tl_dir("dead");
        pid_t pid = fork();
        int st;

        if (pid == 0) {
            zc_log_open(dead, &mcfg, &log);
            zc_log_topic_create(log, "d", 1, NULL);
            for (int i = 0; i < 30; i++) {
                size_t n = tl_batch(buf, sizeof(buf), 1, 1000, (unsigned)i, 1);

                zc_log_append(zc_log_partition(log, "d", 0), buf, n, 0, NULL);
            }
            _exit(0);                   /* no zc_log_close */
        }
        waitpid(pid, &st, 0);
        snprintf(args, sizeof(args), "verify '%s'", dead);
        t_is_int(run(args), 1, "verify: a store that died is not clean");
        t_ok(strstr(out, "zero-filled tail") && strstr(out, "never trimmed"),
             "the untrimmed segment and index are named");
        snprintf(args, sizeof(args), "verify '%s' --repair", dead);
        t_is_int(run(args), 0, "--repair makes it clean");
        zc_log_open(dead, &mcfg, &log);
        t_is_int(zc_log_end_offset(zc_log_partition(log, "d", 0)), 30, "with all 30 appends");
        zc_log_close(log);
    }

    t_is_int(run("nope"), 2, "unknown subcommand: exit 2");
    t_is_int(run("dump /nonexistent/00000000000000000000.log"), 3, "dump of a missing file: exit 3");
    return t_done();
}
