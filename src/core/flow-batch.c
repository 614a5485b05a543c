/* flow-batch.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Decoding of op batches: the one format for network updates, the store's
 * op log and snapshots (docs/format.md).
 *
 * The decoder is the trust boundary of the core. Its contract:
 *  - any byte string either decodes or yields FLOW_CORE_ERROR_MALFORMED
 *    (or _UNSUPPORTED for a newer format); it never reads out of bounds,
 *    never loops more than the input allows, and never allocates more than
 *    a small multiple of the input, or the fixed limits of
 *    flow-batch-private.h for compressed text;
 *  - every reference inside the batch is resolved to a global op id
 *    here, so applying a batch needs no knowledge of the encoding;
 *  - structural rules are checked here (counts agree, references point
 *    backwards, text is valid UTF-8, values are well typed); rules that
 *    depend on the document (does the op I refer to exist, is it an
 *    insert) are checked when the batch is applied.
 * Chunks must appear in increasing type order, each at most once.
 */

#include "config.h"

#include <math.h>
#include <string.h>
#include <zlib.h>

#include "flow-batch-private.h"
#include "flow-codec-private.h"
#include "flow-error.h"
#include "flow-map-private.h"
#include "flow-runs-private.h"
#include "flow-text-private.h"

FLOW_RUNS_CHECK (FlowBatchRun, start, len);
FLOW_RUNS_CHECK (FlowBatchTextRun, start, len);

#define MALFORMED(msg) \
  G_STMT_START { \
    g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED, msg); \
    return FALSE; \
  } G_STMT_END

/* ------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------ */

static void
map_op_clear (gpointer data)
{
  FlowBatchMapOp *op = data;

  g_clear_pointer (&op->value, flow_value_unref);
}

void
flow_batch_init (FlowBatch *b)
{
  memset (b, 0, sizeof *b);
  b->agents = g_array_new (FALSE, FALSE, sizeof (FlowReplicaId));
  b->runs = g_array_new (FALSE, FALSE, sizeof (FlowBatchRun));
  b->parents = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  b->text_runs = g_array_new (FALSE, FALSE, sizeof (FlowBatchTextRun));
  b->strings = g_ptr_array_new_with_free_func (g_free);
  /* Zero-filled: CREATE ops have no value for the clear func to drop. */
  b->map_ops = g_array_new (FALSE, TRUE, sizeof (FlowBatchMapOp));
  g_array_set_clear_func (b->map_ops, map_op_clear);
  flow_order_index_init (&b->order);
}

/* Empties the batch but keeps its arrays' memory for the next decode. */
void
flow_batch_reset (FlowBatch *b)
{
  b->kind = FLOW_DOC_KIND_PAGE;
  b->flags = 0;
  b->has_doc_id = FALSE;
  b->n_ops = 0;
  flow_array_clear (b->agents);
  flow_array_clear (b->runs);
  flow_array_clear (b->parents);
  flow_array_clear (b->text_runs);
  if (b->strings->len > 0)
    g_ptr_array_set_size (b->strings, 0);
  if (b->map_ops->len > 0)
    g_array_set_size (b->map_ops, 0); /* drops the values */
  flow_order_index_reset (&b->order);
  g_clear_pointer (&b->content_owned, g_free);
  b->content = NULL;
  b->content_len = 0;
}

void
flow_batch_clear (FlowBatch *b)
{
  if (b->agents == NULL)
    return;
  flow_batch_reset (b);
  g_clear_pointer (&b->agents, g_array_unref);
  g_clear_pointer (&b->runs, g_array_unref);
  g_clear_pointer (&b->parents, g_array_unref);
  g_clear_pointer (&b->text_runs, g_array_unref);
  g_clear_pointer (&b->strings, g_ptr_array_unref);
  g_clear_pointer (&b->map_ops, g_array_unref);
  flow_order_index_clear (&b->order);
}

/* ------------------------------------------------------------------------
 * References
 * ------------------------------------------------------------------------ */

/*
 * Returns the id of op @index of the batch, whose run must already be
 * decoded, and optionally the index of that run. O(log runs).
 */
FlowBatchRef
flow_batch_index_ref (const FlowBatch *b,
                      guint32          index,
                      guint           *run_out)
{
  guint lo = flow_runs_find (b->runs->data, b->runs->len, sizeof (FlowBatchRun), index, NULL);
  const FlowBatchRun *run = &g_array_index (b->runs, FlowBatchRun, lo);
  FlowBatchRef ref;

  g_assert (run->start <= index && index < run->start + run->len);
  ref.agent = run->agent;
  ref.seq = (guint32) (run->seq + (index - run->start));
  if (run_out)
    *run_out = lo;
  return ref;
}

