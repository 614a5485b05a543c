/* test-render.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * src/render: the scene (z-order, incremental updates, the grid index,
 * hit-testing, bound arrows), golden images of every shape kind, and the
 * SVG and PDF exports rasterised back and compared with the PNG export.
 *
 * Golden images live in tests/data/render/. Regenerate them with
 * FLOWSYNC_UPDATE_GOLDEN=1 and look at them before committing. A mismatch
 * leaves NAME-actual.png in the build directory.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "flow-board.h"
#include "flow-render.h"
#include "flow-scene-private.h"
#include "flow-test-util.h"

static const FlowOpId doc_id = { 0, 0 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static FlowDoc *
new_board (void)
{
  return flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
}

static void
set_num (FlowDoc        *board,
         const FlowOpId *id,
         const char     *key,
         double          value)
{
  flow_test_set (board, id, key, flow_value_new_number (value));
}

static void
set_color (FlowDoc        *board,
           const FlowOpId *id,
           const char     *key,
           guint32         rgba)
{
  flow_test_set (board, id, key, flow_value_new_color (rgba));
}

static FlowOpId
add_line (FlowDoc         *board,
          const char      *kind,
          double           x,
          double           y,
          const FlowPoint *points,
          guint            n_points)
{
  double w = 0, h = 0;
  FlowOpId id;

  for (guint i = 0; i < n_points; i++)
    {
      w = MAX (w, points[i].x);
      h = MAX (h, points[i].y);
    }
  id = flow_test_add_shape (board, kind, x, y, w, h);
  flow_test_set (board, &id, "points", flow_value_new_points (points, n_points));
  return id;
}

static void
set_text (FlowDoc        *board,
          const FlowOpId *id,
          const char     *text)
{
  flow_test_set (board, id, "text", flow_value_new_string (text));
}

static cairo_status_t
bytes_write_cb (void                *closure,
                const unsigned char *data,
                unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* A 32x24 PNG: a red-to-blue gradient with a white diagonal. */
static GBytes *
make_png (void)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 32, 24);
  cairo_t *cr = cairo_create (s);
  cairo_pattern_t *p = cairo_pattern_create_linear (0, 0, 32, 0);
  GByteArray *out = g_byte_array_new ();

  cairo_pattern_add_color_stop_rgb (p, 0, 0.9, 0.1, 0.1);
  cairo_pattern_add_color_stop_rgb (p, 1, 0.1, 0.2, 0.9);
  cairo_set_source (cr, p);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_set_line_width (cr, 3);
  cairo_move_to (cr, 0, 0);
  cairo_line_to (cr, 32, 24);
  cairo_stroke (cr);
  cairo_pattern_destroy (p);
  cairo_destroy (cr);
  cairo_surface_write_to_png_stream (s, bytes_write_cb, out);
  cairo_surface_destroy (s);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
export_bytes (FlowScene        *scene,
              const FlowOpId   *ids,
              guint             n_ids,
              FlowExportFormat  format,
              double            scale)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;

  flow_render_export (scene, ids, n_ids, format, scale, out, &error);
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, &error);
  g_assert_no_error (error);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

typedef struct
{
  const guint8 *data;
  gsize         len, pos;
} Reader;

static cairo_status_t
bytes_read_cb (void          *closure,
               unsigned char *data,
               unsigned int   length)
{
  Reader *r = closure;

  if (r->len - r->pos < length)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, r->data + r->pos, length);
  r->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

static cairo_surface_t *
surface_from_png (GBytes *bytes)
{
  Reader r = { 0 };
  cairo_surface_t *s;

  r.data = g_bytes_get_data (bytes, &r.len);
  s = cairo_image_surface_create_from_png_stream (bytes_read_cb, &r);
  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  return s;
}

/* Reads the pixel at (x, y) as 0xRRGGBB (the exports are opaque). */
static guint32
pixel_at (cairo_surface_t *s,
          int              x,
          int              y)
{
  const guint8 *row;

  cairo_surface_flush (s);
  row = cairo_image_surface_get_data (s) + y * cairo_image_surface_get_stride (s);
  return ((const guint32 *) row)[x] & 0xffffff;
}

typedef struct
{
  int    max_diff;      /* largest channel difference */
  double fraction;      /* pixels whose channels differ by more than the threshold */
} Diff;

