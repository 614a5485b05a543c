/* flow-signaling-manual.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* Manual signaling: two peers and no server. Whatever the rendezvous server
 * would relay becomes a line of text (#FlowManualSignaling::outgoing) that
 * the owner carries to the other peer's flow_manual_signaling_receive():
 * the tests wire two objects together, `flowsync-cli host/join --manual`
 * has the user copy it from one terminal into the other.
 *
 * A line is `flowsync-signal:1:` followed by the standard base64 of an
 * envelope:
 *
 *   u8 kind (1 hello, 2 signal, 3 presence, 4 bye)
 *   u8 room length, room id
 *   u8 peer length, sender's peer id
 *   u32 big-endian data length, data
 *
 * The lengths must add up to the envelope's size exactly, so a text cut
 * short while copying is refused instead of delivering half a blob. Every
 * envelope names its room, so a text for another room is refused too.
 * Whitespace anywhere is ignored: terminals wrap long lines when copying.
 *
 * join() emits `joined` with no peers and an outgoing hello; the other
 * side's hello (or its first signal, if the user pasted that first) makes
 * it our peer (`peer-joined`). A hello from a third peer id means the other
 * side restarted: the old one leaves, the new one joins. Everything is
 * emitted from an idle, in order, never from inside a method call. */

#define G_LOG_DOMAIN "flow-signaling-manual"

#include "config.h"

#include <string.h>

#include "flow-signaling-manual.h"
#include "flow-signaling-rendezvous.h"

#define PREFIX "flowsync-signal:"
#define VERSION "1"
/* ICE descriptions are a few hundred bytes; this is only a sanity bound. */
#define MAX_TEXT (256 * 1024)

typedef enum
{
  KIND_HELLO = 1,
  KIND_SIGNAL,
  KIND_PRESENCE,
  KIND_BYE,
} Kind;

typedef enum
{
  EVENT_JOINED,
  EVENT_PEER_JOINED,
  EVENT_PEER_LEFT,
  EVENT_SIGNAL,
  EVENT_PRESENCE,
  EVENT_OUTGOING,
} EventType;

typedef struct
{
  EventType  type;
  char      *text;   /* a peer id, or the outgoing line */
  GBytes    *data;
} Event;

typedef struct
{
  Kind    kind;
  char   *room;
  char   *peer;
  GBytes *data;
} Envelope;

struct _FlowManualSignaling
{
  GObject             parent_instance;

  /* Owned */
  GMainContext       *context;
  GQueue              events;    /* of Event *, emitted by @idle */
  GSource            *idle;
  char               *room;
  char               *peer;
  char               *remote;    /* the other side's peer id, once known */

  FlowSignalingState  state;
};

static void flow_manual_signaling_iface_init (FlowSignalingInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FlowManualSignaling, flow_manual_signaling, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FLOW_TYPE_SIGNALING,
                                                      flow_manual_signaling_iface_init))

G_DEFINE_QUARK (flow-manual-signaling-error-quark, flow_manual_signaling_error)

