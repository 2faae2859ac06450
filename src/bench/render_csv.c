/* render_csv.c - RFC 4180 CSV: a header row, then one row per method x sink.
 * The machine description and notes come first as "# key: value" lines
 * (what gnuplot, pandas' comment='#' and awk skip). Unmeasured numbers are
 * empty fields; the column names are the JSON keys. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* Quote a field when it holds a comma, quote, CR or LF; double the quotes. */
static void field(FILE *out, const char *s, bool last)
{
    if (s && strpbrk(s, ",\"\r\n")) {
        fputc('"', out);
        for (; *s; s++) {
            if (*s == '"')
                fputc('"', out);
            fputc(*s, out);
        }
        fputc('"', out);
    } else if (s) {
        fputs(s, out);
    }
    fputs(last ? "\r\n" : ",", out);
}

static void dbl(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    fputc(',', out);
}

static void u64(FILE *out, uint64_t v)
{
    fprintf(out, "%llu,", (unsigned long long)v);
}

/* A comment line must not be broken by the value it carries. */
static void comment(FILE *out, const char *key, const char *value)
{
    fprintf(out, "# %s: ", key);
    for (; *value; value++)
        fputc(*value == '\n' || *value == '\r' ? ' ' : *value, out);
    fputs("\r\n", out);
}

int bench_render_csv(FILE *out, const struct bench_report *r)
{
    const struct bench_machine *m = &r->machine;
    char buf[64];

    comment(out, "tool", "zcopy bench " ZC_VERSION_STRING);
    if (r->command[0])
        comment(out, "command", r->command);
    comment(out, "kernel", m->kernel);
    comment(out, "cpu", m->cpu);
    comment(out, "virtual_machine", m->virtual_machine ? "yes" : "no");
    snprintf(buf, sizeof(buf), "%d", m->cores);
    comment(out, "cores", buf);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)m->mem_bytes);
    comment(out, "memory_bytes", buf);
    comment(out, "filesystem", m->fs);
    comment(out, "source_dir", m->dir);
    if (isfinite(m->memcpy_gbps)) {
        snprintf(buf, sizeof(buf), "%.9g", m->memcpy_gbps);
        comment(out, "memcpy_gbps", buf);
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)m->memcpy_block);
        comment(out, "memcpy_block", buf);
    }
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->size);
    comment(out, "size", buf);
    snprintf(buf, sizeof(buf), "%u", r->runs);
    comment(out, "runs", buf);
    comment(out, "cache", r->cold ? "cold" : "warm");
    snprintf(buf, sizeof(buf), "%u", r->direct_depth);
    comment(out, "direct_depth", buf);
    snprintf(buf, sizeof(buf), "%llu", (unsigned long long)r->direct_buf);
    comment(out, "direct_buf", buf);
    for (int i = 0; bench_notes[i]; i++)
        comment(out, "note", bench_notes[i]);

    fputs("method,sink,status,error,size,transfers,runs,bytes,throughput,throughput_min,"
          "throughput_max,ns_per_transfer,cpu,cpu_user,cpu_sys,receiver_cpu,syscalls,"
          "syscalls_per_transfer,switches_per_transfer,ctx_switches,page_faults,zc_sent,"
          "zc_copied,est_cpu_copies,theory_cpu_copies,theory_dma_copies,theory_switches,"
          "theory_source,verdict\r\n", out);
    for (size_t i = 0; i < r->n; i++) {
        const struct bench_record shown = bench_record_shown(&r->rec[i]);
        const struct bench_record *x = &shown;
        const struct bench_theory *t = bench_theory(x->method);
        bool ok = x->status == BENCH_OK;

        field(out, zc_method_name(x->method), false);
        field(out, bench_sink_name(x->sink), false);
        field(out, bench_status_name(x->status), false);
        field(out, x->error ? bench_errno_name(x->error) : "", false);
        u64(out, x->size);
        if (ok) {
            u64(out, x->transfers);
            fprintf(out, "%u,", x->runs);
            u64(out, x->bytes);
        } else {
            fputs(",,,", out);
        }
        dbl(out, x->gbps);
        dbl(out, x->gbps_min);
        dbl(out, x->gbps_max);
        dbl(out, x->ns_per_transfer);
        dbl(out, x->cpu_s_gb);
        dbl(out, x->user_s_gb);
        dbl(out, x->sys_s_gb);
        dbl(out, x->rcv_s_gb);
        if (ok) {
            u64(out, x->syscalls);
            dbl(out, x->syscalls_per_transfer);
            dbl(out, x->switches_per_transfer);
            u64(out, x->ctx_switches);
            u64(out, x->page_faults);
            u64(out, x->zc_sent);
            u64(out, x->zc_copied);
        } else {
            fputs(",,,,,,,", out);
        }
        dbl(out, x->est_copies);
        field(out, t->cpu_copies, false);
        field(out, t->dma_copies, false);
        field(out, t->switches, false);
        field(out, t->source, false);
        field(out, x->verdict, true);
    }
    return ferror(out) ? -1 : 0;
}
