/* flow-room.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * FlowRoom: one workspace shared with the other members of its room.
 *
 * The room keeps one encrypted link per other member (a full mesh of at
 * most FLOW_ROOM_MAX_LINKS), and its whole job is this invariant:
 *
 *   every op that any linked peer holds reaches us, and every op we hold
 *   reaches every linked peer, however often links break.
 *
 * It holds because of three rules, none of which trusts the network:
 *
 * 1. Catch-up on every new link. Each side sends a SUMMARY (the version
 *    vector of every document) right after HELLO, and answers the other's
 *    SUMMARY with exactly the ops it lacks (flow_doc_encode_since()), the
 *    catalog first so that documents exist before their ops arrive. So a
 *    link that broke, a peer that was offline or crashed, or a frame lost
 *    with its link costs nothing but a resend.
 * 2. Live broadcast and forwarding. Every change of a document, local or
 *    applied from a peer, goes to every open link but the one it came
 *    from. Ops carry ids and flow_doc_apply() drops what it has, so a
 *    forwarded duplicate is harmless, and an op reaches peers we have no
 *    direct link to through those we have.
 * 3. Nothing unauthenticated reaches the CRDT. The link bytes go through a
 *    FlowSyncCipher (one secretstream per direction, keys from crypto_kx
 *    over ephemeral keys exchanged under the room key); a record that does
 *    not authenticate, a frame that does not decode, or ops the core
 *    refuses close the link with a logged reason. The link is then rebuilt
 *    from scratch, and rule 1 makes up for whatever was lost.
 *
 * Who offers: of two peers, the one with the smaller peer id creates the
 * link (ICE controlling, crypto_kx client), retries with exponential
 * back-off, and the other only answers; so two peers never race to link to
 * each other. The answering side may ask for a new offer ("retry") when it
 * sees its link die first.
 *
 * Liveness: a link on which nothing arrived for DEAD_AFTER is closed (PING
 * keeps quiet links busy); a peer's presence expires PRESENCE_EXPIRY after
 * its last PRESENCE frame, and our own is re-sent every PRESENCE_REFRESH so
 * that it stays alive while the user does not move.
 *
 * Writes: frames are appended to a per-link buffer and sealed into one
 * record per main-loop turn (a 0-delay clock timer), because libnice stalls
 * on bursts of tiny writes (PLATFORM.md).
 *
 * All timing goes through a FlowSyncClock, so the simulation in the tests
 * drives twenty rooms deterministically with a manual clock.
 */

#define G_LOG_DOMAIN "flow-room"

#include "config.h"

#include <math.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <sodium.h>

#include "flow-catalog.h"
#include "flow-chat.h"
#include "flow-room.h"

#define ATTEMPT_TIMEOUT_US   (20 * G_USEC_PER_SEC)
#define HEARTBEAT_US         (5 * G_USEC_PER_SEC)
#define DEAD_AFTER_US        (15 * G_USEC_PER_SEC)
#define PRESENCE_REFRESH_US  (10 * G_USEC_PER_SEC)
#define PRESENCE_EXPIRY_US   (30 * G_USEC_PER_SEC)
#define BACKOFF_MIN_US       (500 * 1000)
#define BACKOFF_MAX_US       (30 * G_USEC_PER_SEC)
#define RECORD_TARGET        (1024 * 1024)
#define WAITING_MAX_BYTES    (64 * 1024 * 1024)
#define SIGNAL_MAX_BYTES     (64 * 1024)
#define OPS_BYTES_MAX        (8 * 1024 * 1024)   /* one OPS frame; the frame limit is 16 MiB */
#define CHUNK_OPS            (1 << 20)           /* first try; halved while too large */
#define ANTI_ENTROPY_US      (30 * G_USEC_PER_SEC)
#define SEEN_ATTEMPTS_MAX    32

G_DEFINE_ENUM_TYPE (FlowRoomState, flow_room_state,
                    G_DEFINE_ENUM_VALUE (FLOW_ROOM_OFFLINE, "offline"),
                    G_DEFINE_ENUM_VALUE (FLOW_ROOM_CONNECTING, "connecting"),
                    G_DEFINE_ENUM_VALUE (FLOW_ROOM_CONNECTED, "connected"))

typedef enum
{
  LINK_NONE,        /* no link */
  LINK_OFFERING,    /* our link is gathering; the offer goes out when ready */
  LINK_OFFERED,     /* offer sent, waiting for the answer */
  LINK_ANSWERING,   /* got an offer; the answer goes out when ready */
  LINK_CONNECTING,  /* keys known, transport connecting */
  LINK_OPEN,        /* transport open, frames flow */
} LinkPhase;

typedef struct _Peer Peer;

struct _Peer
{
  gatomicrefcount      ref_count;
  FlowRoom            *room;
  char                *id;
  gboolean             removed;      /* no longer in room->peers */
  gboolean             member;       /* listed by signaling */
  gboolean             said_bye;     /* no reconnect until it joins again */

  /* Profile, from signaling presence and then HELLO. */
  char                *name;
  guint32              color;
  FlowReplicaId        replica;

  /* The current link attempt. */
  LinkPhase            phase;
  char                 attempt[17];
  FlowLink            *link;
  gulong               link_handlers[4];
  FlowSyncKeypair      keys;
  FlowSyncCipher      *cipher;
  FlowSyncFrameReader *reader;
  GByteArray          *out;          /* encoded frames not yet sealed */
  guint                flush_timer;
  guint                attempt_timer;
  guint                retry_timer;
  guint                heartbeat_timer;
  guint                summary_timer;
  guint                n_failures;
  GQueue               seen_attempts;  /* offers already answered: replays are ignored */
  gint64               last_rx;
  gint64               last_tx;
  guint64              ping_nonce;

  gboolean             has_presence;
  FlowSyncFrame        presence;
  gint64               presence_time;
};

typedef struct
{
  FlowOpId  id;
  FlowDoc  *doc;
  guint     change_id;
  gboolean  bursting;
} DocEntry;

struct _FlowRoom
{
  GObject          parent_instance;

  FlowWorkspace   *workspace;
  FlowSignaling   *signaling;
  gulong           signaling_handlers[6];
  gulong           document_added_handler;
  FlowSyncClock   *clock;
  FlowLinkFactory  link_factory;
  gpointer         link_factory_data;
  GDestroyNotify   link_factory_destroy;
  GRand           *rand;

  guint8           key[FLOW_SYNC_KEY_BYTES];
  guint8           signal_key[FLOW_SYNC_KEY_BYTES];
  char             room_id[FLOW_SYNC_ROOM_ID_LEN + 1];
  char            *peer_id;
  char            *name;
  guint32          color;

  gboolean         started;
  FlowRoomState    state;
  guint            n_connected;
  guint            join_timer;
  guint            n_join_failures;
  guint            docs_timer;
  guint            presence_timer;

  GHashTable      *peers;            /* id -> Peer */
  GHashTable      *docs;             /* FlowOpId* -> DocEntry */
  GHashTable      *waiting;          /* FlowOpId* -> GPtrArray of GBytes: ops of unknown docs */
  GHashTable      *loading;          /* FlowOpId*: documents being loaded in the background */
  gsize            waiting_bytes;
  Peer            *applying_from;    /* the peer whose batch is being applied... */
  FlowVersionVector *applying_version; /* ...and the ops of that batch */
  guint            update_timer;
  gboolean         peers_dirty;
  gsize            max_batch_bytes;   /* OPS_BYTES_MAX, smaller in tests */
  gboolean         has_unshared;      /* local edits made while no link was open */
  GPtrArray       *bursting;         /* DocEntry in a burst during this receive */

  gboolean         has_presence;
  FlowSyncFrame    presence;
  gint64           presence_sent;
  guint64          chat_lamport;
  guint64          chat_seq;
};

