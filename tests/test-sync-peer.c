/* test-sync-peer.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Two processes over real libnice on 127.0.0.1: `flowsync-cli host` (with
 * its embedded rendezvous server) and this test, a FlowRoom of its own.
 * A page and a board sync both ways, live and after offline edits on both
 * sides. A joiner with a tampered link key never gets a link.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

#include "flow-catalog.h"
#include "flow-link-nice.h"
#include "flow-room.h"
#include "flow-signaling-rendezvous.h"
#include "flow-test-sync.h"
#include "flow-test-util.h"

#define WAIT_US (30 * G_USEC_PER_SEC)

typedef struct
{
  char             *dir;
  char             *path_a;
  char             *path_b;
  GSubprocess      *host;
  GDataInputStream *host_err;
  GString          *host_log;
  GCancellable     *cancellable;
  char             *link;
} Fixture;

static void
read_err_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  Fixture *f = user_data;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, NULL);

  if (line == NULL)
    return;
  g_test_message ("host: %s", line);
  g_string_append_printf (f->host_log, "%s\n", line);
  g_data_input_stream_read_line_async (G_DATA_INPUT_STREAM (source), G_PRIORITY_DEFAULT,
                                       f->cancellable, read_err_cb, f);
}

static void
start_host (Fixture *f)
{
  const char *cli = g_getenv ("FLOWSYNC_CLI");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  g_assert_nonnull (cli);
  f->host = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              cli, "host", f->path_a, "--listen", "127.0.0.1:0", "--loopback",
                              "--name", "Headless", NULL);
  g_assert_no_error (error);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->host));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "flowsync://127.0.0.1:"));
  g_free (f->link);
  f->link = g_steal_pointer (&line);

  g_clear_object (&f->host_err);
  f->host_err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (f->host));
  g_data_input_stream_read_line_async (f->host_err, G_PRIORITY_DEFAULT, f->cancellable, read_err_cb, f);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @check holds, failing after WAIT_US. */
#define WAIT_FOR(check)                                                    \
  G_STMT_START {                                                           \
    gboolean timed_out_ = FALSE;                                           \
    guint id_ = g_timeout_add (WAIT_US / 1000, timeout_cb, &timed_out_);   \
    while (!(check) && !timed_out_)                                        \
      g_main_context_iteration (NULL, TRUE);                               \
    if (!timed_out_)                                                       \
      g_source_remove (id_);                                               \
    if (!(check))                                                          \
      g_error ("timed out waiting for %s", #check);                        \
  } G_STMT_END

static void
waited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

/* SIGTERM: the host leaves the room, flushes and exits 0. */
static void
stop_host (Fixture *f)
{
  gboolean exited = FALSE;

  g_subprocess_send_signal (f->host, SIGTERM);
  g_subprocess_wait_async (f->host, NULL, waited_cb, &exited);
  WAIT_FOR (exited);
  g_assert_true (g_subprocess_get_if_exited (f->host));
  g_assert_cmpint (g_subprocess_get_exit_status (f->host), ==, 0);
  g_clear_object (&f->host);
}




static guint
n_shapes (FlowWorkspace *ws)
{
  FlowDoc *doc = flow_test_find_doc (ws, "Sketch");
  g_autoptr(GArray) shapes = doc != NULL ? flow_doc_list_entities (doc, FALSE) : NULL;

  return shapes != NULL ? shapes->len : 0;
}

/* Leaves the room politely and waits until the host has seen us go: the
 * BYE is the stream's last record, so every op before it was applied. */
static void
leave (Fixture  *f,
       FlowRoom *room)
{
  gsize before = f->host_log->len;

  flow_room_stop (room);
  WAIT_FOR (strstr (f->host_log->str + before, "the peer left") != NULL);
}

static void
edit_offline (const char *path,
              const char *title,
              const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_open (path, &error);
  FlowDoc *page;

  g_assert_no_error (error);
  page = flow_test_find_doc (ws, title);
  g_assert_nonnull (page);
  flow_doc_insert_text (page, flow_doc_get_length (page), text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (flow_workspace_close (ws, &error));
}

static void
test_two_processes (void)
{
  Fixture fx = { 0 }, *f = &fx;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) a = NULL;
  g_autoptr(FlowWorkspace) b = NULL;
  g_autoptr(FlowRoom) room = NULL;
  FlowDoc *page, *board;
  g_autofree char *first_link = NULL;

  f->dir = g_dir_make_tmp ("flowsync-peer-XXXXXX", &error);
  g_assert_no_error (error);
  f->path_a = g_build_filename (f->dir, "a.flowsync", NULL);
  f->path_b = g_build_filename (f->dir, "b.flowsync", NULL);
  f->host_log = g_string_new (NULL);
  f->cancellable = g_cancellable_new ();

  /* The host's workspace: a page and a board. */
  a = flow_workspace_create (f->path_a, &error);
  g_assert_no_error (error);
  page = flow_workspace_new_document (a, FLOW_DOC_KIND_PAGE, "Notes", NULL, &error);
  flow_doc_insert_text (page, 0, "# Plan\nfrom the host\n", -1, &error);
  g_assert_no_error (error);
  board = flow_workspace_new_document (a, FLOW_DOC_KIND_BOARD, "Sketch", NULL, &error);
  g_assert_no_error (error);
  flow_test_add_shape (board, "rect", 0, 0, 100, 50);
  g_assert_true (flow_workspace_close (a, &error));
  g_clear_object (&a);

  start_host (f);
  first_link = g_strdup (f->link);

  /* Join: the host's documents arrive. */
  b = flow_workspace_create (f->path_b, &error);
  g_assert_no_error (error);
  room = flow_test_join_loopback (b, f->link, "Test", 0xff0000ff);
  WAIT_FOR (flow_test_page_has (b, "Notes", "from the host") && n_shapes (b) == 1);
  g_assert_cmpuint (flow_room_get_n_connected (room), ==, 1);

  /* Live edits from us reach the host. */
  flow_doc_insert_text (flow_test_find_doc (b, "Notes"), 0, "joined: ", -1, &error);
  g_assert_no_error (error);
  flow_test_add_shape (flow_test_find_doc (b, "Sketch"), "ellipse", 10, 10, 20, 20);
  leave (f, room);
  g_clear_object (&room);
  stop_host (f);
  g_assert_true (flow_workspace_close (b, &error));
  g_clear_object (&b);

  a = flow_workspace_open (f->path_a, &error);
  g_assert_no_error (error);
  g_assert_true (flow_test_page_has (a, "Notes", "joined: # Plan"));
  g_assert_cmpuint (n_shapes (a), ==, 2);
  g_assert_true (flow_workspace_close (a, &error));
  g_clear_object (&a);

  /* Both sides edit offline, then meet again: the same room (the key is
   * kept in the host's workspace), on a new port. */
  edit_offline (f->path_a, "Notes", "offline host\n");
  edit_offline (f->path_b, "Notes", "offline joiner\n");
  start_host (f);
  g_assert_cmpstr (strchr (strchr (f->link, '/') + 2, '/'), ==, strchr (strchr (first_link, '/') + 2, '/'));

  b = flow_workspace_open (f->path_b, &error);
  g_assert_no_error (error);
  room = flow_test_join_loopback (b, f->link, "Test", 0xff0000ff);
  WAIT_FOR (flow_test_page_has (b, "Notes", "offline host"));
  g_assert_true (flow_test_page_has (b, "Notes", "offline joiner"));
  leave (f, room);
  g_clear_object (&room);
  stop_host (f);

  a = flow_workspace_open (f->path_a, &error);
  g_assert_no_error (error);
  g_assert_true (flow_test_page_has (a, "Notes", "offline joiner"));
  g_assert_true (flow_test_page_has (a, "Notes", "offline host"));
  {
    g_autofree char *ta = flow_doc_dup_text (flow_test_find_doc (a, "Notes"));
    g_autofree char *tb = flow_doc_dup_text (flow_test_find_doc (b, "Notes"));

    g_assert_cmpstr (ta, ==, tb);
  }
  g_assert_true (flow_workspace_close (a, &error));
  g_assert_true (flow_workspace_close (b, &error));

  g_cancellable_cancel (f->cancellable);
  g_clear_object (&f->cancellable);
  g_clear_object (&f->host_err);
  g_string_free (f->host_log, TRUE);
  g_unlink (f->path_a);
  g_unlink (f->path_b);
  g_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path_a);
  g_free (f->path_b);
  g_free (f->link);
}

