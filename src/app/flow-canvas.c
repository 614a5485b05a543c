/* flow-canvas.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The board editing controller: viewport, selection, tools and gestures,
 * snapping and drawing. Commands live in flow-canvas-commands.c, the
 * clipboard and images in flow-canvas-clipboard.c.
 *
 * A drag never writes to the document. It keeps the dragged shapes'
 * geometry from the press (Orig) and computes what the drag would make of
 * it (compute_geom()); the drawing previews exactly that, and the release
 * writes exactly that, inside one flow_doc_begin_change() /
 * flow_doc_end_change(): one change, one undo step, one message.
 *
 * The scene (render side) follows the document through a change func, for
 * local and remote changes alike; shapes that disappear leave the
 * selection there.
 *
 * Drawing goes through a FlowTileCache (src/render/flow-tile-cache.c): the
 * scene reports what each change repaints, so a frame mostly copies cached
 * tiles. A frame spends at most tile_budget drawing tiles; when tiles are
 * still missing (a new zoom), it shows scaled tiles of another zoom and we
 * ask for another frame from an idle. Dragged and erased shapes are left
 * out of the tiles and drawn on top, so their old place never shows them.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-board.h"
#include "flow-canvas-private.h"
#include "flow-render.h"

#define DRAG_THRESHOLD   3.0   /* widget px before a press becomes a drag */
#define HANDLE_SIZE      8.0   /* widget px */
#define HANDLE_HIT       7.0   /* widget px, half size of the hit square */
#define ROTATE_DISTANCE  24.0  /* widget px above the frame */
#define SNAP_DISTANCE    6.0   /* widget px */
#define HIT_TOLERANCE    4.0   /* widget px */
#define ERASER_RADIUS    6.0   /* widget px */
#define DEFAULT_SIZE     100.0
#define DEFAULT_TEXT_W   200.0
#define DEFAULT_STICKY   200.0
#define MIN_SIZE         1.0
#define TRAIL_LENGTH     24

enum {
  PROP_0,
  PROP_DOC,
  PROP_TOOL,
  PROP_ZOOM,
  PROP_READ_ONLY,
  N_PROPS
};

enum {
  INVALIDATE,
  SELECTION_CHANGED,
  EDIT_TEXT,
  IMAGE_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FlowCanvas, flow_canvas, G_TYPE_OBJECT)

/* ------------------------------------------------------------------------
 * Small helpers
 * ------------------------------------------------------------------------ */

static guint
op_id_hash (gconstpointer key)
{
  const FlowOpId *id = key;

  return g_int64_hash (&id->replica) ^ g_int64_hash (&id->seq);
}

static gboolean
op_id_equal (gconstpointer a,
             gconstpointer b)
{
  return flow_op_id_equal (a, b);
}

static GHashTable *
id_set_new (void)
{
  return g_hash_table_new_full (op_id_hash, op_id_equal, g_free, NULL);
}

static void
id_set_add (GHashTable     *set,
            const FlowOpId *id)
{
  if (!g_hash_table_contains (set, id))
    {
      FlowOpId *copy = g_memdup2 (id, sizeof *id);

      g_hash_table_add (set, copy);
    }
}

static const char *
kind_to_string (FlowShapeKind kind)
{
  switch (kind)
    {
    case FLOW_SHAPE_RECT:    return "rect";
    case FLOW_SHAPE_ELLIPSE: return "ellipse";
    case FLOW_SHAPE_DIAMOND: return "diamond";
    case FLOW_SHAPE_LINE:    return "line";
    case FLOW_SHAPE_ARROW:   return "arrow";
    case FLOW_SHAPE_STROKE:  return "stroke";
    case FLOW_SHAPE_TEXT:    return "text";
    case FLOW_SHAPE_STICKY:  return "sticky";
    case FLOW_SHAPE_IMAGE:   return "image";
    default:                 return "rect";
    }
}

static gboolean
kind_has_points (FlowShapeKind kind)
{
  return kind == FLOW_SHAPE_LINE || kind == FLOW_SHAPE_ARROW || kind == FLOW_SHAPE_STROKE;
}

static gboolean
tool_to_kind (FlowCanvasTool  tool,
              FlowShapeKind  *kind)
{
  switch (tool)
    {
    case FLOW_CANVAS_TOOL_RECT:    *kind = FLOW_SHAPE_RECT; return TRUE;
    case FLOW_CANVAS_TOOL_ELLIPSE: *kind = FLOW_SHAPE_ELLIPSE; return TRUE;
    case FLOW_CANVAS_TOOL_DIAMOND: *kind = FLOW_SHAPE_DIAMOND; return TRUE;
    case FLOW_CANVAS_TOOL_LINE:    *kind = FLOW_SHAPE_LINE; return TRUE;
    case FLOW_CANVAS_TOOL_ARROW:   *kind = FLOW_SHAPE_ARROW; return TRUE;
    case FLOW_CANVAS_TOOL_PEN:     *kind = FLOW_SHAPE_STROKE; return TRUE;
    case FLOW_CANVAS_TOOL_TEXT:    *kind = FLOW_SHAPE_TEXT; return TRUE;
    case FLOW_CANVAS_TOOL_STICKY:  *kind = FLOW_SHAPE_STICKY; return TRUE;
    case FLOW_CANVAS_TOOL_IMAGE:   *kind = FLOW_SHAPE_IMAGE; return TRUE;
    case FLOW_CANVAS_TOOL_SELECT:
    case FLOW_CANVAS_TOOL_HAND:
    case FLOW_CANVAS_TOOL_ERASER:
    case FLOW_CANVAS_TOOL_LASER:
    default:
      return FALSE;
    }
}

static void
rotate_vec (double  x,
            double  y,
            double  angle,
            double *rx,
            double *ry)
{
  double c = cos (angle), s = sin (angle);

  *rx = x * c - y * s;
  *ry = x * s + y * c;
}

static double
normalize_angle (double a)
{
  a = fmod (a, 2 * G_PI);
  if (a < 0)
    a += 2 * G_PI;
  if (a > 2 * G_PI - 1e-9)
    a = 0;
  return a;
}

static void
rect_union (FlowRect       *r,
            const FlowRect *o,
            gboolean        first)
{
  double x1, y1, x2, y2;

  if (first)
    {
      *r = *o;
      return;
    }
  x1 = MIN (r->x, o->x);
  y1 = MIN (r->y, o->y);
  x2 = MAX (r->x + r->width, o->x + o->width);
  y2 = MAX (r->y + r->height, o->y + o->height);
  r->x = x1;
  r->y = y1;
  r->width = x2 - x1;
  r->height = y2 - y1;
}

/* The axis-aligned box of a (possibly rotated) x, y, w, h box, without
 * stroke: what selection, alignment and snapping work with. */
static void
geom_box (double    x,
          double    y,
          double    w,
          double    h,
          double    rotation,
          FlowRect *box)
{
  double cx = x + w / 2, cy = y + h / 2;
  double ex, ey;

  if (rotation == 0)
    {
      box->x = x;
      box->y = y;
      box->width = w;
      box->height = h;
      return;
    }
  ex = fabs (w / 2 * cos (rotation)) + fabs (h / 2 * sin (rotation));
  ey = fabs (w / 2 * sin (rotation)) + fabs (h / 2 * cos (rotation));
  box->x = cx - ex;
  box->y = cy - ey;
  box->width = 2 * ex;
  box->height = 2 * ey;
}

void
_flow_canvas_shape_box (const FlowShape *shape,
                        FlowRect        *box)
{
  geom_box (shape->x, shape->y, shape->w, shape->h, shape->rotation, box);
}

/* ------------------------------------------------------------------------
 * Notifications
 * ------------------------------------------------------------------------ */

void
_flow_canvas_invalidate (FlowCanvas *self)
{
  g_signal_emit (self, signals[INVALIDATE], 0);
}

void
_flow_canvas_selection_changed (FlowCanvas *self)
{
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  _flow_canvas_invalidate (self);
}

gboolean
_flow_canvas_editable (FlowCanvas *self)
{
  return !self->read_only && !flow_doc_is_read_only (self->doc);
}

/* ------------------------------------------------------------------------
 * Selection storage
 * ------------------------------------------------------------------------ */

static gboolean
selection_contains (FlowCanvas     *self,
                    const FlowOpId *id)
{
  return g_hash_table_contains (self->selected, id);
}

static void
selection_add (FlowCanvas     *self,
               const FlowOpId *id)
{
  if (selection_contains (self, id))
    return;
  g_array_append_val (self->selection, *id);
  id_set_add (self->selected, id);
}

static void
selection_clear (FlowCanvas *self)
{
  g_array_set_size (self->selection, 0);
  g_hash_table_remove_all (self->selected);
}

/* Keeps the selected ids for which @keep returns TRUE. */
static gboolean
selection_filter (FlowCanvas *self,
                  gboolean  (*keep) (FlowCanvas *, const FlowOpId *, gpointer),
                  gpointer    data)
{
  guint j = 0;
  guint n = self->selection->len;

  for (guint i = 0; i < n; i++)
    {
      FlowOpId id = g_array_index (self->selection, FlowOpId, i);

      if (keep (self, &id, data))
        g_array_index (self->selection, FlowOpId, j++) = id;
      else
        g_hash_table_remove (self->selected, &id);
    }
  g_array_set_size (self->selection, j);
  return j != n;
}

static gboolean
keep_live_cb (FlowCanvas     *self,
              const FlowOpId *id,
              gpointer        data)
{
  return flow_scene_lookup (self->scene, id) != NULL;
}

static gboolean
keep_not_in_set_cb (FlowCanvas     *self,
                    const FlowOpId *id,
                    gpointer        data)
{
  return !g_hash_table_contains (data, id);
}

/* Replaces the selection, without notifying. */
void
_flow_canvas_select_ids (FlowCanvas     *self,
                         const FlowOpId *ids,
                         guint           n_ids)
{
  selection_clear (self);
  for (guint i = 0; i < n_ids; i++)
    if (flow_scene_lookup (self->scene, &ids[i]) != NULL)
      selection_add (self, &ids[i]);
}

/* The selected shapes still on the board, as const FlowShape *, in z-order. */
static gint
shape_z_cmp (gconstpointer a,
             gconstpointer b)
{
  const FlowShape *x = *(const FlowShape * const *) a;
  const FlowShape *y = *(const FlowShape * const *) b;

  return x->z < y->z ? -1 : x->z > y->z;
}

GArray *
_flow_canvas_selected_shapes (FlowCanvas *self)
{
  GArray *shapes = g_array_sized_new (FALSE, FALSE, sizeof (const FlowShape *), self->selection->len);

  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowShape *shape = flow_scene_lookup (self->scene, &g_array_index (self->selection, FlowOpId, i));

      if (shape != NULL)
        g_array_append_val (shapes, shape);
    }
  g_array_sort (shapes, shape_z_cmp);
  return shapes;
}

gboolean
_flow_canvas_selection_box (FlowCanvas *self,
                            FlowRect   *box)
{
  gboolean any = FALSE;

  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowShape *shape = flow_scene_lookup (self->scene, &g_array_index (self->selection, FlowOpId, i));
      FlowRect r;

      if (shape == NULL)
        continue;
      _flow_canvas_shape_box (shape, &r);
      rect_union (box, &r, !any);
      any = TRUE;
    }
  return any;
}

/* Adds @shape to @ids, with the other members of its group unless @alone. */
static void
collect_unit (FlowCanvas      *self,
              const FlowShape *shape,
              gboolean         alone,
              GArray          *ids)
{
  guint n;

  if (alone || shape->group == NULL)
    {
      g_array_append_val (ids, shape->id);
      return;
    }
  n = flow_scene_get_n_shapes (self->scene);
  for (guint z = 0; z < n; z++)
    {
      const FlowShape *other = flow_scene_get_nth (self->scene, z);

      if (other->group != NULL && strcmp (other->group, shape->group) == 0)
        g_array_append_val (ids, other->id);
    }
}

