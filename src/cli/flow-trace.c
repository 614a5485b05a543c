/* flow-trace.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Editing traces (josephg/editing-traces format): loading and replaying.
 *
 * A sequential trace is a list of patches applied in order to one page. A
 * concurrent trace is a DAG of transactions: each names the transactions it
 * comes after. We replay it as the people did: one replica per agent; before
 * an agent's transaction its replica fetches, from the other replicas, by
 * version vector, exactly the ops of the transaction's parents; then the
 * patches are typed locally. At the end every replica is merged and the
 * text must equal the trace's endContent.
 */

#define G_LOG_DOMAIN "flow-trace"

#include "config.h"

#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "flow-trace.h"

G_DEFINE_QUARK (flow-trace-error-quark, flow_trace_error)

#define INVALID(...) \
  G_STMT_START { \
    g_set_error (error, FLOW_TRACE_ERROR, FLOW_TRACE_ERROR_INVALID, __VA_ARGS__); \
    return FALSE; \
  } G_STMT_END

static void
txn_clear (gpointer data)
{
  FlowTraceTxn *t = data;

  g_clear_pointer (&t->parents, g_free);
}

void
flow_trace_free (FlowTrace *trace)
{
  if (trace == NULL)
    return;
  g_free (trace->end_content);
  g_array_unref (trace->patches);
  g_string_free (trace->text, TRUE);
  g_array_unref (trace->txns);
  g_free (trace);
}

static gboolean
get_uint (JsonNode *node,
          guint    *out)
{
  gint64 v;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0 || v > G_MAXINT32)
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static gboolean
parse_patches (FlowTrace  *trace,
               JsonArray  *patches,
               guint       txn,
               GError    **error)
{
  for (guint i = 0; i < json_array_get_length (patches); i++)
    {
      JsonNode *node = json_array_get_element (patches, i);
      JsonArray *a;
      FlowTracePatch p = { 0, };
      const char *ins;

      if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (a = json_node_get_array (node)) < 3)
        INVALID ("Transaction %u, patch %u: expected [position, deleted, inserted]", txn, i);
      if (!get_uint (json_array_get_element (a, 0), &p.pos) ||
          !get_uint (json_array_get_element (a, 1), &p.del))
        INVALID ("Transaction %u, patch %u: position and deleted count must be whole numbers", txn, i);
      if (!JSON_NODE_HOLDS_VALUE (json_array_get_element (a, 2)) ||
          json_node_get_value_type (json_array_get_element (a, 2)) != G_TYPE_STRING)
        INVALID ("Transaction %u, patch %u: the inserted text must be a string", txn, i);
      ins = json_array_get_string_element (a, 2);
      p.ins_len = strlen (ins);
      p.ins_chars = (guint) g_utf8_strlen (ins, -1);
      /* An offset for now: the text moves while it grows. */
      p.ins = GSIZE_TO_POINTER (trace->text->len);
      g_string_append_len (trace->text, ins, (gssize) p.ins_len);
      g_array_append_val (trace->patches, p);
    }
  return TRUE;
}

