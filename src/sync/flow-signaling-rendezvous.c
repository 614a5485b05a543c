/* flow-signaling-rendezvous.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The rendezvous client: FlowSignaling over a libsoup WebSocket to a
 * flowsync-rendezvous server (docs/rendezvous.md).
 *
 * One join() is one fresh connection: connect (subprotocol
 * flowsync-rendezvous.v1, access token as an Authorization header), send
 * `join`, wait for `joined`. Anything that ends the connection afterwards
 * (the server's close, an `error` that closes, silence) moves us to FAILED
 * with a message for humans, and the owner may join() again.
 *
 * The `data` blobs are bytes for our callers but JSON strings on the wire,
 * so they travel as base64. What the server sends is checked field by field:
 * a message with bad JSON, wrong types, bad ids or bad base64 is dropped
 * with a g_debug() and never reaches the owner.
 *
 * Liveness: one timer per connection ticks every heartbeat-interval (N)
 * seconds and sends an application `ping`; any frame from the server counts
 * as life. N·2 seconds without one (or N·2 seconds to connect and get
 * `joined`) fails the connection. The server drops silent clients after its
 * heartbeat timeout (60 s by default), far above our default N = 15. */

#define G_LOG_DOMAIN "flow-signaling-rendezvous"

#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "flow-signaling-rendezvous.h"

#define SUBPROTOCOL "flowsync-rendezvous.v1"
#define DEFAULT_HEARTBEAT_INTERVAL 15

struct _FlowRendezvousSignaling
{
  GObject                  parent_instance;

  /* Owned */
  char                    *url;
  char                    *token;
  GTlsCertificate         *accepted_certificate;
  GMainContext            *context;
  SoupSession             *session;
  GCancellable            *cancellable;   /* the connect in flight */
  SoupMessage             *msg;           /* its upgrade request */
  SoupWebsocketConnection *ws;
  GSource                 *heartbeat;
  GSource                 *fail_idle;
  char                    *fail_message;  /* for fail_idle */
  char                    *room;
  char                    *peer;

  gint64                   join_started;  /* monotonic µs */
  gint64                   last_heard;    /* monotonic µs of the last frame */
  guint                    heartbeat_interval;
  FlowSignalingState       state;
};

static void flow_rendezvous_signaling_iface_init (FlowSignalingInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FlowRendezvousSignaling, flow_rendezvous_signaling, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FLOW_TYPE_SIGNALING,
                                                      flow_rendezvous_signaling_iface_init))

enum {
  PROP_0,
  PROP_URL,
  PROP_TOKEN,
  PROP_HEARTBEAT_INTERVAL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---------------------------------------------------------------------
 * base64 shared with flow-signaling-manual.c
 * --------------------------------------------------------------------- */

/**
 * flow_signaling_decode_base64:
 * @text: standard base64, padded
 * @len: its length in bytes
 *
 * g_base64_decode() assumes valid input and decodes garbage into garbage;
 * this checks the alphabet, the length and the padding first.
 *
 * Returns: (transfer full) (nullable): the bytes, or %NULL if @text is not
 *   valid base64
 */
GBytes *
flow_signaling_decode_base64 (const char *text,
                              gsize       len)
{
  g_autofree char *copy = NULL;
  gboolean padding = FALSE;
  gsize out_len = 0;
  guchar *out;

  if (len % 4 != 0)
    return NULL;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (c == '=' && i + 2 >= len)
        padding = TRUE;
      else if (padding || !(g_ascii_isalnum (c) || c == '+' || c == '/'))
        return NULL;
    }

  if (len == 0)
    return g_bytes_new (NULL, 0);

  copy = g_strndup (text, len);
  out = g_base64_decode (copy, &out_len);
  return g_bytes_new_take (out, out_len);
}

/* ---------------------------------------------------------------------
 * connection life
 * --------------------------------------------------------------------- */

static void
release_closed_cb (SoupWebsocketConnection *ws,
                   gpointer                 user_data)
{
  g_object_unref (ws);
}

/* Closes @ws with 1000 and lets go of it. Dropping the last ref at once
 * would make libsoup cut the socket before our close frame is out, so the
 * ref is held until the close handshake ends (libsoup gives the server a
 * few seconds, then closes the socket anyway). */
