/* flow-scene.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The scene keeps three views of the live shapes of a board:
 *
 *  - `shapes`: every FlowSceneShape, sorted exactly like core sorts the
 *    board, by (z key, shape id) with strcmp on the keys and an unset key
 *    as "". A shape's `z` is its index here. Creating, deleting or
 *    restacking a few shapes costs a binary search and a memmove each plus
 *    renumbering the tail; a large batch re-sorts once.
 *  - `by_id`: id -> shape, for updates and lookups. Shape records are
 *    updated in place, so a FlowShape pointer stays valid until the shape
 *    is deleted or the scene rebuilt.
 *  - a uniform grid of CELL_SIZE board units hashed by cell, for culling
 *    and hit-testing. A shape sits in every cell its bounds touch. Shapes
 *    spanning more than MAX_CELLS cells go in `big`, which every query
 *    scans. A query therefore touches the shapes of the cells it covers,
 *    about the visible ones, and never walks the whole board unless the
 *    viewport covers more cells than exist.
 *
 * Bound arrows depend on the shapes they point at, so the scene keeps the
 * list of arrows with a binding and refreshes those whose target changed.
 *
 * Hit-testing semantics: closed shapes (rect, ellipse, diamond), text,
 * sticky notes and images hit anywhere inside their outline, filled or not,
 * plus the tolerance and half the stroke width around it. Lines, arrows and
 * freehand strokes hit within tolerance + half their width of the polyline.
 */

#define G_LOG_DOMAIN "flow-scene"

#include "config.h"

#include <math.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "flow-scene-private.h"

#define CELL_SIZE 256.0
#define MAX_CELLS 256
#define RESORT_THRESHOLD 32
#define ARROW_GAP 4.0

typedef struct
{
  gint64     key;
  GPtrArray *items;
} Cell;

struct _FlowScene
{
  FlowDoc    *doc;
  GPtrArray  *shapes;   /* FlowSceneShape*, owned, z order */
  GHashTable *by_id;    /* &pub.id -> FlowSceneShape* */
  GHashTable *cells;    /* &Cell.key -> Cell*, owned */
  GPtrArray  *big;      /* FlowSceneShape* */
  GPtrArray  *bound;    /* FlowSceneShape*, arrows with bindings */
  guint       stamp;
  guint       n_examined;
  PangoContext *pango;  /* the renderer's, for cached layouts; lazy */
  FlowSceneDamageFunc damage_func;
  gpointer    damage_data;
};

/* ------------------------------------------------------------------------
 * Private functions
 * ------------------------------------------------------------------------ */

static guint
op_id_hash (gconstpointer p)
{
  const FlowOpId *id = p;
  guint64 h = id->replica * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15) ^ id->seq;

  return (guint) (h ^ (h >> 32));
}

/* Cell keys pack (cx, cy) into 64 bits; g_int64_hash keeps only the low
 * half (cy), which piles a whole row of cells into one bucket chain. */
static guint
cell_hash (gconstpointer p)
{
  guint64 h = *(const guint64 *) p * G_GUINT64_CONSTANT (0x9e3779b97f4a7c15);

  return (guint) (h >> 32);
}

static gboolean
op_id_equal (gconstpointer a,
             gconstpointer b)
{
  return flow_op_id_equal (a, b);
}

static void
cell_free (gpointer data)
{
  Cell *cell = data;

  g_ptr_array_unref (cell->items);
  g_free (cell);
}

static void
scene_shape_clear (FlowSceneShape *s)
{
  g_clear_pointer (&s->pub.text, g_free);
  g_clear_pointer (&s->pub.points, g_free);
  g_clear_pointer (&s->pub.group, g_free);
  g_clear_pointer (&s->pub.image, g_bytes_unref);
  g_clear_pointer (&s->pub.mime_type, g_free);
  g_clear_pointer (&s->zkey, g_free);
  g_clear_pointer (&s->surface, cairo_surface_destroy);
  g_clear_object (&s->layout);
  g_clear_pointer (&s->world, g_free);
  s->n_world = 0;
  s->image_tried = FALSE;
}

static void
scene_shape_free (gpointer data)
{
  FlowSceneShape *s = data;

  scene_shape_clear (s);
  g_free (s);
}

static gint
scene_shape_cmp (const FlowSceneShape *a,
                 const FlowSceneShape *b)
{
  int r = strcmp (a->zkey, b->zkey);

  return r != 0 ? r : flow_op_id_compare (&a->pub.id, &b->pub.id);
}

static gint
scene_shape_cmp_indirect (gconstpointer a,
                          gconstpointer b)
{
  return scene_shape_cmp (*(FlowSceneShape * const *) a, *(FlowSceneShape * const *) b);
}

static gboolean
kind_from_string (const char    *str,
                  FlowShapeKind *kind)
{
  static const char * const names[] = {
    "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text", "sticky", "image",
  };

  if (str == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (strcmp (str, names[i]) == 0)
      {
        *kind = (FlowShapeKind) i;
        return TRUE;
      }
  return FALSE;
}

/* The value of @key when it is set and of @type, else NULL. */
static FlowValue *
get_typed (FlowDoc        *doc,
           const FlowOpId *id,
           const char     *key,
           FlowValueType   type)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  return v != NULL && flow_value_get_value_type (v) == type ? v : NULL;
}

static double
get_number (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key,
            double          fallback)
{
  FlowValue *v = get_typed (doc, id, key, FLOW_VALUE_NUMBER);

  return v ? flow_value_get_number (v) : fallback;
}

static guint32
get_color (FlowDoc        *doc,
           const FlowOpId *id,
           const char     *key,
           guint32         fallback)
{
  FlowValue *v = get_typed (doc, id, key, FLOW_VALUE_COLOR);

  return v ? flow_value_get_color (v) : fallback;
}

