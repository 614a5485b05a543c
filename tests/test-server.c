/* test-server.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Suite `server`: flowsync-rendezvous against docs/rendezvous.md.
 *
 * The server runs in-process on 127.0.0.1, port 0, and libsoup WebSocket
 * sessions on the same main context act as peers. Where a peer must misbehave
 * below the WebSocket layer (never read, never answer pings) a raw TCP client
 * speaks just enough of RFC 6455. The load test spawns the real executable
 * (with several worker threads) and connects to it from this process. Every wait is bounded by a watchdog;
 * nothing asserts on wall time.
 *
 * The server has two engines (libsoup, and our own RFC 6455 layer on
 * epoll): every conformance, limit, HTTP, STUN and load test runs against
 * both, under /flow/server/soup/... and /flow/server/epoll/...; the
 * /flow/server/epoll/ws/... tests drive the epoll engine's framing with a
 * raw socket. */

#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stun/stunagent.h>
#include <stun/usages/bind.h>

#include "flow-rendezvous-server.h"

#define ROOM "0123456789abcdef0123456789abcdef"
#define ROOM2 "fedcba9876543210fedcba9876543210"

typedef struct
{
  FlowRendezvousConfig *config;
  FlowRendezvousServer *server;
  SoupSession          *session;
  char                 *scheme;
  guint                 watchdog;
} Fixture;

typedef struct
{
  Fixture                 *f;
  SoupWebsocketConnection *ws;
  SoupMessage             *msg;
  GQueue                   messages;    /* of char * */
  GError                  *error;
  guint                    status;
  gushort                  close_code;
  gboolean                 done;
  gboolean                 closed;
} Client;

/* ---------------------------------------------------------------------
 * helpers
 * --------------------------------------------------------------------- */

static gboolean
watchdog_cb (gpointer user_data)
{
  g_error ("test-server: watchdog expired (the test hung)");
  return G_SOURCE_REMOVE;
}

#define WAIT_UNTIL(cond) \
  G_STMT_START { \
    while (!(cond)) \
      g_main_context_iteration (NULL, TRUE); \
  } G_STMT_END

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->config = flow_rendezvous_config_new ();
  f->config->engine = GPOINTER_TO_INT (data);
  f->config->listen = (g_free (f->config->listen), g_strdup ("127.0.0.1"));
  f->scheme = g_strdup ("ws");
  f->session = soup_session_new_with_options ("max-conns", 1024, "max-conns-per-host", 1024, NULL);
  f->watchdog = g_timeout_add_seconds (120, watchdog_cb, NULL);
}

static void
fixture_start (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->server = flow_rendezvous_server_new (f->config);
  flow_rendezvous_server_start (f->server, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flow_rendezvous_server_get_port (f->server), >, 0);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->server != NULL)
    flow_rendezvous_server_stop (f->server);
  g_clear_object (&f->server);
  g_clear_object (&f->session);
  /* Let libsoup finish closing what the server and the clients dropped. */
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_clear_pointer (&f->config, flow_rendezvous_config_free);
  g_clear_handle_id (&f->watchdog, g_source_remove);
  g_free (f->scheme);
}

static void
client_message_cb (SoupWebsocketConnection *ws,
                   gint                     type,
                   GBytes                  *message,
                   gpointer                 user_data)
{
  Client *c = user_data;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_queue_push_tail (&c->messages, g_strndup (data, len));
}

static void
client_closed_cb (SoupWebsocketConnection *ws,
                  gpointer                 user_data)
{
  Client *c = user_data;

  c->closed = TRUE;
  c->close_code = soup_websocket_connection_get_close_code (ws);
}

static gboolean
accept_certificate_cb (SoupMessage          *msg,
                       GTlsCertificate      *cert,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  return TRUE;
}

static void
client_connected_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Client *c = user_data;

  c->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &c->error);
  if (c->ws != NULL)
    {
      g_signal_connect (c->ws, "message", G_CALLBACK (client_message_cb), c);
      g_signal_connect (c->ws, "closed", G_CALLBACK (client_closed_cb), c);
    }
  c->done = TRUE;
}

static Client *
client_start (Fixture    *f,
              guint       port,
              const char *query,
              const char *authorization)
{
  Client *c = g_new0 (Client, 1);
  g_autofree char *uri = g_strdup_printf ("%s://127.0.0.1:%u/ws%s%s", f->scheme, port,
                                          query ? "?" : "", query ? query : "");
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  const char *protocols[] = { FLOW_RENDEZVOUS_SUBPROTOCOL, NULL };

  c->f = f;
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  g_signal_connect (msg, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
  soup_session_websocket_connect_async (f->session, msg, NULL, (char **) protocols,
                                        G_PRIORITY_DEFAULT, NULL, client_connected_cb, c);
  c->msg = g_steal_pointer (&msg);
  return c;
}

static guint
client_status (Client *c)
{
  return soup_message_get_status (c->msg);
}

static Client *
client_new_full (Fixture    *f,
                 const char *query,
                 const char *authorization)
{
  Client *c = client_start (f, flow_rendezvous_server_get_port (f->server), query, authorization);

  WAIT_UNTIL (c->done);
  return c;
}

static Client *
client_new (Fixture *f)
{
  Client *c = client_new_full (f, NULL, NULL);

  g_assert_no_error (c->error);
  g_assert_cmpstr (soup_websocket_connection_get_protocol (c->ws), ==, FLOW_RENDEZVOUS_SUBPROTOCOL);
  return c;
}

static void
client_free (Client *c)
{
  if (c->ws != NULL)
    {
      g_signal_handlers_disconnect_by_data (c->ws, c);
      if (soup_websocket_connection_get_state (c->ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (c->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
      g_clear_object (&c->ws);
    }
  g_clear_object (&c->msg);
  g_queue_clear_full (&c->messages, g_free);
  g_clear_error (&c->error);
  g_free (c);
}

static void
client_send (Client     *c,
             const char *text)
{
  soup_websocket_connection_send_text (c->ws, text);
}

/* Waits for the next message and returns it parsed. */
static JsonNode *
client_next (Client *c)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  JsonNode *node;

  WAIT_UNTIL (!g_queue_is_empty (&c->messages) || c->closed);
  g_assert_false (g_queue_is_empty (&c->messages));
  text = g_queue_pop_head (&c->messages);
  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return node;
}

static const char *
member (JsonNode   *node,
        const char *name)
{
  return json_object_get_string_member_with_default (json_node_get_object (node), name, NULL);
}

/* Waits for a message of @type and returns it; fails on any other. */
static JsonNode *
client_expect (Client     *c,
               const char *type)
{
  JsonNode *node = client_next (c);

  g_assert_cmpstr (member (node, "type"), ==, type);
  return node;
}

static void
client_expect_error (Client     *c,
                     const char *code)
{
  g_autoptr(JsonNode) node = client_expect (c, "error");

  g_assert_cmpstr (member (node, "code"), ==, code);
  g_assert_nonnull (member (node, "message"));
}

static void
client_wait_closed (Client  *c,
                    gushort  code)
{
  WAIT_UNTIL (c->closed);
  g_assert_cmpuint (c->close_code, ==, code);
}

static Client *
client_join (Fixture    *f,
             const char *room,
             const char *peer)
{
  Client *c = client_new (f);
  g_autofree char *join = g_strdup_printf ("{\"type\":\"join\",\"room\":\"%s\",\"peer\":\"%s\"}",
                                           room, peer);
  g_autoptr(JsonNode) joined = NULL;

  client_send (c, join);
  joined = client_expect (c, "joined");
  g_assert_cmpstr (member (joined, "room"), ==, room);
  g_assert_cmpstr (member (joined, "peer"), ==, peer);
  return c;
}

static void
client_expect_peer_event (Client     *c,
                          const char *type,
                          const char *peer)
{
  g_autoptr(JsonNode) node = client_expect (c, type);

  g_assert_cmpstr (member (node, "peer"), ==, peer);
}

static char *
build_signal (const char *to,
              const char *data)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, to ? "signal" : "presence");
  if (to != NULL)
    {
      json_builder_set_member_name (b, "to");
      json_builder_add_string_value (b, to);
    }
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, data);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

/* --- a raw RFC 6455 client that can refuse to read or to answer pings --- */

#define RAW_REQUEST(headers) \
  "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n" headers "\r\n"
#define RAW_UPGRADE \
  "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" \
  "Sec-WebSocket-Version: 13\r\n"

/* Sends @request on a new connection and returns it with the response head
 * in @head; the frames behind the head stay unread. */
static GSocket *
raw_connect_request (Fixture     *f,
                     int          rcvbuf,
                     const char  *request,
                     char       **head)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, flow_rendezvous_server_get_port (f->server));
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  GString *response = g_string_new (NULL);

  g_assert_no_error (error);
  if (rcvbuf > 0)
    g_socket_set_option (sock, SOL_SOCKET, SO_RCVBUF, rcvbuf, NULL);
  g_socket_connect (sock, addr, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (sock, FALSE);
  g_assert_cmpint (g_socket_send (sock, request, strlen (request), NULL, &error), ==, strlen (request));

  /* Read exactly the response headers, byte by byte, so no frame is taken. */
  while (!g_str_has_suffix (response->str, "\r\n\r\n"))
    {
      char ch;
      gssize n = g_socket_receive (sock, &ch, 1, NULL, NULL);

      if (n == 1)
        g_string_append_c (response, ch);
      else
        g_main_context_iteration (NULL, TRUE);
    }
  *head = g_string_free (response, FALSE);
  return sock;
}

