/* test-tile-cache.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The canvas draws the board from a FlowTileCache. These tests hold it to
 * what flow_render_scene() draws directly: after every kind of edit, local
 * and remote, the cached frame must match an uncached one pixel for pixel
 * (within a rounding step). A drag preview must never show the dragged
 * shape at its old place, and a spent budget gives incomplete frames that
 * complete after more draws. No test looks at the clock: a budget of 0
 * makes every frame draw exactly one tile.
 */

#include "config.h"

#include <math.h>

#include "flow-board.h"
#include "flow-canvas-private.h"
#include "flow-render.h"
#include "flow-test-util.h"

#define W 640
#define H 480

static const FlowOpId doc_id = { 0, 0 };

typedef struct
{
  FlowDoc    *doc;
  FlowDoc    *remote;     /* a second replica, for remote changes */
  FlowCanvas *canvas;
  GArray     *ids;        /* FlowOpId, live or not */
  GRand      *rand;
  guint       n_invalidate;
} Fixture;

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void
invalidate_cb (FlowCanvas *canvas,
               Fixture    *f)
{
  f->n_invalidate++;
}

/* A mixed board: filled and rotated shapes, translucent ones, text and
 * sticky notes whose text overflows their boxes, arrows bound to shapes. */
static void
setup (Fixture       *f,
       gconstpointer  data)
{
  static const char * const kinds[] = { "rect", "ellipse", "diamond", "text", "sticky" };
  static const guint32 fills[] = { 0x99c1f1ff, 0x8ff0a4ff, 0x00000000, 0xf9f06bff };

  f->rand = g_rand_new_with_seed (flow_test_seed ());
  f->doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  f->remote = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 2);
  f->ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  for (guint i = 0; i < 60; i++)
    {
      const char *kind = kinds[g_rand_int_range (f->rand, 0, G_N_ELEMENTS (kinds))];
      FlowOpId id = flow_test_add_shape (f->doc, kind, g_rand_double_range (f->rand, -100, 1300),
                         g_rand_double_range (f->rand, -100, 1000),
                         g_rand_double_range (f->rand, 20, 220), g_rand_double_range (f->rand, 20, 160));

      if (g_str_equal (kind, "text") || g_str_equal (kind, "sticky"))
        flow_test_set (f->doc, &id, "text", flow_value_new_string ("A note long enough to overflow its box "
                                                          "by a few lines at least, and then some"));
      else
        flow_test_set (f->doc, &id, "fill", flow_value_new_color (fills[i % G_N_ELEMENTS (fills)]));
      if (i % 7 == 0)
        flow_test_set (f->doc, &id, "rotation", flow_value_new_number (0.3));
      if (i % 11 == 0)
        flow_test_set (f->doc, &id, "opacity", flow_value_new_number (0.5));
      g_array_append_val (f->ids, id);
    }
  for (guint i = 0; i < 15; i++)
    {
      const FlowOpId *a = &g_array_index (f->ids, FlowOpId, g_rand_int_range (f->rand, 0, 60));
      const FlowOpId *b = &g_array_index (f->ids, FlowOpId, g_rand_int_range (f->rand, 0, 60));
      FlowPoint p[2] = { { 0, 0, 0.5f }, { 100, 100, 0.5f } };
      FlowOpId id = flow_test_add_shape (f->doc, "arrow", 0, 0, 100, 100);

      flow_test_set (f->doc, &id, "points", flow_value_new_points (p, 2));
      flow_test_set (f->doc, &id, "start", flow_value_new_ref (a));
      flow_test_set (f->doc, &id, "end", flow_value_new_ref (b));
      g_array_append_val (f->ids, id);
    }
  flow_test_sync_pair (f->doc, f->remote);

  f->canvas = flow_canvas_new (f->doc);
  flow_canvas_set_size (f->canvas, W, H);
  _flow_canvas_set_tile_budget (f->canvas, -1);
  g_signal_connect (f->canvas, "invalidate", G_CALLBACK (invalidate_cb), f);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->canvas);
  g_clear_object (&f->doc);
  g_clear_object (&f->remote);
  g_clear_pointer (&f->ids, g_array_unref);
  g_clear_pointer (&f->rand, g_rand_free);
}

