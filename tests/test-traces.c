/* test-traces.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "flow-test-util.h"
#include "flow-trace.h"

/* Every trace, sequential or concurrent, replays to exactly endContent, and
 * so do its update messages on a second replica and its encoded form. */
static void
test_trace (gconstpointer data)
{
  const char *name = data;
  g_autofree char *path = flow_test_data_path (name);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowTrace) trace = flow_trace_load (path, &error);
  FlowTraceResult result;

  g_assert_no_error (error);
  g_assert_nonnull (trace);

  g_assert_true (flow_trace_measure (trace, 1, &result, &error));
  g_assert_no_error (error);
  g_assert_true (result.matches);
  g_assert_cmpuint (result.ops, >, 0);
  g_assert_cmpuint (result.encoded_bytes, >, 0);
}

static void
test_bad_trace (void)
{
  static const char *bad[] = {
    "[]",
    "{\"txns\": []}",
    "{\"endContent\": \"\", \"txns\": [{\"patches\": [[5, 0, \"x\"]]}]}",
    "{\"endContent\": \"\", \"txns\": [{\"patches\": [[0, 1, \"\"]]}]}",
    "{\"endContent\": \"\", \"txns\": [{\"patches\": [[-1, 0, \"x\"]]}]}",
    "{\"endContent\": \"\", \"txns\": [{\"patches\": [[0, 0]]}]}",
    "{\"kind\": \"concurrent\", \"numAgents\": 1, \"endContent\": \"\", \"txns\": [{\"agent\": 3, \"parents\": [], \"patches\": []}]}",
    "{\"kind\": \"concurrent\", \"numAgents\": 2, \"endContent\": \"\", \"txns\": [{\"agent\": 0, \"parents\": [0], \"patches\": []}]}",
    "not json",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowTrace) trace = NULL;
      int fd = g_file_open_tmp ("flow-trace-XXXXXX.json", &path, &error);
      g_autoptr(FlowDoc) doc = NULL;

      g_assert_no_error (error);
      g_assert_true (g_file_set_contents (path, bad[i], -1, &error));
      close (fd);

      trace = flow_trace_load (path, &error);
      if (trace != NULL)
        doc = flow_trace_replay (trace, &error);
      g_assert_nonnull (error);
      g_assert_null (doc);
      g_unlink (path);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/flow/traces/sequential/automerge-paper",
                        "traces/automerge-paper.json.gz", test_trace);
  g_test_add_data_func ("/flow/traces/sequential/sveltecomponent",
                        "traces/sveltecomponent.json.gz", test_trace);
  g_test_add_data_func ("/flow/traces/sequential/friendsforever-flat",
                        "traces/friendsforever_flat.json.gz", test_trace);
  g_test_add_data_func ("/flow/traces/concurrent/friendsforever",
                        "traces/friendsforever.json.gz", test_trace);
  g_test_add_func ("/flow/traces/bad-input", test_bad_trace);

  return g_test_run ();
}
