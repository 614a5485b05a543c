/* flow-doc-encode.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Encoding a set of ops of a document as a batch (docs/format.md).
 *
 * The ops are given as sorted LV ranges; we emit them in LV order, which is
 * causal. Local numbers never leave: every reference becomes either a
 * backward delta to an earlier op of the batch or (replica, seq) of an op
 * outside it. Columns are run-length encoded, so a stretch of typing costs
 * a few bytes whatever its length, and inserted text is deflated when that
 * makes it smaller.
 *
 * A "full" batch holds every op of the document plus its document order
 * (the TEXT_STATE chunk), so loading it needs no merging at all.
 */

#include "config.h"

#include <string.h>
#include <zlib.h>

#include "flow-codec-private.h"
#include "flow-doc-private.h"

typedef struct
{
  FlowDoc           *doc;
  const FlowLvRange *ranges;
  guint              n_ranges;
  guint32           *offsets;   /* batch index of each range's start */
  GArray            *agent_map; /* local agent -> batch agent + 1 */
  GArray            *agents;    /* FlowReplicaId */
  guint              range_cache;
  guint32           *by_lv;     /* range indexes sorted by LV, if the
                                 * ranges themselves are not */
} Enc;

/* Returns the batch index of @lv, or G_MAXUINT32 if it is not in the batch. */
static guint32
batch_index (Enc    *e,
             FlowLv  lv)
{
  guint lo = 0;
  guint hi = e->n_ranges;
  guint c = e->range_cache;

  if (c < hi && e->ranges[c].start <= lv && lv < e->ranges[c].end)
    return e->offsets[c] + (lv - e->ranges[c].start);

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      guint r = e->by_lv ? e->by_lv[mid] : mid;

      if (lv < e->ranges[r].start)
        hi = mid;
      else if (lv >= e->ranges[r].end)
        lo = mid + 1;
      else
        {
          e->range_cache = r;
          return e->offsets[r] + (lv - e->ranges[r].start);
        }
    }
  return G_MAXUINT32;
}

static gint
range_by_lv_cmp (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  const FlowLvRange *ranges = user_data;
  FlowLv x = ranges[*(const guint32 *) a].start;
  FlowLv y = ranges[*(const guint32 *) b].start;

  return x < y ? -1 : x > y;
}

static guint32
batch_agent (Enc     *e,
             guint32  agent)
{
  guint32 *slot;

  if (agent >= e->agent_map->len)
    g_array_set_size (e->agent_map, agent + 1);
  slot = &g_array_index (e->agent_map, guint32, agent);
  if (*slot == 0)
    {
      FlowReplicaId replica = flow_oplog_replica (e->doc->log, agent);

      g_array_append_val (e->agents, replica);
      *slot = e->agents->len;
    }
  return *slot - 1;
}

/* A reference from op @cur (a batch index) to @lv (or FLOW_LV_NONE). */
static void
put_ref (Enc     *e,
         FlowBuf *buf,
         guint32  cur,
         FlowLv   lv)
{
  guint32 idx;
  guint32 agent;
  guint64 seq;

  if (lv == FLOW_LV_NONE)
    {
      flow_buf_put_varint (buf, 0);
      return;
    }
  idx = batch_index (e, lv);
  if (idx != G_MAXUINT32 && idx < cur)
    {
      flow_buf_put_varint (buf, ((guint64) (cur - idx) << 2) | 1);
      return;
    }
  flow_oplog_lv_to_id (e->doc->log, lv, &agent, &seq);
  flow_buf_put_varint (buf, ((guint64) batch_agent (e, agent) << 2) | 2);
  flow_buf_put_varint (buf, seq);
}

static void
put_ref_id (Enc            *e,
            FlowBuf        *buf,
            guint32         cur,
            const FlowOpId *id)
{
  FlowLv lv = flow_oplog_op_id_to_lv (e->doc->log, id);

  if (lv == FLOW_LV_NONE)
    {
      /* Not an op of ours; name it by id all the same. */
      guint32 agent = flow_oplog_agent (e->doc->log, id->replica);

      flow_buf_put_varint (buf, ((guint64) batch_agent (e, agent) << 2) | 2);
      flow_buf_put_varint (buf, id->seq);
      return;
    }
  put_ref (e, buf, cur, lv);
}

/* ------------------------------------------------------------------------
 * Graph
 * ------------------------------------------------------------------------ */

/*
 * Runs are emitted through a pending run that grows while the next piece
 * continues it. Local run boundaries depend on the order this replica
 * received ops; merging here makes the output depend only on the ops and
 * the batch order, which is what makes whole-document encodings canonical.
 */