static cairo_surface_t *
draw_cached (Fixture *f)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);

  flow_canvas_draw (f->canvas, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* What flow_render_scene() draws for the canvas's view, at the offset the
 * cache snaps to (whole device pixels). */
static cairo_surface_t *
draw_uncached (Fixture *f)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  cairo_t *cr = cairo_create (surface);
  double zoom = flow_canvas_get_zoom (f->canvas), ox, oy;
  FlowRect visible;

  flow_canvas_get_offset (f->canvas, &ox, &oy);
  ox = round (ox * zoom);
  oy = round (oy * zoom);
  visible = (FlowRect) { ox / zoom, oy / zoom, W / zoom, H / zoom };
  /* The tiles' arithmetic: whole device pixels first, then the zoom. Glyph
   * origins are rounded to whole pixels, so an origin at exactly .5 could
   * otherwise round the other way by a last-bit difference. */
  cairo_translate (cr, -ox, -oy);
  cairo_scale (cr, zoom, zoom);
  flow_render_scene (cr, flow_canvas_get_scene (f->canvas), &visible);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

static guint
pixel_difference (const guint8 *pa,
                  const guint8 *pb)
{
  guint d = 0;

  for (int k = 0; k < 4; k++)
    d = MAX (d, (guint) ABS (pa[k] - pb[k]));
  return d;
}

/* Counts the pixels that differ by more than a rounding step (@n_off),
 * and those that differ by more than a quarter from every pixel around
 * them in the other picture (@n_big): a shift by one pixel is not big. */
static void
compare (cairo_surface_t *a,
         cairo_surface_t *b,
         guint           *n_off,
         guint           *n_big)
{
  int stride = cairo_image_surface_get_stride (a);
  const guint8 *pa = cairo_image_surface_get_data (a);
  const guint8 *pb = cairo_image_surface_get_data (b);

  *n_off = *n_big = 0;
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        guint best = G_MAXUINT;

        if (pixel_difference (pa + y * stride + x * 4, pb + y * stride + x * 4) <= 2)
          continue;
        (*n_off)++;
        for (int ny = MAX (y - 1, 0); ny <= MIN (y + 1, H - 1); ny++)
          for (int nx = MAX (x - 1, 0); nx <= MIN (x + 1, W - 1); nx++)
            best = MIN (best, pixel_difference (pa + y * stride + x * 4, pb + ny * stride + nx * 4));
        *n_big += best > 64;
      }
}

/* The tolerance. A tile clips every polygon to its edges, and cairo then
 * steps the polygon's edges from other starting rows, so antialiased
 * edges of curves and diagonals can differ by a few levels (we see up to
 * 32, on 0.1-0.2% of the pixels). cairo 1.16 rounds glyph origins to
 * whole pixels, and a text's origin can round the other way in a tile
 * (we saw one text one pixel to the right). A missing, stale or misplaced
 * shape differs by far more than a pixel's shift. */
#define MAX_OFF_PIXELS (W * H / 100)
#define MAX_BIG_PIXELS 16

static void
assert_matches_uncached (Fixture    *f,
                         const char *what)
{
  cairo_surface_t *cached = draw_cached (f);
  cairo_surface_t *direct;
  guint n_off, n_big;

  g_assert_true (_flow_canvas_get_frame_complete (f->canvas));
  /* Drawn second, so both know what the first found about overflowing
   * text; the cache repairs itself within the frame that finds it. */
  direct = draw_uncached (f);
  compare (cached, direct, &n_off, &n_big);
  if (n_off > MAX_OFF_PIXELS || n_big > MAX_BIG_PIXELS)
    {
      g_autofree char *dir = g_dir_make_tmp ("tile-cache-XXXXXX", NULL);
      g_autofree char *a = g_build_filename (dir, "cached.png", NULL);
      g_autofree char *b = g_build_filename (dir, "direct.png", NULL);

      cairo_surface_write_to_png (cached, a);
      cairo_surface_write_to_png (direct, b);
      g_test_message ("%s: %u pixels off, %u by far, see %s", what, n_off, n_big, dir);
    }
  g_assert_cmpuint (n_off, <=, MAX_OFF_PIXELS);
  g_assert_cmpuint (n_big, <=, MAX_BIG_PIXELS);
  cairo_surface_destroy (cached);
  cairo_surface_destroy (direct);
}

