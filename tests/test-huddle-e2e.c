/* test-huddle-e2e.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A huddle between two instances of the app, end to end, under Xvfb.
 *
 * The test starts a rendezvous server (`flowsync-rendezvous`) and a TURN
 * server (coturn) on 127.0.0.1, then runs the app twice: two processes
 * (this program again, with FLOWSYNC_E2E_ROLE set), each with its own
 * data and settings folders, display name and colour, both set to reach
 * others only through the TURN server ("Hide my network address"). Ada
 * starts on her default workspace, makes a board and a page and shares
 * through the rendezvous server; Bea starts the app with the invite link
 * on its command line, the way `flowsync flowsync://…` or a clicked link
 * does, and her window takes the workspace's name from the link. Each
 * instance is driven through its window — actions, the canvas'
 * pointer input, the page's text buffer — by commands on its standard
 * input ("draw 100 100 200 120", "wait-text …"), and answers on
 * descriptor 3; its log goes to the test's standard error.
 *
 * Checked: the board and page reach Bea; a rectangle drawn and text typed
 * on either side appear on the other; each header shows "Connected to 1"
 * and the other's avatar; a pointer moved on one board shows as a named
 * cursor on the other. Then the link is cut — the TURN server is stopped
 * (SIGSTOP), so every relayed packet is lost as on a dead network — and
 * both sides notice, say "Not yet shared" after editing offline, and
 * converge when the server resumes: same shapes, same text, same version
 * of every document. Screenshots of both windows, mid-huddle, offline and
 * converged, land in FLOWSYNC_SCREENSHOT_DIR.
 */

#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "flow-application.h"
#include "flow-board-page.h"
#include "flow-board-view.h"
#include "flow-canvas-private.h"
#include "flow-catalog.h"
#include "flow-huddle.h"
#include "flow-page-view.h"
#include "flow-test-sync.h"
#include "flow-test-ui.h"
#include "flow-test-util.h"
#include "flow-window.h"

/* How long a step may take unless the command says otherwise. */
#define STEP_SECONDS 60

/* ------------------------------------------------------------------------
 * The instance: the app, and a reader of commands
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowApplication  *app;
  GDataInputStream *input;
  GQueue            commands;       /* of char *, not started yet */
  char             *command;        /* the one running */
  gint64            deadline;
  gpointer          state;          /* the running command's, if any */
  gboolean          host_done;
  char             *host_result;    /* "ok LINK" or "fail …" */
  guint             tick;
  FILE             *replies;        /* descriptor 3 */
} Instance;

static Instance inst;

static void
reply (const char *format,
       ...) G_GNUC_PRINTF (1, 2);

static void
reply (const char *format,
       ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  /* Answers go on a descriptor of their own (3): standard output and
   * error carry the instance's log to the test's log, and a log that
   * nobody reads could otherwise fill a pipe and stall the instance. */
  fprintf (inst.replies, "e2e: %s\n", text);
  fflush (inst.replies);
}