typedef struct
{
  gboolean  active;
  guint32   agent;     /* batch agent */
  guint64   seq;
  guint32   idx;       /* batch index of the first op */
  guint32   len;
  FlowLv    first;     /* LV of the first op */
} GraphRun;

typedef struct
{
  Enc      *e;
  FlowBuf  *runs;
  guint     n_runs;
  guint64  *next_seq;
  guint8   *seen;
  guint     cap;
  GraphRun  pending;
  gboolean  heap;
} GraphEnc;

static void
graph_flush (GraphEnc *g)
{
  GraphRun *p = &g->pending;
  FlowLv single;
  guint n_parents;
  const FlowLv *parents;
  gboolean explicit_seq;
  gboolean parent_prev;

  if (!p->active)
    return;

  parents = flow_oplog_parents (g->e->doc->log, p->first, &single, &n_parents);
  explicit_seq = g->next_seq[p->agent] != p->seq || (!g->seen[p->agent] && p->seq != 0);
  parent_prev = n_parents == 1 && p->idx > 0 && batch_index (g->e, parents[0]) == p->idx - 1;

  flow_buf_put_varint (g->runs, ((guint64) (p->len - 1) << 2) |
                                (explicit_seq ? 2 : 0) | (parent_prev ? 1 : 0));
  flow_buf_put_varint (g->runs, p->agent);
  if (explicit_seq)
    flow_buf_put_varint (g->runs, p->seq);
  if (!parent_prev)
    {
      flow_buf_put_varint (g->runs, n_parents);
      for (guint i = 0; i < n_parents; i++)
        put_ref (g->e, g->runs, p->idx, parents[i]);
    }

  g->next_seq[p->agent] = p->seq + p->len;
  g->seen[p->agent] = 1;
  g->n_runs++;
  p->active = FALSE;
}

/* Per batch agent state starts on the caller's stack; many agents move it
 * to the heap. */
static void
graph_grow (GraphEnc *g,
            guint32   agent)
{
  guint new_cap;
  guint64 *next;
  guint8 *seen;

  if (agent < g->cap)
    return;
  new_cap = MAX (g->cap * 2, agent + 1);
  next = g_new0 (guint64, new_cap);
  seen = g_new0 (guint8, new_cap);
  memcpy (next, g->next_seq, g->cap * sizeof (guint64));
  memcpy (seen, g->seen, g->cap);
  if (g->heap)
    {
      g_free (g->next_seq);
      g_free (g->seen);
    }
  g->next_seq = next;
  g->seen = seen;
  g->cap = new_cap;
  g->heap = TRUE;
}

static void
encode_graph (Enc     *e,
              FlowBuf *out)
{
  FlowOpLog *log = e->doc->log;
  guint64 next_stack[8] = { 0, };
  guint8 seen_stack[8] = { 0, };
  GraphEnc g = { e, &e->doc->enc_runs, 0, next_stack, seen_stack, G_N_ELEMENTS (next_stack), { 0, }, FALSE };

  g.runs->len = 0;

  for (guint r = 0; r < e->n_ranges; r++)
    {
      FlowLv lv = e->ranges[r].start;

      while (lv < e->ranges[r].end)
        {
          guint32 agent;
          guint64 seq;
          FlowLv single;
          guint n_parents;
          const FlowLv *parents;
          FlowLv end = MIN (MIN (e->ranges[r].end, flow_oplog_agent_run_end (log, lv)),
                            flow_oplog_graph_run_end (log, lv));
          guint32 idx = batch_index (e, lv);
          guint32 ba;
          GraphRun *p = &g.pending;

          flow_oplog_lv_to_id (log, lv, &agent, &seq);
          parents = flow_oplog_parents (log, lv, &single, &n_parents);
          ba = batch_agent (e, agent);
          graph_grow (&g, ba);

          /* Continues the pending run: same replica, next seq, next in the
           * batch, and its only parent is the op before it. */
          if (p->active && p->agent == ba && p->seq + p->len == seq && p->idx + p->len == idx &&
              n_parents == 1 && batch_index (e, parents[0]) == idx - 1)
            p->len += end - lv;
          else
            {
              graph_flush (&g);
              p->active = TRUE;
              p->agent = ba;
              p->seq = seq;
              p->idx = idx;
              p->len = end - lv;
              p->first = lv;
            }
          lv = end;
        }
    }
  graph_flush (&g);

  flow_buf_put_varint (out, g.n_runs);
  flow_buf_put_bytes (out, g.runs->data, g.runs->len);
  if (g.heap)
    {
      g_free (g.next_seq);
      g_free (g.seen);
    }
}

/* ------------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------------ */

