/* flow-doc-apply.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Applying decoded batches to a document.
 *
 * Causal delivery: we walk the batch's runs in order. For each run (ops
 * (replica, seq .. seq+len) with known parents):
 *  - ops we already have (seq below our version vector) are skipped: this
 *    is what makes delivery idempotent;
 *  - if the run starts beyond our next expected seq for that replica, or a
 *    parent is unknown, we stop: the caller keeps the batch and retries it
 *    when more ops arrive;
 *  - otherwise the run is validated against the document, then applied.
 *
 * Validation happens before any op of a run is appended, so a refused run
 * leaves no trace. References made by a run must name ops that exist (or
 * earlier ops of the same run) of the right kind: text origins and delete
 * targets are inserted chars, property writes name created entities. A
 * peer that passes the decoder but fails here is sending inconsistent
 * data, and we refuse the rest of the batch with an error.
 */

#include "config.h"

#include <string.h>

#include "flow-doc-private.h"
#include "flow-error.h"

typedef struct
{
  FlowDoc         *doc;
  const FlowBatch *b;
  guint32         *agents;    /* batch agent -> local agent */
  /* The run being applied: its ops [first, first + count) are local
   * (agent, seq0 ..) and get LVs lv0 .. once pushed. */
  guint32          first;
  guint32          count;
  guint32          agent;
  guint64          seq0;
  FlowLv           lv0;
  guint            text_run;  /* first text run that may overlap */
  /* Origins that check_text() resolved for the first few insert runs, so
   * apply_text() need not look them up again: FLOW_LV_NONE when unknown
   * (none, or an op of the run itself, whose LV comes with the push). */
  FlowLv           origins[4][2];
} Ctx;

#define INVALID(msg) \
  G_STMT_START { \
    g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED, msg); \
    return FALSE; \
  } G_STMT_END

#define INVALID_CAUSE(cause) \
  G_STMT_START { \
    g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED, \
                 "A change is invalid: %s", (cause)->message); \
    return FALSE; \
  } G_STMT_END

/* ------------------------------------------------------------------------
 * Resolving ids
 * ------------------------------------------------------------------------ */

typedef enum
{
  RESOLVED,      /* an op we had before this run */
  IN_RUN,        /* an op of the run being applied (index set) */
  UNKNOWN,
} Resolution;

static Resolution
resolve (Ctx            *ctx,
         const FlowOpId *id,
         FlowLv         *lv,
         guint32        *index)
{
  FlowOpLog *log = ctx->doc->log;
  guint32 agent;

  if (!flow_oplog_find_agent (log, id->replica, &agent))
    return UNKNOWN;
  if (agent == ctx->agent && id->seq >= ctx->seq0 && id->seq < ctx->seq0 + ctx->count)
    {
      *index = ctx->first + (guint32) (id->seq - ctx->seq0);
      *lv = ctx->lv0 == FLOW_LV_NONE ? FLOW_LV_NONE : ctx->lv0 + (FlowLv) (id->seq - ctx->seq0);
      return IN_RUN;
    }
  *lv = flow_oplog_id_to_lv (log, agent, id->seq);
  return *lv == FLOW_LV_NONE ? UNKNOWN : RESOLVED;
}

/* Is the op named @id an inserted char (for origins and delete targets)?
 * Sets *@found to its LV if it is an op we had before this run. */
static gboolean
is_insert (Ctx            *ctx,
           const FlowOpId *id,
           guint32         before,
           FlowLv         *found)
{
  FlowLv lv;
  guint32 index;

  switch (resolve (ctx, id, &lv, &index))
    {
    case RESOLVED:
      *found = lv;
      return flow_text_is_insert_range (ctx->doc->text, lv, 1);
    case IN_RUN:
      return index < before && flow_batch_text_run_at (ctx->b, index)->kind == FLOW_TEXT_OP_INSERT;
    case UNKNOWN:
    default:
      return FALSE;
    }
}

