/* bench-render.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Render-side costs on boards of 1,000, 10,000 and 100,000 mixed shapes,
 * printed as one JSON object. Nothing here asserts on time.
 *
 * The boards: one shape per slot of a 16:9 grid on a 220-unit pitch, jittered
 * by up to a third of the pitch, so every board has the same density (about
 * one shape per 220 x 220 units, with overlaps). Kinds by weight: rect 20%,
 * ellipse 10%, diamond 8%, line 7%, arrow 15% (bound to the shape before it
 * and to the one above it), freehand stroke 10% (20-50 points), text 15%,
 * sticky 15%. Sizes 40-300 units skewed towards small, half the closed
 * shapes filled, 10% rotated, 3% translucent. A fixed seed makes every run
 * draw the same boards.
 *
 * A frame is what the canvas does (src/app/flow-canvas.c, flow_canvas_draw):
 * a new cairo_t on a 1920x1080 ARGB32 image surface, a white paint, the
 * viewport transform (scale by the zoom, translate by the offset) and
 * flow_render_scene() with the visible board rectangle; then a surface
 * flush. Each view draws one untimed frame (reported as first_frame_ms, the
 * cost with cold caches), then the median of --frames timed frames (20).
 *
 * Views, all centred on the board:
 *   "10k"  a zoom showing about 10,000 shapes (the 10k and 100k boards)
 *   "1k"   a zoom showing about 1,000 shapes (every board; on the 1k board
 *          it is the whole board)
 *   "zoom1" zoom 1, about 40 shapes (the 100k board)
 * `visible` is the number of shapes flow_scene_query() returns for the view,
 * `query_ms` the median time of that query alone (part of every frame).
 *
 * Per board: board_build_ms (writing the doc, once), scene_build_ms
 * (flow_scene_new, median of --runs = 3). On the 100k board also:
 * hit_test_us (median of 20,000 single flow_scene_hit_test calls at
 * uniformly random points on the board, tolerance 4, plus the mean and p99),
 * update_move_us (move one shape + flow_scene_update, mean of 1,000) and
 * the zoom-1 figures, kept at the top level as viewport_render_ms and
 * viewport_shapes.
 *
 * App frames: the canvas draws from a FlowTileCache (flow_canvas_draw), so
 * each view also reports, under "app", what a frame costs with it (a white
 * paint, then flow_tile_cache_draw() of the whole 1920x1080 view; the
 * widget's dot grid and GTK's own replay of the cairo node are not in it):
 *   cold_frame_ms    the first frame at the view's zoom with an empty
 *                    cache, unbudgeted: every tile drawn (tiles overlap
 *                    shapes at their edges, so this is above frame_ms)
 *   pan_frame_ms     median of 20 frames panning 40 px right and 20 px
 *                    down per frame, warm, with the app's 12 ms budget;
 *                    pan_frame_max_ms and pan_incomplete_frames (frames
 *                    that showed a tile of another zoom or nothing)
 *   edit_frame_ms    median of 20 frames, each after moving one visible
 *                    shape by 20 units: flow_scene_update() (which
 *                    damages the tiles) plus an unbudgeted, complete frame
 *   zoom_frame_ms    median of 20 frames of a zoom gesture stepping 2% per
 *                    frame about the centre; as in the app, the cache is
 *                    frozen during the gesture, so each frame shows the
 *                    tiles of the zoom before, scaled;
 *                    zoom_frames_to_complete: frames at the final zoom,
 *                    same budget, until one is exact; zoom_frame_max_ms
 * "targets" compares the worst app figure of each kind with the issue's
 * targets too. Full redraws still miss them; app frames meet them only
 * while the cache holds the view (pan, edit), and a new zoom is blurry for
 * zoom_frames_to_complete frames rather than slow.
 *
 * Targets (issue #3): <= 16 ms per frame with 10k shapes visible, <= 4 ms
 * with 1k visible on the 100k board, hit test <= 50 us; "targets" reports
 * them, informational only.
 */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "flow-board.h"
