/* flow-rendezvous-server-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* What the two engines of the rendezvous server share: the connection,
 * worker and room state, and the room/peer logic of
 * flow-rendezvous-server.c. The "soup" engine keeps a
 * SoupWebsocketConnection per connection; the "epoll" engine
 * (flow-rendezvous-epoll.c) speaks HTTP and RFC 6455 itself on one epoll fd
 * per worker. Everything below is touched only under server->lock. */

#pragma once

#include <libsoup/soup.h>

#include "flow-rendezvous-server.h"
#include "flow-stun-responder-private.h"

G_BEGIN_DECLS

#define FLOW_RV_N_REJECTIONS 16

typedef struct _Room Room;
typedef struct _Worker Worker;

typedef struct _Conn Conn;
struct _Conn
{
  FlowRendezvousServer    *server;   /* borrowed */
  Worker                  *worker;   /* borrowed; the only thread that touches the socket */
  guint                    refs;     /* under server->lock */
  SoupWebsocketConnection *ws;       /* soup engine; NULL on the epoll engine */
  GSocket                 *socket;   /* soup engine */
  char                    *address;
  Room                    *room;     /* borrowed; NULL until joined */
  char                    *peer;
  GList                    link;     /* in worker->connections (epoll: or ->pending) */
  gint64                   created;
  gint64                   last_seen;
  gint64                   last_refill;
  gint64                   last_ping;
  gint64                   close_deadline;
  double                   tokens;
  gsize                    unflushed; /* epoll: exactly the bytes in wbuf */
  guint                    dropped;
  guint                    closing : 1;
  guint                    aborted : 1;
  guint                    pinging : 1;
  guint                    destroyed : 1;

  /* epoll engine: a plain fd and buffers that exist only while they hold
   * bytes. */
  guint                    upgraded : 1;      /* past the HTTP handshake */
  guint                    in_message : 1;    /* between fragments of a text message */
  guint                    discard : 1;       /* protocol error: drop all input */
  guint                    destroy_after_flush : 1;
  int                      fd;
  guint8                  *rbuf;              /* unparsed input */
  gsize                    rlen;
  guint8                  *wbuf;              /* output the kernel did not take */
  gsize                    wlen;
  gsize                    woff;
  guint8                  *mbuf;              /* fragments of a text message */
  gsize                    mlen;
  guint64                  skip;              /* payload bytes to drop (refused frame) */
};

/* A message for a connection of another worker, handed over through that
 * worker's mailbox. */
typedef struct
{
  Conn *conn;                         /* a reference */
  char *text;
} Delivery;

/* One main context with its own SoupServer and connections. Every turn of
 * a GLib main loop walks all of its sources, and libsoup re-creates a
 * connection's input source after each read (an O(n) insertion into the
 * context's poll list), so with the soup engine the cost of a message
 * grows with the number of connections on its context. Workers split the
 * connections over several contexts; all shared state (rooms, counters,
 * every Conn field) is only touched under server->lock, so the logic stays
 * that of one thread. With the epoll engine a worker's connections are
 * all behind one epoll fd, one GSource. */
struct _Worker
{
  FlowRendezvousServer *server;
  GMainContext         *context;
  GMainLoop            *loop;           /* NULL: runs on the caller's context */
  GThread              *thread;
  SoupServer           *soup;
  GSource              *accept_source;
  GSource              *mailbox_source;
  GSource              *sweep_source;
  guint                 sweep_period_ms; /* a full pass over the connections */
  guint                 sweep_tick_ms;   /* one slice of it */
  GQueue                connections;    /* of Conn */
  GQueue                mailbox;        /* of Delivery, under server->lock */

  /* epoll engine */
  int                   epfd;
  GSource              *epoll_source;
  GQueue                pending;        /* of Conn still in HTTP */
  guint8               *scratch;        /* one read's worth of input */
};

struct _Room
{
  char       *id;
  GHashTable *peers;                  /* peer id (borrowed from Conn) → Conn */
};

struct _FlowRendezvousServer
{
  GObject               parent_instance;

  /* Owned */
  FlowRendezvousConfig *config;
  FlowRendezvousEngine  engine;         /* resolved: never AUTO while running */
  GRecMutex             lock;
  FlowStunResponder    *stun;
  GHashTable           *rooms;          /* id → Room */
  GHashTable           *per_address;    /* address → count */
  GSocket              *listener;       /* plain HTTP: we accept ourselves */
  Worker              **workers;
  guint                 n_workers;
  guint                 n_connections;
  gboolean              stopping;

  /* Metrics */
  guint64               messages_relayed;
  guint64               bytes_relayed;
  guint64               handshakes;
  guint64               rejections[FLOW_RV_N_REJECTIONS];

  guint                 port;
};

/* Shared logic (flow-rendezvous-server.c) */
void     flow_rv_count_rejection  (FlowRendezvousServer *self,
                                   const char           *reason);
void     flow_rv_log_event        (const char           *event,
                                   Conn                 *conn,
                                   const char           *detail);
gboolean flow_rv_is_authorized    (FlowRendezvousServer *self,
                                   const char           *authorization,
                                   const char           *query);
gboolean flow_rv_has_room_for     (FlowRendezvousServer *self,
                                   const char           *address);
void     flow_rv_conn_register    (Worker               *worker,
                                   Conn                 *conn);
void     flow_rv_conn_seen        (Conn                 *conn,
                                   gint64                now);
gboolean flow_rv_conn_take_token  (Conn                 *conn,
                                   gint64                now);
void     flow_rv_conn_handle_text (Conn                 *conn,
                                   const char           *text,
                                   gsize                 len);
void     flow_rv_conn_reject      (Conn                 *conn,
                                   const char           *code,
                                   const char           *message,
                                   gushort               close_code);
void     flow_rv_conn_close       (Conn                 *conn,
                                   gushort               code,
                                   const char           *reason);
void     flow_rv_conn_abort       (Conn                 *conn,
                                   const char           *reason);
void     flow_rv_conn_destroy     (Conn                 *conn);
void     flow_rv_worker_serve_http (Worker              *worker,
                                    GSocket             *socket);

/* The epoll engine (flow-rendezvous-epoll.c, Linux only) */
gboolean flow_rv_epoll_worker_init    (Worker     *worker,
                                       GError    **error);
void     flow_rv_epoll_worker_free    (Worker     *worker);
void     flow_rv_epoll_accept         (Worker     *worker,
                                       int         listen_fd);
void     flow_rv_epoll_sweep_pending  (Worker     *worker,
                                       gint64      now);
void     flow_rv_epoll_send_text      (Conn       *conn,
                                       const char *text,
                                       gsize       len);
void     flow_rv_epoll_send_close     (Conn       *conn,
                                       gushort     code,
                                       const char *reason);
void     flow_rv_epoll_send_ping      (Conn       *conn);
void     flow_rv_epoll_release        (Conn       *conn);

G_END_DECLS
