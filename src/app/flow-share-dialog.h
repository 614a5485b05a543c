/* flow-share-dialog.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "flow-huddle.h"

G_BEGIN_DECLS

#define FLOW_TYPE_SHARE_DIALOG (flow_share_dialog_get_type ())

G_DECLARE_FINAL_TYPE (FlowShareDialog, flow_share_dialog, FLOW, SHARE_DIALOG, AdwWindow)

FlowShareDialog *flow_share_dialog_new             (GtkWindow       *parent,
                                                    FlowHuddle      *huddle,
                                                    GSettings       *settings);
const char      *flow_share_dialog_get_link        (FlowShareDialog *self);
guint            flow_share_dialog_get_qr_modules  (FlowShareDialog *self);
const char      *flow_share_dialog_get_status      (FlowShareDialog *self);

G_END_DECLS
