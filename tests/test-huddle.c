/* test-huddle.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Huddles in the app, under Xvfb. A window shares its workspace "on this
 * network" (FLOWSYNC_LOOPBACK=1: the embedded rendezvous server and ICE on
 * 127.0.0.1 only); the test joins the link with a FlowRoom of its own over
 * libnice. A page made in the window arrives in the test's workspace, an
 * edit made by the test arrives in the window's page; the header says
 * "Connected to 1" with one avatar; the share dialog shows the link and a
 * QR code; the join dialog refuses a bad link with a clear message.
 * Presence: the test's cursor shows on the window's board, the window's
 * pointer reaches the test, Follow follows until a local zoom; edits made
 * while nobody is linked say "Not yet shared" until the test joins.
 * Screenshots land in FLOWSYNC_SCREENSHOT_DIR.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "flow-application.h"
#include "flow-board-page.h"
#include "flow-canvas-private.h"
#include "flow-catalog.h"
#include "flow-huddle.h"
#include "flow-join-dialog.h"
#include "flow-link-nice.h"
#include "flow-page-view.h"
#include "flow-rendezvous-server.h"
#include "flow-room.h"
#include "flow-share-dialog.h"
#include "flow-signaling-rendezvous.h"
#include "flow-test-sync.h"
#include "flow-test-ui.h"
#include "flow-test-util.h"
#include "flow-window.h"


static FlowApplication *app;




static guint
n_avatars (GtkWidget *box)
{
  guint n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (box); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (ADW_IS_AVATAR (c))
      n++;
  return n;
}






static gboolean
doc_has (FlowDoc    *doc,
         const char *needle)
{
  g_autofree char *text = flow_doc_dup_text (doc);

  return strstr (text, needle) != NULL;
}


/* The window's peer as the test's room sees it: in page @doc, selecting
 * from @anchor to @cursor. */
static gboolean
room_sees_selection (FlowRoom       *room,
                     const FlowOpId *doc,
                     guint           anchor,
                     guint           cursor)
{
  g_autoptr(GPtrArray) peers = flow_room_list_peers (room);

  for (guint i = 0; i < peers->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (peers, i);
      guint want = FLOW_SYNC_PRESENCE_HAS_DOC | FLOW_SYNC_PRESENCE_HAS_SELECTION;

      if (peer->has_presence && (peer->presence.presence.flags & want) == want &&
          flow_op_id_equal (&peer->presence.presence.doc, doc) &&
          peer->presence.presence.anchor == anchor && peer->presence.presence.cursor == cursor)
        return TRUE;
    }
  return FALSE;
}

