/* testutil.h - helpers shared by the tests: pattern files, socket pairs, a
 * draining reader thread, content hashes, a guard page, fd counting. */
#ifndef ZC_TESTUTIL_H
#define ZC_TESTUTIL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define T_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A private directory under $TMPDIR (or /tmp), removed with its files at exit. */
const char *t_tmpdir(void);

/* Byte i of every pattern file: a function of i that repeats only after
 * 251 * 256 bytes, so shifted or dropped pages change the hash. */
static inline uint8_t t_pattern_byte(uint64_t i)
{
    return (uint8_t)((i % 251) ^ ((i >> 12) * 7));
}

/* Create (O_RDWR) a file of @size pattern bytes in t_tmpdir(); when @sparse,
 * only the first and last MiB hold data and the rest is a hole (reads as 0).
 * Returns the fd; the path is written to @path (PATH_MAX) when non-NULL. Aborts on error. */
int t_pattern_file(uint64_t size, bool sparse, char *path);

/* FNV-1a 64 over a stream. */
#define T_HASH_INIT 0xcbf29ce484222325ULL
uint64_t t_hash(uint64_t h, const void *buf, size_t len);

/* Hash @len bytes of @fd from @off with pread (stops early at EOF; *got says). */
uint64_t t_hash_file(int fd, uint64_t off, uint64_t len, uint64_t *got);

/* Connected pairs; [0] is the sending end. Abort on error. */
void t_tcp_pair(int fds[2]);              /* 127.0.0.1, through a listener on port 0 */
void t_unix_pair(int fds[2]);             /* AF_UNIX SOCK_STREAM */
void t_pipe(int fds[2]);                  /* fds[0] write end here, fds[1] read end */

void t_set_nonblock(int fd, bool on);
void t_set_sndbuf(int fd, int bytes);

/* A thread that reads @fd to EOF (chunk bytes per read, optionally slowly)
 * hashing everything, then closes nothing: the caller owns the fd. */
struct t_sink {
    pthread_t thread;
    int fd;
    size_t chunk;
    unsigned delay_us;                    /* sleep between reads, to force EAGAIN */
    uint64_t bytes, hash;
    int error;                            /* errno of a failed read, else 0 */
};
void t_sink_start(struct t_sink *s, int fd, size_t chunk, unsigned delay_us);
void t_sink_join(struct t_sink *s);

/* A thread that writes pattern bytes [0, len) to @fd, then closes @fd: a
 * stream source (pipe, socket) for transfers. */
struct t_source {
    pthread_t thread;
    int fd;
    size_t len;
};
void t_source_start(struct t_source *s, int fd, size_t len);
void t_source_join(struct t_source *s);

/* First byte of a PROT_NONE page: a buffer placed to end here crashes on
 * any over-read. */
char *t_guard_page(void);

/* Mappings of @fd's file in this process (by inode, from /proc/self/maps):
 * 0 once a method released all it mapped. */
int t_maps_of(int fd);

/* Open fds of this process (entries of /proc/self/fd, minus the one counting). */
int t_count_fds(void);

/* From now on, this thread (and what it starts) gets -@err from syscall @nr,
 * as from a seccomp policy or a kernel sysctl. Returns 0, or -1 where
 * seccomp filters are unavailable (the caller skips). */
int t_forbid_syscall(long nr, int err);

/* Fill @buf with the pattern starting at stream offset @off. */
void t_fill_pattern(void *buf, size_t len, uint64_t off);

#endif /* ZC_TESTUTIL_H */
