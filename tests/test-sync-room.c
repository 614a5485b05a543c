/* test-sync-room.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Rooms over the in-memory network, driven by a manual clock: two peers
 * syncing pages, boards and new documents both ways; offline edits caught
 * up; links broken by corrupted, lost, duplicated and reordered chunks; and
 * the simulation of issue 5: twenty peers, random edits, 30% loss,
 * partitions that heal, rendezvous outages and peers that crash and restart
 * from their SQLite file. Every peer must converge and no op committed
 * anywhere may be lost. The seed is printed (FLOWSYNC_TEST_SEED replays it).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "flow-catalog.h"
#include "flow-chat.h"
#include "flow-room.h"
#include "flow-store-private.h"
#include "flow-sync-memory.h"
#include "flow-test-util.h"

#define STEP_US (10 * 1000)

/* libsodium's randomness, made reproducible: keys and nonces decide how a
 * corrupted stream fails (a garbage length may look plausible or not), so
 * a seed replays a run only if they repeat too. Tests only. */
static GRand *test_rand;

static const char *
test_random_name (void)
{
  return "flowsync-test";
}

static uint32_t
test_random (void)
{
  return g_rand_int (test_rand);
}

static void
test_random_buf (void * const buf,
                 const size_t size)
{
  guint8 *p = buf;

  for (size_t i = 0; i < size; i++)
    p[i] = (guint8) g_rand_int (test_rand);
}

static randombytes_implementation test_randombytes = {
  .implementation_name = test_random_name,
  .random = test_random,
  .buf = test_random_buf,
};

typedef struct _Sim Sim;

typedef struct
{
  Sim           *sim;
  guint          index;
  char          *host;
  char          *path;
  FlowWorkspace *ws;
  FlowSignaling *signaling;
  FlowRoom      *room;
  guint          n_starts;
} SimPeer;

struct _Sim
{
  FlowSyncClock *clock;
  FlowMemoryNet *net;
  guint8         key[FLOW_SYNC_KEY_BYTES];
  char          *dir;
  GPtrArray     *peers;
  GRand         *rand;
  guint32        seed;
  /* doc id string -> FlowVersionVector: ops known to be committed somewhere */
  GHashTable    *committed;
};

static FlowLink *
memory_link_factory (gboolean controlling,
                     gpointer user_data)
{
  SimPeer *p = user_data;

  return flow_memory_link_new (p->sim->net, p->host, controlling);
}

static void
peer_start (SimPeer *p)
{
  g_autoptr(GError) error = NULL;

  if (g_file_test (p->path, G_FILE_TEST_EXISTS))
    p->ws = flow_workspace_open (p->path, &error);
  else
    p->ws = flow_workspace_create (p->path, &error);
  g_assert_no_error (error);

  p->signaling = flow_memory_signaling_new (p->sim->net, p->host);
  p->room = flow_room_new (p->ws, p->sim->key, p->signaling, memory_link_factory, p, NULL);
  flow_room_set_clock (p->room, p->sim->clock);
  flow_room_set_seed (p->room, p->sim->seed * 7919u + p->index * 131u + p->n_starts++);
  flow_room_set_profile (p->room, p->host, 0x336699ff);
  flow_room_start (p->room, &error);
  g_assert_no_error (error);
}

static gboolean
peer_alive (SimPeer *p)
{
  return p->room != NULL;
}

/* Merges what this peer holds now into the "must survive" record. */
static void
note_versions (Sim     *sim,
               SimPeer *p)
{
  g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (p->ws), TRUE);
  FlowDoc *catalog = flow_workspace_get_catalog (p->ws);

  for (guint i = 0; i <= entries->len + 1; i++)
    {
      FlowDoc *doc = i == entries->len ? catalog
                     : i == entries->len + 1 ? flow_workspace_load_document (p->ws, &FLOW_CHAT_DOC_ID, NULL)
                     : flow_workspace_load_document (p->ws, &g_array_index (entries, FlowCatalogEntry, i).id, NULL);
      g_autofree char *key = NULL;
      g_autoptr(FlowVersionVector) vv = NULL;
      FlowVersionVector *known;

      g_assert_nonnull (doc);
      key = flow_op_id_to_string (flow_doc_get_id (doc));
      vv = flow_doc_dup_version (doc);
      known = g_hash_table_lookup (sim->committed, key);
      if (known == NULL)
        g_hash_table_insert (sim->committed, g_steal_pointer (&key), g_steal_pointer (&vv));
      else
        flow_version_vector_merge (known, vv);
    }
}

/* A kill -9: uncommitted writes are lost, links vanish without a word. */
static void
peer_crash (SimPeer *p)
{
  flow_store_simulate_crash (flow_workspace_get_store (p->ws));
  g_clear_object (&p->room);
  g_clear_object (&p->signaling);
  g_clear_object (&p->ws);
}

static void
peer_restart (SimPeer *p)
{
  peer_start (p);
  /* What the file held after the crash was committed: it must survive. */
  note_versions (p->sim, p);
}

static void
peer_stop (SimPeer *p)
{
  g_autoptr(GError) error = NULL;

  if (!peer_alive (p))
    return;
  flow_room_stop (p->room);
  g_clear_object (&p->room);
  g_clear_object (&p->signaling);
  flow_workspace_close (p->ws, &error);
  g_assert_no_error (error);
  g_clear_object (&p->ws);
}

static void
sim_peer_free (gpointer data)
{
  SimPeer *p = data;

  peer_stop (p);
  g_free (p->host);
  g_free (p->path);
  g_free (p);
}

