/* flow-canvas-clipboard.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Copy, cut, paste and duplicate; images; PNG/SVG export of the selection.
 *
 * The clipboard format, mime type "application/x-flowsync-shapes", is UTF-8
 * JSON:
 *
 *   {
 *     "format": "flowsync-shapes",
 *     "version": 1,
 *     "origin": [x, y],          where the selection's box was on its board
 *     "width": w, "height": h,   the size of that box
 *     "shapes": [                bottom to top
 *       {
 *         "kind": "rect",        a board shape kind
 *         "x": 0, "y": 0,        relative to "origin"
 *         "w": 100, "h": 50, "rotation": 0,
 *         "stroke": "#1e1e1eff", "fill": "#00000000",
 *         "stroke_width": 2, "opacity": 1, "font_size": 20,
 *         "text": "…", "locked": false,
 *         "points": [[x, y, pressure], …],  relative to the shape's x, y
 *         "start": 1, "end": 2,  arrow bindings: indices into "shapes"
 *         "group": "g0",         shapes with the same label form a group
 *         "image": "base64…", "mime_type": "image/png"
 *       }, …
 *     ]
 *   }
 *
 * Only the members present are set. Bindings to shapes outside the copy
 * are dropped; group labels become fresh group ids on paste. Unknown
 * members are ignored, so newer versions can add some. Anything malformed
 * refuses the whole paste with G_IO_ERROR_INVALID_DATA, before any edit.
 */

#include "config.h"

#include <glib/gi18n.h>

#include <math.h>
#include <string.h>

#include "flow-board.h"
#include "flow-canvas-private.h"
#include "flow-render.h"

#define FORMAT_NAME    "flowsync-shapes"
#define FORMAT_VERSION 1
#define MAX_SHAPES     100000
#define MAX_IMAGE_SIZE 800.0

typedef struct
{
  const char    *key;
  FlowValueType  type;
  double         min, max;   /* numbers */
} KeySpec;

/* The shape properties the clipboard carries (not z, not deleted). */
static const KeySpec keys[] = {
  { "x",            FLOW_VALUE_NUMBER, -1e9, 1e9 },
  { "y",            FLOW_VALUE_NUMBER, -1e9, 1e9 },
  { "w",            FLOW_VALUE_NUMBER, 0, 1e7 },
  { "h",            FLOW_VALUE_NUMBER, 0, 1e7 },
  { "rotation",     FLOW_VALUE_NUMBER, -1e9, 1e9 },
  { "stroke",       FLOW_VALUE_COLOR },
  { "fill",         FLOW_VALUE_COLOR },
  { "stroke_width", FLOW_VALUE_NUMBER, 0, 1000 },
  { "opacity",      FLOW_VALUE_NUMBER, 0, 1 },
  { "font_size",    FLOW_VALUE_NUMBER, 1e-6, 1000 },
  { "text",         FLOW_VALUE_STRING },
  { "points",       FLOW_VALUE_POINTS },
  { "start",        FLOW_VALUE_REF },
  { "end",          FLOW_VALUE_REF },
  { "group",        FLOW_VALUE_STRING },
  { "image",        FLOW_VALUE_BYTES },
  { "mime_type",    FLOW_VALUE_STRING },
  { "locked",       FLOW_VALUE_BOOL },
};

static const char * const kinds[] = {
  "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text", "sticky", "image", NULL,
};

/* ------------------------------------------------------------------------
 * Serializing
 * ------------------------------------------------------------------------ */

static gint
id_z_cmp (gconstpointer a,
          gconstpointer b,
          gpointer      user_data)
{
  FlowScene *scene = user_data;
  const FlowShape *x = flow_scene_lookup (scene, a);
  const FlowShape *y = flow_scene_lookup (scene, b);

  return x->z < y->z ? -1 : x->z > y->z;
}

/* The shapes @ids (those still on the board) as a clipboard document, or
 * NULL if there are none. */
