/* render_common.c - what every output format shares: names, sizes, the
 * status text of a record that did not run, and the notes that say what is
 * measured, what is estimated and what is theory. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

const char *const bench_notes[] = {
    "GB = 1e9 bytes. CPU columns are CPU seconds per GB moved: snd = the sending "
    "process (getrusage RUSAGE_SELF around the transfers, user and sys), rcv = the "
    "receiving process (its own getrusage, user + sys).",
    "syscalls: exact, counted by libzcopy (zc_ctx_stats) per transfer; switches = 2 "
    "per syscall, the articles' count of user/kernel transitions.",
    "ctxsw, faults: the sender's scheduler context switches (voluntary + "
    "involuntary) and page faults per run.",
    "zc copied: bytes a zero-copy send reported as copied by the kernel "
    "(SO_EE_CODE_ZEROCOPY_COPIED).",
    "est copies: an ESTIMATE, not a count: sender CPU time per byte divided by the "
    "time a memcpy takes per byte on this machine now (the better of two "
    "measurements, before and after the runs). Protocol work, page "
    "refcounting and wakeups count as copies too, so it is an upper bound.",
    "theory: the reference articles' CPU copies / DMA copies / user-kernel switches "
    "(../shared/seeds/ 000-004; per buffer for read/write, per file otherwise). "
    "Theory, not measured. '*' = derived from the articles' description.",
    "DMA copies cannot be measured here: with the source in the page cache there "
    "is no disk DMA (--cold makes it real), and loopback, AF_UNIX, pipes and veth "
    "have no device, so there is no NIC DMA either.",
    NULL,
};

void bench_format_num(char *out, size_t len, double v, const char *fmt)
{
    if (isfinite(v))
        snprintf(out, len, fmt, v);
    else
        snprintf(out, len, "-");
}

const char *bench_errno_name(int err)
{
    const char *name = strerrorname_np(err < 0 ? -err : err);

    return name ? name : "E?";
}

void bench_format_size(uint64_t bytes, char *out, size_t len)
{
    static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;
    double d = (double)bytes;

    while (u < 4 && d >= 1024) {
        d /= 1024;
        u++;
    }
    /* Exact multiples print as integers ("1 GiB"), the rest with 2 decimals. */
    if (u == 0 || bytes % ((uint64_t)1 << (10 * u)) == 0)
        snprintf(out, len, "%.0f %s", d, unit[u]);
    else
        snprintf(out, len, "%.2f %s", d, unit[u]);
}

const char *bench_status_name(enum bench_status s)
{
    switch (s) {
    case BENCH_OK: return "ok";
    case BENCH_REFUSED: return "refused";
    case BENCH_FAILED: return "failed";
    default: return "not-run";
    }
}

void bench_status_text(const struct bench_record *r, char *out, size_t len)
{
    switch (r->status) {
    case BENCH_REFUSED:
        snprintf(out, len, "n/a (method refused: %s)", bench_errno_name(r->error));
        break;
    case BENCH_FAILED:
        snprintf(out, len, "failed: %s (%s)", bench_errno_name(r->error),
                 strerror(-r->error));
        break;
    case BENCH_NOT_RUN:
        snprintf(out, len, "n/a (not run: %s)",
                 r->error ? strerror(-r->error) : "skipped");
        break;
    default:
        snprintf(out, len, "ok");
    }
}

struct bench_record bench_record_shown(const struct bench_record *r)
{
    struct bench_record x = *r;

    if (x.status != BENCH_OK) {
        x.gbps = x.gbps_min = x.gbps_max = x.ns_per_transfer = NAN;
        x.user_s_gb = x.sys_s_gb = x.cpu_s_gb = x.rcv_s_gb = NAN;
        x.syscalls_per_transfer = x.switches_per_transfer = x.est_copies = NAN;
        x.verdict[0] = '\0';
    }
    return x;
}
