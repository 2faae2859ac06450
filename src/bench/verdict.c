/* verdict.c - where a measurement contradicts the articles' table, and why.
 * Each rule compares one measured quantity with the articles' figure and,
 * when they disagree, says which mechanism the articles leave out. An
 * agreeing record gets an empty verdict. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

/* Sender CPU beyond copies: what each sink charges the sending process. */
static const char *extra_cpu_reason(enum bench_sink s)
{
    switch (s) {
    case BENCH_SINK_TCP:
        return "loopback TCP: per-segment protocol work, and the receive path runs "
               "in softirq on the sender's CPU and is billed to it";
    case BENCH_SINK_VETH:
        return "veth: the peer namespace's receive path runs on the sender's CPU "
               "and is billed to it";
    case BENCH_SINK_UNIX:
        return "AF_UNIX: per-skb allocation and queueing, and waking the reader";
    case BENCH_SINK_PIPE:
        return "pipe: page refcounting per buffer and waking the reader";
    case BENCH_SINK_FILE:
        return "a file sink needs its own page-cache copy of every byte, plus "
               "page allocation: no technique but a reflink avoids that copy";
    case BENCH_SINK_DEVNULL:
        return "syscall and page-walk overhead";
    default:
        return "overhead other than copying";
    }
}

static const char *fewer_cpu_reason(enum bench_sink s, enum zc_method m)
{
    if (s == BENCH_SINK_DEVNULL)
        return "/dev/null discards without copying, so the write side costs nothing";
    if (m == ZC_READWRITE || m == ZC_DIRECT)
        return "the copies run at cache speed, faster than the DRAM memcpy the "
               "estimate divides by";
    return "the kernel moves page references, not bytes";
}

/* Why a whole-file technique needs more than the articles' one call. */
static const char *extra_syscalls_reason(enum zc_method m, enum bench_sink s)
{
    switch (m) {
    case ZC_SENDFILE:
        return s == BENCH_SINK_PIPE ? "sendfile to a pipe moves at most the pipe's size per call"
               : "each sendfile call returns after what the socket buffer took";
    case ZC_SPLICE:
        return s == BENCH_SINK_PIPE ? "splice into a pipe moves at most the pipe's size per call"
               : "splice goes file -> pipe -> sink: two calls per pipe-full, "
                 "plus the pipe's set-up";
    case ZC_MMAP:
        return "mmap, write and munmap per mapped window, not one mmap + one write";
    default:
        return "the transfer takes several calls";
    }
}

/* Exact counts print as integers, means of several transfers with one decimal. */
static int decimals(double v)
{
    return fabs(v - round(v)) < 1e-9 ? 0 : 1;
}

static void add(char *out, size_t len, const char *fmt, ...)
{
    size_t used = strlen(out);
    va_list ap;

    if (used + 3 >= len)
        return;
    if (used) {
        memcpy(out + used, "; ", 3);
        used += 2;
    }
    va_start(ap, fmt);
    vsnprintf(out + used, len - used, fmt, ap);
    va_end(ap);
}

void bench_verdict(const struct bench_record *r, char *out, size_t len)
{
    const struct bench_theory *t = bench_theory(r->method);

    out[0] = '\0';
    if (r->status != BENCH_OK)
        return;

    /* Zero-copy sends the kernel had to copy after all. */
    if (r->zc_copied > 0 && r->bytes > 0) {
        const char *why = r->sink == BENCH_SINK_TCP || r->sink == BENCH_SINK_VETH
            ? "the receiver is on this host, so the pinned pages cannot simply be "
              "handed over; only a real NIC gets zero-copy"
            : "this sink cannot take page references";
        char copied[32];

        bench_format_size(r->zc_copied, copied, sizeof(copied));
        if ((double)r->zc_copied < 0.9 * (double)r->bytes)
            add(out, len, "the kernel reported the first zero-copy sends (%s) COPIED "
                          "(SO_EE_CODE_ZEROCOPY_COPIED) and libzcopy sent the rest "
                          "with plain sends: %s", copied, why);
        else
            add(out, len, "the kernel reported every zero-copy send COPIED (%s, "
                          "SO_EE_CODE_ZEROCOPY_COPIED): %s", copied, why);
    }

    /* CPU copies: the estimate (an upper bound) against the articles. */
    if (isfinite(t->cpu_num) && isfinite(r->est_copies)) {
        if (r->est_copies > t->cpu_num + 1.0)
            add(out, len, "sender CPU is worth ~%.1f memcpy passes per byte "
                          "(estimate; articles' CPU copies: %s): %s",
                r->est_copies, t->cpu_copies,
                r->method == ZC_DIRECT
                    ? "O_DIRECT bypasses the page cache, so every run reads the "
                      "disk and the block layer's per-request work is billed to "
                      "the sender"
                : r->size < BENCH_SMALL_SIZE
                    ? "at this size fixed per-call costs (syscall entry, fd and "
                      "socket lookup, wakeups) dominate, not copying"
                    : extra_cpu_reason(r->sink));
        else if (r->est_copies < t->cpu_num - 0.75)
            add(out, len, "sender CPU is worth only ~%.1f memcpy passes per byte "
                          "(estimate; articles' CPU copies: %s): %s",
                r->est_copies, t->cpu_copies, fewer_cpu_reason(r->sink, r->method));
    }

    /* The articles stop at the sender: a reader still copies every byte out
     * of the socket or pipe into its own buffer. */
    if (t->cpu_num == 0 && isfinite(r->rcv_s_gb) && isfinite(r->est_copies)) {
        double rcv = r->est_copies / r->cpu_s_gb * r->rcv_s_gb;

        if (isfinite(rcv) && rcv >= 0.5)
            add(out, len, "the receiving process spends ~%.1f memcpy passes per byte "
                          "(estimate) reading it into its buffer: zero-copy ends at "
                          "the sender", rcv);
    }

    /* Switches: the articles count 2 per call for the whole file. */
    if (isfinite(t->switches_num) && isfinite(r->switches_per_transfer) &&
        r->switches_per_transfer > t->switches_num)
        add(out, len, "%.*f syscalls (%.*f switches) per transfer, articles' "
                      "switches: %s: %s",
            decimals(r->syscalls_per_transfer), r->syscalls_per_transfer,
            decimals(r->switches_per_transfer), r->switches_per_transfer, t->switches,
            extra_syscalls_reason(r->method, r->sink));

    /* A mapping is filled by page faults: kernel entries the articles'
     * switch count leaves out. */
    if ((r->method == ZC_MMAP || r->method == ZC_MSG_ZEROCOPY) &&
        r->page_faults >= 64)
        add(out, len, "%llu page faults per run fill the mapping: kernel entries "
                      "the articles do not count", (unsigned long long)r->page_faults);
}
