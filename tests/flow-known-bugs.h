/* flow-known-bugs.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Recognisers for bugs in src/core that the randomised tests and fuzz
 * targets found and that are not fixed yet. Each recogniser tells, from the
 * input alone, whether a failure is exactly that bug, so the suites can step
 * over it and keep checking everything else. Each has a minimal reproducer
 * marked with g_test_incomplete() ("BUG: ...") in a test; delete the
 * recogniser and its uses once the bug is fixed.
 */

#pragma once

#include "flow-batch-private.h"
#include "flow-codec-private.h"
#include "flow-doc-private.h"
#include "flow-error.h"

G_BEGIN_DECLS

/*
 * BUG (flow-batch.c, decode_text_ops()): the decoder refuses any TEXT_OPS
 * chunk with more runs than half its bytes ("n_runs > remaining / 2"), but
 * an insert run whose origins are both implied by flag bits is one byte. So
 * flow_doc_load() refuses, as "Malformed text ops", the encoding of a page
 * on which someone typed "abc", then "x" at 1 and "y" at 3.
 *
 * Returns: %TRUE if @data is FlowSync data whose TEXT_OPS chunk has that
 *   shape, so that refusing it as "Malformed text ops" is this bug
 */
static inline gboolean
flow_known_bug_text_ops_bound (const guint8 *data,
                               gsize         len)
{
  FlowReader r;
  gboolean full;

  if (len < 7 || memcmp (data, FLOW_FORMAT_MAGIC, 4) != 0)
    return FALSE;
  flow_reader_init (&r, data + 4, len - 4);
  flow_reader_varint (&r); /* version */
  flow_reader_varint (&r); /* kind */
  full = (flow_reader_varint (&r) & FLOW_BATCH_FLAG_CRC) != 0;
  if (full && r.end - r.p >= 4)
    r.end -= 4;

  while (!flow_reader_failed (&r) && !flow_reader_at_end (&r))
    {
      guint64 type = flow_reader_varint (&r);
      guint64 clen = flow_reader_varint (&r);
      FlowReader c;

      if (flow_reader_failed (&r) || clen > flow_reader_remaining (&r))
        return FALSE;
      flow_reader_sub (&r, clen, &c);
      if (type == FLOW_CHUNK_TEXT_OPS)
        {
          guint64 n = flow_reader_varint (&c);

          return !flow_reader_failed (&c) && n > flow_reader_remaining (&c) / 2 &&
                 n <= flow_reader_remaining (&c);
        }
    }
  return FALSE;
}

/* Is @error, from decoding @bytes, the bug above? */
static inline gboolean
flow_known_bug_text_ops_bound_error (GBytes       *bytes,
                                     const GError *error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return g_error_matches (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED) &&
         g_strcmp0 (error->message, "Malformed text ops") == 0 &&
         flow_known_bug_text_ops_bound (data, len);
}

/*
 * BUG (flow-batch.c, flow_batch_init() and decode_map_ops()): the map-op
 * array is not zero-initialised (g_array_new (FALSE, FALSE, ...)), and
 * decode_map_ops() grows it with g_array_set_size() but sets `value` only
 * for SET ops, and not at all for the ops after a malformed one. Resetting
 * the batch (after every apply, and in flow_doc_load()) then unrefs
 * whatever the heap held there: a crash, or worse, on receiving or loading
 * an ordinary board or catalog batch whenever the memory is not zero.
 *
 * The work-around replaces a document's scratch array by a zeroing one, so
 * flow_doc_apply() on it is safe. flow_doc_load() uses a batch of its own
 * and cannot be protected: tests load map documents by applying their
 * encoding to a new document instead.
 */
static inline void
flow_known_bug_map_op_clear (gpointer data)
{
  FlowBatchMapOp *op = data;

  g_clear_pointer (&op->value, flow_value_unref);
}

static inline void
flow_known_bug_map_ops_work_around (FlowDoc *doc)
{
  GArray *ops = g_array_new (FALSE, TRUE, sizeof (FlowBatchMapOp));

  g_array_set_clear_func (ops, flow_known_bug_map_op_clear);
  g_array_unref (doc->scratch.map_ops);
  doc->scratch.map_ops = ops;
}

G_END_DECLS
