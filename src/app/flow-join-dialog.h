/* flow-join-dialog.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define FLOW_TYPE_JOIN_DIALOG (flow_join_dialog_get_type ())

G_DECLARE_FINAL_TYPE (FlowJoinDialog, flow_join_dialog, FLOW, JOIN_DIALOG, AdwWindow)

FlowJoinDialog *flow_join_dialog_new        (GtkWindow      *parent);
void            flow_join_dialog_set_link   (FlowJoinDialog *self,
                                             const char     *link);
gboolean        flow_join_dialog_submit     (FlowJoinDialog *self);
const char     *flow_join_dialog_get_error  (FlowJoinDialog *self);

G_END_DECLS