static void
test_huddle_host_and_join (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-huddle-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Team.flowsync", NULL);
  g_autofree char *joined_path = g_build_filename (dir, "joined.flowsync", NULL);
  g_autofree char *link = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) joined = NULL;
  g_autoptr(FlowRoom) room = NULL;
  FlowShareDialog *dialog;
  FlowWindow *window;
  FlowHuddle *huddle;
  FlowPageView *view;
  FlowDoc *page;
  GtkWidget *status, *avatars;

  window = flow_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_workspace (window) != NULL);
  huddle = flow_window_get_huddle (window);
  g_assert_nonnull (huddle);
  status = flow_test_ui_find_named (GTK_WIDGET (window), "huddle-status");
  avatars = flow_test_ui_find_named (GTK_WIDGET (window), "huddle-avatars");
  g_assert_nonnull (status);
  g_assert_nonnull (avatars);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (status)), ==, "Offline");

  /* A page made in the window before sharing. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-page", NULL));
  WAIT_FOR (flow_window_get_current_view (window) != NULL);
  view = FLOW_PAGE_VIEW (flow_window_get_current_view (window));
  gtk_text_buffer_set_text (flow_page_view_get_buffer (view), "# Plan\n\nMade in the window.\n", -1);
  page = flow_page_view_get_doc (view);

  /* Share: the dialog starts hosting on this network (127.0.0.1 here). */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.share", NULL));
  WAIT_FOR ((dialog = FLOW_SHARE_DIALOG (flow_test_ui_find_toplevel (FLOW_TYPE_SHARE_DIALOG))) != NULL);
  WAIT_FOR (*flow_share_dialog_get_link (dialog) != '\0');
  link = g_strdup (flow_share_dialog_get_link (dialog));
  g_assert_true (g_str_has_prefix (link, "flowsync://127.0.0.1:"));
  g_assert_cmpstr (link, ==, flow_huddle_get_link (huddle));
  g_assert_cmpuint (flow_share_dialog_get_qr_modules (dialog), >=, 21);
  flow_test_ui_screenshot (GTK_WIDGET (dialog), "huddle-share-dialog.png");
  gtk_window_close (GTK_WINDOW (dialog));

  /* The test joins: the window's page arrives. */
  joined = flow_workspace_create (joined_path, &error);
  g_assert_no_error (error);
  room = flow_test_join_loopback (joined, link, "Ada Lovelace", 0xe01b24ff);
  WAIT_FOR (flow_test_page_has (joined, "Untitled Page", "Made in the window."));
  WAIT_FOR (flow_huddle_get_n_connected (huddle) == 1);
  WAIT_FOR (n_avatars (avatars) == 1);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (status)), ==, "Connected to 1");

  /* Live: typing in the window reaches the test, an edit of the test
   * reaches the window's page. */
  {
    GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
    GtkTextIter end;

    gtk_text_buffer_get_end_iter (buffer, &end);
    gtk_text_buffer_insert (buffer, &end, "Typed live.\n", -1);
  }
  WAIT_FOR (flow_test_page_has (joined, "Untitled Page", "Typed live."));
  flow_doc_insert_text (flow_test_find_doc (joined, "Untitled Page"), 0, "From the test. ", -1, &error);
  g_assert_no_error (error);
  WAIT_FOR (doc_has (page, "From the test. "));

  /* The participant looks at the page, with a selection: the popover
   * says so, the window's page shows its selection. */
  {
    FlowSyncFrame frame = { 0 };

    frame.type = FLOW_SYNC_FRAME_PRESENCE;
    frame.presence.flags = FLOW_SYNC_PRESENCE_HAS_DOC | FLOW_SYNC_PRESENCE_HAS_SELECTION;
    frame.presence.doc = *flow_doc_get_id (page);
    frame.presence.anchor = 15;
    frame.presence.cursor = 21;
    frame.presence.zoom = 1.0;
    g_assert_true (flow_room_set_presence (room, &frame, &error));
    g_assert_no_error (error);
  }
  {
    GdkRectangle caret, selection;
    guint n_rects = 0;

    WAIT_FOR (flow_page_view_get_remote_caret (view, flow_room_get_peer_id (room), &caret, &n_rects, &selection) &&
              n_rects > 0);
  }
  /* Our caret in the window's page reaches the test. */
  {
    GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
    GtkTextIter start, end;

    gtk_text_buffer_get_iter_at_offset (buffer, &start, 2);
    gtk_text_buffer_get_iter_at_offset (buffer, &end, 6);
    gtk_text_buffer_select_range (buffer, &end, &start);
    WAIT_FOR (room_sees_selection (room, flow_doc_get_id (page), 2, 6));
  }
  flow_test_ui_spin (300);
  flow_test_ui_screenshot (GTK_WIDGET (window), "huddle-window.png");

  /* The test leaves: the window goes back to waiting, no avatar. */
  flow_room_stop (room);
  WAIT_FOR (flow_huddle_get_n_connected (huddle) == 0);
  WAIT_FOR (n_avatars (avatars) == 0 ||
            g_strcmp0 (gtk_label_get_text (GTK_LABEL (status)), "Connected to 1") != 0);
  g_clear_object (&room);
  g_assert_true (flow_workspace_close (joined, &error));
  g_assert_no_error (error);

  /* Closing the window leaves the huddle before the workspace closes. */
  gtk_window_close (GTK_WINDOW (window));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
  flow_test_ui_spin (100);

  flow_test_remove_tree (dir);
}



/* The window's peer as the test's room sees it, with a viewport on @doc
 * at (@x, @y). */
static gboolean
room_sees_pointer (FlowRoom       *room,
                   const FlowOpId *doc,
                   double          x,
                   double          y)
{
  g_autoptr(GPtrArray) peers = flow_room_list_peers (room);

  for (guint i = 0; i < peers->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (peers, i);
      guint want = FLOW_SYNC_PRESENCE_HAS_DOC | FLOW_SYNC_PRESENCE_HAS_VIEWPORT;

      if (peer->has_presence && (peer->presence.presence.flags & want) == want &&
          flow_op_id_equal (&peer->presence.presence.doc, doc) &&
          fabs (peer->presence.presence.x - x) < 1e-6 && fabs (peer->presence.presence.y - y) < 1e-6)
        return TRUE;
    }
  return FALSE;
}