/* ------------------------------------------------------------------------
 * Change func
 * ------------------------------------------------------------------------ */

static void origs_reindex (FlowCanvas *self);
static void reset_gesture (FlowCanvas *self);

static void
doc_changed_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  FlowCanvas *self = user_data;
  guint n = 0;
  const FlowOpId *ids = flow_change_get_entities (change, &n);
  gboolean pruned = FALSE;

  flow_scene_update (self->scene, ids, n);

  for (guint i = 0; i < n && !pruned; i++)
    if (selection_contains (self, &ids[i]) && flow_scene_lookup (self->scene, &ids[i]) == NULL)
      pruned = TRUE;
  if (pruned)
    selection_filter (self, keep_live_cb, NULL);

  /* Shapes that went away drop out of a drag; without any, it ends. */
  if (self->origs->len > 0)
    {
      guint before = self->origs->len;

      for (guint i = 0; i < self->origs->len; i++)
        if (flow_scene_lookup (self->scene, &g_array_index (self->origs, Orig, i).id) == NULL)
          g_array_remove_index (self->origs, i--);
      if (self->origs->len != before)
        origs_reindex (self);
      if (self->origs->len == 0)
        reset_gesture (self);
    }

  if (pruned)
    g_signal_emit (self, signals[SELECTION_CHANGED], 0);
  _flow_canvas_invalidate (self);
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

static void
orig_clear (gpointer data)
{
  Orig *o = data;

  g_clear_pointer (&o->points, g_free);
}

static void
flow_canvas_constructed (GObject *object)
{
  FlowCanvas *self = FLOW_CANVAS (object);

  G_OBJECT_CLASS (flow_canvas_parent_class)->constructed (object);

  g_assert (FLOW_IS_DOC (self->doc));
  self->scene = flow_scene_new (self->doc);
  self->tiles = flow_tile_cache_new (self->scene);
  self->change_func = flow_doc_add_change_func (self->doc, doc_changed_cb, self, NULL);
  if (flow_doc_is_read_only (self->doc))
    self->read_only = TRUE;
}

static void
flow_canvas_dispose (GObject *object)
{
  FlowCanvas *self = FLOW_CANVAS (object);

  if (self->doc != NULL && self->change_func != 0)
    {
      flow_doc_remove_change_func (self->doc, self->change_func);
      self->change_func = 0;
    }
  g_clear_handle_id (&self->redraw_id, g_source_remove);
  g_clear_handle_id (&self->settle_id, g_source_remove);
  g_clear_pointer (&self->tiles, flow_tile_cache_free);
  g_clear_pointer (&self->scene, flow_scene_free);
  g_clear_object (&self->doc);

  G_OBJECT_CLASS (flow_canvas_parent_class)->dispose (object);
}

static void
flow_canvas_finalize (GObject *object)
{
  FlowCanvas *self = FLOW_CANVAS (object);

  g_clear_pointer (&self->selection, g_array_unref);
  g_clear_pointer (&self->selected, g_hash_table_unref);
  g_clear_pointer (&self->orig_index, g_hash_table_unref);
  g_clear_pointer (&self->origs, g_array_unref);
  g_clear_pointer (&self->erase_set, g_hash_table_unref);
  g_clear_pointer (&self->pen_points, g_array_unref);
  g_clear_pointer (&self->erase_ids, g_array_unref);
  g_clear_pointer (&self->trail, g_array_unref);
  g_clear_pointer (&self->guides, g_array_unref);
  g_clear_pointer (&self->presence, _flow_canvas_presence_free);

  G_OBJECT_CLASS (flow_canvas_parent_class)->finalize (object);
}

static void
flow_canvas_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  FlowCanvas *self = FLOW_CANVAS (object);

  switch (prop_id)
    {
    case PROP_DOC:
      g_value_set_object (value, self->doc);
      break;
    case PROP_TOOL:
      g_value_set_int (value, self->tool);
      break;
    case PROP_ZOOM:
      g_value_set_double (value, self->zoom);
      break;
    case PROP_READ_ONLY:
      g_value_set_boolean (value, flow_canvas_get_read_only (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_canvas_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  FlowCanvas *self = FLOW_CANVAS (object);

  switch (prop_id)
    {
    case PROP_DOC:
      self->doc = g_value_dup_object (value);
      break;
    case PROP_TOOL:
      flow_canvas_set_tool (self, g_value_get_int (value));
      break;
    case PROP_ZOOM:
      flow_canvas_zoom_at (self, g_value_get_double (value) / self->zoom, self->width / 2, self->height / 2);
      break;
    case PROP_READ_ONLY:
      flow_canvas_set_read_only (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_canvas_class_init (FlowCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = flow_canvas_constructed;
  object_class->dispose = flow_canvas_dispose;
  object_class->finalize = flow_canvas_finalize;
  object_class->get_property = flow_canvas_get_property;
  object_class->set_property = flow_canvas_set_property;

  properties[PROP_DOC] =
    g_param_spec_object ("doc", NULL, NULL, FLOW_TYPE_DOC,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOOL] =
    g_param_spec_int ("tool", NULL, NULL, 0, FLOW_CANVAS_TOOL_LAST, FLOW_CANVAS_TOOL_SELECT,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL, FLOW_CANVAS_MIN_ZOOM, FLOW_CANVAS_MAX_ZOOM, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_READ_ONLY] =
    g_param_spec_boolean ("read-only", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[INVALIDATE] =
    g_signal_new ("invalidate", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[EDIT_TEXT] =
    g_signal_new ("edit-text", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
  signals[IMAGE_REQUESTED] =
    g_signal_new ("image-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_DOUBLE, G_TYPE_DOUBLE);
  _flow_canvas_presence_class_init (object_class);
}

static void
flow_canvas_init (FlowCanvas *self)
{
  self->selection = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  self->selected = id_set_new ();
  self->origs = g_array_new (FALSE, TRUE, sizeof (Orig));
  g_array_set_clear_func (self->origs, orig_clear);
  self->orig_index = g_hash_table_new (op_id_hash, op_id_equal);
  self->erase_set = id_set_new ();
  self->pen_points = g_array_new (FALSE, FALSE, sizeof (FlowPoint));
  self->erase_ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  self->trail = g_array_new (FALSE, FALSE, sizeof (FlowPoint));
  self->guides = g_array_new (FALSE, FALSE, sizeof (FlowCanvasGuide));
  self->presence = _flow_canvas_presence_new ();

  self->zoom = 1.0;
  self->scale_factor = 1;
  self->tile_budget = FLOW_CANVAS_TILE_BUDGET_US;
  self->frame_complete = TRUE;
  self->tool = FLOW_CANVAS_TOOL_SELECT;
  self->style.stroke = FLOW_SCENE_DEFAULT_STROKE;
  self->style.fill = FLOW_SCENE_DEFAULT_FILL;
  self->style.stroke_width = FLOW_SCENE_DEFAULT_STROKE_WIDTH;
  self->style.opacity = 1.0;
  self->style.font_size = FLOW_SCENE_DEFAULT_FONT_SIZE;
  self->accent = 0x3584e4ff;
  self->grid_size = 20;
  self->snap_shapes = TRUE;
}

/**
 * flow_canvas_new:
 * @board: a board document
 *
 * Returns: (transfer full): a canvas editing @board
 */
FlowCanvas *
flow_canvas_new (FlowDoc *board)
{
  g_return_val_if_fail (FLOW_IS_DOC (board), NULL);
  g_return_val_if_fail (flow_doc_get_kind (board) == FLOW_DOC_KIND_BOARD, NULL);

  return g_object_new (FLOW_TYPE_CANVAS, "doc", board, NULL);
}

FlowDoc *
flow_canvas_get_doc (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  return self->doc;
}

FlowScene *
flow_canvas_get_scene (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  return self->scene;
}

/* ------------------------------------------------------------------------
 * Viewport
 * ------------------------------------------------------------------------ */

void
flow_canvas_set_size (FlowCanvas *self,
                      double      width,
                      double      height)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->width = MAX (width, 0);
  self->height = MAX (height, 0);
  _flow_canvas_presence_resized (self);
  _flow_canvas_invalidate (self);
}

void
flow_canvas_get_offset (FlowCanvas *self,
                        double     *x,
                        double     *y)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (x)
    *x = self->offset_x;
  if (y)
    *y = self->offset_y;
}

void
flow_canvas_set_offset (FlowCanvas *self,
                        double      x,
                        double      y)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));
  g_return_if_fail (isfinite (x) && isfinite (y));

  _flow_canvas_presence_viewport_changed (self);
  self->offset_x = CLAMP (x, -1e9, 1e9);
  self->offset_y = CLAMP (y, -1e9, 1e9);
  _flow_canvas_invalidate (self);
}

double
flow_canvas_get_zoom (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), 1.0);

  return self->zoom;
}

/* Moves the view by (dx, dy) widget pixels: the board follows the pointer. */
void
flow_canvas_pan_by (FlowCanvas *self,
                    double      dx,
                    double      dy)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  flow_canvas_set_offset (self, self->offset_x - dx / self->zoom, self->offset_y - dy / self->zoom);
}

/* Multiplies the zoom by @factor (clamped), keeping the board point under
 * widget point (wx, wy) where it is. */
void
flow_canvas_zoom_at (FlowCanvas *self,
                     double      factor,
                     double      wx,
                     double      wy)
{
  double bx, by, zoom;

  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (!isfinite (factor) || factor <= 0)
    return;
  _flow_canvas_presence_viewport_changed (self);
  zoom = CLAMP (self->zoom * factor, FLOW_CANVAS_MIN_ZOOM, FLOW_CANVAS_MAX_ZOOM);
  if (zoom == self->zoom)
    return;
  flow_canvas_widget_to_board (self, wx, wy, &bx, &by);
  self->zoom = zoom;
  self->offset_x = bx - wx / zoom;
  self->offset_y = by - wy / zoom;
  self->zoom_changed_at = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  _flow_canvas_invalidate (self);
}

/* Fits the whole board into the widget with a 40 px margin (zoom clamped);
 * an empty board gets 100% at the origin. */
void
flow_canvas_zoom_to_fit (FlowCanvas *self)
{
  const double margin = 40;
  FlowRect bounds;
  double zoom, aw, ah;

  g_return_if_fail (FLOW_IS_CANVAS (self));

  _flow_canvas_presence_viewport_changed (self);
  if (!flow_scene_get_bounds (self->scene, &bounds))
    {
      self->zoom = 1.0;
      self->offset_x = self->offset_y = 0;
      self->zoom_changed_at = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
      _flow_canvas_invalidate (self);
      return;
    }
  aw = MAX (self->width - 2 * margin, 1);
  ah = MAX (self->height - 2 * margin, 1);
  zoom = MIN (aw / MAX (bounds.width, 1e-6), ah / MAX (bounds.height, 1e-6));
  zoom = CLAMP (zoom, FLOW_CANVAS_MIN_ZOOM, FLOW_CANVAS_MAX_ZOOM);
  self->zoom = zoom;
  self->offset_x = bounds.x + bounds.width / 2 - self->width / 2 / zoom;
  self->offset_y = bounds.y + bounds.height / 2 - self->height / 2 / zoom;
  self->zoom_changed_at = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  _flow_canvas_invalidate (self);
}

/* 100%, keeping the centre of the widget where it is. */
void
flow_canvas_zoom_reset (FlowCanvas *self)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  flow_canvas_zoom_at (self, 1.0 / self->zoom, self->width / 2, self->height / 2);
}

void
flow_canvas_widget_to_board (FlowCanvas *self,
                             double      wx,
                             double      wy,
                             double     *bx,
                             double     *by)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  *bx = self->offset_x + wx / self->zoom;
  *by = self->offset_y + wy / self->zoom;
}

