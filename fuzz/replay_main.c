/* replay_main.c - run a fuzz target over files without libFuzzer, so the
 * corpus and every committed crasher are an ordinary ctest test under any
 * compiler (and under ASan/UBSan in the sanitized build).
 * usage: replay_<name> DIR|FILE...   (a missing DIR is skipped)
 * Each input is placed so it ends right before a PROT_NONE page: an
 * over-read crashes even in a build without AddressSanitizer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define REPLAY_MAX_INPUT (1u << 20)

static unsigned char *region;           /* REPLAY_MAX_INPUT rounded up + a guard page */
static size_t region_len;

static int replay_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    unsigned char *buf;
    size_t got = 0;

    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || (size_t)st.st_size > REPLAY_MAX_INPUT) {
        fprintf(stderr, "replay: %s: not a regular file of at most %u bytes\n",
                path, REPLAY_MAX_INPUT);
        close(fd);
        return -1;
    }
    buf = region + region_len - (size_t)st.st_size;
    while (got < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    if (got != (size_t)st.st_size) {
        fprintf(stderr, "replay: %s: short read\n", path);
        return -1;
    }
    LLVMFuzzerTestOneInput(buf, got);
    return 0;
}

static int replay_dir(const char *dir, unsigned *count)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    int ret = 0;

    if (!d) {
        if (errno == ENOENT)
            return 0;
        fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;                   /* ., .., and .gitkeep-style files */
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (replay_file(path) < 0)
            ret = -1;
        else
            (*count)++;
    }
    closedir(d);
    return ret;
}

int main(int argc, char **argv)
{
    long pg = sysconf(_SC_PAGESIZE);
    unsigned count = 0;
    int failed = 0;
    struct stat st;

    region_len = ((REPLAY_MAX_INPUT + (size_t)pg - 1) / (size_t)pg) * (size_t)pg;
    region = mmap(NULL, region_len + (size_t)pg, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || mprotect(region + region_len, (size_t)pg, PROT_NONE) < 0) {
        perror("replay: mmap");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(argv[i]) < 0)
                failed = 1;
            else
                count++;
        } else if (replay_dir(argv[i], &count) < 0) {
            failed = 1;
        }
    }
    printf("replayed %u inputs%s\n", count, failed ? ", some unreadable" : "");
    munmap(region, region_len + (size_t)pg);
    return failed;
}