/* Whether @peer's cursor is drawn at board point (@x, @y). */
static gboolean
cursor_at (FlowCanvas *canvas,
           const char *peer,
           double      x,
           double      y)
{
  double wx, wy, want_x, want_y;

  if (!_flow_canvas_get_remote_cursor (canvas, peer, &wx, &wy, NULL))
    return FALSE;
  flow_canvas_board_to_widget (canvas, x, y, &want_x, &want_y);
  return fabs (wx - want_x) < 1e-6 && fabs (wy - want_y) < 1e-6;
}

/* Whether the window's selected tab shows @doc. */
static gboolean
current_doc_is (FlowWindow *window,
                FlowDoc    *doc)
{
  GtkWidget *view = flow_window_get_current_view (window);
  FlowDoc *shown = NULL;

  if (view != NULL && FLOW_IS_BOARD_PAGE (view))
    shown = flow_board_page_get_doc (FLOW_BOARD_PAGE (view));
  else if (view != NULL && FLOW_IS_PAGE_VIEW (view))
    shown = flow_page_view_get_doc (FLOW_PAGE_VIEW (view));
  return shown == doc;
}

/* Whether character @offset of the page is on screen. */
static gboolean
offset_visible (FlowPageView *view,
                guint         offset)
{
  GtkTextView *text = flow_page_view_get_text_view (view);
  GtkTextIter it;
  GdkRectangle where, visible;

  gtk_text_buffer_get_iter_at_offset (gtk_text_view_get_buffer (text), &it, offset);
  gtk_text_view_get_iter_location (text, &it, &where);
  gtk_text_view_get_visible_rect (text, &visible);
  return visible.height > 0 && where.y >= visible.y && where.y + where.height <= visible.y + visible.height;
}

static void
set_board_presence (FlowRoom       *room,
                    const FlowOpId *doc,
                    double          x,
                    double          y,
                    const char     *tool)
{
  g_autoptr(GError) error = NULL;
  FlowSyncFrame frame = { 0 };

  frame.type = FLOW_SYNC_FRAME_PRESENCE;
  frame.presence.flags = FLOW_SYNC_PRESENCE_HAS_DOC | FLOW_SYNC_PRESENCE_HAS_VIEWPORT;
  frame.presence.doc = *doc;
  frame.presence.x = x;
  frame.presence.y = y;
  frame.presence.zoom = 1.0;
  frame.presence.tool = (char *) tool;
  g_assert_true (flow_room_set_presence (room, &frame, &error));
  g_assert_no_error (error);
}

/* Presence both ways on a board, Follow, and edits made while nobody was
 * linked. */
