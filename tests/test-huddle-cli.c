/* test-huddle-cli.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The app together with a `flowsync-cli` headless peer, under Xvfb. The
 * CLI prepares a workspace of its own (a page with text, a chat message);
 * a window hosts a huddle on 127.0.0.1 (FLOWSYNC_LOOPBACK=1) and
 * `flowsync-cli join` joins it as a separate process, the way a user runs
 * an always-on peer on a server. Both ways: the CLI's page and chat reach
 * the window, the header says "Connected to 1", and what the window types
 * live lands in the CLI's file once SIGTERM made it flush and exit 0 —
 * checked with `flowsync-cli export`, so nothing of the app's own code
 * reads that file. A screenshot of the window mid-huddle lands in
 * FLOWSYNC_SCREENSHOT_DIR.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "flow-application.h"
#include "flow-catalog.h"
#include "flow-chat.h"
#include "flow-huddle.h"
#include "flow-test-sync.h"
#include "flow-test-ui.h"
#include "flow-test-util.h"
#include "flow-window.h"


static FlowApplication *app;




/* The joined CLI peer, its standard error read line by line into the log
 * until it closes. */
typedef struct
{
  GSubprocess      *proc;
  GDataInputStream *err;
  gboolean          err_closed;
  gboolean          exited;
} CliPeer;

static void
read_err_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  CliPeer *peer = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, NULL);

  if (line == NULL)
    {
      peer->err_closed = TRUE;
      return;
    }
  g_test_message ("cli: %s", line);
  g_data_input_stream_read_line_async (peer->err, G_PRIORITY_DEFAULT, NULL, read_err_cb, peer);
}

static void
waited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  CliPeer *peer = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  peer->exited = TRUE;
}



static gboolean
chat_has (FlowWorkspace *ws,
          const char    *author,
          const char    *text)
{
  FlowDoc *chat = flow_workspace_load_document (ws, &FLOW_CHAT_DOC_ID, NULL);
  g_autoptr(GArray) messages = NULL;
  gboolean found = FALSE;

  if (chat == NULL)
    return FALSE;
  messages = flow_chat_list (chat);
  for (guint i = 0; i < messages->len; i++)
    {
      FlowChatMessage *m = &g_array_index (messages, FlowChatMessage, i);

      if (g_strcmp0 (m->author, author) == 0 && g_strcmp0 (m->text, text) == 0)
        found = TRUE;
    }
  for (guint i = 0; i < messages->len; i++)
    flow_chat_message_clear (&g_array_index (messages, FlowChatMessage, i));
  return found;
}

