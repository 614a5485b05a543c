/* flow-signaling.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "flow-signaling"

#include "config.h"

#include <string.h>

#include "flow-signaling.h"

G_DEFINE_INTERFACE (FlowSignaling, flow_signaling, G_TYPE_OBJECT)

enum {
  JOINED,
  PEER_JOINED,
  PEER_LEFT,
  SIGNAL,
  PRESENCE,
  FAILED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
flow_signaling_default_init (FlowSignalingInterface *iface)
{
  GType type = G_TYPE_FROM_INTERFACE (iface);

  signals[JOINED] =
    g_signal_new ("joined", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRV);
  signals[PEER_JOINED] =
    g_signal_new ("peer-joined", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[PEER_LEFT] =
    g_signal_new ("peer-left", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL] =
    g_signal_new ("signal", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BYTES);
  signals[PRESENCE] =
    g_signal_new ("presence", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_BYTES);
  signals[FAILED] =
    g_signal_new ("failed", type, G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

FlowSignalingState
flow_signaling_get_state (FlowSignaling *self)
{
  g_return_val_if_fail (FLOW_IS_SIGNALING (self), FLOW_SIGNALING_FAILED);

  return FLOW_SIGNALING_GET_IFACE (self)->get_state (self);
}

/**
 * flow_signaling_join:
 * @room: the room id (hex, derived from the room key)
 * @peer: our peer id in this room
 *
 * Starts joining. #FlowSignaling::joined or #FlowSignaling::failed follows.
 * Allowed in the IDLE and FAILED states.
 */
void
flow_signaling_join (FlowSignaling *self,
                     const char    *room,
                     const char    *peer)
{
  g_return_if_fail (FLOW_IS_SIGNALING (self));
  g_return_if_fail (flow_signaling_room_id_is_valid (room));
  g_return_if_fail (flow_signaling_peer_id_is_valid (peer));

  FLOW_SIGNALING_GET_IFACE (self)->join (self, room, peer);
}

/**
 * flow_signaling_leave:
 *
 * Leaves the room (the others see #FlowSignaling::peer-left). No signal is
 * emitted to us afterwards.
 */
void
flow_signaling_leave (FlowSignaling *self)
{
  g_return_if_fail (FLOW_IS_SIGNALING (self));

  FLOW_SIGNALING_GET_IFACE (self)->leave (self);
}

/* Blobs sent while not joined are dropped: signaling is best effort and the
 * room layer retries whatever matters. */
void
flow_signaling_send_signal (FlowSignaling *self,
                            const char    *to,
                            GBytes        *data)
{
  g_return_if_fail (FLOW_IS_SIGNALING (self));
  g_return_if_fail (to != NULL);
  g_return_if_fail (data != NULL);

  FLOW_SIGNALING_GET_IFACE (self)->send_signal (self, to, data);
}

void
flow_signaling_send_presence (FlowSignaling *self,
                              GBytes        *data)
{
  g_return_if_fail (FLOW_IS_SIGNALING (self));
  g_return_if_fail (data != NULL);

  FLOW_SIGNALING_GET_IFACE (self)->send_presence (self, data);
}

void
flow_signaling_emit_joined (FlowSignaling      *self,
                            const char * const *peers)
{
  static const char * const none[] = { NULL };

  g_signal_emit (self, signals[JOINED], 0, peers != NULL ? peers : none);
}

void
flow_signaling_emit_peer_joined (FlowSignaling *self,
                                 const char    *peer)
{
  g_signal_emit (self, signals[PEER_JOINED], 0, peer);
}

void
flow_signaling_emit_peer_left (FlowSignaling *self,
                               const char    *peer)
{
  g_signal_emit (self, signals[PEER_LEFT], 0, peer);
}

void
flow_signaling_emit_signal (FlowSignaling *self,
                            const char    *from,
                            GBytes        *data)
{
  g_signal_emit (self, signals[SIGNAL], 0, from, data);
}

void
flow_signaling_emit_presence (FlowSignaling *self,
                              const char    *from,
                              GBytes        *data)
{
  g_signal_emit (self, signals[PRESENCE], 0, from, data);
}

void
flow_signaling_emit_failed (FlowSignaling *self,
                            const char    *message)
{
  g_signal_emit (self, signals[FAILED], 0, message);
}

static gboolean
id_is_valid (const char *id,
             gsize       max,
             gboolean    hex_only)
{
  gsize len;

  if (id == NULL)
    return FALSE;

  len = strlen (id);
  if (len == 0 || len > max)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = id[i];

      if (hex_only ? !g_ascii_isxdigit (c) || g_ascii_isupper (c)
                   : !(g_ascii_isalnum (c) || c == '_' || c == '-'))
        return FALSE;
    }

  return TRUE;
}

gboolean
flow_signaling_peer_id_is_valid (const char *peer)
{
  return id_is_valid (peer, 64, FALSE);
}

gboolean
flow_signaling_room_id_is_valid (const char *room)
{
  return id_is_valid (room, 128, TRUE);
}
