/* flow-rendezvous-server.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The rendezvous server: rooms of peers that exchange opaque signal and
 * presence strings over WebSockets (docs/rendezvous.md).
 *
 * What it guarantees:
 * - Memory is bounded: connections, rooms and peers per room are capped,
 *   incoming frames are capped by size and rate, and a client that does not
 *   read is cut off once more than max-send-queue bytes wait for it.
 * - A room exists only while it has a member.
 * - Relayed `data` strings are copied into the outgoing frame and nothing
 *   else: no message outlives the main-loop turn that delivered it.
 * - Misbehaviour of one connection costs only that connection: every error
 *   path ends in an error message and/or a close code, never an abort.
 *
 * All state lives on the main context of the thread that started the
 * server. */

#define G_LOG_DOMAIN "flow-rendezvous"

#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include <libsoup/soup.h>

#include "flow-rendezvous-message-private.h"
#include "flow-rendezvous-server-private.h"
#include "flow-stun-responder-private.h"

/* How long a closing connection may take for its close handshake before we
 * shut its socket down. */
#define CLOSE_GRACE_USEC (2 * G_USEC_PER_SEC)

/* "Try again later" would be 1013, but libsoup 3.2 clients (our app among
 * them) fail such a close as a protocol error (1002), so full rooms and a
 * full server close with 1008 after their error message. */
#define CLOSE_TRY_AGAIN_LATER SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION

static const char * const rejection_reasons[] = {
  "bad-json", "bad-message", "unknown-type", "too-large", "rate-limited", "room-full",
  "too-many-rooms", "not-joined", "already-joined", "unknown-peer", "bad-token", "timeout",
  "too-many-connections", "slow-reader", "binary", "unauthorized",
};
#define N_REJECTIONS G_N_ELEMENTS (rejection_reasons)
G_STATIC_ASSERT (N_REJECTIONS == FLOW_RV_N_REJECTIONS);

G_DEFINE_FINAL_TYPE (FlowRendezvousServer, flow_rendezvous_server, G_TYPE_OBJECT)

#define count_rejection flow_rv_count_rejection
#define log_event flow_rv_log_event
#define conn_close flow_rv_conn_close
#define conn_abort flow_rv_conn_abort
#define conn_reject flow_rv_conn_reject
#define conn_destroy flow_rv_conn_destroy
#define conn_take_token flow_rv_conn_take_token
#define handle_text flow_rv_conn_handle_text
#define conn_seen flow_rv_conn_seen

/* ---------------------------------------------------------------------
 * private functions
 * --------------------------------------------------------------------- */

static guint
rejection_index (const char *reason)
{
  for (guint i = 0; i < N_REJECTIONS; i++)
    if (strcmp (rejection_reasons[i], reason) == 0)
      return i;
  g_assert_not_reached ();
  return 0;
}

void
flow_rv_count_rejection (FlowRendezvousServer *self,
                         const char           *reason)
{
  self->rejections[rejection_index (reason)]++;
}

void
flow_rv_log_event (const char *event,
                   Conn       *conn,
                   const char *detail)
{
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                    "FLOWSYNC_EVENT", event,
                    "MESSAGE", "event=%s addr=%s room=%s peer=%s%s%s",
                    event,
                    conn->address,
                    conn->room ? conn->room->id : "-",
                    conn->peer ? conn->peer : "-",
                    detail ? " detail=" : "",
                    detail ? detail : "");
}

static void
room_free (Room *room)
{
  g_hash_table_unref (room->peers);
  g_free (room->id);
  g_free (room);
}

/* Queues @text to @conn. When the socket cannot take more, the bytes wait in
 * libsoup's output queue; we add them up until the socket is writable again
 * (see sweep) and cut the connection off beyond max-send-queue. The epoll
 * engine owns its write queue and counts exactly. */

