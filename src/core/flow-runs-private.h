/* flow-runs-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Run-length arrays are sorted arrays of structs that begin with
 * `guint32 start; guint32 len;`. flow_runs_find() returns the index of the
 * last run whose start is <= @key (0 if none), trying *@cache first, since
 * lookups cluster, and remembering the answer there. @n must be > 0. O(1)
 * on a cache hit, O(log n) otherwise.
 */
static inline guint
flow_runs_find (const void *base,
                guint       n,
                gsize       size,
                guint32     key,
                guint      *cache)
{
#define FLOW_RUN_START(i) (((const guint32 *) (gconstpointer) ((const guint8 *) base + (gsize) (i) * size))[0])
#define FLOW_RUN_LEN(i)   (((const guint32 *) (gconstpointer) ((const guint8 *) base + (gsize) (i) * size))[1])
  guint lo = 0;
  guint hi = n;
  guint c = cache ? *cache : 0;

  if (cache && c < n && FLOW_RUN_START (c) <= key && key - FLOW_RUN_START (c) < FLOW_RUN_LEN (c))
    return c;
  if (FLOW_RUN_START (n - 1) <= key)
    lo = n - 1;
  else
    while (hi - lo > 1)
      {
        guint mid = lo + (hi - lo) / 2;

        if (FLOW_RUN_START (mid) <= key)
          lo = mid;
        else
          hi = mid;
      }
  if (cache)
    *cache = lo;
  return lo;
#undef FLOW_RUN_START
#undef FLOW_RUN_LEN
}

G_END_DECLS

/* Check at build time that a struct can be used with flow_runs_find(). */
#define FLOW_RUNS_CHECK(Type, start_field, len_field) \
  G_STATIC_ASSERT (G_STRUCT_OFFSET (Type, start_field) == 0 && \
                   G_STRUCT_OFFSET (Type, len_field) == 4 && \
                   sizeof (((Type *) 0)->start_field) == 4 && \
                   sizeof (((Type *) 0)->len_field) == 4)
