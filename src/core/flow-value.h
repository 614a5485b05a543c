/* flow-value.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "flow-types.h"

G_BEGIN_DECLS

/**
 * FlowValueType:
 * @FLOW_VALUE_NULL: no value: the property is unset
 * @FLOW_VALUE_BOOL: a boolean
 * @FLOW_VALUE_NUMBER: a finite double
 * @FLOW_VALUE_STRING: UTF-8 text
 * @FLOW_VALUE_COLOR: a colour, 0xRRGGBBAA
 * @FLOW_VALUE_POINTS: a list of points with pressure (freehand strokes, lines)
 * @FLOW_VALUE_REF: the id of another shape (arrow bindings)
 * @FLOW_VALUE_BYTES: opaque bytes (image data)
 *
 * The types a board or catalog property can hold.
 */
typedef enum
{
  FLOW_VALUE_NULL   = 0,
  FLOW_VALUE_BOOL   = 1,
  FLOW_VALUE_NUMBER = 2,
  FLOW_VALUE_STRING = 3,
  FLOW_VALUE_COLOR  = 4,
  FLOW_VALUE_POINTS = 5,
  FLOW_VALUE_REF    = 6,
  FLOW_VALUE_BYTES  = 7,
} FlowValueType;

#define FLOW_VALUE_TYPE_LAST FLOW_VALUE_BYTES

/**
 * FlowPoint:
 * @x: horizontal position
 * @y: vertical position
 * @pressure: pen pressure in [0, 1]; 1 where the device has none
 */
typedef struct
{
  float x;
  float y;
  float pressure;
} FlowPoint;

typedef struct _FlowValue FlowValue;

#define FLOW_TYPE_VALUE (flow_value_get_type ())

GType            flow_value_get_type     (void) G_GNUC_CONST;
FlowValue       *flow_value_new_null     (void);
FlowValue       *flow_value_new_bool     (gboolean         value);
FlowValue       *flow_value_new_number   (double           value);
FlowValue       *flow_value_new_string   (const char      *value);
FlowValue       *flow_value_new_color    (guint32          rgba);
FlowValue       *flow_value_new_points   (const FlowPoint *points,
                                          guint            n_points);
FlowValue       *flow_value_new_ref      (const FlowOpId  *id);
FlowValue       *flow_value_new_bytes    (GBytes          *bytes);
FlowValue       *flow_value_ref          (FlowValue       *value);
void             flow_value_unref        (FlowValue       *value);
FlowValueType    flow_value_get_value_type (const FlowValue *value);
gboolean         flow_value_get_bool     (const FlowValue *value);
double           flow_value_get_number   (const FlowValue *value);
const char      *flow_value_get_string   (const FlowValue *value);
guint32          flow_value_get_color    (const FlowValue *value);
const FlowPoint *flow_value_get_points   (const FlowValue *value,
                                          guint           *n_points);
const FlowOpId  *flow_value_get_ref      (const FlowValue *value);
GBytes          *flow_value_get_bytes    (const FlowValue *value);
gboolean         flow_value_equal        (const FlowValue *a,
                                          const FlowValue *b);
const char      *flow_value_type_to_string (FlowValueType  type);
char            *flow_color_to_string    (guint32          rgba);
gboolean         flow_color_parse        (const char      *str,
                                          guint32         *rgba);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowValue, flow_value_unref)

G_END_DECLS