static GSocket *
raw_connect (Fixture *f,
             int      rcvbuf)
{
  g_autofree char *head = NULL;
  GSocket *sock = raw_connect_request (f, rcvbuf,
                                       RAW_REQUEST (RAW_UPGRADE "Sec-WebSocket-Protocol: "
                                                    FLOW_RENDEZVOUS_SUBPROTOCOL "\r\n"),
                                       &head);

  g_assert_true (g_str_has_prefix (head, "HTTP/1.1 101"));
  return sock;
}

static void
raw_send_text (GSocket    *sock,
               const char *text)
{
  gsize len = strlen (text);
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  guint8 head[4];

  g_assert_cmpuint (len, <, 65536);
  head[0] = 0x81;
  if (len < 126)
    {
      head[1] = 0x80 | len;
      g_byte_array_append (frame, head, 2);
    }
  else
    {
      head[1] = 0x80 | 126;
      head[2] = len >> 8;
      head[3] = len & 0xff;
      g_byte_array_append (frame, head, 4);
    }
  g_byte_array_append (frame, mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = text[i] ^ mask[i % 4];
      g_byte_array_append (frame, &b, 1);
    }
  g_socket_set_blocking (sock, TRUE);
  g_assert_cmpint (g_socket_send (sock, (char *) frame->data, frame->len, NULL, NULL), ==, frame->len);
  g_socket_set_blocking (sock, FALSE);
}


/* Builds a client frame: @b0 is FIN/RSV/opcode; @claimed_len, if not -1,
 * is written into the header instead of @len. */
static GByteArray *
raw_frame (guint8      b0,
           const void *payload,
           gsize       len,
           gboolean    masked,
           gint64      claimed_len)
{
  GByteArray *frame = g_byte_array_new ();
  const guint8 mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
  guint64 hlen = claimed_len >= 0 ? (guint64) claimed_len : len;
  guint8 head[10];

  head[0] = b0;
  if (hlen < 126)
    {
      head[1] = (masked ? 0x80 : 0) | hlen;
      g_byte_array_append (frame, head, 2);
    }
  else if (hlen <= 0xffff)
    {
      head[1] = (masked ? 0x80 : 0) | 126;
      head[2] = hlen >> 8;
      head[3] = hlen & 0xff;
      g_byte_array_append (frame, head, 4);
    }
  else
    {
      head[1] = (masked ? 0x80 : 0) | 127;
      for (guint i = 0; i < 8; i++)
        head[2 + i] = (hlen >> (56 - 8 * i)) & 0xff;
      g_byte_array_append (frame, head, 10);
    }
  if (masked)
    g_byte_array_append (frame, mask, 4);
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = ((const guint8 *) payload)[i] ^ (masked ? mask[i % 4] : 0);

      g_byte_array_append (frame, &b, 1);
    }
  return frame;
}

static void
raw_send_bytes (GSocket      *sock,
                const guint8 *data,
                gsize         len)
{
  g_autoptr(GError) error = NULL;

  g_socket_set_blocking (sock, TRUE);
  g_assert_cmpint (g_socket_send (sock, (const char *) data, len, NULL, &error), ==, len);
  g_assert_no_error (error);
  g_socket_set_blocking (sock, FALSE);
}

static void
raw_send_frame (GSocket    *sock,
                guint8      b0,
                const char *payload,
                gsize       len)
{
  g_autoptr(GByteArray) frame = raw_frame (b0, payload, len, TRUE, -1);

  raw_send_bytes (sock, frame->data, frame->len);
}

/* Reads exactly @n bytes, running the main context (the server's) while
 * waiting. Returns FALSE on the end of the stream. */
static gboolean
raw_recv_exact (GSocket *sock,
                guint8  *buf,
                gsize    n)
{
  gsize got = 0;

  while (got < n)
    {
      g_autoptr(GError) error = NULL;
      gssize r = g_socket_receive (sock, (char *) buf + got, n - got, NULL, &error);

      if (r == 0)
        return FALSE;
      if (r > 0)
        got += r;
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_main_context_iteration (NULL, TRUE);
      else
        return FALSE;
    }
  return TRUE;
}

/* Reads one server frame (which must not be masked). Returns FALSE on the
 * end of the stream. */