static void
release_connection (FlowRendezvousSignaling *self,
                    SoupWebsocketConnection *ws)
{
  SoupWebsocketState state = soup_websocket_connection_get_state (ws);

  g_signal_handlers_disconnect_by_data (ws, self);
  if (state == SOUP_WEBSOCKET_STATE_CLOSED)
    {
      g_object_unref (ws);
      return;
    }
  if (state == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_signal_connect (ws, "closed", G_CALLBACK (release_closed_cb), NULL);
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

/* Drops everything of the current connection without a word to anyone. */
static void
teardown (FlowRendezvousSignaling *self)
{
  /* Cancelling may run connect_cb() right here; it returns at once. */
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->msg);
  destroy_source (&self->heartbeat);
  destroy_source (&self->fail_idle);
  g_clear_pointer (&self->fail_message, g_free);
  if (self->ws != NULL)
    release_connection (self, g_steal_pointer (&self->ws));
}

static void
fail (FlowRendezvousSignaling *self,
      const char              *message)
{
  g_autofree char *copy = g_strdup (message);

  g_debug ("%s: %s", self->peer, copy);
  teardown (self);
  self->state = FLOW_SIGNALING_FAILED;
  flow_signaling_emit_failed (FLOW_SIGNALING (self), copy);
}

static gboolean
fail_idle_cb (gpointer user_data)
{
  FlowRendezvousSignaling *self = user_data;
  g_autofree char *message = g_steal_pointer (&self->fail_message);

  g_clear_pointer (&self->fail_idle, g_source_unref);
  fail (self, message);
  return G_SOURCE_REMOVE;
}

/* For failures found inside join(): the interface promises no signal from
 * inside a method call. */
static void
fail_later (FlowRendezvousSignaling *self,
            const char              *message)
{
  g_assert (self->fail_idle == NULL);

  self->fail_message = g_strdup (message);
  self->fail_idle = g_idle_source_new ();
  g_source_set_callback (self->fail_idle, fail_idle_cb, self, NULL);
  g_source_attach (self->fail_idle, self->context);
}

/* ---------------------------------------------------------------------
 * outgoing messages
 * --------------------------------------------------------------------- */

/* Sends {"type": TYPE, KEY: VALUE, ...}; the pairs end with NULL. Messages
 * while the socket is not open are dropped: signaling is best effort and
 * the close that is under way fails us anyway. */
static void
send_message (FlowRendezvousSignaling *self,
              const char              *type,
              ...) G_GNUC_NULL_TERMINATED;

static void
send_message (FlowRendezvousSignaling *self,
              const char              *type,
              ...)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  const char *key;
  va_list args;

  if (self->ws == NULL ||
      soup_websocket_connection_get_state (self->ws) != SOUP_WEBSOCKET_STATE_OPEN)
    {
      g_debug ("not connected; dropping %s", type);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  va_start (args, type);
  while ((key = va_arg (args, const char *)) != NULL)
    {
      json_builder_set_member_name (builder, key);
      json_builder_add_string_value (builder, va_arg (args, const char *));
    }
  va_end (args);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  soup_websocket_connection_send_text (self->ws, text);
}

/* ---------------------------------------------------------------------
 * incoming messages
 * --------------------------------------------------------------------- */

/* The string member @name, or NULL if it is missing or not a string. */
static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static void
handle_joined (FlowRendezvousSignaling *self,
               JsonObject              *object)
{
  JsonNode *node = json_object_get_member (object, "peers");
  g_autoptr(GPtrArray) peers = g_ptr_array_new ();
  JsonArray *array;

  if (self->state != FLOW_SIGNALING_JOINING)
    {
      g_debug ("ignoring joined outside a join");
      return;
    }
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      g_debug ("ignoring joined without a peers array");
      return;
    }

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      const char *peer = NULL;

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        peer = json_node_get_string (element);
      if (flow_signaling_peer_id_is_valid (peer) && g_strcmp0 (peer, self->peer) != 0)
        g_ptr_array_add (peers, (gpointer) peer);
      else
        g_debug ("ignoring a bad peer in joined");
    }
  g_ptr_array_add (peers, NULL);

  self->state = FLOW_SIGNALING_JOINED;
  flow_signaling_emit_joined (FLOW_SIGNALING (self), (const char * const *) peers->pdata);
}