void
flow_canvas_board_to_widget (FlowCanvas *self,
                             double      bx,
                             double      by,
                             double     *wx,
                             double     *wy)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  *wx = (bx - self->offset_x) * self->zoom;
  *wy = (by - self->offset_y) * self->zoom;
}

/* ------------------------------------------------------------------------
 * Tools
 * ------------------------------------------------------------------------ */

static const struct {
  FlowCanvasTool  tool;
  gunichar        key;
  const char     *name;
} tool_table[] = {
  { FLOW_CANVAS_TOOL_SELECT,  'v', "select" },
  { FLOW_CANVAS_TOOL_HAND,    'h', "hand" },
  { FLOW_CANVAS_TOOL_RECT,    'r', "rect" },
  { FLOW_CANVAS_TOOL_ELLIPSE, 'o', "ellipse" },
  { FLOW_CANVAS_TOOL_DIAMOND, 'd', "diamond" },
  { FLOW_CANVAS_TOOL_LINE,    'l', "line" },
  { FLOW_CANVAS_TOOL_ARROW,   'a', "arrow" },
  { FLOW_CANVAS_TOOL_PEN,     'p', "pen" },
  { FLOW_CANVAS_TOOL_TEXT,    't', "text" },
  { FLOW_CANVAS_TOOL_STICKY,  's', "sticky" },
  { FLOW_CANVAS_TOOL_IMAGE,   'i', "image" },
  { FLOW_CANVAS_TOOL_ERASER,  'e', "eraser" },
  { FLOW_CANVAS_TOOL_LASER,   'k', "laser" },   /* L is the line */
};

/* Maps a shortcut letter (either case: V H R O D L A P T S I E K) to a tool. */
gboolean
flow_canvas_tool_from_shortcut (gunichar        key,
                                FlowCanvasTool *tool)
{
  gunichar lower = g_unichar_tolower (key);

  for (guint i = 0; i < G_N_ELEMENTS (tool_table); i++)
    if (tool_table[i].key == lower)
      {
        if (tool)
          *tool = tool_table[i].tool;
        return TRUE;
      }
  return FALSE;
}

/* Returns: the lower-case shortcut letter of @tool, or 0 */
gunichar
flow_canvas_tool_get_shortcut (FlowCanvasTool tool)
{
  for (guint i = 0; i < G_N_ELEMENTS (tool_table); i++)
    if (tool_table[i].tool == tool)
      return tool_table[i].key;
  return 0;
}

const char *
flow_canvas_tool_to_string (FlowCanvasTool tool)
{
  for (guint i = 0; i < G_N_ELEMENTS (tool_table); i++)
    if (tool_table[i].tool == tool)
      return tool_table[i].name;
  return NULL;
}

FlowCanvasTool
flow_canvas_get_tool (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FLOW_CANVAS_TOOL_SELECT);

  return self->tool;
}

gboolean
flow_canvas_set_tool (FlowCanvas     *self,
                      FlowCanvasTool  tool)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);
  g_return_val_if_fail (tool <= FLOW_CANVAS_TOOL_LAST, FALSE);

  /* The laser never edits, so it works on read-only boards too. */
  if (!_flow_canvas_editable (self) && tool != FLOW_CANVAS_TOOL_SELECT &&
      tool != FLOW_CANVAS_TOOL_HAND && tool != FLOW_CANVAS_TOOL_LASER)
    return FALSE;
  if (self->drag != DRAG_NONE)
    flow_canvas_cancel (self);
  if (self->tool != tool)
    {
      self->tool = tool;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOOL]);
      _flow_canvas_presence_tool_changed (self);
    }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Read-only
 * ------------------------------------------------------------------------ */

gboolean
flow_canvas_get_read_only (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), TRUE);

  return !_flow_canvas_editable (self);
}

void
flow_canvas_set_read_only (FlowCanvas *self,
                           gboolean    read_only)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  read_only = !!read_only || flow_doc_is_read_only (self->doc);
  if (self->read_only == (guint) read_only)
    return;
  if (self->drag != DRAG_NONE)
    flow_canvas_cancel (self);
  self->read_only = read_only;
  if (read_only && self->tool != FLOW_CANVAS_TOOL_SELECT && self->tool != FLOW_CANVAS_TOOL_HAND)
    {
      self->tool = FLOW_CANVAS_TOOL_SELECT;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOOL]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_ONLY]);
  _flow_canvas_invalidate (self);
}

/* ------------------------------------------------------------------------
 * Selection API
 * ------------------------------------------------------------------------ */

/**
 * flow_canvas_get_selection:
 * @self: a canvas
 * @n_ids: (out): the number of selected shapes
 *
 * Returns: (transfer none): the selected shapes, in selection order
 */
const FlowOpId *
flow_canvas_get_selection (FlowCanvas *self,
                           guint      *n_ids)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  *n_ids = self->selection->len;
  return (const FlowOpId *) self->selection->data;
}

void
flow_canvas_set_selection (FlowCanvas     *self,
                           const FlowOpId *ids,
                           guint           n_ids)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  _flow_canvas_select_ids (self, ids, n_ids);
  _flow_canvas_selection_changed (self);
}

gboolean
flow_canvas_is_selected (FlowCanvas     *self,
                         const FlowOpId *id)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  return selection_contains (self, id);
}

void
flow_canvas_select_all (FlowCanvas *self)
{
  guint n;

  g_return_if_fail (FLOW_IS_CANVAS (self));

  selection_clear (self);
  n = flow_scene_get_n_shapes (self->scene);
  for (guint z = 0; z < n; z++)
    selection_add (self, &flow_scene_get_nth (self->scene, z)->id);
  _flow_canvas_selection_changed (self);
}

void
flow_canvas_clear_selection (FlowCanvas *self)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (self->selection->len == 0)
    return;
  selection_clear (self);
  _flow_canvas_selection_changed (self);
}

/* ------------------------------------------------------------------------
 * Document writes shared by the gestures and commands
 * ------------------------------------------------------------------------ */

static gboolean
set_value (FlowCanvas     *self,
           const FlowOpId *id,
           const char     *key,
           FlowValue      *value)
{
  g_autoptr(GError) error = NULL;

  if (!flow_doc_set_property (self->doc, id, key, value, &error))
    {
      g_warning ("Could not set %s of a shape: %s", key, error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
_flow_canvas_set_number (FlowCanvas     *self,
                         const FlowOpId *id,
                         const char     *key,
                         double          value)
{
  g_autoptr(FlowValue) v = flow_value_new_number (value);

  return set_value (self, id, key, v);
}

static void
points_box (const FlowPoint *points,
            guint            n,
            double          *x,
            double          *y,
            double          *w,
            double          *h)
{
  double x1 = G_MAXDOUBLE, y1 = G_MAXDOUBLE, x2 = -G_MAXDOUBLE, y2 = -G_MAXDOUBLE;

  for (guint i = 0; i < n; i++)
    {
      x1 = MIN (x1, points[i].x);
      y1 = MIN (y1, points[i].y);
      x2 = MAX (x2, points[i].x);
      y2 = MAX (y2, points[i].y);
    }
  if (n == 0)
    x1 = y1 = x2 = y2 = 0;
  *x = x1;
  *y = y1;
  *w = x2 - x1;
  *h = y2 - y1;
}

/* Writes x, y, w, h and the points of a line, arrow or stroke from points
 * in board coordinates: the box is their bounding box. */
gboolean
_flow_canvas_set_line_points (FlowCanvas      *self,
                              const FlowOpId  *id,
                              const FlowPoint *abs_points,
                              guint            n_points)
{
  g_autofree FlowPoint *rel = g_new (FlowPoint, MAX (n_points, 1));
  g_autoptr(FlowValue) v = NULL;
  double x, y, w, h;

  points_box (abs_points, n_points, &x, &y, &w, &h);
  for (guint i = 0; i < n_points; i++)
    {
      rel[i] = abs_points[i];
      rel[i].x -= x;
      rel[i].y -= y;
    }
  v = flow_value_new_points (rel, n_points);
  return _flow_canvas_set_number (self, id, "x", x) &&
         _flow_canvas_set_number (self, id, "y", y) &&
         _flow_canvas_set_number (self, id, "w", w) &&
         _flow_canvas_set_number (self, id, "h", h) &&
         set_value (self, id, "points", v);
}

/* Writes the fields of @style that apply to a shape of @kind. */
void
_flow_canvas_apply_style (FlowCanvas            *self,
                          const FlowOpId        *id,
                          FlowShapeKind          kind,
                          const FlowCanvasStyle *style,
                          FlowCanvasStyleFields  fields)
{
  gboolean closed = kind == FLOW_SHAPE_RECT || kind == FLOW_SHAPE_ELLIPSE ||
                    kind == FLOW_SHAPE_DIAMOND || kind == FLOW_SHAPE_STICKY;
  gboolean textual = kind == FLOW_SHAPE_TEXT || kind == FLOW_SHAPE_STICKY;
  gboolean outlined = kind != FLOW_SHAPE_TEXT && kind != FLOW_SHAPE_STICKY && kind != FLOW_SHAPE_IMAGE;

  if ((fields & FLOW_CANVAS_STYLE_STROKE) && kind != FLOW_SHAPE_IMAGE)
    {
      g_autoptr(FlowValue) v = flow_value_new_color (style->stroke);
      set_value (self, id, "stroke", v);
    }
  /* A sticky note without a fill colour of its own keeps the yellow. */
  if ((fields & FLOW_CANVAS_STYLE_FILL) && closed &&
      !(kind == FLOW_SHAPE_STICKY && (style->fill & 0xff) == 0))
    {
      g_autoptr(FlowValue) v = flow_value_new_color (style->fill);
      set_value (self, id, "fill", v);
    }
  if ((fields & FLOW_CANVAS_STYLE_STROKE_WIDTH) && outlined)
    _flow_canvas_set_number (self, id, "stroke_width", CLAMP (style->stroke_width, 0, 1000));
  if (fields & FLOW_CANVAS_STYLE_OPACITY)
    _flow_canvas_set_number (self, id, "opacity", CLAMP (style->opacity, 0, 1));
  if ((fields & FLOW_CANVAS_STYLE_FONT_SIZE) && textual)
    _flow_canvas_set_number (self, id, "font_size", CLAMP (style->font_size, 1, 1000));
}

/* A fresh group id: unique per replica, without randomness. */
char *
_flow_canvas_new_group_id (FlowCanvas *self)
{
  return g_strdup_printf ("g%" G_GINT64_MODIFIER "x.%" G_GUINT64_FORMAT ".%u",
                          flow_doc_get_replica (self->doc),
                          flow_doc_get_next_seq (self->doc),
                          self->group_counter++);
}

/* ------------------------------------------------------------------------
 * Snapping
 * ------------------------------------------------------------------------ */

typedef struct
{
  double v;       /* the snap line */
  double lo, hi;  /* the target's extent along the line */
} SnapLine;

/* Edges and centres of the visible shapes that are not being dragged. */
static void
gather_snap_lines (FlowCanvas *self,
                   GArray     *xs,
                   GArray     *ys)
{
  g_autoptr(GPtrArray) shapes = g_ptr_array_new ();
  FlowRect visible = { self->offset_x, self->offset_y, self->width / self->zoom, self->height / self->zoom };

  if (visible.width <= 0 || visible.height <= 0)
    return;
  flow_scene_query (self->scene, &visible, shapes);
  for (guint i = 0; i < shapes->len && i < 5000; i++)
    {
      const FlowShape *shape = g_ptr_array_index (shapes, i);
      FlowRect b;
      SnapLine l;

      if (g_hash_table_contains (self->orig_index, &shape->id))
        continue;
      _flow_canvas_shape_box (shape, &b);
      l.lo = b.y;
      l.hi = b.y + b.height;
      l.v = b.x;                 g_array_append_val (xs, l);
      l.v = b.x + b.width / 2;   g_array_append_val (xs, l);
      l.v = b.x + b.width;       g_array_append_val (xs, l);
      l.lo = b.x;
      l.hi = b.x + b.width;
      l.v = b.y;                 g_array_append_val (ys, l);
      l.v = b.y + b.height / 2;  g_array_append_val (ys, l);
      l.v = b.y + b.height;      g_array_append_val (ys, l);
    }
}

/* The smallest correction moving one of @vals onto a line, or FALSE. */
static gboolean
snap_axis (GArray       *lines,
           const double *vals,
           guint         n_vals,
           double        threshold,
           double       *correction,
           SnapLine     *hit)
{
  double best = threshold;
  gboolean found = FALSE;

  for (guint i = 0; i < lines->len; i++)
    {
      const SnapLine *l = &g_array_index (lines, SnapLine, i);

      for (guint j = 0; j < n_vals; j++)
        {
          double d = l->v - vals[j];

          if (fabs (d) <= best && (!found || fabs (d) < fabs (*correction)))
            {
              best = fabs (d);
              *correction = d;
              *hit = *l;
              found = TRUE;
            }
        }
    }
  return found;
}

/* Snaps the box (x, y, w, h) (w = h = 0 for a point): to other shapes'
 * edges and centres within SNAP_DISTANCE, else to the grid. Returns the
 * correction in *dx, *dy and records guides. */
static void
snap_box (FlowCanvas *self,
          double      x,
          double      y,
          double      w,
          double      h,
          double     *dx,
          double     *dy)
{
  gboolean sx = FALSE, sy = FALSE;

  *dx = *dy = 0;
  g_array_set_size (self->guides, 0);
  if (self->modifiers & FLOW_CANVAS_MODIFIER_ALT)
    return;

  if (self->snap_shapes)
    {
      g_autoptr(GArray) xs = g_array_new (FALSE, FALSE, sizeof (SnapLine));
      g_autoptr(GArray) ys = g_array_new (FALSE, FALSE, sizeof (SnapLine));
      double vx[3] = { x, x + w / 2, x + w };
      double vy[3] = { y, y + h / 2, y + h };
      double threshold = SNAP_DISTANCE / self->zoom;
      SnapLine hit;

      gather_snap_lines (self, xs, ys);
      if (snap_axis (xs, vx, 3, threshold, dx, &hit))
        {
          FlowCanvasGuide g = { hit.v, MIN (hit.lo, y), hit.v, MAX (hit.hi, y + h) };

          g_array_append_val (self->guides, g);
          sx = TRUE;
        }
      if (snap_axis (ys, vy, 3, threshold, dy, &hit))
        {
          FlowCanvasGuide g = { MIN (hit.lo, x), hit.v, MAX (hit.hi, x + w), hit.v };

          g_array_append_val (self->guides, g);
          sy = TRUE;
        }
      /* Guides span the snapped box, not the one before the correction. */
      for (guint i = 0; i < self->guides->len; i++)
        {
          FlowCanvasGuide *g = &g_array_index (self->guides, FlowCanvasGuide, i);

          if (g->x1 == g->x2)
            {
              g->y1 = MIN (g->y1, y + *dy);
              g->y2 = MAX (g->y2, y + h + *dy);
            }
          else
            {
              g->x1 = MIN (g->x1, x + *dx);
              g->x2 = MAX (g->x2, x + w + *dx);
            }
        }
    }

  if (self->grid_enabled && self->grid_size > 0)
    {
      if (!sx)
        *dx = round (x / self->grid_size) * self->grid_size - x;
      if (!sy)
        *dy = round (y / self->grid_size) * self->grid_size - y;
    }
}

static void
snap_point (FlowCanvas *self,
            double     *x,
            double     *y)
{
  double dx, dy;

  snap_box (self, *x, *y, 0, 0, &dx, &dy);
  *x += dx;
  *y += dy;
}

void
flow_canvas_set_grid (FlowCanvas *self,
                      gboolean    enabled,
                      double      size)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->grid_enabled = !!enabled;
  if (size > 0 && isfinite (size))
    self->grid_size = size;
  _flow_canvas_invalidate (self);
}

gboolean
flow_canvas_get_grid (FlowCanvas *self,
                      double     *size)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (size)
    *size = self->grid_size;
  return self->grid_enabled;
}

void
flow_canvas_set_snap_to_shapes (FlowCanvas *self,
                                gboolean    enabled)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->snap_shapes = !!enabled;
}

