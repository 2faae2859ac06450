/* test_http_date.c - HTTP-date formatting and the three parsed forms;
 * inputs end at a PROT_NONE guard page. */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <time.h>

#include "serve/http_date.h"
#include "tap.h"
#include "testutil.h"

#define IN(lit) (lit), sizeof(lit) - 1
#define BAD LLONG_MIN                     /* want: -EINVAL */

static const struct date_case {
    const char *name;
    const char *in;
    size_t in_len;
    long long want;                      /* seconds since the epoch, or BAD */
} cases[] = {
    { "IMF-fixdate", IN("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777 },
    { "RFC 850", IN("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777 },
    { "asctime", IN("Sun Nov  6 08:49:37 1994"), 784111777 },
    { "asctime two-digit day", IN("Sun Nov 06 08:49:37 1994"), 784111777 },
    { "asctime day 16", IN("Wed Nov 16 08:49:37 1994"), 784111777 + 10 * 86400 },
    { "epoch", IN("Thu, 01 Jan 1970 00:00:00 GMT"), 0 },
    { "before epoch", IN("Wed, 31 Dec 1969 23:59:59 GMT"), -1 },
    { "leap day 2000", IN("Tue, 29 Feb 2000 12:00:00 GMT"), 951825600 },
    { "leap day 2024", IN("Thu, 29 Feb 2024 00:00:00 GMT"), 1709164800 },
    { "2038 boundary", IN("Tue, 19 Jan 2038 03:14:08 GMT"), 2147483648LL },
    { "year 9999", IN("Fri, 31 Dec 9999 23:59:59 GMT"), 253402300799LL },
    { "leap second counts as 59", IN("Sat, 31 Dec 2016 23:59:60 GMT"), 1483228799 },
    { "weekday not checked", IN("Mon, 06 Nov 1994 08:49:37 GMT"), 784111777 },
    { "RFC 850 Wednesday", IN("Wednesday, 09-Nov-94 08:49:37 GMT"), 784111777 + 3 * 86400 },
    { "RFC 850 year 25 is 2025", IN("Monday, 01-Dec-25 00:00:00 GMT"), 1764547200 },
    { "RFC 850 year 99 is 1999", IN("Friday, 01-Jan-99 00:00:00 GMT"), 915148800 },
    /* invalid */
    { "empty", IN(""), BAD },
    { "Feb 29 1900", IN("Thu, 29 Feb 1900 00:00:00 GMT"), BAD },
    { "Feb 30", IN("Thu, 30 Feb 2024 00:00:00 GMT"), BAD },
    { "Apr 31", IN("Thu, 31 Apr 2024 00:00:00 GMT"), BAD },
    { "day 00", IN("Thu, 00 Jan 2024 00:00:00 GMT"), BAD },
    { "hour 24", IN("Thu, 01 Jan 2024 24:00:00 GMT"), BAD },
    { "minute 60", IN("Thu, 01 Jan 2024 00:60:00 GMT"), BAD },
    { "second 61", IN("Thu, 01 Jan 2024 00:00:61 GMT"), BAD },
    { "lower-case month", IN("Thu, 01 jan 2024 00:00:00 GMT"), BAD },
    { "lower-case day", IN("thu, 01 Jan 2024 00:00:00 GMT"), BAD },
    { "bad day name", IN("Thx, 01 Jan 2024 00:00:00 GMT"), BAD },
    { "UTC instead of GMT", IN("Thu, 01 Jan 2024 00:00:00 UTC"), BAD },
    { "numeric zone", IN("Thu, 01 Jan 2024 00:00:00 +0000"), BAD },
    { "one-digit day", IN("Thu, 1 Jan 2024 00:00:00 GMT"), BAD },
    { "trailing space", IN("Thu, 01 Jan 2024 00:00:00 GMT "), BAD },
    { "leading space", IN(" Thu, 01 Jan 2024 00:00:00 GMT"), BAD },
    { "NUL inside", IN("Thu, 01 Jan 2024 00:00\0:00 GMT"), BAD },
    { "sign in year", IN("Thu, 01 Jan +024 00:00:00 GMT"), BAD },
    { "missing comma", IN("Thu  01 Jan 2024 00:00:00 GMT"), BAD },
    { "RFC 850 short day name", IN("Sun, 06-Nov-94 08:49:37 GMT"), BAD },
    { "RFC 850 four-digit year", IN("Sunday, 06-Nov-1994 08:49:37 GMT"), BAD },
    { "RFC 850 wrong length name", IN("Sundayy, 06-Nov-94 08:49:37 GMT"), BAD },
    { "asctime one space before day digit pair", IN("Sun Nov 6  08:49:37 1994"), BAD },
    { "asctime zone", IN("Sun Nov  6 08:49:37 GMT1"), BAD },
    { "ISO 8601", IN("1994-11-06T08:49:37Z"), BAD },
    { "just digits", IN("784111777"), BAD },
};

static void test_parse_table(void)
{
    char *guard = t_guard_page();

    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        const struct date_case *tc = &cases[i];
        char *buf = guard - tc->in_len;
        time_t t = 12345;
        int ret;

        memcpy(buf, tc->in, tc->in_len);
        ret = zc_http_date_parse(buf, tc->in_len, &t);
        if (tc->want == BAD) {
            t_is_int(ret, -EINVAL, "%s: rejected", tc->name);
            t_is_int(t, 12345, "%s: output untouched", tc->name);
        } else {
            t_is_int(ret, 0, "%s: parsed", tc->name);
            t_is_int(t, tc->want, "%s: value", tc->name);
        }
    }
}

static void test_format(void)
{
    static const struct {
        long long t;
        const char *want;
    } fmt[] = {
        { 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
        { 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
        { -1, "Wed, 31 Dec 1969 23:59:59 GMT" },
        { 951825600, "Tue, 29 Feb 2000 12:00:00 GMT" },
        { 2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT" },
        { 253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT" },
        { 253402300800LL, "Fri, 31 Dec 9999 23:59:59 GMT" },   /* clamped */
        { -62167219200LL, "Sat, 01 Jan 0000 00:00:00 GMT" },
        { -99999999999LL, "Sat, 01 Jan 0000 00:00:00 GMT" },   /* clamped */
    };
    char out[ZC_HTTP_DATE_LEN + 1];

    for (size_t i = 0; i < T_ARRAY_SIZE(fmt); i++) {
        memset(out, 'x', sizeof(out));
        zc_http_date_format((time_t)fmt[i].t, out);
        t_is_str(out, fmt[i].want, "format %lld", fmt[i].t);
    }
}

/* format and parse are inverse, and agree with gmtime_r, over a spread of
 * instants (a deterministic stride, so the test is reproducible). */
static void test_round_trip(void)
{
    int mismatches = 0, gm_mismatches = 0;
    char out[ZC_HTTP_DATE_LEN + 1], ref[64];

    for (long long t = -2208988800LL; t < 4102444800LL; t += 86400LL * 13 + 3607) {
        time_t back = 0;
        struct tm tm;

        zc_http_date_format((time_t)t, out);
        if (zc_http_date_parse(out, ZC_HTTP_DATE_LEN, &back) != 0 || back != (time_t)t)
            mismatches++;
        time_t tt = (time_t)t;
        gmtime_r(&tt, &tm);
        strftime(ref, sizeof(ref), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (strcmp(ref, out) != 0)
            gm_mismatches++;
    }
    t_is_int(mismatches, 0, "format then parse gives the same instant (1900-2100)");
    t_is_int(gm_mismatches, 0, "format agrees with gmtime_r + strftime in the C locale");
}

int main(void)
{
    test_parse_table();
    test_format();
    test_round_trip();
    return t_done();
}
