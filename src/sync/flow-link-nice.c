/* flow-link-nice.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* FlowNiceLink: a FlowLink over the one stream of a reliable libnice agent
 * (RFC 5245 connectivity checks, then pseudo-TCP on the selected pair).
 *
 * Life of a link:
 *  1. flow_nice_link_new(): the agent is created on the thread-default main
 *     context. STUN and TURN servers given as host names are resolved first,
 *     then candidates are gathered. Once gathering is done, the local
 *     description (the SDP lines of our stream: ufrag, password, candidates)
 *     is ready. The io stream is read from before gathering on: libnice
 *     processes the answers of STUN and TURN servers, the checks' acks and
 *     pseudo-TCP only while somebody reads (PLATFORM.md).
 *  2. set_remote_description(): CONNECTING; the checks run.
 *  3. The component is READY (or the stream delivers bytes): OPEN. Sent bytes
 *     go through a queue drained with non-blocking writes.
 *  4. close(), end of stream, an I/O error, ICE failure or the connect
 *     timeout: CLOSED. Only a local close() of an open link lingers: what was
 *     queued is still written, then a pseudo-TCP FIN tells the peer (which
 *     reads end of stream), and the agent is released when the peer's FIN
 *     comes back or after LINGER_MS.
 *
 * Every signal is emitted from a main-loop callback on the link's context:
 * description-ready, opened and closed from an idle, received from the read
 * source. The read source first emits a pending opened, so no bytes ever
 * arrive before opened. Agent signal handlers only change our state and
 * schedule; libnice may call them from inside its API (gathering-done from
 * nice_agent_gather_candidates(), state changes from a read).
 */

#define G_LOG_DOMAIN "flow-link-nice"

#include "config.h"

#include <string.h>

#include <nice.h>

#include "flow-link-nice.h"

#define COMPONENT_ID 1
#define DEFAULT_SERVER_PORT 3478
#define DEFAULT_CONNECT_TIMEOUT_MS 30000
/* How long a closed link keeps its agent to flush its queue and exchange
 * FINs with the peer. */
#define LINGER_MS 2000
#define READ_CHUNK (64 * 1024)
/* Bounded work per dispatch, so one busy link cannot starve the main loop;
 * the source stays ready and we continue next turn. */
#define MAX_READS_PER_DISPATCH 64
/* Far above anything the peer layer queues; a caller that goes beyond it is
 * not reading its own back pressure. */
#define MAX_QUEUED_BYTES (64 * 1024 * 1024)
/* A description of ours with a few dozen candidates is about 2 KiB. */
#define MAX_DESCRIPTION_LEN (16 * 1024)

struct _FlowNiceLink
{
  GObject        parent_instance;

  /* Owned */
  GMainContext  *context;
  FlowIceConfig *config;
  NiceAgent     *agent;
  GIOStream     *io_stream;
  GSource       *read_source;
  GSource       *write_source;
  GSource       *emit_source;
  GSource       *timer_source;       /* connect timeout, then the linger */
  GCancellable  *cancellable;        /* name lookups of the servers */
  GQueue         out_queue;          /* GBytes, oldest first */
  gsize          out_offset;         /* bytes of the head already written */
  gsize          out_bytes;          /* queued and not yet written */
  guint8        *read_buffer;
  char          *local_description;
  char          *close_reason;
  char          *server_problem;     /* a server we had to skip, and why */
  char          *stun_ip;
  char          *turn_ip;
  char          *remote_ufrag;       /* parsed remote description, kept */
  char          *remote_pwd;         /* until our gathering is done */
  GSList        *remote_candidates;
  FlowNiceLink  *linger_ref;         /* self, while lingering */
  gint64         connecting_since;

  FlowLinkState  state;
  guint          stream_id;
  guint          pending_lookups;

  guint          controlling : 1;
  guint          gathered : 1;
  guint          remote_set : 1;
  guint          description_pending : 1;
  guint          opened_pending : 1;
  guint          closed_pending : 1;
  guint          lingering : 1;
  guint          write_shut : 1;
};

static void flow_nice_link_iface_init (FlowLinkInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FlowNiceLink, flow_nice_link, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FLOW_TYPE_LINK, flow_nice_link_iface_init))

static void flush_output (FlowNiceLink *self);

/* ---------------------------------------------------------------------
 * FlowIceConfig
 * --------------------------------------------------------------------- */

/**
 * flow_ice_config_new:
 *
 * Returns: (transfer full): an empty configuration: no STUN, no TURN, all
 *   interfaces, the default connect timeout
 */
