/* test-convergence.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Randomised convergence: CRDT.md section 7, "convergence under all delivery
 * orders", "idempotence" and "causality".
 *
 * A scenario is 2-8 replicas, each holding one page and one board (two
 * FlowDoc objects shared by every replica). For a few dozen steps a random
 * replica makes a random edit: typing (non-ASCII too), deleting, grouped
 * edits, creating shapes, writing their properties, deleting them, moving
 * them in z-order, undo and redo. Every local change's bytes become one
 * message per other replica in an in-memory network, which delivers them
 * in random order, duplicates some, loses some (re-sent later, or made up
 * for by a version-vector sync), and sometimes relays what a replica
 * received. Now and then two replicas sync by version vector, one replica
 * sends another its whole document, or a replica reloads from its own
 * encoding mid-scenario.
 *
 * At the end everything is delivered and every replica must hold the same
 * text, the same board (every entity's kind and property values, and the
 * z-order), the same version vectors, nothing pending, and a text tree
 * that passes flow_text_check(). Every replica's whole-document encoding
 * must load back to that same state. Whether those encodings are also the
 * same bytes on every replica is checked by its own test path.
 *
 * Every scenario has its own random stream made from the test seed and its
 * number: FLOW_TEST_SEED=S FLOW_CONVERGENCE_ONLY=N reruns scenario N of the
 * run with seed S alone; FLOW_CONVERGENCE_SCENARIOS=N runs N scenarios per
 * test path (for soaking). Failure messages name both numbers.
 */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-test-util.h"

typedef enum
{
  MODE_PAGE,
  MODE_BOARD,
  MODE_MIXED,
} Mode;

static const char * const mode_names[] = { "page", "board", "mixed" };

typedef struct _Scenario Scenario;

typedef struct
{
  Scenario      *sc;
  guint          index;
  FlowReplicaId  replica;
  FlowDoc       *page;
  FlowDoc       *board;
  gint64         clock;
} Replica;

typedef struct
{
  guint    dest;
  gboolean board;
  GBytes  *bytes;
} Message;

struct _Scenario
{
  guint32    seed;
  guint      number;
  Mode       mode;
  GRand     *rand;
  guint      n_replicas;
  Replica   *replicas;
  GPtrArray *queue;     /* Message, in flight */
  GPtrArray *dropped;   /* Message, lost; re-sent at the end unless lossy */
  gboolean   lossy;     /* lost messages stay lost: only a sync recovers them */
  gboolean   relay;     /* replicas forward some of what they receive */
  gboolean   needs_sync; /* a replica reloaded and lost what it had pending */
  gboolean   failed;
  guint      n_messages;
};

/* What to print if the library crashes instead of failing an assertion. */
static char crash_context[256];

/* ------------------------------------------------------------------------
 * Failures
 * ------------------------------------------------------------------------ */

static void
crash_handler (int sig)
{
  const char *prefix = "\n*** test-convergence crashed in ";
  gsize len = strlen (crash_context);

  if (len > 0 &&
      (write (STDERR_FILENO, prefix, strlen (prefix)) < 0 ||
       write (STDERR_FILENO, crash_context, len) < 0 ||
       write (STDERR_FILENO, "\n", 1) < 0))
    {
      /* Nothing more we can do from a signal handler. */
    }
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
install_crash_handler (void)
{
  signal (SIGABRT, crash_handler);
  signal (SIGSEGV, crash_handler);
  signal (SIGBUS, crash_handler);
  signal (SIGFPE, crash_handler);
}

static void scenario_fail (Scenario   *sc,
                           const char *format,
                           ...) G_GNUC_PRINTF (2, 3);

/* Fails the test once, naming the seed and scenario so it can be rerun. */
static void
scenario_fail (Scenario   *sc,
               const char *format,
               ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  if (sc->failed)
    return;
  sc->failed = TRUE;
  crash_context[0] = '\0';

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);

  g_test_fail_printf ("seed %u, scenario %u (%s, %u replicas%s%s): %s; rerun with "
                      "FLOW_TEST_SEED=%u FLOW_CONVERGENCE_ONLY=%u",
                      sc->seed, sc->number, mode_names[sc->mode], sc->n_replicas,
                      sc->lossy ? ", lossy" : "", sc->relay ? ", relay" : "", msg,
                      sc->seed, sc->number);
}

#define CHECK(sc, cond, ...) \
  G_STMT_START { \
    if (G_UNLIKELY (!(cond))) \
      { \
        scenario_fail ((sc), __VA_ARGS__); \
        return; \
      } \
  } G_STMT_END

#define CHECK_NO_ERROR(sc, error, what) \
  CHECK ((sc), (error) == NULL, "%s: %s", (what), (error)->message)

/* ------------------------------------------------------------------------
 * The network
 * ------------------------------------------------------------------------ */

static void
message_free (gpointer data)
{
  Message *m = data;

  g_bytes_unref (m->bytes);
  g_free (m);
}