G_DEFINE_FINAL_TYPE (FlowRoom, flow_room, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_N_CONNECTED,
  PROP_HAS_UNSHARED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  PEERS_CHANGED,
  PRESENCE_CHANGED,
  CHAT,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void peer_reset          (Peer       *peer,
                                 const char *reason,
                                 gboolean    retry);

typedef struct
{
  FlowRoom *room;
  char     *peer;
  char     *name;
} ClosedNotice;

static void
closed_notice_free (gpointer data)
{
  ClosedNotice *notice = data;

  g_object_unref (notice->room);
  g_free (notice->peer);
  g_free (notice->name);
  g_free (notice);
}

static gboolean emit_closed_cb (gpointer data);
static void peer_start_attempt  (Peer       *peer);
static void update_state        (FlowRoom   *self);
static void send_summary        (Peer       *peer);

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static guint
op_id_hash (gconstpointer key)
{
  const FlowOpId *id = key;

  return (guint) (id->replica ^ (id->replica >> 32) ^ (id->seq * 0x9e3779b1u));
}

static gboolean
op_id_equal (gconstpointer a,
             gconstpointer b)
{
  return flow_op_id_equal (a, b);
}

static const FlowOpId catalog_id = { 0, 0 };

static void
random_hex (GRand *rand,
            char  *out,
            guint  n_chars)
{
  static const char digits[] = "0123456789abcdef";

  for (guint i = 0; i < n_chars; i++)
    out[i] = digits[g_rand_int_range (rand, 0, 16)];
  out[n_chars] = '\0';
}

static gint64
backoff (FlowRoom *self,
         guint     n_failures)
{
  gint64 d = BACKOFF_MIN_US;

  for (guint i = 0; i < n_failures && d < BACKOFF_MAX_US; i++)
    d *= 2;
  d = MIN (d, BACKOFF_MAX_US);
  /* Jitter, so that peers cut off together do not come back together. */
  return d / 2 + (gint64) (g_rand_double (self->rand) * (double) (d / 2));
}

/* ------------------------------------------------------------------------
 * Peers: sending
 * ------------------------------------------------------------------------ */

static void
peer_flush (Peer *peer)
{
  g_autoptr(GBytes) record = NULL;
  g_autoptr(GError) error = NULL;

  flow_sync_clock_clear (peer->room->clock, &peer->flush_timer);
  if (peer->phase != LINK_OPEN || peer->out->len == 0)
    return;

  record = flow_sync_cipher_seal (peer->cipher, peer->out->data, peer->out->len, FALSE);
  g_byte_array_set_size (peer->out, 0);
  peer->last_tx = flow_sync_clock_now (peer->room->clock);
  if (record == NULL || !flow_link_send (peer->link, record, &error))
    peer_reset (peer, error != NULL ? error->message : "could not encrypt", TRUE);
}

static void
flush_cb (gpointer data)
{
  Peer *peer = data;

  peer->flush_timer = 0;
  peer_flush (peer);
}

/* Queues an encoded frame; everything queued in one main-loop turn leaves
 * in one record. Frames queued before the link opens wait for it. */
static void
peer_queue (Peer   *peer,
            GBytes *frame)
{
  gsize len = 0;
  const guint8 *data;

  if (peer->out == NULL || frame == NULL)
    return;
  data = g_bytes_get_data (frame, &len);
  if (peer->out->len > 0 && peer->out->len + len > RECORD_TARGET)
    peer_flush (peer);
  if (peer->out == NULL)
    return;
  g_byte_array_append (peer->out, data, len);
  if (peer->phase == LINK_OPEN && peer->flush_timer == 0)
    peer->flush_timer = flow_sync_clock_schedule (peer->room->clock, 0, flush_cb, peer, NULL);
}

static void
peer_queue_frame (Peer                *peer,
                  const FlowSyncFrame *frame)
{
  g_autoptr(GBytes) bytes = flow_sync_frame_encode (frame);

  peer_queue (peer, bytes);
}

static void
peer_queue_ops (Peer           *peer,
                const FlowOpId *doc,
                GBytes         *batch)
{
  FlowSyncFrame frame = { .type = FLOW_SYNC_FRAME_OPS };

  frame.ops.doc = *doc;
  frame.ops.batch = batch;
  peer_queue_frame (peer, &frame);
}

/* ------------------------------------------------------------------------
 * Peers: life cycle
 * ------------------------------------------------------------------------ */

/* Peers are reference counted: a receive loop holds one while it hands
 * frames to code that may stop the room (and so remove every peer). */
static Peer *
peer_new (FlowRoom   *room,
          const char *id)
{
  Peer *peer = g_new0 (Peer, 1);

  g_atomic_ref_count_init (&peer->ref_count);
  peer->room = room;
  peer->id = g_strdup (id);
  g_queue_init (&peer->seen_attempts);
  return peer;
}

static Peer *
peer_ref (Peer *peer)
{
  g_atomic_ref_count_inc (&peer->ref_count);
  return peer;
}

static void
peer_unref (Peer *peer)
{
  if (!g_atomic_ref_count_dec (&peer->ref_count))
    return;
  flow_sync_frame_clear (&peer->presence);
  g_queue_clear_full (&peer->seen_attempts, g_free);
  g_free (peer->name);
  g_free (peer->id);
  g_free (peer);
}

/* The peers table's destroy notify: the peer leaves the room's life. */
static void
peer_remove (gpointer data)
{
  Peer *peer = data;

  peer_reset (peer, NULL, FALSE);
  flow_sync_clock_clear (peer->room->clock, &peer->retry_timer);
  peer->removed = TRUE;
  peer_unref (peer);
}

static gboolean
we_offer (FlowRoom *self,
          Peer     *peer)
{
  return strcmp (self->peer_id, peer->id) < 0;
}

/* Peers with a link attempt under way or open (@open_only: open). */
static guint
count_links (FlowRoom *self,
             gboolean  open_only)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      LinkPhase phase = ((Peer *) value)->phase;

      if (open_only ? phase == LINK_OPEN : phase != LINK_NONE)
        n++;
    }
  return n;
}

static void
retry_cb (gpointer data)
{
  Peer *peer = data;

  peer->retry_timer = 0;
  if (peer->phase == LINK_NONE && peer->member && !peer->said_bye && peer->room->started)
    peer_start_attempt (peer);
}

static void
schedule_retry (Peer *peer)
{
  FlowRoom *self = peer->room;

  if (!self->started || !peer->member || peer->said_bye || peer->retry_timer != 0)
    return;
  peer->retry_timer = flow_sync_clock_schedule (self->clock, backoff (self, peer->n_failures),
                                                retry_cb, peer, NULL);
  peer->n_failures++;
}

static GBytes *
seal_json (FlowRoom    *self,
           JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  return flow_sync_seal (self->signal_key, (const guint8 *) text, strlen (text));
}

static void
send_signal (Peer       *peer,
             const char *type,
             const char *description)
{
  FlowRoom *self = peer->room;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GBytes) sealed = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "t");
  json_builder_add_string_value (b, type);
  /* The sender and recipient travel sealed, so a server cannot redirect a
   * blob to somebody else. */
  json_builder_set_member_name (b, "from");
  json_builder_add_string_value (b, self->peer_id);
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, peer->id);
  json_builder_set_member_name (b, "a");
  json_builder_add_string_value (b, peer->attempt);
  if (description != NULL)
    {
      g_autofree char *pk = g_base64_encode (peer->keys.public_key, sizeof peer->keys.public_key);

      json_builder_set_member_name (b, "pk");
      json_builder_add_string_value (b, pk);
      json_builder_set_member_name (b, "d");
      json_builder_add_string_value (b, description);
    }
  json_builder_end_object (b);

  sealed = seal_json (self, b);
  flow_signaling_send_signal (self->signaling, peer->id, sealed);
}

static void
attempt_timeout_cb (gpointer data)
{
  Peer *peer = data;

  peer->attempt_timer = 0;
  peer_reset (peer, "no link after 20 s", TRUE);
}

static void link_description_ready_cb (FlowLink *link, Peer *peer);
static void link_opened_cb            (FlowLink *link, Peer *peer);
static void link_received_cb          (FlowLink *link, GBytes *data, Peer *peer);
static void link_closed_cb            (FlowLink *link, const char *reason, Peer *peer);

static void
peer_new_link (Peer     *peer,
               gboolean  controlling)
{
  FlowRoom *self = peer->room;

  peer->link = self->link_factory (controlling, self->link_factory_data);
  peer->link_handlers[0] = g_signal_connect (peer->link, "description-ready",
                                             G_CALLBACK (link_description_ready_cb), peer);
  peer->link_handlers[1] = g_signal_connect (peer->link, "opened",
                                             G_CALLBACK (link_opened_cb), peer);
  peer->link_handlers[2] = g_signal_connect (peer->link, "received",
                                             G_CALLBACK (link_received_cb), peer);
  peer->link_handlers[3] = g_signal_connect (peer->link, "closed",
                                             G_CALLBACK (link_closed_cb), peer);
  flow_sync_keypair_generate (&peer->keys);
  peer->out = g_byte_array_new ();
  peer->reader = flow_sync_frame_reader_new ();
  peer->attempt_timer = flow_sync_clock_schedule (self->clock, ATTEMPT_TIMEOUT_US,
                                                  attempt_timeout_cb, peer, NULL);
}

static void
peer_start_attempt (Peer *peer)
{
  FlowRoom *self = peer->room;

  if (count_links (self, FALSE) >= FLOW_ROOM_MAX_LINKS)
    {
      /* Try again later: a slot may free up. Meanwhile forwarding by the
       * peers we do link to carries the ops. */
      g_debug ("Room %s: not linking to %s, %u links already", self->room_id, peer->id,
               FLOW_ROOM_MAX_LINKS);
      schedule_retry (peer);
      return;
    }
  peer_reset (peer, NULL, FALSE);
  random_hex (self->rand, peer->attempt, 16);
  peer->phase = LINK_OFFERING;
  peer_new_link (peer, TRUE);
}

static void
update_cb (gpointer data)
{
  FlowRoom *self = data;
  GHashTableIter iter;
  gpointer value;

  self->update_timer = 0;

  /* Forget members that left and whose link is gone. */
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Peer *peer = value;

      if (!peer->member && peer->phase == LINK_NONE)
        {
          g_hash_table_iter_remove (&iter);
          self->peers_dirty = TRUE;
        }
    }

  update_state (self);
  if (self->peers_dirty)
    {
      self->peers_dirty = FALSE;
      g_signal_emit (self, signals[PEERS_CHANGED], 0);
    }
}

/* Membership or links changed: the state and ::peers-changed follow after
 * this main-loop turn, never from inside a callback that may be iterating
 * the peers. */
static void
queue_update (FlowRoom *self,
              gboolean  peers_changed)
{
  self->peers_dirty |= peers_changed;
  if (self->update_timer == 0 && self->clock != NULL)
    self->update_timer = flow_sync_clock_schedule (self->clock, 0, update_cb, self, NULL);
}

/* Drops the current link attempt (if any). With @retry and if we are the
 * offering side, a new attempt follows after a back-off; the answering side
 * asks the other for one. */
