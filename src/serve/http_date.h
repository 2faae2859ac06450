/* http_date.h - HTTP-date (RFC 9110 section 5.6.7): formatting and parsing
 * without locale, time zone, allocation or libc time conversions. */
#ifndef ZC_HTTP_DATE_H
#define ZC_HTTP_DATE_H

#include <stddef.h>
#include <time.h>

#define ZC_HTTP_DATE_LEN 29         /* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* zc_http_date_format - write @t (seconds since the epoch, UTC) as an
 * IMF-fixdate followed by a NUL.
 * @out: ZC_HTTP_DATE_LEN + 1 bytes.
 * Times outside years 0000-9999 are clamped to the nearest representable
 * instant, so the output always has exactly ZC_HTTP_DATE_LEN characters. */
void zc_http_date_format(time_t t, char out[ZC_HTTP_DATE_LEN + 1]);

/* zc_http_date_parse - parse an HTTP-date in any of the three forms a
 * recipient must accept: IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
 * RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT") and asctime
 * ("Sun Nov  6 08:49:37 1994").
 * @s, @len: the text, without surrounding whitespace; need not be
 *   NUL-terminated.
 * @out: the time in seconds since the epoch, written on success only.
 * Day and month names are case-sensitive, as the grammar says; the day of
 * the week must be a valid name but is not checked against the date. A
 * two-digit RFC 850 year more than 50 years in the future is taken as the
 * most recent past year with those digits (RFC 9110 5.6.7). Second 60 (a
 * leap second) is accepted and counted as 59.
 * Return: 0, or -EINVAL when @s is not a valid HTTP-date (an invalid
 * calendar date such as Feb 30 included). */
int zc_http_date_parse(const char *s, size_t len, time_t *out);

#endif /* ZC_HTTP_DATE_H */
