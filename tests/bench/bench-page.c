/* bench-page.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The page editor's costs, as one JSON object (medians of several runs;
 * nothing asserts on time). Needs a display: run it under xvfb-run.
 *
 *  - open_100k_ms: from creating the page view for the automerge-paper
 *    document (its final text, ~104,000 characters, with the whole
 *    history) to the end of the window's first paint.
 *  - keystroke_to_queued_us p50/p99: from a keystroke into the buffer to
 *    its op being encoded and queued in the store's write-behind log (the
 *    work on the UI thread). keystroke_to_committed_ms p50/p99: to the
 *    op's transaction being committed to SQLite (WAL) by the writer
 *    thread, for the first 200 keystrokes (each waits for its commit).
 *    Both are measured once the store has finished what opening queued.
 * Rendering uses GTK's cairo renderer unless GSK_RENDERER says otherwise.
 *
 *  - remote_trace_ms: every edit of the automerge-paper trace made on
 *    another replica, sent as its own update message, decoded, applied
 *    and shown in the view. Messages are applied in slices of at most
 *    8 ms per main-loop turn, as the sync layer delivers them (each turn
 *    a burst, flow_doc_begin_burst()), so the UI keeps painting and
 *    restyling on the way; timed until the last paint.
 *
 * Usage: bench-page [--runs N] [TRACE.json.gz]
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "flow-page-view.h"
#include "flow-store-search.h"
#include "flow-trace.h"
#include "flow-workspace.h"

static const FlowOpId page_id = { 7, 7 };

/* How long one main-loop turn applies incoming messages (remote_trace). */
#define SLICE_US 8000

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
  guint i;

  if (values->len == 0)
    return 0;
  g_array_sort (values, cmp_double);
  i = MIN (values->len - 1, (guint) (p * (values->len - 1) + 0.5));
  return g_array_index (values, double, i);
}

static void
run_pending (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
after_paint_cb (GdkFrameClock *clock,
                gboolean      *painted)
{
  *painted = TRUE;
}

/* Shows @child in a fresh window; returns ms until its first paint ended. */
static double
show_and_paint (GtkWidget *child,
                gint64     t0,
                GtkWindow **out_window)
{
  GtkWindow *window = GTK_WINDOW (gtk_window_new ());
  gboolean painted = FALSE;
  GdkFrameClock *clock;
  gulong id;

  gtk_window_set_default_size (window, 1200, 800);
  gtk_window_set_child (window, child);
  gtk_window_present (window);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &painted);
  while (!painted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, id);
  *out_window = window;
  return (g_get_monotonic_time () - t0) / 1000.0;
}

static double
bench_open (FlowDoc *doc)
{
  gint64 t0 = g_get_monotonic_time ();
  GtkWindow *window = NULL;
  GtkWidget *view = GTK_WIDGET (flow_page_view_new (doc));
  double new_ms = (g_get_monotonic_time () - t0) / 1000.0;
  double ms = show_and_paint (view, t0, &window);

  if (g_getenv ("BENCH_PAGE_VERBOSE"))
    g_printerr ("open: view %.1f ms, first paint %.1f ms\n", new_ms, ms);
  gtk_window_destroy (window);
  run_pending ();
  return ms;
}

static void
bench_keystrokes (const char *text,
                  GArray     *queued_us,
                  GArray     *committed_ms,
                  guint       n_keys,
                  guint       n_commits)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-bench-page-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "bench.flowsync", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (path, &error);
  FlowStore *store;
  FlowDoc *page;
  GtkWindow *window = NULL;
  FlowPageView *view;
  GtkTextBuffer *buffer;
  GtkTextIter it;

  g_assert_no_error (error);
  store = flow_workspace_get_store (ws);
  page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "bench", NULL, &error);
  g_assert_true (flow_doc_insert_text (page, 0, text, -1, &error));
  g_assert_true (flow_store_flush (store, &error));
  view = flow_page_view_new (page);
  show_and_paint (GTK_WIDGET (view), g_get_monotonic_time (), &window);
  buffer = flow_page_view_get_buffer (view);
  gtk_text_buffer_get_iter_at_offset (buffer, &it, gtk_text_buffer_get_char_count (buffer) / 2);
  gtk_text_buffer_place_cursor (buffer, &it);
  /* Let the store finish what opening queued (the page's first search
   * index entry) so the figures are those of typing, not of startup. */
  g_assert_true (flow_store_reindex (store, &error));
  g_assert_true (flow_store_flush (store, &error));
  run_pending ();

  for (guint i = 0; i < n_keys; i++)
    {
      guint64 before = flow_store_get_queued (store);
      gint64 t0 = g_get_monotonic_time ();
      double us;

      gtk_text_buffer_insert_at_cursor (buffer, i % 7 == 6 ? " " : "k", 1);
      us = (double) (g_get_monotonic_time () - t0);
      g_assert_cmpuint (flow_store_get_queued (store), >, before);
      g_array_append_val (queued_us, us);
      /* Let styling and frames run between keystrokes, as typing does. */
      if (i % 4 == 0)
        run_pending ();

      if (i < n_commits)
        {
          guint64 target = flow_store_get_queued (store);
          double ms;

          while (flow_store_get_committed (store) < target)
            g_main_context_iteration (NULL, TRUE);
          ms = (g_get_monotonic_time () - t0) / 1000.0;
          g_array_append_val (committed_ms, ms);
          if (g_getenv ("BENCH_PAGE_VERBOSE"))
            g_printerr ("commit %u: %.2f ms\n", i, ms);
        }
    }
  gtk_window_destroy (window);
  run_pending ();
  g_assert_true (flow_workspace_close (ws, &error));
  g_unlink (path);
  g_rmdir (dir);
}

typedef struct
{
  FlowDoc *target;
} Relay;