#include "flow-render.h"
#include "flow-tile-cache.h"

#define PITCH 220.0
#define WIDTH 1920
#define HEIGHT 1080
#define N_HITS 20000
#ifndef APP_BUDGET_US
#define APP_BUDGET_US 12000   /* FLOW_CANVAS_TILE_BUDGET_US */
#endif

typedef struct
{
  guint  n;
  guint  cols, rows;
} Layout;

static double
now_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* Sorts @v. */
static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void
set_value (FlowDoc        *board,
           const FlowOpId *id,
           const char     *key,
           FlowValue      *value)
{
  g_autoptr(FlowValue) v = value;

  flow_doc_set_property (board, id, key, v, NULL);
}

static void
set_num (FlowDoc        *board,
         const FlowOpId *id,
         const char     *key,
         double          value)
{
  set_value (board, id, key, flow_value_new_number (value));
}

static Layout
layout_for (guint n)
{
  Layout l;

  l.n = n;
  l.cols = (guint) ceil (sqrt (n * 16.0 / 9.0));
  l.rows = (n + l.cols - 1) / l.cols;
  return l;
}

/* 40-300 units, skewed towards small (mean about 127). */
static double
random_size (GRand *rand)
{
  double u = g_rand_double (rand);

  return 40 + 260 * u * u;
}

static const char *
pick_kind (GRand *rand)
{
  static const struct { const char *kind; int weight; } kinds[] = {
    { "rect", 20 }, { "ellipse", 10 }, { "diamond", 8 }, { "line", 7 }, { "arrow", 15 },
    { "stroke", 10 }, { "text", 15 }, { "sticky", 15 },
  };
  int r = g_rand_int_range (rand, 0, 100);

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      if (r < kinds[i].weight)
        return kinds[i].kind;
      r -= kinds[i].weight;
    }
  return "rect";
}

static gboolean
bindable (const char *kind)
{
  return kind != NULL && (g_str_equal (kind, "rect") || g_str_equal (kind, "ellipse") ||
                          g_str_equal (kind, "diamond") || g_str_equal (kind, "sticky") ||
                          g_str_equal (kind, "text"));
}