static Sim *
sim_new (guint n_peers,
         guint32 seed)
{
  Sim *sim = g_new0 (Sim, 1);
  g_autoptr(GError) error = NULL;

  sim->seed = seed;
  sim->rand = g_rand_new_with_seed (seed);
  /* Replica ids and z-order jitter come from GLib's global generator. */
  g_random_set_seed (seed);
  g_rand_set_seed (test_rand, seed);
  sim->clock = flow_sync_clock_new_manual (0);
  sim->net = flow_memory_net_new (sim->clock, seed);
  sim->dir = g_dir_make_tmp ("flowsync-sim-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < FLOW_SYNC_KEY_BYTES; i++)
    sim->key[i] = (guint8) g_rand_int (sim->rand);
  sim->committed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) flow_version_vector_free);
  sim->peers = g_ptr_array_new_with_free_func (sim_peer_free);
  for (guint i = 0; i < n_peers; i++)
    {
      SimPeer *p = g_new0 (SimPeer, 1);

      p->sim = sim;
      p->index = i;
      p->host = g_strdup_printf ("host%02u", i);
      p->path = g_strdup_printf ("%s/peer%02u.flowsync", sim->dir, i);
      g_ptr_array_add (sim->peers, p);
    }
  return sim;
}

static void
sim_free (Sim *sim)
{
  g_ptr_array_unref (sim->peers);
  /* Whatever is still scheduled belongs to objects that are gone. */
  g_clear_object (&sim->net);
  g_clear_object (&sim->clock);
  g_hash_table_unref (sim->committed);
  flow_test_remove_tree (sim->dir);
  g_free (sim->dir);
  g_rand_free (sim->rand);
  g_free (sim);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Sim, sim_free)

static SimPeer *
sim_peer (Sim  *sim,
          guint i)
{
  return g_ptr_array_index (sim->peers, i);
}

static void
sim_run (Sim    *sim,
         gint64  duration_us)
{
  flow_sync_clock_run_until (sim->clock, flow_sync_clock_now (sim->clock) + duration_us);
}

/* ------------------------------------------------------------------------
 * Edits
 * ------------------------------------------------------------------------ */

static FlowDoc *
random_doc (SimPeer *p,
            GRand   *rand)
{
  g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (p->ws), FALSE);
  const FlowCatalogEntry *e;

  if (entries->len == 0)
    return NULL;
  e = &g_array_index (entries, FlowCatalogEntry, g_rand_int_range (rand, 0, entries->len));
  return flow_workspace_load_document (p->ws, &e->id, NULL);
}

static void
random_edit (SimPeer *p,
             GRand   *rand)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *doc = NULL;
  guint dice = g_rand_int_range (rand, 0, 100);

  if (dice >= 97)
    {
      FlowDoc *chat = flow_workspace_load_document (p->ws, &FLOW_CHAT_DOC_ID, &error);
      g_autofree char *text = g_strdup_printf ("hello from %s (%u)", p->host, g_rand_int (rand));

      g_assert_no_error (error);
      g_assert_true (flow_chat_post (chat, p->host, 0x336699ff, text, g_rand_int (rand), NULL, &error));
      g_assert_no_error (error);
      return;
    }

  if (dice < 3)
    {
      FlowDocKind kind = g_rand_boolean (rand) ? FLOW_DOC_KIND_PAGE : FLOW_DOC_KIND_BOARD;
      g_autofree char *title = g_strdup_printf ("Doc by %s", p->host);

      doc = flow_workspace_new_document (p->ws, kind, title, NULL, &error);
      g_assert_no_error (error);
      return;
    }

  doc = random_doc (p, rand);
  if (doc == NULL)
    return;

  if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
    {
      guint len = flow_doc_get_length (doc);

      if (len > 0 && g_rand_int_range (rand, 0, 4) == 0)
        {
          guint pos = g_rand_int_range (rand, 0, len);
          guint n = g_rand_int_range (rand, 1, 5);

          flow_doc_delete_text (doc, pos, MIN (len - pos, n), &error);
        }
      else
        {
          static const char *words[] = { "a", "bc", "def ", "ü", "\n", "🙂", "sync " };

          flow_doc_insert_text (doc, g_rand_int_range (rand, 0, len + 1),
                                words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))], -1, &error);
        }
      g_assert_no_error (error);
    }
  else
    {
      g_autoptr(GArray) shapes = flow_doc_list_entities (doc, FALSE);

      if (shapes->len > 0 && g_rand_boolean (rand))
        {
          const FlowOpId *id = &g_array_index (shapes, FlowOpId, g_rand_int_range (rand, 0, shapes->len));

          flow_test_set (doc, id, "x", flow_value_new_number (g_rand_double_range (rand, 0, 1000)));
        }
      else
        flow_test_add_shape (doc, "rect", g_rand_double_range (rand, 0, 1000),
                             g_rand_double_range (rand, 0, 1000), 40, 30);
    }
}

/* ------------------------------------------------------------------------
 * Checks
 * ------------------------------------------------------------------------ */

