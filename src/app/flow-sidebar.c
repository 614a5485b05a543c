/* flow-sidebar.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The workspace's documents, read from the catalog: documents outside any
 * folder first, then one section per folder (by name), then the trash.
 * The list is rebuilt from the catalog on every catalog change, local or
 * remote; a catalog has at most a few thousand entries, and rebuilding
 * keeps the view a pure function of the CRDT state. Row actions are window
 * actions whose target is the document id, so the window stays the only
 * place that edits the catalog.
 */

#define G_LOG_DOMAIN "flow-sidebar"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "flow-catalog.h"
#include "flow-sidebar.h"
#include "flow-store-search.h"

struct _FlowSidebar
{
  GtkWidget    parent_instance;

  GtkWidget   *box;
  GtkWidget   *search_entry;
  GtkWidget   *stack;
  GtkListBox  *results_list;
  GtkWidget   *results_status;
  GtkListBox  *tags_list;
  GtkWidget   *tags_expander;
  FlowStore   *store;
  gulong       committed_id;
  guint        tags_source;
  GCancellable *search_cancel;
  GtkWidget   *scroller;
  GtkListBox  *list;
  GtkListBox  *trash_list;
  GtkWidget   *trash_expander;

  FlowDoc     *catalog;
  guint        watch;
  FlowOpId     selected;
  gboolean     has_selected;
};

enum {
  OPEN_DOCUMENT,
  OPEN_RESULT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FlowSidebar, flow_sidebar, GTK_TYPE_WIDGET)

GtkWidget *
flow_sidebar_new (void)
{
  return g_object_new (FLOW_TYPE_SIDEBAR, NULL);
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const FlowCatalogEntry *ea = a;
  const FlowCatalogEntry *eb = b;
  int c;

  /* No folder first, then folders by name; titles within a folder. */
  if ((ea->folder == NULL) != (eb->folder == NULL))
    return ea->folder == NULL ? -1 : 1;
  if (ea->folder != NULL && (c = g_utf8_collate (ea->folder, eb->folder)) != 0)
    return c;
  if ((c = g_utf8_collate (ea->title, eb->title)) != 0)
    return c;
  return flow_op_id_compare (&ea->id, &eb->id);
}

static GMenuModel *
row_menu (const FlowCatalogEntry *entry)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autofree char *id = flow_op_id_to_string (&entry->id);
  GVariant *target = g_variant_new_string (id);
  g_autoptr(GMenuItem) item = NULL;

  g_variant_ref_sink (target);
  if (entry->deleted)
    {
      item = g_menu_item_new (_("_Restore"), NULL);
      g_menu_item_set_action_and_target_value (item, "win.restore-document", target);
      g_menu_append_item (menu, item);
    }
  else
    {
      item = g_menu_item_new (_("_Rename…"), NULL);
      g_menu_item_set_action_and_target_value (item, "win.rename-document", target);
      g_menu_append_item (menu, item);
      g_clear_object (&item);
      item = g_menu_item_new (_("_Move to Folder…"), NULL);
      g_menu_item_set_action_and_target_value (item, "win.move-document", target);
      g_menu_append_item (menu, item);
      g_clear_object (&item);
      item = g_menu_item_new (_("Move to _Trash"), NULL);
      g_menu_item_set_action_and_target_value (item, "win.trash-document", target);
      g_menu_append_item (menu, item);
    }
  g_variant_unref (target);
  return G_MENU_MODEL (g_steal_pointer (&menu));
}

static GtkWidget *
make_row (const FlowCatalogEntry *entry)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon = gtk_image_new_from_icon_name (entry->kind == FLOW_DOC_KIND_BOARD
                                                  ? "x-office-drawing-symbolic"
                                                  : "x-office-document-symbolic");
  GtkWidget *label = gtk_label_new (entry->title);
  GtkWidget *menu_button = gtk_menu_button_new ();
  g_autoptr(GMenuModel) menu = row_menu (entry);

  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 2);
  gtk_widget_set_margin_bottom (box, 2);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), menu);
  gtk_widget_add_css_class (menu_button, "flat");
  gtk_widget_set_tooltip_text (menu_button, _("Document Menu"));
  gtk_box_append (GTK_BOX (box), icon);
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), menu_button);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "flow-doc-id", flow_op_id_to_string (&entry->id), g_free);
  g_object_set_data_full (G_OBJECT (row), "flow-folder", g_strdup (entry->folder), g_free);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, entry->title,
                                  -1);
  return row;
}

