/* test-store-durability.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * kill -9 loses nothing the store called committed, and never damages the
 * file (ARCHITECTURE.md, section 3).
 *
 * A child (flow-store-child) edits a page and a board as fast as it can and
 * prints the id of every edit the store reports as committed. We kill it
 * with SIGKILL after a random delay, then check the file with SQLite's own
 * integrity_check, open it as a workspace and look for every reported edit.
 * The edits that made it must also be a gap-free prefix of what the child
 * did, in order, and nothing from earlier rounds may be missing.
 *
 * FLOW_TEST_SEED reproduces the delays; FLOW_TEST_DURABILITY_ROUNDS sets
 * the number of rounds (default 20).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>

#include "flow-catalog.h"
#include "flow-store.h"
#include "flow-test-util.h"
#include "flow-workspace.h"

#define ID_STRIDE 1000000

static char *
child_path (void)
{
  const char *env = g_getenv ("FLOWSYNC_STORE_CHILD");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_test_build_filename (G_TEST_BUILT, "flow-store-child", NULL);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          g_remove (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

static FlowDoc *
find_doc (FlowWorkspace *ws,
          const char    *title)
{
  g_autoptr(GError) error = NULL;
  FlowOpId id;
  FlowDoc *doc;

  g_assert_true (flow_catalog_find (flow_workspace_get_catalog (ws), title, &id, &error));
  g_assert_no_error (error);
  doc = flow_workspace_load_document (ws, &id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (doc);
  return doc;
}

/* PRAGMA integrity_check, read-only, straight through SQLite. */
static void
assert_integrity (const char *path)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autoptr(GString) result = g_string_new (NULL);
  int rc;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_string_append_printf (result, "%s%s", result->len ? "; " : "",
                            (const char *) sqlite3_column_text (stmt, 0));
  g_assert_cmpint (rc, ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
  g_assert_cmpstr (result->str, ==, "ok");
}

/* The ids of the "op N" lines of a page (or the texts of a board). */
static GArray *
parse_ops (const char *text)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      guint64 id;

      if (lines[i][0] == '\0' && lines[i + 1] == NULL)
        break;
      g_assert_true (g_str_has_prefix (lines[i], "op "));
      g_assert_true (g_ascii_string_to_unsigned (lines[i] + 3, 10, 0, G_MAXUINT64, &id, NULL));
      g_array_append_val (ids, id);
    }
  return g_steal_pointer (&ids);
}

static GHashTable *
board_texts (FlowDoc *board)
{
  GHashTable *texts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GArray) shapes = flow_doc_list_entities (board, FALSE);

  for (guint i = 0; i < shapes->len; i++)
    {
      FlowValue *v = flow_doc_get_property (board, &g_array_index (shapes, FlowOpId, i), "text");

      g_assert_nonnull (v);
      g_assert_true (g_hash_table_add (texts, g_strdup (flow_value_get_string (v))));
    }
  return texts;
}

typedef struct
{
  FlowReplicaId replica;       /* 0 if the child died before it said */
  GArray       *committed;     /* ids, in the order reported */
  gboolean      finished;
} ChildReport;

static void
parse_report (GBytes      *out,
              ChildReport *report)
{
  gsize len;
  const char *data = g_bytes_get_data (out, &len);
  g_autofree char *text = len > 0 ? g_strndup (data, len) : g_strdup ("");
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);

  report->committed = g_array_new (FALSE, FALSE, sizeof (guint64));
  /* The last element is what follows the last newline: empty, or a line
   * cut short by the kill. */
  for (guint i = 0; i + 1 < n; i++)
    {
      guint64 id;

      if (g_str_has_prefix (lines[i], "replica "))
        report->replica = g_ascii_strtoull (lines[i] + 8, NULL, 16);
      else if (g_str_equal (lines[i], "done"))
        report->finished = TRUE;
      else
        {
          g_assert_true (g_ascii_string_to_unsigned (lines[i], 10, 0, G_MAXUINT64, &id, NULL));
          g_array_append_val (report->committed, id);
        }
    }
}