typedef struct
{
  gboolean active;
  guint    kind;
  guint32  idx;        /* batch index of the first op */
  guint32  len;
  /* inserts */
  FlowLv   first;      /* LV of the first char */
  FlowLv   last;       /* LV of the last char */
  FlowLv   ol;
  FlowLv   or;
  /* deletes */
  FlowLv   target;     /* LV of the first target */
  gboolean reversed;
  gboolean in_batch;   /* targets are batch indexes, not ids */
  guint32  t_idx;      /* batch index of the first target */
  guint32  t_agent;    /* id of the first target */
  guint64  t_seq;
} TextRun;

typedef struct
{
  FlowBuf  runs;
  guint    n_runs;
  FlowBuf  content;
  FlowLv   last_or;     /* origin_right of the last insert run */
  gboolean have_last_or;
  TextRun  pending;

  /* Whole pages: references are distances in document order. */
  gboolean       ordered;
  FlowOrderIndex order;
  guint64        last_target_pos;
} TextEnc;

/* The document-order position of local char @lv; the order is kept in
 * batch indexes, as the decoder sees it. */
static guint32
order_pos (Enc     *e,
           TextEnc *te,
           FlowLv   lv)
{
  guint32 pos = flow_order_index_pos (&te->order, batch_index (e, lv));

  g_assert (pos != G_MAXUINT32);
  return pos;
}

static void
text_flush (Enc     *e,
            TextEnc *te)
{
  TextRun *p = &te->pending;

  if (!p->active)
    return;
  p->active = FALSE;
  te->n_runs++;

  if (p->kind == FLOW_TEXT_OP_INSERT && te->ordered)
    {
      /* Origins sit next to the run in document order, nearly always right
       * next to it: 1 is a flag bit, 0 is "none". */
      guint32 first = order_pos (e, te, p->first);
      guint32 last = order_pos (e, te, p->last);
      guint64 dl = p->ol == FLOW_LV_NONE ? 0 : first - order_pos (e, te, p->ol);
      guint64 dr = p->or == FLOW_LV_NONE ? 0 : order_pos (e, te, p->or) - last;

      flow_buf_put_varint (&te->runs, ((guint64) (p->len - 1) << 3) |
                                      (dl == 1 ? 4 : 0) | (dr == 1 ? 2 : 0) | FLOW_TEXT_OP_INSERT);
      if (dl != 1)
        flow_buf_put_varint (&te->runs, dl);
      if (dr != 1)
        flow_buf_put_varint (&te->runs, dr);
    }
  else if (p->kind == FLOW_TEXT_OP_INSERT)
    {
      /* Typing, backspacing and typing again at one spot keeps the same
       * origin_right: say "as before" in one bit. */
      gboolean ol_prev = p->ol != FLOW_LV_NONE && p->idx > 0 && batch_index (e, p->ol) == p->idx - 1;
      gboolean or_same = te->have_last_or && te->last_or == p->or;

      flow_buf_put_varint (&te->runs, ((guint64) (p->len - 1) << 3) |
                                      (ol_prev ? 4 : 0) | (or_same ? 2 : 0) | FLOW_TEXT_OP_INSERT);
      if (!ol_prev)
        put_ref (e, &te->runs, p->idx, p->ol);
      if (!or_same)
        put_ref (e, &te->runs, p->idx, p->or);
      te->last_or = p->or;
      te->have_last_or = TRUE;
    }
  else
    {
      gboolean rev = p->reversed && p->len > 1;

      flow_buf_put_varint (&te->runs, ((guint64) (p->len - 1) << 3) |
                                      (rev ? 2 : 0) | FLOW_TEXT_OP_DELETE);
      if (te->ordered)
        {
          /* The first target as a move in document order. */
          guint64 pos = order_pos (e, te, p->target);

          flow_buf_put_varint (&te->runs, flow_zigzag_encode ((gint64) pos - (gint64) te->last_target_pos));
          te->last_target_pos = pos;
        }
      else
        put_ref (e, &te->runs, p->idx, p->target);
    }
}

static void
put_insert (Enc     *e,
            TextEnc *te,
            guint32  idx,
            guint32  len,
            FlowLv   first,
            FlowLv   ol,
            FlowLv   or)
{
  TextRun *p = &te->pending;

  /* Typed on: next in the batch, after the pending run's last char, with
   * the same origin_right. */
  if (p->active && p->kind == FLOW_TEXT_OP_INSERT && p->idx + p->len == idx &&
      ol == p->last && or == p->or)
    {
      p->len += len;
      p->last = first + len - 1;
      return;
    }

  text_flush (e, te);
  p->active = TRUE;
  p->kind = FLOW_TEXT_OP_INSERT;
  p->idx = idx;
  p->len = len;
  p->first = first;
  p->last = first + len - 1;
  p->ol = ol;
  p->or = or;
}