static void
test_huddle_cli_peer (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-huddle-cli-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Team.flowsync", NULL);
  g_autofree char *cli_path = g_build_filename (dir, "robot.flowsync", NULL);
  g_autofree char *out = NULL;
  g_autofree char *link = NULL;
  g_autoptr(GError) error = NULL;
  CliPeer peer = { 0 };
  FlowWorkspace *ws;
  FlowWindow *window;
  FlowHuddle *huddle;
  FlowDoc *page;
  GtkWidget *status;

  /* The CLI's own workspace, made with the CLI alone. */
  g_assert_cmpint (flow_test_run_cli (NULL, NULL, "init", cli_path, NULL), ==, 0);
  g_assert_cmpint (flow_test_run_cli (NULL, NULL, "new", "page", "From CLI", "-w", cli_path, NULL), ==, 0);
  g_assert_cmpint (flow_test_run_cli (NULL, NULL, "edit-page", "From CLI", "--insert", "0", "typed headless", "-w", cli_path, NULL), ==, 0);
  g_assert_cmpint (flow_test_run_cli (NULL, NULL, "chat", "--post", "hello from the cli", "--name", "Robot", "-w", cli_path, NULL), ==, 0);

  /* A window on a fresh workspace with a page of its own, on screen. */
  window = flow_window_new (app);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 700);
  flow_window_open (window, path, TRUE);
  gtk_window_present (GTK_WINDOW (window));
  WAIT_FOR (flow_window_get_workspace (window) != NULL);
  ws = flow_window_get_workspace (window);
  page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "From App", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (page);
  g_assert_true (flow_doc_insert_text (page, 0, "# From App\n\nWritten in the window.\n", -1, &error));
  g_assert_no_error (error);
  flow_window_open_document (window, flow_doc_get_id (page));
  WAIT_FOR (flow_window_get_current_view (window) != NULL);
  status = flow_test_ui_find_named (GTK_WIDGET (window), "huddle-status");
  g_assert_nonnull (status);

  /* The window hosts on this network: 127.0.0.1 under FLOWSYNC_LOOPBACK. */
  huddle = flow_window_get_huddle (window);
  g_assert_nonnull (huddle);
  flow_test_ui_host (huddle, FLOW_HUDDLE_VIA_NETWORK);
  link = g_strdup (flow_huddle_get_link (huddle));
  g_assert_true (g_str_has_prefix (link, "flowsync://127.0.0.1:"));

  /* The headless peer joins as a process of its own. Standard output is
   * silenced: it must not mix with this test's TAP stream. */
  peer.proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                g_getenv ("FLOWSYNC_CLI"), "join", link, cli_path,
                                "--loopback", "--name", "Robot", NULL);
  g_assert_no_error (error);
  peer.err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (peer.proc));
  g_data_input_stream_read_line_async (peer.err, G_PRIORITY_DEFAULT, NULL, read_err_cb, &peer);
  g_subprocess_wait_async (peer.proc, NULL, waited_cb, &peer);

  /* The CLI's page and chat reach the window; the header counts it. */
  WAIT_FOR (flow_test_page_has (ws, "From CLI", "typed headless") || peer.exited);
  g_assert_false (peer.exited);
  WAIT_FOR (chat_has (ws, "Robot", "hello from the cli"));
  WAIT_FOR (flow_huddle_get_n_connected (huddle) == 1);
  WAIT_FOR (g_strcmp0 (gtk_label_get_text (GTK_LABEL (status)), "Connected to 1") == 0);

  /* Typed live in the window, while the CLI is linked. */
  g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page),
                                       "Typed live while the robot listens.\n", -1, &error));
  g_assert_no_error (error);
  flow_test_ui_spin (1000);
  flow_test_ui_screenshot (GTK_WIDGET (window), "huddle-cli.png");

  /* SIGTERM: the CLI says goodbye, flushes its workspace and exits 0;
   * the window sees it leave. */
  g_assert_false (peer.exited);
  g_subprocess_send_signal (peer.proc, SIGTERM);
  WAIT_FOR (peer.exited);
  g_assert_true (g_subprocess_get_if_exited (peer.proc));
  g_assert_cmpint (g_subprocess_get_exit_status (peer.proc), ==, 0);
  WAIT_FOR (peer.err_closed);
  WAIT_FOR (flow_huddle_get_n_connected (huddle) == 0);

  /* What the CLI kept: the window's page, with the live text. */
  g_assert_cmpint (flow_test_run_cli (&out, NULL, "export", "From App", "--format", "md", "-w", cli_path, NULL),
                   ==, 0);
  g_test_message ("exported from the CLI's workspace:\n%s", out);
  g_assert_nonnull (strstr (out, "Written in the window."));
  g_assert_nonnull (strstr (out, "Typed live while the robot listens."));

  g_clear_object (&peer.err);
  g_clear_object (&peer.proc);
  gtk_window_close (GTK_WINDOW (window));
  WAIT_FOR (g_list_length (gtk_application_get_windows (GTK_APPLICATION (app))) == 0);
  flow_test_ui_spin (100);
  flow_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;
  g_autofree char *xdg = NULL;

  /* Everything on 127.0.0.1: the embedded server and ICE (flow-huddle.c).
   * The CLI child inherits it; it is told --loopback as well. */
  g_setenv ("FLOWSYNC_LOOPBACK", "1", TRUE);
  xdg = flow_test_ui_init (&argc, &argv, "huddle-cli");

  app = flow_test_ui_app_new ();

  g_test_add_func ("/flow/huddle-cli/peer", test_huddle_cli_peer);

  ret = g_test_run ();
  g_clear_object (&app);
  flow_test_remove_tree (xdg);
  return ret;
}