static void
header_func (GtkListBoxRow *row,
             GtkListBoxRow *before,
             gpointer       user_data)
{
  const char *folder = g_object_get_data (G_OBJECT (row), "flow-folder");
  const char *prev = before ? g_object_get_data (G_OBJECT (before), "flow-folder") : NULL;
  GtkWidget *header;

  if (folder == NULL || (before != NULL && g_strcmp0 (folder, prev) == 0))
    {
      gtk_list_box_row_set_header (row, NULL);
      return;
    }
  header = gtk_label_new (folder);
  gtk_label_set_xalign (GTK_LABEL (header), 0);
  gtk_widget_add_css_class (header, "heading");
  gtk_widget_add_css_class (header, "dim-label");
  gtk_widget_set_margin_start (header, 12);
  gtk_widget_set_margin_top (header, 12);
  gtk_widget_set_margin_bottom (header, 4);
  gtk_list_box_row_set_header (row, header);
}

static void
clear_list (GtkListBox *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (list))) != NULL)
    gtk_list_box_remove (list, child);
}

static void apply_selection (FlowSidebar *self);

static void
rebuild (FlowSidebar *self)
{
  g_autoptr(GArray) entries = NULL;
  guint n_trash = 0;
  g_autofree char *trash_label = NULL;

  clear_list (self->list);
  clear_list (self->trash_list);
  if (self->catalog == NULL)
    return;

  entries = flow_catalog_list (self->catalog, TRUE);
  g_array_sort (entries, compare_entries);
  for (guint i = 0; i < entries->len; i++)
    {
      const FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);

      if (e->deleted)
        {
          gtk_list_box_append (self->trash_list, make_row (e));
          n_trash++;
        }
      else
        gtk_list_box_append (self->list, make_row (e));
    }
  for (guint i = 0; i < entries->len; i++)
    flow_catalog_entry_clear (&g_array_index (entries, FlowCatalogEntry, i));

  /* translators: %u is the number of documents in the trash */
  trash_label = g_strdup_printf (_("Trash (%u)"), n_trash);
  gtk_expander_set_label (GTK_EXPANDER (self->trash_expander), trash_label);
  gtk_widget_set_visible (self->trash_expander, n_trash > 0);
  apply_selection (self);
}

static void refresh_tags (FlowSidebar *self);

static void
catalog_changed_cb (FlowDoc    *catalog,
                    FlowChange *change,
                    gpointer    user_data)
{
  rebuild (user_data);
  refresh_tags (user_data);
}

/**
 * flow_sidebar_set_catalog:
 * @self: a sidebar
 * @catalog: (nullable): the workspace catalog to list
 */
void
flow_sidebar_set_catalog (FlowSidebar *self,
                          FlowDoc     *catalog)
{
  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  if (self->catalog != NULL)
    {
      flow_doc_remove_change_func (self->catalog, self->watch);
      self->watch = 0;
      g_clear_object (&self->catalog);
    }
  if (catalog != NULL)
    {
      self->catalog = g_object_ref (catalog);
      self->watch = flow_doc_add_change_func (catalog, catalog_changed_cb, self, NULL);
    }
  rebuild (self);
}

static void
apply_selection (FlowSidebar *self)
{
  g_autofree char *want = self->has_selected ? flow_op_id_to_string (&self->selected) : NULL;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->list));
       c != NULL; c = gtk_widget_get_next_sibling (c))
    if (want != NULL && g_strcmp0 (g_object_get_data (G_OBJECT (c), "flow-doc-id"), want) == 0)
      {
        gtk_list_box_select_row (self->list, GTK_LIST_BOX_ROW (c));
        return;
      }
  gtk_list_box_unselect_all (self->list);
}

