/* test-canvas.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The board editing controller (src/app/flow-canvas.c), without a display:
 * gestures become the right document ops, a drag previews without touching
 * the document and commits one change (one undo step) on release;
 * selection, snapping, arrow bindings, stacking order, alignment, the
 * clipboard format, images, read-only mode, the viewport and remote
 * deletions of selected shapes; presence (remote cursors, the laser that
 * writes nothing, following a peer). Randomised parts use flow_test_seed().
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-board.h"
#include "flow-canvas.h"
#include "flow-canvas-private.h"
#include "flow-render.h"
#include "flow-test-util.h"

#define SHIFT FLOW_CANVAS_MODIFIER_SHIFT
#define CTRL  FLOW_CANVAS_MODIFIER_CTRL
#define ALT   FLOW_CANVAS_MODIFIER_ALT
#define NONE  FLOW_CANVAS_MODIFIER_NONE

static const FlowOpId doc_id = { 0, 0 };

typedef struct
{
  FlowDoc    *doc;
  FlowCanvas *canvas;
  gint64      now;
  guint       n_changes;
  guint       n_selection;
  guint       n_edit_text;
  FlowOpId    edited;
} Fixture;

static void
changed_cb (FlowDoc    *doc,
            FlowChange *change,
            gpointer    user_data)
{
  Fixture *f = user_data;

  f->n_changes++;
}

static void
selection_changed_cb (FlowCanvas *canvas,
                      Fixture    *f)
{
  f->n_selection++;
}

static void
edit_text_cb (FlowCanvas     *canvas,
              const FlowOpId *id,
              Fixture        *f)
{
  f->n_edit_text++;
  f->edited = *id;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  f->now = 1000 * G_TIME_SPAN_SECOND;
  f->doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  flow_doc_set_clock (f->doc, flow_test_clock, &f->now, NULL);
  flow_doc_add_change_func (f->doc, changed_cb, f, NULL);
  f->canvas = flow_canvas_new (f->doc);
  flow_canvas_set_size (f->canvas, 800, 600);
  g_signal_connect (f->canvas, "selection-changed", G_CALLBACK (selection_changed_cb), f);
  g_signal_connect (f->canvas, "edit-text", G_CALLBACK (edit_text_cb), f);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_assert_finalize_object (f->canvas);
  g_assert_finalize_object (f->doc);
}

/* Separates undo steps (the capture timeout is 500 ms). */
static void
step (Fixture *f)
{
  f->now += G_TIME_SPAN_SECOND;
}

static FlowOpId
add_shape (Fixture    *f,
           const char *kind,
           double      x,
           double      y,
           double      w,
           double      h)
{
  FlowOpId id = flow_test_add_shape (f->doc, kind, x, y, w, h);

  step (f);
  return id;
}

static double
num (FlowDoc        *doc,
     const FlowOpId *id,
     const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  g_assert_nonnull (v);
  g_assert_cmpint (flow_value_get_value_type (v), ==, FLOW_VALUE_NUMBER);
  return flow_value_get_number (v);
}

static const char *
str (FlowDoc        *doc,
     const FlowOpId *id,
     const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  return v && flow_value_get_value_type (v) == FLOW_VALUE_STRING ? flow_value_get_string (v) : NULL;
}

static const FlowOpId *
ref (FlowDoc        *doc,
     const FlowOpId *id,
     const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  return v && flow_value_get_value_type (v) == FLOW_VALUE_REF ? flow_value_get_ref (v) : NULL;
}

static void
drag (Fixture             *f,
      double               x1,
      double               y1,
      double               x2,
      double               y2,
      FlowCanvasModifiers  mods)
{
  flow_canvas_press (f->canvas, x1, y1, 1.0, mods, 1);
  for (int i = 1; i <= 8; i++)
    flow_canvas_motion (f->canvas, x1 + (x2 - x1) * i / 8, y1 + (y2 - y1) * i / 8, 1.0, mods);
  flow_canvas_release (f->canvas, x2, y2, mods);
  step (f);
}

static void
click (Fixture             *f,
       double               x,
       double               y,
       FlowCanvasModifiers  mods)
{
  flow_canvas_press (f->canvas, x, y, 1.0, mods, 1);
  flow_canvas_release (f->canvas, x, y, mods);
  step (f);
}

/* The one selected shape. */
static FlowOpId
selected (Fixture *f)
{
  guint n;
  const FlowOpId *ids = flow_canvas_get_selection (f->canvas, &n);

  g_assert_cmpuint (n, ==, 1);
  return ids[0];
}

static guint
n_selected (Fixture *f)
{
  guint n;

  flow_canvas_get_selection (f->canvas, &n);
  return n;
}

static guint
n_live (FlowDoc *doc)
{
  g_autoptr(GArray) ids = flow_doc_list_entities (doc, FALSE);

  return ids->len;
}

/* The z position of @id on the board. */
static guint
z_of (Fixture        *f,
      const FlowOpId *id)
{
  g_autoptr(GArray) ordered = flow_doc_list_ordered (f->doc);

  for (guint i = 0; i < ordered->len; i++)
    if (flow_op_id_equal (&g_array_index (ordered, FlowOpId, i), id))
      return i;
  g_assert_not_reached ();
  return 0;
}

/* ------------------------------------------------------------------------
 * Viewport and tools
 * ------------------------------------------------------------------------ */

static void
test_viewport (Fixture       *f,
               gconstpointer  data)
{
  double bx, by, bx2, by2, wx, wy, ox, oy;
  FlowRect bounds;

  /* zoom_at keeps the board point under the cursor fixed. */
  flow_canvas_pan_by (f->canvas, -37, 12);
  flow_canvas_widget_to_board (f->canvas, 123, 456, &bx, &by);
  flow_canvas_zoom_at (f->canvas, 2.5, 123, 456);
  g_assert_cmpfloat_with_epsilon (flow_canvas_get_zoom (f->canvas), 2.5, 1e-12);
  flow_canvas_widget_to_board (f->canvas, 123, 456, &bx2, &by2);
  g_assert_cmpfloat_with_epsilon (bx, bx2, 1e-9);
  g_assert_cmpfloat_with_epsilon (by, by2, 1e-9);
  flow_canvas_zoom_at (f->canvas, 0.3, 700, 10);
  flow_canvas_widget_to_board (f->canvas, 700, 10, &bx2, &by2);
  flow_canvas_widget_to_board (f->canvas, 700, 10, &bx, &by);
  flow_canvas_board_to_widget (f->canvas, bx, by, &wx, &wy);
  g_assert_cmpfloat_with_epsilon (wx, 700, 1e-9);
  g_assert_cmpfloat_with_epsilon (wy, 10, 1e-9);

  /* Clamped, and still fixed at the cursor when clamped. */
  flow_canvas_widget_to_board (f->canvas, 400, 300, &bx, &by);
  flow_canvas_zoom_at (f->canvas, 1e6, 400, 300);
  g_assert_cmpfloat (flow_canvas_get_zoom (f->canvas), ==, FLOW_CANVAS_MAX_ZOOM);
  flow_canvas_widget_to_board (f->canvas, 400, 300, &bx2, &by2);
  g_assert_cmpfloat_with_epsilon (bx, bx2, 1e-9);
  flow_canvas_zoom_at (f->canvas, 1e-9, 400, 300);
  g_assert_cmpfloat (flow_canvas_get_zoom (f->canvas), ==, FLOW_CANVAS_MIN_ZOOM);

  /* Pan: the board follows the pointer. */
  flow_canvas_zoom_reset (f->canvas);
  g_assert_cmpfloat (flow_canvas_get_zoom (f->canvas), ==, 1.0);
  flow_canvas_get_offset (f->canvas, &ox, &oy);
  flow_canvas_pan_by (f->canvas, 50, -20);
  flow_canvas_get_offset (f->canvas, &bx, &by);
  g_assert_cmpfloat_with_epsilon (bx, ox - 50, 1e-9);
  g_assert_cmpfloat_with_epsilon (by, oy + 20, 1e-9);

  /* Zoom to fit shows everything. */
  add_shape (f, "rect", -500, -300, 100, 100);
  add_shape (f, "ellipse", 2000, 1500, 300, 200);
  flow_canvas_zoom_to_fit (f->canvas);
  g_assert_true (flow_scene_get_bounds (flow_canvas_get_scene (f->canvas), &bounds));
  flow_canvas_board_to_widget (f->canvas, bounds.x, bounds.y, &wx, &wy);
  g_assert_cmpfloat (wx, >=, -1e-6);
  g_assert_cmpfloat (wy, >=, -1e-6);
  flow_canvas_board_to_widget (f->canvas, bounds.x + bounds.width, bounds.y + bounds.height, &wx, &wy);
  g_assert_cmpfloat (wx, <=, 800 + 1e-6);
  g_assert_cmpfloat (wy, <=, 600 + 1e-6);
  g_assert_cmpfloat (flow_canvas_get_zoom (f->canvas), <, 1.0);

  /* The hand tool pans and never edits. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_HAND);
  flow_canvas_get_offset (f->canvas, &ox, &oy);
  f->n_changes = 0;
  drag (f, 100, 100, 160, 130, NONE);
  flow_canvas_get_offset (f->canvas, &bx, &by);
  g_assert_cmpfloat_with_epsilon (bx, ox - 60 / flow_canvas_get_zoom (f->canvas), 1e-9);
  g_assert_cmpfloat_with_epsilon (by, oy - 30 / flow_canvas_get_zoom (f->canvas), 1e-9);
  /* So does the middle button with any tool. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_RECT);
  flow_canvas_press (f->canvas, 10, 10, 1, NONE, 2);
  flow_canvas_motion (f->canvas, 20, 10, 1, NONE);
  flow_canvas_release (f->canvas, 20, 10, NONE);
  g_assert_cmpuint (f->n_changes, ==, 0);
}

static void
test_shortcuts (void)
{
  static const struct { gunichar key; FlowCanvasTool tool; } table[] = {
    { 'v', FLOW_CANVAS_TOOL_SELECT }, { 'h', FLOW_CANVAS_TOOL_HAND }, { 'r', FLOW_CANVAS_TOOL_RECT },
    { 'o', FLOW_CANVAS_TOOL_ELLIPSE }, { 'd', FLOW_CANVAS_TOOL_DIAMOND }, { 'l', FLOW_CANVAS_TOOL_LINE },
    { 'a', FLOW_CANVAS_TOOL_ARROW }, { 'p', FLOW_CANVAS_TOOL_PEN }, { 't', FLOW_CANVAS_TOOL_TEXT },
    { 's', FLOW_CANVAS_TOOL_STICKY }, { 'i', FLOW_CANVAS_TOOL_IMAGE }, { 'e', FLOW_CANVAS_TOOL_ERASER },
    { 'k', FLOW_CANVAS_TOOL_LASER },
  };
  FlowCanvasTool tool;

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      g_assert_true (flow_canvas_tool_from_shortcut (table[i].key, &tool));
      g_assert_cmpint (tool, ==, table[i].tool);
      g_assert_true (flow_canvas_tool_from_shortcut (g_unichar_toupper (table[i].key), &tool));
      g_assert_cmpint (tool, ==, table[i].tool);
      g_assert_cmpuint (flow_canvas_tool_get_shortcut (table[i].tool), ==, table[i].key);
      g_assert_nonnull (flow_canvas_tool_to_string (table[i].tool));
    }
  g_assert_false (flow_canvas_tool_from_shortcut ('x', &tool));
  g_assert_false (flow_canvas_tool_from_shortcut ('1', &tool));
}

/* ------------------------------------------------------------------------
 * Tools
 * ------------------------------------------------------------------------ */

static void
test_create_shapes (Fixture       *f,
                    gconstpointer  data)
{
  static const struct { FlowCanvasTool tool; const char *kind; } table[] = {
    { FLOW_CANVAS_TOOL_RECT, "rect" }, { FLOW_CANVAS_TOOL_ELLIPSE, "ellipse" },
    { FLOW_CANVAS_TOOL_DIAMOND, "diamond" }, { FLOW_CANVAS_TOOL_TEXT, "text" },
    { FLOW_CANVAS_TOOL_STICKY, "sticky" }, { FLOW_CANVAS_TOOL_LINE, "line" },
    { FLOW_CANVAS_TOOL_ARROW, "arrow" },
  };
  FlowCanvasStyle style;

  flow_canvas_get_style (f->canvas, &style);
  style.stroke = 0x112233ff;
  style.stroke_width = 5;
  flow_canvas_set_style (f->canvas, &style, FLOW_CANVAS_STYLE_ALL);
  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      double y = 20 + i * 80;
      FlowOpId id;
      guint before = f->n_changes;
      gboolean is_line = strcmp (table[i].kind, "line") == 0 || strcmp (table[i].kind, "arrow") == 0;

      g_assert_true (flow_canvas_set_tool (f->canvas, table[i].tool));
      /* Dragged up and left: the box is the same. */
      drag (f, 200, y + 50, 100, y, NONE);
      g_assert_cmpuint (f->n_changes, ==, before + 1);
      g_assert_cmpint (flow_canvas_get_tool (f->canvas), ==, FLOW_CANVAS_TOOL_SELECT);
      id = selected (f);
      g_assert_cmpstr (flow_doc_get_entity_kind (f->doc, &id), ==, table[i].kind);
      g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 100);
      g_assert_cmpfloat (num (f->doc, &id, "y"), ==, y);
      g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);
      g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 50);
      if (strcmp (table[i].kind, "text") != 0 && strcmp (table[i].kind, "sticky") != 0)
        {
          g_assert_cmpuint (flow_value_get_color (flow_doc_get_property (f->doc, &id, "stroke")), ==, 0x112233ff);
          g_assert_cmpfloat (num (f->doc, &id, "stroke_width"), ==, 5);
        }
      if (is_line)
        {
          guint n;
          const FlowPoint *p = flow_value_get_points (flow_doc_get_property (f->doc, &id, "points"), &n);

          g_assert_cmpuint (n, ==, 2);
          /* From the press to the release, relative to x, y. */
          g_assert_cmpfloat (p[0].x, ==, 100);
          g_assert_cmpfloat (p[0].y, ==, 50);
          g_assert_cmpfloat (p[1].x, ==, 0);
          g_assert_cmpfloat (p[1].y, ==, 0);
        }
    }
  /* Text and sticky shapes asked for their text. */
  g_assert_cmpuint (f->n_edit_text, ==, 2);
  g_assert_cmpuint (n_live (f->doc), ==, G_N_ELEMENTS (table));
}

