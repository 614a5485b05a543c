/* flow-remote-presence.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The plain struct the huddle hands to the board and page widgets to show
 * other participants. It lives apart from both so that the GTK-free
 * canvas controller and the GTK widgets share it.
 */

#define G_LOG_DOMAIN "flow-remote-presence"

#include "config.h"

#include "flow-remote-presence.h"

/**
 * flow_remote_presence_new:
 * @peer_id: the peer's id
 * @name: (nullable): its display name
 * @color: its colour, 0xRRGGBBAA
 *
 * Returns: (transfer full): a presence with no viewport and no selection
 */
FlowRemotePresence *
flow_remote_presence_new (const char *peer_id,
                          const char *name,
                          guint32     color)
{
  FlowRemotePresence *self;

  g_return_val_if_fail (peer_id != NULL, NULL);

  self = g_new0 (FlowRemotePresence, 1);
  self->peer_id = g_strdup (peer_id);
  self->name = g_strdup (name != NULL ? name : "");
  self->color = color;
  self->zoom = 1.0;
  return self;
}

FlowRemotePresence *
flow_remote_presence_copy (const FlowRemotePresence *presence)
{
  FlowRemotePresence *copy;

  g_return_val_if_fail (presence != NULL, NULL);

  copy = g_memdup2 (presence, sizeof *presence);
  copy->peer_id = g_strdup (presence->peer_id);
  copy->name = g_strdup (presence->name);
  copy->tool = g_strdup (presence->tool);
  return copy;
}

void
flow_remote_presence_free (FlowRemotePresence *presence)
{
  if (presence == NULL)
    return;
  g_free (presence->peer_id);
  g_free (presence->name);
  g_free (presence->tool);
  g_free (presence);
}

/**
 * flow_remote_presence_list_new:
 *
 * Returns: (transfer full) (element-type FlowRemotePresence): an empty
 *   list that frees its elements
 */
GPtrArray *
flow_remote_presence_list_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) flow_remote_presence_free);
}

/* Returns: (nullable): the presence of @peer_id in @list */
const FlowRemotePresence *
flow_remote_presence_list_find (GPtrArray  *list,
                                const char *peer_id)
{
  if (list == NULL || peer_id == NULL)
    return NULL;
  for (guint i = 0; i < list->len; i++)
    {
      const FlowRemotePresence *p = g_ptr_array_index (list, i);

      if (g_strcmp0 (p->peer_id, peer_id) == 0)
        return p;
    }
  return NULL;
}