static void
handle_membership (FlowRendezvousSignaling *self,
                   JsonObject              *object,
                   gboolean                 joined)
{
  const char *peer = member_string (object, "peer");

  if (self->state != FLOW_SIGNALING_JOINED || !flow_signaling_peer_id_is_valid (peer))
    {
      g_debug ("ignoring a bad or early peer-%s", joined ? "joined" : "left");
      return;
    }

  if (joined)
    flow_signaling_emit_peer_joined (FLOW_SIGNALING (self), peer);
  else
    flow_signaling_emit_peer_left (FLOW_SIGNALING (self), peer);
}

static void
handle_blob (FlowRendezvousSignaling *self,
             JsonObject              *object,
             gboolean                 presence)
{
  const char *from = member_string (object, "from");
  const char *data = member_string (object, "data");
  g_autoptr(GBytes) bytes = NULL;

  if (self->state != FLOW_SIGNALING_JOINED || !flow_signaling_peer_id_is_valid (from) ||
      data == NULL)
    {
      g_debug ("ignoring a bad or early %s", presence ? "presence" : "signal");
      return;
    }

  bytes = flow_signaling_decode_base64 (data, strlen (data));
  if (bytes == NULL)
    {
      g_debug ("ignoring a %s from %s whose data is not base64",
               presence ? "presence" : "signal", from);
      return;
    }

  if (presence)
    flow_signaling_emit_presence (FLOW_SIGNALING (self), from, bytes);
  else
    flow_signaling_emit_signal (FLOW_SIGNALING (self), from, bytes);
}

/* Errors after which the server closes the connection (docs/rendezvous.md,
 * "Error codes"), in words for the UI. The others (rate-limited,
 * unknown-peer, ...) concern one message and the connection goes on. */
static const struct
{
  const char *code;
  const char *message;
} fatal_errors[] = {
  { "room-full", "The room is full" },
  { "too-many-rooms", "The rendezvous server has too many rooms open; try again later" },
  { "already-joined", "Another peer with the same id is already in the room" },
  { "timeout", "The rendezvous server timed out the connection" },
  { "bad-json", "The rendezvous server did not understand us (bad JSON)" },
};

static void
handle_error (FlowRendezvousSignaling *self,
              JsonObject              *object)
{
  const char *code = member_string (object, "code");
  const char *message = member_string (object, "message");
  g_autofree char *refused = NULL;

  if (code == NULL)
    {
      g_debug ("ignoring an error without a code");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (fatal_errors); i++)
    if (strcmp (code, fatal_errors[i].code) == 0)
      {
        fail (self, fatal_errors[i].message);
        return;
      }

  /* A refused join (bad room or peer syntax) closes too. */
  if (self->state == FLOW_SIGNALING_JOINING)
    {
      refused = g_strdup_printf ("The rendezvous server refused to join: %s",
                                 message != NULL ? message : code);
      fail (self, refused);
      return;
    }

  g_debug ("server error %s: %s", code, message != NULL ? message : "");
}

static const struct
{
  const char *type;
  void (*handle) (FlowRendezvousSignaling *self,
                  JsonObject              *object,
                  gboolean                 flag);
  gboolean flag;
} handlers[] = {
  { "peer-joined", handle_membership, TRUE },
  { "peer-left", handle_membership, FALSE },
  { "signal", handle_blob, FALSE },
  { "presence", handle_blob, TRUE },
};

static void
ws_message_cb (SoupWebsocketConnection *ws,
               gint                     type,
               GBytes                  *message,
               FlowRendezvousSignaling *self)
{
  g_autoptr(FlowRendezvousSignaling) keep = g_object_ref (self);
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (message, &len);
  JsonNode *root;
  JsonObject *object;
  const char *kind;

  self->last_heard = g_get_monotonic_time ();

  if (type != SOUP_WEBSOCKET_DATA_TEXT)
    {
      g_debug ("ignoring a binary message");
      return;
    }
  if (!json_parser_load_from_data (parser, data, len, &error))
    {
      g_debug ("ignoring a message that is not JSON: %s", error->message);
      return;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_debug ("ignoring a message that is not an object");
      return;
    }

  object = json_node_get_object (root);
  kind = member_string (object, "type");
  if (kind == NULL)
    g_debug ("ignoring a message without a type");
  else if (strcmp (kind, "pong") == 0)
    ; /* last_heard is all it is for */
  else if (strcmp (kind, "joined") == 0)
    handle_joined (self, object);
  else if (strcmp (kind, "error") == 0)
    handle_error (self, object);
  else
    {
      for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
        if (strcmp (kind, handlers[i].type) == 0)
          {
            handlers[i].handle (self, object, handlers[i].flag);
            return;
          }
      g_debug ("ignoring a message of unknown type %s", kind);
    }
}