static void
conn_send (Conn       *conn,
           const char *text)
{
  gsize len;

  if (conn->closing || conn->destroyed || conn->server->stopping)
    return;

  if (!g_main_context_is_owner (conn->worker->context))
    {
      Delivery *d = g_new (Delivery, 1);

      d->conn = conn;
      d->text = g_strdup (text);
      conn->refs++;
      g_queue_push_tail (&conn->worker->mailbox, d);
      g_source_set_ready_time (conn->worker->mailbox_source, 0);
      return;
    }

  len = strlen (text);
  if (conn->ws == NULL)
    {
      /* The epoll engine owns its write queue: the count is exact. */
      flow_rv_epoll_send_text (conn, text, len);
      if (conn->unflushed > conn->server->config->max_send_queue)
        conn_abort (conn, "slow-reader");
      return;
    }

  if (soup_websocket_connection_get_state (conn->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return;

  if (conn->socket != NULL && !g_socket_condition_check (conn->socket, G_IO_OUT))
    conn->unflushed += len;
  else
    conn->unflushed = 0;

  if (conn->unflushed > conn->server->config->max_send_queue)
    {
      conn_abort (conn, "slow-reader");
      return;
    }

  soup_websocket_connection_send_text (conn->ws, text);
}

static void
conn_send_error (Conn       *conn,
                 const char *code,
                 const char *message)
{
  g_autofree char *text = flow_rv_build_message ("error", "code", code, "message", message, NULL);

  conn_send (conn, text);
}

static void
room_broadcast (Room       *room,
                Conn       *except,
                const char *text)
{
  GHashTableIter iter;
  Conn *other;

  g_hash_table_iter_init (&iter, room->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
    if (other != except)
      conn_send (other, text);
}

/* Takes @conn out of its room, tells the others, and drops the room when it
 * is empty. */
static void
conn_leave (Conn *conn)
{
  FlowRendezvousServer *self = conn->server;
  Room *room = conn->room;
  g_autofree char *text = NULL;

  if (room == NULL)
    return;

  g_hash_table_remove (room->peers, conn->peer);
  conn->room = NULL;

  if (g_hash_table_size (room->peers) == 0)
    {
      g_hash_table_remove (self->rooms, room->id);
      return;
    }

  text = flow_rv_build_message ("peer-left", "peer", conn->peer, NULL);
  room_broadcast (room, conn, text);
}

/* Sends a close frame; the connection stays listed until libsoup reports
 * it closed, or CLOSE_GRACE_USEC passes. */
void
flow_rv_conn_close (Conn       *conn,
                    gushort     code,
                    const char *reason)
{
  if (conn->closing)
    return;

  log_event ("close", conn, reason);
  conn_leave (conn);
  conn->closing = TRUE;
  conn->close_deadline = g_get_monotonic_time () + CLOSE_GRACE_USEC;
  if (conn->ws == NULL)
    flow_rv_epoll_send_close (conn, code, reason);
  else if (soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (conn->ws, code, reason);
}

/* For peers that cannot take a close frame: shut the socket down, so
 * libsoup sees the end of the stream and reports the connection closed; the
 * room hears peer-left then. We do not leave the room here, because we may
 * be called while a broadcast walks it. */
void
flow_rv_conn_abort (Conn       *conn,
                    const char *reason)
{
  if (reason != NULL)
    {
      count_rejection (conn->server, reason);
      log_event ("abort", conn, reason);
    }
  conn->closing = TRUE;
  conn->aborted = TRUE;
  conn->close_deadline = g_get_monotonic_time () + CLOSE_GRACE_USEC;
  if (conn->socket != NULL)
    g_socket_shutdown (conn->socket, TRUE, TRUE, NULL);
  else if (conn->ws == NULL && conn->fd >= 0)
    shutdown (conn->fd, SHUT_RDWR);
}

/* Sends error @code, counts it, and closes with @close_code (0 = stay open). */
void
flow_rv_conn_reject (Conn       *conn,
                     const char *code,
                     const char *message,
                     gushort     close_code)
{
  count_rejection (conn->server, code);
  conn_send_error (conn, code, message);
  if (close_code != 0)
    conn_close (conn, close_code, code);
}

static void
conn_unref (Conn *conn)
{
  g_assert (conn->refs > 0);
  if (--conn->refs > 0)
    return;
  g_free (conn->address);
  g_free (conn->peer);
  g_free (conn);
}

void
flow_rv_conn_destroy (Conn *conn)
{
  FlowRendezvousServer *self = conn->server;
  guint count;

  conn_leave (conn);
  g_queue_unlink (&conn->worker->connections, &conn->link);
  if (conn->ws != NULL)
    g_signal_handlers_disconnect_by_data (conn->ws, conn);
  else
    flow_rv_epoll_release (conn);
  conn->destroyed = TRUE;
  self->n_connections--;

  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, conn->address));
  if (count <= 1)
    g_hash_table_remove (self->per_address, conn->address);
  else
    g_hash_table_insert (self->per_address, g_strdup (conn->address), GUINT_TO_POINTER (count - 1));

  g_clear_object (&conn->ws);
  g_clear_object (&conn->socket);
  conn_unref (conn);
}

/* Takes one token from the bucket. Returns FALSE when the message must be
 * dropped. */
gboolean
flow_rv_conn_take_token (Conn   *conn,
                         gint64  now)
{
  const FlowRendezvousConfig *config = conn->server->config;
  double elapsed = (now - conn->last_refill) / (double) G_USEC_PER_SEC;

  conn->tokens = MIN (config->burst, conn->tokens + elapsed * config->rate);
  conn->last_refill = now;

  if (conn->tokens >= 1)
    {
      conn->tokens -= 1;
      conn->dropped = 0;
      return TRUE;
    }

  conn->dropped++;
  count_rejection (conn->server, "rate-limited");
  /* One error per burst of drops: answering each dropped message would let
   * a flood make us write as fast as it does. */
  if (conn->dropped == 1)
    conn_send_error (conn, "rate-limited", "too many messages; this one was dropped");
  if (conn->dropped > 2 * config->burst)
    conn_close (conn, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION, "rate-limited");
  return FALSE;
}

static void
handle_join (Conn          *conn,
             FlowRvMessage *msg)
{
  FlowRendezvousServer *self = conn->server;
  g_autofree char *joined = NULL;
  g_autofree char *announce = NULL;
  g_autofree const char **peers = NULL;
  Room *room;
  guint n = 0;

  if (conn->room != NULL)
    {
      conn_reject (conn, "already-joined", "this connection already joined a room",
                   SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
      return;
    }

  room = g_hash_table_lookup (self->rooms, msg->room);
  if (room == NULL)
    {
      if (g_hash_table_size (self->rooms) >= self->config->max_rooms)
        {
          conn_reject (conn, "too-many-rooms", "the server has no room for another room",
                       CLOSE_TRY_AGAIN_LATER);
          return;
        }
      if (self->config->max_peers_per_room == 0)
        {
          conn_reject (conn, "room-full", "the room is full", CLOSE_TRY_AGAIN_LATER);
          return;
        }
      room = g_new0 (Room, 1);
      room->id = g_strdup (msg->room);
      room->peers = g_hash_table_new (g_str_hash, g_str_equal);
      g_hash_table_insert (self->rooms, room->id, room);
    }
  else if (g_hash_table_contains (room->peers, msg->peer))
    {
      conn_reject (conn, "already-joined", "a peer with this id is already in the room",
                   SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
      return;
    }
  else if (g_hash_table_size (room->peers) >= self->config->max_peers_per_room)
    {
      conn_reject (conn, "room-full", "the room is full", CLOSE_TRY_AGAIN_LATER);
      return;
    }

  peers = (const char **) g_hash_table_get_keys_as_array (room->peers, &n);
  joined = flow_rv_build_joined (room->id, msg->peer, peers);

  conn->peer = g_strdup (msg->peer);
  conn->room = room;
  g_hash_table_insert (room->peers, conn->peer, conn);

  conn_send (conn, joined);
  announce = flow_rv_build_message ("peer-joined", "peer", conn->peer, NULL);
  room_broadcast (room, conn, announce);
  log_event ("join", conn, NULL);
}

static void
handle_signal (Conn          *conn,
               FlowRvMessage *msg)
{
  FlowRendezvousServer *self = conn->server;
  g_autofree char *text = NULL;
  Conn *target;

  if (conn->room == NULL)
    {
      conn_reject (conn, "not-joined", "join a room first", 0);
      return;
    }

  target = g_hash_table_lookup (conn->room->peers, msg->to);
  if (target == NULL)
    {
      g_autofree char *message = g_strdup_printf ("no peer %s in this room", msg->to);

      conn_reject (conn, "unknown-peer", message, 0);
      return;
    }

  text = flow_rv_build_message ("signal", "from", conn->peer, "data", msg->data, NULL);
  conn_send (target, text);
  self->messages_relayed++;
  self->bytes_relayed += strlen (msg->data);
}

static void
handle_presence (Conn          *conn,
                 FlowRvMessage *msg)
{
  FlowRendezvousServer *self = conn->server;
  g_autofree char *text = NULL;
  guint others;

  if (conn->room == NULL)
    {
      conn_reject (conn, "not-joined", "join a room first", 0);
      return;
    }

  others = g_hash_table_size (conn->room->peers) - 1;
  text = flow_rv_build_message ("presence", "from", conn->peer, "data", msg->data, NULL);
  room_broadcast (conn->room, conn, text);
  self->messages_relayed += others;
  self->bytes_relayed += (guint64) others * strlen (msg->data);
}

void
flow_rv_conn_handle_text (Conn       *conn,
                          const char *text,
                          gsize       len)
{
  FlowRvMessage msg;
  const char *code;

  code = flow_rv_message_parse (text, len, &msg);
  if (code != NULL)
    {
      gboolean fatal = strcmp (code, "bad-json") == 0;

      /* A join that cannot be understood leaves the connection useless. */
      if (conn->room == NULL && strcmp (code, "bad-message") == 0)
        fatal = TRUE;
      conn_reject (conn, code,
                   fatal ? "the message is not a valid protocol message"
                         : "the message was ignored",
                   fatal ? SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION : 0);
      flow_rv_message_clear (&msg);
      return;
    }

  switch (msg.type)
    {
    case FLOW_RV_MESSAGE_JOIN:
      handle_join (conn, &msg);
      break;
    case FLOW_RV_MESSAGE_SIGNAL:
      handle_signal (conn, &msg);
      break;
    case FLOW_RV_MESSAGE_PRESENCE:
      handle_presence (conn, &msg);
      break;
    case FLOW_RV_MESSAGE_PING:
      conn_send (conn, "{\"type\":\"pong\"}");
      break;
    default:
      g_assert_not_reached ();
    }

  flow_rv_message_clear (&msg);
}

/* We ping only connections that have been quiet for a third of the
 * heartbeat timeout, and stop once they answer: a keepalive timer on every
 * connection would be one more GSource per connection on the main context,
 * and every main-loop turn walks all of them. */
void
flow_rv_conn_seen (Conn   *conn,
                   gint64  now)
{
  conn->last_seen = now;
  if (conn->pinging)
    {
      conn->pinging = FALSE;
      if (conn->ws != NULL)
        soup_websocket_connection_set_keepalive_interval (conn->ws, 0);
    }
}

static void
ws_message_cb (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               gpointer                 user_data)
{
  Conn *conn = user_data;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&conn->server->lock);
  gint64 now = g_get_monotonic_time ();
  gsize len;
  const char *text;

  if (conn->closing)
    return;
  conn_seen (conn, now);

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      count_rejection (conn->server, "binary");
      conn_close (conn, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA, "binary frames are not supported");
      return;
    }

  text = g_bytes_get_data (message, &len);
  if (len > conn->server->config->max_message_size)
    {
      conn_reject (conn, "too-large", "the message is larger than the server accepts",
                   SOUP_WEBSOCKET_CLOSE_TOO_BIG);
      return;
    }

  if (!conn_take_token (conn, now))
    return;

  handle_text (conn, text, len);
}

static void
ws_pong_cb (SoupWebsocketConnection *ws,
            GBytes                  *message,
            gpointer                 user_data)
{
  Conn *conn = user_data;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&conn->server->lock);

  if (!conn->closing)
    conn_seen (conn, g_get_monotonic_time ());
}

static void
ws_error_cb (SoupWebsocketConnection *ws,
             GError                  *error,
             gpointer                 user_data)
{
  Conn *conn = user_data;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&conn->server->lock);

  /* libsoup closes frames beyond its own cap (twice ours) with 1009. */
  if (g_error_matches (error, SOUP_WEBSOCKET_ERROR, SOUP_WEBSOCKET_CLOSE_TOO_BIG))
    count_rejection (conn->server, "too-large");
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                    "MESSAGE", "event=ws-error addr=%s detail=\"%s\"",
                    conn->address, error->message);
}