static void
peer_reset (Peer       *peer,
            const char *reason,
            gboolean    retry)
{
  FlowRoom *self = peer->room;
  gboolean was_open = peer->phase == LINK_OPEN;

  if (peer->phase == LINK_NONE && peer->link == NULL)
    goto out;

  if (reason != NULL)
    g_message ("Room %s: link to %s closed: %s", self->room_id, peer->id, reason);

  flow_sync_clock_clear (self->clock, &peer->flush_timer);
  flow_sync_clock_clear (self->clock, &peer->attempt_timer);
  flow_sync_clock_clear (self->clock, &peer->heartbeat_timer);
  flow_sync_clock_clear (self->clock, &peer->summary_timer);
  if (peer->link != NULL)
    {
      FlowLink *link = g_steal_pointer (&peer->link);

      for (guint i = 0; i < G_N_ELEMENTS (peer->link_handlers); i++)
        g_clear_signal_handler (&peer->link_handlers[i], link);
      flow_link_close (link, reason != NULL ? reason : "closed");
      g_object_unref (link);
    }
  flow_sync_keypair_clear (&peer->keys);
  g_clear_pointer (&peer->cipher, flow_sync_cipher_free);
  g_clear_pointer (&peer->reader, flow_sync_frame_reader_free);
  g_clear_pointer (&peer->out, g_byte_array_unref);
  peer->phase = LINK_NONE;
  if (self->applying_from == peer)
    self->applying_from = NULL;

  if (was_open || !peer->member)
    queue_update (self, TRUE);

out:
  if (retry && self->started && peer->member && !peer->said_bye)
    {
      if (we_offer (self, peer))
        schedule_retry (peer);
      else
        send_signal (peer, "retry", NULL);
    }
}

static Peer *
ensure_peer (FlowRoom   *self,
             const char *id)
{
  Peer *peer = g_hash_table_lookup (self->peers, id);

  if (peer == NULL)
    {
      peer = peer_new (self, id);
      g_hash_table_insert (self->peers, peer->id, peer);
    }
  return peer;
}

/* ------------------------------------------------------------------------
 * Links
 * ------------------------------------------------------------------------ */

static void
link_description_ready_cb (FlowLink *link,
                           Peer     *peer)
{
  g_autofree char *description = flow_link_dup_local_description (link);

  if (description == NULL)
    return;
  if (peer->phase == LINK_OFFERING)
    {
      send_signal (peer, "offer", description);
      peer->phase = LINK_OFFERED;
    }
  else if (peer->phase == LINK_ANSWERING)
    {
      send_signal (peer, "answer", description);
      peer->phase = LINK_CONNECTING;
    }
}

static void
heartbeat_cb (gpointer data)
{
  Peer *peer = data;
  FlowRoom *self = peer->room;
  gint64 now = flow_sync_clock_now (self->clock);

  peer->heartbeat_timer = 0;
  if (now - peer->last_rx >= DEAD_AFTER_US)
    {
      peer_reset (peer, "no heartbeat for 15 s", TRUE);
      return;
    }
  if (now - peer->last_tx >= HEARTBEAT_US - HEARTBEAT_US / 10)
    {
      FlowSyncFrame ping = { .type = FLOW_SYNC_FRAME_PING };

      ping.ping.nonce = ++peer->ping_nonce;
      peer_queue_frame (peer, &ping);
    }
  peer->heartbeat_timer = flow_sync_clock_schedule (self->clock, HEARTBEAT_US / 5,
                                                    heartbeat_cb, peer, NULL);
}

/* Anti-entropy: a SUMMARY now and then makes the other side resend
 * whatever we dropped (waiting ops over their limit, batches refused),
 * without waiting for the link to be rebuilt. */
static void
anti_entropy_cb (gpointer data)
{
  Peer *peer = data;

  peer->summary_timer = 0;
  if (peer->phase != LINK_OPEN)
    return;
  send_summary (peer);
  peer->summary_timer = flow_sync_clock_schedule (peer->room->clock, ANTI_ENTROPY_US,
                                                  anti_entropy_cb, peer, NULL);
}

static void
link_opened_cb (FlowLink *link,
                Peer     *peer)
{
  FlowRoom *self = peer->room;
  g_autoptr(GBytes) header = NULL;
  g_autoptr(GError) error = NULL;
  FlowSyncFrame hello = { .type = FLOW_SYNC_FRAME_HELLO };
  g_autoptr(GBytes) hello_bytes = NULL;
  g_autoptr(GByteArray) pending = NULL;

  if (peer->cipher == NULL)
    {
      peer_reset (peer, "the link opened before its keys were known", TRUE);
      return;
    }

  flow_sync_clock_clear (self->clock, &peer->attempt_timer);
  peer->phase = LINK_OPEN;
  peer->n_failures = 0;
  peer->last_rx = peer->last_tx = flow_sync_clock_now (self->clock);

  /* Our header goes first, in its own write; then HELLO and SUMMARY lead
   * whatever was queued while connecting. */
  header = flow_sync_cipher_start (peer->cipher);
  if (!flow_link_send (link, header, &error))
    {
      peer_reset (peer, error->message, TRUE);
      return;
    }
  pending = g_steal_pointer (&peer->out);
  peer->out = g_byte_array_new ();

  hello.hello.version = FLOW_SYNC_PROTOCOL_VERSION;
  hello.hello.replica = flow_store_get_replica (flow_workspace_get_store (self->workspace));
  hello.hello.name = self->name;
  hello.hello.color = self->color;
  hello_bytes = flow_sync_frame_encode (&hello);
  peer_queue (peer, hello_bytes);
  send_summary (peer);
  if (pending->len > 0)
    {
      g_autoptr(GBytes) rest = g_byte_array_free_to_bytes (g_steal_pointer (&pending));

      peer_queue (peer, rest);
    }
  if (self->has_presence)
    peer_queue_frame (peer, &self->presence);

  peer->heartbeat_timer = flow_sync_clock_schedule (self->clock, HEARTBEAT_US / 5,
                                                    heartbeat_cb, peer, NULL);
  peer->summary_timer = flow_sync_clock_schedule (self->clock, ANTI_ENTROPY_US,
                                                  anti_entropy_cb, peer, NULL);
  queue_update (self, TRUE);
}

static void
link_closed_cb (FlowLink   *link,
                const char *reason,
                Peer       *peer)
{
  peer_reset (peer, reason, TRUE);
}

/* ------------------------------------------------------------------------
 * Documents
 * ------------------------------------------------------------------------ */

static void broadcast_change (FlowDoc *doc, FlowChange *change, gpointer user_data);

static void
doc_entry_free (gpointer data)
{
  DocEntry *entry = data;

  if (entry->bursting)
    flow_doc_end_burst (entry->doc);
  flow_doc_remove_change_func (entry->doc, entry->change_id);
  g_object_unref (entry->doc);
  g_free (entry);
}

static DocEntry *
lookup_doc (FlowRoom       *self,
            const FlowOpId *id)
{
  return g_hash_table_lookup (self->docs, id);
}

static void apply_waiting (FlowRoom *self, DocEntry *entry);

static DocEntry *
add_doc (FlowRoom *self,
         FlowDoc  *doc)
{
  DocEntry *entry = lookup_doc (self, flow_doc_get_id (doc));

  if (entry != NULL)
    return entry;

  entry = g_new0 (DocEntry, 1);
  entry->id = *flow_doc_get_id (doc);
  entry->doc = g_object_ref (doc);
  entry->change_id = flow_doc_add_change_func (doc, broadcast_change, self, NULL);
  g_hash_table_insert (self->docs, &entry->id, entry);
  apply_waiting (self, entry);
  return entry;
}

static void
document_added_cb (FlowWorkspace *workspace,
                   FlowDoc       *doc,
                   FlowRoom      *self)
{
  add_doc (self, doc);
}

typedef struct
{
  FlowRoom *room;
  FlowOpId  id;
} DocLoad;

static void
doc_loaded_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree DocLoad *load = user_data;
  g_autoptr(FlowRoom) self = load->room;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) doc = flow_workspace_load_document_finish (FLOW_WORKSPACE (source), result, &error);

  if (self->loading != NULL)
    g_hash_table_remove (self->loading, &load->id);
  if (doc == NULL)
    g_warning ("Room %s: cannot load a shared document: %s", self->room_id, error->message);
  else if (self->started && self->docs != NULL)
    add_doc (self, doc);
}

/* Loads every document the catalog lists and we do not hold yet: at
 * start, at once (the app has them in memory by then); later, when a
 * peer's catalog names new ones, in the background, so the store's writer
 * thread never holds up the main loop. Their ops wait meanwhile, as for
 * any document not known yet. A manual clock (the simulation) drives the
 * room without a main loop to deliver the loads, and loads inline. */
static void
load_docs (FlowRoom *self,
           gboolean  background)
{
  g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (self->workspace), TRUE);

  /* The chat is shared like a document, without a catalog entry. */
  if (lookup_doc (self, &FLOW_CHAT_DOC_ID) == NULL)
    {
      g_autoptr(GError) error = NULL;
      FlowDoc *chat = flow_workspace_load_document (self->workspace, &FLOW_CHAT_DOC_ID, &error);

      if (chat == NULL)
        g_warning ("Room %s: cannot load the chat: %s", self->room_id, error->message);
      else
        add_doc (self, chat);
    }

  for (guint i = 0; i < entries->len; i++)
    {
      const FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);
      g_autoptr(GError) error = NULL;
      FlowDoc *doc;

      if (lookup_doc (self, &e->id) != NULL || g_hash_table_contains (self->loading, &e->id))
        continue;
      if (background)
        {
          DocLoad *load = g_new0 (DocLoad, 1);

          load->room = g_object_ref (self);
          load->id = e->id;
          g_hash_table_add (self->loading, g_memdup2 (&e->id, sizeof e->id));
          flow_workspace_load_document_async (self->workspace, &e->id, NULL, doc_loaded_cb, load);
          continue;
        }
      doc = flow_workspace_load_document (self->workspace, &e->id, &error);
      if (doc == NULL)
        g_warning ("Room %s: cannot load a shared document: %s", self->room_id, error->message);
      else
        add_doc (self, doc);
    }
}

