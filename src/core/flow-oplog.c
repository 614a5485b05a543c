/* flow-oplog.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The causal graph of one document.
 *
 * Every op has an id (replica, seq) and a set of parents: the ops that were
 * the document's heads when it was made. Locally we number ops by LV, the
 * order in which this replica applied them. Because we only ever apply an
 * op after all of its parents, LV order is a topological order of the graph,
 * and any prefix of it is a valid document version.
 *
 * Invariants:
 *  - seqs are dense per replica: (r, s) is applied only after (r, s - 1);
 *  - so "which ops do we have" is exactly a version vector (next seq per
 *    replica), and "the ops a peer lacks" is one seq suffix per replica;
 *  - lamport(op) = 1 + max lamport(parents), 0 for a root op. It is derived
 *    here from the graph and never trusted from the wire.
 *
 * Storage is run-length encoded three ways, all append-only:
 *  - agent runs (by LV) answer "which id is this LV";
 *  - seq runs (per agent, by seq) answer "which LV is this id";
 *  - graph runs (by LV) hold parents and lamport timestamps; inside a run
 *    each op's only parent is the op before it, which is how ops typed one
 *    after another are stored.
 * A document typed by one person is one run of each, whatever its length.
 * Lookups are binary searches with a one-entry cache, since callers tend to
 * look at the same neighbourhood repeatedly.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "flow-oplog-private.h"
#include "flow-runs-private.h"

/* ------------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------------ */

FLOW_RUNS_CHECK (FlowAgentRun, lv, len);
FLOW_RUNS_CHECK (FlowGraphRun, lv, len);

FlowOpLog *
flow_oplog_new (void)
{
  FlowOpLog *log = g_new0 (FlowOpLog, 1);

  log->agents = g_array_new (FALSE, FALSE, sizeof (FlowReplicaId));
  log->agent_index = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  log->seq_runs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  log->agent_runs = g_array_new (FALSE, FALSE, sizeof (FlowAgentRun));
  log->graph_runs = g_array_new (FALSE, FALSE, sizeof (FlowGraphRun));
  log->parents = g_array_new (FALSE, FALSE, sizeof (FlowLv));
  log->frontier = g_array_new (FALSE, FALSE, sizeof (FlowLv));
  log->last_agent = G_MAXUINT32;
  return log;
}

void
flow_oplog_free (FlowOpLog *log)
{
  if (log == NULL)
    return;
  g_array_unref (log->agents);
  g_hash_table_unref (log->agent_index);
  g_ptr_array_unref (log->seq_runs);
  g_array_unref (log->agent_runs);
  g_array_unref (log->graph_runs);
  g_array_unref (log->parents);
  g_array_unref (log->frontier);
  g_free (log);
}

gsize
flow_oplog_memory (const FlowOpLog *log)
{
  gsize total = sizeof *log;

  total += log->agents->len * sizeof (FlowReplicaId);
  total += log->agent_runs->len * sizeof (FlowAgentRun);
  total += log->graph_runs->len * sizeof (FlowGraphRun);
  total += (log->parents->len + log->frontier->len) * sizeof (FlowLv);
  for (guint i = 0; i < log->seq_runs->len; i++)
    total += ((GArray *) log->seq_runs->pdata[i])->len * sizeof (FlowSeqRun);
  return total;
}

/* ------------------------------------------------------------------------
 * Agents
 * ------------------------------------------------------------------------ */

/* Returns the agent index of @replica, adding it if needed. Agent indexes
 * are local, like LVs. */
guint32
flow_oplog_agent (FlowOpLog     *log,
                  FlowReplicaId  replica)
{
  guint32 agent;

  if (flow_oplog_find_agent (log, replica, &agent))
    return agent;

  agent = log->agents->len;
  g_array_append_val (log->agents, replica);
  g_hash_table_insert (log->agent_index,
                       g_memdup2 (&replica, sizeof replica),
                       GUINT_TO_POINTER (agent + 1));
  g_ptr_array_add (log->seq_runs, g_array_new (FALSE, FALSE, sizeof (FlowSeqRun)));
  return agent;
}