static void
send_to_others (Scenario *sc,
                guint     from,
                gboolean  board,
                GBytes   *bytes)
{
  for (guint j = 0; j < sc->n_replicas; j++)
    {
      Message *m;

      if (j == from)
        continue;
      m = g_new0 (Message, 1);
      m->dest = j;
      m->board = board;
      m->bytes = g_bytes_ref (bytes);
      g_ptr_array_add (sc->queue, m);
      sc->n_messages++;
    }
}

/* Every local change goes out; with relaying on, some remote ones too. */
static void
on_change (FlowDoc    *doc,
           FlowChange *change,
           gpointer    user_data)
{
  Replica *rep = user_data;
  Scenario *sc = rep->sc;

  if (!flow_change_is_local (change) &&
      !(sc->relay && g_rand_int_range (sc->rand, 0, 4) == 0))
    return;
  send_to_others (sc, rep->index, doc == rep->board, flow_change_get_bytes (change));
}

static FlowDoc *
doc_of (Replica  *rep,
        gboolean  board)
{
  return board ? rep->board : rep->page;
}

static void
apply_bytes (Scenario   *sc,
             FlowDoc    *doc,
             GBytes     *bytes,
             const char *what)
{
  g_autoptr(GError) error = NULL;

  flow_doc_apply (doc, bytes, &error);
  CHECK_NO_ERROR (sc, error, what);
}

/* Delivers (or loses, or duplicates) the message at @index of the queue. */
static void
deliver_one (Scenario *sc,
             guint     index)
{
  Message *m = g_ptr_array_steal_index_fast (sc->queue, index);
  guint dice = g_rand_int_range (sc->rand, 0, 100);

  if (dice < 6)
    {
      g_ptr_array_add (sc->dropped, m);
      return;
    }
  apply_bytes (sc, doc_of (&sc->replicas[m->dest], m->board), m->bytes, "applying a message");
  if (dice < 14)
    g_ptr_array_add (sc->queue, m);  /* it will arrive again */
  else
    message_free (m);
}

static void
deliver_some (Scenario *sc,
              guint     n)
{
  for (guint i = 0; i < n && sc->queue->len > 0 && !sc->failed; i++)
    deliver_one (sc, g_rand_int_range (sc->rand, 0, sc->queue->len));
}

/* Everything in flight arrives, in random order, exactly once more. */
static void
deliver_all (Scenario  *sc,
             GPtrArray *queue)
{
  while (queue->len > 0 && !sc->failed)
    {
      Message *m = g_ptr_array_steal_index_fast (queue, g_rand_int_range (sc->rand, 0, queue->len));

      apply_bytes (sc, doc_of (&sc->replicas[m->dest], m->board), m->bytes,
                   "applying a message at the end");
      message_free (m);
    }
}

/* Each sends the other what its version vector lacks. */
static void
sync_pair (Scenario *sc,
           FlowDoc  *a,
           FlowDoc  *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);
  g_autoptr(GBytes) to_b = flow_doc_encode_since (a, vb);
  g_autoptr(GBytes) to_a = flow_doc_encode_since (b, va);

  if (to_b != NULL)
    apply_bytes (sc, b, to_b, "applying a version-vector sync");
  if (to_a != NULL && !sc->failed)
    apply_bytes (sc, a, to_a, "applying a version-vector sync");
}

static void
sync_all (Scenario *sc)
{
  /* Twice through a star: after the first pass replica 0 has everything,
   * after the second so does everyone. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint j = 1; j < sc->n_replicas && !sc->failed; j++)
      {
        sync_pair (sc, sc->replicas[0].page, sc->replicas[j].page);
        sync_pair (sc, sc->replicas[0].board, sc->replicas[j].board);
      }
}

/* ------------------------------------------------------------------------
 * Replicas
 * ------------------------------------------------------------------------ */

static void
attach (Replica *rep,
        FlowDoc *doc)
{
  flow_doc_set_clock (doc, flow_test_clock, &rep->clock, NULL);
  flow_doc_add_change_func (doc, on_change, rep, NULL);
  /* The order-key jitter comes from the document's own GRand; seed it so
   * a scenario replays exactly. */
  g_rand_set_seed (doc->rand, g_rand_int (rep->sc->rand));
}

/* Distinct replica ids: some tiny (ties against small numbers), some with
 * the top bit set (unsigned comparison), most random. */
static FlowReplicaId
random_replica (Scenario *sc,
                guint     index)
{
  switch (g_rand_int_range (sc->rand, 0, 4))
    {
    case 0:
      return index + 1;
    case 1:
      return G_MAXUINT64 - index;
    default:
      return ((guint64) g_rand_int (sc->rand) << 32 | g_rand_int (sc->rand)) << 4 | index;
    }
}

static void
scenario_init (Scenario *sc,
               guint32   seed,
               guint     number,
               Mode      mode)
{
  static const FlowOpId page_id = { 0x1234, 1 };
  static const FlowOpId board_id = { 0x1234, 2 };
  guint32 seeds[3] = { seed, number, mode };

  memset (sc, 0, sizeof *sc);
  sc->seed = seed;
  sc->number = number;
  sc->mode = mode;
  sc->rand = g_rand_new_with_seed_array (seeds, G_N_ELEMENTS (seeds));
  sc->n_replicas = g_rand_int_range (sc->rand, 2, 9);
  sc->lossy = g_rand_int_range (sc->rand, 0, 3) == 0;
  sc->relay = g_rand_int_range (sc->rand, 0, 4) == 0;
  sc->queue = g_ptr_array_new_with_free_func (message_free);
  sc->dropped = g_ptr_array_new_with_free_func (message_free);
  sc->replicas = g_new0 (Replica, sc->n_replicas);

  g_snprintf (crash_context, sizeof crash_context,
              "seed %u, scenario %u (%s); rerun with FLOW_TEST_SEED=%u FLOW_CONVERGENCE_ONLY=%u",
              seed, number, mode_names[mode], seed, number);

  for (guint i = 0; i < sc->n_replicas; i++)
    {
      Replica *rep = &sc->replicas[i];
      gboolean unique;

      rep->sc = sc;
      rep->index = i;
      rep->clock = 1000 * G_USEC_PER_SEC;
      do
        {
          rep->replica = random_replica (sc, i);
          unique = TRUE;
          for (guint j = 0; j < i; j++)
            unique = unique && sc->replicas[j].replica != rep->replica;
        }
      while (!unique);

      rep->page = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, rep->replica);
      rep->board = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, rep->replica);
      attach (rep, rep->page);
      attach (rep, rep->board);
    }
}

