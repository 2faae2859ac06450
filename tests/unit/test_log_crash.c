/* test_log_crash.c - kill -9 at random instants: a child appends (both
 * modes, every flush policy in turn) and reports each acknowledged append
 * through a pipe; the parent SIGKILLs it after a random delay or a random
 * number of acknowledgements, reopens the log (recovery) and checks that
 * every acknowledged append is there, at the offset it was given, and that
 * the log is a clean prefix (contiguous offsets, every CRC good). The same
 * directory is used by every iteration, so a kill can also land in the
 * child's own recovery. */
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "log/log_internal.h"
#include "logutil.h"
#include "tap.h"

#define ITERATIONS 40
#define MAX_OFFSETS (1 << 20)

struct ack {
    int64_t offset;
    int64_t tag;                        /* carried as the batch timestamp */
};

static int64_t *tag_at;                 /* tag of the batch at each offset, -1 none */

static struct zc_log_config config_for(int iter)
{
    struct zc_log_config cfg = {
        .segment_bytes = 64 << 10,
        .append_mode = iter % 2 ? ZC_LOG_APPEND_MMAP : ZC_LOG_APPEND_WRITE,
        .flush = (enum zc_log_flush)(iter / 2 % 4),
        .flush_interval_ms = 5,
        .retention_ms = -1,             /* the tags stand in for timestamps: 1970 */
    };

    return cfg;
}

static void child(const char *dir, int iter, int fd, int64_t first_tag)
{
    struct zc_log_config cfg = config_for(iter);
    static uint8_t buf[1 << 16];
    struct zc_log_append_result res;
    struct zc_log_partition *p;
    struct zc_log *log;
    unsigned seed = (unsigned)iter * 7919u;

    if (zc_log_open(dir, &cfg, &log) < 0)
        _exit(2);
    if (zc_log_topic_partitions(log, "c") < 0 && zc_log_topic_create(log, "c", 1, NULL) < 0)
        _exit(3);
    p = zc_log_partition(log, "c", 0);
    for (int64_t tag = first_tag; tag < first_tag + 200000; tag++) {
        int32_t count = 1 + (int32_t)(rand_r(&seed) % 4);
        size_t n = tl_batch(buf, sizeof(buf), count, 1 + rand_r(&seed) % 3000, (uint64_t)tag, tag);
        struct ack a;

        if (zc_log_append(p, buf, n, 0, &res) < 0)
            _exit(4);
        a.offset = res.base_offset;
        a.tag = tag;
        if (write(fd, &a, sizeof(a)) != sizeof(a))
            _exit(5);
        if (tag % 64 == 0)
            zc_log_tick(log, zc__log_now_ms());
    }
    _exit(0);
}

static void on_batch(void *arg, const struct zc_batch *b, const uint8_t *bytes)
{
    (void)arg;
    (void)bytes;
    if (b->base_offset < MAX_OFFSETS)
        tag_at[b->base_offset] = b->max_timestamp;
}

int main(void)
{
    const char *dir = tl_dir("crash");
    static struct ack acks[1 << 20];
    size_t nacks = 0;
    int64_t next_tag = 1;
    int bad_prefix = 0, lost = 0, misplaced = 0, kills = 0;
    unsigned seed = (unsigned)time(NULL);

    tag_at = malloc(MAX_OFFSETS * sizeof(*tag_at));
    t_diag("seed %u", seed);
    for (int iter = 0; iter < ITERATIONS; iter++) {
        struct zc_log_config cfg = config_for(iter);
        struct zc_log_partition *p;
        struct zc_log *log;
        int fds[2], status;
        struct ack a;
        pid_t pid;
        int64_t end;

        if (pipe(fds) < 0)
            return 1;
        pid = fork();
        if (pid == 0) {
            close(fds[0]);
            child(dir, iter, fds[1], next_tag);
        }
        close(fds[1]);
        if (iter / 8 % 2 == 0) {
            /* Kill anywhere in 0-40 ms: during open and recovery, or appends
             * (on a machine short of CPU, often before any append). */
            usleep((useconds_t)(rand_r(&seed) % 40000));
        } else {
            /* Kill after the child's k-th acknowledgement of this run and up
             * to 2 ms more (mid-append): appends are exercised however slow
             * the machine; every mode and flush policy gets both kinds. */
            unsigned k = 10 + (unsigned)rand_r(&seed) % 291;
            struct pollfd pfd = { .fd = fds[0], .events = POLLIN };

            for (unsigned got = 0; got < k && nacks < T_ARRAY_SIZE(acks); got++) {
                if (poll(&pfd, 1, 60000) <= 0 || read(fds[0], &a, sizeof(a)) != sizeof(a))
                    break;              /* the child failed (its status says) */
                acks[nacks++] = a;
                next_tag = a.tag + 1;
            }
            usleep((useconds_t)(rand_r(&seed) % 2000));
        }
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        kills += WIFSIGNALED(status);
        while (read(fds[0], &a, sizeof(a)) == sizeof(a) && nacks < T_ARRAY_SIZE(acks)) {
            acks[nacks++] = a;
            next_tag = a.tag + 1;
        }
        close(fds[0]);
        next_tag += 1000;               /* tags of unacknowledged appends never repeat */

        if (zc_log_open(dir, &cfg, &log) < 0) {
            t_ok(0, "iteration %d: reopen", iter);
            break;
        }
        p = zc_log_partition(log, "c", 0);
        if (!p) {
            /* Killed before the topic existed: nothing can have been acked. */
            lost += nacks > 0;
            zc_log_close(log);
            continue;
        }
        for (size_t i = 0; i < MAX_OFFSETS; i++)
            tag_at[i] = -1;
        end = tl_walk(p, 0, on_batch, NULL);
        if (end != zc_log_end_offset(p))
            t_diag("iteration %d: read to %lld, end offset %lld", iter, (long long)end, (long long)zc_log_end_offset(p));
        bad_prefix += end != zc_log_end_offset(p);
        for (size_t i = 0; i < nacks; i++) {
            if (acks[i].offset >= end)
                lost++;
            else if (acks[i].offset < MAX_OFFSETS && tag_at[acks[i].offset] != acks[i].tag)
                misplaced++;
        }
        zc_log_close(log);
    }
    t_ok(kills > ITERATIONS / 2, "%d of %d children killed mid-run", kills, ITERATIONS);
    t_ok(nacks > 100, "%zu appends acknowledged in all", nacks);
    t_is_int(bad_prefix, 0, "after every kill the log reads back whole to its end offset");
    t_is_int(lost, 0, "no acknowledged append lost");
    t_is_int(misplaced, 0, "every acknowledged append at the offset it was given");
    free(tag_at);
    return t_done();
}
