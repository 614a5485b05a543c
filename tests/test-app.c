/* test-app.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The desktop app end to end, under Xvfb: a window opens (creating) a
 * workspace, documents are made from the window's actions, shapes are
 * drawn through the board's canvas, history is previewed and restored,
 * the catalog is edited through the sidebar's actions, and closing and
 * reopening the workspace restores every board exactly. Screenshots of
 * the window land in the build directory (FLOWSYNC_SCREENSHOT_DIR).
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>

#include "flow-application.h"
#include "flow-board-page.h"
#include "flow-catalog.h"
#include "flow-page-view.h"
#include "flow-preferences.h"
#include "flow-sidebar.h"
#include "flow-store-search.h"
#include "flow-test-ui.h"
#include "flow-test-util.h"
#include "flow-window.h"

static FlowApplication *app;

static void
iterate_until (gboolean (*done) (gpointer),
               gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for the app");
      g_usleep (1000);
    }
}


static gboolean
has_workspace (gpointer data)
{
  return flow_window_get_workspace (data) != NULL;
}

static gboolean
has_view (gpointer data)
{
  return flow_window_get_current_view (data) != NULL;
}


static void
drag (FlowCanvas *canvas,
      double      x1,
      double      y1,
      double      x2,
      double      y2)
{
  flow_canvas_press (canvas, x1, y1, 1, 0, 1);
  for (int i = 1; i <= 8; i++)
    flow_canvas_motion (canvas, x1 + (x2 - x1) * i / 8, y1 + (y2 - y1) * i / 8, 1, 0);
  flow_canvas_release (canvas, x2, y2, 0);
}

static void
draw_board (FlowCanvas *canvas)
{
  FlowCanvasStyle style;
  FlowOpId id;

  flow_canvas_get_style (canvas, &style);
  style.fill = 0xdbe8fbff;
  flow_canvas_set_style (canvas, &style, FLOW_CANVAS_STYLE_FILL);
  flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_RECT);
  drag (canvas, 80, 80, 260, 180);
  style.fill = 0xfbe3d6ff;
  flow_canvas_set_style (canvas, &style, FLOW_CANVAS_STYLE_FILL);
  flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_ELLIPSE);
  drag (canvas, 420, 90, 600, 200);
  flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_ARROW);
  drag (canvas, 200, 130, 500, 150);
  flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_DIAMOND);
  drag (canvas, 120, 260, 240, 360);
  flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_PEN);
  flow_canvas_press (canvas, 300, 300, 0.3, 0, 1);
  for (int i = 0; i < 40; i++)
    flow_canvas_motion (canvas, 300 + i * 5, 300 + 30 * sin (i / 4.0), 0.3 + i / 80.0, 0);
  flow_canvas_release (canvas, 500, 300, 0);
  flow_canvas_set_tool (canvas, FLOW_CANVAS_TOOL_STICKY);
  flow_canvas_press (canvas, 640, 260, 1, 0, 1);
  flow_canvas_release (canvas, 640, 260, 0);
  {
    guint n;
    const FlowOpId *sel = flow_canvas_get_selection (canvas, &n);

    g_assert_cmpuint (n, ==, 1);
    id = *sel;
    g_assert_true (flow_canvas_set_text (canvas, &id, "Ship the board view by Friday"));
  }
}

static void
test_app_window (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-app-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Team.flowsync", NULL);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GError) error = NULL;
  FlowWindow *window;
  FlowWorkspace *ws;
  FlowDoc *catalog;
  FlowBoardPage *page;
  FlowCanvas *canvas;
  FlowDoc *board;
  FlowOpId board_id;
  guint64 n_ops;

  window = flow_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (has_workspace, window);
  ws = flow_window_get_workspace (window);
  catalog = flow_workspace_get_catalog (ws);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-empty.png");

  /* A new page and a new board, from the window's actions. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-page", NULL));
  iterate_until (has_view, window);
  g_assert_true (FLOW_IS_PAGE_VIEW (flow_window_get_current_view (window)));
  gtk_text_buffer_set_text (flow_page_view_get_buffer (FLOW_PAGE_VIEW (flow_window_get_current_view (window))),
                            "# Plan\n\nDraw the architecture on the board.", -1);
  {
    g_autofree char *text = flow_doc_dup_text (flow_page_view_get_doc (FLOW_PAGE_VIEW (flow_window_get_current_view (window))));

    g_assert_cmpstr (text, ==, "# Plan\n\nDraw the architecture on the board.");
  }
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-page.png");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-board", NULL));
  flow_test_ui_spin (50);
  page = FLOW_BOARD_PAGE (flow_window_get_current_view (window));
  g_assert_true (FLOW_IS_BOARD_PAGE (page));
  board = flow_board_page_get_doc (page);
  board_id = *flow_doc_get_id (board);
  canvas = flow_board_view_get_canvas (flow_board_page_get_view (page));
  flow_test_ui_spin (100);

  draw_board (canvas);
  {
    g_autoptr(GArray) shapes = flow_doc_list_ordered (board);

    g_assert_cmpuint (shapes->len, ==, 6);
  }
  flow_canvas_clear_selection (canvas);
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-board.png");

  /* Undo reverts the user's last edit through the window's action. */
  n_ops = flow_doc_get_n_ops (board);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
  g_assert_cmpuint (flow_doc_get_n_ops (board), >, n_ops);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo", NULL));

  /* Export from the tab renders real files. */
  {
    g_autoptr(GBytes) png = flow_board_page_export (page, FLOW_EXPORT_PNG, FALSE, &error);
    g_autoptr(GBytes) pdf = flow_board_page_export (page, FLOW_EXPORT_PDF, FALSE, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (png, NULL), 8, "\x89PNG\r\n\x1a\n", 8);
    g_assert_cmpmem (g_bytes_get_data (pdf, NULL), 5, "%PDF-", 5);
    g_assert_null (flow_board_page_export (page, FLOW_EXPORT_SVG, TRUE, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
  }

  /* History: preview the board after its first two edits (read-only),
   * then restore it as new edits. */
  flow_board_page_show_history (page, TRUE);
  {
    g_autoptr(GArray) shapes = NULL;
    guint64 total = flow_doc_get_n_ops (board);
    guint64 at = 0;

    /* Find the version with exactly the first two shapes. */
    for (guint64 n = 1; n < total; n++)
      {
        g_autoptr(FlowVersionVector) v = flow_doc_dup_version_at (board, n);
        g_autoptr(FlowDoc) c = flow_doc_checkout (board, v, NULL);
        g_autoptr(GArray) l = flow_doc_list_ordered (c);

        if (l->len == 2)
          at = n;
      }
    g_assert_cmpuint (at, >, 0);
    g_assert_true (flow_board_page_preview_version (page, at));
    g_assert_true (flow_canvas_get_read_only (flow_board_view_get_canvas (flow_board_page_get_view (page))));
    flow_test_ui_spin (100);
    flow_test_ui_screenshot (GTK_WIDGET (window), "app-history.png");
    g_assert_true (flow_board_page_restore_preview (page, &error));
    g_assert_no_error (error);
    shapes = flow_doc_list_ordered (board);
    g_assert_cmpuint (shapes->len, ==, 2);
    g_assert_cmpuint (flow_doc_get_n_ops (board), >, total);
    /* The restore is one undo step away from the six shapes. */
    g_assert_true (flow_doc_undo (board));
    g_clear_pointer (&shapes, g_array_unref);
    shapes = flow_doc_list_ordered (board);
    g_assert_cmpuint (shapes->len, ==, 6);
  }
  canvas = flow_board_view_get_canvas (flow_board_page_get_view (page));
  g_assert_false (flow_canvas_get_read_only (canvas));

  /* Sidebar actions edit the catalog: rename, trash (closes the tab),
   * restore. */
  {
    g_autofree char *id_str = flow_op_id_to_string (&board_id);
    FlowCatalogEntry entry;

    g_assert_true (flow_catalog_rename (catalog, &board_id, "Architecture", NULL));
    g_assert_true (flow_catalog_get (catalog, &board_id, &entry));
    g_assert_cmpstr (entry.title, ==, "Architecture");
    flow_catalog_entry_clear (&entry);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.trash-document", "s", id_str));
    flow_test_ui_spin (50);
    g_assert_false (FLOW_IS_BOARD_PAGE (flow_window_get_current_view (window)));
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.restore-document", "s", id_str));
    g_assert_true (flow_catalog_get (catalog, &board_id, &entry));
    g_assert_false (entry.deleted);
    flow_catalog_entry_clear (&entry);
  }
  before = flow_doc_encode (board);

  /* Close: the window flushes, then goes away; reopen and compare. */
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);

  window = flow_window_new (app);
  flow_window_open (window, path, FALSE);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (has_workspace, window);
  flow_window_open_document (window, &board_id);
  iterate_until (has_view, window);
  page = FLOW_BOARD_PAGE (flow_window_get_current_view (window));
  {
    g_autoptr(GBytes) after = flow_doc_encode (flow_board_page_get_doc (page));

    g_assert_true (g_bytes_equal (before, after));
  }
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* ------------------------------------------------------------------------
 * End to end: start on an empty XDG data dir, draw through the board
 * widget's own gesture handlers, undo/redo, export, quit, start again.
 * ------------------------------------------------------------------------ */


static GtkGesture *
find_drag_gesture (GtkWidget *widget)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) c = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_DRAG (c))
        return GTK_GESTURE (c);
    }
  return NULL;
}