static void
scenario_clear (Scenario *sc)
{
  for (guint i = 0; i < sc->n_replicas; i++)
    {
      g_clear_object (&sc->replicas[i].page);
      g_clear_object (&sc->replicas[i].board);
    }
  g_clear_pointer (&sc->replicas, g_free);
  g_clear_pointer (&sc->queue, g_ptr_array_unref);
  g_clear_pointer (&sc->dropped, g_ptr_array_unref);
  g_clear_pointer (&sc->rand, g_rand_free);
}

/* Replaces one of @rep's documents by what its own encoding loads to, as
 * after a restart. Batches it had waiting are lost with it. */
static void
reload (Scenario *sc,
        Replica  *rep,
        gboolean  board)
{
  FlowDoc **slot = board ? &rep->board : &rep->page;
  g_autoptr(GBytes) bytes = flow_doc_encode (*slot);
  g_autoptr(GError) error = NULL;
  FlowDoc *loaded = flow_doc_load (bytes, rep->replica, &error);

  CHECK_NO_ERROR (sc, error, "reloading a replica from its encoding");
  if (flow_doc_get_n_pending (*slot) > 0)
    sc->needs_sync = TRUE;
  g_object_unref (*slot);
  *slot = loaded;
  attach (rep, loaded);
}

/* ------------------------------------------------------------------------
 * Random edits
 * ------------------------------------------------------------------------ */

static const gunichar alphabet[] = {
  'a', 'b', 'c', 'x', 'y', 'z', ' ', '\n',
  0xe9 /* é */, 0xdf /* ß */, 0x301 /* combining acute */,
  0x4e2d /* 中 */, 0x6587 /* 文 */, 0x1f600 /* 😀 */, 0x1f389 /* 🎉 */, 0x11f /* ğ */,
};

static char *
random_text (GRand *rand,
             guint  max_chars)
{
  GString *s = g_string_new (NULL);
  guint n = g_rand_int_range (rand, 1, max_chars + 1);
  /* Mostly one script per string, as people type. */
  gboolean ascii = g_rand_int_range (rand, 0, 2) == 0;

  guint n_letters = ascii ? 8 : G_N_ELEMENTS (alphabet);

  for (guint i = 0; i < n; i++)
    g_string_append_unichar (s, alphabet[g_rand_int_range (rand, 0, n_letters)]);
  return g_string_free (s, FALSE);
}

static void
random_text_edit (Scenario *sc,
                  FlowDoc  *page)
{
  g_autoptr(GError) error = NULL;
  guint len = flow_doc_get_length (page);
  guint dice = g_rand_int_range (sc->rand, 0, 10);

  if (len == 0 || dice < 6)
    {
      g_autofree char *text = random_text (sc->rand, 8);
      /* Favour the ends and the middle: where concurrent typing meets. */
      guint pos = g_rand_int_range (sc->rand, 0, 4) == 0 ? len
                                                         : g_rand_int_range (sc->rand, 0, len + 1);

      flow_doc_insert_text (page, pos, text, -1, &error);
      CHECK_NO_ERROR (sc, error, "inserting text");
    }
  else
    {
      guint pos = g_rand_int_range (sc->rand, 0, len);
      guint n = g_rand_int_range (sc->rand, 1, MIN (6, len - pos) + 1);

      flow_doc_delete_text (page, pos, n, &error);
      CHECK_NO_ERROR (sc, error, "deleting text");
    }
}

static void
random_page_step (Scenario *sc,
                  FlowDoc  *page)
{
  guint dice = g_rand_int_range (sc->rand, 0, 100);

  if (dice < 8)
    flow_doc_undo (page);
  else if (dice < 12)
    flow_doc_redo (page);
  else if (dice < 20)
    {
      /* Several edits in one change: a batch mixing runs. */
      guint n = g_rand_int_range (sc->rand, 2, 5);

      flow_doc_begin_change (page);
      for (guint i = 0; i < n && !sc->failed; i++)
        random_text_edit (sc, page);
      flow_doc_end_change (page);
    }
  else
    random_text_edit (sc, page);
}

