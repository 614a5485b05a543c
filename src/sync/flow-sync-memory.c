/* flow-sync-memory.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * An in-memory network for tests and the simulation: links and a signaling
 * hub whose every delivery is a timer on a FlowSyncClock, so that with a
 * manual clock a whole room of peers runs in one thread, deterministically
 * for a given seed.
 *
 * The faults act below the peer layer, per chunk written: loss, duplication,
 * reordering, delay and partitions between groups of hosts. A link is a
 * stream, so the peer layer's crypto sees each of these as a broken stream
 * and closes the link; reconnecting and catching up is then the peer layer's
 * job, exactly as when an ICE link breaks. A link whose other end vanished
 * (a crashed peer) stays silent, as a real one does: only heartbeats notice.
 *
 * Signaling is reliable while "up" (the rendezvous runs over TCP); taking it
 * down fails every member, as a lost server connection does.
 */

#define G_LOG_DOMAIN "flow-sync-memory"

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "flow-sync-memory.h"

/* How long an ICE attempt waits for the other side before failing. */
#define CONNECT_TIMEOUT_US (10 * G_USEC_PER_SEC)

struct _FlowMemoryNet
{
  GObject           parent_instance;

  FlowSyncClock    *clock;
  GRand            *rand;
  FlowMemoryFaults  faults;
  GHashTable       *groups;        /* host -> group (0 = default) */
  GHashTable       *endpoints;     /* id -> FlowMemoryLink (unowned) */
  guint             next_endpoint;
  GHashTable       *rooms;         /* room id -> GPtrArray of FlowMemorySignaling (unowned) */
  gboolean          signaling_down;
  guint64           n_delivered;
  guint64           n_dropped;
};

struct _FlowMemoryLink
{
  GObject        parent_instance;

  FlowMemoryNet *net;
  char          *host;
  guint          endpoint;
  guint          remote;           /* 0 until the remote description is set */
  gboolean       controlling;
  FlowLinkState  state;
  gboolean       closing;
  guint          connect_timer;
  GHashTable    *timers;           /* ids of our pending timers */
};

struct _FlowMemorySignaling
{
  GObject             parent_instance;

  FlowMemoryNet      *net;
  char               *host;
  char               *room;
  char               *peer;
  FlowSignalingState  state;
  guint               generation;   /* bumped on leave/fail: stale deliveries are dropped */
  GHashTable         *timers;
};

static void flow_memory_link_iface_init (FlowLinkInterface *iface);
static void flow_memory_signaling_iface_init (FlowSignalingInterface *iface);

G_DEFINE_FINAL_TYPE (FlowMemoryNet, flow_memory_net, G_TYPE_OBJECT)
G_DEFINE_FINAL_TYPE_WITH_CODE (FlowMemoryLink, flow_memory_link, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FLOW_TYPE_LINK, flow_memory_link_iface_init))
G_DEFINE_FINAL_TYPE_WITH_CODE (FlowMemorySignaling, flow_memory_signaling, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FLOW_TYPE_SIGNALING, flow_memory_signaling_iface_init))

/* ------------------------------------------------------------------------
 * Timers owned by an object: a delivery must not outlive its target.
 * ------------------------------------------------------------------------ */

typedef struct
{
  GObject     *owner;          /* weak: the owner cancels us when it goes */
  GHashTable  *owner_timers;
  guint        id;
  void       (*func) (GObject *owner, gpointer data);
  gpointer     data;
  GDestroyNotify destroy;
} OwnedTimer;

static void
owned_timer_free (gpointer p)
{
  OwnedTimer *t = p;

  if (t->destroy != NULL)
    t->destroy (t->data);
  g_free (t);
}

static void
owned_timer_run (gpointer p)
{
  OwnedTimer *t = p;

  g_hash_table_remove (t->owner_timers, GUINT_TO_POINTER (t->id));
  t->func (t->owner, t->data);
}

static void
owned_schedule (FlowSyncClock *clock,
                GObject       *owner,
                GHashTable    *owner_timers,
                gint64         delay_us,
                void         (*func) (GObject *owner, gpointer data),
                gpointer       data,
                GDestroyNotify destroy)
{
  OwnedTimer *t = g_new0 (OwnedTimer, 1);

  t->owner = owner;
  t->owner_timers = owner_timers;
  t->func = func;
  t->data = data;
  t->destroy = destroy;
  t->id = flow_sync_clock_schedule (clock, delay_us, owned_timer_run, t, owned_timer_free);
  g_hash_table_add (owner_timers, GUINT_TO_POINTER (t->id));
}