/* What a pointer drag delivers to the widget: the drag gesture's signals. */
static void
gesture_drag (GtkGesture *gesture,
              double      x1,
              double      y1,
              double      x2,
              double      y2)
{
  g_signal_emit_by_name (gesture, "drag-begin", x1, y1);
  for (int i = 1; i <= 6; i++)
    g_signal_emit_by_name (gesture, "drag-update", (x2 - x1) * i / 6, (y2 - y1) * i / 6);
  g_signal_emit_by_name (gesture, "drag-end", x2 - x1, y2 - y1);
}

static FlowWindow *
only_window (void)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  return windows && FLOW_IS_WINDOW (windows->data) ? windows->data : NULL;
}

static gboolean
no_windows (gpointer data)
{
  return gtk_application_get_windows (GTK_APPLICATION (app)) == NULL;
}

static gboolean
window_has_workspace (gpointer data)
{
  FlowWindow *window = only_window ();

  return window != NULL && flow_window_get_workspace (window) != NULL;
}

static void
use_tool (GtkWidget  *view,
          const char *tool)
{
  g_assert_true (gtk_widget_activate_action (view, "canvas.tool", "s", tool));
}

static void
test_app_end_to_end (void)
{
  g_autofree char *default_path = flow_workspace_default_path ();
  g_autoptr(GBytes) saved = NULL;
  g_autoptr(GError) error = NULL;
  FlowWindow *window;
  FlowBoardPage *page;
  GtkWidget *view;
  GtkGesture *drag;
  FlowDoc *board;
  FlowOpId board_id;
  guint n_shapes;

  /* First start: the default workspace is created. */
  g_assert_false (g_file_test (default_path, G_FILE_TEST_EXISTS));
  g_application_activate (G_APPLICATION (app));
  iterate_until (window_has_workspace, NULL);
  window = only_window ();
  g_assert_true (g_file_test (default_path, G_FILE_TEST_EXISTS));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-board", NULL));
  flow_test_ui_spin (100);
  page = FLOW_BOARD_PAGE (flow_window_get_current_view (window));
  board = flow_board_page_get_doc (page);
  board_id = *flow_doc_get_id (board);
  view = flow_test_ui_find_type (GTK_WIDGET (page), FLOW_TYPE_BOARD_VIEW);
  drag = find_drag_gesture (view);
  g_assert_nonnull (drag);

  use_tool (view, "rect");
  gesture_drag (drag, 100, 120, 300, 240);
  use_tool (view, "ellipse");
  gesture_drag (drag, 480, 110, 680, 250);
  use_tool (view, "arrow");
  gesture_drag (drag, 240, 180, 540, 180);
  use_tool (view, "diamond");
  gesture_drag (drag, 140, 330, 280, 450);
  use_tool (view, "line");
  gesture_drag (drag, 360, 470, 620, 400);
  use_tool (view, "pen");
  g_signal_emit_by_name (drag, "drag-begin", 380.0, 330.0);
  for (int i = 1; i < 40; i++)
    g_signal_emit_by_name (drag, "drag-update", i * 6.0, 25 * sin (i / 5.0));
  g_signal_emit_by_name (drag, "drag-end", 234.0, 0.0);

  /* A sticky note: a click, then its text typed into the editor that
   * pops up, applied when the editor closes. */
  use_tool (view, "sticky");
  gesture_drag (drag, 760, 300, 760, 300);
  {
    GtkWidget *popover = flow_test_ui_find_type (view, GTK_TYPE_POPOVER);
    GtkWidget *text_view = flow_test_ui_find_type (popover, GTK_TYPE_TEXT_VIEW);

    g_assert_true (gtk_widget_get_visible (popover));
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (text_view)),
                              "Decide the sync protocol", -1);
    gtk_popover_popdown (GTK_POPOVER (popover));
    flow_test_ui_spin (50);
  }
  {
    g_autoptr(GArray) shapes = flow_doc_list_ordered (board);
    const FlowOpId *sticky = &g_array_index (shapes, FlowOpId, shapes->len - 1);
    FlowValue *text = flow_doc_get_property (board, sticky, "text");

    n_shapes = shapes->len;
    g_assert_cmpuint (n_shapes, ==, 7);
    g_assert_cmpstr (flow_doc_get_entity_kind (board, sticky), ==, "sticky");
    g_assert_cmpstr (flow_value_get_string (text), ==, "Decide the sync protocol");
    g_assert_cmpstr (flow_doc_get_entity_kind (board, &g_array_index (shapes, FlowOpId, 0)), ==, "rect");
  }

  /* Undo and redo through the window's actions. */
  {
    g_autoptr(GBytes) full = flow_doc_encode (board);
    g_autoptr(GArray) after_undo = NULL;
    guint64 n_ops = flow_doc_get_n_ops (board);

    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.undo", NULL));
    after_undo = flow_doc_list_ordered (board);
    g_assert_cmpuint (after_undo->len, <, n_shapes);
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.redo", NULL));
    g_clear_pointer (&after_undo, g_array_unref);
    after_undo = flow_doc_list_ordered (board);
    g_assert_cmpuint (after_undo->len, ==, n_shapes);
    g_assert_cmpuint (flow_doc_get_n_ops (board), >, n_ops);
    (void) full;
  }

  /* Export writes PNG, SVG and PDF files. */
  {
    const char *dir = g_getenv ("FLOWSYNC_SCREENSHOT_DIR");
    FlowExportFormat formats[] = { FLOW_EXPORT_PNG, FLOW_EXPORT_SVG, FLOW_EXPORT_PDF };
    const char *names[] = { "export.png", "export.svg", "export.pdf" };

    for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
      {
        g_autoptr(GBytes) bytes = flow_board_page_export (page, formats[i], FALSE, &error);

        g_assert_no_error (error);
        g_assert_cmpuint (g_bytes_get_size (bytes), >, 500);
        if (dir != NULL)
          {
            g_autofree char *out = g_build_filename (dir, names[i], NULL);

            g_mkdir_with_parents (dir, 0755);
            g_assert_true (g_file_set_contents (out, g_bytes_get_data (bytes, NULL),
                                                g_bytes_get_size (bytes), NULL));
          }
      }
  }

  flow_canvas_clear_selection (flow_board_view_get_canvas (FLOW_BOARD_VIEW (view)));
  flow_test_ui_screenshot (GTK_WIDGET (window), "board-light.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_FORCE_DARK);
  flow_test_ui_screenshot (GTK_WIDGET (window), "board-dark.png");
  adw_style_manager_set_color_scheme (adw_style_manager_get_default (), ADW_COLOR_SCHEME_DEFAULT);
  saved = flow_doc_encode (board);

  /* Quit: every window flushes and closes its workspace. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (app), "quit"));
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  iterate_until (no_windows, NULL);

  /* Start again: the same workspace opens, the board is as left. */
  g_application_activate (G_APPLICATION (app));
  iterate_until (window_has_workspace, NULL);
  window = only_window ();
  g_assert_cmpstr (flow_window_get_path (window), ==, default_path);
  {
    FlowSidebar *sidebar = FLOW_SIDEBAR (flow_test_ui_find_type (GTK_WIDGET (window), FLOW_TYPE_SIDEBAR));
    g_autofree char *id_str = flow_op_id_to_string (&board_id);

    g_assert_cmpuint (flow_sidebar_get_n_rows (sidebar, FALSE), ==, 1);
    g_signal_emit_by_name (sidebar, "open-document", id_str);
  }
  iterate_until (has_view, window);
  page = FLOW_BOARD_PAGE (flow_window_get_current_view (window));
  {
    g_autoptr(GBytes) again = flow_doc_encode (flow_board_page_get_doc (page));

    g_assert_true (g_bytes_equal (saved, again));
  }
  g_action_group_activate_action (G_ACTION_GROUP (app), "quit", NULL);
  iterate_until (no_windows, NULL);
}

