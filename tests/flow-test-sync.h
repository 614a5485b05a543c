/* flow-test-sync.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "flow-room.h"
#include "flow-workspace.h"

G_BEGIN_DECLS

FlowRoom *flow_test_join_loopback (FlowWorkspace *ws,
                                   const char    *link,
                                   const char    *name,
                                   guint32        color);
FlowDoc  *flow_test_find_doc      (FlowWorkspace *ws,
                                   const char    *title);
gboolean  flow_test_page_has      (FlowWorkspace *ws,
                                   const char    *title,
                                   const char    *needle);

G_END_DECLS