static void
test_huddle_presence (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-huddle-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Studio.flowsync", NULL);
  g_autofree char *joined_path = g_build_filename (dir, "joined.flowsync", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) joined = NULL;
  g_autoptr(FlowRoom) room = NULL;
  FlowWindow *window;
  FlowHuddle *huddle;
  FlowBoardView *view;
  FlowCanvas *canvas;
  FlowDoc *board;
  FlowOpId board_id;
  GtkWidget *status, *button, *follow;
  const char *ada;
  double wx, wy, bx, by;

  window = flow_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_workspace (window) != NULL);
  huddle = flow_window_get_huddle (window);
  status = flow_test_ui_find_named (GTK_WIDGET (window), "huddle-status");
  button = gtk_widget_get_ancestor (status, GTK_TYPE_MENU_BUTTON);
  g_assert_nonnull (button);

  /* A board with a few shapes, made before sharing. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-board", NULL));
  WAIT_FOR (flow_window_get_current_view (window) != NULL);
  view = flow_board_page_get_view (FLOW_BOARD_PAGE (flow_window_get_current_view (window)));
  canvas = flow_board_view_get_canvas (view);
  board = flow_board_page_get_doc (FLOW_BOARD_PAGE (flow_window_get_current_view (window)));
  board_id = *flow_doc_get_id (board);
  flow_test_add_shape (board, "rect", 80, 80, 240, 150);
  flow_test_add_shape (board, "sticky", 420, 120, 200, 140);

  /* Hosting with nobody here: an edit now is not yet shared. */
  flow_test_ui_host (huddle, FLOW_HUDDLE_VIA_NETWORK);
  /* Sharing again invites to the same room: the key stays in the
   * workspace (the port may differ). */
  {
    g_autofree char *first = g_strdup (flow_huddle_get_link (huddle));

    flow_huddle_stop (huddle);
    flow_test_ui_host (huddle, FLOW_HUDDLE_VIA_NETWORK);
    g_assert_nonnull (strstr (first, "/r/"));
    g_assert_cmpstr (strstr (flow_huddle_get_link (huddle), "/r/"), ==, strstr (first, "/r/"));
  }
  g_assert_false (flow_huddle_get_has_unshared (huddle));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (status)), !=, "Not yet shared");
  flow_test_add_shape (board, "ellipse", 200, 330, 180, 120);
  WAIT_FOR (flow_huddle_get_has_unshared (huddle));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (status)), ==, "Not yet shared");
  g_assert_cmpstr (gtk_widget_get_tooltip_text (button), ==, "Edits made offline sync when someone connects");
  flow_test_ui_screenshot (GTK_WIDGET (window), "huddle-not-yet-shared.png");

  /* The test joins: the edits reach it, the status says so. */
  joined = flow_workspace_create (joined_path, &error);
  g_assert_no_error (error);
  room = flow_test_join_loopback (joined, flow_huddle_get_link (huddle), "Ada Lovelace", 0xe01b24ff);
  ada = flow_room_get_peer_id (room);
  WAIT_FOR (!flow_huddle_get_has_unshared (huddle));
  WAIT_FOR (flow_test_ui_find_label (GTK_WIDGET (window), "All changes shared") != NULL);
  WAIT_FOR (g_strcmp0 (gtk_label_get_text (GTK_LABEL (status)), "Connected to 1") == 0);
  WAIT_FOR (flow_test_find_doc (joined, "Untitled Board") != NULL &&
            flow_doc_get_n_ops (flow_test_find_doc (joined, "Untitled Board")) == flow_doc_get_n_ops (board));

  /* The test points at the window's board: its cursor shows there. */
  set_board_presence (room, &board_id, 300, 200, "select");
  WAIT_FOR (cursor_at (canvas, ada, 300, 200));

  /* The window's pointer reaches the test with the board and its board
   * coordinates; a burst of moves ends with the last one. */
  for (int i = 0; i <= 20; i++)
    flow_canvas_hover (canvas, 500 + i * 10, 300 + i * 5);
  flow_canvas_widget_to_board (canvas, 700, 400, &bx, &by);
  WAIT_FOR (room_sees_pointer (room, &board_id, bx, by));

  /* Follow, from the participants popover, until a local zoom. */
  WAIT_FOR ((follow = flow_test_ui_find_type (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button))),
                                 GTK_TYPE_TOGGLE_BUTTON)) != NULL);
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (follow)));
  gtk_menu_button_popup (GTK_MENU_BUTTON (button));
  flow_test_ui_screenshot (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button))), "huddle-popover.png");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (follow), TRUE);
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button)))));
  g_assert_cmpstr (flow_board_view_get_followed (view), ==, ada);
  set_board_presence (room, &board_id, 900, 700, "select");
  WAIT_FOR (_flow_canvas_get_remote_cursor (canvas, ada, &wx, &wy, NULL) &&
            fabs (wx - gtk_widget_get_width (GTK_WIDGET (view)) / 2.0) < 1e-6 &&
            fabs (wy - gtk_widget_get_height (GTK_WIDGET (view)) / 2.0) < 1e-6);

  /* Following goes where the followed participant goes: another board
   * opens and is followed there, a page opens scrolled to its caret (ours
   * stays put), and back on the first board following goes on. */
  {
    FlowWorkspace *ws = flow_window_get_workspace (window);
    FlowDoc *other = flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Second Board", NULL, &error);
    FlowDoc *notes = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Long Notes", NULL, &error);
    g_autoptr(GString) text = g_string_new (NULL);
    FlowSyncFrame frame = { 0 };

    g_assert_no_error (error);
    for (guint i = 0; i < 300; i++)
      g_string_append_printf (text, "Line %u of the notes.\n", i);
    g_assert_true (flow_doc_insert_text (notes, 0, text->str, -1, &error));
    g_assert_no_error (error);

    set_board_presence (room, flow_doc_get_id (other), 100, 100, "select");
    WAIT_FOR (current_doc_is (window, other));
    {
      FlowBoardView *other_view = flow_board_page_get_view (FLOW_BOARD_PAGE (flow_window_get_current_view (window)));
      FlowCanvas *other_canvas = flow_board_view_get_canvas (other_view);

      WAIT_FOR (g_strcmp0 (flow_board_view_get_followed (other_view), ada) == 0);
      WAIT_FOR (_flow_canvas_get_remote_cursor (other_canvas, ada, &wx, &wy, NULL) &&
                fabs (wx - gtk_widget_get_width (GTK_WIDGET (other_view)) / 2.0) < 1e-6);
    }
    g_assert_null (flow_board_view_get_followed (view));

    /* Two moves in a row, faster than a document loads: following ends
     * up on the second, and goes on. */
    {
      FlowDoc *third = flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Third Board", NULL, &error);
      FlowDoc *fourth = flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Fourth Board", NULL, &error);

      g_assert_no_error (error);
      set_board_presence (room, flow_doc_get_id (third), 10, 10, "select");
      set_board_presence (room, flow_doc_get_id (fourth), 20, 20, "select");
      WAIT_FOR (current_doc_is (window, fourth));
      WAIT_FOR (g_strcmp0 (flow_board_view_get_followed (flow_board_page_get_view (
                  FLOW_BOARD_PAGE (flow_window_get_current_view (window)))), ada) == 0);
      flow_test_ui_spin (200);
      g_assert_true (current_doc_is (window, fourth));
    }

    frame.type = FLOW_SYNC_FRAME_PRESENCE;
    frame.presence.flags = FLOW_SYNC_PRESENCE_HAS_DOC | FLOW_SYNC_PRESENCE_HAS_SELECTION;
    frame.presence.doc = *flow_doc_get_id (notes);
    frame.presence.anchor = frame.presence.cursor = flow_doc_get_length (notes) - 30;
    frame.presence.zoom = 1.0;
    g_assert_true (flow_room_set_presence (room, &frame, &error));
    g_assert_no_error (error);
    WAIT_FOR (current_doc_is (window, notes));
    WAIT_FOR (offset_visible (FLOW_PAGE_VIEW (flow_window_get_current_view (window)), frame.presence.cursor));
    {
      GtkTextBuffer *buffer = flow_page_view_get_buffer (FLOW_PAGE_VIEW (flow_window_get_current_view (window)));
      GtkTextIter insert;

      gtk_text_buffer_get_iter_at_mark (buffer, &insert, gtk_text_buffer_get_insert (buffer));
      g_assert_cmpint (gtk_text_iter_get_offset (&insert), ==, 0);
    }
    flow_test_ui_screenshot (GTK_WIDGET (window), "huddle-follow-page.png");

    set_board_presence (room, &board_id, 900, 700, "select");
    WAIT_FOR (current_doc_is (window, board));
    WAIT_FOR (g_strcmp0 (flow_board_view_get_followed (view), ada) == 0);
  }

  /* The popover's list was rebuilt as the participant moved. */
  follow = flow_test_ui_find_type (GTK_WIDGET (gtk_menu_button_get_popover (GTK_MENU_BUTTON (button))),
                                   GTK_TYPE_TOGGLE_BUTTON);
  g_assert_true (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (follow)));
  gtk_widget_activate_action (GTK_WIDGET (view), "canvas.zoom-in", NULL);
  g_assert_null (flow_board_view_get_followed (view));
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (follow)));

  /* Back to a calm position for the picture, with the laser. */
  set_board_presence (room, &board_id, 360, 260, "select");
  WAIT_FOR (cursor_at (canvas, ada, 360, 260));
  flow_test_ui_screenshot (GTK_WIDGET (window), "huddle-presence.png");

  /* The test leaves: its cursor goes. */
  flow_room_stop (room);
  WAIT_FOR (!_flow_canvas_get_remote_cursor (canvas, ada, NULL, NULL, NULL));
  g_clear_object (&room);
  g_assert_true (flow_workspace_close (joined, &error));
  g_assert_no_error (error);

  gtk_window_close (GTK_WINDOW (window));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
  flow_test_ui_spin (100);
  flow_test_remove_tree (dir);
}