static void
ws_closed_cb (SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  Conn *conn = user_data;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&conn->server->lock);

  if (!conn->closing)
    log_event ("leave", conn, NULL);
  conn_destroy (conn);
}

/* Returns: (transfer none) (nullable): the GSocket under @io. */
static GSocket *
socket_of_stream (GIOStream *io)
{
  for (guint depth = 0; io != NULL && depth < 4; depth++)
    {
      g_autoptr(GIOStream) base = NULL;

      if (G_IS_SOCKET_CONNECTION (io))
        return g_socket_connection_get_socket (G_SOCKET_CONNECTION (io));
      if (g_object_class_find_property (G_OBJECT_GET_CLASS (io), "base-iostream") == NULL)
        return NULL;
      g_object_get (io, "base-iostream", &base, NULL);
      /* The base outlives this call: @io holds it. */
      io = base;
    }
  return NULL;
}

static void
websocket_cb (SoupServer              *soup,
              SoupServerMessage       *msg,
              const char              *path,
              SoupWebsocketConnection *ws,
              gpointer                 user_data)
{
  Worker *worker = user_data;
  FlowRendezvousServer *self = worker->server;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&self->lock);
  const FlowRendezvousConfig *config = self->config;
  Conn *conn = g_new0 (Conn, 1);
  const char *host = soup_server_message_get_remote_host (msg);
  GSocket *socket = soup_server_message_get_socket (msg);

  /* Connections we accepted ourselves reach libsoup as a stream, which it
   * wraps in its SoupIOStream ("base-iostream"). */
  if (socket == NULL)
    socket = socket_of_stream (soup_websocket_connection_get_io_stream (ws));

  conn->ws = g_object_ref (ws);
  conn->socket = socket ? g_object_ref (socket) : NULL;
  conn->fd = -1;
  conn->address = g_strdup (host ? host : "unknown");
  flow_rv_conn_register (worker, conn);

  soup_websocket_connection_set_max_incoming_payload_size (ws, 2 * config->max_message_size + 64);

  g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), conn);
  g_signal_connect (ws, "pong", G_CALLBACK (ws_pong_cb), conn);
  g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), conn);
  g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), conn);
}

