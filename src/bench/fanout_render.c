/* fanout_render.c - the outputs of `zcopy bench --fanout`: one row per
 * method x sink x receivers (table, CSV, JSON records carrying "method" and
 * "receivers"), then the comparison table's two rows the articles end with,
 * "buffer sharing" and "copy-on-write", filled with what was measured. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

const char *const bench_fanout_rows[2] = { "buffer sharing", "copy-on-write" };

const char *const bench_fanout_claims[2] = {
    "fbuf: a buffer pool mapped by user space and kernel, data handed over by "
    "reference, no copy (seed 002; no figures)",
    "shared data is copied only when a process writes it (seed 002; no figures)",
};

static const char *const fanout_notes[] = {
    "One message of the given size, generated once per message (memset), sent to "
    "every receiver; receivers are the other ends of the sockets, drained by one "
    "other process (poll + 1 MiB reads) that checks one byte per page of every "
    "message: a page changed in flight fails the run.",
    "snd cpu: the sender's CPU seconds (user + sys, getrusage) per GB delivered "
    "(bytes x receivers), message generation included. vs write: the median over "
    "rounds of this method's snd cpu / write's in the same round (interleaved runs).",
    "syscalls/msg: exact (counted by the sender, or libzcopy's ctx + pool stats). "
    "copied/msg: message bytes the kernel copied on the send side (write: one copy "
    "per receiver; sendfile/splice/tee pass page references). fresh pages/msg: pages "
    "zc_pool replaced under sent bytes (hole punch + fresh zeroed pages).",
    "On loopback TCP the receiver's softirq work runs on the sender's CPU and is "
    "billed to it (no IRQ time accounting here).",
    NULL,
};

static double best_ratio(const struct bench_fanout_report *r, enum bench_sink sink,
                         unsigned *recv, const struct bench_fanout_record **pool,
                         const struct bench_fanout_record **write)
{
    unsigned most = 0;

    *pool = *write = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (r->rec[i].sink == sink && r->rec[i].status == BENCH_OK &&
            r->rec[i].method == BENCH_FANOUT_POOL && r->rec[i].receivers > most) {
            most = r->rec[i].receivers;
            *pool = &r->rec[i];
        }
    for (size_t i = 0; *pool && i < r->n; i++)
        if (r->rec[i].sink == sink && r->rec[i].receivers == most &&
            r->rec[i].method == BENCH_FANOUT_WRITE && r->rec[i].status == BENCH_OK)
            *write = &r->rec[i];
    *recv = most;
    return *pool ? (*pool)->cpu_vs_write : NAN;
}

void bench_fanout_comparison(const struct bench_fanout_report *r, int row, char *out,
                             size_t len)
{
    size_t used = 0;
    char sz[32];

    out[0] = '\0';
    bench_format_size(r->size, sz, sizeof(sz));
    if (row == 0) {
        for (int sink = 0; sink < BENCH_SINK_COUNT; sink++) {
            const struct bench_fanout_record *p, *w;
            unsigned n;
            double ratio = best_ratio(r, (enum bench_sink)sink, &n, &p, &w);

            if (!p || used >= len)
                continue;
            used += (size_t)snprintf(out + used, len - used,
                "%szc_pool, %s message to %u %s receivers: sender %.3f s/GB = %.2fx "
                "write's, kernel copied %.0f B/msg (write: %.0f), %.1f syscalls/msg "
                "(write: %.1f)", used ? "; " : "", sz, n, bench_sink_name(p->sink),
                p->cpu_s_gb, ratio, p->copied_per_msg, w ? w->copied_per_msg : NAN,
                p->syscalls_per_msg, w ? w->syscalls_per_msg : NAN);
        }
        if (!used)
            snprintf(out, len, "not measured (no pool run)");
        return;
    }
    used = (size_t)snprintf(out, len,
        "writing a sent %s slice again: %.1f us by zc_pool_rewrite + zc_pool_write, "
        "%.1f us by zc_pool_rewrite + the pointer (hole punch, fresh pages; bytes in "
        "flight unchanged) vs %.1f us for the kernel's MAP_PRIVATE COW faults over it "
        "and %.1f us for a memcpy of it", sz, r->cow.pool_rewrite_us,
        r->cow.pool_rewrite_map_us, r->cow.private_fault_us, r->cow.memcpy_us);
    if (used >= len)
        return;
    if (r->cow.fs_done)
        snprintf(out + used, len - used,
            "; XFS (reflink=1, loop image), %llu MiB file copied to fsync: FICLONE %.1f ms, "
            "%.1f MiB of blocks its own (not shared); copy_file_range %.1f ms, %.1f MiB own; "
            "read+write %.1f ms, %.1f MiB own", (unsigned long long)(r->cow.file_size >> 20), r->cow.ficlone_ms,
            r->cow.ficlone_mib, r->cow.cfr_ms, r->cow.cfr_mib, r->cow.rw_ms,
            r->cow.rw_mib);
    else
        snprintf(out + used, len - used, "; file system reflink row %s", r->cow.fs_skip);
}

enum col { C_METHOD, C_SINK, C_RECV, C_GBPS, C_CPU, C_VS, C_RCV, C_SC, C_COPIED,
           C_FRESH, C_CSW, C_FLT, C_COUNT };

static const char *const heads[C_COUNT] = {
    "method", "sink", "receivers", "GB/s", "snd cpu", "vs write", "rcv cpu",
    "syscalls/msg", "copied/msg", "fresh pages/msg", "ctxsw", "faults",
};

#define CELL 48

static void num(char *out, double v, const char *fmt)
{
    bench_format_num(out, CELL, v, fmt);
}

static void fill_row(char cells[C_COUNT][CELL], const struct bench_fanout_record *r)
{
    for (int c = 0; c < C_COUNT; c++)
        cells[c][0] = '\0';
    snprintf(cells[C_METHOD], CELL, "%s", bench_fanout_method_name(r->method));
    snprintf(cells[C_SINK], CELL, "%s", bench_sink_name(r->sink));
    snprintf(cells[C_RECV], CELL, "%u", r->receivers);
    if (r->status != BENCH_OK) {
        snprintf(cells[C_GBPS], CELL, "failed: %s", bench_errno_name(r->error));
        return;
    }
    num(cells[C_GBPS], r->gbps, "%.2f");
    num(cells[C_CPU], r->cpu_s_gb, "%.3f");
    num(cells[C_VS], r->cpu_vs_write, "%.2fx");
    num(cells[C_RCV], r->rcv_s_gb, "%.3f");
    num(cells[C_SC], r->syscalls_per_msg, "%.1f");
    num(cells[C_COPIED], r->copied_per_msg, "%.0f");
    num(cells[C_FRESH], r->fresh_pages_per_msg, "%.1f");
    snprintf(cells[C_CSW], CELL, "%llu", (unsigned long long)r->ctx_switches);
    snprintf(cells[C_FLT], CELL, "%llu", (unsigned long long)r->page_faults);
}

int bench_fanout_render_table(FILE *out, const struct bench_fanout_report *r)
{
    const struct bench_machine *m = &r->machine;
    char cells[C_COUNT][CELL], sz[32], mem[32], text[2048];
    size_t width[C_COUNT] = { 0 };

    for (size_t i = 0; i <= r->n; i++) {
        if (i == 0)
            for (int c = 0; c < C_COUNT; c++)
                snprintf(cells[c], CELL, "%s", heads[c]);
        else
            fill_row(cells, &r->rec[i - 1]);
        for (int c = 0; c < C_COUNT; c++)
            if (strlen(cells[c]) > width[c] && !(i && r->rec[i - 1].status != BENCH_OK))
                width[c] = strlen(cells[c]);
    }
    bench_format_size(r->size, sz, sizeof(sz));
    bench_format_size(m->mem_bytes, mem, sizeof(mem));
    fprintf(out, "zcopy bench --fanout: %s messages, median of %u interleaved round%s\n",
            sz, r->runs, r->runs == 1 ? "" : "s");
    fprintf(out, "machine: %s; %s%s; %d cores; %s RAM\n", m->kernel, m->cpu,
            m->virtual_machine ? " (virtual machine)" : "", m->cores, mem);
    if (r->command[0])
        fprintf(out, "command: %s\n", r->command);
    fputc('\n', out);
    for (size_t i = 0; i <= r->n; i++) {
        bool failed = i && r->rec[i - 1].status != BENCH_OK;

        if (i == 0)
            for (int c = 0; c < C_COUNT; c++)
                snprintf(cells[c], CELL, "%s", heads[c]);
        else
            fill_row(cells, &r->rec[i - 1]);
        for (int c = 0; c < C_COUNT; c++) {
            bool left = c <= C_SINK;

            if (failed && c > C_GBPS)
                break;
            fprintf(out, "%s%*s", c ? "  " : "", left ? -(int)width[c] : (int)width[c],
                    cells[c]);
        }
        fputc('\n', out);
    }
    fputc('\n', out);
    for (int i = 0; fanout_notes[i]; i++)
        fprintf(out, "- %s\n", fanout_notes[i]);
    fprintf(out, "\ncomparison table, the articles' last two rows, measured:\n");
    for (int row = 0; row < 2; row++) {
        bench_fanout_comparison(r, row, text, sizeof(text));
        fprintf(out, "%-15s  articles: %s\n%-15s  measured: %s\n", bench_fanout_rows[row],
                bench_fanout_claims[row], "", text);
    }
    return ferror(out) ? -1 : 0;
}

static void csv_num(FILE *out, double v, bool last)
{
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    fputs(last ? "\r\n" : ",", out);
}

int bench_fanout_render_csv(FILE *out, const struct bench_fanout_report *r)
{
    char text[2048];

    fprintf(out, "# tool: zcopy bench --fanout " ZC_VERSION_STRING "\r\n");
    if (r->command[0])
        fprintf(out, "# command: %s\r\n", r->command);
    fprintf(out, "# kernel: %s\r\n# cores: %d\r\n# size: %llu\r\n# runs: %u\r\n",
            r->machine.kernel, r->machine.cores, (unsigned long long)r->size, r->runs);
    for (int i = 0; fanout_notes[i]; i++)
        fprintf(out, "# note: %s\r\n", fanout_notes[i]);
    for (int row = 0; row < 2; row++) {
        bench_fanout_comparison(r, row, text, sizeof(text));
        fprintf(out, "# comparison: %s: %s\r\n", bench_fanout_rows[row], text);
    }
    fputs("method,sink,receivers,status,error,size,messages,runs,throughput,cpu,cpu_user,"
          "cpu_sys,receiver_cpu,cpu_vs_write,syscalls_per_message,copied_per_message,"
          "fresh_pages_per_message,ctx_switches,page_faults\r\n", out);
    for (size_t i = 0; i < r->n; i++) {
        const struct bench_fanout_record *x = &r->rec[i];
        bool ok = x->status == BENCH_OK;

        fprintf(out, "%s,%s,%u,%s,%s,%llu,", bench_fanout_method_name(x->method),
                bench_sink_name(x->sink), x->receivers, bench_status_name(x->status),
                x->error ? bench_errno_name(x->error) : "", (unsigned long long)x->size);
        if (!ok) {
            fputs(",,,,,,,,,,,,\r\n", out);
            continue;
        }
        fprintf(out, "%llu,%u,", (unsigned long long)x->messages, x->runs);
        csv_num(out, x->gbps, false);
        csv_num(out, x->cpu_s_gb, false);
        csv_num(out, x->user_s_gb, false);
        csv_num(out, x->sys_s_gb, false);
        csv_num(out, x->rcv_s_gb, false);
        csv_num(out, x->cpu_vs_write, false);
        csv_num(out, x->syscalls_per_msg, false);
        csv_num(out, x->copied_per_msg, false);
        csv_num(out, x->fresh_pages_per_msg, false);
        fprintf(out, "%llu,%llu\r\n", (unsigned long long)x->ctx_switches,
                (unsigned long long)x->page_faults);
    }
    return ferror(out) ? -1 : 0;
}

static void jstr(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void jnum(FILE *out, const char *key, double v)
{
    fprintf(out, ", \"%s\": ", key);
    if (isfinite(v))
        fprintf(out, "%.9g", v);
    else
        fputs("null", out);
}

int bench_fanout_render_json(FILE *out, const struct bench_fanout_report *r)
{
    const struct bench_cow *c = &r->cow;
    char text[2048];

    fputs("{\"tool\": \"zcopy bench --fanout\", \"version\": \"" ZC_VERSION_STRING
          "\", \"command\": ", out);
    jstr(out, r->command);
    fputs(",\n \"machine\": {\"kernel\": ", out);
    jstr(out, r->machine.kernel);
    fputs(", \"cpu\": ", out);
    jstr(out, r->machine.cpu);
    fprintf(out, ", \"cores\": %d}", r->machine.cores);
    fprintf(out, ",\n \"size\": %llu, \"runs\": %u,\n \"notes\": [",
            (unsigned long long)r->size, r->runs);
    for (int i = 0; fanout_notes[i]; i++) {
        fputs(i ? ",\n  " : "", out);
        jstr(out, fanout_notes[i]);
    }
    fputs("],\n \"records\": [", out);
    for (size_t i = 0; i < r->n; i++) {
        const struct bench_fanout_record *x = &r->rec[i];
        bool ok = x->status == BENCH_OK;

        fputs(i ? ",\n  {" : "\n  {", out);
        fputs("\"method\": ", out);
        jstr(out, bench_fanout_method_name(x->method));
        fputs(", \"sink\": ", out);
        jstr(out, bench_sink_name(x->sink));
        fprintf(out, ", \"receivers\": %u, \"status\": \"%s\", \"error\": ", x->receivers,
                bench_status_name(x->status));
        if (x->error)
            jstr(out, bench_errno_name(x->error));
        else
            fputs("null", out);
        fprintf(out, ", \"size\": %llu", (unsigned long long)x->size);
        if (ok)
            fprintf(out, ", \"messages\": %llu, \"runs\": %u, \"ctx_switches\": %llu, "
                    "\"page_faults\": %llu", (unsigned long long)x->messages, x->runs,
                    (unsigned long long)x->ctx_switches, (unsigned long long)x->page_faults);
        jnum(out, "throughput", ok ? x->gbps : NAN);
        jnum(out, "cpu", ok ? x->cpu_s_gb : NAN);
        jnum(out, "cpu_user", ok ? x->user_s_gb : NAN);
        jnum(out, "cpu_sys", ok ? x->sys_s_gb : NAN);
        jnum(out, "receiver_cpu", ok ? x->rcv_s_gb : NAN);
        jnum(out, "cpu_vs_write", ok ? x->cpu_vs_write : NAN);
        jnum(out, "syscalls_per_message", ok ? x->syscalls_per_msg : NAN);
        jnum(out, "copied_per_message", ok ? x->copied_per_msg : NAN);
        jnum(out, "fresh_pages_per_message", ok ? x->fresh_pages_per_msg : NAN);
        fputc('}', out);
    }
    fputs("\n ],\n \"comparison\": [", out);
    for (int row = 0; row < 2; row++) {
        bench_fanout_comparison(r, row, text, sizeof(text));
        fputs(row ? ",\n  {\"technique\": " : "\n  {\"technique\": ", out);
        jstr(out, bench_fanout_rows[row]);
        fputs(", \"articles\": ", out);
        jstr(out, bench_fanout_claims[row]);
        fputs(", \"measured\": ", out);
        jstr(out, text);
        fputc('}', out);
    }
    fprintf(out, "\n ],\n \"cow\": {\"slice\": %llu", (unsigned long long)c->slice);
    jnum(out, "pool_rewrite_write_us", c->pool_rewrite_us);
    jnum(out, "pool_rewrite_pointer_us", c->pool_rewrite_map_us);
    jnum(out, "private_cow_fault_us", c->private_fault_us);
    jnum(out, "memcpy_us", c->memcpy_us);
    fprintf(out, ", \"fs\": {\"done\": %s, \"skipped\": ", c->fs_done ? "true" : "false");
    if (c->fs_done)
        fputs("null", out);
    else
        jstr(out, c->fs_skip);
    fprintf(out, ", \"file_size\": %llu", (unsigned long long)c->file_size);
    jnum(out, "ficlone_ms", c->ficlone_ms);
    jnum(out, "ficlone_own_mib", c->ficlone_mib);
    jnum(out, "copy_file_range_ms", c->cfr_ms);
    jnum(out, "copy_file_range_own_mib", c->cfr_mib);
    jnum(out, "read_write_ms", c->rw_ms);
    jnum(out, "read_write_own_mib", c->rw_mib);
    fputs("}}\n}\n", out);
    return ferror(out) ? -1 : 0;
}
