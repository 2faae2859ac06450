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

/* A bar started 2 s ago at 1 MiB (resumed), now at 3 MiB of 10 MiB:
 * 2 MiB in 2 s is 1 MiB/s, 7 MiB left is 7 s. */
static void frame_midway(struct zc_progress *p)
{
    zc_progress_start(p, false, 10 << 20, 1 << 20);
    p->on = true;
    p->width = 79;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->t0.tv_sec -= 2;
    p->last = p->t0;
    zc_progress_update(p, 3 << 20);
}

static void frame_unknown_total(struct zc_progress *p)
{
    zc_progress_start(p, false, UINT64_MAX, 0);
    p->on = true;
    p->width = 79;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    p->t0.tv_sec -= 1;
    p->last = p->t0;
    zc_progress_update(p, 5 << 20);
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
    t_ok(strstr(out, " 30% [") != NULL, "midway: 30%% and a bar: %s", out);
    /* 2 MiB in a hair over 2 s: 1.0 MiB/s or 1024.0 KiB/s. */
    t_ok(strstr(out, "3.0 MiB  1.0 MiB/s") || strstr(out, "3.0 MiB  1024.0 KiB/s"),
         "midway: size and rate: %s", out);
    t_ok(strstr(out, "ETA 0:00:07") != NULL, "midway: ETA from the rate: %s", out);
    t_ok(out[0] == '\r' && n == 80, "midway: one frame, CR then padded to the width "
         "(%zu bytes)", n);
    t_ok(plain_text(out), "midway: plain text only");
    t_ok(strchr(out, '\n') == NULL, "midway: no newline before the end");

    n = capture(frame_finish, &p, out, sizeof(out));
    t_ok(n > 1 && out[n - 1] == '\n', "finish: ends the line");
    t_ok(!p.on, "finish: the bar is off afterwards");

    n = capture(frame_unknown_total, &p, out, sizeof(out));
    t_ok(strstr(out, "5.0 MiB  5.0 MiB/s") != NULL && strchr(out, '%') == NULL,
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
