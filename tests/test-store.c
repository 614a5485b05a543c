/* test-store.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The persistence layer (src/store): round trips through the workspace
 * file, with and without snapshots; history and time travel; the catalog;
 * replica ids across clean and unclean exits; refusal of files that are not
 * intact workspaces, without touching them; write errors that lose nothing;
 * and the asynchronous API.
 *
 * Every test works in its own g_dir_make_tmp() directory. Tests that need
 * a process to die (an unclean exit, a file size limit) run that part in a
 * g_test_trap_subprocess() child, which finds the parent's directory in
 * $FLOW_TEST_STORE_DIR.
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "flow-board.h"
#include "flow-catalog.h"
#include "flow-codec-private.h"
#include "flow-error.h"
#include "flow-store.h"
#include "flow-test-util.h"
#include "flow-workspace.h"

#define DIR_ENV "FLOW_TEST_STORE_DIR"

/* ------------------------------------------------------------------------
 * Fixture: a temporary directory with a workspace path in it
 * ------------------------------------------------------------------------ */

typedef struct
{
  char     *dir;
  char     *path;
  gboolean  borrowed; /* a subprocess working in its parent's directory */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *parent = g_getenv (DIR_ENV);

  if (g_test_subprocess () && parent != NULL)
    {
      f->dir = g_strdup (parent);
      f->borrowed = TRUE;
    }
  else
    {
      f->dir = g_dir_make_tmp ("flow-store-XXXXXX", &error);
      g_assert_no_error (error);
    }
  f->path = g_build_filename (f->dir, "test.flowsync", NULL);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_remove (path);
      return;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_dir_close (dir);
  g_rmdir (path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (!f->borrowed)
    {
      remove_tree (f->dir);
      g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
    }
  g_free (f->path);
  g_free (f->dir);
}

/* Runs the current test again in a subprocess that works in @f's directory. */
static void
run_in_subprocess (Fixture *f)
{
  g_setenv (DIR_ENV, f->dir, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_unsetenv (DIR_ENV);
}

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* SHA-256 of a file's bytes, or NULL if there is no such file. */
static char *
file_checksum (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

static gboolean
sidecar_exists (const char *path,
                const char *suffix)
{
  g_autofree char *p = g_strconcat (path, suffix, NULL);

  return g_file_test (p, G_FILE_TEST_EXISTS);
}

/* A watchdog for main-loop waits. */
static gboolean
timed_out_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default main context until *@flag, failing after @seconds. */
static void
wait_for (const gboolean *flag,
          guint           seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timed_out_cb, &timed_out);

  while (!*flag && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("Timed out after %u s waiting on the main context", seconds);
  g_source_remove (id);
}

/* Iterates the default main context until @done (@data), failing after
 * @seconds. */
static void
wait_until (gboolean (*done) (gpointer data),
            gpointer   data,
            guint      seconds)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (seconds, timed_out_cb, &timed_out);

  while (!done (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (timed_out)
    g_error ("Timed out after %u s waiting on the main context", seconds);
  g_source_remove (id);
}

static char *
value_to_string (const FlowValue *v)
{
  switch (flow_value_get_value_type (v))
    {
    case FLOW_VALUE_NULL:
      return g_strdup ("null");
    case FLOW_VALUE_BOOL:
      return g_strdup (flow_value_get_bool (v) ? "true" : "false");
    case FLOW_VALUE_NUMBER:
      return g_strdup_printf ("%.17g", flow_value_get_number (v));
    case FLOW_VALUE_STRING:
      {
        g_autofree char *escaped = g_strescape (flow_value_get_string (v), NULL);

        return g_strdup_printf ("\"%s\"", escaped);
      }
    case FLOW_VALUE_COLOR:
      return flow_color_to_string (flow_value_get_color (v));
    case FLOW_VALUE_POINTS:
      {
        GString *s = g_string_new ("[");
        guint n;
        const FlowPoint *p = flow_value_get_points (v, &n);

        for (guint i = 0; i < n; i++)
          g_string_append_printf (s, "(%.9g %.9g %.9g)", p[i].x, p[i].y, p[i].pressure);
        g_string_append_c (s, ']');
        return g_string_free (s, FALSE);
      }
    case FLOW_VALUE_REF:
      return flow_op_id_to_string (flow_value_get_ref (v));
    case FLOW_VALUE_BYTES:
      {
        gsize len;
        const guint8 *data = g_bytes_get_data (flow_value_get_bytes (v), &len);

        return g_base64_encode (data, len);
      }
    default:
      g_assert_not_reached ();
      return NULL;
    }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

/* The whole visible state of a document as text: a page's text, or every
 * entity of a board or the catalog (deleted ones too) with every property,
 * then the z-order. Two documents with equal dumps look the same. */
static char *
doc_dump (FlowDoc *doc)
{
  g_autoptr(GArray) entities = NULL;
  g_autoptr(GArray) ordered = NULL;
  GString *s;

  if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
    return flow_doc_dup_text (doc);

  s = g_string_new (NULL);
  entities = flow_doc_list_entities (doc, TRUE);
  for (guint i = 0; i < entities->len; i++)
    {
      const FlowOpId *id = &g_array_index (entities, FlowOpId, i);
      g_autofree char *sid = flow_op_id_to_string (id);
      g_auto(GStrv) names = flow_doc_dup_property_names (doc, id);

      g_string_append_printf (s, "%s %s%s\n", sid, flow_doc_get_entity_kind (doc, id),
                              flow_doc_entity_is_deleted (doc, id) ? " (deleted)" : "");
      if (names != NULL)
        {
          qsort (names, g_strv_length (names), sizeof (char *), compare_strings);
          for (guint k = 0; names[k] != NULL; k++)
            {
              FlowValue *v = flow_doc_get_property (doc, id, names[k]);
              g_autofree char *vs = v ? value_to_string (v) : g_strdup ("(none)");

              g_string_append_printf (s, "  %s = %s\n", names[k], vs);
            }
        }
    }
  ordered = flow_doc_list_ordered (doc);
  g_string_append (s, "order:");
  for (guint i = 0; i < ordered->len; i++)
    {
      g_autofree char *sid = flow_op_id_to_string (&g_array_index (ordered, FlowOpId, i));

      g_string_append_printf (s, " %s", sid);
    }
  return g_string_free (s, FALSE);
}

static void
assert_same_doc (FlowDoc *expected,
                 FlowDoc *actual)
{
  g_autofree char *de = doc_dump (expected);
  g_autofree char *da = doc_dump (actual);
  g_autoptr(FlowVersionVector) ve = flow_doc_dup_version (expected);
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (actual);
  g_autofree char *vse = flow_version_vector_to_string (ve);
  g_autofree char *vsa = flow_version_vector_to_string (va);

  g_assert_cmpint (flow_doc_get_kind (actual), ==, flow_doc_get_kind (expected));
  g_assert_true (flow_op_id_equal (flow_doc_get_id (actual), flow_doc_get_id (expected)));
  g_assert_cmpstr (da, ==, de);
  g_assert_cmpstr (vsa, ==, vse);
  g_assert_true (flow_version_vector_equal (va, ve));
  g_assert_cmpuint (flow_doc_get_n_ops (actual), ==, flow_doc_get_n_ops (expected));
}

/* ------------------------------------------------------------------------
 * A workload: pages and boards with random edits, and the state of each
 * document after each of its edits (one edit = one change = one history
 * row)
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowOpId     id;
  FlowDocKind  kind;
  FlowDoc     *doc;     /* owned by the workspace */
  GPtrArray   *states;  /* dump after edit i */
  GArray      *shapes;  /* boards: every shape id made */
} DocWork;

typedef struct
{
  GRand  *rand;
  GArray *docs;       /* DocWork */
  guint   n_editable; /* edits go to the first n_editable documents */
} Workload;

static void
doc_work_clear (gpointer data)
{
  DocWork *dw = data;

  g_clear_pointer (&dw->states, g_ptr_array_unref);
  g_clear_pointer (&dw->shapes, g_array_unref);
}

static Workload *
workload_new (guint32 seed)
{
  Workload *w = g_new0 (Workload, 1);

  w->rand = g_rand_new_with_seed (seed);
  w->docs = g_array_new (FALSE, TRUE, sizeof (DocWork));
  g_array_set_clear_func (w->docs, doc_work_clear);
  return w;
}

static void
workload_free (Workload *w)
{
  g_rand_free (w->rand);
  g_array_unref (w->docs);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Workload, workload_free)

static DocWork *
workload_add_doc (Workload      *w,
                  FlowWorkspace *ws,
                  FlowDocKind    kind,
                  const char    *title,
                  const char    *folder)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *doc = flow_workspace_new_document (ws, kind, title, folder, &error);
  DocWork dw = { { 0, }, };

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  dw.id = *flow_doc_get_id (doc);
  dw.kind = kind;
  dw.doc = doc;
  dw.states = g_ptr_array_new_with_free_func (g_free);
  dw.shapes = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  g_array_append_val (w->docs, dw);
  return &g_array_index (w->docs, DocWork, w->docs->len - 1);
}

static const char * const pieces[] = {
  "a", "word ", "é", "日本語", "🎉", "\n", "# Title\n", "ünïcödé ", "x", "- item\n", "Ωμέγα ",
};

/* One random page edit, chosen before it is made. */
typedef struct
{
  gboolean    delete;
  guint       pos;
  guint       n;
  const char *piece;
} PageEdit;

static void
page_edit_choose (GRand    *rand,
                  FlowDoc  *page,
                  PageEdit *e)
{
  guint len = flow_doc_get_length (page);

  memset (e, 0, sizeof *e);
  if (len > 0 && g_rand_int_range (rand, 0, 4) == 0)
    {
      e->delete = TRUE;
      e->pos = (guint) g_rand_int_range (rand, 0, (gint32) len);
      e->n = (guint) g_rand_int_range (rand, 1, (gint32) MIN (len - e->pos, 6) + 1);
    }
  else
    {
      e->pos = (guint) g_rand_int_range (rand, 0, (gint32) len + 1);
      e->piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];
    }
}

static void
page_edit_apply (FlowDoc        *page,
                 const PageEdit *e)
{
  g_autoptr(GError) error = NULL;

  if (e->delete)
    g_assert_true (flow_doc_delete_text (page, e->pos, e->n, &error));
  else
    g_assert_true (flow_doc_insert_text (page, e->pos, e->piece, -1, &error));
  g_assert_no_error (error);
}

static const char * const shape_kinds[] = {
  "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text", "sticky", "image",
};

/* A live shape of @dw, or NULL. */
static const FlowOpId *
pick_live_shape (GRand   *rand,
                 DocWork *dw)
{
  g_autoptr(GArray) live = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < dw->shapes->len; i++)
    if (!flow_doc_entity_is_deleted (dw->doc, &g_array_index (dw->shapes, FlowOpId, i)))
      g_array_append_val (live, i);
  if (live->len == 0)
    return NULL;
  return &g_array_index (dw->shapes, FlowOpId,
                         g_array_index (live, guint,
                                        g_rand_int_range (rand, 0, (gint32) live->len)));
}

static void
set_value (FlowDoc        *board,
           const FlowOpId *id,
           const char     *key,
           FlowValue      *value)
{
  g_autoptr(FlowValue) owned = value;
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_set_property (board, id, key, owned, &error));
  g_assert_no_error (error);
}