JsonNode *
_flow_canvas_serialize (FlowCanvas     *self,
                        const FlowOpId *ids,
                        guint           n_ids)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GArray) live = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  FlowRect box = { 0 };
  gboolean first = TRUE;

  for (guint i = 0; i < n_ids; i++)
    {
      const FlowShape *s = flow_scene_lookup (self->scene, &ids[i]);
      FlowRect r;

      if (s == NULL)
        continue;
      g_array_append_val (live, ids[i]);
      _flow_canvas_shape_box (s, &r);
      if (first)
        box = r;
      else
        {
          double x2 = MAX (box.x + box.width, r.x + r.width);
          double y2 = MAX (box.y + box.height, r.y + r.height);

          box.x = MIN (box.x, r.x);
          box.y = MIN (box.y, r.y);
          box.width = x2 - box.x;
          box.height = y2 - box.y;
        }
      first = FALSE;
    }
  if (live->len == 0)
    return NULL;
  g_array_sort_with_data (live, id_z_cmp, self->scene);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, FORMAT_NAME);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, FORMAT_VERSION);
  json_builder_set_member_name (b, "origin");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, box.x);
  json_builder_add_double_value (b, box.y);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_double_value (b, box.width);
  json_builder_set_member_name (b, "height");
  json_builder_add_double_value (b, box.height);
  json_builder_set_member_name (b, "shapes");
  json_builder_begin_array (b);

  for (guint i = 0; i < live->len; i++)
    {
      const FlowOpId *id = &g_array_index (live, FlowOpId, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, flow_doc_get_entity_kind (self->doc, id));

      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          FlowValue *v = flow_doc_get_property (self->doc, id, keys[k].key);

          if (v == NULL || flow_value_get_value_type (v) != keys[k].type)
            continue;

          switch (keys[k].type)
            {
            case FLOW_VALUE_NUMBER:
              {
                double d = flow_value_get_number (v);

                if (strcmp (keys[k].key, "x") == 0)
                  d -= box.x;
                else if (strcmp (keys[k].key, "y") == 0)
                  d -= box.y;
                json_builder_set_member_name (b, keys[k].key);
                json_builder_add_double_value (b, d);
              }
              break;
            case FLOW_VALUE_COLOR:
              {
                g_autofree char *str = flow_color_to_string (flow_value_get_color (v));

                json_builder_set_member_name (b, keys[k].key);
                json_builder_add_string_value (b, str);
              }
              break;
            case FLOW_VALUE_STRING:
              json_builder_set_member_name (b, keys[k].key);
              if (strcmp (keys[k].key, "group") == 0)
                {
                  const char *group = flow_value_get_string (v);
                  gpointer label;

                  if (!g_hash_table_lookup_extended (groups, group, NULL, &label))
                    {
                      label = GUINT_TO_POINTER (g_hash_table_size (groups));
                      g_hash_table_insert (groups, g_strdup (group), label);
                    }
                  {
                    g_autofree char *str = g_strdup_printf ("g%u", GPOINTER_TO_UINT (label));

                    json_builder_add_string_value (b, str);
                  }
                }
              else
                json_builder_add_string_value (b, flow_value_get_string (v));
              break;
            case FLOW_VALUE_BOOL:
              json_builder_set_member_name (b, keys[k].key);
              json_builder_add_boolean_value (b, flow_value_get_bool (v));
              break;
            case FLOW_VALUE_POINTS:
              {
                guint n = 0;
                const FlowPoint *p = flow_value_get_points (v, &n);

                json_builder_set_member_name (b, keys[k].key);
                json_builder_begin_array (b);
                for (guint j = 0; j < n; j++)
                  {
                    json_builder_begin_array (b);
                    json_builder_add_double_value (b, p[j].x);
                    json_builder_add_double_value (b, p[j].y);
                    json_builder_add_double_value (b, p[j].pressure);
                    json_builder_end_array (b);
                  }
                json_builder_end_array (b);
              }
              break;
            case FLOW_VALUE_REF:
              {
                const FlowOpId *target = flow_value_get_ref (v);

                for (guint j = 0; j < live->len; j++)
                  if (flow_op_id_equal (&g_array_index (live, FlowOpId, j), target))
                    {
                      json_builder_set_member_name (b, keys[k].key);
                      json_builder_add_int_value (b, j);
                      break;
                    }
              }
              break;
            case FLOW_VALUE_BYTES:
              {
                GBytes *bytes = flow_value_get_bytes (v);
                gsize len = 0;
                const guchar *data = g_bytes_get_data (bytes, &len);
                g_autofree char *str = g_base64_encode (data, len);

                json_builder_set_member_name (b, keys[k].key);
                json_builder_add_string_value (b, str);
              }
              break;
            case FLOW_VALUE_NULL:
            default:
              break;
            }
        }
      json_builder_end_object (b);
    }

  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/**
 * flow_canvas_copy_selection:
 * @self: a canvas
 *
 * Returns: (transfer full) (nullable): the selection in the
 *   %FLOW_CANVAS_SHAPES_MIME format, or %NULL if nothing is selected
 */
