/* flow-canvas.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <cairo.h>
#include <gio/gio.h>

#include "flow-doc.h"
#include "flow-remote-presence.h"
#include "flow-scene.h"

G_BEGIN_DECLS

/*
 * FlowCanvas is the editing controller of one board: viewport, tools,
 * selection, snapping, clipboard and the drawing of the board plus its
 * editing overlays. It has no GTK dependency: the board widget forwards
 * its size, pointer events and key commands here and draws with
 * flow_canvas_draw(). Every edit goes through the core document API, and
 * a gesture (a drag, a command) is exactly one change, so one undo step
 * and one message to peers. While a drag runs the document is untouched:
 * the canvas only previews.
 *
 * Coordinates: "widget" coordinates are pixels in the widget, "board"
 * coordinates are board units. board = offset + widget / zoom.
 *
 * Signals:
 *  - "invalidate" (): redraw; emitted on any change of the board, the
 *    viewport, the selection or the overlay.
 *  - "selection-changed" ().
 *  - "edit-text" (gconstpointer id): a text or sticky shape wants its text
 *    edited; @id is a const FlowOpId *, valid during the emission. The
 *    widget pops an entry and calls flow_canvas_set_text().
 *  - "image-requested" (double x, double y): the image tool was clicked at
 *    widget point (x, y); the widget asks for a file and calls
 *    flow_canvas_insert_image().
 *  - "pointer-moved" (double x, double y, double zoom, const char *tool):
 *    our pointer moved to board point (x, y); @zoom is ours, @tool the
 *    current tool's name ("laser" for the laser pointer). For presence.
 *  - "presence-changed" (): only the presence overlay (remote cursors,
 *    laser trails) needs a redraw: see flow_canvas_draw_presence().
 *  - "follow-stopped" (): following a peer stopped because of a local
 *    pan or zoom, or because the peer left.
 *
 * Properties: "doc" (construct-only), "tool", "zoom", "read-only".
 */

#define FLOW_TYPE_CANVAS (flow_canvas_get_type ())

G_DECLARE_FINAL_TYPE (FlowCanvas, flow_canvas, FLOW, CANVAS, GObject)

/* The mime type of flow_canvas_copy_selection(), see flow-canvas-clipboard.c
 * for the format. */
#define FLOW_CANVAS_SHAPES_MIME "application/x-flowsync-shapes"

#define FLOW_CANVAS_MIN_ZOOM 0.05
#define FLOW_CANVAS_MAX_ZOOM 20.0

typedef enum
{
  FLOW_CANVAS_TOOL_SELECT,
  FLOW_CANVAS_TOOL_HAND,
  FLOW_CANVAS_TOOL_RECT,
  FLOW_CANVAS_TOOL_ELLIPSE,
  FLOW_CANVAS_TOOL_DIAMOND,
  FLOW_CANVAS_TOOL_LINE,
  FLOW_CANVAS_TOOL_ARROW,
  FLOW_CANVAS_TOOL_PEN,
  FLOW_CANVAS_TOOL_TEXT,
  FLOW_CANVAS_TOOL_STICKY,
  FLOW_CANVAS_TOOL_IMAGE,
  FLOW_CANVAS_TOOL_ERASER,
  FLOW_CANVAS_TOOL_LASER,      /* a fading trail, never stored; allowed read-only */
} FlowCanvasTool;

#define FLOW_CANVAS_TOOL_LAST FLOW_CANVAS_TOOL_LASER

typedef enum
{
  FLOW_CANVAS_MODIFIER_NONE  = 0,
  FLOW_CANVAS_MODIFIER_SHIFT = 1 << 0,
  FLOW_CANVAS_MODIFIER_CTRL  = 1 << 1,
  FLOW_CANVAS_MODIFIER_ALT   = 1 << 2,
} FlowCanvasModifiers;

typedef enum
{
  FLOW_CANVAS_ALIGN_LEFT,
  FLOW_CANVAS_ALIGN_HCENTER,
  FLOW_CANVAS_ALIGN_RIGHT,
  FLOW_CANVAS_ALIGN_TOP,
  FLOW_CANVAS_ALIGN_VCENTER,
  FLOW_CANVAS_ALIGN_BOTTOM,
} FlowCanvasAlign;

typedef enum
{
  FLOW_CANVAS_DISTRIBUTE_HORIZONTAL,
  FLOW_CANVAS_DISTRIBUTE_VERTICAL,
} FlowCanvasDistribute;

typedef enum
{
  FLOW_CANVAS_RAISE,           /* one step up, past the next overlapping-or-not shape */
  FLOW_CANVAS_LOWER,           /* one step down */
  FLOW_CANVAS_RAISE_TO_TOP,
  FLOW_CANVAS_LOWER_TO_BOTTOM,
} FlowCanvasStack;