static void
ws_closed_cb (SoupWebsocketConnection *ws,
              FlowRendezvousSignaling *self)
{
  const char *reason = soup_websocket_connection_get_close_data (ws);
  g_autofree char *message = NULL;

  if (reason != NULL && reason[0] != '\0')
    message = g_strdup_printf ("Connection to the rendezvous server lost: %s", reason);
  else
    message = g_strdup ("Connection to the rendezvous server lost");
  fail (self, message);
}

static void
ws_error_cb (SoupWebsocketConnection *ws,
             GError                  *error,
             FlowRendezvousSignaling *self)
{
  /* "closed" follows fatal errors; the others are worth a debug line. */
  g_debug ("websocket error: %s", error->message);
}

/* ---------------------------------------------------------------------
 * heartbeat
 * --------------------------------------------------------------------- */

static gboolean
heartbeat_cb (gpointer user_data)
{
  FlowRendezvousSignaling *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 limit = (gint64) self->heartbeat_interval * 2 * G_USEC_PER_SEC;
  const char *message = NULL;

  if (self->ws == NULL && now - self->join_started >= limit)
    message = "Could not reach the rendezvous server (timed out)";
  else if (self->state == FLOW_SIGNALING_JOINING && now - self->join_started >= limit)
    message = "The rendezvous server did not answer the join";
  else if (self->ws != NULL && now - self->last_heard >= limit)
    message = "The rendezvous server stopped answering";

  if (message != NULL)
    {
      /* teardown() destroys this source; GLib keeps it alive until we return. */
      fail (self, message);
      return G_SOURCE_REMOVE;
    }

  send_message (self, "ping", NULL);
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------------------
 * connecting
 * --------------------------------------------------------------------- */

static gboolean
accept_certificate_cb (FlowRendezvousSignaling *self,
                       GTlsCertificate         *certificate,
                       GTlsCertificateFlags     errors)
{
  /* Only consulted when the system's validation failed: a LAN host's
   * self-signed certificate is accepted if it is exactly the pinned one. */
  return self->accepted_certificate != NULL &&
         g_tls_certificate_is_same (certificate, self->accepted_certificate);
}

static char *
describe_connect_error (SoupMessage  *msg,
                        const GError *error)
{
  guint status = soup_message_get_status (msg);
  const char *phrase = soup_message_get_reason_phrase (msg);

  if (status == SOUP_STATUS_UNAUTHORIZED)
    return g_strdup ("The rendezvous server refused the access token");
  if (status == SOUP_STATUS_SERVICE_UNAVAILABLE)
    return g_strdup ("The rendezvous server is busy (too many connections); try again later");
  if (SOUP_STATUS_IS_INFORMATIONAL (status) || status < 100)
    return g_strdup_printf ("Could not connect to the rendezvous server: %s", error->message);
  return g_strdup_printf ("The rendezvous server refused the connection (HTTP %u %s)",
                          status, phrase != NULL ? phrase : "");
}

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  FlowRendezvousSignaling *self;
  g_autoptr(GError) error = NULL;
  g_autoptr(SoupWebsocketConnection) ws = NULL;
  g_autoptr(SoupMessage) msg = NULL;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);

  /* We cancel in leave(), join() and dispose: @user_data may be gone. GTask
   * reports a cancelled operation as cancelled even if it had succeeded. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = FLOW_RENDEZVOUS_SIGNALING (user_data);
  msg = g_steal_pointer (&self->msg);
  g_clear_object (&self->cancellable);

  if (ws == NULL)
    {
      g_autofree char *message = describe_connect_error (msg, error);

      fail (self, message);
      return;
    }

  self->ws = g_steal_pointer (&ws);
  self->last_heard = g_get_monotonic_time ();
  g_signal_connect (self->ws, "message", G_CALLBACK (ws_message_cb), self);
  g_signal_connect (self->ws, "closed", G_CALLBACK (ws_closed_cb), self);
  g_signal_connect (self->ws, "error", G_CALLBACK (ws_error_cb), self);
  send_message (self, "join", "room", self->room, "peer", self->peer, NULL);
}

/* Checks the URL here, so that soup_message_new() never sees a scheme it
 * would refuse with a critical. */