/* Are the ids (replica, lo .. lo+n) all inserted chars? */
static gboolean
are_inserts (Ctx            *ctx,
             FlowReplicaId   replica,
             guint64         lo,
             guint32         n,
             guint32         before)
{
  FlowOpLog *log = ctx->doc->log;
  guint32 agent;

  if (!flow_oplog_find_agent (log, replica, &agent))
    return FALSE;

  while (n > 0)
    {
      guint32 left = 0;
      FlowLv lv;
      guint32 m;

      if (agent == ctx->agent && lo >= ctx->seq0 && lo < ctx->seq0 + ctx->count)
        {
          FlowOpId id = { replica, lo };
          FlowLv found;

          if (!is_insert (ctx, &id, before, &found))
            return FALSE;
          lo++;
          n--;
          continue;
        }
      lv = flow_oplog_id_to_lv_run (log, agent, lo, &left);
      if (lv == FLOW_LV_NONE)
        return FALSE;
      m = MIN (n, left);
      if (agent == ctx->agent && lo < ctx->seq0 && lo + m > ctx->seq0)
        m = (guint32) (ctx->seq0 - lo);
      if (!flow_text_is_insert_range (ctx->doc->text, lv, m))
        return FALSE;
      lo += m;
      n -= m;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------------ */

/* The ids deleted by ops [s, s + n) of delete run @tr, ascending. */
static void
delete_targets (const FlowBatchTextRun *tr,
                guint32                 s,
                guint32                 n,
                guint64                *lo)
{
  guint32 k = s - tr->start;

  *lo = tr->reversed ? tr->a.seq - k - (n - 1) : tr->a.seq + k;
}

static gboolean
check_text (Ctx     *ctx,
            GError **error)
{
  const FlowBatch *b = ctx->b;
  guint32 end = ctx->first + ctx->count;

  /* Skip text runs that lie wholly in skipped (duplicate) ops. */
  while (ctx->text_run < b->text_runs->len &&
         g_array_index (b->text_runs, FlowBatchTextRun, ctx->text_run).start +
         g_array_index (b->text_runs, FlowBatchTextRun, ctx->text_run).len <= ctx->first)
    ctx->text_run++;

  for (guint i = ctx->text_run; i < b->text_runs->len; i++)
    {
      const FlowBatchTextRun *tr = &g_array_index (b->text_runs, FlowBatchTextRun, i);
      guint32 s = MAX (tr->start, ctx->first);
      guint32 e = MIN (tr->start + tr->len, end);

      if (tr->start >= end)
        break;
      if (s >= e)
        continue;

      if (tr->kind == FLOW_TEXT_OP_INSERT)
        {
          gboolean ol_none = s == tr->start && flow_batch_ref_is_none (&tr->a);
          FlowOpId ol = s > tr->start ? flow_batch_index_id (b, s - 1, NULL)
                                      : ol_none ? (FlowOpId) { 0, 0 } : flow_batch_ref_id (b, &tr->a);
          FlowOpId or;
          FlowLv found[2] = { FLOW_LV_NONE, FLOW_LV_NONE };

          if (!ol_none && !is_insert (ctx, &ol, s, &found[0]))
            INVALID ("An insert refers to a character that does not exist");
          if (!flow_batch_ref_is_none (&tr->b) &&
              (or = flow_batch_ref_id (b, &tr->b), !is_insert (ctx, &or, s, &found[1])))
            INVALID ("An insert refers to a character that does not exist");
          if (i - ctx->text_run < G_N_ELEMENTS (ctx->origins))
            memcpy (ctx->origins[i - ctx->text_run], found, sizeof found);
        }
      else
        {
          guint64 lo;

          delete_targets (tr, s, e - s, &lo);
          if (!are_inserts (ctx, g_array_index (b->agents, FlowReplicaId, tr->a.agent), lo, e - s, s))
            INVALID ("A delete refers to a character that does not exist");
        }
    }
  return TRUE;
}

/* Local LV of an id that resolve() can find. */
static FlowLv
lv_of (Ctx            *ctx,
       const FlowOpId *id)
{
  FlowLv lv = FLOW_LV_NONE;
  guint32 index;
  Resolution r = resolve (ctx, id, &lv, &index);

  g_assert (r != UNKNOWN);
  return lv;
}

static void
apply_text (Ctx *ctx)
{
  FlowDoc *doc = ctx->doc;
  const FlowBatch *b = ctx->b;
  GArray *deltas = doc->change_details ? doc->deltas : NULL;
  guint32 end = ctx->first + ctx->count;

  for (guint i = ctx->text_run; i < b->text_runs->len; i++)
    {
      const FlowBatchTextRun *tr = &g_array_index (b->text_runs, FlowBatchTextRun, i);
      guint32 s = MAX (tr->start, ctx->first);
      guint32 e = MIN (tr->start + tr->len, end);
      FlowLv lv;

      if (tr->start >= end)
        break;
      if (s >= e)
        continue;
      lv = ctx->lv0 + (s - ctx->first);

      if (tr->kind == FLOW_TEXT_OP_INSERT)
        {
          const FlowLv *known = i - ctx->text_run < G_N_ELEMENTS (ctx->origins) ? ctx->origins[i - ctx->text_run]
                                                                                 : NULL;
          FlowLv ol = FLOW_LV_NONE;
          FlowLv or = FLOW_LV_NONE;
          const char *p = b->content + tr->content_off;
          const char *from;
          const char *to;

          if (known != NULL && known[1] != FLOW_LV_NONE)
            or = known[1];
          else if (!flow_batch_ref_is_none (&tr->b))
            {
              FlowOpId id = flow_batch_ref_id (b, &tr->b);

              or = lv_of (ctx, &id);
            }

          if (known != NULL && known[0] != FLOW_LV_NONE)
            ol = known[0];
          else if (s > tr->start)
            {
              FlowOpId id = flow_batch_index_id (b, s - 1, NULL);

              ol = lv_of (ctx, &id);
            }
          else if (!flow_batch_ref_is_none (&tr->a))
            {
              FlowOpId id = flow_batch_ref_id (b, &tr->a);

              ol = lv_of (ctx, &id);
            }

          from = s == tr->start ? p : g_utf8_offset_to_pointer (p, s - tr->start);
          to = e == tr->start + tr->len ? p + tr->content_len : g_utf8_offset_to_pointer (from, e - s);
          flow_text_apply_insert (doc->text, lv, e - s, ol, or, from, (gsize) (to - from), deltas);
        }
      else
        {
          guint32 agent;
          guint64 lo;
          guint32 n = e - s;
          guint32 k = 0;

          /* Targets are consecutive ids; locally they may sit in several LV
           * stretches. Collect them in ascending order, then apply one
           * delete run per stretch in op order (descending targets for a
           * backspace run), so op runs stay sorted by LV. */
          GArray *stretches = ctx->doc->scratch_ranges;

          flow_array_clear (stretches);

          delete_targets (tr, s, n, &lo);
          flow_oplog_find_agent (doc->log, g_array_index (b->agents, FlowReplicaId, tr->a.agent), &agent);
          while (k < n)
            {
              guint32 left = 0;
              FlowLvRange st;
              guint32 m;

              if (agent == ctx->agent && lo + k >= ctx->seq0)
                {
                  st.start = ctx->lv0 + (FlowLv) (lo + k - ctx->seq0);
                  left = ctx->count - (guint32) (lo + k - ctx->seq0);
                }
              else
                st.start = flow_oplog_id_to_lv_run (doc->log, agent, lo + k, &left);
              m = MIN (n - k, left);
              st.end = st.start + m;
              *(FlowLvRange *) flow_scratch_push (stretches, sizeof st) = st;
              k += m;
            }

          k = 0;
          for (guint j = 0; j < stretches->len; j++)
            {
              const FlowLvRange *st = &g_array_index (stretches, FlowLvRange,
                                                      tr->reversed ? stretches->len - 1 - j : j);
              guint32 m = st->end - st->start;

              if (tr->reversed)
                flow_text_apply_delete (doc->text, lv + k, m, st->end - 1, m > 1, deltas);
              else
                flow_text_apply_delete (doc->text, lv + k, m, st->start, FALSE, deltas);
              k += m;
            }
        }
    }

  /* Runs that ended inside this graph run are done with. */
  while (ctx->text_run < b->text_runs->len)
    {
      const FlowBatchTextRun *tr = &g_array_index (b->text_runs, FlowBatchTextRun, ctx->text_run);

      if (tr->start + tr->len > end)
        break;
      ctx->text_run++;
    }
}

/* ------------------------------------------------------------------------
 * Map
 * ------------------------------------------------------------------------ */

static gboolean
is_entity (Ctx            *ctx,
           const FlowOpId *id,
           guint32         before)
{
  FlowLv lv;
  guint32 index;
  const FlowMapOp *op;

  switch (resolve (ctx, id, &lv, &index))
    {
    case RESOLVED:
      op = flow_map_get_op (ctx->doc->map, lv);
      return op != NULL && op->kind == FLOW_MAP_OP_CREATE;
    case IN_RUN:
      return index < before &&
             g_array_index (ctx->b->map_ops, FlowBatchMapOp, index).kind == FLOW_MAP_OP_CREATE;
    case UNKNOWN:
    default:
      return FALSE;
    }
}

static gboolean
check_map (Ctx     *ctx,
           GError **error)
{
  const FlowBatch *b = ctx->b;
  FlowMap *map = ctx->doc->map;

  for (guint32 i = ctx->first; i < ctx->first + ctx->count; i++)
    {
      const FlowBatchMapOp *op = &g_array_index (b->map_ops, FlowBatchMapOp, i);
      const char *name = g_ptr_array_index (b->strings, op->name);

      g_autoptr(GError) local_error = NULL;

      /* The schema speaks of arguments; from a peer they are malformed. */
      if (op->kind == FLOW_MAP_OP_CREATE)
        {
          if (!flow_map_check_kind (map, name, &local_error))
            INVALID_CAUSE (local_error);
          continue;
        }
      if (!is_entity (ctx, &op->entity, i))
        INVALID ("A change refers to an item that does not exist");
      if (!flow_map_check_set (map, name, op->value, &local_error))
        INVALID_CAUSE (local_error);
      if (flow_value_get_value_type (op->value) == FLOW_VALUE_REF &&
          !is_entity (ctx, flow_value_get_ref (op->value), i))
        INVALID ("A property refers to an item that does not exist");
    }
  return TRUE;
}

static void
apply_map (Ctx *ctx)
{
  const FlowBatch *b = ctx->b;
  FlowDoc *doc = ctx->doc;

  for (guint32 i = ctx->first; i < ctx->first + ctx->count; i++)
    {
      const FlowBatchMapOp *op = &g_array_index (b->map_ops, FlowBatchMapOp, i);
      guint32 name = flow_map_intern (doc->map, g_ptr_array_index (b->strings, op->name));
      FlowLv lv = ctx->lv0 + (i - ctx->first);

      if (op->kind == FLOW_MAP_OP_CREATE)
        {
          flow_map_apply_create (doc->map, lv, name);
          _flow_doc_touch (doc, lv);
        }
      else
        {
          FlowLv entity = lv_of (ctx, &op->entity);

          if (flow_map_apply_set (doc->map, lv, entity, name, op->value))
            _flow_doc_touch (doc, entity);
        }
    }
}

/* ------------------------------------------------------------------------
 * Runs
 * ------------------------------------------------------------------------ */

static void
map_agents (FlowDoc         *self,
            const FlowBatch *b,
            GArray          *out)
{
  if (out->len != b->agents->len)
    g_array_set_size (out, b->agents->len);
  for (guint i = 0; i < b->agents->len; i++)
    g_array_index (out, guint32, i) = flow_oplog_agent (self->log,
                                                        g_array_index (b->agents, FlowReplicaId, i));
}

/*
 * _flow_doc_apply_batch:
 *
 * Applies what it can of @b, in order. Sets *@blocked if it stopped at a
 * run whose dependencies are missing.
 *
 * Returns: %FALSE with @error set if the batch is inconsistent with the
 *   document; runs before the bad one stay applied
 */
gboolean
_flow_doc_apply_batch (FlowDoc          *self,
                       const FlowBatch  *b,
                       gboolean         *blocked,
                       GError          **error)
{
  Ctx ctx = { self, b, NULL, 0, 0, 0, 0, FLOW_LV_NONE, 0 };
  FlowLv stack[8];
  g_autofree FlowLv *heap = NULL;

  *blocked = FALSE;
  map_agents (self, b, self->agent_map);
  ctx.agents = (guint32 *) (gpointer) self->agent_map->data;

  for (guint r = 0; r < b->runs->len; r++)
    {
      const FlowBatchRun *run = &g_array_index (b->runs, FlowBatchRun, r);
      guint32 agent = ctx.agents[run->agent];
      guint64 have = flow_oplog_next_seq (self->log, agent);
      guint32 skip;
      FlowLv *parents = stack;
      guint n_parents;

      if (run->seq + run->len <= have)
        continue;                  /* we have all of it */
      if (run->seq > have)
        {
          *blocked = TRUE;         /* an earlier op of this replica is missing */
          return TRUE;
        }

      /* Ops before `have` are duplicates; the first new op's parent is the
       * op before it in the run. */
      skip = (guint32) (have - run->seq);
      ctx.first = run->start + skip;
      ctx.count = run->len - skip;
      ctx.agent = agent;
      ctx.seq0 = have;
      ctx.lv0 = FLOW_LV_NONE;

      if (skip > 0)
        {
          parents[0] = flow_oplog_id_to_lv (self->log, agent, have - 1);
          n_parents = 1;
        }
      else
        {
          n_parents = run->n_parents;
          if (n_parents > G_N_ELEMENTS (stack))
            {
              g_free (heap);
              parents = heap = g_new (FlowLv, n_parents);
            }
          for (guint p = 0; p < n_parents; p++)
            {
              const FlowOpId *pid = &g_array_index (b->parents, FlowOpId, run->parents_off + p);

              parents[p] = flow_oplog_op_id_to_lv (self->log, pid);
              if (parents[p] == FLOW_LV_NONE)
                {
                  *blocked = TRUE; /* a parent has not arrived yet */
                  return TRUE;
                }
            }
        }

      /* A replica's own earlier op must be in the op's past. */
      if (have > 0 && n_parents == 0)
        INVALID ("An op ignores the earlier ops of its replica");

      if (self->text != NULL ? !check_text (&ctx, error) : !check_map (&ctx, error))
        return FALSE;

      ctx.lv0 = flow_oplog_push (self->log, agent, have, ctx.count, parents, n_parents);
      if (self->text != NULL)
        apply_text (&ctx);
      else
        apply_map (&ctx);
    }

  return TRUE;
}

/* ------------------------------------------------------------------------
 * Loading whole documents
 * ------------------------------------------------------------------------ */

/*
 * _flow_doc_load_full:
 *
 * Loads a full batch (every op from the start, LV = batch index) into the
 * empty @self. With a text state we store the ops and build the document
 * order directly, which is what makes loading fast; otherwise we apply the
 * ops as remote ones.
 */
gboolean
_flow_doc_load_full (FlowDoc    *self,
                     FlowBatch  *b,
                     GError    **error)
{
  gboolean blocked = FALSE;

  g_assert (self->log->len == 0);

  if (self->text == NULL || b->order.ranges->len == 0 || b->n_ops == 0)
    {
      if (!_flow_doc_apply_batch (self, b, &blocked, error))
        return FALSE;
      if (blocked || self->log->len != b->n_ops)
        INVALID ("The document's ops are not complete");
      return TRUE;
    }

  map_agents (self, b, self->agent_map);
  flow_text_reserve (self->text, b->n_ops, b->text_runs->len, 0);

  /* The text of every insert, in op order, is the document's content as
   * it is: take the decoder's buffer rather than copying it. */
  if (b->content_owned != NULL)
    {
      flow_text_adopt_content (self->text, g_steal_pointer (&b->content_owned), b->content_len);
      b->content = (const char *) flow_text_content (self->text, 0);
    }
  else if (b->content_len > 0)
    {
      guint8 *copy = g_memdup2 (b->content, b->content_len);

      flow_text_adopt_content (self->text, copy, b->content_len);
      b->content = (const char *) copy;
    }

  /* The graph. The decoder checked that a full batch has only in-batch
   * references and gap-free seqs, so each op's LV is its index. */
  for (guint r = 0; r < b->runs->len; r++)
    {
      const FlowBatchRun *run = &g_array_index (b->runs, FlowBatchRun, r);
      guint32 agent = g_array_index (self->agent_map, guint32, run->agent);
      g_autofree FlowLv *parents = g_new (FlowLv, run->n_parents + 1);

      if (run->seq != flow_oplog_next_seq (self->log, agent))
        INVALID ("The document's ops are not complete");
      for (guint p = 0; p < run->n_parents; p++)
        {
          parents[p] = flow_oplog_op_id_to_lv (self->log,
                                               &g_array_index (b->parents, FlowOpId,
                                                               run->parents_off + p));
          if (parents[p] == FLOW_LV_NONE)
            INVALID ("The document's ops are not complete");
        }
      if (flow_oplog_next_seq (self->log, agent) > 0 && run->n_parents == 0)
        INVALID ("An op ignores the earlier ops of its replica");
      flow_oplog_push (self->log, agent, run->seq, run->len, parents, run->n_parents);
    }

  /* Store every text op, then check their references. */
  for (guint i = 0; i < b->text_runs->len; i++)
    {
      const FlowBatchTextRun *tr = &g_array_index (b->text_runs, FlowBatchTextRun, i);

      if (tr->kind == FLOW_TEXT_OP_INSERT)
        {
          /* In a whole document an op's LV is its batch index: resolve
           * references through the batch's runs. */
          FlowLv ol = FLOW_LV_NONE;
          FlowLv or = FLOW_LV_NONE;

          if (!flow_batch_ref_is_none (&tr->a))
            {
              FlowOpId a_id = flow_batch_ref_id (b, &tr->a);

              ol = flow_oplog_op_id_to_lv (self->log, &a_id);
            }
          if (!flow_batch_ref_is_none (&tr->b))
            {
              FlowOpId b_id = flow_batch_ref_id (b, &tr->b);

              or = flow_oplog_op_id_to_lv (self->log, &b_id);
            }

          flow_text_record_insert_at (self->text, tr->start, tr->len, ol, or,
                                      tr->content_off, tr->content_len);
        }
      else
        {
          FlowOpId t_id = flow_batch_ref_id (b, &tr->a);
          FlowLv t = flow_oplog_op_id_to_lv (self->log, &t_id);
          guint32 left = 0;
          guint32 agent;

          /* A full document's targets are consecutive LVs too. */
          flow_oplog_find_agent (self->log, t_id.replica, &agent);
          flow_oplog_id_to_lv_run (self->log, agent,
                                   tr->reversed ? tr->a.seq - (tr->len - 1) : tr->a.seq, &left);
          if (t == FLOW_LV_NONE || left < tr->len)
            INVALID ("A delete refers to a character that does not exist");
          flow_text_record_delete (self->text, tr->start, tr->len, t, tr->reversed);
        }
    }

  /* The decoder resolved origins through the document order, which lists
   * only inserted chars, and checked they precede their op. Delete targets
   * are only checked to lie in the text, so check that they are inserts. */
  for (guint i = 0; i < b->text_runs->len; i++)
    {
      const FlowBatchTextRun *tr = &g_array_index (b->text_runs, FlowBatchTextRun, i);
      FlowLv t;
      FlowLv lo;

      if (tr->kind != FLOW_TEXT_OP_DELETE)
        continue;
      {
        FlowOpId t_id = flow_batch_ref_id (b, &tr->a);

        t = flow_oplog_op_id_to_lv (self->log, &t_id);
      }
      lo = tr->reversed ? t - (tr->len - 1) : t;
      if (t >= tr->start || !flow_text_is_insert_range (self->text, lo, tr->len))
        INVALID ("A delete refers to a character that does not exist");
    }

  flow_text_load_order (self->text, (const FlowLvRange *) (gpointer) b->order.ranges->data, b->order.ranges->len);
  return TRUE;
}