/**
 * flow_canvas_get_guides:
 * @self: a canvas
 * @n_guides: (out): the number of guides
 *
 * Returns: (transfer none): the snap guides of the drag in progress, in
 *   board coordinates
 */
const FlowCanvasGuide *
flow_canvas_get_guides (FlowCanvas *self,
                        guint      *n_guides)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  *n_guides = self->guides->len;
  return (const FlowCanvasGuide *) self->guides->data;
}

/* ------------------------------------------------------------------------
 * The selection frame and its handles
 * ------------------------------------------------------------------------ */

typedef struct
{
  double cx, cy, w, h, rotation;
} Frame;

/* One shape: its own rotated box; several: their axis-aligned box. */
static gboolean
selection_frame (FlowCanvas *self,
                 Frame      *f)
{
  FlowRect box;

  if (self->selection->len == 1)
    {
      const FlowShape *s = flow_scene_lookup (self->scene, &g_array_index (self->selection, FlowOpId, 0));

      if (s == NULL)
        return FALSE;
      f->cx = s->x + s->w / 2;
      f->cy = s->y + s->h / 2;
      f->w = s->w;
      f->h = s->h;
      f->rotation = s->rotation;
      return TRUE;
    }
  if (!_flow_canvas_selection_box (self, &box))
    return FALSE;
  f->cx = box.x + box.width / 2;
  f->cy = box.y + box.height / 2;
  f->w = box.width;
  f->h = box.height;
  f->rotation = 0;
  return TRUE;
}

static const int handle_sx[8] = { -1, 0, 1, 1, 1, 0, -1, -1 };
static const int handle_sy[8] = { -1, -1, -1, 0, 1, 1, 1, 0 };

/* The widget position of handle @i of @f. */
static void
handle_position (FlowCanvas  *self,
                 const Frame *f,
                 int          i,
                 double      *wx,
                 double      *wy)
{
  double lx, ly, rx, ry;

  if (i == HANDLE_ROTATE)
    {
      lx = 0;
      ly = -f->h / 2 - ROTATE_DISTANCE / self->zoom;
    }
  else
    {
      lx = handle_sx[i] * f->w / 2;
      ly = handle_sy[i] * f->h / 2;
    }
  rotate_vec (lx, ly, f->rotation, &rx, &ry);
  flow_canvas_board_to_widget (self, f->cx + rx, f->cy + ry, wx, wy);
}

static gboolean
selection_is_locked (FlowCanvas *self)
{
  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowShape *s = flow_scene_lookup (self->scene, &g_array_index (self->selection, FlowOpId, i));

      if (s != NULL && !s->locked)
        return FALSE;
    }
  return TRUE;
}

static int
handle_at (FlowCanvas *self,
           double      wx,
           double      wy)
{
  static const int order[] = { HANDLE_ROTATE, 0, 2, 4, 6, 1, 3, 5, 7 };
  Frame f;

  if (!_flow_canvas_editable (self) || self->tool != FLOW_CANVAS_TOOL_SELECT ||
      self->selection->len == 0 || selection_is_locked (self) || !selection_frame (self, &f))
    return HANDLE_NONE;

  for (guint k = 0; k < G_N_ELEMENTS (order); k++)
    {
      double hx, hy;

      handle_position (self, &f, order[k], &hx, &hy);
      if (fabs (wx - hx) > HANDLE_HIT || fabs (wy - hy) > HANDLE_HIT)
        continue;
      /* On a frame too small for its handles, a press inside it moves. */
      if (order[k] != HANDLE_ROTATE && MIN (f.w, f.h) * self->zoom < 4 * HANDLE_HIT)
        {
          double bx, by, lx, ly;

          flow_canvas_widget_to_board (self, wx, wy, &bx, &by);
          rotate_vec (bx - f.cx, by - f.cy, -f.rotation, &lx, &ly);
          if (fabs (lx) <= f.w / 2 && fabs (ly) <= f.h / 2)
            return HANDLE_NONE;
        }
      return order[k];
    }
  return HANDLE_NONE;
}

/* ------------------------------------------------------------------------
 * Drag previews: what a drag makes of a shape's geometry
 * ------------------------------------------------------------------------ */

static void
origs_capture (FlowCanvas *self)
{
  g_array_set_size (self->origs, 0);
  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowShape *s = flow_scene_lookup (self->scene, &g_array_index (self->selection, FlowOpId, i));
      Orig o = { 0 };

      if (s == NULL || s->locked)
        continue;
      o.id = s->id;
      o.kind = s->kind;
      o.x = s->x;
      o.y = s->y;
      o.w = s->w;
      o.h = s->h;
      o.rotation = s->rotation;
      if (s->n_points > 0)
        {
          o.points = g_memdup2 (s->points, s->n_points * sizeof (FlowPoint));
          o.n_points = s->n_points;
        }
      g_array_append_val (self->origs, o);
    }
  origs_reindex (self);
}

static void
origs_reindex (FlowCanvas *self)
{
  g_hash_table_remove_all (self->orig_index);
  for (guint i = 0; i < self->origs->len; i++)
    {
      Orig *o = &g_array_index (self->origs, Orig, i);

      g_hash_table_insert (self->orig_index, &o->id, o);
    }
}

static const Orig *
origs_lookup (FlowCanvas     *self,
              const FlowOpId *id)
{
  return g_hash_table_lookup (self->orig_index, id);
}

/* The new frame of a resize: centre, size, scale factors and flips. */
typedef struct
{
  double cx, cy, w, h;
  double fx, fy;
  gboolean flip_x, flip_y;
} Resize;

static void
compute_resize (FlowCanvas *self,
                Resize     *r)
{
  int sx = handle_sx[self->handle], sy = handle_sy[self->handle];
  double cx = self->box_x + self->box_w / 2, cy = self->box_y + self->box_h / 2;
  double w = self->box_w, h = self->box_h;
  double px, py, ax, ay, ncx = 0, ncy = 0, nw = w, nh = h, wx, wy;

  rotate_vec (self->cur_bx - cx, self->cur_by - cy, -self->box_rot, &px, &py);
  ax = -sx * w / 2;
  ay = -sy * h / 2;
  r->flip_x = r->flip_y = FALSE;
  if (sx != 0)
    {
      nw = fabs (px - ax);
      r->flip_x = (px - ax) * sx < 0;
    }
  if (sy != 0)
    {
      nh = fabs (py - ay);
      r->flip_y = (py - ay) * sy < 0;
    }

  /* Shift keeps the aspect ratio (images always do). */
  if ((self->modifiers & FLOW_CANVAS_MODIFIER_SHIFT) && w > 0 && h > 0)
    {
      double s;

      if (sx != 0 && sy != 0)
        s = MAX (nw / w, nh / h);
      else if (sx != 0)
        s = nw / w;
      else
        s = nh / h;
      nw = w * s;
      nh = h * s;
    }
  nw = MAX (nw, w > 0 ? MIN_SIZE : 0);
  nh = MAX (nh, h > 0 ? MIN_SIZE : 0);

  ncx = sx != 0 ? ax + (r->flip_x ? -sx : sx) * nw / 2 : 0;
  ncy = sy != 0 ? ay + (r->flip_y ? -sy : sy) * nh / 2 : 0;
  rotate_vec (ncx, ncy, self->box_rot, &wx, &wy);
  r->cx = cx + wx;
  r->cy = cy + wy;
  r->w = nw;
  r->h = nh;
  r->fx = w > 0 ? nw / w : 1;
  r->fy = h > 0 ? nh / h : 1;
}

