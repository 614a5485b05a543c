/* flow-value.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * FlowValue: an immutable, reference-counted property value. Registers keep
 * references, so a value written once and read by many (the renderer, the
 * undo stack, an export) is never copied.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-value.h"

struct _FlowValue
{
  gatomicrefcount ref_count;
  FlowValueType   type;
  union
  {
    gboolean  b;
    double    number;
    guint32   color;
    FlowOpId  ref;
    struct
    {
      char  *str;
    } s;
    struct
    {
      FlowPoint *points;
      guint      n;
    } p;
    GBytes   *bytes;
  } u;
};

G_DEFINE_BOXED_TYPE (FlowValue, flow_value, flow_value_ref, flow_value_unref)

static FlowValue *
value_new (FlowValueType type)
{
  FlowValue *v = g_new0 (FlowValue, 1);

  g_atomic_ref_count_init (&v->ref_count);
  v->type = type;
  return v;
}

/**
 * flow_value_new_null:
 *
 * Returns: (transfer full): the "unset" value
 */
FlowValue *
flow_value_new_null (void)
{
  return value_new (FLOW_VALUE_NULL);
}

/**
 * flow_value_new_bool:
 * @value: a boolean
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_bool (gboolean value)
{
  FlowValue *v = value_new (FLOW_VALUE_BOOL);

  v->u.b = !!value;
  return v;
}

/**
 * flow_value_new_number:
 * @value: a finite number
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_number (double value)
{
  FlowValue *v;

  g_return_val_if_fail (isfinite (value), NULL);

  v = value_new (FLOW_VALUE_NUMBER);
  v->u.number = value;
  return v;
}

/**
 * flow_value_new_string:
 * @value: valid UTF-8
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_string (const char *value)
{
  FlowValue *v;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (value, -1, NULL), NULL);

  v = value_new (FLOW_VALUE_STRING);
  v->u.s.str = g_strdup (value);
  return v;
}

/**
 * flow_value_new_color:
 * @rgba: 0xRRGGBBAA
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_color (guint32 rgba)
{
  FlowValue *v = value_new (FLOW_VALUE_COLOR);

  v->u.color = rgba;
  return v;
}

/**
 * flow_value_new_points:
 * @points: (array length=n_points): finite points
 * @n_points: how many
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_points (const FlowPoint *points,
                       guint            n_points)
{
  FlowValue *v;

  g_return_val_if_fail (points != NULL || n_points == 0, NULL);

  v = value_new (FLOW_VALUE_POINTS);
  v->u.p.n = n_points;
  v->u.p.points = g_memdup2 (points, sizeof (FlowPoint) * n_points);
  return v;
}

/**
 * flow_value_new_ref:
 * @id: the id of a shape
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_ref (const FlowOpId *id)
{
  FlowValue *v;

  g_return_val_if_fail (id != NULL, NULL);

  v = value_new (FLOW_VALUE_REF);
  v->u.ref = *id;
  return v;
}

/**
 * flow_value_new_bytes:
 * @bytes: data
 *
 * Returns: (transfer full): a new value
 */
FlowValue *
flow_value_new_bytes (GBytes *bytes)
{
  FlowValue *v;

  g_return_val_if_fail (bytes != NULL, NULL);

  v = value_new (FLOW_VALUE_BYTES);
  v->u.bytes = g_bytes_ref (bytes);
  return v;
}

/**
 * flow_value_ref:
 * @value: a value
 *
 * Returns: (transfer full): @value
 */
FlowValue *
flow_value_ref (FlowValue *value)
{
  g_return_val_if_fail (value != NULL, NULL);

  g_atomic_ref_count_inc (&value->ref_count);
  return value;
}

/**
 * flow_value_unref:
 * @value: (transfer full): a value
 */
void
flow_value_unref (FlowValue *value)
{
  g_return_if_fail (value != NULL);

  if (!g_atomic_ref_count_dec (&value->ref_count))
    return;

  switch (value->type)
    {
    case FLOW_VALUE_STRING:
      g_free (value->u.s.str);
      break;
    case FLOW_VALUE_POINTS:
      g_free (value->u.p.points);
      break;
    case FLOW_VALUE_BYTES:
      g_bytes_unref (value->u.bytes);
      break;
    case FLOW_VALUE_NULL:
    case FLOW_VALUE_BOOL:
    case FLOW_VALUE_NUMBER:
    case FLOW_VALUE_COLOR:
    case FLOW_VALUE_REF:
    default:
      break;
    }
  g_free (value);
}

