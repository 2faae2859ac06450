/* bench_main.c - `zcopy bench`: run every chosen method x sink --runs times,
 * interleaved (A B C A B C ...) so slow drifts of a shared machine spread
 * over all of them, then print the table, CSV or JSON, and the plot. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "commands.h"

/* Repeated transfers stop after this much time per run. */
#define SMALL_RUN_BUDGET_S 5.0

/* A run longer than this ends the command (SIGALRM): 60 s, plus a floor of
 * 20 MB/s for the bytes of one run. */
static unsigned run_limit_s(uint64_t size, uint64_t transfers)
{
    uint64_t bytes = size * transfers;

    return 60 + (unsigned)(bytes / (20 * 1000 * 1000));
}

static void on_fatal_signal(int sig)
{
    static const char msg[] = "\nzcopy bench: a run exceeded its time limit; stopping\n";

    /* Only async-signal-safe work: kill our receiver, remove our files.
     * The network namespaces need nothing: they die with our fds. */
    if (sig == SIGALRM && write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
        sig = SIGALRM;
    bench_sink_kill_current();
    bench_source_remove();
    bench_cow_cleanup();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signals(void)
{
    struct sigaction sa = { .sa_handler = on_fatal_signal };

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    /* Counted syscalls must be the method's own: no SIGPIPE guard inside the
     * library (ZC_SIGPIPE_HANDLED), so the process ignores SIGPIPE itself. */
    signal(SIGPIPE, SIG_IGN);
}

static void build_command(char *out, size_t len, int argc, char **argv)
{
    size_t used = (size_t)snprintf(out, len, "zcopy");

    for (int i = 0; i < argc && used < len; i++) {
        bool quote = strpbrk(argv[i], " \t'\"$") != NULL;

        used += (size_t)snprintf(out + used, len - used, quote ? " '%s'" : " %s", argv[i]);
    }
}

static void progress(bool tty, unsigned done, unsigned total, unsigned run,
                     unsigned runs, const struct bench_record *r)
{
    if (!tty)
        return;
    fprintf(stderr, "\r\033[K[%u/%u] run %u/%u: %s -> %s", done, total, run, runs,
            zc_method_name(r->method), bench_sink_name(r->sink));
}

int cmd_bench(int argc, char **argv)
{
    struct bench_opts o;
    struct bench_report rep = { 0 };
    struct bench_netns ns = { .orig_fd = -1, .ns_fd = { -1, -1 } };
    struct bench_sample *samples = NULL;
    unsigned *nsamples = NULL;
    char src_path[512];
    bool tty = isatty(STDERR_FILENO);
    int netns_err = 0, src_fd = -1, ret, exit_code = 0;
    size_t n = 0;

    ret = bench_parse_options(argc, argv, &o);
    if (ret)
        return ret > 0 ? 0 : 2;
    install_signals();
    if (o.nfanout) {
        char command[512];

        build_command(command, sizeof(command), argc, argv);
        return bench_fanout_main(&o, command);
    }

    /* The jobs: every chosen pair, or only the pairs each method serves when
     * the user did not name both sides. */
    rep.rec = calloc(ZC_METHOD_COUNT * BENCH_SINK_COUNT, sizeof(*rep.rec));
    if (!rep.rec)
        return 1;
    for (int m = 0; m < ZC_METHOD_COUNT; m++) {
        if (!(o.methods & (1u << m)))
            continue;
        for (int s = 0; s < BENCH_SINK_COUNT; s++) {
            if (!(o.sinks & (1u << s)))
                continue;
            if (!(o.methods_given && o.sinks_given) &&
                !bench_method_serves((enum zc_method)m, (enum bench_sink)s))
                continue;
            rep.rec[n].method = (enum zc_method)m;
            rep.rec[n].sink = (enum bench_sink)s;
            rep.rec[n].size = o.size;
            rep.rec[n].status = BENCH_OK;
            n++;
        }
    }
    rep.n = n;
    rep.size = o.size;
    rep.runs = o.runs;
    rep.cold = o.cold;
    build_command(rep.command, sizeof(rep.command), argc, argv);
    samples = calloc(n * o.runs + 1, sizeof(*samples));
    nsamples = calloc(n + 1, sizeof(*nsamples));
    if (!samples || !nsamples) {
        exit_code = 1;
        goto out;
    }

    bench_machine_describe(&rep.machine, o.dir);
    if (tty)
        fprintf(stderr, "zcopy bench: measuring memcpy, creating the source file...");
    rep.machine.memcpy_block = bench_memcpy_block(o.size);
    rep.machine.memcpy_gbps = bench_memcpy_rate(rep.machine.memcpy_block);

    if (o.sinks & (1u << BENCH_SINK_VETH)) {
        netns_err = bench_netns_setup(&ns);
        if (netns_err < 0)
            fprintf(stderr, "%szcopy bench: --netns: %s%s\n", tty ? "\r\033[K" : "",
                    strerror(-netns_err),
                    netns_err == -EPERM ? " (needs root)" : "");
    }
    src_fd = bench_source_create(o.dir, o.size, src_path, sizeof(src_path));
    if (src_fd < 0) {
        fprintf(stderr, "%szcopy bench: cannot create the source file in %s: %s\n",
                tty ? "\r\033[K" : "", o.dir, strerror(-src_fd));
        exit_code = 1;
        goto out;
    }

    for (unsigned run = 0; run < o.runs; run++) {
        for (size_t i = 0; i < n; i++) {
            struct bench_record *r = &rep.rec[i];
            struct bench_job job = {
                .method = r->method, .sink = r->sink, .src_fd = src_fd,
                .size = o.size, .transfers = bench_transfers_for(o.size),
                .time_budget_s = SMALL_RUN_BUDGET_S, .cold = o.cold,
                .dir = o.dir, .ns = &ns,
            };
            struct bench_sample *s = &samples[i * o.runs + nsamples[i]];
            zc_ctx *ctx;

            if (r->status != BENCH_OK)
                continue;
            if (r->sink == BENCH_SINK_VETH && !ns.up) {
                r->status = BENCH_NOT_RUN;
                r->error = netns_err ? netns_err : -ENODEV;
                continue;
            }
            progress(tty, (unsigned)(run * n + i + 1), (unsigned)(n * o.runs), run + 1,
                     o.runs, r);
            /* A fresh context per run: no pipe, ring or learned state carries
             * over from another method or run. */
            ctx = zc_ctx_new();
            if (!ctx) {
                r->status = BENCH_FAILED;
                r->error = -ENOMEM;
                continue;
            }
            zc_ctx_set_flags(ctx, ZC_SIGPIPE_HANDLED);
            alarm(run_limit_s(job.size, job.transfers));
            ret = bench_run_once(ctx, &job, s);
            alarm(0);
            zc_ctx_free(ctx);
            if (ret < 0) {
                r->status = zc_method_refused(ret) && s->bytes == 0 ? BENCH_REFUSED
                                                                   : BENCH_FAILED;
                r->error = ret;
                continue;
            }
            nsamples[i]++;
        }
    }
    if (tty)
        fputs("\r\033[K", stderr);
    {
        /* Measured again after the runs: on a shared machine the less
         * disturbed of the two is the closer to what the hardware does. */
        double again = bench_memcpy_rate(rep.machine.memcpy_block);

        if (isfinite(again) && (!isfinite(rep.machine.memcpy_gbps) ||
                                again > rep.machine.memcpy_gbps))
            rep.machine.memcpy_gbps = again;
    }

    for (size_t i = 0; i < n; i++) {
        struct bench_record *r = &rep.rec[i];

        if (r->status == BENCH_OK) {
            bench_aggregate(r, &samples[i * o.runs], nsamples[i], rep.machine.memcpy_gbps);
            bench_verdict(r, r->verdict, sizeof(r->verdict));
        } else {
            bench_aggregate(r, NULL, 0, NAN);
        }
    }

    switch (o.format) {
    case BENCH_FORMAT_CSV:
        ret = bench_render_csv(stdout, &rep);
        break;
    case BENCH_FORMAT_JSON:
        ret = bench_render_json(stdout, &rep);
        break;
    default:
        ret = bench_render_table(stdout, &rep);
    }
    if (fflush(stdout) != 0 || ret < 0)
        exit_code = 1;
    if (o.plot) {
        ret = bench_plot(o.plot, &rep);
        if (ret < 0) {
            fprintf(stderr, "zcopy bench: --plot %s: %s%s\n", o.plot, strerror(-ret),
                    ret == -ENOENT ? " (install gnuplot-nox: scripts/deps.sh bench)" : "");
            exit_code = 1;
        }
    }

out:
    if (src_fd >= 0)
        close(src_fd);
    bench_source_remove();
    bench_netns_teardown(&ns);
    free(samples);
    free(nsamples);
    free(rep.rec);
    return exit_code;
}