static double
rotate_delta (FlowCanvas *self)
{
  double cx = self->box_x + self->box_w / 2, cy = self->box_y + self->box_h / 2;
  double a0 = atan2 (self->press_by - cy, self->press_bx - cx);
  double a1 = atan2 (self->cur_by - cy, self->cur_bx - cx);
  double delta = a1 - a0;

  if (self->modifiers & FLOW_CANVAS_MODIFIER_SHIFT)
    {
      /* Snap the result, for one shape, or the turn, for several, to 15°. */
      const double step = G_PI / 12;
      double base = self->origs->len == 1 ? g_array_index (self->origs, Orig, 0).rotation : 0;

      delta = round ((base + delta) / step) * step - base;
    }
  return delta;
}

/* What the drag in progress makes of @o. g->points is NULL when the
 * points stay as they are; otherwise the caller frees it. */
static void
compute_geom (FlowCanvas *self,
              const Orig *o,
              Geom       *g)
{
  g->x = o->x;
  g->y = o->y;
  g->w = o->w;
  g->h = o->h;
  g->rotation = o->rotation;
  g->points = NULL;
  g->n_points = 0;

  switch (self->drag)
    {
    case DRAG_MOVE:
      g->x += self->dx;
      g->y += self->dy;
      break;

    case DRAG_RESIZE:
      {
        Resize r;
        double cx = self->box_x + self->box_w / 2, cy = self->box_y + self->box_h / 2;
        double lx, ly, nx, ny;

        compute_resize (self, &r);
        /* The shape's centre in the frame, scaled, back in board space. */
        rotate_vec (o->x + o->w / 2 - cx, o->y + o->h / 2 - cy, -self->box_rot, &lx, &ly);
        lx *= r.flip_x ? -r.fx : r.fx;
        ly *= r.flip_y ? -r.fy : r.fy;
        rotate_vec (lx, ly, self->box_rot, &nx, &ny);
        g->w = o->w * r.fx;
        g->h = o->h * r.fy;
        g->x = r.cx + nx - g->w / 2;
        g->y = r.cy + ny - g->h / 2;
        if (o->n_points > 0)
          {
            g->points = g_new (FlowPoint, o->n_points);
            g->n_points = o->n_points;
            for (guint i = 0; i < o->n_points; i++)
              {
                g->points[i] = o->points[i];
                g->points[i].x = r.flip_x ? g->w - o->points[i].x * r.fx : o->points[i].x * r.fx;
                g->points[i].y = r.flip_y ? g->h - o->points[i].y * r.fy : o->points[i].y * r.fy;
              }
          }
      }
      break;

    case DRAG_ROTATE:
      {
        double delta = rotate_delta (self);
        double cx = self->box_x + self->box_w / 2, cy = self->box_y + self->box_h / 2;
        double nx, ny;

        rotate_vec (o->x + o->w / 2 - cx, o->y + o->h / 2 - cy, delta, &nx, &ny);
        g->x = cx + nx - o->w / 2;
        g->y = cy + ny - o->h / 2;
        g->rotation = normalize_angle (o->rotation + delta);
      }
      break;

    case DRAG_NONE:
    case DRAG_PENDING:
    case DRAG_RUBBER:
    case DRAG_CREATE:
    case DRAG_PEN:
    case DRAG_ERASE:
    case DRAG_PAN:
    default:
      break;
    }
}

/* ------------------------------------------------------------------------
 * Gestures
 * ------------------------------------------------------------------------ */

static void
reset_gesture (FlowCanvas *self)
{
  self->drag = DRAG_NONE;
  self->pending_kind = DRAG_NONE;
  self->handle = HANDLE_NONE;
  self->has_press_shape = FALSE;
  self->select_on_release = FALSE;
  self->moved = FALSE;
  self->dx = self->dy = 0;
  g_array_set_size (self->origs, 0);
  g_hash_table_remove_all (self->orig_index);
  g_array_set_size (self->pen_points, 0);
  g_array_set_size (self->erase_ids, 0);
  g_hash_table_remove_all (self->erase_set);
  g_array_set_size (self->trail, 0);
  g_array_set_size (self->guides, 0);
}

void
flow_canvas_cancel (FlowCanvas *self)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (self->drag == DRAG_NONE)
    return;
  reset_gesture (self);
  _flow_canvas_invalidate (self);
}

gboolean
flow_canvas_is_dragging (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  return self->drag != DRAG_NONE && self->drag != DRAG_PENDING;
}

static const FlowShape *
shape_at (FlowCanvas *self,
          double      bx,
          double      by)
{
  return flow_scene_hit_test (self->scene, bx, by, HIT_TOLERANCE / self->zoom);
}

static void
begin_frame_drag (FlowCanvas *self)
{
  Frame f;

  selection_frame (self, &f);
  self->box_x = f.cx - f.w / 2;
  self->box_y = f.cy - f.h / 2;
  self->box_w = f.w;
  self->box_h = f.h;
  self->box_rot = f.rotation;
}

static void
press_select (FlowCanvas          *self,
              double               x,
              double               y)
{
  gboolean editable = _flow_canvas_editable (self);
  gboolean shift = (self->modifiers & FLOW_CANVAS_MODIFIER_SHIFT) != 0;
  const FlowShape *shape;
  int handle = handle_at (self, x, y);

  if (handle != HANDLE_NONE)
    {
      origs_capture (self);
      if (self->origs->len == 0)
        return;
      begin_frame_drag (self);
      self->handle = handle;
      self->drag = handle == HANDLE_ROTATE ? DRAG_ROTATE : DRAG_RESIZE;
      self->cur_bx = self->press_bx;
      self->cur_by = self->press_by;
      return;
    }

  shape = shape_at (self, self->press_bx, self->press_by);
  self->drag = DRAG_PENDING;
  if (shape != NULL)
    {
      g_autoptr(GArray) unit = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
      gboolean alone = (self->modifiers & FLOW_CANVAS_MODIFIER_CTRL) != 0;

      collect_unit (self, shape, alone, unit);
      self->press_shape = shape->id;
      self->has_press_shape = TRUE;
      self->pending_kind = editable ? DRAG_MOVE : DRAG_RUBBER;

      if (shift)
        {
          gboolean was = selection_contains (self, &shape->id);

          if (was)
            {
              g_autoptr(GHashTable) drop = id_set_new ();

              for (guint i = 0; i < unit->len; i++)
                id_set_add (drop, &g_array_index (unit, FlowOpId, i));
              selection_filter (self, keep_not_in_set_cb, drop);
              self->pending_kind = DRAG_NONE;
            }
          else
            for (guint i = 0; i < unit->len; i++)
              selection_add (self, &g_array_index (unit, FlowOpId, i));
          _flow_canvas_selection_changed (self);
        }
      else if (!selection_contains (self, &shape->id))
        {
          _flow_canvas_select_ids (self, (const FlowOpId *) unit->data, unit->len);
          _flow_canvas_selection_changed (self);
        }
      else
        self->select_on_release = TRUE;
      if (!editable && self->pending_kind == DRAG_RUBBER)
        self->pending_kind = DRAG_NONE;
    }
  else
    {
      if (!shift && self->selection->len > 0)
        {
          selection_clear (self);
          _flow_canvas_selection_changed (self);
        }
      self->pending_kind = DRAG_RUBBER;
    }
}

static void
erase_segment (FlowCanvas *self,
               double      x1,
               double      y1,
               double      x2,
               double      y2)
{
  double r = ERASER_RADIUS / self->zoom;
  double len = hypot (x2 - x1, y2 - y1);
  guint steps = (guint) MIN (ceil (len / r), 10000);

  for (guint i = 0; i <= steps; i++)
    {
      double t = steps ? (double) i / steps : 0;
      const FlowShape *s = flow_scene_hit_test (self->scene, x1 + t * (x2 - x1), y1 + t * (y2 - y1), r);
      if (s == NULL || s->locked || g_hash_table_contains (self->erase_set, &s->id))
        continue;
      g_array_append_val (self->erase_ids, s->id);
      id_set_add (self->erase_set, &s->id);
    }
}

static void
trail_add (FlowCanvas *self,
           double      wx,
           double      wy)
{
  FlowPoint p = { wx, wy, 1 };

  g_array_append_val (self->trail, p);
  if (self->trail->len > TRAIL_LENGTH)
    g_array_remove_index (self->trail, 0);
}

static double
clean_pressure (double pressure)
{
  return isfinite (pressure) && pressure > 0 ? MIN (pressure, 1.0) : 1.0;
}

void
flow_canvas_press (FlowCanvas          *self,
                   double               x,
                   double               y,
                   double               pressure,
                   FlowCanvasModifiers  modifiers,
                   guint                button)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (self->drag != DRAG_NONE)
    reset_gesture (self);

  _flow_canvas_presence_pointer (self, x, y);
  /* The laser only draws its trail, from the pointer positions. */
  if (self->tool == FLOW_CANVAS_TOOL_LASER && button == 1)
    return;
  self->modifiers = modifiers;
  self->press_wx = self->cur_wx = x;
  self->press_wy = self->cur_wy = y;
  flow_canvas_widget_to_board (self, x, y, &self->press_bx, &self->press_by);
  self->cur_bx = self->press_bx;
  self->cur_by = self->press_by;

  if (button == 2 || self->tool == FLOW_CANVAS_TOOL_HAND)
    {
      self->drag = DRAG_PAN;
      return;
    }
  if (button != 1)
    return;

  if (self->tool == FLOW_CANVAS_TOOL_SELECT)
    {
      press_select (self, x, y);
      _flow_canvas_invalidate (self);
      return;
    }
  if (!_flow_canvas_editable (self))
    return;

  switch (self->tool)
    {
    case FLOW_CANVAS_TOOL_TEXT:
    case FLOW_CANVAS_TOOL_STICKY:
      {
        /* Clicking a text or note with its tool edits it. */
        const FlowShape *s = shape_at (self, self->press_bx, self->press_by);
        FlowShapeKind kind = self->tool == FLOW_CANVAS_TOOL_TEXT ? FLOW_SHAPE_TEXT : FLOW_SHAPE_STICKY;

        if (s != NULL && s->kind == kind && !s->locked)
          {
            FlowOpId id = s->id;

            _flow_canvas_select_ids (self, &id, 1);
            _flow_canvas_selection_changed (self);
            g_signal_emit (self, signals[EDIT_TEXT], 0, &id);
            return;
          }
      }
      G_GNUC_FALLTHROUGH;
    case FLOW_CANVAS_TOOL_RECT:
    case FLOW_CANVAS_TOOL_ELLIPSE:
    case FLOW_CANVAS_TOOL_DIAMOND:
    case FLOW_CANVAS_TOOL_LINE:
    case FLOW_CANVAS_TOOL_ARROW:
      self->drag = DRAG_CREATE;
      snap_point (self, &self->press_bx, &self->press_by);
      g_array_set_size (self->guides, 0);
      self->cur_bx = self->press_bx;
      self->cur_by = self->press_by;
      break;

    case FLOW_CANVAS_TOOL_PEN:
      {
        FlowPoint p = { self->press_bx, self->press_by, clean_pressure (pressure) };

        self->drag = DRAG_PEN;
        g_array_append_val (self->pen_points, p);
      }
      break;

    case FLOW_CANVAS_TOOL_ERASER:
      self->drag = DRAG_ERASE;
      trail_add (self, x, y);
      erase_segment (self, self->press_bx, self->press_by, self->press_bx, self->press_by);
      break;

    case FLOW_CANVAS_TOOL_IMAGE:
      g_signal_emit (self, signals[IMAGE_REQUESTED], 0, x, y);
      return;

    case FLOW_CANVAS_TOOL_SELECT:
    case FLOW_CANVAS_TOOL_HAND:
    case FLOW_CANVAS_TOOL_LASER:
    default:
      return;
    }
  _flow_canvas_invalidate (self);
}

