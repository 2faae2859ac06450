/* coding.h - content codings of precompressed files (nginx gzip_static,
 * h2o file.send-compressed): which ones the server looks for beside a file
 * (--precompressed) and which one a request's Accept-Encoding chooses
 * (RFC 9110 section 12.5.3). Nothing is compressed here: the variants are
 * files made ahead of time (file.br, file.zst, file.gz). */
#ifndef ZC_SERVE_CODING_H
#define ZC_SERVE_CODING_H

#include <stddef.h>

enum zc_coding { ZC_CODING_BR, ZC_CODING_ZSTD, ZC_CODING_GZIP, ZC_CODING_COUNT };

/* zc_coding_choose's answers besides a coding. */
#define ZC_CODING_IDENTITY (-1)         /* send the file itself */
#define ZC_CODING_NOT_ACCEPTABLE (-406) /* identity excluded, no variant fits */

/* The codings to look for, most preferred first (--precompressed br,gzip). */
struct zc_coding_list {
    unsigned n;
    enum zc_coding v[ZC_CODING_COUNT];
};

/* zc_coding_name - the Content-Encoding token: "br", "zstd", "gzip". */
const char *zc_coding_name(enum zc_coding c);

/* zc_coding_suffix - the variant's file name suffix: ".br", ".zst", ".gz". */
const char *zc_coding_suffix(enum zc_coding c);

/* zc_coding_list_parse - "br,zstd,gzip" (any order, each once; "zst" is
 * taken for "zstd"; "off" or "" is the empty list).
 * Return: 0, or -EINVAL (unknown or repeated coding). */
int zc_coding_list_parse(const char *s, struct zc_coding_list *out);

/* zc_coding_choose - the coding to answer a request with.
 * @ae, @len: the Accept-Encoding value; @ae NULL when the field is absent
 *   (then identity: a client that does not ask gets no coding, as from
 *   nginx, although RFC 9110 would allow any).
 * @avail: bit (1u << coding) set for each variant that exists and is fresh.
 * @pref: the server's preference, which breaks ties between equal q-values.
 * Rules: q=0 excludes a coding; "*" stands for codings not listed; x-gzip
 * is gzip; names are case-insensitive; a malformed element is ignored. The
 * highest q among @avail wins unless "identity" is listed with a higher q.
 * Identity is acceptable unless "identity;q=0", or "*;q=0" without an
 * identity entry, excludes it.
 * Return: a coding in @avail, ZC_CODING_IDENTITY, or
 * ZC_CODING_NOT_ACCEPTABLE when identity is excluded and no variant in
 * @avail is acceptable. */
int zc_coding_choose(const char *ae, size_t len, unsigned avail,
                     const struct zc_coding_list *pref);

#endif /* ZC_SERVE_CODING_H */
