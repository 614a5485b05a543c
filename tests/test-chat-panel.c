/* test-chat-panel.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The huddle chat panel in a real window, under Xvfb. Posting through the
 * entry puts the message in the workspace's chat document and in the list
 * (and on disk: it survives reopening); a blank or over-long message is
 * refused; a message made by another replica and applied to the document
 * appears in order; mentions of our name from others while the window is
 * inactive ask for a desktop notification (observed through the panel's
 * "notification" signal, stopped before the window sends it), ours and
 * those seen while active do not; messages count as unread while the
 * panel is closed; the list follows new messages unless scrolled up;
 * switching workspaces switches the chat. Over a real huddle (loopback
 * libnice, as test-huddle.c): a participant joining is announced, its
 * messages arrive, ours reach it. Screenshots in FLOWSYNC_SCREENSHOT_DIR.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "flow-application.h"
#include "flow-chat.h"
#include "flow-chat-panel.h"
#include "flow-huddle.h"
#include "flow-link-nice.h"
#include "flow-room.h"
#include "flow-signaling-rendezvous.h"
#include "flow-test-sync.h"
#include "flow-test-ui.h"
#include "flow-test-util.h"
#include "flow-window.h"


static FlowApplication *app;



/* Waits up to @ms for @check; says whether it came. */



/* The header bar's Chat toggle: the one whose tooltip says so. */
static gboolean
is_chat_button (GtkWidget     *widget,
                gconstpointer  data)
{
  return GTK_IS_TOGGLE_BUTTON (widget) &&
         g_str_has_prefix (gtk_widget_get_tooltip_text (widget) ?: "", "Huddle Chat");
}

static GtkWidget *
find_chat_button (GtkWidget *root)
{
  return flow_test_ui_find (root, is_chat_button, NULL);
}

/* What the panel asked to notify. With a session bus the emission is
 * stopped, so the window sends nothing to the desktop of whoever runs the
 * tests; without one (CI) the window's sending runs too, and must drop
 * it quietly. */
typedef struct
{
  guint  n;
  char  *id;
  char  *title;
  char  *body;
} Notified;

static void
notification_cb (FlowChatPanel *panel,
                 const char    *id,
                 const char    *title,
                 const char    *body,
                 Notified      *seen)
{
  seen->n++;
  g_free (seen->id);
  g_free (seen->title);
  g_free (seen->body);
  seen->id = g_strdup (id);
  seen->title = g_strdup (title);
  seen->body = g_strdup (body);
  if (g_application_get_dbus_connection (G_APPLICATION (app)) != NULL)
    g_signal_stop_emission_by_name (panel, "notification");
}

static void
notified_clear (Notified *seen)
{
  g_free (seen->id);
  g_free (seen->title);
  g_free (seen->body);
}

static gboolean
is_active (gpointer window)
{
  return gtk_window_is_active (window);
}

static gboolean
is_inactive (gpointer window)
{
  return !gtk_window_is_active (window);
}

/* Another window takes the focus (Xvfb runs no window manager, so a
 * presented window gets it), leaving @window in the background. */
static GtkWidget *
cover (GtkWindow *window)
{
  GtkWidget *other = gtk_window_new ();

  gtk_window_set_default_size (GTK_WINDOW (other), 200, 100);
  gtk_window_present (GTK_WINDOW (other));
  if (!flow_test_ui_wait (is_inactive, window, 5000))
    g_error ("the window stays active behind another one");
  return other;
}

static FlowWindow *
open_window (const char *path)
{
  FlowWindow *window = flow_window_new (app);

  gtk_window_set_default_size (GTK_WINDOW (window), 1200, 680);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_workspace (window) != NULL);
  return window;
}

static void
close_window (FlowWindow *window)
{
  gtk_window_close (GTK_WINDOW (window));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
}

/* Posts @text as @author on @other and hands the new ops to @chat, as
 * the room does with a peer's batch. */
static void
arrive (FlowDoc    *chat,
        FlowDoc    *other,
        const char *author,
        guint32     color,
        const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) version = flow_doc_dup_version (chat);
  g_autoptr(GBytes) batch = NULL;

  g_assert_true (flow_chat_post (other, author, color, text, g_get_real_time (), NULL, &error));
  g_assert_no_error (error);
  batch = flow_doc_encode_since (other, version);
  g_assert_nonnull (batch);
  g_assert_true (flow_doc_apply (chat, batch, &error));
  g_assert_no_error (error);
}