static const char * const shape_kinds[] = {
  "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text", "sticky",
};

static gboolean
set_prop (Scenario       *sc,
          FlowDoc        *board,
          const FlowOpId *id,
          const char     *key,
          FlowValue      *value)
{
  g_autoptr(FlowValue) owned = value;
  g_autoptr(GError) error = NULL;

  if (!flow_doc_set_property (board, id, key, owned, &error))
    {
      g_autofree char *s = flow_op_id_to_string (id);

      scenario_fail (sc, "setting %s of %s: %s", key, s, error->message);
      return FALSE;
    }
  return TRUE;
}

static GArray *
live_entities (FlowDoc *board)
{
  return flow_doc_list_entities (board, FALSE);
}

static FlowOpId *
pick (Scenario *sc,
      GArray   *ids)
{
  if (ids->len == 0)
    return NULL;
  return &g_array_index (ids, FlowOpId, g_rand_int_range (sc->rand, 0, ids->len));
}

/* An order key that puts a shape at a random place in the z-order. */
static void
random_z_move (Scenario       *sc,
               FlowDoc        *board,
               const FlowOpId *id)
{
  g_autoptr(GArray) order = flow_doc_list_ordered (board);
  guint at = g_rand_int_range (sc->rand, 0, order->len + 1);
  const FlowOpId *below = at > 0 ? &g_array_index (order, FlowOpId, at - 1) : NULL;
  const FlowOpId *above = at < order->len ? &g_array_index (order, FlowOpId, at) : NULL;
  g_autofree char *key = flow_doc_dup_order_key_between (board, below, above);

  if (key != NULL)
    set_prop (sc, board, id, "z", flow_value_new_string (key));
}

static FlowValue *
random_points (GRand *rand)
{
  FlowPoint pts[6];
  guint n = g_rand_int_range (rand, 0, G_N_ELEMENTS (pts) + 1);

  for (guint i = 0; i < n; i++)
    {
      pts[i].x = (float) g_rand_double_range (rand, -500, 500);
      pts[i].y = (float) g_rand_double_range (rand, -500, 500);
      pts[i].pressure = (float) g_rand_double (rand);
    }
  return flow_value_new_points (pts, n);
}

static void
create_shape (Scenario *sc,
              FlowDoc  *board)
{
  g_autoptr(GError) error = NULL;
  guint n_kinds = G_N_ELEMENTS (shape_kinds);
  double x = g_rand_int_range (sc->rand, -1000, 1000);
  double y = g_rand_double_range (sc->rand, -1000, 1000);
  FlowOpId id;

  flow_doc_begin_change (board);
  if (!flow_doc_create_entity (board, shape_kinds[g_rand_int_range (sc->rand, 0, n_kinds)],
                               &id, &error))
    {
      flow_doc_end_change (board);
      CHECK_NO_ERROR (sc, error, "creating a shape");
    }
  if (set_prop (sc, board, &id, "x", flow_value_new_number (x)) &&
      set_prop (sc, board, &id, "y", flow_value_new_number (y)) &&
      set_prop (sc, board, &id, "w", flow_value_new_number (g_rand_int_range (sc->rand, 1, 400))) &&
      set_prop (sc, board, &id, "h", flow_value_new_number (g_rand_int_range (sc->rand, 1, 400))) &&
      set_prop (sc, board, &id, "fill", flow_value_new_color (g_rand_int (sc->rand))))
    random_z_move (sc, board, &id);
  flow_doc_end_change (board);
}

static void
random_property (Scenario       *sc,
                 FlowDoc        *board,
                 const FlowOpId *id)
{
  g_autoptr(GArray) all = flow_doc_list_entities (board, TRUE);

  switch (g_rand_int_range (sc->rand, 0, 13))
    {
    case 0:
      set_prop (sc, board, id, "x",
                flow_value_new_number (g_rand_double_range (sc->rand, -1e4, 1e4)));
      break;
    case 1:
      set_prop (sc, board, id, "y", flow_value_new_number (g_rand_int_range (sc->rand, -50, 50)));
      break;
    case 2:
      set_prop (sc, board, id, g_rand_boolean (sc->rand) ? "w" : "h",
                flow_value_new_number (g_rand_int_range (sc->rand, 0, 1000)));
      break;
    case 3:
      set_prop (sc, board, id, g_rand_boolean (sc->rand) ? "fill" : "stroke",
                flow_value_new_color (g_rand_int (sc->rand)));
      break;
    case 4:
      {
        g_autofree char *text = random_text (sc->rand, 12);

        set_prop (sc, board, id, "text", flow_value_new_string (text));
      }
      break;
    case 5:
    case 6:
      random_z_move (sc, board, id);
      break;
    case 7:
      set_prop (sc, board, id, "points", random_points (sc->rand));
      break;
    case 8:
      /* Arrow bindings, to any shape this replica knows, deleted or not. */
      set_prop (sc, board, id, g_rand_boolean (sc->rand) ? "start" : "end",
                g_rand_int_range (sc->rand, 0, 4) == 0 ? flow_value_new_null ()
                                                       : flow_value_new_ref (pick (sc, all)));
      break;
    case 9:
      set_prop (sc, board, id, "opacity", flow_value_new_number (g_rand_double (sc->rand)));
      break;
    case 10:
      /* Unset a property: a null write. */
      set_prop (sc, board, id, g_rand_boolean (sc->rand) ? "fill" : "text", flow_value_new_null ());
      break;
    case 11:
      /* A property this build's schema does not know. */
      set_prop (sc, board, id, "custom_tag",
                flow_value_new_string (g_rand_boolean (sc->rand) ? "α" : "b"));
      break;
    default:
      set_prop (sc, board, id, "locked", flow_value_new_bool (g_rand_boolean (sc->rand)));
      break;
    }
}

