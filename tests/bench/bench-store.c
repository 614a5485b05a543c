/* bench-store.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Ops persisted per second by the store: a page receives N ops through
 * its edit API, each change queued write-behind, and the clock stops when
 * flow_store_flush() says all of them are committed. Two shapes of load:
 * one op per change (every keystroke its own row: the worst case) and 100
 * ops per change (pastes, remote batches). Prints the median of several
 * runs as JSON.
 *
 * Usage: bench-store [--ops N] [--runs R]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "flow-workspace.h"

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
run_once (guint   n_ops,
          guint   per_change,
          GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-bench-store-XXXXXX", error);
  g_autofree char *path = NULL;
  g_autofree char *chunk = NULL;
  g_autoptr(FlowWorkspace) ws = NULL;
  FlowDoc *page;
  gint64 t0;
  double secs;

  if (dir == NULL)
    return -1;
  path = g_build_filename (dir, "bench.flowsync", NULL);
  ws = flow_workspace_create (path, error);
  if (ws == NULL)
    return -1;
  page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "bench", NULL, error);
  if (page == NULL || !flow_store_flush (flow_workspace_get_store (ws), error))
    return -1;

  chunk = g_strnfill (per_change, 'x');
  t0 = g_get_monotonic_time ();
  for (guint done = 0; done < n_ops; done += per_change)
    if (!flow_doc_insert_text (page, done, chunk, per_change, error))
      return -1;
  if (!flow_store_flush (flow_workspace_get_store (ws), error))
    return -1;
  secs = (g_get_monotonic_time () - t0) / (double) G_USEC_PER_SEC;

  if (!flow_workspace_close (ws, error))
    return -1;
  g_unlink (path);
  g_rmdir (dir);
  return n_ops / secs;
}

int
main (int   argc,
      char *argv[])
{
  static int n_ops = 200000;
  static int runs = 5;
  static const GOptionEntry entries[] = {
    { "ops", 0, 0, G_OPTION_ARG_INT, &n_ops, "Ops per run (default 200000)", "N" },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs (default 5)", "R" },
    { NULL }
  };
  static const guint shapes[] = { 1, 100 };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || runs < 1 || n_ops < 100)
    {
      fprintf (stderr, "bench-store: %s\n", error ? error->message : "bad arguments");
      return 2;
    }

  printf ("{\n  \"ops\": %d,\n  \"runs\": %d", n_ops, runs);
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autofree double *v = g_new (double, runs);

      for (int r = 0; r < runs; r++)
        if ((v[r] = run_once ((guint) n_ops, shapes[s], &error)) < 0)
          {
            fprintf (stderr, "bench-store: %s\n", error->message);
            return 1;
          }
      qsort (v, runs, sizeof (double), cmp_double);
      printf (",\n  \"ops_per_s_%u_per_change\": %.0f", shapes[s], v[runs / 2]);
    }
  printf ("\n}\n");
  return 0;
}
