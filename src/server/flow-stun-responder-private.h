/* flow-stun-responder-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _FlowStunResponder FlowStunResponder;

FlowStunResponder *flow_stun_responder_new          (GInetAddress      *address,
                                                     guint              port,
                                                     GError           **error);
guint              flow_stun_responder_get_port     (FlowStunResponder *self);
guint64            flow_stun_responder_get_requests (FlowStunResponder *self);
void               flow_stun_responder_free         (FlowStunResponder *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowStunResponder, flow_stun_responder_free)

G_END_DECLS
