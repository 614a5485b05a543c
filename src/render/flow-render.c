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
 * off, so the layout does not change with the zoom.
 */

#define G_LOG_DOMAIN "flow-render"

#include "config.h"

#include <math.h>
#include <string.h>

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <pango/pangocairo.h>

#include "flow-render.h"
#include "flow-scene-private.h"

#define EXPORT_MARGIN 16.0
#define STICKY_PADDING 12.0
#define STROKE_SUBDIVISIONS 4
#define MAX_EXPORT_PIXELS 16384.0

G_DEFINE_QUARK (flow-render-error-quark, flow_render_error)

/* ------------------------------------------------------------------------
 * Private functions
 * ------------------------------------------------------------------------ */

static void
set_rgba (cairo_t *cr,
          guint32  rgba)
{
  cairo_set_source_rgba (cr,
                         ((rgba >> 24) & 0xff) / 255.0,
                         ((rgba >> 16) & 0xff) / 255.0,
                         ((rgba >> 8) & 0xff) / 255.0,
                         (rgba & 0xff) / 255.0);
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
  cairo_rotate (cr, shape->rotation);
  cairo_translate (cr, -shape->w / 2, -shape->h / 2);
}

static void
path_closed (cairo_t         *cr,
             const FlowShape *shape)
{
  double w = shape->w, h = shape->h;

  if (shape->kind == FLOW_SHAPE_ELLIPSE)
    {
      cairo_save (cr);
      cairo_translate (cr, w / 2, h / 2);
      cairo_scale (cr, MAX (w / 2, 1e-3), MAX (h / 2, 1e-3));
      cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
      cairo_restore (cr);
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

static void
fill_and_stroke (cairo_t         *cr,
                 const FlowShape *shape)
{
  if (has_alpha (shape->fill))
    {
      set_rgba (cr, shape->fill);
      cairo_fill_preserve (cr);
    }
  if (has_alpha (shape->stroke) && shape->stroke_width > 0)
    {
      set_rgba (cr, shape->stroke);
      cairo_set_line_width (cr, shape->stroke_width);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_stroke_preserve (cr);
    }
  cairo_new_path (cr);
}

static void
draw_closed (cairo_t         *cr,
             const FlowShape *shape)
{
  enter_box (cr, shape);
  path_closed (cr, shape);
  fill_and_stroke (cr, shape);
}

static void
draw_arrow_head (cairo_t              *cr,
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
  cairo_stroke (cr);
}

static void
draw_line (cairo_t         *cr,
           FlowScene       *scene,
           const FlowShape *shape)
{
  g_autofree FlowScenePoint *p = NULL;
  guint n;

  if (!has_alpha (shape->stroke) || shape->stroke_width <= 0)
    return;
  p = flow_scene_dup_world_points (scene, shape, &n);
  set_rgba (cr, shape->stroke);
  cairo_set_line_width (cr, shape->stroke_width);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_move_to (cr, p[0].x, p[0].y);
  for (guint i = 1; i < n; i++)
    cairo_line_to (cr, p[i].x, p[i].y);
  if (n == 1)
    cairo_line_to (cr, p[0].x, p[0].y);
  cairo_stroke (cr);
  if (shape->kind == FLOW_SHAPE_ARROW && n > 1)
    draw_arrow_head (cr, shape, &p[n - 2], &p[n - 1]);
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
stroke_radius (const FlowShape      *shape,
               const FlowScenePoint *p)
{
  /* Pressure 0.5 (and a mouse, which reports none) gives the nominal width;
   * the range is 0.5x to 1.5x. */
  double pressure = p->pressure > 0 ? p->pressure : 0.5;

  return shape->stroke_width / 2 * (0.5 + pressure);
}

/* One positively oriented subpath per disc and per segment hull, filled
 * with the winding rule: their union, with no seams and no double
 * blending where the pen crosses itself. */
static void
draw_freehand (cairo_t         *cr,
               FlowScene       *scene,
               const FlowShape *shape)
{
  g_autofree FlowScenePoint *raw = NULL;
  g_autofree FlowScenePoint *p = NULL;
  guint n_raw, n;

  if (!has_alpha (shape->stroke) || shape->stroke_width <= 0)
    return;
  raw = flow_scene_dup_world_points (scene, shape, &n_raw);
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

static PangoLayout *
create_layout (cairo_t         *cr,
               const FlowShape *shape,
               double           width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  PangoContext *context = pango_layout_get_context (layout);
  cairo_font_options_t *options = cairo_font_options_create ();
  PangoFontDescription *desc = pango_font_description_from_string ("Sans");

  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_antialias (options, CAIRO_ANTIALIAS_GRAY);
  pango_cairo_context_set_font_options (context, options);
  cairo_font_options_destroy (options);
  pango_context_set_round_glyph_positions (context, FALSE);
  pango_layout_context_changed (layout);

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

static void
draw_text (cairo_t         *cr,
           const FlowShape *shape,
           double           inset)
{
  g_autoptr(PangoLayout) layout = NULL;

  if (shape->text == NULL || shape->text[0] == '\0' || !has_alpha (shape->stroke))
    return;
  layout = create_layout (cr, shape, shape->w - 2 * inset);
  cairo_move_to (cr, inset, inset);
  set_rgba (cr, shape->stroke);
  pango_cairo_show_layout (cr, layout);
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
             const FlowShape *shape)
{
  enter_box (cr, shape);
  /* A soft shadow: stacked translucent rounded rects, widest first. */
  for (int i = 6; i >= 1; i--)
    {
      double spread = i * 2.0;

      rounded_rect (cr, 2 - spread / 2, 5 - spread / 2, shape->w + spread, shape->h + spread,
                    4 + spread / 2);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.035);
      cairo_fill (cr);
    }
  rounded_rect (cr, 0, 0, shape->w, shape->h, 3);
  set_rgba (cr, has_alpha (shape->fill) ? shape->fill : FLOW_SCENE_DEFAULT_STICKY_FILL);
  cairo_fill (cr);
  draw_text (cr, shape, STICKY_PADDING);
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

static void
draw_image (cairo_t         *cr,
            const FlowShape *shape)
{
  FlowSceneShape *s = (FlowSceneShape *) shape;
  double iw, ih;

  enter_box (cr, shape);
  if (!s->image_tried)
    {
      s->image_tried = TRUE;
      if (shape->image != NULL)
        s->surface = decode_png (shape->image);
    }
  if (s->surface == NULL)
    {
      draw_placeholder (cr, shape);
      return;
    }
  iw = cairo_image_surface_get_width (s->surface);
  ih = cairo_image_surface_get_height (s->surface);
  cairo_rectangle (cr, 0, 0, shape->w, shape->h);
  cairo_clip (cr);
  cairo_scale (cr, shape->w / iw, shape->h / ih);
  cairo_set_source_surface (cr, s->surface, 0, 0);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_paint (cr);
}

static void
draw_kind (cairo_t         *cr,
           FlowScene       *scene,
           const FlowShape *shape)
{
  switch (shape->kind)
    {
    case FLOW_SHAPE_RECT:
    case FLOW_SHAPE_ELLIPSE:
    case FLOW_SHAPE_DIAMOND:
      draw_closed (cr, shape);
      break;
    case FLOW_SHAPE_LINE:
    case FLOW_SHAPE_ARROW:
      draw_line (cr, scene, shape);
      break;
    case FLOW_SHAPE_STROKE:
      draw_freehand (cr, scene, shape);
      break;
    case FLOW_SHAPE_TEXT:
      enter_box (cr, shape);
      if (has_alpha (shape->fill))
        {
          cairo_rectangle (cr, 0, 0, shape->w, shape->h);
          set_rgba (cr, shape->fill);
          cairo_fill (cr);
        }
      draw_text (cr, shape, 0);
      break;
    case FLOW_SHAPE_STICKY:
      draw_sticky (cr, shape);
      break;
    case FLOW_SHAPE_IMAGE:
      draw_image (cr, shape);
      break;
    default:
      break;
    }
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
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, scale, scale);
  cairo_translate (cr, EXPORT_MARGIN - bounds->x, EXPORT_MARGIN - bounds->y);
  for (guint i = 0; i < shapes->len; i++)
    flow_render_shape (cr, scene, g_ptr_array_index (shapes, i));
}

/* ------------------------------------------------------------------------
 * API implementation
 * ------------------------------------------------------------------------ */

/**
 * flow_render_shape:
 * @cr: a cairo context in board space
 * @shape: a shape of @scene
 *
 * Draws one shape with its colours, width, opacity and rotation. Leaves
 * @cr's state as it found it.
 */
void
flow_render_shape (cairo_t         *cr,
                   FlowScene       *scene,
                   const FlowShape *shape)
{
  gboolean group;

  g_return_if_fail (cr != NULL && scene != NULL && shape != NULL);

  if (shape->opacity <= 0)
    return;
  /* A group so that fill and outline fade together, not through each other. */
  group = shape->opacity < 1;
  cairo_save (cr);
  if (group)
    cairo_push_group (cr);
  draw_kind (cr, scene, shape);
  if (group)
    {
      cairo_pop_group_to_source (cr);
      cairo_paint_with_alpha (cr, shape->opacity);
    }
  cairo_restore (cr);
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

  g_return_if_fail (cr != NULL && scene != NULL);

  if (visible == NULL)
    {
      for (guint i = 0; i < flow_scene_get_n_shapes (scene); i++)
        flow_render_shape (cr, scene, flow_scene_get_nth (scene, i));
      return;
    }
  shapes = g_ptr_array_new ();
  flow_scene_query (scene, visible, shapes);
  for (guint i = 0; i < shapes->len; i++)
    flow_render_shape (cr, scene, g_ptr_array_index (shapes, i));
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
