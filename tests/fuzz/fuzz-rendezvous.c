/* fuzz-rendezvous.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * libFuzzer target for the rendezvous server's message parser
 * (src/server/flow-rendezvous-message.c), which sees every text frame any
 * client sends. Besides crashes, leaks and stack exhaustion we abort when
 *  - a failure is not one of the protocol's parse error codes;
 *  - an accepted join has a room or peer id outside the documented syntax;
 *  - an accepted signal or presence has no data;
 *  - relaying the data (building the server's message and parsing that as a
 *    client would) does not give back the same bytes.
 *
 *   ./fuzz-rendezvous -max_total_time=60 ../tests/fuzz/corpus/fuzz-rendezvous
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow-rendezvous-message-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

G_GNUC_NORETURN static void
die (const char *what)
{
  fprintf (stderr, "fuzz-rendezvous: %s\n", what);
  abort ();
}

static void
check_relay (const char *from,
             const char *payload)
{
  g_autofree char *text = flow_rv_build_message ("signal", "from", from, "data", payload, NULL);
  g_autoptr(JsonNode) node = json_from_string (text, NULL);

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    die ("the relayed message is not a JSON object");
  if (g_strcmp0 (json_object_get_string_member_with_default (json_node_get_object (node), "data", NULL),
                 payload) != 0)
    die ("the relayed data differs from the sent data");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FlowRvMessage msg;
  const char *code = flow_rv_message_parse ((const char *) data, size, &msg);

  if (code != NULL)
    {
      if (strcmp (code, "bad-json") != 0 && strcmp (code, "bad-message") != 0 &&
          strcmp (code, "unknown-type") != 0)
        die ("unexpected error code");
      flow_rv_message_clear (&msg);
      return 0;
    }

  switch (msg.type)
    {
    case FLOW_RV_MESSAGE_JOIN:
      if (!flow_rv_is_valid_room (msg.room) || !flow_rv_is_valid_peer (msg.peer))
        die ("a join with invalid ids was accepted");
      break;
    case FLOW_RV_MESSAGE_SIGNAL:
      if (!flow_rv_is_valid_peer (msg.to) || msg.data == NULL)
        die ("a signal without target or data was accepted");
      check_relay ("fuzzer", msg.data);
      break;
    case FLOW_RV_MESSAGE_PRESENCE:
      if (msg.data == NULL)
        die ("a presence without data was accepted");
      check_relay ("fuzzer", msg.data);
      break;
    case FLOW_RV_MESSAGE_PING:
      break;
    default:
      die ("unknown message type");
    }

  flow_rv_message_clear (&msg);
  return 0;
}
