/* bench-sync.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Peer-to-peer sync between two processes over loopback ICE (libnice on
 * 127.0.0.1, signaling through an in-process rendezvous server), both
 * encrypted as in production. Prints JSON, the median of --runs runs:
 *
 *  - late join: a fresh peer joins a room whose page holds the whole
 *    automerge-paper history (259,778 ops); time from starting the room to
 *    holding every op, and from the link opening to holding every op;
 *  - edit -> applied: the first process types into a page, one edit per
 *    millisecond; the second timestamps each edit as its change is applied
 *    (both read CLOCK_MONOTONIC, shared by the processes), p50 and p99;
 *  - sustained: 200,000 single-character inserts, 100 per main-loop turn,
 *    as fast as the first process makes them; ops per second applied by the
 *    second process, from the first op sent to the last op applied.
 *
 * The same program is both processes: the parent starts itself with
 * --child LINK PATH. Nothing asserts on time.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#include "flow-catalog.h"
#include "flow-link-nice.h"
#include "flow-rendezvous-server.h"
#include "flow-room.h"
#include "flow-signaling-rendezvous.h"
#include "flow-test-sync.h"
#include "flow-trace.h"

#include <json-glib/json-glib.h>

#define N_LATENCY   2000
#define N_SUSTAINED 200000
#define PER_TURN    100


static FlowDoc *
find_doc (FlowWorkspace *ws,
          const char    *title)
{
  FlowOpId id;

  if (!flow_catalog_find (flow_workspace_get_catalog (ws), title, &id, NULL))
    return NULL;
  return flow_workspace_lookup_document (ws, &id);
}

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *values,
            double  p)
{
  if (values->len == 0)
    return 0;
  qsort (values->data, values->len, sizeof (double), cmp_double);
  return g_array_index (values, double, MIN (values->len - 1, (guint) (p * values->len)));
}

/* ------------------------------------------------------------------------
 * The joining process
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowWorkspace *ws;
  FlowRoom      *room;
  guint64        paper_ops;
  gint64         started;
  gint64         linked;
  gint64         caught_up;
  GArray        *latencies;     /* ms */
  guint64        sustained_seen;
  gint64         sustained_first;
  gint64         sustained_done;
  guint          func_id;
  FlowDoc       *typing;
  gboolean       done;
} Child;

static void
typing_changed (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  Child *c = user_data;
  gint64 now = g_get_monotonic_time ();
  guint n_edits;
  const FlowTextEdit *edits = flow_change_get_text_edits (change, &n_edits);

  for (guint i = 0; i < n_edits; i++)
    {
      g_autofree char *text = g_strndup (edits[i].inserted, edits[i].inserted_len);

      /* "@T;" marks a timed edit (T: the sender's monotonic time), "#T;" the
       * first op of the sustained run, "$" its end; other characters are
       * the sustained run's ops. */
      if (text[0] == '@')
        {
          double ms = (now - g_ascii_strtoll (text + 1, NULL, 10)) / 1000.0;

          g_array_append_val (c->latencies, ms);
        }
      else if (text[0] == '#')
        c->sustained_first = g_ascii_strtoll (text + 1, NULL, 10);
      else if (text[0] == '$')
        {
          c->sustained_done = now;
          c->done = TRUE;
        }
      else
        c->sustained_seen += edits[i].inserted_chars;
    }
}

static gboolean
child_poll (gpointer user_data)
{
  Child *c = user_data;
  FlowDoc *paper;

  if (c->linked == 0 && flow_room_get_n_connected (c->room) > 0)
    c->linked = g_get_monotonic_time ();

  if (c->caught_up == 0 && (paper = find_doc (c->ws, "Paper")) != NULL &&
      flow_doc_get_n_ops (paper) >= c->paper_ops)
    {
      c->caught_up = g_get_monotonic_time ();
      printf ("ready\n");
      fflush (stdout);
    }
  if (c->typing == NULL && (c->typing = find_doc (c->ws, "Typing")) != NULL)
    c->func_id = flow_doc_add_change_func (c->typing, typing_changed, c, NULL);
  return G_SOURCE_CONTINUE;
}