static gboolean
docs_equal (SimPeer *a,
            SimPeer *b,
            gboolean assert)
{
  g_autoptr(GArray) ea = flow_catalog_list (flow_workspace_get_catalog (a->ws), TRUE);
  g_autoptr(GArray) eb = flow_catalog_list (flow_workspace_get_catalog (b->ws), TRUE);
  g_autoptr(FlowVersionVector) ca = flow_doc_dup_version (flow_workspace_get_catalog (a->ws));
  g_autoptr(FlowVersionVector) cb = flow_doc_dup_version (flow_workspace_get_catalog (b->ws));

  {
    FlowDoc *chat_a = flow_workspace_load_document (a->ws, &FLOW_CHAT_DOC_ID, NULL);
    FlowDoc *chat_b = flow_workspace_load_document (b->ws, &FLOW_CHAT_DOC_ID, NULL);
    g_autoptr(FlowVersionVector) va = flow_doc_dup_version (chat_a);
    g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (chat_b);

    if (!flow_version_vector_equal (va, vb))
      {
        if (assert)
          g_error ("%s and %s have different chats", a->host, b->host);
        return FALSE;
      }
    if (assert)
      flow_test_assert_same (chat_a, chat_b);
  }

  if (!flow_version_vector_equal (ca, cb) || ea->len != eb->len)
    {
      if (assert)
        g_error ("%s and %s have different catalogs", a->host, b->host);
      return FALSE;
    }

  for (guint i = 0; i < ea->len; i++)
    {
      const FlowOpId *id = &g_array_index (ea, FlowCatalogEntry, i).id;
      FlowDoc *da = flow_workspace_load_document (a->ws, id, NULL);
      FlowDoc *db = flow_workspace_load_document (b->ws, id, NULL);
      g_autoptr(FlowVersionVector) va = NULL;
      g_autoptr(FlowVersionVector) vb = NULL;

      if (da == NULL || db == NULL)
        return FALSE;
      va = flow_doc_dup_version (da);
      vb = flow_doc_dup_version (db);
      if (!flow_version_vector_equal (va, vb))
        {
          if (assert)
            g_error ("%s and %s differ on a document", a->host, b->host);
          return FALSE;
        }
      if (assert)
        flow_test_assert_same (da, db);
    }
  return TRUE;
}

static gboolean
all_converged (Sim *sim)
{
  for (guint i = 1; i < sim->peers->len; i++)
    if (!docs_equal (sim_peer (sim, 0), sim_peer (sim, i), FALSE))
      return FALSE;
  return TRUE;
}

static void
assert_nothing_lost (Sim *sim)
{
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < sim->peers->len; i++)
    note_versions (sim, sim_peer (sim, i));

  g_hash_table_iter_init (&iter, sim->committed);
  while (g_hash_table_iter_next (&iter, &key, &value))
    for (guint i = 0; i < sim->peers->len; i++)
      {
        SimPeer *p = sim_peer (sim, i);
        g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (p->ws), TRUE);
        FlowDoc *doc = NULL;

        g_autofree char *catalog_key = flow_op_id_to_string (flow_doc_get_id (flow_workspace_get_catalog (p->ws)));

        g_autofree char *chat_key = flow_op_id_to_string (&FLOW_CHAT_DOC_ID);

        if (g_str_equal (key, catalog_key))
          doc = flow_workspace_get_catalog (p->ws);
        else if (g_str_equal (key, chat_key))
          doc = flow_workspace_load_document (p->ws, &FLOW_CHAT_DOC_ID, NULL);
        for (guint j = 0; doc == NULL && j < entries->len; j++)
          {
            const FlowOpId *id = &g_array_index (entries, FlowCatalogEntry, j).id;
            g_autofree char *s = flow_op_id_to_string (id);

            if (g_str_equal (s, key))
              doc = flow_workspace_load_document (p->ws, id, NULL);
          }
        g_assert_nonnull (doc);
        {
          g_autoptr(FlowVersionVector) vv = flow_doc_dup_version (doc);

          g_assert_true (flow_version_vector_includes (vv, value));
        }
      }
}

static gboolean
run_until_converged (Sim    *sim,
                     gint64  limit_us)
{
  gint64 end = flow_sync_clock_now (sim->clock) + limit_us;

  while (flow_sync_clock_now (sim->clock) < end)
    {
      sim_run (sim, 250 * 1000);
      if (all_converged (sim))
        return TRUE;
    }
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void
test_room_two_peers (void)
{
  g_autoptr(Sim) sim = sim_new (2, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0), *b = sim_peer (sim, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) peers = NULL;
  FlowDoc *page, *board, *page_b;
  FlowOpId shape;
  g_autofree char *text = NULL;

  peer_start (a);
  peer_start (b);
  g_assert_cmpint (flow_room_get_state (a->room), ==, FLOW_ROOM_CONNECTING);

  page = flow_workspace_new_document (a->ws, FLOW_DOC_KIND_PAGE, "Notes", NULL, &error);
  g_assert_no_error (error);
  flow_doc_insert_text (page, 0, "# Hello\n", -1, &error);
  g_assert_no_error (error);
  board = flow_workspace_new_document (b->ws, FLOW_DOC_KIND_BOARD, "Sketch", NULL, &error);
  g_assert_no_error (error);
  shape = flow_test_add_shape (board, "ellipse", 10, 20, 30, 40);

  sim_run (sim, 2 * G_USEC_PER_SEC);
  g_assert_cmpint (flow_room_get_state (a->room), ==, FLOW_ROOM_CONNECTED);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);
  g_assert_cmpuint (flow_room_get_n_connected (b->room), ==, 1);
  docs_equal (a, b, TRUE);

  peers = flow_room_list_peers (a->room);
  g_assert_cmpuint (peers->len, ==, 1);
  g_assert_cmpstr (((FlowRoomPeer *) peers->pdata[0])->name, ==, "host01");
  g_assert_true (((FlowRoomPeer *) peers->pdata[0])->connected);

  /* Live edits both ways. */
  page_b = flow_workspace_load_document (b->ws, flow_doc_get_id (page), &error);
  g_assert_no_error (error);
  flow_doc_insert_text (page_b, 8, "from b\n", -1, &error);
  flow_doc_insert_text (page, 0, "A: ", -1, &error);
  g_assert_no_error (error);
  sim_run (sim, 100 * 1000);
  docs_equal (a, b, TRUE);
  text = flow_doc_dup_text (page);
  g_assert_cmpstr (text, ==, "A: # Hello\nfrom b\n");
  g_assert_true (flow_doc_has_entity (flow_workspace_load_document (a->ws, flow_doc_get_id (board), NULL),
                                      &shape));

  /* b goes offline; both edit; b comes back and both catch up. */
  peer_stop (b);
  sim_run (sim, G_USEC_PER_SEC);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 0);
  g_assert_false (flow_room_get_has_unshared (a->room));
  flow_doc_insert_text (page, 0, "offline a ", -1, &error);
  g_assert_no_error (error);
  g_assert_true (flow_room_get_has_unshared (a->room));
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (b->path, &error);
    FlowDoc *pb;

    g_assert_no_error (error);
    pb = flow_workspace_load_document (ws, flow_doc_get_id (page), &error);
    g_assert_no_error (error);
    flow_doc_insert_text (pb, flow_doc_get_length (pb), "offline b", -1, &error);
    g_assert_no_error (error);
    flow_workspace_close (ws, &error);
    g_assert_no_error (error);
  }
  peer_start (b);
  sim_run (sim, 2 * G_USEC_PER_SEC);
  docs_equal (a, b, TRUE);
  g_assert_false (flow_room_get_has_unshared (a->room));
  g_clear_pointer (&text, g_free);
  text = flow_doc_dup_text (page);
  g_assert_cmpstr (text, ==, "offline a A: # Hello\nfrom b\noffline b");
}