static gboolean
raw_read_frame (GSocket  *sock,
                guint8   *opcode,
                char    **payload,
                gsize    *len)
{
  guint8 head[8];
  guint64 n;

  if (!raw_recv_exact (sock, head, 2))
    return FALSE;
  g_assert_cmpuint (head[1] & 0x80, ==, 0);
  g_assert_true (head[0] & 0x80);
  *opcode = head[0] & 0x0f;
  n = head[1] & 0x7f;
  if (n == 126)
    {
      g_assert_true (raw_recv_exact (sock, head, 2));
      n = (head[0] << 8) | head[1];
    }
  else if (n == 127)
    {
      g_assert_true (raw_recv_exact (sock, head, 8));
      n = 0;
      for (guint i = 0; i < 8; i++)
        n = (n << 8) | head[i];
    }
  g_assert_cmpuint (n, <, 16 * 1024 * 1024);
  *payload = g_malloc (n + 1);
  (*payload)[n] = '\0';
  *len = n;
  g_assert_true (raw_recv_exact (sock, (guint8 *) *payload, n));
  return TRUE;
}

/* Skips pings and pongs; returns the next text message's type, and fills
 * @node if given. */
static char *
raw_next_text (GSocket   *sock,
               JsonNode **node)
{
  for (;;)
    {
      g_autofree char *payload = NULL;
      g_autoptr(JsonNode) parsed = NULL;
      g_autoptr(GError) error = NULL;
      guint8 opcode;
      gsize len;

      g_assert_true (raw_read_frame (sock, &opcode, &payload, &len));
      if (opcode == 0x9 || opcode == 0xa)
        continue;
      g_assert_cmpuint (opcode, ==, 0x1);
      parsed = json_from_string (payload, &error);
      g_assert_no_error (error);
      if (node != NULL)
        *node = json_node_ref (parsed);
      return g_strdup (member (parsed, "type"));
    }
}

/* Reads frames until a close frame; returns its code (1005: none). Text
 * frames before it are skipped. */
static gushort
raw_expect_close (GSocket *sock)
{
  for (;;)
    {
      g_autofree char *payload = NULL;
      guint8 opcode;
      gsize len;

      g_assert_true (raw_read_frame (sock, &opcode, &payload, &len));
      if (opcode != 0x8)
        continue;
      if (len < 2)
        return 1005;
      return ((guint8) payload[0] << 8) | (guint8) payload[1];
    }
}

static void
raw_wait_eof (GSocket *sock)
{
  guint8 byte;

  while (raw_recv_exact (sock, &byte, 1))
    ;
}

/* ---------------------------------------------------------------------
 * protocol conformance
 * --------------------------------------------------------------------- */

static void
test_join_leave (Fixture       *f,
                 gconstpointer  data)
{
  Client *a, *b, *c;
  g_autoptr(JsonNode) joined = NULL;
  JsonArray *peers;

  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  g_assert_cmpuint (flow_rendezvous_server_get_n_rooms (f->server), ==, 1);

  b = client_new (f);
  client_send (b, "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"bob\"}");
  joined = client_expect (b, "joined");
  peers = json_object_get_array_member (json_node_get_object (joined), "peers");
  g_assert_cmpuint (json_array_get_length (peers), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (peers, 0), ==, "alice");
  client_expect_peer_event (a, "peer-joined", "bob");

  /* Another room hears nothing of this one. */
  c = client_join (f, ROOM2, "alice");
  g_assert_cmpuint (flow_rendezvous_server_get_n_rooms (f->server), ==, 2);

  client_free (b);
  client_expect_peer_event (a, "peer-left", "bob");
  g_assert_true (g_queue_is_empty (&c->messages));

  /* Rooms live only while occupied. */
  client_free (c);
  WAIT_UNTIL (flow_rendezvous_server_get_n_rooms (f->server) == 1);
  client_free (a);
  WAIT_UNTIL (flow_rendezvous_server_get_n_rooms (f->server) == 0);
  WAIT_UNTIL (flow_rendezvous_server_get_n_connections (f->server) == 0);
}

static void
test_signal_relay (Fixture       *f,
                   gconstpointer  data)
{
  Client *a, *b;
  g_autofree char *big = NULL;
  const char *payloads[] = {
    "hello",
    "",
    "ünïcødé ✓ 𝄞 \"quotes\" \\backslash\\ \n\t/ <>&",
    "\x7f control \x01\x1f",
    NULL,
  };
  guint64 bytes = 0;

  f->config->max_message_size = 128 * 1024;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_join (f, ROOM, "bob");
  client_expect_peer_event (a, "peer-joined", "bob");

  /* A string close to the limit, after JSON escaping. */
  big = g_malloc (100 * 1024 + 1);
  for (guint i = 0; i < 100 * 1024; i++)
    big[i] = 'A' + (i * 7) % 26;
  big[100 * 1024] = '\0';
  payloads[4] = big;

  for (guint i = 0; i < G_N_ELEMENTS (payloads); i++)
    {
      g_autofree char *msg = build_signal ("bob", payloads[i]);
      g_autoptr(JsonNode) node = NULL;

      client_send (a, msg);
      node = client_expect (b, "signal");
      g_assert_cmpstr (member (node, "from"), ==, "alice");
      g_assert_cmpstr (member (node, "data"), ==, payloads[i]);
      bytes += strlen (payloads[i]);
    }

  g_assert_cmpuint (flow_rendezvous_server_get_messages_relayed (f->server), ==, G_N_ELEMENTS (payloads));
  g_assert_cmpuint (flow_rendezvous_server_get_bytes_relayed (f->server), ==, bytes);

  /* Unknown target: an error, the connection stays. */
  client_send (a, "{\"type\":\"signal\",\"to\":\"carol\",\"data\":\"x\"}");
  client_expect_error (a, "unknown-peer");
  client_send (a, "{\"type\":\"ping\"}");
  json_node_unref (client_expect (a, "pong"));

  client_free (a);
  client_free (b);
}

/* The server keeps no copy of relayed data: nothing it accounts as held
 * (bytes waiting in send queues) remains once the receivers have read, and
 * the per-connection state holds no message strings by construction (see
 * flow-rendezvous-server-private.h: the soup engine's Conn has no buffer,
 * the epoll engine's buffers only hold bytes the kernel has not taken yet
 * and are freed when empty). */
static void
test_no_copy (Fixture       *f,
              gconstpointer  data)
{
  Client *a, *b;

  f->config->rate = 10000;
  f->config->burst = 10000;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_join (f, ROOM, "bob");
  client_expect_peer_event (a, "peer-joined", "bob");

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *payload = g_strdup_printf ("blob-%u-%0512u", i, i);
      g_autofree char *msg = build_signal ("bob", payload);

      client_send (a, msg);
    }
  for (guint i = 0; i < 200; i++)
    json_node_unref (client_expect (b, "signal"));

  client_send (b, "{\"type\":\"ping\"}");
  json_node_unref (client_expect (b, "pong"));
  g_assert_cmpuint (flow_rendezvous_server_get_messages_relayed (f->server), ==, 200);
  g_assert_cmpuint (flow_rendezvous_server_get_retained_bytes (f->server), ==, 0);

  client_free (a);
  client_free (b);
}

