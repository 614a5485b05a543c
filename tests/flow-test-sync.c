/* flow-test-sync.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* For tests in which the test itself is a peer of a room on 127.0.0.1. */

#include "config.h"

#include <string.h>

#include "flow-catalog.h"
#include "flow-link-nice.h"
#include "flow-signaling-rendezvous.h"
#include "flow-test-sync.h"

/* Joins the room of @link (a rendezvous on 127.0.0.1) with @ws over
 * libnice links that gather on loopback only. */
FlowRoom *
flow_test_join_loopback (FlowWorkspace *ws,
                         const char    *link,
                         const char    *name,
                         guint32        color)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = flow_sync_invite_parse (link, &error);
  g_autoptr(FlowSignaling) signaling = NULL;
  g_autofree char *url = NULL;
  FlowIceConfig *ice = flow_ice_config_new ();
  FlowRoom *room;

  g_assert_no_error (error);
  g_assert_cmpstr (invite->host, ==, "127.0.0.1");
  ice->loopback_only = TRUE;
  url = flow_rendezvous_url_for_host (invite->host, invite->port, FALSE);
  signaling = flow_rendezvous_signaling_new (url, NULL);
  room = flow_room_new (ws, invite->key, signaling, flow_nice_link_factory,
                        ice, (GDestroyNotify) flow_ice_config_free);
  flow_room_set_profile (room, name, color);
  g_assert_true (flow_room_start (room, &error));
  g_assert_no_error (error);
  return room;
}

/* The document titled @title, loaded; %NULL if the catalog has none. */
FlowDoc *
flow_test_find_doc (FlowWorkspace *ws,
                    const char    *title)
{
  FlowOpId id;

  if (!flow_catalog_find (flow_workspace_get_catalog (ws), title, &id, NULL))
    return NULL;
  return flow_workspace_load_document (ws, &id, NULL);
}

/* Whether the page titled @title exists and contains @needle. */
gboolean
flow_test_page_has (FlowWorkspace *ws,
                    const char    *title,
                    const char    *needle)
{
  FlowDoc *doc = flow_test_find_doc (ws, title);
  g_autofree char *text = doc != NULL ? flow_doc_dup_text (doc) : NULL;

  return text != NULL && strstr (text, needle) != NULL;
}