static void
chat_cb (FlowRoom   *room,
         const char *peer,
         const char *name,
         const char *text,
         gint64      time,
         guint      *n_chats)
{
  g_assert_cmpstr (name, ==, "host00");
  g_assert_cmpstr (text, ==, "hi");
  (*n_chats)++;
}

/* A history larger than one OPS frame goes in chunks, both in catch-up and
 * live. The frame budget is lowered from 8 MiB to 64 KiB so that a 1 MB
 * page shows it without the cost of a real 8 MiB history. */
static char *
random_text (GRand *rand,
             gsize  len)
{
  char *text = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    text[i] = (char) g_rand_int_range (rand, 33, 127);
  text[len] = '\0';
  return text;
}

static void
insert_random (FlowDoc *page,
               GRand   *rand,
               guint    n_chunks)
{
  flow_doc_begin_change (page);
  for (guint i = 0; i < n_chunks; i++)
    {
      g_autofree char *chunk = random_text (rand, 4096);

      g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page), chunk, -1, NULL));
    }
  flow_doc_end_change (page);
}

/* A history larger than one OPS frame goes in chunks, both in catch-up and
 * live. The frame budget is lowered from 8 MiB to 64 KiB so that a 1 MB
 * page shows it without the cost of a real 8 MiB history. */
static void
test_room_large_history (void)
{
  g_autoptr(Sim) sim = sim_new (2, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0), *b = sim_peer (sim, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) encoded = NULL;
  FlowDoc *page;

  peer_start (a);
  page = flow_workspace_new_document (a->ws, FLOW_DOC_KIND_PAGE, "Big", NULL, &error);
  g_assert_no_error (error);
  insert_random (page, sim->rand, 256);
  encoded = flow_doc_encode (page);
  g_assert_cmpuint (g_bytes_get_size (encoded), >, 10 * 64 * 1024);
  flow_room_set_max_batch_bytes (a->room, 64 * 1024);

  peer_start (b);
  flow_room_set_max_batch_bytes (b->room, 64 * 1024);
  g_assert_true (run_until_converged (sim, 60 * G_USEC_PER_SEC));
  docs_equal (a, b, TRUE);

  /* Live: one change larger than a frame. */
  insert_random (page, sim->rand, 256);
  g_assert_true (run_until_converged (sim, 60 * G_USEC_PER_SEC));
  docs_equal (a, b, TRUE);
}