static void
docs_timer_cb (gpointer data)
{
  FlowRoom *self = data;

  self->docs_timer = 0;
  load_docs (self, !flow_sync_clock_is_manual (self->clock));
}

static void
end_bursts (FlowRoom *self)
{
  for (guint i = 0; i < self->bursting->len; i++)
    {
      DocEntry *entry = g_ptr_array_index (self->bursting, i);

      entry->bursting = FALSE;
      flow_doc_end_burst (entry->doc);
    }
  g_ptr_array_set_size (self->bursting, 0);
}

typedef void (*BatchFunc) (GBytes *batch, gpointer user_data);

/* Hands the ops of @entry's document that @from lacks, among its first
 * @end_ops ops (local order, which is causal), to @func in batches that fit
 * an OPS frame: one batch when they fit, else chunks of consecutive ops,
 * each causally closed given the ones before it. */
static void
for_each_batch (FlowRoom                *self,
                DocEntry                *entry,
                const FlowVersionVector *from,
                guint64                  start_ops,
                guint64                  end_ops,
                BatchFunc                func,
                gpointer                 user_data)
{
  g_autoptr(FlowVersionVector) have = from != NULL ? flow_version_vector_copy (from)
                                                   : flow_version_vector_new ();
  guint64 step = CHUNK_OPS;

  while (start_ops < end_ops)
    {
      guint64 stop = MIN (start_ops + step, end_ops);
      g_autoptr(FlowVersionVector) to = flow_doc_dup_version_at (entry->doc, stop);
      g_autoptr(GBytes) batch = flow_doc_encode_between (entry->doc, have, to);

      if (batch != NULL && g_bytes_get_size (batch) > self->max_batch_bytes && stop - start_ops > 1)
        {
          step = MAX (1, (stop - start_ops) / 2);
          continue;
        }
      if (batch != NULL && g_bytes_get_size (batch) > OPS_BYTES_MAX)
        g_warning ("An op of %" G_GSIZE_FORMAT " bytes is too large to sync; it stays local",
                   g_bytes_get_size (batch));
      else if (batch != NULL)
        func (batch, user_data);
      flow_version_vector_merge (have, to);
      start_ops = stop;
    }
}

typedef struct
{
  FlowRoom *self;
  FlowOpId  doc;
  Peer     *skip;
} Broadcast;

static void
broadcast_batch (GBytes   *batch,
                 gpointer  user_data)
{
  Broadcast *b = user_data;
  FlowSyncFrame frame = { .type = FLOW_SYNC_FRAME_OPS };
  g_autoptr(GBytes) bytes = NULL;
  GHashTableIter iter;
  gpointer value;

  frame.ops.doc = b->doc;
  frame.ops.batch = batch;

  g_hash_table_iter_init (&iter, b->self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Peer *peer = value;

      if (peer == b->skip || peer->phase != LINK_OPEN)
        continue;
      if (bytes == NULL)
        bytes = flow_sync_frame_encode (&frame);
      peer_queue (peer, bytes);
    }
}

static void
set_has_unshared (FlowRoom *self,
                  gboolean  value)
{
  if (self->has_unshared == value)
    return;
  self->has_unshared = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_UNSHARED]);
}

static void
broadcast_change (FlowDoc    *doc,
                  FlowChange *change,
                  gpointer    user_data)
{
  FlowRoom *self = user_data;
  Broadcast b = { self, *flow_doc_get_id (doc), NULL };
  GBytes *bytes = flow_change_get_bytes (change);

  if (flow_change_is_local (change) && count_links (self, TRUE) == 0)
    set_has_unshared (self, TRUE);

  /* A catalog change may name documents we have not loaded: load them
   * after this notification, not inside it. */
  if (flow_op_id_equal (flow_doc_get_id (doc), &catalog_id) && self->docs_timer == 0 && self->started)
    self->docs_timer = flow_sync_clock_schedule (self->clock, 0, docs_timer_cb, self, NULL);

  /* Everyone but the peer that sent us these very ops. A batch may also
   * release older ops that waited for it (sent by others): those go to
   * the sender too, since it may not have them. */
  if (self->applying_from != NULL && self->applying_version != NULL &&
      flow_version_vector_contains (self->applying_version, flow_change_get_first_op (change)))
    b.skip = self->applying_from;

  if (g_bytes_get_size (bytes) <= self->max_batch_bytes)
    broadcast_batch (bytes, &b);
  else
    {
      /* The change's ops are the document's last ones. */
      guint64 n = flow_doc_get_n_ops (doc);
      guint64 first = n - flow_change_get_n_ops (change);
      g_autoptr(FlowVersionVector) before = flow_doc_dup_version_at (doc, first);

      for_each_batch (self, lookup_doc (self, flow_doc_get_id (doc)), before, first, n, broadcast_batch, &b);
    }
}

/* We dropped ops: a SUMMARY to every linked peer makes them resend what we
 * lack, without waiting for a link to be rebuilt. */
static void
request_resend (FlowRoom *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Peer *) value)->phase == LINK_OPEN)
      send_summary (value);
}

static void
apply_ops (FlowRoom       *self,
           Peer           *peer,
           DocEntry       *entry,
           GBytes         *batch)
{
  g_autoptr(GError) error = NULL;
  Peer *previous = self->applying_from;

  if (!entry->bursting)
    {
      entry->bursting = TRUE;
      flow_doc_begin_burst (entry->doc);
      g_ptr_array_add (self->bursting, entry);
    }

  self->applying_from = peer;
  g_clear_pointer (&self->applying_version, flow_version_vector_free);
  if (peer != NULL)
    self->applying_version = flow_batch_dup_version (batch, NULL);
  if (!flow_doc_apply (entry->doc, batch, &error))
    {
      self->applying_from = previous;
      g_clear_pointer (&self->applying_version, flow_version_vector_free);
      if (peer != NULL)
        {
          g_autofree char *reason = g_strdup_printf ("invalid ops: %s", error->message);

          peer_reset (peer, reason, TRUE);
        }
      else
        {
          g_message ("Room %s: dropped invalid ops: %s", self->room_id, error->message);
          request_resend (self);
        }
      return;
    }
  self->applying_from = previous;
  g_clear_pointer (&self->applying_version, flow_version_vector_free);
}

static void
apply_waiting (FlowRoom *self,
               DocEntry *entry)
{
  g_autoptr(GPtrArray) batches = NULL;
  g_autofree FlowOpId *key = NULL;

  if (!g_hash_table_steal_extended (self->waiting, &entry->id, (gpointer *) &key, (gpointer *) &batches))
    return;
  for (guint i = 0; i < batches->len; i++)
    {
      GBytes *batch = g_ptr_array_index (batches, i);

      self->waiting_bytes -= g_bytes_get_size (batch);
      apply_ops (self, NULL, entry, batch);
    }
}

static void
stash_ops (FlowRoom       *self,
           const FlowOpId *doc,
           GBytes         *batch)
{
  GPtrArray *batches;

  /* Ops of a document whose catalog entry has not arrived yet. Bounded:
   * past the limit they are dropped, and the next catch-up resends them. */
  if (self->waiting_bytes + g_bytes_get_size (batch) > WAITING_MAX_BYTES)
    {
      g_message ("Room %s: dropping ops of an unknown document (over %u MiB waiting)",
                 self->room_id, WAITING_MAX_BYTES >> 20);
      request_resend (self);
      return;
    }
  batches = g_hash_table_lookup (self->waiting, doc);
  if (batches == NULL)
    {
      FlowOpId *key = g_memdup2 (doc, sizeof *doc);

      batches = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      g_hash_table_insert (self->waiting, key, batches);
    }
  g_ptr_array_add (batches, g_bytes_ref (batch));
  self->waiting_bytes += g_bytes_get_size (batch);
}

static void
send_summary (Peer *peer)
{
  FlowRoom *self = peer->room;
  FlowSyncFrame frame = { .type = FLOW_SYNC_FRAME_SUMMARY };
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->docs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DocEntry *entry = value;
      g_autoptr(FlowVersionVector) vv = flow_doc_dup_version (entry->doc);
      g_autoptr(GBytes) bytes = flow_version_vector_encode (vv);

      flow_sync_frame_summary_add (&frame, &entry->id, bytes);
    }
  peer_queue_frame (peer, &frame);
  flow_sync_frame_clear (&frame);
}

typedef struct
{
  Peer     *peer;
  FlowOpId  doc;
} Missing;

static void
queue_missing (GBytes   *batch,
               gpointer  user_data)
{
  Missing *m = user_data;

  peer_queue_ops (m->peer, &m->doc, batch);
}