static void
type_and_send (FlowChatPanel *panel,
               const char    *text)
{
  GtkEntry *entry = flow_chat_panel_get_entry (panel);

  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  /* Enter in the entry. */
  g_signal_emit_by_name (entry, "activate");
}

static gboolean
scrolled_to_bottom (gpointer data)
{
  GtkAdjustment *adj = data;

  return gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) >=
         gtk_adjustment_get_upper (adj) - 1;
}

static void
test_chat_panel_window (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-chat-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Team.flowsync", NULL);
  g_autofree char *other_path = g_build_filename (dir, "Other.flowsync", NULL);
  g_autofree char *long_text = g_strnfill (FLOW_CHAT_TEXT_MAX + 1, 'a');
  GSettings *settings = flow_application_get_settings (app);
  g_autoptr(FlowDoc) grace = flow_doc_new (FLOW_DOC_KIND_CHAT, &FLOW_CHAT_DOC_ID, 4242);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) list = NULL;
  Notified seen = { 0 };
  FlowWindow *window;
  FlowChatPanel *panel;
  GtkToggleButton *chat_button;
  GtkWidget *send_button, *badge, *cover_window;
  GtkAdjustment *adj;
  FlowDoc *chat;
  gboolean can_be_active;

  g_settings_set_string (settings, "display-name", "Ada");
  g_settings_set_string (settings, "user-color", "#3584e4");

  window = open_window (path);
  panel = FLOW_CHAT_PANEL (flow_test_ui_find_type (GTK_WIDGET (window), FLOW_TYPE_CHAT_PANEL));
  g_assert_nonnull (panel);
  g_signal_connect (panel, "notification", G_CALLBACK (notification_cb), &seen);
  chat_button = GTK_TOGGLE_BUTTON (find_chat_button (GTK_WIDGET (window)));
  g_assert_nonnull (chat_button);
  badge = flow_test_ui_find_type (GTK_WIDGET (chat_button), GTK_TYPE_LABEL);
  g_assert_nonnull (badge);
  WAIT_FOR ((chat = flow_chat_panel_get_doc (panel)) != NULL);
  send_button = flow_chat_panel_get_send_button (panel);
  g_assert_cmpuint (flow_chat_panel_get_n_messages (panel), ==, 0);

  /* The panel opens from the header bar (here through its action). */
  g_assert_false (flow_chat_panel_get_open (panel));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-chat", NULL));
  g_assert_true (flow_chat_panel_get_open (panel));
  g_assert_true (gtk_toggle_button_get_active (chat_button));

  /* Empty and blank text cannot be sent. */
  g_assert_false (gtk_widget_get_sensitive (send_button));
  gtk_editable_set_text (GTK_EDITABLE (flow_chat_panel_get_entry (panel)), "   ");
  g_assert_false (gtk_widget_get_sensitive (send_button));
  g_signal_emit_by_name (flow_chat_panel_get_entry (panel), "activate");
  g_assert_cmpuint (flow_doc_get_n_ops (chat), ==, 0);

  /* Enter sends, as our display name and colour; the entry empties. */
  gtk_editable_set_text (GTK_EDITABLE (flow_chat_panel_get_entry (panel)), "Morning! Plan review at ten?");
  g_assert_true (gtk_widget_get_sensitive (send_button));
  g_signal_emit_by_name (flow_chat_panel_get_entry (panel), "activate");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (flow_chat_panel_get_entry (panel))), ==, "");
  list = flow_chat_list (chat);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (g_array_index (list, FlowChatMessage, 0).author, ==, "Ada");
  g_assert_cmpuint (g_array_index (list, FlowChatMessage, 0).color, ==, 0x3584e4ff);
  g_assert_cmpstr (g_array_index (list, FlowChatMessage, 0).text, ==, "Morning! Plan review at ten?");
  g_clear_pointer (&list, g_array_unref);
  g_assert_cmpuint (flow_chat_panel_get_n_messages (panel), ==, 1);
  g_assert_cmpstr (gtk_label_get_text (flow_chat_panel_get_message_label (panel, 0)), ==,
                   "Morning! Plan review at ten?");
  g_assert_true (gtk_label_get_selectable (flow_chat_panel_get_message_label (panel, 0)));
  g_assert_null (flow_chat_panel_get_problem (panel));

  /* Over 16 KiB: refused, with the reason, and nothing posted. */
  gtk_editable_set_text (GTK_EDITABLE (flow_chat_panel_get_entry (panel)), long_text);
  g_assert_false (gtk_widget_get_sensitive (send_button));
  g_assert_nonnull (flow_chat_panel_get_problem (panel));
  g_assert_nonnull (strstr (flow_chat_panel_get_problem (panel), "16 KiB"));
  g_signal_emit_by_name (flow_chat_panel_get_entry (panel), "activate");
  g_assert_cmpuint (flow_chat_panel_get_n_messages (panel), ==, 1);
  g_assert_false (flow_chat_panel_post (panel, long_text, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);
  gtk_editable_set_text (GTK_EDITABLE (flow_chat_panel_get_entry (panel)), "");
  g_assert_null (flow_chat_panel_get_problem (panel));

  /* Another replica's message, applied to the document as the room
   * does, appears in the list after ours. */
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "Ten works. I'll bring the board.");
  g_assert_cmpuint (flow_chat_panel_get_n_messages (panel), ==, 2);
  g_assert_cmpstr (gtk_label_get_text (flow_chat_panel_get_message_label (panel, 1)), ==,
                   "Ten works. I'll bring the board.");
  /* The panel was open: nothing unread; the window is active: no
   * notification even for a mention. */
  g_assert_cmpuint (flow_chat_panel_get_n_unread (panel), ==, 0);
  can_be_active = flow_test_ui_wait (is_active, window, 5000);
  if (can_be_active)
    {
      arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "@Ada the sticky notes are yours");
      g_assert_cmpuint (seen.n, ==, 0);
    }
  else
    g_test_message ("the window never became active here: the active case is not checked");

  /* Behind another window: a mention rings, once, with a clear title
   * and the text; other messages and our own mentions do not. */
  cover_window = cover (GTK_WINDOW (window));
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "Does anyone have the slides?");
  g_assert_cmpuint (seen.n, ==, 0);
  type_and_send (panel, "Reminding myself, @Ada: slides");
  g_assert_cmpuint (seen.n, ==, 0);
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "@ada could you share the slides?");
  g_assert_cmpuint (seen.n, ==, 1);
  g_assert_cmpstr (seen.id, ==, FLOW_CHAT_NOTIFICATION_MENTION);
  g_assert_cmpstr (seen.title, ==, "Grace Hopper mentioned you");
  g_assert_cmpstr (seen.body, ==, "@ada could you share the slides?");
  /* "@Adam" is someone else. */
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "@Adam too");
  g_assert_cmpuint (seen.n, ==, 1);
  gtk_window_destroy (GTK_WINDOW (cover_window));

  /* Closed panel: messages from others count as unread on the button;
   * opening it reads them. */
  gtk_toggle_button_set_active (chat_button, FALSE);
  g_assert_false (flow_chat_panel_get_open (panel));
  g_assert_false (gtk_widget_get_visible (badge));
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "Uploaded them.");
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "Page “Slides”.");
  g_assert_cmpuint (flow_chat_panel_get_n_unread (panel), ==, 2);
  g_assert_true (gtk_widget_get_visible (badge));
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (badge)), ==, "2");
  type_and_send (panel, "Thanks!");
  g_assert_cmpuint (flow_chat_panel_get_n_unread (panel), ==, 2);
  gtk_toggle_button_set_active (chat_button, TRUE);
  g_assert_true (flow_chat_panel_get_open (panel));
  g_assert_cmpuint (flow_chat_panel_get_n_unread (panel), ==, 0);
  g_assert_false (gtk_widget_get_visible (badge));

  /* Scrolling: the list follows new messages at the bottom, and stays
   * put once the user scrolled up. */
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *text = g_strdup_printf ("Note %u: long enough to take a line or two of the panel's width.", i);

      arrive (chat, grace, "Grace Hopper", 0xe01b24ff, text);
    }
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (flow_test_ui_find_type (GTK_WIDGET (panel), GTK_TYPE_SCROLLED_WINDOW)));
  WAIT_FOR (gtk_adjustment_get_upper (adj) > gtk_adjustment_get_page_size (adj) + 100);
  WAIT_FOR (scrolled_to_bottom (adj));
  gtk_adjustment_set_value (adj, 0);
  flow_test_ui_spin (50);
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "One more, while you read.");
  flow_test_ui_spin (200);
  g_assert_cmpfloat (gtk_adjustment_get_value (adj), ==, 0);
  /* Our own message brings the list down again. */
  type_and_send (panel, "Back at the bottom.");
  WAIT_FOR (scrolled_to_bottom (adj));
  arrive (chat, grace, "Grace Hopper", 0xe01b24ff, "Welcome back.");
  WAIT_FOR (scrolled_to_bottom (adj) &&
            gtk_adjustment_get_upper (adj) > gtk_adjustment_get_page_size (adj) + 100);

  /* The list is in (time, id) order, as flow_chat_list() gives it. */
  list = flow_chat_list (chat);
  g_assert_cmpuint (flow_chat_panel_get_n_messages (panel), ==, list->len);
  for (guint i = 0; i < list->len; i++)
    g_assert_cmpstr (gtk_label_get_text (flow_chat_panel_get_message_label (panel, i)), ==,
                     g_array_index (list, FlowChatMessage, i).text);
  g_clear_pointer (&list, g_array_unref);

  /* Another workspace: its chat, then back. */
  {
    g_autoptr(FlowWorkspace) other = flow_workspace_create (other_path, &error);
    FlowDoc *other_chat;

    g_assert_no_error (error);
    other_chat = flow_workspace_load_document (other, &FLOW_CHAT_DOC_ID, &error);
    g_assert_no_error (error);
    g_assert_true (flow_chat_post (other_chat, "Bo", 0x2ec27eff, "Other workspace", g_get_real_time (), NULL, &error));
    flow_chat_panel_set_workspace (panel, other);
    WAIT_FOR (flow_chat_panel_get_doc (panel) == other_chat);
    g_assert_cmpuint (flow_chat_panel_get_n_messages (panel), ==, 1);
    g_assert_cmpstr (gtk_label_get_text (flow_chat_panel_get_message_label (panel, 0)), ==, "Other workspace");
    flow_chat_panel_set_workspace (panel, flow_window_get_workspace (window));
    WAIT_FOR (flow_chat_panel_get_doc (panel) == chat);
    g_assert_true (flow_workspace_close (other, &error));
    g_assert_no_error (error);
  }

  /* A short chat for the screenshot, two authors, a page open. */
  {
    g_autoptr(FlowDoc) fresh = flow_doc_new (FLOW_DOC_KIND_CHAT, &FLOW_CHAT_DOC_ID, 5151);
    g_autoptr(FlowWorkspace) shot = NULL;
    g_autofree char *shot_path = g_build_filename (dir, "Shot.flowsync", NULL);
    FlowDoc *shot_chat;

    shot = flow_workspace_create (shot_path, &error);
    g_assert_no_error (error);
    shot_chat = flow_workspace_load_document (shot, &FLOW_CHAT_DOC_ID, &error);
    g_assert_no_error (error);
    flow_chat_panel_set_workspace (panel, shot);
    WAIT_FOR (flow_chat_panel_get_doc (panel) == shot_chat);
    type_and_send (panel, "Morning! Shall we go through the launch plan at ten?");
    arrive (shot_chat, fresh, "Grace Hopper", 0xe01b24ff, "Ten works. I'll sketch the timeline on the board first.");
    type_and_send (panel, "Great. @Grace can you add the QA milestones too?");
    arrive (shot_chat, fresh, "Grace Hopper", 0xe01b24ff, "Sure — done in a minute.");
    arrive (shot_chat, fresh, "Bo", 0xf6d32dff, "Joining in five, reading the page now.");
    g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.new-page", NULL));
    WAIT_FOR (flow_window_get_current_view (window) != NULL);
    flow_test_ui_spin (400);
    flow_test_ui_screenshot (GTK_WIDGET (window), "chat-panel.png");
    flow_chat_panel_set_workspace (panel, flow_window_get_workspace (window));
    WAIT_FOR (flow_chat_panel_get_doc (panel) == chat);
    g_assert_true (flow_workspace_close (shot, &error));
    g_assert_no_error (error);
  }

  /* What was said is in the workspace file. */
  {
    guint n = flow_chat_panel_get_n_messages (panel);
    g_autoptr(FlowWorkspace) again = NULL;
    FlowDoc *stored;

    close_window (window);
    again = flow_workspace_open (path, &error);
    g_assert_no_error (error);
    stored = flow_workspace_load_document (again, &FLOW_CHAT_DOC_ID, &error);
    g_assert_no_error (error);
    list = flow_chat_list (stored);
    g_assert_cmpuint (list->len, ==, n);
    g_assert_cmpstr (g_array_index (list, FlowChatMessage, 0).text, ==, "Morning! Plan review at ten?");
    g_clear_pointer (&list, g_array_unref);
    g_assert_true (flow_workspace_close (again, &error));
    g_assert_no_error (error);
  }

  g_settings_reset (settings, "display-name");
  g_settings_reset (settings, "user-color");
  notified_clear (&seen);
  flow_test_remove_tree (dir);
}



