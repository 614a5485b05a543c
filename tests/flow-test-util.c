/* flow-test-util.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow-board.h"
#include "flow-test-util.h"

/* The path of a file in tests/data. */
char *
flow_test_data_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", name, NULL);
}

/*
 * The seed for randomised tests: FLOW_TEST_SEED if set, else a fresh one.
 * It is printed so a failure can be reproduced with FLOW_TEST_SEED=...
 */
guint32
flow_test_seed (void)
{
  const char *env = g_getenv ("FLOW_TEST_SEED");
  guint32 seed = env ? (guint32) g_ascii_strtoull (env, NULL, 10) : g_random_int ();

  g_test_message ("seed %u (rerun with FLOW_TEST_SEED=%u)", seed, seed);
  return seed;
}

/* A scenario count: $@env if set (to run more, e.g. overnight), else @fallback. */
guint
flow_test_iterations (const char *env,
                      guint       fallback)
{
  const char *value = g_getenv (env);

  return value ? (guint) g_ascii_strtoull (value, NULL, 10) : fallback;
}

/* Sends each document what the other lacks, by version vector. */
void
flow_test_sync_pair (FlowDoc *a,
                     FlowDoc *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);
  g_autoptr(GBytes) to_b = flow_doc_encode_since (a, vb);
  g_autoptr(GBytes) to_a = flow_doc_encode_since (b, va);
  g_autoptr(GError) error = NULL;

  if (to_b != NULL)
    {
      flow_doc_apply (b, to_b, &error);
      g_assert_no_error (error);
    }
  if (to_a != NULL)
    {
      flow_doc_apply (a, to_a, &error);
      g_assert_no_error (error);
    }
}

/* Asserts two replicas hold the same state and the same history. */
void
flow_test_assert_same (FlowDoc *a,
                       FlowDoc *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);

  g_assert_true (flow_version_vector_equal (va, vb));
  if (flow_doc_get_kind (a) == FLOW_DOC_KIND_PAGE)
    {
      g_autofree char *ta = flow_doc_dup_text (a);
      g_autofree char *tb = flow_doc_dup_text (b);

      g_assert_cmpstr (ta, ==, tb);
    }
}

/* A test clock: reads the gint64 microseconds @user_data points to. */
gint64
flow_test_clock (gpointer user_data)
{
  return *(gint64 *) user_data;
}

/* Sets @key of @id, taking @value (transfer full); the write must succeed. */
void
flow_test_set (FlowDoc        *doc,
               const FlowOpId *id,
               const char     *key,
               FlowValue      *value)
{
  g_autoptr(FlowValue) v = value;
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_set_property (doc, id, key, v, &error));
  g_assert_no_error (error);
}

/* Adds a shape to @board; it must succeed. */
FlowOpId
flow_test_add_shape (FlowDoc    *board,
                     const char *kind,
                     double      x,
                     double      y,
                     double      w,
                     double      h)
{
  g_autoptr(GError) error = NULL;
  FlowOpId id;

  g_assert_true (flow_board_add_shape (board, kind, x, y, w, h, &id, &error));
  g_assert_no_error (error);
  return id;
}

/* Removes @path and everything under it (not following symlinks). */
void
flow_test_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
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
        flow_test_remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}