/* Compares two images channel by channel. Sizes must match. */
static Diff
compare_surfaces (cairo_surface_t *a,
                  cairo_surface_t *b,
                  int              threshold)
{
  int w = cairo_image_surface_get_width (a), h = cairo_image_surface_get_height (a);
  guint n_diff = 0;
  Diff d = { 0, 0 };

  g_assert_cmpint (w, ==, cairo_image_surface_get_width (b));
  g_assert_cmpint (h, ==, cairo_image_surface_get_height (b));
  cairo_surface_flush (a);
  cairo_surface_flush (b);
  for (int y = 0; y < h; y++)
    {
      const guint8 *ra = cairo_image_surface_get_data (a) + y * cairo_image_surface_get_stride (a);
      const guint8 *rb = cairo_image_surface_get_data (b) + y * cairo_image_surface_get_stride (b);

      for (int x = 0; x < w; x++)
        {
          int worst = 0;

          for (int c = 0; c < 4; c++)
            worst = MAX (worst, ABS ((int) ra[4 * x + c] - (int) rb[4 * x + c]));
          d.max_diff = MAX (d.max_diff, worst);
          n_diff += worst > threshold;
        }
    }
  d.fraction = (double) n_diff / ((double) w * h);
  return d;
}

static gboolean
update_golden (void)
{
  return g_strcmp0 (g_getenv ("FLOWSYNC_UPDATE_GOLDEN"), "1") == 0;
}

/* Exports @scene as PNG and compares it with tests/data/render/@name.png:
 * at most 0.5% of the pixels may differ by more than 32 in any channel. */
static void
assert_golden (FlowScene  *scene,
               const char *name)
{
  g_autoptr(GBytes) png = export_bytes (scene, NULL, 0, FLOW_EXPORT_PNG, 1.0);
  g_autofree char *file = g_strdup_printf ("%s.png", name);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "render", file, NULL);
  g_autofree char *actual = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) expected = NULL;
  cairo_surface_t *a, *b;
  gchar *contents;
  gsize len;
  Diff d;

  if (update_golden ())
    {
      g_file_set_contents (path, g_bytes_get_data (png, NULL), g_bytes_get_size (png), &error);
      g_assert_no_error (error);
      g_test_message ("wrote %s", path);
      return;
    }
  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  expected = g_bytes_new_take (contents, len);
  a = surface_from_png (png);
  b = surface_from_png (expected);
  if (cairo_image_surface_get_width (a) == cairo_image_surface_get_width (b) &&
      cairo_image_surface_get_height (a) == cairo_image_surface_get_height (b))
    {
      d = compare_surfaces (a, b, 32);
      g_test_message ("%s: max channel diff %d, %.4f%% of pixels differ", name, d.max_diff,
                      100 * d.fraction);
    }
  else
    d = (Diff) { 255, 1.0 };
  if (d.fraction > 0.005)
    {
      actual = g_test_build_filename (G_TEST_BUILT, file, NULL);
      actual[strlen (actual) - 4] = '\0';
      actual = g_strconcat (actual, "-actual.png", NULL);
      cairo_surface_write_to_png (a, actual);
      g_test_message ("%s differs from its golden image; see %s", name, actual);
    }
  cairo_surface_destroy (a);
  cairo_surface_destroy (b);
  g_assert_cmpfloat (d.fraction, <=, 0.005);
}

static gboolean
rect_intersects (const FlowRect *a,
                 const FlowRect *b)
{
  return a->x <= b->x + b->width && b->x <= a->x + a->width &&
         a->y <= b->y + b->height && b->y <= a->y + a->height;
}

/* Asserts that the incrementally updated @scene equals a fresh one. */
static void
assert_scene_fresh (FlowScene *scene)
{
  g_autoptr(FlowScene) fresh = flow_scene_new (flow_scene_get_doc (scene));
  g_autoptr(GArray) ordered = flow_doc_list_ordered (flow_scene_get_doc (scene));

  g_assert_cmpuint (flow_scene_get_n_shapes (scene), ==, flow_scene_get_n_shapes (fresh));
  g_assert_cmpuint (flow_scene_get_n_shapes (scene), ==, ordered->len);
  for (guint i = 0; i < flow_scene_get_n_shapes (scene); i++)
    {
      const FlowShape *a = flow_scene_get_nth (scene, i);
      const FlowShape *b = flow_scene_get_nth (fresh, i);

      g_assert_true (flow_op_id_equal (&a->id, &b->id));
      g_assert_true (flow_op_id_equal (&a->id, &g_array_index (ordered, FlowOpId, i)));
      g_assert_cmpuint (a->z, ==, i);
      g_assert_true (flow_scene_lookup (scene, &a->id) == a);
      g_assert_cmpfloat_with_epsilon (a->bounds.x, b->bounds.x, 1e-9);
      g_assert_cmpfloat_with_epsilon (a->bounds.y, b->bounds.y, 1e-9);
      g_assert_cmpfloat_with_epsilon (a->bounds.width, b->bounds.width, 1e-9);
      g_assert_cmpfloat_with_epsilon (a->bounds.height, b->bounds.height, 1e-9);
    }
}

/* Asserts flow_scene_query() returns exactly the shapes whose bounds meet
 * @r, bottom to top. */
