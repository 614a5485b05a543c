/* flow-scene.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <cairo.h>

#include "flow-doc.h"
#include "flow-value.h"

G_BEGIN_DECLS

/*
 * A FlowScene is the render-side view of one board: every live shape read
 * once out of the FlowDoc into a plain struct, kept in z-order, with a
 * spatial index for culling and hit-testing. It never writes to the doc.
 * Owners refresh it from the entity ids a FlowChange reports.
 *
 * Board geometry (shared by every drawing and editing path):
 *  - x, y, w, h: the shape's unrotated box in board units; rotation (radians)
 *    turns it about the box centre.
 *  - "line", "arrow", "stroke": points are relative to (x, y); the box is
 *    their bounding box. A bound arrow end ("start"/"end" refs) is drawn at
 *    the bound shape's outline, on the line towards the other end.
 *  - "text", "sticky": text wraps inside the box width.
 *  - "image": PNG bytes in "image", scaled to the box. The renderer decodes
 *    PNG only; JPEG or undecodable bytes draw a grey placeholder.
 *
 * Hit-testing: closed shapes, text, stickies and images hit anywhere inside
 * their outline (filled or not); lines, arrows and strokes within the
 * tolerance plus half their width of the drawn polyline. Rotation counts.
 * flow_scene_query() and flow_scene_hit_test() cost about the number of
 * shapes near the rectangle or point (a 256-unit grid), not the board size.
 */

typedef enum
{
  FLOW_SHAPE_RECT,
  FLOW_SHAPE_ELLIPSE,
  FLOW_SHAPE_DIAMOND,
  FLOW_SHAPE_LINE,
  FLOW_SHAPE_ARROW,
  FLOW_SHAPE_STROKE,
  FLOW_SHAPE_TEXT,
  FLOW_SHAPE_STICKY,
  FLOW_SHAPE_IMAGE,
} FlowShapeKind;

typedef struct
{
  double x, y, width, height;
} FlowRect;

typedef struct
{
  FlowOpId        id;
  FlowShapeKind   kind;
  double          x, y, w, h;
  double          rotation;
  guint32         stroke;        /* 0xRRGGBBAA */
  guint32         fill;          /* alpha 0: no fill */
  double          stroke_width;
  double          opacity;
  double          font_size;
  char           *text;          /* may be NULL */
  FlowPoint      *points;        /* relative to (x, y) */
  guint           n_points;
  gboolean        has_start, has_end;
  FlowOpId        start, end;    /* arrow bindings */
  char           *group;         /* NULL when not grouped */
  gboolean        locked;
  GBytes         *image;         /* encoded image, NULL when none */
  char           *mime_type;
  FlowRect        bounds;        /* axis-aligned, includes rotation and stroke */
  guint           z;             /* position in the z-order, 0 = bottom */
} FlowShape;

typedef struct _FlowScene FlowScene;

/* Called with a board rectangle whose pixels may have changed: the old and
 * the new paint area of every shape flow_scene_update() touched (bound
 * arrows included), an area where a shape turned out to paint beyond its
 * bounds (overflowing text), or %NULL for everything (a rebuild). Raster
 * caches (FlowTileCache) listen here. */
typedef void (*FlowSceneDamageFunc) (FlowScene      *scene,
                                     const FlowRect *rect,
                                     gpointer        user_data);

/* Defaults for unset properties. */
#define FLOW_SCENE_DEFAULT_STROKE       0x1e1e1eff
#define FLOW_SCENE_DEFAULT_FILL         0x00000000
#define FLOW_SCENE_DEFAULT_STICKY_FILL  0xfff59dff
#define FLOW_SCENE_DEFAULT_STROKE_WIDTH 2.0
#define FLOW_SCENE_DEFAULT_FONT_SIZE    20.0

FlowScene       *flow_scene_new            (FlowDoc          *board);
void             flow_scene_free           (FlowScene        *scene);
FlowDoc         *flow_scene_get_doc        (FlowScene        *scene);
void             flow_scene_rebuild        (FlowScene        *scene);
void             flow_scene_update         (FlowScene        *scene,
                                            const FlowOpId   *ids,
                                            guint             n_ids);
void             flow_scene_set_damage_func (FlowScene       *scene,
                                            FlowSceneDamageFunc func,
                                            gpointer          user_data);
guint            flow_scene_get_n_shapes   (FlowScene        *scene);
const FlowShape *flow_scene_get_nth        (FlowScene        *scene,
                                            guint             z);
const FlowShape *flow_scene_lookup         (FlowScene        *scene,
                                            const FlowOpId   *id);
gboolean         flow_scene_get_bounds     (FlowScene        *scene,
                                            FlowRect         *bounds);
void             flow_scene_query          (FlowScene        *scene,
                                            const FlowRect   *rect,
                                            GPtrArray        *shapes);
const FlowShape *flow_scene_hit_test       (FlowScene        *scene,
                                            double            x,
                                            double            y,
                                            double            tolerance);
void             flow_scene_get_line_ends  (FlowScene        *scene,
                                            const FlowShape  *shape,
                                            double           *x1,
                                            double           *y1,
                                            double           *x2,
                                            double           *y2);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowScene, flow_scene_free)

G_END_DECLS
