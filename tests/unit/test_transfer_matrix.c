/* test_transfer_matrix.c - every method x every sink x sizes x blocking and
 * non-blocking, from a regular file. A pair the method serves (DESIGN.md,
 * "fd pairs it can serve") must arrive byte-exact, with the offset exact and
 * 0 at end of file; a pair it does not serve must return -EINVAL having
 * moved nothing. A method that is not available in this build (placeholder,
 * missing kernel feature) is reported as skipped, case by case, so the plan
 * stays the same size when it lands. */
#include <errno.h>
#include <unistd.h>

#include "tap.h"
#include "testutil.h"
#include "xferutil.h"
#include "zcopy.h"

static const size_t sizes[] = { 0, 1, 4095, 4096, 65537, (8u << 20) + 3 };

struct source {
    int fd;
    uint64_t hash;
};

static struct source sources[T_ARRAY_SIZE(sizes)];
static unsigned long total_eagains;     /* per method, reported as a diagnostic */

static void run_served(zc_ctx *ctx, enum zc_method m, enum t_out_kind kind,
                       bool nonblock, size_t si, const char *name)
{
    size_t size = sizes[si];
    struct t_out o;
    uint64_t bytes, hash;
    unsigned eagains;
    ssize_t n, eof, err_after;
    off_t off = 0;
    bool ok;

    /* The slow reader only matters where -EAGAIN can happen. */
    t_out_open(&o, kind, nonblock, 65536, nonblock ? 50 : 0);
    n = t_transfer_all(ctx, o.fd, sources[si].fd, &off, size, m, &eagains,
                       &err_after);
    eof = zc_transfer(ctx, o.fd, sources[si].fd, &off, 1, m);
    t_out_close(&o, &bytes, &hash);
    total_eagains += eagains;

    ok = n == (ssize_t)size && off == (off_t)size && eof == 0;
    if (bytes != UINT64_MAX)
        ok = ok && bytes == size && hash == sources[si].hash;
    if (!t_ok(ok, "%s: byte-exact", name))
        t_diag("moved %zd (error after: %zd), offset %lld, at EOF %zd, "
               "arrived %llu, hash %s, %u EAGAIN", n, err_after, (long long)off,
               eof, (unsigned long long)bytes,
               hash == sources[si].hash ? "same" : "differs", eagains);
}

static void run_refused(zc_ctx *ctx, enum zc_method m, enum t_out_kind kind,
                        bool nonblock, size_t si, const char *name)
{
    size_t count = sizes[si] ? sizes[si] : 1;
    struct t_out o;
    uint64_t bytes, hash;
    off_t off = 0;
    ssize_t n;

    t_out_open(&o, kind, nonblock, 65536, 0);
    n = zc_transfer(ctx, o.fd, sources[si].fd, &off, count, m);
    t_out_close(&o, &bytes, &hash);
    if (!t_ok(n == -EINVAL && off == 0 && (bytes == 0 || bytes == UINT64_MAX),
              "%s: refused with -EINVAL", name))
        t_diag("returned %zd, offset %lld, arrived %llu", n, (long long)off,
               (unsigned long long)bytes);
}

int main(void)
{
    int fds_before = t_count_fds();

    for (size_t si = 0; si < T_ARRAY_SIZE(sizes); si++) {
        sources[si].fd = t_pattern_file(sizes[si], false, NULL);
        sources[si].hash = t_pattern_hash(0, sizes[si]);
    }

    for (int mi = 0; mi < ZC_METHOD_COUNT; mi++) {
        enum zc_method m = (enum zc_method)mi;
        zc_ctx *ctx = zc_ctx_new();
        const char *why;
        bool available;

        if (!ctx)
            abort();
        available = t_method_available(ctx, m, &why);
        total_eagains = 0;
        for (int k = 0; k < T_OUT_COUNT; k++) {
            for (int nb = 0; nb < 2; nb++) {
                for (size_t si = 0; si < T_ARRAY_SIZE(sizes); si++) {
                    char name[128];

                    snprintf(name, sizeof(name), "%s -> %s, %zu bytes, %s",
                             zc_method_name(m), t_out_name((enum t_out_kind)k),
                             sizes[si], nb ? "non-blocking" : "blocking");
                    if (!available)
                        t_ok(1, "%s # SKIP %s", name, why);
                    else if (t_method_serves(m, (enum t_out_kind)k))
                        run_served(ctx, m, (enum t_out_kind)k, nb, si, name);
                    else
                        run_refused(ctx, m, (enum t_out_kind)k, nb, si, name);
                }
            }
        }
        if (available)
            t_diag("%s: %lu -EAGAIN resumed by poll in the non-blocking cases",
                   zc_method_name(m), total_eagains);
        zc_ctx_free(ctx);
    }

    for (size_t si = 0; si < T_ARRAY_SIZE(sizes); si++)
        close(sources[si].fd);
    t_is_int(t_count_fds(), fds_before, "no fd leaked");
    return t_done();
}
