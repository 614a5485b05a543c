/* flow-chat-panel.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "flow-huddle.h"
#include "flow-workspace.h"

G_BEGIN_DECLS

/* The ids of the desktop notifications: one per kind, so a new one
 * replaces the last instead of piling up. */
#define FLOW_CHAT_NOTIFICATION_MENTION "chat-mention"
#define FLOW_CHAT_NOTIFICATION_JOINED  "huddle-joined"

#define FLOW_TYPE_CHAT_PANEL (flow_chat_panel_get_type ())

G_DECLARE_FINAL_TYPE (FlowChatPanel, flow_chat_panel, FLOW, CHAT_PANEL, GtkWidget)

FlowChatPanel *flow_chat_panel_new               (GSettings      *settings);
void           flow_chat_panel_set_workspace     (FlowChatPanel  *self,
                                                  FlowWorkspace  *workspace);
void           flow_chat_panel_set_huddle        (FlowChatPanel  *self,
                                                  FlowHuddle     *huddle);
FlowDoc       *flow_chat_panel_get_doc           (FlowChatPanel  *self);
gboolean       flow_chat_panel_post              (FlowChatPanel  *self,
                                                  const char     *text,
                                                  GError        **error);
char          *flow_chat_panel_dup_name          (FlowChatPanel  *self);
void           flow_chat_panel_set_open          (FlowChatPanel  *self,
                                                  gboolean        open);
gboolean       flow_chat_panel_get_open          (FlowChatPanel  *self);
guint          flow_chat_panel_get_n_unread      (FlowChatPanel  *self);
guint          flow_chat_panel_get_n_messages    (FlowChatPanel  *self);
GtkLabel      *flow_chat_panel_get_message_label (FlowChatPanel  *self,
                                                  guint           index);
GtkEntry      *flow_chat_panel_get_entry         (FlowChatPanel  *self);
GtkWidget     *flow_chat_panel_get_send_button   (FlowChatPanel  *self);
const char    *flow_chat_panel_get_problem       (FlowChatPanel  *self);

G_END_DECLS
