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

#include <string.h>

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

/* What a renderer assumes for a property nobody set; restoring a version
 * where a property was unset writes this back. Nullable properties (the
 * arrow bindings, groups) are written as NULL instead. */
static FlowValue *
default_value (const char *key)
{
  if (strcmp (key, "rotation") == 0)
    return flow_value_new_number (0);
  if (strcmp (key, "opacity") == 0)
    return flow_value_new_number (1);
  if (strcmp (key, "stroke_width") == 0)
    return flow_value_new_number (2);
  if (strcmp (key, "font_size") == 0)
    return flow_value_new_number (20);
  if (strcmp (key, "stroke") == 0)
    return flow_value_new_color (0x1e1e1eff);
  if (strcmp (key, "fill") == 0)
    return flow_value_new_color (0);
  if (strcmp (key, "text") == 0)
    return flow_value_new_string ("");
  if (strcmp (key, "locked") == 0 || strcmp (key, "deleted") == 0)
    return flow_value_new_bool (FALSE);
  if (strcmp (key, "start") == 0 || strcmp (key, "end") == 0 || strcmp (key, "group") == 0)
    return flow_value_new_null ();
  return NULL;
}

/**
 * flow_board_restore:
 * @board: a board
 * @version: a checkout of @board at an earlier version (flow_doc_checkout())
 * @error: return location for a #GError
 *
 * Makes @board look as it did at @version, as one new change: shapes made
 * since are deleted, deleted ones come back, and every property that
 * differs is written again. History is not rewritten, so the restore can
 * itself be undone, and peers merge it like any other edit.
 *
 * Returns: %TRUE on success; on failure nothing was changed
 */
gboolean
flow_board_restore (FlowDoc   *board,
                    FlowDoc   *version,
                    GError   **error)
{
  g_autoptr(GArray) now = NULL;
  g_autoptr(GArray) then = NULL;
  guint64 n_ops;
  gboolean ok = TRUE;

  g_return_val_if_fail (FLOW_IS_DOC (board), FALSE);
  g_return_val_if_fail (FLOW_IS_DOC (version), FALSE);
  g_return_val_if_fail (flow_doc_get_kind (board) == FLOW_DOC_KIND_BOARD, FALSE);
  g_return_val_if_fail (flow_doc_get_kind (version) == FLOW_DOC_KIND_BOARD, FALSE);

  if (flow_doc_is_read_only (board))
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY,
                           "This board is a read-only view of an earlier version");
      return FALSE;
    }

  n_ops = flow_doc_get_n_ops (board);
  now = flow_doc_list_entities (board, TRUE);
  then = flow_doc_list_entities (version, TRUE);
  flow_doc_begin_change (board);

  /* Shapes made after @version: delete them (unless they are already). */
  for (guint i = 0; i < now->len && ok; i++)
    {
      const FlowOpId *id = &g_array_index (now, FlowOpId, i);

      if (!flow_doc_has_entity (version, id) && !flow_doc_entity_is_deleted (board, id))
        ok = flow_board_delete (board, id, 1, error);
    }

  for (guint i = 0; i < then->len && ok; i++)
    {
      const FlowOpId *id = &g_array_index (then, FlowOpId, i);
      g_auto(GStrv) old_names = flow_doc_dup_property_names (version, id);
      g_auto(GStrv) new_names = flow_doc_dup_property_names (board, id);

      for (guint k = 0; old_names[k] != NULL && ok; k++)
        {
          FlowValue *was = flow_doc_get_property (version, id, old_names[k]);
          FlowValue *is = flow_doc_get_property (board, id, old_names[k]);

          if (is == NULL || !flow_value_equal (was, is))
            ok = flow_doc_set_property (board, id, old_names[k], was, error);
        }
      /* Properties first set after @version go back to their defaults. */
      for (guint k = 0; new_names[k] != NULL && ok; k++)
        {
          g_autoptr(FlowValue) def = NULL;
          FlowValue *is;

          if (g_strv_contains ((const char * const *) old_names, new_names[k]))
            continue;
          def = default_value (new_names[k]);
          is = flow_doc_get_property (board, id, new_names[k]);
          if (def != NULL && is != NULL && !flow_value_equal (def, is))
            ok = flow_doc_set_property (board, id, new_names[k], def, error);
        }
    }

  flow_doc_end_change (board);
  /* Each write is validated before it is made, so a failure can only come
   * first; but never leave half a restore behind. */
  if (!ok && flow_doc_get_n_ops (board) != n_ops)
    flow_doc_undo (board);
  return ok;
}