static void
test_click_default_size (Fixture       *f,
                         gconstpointer  data)
{
  FlowOpId id;

  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_RECT);
  click (f, 300, 300, NONE);
  id = selected (f);
  g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 250);
  g_assert_cmpfloat (num (f->doc, &id, "y"), ==, 250);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 100);

  /* A wobble below the drag threshold is still a click. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_ELLIPSE);
  drag (f, 600, 100, 601, 101, NONE);
  id = selected (f);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);

  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_ARROW);
  click (f, 100, 500, NONE);
  id = selected (f);
  g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 0);
}

static void
test_shift_constrains (Fixture       *f,
                       gconstpointer  data)
{
  FlowOpId id;
  guint n;
  const FlowPoint *p;

  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_RECT);
  drag (f, 100, 100, 200, 140, SHIFT);
  id = selected (f);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 100);

  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_LINE);
  drag (f, 300, 300, 400, 390, SHIFT);
  id = selected (f);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &id, "w"), num (f->doc, &id, "h"), 1e-6);
  p = flow_value_get_points (flow_doc_get_property (f->doc, &id, "points"), &n);
  g_assert_cmpfloat_with_epsilon (p[1].x - p[0].x, p[1].y - p[0].y, 1e-4);

  /* Almost horizontal becomes exactly horizontal. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_LINE);
  drag (f, 300, 500, 420, 510, SHIFT);
  id = selected (f);
  g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 0);
}

static void
test_pen (Fixture       *f,
          gconstpointer  data)
{
  FlowOpId id;
  guint n, before = f->n_changes;
  const FlowPoint *p;
  g_autoptr(GArray) ids = NULL;

  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_PEN);
  /* A straight stroke with dense, noisy-pressure points. */
  flow_canvas_press (f->canvas, 100, 100, 0.5, NONE, 1);
  for (int i = 1; i <= 200; i++)
    flow_canvas_motion (f->canvas, 100 + i * 0.5, 100, 0.5, NONE);
  g_assert_cmpuint (f->n_changes, ==, before);
  flow_canvas_release (f->canvas, 200, 100, NONE);
  step (f);
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  /* The pen stays the tool for the next stroke. */
  g_assert_cmpint (flow_canvas_get_tool (f->canvas), ==, FLOW_CANVAS_TOOL_PEN);

  ids = flow_doc_list_ordered (f->doc);
  g_assert_cmpuint (ids->len, ==, 1);
  id = g_array_index (ids, FlowOpId, 0);
  g_assert_cmpstr (flow_doc_get_entity_kind (f->doc, &id), ==, "stroke");
  p = flow_value_get_points (flow_doc_get_property (f->doc, &id, "points"), &n);
  /* Smoothed down to its two ends, relative to the box. */
  g_assert_cmpuint (n, ==, 2);
  g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "y"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);
  g_assert_cmpfloat (p[0].x, ==, 0);
  g_assert_cmpfloat (p[1].x, ==, 100);
  g_assert_cmpfloat (p[0].pressure, ==, 0.5f);

  /* A circle keeps its shape: many points, all within the box. */
  flow_canvas_press (f->canvas, 500, 300, 1, NONE, 1);
  for (int i = 1; i <= 360; i++)
    flow_canvas_motion (f->canvas, 400 + 100 * cos (i * G_PI / 180), 300 + 100 * sin (i * G_PI / 180),
                        0.2 + 0.8 * i / 360, NONE);
  flow_canvas_release (f->canvas, 500, 300, NONE);
  g_clear_pointer (&ids, g_array_unref);
  ids = flow_doc_list_ordered (f->doc);
  id = g_array_index (ids, FlowOpId, 1);
  p = flow_value_get_points (flow_doc_get_property (f->doc, &id, "points"), &n);
  g_assert_cmpuint (n, >, 8);
  g_assert_cmpuint (n, <, 360);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpfloat (p[i].x, >=, 0);
      g_assert_cmpfloat (p[i].x, <=, num (f->doc, &id, "w") + 1e-3);
      g_assert_cmpfloat (p[i].pressure, >, 0);
      g_assert_cmpfloat (p[i].pressure, <=, 1);
    }
  g_assert_cmpfloat_with_epsilon (num (f->doc, &id, "w"), 200, 0.5);
}

static void
test_text (Fixture       *f,
           gconstpointer  data)
{
  FlowOpId id;

  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_TEXT);
  click (f, 100, 100, NONE);
  g_assert_cmpuint (f->n_edit_text, ==, 1);
  id = selected (f);
  g_assert_true (flow_op_id_equal (&id, &f->edited));
  g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 100);
  g_assert_true (flow_canvas_set_text (f->canvas, &id, "hello\nworld"));
  g_assert_cmpstr (str (f->doc, &id, "text"), ==, "hello\nworld");
  g_assert_cmpfloat (num (f->doc, &id, "h"), >, 40);

  /* Double click edits; the text tool on a text edits it too. */
  g_assert_true (flow_canvas_edit_at (f->canvas, 110, 110));
  g_assert_cmpuint (f->n_edit_text, ==, 2);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_TEXT);
  click (f, 110, 110, NONE);
  g_assert_cmpuint (f->n_edit_text, ==, 3);
  g_assert_cmpuint (n_live (f->doc), ==, 1);
  g_assert_false (flow_canvas_edit_at (f->canvas, 700, 500));

  /* An emptied text goes away; an emptied note stays. */
  g_assert_true (flow_canvas_set_text (f->canvas, &id, ""));
  g_assert_false (flow_doc_has_entity (f->doc, &id) && !flow_doc_entity_is_deleted (f->doc, &id));
  g_assert_cmpuint (n_selected (f), ==, 0);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_STICKY);
  click (f, 300, 300, NONE);
  id = selected (f);
  g_assert_true (flow_canvas_set_text (f->canvas, &id, "note"));
  g_assert_true (flow_canvas_set_text (f->canvas, &id, ""));
  g_assert_cmpuint (n_live (f->doc), ==, 1);
}

