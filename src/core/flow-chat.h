/* flow-chat.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-doc.h"

G_BEGIN_DECLS

/* The id of a workspace's chat document: fixed, like the catalog's {0, 0},
 * so that every member's chat is the same document. */
#define FLOW_CHAT_DOC_ID ((FlowOpId) { 0, 1 })

#define FLOW_CHAT_TEXT_MAX (16 * 1024)

/**
 * FlowChatMessage:
 * @id: the message's id (the op that created it)
 * @author: the sender's display name
 * @color: the sender's colour, 0xRRGGBBAA
 * @text: the message, 1 byte to 16 KiB of UTF-8
 * @time: when it was posted, Unix time in microseconds (the sender's clock)
 */
typedef struct
{
  FlowOpId  id;
  char     *author;
  guint32   color;
  char     *text;
  gint64    time;
} FlowChatMessage;

void      flow_chat_message_clear (FlowChatMessage  *message);
gboolean  flow_chat_post          (FlowDoc          *chat,
                                   const char       *author,
                                   guint32           color,
                                   const char       *text,
                                   gint64            time,
                                   FlowOpId         *id,
                                   GError          **error);
gboolean  flow_chat_get           (FlowDoc          *chat,
                                   const FlowOpId   *id,
                                   FlowChatMessage  *message);
GArray   *flow_chat_list          (FlowDoc          *chat);
gboolean  flow_chat_mentions      (const FlowChatMessage *message,
                                   const char       *name);

G_END_DECLS