FlowValueType
flow_value_get_value_type (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL, FLOW_VALUE_NULL);

  return value->type;
}

gboolean
flow_value_get_bool (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_BOOL, FALSE);

  return value->u.b;
}

double
flow_value_get_number (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_NUMBER, 0.0);

  return value->u.number;
}

/**
 * flow_value_get_string:
 * @value: a string value
 *
 * Returns: (transfer none): the string
 */
const char *
flow_value_get_string (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_STRING, NULL);

  return value->u.s.str;
}

guint32
flow_value_get_color (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_COLOR, 0);

  return value->u.color;
}

/**
 * flow_value_get_points:
 * @value: a points value
 * @n_points: (out): the number of points
 *
 * Returns: (transfer none) (array length=n_points): the points
 */
const FlowPoint *
flow_value_get_points (const FlowValue *value,
                       guint           *n_points)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_POINTS, NULL);

  *n_points = value->u.p.n;
  return value->u.p.points;
}

/**
 * flow_value_get_ref:
 * @value: a reference value
 *
 * Returns: (transfer none): the id it refers to
 */
const FlowOpId *
flow_value_get_ref (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_REF, NULL);

  return &value->u.ref;
}

/**
 * flow_value_get_bytes:
 * @value: a bytes value
 *
 * Returns: (transfer none): the bytes
 */
GBytes *
flow_value_get_bytes (const FlowValue *value)
{
  g_return_val_if_fail (value != NULL && value->type == FLOW_VALUE_BYTES, NULL);

  return value->u.bytes;
}

/**
 * flow_value_equal:
 * @a: a value
 * @b: a value
 *
 * Returns: %TRUE if @a and @b have the same type and content
 */
gboolean
flow_value_equal (const FlowValue *a,
                  const FlowValue *b)
{
  if (a == b)
    return TRUE;
  if (a == NULL || b == NULL || a->type != b->type)
    return FALSE;

  switch (a->type)
    {
    case FLOW_VALUE_NULL:
      return TRUE;
    case FLOW_VALUE_BOOL:
      return a->u.b == b->u.b;
    case FLOW_VALUE_NUMBER:
      return memcmp (&a->u.number, &b->u.number, sizeof (double)) == 0;
    case FLOW_VALUE_STRING:
      return strcmp (a->u.s.str, b->u.s.str) == 0;
    case FLOW_VALUE_COLOR:
      return a->u.color == b->u.color;
    case FLOW_VALUE_POINTS:
      return a->u.p.n == b->u.p.n &&
             (a->u.p.n == 0 ||
              memcmp (a->u.p.points, b->u.p.points, a->u.p.n * sizeof (FlowPoint)) == 0);
    case FLOW_VALUE_REF:
      return flow_op_id_equal (&a->u.ref, &b->u.ref);
    case FLOW_VALUE_BYTES:
      return g_bytes_equal (a->u.bytes, b->u.bytes);
    default:
      g_assert_not_reached ();
      return FALSE;
    }
}

/**
 * flow_value_type_to_string:
 * @type: a value type
 *
 * Returns: (transfer none): its name, as used in JSON exports
 */
const char *
flow_value_type_to_string (FlowValueType type)
{
  static const char *names[] = {
    "null", "bool", "number", "string", "color", "points", "ref", "bytes",
  };

  g_return_val_if_fail (type <= FLOW_VALUE_TYPE_LAST, NULL);

  return names[type];
}

/**
 * flow_color_to_string:
 * @rgba: 0xRRGGBBAA
 *
 * Returns: (transfer full): "#rrggbbaa"
 */
char *
flow_color_to_string (guint32 rgba)
{
  return g_strdup_printf ("#%08x", rgba);
}

/**
 * flow_color_parse:
 * @str: "#rrggbb" or "#rrggbbaa"
 * @rgba: (out): the colour
 *
 * Returns: %TRUE if @str was a colour
 */
gboolean
flow_color_parse (const char *str,
                  guint32    *rgba)
{
  gsize len;
  guint64 v;

  g_return_val_if_fail (str != NULL, FALSE);

  len = strlen (str);
  if (str[0] != '#' || (len != 7 && len != 9))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isxdigit (str[i]))
      return FALSE;
  v = g_ascii_strtoull (str + 1, NULL, 16);
  *rgba = len == 7 ? (guint32) (v << 8 | 0xff) : (guint32) v;
  return TRUE;
}
