/* flow-workspace.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "flow-catalog.h"
#include "flow-store.h"

G_BEGIN_DECLS

#define FLOW_TYPE_WORKSPACE (flow_workspace_get_type ())

G_DECLARE_FINAL_TYPE (FlowWorkspace, flow_workspace, FLOW, WORKSPACE, GObject)

char          *flow_workspace_default_path   (void);
FlowWorkspace *flow_workspace_create         (const char      *path,
                                              GError         **error);
FlowWorkspace *flow_workspace_open           (const char      *path,
                                              GError         **error);
void           flow_workspace_open_async     (const char          *path,
                                              gboolean             create,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
FlowWorkspace *flow_workspace_open_finish    (GAsyncResult    *result,
                                              GError         **error);
FlowStore     *flow_workspace_get_store      (FlowWorkspace   *self);
FlowDoc       *flow_workspace_lookup_document (FlowWorkspace  *self,
                                              const FlowOpId  *id);
void           flow_workspace_load_document_async (FlowWorkspace       *self,
                                              const FlowOpId      *id,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
FlowDoc       *flow_workspace_load_document_finish (FlowWorkspace  *self,
                                              GAsyncResult    *result,
                                              GError         **error);
FlowDoc       *flow_workspace_get_catalog    (FlowWorkspace   *self);
FlowDoc       *flow_workspace_new_document   (FlowWorkspace   *self,
                                              FlowDocKind      kind,
                                              const char      *title,
                                              const char      *folder,
                                              GError         **error);
FlowDoc       *flow_workspace_load_document  (FlowWorkspace   *self,
                                              const FlowOpId  *id,
                                              GError         **error);
gboolean       flow_workspace_close          (FlowWorkspace   *self,
                                              GError         **error);

G_END_DECLS
