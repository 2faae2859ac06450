/* http_cond.h - entity-tags and the validators of conditional requests
 * (RFC 9110 sections 8.8.3 and 13.1). Pure: no allocation, no locale. */
#ifndef ZC_HTTP_COND_H
#define ZC_HTTP_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ZC_ETAG_MAX 64              /* zc_etag_make() output, NUL included */

/* zc_etag_match_list - does @etag match the If-Match / If-None-Match field
 * value @list?
 * @list, @len: the field value: "*" or a comma-separated list of
 *   entity-tags (W/"x" or "x"), OWS and empty elements allowed.
 * @etag, @etag_len: the current representation's entity-tag, quotes
 *   included, optionally with a W/ prefix.
 * @weak: true for the weak comparison of If-None-Match (the opaque tags are
 *   equal, W/ ignored), false for the strong comparison of If-Match (both
 *   tags strong and equal: a weak tag never matches).
 * "*" matches any etag (the caller asks only when a representation exists).
 * Elements are examined left to right; a syntax error stops the scan with
 * no match (so a malformed If-None-Match is ignored and a malformed
 * If-Match fails, both the safe outcome).
 * Return: true on a match. */
bool zc_etag_match_list(const char *list, size_t len, const char *etag,
                        size_t etag_len, bool weak);

/* zc_etag_make - the strong ETag of a file, quotes included, NUL-terminated:
 * "INO-SIZE-SEC.NSEC" in lower-case hex (e.g. "\"1a2b-400-6553f1c0.1dcd6500\"").
 * It changes when the file is replaced (inode), resized, or touched (mtime
 * to the nanosecond).
 * @out: ZC_ETAG_MAX (64) bytes; at most 62 are written. */
void zc_etag_make(char out[64], uint64_t ino, uint64_t size, int64_t mtime_sec,
                  long mtime_nsec);

/* zc_if_range_match - should a Range be honoured given If-Range @value
 * (RFC 9110 13.1.5)?
 * @value, @len: the If-Range field value: one entity-tag or an HTTP-date.
 * @etag, @etag_len: the current entity-tag (quotes included).
 * @last_modified: the current Last-Modified time, in seconds.
 * An entity-tag must match by strong comparison (a weak one never does); a
 * date must equal Last-Modified exactly. Anything else (a list, "*", a
 * malformed date) does not match.
 * Return: true to honour the Range, false to ignore it and send 200. */
bool zc_if_range_match(const char *value, size_t len, const char *etag,
                       size_t etag_len, time_t last_modified);

#endif /* ZC_HTTP_COND_H */