static void
board_edit (GRand   *rand,
            DocWork *dw)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *board = dw->doc;
  const FlowOpId *shape = pick_live_shape (rand, dw);
  const FlowOpId *other = pick_live_shape (rand, dw);
  FlowOpId id;

  if (shape == NULL || g_rand_int_range (rand, 0, 4) == 0)
    {
      const char *kind = shape_kinds[g_rand_int_range (rand, 0, G_N_ELEMENTS (shape_kinds))];

      g_assert_true (flow_board_add_shape (board, kind, g_rand_double_range (rand, -500, 500),
                                           g_rand_double_range (rand, -500, 500),
                                           g_rand_double_range (rand, 1, 300),
                                           g_rand_double_range (rand, 1, 300), &id, &error));
      g_assert_no_error (error);
      g_array_append_val (dw->shapes, id);
      return;
    }

  switch (g_rand_int_range (rand, 0, 10))
    {
    case 0:
      g_assert_true (flow_board_move (board, shape, 1, g_rand_double_range (rand, -50, 50),
                                      g_rand_double_range (rand, -50, 50), &error));
      break;
    case 1:
      g_assert_true (flow_board_delete (board, shape, 1, &error));
      break;
    case 2:
      g_assert_true (flow_board_raise_to_top (board, shape, &error));
      break;
    case 3:
      g_assert_true (flow_board_lower_to_bottom (board, shape, &error));
      break;
    case 4:
      set_value (board, shape, "fill", flow_value_new_color (g_rand_int (rand)));
      break;
    case 5:
      set_value (board, shape, "text",
                 flow_value_new_string (pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]));
      break;
    case 6:
      {
        FlowPoint points[5];
        guint n = (guint) g_rand_int_range (rand, 1, G_N_ELEMENTS (points) + 1);

        for (guint i = 0; i < n; i++)
          {
            points[i].x = (float) g_rand_double_range (rand, -100, 100);
            points[i].y = (float) g_rand_double_range (rand, -100, 100);
            points[i].pressure = (float) g_rand_double (rand);
          }
        set_value (board, shape, "points", flow_value_new_points (points, n));
      }
      break;
    case 7:
      /* Two properties in one change. */
      flow_doc_begin_change (board);
      set_value (board, shape, "start", flow_value_new_ref (other));
      set_value (board, shape, "group", g_rand_boolean (rand) ? flow_value_new_string ("g1")
                                                              : flow_value_new_null ());
      flow_doc_end_change (board);
      break;
    case 8:
      {
        guint8 data[40];
        g_autoptr(GBytes) bytes = NULL;

        for (guint i = 0; i < sizeof data; i++)
          data[i] = (guint8) g_rand_int (rand);
        bytes = g_bytes_new (data, sizeof data);
        flow_doc_begin_change (board);
        set_value (board, shape, "image", flow_value_new_bytes (bytes));
        set_value (board, shape, "mime_type", flow_value_new_string ("image/png"));
        flow_doc_end_change (board);
      }
      break;
    default:
      flow_doc_begin_change (board);
      set_value (board, shape, "rotation",
                 flow_value_new_number (g_rand_double_range (rand, -3, 3)));
      set_value (board, shape, "opacity", flow_value_new_number (g_rand_double (rand)));
      set_value (board, shape, "locked", flow_value_new_bool (g_rand_boolean (rand)));
      flow_doc_end_change (board);
      break;
    }
  g_assert_no_error (error);
}

/* One random edit of a random document of @w; records its new state. */
static void
workload_edit (Workload *w)
{
  guint n = w->n_editable ? w->n_editable : w->docs->len;
  DocWork *dw = &g_array_index (w->docs, DocWork, g_rand_int_range (w->rand, 0, (gint32) n));
  guint64 before = flow_doc_get_n_ops (dw->doc);

  if (dw->kind == FLOW_DOC_KIND_PAGE)
    {
      PageEdit e;

      page_edit_choose (w->rand, dw->doc, &e);
      page_edit_apply (dw->doc, &e);
    }
  else
    board_edit (w->rand, dw);
  /* Raising the top shape (and the like) changes nothing: no row. */
  if (flow_doc_get_n_ops (dw->doc) > before)
    g_ptr_array_add (dw->states, doc_dump (dw->doc));
  else
    g_assert_cmpint (dw->kind, ==, FLOW_DOC_KIND_BOARD);
}

static Workload *
workload_build (FlowWorkspace *ws,
                guint32        seed,
                guint          n_edits)
{
  Workload *w = workload_new (seed);

  workload_add_doc (w, ws, FLOW_DOC_KIND_PAGE, "Notes", NULL);
  workload_add_doc (w, ws, FLOW_DOC_KIND_BOARD, "Sketch", "Drawings");
  workload_add_doc (w, ws, FLOW_DOC_KIND_PAGE, "Ünïcödé ✓", "Drafts");
  /* The last two stay empty. */
  w->n_editable = w->docs->len;
  workload_add_doc (w, ws, FLOW_DOC_KIND_BOARD, "Empty board", NULL);
  workload_add_doc (w, ws, FLOW_DOC_KIND_PAGE, "Empty page", NULL);
  for (guint i = 0; i < n_edits; i++)
    workload_edit (w);
  return w;
}

/* ------------------------------------------------------------------------
 * Checks shared by the round-trip tests
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint64 last;
  guint   n;
  guint64 target; /* for wait_committed() */
} Committed;

static gboolean
committed_reached (gpointer data)
{
  Committed *c = data;

  return c->last >= c->target;
}

/* Waits for "committed" to say @seq, on the main context. */
static void
wait_committed (Committed *c,
                guint64    seq)
{
  c->target = seq;
  wait_until (committed_reached, c, 30);
}

static void
committed_cb (FlowStore *store,
              guint64    seq,
              gpointer   data)
{
  Committed *c = data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_assert_cmpuint (seq, >=, c->last);
  g_assert_cmpuint (seq, <=, flow_store_get_queued (store));
  c->last = seq;
  c->n++;
}

/* Loads every document of @w from @store, bypassing the workspace's
 * in-memory copies, and compares. */
static void
check_loads (FlowStore *store,
             Workload  *w)
{
  for (guint i = 0; i < w->docs->len; i++)
    {
      DocWork *dw = &g_array_index (w->docs, DocWork, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowDoc) loaded = flow_store_load_doc (store, &dw->id, dw->kind, &error);

      g_assert_no_error (error);
      g_assert_nonnull (loaded);
      assert_same_doc (dw->doc, loaded);
    }
}

/* History rows add up to the op count, and checking out the version after
 * each row reproduces the state recorded after that edit. */
static void
check_history (FlowStore *store,
               DocWork   *dw,
               FlowDoc   *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) rows = flow_store_dup_history (store, &dw->id, &error);
  g_autoptr(FlowVersionVector) zero = NULL;
  g_autoptr(FlowVersionVector) past_end = NULL;
  g_autoptr(FlowDoc) empty = NULL;
  guint64 total = 0;
  gint64 last_row = 0;
  gint64 now = g_get_real_time ();

  g_assert_no_error (error);
  g_assert_nonnull (rows);
  g_assert_cmpuint (rows->len, ==, dw->states->len);

  for (guint i = 0; i < rows->len; i++)
    {
      const FlowStoreRow *row = &g_array_index (rows, FlowStoreRow, i);
      g_autoptr(FlowVersionVector) vv = NULL;
      g_autoptr(FlowDoc) old = NULL;
      g_autofree char *dump = NULL;

      g_assert_cmpint (row->row, >, last_row);
      g_assert_cmpuint (row->ops_before, ==, total);
      g_assert_cmpuint (row->n_ops, >, 0);
      g_assert_cmpint (row->time, >, now - (gint64) 3600 * G_USEC_PER_SEC);
      g_assert_cmpint (row->time, <=, now);
      g_assert_cmpuint (row->replica, !=, 0);
      last_row = row->row;
      total += row->n_ops;

      vv = flow_store_dup_version_at (store, &dw->id, total, &error);
      g_assert_no_error (error);
      g_assert_nonnull (vv);
      g_assert_cmpuint (flow_version_vector_total (vv), ==, total);
      old = flow_doc_checkout (doc, vv, &error);
      g_assert_no_error (error);
      g_assert_nonnull (old);
      dump = doc_dump (old);
      g_assert_cmpstr (dump, ==, g_ptr_array_index (dw->states, i));

      /* A count inside a row is not a version. */
      if (row->n_ops > 1)
        {
          g_autoptr(FlowVersionVector) mid =
            flow_store_dup_version_at (store, &dw->id, total - 1, &error);

          g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND);
          g_assert_null (mid);
          g_clear_error (&error);
        }
    }
  g_assert_cmpuint (total, ==, flow_doc_get_n_ops (doc));

  zero = flow_store_dup_version_at (store, &dw->id, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flow_version_vector_total (zero), ==, 0);
  empty = flow_doc_checkout (doc, zero, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flow_doc_get_n_ops (empty), ==, 0);

  past_end = flow_store_dup_version_at (store, &dw->id, total + 1, &error);
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND);
  g_assert_null (past_end);
}

/* ------------------------------------------------------------------------
 * Round trips
 * ------------------------------------------------------------------------ */

/*
 * A workspace with pages and boards, closed and reopened, gives the same
 * text, board state and version vectors. The documents are also loaded
 * before closing, from the file, which is snapshot + replay with a small
 * snapshot interval and pure replay with the default one.
 */
static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  guint interval = GPOINTER_TO_UINT (data);
  guint32 seed = flow_test_seed ();
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);
  g_autoptr(FlowWorkspace) ws2 = NULL;
  g_autoptr(Workload) w = NULL;
  g_autofree char *catalog_dump = NULL;
  g_autoptr(GArray) infos = NULL;
  FlowStore *store;
  FlowReplicaId replica;
  Committed committed = { 0, };

  g_assert_no_error (error);
  g_assert_nonnull (ws);
  store = flow_workspace_get_store (ws);
  replica = flow_store_get_replica (store);
  g_assert_cmpuint (replica, !=, 0);
  g_assert_cmpstr (flow_store_get_path (store), ==, f->path);
  if (interval > 0)
    flow_store_set_snapshot_interval (store, interval);
  g_signal_connect (store, "committed", G_CALLBACK (committed_cb), &committed);

  w = workload_build (ws, seed, 400);

  /* Everything queued becomes durable, and "committed" says so on the
   * main context. */
  g_assert_true (flow_store_flush (store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (flow_store_get_committed (store), ==, flow_store_get_queued (store));
  wait_committed (&committed, flow_store_get_queued (store));
  g_assert_cmpuint (committed.last, ==, flow_store_get_queued (store));
  g_assert_cmpuint (committed.n, >, 0);

  /* From the file, while the workspace is open. */
  check_loads (store, w);
  for (guint i = 0; i < w->docs->len; i++)
    {
      DocWork *dw = &g_array_index (w->docs, DocWork, i);

      check_history (store, dw, dw->doc);
    }

  catalog_dump = doc_dump (flow_workspace_get_catalog (ws));
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);
  g_assert_false (sidecar_exists (f->path, "-wal"));
  g_assert_false (sidecar_exists (f->path, "-shm"));

  /* Reopened: the same replica, the same documents. */
  ws2 = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ws2);
  store = flow_workspace_get_store (ws2);
  g_assert_cmpuint (flow_store_get_replica (store), ==, replica);
  {
    g_autofree char *dump = doc_dump (flow_workspace_get_catalog (ws2));

    g_assert_cmpstr (dump, ==, catalog_dump);
  }

  infos = flow_store_list_docs (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < w->docs->len; i++)
    {
      DocWork *dw = &g_array_index (w->docs, DocWork, i);
      FlowDoc *doc = flow_workspace_load_document (ws2, &dw->id, &error);
      gboolean listed = FALSE;

      g_assert_no_error (error);
      g_assert_nonnull (doc);
      assert_same_doc (dw->doc, doc);
      check_history (store, dw, doc);

      for (guint k = 0; k < infos->len; k++)
        {
          const FlowStoreDocInfo *info = &g_array_index (infos, FlowStoreDocInfo, k);

          if (flow_op_id_equal (&info->id, &dw->id))
            {
              g_assert_cmpint (info->kind, ==, dw->kind);
              g_assert_cmpuint (info->n_ops, ==, flow_doc_get_n_ops (doc));
              listed = TRUE;
            }
        }
      g_assert_true (listed);
    }

  /* Editing goes on after reopening, and survives another round trip. */
  {
    DocWork *dw = &g_array_index (w->docs, DocWork, 0);
    FlowDoc *page = flow_workspace_load_document (ws2, &dw->id, &error);
    g_autoptr(FlowWorkspace) ws3 = NULL;
    g_autofree char *expected = NULL;
    FlowDoc *again;

    g_assert_true (flow_doc_insert_text (page, 0, "Reopened. ", -1, &error));
    g_assert_no_error (error);
    expected = flow_doc_dup_text (page);
    g_assert_true (flow_workspace_close (ws2, &error));
    g_assert_no_error (error);

    ws3 = flow_workspace_open (f->path, &error);
    g_assert_no_error (error);
    again = flow_workspace_load_document (ws3, &dw->id, &error);
    g_assert_no_error (error);
    assert_same_doc (page, again);
    g_assert_true (flow_workspace_close (ws3, &error));
    g_assert_no_error (error);
  }
}