FlowOpId
flow_batch_index_id (const FlowBatch *b,
                     guint32          index,
                     guint           *run_out)
{
  FlowBatchRef ref = flow_batch_index_ref (b, index, run_out);

  return flow_batch_ref_id (b, &ref);
}

typedef enum
{
  REF_NONE,
  REF_INDEX,
  REF_EXTERNAL,
} RefKind;

/*
 * Reads a reference made at op @cur: tag 0 = none, 1 = an earlier op of
 * the batch (backward delta), 2 = an op outside it (agent index, seq).
 * @decoded is how many ops have runs so far; in-batch targets must be
 * among them.
 */
static inline gboolean
read_ref (FlowReader      *r,
          const FlowBatch *b,
          guint32          cur,
          guint32          decoded,
          gboolean         allow_none,
          RefKind         *kind,
          guint32         *index,
          FlowBatchRef    *ref)
{
  guint64 v = flow_reader_varint (r);
  guint64 x = v >> 2;

  if (flow_reader_failed (r))
    return FALSE;

  switch (v & 3)
    {
    case 0:
      if (x != 0 || !allow_none)
        return FALSE;
      *kind = REF_NONE;
      ref->agent = FLOW_REF_NONE;
      ref->seq = 0;
      return TRUE;

    case 1:
      if (x == 0 || x > cur || cur - x >= decoded)
        return FALSE;
      *kind = REF_INDEX;
      *index = (guint32) (cur - x);
      *ref = flow_batch_index_ref (b, *index, NULL);
      return TRUE;

    case 2:
      if (x >= b->agents->len)
        return FALSE;
      *kind = REF_EXTERNAL;
      ref->agent = (guint32) x;
      {
        guint64 seq = flow_reader_varint (r);

        ref->seq = (guint32) seq;
        return !flow_reader_failed (r) && seq < FLOW_SEQ_MAX;
      }

    default:
      return FALSE;
    }
}

/* ------------------------------------------------------------------------
 * Chunks
 * ------------------------------------------------------------------------ */

static gboolean
decode_agents (FlowBatch   *b,
               FlowReader  *r,
               GError     **error)
{
  guint64 n = flow_reader_varint (r);
  GHashTable *seen;
  gboolean dup = FALSE;

  if (flow_reader_failed (r) || n > flow_reader_remaining (r) / 8)
    MALFORMED ("Malformed agent table");

  flow_array_resize (b->agents, (guint) n, &b->agents_cap);
  for (guint i = 0; i < n; i++)
    g_array_index (b->agents, FlowReplicaId, i) = flow_reader_u64le (r);
  if (flow_reader_failed (r) || !flow_reader_at_end (r))
    MALFORMED ("Malformed agent table");

  /* One replica, one agent: duplicates would let runs of one replica
   * interleave in ways the seq checks cannot see. Updates name one or two
   * replicas, so scan small tables and hash big ones. */
  if (n <= 16)
    {
      for (guint i = 0; i < n && !dup; i++)
        for (guint j = 0; j < i && !dup; j++)
          dup = g_array_index (b->agents, FlowReplicaId, i) ==
                g_array_index (b->agents, FlowReplicaId, j);
    }
  else
    {
      seen = g_hash_table_new (g_int64_hash, g_int64_equal);
      for (guint i = 0; i < n && !dup; i++)
        dup = !g_hash_table_add (seen, &g_array_index (b->agents, FlowReplicaId, i));
      g_hash_table_unref (seen);
    }
  if (dup)
    MALFORMED ("Duplicate replica in agent table");
  return TRUE;
}