static void
test_room_presence_and_chat (void)
{
  g_autoptr(Sim) sim = sim_new (2, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0), *b = sim_peer (sim, 1);
  FlowSyncFrame presence = { .type = FLOW_SYNC_FRAME_PRESENCE };
  g_autoptr(GPtrArray) peers = NULL;
  g_autoptr(GError) error = NULL;
  guint n_chats = 0;

  peer_start (a);
  peer_start (b);
  sim_run (sim, 2 * G_USEC_PER_SEC);

  presence.presence.flags = FLOW_SYNC_PRESENCE_HAS_VIEWPORT;
  presence.presence.x = 12;
  presence.presence.y = 34;
  presence.presence.zoom = 1.5;
  presence.presence.tool = (char *) "pen";
  g_assert_true (flow_room_set_presence (a->room, &presence, &error));
  g_assert_no_error (error);
  sim_run (sim, 100 * 1000);
  peers = flow_room_list_peers (b->room);
  g_assert_true (((FlowRoomPeer *) peers->pdata[0])->has_presence);
  g_assert_cmpfloat (((FlowRoomPeer *) peers->pdata[0])->presence.presence.zoom, ==, 1.5);
  g_assert_cmpstr (((FlowRoomPeer *) peers->pdata[0])->presence.presence.tool, ==, "pen");
  g_clear_pointer (&peers, g_ptr_array_unref);

  /* Refreshed while set, so it outlives the expiry... */
  sim_run (sim, 60 * G_USEC_PER_SEC);
  peers = flow_room_list_peers (b->room);
  g_assert_true (((FlowRoomPeer *) peers->pdata[0])->has_presence);
  g_clear_pointer (&peers, g_ptr_array_unref);

  /* ...and expires once the peer stops sending it. */
  flow_room_clear_presence (a->room);
  sim_run (sim, 45 * G_USEC_PER_SEC);
  peers = flow_room_list_peers (b->room);
  g_assert_false (((FlowRoomPeer *) peers->pdata[0])->has_presence);
  g_assert_true (((FlowRoomPeer *) peers->pdata[0])->connected);

  /* A tool name over the limit is refused, not sent. */
  presence.presence.tool = (char *) "a-tool-name-much-longer-than-32-bytes";
  g_assert_false (flow_room_set_presence (a->room, &presence, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_signal_connect (b->room, "chat", G_CALLBACK (chat_cb), &n_chats);
  g_assert_true (flow_room_send_chat (a->room, "hi", &error));
  g_assert_no_error (error);
  sim_run (sim, 100 * 1000);
  g_assert_cmpuint (n_chats, ==, 1);

  /* A handler may stop the room from inside a receive. */
  g_signal_connect (b->room, "chat", G_CALLBACK (flow_room_stop), NULL);
  g_assert_true (flow_room_send_chat (a->room, "hi", &error));
  sim_run (sim, 100 * 1000);
  g_assert_cmpuint (n_chats, ==, 2);
  g_assert_cmpint (flow_room_get_state (b->room), ==, FLOW_ROOM_OFFLINE);
  g_assert_false (flow_room_send_chat (a->room, "\xff", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

static void
test_room_dead_peer (void)
{
  g_autoptr(Sim) sim = sim_new (2, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0), *b = sim_peer (sim, 1);

  peer_start (a);
  peer_start (b);
  sim_run (sim, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);

  /* b dies without a word: a notices by heartbeat. */
  peer_crash (b);
  sim_run (sim, 20 * G_USEC_PER_SEC);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 0);
  /* Its link died after it left the rendezvous: it is forgotten, and a is
   * simply alone in the room. */
  {
    g_autoptr(GPtrArray) peers = flow_room_list_peers (a->room);

    g_assert_cmpuint (peers->len, ==, 0);
    g_assert_cmpint (flow_room_get_state (a->room), ==, FLOW_ROOM_CONNECTED);
  }

  peer_restart (b);
  sim_run (sim, 40 * G_USEC_PER_SEC);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);
  g_assert_cmpuint (flow_room_get_n_connected (b->room), ==, 1);
}

typedef struct
{
  GPtrArray *signals;   /* GBytes received by the outsider */
} Outsider;

static void
outsider_signal_cb (FlowSignaling *signaling,
                    const char    *from,
                    GBytes        *data,
                    Outsider      *o)
{
  g_ptr_array_add (o->signals, g_bytes_ref (data));
}

/* Somebody who knows the room id (the server does) but not the key: it
 * joins the room on the rendezvous, receives offers it cannot open, and
 * sends forged, replayed and redirected blobs. No link ever forms with it,
 * and the real members still sync. */
static void
test_room_outsider (void)
{
  g_autoptr(Sim) sim = sim_new (2, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0), *b = sim_peer (sim, 1);
  g_autoptr(FlowSignaling) outsider = NULL;
  Outsider o = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  guint8 wrong_key[FLOW_SYNC_KEY_BYTES], wrong_signal_key[FLOW_SYNC_KEY_BYTES];
  guint8 signal_key[FLOW_SYNC_KEY_BYTES];
  g_autoptr(GBytes) forged = NULL;
  g_autoptr(GError) error = NULL;
  const char *victim;
  FlowDoc *page;

  peer_start (a);
  peer_start (b);
  sim_run (sim, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);

  /* The outsider's id sorts last, so both members offer it a link. */
  outsider = flow_memory_signaling_new (sim->net, "outsider");
  g_signal_connect (outsider, "signal", G_CALLBACK (outsider_signal_cb), &o);
  flow_signaling_join (outsider, flow_room_get_id (a->room), "zzzzzzzz");
  sim_run (sim, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (o.signals->len, >=, 2);

  /* It cannot read them... */
  memset (wrong_key, 7, sizeof wrong_key);
  flow_sync_signaling_key (wrong_key, wrong_signal_key);
  for (guint i = 0; i < o.signals->len; i++)
    {
      g_autoptr(GBytes) plain = flow_sync_open (wrong_signal_key, g_ptr_array_index (o.signals, i), &error);

      g_assert_null (plain);
      g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_FORGED);
      g_clear_error (&error);
    }

  /* ...forges an offer under a wrong key, replays a captured offer to the
   * member it was not meant for, and sends garbage. */
  victim = flow_room_get_peer_id (b->room);
  forged = flow_sync_seal (wrong_signal_key, (const guint8 *) "{\"t\":\"offer\"}", 13);
  flow_signaling_send_signal (outsider, victim, forged);
  for (guint i = 0; i < o.signals->len; i++)
    {
      flow_signaling_send_signal (outsider, victim, g_ptr_array_index (o.signals, i));
      flow_signaling_send_signal (outsider, flow_room_get_peer_id (a->room), g_ptr_array_index (o.signals, i));
    }
  {
    g_autoptr(GBytes) garbage = g_bytes_new_static ("\x00\x01garbage", 9);

    flow_signaling_send_signal (outsider, victim, garbage);
  }
  /* Even with the real signaling key, a blob names its sender and
   * recipient inside the seal, so a redirected one is refused. */
  flow_sync_signaling_key (sim->key, signal_key);
  {
    const char *text = "{\"v\":1,\"t\":\"offer\",\"from\":\"someone\",\"to\":\"else\",\"a\":\"0123456789abcdef\"}";
    g_autoptr(GBytes) redirected = flow_sync_seal (signal_key, (const guint8 *) text, strlen (text));

    flow_signaling_send_signal (outsider, victim, redirected);
  }
  sim_run (sim, 30 * G_USEC_PER_SEC);

  /* No link to the outsider, the members' link intact, and they sync. */
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);
  g_assert_cmpuint (flow_room_get_n_connected (b->room), ==, 1);
  page = flow_workspace_new_document (a->ws, FLOW_DOC_KIND_PAGE, "After", NULL, &error);
  g_assert_no_error (error);
  flow_doc_insert_text (page, 0, "still fine", -1, &error);
  g_assert_no_error (error);
  sim_run (sim, G_USEC_PER_SEC);
  docs_equal (a, b, TRUE);

  flow_signaling_leave (outsider);
  g_ptr_array_unref (o.signals);
}

typedef struct
{
  GPtrArray *blobs;
  char      *from;
} Captured;

static void
capture_cb (FlowSignaling *signaling,
            const char    *from,
            GBytes        *data,
            Captured      *c)
{
  g_ptr_array_add (c->blobs, g_bytes_ref (data));
  g_free (c->from);
  c->from = g_strdup (from);
}

/* The rendezvous server relays sealed blobs it cannot read, but it can
 * repeat them: old offers and retries must not break a working link. */
static void
test_room_replayed_signals (void)
{
  g_autoptr(Sim) sim = sim_new (2, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0), *b = sim_peer (sim, 1);
  Captured ca = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };
  Captured cb = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref) };

  peer_start (a);
  peer_start (b);
  g_signal_connect (a->signaling, "signal", G_CALLBACK (capture_cb), &ca);
  g_signal_connect (b->signaling, "signal", G_CALLBACK (capture_cb), &cb);
  sim_run (sim, 2 * G_USEC_PER_SEC);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);
  g_assert_cmpuint (ca.blobs->len + cb.blobs->len, >=, 2);
  g_signal_handlers_disconnect_by_func (a->signaling, capture_cb, &ca);
  g_signal_handlers_disconnect_by_func (b->signaling, capture_cb, &cb);

  for (guint round = 0; round < 3; round++)
    {
      for (guint i = 0; i < ca.blobs->len; i++)
        flow_signaling_emit_signal (a->signaling, ca.from, g_ptr_array_index (ca.blobs, i));
      for (guint i = 0; i < cb.blobs->len; i++)
        flow_signaling_emit_signal (b->signaling, cb.from, g_ptr_array_index (cb.blobs, i));
      sim_run (sim, G_USEC_PER_SEC);
      g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 1);
      g_assert_cmpuint (flow_room_get_n_connected (b->room), ==, 1);
    }

  g_ptr_array_unref (ca.blobs);
  g_ptr_array_unref (cb.blobs);
  g_free (ca.from);
  g_free (cb.from);
}