GBytes *
flow_canvas_copy_selection (FlowCanvas *self)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonGenerator) gen = NULL;
  gsize len = 0;
  char *data;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  node = _flow_canvas_serialize (self, (const FlowOpId *) self->selection->data, self->selection->len);
  if (node == NULL)
    return NULL;
  gen = json_generator_new ();
  json_generator_set_root (gen, node);
  data = json_generator_to_data (gen, &len);
  return g_bytes_new_take (data, len);
}

/* Copy, then delete (one change). */
GBytes *
flow_canvas_cut_selection (FlowCanvas *self)
{
  GBytes *bytes;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  if (!_flow_canvas_editable (self))
    return NULL;
  bytes = flow_canvas_copy_selection (self);
  if (bytes != NULL)
    flow_canvas_delete_selection (self);
  return bytes;
}

/* ------------------------------------------------------------------------
 * Pasting
 * ------------------------------------------------------------------------ */

typedef struct
{
  const char *kind;
  FlowValue  *values[G_N_ELEMENTS (keys)];
  gint64      start, end;   /* -1: none */
  const char *group;        /* label, borrowed from the JSON */
} Staged;

static void
staged_clear (gpointer data)
{
  Staged *s = data;

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    g_clear_pointer (&s->values[k], flow_value_unref);
}

static gboolean
invalid (GError    **error,
         const char *what)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("Not a FlowSync shape clipboard: %s"), what);
  return FALSE;
}

static gboolean
get_number (JsonNode *node,
            double   *d)
{
  GType t;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  t = json_node_get_value_type (node);
  if (t != G_TYPE_DOUBLE && t != G_TYPE_INT64)
    return FALSE;
  *d = json_node_get_double (node);
  return isfinite (*d);
}

static const char *
get_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static FlowValue *
parse_points (JsonNode *node)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (FlowPoint));
  JsonArray *array;
  guint n;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n > 1000000)
    return NULL;
  for (guint i = 0; i < n; i++)
    {
      JsonNode *pn = json_array_get_element (array, i);
      JsonArray *pa;
      double x, y, pressure = 1;
      FlowPoint p;

      if (!JSON_NODE_HOLDS_ARRAY (pn))
        return NULL;
      pa = json_node_get_array (pn);
      if (json_array_get_length (pa) < 2 || json_array_get_length (pa) > 3 ||
          !get_number (json_array_get_element (pa, 0), &x) ||
          !get_number (json_array_get_element (pa, 1), &y) ||
          (json_array_get_length (pa) == 3 && !get_number (json_array_get_element (pa, 2), &pressure)) ||
          fabs (x) > 1e9 || fabs (y) > 1e9 || pressure < 0 || pressure > 1)
        return NULL;
      p.x = x;
      p.y = y;
      p.pressure = pressure;
      g_array_append_val (points, p);
    }
  return flow_value_new_points ((const FlowPoint *) points->data, points->len);
}

