/* flow-page-completion.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Completion of [[page links]]: after "[[" the editor offers the titles of
 * the workspace's documents that contain what was typed since (ignoring
 * case), and choosing one writes "Title]]". Titles come from the catalog
 * each time, so new and renamed documents show up at once.
 */

#define G_LOG_DOMAIN "flow-page-completion"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "flow-catalog.h"
#include "flow-links.h"
#include "flow-page-completion.h"

#define MAX_PREFIX_CHARS 200

/* A proposal: one document title. */

#define FLOW_TYPE_TITLE_PROPOSAL (flow_title_proposal_get_type ())
G_DECLARE_FINAL_TYPE (FlowTitleProposal, flow_title_proposal, FLOW, TITLE_PROPOSAL, GObject)

struct _FlowTitleProposal
{
  GObject      parent_instance;
  char        *title;
  FlowDocKind  kind;
};

static void flow_title_proposal_iface_init (GtkSourceCompletionProposalInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FlowTitleProposal, flow_title_proposal, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GTK_SOURCE_TYPE_COMPLETION_PROPOSAL,
                                                      flow_title_proposal_iface_init))

static char *
flow_title_proposal_get_typed_text (GtkSourceCompletionProposal *proposal)
{
  return g_strdup (FLOW_TITLE_PROPOSAL (proposal)->title);
}

static void
flow_title_proposal_iface_init (GtkSourceCompletionProposalInterface *iface)
{
  iface->get_typed_text = flow_title_proposal_get_typed_text;
}

static void
flow_title_proposal_finalize (GObject *object)
{
  g_free (FLOW_TITLE_PROPOSAL (object)->title);
  G_OBJECT_CLASS (flow_title_proposal_parent_class)->finalize (object);
}

static void
flow_title_proposal_class_init (FlowTitleProposalClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = flow_title_proposal_finalize;
}

static void
flow_title_proposal_init (FlowTitleProposal *self)
{
}

/* The provider. */

struct _FlowPageCompletion
{
  GObject        parent_instance;
  FlowWorkspace *workspace;
};

static void flow_page_completion_iface_init (GtkSourceCompletionProviderInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (FlowPageCompletion, flow_page_completion, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GTK_SOURCE_TYPE_COMPLETION_PROVIDER,
                                                      flow_page_completion_iface_init))

/**
 * flow_page_completion_get_prefix:
 * @cursor: where the cursor is
 *
 * Returns: (nullable): what was typed after an unclosed "[[" on the
 *   cursor's line, or %NULL when the cursor is not in a link
 */
char *
flow_page_completion_get_prefix (const GtkTextIter *cursor)
{
  GtkTextIter start = *cursor;
  g_autofree char *before = NULL;
  const char *open;

  gtk_text_iter_set_line_offset (&start, 0);
  if (gtk_text_iter_get_line_offset (cursor) > MAX_PREFIX_CHARS)
    gtk_text_iter_set_line_offset (&start, gtk_text_iter_get_line_offset (cursor) - MAX_PREFIX_CHARS);
  before = gtk_text_iter_get_slice (&start, cursor);
  open = g_strrstr (before, "[[");
  if (open == NULL || strstr (open, "]]") != NULL || strchr (open + 2, '[') != NULL)
    return NULL;
  return g_strdup (open + 2);
}

static int
compare_titles (gconstpointer a,
                gconstpointer b)
{
  return g_utf8_collate (*(const char * const *) a, *(const char * const *) b);
}

/**
 * flow_page_completion_match:
 * @self: a provider
 * @prefix: what was typed after "[["
 *
 * Returns: (transfer full) (element-type utf8): matching titles, those
 *   starting with @prefix first, each once
 */
GPtrArray *
flow_page_completion_match (FlowPageCompletion *self,
                            const char         *prefix)
{
  g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (self->workspace), FALSE);
  g_autofree char *want = flow_links_fold_title (prefix);
  GPtrArray *starts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) contains = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < entries->len; i++)
    {
      FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);
      g_autofree char *have = flow_links_fold_title (e->title);

      if (!g_hash_table_contains (seen, have))
        {
          if (g_str_has_prefix (have, want))
            g_ptr_array_add (starts, g_strdup (e->title));
          else if (strstr (have, want) != NULL)
            g_ptr_array_add (contains, g_strdup (e->title));
          g_hash_table_add (seen, g_steal_pointer (&have));
        }
      flow_catalog_entry_clear (e);
    }
  g_ptr_array_sort (starts, compare_titles);
  g_ptr_array_sort (contains, compare_titles);
  g_ptr_array_extend_and_steal (starts, g_steal_pointer (&contains));
  return starts;
}

static void
fill (FlowPageCompletion *self,
      GListStore         *store,
      const char         *prefix)
{
  g_autoptr(GPtrArray) titles = flow_page_completion_match (self, prefix);

  g_list_store_remove_all (store);
  for (guint i = 0; i < titles->len; i++)
    {
      g_autoptr(FlowTitleProposal) p = g_object_new (FLOW_TYPE_TITLE_PROPOSAL, NULL);

      p->title = g_strdup (g_ptr_array_index (titles, i));
      g_list_store_append (store, p);
    }
}

static char *
context_prefix (GtkSourceCompletionContext *context)
{
  GtkTextIter begin, end;

  if (!gtk_source_completion_context_get_bounds (context, &begin, &end))
    return NULL;
  return flow_page_completion_get_prefix (&end);
}