/* A member that has the key but misbehaves: it completes a link by the
 * book, then sends frames that decrypt fine but carry garbage. The link
 * closes and nothing reaches the documents. */
typedef struct
{
  Sim             *sim;
  FlowSignaling   *signaling;
  FlowLink        *link;
  FlowSyncKeypair  keys;
  FlowSyncCipher  *cipher;
  GBytes          *payload;      /* frames to send once the link opens */
  guint8           signal_key[FLOW_SYNC_KEY_BYTES];
  gboolean         closed;
} Rogue;

static void
rogue_opened_cb (FlowLink *link,
                 Rogue    *r)
{
  g_autoptr(GBytes) header = flow_sync_cipher_start (r->cipher);
  g_autoptr(GBytes) record = flow_sync_cipher_seal (r->cipher, g_bytes_get_data (r->payload, NULL),
                                                    g_bytes_get_size (r->payload), FALSE);

  g_assert_true (flow_link_send (link, header, NULL));
  g_assert_true (flow_link_send (link, record, NULL));
}

static void
rogue_closed_cb (FlowLink   *link,
                 const char *reason,
                 Rogue      *r)
{
  r->closed = TRUE;
}

static void
rogue_signal_cb (FlowSignaling *signaling,
                 const char    *from,
                 GBytes        *data,
                 Rogue         *r)
{
  g_autoptr(GBytes) plain = flow_sync_open (r->signal_key, data, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL, *pk = NULL, *description = NULL;
  g_autoptr(GBytes) sealed = NULL;
  g_autofree guint8 *their_pk = NULL;
  guint8 rx[FLOW_SYNC_KEY_BYTES], tx[FLOW_SYNC_KEY_BYTES];
  JsonObject *offer;
  gsize len;

  g_assert_nonnull (plain);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (plain, NULL),
                                             g_bytes_get_size (plain), NULL));
  offer = json_node_get_object (json_parser_get_root (parser));
  if (!g_str_equal (json_object_get_string_member (offer, "t"), "offer") || r->link != NULL)
    return;

  their_pk = g_base64_decode (json_object_get_string_member (offer, "pk"), &len);
  flow_sync_keypair_generate (&r->keys);
  g_assert_true (flow_sync_session_keys (&r->keys, their_pk, FALSE, rx, tx, NULL));
  r->cipher = flow_sync_cipher_new (tx, rx);
  r->link = flow_memory_link_new (r->sim->net, "rogue", FALSE);
  g_signal_connect (r->link, "opened", G_CALLBACK (rogue_opened_cb), r);
  g_signal_connect (r->link, "closed", G_CALLBACK (rogue_closed_cb), r);
  g_assert_true (flow_link_set_remote_description (r->link, json_object_get_string_member (offer, "d"), NULL));

  pk = g_base64_encode (r->keys.public_key, sizeof r->keys.public_key);
  description = flow_link_dup_local_description (r->link);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "t");
  json_builder_add_string_value (b, "answer");
  json_builder_set_member_name (b, "from");
  json_builder_add_string_value (b, "zzzzzzzz");
  json_builder_set_member_name (b, "to");
  json_builder_add_string_value (b, from);
  json_builder_set_member_name (b, "a");
  json_builder_add_string_value (b, json_object_get_string_member (offer, "a"));
  json_builder_set_member_name (b, "pk");
  json_builder_add_string_value (b, pk);
  json_builder_set_member_name (b, "d");
  json_builder_add_string_value (b, description);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  text = json_to_string (root, FALSE);
  sealed = flow_sync_seal (r->signal_key, (const guint8 *) text, strlen (text));
  flow_signaling_send_signal (signaling, from, sealed);
}