/* ------------------------------------------------------------------------
 * Pages: links, backlinks, tags and workspace search
 * ------------------------------------------------------------------------ */

static gboolean
has_results (gpointer data)
{
  return flow_sidebar_get_n_results (data) > 0;
}

static FlowDoc *
new_page (FlowWindow *window,
          const char *title,
          const char *text)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *doc = flow_workspace_new_document (flow_window_get_workspace (window), FLOW_DOC_KIND_PAGE,
                                              title, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (flow_doc_insert_text (doc, 0, text, -1, &error));
  return doc;
}

static void
test_app_pages (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-app-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Pages.flowsync", NULL);
  g_autoptr(GError) error = NULL;
  FlowWindow *window;
  FlowSidebar *sidebar;
  FlowDoc *design, *notes;
  FlowPageView *view;
  FlowStore *store;

  window = flow_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 760);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (has_workspace, window);
  store = flow_workspace_get_store (flow_window_get_workspace (window));
  sidebar = FLOW_SIDEBAR (flow_test_ui_find_type (GTK_WIDGET (window), FLOW_TYPE_SIDEBAR));

  design = new_page (window, "Design",
                     "# Design\n\nThe sync layer is described in [[Notes]].\n\n"
                     "## Open questions\n\n- Which #sync transport? See PROJ-7.\n"
                     "- Ask about the [[Missing page]].\n\n```c\nint zebra_in_code;\n```\n");
  notes = new_page (window, "Notes", "# Notes\n\nA zebra crossing is where peers meet.\n#sync\n");
  g_assert_true (flow_store_reindex (store, &error));
  g_assert_no_error (error);

  /* Search finds the page and opens it at the match. */
  flow_sidebar_search (sidebar, "zebra crossing");
  iterate_until (has_results, sidebar);
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-search.png");
  flow_sidebar_activate_result (sidebar, 0);
  iterate_until (has_view, window);
  view = FLOW_PAGE_VIEW (flow_window_get_current_view (window));
  g_assert_true (flow_page_view_get_doc (view) == notes);
  {
    GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
    GtkTextIter it;

    gtk_text_buffer_get_iter_at_mark (buffer, &it, gtk_text_buffer_get_insert (buffer));
    g_assert_cmpuint (gtk_text_iter_get_offset (&it), ==, g_utf8_strlen ("# Notes\n\nA ", -1));
  }

  /* A tag lists its pages. */
  flow_sidebar_search (sidebar, "");
  flow_sidebar_show_tag (sidebar, "sync");
  iterate_until (has_results, sidebar);
  g_assert_cmpuint (flow_sidebar_get_n_results (sidebar), ==, 2);
  flow_sidebar_search (sidebar, "");

  /* Ctrl+click on [[Notes]] in Design opens Notes; the backlinks of Notes
   * list Design. */
  flow_window_open_document (window, flow_doc_get_id (design));
  flow_test_ui_spin (100);
  view = FLOW_PAGE_VIEW (flow_window_get_current_view (window));
  g_assert_true (flow_page_view_get_doc (view) == design);
  flow_test_ui_spin (200);
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-page-links.png");
  g_assert_true (flow_page_view_activate_link_at (view, g_utf8_strlen ("# Design\n\nThe sync layer is described in [[N", -1)));
  flow_test_ui_spin (100);
  view = FLOW_PAGE_VIEW (flow_window_get_current_view (window));
  g_assert_true (flow_page_view_get_doc (view) == notes);
  flow_test_ui_spin (300);
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-page-backlinks.png");
  {
    g_autoptr(GArray) back = flow_store_backlinks (store, "notes", &error);

    g_assert_no_error (error);
    g_assert_cmpuint (back->len, ==, 1);
    g_assert_true (flow_op_id_equal (&g_array_index (back, FlowOpId, 0), flow_doc_get_id (design)));
  }

  /* Export renders the page; import reads a Markdown file into a new
   * page titled by its first heading. */
  {
    g_autoptr(GBytes) html = flow_page_view_export (view, "html", &error);
    g_autoptr(GBytes) pdf = flow_page_view_export (view, "pdf", &error);
    g_autofree char *md_path = g_build_filename (dir, "imported.md", NULL);
    g_autoptr(GFile) md = g_file_new_for_path (md_path);
    const char *md_text = "\xef\xbb\xbf# Imported Plan\r\n\r\nWith **bold** text.\r\n";
    FlowDoc *imported;

    g_assert_no_error (error);
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (html, NULL), g_bytes_get_size (html), "<h1>Notes</h1>"));
    g_assert_cmpmem (g_bytes_get_data (pdf, NULL), 5, "%PDF-", 5);
    g_assert_true (g_file_set_contents (md_path, md_text, -1, NULL));
    flow_window_import_file (window, md);
    flow_test_ui_spin (300);
    view = FLOW_PAGE_VIEW (flow_window_get_current_view (window));
    imported = flow_page_view_get_doc (view);
    {
      g_autofree char *text = flow_doc_dup_text (imported);
      FlowCatalogEntry entry;

      g_assert_cmpstr (text, ==, "# Imported Plan\n\nWith **bold** text.\n");
      g_assert_true (flow_catalog_get (flow_workspace_get_catalog (flow_window_get_workspace (window)),
                                       flow_doc_get_id (imported), &entry));
      g_assert_cmpstr (entry.title, ==, "Imported Plan");
      flow_catalog_entry_clear (&entry);
    }
  }

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Renaming from the sidebar's prompt by pressing Enter in the entry
 * applies the new title once, and the dialog's close does not answer a
 * second time. */
