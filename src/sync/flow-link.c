/* flow-link.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define G_LOG_DOMAIN "flow-link"

#include "config.h"

#include "flow-link.h"

G_DEFINE_INTERFACE (FlowLink, flow_link, G_TYPE_OBJECT)

enum {
  DESCRIPTION_READY,
  OPENED,
  RECEIVED,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
flow_link_default_init (FlowLinkInterface *iface)
{
  signals[DESCRIPTION_READY] =
    g_signal_new ("description-ready", G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[OPENED] =
    g_signal_new ("opened", G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[RECEIVED] =
    g_signal_new ("received", G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                  1, G_TYPE_BYTES);
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_INTERFACE (iface),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE,
                  1, G_TYPE_STRING);
}

FlowLinkState
flow_link_get_state (FlowLink *self)
{
  g_return_val_if_fail (FLOW_IS_LINK (self), FLOW_LINK_CLOSED);

  return FLOW_LINK_GET_IFACE (self)->get_state (self);
}

/**
 * flow_link_dup_local_description:
 *
 * Returns: (transfer full) (nullable): the description to send to the
 *   other side, or %NULL before #FlowLink::description-ready
 */
char *
flow_link_dup_local_description (FlowLink *self)
{
  g_return_val_if_fail (FLOW_IS_LINK (self), NULL);

  return FLOW_LINK_GET_IFACE (self)->dup_local_description (self);
}

gboolean
flow_link_set_remote_description (FlowLink    *self,
                                  const char  *description,
                                  GError     **error)
{
  g_return_val_if_fail (FLOW_IS_LINK (self), FALSE);
  g_return_val_if_fail (description != NULL, FALSE);

  return FLOW_LINK_GET_IFACE (self)->set_remote_description (self, description, error);
}

/**
 * flow_link_send:
 * @data: bytes to append to the stream
 *
 * Queues @data. Callers coalesce: one call per main-loop turn, not one per
 * frame (PLATFORM.md: libnice stalls on bursts of tiny writes).
 *
 * Returns: %FALSE if the link is not open or cannot take the bytes
 */
gboolean
flow_link_send (FlowLink  *self,
                GBytes    *data,
                GError   **error)
{
  g_return_val_if_fail (FLOW_IS_LINK (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  return FLOW_LINK_GET_IFACE (self)->send (self, data, error);
}

/**
 * flow_link_close:
 * @reason: why, for the logs
 *
 * Closes the link. #FlowLink::closed follows from the main loop (unless it
 * was already emitted). Safe to call in any state and more than once.
 */
void
flow_link_close (FlowLink   *self,
                 const char *reason)
{
  g_return_if_fail (FLOW_IS_LINK (self));

  FLOW_LINK_GET_IFACE (self)->close (self, reason != NULL ? reason : "closed");
}

void
flow_link_emit_description_ready (FlowLink *self)
{
  g_signal_emit (self, signals[DESCRIPTION_READY], 0);
}

void
flow_link_emit_opened (FlowLink *self)
{
  g_signal_emit (self, signals[OPENED], 0);
}

void
flow_link_emit_received (FlowLink *self,
                         GBytes   *data)
{
  g_signal_emit (self, signals[RECEIVED], 0, data);
}

void
flow_link_emit_closed (FlowLink   *self,
                       const char *reason)
{
  g_signal_emit (self, signals[CLOSED], 0, reason);
}