FlowIceConfig *
flow_ice_config_new (void)
{
  return g_new0 (FlowIceConfig, 1);
}

/**
 * flow_ice_config_copy:
 *
 * Returns: (transfer full): a deep copy of @config
 */
FlowIceConfig *
flow_ice_config_copy (const FlowIceConfig *config)
{
  FlowIceConfig *copy;

  g_return_val_if_fail (config != NULL, NULL);

  copy = g_memdup2 (config, sizeof *config);
  copy->stun_host = g_strdup (config->stun_host);
  copy->turn_host = g_strdup (config->turn_host);
  copy->turn_username = g_strdup (config->turn_username);
  copy->turn_password = g_strdup (config->turn_password);
  return copy;
}

void
flow_ice_config_free (FlowIceConfig *config)
{
  if (config == NULL)
    return;

  g_free (config->stun_host);
  g_free (config->turn_host);
  g_free (config->turn_username);
  if (config->turn_password != NULL)
    memset (config->turn_password, 0, strlen (config->turn_password));
  g_free (config->turn_password);
  g_free (config);
}

/**
 * flow_ice_config_parse_server:
 * @hostport: "host", "host:port", "192.0.2.1:3478", "[2001:db8::1]:3478" or
 *   a bare IPv6 address; surrounding white space is ignored
 * @host: (out) (transfer full): the host name or address, without brackets
 * @port: (out): the port, 3478 when @hostport has none
 *
 * Parses a server setting such as the `stun-server` and `turn-server` keys.
 *
 * Returns: %FALSE with %G_IO_ERROR_INVALID_ARGUMENT when @hostport is empty
 *   or not a host and port
 */
