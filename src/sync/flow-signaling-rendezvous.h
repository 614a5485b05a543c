/* flow-signaling-rendezvous.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "flow-signaling.h"

G_BEGIN_DECLS

/* The port a flowsync-rendezvous listens on when the invite link names
 * none (docs/rendezvous.md, "Running"). */
#define FLOW_RENDEZVOUS_DEFAULT_PORT 8443

#define FLOW_TYPE_RENDEZVOUS_SIGNALING (flow_rendezvous_signaling_get_type ())

G_DECLARE_FINAL_TYPE (FlowRendezvousSignaling, flow_rendezvous_signaling, FLOW, RENDEZVOUS_SIGNALING, GObject)

FlowSignaling *flow_rendezvous_signaling_new                    (const char              *url,
                                                                 const char              *token);
void           flow_rendezvous_signaling_set_accept_certificate (FlowRendezvousSignaling *self,
                                                                 GTlsCertificate         *certificate);
guint          flow_rendezvous_signaling_get_heartbeat_interval (FlowRendezvousSignaling *self);
void           flow_rendezvous_signaling_set_heartbeat_interval (FlowRendezvousSignaling *self,
                                                                 guint                    seconds);

char          *flow_rendezvous_url_for_host                     (const char              *host,
                                                                 guint16                  port,
                                                                 gboolean                 tls);

char          *flow_rendezvous_url_for_invite                   (const char              *host,
                                                                 guint16                  port);

/* Shared with flow-signaling-manual.c. */
GBytes        *flow_signaling_decode_base64                     (const char              *text,
                                                                 gsize                    len);

G_END_DECLS