static void
test_huddle_join_dialog (void)
{
  FlowJoinDialog *dialog = flow_join_dialog_new (NULL);
  const char *message;

  gtk_window_present (GTK_WINDOW (dialog));
  g_assert_null (flow_join_dialog_get_error (dialog));

  flow_join_dialog_set_link (dialog, "https://example.org/not-a-room");
  g_assert_false (flow_join_dialog_submit (dialog));
  message = flow_join_dialog_get_error (dialog);
  g_assert_nonnull (message);
  g_assert_cmpstr (message, !=, "");
  g_test_message ("bad link: %s", message);

  flow_join_dialog_set_link (dialog, "flowsync://127.0.0.1:9/r/0123#k=tooshort");
  g_assert_null (flow_join_dialog_get_error (dialog));   /* editing clears it */
  g_assert_false (flow_join_dialog_submit (dialog));
  g_assert_nonnull (flow_join_dialog_get_error (dialog));
  flow_test_ui_screenshot (GTK_WIDGET (dialog), "huddle-join-error.png");

  flow_join_dialog_set_link (dialog, "");
  g_assert_false (flow_join_dialog_submit (dialog));
  g_assert_nonnull (flow_join_dialog_get_error (dialog));

  /* An expired link: refused with its date, here and on the command line
   * (flow_huddle_path_for_link() is where `flowsync LINK` starts). */
  {
    g_autoptr(FlowSyncInvite) invite = flow_sync_invite_new ("127.0.0.1", 9, FLOW_SYNC_ROLE_EDIT);
    g_autofree char *link = NULL;
    g_autofree char *path = NULL;
    g_autoptr(GError) error = NULL;

    invite->expires = g_get_real_time () / G_USEC_PER_SEC - 60;
    link = flow_sync_invite_to_string (invite);
    flow_join_dialog_set_link (dialog, link);
    g_assert_false (flow_join_dialog_submit (dialog));
    message = flow_join_dialog_get_error (dialog);
    g_test_message ("expired link: %s", message);
    g_assert_nonnull (strstr (message, "expired on"));
    flow_test_ui_screenshot (GTK_WIDGET (dialog), "huddle-join-expired.png");

    path = flow_huddle_path_for_link (link, &error);
    g_assert_null (path);
    g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_EXPIRED);

    /* Not expired yet: fine. */
    g_clear_error (&error);
    g_clear_pointer (&link, g_free);
    invite->expires = g_get_real_time () / G_USEC_PER_SEC + 3600;
    link = flow_sync_invite_to_string (invite);
    path = flow_huddle_path_for_link (link, &error);
    g_assert_no_error (error);
    g_assert_nonnull (path);
  }
  gtk_window_destroy (GTK_WINDOW (dialog));
}