gboolean
flow_oplog_find_agent (const FlowOpLog *log,
                       FlowReplicaId    replica,
                       guint32         *agent)
{
  gpointer value;

  /* Batches mostly name one replica over and over. */
  if (log->last_agent < log->agents->len && log->last_replica == replica)
    {
      *agent = log->last_agent;
      return TRUE;
    }
  value = g_hash_table_lookup (log->agent_index, &replica);
  if (value == NULL)
    return FALSE;
  *agent = GPOINTER_TO_UINT (value) - 1;
  ((FlowOpLog *) log)->last_replica = replica;
  ((FlowOpLog *) log)->last_agent = *agent;
  return TRUE;
}

guint64
flow_oplog_next_seq (const FlowOpLog *log,
                     guint32          agent)
{
  GArray *runs = g_ptr_array_index (log->seq_runs, agent);
  const FlowSeqRun *last;

  if (runs->len == 0)
    return 0;
  last = &g_array_index (runs, FlowSeqRun, runs->len - 1);
  return last->seq + last->len;
}

/* ------------------------------------------------------------------------
 * Appending
 * ------------------------------------------------------------------------ */

static gint
lv_cmp (gconstpointer a,
        gconstpointer b)
{
  FlowLv x = *(const FlowLv *) a;
  FlowLv y = *(const FlowLv *) b;

  return x < y ? -1 : x > y;
}

static void
frontier_advance (FlowOpLog    *log,
                  const FlowLv *parents,
                  guint         n_parents,
                  FlowLv        head)
{
  GArray *f = log->frontier;

  /* The common case: the new run follows the only head. */
  if (f->len == 1 && n_parents == 1 && g_array_index (f, FlowLv, 0) == parents[0])
    {
      g_array_index (f, FlowLv, 0) = head;
      return;
    }

  for (guint i = 0; i < n_parents; i++)
    for (guint j = 0; j < f->len; j++)
      if (g_array_index (f, FlowLv, j) == parents[i])
        {
          g_array_remove_index (f, j);
          break;
        }
  g_array_append_val (f, head);
  g_array_sort (f, lv_cmp);
}

/*
 * flow_oplog_push:
 *
 * Appends @len ops by @agent with seqs [@seq, @seq + @len). The first op has
 * @parents (LVs, each < log->len); every later op has the op before it as
 * its only parent. The caller guarantees @seq == flow_oplog_next_seq() and
 * that the parents exist: this is the causal-delivery invariant, checked
 * by the callers that handle remote input.
 *
 * Returns: the LV of the first op. O(n_parents) plus amortised O(1).
 */
FlowLv
flow_oplog_push (FlowOpLog    *log,
                 guint32       agent,
                 guint64       seq,
                 guint32       len,
                 const FlowLv *parents,
                 guint         n_parents)
{
  FlowLv lv = log->len;
  GArray *seq_runs = g_ptr_array_index (log->seq_runs, agent);
  guint32 lamport = 0;

  g_assert (len > 0);
  g_assert (seq == flow_oplog_next_seq (log, agent));
  g_assert ((guint64) log->len + len < FLOW_LV_NONE);

  /* Agent runs. */
  if (log->agent_runs->len > 0)
    {
      FlowAgentRun *last = &g_array_index (log->agent_runs, FlowAgentRun,
                                           log->agent_runs->len - 1);

      if (last->agent == agent && last->seq + last->len == seq)
        last->len += len;
      else
        {
          FlowAgentRun run = { lv, len, agent, 0, seq };
          g_array_append_val (log->agent_runs, run);
        }
    }
  else
    {
      FlowAgentRun run = { lv, len, agent, 0, seq };
      g_array_append_val (log->agent_runs, run);
    }

  /* Seq runs. */
  if (seq_runs->len > 0 &&
      g_array_index (seq_runs, FlowSeqRun, seq_runs->len - 1).lv +
      g_array_index (seq_runs, FlowSeqRun, seq_runs->len - 1).len == lv)
    g_array_index (seq_runs, FlowSeqRun, seq_runs->len - 1).len += len;
  else
    {
      FlowSeqRun run = { seq, lv, len };
      g_array_append_val (seq_runs, run);
    }

  /* Graph runs: a run that follows the last op continues its graph run,
   * and its lamport follows from it. */
  if (n_parents == 1 && parents[0] + 1 == lv && log->graph_runs->len > 0)
    g_array_index (log->graph_runs, FlowGraphRun, log->graph_runs->len - 1).len += len;
  else
    {
      FlowGraphRun run;

      for (guint i = 0; i < n_parents; i++)
        {
          guint32 l = flow_oplog_lamport (log, parents[i]) + 1;

          g_assert (parents[i] < lv);
          lamport = MAX (lamport, l);
        }
      run = (FlowGraphRun) { lv, len, lamport, log->parents->len, n_parents };

      g_array_append_vals (log->parents, parents, n_parents);
      g_array_append_val (log->graph_runs, run);
    }

  log->len += len;
  frontier_advance (log, parents, n_parents, lv + len - 1);
  return lv;
}

