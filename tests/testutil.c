/* testutil.c - see testutil.h. Tests abort on set-up failures: a broken
 * fixture must never look like a passing check. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define DIE(...)                                                  \
    do {                                                          \
        fprintf(stderr, "testutil: " __VA_ARGS__);                \
        fprintf(stderr, ": %s\n", strerror(errno));               \
        abort();                                                  \
    } while (0)

static char tmpdir_path[PATH_MAX];
static pid_t tmpdir_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Everything under it: the log tests nest DIR/<topic>-<n>/ files. */
static void remove_tmpdir(void)
{
    /* Only the process that made it (a forked child exits too). */
    if (tmpdir_owner == getpid())
        nftw(tmpdir_path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *t_tmpdir(void)
{
    const char *base = getenv("TMPDIR");

    if (tmpdir_path[0])
        return tmpdir_path;
    snprintf(tmpdir_path, sizeof(tmpdir_path), "%s/zctest.XXXXXX",
             base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir_path))
        DIE("mkdtemp %s", tmpdir_path);
    tmpdir_owner = getpid();
    atexit(remove_tmpdir);
    return tmpdir_path;
}

void t_fill_pattern(void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++)
        p[i] = t_pattern_byte(off + i);
}

static void write_pattern(int fd, uint64_t off, uint64_t len)
{
    static uint8_t buf[1 << 16];

    while (len > 0) {
        size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
        ssize_t w;

        t_fill_pattern(buf, n, off);
        w = pwrite(fd, buf, n, (off_t)off);
        if (w <= 0)
            DIE("pwrite");
        off += (uint64_t)w;
        len -= (uint64_t)w;
    }
}

int t_pattern_file(uint64_t size, bool sparse, char *path)
{
    static unsigned seq;
    char local[PATH_MAX];
    char *p = path ? path : local;
    int fd;

    snprintf(p, PATH_MAX, "%s/pattern.%u.%d", t_tmpdir(), seq++, getpid());
    fd = open(p, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        DIE("open %s", p);
    if (sparse && size > (2u << 20)) {
        if (ftruncate(fd, (off_t)size) < 0)
            DIE("ftruncate");
        write_pattern(fd, 0, 1u << 20);
        write_pattern(fd, size - (1u << 20), 1u << 20);
    } else {
        write_pattern(fd, 0, size);
    }
    return fd;
}

uint64_t t_hash(uint64_t h, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t t_hash_file(int fd, uint64_t off, uint64_t len, uint64_t *got)
{
    static uint8_t buf[1 << 16];
    uint64_t h = T_HASH_INIT, total = 0;

    while (total < len) {
        size_t want = len - total < sizeof(buf) ? (size_t)(len - total) : sizeof(buf);
        ssize_t n = pread(fd, buf, want, (off_t)(off + total));

        if (n < 0)
            DIE("pread");
        if (n == 0)
            break;
        h = t_hash(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    if (got)
        *got = total;
    return h;
}

void t_tcp_pair(int fds[2])
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t len = sizeof(sa);
    int lfd, cfd, afd;

    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(lfd, 1) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
        DIE("listener");
    cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (cfd < 0 || connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        DIE("connect");
    afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
    if (afd < 0)
        DIE("accept");
    close(lfd);
    fds[0] = afd;
    fds[1] = cfd;
}

void t_unix_pair(int fds[2])
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
        DIE("socketpair");
}

void t_pipe(int fds[2])
{
    int p[2];

    if (pipe2(p, O_CLOEXEC) < 0)
        DIE("pipe2");
    fds[0] = p[1];
    fds[1] = p[0];
}

void t_set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) < 0)
        DIE("fcntl");
}

void t_set_sndbuf(int fd, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes)) < 0)
        DIE("SO_SNDBUF");
}

static void *sink_main(void *arg)
{
    struct t_sink *s = arg;
    uint8_t *buf = malloc(s->chunk);

    if (!buf)
        DIE("malloc");
    s->hash = T_HASH_INIT;
    for (;;) {
        ssize_t n = read(s->fd, buf, s->chunk);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            usleep(200);
            continue;
        }
        if (n < 0) {
            s->error = errno;
            break;
        }
        if (n == 0)
            break;
        s->hash = t_hash(s->hash, buf, (size_t)n);
        s->bytes += (uint64_t)n;
        if (s->delay_us)
            usleep(s->delay_us);
    }
    free(buf);
    return NULL;
}

void t_sink_start(struct t_sink *s, int fd, size_t chunk, unsigned delay_us)
{
    memset(s, 0, sizeof(*s));
    s->fd = fd;
    s->chunk = chunk ? chunk : 65536;
    s->delay_us = delay_us;
    errno = pthread_create(&s->thread, NULL, sink_main, s);
    if (errno)
        DIE("pthread_create");
}

void t_sink_join(struct t_sink *s)
{
    errno = pthread_join(s->thread, NULL);
    if (errno)
        DIE("pthread_join");
}

static void *source_main(void *arg)
{
    struct t_source *s = arg;
    uint8_t *buf = malloc(1 << 16);
    size_t done = 0;

    if (!buf)
        DIE("malloc");
    while (done < s->len) {
        size_t n = s->len - done < (1 << 16) ? s->len - done : (1 << 16);
        ssize_t k;

        t_fill_pattern(buf, n, done);
        k = write(s->fd, buf, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;                      /* the reader left: the test sees a short count */
        done += (size_t)k;
    }
    free(buf);
    close(s->fd);
    return NULL;
}

void t_source_start(struct t_source *s, int fd, size_t len)
{
    s->fd = fd;
    s->len = len;
    errno = pthread_create(&s->thread, NULL, source_main, s);
    if (errno)
        DIE("pthread_create");
}

void t_source_join(struct t_source *s)
{
    errno = pthread_join(s->thread, NULL);
    if (errno)
        DIE("pthread_join");
}

char *t_guard_page(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *p = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    if (p == MAP_FAILED || mprotect(p + pg * 2, (size_t)pg, PROT_NONE) < 0)
        DIE("guard page");
    return p + pg * 2;
}

int t_maps_of(int fd)
{
    struct stat st;
    char line[512];
    FILE *f;
    int n = 0;

    if (fstat(fd, &st) < 0 || !(f = fopen("/proc/self/maps", "re")))
        DIE("maps_of");
    while (fgets(line, sizeof(line), f)) {
        unsigned long long ino = 0;

        if (sscanf(line, "%*s %*s %*s %*s %llu", &ino) == 1 &&
            ino == (unsigned long long)st.st_ino)
            n++;
    }
    fclose(f);
    return n;
}

int t_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (!d)
        DIE("opendir /proc/self/fd");
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

int t_forbid_syscall(long nr, int err)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { .len = sizeof(filter) / sizeof(filter[0]), .filter = filter };

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return -1;
    return 0;
}