static FlowWindow *
instance_window (void)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (inst.app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (FLOW_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static FlowHuddle *
instance_huddle (void)
{
  FlowWindow *window = instance_window ();

  return window != NULL ? flow_window_get_huddle (window) : NULL;
}

static FlowBoardView *
current_board_view (void)
{
  FlowWindow *window = instance_window ();
  GtkWidget *view = window != NULL ? flow_window_get_current_view (window) : NULL;

  if (view == NULL || !FLOW_IS_BOARD_PAGE (view))
    return NULL;
  return flow_board_page_get_view (FLOW_BOARD_PAGE (view));
}

static FlowCanvas *
current_canvas (void)
{
  FlowBoardView *view = current_board_view ();

  return view != NULL ? flow_board_view_get_canvas (view) : NULL;
}

static FlowPageView *
current_page (void)
{
  FlowWindow *window = instance_window ();
  GtkWidget *view = window != NULL ? flow_window_get_current_view (window) : NULL;

  return view != NULL && FLOW_IS_PAGE_VIEW (view) ? FLOW_PAGE_VIEW (view) : NULL;
}

static const FlowOpId *
current_doc_id (void)
{
  FlowWindow *window = instance_window ();
  GtkWidget *view = window != NULL ? flow_window_get_current_view (window) : NULL;

  if (view != NULL && FLOW_IS_BOARD_PAGE (view))
    return flow_doc_get_id (flow_board_page_get_doc (FLOW_BOARD_PAGE (view)));
  if (view != NULL && FLOW_IS_PAGE_VIEW (view))
    return flow_doc_get_id (flow_page_view_get_doc (FLOW_PAGE_VIEW (view)));
  return NULL;
}

static char *
dup_title (const FlowOpId *id)
{
  FlowWorkspace *ws = flow_window_get_workspace (instance_window ());
  FlowCatalogEntry entry = { 0 };
  char *title;

  if (id == NULL || !flow_catalog_get (flow_workspace_get_catalog (ws), id, &entry))
    return g_strdup ("");
  title = g_steal_pointer (&entry.title);
  flow_catalog_entry_clear (&entry);
  return title;
}

static const char *
status_text (void)
{
  GtkWidget *status = flow_test_ui_find_named (GTK_WIDGET (instance_window ()), "huddle-status");

  return status != NULL ? gtk_label_get_text (GTK_LABEL (status)) : "";
}

static guint
n_avatars (void)
{
  GtkWidget *box = flow_test_ui_find_named (GTK_WIDGET (instance_window ()), "huddle-avatars");
  guint n = 0;

  if (box == NULL)
    return 0;
  for (GtkWidget *c = gtk_widget_get_first_child (box); c != NULL; c = gtk_widget_get_next_sibling (c))
    if (ADW_IS_AVATAR (c) && gtk_widget_get_visible (c))
      n++;
  return n;
}

/* The peer id of the participant called @name, or NULL. */
static char *
dup_participant (const char *name)
{
  g_autoptr(GPtrArray) peers = flow_huddle_list_participants (instance_huddle ());

  for (guint i = 0; i < peers->len; i++)
    {
      FlowRoomPeer *peer = g_ptr_array_index (peers, i);

      if (g_strcmp0 (peer->name, name) == 0)
        return g_strdup (peer->id);
    }
  return NULL;
}

static int
compare_lines (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

/* One line per live document, sorted: title, version vector and what the
 * user sees of it (shapes drawn, or a checksum of the text). Equal
 * digests on both sides mean the same operations and the same view. */
static char *
digest (void)
{
  FlowWorkspace *ws = flow_window_get_workspace (instance_window ());
  FlowDoc *catalog = flow_workspace_get_catalog (ws);
  g_autoptr(GArray) entries = flow_catalog_list (catalog, FALSE);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(FlowVersionVector) cv = flow_doc_dup_version (catalog);
  g_autofree char *cvs = flow_version_vector_to_string (cv);
  GString *out = g_string_new (NULL);

  g_ptr_array_add (lines, g_strdup_printf ("catalog %s", cvs));
  for (guint i = 0; i < entries->len; i++)
    {
      FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);
      FlowDoc *doc = flow_workspace_load_document (ws, &e->id, NULL);
      g_autoptr(FlowVersionVector) vv = NULL;
      g_autofree char *vvs = NULL;
      g_autofree char *what = NULL;

      if (doc == NULL || e->kind == FLOW_DOC_KIND_CHAT)
        continue;
      vv = flow_doc_dup_version (doc);
      vvs = flow_version_vector_to_string (vv);
      if (e->kind == FLOW_DOC_KIND_PAGE)
        {
          g_autofree char *text = flow_doc_dup_text (doc);

          what = g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
        }
      else
        {
          g_autoptr(GArray) live = flow_doc_list_entities (doc, FALSE);

          what = g_strdup_printf ("%u entities", live->len);
        }
      g_ptr_array_add (lines, g_strdup_printf ("%s %s %s", e->title, vvs, what));
    }
  for (guint i = 0; i < entries->len; i++)
    flow_catalog_entry_clear (&g_array_index (entries, FlowCatalogEntry, i));
  g_ptr_array_sort (lines, compare_lines);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s%s", i ? " | " : "", (char *) g_ptr_array_index (lines, i));
  return g_string_free (out, FALSE);
}

static void
host_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (flow_huddle_host_finish (FLOW_HUDDLE (source), result, &error))
    inst.host_result = g_strdup_printf ("ok %s", flow_huddle_get_link (FLOW_HUDDLE (source)));
  else
    inst.host_result = g_strdup_printf ("fail %s", error->message);
  inst.host_done = TRUE;
}

typedef enum { STEP_WAIT, STEP_DONE } Step;

/* Runs one turn of @verb @arg. Returns STEP_DONE after replying. */
static Step
run_command (const char *verb,
             const char *arg,
             gboolean    first)
{
  FlowWindow *window = instance_window ();
  FlowHuddle *huddle = instance_huddle ();

  if (g_str_equal (verb, "wait-window"))
    {
      if (window == NULL || flow_window_get_workspace (window) == NULL || huddle == NULL)
        return STEP_WAIT;
      reply ("ok %s", flow_window_get_path (window));
      return STEP_DONE;
    }
  if (window == NULL || huddle == NULL)
    {
      reply ("fail no window");
      return STEP_DONE;
    }

  if (g_str_equal (verb, "host"))
    {
      if (first)
        flow_huddle_host_async (huddle, FLOW_HUDDLE_VIA_SERVER, NULL, host_cb, NULL);
      if (!inst.host_done)
        return STEP_WAIT;
      reply ("%s", inst.host_result);
      return STEP_DONE;
    }
  if (g_str_equal (verb, "new-board") || g_str_equal (verb, "new-page"))
    {
      gboolean board = g_str_equal (verb, "new-board");

      if (first)
        {
          inst.state = (gpointer) flow_window_get_current_view (window);
          g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window),
                                                     board ? "win.new-board" : "win.new-page", NULL));
        }
      if (flow_window_get_current_view (window) == inst.state ||
          (board ? current_canvas () == NULL : current_page () == NULL))
        return STEP_WAIT;
      {
        g_autofree char *title = dup_title (current_doc_id ());

        reply ("ok %s", title);
      }
      return STEP_DONE;
    }
  if (g_str_equal (verb, "open"))
    {
      FlowOpId id;

      /* As a click in the sidebar does, once the catalog names it. */
      if (!flow_catalog_find (flow_workspace_get_catalog (flow_window_get_workspace (window)), arg, &id, NULL))
        return STEP_WAIT;
      if (current_doc_id () == NULL || !flow_op_id_equal (current_doc_id (), &id))
        {
          if (first || inst.state == NULL)
            {
              flow_window_open_document (window, &id);
              inst.state = GINT_TO_POINTER (1);
            }
          return STEP_WAIT;
        }
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "draw") || g_str_equal (verb, "point"))
    {
      FlowCanvas *canvas = current_canvas ();
      double v[4] = { 0 }, x1, y1, x2, y2;

      if (canvas == NULL || sscanf (arg, "%lf %lf %lf %lf", &v[0], &v[1], &v[2], &v[3]) < 2)
        {
          reply ("fail no board, or bad arguments");
          return STEP_DONE;
        }
      flow_canvas_board_to_widget (canvas, v[0], v[1], &x1, &y1);
      if (g_str_equal (verb, "point"))
        {
          flow_canvas_hover (canvas, x1, y1);
          reply ("ok");
          return STEP_DONE;
        }
      /* The rectangle tool, then a drag: what a user's hand does. */
      flow_canvas_board_to_widget (canvas, v[0] + v[2], v[1] + v[3], &x2, &y2);
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (current_board_view ()), "canvas.tool", "s",
                                                 flow_canvas_tool_to_string (FLOW_CANVAS_TOOL_RECT)));
      g_assert_cmpint (flow_canvas_get_tool (canvas), ==, FLOW_CANVAS_TOOL_RECT);
      flow_canvas_press (canvas, x1, y1, 1.0, FLOW_CANVAS_MODIFIER_NONE, 1);
      flow_canvas_motion (canvas, (x1 + x2) / 2, (y1 + y2) / 2, 1.0, FLOW_CANVAS_MODIFIER_NONE);
      flow_canvas_motion (canvas, x2, y2, 1.0, FLOW_CANVAS_MODIFIER_NONE);
      flow_canvas_release (canvas, x2, y2, FLOW_CANVAS_MODIFIER_NONE);
      gtk_widget_activate_action (GTK_WIDGET (current_board_view ()), "canvas.tool", "s",
                                  flow_canvas_tool_to_string (FLOW_CANVAS_TOOL_SELECT));
      reply ("ok %u", flow_scene_get_n_shapes (flow_canvas_get_scene (canvas)));
      return STEP_DONE;
    }
  if (g_str_equal (verb, "type"))
    {
      FlowPageView *page = current_page ();
      GtkTextBuffer *buffer;
      GtkTextIter end;

      if (page == NULL)
        {
          reply ("fail no page");
          return STEP_DONE;
        }
      /* At the end of the page, as typed: an interactive insertion at
       * the cursor, one keystroke's worth at a time would change nothing
       * for the document. */
      buffer = flow_page_view_get_buffer (page);
      gtk_widget_grab_focus (GTK_WIDGET (flow_page_view_get_text_view (page)));
      gtk_text_buffer_get_end_iter (buffer, &end);
      gtk_text_buffer_place_cursor (buffer, &end);
      gtk_text_buffer_insert_interactive_at_cursor (buffer, arg, -1, TRUE);
      gtk_text_buffer_insert_interactive_at_cursor (buffer, "\n", -1, TRUE);
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-text"))
    {
      FlowPageView *page = current_page ();
      GtkTextBuffer *buffer;
      GtkTextIter start, end;
      g_autofree char *text = NULL;

      if (page == NULL)
        return STEP_WAIT;
      buffer = flow_page_view_get_buffer (page);
      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, TRUE);
      if (strstr (text, arg) == NULL)
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-shapes"))
    {
      FlowCanvas *canvas = current_canvas ();

      if (canvas == NULL || flow_scene_get_n_shapes (flow_canvas_get_scene (canvas)) != (guint) atoi (arg))
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-cursor"))
    {
      FlowCanvas *canvas = current_canvas ();
      g_autofree char *peer = dup_participant (arg);

      if (canvas == NULL || peer == NULL || !_flow_canvas_get_remote_cursor (canvas, peer, NULL, NULL, NULL))
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-connected"))
    {
      if (flow_huddle_get_n_connected (huddle) != (guint) atoi (arg))
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-status"))
    {
      if (g_strcmp0 (status_text (), arg) != 0)
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-avatars"))
    {
      if (n_avatars () != (guint) atoi (arg))
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "wait-shared"))
    {
      if (flow_huddle_get_has_unshared (huddle))
        return STEP_WAIT;
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "title"))
    {
      reply ("ok %s", gtk_window_get_title (GTK_WINDOW (window)));
      return STEP_DONE;
    }
  if (g_str_equal (verb, "status"))
    {
      reply ("ok %s", status_text ());
      return STEP_DONE;
    }
  if (g_str_equal (verb, "digest"))
    {
      g_autofree char *d = digest ();

      reply ("ok %s", d);
      return STEP_DONE;
    }
  if (g_str_equal (verb, "screenshot"))
    {
      flow_test_ui_screenshot (GTK_WIDGET (window), arg);
      reply ("ok");
      return STEP_DONE;
    }
  if (g_str_equal (verb, "quit"))
    {
      /* Closing the last window ends the app, as for a user. */
      gtk_window_close (GTK_WINDOW (window));
      reply ("ok");
      return STEP_DONE;
    }
  reply ("fail unknown command %s", verb);
  return STEP_DONE;
}

/* Commands are "VERB [ARG…] [@SECONDS]"; one runs at a time. */
static gboolean
tick_cb (gpointer user_data)
{
  gboolean first = FALSE;

  if (inst.command == NULL)
    {
      inst.command = g_queue_pop_head (&inst.commands);
      if (inst.command == NULL)
        return G_SOURCE_CONTINUE;
      inst.state = NULL;
      inst.host_done = FALSE;
      g_clear_pointer (&inst.host_result, g_free);
      inst.deadline = g_get_monotonic_time () + STEP_SECONDS * G_USEC_PER_SEC;
      {
        char *at = strrchr (inst.command, '@');

        if (at != NULL && at > inst.command && at[-1] == ' ' && g_ascii_isdigit (at[1]))
          {
            inst.deadline = g_get_monotonic_time () + atoi (at + 1) * G_USEC_PER_SEC;
            at[-1] = '\0';
          }
      }
      first = TRUE;
    }

  {
    g_autofree char *verb = g_strdup (inst.command);
    char *space = strchr (verb, ' ');
    const char *arg = "";

    if (space != NULL)
      {
        *space = '\0';
        arg = space + 1;
      }
    if (run_command (verb, arg, first) == STEP_WAIT)
      {
        if (g_get_monotonic_time () < inst.deadline)
          return G_SOURCE_CONTINUE;
        reply ("fail timed out: %s (status \"%s\")", inst.command, status_text ());
      }
  }
  g_clear_pointer (&inst.command, g_free);
  return G_SOURCE_CONTINUE;
}

static void
read_line_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, NULL);

  if (line == NULL)
    {
      /* The test went away: leave like a closed window. */
      g_application_quit (G_APPLICATION (inst.app));
      return;
    }
  g_queue_push_tail (&inst.commands, g_steal_pointer (&line));
  g_data_input_stream_read_line_async (inst.input, G_PRIORITY_DEFAULT, NULL, read_line_cb, NULL);
}

