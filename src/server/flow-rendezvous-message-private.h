/* flow-rendezvous-message-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Deeper nesting than this is refused before json-glib sees the text: its
 * parser recurses once per level. */
#define FLOW_RV_MAX_JSON_DEPTH 32

typedef enum
{
  FLOW_RV_MESSAGE_JOIN,
  FLOW_RV_MESSAGE_SIGNAL,
  FLOW_RV_MESSAGE_PRESENCE,
  FLOW_RV_MESSAGE_PING,
} FlowRvMessageType;

/* A parsed client message. The strings are borrowed from @parser and live
 * until flow_rv_message_clear(). */
typedef struct
{
  FlowRvMessageType  type;
  const char        *room;
  const char        *peer;
  const char        *to;
  const char        *data;
  JsonParser        *parser;
} FlowRvMessage;

const char *flow_rv_message_parse      (const char    *text,
                                        gsize          len,
                                        FlowRvMessage *out);
void        flow_rv_message_clear      (FlowRvMessage *msg);
gboolean    flow_rv_is_valid_room      (const char    *room);
gboolean    flow_rv_is_valid_peer      (const char    *peer);
char       *flow_rv_build_message      (const char    *type,
                                        ...) G_GNUC_NULL_TERMINATED;
char       *flow_rv_build_joined       (const char    *room,
                                        const char    *peer,
                                        const char * const *peers);

G_END_DECLS
