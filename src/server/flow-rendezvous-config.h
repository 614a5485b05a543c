/* flow-rendezvous-config.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLOW_RENDEZVOUS_CONFIG_GROUP "rendezvous"
#define FLOW_RENDEZVOUS_DEFAULT_CONFIG "/etc/flowsync/rendezvous.conf"

/* How connections are served (docs/rendezvous.md, "Performance"): AUTO is
 * epoll on Linux without TLS, soup otherwise. */
typedef enum
{
  FLOW_RENDEZVOUS_ENGINE_AUTO,
  FLOW_RENDEZVOUS_ENGINE_SOUP,
  FLOW_RENDEZVOUS_ENGINE_EPOLL,
} FlowRendezvousEngine;

/* Everything the server can be told. Plain fields: the executable fills it
 * from the keyfile and the flags, the app and the tests fill it in code. */
typedef struct
{
  char    *listen;                  /* address to bind, "127.0.0.1", "::" … */
  guint    port;                    /* 0 = pick a free one */
  guint    stun_port;               /* 0 = no STUN responder */
  gboolean stun_enabled;
  char    *tls_cert;                /* PEM files, both or neither */
  char    *tls_key;
  char    *token;                   /* NULL = open server */

  gsize    max_message_size;        /* bytes per incoming frame */
  double   rate;                    /* messages per second per connection */
  double   burst;                   /* token bucket size */
  guint    max_peers_per_room;
  guint    max_rooms;
  guint    max_connections;
  guint    max_connections_per_address;  /* 0 = unlimited */
  guint    handshake_timeout_ms;
  guint    heartbeat_timeout_ms;
  gsize    max_send_queue;          /* bytes queued per connection */
  guint    threads;                 /* worker threads; 1 = run on the caller's context */
  FlowRendezvousEngine engine;
} FlowRendezvousConfig;

FlowRendezvousConfig *flow_rendezvous_config_new          (void);
FlowRendezvousConfig *flow_rendezvous_config_copy         (const FlowRendezvousConfig *config);
void                  flow_rendezvous_config_free         (FlowRendezvousConfig       *config);
gboolean              flow_rendezvous_config_load_keyfile (FlowRendezvousConfig       *config,
                                                           const char                 *path,
                                                           GError                    **error);

gboolean              flow_rendezvous_engine_from_string  (const char                 *name,
                                                           FlowRendezvousEngine       *out);
const char           *flow_rendezvous_engine_to_string    (FlowRendezvousEngine        engine);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowRendezvousConfig, flow_rendezvous_config_free)

G_END_DECLS