static gboolean
parse_trace (FlowTrace  *trace,
             JsonNode   *root,
             GError    **error)
{
  JsonObject *obj;
  JsonArray *txns;
  JsonNode *node;

  if (!JSON_NODE_HOLDS_OBJECT (root))
    INVALID ("The trace is not a JSON object");
  obj = json_node_get_object (root);

  node = json_object_get_member (obj, "endContent");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    INVALID ("The trace has no “endContent” string");
  trace->end_content = g_strdup (json_node_get_string (node));

  node = json_object_get_member (obj, "kind");
  trace->concurrent = node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
                      g_strcmp0 (json_node_get_string (node), "concurrent") == 0;
  trace->n_agents = 1;
  if (trace->concurrent)
    {
      node = json_object_get_member (obj, "numAgents");
      if (!get_uint (node, &trace->n_agents) || trace->n_agents == 0 || trace->n_agents > 4096)
        INVALID ("A concurrent trace needs “numAgents” between 1 and 4096");
    }

  node = json_object_get_member (obj, "txns");
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    INVALID ("The trace has no “txns” array");
  txns = json_node_get_array (node);

  for (guint i = 0; i < json_array_get_length (txns); i++)
    {
      JsonNode *tn = json_array_get_element (txns, i);
      JsonObject *to;
      FlowTraceTxn t = { 0, };
      JsonNode *pn;

      if (!JSON_NODE_HOLDS_OBJECT (tn))
        INVALID ("Transaction %u is not an object", i);
      to = json_node_get_object (tn);
      pn = json_object_get_member (to, "patches");
      if (pn == NULL || !JSON_NODE_HOLDS_ARRAY (pn))
        INVALID ("Transaction %u has no “patches” array", i);

      t.first_patch = trace->patches->len;
      if (!parse_patches (trace, json_node_get_array (pn), i, error))
        return FALSE;
      t.n_patches = trace->patches->len - t.first_patch;

      if (trace->concurrent)
        {
          JsonNode *parents = json_object_get_member (to, "parents");
          JsonArray *pa;

          if (!get_uint (json_object_get_member (to, "agent"), &t.agent) || t.agent >= trace->n_agents)
            INVALID ("Transaction %u has no valid “agent”", i);
          if (parents == NULL || !JSON_NODE_HOLDS_ARRAY (parents))
            INVALID ("Transaction %u has no “parents” array", i);
          pa = json_node_get_array (parents);
          t.n_parents = json_array_get_length (pa);
          t.parents = g_new (guint, t.n_parents + 1);
          for (guint k = 0; k < t.n_parents; k++)
            if (!get_uint (json_array_get_element (pa, k), &t.parents[k]) || t.parents[k] >= i)
              {
                g_free (t.parents);
                INVALID ("Transaction %u: parents must name earlier transactions", i);
              }
          if (t.n_parents == 0 && i > 0)
            {
              g_free (t.parents);
              INVALID ("Transaction %u has no parents; only the first may", i);
            }
        }
      g_array_append_val (trace->txns, t);
    }

  return TRUE;
}

static FlowTrace *
load_trace (const char  *path,
            GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(FlowTrace) trace = g_new0 (FlowTrace, 1);

  trace->patches = g_array_new (FALSE, FALSE, sizeof (FlowTracePatch));
  trace->text = g_string_new (NULL);
  trace->txns = g_array_new (FALSE, FALSE, sizeof (FlowTraceTxn));
  g_array_set_clear_func (trace->txns, txn_clear);

  stream = G_INPUT_STREAM (g_file_read (file, NULL, error));
  if (stream == NULL)
    return NULL;
  if (g_str_has_suffix (path, ".gz"))
    {
      g_autoptr(GZlibDecompressor) gz = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
      GInputStream *plain = g_converter_input_stream_new (stream, G_CONVERTER (gz));

      g_object_unref (stream);
      stream = plain;
    }

  if (!json_parser_load_from_stream (parser, stream, NULL, error))
    return NULL;
  if (!parse_trace (trace, json_parser_get_root (parser), error))
    return NULL;
  for (guint i = 0; i < trace->patches->len; i++)
    {
      FlowTracePatch *p = &g_array_index (trace->patches, FlowTracePatch, i);

      p->ins = trace->text->str + GPOINTER_TO_SIZE (p->ins);
    }
  return g_steal_pointer (&trace);
}

typedef struct
{
  const char *path;
  FlowTrace  *trace;
  GError     *error;
} LoadJob;

static gpointer
load_thread (gpointer data)
{
  LoadJob *job = data;

  job->trace = load_trace (job->path, &job->error);
  return NULL;
}

/**
 * flow_trace_load:
 * @path: a trace, `.json` or gzip-compressed `.json.gz`
 * @error: return location for a #GError
 *
 * Parses in a thread of its own. A trace is millions of JSON nodes, freed
 * once read; glibc gives a new thread a malloc arena of its own, so that
 * garbage stays out of the arena the replays allocate from. Otherwise the
 * first replay pays for consolidating it: several times its own cost.
 *
 * Returns: (transfer full) (nullable): the trace
 */
