/* accept.h - a worker's listeners: accept in batches, hand each new
 * connection to the program, refuse when full, and pause on EMFILE.
 *
 * Out of fds (EMFILE, ENFILE, ENOBUFS, ENOMEM) a level-triggered listener
 * would wake the loop forever: the acceptor stops watching its listeners
 * for ZC_ACCEPT_PAUSE_MS (a timer on the loop), or until the program says
 * an fd was freed (zc_acceptor_resume). */
#ifndef ZC_NET_ACCEPT_H
#define ZC_NET_ACCEPT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "net/loop.h"

#define ZC_NET_MAX_LISTEN 16
#define ZC_ACCEPT_BATCH 64          /* per wakeup: leave room for the others */
#define ZC_ACCEPT_PAUSE_MS 100      /* after EMFILE, before trying again */

struct zc_acceptor;

/* A new connection: non-blocking, close-on-exec; the callee owns @fd. */
typedef void zc_accept_fn(struct zc_acceptor *a, int fd,
                          const struct sockaddr_storage *peer, void *arg);

/* Whether one more connection may be taken now. */
typedef bool zc_accept_room_fn(struct zc_acceptor *a, void *arg);

struct zc_listener {
    struct zc_io io;                /* first: the loop hands back &io */
    struct zc_acceptor *acc;
};

struct zc_acceptor {
    struct zc_loop *loop;
    struct zc_listener listeners[ZC_NET_MAX_LISTEN];
    unsigned n;
    bool paused, closed;
    struct zc_timer_list pause_list;
    struct zc_timer pause_timer;
    zc_accept_fn *on_accept;
    zc_accept_room_fn *has_room;    /* NULL: always */
    void *arg;
    /* Sent best effort (MSG_DONTWAIT) to a connection refused because
     * has_room said no, before closing it; NULL: just close. */
    const char *busy_reply;
    size_t busy_len;
};

/* zc_acceptor_init - set @a up on @loop (registers its pause timer list).
 * Return: 0 or -errno (-ENOSPC: the loop has no timer list left). */
int zc_acceptor_init(struct zc_acceptor *a, struct zc_loop *loop,
                     zc_accept_fn *on_accept, zc_accept_room_fn *has_room,
                     void *arg);

/* zc_acceptor_add - watch listening socket @fd (from zc_listen_open); the
 * acceptor owns it from now on, also on error (closed then).
 * Return: 0 or -errno (-ENOSPC beyond ZC_NET_MAX_LISTEN). */
int zc_acceptor_add(struct zc_acceptor *a, int fd);

/* zc_acceptor_resume - watch the listeners again after a pause (call when
 * a connection closed: an fd is free). Does nothing unless paused. */
void zc_acceptor_resume(struct zc_acceptor *a);

/* zc_acceptor_close - stop accepting for good: unregister and close the
 * listeners. Connections still queued on them are reset by the kernel. */
void zc_acceptor_close(struct zc_acceptor *a);

#endif /* ZC_NET_ACCEPT_H */
