/* zc_cat.c - copy files to stdout with libzcopy, whatever stdout is (a socket,
 * a pipe, a file, /dev/null): ZC_AUTO picks the cheapest path.
 *
 *   cc zc_cat.c $(pkg-config --cflags --libs zcopy) -o zc_cat
 *   ./zc_cat big.iso | nc host 9000
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zcopy.h>

static int cat_file(zc_ctx *ctx, const char *path)
{
    struct stat st;
    off_t off = 0;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "zc_cat: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    /* One call moves the whole file (stdout is blocking); SIZE_MAX reads to
     * EOF even if the file grows meanwhile. */
    n = zc_transfer(ctx, STDOUT_FILENO, fd, &off, SIZE_MAX, ZC_AUTO);
    close(fd);
    if (n < 0) {
        fprintf(stderr, "zc_cat: %s: %s\n", path, strerror((int)-n));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct zc_stats st;
    zc_ctx *ctx = zc_ctx_new();
    int status = 0;

    if (!ctx) {
        perror("zc_ctx_new");
        return 1;
    }
    for (int i = 1; i < argc; i++)
        if (cat_file(ctx, argv[i]) < 0)
            status = 1;
    zc_ctx_stats(ctx, &st);
    if (getenv("ZC_CAT_STATS"))
        fprintf(stderr, "zc_cat: %llu bytes, %llu syscalls, %llu fallbacks\n",
                (unsigned long long)st.bytes, (unsigned long long)st.syscalls,
                (unsigned long long)st.fallbacks);
    zc_ctx_free(ctx);
    return status;
}