static void
owned_cancel_all (FlowSyncClock *clock,
                  GHashTable    *owner_timers)
{
  g_autoptr(GList) ids = g_hash_table_get_keys (owner_timers);

  g_hash_table_remove_all (owner_timers);
  for (GList *l = ids; l != NULL; l = l->next)
    flow_sync_clock_cancel (clock, GPOINTER_TO_UINT (l->data));
}

/* ------------------------------------------------------------------------
 * The network
 * ------------------------------------------------------------------------ */

static void
flow_memory_net_finalize (GObject *object)
{
  FlowMemoryNet *self = FLOW_MEMORY_NET (object);

  g_clear_pointer (&self->groups, g_hash_table_unref);
  g_clear_pointer (&self->endpoints, g_hash_table_unref);
  g_clear_pointer (&self->rooms, g_hash_table_unref);
  g_clear_pointer (&self->rand, g_rand_free);
  g_clear_object (&self->clock);

  G_OBJECT_CLASS (flow_memory_net_parent_class)->finalize (object);
}

static void
flow_memory_net_class_init (FlowMemoryNetClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = flow_memory_net_finalize;
}

static void
flow_memory_net_init (FlowMemoryNet *self)
{
  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->endpoints = g_hash_table_new (NULL, NULL);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_ptr_array_unref);
  self->faults.latency_us = 1000;
}

FlowMemoryNet *
flow_memory_net_new (FlowSyncClock *clock,
                     guint32        seed)
{
  FlowMemoryNet *self;

  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (clock), NULL);

  self = g_object_new (FLOW_TYPE_MEMORY_NET, NULL);
  self->clock = g_object_ref (clock);
  self->rand = g_rand_new_with_seed (seed);
  return self;
}

FlowSyncClock *
flow_memory_net_get_clock (FlowMemoryNet *self)
{
  g_return_val_if_fail (FLOW_IS_MEMORY_NET (self), NULL);

  return self->clock;
}

void
flow_memory_net_set_faults (FlowMemoryNet          *self,
                            const FlowMemoryFaults *faults)
{
  g_return_if_fail (FLOW_IS_MEMORY_NET (self));
  g_return_if_fail (faults != NULL);

  self->faults = *faults;
}

/* Puts @host into partition @group: links between different groups drop
 * everything. */
void
flow_memory_net_set_group (FlowMemoryNet *self,
                           const char    *host,
                           guint          group)
{
  g_return_if_fail (FLOW_IS_MEMORY_NET (self));

  g_hash_table_insert (self->groups, g_strdup (host), GUINT_TO_POINTER (group));
}

/* Ends every partition. */
void
flow_memory_net_heal (FlowMemoryNet *self)
{
  g_return_if_fail (FLOW_IS_MEMORY_NET (self));

  g_hash_table_remove_all (self->groups);
}

guint64
flow_memory_net_get_n_delivered (FlowMemoryNet *self)
{
  return self->n_delivered;
}

guint64
flow_memory_net_get_n_dropped (FlowMemoryNet *self)
{
  return self->n_dropped;
}

static gboolean
reachable (FlowMemoryNet *self,
           const char    *a,
           const char    *b)
{
  return g_hash_table_lookup (self->groups, a) == g_hash_table_lookup (self->groups, b);
}

static gint64
delay (FlowMemoryNet *self)
{
  gint64 d = self->faults.latency_us;

  if (self->faults.jitter_us > 0)
    d += g_rand_int_range (self->rand, 0, (gint32) MIN (self->faults.jitter_us, G_MAXINT32));
  return d;
}

static gboolean
chance (FlowMemoryNet *self,
        double         p)
{
  return p > 0 && g_rand_double (self->rand) < p;
}

/* ------------------------------------------------------------------------
 * Links
 * ------------------------------------------------------------------------ */

static void
link_set_closed (FlowMemoryLink *self,
                 const char     *reason);

static void
deliver_closed (GObject  *owner,
                gpointer  data)
{
  link_set_closed (FLOW_MEMORY_LINK (owner), data);
}

static void
link_set_closed (FlowMemoryLink *self,
                 const char     *reason)
{
  if (self->state == FLOW_LINK_CLOSED)
    return;

  self->state = FLOW_LINK_CLOSED;
  flow_sync_clock_clear (self->net->clock, &self->connect_timer);
  g_hash_table_remove (self->net->endpoints, GUINT_TO_POINTER (self->endpoint));
  g_object_ref (self);
  flow_link_emit_closed (FLOW_LINK (self), reason);
  g_object_unref (self);
}

