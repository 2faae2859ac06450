/* plot.c - `--plot FILE.svg|png`: throughput and sender CPU per GB for each
 * method, one bar per sink, drawn by gnuplot (Debian gnuplot-nox) from a
 * temporary data file. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

/* gnuplot single-quoted string: a quote is written twice. */
static void gp_quoted(FILE *out, const char *s)
{
    fputc('\'', out);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', out);
        if (*s != '\n')
            fputc(*s, out);
    }
    fputc('\'', out);
}

static const struct bench_record *find(const struct bench_report *r,
                                       enum zc_method m, enum bench_sink s)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->rec[i].method == m && r->rec[i].sink == s)
            return &r->rec[i];
    return NULL;
}

/* Columns: method, then throughput per sink, then CPU per sink. */
static int write_data(FILE *f, const struct bench_report *r, uint32_t methods,
                      uint32_t sinks)
{
    fputs("method", f);
    for (int pass = 0; pass < 2; pass++)
        for (int s = 0; s < BENCH_SINK_COUNT; s++)
            if (sinks & (1u << s))
                fprintf(f, " %s", bench_sink_name((enum bench_sink)s));
    fputc('\n', f);
    for (int m = 0; m < ZC_METHOD_COUNT; m++) {
        if (!(methods & (1u << m)))
            continue;
        fprintf(f, "%s", zc_method_name((enum zc_method)m));
        for (int pass = 0; pass < 2; pass++) {
            for (int s = 0; s < BENCH_SINK_COUNT; s++) {
                const struct bench_record *x;
                double v;

                if (!(sinks & (1u << s)))
                    continue;
                x = find(r, (enum zc_method)m, (enum bench_sink)s);
                v = !x || x->status != BENCH_OK ? NAN : pass ? x->cpu_s_gb : x->gbps;
                if (isfinite(v))
                    fprintf(f, " %.6g", v);
                else
                    fputs(" ?", f);
            }
        }
        fputc('\n', f);
    }
    return ferror(f) ? -EIO : 0;
}

int bench_plot(const char *file, const struct bench_report *r)
{
    const char *dot = strrchr(file, '.');
    char data[] = "/tmp/zcopy-bench-plot.XXXXXX", size[32];
    uint32_t methods = 0, sinks = 0;
    int nsinks = 0, fd, ret, status;
    FILE *f, *gp;

    if (!dot || (strcmp(dot, ".svg") && strcmp(dot, ".png")))
        return -EINVAL;
    for (size_t i = 0; i < r->n; i++) {
        if (r->rec[i].status != BENCH_OK)
            continue;
        methods |= 1u << r->rec[i].method;
        sinks |= 1u << r->rec[i].sink;
    }
    if (!methods)
        return -ENODATA;
    for (int s = 0; s < BENCH_SINK_COUNT; s++)
        nsinks += !!(sinks & (1u << s));

    fd = mkstemp(data);
    if (fd < 0)
        return -errno;
    f = fdopen(fd, "w");
    if (!f) {
        ret = -errno;
        close(fd);
        unlink(data);
        return ret;
    }
    ret = write_data(f, r, methods, sinks);
    if (fclose(f) != 0 && ret == 0)
        ret = -EIO;
    if (ret < 0) {
        unlink(data);
        return ret;
    }

    fflush(NULL);
    gp = popen("gnuplot 2>&1", "w");
    if (!gp) {
        ret = -errno;
        unlink(data);
        return ret;
    }
    bench_format_size(r->size, size, sizeof(size));
    if (!strcmp(dot, ".svg"))
        fputs("set terminal svg size 1200,900 dynamic noenhanced font 'sans,11' background '#ffffff'\n", gp);
    else
        fputs("set terminal pngcairo size 1400,1000 noenhanced font 'sans,11' background '#ffffff'\n", gp);
    fputs("set output ", gp);
    gp_quoted(gp, file);
    fputs("\nset datafile missing '?'\n"
          "set style data histogram\nset style histogram cluster gap 1\n"
          "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
          "set key outside right top vertical\nset grid ytics\n"
          "set xtics nomirror\nset bmargin 3\nset multiplot layout 2,1 title ", gp);
    {
        char title[512];

        snprintf(title, sizeof(title),
                 "zcopy bench: %s per transfer, median of %u runs%s\\n%s, %s, %d cores%s",
                 size, r->runs, r->cold ? ", cold cache" : "", r->machine.kernel,
                 r->machine.cpu, r->machine.cores,
                 r->machine.virtual_machine ? " (VM)" : "");
        fputc('"', gp);
        for (const char *p = title; *p; p++)
            fputc(*p == '"' ? '\'' : *p, gp);
        fputs("\"\n", gp);
    }
    fputs("set logscale y\nset ylabel 'throughput, GB/s (log)'\n"
          "set title 'throughput (higher is better)'\nplot ", gp);
    for (int i = 0; i < nsinks; i++) {
        fprintf(gp, "%s", i ? ", '' " : "");
        if (i == 0)
            gp_quoted(gp, data);
        fprintf(gp, " using %d:xtic(1) title columnheader(%d)", i + 2, i + 2);
    }
    fputs("\nunset logscale y\nset yrange [0:*]\n"
          "set ylabel 'sender CPU, s per GB'\n"
          "set title 'sender CPU per GB, user + sys (lower is better)'\nplot ", gp);
    for (int i = 0; i < nsinks; i++) {
        fprintf(gp, "%s", i ? ", '' " : "");
        if (i == 0)
            gp_quoted(gp, data);
        fprintf(gp, " using %d:xtic(1) title columnheader(%d)", i + 2 + nsinks,
                i + 2 + nsinks);
    }
    fputs("\nunset multiplot\n", gp);
    status = pclose(gp);
    unlink(data);
    if (status == -1)
        return -ECHILD;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return -ENOENT;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}
