/* flow-test-util.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "flow-doc.h"
#include "flow-value.h"

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
void      flow_test_set           (FlowDoc        *doc,
                                   const FlowOpId *id,
                                   const char     *key,
                                   FlowValue      *value);
FlowOpId  flow_test_add_shape     (FlowDoc        *board,
                                   const char     *kind,
                                   double          x,
                                   double          y,
                                   double          w,
                                   double          h);

void      flow_test_remove_tree   (const char     *path);

G_END_DECLS