static void
test_eraser (Fixture       *f,
             gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 50, 50);
  FlowOpId b = add_shape (f, "ellipse", 300, 100, 50, 50);
  FlowOpId c = add_shape (f, "rect", 100, 400, 50, 50);
  guint before = f->n_changes;

  flow_canvas_set_selection (f->canvas, &a, 1);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_ERASER);
  flow_canvas_press (f->canvas, 50, 125, 1, NONE, 1);
  for (int x = 50; x <= 400; x += 20)
    flow_canvas_motion (f->canvas, x, 125, 1, NONE);
  /* Nothing is gone until the release. */
  g_assert_cmpuint (f->n_changes, ==, before);
  g_assert_cmpuint (n_live (f->doc), ==, 3);
  flow_canvas_release (f->canvas, 400, 125, NONE);
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_true (flow_doc_entity_is_deleted (f->doc, &a));
  g_assert_true (flow_doc_entity_is_deleted (f->doc, &b));
  g_assert_false (flow_doc_entity_is_deleted (f->doc, &c));
  g_assert_cmpuint (n_selected (f), ==, 0);

  /* Cancelled, it erases nothing. */
  flow_canvas_press (f->canvas, 125, 425, 1, NONE, 1);
  flow_canvas_cancel (f->canvas);
  flow_canvas_release (f->canvas, 125, 425, NONE);
  g_assert_false (flow_doc_entity_is_deleted (f->doc, &c));
}

/* ------------------------------------------------------------------------
 * Selection
 * ------------------------------------------------------------------------ */

static void
test_select (Fixture       *f,
             gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId b = add_shape (f, "rect", 150, 150, 100, 100);   /* over a */
  FlowOpId c = add_shape (f, "ellipse", 400, 100, 100, 100);
  FlowOpId d = add_shape (f, "rect", 600, 100, 50, 50);
  FlowOpId ids[2];
  guint changes = f->n_changes;

  /* Topmost wins. */
  click (f, 175, 175, NONE);
  g_assert_true (flow_op_id_equal (&(FlowOpId) { selected (f).replica, selected (f).seq }, &b));
  click (f, 120, 120, NONE);
  g_assert_true (flow_canvas_is_selected (f->canvas, &a));
  g_assert_cmpuint (n_selected (f), ==, 1);
  /* Shift adds and toggles. */
  click (f, 450, 150, SHIFT);
  g_assert_cmpuint (n_selected (f), ==, 2);
  g_assert_true (flow_canvas_is_selected (f->canvas, &c));
  click (f, 120, 120, SHIFT);
  g_assert_cmpuint (n_selected (f), ==, 1);
  g_assert_false (flow_canvas_is_selected (f->canvas, &a));
  /* Empty space clears. */
  click (f, 700, 500, NONE);
  g_assert_cmpuint (n_selected (f), ==, 0);

  /* Rubber band: only shapes fully inside. */
  drag (f, 90, 90, 520, 220, NONE);
  g_assert_cmpuint (n_selected (f), ==, 2);
  g_assert_true (flow_canvas_is_selected (f->canvas, &a));
  g_assert_true (flow_canvas_is_selected (f->canvas, &c));
  drag (f, 90, 90, 700, 300, NONE);
  g_assert_cmpuint (n_selected (f), ==, 4);
  g_assert_cmpuint (f->n_changes, ==, changes);

  flow_canvas_clear_selection (f->canvas);
  flow_canvas_select_all (f->canvas);
  g_assert_cmpuint (n_selected (f), ==, 4);

  /* Groups: a click selects the whole group, ctrl-click one member. */
  ids[0] = a;
  ids[1] = d;
  flow_canvas_set_selection (f->canvas, ids, 2);
  g_assert_true (flow_canvas_group (f->canvas));
  g_assert_cmpstr (str (f->doc, &a, "group"), ==, str (f->doc, &d, "group"));
  g_assert_nonnull (str (f->doc, &a, "group"));
  click (f, 700, 500, NONE);
  click (f, 620, 120, NONE);
  g_assert_cmpuint (n_selected (f), ==, 2);
  g_assert_true (flow_canvas_is_selected (f->canvas, &a));
  click (f, 620, 120, CTRL);
  g_assert_cmpuint (n_selected (f), ==, 1);
  g_assert_true (flow_canvas_is_selected (f->canvas, &d));
  /* A rubber band around one member takes the group. */
  drag (f, 590, 90, 660, 160, NONE);
  g_assert_cmpuint (n_selected (f), ==, 2);
  g_assert_true (flow_canvas_ungroup (f->canvas));
  g_assert_null (str (f->doc, &a, "group"));
  click (f, 620, 120, NONE);
  g_assert_cmpuint (n_selected (f), ==, 1);
}

/* ------------------------------------------------------------------------
 * Transforms: previews, one change, one undo step
 * ------------------------------------------------------------------------ */

static void
test_move (Fixture       *f,
           gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId b = add_shape (f, "rect", 400, 400, 50, 50);
  FlowOpId locked = add_shape (f, "rect", 600, 100, 50, 50);
  guint64 n_ops;
  guint before;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 600);
  cairo_t *cr = cairo_create (surface);

  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  click (f, 150, 150, NONE);
  click (f, 425, 425, SHIFT);
  g_assert_cmpuint (n_selected (f), ==, 2);

  before = f->n_changes;
  n_ops = flow_doc_get_n_ops (f->doc);
  flow_canvas_press (f->canvas, 150, 150, 1, NONE, 1);
  for (int i = 1; i <= 30; i++)
    {
      flow_canvas_motion (f->canvas, 150 + i, 150 + i * 2, 1, NONE);
      flow_canvas_draw (f->canvas, cr);
    }
  g_assert_true (flow_canvas_is_dragging (f->canvas));
  /* The preview has not touched the document. */
  g_assert_cmpuint (f->n_changes, ==, before);
  g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);
  flow_canvas_release (f->canvas, 180, 210, NONE);
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 130);
  g_assert_cmpfloat (num (f->doc, &a, "y"), ==, 160);
  g_assert_cmpfloat (num (f->doc, &b, "x"), ==, 430);
  g_assert_cmpfloat (num (f->doc, &b, "y"), ==, 460);
  g_assert_cmpuint (n_selected (f), ==, 2);

  /* One undo step takes the whole drag back, and no more. */
  step (f);
  g_assert_true (flow_canvas_undo (f->canvas));
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &b, "y"), ==, 400);
  g_assert_false (flow_doc_entity_is_deleted (f->doc, &b));
  g_assert_true (flow_canvas_redo (f->canvas));
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 130);
  step (f);

  /* Locked shapes stay put. */
  {
    g_autoptr(FlowValue) yes = flow_value_new_bool (TRUE);

    flow_doc_set_property (f->doc, &locked, "locked", yes, NULL);
  }
  click (f, 625, 125, NONE);
  g_assert_true (flow_canvas_is_selected (f->canvas, &locked));
  before = f->n_changes;
  drag (f, 625, 125, 700, 200, NONE);
  g_assert_cmpuint (f->n_changes, ==, before);
  g_assert_cmpfloat (num (f->doc, &locked, "x"), ==, 600);
  g_assert_false (flow_canvas_nudge (f->canvas, 1, 0));
  /* Delete leaves it too, like the eraser. */
  g_assert_false (flow_canvas_delete_selection (f->canvas));
  g_assert_false (flow_doc_entity_is_deleted (f->doc, &locked));
  g_assert_cmpuint (f->n_changes, ==, before);

  /* Nudge: arrow keys. */
  click (f, 150, 180, NONE);
  g_assert_true (flow_canvas_nudge (f->canvas, 10, -1));
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 140);
  g_assert_cmpfloat (num (f->doc, &a, "y"), ==, 159);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Widget position of a selection handle of a single unrotated shape. */
static void
corner (Fixture        *f,
        const FlowOpId *id,
        double          sx,
        double          sy,
        double         *wx,
        double         *wy)
{
  double x = num (f->doc, id, "x"), y = num (f->doc, id, "y");
  double w = num (f->doc, id, "w"), h = num (f->doc, id, "h");

  flow_canvas_board_to_widget (f->canvas, x + (sx + 1) / 2 * w, y + (sy + 1) / 2 * h, wx, wy);
}

static void
test_resize_rotate (Fixture       *f,
                    gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 50);
  FlowOpId b = add_shape (f, "line", 300, 300, 100, 100);
  FlowOpId ids[2] = { a, b };
  double wx, wy;
  guint before;
  guint64 n_ops;

  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  {
    FlowPoint pts[2] = { { 0, 0, 1 }, { 100, 100, 1 } };
    g_autoptr(FlowValue) v = flow_value_new_points (pts, 2);

    flow_doc_set_property (f->doc, &b, "points", v, NULL);
    step (f);
  }

  /* Bottom-right handle of one shape. */
  flow_canvas_set_selection (f->canvas, &a, 1);
  corner (f, &a, 1, 1, &wx, &wy);
  before = f->n_changes;
  n_ops = flow_doc_get_n_ops (f->doc);
  flow_canvas_press (f->canvas, wx, wy, 1, NONE, 1);
  flow_canvas_motion (f->canvas, wx + 20, wy + 10, 1, NONE);
  flow_canvas_motion (f->canvas, wx + 50, wy + 30, 1, NONE);
  g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
  flow_canvas_release (f->canvas, wx + 50, wy + 30, NONE);
  step (f);
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &a, "y"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &a, "w"), ==, 150);
  g_assert_cmpfloat (num (f->doc, &a, "h"), ==, 80);

  /* Left edge handle, shift keeps the ratio. */
  corner (f, &a, -1, 0, &wx, &wy);
  drag (f, wx, wy, wx - 150, wy, SHIFT);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "w"), 300, 1e-9);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "h"), 160, 1e-9);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "x"), -50, 1e-9);

  /* Undo takes back one resize. */
  g_assert_true (flow_canvas_undo (f->canvas));
  g_assert_cmpfloat (num (f->doc, &a, "w"), ==, 150);
  step (f);

  /* Several shapes scale together, lines' points too. */
  flow_canvas_set_selection (f->canvas, ids, 2);
  /* The frame is (100,100)-(400,400); drag its top-left to (250,250). */
  flow_canvas_board_to_widget (f->canvas, 100, 100, &wx, &wy);
  before = f->n_changes;
  drag (f, wx, wy, wx + 150, wy + 150, NONE);
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "x"), 250, 1e-9);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "w"), 75, 1e-9);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &b, "x"), 350, 1e-9);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &b, "w"), 50, 1e-9);
  {
    guint n;
    const FlowPoint *p = flow_value_get_points (flow_doc_get_property (f->doc, &b, "points"), &n);

    g_assert_cmpfloat_with_epsilon (p[1].x, 50, 1e-4);
    g_assert_cmpfloat_with_epsilon (p[1].y, 50, 1e-4);
  }

  /* Rotate: the handle above the top centre, dragged to the right. */
  flow_canvas_set_selection (f->canvas, &a, 1);
  {
    double cx = num (f->doc, &a, "x") + num (f->doc, &a, "w") / 2;
    double cy = num (f->doc, &a, "y") + num (f->doc, &a, "h") / 2;
    double top = num (f->doc, &a, "y");

    flow_canvas_board_to_widget (f->canvas, cx, top, &wx, &wy);
    before = f->n_changes;
    n_ops = flow_doc_get_n_ops (f->doc);
    flow_canvas_press (f->canvas, wx, wy - 24, 1, NONE, 1);
    flow_canvas_motion (f->canvas, wx + 100, wy, 1, NONE);
    g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
    flow_canvas_board_to_widget (f->canvas, cx + 200, cy, &wx, &wy);
    flow_canvas_release (f->canvas, wx, wy, SHIFT);
    step (f);
    g_assert_cmpuint (f->n_changes, ==, before + 1);
    g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "rotation"), G_PI / 2, 1e-9);
    /* It turns about its centre. */
    g_assert_cmpfloat_with_epsilon (num (f->doc, &a, "x") + num (f->doc, &a, "w") / 2, cx, 1e-9);
  }
}

