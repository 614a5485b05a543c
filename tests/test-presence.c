/* test-presence.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Huddle presence in the real widgets, under Xvfb: remote cursors and a
 * laser trail over a board (drawn by the overlay, fading on the frame
 * clock, writing nothing), following a peer until a local zoom, and
 * remote carets and selections in a page that stay on their text while it
 * is edited. Screenshots land in FLOWSYNC_SCREENSHOT_DIR.
 */

#include "config.h"

#include <math.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "flow-board-view.h"
#include "flow-canvas-private.h"
#include "flow-page-view.h"
#include "flow-test-ui.h"
#include "flow-test-util.h"

static const FlowOpId board_id = { 7, 1 };
static const FlowOpId page_id = { 8, 1 };



static FlowRemotePresence *
board_peer (const char *id,
            const char *name,
            guint32     color,
            double      x,
            double      y,
            double      zoom,
            const char *tool)
{
  FlowRemotePresence *p = flow_remote_presence_new (id, name, color);

  p->has_viewport = TRUE;
  p->x = x;
  p->y = y;
  p->zoom = zoom;
  p->tool = g_strdup (tool);
  return p;
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
test_board_presence (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, 1);
  GtkWidget *window = gtk_window_new ();
  FlowBoardView *view;
  FlowCanvas *canvas;
  guint stopped = 0;
  guint64 n_ops;
  double wx, wy, ox, oy;
  gint64 deadline;

  flow_test_add_shape (doc, "rect", 80, 80, 220, 140);
  flow_test_add_shape (doc, "ellipse", 380, 120, 180, 180);
  flow_test_add_shape (doc, "sticky", 160, 320, 200, 140);
  n_ops = flow_doc_get_n_ops (doc);

  view = FLOW_BOARD_VIEW (flow_board_view_new (doc));
  canvas = flow_board_view_get_canvas (view);
  gtk_window_set_default_size (GTK_WINDOW (window), 800, 560);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  gtk_test_widget_wait_for_draw (GTK_WIDGET (view));
  g_signal_connect (view, "follow-stopped", G_CALLBACK (count_cb), &stopped);

  /* Two peers: Ada points with the laser, sweeping over the ellipse; Bo
   * hovers near the rectangle. */
  for (int i = 0; i <= 16; i++)
    {
      g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();
      double t = i / 16.0;

      g_ptr_array_add (list, board_peer ("ada", "Ada Lovelace", 0x3584e4ff,
                                         400 + 160 * t, 140 + 120 * t * t, 1, "laser"));
      g_ptr_array_add (list, board_peer ("bo", "Bo", 0xf6d32dff, 250, 200, 1.5, "select"));
      flow_board_view_set_remote_presence (view, list);
    }
  g_assert_true (_flow_canvas_get_remote_cursor (canvas, "ada", &wx, &wy, NULL));
  flow_canvas_board_to_widget (canvas, 560, 260, &ox, &oy);
  g_assert_cmpfloat_with_epsilon (wx, ox, 1e-6);
  g_assert_cmpfloat_with_epsilon (wy, oy, 1e-6);
  g_assert_true (_flow_canvas_get_remote_cursor (canvas, "bo", &wx, &wy, NULL));
  g_assert_cmpuint (_flow_canvas_get_laser_length (canvas, "ada"), ==, 17);

  /* Our own laser, through the real tool. */
  g_assert_true (flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_LASER));
  for (int i = 0; i <= 12; i++)
    flow_canvas_hover (canvas, 120 + i * 25, 470 - i * 6);
  g_assert_cmpuint (_flow_canvas_get_laser_length (canvas, NULL), ==, 13);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
  flow_test_ui_screenshot (GTK_WIDGET (view), "presence-board.png");

  /* The trails fade out on the frame clock by themselves. */
  deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;
  while (flow_canvas_is_animating (canvas) && g_get_monotonic_time () < deadline)
    flow_test_ui_spin (20);
  g_assert_false (flow_canvas_is_animating (canvas));
  g_assert_true (_flow_canvas_get_remote_cursor (canvas, "ada", NULL, NULL, NULL));
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);

  /* Follow Bo: our view centres on Bo's pointer at Bo's zoom... */
  flow_board_view_follow (view, "bo");
  g_assert_cmpfloat_with_epsilon (flow_canvas_get_zoom (canvas), 1.5, 1e-9);
  g_assert_true (_flow_canvas_get_remote_cursor (canvas, "bo", &wx, &wy, NULL));
  g_assert_cmpfloat_with_epsilon (wx, gtk_widget_get_width (GTK_WIDGET (view)) / 2.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (wy, gtk_widget_get_height (GTK_WIDGET (view)) / 2.0, 1e-6);
  /* ...and Bo moving moves us. */
  {
    g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();

    g_ptr_array_add (list, board_peer ("bo", "Bo", 0xf6d32dff, 600, 400, 1.5, "select"));
    flow_board_view_set_remote_presence (view, list);
  }
  g_assert_true (_flow_canvas_get_remote_cursor (canvas, "bo", &wx, &wy, NULL));
  g_assert_cmpfloat_with_epsilon (wx, gtk_widget_get_width (GTK_WIDGET (view)) / 2.0, 1e-6);
  g_assert_cmpuint (stopped, ==, 0);
  /* A local zoom (Ctrl++) stops following. */
  gtk_widget_activate_action (GTK_WIDGET (view), "canvas.zoom-in", NULL);
  g_assert_cmpuint (stopped, ==, 1);
  g_assert_null (flow_board_view_get_followed (view));
  flow_canvas_get_offset (canvas, &ox, &oy);
  {
    g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();
    double ox2, oy2;

    g_ptr_array_add (list, board_peer ("bo", "Bo", 0xf6d32dff, -900, -900, 0.3, "select"));
    flow_board_view_set_remote_presence (view, list);
    flow_canvas_get_offset (canvas, &ox2, &oy2);
    g_assert_cmpfloat (ox2, ==, ox);
    g_assert_cmpfloat (oy2, ==, oy);
  }

  /* Out of view, a peer shows as a badge on the nearest edge: top left
   * for Bo up there, the right edge for Ada far to the right at our
   * height; in view, no badge. */
  {
    g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();
    double w = gtk_widget_get_width (GTK_WIDGET (view)), h = gtk_widget_get_height (GTK_WIDGET (view));
    double ay;
    FlowRect box;

    flow_canvas_widget_to_board (canvas, w / 2, h / 2, &ox, &ay);
    g_ptr_array_add (list, board_peer ("bo", "Bo", 0xf6d32dff, -900, -900, 0.3, "select"));
    g_ptr_array_add (list, board_peer ("ada", "Ada Lovelace", 0x3584e4ff, 50000, ay, 1, "select"));
    g_ptr_array_add (list, board_peer ("cy", "Cy", 0x2ec27eff, ox, ay, 1, "select"));
    flow_board_view_set_remote_presence (view, list);

    g_assert_true (_flow_canvas_get_edge_badge (canvas, "bo", &box));
    g_assert_cmpfloat (box.x, <, 20);
    g_assert_cmpfloat (box.y, <, 20);
    g_assert_cmpfloat (box.x, >=, 0);
    g_assert_cmpfloat (box.y, >=, 0);
    g_assert_true (_flow_canvas_get_edge_badge (canvas, "ada", &box));
    g_assert_cmpfloat (box.x + box.width, >, w - 20);
    g_assert_cmpfloat (box.x + box.width, <=, w);
    g_assert_cmpfloat (fabs (box.y + box.height / 2 - h / 2), <, 2);
    g_assert_false (_flow_canvas_get_edge_badge (canvas, "cy", NULL));
    flow_test_ui_screenshot (GTK_WIDGET (view), "presence-edge.png");
  }
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);

  gtk_window_destroy (GTK_WINDOW (window));
}

