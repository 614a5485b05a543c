/* flow-render.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Drawing a board with cairo and pango. The canvas, the exporters and the
 * golden tests all come through flow_render_shape(), so what is on screen
 * is what gets exported.
 *
 * Images: we decode PNG only (cairo's own decoder), once per shape; the
 * surface is cached on the scene shape until its bytes change. JPEG and
 * anything undecodable draws a placeholder: a grey box with a cross.
 *
 * Text is laid out with absolute font sizes in board units and hinting
 * off, in the scene's own pango context (identity matrix), so the layout
 * does not change with the zoom. It is cached on the scene shape and
 * dropped when the text, font size, width or kind change; line, arrow and
 * stroke polylines are cached by the scene with the bounds. Shapes that are
 * not the scene's own (a caller's modified copy) are drawn without caches.
 *
 * Level of detail (flow_render_scene and flow_render_shape; never exports):
 * what is too small to see is drawn more cheaply, so pictures differ from
 * an export only at small zooms, by sub-pixel amounts or as noted:
 *  - a shape under 2 px across is its bounds filled with its main colour;
 *  - text under 4 px is greeked: a translucent bar per estimated line;
 *  - an outline under 1 px wide gets butt caps and mitred (rects) or
 *    bevelled joins; a pen stroke that thin is one plain polyline at its
 *    mean width, through points at least a pixel apart;
 *  - an ellipse under 32 px in radius is a polygon within 0.25 px of it;
 *  - an arrow head under 2 px is left out;
 *  - a sticky note's shadow under 3 px is one plain rect (none under 1 px)
 *    and its corners are square.
 * Translucent shapes draw through a group clipped to their bounds (and to
 * overflowing text), never one the size of the target.
 *
 * Text that overflows its box paints outside the shape's bounds. Each time
 * a scene shape's text is drawn we tell the scene how far it reached
 * (flow_scene_grow_paint), so flow_render_scene() and the tile cache, which
 * cull by the scene's paint areas, draw it wherever it shows from then on.
 */

#define G_LOG_DOMAIN "flow-render"

#include "config.h"

#include <math.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <pango/pangocairo.h>

#include "flow-render-private.h"
#include "flow-scene-private.h"

#define EXPORT_MARGIN 16.0
#define STICKY_PADDING 12.0
#define STROKE_SUBDIVISIONS 4
#define MAX_EXPORT_PIXELS 16384.0

/* Level of detail, in device pixels (flow_render_scene and
 * flow_render_shape only; exports draw everything in full). */
#define LOD_SHAPE_PX 2.0     /* a shape this small is a coloured dot */
#define LOD_TEXT_PX 4.0      /* a font size this small is greeked */
#define LOD_STROKE_PX 1.0    /* a line this thin has cheap caps and joins */
#define LOD_SHADOW_PX 3.0    /* a sticky shadow this small is one rect */
#define LOD_POLYGON_PX 32.0  /* an ellipse of this radius is a polygon */
#define STICKY_SHADOW 12.0   /* how far the sticky's shadow spreads */

G_DEFINE_QUARK (flow-render-error-quark, flow_render_error)

/* ------------------------------------------------------------------------
 * Private functions
 * ------------------------------------------------------------------------ */

/* What one drawing pass knows besides the shape. */
typedef struct
{
  FlowScene *scene;
  double     scale;     /* device pixels per board unit */
  gboolean   lod;       /* simplify what is too small to see */
} Pass;

static void
pass_init (Pass      *pass,
           cairo_t   *cr,
           FlowScene *scene,
           gboolean   lod)
{
  double xx = 1, xy = 0, yx = 0, yy = 1;

  cairo_user_to_device_distance (cr, &xx, &xy);
  cairo_user_to_device_distance (cr, &yx, &yy);
  pass->scene = scene;
  pass->scale = sqrt (fabs (xx * yy - xy * yx));
  pass->lod = lod;
}

/**
 * flow_render_set_source_color:
 * @cr: a cairo context
 * @rgba: a board colour, 0xRRGGBBAA
 * @alpha: a factor for its alpha
 *
 * Sets @cr's source to @rgba, as every drawing of board colours does.
 */
void
flow_render_set_source_color (cairo_t *cr,
                              guint32  rgba,
                              double   alpha)
{
  cairo_set_source_rgba (cr,
                         ((rgba >> 24) & 0xff) / 255.0,
                         ((rgba >> 16) & 0xff) / 255.0,
                         ((rgba >> 8) & 0xff) / 255.0,
                         (rgba & 0xff) / 255.0 * alpha);
}

static void
set_rgba (cairo_t *cr,
          guint32  rgba)
{
  flow_render_set_source_color (cr, rgba, 1.0);
}

static gboolean
has_alpha (guint32 rgba)
{
  return (rgba & 0xff) != 0;
}

/* Moves the origin to the shape's (x, y) in its own, unrotated frame. */
static void
enter_box (cairo_t         *cr,
           const FlowShape *shape)
{
  double cx = shape->x + shape->w / 2, cy = shape->y + shape->h / 2;

  cairo_translate (cr, cx, cy);
  if (shape->rotation != 0)
    cairo_rotate (cr, shape->rotation);
  cairo_translate (cr, -shape->w / 2, -shape->h / 2);
}