/* Counts @conn (server, address, refs set up; ws or fd set) as an open
 * WebSocket connection of @worker. */
void
flow_rv_conn_register (Worker *worker,
                       Conn   *conn)
{
  FlowRendezvousServer *self = worker->server;
  guint count;

  conn->server = self;
  conn->worker = worker;
  conn->refs = 1;
  conn->created = conn->last_seen = conn->last_refill = g_get_monotonic_time ();
  conn->tokens = self->config->burst;
  conn->link.data = conn;
  g_queue_push_tail_link (&worker->connections, &conn->link);
  self->n_connections++;
  self->handshakes++;

  count = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, conn->address));
  g_hash_table_insert (self->per_address, g_strdup (conn->address), GUINT_TO_POINTER (count + 1));
}

/* Compares without leaking the token's length or prefix through timing. */
static gboolean
token_equal (const char *expected,
             const char *given)
{
  gsize n = strlen (expected);
  gsize m = strlen (given);
  guchar diff = n != m;

  for (gsize i = 0; i < n; i++)
    diff |= (guchar) expected[i] ^ (guchar) given[i < m ? i : 0];
  return diff == 0 && m > 0;
}

/* @authorization: the Authorization header or NULL; @query: the URI's
 * query (without "?") or NULL. */
gboolean
flow_rv_is_authorized (FlowRendezvousServer *self,
                       const char           *auth,
                       const char           *query)
{
  if (self->config->token == NULL || self->config->token[0] == '\0')
    return TRUE;

  if (auth != NULL && g_ascii_strncasecmp (auth, "Bearer ", 7) == 0)
    return token_equal (self->config->token, auth + 7);

  if (query != NULL)
    {
      g_autoptr(GHashTable) params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
      const char *token = params ? g_hash_table_lookup (params, "token") : NULL;

      if (token != NULL)
        return token_equal (self->config->token, token);
    }

  return FALSE;
}

/* Whether one more connection from @address is within the limits. */
gboolean
flow_rv_has_room_for (FlowRendezvousServer *self,
                      const char           *address)
{
  guint per_address = GPOINTER_TO_UINT (g_hash_table_lookup (self->per_address, address));

  return self->n_connections < self->config->max_connections &&
         (self->config->max_connections_per_address == 0 ||
          per_address < self->config->max_connections_per_address);
}

/* Runs after the request headers, before libsoup upgrades /ws: refusals
 * here are plain HTTP answers. */
static void
ws_early_cb (SoupServer        *soup,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  Worker *worker = user_data;
  FlowRendezvousServer *self = worker->server;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&self->lock);
  const char *host = soup_server_message_get_remote_host (msg);
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (!flow_rv_is_authorized (self, soup_message_headers_get_one (headers, "Authorization"),
                              g_uri_get_query (soup_server_message_get_uri (msg))))
    {
      count_rejection (self, "unauthorized");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
      return;
    }

  if (!flow_rv_has_room_for (self, host ? host : "unknown"))
    {
      count_rejection (self, "too-many-connections");
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Retry-After", "10");
      soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
    }
}

static void
respond_text (SoupServerMessage *msg,
              const char        *content_type,
              char              *body)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
http_cb (SoupServer        *soup,
         SoupServerMessage *msg,
         const char        *path,
         GHashTable        *query,
         gpointer           user_data)
{
  Worker *worker = user_data;
  FlowRendezvousServer *self = worker->server;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&self->lock);
  const char *method = soup_server_message_get_method (msg);

  if (strcmp (method, "GET") != 0 && strcmp (method, "HEAD") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return;
    }

  if (strcmp (path, "/healthz") == 0)
    respond_text (msg, "text/plain", g_strdup ("ok\n"));
  else if (strcmp (path, "/metrics") == 0)
    respond_text (msg, "text/plain; version=0.0.4",
                  flow_rendezvous_server_dup_metrics (self));
  else if (strcmp (path, "/") == 0)
    respond_text (msg, "text/html; charset=utf-8",
                  g_strdup_printf ("<!DOCTYPE html>\n<html><head><title>flowsync-rendezvous</title>"
                                   "</head><body><h1>flowsync-rendezvous %s</h1>\n"
                                   "<p>Status: running</p>\n<ul>\n"
                                   "<li>Connections: %u</li>\n<li>Rooms: %u</li>\n"
                                   "<li>Messages relayed: %" G_GUINT64_FORMAT "</li>\n"
                                   "</ul>\n<p>WebSocket endpoint: <code>/ws</code> "
                                   "(subprotocol <code>%s</code>). "
                                   "See also <a href=\"/metrics\">/metrics</a> and "
                                   "<a href=\"/healthz\">/healthz</a>.</p>\n</body></html>\n",
                                   PACKAGE_VERSION,
                                   self->n_connections,
                                   g_hash_table_size (self->rooms),
                                   self->messages_relayed,
                                   FLOW_RENDEZVOUS_SUBPROTOCOL));
  else
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

