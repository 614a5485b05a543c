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

void      flow_test_die_with_parent (gpointer       user_data);
int       flow_test_run_cli       (char          **out,
                                   char          **err,
                                   const char     *first,
                                   ...) G_GNUC_NULL_TERMINATED;

#define FLOW_TEST_TURN_USER     "flow"
#define FLOW_TEST_TURN_PASSWORD "secret"

typedef struct _FlowTestTurn FlowTestTurn;

FlowTestTurn *flow_test_turn_start    (void);
guint16       flow_test_turn_get_port (FlowTestTurn  *turn);
void          flow_test_turn_pause    (FlowTestTurn  *turn,
                                       gboolean       paused);
void          flow_test_turn_free     (FlowTestTurn  *turn);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowTestTurn, flow_test_turn_free)

G_END_DECLS
