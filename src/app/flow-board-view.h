/* flow-board-view.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "flow-canvas.h"

G_BEGIN_DECLS

#define FLOW_TYPE_BOARD_VIEW (flow_board_view_get_type ())

G_DECLARE_FINAL_TYPE (FlowBoardView, flow_board_view, FLOW, BOARD_VIEW, GtkWidget)

GtkWidget  *flow_board_view_new         (FlowDoc       *board);
FlowCanvas *flow_board_view_get_canvas  (FlowBoardView *self);
void        flow_board_view_set_doc     (FlowBoardView *self,
                                         FlowDoc       *board);

/* Presence: see flow-canvas-presence.c and flow-remote-presence.h.
 * Signals: "pointer-moved" (double x, double y, double zoom, const char
 * *tool), our pointer in board coordinates, for the huddle to send as
 * PRESENCE (it rate-limits); "follow-stopped" (). */
void        flow_board_view_set_remote_presence (FlowBoardView *self,
                                                 GPtrArray     *presences);
void        flow_board_view_follow      (FlowBoardView *self,
                                         const char    *peer_id);
const char *flow_board_view_get_followed (FlowBoardView *self);

G_END_DECLS
