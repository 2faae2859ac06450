/* fanout_main.c - `zcopy bench --fanout LIST`: every method x sink x
 * receiver count, --runs rounds interleaved (each round runs every job
 * once), medians, and each method's sender CPU as a ratio to write's in the
 * same round (the median of those ratios: on a shared machine, a ratio
 * taken minutes apart means little). Then the copy-on-write measurements
 * and the output. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#define RUN_BUDGET_S 5.0
#define RUN_LIMIT_S 120

static double per_gb(double sec, uint64_t bytes)
{
    return bytes ? sec / ((double)bytes / 1e9) : NAN;
}

static double sample_cpu(const struct bench_fanout_sample *s)
{
    return per_gb(s->user + s->sys, s->delivered);
}

/* @s: the record's samples, NaN-marked where a round failed (messages 0). */
static void aggregate(struct bench_fanout_record *r, const struct bench_fanout_sample *s,
                      const struct bench_fanout_sample *w, unsigned runs)
{
    double v[64];
    unsigned n = 0;

#define MED(expr)                                                    \
    ({                                                               \
        for (unsigned i_ = 0; i_ < runs; i_++) {                     \
            const struct bench_fanout_sample *x = &s[i_];            \
            v[i_] = x->messages ? (double)(expr) : NAN;              \
        }                                                            \
        bench_median(v, runs);                                       \
    })
    for (unsigned i = 0; i < runs; i++)
        n += s[i].messages > 0;
    r->runs = n;
    r->gbps = MED(x->seconds > 0 ? (double)x->delivered / x->seconds / 1e9 : NAN);
    r->cpu_s_gb = MED(sample_cpu(x));
    r->user_s_gb = MED(per_gb(x->user, x->delivered));
    r->sys_s_gb = MED(per_gb(x->sys, x->delivered));
    r->rcv_s_gb = MED(per_gb(x->rcv_user + x->rcv_sys, x->delivered));
    r->messages = (uint64_t)llround(MED((double)x->messages));
    r->syscalls_per_msg = MED((double)x->syscalls / (double)x->messages);
    r->copied_per_msg = MED((double)x->copied / (double)x->messages);
    r->fresh_pages_per_msg = MED((double)x->fresh_pages / (double)x->messages);
    r->ctx_switches = (uint64_t)llround(MED((double)x->ctx_switches));
    r->page_faults = (uint64_t)llround(MED((double)x->page_faults));
    r->cpu_vs_write = NAN;
    if (w)
        r->cpu_vs_write = MED(w[i_].messages ? sample_cpu(x) / sample_cpu(&w[i_]) : NAN);
#undef MED
}

/* Sockets for 2 x the largest count, plus pipes for vmsplice. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void progress(bool tty, size_t done, size_t total, const struct bench_fanout_record *r)
{
    if (tty)
        fprintf(stderr, "\r\033[K[%zu/%zu] %s -> %u %s receivers", done, total,
                bench_fanout_method_name(r->method), r->receivers,
                bench_sink_name(r->sink));
}

int bench_fanout_main(const struct bench_opts *o, const char *command)
{
    struct bench_fanout_report rep = { 0 };
    struct bench_fanout_sample *samples;
    bool tty = isatty(STDERR_FILENO);
    unsigned runs = o->runs > 64 ? 64 : o->runs;
    size_t n = 0, total;
    int ret = 0;

    raise_fd_limit();
    rep.rec = calloc((size_t)BENCH_FANOUT_METHOD_COUNT * BENCH_SINK_COUNT * o->nfanout,
                     sizeof(*rep.rec));
    if (!rep.rec)
        return 1;
    for (int s = 0; s < BENCH_SINK_COUNT; s++) {
        if (!(o->sinks & (1u << s)))
            continue;
        for (unsigned f = 0; f < o->nfanout; f++) {
            for (int m = 0; m < BENCH_FANOUT_METHOD_COUNT; m++) {
                struct bench_fanout_record *r = &rep.rec[n];

                if (!(o->methods & (1u << m)))
                    continue;
                r->method = (enum bench_fanout_method)m;
                r->sink = (enum bench_sink)s;
                r->receivers = o->fanout[f];
                r->size = o->size;
                r->status = BENCH_OK;
                n++;
            }
        }
    }
    rep.n = n;
    rep.size = o->size;
    rep.runs = runs;
    snprintf(rep.command, sizeof(rep.command), "%s", command);
    samples = calloc(n * runs + 1, sizeof(*samples));
    if (!samples) {
        free(rep.rec);
        return 1;
    }
    bench_machine_describe(&rep.machine, o->dir);
    rep.machine.memcpy_block = bench_memcpy_block(o->size);
    rep.machine.memcpy_gbps = bench_memcpy_rate(rep.machine.memcpy_block);

    total = n * runs;
    for (unsigned run = 0; run < runs; run++) {
        for (size_t i = 0; i < n; i++) {
            struct bench_fanout_record *r = &rep.rec[i];
            struct bench_fanout_job job = {
                .method = r->method, .sink = r->sink, .receivers = r->receivers,
                .size = o->size,
                .messages = bench_fanout_messages_for(o->size, r->receivers),
                .time_budget_s = RUN_BUDGET_S,
            };
            struct bench_fanout_sample *s = &samples[i * runs + run];

            if (r->status != BENCH_OK)
                continue;
            progress(tty, run * n + i + 1, total, r);
            alarm(RUN_LIMIT_S);
            ret = bench_fanout_run_once(&job, s);
            alarm(0);
            if (ret < 0) {
                r->status = BENCH_FAILED;
                r->error = ret;
                s->messages = 0;
            }
        }
    }
    if (tty)
        fputs("\r\033[K", stderr);

    for (size_t i = 0; i < n; i++) {
        struct bench_fanout_record *r = &rep.rec[i];
        const struct bench_fanout_sample *w = NULL;

        /* write's record for the same sink and count: the ratio's base. */
        for (size_t j = 0; j < n; j++) {
            if (rep.rec[j].method == BENCH_FANOUT_WRITE && rep.rec[j].sink == r->sink &&
                rep.rec[j].receivers == r->receivers && rep.rec[j].status == BENCH_OK)
                w = &samples[j * runs];
        }
        if (r->status == BENCH_OK)
            aggregate(r, &samples[i * runs], w, runs);
    }

    if (tty)
        fprintf(stderr, "zcopy bench: measuring copy-on-write...");
    bench_cow_measure(&rep.cow, o->size, o->dir);
    if (tty)
        fputs("\r\033[K", stderr);

    switch (o->format) {
    case BENCH_FORMAT_CSV:
        ret = bench_fanout_render_csv(stdout, &rep);
        break;
    case BENCH_FORMAT_JSON:
        ret = bench_fanout_render_json(stdout, &rep);
        break;
    default:
        ret = bench_fanout_render_table(stdout, &rep);
    }
    if (fflush(stdout) != 0)
        ret = -1;
    free(samples);
    free(rep.rec);
    return ret < 0 ? 1 : 0;
}
