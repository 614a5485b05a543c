/* flow-test-util.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "flow-doc.h"

G_BEGIN_DECLS

char     *flow_test_data_path     (const char  *name);
guint32   flow_test_seed          (void);
guint     flow_test_iterations    (const char  *env,
                                   guint        fallback);
void      flow_test_sync_pair     (FlowDoc     *a,
                                   FlowDoc     *b);
void      flow_test_assert_same   (FlowDoc     *a,
                                   FlowDoc     *b);
gint64    flow_test_clock         (gpointer     user_data);

G_END_DECLS