static void
path_closed (cairo_t         *cr,
             const Pass      *pass,
             const FlowShape *shape)
{
  double w = shape->w, h = shape->h;

  if (shape->kind == FLOW_SHAPE_ELLIPSE && pass->lod &&
      MAX (w, h) / 2 * pass->scale < LOD_POLYGON_PX)
    {
      /* Level of detail: a small ellipse is a polygon whose sides stray at
       * most a quarter pixel from the curve; cairo fills and strokes that
       * several times faster than its arcs. */
      double r = MAX (MAX (w, h) / 2 * pass->scale, 0.5);
      guint n = CLAMP ((guint) ceil (G_PI / acos (1 - MIN (0.25 / r, 1.0))), 8, 64);

      cairo_move_to (cr, w, h / 2);
      for (guint i = 1; i < n; i++)
        cairo_line_to (cr, w / 2 * (1 + cos (2 * G_PI * i / n)), h / 2 * (1 + sin (2 * G_PI * i / n)));
      cairo_close_path (cr);
    }
  else if (shape->kind == FLOW_SHAPE_ELLIPSE)
    {
      cairo_matrix_t m;

      cairo_get_matrix (cr, &m);
      cairo_translate (cr, w / 2, h / 2);
      cairo_scale (cr, MAX (w / 2, 1e-3), MAX (h / 2, 1e-3));
      cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
      cairo_set_matrix (cr, &m);
    }
  else if (shape->kind == FLOW_SHAPE_DIAMOND)
    {
      cairo_move_to (cr, w / 2, 0);
      cairo_line_to (cr, w, h / 2);
      cairo_line_to (cr, w / 2, h);
      cairo_line_to (cr, 0, h / 2);
      cairo_close_path (cr);
    }
  else
    cairo_rectangle (cr, 0, 0, w, h);
}

/* Level of detail: whether @shape's outline is under LOD_STROKE_PX wide
 * on screen. Such a line is drawn with butt caps and mitred or bevelled
 * joins, which cairo rasterises much faster than round ones and which look
 * the same below a pixel. */
static gboolean
is_thin (const Pass      *pass,
         const FlowShape *shape)
{
  return pass->lod && shape->stroke_width * pass->scale < LOD_STROKE_PX;
}

static void
set_line_style (cairo_t         *cr,
                const Pass      *pass,
                const FlowShape *shape,
                gboolean         rectilinear)
{
  gboolean thin = is_thin (pass, shape);

  cairo_set_line_width (cr, shape->stroke_width);
  cairo_set_line_cap (cr, thin ? CAIRO_LINE_CAP_BUTT : CAIRO_LINE_CAP_ROUND);
  if (!thin)
    cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  else
    cairo_set_line_join (cr, rectilinear ? CAIRO_LINE_JOIN_MITER : CAIRO_LINE_JOIN_BEVEL);
}

static void
draw_closed (cairo_t         *cr,
             const Pass      *pass,
             const FlowShape *shape)
{
  enter_box (cr, shape);
  path_closed (cr, pass, shape);
  if (has_alpha (shape->fill))
    {
      set_rgba (cr, shape->fill);
      cairo_fill_preserve (cr);
    }
  if (has_alpha (shape->stroke) && shape->stroke_width > 0)
    {
      set_rgba (cr, shape->stroke);
      set_line_style (cr, pass, shape, shape->kind == FLOW_SHAPE_RECT);
      /* The ellipse's arc is open: butt ends, as ever. */
      if (shape->kind == FLOW_SHAPE_ELLIPSE)
        cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
      cairo_stroke_preserve (cr);
    }
  cairo_new_path (cr);
}

/* The world polyline of @shape: the scene's cached copy for its own shapes,
 * else a new one in *@to_free. */
static const FlowScenePoint *
world_points (const Pass           *pass,
              const FlowShape      *shape,
              FlowSceneShape       *own,
              guint                *n,
              FlowScenePoint      **to_free)
{
  if (own != NULL && own->world != NULL)
    {
      *n = own->n_world;
      return own->world;
    }
  *to_free = flow_scene_dup_world_points (pass->scene, shape, n);
  return *to_free;
}

static void
path_arrow_head (cairo_t              *cr,
                 const FlowShape      *shape,
                 const FlowScenePoint *from,
                 const FlowScenePoint *tip)
{
  double len = MAX (12.0, shape->stroke_width * 4);
  double angle = atan2 (tip->y - from->y, tip->x - from->x);
  double spread = G_PI / 7;

  if (hypot (tip->y - from->y, tip->x - from->x) < 1e-6)
    return;
  cairo_move_to (cr, tip->x - len * cos (angle - spread), tip->y - len * sin (angle - spread));
  cairo_line_to (cr, tip->x, tip->y);
  cairo_line_to (cr, tip->x - len * cos (angle + spread), tip->y - len * sin (angle + spread));
}