static char *
dup_string (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  if (v == NULL || flow_value_get_value_type (v) != FLOW_VALUE_STRING)
    return NULL;
  return g_strdup (flow_value_get_string (v));
}

static gboolean
get_ref (FlowDoc        *doc,
         const FlowOpId *id,
         const char     *key,
         FlowOpId       *out)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  if (v == NULL || flow_value_get_value_type (v) != FLOW_VALUE_REF)
    return FALSE;
  *out = *flow_value_get_ref (v);
  return TRUE;
}

static gboolean
get_bool (FlowDoc        *doc,
          const FlowOpId *id,
          const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  return v != NULL && flow_value_get_value_type (v) == FLOW_VALUE_BOOL && flow_value_get_bool (v);
}

static void
load_points (FlowSceneShape *s,
             FlowDoc        *doc)
{
  FlowValue *v = flow_doc_get_property (doc, &s->pub.id, "points");
  const FlowPoint *p;
  guint n;

  if (v == NULL || flow_value_get_value_type (v) != FLOW_VALUE_POINTS)
    return;
  p = flow_value_get_points (v, &n);
  if (n == 0)
    return;
  s->pub.points = g_memdup2 (p, sizeof (FlowPoint) * n);
  s->pub.n_points = n;
}

static void
load_image (FlowSceneShape *s,
            FlowDoc        *doc)
{
  FlowValue *v = flow_doc_get_property (doc, &s->pub.id, "image");

  if (v != NULL && flow_value_get_value_type (v) == FLOW_VALUE_BYTES)
    s->pub.image = g_bytes_ref (flow_value_get_bytes (v));
  s->pub.mime_type = dup_string (doc, &s->pub.id, "mime_type");
}

/* Reads every property of @s out of the doc. Returns whether the z key
 * changed. The decoded image survives when the bytes did not change, the
 * text layout when the text, font size, width and kind did not. */
static gboolean
load_shape (FlowSceneShape *s,
            FlowDoc        *doc,
            FlowShapeKind   kind)
{
  const FlowOpId *id = &s->pub.id;
  g_autoptr(GBytes) old_image = s->pub.image ? g_bytes_ref (s->pub.image) : NULL;
  cairo_surface_t *surface = g_steal_pointer (&s->surface);
  gboolean image_tried = s->image_tried;
  g_autofree char *old_key = g_steal_pointer (&s->zkey);
  g_autoptr(PangoLayout) layout = g_steal_pointer (&s->layout);
  g_autofree char *old_text = g_steal_pointer (&s->pub.text);
  FlowShapeKind old_kind = s->pub.kind;
  double old_font_size = s->pub.font_size, old_w = s->pub.w;
  gboolean z_changed;

  scene_shape_clear (s);
  s->pub.kind = kind;
  s->pub.x = get_number (doc, id, "x", 0);
  s->pub.y = get_number (doc, id, "y", 0);
  s->pub.w = get_number (doc, id, "w", 0);
  s->pub.h = get_number (doc, id, "h", 0);
  s->pub.rotation = get_number (doc, id, "rotation", 0);
  s->pub.stroke = get_color (doc, id, "stroke", FLOW_SCENE_DEFAULT_STROKE);
  s->pub.fill = get_color (doc, id, "fill", kind == FLOW_SHAPE_STICKY ?
                           FLOW_SCENE_DEFAULT_STICKY_FILL : FLOW_SCENE_DEFAULT_FILL);
  s->pub.stroke_width = get_number (doc, id, "stroke_width", FLOW_SCENE_DEFAULT_STROKE_WIDTH);
  s->pub.opacity = CLAMP (get_number (doc, id, "opacity", 1.0), 0.0, 1.0);
  s->pub.font_size = get_number (doc, id, "font_size", FLOW_SCENE_DEFAULT_FONT_SIZE);
  s->pub.text = dup_string (doc, id, "text");
  s->pub.n_points = 0;
  load_points (s, doc);
  s->pub.has_start = get_ref (doc, id, "start", &s->pub.start);
  s->pub.has_end = get_ref (doc, id, "end", &s->pub.end);
  s->pub.group = dup_string (doc, id, "group");
  s->pub.locked = get_bool (doc, id, "locked");
  load_image (s, doc);
  s->zkey = dup_string (doc, id, "z");
  if (s->zkey == NULL)
    s->zkey = g_strdup ("");

  if (s->pub.image != NULL && old_image != NULL && g_bytes_equal (s->pub.image, old_image))
    {
      s->surface = surface;
      s->image_tried = image_tried;
    }
  else if (surface != NULL)
    cairo_surface_destroy (surface);
  if (layout != NULL && kind == old_kind && s->pub.font_size == old_font_size &&
      s->pub.w == old_w && g_strcmp0 (s->pub.text, old_text) == 0)
    s->layout = g_steal_pointer (&layout);

  z_changed = old_key == NULL || strcmp (old_key, s->zkey) != 0;
  return z_changed;
}

static void
rotate_about (double  cx,
              double  cy,
              double  angle,
              double *x,
              double *y)
{
  double c = cos (angle), s = sin (angle);
  double dx = *x - cx, dy = *y - cy;

  *x = cx + dx * c - dy * s;
  *y = cy + dx * s + dy * c;
}

static gboolean
is_polyline (const FlowShape *shape)
{
  return shape->kind == FLOW_SHAPE_LINE || shape->kind == FLOW_SHAPE_ARROW ||
         shape->kind == FLOW_SHAPE_STROKE;
}

static void
shape_centre (const FlowShape *shape,
              double          *cx,
              double          *cy)
{
  *cx = shape->x + shape->w / 2;
  *cy = shape->y + shape->h / 2;
}

