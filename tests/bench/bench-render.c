/* bench-render.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Render-side costs on a 100,000-shape board (a 317-wide grid of mixed
 * rects, ellipses, diamonds, lines and text on a 100-unit pitch), as JSON
 * medians over --runs runs (default 5):
 *   scene_build_ms      flow_scene_new on the whole board
 *   viewport_render_ms  query + draw of a 1920x1080 viewport at zoom 1
 *   viewport_shapes     shapes drawn in that viewport
 *   hit_test_us         one flow_scene_hit_test, averaged over 10,000
 *   update_move_us      move one shape + flow_scene_update, averaged over 1,000
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "flow-board.h"
#include "flow-render.h"

#define N_SHAPES 100000
#define SIDE 317

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
set_num (FlowDoc        *board,
         const FlowOpId *id,
         const char     *key,
         double          value)
{
  g_autoptr(FlowValue) v = flow_value_new_number (value);

  flow_doc_set_property (board, id, key, v, NULL);
}

static FlowDoc *
build_board (void)
{
  static const char * const kinds[] = { "rect", "ellipse", "diamond", "line", "text" };
  static const FlowPoint line[] = { { 0, 0, 0.5f }, { 60, 60, 0.5f } };
  FlowOpId doc_id = { 0, 0 };
  FlowDoc *board = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);

  for (guint i = 0; i < N_SHAPES; i++)
    {
      const char *kind = kinds[i % G_N_ELEMENTS (kinds)];
      FlowOpId id;

      if (i % 1000 == 0)
        flow_doc_begin_change (board);
      flow_doc_create_entity (board, kind, &id, NULL);
      set_num (board, &id, "x", (i % SIDE) * 100.0);
      set_num (board, &id, "y", (i / SIDE) * 100.0);
      set_num (board, &id, "w", 60);
      set_num (board, &id, "h", 60);
      if (i % 7 == 0)
        set_num (board, &id, "rotation", 0.3);
      if (g_str_equal (kind, "line"))
        {
          g_autoptr(FlowValue) v = flow_value_new_points (line, G_N_ELEMENTS (line));

          flow_doc_set_property (board, &id, "points", v, NULL);
        }
      else if (g_str_equal (kind, "text"))
        {
          g_autoptr(FlowValue) v = flow_value_new_string ("Label");

          flow_doc_set_property (board, &id, "text", v, NULL);
        }
      if (i % 1000 == 999)
        flow_doc_end_change (board);
    }
  return board;
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return v[n / 2];
}

int
main (int   argc,
      char *argv[])
{
  guint runs = argc > 2 && g_str_equal (argv[1], "--runs") ? (guint) atoi (argv[2]) : 5;
  g_autoptr(FlowDoc) board = NULL;
  g_autofree double *build = NULL, *render = NULL, *hit = NULL, *move = NULL;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1920, 1080);
  FlowRect view = { 12000, 12000, 1920, 1080 };
  double t0, build_board_ms;
  guint drawn = 0;

  runs = MAX (runs, 1);
  build = g_new (double, runs);
  render = g_new (double, runs);
  hit = g_new (double, runs);
  move = g_new (double, runs);
  t0 = now_ms ();
  board = build_board ();
  build_board_ms = now_ms () - t0;

  for (guint r = 0; r < runs; r++)
    {
      g_autoptr(FlowScene) scene = NULL;
      g_autoptr(GPtrArray) visible = g_ptr_array_new ();
      cairo_t *cr = cairo_create (surface);
      FlowOpId id;

      t0 = now_ms ();
      scene = flow_scene_new (board);
      build[r] = now_ms () - t0;

      t0 = now_ms ();
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_paint (cr);
      cairo_translate (cr, -view.x, -view.y);
      flow_render_scene (cr, scene, &view);
      cairo_surface_flush (surface);
      render[r] = now_ms () - t0;
      cairo_destroy (cr);
      flow_scene_query (scene, &view, visible);
      drawn = visible->len;

      t0 = now_ms ();
      for (guint i = 0; i < 10000; i++)
        flow_scene_hit_test (scene, 100.0 * (i % SIDE) + 30, 100.0 * ((i * 7) % SIDE) + 30, 4);
      hit[r] = (now_ms () - t0) * 1000 / 10000;

      id = flow_scene_get_nth (scene, N_SHAPES / 2)->id;
      t0 = now_ms ();
      for (guint i = 0; i < 1000; i++)
        {
          flow_board_move (board, &id, 1, i % 2 ? -5 : 5, 0, NULL);
          flow_scene_update (scene, &id, 1);
        }
      move[r] = (now_ms () - t0) * 1000 / 1000;
    }
  cairo_surface_destroy (surface);

  printf ("{\n"
          "  \"shapes\": %d,\n"
          "  \"runs\": %u,\n"
          "  \"board_build_ms\": %.1f,\n"
          "  \"scene_build_ms\": %.1f,\n"
          "  \"viewport_render_ms\": %.2f,\n"
          "  \"viewport_shapes\": %u,\n"
          "  \"hit_test_us\": %.2f,\n"
          "  \"update_move_us\": %.2f\n"
          "}\n",
          N_SHAPES, runs, build_board_ms, median (build, runs), median (render, runs), drawn,
          median (hit, runs), median (move, runs));
  return 0;
}
