/* flow-doc-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-batch-private.h"
#include "flow-codec-private.h"
#include "flow-doc.h"
#include "flow-map-private.h"
#include "flow-oplog-private.h"
#include "flow-text-private.h"
#include "flow-undo-private.h"

G_BEGIN_DECLS

struct _FlowDoc
{
  GObject        parent_instance;

  FlowDocKind    kind;
  FlowOpId       id;
  FlowReplicaId  replica;
  guint32        agent;
  gboolean       read_only;  /* a checkout: see flow_doc_checkout() */

  FlowOpLog     *log;
  FlowText      *text;
  FlowMap       *map;
  FlowUndo      *undo;
  GRand         *rand;

  FlowClockFunc  clock;
  gpointer       clock_data;
  GDestroyNotify clock_destroy;

  /* Observers of changes (ChangeFunc) and of bursts (BurstFunc). */
  GArray        *change_funcs;
  guint          next_change_func;
  GArray        *burst_funcs;
  guint          burst_depth;

  /* Remote batches waiting for ops they depend on. */
  GPtrArray     *pending;
  gsize          pending_bytes;

  /* The change being built: one per local edit group or applied batch. */
  guint          change_depth;
  FlowLv         change_start;
  gint64         change_time;
  gboolean       change_local;
  gboolean       change_details;
  GArray        *deltas;   /* FlowTextDelta */
  GArray        *touched;  /* FlowLv of entities */
  FlowChange    *spare_change; /* see release_change() */

  /* Scratch space reused by every decode, so applying a keystroke
   * allocates nothing once warm. */
  FlowBatch      scratch;
  GArray        *agent_map;
  GArray        *scratch_ranges;

  /* Encoder scratch, reused for every change so a keystroke's encoding
   * allocates only its result. */
  FlowBuf        enc_graph;
  FlowBuf        enc_payload;
  FlowBuf        enc_runs;
  FlowBuf        enc_content;
  FlowBuf        enc_chunks;
  GArray        *enc_agents;
  gboolean       encode_general_only; /* tests: skip encode_simple() */
};

void      _flow_doc_begin_change  (FlowDoc        *self,
                                   gboolean        local);
void      _flow_doc_end_change    (FlowDoc        *self);
void      _flow_doc_touch         (FlowDoc        *self,
                                   FlowLv          entity);
gboolean  _flow_doc_apply_batch   (FlowDoc        *self,
                                   const FlowBatch *batch,
                                   gboolean       *blocked,
                                   GError        **error);
GBytes   *_flow_doc_encode_ranges (FlowDoc        *self,
                                   const FlowLvRange *ranges,
                                   guint           n_ranges,
                                   gboolean        full);
gboolean  _flow_doc_load_full     (FlowDoc        *self,
                                   FlowBatch      *batch,
                                   GError        **error);
gboolean  _flow_doc_set_property  (FlowDoc        *self,
                                   FlowLv          entity,
                                   guint32         key,
                                   FlowValue      *value,
                                   FlowLv         *lv_out);
FlowLv    _flow_doc_entity_lv     (FlowDoc        *self,
                                   const FlowOpId *id);

G_END_DECLS
