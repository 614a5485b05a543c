/* flow-canvas-commands.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Commands on the selection: delete, duplicate, group, align, distribute,
 * stacking order, nudge, lock, text and style. Each is one change of the
 * document (one undo step, one message) or none at all.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-board.h"
#include "flow-canvas-private.h"

/* The selected shapes that commands may move (locked ones stay). */
static GArray *
movable_ids (FlowCanvas *self)
{
  g_autoptr(GArray) shapes = _flow_canvas_selected_shapes (self);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));

  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowShape *s = g_array_index (shapes, const FlowShape *, i);

      if (!s->locked)
        g_array_append_val (ids, s->id);
    }
  return ids;
}

static gboolean
move_ids (FlowCanvas     *self,
          const FlowOpId *ids,
          guint           n_ids,
          double          dx,
          double          dy)
{
  g_autoptr(GError) error = NULL;

  if (n_ids == 0 || (dx == 0 && dy == 0))
    return FALSE;
  if (!flow_board_move (self->doc, ids, n_ids, dx, dy, &error))
    {
      g_warning ("Could not move shapes: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
flow_canvas_delete_selection (FlowCanvas *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self) || self->selection->len == 0)
    return FALSE;
  flow_canvas_cancel (self);
  /* Locked shapes stay, as they do for the eraser: unlock to delete. */
  ids = movable_ids (self);
  if (ids->len == 0)
    return FALSE;
  if (!flow_board_delete (self->doc, (const FlowOpId *) ids->data, ids->len, &error))
    {
      g_warning ("Could not delete shapes: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* Copies of the selection, 10 units right and down, selected. */
gboolean
flow_canvas_duplicate (FlowCanvas *self)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self) || self->selection->len == 0)
    return FALSE;
  flow_canvas_cancel (self);
  node = _flow_canvas_serialize (self, (const FlowOpId *) self->selection->data, self->selection->len);
  if (node == NULL)
    return FALSE;
  if (!_flow_canvas_paste_node (self, node, FALSE, 10, 10, &error))
    {
      g_warning ("Could not duplicate shapes: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* Gives the selected shapes (two or more) a fresh shared group id. */
gboolean
flow_canvas_group (FlowCanvas *self)
{
  g_autoptr(FlowValue) v = NULL;
  g_autofree char *group = NULL;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self) || self->selection->len < 2)
    return FALSE;
  group = _flow_canvas_new_group_id (self);
  v = flow_value_new_string (group);
  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < self->selection->len; i++)
    flow_doc_set_property (self->doc, &g_array_index (self->selection, FlowOpId, i), "group", v, NULL);
  flow_doc_end_change (self->doc);
  return TRUE;
}

gboolean
flow_canvas_ungroup (FlowCanvas *self)
{
  g_autoptr(FlowValue) null_value = flow_value_new_null ();
  gboolean any = FALSE;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self))
    return FALSE;
  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowOpId *id = &g_array_index (self->selection, FlowOpId, i);
      const FlowShape *s = flow_scene_lookup (self->scene, id);

      if (s != NULL && s->group != NULL)
        {
          flow_doc_set_property (self->doc, id, "group", null_value, NULL);
          any = TRUE;
        }
    }
  flow_doc_end_change (self->doc);
  return any;
}

/* Alignment and distribution work on units: a group moves as one. */
typedef struct
{
  FlowRect  box;
  GArray   *ids;   /* FlowOpId */
} Unit;

static void
unit_clear (gpointer data)
{
  Unit *u = data;

  g_clear_pointer (&u->ids, g_array_unref);
}

static GArray *
selection_units (FlowCanvas *self)
{
  g_autoptr(GArray) shapes = _flow_canvas_selected_shapes (self);
  g_autoptr(GHashTable) by_group = g_hash_table_new (g_str_hash, g_str_equal);
  GArray *units = g_array_new (FALSE, TRUE, sizeof (Unit));

  g_array_set_clear_func (units, unit_clear);
  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowShape *s = g_array_index (shapes, const FlowShape *, i);
      gpointer index = NULL;
      Unit *u;
      FlowRect box;

      if (s->locked)
        continue;
      _flow_canvas_shape_box (s, &box);
      if (s->group != NULL && g_hash_table_lookup_extended (by_group, s->group, NULL, &index))
        {
          FlowRect *b;
          double x2, y2;

          u = &g_array_index (units, Unit, GPOINTER_TO_UINT (index));
          b = &u->box;
          x2 = MAX (b->x + b->width, box.x + box.width);
          y2 = MAX (b->y + b->height, box.y + box.height);
          b->x = MIN (b->x, box.x);
          b->y = MIN (b->y, box.y);
          b->width = x2 - b->x;
          b->height = y2 - b->y;
          g_array_append_val (u->ids, s->id);
          continue;
        }
      g_array_set_size (units, units->len + 1);
      u = &g_array_index (units, Unit, units->len - 1);
      u->box = box;
      u->ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
      g_array_append_val (u->ids, s->id);
      if (s->group != NULL)
        g_hash_table_insert (by_group, s->group, GUINT_TO_POINTER (units->len - 1));
    }
  return units;
}

