/* bench_fixture.h - a fixed report for the renderer tests: a machine, an OK
 * record with every column filled and a verdict full of characters CSV and
 * JSON must escape, a refused record, a failed one. */
#ifndef ZC_BENCH_FIXTURE_H
#define ZC_BENCH_FIXTURE_H

#include <math.h>
#include <string.h>

#include "bench/bench.h"

static struct bench_record fixture_rec[3];

static void fixture_report(struct bench_report *r)
{
    struct bench_record *a = &fixture_rec[0], *b = &fixture_rec[1], *c = &fixture_rec[2];

    memset(r, 0, sizeof(*r));
    memset(fixture_rec, 0, sizeof(fixture_rec));
    snprintf(r->machine.kernel, sizeof(r->machine.kernel), "Linux 6.18.0 x86_64");
    snprintf(r->machine.cpu, sizeof(r->machine.cpu), "Test CPU \"Zen\" 9, 2.0GHz");
    r->machine.virtual_machine = true;
    r->machine.cores = 2;
    r->machine.mem_bytes = (uint64_t)24 << 30;
    snprintf(r->machine.fs, sizeof(r->machine.fs), "ext4");
    snprintf(r->machine.dir, sizeof(r->machine.dir), "/var/tmp");
    r->machine.memcpy_gbps = 20;
    r->machine.memcpy_block = (uint64_t)64 << 20;
    snprintf(r->command, sizeof(r->command), "zcopy bench --runs 3");
    r->size = (uint64_t)1 << 30;
    r->runs = 3;
    r->n = 3;
    r->rec = fixture_rec;

    a->method = ZC_SENDFILE;
    a->sink = BENCH_SINK_TCP;
    a->status = BENCH_OK;
    a->size = (uint64_t)1 << 30;
    a->transfers = 1;
    a->runs = 3;
    a->gbps = 2.5;
    a->gbps_min = 2.25;
    a->gbps_max = 3.125;
    a->ns_per_transfer = 429496729.6;
    a->user_s_gb = 0.001;
    a->sys_s_gb = 0.375;
    a->cpu_s_gb = 0.376;
    a->rcv_s_gb = 0.25;
    a->bytes = (uint64_t)1 << 30;
    a->syscalls = 512;
    a->syscalls_per_transfer = 512;
    a->switches_per_transfer = 1024;
    a->ctx_switches = 42;
    a->page_faults = 7;
    a->zc_sent = 0;
    a->zc_copied = 0;
    a->est_copies = 7.52;
    snprintf(a->verdict, sizeof(a->verdict),
             "a \"quoted\", comma\nnewline\ttab \\ backslash \x01 ctl, caf\xc3\xa9");

    b->method = ZC_MMAP;
    b->sink = BENCH_SINK_PIPE;
    b->status = BENCH_REFUSED;
    b->error = -EOPNOTSUPP;
    b->size = (uint64_t)1 << 30;

    c->method = ZC_MSG_ZEROCOPY;
    c->sink = BENCH_SINK_TCP;
    c->status = BENCH_OK;
    c->size = (uint64_t)1 << 30;
    c->transfers = 1;
    c->runs = 3;
    c->gbps = 1.75;
    c->gbps_min = 1.5;
    c->gbps_max = 2;
    c->ns_per_transfer = 613566756.5;
    c->user_s_gb = 0.0625;
    c->sys_s_gb = 0.5;
    c->cpu_s_gb = 0.5625;
    c->rcv_s_gb = NAN;
    c->bytes = (uint64_t)1 << 30;
    c->syscalls = 20000;
    c->syscalls_per_transfer = 20000;
    c->switches_per_transfer = 40000;
    c->ctx_switches = 3;
    c->page_faults = 262144;
    c->zc_sent = 16384;
    c->zc_copied = (uint64_t)1 << 30;
    c->est_copies = 11.25;
    snprintf(c->verdict, sizeof(c->verdict), "copied");
}

#endif /* ZC_BENCH_FIXTURE_H */