/* A valid link to a server nobody runs: the window says so and keeps
 * working; no hang. */
static void
test_huddle_unreachable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-huddle-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Lost.flowsync", NULL);
  g_autoptr(FlowSyncInvite) invite = flow_sync_invite_new ("127.0.0.1", 9, FLOW_SYNC_ROLE_EDIT);
  g_autofree char *link = flow_sync_invite_to_string (invite);
  FlowWindow *window;
  FlowHuddle *huddle;

  window = flow_window_new (app);
  flow_window_open (window, path, TRUE);
  flow_window_join (window, link);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_huddle (window) != NULL);
  huddle = flow_window_get_huddle (window);
  WAIT_FOR (flow_huddle_get_problem (huddle) != NULL);
  g_test_message ("unreachable: %s", flow_huddle_get_problem (huddle));
  g_assert_true (flow_huddle_is_active (huddle));
  g_assert_cmpint (flow_huddle_get_state (huddle), !=, FLOW_ROOM_CONNECTED);

  gtk_window_close (GTK_WINDOW (window));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
  flow_test_remove_tree (dir);
}

static void
host_fails_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GError **error = user_data;

  g_assert_false (flow_huddle_host_finish (FLOW_HUDDLE (source), result, error));
  g_assert_nonnull (*error);
}

static void
join_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_huddle_join_finish (FLOW_HUDDLE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

static FlowWindow *
open_window (const char *path)
{
  FlowWindow *window = flow_window_new (app);

  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_huddle (window) != NULL);
  return window;
}


/* The share dialog's expiry goes into the link; Reset Link (confirmed)
 * moves the huddle to a new room key: the participant drops, the old link
 * leads to an empty room that says so, and the new link works. */