gboolean
flow_ice_config_parse_server (const char  *hostport,
                              char       **host,
                              guint16     *port,
                              GError     **error)
{
  g_autofree char *text = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;

  g_return_val_if_fail (hostport != NULL, FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (port != NULL, FALSE);

  text = g_strstrip (g_strdup (hostport));
  if (*text == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The server address is empty");
      return FALSE;
    }

  address = g_network_address_parse (text, DEFAULT_SERVER_PORT, &local_error);
  if (address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a server address: %s", text, local_error->message);
      return FALSE;
    }

  /* GNetworkAddress is lenient about the host part; a name with spaces,
   * slashes or an "@" is a typo (or a URL) that no resolver would take. */
  name = g_network_address_get_hostname (G_NETWORK_ADDRESS (address));
  if (name == NULL || *name == '\0' || strpbrk (name, " \t/@?#") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a server address", text);
      return FALSE;
    }
  if (g_network_address_get_port (G_NETWORK_ADDRESS (address)) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s”: port 0 is not a server port", text);
      return FALSE;
    }

  *host = g_strdup (name);
  *port = g_network_address_get_port (G_NETWORK_ADDRESS (address));
  return TRUE;
}

/* ---------------------------------------------------------------------
 * private functions
 * --------------------------------------------------------------------- */

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;

  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

static GSource *
attach_source (FlowNiceLink *self,
               GSource      *source,
               GSourceFunc   func,
               const char   *name)
{
  g_source_set_callback (source, func, self, NULL);
  g_source_set_static_name (source, name);
  g_source_attach (source, self->context);
  return source;
}

static const char *
candidate_type_name (NiceCandidateType type)
{
  switch (type)
    {
    case NICE_CANDIDATE_TYPE_HOST:
      return "host";
    case NICE_CANDIDATE_TYPE_SERVER_REFLEXIVE:
      return "srflx";
    case NICE_CANDIDATE_TYPE_PEER_REFLEXIVE:
      return "prflx";
    case NICE_CANDIDATE_TYPE_RELAYED:
      return "relay";
    default:
      return "unknown";
    }
}

static void
free_candidates (GSList **candidates)
{
  g_slist_free_full (g_steal_pointer (candidates), (GDestroyNotify) nice_candidate_free);
}

/* -- signal emission: always from an idle on our context -- */

static void
emit_pending_opened (FlowNiceLink *self)
{
  if (!self->opened_pending || self->state != FLOW_LINK_OPEN)
    return;

  self->opened_pending = FALSE;
  flow_link_emit_opened (FLOW_LINK (self));
}

static gboolean
emit_cb (gpointer user_data)
{
  g_autoptr(FlowNiceLink) self = g_object_ref (user_data);

  /* Cleared first: a handler that schedules again gets a fresh idle. */
  g_clear_pointer (&self->emit_source, g_source_unref);

  if (self->description_pending)
    {
      self->description_pending = FALSE;
      flow_link_emit_description_ready (FLOW_LINK (self));
    }
  emit_pending_opened (self);
  if (self->closed_pending)
    {
      self->closed_pending = FALSE;
      flow_link_emit_closed (FLOW_LINK (self), self->close_reason);
    }

  return G_SOURCE_REMOVE;
}

static void
schedule_emit (FlowNiceLink *self)
{
  if (self->emit_source != NULL)
    return;

  self->emit_source = attach_source (self, g_idle_source_new (), emit_cb,
                                     "[flow-nice-link] emit");
}

/* -- closing -- */

static void
agent_closed_cb (GObject      *agent,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  FlowNiceLink *link = user_data;

  /* The references teardown() handed over (the link's only outside
   * dispose); the GTask holds its own agent reference until we return. */
  g_object_unref (agent);
  if (link != NULL)
    g_object_unref (link);
}

/* Releases the agent, the stream and every source. Idempotent, and called
 * from dispose too, so it never emits anything. Outside dispose the link
 * stays alive until the agent is gone, so whoever waits for the link to be
 * finalized knows that the sockets are closed too. The last line may
 * finalize @self (the linger reference). */
static void
teardown (FlowNiceLink *self,
          gboolean      disposing)
{
  FlowNiceLink *linger_ref = g_steal_pointer (&self->linger_ref);

  self->lingering = FALSE;
  clear_source (&self->read_source);
  clear_source (&self->write_source);
  clear_source (&self->timer_source);
  g_queue_clear_full (&self->out_queue, (GDestroyNotify) g_bytes_unref);
  self->out_offset = 0;
  self->out_bytes = 0;

  /* Closing the stream shuts the pseudo-TCP write side down: a FIN the peer
   * reads as end of stream, unless it already went out while lingering. */
  if (self->io_stream != NULL)
    {
      g_io_stream_close (self->io_stream, NULL, NULL);
      g_clear_object (&self->io_stream);
    }

  if (self->agent != NULL)
    {
      NiceAgent *agent = g_steal_pointer (&self->agent);

      g_signal_handlers_disconnect_by_data (agent, self);
      /* Releases TURN allocations on the server instead of leaving them to
       * expire; the agent is freed in the callback, on our context. */
      nice_agent_close_async (agent, agent_closed_cb, disposing ? NULL : g_object_ref (self));
    }

  g_clear_object (&linger_ref);
}

static gboolean
linger_timeout_cb (gpointer user_data)
{
  FlowNiceLink *self = user_data;

  g_debug ("%p: linger over without the peer's FIN", self);
  g_clear_pointer (&self->timer_source, g_source_unref);
  teardown (self, FALSE);
  return G_SOURCE_REMOVE;
}

static void
start_linger (FlowNiceLink *self)
{
  self->lingering = TRUE;
  self->linger_ref = g_object_ref (self);
  self->timer_source = attach_source (self, g_timeout_source_new (LINGER_MS),
                                      linger_timeout_cb, "[flow-nice-link] linger");
  /* Writes what is queued, then shuts the write side down. */
  flush_output (self);
}

/* Moves to CLOSED and schedules #FlowLink::closed. With @graceful, an open
 * link lingers (see the top of the file); otherwise the agent goes now. */
static void
close_link (FlowNiceLink *self,
            const char   *reason,
            gboolean      graceful)
{
  gboolean was_open = self->state == FLOW_LINK_OPEN;

  if (self->state == FLOW_LINK_CLOSED)
    return;

  g_debug ("%p: closed: %s", self, reason);
  self->state = FLOW_LINK_CLOSED;
  self->close_reason = g_strdup (reason);
  self->description_pending = FALSE;
  self->opened_pending = FALSE;
  self->closed_pending = TRUE;
  schedule_emit (self);

  clear_source (&self->timer_source);
  g_cancellable_cancel (self->cancellable);
  free_candidates (&self->remote_candidates);

  if (graceful && was_open && self->io_stream != NULL)
    start_linger (self);
  else
    teardown (self, FALSE);
}

static void
open_link (FlowNiceLink *self)
{
  const char *local_type = NULL, *remote_type = NULL;

  if (self->state != FLOW_LINK_CONNECTING)
    return;

  self->state = FLOW_LINK_OPEN;
  self->opened_pending = TRUE;
  schedule_emit (self);
  clear_source (&self->timer_source);

  flow_nice_link_get_selected_pair_types (self, &local_type, &remote_type);
  g_debug ("%p: open after %.1f ms (%s -> %s)", self,
           (g_get_monotonic_time () - self->connecting_since) / 1000.0,
           local_type ? local_type : "?", remote_type ? remote_type : "?");
}

/* -- reading -- */

static gboolean
read_cb (GObject  *stream,
         gpointer  user_data)
{
  g_autoptr(FlowNiceLink) self = g_object_ref (user_data);

  for (guint i = 0; i < MAX_READS_PER_DISPATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      gssize n;

      /* A handler of the previous chunk may have closed us. */
      if (self->read_source == NULL)
        return G_SOURCE_REMOVE;

      n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stream),
                                                    self->read_buffer, READ_CHUNK,
                                                    NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;

      if (n <= 0)
        {
          g_autofree char *reason = NULL;

          if (self->lingering)
            teardown (self, FALSE);
          else if (n == 0)
            close_link (self, "peer closed the connection", FALSE);
          else
            {
              reason = g_strdup_printf ("connection error: %s", error->message);
              close_link (self, reason, FALSE);
            }
          return G_SOURCE_REMOVE;
        }

      /* Lingering: the caller said goodbye, the rest is not for anyone. */
      if (self->state == FLOW_LINK_CLOSED)
        continue;

      /* Bytes are the proof that the stream works, even before our side
       * has seen the component reach READY. */
      open_link (self);
      emit_pending_opened (self);
      if (self->state != FLOW_LINK_OPEN)
        continue;

      bytes = g_bytes_new (self->read_buffer, n);
      flow_link_emit_received (FLOW_LINK (self), bytes);
    }

  return G_SOURCE_CONTINUE;
}