enum {
  OUTGOING,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------------
 * the text format
 * --------------------------------------------------------------------- */

static void
envelope_clear (Envelope *envelope)
{
  g_clear_pointer (&envelope->room, g_free);
  g_clear_pointer (&envelope->peer, g_free);
  g_clear_pointer (&envelope->data, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Envelope, envelope_clear)

static char *
encode (Kind        kind,
        const char *room,
        const char *peer,
        GBytes     *data)
{
  g_autoptr(GByteArray) buf = g_byte_array_new ();
  g_autofree char *base64 = NULL;
  gsize data_len = data != NULL ? g_bytes_get_size (data) : 0;
  guint8 byte;
  guint32 be;

  byte = kind;
  g_byte_array_append (buf, &byte, 1);
  byte = strlen (room);
  g_byte_array_append (buf, &byte, 1);
  g_byte_array_append (buf, (const guint8 *) room, byte);
  byte = strlen (peer);
  g_byte_array_append (buf, &byte, 1);
  g_byte_array_append (buf, (const guint8 *) peer, byte);
  be = GUINT32_TO_BE ((guint32) data_len);
  g_byte_array_append (buf, (const guint8 *) &be, 4);
  if (data_len > 0)
    g_byte_array_append (buf, g_bytes_get_data (data, NULL), data_len);

  base64 = g_base64_encode (buf->data, buf->len);
  return g_strconcat (PREFIX VERSION ":", base64, NULL);
}

/* Reads a length-prefixed id at @pos; NULL if it does not fit or is not a
 * valid id. */
static char *
read_id (const guint8 *bytes,
         gsize         len,
         gsize        *pos,
         gboolean      room)
{
  g_autofree char *id = NULL;
  gsize id_len;

  if (*pos >= len)
    return NULL;
  id_len = bytes[(*pos)++];
  if (id_len > len - *pos)
    return NULL;
  id = g_strndup ((const char *) bytes + *pos, id_len);
  *pos += id_len;

  if (room ? !flow_signaling_room_id_is_valid (id) : !flow_signaling_peer_id_is_valid (id))
    return NULL;
  return g_steal_pointer (&id);
}

static gboolean
parse_envelope (GBytes   *bytes,
                Envelope *envelope)
{
  gsize len, pos = 0;
  const guint8 *p = g_bytes_get_data (bytes, &len);
  guint32 data_len;

  if (len < 1 || p[0] < KIND_HELLO || p[0] > KIND_BYE)
    return FALSE;
  envelope->kind = p[pos++];
  envelope->room = read_id (p, len, &pos, TRUE);
  envelope->peer = read_id (p, len, &pos, FALSE);
  if (envelope->room == NULL || envelope->peer == NULL || len - pos < 4)
    return FALSE;

  memcpy (&data_len, p + pos, 4);
  data_len = GUINT32_FROM_BE (data_len);
  pos += 4;
  if (data_len != len - pos)
    return FALSE;
  envelope->data = g_bytes_new_from_bytes (bytes, pos, data_len);
  return TRUE;
}

static gboolean
decode (const char  *text,
        Envelope    *envelope,
        GError     **error)
{
  g_autoptr(GString) compact = g_string_new (NULL);
  g_autoptr(GBytes) bytes = NULL;
  const char *version, *colon;

  for (const char *c = text; *c != '\0' && compact->len <= MAX_TEXT; c++)
    if (!g_ascii_isspace (*c))
      g_string_append_c (compact, *c);

  if (!g_str_has_prefix (compact->str, PREFIX))
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR, FLOW_MANUAL_SIGNALING_ERROR_INVALID,
                           "This is not a FlowSync signaling text (it should start with "
                           PREFIX ")");
      return FALSE;
    }
  if (compact->len > MAX_TEXT)
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR, FLOW_MANUAL_SIGNALING_ERROR_INVALID,
                           "This signaling text is too long");
      return FALSE;
    }

  version = compact->str + strlen (PREFIX);
  colon = strchr (version, ':');
  if (colon == NULL || colon - version != strlen (VERSION) ||
      strncmp (version, VERSION, colon - version) != 0)
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR, FLOW_MANUAL_SIGNALING_ERROR_VERSION,
                           "This signaling text comes from another version of FlowSync");
      return FALSE;
    }

  bytes = flow_signaling_decode_base64 (colon + 1, compact->len - (colon + 1 - compact->str));
  if (bytes == NULL || !parse_envelope (bytes, envelope))
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR, FLOW_MANUAL_SIGNALING_ERROR_INVALID,
                           "This signaling text is damaged: copy all of it, in one piece");
      return FALSE;
    }
  return TRUE;
}

/* ---------------------------------------------------------------------
 * deferred emission
 * --------------------------------------------------------------------- */

static void
event_free (Event *event)
{
  g_free (event->text);
  g_clear_pointer (&event->data, g_bytes_unref);
  g_free (event);
}

static void
emit_event (FlowManualSignaling *self,
            Event               *event)
{
  FlowSignaling *signaling = FLOW_SIGNALING (self);
  static const char * const no_peers[] = { NULL };

  switch (event->type)
    {
    case EVENT_JOINED:
      self->state = FLOW_SIGNALING_JOINED;
      flow_signaling_emit_joined (signaling, no_peers);
      break;

    case EVENT_PEER_JOINED:
      flow_signaling_emit_peer_joined (signaling, event->text);
      break;

    case EVENT_PEER_LEFT:
      flow_signaling_emit_peer_left (signaling, event->text);
      break;

    case EVENT_SIGNAL:
      flow_signaling_emit_signal (signaling, event->text, event->data);
      break;

    case EVENT_PRESENCE:
      flow_signaling_emit_presence (signaling, event->text, event->data);
      break;

    case EVENT_OUTGOING:
      g_signal_emit (self, signals[OUTGOING], 0, event->text);
      break;

    default:
      g_assert_not_reached ();
    }
}

/* One event per dispatch: a handler may leave() (which empties the queue
 * and destroys this source) or join() again (which makes a new one). */
