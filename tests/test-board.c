/* test-board.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Board-level edits: restoring an earlier version as new edits. */

#include "config.h"

#include "flow-board.h"
#include "flow-error.h"
#include "flow-test-util.h"

static const FlowOpId board_id = { 9, 1 };

/* Every live shape of @a has the same properties in @b, and the same
 * shapes are live. */
static void
assert_same_shapes (FlowDoc *a,
                    FlowDoc *b)
{
  g_autoptr(GArray) la = flow_doc_list_ordered (a);
  g_autoptr(GArray) lb = flow_doc_list_ordered (b);

  g_assert_cmpuint (la->len, ==, lb->len);
  for (guint i = 0; i < la->len; i++)
    {
      const FlowOpId *id = &g_array_index (la, FlowOpId, i);
      g_auto(GStrv) names = flow_doc_dup_property_names (a, id);

      g_assert_true (flow_op_id_equal (id, &g_array_index (lb, FlowOpId, i)));
      for (guint k = 0; names[k] != NULL; k++)
        {
          FlowValue *va = flow_doc_get_property (a, id, names[k]);
          FlowValue *vb = flow_doc_get_property (b, id, names[k]);

          g_assert_nonnull (vb);
          g_assert_true (flow_value_equal (va, vb));
        }
    }
}

static void
test_restore (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) board = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, 1);
  g_autoptr(FlowDoc) peer = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, 2);
  g_autoptr(FlowDoc) then = NULL;
  g_autoptr(FlowVersionVector) v = NULL;
  g_autoptr(FlowValue) red = flow_value_new_color (0xff0000ff);
  g_autoptr(FlowValue) half = flow_value_new_number (0.5);
  FlowOpId a, b, c;
  guint64 n_ops;
  gint64 now = 0;

  /* Undo groups edits closer than 500 ms; a clock keeps them apart. */
  flow_doc_set_clock (board, flow_test_clock, &now, NULL);
  g_assert_true (flow_board_add_shape (board, "rect", 0, 0, 10, 10, &a, &error));
  g_assert_true (flow_board_add_shape (board, "ellipse", 20, 0, 10, 10, &b, &error));
  g_assert_no_error (error);
  v = flow_doc_dup_version (board);
  then = flow_doc_checkout (board, v, &error);
  g_assert_no_error (error);

  /* After the version: a moves, gets a fill, b is deleted, c is new, and
   * a peer changes a's opacity. */
  g_assert_true (flow_board_move (board, &a, 1, 5, 5, &error));
  g_assert_true (flow_doc_set_property (board, &a, "fill", red, &error));
  g_assert_true (flow_board_delete (board, &b, 1, &error));
  g_assert_true (flow_board_add_shape (board, "diamond", 0, 40, 10, 10, &c, &error));
  flow_test_sync_pair (board, peer);
  g_assert_true (flow_doc_set_property (peer, &a, "opacity", half, &error));
  flow_test_sync_pair (board, peer);
  g_assert_no_error (error);

  n_ops = flow_doc_get_n_ops (board);
  now += G_USEC_PER_SEC;
  g_assert_true (flow_board_restore (board, then, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (flow_doc_get_n_ops (board), >, n_ops);
  g_assert_false (flow_doc_entity_is_deleted (board, &b));
  g_assert_true (flow_doc_entity_is_deleted (board, &c));
  assert_same_shapes (then, board);
  {
    FlowValue *fill = flow_doc_get_property (board, &a, "fill");
    FlowValue *opacity = flow_doc_get_property (board, &a, "opacity");

    g_assert_cmphex (flow_value_get_color (fill), ==, 0);
    g_assert_cmpfloat (flow_value_get_number (opacity), ==, 1);
  }

  /* The restore is an ordinary edit: peers merge it and it undoes in one
   * step, which brings back what was there before. */
  flow_test_sync_pair (board, peer);
  flow_test_assert_same (board, peer);
  g_assert_true (flow_doc_undo (board));
  g_assert_true (flow_doc_entity_is_deleted (board, &b));
  g_assert_false (flow_doc_entity_is_deleted (board, &c));

  /* A read-only checkout cannot be restored into. */
  g_assert_false (flow_board_restore (then, board, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
}

/* Restoring the current version changes nothing and adds no ops. */
static void
test_restore_noop (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) board = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, 1);
  g_autoptr(FlowDoc) now = NULL;
  g_autoptr(FlowVersionVector) v = NULL;
  FlowOpId a;
  guint64 n_ops;

  g_assert_true (flow_board_add_shape (board, "rect", 0, 0, 10, 10, &a, &error));
  v = flow_doc_dup_version (board);
  now = flow_doc_checkout (board, v, &error);
  g_assert_no_error (error);
  n_ops = flow_doc_get_n_ops (board);
  g_assert_true (flow_board_restore (board, now, &error));
  g_assert_cmpuint (flow_doc_get_n_ops (board), ==, n_ops);
}

static void
burst_cb (FlowDoc  *doc,
          gboolean  starting,
          gpointer  user_data)
{
  g_string_append (user_data, starting ? "[" : "]");
}

/* Burst funcs see the outermost begin and end only. */
static void
test_burst (void)
{
  g_autoptr(FlowDoc) board = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, 1);
  g_autoptr(GString) log = g_string_new (NULL);
  guint id = flow_doc_add_burst_func (board, burst_cb, log, NULL);

  g_assert_false (flow_doc_in_burst (board));
  flow_doc_begin_burst (board);
  flow_doc_begin_burst (board);
  g_assert_true (flow_doc_in_burst (board));
  flow_doc_end_burst (board);
  g_assert_cmpstr (log->str, ==, "[");
  flow_doc_end_burst (board);
  g_assert_cmpstr (log->str, ==, "[]");
  flow_doc_remove_burst_func (board, id);
  flow_doc_begin_burst (board);
  flow_doc_end_burst (board);
  g_assert_cmpstr (log->str, ==, "[]");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/board/restore", test_restore);
  g_test_add_func ("/flow/board/restore-noop", test_restore_noop);
  g_test_add_func ("/flow/board/burst", test_burst);

  return g_test_run ();
}