/* One connection's timeouts: handshake and heartbeat, close grace
 * periods, pings while quiet, and the send-queue accounting of blocked
 * sockets. */
static void
sweep_one (FlowRendezvousServer *self,
           Conn                 *conn,
           gint64                now)
{
  gint64 handshake = (gint64) self->config->handshake_timeout_ms * 1000;
  gint64 heartbeat = (gint64) self->config->heartbeat_timeout_ms * 1000;

  if (conn->closing)
    {
      /* libsoup did not report the close in time: first cut the socket,
       * then give up on it altogether. */
      if (now > conn->close_deadline)
        {
          if (!conn->aborted)
            conn_abort (conn, NULL);
          else
            conn_destroy (conn);
        }
      return;
    }

  if (conn->unflushed > 0 && conn->ws != NULL && conn->socket != NULL &&
      g_socket_condition_check (conn->socket, G_IO_OUT))
    conn->unflushed = 0;

  if (conn->room == NULL && now - conn->created > handshake)
    conn_reject (conn, "timeout", "no join within the handshake time",
                 SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  else if (now - conn->last_seen > heartbeat)
    conn_reject (conn, "timeout", "no sign of life within the heartbeat time",
                 SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  else if (conn->ws == NULL)
    {
      /* Our own pings, every heartbeat/6 (at least 1 s) while quiet. */
      if (now - conn->last_seen > heartbeat / 3 &&
          now - conn->last_ping >= MAX (G_USEC_PER_SEC, heartbeat / 6))
        {
          conn->pinging = TRUE;
          conn->last_ping = now;
          flow_rv_epoll_send_ping (conn);
        }
    }
  else if (!conn->pinging && now - conn->last_seen > heartbeat / 3)
    {
      /* libsoup sends the first ping one interval from now. */
      conn->pinging = TRUE;
      soup_websocket_connection_set_keepalive_interval (
        conn->ws, MAX (1, self->config->heartbeat_timeout_ms / 6000));
    }
}

/* The sweep visits every connection once per period (a few times per
 * timeout), but in slices every tick, rotating the list: walking 10,000
 * connections at once holds the server lock for milliseconds, and every
 * relayed message waits for it. */
static gboolean
sweep_cb (gpointer user_data)
{
  Worker *worker = user_data;
  FlowRendezvousServer *self = worker->server;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&self->lock);
  gint64 now = g_get_monotonic_time ();
  guint n = worker->connections.length;
  guint batch = (n * worker->sweep_tick_ms + worker->sweep_period_ms - 1) / worker->sweep_period_ms;

  batch = MIN (n, MAX (batch, 64));
  for (guint i = 0; i < batch && worker->connections.head != NULL; i++)
    {
      GList *link = worker->connections.head;

      /* To the back first, so a connection that goes away unlinks itself
       * from where it is. */
      g_queue_unlink (&worker->connections, link);
      g_queue_push_tail_link (&worker->connections, link);
      sweep_one (self, link->data, now);
    }

  if (self->engine == FLOW_RENDEZVOUS_ENGINE_EPOLL)
    flow_rv_epoll_sweep_pending (worker, now);

  return G_SOURCE_CONTINUE;
}

/* Hands an accepted connection to the worker's SoupServer. */
void
flow_rv_worker_serve_http (Worker  *worker,
                           GSocket *socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);

  if (local == NULL || remote == NULL)
    return;
  connection = g_socket_connection_factory_create_connection (socket);
  if (!soup_server_accept_iostream (worker->soup, G_IO_STREAM (connection), local, remote, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                      "MESSAGE", "event=accept-error detail=\"%s\"", error->message);
}

/* Accepts every pending connection in one main-loop turn. libsoup's own
 * listener takes one connection per turn, and with thousands of open
 * WebSockets each turn costs a poll over all of them: connecting 10,000
 * clients became quadratic. (Used for plain HTTP; with TLS libsoup's
 * listener also does the TLS handshake, so we keep it.) */
#define MAX_ACCEPTS_PER_TURN 256

static gboolean
listener_ready_cb (GSocket      *listener,
                   GIOCondition  condition,
                   gpointer      user_data)
{
  Worker *worker = user_data;
  /* Several workers share the socket: take a share each. */
  guint max = worker->server->n_workers > 1 ? 16 : MAX_ACCEPTS_PER_TURN;

  if (worker->server->engine == FLOW_RENDEZVOUS_ENGINE_EPOLL)
    {
      g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&worker->server->lock);

      flow_rv_epoll_accept (worker, g_socket_get_fd (listener));
      return G_SOURCE_CONTINUE;
    }

  for (guint i = 0; i < max; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) socket = g_socket_accept (listener, NULL, &error);

      if (socket == NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                              "MESSAGE", "event=accept-error detail=\"%s\"", error->message);
          break;
        }

      flow_rv_worker_serve_http (worker, socket);
    }

  return G_SOURCE_CONTINUE;
}