static void
rogue_test (GBytes *payload)
{
  g_autoptr(Sim) sim = sim_new (1, flow_test_seed ());
  SimPeer *a = sim_peer (sim, 0);
  Rogue r = { .sim = sim, .payload = payload };
  g_autoptr(FlowVersionVector) before = NULL;
  g_autoptr(FlowVersionVector) after = NULL;
  g_autoptr(GError) error = NULL;
  FlowDoc *page;

  peer_start (a);
  page = flow_workspace_new_document (a->ws, FLOW_DOC_KIND_PAGE, "Safe", NULL, &error);
  g_assert_no_error (error);
  flow_doc_insert_text (page, 0, "untouched", -1, &error);
  g_assert_no_error (error);
  before = flow_doc_dup_version (flow_workspace_get_catalog (a->ws));

  flow_sync_signaling_key (sim->key, r.signal_key);
  r.signaling = flow_memory_signaling_new (sim->net, "rogue");
  g_signal_connect (r.signaling, "signal", G_CALLBACK (rogue_signal_cb), &r);
  flow_signaling_join (r.signaling, flow_room_get_id (a->room), "zzzzzzzz");
  sim_run (sim, 3 * G_USEC_PER_SEC);

  /* The link formed, the room read the garbage, and closed it. */
  g_assert_nonnull (r.link);
  g_assert_true (r.closed);
  g_assert_cmpuint (flow_room_get_n_connected (a->room), ==, 0);
  after = flow_doc_dup_version (flow_workspace_get_catalog (a->ws));
  g_assert_true (flow_version_vector_equal (before, after));
  {
    g_autofree char *text = flow_doc_dup_text (page);

    g_assert_cmpstr (text, ==, "untouched");
  }

  flow_signaling_leave (r.signaling);
  g_clear_object (&r.signaling);
  g_clear_object (&r.link);
  g_clear_pointer (&r.cipher, flow_sync_cipher_free);
}

static void
test_room_rogue_ops (void)
{
  static const char junk[] = "\x01\x02\x03 not an op batch";
  FlowSyncFrame hello = { .type = FLOW_SYNC_FRAME_HELLO };
  FlowSyncFrame ops = { .type = FLOW_SYNC_FRAME_OPS };
  g_autoptr(GBytes) hello_bytes = NULL, ops_bytes = NULL, garbage = NULL;
  g_autoptr(GByteArray) payload = g_byte_array_new ();

  hello.hello.version = FLOW_SYNC_PROTOCOL_VERSION;
  hello.hello.replica = 42;
  hello.hello.name = (char *) "rogue";
  garbage = g_bytes_new_static (junk, sizeof junk - 1);
  ops.ops.doc = (FlowOpId) { 0, 0 };   /* the catalog */
  ops.ops.batch = garbage;
  hello_bytes = flow_sync_frame_encode (&hello);
  ops_bytes = flow_sync_frame_encode (&ops);
  g_byte_array_append (payload, g_bytes_get_data (hello_bytes, NULL), g_bytes_get_size (hello_bytes));
  g_byte_array_append (payload, g_bytes_get_data (ops_bytes, NULL), g_bytes_get_size (ops_bytes));
  rogue_test (g_byte_array_free_to_bytes (g_steal_pointer (&payload)));
}

static void
test_room_rogue_frames (void)
{
  /* A frame whose declared length is beyond the 16 MiB limit. */
  static const guint8 bad[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };

  rogue_test (g_bytes_new_static (bad, sizeof bad));
}

/* Corrupted chunks (an attacker on the path, or a bug) never reach the
 * CRDT: the link closes and the room rebuilds it and catches up. */
static void
test_room_corrupt_links (void)
{
  g_autoptr(Sim) sim = sim_new (3, flow_test_seed ());
  FlowMemoryFaults faults = { .latency_us = 1000, .corrupt = 0.2, .duplicate = 0.05,
                              .reorder = 0.05, .reorder_us = 5000, .loss = 0.05 };
  FlowMemoryFaults calm = { .latency_us = 1000 };

  for (guint i = 0; i < 3; i++)
    peer_start (sim_peer (sim, i));
  flow_memory_net_set_faults (sim->net, &faults);
  for (guint step = 0; step < 2000; step++)
    {
      random_edit (sim_peer (sim, g_rand_int_range (sim->rand, 0, 3)), sim->rand);
      sim_run (sim, STEP_US);
    }
  flow_memory_net_set_faults (sim->net, &calm);
  g_assert_true (run_until_converged (sim, 300 * G_USEC_PER_SEC));
  for (guint i = 1; i < 3; i++)
    docs_equal (sim_peer (sim, 0), sim_peer (sim, i), TRUE);
}

/* The simulation of issue 5. With @flush_before_crash every crash loses
 * nothing uncommitted and a run is exactly reproducible; without it (the
 * default), what a crash loses depends on how far the store's writer
 * thread got, so the same seed replays the same script of edits and faults
 * but not always the same bytes. Returns a signature of the run. */