static void
deliver_opened (GObject  *owner,
                gpointer  data)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (owner);

  if (self->state != FLOW_LINK_CONNECTING || self->closing)
    return;
  flow_sync_clock_clear (self->net->clock, &self->connect_timer);
  self->state = FLOW_LINK_OPEN;
  flow_link_emit_opened (FLOW_LINK (self));
}

static void
deliver_bytes (GObject  *owner,
               gpointer  data)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (owner);

  if (self->state != FLOW_LINK_OPEN || self->closing)
    return;
  self->net->n_delivered++;
  flow_link_emit_received (FLOW_LINK (self), data);
}

static void
deliver_description_ready (GObject  *owner,
                           gpointer  data)
{
  flow_link_emit_description_ready (FLOW_LINK (owner));
}

static void
connect_timeout_cb (gpointer data)
{
  FlowMemoryLink *self = data;

  self->connect_timer = 0;
  link_set_closed (self, "ICE failed: no candidate pair worked");
}

static void
flow_memory_link_dispose (GObject *object)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (object);

  if (self->net != NULL)
    {
      flow_sync_clock_clear (self->net->clock, &self->connect_timer);
      owned_cancel_all (self->net->clock, self->timers);
      g_hash_table_remove (self->net->endpoints, GUINT_TO_POINTER (self->endpoint));
    }
  g_clear_object (&self->net);

  G_OBJECT_CLASS (flow_memory_link_parent_class)->dispose (object);
}

static void
flow_memory_link_finalize (GObject *object)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (object);

  g_clear_pointer (&self->timers, g_hash_table_unref);
  g_free (self->host);

  G_OBJECT_CLASS (flow_memory_link_parent_class)->finalize (object);
}

static void
flow_memory_link_class_init (FlowMemoryLinkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_memory_link_dispose;
  object_class->finalize = flow_memory_link_finalize;
}

static void
flow_memory_link_init (FlowMemoryLink *self)
{
  self->timers = g_hash_table_new (NULL, NULL);
}

static FlowLinkState
flow_memory_link_get_state (FlowLink *link)
{
  return FLOW_MEMORY_LINK (link)->state;
}

static char *
flow_memory_link_dup_local_description (FlowLink *link)
{
  return g_strdup_printf ("mem:%u", FLOW_MEMORY_LINK (link)->endpoint);
}

static gboolean
flow_memory_link_set_remote_description (FlowLink    *link,
                                         const char  *description,
                                         GError     **error)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (link);
  FlowMemoryLink *remote;
  guint64 endpoint;

  if (self->state != FLOW_LINK_NEW)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "The link already has a remote description");
      return FALSE;
    }
  if (!g_str_has_prefix (description, "mem:") ||
      !g_ascii_string_to_unsigned (description + 4, 10, 1, G_MAXUINT, &endpoint, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "“%s” is not an in-memory link description", description);
      return FALSE;
    }

  self->remote = (guint) endpoint;
  self->state = FLOW_LINK_CONNECTING;
  self->connect_timer = flow_sync_clock_schedule (self->net->clock, CONNECT_TIMEOUT_US,
                                                  connect_timeout_cb, self, NULL);

  /* Both sides know each other: the "ICE checks" succeed one round trip
   * later, unless a partition is in the way. */
  remote = g_hash_table_lookup (self->net->endpoints, GUINT_TO_POINTER (self->remote));
  if (remote != NULL && remote->remote == self->endpoint &&
      remote->state == FLOW_LINK_CONNECTING &&
      reachable (self->net, self->host, remote->host))
    {
      gint64 rtt = 2 * delay (self->net);

      owned_schedule (self->net->clock, G_OBJECT (self), self->timers, rtt,
                      deliver_opened, NULL, NULL);
      owned_schedule (self->net->clock, G_OBJECT (remote), remote->timers, rtt,
                      deliver_opened, NULL, NULL);
    }
  return TRUE;
}

static void
send_chunk (FlowMemoryLink *self,
            FlowMemoryLink *remote,
            GBytes         *data)
{
  FlowMemoryNet *net = self->net;
  gint64 d = delay (net);

  if (chance (net, net->faults.reorder))
    d += g_rand_int_range (net->rand, 1, (gint32) MAX (2, MIN (net->faults.reorder_us, G_MAXINT32)));
  if (g_bytes_get_size (data) > 0 && chance (net, net->faults.corrupt))
    {
      gsize len;
      guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (data), &len);

      copy[g_rand_int_range (net->rand, 0, (gint32) MIN (len, G_MAXINT32))] ^=
        (guint8) g_rand_int_range (net->rand, 1, 256);
      data = g_bytes_new_take (copy, len);
    }
  else
    g_bytes_ref (data);
  owned_schedule (net->clock, G_OBJECT (remote), remote->timers, d,
                  deliver_bytes, data, (GDestroyNotify) g_bytes_unref);
}