void
flow_canvas_motion (FlowCanvas          *self,
                    double               x,
                    double               y,
                    double               pressure,
                    FlowCanvasModifiers  modifiers)
{
  double bx, by, last_wx, last_wy;

  g_return_if_fail (FLOW_IS_CANVAS (self));

  _flow_canvas_presence_pointer (self, x, y);
  if (self->drag == DRAG_NONE)
    return;

  last_wx = self->cur_wx;
  last_wy = self->cur_wy;
  self->modifiers = modifiers;
  self->cur_wx = x;
  self->cur_wy = y;
  if (hypot (x - self->press_wx, y - self->press_wy) >= DRAG_THRESHOLD)
    self->moved = TRUE;

  if (self->drag == DRAG_PAN)
    {
      flow_canvas_pan_by (self, x - last_wx, y - last_wy);
      return;
    }

  flow_canvas_widget_to_board (self, x, y, &bx, &by);

  if (self->drag == DRAG_PENDING)
    {
      if (!self->moved)
        return;
      self->select_on_release = FALSE;
      if (self->pending_kind == DRAG_MOVE)
        {
          FlowRect box;

          origs_capture (self);
          if (self->origs->len == 0)
            {
              self->drag = DRAG_NONE;
              return;
            }
          /* Snap the box of what moves (locked shapes stay). */
          box = (FlowRect) { 0 };
          for (guint i = 0; i < self->origs->len; i++)
            {
              const Orig *o = &g_array_index (self->origs, Orig, i);
              FlowRect r;

              geom_box (o->x, o->y, o->w, o->h, o->rotation, &r);
              rect_union (&box, &r, i == 0);
            }
          self->box_x = box.x;
          self->box_y = box.y;
          self->box_w = box.width;
          self->box_h = box.height;
          self->drag = DRAG_MOVE;
        }
      else if (self->pending_kind == DRAG_RUBBER)
        self->drag = DRAG_RUBBER;
      else
        {
          self->drag = DRAG_NONE;
          return;
        }
    }

  switch (self->drag)
    {
    case DRAG_MOVE:
      {
        double sdx, sdy;

        self->dx = bx - self->press_bx;
        self->dy = by - self->press_by;
        if (self->modifiers & FLOW_CANVAS_MODIFIER_SHIFT)
          {
            /* Shift keeps the move horizontal or vertical. */
            if (fabs (self->dx) > fabs (self->dy))
              self->dy = 0;
            else
              self->dx = 0;
          }
        snap_box (self, self->box_x + self->dx, self->box_y + self->dy, self->box_w, self->box_h, &sdx, &sdy);
        self->dx += sdx;
        self->dy += sdy;
      }
      break;

    case DRAG_RESIZE:
      self->cur_bx = bx;
      self->cur_by = by;
      if (self->box_rot == 0)
        snap_point (self, &self->cur_bx, &self->cur_by);
      break;

    case DRAG_CREATE:
      self->cur_bx = bx;
      self->cur_by = by;
      snap_point (self, &self->cur_bx, &self->cur_by);
      break;

    case DRAG_ROTATE:
    case DRAG_RUBBER:
      self->cur_bx = bx;
      self->cur_by = by;
      break;

    case DRAG_PEN:
      {
        const FlowPoint *last = &g_array_index (self->pen_points, FlowPoint, self->pen_points->len - 1);
        FlowPoint p = { bx, by, clean_pressure (pressure) };

        /* Drop points closer than a pixel to the last one. */
        if (hypot (bx - last->x, by - last->y) >= 1.0 / self->zoom)
          g_array_append_val (self->pen_points, p);
        self->cur_bx = bx;
        self->cur_by = by;
      }
      break;

    case DRAG_ERASE:
      erase_segment (self, self->cur_bx, self->cur_by, bx, by);
      trail_add (self, x, y);
      self->cur_bx = bx;
      self->cur_by = by;
      break;

    case DRAG_NONE:
    case DRAG_PENDING:
    case DRAG_PAN:
    default:
      break;
    }
  _flow_canvas_invalidate (self);
}

/* The box or segment a creation drag makes, with shift constraints. */
static void
creation_points (FlowCanvas *self,
                 double     *x1,
                 double     *y1,
                 double     *x2,
                 double     *y2)
{
  FlowShapeKind kind = FLOW_SHAPE_RECT;
  double dx = self->cur_bx - self->press_bx, dy = self->cur_by - self->press_by;

  tool_to_kind (self->tool, &kind);
  *x1 = self->press_bx;
  *y1 = self->press_by;

  if (!self->moved)
    {
      /* A click: default size. Texts start at the click, lines go right,
       * the rest is centred on it. */
      switch (kind)
        {
        case FLOW_SHAPE_TEXT:
          *x2 = *x1 + DEFAULT_TEXT_W;
          *y2 = *y1 + self->style.font_size * 1.4;
          break;
        case FLOW_SHAPE_LINE:
        case FLOW_SHAPE_ARROW:
          *x2 = *x1 + DEFAULT_SIZE;
          *y2 = *y1;
          break;
        case FLOW_SHAPE_STICKY:
          *x1 -= DEFAULT_STICKY / 2;
          *y1 -= DEFAULT_STICKY / 2;
          *x2 = *x1 + DEFAULT_STICKY;
          *y2 = *y1 + DEFAULT_STICKY;
          break;
        case FLOW_SHAPE_RECT:
        case FLOW_SHAPE_ELLIPSE:
        case FLOW_SHAPE_DIAMOND:
        case FLOW_SHAPE_STROKE:
        case FLOW_SHAPE_IMAGE:
        default:
          *x1 -= DEFAULT_SIZE / 2;
          *y1 -= DEFAULT_SIZE / 2;
          *x2 = *x1 + DEFAULT_SIZE;
          *y2 = *y1 + DEFAULT_SIZE;
          break;
        }
      return;
    }

  if (self->modifiers & FLOW_CANVAS_MODIFIER_SHIFT)
    {
      if (kind == FLOW_SHAPE_LINE || kind == FLOW_SHAPE_ARROW)
        {
          const double step = G_PI / 4;
          double len = hypot (dx, dy);
          double a = round (atan2 (dy, dx) / step) * step;

          dx = len * cos (a);
          dy = len * sin (a);
          /* Exact axes, not 1e-15 off. */
          if (fabs (dx) < 1e-9)
            dx = 0;
          if (fabs (dy) < 1e-9)
            dy = 0;
        }
      else
        {
          double side = MAX (fabs (dx), fabs (dy));

          dx = dx < 0 ? -side : side;
          dy = dy < 0 ? -side : side;
        }
    }
  *x2 = *x1 + dx;
  *y2 = *y1 + dy;
}

/* A temporary shape for previews; free with preview_shape_clear(). */
static void
creation_shape (FlowCanvas *self,
                FlowShape  *s)
{
  double x1, y1, x2, y2;

  memset (s, 0, sizeof *s);
  tool_to_kind (self->tool, &s->kind);
  creation_points (self, &x1, &y1, &x2, &y2);
  s->x = MIN (x1, x2);
  s->y = MIN (y1, y2);
  s->w = fabs (x2 - x1);
  s->h = fabs (y2 - y1);
  s->stroke = self->style.stroke;
  s->fill = self->style.fill;
  if (s->kind == FLOW_SHAPE_STICKY && (s->fill & 0xff) == 0)
    s->fill = FLOW_SCENE_DEFAULT_STICKY_FILL;
  s->stroke_width = self->style.stroke_width;
  s->opacity = self->style.opacity;
  s->font_size = self->style.font_size;
  if (kind_has_points (s->kind))
    {
      s->points = g_new (FlowPoint, 2);
      s->n_points = 2;
      s->points[0] = (FlowPoint) { x1 - s->x, y1 - s->y, 1 };
      s->points[1] = (FlowPoint) { x2 - s->x, y2 - s->y, 1 };
    }
  geom_box (s->x, s->y, s->w, s->h, 0, &s->bounds);
}

/* A bindable shape under a line end, not the line itself. */
static const FlowShape *
bind_target (FlowCanvas     *self,
             double          x,
             double          y,
             const FlowOpId *exclude)
{
  const FlowShape *s = shape_at (self, x, y);

  if (s == NULL || kind_has_points (s->kind) || (exclude && flow_op_id_equal (&s->id, exclude)))
    return NULL;
  return s;
}

static void
finish_creation (FlowCanvas     *self,
                 const FlowOpId *id)
{
  FlowOpId copy = *id;

  self->tool = FLOW_CANVAS_TOOL_SELECT;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOOL]);
  _flow_canvas_select_ids (self, &copy, 1);
  _flow_canvas_selection_changed (self);
}

static void
commit_create (FlowCanvas *self)
{
  g_autoptr(GError) error = NULL;
  FlowShape s;
  FlowOpId id;
  gboolean ok;

  creation_shape (self, &s);
  flow_doc_begin_change (self->doc);
  ok = flow_board_add_shape (self->doc, kind_to_string (s.kind), s.x, s.y, s.w, s.h, &id, &error);
  if (ok)
    {
      _flow_canvas_apply_style (self, &id, s.kind, &self->style, FLOW_CANVAS_STYLE_ALL);
      if (s.n_points > 0)
        {
          g_autoptr(FlowValue) v = flow_value_new_points (s.points, s.n_points);

          set_value (self, &id, "points", v);
        }
      if (s.kind == FLOW_SHAPE_ARROW)
        {
          const FlowShape *a = bind_target (self, s.x + s.points[0].x, s.y + s.points[0].y, NULL);
          const FlowShape *b = bind_target (self, s.x + s.points[1].x, s.y + s.points[1].y, NULL);

          if (a != NULL)
            {
              g_autoptr(FlowValue) v = flow_value_new_ref (&a->id);

              set_value (self, &id, "start", v);
            }
          if (b != NULL && (a == NULL || !flow_op_id_equal (&a->id, &b->id)))
            {
              g_autoptr(FlowValue) v = flow_value_new_ref (&b->id);

              set_value (self, &id, "end", v);
            }
        }
    }
  flow_doc_end_change (self->doc);
  g_free (s.points);

  if (!ok)
    {
      g_warning ("Could not add a shape: %s", error->message);
      return;
    }
  finish_creation (self, &id);
  if (s.kind == FLOW_SHAPE_TEXT || s.kind == FLOW_SHAPE_STICKY)
    g_signal_emit (self, signals[EDIT_TEXT], 0, &id);
}

/* Ramer–Douglas–Peucker: keeps[i] for the points that matter. */
static void
rdp (const FlowPoint *p,
     guint            first,
     guint            last,
     double           epsilon,
     gboolean        *keep)
{
  double dx = p[last].x - p[first].x, dy = p[last].y - p[first].y;
  double len = hypot (dx, dy);
  double best = -1;
  guint index = first;

  if (last <= first + 1)
    return;
  for (guint i = first + 1; i < last; i++)
    {
      double d = len > 0 ? fabs (dy * (p[i].x - p[first].x) - dx * (p[i].y - p[first].y)) / len
                         : hypot (p[i].x - p[first].x, p[i].y - p[first].y);
      /* Pressure changes matter too: keep where it changes a lot. */
      double dp = fabs (p[i].pressure - (p[first].pressure + p[last].pressure) / 2);

      d = MAX (d, dp > 0.2 ? epsilon * 2 : 0);
      if (d > best)
        {
          best = d;
          index = i;
        }
    }
  if (best > epsilon)
    {
      keep[index] = TRUE;
      rdp (p, first, index, epsilon, keep);
      rdp (p, index, last, epsilon, keep);
    }
}

