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

static void
encode_graph (Enc     *e,
              FlowBuf *out)
{
  FlowOpLog *log = e->doc->log;
  guint64 next_stack[8] = { 0, };
  guint8 seen_stack[8] = { 0, };
  g_autofree guint64 *next_heap = NULL;
  g_autofree guint8 *seen_heap = NULL;
  guint64 *next_seq = next_stack;
  guint8 *seen = seen_stack;
  guint cap = G_N_ELEMENTS (next_stack);
  FlowBuf *runs = &e->doc->enc_runs;
  guint n_runs = 0;

  runs->len = 0;

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
          gboolean explicit_seq;
          gboolean parent_prev;

          flow_oplog_lv_to_id (log, lv, &agent, &seq);
          parents = flow_oplog_parents (log, lv, &single, &n_parents);

          ba = batch_agent (e, agent);
          if (ba >= cap)
            {
              guint new_cap = MAX (cap * 2, ba + 1);
              guint64 *n2 = g_new0 (guint64, new_cap);
              guint8 *s2 = g_new0 (guint8, new_cap);

              memcpy (n2, next_seq, cap * sizeof (guint64));
              memcpy (s2, seen, cap);
              g_free (next_heap);
              g_free (seen_heap);
              next_seq = next_heap = n2;
              seen = seen_heap = s2;
              cap = new_cap;
            }
          explicit_seq = next_seq[ba] != seq || (!seen[ba] && seq != 0);
          parent_prev = n_parents == 1 && idx > 0 && batch_index (e, parents[0]) == idx - 1;

          flow_buf_put_varint (runs, ((guint64) (end - lv - 1) << 2) |
                                     (explicit_seq ? 2 : 0) | (parent_prev ? 1 : 0));
          flow_buf_put_varint (runs, ba);
          if (explicit_seq)
            flow_buf_put_varint (runs, seq);
          if (!parent_prev)
            {
              flow_buf_put_varint (runs, n_parents);
              for (guint i = 0; i < n_parents; i++)
                put_ref (e, runs, idx, parents[i]);
            }

          next_seq[ba] = seq + (end - lv);
          seen[ba] = 1;
          n_runs++;
          lv = end;
        }
    }

  flow_buf_put_varint (out, n_runs);
  flow_buf_put_bytes (out, runs->data, runs->len);
}