/* The point where the ray from @target's centre towards (@tx, @ty) leaves
 * its outline, pushed ARROW_GAP further out. */
static void
outline_point (const FlowShape *target,
               double           tx,
               double           ty,
               double          *ox,
               double          *oy)
{
  double cx, cy, dx, dy, a, b, t, len;

  shape_centre (target, &cx, &cy);
  rotate_about (cx, cy, -target->rotation, &tx, &ty);
  dx = tx - cx;
  dy = ty - cy;
  a = MAX (target->w / 2, 0.5);
  b = MAX (target->h / 2, 0.5);
  len = hypot (dx, dy);
  if (len < 1e-9)
    {
      *ox = cx;
      *oy = cy;
      return;
    }
  switch (target->kind)
    {
    case FLOW_SHAPE_ELLIPSE:
      t = 1.0 / sqrt ((dx * dx) / (a * a) + (dy * dy) / (b * b));
      break;
    case FLOW_SHAPE_DIAMOND:
      t = 1.0 / (fabs (dx) / a + fabs (dy) / b);
      break;
    case FLOW_SHAPE_RECT:
    case FLOW_SHAPE_LINE:
    case FLOW_SHAPE_ARROW:
    case FLOW_SHAPE_STROKE:
    case FLOW_SHAPE_TEXT:
    case FLOW_SHAPE_STICKY:
    case FLOW_SHAPE_IMAGE:
    default:
      t = MIN (fabs (dx) > 1e-9 ? a / fabs (dx) : G_MAXDOUBLE,
               fabs (dy) > 1e-9 ? b / fabs (dy) : G_MAXDOUBLE);
      break;
    }
  t += (ARROW_GAP + target->stroke_width / 2) / len;
  /* A far end inside the target: stay at the outline rather than cross. */
  *ox = cx + dx * t;
  *oy = cy + dy * t;
  rotate_about (cx, cy, target->rotation, ox, oy);
}

static const FlowShape *
binding_target (FlowScene       *scene,
                const FlowShape *shape,
                gboolean         start)
{
  const FlowShape *t;

  if (start ? !shape->has_start : !shape->has_end)
    return NULL;
  t = flow_scene_lookup (scene, start ? &shape->start : &shape->end);
  /* An arrow bound to itself or to another arrow would recurse. */
  if (t == NULL || t == shape || t->kind == FLOW_SHAPE_ARROW)
    return NULL;
  return t;
}

static void
grid_range (const FlowRect *r,
            gint           *cx0,
            gint           *cy0,
            gint           *cx1,
            gint           *cy1)
{
  *cx0 = (gint) floor (CLAMP (r->x, -1e9, 1e9) / CELL_SIZE);
  *cy0 = (gint) floor (CLAMP (r->y, -1e9, 1e9) / CELL_SIZE);
  *cx1 = (gint) floor (CLAMP (r->x + r->width, -1e9, 1e9) / CELL_SIZE);
  *cy1 = (gint) floor (CLAMP (r->y + r->height, -1e9, 1e9) / CELL_SIZE);
}

static gint64
cell_key (gint cx,
          gint cy)
{
  return (gint64) (((guint64) (guint32) cx << 32) | (guint32) cy);
}

static void
grid_remove (FlowScene      *scene,
             FlowSceneShape *s)
{
  if (!s->in_grid)
    return;
  if (s->big)
    g_ptr_array_remove_fast (scene->big, s);
  else
    for (gint cx = s->cx0; cx <= s->cx1; cx++)
      for (gint cy = s->cy0; cy <= s->cy1; cy++)
        {
          gint64 key = cell_key (cx, cy);
          Cell *cell = g_hash_table_lookup (scene->cells, &key);

          if (cell == NULL)
            continue;
          g_ptr_array_remove_fast (cell->items, s);
          if (cell->items->len == 0)
            g_hash_table_remove (scene->cells, &key);
        }
  s->in_grid = FALSE;
}

static void
grid_insert (FlowScene      *scene,
             FlowSceneShape *s)
{
  grid_range (&s->paint, &s->cx0, &s->cy0, &s->cx1, &s->cy1);
  s->big = (gint64) (s->cx1 - s->cx0 + 1) * (s->cy1 - s->cy0 + 1) > MAX_CELLS;
  s->in_grid = TRUE;
  if (s->big)
    {
      g_ptr_array_add (scene->big, s);
      return;
    }
  for (gint cx = s->cx0; cx <= s->cx1; cx++)
    for (gint cy = s->cy0; cy <= s->cy1; cy++)
      {
        gint64 key = cell_key (cx, cy);
        Cell *cell = g_hash_table_lookup (scene->cells, &key);

        if (cell == NULL)
          {
            cell = g_new0 (Cell, 1);
            cell->key = key;
            cell->items = g_ptr_array_new ();
            g_hash_table_insert (scene->cells, &cell->key, cell);
          }
        g_ptr_array_add (cell->items, s);
      }
}

static void
bounds_of_points (const FlowScenePoint *p,
                  guint                 n,
                  double                pad,
                  FlowRect             *r)
{
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;

  for (guint i = 0; i < n; i++)
    {
      x0 = MIN (x0, p[i].x);
      y0 = MIN (y0, p[i].y);
      x1 = MAX (x1, p[i].x);
      y1 = MAX (y1, p[i].y);
    }
  r->x = x0 - pad;
  r->y = y0 - pad;
  r->width = x1 - x0 + 2 * pad;
  r->height = y1 - y0 + 2 * pad;
}

/* Head length of an arrow, shared with the renderer via the bounds pad. */
static double
arrow_pad (const FlowShape *shape)
{
  return MAX (12.0, shape->stroke_width * 4) + shape->stroke_width;
}

