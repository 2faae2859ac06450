/* render_table.c - the aligned table for a terminal: the header (what was
 * run, on what machine), one row per method x sink, the notes, and the
 * numbered verdicts the rows point to. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

enum col { C_METHOD, C_SINK, C_GBPS, C_RANGE, C_NS, C_USR, C_SYS, C_RCV, C_SC, C_SW,
           C_CSW, C_FLT, C_ZC, C_EST, C_THEORY, C_VERDICT, C_COUNT };

static const char *const heads[C_COUNT] = {
    "method", "sink", "GB/s", "min-max", "ns/xfer", "snd usr", "snd sys", "rcv cpu",
    "syscalls", "switches", "ctxsw", "faults", "zc copied", "est copies",
    "theory cpu/dma/sw", "verdict",
};

static bool left_aligned(enum col c)
{
    return c == C_METHOD || c == C_SINK || c == C_THEORY || c == C_VERDICT ||
           c == C_RANGE;
}

#define CELL 48

static void num(char *out, double v, const char *fmt)
{
    bench_format_num(out, CELL, v, fmt);
}

/* An exact count stays an integer; a per-transfer mean that is not shows one
 * decimal. */
static void count(char *out, double v)
{
    if (!isfinite(v))
        snprintf(out, CELL, "-");
    else if (fabs(v - round(v)) < 1e-9)
        snprintf(out, CELL, "%.0f", v);
    else
        snprintf(out, CELL, "%.1f", v);
}

static void fill_row(char cells[C_COUNT][CELL], const struct bench_record *r,
                     int verdict_no)
{
    const struct bench_theory *t = bench_theory(r->method);

    for (int c = 0; c < C_COUNT; c++)
        cells[c][0] = '\0';
    snprintf(cells[C_METHOD], CELL, "%s", zc_method_name(r->method));
    snprintf(cells[C_SINK], CELL, "%s", bench_sink_name(r->sink));
    if (r->status != BENCH_OK) {
        bench_status_text(r, cells[C_GBPS], CELL);
        return;
    }
    num(cells[C_GBPS], r->gbps, "%.2f");
    if (isfinite(r->gbps_min) && isfinite(r->gbps_max))
        snprintf(cells[C_RANGE], CELL, "%.2f-%.2f", r->gbps_min, r->gbps_max);
    else
        snprintf(cells[C_RANGE], CELL, "-");
    num(cells[C_NS], r->ns_per_transfer, "%.0f");
    num(cells[C_USR], r->user_s_gb, "%.3f");
    num(cells[C_SYS], r->sys_s_gb, "%.3f");
    num(cells[C_RCV], r->rcv_s_gb, "%.3f");
    count(cells[C_SC], r->syscalls_per_transfer);
    count(cells[C_SW], r->switches_per_transfer);
    snprintf(cells[C_CSW], CELL, "%llu", (unsigned long long)r->ctx_switches);
    snprintf(cells[C_FLT], CELL, "%llu", (unsigned long long)r->page_faults);
    if (r->zc_sent || r->zc_copied)
        bench_format_size(r->zc_copied, cells[C_ZC], CELL);
    else
        snprintf(cells[C_ZC], CELL, "-");
    num(cells[C_EST], r->est_copies, "%.1f");
    snprintf(cells[C_THEORY], CELL, "%s", t->brief);
    if (verdict_no > 0)
        snprintf(cells[C_VERDICT], CELL, "[%d]", verdict_no);
    else
        snprintf(cells[C_VERDICT], CELL, "-");
}

static void print_header(FILE *out, const struct bench_report *r, uint64_t transfers)
{
    const struct bench_machine *m = &r->machine;
    char size[32], mem[32];

    bench_format_size(r->size, size, sizeof(size));
    fprintf(out, "zcopy bench: %s per transfer, ", size);
    if (transfers > 1)
        fprintf(out, "up to %llu transfers per run, ", (unsigned long long)transfers);
    else
        fprintf(out, "1 transfer per run, ");
    fprintf(out, "median of %u run%s (min-max), page cache %s\n", r->runs,
            r->runs == 1 ? "" : "s", r->cold ? "cold (evicted before each run)" : "warm");
    bench_format_size(m->mem_bytes, mem, sizeof(mem));
    fprintf(out, "machine: %s; %s%s; %d cores; %s RAM; source on %s (%s)", m->kernel,
            m->cpu, m->virtual_machine ? " (virtual machine)" : "", m->cores, mem,
            m->fs, m->dir);
    if (isfinite(m->memcpy_gbps)) {
        char blk[32];

        bench_format_size(m->memcpy_block, blk, sizeof(blk));
        fprintf(out, "; memcpy %.1f GB/s (%s blocks)", m->memcpy_gbps, blk);
    }
    fputc('\n', out);
    if (r->command[0])
        fprintf(out, "command: %s\n", r->command);
    fputc('\n', out);
}