/**
 * FlowCanvasStyle:
 * @stroke: stroke (and text) colour, 0xRRGGBBAA
 * @fill: fill colour; alpha 0 means no fill
 * @stroke_width: in board units, 0..1000
 * @opacity: 0..1
 * @font_size: 1..1000
 */
typedef struct
{
  guint32 stroke;
  guint32 fill;
  double  stroke_width;
  double  opacity;
  double  font_size;
} FlowCanvasStyle;

/* Which fields of a FlowCanvasStyle flow_canvas_set_style() applies. */
typedef enum
{
  FLOW_CANVAS_STYLE_STROKE       = 1 << 0,
  FLOW_CANVAS_STYLE_FILL         = 1 << 1,
  FLOW_CANVAS_STYLE_STROKE_WIDTH = 1 << 2,
  FLOW_CANVAS_STYLE_OPACITY      = 1 << 3,
  FLOW_CANVAS_STYLE_FONT_SIZE    = 1 << 4,
  FLOW_CANVAS_STYLE_ALL          = 0x1f,
} FlowCanvasStyleFields;

/* A snap guide for the overlay, in board coordinates. */
typedef struct
{
  double x1, y1, x2, y2;
} FlowCanvasGuide;

FlowCanvas      *flow_canvas_new                 (FlowDoc              *board);
FlowDoc         *flow_canvas_get_doc             (FlowCanvas           *self);
FlowScene       *flow_canvas_get_scene           (FlowCanvas           *self);

/* Viewport. The size is the widget's, in pixels. */
void             flow_canvas_set_size            (FlowCanvas           *self,
                                                  double                width,
                                                  double                height);
void             flow_canvas_get_offset          (FlowCanvas           *self,
                                                  double               *x,
                                                  double               *y);
void             flow_canvas_set_offset          (FlowCanvas           *self,
                                                  double                x,
                                                  double                y);
double           flow_canvas_get_zoom            (FlowCanvas           *self);
void             flow_canvas_pan_by              (FlowCanvas           *self,
                                                  double                dx,
                                                  double                dy);
void             flow_canvas_zoom_at             (FlowCanvas           *self,
                                                  double                factor,
                                                  double                wx,
                                                  double                wy);
void             flow_canvas_zoom_to_fit         (FlowCanvas           *self);
void             flow_canvas_zoom_reset          (FlowCanvas           *self);
void             flow_canvas_widget_to_board     (FlowCanvas           *self,
                                                  double                wx,
                                                  double                wy,
                                                  double               *bx,
                                                  double               *by);
void             flow_canvas_board_to_widget     (FlowCanvas           *self,
                                                  double                bx,
                                                  double                by,
                                                  double               *wx,
                                                  double               *wy);

/* Tools. Setting a tool cancels a gesture in progress. In read-only mode
 * only SELECT and HAND can be set (returns FALSE otherwise). */
FlowCanvasTool   flow_canvas_get_tool            (FlowCanvas           *self);
gboolean         flow_canvas_set_tool            (FlowCanvas           *self,
                                                  FlowCanvasTool        tool);
gboolean         flow_canvas_tool_from_shortcut  (gunichar              key,
                                                  FlowCanvasTool       *tool);
gunichar         flow_canvas_tool_get_shortcut   (FlowCanvasTool        tool);
const char      *flow_canvas_tool_to_string      (FlowCanvasTool        tool);

/* Pointer input, in widget coordinates. @pressure is in [0, 1] (pass 1 for
 * devices without one); @button is 1 (primary), 2 (middle: always pans;
 * map space+drag to it) or 3 (ignored, for context menus). */
void             flow_canvas_press               (FlowCanvas           *self,
                                                  double                x,
                                                  double                y,
                                                  double                pressure,
                                                  FlowCanvasModifiers   modifiers,
                                                  guint                 button);
void             flow_canvas_motion              (FlowCanvas           *self,
                                                  double                x,
                                                  double                y,
                                                  double                pressure,
                                                  FlowCanvasModifiers   modifiers);
void             flow_canvas_release             (FlowCanvas           *self,
                                                  double                x,
                                                  double                y,
                                                  FlowCanvasModifiers   modifiers);
void             flow_canvas_cancel              (FlowCanvas           *self);
gboolean         flow_canvas_is_dragging         (FlowCanvas           *self);
gboolean         flow_canvas_edit_at             (FlowCanvas           *self,
                                                  double                x,
                                                  double                y);
const char      *flow_canvas_get_cursor_name     (FlowCanvas           *self,
                                                  double                x,
                                                  double                y);

/* Selection */
const FlowOpId  *flow_canvas_get_selection       (FlowCanvas           *self,
                                                  guint                *n_ids);
