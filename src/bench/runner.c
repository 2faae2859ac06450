/* runner.c - one measurement of one method x sink, and the medians over runs.
 *
 * Sender CPU is getrusage(RUSAGE_SELF) around the transfers: the whole
 * process, so io_uring's io-wq workers (threads of this process) are billed
 * where they belong; nothing else runs in it meanwhile. The receiver reports
 * its own. Syscalls are the library's exact count (zc_ctx_stats), not a
 * sampling: ZC_SIGPIPE_HANDLED keeps its SIGPIPE guard out of the count. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench.h"

#define FINISH_TIMEOUT_S 120

uint64_t bench_transfers_for(uint64_t size)
{
    uint64_t n;

    if (size >= BENCH_REPEAT_BELOW)
        return 1;
    n = BENCH_REPEAT_BELOW / size;
    return n < 1 ? 1 : n > 20000 ? 20000 : n;
}

int bench_run_once(zc_ctx *ctx, const struct bench_job *job, struct bench_sample *s)
{
    struct bench_sink_conn conn;
    struct bench_rcv_report rep;
    struct rusage r0, r1;
    struct zc_stats st;
    double t0, t1;
    int ret, fin;

    memset(s, 0, sizeof(*s));
    s->rcv_user = s->rcv_sys = NAN;
    if (job->cold)
        posix_fadvise(job->src_fd, 0, 0, POSIX_FADV_DONTNEED);
    ret = bench_sink_open(job->sink, job->dir, job->ns, &conn);
    if (ret < 0)
        return ret;

    zc_ctx_stats_reset(ctx);
    getrusage(RUSAGE_SELF, &r0);
    t0 = bench_now();
    for (uint64_t i = 0; i < job->transfers; i++) {
        uint64_t left = job->size;
        off_t off = 0;

        while (left > 0) {
            ssize_t n = zc_transfer(ctx, conn.out_fd, job->src_fd, &off,
                                    (size_t)left, job->method);

            if (n <= 0) {
                ret = n < 0 ? (int)n : -EIO;    /* 0: the source ended early */
                goto stop;
            }
            left -= (uint64_t)n;
            s->bytes += (uint64_t)n;
        }
        s->transfers++;
        /* Bounded in time as well as count; the clock is read every 16. */
        if ((i & 15) == 15 && bench_now() - t0 > job->time_budget_s)
            break;
    }
stop:
    t1 = bench_now();
    getrusage(RUSAGE_SELF, &r1);
    zc_ctx_stats(ctx, &st);

    fin = bench_sink_finish(&conn, &rep, FINISH_TIMEOUT_S);
    s->seconds = t1 - t0;
    s->user = bench_tv_s(r1.ru_utime) - bench_tv_s(r0.ru_utime);
    s->sys = bench_tv_s(r1.ru_stime) - bench_tv_s(r0.ru_stime);
    s->syscalls = st.syscalls;
    s->ctx_switches = (uint64_t)((r1.ru_nvcsw - r0.ru_nvcsw) + (r1.ru_nivcsw - r0.ru_nivcsw));
    s->page_faults = (uint64_t)((r1.ru_minflt - r0.ru_minflt) + (r1.ru_majflt - r0.ru_majflt));
    if ((unsigned)job->method < ZC_METHOD_COUNT) {
        s->zc_sent = st.method[job->method].zc_sent;
        s->zc_copied = st.method[job->method].zc_copied;
    }
    if (fin == 1) {
        s->rcv_user = rep.user;
        s->rcv_sys = rep.sys;
        /* Every byte the library said it moved must have arrived. */
        if (ret == 0 && (rep.error || rep.bytes != s->bytes))
            ret = rep.error ? rep.error : -EIO;
    } else if (fin < 0 && ret == 0) {
        ret = fin;
    }
    return ret;
}

#define MEDIAN_OF(field_expr)                                    \
    ({                                                           \
        for (size_t i_ = 0; i_ < n; i_++) {                      \
            const struct bench_sample *x = &s[i_];               \
            (void)x;                                             \
            v[i_] = (field_expr);                                \
        }                                                        \
        bench_median(v, n);                                      \
    })

void bench_aggregate(struct bench_record *r, const struct bench_sample *s, size_t n,
                     double memcpy_gbps)
{
    double *v = calloc(n ? n : 1, sizeof(double));

    r->runs = (unsigned)n;
    r->gbps = r->gbps_min = r->gbps_max = r->ns_per_transfer = NAN;
    r->user_s_gb = r->sys_s_gb = r->cpu_s_gb = r->rcv_s_gb = NAN;
    r->syscalls_per_transfer = r->switches_per_transfer = r->est_copies = NAN;
    if (!v || n == 0) {
        free(v);
        return;
    }
    r->gbps = MEDIAN_OF(x->seconds > 0 ? (double)x->bytes / x->seconds / 1e9 : NAN);
    for (size_t i = 0; i < n; i++) {
        double g = s[i].seconds > 0 ? (double)s[i].bytes / s[i].seconds / 1e9 : NAN;

        if (isfinite(g) && (!isfinite(r->gbps_min) || g < r->gbps_min))
            r->gbps_min = g;
        if (isfinite(g) && (!isfinite(r->gbps_max) || g > r->gbps_max))
            r->gbps_max = g;
    }
    r->ns_per_transfer = MEDIAN_OF(x->transfers ? x->seconds * 1e9 / (double)x->transfers
                                                : NAN);
    r->user_s_gb = MEDIAN_OF(x->bytes ? x->user / ((double)x->bytes / 1e9) : NAN);
    r->sys_s_gb = MEDIAN_OF(x->bytes ? x->sys / ((double)x->bytes / 1e9) : NAN);
    r->cpu_s_gb = MEDIAN_OF(x->bytes ? (x->user + x->sys) / ((double)x->bytes / 1e9)
                                     : NAN);
    r->rcv_s_gb = MEDIAN_OF(x->bytes ? (x->rcv_user + x->rcv_sys) /
                                           ((double)x->bytes / 1e9) : NAN);
    r->bytes = (uint64_t)llround(MEDIAN_OF((double)x->bytes));
    r->transfers = (uint64_t)llround(MEDIAN_OF((double)x->transfers));
    r->syscalls = (uint64_t)llround(MEDIAN_OF((double)x->syscalls));
    r->syscalls_per_transfer = MEDIAN_OF(x->transfers ? (double)x->syscalls /
                                                            (double)x->transfers : NAN);
    r->switches_per_transfer = 2 * r->syscalls_per_transfer;
    r->ctx_switches = (uint64_t)llround(MEDIAN_OF((double)x->ctx_switches));
    r->page_faults = (uint64_t)llround(MEDIAN_OF((double)x->page_faults));
    r->zc_sent = (uint64_t)llround(MEDIAN_OF((double)x->zc_sent));
    r->zc_copied = (uint64_t)llround(MEDIAN_OF((double)x->zc_copied));
    r->est_copies = bench_copies_estimate(r->cpu_s_gb, memcpy_gbps);
    free(v);
}