static gboolean
idle_cb (gpointer user_data)
{
  g_autoptr(FlowManualSignaling) self = g_object_ref (user_data);
  Event *event = g_queue_pop_head (&self->events);
  gboolean more = !g_queue_is_empty (&self->events);

  if (!more)
    g_clear_pointer (&self->idle, g_source_unref);
  if (event != NULL)
    {
      emit_event (self, event);
      event_free (event);
    }
  return more ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
queue_event (FlowManualSignaling *self,
             EventType            type,
             char                *text,
             GBytes              *data)
{
  Event *event = g_new0 (Event, 1);

  event->type = type;
  event->text = text;
  event->data = data != NULL ? g_bytes_ref (data) : NULL;
  g_queue_push_tail (&self->events, event);

  if (self->idle == NULL)
    {
      self->idle = g_idle_source_new ();
      g_source_set_callback (self->idle, idle_cb, self, NULL);
      g_source_attach (self->idle, self->context);
    }
}

static void
queue_outgoing (FlowManualSignaling *self,
                Kind                 kind,
                GBytes              *data)
{
  queue_event (self, EVENT_OUTGOING, encode (kind, self->room, self->peer, data), NULL);
}

static void
clear_events (FlowManualSignaling *self)
{
  g_queue_clear_full (&self->events, (GDestroyNotify) event_free);
  if (self->idle != NULL)
    {
      g_source_destroy (self->idle);
      g_clear_pointer (&self->idle, g_source_unref);
    }
}

/* ---------------------------------------------------------------------
 * FlowSignaling
 * --------------------------------------------------------------------- */

static FlowSignalingState
flow_manual_signaling_get_state (FlowSignaling *signaling)
{
  return FLOW_MANUAL_SIGNALING (signaling)->state;
}

static void
flow_manual_signaling_join (FlowSignaling *signaling,
                            const char    *room,
                            const char    *peer)
{
  FlowManualSignaling *self = FLOW_MANUAL_SIGNALING (signaling);

  g_return_if_fail (self->state == FLOW_SIGNALING_IDLE || self->state == FLOW_SIGNALING_FAILED);

  clear_events (self);
  g_free (self->room);
  self->room = g_strdup (room);
  g_free (self->peer);
  self->peer = g_strdup (peer);
  g_clear_pointer (&self->remote, g_free);
  self->state = FLOW_SIGNALING_JOINING;

  queue_event (self, EVENT_JOINED, NULL, NULL);
  queue_outgoing (self, KIND_HELLO, NULL);
}

static void
flow_manual_signaling_leave (FlowSignaling *signaling)
{
  FlowManualSignaling *self = FLOW_MANUAL_SIGNALING (signaling);

  clear_events (self);
  g_clear_pointer (&self->remote, g_free);
  self->state = FLOW_SIGNALING_IDLE;
}

static void
flow_manual_signaling_send_signal (FlowSignaling *signaling,
                                   const char    *to,
                                   GBytes        *data)
{
  FlowManualSignaling *self = FLOW_MANUAL_SIGNALING (signaling);

  if (self->state != FLOW_SIGNALING_JOINED ||
      (self->remote != NULL && strcmp (to, self->remote) != 0))
    {
      g_debug ("dropping a signal to %s: not joined, or not our peer", to);
      return;
    }

  queue_outgoing (self, KIND_SIGNAL, data);
}

static void
flow_manual_signaling_send_presence (FlowSignaling *signaling,
                                     GBytes        *data)
{
  FlowManualSignaling *self = FLOW_MANUAL_SIGNALING (signaling);

  if (self->state != FLOW_SIGNALING_JOINED)
    {
      g_debug ("not joined; dropping a presence");
      return;
    }

  queue_outgoing (self, KIND_PRESENCE, data);
}

static void
flow_manual_signaling_iface_init (FlowSignalingInterface *iface)
{
  iface->get_state = flow_manual_signaling_get_state;
  iface->join = flow_manual_signaling_join;
  iface->leave = flow_manual_signaling_leave;
  iface->send_signal = flow_manual_signaling_send_signal;
  iface->send_presence = flow_manual_signaling_send_presence;
}

/* ---------------------------------------------------------------------
 * GObject
 * --------------------------------------------------------------------- */

static void
flow_manual_signaling_dispose (GObject *object)
{
  FlowManualSignaling *self = FLOW_MANUAL_SIGNALING (object);

  clear_events (self);

  G_OBJECT_CLASS (flow_manual_signaling_parent_class)->dispose (object);
}

static void
flow_manual_signaling_finalize (GObject *object)
{
  FlowManualSignaling *self = FLOW_MANUAL_SIGNALING (object);

  g_free (self->room);
  g_free (self->peer);
  g_free (self->remote);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (flow_manual_signaling_parent_class)->finalize (object);
}

static void
flow_manual_signaling_class_init (FlowManualSignalingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_manual_signaling_dispose;
  object_class->finalize = flow_manual_signaling_finalize;

  /**
   * FlowManualSignaling::outgoing:
   * @text: one line of printable ASCII, without spaces
   *
   * A text the owner must deliver to the other peer's
   * flow_manual_signaling_receive(), in order.
   */
  signals[OUTGOING] =
    g_signal_new ("outgoing", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
flow_manual_signaling_init (FlowManualSignaling *self)
{
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->events);
}

/* ---------------------------------------------------------------------
 * public API
 * --------------------------------------------------------------------- */

/**
 * flow_manual_signaling_new:
 *
 * Returns: (transfer full): a new #FlowSignaling whose messages are texts
 *   carried by the owner (#FlowManualSignaling::outgoing)
 */
FlowSignaling *
flow_manual_signaling_new (void)
{
  return g_object_new (FLOW_TYPE_MANUAL_SIGNALING, NULL);
}

/* Makes @peer our peer if it is not yet: the first text from the other
 * side, or the first one after it restarted with a new peer id. */
static void
meet (FlowManualSignaling *self,
      const char          *peer)
{
  if (g_strcmp0 (self->remote, peer) == 0)
    return;
  if (self->remote != NULL)
    queue_event (self, EVENT_PEER_LEFT, g_steal_pointer (&self->remote), NULL);
  self->remote = g_strdup (peer);
  queue_event (self, EVENT_PEER_JOINED, g_strdup (peer), NULL);
}

/**
 * flow_manual_signaling_receive:
 * @text: a text from the other peer's #FlowManualSignaling::outgoing
 *
 * Takes in one text. The signals it causes follow from the main loop.
 * Refused texts change nothing.
 *
 * Returns: %FALSE with @error set if @text is damaged, not a signaling
 *   text, for another room, our own, or if we have not joined
 */
gboolean
flow_manual_signaling_receive (FlowManualSignaling  *self,
                               const char           *text,
                               GError              **error)
{
  g_auto(Envelope) envelope = { 0 };

  g_return_val_if_fail (FLOW_IS_MANUAL_SIGNALING (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->state != FLOW_SIGNALING_JOINING && self->state != FLOW_SIGNALING_JOINED)
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR,
                           FLOW_MANUAL_SIGNALING_ERROR_NOT_JOINED,
                           "Not in a room: join one before pasting the other side's text");
      return FALSE;
    }
  if (!decode (text, &envelope, error))
    return FALSE;
  if (strcmp (envelope.room, self->room) != 0)
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR,
                           FLOW_MANUAL_SIGNALING_ERROR_WRONG_ROOM,
                           "This answer is for a different room");
      return FALSE;
    }
  if (strcmp (envelope.peer, self->peer) == 0)
    {
      g_set_error_literal (error, FLOW_MANUAL_SIGNALING_ERROR,
                           FLOW_MANUAL_SIGNALING_ERROR_OWN_TEXT,
                           "This text came from this side: give it to the other side");
      return FALSE;
    }

  switch (envelope.kind)
    {
    case KIND_HELLO:
      meet (self, envelope.peer);
      break;

    case KIND_SIGNAL:
    case KIND_PRESENCE:
      meet (self, envelope.peer);
      queue_event (self, envelope.kind == KIND_SIGNAL ? EVENT_SIGNAL : EVENT_PRESENCE,
                   g_strdup (envelope.peer), envelope.data);
      break;

    case KIND_BYE:
      if (g_strcmp0 (self->remote, envelope.peer) == 0)
        queue_event (self, EVENT_PEER_LEFT, g_steal_pointer (&self->remote), NULL);
      break;

    default:
      g_assert_not_reached ();
    }

  return TRUE;
}

/**
 * flow_manual_signaling_dup_bye:
 *
 * The text that tells the other side we leave (it sees
 * #FlowSignaling::peer-left). flow_signaling_leave() sends nothing, as no
 * signal follows it: an owner that wants a clean goodbye delivers this
 * text first.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL if not joined
 */
char *
flow_manual_signaling_dup_bye (FlowManualSignaling *self)
{
  g_return_val_if_fail (FLOW_IS_MANUAL_SIGNALING (self), NULL);

  if (self->state != FLOW_SIGNALING_JOINING && self->state != FLOW_SIGNALING_JOINED)
    return NULL;
  return encode (KIND_BYE, self->room, self->peer, NULL);
}
