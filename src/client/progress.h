/* progress.h - a one-line progress bar on stderr: percentage, bar, bytes,
 * rate and ETA when the total is known; bytes and rate otherwise. Drawn only
 * when enabled (the caller checks that stderr is a terminal and not -q),
 * redrawn at most 10 times a second, always finished with a newline. */
#ifndef ZC_PROGRESS_H
#define ZC_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct zc_progress {
    bool on;
    bool drawn;
    uint64_t total;             /* UINT64_MAX: unknown */
    uint64_t base;              /* bytes present before this run (resume) */
    uint64_t done;              /* bytes so far, base included */
    struct timespec t0, last;
    int width;                  /* terminal columns */
};

/* zc_progress_enabled - stderr is a terminal and @quiet is false. */
bool zc_progress_enabled(bool quiet);

void zc_progress_start(struct zc_progress *p, bool on, uint64_t total, uint64_t base);
void zc_progress_update(struct zc_progress *p, uint64_t done);
/* Draws the last state and ends the line (only if anything was drawn). */
void zc_progress_finish(struct zc_progress *p);

/* zc_format_size - "999 B", "12.3 KiB", "4.0 GiB" into out (>= 16 bytes). */
void zc_format_size(char *out, size_t size, double bytes);

#endif /* ZC_PROGRESS_H */
