/* flow-order.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

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
  g_array_set_size (index->ranges, 0);
  g_array_set_size (index->pos, 0);
  g_array_set_size (index->by_lv, 0);
}

void
flow_order_index_clear (FlowOrderIndex *index)
{
  g_clear_pointer (&index->ranges, g_array_unref);
  g_clear_pointer (&index->pos, g_array_unref);
  g_clear_pointer (&index->by_lv, g_array_unref);
}

static gint
by_lv_cmp (gconstpointer a,
           gconstpointer b,
           gpointer      user_data)
{
  const FlowLvRange *ranges = user_data;
  FlowLv x = ranges[*(const guint32 *) a].start;
  FlowLv y = ranges[*(const guint32 *) b].start;

  return x < y ? -1 : x > y;
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

  g_array_set_size (index->pos, n);
  g_array_set_size (index->by_lv, n);
  for (guint i = 0; i < n; i++)
    {
      g_array_index (index->pos, guint32, i) = pos;
      g_array_index (index->by_lv, guint32, i) = i;
      pos += ranges[i].end - ranges[i].start;
    }
  g_array_sort_with_data (index->by_lv, by_lv_cmp, index->ranges->data);

  for (guint i = 1; i < n; i++)
    if (ranges[g_array_index (index->by_lv, guint32, i - 1)].end >
        ranges[g_array_index (index->by_lv, guint32, i)].start)
      return FALSE;
  return TRUE;
}

/* The position of @lv in document order, or G_MAXUINT32 if not listed. */
guint32
flow_order_index_pos (const FlowOrderIndex *index,
                      FlowLv                lv)
{
  const FlowLvRange *ranges = (const FlowLvRange *) (gpointer) index->ranges->data;
  const guint32 *by_lv = (const guint32 *) (gpointer) index->by_lv->data;
  guint lo = 0;
  guint hi = index->by_lv->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const FlowLvRange *r = &ranges[by_lv[mid]];

      if (lv < r->start)
        hi = mid;
      else if (lv >= r->end)
        lo = mid + 1;
      else
        return g_array_index (index->pos, guint32, by_lv[mid]) + (lv - r->start);
    }
  return G_MAXUINT32;
}

/* The LV at position @pos of document order, or FLOW_LV_NONE. */
FlowLv
flow_order_index_lv (const FlowOrderIndex *index,
                     guint64               pos)
{
  const guint32 *starts = (const guint32 *) (gpointer) index->pos->data;
  guint lo = 0;
  guint hi = index->pos->len;
  const FlowLvRange *r;

  if (hi == 0)
    return FLOW_LV_NONE;
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;

      if (starts[mid] <= pos)
        lo = mid;
      else
        hi = mid;
    }
  r = &g_array_index (index->ranges, FlowLvRange, lo);
  if (pos < starts[lo] || pos - starts[lo] >= r->end - r->start)
    return FLOW_LV_NONE;
  return r->start + (FlowLv) (pos - starts[lo]);
}