static void
compute_bounds (FlowScene      *scene,
                FlowSceneShape *s)
{
  FlowShape *shape = &s->pub;
  double pad = shape->stroke_width / 2 + 1;

  g_clear_pointer (&s->world, g_free);
  s->n_world = 0;
  if (is_polyline (shape) && shape->n_points > 0)
    {
      /* Kept for the renderer: this runs whenever the shape or a shape it
       * is bound to changes. */
      s->world = flow_scene_dup_world_points (scene, shape, &s->n_world);
      if (shape->kind == FLOW_SHAPE_ARROW)
        pad = arrow_pad (shape);
      else if (shape->kind == FLOW_SHAPE_STROKE)
        pad = shape->stroke_width + 1;    /* pressure can widen to 1.5x */
      bounds_of_points (s->world, s->n_world, pad, &shape->bounds);
      return;
    }
  else
    {
      FlowScenePoint c[4] = {
        { shape->x, shape->y, 0 }, { shape->x + shape->w, shape->y, 0 },
        { shape->x + shape->w, shape->y + shape->h, 0 }, { shape->x, shape->y + shape->h, 0 },
      };
      double cx, cy;

      shape_centre (shape, &cx, &cy);
      for (guint i = 0; i < 4; i++)
        rotate_about (cx, cy, shape->rotation, &c[i].x, &c[i].y);
      if (shape->kind == FLOW_SHAPE_STICKY)
        pad += 14;    /* the soft shadow */
      bounds_of_points (c, 4, pad, &shape->bounds);
    }
}

static void query (FlowScene      *scene,
                   const FlowRect *rect,
                   gboolean        paint,
                   GPtrArray      *shapes);

static void
damage (FlowScene      *scene,
        const FlowRect *rect)
{
  if (scene->damage_func != NULL)
    scene->damage_func (scene, rect, scene->damage_data);
}

/* Recomputes the bounds of @s (forgetting what it was found to paint
 * beyond them) and reports the old and the new paint area as damage. */
static void
reindex (FlowScene      *scene,
         FlowSceneShape *s)
{
  if (s->in_grid)
    damage (scene, &s->paint);
  grid_remove (scene, s);
  compute_bounds (scene, s);
  s->paint = s->pub.bounds;
  grid_insert (scene, s);
  damage (scene, &s->paint);
}

static void
renumber (FlowScene *scene,
          guint      from)
{
  for (guint i = from; i < scene->shapes->len; i++)
    ((FlowSceneShape *) g_ptr_array_index (scene->shapes, i))->pub.z = i;
}

