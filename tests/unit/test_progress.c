/* test_progress.c - the clients' progress bar: what one frame says (percent,
 * bar, size, rate, ETA) for a known elapsed time, that frames are plain text
 * padded to the width, that the last one ends the line, and size formatting. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/progress.h"
#include "tap.h"
#include "testutil.h"

/* Run @fn with stderr redirected to a temp file; return what it wrote. */
static size_t capture(void (*fn)(struct zc_progress *), struct zc_progress *p,
                      char *out, size_t size)
{
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    size_t n;

    fflush(stderr);
    dup2(fileno(tmp), STDERR_FILENO);
    fn(p);
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    n = fread(out, 1, size - 1, tmp);
    out[n] = '\0';
    fclose(tmp);
    return n;
}

/* The frame uses the real clock: between setting t0 and the update this
 * thread may be descheduled (ASan, a loaded machine). So the elapsed time is
 * long and the remainder small, and what the frame says holds for many
 * seconds of delay: a bar started 1024 s ago at 1 GiB (resumed), now at
 * 3 GiB of 3 GiB + 11 MiB: 2 GiB in 1024 s is 2.0 MiB/s (until 1050 s),
 * 11 MiB left is 5.5 s (ETA 0:00:05 until 1117 s). (It was 2 MiB of 10 MiB
 * in 2 s: 1.0 MiB/s only if the update came within 100 us.) */
#define GIB (1ull << 30)
#define MIB (1ull << 20)

static void frame_midway(struct zc_progress *p)
{
    zc_progress_start(p, false, 3 * GIB + 11 * MIB, GIB);
    p->on = true;
    p->width = 79;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->t0.tv_sec -= 1024;
    p->last = p->t0;
    zc_progress_update(p, 3 * GIB);
}

/* 5 GiB in 1024 s: 5.0 MiB/s until 1034 s. */
static void frame_unknown_total(struct zc_progress *p)
{
    zc_progress_start(p, false, UINT64_MAX, 0);
    p->on = true;
    p->width = 79;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->t0.tv_sec -= 1024;
    p->last = p->t0;
    zc_progress_update(p, 5 * GIB);
}

static void frame_finish(struct zc_progress *p)
{
    zc_progress_finish(p);
}

static void frame_off(struct zc_progress *p)
{
    zc_progress_start(p, false, 100, 0);
    zc_progress_update(p, 50);
    zc_progress_finish(p);
}

static bool plain_text(const char *s)
{
    for (; *s; s++)
        if (*s != '\r' && *s != '\n' && (*s < 32 || *s > 126))
            return false;
    return true;
}

int main(void)
{
    struct zc_progress p;
    char out[1024], size[32];
    size_t n;

    n = capture(frame_midway, &p, out, sizeof(out));
    t_ok(strstr(out, " 99% [") != NULL, "midway: 99%% and a bar: %s", out);
    /* The rate counts the bytes of this run only (3.0 MiB/s would be all). */
    t_ok(strstr(out, "3.0 GiB  2.0 MiB/s") != NULL, "midway: size and rate: %s", out);
    t_ok(strstr(out, "ETA 0:00:05") != NULL, "midway: ETA from the rate: %s", out);
    t_ok(out[0] == '\r' && n == 80, "midway: one frame, CR then padded to the width "
         "(%zu bytes)", n);
    t_ok(plain_text(out), "midway: plain text only");
    t_ok(strchr(out, '\n') == NULL, "midway: no newline before the end");

    n = capture(frame_finish, &p, out, sizeof(out));
    t_ok(n > 1 && out[n - 1] == '\n', "finish: ends the line");
    t_ok(!p.on, "finish: the bar is off afterwards");

    n = capture(frame_unknown_total, &p, out, sizeof(out));
    t_ok(strstr(out, "5.0 GiB  5.0 MiB/s") != NULL && strchr(out, '%') == NULL,
         "unknown total: bytes and rate, no percentage: %s", out);
    capture(frame_finish, &p, out, sizeof(out));

    n = capture(frame_off, &p, out, sizeof(out));
    t_is_int(n, 0, "a disabled bar writes nothing");

    zc_format_size(size, sizeof(size), 999);
    t_is_str(size, "999 B", "size in bytes");
    zc_format_size(size, sizeof(size), 1536);
    t_is_str(size, "1.5 KiB", "size in KiB");
    zc_format_size(size, sizeof(size), 5.0 * (1ull << 40));
    t_is_str(size, "5.0 TiB", "size in TiB");
    zc_format_size(size, sizeof(size), 3.0 * (1ull << 50));
    t_is_str(size, "3072.0 TiB", "TiB is the largest unit");
    return t_done();
}
