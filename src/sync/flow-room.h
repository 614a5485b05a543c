/* flow-room.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "flow-link.h"
#include "flow-signaling.h"
#include "flow-sync-clock.h"
#include "flow-sync-crypto.h"
#include "flow-sync-frame.h"
#include "flow-workspace.h"

G_BEGIN_DECLS

#define FLOW_TYPE_ROOM (flow_room_get_type ())

G_DECLARE_FINAL_TYPE (FlowRoom, flow_room, FLOW, ROOM, GObject)

/**
 * FlowRoomState:
 * @FLOW_ROOM_OFFLINE: stopped, or the rendezvous is unreachable and no
 *   link is open (a retry is scheduled)
 * @FLOW_ROOM_CONNECTING: joining, or members are known but no link is open
 *   yet
 * @FLOW_ROOM_CONNECTED: in the room; flow_room_get_n_connected() peers are
 *   linked (0 when alone)
 */
typedef enum
{
  FLOW_ROOM_OFFLINE,
  FLOW_ROOM_CONNECTING,
  FLOW_ROOM_CONNECTED,
} FlowRoomState;

#define FLOW_TYPE_ROOM_STATE (flow_room_state_get_type ())
GType flow_room_state_get_type (void) G_GNUC_CONST;

/* Creates the link to one peer; @controlling is TRUE on the offering
 * side. */
typedef FlowLink *(*FlowLinkFactory) (gboolean  controlling,
                                      gpointer  user_data);

/**
 * FlowRoomPeer:
 *
 * What the room knows of one other member; a snapshot, see
 * flow_room_list_peers().
 */
typedef struct
{
  char          *id;
  char          *name;        /* nullable until the peer said who it is */
  guint32        color;       /* 0xRRGGBBAA */
  FlowReplicaId  replica;     /* 0 until HELLO */
  gboolean       connected;   /* a link is open */
  gboolean       has_presence;
  FlowSyncFrame  presence;    /* PRESENCE frame, valid if @has_presence */
} FlowRoomPeer;

/* The largest full mesh: beyond it a peer links to the first 15 others it
 * sees and relies on forwarding for the rest. */
#define FLOW_ROOM_MAX_LINKS 15

FlowRoom      *flow_room_new                (FlowWorkspace         *workspace,
                                             const guint8           key[FLOW_SYNC_KEY_BYTES],
                                             FlowSignaling         *signaling,
                                             FlowLinkFactory        link_factory,
                                             gpointer               user_data,
                                             GDestroyNotify         destroy);
void           flow_room_set_clock          (FlowRoom              *self,
                                             FlowSyncClock         *clock);
void           flow_room_set_seed           (FlowRoom              *self,
                                             guint32                seed);
void           flow_room_set_max_batch_bytes (FlowRoom             *self,
                                             gsize                  bytes);
void           flow_room_set_profile        (FlowRoom              *self,
                                             const char            *name,
                                             guint32                color);
gboolean       flow_room_start              (FlowRoom              *self,
                                             GError               **error);
void           flow_room_stop               (FlowRoom              *self);
void           flow_room_close              (FlowRoom              *self);
FlowWorkspace *flow_room_get_workspace      (FlowRoom              *self);
const char    *flow_room_get_id             (FlowRoom              *self);
const char    *flow_room_get_peer_id        (FlowRoom              *self);
FlowRoomState  flow_room_get_state          (FlowRoom              *self);
guint          flow_room_get_n_connected    (FlowRoom              *self);
gboolean       flow_room_get_has_unshared   (FlowRoom              *self);
GPtrArray     *flow_room_list_peers         (FlowRoom              *self);
gboolean       flow_room_set_presence       (FlowRoom              *self,
                                             const FlowSyncFrame   *presence,
                                             GError               **error);
void           flow_room_clear_presence     (FlowRoom              *self);
gboolean       flow_room_send_chat          (FlowRoom              *self,
                                             const char            *text,
                                             GError               **error);
void           flow_room_peer_free          (FlowRoomPeer          *peer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowRoomPeer, flow_room_peer_free)

G_END_DECLS