static int
run_child (const char *link,
           const char *path,
           guint64     paper_ops)
{
  g_autoptr(GError) error = NULL;
  Child c = { 0 };
  guint poll_id;

  c.paper_ops = paper_ops;
  c.latencies = g_array_new (FALSE, FALSE, sizeof (double));
  c.ws = flow_workspace_create (path, &error);
  g_assert_no_error (error);

  c.started = g_get_monotonic_time ();
  c.room = flow_test_join_loopback (c.ws, link, "child", 0x3584e4ff);
  poll_id = g_timeout_add (1, child_poll, &c);
  while (!c.done)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (poll_id);

  printf ("{\"catch_up_ms\": %.1f, \"catch_up_after_link_ms\": %.1f, "
          "\"latency_p50_ms\": %.3f, \"latency_p99_ms\": %.3f, \"latency_n\": %u, "
          "\"sustained_ops\": %" G_GUINT64_FORMAT ", \"sustained_ops_per_s\": %.0f}\n",
          (c.caught_up - c.started) / 1000.0, (c.caught_up - c.linked) / 1000.0,
          percentile (c.latencies, 0.50), percentile (c.latencies, 0.99), c.latencies->len,
          c.sustained_seen,
          c.sustained_seen / ((c.sustained_done - c.sustained_first) / (double) G_USEC_PER_SEC));
  fflush (stdout);

  if (c.typing != NULL)
    flow_doc_remove_change_func (c.typing, c.func_id);
  flow_room_stop (c.room);
  g_clear_object (&c.room);
  flow_workspace_close (c.ws, NULL);
  g_clear_object (&c.ws);
  g_array_unref (c.latencies);
  return 0;
}

/* ------------------------------------------------------------------------
 * The first process
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowDoc  *typing;
  guint     n;
  gboolean  done;
} Typist;

static gboolean
type_one (gpointer user_data)
{
  Typist *t = user_data;
  g_autofree char *text = g_strdup_printf ("@%" G_GINT64_FORMAT ";", g_get_monotonic_time ());

  flow_doc_insert_text (t->typing, flow_doc_get_length (t->typing), text, -1, NULL);
  if (++t->n < N_LATENCY)
    return G_SOURCE_CONTINUE;
  t->done = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
type_burst (gpointer user_data)
{
  Typist *t = user_data;

  if (t->n == 0)
    {
      g_autofree char *text = g_strdup_printf ("#%" G_GINT64_FORMAT ";", g_get_monotonic_time ());

      flow_doc_insert_text (t->typing, flow_doc_get_length (t->typing), text, -1, NULL);
    }
  for (guint i = 0; i < PER_TURN && t->n < N_SUSTAINED; i++, t->n++)
    flow_doc_insert_text (t->typing, flow_doc_get_length (t->typing), "x", 1, NULL);
  if (t->n < N_SUSTAINED)
    return G_SOURCE_CONTINUE;
  flow_doc_insert_text (t->typing, flow_doc_get_length (t->typing), "$", 1, NULL);
  t->done = TRUE;
  return G_SOURCE_REMOVE;
}

typedef struct
{
  char     *line;
  gboolean  done;
} LineWait;

static void
line_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  LineWait *w = user_data;

  w->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  w->done = TRUE;
}

/* Reads a line from the child while the main loop keeps serving the room. */
static char *
read_line_serving (GDataInputStream *out)
{
  LineWait w = { 0 };

  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, NULL, line_cb, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  return w.line;
}

static void
waited_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
wait_child (GSubprocess *child)
{
  gboolean exited = FALSE;

  g_subprocess_wait_async (child, NULL, waited_cb, &exited);
  while (!exited)
    g_main_context_iteration (NULL, TRUE);
}

