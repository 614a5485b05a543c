/* flow-window.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "flow-application.h"
#include "flow-huddle.h"
#include "flow-workspace.h"

G_BEGIN_DECLS

#define FLOW_TYPE_WINDOW (flow_window_get_type ())

G_DECLARE_FINAL_TYPE (FlowWindow, flow_window, FLOW, WINDOW, AdwApplicationWindow)

FlowWindow    *flow_window_new               (FlowApplication *app);
void           flow_window_open              (FlowWindow      *self,
                                              const char      *path,
                                              gboolean         create);
void           flow_window_open_or_create    (FlowWindow      *self,
                                              const char      *path,
                                              gboolean         create_if_missing);
const char    *flow_window_get_path          (FlowWindow      *self);
FlowWorkspace *flow_window_get_workspace     (FlowWindow      *self);
void           flow_window_open_document     (FlowWindow      *self,
                                              const FlowOpId  *id);
void           flow_window_import_file       (FlowWindow      *self,
                                              GFile           *file);
GtkWidget     *flow_window_get_current_view  (FlowWindow      *self);
void           flow_window_show_error        (FlowWindow      *self,
                                              const char      *message);
void           flow_window_join              (FlowWindow      *self,
                                              const char      *link);
FlowHuddle    *flow_window_get_huddle        (FlowWindow      *self);

G_END_DECLS