/**
 * flow_sidebar_select:
 * @self: a sidebar
 * @id: (nullable): the document shown now, or %NULL for none
 *
 * Highlights the row of the document in the current tab.
 */
void
flow_sidebar_select (FlowSidebar    *self,
                     const FlowOpId *id)
{
  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  self->has_selected = id != NULL;
  if (id != NULL)
    self->selected = *id;
  apply_selection (self);
}

/**
 * flow_sidebar_get_n_rows:
 * @self: a sidebar
 * @trash: count the trash instead of the live documents
 *
 * Returns: how many documents the sidebar lists
 */
guint
flow_sidebar_get_n_rows (FlowSidebar *self,
                         gboolean     trash)
{
  guint n = 0;

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (trash ? self->trash_list : self->list));
       c != NULL; c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

static void
row_activated_cb (GtkListBox    *list,
                  GtkListBoxRow *row,
                  FlowSidebar   *self)
{
  const char *id = g_object_get_data (G_OBJECT (row), "flow-doc-id");

  if (list == self->list && id != NULL)
    g_signal_emit (self, signals[OPEN_DOCUMENT], 0, id);
}

/* ------------------------------------------------------------------------
 * Search and tags
 * ------------------------------------------------------------------------ */

/* Snippets mark matches with \x01…\x02; show them in bold. */
static char *
snippet_markup (const char *snippet)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(GStrv) parts = g_strsplit_set (snippet ? snippet : "", FLOW_SEARCH_MATCH_START FLOW_SEARCH_MATCH_END, -1);
  gboolean bold = FALSE;
  const char *p = snippet ? snippet : "";

  /* Walk the original to know which separator ended each part. */
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autofree char *escaped = g_markup_escape_text (parts[i], -1);
      char sep;

      if (bold)
        g_string_append_printf (out, "<b>%s</b>", escaped);
      else
        g_string_append (out, escaped);
      p += strlen (parts[i]);
      sep = *p;
      if (sep == '\0')
        break;
      p++;
      bold = sep == FLOW_SEARCH_MATCH_START[0];
    }
  g_string_replace (out, "\n", " ", 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static GtkWidget *
result_row (const char  *title,
            FlowDocKind  kind,
            const char  *snippet)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (title);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (head), gtk_image_new_from_icon_name (kind == FLOW_DOC_KIND_BOARD
                                                                ? "x-office-drawing-symbolic"
                                                                : "x-office-document-symbolic"));
  gtk_box_append (GTK_BOX (head), label);
  gtk_box_append (GTK_BOX (box), head);
  if (snippet != NULL && snippet[0] != '\0')
    {
      g_autofree char *markup = snippet_markup (snippet);
      GtkWidget *text = gtk_label_new (NULL);

      gtk_label_set_markup (GTK_LABEL (text), markup);
      gtk_label_set_xalign (GTK_LABEL (text), 0);
      gtk_label_set_wrap (GTK_LABEL (text), TRUE);
      gtk_label_set_lines (GTK_LABEL (text), 3);
      gtk_label_set_ellipsize (GTK_LABEL (text), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (text, "caption");
      gtk_widget_add_css_class (text, "dim-label");
      gtk_box_append (GTK_BOX (box), text);
    }
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  return row;
}

static void
show_status (FlowSidebar *self,
             const char  *text)
{
  gtk_label_set_text (GTK_LABEL (self->results_status), text);
  gtk_widget_set_visible (self->results_status, text != NULL);
}

static void
search_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(FlowSidebar) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = flow_store_search_finish (FLOW_STORE (source), result, &error);

  if (results == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_status (self, error->message);
      return;
    }
  clear_list (self->results_list);
  for (guint i = 0; i < results->len; i++)
    {
      FlowSearchResult *r = g_ptr_array_index (results, i);
      GtkWidget *row = result_row (r->title, r->kind, r->snippet);

      g_object_set_data_full (G_OBJECT (row), "flow-doc-id", flow_op_id_to_string (&r->doc), g_free);
      g_object_set_data (G_OBJECT (row), "flow-offset", GUINT_TO_POINTER (r->match_offset));
      gtk_list_box_append (self->results_list, row);
    }
  show_status (self, results->len == 0 ? _("No results") : NULL);
}