static void
test_presence (Fixture       *f,
               gconstpointer  data)
{
  Client *a, *b, *c;
  g_autoptr(JsonNode) pb = NULL;
  g_autoptr(JsonNode) pc = NULL;
  g_autofree char *msg = build_signal (NULL, "cursor at 3,4 ✓");

  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_join (f, ROOM, "bob");
  c = client_join (f, ROOM, "carol");
  client_expect_peer_event (a, "peer-joined", "bob");
  client_expect_peer_event (a, "peer-joined", "carol");
  client_expect_peer_event (b, "peer-joined", "carol");

  client_send (a, msg);
  pb = client_expect (b, "presence");
  pc = client_expect (c, "presence");
  g_assert_cmpstr (member (pb, "from"), ==, "alice");
  g_assert_cmpstr (member (pb, "data"), ==, "cursor at 3,4 ✓");
  g_assert_cmpstr (member (pc, "data"), ==, "cursor at 3,4 ✓");

  /* The sender does not hear its own presence. */
  client_send (a, "{\"type\":\"ping\"}");
  json_node_unref (client_expect (a, "pong"));

  client_free (a);
  client_free (b);
  client_free (c);
}

static void
test_duplicate_peer (Fixture       *f,
                     gconstpointer  data)
{
  Client *a, *b;

  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_new (f);
  client_send (b, "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"alice\"}");
  client_expect_error (b, "already-joined");
  client_wait_closed (b, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  /* The first alice stays, and a second join on one connection is refused. */
  client_send (a, "{\"type\":\"join\",\"room\":\"" ROOM2 "\",\"peer\":\"alice\"}");
  client_expect_error (a, "already-joined");
  client_wait_closed (a, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  client_free (a);
  client_free (b);
}

static void
test_heartbeat_timeout (Fixture       *f,
                        gconstpointer  data)
{
  Client *a;
  g_autoptr(GSocket) raw = NULL;

  /* Quiet peers are pinged after a third of this, once a second. */
  f->config->heartbeat_timeout_ms = 4000;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");

  /* The raw peer joins, then neither sends nor answers pings. */
  raw = raw_connect (f, 0);
  raw_send_text (raw, "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"silent\"}");
  client_expect_peer_event (a, "peer-joined", "silent");
  client_expect_peer_event (a, "peer-left", "silent");
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "timeout"), ==, 1);

  /* alice answers the server's pings (libsoup does) and stays. */
  g_assert_false (a->closed);
  client_send (a, "{\"type\":\"ping\"}");
  json_node_unref (client_expect (a, "pong"));
  client_free (a);
}

/* ---------------------------------------------------------------------
 * limits
 * --------------------------------------------------------------------- */

static void
test_limit_size (Fixture       *f,
                 gconstpointer  data)
{
  Client *a, *b;
  g_autofree char *big = g_strnfill (2000, 'x');
  g_autofree char *huge = g_strnfill (1024 * 1024, 'y');
  g_autofree char *msg = build_signal ("alice", big);
  g_autofree char *hmsg = build_signal ("alice", huge);

  f->config->max_message_size = 1024;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  client_send (a, msg);
  client_expect_error (a, "too-large");
  client_wait_closed (a, SOUP_WEBSOCKET_CLOSE_TOO_BIG);

  /* Far beyond the limit libsoup stops reading the frame and closes. */
  b = client_join (f, ROOM, "bob");
  client_send (b, hmsg);
  WAIT_UNTIL (b->closed);
  /* libsoup drops the connection without a close frame (abnormal closure). */
  g_assert_true (b->close_code == SOUP_WEBSOCKET_CLOSE_TOO_BIG || b->close_code == 0);
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "too-large"), ==, 2);
  client_free (a);
  client_free (b);
}

static void
test_limit_rate (Fixture       *f,
                 gconstpointer  data)
{
  Client *a, *b;
  guint pongs = 0;

  f->config->rate = 0.5;
  f->config->burst = 5;
  fixture_start (f);
  a = client_new (f);

  /* 5 pass, the next 7 are dropped with one error; the connection stays. */
  for (guint i = 0; i < 12; i++)
    client_send (a, "{\"type\":\"ping\"}");
  for (;;)
    {
      g_autoptr(JsonNode) node = client_next (a);

      if (g_strcmp0 (member (node, "type"), "pong") == 0)
        pongs++;
      else
        {
          g_assert_cmpstr (member (node, "code"), ==, "rate-limited");
          break;
        }
    }
  g_assert_cmpuint (pongs, ==, 5);
  g_assert_false (a->closed);

  /* A flood is cut off. */
  b = client_new (f);
  for (guint i = 0; i < 200; i++)
    client_send (b, "{\"type\":\"ping\"}");
  client_wait_closed (b, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "rate-limited"), >=, 7 + 11);
  client_free (a);
  client_free (b);
}

static void
test_limit_room_full (Fixture       *f,
                      gconstpointer  data)
{
  Client *a, *b, *c, *d;

  f->config->max_peers_per_room = 2;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_join (f, ROOM, "bob");
  c = client_new (f);
  client_send (c, "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"carol\"}");
  client_expect_error (c, "room-full");
  client_wait_closed (c, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  /* Other rooms are unaffected. */
  d = client_join (f, ROOM2, "dave");
  client_free (a);
  client_free (b);
  client_free (c);
  client_free (d);
}

static void
test_limit_rooms (Fixture       *f,
                  gconstpointer  data)
{
  Client *a, *b, *c;

  f->config->max_rooms = 1;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_new (f);
  client_send (b, "{\"type\":\"join\",\"room\":\"" ROOM2 "\",\"peer\":\"bob\"}");
  client_expect_error (b, "too-many-rooms");
  client_wait_closed (b, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  /* Once the first room empties, a new one fits. */
  client_free (a);
  WAIT_UNTIL (flow_rendezvous_server_get_n_rooms (f->server) == 0);
  c = client_join (f, ROOM2, "carol");
  client_free (b);
  client_free (c);
}

/* With room for two connections: two join, the third gets HTTP 503. */
static void
connect_three_third_refused (Fixture  *f,
                             Client  **c)
{
  c[0] = client_new (f);
  c[1] = client_new (f);
  c[2] = client_new_full (f, NULL, NULL);
  g_assert_nonnull (c[2]->error);
  g_assert_null (c[2]->ws);
  g_assert_cmpuint (client_status (c[2]), ==, SOUP_STATUS_SERVICE_UNAVAILABLE);
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "too-many-connections"), ==, 1);
}

static void
test_limit_per_address (Fixture       *f,
                        gconstpointer  data)
{
  Client *c[3];

  f->config->max_connections_per_address = 2;
  fixture_start (f);
  connect_three_third_refused (f, c);
  for (guint i = 0; i < 3; i++)
    client_free (c[i]);
}

/* The limit on connections in all holds across addresses too; a slot
 * that frees up can be taken again. */
static void
test_limit_total (Fixture       *f,
                  gconstpointer  data)
{
  Client *c[3];
  Client *again;

  f->config->max_connections = 2;
  f->config->max_connections_per_address = 0;
  fixture_start (f);
  connect_three_third_refused (f, c);

  client_free (c[0]);
  c[0] = NULL;
  /* The server notices the close within a few main-loop turns. */
  for (guint i = 0; i < 200 && flow_rendezvous_server_get_n_connections (f->server) > 1; i++)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (flow_rendezvous_server_get_n_connections (f->server), ==, 1);
  again = client_new (f);
  g_assert_null (again->error);
  g_assert_nonnull (again->ws);
  client_free (again);
  client_free (c[1]);
  client_free (c[2]);
}