static FlowDoc *
build_board (const Layout *l)
{
  static const guint32 strokes[] = { 0x1e1e1eff, 0x1c71d8ff, 0xc01c28ff, 0x26a269ff, 0x613583ff };
  static const guint32 fills[] = { 0x99c1f1ff, 0x8ff0a4ff, 0xf9f06bff, 0xffbe6fff, 0xdc8addff,
                                   0xf6f5f4ff };
  static const guint32 stickies[] = { 0xfff59dff, 0xffcc80ff, 0xa5d6a7ff, 0x90caf9ff };
  static const char * const labels[] = {
    "Label", "Idea", "Next steps", "Owner: Ana", "Q3 roadmap", "Needs review",
    "API gateway", "Sync engine", "Done", "Blocked on design",
  };
  static const char * const notes[] = {
    "Call the vendor about the rendering budget before Friday",
    "Try a smaller cell size for the grid index",
    "Offline first: every edit lands locally, then syncs",
    "Ask Sam",
    "Users want dark mode and bigger handles on touch screens",
    "Cut scope: no comments in the first release",
  };
  FlowOpId doc_id = { 0, 0 };
  FlowDoc *board = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autofree FlowOpId *ids = g_new0 (FlowOpId, l->n);
  g_autofree const char **kinds = g_new0 (const char *, l->n);
  g_autoptr(GRand) rand = g_rand_new_with_seed (0xf10f + l->n);

  for (guint i = 0; i < l->n; i++)
    {
      const char *kind = pick_kind (rand);
      guint col = i % l->cols, row = i / l->cols;
      double x = col * PITCH + g_rand_double_range (rand, -PITCH / 3, PITCH / 3);
      double y = row * PITCH + g_rand_double_range (rand, -PITCH / 3, PITCH / 3);
      double w = random_size (rand), h = random_size (rand);
      FlowOpId *id = &ids[i];

      if (i % 1000 == 0)
        flow_doc_begin_change (board);
      flow_doc_create_entity (board, kind, id, NULL);
      kinds[i] = kind;
      set_num (board, id, "x", x);
      set_num (board, id, "y", y);
      set_value (board, id, "stroke",
                 flow_value_new_color (strokes[g_rand_int_range (rand, 0, G_N_ELEMENTS (strokes))]));
      set_num (board, id, "stroke_width", g_rand_int_range (rand, 1, 5));

      if (g_str_equal (kind, "line") || g_str_equal (kind, "arrow"))
        {
          FlowPoint p[2] = { { 0, 0, 0.5f }, { w, h * (g_rand_boolean (rand) ? 1 : -1), 0.5f } };

          if (g_str_equal (kind, "arrow"))
            {
              if (col > 0 && bindable (kinds[i - 1]))
                set_value (board, id, "start", flow_value_new_ref (&ids[i - 1]));
              if (row > 0 && bindable (kinds[i - l->cols]))
                set_value (board, id, "end", flow_value_new_ref (&ids[i - l->cols]));
            }
          set_num (board, id, "w", w);
          set_num (board, id, "h", h);
          set_value (board, id, "points", flow_value_new_points (p, 2));
        }
      else if (g_str_equal (kind, "stroke"))
        {
          guint n = g_rand_int_range (rand, 20, 51);
          g_autofree FlowPoint *p = g_new (FlowPoint, n);
          double px = 0, py = 0, angle = g_rand_double_range (rand, 0, 2 * G_PI);
          double step = MAX (w, h) / n * 1.5;

          for (guint k = 0; k < n; k++)
            {
              p[k] = (FlowPoint) { px, py, g_rand_double_range (rand, 0.3, 0.9) };
              angle += g_rand_double_range (rand, -0.6, 0.6);
              px += step * cos (angle);
              py += step * sin (angle);
            }
          set_num (board, id, "w", w);
          set_num (board, id, "h", h);
          set_value (board, id, "points", flow_value_new_points (p, n));
        }
      else if (g_str_equal (kind, "text"))
        {
          double size = g_rand_int_range (rand, 14, 33);

          set_num (board, id, "w", MAX (w, 80));
          set_num (board, id, "h", size * 1.4);
          set_num (board, id, "font_size", size);
          set_value (board, id, "text",
                     flow_value_new_string (labels[g_rand_int_range (rand, 0, G_N_ELEMENTS (labels))]));
        }
      else if (g_str_equal (kind, "sticky"))
        {
          double side = g_rand_double_range (rand, 120, 240);

          set_num (board, id, "w", side);
          set_num (board, id, "h", side);
          set_num (board, id, "font_size", 16);
          set_value (board, id, "fill",
                     flow_value_new_color (stickies[g_rand_int_range (rand, 0, G_N_ELEMENTS (stickies))]));
          set_value (board, id, "text",
                     flow_value_new_string (notes[g_rand_int_range (rand, 0, G_N_ELEMENTS (notes))]));
        }
      else
        {
          set_num (board, id, "w", w);
          set_num (board, id, "h", h);
          if (g_rand_boolean (rand))
            set_value (board, id, "fill",
                       flow_value_new_color (fills[g_rand_int_range (rand, 0, G_N_ELEMENTS (fills))]));
        }
      if (!g_str_equal (kind, "arrow") && g_rand_int_range (rand, 0, 10) == 0)
        set_num (board, id, "rotation", g_rand_double_range (rand, -0.5, 0.5));
      if (g_rand_int_range (rand, 0, 100) < 3)
        set_num (board, id, "opacity", 0.6);
      if (i % 1000 == 999 || i == l->n - 1)
        flow_doc_end_change (board);
    }
  return board;
}