static void
assert_query_brute (FlowScene      *scene,
                    const FlowRect *r)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new ();
  guint k = 0;

  flow_scene_query (scene, r, got);
  for (guint i = 0; i < flow_scene_get_n_shapes (scene); i++)
    {
      const FlowShape *s = flow_scene_get_nth (scene, i);

      if (!rect_intersects (&s->bounds, r))
        continue;
      g_assert_cmpuint (k, <, got->len);
      g_assert_true (g_ptr_array_index (got, k) == s);
      k++;
    }
  g_assert_cmpuint (k, ==, got->len);
}

/* A change listener that keeps a scene up to date, as the app does. */
static void
scene_follow_cb (FlowDoc    *doc,
                 FlowChange *change,
                 gpointer    user_data)
{
  guint n;
  const FlowOpId *ids = flow_change_get_entities (change, &n);

  flow_scene_update (user_data, ids, n);
}

/* ------------------------------------------------------------------------
 * Golden boards
 * ------------------------------------------------------------------------ */

static void
build_kinds (FlowDoc *board)
{
  static const FlowPoint line[] = { { 0, 0, 0 }, { 120, 40, 0 } };
  static const FlowPoint elbow[] = { { 0, 40, 0 }, { 60, 0, 0 }, { 120, 40, 0 } };
  FlowPoint stroke[24];
  g_autoptr(GBytes) png = make_png ();
  FlowOpId id;

  id = flow_test_add_shape (board, "rect", 20, 20, 120, 80);
  set_color (board, &id, "fill", 0xa5d8ffff);
  set_color (board, &id, "stroke", 0x1971c2ff);
  set_num (board, &id, "stroke_width", 3);
  id = flow_test_add_shape (board, "ellipse", 170, 20, 120, 80);
  set_color (board, &id, "fill", 0xb2f2bbff);
  id = flow_test_add_shape (board, "diamond", 320, 20, 120, 80);
  set_color (board, &id, "stroke", 0xe03131ff);
  set_num (board, &id, "stroke_width", 4);

  add_line (board, "line", 20, 130, line, G_N_ELEMENTS (line));
  id = add_line (board, "arrow", 170, 130, elbow, G_N_ELEMENTS (elbow));
  set_color (board, &id, "stroke", 0x6741d9ff);
  for (guint i = 0; i < G_N_ELEMENTS (stroke); i++)
    stroke[i] = (FlowPoint) { i * 5.0f, 20 + 18 * sinf (i / 3.0f), (float) i / G_N_ELEMENTS (stroke) };
  id = add_line (board, "stroke", 320, 130, stroke, G_N_ELEMENTS (stroke));
  set_num (board, &id, "stroke_width", 6);
  set_color (board, &id, "stroke", 0x2f9e44ff);

  id = flow_test_add_shape (board, "text", 20, 210, 130, 80);
  set_text (board, &id, "Hello, wrapped board text");
  set_num (board, &id, "font_size", 18);
  id = flow_test_add_shape (board, "sticky", 170, 210, 120, 100);
  set_text (board, &id, "Sticky note");
  id = flow_test_add_shape (board, "image", 320, 210, 96, 72);
  flow_test_set (board, &id, "image", flow_value_new_bytes (png));
  flow_test_set (board, &id, "mime_type", flow_value_new_string ("image/png"));
}

static void
test_golden_kinds (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;

  build_kinds (board);
  scene = flow_scene_new (board);
  g_assert_cmpuint (flow_scene_get_n_shapes (scene), ==, 9);
  assert_golden (scene, "kinds");
}

/* Draws @scene at @zoom onto a white 480 x 360 surface the way the canvas
 * does; with @copies, every shape goes through flow_render_shape() as a
 * modified copy would (no scene caches). */
static cairo_surface_t *
draw_view (FlowScene *scene,
           double     zoom,
           gboolean   copies)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 480, 360);
  cairo_t *cr = cairo_create (surface);
  FlowRect view = { 0, 0, 480 / zoom, 360 / zoom };

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_scale (cr, zoom, zoom);
  if (!copies)
    flow_render_scene (cr, scene, &view);
  else
    for (guint i = 0; i < flow_scene_get_n_shapes (scene); i++)
      {
        FlowShape copy = *flow_scene_get_nth (scene, i);

        flow_render_shape (cr, scene, &copy);
      }
  g_assert_cmpint (cairo_status (cr), ==, CAIRO_STATUS_SUCCESS);
  cairo_destroy (cr);
  return surface;
}

/* The renderer's caches (layouts, polylines, images) draw what a fresh
 * copy draws, at full detail and at a level-of-detail zoom, twice over. */