/*
 * flow_oplog_push_local:
 *
 * Appends @len new ops by @agent (our own replica) whose parents are the
 * current frontier: a local edit happens after everything we have seen.
 */
FlowLv
flow_oplog_push_local (FlowOpLog *log,
                       guint32    agent,
                       guint32    len)
{
  FlowLv stack[8];
  g_autofree FlowLv *heap = NULL;
  FlowLv *parents = stack;
  guint n = log->frontier->len;

  /* Typing on: our previous op is the only head and ends every run, so
   * each run just grows. */
  if (n == 1 && log->len > 0 &&
      g_array_index (log->frontier, FlowLv, 0) == log->len - 1)
    {
      FlowAgentRun *ar = &g_array_index (log->agent_runs, FlowAgentRun, log->agent_runs->len - 1);
      GArray *seq_runs = g_ptr_array_index (log->seq_runs, agent);

      if (ar->agent == agent && seq_runs->len > 0)
        {
          FlowSeqRun *sr = &g_array_index (seq_runs, FlowSeqRun, seq_runs->len - 1);

          if (sr->lv + sr->len == log->len)
            {
              FlowLv lv = log->len;

              ar->len += len;
              sr->len += len;
              g_array_index (log->graph_runs, FlowGraphRun, log->graph_runs->len - 1).len += len;
              log->len += len;
              g_array_index (log->frontier, FlowLv, 0) = log->len - 1;
              return lv;
            }
        }
    }

  /* push() rewrites the frontier while reading the parents: copy them. */
  if (n > G_N_ELEMENTS (stack))
    parents = heap = g_new (FlowLv, n);
  if (n > 0)
    memcpy (parents, log->frontier->data, n * sizeof (FlowLv));

  return flow_oplog_push (log, agent, flow_oplog_next_seq (log, agent), len, parents, n);
}

/* ------------------------------------------------------------------------
 * Lookups
 * ------------------------------------------------------------------------ */

static guint
find_agent_run (FlowOpLog *log,
                FlowLv     lv)
{
  g_assert (lv < log->len);

  return flow_runs_find (log->agent_runs->data, log->agent_runs->len,
                         sizeof (FlowAgentRun), lv, &log->agent_cache);
}

void
flow_oplog_lv_to_id (FlowOpLog *log,
                     FlowLv     lv,
                     guint32   *agent,
                     guint64   *seq)
{
  const FlowAgentRun *run = &g_array_index (log->agent_runs, FlowAgentRun,
                                            find_agent_run (log, lv));

  *agent = run->agent;
  *seq = run->seq + (lv - run->lv);
}

FlowOpId
flow_oplog_lv_to_op_id (FlowOpLog *log,
                        FlowLv     lv)
{
  FlowOpId id;
  guint32 agent;

  flow_oplog_lv_to_id (log, lv, &agent, &id.seq);
  id.replica = flow_oplog_replica (log, agent);
  return id;
}

/* Returns the first LV after @lv that starts a new agent run. Within
 * [lv, end) ids are (agent, seq + k) for consecutive k. */
guint32
flow_oplog_agent_run_end (FlowOpLog *log,
                          FlowLv     lv)
{
  const FlowAgentRun *run = &g_array_index (log->agent_runs, FlowAgentRun,
                                            find_agent_run (log, lv));

  return run->lv + run->len;
}

/* Returns the LV of (agent, seq), or FLOW_LV_NONE if we do not have it. */
FlowLv
flow_oplog_id_to_lv (const FlowOpLog *log,
                     guint32          agent,
                     guint64          seq)
{
  GArray *arr = g_ptr_array_index (log->seq_runs, agent);
  const FlowSeqRun *runs = (const FlowSeqRun *) (gpointer) arr->data;
  guint lo = 0;
  guint hi = arr->len;

  if (hi == 0 || seq >= runs[hi - 1].seq + runs[hi - 1].len)
    return FLOW_LV_NONE;

  /* Typing extends the last run, so it is the usual answer. */
  if (runs[hi - 1].seq <= seq)
    return runs[hi - 1].lv + (FlowLv) (seq - runs[hi - 1].seq);

  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (runs[mid].seq <= seq)
        lo = mid;
      else
        hi = mid;
    }
  return runs[lo].lv + (FlowLv) (seq - runs[lo].seq);
}