/* Snapshots are taken every so many ops: with an interval of 1 every
 * change is followed by one, and loading still gives the same documents. */
static void
test_round_trip_every_op (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);
  g_autoptr(Workload) w = NULL;
  FlowStore *store;

  g_assert_no_error (error);
  store = flow_workspace_get_store (ws);
  flow_store_set_snapshot_interval (store, 1);
  w = workload_build (ws, flow_test_seed (), 60);
  g_assert_true (flow_store_flush (store, &error));
  g_assert_no_error (error);
  check_loads (store, w);
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------------
 * Catalog
 * ------------------------------------------------------------------------ */

static void
assert_entry (FlowDoc        *catalog,
              const FlowOpId *id,
              FlowDocKind     kind,
              const char     *title,
              const char     *folder,
              gboolean        deleted)
{
  FlowCatalogEntry e;

  g_assert_true (flow_catalog_get (catalog, id, &e));
  g_assert_cmpint (e.kind, ==, kind);
  g_assert_cmpstr (e.title, ==, title);
  g_assert_cmpstr (e.folder, ==, folder);
  g_assert_cmpint (e.deleted, ==, deleted);
  flow_catalog_entry_clear (&e);
}

static guint
count_listed (FlowDoc  *catalog,
              gboolean  include_trash)
{
  g_autoptr(GArray) list = flow_catalog_list (catalog, include_trash);
  guint n = list->len;

  for (guint i = 0; i < list->len; i++)
    flow_catalog_entry_clear (&g_array_index (list, FlowCatalogEntry, i));
  return n;
}

static FlowOpId
new_doc_id (FlowWorkspace *ws,
            FlowDocKind    kind,
            const char    *title,
            const char    *folder)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *doc = flow_workspace_new_document (ws, kind, title, folder, &error);

  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return *flow_doc_get_id (doc);
}

/* New, rename, move, trash and restore are catalog edits, persisted like
 * any other. */
static void
test_catalog_persist (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);
  FlowDoc *catalog;
  FlowOpId page, board, trashed, restored;

  g_assert_no_error (error);
  catalog = flow_workspace_get_catalog (ws);

  page = new_doc_id (ws, FLOW_DOC_KIND_PAGE, "Plan", NULL);
  board = new_doc_id (ws, FLOW_DOC_KIND_BOARD, "Wall", "Team");
  trashed = new_doc_id (ws, FLOW_DOC_KIND_PAGE, "Old", NULL);
  restored = new_doc_id (ws, FLOW_DOC_KIND_PAGE, "Back", "Archive");

  g_assert_true (flow_catalog_rename (catalog, &page, "Plan — 2026 ✓", &error));
  g_assert_true (flow_catalog_move (catalog, &page, "Projects/Ωμέγα", &error));
  g_assert_true (flow_catalog_move (catalog, &board, NULL, &error));
  g_assert_true (flow_catalog_trash (catalog, &trashed, &error));
  g_assert_true (flow_catalog_trash (catalog, &restored, &error));
  g_assert_true (flow_catalog_restore (catalog, &restored, &error));
  g_assert_no_error (error);
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);
  g_clear_object (&ws);

  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(FlowWorkspace) ws2 = flow_workspace_open (f->path, &error);
      FlowOpId found;

      g_assert_no_error (error);
      catalog = flow_workspace_get_catalog (ws2);
      assert_entry (catalog, &page, FLOW_DOC_KIND_PAGE, "Plan — 2026 ✓", "Projects/Ωμέγα", FALSE);
      assert_entry (catalog, &board, FLOW_DOC_KIND_BOARD, "Wall", NULL, FALSE);
      assert_entry (catalog, &trashed, FLOW_DOC_KIND_PAGE, "Old", NULL, TRUE);
      assert_entry (catalog, &restored, FLOW_DOC_KIND_PAGE, "Back", "Archive", FALSE);
      g_assert_cmpuint (count_listed (catalog, FALSE), ==, 3);
      g_assert_cmpuint (count_listed (catalog, TRUE), ==, 4);
      g_assert_true (flow_catalog_find (catalog, "Wall", &found, &error));
      g_assert_true (flow_op_id_equal (&found, &board));
      g_assert_false (flow_catalog_find (catalog, "Plan", &found, &error));
      g_clear_error (&error);

      /* The documents open as their kind. */
      g_assert_nonnull (flow_workspace_load_document (ws2, &page, &error));
      g_assert_nonnull (flow_workspace_load_document (ws2, &board, &error));
      g_assert_no_error (error);
      g_assert_cmpint (flow_doc_get_kind (flow_workspace_load_document (ws2, &board, NULL)), ==,
                       FLOW_DOC_KIND_BOARD);

      /* The second round also sees a rename made in the first reopen. */
      if (round == 0)
        {
          g_assert_true (flow_catalog_rename (catalog, &board, "Wall", &error));
          g_assert_no_error (error);
        }
      g_assert_true (flow_workspace_close (ws2, &error));
      g_assert_no_error (error);
    }

  /* An id that is not in the catalog. */
  {
    g_autoptr(FlowWorkspace) ws3 = flow_workspace_open (f->path, &error);
    FlowOpId missing = { 0x1234, 99 };

    g_assert_no_error (error);
    g_assert_null (flow_workspace_load_document (ws3, &missing, &error));
    g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_true (flow_workspace_close (ws3, &error));
  }
}

/* ------------------------------------------------------------------------
 * Replica ids
 * ------------------------------------------------------------------------ */

static FlowReplicaId
read_replica_file (Fixture *f)
{
  g_autofree char *file = g_build_filename (f->dir, "replica", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
  return g_ascii_strtoull (contents, NULL, 16);
}

static void
write_state_files (Fixture  *f,
                   Workload *w)
{
  for (guint i = 0; i < w->docs->len; i++)
    {
      DocWork *dw = &g_array_index (w->docs, DocWork, i);
      g_autofree char *sid = flow_op_id_to_string (&dw->id);
      g_autofree char *name = g_strdup_printf ("state-%s", sid);
      g_autofree char *file = g_build_filename (f->dir, name, NULL);
      g_autofree char *dump = doc_dump (dw->doc);
      g_autoptr(FlowVersionVector) vv = flow_doc_dup_version (dw->doc);
      g_autofree char *vs = flow_version_vector_to_string (vv);
      g_autofree char *contents = g_strdup_printf ("%d\n%s\n%s", dw->kind, vs, dump);

      g_assert_true (g_file_set_contents (file, contents, -1, NULL));
    }
}

/* Compares every document that write_state_files() recorded. */
static guint
check_state_files (Fixture       *f,
                   FlowWorkspace *ws)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;
  guint n = 0;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = NULL;
      g_autofree char *contents = NULL;
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) parts = NULL;
      g_autofree char *dump = NULL;
      g_autofree char *vs = NULL;
      g_autoptr(FlowVersionVector) vv = NULL;
      FlowOpId id;
      FlowDoc *doc;

      if (!g_str_has_prefix (name, "state-"))
        continue;
      g_assert_true (flow_op_id_parse (name + strlen ("state-"), &id));
      file = g_build_filename (f->dir, name, NULL);
      g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
      parts = g_strsplit (contents, "\n", 3);
      g_assert_cmpuint (g_strv_length (parts), ==, 3);

      doc = flow_workspace_load_document (ws, &id, &error);
      g_assert_no_error (error);
      g_assert_nonnull (doc);
      g_assert_cmpint (flow_doc_get_kind (doc), ==, (int) g_ascii_strtoll (parts[0], NULL, 10));
      vv = flow_doc_dup_version (doc);
      vs = flow_version_vector_to_string (vv);
      g_assert_cmpstr (vs, ==, parts[1]);
      dump = doc_dump (doc);
      g_assert_cmpstr (dump, ==, parts[2]);
      n++;
    }
  return n;
}

/* A clean close keeps the replica id. */
static void
test_replica_clean (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  FlowReplicaId first = 0;

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(FlowStore) store = round == 0 ? flow_store_create (f->path, &error)
                                              : flow_store_open (f->path, &error);

      g_assert_no_error (error);
      g_assert_nonnull (store);
      if (round == 0)
        first = flow_store_get_replica (store);
      g_assert_cmpuint (flow_store_get_replica (store), ==, first);
      g_assert_true (flow_store_close (store, &error));
      g_assert_no_error (error);
      /* Closing twice is harmless. */
      g_assert_true (flow_store_close (store, &error));
    }

  /* Dropping the last reference closes cleanly too. */
  {
    FlowStore *store = flow_store_open (f->path, &error);

    g_assert_no_error (error);
    g_object_unref (store);
    store = flow_store_open (f->path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (flow_store_get_replica (store), ==, first);
    g_object_unref (store);
  }
}

/*
 * A process that exits without closing (a crash) makes the next session
 * take a new replica id, and everything it flushed is there, loaded from
 * snapshots and the rows after them.
 */