static gboolean
flow_memory_link_send (FlowLink  *link,
                       GBytes    *data,
                       GError   **error)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (link);
  FlowMemoryNet *net = self->net;
  FlowMemoryLink *remote;

  if (self->state != FLOW_LINK_OPEN || self->closing)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                           "The link is not open");
      return FALSE;
    }

  remote = g_hash_table_lookup (net->endpoints, GUINT_TO_POINTER (self->remote));
  if (remote == NULL || !reachable (net, self->host, remote->host) ||
      chance (net, net->faults.loss))
    {
      /* Gone, cut off or lost: as on a real network, the sender cannot
       * tell. */
      net->n_dropped++;
      return TRUE;
    }

  send_chunk (self, remote, data);
  if (chance (net, net->faults.duplicate))
    send_chunk (self, remote, data);
  return TRUE;
}

static void
flow_memory_link_close (FlowLink   *link,
                        const char *reason)
{
  FlowMemoryLink *self = FLOW_MEMORY_LINK (link);
  FlowMemoryLink *remote;

  if (self->state == FLOW_LINK_CLOSED || self->closing || self->net == NULL)
    return;
  self->closing = TRUE;

  /* The other side hears about it (a FIN) unless the network is in the
   * way. */
  remote = g_hash_table_lookup (self->net->endpoints, GUINT_TO_POINTER (self->remote));
  if (remote != NULL && remote->remote == self->endpoint &&
      reachable (self->net, self->host, remote->host))
    owned_schedule (self->net->clock, G_OBJECT (remote), remote->timers, delay (self->net),
                    deliver_closed, (gpointer) "peer closed the connection", NULL);

  /* Nothing arrives any more, and our own "closed" comes from the clock,
   * never from inside close(). */
  g_hash_table_remove (self->net->endpoints, GUINT_TO_POINTER (self->endpoint));
  self->remote = 0;
  flow_sync_clock_clear (self->net->clock, &self->connect_timer);
  owned_cancel_all (self->net->clock, self->timers);
  owned_schedule (self->net->clock, G_OBJECT (self), self->timers, 0,
                  deliver_closed, g_strdup (reason), g_free);
}

static void
flow_memory_link_iface_init (FlowLinkInterface *iface)
{
  iface->get_state = flow_memory_link_get_state;
  iface->dup_local_description = flow_memory_link_dup_local_description;
  iface->set_remote_description = flow_memory_link_set_remote_description;
  iface->send = flow_memory_link_send;
  iface->close = flow_memory_link_close;
}

/**
 * flow_memory_link_new:
 * @host: the simulated machine it runs on (for partitions)
 * @controlling: unused by the in-memory transport, kept for symmetry with
 *   ICE
 */
FlowLink *
flow_memory_link_new (FlowMemoryNet *net,
                      const char    *host,
                      gboolean       controlling)
{
  FlowMemoryLink *self;

  g_return_val_if_fail (FLOW_IS_MEMORY_NET (net), NULL);
  g_return_val_if_fail (host != NULL, NULL);

  self = g_object_new (FLOW_TYPE_MEMORY_LINK, NULL);
  self->net = g_object_ref (net);
  self->host = g_strdup (host);
  self->controlling = controlling;
  self->endpoint = ++net->next_endpoint;
  g_hash_table_insert (net->endpoints, GUINT_TO_POINTER (self->endpoint), self);
  owned_schedule (net->clock, G_OBJECT (self), self->timers, 0,
                  deliver_description_ready, NULL, NULL);
  return FLOW_LINK (self);
}

/* ------------------------------------------------------------------------
 * Signaling hub
 * ------------------------------------------------------------------------ */

static GPtrArray *
room_members (FlowMemoryNet *net,
              const char    *room)
{
  return room != NULL ? g_hash_table_lookup (net->rooms, room) : NULL;
}

static FlowMemorySignaling *
find_member (FlowMemoryNet *net,
             const char    *room,
             const char    *peer)
{
  GPtrArray *members = room_members (net, room);

  for (guint i = 0; members != NULL && i < members->len; i++)
    {
      FlowMemorySignaling *m = g_ptr_array_index (members, i);

      if (g_str_equal (m->peer, peer))
        return m;
    }
  return NULL;
}