/* Like flow_oplog_id_to_lv(), and also says how many ops from @seq on
 * have consecutive LVs (at least 1 when found). */
FlowLv
flow_oplog_id_to_lv_run (const FlowOpLog *log,
                         guint32          agent,
                         guint64          seq,
                         guint32         *run_left)
{
  GArray *arr = g_ptr_array_index (log->seq_runs, agent);
  const FlowSeqRun *runs = (const FlowSeqRun *) (gpointer) arr->data;
  guint lo = 0;
  guint hi = arr->len;

  if (hi == 0 || seq >= runs[hi - 1].seq + runs[hi - 1].len)
    return FLOW_LV_NONE;
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (runs[mid].seq <= seq)
        lo = mid;
      else
        hi = mid;
    }
  *run_left = (guint32) (runs[lo].seq + runs[lo].len - seq);
  return runs[lo].lv + (FlowLv) (seq - runs[lo].seq);
}

FlowLv
flow_oplog_op_id_to_lv (const FlowOpLog *log,
                        const FlowOpId  *id)
{
  guint32 agent;

  if (!flow_oplog_find_agent (log, id->replica, &agent))
    return FLOW_LV_NONE;
  return flow_oplog_id_to_lv (log, agent, id->seq);
}

static guint
find_graph_run (FlowOpLog *log,
                FlowLv     lv)
{
  g_assert (lv < log->len);

  return flow_runs_find (log->graph_runs->data, log->graph_runs->len,
                         sizeof (FlowGraphRun), lv, &log->graph_cache);
}

/* Returns the end of the graph run holding @lv: up to there every op's only
 * parent is the op before it. */
guint32
flow_oplog_graph_run_end (FlowOpLog *log,
                          FlowLv     lv)
{
  const FlowGraphRun *run = &g_array_index (log->graph_runs, FlowGraphRun,
                                            find_graph_run (log, lv));

  return run->lv + run->len;
}

guint32
flow_oplog_lamport (FlowOpLog *log,
                    FlowLv     lv)
{
  const FlowGraphRun *run = &g_array_index (log->graph_runs, FlowGraphRun,
                                            find_graph_run (log, lv));

  return run->lamport + (lv - run->lv);
}

/* Returns the parents of @lv. For ops inside a graph run the only parent is
 * lv - 1, which we return through @single so callers need not allocate. */
const FlowLv *
flow_oplog_parents (FlowOpLog *log,
                    FlowLv     lv,
                    FlowLv    *single,
                    guint     *n_parents)
{
  const FlowGraphRun *run = &g_array_index (log->graph_runs, FlowGraphRun,
                                            find_graph_run (log, lv));

  if (lv != run->lv)
    {
      *single = lv - 1;
      *n_parents = 1;
      return single;
    }
  *n_parents = run->n_parents;
  /* A root run owns no parents; indexing the possibly empty array would be
   * pointer arithmetic on NULL. */
  if (run->n_parents == 0)
    return NULL;
  return &g_array_index (log->parents, FlowLv, run->parents_off);
}

/*
 * Orders two ops for last-writer-wins: by lamport, then by replica id. Two
 * different ops never compare equal (seqs break the last tie).
 */
gint
flow_oplog_compare_lv (FlowOpLog *log,
                       FlowLv     a,
                       FlowLv     b)
{
  guint32 la = flow_oplog_lamport (log, a);
  guint32 lb = flow_oplog_lamport (log, b);
  FlowOpId ia;
  FlowOpId ib;

  if (la != lb)
    return la < lb ? -1 : 1;
  ia = flow_oplog_lv_to_op_id (log, a);
  ib = flow_oplog_lv_to_op_id (log, b);
  return flow_op_id_compare (&ia, &ib);
}

/* ------------------------------------------------------------------------
 * Versions
 * ------------------------------------------------------------------------ */

FlowVersionVector *
flow_oplog_version (const FlowOpLog *log)
{
  FlowVersionVector *vv = flow_version_vector_new ();

  for (guint a = 0; a < log->agents->len; a++)
    {
      guint64 next = flow_oplog_next_seq (log, a);

      if (next > 0)
        flow_version_vector_set (vv, flow_oplog_replica (log, a), next);
    }
  return vv;
}

