/* flow-page-view.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "flow-doc.h"
#include "flow-remote-presence.h"
#include "flow-workspace.h"

G_BEGIN_DECLS

/* The kind "link-activated" reports for a web address (besides the
 * FlowPageLinkKind values). */
#define FLOW_PAGE_LINK_URL 100

#define FLOW_TYPE_PAGE_VIEW (flow_page_view_get_type ())

G_DECLARE_FINAL_TYPE (FlowPageView, flow_page_view, FLOW, PAGE_VIEW, GtkWidget)

FlowPageView  *flow_page_view_new              (FlowDoc      *page);
void           flow_page_view_set_workspace    (FlowPageView  *self,
                                                FlowWorkspace *workspace);
FlowDoc       *flow_page_view_get_doc          (FlowPageView *self);
GtkTextBuffer *flow_page_view_get_buffer       (FlowPageView *self);
GtkTextView   *flow_page_view_get_text_view    (FlowPageView *self);
guint          flow_page_view_get_word_count   (FlowPageView *self);
GListModel    *flow_page_view_get_outline      (FlowPageView *self);
void           flow_page_view_show_history     (FlowPageView *self,
                                                gboolean      show);
gboolean       flow_page_view_preview_version  (FlowPageView *self,
                                                guint64       n_ops);
gboolean       flow_page_view_restore_preview  (FlowPageView *self,
                                                GError      **error);
gboolean       flow_page_view_activate_link_at (FlowPageView *self,
                                                guint         offset);
GBytes        *flow_page_view_export           (FlowPageView  *self,
                                                const char    *format,
                                                GError       **error);
void           flow_page_view_scroll_to_offset (FlowPageView *self,
                                                guint         offset);
void           flow_page_view_show_offset      (FlowPageView *self,
                                                guint         offset);

/* Presence: remote carets and selections (see flow-remote-presence.h);
 * signal "selection-moved" (guint anchor, guint cursor) reports ours. */
void           flow_page_view_set_remote_presence (FlowPageView *self,
                                                   GPtrArray    *presences);
double         flow_page_view_get_remote_flag_alpha (FlowPageView *self,
                                                     const char   *peer_id);
gboolean       flow_page_view_get_remote_caret (FlowPageView *self,
                                                const char   *peer_id,
                                                GdkRectangle *caret,
                                                guint        *n_selection_rects,
                                                GdkRectangle *selection);

G_END_DECLS
