/* flow-sync-memory.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-link.h"
#include "flow-signaling.h"
#include "flow-sync-clock.h"

G_BEGIN_DECLS

/**
 * FlowMemoryFaults:
 * @loss: probability that a chunk written to a link is lost
 * @duplicate: probability that a chunk arrives twice
 * @reorder: probability that a chunk is held back (by up to @reorder_us)
 *   so that later chunks overtake it
 * @latency_us: one-way delay of every chunk and signaling message
 * @jitter_us: a random extra delay in [0, jitter_us)
 * @corrupt: probability that one byte of a chunk is flipped on the way
 *
 * The faults of the in-memory network, applied per chunk (one
 * flow_link_send() call). The links above them are meant to be reliable
 * streams, so any loss, duplicate or reordering is seen by the peer layer
 * as a corrupt stream: it closes the link and reconnects, which is what a
 * real peer does when a stream breaks.
 */
typedef struct
{
  double loss;
  double duplicate;
  double reorder;
  gint64 reorder_us;
  gint64 latency_us;
  gint64 jitter_us;
  double corrupt;
} FlowMemoryFaults;

#define FLOW_TYPE_MEMORY_NET (flow_memory_net_get_type ())

G_DECLARE_FINAL_TYPE (FlowMemoryNet, flow_memory_net, FLOW, MEMORY_NET, GObject)

#define FLOW_TYPE_MEMORY_LINK (flow_memory_link_get_type ())

G_DECLARE_FINAL_TYPE (FlowMemoryLink, flow_memory_link, FLOW, MEMORY_LINK, GObject)

#define FLOW_TYPE_MEMORY_SIGNALING (flow_memory_signaling_get_type ())

G_DECLARE_FINAL_TYPE (FlowMemorySignaling, flow_memory_signaling, FLOW, MEMORY_SIGNALING, GObject)

FlowMemoryNet  *flow_memory_net_new            (FlowSyncClock          *clock,
                                                guint32                 seed);
FlowSyncClock  *flow_memory_net_get_clock      (FlowMemoryNet          *self);
void            flow_memory_net_set_faults     (FlowMemoryNet          *self,
                                                const FlowMemoryFaults *faults);
void            flow_memory_net_set_group      (FlowMemoryNet          *self,
                                                const char             *host,
                                                guint                   group);
void            flow_memory_net_heal           (FlowMemoryNet          *self);
void            flow_memory_net_set_signaling_up (FlowMemoryNet        *self,
                                                gboolean                up);
guint64         flow_memory_net_get_n_delivered (FlowMemoryNet         *self);
guint64         flow_memory_net_get_n_dropped  (FlowMemoryNet          *self);

FlowLink       *flow_memory_link_new           (FlowMemoryNet          *net,
                                                const char             *host,
                                                gboolean                controlling);
FlowSignaling  *flow_memory_signaling_new      (FlowMemoryNet          *net,
                                                const char             *host);

G_END_DECLS