static const FlowOpId *
random_live (Fixture *f,
             FlowDoc *doc)
{
  for (guint tries = 0; tries < 1000; tries++)
    {
      const FlowOpId *id = &g_array_index (f->ids, FlowOpId, g_rand_int_range (f->rand, 0, f->ids->len));

      if (!flow_doc_entity_is_deleted (doc, id))
        return id;
    }
  return NULL;
}

/* One random edit on @doc: a move (bound arrows follow), a resize, a new
 * text, a restack, a delete or a new shape. */
static void
random_edit (Fixture *f,
             FlowDoc *doc)
{
  const FlowOpId *id = random_live (f, doc);
  g_autoptr(GError) error = NULL;
  FlowOpId added;

  if (id == NULL)
    return;
  switch (g_rand_int_range (f->rand, 0, 7))
    {
    case 0:
    case 1:
      flow_board_move (doc, id, 1, g_rand_double_range (f->rand, -150, 150),
                       g_rand_double_range (f->rand, -150, 150), &error);
      break;
    case 2:
      flow_test_set (doc, id, "w", flow_value_new_number (g_rand_double_range (f->rand, 10, 300)));
      break;
    case 3:
      flow_test_set (doc, id, "text", flow_value_new_string (g_rand_boolean (f->rand) ? "Short" :
                                                  "Much longer text that wraps onto many lines "
                                                  "and runs out of its box at the bottom"));
      break;
    case 4:
      if (g_rand_boolean (f->rand))
        flow_board_raise_to_top (doc, id, &error);
      else
        flow_board_lower_to_bottom (doc, id, &error);
      break;
    case 5:
      flow_board_delete (doc, id, 1, &error);
      break;
    default:
      added = flow_test_add_shape (doc, "ellipse", g_rand_double_range (f->rand, 0, 1200),
                   g_rand_double_range (f->rand, 0, 900), 80, 60);
      flow_test_set (doc, &added, "fill", flow_value_new_color (0xc01c28ff));
      g_array_append_val (f->ids, added);
      break;
    }
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

/* Local and remote edits, pans and zooms: the cached frame always equals
 * the uncached one. */
static void
test_matches_uncached (Fixture       *f,
                       gconstpointer  data)
{
  static const double zooms[] = { 1.0, 0.5, 0.25, 0.75, 1.5 };
  guint n = flow_test_iterations ("FLOW_TILE_ITERATIONS", 40);

  assert_matches_uncached (f, "first frame");
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *what = g_strdup_printf ("step %u", i);

      random_edit (f, g_rand_int_range (f->rand, 0, 3) == 0 ? f->remote : f->doc);
      flow_test_sync_pair (f->doc, f->remote);
      if (i % 5 == 4)
        {
          double zoom = zooms[g_rand_int_range (f->rand, 0, G_N_ELEMENTS (zooms))];

          flow_canvas_zoom_at (f->canvas, zoom / flow_canvas_get_zoom (f->canvas),
                               g_rand_double_range (f->rand, 0, W), g_rand_double_range (f->rand, 0, H));
        }
      if (i % 3 == 2)
        flow_canvas_pan_by (f->canvas, g_rand_double_range (f->rand, -90, 90),
                            g_rand_double_range (f->rand, -90, 90));
      assert_matches_uncached (f, what);
    }
}

static void
pixel (cairo_surface_t *surface,
       int              x,
       int              y,
       guint8          *rgba)
{
  const guint8 *p = cairo_image_surface_get_data (surface) +
                    y * cairo_image_surface_get_stride (surface) + x * 4;
  guint32 v = *(const guint32 *) p;

  rgba[0] = (v >> 16) & 0xff;
  rgba[1] = (v >> 8) & 0xff;
  rgba[2] = v & 0xff;
  rgba[3] = v >> 24;
}

/* While a shape is dragged, its old place shows what is under it (here
 * nothing: transparent), and its new place shows it. */
