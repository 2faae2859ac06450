/* test_url.c - URL parsing, redirect resolution (RFC 3986 section 5), request
 * targets, Host headers and default file names, table-driven. */
#include <errno.h>
#include <string.h>

#include "client/url.h"
#include "tap.h"
#include "testutil.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static const struct parse_case {
    const char *in;
    int want;
    const char *host;
    unsigned port;
    const char *path;
    bool ipv6;
} parses[] = {
    { "http://example.com", 0, "example.com", 80, "/" },
    { "http://127.0.0.1:8080/a/b?x=1#frag", 0, "127.0.0.1", 8080, "/a/b?x=1" },
    { "http://[::1]:9/x", 0, "::1", 9, "/x", true },
    { "http://[::1]", 0, "::1", 80, "/", true },
    { "HTTP://Host.Example/", 0, "Host.Example", 80, "/" },
    { "http://host?q", 0, "host", 80, "/?q" },
    { "http://host#f", 0, "host", 80, "/" },
    { "localhost:8080/x", 0, "localhost", 8080, "/x" },
    { "http://h:65535/", 0, "h", 65535, "/" },
    { "https://x/", -EPROTONOSUPPORT },
    { "ftp://x/", -EPROTONOSUPPORT },
    { "http://user@host/", -EINVAL },
    { "http://host:0/", -EINVAL },
    { "http://host:65536/", -EINVAL },
    { "http://host:/", -EINVAL },
    { "http://host:8x/", -EINVAL },
    { "http:///x", -EINVAL },
    { "http://[::1/", -EINVAL },
    { "http://[zz]/", -EINVAL },
    { "http://[::1]x/", -EINVAL },
    { "http://ho st/", -EINVAL },
    { "", -EINVAL },
};

static const struct resolve_case {
    const char *ref;
    int want;
    const char *host;
    unsigned port;
    const char *path;
} resolves[] = {
    { "http://o/x", 0, "o", 80, "/x" },
    { "HTTP://o:81", 0, "o", 81, "/" },
    { "//o:9/y", 0, "o", 9, "/y" },
    { "/abs", 0, "h", 8, "/abs" },
    { "/a/./b/../c", 0, "h", 8, "/a/c" },
    { "d", 0, "h", 8, "/a/b/d" },
    { "../d", 0, "h", 8, "/a/d" },
    { "../../../../d", 0, "h", 8, "/d" },
    { "./d/./e/../f", 0, "h", 8, "/a/b/d/f" },
    { ".", 0, "h", 8, "/a/b/" },
    { "..", 0, "h", 8, "/a/" },
    { "?z", 0, "h", 8, "/a/b/c?z" },
    { "", 0, "h", 8, "/a/b/c?q" },
    { "#f", 0, "h", 8, "/a/b/c?q" },
    { "d?x/../y", 0, "h", 8, "/a/b/d?x/../y" },
    { "d#frag", 0, "h", 8, "/a/b/d" },
    { "a:b/c", -EPROTONOSUPPORT },
    { "https://s/", -EPROTONOSUPPORT },
    { "http://u@s/", -EINVAL },
};

static void test_parse(void)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(parses); i++) {
        const struct parse_case *tc = &parses[i];
        struct zc_url u;
        int ret = zc_url_parse(tc->in, &u);

        t_is_int(ret, tc->want, "parse '%s': return value", tc->in);
        if (ret || tc->want)
            continue;
        t_is_str(u.host, tc->host, "parse '%s': host", tc->in);
        t_is_int(u.port, tc->port, "parse '%s': port", tc->in);
        t_is_str(u.path, tc->path, "parse '%s': path", tc->in);
        t_is_int(u.ipv6, tc->ipv6, "parse '%s': ipv6", tc->in);
    }
}

static void test_resolve(void)
{
    struct zc_url base;

    t_is_int(zc_url_parse("http://h:8/a/b/c?q", &base), 0, "base URL parses");
    for (size_t i = 0; i < T_ARRAY_SIZE(resolves); i++) {
        const struct resolve_case *tc = &resolves[i];
        struct zc_url u;
        /* The reference is not NUL-terminated where it comes from a head. */
        char ref[256];
        size_t len = strlen(tc->ref);
        int ret;

        memcpy(ref, tc->ref, len);
        memset(ref + len, 'Z', sizeof(ref) - len);
        ret = zc_url_resolve(&base, ref, len, &u);
        t_is_int(ret, tc->want, "resolve '%s': return value", tc->ref);
        if (ret || tc->want)
            continue;
        t_is_str(u.host, tc->host, "resolve '%s': host", tc->ref);
        t_is_int(u.port, tc->port, "resolve '%s': port", tc->ref);
        t_is_str(u.path, tc->path, "resolve '%s': path", tc->ref);
    }

    /* In place, as get follows a redirect chain. */
    t_is_int(zc_url_resolve(&base, "x/y", 3, &base), 0, "resolve in place");
    t_is_str(base.path, "/a/b/x/y", "resolve in place: path");
}

static void test_strings(void)
{
    struct zc_url u;
    char out[256];

    zc_url_parse("http://h/a b/\xc3\xbc\"x\"", &u);
    t_ok(zc_url_request_target(&u, out, sizeof(out)) > 0 &&
         !strcmp(out, "/a%20b/%C3%BC%22x%22"), "request target percent-encodes: %s", out);
    t_is_int(zc_url_request_target(&u, out, 8), -ENAMETOOLONG, "request target too long");

    zc_url_parse("http://[::1]/", &u);
    zc_url_host_header(&u, out, sizeof(out));
    t_is_str(out, "[::1]", "host header, IPv6, port 80");
    zc_url_parse("http://[::1]:9/", &u);
    zc_url_host_header(&u, out, sizeof(out));
    t_is_str(out, "[::1]:9", "host header, IPv6 with port");
    zc_url_parse("http://h:8/", &u);
    zc_url_host_header(&u, out, sizeof(out));
    t_is_str(out, "h:8", "host header with port");
}

static const struct name_case {
    const char *url, *name;
} names[] = {
    { "http://h/dir/file.bin?x=1", "file.bin" },
    { "http://h/", "index.html" },
    { "http://h", "index.html" },
    { "http://h/dir/", "index.html" },
    { "http://h/a%20b", "a b" },
    { "http://h/%2e%2e", "index.html" },
    { "http://h/a%2fb", "index.html" },
    { "http://h/a%00b", "index.html" },
    { "http://h/x/..", "index.html" },
    { "http://h/x/.", "index.html" },
    { "http://h/100%", "100%" },
    { "http://h/%zz", "%zz" },
    { "http://h/a%0d%0ab", "a__b" },
    { "http://h/%1b[31mred", "_[31mred" },
    { "http://h/del%7f", "del_" },
    { "http://h/tab%09x", "tab_x" },
};

static void test_names(void)
{
    for (size_t i = 0; i < T_ARRAY_SIZE(names); i++) {
        struct zc_url u;
        char out[256];

        zc_url_parse(names[i].url, &u);
        t_ok(zc_url_file_name(&u, out, sizeof(out)) > 0, "file name of %s", names[i].url);
        t_is_str(out, names[i].name, "file name of %s", names[i].url);
    }
}

int main(void)
{
    test_parse();
    test_resolve();
    test_strings();
    test_names();
    return t_done();
}
