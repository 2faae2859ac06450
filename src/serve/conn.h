/* conn.h - one HTTP client connection: read a request head, plan the
 * response, queue it (net/sendq.h) and send it, repeat for pipelined and
 * keep-alive requests. The job is split by file:
 *   conn.c         the state machine (read, plan, send, next request), the
 *                  loop and timer callbacks
 *   conn_accept.c  opening, closing and recycling connections; stopping
 *   conn_send.c    a response plan into the send queue, flushing it, the
 *                  access log line
 *   conn_upload.c  PUT bodies (--upload) */
#ifndef ZC_SERVE_CONN_H
#define ZC_SERVE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "net/loop.h"
#include "net/sendq.h"
#include "serve/http_parse.h"
#include "serve/response.h"
#include "serve/upload.h"

struct zc_worker;

#define ZC_RBUF_SIZE ZC_HTTP_DEFAULT_MAX_HEAD

enum zc_conn_state {
    ZC_CONN_READ,                   /* waiting for or reading a request head */
    ZC_CONN_BODY,                   /* receiving a PUT body into upload */
    ZC_CONN_SEND,                   /* sending resp through out */
};

struct zc_conn {
    struct zc_io io;                /* first: the loop hands back &io */
    struct zc_worker *w;
    struct zc_timer timer;          /* head, idle or send deadline */
    struct zc_task resume;          /* deferred: yielded after a batch */
    struct zc_conn *prev, *next;    /* the worker's list of connections */
    struct sockaddr_storage peer;
    enum zc_conn_state state;
    bool rd_ready;                  /* bytes may be waiting (edge seen) */
    bool rd_hup;                    /* the peer's FIN was seen: reads end in 0 */
    bool have_req;                  /* req is valid for the current resp */
    size_t rpos, rlen;              /* unparsed bytes: rbuf[rpos, rlen) */
    size_t req_len;                 /* head length of the current request */
    struct zc_http_req req;
    struct zc_resp resp;
    struct zc_sendq out;            /* resp's segments, being sent */
    struct zc_upload upload;        /* idle unless state is ZC_CONN_BODY */
    char rbuf[ZC_RBUF_SIZE];
    char wbuf[ZC_WBUF_SIZE];
};

/* --- for the worker ------------------------------------------------------ */

/* zc_conn_open - take accepted socket @fd (owned from now on). */
void zc_conn_open(struct zc_worker *w, int fd, const struct sockaddr_storage *peer);

/* Timer-list callbacks the worker registers. */
void zc_conn_on_head_timeout(struct zc_loop *loop, struct zc_timer *t);
void zc_conn_on_idle_timeout(struct zc_loop *loop, struct zc_timer *t);
void zc_conn_on_send_timeout(struct zc_loop *loop, struct zc_timer *t);

/* zc_conns_begin_stop - SIGTERM: close idle connections now; the others
 * close after the response in flight. */
void zc_conns_begin_stop(struct zc_worker *w);

/* zc_conns_close_all - close every connection (drain deadline passed). */
void zc_conns_close_all(struct zc_worker *w);

/* zc_conns_free_pool - release the recycled connection structs. */
void zc_conns_free_pool(struct zc_worker *w);

/* --- between the conn_*.c files ------------------------------------------ */

/* conn_accept.c: unregister, close and recycle @c. */
void zc_conn_close(struct zc_conn *c);

/* conn.c: run the state machine until it waits for the socket or closes. */
void zc_conn_run(struct zc_conn *c);

/* conn.c: the loop callbacks conn_accept.c registers: socket events, and
 * the deferred resume of a connection that yielded. */
void zc_conn_on_event(struct zc_loop *loop, struct zc_io *io, unsigned events);
void zc_conn_on_resume(struct zc_loop *loop, struct zc_task *task);

/* conn.c: the planned response is ready; queue it and move to sending. */
void zc_conn_start_response(struct zc_conn *c);

enum zc_send_result {
    ZC_SEND_DONE,
    ZC_SEND_AGAIN,                  /* the socket is full: wait for its edge */
    ZC_SEND_YIELD,                  /* --send-chunk used: others' turn first */
    ZC_SEND_FAILED,
};

/* conn_send.c: queue c->resp's segments in c->out. Return: 0 or -ENOMEM. */
int zc_conn_queue_response(struct zc_conn *c);

/* conn_send.c: flush c->out to the socket. */
enum zc_send_result zc_conn_send(struct zc_conn *c);

/* conn_send.c: the access log line of the current response. */
void zc_conn_log(struct zc_conn *c);

/* conn_upload.c: a PUT head was parsed with --upload on: check it, and
 * plan a refusal or start receiving the body. */
void zc_conn_start_upload(struct zc_conn *c);

/* conn_upload.c: receive body bytes. Return: true when a response was
 * planned, false when waiting for bytes (or the connection was closed). */
bool zc_conn_receive_body(struct zc_conn *c);

#endif /* ZC_SERVE_CONN_H */