/* The line and the arrow head in one stroke: one rasterisation, and a
 * translucent colour does not darken where they meet. */
static void
draw_line (cairo_t         *cr,
           const Pass      *pass,
           const FlowShape *shape,
           FlowSceneShape  *own)
{
  g_autofree FlowScenePoint *owned = NULL;
  const FlowScenePoint *p;
  guint n;

  if (!has_alpha (shape->stroke) || shape->stroke_width <= 0)
    return;
  p = world_points (pass, shape, own, &n, &owned);
  set_rgba (cr, shape->stroke);
  set_line_style (cr, pass, shape, FALSE);
  cairo_move_to (cr, p[0].x, p[0].y);
  for (guint i = 1; i < n; i++)
    cairo_line_to (cr, p[i].x, p[i].y);
  if (n == 1)
    cairo_line_to (cr, p[0].x, p[0].y);
  /* Level of detail: a head under LOD_SHAPE_PX long is left out. */
  if (shape->kind == FLOW_SHAPE_ARROW && n > 1 &&
      !(pass->lod && MAX (12.0, shape->stroke_width * 4) * pass->scale < LOD_SHAPE_PX))
    path_arrow_head (cr, shape, &p[n - 2], &p[n - 1]);
  cairo_stroke (cr);
}

/* Catmull-Rom through the points, STROKE_SUBDIVISIONS samples per span,
 * pressure interpolated linearly. */
static FlowScenePoint *
smooth_points (const FlowScenePoint *p,
               guint                 n,
               guint                *n_out)
{
  FlowScenePoint *out;
  guint k = 0;

  if (n < 3)
    {
      *n_out = n;
      return g_memdup2 (p, sizeof *p * n);
    }
  out = g_new (FlowScenePoint, (n - 1) * STROKE_SUBDIVISIONS + 1);
  for (guint i = 0; i + 1 < n; i++)
    {
      const FlowScenePoint *p0 = &p[i > 0 ? i - 1 : 0], *p1 = &p[i], *p2 = &p[i + 1];
      const FlowScenePoint *p3 = &p[MIN (i + 2, n - 1)];

      for (guint j = 0; j < STROKE_SUBDIVISIONS; j++)
        {
          double t = (double) j / STROKE_SUBDIVISIONS, t2 = t * t, t3 = t2 * t;

          out[k].x = 0.5 * (2 * p1->x + (-p0->x + p2->x) * t +
                            (2 * p0->x - 5 * p1->x + 4 * p2->x - p3->x) * t2 +
                            (-p0->x + 3 * p1->x - 3 * p2->x + p3->x) * t3);
          out[k].y = 0.5 * (2 * p1->y + (-p0->y + p2->y) * t +
                            (2 * p0->y - 5 * p1->y + 4 * p2->y - p3->y) * t2 +
                            (-p0->y + 3 * p1->y - 3 * p2->y + p3->y) * t3);
          out[k].pressure = p1->pressure + (p2->pressure - p1->pressure) * t;
          k++;
        }
    }
  out[k++] = p[n - 1];
  *n_out = k;
  return out;
}

static double
pressure_factor (const FlowScenePoint *p)
{
  /* Pressure 0.5 (and a mouse, which reports none) gives the nominal width;
   * the range is 0.5x to 1.5x. */
  return 0.5 + (p->pressure > 0 ? p->pressure : 0.5);
}

static double
stroke_radius (const FlowShape      *shape,
               const FlowScenePoint *p)
{
  return shape->stroke_width / 2 * pressure_factor (p);
}

/* Level of detail: a pen stroke under LOD_STROKE_PX wide on screen is one
 * plain polyline through the recorded points, at the mean pressure's
 * width, leaving out points within a pixel of the last one kept. */
static void
draw_freehand_thin (cairo_t              *cr,
                    const Pass           *pass,
                    const FlowShape      *shape,
                    const FlowScenePoint *p,
                    guint                 n)
{
  double factor = 0, min_d2 = 1 / (pass->scale * pass->scale);
  const FlowScenePoint *last = &p[0];

  cairo_move_to (cr, p[0].x, p[0].y);
  for (guint i = 0; i < n; i++)
    {
      double dx = p[i].x - last->x, dy = p[i].y - last->y;

      factor += pressure_factor (&p[i]);
      if (i + 1 < n && dx * dx + dy * dy < min_d2)
        continue;
      cairo_line_to (cr, p[i].x, p[i].y);
      last = &p[i];
    }
  set_rgba (cr, shape->stroke);
  cairo_set_line_width (cr, shape->stroke_width * factor / n);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
  cairo_stroke (cr);
}

/* One positively oriented subpath per disc and per segment hull, filled
 * with the winding rule: their union, with no seams and no double
 * blending where the pen crosses itself. */