static void
test_caches_match_copies (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  const double zooms[] = { 1.0, 0.1 };

  build_kinds (board);
  scene = flow_scene_new (board);
  for (guint z = 0; z < G_N_ELEMENTS (zooms); z++)
    for (guint round = 0; round < 2; round++)
      {
        cairo_surface_t *cached = draw_view (scene, zooms[z], FALSE);
        cairo_surface_t *copied = draw_view (scene, zooms[z], TRUE);
        Diff d = compare_surfaces (cached, copied, 0);

        g_test_message ("zoom %g: max diff %d", zooms[z], d.max_diff);
        g_assert_cmpint (d.max_diff, ==, 0);
        /* The filled rect shows even where everything is tiny. */
        g_assert_cmphex (pixel_at (cached, (int) (60 * zooms[z]), (int) (50 * zooms[z])), !=, 0xffffff);
        cairo_surface_destroy (cached);
        cairo_surface_destroy (copied);
      }
}

/* Text leaves cairo's current point behind; an ellipse drawn next must not
 * join it with a stray line. */
static void
test_text_then_ellipse (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  cairo_surface_t *surface;
  FlowOpId id;

  id = flow_test_add_shape (board, "text", 20, 20, 100, 30);
  set_text (board, &id, "Hi");
  flow_test_add_shape (board, "ellipse", 300, 250, 100, 60);
  scene = flow_scene_new (board);
  surface = draw_view (scene, 1.0, FALSE);
  /* On the way from the text's origin to the arc's start: white. */
  g_assert_cmphex (pixel_at (surface, 210, 150), ==, 0xffffff);
  cairo_surface_destroy (surface);
}

static void
test_golden_rotation_opacity (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  FlowOpId id;

  id = flow_test_add_shape (board, "rect", 20, 20, 140, 70);
  set_num (board, &id, "rotation", G_PI / 6);
  set_color (board, &id, "fill", 0xffc9c9ff);
  id = flow_test_add_shape (board, "ellipse", 90, 40, 120, 60);
  set_num (board, &id, "rotation", -G_PI / 4);
  set_color (board, &id, "fill", 0x228be6ff);
  set_num (board, &id, "opacity", 0.5);
  set_num (board, &id, "stroke_width", 6);
  id = flow_test_add_shape (board, "diamond", 230, 20, 100, 100);
  set_num (board, &id, "rotation", G_PI / 8);
  set_color (board, &id, "fill", 0xfab005ff);
  set_num (board, &id, "opacity", 0.3);
  id = flow_test_add_shape (board, "text", 40, 140, 200, 40);
  set_text (board, &id, "Tilted");
  set_num (board, &id, "rotation", -0.2);
  set_num (board, &id, "font_size", 28);
  id = flow_test_add_shape (board, "sticky", 250, 130, 100, 80);
  set_num (board, &id, "rotation", 0.1);
  set_color (board, &id, "fill", 0xd0bfffff);
  set_text (board, &id, "Lilac");

  scene = flow_scene_new (board);
  assert_golden (scene, "rotation-opacity");
}

static void
build_bound_arrows (FlowDoc  *board,
                    FlowOpId *a,
                    FlowOpId *b,
                    FlowOpId *arrow)
{
  static const FlowPoint two[] = { { 0, 0, 0 }, { 10, 10, 0 } };
  static const FlowPoint bent[] = { { 0, 0, 0 }, { 100, 120, 0 }, { 200, 0, 0 } };
  FlowOpId one, c;

  *a = flow_test_add_shape (board, "rect", 20, 20, 100, 60);
  *b = flow_test_add_shape (board, "ellipse", 260, 120, 100, 80);
  c = flow_test_add_shape (board, "diamond", 40, 200, 90, 90);
  *arrow = add_line (board, "arrow", 0, 0, two, G_N_ELEMENTS (two));
  flow_test_set (board, arrow, "start", flow_value_new_ref (a));
  flow_test_set (board, arrow, "end", flow_value_new_ref (b));
  /* One end bound, one free; and a bent arrow into the diamond. */
  one = add_line (board, "arrow", 250, 20, two, G_N_ELEMENTS (two));
  flow_test_set (board, &one, "start", flow_value_new_ref (b));
  one = add_line (board, "arrow", 150, 230, bent, G_N_ELEMENTS (bent));
  flow_test_set (board, &one, "end", flow_value_new_ref (&c));
  set_color (board, &one, "stroke", 0xe8590cff);
}

static void
test_golden_bound_arrows (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  FlowOpId a, b, arrow;

  build_bound_arrows (board, &a, &b, &arrow);
  scene = flow_scene_new (board);
  assert_golden (scene, "bound-arrows");
}

