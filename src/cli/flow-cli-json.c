/* flow-cli-json.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Documents as JSON (flowsync-cli export --format json, checkout).
 *
 * A page:  { "id", "kind": "page", "title", "text" }
 * A board: { "id", "kind": "board", "title", "shapes": [ { "id", "kind",
 *            "properties": { name: value } } ] } with shapes bottom to top.
 * Values: numbers and booleans as such, strings, colours as "#rrggbbaa",
 * point lists as [[x, y, pressure], ...], references as the shape id,
 * bytes as base64.
 */

#include "config.h"

#include "flow-cli-json.h"

static void
add_value (JsonBuilder     *b,
           const FlowValue *v)
{
  switch (flow_value_get_value_type (v))
    {
    case FLOW_VALUE_NULL:
      json_builder_add_null_value (b);
      break;
    case FLOW_VALUE_BOOL:
      json_builder_add_boolean_value (b, flow_value_get_bool (v));
      break;
    case FLOW_VALUE_NUMBER:
      json_builder_add_double_value (b, flow_value_get_number (v));
      break;
    case FLOW_VALUE_STRING:
      json_builder_add_string_value (b, flow_value_get_string (v));
      break;
    case FLOW_VALUE_COLOR:
      {
        g_autofree char *s = flow_color_to_string (flow_value_get_color (v));

        json_builder_add_string_value (b, s);
      }
      break;
    case FLOW_VALUE_POINTS:
      {
        guint n;
        const FlowPoint *p = flow_value_get_points (v, &n);

        json_builder_begin_array (b);
        for (guint i = 0; i < n; i++)
          {
            json_builder_begin_array (b);
            json_builder_add_double_value (b, p[i].x);
            json_builder_add_double_value (b, p[i].y);
            json_builder_add_double_value (b, p[i].pressure);
            json_builder_end_array (b);
          }
        json_builder_end_array (b);
      }
      break;
    case FLOW_VALUE_REF:
      {
        g_autofree char *s = flow_op_id_to_string (flow_value_get_ref (v));

        json_builder_add_string_value (b, s);
      }
      break;
    case FLOW_VALUE_BYTES:
      {
        gsize len;
        const guint8 *data = g_bytes_get_data (flow_value_get_bytes (v), &len);
        g_autofree char *s = g_base64_encode (data, len);

        json_builder_add_string_value (b, s);
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
add_shape (JsonBuilder    *b,
           FlowDoc        *board,
           const FlowOpId *id)
{
  g_autofree char *sid = flow_op_id_to_string (id);
  g_auto(GStrv) names = flow_doc_dup_property_names (board, id);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, sid);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, flow_doc_get_entity_kind (board, id));
  json_builder_set_member_name (b, "properties");
  json_builder_begin_object (b);
  for (guint i = 0; names && names[i]; i++)
    {
      FlowValue *v = flow_doc_get_property (board, id, names[i]);

      if (v == NULL || g_str_equal (names[i], "deleted"))
        continue;
      json_builder_set_member_name (b, names[i]);
      add_value (b, v);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
}

/**
 * flow_cli_doc_to_json:
 * @doc: a page or a board
 * @title: (nullable): its title from the catalog
 *
 * Returns: (transfer full): the document as JSON, pretty-printed
 */
char *
flow_cli_doc_to_json (FlowDoc    *doc,
                      const char *title)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *id = flow_op_id_to_string (flow_doc_get_id (doc));

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, flow_doc_kind_to_string (flow_doc_get_kind (doc)));
  if (title != NULL)
    {
      json_builder_set_member_name (b, "title");
      json_builder_add_string_value (b, title);
    }

  if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
    {
      g_autofree char *text = flow_doc_dup_text (doc);

      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, text);
    }
  else
    {
      g_autoptr(GArray) shapes = flow_doc_list_ordered (doc);

      json_builder_set_member_name (b, "shapes");
      json_builder_begin_array (b);
      for (guint i = 0; i < shapes->len; i++)
        add_shape (b, doc, &g_array_index (shapes, FlowOpId, i));
      json_builder_end_array (b);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}
