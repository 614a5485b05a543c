/* flow-undo-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-oplog-private.h"
#include "flow-value.h"

G_BEGIN_DECLS

typedef struct _FlowUndo FlowUndo;

typedef enum
{
  FLOW_UNDO_TEXT_INSERT, /* our chars [a, b): undo deletes the visible ones */
  FLOW_UNDO_TEXT_DELETE, /* chars [a, b) we deleted: undo types them again */
  FLOW_UNDO_MAP_SET,     /* we wrote entity.key (op); undo restores old */
} FlowUndoKind;

typedef struct
{
  FlowUndoKind kind;
  FlowLv       a;
  FlowLv       b;
  FlowLv       entity;
  guint32      key;
  FlowLv       op;
  FlowValue   *old;
  FlowLv       old_op; /* the op that had written @old, or FLOW_LV_NONE */
} FlowUndoRecord;

typedef enum
{
  FLOW_UNDO_MODE_NORMAL,
  FLOW_UNDO_MODE_UNDOING,
  FLOW_UNDO_MODE_REDOING,
} FlowUndoMode;

FlowUndo     *flow_undo_new              (void);
void          flow_undo_free             (FlowUndo      *undo);
FlowUndoMode  flow_undo_get_mode         (FlowUndo      *undo);
void          flow_undo_record_text      (FlowUndo      *undo,
                                          FlowUndoKind   kind,
                                          FlowLv         start,
                                          FlowLv         end);
void          flow_undo_record_map_set   (FlowUndo      *undo,
                                          FlowLv         entity,
                                          guint32        key,
                                          FlowValue     *old,
                                          FlowLv         old_op,
                                          FlowLv         op);
void          flow_undo_begin            (FlowUndo      *undo,
                                          gint64         now);
void          flow_undo_commit           (FlowUndo      *undo,
                                          gint64         now);
gboolean      flow_undo_can_undo         (FlowUndo      *undo);
gboolean      flow_undo_can_redo         (FlowUndo      *undo);
gboolean      flow_undo_run              (FlowUndo      *undo,
                                          FlowDoc       *doc,
                                          gboolean       redo);

G_END_DECLS
