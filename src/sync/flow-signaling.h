/* flow-signaling.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define FLOW_TYPE_SIGNALING (flow_signaling_get_type ())

G_DECLARE_INTERFACE (FlowSignaling, flow_signaling, FLOW, SIGNALING, GObject)

/**
 * FlowSignalingState:
 * @FLOW_SIGNALING_IDLE: not joined (before flow_signaling_join(), or after
 *   flow_signaling_leave())
 * @FLOW_SIGNALING_JOINING: join sent, waiting for the answer
 * @FLOW_SIGNALING_JOINED: in the room; signals and presence flow
 * @FLOW_SIGNALING_FAILED: the connection failed or was closed by the other
 *   end; the owner may call flow_signaling_join() again (reconnect)
 */
typedef enum
{
  FLOW_SIGNALING_IDLE,
  FLOW_SIGNALING_JOINING,
  FLOW_SIGNALING_JOINED,
  FLOW_SIGNALING_FAILED,
} FlowSignalingState;

/**
 * FlowSignalingInterface:
 *
 * How the peers of a room find each other: the room's member list and a
 * relay of opaque blobs between members. The blobs are already sealed by
 * the caller (flow-sync-crypto.h); a signaling implementation never looks
 * into them. Implementations: the rendezvous WebSocket client
 * (flow-signaling-rendezvous.h), a manual offer/answer exchange between two
 * peers (flow-signaling-manual.h) and an in-memory hub for the simulation.
 *
 * Peer ids are 1–64 characters of `[A-Za-z0-9_-]`, room ids 1–128 of
 * `[0-9a-f]` (docs/rendezvous.md).
 *
 * Signals, all emitted from the main context the object was created on and
 * never from inside a method call:
 * - #FlowSignaling::joined (GStrv peers): the join succeeded; @peers are the
 *   other members already in the room.
 * - #FlowSignaling::peer-joined (const char *peer)
 * - #FlowSignaling::peer-left (const char *peer)
 * - #FlowSignaling::signal (const char *from, GBytes *data): a blob sent to
 *   us with flow_signaling_send_signal().
 * - #FlowSignaling::presence (const char *from, GBytes *data): a blob one
 *   member sent to all with flow_signaling_send_presence().
 * - #FlowSignaling::failed (const char *message): the join was refused or
 *   the connection is lost; the state is now %FLOW_SIGNALING_FAILED. The
 *   message is for logs and the UI ("Room is full", "Connection refused").
 */
struct _FlowSignalingInterface
{
  GTypeInterface parent_iface;

  FlowSignalingState (*get_state)     (FlowSignaling *self);
  void               (*join)          (FlowSignaling *self,
                                       const char    *room,
                                       const char    *peer);
  void               (*leave)         (FlowSignaling *self);
  void               (*send_signal)   (FlowSignaling *self,
                                       const char    *to,
                                       GBytes        *data);
  void               (*send_presence) (FlowSignaling *self,
                                       GBytes        *data);
};

FlowSignalingState flow_signaling_get_state        (FlowSignaling *self);
void               flow_signaling_join             (FlowSignaling *self,
                                                    const char    *room,
                                                    const char    *peer);
void               flow_signaling_leave            (FlowSignaling *self);
void               flow_signaling_send_signal      (FlowSignaling *self,
                                                    const char    *to,
                                                    GBytes        *data);
void               flow_signaling_send_presence    (FlowSignaling *self,
                                                    GBytes        *data);

/* For implementations. */
void               flow_signaling_emit_joined      (FlowSignaling      *self,
                                                    const char * const *peers);
void               flow_signaling_emit_peer_joined (FlowSignaling      *self,
                                                    const char         *peer);
void               flow_signaling_emit_peer_left   (FlowSignaling      *self,
                                                    const char         *peer);
void               flow_signaling_emit_signal      (FlowSignaling      *self,
                                                    const char         *from,
                                                    GBytes             *data);
void               flow_signaling_emit_presence    (FlowSignaling      *self,
                                                    const char         *from,
                                                    GBytes             *data);
void               flow_signaling_emit_failed      (FlowSignaling      *self,
                                                    const char         *message);

gboolean           flow_signaling_peer_id_is_valid (const char         *peer);
gboolean           flow_signaling_room_id_is_valid (const char         *room);

G_END_DECLS