static GSocket *
listen_socket_new (const FlowRendezvousConfig  *config,
                   GInetAddress                *address,
                   GError                     **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) bind_address = NULL;

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;

  /* soup_server_listen_local() uses a backlog of 10; bursts of connects
   * then wait for SYN retries (PLATFORM.md). */
  g_socket_set_listen_backlog (socket, 4096);
  bind_address = g_inet_socket_address_new (address, config->port);
  if (!g_socket_bind (socket, bind_address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;

  return g_steal_pointer (&socket);
}

/* ---------------------------------------------------------------------
 * workers
 * --------------------------------------------------------------------- */

static gboolean
mailbox_dispatch (GSource     *source,
                  GSourceFunc  callback,
                  gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs mailbox_funcs = { NULL, NULL, mailbox_dispatch, NULL, NULL, NULL };

static void
delivery_free (Delivery *d)
{
  conn_unref (d->conn);
  g_free (d->text);
  g_free (d);
}

/* Runs on the worker's context: sends what other workers queued for its
 * connections. */
static gboolean
mailbox_cb (gpointer user_data)
{
  Worker *worker = user_data;
  g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&worker->server->lock);
  Delivery *d;

  while ((d = g_queue_pop_head (&worker->mailbox)) != NULL)
    {
      conn_send (d->conn, d->text);
      delivery_free (d);
    }
  return G_SOURCE_CONTINUE;
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;

  g_main_context_push_thread_default (worker->context);
  g_main_loop_run (worker->loop);
  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

static GSource *
attach_source (Worker      *worker,
               GSource     *source,
               GSourceFunc  func)
{
  g_source_set_callback (source, func, worker, NULL);
  g_source_attach (source, worker->context);
  return source;
}

static Worker *
worker_new (FlowRendezvousServer *self,
            gboolean              threaded,
            GTlsCertificate      *cert)
{
  Worker *worker = g_new0 (Worker, 1);
  guint sweep_ms = MIN (self->config->handshake_timeout_ms, self->config->heartbeat_timeout_ms) / 4;

  worker->server = self;
  worker->context = threaded ? g_main_context_new () : g_main_context_ref_thread_default ();
  worker->loop = threaded ? g_main_loop_new (worker->context, FALSE) : NULL;
  g_queue_init (&worker->connections);
  g_queue_init (&worker->mailbox);
  g_queue_init (&worker->pending);
  worker->epfd = -1;

  worker->soup = soup_server_new ("server-header", "flowsync-rendezvous/" PACKAGE_VERSION, NULL);
  if (cert != NULL)
    g_object_set (worker->soup, "tls-certificate", cert, NULL);
  soup_server_add_early_handler (worker->soup, "/ws", ws_early_cb, worker, NULL);
  soup_server_add_websocket_handler (worker->soup, "/ws", NULL,
                                     (char *[]) { (char *) FLOW_RENDEZVOUS_SUBPROTOCOL, NULL },
                                     websocket_cb, worker, NULL);
  soup_server_add_handler (worker->soup, NULL, http_cb, worker, NULL);

  worker->mailbox_source = attach_source (worker, g_source_new (&mailbox_funcs, sizeof (GSource)),
                                          mailbox_cb);
  worker->sweep_period_ms = CLAMP (sweep_ms, 20, 1000);
  worker->sweep_tick_ms = MIN (worker->sweep_period_ms, 20);
  worker->sweep_source = attach_source (worker, g_timeout_source_new (worker->sweep_tick_ms),
                                        sweep_cb);
  return worker;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Called with the worker's thread stopped (or never started). */
static void
worker_free (Worker *worker)
{
  FlowRendezvousServer *self = worker->server;

  g_rec_mutex_lock (&self->lock);
  destroy_source (&worker->accept_source);
  destroy_source (&worker->sweep_source);
  destroy_source (&worker->mailbox_source);
  while (worker->connections.head != NULL)
    {
      Conn *conn = worker->connections.head->data;

      if (conn->ws == NULL)
        {
          if (!conn->closing)
            flow_rv_epoll_send_close (conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stops");
        }
      else if (soup_websocket_connection_get_state (conn->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (conn->ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "server stops");
      conn->closing = TRUE;
      conn_destroy (conn);
    }
  g_queue_clear_full (&worker->mailbox, (GDestroyNotify) delivery_free);
  flow_rv_epoll_worker_free (worker);
  g_rec_mutex_unlock (&self->lock);

  soup_server_disconnect (worker->soup);
  g_clear_object (&worker->soup);

  /* Let libsoup finish the closes it started on this context. */
  if (worker->loop != NULL)
    for (guint i = 0; i < 100 && g_main_context_iteration (worker->context, FALSE); i++)
      ;

  g_clear_pointer (&worker->loop, g_main_loop_unref);
  g_clear_pointer (&worker->context, g_main_context_unref);
  g_free (worker);
}

static gboolean
quit_loop_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* ---------------------------------------------------------------------
 * GObject
 * --------------------------------------------------------------------- */

static void
flow_rendezvous_server_dispose (GObject *object)
{
  FlowRendezvousServer *self = FLOW_RENDEZVOUS_SERVER (object);

  flow_rendezvous_server_stop (self);

  G_OBJECT_CLASS (flow_rendezvous_server_parent_class)->dispose (object);
}

static void
flow_rendezvous_server_finalize (GObject *object)
{
  FlowRendezvousServer *self = FLOW_RENDEZVOUS_SERVER (object);

  g_clear_pointer (&self->rooms, g_hash_table_unref);
  g_clear_pointer (&self->per_address, g_hash_table_unref);
  g_clear_pointer (&self->config, flow_rendezvous_config_free);
  g_rec_mutex_clear (&self->lock);

  G_OBJECT_CLASS (flow_rendezvous_server_parent_class)->finalize (object);
}

static void
flow_rendezvous_server_class_init (FlowRendezvousServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_rendezvous_server_dispose;
  object_class->finalize = flow_rendezvous_server_finalize;
}

static void
flow_rendezvous_server_init (FlowRendezvousServer *self)
{
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) room_free);
  self->per_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_rec_mutex_init (&self->lock);
}

/* ---------------------------------------------------------------------
 * API implementation
 * --------------------------------------------------------------------- */

/**
 * flow_rendezvous_server_new:
 * @config: (nullable): the configuration, copied; %NULL for the defaults
 *
 * Returns: (transfer full): a server that is not listening yet.
 */
FlowRendezvousServer *
flow_rendezvous_server_new (const FlowRendezvousConfig *config)
{
  FlowRendezvousServer *self = g_object_new (FLOW_TYPE_RENDEZVOUS_SERVER, NULL);

  self->config = config ? flow_rendezvous_config_copy (config) : flow_rendezvous_config_new ();
  return self;
}

/**
 * flow_rendezvous_server_start:
 * @self: a #FlowRendezvousServer
 * @error: return location for a #GError
 *
 * Loads the TLS certificate if configured, binds the listen socket and the
 * STUN socket, and starts serving on the thread-default main context.
 *
 * Returns: %TRUE on success.
 */
gboolean
flow_rendezvous_server_start (FlowRendezvousServer  *self,
                              GError               **error)
{
  const FlowRendezvousConfig *config;
  g_autoptr(GInetAddress) address = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(FlowStunResponder) stun = NULL;
  guint n_workers;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), FALSE);
  g_return_val_if_fail (self->workers == NULL, FALSE);

  config = self->config;
  address = g_inet_address_new_from_string (config->listen ? config->listen : "127.0.0.1");
  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "listen address “%s” is not an IP address", config->listen);
      return FALSE;
    }

  self->engine = config->engine;
  if (self->engine == FLOW_RENDEZVOUS_ENGINE_AUTO)
    {
#ifdef __linux__
      self->engine = config->tls_cert != NULL || config->tls_key != NULL ? FLOW_RENDEZVOUS_ENGINE_SOUP : FLOW_RENDEZVOUS_ENGINE_EPOLL;
#else
      self->engine = FLOW_RENDEZVOUS_ENGINE_SOUP;
#endif
    }
  if (self->engine == FLOW_RENDEZVOUS_ENGINE_EPOLL)
    {
#ifdef __linux__
      if (config->tls_cert != NULL || config->tls_key != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       "the epoll engine does not do TLS: use --engine=soup");
          return FALSE;
        }
#else
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "the epoll engine needs Linux: use --engine=soup");
      return FALSE;
