/* theory.c - the reference articles' figures per technique (theory, never
 * measured here), and which sinks each technique is meant for.
 *
 * The articles are the Chinese notes in ../shared/seeds/. Their counts, per
 * file or buffer sent to a socket:
 *   read + write        2 CPU, 2 DMA, 4 switches   (002 traditional I/O; 003 6.1;
 *                                                   004; 000)
 *   mmap + write        1 CPU, 2 DMA, 4 switches   (002 mmap+write; 004; 001)
 *   sendfile            1 CPU, 2 DMA, 2 switches   (002 sendfile; 003 6.2; 004)
 *   sendfile + SG-DMA   0 CPU, 2 DMA, 2 switches   (002 gather copy; 003 6.3; 004; 001)
 *   splice              0 CPU, 2 DMA, 2 switches   (002 splice)
 *   direct I/O          no kernel<->user copy on the read side, and "combine it
 *                       with asynchronous I/O" (002, user-space direct I/O)
 * copy_file_range, MSG_ZEROCOPY and io_uring are newer than the articles. */
#include <math.h>

#include "bench.h"

static const struct bench_theory theory[ZC_METHOD_COUNT] = {
    [ZC_READWRITE] = {
        .cpu_copies = "2", .dma_copies = "2", .switches = "4 per buffer",
        .brief = "2/2/4 per buf",
        .cpu_num = 2, .switches_num = NAN,
        .source = "seeds 002 (traditional I/O), 003 (6.1), 004, 000",
    },
    [ZC_MMAP] = {
        .cpu_copies = "1", .dma_copies = "2", .switches = "4",
        .brief = "1/2/4",
        .cpu_num = 1, .switches_num = 4,
        .source = "seeds 002 (mmap+write), 004, 001",
    },
    [ZC_SENDFILE] = {
        .cpu_copies = "1 (0 with SG-DMA)", .dma_copies = "2", .switches = "2",
        .brief = "1 (0 SG)/2/2",
        .cpu_num = 0, .switches_num = 2,
        .source = "seeds 002 (sendfile, sendfile+DMA gather), 003 (6.2, 6.3), 004, 001",
    },
    [ZC_SPLICE] = {
        .cpu_copies = "0", .dma_copies = "2", .switches = "2",
        .brief = "0/2/2",
        .cpu_num = 0, .switches_num = 2,
        .source = "seed 002 (splice)",
    },
    [ZC_DIRECT] = {
        .cpu_copies = "1 (derived)", .dma_copies = "2", .switches = "4 per buffer",
        .brief = "1*/2/4 per buf",
        .cpu_num = 1, .switches_num = NAN,
        .source = "seed 002 (user-space direct I/O: no kernel<->user copy on the "
                  "read; combined with asynchronous I/O, as the seed prescribes; "
                  "the write still copies once, derived)",
    },
    [ZC_COPY_FILE_RANGE] = {
        .brief = "-", .cpu_num = NAN, .switches_num = NAN,
        .source = "not in the articles",
    },
    [ZC_MSG_ZEROCOPY] = {
        .brief = "-", .cpu_num = NAN, .switches_num = NAN,
        .source = "not in the articles",
    },
    [ZC_URING] = {
        .brief = "-", .cpu_num = NAN, .switches_num = NAN,
        .source = "not in the articles",
    },
    [ZC_AUTO] = {
        .brief = "-", .cpu_num = NAN, .switches_num = NAN,
        .source = "not in the articles (picks one of the others)",
    },
};

const struct bench_theory *bench_theory(enum zc_method m)
{
    return (unsigned)m < ZC_METHOD_COUNT ? &theory[m] : &theory[ZC_AUTO];
}

bool bench_method_serves(enum zc_method m, enum bench_sink s)
{
    switch (m) {
    case ZC_COPY_FILE_RANGE:
        return s == BENCH_SINK_FILE;
    case ZC_MSG_ZEROCOPY:
        return s == BENCH_SINK_TCP || s == BENCH_SINK_VETH;
    case ZC_URING:
        return s == BENCH_SINK_TCP || s == BENCH_SINK_UNIX ||
               s == BENCH_SINK_PIPE || s == BENCH_SINK_VETH;
    default:
        return true;
    }
}