static void
random_board_edit (Scenario *sc,
                   FlowDoc  *board)
{
  g_autoptr(GArray) live = live_entities (board);
  g_autoptr(GArray) all = flow_doc_list_entities (board, TRUE);
  guint dice = g_rand_int_range (sc->rand, 0, 100);

  if (all->len == 0 || dice < 20)
    create_shape (sc, board);
  else if (dice < 28 && live->len > 0)
    set_prop (sc, board, pick (sc, live), "deleted", flow_value_new_bool (TRUE));
  else if (dice < 32)
    set_prop (sc, board, pick (sc, all), "deleted", flow_value_new_bool (FALSE));
  else
    random_property (sc, board, pick (sc, all));
}

static void
random_board_step (Scenario *sc,
                   FlowDoc  *board)
{
  guint dice = g_rand_int_range (sc->rand, 0, 100);

  if (dice < 8)
    flow_doc_undo (board);
  else if (dice < 12)
    flow_doc_redo (board);
  else if (dice < 18)
    {
      guint n = g_rand_int_range (sc->rand, 2, 4);

      flow_doc_begin_change (board);
      for (guint i = 0; i < n && !sc->failed; i++)
        random_board_edit (sc, board);
      flow_doc_end_change (board);
    }
  else
    random_board_edit (sc, board);
}

/* Something other than an edit: network events and restarts. */
static void
random_event (Scenario *sc)
{
  guint dice = g_rand_int_range (sc->rand, 0, 100);
  Replica *a = &sc->replicas[g_rand_int_range (sc->rand, 0, sc->n_replicas)];
  Replica *b = &sc->replicas[g_rand_int_range (sc->rand, 0, sc->n_replicas)];
  gboolean board = sc->mode == MODE_BOARD || (sc->mode == MODE_MIXED && g_rand_boolean (sc->rand));

  if (dice < 40)
    sync_pair (sc, doc_of (a, board), doc_of (b, board));
  else if (dice < 70)
    {
      /* A whole document is also a batch any replica can apply. */
      g_autoptr(GBytes) bytes = flow_doc_encode (doc_of (a, board));

      apply_bytes (sc, doc_of (b, board), bytes, "applying a whole document");
    }
  else
    reload (sc, a, board);
}

static void
random_step (Scenario *sc)
{
  Replica *rep = &sc->replicas[g_rand_int_range (sc->rand, 0, sc->n_replicas)];
  guint dice = g_rand_int_range (sc->rand, 0, 100);
  gboolean board;

  /* Mostly separate undo steps; sometimes fast enough to group. */
  rep->clock += g_rand_int_range (sc->rand, 0, 3) == 0 ? 100 * G_TIME_SPAN_MILLISECOND
                                                       : G_USEC_PER_SEC;

  if (dice < 4)
    {
      random_event (sc);
      return;
    }
  if (dice < 30)
    {
      deliver_some (sc, g_rand_int_range (sc->rand, 1, 2 * sc->n_replicas + 2));
      return;
    }

  board = sc->mode == MODE_BOARD || (sc->mode == MODE_MIXED && g_rand_boolean (sc->rand));
  if (board)
    random_board_step (sc, rep->board);
  else
    random_page_step (sc, rep->page);
}

/* ------------------------------------------------------------------------
 * Comparing replicas
 * ------------------------------------------------------------------------ */

static gboolean
version_equal (FlowDoc *a,
               FlowDoc *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);

  return flow_version_vector_equal (va, vb);
}

static gboolean
ids_equal (GArray *a,
           GArray *b)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!flow_op_id_equal (&g_array_index (a, FlowOpId, i), &g_array_index (b, FlowOpId, i)))
      return FALSE;
  return TRUE;
}

