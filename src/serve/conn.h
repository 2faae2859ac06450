/* conn.h - one client connection: read a request head, plan the response,
 * send it (headers, then memory or file segments), repeat for pipelined and
 * keep-alive requests. Each worker's listener callback creates them. */
#ifndef ZC_SERVE_CONN_H
#define ZC_SERVE_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "serve/http_parse.h"
#include "serve/loop.h"
#include "serve/response.h"
#include "serve/upload.h"

struct zc_worker;

#define ZC_RBUF_SIZE ZC_HTTP_DEFAULT_MAX_HEAD

enum zc_conn_state {
    ZC_CONN_READ,                   /* waiting for or reading a request head */
    ZC_CONN_BODY,                   /* receiving a PUT body into upload */
    ZC_CONN_SEND,                   /* sending resp */
};

struct zc_conn {
    struct zc_io io;                /* first: the loop hands back &io */
    struct zc_worker *w;
    struct zc_timer timer;          /* head, idle or send deadline */
    struct zc_conn *prev, *next;    /* the worker's list of connections */
    struct zc_conn *ready_prev, *ready_next;  /* on the worker's ready list */
    bool ready;
    struct sockaddr_storage peer;
    enum zc_conn_state state;
    bool rd_ready;                  /* bytes may be waiting (edge seen) */
    bool rd_hup;                    /* the peer's FIN was seen: reads end in 0 */
    bool have_req;                  /* req is valid for the current resp */
    size_t rpos, rlen;              /* unparsed bytes: rbuf[rpos, rlen) */
    size_t req_len;                 /* head length of the current request */
    struct zc_http_req req;
    struct zc_resp resp;
    struct zc_upload upload;        /* idle unless state is ZC_CONN_BODY */
    char rbuf[ZC_RBUF_SIZE];
    char wbuf[ZC_WBUF_SIZE];
};

/* zc_listener_on_event - accept what is pending on a worker's listener. */
void zc_listener_on_event(struct zc_loop *loop, struct zc_io *io, uint32_t events);

/* Timer-list callbacks the worker registers. */
void zc_conn_on_head_timeout(struct zc_loop *loop, struct zc_timer *t);
void zc_conn_on_idle_timeout(struct zc_loop *loop, struct zc_timer *t);
void zc_conn_on_send_timeout(struct zc_loop *loop, struct zc_timer *t);

/* zc_conns_run_ready - resume connections that yielded after a batch of
 * pipelined requests (so one client cannot monopolise its worker). */
void zc_conns_run_ready(struct zc_worker *w);

/* zc_conns_begin_stop - SIGTERM: close idle connections now; the others
 * close after the response in flight. */
void zc_conns_begin_stop(struct zc_worker *w);

/* zc_conns_close_all - close every connection (drain deadline passed). */
void zc_conns_close_all(struct zc_worker *w);

/* zc_conns_free_pool - release the recycled connection structs. */
void zc_conns_free_pool(struct zc_worker *w);

/* zc_accept_resume - re-enable listeners paused by EMFILE. */
void zc_accept_resume(struct zc_worker *w);

#endif /* ZC_SERVE_CONN_H */
