/* flow-page-view.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "flow-doc.h"

G_BEGIN_DECLS

#define FLOW_TYPE_PAGE_VIEW (flow_page_view_get_type ())

G_DECLARE_FINAL_TYPE (FlowPageView, flow_page_view, FLOW, PAGE_VIEW, GtkWidget)

FlowPageView  *flow_page_view_new         (FlowDoc      *page);
FlowDoc       *flow_page_view_get_doc     (FlowPageView *self);
GtkTextBuffer *flow_page_view_get_buffer  (FlowPageView *self);

G_END_DECLS
