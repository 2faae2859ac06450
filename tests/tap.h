/* tap.h - a test is one executable that prints TAP and exits 0 (pass),
 * 1 (a check failed) or 77 (skipped: the kernel or machine lacks a feature). */
#ifndef ZC_TAP_H
#define ZC_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int t_count, t_failed;

__attribute__((format(printf, 4, 5), unused))
static int t__ok(int pass, const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    printf("%s %d - ", pass ? "ok" : "not ok", ++t_count);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    if (!pass) {
        printf("#   failed at %s:%d\n", file, line);
        t_failed++;
    }
    fflush(stdout);
    return pass;
}

#define t_ok(cond, ...) t__ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define t_is_int(got, want, ...)                                              \
    do {                                                                      \
        long long t__g = (long long)(got), t__w = (long long)(want);          \
        if (!t__ok(t__g == t__w, __FILE__, __LINE__, __VA_ARGS__))            \
            printf("#   got %lld, want %lld\n", t__g, t__w);                  \
    } while (0)

#define t_is_str(got, want, ...)                                              \
    do {                                                                      \
        const char *t__g = (got), *t__w = (want);                             \
        int t__p = t__g && t__w && strcmp(t__g, t__w) == 0;                   \
        if (!t__ok(t__p, __FILE__, __LINE__, __VA_ARGS__))                    \
            printf("#   got \"%s\", want \"%s\"\n", t__g ? t__g : "(null)",   \
                   t__w ? t__w : "(null)");                                   \
    } while (0)

#define t_is_mem(got, got_len, want, ...)                                     \
    do {                                                                      \
        size_t t__wl = strlen(want);                                          \
        int t__p = (size_t)(got_len) == t__wl &&                              \
                   memcmp((got), (want), t__wl) == 0;                         \
        if (!t__ok(t__p, __FILE__, __LINE__, __VA_ARGS__))                    \
            printf("#   got \"%.*s\", want \"%s\"\n", (int)(got_len),         \
                   (const char *)(got), (want));                              \
    } while (0)

#define t_diag(...)                                                           \
    do {                                                                      \
        printf("# ");                                                         \
        printf(__VA_ARGS__);                                                  \
        putchar('\n');                                                        \
    } while (0)

__attribute__((noreturn, format(printf, 1, 2), unused))
static void t_skip_all(const char *fmt, ...)
{
    va_list ap;

    printf("1..0 # SKIP ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    exit(77);
}

__attribute__((unused))
static int t_done(void)
{
    printf("1..%d\n", t_count);
    return t_failed ? 1 : 0;
}

#endif /* ZC_TAP_H */