static gboolean
decode_graph (FlowBatch   *b,
              FlowReader  *r,
              GError     **error)
{
  guint64 next_stack[8] = { 0, };
  guint8 seen_stack[8] = { 0, };
  g_autofree guint64 *next_heap = NULL;
  g_autofree guint8 *seen_heap = NULL;
  guint64 *next_seq = next_stack;
  guint8 *seen = seen_stack;
  guint64 n_runs = flow_reader_varint (r);
  guint32 index = 0;
  gboolean full = (b->flags & FLOW_BATCH_FLAG_FULL) != 0;

  if (flow_reader_failed (r) || n_runs > flow_reader_remaining (r) / 2)
    MALFORMED ("Malformed op graph");

  /* Updates name a replica or two; keep the per-agent state on the stack. */
  if (b->agents->len > G_N_ELEMENTS (next_stack))
    {
      next_seq = next_heap = g_new0 (guint64, b->agents->len);
      seen = seen_heap = g_new0 (guint8, b->agents->len);
    }

  for (guint64 i = 0; i < n_runs; i++)
    {
      FlowBatchRun run = { 0, };
      guint64 h = flow_reader_varint (r);
      guint64 len = (h >> 2) + 1;
      gboolean explicit_seq = (h & 2) != 0;
      gboolean parent_prev = (h & 1) != 0;
      guint64 agent = flow_reader_varint (r);

      if (flow_reader_failed (r) || len > FLOW_BATCH_MAX_OPS - index || agent >= b->agents->len)
        MALFORMED ("Malformed op graph");

      run.start = index;
      run.len = (guint32) len;
      run.agent = (guint32) agent;
      run.seq = explicit_seq ? flow_reader_varint (r) : next_seq[agent];
      if (flow_reader_failed (r) || run.seq > FLOW_SEQ_MAX - len)
        MALFORMED ("Malformed op graph");
      /* A replica's ops go forwards; a full document has no gaps. */
      if ((seen[agent] && run.seq < next_seq[agent]) || (full && run.seq != next_seq[agent]))
        MALFORMED ("Op sequence numbers go backwards or skip in a full document");

      run.parents_off = b->parents->len;
      if (parent_prev)
        {
          FlowOpId id;

          if (index == 0)
            MALFORMED ("The first op of a batch cannot follow a previous one");
          id = flow_batch_index_id (b, index - 1, NULL);
          *flow_array_push (b->parents, FlowOpId, &b->parents_cap) = id;
          run.n_parents = 1;
        }
      else
        {
          guint64 n = flow_reader_varint (r);

          if (flow_reader_failed (r) || n > FLOW_BATCH_MAX_PARENTS || n > flow_reader_remaining (r))
            MALFORMED ("Malformed op parents");
          for (guint k = 0; k < n; k++)
            {
              FlowBatchRef ref;
              RefKind kind;
              guint32 pi;

              FlowOpId pid;

              if (!read_ref (r, b, index, index, FALSE, &kind, &pi, &ref) ||
                  (full && kind != REF_INDEX))
                MALFORMED ("Malformed op parent");
              pid = flow_batch_ref_id (b, &ref);
              *flow_array_push (b->parents, FlowOpId, &b->parents_cap) = pid;
            }
          run.n_parents = (guint32) n;
        }

      *flow_array_push (b->runs, FlowBatchRun, &b->runs_cap) = run;
      seen[agent] = TRUE;
      next_seq[agent] = run.seq + len;
      index += (guint32) len;
    }

  if (flow_reader_failed (r) || !flow_reader_at_end (r))
    MALFORMED ("Malformed op graph");
  b->n_ops = index;
  return TRUE;
}

/* The text run holding op @index (the runs cover every op). */
const FlowBatchTextRun *
flow_batch_text_run_at (const FlowBatch *b,
                        guint32          index)
{
  g_assert (b->text_runs->len > 0);

  return &g_array_index (b->text_runs, FlowBatchTextRun,
                         flow_runs_find (b->text_runs->data, b->text_runs->len,
                                         sizeof (FlowBatchTextRun), index, NULL));
}

/* ------------------------------------------------------------------------
 * Document order of a whole page
 * ------------------------------------------------------------------------ */

/*
 * TEXT_ORDER: every inserted char of a whole page, in document order, as
 * runs of consecutive LVs: `varint n`, then per run `zigzag (start - end of
 * the previous run)`, `varint length`. Tombstones are included; which chars
 * are deleted follows from the delete ops. That the runs cover exactly the
 * inserted chars is checked once the ops are known (check_order()).
 */
static gboolean
decode_text_order (FlowBatch   *b,
                   FlowReader  *r,
                   GError     **error)
{
  guint64 n = flow_reader_varint (r);
  guint64 prev_end = 0;
  guint64 total = 0;

  if (!(b->flags & FLOW_BATCH_FLAG_FULL) || b->kind != FLOW_DOC_KIND_PAGE)
    MALFORMED ("Text order outside a whole page");
  if (flow_reader_failed (r) || n > flow_reader_remaining (r) / 2)
    MALFORMED ("Malformed text order");

  g_array_set_size (b->order.ranges, (guint) n);
  for (guint64 i = 0; i < n; i++)
    {
      gint64 delta = flow_zigzag_decode (flow_reader_varint (r));
      guint64 len = flow_reader_varint (r);
      gint64 start = (gint64) prev_end + delta;
      FlowLvRange *range = &g_array_index (b->order.ranges, FlowLvRange, (guint) i);

      if (flow_reader_failed (r) || start < 0 || len == 0 || (guint64) start > b->n_ops ||
          len > b->n_ops - (guint64) start || total + len > b->n_ops)
        MALFORMED ("Malformed text order");
      range->start = (FlowLv) start;
      range->end = (FlowLv) (start + len);
      prev_end = (guint64) start + len;
      total += len;
    }
  if (!flow_reader_at_end (r))
    MALFORMED ("Malformed text order");
  if (!flow_order_index_build (&b->order))
    MALFORMED ("Text order lists a character twice");
  return TRUE;
}