/* A corrupt image, a truncated PNG and JPEG bytes all draw the placeholder. */
static void
test_golden_placeholder (void)
{
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0 };
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  g_autoptr(GBytes) png = make_png ();
  g_autoptr(GBytes) garbage = g_bytes_new_static ("not an image at all", 19);
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (png, 0, g_bytes_get_size (png) / 2);
  g_autoptr(GBytes) jpeg_bytes = g_bytes_new_static (jpeg, sizeof jpeg);
  g_autoptr(GBytes) out = NULL;
  cairo_surface_t *s;
  FlowOpId id;

  id = flow_test_add_shape (board, "image", 0, 0, 80, 60);
  flow_test_set (board, &id, "image", flow_value_new_bytes (garbage));
  id = flow_test_add_shape (board, "image", 100, 0, 80, 60);
  flow_test_set (board, &id, "image", flow_value_new_bytes (truncated));
  id = flow_test_add_shape (board, "image", 200, 0, 80, 60);
  flow_test_set (board, &id, "image", flow_value_new_bytes (jpeg_bytes));
  flow_test_set (board, &id, "mime_type", flow_value_new_string ("image/jpeg"));
  flow_test_add_shape (board, "image", 300, 0, 80, 60);    /* no bytes at all */

  scene = flow_scene_new (board);
  assert_golden (scene, "placeholder");

  /* The placeholder's grey at a point off its cross, in every image. */
  out = export_bytes (scene, NULL, 0, FLOW_EXPORT_PNG, 1.0);
  s = surface_from_png (out);
  for (guint i = 0; i < 4; i++)
    g_assert_cmphex (pixel_at (s, 16 + 100 * i + 40, 16 + 15), ==, 0xeeeeee);
  cairo_surface_destroy (s);
}

/* ------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------ */

static void
test_export_empty (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = flow_scene_new (board);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GError) error = NULL;
  FlowOpId missing = { 7, 7 };

  g_assert_false (flow_render_export (scene, NULL, 0, FLOW_EXPORT_PNG, 1, out, &error));
  g_assert_error (error, FLOW_RENDER_ERROR, FLOW_RENDER_ERROR_EMPTY);
  g_clear_error (&error);
  flow_test_add_shape (board, "rect", 0, 0, 10, 10);
  flow_scene_rebuild (scene);
  g_assert_false (flow_render_export (scene, &missing, 1, FLOW_EXPORT_SVG, 1, out, &error));
  g_assert_error (error, FLOW_RENDER_ERROR, FLOW_RENDER_ERROR_EMPTY);
}

static void
test_export_selection (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  g_autoptr(GBytes) png = NULL;
  cairo_surface_t *s;
  FlowOpId a;

  a = flow_test_add_shape (board, "rect", 0, 0, 100, 50);
  set_color (board, &a, "fill", 0xff0000ff);
  flow_test_add_shape (board, "rect", 1000, 1000, 10, 10);
  scene = flow_scene_new (board);
  png = export_bytes (scene, &a, 1, FLOW_EXPORT_PNG, 2.0);
  s = surface_from_png (png);
  /* (100 + stroke + 2 * 16 margin) * 2, and a filled centre. */
  g_assert_cmpint (cairo_image_surface_get_width (s), ==, (int) ceil ((100 + 4 + 32) * 2.0));
  g_assert_cmpint (cairo_image_surface_get_height (s), ==, (int) ceil ((50 + 4 + 32) * 2.0));
  g_assert_cmphex (pixel_at (s, 136, 86), ==, 0xff0000);
  g_assert_cmphex (pixel_at (s, 2, 2), ==, 0xffffff);
  cairo_surface_destroy (s);
}

static gboolean
rasterise (const char * const *argv,
           GError            **error)
{
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                     &status, error))
    return FALSE;
  return g_spawn_check_wait_status (status, error);
}

/* Exports the golden "kinds" board as PNG and as @format, rasterises the
 * latter with an external tool and compares. Text antialiasing differs
 * between renderers, so the tolerance is wider than for the goldens. */
