/* render_json.c - one JSON document: the run and the machine, then
 * "records", one object per method x sink (one per line, so grep works too).
 * Numbers that were not measured are null. */
#include <math.h>
#include <stdio.h>

#include "bench.h"

static void str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);     /* UTF-8 passes through */
        }
    }
    fputc('"', out);
}

static void key(FILE *out, const char *k, bool first)
{
    if (!first)
        fputs(", ", out);
    str(out, k);
    fputs(": ", out);
}

static void kstr(FILE *out, const char *k, const char *v, bool first)
{
    key(out, k, first);
    if (v)
        str(out, v);
    else
        fputs("null", out);
}

static void kdbl(FILE *out, const char *k, double v)
{
    key(out, k, false);
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    else
        fputs("null", out);
}

static void ku64(FILE *out, const char *k, uint64_t v, bool valid)
{
    key(out, k, false);
    if (valid)
        fprintf(out, "%llu", (unsigned long long)v);
    else
        fputs("null", out);
}

static void record(FILE *out, const struct bench_record *rec)
{
    const struct bench_record shown = bench_record_shown(rec);
    const struct bench_record *x = &shown;
    const struct bench_theory *t = bench_theory(x->method);
    bool ok = x->status == BENCH_OK;

    fputc('{', out);
    kstr(out, "method", zc_method_name(x->method), true);
    kstr(out, "sink", bench_sink_name(x->sink), false);
    kstr(out, "status", bench_status_name(x->status), false);
    kstr(out, "error", x->error ? bench_errno_name(x->error) : NULL, false);
    ku64(out, "size", x->size, true);
    ku64(out, "transfers", x->transfers, ok);
    ku64(out, "runs", x->runs, ok);
    ku64(out, "bytes", x->bytes, ok);
    kdbl(out, "throughput", x->gbps);
    kdbl(out, "throughput_min", x->gbps_min);
    kdbl(out, "throughput_max", x->gbps_max);
    kdbl(out, "ns_per_transfer", x->ns_per_transfer);
    kdbl(out, "cpu", x->cpu_s_gb);
    kdbl(out, "cpu_user", x->user_s_gb);
    kdbl(out, "cpu_sys", x->sys_s_gb);
    kdbl(out, "receiver_cpu", x->rcv_s_gb);
    ku64(out, "syscalls", x->syscalls, ok);
    kdbl(out, "syscalls_per_transfer", x->syscalls_per_transfer);
    kdbl(out, "switches_per_transfer", x->switches_per_transfer);
    ku64(out, "ctx_switches", x->ctx_switches, ok);
    ku64(out, "page_faults", x->page_faults, ok);
    ku64(out, "zc_sent", x->zc_sent, ok);
    ku64(out, "zc_copied", x->zc_copied, ok);
    kdbl(out, "est_cpu_copies", x->est_copies);
    key(out, "theory", false);
    fputc('{', out);
    kstr(out, "cpu_copies", t->cpu_copies, true);
    kstr(out, "dma_copies", t->dma_copies, false);
    kstr(out, "switches", t->switches, false);
    kstr(out, "source", t->source, false);
    fputc('}', out);
    kstr(out, "verdict", ok ? x->verdict : NULL, false);
    fputc('}', out);
}

int bench_render_json(FILE *out, const struct bench_report *r)
{
    const struct bench_machine *m = &r->machine;

    fputs("{", out);
    kstr(out, "tool", "zcopy bench", true);
    kstr(out, "version", ZC_VERSION_STRING, false);
    kstr(out, "command", r->command, false);
    fputs(",\n \"machine\": {", out);
    kstr(out, "kernel", m->kernel, true);
    kstr(out, "cpu", m->cpu, false);
    key(out, "virtual_machine", false);
    fputs(m->virtual_machine ? "true" : "false", out);
    ku64(out, "cores", (uint64_t)m->cores, true);
    ku64(out, "memory_bytes", m->mem_bytes, true);
    kstr(out, "filesystem", m->fs, false);
    kstr(out, "source_dir", m->dir, false);
    kdbl(out, "memcpy_gbps", m->memcpy_gbps);
    ku64(out, "memcpy_block", m->memcpy_block, m->memcpy_block > 0);
    fputs("},\n \"size\": ", out);
    fprintf(out, "%llu", (unsigned long long)r->size);
    ku64(out, "runs", r->runs, true);
    key(out, "cold", false);
    fputs(r->cold ? "true" : "false", out);
    /* 0: the library's default. */
    ku64(out, "direct_depth", r->direct_depth, true);
    ku64(out, "direct_buf", r->direct_buf, true);
    fputs(",\n \"units\": {", out);
    kstr(out, "throughput", "GB/s (1e9 bytes per second), median over runs", true);
    kstr(out, "cpu", "CPU seconds per GB moved (sender, user + sys)", false);
    kstr(out, "receiver_cpu", "CPU seconds per GB moved (receiving process)", false);
    kstr(out, "syscalls", "per run, exact (libzcopy stats)", false);
    kstr(out, "ctx_switches", "per run (sender)", false);
    kstr(out, "page_faults", "per run (sender)", false);
    kstr(out, "zc_copied", "bytes per run", false);
    kstr(out, "est_cpu_copies", "ESTIMATE: cpu x memcpy_gbps", false);
    fputs("},\n \"notes\": [", out);
    for (int i = 0; bench_notes[i]; i++) {
        if (i)
            fputs(",\n  ", out);
        str(out, bench_notes[i]);
    }
    fputs("],\n \"records\": [", out);
    for (size_t i = 0; i < r->n; i++) {
        fputs(i ? ",\n  " : "\n  ", out);
        record(out, &r->rec[i]);
    }
    fputs("\n ]\n}\n", out);
    return ferror(out) ? -1 : 0;
}