FlowTrace *
flow_trace_load (const char  *path,
                 GError     **error)
{
  LoadJob job = { path, NULL, NULL };

  g_thread_join (g_thread_new ("trace-load", load_thread, &job));
  if (job.error != NULL)
    g_propagate_error (error, job.error);
  return job.trace;
}

/* ------------------------------------------------------------------------
 * Replay
 * ------------------------------------------------------------------------ */

static gboolean
apply_patches (FlowDoc         *doc,
               const FlowTrace *trace,
               guint            first,
               guint            n,
               GError         **error)
{
  for (guint i = first; i < first + n; i++)
    {
      const FlowTracePatch *p = &g_array_index (trace->patches, FlowTracePatch, i);
      guint len = flow_doc_get_length (doc);

      if (p->pos > len || p->del > len - p->pos)
        INVALID ("Patch %u edits at %u..%u, past the end of the text (%u characters)",
                 i, p->pos, p->pos + p->del, len);
      if (p->del > 0 && !flow_doc_delete_text (doc, p->pos, p->del, error))
        return FALSE;
      if (p->ins_len > 0 && !flow_doc_insert_text (doc, p->pos, p->ins, (gssize) p->ins_len, error))
        return FALSE;
    }
  return TRUE;
}

/* Brings @dst up to @target with ops fetched from @src. */
static gboolean
fetch (FlowDoc                 *dst,
       FlowDoc                 *src,
       const FlowVersionVector *target,
       GError                 **error)
{
  g_autoptr(FlowVersionVector) have = flow_doc_dup_version (dst);
  g_autoptr(GBytes) bytes = flow_doc_encode_between (src, have, target);

  return bytes == NULL || flow_doc_apply (dst, bytes, error);
}

typedef struct
{
  FlowDoc  *observer;
  GError  **error;
  gboolean  failed;
} Observer;

static void
forward_cb (FlowDoc    *doc,
            FlowChange *change,
            gpointer    user_data)
{
  Observer *o = user_data;

  if (o->failed || !flow_change_is_local (change))
    return;
  if (!flow_doc_apply (o->observer, flow_change_get_bytes (change), o->error))
    o->failed = TRUE;
}

static FlowDoc *
replay (const FlowTrace  *trace,
        Observer         *observer,
        GError          **error)
{
  static const FlowOpId page_id = { 0, 0 };
  g_autoptr(GPtrArray) replicas = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_version_vector_free);

  for (guint a = 0; a < trace->n_agents; a++)
    {
      /* Fixed replica ids keep replays reproducible. */
      FlowDoc *doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 0x464c4f5700000000ull + a + 1);

      if (observer != NULL)
        flow_doc_add_change_func (doc, forward_cb, observer, NULL);
      g_ptr_array_add (replicas, doc);
    }

  for (guint i = 0; i < trace->txns->len; i++)
    {
      const FlowTraceTxn *t = &g_array_index (trace->txns, FlowTraceTxn, i);
      FlowDoc *doc = g_ptr_array_index (replicas, t->agent);

      if (trace->concurrent)
        {
          g_autoptr(FlowVersionVector) target = flow_version_vector_new ();
          g_autoptr(FlowVersionVector) have = NULL;

          for (guint k = 0; k < t->n_parents; k++)
            flow_version_vector_merge (target, g_ptr_array_index (versions, t->parents[k]));
          for (guint a = 0; a < trace->n_agents; a++)
            if (a != t->agent && !fetch (doc, g_ptr_array_index (replicas, a), target, error))
              return NULL;
          have = flow_doc_dup_version (doc);
          if (!flow_version_vector_equal (have, target))
            {
              g_set_error (error, FLOW_TRACE_ERROR, FLOW_TRACE_ERROR_INVALID,
                           "Transaction %u: agent %u has edits its parents do not include", i, t->agent);
              return NULL;
            }
        }

      if (!apply_patches (doc, trace, t->first_patch, t->n_patches, error))
        return NULL;
      if (observer != NULL && observer->failed)
        return NULL;
      if (trace->concurrent)
        g_ptr_array_add (versions, flow_doc_dup_version (doc));
    }

  /* Merge everyone into the first replica. */
  for (guint a = 1; a < trace->n_agents; a++)
    {
      g_autoptr(FlowVersionVector) have = flow_doc_dup_version (replicas->pdata[0]);
      g_autoptr(GBytes) bytes = flow_doc_encode_since (replicas->pdata[a], have);

      if (bytes != NULL && !flow_doc_apply (replicas->pdata[0], bytes, error))
        return NULL;
    }

  return g_object_ref (replicas->pdata[0]);
}

