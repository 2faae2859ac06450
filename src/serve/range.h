/* range.h - the Range request field for bytes (RFC 9110 section 14). Pure
 * functions: no allocation, no locale, never read past value[len). */
#ifndef ZC_RANGE_H
#define ZC_RANGE_H

#include <stddef.h>
#include <stdint.h>

struct zc_range {
    uint64_t first, last;           /* inclusive byte positions */
};

#define ZC_RANGE_MAX_PARTS 16

/* zc_range_parse - decide what a Range field means for a body of @size bytes.
 * @value, @len: the field value, surrounding whitespace already stripped
 *   (e.g. "bytes=0-99, -500"). The unit is matched case-insensitively; the
 *   range-set accepts "a-b", "a-" and "-n" (suffix) specs, OWS around commas
 *   and empty list elements.
 * @size: the selected representation's length.
 * @out: room for @max_parts ranges.
 * @max_parts: at most this many range-specs; more makes the field ignored.
 * Satisfiable ranges are clipped to the body (last > size-1 becomes size-1;
 * a suffix longer than the body is the whole body) and written in request
 * order; unsatisfiable ones (first >= size, "-0") are dropped.
 * Return: the number of ranges written (>= 1); 0 when the field must be
 * ignored and the whole body served with 200 (not the "bytes" unit, a
 * syntax error, last < first, more than @max_parts specs, or satisfiable
 * parts adding up to more than @size, which would amplify the response,
 * or a non-zero suffix on an empty body: satisfiable, but no Content-Range
 * can name its bytes); -416 when the field is valid but no range is
 * satisfiable. */
int zc_range_parse(const char *value, size_t len, uint64_t size,
                   struct zc_range *out, int max_parts);

/* zc_range_content_range - format a Content-Range field value.
 * @out, @cap: destination; NUL-terminated when @cap > 0, truncated like
 *   snprintf when too small (72 bytes always suffice).
 * @r: the range sent, giving "bytes FIRST-LAST/SIZE"; NULL gives the
 *   unsatisfied form used with 416: "bytes ", a star, "/SIZE".
 * @size: the complete length.
 * Return: the length of the full value, not counting the NUL (like snprintf:
 * the output was truncated when the return is >= @cap). */
size_t zc_range_content_range(char *out, size_t cap, const struct zc_range *r,
                              uint64_t size);

#endif /* ZC_RANGE_H */