static int
instance_main (int    argc,
               char **argv)
{
  const char *role = g_getenv ("FLOWSYNC_E2E_ROLE");
  const char *link = g_getenv ("FLOWSYNC_E2E_LINK");
  g_autofree char *xdg = flow_test_ui_init (&argc, &argv, role);
  g_autoptr(GSettings) settings = g_settings_new (APP_ID);
  g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);
  const char *app_argv[3] = { "flowsync", link, NULL };
  int status;

  /* Who this is, and how it reaches others: the settings a user makes in
   * Preferences. */
  g_settings_set_string (settings, "display-name", role);
  g_settings_set_string (settings, "user-color", g_strcmp0 (role, "Ada") == 0 ? "#e01b24" : "#3584e4");
  g_settings_set_string (settings, "rendezvous-url", g_getenv ("FLOWSYNC_E2E_RENDEZVOUS"));
  g_settings_set_string (settings, "turn-server", g_getenv ("FLOWSYNC_E2E_TURN"));
  g_settings_set_string (settings, "turn-username", FLOW_TEST_TURN_USER);
  g_settings_set_string (settings, "turn-password", FLOW_TEST_TURN_PASSWORD);
  g_settings_set_boolean (settings, "relay-only", TRUE);
  g_settings_set_int (settings, "window-width", 1000);
  g_settings_set_int (settings, "window-height", 680);

  inst.replies = fdopen (3, "w");
  g_assert_nonnull (inst.replies);
  inst.app = flow_application_new ();
  g_application_set_flags (G_APPLICATION (inst.app),
                           G_APPLICATION_HANDLES_OPEN | G_APPLICATION_NON_UNIQUE);
  inst.input = g_data_input_stream_new (in);
  g_data_input_stream_read_line_async (inst.input, G_PRIORITY_DEFAULT, NULL, read_line_cb, NULL);
  inst.tick = g_timeout_add (20, tick_cb, NULL);

  /* `flowsync` or `flowsync LINK`, as from a terminal. */
  status = g_application_run (G_APPLICATION (inst.app), link != NULL ? 2 : 1, (char **) app_argv);

  g_source_remove (inst.tick);
  g_queue_clear_full (&inst.commands, g_free);
  g_clear_pointer (&inst.command, g_free);
  g_clear_pointer (&inst.host_result, g_free);
  g_clear_object (&inst.input);
  g_clear_object (&inst.app);
  fclose (inst.replies);
  flow_test_remove_tree (xdg);
  return status;
}