/**
 * flow_trace_replay:
 * @trace: a trace
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the final page
 */
FlowDoc *
flow_trace_replay (const FlowTrace  *trace,
                   GError          **error)
{
  return replay (trace, NULL, error);
}

static gboolean
text_matches (FlowDoc         *doc,
              const FlowTrace *trace)
{
  g_autofree char *text = flow_doc_dup_text (doc);

  return strcmp (text, trace->end_content) == 0;
}

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (double *v,
        guint   n)
{
  qsort (v, n, sizeof (double), cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
ms_since (gint64 t0)
{
  return (g_get_monotonic_time () - t0) / 1000.0;
}

/**
 * flow_trace_measure:
 * @trace: a trace
 * @runs: how many times to time each figure, at least 1
 * @result: (out): the figures
 * @error: return location for a #GError
 *
 * Replays @trace three ways and times each (wall clock, the median of
 * @runs runs in this process):
 *  - replay: the plain replay;
 *  - updates: every local change is encoded as an update message, decoded
 *    and applied on a second replica, which must end with the same text;
 *  - load: the final page encoded whole, decoded and turned into text.
 * The first run of each also pays for the process's fresh memory, as a
 * long-running app would not.
 *
 * Returns: %FALSE if the trace could not be replayed (bad input)
 */
gboolean
flow_trace_measure (const FlowTrace  *trace,
                    guint             runs,
                    FlowTraceResult  *result,
                    GError          **error)
{
  static const FlowOpId page_id = { 0, 0 };
  g_autofree double *ms = g_new (double, MAX (runs, 1));
  g_autoptr(FlowDoc) doc = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  gboolean observed_ok = TRUE;
  gint64 t0;

  g_return_val_if_fail (runs > 0, FALSE);

  memset (result, 0, sizeof *result);
  result->runs = runs;

  for (guint r = 0; r < runs; r++)
    {
      g_clear_object (&doc);
      t0 = g_get_monotonic_time ();
      doc = replay (trace, NULL, error);
      ms[r] = ms_since (t0);
      if (doc == NULL)
        return FALSE;
    }
  result->replay_ms = median (ms, runs);
  result->ops = flow_doc_get_n_ops (doc);

  for (guint r = 0; r < runs; r++)
    {
      g_autoptr(FlowDoc) observer_doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
      g_autoptr(FlowDoc) observed = NULL;
      Observer observer = { observer_doc, error, FALSE };

      t0 = g_get_monotonic_time ();
      observed = replay (trace, &observer, error);
      ms[r] = ms_since (t0);
      if (observed == NULL)
        return FALSE;
      observed_ok = observed_ok && text_matches (observer_doc, trace);
    }
  result->updates_ms = median (ms, runs);

  bytes = flow_doc_encode (doc);
  result->encoded_bytes = g_bytes_get_size (bytes);
  result->matches = text_matches (doc, trace) && observed_ok;
  g_clear_object (&doc);

  for (guint r = 0; r < runs; r++)
    {
      g_clear_object (&loaded);
      g_clear_pointer (&text, g_free);
      t0 = g_get_monotonic_time ();
      loaded = flow_doc_load (bytes, 2, error);
      if (loaded == NULL)
        return FALSE;
      text = flow_doc_dup_text (loaded);
      ms[r] = ms_since (t0);
    }
  result->load_ms = median (ms, runs);
  result->matches = result->matches && strcmp (text, trace->end_content) == 0;
  result->doc_bytes = flow_doc_get_memory_size (loaded);

  return TRUE;
}
