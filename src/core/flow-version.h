/* flow-version.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "flow-types.h"

G_BEGIN_DECLS

#define FLOW_TYPE_VERSION_VECTOR (flow_version_vector_get_type ())

GType               flow_version_vector_get_type   (void) G_GNUC_CONST;
FlowVersionVector  *flow_version_vector_new        (void);
FlowVersionVector  *flow_version_vector_copy       (const FlowVersionVector *vv);
void                flow_version_vector_free       (FlowVersionVector       *vv);
guint64             flow_version_vector_get        (const FlowVersionVector *vv,
                                                    FlowReplicaId            replica);
void                flow_version_vector_set        (FlowVersionVector       *vv,
                                                    FlowReplicaId            replica,
                                                    guint64                  next_seq);
void                flow_version_vector_merge      (FlowVersionVector       *vv,
                                                    const FlowVersionVector *other);
gboolean            flow_version_vector_contains   (const FlowVersionVector *vv,
                                                    const FlowOpId          *id);
gboolean            flow_version_vector_includes   (const FlowVersionVector *vv,
                                                    const FlowVersionVector *other);
gboolean            flow_version_vector_equal      (const FlowVersionVector *a,
                                                    const FlowVersionVector *b);
guint               flow_version_vector_get_n_replicas (const FlowVersionVector *vv);
void                flow_version_vector_get_nth    (const FlowVersionVector *vv,
                                                    guint                    n,
                                                    FlowReplicaId           *replica,
                                                    guint64                 *next_seq);
guint64             flow_version_vector_total      (const FlowVersionVector *vv);
char               *flow_version_vector_to_string  (const FlowVersionVector *vv);
FlowVersionVector  *flow_version_vector_parse      (const char              *str,
                                                    GError                 **error);
GBytes             *flow_version_vector_encode     (const FlowVersionVector *vv);
FlowVersionVector  *flow_version_vector_decode     (GBytes                  *bytes,
                                                    GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowVersionVector, flow_version_vector_free)

G_END_DECLS
