/* flow-canvas-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "flow-canvas.h"
#include "flow-tile-cache.h"

/* Remote cursors, laser trails and follow state (flow-canvas-presence.c). */
typedef struct _FlowCanvasPresence FlowCanvasPresence;

G_BEGIN_DECLS

typedef enum
{
  DRAG_NONE,
  DRAG_PENDING,   /* pressed on a shape or empty space, not moved yet */
  DRAG_MOVE,
  DRAG_RUBBER,
  DRAG_RESIZE,
  DRAG_ROTATE,
  DRAG_CREATE,    /* rect, ellipse, diamond, line, arrow, text, sticky */
  DRAG_PEN,
  DRAG_ERASE,
  DRAG_PAN,
} DragKind;

/* What flow_canvas_draw() may spend on drawing board tiles per frame, in
 * microseconds; the rest of a frame comes from the cache. */
#define FLOW_CANVAS_TILE_BUDGET_US 12000

/* Handles: 0..7 resize (clockwise from top-left), 8 rotate. */
#define HANDLE_NONE   -1
#define HANDLE_ROTATE 8

/* A shape's geometry as it was when a drag began. */
typedef struct
{
  FlowOpId       id;
  FlowShapeKind  kind;
  double         x, y, w, h;
  double         rotation;
  FlowPoint     *points;
  guint          n_points;
} Orig;

/* The geometry a drag would give a shape. */
typedef struct
{
  double     x, y, w, h;
  double     rotation;
  FlowPoint *points;   /* owned; NULL: unchanged */
  guint      n_points;
} Geom;

struct _FlowCanvas
{
  GObject          parent_instance;

  /* Owned */
  FlowDoc         *doc;
  FlowScene       *scene;
  GArray          *selection;    /* FlowOpId, in selection order */
  GHashTable      *selected;     /* FlowOpId* (into selection copies) -> itself */
  GArray          *origs;        /* Orig, during move/resize/rotate */
  GHashTable      *orig_index;   /* &Orig.id -> Orig*, rebuilt with origs */
  GArray          *pen_points;   /* FlowPoint, board coordinates */
  GArray          *erase_ids;    /* FlowOpId to delete at release */
  GHashTable      *erase_set;    /* the same ids */
  GArray          *trail;        /* FlowPoint, widget coordinates (eraser) */
  GArray          *guides;       /* FlowCanvasGuide */
  FlowTileCache   *tiles;        /* the board's pixels, see flow_canvas_draw() */
  guint            change_func;
  guint            redraw_id;    /* idle: the last frame was incomplete */
  guint            settle_id;    /* timeout: the zoom has settled, draw exact tiles */
  gint64           zoom_settle_us;
  gint64           zoom_changed_at;
  gint64           tile_budget;  /* µs per frame, negative: unlimited */
  int              scale_factor; /* device pixels per widget pixel */

  /* Viewport */
  double           width, height;
  double           offset_x, offset_y;
  double           zoom;

  FlowCanvasTool   tool;
  FlowCanvasStyle  style;
  guint32          accent;
  double           grid_size;

  /* Gesture */
  DragKind         drag;
  DragKind         pending_kind;   /* what DRAG_PENDING becomes */
  int              handle;
  double           press_wx, press_wy;  /* widget */
  double           press_bx, press_by;  /* board */
  double           cur_bx, cur_by;      /* board, snapped */
  double           cur_wx, cur_wy;
  FlowCanvasModifiers modifiers;
  FlowOpId         press_shape;
  double           box_x, box_y, box_w, box_h;  /* selection box at press (multi) */
  double           dx, dy;              /* move preview */
  double           box_rot;             /* frame rotation at press */
  guint            group_counter;

  guint            grid_enabled : 1;
  guint            snap_shapes : 1;
  guint            read_only : 1;
  guint            has_press_shape : 1;
  guint            select_on_release : 1;
  guint            moved : 1;
  guint            frame_complete : 1;  /* the last flow_canvas_draw() was exact */

  /* Presence, see flow-canvas-presence.c */
  FlowCanvasPresence *presence;
};

/* flow-canvas-presence.c */
FlowCanvasPresence *_flow_canvas_presence_new     (void);
void      _flow_canvas_presence_free     (FlowCanvasPresence *presence);
void      _flow_canvas_presence_class_init (GObjectClass   *klass);
void      _flow_canvas_presence_pointer  (FlowCanvas       *self,
                                          double            wx,
                                          double            wy);
void      _flow_canvas_presence_viewport_changed (FlowCanvas *self);
void      _flow_canvas_presence_resized  (FlowCanvas       *self);
void      _flow_canvas_presence_tool_changed (FlowCanvas   *self);
/* For tests */
void      _flow_canvas_set_now           (FlowCanvas       *self,
                                          gint64            now_us);
gboolean  _flow_canvas_get_edge_badge    (FlowCanvas       *self,
                                          const char       *peer_id,
                                          FlowRect         *box);
gboolean  _flow_canvas_get_remote_cursor (FlowCanvas       *self,
                                          const char       *peer_id,
                                          double           *wx,
                                          double           *wy,
                                          FlowRect         *label);
guint     _flow_canvas_get_laser_length  (FlowCanvas       *self,
                                          const char       *peer_id);

/* flow-canvas.c */
void      _flow_canvas_invalidate        (FlowCanvas       *self);
void      _flow_canvas_selection_changed (FlowCanvas       *self);
void      _flow_canvas_select_ids        (FlowCanvas       *self,
                                          const FlowOpId   *ids,
                                          guint             n_ids);
gboolean  _flow_canvas_editable          (FlowCanvas       *self);
void      _flow_canvas_set_scale_factor  (FlowCanvas       *self,
                                          int               scale_factor);
void      _flow_canvas_set_tile_budget   (FlowCanvas       *self,
                                          gint64            budget_us);
gboolean  _flow_canvas_get_frame_complete (FlowCanvas      *self);
FlowTileCache *_flow_canvas_get_tile_cache (FlowCanvas     *self);
void      _flow_canvas_shape_box         (const FlowShape  *shape,
                                          FlowRect         *box);
gboolean  _flow_canvas_selection_box     (FlowCanvas       *self,
                                          FlowRect         *box);
GArray   *_flow_canvas_selected_shapes   (FlowCanvas       *self);
char     *_flow_canvas_new_group_id      (FlowCanvas       *self);
gboolean  _flow_canvas_set_number        (FlowCanvas       *self,
                                          const FlowOpId   *id,
                                          const char       *key,
                                          double            value);
gboolean  _flow_canvas_set_line_points   (FlowCanvas       *self,
                                          const FlowOpId   *id,
                                          const FlowPoint  *abs_points,
                                          guint             n_points);
void      _flow_canvas_apply_style       (FlowCanvas       *self,
                                          const FlowOpId   *id,
                                          FlowShapeKind     kind,
                                          const FlowCanvasStyle *style,
                                          FlowCanvasStyleFields fields);

/* flow-canvas-clipboard.c */
JsonNode *_flow_canvas_serialize         (FlowCanvas       *self,
                                          const FlowOpId   *ids,
                                          guint             n_ids);
gboolean  _flow_canvas_paste_node        (FlowCanvas       *self,
                                          JsonNode         *root,
                                          gboolean          centre,
                                          double            bx,
                                          double            by,
                                          GError          **error);

void      _flow_canvas_set_zoom_settle (FlowCanvas *self,
                                        gint64      settle_us);

G_END_DECLS