static guint
order_search (FlowScene      *scene,
              FlowSceneShape *s)
{
  guint lo = 0, hi = scene->shapes->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (scene_shape_cmp (g_ptr_array_index (scene->shapes, mid), s) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
set_bound (FlowScene      *scene,
           FlowSceneShape *s)
{
  gboolean bound = s->pub.kind == FLOW_SHAPE_ARROW && (s->pub.has_start || s->pub.has_end);

  if (bound == s->bound)
    return;
  if (bound)
    g_ptr_array_add (scene->bound, s);
  else
    g_ptr_array_remove_fast (scene->bound, s);
  s->bound = bound;
}

static void
remove_shape (FlowScene      *scene,
              FlowSceneShape *s)
{
  grid_remove (scene, s);
  if (s->bound)
    g_ptr_array_remove_fast (scene->bound, s);
  g_hash_table_remove (scene->by_id, &s->pub.id);
}

static gboolean
is_live (FlowScene      *scene,
         const FlowOpId *id,
         FlowShapeKind  *kind)
{
  return flow_doc_has_entity (scene->doc, id) && !flow_doc_entity_is_deleted (scene->doc, id) &&
         kind_from_string (flow_doc_get_entity_kind (scene->doc, id), kind);
}

static void
clear_all (FlowScene *scene)
{
  g_hash_table_remove_all (scene->by_id);
  g_hash_table_remove_all (scene->cells);
  g_ptr_array_set_size (scene->big, 0);
  g_ptr_array_set_size (scene->bound, 0);
  g_ptr_array_set_size (scene->shapes, 0);
}

static gboolean
rect_intersects (const FlowRect *a,
                 const FlowRect *b)
{
  return a->x <= b->x + b->width && b->x <= a->x + a->width &&
         a->y <= b->y + b->height && b->y <= a->y + a->height;
}

/* A GCompareFunc for arrays of FlowShape pointers: bottom first. */
gint
flow_shape_z_cmp (gconstpointer a,
                  gconstpointer b)
{
  guint za = (*(const FlowShape * const *) a)->z;
  guint zb = (*(const FlowShape * const *) b)->z;

  return za < zb ? -1 : za > zb;
}

static void
collect (FlowScene      *scene,
         GPtrArray      *items,
         const FlowRect *rect,
         gboolean        paint,
         GPtrArray      *out)
{
  for (guint i = 0; i < items->len; i++)
    {
      FlowSceneShape *s = g_ptr_array_index (items, i);

      if (s->stamp == scene->stamp)
        continue;
      s->stamp = scene->stamp;
      scene->n_examined++;
      if (rect_intersects (paint ? &s->paint : &s->pub.bounds, rect))
        g_ptr_array_add (out, s);
    }
}

static double
segment_distance (double px, double py,
                  double ax, double ay,
                  double bx, double by)
{
  double dx = bx - ax, dy = by - ay;
  double len2 = dx * dx + dy * dy;
  double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;

  t = CLAMP (t, 0.0, 1.0);
  return hypot (px - (ax + t * dx), py - (ay + t * dy));
}

static gboolean
hit_polyline (FlowScene       *scene,
              const FlowShape *shape,
              double           x,
              double           y,
              double           tolerance)
{
  g_autofree FlowScenePoint *p = NULL;
  guint n;

  p = flow_scene_dup_world_points (scene, shape, &n);
  for (guint i = 0; i < n; i++)
    {
      const FlowScenePoint *b = &p[MIN (i + 1, n - 1)];
      double half = shape->stroke_width / 2;

      if (shape->kind == FLOW_SHAPE_STROKE)
        half *= 0.5 + MAX (p[i].pressure, b->pressure);
      if (segment_distance (x, y, p[i].x, p[i].y, b->x, b->y) <= tolerance + half)
        return TRUE;
    }
  return FALSE;
}

static gboolean
hit_shape (FlowScene       *scene,
           const FlowShape *shape,
           double           x,
           double           y,
           double           tolerance)
{
  double lx, ly, a, b, dx, dy, t;

  if (is_polyline (shape))
    return hit_polyline (scene, shape, x, y, tolerance);

  flow_scene_to_local (shape, x, y, &lx, &ly);
  t = tolerance + shape->stroke_width / 2;
  a = shape->w / 2 + t;
  b = shape->h / 2 + t;
  dx = lx - shape->w / 2;
  dy = ly - shape->h / 2;
  switch (shape->kind)
    {
    case FLOW_SHAPE_ELLIPSE:
      return (dx * dx) / (a * a) + (dy * dy) / (b * b) <= 1.0;
    case FLOW_SHAPE_DIAMOND:
      return fabs (dx) / a + fabs (dy) / b <= 1.0;
    case FLOW_SHAPE_RECT:
    case FLOW_SHAPE_TEXT:
    case FLOW_SHAPE_STICKY:
    case FLOW_SHAPE_IMAGE:
    case FLOW_SHAPE_LINE:
    case FLOW_SHAPE_ARROW:
    case FLOW_SHAPE_STROKE:
    default:
      return fabs (dx) <= a && fabs (dy) <= b;
    }
}

/* ------------------------------------------------------------------------
 * API implementation
 * ------------------------------------------------------------------------ */

/**
 * flow_scene_new:
 * @board: a board document
 *
 * Reads every live shape of @board. Cost: O(n) property reads plus the
 * grid inserts.
 *
 * Returns: (transfer full): a new scene holding a reference on @board
 */
FlowScene *
flow_scene_new (FlowDoc *board)
{
  FlowScene *scene;

  g_return_val_if_fail (FLOW_IS_DOC (board), NULL);

  scene = g_new0 (FlowScene, 1);
  scene->doc = g_object_ref (board);
  scene->shapes = g_ptr_array_new_with_free_func (scene_shape_free);
  scene->by_id = g_hash_table_new (op_id_hash, op_id_equal);
  scene->cells = g_hash_table_new_full (cell_hash, g_int64_equal, NULL, cell_free);
  scene->big = g_ptr_array_new ();
  scene->bound = g_ptr_array_new ();
  flow_scene_rebuild (scene);
  return scene;
}

void
flow_scene_free (FlowScene *scene)
{
  if (scene == NULL)
    return;
  clear_all (scene);
  g_ptr_array_unref (scene->shapes);
  g_hash_table_unref (scene->by_id);
  g_hash_table_unref (scene->cells);
  g_ptr_array_unref (scene->big);
  g_ptr_array_unref (scene->bound);
  g_clear_object (&scene->pango);
  g_object_unref (scene->doc);
  g_free (scene);
}

/**
 * flow_scene_get_doc:
 *
 * Returns: (transfer none): the board
 */
FlowDoc *
flow_scene_get_doc (FlowScene *scene)
{
  g_return_val_if_fail (scene != NULL, NULL);
  return scene->doc;
}

/**
 * flow_scene_rebuild:
 *
 * Drops every shape and reads the board again, in the order of
 * flow_doc_list_ordered(). Invalidates every FlowShape pointer.
 */
void
flow_scene_rebuild (FlowScene *scene)
{
  g_autoptr(GArray) ids = NULL;

  g_return_if_fail (scene != NULL);

  clear_all (scene);
  ids = flow_doc_list_ordered (scene->doc);
  for (guint i = 0; i < ids->len; i++)
    {
      const FlowOpId *id = &g_array_index (ids, FlowOpId, i);
      FlowShapeKind kind;
      FlowSceneShape *s;

      if (!kind_from_string (flow_doc_get_entity_kind (scene->doc, id), &kind))
        continue;
      s = g_new0 (FlowSceneShape, 1);
      s->pub.id = *id;
      load_shape (s, scene->doc, kind);
      s->pub.z = scene->shapes->len;
      g_ptr_array_add (scene->shapes, s);
      g_hash_table_insert (scene->by_id, &s->pub.id, s);
    }
  /* Arrows last: their bounds need their targets loaded. */
  for (guint i = 0; i < scene->shapes->len; i++)
    {
      FlowSceneShape *s = g_ptr_array_index (scene->shapes, i);

      set_bound (scene, s);
      compute_bounds (scene, s);
      s->paint = s->pub.bounds;
      grid_insert (scene, s);
    }
  damage (scene, NULL);
}

/**
 * flow_scene_update:
 * @ids: (array length=n_ids): shapes that were created, changed, deleted
 *   or restacked, typically flow_change_get_entities()
 *
 * Re-reads the given shapes and the arrows bound to them. Cost: the
 * property reads of those shapes, plus for each created, deleted or
 * restacked shape a binary search and a memmove of the z array; beyond
 * RESORT_THRESHOLD such shapes, one sort. Pointers to surviving shapes
 * stay valid.
 */
void
flow_scene_update (FlowScene      *scene,
                   const FlowOpId *ids,
                   guint           n_ids)
{
  g_autoptr(GPtrArray) reorder = g_ptr_array_new ();
  g_autoptr(GPtrArray) dead = g_ptr_array_new_with_free_func (scene_shape_free);
  g_autoptr(GHashTable) touched = g_hash_table_new (op_id_hash, op_id_equal);
  guint from = G_MAXUINT;

  g_return_if_fail (scene != NULL);
  g_return_if_fail (ids != NULL || n_ids == 0);

  for (guint i = 0; i < n_ids; i++)
    {
      FlowShapeKind kind;
      FlowSceneShape *s = g_hash_table_lookup (scene->by_id, &ids[i]);

      g_hash_table_add (touched, (gpointer) &ids[i]);
      if (!is_live (scene, &ids[i], &kind))
        {
          if (s != NULL)
            {
              if (s->in_grid)
                damage (scene, &s->paint);
              remove_shape (scene, s);
              g_ptr_array_add (dead, s);
            }
          continue;
        }
      if (s == NULL)
        {
          s = g_new0 (FlowSceneShape, 1);
          s->pub.id = ids[i];
          s->pub.z = G_MAXUINT;
          load_shape (s, scene->doc, kind);
          g_hash_table_insert (scene->by_id, &s->pub.id, s);
          g_ptr_array_add (reorder, s);
        }
      else if (load_shape (s, scene->doc, kind) && !g_ptr_array_find (reorder, s, NULL))
        g_ptr_array_add (reorder, s);
      set_bound (scene, s);
    }

  /* Take the dead and the restacked out of the z array. */
  if (dead->len + reorder->len > RESORT_THRESHOLD)
    {
      GPtrArray *old = scene->shapes;

      for (guint i = 0; i < dead->len; i++)
        ((FlowSceneShape *) g_ptr_array_index (dead, i))->pub.z = G_MAXUINT - 1;
      scene->shapes = g_ptr_array_new_full (old->len + reorder->len, scene_shape_free);
      for (guint i = 0; i < old->len; i++)
        if (((FlowSceneShape *) g_ptr_array_index (old, i))->pub.z != G_MAXUINT - 1)
          g_ptr_array_add (scene->shapes, g_ptr_array_index (old, i));
      g_ptr_array_set_free_func (old, NULL);
      g_ptr_array_unref (old);
      for (guint i = 0; i < reorder->len; i++)
        {
          FlowSceneShape *s = g_ptr_array_index (reorder, i);

          if (s->pub.z == G_MAXUINT)
            g_ptr_array_add (scene->shapes, s);
        }
      g_ptr_array_sort (scene->shapes, scene_shape_cmp_indirect);
      from = 0;
    }
  else
    {
      for (guint i = 0; i < dead->len + reorder->len; i++)
        {
          FlowSceneShape *s = i < dead->len ? g_ptr_array_index (dead, i)
                                            : g_ptr_array_index (reorder, i - dead->len);

          if (s->pub.z == G_MAXUINT)
            continue;
          g_assert (g_ptr_array_index (scene->shapes, s->pub.z) == s);
          g_ptr_array_steal_index (scene->shapes, s->pub.z);
          renumber (scene, s->pub.z);
          from = MIN (from, s->pub.z);
        }
      for (guint i = 0; i < reorder->len; i++)
        {
          FlowSceneShape *s = g_ptr_array_index (reorder, i);
          guint at = order_search (scene, s);

          g_ptr_array_insert (scene->shapes, at, s);
          s->pub.z = at;
          renumber (scene, at);
          from = MIN (from, at);
        }
    }
  if (from != G_MAXUINT)
    renumber (scene, from);

  /* Geometry: the touched shapes, then the arrows that point at them. */
  for (guint i = 0; i < n_ids; i++)
    {
      FlowSceneShape *s = g_hash_table_lookup (scene->by_id, &ids[i]);

      if (s != NULL && !s->bound)
        reindex (scene, s);
    }
  for (guint i = 0; i < scene->bound->len; i++)
    {
      FlowSceneShape *s = g_ptr_array_index (scene->bound, i);

      if (g_hash_table_contains (touched, &s->pub.id) ||
          (s->pub.has_start && g_hash_table_contains (touched, &s->pub.start)) ||
          (s->pub.has_end && g_hash_table_contains (touched, &s->pub.end)))
        reindex (scene, s);
    }
}

guint
flow_scene_get_n_shapes (FlowScene *scene)
{
  g_return_val_if_fail (scene != NULL, 0);
  return scene->shapes->len;
}

/**
 * flow_scene_get_nth:
 * @z: a position in the z-order, 0 = bottom
 *
 * Returns: (transfer none) (nullable): the shape at @z
 */
const FlowShape *
flow_scene_get_nth (FlowScene *scene,
                    guint      z)
{
  g_return_val_if_fail (scene != NULL, NULL);
  if (z >= scene->shapes->len)
    return NULL;
  return g_ptr_array_index (scene->shapes, z);
}

/**
 * flow_scene_lookup:
 *
 * Returns: (transfer none) (nullable): the live shape @id. O(1).
 */
const FlowShape *
flow_scene_lookup (FlowScene      *scene,
                   const FlowOpId *id)
{
  g_return_val_if_fail (scene != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);
  return g_hash_table_lookup (scene->by_id, id);
}

/**
 * flow_scene_get_bounds:
 * @bounds: (out): the union of every shape's bounds
 *
 * Returns: %FALSE when the board has no shape. O(n).
 */
gboolean
flow_scene_get_bounds (FlowScene *scene,
                       FlowRect  *bounds)
{
  g_return_val_if_fail (scene != NULL, FALSE);
  g_return_val_if_fail (bounds != NULL, FALSE);

  return flow_scene_union_bounds (scene->shapes, bounds);
}

/**
 * flow_scene_query:
 * @rect: a rectangle in board coordinates
 * @shapes: (element-type FlowShape): receives the shapes whose bounds
 *   intersect @rect, bottom to top (appended; borrowed pointers)
 *
 * Cost: the shapes registered in the grid cells @rect covers (or in every
 * non-empty cell, when that is fewer), plus the oversized shapes, plus
 * sorting the result.
 */
void
flow_scene_query (FlowScene      *scene,
                  const FlowRect *rect,
                  GPtrArray      *shapes)
{
  g_return_if_fail (scene != NULL);
  g_return_if_fail (rect != NULL && shapes != NULL);

  query (scene, rect, FALSE, shapes);
}

/**
 * flow_scene_set_damage_func:
 * @func: (nullable): called with the board areas whose pixels changed
 *
 * Sets the one listener for damage (see #FlowSceneDamageFunc). The scene's
 * owner decides who that is; %NULL removes it.
 */
void
flow_scene_set_damage_func (FlowScene           *scene,
                            FlowSceneDamageFunc  func,
                            gpointer             user_data)
{
  g_return_if_fail (scene != NULL);

  scene->damage_func = func;
  scene->damage_data = user_data;
}

/* ------------------------------------------------------------------------
 * Query
 * ------------------------------------------------------------------------ */

/* Appends the shapes whose bounds (or, with @paint, paint areas) meet
 * @rect, bottom to top. */
static void
query (FlowScene      *scene,
       const FlowRect *rect,
       gboolean        paint,
       GPtrArray      *shapes)
{
  gint cx0, cy0, cx1, cy1;
  guint first = shapes->len;
  double n_cells;

  scene->n_examined = 0;
  if (++scene->stamp == 0)
    {
      for (guint i = 0; i < scene->shapes->len; i++)
        ((FlowSceneShape *) g_ptr_array_index (scene->shapes, i))->stamp = 0;
      scene->stamp = 1;
    }
  grid_range (rect, &cx0, &cy0, &cx1, &cy1);
  n_cells = ((double) cx1 - cx0 + 1) * ((double) cy1 - cy0 + 1);
  if (n_cells > g_hash_table_size (scene->cells))
    {
      GHashTableIter iter;
      Cell *cell;

      g_hash_table_iter_init (&iter, scene->cells);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &cell))
        collect (scene, cell->items, rect, paint, shapes);
    }
  else
    for (gint cx = cx0; cx <= cx1; cx++)
      for (gint cy = cy0; cy <= cy1; cy++)
        {
          gint64 key = cell_key (cx, cy);
          Cell *cell = g_hash_table_lookup (scene->cells, &key);

          if (cell != NULL)
            collect (scene, cell->items, rect, paint, shapes);
        }
  collect (scene, scene->big, rect, paint, shapes);

  if (shapes->len - first > 1)
    qsort (shapes->pdata + first, shapes->len - first, sizeof (gpointer), flow_shape_z_cmp);
}

