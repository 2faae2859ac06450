/* url.h - request paths in and out: percent-decoding of the request-target,
 * a defence-in-depth path check, and escaping for HTML and URLs. Pure: no
 * allocation, never reads past in[len). */
#ifndef ZC_URL_H
#define ZC_URL_H

#include <stddef.h>
#include <sys/types.h>

/* zc_url_decode_path - percent-decode the path of a request-target, once.
 * @in, @len: the origin-form target (or the path part of an absolute-form
 *   one); decoding stops at the first '?' or '#' (query and fragment are
 *   not part of the path). '+' is not a space in a path and stays '+'.
 * @out, @cap: the decoded path followed by a NUL, so it can go to openat2();
 *   @cap counts the NUL.
 * Dot segments are NOT resolved: the server confines paths to its root with
 * openat2(RESOLVE_BENEATH), and zc_url_path_check() rejects ".." anyway.
 * Return: the decoded length (without the NUL), or -EINVAL for an invalid
 * %-escape (not two hex digits), a NUL (raw or %00), or output that does
 * not fit in @cap. */
ssize_t zc_url_decode_path(const char *in, size_t len, char *out, size_t cap);

/* zc_url_path_check - is a decoded path safe to open relative to the
 * document root once its leading '/' is stripped? Defence in depth: the
 * server's openat2(RESOLVE_BENEATH) is what really confines it.
 * @path, @len: a decoded path.
 * Return: 0 if it starts with '/' and has no ".." segment, no backslash and
 * no NUL; -EINVAL otherwise. "." segments and empty segments ("//") are
 * allowed: they cannot leave the root. */
int zc_url_path_check(const char *path, size_t len);

/* zc_html_escape - escape text for HTML element content and quoted
 * attribute values: & < > " ' become &amp; &lt; &gt; &quot; &#39;.
 * @out, @cap: destination, NUL-terminated when @cap > 0; when too small the
 *   output stops before the first character (or escape) that does not fit.
 * @in, @len: the text (any bytes; NULs are copied as they are).
 * Return: the length of the complete escaped text without the NUL, like
 * snprintf: the output is complete only when the return is < @cap. */
size_t zc_html_escape(char *out, size_t cap, const char *in, size_t len);

/* zc_url_encode_path - percent-encode a path for an href or a Location
 * header: every byte but the unreserved characters (A-Z a-z 0-9 - . _ ~)
 * and '/' becomes %XX (upper-case hex), so the result is also safe inside
 * a quoted HTML attribute without further escaping.
 * @out, @cap, @in, @len, Return: as zc_html_escape(). */
size_t zc_url_encode_path(char *out, size_t cap, const char *in, size_t len);

#endif /* ZC_URL_H */