/* Checks that the order covers exactly the inserted chars. */
static gboolean
check_order (FlowBatch   *b,
             guint32      inserted,
             GError     **error)
{
  guint64 covered = 0;

  for (guint i = 0; i < b->order.ranges->len; i++)
    {
      const FlowLvRange *rr = &g_array_index (b->order.ranges, FlowLvRange, i);
      FlowLv lv = rr->start;

      covered += rr->end - rr->start;
      while (lv < rr->end)
        {
          const FlowBatchTextRun *tr = flow_batch_text_run_at (b, lv);

          if (tr->kind != FLOW_TEXT_OP_INSERT)
            MALFORMED ("Text order lists a character that was never inserted");
          lv = MIN (rr->end, tr->start + tr->len);
        }
    }
  if (covered != inserted)
    MALFORMED ("Text order does not list every character");
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Text ops
 * ------------------------------------------------------------------------ */

/* Appends delete runs for ops [start, start + len) whose targets are the
 * batch ops t, t±1, ...: one run per stretch of contiguous ids. */
static void
add_indexed_deletes (FlowBatch *b,
                     guint32    start,
                     guint32    len,
                     guint32    t,
                     gboolean   reversed)
{
  guint32 k = 0;

  while (k < len)
    {
      FlowBatchTextRun tr = { 0, };
      guint run;
      guint32 target = reversed ? t - k : t + k;
      const FlowBatchRun *br;
      guint32 m;

      tr.a = flow_batch_index_ref (b, target, &run);
      tr.b.agent = FLOW_REF_NONE;
      br = &g_array_index (b->runs, FlowBatchRun, run);
      m = reversed ? MIN (len - k, target - br->start + 1)
                   : MIN (len - k, br->start + br->len - target);
      tr.start = start + k;
      tr.len = m;
      tr.kind = FLOW_TEXT_OP_DELETE;
      tr.reversed = reversed && m > 1;
      *flow_array_push (b->text_runs, FlowBatchTextRun, &b->text_runs_cap) = tr;
      k += m;
    }
}

/* An origin of a whole page: distance @d in document order from @pos, to
 * the left or right (0 = the start or end of the text). It must name an
 * earlier op than @cur. */
static gboolean
order_ref (FlowBatch    *b,
           guint64       d,
           guint32       pos,
           gboolean      left,
           guint32       cur,
           FlowBatchRef *ref)
{
  FlowLv lv;

  if (d == 0)
    {
      ref->agent = FLOW_REF_NONE;
      ref->seq = 0;
      return TRUE;
    }
  if (left ? d > pos : (guint64) pos + d >= b->n_ops)
    return FALSE;
  lv = flow_order_index_lv (&b->order, left ? pos - d : pos + d);
  if (lv == FLOW_LV_NONE || lv >= cur)
    return FALSE;
  *ref = flow_batch_index_ref (b, lv, NULL);
  return TRUE;
}

/*
 * TEXT_OPS: `varint n`, then runs of `varint (len - 1) << 3 | flags` and
 * their references. See docs/format.md for the two encodings of
 * references: ids (updates) or document-order distances (whole pages).
 */
static gboolean
decode_text_ops (FlowBatch   *b,
                 FlowReader  *r,
                 guint32     *inserted,
                 GError     **error)
{
  guint64 n_runs = flow_reader_varint (r);
  guint32 index = 0;
  gboolean full = (b->flags & FLOW_BATCH_FLAG_FULL) != 0;
  gboolean ordered = full && b->order.ranges->len > 0;
  FlowBatchRef last_or = { FLOW_REF_NONE, 0 };
  gboolean have_last_or = FALSE;
  guint64 last_target_pos = 0;

  /* A run takes at least one byte: an insert typed on needs no reference. */
  *inserted = 0;
  if (flow_reader_failed (r) || n_runs > flow_reader_remaining (r))
    MALFORMED ("Malformed text ops");

  for (guint64 i = 0; i < n_runs; i++)
    {
      guint64 h = flow_reader_varint (r);
      guint64 len = (h >> 3) + 1;
      guint kind = h & 1;
      gboolean bit1 = (h & 2) != 0;
      gboolean bit2 = (h & 4) != 0;
      RefKind rk;
      guint32 ri = 0;

      if (flow_reader_failed (r) || len > b->n_ops - index || (h >> 3) >= G_MAXUINT32)
        MALFORMED ("Malformed text ops");

      if (kind == FLOW_TEXT_OP_INSERT)
        {
          FlowBatchTextRun tr = { 0, };

          tr.start = index;
          tr.len = (guint32) len;
          tr.kind = FLOW_TEXT_OP_INSERT;

          if (ordered)
            {
              /* bit 2: origin_left is the char just before; bit 1:
               * origin_right the char just after the run's last char. */
              guint32 first = flow_order_index_pos (&b->order, index);
              guint32 last = flow_order_index_pos (&b->order, index + (guint32) len - 1);
              guint64 dl = bit2 ? 1 : flow_reader_varint (r);
              guint64 dr = bit1 ? 1 : flow_reader_varint (r);

              if (first == G_MAXUINT32 || last == G_MAXUINT32)
                MALFORMED ("Text order misses an inserted character");
              if (flow_reader_failed (r) ||
                  !order_ref (b, dl, first, TRUE, index, &tr.a) ||
                  !order_ref (b, dr, last, FALSE, index, &tr.b))
                MALFORMED ("Malformed insert origin");
            }
          else
            {
              /* bit 2: origin_left is the op before in the batch; bit 1:
               * origin_right as in the last insert run. */
              if (bit1 && !have_last_or)
                MALFORMED ("Malformed text ops");
              if (bit2)
                {
                  if (index == 0)
                    MALFORMED ("Malformed text ops");
                  tr.a = flow_batch_index_ref (b, index - 1, NULL);
                }
              else if (!read_ref (r, b, index, b->n_ops, TRUE, &rk, &ri, &tr.a) ||
                       (full && rk == REF_EXTERNAL))
                MALFORMED ("Malformed insert origin");
              if (bit1)
                tr.b = last_or;
              else if (!read_ref (r, b, index, b->n_ops, TRUE, &rk, &ri, &tr.b) ||
                       (full && rk == REF_EXTERNAL))
                MALFORMED ("Malformed insert origin");
            }

          last_or = tr.b;
          have_last_or = TRUE;
          *flow_array_push (b->text_runs, FlowBatchTextRun, &b->text_runs_cap) = tr;
          *inserted += (guint32) len;
        }
      else
        {
          gboolean reversed = bit1;
          FlowBatchRef target;

          if (bit2)
            MALFORMED ("Malformed delete");

          if (ordered)
            {
              /* The first target as a move in document order from the
               * last delete's first target. */
              gint64 d = flow_zigzag_decode (flow_reader_varint (r));
              gint64 pos = (gint64) last_target_pos + d;
              FlowLv t;

              if (flow_reader_failed (r) || pos < 0 || (guint64) pos >= b->n_ops)
                MALFORMED ("Malformed delete target");
              t = flow_order_index_lv (&b->order, (guint64) pos);
              if (t == FLOW_LV_NONE || t >= index || (reversed && t < len - 1))
                MALFORMED ("Malformed delete target");
              last_target_pos = (guint64) pos;
              add_indexed_deletes (b, index, (guint32) len, t, reversed);
            }
          else if (!read_ref (r, b, index, b->n_ops, FALSE, &rk, &ri, &target) ||
                   (full && rk != REF_INDEX))
            MALFORMED ("Malformed delete target");
          else if (rk == REF_INDEX)
            {
              /* Targets must precede their delete ops and stay in range. */
              if (reversed && ri < len - 1)
                MALFORMED ("Malformed delete target");
              add_indexed_deletes (b, index, (guint32) len, ri, reversed);
            }
          else
            {
              FlowBatchTextRun tr = { 0, };

              if (reversed && target.seq < len - 1)
                MALFORMED ("Malformed delete target");
              tr.start = index;
              tr.len = (guint32) len;
              tr.kind = FLOW_TEXT_OP_DELETE;
              tr.reversed = reversed;
              tr.a = target;
              tr.b.agent = FLOW_REF_NONE;
              *flow_array_push (b->text_runs, FlowBatchTextRun, &b->text_runs_cap) = tr;
            }
        }
      index += (guint32) len;
    }

  if (flow_reader_failed (r) || !flow_reader_at_end (r) || index != b->n_ops)
    MALFORMED ("Text ops do not match the op graph");
  return TRUE;
}

static gboolean
inflate_raw (const guint8 *in,
             gsize         in_len,
             guint8       *out,
             gsize         out_len)
{
  z_stream zs = { 0, };
  int ret;

  if (inflateInit2 (&zs, -15) != Z_OK)
    return FALSE;
  zs.next_in = (Bytef *) in;
  zs.avail_in = (uInt) in_len;
  zs.next_out = out;
  zs.avail_out = (uInt) out_len;
  ret = inflate (&zs, Z_FINISH);
  inflateEnd (&zs);
  return ret == Z_STREAM_END && zs.avail_out == 0 && zs.avail_in == 0;
}

static gboolean
decode_text_content (FlowBatch   *b,
                     FlowReader  *r,
                     guint32      inserted,
                     GError     **error)
{
  guint64 codec = flow_reader_varint (r);
  guint64 raw_len = flow_reader_varint (r);
  gboolean ascii;
  gsize rest;
  const char *p;

  if (flow_reader_failed (r) || raw_len < inserted || raw_len > (guint64) inserted * 4 ||
      raw_len > FLOW_BATCH_MAX_CONTENT)
    MALFORMED ("Malformed text content");

  rest = flow_reader_remaining (r);
  if (codec == 0)
    {
      if (rest != raw_len)
        MALFORMED ("Malformed text content");
      b->content = (const char *) flow_reader_bytes (r, rest);
    }
  else if (codec == 1)
    {
      const guint8 *z = flow_reader_bytes (r, rest);

      if (raw_len > (guint64) rest * FLOW_BATCH_MAX_INFLATE + 4096)
        MALFORMED ("Malformed text content");
      b->content_owned = g_malloc (raw_len + 1);
      if (!inflate_raw (z, rest, b->content_owned, raw_len))
        MALFORMED ("Corrupt compressed text");
      b->content = (const char *) b->content_owned;
    }
  else
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_UNSUPPORTED,
                   "Unknown text compression %" G_GUINT64_FORMAT, codec);
      return FALSE;
    }
  b->content_len = raw_len;

  /* Most text is ASCII: one byte per char, no walking. */
  ascii = raw_len == inserted && flow_is_ascii (b->content, raw_len);
  if (!ascii && (!g_utf8_validate_len (b->content, raw_len, NULL) ||
                 g_utf8_strlen (b->content, raw_len) != inserted))
    MALFORMED ("Text content is not the inserted characters as UTF-8");

  /* Hand each insert run its slice. */
  p = b->content;
  for (guint i = 0; i < b->text_runs->len; i++)
    {
      FlowBatchTextRun *tr = &g_array_index (b->text_runs, FlowBatchTextRun, i);
      const char *end;

      if (tr->kind != FLOW_TEXT_OP_INSERT)
        continue;
      end = ascii ? p + tr->len : g_utf8_offset_to_pointer (p, tr->len);
      tr->content_off = (guint32) (p - b->content);
      tr->content_len = (guint32) (end - p);
      p = end;
    }
  return TRUE;
}