static void
test_app_rename_prompt (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-app-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Rename.flowsync", NULL);
  g_autofree char *id = NULL;
  FlowWindow *window;
  FlowDoc *doc;
  AdwMessageDialog *dialog = NULL;
  FlowCatalogEntry entry;

  window = flow_window_new (app);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (has_workspace, window);
  doc = new_page (window, "Draft", "text");
  id = flow_op_id_to_string (flow_doc_get_id (doc));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.rename-document", "s", id));
  dialog = ADW_MESSAGE_DIALOG (flow_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG));
  g_assert_nonnull (dialog);
  gtk_editable_set_text (GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog)), "Final");
  g_signal_emit_by_name (adw_message_dialog_get_extra_child (dialog), "activate");
  flow_test_ui_spin (100);
  g_assert_true (flow_catalog_get (flow_workspace_get_catalog (flow_window_get_workspace (window)),
                                   flow_doc_get_id (doc), &entry));
  g_assert_cmpstr (entry.title, ==, "Final");
  flow_catalog_entry_clear (&entry);

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* Closing a window with a page open lets go of the workspace. */
static void
test_app_workspace_released (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-app-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Release.flowsync", NULL);
  FlowWorkspace *ws;
  FlowWindow *window;
  FlowDoc *doc;

  window = flow_window_new (app);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  iterate_until (has_workspace, window);
  ws = flow_window_get_workspace (window);
  g_object_add_weak_pointer (G_OBJECT (ws), (gpointer *) &ws);
  doc = new_page (window, "Page", "# Page\n");
  flow_window_open_document (window, flow_doc_get_id (doc));
  iterate_until (has_view, window);
  g_assert_true (FLOW_IS_PAGE_VIEW (flow_window_get_current_view (window)));

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_close (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
  flow_test_ui_spin (100);
  g_assert_null (ws);
}

/* The preferences row titled @title, searched depth first. */
static gboolean
is_row (GtkWidget     *widget,
        gconstpointer  title)
{
  return ADW_IS_PREFERENCES_ROW (widget) &&
         g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0;
}

static AdwPreferencesRow *
find_row (GtkWidget  *widget,
          const char *title)
{
  return ADW_PREFERENCES_ROW (flow_test_ui_find (widget, is_row, title));
}

/* A damaged file is refused with a clear message, and left untouched. */
static void
test_app_bad_file (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-app-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "junk.flowsync", NULL);
  g_autofree char *after = NULL;
  FlowWindow *window;

  g_assert_true (g_file_set_contents (path, "this is not a workspace", -1, NULL));
  window = flow_window_new (app);
  flow_window_open (window, path, FALSE);
  gtk_window_present (GTK_WINDOW (window));
  flow_test_ui_spin (500);
  g_assert_null (flow_window_get_workspace (window));
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, "this is not a workspace");
  flow_test_ui_screenshot (GTK_WIDGET (window), "app-bad-file.png");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The Huddles group of Preferences edits the settings the huddle reads. */