static void
move_unit (FlowCanvas *self,
           const Unit *u,
           double      dx,
           double      dy,
           gboolean   *any)
{
  if (fabs (dx) < 1e-9 && fabs (dy) < 1e-9)
    return;
  if (move_ids (self, (const FlowOpId *) u->ids->data, u->ids->len, dx, dy))
    *any = TRUE;
}

/* Aligns the selected units (two or more) to the edge or centre of their
 * common box. */
gboolean
flow_canvas_align (FlowCanvas      *self,
                   FlowCanvasAlign  align)
{
  g_autoptr(GArray) units = NULL;
  double x1 = G_MAXDOUBLE, y1 = G_MAXDOUBLE, x2 = -G_MAXDOUBLE, y2 = -G_MAXDOUBLE;
  gboolean any = FALSE;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self))
    return FALSE;
  units = selection_units (self);
  if (units->len < 2)
    return FALSE;
  for (guint i = 0; i < units->len; i++)
    {
      const FlowRect *b = &g_array_index (units, Unit, i).box;

      x1 = MIN (x1, b->x);
      y1 = MIN (y1, b->y);
      x2 = MAX (x2, b->x + b->width);
      y2 = MAX (y2, b->y + b->height);
    }

  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < units->len; i++)
    {
      const Unit *u = &g_array_index (units, Unit, i);
      const FlowRect *b = &u->box;
      double dx = 0, dy = 0;

      switch (align)
        {
        case FLOW_CANVAS_ALIGN_LEFT:    dx = x1 - b->x; break;
        case FLOW_CANVAS_ALIGN_HCENTER: dx = (x1 + x2) / 2 - (b->x + b->width / 2); break;
        case FLOW_CANVAS_ALIGN_RIGHT:   dx = x2 - (b->x + b->width); break;
        case FLOW_CANVAS_ALIGN_TOP:     dy = y1 - b->y; break;
        case FLOW_CANVAS_ALIGN_VCENTER: dy = (y1 + y2) / 2 - (b->y + b->height / 2); break;
        case FLOW_CANVAS_ALIGN_BOTTOM:  dy = y2 - (b->y + b->height); break;
        default: break;
        }
      move_unit (self, u, dx, dy, &any);
    }
  flow_doc_end_change (self->doc);
  return any;
}

static gint
unit_x_cmp (gconstpointer a,
            gconstpointer b)
{
  const Unit *x = a, *y = b;
  double cx = x->box.x + x->box.width / 2, cy = y->box.x + y->box.width / 2;

  return cx < cy ? -1 : cx > cy;
}

static gint
unit_y_cmp (gconstpointer a,
            gconstpointer b)
{
  const Unit *x = a, *y = b;
  double cx = x->box.y + x->box.height / 2, cy = y->box.y + y->box.height / 2;

  return cx < cy ? -1 : cx > cy;
}

/* Spaces three or more units evenly: the outermost stay, the gaps between
 * neighbours become equal. */
gboolean
flow_canvas_distribute (FlowCanvas           *self,
                        FlowCanvasDistribute  direction)
{
  g_autoptr(GArray) units = NULL;
  gboolean horizontal = direction == FLOW_CANVAS_DISTRIBUTE_HORIZONTAL;
  double start, end, total = 0, gap, pos;
  gboolean any = FALSE;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self))
    return FALSE;
  units = selection_units (self);
  if (units->len < 3)
    return FALSE;
  g_array_sort (units, horizontal ? unit_x_cmp : unit_y_cmp);

#define LO(u) (horizontal ? (u)->box.x : (u)->box.y)
#define SIZE(u) (horizontal ? (u)->box.width : (u)->box.height)
  start = LO (&g_array_index (units, Unit, 0));
  end = start;
  for (guint i = 0; i < units->len; i++)
    {
      const Unit *u = &g_array_index (units, Unit, i);

      total += SIZE (u);
      end = MAX (end, LO (u) + SIZE (u));
    }
  {
    const Unit *last = &g_array_index (units, Unit, units->len - 1);

    end = LO (last) + SIZE (last);
  }
  gap = (end - start - total) / (units->len - 1);

  flow_doc_begin_change (self->doc);
  pos = start;
  for (guint i = 0; i < units->len; i++)
    {
      const Unit *u = &g_array_index (units, Unit, i);
      double d = pos - LO (u);

      if (i > 0 && i < units->len - 1)
        move_unit (self, u, horizontal ? d : 0, horizontal ? 0 : d, &any);
      pos += SIZE (u) + gap;
    }
  flow_doc_end_change (self->doc);