/**
 * flow_scene_hit_test:
 * @x: board x
 * @y: board y
 * @tolerance: board units of slack around outlines and lines
 *
 * Closed shapes, text, stickies and images hit inside their outline, filled
 * or not; lines, arrows and strokes within @tolerance of the drawn line.
 * Rotation is respected.
 *
 * Returns: (transfer none) (nullable): the topmost shape under the point
 */
const FlowShape *
flow_scene_hit_test (FlowScene *scene,
                     double     x,
                     double     y,
                     double     tolerance)
{
  g_autoptr(GPtrArray) candidates = g_ptr_array_new ();
  FlowRect r = { x - tolerance, y - tolerance, 2 * tolerance, 2 * tolerance };

  g_return_val_if_fail (scene != NULL, NULL);

  flow_scene_query (scene, &r, candidates);
  for (guint i = candidates->len; i > 0; i--)
    {
      const FlowShape *shape = g_ptr_array_index (candidates, i - 1);

      if (hit_shape (scene, shape, x, y, tolerance))
        return shape;
    }
  return NULL;
}

/**
 * flow_scene_get_line_ends:
 * @shape: a line, arrow or stroke of @scene
 *
 * Gets the first and last point of @shape in board coordinates. A bound
 * arrow end sits on its target's outline (plus a small gap), on the ray
 * from the target's centre towards the neighbouring point of the arrow.
 */