static gboolean
read_utf8 (FlowReader  *r,
           char       **out)
{
  guint64 len = flow_reader_varint (r);
  const guint8 *p;

  if (flow_reader_failed (r) || len > flow_reader_remaining (r))
    return FALSE;
  p = flow_reader_bytes (r, len);
  if (!g_utf8_validate_len ((const char *) p, len, NULL))
    return FALSE;
  *out = g_strndup ((const char *) p, len);
  return TRUE;
}

static gboolean
decode_map_strings (FlowBatch   *b,
                    FlowReader  *r,
                    GError     **error)
{
  guint64 n = flow_reader_varint (r);

  if (flow_reader_failed (r) || n > flow_reader_remaining (r))
    MALFORMED ("Malformed string table");
  for (guint64 i = 0; i < n; i++)
    {
      char *s = NULL;

      if (!read_utf8 (r, &s))
        MALFORMED ("Malformed string table");
      g_ptr_array_add (b->strings, s);
    }
  if (!flow_reader_at_end (r))
    MALFORMED ("Malformed string table");
  return TRUE;
}

static FlowValue *
read_value (FlowBatch  *b,
            FlowReader *r,
            guint32     cur)
{
  guint8 type = flow_reader_u8 (r);

  if (flow_reader_failed (r))
    return NULL;

  switch (type)
    {
    case FLOW_VALUE_NULL:
      return flow_value_new_null ();

    case FLOW_VALUE_BOOL:
      {
        guint8 v = flow_reader_u8 (r);

        return flow_reader_failed (r) || v > 1 ? NULL : flow_value_new_bool (v);
      }

    case FLOW_VALUE_NUMBER:
      {
        double d = flow_reader_f64 (r);

        return flow_reader_failed (r) || !isfinite (d) ? NULL : flow_value_new_number (d);
      }

    case FLOW_VALUE_STRING:
      {
        g_autofree char *s = NULL;

        if (!read_utf8 (r, &s))
          return NULL;
        return flow_value_new_string (s);
      }

    case FLOW_VALUE_COLOR:
      {
        guint32 c = flow_reader_u32le (r);

        return flow_reader_failed (r) ? NULL : flow_value_new_color (c);
      }

    case FLOW_VALUE_POINTS:
      {
        guint64 n = flow_reader_varint (r);
        g_autofree FlowPoint *pts = NULL;

        if (flow_reader_failed (r) || n > flow_reader_remaining (r) / 12)
          return NULL;
        pts = g_new (FlowPoint, n + 1);
        for (guint64 i = 0; i < n; i++)
          {
            pts[i].x = flow_reader_f32 (r);
            pts[i].y = flow_reader_f32 (r);
            pts[i].pressure = flow_reader_f32 (r);
          }
        return flow_reader_failed (r) ? NULL : flow_value_new_points (pts, (guint) n);
      }

    case FLOW_VALUE_REF:
      {
        FlowBatchRef ref;
        RefKind kind;
        guint32 index;

        if (!read_ref (r, b, cur, b->n_ops, FALSE, &kind, &index, &ref))
          return NULL;
        {
          FlowOpId id = flow_batch_ref_id (b, &ref);

          return flow_value_new_ref (&id);
        }
      }

    case FLOW_VALUE_BYTES:
      {
        guint64 len = flow_reader_varint (r);
        const guint8 *p;

        if (flow_reader_failed (r) || len > flow_reader_remaining (r))
          return NULL;
        p = flow_reader_bytes (r, len);
        {
          g_autoptr(GBytes) bytes = g_bytes_new (p, len);

          return flow_value_new_bytes (bytes);
        }
      }

    default:
      return NULL;
    }
}

