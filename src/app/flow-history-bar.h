/* flow-history-bar.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define FLOW_TYPE_HISTORY_BAR (flow_history_bar_get_type ())

G_DECLARE_FINAL_TYPE (FlowHistoryBar, flow_history_bar, FLOW, HISTORY_BAR, GtkWidget)

GtkWidget *flow_history_bar_new           (gboolean        with_time_lapse,
                                           const char     *preview_note);
void       flow_history_bar_set_revealed  (FlowHistoryBar *self,
                                           gboolean        revealed);
gboolean   flow_history_bar_get_revealed  (FlowHistoryBar *self);
void       flow_history_bar_set_total     (FlowHistoryBar *self,
                                           guint64         total);
void       flow_history_bar_set_position  (FlowHistoryBar *self,
                                           guint64         position);
guint64    flow_history_bar_get_position  (FlowHistoryBar *self);
void       flow_history_bar_stop          (FlowHistoryBar *self);

G_END_DECLS