static void
test_replica_crash (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  FlowReplicaId before, crashed, after;
  guint32 seed;

  if (g_test_subprocess ())
    {
      /* Open, edit, flush, record the state, and die without closing. */
      g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->path, &error);
      g_autoptr(Workload) w = NULL;
      g_autofree char *file = g_build_filename (f->dir, "replica", NULL);
      g_autofree char *hex = NULL;
      FlowStore *store;

      g_assert_no_error (error);
      store = flow_workspace_get_store (ws);
      flow_store_set_snapshot_interval (store, 10);
      seed = (guint32) g_ascii_strtoull (g_getenv ("FLOW_TEST_WORKLOAD_SEED"), NULL, 10);
      w = workload_build (ws, seed, 150);
      g_assert_true (flow_store_flush (store, &error));
      g_assert_no_error (error);
      write_state_files (f, w);
      hex = g_strdup_printf ("%016" G_GINT64_MODIFIER "x", flow_store_get_replica (store));
      g_assert_true (g_file_set_contents (file, hex, -1, NULL));
      _exit (0);
    }

  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);

    g_assert_no_error (error);
    before = flow_store_get_replica (flow_workspace_get_store (ws));
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }

  seed = flow_test_seed ();
  {
    g_autofree char *s = g_strdup_printf ("%u", seed);

    g_setenv ("FLOW_TEST_WORKLOAD_SEED", s, TRUE);
  }
  run_in_subprocess (f);
  g_test_trap_assert_passed ();
  g_unsetenv ("FLOW_TEST_WORKLOAD_SEED");

  /* The child kept the replica of the clean session, then died. */
  crashed = read_replica_file (f);
  g_assert_cmpuint (crashed, ==, before);
  g_assert_true (sidecar_exists (f->path, "-wal"));

  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->path, &error);
    FlowDoc *catalog;
    g_autoptr(GArray) list = NULL;
    guint n_pages = 0;

    g_assert_no_error (error);
    g_assert_nonnull (ws);
    after = flow_store_get_replica (flow_workspace_get_store (ws));
    g_assert_cmpuint (after, !=, 0);
    g_assert_cmpuint (after, !=, crashed);

    /* Everything the crashed session flushed is there. */
    g_assert_cmpuint (check_state_files (f, ws), ==, 5);

    /* Editing goes on under the new replica. */
    catalog = flow_workspace_get_catalog (ws);
    list = flow_catalog_list (catalog, FALSE);
    for (guint i = 0; i < list->len; i++)
      {
        FlowCatalogEntry *e = &g_array_index (list, FlowCatalogEntry, i);
        FlowDoc *doc = flow_workspace_load_document (ws, &e->id, &error);

        g_assert_no_error (error);
        if (e->kind == FLOW_DOC_KIND_PAGE)
          {
            g_assert_true (flow_doc_insert_text (doc, 0, "after the crash\n", -1, &error));
            g_assert_no_error (error);
            g_assert_cmpuint (flow_doc_get_replica (doc), ==, after);
            n_pages++;
          }
        flow_catalog_entry_clear (e);
      }
    g_assert_cmpuint (n_pages, ==, 3);
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }

  /* A clean close after the crash keeps the new replica. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->path, &error);
    FlowDoc *catalog;
    g_autoptr(GArray) list = NULL;

    g_assert_no_error (error);
    g_assert_cmpuint (flow_store_get_replica (flow_workspace_get_store (ws)), ==, after);
    catalog = flow_workspace_get_catalog (ws);
    list = flow_catalog_list (catalog, FALSE);
    for (guint i = 0; i < list->len; i++)
      {
        FlowCatalogEntry *e = &g_array_index (list, FlowCatalogEntry, i);
        FlowDoc *doc = flow_workspace_load_document (ws, &e->id, &error);

        g_assert_no_error (error);
        if (e->kind == FLOW_DOC_KIND_PAGE)
          {
            g_autofree char *text = flow_doc_dup_text (doc);

            g_assert_true (g_str_has_prefix (text, "after the crash\n"));
          }
        flow_catalog_entry_clear (e);
      }
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }
}

/*
 * A second store on a file that is already open takes a replica of its own,
 * and so must a third one opened after the first closed while the second
 * is still open: it may reuse the first one's id, released by a clean
 * close, but never the second's. Edits of the two live sessions both
 * survive.
 */
static void
test_replica_concurrent (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) a = flow_workspace_create (f->path, &error);
  g_autoptr(FlowWorkspace) b = NULL;
  g_autoptr(FlowWorkspace) c = NULL;
  g_autoptr(FlowWorkspace) d = NULL;
  g_autofree char *text = NULL;
  FlowReplicaId ra, rb, rc;
  FlowOpId page_id;
  FlowDoc *pb, *pc, *pd;

  g_assert_no_error (error);
  page_id = new_doc_id (a, FLOW_DOC_KIND_PAGE, "Shared", NULL);
  g_assert_true (flow_store_flush (flow_workspace_get_store (a), &error));
  ra = flow_store_get_replica (flow_workspace_get_store (a));

  b = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  rb = flow_store_get_replica (flow_workspace_get_store (b));
  g_assert_cmpuint (rb, !=, ra);

  g_assert_true (flow_workspace_close (a, &error));
  g_assert_no_error (error);

  c = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  rc = flow_store_get_replica (flow_workspace_get_store (c));
  g_assert_cmpuint (rc, !=, rb);
  g_assert_cmpuint (rc, ==, ra);

  /* Two live sessions edit the same page: both edits are kept. */
  pb = flow_workspace_load_document (b, &page_id, &error);
  g_assert_no_error (error);
  pc = flow_workspace_load_document (c, &page_id, &error);
  g_assert_no_error (error);
  g_assert_true (flow_doc_insert_text (pb, 0, "from B ", -1, &error));
  g_assert_true (flow_doc_insert_text (pc, 0, "from C ", -1, &error));
  g_assert_no_error (error);
  g_assert_true (flow_workspace_close (b, &error));
  g_assert_true (flow_workspace_close (c, &error));
  g_assert_no_error (error);

  d = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  pd = flow_workspace_load_document (d, &page_id, &error);
  g_assert_no_error (error);
  text = flow_doc_dup_text (pd);
  g_assert_true (g_str_equal (text, "from B from C ") || g_str_equal (text, "from C from B "));
  g_assert_true (flow_workspace_close (d, &error));
  g_assert_no_error (error);
}

/*
 * Two sessions at once (say, the app and flowsync-cli): the one that opened
 * first edits a page while the second, which took a new replica, is open.
 * Later sessions must still be able to load the page.
 */
static void
test_replica_concurrent_edits (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) a = flow_workspace_create (f->path, &error);
  g_autoptr(FlowWorkspace) b = NULL;
  g_autoptr(FlowWorkspace) c = NULL;
  g_autofree char *expected = NULL;
  FlowDoc *page;
  FlowOpId page_id;

  g_assert_no_error (error);
  page = flow_workspace_new_document (a, FLOW_DOC_KIND_PAGE, "Shared", NULL, &error);
  g_assert_no_error (error);
  page_id = *flow_doc_get_id (page);
  g_assert_true (flow_store_flush (flow_workspace_get_store (a), &error));

  b = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flow_store_get_replica (flow_workspace_get_store (b)), !=,
                    flow_store_get_replica (flow_workspace_get_store (a)));

  g_assert_true (flow_doc_insert_text (page, 0, "written by the first session", -1, &error));
  g_assert_no_error (error);
  expected = flow_doc_dup_text (page);
  g_assert_true (flow_workspace_close (b, &error));
  g_assert_true (flow_workspace_close (a, &error));
  g_assert_no_error (error);

  /* Stored next seqs are per replica: the first session's edits do not
   * make the page look incomplete to later sessions, whichever id they
   * take. */
  c = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  page = flow_workspace_load_document (c, &page_id, &error);
  g_assert_no_error (error);
  {
    g_autofree char *text = flow_doc_dup_text (page);

    g_assert_cmpstr (text, ==, expected);
  }
  g_assert_true (flow_workspace_close (c, &error));
}

/* ------------------------------------------------------------------------
 * Files that are not intact workspaces
 * ------------------------------------------------------------------------ */

/* No -wal or -shm appears next to a file we refused: a read-only SQLite
 * connection to a WAL file would leave both behind. */
static void
assert_no_new_sidecars (const char *path,
                        gboolean    had_wal,
                        gboolean    had_shm)
{
  g_assert_cmpint (sidecar_exists (path, "-wal"), ==, had_wal);
  g_assert_cmpint (sidecar_exists (path, "-shm"), ==, had_shm);
}

/* Opening @path must fail with @code and leave it (and its sidecars) as it
 * was. Tries the store and the workspace. */
static void
assert_refused (const char *path,
                int         code)
{
  g_autofree char *before = file_checksum (path);
  gboolean had_wal = sidecar_exists (path, "-wal");
  gboolean had_shm = sidecar_exists (path, "-shm");
  gboolean had_journal = sidecar_exists (path, "-journal");
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *wal_before = file_checksum (wal);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = NULL;
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autofree char *after = NULL;
  g_autofree char *wal_after = NULL;

  store = flow_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, FLOW_STORE_ERROR, code);
  g_assert_nonnull (error->message);
  g_test_message ("refused as expected: %s", error->message);
  g_clear_error (&error);

  ws = flow_workspace_open (path, &error);
  g_assert_null (ws);
  g_assert_error (error, FLOW_STORE_ERROR, code);
  g_clear_error (&error);

  after = file_checksum (path);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (sidecar_exists (path, "-journal"), ==, had_journal);
  wal_after = file_checksum (wal);
  if (had_wal)
    g_assert_cmpstr (wal_after, ==, wal_before);

  assert_no_new_sidecars (path, had_wal, had_shm);
}

static void
write_file (const char   *path,
            const guint8 *data,
            gsize         len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, (const char *) data, (gssize) len, &error));
  g_assert_no_error (error);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

/* A closed workspace with some content, big enough to span many pages. */
static void
make_workspace (const char *path,
                guint       n_edits)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (path, &error);
  g_autoptr(Workload) w = NULL;

  g_assert_no_error (error);
  w = workload_build (ws, 42, n_edits);
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);
  g_assert_false (sidecar_exists (path, "-wal"));
}

static void
test_bad_nonexistent (Fixture       *f,
                      gconstpointer  data)
{
  g_autofree char *sub = g_build_filename (f->dir, "no", "such", "dir.flowsync", NULL);

  assert_refused (f->path, FLOW_STORE_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  assert_refused (sub, FLOW_STORE_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (sub, G_FILE_TEST_EXISTS));
}

static void
test_bad_empty (Fixture       *f,
                gconstpointer  data)
{
  write_file (f->path, (const guint8 *) "", 0);
  assert_refused (f->path, FLOW_STORE_ERROR_NOT_WORKSPACE);
}

static void
test_bad_random (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  static const gsize sizes[] = { 1, 99, 100, 512, 4096, 65536 + 17 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree guint8 *data_bytes = g_malloc (sizes[i]);

      for (gsize k = 0; k < sizes[i]; k++)
        data_bytes[k] = (guint8) g_rand_int (rand);
      write_file (f->path, data_bytes, sizes[i]);
      assert_refused (f->path, FLOW_STORE_ERROR_NOT_WORKSPACE);
    }

  /* Random bytes behind a valid SQLite magic: not a workspace or damaged,
   * but never opened. */
  {
    guint8 block[4096];
    g_autoptr(GError) error = NULL;
    g_autoptr(FlowStore) store = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;

    for (gsize k = 0; k < sizeof block; k++)
      block[k] = (guint8) g_rand_int (rand);
    memcpy (block, "SQLite format 3", 16);
    write_file (f->path, block, sizeof block);
    before = file_checksum (f->path);
    store = flow_store_open (f->path, &error);
    g_assert_null (store);
    g_assert_true (g_error_matches (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_WORKSPACE) ||
                   g_error_matches (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT));
    after = file_checksum (f->path);
    g_assert_cmpstr (after, ==, before);
    g_assert_false (sidecar_exists (f->path, "-wal"));
    g_assert_false (sidecar_exists (f->path, "-shm"));
  }
}

static void
test_bad_text (Fixture       *f,
               gconstpointer  data)
{
  const char *text = "# My notes\n\nThis is a Markdown file, not a workspace. Ünïcödé.\n";

  write_file (f->path, (const guint8 *) text, strlen (text));
  assert_refused (f->path, FLOW_STORE_ERROR_NOT_WORKSPACE);

  /* A directory is not a workspace either. */
  {
    g_autofree char *sub = g_build_filename (f->dir, "folder.flowsync", NULL);

    g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
    assert_refused (sub, FLOW_STORE_ERROR_NOT_WORKSPACE);
  }
}

static void
exec_sql (sqlite3    *db,
          const char *sql)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);

  if (rc != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
}