static void
draw_freehand (cairo_t         *cr,
               const Pass      *pass,
               const FlowShape *shape,
               FlowSceneShape  *own)
{
  g_autofree FlowScenePoint *owned = NULL;
  g_autofree FlowScenePoint *p = NULL;
  const FlowScenePoint *raw;
  guint n_raw, n;

  if (!has_alpha (shape->stroke) || shape->stroke_width <= 0)
    return;
  raw = world_points (pass, shape, own, &n_raw, &owned);
  if (is_thin (pass, shape))
    {
      draw_freehand_thin (cr, pass, shape, raw, n_raw);
      return;
    }
  p = smooth_points (raw, n_raw, &n);
  cairo_new_path (cr);
  for (guint i = 0; i < n; i++)
    {
      double r0 = stroke_radius (shape, &p[i]);

      cairo_new_sub_path (cr);
      cairo_arc (cr, p[i].x, p[i].y, r0, 0, 2 * G_PI);
      if (i + 1 < n)
        {
          double r1 = stroke_radius (shape, &p[i + 1]);
          double dx = p[i + 1].x - p[i].x, dy = p[i + 1].y - p[i].y;
          double len = hypot (dx, dy);
          double nx, ny;

          if (len < 1e-9)
            continue;
          nx = -dy / len;
          ny = dx / len;
          /* (p0 + n r0) -> (p1 + n r1) -> (p1 - n r1) -> (p0 - n r0) turns
           * the same way as cairo_arc in a y-down space. */
          cairo_move_to (cr, p[i].x - nx * r0, p[i].y - ny * r0);
          cairo_line_to (cr, p[i + 1].x - nx * r1, p[i + 1].y - ny * r1);
          cairo_line_to (cr, p[i + 1].x + nx * r1, p[i + 1].y + ny * r1);
          cairo_line_to (cr, p[i].x + nx * r0, p[i].y + ny * r0);
          cairo_close_path (cr);
        }
    }
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_WINDING);
  set_rgba (cr, shape->stroke);
  cairo_fill (cr);
}

static double
text_inset (const FlowShape *shape)
{
  return shape->kind == FLOW_SHAPE_STICKY ? STICKY_PADDING : 0;
}

static PangoLayout *
create_layout (FlowScene       *scene,
               const FlowShape *shape)
{
  PangoLayout *layout = pango_layout_new (flow_scene_get_pango_context (scene));
  PangoFontDescription *desc = pango_font_description_from_string ("Sans");
  double width = shape->w - 2 * text_inset (shape);

  pango_font_description_set_absolute_size (desc, MAX (shape->font_size, 1.0) * PANGO_SCALE);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  if (width > 0)
    {
      pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
      pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
    }
  pango_layout_set_text (layout, shape->text ? shape->text : "", -1);
  return layout;
}

/* The shape's layout, owned by the scene shape (or, for a copy, a new one
 * in *@to_free). */
static PangoLayout *
get_layout (const Pass       *pass,
            const FlowShape  *shape,
            FlowSceneShape   *own,
            PangoLayout     **to_free)
{
  if (own == NULL)
    return *to_free = create_layout (pass->scene, shape);
  if (own->layout == NULL)
    own->layout = create_layout (pass->scene, shape);
  return own->layout;
}

static gboolean
has_text (const FlowShape *shape)
{
  return shape->text != NULL && shape->text[0] != '\0' && has_alpha (shape->stroke);
}

/* Level of detail: text under LOD_TEXT_PX on screen is "greeked", one
 * translucent bar per line where the line would be. The lines are
 * estimated (an average glyph is about 0.55 em wide), so nothing is laid
 * out. */
static void
draw_text_bars (cairo_t         *cr,
                const FlowShape *shape,
                double           inset,
                double          *right,
                double          *bottom)
{
  double size = MAX (shape->font_size, 1.0), char_w = 0.55 * size, line_h = 1.17 * size;
  double width = shape->w - 2 * inset;
  double max_chars = width > 0 ? MAX (floor (width / char_w), 1) : G_MAXDOUBLE;
  const char *p = shape->text;
  guint line = 0;

  while (*p != '\0')
    {
      double chars = 0;
      const char *word = p;

      /* Fill one line with whole words; a word longer than a line breaks. */
      while (*p != '\0' && *p != '\n')
        {
          const char *end = word;
          double n = 0;

          while (*end != '\0' && *end != '\n' && *end != ' ')
            end = g_utf8_next_char (end), n++;
          if (chars > 0 && chars + 1 + n > max_chars)
            break;
          chars += (chars > 0) + MIN (n, max_chars - chars);
          p = n > max_chars ? g_utf8_offset_to_pointer (word, (glong) max_chars) : end;
          while (*p == ' ')
            p++;
          word = p;
          if (n > max_chars)
            break;
        }
      if (chars > 0)
        {
          cairo_rectangle (cr, inset, inset + line * line_h + 0.3 * size, chars * char_w,
                           0.55 * size);
          *right = MAX (*right, inset + chars * char_w);
          *bottom = inset + line * line_h + 0.85 * size;
        }
      line++;
      if (*p == '\n')
        p++;
    }
  flow_render_set_source_color (cr, shape->stroke, 0.4);
  cairo_fill (cr);
}

/* The board rectangle that @shape's box covers once stretched to text
 * reaching @right and @bottom (box-local), rotated like the shape, with
 * the shape's bounds. */