/* Checks one shape object and turns its members into values. */
static gboolean
stage_shape (JsonNode  *node,
             guint      n_shapes,
             guint      index,
             Staged    *st,
             GError   **error)
{
  JsonObject *obj;
  const char *kind;

  st->start = st->end = -1;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, "a shape is not an object");
  obj = json_node_get_object (node);
  kind = get_string (json_object_get_member (obj, "kind"));
  if (kind == NULL || !g_strv_contains (kinds, kind))
    return invalid (error, "a shape has no known kind");
  st->kind = kind;

  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      JsonNode *m = json_object_get_member (obj, keys[k].key);
      const char *str;

      if (m == NULL)
        continue;
      switch (keys[k].type)
        {
        case FLOW_VALUE_NUMBER:
          {
            double d;

            if (!get_number (m, &d) || d < keys[k].min || d > keys[k].max)
              return invalid (error, "a number is missing or out of range");
            st->values[k] = flow_value_new_number (d);
          }
          break;
        case FLOW_VALUE_COLOR:
          {
            guint32 rgba;

            str = get_string (m);
            if (str == NULL || !flow_color_parse (str, &rgba))
              return invalid (error, "a colour is malformed");
            st->values[k] = flow_value_new_color (rgba);
          }
          break;
        case FLOW_VALUE_STRING:
          str = get_string (m);
          if (str == NULL || !g_utf8_validate (str, -1, NULL) ||
              (strcmp (keys[k].key, "text") != 0 && strlen (str) > 1024))
            return invalid (error, "a string is malformed");
          if (strcmp (keys[k].key, "group") == 0)
            st->group = str;
          else
            st->values[k] = flow_value_new_string (str);
          break;
        case FLOW_VALUE_BOOL:
          if (!JSON_NODE_HOLDS_VALUE (m) || json_node_get_value_type (m) != G_TYPE_BOOLEAN)
            return invalid (error, "a flag is not a boolean");
          st->values[k] = flow_value_new_bool (json_node_get_boolean (m));
          break;
        case FLOW_VALUE_POINTS:
          st->values[k] = parse_points (m);
          if (st->values[k] == NULL)
            return invalid (error, "points are malformed");
          break;
        case FLOW_VALUE_REF:
          {
            double d;

            if (!get_number (m, &d) || d != floor (d) || d < 0 || d >= n_shapes || d == index)
              return invalid (error, "a binding names no other copied shape");
            if (strcmp (keys[k].key, "start") == 0)
              st->start = (gint64) d;
            else
              st->end = (gint64) d;
          }
          break;
        case FLOW_VALUE_BYTES:
          {
            g_autofree guchar *data = NULL;
            g_autoptr(GBytes) bytes = NULL;
            gsize len = 0;

            str = get_string (m);
            if (str == NULL)
              return invalid (error, "image data is not a string");
            for (const char *p = str; *p; p++)
              if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/' && *p != '=' && *p != '\n')
                return invalid (error, "image data is not base64");
            data = g_base64_decode (str, &len);
            bytes = g_bytes_new_take (g_steal_pointer (&data), len);
            st->values[k] = flow_value_new_bytes (bytes);
          }
          break;
        case FLOW_VALUE_NULL:
        default:
          break;
        }
    }
  return TRUE;
}

static int
key_index (const char *key)
{
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    if (strcmp (keys[k].key, key) == 0)
      return k;
  g_assert_not_reached ();
  return -1;
}

static double
staged_number (const Staged *st,
               const char   *key)
{
  FlowValue *v = st->values[key_index (key)];

  return v ? flow_value_get_number (v) : 0;
}

/* Pastes a clipboard document: with the copied box's centre at board
 * point (bx, by) if @centre, else at its origin moved by (bx, by). The new
 * shapes are one change and become the selection. */
