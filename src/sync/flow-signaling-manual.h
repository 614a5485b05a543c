/* flow-signaling-manual.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "flow-signaling.h"

G_BEGIN_DECLS

#define FLOW_MANUAL_SIGNALING_ERROR (flow_manual_signaling_error_quark ())

/**
 * FlowManualSignalingError:
 * @FLOW_MANUAL_SIGNALING_ERROR_INVALID: not a signaling text, or a damaged
 *   one (cut short, mistyped)
 * @FLOW_MANUAL_SIGNALING_ERROR_VERSION: written by a FlowSync with another
 *   text format
 * @FLOW_MANUAL_SIGNALING_ERROR_WRONG_ROOM: meant for another room
 * @FLOW_MANUAL_SIGNALING_ERROR_OWN_TEXT: our own text, pasted back
 * @FLOW_MANUAL_SIGNALING_ERROR_NOT_JOINED: flow_signaling_join() was not
 *   called (or flow_signaling_leave() was)
 */
typedef enum
{
  FLOW_MANUAL_SIGNALING_ERROR_INVALID,
  FLOW_MANUAL_SIGNALING_ERROR_VERSION,
  FLOW_MANUAL_SIGNALING_ERROR_WRONG_ROOM,
  FLOW_MANUAL_SIGNALING_ERROR_OWN_TEXT,
  FLOW_MANUAL_SIGNALING_ERROR_NOT_JOINED,
} FlowManualSignalingError;

#define FLOW_TYPE_MANUAL_SIGNALING (flow_manual_signaling_get_type ())

G_DECLARE_FINAL_TYPE (FlowManualSignaling, flow_manual_signaling, FLOW, MANUAL_SIGNALING, GObject)

GQuark         flow_manual_signaling_error_quark (void) G_GNUC_CONST;

FlowSignaling *flow_manual_signaling_new         (void);
gboolean       flow_manual_signaling_receive     (FlowManualSignaling  *self,
                                                  const char           *text,
                                                  GError              **error);
char          *flow_manual_signaling_dup_bye     (FlowManualSignaling  *self);

G_END_DECLS