static gboolean
chat_has (FlowDoc    *chat,
          const char *text)
{
  g_autoptr(GArray) list = flow_chat_list (chat);

  for (guint i = 0; i < list->len; i++)
    if (g_strcmp0 (g_array_index (list, FlowChatMessage, i).text, text) == 0)
      return TRUE;
  return FALSE;
}

/* Over a real huddle: a participant joining while the window is in the
 * background is announced; what it says arrives in the panel (and rings
 * when it mentions us); what we post reaches it. */
static void
test_chat_panel_huddle (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-chat-huddle-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Team.flowsync", NULL);
  g_autofree char *joined_path = g_build_filename (dir, "Joined.flowsync", NULL);
  GSettings *settings = flow_application_get_settings (app);
  g_autoptr(FlowWorkspace) joined = NULL;
  g_autoptr(FlowRoom) room = NULL;
  g_autoptr(GError) error = NULL;
  Notified seen = { 0 };
  FlowWindow *window;
  FlowChatPanel *panel;
  FlowHuddle *huddle;
  FlowDoc *their_chat;
  GtkWidget *cover_window;

  g_settings_set_string (settings, "display-name", "Ada");
  window = open_window (path);
  panel = FLOW_CHAT_PANEL (flow_test_ui_find_type (GTK_WIDGET (window), FLOW_TYPE_CHAT_PANEL));
  g_signal_connect (panel, "notification", G_CALLBACK (notification_cb), &seen);
  WAIT_FOR (flow_chat_panel_get_doc (panel) != NULL);
  WAIT_FOR ((huddle = flow_window_get_huddle (window)) != NULL);
  g_assert_true (flow_chat_panel_post (panel, "Said before anyone came", &error));
  g_assert_no_error (error);

  flow_test_ui_host (huddle, FLOW_HUDDLE_VIA_NETWORK);
  cover_window = cover (GTK_WINDOW (window));

  /* Grace joins: one notification, saying who. */
  joined = flow_workspace_create (joined_path, &error);
  g_assert_no_error (error);
  room = flow_test_join_loopback (joined, flow_huddle_get_link (huddle), "Grace Hopper", 0xe01b24ff);
  WAIT_FOR (flow_huddle_get_n_connected (huddle) == 1);
  WAIT_FOR (seen.n == 1);
  g_assert_cmpstr (seen.id, ==, FLOW_CHAT_NOTIFICATION_JOINED);
  g_assert_cmpstr (seen.title, ==, "Grace Hopper joined the huddle");

  /* She catches up on the chat, and what she says arrives, a mention
   * ringing. */
  their_chat = flow_workspace_load_document (joined, &FLOW_CHAT_DOC_ID, &error);
  g_assert_no_error (error);
  WAIT_FOR (chat_has (their_chat, "Said before anyone came"));
  g_assert_true (flow_chat_post (their_chat, "Grace Hopper", 0xe01b24ff, "@Ada I'm in", g_get_real_time (), NULL, &error));
  g_assert_no_error (error);
  WAIT_FOR (flow_chat_panel_get_n_messages (panel) == 2);
  g_assert_cmpstr (gtk_label_get_text (flow_chat_panel_get_message_label (panel, 1)), ==, "@Ada I'm in");
  WAIT_FOR (seen.n == 2);
  g_assert_cmpstr (seen.id, ==, FLOW_CHAT_NOTIFICATION_MENTION);
  g_assert_cmpuint (flow_chat_panel_get_n_unread (panel), ==, 1);

  /* Ours reaches her. */
  type_and_send (panel, "Welcome, Grace");
  WAIT_FOR (chat_has (their_chat, "Welcome, Grace"));
  g_assert_cmpuint (seen.n, ==, 2);

  gtk_window_destroy (GTK_WINDOW (cover_window));
  flow_room_stop (room);
  g_clear_object (&room);
  g_assert_true (flow_workspace_close (joined, &error));
  g_assert_no_error (error);
  close_window (window);
  g_settings_reset (settings, "display-name");
  notified_clear (&seen);
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
  xdg = flow_test_ui_init (&argc, &argv, "chat");

  app = flow_test_ui_app_new ();

  g_test_add_func ("/flow/chat-panel/window", test_chat_panel_window);
  g_test_add_func ("/flow/chat-panel/huddle", test_chat_panel_huddle);

  ret = g_test_run ();
  g_clear_object (&app);
  flow_test_remove_tree (xdg);
  return ret;
}