gboolean
_flow_canvas_paste_node (FlowCanvas *self,
                         JsonNode   *root,
                         gboolean    centre,
                         double      bx,
                         double      by,
                         GError    **error)
{
  g_autoptr(GArray) staged = g_array_new (FALSE, TRUE, sizeof (Staged));
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GHashTable) groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GError) local_error = NULL;
  JsonObject *obj;
  JsonArray *shapes;
  JsonNode *origin;
  const char *format;
  double version, ox, oy, width = 0, height = 0, dx, dy;
  guint n;
  gboolean ok = TRUE;

  g_array_set_clear_func (staged, staged_clear);

  if (!_flow_canvas_editable (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY, _("The board is read-only"));
      return FALSE;
    }
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return invalid (error, "not an object");
  obj = json_node_get_object (root);
  format = get_string (json_object_get_member (obj, "format"));
  if (format == NULL || strcmp (format, FORMAT_NAME) != 0)
    return invalid (error, "wrong format name");
  if (!get_number (json_object_get_member (obj, "version"), &version) || version < 1)
    return invalid (error, "no version");
  if (version > FORMAT_VERSION)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The shapes were copied by a newer FlowSync (format %g)"), version);
      return FALSE;
    }
  origin = json_object_get_member (obj, "origin");
  if (origin == NULL || !JSON_NODE_HOLDS_ARRAY (origin) ||
      json_array_get_length (json_node_get_array (origin)) != 2 ||
      !get_number (json_array_get_element (json_node_get_array (origin), 0), &ox) ||
      !get_number (json_array_get_element (json_node_get_array (origin), 1), &oy) ||
      fabs (ox) > 1e9 || fabs (oy) > 1e9)
    return invalid (error, "no origin");
  if (json_object_has_member (obj, "width") &&
      (!get_number (json_object_get_member (obj, "width"), &width) || width < 0 || width > 1e9))
    return invalid (error, "bad width");
  if (json_object_has_member (obj, "height") &&
      (!get_number (json_object_get_member (obj, "height"), &height) || height < 0 || height > 1e9))
    return invalid (error, "bad height");
  if (!json_object_has_member (obj, "shapes") || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "shapes")))
    return invalid (error, "no shapes");
  shapes = json_object_get_array_member (obj, "shapes");
  n = json_array_get_length (shapes);
  if (n == 0 || n > MAX_SHAPES)
    return invalid (error, "no shapes, or too many");

  g_array_set_size (staged, n);
  for (guint i = 0; i < n; i++)
    if (!stage_shape (json_array_get_element (shapes, i), n, i, &g_array_index (staged, Staged, i), error))
      return FALSE;

  if (centre)
    {
      dx = bx - width / 2;
      dy = by - height / 2;
    }
  else
    {
      dx = ox + bx;
      dy = oy + by;
    }
  for (guint i = 0; i < n; i++)
    {
      const Staged *st = &g_array_index (staged, Staged, i);

      if (fabs (staged_number (st, "x") + dx) > 1e9 || fabs (staged_number (st, "y") + dy) > 1e9)
        return invalid (error, "shapes too far away");
    }

  /* All checked: now one change. */
  flow_canvas_cancel (self);
  ids = g_array_sized_new (FALSE, FALSE, sizeof (FlowOpId), n);
  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < n && ok; i++)
    {
      const Staged *st = &g_array_index (staged, Staged, i);
      FlowOpId id;

      ok = flow_board_add_shape (self->doc, st->kind,
                                 staged_number (st, "x") + dx, staged_number (st, "y") + dy,
                                 staged_number (st, "w"), staged_number (st, "h"),
                                 &id, &local_error);
      if (!ok)
        break;
      g_array_append_val (ids, id);
      for (guint k = 0; k < G_N_ELEMENTS (keys) && ok; k++)
        {
          const char *key = keys[k].key;

          if (st->values[k] == NULL || strcmp (key, "x") == 0 || strcmp (key, "y") == 0 ||
              strcmp (key, "w") == 0 || strcmp (key, "h") == 0)
            continue;
          ok = flow_doc_set_property (self->doc, &id, key, st->values[k], &local_error);
        }
      if (ok && st->group != NULL)
        {
          char *group = g_hash_table_lookup (groups, st->group);
          g_autoptr(FlowValue) v = NULL;

          if (group == NULL)
            {
              group = _flow_canvas_new_group_id (self);
              g_hash_table_insert (groups, (gpointer) st->group, group);
            }
          v = flow_value_new_string (group);
          ok = flow_doc_set_property (self->doc, &id, "group", v, &local_error);
        }
    }
  for (guint i = 0; i < n && ok; i++)
    {
      const Staged *st = &g_array_index (staged, Staged, i);
      const FlowOpId *id = &g_array_index (ids, FlowOpId, i);

      if (st->start >= 0)
        {
          g_autoptr(FlowValue) v = flow_value_new_ref (&g_array_index (ids, FlowOpId, st->start));

          ok = flow_doc_set_property (self->doc, id, "start", v, &local_error);
        }
      if (ok && st->end >= 0)
        {
          g_autoptr(FlowValue) v = flow_value_new_ref (&g_array_index (ids, FlowOpId, st->end));

          ok = flow_doc_set_property (self->doc, id, "end", v, &local_error);
        }
    }
  /* Something the checks above missed: take back what was added. */
  if (!ok && ids->len > 0)
    flow_board_delete (self->doc, (const FlowOpId *) ids->data, ids->len, NULL);
  flow_doc_end_change (self->doc);

  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Not a FlowSync shape clipboard: %s"), local_error->message);
      return FALSE;
    }
  _flow_canvas_select_ids (self, (const FlowOpId *) ids->data, ids->len);
  _flow_canvas_selection_changed (self);
  return TRUE;
}