static void
test_drag_hides_old_place (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autoptr(FlowCanvas) canvas = NULL;
  FlowOpId id = flow_test_add_shape (doc, "rect", 100, 100, 100, 100);
  FlowOpId under = flow_test_add_shape (doc, "rect", 600, 100, 20, 20);
  cairo_surface_t *surface;
  guint8 px[4];

  flow_test_set (doc, &id, "fill", flow_value_new_color (0xff0000ff));
  flow_test_set (doc, &under, "fill", flow_value_new_color (0x0000ffff));
  canvas = flow_canvas_new (doc);
  flow_canvas_set_size (canvas, W, H);
  flow_canvas_set_snap_to_shapes (canvas, FALSE);
  _flow_canvas_set_tile_budget (canvas, -1);

  /* Warm the cache with the shape in place. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
  {
    cairo_t *cr = cairo_create (surface);

    flow_canvas_draw (canvas, cr);
    cairo_destroy (cr);
  }
  pixel (surface, 150, 150, px);
  g_assert_cmpuint (px[0], ==, 255);
  g_assert_cmpuint (px[3], ==, 255);
  cairo_surface_destroy (surface);

  flow_canvas_press (canvas, 150, 150, 1, 0, 1);
  for (int i = 1; i <= 10; i++)
    {
      cairo_t *cr;

      flow_canvas_motion (canvas, 150 + i * 30, 150 + i * 20, 1, 0);
      surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, W, H);
      cr = cairo_create (surface);
      flow_canvas_draw (canvas, cr);
      cairo_destroy (cr);
      cairo_surface_flush (surface);
      g_assert_true (_flow_canvas_get_frame_complete (canvas));
      if (i >= 5)
        {
          /* The old centre is empty; the new one is red. */
          pixel (surface, 150, 150, px);
          g_assert_cmpuint (px[3], ==, 0);
          pixel (surface, 150 + i * 30, 150 + i * 20, px);
          g_assert_cmpuint (px[0], ==, 255);
          g_assert_cmpuint (px[3], ==, 255);
        }
      cairo_surface_destroy (surface);
    }
  flow_canvas_release (canvas, 450, 350, 0);
  g_assert_cmpfloat (flow_value_get_number (flow_doc_get_property (doc, &id, "x")), ==, 400);
}

/* A budget of 0 draws one tile per frame: frames stay incomplete (and ask
 * for another from an idle) until every visible tile is drawn; a new zoom
 * shows the old tiles scaled meanwhile. */
static void
test_budget (Fixture       *f,
             gconstpointer  data)
{
  cairo_surface_t *surface;
  guint frames = 0;
  FlowTileCacheStats stats;
  const guint n_tiles = ((W + 255) / 256 + 1) * ((H + 255) / 256 + 1);

  _flow_canvas_set_tile_budget (f->canvas, 0);
  do
    {
      surface = draw_cached (f);
      cairo_surface_destroy (surface);
      frames++;
      g_assert_cmpuint (frames, <=, n_tiles + 1);
    }
  while (!_flow_canvas_get_frame_complete (f->canvas));
  g_assert_cmpuint (frames, >, 1);

  /* The incomplete frames asked for more from an idle. */
  f->n_invalidate = 0;
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (f->n_invalidate, ==, 1);

  /* A new zoom: incomplete, but not blank, then complete and exact. */
  flow_canvas_zoom_at (f->canvas, 1.1, W / 2.0, H / 2.0);
  surface = draw_cached (f);
  g_assert_false (_flow_canvas_get_frame_complete (f->canvas));
  flow_tile_cache_get_stats (_flow_canvas_get_tile_cache (f->canvas), &stats);
  g_assert_cmpuint (stats.fallback_paints, >, 0);
  cairo_surface_destroy (surface);
  frames = 1;
  while (!_flow_canvas_get_frame_complete (f->canvas))
    {
      surface = draw_cached (f);
      cairo_surface_destroy (surface);
      g_assert_cmpuint (++frames, <=, n_tiles + 1);
    }
  _flow_canvas_set_tile_budget (f->canvas, -1);
  assert_matches_uncached (f, "after budgeted frames");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/flow/tile-cache/matches-uncached", Fixture, NULL, setup, test_matches_uncached,
              teardown);
  g_test_add_func ("/flow/tile-cache/drag-hides-old-place", test_drag_hides_old_place);
  g_test_add ("/flow/tile-cache/budget", Fixture, NULL, setup, test_budget, teardown);

  return g_test_run ();
}