static void
test_bad_foreign_sqlite (Fixture       *f,
                         gconstpointer  data)
{
  const char *journals[] = { "DELETE", "WAL" };

  for (guint i = 0; i < G_N_ELEMENTS (journals); i++)
    {
      sqlite3 *db = NULL;
      g_autofree char *sql = g_strdup_printf ("PRAGMA journal_mode = %s", journals[i]);

      g_remove (f->path);
      g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
      exec_sql (db, sql);
      exec_sql (db, "CREATE TABLE contacts (name TEXT, phone TEXT);"
                    "INSERT INTO contacts VALUES ('Ada', '+44 1234');"
                    "CREATE TABLE meta (key TEXT, value);"
                    "INSERT INTO meta VALUES ('format', 'something-else');");
      g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
      g_assert_false (sidecar_exists (f->path, "-wal"));

      assert_refused (f->path, FLOW_STORE_ERROR_NOT_WORKSPACE);
    }

  /* Databases that pretend to be ours (application_id) but have none of
   * our tables, in both journal modes. */
  for (guint i = 0; i < G_N_ELEMENTS (journals); i++)
    {
      sqlite3 *db = NULL;
      g_autofree char *sql = g_strdup_printf ("PRAGMA application_id = %d", 0x464c5753);
      g_autofree char *mode = g_strdup_printf ("PRAGMA journal_mode = %s", journals[i]);

      g_remove (f->path);
      g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
      exec_sql (db, sql);
      exec_sql (db, mode);
      exec_sql (db, "CREATE TABLE t (x);");
      g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
      assert_refused (f->path, FLOW_STORE_ERROR_NOT_WORKSPACE);
    }
}

static void
test_bad_truncated (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GBytes) whole = NULL;
  const guint8 *bytes;
  gsize len;
  gsize sizes[8];
  guint n_sizes = 0;

  make_workspace (f->path, 300);
  whole = read_file (f->path);
  bytes = g_bytes_get_data (whole, &len);
  g_assert_cmpuint (len, >=, 8 * 4096);
  g_test_message ("workspace of %" G_GSIZE_FORMAT " bytes", len);

  sizes[n_sizes++] = 100;            /* the header only */
  sizes[n_sizes++] = 4096;           /* the first page */
  sizes[n_sizes++] = 4096 + 1000;    /* inside the second */
  sizes[n_sizes++] = len / 2;        /* half */
  sizes[n_sizes++] = (len / 2) & ~(gsize) 4095; /* half, on a page boundary */
  sizes[n_sizes++] = len - 4096;     /* the last page missing */
  sizes[n_sizes++] = len - 1;

  for (guint i = 0; i < n_sizes; i++)
    {
      g_test_message ("truncated to %" G_GSIZE_FORMAT " bytes", sizes[i]);
      write_file (f->path, bytes, sizes[i]);
      assert_refused (f->path, FLOW_STORE_ERROR_CORRUPT);
    }

  /* Shorter than the header: not recognisable at all. */
  write_file (f->path, bytes, 50);
  assert_refused (f->path, FLOW_STORE_ERROR_NOT_WORKSPACE);
}

/* Overwrites a b-tree page in the middle of the file with noise. */
static void
test_bad_corrupt_page (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GBytes) whole = NULL;
  g_autofree guint8 *copy = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  gsize len;
  guint n_pages;
  guint n_done = 0;

  make_workspace (f->path, 300);
  whole = read_file (f->path);
  len = g_bytes_get_size (whole);
  copy = g_memdup2 (g_bytes_get_data (whole, NULL), len);
  n_pages = (guint) (len / 4096);
  g_assert_cmpuint (n_pages, >=, 8);

  for (guint page = n_pages / 3; page < n_pages - 1 && n_done < 3; page++)
    {
      g_autofree guint8 *bad = g_memdup2 (copy, len);
      guint8 type = copy[(gsize) page * 4096];

      /* Interior and leaf pages of tables and indexes. */
      if (type != 0x02 && type != 0x05 && type != 0x0a && type != 0x0d)
        continue;
      for (gsize k = 0; k < 4096; k++)
        bad[(gsize) page * 4096 + k] = (guint8) g_rand_int (rand);
      g_test_message ("page %u (type %u) overwritten", page + 1, type);
      write_file (f->path, bad, len);
      assert_refused (f->path, FLOW_STORE_ERROR_CORRUPT);
      n_done++;
    }
  g_assert_cmpuint (n_done, >, 0);

  /* A few flipped bytes in a cell area are damage too. */
  {
    g_autofree guint8 *bad = g_memdup2 (copy, len);
    guint page = n_pages / 2;

    while (copy[(gsize) page * 4096] != 0x0d && page + 1 < n_pages)
      page++;
    if (copy[(gsize) page * 4096] == 0x0d)
      {
        /* The cell pointer array: point the first cell outside the page. */
        bad[(gsize) page * 4096 + 8] = 0xff;
        bad[(gsize) page * 4096 + 9] = 0xff;
        write_file (f->path, bad, len);
        assert_refused (f->path, FLOW_STORE_ERROR_CORRUPT);
      }
  }
}

static void
test_bad_too_new (Fixture       *f,
                  gconstpointer  data)
{
  sqlite3 *db = NULL;

  make_workspace (f->path, 20);
  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  exec_sql (db, "PRAGMA user_version = 99");
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  g_assert_false (sidecar_exists (f->path, "-wal"));

  assert_refused (f->path, FLOW_STORE_ERROR_TOO_NEW);
}

/* A file we may not read, or not write: refused with IO, unchanged. Root
 * reads and writes whatever the mode, so there is nothing to test then. */
static void
test_bad_permissions (Fixture       *f,
                      gconstpointer  data)
{
  static const int modes[] = { 0000, 0444 };
  g_autofree char *before = NULL;

  if (geteuid () == 0)
    {
      g_test_skip ("running as root, which file modes do not restrict");
      return;
    }

  make_workspace (f->path, 20);
  before = file_checksum (f->path);
  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowWorkspace) ws = NULL;
      g_autofree char *after = NULL;

      g_assert_cmpint (g_chmod (f->path, modes[i]), ==, 0);
      ws = flow_workspace_open (f->path, &error);
      g_assert_null (ws);
      g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO);
      g_test_message ("mode %o: %s", modes[i], error->message);
      g_assert_cmpint (g_chmod (f->path, 0644), ==, 0);
      after = file_checksum (f->path);
      g_assert_cmpstr (after, ==, before);
      assert_no_new_sidecars (f->path, FALSE, FALSE);
    }
}

/* Runs @sql, with ?1 bound to @blob if not NULL, on the closed workspace. */
static void
edit_workspace (const char *path,
                const char *sql,
                GBytes     *blob)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (blob != NULL)
    sqlite3_bind_blob (stmt, 1, g_bytes_get_data (blob, NULL), (int) g_bytes_get_size (blob),
                       SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static GBytes *
select_blob (const char *path,
             const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GBytes *bytes = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    bytes = g_bytes_new (sqlite3_column_blob (stmt, 0), (gsize) sqlite3_column_bytes (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return bytes;
}

/* The page "Notes" of a fresh workspace, with @n edits, closed. */
static FlowOpId
make_page_workspace (const char *path,
                     guint       n,
                     char      **text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (path, &error);
  FlowDoc *page;
  FlowOpId id;

  g_assert_no_error (error);
  page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Notes", NULL, &error);
  g_assert_no_error (error);
  id = *flow_doc_get_id (page);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *line = g_strdup_printf ("line %u: ünïcödé\n", i);

      g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page), line, -1, &error));
      g_assert_no_error (error);
    }
  *text = flow_doc_dup_text (page);
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);
  return id;
}

static void
assert_load_corrupt (const char     *path,
                     const FlowOpId *id)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = flow_store_open (path, &error);
  g_autoptr(FlowDoc) doc = NULL;
  g_autoptr(FlowWorkspace) ws = NULL;

  /* The file itself is intact... */
  g_assert_no_error (error);
  g_assert_nonnull (store);
  /* ...but the document is not. */
  doc = flow_store_load_doc (store, id, FLOW_DOC_KIND_PAGE, &error);
  g_assert_null (doc);
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT);
  g_test_message ("refused as expected: %s", error->message);
  g_clear_error (&error);
  g_assert_true (flow_store_close (store, &error));
  g_assert_no_error (error);

  ws = flow_workspace_open (path, &error);
  g_assert_no_error (error);
  g_assert_null (flow_workspace_load_document (ws, id, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_true (flow_workspace_close (ws, &error));
}

/* One op row's data altered, keeping its CRC: the CRC catches it. */
static void
test_bad_altered_op (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *text = NULL;
  g_autofree char *id_str = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autofree guint8 *bad = NULL;
  gsize len;
  FlowOpId id;

  id = make_page_workspace (f->path, 30, &text);
  id_str = flow_op_id_to_string (&id);

  /* Without a snapshot, loading replays every row. */
  sql = g_strdup_printf ("DELETE FROM snapshots WHERE doc = '%s'", id_str);
  edit_workspace (f->path, sql, NULL);
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(FlowStore) store = flow_store_open (f->path, &error);
    g_autoptr(FlowDoc) doc = NULL;
    g_autofree char *loaded = NULL;

    g_assert_no_error (error);
    doc = flow_store_load_doc (store, &id, FLOW_DOC_KIND_PAGE, &error);
    g_assert_no_error (error);
    loaded = flow_doc_dup_text (doc);
    g_assert_cmpstr (loaded, ==, text);
    g_assert_true (flow_store_close (store, &error));
  }
  /* (Closing snapshots only changed documents: there is still none.) */
  g_free (sql);
  sql = g_strdup_printf ("SELECT data FROM ops WHERE doc = '%s' ORDER BY row LIMIT 1 OFFSET 10",
                         id_str);
  blob = select_blob (f->path, sql);
  g_assert_nonnull (blob);
  len = g_bytes_get_size (blob);
  bad = g_memdup2 (g_bytes_get_data (blob, NULL), len);
  g_assert_cmpuint (len, >, 8);
  bad[len - 3] ^= 0x20; /* in the inserted text */
  {
    g_autoptr(GBytes) altered = g_bytes_new (bad, len);

    g_free (sql);
    sql = g_strdup_printf ("UPDATE ops SET data = ?1 WHERE row = "
                           "(SELECT row FROM ops WHERE doc = '%s' ORDER BY row LIMIT 1 OFFSET 10)",
                           id_str);
    edit_workspace (f->path, sql, altered);
  }
  assert_load_corrupt (f->path, &id);
}

/* One op row cut short with a matching CRC: the decoder catches it. */
static void
test_bad_altered_op_crc (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *text = NULL;
  g_autofree char *id_str = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) cut = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gsize len;
  FlowOpId id;

  id = make_page_workspace (f->path, 30, &text);
  id_str = flow_op_id_to_string (&id);
  sql = g_strdup_printf ("DELETE FROM snapshots WHERE doc = '%s'", id_str);
  edit_workspace (f->path, sql, NULL);

  g_free (sql);
  sql = g_strdup_printf ("SELECT data FROM ops WHERE doc = '%s' ORDER BY row LIMIT 1 OFFSET 5",
                         id_str);
  blob = select_blob (f->path, sql);
  g_assert_nonnull (blob);
  len = g_bytes_get_size (blob);
  cut = g_bytes_new_from_bytes (blob, 0, len / 2);

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_free (sql);
  sql = g_strdup_printf ("UPDATE ops SET data = ?1, crc = ?2 WHERE row = (SELECT row FROM ops "
                         "WHERE doc = '%s' ORDER BY row LIMIT 1 OFFSET 5)", id_str);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_blob (stmt, 1, g_bytes_get_data (cut, NULL), (int) g_bytes_get_size (cut),
                     SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, flow_crc32 (g_bytes_get_data (cut, NULL), g_bytes_get_size (cut)));
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  g_assert_cmpint (sqlite3_changes (db), ==, 1);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);

  assert_load_corrupt (f->path, &id);
}