/* Describes the first difference between two boards, or returns NULL. */
static char *
board_difference (FlowDoc *a,
                  FlowDoc *b)
{
  g_autoptr(GArray) ea = flow_doc_list_entities (a, TRUE);
  g_autoptr(GArray) eb = flow_doc_list_entities (b, TRUE);
  g_autoptr(GArray) oa = flow_doc_list_ordered (a);
  g_autoptr(GArray) ob = flow_doc_list_ordered (b);

  if (!ids_equal (ea, eb))
    return g_strdup_printf ("different entities (%u vs %u)", ea->len, eb->len);

  for (guint i = 0; i < ea->len; i++)
    {
      const FlowOpId *id = &g_array_index (ea, FlowOpId, i);
      g_autofree char *name = flow_op_id_to_string (id);
      g_auto(GStrv) na = flow_doc_dup_property_names (a, id);
      g_auto(GStrv) nb = flow_doc_dup_property_names (b, id);

      if (g_strcmp0 (flow_doc_get_entity_kind (a, id), flow_doc_get_entity_kind (b, id)) != 0)
        return g_strdup_printf ("entity %s: kinds %s and %s", name,
                                flow_doc_get_entity_kind (a, id), flow_doc_get_entity_kind (b, id));
      if (flow_doc_entity_is_deleted (a, id) != flow_doc_entity_is_deleted (b, id))
        return g_strdup_printf ("entity %s is deleted on one replica only", name);
      if (na == NULL || nb == NULL || !g_strv_equal ((const char * const *) na,
                                                     (const char * const *) nb))
        {
          g_autofree char *ja = na ? g_strjoinv (",", na) : g_strdup ("(none)");
          g_autofree char *jb = nb ? g_strjoinv (",", nb) : g_strdup ("(none)");

          return g_strdup_printf ("entity %s: properties {%s} and {%s}", name, ja, jb);
        }
      for (guint k = 0; na[k] != NULL; k++)
        if (!flow_value_equal (flow_doc_get_property (a, id, na[k]),
                               flow_doc_get_property (b, id, na[k])))
          return g_strdup_printf ("entity %s: property %s differs", name, na[k]);
    }

  if (!ids_equal (oa, ob))
    return g_strdup ("different z-order");
  return NULL;
}

static void
check_same (Scenario   *sc,
            FlowDoc    *ref_page,
            FlowDoc    *ref_board,
            FlowDoc    *page,
            FlowDoc    *board,
            const char *who)
{
  g_autofree char *ta = flow_doc_dup_text (ref_page);
  g_autofree char *tb = flow_doc_dup_text (page);
  g_autofree char *diff = board_difference (ref_board, board);

  CHECK (sc, g_strcmp0 (ta, tb) == 0, "%s: text \"%s\" differs from \"%s\"", who, tb, ta);
  CHECK (sc, version_equal (ref_page, page), "%s: page version vectors differ", who);
  CHECK (sc, version_equal (ref_board, board), "%s: board version vectors differ", who);
  CHECK (sc, diff == NULL, "%s: boards differ: %s", who, diff);
  flow_text_check (page->text);
}

/* Loads a replica's whole encodings. */
static void
load_replica (Scenario  *sc,
              GBytes    *pb,
              GBytes    *bb,
              Replica   *rep,
              FlowDoc  **page,
              FlowDoc  **board)
{
  g_autoptr(GError) error = NULL;

  *page = flow_doc_load (pb, rep->replica, &error);
  CHECK_NO_ERROR (sc, error, "loading a page");
  *board = flow_doc_load (bb, rep->replica, &error);
  CHECK_NO_ERROR (sc, error, "loading a board");
  if (flow_doc_get_kind (*page) != FLOW_DOC_KIND_PAGE ||
      flow_doc_get_kind (*board) != FLOW_DOC_KIND_BOARD)
    scenario_fail (sc, "replica %u: loaded documents have the wrong kind", rep->index);
}

/* The replica's whole encoding loads to the same state, and the loaded
 * document encodes to the same bytes again. */
static void
check_load (Scenario *sc,
            Replica  *rep)
{
  g_autoptr(GBytes) pb = flow_doc_encode (rep->page);
  g_autoptr(GBytes) bb = flow_doc_encode (rep->board);
  g_autoptr(FlowDoc) page = NULL;
  g_autoptr(FlowDoc) board = NULL;
  g_autoptr(GBytes) pb2 = NULL;
  g_autoptr(GBytes) bb2 = NULL;

  load_replica (sc, pb, bb, rep, &page, &board);
  if (sc->failed)
    return;
  check_same (sc, rep->page, rep->board, page, board, "a loaded replica");
  if (sc->failed)
    return;

  pb2 = flow_doc_encode (page);
  bb2 = flow_doc_encode (board);
  CHECK (sc, g_bytes_equal (pb, pb2), "replica %u: re-encoding a loaded page changes its bytes",
         rep->index);
  CHECK (sc, g_bytes_equal (bb, bb2), "replica %u: re-encoding a loaded board changes its bytes",
         rep->index);
}

/* Applying what a replica already has changes nothing. */
static void
check_idempotent (Scenario *sc,
                  Replica  *rep,
                  Replica  *other)
{
  guint64 n_page = flow_doc_get_n_ops (rep->page);
  guint64 n_board = flow_doc_get_n_ops (rep->board);
  g_autofree char *text = flow_doc_dup_text (rep->page);
  g_autoptr(GBytes) own = flow_doc_encode (rep->page);
  g_autoptr(GBytes) theirs = flow_doc_encode (other->board);
  g_autofree char *after = NULL;

  apply_bytes (sc, rep->page, own, "applying a whole page to itself");
  if (sc->failed)
    return;
  apply_bytes (sc, rep->board, theirs, "applying a whole identical board");
  if (sc->failed)
    return;
  after = flow_doc_dup_text (rep->page);
  CHECK (sc, flow_doc_get_n_ops (rep->page) == n_page && flow_doc_get_n_ops (rep->board) == n_board,
         "replica %u: applying known ops added ops", rep->index);
  CHECK (sc, g_strcmp0 (text, after) == 0, "replica %u: applying its own page changed it",
         rep->index);
}

