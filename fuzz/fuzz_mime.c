/* fuzz_mime.c - mime.types parsing: any text gives a table or -ENODATA;
 * every lookup in it answers a NUL-terminated type without control bytes
 * (it goes into a Content-Type header as is). */
#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "serve/mime.h"

static void check_type(const char *t)
{
    FUZZ_CHECK(t && *t && strchr(t, '/'));
    for (const char *p = t; *p; p++)
        FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *names[] = { "a.html", "b.TXT", "c", ".d", "e.x", "f.tar.gz" };
    const char *text = (const char *)data;
    struct zc_mime *m = NULL;
    int ret = zc_mime_parse(&m, text, size);

    FUZZ_CHECK(ret == 0 || ret == -ENODATA || ret == -ENOMEM);
    FUZZ_CHECK((ret == 0) == (m != NULL));
    if (!m)
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        check_type(zc_mime_lookup(m, names[i], strlen(names[i])));
    /* Every word of the input looked up as an extension. */
    for (size_t i = 0; i < size; i++) {
        size_t j = i;
        char name[40] = "f.";

        while (j < size && j - i < 32 && data[j] > ' ')
            j++;
        if (j > i) {
            memcpy(name + 2, data + i, j - i);
            check_type(zc_mime_lookup(m, name, 2 + j - i));
            i = j;
        }
    }
    zc_mime_free(m);
    return 0;
}
