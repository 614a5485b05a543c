/* flow-board-page.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "flow-board-view.h"
#include "flow-render.h"

G_BEGIN_DECLS

#define FLOW_TYPE_BOARD_PAGE (flow_board_page_get_type ())

G_DECLARE_FINAL_TYPE (FlowBoardPage, flow_board_page, FLOW, BOARD_PAGE, GtkWidget)

FlowBoardPage *flow_board_page_new             (FlowDoc       *board);
FlowBoardView *flow_board_page_get_view        (FlowBoardPage *self);
FlowDoc       *flow_board_page_get_doc         (FlowBoardPage *self);
void           flow_board_page_show_history    (FlowBoardPage *self,
                                                gboolean       show);
gboolean       flow_board_page_preview_version (FlowBoardPage *self,
                                                guint64        n_ops);
gboolean       flow_board_page_restore_preview (FlowBoardPage *self,
                                                GError       **error);
GBytes        *flow_board_page_export          (FlowBoardPage    *self,
                                                FlowExportFormat  format,
                                                gboolean          selection,
                                                GError          **error);

G_END_DECLS