static void
test_huddle_reset_link (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-huddle-XXXXXX", NULL);
  g_autofree char *host_path = g_build_filename (dir, "Host.flowsync", NULL);
  g_autofree char *guest_path = g_build_filename (dir, "Guest.flowsync", NULL);
  g_autofree char *old_link = NULL;
  g_autofree char *new_link = NULL;
  g_autoptr(FlowSyncInvite) shown = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowRendezvousConfig) config = flow_rendezvous_config_new ();
  g_autoptr(FlowRendezvousServer) server = NULL;
  g_autofree char *url = NULL;
  GSettings *settings = flow_application_get_settings (app);
  FlowWindow *host, *guest;
  FlowHuddle *host_huddle, *guest_huddle;
  FlowShareDialog *dialog;
  AdwMessageDialog *confirm;
  GtkWidget *expiry, *reset;
  gboolean joined = FALSE;

  /* A rendezvous server that outlives the reset, as a configured one does
   * (the server inside the app restarts with the huddle, and here on a
   * new port). */
  config->port = 0;
  config->stun_enabled = FALSE;
  server = flow_rendezvous_server_new (config);
  g_assert_true (flow_rendezvous_server_start (server, &error));
  g_assert_no_error (error);
  url = flow_rendezvous_url_for_host ("127.0.0.1", flow_rendezvous_server_get_port (server), FALSE);
  g_settings_set_string (settings, "rendezvous-url", url);

  host = open_window (host_path);
  guest = open_window (guest_path);
  host_huddle = flow_window_get_huddle (host);
  guest_huddle = flow_window_get_huddle (guest);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (host), "win.share", NULL));
  WAIT_FOR ((dialog = FLOW_SHARE_DIALOG (flow_test_ui_find_toplevel (FLOW_TYPE_SHARE_DIALOG))) != NULL);
  WAIT_FOR (*flow_share_dialog_get_link (dialog) != '\0');
  old_link = g_strdup (flow_share_dialog_get_link (dialog));
  g_assert_null (strstr (old_link, "exp="));

  /* "In a Day": the link says until when. */
  expiry = flow_test_ui_find_type (GTK_WIDGET (dialog), ADW_TYPE_COMBO_ROW);
  g_assert_nonnull (expiry);
  adw_combo_row_set_selected (ADW_COMBO_ROW (expiry), 2);
  shown = flow_sync_invite_parse (flow_share_dialog_get_link (dialog), &error);
  g_assert_no_error (error);
  g_assert_cmpint (shown->expires, >, g_get_real_time () / G_USEC_PER_SEC + 24 * 3600 - 60);
  g_assert_cmpint (shown->expires, <=, g_get_real_time () / G_USEC_PER_SEC + 24 * 3600);
  g_assert_nonnull (strstr (flow_share_dialog_get_status (dialog), "until"));
  flow_test_ui_screenshot (GTK_WIDGET (dialog), "huddle-share-expiry.png");

  /* The guest joins with the expiring link. */
  flow_huddle_join_async (guest_huddle, flow_share_dialog_get_link (dialog), NULL, join_cb, &joined);
  WAIT_FOR (joined);
  WAIT_FOR (flow_huddle_get_n_connected (host_huddle) == 1 && flow_huddle_get_n_connected (guest_huddle) == 1);
  g_assert_null (flow_huddle_get_problem (guest_huddle));

  /* Reset, confirmed: a new room; the guest is dropped. */
  reset = flow_test_ui_find_named (GTK_WIDGET (dialog), "share-reset");
  g_assert_nonnull (reset);
  gtk_widget_activate (reset);
  WAIT_FOR ((confirm = ADW_MESSAGE_DIALOG (flow_test_ui_find_toplevel (ADW_TYPE_MESSAGE_DIALOG))) != NULL);
  flow_test_ui_screenshot (GTK_WIDGET (confirm), "huddle-reset-confirm.png");
  adw_message_dialog_response (confirm, "reset");
  WAIT_FOR (*flow_share_dialog_get_link (dialog) != '\0' &&
            strstr (flow_share_dialog_get_link (dialog), strstr (old_link, "/r/")) == NULL &&
            flow_huddle_get_link (host_huddle) != NULL);
  WAIT_FOR (g_strcmp0 (flow_share_dialog_get_status (dialog), "This is a new link; earlier links no longer work") == 0);
  new_link = g_strdup (flow_huddle_get_link (host_huddle));
  g_assert_cmpstr (strstr (new_link, "/r/"), !=, strstr (old_link, "/r/"));
  /* The guest was asked to leave the old room, and told why. */
  WAIT_FOR (!flow_huddle_is_active (guest_huddle));
  g_assert_nonnull (flow_huddle_get_problem (guest_huddle));
  g_test_message ("guest after the reset: %s", flow_huddle_get_problem (guest_huddle));
  g_assert_nonnull (strstr (flow_huddle_get_problem (guest_huddle), "reset the invite link"));
  flow_test_ui_screenshot (GTK_WIDGET (guest), "huddle-guest-after-reset.png");
  WAIT_FOR (flow_huddle_get_n_connected (host_huddle) == 0);

  /* Only a host resets a link. */
  {
    g_autoptr(GError) reset_error = NULL;
    gboolean failed = FALSE;

    flow_huddle_reset_link_async (guest_huddle, NULL, host_fails_cb, &reset_error);
    WAIT_FOR (reset_error != NULL);
    failed = g_error_matches (reset_error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_assert_true (failed);
  }

  /* The old link still parses, but leads to an empty room: said so. */
  joined = FALSE;
  flow_huddle_join_async (guest_huddle, old_link, NULL, join_cb, &joined);
  WAIT_FOR (joined);
  WAIT_FOR (flow_huddle_get_problem (guest_huddle) != NULL);
  g_test_message ("old link: %s", flow_huddle_get_problem (guest_huddle));
  g_assert_nonnull (strstr (flow_huddle_get_problem (guest_huddle), "may have reset the link"));
  g_assert_true (flow_huddle_is_active (guest_huddle));

  /* The new link works, and the notice goes. */
  joined = FALSE;
  flow_huddle_join_async (guest_huddle, new_link, NULL, join_cb, &joined);
  WAIT_FOR (joined);
  WAIT_FOR (flow_huddle_get_n_connected (host_huddle) == 1 && flow_huddle_get_n_connected (guest_huddle) == 1);
  g_assert_null (flow_huddle_get_problem (guest_huddle));

  /* Sharing again later keeps the new room. */
  {
    g_autofree char *room = g_strdup (strstr (new_link, "/r/"));

    flow_test_ui_host (host_huddle, FLOW_HUDDLE_VIA_SERVER);
    g_assert_cmpstr (strstr (flow_huddle_get_link (host_huddle), "/r/"), ==, room);
  }

  gtk_window_close (GTK_WINDOW (dialog));
  gtk_window_close (GTK_WINDOW (guest));
  gtk_window_close (GTK_WINDOW (host));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
  flow_test_ui_spin (100);
  g_settings_reset (settings, "rendezvous-url");
  flow_rendezvous_server_stop (server);
  flow_test_remove_tree (dir);
}