/* ------------------------------------------------------------------------
 * The test: two instances and the servers
 * ------------------------------------------------------------------------ */

typedef struct
{
  const char       *name;
  GSubprocess      *proc;
  GOutputStream    *in;
  GDataInputStream *out;
} Child;

static Child *
child_spawn (const char *name,
             const char *link)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *self = g_file_read_link ("/proc/self/exe", &error);
  Child *child = g_new0 (Child, 1);
  int replies[2];

  g_assert_no_error (error);
  g_assert_true (g_unix_open_pipe (replies, FD_CLOEXEC, &error));
  g_assert_no_error (error);
  /* The instance's log joins ours on standard error (standard output is
   * the TAP stream); its answers come on descriptor 3. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (STDERR_FILENO));
  g_subprocess_launcher_take_fd (launcher, replies[1], 3);
  g_subprocess_launcher_set_child_setup (launcher, flow_test_die_with_parent, NULL, NULL);
  g_subprocess_launcher_setenv (launcher, "FLOWSYNC_E2E_ROLE", name, TRUE);
  if (link != NULL)
    g_subprocess_launcher_setenv (launcher, "FLOWSYNC_E2E_LINK", link, TRUE);
  child->name = name;
  child->proc = g_subprocess_launcher_spawn (launcher, &error, self, NULL);
  g_assert_no_error (error);
  child->in = g_object_ref (g_subprocess_get_stdin_pipe (child->proc));
  {
    g_autoptr(GInputStream) in = g_unix_input_stream_new (replies[0], TRUE);

    child->out = g_data_input_stream_new (in);
  }
  return child;
}

static void
child_send (Child      *child,
            const char *command)
{
  g_autofree char *line = g_strdup_printf ("%s\n", command);
  g_autoptr(GError) error = NULL;

  g_test_message ("%s <- %s", child->name, command);
  g_assert_true (g_output_stream_write_all (child->in, line, strlen (line), NULL, NULL, &error));
  g_assert_no_error (error);
}

/* The answer to the last command: what follows "ok", or the test fails. */
static char *
child_reply (Child *child)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *line = g_data_input_stream_read_line_utf8 (child->out, NULL, NULL, &error);

      g_assert_no_error (error);
      if (line == NULL)
        g_error ("%s exited before answering", child->name);
      if (!g_str_has_prefix (line, "e2e: "))
        continue;
      g_test_message ("%s -> %s", child->name, line + 5);
      if (g_str_has_prefix (line + 5, "ok"))
        return g_strdup (g_strstrip (line + 7));
      g_error ("%s: %s", child->name, line + 5);
    }
}