/* The version made of the LV prefix [0, @end). Any prefix is causally
 * closed because LV order is topological. */
FlowVersionVector *
flow_oplog_version_at (FlowOpLog *log,
                       FlowLv     end)
{
  FlowVersionVector *vv = flow_version_vector_new ();

  for (guint i = 0; i < log->agent_runs->len; i++)
    {
      const FlowAgentRun *run = &g_array_index (log->agent_runs, FlowAgentRun, i);
      FlowReplicaId replica = flow_oplog_replica (log, run->agent);
      guint64 next;

      if (run->lv >= end)
        break;
      next = run->seq + MIN (run->len, end - run->lv);
      if (next > flow_version_vector_get (vv, replica))
        flow_version_vector_set (vv, replica, next);
    }
  return vv;
}

static gint
range_cmp (gconstpointer a,
           gconstpointer b)
{
  const FlowLvRange *x = a;
  const FlowLvRange *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * Fills @ranges (of FlowLvRange) with the LVs of every op not in @vv,
 * sorted and coalesced: that is the causal order in which to send them.
 * Costs O(agent runs touched · log).
 */
void
flow_oplog_missing_ranges (const FlowOpLog         *log,
                           const FlowVersionVector *vv,
                           GArray                  *ranges)
{
  guint first = ranges->len;

  for (guint a = 0; a < log->agents->len; a++)
    {
      GArray *arr = g_ptr_array_index (log->seq_runs, a);
      guint64 have = flow_version_vector_get (vv, flow_oplog_replica (log, a));

      for (guint i = arr->len; i > 0; i--)
        {
          const FlowSeqRun *run = &g_array_index (arr, FlowSeqRun, i - 1);
          FlowLvRange range;

          if (run->seq + run->len <= have)
            break;
          range.start = run->lv + (FlowLv) (have > run->seq ? have - run->seq : 0);
          range.end = run->lv + run->len;
          g_array_append_val (ranges, range);
        }
    }

  if (ranges->len - first > 1)
    {
      guint out = first;

      qsort (&g_array_index (ranges, FlowLvRange, first), ranges->len - first,
             sizeof (FlowLvRange), range_cmp);
      for (guint i = first + 1; i < ranges->len; i++)
        {
          FlowLvRange *prev = &g_array_index (ranges, FlowLvRange, out);
          const FlowLvRange *cur = &g_array_index (ranges, FlowLvRange, i);

          if (prev->end == cur->start)
            prev->end = cur->end;
          else
            g_array_index (ranges, FlowLvRange, ++out) = *cur;
        }
      g_array_set_size (ranges, out + 1);
    }
}

/*
 * Checks that @vv names a state of this document: every op it includes is
 * one we have, and the set is causally closed (no op without its parents).
 */
gboolean
flow_oplog_version_is_closed (FlowOpLog               *log,
                              const FlowVersionVector *vv)
{
  guint n = flow_version_vector_get_n_replicas (vv);

  for (guint i = 0; i < n; i++)
    {
      FlowReplicaId replica;
      guint64 next;
      guint32 agent;

      flow_version_vector_get_nth (vv, i, &replica, &next);
      if (!flow_oplog_find_agent (log, replica, &agent) ||
          flow_oplog_next_seq (log, agent) < next)
        return FALSE;
    }

  for (FlowLv lv = 0; lv < log->len; )
    {
      const FlowGraphRun *run = &g_array_index (log->graph_runs, FlowGraphRun,
                                                find_graph_run (log, lv));
      FlowOpId id = flow_oplog_lv_to_op_id (log, lv);

      if (flow_version_vector_contains (vv, &id))
        for (guint p = 0; p < run->n_parents; p++)
          {
            FlowOpId pid = flow_oplog_lv_to_op_id (log, g_array_index (log->parents, FlowLv,
                                                                       run->parents_off + p));
            if (!flow_version_vector_contains (vv, &pid))
              return FALSE;
          }
      /* Inside a run each op depends on the previous one, which shares its
       * replica when the agent run continues; check run boundaries only. */
      lv = MIN (run->lv + run->len, flow_oplog_agent_run_end (log, lv));
      if (lv < log->len && lv != run->lv + run->len)
        {
          FlowOpId cur = flow_oplog_lv_to_op_id (log, lv);
          FlowOpId prev = flow_oplog_lv_to_op_id (log, lv - 1);

          if (flow_version_vector_contains (vv, &cur) && !flow_version_vector_contains (vv, &prev))
            return FALSE;
        }
    }

  return TRUE;
}

/* ------------------------------------------------------------------------
 * Canonical order
 * ------------------------------------------------------------------------ */

/* A stretch of consecutive LVs of one replica with consecutive seqs, in
 * which every op but the first has the op before it as its only parent. */
typedef struct
{
  FlowLv   lv;
  guint32  len;
  guint32  agent;
  guint32  n_deps;    /* segments not yet emitted that we depend on */
  guint32  next;      /* the segment that continues our replica's chain */
  guint64  seq;
  gboolean emitted;
} Segment;

typedef struct
{
  FlowOpLog *log;
  GArray    *segments;
} OrderCtx;

static guint
segment_of (GArray *segments,
            FlowLv  lv)
{
  return flow_runs_find (segments->data, segments->len, sizeof (Segment), lv, NULL);
}

static gint
segment_id_cmp (gconstpointer a,
                gconstpointer b,
                gpointer      user_data)
{
  OrderCtx *ctx = user_data;
  const Segment *x = &g_array_index (ctx->segments, Segment, GPOINTER_TO_UINT (a) - 1);
  const Segment *y = &g_array_index (ctx->segments, Segment, GPOINTER_TO_UINT (b) - 1);
  FlowReplicaId rx = flow_oplog_replica (ctx->log, x->agent);
  FlowReplicaId ry = flow_oplog_replica (ctx->log, y->agent);

  if (rx != ry)
    return rx < ry ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * flow_oplog_canonical_order:
 *
 * Fills @ranges (FlowLvRange) with every op in an order that depends only
 * on the set of ops, not on the order this replica received them: a
 * topological order in which, among the stretches ready to go, the one
 * whose first op has the smallest id goes first, and a replica's chain of
 * consecutive ops is never interrupted once started. Replicas with the same
 * ops therefore encode them to the same bytes (flow_doc_encode()).
 *
 * An op depends on its parents and on the ops its payload refers to, as
 * @refs reports: honest replicas only refer to an op's causal past, but a
 * tampered batch need not, and an encoding must still only refer backwards.
 * References always point to lower LVs, so there is no cycle.
 *
 * O(segments · log segments + references).
 */
void
flow_oplog_canonical_order (FlowOpLog    *log,
                            FlowRefsFunc  refs,
                            gpointer      refs_data,
                            GArray       *ranges)
{
  g_autoptr(GArray) segments = g_array_new (FALSE, FALSE, sizeof (Segment));
  g_autoptr(GArray) dep_index = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GArray) dep_start = g_array_new (FALSE, FALSE, sizeof (guint32));
  g_autoptr(GSequence) ready = g_sequence_new (NULL);
  OrderCtx ctx = { log, NULL };

  /* Segments: split at agent runs and graph run heads. */
  for (FlowLv lv = 0; lv < log->len; )
    {
      Segment seg = { 0, };
      FlowLv end = MIN (flow_oplog_agent_run_end (log, lv), flow_oplog_graph_run_end (log, lv));

      seg.lv = lv;
      seg.len = end - lv;
      seg.next = G_MAXUINT32;
      flow_oplog_lv_to_id (log, lv, &seg.agent, &seg.seq);
      g_array_append_val (segments, seg);
      lv = end;
    }
  ctx.segments = segments;

  /* Dependencies of each segment's first op: its parents, and the previous
   * op of its replica (so seqs come out in order). Edges point from the
   * segment depended on to the dependent one. */
  {
    g_autoptr(GArray) edges = g_array_new (FALSE, FALSE, sizeof (guint32) * 2);
    g_autoptr(GArray) ref_lvs = g_array_new (FALSE, FALSE, sizeof (FlowLv));

    for (guint i = 0; i < segments->len; i++)
      {
        Segment *seg = &g_array_index (segments, Segment, i);
        FlowLv single;
        guint n;
        const FlowLv *parents = flow_oplog_parents (log, seg->lv, &single, &n);
        FlowLv prev = seg->seq > 0 ? flow_oplog_id_to_lv (log, seg->agent, seg->seq - 1) : FLOW_LV_NONE;
        guint32 last_dep = G_MAXUINT32;

        for (guint k = 0; k <= n; k++)
          {
            FlowLv p = k < n ? parents[k] : prev;
            guint32 edge[2];

            if (p == FLOW_LV_NONE)
              continue;
            edge[0] = segment_of (segments, p);
            edge[1] = i;
            if (edge[0] == last_dep)
              continue;
            last_dep = edge[0];
            g_array_append_vals (edges, edge, 1);
            seg->n_deps++;
          }

        /* Payload references leaving the segment. */
        if (refs != NULL)
          {
            g_array_set_size (ref_lvs, 0);
            refs (refs_data, seg->lv, seg->lv + seg->len, ref_lvs);
            for (guint k = 0; k < ref_lvs->len; k++)
              {
                FlowLv p = g_array_index (ref_lvs, FlowLv, k);
                guint32 edge[2];

                if (p >= seg->lv && p < seg->lv + seg->len)
                  continue;
                g_assert (p < seg->lv);
                edge[0] = segment_of (segments, p);
                edge[1] = i;
                if (edge[0] == last_dep)
                  continue;
                last_dep = edge[0];
                g_array_append_vals (edges, edge, 1);
                seg->n_deps++;
              }
          }

        /* A pure continuation of our replica's chain. */
        if (n == 1 && parents[0] == prev && prev != FLOW_LV_NONE)
          {
            Segment *before = &g_array_index (segments, Segment, segment_of (segments, prev));

            if (before->lv + before->len - 1 == prev)
              before->next = i;
          }
      }

    /* Adjacency lists in CSR form. */
    g_array_set_size (dep_start, segments->len + 1);
    memset (dep_start->data, 0, (segments->len + 1) * sizeof (guint32));
    for (guint e = 0; e < edges->len; e++)
      g_array_index (dep_start, guint32, ((guint32 *) (gpointer) edges->data)[2 * e] + 1)++;
    for (guint i = 0; i < segments->len; i++)
      g_array_index (dep_start, guint32, i + 1) += g_array_index (dep_start, guint32, i);
    g_array_set_size (dep_index, edges->len);
    {
      g_autofree guint32 *fill = g_memdup2 (dep_start->data, (segments->len + 1) * sizeof (guint32));

      for (guint e = 0; e < edges->len; e++)
        {
          const guint32 *edge = &((guint32 *) (gpointer) edges->data)[2 * e];

          g_array_index (dep_index, guint32, fill[edge[0]]++) = edge[1];
        }
    }
  }

  for (guint i = 0; i < segments->len; i++)
    if (g_array_index (segments, Segment, i).n_deps == 0)
      g_sequence_insert_sorted (ready, GUINT_TO_POINTER (i + 1), segment_id_cmp, &ctx);

  while (g_sequence_get_length (ready) > 0)
    {
      GSequenceIter *first = g_sequence_get_begin_iter (ready);
      guint i = GPOINTER_TO_UINT (g_sequence_get (first)) - 1;

      g_sequence_remove (first);

      /* Emit the segment, then follow its chain while it is ready. */
      while (i != G_MAXUINT32)
        {
          Segment *seg = &g_array_index (segments, Segment, i);
          guint next = seg->next;
          FlowLvRange r = { seg->lv, seg->lv + seg->len };

          seg->emitted = TRUE;
          if (ranges->len > 0 && g_array_index (ranges, FlowLvRange, ranges->len - 1).end == r.start)
            g_array_index (ranges, FlowLvRange, ranges->len - 1).end = r.end;
          else
            g_array_append_val (ranges, r);

          for (guint32 d = g_array_index (dep_start, guint32, i);
               d < g_array_index (dep_start, guint32, i + 1); d++)
            {
              guint32 j = g_array_index (dep_index, guint32, d);
              Segment *dep = &g_array_index (segments, Segment, j);

              if (--dep->n_deps == 0 && j != next)
                g_sequence_insert_sorted (ready, GUINT_TO_POINTER (j + 1), segment_id_cmp, &ctx);
            }

          /* Follow the chain while it is ready. A continuation that still
           * waits for a payload reference joins the queue when its last
           * dependency is emitted (it is skipped above only when ready now). */
          i = next != G_MAXUINT32 && g_array_index (segments, Segment, next).n_deps == 0
              ? next : G_MAXUINT32;
        }
    }

#ifndef G_DISABLE_ASSERT
  {
    guint64 total = 0;

    for (guint k = 0; k < ranges->len; k++)
      total += g_array_index (ranges, FlowLvRange, k).end - g_array_index (ranges, FlowLvRange, k).start;
    g_assert (total == log->len);
  }
#endif
}