static void
test_export_vector (gconstpointer data)
{
  FlowExportFormat format = GPOINTER_TO_INT (data);
  const char *tool = format == FLOW_EXPORT_SVG ? "rsvg-convert" : "pdftoppm";
  g_autofree char *tool_path = g_find_program_in_path (tool);
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GBytes) vec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *in = NULL;
  g_autofree char *out = NULL;
  g_autofree char *w = NULL;
  g_autofree char *h = NULL;
  cairo_surface_t *a, *b;
  Diff d;

  if (tool_path == NULL)
    {
      g_test_skip ("rsvg-convert or pdftoppm is not installed");
      return;
    }
  build_kinds (board);
  scene = flow_scene_new (board);
  png = export_bytes (scene, NULL, 0, FLOW_EXPORT_PNG, 1.0);
  vec = export_bytes (scene, NULL, 0, format, 1.0);
  a = surface_from_png (png);
  w = g_strdup_printf ("%d", cairo_image_surface_get_width (a));
  h = g_strdup_printf ("%d", cairo_image_surface_get_height (a));
  dir = g_dir_make_tmp ("flowsync-render-XXXXXX", &error);
  g_assert_no_error (error);
  in = g_build_filename (dir, format == FLOW_EXPORT_SVG ? "board.svg" : "board.pdf", NULL);
  out = g_build_filename (dir, "board.png", NULL);
  g_file_set_contents (in, g_bytes_get_data (vec, NULL), g_bytes_get_size (vec), &error);
  g_assert_no_error (error);
  if (format == FLOW_EXPORT_SVG)
    {
      const char *argv[] = { tool_path, "-w", w, "-h", h, "-b", "white", "-o", out, in, NULL };

      rasterise (argv, &error);
    }
  else
    {
      g_autofree char *prefix = g_build_filename (dir, "board", NULL);
      const char *argv[] = { tool_path, "-png", "-singlefile", "-r", "72",
                             "-scale-to-x", w, "-scale-to-y", h, in, prefix, NULL };

      rasterise (argv, &error);
    }
  g_assert_no_error (error);
  b = cairo_image_surface_create_from_png (out);
  g_assert_cmpint (cairo_surface_status (b), ==, CAIRO_STATUS_SUCCESS);
  d = compare_surfaces (a, b, 64);
  g_test_message ("%s: max channel diff %d, %.4f%% of pixels differ by > 64", tool, d.max_diff,
                  100 * d.fraction);
  /* poppler hints text harder than cairo does: a few more glyph edges. */
  g_assert_cmpfloat (d.fraction, <=, format == FLOW_EXPORT_SVG ? 0.01 : 0.025);
  cairo_surface_destroy (a);
  cairo_surface_destroy (b);
  g_remove (in);
  g_remove (out);
  g_rmdir (dir);
}

/* ------------------------------------------------------------------------
 * Scene
 * ------------------------------------------------------------------------ */

static void
test_hit_rotation (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  FlowOpId id;

  /* A 200x20 bar turned 90 degrees about its centre (100, 10): it now
   * covers x 90..110, y -90..110. */
  id = flow_test_add_shape (board, "rect", 0, 0, 200, 20);
  set_num (board, &id, "rotation", G_PI / 2);
  scene = flow_scene_new (board);
  g_assert_nonnull (flow_scene_hit_test (scene, 100, -80, 1));
  g_assert_nonnull (flow_scene_hit_test (scene, 100, 100, 1));
  g_assert_null (flow_scene_hit_test (scene, 10, 10, 1));
  g_assert_null (flow_scene_hit_test (scene, 190, 10, 1));
  /* Tolerance reaches past the outline (stroke 2: 1 + 3 slack). */
  g_assert_nonnull (flow_scene_hit_test (scene, 113.5, 0, 3));
  g_assert_null (flow_scene_hit_test (scene, 115, 0, 3));
}

static void
test_hit_shapes (void)
{
  static const FlowPoint diag[] = { { 0, 0, 0 }, { 100, 100, 0 } };
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  FlowOpId ellipse, diamond, line;
  const FlowShape *hit;

  ellipse = flow_test_add_shape (board, "ellipse", 0, 0, 100, 100);
  diamond = flow_test_add_shape (board, "diamond", 200, 0, 100, 100);
  line = add_line (board, "line", 400, 0, diag, G_N_ELEMENTS (diag));
  scene = flow_scene_new (board);

  /* Inside counts for closed shapes, filled or not; the box corners don't. */
  hit = flow_scene_hit_test (scene, 50, 50, 0);
  g_assert_true (hit && flow_op_id_equal (&hit->id, &ellipse));
  g_assert_null (flow_scene_hit_test (scene, 8, 8, 1));
  hit = flow_scene_hit_test (scene, 250, 50, 0);
  g_assert_true (hit && flow_op_id_equal (&hit->id, &diamond));
  g_assert_null (flow_scene_hit_test (scene, 215, 15, 1));
  /* Lines hit near the segment only. */
  hit = flow_scene_hit_test (scene, 452, 48, 2);
  g_assert_true (hit && flow_op_id_equal (&hit->id, &line));
  g_assert_null (flow_scene_hit_test (scene, 480, 20, 2));
}

static void
test_hit_topmost_and_deleted (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  g_autoptr(GError) error = NULL;
  FlowOpId below, above;
  const FlowShape *hit;

  below = flow_test_add_shape (board, "rect", 0, 0, 100, 100);
  above = flow_test_add_shape (board, "rect", 50, 50, 100, 100);
  scene = flow_scene_new (board);
  flow_doc_add_change_func (board, scene_follow_cb, scene, NULL);

  hit = flow_scene_hit_test (scene, 75, 75, 0);
  g_assert_true (flow_op_id_equal (&hit->id, &above));
  flow_board_raise_to_top (board, &below, &error);
  g_assert_no_error (error);
  hit = flow_scene_hit_test (scene, 75, 75, 0);
  g_assert_true (flow_op_id_equal (&hit->id, &below));
  g_assert_cmpuint (hit->z, ==, 1);

  flow_board_delete (board, &below, 1, &error);
  g_assert_no_error (error);
  hit = flow_scene_hit_test (scene, 75, 75, 0);
  g_assert_true (flow_op_id_equal (&hit->id, &above));
  g_assert_null (flow_scene_hit_test (scene, 25, 25, 0));
  g_assert_null (flow_scene_lookup (scene, &below));
  assert_scene_fresh (scene);
}