static gboolean
decode_map_ops (FlowBatch   *b,
                FlowReader  *r,
                GError     **error)
{
  guint64 n = flow_reader_varint (r);
  gboolean full = (b->flags & FLOW_BATCH_FLAG_FULL) != 0;

  if (flow_reader_failed (r) || n != b->n_ops || n > flow_reader_remaining (r))
    MALFORMED ("Map ops do not match the op graph");

  g_array_set_size (b->map_ops, (guint) n);
  for (guint32 i = 0; i < n; i++)
    {
      FlowBatchMapOp *op = &g_array_index (b->map_ops, FlowBatchMapOp, i);
      guint64 kind = flow_reader_varint (r);

      if (kind == FLOW_MAP_OP_CREATE)
        {
          guint64 name = flow_reader_varint (r);

          if (flow_reader_failed (r) || name >= b->strings->len)
            MALFORMED ("Malformed map op");
          op->kind = FLOW_MAP_OP_CREATE;
          op->name = (guint32) name;
        }
      else if (kind == FLOW_MAP_OP_SET)
        {
          FlowBatchRef ref;
          RefKind rk;
          guint32 ri;
          guint64 name;

          if (!read_ref (r, b, i, b->n_ops, FALSE, &rk, &ri, &ref) || (full && rk != REF_INDEX))
            MALFORMED ("Malformed map op");
          name = flow_reader_varint (r);
          if (flow_reader_failed (r) || name >= b->strings->len)
            MALFORMED ("Malformed map op");
          op->kind = FLOW_MAP_OP_SET;
          op->entity = flow_batch_ref_id (b, &ref);
          op->name = (guint32) name;
          op->value = read_value (b, r, i);
          if (op->value == NULL)
            MALFORMED ("Malformed property value");
        }
      else
        MALFORMED ("Unknown map op");
    }

  if (flow_reader_failed (r) || !flow_reader_at_end (r))
    MALFORMED ("Malformed map ops");
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Container
 * ------------------------------------------------------------------------ */

/*
 * The header: magic, `varint version`, `varint kind`, `varint flags`. With
 * FLOW_BATCH_FLAG_CRC the last four bytes are a CRC-32 (little-endian) of
 * everything before them, checked here; @r is left on the first chunk.
 */
static gboolean
read_header (FlowReader   *r,
             const guint8 *data,
             gsize         len,
             FlowDocKind  *kind,
             guint        *flags,
             GError      **error)
{
  guint64 version;
  guint64 k;
  guint64 f;

  if (len < 4 || memcmp (data, FLOW_FORMAT_MAGIC, 4) != 0)
    MALFORMED ("Not FlowSync data");
  if (len < 4 + 3)
    MALFORMED ("FlowSync data is truncated");

  flow_reader_init (r, data + 4, len - 4);
  version = flow_reader_varint (r);
  if (flow_reader_failed (r) || version == 0)
    MALFORMED ("Malformed FlowSync header");
  if (version > FLOW_FORMAT_VERSION)
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_UNSUPPORTED,
                   "This data uses FlowSync format %" G_GUINT64_FORMAT
                   "; this version reads format %d. Update FlowSync to open it.",
                   version, FLOW_FORMAT_VERSION);
      return FALSE;
    }
  k = flow_reader_varint (r);
  f = flow_reader_varint (r);
  if (flow_reader_failed (r) || k > FLOW_DOC_KIND_LAST)
    MALFORMED ("Malformed FlowSync header");
  if (f & ~(guint64) (FLOW_BATCH_FLAG_FULL | FLOW_BATCH_FLAG_CRC))
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_UNSUPPORTED,
                           "This data uses features of a newer FlowSync");
      return FALSE;
    }

  if (f & FLOW_BATCH_FLAG_CRC)
    {
      guint32 stored;

      if (flow_reader_remaining (r) < 4)
        MALFORMED ("FlowSync data is truncated");
      memcpy (&stored, data + len - 4, 4);
      if (GUINT32_FROM_LE (stored) != flow_crc32 (data, len - 4))
        MALFORMED ("FlowSync data is corrupt (checksum mismatch)");
      r->end -= 4;
    }

  *kind = (FlowDocKind) k;
  *flags = (guint) f;
  return TRUE;
}