static void
test_limit_handshake (Fixture       *f,
                      gconstpointer  data)
{
  Client *a;

  f->config->handshake_timeout_ms = 200;
  fixture_start (f);
  a = client_new (f);
  client_expect_error (a, "timeout");
  client_wait_closed (a, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  client_free (a);
}

static void
test_limit_slow_reader (Fixture       *f,
                        gconstpointer  data)
{
  Client *a;
  g_autoptr(GSocket) raw = NULL;
  g_autofree char *payload = g_strnfill (32 * 1024, 'z');
  g_autofree char *msg = build_signal ("slow", payload);
  gsize retained_max = 0;
  guint sent = 0;

  f->config->rate = 100000;
  f->config->burst = 100000;
  f->config->max_send_queue = 256 * 1024;
  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  raw = raw_connect (f, 4096);
  raw_send_text (raw, "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"slow\"}");
  client_expect_peer_event (a, "peer-joined", "slow");

  /* alice sends until the server gives up on the reader: the kernel buffers
   * fill first, then the send queue. Bounded at 64 MB. */
  while (flow_rendezvous_server_get_rejections (f->server, "slow-reader") == 0 && sent < 2048)
    {
      client_send (a, msg);
      sent++;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      retained_max = MAX (retained_max, flow_rendezvous_server_get_retained_bytes (f->server));
    }
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "slow-reader"), ==, 1);

  /* The epoll engine owns the write queue: what it counts is what waits,
   * never more than the limit plus the message that crossed it. */
  if (f->config->engine == FLOW_RENDEZVOUS_ENGINE_EPOLL)
    {
      g_assert_cmpuint (retained_max, >, 0);
      g_assert_cmpuint (retained_max, <=, 256 * 1024 + strlen (msg) + 64);
    }

  /* alice hears the reader leave; unknown-peer errors may come first. */
  for (;;)
    {
      g_autoptr(JsonNode) node = client_next (a);

      if (g_strcmp0 (member (node, "type"), "peer-left") == 0)
        break;
    }
  g_assert_false (a->closed);
  WAIT_UNTIL (flow_rendezvous_server_get_retained_bytes (f->server) == 0);
  client_free (a);
}

/* ---------------------------------------------------------------------
 * malformed input
 * --------------------------------------------------------------------- */

static void
test_malformed (Fixture       *f,
                gconstpointer  data)
{
  Client *a, *b, *c, *d, *e;
  GString *deep = g_string_new (NULL);

  fixture_start (f);

  a = client_new (f);
  client_send (a, "{\"type\":\"join\",");
  client_expect_error (a, "bad-json");
  client_wait_closed (a, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  b = client_new (f);
  client_send (b, "{\"type\":\"join\",\"room\":\"NOT-HEX\",\"peer\":\"bob\"}");
  client_expect_error (b, "bad-message");
  client_wait_closed (b, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);

  /* After a join, wrongly typed and unknown messages are only errors. */
  c = client_new (f);
  client_send (c, "{\"type\":\"signal\",\"to\":\"x\",\"data\":\"y\"}");
  client_expect_error (c, "not-joined");
  client_send (c, "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"carol\"}");
  json_node_unref (client_expect (c, "joined"));
  client_send (c, "{\"type\":\"signal\",\"to\":5,\"data\":\"y\"}");
  client_expect_error (c, "bad-message");
  client_send (c, "{\"type\":\"presence\",\"data\":{\"a\":1}}");
  client_expect_error (c, "bad-message");
  client_send (c, "{\"type\":42}");
  client_expect_error (c, "bad-message");
  client_send (c, "{\"type\":\"teleport\"}");
  client_expect_error (c, "unknown-type");
  /* json-glib decodes this to bytes that are not UTF-8 (fuzz-rendezvous). */
  client_send (c, "{\"type\":\"presence\",\"data\":\"\\ud834\\zdd1e\"}");
  client_expect_error (c, "bad-message");
  client_send (c, "{\"type\":\"ping\"}");
  json_node_unref (client_expect (c, "pong"));

  d = client_new (f);
  soup_websocket_connection_send_binary (d->ws, "\x00\x01\x02", 3);
  client_wait_closed (d, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA);

  /* Nesting deep enough to hurt a recursive parser. */
  e = client_new (f);
  for (guint i = 0; i < 20000; i++)
    g_string_append_c (deep, '[');
  client_send (e, deep->str);
  client_expect_error (e, "bad-json");
  client_wait_closed (e, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  g_string_free (deep, TRUE);

  g_assert_false (c->closed);
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "binary"), ==, 1);
  client_free (a);
  client_free (b);
  client_free (c);
  client_free (d);
  client_free (e);
}

/* ---------------------------------------------------------------------
 * access token, TLS, HTTP, STUN
 * --------------------------------------------------------------------- */

static void
test_token (Fixture       *f,
            gconstpointer  data)
{
  Client *none, *wrong, *header, *query;

  f->config->token = g_strdup ("s3cret");
  fixture_start (f);

  none = client_new_full (f, NULL, NULL);
  g_assert_null (none->ws);
  g_assert_cmpuint (client_status (none), ==, SOUP_STATUS_UNAUTHORIZED);
  wrong = client_new_full (f, "token=guess", "Bearer s3cre");
  g_assert_null (wrong->ws);
  g_assert_cmpuint (client_status (wrong), ==, SOUP_STATUS_UNAUTHORIZED);

  header = client_new_full (f, NULL, "Bearer s3cret");
  g_assert_no_error (header->error);
  query = client_new_full (f, "token=s3cret", NULL);
  g_assert_no_error (query->error);
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "unauthorized"), ==, 2);

  client_free (none);
  client_free (wrong);
  client_free (header);
  client_free (query);
}

static void
test_tls (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *dir = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  Client *a, *b;
  g_autoptr(JsonNode) node = NULL;

  if (openssl == NULL)
    {
      g_test_skip ("openssl is not installed");
      return;
    }

  dir = g_dir_make_tmp ("test-server-XXXXXX", &error);
  g_assert_no_error (error);
  cert = g_build_filename (dir, "cert.pem", NULL);
  key = g_build_filename (dir, "key.pem", NULL);
  {
    const char *argv[] = {
      openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
      "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", NULL,
    };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_spawn_check_wait_status (status, &error);
    g_assert_no_error (error);
  }

  f->config->tls_cert = g_strdup (cert);
  f->config->tls_key = g_strdup (key);
  g_free (f->scheme);
  f->scheme = g_strdup ("wss");
  fixture_start (f);

  a = client_join (f, ROOM, "alice");
  b = client_join (f, ROOM, "bob");
  client_send (b, "{\"type\":\"signal\",\"to\":\"alice\",\"data\":\"over tls\"}");
  json_node_unref (client_expect (a, "peer-joined"));
  node = client_expect (a, "signal");
  g_assert_cmpstr (member (node, "data"), ==, "over tls");
  g_assert_nonnull (soup_message_get_tls_peer_certificate (a->msg));
  client_free (a);
  client_free (b);

  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
}