static void
send_missing (Peer                    *peer,
              DocEntry                *entry,
              const FlowVersionVector *theirs)
{
  g_autoptr(FlowVersionVector) ours = flow_doc_dup_version (entry->doc);
  Missing m = { peer, entry->id };

  g_autoptr(GBytes) batch = NULL;

  if (theirs != NULL && flow_version_vector_includes (theirs, ours))
    return;
  /* Usually it all fits one frame; chunks only for huge histories. */
  batch = theirs != NULL ? flow_doc_encode_since (entry->doc, theirs) : flow_doc_encode (entry->doc);
  if (batch != NULL && g_bytes_get_size (batch) <= peer->room->max_batch_bytes)
    queue_missing (batch, &m);
  else if (batch != NULL)
    for_each_batch (peer->room, entry, theirs, 0, flow_doc_get_n_ops (entry->doc), queue_missing, &m);
}

/* Answers a SUMMARY with what the peer lacks: the catalog first, so that
 * the documents exist on its side before their ops arrive. */
static void
handle_summary (Peer                *peer,
                const FlowSyncFrame *frame)
{
  FlowRoom *self = peer->room;
  g_autoptr(GHashTable) theirs = g_hash_table_new_full (op_id_hash, op_id_equal, NULL,
                                                         (GDestroyNotify) flow_version_vector_free);
  GHashTableIter iter;
  gpointer value;
  DocEntry *catalog;

  for (guint i = 0; frame->summary.entries != NULL && i < frame->summary.entries->len; i++)
    {
      const FlowSyncSummaryEntry *e = &g_array_index (frame->summary.entries, FlowSyncSummaryEntry, i);
      g_autoptr(GError) error = NULL;
      FlowVersionVector *vv = flow_version_vector_decode (e->version, &error);

      if (vv == NULL)
        {
          g_autofree char *reason = g_strdup_printf ("invalid SUMMARY: %s", error->message);

          peer_reset (peer, reason, TRUE);
          return;
        }
      g_hash_table_replace (theirs, (gpointer) &e->doc, vv);
    }

  catalog = lookup_doc (self, &catalog_id);
  if (catalog != NULL)
    send_missing (peer, catalog, g_hash_table_lookup (theirs, &catalog_id));
  /* What follows hands this peer everything it lacks: nothing of ours is
   * unshared any more once it is queued on an open link. */
  g_hash_table_iter_init (&iter, self->docs);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DocEntry *entry = value;

      if (entry != catalog)
        send_missing (peer, entry, g_hash_table_lookup (theirs, &entry->id));
    }
  if (peer->phase == LINK_OPEN)
    set_has_unshared (self, FALSE);
}

/* ------------------------------------------------------------------------
 * Receiving
 * ------------------------------------------------------------------------ */

static void
handle_frame (Peer          *peer,
              FlowSyncFrame *frame)
{
  FlowRoom *self = peer->room;

  switch (frame->type)
    {
    case FLOW_SYNC_FRAME_HELLO:
      peer->replica = frame->hello.replica;
      g_free (peer->name);
      peer->name = g_strdup (frame->hello.name);
      peer->color = frame->hello.color;
      queue_update (self, TRUE);
      break;

    case FLOW_SYNC_FRAME_SUMMARY:
      handle_summary (peer, frame);
      break;

    case FLOW_SYNC_FRAME_OPS:
      {
        DocEntry *entry = lookup_doc (self, &frame->ops.doc);

        if (entry != NULL)
          apply_ops (self, peer, entry, frame->ops.batch);
        else
          stash_ops (self, &frame->ops.doc, frame->ops.batch);
      }
      break;

    case FLOW_SYNC_FRAME_PRESENCE:
      flow_sync_frame_clear (&peer->presence);
      peer->presence = *frame;
      memset (frame, 0, sizeof *frame);   /* ownership moved */
      peer->has_presence = TRUE;
      peer->presence_time = flow_sync_clock_now (self->clock);
      g_signal_emit (self, signals[PRESENCE_CHANGED], 0, peer->id);
      break;

    case FLOW_SYNC_FRAME_CHAT:
      g_signal_emit (self, signals[CHAT], 0, peer->id, peer->name, frame->chat.text,
                     frame->chat.time);
      break;

    case FLOW_SYNC_FRAME_PING:
      {
        FlowSyncFrame pong = { .type = FLOW_SYNC_FRAME_PONG };

        pong.ping.nonce = frame->ping.nonce;
        peer_queue_frame (peer, &pong);
      }
      break;

    case FLOW_SYNC_FRAME_PONG:
      break;

    case FLOW_SYNC_FRAME_BYE:
      peer->said_bye = TRUE;
      if (frame->bye.code == FLOW_SYNC_BYE_CLOSED)
        {
          /* Told from an idle: a handler may well stop and drop the room. */
          ClosedNotice *notice = g_new0 (ClosedNotice, 1);

          notice->room = g_object_ref (self);
          notice->peer = g_strdup (peer->id);
          notice->name = g_strdup (peer->name);
          g_idle_add_full (G_PRIORITY_DEFAULT, emit_closed_cb, notice, closed_notice_free);
        }
      {
        g_autofree char *reason = g_strdup_printf ("the peer left (%s)",
                                                   frame->bye.text != NULL ? frame->bye.text : "bye");

        peer_reset (peer, reason, FALSE);
      }
      break;

    case FLOW_SYNC_FRAME_UNKNOWN:
    default:
      break;
    }
}

static void
link_received_cb (FlowLink *link,
                  GBytes   *data,
                  Peer     *peer)
{
  FlowRoom *self = peer->room;
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gboolean final = FALSE;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (peer->phase != LINK_OPEN)
    return;

  peer->last_rx = flow_sync_clock_now (self->clock);
  if (!flow_sync_cipher_feed (peer->cipher, bytes, len, plain, &final, &error))
    {
      g_autofree char *reason = g_strdup_printf ("rejected an encrypted record: %s", error->message);

      peer_reset (peer, reason, TRUE);
      return;
    }
  if (plain->len == 0 && !final)
    return;

  flow_sync_frame_reader_feed (peer->reader, plain->data, plain->len);
  /* Handlers of the signals emitted below may stop the room, which drops
   * every peer: keep both alive until the loop is done. */
  g_object_ref (self);
  peer_ref (peer);
  for (;;)
    {
      g_auto(FlowSyncFrame) frame = { 0 };

      if (!flow_sync_frame_reader_pop (peer->reader, &frame, &error))
        {
          if (error != NULL)
            {
              g_autofree char *reason = g_strdup_printf ("malformed frame: %s", error->message);

              peer_reset (peer, reason, TRUE);
            }
          break;
        }
      handle_frame (peer, &frame);
      /* A frame may end the link (BYE, invalid ops), or a handler the
       * room (and with it this peer). */
      if (peer->removed || peer->phase != LINK_OPEN)
        break;
    }
  if (final && !peer->removed && peer->phase == LINK_OPEN)
    {
      peer->said_bye = TRUE;
      peer_reset (peer, flow_sync_frame_reader_get_pending (peer->reader) > 0
                          ? "the peer ended the stream inside a frame (truncated)"
                          : "the peer ended the stream", FALSE);
    }
  end_bursts (self);
  peer_unref (peer);
  g_object_unref (self);
}

/* ------------------------------------------------------------------------
 * Signaling
 * ------------------------------------------------------------------------ */

static void
answer_offer (Peer        *peer,
              const char  *attempt,
              const guint8 their_pk[FLOW_SYNC_PUBLIC_BYTES],
              const char  *description)
{
  FlowRoom *self = peer->room;
  g_autoptr(GError) error = NULL;
  guint8 rx[FLOW_SYNC_KEY_BYTES], tx[FLOW_SYNC_KEY_BYTES];

  if (peer->phase == LINK_NONE && count_links (self, FALSE) >= FLOW_ROOM_MAX_LINKS)
    {
      g_debug ("Room %s: ignoring an offer from %s, %u links already", self->room_id, peer->id,
               FLOW_ROOM_MAX_LINKS);
      return;
    }

  /* An offer answered before is a replay (the server may repeat blobs it
   * relayed): it must not tear down the link it created. */
  for (GList *l = peer->seen_attempts.head; l != NULL; l = l->next)
    if (g_str_equal (l->data, attempt))
      {
        g_debug ("Room %s: ignoring a replayed offer from %s", self->room_id, peer->id);
        return;
      }
  g_queue_push_tail (&peer->seen_attempts, g_strdup (attempt));
  if (peer->seen_attempts.length > SEEN_ATTEMPTS_MAX)
    g_free (g_queue_pop_head (&peer->seen_attempts));

  /* A new offer replaces whatever we had: the other side started over. */
  peer_reset (peer, peer->phase != LINK_NONE ? "replaced by a new offer" : NULL, FALSE);
  flow_sync_clock_clear (self->clock, &peer->retry_timer);
  g_strlcpy (peer->attempt, attempt, sizeof peer->attempt);
  peer->phase = LINK_ANSWERING;
  peer_new_link (peer, FALSE);

  if (!flow_sync_session_keys (&peer->keys, their_pk, FALSE, rx, tx, &error) ||
      !flow_link_set_remote_description (peer->link, description, &error))
    {
      g_autofree char *reason = g_strdup_printf ("unusable offer: %s", error->message);

      peer_reset (peer, reason, FALSE);
      return;
    }
  peer->cipher = flow_sync_cipher_new (tx, rx);
  sodium_memzero (rx, sizeof rx);
  sodium_memzero (tx, sizeof tx);
}