/* A damaged snapshot (whole-document encodings carry a CRC of their own). */
static void
test_bad_altered_snapshot (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *text = NULL;
  g_autofree char *id_str = NULL;
  g_autofree char *sql = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autofree guint8 *bad = NULL;
  gsize len;
  FlowOpId id;

  id = make_page_workspace (f->path, 30, &text);
  id_str = flow_op_id_to_string (&id);
  sql = g_strdup_printf ("SELECT data FROM snapshots WHERE doc = '%s'", id_str);
  blob = select_blob (f->path, sql);
  g_assert_nonnull (blob);
  len = g_bytes_get_size (blob);
  bad = g_memdup2 (g_bytes_get_data (blob, NULL), len);
  bad[len / 2] ^= 0x01;
  {
    g_autoptr(GBytes) altered = g_bytes_new (bad, len);

    g_free (sql);
    sql = g_strdup_printf ("UPDATE snapshots SET data = ?1 WHERE doc = '%s'", id_str);
    edit_workspace (f->path, sql, altered);
  }
  assert_load_corrupt (f->path, &id);
}

/* A file already there is never overwritten by create. */
static void
test_create_exists (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  const char *text = "precious";

  write_file (f->path, (const guint8 *) text, strlen (text));
  before = file_checksum (f->path);
  g_assert_null (flow_store_create (f->path, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_null (flow_workspace_create (f->path, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_EXISTS);
  g_clear_error (&error);
  after = file_checksum (f->path);
  g_assert_cmpstr (after, ==, before);

  /* An existing workspace neither. */
  g_remove (f->path);
  make_workspace (f->path, 10);
  g_free (before);
  before = file_checksum (f->path);
  g_assert_null (flow_workspace_create (f->path, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_EXISTS);
  g_free (after);
  after = file_checksum (f->path);
  g_assert_cmpstr (after, ==, before);
  g_assert_false (sidecar_exists (f->path, "-wal"));
}

/*
 * A create that fails (here: the disk refuses writes, by RLIMIT_FSIZE)
 * leaves nothing behind, so that trying again can work: a file left there
 * would make the next create fail with EXISTS and every open with
 * NOT_WORKSPACE.
 */
static void
test_create_fails (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      struct rlimit lim;
      g_autoptr(FlowWorkspace) ws = NULL;

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      lim.rlim_cur = 1000;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);
      ws = flow_workspace_create (f->path, &error);
      g_assert_null (ws);
      g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO);
      return;
    }

  run_in_subprocess (f);
  g_test_trap_assert_passed ();

  g_assert_false (g_file_test (f->path, G_FILE_TEST_EXISTS));
  g_assert_false (sidecar_exists (f->path, "-wal"));
  g_assert_false (sidecar_exists (f->path, "-shm"));
  g_assert_false (sidecar_exists (f->path, "-journal"));

  /* And then it works. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);

    g_assert_no_error (error);
    g_assert_true (flow_workspace_close (ws, &error));
  }
}

/* A closed store refuses everything with FLOW_STORE_ERROR_CLOSED. */
static void
test_closed (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = flow_store_create (f->path, &error);
  FlowOpId id = { 0, 0 };

  g_assert_no_error (error);
  g_assert_true (flow_store_close (store, &error));
  g_assert_null (flow_store_load_doc (store, &id, FLOW_DOC_KIND_CATALOG, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_null (flow_store_list_docs (store, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_null (flow_store_dup_history (store, &id, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_null (flow_store_dup_version_at (store, &id, 0, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_false (flow_store_flush (store, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
}

/*
 * Untracking snapshots a document and stops persisting it; a document the
 * store knows nothing of loads empty; "committed" counts every change.
 * Edits made before tracking are saved too, as one change, when tracking
 * starts.
 */
static void
test_track_untrack (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = flow_store_create (f->path, &error);
  g_autoptr(FlowDoc) page = NULL;
  g_autoptr(FlowDoc) board = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(FlowDoc) unknown = NULL;
  g_autoptr(GArray) rows = NULL;
  g_autofree char *text = NULL;
  FlowOpId page_id = { 0x1111, 1 };
  FlowOpId board_id = { 0x2222, 2 };
  FlowOpId nobody = { 0x3333, 3 };
  FlowReplicaId replica;
  Committed committed = { 0, };
  guint64 queued;

  g_assert_no_error (error);
  replica = flow_store_get_replica (store);
  g_signal_connect (store, "committed", G_CALLBACK (committed_cb), &committed);
  page = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, replica);
  board = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, replica);

  /* Changes before tracking are queued as one when tracking starts. */
  g_assert_true (flow_doc_insert_text (page, 0, "untracked ", -1, &error));
  flow_store_track (store, page);
  flow_store_track (store, page); /* twice is once */
  flow_store_track (store, board);
  g_assert_cmpuint (flow_store_get_queued (store), ==, 1);
  for (guint i = 0; i < 10; i++)
    {
      g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page), "x", -1, &error));
      g_assert_true (flow_board_add_shape (board, "rect", i, i, 5, 5, NULL, &error));
      g_assert_no_error (error);
    }
  queued = flow_store_get_queued (store);
  g_assert_cmpuint (queued, ==, 21);
  g_assert_true (flow_store_flush (store, &error));
  g_assert_cmpuint (flow_store_get_committed (store), ==, queued);
  wait_committed (&committed, queued);

  /* The page's first row holds the edits made before tracking, and it
   * loads without a snapshot. */
  rows = flow_store_dup_history (store, &page_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 11);
  g_assert_cmpuint (g_array_index (rows, FlowStoreRow, 0).ops_before, ==, 0);
  g_assert_cmpuint (g_array_index (rows, FlowStoreRow, 0).n_ops, ==, strlen ("untracked "));
  g_assert_cmpuint (g_array_index (rows, FlowStoreRow, 1).ops_before, ==, strlen ("untracked "));
  loaded = flow_store_load_doc (store, &page_id, FLOW_DOC_KIND_PAGE, &error);
  g_assert_no_error (error);
  assert_same_doc (page, loaded);
  g_clear_object (&loaded);

  /* Untracked: a snapshot of the whole page, then nothing more. */
  flow_store_untrack (store, page);
  text = flow_doc_dup_text (page);
  g_assert_true (flow_doc_insert_text (page, 0, "not saved ", -1, &error));
  g_assert_cmpuint (flow_store_get_queued (store), ==, queued);
  loaded = flow_store_load_doc (store, &page_id, FLOW_DOC_KIND_PAGE, &error);
  g_assert_no_error (error);
  {
    g_autofree char *loaded_text = flow_doc_dup_text (loaded);

    g_assert_cmpstr (loaded_text, ==, text);
    g_assert_cmpstr (loaded_text, ==, "untracked xxxxxxxxxx");
  }
  g_clear_object (&loaded);

  /* Nothing stored: an empty document of the kind asked for. */
  unknown = flow_store_load_doc (store, &nobody, FLOW_DOC_KIND_BOARD, &error);
  g_assert_no_error (error);
  g_assert_cmpint (flow_doc_get_kind (unknown), ==, FLOW_DOC_KIND_BOARD);
  g_assert_cmpuint (flow_doc_get_n_ops (unknown), ==, 0);
  g_assert_true (flow_op_id_equal (flow_doc_get_id (unknown), &nobody));
  g_clear_pointer (&rows, g_array_unref);
  rows = flow_store_dup_history (store, &nobody, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 0);

  /* A known document asked for as the wrong kind is the caller's mistake,
   * not damage. */
  g_assert_null (flow_store_load_doc (store, &board_id, FLOW_DOC_KIND_PAGE, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_WRONG_KIND);
  g_clear_error (&error);

  g_assert_true (flow_store_close (store, &error));
  g_clear_object (&store);

  /* Reopened: the board as it was, the page as it was when untracked. */
  store = flow_store_open (f->path, &error);
  g_assert_no_error (error);
  loaded = flow_store_load_doc (store, &board_id, FLOW_DOC_KIND_BOARD, &error);
  g_assert_no_error (error);
  assert_same_doc (board, loaded);
  g_clear_object (&loaded);
  loaded = flow_store_load_doc (store, &page_id, FLOW_DOC_KIND_PAGE, &error);
  g_assert_no_error (error);
  {
    g_autofree char *loaded_text = flow_doc_dup_text (loaded);

    g_assert_cmpstr (loaded_text, ==, text);
  }
  g_assert_true (flow_store_close (store, &error));
}

/* @store holds @doc exactly: it loads equal, and its history rows count
 * every op once and end at @doc's version. */
static void
assert_stored (FlowStore *store,
               FlowDoc   *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) loaded = flow_store_load_doc (store, flow_doc_get_id (doc),
                                                   flow_doc_get_kind (doc), &error);
  g_autoptr(GArray) rows = NULL;
  g_autoptr(FlowVersionVector) end = NULL;
  g_autoptr(FlowVersionVector) expected = flow_doc_dup_version (doc);
  guint64 total = 0;

  g_assert_no_error (error);
  assert_same_doc (doc, loaded);
  rows = flow_store_dup_history (store, flow_doc_get_id (doc), &error);
  g_assert_no_error (error);
  for (guint i = 0; i < rows->len; i++)
    {
      g_assert_cmpuint (g_array_index (rows, FlowStoreRow, i).ops_before, ==, total);
      total += g_array_index (rows, FlowStoreRow, i).n_ops;
    }
  g_assert_cmpuint (total, ==, flow_doc_get_n_ops (doc));
  end = flow_store_dup_version_at (store, flow_doc_get_id (doc), total, &error);
  g_assert_no_error (error);
  g_assert_true (flow_version_vector_equal (end, expected));
}

static void
insert_at_end (FlowDoc    *page,
               const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page), text, -1, &error));
  g_assert_no_error (error);
}

/*
 * A document that already has ops the store has not seen when tracking
 * starts: new with edits, loaded and then edited, edited between untrack
 * and track, or an object from an earlier session of the file. Its history
 * must be complete, without counting an op twice, and it must load before
 * any snapshot is taken.
 */
static void
test_track_unsaved (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = flow_store_create (f->path, &error);
  g_autoptr(FlowDoc) fresh = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  FlowOpId fresh_id = { 0x1111, 1 };
  FlowOpId loaded_id = { 0x2222, 2 };

  g_assert_no_error (error);

  /* New, with edits before tracking. */
  fresh = flow_doc_new (FLOW_DOC_KIND_PAGE, &fresh_id, flow_store_get_replica (store));
  insert_at_end (fresh, "before ");
  flow_store_track (store, fresh);
  insert_at_end (fresh, "after");
  assert_stored (store, fresh);

  /* Loaded (here: empty), edited, then tracked: only the new ops are
   * added. */
  loaded = flow_store_load_doc (store, &loaded_id, FLOW_DOC_KIND_PAGE, &error);
  g_assert_no_error (error);
  flow_store_track (store, loaded);
  insert_at_end (loaded, "one ");
  flow_store_untrack (store, loaded);
  g_clear_object (&loaded);
  loaded = flow_store_load_doc (store, &loaded_id, FLOW_DOC_KIND_PAGE, &error);
  g_assert_no_error (error);
  insert_at_end (loaded, "two ");
  flow_store_track (store, loaded);
  assert_stored (store, loaded);

  /* Edited while not tracked. */
  flow_store_untrack (store, fresh);
  insert_at_end (fresh, " untracked");
  flow_store_track (store, fresh);
  assert_stored (store, fresh);

  g_assert_true (flow_store_close (store, &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  /* The same objects, edited, tracked by the next session of the file:
   * the store cannot know what the file holds of them, and finds out. */
  insert_at_end (fresh, " next session");
  insert_at_end (loaded, "three");
  store = flow_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flow_store_get_replica (store), ==, flow_doc_get_replica (fresh));
  flow_store_track (store, fresh);
  flow_store_track (store, loaded);
  assert_stored (store, fresh);
  assert_stored (store, loaded);
  g_assert_true (flow_store_close (store, &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  store = flow_store_open (f->path, &error);
  g_assert_no_error (error);
  assert_stored (store, fresh);
  assert_stored (store, loaded);
  g_assert_true (flow_store_close (store, &error));
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------------
 * Write errors
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint   n_errors;
  GError *first;
} WriteErrors;

static void
write_error_cb (FlowStore    *store,
                const GError *error,
                gpointer      data)
{
  WriteErrors *we = data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  g_assert_nonnull (error);
  if (we->first == NULL)
    we->first = g_error_copy (error);
  we->n_errors++;
}

static gboolean
had_write_error (gpointer data)
{
  return ((WriteErrors *) data)->n_errors > 0;
}

/*
 * A file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored) makes commits
 * fail with EFBIG, as a full disk would. The store must say so with
 * "write-error", keep every change, and commit them all once the limit is
 * lifted.
 */
static void
test_write_error (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *marker = g_build_filename (f->dir, "no-failure", NULL);
  g_autofree char *expected_file = g_build_filename (f->dir, "expected", NULL);
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->path, &error);
      g_autofree char *expected = NULL;
      FlowStore *store;
      FlowDoc *page;
      FlowOpId id;
      WriteErrors we = { 0, };
      struct rlimit lim, saved;
      guint i;
      guint64 committed_before;
      guint n_errors;
      Committed committed = { 0, };

      g_assert_no_error (error);
      store = flow_workspace_get_store (ws);
      g_assert_true (flow_catalog_find (flow_workspace_get_catalog (ws), "Notes", &id, &error));
      page = flow_workspace_load_document (ws, &id, &error);
      g_assert_no_error (error);
      g_signal_connect (store, "write-error", G_CALLBACK (write_error_cb), &we);

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
      lim = saved;
      lim.rlim_cur = 192 * 1024;
      if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < lim.rlim_cur)
        lim.rlim_cur = saved.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &lim), ==, 0);

      /* Edit, flushing now and then, until a commit fails. */
      for (i = 0; i < 5000 && we.n_errors == 0; i++)
        {
          g_autofree char *line = g_strdup_printf ("edit %u: %s\n", i,
                                                   pieces[i % G_N_ELEMENTS (pieces)]);
          g_autoptr(GError) flush_error = NULL;

          g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page), line, -1, &error));
          g_assert_no_error (error);
          if (i % 5 == 4 && !flow_store_flush (store, &flush_error))
            {
              g_assert_error (flush_error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO);
              /* "write-error" arrives on the main context. */
              wait_until (had_write_error, &we, 30);
            }
          while (g_main_context_iteration (NULL, FALSE))
            ;
        }
      if (we.n_errors == 0)
        {
          g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
          g_assert_true (g_file_set_contents (marker, "", 0, NULL));
          g_assert_true (flow_workspace_close (ws, &error));
          _exit (0);
        }
      {
        g_autofree char *message = g_strdup_printf ("after %u edits: %s", i, we.first->message);
        g_autofree char *file = g_build_filename (f->dir, "write-error", NULL);

        g_assert_true (g_file_set_contents (file, message, -1, NULL));
      }
      g_assert_true (we.first->domain == FLOW_STORE_ERROR);
      g_assert_cmpint (we.first->code, ==, FLOW_STORE_ERROR_IO);
      committed_before = flow_store_get_committed (store);
      g_assert_cmpuint (committed_before, <, flow_store_get_queued (store));

      /* More edits while the disk is "full": queued, not lost; and one
       * streak of failures is one "write-error". */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      n_errors = we.n_errors;
      for (guint k = 0; k < 20; k++)
        {
          g_assert_true (flow_doc_insert_text (page, 0, "while full\n", -1, &error));
          g_assert_no_error (error);
        }
      g_assert_false (flow_store_flush (store, &error));
      g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO);
      g_clear_error (&error);
      g_assert_false (flow_workspace_close (ws, &error));
      g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO);
      g_clear_error (&error);
      g_assert_cmpuint (flow_store_get_committed (store), ==, committed_before);
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_assert_cmpuint (we.n_errors, ==, n_errors);

      /* A load sees every change queued before it (flow-store.c's design
       * comment), committed or not. */
      {
        g_autoptr(FlowDoc) loaded = flow_store_load_doc (store, &id, FLOW_DOC_KIND_PAGE, &error);

        g_assert_no_error (error);
        assert_same_doc (page, loaded);
      }

      /* Space again: the writer retries by itself (every second), and
       * "committed" comes for everything. */
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
      g_signal_connect (store, "committed", G_CALLBACK (committed_cb), &committed);
      wait_committed (&committed, flow_store_get_queued (store));
      g_assert_cmpuint (committed.last, ==, flow_store_get_queued (store));
      g_assert_true (flow_store_flush (store, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (flow_store_get_committed (store), ==, flow_store_get_queued (store));

      expected = flow_doc_dup_text (page);
      g_assert_true (g_file_set_contents (expected_file, expected, -1, NULL));
      g_assert_true (flow_workspace_close (ws, &error));
      g_assert_no_error (error);
      g_clear_error (&we.first);
      _exit (0);
    }

  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);

    g_assert_no_error (error);
    flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Notes", NULL, &error);
    g_assert_no_error (error);
    g_assert_true (flow_workspace_close (ws, &error));
  }

  run_in_subprocess (f);
  g_test_trap_assert_passed ();

  if (g_file_test (marker, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("RLIMIT_FSIZE did not make a commit fail here");
      return;
    }
  {
    g_autofree char *file = g_build_filename (f->dir, "write-error", NULL);
    g_autofree char *message = NULL;

    g_assert_true (g_file_get_contents (file, &message, NULL, NULL));
    g_test_message ("the commit failed %s", message);
  }

  /* Reopened by a fresh process: every edit is there. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->path, &error);
    g_autofree char *expected = NULL;
    g_autofree char *text = NULL;
    FlowOpId id;
    FlowDoc *page;

    g_assert_no_error (error);
    g_assert_true (g_file_get_contents (expected_file, &expected, NULL, NULL));
    g_assert_true (flow_catalog_find (flow_workspace_get_catalog (ws), "Notes", &id, &error));
    page = flow_workspace_load_document (ws, &id, &error);
    g_assert_no_error (error);
    text = flow_doc_dup_text (page);
    g_assert_cmpstr (text, ==, expected);
    g_assert_true (g_str_has_prefix (text, "while full\n"));
    g_assert_true (flow_workspace_close (ws, &error));
  }
  {
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;

    g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
    g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                     SQLITE_OK);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
}

/* ------------------------------------------------------------------------
 * Asynchronous API
 * ------------------------------------------------------------------------ */

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
  GThread      *thread;
} AsyncWait;

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  AsyncWait *wait = data;

  g_assert_true (g_main_context_is_owner (g_main_context_default ()));
  wait->thread = g_thread_self ();
  wait->result = g_object_ref (result);
  wait->done = TRUE;
}