static char *
run_once (const char      *self_exe,
          const FlowTrace *trace,
          GError         **error)
{
  g_autofree char *dir = g_dir_make_tmp ("flowsync-bench-sync-XXXXXX", error);
  g_autofree char *path_a = NULL, *path_b = NULL, *link = NULL, *line = NULL, *result = NULL;
  g_autoptr(FlowRendezvousConfig) config = flow_rendezvous_config_new ();
  g_autoptr(FlowRendezvousServer) server = NULL;
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(FlowSyncInvite) invite = NULL;
  g_autoptr(FlowRoom) room = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *n_ops = NULL;
  FlowDoc *paper, *typing;
  Typist t = { 0 };

  if (dir == NULL)
    return NULL;
  path_a = g_build_filename (dir, "a.flowsync", NULL);
  path_b = g_build_filename (dir, "b.flowsync", NULL);

  /* A room whose page holds the whole automerge-paper history. */
  ws = flow_workspace_create (path_a, error);
  if (ws == NULL)
    return NULL;
  paper = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Paper", NULL, error);
  typing = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Typing", NULL, error);
  flow_doc_begin_change (paper);
  for (guint i = 0; i < trace->patches->len; i++)
    {
      const FlowTracePatch *p = &g_array_index (trace->patches, FlowTracePatch, i);

      if (p->del > 0)
        flow_doc_delete_text (paper, p->pos, p->del, NULL);
      if (p->ins_len > 0)
        flow_doc_insert_text (paper, p->pos, p->ins, (gssize) p->ins_len, NULL);
    }
  flow_doc_end_change (paper);
  if (!flow_store_flush (flow_workspace_get_store (ws), error))
    return NULL;

  g_free (config->listen);
  config->listen = g_strdup ("127.0.0.1");
  config->port = 0;
  config->stun_enabled = FALSE;
  server = flow_rendezvous_server_new (config);
  if (!flow_rendezvous_server_start (server, error))
    return NULL;
  invite = flow_sync_invite_new ("127.0.0.1", (guint16) flow_rendezvous_server_get_port (server),
                                 FLOW_SYNC_ROLE_EDIT);
  link = flow_sync_invite_to_string (invite);
  room = flow_test_join_loopback (ws, link, "first", 0x3584e4ff);

  n_ops = g_strdup_printf ("%" G_GUINT64_FORMAT, flow_doc_get_n_ops (paper));
  child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, error,
                            self_exe, "--child", link, path_b, n_ops, NULL);
  if (child == NULL)
    return NULL;
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (child));

  /* Serve the room until the child says it caught up. */
  line = read_line_serving (out);
  if (g_strcmp0 (line, "ready") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the joining process failed");
      return NULL;
    }

  /* Typing, one edit per millisecond. */
  t.typing = typing;
  g_timeout_add (1, type_one, &t);
  while (!t.done)
    g_main_context_iteration (NULL, TRUE);

  /* Sustained: as fast as we make them, PER_TURN ops per main-loop turn. */
  t.n = 0;
  t.done = FALSE;
  g_idle_add (type_burst, &t);
  while (!t.done)
    g_main_context_iteration (NULL, TRUE);

  result = read_line_serving (out);
  wait_child (child);

  flow_room_stop (room);
  g_clear_object (&room);
  flow_workspace_close (ws, NULL);
  g_clear_object (&ws);
  flow_rendezvous_server_stop (server);
  for (const char * const *suffix = (const char * const[]) { "", "-wal", "-shm", NULL }; *suffix; suffix++)
    {
      g_autofree char *a = g_strconcat (path_a, *suffix, NULL);
      g_autofree char *b = g_strconcat (path_b, *suffix, NULL);

      g_unlink (a);
      g_unlink (b);
    }
  g_rmdir (dir);
  if (result == NULL)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the joining process printed no result");
  return g_steal_pointer (&result);
}

static const char * const fields[] = {
  "catch_up_ms", "catch_up_after_link_ms", "latency_p50_ms", "latency_p99_ms",
  "sustained_ops_per_s",
};

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowTrace) trace = NULL;
  g_autofree char *trace_path = g_build_filename (TRACES_DIR, "automerge-paper.json.gz", NULL);
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  int n_runs = 3;
  GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &n_runs, "Runs to take the median of (default 3)", "N" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;

  if (argc == 5 && g_str_equal (argv[1], "--child"))
    return run_child (argv[2], argv[3], g_ascii_strtoull (argv[4], NULL, 10));

  context = g_option_context_new ("- peer-to-peer sync between two processes over loopback ICE");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || n_runs < 1)
    {
      g_printerr ("bench-sync: %s\n", error != NULL ? error->message : "--runs must be at least 1");
      return 2;
    }

  trace = flow_trace_load (trace_path, &error);
  if (trace == NULL)
    {
      g_printerr ("bench-sync: %s\n", error->message);
      return 1;
    }

  for (int i = 0; i < n_runs; i++)
    {
      g_autofree char *line = run_once (self_exe, trace, &error);
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (line == NULL || !json_parser_load_from_data (parser, line, -1, &error))
        {
          g_printerr ("bench-sync: run %d failed: %s\n", i + 1, error != NULL ? error->message : "?");
          return 1;
        }
      g_printerr ("bench-sync: run %d: %s\n", i + 1, line);
      g_ptr_array_add (runs, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
    }

  printf ("{\"bench\": \"sync\", \"runs\": %d, \"paper_patches\": %u, \"latency_edits\": %d, "
          "\"sustained_ops\": %d", n_runs, trace->patches->len, N_LATENCY, N_SUSTAINED);
  for (guint f = 0; f < G_N_ELEMENTS (fields); f++)
    {
      g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));

      for (guint i = 0; i < runs->len; i++)
        {
          double v = json_object_get_double_member (g_ptr_array_index (runs, i), fields[f]);

          g_array_append_val (values, v);
        }
      printf (", \"%s\": %.3f", fields[f], percentile (values, 0.5));
    }
  printf ("}\n");
  return 0;
}
