/* flow-link.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define FLOW_TYPE_LINK (flow_link_get_type ())

G_DECLARE_INTERFACE (FlowLink, flow_link, FLOW, LINK, GObject)

/**
 * FlowLinkState:
 * @FLOW_LINK_NEW: created; the local description may not be ready yet
 * @FLOW_LINK_CONNECTING: both descriptions are known, the transport is
 *   being established (ICE checks)
 * @FLOW_LINK_OPEN: bytes flow; flow_link_send() may be called
 * @FLOW_LINK_CLOSED: closed for good, by either side or by failure
 *
 * States only move forward.
 */
typedef enum
{
  FLOW_LINK_NEW,
  FLOW_LINK_CONNECTING,
  FLOW_LINK_OPEN,
  FLOW_LINK_CLOSED,
} FlowLinkState;

/**
 * FlowLinkInterface:
 *
 * A FlowLink is one ordered, reliable byte stream to one peer, without
 * encryption or framing: the peer layer puts the crypto (flow-sync-crypto.h)
 * and the frames (flow-sync-frame.h) on top. Two implementations exist: ICE
 * through libnice (flow-link-nice.h) and an in-memory link with injected
 * faults for tests and the simulation (flow-link-memory.h).
 *
 * Setting one up takes one exchange of descriptions through signaling: each
 * side creates its link (one side "controlling"), waits for
 * #FlowLink::description-ready, sends flow_link_dup_local_description() to
 * the other side, and passes what it receives to
 * flow_link_set_remote_description(). A description is a short printable
 * string (for ICE: ufrag, password and candidates).
 *
 * Signals are emitted on the thread-default main context that was current
 * when the link was created, never from inside flow_link_send() or
 * flow_link_close().
 *
 * - #FlowLink::description-ready: the local description can now be read
 *   (may be emitted during construction's first main-loop turn).
 * - #FlowLink::opened: the state became %FLOW_LINK_OPEN.
 * - #FlowLink::received (GBytes *data): bytes arrived, in order; chunk
 *   boundaries carry no meaning.
 * - #FlowLink::closed (const char *reason): the state became
 *   %FLOW_LINK_CLOSED; emitted exactly once, also after flow_link_close().
 */
struct _FlowLinkInterface
{
  GTypeInterface parent_iface;

  FlowLinkState (*get_state)                (FlowLink    *self);
  char         *(*dup_local_description)    (FlowLink    *self);
  gboolean      (*set_remote_description)   (FlowLink    *self,
                                             const char  *description,
                                             GError     **error);
  gboolean      (*send)                     (FlowLink    *self,
                                             GBytes      *data,
                                             GError     **error);
  void          (*close)                    (FlowLink    *self,
                                             const char  *reason);
};

FlowLinkState  flow_link_get_state              (FlowLink    *self);
char          *flow_link_dup_local_description  (FlowLink    *self);
gboolean       flow_link_set_remote_description (FlowLink    *self,
                                                 const char  *description,
                                                 GError     **error);
gboolean       flow_link_send                   (FlowLink    *self,
                                                 GBytes      *data,
                                                 GError     **error);
void           flow_link_close                  (FlowLink    *self,
                                                 const char  *reason);

/* For implementations: emit the interface's signals. */
void           flow_link_emit_description_ready (FlowLink    *self);
void           flow_link_emit_opened            (FlowLink    *self);
void           flow_link_emit_received          (FlowLink    *self,
                                                 GBytes      *data);
void           flow_link_emit_closed            (FlowLink    *self,
                                                 const char  *reason);

G_END_DECLS
