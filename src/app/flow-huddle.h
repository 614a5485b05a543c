/* flow-huddle.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "flow-remote-presence.h"
#include "flow-room.h"
#include "flow-workspace.h"

G_BEGIN_DECLS

/**
 * FlowHuddleVia:
 * @FLOW_HUDDLE_VIA_SERVER: the rendezvous server of the `rendezvous-url`
 *   setting introduces the participants
 * @FLOW_HUDDLE_VIA_NETWORK: a rendezvous server inside the app, on a LAN
 *   address that the link carries
 *
 * Where a hosted huddle is introduced.
 */
typedef enum
{
  FLOW_HUDDLE_VIA_SERVER,
  FLOW_HUDDLE_VIA_NETWORK,
} FlowHuddleVia;

#define FLOW_TYPE_HUDDLE (flow_huddle_get_type ())

G_DECLARE_FINAL_TYPE (FlowHuddle, flow_huddle, FLOW, HUDDLE, GObject)

FlowHuddle    *flow_huddle_new                (FlowWorkspace        *workspace,
                                               GSettings            *settings);
void           flow_huddle_host_async         (FlowHuddle           *self,
                                               FlowHuddleVia         via,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
void           flow_huddle_reset_link_async   (FlowHuddle           *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean       flow_huddle_host_finish        (FlowHuddle           *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void           flow_huddle_join_async         (FlowHuddle           *self,
                                               const char           *link,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
gboolean       flow_huddle_join_finish        (FlowHuddle           *self,
                                               GAsyncResult         *result,
                                               GError              **error);
void           flow_huddle_set_workspace_title (FlowHuddle          *self,
                                                const char          *title,
                                                gboolean             personal);
void           flow_huddle_stop               (FlowHuddle           *self);
gboolean       flow_huddle_is_active          (FlowHuddle           *self);
gboolean       flow_huddle_is_hosting         (FlowHuddle           *self);
FlowHuddleVia  flow_huddle_get_via            (FlowHuddle           *self);
FlowRoomState  flow_huddle_get_state          (FlowHuddle           *self);
guint          flow_huddle_get_n_connected    (FlowHuddle           *self);
const char    *flow_huddle_get_link           (FlowHuddle           *self);
const char    *flow_huddle_get_problem        (FlowHuddle           *self);
FlowRoom      *flow_huddle_get_room           (FlowHuddle           *self);
GPtrArray     *flow_huddle_list_participants  (FlowHuddle           *self);
void           flow_huddle_set_document       (FlowHuddle           *self,
                                               const FlowOpId       *doc);
void           flow_huddle_set_pointer        (FlowHuddle           *self,
                                               double                x,
                                               double                y,
                                               double                zoom,
                                               const char           *tool);
void           flow_huddle_set_selection      (FlowHuddle           *self,
                                               guint                 anchor,
                                               guint                 cursor);
gboolean       flow_huddle_get_has_unshared   (FlowHuddle           *self);
GPtrArray     *flow_huddle_presence_for_doc   (GPtrArray            *participants,
                                               const FlowOpId       *doc);

gboolean       flow_huddle_loopback           (void);
char          *flow_huddle_path_for_link      (const char           *link,
                                               GError              **error);

G_END_DECLS
