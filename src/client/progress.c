/* progress.c - see progress.h. Plain text and '\r' only: no escape
 * sequences, so a log of the terminal shows nothing but the bar. */
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "client/progress.h"

#define REDRAW_NS 100000000LL           /* 10 redraws a second at most */

bool zc_progress_enabled(bool quiet)
{
    return !quiet && isatty(STDERR_FILENO);
}

static double elapsed(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void zc_format_size(char *out, size_t size, double bytes)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    unsigned u = 0;

    while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(out, size, "%.0f %s", bytes, units[u]);
    else
        snprintf(out, size, "%.1f %s", bytes, units[u]);
}

static void draw(struct zc_progress *p, const struct timespec *now)
{
    char line[512], size[32], rate_s[32], eta[32] = "";
    double secs = elapsed(&p->t0, now);
    double rate = secs > 0 ? (double)(p->done - p->base) / secs : 0;
    int cols = p->width < (int)sizeof(line) ? p->width : (int)sizeof(line) - 1;
    int n;

    zc_format_size(size, sizeof(size), (double)p->done);
    zc_format_size(rate_s, sizeof(rate_s), rate);
    if (p->total != UINT64_MAX) {
        uint64_t total = p->total ? p->total : 1;
        unsigned pct = p->total ? (unsigned)(p->done * 100 / total) : 100;
        int bar = cols - 52, fill;

        if (rate > 0 && p->done < p->total) {
            unsigned long left = (unsigned long)((double)(p->total - p->done) / rate);

            snprintf(eta, sizeof(eta), "  ETA %lu:%02lu:%02lu", left / 3600,
                     left / 60 % 60, left % 60);
        } else if (p->done >= p->total) {
            snprintf(eta, sizeof(eta), "  in %.1fs", secs);
        }
        if (pct > 100)
            pct = 100;
        if (bar > 40)
            bar = 40;
        n = snprintf(line, sizeof(line), "%3u%% ", pct);
        if (bar >= 10) {
            fill = (int)((long)bar * pct / 100);
            line[n++] = '[';
            for (int i = 0; i < bar; i++)
                line[n++] = i < fill ? '=' : (i == fill ? '>' : ' ');
            line[n++] = ']';
            line[n++] = ' ';
        }
        snprintf(line + n, sizeof(line) - (size_t)n, "%s  %s/s%s", size, rate_s, eta);
    } else {
        snprintf(line, sizeof(line), "%s  %s/s", size, rate_s);
    }
    line[cols > 0 ? cols : 0] = '\0';
    /* Pad to the full width so a shorter line erases the previous one. */
    fprintf(stderr, "\r%-*s", cols, line);
    fflush(stderr);
    p->drawn = true;
    p->last = *now;
}

void zc_progress_start(struct zc_progress *p, bool on, uint64_t total, uint64_t base)
{
    struct winsize ws;

    memset(p, 0, sizeof(*p));
    p->on = on;
    p->total = total;
    p->base = p->done = base;
    p->width = 79;
    if (!on)
        return;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        p->width = ws.ws_col - 1;
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    draw(p, &p->t0);
}

void zc_progress_update(struct zc_progress *p, uint64_t done)
{
    struct timespec now;

    p->done = done;
    if (!p->on)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - p->last.tv_sec) * 1000000000LL +
            (now.tv_nsec - p->last.tv_nsec) >= REDRAW_NS)
        draw(p, &now);
}

void zc_progress_finish(struct zc_progress *p)
{
    struct timespec now;

    if (!p->on)
        return;
    clock_gettime(CLOCK_MONOTONIC, &now);
    draw(p, &now);
    fputc('\n', stderr);
    fflush(stderr);
    p->on = false;
}
