/* mime.h - Content-Type by file extension, from Debian's /etc/mime.types
 * (package media-types) or a built-in table when it is absent. Loaded once
 * at start; lookups are a binary search with no allocation and are safe
 * from any number of threads at once. */
#ifndef ZC_MIME_H
#define ZC_MIME_H

#include <stddef.h>

struct zc_mime;

#define ZC_MIME_DEFAULT "application/octet-stream"

/* zc_mime_load - read a mime.types file ("type ext ext ..." lines, '#'
 * comments). When an extension appears on several lines the first wins;
 * a line whose type is not "token/token" is skipped.
 * text/... types get "; charset=utf-8" appended: unlike nginx, which sends
 * no charset by default, we label text as UTF-8 because browsers otherwise
 * guess windows-1252 for text/plain, and nearly all text served today is
 * UTF-8 (a file in a legacy encoding is then mislabelled: serve it with a
 * non-text extension or convert it).
 * @out: the table, to release with zc_mime_free().
 * @path: the file (zcopy serve --mime-types): it must be a readable regular
 *   file of at most 16 MiB listing at least one extension.
 *   NULL means /etc/mime.types, and then a missing, unreadable or empty file
 *   is no error: the built-in table is used instead (html css js mjs json
 *   txt csv md xml svg png jpg jpeg gif webp avif bmp ico pdf wasm mp3 mp4
 *   webm ogg woff woff2 ttf otf zip gz xz zst tar 7z).
 * Return: 0; -ENOMEM (*out is then NULL); with @path set also -errno of
 * open/read, -EISDIR or -EINVAL (not a regular file), -EFBIG, or -ENODATA
 * (no extension in it). */
int zc_mime_load(struct zc_mime **out, const char *path);

/* zc_mime_parse - as zc_mime_load, from @len bytes of mime.types text
 * (copied). Return: 0, -ENOMEM, or -ENODATA when no line maps an extension
 * (*out is NULL on error). */
int zc_mime_parse(struct zc_mime **out, const char *text, size_t len);

/* zc_mime_set_default - the type of files whose extension is unknown or
 * absent (zcopy serve --default-type; ZC_MIME_DEFAULT until set).
 * @type: "type/subtype" optionally followed by parameters; a text/... type
 *   without parameters gets "; charset=utf-8" as the table's do. Copied.
 * Return: 0, -EINVAL (not a media type, or a control character in it), or
 * -ENOMEM. */
int zc_mime_set_default(struct zc_mime *m, const char *type);

/* zc_mime_lookup - the Content-Type for a file name or path.
 * @m: a loaded table; NULL means the built-in table.
 * @path, @len: a name or path (need not be NUL-terminated); only the last
 *   extension of its last component counts, case-insensitively ("a.tar.gz"
 *   is gz; ".bashrc" and "README" have none).
 * Return: a static or table-owned string valid until zc_mime_free(); never
 * NULL: the default type (ZC_MIME_DEFAULT unless zc_mime_set_default() chose
 * another) when the extension is unknown or absent. */
const char *zc_mime_lookup(const struct zc_mime *m, const char *path, size_t len);

/* zc_mime_free - release a table; NULL is a no-op. */
void zc_mime_free(struct zc_mime *m);

#endif /* ZC_MIME_H */