static char *
run_simulation (guint    n_peers,
                guint32  seed,
                guint    n_steps,
                gboolean flush_before_crash)
{
  g_autoptr(Sim) sim = sim_new (n_peers, seed);
  FlowMemoryFaults chaos = { .loss = 0.3, .duplicate = 0.05, .reorder = 0.05, .reorder_us = 20000,
                             .corrupt = 0.01, .latency_us = 2000, .jitter_us = 3000 };
  FlowMemoryFaults calm = { .latency_us = 2000, .jitter_us = 1000 };
  guint n_crashes = 0, n_partitions = 0, n_outages = 0, n_edits = 0;
  g_autoptr(FlowVersionVector) catalog_version = NULL;
  g_autofree char *catalog_string = NULL;
  gboolean converged;

  g_test_message ("simulation: %u peers, seed %u", n_peers, seed);

  for (guint i = 0; i < n_peers; i++)
    peer_start (sim_peer (sim, i));
  sim_run (sim, 5 * G_USEC_PER_SEC);

  flow_memory_net_set_faults (sim->net, &chaos);
  for (guint step = 0; step < n_steps; step++)
    {
      guint dice = g_rand_int_range (sim->rand, 0, 1000);
      SimPeer *p = sim_peer (sim, g_rand_int_range (sim->rand, 0, n_peers));

      if (dice < 300 && peer_alive (p))
        {
          random_edit (p, sim->rand);
          n_edits++;
        }
      else if (dice < 303)
        {
          if (peer_alive (p))
            {
              if (flush_before_crash)
                g_assert_true (flow_store_flush (flow_workspace_get_store (p->ws), NULL));
              peer_crash (p);
              n_crashes++;
            }
          else
            peer_restart (p);
        }
      else if (dice < 304)
        {
          for (guint i = 0; i < n_peers; i++)
            flow_memory_net_set_group (sim->net, sim_peer (sim, i)->host, g_rand_int_range (sim->rand, 0, 3));
          n_partitions++;
        }
      else if (dice < 310)
        flow_memory_net_heal (sim->net);
      else if (dice < 311)
        {
          flow_memory_net_set_signaling_up (sim->net, FALSE);
          n_outages++;
        }
      else if (dice < 320)
        flow_memory_net_set_signaling_up (sim->net, TRUE);

      sim_run (sim, STEP_US);
    }

  /* Heal everything and bring every peer back. */
  flow_memory_net_set_faults (sim->net, &calm);
  flow_memory_net_heal (sim->net);
  flow_memory_net_set_signaling_up (sim->net, TRUE);
  for (guint i = 0; i < n_peers; i++)
    if (!peer_alive (sim_peer (sim, i)))
      peer_restart (sim_peer (sim, i));

  converged = run_until_converged (sim, 600 * G_USEC_PER_SEC);
  g_test_message ("%u edits, %u crashes, %u partitions, %u rendezvous outages; "
                  "%" G_GUINT64_FORMAT " chunks delivered, %" G_GUINT64_FORMAT " dropped; "
                  "converged after %.1f s of simulated time",
                  n_edits, n_crashes, n_partitions, n_outages,
                  flow_memory_net_get_n_delivered (sim->net), flow_memory_net_get_n_dropped (sim->net),
                  flow_sync_clock_now (sim->clock) / (double) G_USEC_PER_SEC);
  g_assert_true (converged);
  for (guint i = 1; i < n_peers; i++)
    docs_equal (sim_peer (sim, 0), sim_peer (sim, i), TRUE);
  assert_nothing_lost (sim);

  catalog_version = flow_doc_dup_version (flow_workspace_get_catalog (sim_peer (sim, 0)->ws));
  catalog_string = flow_version_vector_to_string (catalog_version);
  return g_strdup_printf ("%u edits %u crashes %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " chunks, "
                          "%" G_GINT64_FORMAT " us, catalog %s",
                          n_edits, n_crashes, flow_memory_net_get_n_delivered (sim->net),
                          flow_memory_net_get_n_dropped (sim->net), flow_sync_clock_now (sim->clock),
                          catalog_string);
}

static void
test_room_simulation (void)
{
  guint n_peers = flow_test_iterations ("FLOWSYNC_SIM_PEERS", 20);
  g_autofree char *signature = run_simulation (n_peers, flow_test_seed (), 6000, FALSE);

  g_test_message ("%s", signature);
}

/* The same seed gives the same run, byte for byte. */
static void
test_room_simulation_reproducible (void)
{
  guint32 seed = flow_test_seed ();
  g_autofree char *first = run_simulation (6, seed, 2000, TRUE);
  g_autofree char *second = run_simulation (6, seed, 2000, TRUE);

  g_assert_cmpstr (first, ==, second);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  test_rand = g_rand_new_with_seed (0);
  randombytes_set_implementation (&test_randombytes);

  g_test_add_func ("/sync/room/two-peers", test_room_two_peers);
  g_test_add_func ("/sync/room/presence-and-chat", test_room_presence_and_chat);
  g_test_add_func ("/sync/room/large-history", test_room_large_history);
  g_test_add_func ("/sync/room/dead-peer", test_room_dead_peer);
  g_test_add_func ("/sync/room/outsider", test_room_outsider);
  g_test_add_func ("/sync/room/replayed-signals", test_room_replayed_signals);
  g_test_add_func ("/sync/room/rogue-ops", test_room_rogue_ops);
  g_test_add_func ("/sync/room/rogue-frames", test_room_rogue_frames);
  g_test_add_func ("/sync/room/corrupt-links", test_room_corrupt_links);
  g_test_add_func ("/sync/room/simulation", test_room_simulation);
  g_test_add_func ("/sync/room/simulation-reproducible", test_room_simulation_reproducible);

  return g_test_run ();
}