static void
tag_docs_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(FlowSidebar) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = flow_store_docs_with_tag_finish (FLOW_STORE (source), result, &error);

  if (ids == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_status (self, error->message);
      return;
    }
  clear_list (self->results_list);
  for (guint i = 0; i < ids->len && self->catalog != NULL; i++)
    {
      const FlowOpId *id = &g_array_index (ids, FlowOpId, i);
      FlowCatalogEntry entry;
      GtkWidget *row;

      if (!flow_catalog_get (self->catalog, id, &entry))
        continue;
      if (entry.deleted)
        {
          flow_catalog_entry_clear (&entry);
          continue;
        }
      row = result_row (entry.title, entry.kind, NULL);
      g_object_set_data_full (G_OBJECT (row), "flow-doc-id", flow_op_id_to_string (id), g_free);
      gtk_list_box_append (self->results_list, row);
      flow_catalog_entry_clear (&entry);
    }
  show_status (self, gtk_widget_get_first_child (GTK_WIDGET (self->results_list)) ? NULL : _("No results"));
}

static void
search_changed_cb (FlowSidebar *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *query = g_strstrip (g_strdup (text));

  g_cancellable_cancel (self->search_cancel);
  g_clear_object (&self->search_cancel);
  if (query[0] == '\0' || self->store == NULL)
    {
      clear_list (self->results_list);
      show_status (self, NULL);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "documents");
      return;
    }
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "results");
  self->search_cancel = g_cancellable_new ();
  /* "#tag" alone lists the documents with that tag. */
  if (query[0] == '#' && query[1] != '\0' && strpbrk (query, " \t") == NULL)
    flow_store_docs_with_tag_async (self->store, query + 1, self->search_cancel,
                                    tag_docs_cb, g_object_ref (self));
  else
    flow_store_search_async (self->store, query, 50, self->search_cancel,
                             search_done_cb, g_object_ref (self));
}

static void
result_activated_cb (GtkListBox    *list,
                     GtkListBoxRow *row,
                     FlowSidebar   *self)
{
  const char *id = g_object_get_data (G_OBJECT (row), "flow-doc-id");

  if (id != NULL)
    g_signal_emit (self, signals[OPEN_RESULT], 0, id,
                   GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "flow-offset")));
}

static void
tags_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(FlowSidebar) self = user_data;
  g_autoptr(GArray) tags = flow_store_list_tags_finish (FLOW_STORE (source), result, NULL);

  if (tags == NULL)
    return;
  clear_list (self->tags_list);
  for (guint i = 0; i < tags->len; i++)
    {
      FlowTagCount *t = &g_array_index (tags, FlowTagCount, i);
      g_autofree char *text = g_strdup_printf ("#%s", t->tag);
      g_autofree char *count = g_strdup_printf ("%u", t->n_docs);
      GtkWidget *row = gtk_list_box_row_new ();
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *label = gtk_label_new (text);
      GtkWidget *n = gtk_label_new (count);

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_set_hexpand (label, TRUE);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_widget_add_css_class (n, "dim-label");
      gtk_widget_add_css_class (n, "numeric");
      gtk_box_append (GTK_BOX (box), label);
      gtk_box_append (GTK_BOX (box), n);
      gtk_widget_set_margin_start (box, 6);
      gtk_widget_set_margin_end (box, 6);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
      g_object_set_data_full (G_OBJECT (row), "flow-tag", g_strdup (t->tag), g_free);
      gtk_list_box_append (self->tags_list, row);
      flow_tag_count_clear (t);
    }
  gtk_widget_set_visible (self->tags_expander, tags->len > 0);
}

