/* flow-order.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "flow-codec-private.h"
#include "flow-order-private.h"

void
flow_order_index_init (FlowOrderIndex *index)
{
  index->ranges = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));
  index->pos = g_array_new (FALSE, FALSE, sizeof (guint32));
  index->by_lv = g_array_new (FALSE, FALSE, sizeof (guint32));
}

void
flow_order_index_reset (FlowOrderIndex *index)
{
  flow_array_clear (index->ranges);
  flow_array_clear (index->pos);
  flow_array_clear (index->by_lv);
}

void
flow_order_index_clear (FlowOrderIndex *index)
{
  g_clear_pointer (&index->ranges, g_array_unref);
  g_clear_pointer (&index->pos, g_array_unref);
  g_clear_pointer (&index->by_lv, g_array_unref);
}

/* Sorts range indexes by their first LV: an LSD radix sort with 11-bit
 * digits (three passes, stable, O(n), small tables); a comparison sort was
 * the slowest part of loading a page. */
static void
sort_by_lv (const FlowLvRange *ranges,
            guint32           *idx,
            guint              n)
{
  g_autofree guint32 *tmp = g_new (guint32, n + 1);
  guint32 *src = idx;
  guint32 *dst = tmp;

  for (guint shift = 0; shift < 33; shift += 11)
    {
      guint32 count[2049] = { 0, };

      for (guint i = 0; i < n; i++)
        count[((ranges[src[i]].start >> shift) & 0x7ff) + 1]++;
      for (guint b = 0; b < 2048; b++)
        count[b + 1] += count[b];
      for (guint i = 0; i < n; i++)
        dst[count[(ranges[src[i]].start >> shift) & 0x7ff]++] = src[i];
      src = dst;
      dst = src == tmp ? idx : tmp;
    }
  /* Three passes leave the result in tmp. */
  memcpy (idx, src, n * sizeof (guint32));
}

/*
 * Computes positions and the LV index once the ranges are filled in.
 * Returns FALSE if two ranges overlap (an LV listed twice).
 */
gboolean
flow_order_index_build (FlowOrderIndex *index)
{
  const FlowLvRange *ranges = (const FlowLvRange *) (gpointer) index->ranges->data;
  guint n = index->ranges->len;
  guint32 pos = 0;
  guint32 *by_lv;

  g_array_set_size (index->pos, n);
  g_array_set_size (index->by_lv, n);
  by_lv = (guint32 *) (gpointer) index->by_lv->data;
  for (guint i = 0; i < n; i++)
    {
      g_array_index (index->pos, guint32, i) = pos;
      by_lv[i] = i;
      pos += ranges[i].end - ranges[i].start;
    }
  if (n > 1)
    sort_by_lv (ranges, by_lv, n);
  index->pos_cache = index->lv_cache = 0;

  for (guint i = 1; i < n; i++)
    if (ranges[by_lv[i - 1]].end > ranges[by_lv[i]].start)
      return FALSE;
  return TRUE;
}

/* The position of @lv in document order, or G_MAXUINT32 if not listed. */
guint32
flow_order_index_pos (FlowOrderIndex *index,
                      FlowLv          lv)
{
  const FlowLvRange *ranges = (const FlowLvRange *) (gpointer) index->ranges->data;
  const guint32 *by_lv = (const guint32 *) (gpointer) index->by_lv->data;
  guint n = index->by_lv->len;
  guint lo = 0;
  guint hi = n;

  /* Lookups come in LV order more often than not: try the last slot and
   * the next one before searching. */
  for (guint c = index->lv_cache; c < n && c <= index->lv_cache + 1; c++)
    {
      const FlowLvRange *r = &ranges[by_lv[c]];

      if (r->start <= lv && lv < r->end)
        {
          index->lv_cache = c;
          return g_array_index (index->pos, guint32, by_lv[c]) + (lv - r->start);
        }
    }

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const FlowLvRange *r = &ranges[by_lv[mid]];

      if (lv < r->start)
        hi = mid;
      else if (lv >= r->end)
        lo = mid + 1;
      else
        {
          index->lv_cache = mid;
          return g_array_index (index->pos, guint32, by_lv[mid]) + (lv - r->start);
        }
    }
  return G_MAXUINT32;
}

/* The LV at position @pos of document order, or FLOW_LV_NONE. */
FlowLv
flow_order_index_lv (FlowOrderIndex *index,
                     guint64         pos)
{
  const guint32 *starts = (const guint32 *) (gpointer) index->pos->data;
  guint n = index->pos->len;
  guint lo = 0;
  guint hi = n;
  guint c = index->pos_cache;
  const FlowLvRange *r;

  if (n == 0)
    return FLOW_LV_NONE;

  /* Origins sit next to what refers to them: try the cached range and its
   * neighbours first. */
  if (c < n && starts[c] <= pos && (c + 1 == n || pos < starts[c + 1]))
    lo = c;
  else if (c + 1 < n && starts[c + 1] <= pos && (c + 2 == n || pos < starts[c + 2]))
    lo = c + 1;
  else if (c > 0 && c - 1 < n && starts[c - 1] <= pos && pos < starts[c])
    lo = c - 1;
  else
    {
      while (hi - lo > 1)
        {
          guint mid = lo + (hi - lo) / 2;

          if (starts[mid] <= pos)
            lo = mid;
          else
            hi = mid;
        }
    }
  index->pos_cache = lo;
  r = &g_array_index (index->ranges, FlowLvRange, lo);
  if (pos < starts[lo] || pos - starts[lo] >= r->end - r->start)
    return FLOW_LV_NONE;
  return r->start + (FlowLv) (pos - starts[lo]);
}