int bench_render_table(FILE *out, const struct bench_report *r)
{
    char (*cells)[C_COUNT][CELL] = calloc(r->n + 1, sizeof(*cells));
    int *vno = calloc(r->n + 1, sizeof(int));
    size_t width[C_COUNT] = { 0 };
    bool show[C_COUNT];
    uint64_t transfers = 1;
    int verdicts = 0;

    if (!cells || !vno) {
        free(cells);
        free(vno);
        return -1;
    }
    for (size_t i = 0; i < r->n; i++) {
        if (r->rec[i].transfers > transfers)
            transfers = r->rec[i].transfers;
        if (r->rec[i].status == BENCH_OK && r->rec[i].verdict[0])
            vno[i] = ++verdicts;
    }
    for (int c = 0; c < C_COUNT; c++) {
        snprintf(cells[0][c], CELL, "%s", heads[c]);
        show[c] = true;
    }
    /* ns per transfer only says something when a run repeats small transfers. */
    show[C_NS] = r->size < BENCH_REPEAT_BELOW;
    for (size_t i = 0; i < r->n; i++)
        fill_row(cells[i + 1], &r->rec[i], vno[i]);
    for (size_t i = 0; i <= r->n; i++) {
        bool spans = i > 0 && r->rec[i - 1].status != BENCH_OK;

        for (int c = 0; c < C_COUNT; c++) {
            size_t w = strlen(cells[i][c]);

            if (spans && c >= C_GBPS)
                break;          /* the status text spans the measured columns */
            if (w > width[c])
                width[c] = w;
        }
    }

    print_header(out, r, transfers);
    for (size_t i = 0; i <= r->n; i++) {
        bool spans = i > 0 && r->rec[i - 1].status != BENCH_OK;
        int last = C_VERDICT;
        char line[1024];
        size_t len = 0;

        line[0] = '\0';
        for (int c = 0; c <= last; c++) {
            const char *cell = cells[i][c];
            int w = (int)width[c];

            if (!show[c])
                continue;
            if (len)
                len += (size_t)snprintf(line + len, sizeof(line) - len, "  ");
            if (spans && c == C_GBPS) {
                len += (size_t)snprintf(line + len, sizeof(line) - len, "%s", cell);
                break;
            }
            if (left_aligned(c))
                len += (size_t)snprintf(line + len, sizeof(line) - len, "%-*s", w, cell);
            else
                len += (size_t)snprintf(line + len, sizeof(line) - len, "%*s", w, cell);
            if (len >= sizeof(line))
                len = sizeof(line) - 1;
        }
        while (len > 0 && line[len - 1] == ' ')
            line[--len] = '\0';
        fprintf(out, "%s\n", line);
    }

    fputc('\n', out);
    for (int i = 0; bench_notes[i]; i++)
        fprintf(out, "- %s\n", bench_notes[i]);
    if (verdicts) {
        fprintf(out, "\nverdicts (where the measurement contradicts the articles):\n");
        for (size_t i = 0; i < r->n; i++) {
            if (!vno[i])
                continue;
            fprintf(out, "[%d] %s -> %s: ", vno[i], zc_method_name(r->rec[i].method),
                    bench_sink_name(r->rec[i].sink));
            /* One line per verdict, whatever it holds. */
            for (const unsigned char *p = (const unsigned char *)r->rec[i].verdict; *p; p++)
                fputc(*p < 0x20 ? ' ' : *p, out);
            fputc('\n', out);
        }
    }
    free(cells);
    free(vno);
    return ferror(out) ? -1 : 0;
}
