/* client.h - what zcopy get, put and cp share: exit codes, the interrupt
 * flag, socket helpers that count their syscalls, and the --stats report. */
#ifndef ZC_CLIENT_H
#define ZC_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "client/http_resp.h"
#include "zcopy.h"

/* Exit codes of get, put and cp (documented in their --help and README). */
enum zc_exit {
    ZC_EXIT_OK = 0,
    ZC_EXIT_USAGE = 1,          /* bad arguments */
    ZC_EXIT_NETWORK = 2,        /* resolve, connect, timeout, connection lost */
    ZC_EXIT_HTTP = 3,           /* the server answered with an error status */
    ZC_EXIT_LOCAL = 4,          /* a local file could not be read or written */
    ZC_EXIT_PROTOCOL = 5,       /* malformed response, unsupported scheme */
    ZC_EXIT_REDIRECTS = 6,      /* more than 5 redirects */
    ZC_EXIT_INTERRUPTED = 130,  /* SIGINT or SIGTERM */
};

#define ZC_USER_AGENT "zcopy/" ZC_VERSION_STRING
#define ZC_HEAD_MAX 16384           /* largest response head accepted */

/* Syscalls the clients issue themselves (head, framing, connect), reported
 * by --stats next to the library's count. */
extern uint64_t zc_client_syscalls;

/* Set by SIGINT/SIGTERM once zc_interrupt_install() ran. */
extern volatile sig_atomic_t zc_interrupted;

/* zc_interrupt_install - catch SIGINT and SIGTERM (without SA_RESTART):
 * the handler sets zc_interrupted and shuts down the watched socket, so a
 * transfer blocked in splice/sendfile returns at once. Ignores SIGPIPE. */
void zc_interrupt_install(void);
/* zc_interrupt_watch - the socket the handler shuts down (-1: none). */
void zc_interrupt_watch(int fd);

/* Set once the --max-time deadline armed by zc_deadline_arm() passed. */
extern volatile sig_atomic_t zc_deadline_passed;

/* zc_deadline_arm - after @ms milliseconds (0: never) SIGALRM sets
 * zc_deadline_passed and shuts the watched socket down, as an interrupt
 * does, so whatever blocks returns. Return: 0 or -errno. */
int zc_deadline_arm(int ms);

/* Whether a blocking call that returned EINTR should give up. */
static inline bool zc_stopping(void)
{
    return zc_interrupted || zc_deadline_passed;
}

/* zc_net_connect - resolve @host (name or literal) and connect to the first
 * address that answers within @timeout_ms each; the socket then gets
 * SO_RCVTIMEO/SO_SNDTIMEO of @timeout_ms. On failure @err (size @err_len)
 * says why. Return: the socket fd, or -errno. */
int zc_net_connect(const char *host, uint16_t port, int timeout_ms, char *err,
                   size_t err_len);

/* zc_net_wait - poll @fd for @events up to @timeout_ms, EINTR retried
 * unless zc_stopping(). Return: 1 ready, 0 the time ran out, or -errno
 * (-EINTR when stopped). */
int zc_net_wait(int fd, short events, int timeout_ms);

/* zc_net_send_all - send all of buf (MSG_NOSIGNAL | @flags).
 * Return: 0 or -errno (-EINTR only when interrupted). */
int zc_net_send_all(int fd, const void *buf, size_t len, int flags);

/* zc_now_ns - CLOCK_MONOTONIC in nanoseconds. */
int64_t zc_now_ns(void);

/* zc_net_stalled - after a receiving transfer call that started at
 * @started_ns moved fewer bytes than asked: whether it stopped because
 * @fd's SO_RCVTIMEO (@timeout_ms) ran out, i.e. it lasted that long and @fd
 * is still not readable. A caller that tried again would wait a second
 * timeout for nothing; a short count for any other reason (end of stream,
 * an error) leaves @fd readable, and the next call reports it. */
bool zc_net_stalled(int fd, int64_t started_ns, int timeout_ms);

/* zc_net_recv - one recv(), EINTR retried unless interrupted.
 * Return: bytes (0 at end of stream) or -errno. */
ssize_t zc_net_recv(int fd, void *buf, size_t len, int flags);

/* zc_net_read_head - read one response head into buf[0, cap): the final
 * one (interim 1xx heads are skipped) or, with @interim_too, whichever comes
 * first. When the head arrives in one piece it is peeked first and then
 * exactly the head is consumed, so no body byte is read into user space;
 * otherwise the body bytes read along with it are in buf[head_len, *have).
 * The interim heads skipped count against @cap too.
 * Return: the head length with *resp filled (pointing into buf);
 * -EPROTO malformed, -E2BIG more than ZC_RESP_MAX_FIELDS fields, -EMSGSIZE heads (interim ones included) larger than @cap, -ECONNRESET connection
 * closed before a whole head, -EAGAIN timed out, other -errno. */
int zc_net_read_head(int fd, char *buf, size_t cap, size_t *have,
                     struct zc_http_resp *resp, bool interim_too);

/* zc_net_head_problem - what zc_net_read_head's protocol errors (-EPROTO,
 * -E2BIG, -EMSGSIZE) mean, for a message; NULL for any other error (those
 * are network errors). */
const char *zc_net_head_problem(int err);

/* zc_net_error_text - any other socket error for a message: a timeout
 * (-EAGAIN from SO_RCVTIMEO/SO_SNDTIMEO) is "timed out". */
const char *zc_net_error_text(int err);

/* zc_report_stats - the --stats lines on @out: bytes, syscalls (library and
 * client), transfer calls, each method used with its bytes and syscalls, and
 * the fallbacks taken with the error that caused each. */
void zc_report_stats(FILE *out, const char *tool, const zc_ctx *ctx);

/* zc_parse_timeout_opt - parse a --timeout value in seconds (> 0, at most a
 * day, fractions allowed) into milliseconds. Return: 0 or -EINVAL. */
int zc_parse_timeout_opt(const char *s, int *ms);

#endif /* ZC_CLIENT_H */