static void
test_kill (void)
{
  guint32 seed = flow_test_seed ();
  guint rounds = flow_test_iterations ("FLOW_TEST_DURABILITY_ROUNDS", 20);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("flow-durability-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *child = child_path ();
  g_autofree char *page_text = NULL;   /* the page after the last round */
  FlowReplicaId replica;
  guint64 total_reported = 0;
  guint64 total_present = 0;
  guint n_kills_with_output = 0;
  gint64 start = g_get_monotonic_time ();

  g_assert_no_error (error);
  g_assert_true (g_file_test (child, G_FILE_TEST_IS_EXECUTABLE));
  path = g_build_filename (dir, "durable.flowsync", NULL);

  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_create (path, &error);

    g_assert_no_error (error);
    flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Durable page", NULL, &error);
    g_assert_no_error (error);
    flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Durable board", NULL, &error);
    g_assert_no_error (error);
    replica = flow_store_get_replica (flow_workspace_get_store (ws));
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }
  page_text = g_strdup ("");

  for (guint round = 0; round < rounds; round++)
    {
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
      g_autoptr(GSubprocess) proc = NULL;
      g_autoptr(GBytes) out = NULL;
      g_autofree char *first_str = NULL;
      g_autoptr(GArray) page_ids = NULL;
      g_autoptr(GHashTable) texts = NULL;
      ChildReport report = { 0, };
      guint64 first = (guint64) (round + 1) * ID_STRIDE;
      guint delay_ms = (guint) g_rand_int_range (rand, 5, 400);
      guint64 n_present = 0;

      first_str = g_strdup_printf ("%" G_GUINT64_FORMAT, first);
      proc = g_subprocess_launcher_spawn (launcher, &error, child, path, first_str, NULL);
      g_assert_no_error (error);
      g_usleep (delay_ms * 1000);
      g_subprocess_send_signal (proc, SIGKILL);
      g_assert_true (g_subprocess_communicate (proc, NULL, NULL, &out, NULL, &error));
      g_assert_no_error (error);
      parse_report (out, &report);

      if (g_subprocess_get_if_signaled (proc))
        g_assert_cmpint (g_subprocess_get_term_sig (proc), ==, SIGKILL);
      else
        {
          /* It may only have finished all its edits. */
          g_assert_true (report.finished);
          g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
        }

      /* A session that was open: it kept the replica of the last clean
       * close. */
      if (report.replica != 0)
        g_assert_cmpuint (report.replica, ==, replica);

      /* The file, as SQLite sees it. */
      assert_integrity (path);

      /* The file, as a workspace. */
      {
        g_autoptr(FlowWorkspace) ws = flow_workspace_open (path, &error);
        FlowDoc *page;
        FlowDoc *board;
        g_autofree char *text = NULL;
        FlowReplicaId now;

        g_assert_no_error (error);
        g_assert_nonnull (ws);
        now = flow_store_get_replica (flow_workspace_get_store (ws));
        if (report.replica != 0 && !report.finished)
          g_assert_cmpuint (now, !=, report.replica);
        replica = now;

        page = find_doc (ws, "Durable page");
        board = find_doc (ws, "Durable board");
        text = flow_doc_dup_text (page);

        /* Nothing from earlier rounds is gone... */
        g_assert_true (g_str_has_prefix (text, page_text));
        /* ...and this round's edits that made it are first, first + 1, ...
         * in order, without a gap. */
        page_ids = parse_ops (text + strlen (page_text));
        for (guint i = 0; i < page_ids->len; i++)
          g_assert_cmpuint (g_array_index (page_ids, guint64, i), ==, first + i);
        n_present = page_ids->len;

        /* Every edit reported as committed is there: its line... */
        for (guint i = 0; i < report.committed->len; i++)
          {
            guint64 id = g_array_index (report.committed, guint64, i);

            g_assert_cmpuint (id, ==, first + i);
            g_assert_cmpuint (id, <, first + n_present);
          }

        /* ...and its shape; and a shape only with its line (the page's
         * change was queued first). */
        texts = board_texts (board);
        for (guint i = 0; i < report.committed->len; i++)
          {
            guint64 id = g_array_index (report.committed, guint64, i);
            g_autofree char *t = g_strdup_printf ("op %" G_GUINT64_FORMAT, id);

            if (id % 3 == 0)
              g_assert_true (g_hash_table_contains (texts, t));
          }
        {
          GHashTableIter iter;
          gpointer key;

          g_hash_table_iter_init (&iter, texts);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            {
              guint64 id = g_ascii_strtoull ((const char *) key + 3, NULL, 10);

              if (id >= first)
                {
                  g_assert_cmpuint (id, <, first + n_present);
                  g_assert_cmpuint (id % 3, ==, 0);
                }
            }
        }

        g_free (page_text);
        page_text = g_steal_pointer (&text);
        g_assert_true (flow_workspace_close (ws, &error));
        g_assert_no_error (error);
      }

      g_test_message ("round %u: killed after %u ms, %u edits reported committed, "
                      "%" G_GUINT64_FORMAT " present",
                      round, delay_ms, report.committed->len, n_present);
      total_reported += report.committed->len;
      total_present += n_present;
      n_kills_with_output += report.committed->len > 0;
      g_array_unref (report.committed);
    }

  g_test_message ("%u rounds in %.1f s: %" G_GUINT64_FORMAT " edits reported committed, %"
                  G_GUINT64_FORMAT " present; %u kills after the first commit",
                  rounds, (g_get_monotonic_time () - start) / 1e6, total_reported, total_present,
                  n_kills_with_output);
  /* In the end: one page with every round's edits, whose history rows add
   * up to its ops. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (path, &error);
    g_autoptr(GArray) rows = NULL;
    g_autofree char *text = NULL;
    FlowDoc *page;
    guint64 total = 0;

    g_assert_no_error (error);
    page = find_doc (ws, "Durable page");
    text = flow_doc_dup_text (page);
    g_assert_cmpstr (text, ==, page_text);
    rows = flow_store_dup_history (flow_workspace_get_store (ws), flow_doc_get_id (page), &error);
    g_assert_no_error (error);
    for (guint i = 0; i < rows->len; i++)
      total += g_array_index (rows, FlowStoreRow, i).n_ops;
    g_assert_cmpuint (total, ==, flow_doc_get_n_ops (page));
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }
  assert_integrity (path);

  /* The delays are long enough for most rounds to commit something. */
  if (rounds >= 10)
    g_assert_cmpuint (n_kills_with_output, >=, rounds / 2);

  remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/store/durability/kill", test_kill);

  return g_test_run ();
}
