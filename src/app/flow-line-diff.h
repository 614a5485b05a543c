/* flow-line-diff.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  FLOW_DIFF_SAME,
  FLOW_DIFF_REMOVED,  /* only in the old text */
  FLOW_DIFF_ADDED,    /* only in the new text */
} FlowDiffKind;

/* A run of whole lines; offsets are byte offsets into the old or new text
 * (SAME and REMOVED: old; ADDED: new). Each line includes its newline. */
typedef struct
{
  FlowDiffKind kind;
  gsize        start;
  gsize        end;
} FlowDiffHunk;

GArray *flow_line_diff (const char *old_text,
                        const char *new_text);

G_END_DECLS
