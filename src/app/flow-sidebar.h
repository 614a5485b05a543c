/* flow-sidebar.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "flow-doc.h"
#include "flow-store.h"

G_BEGIN_DECLS

#define FLOW_TYPE_SIDEBAR (flow_sidebar_get_type ())

G_DECLARE_FINAL_TYPE (FlowSidebar, flow_sidebar, FLOW, SIDEBAR, GtkWidget)

GtkWidget *flow_sidebar_new          (void);
void       flow_sidebar_set_catalog  (FlowSidebar *self,
                                      FlowDoc     *catalog);
void       flow_sidebar_select       (FlowSidebar    *self,
                                      const FlowOpId *id);
void       flow_sidebar_set_store    (FlowSidebar    *self,
                                      FlowStore      *store);
void       flow_sidebar_show_tag     (FlowSidebar    *self,
                                      const char     *tag);
void       flow_sidebar_focus_search (FlowSidebar    *self);
void       flow_sidebar_search       (FlowSidebar    *self,
                                      const char     *query);
guint      flow_sidebar_get_n_results (FlowSidebar   *self);
void       flow_sidebar_activate_result (FlowSidebar *self,
                                      guint           index);
guint      flow_sidebar_get_n_rows   (FlowSidebar *self,
                                      gboolean     trash);

G_END_DECLS