static void
test_arrow_follows (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  g_autoptr(GError) error = NULL;
  const FlowShape *arrow;
  FlowOpId a, b, arrow_id;
  double x1, y1, x2, y2;

  build_bound_arrows (board, &a, &b, &arrow_id);
  scene = flow_scene_new (board);
  flow_doc_add_change_func (board, scene_follow_cb, scene, NULL);
  arrow = flow_scene_lookup (scene, &arrow_id);
  flow_scene_get_line_ends (scene, arrow, &x1, &y1, &x2, &y2);
  /* Rect a spans x 20..120; the start leaves its right or bottom edge. */
  g_assert_true (x1 >= 120 || y1 >= 80);
  g_assert_true (x1 <= 130 && y1 <= 90);
  /* Ellipse b: centre (310, 160), radii 50, 40: the end lies just outside. */
  g_assert_cmpfloat (pow ((x2 - 310) / 50, 2) + pow ((y2 - 160) / 40, 2), >, 1.0);
  g_assert_cmpfloat (pow ((x2 - 310) / 58, 2) + pow ((y2 - 160) / 48, 2), <, 1.0);

  /* Move b far right: the arrow's end and its bounds follow. */
  flow_board_move (board, &b, 1, 1000, 0, &error);
  g_assert_no_error (error);
  g_assert_true (flow_scene_lookup (scene, &arrow_id) == arrow);
  flow_scene_get_line_ends (scene, arrow, &x1, &y1, &x2, &y2);
  g_assert_cmpfloat (x2, >, 1200);
  g_assert_cmpfloat (arrow->bounds.x + arrow->bounds.width, >, 1200);
  g_assert_true (flow_scene_hit_test (scene, (x1 + x2) / 2, (y1 + y2) / 2, 2) == arrow);
  assert_scene_fresh (scene);

  /* Delete the target: the end falls back to the arrow's own point. */
  flow_board_delete (board, &b, 1, &error);
  g_assert_no_error (error);
  flow_scene_get_line_ends (scene, arrow, &x1, &y1, &x2, &y2);
  g_assert_cmpfloat_with_epsilon (x2, 10, 1e-9);
  assert_scene_fresh (scene);
}

static const char * const random_kinds[] = { "rect", "ellipse", "diamond", "line", "text" };

static FlowOpId
add_random (FlowDoc *board,
            GRand   *rand,
            double   extent)
{
  const char *kind = random_kinds[g_rand_int_range (rand, 0, G_N_ELEMENTS (random_kinds))];
  double w = g_rand_double_range (rand, 1, 400), h = g_rand_double_range (rand, 1, 400);
  FlowOpId id = flow_test_add_shape (board, kind, g_rand_double_range (rand, -extent, extent),
                     g_rand_double_range (rand, -extent, extent), w, h);

  if (g_rand_boolean (rand))
    set_num (board, &id, "rotation", g_rand_double_range (rand, -G_PI, G_PI));
  if (strcmp (kind, "line") == 0)
    {
      FlowPoint p[2] = { { 0, 0, 0 }, { (float) w, (float) h, 0 } };

      flow_test_set (board, &id, "points", flow_value_new_points (p, 2));
    }
  return id;
}

/* Random boards under random edits: the incremental scene stays equal to a
 * rebuilt one, and queries equal a brute-force scan. */
