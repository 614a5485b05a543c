/* flow-rendezvous-message.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The rendezvous wire format (docs/rendezvous.md): one JSON object per text
 * frame. Parsing is kept apart from the server so the fuzz target can drive
 * it directly. Every failure maps to one of the protocol's error codes; the
 * parser never aborts on input. */

#define G_LOG_DOMAIN "flow-rendezvous"

#include "config.h"

#include <string.h>

#include "flow-rendezvous-message-private.h"

/* Checks that @text nests objects and arrays at most FLOW_RV_MAX_JSON_DEPTH
 * deep, skipping string contents. Cost: one pass over the text. */
static gboolean
nesting_is_shallow (const char *text,
                    gsize       len)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < len; i++)
    {
      char c = text[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }

      if (c == '"')
        in_string = TRUE;
      else if (c == '{' || c == '[')
        {
          if (++depth > FLOW_RV_MAX_JSON_DEPTH)
            return FALSE;
        }
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }

  return TRUE;
}

gboolean
flow_rv_is_valid_room (const char *room)
{
  gsize n;

  if (room == NULL)
    return FALSE;
  n = strlen (room);
  if (n < 1 || n > 128)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!((room[i] >= '0' && room[i] <= '9') || (room[i] >= 'a' && room[i] <= 'f')))
      return FALSE;
  return TRUE;
}

gboolean
flow_rv_is_valid_peer (const char *peer)
{
  gsize n;

  if (peer == NULL)
    return FALSE;
  n = strlen (peer);
  if (n < 1 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (peer[i]) && peer[i] != '_' && peer[i] != '-')
      return FALSE;
  return TRUE;
}

/* Returns the string member @name of @obj, or NULL when it is missing, not
 * a string, or not valid UTF-8. json-glib turns some invalid escapes (a lone
 * surrogate followed by a bad escape, found by fuzz-rendezvous) into bytes
 * that are not UTF-8; relaying those would send clients a frame they cannot
 * parse. */
static const char *
get_string_member (JsonObject *obj,
                   const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);
  const char *str;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  str = json_node_get_string (node);
  if (str == NULL || !g_utf8_validate (str, -1, NULL))
    return NULL;
  return str;
}

static const char *
parse_object (JsonObject    *obj,
              FlowRvMessage *out)
{
  const char *type = get_string_member (obj, "type");

  if (type == NULL)
    return "bad-message";

  if (strcmp (type, "join") == 0)
    {
      out->type = FLOW_RV_MESSAGE_JOIN;
      out->room = get_string_member (obj, "room");
      out->peer = get_string_member (obj, "peer");
      if (!flow_rv_is_valid_room (out->room) || !flow_rv_is_valid_peer (out->peer))
        return "bad-message";
    }
  else if (strcmp (type, "signal") == 0)
    {
      out->type = FLOW_RV_MESSAGE_SIGNAL;
      out->to = get_string_member (obj, "to");
      out->data = get_string_member (obj, "data");
      if (!flow_rv_is_valid_peer (out->to) || out->data == NULL)
        return "bad-message";
    }
  else if (strcmp (type, "presence") == 0)
    {
      out->type = FLOW_RV_MESSAGE_PRESENCE;
      out->data = get_string_member (obj, "data");
      if (out->data == NULL)
        return "bad-message";
    }
  else if (strcmp (type, "ping") == 0)
    out->type = FLOW_RV_MESSAGE_PING;
  else
    return "unknown-type";

  return NULL;
}

/**
 * flow_rv_message_parse:
 * @text: the frame's bytes (need not be nul-terminated)
 * @len: their length
 * @out: (out caller-allocates): the message; clear it with
 *   flow_rv_message_clear() whatever the result
 *
 * Parses one client message.
 *
 * Returns: (nullable): %NULL on success, otherwise the protocol error code
 *   (`bad-json`, `bad-message` or `unknown-type`). Cost: linear in @len.
 */
const char *
flow_rv_message_parse (const char    *text,
                       gsize          len,
                       FlowRvMessage *out)
{
  JsonNode *root;
  const char *code;

  memset (out, 0, sizeof *out);

  if (len > G_MAXSSIZE || !g_utf8_validate (text, len, NULL) || !nesting_is_shallow (text, len))
    return "bad-json";

  out->parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (out->parser, text, (gssize) len, NULL))
    return "bad-json";

  root = json_parser_get_root (out->parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return "bad-json";

  code = parse_object (json_node_get_object (root), out);
  if (code != NULL)
    {
      out->room = out->peer = out->to = out->data = NULL;
      return code;
    }
  return NULL;
}

void
flow_rv_message_clear (FlowRvMessage *msg)
{
  g_clear_object (&msg->parser);
  msg->room = msg->peer = msg->to = msg->data = NULL;
}

static char *
generate (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

/**
 * flow_rv_build_message:
 * @type: the message type
 * @...: pairs of member name and string value, ended by %NULL
 *
 * Returns: (transfer full): the serialized server message.
 */
char *
flow_rv_build_message (const char *type,
                       ...)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  const char *name;
  va_list args;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);

  va_start (args, type);
  while ((name = va_arg (args, const char *)) != NULL)
    {
      json_builder_set_member_name (builder, name);
      json_builder_add_string_value (builder, va_arg (args, const char *));
    }
  va_end (args);

  json_builder_end_object (builder);
  return generate (builder);
}

char *
flow_rv_build_joined (const char         *room,
                      const char         *peer,
                      const char * const *peers)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, "joined");
  json_builder_set_member_name (builder, "room");
  json_builder_add_string_value (builder, room);
  json_builder_set_member_name (builder, "peer");
  json_builder_add_string_value (builder, peer);
  json_builder_set_member_name (builder, "peers");
  json_builder_begin_array (builder);
  for (guint i = 0; peers[i] != NULL; i++)
    json_builder_add_string_value (builder, peers[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return generate (builder);
}