static void
take_answer (Peer        *peer,
             const char  *attempt,
             const guint8 their_pk[FLOW_SYNC_PUBLIC_BYTES],
             const char  *description)
{
  g_autoptr(GError) error = NULL;
  guint8 rx[FLOW_SYNC_KEY_BYTES], tx[FLOW_SYNC_KEY_BYTES];

  if (peer->phase != LINK_OFFERED || strcmp (attempt, peer->attempt) != 0)
    return;   /* an answer to an attempt we gave up on */

  if (!flow_sync_session_keys (&peer->keys, their_pk, TRUE, rx, tx, &error) ||
      !flow_link_set_remote_description (peer->link, description, &error))
    {
      g_autofree char *reason = g_strdup_printf ("unusable answer: %s", error->message);

      peer_reset (peer, reason, TRUE);
      return;
    }
  peer->cipher = flow_sync_cipher_new (tx, rx);
  sodium_memzero (rx, sizeof rx);
  sodium_memzero (tx, sizeof tx);
  peer->phase = LINK_CONNECTING;
}

static gboolean
get_string (JsonObject  *object,
            const char  *name,
            const char **out)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

static void
signal_cb (FlowSignaling *signaling,
           const char    *from,
           GBytes        *data,
           FlowRoom      *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;
  const char *type, *sender, *recipient, *attempt, *pk = NULL, *description = NULL;
  g_autofree guint8 *their_pk = NULL;
  gsize pk_len = 0;
  Peer *peer;
  gsize len;
  const char *text;

  if (g_bytes_get_size (data) > SIGNAL_MAX_BYTES)
    {
      g_message ("Room %s: dropped an oversized signal from %s", self->room_id, from);
      return;
    }
  plain = flow_sync_open (self->signal_key, data, &error);
  if (plain == NULL)
    {
      g_message ("Room %s: dropped a signal from %s that does not authenticate: %s",
                 self->room_id, from, error->message);
      return;
    }
  text = g_bytes_get_data (plain, &len);
  if (!json_parser_load_from_data (parser, text, (gssize) len, &error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_message ("Room %s: dropped a malformed signal from %s", self->room_id, from);
      return;
    }
  object = json_node_get_object (root);
  if (!get_string (object, "t", &type) || !get_string (object, "from", &sender) ||
      !get_string (object, "to", &recipient) || !get_string (object, "a", &attempt) ||
      strcmp (sender, from) != 0 || strcmp (recipient, self->peer_id) != 0 ||
      strlen (attempt) != 16 || strcmp (from, self->peer_id) == 0)
    {
      g_message ("Room %s: dropped a signal from %s with a wrong envelope", self->room_id, from);
      return;
    }

  peer = ensure_peer (self, from);
  peer->member = TRUE;
  peer->said_bye = FALSE;

  if (g_str_equal (type, "retry"))
    {
      /* Only for our current attempt: an old retry replayed by the server
       * must not break a working link. */
      if (we_offer (self, peer) && strcmp (attempt, peer->attempt) == 0 &&
          peer->phase != LINK_OFFERING && peer->phase != LINK_OFFERED)
        {
          peer_reset (peer, NULL, FALSE);
          schedule_retry (peer);
        }
      return;
    }

  if (!get_string (object, "pk", &pk) || !get_string (object, "d", &description) ||
      (their_pk = g_base64_decode (pk, &pk_len)) == NULL || pk_len != FLOW_SYNC_PUBLIC_BYTES)
    {
      g_message ("Room %s: dropped a signal from %s without keys", self->room_id, from);
      return;
    }

  if (g_str_equal (type, "offer") && !we_offer (self, peer))
    answer_offer (peer, attempt, their_pk, description);
  else if (g_str_equal (type, "answer") && we_offer (self, peer))
    take_answer (peer, attempt, their_pk, description);
  else
    g_message ("Room %s: dropped an unexpected “%s” from %s", self->room_id, type, from);
}

static void
member_seen (FlowRoom   *self,
             const char *id)
{
  Peer *peer;

  if (strcmp (id, self->peer_id) == 0 || !flow_signaling_peer_id_is_valid (id))
    return;
  peer = ensure_peer (self, id);
  peer->member = TRUE;
  peer->said_bye = FALSE;
  if (we_offer (self, peer) && peer->phase == LINK_NONE && peer->retry_timer == 0)
    peer_start_attempt (peer);
}

static void send_profile (FlowRoom *self);

static void
joined_cb (FlowSignaling *signaling,
           GStrv          peers,
           FlowRoom      *self)
{
  self->n_join_failures = 0;
  for (guint i = 0; peers[i] != NULL; i++)
    member_seen (self, peers[i]);
  send_profile (self);
  queue_update (self, TRUE);
}

static void
peer_joined_cb (FlowSignaling *signaling,
                const char    *id,
                FlowRoom      *self)
{
  member_seen (self, id);
  send_profile (self);
  queue_update (self, TRUE);
}

static void
peer_left_cb (FlowSignaling *signaling,
              const char    *id,
              FlowRoom      *self)
{
  Peer *peer = g_hash_table_lookup (self->peers, id);

  if (peer == NULL)
    return;
  peer->member = FALSE;
  flow_sync_clock_clear (self->clock, &peer->retry_timer);
  /* An open link outlives the peer's signaling connection (the update
   * forgets the peer once the link is gone too); anything else goes. */
  if (peer->phase != LINK_OPEN)
    peer_reset (peer, NULL, FALSE);
  queue_update (self, TRUE);
}

static void
presence_cb (FlowSignaling *signaling,
             const char    *from,
             GBytes        *data,
             FlowRoom      *self)
{
  g_autoptr(GBytes) plain = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;
  JsonObject *object;
  const char *name;
  Peer *peer;
  gsize len;
  const char *text;

  plain = flow_sync_open (self->signal_key, data, NULL);
  if (plain == NULL)
    return;
  text = g_bytes_get_data (plain, &len);
  if (!json_parser_load_from_data (parser, text, (gssize) len, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return;
  object = json_node_get_object (root);
  if (!get_string (object, "name", &name) || !g_utf8_validate (name, -1, NULL) ||
      strlen (name) > FLOW_SYNC_NAME_MAX || strcmp (from, self->peer_id) == 0)
    return;

  peer = g_hash_table_lookup (self->peers, from);
  if (peer == NULL || peer->replica != 0)
    return;   /* HELLO, which came over the link itself, wins */
  g_free (peer->name);
  peer->name = g_strdup (name);
  {
    JsonNode *color = json_object_get_member (object, "color");

    if (color != NULL && JSON_NODE_HOLDS_VALUE (color) && json_node_get_value_type (color) == G_TYPE_INT64)
      peer->color = (guint32) json_node_get_int (color);
  }
  queue_update (self, TRUE);
}

/* Our name and colour for the room's member list, sealed like everything
 * the server relays. */
static void
send_profile (FlowRoom *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GBytes) sealed = NULL;

  if (flow_signaling_get_state (self->signaling) != FLOW_SIGNALING_JOINED)
    return;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, self->name != NULL ? self->name : "");
  json_builder_set_member_name (b, "color");
  json_builder_add_int_value (b, self->color);
  json_builder_end_object (b);
  sealed = seal_json (self, b);
  flow_signaling_send_presence (self->signaling, sealed);
}

static void
join_cb (gpointer data)
{
  FlowRoom *self = data;

  self->join_timer = 0;
  if (self->started)
    flow_signaling_join (self->signaling, self->room_id, self->peer_id);
  queue_update (self, FALSE);
}

static void
failed_cb (FlowSignaling *signaling,
           const char    *message,
           FlowRoom      *self)
{
  gint64 delay;

  if (!self->started)
    return;
  delay = backoff (self, self->n_join_failures++);
  g_message ("Room %s: rendezvous: %s; retrying in %.1f s", self->room_id, message,
             delay / (double) G_USEC_PER_SEC);
  flow_sync_clock_clear (self->clock, &self->join_timer);
  self->join_timer = flow_sync_clock_schedule (self->clock, delay, join_cb, self, NULL);
  queue_update (self, FALSE);
}

/* ------------------------------------------------------------------------
 * State and presence
 * ------------------------------------------------------------------------ */

static void
update_state (FlowRoom *self)
{
  FlowRoomState state;
  guint n_open = count_links (self, TRUE);
  FlowSignalingState sig;

  sig = self->started ? flow_signaling_get_state (self->signaling) : FLOW_SIGNALING_IDLE;
  if (!self->started)
    state = FLOW_ROOM_OFFLINE;
  else if (n_open > 0)
    state = FLOW_ROOM_CONNECTED;
  else if (sig == FLOW_SIGNALING_JOINED)
    state = g_hash_table_size (self->peers) > 0 ? FLOW_ROOM_CONNECTING : FLOW_ROOM_CONNECTED;
  else if (sig == FLOW_SIGNALING_JOINING)
    state = FLOW_ROOM_CONNECTING;
  else
    state = FLOW_ROOM_OFFLINE;

  g_object_freeze_notify (G_OBJECT (self));
  if (state != self->state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  if (n_open != self->n_connected)
    {
      self->n_connected = n_open;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CONNECTED]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static void
broadcast_frame (FlowRoom            *self,
                 const FlowSyncFrame *frame)
{
  g_autoptr(GBytes) bytes = flow_sync_frame_encode (frame);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Peer *) value)->phase == LINK_OPEN)
      peer_queue (value, bytes);
}

