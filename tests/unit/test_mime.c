/* test_mime.c - Content-Type lookup: a custom mime.types, the built-in
 * table, Debian's /etc/mime.types when installed; names end at a PROT_NONE
 * guard page. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "serve/mime.h"
#include "tap.h"
#include "testutil.h"

static const char *lookup_guarded(const struct zc_mime *m, const char *name)
{
    static char *guard;
    size_t n = strlen(name);

    if (!guard)
        guard = t_guard_page();
    memcpy(guard - n, name, n);
    return zc_mime_lookup(m, guard - n, n);
}

static const char custom[] =
    "# a comment line\n"
    "\n"
    "text/html\t\t\t\thtml htm\n"
    "application/x-first   dup   Mixed\n"
    "application/x-second  dup other\r\n"
    "   image/png png   \n"
    "notatype foo\n"
    "application/no-extensions\n"
    "text/plain txt";                      /* no final newline */

static void test_custom_file(void)
{
    char path[4096];
    struct zc_mime *m = NULL;
    int fd;

    snprintf(path, sizeof(path), "%s/mime.types", t_tmpdir());
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    t_ok(fd >= 0 && write(fd, custom, sizeof(custom) - 1) == (ssize_t)sizeof(custom) - 1,
         "write custom mime.types");
    close(fd);

    static const struct {
        const char *name, *want;
    } cases[] = {
        { "index.html", "text/html; charset=utf-8" },
        { "INDEX.HTM", "text/html; charset=utf-8" },
        { "dir/a.png", "image/png" },
        { "a.dup", "application/x-first" },   /* first line wins */
        { "a.other", "application/x-second" },
        { "a.mixed", "application/x-first" }, /* extensions fold case */
        { "a.MIXED", "application/x-first" },
        { "notes.txt", "text/plain; charset=utf-8" },
        { "x.foo", ZC_MIME_DEFAULT },         /* "notatype" line ignored */
        { "x.css", ZC_MIME_DEFAULT },         /* not in this file */
        { "no-extension", ZC_MIME_DEFAULT },
    };

    t_is_int(zc_mime_load(&m, path), 0, "load custom");
    t_ok(m != NULL, "custom table");
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++)
        t_is_str(lookup_guarded(m, cases[i].name), cases[i].want, "custom: %s",
                 cases[i].name);
    zc_mime_free(m);

    /* a file with no extension at all falls back to the built-in table */
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    t_ok(fd >= 0 && write(fd, "# nothing\n", 10) == 10, "write empty mime.types");
    close(fd);
    t_is_int(zc_mime_load(&m, path), 0, "load empty");
    t_is_str(lookup_guarded(m, "a.css"), "text/css; charset=utf-8", "empty file: built-in");
    zc_mime_free(m);
}

static void test_builtin(void)
{
    struct zc_mime *m = NULL;
    static const struct {
        const char *name, *want;
    } cases[] = {
        { "index.html", "text/html; charset=utf-8" },
        { "style.CSS", "text/css; charset=utf-8" },
        { "app.js", "text/javascript; charset=utf-8" },
        { "app.mjs", "text/javascript; charset=utf-8" },
        { "data.json", "application/json" },
        { "readme.txt", "text/plain; charset=utf-8" },
        { "p.png", "image/png" },
        { "p.jpg", "image/jpeg" },
        { "p.JPEG", "image/jpeg" },
        { "p.gif", "image/gif" },
        { "p.svg", "image/svg+xml" },
        { "p.webp", "image/webp" },
        { "favicon.ico", "image/vnd.microsoft.icon" },
        { "doc.pdf", "application/pdf" },
        { "m.wasm", "application/wasm" },
        { "v.mp4", "video/mp4" },
        { "f.woff2", "font/woff2" },
        { "f.woff", "font/woff" },
        { "feed.xml", "application/xml" },
        { "a.zip", "application/zip" },
        { "a.tar.gz", "application/gzip" },
        { "a.tar", "application/x-tar" },
        { "a.7z", "application/x-7z-compressed" },
        { "a.zst", "application/zstd" },
        { "a.avif", "image/avif" },
        { "a.bmp", "image/bmp" },
        { "a.csv", "text/csv; charset=utf-8" },
        { "a.md", "text/markdown; charset=utf-8" },
        { "a.mp3", "audio/mpeg" },
        { "a.ogg", "audio/ogg" },
        { "a.otf", "font/otf" },
        { "a.ttf", "font/ttf" },
        { "a.webm", "video/webm" },
        { "a.xz", "application/x-xz" },
        { "README", ZC_MIME_DEFAULT },
        { ".bashrc", ZC_MIME_DEFAULT },
        { "dir/.hidden", ZC_MIME_DEFAULT },
        { "dir.d/file", ZC_MIME_DEFAULT },
        { "trailing.", ZC_MIME_DEFAULT },
        { "x.unknownext", ZC_MIME_DEFAULT },
        { "x.htmlx", ZC_MIME_DEFAULT },
        { "x.htm", "text/html; charset=utf-8" },
        { "x.averyveryveryverylongextensionthatexceedsthelimit", ZC_MIME_DEFAULT },
        { "", ZC_MIME_DEFAULT },
        { ".", ZC_MIME_DEFAULT },
        { "/", ZC_MIME_DEFAULT },
    };

    t_is_int(zc_mime_load(&m, "/nonexistent/mime.types"), 0, "load missing file");
    t_ok(m != NULL, "missing file gives a table");
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        t_is_str(lookup_guarded(m, cases[i].name), cases[i].want, "built-in: \"%s\"",
                 cases[i].name);
        t_is_str(lookup_guarded(NULL, cases[i].name), cases[i].want,
                 "NULL table: \"%s\"", cases[i].name);
    }
    zc_mime_free(m);
    zc_mime_free(NULL);
    t_is_int(zc_mime_load(&m, t_tmpdir()), 0, "a directory as the file");
    t_is_str(lookup_guarded(m, "a.png"), "image/png", "directory: built-in");
    zc_mime_free(m);
}

static void test_debian(void)
{
    struct zc_mime *m = NULL;

    if (access("/etc/mime.types", R_OK) != 0) {
        t_diag("/etc/mime.types absent (package media-types): Debian checks skipped");
        return;
    }
    t_is_int(zc_mime_load(&m, NULL), 0, "load /etc/mime.types");
    t_is_str(lookup_guarded(m, "a.html"), "text/html; charset=utf-8", "debian html");
    t_is_str(lookup_guarded(m, "a.js"), "text/javascript; charset=utf-8", "debian js");
    t_is_str(lookup_guarded(m, "a.json"), "application/json", "debian json");
    t_is_str(lookup_guarded(m, "a.png"), "image/png", "debian png");
    t_is_str(lookup_guarded(m, "a.woff2"), "font/woff2", "debian woff2");
    t_is_str(lookup_guarded(m, "a.sh"), "application/x-sh", "debian: first of two lines");
    t_is_str(lookup_guarded(m, "a.c"), "text/x-csrc; charset=utf-8", "debian c source");
    t_is_str(lookup_guarded(m, "a.FLAC"), "audio/flac", "debian upper-case extension");
    t_is_str(lookup_guarded(m, "a.nosuchext"), ZC_MIME_DEFAULT, "debian unknown");
    zc_mime_free(m);
}

int main(void)
{
    test_custom_file();
    test_builtin();
    test_debian();
    return t_done();
}