/**
 * flow_canvas_paste:
 * @self: a canvas
 * @data: clipboard contents of type %FLOW_CANVAS_SHAPES_MIME
 * @x: widget x where the pasted shapes' centre goes
 * @y: widget y
 * @error: return location for a #GError
 *
 * Adds copies of the shapes in @data, as one change, and selects them.
 * Works across boards. Malformed data is refused with
 * %G_IO_ERROR_INVALID_DATA and changes nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
flow_canvas_paste (FlowCanvas  *self,
                   GBytes      *data,
                   double       x,
                   double       y,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *text;
  gsize len = 0;
  double bx, by;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);
  g_return_val_if_fail (data != NULL, FALSE);

  text = g_bytes_get_data (data, &len);
  if (len == 0 || len > G_MAXSSIZE || !g_utf8_validate (text, len, NULL))
    return invalid (error, "not UTF-8 text");
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, len, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Not a FlowSync shape clipboard: %s"), local_error->message);
      return FALSE;
    }
  flow_canvas_widget_to_board (self, x, y, &bx, &by);
  return _flow_canvas_paste_node (self, json_parser_get_root (parser), TRUE, bx, by, error);
}

/* ------------------------------------------------------------------------
 * Export and images
 * ------------------------------------------------------------------------ */

/**
 * flow_canvas_export_selection:
 * @self: a canvas
 * @svg: %TRUE for SVG, %FALSE for PNG (at 2 px per unit)
 * @error: return location for a #GError
 *
 * Draws the selected shapes for pasting into other applications.
 *
 * Returns: (transfer full) (nullable): the image, or %NULL with @error set
 */