/* Runs @command on @child and returns the answer. */
static char *
ask (Child      *child,
     const char *command)
{
  child_send (child, command);
  return child_reply (child);
}

/* Runs @command on both at once (each waits on its own) and wants both
 * to succeed. */
static void
both (Child      *a,
      Child      *b,
      const char *command)
{
  child_send (a, command);
  child_send (b, command);
  g_free (child_reply (a));
  g_free (child_reply (b));
}

static void
child_finish (Child *child)
{
  g_autoptr(GError) error = NULL;

  g_free (ask (child, "quit"));
  g_assert_true (g_output_stream_close (child->in, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait (child->proc, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (child->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (child->proc), ==, 0);
  g_clear_object (&child->in);
  g_clear_object (&child->out);
  g_clear_object (&child->proc);
  g_free (child);
}

/* `flowsync-rendezvous --port 0` on 127.0.0.1; returns its ws:// URL. */
static char *
rendezvous_start (GSubprocess **proc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  guint port = 0;

  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_subprocess_launcher_set_child_setup (launcher, flow_test_die_with_parent, NULL, NULL);
  *proc = g_subprocess_launcher_spawn (launcher, &error,
                                       g_getenv ("FLOWSYNC_RENDEZVOUS"), "--listen", "127.0.0.1",
                                       "--port", "0", "--stun-port", "0", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (*proc));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "port=%u", &port), ==, 1);
  return g_strdup_printf ("ws://127.0.0.1:%u/ws", port);
}

static void
test_two_instances (void)
{
  g_autoptr(FlowTestTurn) turn = flow_test_turn_start ();
  g_autoptr(GSubprocess) rendezvous = NULL;
  g_autofree char *url = NULL;
  g_autofree char *turn_server = NULL;
  g_autofree char *link = NULL;
  g_autofree char *board = NULL;
  g_autofree char *page = NULL;
  g_autofree char *digest_a = NULL;
  g_autofree char *digest_b = NULL;
  g_autofree char *open_board = NULL;
  g_autofree char *open_page = NULL;
  Child *ada, *bea;
  gint64 cut_at;

  if (turn == NULL)
    {
      g_test_skip ("turnserver (Debian package coturn) is not installed");
      return;
    }
  url = rendezvous_start (&rendezvous);
  turn_server = g_strdup_printf ("127.0.0.1:%u", flow_test_turn_get_port (turn));
  g_setenv ("FLOWSYNC_E2E_RENDEZVOUS", url, TRUE);
  g_setenv ("FLOWSYNC_E2E_TURN", turn_server, TRUE);

  /* Ada: her default workspace, a board with a rectangle, a page with a
   * line; then Share, through the rendezvous server. */
  ada = child_spawn ("Ada", NULL);
  g_free (ask (ada, "wait-window"));
  board = ask (ada, "new-board");
  g_free (ask (ada, "draw 80 80 240 150"));
  page = ask (ada, "new-page");
  g_free (ask (ada, "type Agenda for Monday"));
  link = ask (ada, "host");
  g_assert_true (g_str_has_prefix (link, "flowsync://127.0.0.1:"));
  g_free (ask (ada, "wait-status Waiting for others"));

  /* Bea: `flowsync LINK`. The workspace comes to her. */
  bea = child_spawn ("Bea", link);
  g_free (ask (bea, "wait-window"));
  {
    /* Named by the link: the room's file is named after the room. */
    g_autofree char *title = ask (bea, "title");

    g_assert_cmpstr (title, ==, "Ada’s Workspace — FlowSync");
  }
  both (ada, bea, "wait-connected 1");
  both (ada, bea, "wait-status Connected to 1");
  both (ada, bea, "wait-avatars 1");
  open_page = g_strdup_printf ("open %s", page);
  open_board = g_strdup_printf ("open %s", board);
  g_free (ask (bea, open_page));
  g_free (ask (bea, "wait-text Agenda for Monday"));

  /* Text typed on either page appears on the other. */
  g_free (ask (bea, "type Bea: I bring the coffee"));
  g_free (ask (ada, "wait-text Bea: I bring the coffee"));
  g_free (ask (ada, "type Ada: thanks!"));
  g_free (ask (bea, "wait-text Ada: thanks!"));

  /* A shape drawn on either board appears on the other, and the
   * pointers show as named cursors. */
  g_free (ask (bea, open_board));
  g_free (ask (ada, open_board));
  g_free (ask (bea, "wait-shapes 1"));
  g_free (ask (bea, "draw 420 120 200 140"));
  g_free (ask (ada, "wait-shapes 2"));
  g_free (ask (ada, "draw 200 330 180 120"));
  g_free (ask (bea, "wait-shapes 3"));
  g_free (ask (ada, "point 300 200"));
  g_free (ask (bea, "point 520 260"));
  g_free (ask (bea, "wait-cursor Ada"));
  g_free (ask (ada, "wait-cursor Bea"));
  g_free (ask (ada, "screenshot huddle-e2e-ada.png"));
  g_free (ask (bea, "screenshot huddle-e2e-bea.png"));

  /* The link is cut: the relay drops everything. Both notice (the
   * heartbeat gives up after 15 s of silence) and keep working. */
  g_test_message ("cutting the link (TURN server stopped)");
  flow_test_turn_pause (turn, TRUE);
  cut_at = g_get_monotonic_time ();
  both (ada, bea, "wait-connected 0 @60");
  g_test_message ("both saw the link die after %.1f s",
                  (g_get_monotonic_time () - cut_at) / (double) G_USEC_PER_SEC);
  g_free (ask (ada, "draw 80 420 160 100"));
  g_free (ask (bea, "draw 700 420 160 100"));
  g_free (ask (ada, open_page));
  g_free (ask (bea, open_page));
  g_free (ask (ada, "type Ada, offline: moved to Tuesday"));
  g_free (ask (bea, "type Bea, offline: room 4 is free"));
  both (ada, bea, "wait-status Not yet shared");
  g_free (ask (ada, "screenshot huddle-e2e-ada-offline.png"));
  g_free (ask (bea, "screenshot huddle-e2e-bea-offline.png"));

  /* The link comes back: both converge, with everything of both. */
  g_test_message ("restoring the link (TURN server resumed)");
  flow_test_turn_pause (turn, FALSE);
  cut_at = g_get_monotonic_time ();
  both (ada, bea, "wait-connected 1 @120");
  g_test_message ("linked again %.1f s after the relay resumed",
                  (g_get_monotonic_time () - cut_at) / (double) G_USEC_PER_SEC);
  both (ada, bea, "wait-shared");
  both (ada, bea, "wait-text Ada, offline: moved to Tuesday");
  both (ada, bea, "wait-text Bea, offline: room 4 is free");
  both (ada, bea, "wait-status Connected to 1");
  g_free (ask (ada, open_board));
  g_free (ask (bea, open_board));
  both (ada, bea, "wait-shapes 5");
  g_free (ask (ada, "point 640 300"));
  g_free (ask (bea, "wait-cursor Ada"));
  g_free (ask (ada, "screenshot huddle-e2e-ada-converged.png"));
  g_free (ask (bea, "screenshot huddle-e2e-bea-converged.png"));
  digest_a = ask (ada, "digest");
  digest_b = ask (bea, "digest");
  g_assert_cmpstr (digest_a, ==, digest_b);

  child_finish (bea);
  child_finish (ada);
  g_subprocess_send_signal (rendezvous, SIGTERM);
  g_assert_true (g_subprocess_wait (rendezvous, NULL, NULL));
}

int
main (int   argc,
      char *argv[])
{
  /* Both instances keep their traffic on 127.0.0.1 (flow-huddle.c). */
  g_setenv ("FLOWSYNC_LOOPBACK", "1", TRUE);

  if (g_getenv ("FLOWSYNC_E2E_ROLE") != NULL)
    return instance_main (argc, argv);

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/flow/huddle-e2e/two-instances", test_two_instances);
  return g_test_run ();
}