static void
start_reading (FlowNiceLink *self)
{
  GInputStream *input = g_io_stream_get_input_stream (self->io_stream);
  GSource *source;

  source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (input), NULL);
  self->read_source = attach_source (self, source, (GSourceFunc) read_cb,
                                     "[flow-nice-link] read");
}

/* -- writing -- */

static gboolean
write_cb (GObject  *stream,
          gpointer  user_data)
{
  g_autoptr(FlowNiceLink) self = g_object_ref (user_data);

  flush_output (self);
  /* Still set: the queue is blocked again and this source waits on. */
  return self->write_source != NULL ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
wait_writable (FlowNiceLink          *self,
               GPollableOutputStream *output)
{
  if (self->write_source != NULL)
    return;

  self->write_source = attach_source (self, g_pollable_output_stream_create_source (output, NULL),
                                      (GSourceFunc) write_cb, "[flow-nice-link] write");
}

/* Writes as much of the queue as pseudo-TCP takes now, in order. */
static void
flush_output (FlowNiceLink *self)
{
  GPollableOutputStream *output;

  if (self->io_stream == NULL)
    return;

  output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->io_stream));
  while (!g_queue_is_empty (&self->out_queue))
    {
      g_autoptr(GError) error = NULL;
      GBytes *head = g_queue_peek_head (&self->out_queue);
      gsize len;
      const guint8 *data = g_bytes_get_data (head, &len);
      gssize n;

      n = g_pollable_output_stream_write_nonblocking (output, data + self->out_offset,
                                                      len - self->out_offset, NULL, &error);
      if (n == 0 || (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)))
        {
          wait_writable (self, output);
          return;
        }
      if (n < 0)
        {
          g_autofree char *reason = g_strdup_printf ("connection error: %s", error->message);

          if (self->lingering)
            teardown (self, FALSE);
          else
            close_link (self, reason, FALSE);
          return;
        }

      self->out_offset += n;
      self->out_bytes -= n;
      if (self->out_offset == len)
        {
          g_bytes_unref (g_queue_pop_head (&self->out_queue));
          self->out_offset = 0;
        }
    }

  clear_source (&self->write_source);

  if (self->lingering && !self->write_shut)
    {
      /* Everything is with pseudo-TCP now: its FIN follows the last byte. */
      self->write_shut = TRUE;
      g_output_stream_close (G_OUTPUT_STREAM (output), NULL, NULL);
    }
}

/* -- agent signals -- */

static gboolean
apply_remote (FlowNiceLink  *self,
              GError       **error)
{
  int added;

  if (!nice_agent_set_remote_credentials (self->agent, self->stream_id,
                                          self->remote_ufrag, self->remote_pwd))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The remote ICE credentials were refused");
      return FALSE;
    }

  added = nice_agent_set_remote_candidates (self->agent, self->stream_id, COMPONENT_ID,
                                            self->remote_candidates);
  free_candidates (&self->remote_candidates);
  if (added < 1)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "None of the remote ICE candidates can be used");
      return FALSE;
    }

  return TRUE;
}