/* Reads only the header (and checks the checksum, if any). */
gboolean
flow_batch_peek (const guint8 *data,
                 gsize         len,
                 FlowDocKind  *kind,
                 guint        *flags,
                 GError      **error)
{
  FlowReader r;

  return read_header (&r, data, len, kind, flags, error);
}

/*
 * flow_batch_decode:
 *
 * Decodes @data into @b (reset first). On failure @b holds partial data
 * that must not be applied.
 */
gboolean
flow_batch_decode (FlowBatch     *b,
                   const guint8  *data,
                   gsize          len,
                   GError       **error)
{
  FlowReader r;
  guint last_type = 0;
  guint32 inserted = 0;
  gboolean have_graph = FALSE;
  gboolean have_text_ops = FALSE;
  gboolean have_content = FALSE;
  gboolean have_map_ops = FALSE;

  flow_batch_reset (b);

  if (!read_header (&r, data, len, &b->kind, &b->flags, error))
    return FALSE;

  while (!flow_reader_at_end (&r))
    {
      guint64 type = flow_reader_varint (&r);
      guint64 clen = flow_reader_varint (&r);
      FlowReader c;
      gboolean ok = TRUE;

      if (flow_reader_failed (&r) || clen > flow_reader_remaining (&r) ||
          type <= last_type || type > G_MAXUINT32)
        MALFORMED ("Malformed chunk");
      flow_reader_sub (&r, clen, &c);
      last_type = (guint) type;

      /* Chunks that need the op graph must come after it. */
      if (type > FLOW_CHUNK_GRAPH && type < FLOW_CHUNK_OPTIONAL && !have_graph)
        MALFORMED ("Missing op graph");

      switch (type)
        {
        case FLOW_CHUNK_DOC_ID:
          b->doc_id.replica = flow_reader_u64le (&c);
          b->doc_id.seq = flow_reader_varint (&c);
          if (flow_reader_failed (&c) || !flow_reader_at_end (&c))
            MALFORMED ("Malformed document id");
          b->has_doc_id = TRUE;
          break;

        case FLOW_CHUNK_AGENTS:
          ok = decode_agents (b, &c, error);
          break;

        case FLOW_CHUNK_GRAPH:
          ok = decode_graph (b, &c, error);
          have_graph = TRUE;
          break;

        case FLOW_CHUNK_TEXT_ORDER:
          ok = decode_text_order (b, &c, error);
          break;

        case FLOW_CHUNK_TEXT_OPS:
          if (b->kind != FLOW_DOC_KIND_PAGE)
            MALFORMED ("Text ops in a document that is not a page");
          ok = decode_text_ops (b, &c, &inserted, error);
          have_text_ops = TRUE;
          break;

        case FLOW_CHUNK_TEXT_CONTENT:
          if (!have_text_ops)
            MALFORMED ("Text content without text ops");
          ok = decode_text_content (b, &c, inserted, error);
          have_content = TRUE;
          break;

        case FLOW_CHUNK_MAP_STRINGS:
          if (b->kind == FLOW_DOC_KIND_PAGE)
            MALFORMED ("Map data in a page");
          ok = decode_map_strings (b, &c, error);
          break;

        case FLOW_CHUNK_MAP_OPS:
          if (b->kind == FLOW_DOC_KIND_PAGE)
            MALFORMED ("Map data in a page");
          ok = decode_map_ops (b, &c, error);
          have_map_ops = TRUE;
          break;

        default:
          if (type < FLOW_CHUNK_OPTIONAL)
            {
              g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_UNSUPPORTED,
                           "This data holds parts (type %" G_GUINT64_FORMAT
                           ") from a newer FlowSync", type);
              return FALSE;
            }
          break;
        }
      if (!ok)
        return FALSE;
    }

  if (!have_graph)
    MALFORMED ("Missing op graph");
  if (b->n_ops > 0 && b->kind == FLOW_DOC_KIND_PAGE && !have_text_ops)
    MALFORMED ("Missing text ops");
  if (inserted > 0 && !have_content)
    MALFORMED ("Missing text content");
  if (b->n_ops > 0 && b->kind != FLOW_DOC_KIND_PAGE && !have_map_ops)
    MALFORMED ("Missing map ops");
  if (b->order.ranges->len > 0 && !check_order (b, inserted, error))
    return FALSE;
  return TRUE;
}
