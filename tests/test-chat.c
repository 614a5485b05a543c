/* test-chat.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "flow-chat.h"
#include "flow-error.h"
#include "flow-test-util.h"

static FlowDoc *
new_chat (FlowReplicaId replica)
{
  return flow_doc_new (FLOW_DOC_KIND_CHAT, &FLOW_CHAT_DOC_ID, replica);
}

static void
test_chat_post_and_list (void)
{
  g_autoptr(FlowDoc) chat = new_chat (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) list = NULL;
  FlowOpId first, second;

  g_assert_true (flow_chat_post (chat, "Ada", 0x3584e4ff, "second by time", 2000, &second, &error));
  g_assert_true (flow_chat_post (chat, "Grace", 0xe01b24ff, "first by time", 1000, &first, &error));
  g_assert_no_error (error);

  list = flow_chat_list (chat);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (g_array_index (list, FlowChatMessage, 0).text, ==, "first by time");
  g_assert_cmpstr (g_array_index (list, FlowChatMessage, 0).author, ==, "Grace");
  g_assert_cmpuint (g_array_index (list, FlowChatMessage, 0).color, ==, 0xe01b24ff);
  g_assert_cmpint (g_array_index (list, FlowChatMessage, 0).time, ==, 1000);
  g_assert_true (flow_op_id_equal (&g_array_index (list, FlowChatMessage, 1).id, &second));
}

static void
test_chat_invalid (void)
{
  g_autoptr(FlowDoc) chat = new_chat (1);
  g_autoptr(FlowDoc) page = flow_doc_new (FLOW_DOC_KIND_PAGE, &(FlowOpId) { 7, 7 }, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *long_text = g_strnfill (FLOW_CHAT_TEXT_MAX + 1, 'a');

  g_assert_false (flow_chat_post (chat, "Ada", 0, "", 0, NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_chat_post (chat, "Ada", 0, long_text, 0, NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_chat_post (chat, "Ada", 0, "\xff\xfe", 0, NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_chat_post (page, "Ada", 0, "hi", 0, NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
  g_clear_error (&error);
  /* Nothing was added by the refused posts. */
  g_assert_cmpuint (flow_doc_get_n_ops (chat), ==, 0);

  /* A board's kinds and keys are not a chat's. */
  {
    FlowOpId id;

    g_assert_false (flow_doc_create_entity (chat, "rect", &id, &error));
    g_assert_nonnull (error);
  }
}

/* Concurrent messages merge into the same order everywhere, ties broken
 * by id. */
static void
test_chat_merge (void)
{
  g_autoptr(FlowDoc) a = new_chat (1);
  g_autoptr(FlowDoc) b = new_chat (2);
  g_autoptr(GArray) la = NULL;
  g_autoptr(GArray) lb = NULL;

  g_assert_true (flow_chat_post (a, "A", 0, "from a", 500, NULL, NULL));
  g_assert_true (flow_chat_post (b, "B", 0, "from b", 500, NULL, NULL));
  g_assert_true (flow_chat_post (b, "B", 0, "later", 900, NULL, NULL));
  flow_test_sync_pair (a, b);
  flow_test_assert_same (a, b);

  la = flow_chat_list (a);
  lb = flow_chat_list (b);
  g_assert_cmpuint (la->len, ==, 3);
  g_assert_cmpuint (lb->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (g_array_index (la, FlowChatMessage, i).text, ==,
                     g_array_index (lb, FlowChatMessage, i).text);
  g_assert_cmpstr (g_array_index (la, FlowChatMessage, 2).text, ==, "later");
}

static void
test_chat_mentions (void)
{
  FlowChatMessage m = { .text = (char *) "thanks @Ada, and @adam too" };

  g_assert_true (flow_chat_mentions (&m, "ada"));
  g_assert_true (flow_chat_mentions (&m, "Adam"));
  g_assert_false (flow_chat_mentions (&m, "Ad"));
  g_assert_false (flow_chat_mentions (&m, "thanks"));
  g_assert_false (flow_chat_mentions (&m, ""));
  m.text = (char *) "@Zoë: look";
  g_assert_true (flow_chat_mentions (&m, "ZOË"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/chat/post-and-list", test_chat_post_and_list);
  g_test_add_func ("/flow/chat/invalid", test_chat_invalid);
  g_test_add_func ("/flow/chat/merge", test_chat_merge);
  g_test_add_func ("/flow/chat/mentions", test_chat_mentions);

  return g_test_run ();
}
