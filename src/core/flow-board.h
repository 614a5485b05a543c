/* flow-board.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-doc.h"

G_BEGIN_DECLS

gboolean  flow_board_add_shape    (FlowDoc         *board,
                                   const char      *kind,
                                   double           x,
                                   double           y,
                                   double           width,
                                   double           height,
                                   FlowOpId        *id,
                                   GError         **error);
gboolean  flow_board_move         (FlowDoc         *board,
                                   const FlowOpId  *ids,
                                   guint            n_ids,
                                   double           dx,
                                   double           dy,
                                   GError         **error);
gboolean  flow_board_delete       (FlowDoc         *board,
                                   const FlowOpId  *ids,
                                   guint            n_ids,
                                   GError         **error);
gboolean  flow_board_raise_to_top (FlowDoc         *board,
                                   const FlowOpId  *id,
                                   GError         **error);
gboolean  flow_board_lower_to_bottom (FlowDoc      *board,
                                   const FlowOpId  *id,
                                   GError         **error);
gboolean  flow_board_restore      (FlowDoc         *board,
                                   FlowDoc         *version,
                                   GError         **error);

G_END_DECLS