static void
check_canonical (Scenario *sc,
                 FlowDoc  *a,
                 FlowDoc  *b,
                 guint     who)
{
  g_autoptr(GBytes) ea = flow_doc_encode (a);
  g_autoptr(GBytes) eb = flow_doc_encode (b);

  CHECK (sc, g_bytes_equal (ea, eb),
         "replica %u: flow_doc_encode() of its %s differs from replica 0's",
         who, flow_doc_get_kind (a) == FLOW_DOC_KIND_PAGE ? "page" : "board");
}

static void
check_converged (Scenario *sc)
{
  Replica *first = &sc->replicas[0];

  for (guint i = 0; i < sc->n_replicas && !sc->failed; i++)
    {
      Replica *rep = &sc->replicas[i];
      g_autofree char *who = g_strdup_printf ("replica %u", i);

      CHECK (sc, flow_doc_get_n_pending (rep->page) == 0 &&
             flow_doc_get_n_pending (rep->board) == 0,
             "replica %u still has %u + %u batches pending", i, flow_doc_get_n_pending (rep->page),
             flow_doc_get_n_pending (rep->board));
      check_same (sc, first->page, first->board, rep->page, rep->board, who);
    }

  /* Once converged, a sync has nothing left to send, and the whole
   * encodings are the same bytes, whatever order the ops came in. */
  for (guint i = 1; i < sc->n_replicas && !sc->failed; i++)
    {
      g_autoptr(FlowVersionVector) v = flow_doc_dup_version (sc->replicas[i].page);
      g_autoptr(GBytes) extra = flow_doc_encode_since (first->page, v);

      CHECK (sc, extra == NULL, "replica 0 still has ops for replica %u after convergence", i);
      check_canonical (sc, first->page, sc->replicas[i].page, i);
      check_canonical (sc, first->board, sc->replicas[i].board, i);
    }

  for (guint i = 0; i < sc->n_replicas && !sc->failed; i++)
    check_load (sc, &sc->replicas[i]);
  if (!sc->failed)
    check_idempotent (sc, &sc->replicas[g_rand_int_range (sc->rand, 0, sc->n_replicas)],
                      &sc->replicas[g_rand_int_range (sc->rand, 0, sc->n_replicas)]);
}

/* ------------------------------------------------------------------------
 * Scenarios
 * ------------------------------------------------------------------------ */

/* Runs one scenario up to the point where all replicas should agree. */
static void
scenario_run (Scenario *sc)
{
  guint n_steps = g_rand_int_range (sc->rand, 5, 45);

  for (guint i = 0; i < n_steps && !sc->failed; i++)
    random_step (sc);
  if (sc->failed)
    return;

  deliver_all (sc, sc->queue);
  if (sc->lossy)
    g_ptr_array_set_size (sc->dropped, 0);
  else
    deliver_all (sc, sc->dropped);
  if (sc->lossy || sc->needs_sync)
    sync_all (sc);
}

static void
run_scenarios (Mode  mode,
               guint fallback)
{
  guint32 seed = flow_test_seed ();
  guint n = flow_test_iterations ("FLOW_CONVERGENCE_SCENARIOS", fallback);
  const char *only = g_getenv ("FLOW_CONVERGENCE_ONLY");
  guint first = only ? (guint) g_ascii_strtoull (only, NULL, 10) : 0;
  guint last = only ? first + 1 : n;
  guint64 messages = 0;
  guint ran = 0;
  gint64 start = g_get_monotonic_time ();

  install_crash_handler ();
  for (guint k = first; k < last; k++)
    {
      Scenario sc;
      gboolean failed;

      scenario_init (&sc, seed, k, mode);
      scenario_run (&sc);
      if (!sc.failed)
        check_converged (&sc);
      failed = sc.failed;
      messages += sc.n_messages;
      scenario_clear (&sc);
      ran++;
      if (failed || g_test_failed ())
        break;
    }
  g_test_message ("%u %s scenarios, %" G_GUINT64_FORMAT " messages, %.2f s", ran, mode_names[mode],
                  messages, (g_get_monotonic_time () - start) / 1e6);
}

static void
test_convergence_page (void)
{
  run_scenarios (MODE_PAGE, 1500);
}

static void
test_convergence_board (void)
{
  run_scenarios (MODE_BOARD, 1200);
}

static void
test_convergence_mixed (void)
{
  run_scenarios (MODE_MIXED, 2000);
}

/* ------------------------------------------------------------------------
 * Regression tests for bugs the random scenarios found
 * ------------------------------------------------------------------------ */

/* B types "ab", A types "x" before it, they sync, A types "ab" at the end
 * and they sync again. A joined its typing to B's run, B kept two runs:
 * the whole encodings used to differ. */