#endif
    }

  if (config->tls_cert != NULL || config->tls_key != NULL)
    {
      if (config->tls_cert == NULL || config->tls_key == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "TLS needs both a certificate and a key file");
          return FALSE;
        }
      cert = g_tls_certificate_new_from_files (config->tls_cert, config->tls_key, error);
      if (cert == NULL)
        return FALSE;
    }

  socket = listen_socket_new (config, address, error);
  if (socket == NULL)
    return FALSE;
  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    return FALSE;

  if (config->stun_enabled)
    {
      stun = flow_stun_responder_new (address, config->stun_port, error);
      if (stun == NULL)
        return FALSE;
    }

  /* With TLS, libsoup's listener accepts and runs the TLS handshake, on one
   * context. */
  n_workers = cert != NULL ? 1 : CLAMP (config->threads, 1, 256);
  self->workers = g_new0 (Worker *, n_workers);
  self->n_workers = n_workers;
  for (guint i = 0; i < n_workers; i++)
    self->workers[i] = worker_new (self, n_workers > 1, cert);
  for (guint i = 0; self->engine == FLOW_RENDEZVOUS_ENGINE_EPOLL && i < n_workers; i++)
    if (!flow_rv_epoll_worker_init (self->workers[i], error))
      {
        flow_rendezvous_server_stop (self);
        return FALSE;
      }

  if (cert != NULL)
    {
      if (!soup_server_listen_socket (self->workers[0]->soup, socket, SOUP_SERVER_LISTEN_HTTPS, error))
        {
          flow_rendezvous_server_stop (self);
          return FALSE;
        }
    }
  else
    {
      g_socket_set_blocking (socket, FALSE);
      self->listener = g_object_ref (socket);
      for (guint i = 0; i < n_workers; i++)
        self->workers[i]->accept_source =
          attach_source (self->workers[i], g_socket_create_source (socket, G_IO_IN, NULL),
                         G_SOURCE_FUNC (listener_ready_cb));
    }

  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));
  self->stun = g_steal_pointer (&stun);

  for (guint i = 0; n_workers > 1 && i < n_workers; i++)
    self->workers[i]->thread = g_thread_new ("rendezvous-worker", worker_thread, self->workers[i]);

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                    "MESSAGE", "event=listening addr=%s port=%u tls=%s stun-port=%u token=%s threads=%u engine=%s",
                    config->listen, self->port, cert ? "yes" : "no",
                    flow_rendezvous_server_get_stun_port (self),
                    config->token ? "yes" : "no", n_workers,
                    flow_rendezvous_engine_to_string (self->engine));
  return TRUE;
}

/**
 * flow_rendezvous_server_stop:
 * @self: a #FlowRendezvousServer
 *
 * Stops the worker threads, closes every connection (1001, going away) and
 * the listen sockets. Safe to call more than once.
 */
void
flow_rendezvous_server_stop (FlowRendezvousServer *self)
{
  g_return_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self));

  for (guint i = 0; i < self->n_workers; i++)
    {
      Worker *worker = self->workers[i];

      if (worker->thread == NULL)
        continue;
      /* Quits the loop even if it has not started running yet. */
      g_main_context_invoke (worker->context, quit_loop_cb, worker->loop);
      g_thread_join (g_steal_pointer (&worker->thread));
    }

  /* Nobody hears the goodbyes of a stopping server. */
  self->stopping = TRUE;
  for (guint i = 0; i < self->n_workers; i++)
    worker_free (self->workers[i]);
  g_clear_pointer (&self->workers, g_free);
  self->n_workers = 0;
  self->stopping = FALSE;

  if (self->listener != NULL)
    g_socket_close (self->listener, NULL);
  g_clear_object (&self->listener);
  g_clear_pointer (&self->stun, flow_stun_responder_free);
  if (self->rooms != NULL)
    g_hash_table_remove_all (self->rooms);
}