/* The centred view at @zoom. */
static FlowRect
view_at (const Layout *l,
         double        zoom)
{
  double cx = l->cols * PITCH / 2, cy = l->rows * PITCH / 2;
  double w = WIDTH / zoom, h = HEIGHT / zoom;

  return (FlowRect) { cx - w / 2, cy - h / 2, w, h };
}

/* The zoom at which a centred 1920x1080 view covers about @n slots. */
static double
zoom_showing (guint n)
{
  Layout l = layout_for (n);

  return WIDTH / (l.cols * PITCH);
}

/* One frame as flow_canvas_draw() draws it. Returns milliseconds. */
static double
draw_frame (cairo_surface_t *surface,
            FlowScene       *scene,
            const FlowRect  *view,
            double           zoom)
{
  double t0 = now_ms ();
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_save (cr);
  cairo_scale (cr, zoom, zoom);
  cairo_translate (cr, -view->x, -view->y);
  flow_render_scene (cr, scene, view);
  cairo_restore (cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return now_ms () - t0;
}

typedef struct
{
  double cold, pan, pan_max, edit, zoom, zoom_max, settle_max;
  guint  pan_incomplete, zoom_to_complete;
} AppFigures;

/* One app frame: a white paint and the tile cache. Returns milliseconds. */
static double
app_frame (cairo_surface_t *surface,
           FlowTileCache   *cache,
           double           zoom,
           double           ox,
           double           oy,
           gint64           budget_us,
           gboolean        *complete)
{
  double t0 = now_ms ();
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  *complete = flow_tile_cache_draw (cache, cr, zoom, ox, oy, WIDTH, HEIGHT, budget_us, NULL, 0);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return now_ms () - t0;
}

/* The shape nearest the middle of @view. */
static FlowOpId
middle_shape (FlowScene      *scene,
              const FlowRect *view)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new ();
  FlowRect mid = { view->x + view->width / 2 - 200, view->y + view->height / 2 - 200, 400, 400 };

  flow_scene_query (scene, &mid, got);
  g_assert (got->len > 0);
  return ((const FlowShape *) g_ptr_array_index (got, 0))->id;
}

static void
bench_app (cairo_surface_t *surface,
           FlowScene       *scene,
           FlowDoc         *board,
           const FlowRect  *view,
           double           zoom,
           guint            frames,
           AppFigures      *fig)
{
  g_autoptr(FlowTileCache) cache = flow_tile_cache_new (scene);
  g_autofree double *t = g_new (double, frames);
  double ox = view->x, oy = view->y, z = zoom;
  gboolean complete;
  FlowOpId id;

  fig->cold = app_frame (surface, cache, zoom, ox, oy, -1, &complete);
  g_assert (complete);

  fig->pan_incomplete = 0;
  for (guint i = 0; i < frames; i++)
    {
      ox += 40 / zoom;
      oy += 20 / zoom;
      t[i] = app_frame (surface, cache, zoom, ox, oy, APP_BUDGET_US, &complete);
      fig->pan_incomplete += !complete;
    }
  fig->pan = median (t, frames);
  fig->pan_max = t[frames - 1];

  /* Settle the view, then move one visible shape per frame. */
  while (!complete)
    app_frame (surface, cache, zoom, ox, oy, -1, &complete);
  id = middle_shape (scene, &(FlowRect) { ox, oy, WIDTH / zoom, HEIGHT / zoom });
  for (guint i = 0; i < frames; i++)
    {
      double t0;

      flow_board_move (board, &id, 1, i % 2 ? -20 : 20, 0, NULL);
      t0 = now_ms ();
      flow_scene_update (scene, &id, 1);
      app_frame (surface, cache, zoom, ox, oy, -1, &complete);
      t[i] = now_ms () - t0;
      g_assert (complete);
    }
  fig->edit = median (t, frames);

  /* A zoom gesture about the centre: 2% a frame. As in the app, frames
   * during the gesture scale the tiles they have (the cache is frozen);
   * the exact tiles come once it settles (zoom_frames_to_complete). */
  flow_tile_cache_set_frozen (cache, TRUE);
  for (guint i = 0; i < frames; i++)
    {
      double cx = ox + WIDTH / 2 / z, cy = oy + HEIGHT / 2 / z;

      z *= 1.02;
      ox = cx - WIDTH / 2 / z;
      oy = cy - HEIGHT / 2 / z;
      t[i] = app_frame (surface, cache, z, ox, oy, APP_BUDGET_US, &complete);
    }
  flow_tile_cache_set_frozen (cache, FALSE);
  fig->zoom = median (t, frames);
  {
    double worst = 0;

    for (guint i = 0; i < frames; i++)
      worst = MAX (worst, t[i]);
    fig->zoom_max = worst;
  }
  fig->zoom_to_complete = 0;
  fig->settle_max = 0;
  while (!complete && fig->zoom_to_complete < 1000)
    {
      double ms = app_frame (surface, cache, z, ox, oy, APP_BUDGET_US, &complete);

      fig->settle_max = MAX (fig->settle_max, ms);
      fig->zoom_to_complete++;
    }
}

