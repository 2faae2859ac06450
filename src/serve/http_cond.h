/* http_cond.h - entity-tags and the validators of conditional requests
 * (RFC 9110 sections 8.8.3 and 13.1), and the order they are evaluated in
 * (13.2.2). Pure: no allocation, no locale, no clock but the one passed. */
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

struct zc_http_req;

/* What the preconditions are evaluated against: the representation now at
 * the target (GET: the file served; PUT: the file it would replace). */
struct zc_cond_target {
    bool exists;
    const char *etag;               /* quotes included; unused if !exists */
    size_t etag_len;
    time_t mtime;                   /* Last-Modified, seconds */
};

/* zc_http_preconditions - RFC 9110 13.2.2, in its order: If-Match (strong;
 * fails when nothing exists, "*" included), else If-Unmodified-Since; then
 * If-None-Match (weak; "*" matches anything that exists), else, for a read
 * (@read: GET or HEAD), If-Modified-Since, where a date after @now is not a
 * valid one (a client clock ahead of ours would otherwise keep its copy past
 * the next change). Unparsable dates are ignored.
 * Return: 0 to go on, 304 (a read whose copy is current) or 412. */
int zc_http_preconditions(const struct zc_http_req *req, const struct zc_cond_target *t,
                          bool read, time_t now);

#endif /* ZC_HTTP_COND_H */