/* ------------------------------------------------------------------------
 * Snapping
 * ------------------------------------------------------------------------ */

static void
test_snap_grid (Fixture       *f,
                gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId id;
  double size;

  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  flow_canvas_set_grid (f->canvas, TRUE, 25);
  g_assert_true (flow_canvas_get_grid (f->canvas, &size));
  g_assert_cmpfloat (size, ==, 25);

  click (f, 150, 150, NONE);
  drag (f, 150, 150, 158, 171, NONE);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &a, "y"), ==, 125);
  /* Alt turns snapping off for the drag. */
  drag (f, 150, 175, 163, 181, ALT);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 113);
  g_assert_cmpfloat (num (f->doc, &a, "y"), ==, 131);

  /* New shapes snap too. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_RECT);
  drag (f, 302, 311, 389, 440, NONE);
  id = selected (f);
  g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 300);
  g_assert_cmpfloat (num (f->doc, &id, "y"), ==, 300);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 150);
}

static void
test_snap_shapes (Fixture       *f,
                  gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId b = add_shape (f, "rect", 300, 300, 50, 50);
  guint n = 0;
  const FlowCanvasGuide *guides;

  /* Drag b's left edge to 4 px right of a's right edge: it snaps. */
  click (f, 325, 325, NONE);
  flow_canvas_press (f->canvas, 325, 325, 1, NONE, 1);
  flow_canvas_motion (f->canvas, 280, 250, 1, NONE);
  flow_canvas_motion (f->canvas, 229, 151, 1, NONE);
  guides = flow_canvas_get_guides (f->canvas, &n);
  g_assert_cmpuint (n, >=, 1);
  g_assert_nonnull (guides);
  flow_canvas_release (f->canvas, 229, 151, NONE);
  step (f);
  g_assert_cmpfloat (num (f->doc, &b, "x"), ==, 200);
  /* b's centre (y 126+25 = 151) snaps to a's centre line (150). */
  g_assert_cmpfloat (num (f->doc, &b, "y"), ==, 125);
  flow_canvas_get_guides (f->canvas, &n);
  g_assert_cmpuint (n, ==, 0);

  /* Out of reach at this zoom: no snapping. */
  drag (f, 225, 150, 245, 170, NONE);
  g_assert_cmpfloat (num (f->doc, &b, "x"), ==, 220);
  /* The threshold is in screen pixels: zoomed out 4x, 20 units is 5 px. */
  flow_canvas_zoom_at (f->canvas, 0.25, 0, 0);
  {
    double wx, wy;

    /* Out past the drag threshold and back to one unit right. */
    flow_canvas_board_to_widget (f->canvas, 245, 175, &wx, &wy);
    flow_canvas_press (f->canvas, wx, wy, 1, NONE, 1);
    flow_canvas_motion (f->canvas, wx + 40, wy, 1, NONE);
    flow_canvas_motion (f->canvas, wx + 0.25, wy, 1, NONE);
    flow_canvas_release (f->canvas, wx + 0.25, wy, NONE);
  }
  g_assert_cmpfloat (num (f->doc, &b, "x"), ==, 200);
  (void) a;
}

/* ------------------------------------------------------------------------
 * Arrows
 * ------------------------------------------------------------------------ */

static void
test_arrow_binding (Fixture       *f,
                    gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId b = add_shape (f, "ellipse", 500, 100, 100, 100);
  FlowScene *scene = flow_canvas_get_scene (f->canvas);
  FlowOpId arrow, line;
  double x1, y1, x2, y2, nx1, ny1, nx2, ny2;

  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_ARROW);
  drag (f, 150, 150, 550, 150, NONE);
  arrow = selected (f);
  g_assert_nonnull (ref (f->doc, &arrow, "start"));
  g_assert_true (flow_op_id_equal (ref (f->doc, &arrow, "start"), &a));
  g_assert_true (flow_op_id_equal (ref (f->doc, &arrow, "end"), &b));
  flow_scene_get_line_ends (scene, flow_scene_lookup (scene, &arrow), &x1, &y1, &x2, &y2);
  /* Drawn from outline to outline. */
  g_assert_cmpfloat (x1, >=, 199);
  g_assert_cmpfloat (x2, <=, 501);

  /* Lines do not bind. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_LINE);
  drag (f, 150, 170, 550, 170, NONE);
  line = selected (f);
  g_assert_null (ref (f->doc, &line, "start"));

  /* Moving the target: the arrow follows. */
  click (f, 700, 500, NONE);
  click (f, 550, 120, NONE);
  g_assert_true (flow_canvas_is_selected (f->canvas, &b));
  drag (f, 550, 120, 550, 420, NONE);
  g_assert_cmpfloat (num (f->doc, &b, "y"), ==, 400);
  flow_scene_get_line_ends (scene, flow_scene_lookup (scene, &arrow), &nx1, &ny1, &nx2, &ny2);
  g_assert_cmpfloat (ny2, >, y2 + 200);
  g_assert_true (flow_op_id_equal (ref (f->doc, &arrow, "end"), &b));
  /* Its stored points followed too, in the same change. */
  g_assert_cmpfloat (num (f->doc, &arrow, "h"), >=, 290);

  /* Dragging the arrow alone away unbinds it. */
  flow_canvas_set_selection (f->canvas, &arrow, 1);
  flow_canvas_board_to_widget (f->canvas, (nx1 + nx2) / 2, (ny1 + ny2) / 2, &x1, &y1);
  drag (f, x1, y1, x1, y1 + 300, NONE);
  g_assert_null (ref (f->doc, &arrow, "start"));
  g_assert_null (ref (f->doc, &arrow, "end"));
}

/* ------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------ */

static void
test_zorder (Fixture       *f,
             gconstpointer  data)
{
  FlowOpId s[4];
  FlowOpId two[2];
  guint before;

  for (guint i = 0; i < 4; i++)
    s[i] = add_shape (f, "rect", 100 + i * 10, 100, 50, 50);

  flow_canvas_set_selection (f->canvas, &s[0], 1);
  before = f->n_changes;
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpuint (z_of (f, &s[0]), ==, 1);
  g_assert_cmpuint (z_of (f, &s[1]), ==, 0);
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE_TO_TOP));
  g_assert_cmpuint (z_of (f, &s[0]), ==, 3);
  g_assert_false (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE));
  g_assert_false (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE_TO_TOP));
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_LOWER));
  g_assert_cmpuint (z_of (f, &s[0]), ==, 2);
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_LOWER_TO_BOTTOM));
  g_assert_cmpuint (z_of (f, &s[0]), ==, 0);
  g_assert_false (flow_canvas_restack (f->canvas, FLOW_CANVAS_LOWER));

  /* Several keep their order among themselves. Order now: 0 1 2 3. */
  two[0] = s[0];
  two[1] = s[1];
  flow_canvas_set_selection (f->canvas, two, 2);
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE));
  g_assert_cmpuint (z_of (f, &s[2]), ==, 0);
  g_assert_cmpuint (z_of (f, &s[0]), ==, 1);
  g_assert_cmpuint (z_of (f, &s[1]), ==, 2);
  before = f->n_changes;
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE_TO_TOP));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpuint (z_of (f, &s[0]), ==, 2);
  g_assert_cmpuint (z_of (f, &s[1]), ==, 3);
  g_assert_true (flow_canvas_restack (f->canvas, FLOW_CANVAS_LOWER_TO_BOTTOM));
  g_assert_cmpuint (z_of (f, &s[0]), ==, 0);
  g_assert_cmpuint (z_of (f, &s[1]), ==, 1);

  /* The scene follows: a click hits the new topmost. */
  flow_canvas_set_selection (f->canvas, &s[0], 1);
  flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE_TO_TOP);
  step (f);
  click (f, 135, 125, NONE);
  g_assert_true (flow_canvas_is_selected (f->canvas, &s[0]));
}