static gboolean
flow_page_completion_is_trigger (GtkSourceCompletionProvider *provider,
                                 const GtkTextIter           *iter,
                                 gunichar                     ch)
{
  return ch == '[';
}

static void
flow_page_completion_populate_async (GtkSourceCompletionProvider *provider,
                                     GtkSourceCompletionContext  *context,
                                     GCancellable                *cancellable,
                                     GAsyncReadyCallback          callback,
                                     gpointer                     user_data)
{
  FlowPageCompletion *self = FLOW_PAGE_COMPLETION (provider);
  g_autoptr(GTask) task = g_task_new (provider, cancellable, callback, user_data);
  g_autofree char *prefix = context_prefix (context);
  GListStore *store = g_list_store_new (FLOW_TYPE_TITLE_PROPOSAL);

  if (prefix != NULL)
    fill (self, store, prefix);
  g_task_return_pointer (task, store, g_object_unref);
}

static GListModel *
flow_page_completion_populate_finish (GtkSourceCompletionProvider  *provider,
                                      GAsyncResult                 *result,
                                      GError                      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
flow_page_completion_refilter (GtkSourceCompletionProvider *provider,
                               GtkSourceCompletionContext  *context,
                               GListModel                  *model)
{
  g_autofree char *prefix = context_prefix (context);

  if (prefix == NULL)
    g_list_store_remove_all (G_LIST_STORE (model));
  else
    fill (FLOW_PAGE_COMPLETION (provider), G_LIST_STORE (model), prefix);
}

static void
flow_page_completion_display (GtkSourceCompletionProvider *provider,
                              GtkSourceCompletionContext  *context,
                              GtkSourceCompletionProposal *proposal,
                              GtkSourceCompletionCell     *cell)
{
  switch (gtk_source_completion_cell_get_column (cell))
    {
    case GTK_SOURCE_COMPLETION_COLUMN_TYPED_TEXT:
      gtk_source_completion_cell_set_text (cell, FLOW_TITLE_PROPOSAL (proposal)->title);
      break;
    case GTK_SOURCE_COMPLETION_COLUMN_ICON:
      gtk_source_completion_cell_set_icon_name (cell, "x-office-document-symbolic");
      break;
    case GTK_SOURCE_COMPLETION_COLUMN_BEFORE:
    case GTK_SOURCE_COMPLETION_COLUMN_AFTER:
    case GTK_SOURCE_COMPLETION_COLUMN_COMMENT:
    case GTK_SOURCE_COMPLETION_COLUMN_DETAILS:
    default:
      gtk_source_completion_cell_set_text (cell, NULL);
      break;
    }
}

static void
flow_page_completion_activate (GtkSourceCompletionProvider *provider,
                               GtkSourceCompletionContext  *context,
                               GtkSourceCompletionProposal *proposal)
{
  GtkTextBuffer *buffer = GTK_TEXT_BUFFER (gtk_source_completion_context_get_buffer (context));
  GtkTextIter begin, end, after;
  g_autofree char *prefix = NULL;
  gboolean closed;

  if (!gtk_source_completion_context_get_bounds (context, &begin, &end))
    return;
  prefix = flow_page_completion_get_prefix (&end);
  if (prefix == NULL)
    return;
  /* Replace what was typed after "[[" with the title, and close the link
   * unless it already is. */
  begin = end;
  gtk_text_iter_backward_chars (&begin, g_utf8_strlen (prefix, -1));
  after = end;
  gtk_text_iter_forward_chars (&after, 2);
  {
    g_autofree char *next = gtk_text_iter_get_slice (&end, &after);

    closed = g_strcmp0 (next, "]]") == 0;
  }
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_delete (buffer, &begin, &end);
  gtk_text_buffer_insert (buffer, &begin, FLOW_TITLE_PROPOSAL (proposal)->title, -1);
  if (!closed)
    gtk_text_buffer_insert (buffer, &begin, "]]", 2);
  else
    gtk_text_iter_forward_chars (&begin, 2);
  gtk_text_buffer_place_cursor (buffer, &begin);
  gtk_text_buffer_end_user_action (buffer);
}

static char *
flow_page_completion_get_title (GtkSourceCompletionProvider *provider)
{
  return g_strdup (_("Pages"));
}

static void
flow_page_completion_iface_init (GtkSourceCompletionProviderInterface *iface)
{
  iface->get_title = flow_page_completion_get_title;
  iface->is_trigger = flow_page_completion_is_trigger;
  iface->populate_async = flow_page_completion_populate_async;
  iface->populate_finish = flow_page_completion_populate_finish;
  iface->refilter = flow_page_completion_refilter;
  iface->display = flow_page_completion_display;
  iface->activate = flow_page_completion_activate;
}

FlowPageCompletion *
flow_page_completion_new (FlowWorkspace *workspace)
{
  FlowPageCompletion *self = g_object_new (FLOW_TYPE_PAGE_COMPLETION, NULL);

  self->workspace = g_object_ref (workspace);
  return self;
}

static void
flow_page_completion_dispose (GObject *object)
{
  g_clear_object (&FLOW_PAGE_COMPLETION (object)->workspace);
  G_OBJECT_CLASS (flow_page_completion_parent_class)->dispose (object);
}

static void
flow_page_completion_class_init (FlowPageCompletionClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = flow_page_completion_dispose;
}

static void
flow_page_completion_init (FlowPageCompletion *self)
{
}
