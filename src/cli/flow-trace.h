/* flow-trace.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "flow-doc.h"

G_BEGIN_DECLS

#define FLOW_TRACE_ERROR (flow_trace_error_quark ())

typedef enum
{
  FLOW_TRACE_ERROR_INVALID,
} FlowTraceError;

/* One patch: at @pos delete @del code points, then insert @ins. */
typedef struct
{
  guint  pos;
  guint  del;
  const char *ins; /* in FlowTrace.text, not nul-terminated */
  gsize  ins_len;
  guint  ins_chars;
} FlowTracePatch;

typedef struct
{
  guint  agent;
  guint *parents;
  guint  n_parents;
  guint  first_patch;
  guint  n_patches;
} FlowTraceTxn;

typedef struct
{
  gboolean  concurrent;
  guint     n_agents;
  char     *end_content;
  GArray   *patches; /* FlowTracePatch */
  GString  *text;    /* every patch's inserted text, one after the other */
  GArray   *txns;    /* FlowTraceTxn */
} FlowTrace;

typedef struct
{
  guint64  ops;
  guint    runs;
  gboolean matches;
  double   replay_ms;
  double   updates_ms;
  gsize    encoded_bytes;
  double   load_ms;
  gsize    doc_bytes;
} FlowTraceResult;

GQuark     flow_trace_error_quark (void) G_GNUC_CONST;
FlowTrace *flow_trace_load        (const char      *path,
                                   GError         **error);
void       flow_trace_free        (FlowTrace       *trace);
FlowDoc   *flow_trace_replay      (const FlowTrace *trace,
                                   GError         **error);
gboolean   flow_trace_measure     (const FlowTrace *trace,
                                   guint            runs,
                                   FlowTraceResult *result,
                                   GError         **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowTrace, flow_trace_free)

G_END_DECLS