static gboolean
url_is_usable (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  const char *scheme;

  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  return g_ascii_strcasecmp (scheme, "ws") == 0 || g_ascii_strcasecmp (scheme, "wss") == 0;
}

static void
start_connect (FlowRendezvousSignaling *self)
{
  const char *protocols[] = { SUBPROTOCOL, NULL };
  g_autofree char *message = NULL;
  SoupMessageHeaders *headers;

  if (!url_is_usable (self->url))
    {
      message = g_strdup_printf ("“%s” is not a ws:// or wss:// address", self->url);
      fail_later (self, message);
      return;
    }

  self->msg = soup_message_new ("GET", self->url);
  headers = soup_message_get_request_headers (self->msg);
  /* A header rather than ?token=: query strings end up in access logs. */
  if (self->token != NULL && self->token[0] != '\0')
    {
      g_autofree char *bearer = g_strdup_printf ("Bearer %s", self->token);

      soup_message_headers_replace (headers, "Authorization", bearer);
    }
  g_signal_connect_object (self->msg, "accept-certificate", G_CALLBACK (accept_certificate_cb),
                           self, G_CONNECT_SWAPPED);

  if (self->session == NULL)
    self->session = soup_session_new ();
  self->cancellable = g_cancellable_new ();
  soup_session_websocket_connect_async (self->session, self->msg, NULL, (char **) protocols,
                                        G_PRIORITY_DEFAULT, self->cancellable, connect_cb, self);
}

/* ---------------------------------------------------------------------
 * FlowSignaling
 * --------------------------------------------------------------------- */

static FlowSignalingState
flow_rendezvous_signaling_get_state (FlowSignaling *signaling)
{
  return FLOW_RENDEZVOUS_SIGNALING (signaling)->state;
}

static void
flow_rendezvous_signaling_join (FlowSignaling *signaling,
                                const char    *room,
                                const char    *peer)
{
  FlowRendezvousSignaling *self = FLOW_RENDEZVOUS_SIGNALING (signaling);

  g_return_if_fail (self->state == FLOW_SIGNALING_IDLE || self->state == FLOW_SIGNALING_FAILED);

  teardown (self);
  g_free (self->room);
  self->room = g_strdup (room);
  g_free (self->peer);
  self->peer = g_strdup (peer);
  self->state = FLOW_SIGNALING_JOINING;
  self->join_started = g_get_monotonic_time ();
  self->last_heard = self->join_started;

  self->heartbeat = g_timeout_source_new (self->heartbeat_interval * 1000);
  g_source_set_callback (self->heartbeat, heartbeat_cb, self, NULL);
  g_source_attach (self->heartbeat, self->context);

  start_connect (self);
}

static void
flow_rendezvous_signaling_leave (FlowSignaling *signaling)
{
  FlowRendezvousSignaling *self = FLOW_RENDEZVOUS_SIGNALING (signaling);

  teardown (self);
  self->state = FLOW_SIGNALING_IDLE;
}

/* Sends a signal (@to set) or a presence (@to %NULL); @data travels as
 * base64 because `data` is a JSON string on the wire. */
static void
send_blob (FlowRendezvousSignaling *self,
           const char              *to,
           GBytes                  *data)
{
  const char *type = to != NULL ? "signal" : "presence";
  g_autofree char *encoded = NULL;
  gsize len;
  const guchar *bytes;

  if (self->state != FLOW_SIGNALING_JOINED)
    {
      g_debug ("not joined; dropping a %s", type);
      return;
    }

  bytes = g_bytes_get_data (data, &len);
  encoded = g_base64_encode (bytes, len);
  if (to != NULL)
    send_message (self, type, "to", to, "data", encoded, NULL);
  else
    send_message (self, type, "data", encoded, NULL);
}