static void
test_app_preferences_huddles (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.flowsync.FlowSync");
  FlowPreferences *prefs = flow_preferences_new (settings);
  g_autofree char *stun = NULL;
  g_autofree char *password = NULL;
  GtkWidget *row;

  gtk_window_present (GTK_WINDOW (prefs));
  flow_test_ui_spin (200);

  row = GTK_WIDGET (find_row (GTK_WIDGET (prefs), "STUN Server (host:port)"));
  g_assert_nonnull (row);
  gtk_editable_set_text (GTK_EDITABLE (row), "stun.example.org:3478");
  row = GTK_WIDGET (find_row (GTK_WIDGET (prefs), "TURN Password"));
  g_assert_nonnull (row);
  g_assert_true (ADW_IS_PASSWORD_ENTRY_ROW (row));
  gtk_editable_set_text (GTK_EDITABLE (row), "s3cret");

  stun = g_settings_get_string (settings, "stun-server");
  password = g_settings_get_string (settings, "turn-password");
  g_assert_cmpstr (stun, ==, "stun.example.org:3478");
  g_assert_cmpstr (password, ==, "s3cret");

  /* The row's switch (which a click anywhere on the row flips) is the
   * setting. */
  row = GTK_WIDGET (find_row (GTK_WIDGET (prefs), "Hide My Network Address"));
  g_assert_nonnull (row);
  g_assert_true (GTK_IS_SWITCH (adw_action_row_get_activatable_widget (ADW_ACTION_ROW (row))));
  g_assert_false (g_settings_get_boolean (settings, "relay-only"));
  gtk_switch_set_active (GTK_SWITCH (adw_action_row_get_activatable_widget (ADW_ACTION_ROW (row))), TRUE);
  g_assert_true (g_settings_get_boolean (settings, "relay-only"));

  /* Bring the group into view for the screenshot. */
  gtk_widget_grab_focus (row);
  flow_test_ui_spin (300);
  flow_test_ui_screenshot (GTK_WIDGET (prefs), "app-preferences.png");

  g_settings_reset (settings, "stun-server");
  g_settings_reset (settings, "turn-password");
  g_settings_reset (settings, "relay-only");
  gtk_window_destroy (GTK_WINDOW (prefs));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  g_autofree char *xdg = NULL;

  xdg = flow_test_ui_init (&argc, &argv, "app");

  app = flow_test_ui_app_new ();

  g_test_add_func ("/flow/app/end-to-end", test_app_end_to_end);
  g_test_add_func ("/flow/app/window", test_app_window);
  g_test_add_func ("/flow/app/pages", test_app_pages);
  g_test_add_func ("/flow/app/bad-file", test_app_bad_file);
  g_test_add_func ("/flow/app/preferences-huddles", test_app_preferences_huddles);
  g_test_add_func ("/flow/app/rename-prompt", test_app_rename_prompt);
  g_test_add_func ("/flow/app/workspace-released", test_app_workspace_released);

  ret = g_test_run ();
  g_clear_object (&app);
  flow_test_remove_tree (xdg);
  return ret;
}