static void
refresh_tags (FlowSidebar *self)
{
  if (self->store != NULL)
    flow_store_list_tags_async (self->store, NULL, tags_done_cb, g_object_ref (self));
}

static void
tag_activated_cb (GtkListBox    *list,
                  GtkListBoxRow *row,
                  FlowSidebar   *self)
{
  flow_sidebar_show_tag (self, g_object_get_data (G_OBJECT (row), "flow-tag"));
}

/**
 * flow_sidebar_show_tag:
 * @self: a sidebar
 * @tag: a tag, without "#"
 *
 * Lists the documents with @tag, as searching "#tag" does.
 */
void
flow_sidebar_show_tag (FlowSidebar *self,
                       const char  *tag)
{
  g_autofree char *query = g_strdup_printf ("#%s", tag);

  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  flow_sidebar_search (self, query);
}

/**
 * flow_sidebar_search:
 * @self: a sidebar
 * @query: what to search for ("" shows the documents again)
 */
void
flow_sidebar_search (FlowSidebar *self,
                     const char  *query)
{
  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), query);
  search_changed_cb (self);
}

/**
 * flow_sidebar_get_n_results:
 * @self: a sidebar
 *
 * Returns: how many search results are listed now
 */
guint
flow_sidebar_get_n_results (FlowSidebar *self)
{
  guint n = 0;

  g_return_val_if_fail (FLOW_IS_SIDEBAR (self), 0);

  for (GtkWidget *c = gtk_widget_get_first_child (GTK_WIDGET (self->results_list));
       c != NULL; c = gtk_widget_get_next_sibling (c))
    n++;
  return n;
}

/**
 * flow_sidebar_activate_result:
 * @self: a sidebar
 * @index: a listed result
 *
 * Opens the result, as clicking it does.
 */
void
flow_sidebar_activate_result (FlowSidebar *self,
                              guint        index)
{
  GtkListBoxRow *row;

  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  row = gtk_list_box_get_row_at_index (self->results_list, index);
  if (row != NULL)
    result_activated_cb (self->results_list, row, self);
}

/**
 * flow_sidebar_focus_search:
 * @self: a sidebar
 */
void
flow_sidebar_focus_search (FlowSidebar *self)
{
  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  gtk_widget_grab_focus (self->search_entry);
}

/* Tags change as pages are edited, here or by peers; the list follows a
 * second after the edits are saved (queries index what is pending first). */
static gboolean
tags_timeout_cb (gpointer data)
{
  FlowSidebar *self = data;

  self->tags_source = 0;
  refresh_tags (self);
  return G_SOURCE_REMOVE;
}

static void
store_committed_cb (FlowSidebar *self)
{
  /* A query makes the index catch up, which is work for the writer: wait
   * for edits to pause. */
  g_clear_handle_id (&self->tags_source, g_source_remove);
  self->tags_source = g_timeout_add (1500, tags_timeout_cb, self);
}

/**
 * flow_sidebar_set_store:
 * @self: a sidebar
 * @store: (nullable): the workspace's store, for search and tags
 */
void
flow_sidebar_set_store (FlowSidebar *self,
                        FlowStore   *store)
{
  g_return_if_fail (FLOW_IS_SIDEBAR (self));

  g_cancellable_cancel (self->search_cancel);
  g_clear_handle_id (&self->tags_source, g_source_remove);
  if (self->store != NULL)
    g_clear_signal_handler (&self->committed_id, self->store);
  g_set_object (&self->store, store);
  if (store != NULL)
    self->committed_id = g_signal_connect_swapped (store, "committed", G_CALLBACK (store_committed_cb), self);
  refresh_tags (self);
}

static void
flow_sidebar_dispose (GObject *object)
{
  FlowSidebar *self = FLOW_SIDEBAR (object);

  flow_sidebar_set_catalog (self, NULL);
  flow_sidebar_set_store (self, NULL);
  g_cancellable_cancel (self->search_cancel);
  g_clear_object (&self->search_cancel);
  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (flow_sidebar_parent_class)->dispose (object);
}