static void
text_paint_rect (const FlowShape *shape,
                 double           right,
                 double           bottom,
                 FlowRect        *r)
{
  double cx = shape->w / 2, cy = shape->h / 2;
  double c = fabs (cos (shape->rotation)), sn = fabs (sin (shape->rotation));
  double ex, ey;

  *r = shape->bounds;
  bottom = MAX (bottom, shape->h) + 2;
  right = MAX (right, shape->w) + 2;
  ex = MAX (cx, right - cx) + 2;
  ey = MAX (cy + 2, bottom - cy);
  r->x = MIN (r->x, shape->x + cx - (ex * c + ey * sn));
  r->y = MIN (r->y, shape->y + cy - (ex * sn + ey * c));
  r->width = MAX (shape->bounds.x + shape->bounds.width, shape->x + cx + ex * c + ey * sn) - r->x;
  r->height = MAX (shape->bounds.y + shape->bounds.height, shape->y + cy + ex * sn + ey * c) - r->y;
}

/* Where @layout's text reaches in @shape's box: right and bottom edges. */
static void
layout_extent (const FlowShape *shape,
               PangoLayout     *layout,
               double          *right,
               double          *bottom)
{
  PangoRectangle ink, logical;
  double inset = text_inset (shape);

  pango_layout_get_extents (layout, &ink, &logical);
  *bottom = inset + MAX (ink.y + ink.height, logical.y + logical.height) / (double) PANGO_SCALE;
  *right = inset + MAX (ink.x + ink.width, logical.x + logical.width) / (double) PANGO_SCALE;
}

/* Text may overflow its box. Tells the scene where a scene shape's text
 * went, so culling and raster caches find it there (flow_scene_grow_paint;
 * cheap when nothing grew). */
static void
report_text_extent (const Pass      *pass,
                    const FlowShape *shape,
                    FlowSceneShape  *own,
                    double           right,
                    double           bottom)
{
  FlowRect r;

  if (own == NULL || (right <= shape->w && bottom <= shape->h))
    return;
  text_paint_rect (shape, right, bottom, &r);
  flow_scene_grow_paint (pass->scene, own, &r);
}

static void
draw_text (cairo_t         *cr,
           const Pass      *pass,
           const FlowShape *shape,
           FlowSceneShape  *own)
{
  g_autoptr(PangoLayout) to_free = NULL;
  double inset = text_inset (shape), right = 0, bottom = 0;
  PangoLayout *layout;

  if (!has_text (shape))
    return;
  if (pass->lod && shape->font_size * pass->scale < LOD_TEXT_PX)
    {
      draw_text_bars (cr, shape, inset, &right, &bottom);
      report_text_extent (pass, shape, own, right, bottom);
      return;
    }
  layout = get_layout (pass, shape, own, &to_free);
  cairo_move_to (cr, inset, inset);
  set_rgba (cr, shape->stroke);
  pango_cairo_show_layout (cr, layout);
  /* pango leaves the current point, which the next shape's arc would join. */
  cairo_new_path (cr);
  layout_extent (shape, layout, &right, &bottom);
  report_text_extent (pass, shape, own, right, bottom);
}

static void
rounded_rect (cairo_t *cr,
              double   x,
              double   y,
              double   w,
              double   h,
              double   r)
{
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

static void
draw_sticky (cairo_t         *cr,
             const Pass      *pass,
             const FlowShape *shape,
             FlowSceneShape  *own)
{
  enter_box (cr, shape);
  if (pass->lod && STICKY_SHADOW * pass->scale < LOD_SHADOW_PX)
    {
      /* Level of detail: the shadow is a few pixels at most, so one plain
       * rect at its average strength (none under a pixel), and the corners
       * are square. */
      if (STICKY_SHADOW * pass->scale >= 1)
        {
          cairo_rectangle (cr, -1, 2, shape->w + 6, shape->h + 6);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.1);
          cairo_fill (cr);
        }
      cairo_rectangle (cr, 0, 0, shape->w, shape->h);
    }
  else
    {
      /* A soft shadow: stacked translucent rounded rects, widest first. */
      for (int i = 6; i >= 1; i--)
        {
          double spread = i * 2.0;

          rounded_rect (cr, 2 - spread / 2, 5 - spread / 2, shape->w + spread,
                        shape->h + spread, 4 + spread / 2);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.035);
          cairo_fill (cr);
        }
      rounded_rect (cr, 0, 0, shape->w, shape->h, 3);
    }
  set_rgba (cr, has_alpha (shape->fill) ? shape->fill : FLOW_SCENE_DEFAULT_STICKY_FILL);
  cairo_fill (cr);
  draw_text (cr, pass, shape, own);
}

typedef struct
{
  const guint8 *data;
  gsize         len;
  gsize         pos;
} PngReader;

static cairo_status_t
png_read_cb (void          *closure,
             unsigned char *data,
             unsigned int   length)
{
  PngReader *r = closure;

  if (r->len - r->pos < length)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, r->data + r->pos, length);
  r->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *
decode_png (GBytes *bytes)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  PngReader reader = { 0 };
  cairo_surface_t *surface;

  reader.data = g_bytes_get_data (bytes, &reader.len);
  if (reader.len < sizeof signature || memcmp (reader.data, signature, sizeof signature) != 0)
    return NULL;
  surface = cairo_image_surface_create_from_png_stream (png_read_cb, &reader);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS ||
      cairo_image_surface_get_width (surface) <= 0 || cairo_image_surface_get_height (surface) <= 0)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }
  return surface;
}

static void
draw_placeholder (cairo_t         *cr,
                  const FlowShape *shape)
{
  double w = shape->w, h = shape->h;
  double dashes[] = { 6.0, 4.0 };

  cairo_rectangle (cr, 0, 0, w, h);
  cairo_set_source_rgb (cr, 0.93, 0.93, 0.93);
  cairo_fill_preserve (cr);
  cairo_set_source_rgb (cr, 0.55, 0.55, 0.55);
  cairo_set_line_width (cr, 2);
  cairo_set_dash (cr, dashes, G_N_ELEMENTS (dashes), 0);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, 0, 0);
  cairo_line_to (cr, w, h);
  cairo_move_to (cr, w, 0);
  cairo_line_to (cr, 0, h);
  cairo_set_line_width (cr, 1.5);
  cairo_stroke (cr);
}

/* The decoded image of @shape: cached on the scene's shape, also for a
 * copy that still carries its bytes; else decoded into *@to_free. */
static cairo_surface_t *
get_image (const Pass       *pass,
           const FlowShape  *shape,
           FlowSceneShape   *own,
           cairo_surface_t **to_free)
{
  if (own == NULL)
    {
      FlowSceneShape *orig = (FlowSceneShape *) flow_scene_lookup (pass->scene, &shape->id);

      if (orig == NULL || orig->pub.image != shape->image)
        return *to_free = shape->image != NULL ? decode_png (shape->image) : NULL;
      own = orig;
    }
  if (!own->image_tried)
    {
      own->image_tried = TRUE;
      if (own->pub.image != NULL)
        own->surface = decode_png (own->pub.image);
    }
  return own->surface;
}

static void
draw_image (cairo_t         *cr,
            const Pass      *pass,
            const FlowShape *shape,
            FlowSceneShape  *own)
{
  cairo_surface_t *to_free = NULL;
  cairo_surface_t *surface = get_image (pass, shape, own, &to_free);
  double iw, ih;

  enter_box (cr, shape);
  if (surface == NULL)
    {
      draw_placeholder (cr, shape);
      return;
    }
  iw = cairo_image_surface_get_width (surface);
  ih = cairo_image_surface_get_height (surface);
  cairo_rectangle (cr, 0, 0, shape->w, shape->h);
  cairo_clip (cr);
  cairo_scale (cr, shape->w / iw, shape->h / ih);
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_paint (cr);
  g_clear_pointer (&to_free, cairo_surface_destroy);
}

static void
draw_kind (cairo_t         *cr,
           const Pass      *pass,
           const FlowShape *shape,
           FlowSceneShape  *own)
{
  switch (shape->kind)
    {
    case FLOW_SHAPE_RECT:
    case FLOW_SHAPE_ELLIPSE:
    case FLOW_SHAPE_DIAMOND:
      draw_closed (cr, pass, shape);
      break;
    case FLOW_SHAPE_LINE:
    case FLOW_SHAPE_ARROW:
      draw_line (cr, pass, shape, own);
      break;
    case FLOW_SHAPE_STROKE:
      draw_freehand (cr, pass, shape, own);
      break;
    case FLOW_SHAPE_TEXT:
      enter_box (cr, shape);
      if (has_alpha (shape->fill))
        {
          cairo_rectangle (cr, 0, 0, shape->w, shape->h);
          set_rgba (cr, shape->fill);
          cairo_fill (cr);
        }
      draw_text (cr, pass, shape, own);
      break;
    case FLOW_SHAPE_STICKY:
      draw_sticky (cr, pass, shape, own);
      break;
    case FLOW_SHAPE_IMAGE:
      draw_image (cr, pass, shape, own);
      break;
    default:
      break;
    }
}

/* Level of detail: a shape under LOD_SHAPE_PX on screen is its bounds
 * filled with its main colour (half as strong for lines and strokes). */
static void
draw_dot (cairo_t         *cr,
          const FlowShape *shape)
{
  gboolean line = shape->kind == FLOW_SHAPE_LINE || shape->kind == FLOW_SHAPE_ARROW ||
                  shape->kind == FLOW_SHAPE_STROKE;
  guint32 color;

  if (shape->kind == FLOW_SHAPE_IMAGE)
    color = 0xbbbbbbff;
  else if (!line && has_alpha (shape->fill))
    color = shape->fill;
  else if (shape->kind == FLOW_SHAPE_STICKY)
    color = FLOW_SCENE_DEFAULT_STICKY_FILL;
  else
    color = shape->stroke;
  cairo_rectangle (cr, shape->bounds.x, shape->bounds.y, shape->bounds.width,
                   shape->bounds.height);
  flow_render_set_source_color (cr, color, shape->opacity * (line ? 0.5 : 1.0));
  cairo_fill (cr);
}