/* Adds one delete op (batch index @idx) of target @t to the runs. */
static void
put_delete_one (Enc     *e,
                TextEnc *te,
                guint32  idx,
                FlowLv   t)
{
  TextRun *p = &te->pending;
  guint32 ti = batch_index (e, t);
  gboolean in_batch = te->ordered || (ti != G_MAXUINT32 && ti < idx);
  guint32 agent = 0;
  guint64 seq = 0;

  if (!in_batch)
    flow_oplog_lv_to_id (e->doc->log, t, &agent, &seq);

  /* Targets must continue the pending run's as the decoder reads them:
   * consecutive batch indexes, or consecutive ids outside the batch, one
   * way or the other. */
  if (p->active && p->kind == FLOW_TEXT_OP_DELETE && p->idx + p->len == idx &&
      p->in_batch == in_batch)
    {
      gboolean fwd = in_batch ? ti == p->t_idx + p->len
                              : agent == p->t_agent && seq == p->t_seq + p->len;
      gboolean back = in_batch ? (guint64) ti + p->len == p->t_idx
                               : agent == p->t_agent && seq + p->len == p->t_seq;

      if ((fwd && (!p->reversed || p->len == 1)) || (back && (p->reversed || p->len == 1)))
        {
          p->reversed = back && !fwd;
          p->len++;
          return;
        }
    }

  text_flush (e, te);
  p->active = TRUE;
  p->kind = FLOW_TEXT_OP_DELETE;
  p->idx = idx;
  p->len = 1;
  p->target = t;
  p->reversed = FALSE;
  p->in_batch = in_batch;
  p->t_idx = ti;
  p->t_agent = agent;
  p->t_seq = seq;
}

static void
encode_text (Enc     *e,
             TextEnc *te)
{
  FlowText *text = e->doc->text;

  for (guint r = 0; r < e->n_ranges; r++)
    {
      FlowLv lv = e->ranges[r].start;

      while (lv < e->ranges[r].end)
        {
          const FlowTextOp *op = flow_text_find_op (text, lv);
          FlowLv end = MIN (e->ranges[r].end, op->lv + op->len);
          guint32 idx = batch_index (e, lv);

          if (op->kind == FLOW_TEXT_OP_INSERT)
            {
              FlowLv ol = lv == op->lv ? op->a : lv - 1;
              gsize from = op->ascii ? op->off + (lv - op->lv)
                                     : (gsize) (g_utf8_offset_to_pointer (flow_text_content (text, op->off),
                                                                          lv - op->lv) -
                                                flow_text_content (text, 0));
              const char *p = flow_text_content (text, (guint32) from);
              gsize nbytes = op->ascii ? end - lv
                                       : (gsize) (g_utf8_offset_to_pointer (p, end - lv) - p);

              put_insert (e, te, idx, end - lv, lv, ol, op->b);
              flow_buf_put_bytes (&te->content, p, nbytes);
            }
          else
            {
              /* One op at a time; put_delete_one() rebuilds the runs. */
              for (FlowLv k = lv; k < end; k++)
                {
                  guint32 n = k - op->lv;

                  put_delete_one (e, te, idx + (k - lv), op->reversed ? op->a - n : op->a + n);
                }
            }
          lv = end;
        }
    }
  text_flush (e, te);
}

