/* bench-traces.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Runs `flowsync-cli replay-trace --json` on every trace, several times
 * each, each run a fresh process (which itself reports medians of five
 * runs), and prints the median of every figure as one JSON object per
 * trace (a JSON array in all).
 *
 * Usage: bench-traces [--runs N] [--cli PATH] [TRACE...]
 * Defaults: 5 runs, the flowsync-cli next to this build, the traces in
 * tests/data/traces.
 */

#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>

static const char *figures[] = {
  "replay_ms", "updates_ms", "encoded_bytes", "load_ms", "doc_bytes", "peak_rss_kb",
};

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static JsonObject *
run_once (const char  *cli,
          const char  *trace,
          GError     **error)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, error,
                           cli, "replay-trace", "--json", trace, NULL);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, error))
    return NULL;
  if (!g_subprocess_get_successful (proc))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "replay-trace failed on %s", trace);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, out, -1, error))
    return NULL;
  root = json_parser_get_root (parser);
  return json_object_ref (json_node_get_object (root));
}

int
main (int   argc,
      char *argv[])
{
  static int runs = 5;
  static char *cli;
  static const GOptionEntry entries[] = {
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Runs per trace (default 5)", "N" },
    { "cli", 0, 0, G_OPTION_ARG_FILENAME, &cli, "The flowsync-cli to run", "PATH" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[TRACE…]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) traces = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || runs < 1)
    {
      fprintf (stderr, "bench-traces: %s\n", error ? error->message : "--runs must be at least 1");
      return 2;
    }
  if (cli == NULL)
    cli = g_strdup (FLOWSYNC_CLI);

  for (int i = 1; i < argc; i++)
    g_ptr_array_add (traces, g_strdup (argv[i]));
  if (traces->len == 0)
    {
      static const char *names[] = {
        "automerge-paper", "sveltecomponent", "friendsforever_flat", "friendsforever",
      };

      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        g_ptr_array_add (traces, g_strdup_printf ("%s/%s.json.gz", TRACES_DIR, names[i]));
    }

  json_builder_begin_array (b);
  for (guint t = 0; t < traces->len; t++)
    {
      g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
      JsonObject *first;
      gboolean matches = TRUE;

      for (int r = 0; r < runs; r++)
        {
          JsonObject *o = run_once (cli, traces->pdata[t], &error);

          if (o == NULL)
            {
              fprintf (stderr, "bench-traces: %s\n", error->message);
              return 1;
            }
          matches = matches && json_object_get_boolean_member (o, "matches");
          g_ptr_array_add (results, o);
        }
      first = results->pdata[0];

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "trace");
      json_builder_add_string_value (b, json_object_get_string_member (first, "trace"));
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, json_object_get_string_member (first, "kind"));
      json_builder_set_member_name (b, "ops");
      json_builder_add_int_value (b, json_object_get_int_member (first, "ops"));
      json_builder_set_member_name (b, "matches");
      json_builder_add_boolean_value (b, matches);
      json_builder_set_member_name (b, "runs");
      json_builder_add_int_value (b, runs);
      for (guint f = 0; f < G_N_ELEMENTS (figures); f++)
        {
          g_autofree double *v = g_new (double, runs);

          for (int r = 0; r < runs; r++)
            v[r] = json_object_get_double_member (results->pdata[r], figures[f]);
          qsort (v, runs, sizeof (double), cmp_double);
          json_builder_set_member_name (b, figures[f]);
          json_builder_add_double_value (b, v[runs / 2]);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
  return 0;
}