/* Clips a translucent shape's group to what it can paint: its bounds, and
 * for text that overflows its box, the box stretched to the text. Keeps
 * the group surface small instead of the size of the target. */
static void
clip_group (cairo_t         *cr,
            const Pass      *pass,
            const FlowShape *shape,
            FlowSceneShape  *own)
{
  FlowRect r = shape->bounds;

  if ((shape->kind == FLOW_SHAPE_TEXT || shape->kind == FLOW_SHAPE_STICKY) && has_text (shape))
    {
      g_autoptr(PangoLayout) to_free = NULL;
      PangoLayout *layout = get_layout (pass, shape, own, &to_free);
      double right, bottom;

      /* The text's box, rotated about the shape's centre like the shape. */
      layout_extent (shape, layout, &right, &bottom);
      text_paint_rect (shape, right, bottom, &r);
    }
  cairo_rectangle (cr, r.x, r.y, r.width, r.height);
  cairo_clip (cr);
}

/* Draws one shape; @own is @shape as the scene's record (with its caches)
 * or %NULL for a copy. Leaves @cr's state as it found it. */
static void
render_one (cairo_t         *cr,
            const Pass      *pass,
            const FlowShape *shape,
            FlowSceneShape  *own)
{
  gboolean group;

  if (shape->opacity <= 0)
    return;
  if (pass->lod && MAX (shape->bounds.width, shape->bounds.height) * pass->scale < LOD_SHAPE_PX)
    {
      draw_dot (cr, shape);
      return;
    }
  /* A group so that fill and outline fade together, not through each other. */
  group = shape->opacity < 1;
  cairo_save (cr);
  if (group)
    {
      clip_group (cr, pass, shape, own);
      cairo_push_group (cr);
    }
  draw_kind (cr, pass, shape, own);
  if (group)
    {
      cairo_pop_group_to_source (cr);
      cairo_paint_with_alpha (cr, shape->opacity);
    }
  cairo_restore (cr);
}

static gboolean
export_shapes (FlowScene      *scene,
               const FlowOpId *ids,
               guint           n_ids,
               GPtrArray      *shapes,
               FlowRect       *bounds)
{
  if (ids == NULL)
    for (guint i = 0; i < flow_scene_get_n_shapes (scene); i++)
      g_ptr_array_add (shapes, (gpointer) flow_scene_get_nth (scene, i));
  else
    for (guint i = 0; i < n_ids; i++)
      {
        const FlowShape *shape = flow_scene_lookup (scene, &ids[i]);

        if (shape != NULL && !g_ptr_array_find (shapes, shape, NULL))
          g_ptr_array_add (shapes, (gpointer) shape);
      }
  g_ptr_array_sort (shapes, flow_shape_z_cmp);
  return flow_scene_union_bounds (shapes, bounds);
}

