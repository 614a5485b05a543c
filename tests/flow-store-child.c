/* flow-store-child.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The victim of test-store-durability: opens a workspace and edits it as
 * fast as the main loop turns until it is killed, and tells its parent on
 * stdout which edits the store has made durable.
 *
 *   flow-store-child WORKSPACE FIRST_ID [MAX_EDITS]
 *
 * The workspace must hold a page "Durable page" and a board "Durable
 * board". Edit N (from FIRST_ID on) appends the line "op N" to the page
 * and, when N is a multiple of 3, adds a shape with the text "op N" to the
 * board in one more change. Output, one line each, flushed at once:
 *
 *   replica HEX     once the workspace is open
 *   N               when "committed" says every change of edit N is durable
 *   done            after MAX_EDITS edits (then it closes and exits 0)
 *
 * Exit status 2 for bad arguments, 1 if anything else fails.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "flow-board.h"
#include "flow-catalog.h"
#include "flow-workspace.h"

typedef struct
{
  guint64 id;
  guint64 seq;   /* the store's sequence number of the edit's last change */
} Pending;

typedef struct
{
  FlowWorkspace *ws;
  FlowStore     *store;
  FlowDoc       *page;
  FlowDoc       *board;
  GQueue         pending;
  guint64        next_id;
  guint64        last_id;
  GMainLoop     *loop;
  int            status;
} Child;

static void
die (Child        *c,
     const char   *what,
     const GError *error)
{
  fprintf (stderr, "flow-store-child: %s: %s\n", what, error ? error->message : "failed");
  exit (1);
}

static void
committed_cb (FlowStore *store,
              guint64    seq,
              gpointer   data)
{
  Child *c = data;

  while (!g_queue_is_empty (&c->pending))
    {
      Pending *p = g_queue_peek_head (&c->pending);

      if (p->seq > seq)
        break;
      printf ("%" G_GUINT64_FORMAT "\n", p->id);
      g_free (g_queue_pop_head (&c->pending));
    }
  fflush (stdout);
}

static void
write_error_cb (FlowStore    *store,
                const GError *error,
                gpointer      data)
{
  die (data, "write error", error);
}

static void
edit (Child *c)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_strdup_printf ("op %" G_GUINT64_FORMAT "\n", c->next_id);
  Pending *p;

  if (!flow_doc_insert_text (c->page, flow_doc_get_length (c->page), line, -1, &error))
    die (c, "page edit", error);

  if (c->next_id % 3 == 0)
    {
      g_autofree char *text = g_strdup_printf ("op %" G_GUINT64_FORMAT, c->next_id);
      g_autoptr(FlowValue) value = flow_value_new_string (text);
      FlowOpId shape;

      flow_doc_begin_change (c->board);
      if (!flow_board_add_shape (c->board, "sticky", (double) (c->next_id % 1000), 0, 80, 80,
                                 &shape, &error) ||
          !flow_doc_set_property (c->board, &shape, "text", value, &error))
        die (c, "board edit", error);
      flow_doc_end_change (c->board);
    }

  p = g_new (Pending, 1);
  p->id = c->next_id++;
  p->seq = flow_store_get_queued (c->store);
  g_queue_push_tail (&c->pending, p);
}

static gboolean
tick_cb (gpointer data)
{
  Child *c = data;

  for (guint i = 0; i < 3 && c->next_id <= c->last_id; i++)
    edit (c);
  if (c->next_id <= c->last_id)
    return G_SOURCE_CONTINUE;

  g_main_loop_quit (c->loop);
  return G_SOURCE_REMOVE;
}

static FlowDoc *
find (Child      *c,
      const char *title)
{
  g_autoptr(GError) error = NULL;
  FlowOpId id;
  FlowDoc *doc;

  if (!flow_catalog_find (flow_workspace_get_catalog (c->ws), title, &id, &error))
    die (c, title, error);
  doc = flow_workspace_load_document (c->ws, &id, &error);
  if (doc == NULL)
    die (c, title, error);
  return doc;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  Child c = { NULL, };
  guint64 max_edits = 1000000;

  if (argc < 3 || argc > 4 ||
      !g_ascii_string_to_unsigned (argv[2], 10, 0, G_MAXUINT32, &c.next_id, NULL) ||
      (argc == 4 && !g_ascii_string_to_unsigned (argv[3], 10, 1, G_MAXUINT32, &max_edits, NULL)))
    {
      fprintf (stderr, "Usage: flow-store-child WORKSPACE FIRST_ID [MAX_EDITS]\n");
      return 2;
    }
  c.last_id = c.next_id + max_edits - 1;
  g_queue_init (&c.pending);

  c.ws = flow_workspace_open (argv[1], &error);
  if (c.ws == NULL)
    die (&c, "open", error);
  c.store = flow_workspace_get_store (c.ws);
  /* Snapshots now and then, so that some kills land in one. */
  flow_store_set_snapshot_interval (c.store, 50);
  g_signal_connect (c.store, "committed", G_CALLBACK (committed_cb), &c);
  g_signal_connect (c.store, "write-error", G_CALLBACK (write_error_cb), &c);
  c.page = find (&c, "Durable page");
  c.board = find (&c, "Durable board");
  printf ("replica %016" G_GINT64_MODIFIER "x\n", flow_store_get_replica (c.store));
  fflush (stdout);

  c.loop = g_main_loop_new (NULL, FALSE);
  g_timeout_add (1, tick_cb, &c);
  g_main_loop_run (c.loop);

  if (!flow_store_flush (c.store, &error))
    die (&c, "flush", error);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (!flow_workspace_close (c.ws, &error))
    die (&c, "close", error);
  printf ("done\n");
  fflush (stdout);

  g_main_loop_unref (c.loop);
  g_queue_clear_full (&c.pending, g_free);
  g_object_unref (c.ws);
  return c.status;
}