void             flow_canvas_set_selection       (FlowCanvas           *self,
                                                  const FlowOpId       *ids,
                                                  guint                 n_ids);
gboolean         flow_canvas_is_selected         (FlowCanvas           *self,
                                                  const FlowOpId       *id);
void             flow_canvas_select_all          (FlowCanvas           *self);
void             flow_canvas_clear_selection     (FlowCanvas           *self);

/* Commands on the selection; each is one change. They return TRUE if
 * they changed the board. */
gboolean         flow_canvas_delete_selection    (FlowCanvas           *self);
gboolean         flow_canvas_duplicate           (FlowCanvas           *self);
gboolean         flow_canvas_group               (FlowCanvas           *self);
gboolean         flow_canvas_ungroup             (FlowCanvas           *self);
gboolean         flow_canvas_align               (FlowCanvas           *self,
                                                  FlowCanvasAlign       align);
gboolean         flow_canvas_distribute          (FlowCanvas           *self,
                                                  FlowCanvasDistribute  direction);
gboolean         flow_canvas_restack             (FlowCanvas           *self,
                                                  FlowCanvasStack       how);
gboolean         flow_canvas_nudge               (FlowCanvas           *self,
                                                  double                dx,
                                                  double                dy);
gboolean         flow_canvas_set_locked          (FlowCanvas           *self,
                                                  gboolean              locked);
gboolean         flow_canvas_set_text            (FlowCanvas           *self,
                                                  const FlowOpId       *id,
                                                  const char           *text);
gboolean         flow_canvas_undo                (FlowCanvas           *self);
gboolean         flow_canvas_redo                (FlowCanvas           *self);

/* Snapping: to a grid (off by default, size 20) and to the edges and
 * centres of other shapes within 6 widget pixels (on by default). Alt
 * held during a drag disables both. */
void             flow_canvas_set_grid            (FlowCanvas           *self,
                                                  gboolean              enabled,
                                                  double                size);
gboolean         flow_canvas_get_grid            (FlowCanvas           *self,
                                                  double               *size);
void             flow_canvas_set_snap_to_shapes  (FlowCanvas           *self,
                                                  gboolean              enabled);
const FlowCanvasGuide *flow_canvas_get_guides    (FlowCanvas           *self,
                                                  guint                *n_guides);

/* Style of the next shape; set_style also applies @fields to the
 * selection (one change). */
void             flow_canvas_get_style           (FlowCanvas           *self,
                                                  FlowCanvasStyle      *style);
gboolean         flow_canvas_set_style           (FlowCanvas           *self,
                                                  const FlowCanvasStyle *style,
                                                  FlowCanvasStyleFields fields);

/* Clipboard and images; @x, @y are widget coordinates. */
GBytes          *flow_canvas_copy_selection      (FlowCanvas           *self);
GBytes          *flow_canvas_cut_selection       (FlowCanvas           *self);
gboolean         flow_canvas_paste               (FlowCanvas           *self,
                                                  GBytes               *data,
                                                  double                x,
                                                  double                y,
                                                  GError              **error);
GBytes          *flow_canvas_export_selection    (FlowCanvas           *self,
                                                  gboolean              svg,
                                                  GError              **error);
gboolean         flow_canvas_insert_image        (FlowCanvas           *self,
                                                  GBytes               *png,
                                                  const char           *mime_type,
                                                  double                x,
                                                  double                y,
                                                  FlowOpId             *id,
                                                  GError              **error);

/* Read-only mode (history previews, checkouts): selection and panning
 * only. A read-only FlowDoc makes the canvas read-only for good. */
gboolean         flow_canvas_get_read_only       (FlowCanvas           *self);
void             flow_canvas_set_read_only       (FlowCanvas           *self,
                                                  gboolean              read_only);

/* Drawing, in widget coordinates (cr's user space = widget pixels). */
void             flow_canvas_set_accent_color    (FlowCanvas           *self,
                                                  guint32               rgba);
void             flow_canvas_draw                (FlowCanvas           *self,
                                                  cairo_t              *cr);

/* Presence (flow-canvas-presence.c): remote cursors, laser trails and
 * following a peer's pointer. Nothing here touches the document. */
void             flow_canvas_set_remote_presence (FlowCanvas           *self,
                                                  GPtrArray            *presences);
void             flow_canvas_follow              (FlowCanvas           *self,
                                                  const char           *peer_id);
const char      *flow_canvas_get_followed        (FlowCanvas           *self);
void             flow_canvas_hover               (FlowCanvas           *self,
                                                  double                x,
                                                  double                y);
gboolean         flow_canvas_is_animating        (FlowCanvas           *self);
gboolean         flow_canvas_update_laser        (FlowCanvas           *self);
void             flow_canvas_draw_presence       (FlowCanvas           *self,
                                                  cairo_t              *cr);

G_END_DECLS