static gboolean
has_relay_candidate (GSList *candidates)
{
  for (const GSList *l = candidates; l != NULL; l = l->next)
    if (((NiceCandidate *) l->data)->type == NICE_CANDIDATE_TYPE_RELAYED)
      return TRUE;
  return FALSE;
}

static void
gathering_done_cb (NiceAgent *agent,
                   guint      stream_id,
                   gpointer   user_data)
{
  FlowNiceLink *self = user_data;
  g_autoptr(GError) error = NULL;
  GSList *candidates;
  gboolean usable;

  if (stream_id != self->stream_id || self->gathered || self->state == FLOW_LINK_CLOSED)
    return;
  self->gathered = TRUE;

  candidates = nice_agent_get_local_candidates (agent, stream_id, COMPONENT_ID);
  usable = self->config->relay_only ? has_relay_candidate (candidates) : candidates != NULL;
  free_candidates (&candidates);
  if (!usable)
    {
      g_autofree char *reason = NULL;

      if (self->config->relay_only)
        reason = g_strdup_printf ("TURN failed: no relay candidate%s%s (check the TURN "
                                  "server address and credentials)",
                                  self->server_problem ? ": " : "",
                                  self->server_problem ? self->server_problem : "");
      else
        reason = g_strdup ("no ICE candidate could be gathered (no usable network address)");
      close_link (self, reason, FALSE);
      return;
    }

  self->local_description = nice_agent_generate_local_stream_sdp (agent, stream_id, FALSE);

  if (self->remote_set && !apply_remote (self, &error))
    {
      close_link (self, error->message, FALSE);
      return;
    }

  self->description_pending = TRUE;
  schedule_emit (self);
}

static void
component_state_changed_cb (NiceAgent *agent,
                            guint      stream_id,
                            guint      component_id,
                            guint      state,
                            gpointer   user_data)
{
  FlowNiceLink *self = user_data;

  if (stream_id != self->stream_id || component_id != COMPONENT_ID)
    return;

  g_debug ("%p: component %s", self, nice_component_state_to_string (state));

  if (state == NICE_COMPONENT_STATE_READY)
    open_link (self);
  else if (state == NICE_COMPONENT_STATE_FAILED && self->state == FLOW_LINK_CONNECTING)
    close_link (self, "ICE failed: no candidate pair worked", FALSE);
  else if (state == NICE_COMPONENT_STATE_FAILED && self->state == FLOW_LINK_OPEN)
    close_link (self, "ICE failed: the connection to the peer was lost", FALSE);
}

static void
transport_writable_cb (NiceAgent *agent,
                       guint      stream_id,
                       guint      component_id,
                       gpointer   user_data)
{
  FlowNiceLink *self = user_data;

  /* pseudo-TCP is established: the stream is usable whatever the
   * component state says. */
  if (stream_id == self->stream_id && component_id == COMPONENT_ID)
    open_link (self);
}

/* -- start: name lookups, then gathering -- */

static void
gather (FlowNiceLink *self)
{
  if (self->stun_ip != NULL)
    g_object_set (self->agent,
                  "stun-server", self->stun_ip,
                  "stun-server-port", (guint) (self->config->stun_port ? self->config->stun_port
                                                                       : DEFAULT_SERVER_PORT),
                  NULL);

  if (self->turn_ip != NULL &&
      !nice_agent_set_relay_info (self->agent, self->stream_id, COMPONENT_ID,
                                  self->turn_ip,
                                  self->config->turn_port ? self->config->turn_port
                                                          : DEFAULT_SERVER_PORT,
                                  self->config->turn_username ? self->config->turn_username : "",
                                  self->config->turn_password ? self->config->turn_password : "",
                                  NICE_RELAY_TYPE_TURN_UDP))
    {
      g_free (self->server_problem);
      self->server_problem = g_strdup_printf ("TURN server %s was refused", self->turn_ip);
    }

  /* Nobody else reads the agent's sockets: we read from before gathering,
   * or the answers of the STUN and TURN servers are never seen (and the
   * relay allocation times out), just like the acks of the checks later. */
  self->io_stream = nice_agent_get_io_stream (self->agent, self->stream_id, COMPONENT_ID);
  start_reading (self);

  /* Without a STUN or TURN server this emits candidate-gathering-done
   * before it returns (PLATFORM.md); the handler is connected already. */
  if (!nice_agent_gather_candidates (self->agent, self->stream_id))
    close_link (self, "could not gather ICE candidates (no usable local address)", FALSE);
}

