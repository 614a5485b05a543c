/* flow-rendezvous-server.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "flow-rendezvous-config.h"

G_BEGIN_DECLS

#define FLOW_RENDEZVOUS_SUBPROTOCOL "flowsync-rendezvous.v1"

#define FLOW_TYPE_RENDEZVOUS_SERVER (flow_rendezvous_server_get_type ())

G_DECLARE_FINAL_TYPE (FlowRendezvousServer, flow_rendezvous_server, FLOW, RENDEZVOUS_SERVER, GObject)

FlowRendezvousServer *flow_rendezvous_server_new                  (const FlowRendezvousConfig *config);
gboolean              flow_rendezvous_server_start                (FlowRendezvousServer       *self,
                                                                   GError                    **error);
void                  flow_rendezvous_server_stop                 (FlowRendezvousServer       *self);
guint                 flow_rendezvous_server_get_port             (FlowRendezvousServer       *self);
guint                 flow_rendezvous_server_get_stun_port        (FlowRendezvousServer       *self);
guint                 flow_rendezvous_server_get_n_connections    (FlowRendezvousServer       *self);
guint                 flow_rendezvous_server_get_n_rooms          (FlowRendezvousServer       *self);
guint64               flow_rendezvous_server_get_messages_relayed (FlowRendezvousServer       *self);
guint64               flow_rendezvous_server_get_bytes_relayed    (FlowRendezvousServer       *self);
guint64               flow_rendezvous_server_get_rejections       (FlowRendezvousServer       *self,
                                                                   const char                 *reason);
gsize                 flow_rendezvous_server_get_retained_bytes   (FlowRendezvousServer       *self);
char                 *flow_rendezvous_server_dup_metrics          (FlowRendezvousServer       *self);

G_END_DECLS