typedef struct
{
  GBytes *body;
  guint   status;
  char   *content_type;
  gboolean done;
} HttpResult;

static void
http_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  HttpResult *r = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  r->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, NULL);
  r->status = soup_message_get_status (msg);
  r->content_type = g_strdup (soup_message_headers_get_content_type (
                                soup_message_get_response_headers (msg), NULL));
  r->done = TRUE;
}

static char *
http_get (Fixture    *f,
          const char *path,
          guint      *status)
{
  g_autofree char *uri = g_strdup_printf ("http://127.0.0.1:%u%s",
                                          flow_rendezvous_server_get_port (f->server), path);
  g_autoptr(SoupMessage) msg = soup_message_new ("GET", uri);
  HttpResult r = { 0 };
  char *body;

  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, NULL, http_done_cb, &r);
  WAIT_UNTIL (r.done);
  *status = r.status;
  body = r.body ? g_strndup (g_bytes_get_data (r.body, NULL), g_bytes_get_size (r.body)) : NULL;
  g_clear_pointer (&r.body, g_bytes_unref);
  g_free (r.content_type);
  return body;
}

static void
test_http (Fixture       *f,
           gconstpointer  data)
{
  g_autofree char *healthz = NULL;
  g_autofree char *metrics = NULL;
  g_autofree char *index = NULL;
  g_autofree char *missing = NULL;
  Client *a, *b;
  guint status;

  fixture_start (f);
  a = client_join (f, ROOM, "alice");
  b = client_join (f, ROOM, "bob");
  client_expect_peer_event (a, "peer-joined", "bob");
  client_send (a, "{\"type\":\"signal\",\"to\":\"bob\",\"data\":\"1\"}");
  json_node_unref (client_expect (b, "signal"));
  client_send (a, "{\"type\":\"nope\"}");
  client_expect_error (a, "unknown-type");

  healthz = http_get (f, "/healthz", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_cmpstr (healthz, ==, "ok\n");

  metrics = http_get (f, "/metrics", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (metrics, "\nflowsync_rendezvous_connections 2\n"));
  g_assert_nonnull (strstr (metrics, "\nflowsync_rendezvous_rooms 1\n"));
  g_assert_nonnull (strstr (metrics, "\nflowsync_rendezvous_messages_relayed_total 1\n"));
  g_assert_nonnull (strstr (metrics, "flowsync_rendezvous_rejections_total{reason=\"unknown-type\"} 1\n"));

  index = http_get (f, "/", &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (index, "<html>"));
  g_assert_nonnull (strstr (index, "Rooms: 1"));

  missing = http_get (f, "/nothing-here", &status);
  g_assert_cmpuint (status, ==, 404);

  client_free (a);
  client_free (b);
}

static void
test_stun (Fixture       *f,
           gconstpointer  data)
{
  static const uint16_t known[] = {
    STUN_ATTRIBUTE_MAPPED_ADDRESS, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, 0
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) server_addr = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  StunAgent agent;
  StunMessage request, response;
  guint8 buf[1500], reply[1500];
  struct sockaddr_storage mapped, alternate;
  socklen_t mapped_len = sizeof mapped, alternate_len = sizeof alternate;
  gsize len;
  gssize n;

  f->config->stun_enabled = TRUE;
  fixture_start (f);
  g_assert_cmpuint (flow_rendezvous_server_get_stun_port (f->server), >, 0);

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (sock, FALSE);
  local = g_socket_get_local_address (sock, &error);
  server_addr = g_inet_socket_address_new (lo, flow_rendezvous_server_get_stun_port (f->server));

  /* Garbage first: it must be ignored. */
  g_socket_send_to (sock, server_addr, "not stun at all", 15, NULL, &error);
  g_assert_no_error (error);

  stun_agent_init (&agent, known, STUN_COMPATIBILITY_RFC5389, 0);
  len = stun_usage_bind_create (&agent, &request, buf, sizeof buf);
  g_assert_cmpuint (len, >, 0);
  g_socket_send_to (sock, server_addr, (char *) buf, len, NULL, &error);
  g_assert_no_error (error);

  while ((n = g_socket_receive (sock, (char *) reply, sizeof reply, NULL, NULL)) < 0)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpint (stun_agent_validate (&agent, &response, reply, n, NULL, NULL), ==,
                   STUN_VALIDATION_SUCCESS);
  g_assert_cmpint (stun_usage_bind_process (&response, (struct sockaddr *) &mapped, &mapped_len,
                                            (struct sockaddr *) &alternate, &alternate_len), ==,
                   STUN_USAGE_BIND_RETURN_SUCCESS);
  {
    g_autoptr(GSocketAddress) got = g_socket_address_new_from_native (&mapped, mapped_len);
    g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (got)));

    g_assert_cmpstr (ip, ==, "127.0.0.1");
    g_assert_cmpuint (g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (got)), ==,
                      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local)));
  }
}

/* ---------------------------------------------------------------------
 * load from a second process
 * --------------------------------------------------------------------- */

#define LOAD_CLIENTS 500
#define LOAD_ROOM_SIZE 10
#define LOAD_IN_FLIGHT 64