static void
flow_rendezvous_signaling_send_signal (FlowSignaling *signaling,
                                       const char    *to,
                                       GBytes        *data)
{
  send_blob (FLOW_RENDEZVOUS_SIGNALING (signaling), to, data);
}

static void
flow_rendezvous_signaling_send_presence (FlowSignaling *signaling,
                                         GBytes        *data)
{
  send_blob (FLOW_RENDEZVOUS_SIGNALING (signaling), NULL, data);
}

static void
flow_rendezvous_signaling_iface_init (FlowSignalingInterface *iface)
{
  iface->get_state = flow_rendezvous_signaling_get_state;
  iface->join = flow_rendezvous_signaling_join;
  iface->leave = flow_rendezvous_signaling_leave;
  iface->send_signal = flow_rendezvous_signaling_send_signal;
  iface->send_presence = flow_rendezvous_signaling_send_presence;
}

/* ---------------------------------------------------------------------
 * GObject
 * --------------------------------------------------------------------- */

static void
flow_rendezvous_signaling_dispose (GObject *object)
{
  FlowRendezvousSignaling *self = FLOW_RENDEZVOUS_SIGNALING (object);

  teardown (self);
  self->state = FLOW_SIGNALING_IDLE;
  g_clear_object (&self->session);
  g_clear_object (&self->accepted_certificate);

  G_OBJECT_CLASS (flow_rendezvous_signaling_parent_class)->dispose (object);
}

static void
flow_rendezvous_signaling_finalize (GObject *object)
{
  FlowRendezvousSignaling *self = FLOW_RENDEZVOUS_SIGNALING (object);

  g_free (self->url);
  g_free (self->token);
  g_free (self->room);
  g_free (self->peer);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (flow_rendezvous_signaling_parent_class)->finalize (object);
}

