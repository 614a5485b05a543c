/* flow-scene-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <pango/pango.h>

#include "flow-scene.h"

G_BEGIN_DECLS

/* A polyline in board coordinates: rotation applied, bound ends resolved. */
typedef struct
{
  double x, y, pressure;
} FlowScenePoint;

/* A scene shape: the public record first, so a FlowShape pointer handed
 * out by the scene can be cast back. Everything after it is the scene's
 * own bookkeeping and the renderer's caches. */
typedef struct
{
  FlowShape        pub;
  char            *zkey;          /* "" when unset, compared like core */
  FlowRect         paint;         /* bounds, grown to where the renderer found the
                                   * shape paints beyond them (overflowing text);
                                   * the grid indexes this */
  gint             cx0, cy0, cx1, cy1;  /* grid cells covered */
  guint            big : 1;       /* too large for the grid: checked always */
  guint            in_grid : 1;
  guint            bound : 1;     /* an arrow with a binding */
  guint            image_tried : 1;
  guint            stamp;         /* last query that saw it */
  cairo_surface_t *surface;       /* decoded image, NULL when undecodable */
  PangoLayout     *layout;        /* the renderer's text layout; dropped when the
                                   * text, font size, width or kind change */
  FlowScenePoint  *world;         /* lines, arrows, strokes: the world polyline,
                                   * refreshed with the bounds */
  guint            n_world;
} FlowSceneShape;

guint            flow_scene_id_hash          (gconstpointer     id);
gboolean         flow_scene_id_equal         (gconstpointer     a,
                                              gconstpointer     b);
guint            flow_scene_key_hash         (gconstpointer     key);
guint            flow_scene_get_n_examined   (FlowScene        *scene);
FlowSceneShape  *flow_scene_get_own          (FlowScene        *scene,
                                              const FlowShape  *shape);
PangoContext    *flow_scene_get_pango_context (FlowScene       *scene);
FlowScenePoint  *flow_scene_dup_world_points (FlowScene        *scene,
                                              const FlowShape  *shape,
                                              guint            *n_points);
void             flow_scene_query_paint      (FlowScene        *scene,
                                              const FlowRect   *rect,
                                              GPtrArray        *shapes);
void             flow_scene_grow_paint       (FlowScene        *scene,
                                              FlowSceneShape   *s,
                                              const FlowRect   *rect);
gboolean         flow_scene_union_bounds     (GPtrArray        *shapes,
                                              FlowRect         *bounds);
gint             flow_shape_z_cmp            (gconstpointer     a,
                                              gconstpointer     b);
void             flow_scene_to_local         (const FlowShape  *shape,
                                              double            x,
                                              double            y,
                                              double           *lx,
                                              double           *ly);

G_END_DECLS