/* Returns the number of shapes in @view; *@ms: the median time of a query. */
static guint
count_visible (FlowScene      *scene,
               const FlowRect *view,
               guint           runs,
               double         *ms)
{
  g_autoptr(GPtrArray) got = g_ptr_array_new ();
  g_autofree double *t = g_new (double, runs);

  for (guint i = 0; i < runs; i++)
    {
      double t0 = now_ms ();

      g_ptr_array_set_size (got, 0);
      flow_scene_query (scene, view, got);
      t[i] = now_ms () - t0;
    }
  *ms = median (t, runs);
  return got->len;
}

/* Prints one view of @scene as a JSON object, and returns the median. */
static double
bench_view (GString         *out,
            cairo_surface_t *surface,
            FlowScene       *scene,
            FlowDoc         *board,
            const Layout    *l,
            const char      *name,
            double           zoom,
            guint            frames,
            guint           *visible,
            AppFigures      *fig)
{
  FlowRect view = view_at (l, zoom);
  g_autofree double *t = g_new (double, frames);
  double first, med, query_ms;
  const char *dump = g_getenv ("BENCH_RENDER_PNG_DIR");

  first = draw_frame (surface, scene, &view, zoom);
  for (guint i = 0; i < frames; i++)
    t[i] = draw_frame (surface, scene, &view, zoom);
  *visible = count_visible (scene, &view, frames, &query_ms);
  if (dump != NULL)
    {
      g_autofree char *file = g_strdup_printf ("%s/bench-%u-%s.png", dump, l->n, name);

      cairo_surface_write_to_png (surface, file);
    }
  med = median (t, frames);
  bench_app (surface, scene, board, &view, zoom, frames, fig);
  g_string_append_printf (out,
                          "        \"%s\": { \"zoom\": %.4f, \"visible\": %u, \"frame_ms\": %.2f, "
                          "\"min_ms\": %.2f, \"max_ms\": %.2f, \"first_frame_ms\": %.2f, "
                          "\"query_ms\": %.2f,\n          \"app\": { \"cold_frame_ms\": %.2f, "
                          "\"pan_frame_ms\": %.2f, \"pan_frame_max_ms\": %.2f, "
                          "\"pan_incomplete_frames\": %u, \"edit_frame_ms\": %.2f, "
                          "\"zoom_frame_ms\": %.2f, \"zoom_frame_max_ms\": %.2f, "
                          "\"zoom_frames_to_complete\": %u, \"settle_frame_max_ms\": %.2f } }",
                          name, zoom, *visible, med, t[0], t[frames - 1], first, query_ms,
                          fig->cold, fig->pan, fig->pan_max, fig->pan_incomplete, fig->edit,
                          fig->zoom, fig->zoom_max, fig->zoom_to_complete, fig->settle_max);
  return med;
}

