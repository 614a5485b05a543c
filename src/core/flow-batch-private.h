/* flow-batch-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-oplog-private.h"
#include "flow-order-private.h"
#include "flow-value.h"

G_BEGIN_DECLS

/* Container format. See docs/format.md. */
#define FLOW_FORMAT_MAGIC   "FLOW"
#define FLOW_FORMAT_VERSION 1

#define FLOW_BATCH_FLAG_FULL    0x1 /* every op from the empty document */
#define FLOW_BATCH_FLAG_CRC     0x2 /* a CRC-32 of everything before it ends the data */

/* Limits that bound what a decoder may allocate for hostile input. */
#define FLOW_BATCH_MAX_OPS        (1u << 24)
#define FLOW_BATCH_MAX_PARENTS    1024
#define FLOW_BATCH_MAX_CONTENT    (64u << 20)
#define FLOW_BATCH_MAX_INFLATE    1024 /* decompressed / compressed */

enum
{
  FLOW_CHUNK_DOC_ID       = 1,
  FLOW_CHUNK_AGENTS       = 2,
  FLOW_CHUNK_GRAPH        = 3,
  FLOW_CHUNK_TEXT_ORDER   = 4,
  FLOW_CHUNK_TEXT_OPS     = 5,
  FLOW_CHUNK_TEXT_CONTENT = 6,
  FLOW_CHUNK_MAP_STRINGS  = 7,
  FLOW_CHUNK_MAP_OPS      = 8,
  /* Chunk types from here on may be skipped by readers that do not know
   * them; unknown types below it make the data unsupported. */
  FLOW_CHUNK_OPTIONAL     = 64,
};

/* A reference: batch agent index and seq (a document holds fewer than
 * 2^32 ops, so no seq needs more). agent == FLOW_REF_NONE means "none":
 * the start or the end of the text. */
#define FLOW_REF_NONE G_MAXUINT32
#define FLOW_SEQ_MAX  G_MAXUINT32

typedef struct
{
  guint32 agent;
  guint32 seq;
} FlowBatchRef;

static inline gboolean
flow_batch_ref_is_none (const FlowBatchRef *ref)
{
  return ref->agent == FLOW_REF_NONE;
}

typedef struct
{
  guint32  start;       /* index of the first op in the batch */
  guint32  len;
  guint32  agent;       /* index into agents */
  guint32  n_parents;   /* parents of the first op */
  guint32  parents_off; /* into parents */
  guint64  seq;
} FlowBatchRun;

typedef struct
{
  guint32      start;
  guint32      len;
  guint8       kind;      /* FlowTextOpKind */
  guint8       reversed;
  FlowBatchRef a;         /* INSERT: origin_left of the first op; DELETE: first target */
  FlowBatchRef b;         /* INSERT: origin_right */
  guint32      content_off;
  guint32      content_len;
} FlowBatchTextRun;

typedef struct
{
  guint32    kind;   /* FlowMapOpKind */
  guint32    name;   /* index into strings: entity kind or key */
  FlowOpId   entity; /* SET */
  FlowValue *value;  /* SET */
} FlowBatchMapOp;

typedef struct
{
  FlowDocKind   kind;
  guint         flags;
  gboolean      has_doc_id;
  FlowOpId      doc_id;
  guint32       n_ops;

  GArray       *agents;    /* FlowReplicaId */
  GArray       *runs;      /* FlowBatchRun */
  GArray       *parents;   /* FlowOpId */
  GArray       *text_runs; /* FlowBatchTextRun */
  const char   *content;
  gsize         content_len;
  guint8       *content_owned;
  GPtrArray    *strings;
  GArray       *map_ops;   /* FlowBatchMapOp */
  guint         agents_cap; /* for flow_array_resize() */
  guint         runs_cap;
  guint         parents_cap;
  guint         text_runs_cap;
  FlowOrderIndex order;    /* TEXT_ORDER: document order of a whole page */
} FlowBatch;

void      flow_batch_init       (FlowBatch    *batch);
void      flow_batch_clear      (FlowBatch    *batch);
void      flow_batch_reset      (FlowBatch    *batch);
gboolean  flow_batch_decode     (FlowBatch    *batch,
                                 const guint8 *data,
                                 gsize         len,
                                 GError      **error);
gboolean  flow_batch_peek       (const guint8 *data,
                                 gsize         len,
                                 FlowDocKind  *kind,
                                 guint        *flags,
                                 GError      **error);
const FlowBatchTextRun *flow_batch_text_run_at (const FlowBatch *batch,
                                                guint32          index);
FlowOpId  flow_batch_index_id   (const FlowBatch *batch,
                                 guint32          index,
                                 guint           *run);
FlowBatchRef flow_batch_index_ref (const FlowBatch *batch,
                                 guint32          index,
                                 guint           *run);

static inline FlowOpId
flow_batch_ref_id (const FlowBatch    *batch,
                   const FlowBatchRef *ref)
{
  FlowOpId id;

  id.replica = g_array_index (batch->agents, FlowReplicaId, ref->agent);
  id.seq = ref->seq;
  return id;
}

G_END_DECLS
