/* test_bench_table.c - the terminal table of fixed records, exactly: aligned
 * columns (text left, numbers right), a refused record's status spanning the
 * measured columns, footnoted verdicts on one line each. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_fixture.h"
#include "tap.h"

static const char expected_head[] =
"zcopy bench: 1 GiB per transfer, 1 transfer per run, median of 3 runs (min-max), page cache warm\n"
"machine: Linux 6.18.0 x86_64; Test CPU \"Zen\" 9, 2.0GHz (virtual machine); 2 cores; 24 GiB RAM; "
"source on ext4 (/var/tmp); memcpy 20.0 GB/s (64 MiB blocks)\n"
"command: zcopy bench --runs 3\n"
"\n"
"method        sink  GB/s  min-max    snd usr  snd sys  rcv cpu  syscalls  switches  ctxsw  faults  zc copied  est copies  theory cpu/dma/sw  verdict\n"
"sendfile      tcp   2.50  2.25-3.12    0.001    0.375    0.250       512      1024     42       7          -         7.5  1 (0 SG)/2/2       [1]\n"
"mmap          pipe  n/a (method refused: EOPNOTSUPP)\n"
"msg_zerocopy  tcp   1.75  1.50-2.00    0.062    0.500        -     20000     40000      3  262144      1 GiB        11.2  -                  [2]\n"
"\n";

static const char expected_tail[] =
"\n"
"verdicts (where the measurement contradicts the articles):\n"
"[1] sendfile -> tcp: a \"quoted\", comma newline tab \\ backslash   ctl, caf\xc3\xa9\n"
"[2] msg_zerocopy -> tcp: copied\n";

static char *render(const struct bench_report *r, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);

    if (!f)
        abort();
    t_is_int(bench_render_table(f, r), 0, "renderer returns 0");
    fclose(f);
    return buf;
}

int main(void)
{
    struct bench_report r;
    char *want = NULL, *got;
    size_t want_len = 0, got_len;
    FILE *w = open_memstream(&want, &want_len);

    fixture_report(&r);
    fputs(expected_head, w);
    for (int i = 0; bench_notes[i]; i++)
        fprintf(w, "- %s\n", bench_notes[i]);
    fputs(expected_tail, w);
    fclose(w);

    got = render(&r, &got_len);
    t_is_str(got, want, "table of the fixed records, byte for byte");

    /* Small transfers add the ns-per-transfer column and say how many
     * transfers a run made. */
    free(got);
    r.size = 4096;
    fixture_rec[0].transfers = 16384;
    got = render(&r, &got_len);
    t_ok(strstr(got, "4 KiB per transfer, up to 16384 transfers per run") != NULL,
         "small size: header says transfers per run");
    t_ok(strstr(got, "GB/s  min-max      ns/xfer  snd usr") != NULL,
         "small size: ns/xfer column after min-max");
    t_ok(strstr(got, "2.25-3.12  429496730    0.001") != NULL,
         "small size: ns per transfer rounded to an integer, right-aligned");

    /* No verdicts: no verdict section. */
    free(got);
    r.size = (uint64_t)1 << 30;
    fixture_rec[0].verdict[0] = fixture_rec[2].verdict[0] = '\0';
    got = render(&r, &got_len);
    t_ok(strstr(got, "verdicts") == NULL, "no verdicts, no verdict section");
    t_ok(strstr(got, "1 (0 SG)/2/2       -\n") != NULL, "a row without verdict shows '-'");

    free(got);
    free(want);
    return t_done();
}
