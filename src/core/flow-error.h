/* flow-error.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLOW_CORE_ERROR (flow_core_error_quark ())

/**
 * FlowCoreError:
 * @FLOW_CORE_ERROR_MALFORMED: encoded data is truncated, inconsistent or
 *   otherwise invalid
 * @FLOW_CORE_ERROR_UNSUPPORTED: encoded data uses a newer format version or
 *   a feature this build does not know
 * @FLOW_CORE_ERROR_WRONG_KIND: the data belongs to another kind of document
 * @FLOW_CORE_ERROR_INVALID_ARGUMENT: a caller passed a value outside the
 *   document (a position past the end, an unknown shape, a bad property)
 * @FLOW_CORE_ERROR_INVALID_VERSION: a version that does not name a state of
 *   this document (not causally closed, or ahead of it)
 * @FLOW_CORE_ERROR_READ_ONLY: a local edit of a read-only document, such as
 *   an earlier version from flow_doc_checkout()
 *
 * Errors of the core document layer.
 */
typedef enum
{
  FLOW_CORE_ERROR_MALFORMED,
  FLOW_CORE_ERROR_UNSUPPORTED,
  FLOW_CORE_ERROR_WRONG_KIND,
  FLOW_CORE_ERROR_INVALID_ARGUMENT,
  FLOW_CORE_ERROR_INVALID_VERSION,
  FLOW_CORE_ERROR_READ_ONLY,
} FlowCoreError;

GQuark flow_core_error_quark (void) G_GNUC_CONST;

G_END_DECLS