static void
test_random_edits (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint rounds = flow_test_iterations ("FLOW_TEST_ITERATIONS", 200);
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = flow_scene_new (board);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  g_autoptr(GError) error = NULL;

  flow_doc_add_change_func (board, scene_follow_cb, scene, NULL);
  for (guint i = 0; i < 300; i++)
    {
      FlowOpId id = add_random (board, rand, 3000);

      g_array_append_val (ids, id);
    }
  for (guint round = 0; round < rounds; round++)
    {
      FlowOpId *id = &g_array_index (ids, FlowOpId, g_rand_int_range (rand, 0, ids->len));
      FlowRect r = { g_rand_double_range (rand, -4000, 4000), g_rand_double_range (rand, -4000, 4000),
                     g_rand_double_range (rand, 0, 3000), g_rand_double_range (rand, 0, 3000) };

      switch (g_rand_int_range (rand, 0, 6))
        {
        case 0:
          flow_board_move (board, id, 1, g_rand_double_range (rand, -500, 500),
                           g_rand_double_range (rand, -500, 500), &error);
          break;
        case 1:
          flow_board_delete (board, id, 1, &error);
          break;
        case 2:
          flow_board_raise_to_top (board, id, &error);
          break;
        case 3:
          flow_board_lower_to_bottom (board, id, &error);
          break;
        case 4:
          {
            FlowOpId new_id = add_random (board, rand, 3000);

            g_array_append_val (ids, new_id);
          }
          break;
        default:
          /* A batch: many shapes in one change takes the re-sort path. */
          flow_doc_begin_change (board);
          for (guint k = 0; k < 40; k++)
            {
              FlowOpId new_id = add_random (board, rand, 3000);

              g_array_append_val (ids, new_id);
            }
          flow_doc_end_change (board);
          break;
        }
      g_clear_error (&error);    /* moving a deleted shape may fail; fine */
      assert_query_brute (scene, &r);
      if (round % 20 == 0)
        assert_scene_fresh (scene);
    }
  assert_scene_fresh (scene);
}

/* A 100,000-shape board: a viewport query looks at about the visible
 * shapes only, and a hit test at a handful. */
static void
test_large_board (void)
{
  g_autoptr(FlowDoc) board = new_board ();
  g_autoptr(FlowScene) scene = NULL;
  g_autoptr(GPtrArray) got = g_ptr_array_new ();
  FlowRect view = { 10000, 10000, 1920, 1080 };
  guint side = 317, visible = 0;

  /* 317 x 317 rects of 60 x 60 on a 100-unit pitch, no z keys (so in id
   * order), built in batches for speed. */
  for (guint i = 0; i < 100000; i++)
    {
      FlowOpId id;
      g_autoptr(GError) error = NULL;

      if (i % 1000 == 0)
        flow_doc_begin_change (board);
      flow_doc_create_entity (board, "rect", &id, &error);
      g_assert_no_error (error);
      set_num (board, &id, "x", (i % side) * 100.0);
      set_num (board, &id, "y", (i / side) * 100.0);
      set_num (board, &id, "w", 60);
      set_num (board, &id, "h", 60);
      if (i % 1000 == 999)
        flow_doc_end_change (board);
    }
  scene = flow_scene_new (board);
  g_assert_cmpuint (flow_scene_get_n_shapes (scene), ==, 100000);

  flow_scene_query (scene, &view, got);
  for (guint i = 0; i < 100000; i++)
    visible += rect_intersects (&flow_scene_get_nth (scene, i)->bounds, &view);
  g_test_message ("viewport: %u visible, %u examined", got->len, flow_scene_get_n_examined (scene));
  g_assert_cmpuint (got->len, ==, visible);
  g_assert_cmpuint (visible, >, 150);
  g_assert_cmpuint (flow_scene_get_n_examined (scene), <=, visible * 2);

  /* One 256-unit grid cell holds at most 3 x 3 of these shapes; the
   * point's slack may reach into three more cells. */
  g_assert_nonnull (flow_scene_hit_test (scene, 10030, 10030, 2));
  g_assert_cmpuint (flow_scene_get_n_examined (scene), <=, 36);
  g_assert_null (flow_scene_hit_test (scene, 10080, 10080, 2));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/render/golden/kinds", test_golden_kinds);
  g_test_add_func ("/flow/render/golden/rotation-opacity", test_golden_rotation_opacity);
  g_test_add_func ("/flow/render/golden/bound-arrows", test_golden_bound_arrows);
  g_test_add_func ("/flow/render/golden/placeholder", test_golden_placeholder);
  g_test_add_func ("/flow/render/caches-match-copies", test_caches_match_copies);
  g_test_add_func ("/flow/render/text-then-ellipse", test_text_then_ellipse);
  g_test_add_func ("/flow/render/export/empty", test_export_empty);
  g_test_add_func ("/flow/render/export/selection", test_export_selection);
  g_test_add_data_func ("/flow/render/export/svg", GINT_TO_POINTER (FLOW_EXPORT_SVG),
                        test_export_vector);
  g_test_add_data_func ("/flow/render/export/pdf", GINT_TO_POINTER (FLOW_EXPORT_PDF),
                        test_export_vector);
  g_test_add_func ("/flow/render/scene/hit-rotation", test_hit_rotation);
  g_test_add_func ("/flow/render/scene/hit-shapes", test_hit_shapes);
  g_test_add_func ("/flow/render/scene/hit-topmost-deleted", test_hit_topmost_and_deleted);
  g_test_add_func ("/flow/render/scene/arrow-follows", test_arrow_follows);
  g_test_add_func ("/flow/render/scene/random-edits", test_random_edits);
  g_test_add_func ("/flow/render/scene/large-board", test_large_board);

  return g_test_run ();
}