static void
test_align_distribute (Fixture       *f,
                       gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 50, 50);
  FlowOpId b = add_shape (f, "rect", 180, 300, 100, 20);
  FlowOpId c = add_shape (f, "rect", 500, 200, 20, 80);
  FlowOpId ids[3] = { a, b, c };
  guint before;

  flow_canvas_set_selection (f->canvas, ids, 3);
  before = f->n_changes;
  g_assert_true (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_TOP));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpfloat (num (f->doc, &b, "y"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &c, "y"), ==, 100);
  g_assert_true (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_BOTTOM));
  g_assert_cmpfloat (num (f->doc, &a, "y"), ==, 130);
  g_assert_cmpfloat (num (f->doc, &b, "y"), ==, 160);
  g_assert_true (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_VCENTER));
  g_assert_cmpfloat (num (f->doc, &a, "y") + 25, ==, num (f->doc, &c, "y") + 40);

  /* Distribute: outer ones stay, equal gaps (total 420, widths 170: 125). */
  before = f->n_changes;
  g_assert_true (flow_canvas_distribute (f->canvas, FLOW_CANVAS_DISTRIBUTE_HORIZONTAL));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &c, "x"), ==, 500);
  g_assert_cmpfloat_with_epsilon (num (f->doc, &b, "x"), 150 + 125, 1e-9);

  g_assert_true (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_LEFT));
  g_assert_cmpfloat (num (f->doc, &c, "x"), ==, 100);
  g_assert_true (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_RIGHT));
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 150);
  g_assert_cmpfloat (num (f->doc, &c, "x"), ==, 180);
  g_assert_true (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_HCENTER));
  g_assert_cmpfloat (num (f->doc, &a, "x") + 25, ==, num (f->doc, &c, "x") + 10);
  /* Nothing to do twice. */
  g_assert_false (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_HCENTER));

  /* Distribution needs three. */
  flow_canvas_set_selection (f->canvas, ids, 2);
  g_assert_false (flow_canvas_distribute (f->canvas, FLOW_CANVAS_DISTRIBUTE_VERTICAL));
  flow_canvas_set_selection (f->canvas, ids, 1);
  g_assert_false (flow_canvas_align (f->canvas, FLOW_CANVAS_ALIGN_LEFT));
}

static void
test_duplicate_delete_style (Fixture       *f,
                             gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 50, 50);
  FlowOpId b = add_shape (f, "ellipse", 300, 100, 50, 50);
  FlowOpId ids[2] = { a, b };
  FlowCanvasStyle style;
  guint before;
  FlowOpId copy;

  flow_canvas_set_selection (f->canvas, ids, 2);
  flow_canvas_group (f->canvas);
  step (f);
  before = f->n_changes;
  g_assert_true (flow_canvas_duplicate (f->canvas));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpuint (n_live (f->doc), ==, 4);
  g_assert_cmpuint (n_selected (f), ==, 2);
  g_assert_false (flow_canvas_is_selected (f->canvas, &a));
  copy = flow_canvas_get_selection (f->canvas, &before)[0];
  g_assert_cmpfloat (num (f->doc, &copy, "x"), ==, 110);
  g_assert_cmpfloat (num (f->doc, &copy, "y"), ==, 110);
  /* The copies form a group of their own. */
  g_assert_nonnull (str (f->doc, &copy, "group"));
  g_assert_cmpstr (str (f->doc, &copy, "group"), !=, str (f->doc, &a, "group"));

  /* Style: the selection in one change, and the next shape. */
  flow_canvas_get_style (f->canvas, &style);
  style.fill = 0xff0000ff;
  style.opacity = 0.5;
  before = f->n_changes;
  g_assert_true (flow_canvas_set_style (f->canvas, &style, FLOW_CANVAS_STYLE_FILL | FLOW_CANVAS_STYLE_OPACITY));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpuint (flow_value_get_color (flow_doc_get_property (f->doc, &copy, "fill")), ==, 0xff0000ff);
  g_assert_cmpfloat (num (f->doc, &copy, "opacity"), ==, 0.5);
  g_assert_null (flow_doc_get_property (f->doc, &copy, "stroke_width"));
  g_assert_null (flow_doc_get_property (f->doc, &a, "fill"));
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_DIAMOND);
  click (f, 600, 400, NONE);
  {
    FlowOpId d = selected (f);

    g_assert_cmpuint (flow_value_get_color (flow_doc_get_property (f->doc, &d, "fill")), ==, 0xff0000ff);
  }

  /* Delete: one change, and the selection empties. */
  flow_canvas_select_all (f->canvas);
  before = f->n_changes;
  g_assert_true (flow_canvas_delete_selection (f->canvas));
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpuint (n_live (f->doc), ==, 0);
  g_assert_cmpuint (n_selected (f), ==, 0);
  g_assert_false (flow_canvas_delete_selection (f->canvas));
}

/* ------------------------------------------------------------------------
 * Clipboard and images
 * ------------------------------------------------------------------------ */