static void
test_load (Fixture       *f,
           gconstpointer  data)
{
  const char *binary = g_getenv ("FLOWSYNC_RENDEZVOUS");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  Client *clients[LOAD_CLIENTS] = { NULL };
  g_autofree char *conf = NULL;
  guint port = 0, started = 0, connected = 0, joined = 0;
  int fd;

  if (binary == NULL)
    {
      g_test_skip ("FLOWSYNC_RENDEZVOUS is not set");
      return;
    }

  /* An empty keyfile, so /etc/flowsync/rendezvous.conf is not read. */
  fd = g_file_open_tmp ("test-server-XXXXXX.conf", &conf, &error);
  g_assert_no_error (error);
  g_assert_cmpint (write (fd, "[rendezvous]\n", 13), ==, 13);
  close (fd);

  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, binary,
                            "--listen", "127.0.0.1", "--port", "0", "--stun-port", "0",
                            "--max-connections-per-address", "0", "--threads", "4",
                            "--engine", flow_rendezvous_engine_to_string (f->config->engine),
                            "--config", conf, NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "port=%u", &port), ==, 1);

  /* Connect with at most LOAD_IN_FLIGHT handshakes pending, joining each
   * client as soon as it is connected. */
  while (connected < LOAD_CLIENTS)
    {
      while (started < LOAD_CLIENTS && started - connected < LOAD_IN_FLIGHT)
        {
          clients[started] = client_start (f, port, NULL, NULL);
          started++;
        }
      g_main_context_iteration (NULL, TRUE);
      while (connected < started && clients[connected]->done)
        {
          g_autofree char *join = g_strdup_printf ("{\"type\":\"join\",\"room\":\"%08x\",\"peer\":\"p%u\"}",
                                                   connected / LOAD_ROOM_SIZE, connected);
          Client *c = clients[connected];

          g_assert_no_error (c->error);
          client_send (c, join);
          connected++;
        }
    }

  for (guint i = 0; i < LOAD_CLIENTS; i++)
    {
      g_autoptr(JsonNode) node = client_expect (clients[i], "joined");

      joined++;
    }
  g_assert_cmpuint (joined, ==, LOAD_CLIENTS);

  /* In every room the last peer signals the first one. */
  for (guint r = 0; r < LOAD_CLIENTS / LOAD_ROOM_SIZE; r++)
    {
      g_autofree char *to = g_strdup_printf ("p%u", r * LOAD_ROOM_SIZE);
      g_autofree char *payload = g_strdup_printf ("room %u", r);
      g_autofree char *msg = build_signal (to, payload);

      client_send (clients[r * LOAD_ROOM_SIZE + LOAD_ROOM_SIZE - 1], msg);
    }
  for (guint r = 0; r < LOAD_CLIENTS / LOAD_ROOM_SIZE; r++)
    {
      Client *c = clients[r * LOAD_ROOM_SIZE];
      g_autofree char *payload = g_strdup_printf ("room %u", r);

      for (;;)
        {
          g_autoptr(JsonNode) node = client_next (c);

          if (g_strcmp0 (member (node, "type"), "signal") == 0)
            {
              g_assert_cmpstr (member (node, "data"), ==, payload);
              break;
            }
          g_assert_cmpstr (member (node, "type"), ==, "peer-joined");
        }
    }

  for (guint i = 0; i < LOAD_CLIENTS; i++)
    client_free (clients[i]);

  g_subprocess_send_signal (child, SIGTERM);
  g_subprocess_wait_check (child, NULL, &error);
  g_assert_no_error (error);
  g_unlink (conf);
}

/* ---------------------------------------------------------------------
 * the epoll engine's own HTTP and RFC 6455 layer, from a raw socket
 * --------------------------------------------------------------------- */

#define JOIN_TEXT(peer) "{\"type\":\"join\",\"room\":\"" ROOM "\",\"peer\":\"" peer "\"}"

static void
expect_text (GSocket    *sock,
             const char *type)
{
  g_autofree char *got = raw_next_text (sock, NULL);

  g_assert_cmpstr (got, ==, type);
}

static void
test_ws_handshake (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GSocket) good = NULL;
  g_autoptr(GSocket) bare = NULL;
  g_autoptr(GSocket) other = NULL;
  g_autoptr(GSocket) nokey = NULL;
  g_autoptr(GSocket) oldver = NULL;
  g_autofree char *head = NULL;
  g_autofree char *head2 = NULL;
  g_autofree char *head3 = NULL;
  g_autofree char *head4 = NULL;
  g_autofree char *head5 = NULL;

  fixture_start (f);

  /* RFC 6455's example key and its accept value. */
  good = raw_connect_request (f, 0, RAW_REQUEST (RAW_UPGRADE "Sec-WebSocket-Protocol: x, "
                                                 FLOW_RENDEZVOUS_SUBPROTOCOL "\r\n"), &head);
  g_assert_true (g_str_has_prefix (head, "HTTP/1.1 101"));
  g_assert_nonnull (strstr (head, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  g_assert_nonnull (strstr (head, "\r\nSec-WebSocket-Protocol: " FLOW_RENDEZVOUS_SUBPROTOCOL "\r\n"));

  /* No subprotocol offered: accepted without one. */
  bare = raw_connect_request (f, 0, RAW_REQUEST (RAW_UPGRADE), &head2);
  g_assert_true (g_str_has_prefix (head2, "HTTP/1.1 101"));
  g_assert_null (strstr (head2, "Sec-WebSocket-Protocol"));
  raw_send_text (bare, "{\"type\":\"ping\"}");
  expect_text (bare, "pong");

  /* Only other subprotocols, no key, wrong version: refused. */
  other = raw_connect_request (f, 0, RAW_REQUEST (RAW_UPGRADE "Sec-WebSocket-Protocol: chat\r\n"), &head3);
  g_assert_true (g_str_has_prefix (head3, "HTTP/1.1 400"));
  nokey = raw_connect_request (f, 0, RAW_REQUEST ("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                  "Sec-WebSocket-Version: 13\r\n"), &head4);
  g_assert_true (g_str_has_prefix (head4, "HTTP/1.1 400"));
  oldver = raw_connect_request (f, 0, RAW_REQUEST ("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                                   "Sec-WebSocket-Version: 8\r\n"), &head5);
  g_assert_true (g_str_has_prefix (head5, "HTTP/1.1 400"));
  WAIT_UNTIL (flow_rendezvous_server_get_n_connections (f->server) == 2);
}

static void
test_ws_fragmented (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GSocket) raw = NULL;
  g_autoptr(JsonNode) joined = NULL;
  g_autofree char *type = NULL;
  const char *join = JOIN_TEXT ("frag");
  gsize len = strlen (join);

  fixture_start (f);
  raw = raw_connect (f, 0);

  /* text (no FIN), ping, continuation (no FIN), empty continuation, final
   * continuation. The ping is answered at once, the message once whole. */
  raw_send_frame (raw, 0x01, join, 5);
  raw_send_frame (raw, 0x89, "hi", 2);
  raw_send_frame (raw, 0x00, join + 5, 10);
  raw_send_frame (raw, 0x00, "", 0);
  raw_send_frame (raw, 0x80, join + 15, len - 15);
  {
    g_autofree char *payload = NULL;
    guint8 opcode;
    gsize n;

    g_assert_true (raw_read_frame (raw, &opcode, &payload, &n));
    g_assert_cmpuint (opcode, ==, 0xa);
    g_assert_cmpmem (payload, n, "hi", 2);
  }
  type = raw_next_text (raw, &joined);
  g_assert_cmpstr (type, ==, "joined");
  g_assert_cmpstr (member (joined, "peer"), ==, "frag");

  /* A message whose fragments add up beyond the limit. */
  {
    g_autofree char *half = g_strnfill (40 * 1024, 'x');

    raw_send_frame (raw, 0x01, half, strlen (half));
    raw_send_frame (raw, 0x80, half, strlen (half));
    g_assert_cmpuint (raw_expect_close (raw), ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
    g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "too-large"), ==, 1);
  }
}

static void
test_ws_unmasked (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GSocket) raw = NULL;
  g_autoptr(GByteArray) frame = NULL;
  const char *ping = "{\"type\":\"ping\"}";

  fixture_start (f);
  raw = raw_connect (f, 0);
  frame = raw_frame (0x81, ping, strlen (ping), FALSE, -1);
  raw_send_bytes (raw, frame->data, frame->len);
  g_assert_cmpuint (raw_expect_close (raw), ==, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
  WAIT_UNTIL (flow_rendezvous_server_get_n_connections (f->server) == 0);
}

static void
test_ws_close_handshake (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSocket) a = NULL;
  g_autoptr(GSocket) b = NULL;
  Client *watcher;

  fixture_start (f);
  watcher = client_join (f, ROOM, "watcher");

  /* The client closes: the server echoes the code and hangs up; the room
   * hears peer-left. */
  a = raw_connect (f, 0);
  raw_send_text (a, JOIN_TEXT ("a"));
  expect_text (a, "joined");
  client_expect_peer_event (watcher, "peer-joined", "a");
  raw_send_frame (a, 0x88, "\x03\xe8" "bye", 5);
  g_assert_cmpuint (raw_expect_close (a), ==, 1000);
  raw_wait_eof (a);
  client_expect_peer_event (watcher, "peer-left", "a");

  /* The server closes (bad JSON): error, close 1008; our answer ends it. */
  b = raw_connect (f, 0);
  raw_send_text (b, "{\"type\":");
  expect_text (b, "error");
  g_assert_cmpuint (raw_expect_close (b), ==, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
  raw_send_frame (b, 0x88, "\x03\xf0", 2);
  raw_wait_eof (b);
  WAIT_UNTIL (flow_rendezvous_server_get_n_connections (f->server) == 1);
  client_free (watcher);
}

static void
test_ws_partial (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GSocket) raw = NULL;
  g_autoptr(GByteArray) frame = NULL;
  const char *join = JOIN_TEXT ("slowpoke");

  fixture_start (f);
  raw = raw_connect (f, 0);
  frame = raw_frame (0x81, join, strlen (join), TRUE, -1);
  for (guint i = 0; i < frame->len; i++)
    {
      raw_send_bytes (raw, frame->data + i, 1);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  expect_text (raw, "joined");
}

static void
test_ws_pipelined (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GSocket) raw = NULL;
  g_autoptr(GByteArray) all = g_byte_array_new ();
  const char *texts[] = {
    JOIN_TEXT ("pipe"), "{\"type\":\"ping\"}",
    "{\"type\":\"signal\",\"to\":\"nobody\",\"data\":\"x\"}",
  };
  g_autofree char *payload = NULL;
  guint8 opcode;
  gsize n;

  fixture_start (f);
  raw = raw_connect (f, 0);
  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GByteArray) frame = raw_frame (0x81, texts[i], strlen (texts[i]), TRUE, -1);

      g_byte_array_append (all, frame->data, frame->len);
      if (i == 1)
        {
          g_autoptr(GByteArray) ping = raw_frame (0x89, "p", 1, TRUE, -1);

          g_byte_array_append (all, ping->data, ping->len);
        }
    }
  raw_send_bytes (raw, all->data, all->len);

  /* In order: joined, pong (JSON), pong (frame), error. */
  expect_text (raw, "joined");
  expect_text (raw, "pong");
  g_assert_true (raw_read_frame (raw, &opcode, &payload, &n));
  g_assert_cmpuint (opcode, ==, 0xa);
  expect_text (raw, "error");
}