static cairo_status_t
stream_write_cb (void                *closure,
                 const unsigned char *data,
                 unsigned int         length)
{
  GOutputStream *stream = G_OUTPUT_STREAM (((gpointer *) closure)[0]);
  GError **error = ((gpointer *) closure)[1];

  if (*error != NULL)
    return CAIRO_STATUS_WRITE_ERROR;
  if (!g_output_stream_write_all (stream, data, length, NULL, NULL, error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

static void
draw_export (cairo_t        *cr,
             FlowScene      *scene,
             GPtrArray      *shapes,
             const FlowRect *bounds,
             double          scale)
{
  Pass pass;

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  cairo_translate (cr, EXPORT_MARGIN - bounds->x, EXPORT_MARGIN - bounds->y);
  pass_init (&pass, cr, scene, FALSE);
  for (guint i = 0; i < shapes->len; i++)
    render_one (cr, &pass, g_ptr_array_index (shapes, i), g_ptr_array_index (shapes, i));
}

/* ------------------------------------------------------------------------
 * API implementation
 * ------------------------------------------------------------------------ */

/**
 * flow_render_shape:
 * @cr: a cairo context in board space
 * @shape: a shape of @scene, or a modified copy of one (a drag preview);
 *   a copy is drawn without the scene's caches
 *
 * Draws one shape with its colours, width, opacity and rotation, with the
 * level of detail of the current zoom. Leaves @cr's state as it found it.
 */
void
flow_render_shape (cairo_t         *cr,
                   FlowScene       *scene,
                   const FlowShape *shape)
{
  Pass pass;

  g_return_if_fail (cr != NULL && scene != NULL && shape != NULL);

  pass_init (&pass, cr, scene, TRUE);
  render_one (cr, &pass, shape, flow_scene_get_own (scene, shape));
}

/**
 * flow_render_scene:
 * @visible: the board rectangle to draw, or %NULL for everything
 *
 * Draws the shapes whose bounds meet @visible, bottom to top.
 */
void
flow_render_scene (cairo_t        *cr,
                   FlowScene      *scene,
                   const FlowRect *visible)
{
  g_autoptr(GPtrArray) shapes = NULL;
  Pass pass;

  g_return_if_fail (cr != NULL && scene != NULL);

  pass_init (&pass, cr, scene, TRUE);
  if (visible == NULL)
    {
      for (guint i = 0; i < flow_scene_get_n_shapes (scene); i++)
        {
          const FlowShape *shape = flow_scene_get_nth (scene, i);

          render_one (cr, &pass, shape, (FlowSceneShape *) shape);
        }
      return;
    }
  shapes = g_ptr_array_sized_new (1024);
  flow_scene_query_paint (scene, visible, shapes);
  for (guint i = 0; i < shapes->len; i++)
    render_one (cr, &pass, g_ptr_array_index (shapes, i), g_ptr_array_index (shapes, i));
}

/* ------------------------------------------------------------------------
 * Internal API (flow-render-private.h)
 * ------------------------------------------------------------------------ */

/* Draws @shapes (the scene's own, bottom to top) like flow_render_scene():
 * one pass, with level of detail. */
void
flow_render_shapes (cairo_t   *cr,
                    FlowScene *scene,
                    GPtrArray *shapes)
{
  Pass pass;

  pass_init (&pass, cr, scene, TRUE);
  for (guint i = 0; i < shapes->len; i++)
    render_one (cr, &pass, g_ptr_array_index (shapes, i), g_ptr_array_index (shapes, i));
}

/**
 * flow_render_export:
 * @ids: (array length=n_ids) (nullable): the shapes to export, or %NULL
 *   for the whole board
 * @scale: pixels (PNG) or points (SVG, PDF) per board unit, > 0
 * @stream: where the file goes; not closed
 *
 * Exports on a white background, fitted to the shapes' bounds plus a
 * margin of 16 board units.
 *
 * Returns: %TRUE on success; %FLOW_RENDER_ERROR_EMPTY when there is
 *   nothing to export, %FLOW_RENDER_ERROR_TOO_LARGE beyond 16384 pixels a
 *   side, or the stream's error
 */
gboolean
flow_render_export (FlowScene         *scene,
                    const FlowOpId    *ids,
                    guint              n_ids,
                    FlowExportFormat   format,
                    double             scale,
                    GOutputStream     *stream,
                    GError           **error)
{
  g_autoptr(GPtrArray) shapes = g_ptr_array_new ();
  g_autoptr(GError) write_error = NULL;
  gpointer closure[2] = { stream, &write_error };
  cairo_surface_t *surface;
  cairo_status_t status;
  FlowRect bounds;
  double w, h;
  cairo_t *cr;

  g_return_val_if_fail (scene != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (scale > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!export_shapes (scene, ids, n_ids, shapes, &bounds))
    {
      g_set_error_literal (error, FLOW_RENDER_ERROR, FLOW_RENDER_ERROR_EMPTY,
                           ids == NULL ? "The board has no shapes to export"
                                       : "None of the selected shapes exist");
      return FALSE;
    }
  w = ceil ((bounds.width + 2 * EXPORT_MARGIN) * scale);
  h = ceil ((bounds.height + 2 * EXPORT_MARGIN) * scale);
  if (w > MAX_EXPORT_PIXELS || h > MAX_EXPORT_PIXELS)
    {
      g_set_error (error, FLOW_RENDER_ERROR, FLOW_RENDER_ERROR_TOO_LARGE,
                   "The export would be %.0f × %.0f; at most %.0f a side fits, try a smaller scale",
                   w, h, MAX_EXPORT_PIXELS);
      return FALSE;
    }

  switch (format)
    {
    case FLOW_EXPORT_SVG:
      surface = cairo_svg_surface_create_for_stream (stream_write_cb, closure, w, h);
      break;
    case FLOW_EXPORT_PDF:
      surface = cairo_pdf_surface_create_for_stream (stream_write_cb, closure, w, h);
      break;
    case FLOW_EXPORT_PNG:
    default:
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) w, (int) h);
      break;
    }
  cr = cairo_create (surface);
  draw_export (cr, scene, shapes, &bounds, scale);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS && format == FLOW_EXPORT_PNG)
    status = cairo_surface_write_to_png_stream (surface, stream_write_cb, closure);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (write_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&write_error));
      return FALSE;
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FLOW_RENDER_ERROR, FLOW_RENDER_ERROR_FAILED,
                   "Drawing the export failed: %s", cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

/**
 * flow_export_format_from_string:
 * @name: "png", "svg" or "pdf"
 * @format: (out): the format
 *
 * Returns: whether @name names a format
 */
gboolean
flow_export_format_from_string (const char       *name,
                                FlowExportFormat *format)
{
  static const char * const names[] = { "png", "svg", "pdf" };

  g_return_val_if_fail (format != NULL, FALSE);

  if (name == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_ascii_strcasecmp (name, names[i]) == 0)
      {
        *format = (FlowExportFormat) i;
        return TRUE;
      }
  return FALSE;
}
