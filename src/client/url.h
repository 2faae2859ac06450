/* url.h - http:// URLs for the clients: parse, resolve a redirect's Location
 * against the current URL (RFC 3986 section 5), and pick a local file name. */
#ifndef ZC_URL_H
#define ZC_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZC_URL_HOST_MAX 256
#define ZC_URL_PATH_MAX 4096

struct zc_url {
    char host[ZC_URL_HOST_MAX];     /* name or address, without IPv6 brackets */
    bool ipv6;                      /* host is an IPv6 literal ([...] in the URL) */
    uint16_t port;                  /* 80 when not given */
    char path[ZC_URL_PATH_MAX];     /* "/dir/file?query", never empty, no fragment */
};

/* zc_url_parse - parse an absolute "http://host[:port][/path][?query][#frag]".
 * Userinfo is refused (it would go out in the clear).
 * Return: 0; -EPROTONOSUPPORT for another scheme (https://); -ENAMETOOLONG;
 * -EINVAL for anything malformed. */
int zc_url_parse(const char *s, struct zc_url *u);

/* zc_url_resolve - resolve @ref (@ref_len bytes, e.g. a Location value) against
 * @base into @out: absolute, scheme-relative "//host/p", absolute-path "/p",
 * query-only "?q" and relative "a/../b" references; dot segments removed.
 * @out may alias @base. Return: as zc_url_parse(). */
int zc_url_resolve(const struct zc_url *base, const char *ref, size_t ref_len,
                   struct zc_url *out);

/* zc_url_request_target - @u's path for a request line, with bytes that may
 * not appear there (SP, controls, non-ASCII, '"', '<', '>', '\\', '^', '`',
 * '{', '|', '}') percent-encoded. Return: length, or -ENAMETOOLONG. */
int zc_url_request_target(const struct zc_url *u, char *out, size_t size);

/* zc_url_host_header - "host", "host:port", "[v6]" or "[v6]:port" (the port
 * only when not 80). Return: length, or -ENAMETOOLONG. */
int zc_url_host_header(const struct zc_url *u, char *out, size_t size);

/* zc_url_file_name - the default local name: the last path segment,
 * percent-decoded with control bytes (CR, LF, ESC, DEL...) mapped to '_', or
 * "index.html" when that is empty, ".", "..", or would hold '/' or NUL once
 * decoded. Return: length, or -ENAMETOOLONG. */
int zc_url_file_name(const struct zc_url *u, char *out, size_t size);

#endif /* ZC_URL_H */