static void
commit_pen (FlowCanvas *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (FlowPoint));
  g_autofree gboolean *keep = NULL;
  const FlowPoint *p = (const FlowPoint *) self->pen_points->data;
  guint n = self->pen_points->len;
  double x, y, w, h;
  FlowOpId id;
  gboolean ok;

  if (n == 0)
    return;
  keep = g_new0 (gboolean, n);
  keep[0] = keep[n - 1] = TRUE;
  rdp (p, 0, n - 1, 0.5 / self->zoom, keep);
  for (guint i = 0; i < n; i++)
    if (keep[i])
      g_array_append_val (points, p[i]);
  if (points->len == 1)
    g_array_append_val (points, p[0]);   /* a dot */

  points_box ((const FlowPoint *) points->data, points->len, &x, &y, &w, &h);
  flow_doc_begin_change (self->doc);
  ok = flow_board_add_shape (self->doc, "stroke", x, y, w, h, &id, &error);
  if (ok)
    {
      g_autoptr(FlowValue) v = NULL;

      for (guint i = 0; i < points->len; i++)
        {
          g_array_index (points, FlowPoint, i).x -= x;
          g_array_index (points, FlowPoint, i).y -= y;
        }
      v = flow_value_new_points ((const FlowPoint *) points->data, points->len);
      set_value (self, &id, "points", v);
      _flow_canvas_apply_style (self, &id, FLOW_SHAPE_STROKE, &self->style, FLOW_CANVAS_STYLE_ALL);
    }
  flow_doc_end_change (self->doc);
  if (!ok)
    g_warning ("Could not add a stroke: %s", error->message);
}

static void
commit_erase (FlowCanvas *self)
{
  g_autoptr(GError) error = NULL;

  if (self->erase_ids->len == 0)
    return;
  if (!flow_board_delete (self->doc, (const FlowOpId *) self->erase_ids->data, self->erase_ids->len, &error))
    g_warning ("Could not erase: %s", error->message);
}

static void
commit_rubber (FlowCanvas *self)
{
  g_autoptr(GPtrArray) shapes = g_ptr_array_new ();
  FlowRect r = {
    MIN (self->press_bx, self->cur_bx), MIN (self->press_by, self->cur_by),
    fabs (self->cur_bx - self->press_bx), fabs (self->cur_by - self->press_by),
  };

  if (!(self->modifiers & FLOW_CANVAS_MODIFIER_SHIFT))
    selection_clear (self);
  flow_scene_query (self->scene, &r, shapes);
  g_ptr_array_sort (shapes, shape_z_cmp);
  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowShape *s = g_ptr_array_index (shapes, i);
      FlowRect b;

      _flow_canvas_shape_box (s, &b);
      if (b.x >= r.x && b.y >= r.y && b.x + b.width <= r.x + r.width && b.y + b.height <= r.y + r.height)
        {
          g_autoptr(GArray) unit = g_array_new (FALSE, FALSE, sizeof (FlowOpId));

          collect_unit (self, s, FALSE, unit);
          for (guint k = 0; k < unit->len; k++)
            selection_add (self, &g_array_index (unit, FlowOpId, k));
        }
    }
  _flow_canvas_selection_changed (self);
}

/* Moves the bound ends of lines that are not transformed themselves by
 * the displacement of the shape they are bound to. */
static void
follow_bindings (FlowCanvas *self,
                 GHashTable *moved)   /* FlowOpId -> double[2] displacement */
{
  guint n = flow_scene_get_n_shapes (self->scene);

  for (guint z = 0; z < n; z++)
    {
      const FlowShape *s = flow_scene_get_nth (self->scene, z);
      const double *ds = NULL, *de = NULL;
      g_autofree FlowPoint *abs_points = NULL;

      if (s->n_points < 2 || (!s->has_start && !s->has_end) || g_hash_table_contains (moved, &s->id))
        continue;
      if (s->has_start)
        ds = g_hash_table_lookup (moved, &s->start);
      if (s->has_end)
        de = g_hash_table_lookup (moved, &s->end);
      if (ds == NULL && de == NULL)
        continue;
      abs_points = g_new (FlowPoint, s->n_points);
      for (guint i = 0; i < s->n_points; i++)
        {
          abs_points[i] = s->points[i];
          abs_points[i].x += s->x;
          abs_points[i].y += s->y;
        }
      if (ds != NULL)
        {
          abs_points[0].x += ds[0];
          abs_points[0].y += ds[1];
        }
      if (de != NULL)
        {
          abs_points[s->n_points - 1].x += de[0];
          abs_points[s->n_points - 1].y += de[1];
        }
      _flow_canvas_set_line_points (self, &s->id, abs_points, s->n_points);
    }
}

static void
commit_transform (FlowCanvas *self)
{
  g_autoptr(GHashTable) moved = g_hash_table_new_full (op_id_hash, op_id_equal, g_free, g_free);
  g_autoptr(FlowValue) null_value = flow_value_new_null ();

  if (self->drag == DRAG_MOVE && self->dx == 0 && self->dy == 0)
    return;

  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < self->origs->len; i++)
    {
      const Orig *o = &g_array_index (self->origs, Orig, i);
      const FlowShape *s = flow_scene_lookup (self->scene, &o->id);
      double *d;
      Geom g;

      if (s == NULL)
        continue;
      compute_geom (self, o, &g);
      if (g.x != o->x)
        _flow_canvas_set_number (self, &o->id, "x", g.x);
      if (g.y != o->y)
        _flow_canvas_set_number (self, &o->id, "y", g.y);
      if (g.w != o->w)
        _flow_canvas_set_number (self, &o->id, "w", g.w);
      if (g.h != o->h)
        _flow_canvas_set_number (self, &o->id, "h", g.h);
      if (g.rotation != o->rotation)
        _flow_canvas_set_number (self, &o->id, "rotation", g.rotation);
      if (g.points != NULL)
        {
          g_autoptr(FlowValue) v = flow_value_new_points (g.points, g.n_points);

          set_value (self, &o->id, "points", v);
          g_free (g.points);
        }

      d = g_new (double, 2);
      d[0] = g.x + g.w / 2 - (o->x + o->w / 2);
      d[1] = g.y + g.h / 2 - (o->y + o->h / 2);
      g_hash_table_insert (moved, g_memdup2 (&o->id, sizeof o->id), d);
    }

  /* A line dragged away from a shape it is bound to comes loose. */
  if (self->drag == DRAG_MOVE)
    for (guint i = 0; i < self->origs->len; i++)
      {
        const FlowShape *s = flow_scene_lookup (self->scene, &g_array_index (self->origs, Orig, i).id);

        if (s == NULL)
          continue;
        if (s->has_start && !g_hash_table_contains (moved, &s->start))
          set_value (self, &s->id, "start", null_value);
        if (s->has_end && !g_hash_table_contains (moved, &s->end))
          set_value (self, &s->id, "end", null_value);
      }

  follow_bindings (self, moved);
  flow_doc_end_change (self->doc);
}

void
flow_canvas_release (FlowCanvas          *self,
                     double               x,
                     double               y,
                     FlowCanvasModifiers  modifiers)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (self->drag == DRAG_NONE)
    return;
  if (x != self->cur_wx || y != self->cur_wy)
    flow_canvas_motion (self, x, y, 1.0, modifiers);
  if (self->drag == DRAG_NONE)
    return;

  switch (self->drag)
    {
    case DRAG_PENDING:
      if (self->select_on_release && self->has_press_shape)
        {
          const FlowShape *s = flow_scene_lookup (self->scene, &self->press_shape);

          if (s != NULL)
            {
              g_autoptr(GArray) unit = g_array_new (FALSE, FALSE, sizeof (FlowOpId));

              collect_unit (self, s, (self->modifiers & FLOW_CANVAS_MODIFIER_CTRL) != 0, unit);
              if (unit->len != self->selection->len)
                {
                  _flow_canvas_select_ids (self, (const FlowOpId *) unit->data, unit->len);
                  _flow_canvas_selection_changed (self);
                }
            }
        }
      break;
    case DRAG_MOVE:
    case DRAG_RESIZE:
    case DRAG_ROTATE:
      commit_transform (self);
      break;
    case DRAG_RUBBER:
      commit_rubber (self);
      break;
    case DRAG_CREATE:
      commit_create (self);
      break;
    case DRAG_PEN:
      commit_pen (self);
      break;
    case DRAG_ERASE:
      commit_erase (self);
      break;
    case DRAG_PAN:
    case DRAG_NONE:
    default:
      break;
    }
  reset_gesture (self);
  _flow_canvas_invalidate (self);
}

/* For a double click: edits the text or note at widget point (x, y). */
gboolean
flow_canvas_edit_at (FlowCanvas *self,
                     double      x,
                     double      y)
{
  const FlowShape *s;
  double bx, by;
  FlowOpId id;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  if (!_flow_canvas_editable (self))
    return FALSE;
  flow_canvas_widget_to_board (self, x, y, &bx, &by);
  s = shape_at (self, bx, by);
  if (s == NULL || s->locked || (s->kind != FLOW_SHAPE_TEXT && s->kind != FLOW_SHAPE_STICKY))
    return FALSE;
  id = s->id;
  _flow_canvas_select_ids (self, &id, 1);
  _flow_canvas_selection_changed (self);
  g_signal_emit (self, signals[EDIT_TEXT], 0, &id);
  return TRUE;
}

/* A CSS cursor name for the pointer at widget point (x, y). */
const char *
flow_canvas_get_cursor_name (FlowCanvas *self,
                             double      x,
                             double      y)
{
  static const char * const resize[4] = { "nwse-resize", "ns-resize", "nesw-resize", "ew-resize" };
  int handle;
  double bx, by;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), "default");

  switch (self->tool)
    {
    case FLOW_CANVAS_TOOL_HAND:
      return self->drag == DRAG_PAN ? "grabbing" : "grab";
    case FLOW_CANVAS_TOOL_TEXT:
      return "text";
    case FLOW_CANVAS_TOOL_RECT:
    case FLOW_CANVAS_TOOL_ELLIPSE:
    case FLOW_CANVAS_TOOL_DIAMOND:
    case FLOW_CANVAS_TOOL_LINE:
    case FLOW_CANVAS_TOOL_ARROW:
    case FLOW_CANVAS_TOOL_PEN:
    case FLOW_CANVAS_TOOL_STICKY:
    case FLOW_CANVAS_TOOL_IMAGE:
    case FLOW_CANVAS_TOOL_ERASER:
    case FLOW_CANVAS_TOOL_LASER:
      return "crosshair";
    case FLOW_CANVAS_TOOL_SELECT:
    default:
      break;
    }
  if (self->drag == DRAG_PAN)
    return "grabbing";
  handle = handle_at (self, x, y);
  if (handle == HANDLE_ROTATE)
    return "grab";
  if (handle != HANDLE_NONE)
    return resize[handle % 4];
  flow_canvas_widget_to_board (self, x, y, &bx, &by);
  if (_flow_canvas_editable (self) && shape_at (self, bx, by) != NULL)
    return "move";
  return "default";
}

/* ------------------------------------------------------------------------
 * Drawing
 * ------------------------------------------------------------------------ */

void
flow_canvas_set_accent_color (FlowCanvas *self,
                              guint32     rgba)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->accent = rgba;
  _flow_canvas_invalidate (self);
}

static gboolean
drag_has_preview (FlowCanvas *self)
{
  return ((self->drag == DRAG_MOVE || self->drag == DRAG_RESIZE || self->drag == DRAG_ROTATE) &&
          self->origs->len > 0) ||
         (self->drag == DRAG_ERASE && self->erase_ids->len > 0);
}

/* The shapes a drag previews elsewhere or fades: left out of the tiles. */
static GArray *
dup_hidden_ids (FlowCanvas *self)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));

  if (!drag_has_preview (self))
    return ids;
  for (guint i = 0; i < self->origs->len; i++)
    g_array_append_val (ids, g_array_index (self->origs, Orig, i).id);
  g_array_append_vals (ids, self->erase_ids->data, self->erase_ids->len);
  return ids;
}

/* Draws the shapes @hidden names over the tiles, bottom to top: dragged
 * shapes where the drag puts them, shapes about to be erased faded.
 * FIXME: they float above every other shape while previewed. */