guint
flow_rendezvous_server_get_port (FlowRendezvousServer *self)
{
  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  return self->port;
}

guint
flow_rendezvous_server_get_stun_port (FlowRendezvousServer *self)
{
  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  return self->stun ? flow_stun_responder_get_port (self->stun) : 0;
}

guint
flow_rendezvous_server_get_n_connections (FlowRendezvousServer *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  locker = g_rec_mutex_locker_new (&self->lock);
  return self->n_connections;
}

guint
flow_rendezvous_server_get_n_rooms (FlowRendezvousServer *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  locker = g_rec_mutex_locker_new (&self->lock);
  return g_hash_table_size (self->rooms);
}

guint64
flow_rendezvous_server_get_messages_relayed (FlowRendezvousServer *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  locker = g_rec_mutex_locker_new (&self->lock);
  return self->messages_relayed;
}

guint64
flow_rendezvous_server_get_bytes_relayed (FlowRendezvousServer *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  locker = g_rec_mutex_locker_new (&self->lock);
  return self->bytes_relayed;
}

/**
 * flow_rendezvous_server_get_rejections:
 * @self: a #FlowRendezvousServer
 * @reason: an error code of the protocol, or `too-many-connections`,
 *   `slow-reader`, `binary`, `unauthorized`
 *
 * Returns: how often @reason was counted since the server was created.
 */
guint64
flow_rendezvous_server_get_rejections (FlowRendezvousServer *self,
                                       const char           *reason)
{
  g_autoptr(GRecMutexLocker) locker = NULL;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);
  g_return_val_if_fail (reason != NULL, 0);

  locker = g_rec_mutex_locker_new (&self->lock);
  for (guint i = 0; i < N_REJECTIONS; i++)
    if (strcmp (rejection_reasons[i], reason) == 0)
      return self->rejections[i];
  return 0;
}

/**
 * flow_rendezvous_server_get_retained_bytes:
 * @self: a #FlowRendezvousServer
 *
 * Returns: the bytes of outgoing messages we know to be waiting in send
 *   queues because their socket was full. It is an estimate from above
 *   that drops to 0 once every client has read.
 */
gsize
flow_rendezvous_server_get_retained_bytes (FlowRendezvousServer *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  gsize total = 0;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), 0);

  locker = g_rec_mutex_locker_new (&self->lock);
  for (guint i = 0; i < self->n_workers; i++)
    for (GList *l = self->workers[i]->connections.head; l != NULL; l = l->next)
      total += ((Conn *) l->data)->unflushed;
  return total;
}

/**
 * flow_rendezvous_server_dup_metrics:
 * @self: a #FlowRendezvousServer
 *
 * Returns: (transfer full): the metrics in Prometheus text format.
 */
char *
flow_rendezvous_server_dup_metrics (FlowRendezvousServer *self)
{
  g_autoptr(GRecMutexLocker) locker = NULL;
  GString *out;
  guint joined = 0;

  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SERVER (self), NULL);

  locker = g_rec_mutex_locker_new (&self->lock);
  out = g_string_new (NULL);
  for (guint i = 0; i < self->n_workers; i++)
    for (GList *l = self->workers[i]->connections.head; l != NULL; l = l->next)
      joined += ((Conn *) l->data)->room != NULL;

  g_string_append_printf (out,
                          "# HELP flowsync_rendezvous_connections Open WebSocket connections.\n"
                          "# TYPE flowsync_rendezvous_connections gauge\n"
                          "flowsync_rendezvous_connections %u\n"
                          "# HELP flowsync_rendezvous_peers Connections that joined a room.\n"
                          "# TYPE flowsync_rendezvous_peers gauge\n"
                          "flowsync_rendezvous_peers %u\n"
                          "# HELP flowsync_rendezvous_rooms Rooms with at least one peer.\n"
                          "# TYPE flowsync_rendezvous_rooms gauge\n"
                          "flowsync_rendezvous_rooms %u\n"
                          "# HELP flowsync_rendezvous_handshakes_total WebSocket handshakes.\n"
                          "# TYPE flowsync_rendezvous_handshakes_total counter\n"
                          "flowsync_rendezvous_handshakes_total %" G_GUINT64_FORMAT "\n"
                          "# HELP flowsync_rendezvous_messages_relayed_total Signal and presence messages delivered.\n"
                          "# TYPE flowsync_rendezvous_messages_relayed_total counter\n"
                          "flowsync_rendezvous_messages_relayed_total %" G_GUINT64_FORMAT "\n"
                          "# HELP flowsync_rendezvous_bytes_relayed_total Bytes of data delivered.\n"
                          "# TYPE flowsync_rendezvous_bytes_relayed_total counter\n"
                          "flowsync_rendezvous_bytes_relayed_total %" G_GUINT64_FORMAT "\n"
                          "# HELP flowsync_rendezvous_stun_requests_total STUN binding requests answered.\n"
                          "# TYPE flowsync_rendezvous_stun_requests_total counter\n"
                          "flowsync_rendezvous_stun_requests_total %" G_GUINT64_FORMAT "\n"
                          "# HELP flowsync_rendezvous_rejections_total Refused requests and messages by reason.\n"
                          "# TYPE flowsync_rendezvous_rejections_total counter\n",
                          self->n_connections, joined, g_hash_table_size (self->rooms),
                          self->handshakes, self->messages_relayed, self->bytes_relayed,
                          self->stun ? flow_stun_responder_get_requests (self->stun) : 0);
  for (guint i = 0; i < N_REJECTIONS; i++)
    g_string_append_printf (out, "flowsync_rendezvous_rejections_total{reason=\"%s\"} %"
                            G_GUINT64_FORMAT "\n", rejection_reasons[i], self->rejections[i]);

  return g_string_free (out, FALSE);
}