static gboolean
deflate_raw (const guint8 *in,
             gsize         len,
             FlowBuf      *out)
{
  z_stream zs = { 0, };
  uLong bound;
  int ret;

  if (deflateInit2 (&zs, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return FALSE;
  bound = deflateBound (&zs, len);
  flow_buf_grow (out, bound);
  zs.next_in = (Bytef *) in;
  zs.avail_in = (uInt) len;
  zs.next_out = out->data + out->len;
  zs.avail_out = (uInt) bound;
  ret = deflate (&zs, Z_FINISH);
  if (ret == Z_STREAM_END)
    out->len += bound - zs.avail_out;
  deflateEnd (&zs);
  return ret == Z_STREAM_END;
}

static void
put_content (FlowBuf       *out,
             const FlowBuf *content,
             gboolean       compress)
{
  gsize mark;

  /* Short texts (a keystroke) are not worth compressing. */
  if (compress && content->len >= 256)
    {
      FlowBuf z;

      flow_buf_init (&z, content->len / 2);
      if (deflate_raw (content->data, content->len, &z) && z.len + 4 < content->len)
        {
          mark = flow_buf_begin_chunk (out, FLOW_CHUNK_TEXT_CONTENT);
          flow_buf_put_varint (out, 1);
          flow_buf_put_varint (out, content->len);
          flow_buf_put_bytes (out, z.data, z.len);
          flow_buf_end_chunk (out, mark);
          flow_buf_clear (&z);
          return;
        }
      flow_buf_clear (&z);
    }

  mark = flow_buf_begin_chunk (out, FLOW_CHUNK_TEXT_CONTENT);
  flow_buf_put_varint (out, 0);
  flow_buf_put_varint (out, content->len);
  flow_buf_put_bytes (out, content->data, content->len);
  flow_buf_end_chunk (out, mark);
}

typedef struct
{
  Enc    *e;
  GArray *ranges;
} OrderCollect;

/* Adds the span [lv, lv + len) to the document order, in batch indexes:
 * a span of consecutive LVs may cross ranges of the (canonical) batch
 * order, so it is cut where it does. Deletion is implied by the delete
 * ops: only the order matters. */
static void
collect_order (FlowLv   lv,
               guint32  len,
               gboolean deleted,
               gpointer data)
{
  OrderCollect *oc = data;

  while (len > 0)
    {
      guint32 idx = batch_index (oc->e, lv);
      const FlowLvRange *r = &oc->e->ranges[oc->e->range_cache];
      guint32 m = MIN (len, r->end - lv);
      GArray *ranges = oc->ranges;

      if (ranges->len > 0 && g_array_index (ranges, FlowLvRange, ranges->len - 1).end == idx)
        g_array_index (ranges, FlowLvRange, ranges->len - 1).end += m;
      else
        {
          FlowLvRange piece = { idx, idx + m };
          g_array_append_val (ranges, piece);
        }
      lv += m;
      len -= m;
    }
}

/* Collects the document order of a whole page for TEXT_ORDER and for
 * order-relative references. */
static void
collect_order_all (Enc     *e,
                   TextEnc *te)
{
  OrderCollect oc;

  flow_order_index_init (&te->order);
  oc.e = e;
  oc.ranges = te->order.ranges;
  flow_text_visit_order (e->doc->text, collect_order, &oc);
  flow_order_index_build (&te->order);
}

static void
put_order (TextEnc *te,
           FlowBuf *out)
{
  guint64 prev_end = 0;
  gsize mark;

  mark = flow_buf_begin_chunk (out, FLOW_CHUNK_TEXT_ORDER);
  flow_buf_put_varint (out, te->order.ranges->len);
  for (guint i = 0; i < te->order.ranges->len; i++)
    {
      const FlowLvRange *r = &g_array_index (te->order.ranges, FlowLvRange, i);

      flow_buf_put_varint (out, flow_zigzag_encode ((gint64) r->start - (gint64) prev_end));
      flow_buf_put_varint (out, r->end - r->start);
      prev_end = r->end;
    }
  flow_buf_end_chunk (out, mark);
}

/* ------------------------------------------------------------------------
 * Map
 * ------------------------------------------------------------------------ */

static void
put_value (Enc             *e,
           FlowBuf         *buf,
           guint32          cur,
           const FlowValue *v)
{
  FlowValueType type = flow_value_get_value_type (v);

  flow_buf_put_u8 (buf, (guint8) type);
  switch (type)
    {
    case FLOW_VALUE_NULL:
      break;
    case FLOW_VALUE_BOOL:
      flow_buf_put_u8 (buf, flow_value_get_bool (v) ? 1 : 0);
      break;
    case FLOW_VALUE_NUMBER:
      flow_buf_put_f64 (buf, flow_value_get_number (v));
      break;
    case FLOW_VALUE_STRING:
      {
        const char *s = flow_value_get_string (v);

        flow_buf_put_string (buf, s, strlen (s));
      }
      break;
    case FLOW_VALUE_COLOR:
      flow_buf_put_u32le (buf, flow_value_get_color (v));
      break;
    case FLOW_VALUE_POINTS:
      {
        guint n;
        const FlowPoint *p = flow_value_get_points (v, &n);

        flow_buf_put_varint (buf, n);
        for (guint i = 0; i < n; i++)
          {
            flow_buf_put_f32 (buf, p[i].x);
            flow_buf_put_f32 (buf, p[i].y);
            flow_buf_put_f32 (buf, p[i].pressure);
          }
      }
      break;
    case FLOW_VALUE_REF:
      put_ref_id (e, buf, cur, flow_value_get_ref (v));
      break;
    case FLOW_VALUE_BYTES:
      {
        gsize len;
        const guint8 *data = g_bytes_get_data (flow_value_get_bytes (v), &len);

        flow_buf_put_varint (buf, len);
        flow_buf_put_bytes (buf, data, len);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
encode_map (Enc     *e,
            FlowBuf *out)
{
  FlowMap *map = e->doc->map;
  g_autoptr(GArray) string_map = g_array_new (FALSE, TRUE, sizeof (guint32));
  g_autoptr(GPtrArray) strings = g_ptr_array_new ();
  FlowBuf ops;
  guint32 n_ops = 0;
  gsize mark;

  g_array_set_size (string_map, flow_map_n_strings (map));
  flow_buf_init (&ops, 64);

  for (guint r = 0; r < e->n_ranges; r++)
    for (FlowLv lv = e->ranges[r].start; lv < e->ranges[r].end; lv++)
      {
        const FlowMapOp *op = flow_map_get_op (map, lv);
        guint32 *slot = &g_array_index (string_map, guint32, op->name);

        if (*slot == 0)
          {
            g_ptr_array_add (strings, (gpointer) flow_map_string (map, op->name));
            *slot = strings->len;
          }

        flow_buf_put_varint (&ops, op->kind);
        if (op->kind == FLOW_MAP_OP_CREATE)
          flow_buf_put_varint (&ops, *slot - 1);
        else
          {
            put_ref (e, &ops, n_ops, op->entity);
            flow_buf_put_varint (&ops, *slot - 1);
            put_value (e, &ops, n_ops, op->value);
          }
        n_ops++;
      }

  mark = flow_buf_begin_chunk (out, FLOW_CHUNK_MAP_STRINGS);
  flow_buf_put_varint (out, strings->len);
  for (guint i = 0; i < strings->len; i++)
    flow_buf_put_string (out, strings->pdata[i], strlen (strings->pdata[i]));
  flow_buf_end_chunk (out, mark);

  mark = flow_buf_begin_chunk (out, FLOW_CHUNK_MAP_OPS);
  flow_buf_put_varint (out, n_ops);
  flow_buf_put_bytes (out, ops.data, ops.len);
  flow_buf_end_chunk (out, mark);
  flow_buf_clear (&ops);
}

/* ------------------------------------------------------------------------
 * Container
 * ------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------
 * Keystrokes
 * ------------------------------------------------------------------------ */

/*
 * Nearly every update is one keystroke: a stretch of ops of one replica,
 * one graph run and one text op run. For that case we write the bytes the
 * general encoder below would write (tests compare the two), without its
 * buffers, lookups and run merging. A tenth of the cost matters here, as
 * it is paid once per keystroke.
 */

#define SIMPLE_MAX_PARENTS 4
#define SIMPLE_MAX_CONTENT 255 /* below put_content()'s compression size */

typedef struct
{
  guint32 local[1 + SIMPLE_MAX_PARENTS + 2];
  guint   n;
} SimpleAgents;

static inline guint8 *
put_varint_raw (guint8  *p,
                guint64  v)
{
  while (v >= 0x80)
    {
      *p++ = (guint8) (v | 0x80);
      v >>= 7;
    }
  *p++ = (guint8) v;
  return p;
}

static guint8 *
put_simple_ref (FlowOpLog    *log,
                SimpleAgents *agents,
                guint8       *p,
                FlowLv        lv)
{
  guint32 agent;
  guint64 seq;
  guint ba;

  if (lv == FLOW_LV_NONE)
    {
      *p++ = 0;
      return p;
    }
  flow_oplog_lv_to_id (log, lv, &agent, &seq);
  for (ba = 0; ba < agents->n && agents->local[ba] != agent; ba++)
    ;
  if (ba == agents->n)
    agents->local[agents->n++] = agent;
  p = put_varint_raw (p, ((guint64) ba << 2) | 2);
  return put_varint_raw (p, seq);
}

static inline guint8 *
put_chunk (guint8       *p,
           guint         type,
           const guint8 *payload,
           gsize         len)
{
  p = put_varint_raw (p, type);
  p = put_varint_raw (p, len);
  memcpy (p, payload, len);
  return p + len;
}

/* Returns %NULL if [@start, @end) is not a simple keystroke. */
static GBytes *
encode_simple (FlowDoc *self,
               FlowLv   start,
               FlowLv   end)
{
  FlowOpLog *log = self->log;
  const FlowTextOp *op;
  const FlowLv *parents;
  FlowLv single;
  guint n_parents;
  guint32 agent;
  guint64 seq;
  SimpleAgents agents;
  guint8 graph[64];
  guint8 ops[32];
  guint8 *g = graph;
  guint8 *t = ops;
  const char *content = NULL;
  gsize nbytes = 0;
  gsize size;
  guint8 *data;
  guint8 *p;

  if (self->kind != FLOW_DOC_KIND_PAGE ||
      end > flow_oplog_agent_run_end (log, start) || end > flow_oplog_graph_run_end (log, start))
    return NULL;
  op = flow_text_find_op (self->text, start);
  if (end > op->lv + op->len || (op->kind == FLOW_TEXT_OP_DELETE && end - start > 1))
    return NULL;
  parents = flow_oplog_parents (log, start, &single, &n_parents);
  if (n_parents > SIMPLE_MAX_PARENTS)
    return NULL;

  if (op->kind == FLOW_TEXT_OP_INSERT)
    {
      const char *base = flow_text_content (self->text, op->off);
      const char *from = op->ascii ? base + (start - op->lv) : g_utf8_offset_to_pointer (base, start - op->lv);

      nbytes = op->ascii ? end - start : (gsize) (g_utf8_offset_to_pointer (from, end - start) - from);
      if (nbytes > SIMPLE_MAX_CONTENT)
        return NULL;
      content = from;
    }

  /* The graph: one run of batch agent 0, with its parents by id. */
  flow_oplog_lv_to_id (log, start, &agent, &seq);
  agents.local[0] = agent;
  agents.n = 1;
  *g++ = 1;
  g = put_varint_raw (g, ((guint64) (end - start - 1) << 2) | (seq != 0 ? 2 : 0));
  *g++ = 0;
  if (seq != 0)
    g = put_varint_raw (g, seq);
  *g++ = (guint8) n_parents;
  for (guint i = 0; i < n_parents; i++)
    g = put_simple_ref (log, &agents, g, parents[i]);

  /* One text run, its references by id: they all precede the batch. */
  *t++ = 1;
  if (op->kind == FLOW_TEXT_OP_INSERT)
    {
      t = put_varint_raw (t, (guint64) (end - start - 1) << 3 | FLOW_TEXT_OP_INSERT);
      t = put_simple_ref (log, &agents, t, start == op->lv ? op->a : start - 1);
      t = put_simple_ref (log, &agents, t, op->b);
    }
  else
    {
      guint32 n = start - op->lv;

      *t++ = FLOW_TEXT_OP_DELETE;
      t = put_simple_ref (log, &agents, t, op->reversed ? op->a - n : op->a + n);
    }

  /* Header, AGENTS, GRAPH, TEXT_OPS, TEXT_CONTENT: each length < 2^14. */
  size = 7 + (3 + 1 + 8 * agents.n) + (3 + (gsize) (g - graph)) + (3 + (gsize) (t - ops)) +
         (nbytes > 0 ? 3 + 1 + 2 + nbytes : 0);
  p = data = g_malloc (size);
  memcpy (p, FLOW_FORMAT_MAGIC, 4);
  p += 4;
  *p++ = FLOW_FORMAT_VERSION;
  *p++ = FLOW_DOC_KIND_PAGE;
  *p++ = 0;

  *p++ = FLOW_CHUNK_AGENTS;
  *p++ = (guint8) (1 + 8 * agents.n);
  *p++ = (guint8) agents.n;
  for (guint i = 0; i < agents.n; i++)
    {
      guint64 le = GUINT64_TO_LE (flow_oplog_replica (log, agents.local[i]));

      memcpy (p, &le, 8);
      p += 8;
    }
  p = put_chunk (p, FLOW_CHUNK_GRAPH, graph, (gsize) (g - graph));
  p = put_chunk (p, FLOW_CHUNK_TEXT_OPS, ops, (gsize) (t - ops));
  if (nbytes > 0)
    {
      guint8 head[3];
      guint8 *h = head;

      *h++ = 0;
      h = put_varint_raw (h, nbytes);
      p = put_varint_raw (p, FLOW_CHUNK_TEXT_CONTENT);
      p = put_varint_raw (p, (gsize) (h - head) + nbytes);
      memcpy (p, head, (gsize) (h - head));
      p += h - head;
      memcpy (p, content, nbytes);
      p += nbytes;
    }
  g_assert ((gsize) (p - data) <= size);

  return g_bytes_new_take (data, (gsize) (p - data));
}

/* Any ranges, and whole documents. */
static GBytes *
encode_general (FlowDoc           *self,
                const FlowLvRange *ranges,
                guint              n_ranges,
                gboolean           full)
{
  guint32 offsets_stack[4];
  g_autofree guint32 *offsets_heap = NULL;
  g_autofree guint32 *by_lv = NULL;
  guint32 *offsets = offsets_stack;
  Enc e = { self, ranges, n_ranges, NULL, NULL, NULL, 0, NULL };
  FlowBuf *graph = &self->enc_graph;
  FlowBuf *payload = &self->enc_payload;
  FlowBuf *chunks = &self->enc_chunks;
  FlowBuf out;
  TextEnc te = { 0, };
  guint32 total = 0;
  gsize mark;

  if (n_ranges > G_N_ELEMENTS (offsets_stack))
    offsets = offsets_heap = g_new (guint32, n_ranges);
  for (guint i = 0; i < n_ranges; i++)
    {
      offsets[i] = total;
      total += ranges[i].end - ranges[i].start;
    }
  e.offsets = offsets;

  /* Canonical orders list ranges out of LV order; index them for lookups. */
  for (guint i = 1; i < n_ranges; i++)
    if (ranges[i].start < ranges[i - 1].end)
      {
        by_lv = g_new (guint32, n_ranges);
        for (guint k = 0; k < n_ranges; k++)
          by_lv[k] = k;
        g_qsort_with_data (by_lv, (gint) n_ranges, sizeof (guint32), range_by_lv_cmp, (gpointer) ranges);
        e.by_lv = by_lv;
        break;
      }

  /* Local agent -> batch agent + 1, all 0 to start with. */
  e.agent_map = self->agent_map;
  if (e.agent_map->len != self->log->agents->len)
    g_array_set_size (e.agent_map, self->log->agents->len);
  memset (e.agent_map->data, 0, e.agent_map->len * sizeof (guint32));
  e.agents = self->enc_agents;
  flow_array_clear (e.agents);

  graph->len = payload->len = chunks->len = 0;
  encode_graph (&e, graph);

  if (self->kind == FLOW_DOC_KIND_PAGE)
    {
      /* encode_graph() is done with enc_runs; the text ops reuse it. */
      te.runs = self->enc_runs;
      te.content = self->enc_content;
      te.runs.len = te.content.len = 0;
      te.ordered = full && total > 0;
      if (te.ordered)
        {
          collect_order_all (&e, &te);
          put_order (&te, payload);
        }
      encode_text (&e, &te);

      mark = flow_buf_begin_chunk (payload, FLOW_CHUNK_TEXT_OPS);
      flow_buf_put_varint (payload, te.n_runs);
      flow_buf_put_bytes (payload, te.runs.data, te.runs.len);
      flow_buf_end_chunk (payload, mark);
      if (te.content.len > 0)
        put_content (payload, &te.content, TRUE);

      /* The buffers may have grown; keep them for next time. */
      self->enc_runs = te.runs;
      self->enc_content = te.content;
      if (te.ordered)
        flow_order_index_clear (&te.order);
    }
  else
    encode_map (&e, payload);

  if (full)
    {
      mark = flow_buf_begin_chunk (chunks, FLOW_CHUNK_DOC_ID);
      flow_buf_put_u64le (chunks, self->id.replica);
      flow_buf_put_varint (chunks, self->id.seq);
      flow_buf_end_chunk (chunks, mark);
    }

  mark = flow_buf_begin_chunk (chunks, FLOW_CHUNK_AGENTS);
  flow_buf_put_varint (chunks, e.agents->len);
  for (guint i = 0; i < e.agents->len; i++)
    flow_buf_put_u64le (chunks, g_array_index (e.agents, FlowReplicaId, i));
  flow_buf_end_chunk (chunks, mark);

  mark = flow_buf_begin_chunk (chunks, FLOW_CHUNK_GRAPH);
  flow_buf_put_bytes (chunks, graph->data, graph->len);
  flow_buf_end_chunk (chunks, mark);

  /* Whole documents (snapshots, files) carry a checksum. Updates do not:
   * on the network they travel in authenticated encryption, and the store
   * checks its rows itself, so the per-keystroke path skips the cost. */
  flow_buf_init (&out, 8 + chunks->len + payload->len + 4);
  flow_buf_put_bytes (&out, FLOW_FORMAT_MAGIC, 4);
  flow_buf_put_varint (&out, FLOW_FORMAT_VERSION);
  flow_buf_put_varint (&out, self->kind);
  flow_buf_put_varint (&out, full ? FLOW_BATCH_FLAG_FULL | FLOW_BATCH_FLAG_CRC : 0);
  flow_buf_put_bytes (&out, chunks->data, chunks->len);
  flow_buf_put_bytes (&out, payload->data, payload->len);
  if (full)
    flow_buf_put_u32le (&out, flow_crc32 (out.data, out.len));

  return flow_buf_steal_bytes (&out);
}

/*
 * _flow_doc_encode_ranges:
 *
 * Encodes the ops in @ranges (sorted, disjoint LV ranges). With @full the
 * ranges must be the whole document, and we add its id and document order.
 *
 * Returns: (transfer full): the encoded batch
 */
GBytes *
_flow_doc_encode_ranges (FlowDoc           *self,
                         const FlowLvRange *ranges,
                         guint              n_ranges,
                         gboolean           full)
{
  if (n_ranges == 1 && !full && ranges[0].end > ranges[0].start && !self->encode_general_only)
    {
      GBytes *bytes = encode_simple (self, ranges[0].start, ranges[0].end);

      if (bytes != NULL)
        return bytes;
    }
  return encode_general (self, ranges, n_ranges, full);
}