void
flow_scene_get_line_ends (FlowScene       *scene,
                          const FlowShape *shape,
                          double          *x1,
                          double          *y1,
                          double          *x2,
                          double          *y2)
{
  g_autofree FlowScenePoint *p = NULL;
  guint n;

  g_return_if_fail (scene != NULL && shape != NULL);

  p = flow_scene_dup_world_points (scene, shape, &n);
  *x1 = p[0].x;
  *y1 = p[0].y;
  *x2 = p[n - 1].x;
  *y2 = p[n - 1].y;
}

/* ------------------------------------------------------------------------
 * Internal API (flow-scene-private.h)
 * ------------------------------------------------------------------------ */

/* Like flow_scene_query(), but by paint area: also the shapes known to
 * paint into @rect from outside their bounds. What the renderer draws. */
void
flow_scene_query_paint (FlowScene      *scene,
                        const FlowRect *rect,
                        GPtrArray      *shapes)
{
  query (scene, rect, TRUE, shapes);
}

/* The renderer found that @s paints into @rect (board coordinates): grows
 * its paint area to cover it, re-files it in the grid and reports the
 * growth as damage, since pixels drawn before missed it. O(1) when @rect
 * is already covered. */
void
flow_scene_grow_paint (FlowScene      *scene,
                       FlowSceneShape *s,
                       const FlowRect *rect)
{
  FlowRect *p = &s->paint;
  double x0, y0, x1, y1;

  if (rect->x >= p->x && rect->y >= p->y && rect->x + rect->width <= p->x + p->width &&
      rect->y + rect->height <= p->y + p->height)
    return;
  x0 = MIN (p->x, rect->x);
  y0 = MIN (p->y, rect->y);
  x1 = MAX (p->x + p->width, rect->x + rect->width);
  y1 = MAX (p->y + p->height, rect->y + rect->height);
  grid_remove (scene, s);
  *p = (FlowRect) { x0, y0, x1 - x0, y1 - y0 };
  grid_insert (scene, s);
  damage (scene, rect);
}