GBytes *
flow_canvas_export_selection (FlowCanvas  *self,
                              gboolean     svg,
                              GError     **error)
{
  g_autoptr(GOutputStream) stream = NULL;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  if (self->selection->len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Nothing is selected"));
      return NULL;
    }
  stream = g_memory_output_stream_new_resizable ();
  if (!flow_render_export (self->scene, (const FlowOpId *) self->selection->data, self->selection->len,
                           svg ? FLOW_EXPORT_SVG : FLOW_EXPORT_PNG, svg ? 1.0 : 2.0, stream, error))
    return NULL;
  if (!g_output_stream_close (stream, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (stream));
}

typedef struct
{
  const guchar *data;
  gsize         len;
  gsize         pos;
} Reader;

static cairo_status_t
read_cb (void          *closure,
         unsigned char *data,
         unsigned int   length)
{
  Reader *r = closure;

  if (length > r->len - r->pos)
    return CAIRO_STATUS_READ_ERROR;
  memcpy (data, r->data + r->pos, length);
  r->pos += length;
  return CAIRO_STATUS_SUCCESS;
}

/**
 * flow_canvas_insert_image:
 * @self: a canvas
 * @png: the encoded image
 * @mime_type: (nullable): "image/png" (the default)
 * @x: widget x of the image's centre
 * @y: widget y
 * @id: (out) (optional): the new shape
 * @error: return location for a #GError
 *
 * Adds an image shape, scaled down to fit 800 units, as one change, and
 * selects it. The data must decode as PNG.
 *
 * Returns: %TRUE on success
 */
gboolean
flow_canvas_insert_image (FlowCanvas  *self,
                          GBytes      *png,
                          const char  *mime_type,
                          double       x,
                          double       y,
                          FlowOpId    *id,
                          GError     **error)
{
  cairo_surface_t *surface;
  Reader r = { 0 };
  double w, h, scale, bx, by;
  g_autoptr(FlowValue) image = NULL;
  g_autoptr(FlowValue) mime = NULL;
  g_autoptr(GError) local_error = NULL;
  FlowOpId new_id;
  gboolean ok;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);
  g_return_val_if_fail (png != NULL, FALSE);

  if (!_flow_canvas_editable (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY, _("The board is read-only"));
      return FALSE;
    }
  if (mime_type == NULL)
    mime_type = "image/png";
  if (strcmp (mime_type, "image/png") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Images of type “%s” are not supported; use PNG"), mime_type);
      return FALSE;
    }

  r.data = g_bytes_get_data (png, &r.len);
  if (r.data == NULL || r.len == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The image is empty"));
      return FALSE;
    }
  surface = cairo_image_surface_create_from_png_stream (read_cb, &r);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The image could not be read: %s"), cairo_status_to_string (cairo_surface_status (surface)));
      cairo_surface_destroy (surface);
      return FALSE;
    }
  w = cairo_image_surface_get_width (surface);
  h = cairo_image_surface_get_height (surface);
  cairo_surface_destroy (surface);
  if (w <= 0 || h <= 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The image has no pixels"));
      return FALSE;
    }

  scale = MIN (1.0, MAX_IMAGE_SIZE / MAX (w, h));
  w *= scale;
  h *= scale;
  flow_canvas_widget_to_board (self, x, y, &bx, &by);

  image = flow_value_new_bytes (png);
  mime = flow_value_new_string (mime_type);
  flow_canvas_cancel (self);
  flow_doc_begin_change (self->doc);
  ok = flow_board_add_shape (self->doc, "image", bx - w / 2, by - h / 2, w, h, &new_id, &local_error) &&
       flow_doc_set_property (self->doc, &new_id, "image", image, &local_error) &&
       flow_doc_set_property (self->doc, &new_id, "mime_type", mime, &local_error);
  flow_doc_end_change (self->doc);
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (self->tool != FLOW_CANVAS_TOOL_SELECT)
    flow_canvas_set_tool (self, FLOW_CANVAS_TOOL_SELECT);
  _flow_canvas_select_ids (self, &new_id, 1);
  _flow_canvas_selection_changed (self);
  if (id != NULL)
    *id = new_id;
  return TRUE;
}