/* "Hide my network address" with no TURN server to hide behind is said
 * when sharing starts; a TURN server outside this machine is never asked
 * under FLOWSYNC_LOOPBACK, so it counts as none. */
static void
test_huddle_relay_only_needs_turn (void)
{
  GSettings *settings = flow_application_get_settings (app);
  g_autofree char *dir = g_dir_make_tmp ("flow-huddle-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Hidden.flowsync", NULL);
  const char *turns[] = { "", "turn.example.org:3478" };
  FlowWindow *window;
  FlowHuddle *huddle;

  window = flow_window_new (app);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_huddle (window) != NULL);
  huddle = flow_window_get_huddle (window);

  g_settings_set_boolean (settings, "relay-only", TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (turns); i++)
    {
      g_autoptr(GError) error = NULL;

      g_settings_set_string (settings, "turn-server", turns[i]);
      flow_huddle_host_async (huddle, FLOW_HUDDLE_VIA_NETWORK, NULL, host_fails_cb, &error);
      WAIT_FOR (error != NULL);
      g_test_message ("relay-only, TURN \"%s\": %s", turns[i], error->message);
      g_assert_nonnull (strstr (error->message, "needs a TURN server"));
      g_assert_false (flow_huddle_is_active (huddle));
    }
  g_settings_reset (settings, "relay-only");
  g_settings_reset (settings, "turn-server");

  gtk_window_close (GTK_WINDOW (window));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
  flow_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;
  g_autofree char *xdg = NULL;

  /* Everything on 127.0.0.1: the embedded server and ICE (flow-huddle.c). */
  g_setenv ("FLOWSYNC_LOOPBACK", "1", TRUE);
  xdg = flow_test_ui_init (&argc, &argv, "huddle");

  app = flow_test_ui_app_new ();

  g_test_add_func ("/flow/huddle/host-and-join", test_huddle_host_and_join);
  g_test_add_func ("/flow/huddle/presence", test_huddle_presence);
  g_test_add_func ("/flow/huddle/join-dialog", test_huddle_join_dialog);
  g_test_add_func ("/flow/huddle/unreachable", test_huddle_unreachable);
  g_test_add_func ("/flow/huddle/relay-only-needs-turn", test_huddle_relay_only_needs_turn);
  g_test_add_func ("/flow/huddle/reset-link", test_huddle_reset_link);

  ret = g_test_run ();
  g_clear_object (&app);
  flow_test_remove_tree (xdg);
  return ret;
}