typedef struct
{
  FlowNiceLink  *self;
  char         **ip;
  char          *host;
} Lookup;

static void
lookup_done_cb (GObject      *resolver,
                GAsyncResult *result,
                gpointer      user_data)
{
  Lookup *lookup = user_data;
  g_autoptr(FlowNiceLink) self = lookup->self;
  g_autofree char *host = lookup->host;
  g_autoptr(GError) error = NULL;
  GList *addresses;

  addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (resolver), result, &error);
  if (addresses != NULL)
    {
      /* IPv4 first: it is what nearly every network can reach, and the
       * resolver tends to put ::1-style answers first. */
      GInetAddress *chosen = addresses->data;

      for (const GList *l = addresses; l != NULL; l = l->next)
        if (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV4)
          {
            chosen = l->data;
            break;
          }
      *lookup->ip = g_inet_address_to_string (chosen);
    }
  g_resolver_free_addresses (addresses);
  g_free (lookup);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      self->state == FLOW_LINK_CLOSED)
    return;

  /* Gather without that server: host candidates may still do on a LAN. */
  if (error != NULL)
    {
      g_debug ("%p: %s not resolved: %s", self, host, error->message);
      g_free (self->server_problem);
      self->server_problem = g_strdup_printf ("%s: %s", host, error->message);
    }

  if (--self->pending_lookups == 0)
    gather (self);
}

static void
resolve (FlowNiceLink  *self,
         const char    *host,
         char         **ip)
{
  g_autoptr(GResolver) resolver = NULL;
  Lookup *lookup;

  if (host == NULL || *host == '\0')
    return;

  if (g_hostname_is_ip_address (host))
    {
      *ip = g_strdup (host);
      return;
    }

  lookup = g_new0 (Lookup, 1);
  lookup->self = g_object_ref (self);
  lookup->ip = ip;
  lookup->host = g_strdup (host);
  self->pending_lookups++;
  resolver = g_resolver_get_default ();
  g_resolver_lookup_by_name_async (resolver, host, self->cancellable, lookup_done_cb, lookup);
}

/* ---------------------------------------------------------------------
 * FlowLink implementation
 * --------------------------------------------------------------------- */

static FlowLinkState
flow_nice_link_get_state (FlowLink *link)
{
  return FLOW_NICE_LINK (link)->state;
}

static char *
flow_nice_link_dup_local_description (FlowLink *link)
{
  return g_strdup (FLOW_NICE_LINK (link)->local_description);
}

/* Parses @description into remote_ufrag/pwd/candidates, refusing anything
 * that is not a plausible description of one ICE stream. */