typedef struct
{
  guint   kind;        /* 0 joined, 1 peer-joined, 2 peer-left, 3 signal, 4 presence, 5 failed */
  guint   generation;
  char   *peer;
  char  **peers;
  GBytes *data;
} Delivery;

static void
delivery_free (gpointer p)
{
  Delivery *d = p;

  g_free (d->peer);
  g_strfreev (d->peers);
  g_clear_pointer (&d->data, g_bytes_unref);
  g_free (d);
}

static void
deliver_signaling (GObject  *owner,
                   gpointer  data)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (owner);
  FlowSignaling *sig = FLOW_SIGNALING (self);
  Delivery *d = data;

  if (d->generation != self->generation)
    return;

  switch (d->kind)
    {
    case 0:
      flow_signaling_emit_joined (sig, (const char * const *) d->peers);
      break;
    case 1:
      flow_signaling_emit_peer_joined (sig, d->peer);
      break;
    case 2:
      flow_signaling_emit_peer_left (sig, d->peer);
      break;
    case 3:
      flow_signaling_emit_signal (sig, d->peer, d->data);
      break;
    case 4:
      flow_signaling_emit_presence (sig, d->peer, d->data);
      break;
    case 5:
      flow_signaling_emit_failed (sig, d->peer);
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
post (FlowMemorySignaling *to,
      guint                kind,
      const char          *peer,
      GBytes              *data,
      char               **peers,
      gint64               delay_us)
{
  Delivery *d = g_new0 (Delivery, 1);

  d->kind = kind;
  d->generation = to->generation;
  d->peer = g_strdup (peer);
  d->peers = peers;
  d->data = data != NULL ? g_bytes_ref (data) : NULL;
  owned_schedule (to->net->clock, G_OBJECT (to), to->timers, delay_us,
                  deliver_signaling, d, delivery_free);
}

/* Takes @self out of its room and tells the others. */
static void
remove_member (FlowMemorySignaling *self)
{
  GPtrArray *members = room_members (self->net, self->room);

  if (members == NULL || !g_ptr_array_remove (members, self))
    return;

  for (guint i = 0; i < members->len; i++)
    post (g_ptr_array_index (members, i), 2, self->peer, NULL, NULL, delay (self->net));
  if (members->len == 0)
    g_hash_table_remove (self->net->rooms, self->room);
}

static void
fail (FlowMemorySignaling *self,
      const char          *message)
{
  remove_member (self);
  self->state = FLOW_SIGNALING_FAILED;
  self->generation++;
  owned_cancel_all (self->net->clock, self->timers);
  post (self, 5, message, NULL, NULL, 0);
}

static void
deliver_join (GObject  *owner,
              gpointer  data)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (owner);
  GPtrArray *members;
  g_autoptr(GStrvBuilder) peers = g_strv_builder_new ();

  if (self->state != FLOW_SIGNALING_JOINING)
    return;

  if (self->net->signaling_down)
    {
      fail (self, "Could not connect to the rendezvous server");
      return;
    }
  if (find_member (self->net, self->room, self->peer) != NULL)
    {
      fail (self, "Another member of the room uses the same peer id");
      return;
    }

  members = room_members (self->net, self->room);
  if (members == NULL)
    {
      members = g_ptr_array_new ();
      g_hash_table_insert (self->net->rooms, g_strdup (self->room), members);
    }
  for (guint i = 0; i < members->len; i++)
    {
      FlowMemorySignaling *m = g_ptr_array_index (members, i);

      g_strv_builder_add (peers, m->peer);
      post (m, 1, self->peer, NULL, NULL, delay (self->net));
    }
  g_ptr_array_add (members, self);
  self->state = FLOW_SIGNALING_JOINED;
  {
    g_auto(GStrv) list = g_strv_builder_end (peers);

    flow_signaling_emit_joined (FLOW_SIGNALING (self), (const char * const *) list);
  }
}

static void
flow_memory_signaling_dispose (GObject *object)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (object);

  /* Disposing without leave() is a crash: the others notice when the
   * server's heartbeat gives up on us, a few seconds later. */
  if (self->net != NULL)
    {
      GPtrArray *members = room_members (self->net, self->room);

      owned_cancel_all (self->net->clock, self->timers);
      if (members != NULL && g_ptr_array_remove (members, self))
        {
          for (guint i = 0; i < members->len; i++)
            post (g_ptr_array_index (members, i), 2, self->peer, NULL, NULL,
                  5 * G_USEC_PER_SEC);
          if (members->len == 0)
            g_hash_table_remove (self->net->rooms, self->room);
        }
    }
  g_clear_object (&self->net);

  G_OBJECT_CLASS (flow_memory_signaling_parent_class)->dispose (object);
}