static FlowRemotePresence *
page_peer (const char *id,
           const char *name,
           guint32     color,
           guint       anchor,
           guint       cursor)
{
  FlowRemotePresence *p = flow_remote_presence_new (id, name, color);

  p->has_selection = TRUE;
  p->anchor = anchor;
  p->cursor = cursor;
  return p;
}

typedef struct
{
  guint n, anchor, cursor;
} SelectionRecord;

static void
selection_moved_cb (FlowPageView    *view,
                    guint            anchor,
                    guint            cursor,
                    SelectionRecord *rec)
{
  rec->n++;
  rec->anchor = anchor;
  rec->cursor = cursor;
}

static void
test_page_presence (void)
{
  static const char text[] =
    "# Huddle notes\n"
    "\n"
    "Everyone sees the others' carets while they type, and what they have\n"
    "selected, in their own colour. The labels carry their names.\n"
    "\n"
    "- a list item\n"
    "- another item that is long enough to wrap around at the width of this window, "
    "which is not very wide at all\n";
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  GtkWidget *window = gtk_window_new ();
  FlowPageView *view = flow_page_view_new (doc);
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  GtkTextView *text_view = flow_page_view_get_text_view (view);
  SelectionRecord rec = { 0 };
  GdkRectangle caret, sel, loc;
  GtkTextIter iter;
  guint n_rects;
  /* "sees" on line 3, and from "item that" to "window" across a wrap */
  guint sees = g_utf8_strlen (text, strstr (text, "sees") - text);
  guint item = g_utf8_strlen (text, strstr (text, "item that") - text);
  guint window_at = g_utf8_strlen (text, strstr (text, "window,") - text);

  gtk_text_buffer_set_text (buffer, text, -1);
  gtk_window_set_default_size (GTK_WINDOW (window), 560, 420);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  gtk_test_widget_wait_for_draw (GTK_WIDGET (text_view));
  flow_test_ui_spin (100);

  {
    g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();

    g_ptr_array_add (list, page_peer ("ada", "Ada", 0x3584e4ff, sees, sees + 4));
    g_ptr_array_add (list, page_peer ("bo", "Bo", 0xe66100ff, item, window_at));
    flow_page_view_set_remote_presence (view, list);
  }
  /* Ada's caret is at the end of "sees", and her selection is one line. */
  g_assert_true (flow_page_view_get_remote_caret (view, "ada", &caret, &n_rects, &sel));
  gtk_text_buffer_get_iter_at_offset (buffer, &iter, sees + 4);
  gtk_text_view_get_iter_location (text_view, &iter, &loc);
  g_assert_cmpint (caret.y, ==, loc.y);
  g_assert_cmpint (ABS (caret.x - loc.x), <=, 1);
  g_assert_cmpuint (n_rects, ==, 1);
  g_assert_cmpint (sel.x + sel.width, ==, loc.x);
  g_assert_cmpint (sel.width, >, 10);
  /* Bo's selection wraps: two display lines. */
  g_assert_true (flow_page_view_get_remote_caret (view, "bo", NULL, &n_rects, NULL));
  g_assert_cmpuint (n_rects, ==, 2);
  g_assert_false (flow_page_view_get_remote_caret (view, "cy", NULL, NULL, NULL));
  flow_test_ui_screenshot (GTK_WIDGET (view), "presence-page.png");

  /* A line typed above moves the carets with their text. */
  gtk_text_buffer_get_start_iter (buffer, &iter);
  gtk_text_buffer_insert (buffer, &iter, "New first line\n", -1);
  g_assert_true (flow_page_view_get_remote_caret (view, "ada", &caret, NULL, NULL));
  gtk_text_buffer_get_iter_at_offset (buffer, &iter, sees + 4 + 15);
  gtk_text_view_get_iter_location (text_view, &iter, &loc);
  g_assert_cmpint (caret.y, ==, loc.y);
  g_assert_cmpint (ABS (caret.x - loc.x), <=, 1);
  /* The next update places them at its offsets again; gone peers go. */
  {
    g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();

    g_ptr_array_add (list, page_peer ("ada", "Ada", 0x3584e4ff, 0, 0));
    flow_page_view_set_remote_presence (view, list);
  }
  g_assert_true (flow_page_view_get_remote_caret (view, "ada", &caret, &n_rects, NULL));
  g_assert_cmpuint (n_rects, ==, 0);
  gtk_text_buffer_get_start_iter (buffer, &iter);
  gtk_text_view_get_iter_location (text_view, &iter, &loc);
  g_assert_cmpint (caret.y, ==, loc.y);
  g_assert_false (flow_page_view_get_remote_caret (view, "bo", NULL, NULL, NULL));

  /* Our own selection goes out as code points, once per change. */
  g_signal_connect (view, "selection-moved", G_CALLBACK (selection_moved_cb), &rec);
  {
    GtkTextIter a, b;

    gtk_text_buffer_get_iter_at_offset (buffer, &a, 3);
    gtk_text_buffer_get_iter_at_offset (buffer, &b, 9);
    gtk_text_buffer_select_range (buffer, &b, &a);
  }
  g_assert_cmpuint (rec.n, >=, 1);
  g_assert_cmpuint (rec.anchor, ==, 3);
  g_assert_cmpuint (rec.cursor, ==, 9);
  rec.n = 0;
  {
    GtkTextIter a, b;

    gtk_text_buffer_get_iter_at_offset (buffer, &a, 3);
    gtk_text_buffer_get_iter_at_offset (buffer, &b, 9);
    gtk_text_buffer_select_range (buffer, &b, &a);
  }
  g_assert_cmpuint (rec.n, ==, 0);

  /* Ada's name flag shows after she moved, then fades away (it would
   * cover the line above for as long as she idles); a presence refresh
   * at the same place keeps it hidden, a move brings it back. */
  g_assert_cmpfloat (flow_page_view_get_remote_flag_alpha (view, "ada"), ==, 1);
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    while (flow_page_view_get_remote_flag_alpha (view, "ada") > 0 && g_get_monotonic_time () < deadline)
      flow_test_ui_spin (50);
  }
  g_assert_cmpfloat (flow_page_view_get_remote_flag_alpha (view, "ada"), ==, 0);
  for (guint pass = 0; pass < 2; pass++)
    {
      g_autoptr(GPtrArray) list = flow_remote_presence_list_new ();

      g_ptr_array_add (list, page_peer ("ada", "Ada", 0x3584e4ff, pass * 5, pass * 5));
      flow_page_view_set_remote_presence (view, list);
      g_assert_cmpfloat (flow_page_view_get_remote_flag_alpha (view, "ada"), ==, pass == 0 ? 0 : 1);
    }

  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("ADW_DISABLE_PORTAL", "1", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/flow/presence/board", test_board_presence);
  g_test_add_func ("/flow/presence/page", test_page_presence);

  return g_test_run ();
}
