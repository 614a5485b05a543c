/* flow-oplog-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-types.h"
#include "flow-version.h"

G_BEGIN_DECLS

/* A maximal run of ops, consecutive in LV, by one agent with consecutive
 * seqs. */
typedef struct
{
  FlowLv  lv;
  guint32 len;
  guint32 agent;
  guint32 _pad;
  guint64 seq;
} FlowAgentRun;

/* The same runs seen from one agent, ordered by seq. */
typedef struct
{
  guint64 seq;
  FlowLv  lv;
  guint32 len;
} FlowSeqRun;

/* A run of ops in which every op but the first has the op before it as its
 * only parent. The first op's parents are parents[parents_off ..
 * parents_off + n_parents). Lamport timestamps grow by one along the run. */
typedef struct
{
  FlowLv  lv;
  guint32 len;
  guint32 lamport;
  guint32 parents_off;
  guint32 n_parents;
} FlowGraphRun;

struct _FlowOpLog
{
  GArray     *agents;      /* FlowReplicaId, by agent index */
  GHashTable *agent_index; /* replica (guint64*) -> agent index + 1 */
  GPtrArray  *seq_runs;    /* per agent: GArray of FlowSeqRun */
  GArray     *agent_runs;  /* FlowAgentRun, by lv */
  GArray     *graph_runs;  /* FlowGraphRun, by lv */
  GArray     *parents;     /* FlowLv pool for graph run heads */
  GArray     *frontier;    /* FlowLv, sorted; the heads of the graph */
  FlowLv      len;         /* number of ops */
  guint       agent_cache; /* index of the last agent run looked up */
  FlowReplicaId last_replica; /* one-entry cache for replica -> agent */
  guint32     last_agent;
  guint       graph_cache; /* index of the last graph run looked up */
};

FlowOpLog         *flow_oplog_new              (void);
void               flow_oplog_free             (FlowOpLog          *log);
guint32            flow_oplog_agent            (FlowOpLog          *log,
                                                FlowReplicaId       replica);
gboolean           flow_oplog_find_agent       (const FlowOpLog    *log,
                                                FlowReplicaId       replica,
                                                guint32            *agent);
guint64            flow_oplog_next_seq         (const FlowOpLog    *log,
                                                guint32             agent);
FlowLv             flow_oplog_push             (FlowOpLog          *log,
                                                guint32             agent,
                                                guint64             seq,
                                                guint32             len,
                                                const FlowLv       *parents,
                                                guint               n_parents);
FlowLv             flow_oplog_push_local       (FlowOpLog          *log,
                                                guint32             agent,
                                                guint32             len);
void               flow_oplog_lv_to_id         (FlowOpLog          *log,
                                                FlowLv              lv,
                                                guint32            *agent,
                                                guint64            *seq);
FlowOpId           flow_oplog_lv_to_op_id      (FlowOpLog          *log,
                                                FlowLv              lv);
FlowLv             flow_oplog_id_to_lv         (const FlowOpLog    *log,
                                                guint32             agent,
                                                guint64             seq);
FlowLv             flow_oplog_id_to_lv_run     (const FlowOpLog    *log,
                                                guint32             agent,
                                                guint64             seq,
                                                guint32            *run_left);
FlowLv             flow_oplog_op_id_to_lv      (const FlowOpLog    *log,
                                                const FlowOpId     *id);
guint32            flow_oplog_agent_run_end    (FlowOpLog          *log,
                                                FlowLv              lv);
guint32            flow_oplog_graph_run_end    (FlowOpLog          *log,
                                                FlowLv              lv);
guint32            flow_oplog_lamport          (FlowOpLog          *log,
                                                FlowLv              lv);
const FlowLv      *flow_oplog_parents          (FlowOpLog          *log,
                                                FlowLv              lv,
                                                FlowLv             *single,
                                                guint              *n_parents);
FlowVersionVector *flow_oplog_version          (const FlowOpLog    *log);
FlowVersionVector *flow_oplog_version_at       (FlowOpLog          *log,
                                                FlowLv              end);
void               flow_oplog_missing_ranges   (const FlowOpLog    *log,
                                                const FlowVersionVector *vv,
                                                GArray             *ranges);
gboolean           flow_oplog_version_is_closed (FlowOpLog         *log,
                                                const FlowVersionVector *vv);
/* Appends to @lvs (FlowLv) every op that the ops [@start, @end) refer to
 * in their payload (text origins, delete targets, entities). */
typedef void (*FlowRefsFunc) (gpointer  data,
                              FlowLv    start,
                              FlowLv    end,
                              GArray   *lvs);

void               flow_oplog_canonical_order  (FlowOpLog          *log,
                                                FlowRefsFunc        refs,
                                                gpointer            refs_data,
                                                GArray             *ranges);
gint               flow_oplog_compare_lv       (FlowOpLog          *log,
                                                FlowLv              a,
                                                FlowLv              b);
gsize              flow_oplog_memory           (const FlowOpLog    *log);

static inline FlowReplicaId
flow_oplog_replica (const FlowOpLog *log,
                    guint32          agent)
{
  return g_array_index (log->agents, FlowReplicaId, agent);
}

/* An LV range [start, end). */
typedef struct
{
  FlowLv start;
  FlowLv end;
} FlowLvRange;

G_END_DECLS
