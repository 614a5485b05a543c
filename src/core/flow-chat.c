/* flow-chat.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The huddle chat of a workspace: a map document (see flow-map.c) whose
 * items are messages. A message is created with its author, colour, text
 * and time in one change and never edited, so there is nothing to merge:
 * the union of everyone's messages, ordered by (time, id), is the chat.
 * Because it is a document like any other it is stored with the workspace
 * and synced by the room, so a member who was away reads what was said.
 * Times come from the senders' clocks; ids break ties so every member shows
 * the same order.
 */

#include "config.h"

#include <string.h>

#include "flow-chat.h"
#include "flow-error.h"

void
flow_chat_message_clear (FlowChatMessage *message)
{
  g_clear_pointer (&message->author, g_free);
  g_clear_pointer (&message->text, g_free);
}

static gboolean
set (FlowDoc         *chat,
     const FlowOpId  *id,
     const char      *key,
     FlowValue       *value,
     GError         **error)
{
  g_autoptr(FlowValue) v = value;

  return flow_doc_set_property (chat, id, key, v, error);
}

/**
 * flow_chat_post:
 * @chat: a chat document (%FLOW_DOC_KIND_CHAT)
 * @author: the sender's name (may be empty)
 * @color: the sender's colour
 * @text: the message
 * @time: Unix time in microseconds
 * @id: (out) (optional): the new message's id
 *
 * Adds a message, as one change.
 *
 * Returns: %FALSE if the text is empty, too long or not UTF-8
 */
gboolean
flow_chat_post (FlowDoc     *chat,
                const char  *author,
                guint32      color,
                const char  *text,
                gint64       time,
                FlowOpId    *id,
                GError     **error)
{
  FlowOpId message;
  gboolean ok;

  g_return_val_if_fail (FLOW_IS_DOC (chat), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (flow_doc_get_kind (chat) != FLOW_DOC_KIND_CHAT)
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND,
                           "This document is not a chat");
      return FALSE;
    }
  if (*text == '\0' || strlen (text) > FLOW_CHAT_TEXT_MAX || !g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "A chat message must be between 1 byte and %d KiB of text",
                   FLOW_CHAT_TEXT_MAX / 1024);
      return FALSE;
    }
  if (author == NULL || strlen (author) > 1024 || !g_utf8_validate (author, -1, NULL))
    author = "";

  flow_doc_begin_change (chat);
  ok = flow_doc_create_entity (chat, "message", &message, error) &&
       set (chat, &message, "author", flow_value_new_string (author), error) &&
       set (chat, &message, "color", flow_value_new_color (color), error) &&
       set (chat, &message, "text", flow_value_new_string (text), error) &&
       set (chat, &message, "time", flow_value_new_number ((double) MAX (time, 0)), error);
  flow_doc_end_change (chat);

  if (ok && id != NULL)
    *id = message;
  return ok;
}

static char *
dup_string (FlowDoc        *chat,
            const FlowOpId *id,
            const char     *key)
{
  FlowValue *v = flow_doc_get_property (chat, id, key);

  return g_strdup (v != NULL && flow_value_get_value_type (v) == FLOW_VALUE_STRING
                   ? flow_value_get_string (v) : "");
}

/**
 * flow_chat_get:
 * @message: (out caller-allocates): clear it with flow_chat_message_clear()
 *
 * Returns: %FALSE if @id is not a complete message (a message arrives as
 *   one change, so only a damaged document lacks parts)
 */
gboolean
flow_chat_get (FlowDoc          *chat,
               const FlowOpId   *id,
               FlowChatMessage  *message)
{
  FlowValue *color, *time, *text;   /* owned by the document */

  g_return_val_if_fail (FLOW_IS_DOC (chat), FALSE);

  text = flow_doc_get_property (chat, id, "text");
  if (text == NULL || flow_value_get_value_type (text) != FLOW_VALUE_STRING)
    return FALSE;
  color = flow_doc_get_property (chat, id, "color");
  time = flow_doc_get_property (chat, id, "time");

  message->id = *id;
  message->author = dup_string (chat, id, "author");
  message->text = g_strdup (flow_value_get_string (text));
  message->color = color != NULL && flow_value_get_value_type (color) == FLOW_VALUE_COLOR
                   ? flow_value_get_color (color) : 0x808080ff;
  message->time = time != NULL && flow_value_get_value_type (time) == FLOW_VALUE_NUMBER
                  ? (gint64) flow_value_get_number (time) : 0;
  return TRUE;
}

static gint
compare_messages (gconstpointer a,
                  gconstpointer b)
{
  const FlowChatMessage *ma = a;
  const FlowChatMessage *mb = b;

  if (ma->time != mb->time)
    return ma->time < mb->time ? -1 : 1;
  return flow_op_id_compare (&ma->id, &mb->id);
}

/**
 * flow_chat_list:
 *
 * Returns: (transfer full) (element-type FlowChatMessage): every message,
 *   oldest first
 */
GArray *
flow_chat_list (FlowDoc *chat)
{
  GArray *messages = g_array_new (FALSE, TRUE, sizeof (FlowChatMessage));
  g_autoptr(GArray) ids = NULL;

  g_array_set_clear_func (messages, (GDestroyNotify) flow_chat_message_clear);
  g_return_val_if_fail (FLOW_IS_DOC (chat), messages);

  ids = flow_doc_list_entities (chat, FALSE);
  for (guint i = 0; i < ids->len; i++)
    {
      FlowChatMessage m = { 0 };

      if (flow_chat_get (chat, &g_array_index (ids, FlowOpId, i), &m))
        g_array_append_val (messages, m);
    }
  g_array_sort (messages, compare_messages);
  return messages;
}

/**
 * flow_chat_mentions:
 * @name: a display name
 *
 * Whether @message mentions @name as "@name" (case-insensitive, not in the
 * middle of a longer word).
 */
gboolean
flow_chat_mentions (const FlowChatMessage *message,
                    const char            *name)
{
  g_autofree char *text = NULL;
  g_autofree char *needle = NULL;
  const char *p;

  g_return_val_if_fail (message != NULL, FALSE);

  if (name == NULL || *name == '\0')
    return FALSE;
  text = g_utf8_casefold (message->text, -1);
  {
    g_autofree char *folded = g_utf8_casefold (name, -1);

    needle = g_strconcat ("@", folded, NULL);
  }
  for (p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    {
      const char *after = p + strlen (needle);
      gunichar next = *after != '\0' ? g_utf8_get_char (after) : 0;

      if (next == 0 || !(g_unichar_isalnum (next) || next == '_'))
        return TRUE;
    }
  return FALSE;
}