static void
test_canonical_encoding (void)
{
  static const FlowOpId id = { 7, 0 };
  g_autoptr(FlowDoc) a = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 1);
  g_autoptr(FlowDoc) b = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 2);
  g_autoptr(GBytes) ea = NULL;
  g_autoptr(GBytes) eb = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (flow_doc_insert_text (b, 0, "ab", -1, &error));
  g_assert_true (flow_doc_insert_text (a, 0, "x", -1, &error));
  flow_test_sync_pair (a, b);
  g_assert_true (flow_doc_insert_text (a, 3, "ab", -1, &error));
  flow_test_sync_pair (a, b);
  flow_test_assert_same (a, b);
  text = flow_doc_dup_text (a);
  g_assert_cmpstr (text, ==, "xabab");

  ea = flow_doc_encode (a);
  eb = flow_doc_encode (b);
  g_assert_true (g_bytes_equal (ea, eb));
}

/* A page typed as "abc", then "x" at 1 and "y" at 3 has text-op runs of
 * one byte; the decoder used to want two per run and refused the page. */
static void
test_load_short_runs (void)
{
  static const FlowOpId id = { 7, 0 };
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 1);
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (flow_doc_insert_text (doc, 0, "abc", -1, &error));
  g_assert_true (flow_doc_insert_text (doc, 1, "x", -1, &error));
  g_assert_true (flow_doc_insert_text (doc, 3, "y", -1, &error));

  bytes = flow_doc_encode (doc);
  loaded = flow_doc_load (bytes, 1, &error);
  g_assert_no_error (error);
  text = flow_doc_dup_text (loaded);
  g_assert_cmpstr (text, ==, "axbyc");
}

/* The same for a catch-up batch of "caf", "é", " au lait" typed at the
 * end: ASCII and non-ASCII typing are separate runs. */
static void
test_sync_short_runs (void)
{
  static const FlowOpId id = { 7, 0 };
  g_autoptr(FlowDoc) a = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 1);
  g_autoptr(FlowDoc) b = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 2);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  g_assert_true (flow_doc_insert_text (a, 0, "caf", -1, &error));
  g_assert_true (flow_doc_insert_text (a, 3, "é", -1, &error));
  g_assert_true (flow_doc_insert_text (a, 4, " au lait", -1, &error));

  bytes = flow_doc_encode_since (a, NULL);
  g_assert_true (flow_doc_apply (b, bytes, &error));
  g_assert_no_error (error);
  text = flow_doc_dup_text (b);
  g_assert_cmpstr (text, ==, "café au lait");
}

/* flow_doc_dup_property_names() returns the names sorted, so two replicas
 * list them alike. It used to sort the pointers. */
static void
test_property_names_sorted (void)
{
  static const FlowOpId id = { 7, 0 };
  static const char * const keys[] = { "y", "x", "w", "h", "fill", "text", "opacity", "locked" };
  static const char * const sorted[] = {
    "fill", "h", "locked", "opacity", "text", "w", "x", "y", NULL,
  };
  g_autoptr(FlowDoc) board = flow_doc_new (FLOW_DOC_KIND_BOARD, &id, 1);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) names = NULL;
  FlowOpId shape;

  g_assert_true (flow_doc_create_entity (board, "rect", &shape, &error));
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autoptr(FlowValue) v = NULL;

      if (g_str_equal (keys[i], "fill"))
        v = flow_value_new_color (0xff0000ff);
      else if (g_str_equal (keys[i], "text"))
        v = flow_value_new_string ("hi");
      else if (g_str_equal (keys[i], "locked"))
        v = flow_value_new_bool (TRUE);
      else
        v = flow_value_new_number (0.5);
      g_assert_true (flow_doc_set_property (board, &shape, keys[i], v, &error));
      g_assert_no_error (error);
    }

  names = flow_doc_dup_property_names (board, &shape);
  g_assert_cmpstrv (names, sorted);
}

/* Comparing empty version vectors and empty point lists used to pass NULL
 * to memcmp(): undefined behaviour that UBSan stops on. */
static void
test_equal_empty (void)
{
  g_autoptr(FlowVersionVector) a = flow_version_vector_new ();
  g_autoptr(FlowVersionVector) b = flow_version_vector_new ();
  g_autoptr(FlowValue) p = flow_value_new_points (NULL, 0);
  g_autoptr(FlowValue) q = flow_value_new_points (NULL, 0);

  g_assert_true (flow_version_vector_equal (a, b));
  g_assert_true (flow_value_equal (p, q));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/convergence/page", test_convergence_page);
  g_test_add_func ("/flow/convergence/board", test_convergence_board);
  g_test_add_func ("/flow/convergence/mixed", test_convergence_mixed);
  g_test_add_func ("/flow/convergence/regressions/canonical-encoding", test_canonical_encoding);
  g_test_add_func ("/flow/convergence/regressions/load-short-runs", test_load_short_runs);
  g_test_add_func ("/flow/convergence/regressions/sync-short-runs", test_sync_short_runs);
  g_test_add_func ("/flow/convergence/regressions/property-names-sorted",
                   test_property_names_sorted);
  g_test_add_func ("/flow/convergence/regressions/equal-empty", test_equal_empty);

  return g_test_run ();
}