static void
flow_memory_signaling_finalize (GObject *object)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (object);

  g_clear_pointer (&self->timers, g_hash_table_unref);
  g_free (self->host);
  g_free (self->room);
  g_free (self->peer);

  G_OBJECT_CLASS (flow_memory_signaling_parent_class)->finalize (object);
}

static void
flow_memory_signaling_class_init (FlowMemorySignalingClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_memory_signaling_dispose;
  object_class->finalize = flow_memory_signaling_finalize;
}

static void
flow_memory_signaling_init (FlowMemorySignaling *self)
{
  self->timers = g_hash_table_new (NULL, NULL);
}

static FlowSignalingState
flow_memory_signaling_get_state (FlowSignaling *sig)
{
  return FLOW_MEMORY_SIGNALING (sig)->state;
}

static void
flow_memory_signaling_join (FlowSignaling *sig,
                            const char    *room,
                            const char    *peer)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (sig);

  g_return_if_fail (self->state == FLOW_SIGNALING_IDLE || self->state == FLOW_SIGNALING_FAILED);

  g_free (self->room);
  self->room = g_strdup (room);
  g_free (self->peer);
  self->peer = g_strdup (peer);
  self->state = FLOW_SIGNALING_JOINING;
  self->generation++;
  owned_schedule (self->net->clock, G_OBJECT (self), self->timers, 2 * delay (self->net),
                  deliver_join, NULL, NULL);
}

static void
flow_memory_signaling_leave (FlowSignaling *sig)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (sig);

  remove_member (self);
  self->state = FLOW_SIGNALING_IDLE;
  self->generation++;
  owned_cancel_all (self->net->clock, self->timers);
}

static void
flow_memory_signaling_send_signal (FlowSignaling *sig,
                                   const char    *to,
                                   GBytes        *data)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (sig);
  FlowMemorySignaling *target;

  if (self->state != FLOW_SIGNALING_JOINED)
    return;
  target = find_member (self->net, self->room, to);
  if (target != NULL)
    post (target, 3, self->peer, data, NULL, delay (self->net));
}

static void
flow_memory_signaling_send_presence (FlowSignaling *sig,
                                     GBytes        *data)
{
  FlowMemorySignaling *self = FLOW_MEMORY_SIGNALING (sig);
  GPtrArray *members;

  if (self->state != FLOW_SIGNALING_JOINED)
    return;
  members = room_members (self->net, self->room);
  for (guint i = 0; members != NULL && i < members->len; i++)
    {
      FlowMemorySignaling *m = g_ptr_array_index (members, i);

      if (m != self)
        post (m, 4, self->peer, data, NULL, delay (self->net));
    }
}

static void
flow_memory_signaling_iface_init (FlowSignalingInterface *iface)
{
  iface->get_state = flow_memory_signaling_get_state;
  iface->join = flow_memory_signaling_join;
  iface->leave = flow_memory_signaling_leave;
  iface->send_signal = flow_memory_signaling_send_signal;
  iface->send_presence = flow_memory_signaling_send_presence;
}

FlowSignaling *
flow_memory_signaling_new (FlowMemoryNet *net,
                           const char    *host)
{
  FlowMemorySignaling *self;

  g_return_val_if_fail (FLOW_IS_MEMORY_NET (net), NULL);

  self = g_object_new (FLOW_TYPE_MEMORY_SIGNALING, NULL);
  self->net = g_object_ref (net);
  self->host = g_strdup (host);
  return FLOW_SIGNALING (self);
}

/* Takes the rendezvous down (every member fails, joins fail) or up. */
void
flow_memory_net_set_signaling_up (FlowMemoryNet *self,
                                  gboolean       up)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (FLOW_IS_MEMORY_NET (self));

  self->signaling_down = !up;
  if (up)
    return;

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GPtrArray *members = value;

      for (guint i = 0; i < members->len; i++)
        g_ptr_array_add (all, g_object_ref (g_ptr_array_index (members, i)));
    }
  for (guint i = 0; i < all->len; i++)
    fail (g_ptr_array_index (all, i), "Connection to the rendezvous server lost");
}