/* ------------------------------------------------------------------------
 * Text
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowBuf  runs;
  guint    n_runs;
  FlowBuf  content;
  FlowLv   last_or;     /* origin_right of the last insert run */
  gboolean have_last_or;

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
put_delete (Enc     *e,
            TextEnc *te,
            guint32  idx,
            guint32  len,
            FlowLv   target,
            gboolean reversed)
{
  FlowOpLog *log = e->doc->log;
  guint32 k = 0;

  if (te->ordered)
    {
      /* Whole pages: the first target as a move in document order. The
       * decoder reads targets as consecutive batch indexes, so cut the run
       * where the batch order breaks our consecutive LVs. */
      while (k < len)
        {
          FlowLv t = reversed ? target - k : target + k;
          guint32 ti = batch_index (e, t);
          guint64 pos = order_pos (e, te, t);
          guint32 m = 1;

          while (k + m < len &&
                 batch_index (e, reversed ? t - m : t + m) == (reversed ? ti - m : ti + m))
            m++;

          flow_buf_put_varint (&te->runs, ((guint64) (m - 1) << 3) |
                                          ((reversed && m > 1) ? 2 : 0) | FLOW_TEXT_OP_DELETE);
          flow_buf_put_varint (&te->runs, flow_zigzag_encode ((gint64) pos - (gint64) te->last_target_pos));
          te->last_target_pos = pos;
          te->n_runs++;
          k += m;
        }
      return;
    }

  /* Split so each piece's targets are contiguous as the decoder sees them:
   * inside one range of the batch, or with consecutive ids outside it. */
  while (k < len)
    {
      FlowLv t = reversed ? target - k : target + k;
      guint32 ti = batch_index (e, t);
      guint32 m = 1;

      while (k + m < len)
        {
          FlowLv t2 = reversed ? t - m : t + m;
          guint32 ti2 = batch_index (e, t2);
          guint32 a1, a2;
          guint64 s1, s2;

          if ((ti == G_MAXUINT32) != (ti2 == G_MAXUINT32))
            break;
          if (ti != G_MAXUINT32)
            {
              if (ti2 != (reversed ? ti - m : ti + m) || ti2 >= idx + k + m)
                break;
            }
          else
            {
              flow_oplog_lv_to_id (log, t, &a1, &s1);
              flow_oplog_lv_to_id (log, t2, &a2, &s2);
              if (a1 != a2 || s2 != (reversed ? s1 - m : s1 + m))
                break;
            }
          m++;
        }

      flow_buf_put_varint (&te->runs, ((guint64) (m - 1) << 3) |
                                      ((reversed && m > 1) ? 2 : 0) | FLOW_TEXT_OP_DELETE);
      put_ref (e, &te->runs, idx + k, t);
      te->n_runs++;
      k += m;
    }
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
              gboolean ol_prev = ol != FLOW_LV_NONE && idx > 0 && batch_index (e, ol) == idx - 1;
              gsize from = op->ascii ? op->off + (lv - op->lv)
                                     : (gsize) (g_utf8_offset_to_pointer (flow_text_content (text, op->off),
                                                                          lv - op->lv) -
                                                flow_text_content (text, 0));
              const char *p = flow_text_content (text, (guint32) from);
              gsize nbytes = op->ascii ? end - lv
                                       : (gsize) (g_utf8_offset_to_pointer (p, end - lv) - p);

              if (te->ordered)
                {
                  /* Origins sit next to the run in document order, nearly
                   * always right next to it: 1 is a flag bit, 0 is "none". */
                  guint32 first = order_pos (e, te, lv);
                  guint32 last = order_pos (e, te, end - 1);
                  guint64 dl = ol == FLOW_LV_NONE ? 0 : first - order_pos (e, te, ol);
                  guint64 dr = op->b == FLOW_LV_NONE ? 0 : order_pos (e, te, op->b) - last;

                  flow_buf_put_varint (&te->runs, ((guint64) (end - lv - 1) << 3) |
                                                  (dl == 1 ? 4 : 0) | (dr == 1 ? 2 : 0) |
                                                  FLOW_TEXT_OP_INSERT);
                  if (dl != 1)
                    flow_buf_put_varint (&te->runs, dl);
                  if (dr != 1)
                    flow_buf_put_varint (&te->runs, dr);
                }
              else
                {
                  /* Typing, backspacing and typing again at one spot keeps
                   * the same origin_right: say "as before" in one bit. */
                  gboolean or_same = te->have_last_or && te->last_or == op->b;

                  flow_buf_put_varint (&te->runs, ((guint64) (end - lv - 1) << 3) |
                                                  (ol_prev ? 4 : 0) | (or_same ? 2 : 0) |
                                                  FLOW_TEXT_OP_INSERT);
                  if (!ol_prev)
                    put_ref (e, &te->runs, idx, ol);
                  if (!or_same)
                    put_ref (e, &te->runs, idx, op->b);
                  te->last_or = op->b;
                  te->have_last_or = TRUE;
                }
              te->n_runs++;
              flow_buf_put_bytes (&te->content, p, nbytes);
            }
          else
            {
              guint32 k = lv - op->lv;
              FlowLv target = op->reversed ? op->a - k : op->a + k;

              put_delete (e, te, idx, end - lv, target, op->reversed);
            }
          lv = end;
        }
    }
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

  e.agent_map = self->agent_map;
  g_array_set_size (e.agent_map, 0);
  g_array_set_size (e.agent_map, self->log->agents->len);
  e.agents = self->enc_agents;
  g_array_set_size (e.agents, 0);

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
