/* flow-remote-presence.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FlowRemotePresence:
 * @peer_id: the peer's id (FlowRoomPeer.id); never %NULL
 * @name: the name shown on its cursor or caret label
 * @color: the peer's colour, 0xRRGGBBAA
 * @has_viewport: whether @x, @y and @zoom are set
 * @x: boards: the pointer position in board coordinates
 * @y: boards: the pointer position in board coordinates
 * @zoom: boards: the sender's zoom (widget pixels per board unit)
 * @tool: the sender's tool name (flow_canvas_tool_to_string()), or %NULL;
 *   "laser" makes the successive pointer positions a fading trail
 * @has_selection: whether @anchor and @cursor are set
 * @anchor: pages: the fixed end of the selection, in code points
 * @cursor: pages: the caret, in code points (@anchor == @cursor: no
 *   selection, just a caret)
 *
 * What one remote participant shows of itself in one document: a plain
 * copy of the fields of a PRESENCE frame (FlowSyncFrame.presence) with the
 * peer's name and colour, so the widgets need nothing from src/sync.
 *
 * Meaning for boards: the frame's "viewport" x/y is the sender's pointer
 * in board coordinates and its zoom the sender's zoom (see the board
 * view's "pointer-moved" signal). Following a peer centres our view on
 * that pointer at that zoom. Pages use only the selection fields.
 *
 * The widgets take lists of these (a #GPtrArray of FlowRemotePresence *,
 * from flow_remote_presence_list_new()) holding the peers that are
 * looking at the widget's document, and copy what they keep.
 */
typedef struct
{
  char     *peer_id;
  char     *name;
  guint32   color;
  gboolean  has_viewport;
  double    x, y, zoom;
  char     *tool;
  gboolean  has_selection;
  guint     anchor, cursor;
} FlowRemotePresence;

FlowRemotePresence *flow_remote_presence_new       (const char               *peer_id,
                                                    const char               *name,
                                                    guint32                   color);
FlowRemotePresence *flow_remote_presence_copy      (const FlowRemotePresence *presence);
void                flow_remote_presence_free      (FlowRemotePresence       *presence);
GPtrArray          *flow_remote_presence_list_new  (void);
const FlowRemotePresence *
                    flow_remote_presence_list_find (GPtrArray                *list,
                                                    const char               *peer_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowRemotePresence, flow_remote_presence_free)

G_END_DECLS
