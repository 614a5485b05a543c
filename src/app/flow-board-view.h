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

G_END_DECLS