/* Hash and equality of FlowOpId pointers, and a hash of 64-bit keys that
 * keeps the high half (packed grid coordinates), for the render side's
 * own tables. */
guint
flow_scene_id_hash (gconstpointer id)
{
  return op_id_hash (id);
}

gboolean
flow_scene_id_equal (gconstpointer a,
                     gconstpointer b)
{
  return op_id_equal (a, b);
}

guint
flow_scene_key_hash (gconstpointer key)
{
  return cell_hash (key);
}

/* The number of shapes the last query looked at: for tests. */
guint
flow_scene_get_n_examined (FlowScene *scene)
{
  return scene->n_examined;
}

/* Returns @shape as the scene's own record, or %NULL when it is not one of
 * the scene's shapes (a caller's modified copy, say). O(1). */
FlowSceneShape *
flow_scene_get_own (FlowScene       *scene,
                    const FlowShape *shape)
{
  FlowSceneShape *s = g_hash_table_lookup (scene->by_id, &shape->id);

  return s != NULL && &s->pub == shape ? s : NULL;
}

/* The pango context the renderer lays text out with: identity matrix,
 * hinting off, unrounded glyph positions, so a layout is the same at every
 * zoom and can be cached on the shape. Created on first use. */
PangoContext *
flow_scene_get_pango_context (FlowScene *scene)
{
  if (scene->pango == NULL)
    {
      cairo_font_options_t *options = cairo_font_options_create ();

      scene->pango = pango_font_map_create_context (pango_cairo_font_map_get_default ());
      cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
      cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
      cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
      pango_cairo_context_set_font_options (scene->pango, options);
      cairo_font_options_destroy (options);
      pango_context_set_round_glyph_positions (scene->pango, FALSE);
    }
  return scene->pango;
}

/* Maps board (@x, @y) into @shape's unrotated frame, origin at its (x, y). */
void
flow_scene_to_local (const FlowShape *shape,
                     double           x,
                     double           y,
                     double          *lx,
                     double          *ly)
{
  double cx, cy;

  shape_centre (shape, &cx, &cy);
  rotate_about (cx, cy, -shape->rotation, &x, &y);
  *lx = x - shape->x;
  *ly = y - shape->y;
}

/* Returns the polyline of @shape in board coordinates: rotation applied
 * about the box centre, bound arrow ends moved to their targets' outlines.
 * Always at least one point (the box origin for a shape without points). */
FlowScenePoint *
flow_scene_dup_world_points (FlowScene       *scene,
                             const FlowShape *shape,
                             guint           *n_points)
{
  guint n = MAX (shape->n_points, 1);
  FlowScenePoint *p = g_new (FlowScenePoint, MAX (n, 2));
  const FlowShape *ts, *te;
  double cx, cy;

  shape_centre (shape, &cx, &cy);
  for (guint i = 0; i < n; i++)
    {
      p[i].x = shape->x + (shape->n_points ? shape->points[i].x : 0);
      p[i].y = shape->y + (shape->n_points ? shape->points[i].y : 0);
      p[i].pressure = shape->n_points ? shape->points[i].pressure : 0.5;
      if (shape->rotation != 0)
        rotate_about (cx, cy, shape->rotation, &p[i].x, &p[i].y);
    }

  ts = shape->kind == FLOW_SHAPE_ARROW ? binding_target (scene, shape, TRUE) : NULL;
  te = shape->kind == FLOW_SHAPE_ARROW ? binding_target (scene, shape, FALSE) : NULL;
  if (ts != NULL || te != NULL)
    {
      double sx, sy, ex, ey;

      if (n == 1)
        {
          p[1] = p[0];
          n = 2;
        }
      /* Aim each end at its neighbour, or at the other target's centre. */
      if (te != NULL && n == 2)
        shape_centre (te, &ex, &ey);
      else
        ex = p[1].x, ey = p[1].y;
      if (ts != NULL && n == 2)
        shape_centre (ts, &sx, &sy);
      else
        sx = p[n - 2].x, sy = p[n - 2].y;
      if (ts != NULL)
        outline_point (ts, ex, ey, &p[0].x, &p[0].y);
      if (te != NULL)
        outline_point (te, sx, sy, &p[n - 1].x, &p[n - 1].y);
    }
  *n_points = n;
  return p;
}

/* Sets @bounds to the union of the bounds of @shapes (FlowShape*).
 * Returns %FALSE when @shapes is empty. */
gboolean
flow_scene_union_bounds (GPtrArray *shapes,
                         FlowRect  *bounds)
{
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;

  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowRect *r = &((const FlowShape *) g_ptr_array_index (shapes, i))->bounds;

      x0 = MIN (x0, r->x);
      y0 = MIN (y0, r->y);
      x1 = MAX (x1, r->x + r->width);
      y1 = MAX (y1, r->y + r->height);
    }
  if (shapes->len == 0)
    return FALSE;
  *bounds = (FlowRect) { x0, y0, x1 - x0, y1 - y0 };
  return TRUE;
}