/* `host --expires` prints a link that expires and names the workspace;
 * `join` refuses it once expired, and a bad duration is refused before
 * anything starts. */
static void
test_link_expiry (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-sync-peer-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "Team Plans.flowsync", NULL);
  g_autofree char *joined = g_build_filename (dir, "joined.flowsync", NULL);
  g_autofree char *err = NULL;
  g_autofree char *expired = NULL;
  g_autoptr(GSubprocess) host = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(FlowSyncInvite) invite = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  g_assert_cmpint (flow_test_run_cli (NULL, NULL, "init", path, NULL), ==, 0);
  g_assert_cmpint (flow_test_run_cli (NULL, &err, "host", path, "--listen", "127.0.0.1:0", "--loopback", "--expires", "soon", NULL),
                   ==, 2);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "--expires wants a duration"));
  g_assert_null (strstr (err, "listening"));
  g_clear_pointer (&err, g_free);

  host = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           g_getenv ("FLOWSYNC_CLI"), "host", path, "--listen", "127.0.0.1:0", "--loopback",
                           "--expires", "2h", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (host));
  line = g_data_input_stream_read_line_utf8 (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_subprocess_send_signal (host, SIGTERM);
  g_assert_true (g_subprocess_wait (host, NULL, NULL));

  invite = flow_sync_invite_parse (line, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (invite->name, ==, "Team Plans");
  g_assert_cmpint (invite->expires, >=, now + 2 * 3600);
  g_assert_cmpint (invite->expires, <=, now + 2 * 3600 + 60);

  invite->expires = now - 60;
  expired = flow_sync_invite_to_string (invite);
  g_assert_cmpint (flow_test_run_cli (NULL, &err, "join", expired, joined, "--loopback", NULL), ==, 2);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "expired on"));
  g_assert_false (g_file_test (joined, G_FILE_TEST_EXISTS));

  flow_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sync/peer/link-expiry", test_link_expiry);

  g_test_add_func ("/sync/peer/two-processes", test_two_processes);

  return g_test_run ();
}