static void
flow_sidebar_class_init (FlowSidebarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_sidebar_dispose;

  /**
   * FlowSidebar::open-document:
   * @id: the document's id, as flow_op_id_to_string() writes it
   */
  signals[OPEN_DOCUMENT] = g_signal_new ("open-document", G_TYPE_FROM_CLASS (klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                         G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * FlowSidebar::open-result:
   * @id: the document's id
   * @offset: where the match is, in characters (0 for boards and tags)
   */
  signals[OPEN_RESULT] = g_signal_new ("open-result", G_TYPE_FROM_CLASS (klass),
                                       G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                       G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_UINT);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flowsidebar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_NAVIGATION);
}

static void
flow_sidebar_init (FlowSidebar *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_header_func (self->list, header_func, NULL, NULL);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Documents"), -1);
  g_signal_connect (self->list, "row-activated", G_CALLBACK (row_activated_cb), self);

  self->trash_list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->trash_list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->trash_list), "navigation-sidebar");
  self->trash_expander = gtk_expander_new (_("Trash"));
  gtk_widget_set_margin_start (self->trash_expander, 12);
  gtk_widget_set_margin_top (self->trash_expander, 12);
  gtk_expander_set_child (GTK_EXPANDER (self->trash_expander), GTK_WIDGET (self->trash_list));
  gtk_widget_set_visible (self->trash_expander, FALSE);

  /* Tags, between the documents and the trash. */
  self->tags_list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_widget_add_css_class (GTK_WIDGET (self->tags_list), "navigation-sidebar");
  g_signal_connect (self->tags_list, "row-activated", G_CALLBACK (tag_activated_cb), self);
  self->tags_expander = gtk_expander_new (_("Tags"));
  gtk_expander_set_expanded (GTK_EXPANDER (self->tags_expander), TRUE);
  gtk_widget_set_margin_start (self->tags_expander, 12);
  gtk_widget_set_margin_top (self->tags_expander, 12);
  gtk_expander_set_child (GTK_EXPANDER (self->tags_expander), GTK_WIDGET (self->tags_list));
  gtk_widget_set_visible (self->tags_expander, FALSE);

  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->list));
  gtk_box_append (GTK_BOX (box), self->tags_expander);
  gtk_box_append (GTK_BOX (box), self->trash_expander);
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), box);

  /* Search results replace the documents while there is a query. */
  {
    GtkWidget *results_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
    GtkWidget *results_scroller = gtk_scrolled_window_new ();

    self->results_list = GTK_LIST_BOX (gtk_list_box_new ());
    gtk_widget_add_css_class (GTK_WIDGET (self->results_list), "navigation-sidebar");
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->results_list),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, _("Search results"), -1);
    g_signal_connect (self->results_list, "row-activated", G_CALLBACK (result_activated_cb), self);
    self->results_status = gtk_label_new (NULL);
    gtk_widget_add_css_class (self->results_status, "dim-label");
    gtk_widget_set_margin_top (self->results_status, 24);
    gtk_widget_set_visible (self->results_status, FALSE);
    gtk_box_append (GTK_BOX (results_box), self->results_status);
    gtk_box_append (GTK_BOX (results_box), GTK_WIDGET (self->results_list));
    gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (results_scroller),
                                    GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (results_scroller), results_box);

    self->stack = gtk_stack_new ();
    gtk_widget_set_vexpand (self->stack, TRUE);
    gtk_stack_add_named (GTK_STACK (self->stack), self->scroller, "documents");
    gtk_stack_add_named (GTK_STACK (self->stack), results_scroller, "results");
  }

  self->search_entry = gtk_search_entry_new ();
  g_object_set (self->search_entry, "placeholder-text", _("Search Workspace"), NULL);
  gtk_widget_set_margin_start (self->search_entry, 6);
  gtk_widget_set_margin_end (self->search_entry, 6);
  gtk_widget_set_margin_top (self->search_entry, 6);
  gtk_widget_set_margin_bottom (self->search_entry, 6);
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (self->box), self->search_entry);
  gtk_box_append (GTK_BOX (self->box), self->stack);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}
