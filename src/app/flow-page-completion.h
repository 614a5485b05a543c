/* flow-page-completion.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtksourceview/gtksource.h>

#include "flow-workspace.h"

G_BEGIN_DECLS

#define FLOW_TYPE_PAGE_COMPLETION (flow_page_completion_get_type ())

G_DECLARE_FINAL_TYPE (FlowPageCompletion, flow_page_completion, FLOW, PAGE_COMPLETION, GObject)

FlowPageCompletion *flow_page_completion_new        (FlowWorkspace *workspace);
char               *flow_page_completion_get_prefix (const GtkTextIter *cursor);
GPtrArray          *flow_page_completion_match      (FlowPageCompletion *self,
                                                     const char         *prefix);

G_END_DECLS