static void
flow_rendezvous_signaling_get_property (GObject    *object,
                                        guint       prop_id,
                                        GValue     *value,
                                        GParamSpec *pspec)
{
  FlowRendezvousSignaling *self = FLOW_RENDEZVOUS_SIGNALING (object);

  switch (prop_id)
    {
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;

    case PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;

    case PROP_HEARTBEAT_INTERVAL:
      g_value_set_uint (value, self->heartbeat_interval);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_rendezvous_signaling_set_property (GObject      *object,
                                        guint         prop_id,
                                        const GValue *value,
                                        GParamSpec   *pspec)
{
  FlowRendezvousSignaling *self = FLOW_RENDEZVOUS_SIGNALING (object);

  switch (prop_id)
    {
    case PROP_URL:
      self->url = g_value_dup_string (value);
      break;

    case PROP_TOKEN:
      self->token = g_value_dup_string (value);
      break;

    case PROP_HEARTBEAT_INTERVAL:
      flow_rendezvous_signaling_set_heartbeat_interval (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_rendezvous_signaling_class_init (FlowRendezvousSignalingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_rendezvous_signaling_dispose;
  object_class->finalize = flow_rendezvous_signaling_finalize;
  object_class->get_property = flow_rendezvous_signaling_get_property;
  object_class->set_property = flow_rendezvous_signaling_set_property;

  properties[PROP_URL] =
    g_param_spec_string ("url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOKEN] =
    g_param_spec_string ("token", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  /**
   * FlowRendezvousSignaling:heartbeat-interval:
   *
   * Seconds between two pings to the server. Twice this without a word
   * from the server (or without `joined` after join()) fails the
   * connection. Takes effect at the next join().
   */
  properties[PROP_HEARTBEAT_INTERVAL] =
    g_param_spec_uint ("heartbeat-interval", NULL, NULL, 1, 3600, DEFAULT_HEARTBEAT_INTERVAL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
flow_rendezvous_signaling_init (FlowRendezvousSignaling *self)
{
  self->heartbeat_interval = DEFAULT_HEARTBEAT_INTERVAL;
  self->context = g_main_context_ref_thread_default ();
}

/* ---------------------------------------------------------------------
 * public API
 * --------------------------------------------------------------------- */

/**
 * flow_rendezvous_signaling_new:
 * @url: `ws://HOST:PORT/ws` or `wss://…` (see flow_rendezvous_url_for_host())
 * @token: (nullable): the server's access token, for private deployments
 *
 * Creates a client of a flowsync-rendezvous server. Nothing is sent before
 * flow_signaling_join(); a bad @url fails that join.
 *
 * Returns: (transfer full): a new #FlowSignaling
 */
FlowSignaling *
flow_rendezvous_signaling_new (const char *url,
                               const char *token)
{
  g_return_val_if_fail (url != NULL, NULL);

  return g_object_new (FLOW_TYPE_RENDEZVOUS_SIGNALING, "url", url, "token", token, NULL);
}

/**
 * flow_rendezvous_signaling_set_accept_certificate:
 * @certificate: (nullable): the certificate to trust besides the system's
 *   CAs, or %NULL for the system's CAs alone
 *
 * Pins the certificate of a server that the system does not trust, such as
 * a LAN host's self-signed one. Takes effect at the next join().
 */
void
flow_rendezvous_signaling_set_accept_certificate (FlowRendezvousSignaling *self,
                                                  GTlsCertificate         *certificate)
{
  g_return_if_fail (FLOW_IS_RENDEZVOUS_SIGNALING (self));
  g_return_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate));

  g_set_object (&self->accepted_certificate, certificate);
}

guint
flow_rendezvous_signaling_get_heartbeat_interval (FlowRendezvousSignaling *self)
{
  g_return_val_if_fail (FLOW_IS_RENDEZVOUS_SIGNALING (self), 0);

  return self->heartbeat_interval;
}

void
flow_rendezvous_signaling_set_heartbeat_interval (FlowRendezvousSignaling *self,
                                                  guint                    seconds)
{
  g_return_if_fail (FLOW_IS_RENDEZVOUS_SIGNALING (self));
  g_return_if_fail (seconds >= 1);

  if (self->heartbeat_interval == seconds)
    return;
  self->heartbeat_interval = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEARTBEAT_INTERVAL]);
}

/**
 * flow_rendezvous_url_for_host:
 * @host: (nullable): the invite link's host: a name, an IPv4 address or an
 *   IPv6 address without brackets
 * @port: the invite link's port, 0 for %FLOW_RENDEZVOUS_DEFAULT_PORT
 * @tls: whether to use `wss://`
 *
 * Returns: (transfer full) (nullable): the WebSocket URL of the rendezvous
 *   server on @host, or %NULL if @host is %NULL or empty (a link without a
 *   host means the LAN/embedded rendezvous, which the caller resolves)
 */
char *
flow_rendezvous_url_for_host (const char *host,
                              guint16     port,
                              gboolean    tls)
{
  if (host == NULL || host[0] == '\0')
    return NULL;

  /* g_uri_join() puts an IPv6 literal in brackets. */
  return g_uri_join (G_URI_FLAGS_NONE, tls ? "wss" : "ws", NULL, host,
                     port != 0 ? port : FLOW_RENDEZVOUS_DEFAULT_PORT, "/ws", NULL, NULL);
}

static gboolean
host_is_local (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  if (address != NULL)
    return g_inet_address_get_is_loopback (address) ||
           g_inet_address_get_is_site_local (address) ||
           g_inet_address_get_is_link_local (address) ||
           (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
            (g_inet_address_to_bytes (address)[0] & 0xfe) == 0xfc);   /* fc00::/7 */

  return strchr (host, '.') == NULL ||
         g_str_has_suffix (host, ".local") ||
         g_str_has_suffix (host, ".lan") ||
         g_str_has_suffix (host, ".home.arpa");
}

/**
 * flow_rendezvous_url_for_invite:
 * @host: (nullable): an invite link's host
 * @port: its port, 0 for the default
 *
 * An invite link names only a host and a port, so the scheme follows from
 * the host: plain `ws://` for hosts on this machine or the LAN (loopback
 * and private addresses, names without a dot, `.local`, `.lan`,
 * `.home.arpa`), where the app's embedded server runs without TLS, and
 * `wss://` for everything else, where a server faces the Internet.
 *
 * Returns: (transfer full) (nullable): the URL, or %NULL without a host
 */
char *
flow_rendezvous_url_for_invite (const char *host,
                                guint16     port)
{
  if (host == NULL || host[0] == '\0')
    return NULL;
  return flow_rendezvous_url_for_host (host, port, !host_is_local (host));
}