static void
presence_timer_cb (gpointer data)
{
  FlowRoom *self = data;
  gint64 now = flow_sync_clock_now (self->clock);
  GHashTableIter iter;
  gpointer value;

  g_autoptr(GPtrArray) expired = g_ptr_array_new_with_free_func (g_free);

  self->presence_timer = 0;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Peer *peer = value;

      if (peer->has_presence && now - peer->presence_time >= PRESENCE_EXPIRY_US)
        {
          peer->has_presence = FALSE;
          flow_sync_frame_clear (&peer->presence);
          g_ptr_array_add (expired, g_strdup (peer->id));
        }
    }

  if (self->has_presence && now - self->presence_sent >= PRESENCE_REFRESH_US)
    {
      broadcast_frame (self, &self->presence);
      self->presence_sent = now;
    }

  if (self->started)
    self->presence_timer = flow_sync_clock_schedule (self->clock, G_USEC_PER_SEC,
                                                     presence_timer_cb, self, NULL);

  /* Emitted last: a handler may stop the room. */
  g_object_ref (self);
  for (guint i = 0; i < expired->len; i++)
    g_signal_emit (self, signals[PRESENCE_CHANGED], 0, g_ptr_array_index (expired, i));
  g_object_unref (self);
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

static void
flow_room_dispose (GObject *object)
{
  FlowRoom *self = FLOW_ROOM (object);

  if (self->started)
    flow_room_stop (self);
  if (self->signaling != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (self->signaling_handlers); i++)
      g_clear_signal_handler (&self->signaling_handlers[i], self->signaling);
  if (self->workspace != NULL)
    g_clear_signal_handler (&self->document_added_handler, self->workspace);
  if (self->peers != NULL)
    g_hash_table_remove_all (self->peers);
  g_clear_pointer (&self->docs, g_hash_table_unref);
  g_clear_pointer (&self->waiting, g_hash_table_unref);
  g_clear_pointer (&self->loading, g_hash_table_unref);
  if (self->clock != NULL)
    {
      flow_sync_clock_clear (self->clock, &self->join_timer);
      flow_sync_clock_clear (self->clock, &self->docs_timer);
      flow_sync_clock_clear (self->clock, &self->presence_timer);
      flow_sync_clock_clear (self->clock, &self->update_timer);
    }
  g_clear_pointer (&self->applying_version, flow_version_vector_free);
  g_clear_object (&self->signaling);
  g_clear_object (&self->workspace);
  if (self->link_factory_destroy != NULL)
    g_clear_pointer (&self->link_factory_data, self->link_factory_destroy);

  G_OBJECT_CLASS (flow_room_parent_class)->dispose (object);
}

static void
flow_room_finalize (GObject *object)
{
  FlowRoom *self = FLOW_ROOM (object);

  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->bursting, g_ptr_array_unref);
  g_clear_object (&self->clock);
  g_clear_pointer (&self->rand, g_rand_free);
  flow_sync_frame_clear (&self->presence);
  sodium_memzero (self->key, sizeof self->key);
  sodium_memzero (self->signal_key, sizeof self->signal_key);
  g_free (self->peer_id);
  g_free (self->name);

  G_OBJECT_CLASS (flow_room_parent_class)->finalize (object);
}

static void
flow_room_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  FlowRoom *self = FLOW_ROOM (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_N_CONNECTED:
      g_value_set_uint (value, self->n_connected);
      break;
    case PROP_HAS_UNSHARED:
      g_value_set_boolean (value, self->has_unshared);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_room_class_init (FlowRoomClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_room_dispose;
  object_class->finalize = flow_room_finalize;
  object_class->get_property = flow_room_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, FLOW_TYPE_ROOM_STATE, FLOW_ROOM_OFFLINE,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_CONNECTED] =
    g_param_spec_uint ("n-connected", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * FlowRoom:has-unshared:
   *
   * Whether we hold local edits that no peer has been sent yet: edits made
   * while no link was open. It turns %FALSE once a linked peer's SUMMARY
   * has been answered with everything it lacked (the UI shows "not yet
   * shared" meanwhile, and may say "all changes shared" after).
   */
  properties[PROP_HAS_UNSHARED] =
    g_param_spec_boolean ("has-unshared", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FlowRoom::peers-changed:
   *
   * A member joined or left, a link opened or closed, or a peer's name
   * changed: call flow_room_list_peers() again.
   */
  signals[PEERS_CHANGED] =
    g_signal_new ("peers-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * FlowRoom::presence-changed:
   * @peer: the peer id
   *
   * The peer's presence changed or expired.
   */
  signals[PRESENCE_CHANGED] =
    g_signal_new ("presence-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * FlowRoom::chat:
   * @peer: the sender's peer id
   * @name: (nullable): the sender's name
   * @text: the message
   * @time: when it was sent, Unix time in microseconds (the sender's clock)
   */
  signals[CHAT] =
    g_signal_new ("chat", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64);
  /**
   * FlowRoom::closed:
   * @peer: the peer id of who closed the room
   * @name: (nullable): its name
   *
   * A peer left asking everyone to leave (flow_room_close()): its room
   * key was replaced. Emitted from the main loop, never during a receive.
   */
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
flow_room_init (FlowRoom *self)
{
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, peer_remove);
  self->docs = g_hash_table_new_full (op_id_hash, op_id_equal, NULL, doc_entry_free);
  self->waiting = g_hash_table_new_full (op_id_hash, op_id_equal, g_free,
                                         (GDestroyNotify) g_ptr_array_unref);
  self->loading = g_hash_table_new_full (op_id_hash, op_id_equal, g_free, NULL);
  self->bursting = g_ptr_array_new ();
  self->rand = g_rand_new ();
  self->color = 0x3584e4ff;
  self->max_batch_bytes = OPS_BYTES_MAX;
}

/* ------------------------------------------------------------------------
 * API
 * ------------------------------------------------------------------------ */

/**
 * flow_room_new:
 * @workspace: the workspace to share (one room is one workspace)
 * @key: the room key from the invite link
 * @signaling: how to find the other members
 * @link_factory: creates links to them
 *
 * Creates a room; nothing happens before flow_room_start().
 */
FlowRoom *
flow_room_new (FlowWorkspace   *workspace,
               const guint8     key[FLOW_SYNC_KEY_BYTES],
               FlowSignaling   *signaling,
               FlowLinkFactory  link_factory,
               gpointer         user_data,
               GDestroyNotify   destroy)
{
  FlowRoom *self;

  g_return_val_if_fail (FLOW_IS_WORKSPACE (workspace), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (FLOW_IS_SIGNALING (signaling), NULL);
  g_return_val_if_fail (link_factory != NULL, NULL);

  self = g_object_new (FLOW_TYPE_ROOM, NULL);
  self->workspace = g_object_ref (workspace);
  self->signaling = g_object_ref (signaling);
  self->link_factory = link_factory;
  self->link_factory_data = user_data;
  self->link_factory_destroy = destroy;
  memcpy (self->key, key, FLOW_SYNC_KEY_BYTES);
  flow_sync_signaling_key (self->key, self->signal_key);
  flow_sync_room_id_for_key (self->key, self->room_id);
  return self;
}

/* Before flow_room_start(): the clock for every timer (default: the real
 * one on the caller's main context). */
void
flow_room_set_clock (FlowRoom      *self,
                     FlowSyncClock *clock)
{
  g_return_if_fail (FLOW_IS_ROOM (self));
  g_return_if_fail (!self->started);

  g_set_object (&self->clock, clock);
}

/* Before flow_room_start(): makes peer ids, attempt ids and back-off
 * jitter reproducible (the simulation). */
void
flow_room_set_seed (FlowRoom *self,
                    guint32   seed)
{
  g_return_if_fail (FLOW_IS_ROOM (self));
  g_return_if_fail (!self->started);

  g_rand_set_seed (self->rand, seed);
}

/* For tests: the size above which a batch is split into several OPS
 * frames (default and maximum 8 MiB). */
void
flow_room_set_max_batch_bytes (FlowRoom *self,
                               gsize     bytes)
{
  g_return_if_fail (FLOW_IS_ROOM (self));
  g_return_if_fail (bytes > 0);

  self->max_batch_bytes = MIN (bytes, OPS_BYTES_MAX);
}

/* The name and colour (0xRRGGBBAA) the others see. */
void
flow_room_set_profile (FlowRoom   *self,
                       const char *name,
                       guint32     color)
{
  g_return_if_fail (FLOW_IS_ROOM (self));

  g_free (self->name);
  self->name = g_utf8_make_valid (name != NULL ? name : "", -1);
  if (strlen (self->name) > FLOW_SYNC_NAME_MAX)
    {
      const char *end = g_utf8_find_prev_char (self->name, self->name + FLOW_SYNC_NAME_MAX + 1);

      self->name[end - self->name] = '\0';
    }
  self->color = color;
  send_profile (self);
}

/**
 * flow_room_start:
 *
 * Loads every document of the workspace (they must all be live to be
 * synced) and joins the room.
 *
 * Returns: %FALSE if the room was already started
 */
gboolean
flow_room_start (FlowRoom  *self,
                 GError   **error)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), FALSE);

  if (self->started)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "The room is already open");
      return FALSE;
    }

  if (self->clock == NULL)
    self->clock = flow_sync_clock_new_real ();
  if (self->peer_id == NULL)
    {
      char id[17];

      random_hex (self->rand, id, 16);
      self->peer_id = g_strdup (id);
    }

  add_doc (self, flow_workspace_get_catalog (self->workspace));
  if (self->document_added_handler == 0)
    self->document_added_handler = g_signal_connect (self->workspace, "document-added",
                                                     G_CALLBACK (document_added_cb), self);
  load_docs (self, FALSE);

  if (self->signaling_handlers[0] == 0)
    {
      self->signaling_handlers[0] = g_signal_connect (self->signaling, "joined", G_CALLBACK (joined_cb), self);
      self->signaling_handlers[1] = g_signal_connect (self->signaling, "peer-joined", G_CALLBACK (peer_joined_cb), self);
      self->signaling_handlers[2] = g_signal_connect (self->signaling, "peer-left", G_CALLBACK (peer_left_cb), self);
      self->signaling_handlers[3] = g_signal_connect (self->signaling, "signal", G_CALLBACK (signal_cb), self);
      self->signaling_handlers[4] = g_signal_connect (self->signaling, "presence", G_CALLBACK (presence_cb), self);
      self->signaling_handlers[5] = g_signal_connect (self->signaling, "failed", G_CALLBACK (failed_cb), self);
    }

  self->started = TRUE;
  self->n_join_failures = 0;
  flow_signaling_join (self->signaling, self->room_id, self->peer_id);
  self->presence_timer = flow_sync_clock_schedule (self->clock, G_USEC_PER_SEC,
                                                   presence_timer_cb, self, NULL);
  update_state (self);
  return TRUE;
}

static gboolean
emit_closed_cb (gpointer data)
{
  ClosedNotice *notice = data;

  if (notice->room->started)
    g_signal_emit (notice->room, signals[CLOSED], 0, notice->peer, notice->name);
  return G_SOURCE_REMOVE;
}

static void stop_with (FlowRoom   *self,
                       guint32     code,
                       const char *text);

/**
 * flow_room_stop:
 *
 * Says goodbye to every linked peer (their BYE is the last record of the
 * stream), closes the links and leaves the room. Ops stay in the workspace,
 * and flow_room_start() may join again later.
 */
void
flow_room_stop (FlowRoom *self)
{
  g_return_if_fail (FLOW_IS_ROOM (self));

  stop_with (self, FLOW_SYNC_BYE_LEFT, "left the room");
}

/**
 * flow_room_close:
 *
 * Like flow_room_stop(), but the goodbye asks the linked peers to leave
 * the room as well: they get FlowRoom::closed. For a room whose key was
 * just replaced, so that nobody stays behind where old links lead.
 */
void
flow_room_close (FlowRoom *self)
{
  g_return_if_fail (FLOW_IS_ROOM (self));

  stop_with (self, FLOW_SYNC_BYE_CLOSED, "closed the room");
}

static void
stop_with (FlowRoom   *self,
           guint32     code,
           const char *text)
{
  FlowSyncFrame bye = { .type = FLOW_SYNC_FRAME_BYE };
  g_autoptr(GBytes) bye_bytes = NULL;
  GHashTableIter iter;
  gpointer value;

  if (!self->started)
    return;
  self->started = FALSE;

  bye.bye.code = code;
  bye.bye.text = (char *) text;
  bye_bytes = flow_sync_frame_encode (&bye);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Peer *peer = value;

      if (peer->phase == LINK_OPEN)
        {
          g_autoptr(GBytes) record = NULL;

          g_byte_array_append (peer->out, g_bytes_get_data (bye_bytes, NULL),
                               g_bytes_get_size (bye_bytes));
          record = flow_sync_cipher_seal (peer->cipher, peer->out->data, peer->out->len, TRUE);
          g_byte_array_set_size (peer->out, 0);
          if (record != NULL)
            flow_link_send (peer->link, record, NULL);
        }
    }
  g_hash_table_remove_all (self->peers);

  flow_signaling_leave (self->signaling);
  flow_sync_clock_clear (self->clock, &self->join_timer);
  flow_sync_clock_clear (self->clock, &self->docs_timer);
  flow_sync_clock_clear (self->clock, &self->presence_timer);
  flow_sync_clock_clear (self->clock, &self->update_timer);
  self->peers_dirty = FALSE;
  update_state (self);
  g_signal_emit (self, signals[PEERS_CHANGED], 0);
}

FlowWorkspace *
flow_room_get_workspace (FlowRoom *self)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), NULL);

  return self->workspace;
}

