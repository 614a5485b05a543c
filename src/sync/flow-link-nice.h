/* flow-link-nice.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-link.h"

G_BEGIN_DECLS

/**
 * FlowIceConfig:
 * @stun_host: STUN server (IP address or host name), or %NULL for none
 * @stun_port: its UDP port
 * @turn_host: TURN server (IP address or host name), or %NULL for none;
 *   the allocation is made over UDP
 * @turn_port: its UDP port
 * @turn_username: long-term credential user name (nullable)
 * @turn_password: long-term credential password (nullable)
 * @relay_only: offer and use relay candidates only (privacy: the peer never
 *   learns our addresses; tests: proves the relay path)
 * @loopback_only: gather candidates on 127.0.0.1 only (tests)
 * @connect_timeout_ms: how long the link may stay %FLOW_LINK_CONNECTING
 *   before it closes; 0 means the default (30 s)
 *
 * The ICE settings of a #FlowNiceLink. The preferences hold them as the
 * `stun-server`, `turn-server`, `turn-username` and `turn-password` keys
 * (see flow_ice_config_parse_server()).
 */
typedef struct
{
  char     *stun_host;
  guint16   stun_port;
  char     *turn_host;
  guint16   turn_port;
  char     *turn_username;
  char     *turn_password;
  gboolean  relay_only;
  gboolean  loopback_only;
  guint     connect_timeout_ms;
} FlowIceConfig;

FlowIceConfig *flow_ice_config_new          (void);
FlowIceConfig *flow_ice_config_copy         (const FlowIceConfig  *config);
void           flow_ice_config_free         (FlowIceConfig        *config);
gboolean       flow_ice_config_parse_server (const char           *hostport,
                                             char                **host,
                                             guint16              *port,
                                             GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowIceConfig, flow_ice_config_free)

#define FLOW_TYPE_NICE_LINK (flow_nice_link_get_type ())

G_DECLARE_FINAL_TYPE (FlowNiceLink, flow_nice_link, FLOW, NICE_LINK, GObject)

FlowLink *flow_nice_link_new                     (const FlowIceConfig  *config,
                                                  gboolean              controlling);
FlowLink *flow_nice_link_factory                 (gboolean              controlling,
                                                  gpointer              config);
gboolean  flow_nice_link_get_selected_pair_types (FlowNiceLink         *self,
                                                  const char          **local_type,
                                                  const char          **remote_type);

G_END_DECLS