static void
async_wait_clear (AsyncWait *wait)
{
  g_clear_object (&wait->result);
  wait->done = FALSE;
  wait->thread = NULL;
}

static FlowStore *
open_async (const char *path,
            gboolean    create,
            GError    **error)
{
  AsyncWait wait = { 0, };
  FlowStore *store;

  flow_store_open_async (path, create, NULL, async_done_cb, &wait);
  /* Never synchronously. */
  g_assert_false (wait.done);
  wait_for (&wait.done, 30);
  g_assert_true (wait.thread == g_thread_self ());
  store = flow_store_open_finish (wait.result, error);
  async_wait_clear (&wait);
  return store;
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = NULL;
  g_autoptr(FlowDoc) page = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  g_autofree char *text = NULL;
  g_autofree char *junk = g_build_filename (f->dir, "junk", NULL);
  AsyncWait wait = { 0, };
  FlowReplicaId replica;
  FlowOpId id = { 77, 0 };

  /* Create. */
  store = open_async (f->path, TRUE, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  replica = flow_store_get_replica (store);
  page = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, replica);
  flow_store_track (store, page);
  g_assert_true (flow_doc_insert_text (page, 0, "async ✓", -1, &error));
  g_assert_no_error (error);

  /* Flush. */
  flow_store_flush_async (store, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  g_assert_true (flow_store_flush_finish (store, wait.result, &error));
  g_assert_no_error (error);
  async_wait_clear (&wait);
  g_assert_cmpuint (flow_store_get_committed (store), ==, flow_store_get_queued (store));

  /* Load sees what was flushed... */
  flow_store_load_doc_async (store, &id, FLOW_DOC_KIND_PAGE, NULL, async_done_cb, &wait);
  g_assert_false (wait.done);
  wait_for (&wait.done, 30);
  loaded = flow_store_load_doc_finish (store, wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  assert_same_doc (page, loaded);
  g_clear_object (&loaded);

  /* ...and everything queued before it, flushed or not. */
  g_assert_true (flow_doc_insert_text (page, 0, "more ", -1, &error));
  flow_store_load_doc_async (store, &id, FLOW_DOC_KIND_PAGE, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  loaded = flow_store_load_doc_finish (store, wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  assert_same_doc (page, loaded);
  g_clear_object (&loaded);

  flow_store_untrack (store, page);
  g_assert_true (flow_store_close (store, &error));
  g_clear_object (&store);

  /* Creating over an existing file fails. */
  g_assert_null (open_async (f->path, TRUE, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_EXISTS);
  g_clear_error (&error);

  /* Open. */
  store = open_async (f->path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flow_store_get_replica (store), ==, replica);
  flow_store_load_doc_async (store, &id, FLOW_DOC_KIND_PAGE, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  loaded = flow_store_load_doc_finish (store, wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  text = flow_doc_dup_text (loaded);
  g_assert_cmpstr (text, ==, "more async ✓");
  assert_same_doc (page, loaded);

  /* Loading as the wrong kind fails. */
  flow_store_load_doc_async (store, &id, FLOW_DOC_KIND_BOARD, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  g_assert_null (flow_store_load_doc_finish (store, wait.result, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_WRONG_KIND);
  g_clear_error (&error);
  async_wait_clear (&wait);

  g_assert_true (flow_store_close (store, &error));

  /* After closing. */
  flow_store_load_doc_async (store, &id, FLOW_DOC_KIND_PAGE, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  g_assert_null (flow_store_load_doc_finish (store, wait.result, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
  g_clear_error (&error);
  async_wait_clear (&wait);
  g_clear_object (&store);

  /* A cancelled open leaves the workspace as good as before. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autoptr(FlowDoc) again = NULL;

    flow_store_open_async (f->path, FALSE, cancellable, async_done_cb, &wait);
    g_cancellable_cancel (cancellable);
    wait_for (&wait.done, 30);
    g_assert_null (flow_store_open_finish (wait.result, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    async_wait_clear (&wait);

    store = open_async (f->path, FALSE, &error);
    g_assert_no_error (error);
    g_test_message ("replica after a cancelled open: %s",
                    flow_store_get_replica (store) == replica ? "kept" : "new");
    again = flow_store_load_doc (store, &id, FLOW_DOC_KIND_PAGE, &error);
    g_assert_no_error (error);
    assert_same_doc (page, again);
    g_assert_true (flow_store_close (store, &error));
    g_clear_object (&store);
  }

  /* Bad files fail the same way as with the blocking open. */
  g_assert_null (open_async (junk, FALSE, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  write_file (junk, (const guint8 *) "junk", 4);
  g_assert_null (open_async (junk, FALSE, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_WORKSPACE);
}

/* ------------------------------------------------------------------------
 * Regressions of bugs in the layers below, seen from the store
 * ------------------------------------------------------------------------ */

/*
 * Loading boards and the catalog with malloc perturbation on, in a
 * subprocess with a value of its own (meson test sets a random one): the
 * decoder once left `value` uninitialised for CREATE map ops and resetting
 * the batch unref'd it, so every workspace load could crash.
 */
static void
test_regression_perturbed_load (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->path, &error);
      g_autoptr(GArray) list = NULL;

      g_assert_no_error (error);
      list = flow_catalog_list (flow_workspace_get_catalog (ws), FALSE);
      g_assert_cmpuint (list->len, ==, 2);
      for (guint i = 0; i < list->len; i++)
        {
          FlowCatalogEntry *e = &g_array_index (list, FlowCatalogEntry, i);

          g_assert_nonnull (flow_workspace_load_document (ws, &e->id, &error));
          g_assert_no_error (error);
          flow_catalog_entry_clear (e);
        }
      g_assert_true (flow_workspace_close (ws, &error));
      return;
    }

  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);
    FlowDoc *board;
    FlowDoc *board2;

    g_assert_no_error (error);
    board = flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Snapshot", NULL, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < 5; i++)
      g_assert_true (flow_board_add_shape (board, "rect", i, i, 10, 10, NULL, &error));
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
    g_clear_object (&ws);

    /* A second board with rows after its (missing) snapshot: replayed. */
    ws = flow_workspace_open (f->path, &error);
    g_assert_no_error (error);
    flow_store_set_snapshot_interval (flow_workspace_get_store (ws), 1000);
    board2 = flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Replay", NULL, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < 5; i++)
      g_assert_true (flow_board_add_shape (board2, "ellipse", i, i, 10, 10, NULL, &error));
    g_assert_true (flow_store_flush (flow_workspace_get_store (ws), &error));
    g_assert_no_error (error);
    g_assert_true (flow_workspace_close (ws, &error));
  }

  {
    g_autofree char *saved = g_strdup (g_getenv ("MALLOC_PERTURB_"));

    g_setenv ("MALLOC_PERTURB_", "165", TRUE);
    run_in_subprocess (f);
    if (saved != NULL)
      g_setenv ("MALLOC_PERTURB_", saved, TRUE);
    else
      g_unsetenv ("MALLOC_PERTURB_");
  }
  g_test_trap_assert_passed ();
}

/*
 * A page on which someone typed "abc", then "x" at 1 and "y" at 3 was
 * saved (its snapshot written on close) but could not be opened again: the
 * decoder refused text-op runs of one byte, and the workspace said the page
 * was damaged.
 */
static void
test_regression_mid_text_snapshot (Fixture       *f,
                                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->path, &error);
  g_autoptr(FlowWorkspace) ws2 = NULL;
  g_autofree char *text = NULL;
  FlowDoc *page;
  FlowOpId id;

  g_assert_no_error (error);
  page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Notes", NULL, &error);
  g_assert_no_error (error);
  id = *flow_doc_get_id (page);
  g_assert_true (flow_doc_insert_text (page, 0, "abc", -1, &error));
  g_assert_true (flow_doc_insert_text (page, 1, "x", -1, &error));
  g_assert_true (flow_doc_insert_text (page, 3, "y", -1, &error));
  g_assert_no_error (error);
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);

  ws2 = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  page = flow_workspace_load_document (ws2, &id, &error);
  g_assert_no_error (error);
  text = flow_doc_dup_text (page);
  g_assert_cmpstr (text, ==, "axbyc");
  g_assert_true (flow_workspace_close (ws2, &error));
}

/* The workspace's async API: create (with its folder), add documents, load
 * them again without blocking, and refuse a missing file cleanly. */
static void
test_workspace_async (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  g_autofree char *path = g_build_filename (f->dir, "sub", "dir", "w.flowsync", NULL);
  g_autofree char *missing = g_build_filename (f->dir, "missing.flowsync", NULL);
  AsyncWait wait = { 0, };
  FlowDoc *page;
  FlowOpId id;

  flow_workspace_open_async (path, TRUE, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  ws = flow_workspace_open_finish (wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Notes", NULL, &error);
  g_assert_no_error (error);
  id = *flow_doc_get_id (page);
  g_assert_true (flow_doc_insert_text (page, 0, "hello", -1, &error));
  g_assert_true (flow_doc_get_id (page) != NULL);
  g_assert_true (flow_workspace_lookup_document (ws, &id) == page);
  g_assert_true (flow_workspace_close (ws, &error));
  g_assert_no_error (error);
  g_clear_object (&ws);

  flow_workspace_open_async (path, FALSE, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  ws = flow_workspace_open_finish (wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  g_assert_null (flow_workspace_lookup_document (ws, &id));
  flow_workspace_load_document_async (ws, &id, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  loaded = flow_workspace_load_document_finish (ws, wait.result, &error);
  g_assert_no_error (error);
  async_wait_clear (&wait);
  {
    g_autofree char *text = flow_doc_dup_text (loaded);

    g_assert_cmpstr (text, ==, "hello");
  }
  g_assert_true (flow_workspace_lookup_document (ws, &id) == loaded);

  /* An id the catalog lacks is an error, not a crash. */
  id.seq += 1000;
  flow_workspace_load_document_async (ws, &id, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  g_assert_null (flow_workspace_load_document_finish (ws, wait.result, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  async_wait_clear (&wait);
  g_assert_true (flow_workspace_close (ws, &error));
  g_clear_object (&ws);

  flow_workspace_open_async (missing, FALSE, NULL, async_done_cb, &wait);
  wait_for (&wait.done, 30);
  g_assert_null (flow_workspace_open_finish (wait.result, &error));
  g_assert_nonnull (error);
  async_wait_clear (&wait);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
}

static void
setting_read_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  char **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = flow_store_dup_setting_finish (FLOW_STORE (source), result, &error);
  g_assert_no_error (error);
  if (*out == NULL)
    *out = g_strdup ("(unset)");
}

static void
setting_written_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_store_set_setting_finish (FLOW_STORE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* Settings: saved, read back, removed, kept across sessions, never ops. */
static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowStore) store = flow_store_create (f->path, &error);
  g_autofree char *value = NULL;
  g_autofree char *async_value = NULL;
  g_autoptr(GArray) docs = NULL;
  gboolean written = FALSE;

  g_assert_no_error (error);
  value = flow_store_dup_setting (store, "room-key", &error);
  g_assert_no_error (error);
  g_assert_null (value);

  g_assert_true (flow_store_set_setting (store, "room-key", "abc", &error));
  g_assert_true (flow_store_set_setting (store, "room-key", "xyz ✓", &error));
  g_assert_no_error (error);
  value = flow_store_dup_setting (store, "room-key", &error);
  g_assert_cmpstr (value, ==, "xyz ✓");
  g_clear_pointer (&value, g_free);

  /* The async pair, from the main loop. */
  flow_store_set_setting_async (store, "other", "42", NULL, setting_written_cb, &written);
  while (!written)
    g_main_context_iteration (NULL, TRUE);
  flow_store_dup_setting_async (store, "other", NULL, setting_read_cb, &async_value);
  while (async_value == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (async_value, ==, "42");
  g_clear_pointer (&async_value, g_free);

  /* NULL removes. */
  g_assert_true (flow_store_set_setting (store, "other", NULL, &error));
  flow_store_dup_setting_async (store, "other", NULL, setting_read_cb, &async_value);
  while (async_value == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (async_value, ==, "(unset)");

  /* Not ops, and still there in the next session. */
  docs = flow_store_list_docs (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (docs->len, ==, 0);
  g_assert_true (flow_store_close (store, &error));
  g_clear_object (&store);
  store = flow_store_open (f->path, &error);
  g_assert_no_error (error);
  value = flow_store_dup_setting (store, "room-key", &error);
  g_assert_cmpstr (value, ==, "xyz ✓");
  g_assert_true (flow_store_close (store, &error));

  /* A closed store says so. */
  g_assert_null (flow_store_dup_setting (store, "room-key", &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("/flow/store/round-trip/snapshots", test_round_trip, GUINT_TO_POINTER (10));
  ADD ("/flow/store/settings", test_settings, NULL);
  ADD ("/flow/store/round-trip/replay", test_round_trip, GUINT_TO_POINTER (0));
  ADD ("/flow/store/round-trip/snapshot-every-op", test_round_trip_every_op, NULL);
  ADD ("/flow/store/catalog/persist", test_catalog_persist, NULL);
  ADD ("/flow/store/replica/clean-close", test_replica_clean, NULL);
  ADD ("/flow/store/replica/crash", test_replica_crash, NULL);
  ADD ("/flow/store/replica/concurrent", test_replica_concurrent, NULL);
  ADD ("/flow/store/replica/concurrent-edits", test_replica_concurrent_edits, NULL);
  ADD ("/flow/store/bad-file/nonexistent", test_bad_nonexistent, NULL);
  ADD ("/flow/store/bad-file/empty", test_bad_empty, NULL);
  ADD ("/flow/store/bad-file/random", test_bad_random, NULL);
  ADD ("/flow/store/bad-file/text", test_bad_text, NULL);
  ADD ("/flow/store/bad-file/foreign-sqlite", test_bad_foreign_sqlite, NULL);
  ADD ("/flow/store/bad-file/truncated", test_bad_truncated, NULL);
  ADD ("/flow/store/bad-file/corrupt-page", test_bad_corrupt_page, NULL);
  ADD ("/flow/store/bad-file/too-new", test_bad_too_new, NULL);
  ADD ("/flow/store/bad-file/permissions", test_bad_permissions, NULL);
  ADD ("/flow/store/bad-file/altered-op", test_bad_altered_op, NULL);
  ADD ("/flow/store/bad-file/altered-op-crc", test_bad_altered_op_crc, NULL);
  ADD ("/flow/store/bad-file/altered-snapshot", test_bad_altered_snapshot, NULL);
  ADD ("/flow/store/create/exists", test_create_exists, NULL);
  ADD ("/flow/store/create/fails", test_create_fails, NULL);
  ADD ("/flow/store/closed", test_closed, NULL);
  ADD ("/flow/store/track-untrack", test_track_untrack, NULL);
  ADD ("/flow/store/track-unsaved", test_track_unsaved, NULL);
  ADD ("/flow/store/write-error/fsize", test_write_error, NULL);
  ADD ("/flow/store/async", test_async, NULL);
  ADD ("/flow/store/workspace-async", test_workspace_async, NULL);
  ADD ("/flow/store/regression/perturbed-load", test_regression_perturbed_load, NULL);
  ADD ("/flow/store/regression/mid-text-snapshot", test_regression_mid_text_snapshot, NULL);

#undef ADD

  return g_test_run ();
}