/* Keeps the worst (largest) of each app figure over the boards. */
static void
app_worst (AppFigures       *worst,
           const AppFigures *fig)
{
  worst->cold = MAX (worst->cold, fig->cold);
  worst->pan = MAX (worst->pan, fig->pan);
  worst->edit = MAX (worst->edit, fig->edit);
  worst->zoom = MAX (worst->zoom, fig->zoom);
}

static void
append_target (GString    *out,
               const char *name,
               double      value,
               double      target,
               gboolean    last)
{
  g_string_append_printf (out, "    \"%s\": { \"value\": %.2f, \"target\": %.0f, \"met\": %s }%s\n",
                          name, value, target, value <= target ? "true" : "false", last ? "" : ",");
}

int
main (int   argc,
      char *argv[])
{
  static const guint sizes[] = { 1000, 10000, 100000 };
  guint runs = 3, frames = 20;
  g_autoptr(GString) out = g_string_new (NULL);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, WIDTH, HEIGHT);
  double frame_10k_worst = 0, frame_1k_100k = 0, hit_med = 0, hit_mean = 0, hit_p99 = 0;
  double move_us = 0, zoom1_ms = 0;
  AppFigures fig, app_10k = { 0 }, app_1k = { 0 };
  guint zoom1_visible = 0;
  double t_start = now_ms ();
  g_autoptr(GString) app_targets = NULL;

  for (int i = 1; i + 1 < argc; i += 2)
    if (g_str_equal (argv[i], "--runs"))
      runs = MAX (atoi (argv[i + 1]), 1);
    else if (g_str_equal (argv[i], "--frames"))
      frames = MAX (atoi (argv[i + 1]), 1);

  g_string_append_printf (out, "{\n  \"surface\": \"%dx%d ARGB32\",\n  \"frames\": %u,\n"
                          "  \"runs\": %u,\n  \"boards\": {\n", WIDTH, HEIGHT, frames, runs);
  for (guint b = 0; b < G_N_ELEMENTS (sizes); b++)
    {
      Layout l = layout_for (sizes[b]);
      g_autoptr(FlowDoc) board = NULL;
      g_autoptr(FlowScene) scene = NULL;
      g_autofree double *build = g_new (double, runs);
      double t0, board_ms, med;
      guint visible;

      t0 = now_ms ();
      board = build_board (&l);
      board_ms = now_ms () - t0;
      for (guint r = 0; r < runs; r++)
        {
          g_clear_pointer (&scene, flow_scene_free);
          t0 = now_ms ();
          scene = flow_scene_new (board);
          build[r] = now_ms () - t0;
        }

      g_string_append_printf (out, "    \"%u\": {\n      \"shapes\": %u,\n"
                              "      \"board_build_ms\": %.1f,\n      \"scene_build_ms\": %.1f,\n"
                              "      \"views\": {\n",
                              sizes[b], flow_scene_get_n_shapes (scene), board_ms,
                              median (build, runs));
      if (sizes[b] >= 10000)
        {
          med = bench_view (out, surface, scene, board, &l, "10k", zoom_showing (10000), frames,
                            &visible, &fig);
          frame_10k_worst = MAX (frame_10k_worst, med);
          app_worst (&app_10k, &fig);
          g_string_append (out, ",\n");
        }
      med = bench_view (out, surface, scene, board, &l, "1k", zoom_showing (1000), frames, &visible,
                        &fig);
      if (sizes[b] == 100000)
        {
          frame_1k_100k = med;
          app_1k = fig;
          g_string_append (out, ",\n");
          zoom1_ms = bench_view (out, surface, scene, board, &l, "zoom1", 1.0, frames,
                                 &zoom1_visible, &fig);
        }
      g_string_append (out, "\n      }");

      if (sizes[b] == 100000)
        {
          g_autoptr(GRand) rand = g_rand_new_with_seed (42);
          g_autofree double *hit = g_new (double, N_HITS);
          double sum = 0;
          FlowOpId id;

          for (guint i = 0; i < N_HITS; i++)
            {
              double x = g_rand_double_range (rand, -PITCH / 2, l.cols * PITCH);
              double y = g_rand_double_range (rand, -PITCH / 2, l.rows * PITCH);

              t0 = now_ms ();
              flow_scene_hit_test (scene, x, y, 4);
              hit[i] = (now_ms () - t0) * 1000;
              sum += hit[i];
            }
          hit_mean = sum / N_HITS;
          hit_med = median (hit, N_HITS);
          hit_p99 = hit[(guint) (N_HITS * 0.99)];

          id = flow_scene_get_nth (scene, sizes[b] / 2)->id;
          t0 = now_ms ();
          for (guint i = 0; i < 1000; i++)
            {
              flow_board_move (board, &id, 1, i % 2 ? -5 : 5, 0, NULL);
              flow_scene_update (scene, &id, 1);
            }
          move_us = (now_ms () - t0) * 1000 / 1000;
          g_string_append_printf (out, ",\n      \"hit_test_us\": %.2f,\n"
                                  "      \"hit_test_mean_us\": %.2f,\n"
                                  "      \"hit_test_p99_us\": %.2f,\n"
                                  "      \"update_move_us\": %.2f",
                                  hit_med, hit_mean, hit_p99, move_us);
        }
      g_string_append_printf (out, "\n    }%s\n", b + 1 < G_N_ELEMENTS (sizes) ? "," : "");
    }
  cairo_surface_destroy (surface);

  app_targets = g_string_new (NULL);
  append_target (app_targets, "app_cold_frame_10k_visible_ms", app_10k.cold, 16, FALSE);
  append_target (app_targets, "app_pan_frame_10k_visible_ms", app_10k.pan, 16, FALSE);
  append_target (app_targets, "app_edit_frame_10k_visible_ms", app_10k.edit, 16, FALSE);
  append_target (app_targets, "app_zoom_frame_10k_visible_ms", app_10k.zoom, 16, FALSE);
  append_target (app_targets, "app_cold_frame_1k_visible_100k_board_ms", app_1k.cold, 4, FALSE);
  append_target (app_targets, "app_pan_frame_1k_visible_100k_board_ms", app_1k.pan, 4, FALSE);
  append_target (app_targets, "app_edit_frame_1k_visible_100k_board_ms", app_1k.edit, 4, FALSE);
  append_target (app_targets, "app_zoom_frame_1k_visible_100k_board_ms", app_1k.zoom, 4, TRUE);
  g_string_append_printf (out,
                          "  },\n"
                          "  \"shapes\": %u,\n"
                          "  \"viewport_render_ms\": %.2f,\n"
                          "  \"viewport_shapes\": %u,\n"
                          "  \"hit_test_us\": %.2f,\n"
                          "  \"update_move_us\": %.2f,\n"
                          "  \"targets\": {\n"
                          "    \"frame_10k_visible_ms\": { \"worst\": %.2f, \"target\": 16, \"met\": %s },\n"
                          "    \"frame_1k_visible_100k_board_ms\": { \"value\": %.2f, \"target\": 4, \"met\": %s },\n"
                          "    \"hit_test_100k_us\": { \"value\": %.2f, \"target\": 50, \"met\": %s },\n"
                          "%s"
                          "  },\n"
                          "  \"total_s\": %.1f\n"
                          "}\n",
                          sizes[G_N_ELEMENTS (sizes) - 1], zoom1_ms, zoom1_visible, hit_med, move_us,
                          frame_10k_worst, frame_10k_worst <= 16 ? "true" : "false",
                          frame_1k_100k, frame_1k_100k <= 4 ? "true" : "false",
                          hit_med, hit_med <= 50 ? "true" : "false", app_targets->str,
                          (now_ms () - t_start) / 1000);
  fputs (out->str, stdout);
  return 0;
}
