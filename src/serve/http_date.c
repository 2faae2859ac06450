/* http_date.c - HTTP-date in and out with our own calendar arithmetic:
 * gmtime/mktime/strftime/strptime depend on the locale or the TZ database,
 * take locks, or both, and the server formats a date per response. */
#include "serve/http_date.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char day_names[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char month_names[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1-12):
 * the era-of-400-years method, exact for any year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                                   /* [0, 399] */
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

void zc_http_date_format(time_t t, char out[ZC_HTTP_DATE_LEN + 1])
{
    /* 0000-01-01T00:00:00 and 9999-12-31T23:59:59 */
    const int64_t lo = -62167219200LL, hi = 253402300799LL;
    int64_t s = (int64_t)t, days, y;
    unsigned m, d, sod;

    if (s < lo)
        s = lo;
    if (s > hi)
        s = hi;
    days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
    sod = (unsigned)(s - days * 86400);
    civil_from_days(days, &y, &m, &d);

    memcpy(out, day_names[((days % 7) + 11) % 7], 3);     /* 1970-01-01: Thu */
    out[3] = ',';
    out[4] = ' ';
    put2(out + 5, d);
    out[7] = ' ';
    memcpy(out + 8, month_names[m - 1], 3);
    out[11] = ' ';
    put2(out + 12, (unsigned)(y / 100));
    put2(out + 14, (unsigned)(y % 100));
    out[16] = ' ';
    put2(out + 17, sod / 3600);
    out[19] = ':';
    put2(out + 20, sod / 60 % 60);
    out[22] = ':';
    put2(out + 23, sod % 60);
    memcpy(out + 25, " GMT", 5);                          /* with the NUL */
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* Month name at s[0..3) to 1-12, or 0. */
static unsigned month_from(const char *s)
{
    for (unsigned i = 0; i < 12; i++)
        if (!memcmp(s, month_names[i], 3))
            return i + 1;
    return 0;
}

static bool short_day_name(const char *s)
{
    for (unsigned i = 0; i < 7; i++)
        if (!memcmp(s, day_names[i], 3))
            return true;
    return false;
}

/* "HH:MM:SS" */
static bool time_of_day(const char *s, unsigned *sod)
{
    unsigned h, m, sec;

    if (s[2] != ':' || s[5] != ':' || !digits(s, 2, &h) ||
        !digits(s + 3, 2, &m) || !digits(s + 6, 2, &sec))
        return false;
    if (h > 23 || m > 59 || sec > 60)
        return false;
    if (sec == 60)
        sec = 59;
    *sod = h * 3600 + m * 60 + sec;
    return true;
}

static bool leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int finish(unsigned y, unsigned m, unsigned d, unsigned sod, time_t *out)
{
    static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30,
                                             31, 31, 30, 31, 30, 31 };

    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (unsigned)(m == 2 && leap(y)))
        return -EINVAL;
    *out = (time_t)(days_from_civil(y, m, d) * 86400 + sod);
    return 0;
}

/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf(const char *s, time_t *out)
{
    unsigned d, y, sod, m;

    if (!short_day_name(s) || memcmp(s + 3, ", ", 2) || !digits(s + 5, 2, &d) ||
        s[7] != ' ' || !(m = month_from(s + 8)) || s[11] != ' ' ||
        !digits(s + 12, 4, &y) || s[16] != ' ' || !time_of_day(s + 17, &sod) ||
        memcmp(s + 25, " GMT", 4))
        return -EINVAL;
    return finish(y, m, d, sod, out);
}

/* asctime: "Sun Nov  6 08:49:37 1994" (day as "dd" or " d") */
static int parse_asctime(const char *s, time_t *out)
{
    unsigned d, y, sod, m;

    if (!short_day_name(s) || s[3] != ' ' || !(m = month_from(s + 4)) ||
        s[7] != ' ' || s[19] != ' ' || !time_of_day(s + 11, &sod) ||
        s[10] != ' ' || !digits(s + 20, 4, &y))
        return -EINVAL;
    if (s[8] == ' ') {
        if (!digits(s + 9, 1, &d))
            return -EINVAL;
    } else if (!digits(s + 8, 2, &d)) {
        return -EINVAL;
    }
    return finish(y, m, d, sod, out);
}

/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
static int parse_rfc850(const char *s, size_t len, time_t now, time_t *out)
{
    static const char *const long_days[7] = { "Sunday", "Monday", "Tuesday",
        "Wednesday", "Thursday", "Friday", "Saturday" };
    size_t n = 0;
    unsigned d, yy, sod, m;
    int64_t now_days, now_year, y;
    unsigned now_m, now_d;

    for (unsigned i = 0; i < 7; i++) {
        size_t l = strlen(long_days[i]);

        if (len == l + 24 && !memcmp(s, long_days[i], l)) {
            n = l;
            break;
        }
    }
    if (!n)
        return -EINVAL;
    s += n;
    if (memcmp(s, ", ", 2) || !digits(s + 2, 2, &d) || s[4] != '-' ||
        !(m = month_from(s + 5)) || s[8] != '-' || !digits(s + 9, 2, &yy) ||
        s[11] != ' ' || !time_of_day(s + 12, &sod) || memcmp(s + 20, " GMT", 4))
        return -EINVAL;

    /* Pick the year with these last two digits in (now - 50, now + 50]. */
    now_days = (int64_t)now >= 0 ? (int64_t)now / 86400 : -((-(int64_t)now + 86399) / 86400);
    civil_from_days(now_days, &now_year, &now_m, &now_d);
    y = now_year - (now_year % 100 + 100) % 100 + yy;
    if (y > now_year + 50)
        y -= 100;
    else if (y <= now_year - 50)
        y += 100;
    if (y < 0 || y > 9999)
        return -EINVAL;
    return finish((unsigned)y, m, d, sod, out);
}

int zc_http_date_parse(const char *s, size_t len, time_t *out)
{
    if (!s)
        return -EINVAL;
    if (len == ZC_HTTP_DATE_LEN)
        return parse_imf(s, out);
    if (len == 24 && s[3] == ' ')
        return parse_asctime(s, out);
    if (len >= 30 && len <= 33)
        return parse_rfc850(s, len, time(NULL), out);
    return -EINVAL;
}
