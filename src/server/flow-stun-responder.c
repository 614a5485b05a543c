/* flow-stun-responder.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* A STUN binding responder (RFC 5389) on one UDP socket, so a single
 * flowsync-rendezvous gives peers both rendezvous and their server-reflexive
 * address. We use only libnice's STUN message library, never a NiceAgent.
 * Anything that is not a well-formed binding request is dropped silently:
 * answering garbage would make us a reflector. */

#define G_LOG_DOMAIN "flow-rendezvous"

#include "config.h"

#include <stun/stunagent.h>
#include <stun/usages/bind.h>

#include "flow-stun-responder-private.h"

/* Datagrams handled per wake-up, so a flood cannot starve the WebSockets. */
#define MAX_DATAGRAMS_PER_TURN 64

struct _FlowStunResponder
{
  GSocket   *socket;
  GSource   *source;
  StunAgent  agent;
  guint64    requests;
  guint      port;
};

static void
handle_datagram (FlowStunResponder *self,
                 const guint8      *buf,
                 gsize              len,
                 GSocketAddress    *from)
{
  StunMessage request;
  StunMessage response;
  guint8 out[512];
  struct sockaddr_storage ss;
  gsize out_len;

  if (stun_agent_validate (&self->agent, &request, buf, len, NULL, NULL) != STUN_VALIDATION_SUCCESS)
    return;
  if (stun_message_get_class (&request) != STUN_REQUEST ||
      stun_message_get_method (&request) != STUN_BINDING)
    return;
  if (!g_socket_address_to_native (from, &ss, sizeof ss, NULL))
    return;
  if (!stun_agent_init_response (&self->agent, &response, out, sizeof out, &request))
    return;
  if (stun_message_append_xor_addr (&response, STUN_ATTRIBUTE_XOR_MAPPED_ADDRESS, &ss,
                                    g_socket_address_get_native_size (from)) != STUN_MESSAGE_RETURN_SUCCESS)
    return;
  out_len = stun_agent_finish_message (&self->agent, &response, NULL, 0);
  if (out_len == 0)
    return;

  self->requests++;
  /* A full socket buffer drops the answer; the client retransmits. */
  g_socket_send_to (self->socket, from, (const char *) out, out_len, NULL, NULL);
}

static gboolean
socket_readable_cb (GSocket      *socket,
                    GIOCondition  condition,
                    gpointer      user_data)
{
  FlowStunResponder *self = user_data;

  for (guint i = 0; i < MAX_DATAGRAMS_PER_TURN; i++)
    {
      g_autoptr(GSocketAddress) from = NULL;
      guint8 buf[1500];
      gssize n;

      n = g_socket_receive_from (socket, &from, (char *) buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        break;
      if (from != NULL)
        handle_datagram (self, buf, n, from);
    }

  return G_SOURCE_CONTINUE;
}

/**
 * flow_stun_responder_new:
 * @address: the address to bind
 * @port: the UDP port, or 0 for a free one
 * @error: return location for a #GError
 *
 * Binds the socket and answers binding requests on the thread-default main
 * context until freed.
 *
 * Returns: (transfer full) (nullable): the responder, or %NULL on error.
 */
FlowStunResponder *
flow_stun_responder_new (GInetAddress  *address,
                         guint          port,
                         GError       **error)
{
  static const uint16_t known_attributes[] = { 0 };
  g_autoptr(FlowStunResponder) self = g_new0 (FlowStunResponder, 1);
  g_autoptr(GSocketAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  self->socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_DATAGRAM,
                               G_SOCKET_PROTOCOL_UDP, error);
  if (self->socket == NULL)
    return NULL;
  g_socket_set_blocking (self->socket, FALSE);

  bind_address = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (self->socket, bind_address, TRUE, error))
    return NULL;
  local = g_socket_get_local_address (self->socket, error);
  if (local == NULL)
    return NULL;
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  stun_agent_init (&self->agent, known_attributes, STUN_COMPATIBILITY_RFC5389,
                   STUN_AGENT_USAGE_IGNORE_CREDENTIALS);

  self->source = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->source, G_SOURCE_FUNC (socket_readable_cb), self, NULL);
  g_source_attach (self->source, g_main_context_get_thread_default ());

  return g_steal_pointer (&self);
}

guint
flow_stun_responder_get_port (FlowStunResponder *self)
{
  return self->port;
}

guint64
flow_stun_responder_get_requests (FlowStunResponder *self)
{
  return self->requests;
}

void
flow_stun_responder_free (FlowStunResponder *self)
{
  if (self == NULL)
    return;
  if (self->source != NULL)
    g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
  if (self->socket != NULL)
    g_socket_close (self->socket, NULL);
  g_clear_object (&self->socket);
  g_free (self);
}
