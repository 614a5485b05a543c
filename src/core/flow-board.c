/* flow-board.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Board edits in terms of shapes: each is one change made of property
 * writes (see flow-map.c for the merge rules), so it is one undo step and
 * one message to peers.
 */

#include "config.h"

#include "flow-board.h"
#include "flow-error.h"

static gboolean
set_number (FlowDoc         *board,
            const FlowOpId  *id,
            const char      *key,
            double           value,
            GError         **error)
{
  g_autoptr(FlowValue) v = flow_value_new_number (value);

  return flow_doc_set_property (board, id, key, v, error);
}

static gboolean
set_z (FlowDoc         *board,
       const FlowOpId  *id,
       const FlowOpId  *below,
       const FlowOpId  *above,
       GError         **error)
{
  g_autofree char *key = flow_doc_dup_order_key_between (board, below, above);
  g_autoptr(FlowValue) v = NULL;

  if (key == NULL)
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                           "There is no room left in the stacking order there");
      return FALSE;
    }
  v = flow_value_new_string (key);
  return flow_doc_set_property (board, id, "z", v, error);
}

static const FlowOpId *
top_shape (GArray *ordered)
{
  return ordered->len ? &g_array_index (ordered, FlowOpId, ordered->len - 1) : NULL;
}

/**
 * flow_board_add_shape:
 * @board: a board
 * @kind: "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text",
 *   "sticky" or "image"
 * @x: left edge
 * @y: top edge
 * @width: width, >= 0
 * @height: height, >= 0
 * @id: (out) (optional): the new shape's id
 * @error: return location for a #GError
 *
 * Adds a shape on top of the others, as one change.
 *
 * Returns: %TRUE on success
 */
gboolean
flow_board_add_shape (FlowDoc      *board,
                      const char   *kind,
                      double        x,
                      double        y,
                      double        width,
                      double        height,
                      FlowOpId     *id,
                      GError      **error)
{
  g_autoptr(GArray) ordered = NULL;
  FlowOpId new_id;
  gboolean ok;

  g_return_val_if_fail (FLOW_IS_DOC (board), FALSE);

  ordered = flow_doc_list_ordered (board);
  flow_doc_begin_change (board);
  ok = flow_doc_create_entity (board, kind, &new_id, error) &&
       set_number (board, &new_id, "x", x, error) &&
       set_number (board, &new_id, "y", y, error) &&
       set_number (board, &new_id, "w", width, error) &&
       set_number (board, &new_id, "h", height, error) &&
       set_z (board, &new_id, top_shape (ordered), NULL, error);
  flow_doc_end_change (board);

  if (ok && id != NULL)
    *id = new_id;
  return ok;
}

static double
number_or_zero (FlowDoc        *board,
                const FlowOpId *id,
                const char     *key)
{
  FlowValue *v = flow_doc_get_property (board, id, key);

  return v && flow_value_get_value_type (v) == FLOW_VALUE_NUMBER ? flow_value_get_number (v) : 0;
}

/* Moves shapes by (dx, dy), as one change. */
gboolean
flow_board_move (FlowDoc         *board,
                 const FlowOpId  *ids,
                 guint            n_ids,
                 double           dx,
                 double           dy,
                 GError         **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (FLOW_IS_DOC (board), FALSE);

  flow_doc_begin_change (board);
  for (guint i = 0; i < n_ids && ok; i++)
    ok = set_number (board, &ids[i], "x", number_or_zero (board, &ids[i], "x") + dx, error) &&
         set_number (board, &ids[i], "y", number_or_zero (board, &ids[i], "y") + dy, error);
  flow_doc_end_change (board);
  return ok;
}

/* Deletes shapes (LWW deleted = true), as one change. */
gboolean
flow_board_delete (FlowDoc         *board,
                   const FlowOpId  *ids,
                   guint            n_ids,
                   GError         **error)
{
  g_autoptr(FlowValue) yes = flow_value_new_bool (TRUE);
  gboolean ok = TRUE;

  g_return_val_if_fail (FLOW_IS_DOC (board), FALSE);

  flow_doc_begin_change (board);
  for (guint i = 0; i < n_ids && ok; i++)
    ok = flow_doc_set_property (board, &ids[i], "deleted", yes, error);
  flow_doc_end_change (board);
  return ok;
}

gboolean
flow_board_raise_to_top (FlowDoc         *board,
                         const FlowOpId  *id,
                         GError         **error)
{
  g_autoptr(GArray) ordered = NULL;

  g_return_val_if_fail (FLOW_IS_DOC (board), FALSE);

  ordered = flow_doc_list_ordered (board);
  if (ordered->len > 0 && flow_op_id_equal (top_shape (ordered), id))
    return TRUE;
  return set_z (board, id, top_shape (ordered), NULL, error);
}

gboolean
flow_board_lower_to_bottom (FlowDoc         *board,
                            const FlowOpId  *id,
                            GError         **error)
{
  g_autoptr(GArray) ordered = NULL;

  g_return_val_if_fail (FLOW_IS_DOC (board), FALSE);

  ordered = flow_doc_list_ordered (board);
  if (ordered->len > 0 && flow_op_id_equal (&g_array_index (ordered, FlowOpId, 0), id))
    return TRUE;
  return set_z (board, id, NULL, ordered->len ? &g_array_index (ordered, FlowOpId, 0) : NULL, error);
}