static void
draw_preview (FlowCanvas *self,
              cairo_t    *cr,
              GArray     *hidden)
{
  g_autoptr(GPtrArray) shapes = g_ptr_array_new ();

  for (guint i = 0; i < hidden->len; i++)
    {
      const FlowShape *s = flow_scene_lookup (self->scene, &g_array_index (hidden, FlowOpId, i));

      if (s != NULL && !g_ptr_array_find (shapes, s, NULL))
        g_ptr_array_add (shapes, (gpointer) s);
    }
  g_ptr_array_sort (shapes, shape_z_cmp);

  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowShape *s = g_ptr_array_index (shapes, i);
      const Orig *o = origs_lookup (self, &s->id);
      FlowShape copy = *s;
      Geom g;

      if (o != NULL)
        {
          compute_geom (self, o, &g);
          copy.x = g.x;
          copy.y = g.y;
          copy.w = g.w;
          copy.h = g.h;
          copy.rotation = g.rotation;
          if (g.points != NULL)
            copy.points = g.points;
          geom_box (g.x, g.y, g.w, g.h, g.rotation, &copy.bounds);
        }
      else
        copy.opacity *= 0.25;
      flow_render_shape (cr, self->scene, &copy);
      if (o != NULL)
        g_free (g.points);
    }
}

static void
draw_in_progress (FlowCanvas *self,
                  cairo_t    *cr)
{
  FlowShape s;

  if (self->drag == DRAG_CREATE && self->moved)
    {
      creation_shape (self, &s);
      flow_render_shape (cr, self->scene, &s);
      g_free (s.points);
    }
  else if (self->drag == DRAG_PEN && self->pen_points->len > 0)
    {
      double x, y, w, h;

      memset (&s, 0, sizeof s);
      s.kind = FLOW_SHAPE_STROKE;
      points_box ((const FlowPoint *) self->pen_points->data, self->pen_points->len, &x, &y, &w, &h);
      s.x = x;
      s.y = y;
      s.w = w;
      s.h = h;
      s.stroke = self->style.stroke;
      s.stroke_width = self->style.stroke_width;
      s.opacity = self->style.opacity;
      s.font_size = self->style.font_size;
      s.n_points = self->pen_points->len;
      s.points = g_memdup2 (self->pen_points->data, s.n_points * sizeof (FlowPoint));
      for (guint i = 0; i < s.n_points; i++)
        {
          s.points[i].x -= x;
          s.points[i].y -= y;
        }
      geom_box (x, y, w, h, 0, &s.bounds);
      flow_render_shape (cr, self->scene, &s);
      g_free (s.points);
    }
}

/* The outline of a rotated box, in widget coordinates. */
static void
path_box (FlowCanvas *self,
          cairo_t    *cr,
          double      x,
          double      y,
          double      w,
          double      h,
          double      rotation)
{
  static const double corners[4][2] = { { -1, -1 }, { 1, -1 }, { 1, 1 }, { -1, 1 } };
  double cx = x + w / 2, cy = y + h / 2;

  for (guint i = 0; i < 4; i++)
    {
      double rx, ry, wx, wy;

      rotate_vec (corners[i][0] * w / 2, corners[i][1] * h / 2, rotation, &rx, &ry);
      flow_canvas_board_to_widget (self, cx + rx, cy + ry, &wx, &wy);
      if (i == 0)
        cairo_move_to (cr, wx, wy);
      else
        cairo_line_to (cr, wx, wy);
    }
  cairo_close_path (cr);
}

static void
draw_selection (FlowCanvas *self,
                cairo_t    *cr)
{
  gboolean transforming = drag_has_preview (self) && self->drag != DRAG_ERASE;
  Frame f;

  cairo_set_line_width (cr, 1);
  flow_render_set_source_color (cr, self->accent, 1);
  for (guint i = 0; i < self->selection->len; i++)
    {
      const FlowOpId *id = &g_array_index (self->selection, FlowOpId, i);
      const FlowShape *s = flow_scene_lookup (self->scene, id);
      const Orig *o = transforming ? origs_lookup (self, id) : NULL;

      if (s == NULL)
        continue;
      if (o != NULL)
        {
          Geom g;

          compute_geom (self, o, &g);
          path_box (self, cr, g.x, g.y, g.w, g.h, g.rotation);
          g_free (g.points);
        }
      else
        path_box (self, cr, s->x, s->y, s->w, s->h, s->rotation);
      cairo_stroke (cr);
    }

  if (transforming || self->drag == DRAG_RUBBER || !selection_frame (self, &f) ||
      !_flow_canvas_editable (self) || self->tool != FLOW_CANVAS_TOOL_SELECT || selection_is_locked (self))
    return;

  if (self->selection->len > 1)
    {
      static const double dash[] = { 4, 3 };

      cairo_save (cr);
      cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
      path_box (self, cr, f.cx - f.w / 2, f.cy - f.h / 2, f.w, f.h, 0);
      cairo_stroke (cr);
      cairo_restore (cr);
    }

  for (int i = 0; i <= HANDLE_ROTATE; i++)
    {
      double hx, hy;

      handle_position (self, &f, i, &hx, &hy);
      if (i == HANDLE_ROTATE)
        cairo_arc (cr, hx, hy, HANDLE_SIZE / 2, 0, 2 * G_PI);
      else
        cairo_rectangle (cr, hx - HANDLE_SIZE / 2, hy - HANDLE_SIZE / 2, HANDLE_SIZE, HANDLE_SIZE);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_fill_preserve (cr);
      flow_render_set_source_color (cr, self->accent, 1);
      cairo_stroke (cr);
    }
}

static void
draw_overlays (FlowCanvas *self,
               cairo_t    *cr)
{
  draw_selection (self, cr);

  if (self->drag == DRAG_RUBBER)
    {
      double x1, y1, x2, y2;

      flow_canvas_board_to_widget (self, self->press_bx, self->press_by, &x1, &y1);
      flow_canvas_board_to_widget (self, self->cur_bx, self->cur_by, &x2, &y2);
      cairo_rectangle (cr, MIN (x1, x2) + 0.5, MIN (y1, y2) + 0.5, fabs (x2 - x1), fabs (y2 - y1));
      flow_render_set_source_color (cr, self->accent, 0.12);
      cairo_fill_preserve (cr);
      flow_render_set_source_color (cr, self->accent, 1);
      cairo_set_line_width (cr, 1);
      cairo_stroke (cr);
    }

  if (self->guides->len > 0 && self->drag != DRAG_NONE)
    {
      cairo_set_source_rgba (cr, 0.88, 0.11, 0.14, 1);  /* GNOME red 3 */
      cairo_set_line_width (cr, 1);
      for (guint i = 0; i < self->guides->len; i++)
        {
          const FlowCanvasGuide *g = &g_array_index (self->guides, FlowCanvasGuide, i);
          double x1, y1, x2, y2;

          flow_canvas_board_to_widget (self, g->x1, g->y1, &x1, &y1);
          flow_canvas_board_to_widget (self, g->x2, g->y2, &x2, &y2);
          cairo_move_to (cr, round (x1) + 0.5, round (y1) + 0.5);
          cairo_line_to (cr, round (x2) + 0.5, round (y2) + 0.5);
        }
      cairo_stroke (cr);
    }

  if (self->drag == DRAG_ERASE && self->trail->len > 0)
    {
      cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      for (guint i = 1; i < self->trail->len; i++)
        {
          const FlowPoint *a = &g_array_index (self->trail, FlowPoint, i - 1);
          const FlowPoint *b = &g_array_index (self->trail, FlowPoint, i);
          double t = (double) i / self->trail->len;

          cairo_set_line_width (cr, ERASER_RADIUS * (0.5 + t));
          cairo_set_source_rgba (cr, 0.5, 0.5, 0.5, 0.2 + 0.5 * t);
          cairo_move_to (cr, a->x, a->y);
          cairo_line_to (cr, b->x, b->y);
          cairo_stroke (cr);
        }
    }
}

static gboolean
redraw_cb (gpointer data)
{
  FlowCanvas *self = data;

  self->redraw_id = 0;
  _flow_canvas_invalidate (self);
  return G_SOURCE_REMOVE;
}

static gboolean
settle_cb (gpointer data)
{
  FlowCanvas *self = data;

  self->settle_id = 0;
  _flow_canvas_invalidate (self);
  return G_SOURCE_REMOVE;
}

/* How long after the last zoom change frames keep scaling cached tiles
 * instead of drawing new ones (0, the default: never; the board widget
 * turns it on, tests compare exact frames). */
void
_flow_canvas_set_zoom_settle (FlowCanvas *self,
                              gint64      settle_us)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->zoom_settle_us = MAX (settle_us, 0);
}

/**
 * flow_canvas_draw:
 * @self: a canvas
 * @cr: a cairo context whose user space is the widget's pixels
 *
 * Draws the visible part of the board from the tile cache, the drag in
 * progress previewed over it, then the selection, handles, rubber band,
 * snap guides and eraser trail. The board sits on whole device pixels
 * (up to half a pixel from the exact offset); everything drawn over it is
 * shifted alike. When the tiles could not all be drawn within the budget,
 * "invalidate" is emitted again from an idle.
 */
void
flow_canvas_draw (FlowCanvas *self,
                  cairo_t    *cr)
{
  g_autoptr(GArray) hidden = NULL;
  double sf, zoom, dx, dy;
  gboolean settling;

  g_return_if_fail (FLOW_IS_CANVAS (self));
  g_return_if_fail (cr != NULL);

  sf = self->scale_factor;
  zoom = self->zoom * sf;
  hidden = dup_hidden_ids (self);

  /* While the zoom keeps changing (a pinch, Ctrl+scroll), frames scale the
   * tiles they have; the exact ones are drawn once it settles. */
  settling = self->zoom_settle_us > 0 &&
             g_get_monotonic_time () - self->zoom_changed_at < self->zoom_settle_us;
  flow_tile_cache_set_frozen (self->tiles, settling);
  cairo_save (cr);
  cairo_scale (cr, 1 / sf, 1 / sf);
  self->frame_complete =
    flow_tile_cache_draw (self->tiles, cr, zoom, self->offset_x, self->offset_y,
                          (int) ceil (self->width * sf), (int) ceil (self->height * sf),
                          self->tile_budget, (const FlowOpId *) (gpointer) hidden->data,
                          hidden->len);
  cairo_restore (cr);
  flow_tile_cache_set_frozen (self->tiles, FALSE);
  dx = (self->offset_x * zoom - round (self->offset_x * zoom)) / sf;
  dy = (self->offset_y * zoom - round (self->offset_y * zoom)) / sf;

  cairo_save (cr);
  cairo_translate (cr, dx, dy);
  cairo_save (cr);
  cairo_scale (cr, self->zoom, self->zoom);
  cairo_translate (cr, -self->offset_x, -self->offset_y);
  draw_preview (self, cr, hidden);
  draw_in_progress (self, cr);
  cairo_restore (cr);
  draw_overlays (self, cr);
  cairo_restore (cr);

  if (settling)
    {
      if (self->settle_id == 0)
        self->settle_id = g_timeout_add (self->zoom_settle_us / 1000 + 1, settle_cb, self);
    }
  else if (!self->frame_complete && self->redraw_id == 0)
    self->redraw_id = g_idle_add (redraw_cb, self);
}

/* Device pixels per widget pixel: tiles are drawn at device resolution. */
void
_flow_canvas_set_scale_factor (FlowCanvas *self,
                               int         scale_factor)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  scale_factor = MAX (scale_factor, 1);
  if (scale_factor == self->scale_factor)
    return;
  self->scale_factor = scale_factor;
  _flow_canvas_invalidate (self);
}

/* For tests: what a frame may spend drawing tiles (negative: no limit). */
void
_flow_canvas_set_tile_budget (FlowCanvas *self,
                              gint64      budget_us)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->tile_budget = budget_us;
}

/* Whether the last flow_canvas_draw() drew every tile it showed. */
gboolean
_flow_canvas_get_frame_complete (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), TRUE);

  return self->frame_complete;
}

FlowTileCache *
_flow_canvas_get_tile_cache (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  return self->tiles;
}