static cairo_status_t
write_cb (void                *closure,
          const unsigned char *data,
          unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static GBytes *
png_bytes (int width,
           int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  GByteArray *buf = g_byte_array_new ();
  cairo_t *cr = cairo_create (surface);

  cairo_set_source_rgb (cr, 0.2, 0.4, 0.8);
  cairo_paint (cr);
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png_stream (surface, write_cb, buf), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  return g_byte_array_free_to_bytes (buf);
}

static void
test_clipboard (Fixture       *f,
                gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId b = add_shape (f, "ellipse", 400, 100, 100, 100);
  FlowOpId outside = add_shape (f, "rect", 100, 400, 50, 50);
  FlowOpId arrow, arrow2;
  g_autoptr(FlowDoc) other = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 2);
  g_autoptr(FlowCanvas) canvas2 = flow_canvas_new (other);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) png = png_bytes (20, 10);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) pasted = NULL;
  FlowOpId ids[4], image;
  FlowCanvasStyle style;
  guint64 n_ops;
  guint n;

  flow_canvas_set_size (canvas2, 800, 600);
  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  flow_canvas_get_style (f->canvas, &style);
  style.stroke = 0xaa0000ff;
  flow_canvas_set_style (f->canvas, &style, FLOW_CANVAS_STYLE_STROKE);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_ARROW);
  drag (f, 150, 150, 450, 150, NONE);
  arrow = selected (f);
  /* A second arrow bound to a shape left out of the copy. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_ARROW);
  drag (f, 125, 425, 430, 130, NONE);
  arrow2 = selected (f);
  g_assert_true (flow_op_id_equal (ref (f->doc, &arrow2, "start"), &outside));
  {
    g_autoptr(FlowValue) t = flow_value_new_string ("hi");
    g_assert_true (flow_doc_set_property (f->doc, &a, "text", t, NULL));
  }
  g_assert_true (flow_canvas_insert_image (f->canvas, png, "image/png", 300, 500, &image, &error));
  g_assert_no_error (error);
  step (f);

  ids[0] = a;
  ids[1] = b;
  ids[2] = arrow;
  ids[3] = arrow2;
  flow_canvas_set_selection (f->canvas, ids, 4);
  flow_canvas_group (f->canvas);
  flow_canvas_set_selection (f->canvas, ids, 4);
  flow_canvas_set_selection (f->canvas, (FlowOpId[]) { a, b, arrow, arrow2 }, 4);
  {
    FlowOpId five[5] = { a, b, arrow, arrow2, image };

    flow_canvas_set_selection (f->canvas, five, 5);
  }
  bytes = flow_canvas_copy_selection (f->canvas);
  g_assert_nonnull (bytes);

  /* Into another board, centred at (400, 300). */
  f->n_changes = 0;
  g_assert_true (flow_canvas_paste (canvas2, bytes, 400, 300, &error));
  g_assert_no_error (error);
  pasted = flow_doc_list_ordered (other);
  g_assert_cmpuint (pasted->len, ==, 5);
  flow_canvas_get_selection (canvas2, &n);
  g_assert_cmpuint (n, ==, 5);
  {
    const FlowOpId *p = (const FlowOpId *) pasted->data;
    /* Same z-order: a, b, arrow, arrow2, image. */
    g_assert_cmpstr (flow_doc_get_entity_kind (other, &p[0]), ==, "rect");
    g_assert_cmpstr (flow_doc_get_entity_kind (other, &p[1]), ==, "ellipse");
    g_assert_cmpstr (flow_doc_get_entity_kind (other, &p[2]), ==, "arrow");
    g_assert_cmpstr (flow_doc_get_entity_kind (other, &p[4]), ==, "image");
    g_assert_cmpstr (str (other, &p[0], "text"), ==, "hi");
    g_assert_cmpfloat (num (other, &p[0], "w"), ==, 100);
    /* Relative positions kept. */
    g_assert_cmpfloat (num (other, &p[1], "x") - num (other, &p[0], "x"), ==, 300);
    g_assert_cmpfloat (num (other, &p[4], "y") - num (other, &p[0], "y"),
                       ==, num (f->doc, &image, "y") - num (f->doc, &a, "y"));
    /* Bindings remapped to the copies; the one to a shape left behind dropped. */
    g_assert_true (flow_op_id_equal (ref (other, &p[2], "start"), &p[0]));
    g_assert_true (flow_op_id_equal (ref (other, &p[2], "end"), &p[1]));
    g_assert_null (ref (other, &p[3], "start"));
    g_assert_true (flow_op_id_equal (ref (other, &p[3], "end"), &p[1]));
    g_assert_cmpuint (flow_value_get_color (flow_doc_get_property (other, &p[2], "stroke")), ==, 0xaa0000ff);
    g_assert_true (g_bytes_equal (flow_value_get_bytes (flow_doc_get_property (other, &p[4], "image")), png));
    g_assert_cmpstr (str (other, &p[0], "group"), ==, str (other, &p[1], "group"));
    g_assert_nonnull (str (other, &p[0], "group"));
    g_assert_cmpstr (str (other, &p[0], "group"), !=, str (f->doc, &a, "group"));
    g_assert_null (str (other, &p[4], "group"));
  }

  /* Garbage is refused and changes nothing. */
  n_ops = flow_doc_get_n_ops (other);
  {
    static const char * const garbage[] = {
      "", "not json", "[]", "{}", "\xff\xfe",
      "{\"format\":\"other\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"rect\"}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"blob\"}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"rect\",\"opacity\":2}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"rect\",\"w\":\"wide\"}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"rect\",\"stroke\":\"red\"}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"arrow\",\"start\":5}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"arrow\",\"start\":0}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"line\",\"points\":[[1]]}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"image\",\"image\":\"@@@\"}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"rect\"},5]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0],\"shapes\":[{\"kind\":\"rect\"}]}",
      "{\"format\":\"flowsync-shapes\",\"version\":1,\"origin\":[0,0],\"shapes\":[{\"kind\":\"rect\",\"x\":1e300}]}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
      {
        g_autoptr(GBytes) g = g_bytes_new_static (garbage[i], strlen (garbage[i]));
        g_autoptr(GError) e = NULL;

        g_assert_false (flow_canvas_paste (canvas2, g, 10, 10, &e));
        g_assert_error (e, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      }
    /* A newer format says so. */
    {
      const char *newer = "{\"format\":\"flowsync-shapes\",\"version\":9,\"origin\":[0,0],\"shapes\":[]}";
      g_autoptr(GBytes) g = g_bytes_new_static (newer, strlen (newer));
      g_autoptr(GError) e = NULL;

      g_assert_false (flow_canvas_paste (canvas2, g, 10, 10, &e));
      g_assert_error (e, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    }
  }
  g_assert_cmpuint (flow_doc_get_n_ops (other), ==, n_ops);

  /* Cut = copy + delete; pasting back restores. */
  {
    g_autoptr(GBytes) cut = NULL;
    guint live = n_live (f->doc);

    flow_canvas_set_selection (f->canvas, &b, 1);
    cut = flow_canvas_cut_selection (f->canvas);
    g_assert_nonnull (cut);
    g_assert_cmpuint (n_live (f->doc), ==, live - 1);
    g_assert_true (flow_canvas_paste (f->canvas, cut, 450, 150, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n_live (f->doc), ==, live);
  }

  /* PNG and SVG of the selection for other applications. */
  {
    g_autoptr(GBytes) out = flow_canvas_export_selection (canvas2, FALSE, &error);
    gsize len;
    const char *d;

    g_assert_no_error (error);
    d = g_bytes_get_data (out, &len);
    g_assert_cmpuint (len, >, 8);
    g_assert_cmpint (memcmp (d, "\x89PNG", 4), ==, 0);
    g_clear_pointer (&out, g_bytes_unref);
    out = flow_canvas_export_selection (canvas2, TRUE, &error);
    g_assert_no_error (error);
    d = g_bytes_get_data (out, &len);
    g_assert_nonnull (g_strstr_len (d, len, "<svg"));
    flow_canvas_clear_selection (canvas2);
    g_assert_null (flow_canvas_export_selection (canvas2, FALSE, &error));
    g_assert_nonnull (error);
  }
}

static void
test_image (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GBytes) big = png_bytes (1600, 400);
  g_autoptr(GBytes) junk = g_bytes_new_static ("\x89PNG but not really", 19);
  g_autoptr(GError) error = NULL;
  FlowOpId id;
  guint before = f->n_changes;

  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_IMAGE);
  g_assert_true (flow_canvas_insert_image (f->canvas, big, "image/png", 400, 300, &id, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (f->n_changes, ==, before + 1);
  g_assert_cmpfloat (num (f->doc, &id, "w"), ==, 800);
  g_assert_cmpfloat (num (f->doc, &id, "h"), ==, 200);
  g_assert_cmpfloat (num (f->doc, &id, "x"), ==, 0);
  g_assert_cmpfloat (num (f->doc, &id, "y"), ==, 200);
  g_assert_cmpstr (str (f->doc, &id, "mime_type"), ==, "image/png");
  g_assert_true (flow_canvas_is_selected (f->canvas, &id));
  g_assert_cmpint (flow_canvas_get_tool (f->canvas), ==, FLOW_CANVAS_TOOL_SELECT);

  g_assert_false (flow_canvas_insert_image (f->canvas, junk, "image/png", 0, 0, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (flow_canvas_insert_image (f->canvas, big, "image/gif", 0, 0, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpuint (n_live (f->doc), ==, 1);
}

/* ------------------------------------------------------------------------
 * Read-only, remote changes, drawing, random gestures
 * ------------------------------------------------------------------------ */

static void
test_read_only (Fixture       *f,
                gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  g_autoptr(GBytes) clip = NULL;
  g_autoptr(GError) error = NULL;
  guint64 n_ops;

  click (f, 150, 150, NONE);
  clip = flow_canvas_copy_selection (f->canvas);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_RECT);
  flow_canvas_set_read_only (f->canvas, TRUE);
  g_assert_true (flow_canvas_get_read_only (f->canvas));
  g_assert_cmpint (flow_canvas_get_tool (f->canvas), ==, FLOW_CANVAS_TOOL_SELECT);
  g_assert_false (flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_PEN));
  g_assert_true (flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_HAND));
  g_assert_true (flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_SELECT));

  n_ops = flow_doc_get_n_ops (f->doc);
  /* Selecting still works; moving, resizing and commands do not. */
  click (f, 700, 500, NONE);
  click (f, 150, 150, NONE);
  g_assert_true (flow_canvas_is_selected (f->canvas, &a));
  drag (f, 150, 150, 300, 300, NONE);
  drag (f, 200, 200, 260, 260, NONE);
  g_assert_false (flow_canvas_delete_selection (f->canvas));
  g_assert_false (flow_canvas_nudge (f->canvas, 1, 1));
  g_assert_false (flow_canvas_duplicate (f->canvas));
  g_assert_false (flow_canvas_group (f->canvas));
  g_assert_false (flow_canvas_restack (f->canvas, FLOW_CANVAS_RAISE));
  g_assert_false (flow_canvas_undo (f->canvas));
  g_assert_false (flow_canvas_paste (f->canvas, clip, 10, 10, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY);
  g_clear_error (&error);
  g_assert_false (flow_canvas_edit_at (f->canvas, 150, 150));
  g_assert_null (flow_canvas_cut_selection (f->canvas));
  g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);
  g_assert_cmpfloat (num (f->doc, &a, "w"), ==, 100);

  flow_canvas_set_read_only (f->canvas, FALSE);
  g_assert_true (flow_canvas_nudge (f->canvas, 1, 1));

  /* A checkout (history preview) is read-only for good. */
  {
    g_autoptr(FlowVersionVector) v = flow_doc_dup_version (f->doc);
    g_autoptr(FlowDoc) old = flow_doc_checkout (f->doc, v, &error);
    g_autoptr(FlowCanvas) preview = NULL;

    g_assert_no_error (error);
    preview = flow_canvas_new (old);
    g_assert_true (flow_canvas_get_read_only (preview));
    flow_canvas_set_read_only (preview, FALSE);
    g_assert_true (flow_canvas_get_read_only (preview));
    g_assert_false (flow_canvas_set_tool (preview, FLOW_CANVAS_TOOL_RECT));
    g_assert_cmpuint (flow_scene_get_n_shapes (flow_canvas_get_scene (preview)), ==, 1);
  }
}

static void
test_remote_delete (Fixture       *f,
                    gconstpointer  data)
{
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  FlowOpId b = add_shape (f, "rect", 300, 100, 100, 100);
  g_autoptr(FlowDoc) remote = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 7);
  g_autoptr(FlowVersionVector) ours = NULL;
  g_autoptr(GBytes) batch = NULL;
  g_autoptr(GError) error = NULL;
  FlowOpId ids[2] = { a, b };
  guint selection_signals;

  flow_test_sync_pair (f->doc, remote);
  flow_canvas_set_selection (f->canvas, ids, 2);
  g_assert_cmpuint (n_selected (f), ==, 2);

  ours = flow_doc_dup_version (f->doc);
  g_assert_true (flow_board_delete (remote, &a, 1, &error));
  g_assert_no_error (error);
  batch = flow_doc_encode_since (remote, ours);
  selection_signals = f->n_selection;
  g_assert_true (flow_doc_apply (f->doc, batch, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_selected (f), ==, 1);
  g_assert_false (flow_canvas_is_selected (f->canvas, &a));
  g_assert_true (flow_canvas_is_selected (f->canvas, &b));
  g_assert_cmpuint (f->n_selection, ==, selection_signals + 1);
  g_assert_null (flow_scene_lookup (flow_canvas_get_scene (f->canvas), &a));

  /* A remote delete in the middle of a drag: the rest still commits. */
  {
    g_autoptr(FlowVersionVector) v = NULL;
    g_autoptr(GBytes) more = NULL;
    FlowOpId c = add_shape (f, "rect", 500, 100, 50, 50);
    FlowOpId two[2] = { b, c };

    flow_test_sync_pair (f->doc, remote);
    flow_canvas_set_selection (f->canvas, two, 2);
    flow_canvas_press (f->canvas, 350, 150, 1, NONE, 1);
    flow_canvas_motion (f->canvas, 360, 150, 1, NONE);
    v = flow_doc_dup_version (f->doc);
    g_assert_true (flow_board_delete (remote, &b, 1, NULL));
    more = flow_doc_encode_since (remote, v);
    g_assert_true (flow_doc_apply (f->doc, more, &error));
    flow_canvas_motion (f->canvas, 400, 150, 1, NONE);
    flow_canvas_release (f->canvas, 400, 150, NONE);
    g_assert_true (flow_doc_entity_is_deleted (f->doc, &b));
    g_assert_cmpfloat (num (f->doc, &c, "x"), ==, 550);
  }
}

static gboolean
pixel_is (cairo_surface_t *surface,
          int              x,
          int              y,
          guint32          rgb)
{
  const guchar *row = cairo_image_surface_get_data (surface) + y * cairo_image_surface_get_stride (surface);
  guint32 px = ((const guint32 *) row)[x];

  return (px & 0xffffff) == rgb;
}

static void
test_draw (Fixture       *f,
           gconstpointer  data)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 800, 600);
  cairo_t *cr = cairo_create (surface);
  FlowOpId a = add_shape (f, "rect", 100, 100, 100, 100);
  g_autoptr(FlowValue) red = flow_value_new_color (0xff0000ff);

  flow_canvas_set_snap_to_shapes (f->canvas, FALSE);
  flow_doc_set_property (f->doc, &a, "fill", red, NULL);

#define PAINT() G_STMT_START { \
    cairo_set_source_rgb (cr, 1, 1, 1); cairo_paint (cr); \
    flow_canvas_draw (f->canvas, cr); cairo_surface_flush (surface); } G_STMT_END

  PAINT ();
  g_assert_true (pixel_is (surface, 150, 150, 0xff0000));
  g_assert_true (pixel_is (surface, 350, 150, 0xffffff));

  /* During a move the shape is drawn where it would go. */
  click (f, 150, 150, NONE);
  flow_canvas_press (f->canvas, 150, 150, 1, NONE, 1);
  flow_canvas_motion (f->canvas, 350, 150, 1, NONE);
  PAINT ();
  g_assert_true (pixel_is (surface, 350, 150, 0xff0000));
  g_assert_true (pixel_is (surface, 120, 150, 0xffffff));
  flow_canvas_cancel (f->canvas);
  PAINT ();
  g_assert_true (pixel_is (surface, 150, 150, 0xff0000));
  g_assert_cmpfloat (num (f->doc, &a, "x"), ==, 100);

  /* Zoomed: the viewport transform applies. */
  flow_canvas_zoom_at (f->canvas, 2, 0, 0);
  PAINT ();
  g_assert_true (pixel_is (surface, 390, 390, 0xff0000));
  g_assert_true (pixel_is (surface, 150, 150, 0xffffff));

  /* The overlays of the other gestures draw without trouble. */
  flow_canvas_zoom_reset (f->canvas);
  flow_canvas_press (f->canvas, 500, 500, 1, NONE, 1);
  flow_canvas_motion (f->canvas, 600, 550, 1, NONE);
  PAINT ();
  flow_canvas_cancel (f->canvas);
  for (FlowCanvasTool t = FLOW_CANVAS_TOOL_RECT; t <= FLOW_CANVAS_TOOL_ERASER; t++)
    {
      flow_canvas_set_tool (f->canvas, t);
      flow_canvas_press (f->canvas, 420, 420, 1, NONE, 1);
      flow_canvas_motion (f->canvas, 480, 470, 1, NONE);
      flow_canvas_motion (f->canvas, 520, 490, 1, NONE);
      PAINT ();
      flow_canvas_cancel (f->canvas);
    }
  g_assert_cmpstr (flow_canvas_get_cursor_name (f->canvas, 0, 0), !=, NULL);
#undef PAINT

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* Random gestures with random tools: every gesture is at most one change,
 * the selection only names live shapes, and undo never fails. */
static void
test_random_gestures (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint rounds = flow_test_iterations ("FLOW_TEST_CANVAS_ROUNDS", 300);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 200, 150);
  cairo_t *cr = cairo_create (surface);

  flow_canvas_set_size (f->canvas, 200, 150);
  for (guint r = 0; r < rounds; r++)
    {
      FlowCanvasTool tool = g_rand_int_range (rand, 0, FLOW_CANVAS_TOOL_LAST + 1);
      FlowCanvasModifiers mods = g_rand_int_range (rand, 0, 8);
      double x = g_rand_double_range (rand, 0, 200), y = g_rand_double_range (rand, 0, 150);
      guint steps = g_rand_int_range (rand, 0, 6);
      guint before = f->n_changes;
      guint n;
      const FlowOpId *sel;

      if (g_rand_int_range (rand, 0, 10) == 0)
        flow_canvas_zoom_at (f->canvas, g_rand_double_range (rand, 0.5, 2), x, y);
      if (tool != FLOW_CANVAS_TOOL_IMAGE)
        flow_canvas_set_tool (f->canvas, tool);
      flow_canvas_press (f->canvas, x, y, g_rand_double (rand), mods, 1);
      for (guint s = 0; s < steps; s++)
        {
          x += g_rand_double_range (rand, -40, 40);
          y += g_rand_double_range (rand, -40, 40);
          flow_canvas_motion (f->canvas, x, y, g_rand_double (rand), mods);
        }
      if (g_rand_int_range (rand, 0, 4) == 0)
        flow_canvas_draw (f->canvas, cr);
      if (g_rand_int_range (rand, 0, 20) == 0)
        flow_canvas_cancel (f->canvas);
      flow_canvas_release (f->canvas, x, y, mods);
      g_assert_cmpuint (f->n_changes, <=, before + 1);
      step (f);

      switch (g_rand_int_range (rand, 0, 12))
        {
        case 0: flow_canvas_undo (f->canvas); break;
        case 1: flow_canvas_duplicate (f->canvas); break;
        case 2: flow_canvas_restack (f->canvas, g_rand_int_range (rand, 0, 4)); break;
        case 3: flow_canvas_nudge (f->canvas, 1, -10); break;
        case 4: flow_canvas_group (f->canvas); break;
        case 5: flow_canvas_align (f->canvas, g_rand_int_range (rand, 0, 6)); break;
        case 6: flow_canvas_delete_selection (f->canvas); break;
        default: break;
        }
      step (f);
      sel = flow_canvas_get_selection (f->canvas, &n);
      for (guint i = 0; i < n; i++)
        g_assert_nonnull (flow_scene_lookup (flow_canvas_get_scene (f->canvas), &sel[i]));
    }
  g_assert_cmpuint (flow_scene_get_n_shapes (flow_canvas_get_scene (f->canvas)), ==, n_live (f->doc));
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* ------------------------------------------------------------------------
 * Presence: remote cursors, laser, follow, our pointer
 * ------------------------------------------------------------------------ */

static GPtrArray *
two_peers (double ax, double ay, const char *atool,
           double bx, double by, double bzoom)
{
  GPtrArray *list = flow_remote_presence_list_new ();
  FlowRemotePresence *a = flow_remote_presence_new ("peer-a", "Ada", 0xe01b24ff);
  FlowRemotePresence *b = flow_remote_presence_new ("peer-b", "Bo", 0xf6d32dff);

  a->has_viewport = TRUE;
  a->x = ax;
  a->y = ay;
  a->zoom = 1;
  a->tool = g_strdup (atool);
  b->has_viewport = TRUE;
  b->x = bx;
  b->y = by;
  b->zoom = bzoom;
  b->tool = g_strdup ("select");
  g_ptr_array_add (list, a);
  g_ptr_array_add (list, b);
  return list;
}

static guint32
pixel_at (cairo_surface_t *surface,
          int              x,
          int              y)
{
  cairo_surface_flush (surface);
  return ((guint32 *) (gpointer) (cairo_image_surface_get_data (surface) +
                                  y * cairo_image_surface_get_stride (surface)))[x];
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
test_presence_cursors (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) list = two_peers (100, 50, "select", 300, 200, 1);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 800, 600);
  cairo_t *cr = cairo_create (surface);
  guint64 n_ops = flow_doc_get_n_ops (f->doc);
  guint n_presence = 0;
  double wx, wy;
  FlowRect label;

  g_signal_connect (f->canvas, "presence-changed", G_CALLBACK (count_cb), &n_presence);
  flow_canvas_set_offset (f->canvas, 50, 0);
  flow_canvas_set_remote_presence (f->canvas, list);
  g_assert_cmpuint (n_presence, ==, 1);

  /* The tip is at the pointer, in widget coordinates; the label is to the
   * lower right of it and holds a name. */
  g_assert_true (_flow_canvas_get_remote_cursor (f->canvas, "peer-a", &wx, &wy, &label));
  g_assert_cmpfloat_with_epsilon (wx, 50, 1e-9);
  g_assert_cmpfloat_with_epsilon (wy, 50, 1e-9);
  g_assert_cmpfloat (label.x, >, wx);
  g_assert_cmpfloat (label.y, >, wy + 10);
  g_assert_cmpfloat (label.width, >, 12);
  g_assert_cmpfloat (label.height, >, 8);
  g_assert_true (_flow_canvas_get_remote_cursor (f->canvas, "peer-b", &wx, &wy, NULL));
  g_assert_cmpfloat_with_epsilon (wx, 250, 1e-9);
  g_assert_cmpfloat_with_epsilon (wy, 200, 1e-9);
  g_assert_false (_flow_canvas_get_remote_cursor (f->canvas, "peer-c", NULL, NULL, NULL));

  /* The cursors draw in the peers' colours: inside A's arrow is red, inside
   * B's yellow (premultiplied ARGB, opaque). */
  flow_canvas_draw_presence (f->canvas, cr);
  g_assert_cmphex (pixel_at (surface, 50 + 2, 50 + 8), ==, 0xffe01b24);
  g_assert_cmphex (pixel_at (surface, 250 + 2, 200 + 8), ==, 0xfff6d32d);
  /* A zoom moves them with the board. */
  flow_canvas_zoom_at (f->canvas, 2, 0, 0);
  g_assert_true (_flow_canvas_get_remote_cursor (f->canvas, "peer-b", &wx, &wy, NULL));
  g_assert_cmpfloat_with_epsilon (wx, 500, 1e-9);
  g_assert_cmpfloat_with_epsilon (wy, 400, 1e-9);

  /* A peer missing from the next list is gone. */
  g_ptr_array_remove_index (list, 0);
  flow_canvas_set_remote_presence (f->canvas, list);
  g_assert_false (_flow_canvas_get_remote_cursor (f->canvas, "peer-a", NULL, NULL, NULL));
  g_assert_true (_flow_canvas_get_remote_cursor (f->canvas, "peer-b", NULL, NULL, NULL));
  flow_canvas_set_remote_presence (f->canvas, NULL);
  g_assert_false (_flow_canvas_get_remote_cursor (f->canvas, "peer-b", NULL, NULL, NULL));

  /* None of it is in the document. */
  g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_presence_laser (Fixture       *f,
                     gconstpointer  data)
{
  gint64 now = 5 * G_USEC_PER_SEC;
  guint64 n_ops;
  guint n_changes;

  add_shape (f, "rect", 100, 100, 100, 100);
  n_ops = flow_doc_get_n_ops (f->doc);
  n_changes = f->n_changes;
  _flow_canvas_set_now (f->canvas, now);

  g_assert_true (flow_canvas_tool_from_shortcut ('k', NULL));
  g_assert_cmpstr (flow_canvas_tool_to_string (FLOW_CANVAS_TOOL_LASER), ==, "laser");
  g_assert_true (flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_LASER));
  g_assert_false (flow_canvas_is_animating (f->canvas));

  /* Strokes over a shape: a trail, and no ops, no change, no selection. */
  flow_canvas_press (f->canvas, 120, 120, 1, NONE, 1);
  for (int i = 1; i <= 10; i++)
    {
      _flow_canvas_set_now (f->canvas, now += 16000);
      flow_canvas_motion (f->canvas, 120 + i * 10, 120 + i * 5, 1, NONE);
    }
  flow_canvas_release (f->canvas, 220, 170, NONE);
  _flow_canvas_set_now (f->canvas, now += 16000);
  flow_canvas_hover (f->canvas, 300, 300);
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, NULL), ==, 12);
  g_assert_true (flow_canvas_is_animating (f->canvas));
  g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
  g_assert_cmpuint (f->n_changes, ==, n_changes);
  g_assert_false (flow_canvas_is_dragging (f->canvas));
  {
    guint n;

    flow_canvas_get_selection (f->canvas, &n);
    g_assert_cmpuint (n, ==, 0);
  }

  /* A remote laser: each position of the pointer adds to the peer's trail. */
  for (int i = 0; i < 3; i++)
    {
      g_autoptr(GPtrArray) list = two_peers (400 + i * 20, 100, "laser", 0, 0, 1);

      flow_canvas_set_remote_presence (f->canvas, list);
    }
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, "peer-a"), ==, 3);
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, "peer-b"), ==, 0);

  /* Half a second on, the oldest points are still fading; after the
   * fade time nothing is left and the animation ends. */
  _flow_canvas_set_now (f->canvas, now += G_USEC_PER_SEC / 2);
  g_assert_true (flow_canvas_update_laser (f->canvas));
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, NULL), ==, 12);
  _flow_canvas_set_now (f->canvas, now += G_USEC_PER_SEC);
  g_assert_false (flow_canvas_update_laser (f->canvas));
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, NULL), ==, 0);
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, "peer-a"), ==, 0);
  g_assert_false (flow_canvas_is_animating (f->canvas));

  /* The laser works read-only too, and still writes nothing. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_SELECT);
  flow_canvas_set_read_only (f->canvas, TRUE);
  g_assert_true (flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_LASER));
  flow_canvas_press (f->canvas, 10, 10, 1, NONE, 1);
  flow_canvas_motion (f->canvas, 60, 60, 1, NONE);
  flow_canvas_release (f->canvas, 60, 60, NONE);
  g_assert_cmpuint (_flow_canvas_get_laser_length (f->canvas, NULL), ==, 2);
  g_assert_cmpuint (flow_doc_get_n_ops (f->doc), ==, n_ops);
}

typedef struct
{
  guint  n;
  double x, y, zoom;
  char  *tool;
} PointerRecord;

static void
pointer_moved_cb (FlowCanvas    *canvas,
                  double         x,
                  double         y,
                  double         zoom,
                  const char    *tool,
                  PointerRecord *rec)
{
  rec->n++;
  rec->x = x;
  rec->y = y;
  rec->zoom = zoom;
  g_free (rec->tool);
  rec->tool = g_strdup (tool);
}

static void
test_presence_pointer (Fixture       *f,
                       gconstpointer  data)
{
  PointerRecord rec = { 0 };

  g_signal_connect (f->canvas, "pointer-moved", G_CALLBACK (pointer_moved_cb), &rec);
  flow_canvas_set_offset (f->canvas, 100, 50);
  flow_canvas_zoom_at (f->canvas, 2, 0, 0);
  flow_canvas_hover (f->canvas, 40, 60);
  g_assert_cmpuint (rec.n, ==, 1);
  g_assert_cmpfloat_with_epsilon (rec.x, 120, 1e-9);
  g_assert_cmpfloat_with_epsilon (rec.y, 80, 1e-9);
  g_assert_cmpfloat_with_epsilon (rec.zoom, 2, 1e-9);
  g_assert_cmpstr (rec.tool, ==, "select");
  /* The same place again says nothing; a new tool is news. */
  flow_canvas_hover (f->canvas, 40, 60);
  g_assert_cmpuint (rec.n, ==, 1);
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_LASER);
  g_assert_cmpuint (rec.n, ==, 2);
  g_assert_cmpstr (rec.tool, ==, "laser");
  /* Drags report too. */
  flow_canvas_set_tool (f->canvas, FLOW_CANVAS_TOOL_RECT);
  flow_canvas_press (f->canvas, 0, 0, 1, NONE, 1);
  flow_canvas_motion (f->canvas, 20, 20, 1, NONE);
  g_assert_cmpfloat_with_epsilon (rec.x, 110, 1e-9);
  g_assert_cmpstr (rec.tool, ==, "rect");
  flow_canvas_cancel (f->canvas);
  g_free (rec.tool);
}

