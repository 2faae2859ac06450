/* xferutil.h - the sinks a transfer test writes to (TCP loopback, AF_UNIX,
 * pipe, regular file, /dev/null), each with what arrived measured, and a
 * transfer loop that resumes after -EAGAIN by poll(POLLOUT). */
#ifndef ZC_XFERUTIL_H
#define ZC_XFERUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "testutil.h"
#include "zcopy.h"

enum t_out_kind { T_OUT_TCP, T_OUT_UNIX, T_OUT_PIPE, T_OUT_FILE, T_OUT_NULL,
                  T_OUT_COUNT };

const char *t_out_name(enum t_out_kind kind);

struct t_out {
    enum t_out_kind kind;
    int fd;                 /* the transfer writes here */
    int peer;               /* the read end of a socket or pipe, else -1 */
    bool has_sink;
    struct t_sink sink;     /* reader thread draining peer */
};

/* Open a sink. @nonblock: O_NONBLOCK on fd, and for sockets a small
 * SO_SNDBUF so that -EAGAIN really happens; the reader then sleeps
 * @delay_us between reads of @chunk bytes. Aborts on set-up failure. */
void t_out_open(struct t_out *o, enum t_out_kind kind, bool nonblock,
                size_t chunk, unsigned delay_us);

/* Close fd (the reader sees EOF), join the reader, close the rest. *bytes and
 * *hash say what arrived: the stream the reader saw, or the file's content;
 * for /dev/null *bytes is UINT64_MAX (nothing to measure). */
void t_out_close(struct t_out *o, uint64_t *bytes, uint64_t *hash);

/* zc_transfer until @len bytes moved from *off: on -EAGAIN wait for POLLOUT
 * (5 s at most per wait) and resume. Bounded in calls. Returns bytes moved,
 * or the first error other than -EAGAIN if nothing moved before it (then
 * *err_after gets it when bytes did move; else 0). */
ssize_t t_transfer_all(zc_ctx *ctx, int out_fd, int in_fd, off_t *off,
                       size_t len, enum zc_method m, unsigned *eagains,
                       ssize_t *err_after);

/* FNV-1a of the pattern bytes [off, off + len). */
uint64_t t_pattern_hash(uint64_t off, uint64_t len);

/* Does @m serve a regular file -> @kind pair (DESIGN.md, "fd pairs it can
 * serve")? A served pair must arrive byte-exact; another returns -EINVAL. */
bool t_method_serves(enum zc_method m, enum t_out_kind kind);

/* Does the method run at all in this build (not a placeholder, not missing
 * a kernel feature)? It must move 1 byte to its home sink. On no, *why
 * says why, for the TAP skip line. */
bool t_method_available(zc_ctx *ctx, enum zc_method m, const char **why);

#endif /* ZC_XFERUTIL_H */
