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
    "bad/ty(pe bar\n"
    "/nosubtype baz\n"
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
        { "x.bar", ZC_MIME_DEFAULT },         /* '(' is not a token character */
        { "x.baz", ZC_MIME_DEFAULT },
        { "x.css", ZC_MIME_DEFAULT },         /* not in this file */
        { "no-extension", ZC_MIME_DEFAULT },
    };

    t_is_int(zc_mime_load(&m, path), 0, "load custom");
    t_ok(m != NULL, "custom table");
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++)
        t_is_str(lookup_guarded(m, cases[i].name), cases[i].want, "custom: %s",
                 cases[i].name);
    zc_mime_free(m);

    /* --mime-types FILE is what the operator asked for: a file that maps
     * nothing is an error, not a silent switch to the built-in table. */
    fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    t_ok(fd >= 0 && write(fd, "# nothing\n", 10) == 10, "write empty mime.types");
    close(fd);
    m = (struct zc_mime *)1;
    t_is_int(zc_mime_load(&m, path), -ENODATA, "load empty: -ENODATA");
    t_ok(m == NULL, "load empty: no table");
    t_is_int(zc_mime_load(&m, "/nonexistent/mime.types"), -ENOENT, "missing file: -ENOENT");
    t_is_int(zc_mime_load(&m, t_tmpdir()), -EISDIR, "a directory: -EISDIR");
    t_is_int(zc_mime_load(&m, "/dev/null"), -EINVAL, "a device: -EINVAL");
}

/* zc_mime_parse on text that ends at a guard page (no NUL to lean on). */
static void test_parse_buffer(void)
{
    static const char text[] = "text/x-a aa\nimage/x-b\tbb cc";
    char *guard = t_guard_page();
    struct zc_mime *m = NULL;

    memcpy(guard - (sizeof(text) - 1), text, sizeof(text) - 1);
    t_is_int(zc_mime_parse(&m, guard - (sizeof(text) - 1), sizeof(text) - 1), 0, "parse");
    t_is_str(lookup_guarded(m, "f.aa"), "text/x-a; charset=utf-8", "parse: text type");
    t_is_str(lookup_guarded(m, "f.cc"), "image/x-b", "parse: last token");
    zc_mime_free(m);
    t_is_int(zc_mime_parse(&m, "", 0), -ENODATA, "parse empty");
    t_is_int(zc_mime_parse(&m, "a/b\n", 4), -ENODATA, "parse: type without extension");
}

static void test_default_type(void)
{
    static const struct {
        const char *type;
        int ret;
        const char *want;                   /* what an unknown extension gets */
    } cases[] = {
        { "text/plain", 0, "text/plain; charset=utf-8" },
        { "TEXT/plain", 0, "TEXT/plain; charset=utf-8" },
        { "text/plain; charset=iso-8859-1", 0, "text/plain; charset=iso-8859-1" },
        { "application/x-unknown", 0, "application/x-unknown" },
        { "application/x-a ;q=1", 0, "application/x-a ;q=1" },
        { "nonsense", -EINVAL, NULL },
        { "a/", -EINVAL, NULL },
        { "/b", -EINVAL, NULL },
        { "a/b c", -EINVAL, NULL },
        { "a/b\r\nSet-Cookie: x=1", -EINVAL, NULL },
        { "a/b; x=\x7f", -EINVAL, NULL },
        { "", -EINVAL, NULL },
    };
    struct zc_mime *m = NULL;

    t_is_int(zc_mime_load(&m, "/etc/mime.types"), access("/etc/mime.types", R_OK) ? -ENOENT : 0,
             "load for default-type");
    if (!m)
        t_is_int(zc_mime_parse(&m, "image/png png\n", 14), 0, "small table instead");
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++) {
        t_is_int(zc_mime_set_default(m, cases[i].type), cases[i].ret, "set_default case %zu",
                 i);
        if (cases[i].want)
            t_is_str(lookup_guarded(m, "x.nosuchext"), cases[i].want, "unknown gets \"%s\"",
                     cases[i].want);
    }
    /* A refused type leaves the previous default in place. */
    t_is_str(lookup_guarded(m, "README"), "application/x-a ;q=1", "no extension: default");
    t_is_str(lookup_guarded(m, "p.png"), "image/png", "known extension unaffected");
    zc_mime_free(m);

    /* The built-in table (no /etc/mime.types) takes a default too. */
    t_is_int(zc_mime_load(&m, NULL), 0, "load default");
    t_is_int(zc_mime_set_default(m, "text/x-custom"), 0, "set default on any table");
    t_is_str(lookup_guarded(m, "x.nosuchext"), "text/x-custom; charset=utf-8", "custom default");
    zc_mime_free(m);
}

static void test_builtin(void)
{
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

    /* The built-in table: what zc_mime_load(NULL) uses when /etc/mime.types
     * is absent, and what lookups with a NULL table use. */
    for (size_t i = 0; i < T_ARRAY_SIZE(cases); i++)
        t_is_str(lookup_guarded(NULL, cases[i].name), cases[i].want,
                 "built-in: \"%s\"", cases[i].name);
    zc_mime_free(NULL);
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
    test_parse_buffer();
    test_default_type();
    test_debian();
    return t_done();
}