static gboolean
parse_remote (FlowNiceLink  *self,
              const char    *description,
              GError       **error)
{
  g_autofree char *ufrag = NULL;
  g_autofree char *pwd = NULL;
  GSList *parsed;
  GSList *usable = NULL;
  gsize len = strlen (description);

  if (len == 0 || len > MAX_DESCRIPTION_LEN || !g_utf8_validate (description, len, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The remote description is empty, too long or not text");
      return FALSE;
    }

  parsed = nice_agent_parse_remote_stream_sdp (self->agent, self->stream_id, description,
                                               &ufrag, &pwd);
  /* RFC 5245 §15.4: ufrag 4–256 characters, password 22–256. */
  if (ufrag == NULL || pwd == NULL ||
      strlen (ufrag) < 4 || strlen (ufrag) > 256 ||
      strlen (pwd) < 22 || strlen (pwd) > 256)
    {
      free_candidates (&parsed);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The remote description has no valid ICE credentials");
      return FALSE;
    }

  for (GSList *l = parsed; l != NULL; l = l->next)
    {
      NiceCandidate *c = l->data;

      if (c->component_id == COMPONENT_ID && c->transport == NICE_CANDIDATE_TRANSPORT_UDP &&
          nice_address_is_valid (&c->addr) && nice_address_get_port (&c->addr) != 0)
        usable = g_slist_prepend (usable, nice_candidate_copy (c));
    }
  free_candidates (&parsed);

  if (usable == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The remote description has no usable ICE candidate");
      return FALSE;
    }

  /* A previous attempt may have parsed but failed to apply. */
  g_free (self->remote_ufrag);
  g_free (self->remote_pwd);
  free_candidates (&self->remote_candidates);
  self->remote_ufrag = g_steal_pointer (&ufrag);
  self->remote_pwd = g_steal_pointer (&pwd);
  self->remote_candidates = g_slist_reverse (usable);
  return TRUE;
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  FlowNiceLink *self = user_data;
  g_autofree char *reason = NULL;

  g_clear_pointer (&self->timer_source, g_source_unref);
  reason = g_strdup_printf ("ICE failed: no connection within %.1f s",
                            (g_get_monotonic_time () - self->connecting_since) / (double) G_USEC_PER_SEC);
  close_link (self, reason, FALSE);
  return G_SOURCE_REMOVE;
}

static gboolean
flow_nice_link_set_remote_description (FlowLink    *link,
                                       const char  *description,
                                       GError     **error)
{
  FlowNiceLink *self = FLOW_NICE_LINK (link);
  guint timeout_ms;

  if (self->state == FLOW_LINK_CLOSED)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The link is closed");
      return FALSE;
    }
  if (self->remote_set)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           "The remote description is already set");
      return FALSE;
    }

  if (!parse_remote (self, description, error))
    return FALSE;

  /* Before our gathering is done the candidates wait: libnice pairs remote
   * candidates with the local ones it has when they are set. */
  if (self->gathered && !apply_remote (self, error))
    return FALSE;

  self->remote_set = TRUE;
  self->state = FLOW_LINK_CONNECTING;
  self->connecting_since = g_get_monotonic_time ();
  timeout_ms = self->config->connect_timeout_ms ? self->config->connect_timeout_ms
                                                : DEFAULT_CONNECT_TIMEOUT_MS;
  self->timer_source = attach_source (self, g_timeout_source_new (timeout_ms),
                                      connect_timeout_cb, "[flow-nice-link] connect timeout");
  return TRUE;
}

static gboolean
flow_nice_link_send (FlowLink  *link,
                     GBytes    *data,
                     GError   **error)
{
  FlowNiceLink *self = FLOW_NICE_LINK (link);
  gsize len = g_bytes_get_size (data);

  if (self->state != FLOW_LINK_OPEN)
    {
      g_set_error_literal (error, G_IO_ERROR,
                           self->state == FLOW_LINK_CLOSED ? G_IO_ERROR_CLOSED
                                                           : G_IO_ERROR_NOT_CONNECTED,
                           "The link is not open");
      return FALSE;
    }
  if (len > MAX_QUEUED_BYTES - self->out_bytes)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   "The link's send queue is full (%" G_GSIZE_FORMAT " bytes waiting)",
                   self->out_bytes);
      return FALSE;
    }
  if (len == 0)
    return TRUE;

  g_queue_push_tail (&self->out_queue, g_bytes_ref (data));
  self->out_bytes += len;

  /* Callers coalesce already (one send per turn), so we write right away.
   * While a write source waits, pseudo-TCP is full and it will go on. */
  if (self->write_source == NULL)
    flush_output (self);

  if (self->state == FLOW_LINK_CLOSED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The link closed: %s",
                   self->close_reason);
      return FALSE;
    }
  return TRUE;
}

static void
flow_nice_link_close (FlowLink   *link,
                      const char *reason)
{
  close_link (FLOW_NICE_LINK (link), reason, TRUE);
}

static void
flow_nice_link_iface_init (FlowLinkInterface *iface)
{
  iface->get_state = flow_nice_link_get_state;
  iface->dup_local_description = flow_nice_link_dup_local_description;
  iface->set_remote_description = flow_nice_link_set_remote_description;
  iface->send = flow_nice_link_send;
  iface->close = flow_nice_link_close;
}

/* ---------------------------------------------------------------------
 * GObject
 * --------------------------------------------------------------------- */

static void
flow_nice_link_dispose (GObject *object)
{
  FlowNiceLink *self = FLOW_NICE_LINK (object);

  clear_source (&self->emit_source);
  g_cancellable_cancel (self->cancellable);
  /* Never lingering here: the linger holds a reference. */
  teardown (self, TRUE);

  G_OBJECT_CLASS (flow_nice_link_parent_class)->dispose (object);
}

static void
flow_nice_link_finalize (GObject *object)
{
  FlowNiceLink *self = FLOW_NICE_LINK (object);

  free_candidates (&self->remote_candidates);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->config, flow_ice_config_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->read_buffer);
  g_free (self->local_description);
  g_free (self->close_reason);
  g_free (self->server_problem);
  g_free (self->stun_ip);
  g_free (self->turn_ip);
  g_free (self->remote_ufrag);
  g_free (self->remote_pwd);

  G_OBJECT_CLASS (flow_nice_link_parent_class)->finalize (object);
}