#undef LO
#undef SIZE
  return any;
}

static gboolean
set_z_between (FlowCanvas     *self,
               const FlowOpId *id,
               const FlowOpId *below,
               const FlowOpId *above)
{
  g_autofree char *key = flow_doc_dup_order_key_between (self->doc, below, above);
  g_autoptr(FlowValue) v = NULL;
  g_autoptr(GError) error = NULL;

  if (key == NULL)
    return FALSE;
  v = flow_value_new_string (key);
  if (!flow_doc_set_property (self->doc, id, "z", v, &error))
    {
      g_warning ("Could not restack a shape: %s", error->message);
      return FALSE;
    }
  return TRUE;
}

static guint
index_of (GArray         *ordered,
          const FlowOpId *id)
{
  for (guint i = 0; i < ordered->len; i++)
    if (flow_op_id_equal (&g_array_index (ordered, FlowOpId, i), id))
      return i;
  return G_MAXUINT;
}

/* One step up: past the next unselected shape above. */
static gboolean
raise_one (FlowCanvas     *self,
           const FlowOpId *id)
{
  g_autoptr(GArray) ordered = flow_doc_list_ordered (self->doc);
  guint i = index_of (ordered, id);
  guint j;

  if (i == G_MAXUINT)
    return FALSE;
  for (j = i + 1; j < ordered->len; j++)
    if (!flow_canvas_is_selected (self, &g_array_index (ordered, FlowOpId, j)))
      break;
  if (j >= ordered->len)
    return FALSE;
  return set_z_between (self, id, &g_array_index (ordered, FlowOpId, j),
                        j + 1 < ordered->len ? &g_array_index (ordered, FlowOpId, j + 1) : NULL);
}

static gboolean
lower_one (FlowCanvas     *self,
           const FlowOpId *id)
{
  g_autoptr(GArray) ordered = flow_doc_list_ordered (self->doc);
  guint i = index_of (ordered, id);
  guint j;

  if (i == G_MAXUINT || i == 0)
    return FALSE;
  for (j = i; j-- > 0;)
    if (!flow_canvas_is_selected (self, &g_array_index (ordered, FlowOpId, j)))
      break;
  if (j == G_MAXUINT)
    return FALSE;
  return set_z_between (self, id, j > 0 ? &g_array_index (ordered, FlowOpId, j - 1) : NULL,
                        &g_array_index (ordered, FlowOpId, j));
}

/* Changes the stacking order of the selection, keeping the selected
 * shapes' order among themselves. */
gboolean
flow_canvas_restack (FlowCanvas      *self,
                     FlowCanvasStack  how)
{
  g_autoptr(GArray) shapes = NULL;
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GError) error = NULL;
  gboolean any = FALSE;
  guint n;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self) || self->selection->len == 0)
    return FALSE;
  shapes = _flow_canvas_selected_shapes (self);   /* bottom to top */
  n = shapes->len;
  ids = g_array_sized_new (FALSE, FALSE, sizeof (FlowOpId), n);
  for (guint i = 0; i < n; i++)
    g_array_append_val (ids, g_array_index (shapes, const FlowShape *, i)->id);

  flow_doc_begin_change (self->doc);
  switch (how)
    {
    case FLOW_CANVAS_RAISE:
      for (guint i = n; i-- > 0;)
        any |= raise_one (self, &g_array_index (ids, FlowOpId, i));
      break;
    case FLOW_CANVAS_LOWER:
      for (guint i = 0; i < n; i++)
        any |= lower_one (self, &g_array_index (ids, FlowOpId, i));
      break;
    case FLOW_CANVAS_RAISE_TO_TOP:
      for (guint i = 0; i < n; i++)
        {
          guint64 before = flow_doc_get_next_seq (self->doc);

          if (!flow_board_raise_to_top (self->doc, &g_array_index (ids, FlowOpId, i), &error))
            break;
          any |= flow_doc_get_next_seq (self->doc) != before;
        }
      break;
    case FLOW_CANVAS_LOWER_TO_BOTTOM:
      for (guint i = n; i-- > 0;)
        {
          guint64 before = flow_doc_get_next_seq (self->doc);

          if (!flow_board_lower_to_bottom (self->doc, &g_array_index (ids, FlowOpId, i), &error))
            break;
          any |= flow_doc_get_next_seq (self->doc) != before;
        }
      break;
    default:
      break;
    }
  flow_doc_end_change (self->doc);
  if (error != NULL)
    g_warning ("Could not restack shapes: %s", error->message);
  return any;
}