/* The room id (hex): what the rendezvous server sees. */
const char *
flow_room_get_id (FlowRoom *self)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), NULL);

  return self->room_id;
}

/* Our peer id in this room; %NULL before the first start. */
const char *
flow_room_get_peer_id (FlowRoom *self)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), NULL);

  return self->peer_id;
}

FlowRoomState
flow_room_get_state (FlowRoom *self)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), FLOW_ROOM_OFFLINE);

  return self->state;
}

guint
flow_room_get_n_connected (FlowRoom *self)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), 0);

  return self->n_connected;
}

/* See FlowRoom:has-unshared. */
gboolean
flow_room_get_has_unshared (FlowRoom *self)
{
  g_return_val_if_fail (FLOW_IS_ROOM (self), FALSE);

  return self->has_unshared;
}

void
flow_room_peer_free (FlowRoomPeer *peer)
{
  if (peer == NULL)
    return;
  g_free (peer->id);
  g_free (peer->name);
  flow_sync_frame_clear (&peer->presence);
  g_free (peer);
}

static void
copy_presence (FlowSyncFrame       *dst,
               const FlowSyncFrame *src)
{
  *dst = *src;
  dst->presence.tool = g_strdup (src->presence.tool);
}

static gint
compare_peers (gconstpointer a,
               gconstpointer b)
{
  const FlowRoomPeer *pa = *(FlowRoomPeer * const *) a;
  const FlowRoomPeer *pb = *(FlowRoomPeer * const *) b;

  return strcmp (pa->id, pb->id);
}

/**
 * flow_room_list_peers:
 *
 * Returns: (transfer full) (element-type FlowRoomPeer): the other members
 *   we know of, sorted by peer id
 */
GPtrArray *
flow_room_list_peers (FlowRoom *self)
{
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_room_peer_free);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (FLOW_IS_ROOM (self), result);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Peer *peer = value;
      FlowRoomPeer *info = g_new0 (FlowRoomPeer, 1);

      info->id = g_strdup (peer->id);
      info->name = g_strdup (peer->name);
      info->color = peer->color;
      info->replica = peer->replica;
      info->connected = peer->phase == LINK_OPEN;
      info->has_presence = peer->has_presence;
      if (peer->has_presence)
        copy_presence (&info->presence, &peer->presence);
      g_ptr_array_add (result, info);
    }
  g_ptr_array_sort (result, compare_peers);
  return result;
}

/**
 * flow_room_set_presence:
 * @presence: a PRESENCE frame: where we are, what we select, which tool
 * @error: set if @presence is not valid (see docs/protocol.md)
 *
 * Sends our presence to every linked peer (coalesced with the turn's other
 * frames) and keeps re-sending it every 10 s so that it does not expire.
 */
gboolean
flow_room_set_presence (FlowRoom             *self,
                        const FlowSyncFrame  *presence,
                        GError              **error)
{
  const char *tool;

  g_return_val_if_fail (FLOW_IS_ROOM (self), FALSE);
  g_return_val_if_fail (presence != NULL && presence->type == FLOW_SYNC_FRAME_PRESENCE, FALSE);

  tool = presence->presence.tool != NULL ? presence->presence.tool : "";
  if ((presence->presence.flags & ~FLOW_SYNC_PRESENCE_ALL_FLAGS) != 0 ||
      strlen (tool) > FLOW_SYNC_TOOL_MAX || !g_utf8_validate (tool, -1, NULL) ||
      ((presence->presence.flags & FLOW_SYNC_PRESENCE_HAS_VIEWPORT) &&
       (!isfinite (presence->presence.x) || !isfinite (presence->presence.y) ||
        !isfinite (presence->presence.zoom) || presence->presence.zoom <= 0)))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           "Presence needs known flags, a tool name of at most 32 bytes of UTF-8 "
                           "and a finite viewport with a positive zoom");
      return FALSE;
    }

  flow_sync_frame_clear (&self->presence);
  copy_presence (&self->presence, presence);
  self->has_presence = TRUE;
  if (self->started)
    {
      broadcast_frame (self, &self->presence);
      self->presence_sent = flow_sync_clock_now (self->clock);
    }
  return TRUE;
}

/* Stops sending presence; the others' copy expires. */
void
flow_room_clear_presence (FlowRoom *self)
{
  g_return_if_fail (FLOW_IS_ROOM (self));

  flow_sync_frame_clear (&self->presence);
  self->has_presence = FALSE;
}

/**
 * flow_room_send_chat:
 * @text: the message (valid UTF-8, at most 16 KiB)
 *
 * Sends a chat message to every linked peer. Chat is ephemeral: it is not
 * stored, and a peer that is not linked now does not get it.
 */
gboolean
flow_room_send_chat (FlowRoom    *self,
                     const char  *text,
                     GError     **error)
{
  FlowSyncFrame frame = { .type = FLOW_SYNC_FRAME_CHAT };

  g_return_val_if_fail (FLOW_IS_ROOM (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (!g_utf8_validate (text, -1, NULL) || strlen (text) > FLOW_SYNC_CHAT_MAX)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A chat message must be UTF-8 text of at most %u KiB", FLOW_SYNC_CHAT_MAX / 1024);
      return FALSE;
    }
  frame.chat.id.replica = flow_store_get_replica (flow_workspace_get_store (self->workspace));
  frame.chat.id.seq = ++self->chat_seq;
  frame.chat.lamport = ++self->chat_lamport;
  frame.chat.time = g_get_real_time ();
  frame.chat.text = (char *) text;
  broadcast_frame (self, &frame);
  return TRUE;
}