static void
flow_nice_link_class_init (FlowNiceLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_nice_link_dispose;
  object_class->finalize = flow_nice_link_finalize;
}

static void
flow_nice_link_init (FlowNiceLink *self)
{
  self->state = FLOW_LINK_NEW;
  self->cancellable = g_cancellable_new ();
  self->read_buffer = g_malloc (READ_CHUNK);
  g_queue_init (&self->out_queue);
}

/* ---------------------------------------------------------------------
 * API implementation
 * --------------------------------------------------------------------- */

/**
 * flow_nice_link_new:
 * @config: (nullable): STUN/TURN servers and options; copied
 * @controlling: whether this side takes the ICE controlling role (exactly
 *   one side of a link should)
 *
 * Creates a link and starts gathering candidates on the thread-default main
 * context. #FlowLink::description-ready follows from the main loop; if no
 * candidate can be gathered, #FlowLink::closed follows instead.
 *
 * Returns: (transfer full): a new #FlowLink
 */
FlowLink *
flow_nice_link_new (const FlowIceConfig *config,
                    gboolean             controlling)
{
  FlowNiceLink *self = g_object_new (FLOW_TYPE_NICE_LINK, NULL);

  self->config = config != NULL ? flow_ice_config_copy (config) : flow_ice_config_new ();
  self->controlling = !!controlling;
  self->context = g_main_context_ref_thread_default ();

  /* UPnP multicasts SSDP on every interface; ICE-TCP pairs win in a reliable
   * agent but take 4 times as long to set up (PLATFORM.md). */
  self->agent = nice_agent_new_reliable (self->context, NICE_COMPATIBILITY_RFC5245);
  g_object_set (self->agent,
                "upnp", FALSE,
                "ice-tcp", FALSE,
                "controlling-mode", self->controlling,
                "force-relay", self->config->relay_only,
                NULL);
  self->stream_id = nice_agent_add_stream (self->agent, 1);

  if (self->config->loopback_only)
    {
      NiceAddress address;

      nice_address_init (&address);
      nice_address_set_from_string (&address, "127.0.0.1");
      nice_agent_add_local_address (self->agent, &address);
    }

  g_signal_connect (self->agent, "candidate-gathering-done",
                    G_CALLBACK (gathering_done_cb), self);
  g_signal_connect (self->agent, "component-state-changed",
                    G_CALLBACK (component_state_changed_cb), self);
  g_signal_connect (self->agent, "reliable-transport-writable",
                    G_CALLBACK (transport_writable_cb), self);

  resolve (self, self->config->stun_host, &self->stun_ip);
  resolve (self, self->config->turn_host, &self->turn_ip);
  if (self->pending_lookups == 0)
    gather (self);

  return FLOW_LINK (self);
}

/**
 * flow_nice_link_get_selected_pair_types:
 * @local_type: (out): "host", "srflx", "prflx" or "relay"
 * @remote_type: (out): the same for the peer's side
 *
 * Tells which path ICE chose, for logs, the UI and tests.
 *
 * Returns: %FALSE when no pair is selected (not open, or closed)
 */
gboolean
flow_nice_link_get_selected_pair_types (FlowNiceLink  *self,
                                        const char   **local_type,
                                        const char   **remote_type)
{
  NiceCandidate *local = NULL;
  NiceCandidate *remote = NULL;

  g_return_val_if_fail (FLOW_IS_NICE_LINK (self), FALSE);
  g_return_val_if_fail (local_type != NULL, FALSE);
  g_return_val_if_fail (remote_type != NULL, FALSE);

  if (self->agent == NULL ||
      !nice_agent_get_selected_pair (self->agent, self->stream_id, COMPONENT_ID,
                                     &local, &remote))
    return FALSE;

  *local_type = candidate_type_name (local->type);
  *remote_type = candidate_type_name (remote->type);
  return TRUE;
}

/**
 * flow_nice_link_factory:
 * @controlling: whether this side offers (ICE controlling)
 * @config: (nullable): a #FlowIceConfig, owned by the caller
 *
 * A #FlowLinkFactory (flow-room.h) that makes ICE links with @config: pass
 * it to flow_room_new() with the config as its user data.
 */
FlowLink *
flow_nice_link_factory (gboolean controlling,
                        gpointer config)
{
  return flow_nice_link_new (config, controlling);
}