static void
relay_cb (FlowDoc    *doc,
          FlowChange *change,
          gpointer    user_data)
{
  Relay *relay = user_data;
  g_autoptr(GError) error = NULL;

  if (!flow_doc_apply (relay->target, flow_change_get_bytes (change), &error))
    g_error ("apply: %s", error->message);
}

static double
bench_remote_trace (const FlowTrace *trace,
                    char           **final_text)
{
  g_autoptr(FlowDoc) source = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  g_autoptr(FlowDoc) target = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 2);
  Relay relay = { target };
  GtkWindow *window = NULL;
  FlowPageView *view = flow_page_view_new (target);
  gint64 t0;
  double ms;
  GtkTextIter s, e;

  show_and_paint (GTK_WIDGET (view), g_get_monotonic_time (), &window);
  flow_doc_add_change_func (source, relay_cb, &relay, NULL);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < trace->patches->len;)
    {
      gint64 slice_end = g_get_monotonic_time () + SLICE_US;

      flow_doc_begin_burst (target);
      /* One main-loop turn's worth of incoming messages, as the sync
       * layer delivers them: at most SLICE_US of applying, then the loop
       * runs once (restyling, painting) before the next slice. */
      do
        {
          const FlowTracePatch *p = &g_array_index (trace->patches, FlowTracePatch, i);

          if (p->del > 0)
            flow_doc_delete_text (source, p->pos, p->del, NULL);
          if (p->ins_len > 0)
            flow_doc_insert_text (source, p->pos, p->ins, p->ins_len, NULL);
          i++;
        }
      while (i < trace->patches->len && (i % 16 != 0 || g_get_monotonic_time () < slice_end));
      flow_doc_end_burst (target);
      g_main_context_iteration (NULL, FALSE);
    }
  /* Until the view has caught up and painted. */
  run_pending ();
  {
    GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
    gboolean painted = FALSE;
    gulong id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &painted);

    gtk_widget_queue_draw (GTK_WIDGET (view));
    while (!painted)
      g_main_context_iteration (NULL, TRUE);
    g_signal_handler_disconnect (clock, id);
  }
  ms = (g_get_monotonic_time () - t0) / 1000.0;
  gtk_text_buffer_get_bounds (flow_page_view_get_buffer (view), &s, &e);
  *final_text = gtk_text_buffer_get_text (flow_page_view_get_buffer (view), &s, &e, FALSE);
  gtk_window_destroy (window);
  run_pending ();
  return ms;
}

int
main (int   argc,
      char *argv[])
{
  const char *path = TRACES_DIR "/automerge-paper.json.gz";
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowTrace) trace = NULL;
  g_autoptr(FlowDoc) doc = NULL;
  g_autoptr(GArray) open_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) remote_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) queued_us = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) committed_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *text = NULL;
  guint runs = 5;
  gboolean matches = TRUE;
  const char *only = g_getenv ("BENCH_PAGE_ONLY");  /* open, keys or remote: for profiling */

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--runs") && i + 1 < argc)
        {
          int n = atoi (argv[++i]);

          runs = MAX (1, n);
        }
      else
        path = argv[i];
    }

  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("ADW_DISABLE_PORTAL", "1", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* Under Xvfb GL is llvmpipe, software rendering far slower than any
   * GPU; GTK's cairo renderer is the fair stand-in (PLATFORM.md). */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  if (!gtk_init_check ())
    {
      printf ("{ \"error\": \"no display: run bench-page under xvfb-run\" }\n");
      return 1;
    }
  adw_init ();

  trace = flow_trace_load (path, &error);
  if (trace == NULL)
    {
      fprintf (stderr, "bench-page: %s\n", error->message);
      return 1;
    }
  doc = flow_trace_replay (trace, &error);
  text = flow_doc_dup_text (doc);

  for (guint r = 0; r < runs && (!only || g_str_equal (only, "open")); r++)
    {
      double ms = bench_open (doc);

      g_array_append_val (open_ms, ms);
    }
  if (!only || g_str_equal (only, "keys"))
    bench_keystrokes (text, queued_us, committed_ms, 2000, 200);
  for (guint r = 0; r < MAX (1, runs / 2) && (!only || g_str_equal (only, "remote")); r++)
    {
      g_autofree char *shown = NULL;
      double ms = bench_remote_trace (trace, &shown);

      g_array_append_val (remote_ms, ms);
      matches = matches && g_strcmp0 (shown, trace->end_content) == 0;
    }

  printf ("{\n"
          "  \"trace\": \"automerge-paper\",\n"
          "  \"page_chars\": %ld,\n"
          "  \"runs\": %u,\n"
          "  \"open_100k_ms\": %.1f,\n"
          "  \"keystrokes\": %u,\n"
          "  \"keystroke_to_queued_us_p50\": %.1f,\n"
          "  \"keystroke_to_queued_us_p99\": %.1f,\n"
          "  \"keystroke_to_committed_ms_p50\": %.1f,\n"
          "  \"keystroke_to_committed_ms_p99\": %.1f,\n"
          "  \"remote_trace_edits\": %u,\n"
          "  \"remote_trace_ms\": %.1f,\n"
          "  \"remote_trace_matches\": %s,\n"
          "  \"targets\": { \"open_100k_ms\": 100, \"keystroke_p99_ms\": 2, \"remote_trace_ms\": 2000 }\n"
          "}\n",
          g_utf8_strlen (text, -1), runs, percentile (open_ms, 0.5),
          queued_us->len, percentile (queued_us, 0.5), percentile (queued_us, 0.99),
          percentile (committed_ms, 0.5), percentile (committed_ms, 0.99),
          trace->patches->len, percentile (remote_ms, 0.5), matches ? "true" : "false");
  return 0;
}
