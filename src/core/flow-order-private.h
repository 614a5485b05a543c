/* flow-order-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-oplog-private.h"

G_BEGIN_DECLS

/*
 * The document order of a whole page as runs of consecutive LVs, with
 * lookups both ways: the position in that order of an LV, and the LV at a
 * position. Encoder and decoder of whole pages share it (TEXT_ORDER).
 */
typedef struct
{
  GArray *ranges; /* FlowLvRange, in document order */
  GArray *pos;    /* guint32: position of each range's first char */
  GArray *by_lv;  /* guint32: indexes into ranges, sorted by LV */
  guint   pos_cache;  /* range of the last position looked up */
  guint   lv_cache;   /* by_lv slot of the last LV looked up */
} FlowOrderIndex;

void      flow_order_index_init  (FlowOrderIndex       *index);
void      flow_order_index_clear (FlowOrderIndex       *index);
void      flow_order_index_reset (FlowOrderIndex       *index);
gboolean  flow_order_index_build (FlowOrderIndex       *index);
guint32   flow_order_index_pos   (FlowOrderIndex       *index,
                                  FlowLv                lv);
FlowLv    flow_order_index_lv    (FlowOrderIndex       *index,
                                  guint64               pos);

G_END_DECLS
