/* flow-text-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-oplog-private.h"

G_BEGIN_DECLS

typedef struct _FlowText FlowText;

typedef enum
{
  FLOW_TEXT_OP_INSERT = 0,
  FLOW_TEXT_OP_DELETE = 1,
} FlowTextOpKind;

/* One run of text ops, consecutive in LV.
 *
 * INSERT: chars lv .. lv+len-1. The first char has origin_left @a and
 *   origin_right @b (LVs, or FLOW_LV_NONE for the document's start or end);
 *   each later char has the char before it as origin_left and @b as
 *   origin_right. Its UTF-8 text is content[off .. off + bytes).
 * DELETE: op lv+k deletes char @a + k, or @a - k when @reversed (backspace).
 */
typedef struct
{
  FlowLv  lv;
  guint32 len;
  guint32 kind     : 1;
  guint32 reversed : 1;
  guint32 ascii    : 1;
  FlowLv  a;
  FlowLv  b;
  guint32 off;
} FlowTextOp;

/* A change of the visible text, in code points. The inserted text is
 * content[off .. off + bytes) of the FlowText that produced it. Functions
 * below that take `GArray *deltas` append to it with flow_scratch_push():
 * pass NULL, or an array made as that function asks. */
typedef struct
{
  guint   pos;
  guint   removed;
  guint   inserted;
  guint32 off;
  guint32 bytes;
} FlowTextDelta;

FlowText       *flow_text_new              (FlowOpLog        *log);
void            flow_text_free             (FlowText         *text);
guint           flow_text_get_length       (const FlowText   *text);
void            flow_text_append_to        (const FlowText   *text,
                                            GString          *out);
const char     *flow_text_content          (const FlowText   *text,
                                            guint32           off);
void            flow_text_reserve          (FlowText         *text,
                                            guint32           n_lvs,
                                            guint             n_runs,
                                            gsize             content_bytes);
gsize           flow_text_memory           (const FlowText   *text);

FlowLv          flow_text_local_insert     (FlowText         *text,
                                            guint32           agent,
                                            guint             pos,
                                            const char       *utf8,
                                            gsize             bytes,
                                            guint             n_chars,
                                            GArray           *deltas);
FlowLv          flow_text_local_delete     (FlowText         *text,
                                            guint32           agent,
                                            guint             pos,
                                            guint             n_chars,
                                            GArray           *deleted_ranges,
                                            GArray           *deltas);

guint           flow_text_local_delete_lvs (FlowText         *text,
                                            guint32           agent,
                                            FlowLv            start,
                                            guint32           len,
                                            GArray           *deleted_ranges,
                                            GArray           *deltas);
void            flow_text_apply_insert     (FlowText         *text,
                                            FlowLv            lv,
                                            guint32           len,
                                            FlowLv            origin_left,
                                            FlowLv            origin_right,
                                            const char       *utf8,
                                            gsize             bytes,
                                            GArray           *deltas);
void            flow_text_apply_delete     (FlowText         *text,
                                            FlowLv            lv,
                                            guint32           len,
                                            FlowLv            target,
                                            gboolean          reversed,
                                            GArray           *deltas);
void            flow_text_record_insert    (FlowText         *text,
                                            FlowLv            lv,
                                            guint32           len,
                                            FlowLv            origin_left,
                                            FlowLv            origin_right,
                                            const char       *utf8,
                                            gsize             bytes);
void            flow_text_adopt_content    (FlowText         *text,
                                            guint8           *data,
                                            gsize             len);
void            flow_text_record_insert_at (FlowText         *text,
                                            FlowLv            lv,
                                            guint32           len,
                                            FlowLv            origin_left,
                                            FlowLv            origin_right,
                                            guint32           off,
                                            gsize             bytes);
void            flow_text_record_delete    (FlowText         *text,
                                            FlowLv            lv,
                                            guint32           len,
                                            FlowLv            target,
                                            gboolean          reversed);

const FlowTextOp *flow_text_find_op        (FlowText         *text,
                                            FlowLv            lv);
GArray         *flow_text_get_ops          (FlowText         *text);
gboolean        flow_text_is_insert_range  (FlowText         *text,
                                            FlowLv            start,
                                            guint32           len);
gboolean        flow_text_is_deleted       (FlowText         *text,
                                            FlowLv            lv);
gsize           flow_text_byte_offset      (FlowText         *text,
                                            FlowLv            lv);
guint           flow_text_visible_pos      (FlowText         *text,
                                            FlowLv            lv);
guint32         flow_text_item_run         (FlowText         *text,
                                            FlowLv            lv,
                                            guint32           max,
                                            guint64          *order,
                                            gboolean         *deleted);
FlowLv          flow_text_local_insert_after (FlowText       *text,
                                            guint32           agent,
                                            FlowLv            after,
                                            const char       *utf8,
                                            gsize             bytes,
                                            guint             n_chars,
                                            GArray           *deltas);
void            flow_text_visit_order      (FlowText         *text,
                                            void            (*func) (FlowLv lv,
                                                                     guint32 len,
                                                                     gboolean deleted,
                                                                     gpointer data),
                                            gpointer          data);
void            flow_text_load_order       (FlowText         *text,
                                            const FlowLvRange *order,
                                            guint             n_ranges);
void            flow_text_check            (FlowText         *text);

G_END_DECLS