static void
test_presence_follow (Fixture       *f,
                      gconstpointer  data)
{
  guint stopped = 0;
  double ox, oy;

  g_signal_connect (f->canvas, "follow-stopped", G_CALLBACK (count_cb), &stopped);
  {
    g_autoptr(GPtrArray) list = two_peers (0, 0, "select", 500, 300, 2);

    flow_canvas_set_remote_presence (f->canvas, list);
  }
  /* Following centres on B's pointer at B's zoom (the canvas is 800x600). */
  flow_canvas_follow (f->canvas, "peer-b");
  g_assert_cmpstr (flow_canvas_get_followed (f->canvas), ==, "peer-b");
  g_assert_cmpfloat_with_epsilon (flow_canvas_get_zoom (f->canvas), 2, 1e-9);
  flow_canvas_get_offset (f->canvas, &ox, &oy);
  g_assert_cmpfloat_with_epsilon (ox, 500 - 400 / 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (oy, 300 - 300 / 2.0, 1e-9);

  /* Each update of B moves us; an update of A alone does not. */
  {
    g_autoptr(GPtrArray) list = two_peers (0, 0, "select", 1000, -200, 0.5);

    flow_canvas_set_remote_presence (f->canvas, list);
  }
  g_assert_cmpfloat_with_epsilon (flow_canvas_get_zoom (f->canvas), 0.5, 1e-9);
  flow_canvas_get_offset (f->canvas, &ox, &oy);
  g_assert_cmpfloat_with_epsilon (ox, 1000 - 400 / 0.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (oy, -200 - 300 / 0.5, 1e-9);
  /* A new size keeps B in the middle. */
  flow_canvas_set_size (f->canvas, 400, 400);
  flow_canvas_get_offset (f->canvas, &ox, &oy);
  g_assert_cmpfloat_with_epsilon (ox, 1000 - 200 / 0.5, 1e-9);
  g_assert_cmpuint (stopped, ==, 0);

  /* Our own pan stops following, once. */
  flow_canvas_pan_by (f->canvas, 10, 0);
  g_assert_cmpuint (stopped, ==, 1);
  g_assert_null (flow_canvas_get_followed (f->canvas));
  flow_canvas_get_offset (f->canvas, &ox, &oy);
  {
    g_autoptr(GPtrArray) list = two_peers (0, 0, "select", 0, 0, 3);
    double ox2, oy2;

    flow_canvas_set_remote_presence (f->canvas, list);
    flow_canvas_get_offset (f->canvas, &ox2, &oy2);
    g_assert_cmpfloat (ox2, ==, ox);
    g_assert_cmpfloat (oy2, ==, oy);
    g_assert_cmpfloat_with_epsilon (flow_canvas_get_zoom (f->canvas), 0.5, 1e-9);
  }

  /* A zoom stops it too, and so does the peer leaving; stopping by hand
   * is silent. */
  flow_canvas_follow (f->canvas, "peer-b");
  flow_canvas_zoom_at (f->canvas, 1.5, 10, 10);
  g_assert_cmpuint (stopped, ==, 2);
  flow_canvas_follow (f->canvas, "peer-b");
  flow_canvas_set_remote_presence (f->canvas, NULL);
  g_assert_cmpuint (stopped, ==, 3);
  g_assert_null (flow_canvas_get_followed (f->canvas));
  flow_canvas_follow (f->canvas, "peer-b");
  flow_canvas_follow (f->canvas, NULL);
  g_assert_cmpuint (stopped, ==, 3);
  /* A middle-button pan is a local pan. */
  {
    g_autoptr(GPtrArray) list = two_peers (0, 0, "select", 10, 10, 1);

    flow_canvas_set_remote_presence (f->canvas, list);
    flow_canvas_follow (f->canvas, "peer-b");
    flow_canvas_press (f->canvas, 100, 100, 1, NONE, 2);
    flow_canvas_motion (f->canvas, 140, 100, 1, NONE);
    flow_canvas_release (f->canvas, 140, 100, NONE);
    g_assert_cmpuint (stopped, ==, 4);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/flow/canvas/viewport", test_viewport);
  g_test_add_func ("/flow/canvas/tools/shortcuts", test_shortcuts);
  ADD ("/flow/canvas/tools/create", test_create_shapes);
  ADD ("/flow/canvas/tools/click-default-size", test_click_default_size);
  ADD ("/flow/canvas/tools/shift-constrains", test_shift_constrains);
  ADD ("/flow/canvas/tools/pen", test_pen);
  ADD ("/flow/canvas/tools/text", test_text);
  ADD ("/flow/canvas/tools/eraser", test_eraser);
  ADD ("/flow/canvas/select", test_select);
  ADD ("/flow/canvas/transform/move", test_move);
  ADD ("/flow/canvas/transform/resize-rotate", test_resize_rotate);
  ADD ("/flow/canvas/snap/grid", test_snap_grid);
  ADD ("/flow/canvas/snap/shapes", test_snap_shapes);
  ADD ("/flow/canvas/arrow/binding", test_arrow_binding);
  ADD ("/flow/canvas/commands/z-order", test_zorder);
  ADD ("/flow/canvas/commands/align-distribute", test_align_distribute);
  ADD ("/flow/canvas/commands/duplicate-style-delete", test_duplicate_delete_style);
  ADD ("/flow/canvas/clipboard", test_clipboard);
  ADD ("/flow/canvas/image", test_image);
  ADD ("/flow/canvas/read-only", test_read_only);
  ADD ("/flow/canvas/remote/delete-selected", test_remote_delete);
  ADD ("/flow/canvas/draw", test_draw);
  ADD ("/flow/canvas/random-gestures", test_random_gestures);
  ADD ("/flow/canvas/presence/cursors", test_presence_cursors);
  ADD ("/flow/canvas/presence/laser", test_presence_laser);
  ADD ("/flow/canvas/presence/pointer", test_presence_pointer);
  ADD ("/flow/canvas/presence/follow", test_presence_follow);
#undef ADD

  return g_test_run ();
}
