/* fuzz_client_url.c - the clients' URL code: the first line is parsed as the
 * base URL, the rest resolved against it as a Location; whatever comes out is
 * a well-formed URL whose request target and file name are safe to use. */
#include <string.h>

#include "client/url.h"
#include "fuzz.h"

static void check_url(const struct zc_url *u)
{
    char target[ZC_URL_PATH_MAX * 3], name[256];
    int n;

    FUZZ_CHECK(u->host[0] != '\0' && u->port != 0);
    FUZZ_CHECK(u->path[0] == '/' && !strchr(u->path, '#'));
    n = zc_url_request_target(u, target, sizeof(target));
    FUZZ_CHECK(n > 0 && (size_t)n == strlen(target));
    for (int i = 0; i < n; i++)
        FUZZ_CHECK(target[i] > ' ' && target[i] < 0x7f);
    n = zc_url_file_name(u, name, sizeof(name));
    if (n > 0)
        FUZZ_CHECK(!strchr(name, '/') && strcmp(name, ".") && strcmp(name, ".."));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char base_str[ZC_URL_PATH_MAX + 64];
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t base_len = nl ? (size_t)(nl - in) : size;
    struct zc_url base, out;

    if (base_len >= sizeof(base_str) || memchr(in, '\0', base_len))
        return 0;
    memcpy(base_str, in, base_len);
    base_str[base_len] = '\0';
    if (zc_url_parse(base_str, &base) != 0)
        return 0;
    check_url(&base);
    if (!nl)
        return 0;
    if (zc_url_resolve(&base, nl + 1, size - base_len - 1, &out) == 0)
        check_url(&out);
    return 0;
}
