/* flow-application.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define FLOW_TYPE_APPLICATION (flow_application_get_type ())

G_DECLARE_FINAL_TYPE (FlowApplication, flow_application, FLOW, APPLICATION, AdwApplication)

FlowApplication *flow_application_new           (void);
GSettings       *flow_application_get_settings  (FlowApplication *self);
char            *flow_application_dup_workspace_title (FlowApplication *self,
                                                       const char      *path);
void             flow_application_set_workspace_title (FlowApplication *self,
                                                       const char      *path,
                                                       const char      *title);
void             flow_application_add_recent    (FlowApplication *self,
                                                 const char      *path);
void             flow_application_open_path     (FlowApplication *self,
                                                 const char      *path,
                                                 gboolean         create);

G_END_DECLS