static void
test_ws_invalid_utf8 (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GSocket) raw = NULL;

  fixture_start (f);
  raw = raw_connect (f, 0);
  raw_send_frame (raw, 0x81, "{\"type\":\"\xff\xfe\"}", 14);
  g_assert_cmpuint (raw_expect_close (raw), ==, SOUP_WEBSOCKET_CLOSE_BAD_DATA);
  raw_send_frame (raw, 0x88, "\x03\xef", 2);
  raw_wait_eof (raw);
}

static void
test_ws_huge_length (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GSocket) big = NULL;
  g_autoptr(GSocket) bad = NULL;
  g_autoptr(GByteArray) frame = NULL;
  g_autoptr(GByteArray) frame2 = NULL;

  fixture_start (f);

  /* A 1 TB frame announced in the 64-bit length: refused from the header. */
  big = raw_connect (f, 0);
  frame = raw_frame (0x81, "{}", 2, TRUE, G_GINT64_CONSTANT (1) << 40);
  raw_send_bytes (big, frame->data, frame->len);
  expect_text (big, "error");
  g_assert_cmpuint (raw_expect_close (big), ==, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "too-large"), ==, 1);

  /* The most significant bit must be 0. */
  bad = raw_connect (f, 0);
  frame2 = raw_frame (0x81, "{}", 2, TRUE, G_MAXINT64);
  frame2->data[2] |= 0x80;
  raw_send_bytes (bad, frame2->data, frame2->len);
  g_assert_cmpuint (raw_expect_close (bad), ==, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
}

static void
test_epoll_refuses_tls (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->config->tls_cert = g_strdup ("/nonexistent/cert.pem");
  f->config->tls_key = g_strdup ("/nonexistent/key.pem");
  f->server = flow_rendezvous_server_new (f->config);
  g_assert_false (flow_rendezvous_server_start (f->server, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint e = 0; e < 2; e++)
    {
      FlowRendezvousEngine engine = e == 0 ? FLOW_RENDEZVOUS_ENGINE_SOUP : FLOW_RENDEZVOUS_ENGINE_EPOLL;
      const char *name = flow_rendezvous_engine_to_string (engine);

#define ADD(path, fn) \
  G_STMT_START { \
    g_autofree char *full = g_strdup_printf ("/flow/server/%s%s", name, path); \
    g_test_add (full, Fixture, GINT_TO_POINTER (engine), fixture_setup, fn, fixture_teardown); \
  } G_STMT_END
      ADD ("/protocol/join-leave", test_join_leave);
      ADD ("/protocol/signal-relay", test_signal_relay);
      ADD ("/protocol/no-copy", test_no_copy);
      ADD ("/protocol/presence", test_presence);
      ADD ("/protocol/duplicate-peer", test_duplicate_peer);
      ADD ("/protocol/heartbeat-timeout", test_heartbeat_timeout);
      ADD ("/limits/size", test_limit_size);
      ADD ("/limits/rate", test_limit_rate);
      ADD ("/limits/room-full", test_limit_room_full);
      ADD ("/limits/rooms", test_limit_rooms);
      ADD ("/limits/per-address", test_limit_per_address);
      ADD ("/limits/total", test_limit_total);
      ADD ("/limits/handshake", test_limit_handshake);
      ADD ("/limits/slow-reader", test_limit_slow_reader);
      ADD ("/malformed", test_malformed);
      ADD ("/token", test_token);
      ADD ("/http", test_http);
      ADD ("/stun", test_stun);
      ADD ("/load", test_load);
      if (engine == FLOW_RENDEZVOUS_ENGINE_SOUP)
        ADD ("/tls", test_tls);
      else
        {
          ADD ("/tls-refused", test_epoll_refuses_tls);
          ADD ("/ws/handshake", test_ws_handshake);
          ADD ("/ws/fragmented", test_ws_fragmented);
          ADD ("/ws/unmasked", test_ws_unmasked);
          ADD ("/ws/close-handshake", test_ws_close_handshake);
          ADD ("/ws/partial-reads", test_ws_partial);
          ADD ("/ws/pipelined", test_ws_pipelined);
          ADD ("/ws/invalid-utf8", test_ws_invalid_utf8);
          ADD ("/ws/huge-length", test_ws_huge_length);
        }
#undef ADD
    }

  return g_test_run ();
}