/* Moves the selection by (dx, dy) board units (arrow keys: 1, shift: 10).
 * Locked shapes stay. Quick repeats merge into one undo step. */
gboolean
flow_canvas_nudge (FlowCanvas *self,
                   double      dx,
                   double      dy)
{
  g_autoptr(GArray) ids = NULL;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self) || !isfinite (dx) || !isfinite (dy))
    return FALSE;
  ids = movable_ids (self);
  return move_ids (self, (const FlowOpId *) ids->data, ids->len, dx, dy);
}

gboolean
flow_canvas_set_locked (FlowCanvas *self,
                        gboolean    locked)
{
  g_autoptr(FlowValue) v = flow_value_new_bool (locked);

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self) || self->selection->len == 0)
    return FALSE;
  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < self->selection->len; i++)
    flow_doc_set_property (self->doc, &g_array_index (self->selection, FlowOpId, i), "locked", v, NULL);
  flow_doc_end_change (self->doc);
  _flow_canvas_invalidate (self);
  return TRUE;
}

/* Sets the text of a text or sticky shape. A text shape left empty is
 * deleted. A text shape's height follows its number of lines (wrapping
 * inside the width is the renderer's business). */
gboolean
flow_canvas_set_text (FlowCanvas     *self,
                      const FlowOpId *id,
                      const char     *text)
{
  const FlowShape *s;
  g_autoptr(FlowValue) v = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (!_flow_canvas_editable (self) || !g_utf8_validate (text, -1, NULL))
    return FALSE;
  s = flow_scene_lookup (self->scene, id);
  if (s == NULL || (s->kind != FLOW_SHAPE_TEXT && s->kind != FLOW_SHAPE_STICKY))
    return FALSE;
  if (g_strcmp0 (s->text, text) == 0)
    return FALSE;

  if (s->kind == FLOW_SHAPE_TEXT && text[0] == '\0')
    return flow_board_delete (self->doc, id, 1, NULL);

  v = flow_value_new_string (text);
  flow_doc_begin_change (self->doc);
  ok = flow_doc_set_property (self->doc, id, "text", v, &error);
  if (ok && s->kind == FLOW_SHAPE_TEXT)
    {
      guint lines = 1;
      double h;

      for (const char *p = text; *p; p++)
        lines += *p == '\n';
      h = lines * s->font_size * 1.4;
      if (fabs (h - s->h) > 1e-9)
        ok = _flow_canvas_set_number (self, id, "h", h);
    }
  flow_doc_end_change (self->doc);
  if (error != NULL)
    g_warning ("Could not set a text: %s", error->message);
  return ok;
}

gboolean
flow_canvas_undo (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self))
    return FALSE;
  flow_canvas_cancel (self);
  return flow_doc_undo (self->doc);
}

gboolean
flow_canvas_redo (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self))
    return FALSE;
  flow_canvas_cancel (self);
  return flow_doc_redo (self->doc);
}

void
flow_canvas_get_style (FlowCanvas      *self,
                       FlowCanvasStyle *style)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  *style = self->style;
}

/* Takes @fields of @style for the next shapes and applies them to the
 * selected shapes they make sense for, as one change. Returns TRUE if the
 * board changed. */
gboolean
flow_canvas_set_style (FlowCanvas            *self,
                       const FlowCanvasStyle *style,
                       FlowCanvasStyleFields  fields)
{
  guint64 before;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);
  g_return_val_if_fail (style != NULL, FALSE);

  if (fields & FLOW_CANVAS_STYLE_STROKE)
    self->style.stroke = style->stroke;
  if (fields & FLOW_CANVAS_STYLE_FILL)
    self->style.fill = style->fill;
  if ((fields & FLOW_CANVAS_STYLE_STROKE_WIDTH) && isfinite (style->stroke_width))
    self->style.stroke_width = CLAMP (style->stroke_width, 0, 1000);
  if ((fields & FLOW_CANVAS_STYLE_OPACITY) && isfinite (style->opacity))
    self->style.opacity = CLAMP (style->opacity, 0, 1);
  if ((fields & FLOW_CANVAS_STYLE_FONT_SIZE) && isfinite (style->font_size))
    self->style.font_size = CLAMP (style->font_size, 1, 1000);

  if (!_flow_canvas_editable (self) || self->selection->len == 0)
    return FALSE;

  before = flow_doc_get_next_seq (self->doc);
  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowOpId *id = &g_array_index (self->selection, FlowOpId, i);
      const FlowShape *s = flow_scene_lookup (self->scene, id);

      if (s != NULL)
        _flow_canvas_apply_style (self, id, s->kind, &self->style, fields);
    }
  flow_doc_end_change (self->doc);
  return flow_doc_get_next_seq (self->doc) != before;
}
