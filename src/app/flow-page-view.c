/* flow-page-view.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A page in a GtkSourceView, bound both ways to the text CRDT.
 *
 * Buffer edits become CRDT edits as they happen (GtkTextBuffer counts in
 * characters, which are code points, as the CRDT does). Changes that come
 * from anywhere else (another replica, undo, redo) arrive as text edits of
 * a FlowChange and are replayed into the buffer. Two flags keep the paths
 * apart so that nothing echoes: an edit made by the buffer is not applied
 * to the buffer again, and an edit replayed into the buffer is not sent to
 * the CRDT again. The buffer's own undo is off: undo is the document's,
 * which reverts only this user's edits.
 */

#define G_LOG_DOMAIN "flow-page-view"

#include "config.h"

#include <glib/gi18n.h>
#include <gtksourceview/gtksource.h>

#include "flow-page-view.h"

struct _FlowPageView
{
  GtkWidget      parent_instance;

  GtkWidget     *scroller;
  GtkSourceView *view;
  GtkTextBuffer *buffer;

  FlowDoc       *doc;
  guint          watch;
  gboolean       from_buffer;  /* the CRDT edit being made comes from the buffer */
  gboolean       from_doc;     /* the buffer edit being made comes from the CRDT */
};

G_DEFINE_FINAL_TYPE (FlowPageView, flow_page_view, GTK_TYPE_WIDGET)

static void
report (FlowPageView *self,
        GError       *error)
{
  /* The doc refused (read-only checkout, or an internal limit): the buffer
   * and the doc now differ, so bring the buffer back to the doc's text. */
  g_autofree char *text = flow_doc_dup_text (self->doc);

  g_warning ("Page edit refused: %s", error->message);
  self->from_doc = TRUE;
  gtk_text_buffer_set_text (self->buffer, text, -1);
  self->from_doc = FALSE;
}

static void
insert_text_cb (GtkTextBuffer *buffer,
                GtkTextIter   *location,
                const char    *text,
                int            len,
                FlowPageView  *self)
{
  g_autoptr(GError) error = NULL;

  if (self->from_doc)
    return;
  self->from_buffer = TRUE;
  if (!flow_doc_insert_text (self->doc, gtk_text_iter_get_offset (location), text, len, &error))
    {
      self->from_buffer = FALSE;
      g_signal_stop_emission_by_name (buffer, "insert-text");
      report (self, error);
      return;
    }
  self->from_buffer = FALSE;
}

static void
delete_range_cb (GtkTextBuffer *buffer,
                 GtkTextIter   *start,
                 GtkTextIter   *end,
                 FlowPageView  *self)
{
  g_autoptr(GError) error = NULL;
  guint from = gtk_text_iter_get_offset (start);
  guint to = gtk_text_iter_get_offset (end);

  if (self->from_doc || from == to)
    return;
  self->from_buffer = TRUE;
  if (!flow_doc_delete_text (self->doc, MIN (from, to), MAX (from, to) - MIN (from, to), &error))
    {
      self->from_buffer = FALSE;
      g_signal_stop_emission_by_name (buffer, "delete-range");
      report (self, error);
      return;
    }
  self->from_buffer = FALSE;
}

static void
doc_changed_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  FlowPageView *self = user_data;
  const FlowTextEdit *edits;
  guint n_edits;

  if (self->from_buffer)
    return;

  edits = flow_change_get_text_edits (change, &n_edits);
  self->from_doc = TRUE;
  for (guint i = 0; i < n_edits; i++)
    {
      GtkTextIter start, end;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &start, edits[i].pos);
      if (edits[i].removed > 0)
        {
          gtk_text_buffer_get_iter_at_offset (self->buffer, &end, edits[i].pos + edits[i].removed);
          gtk_text_buffer_delete (self->buffer, &start, &end);
        }
      if (edits[i].inserted_len > 0)
        gtk_text_buffer_insert (self->buffer, &start, edits[i].inserted, edits[i].inserted_len);
    }
  self->from_doc = FALSE;
}

FlowPageView *
flow_page_view_new (FlowDoc *page)
{
  FlowPageView *self;
  g_autofree char *text = NULL;

  g_return_val_if_fail (FLOW_IS_DOC (page), NULL);
  g_return_val_if_fail (flow_doc_get_kind (page) == FLOW_DOC_KIND_PAGE, NULL);

  self = g_object_new (FLOW_TYPE_PAGE_VIEW, NULL);
  self->doc = g_object_ref (page);
  text = flow_doc_dup_text (page);
  self->from_doc = TRUE;
  gtk_text_buffer_set_text (self->buffer, text, -1);
  self->from_doc = FALSE;
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->view), !flow_doc_is_read_only (page));
  self->watch = flow_doc_add_change_func (page, doc_changed_cb, self, NULL);
  return self;
}

FlowDoc *
flow_page_view_get_doc (FlowPageView *self)
{
  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), NULL);

  return self->doc;
}

GtkTextBuffer *
flow_page_view_get_buffer (FlowPageView *self)
{
  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), NULL);

  return self->buffer;
}

static gboolean
flow_page_view_grab_focus (GtkWidget *widget)
{
  return gtk_widget_grab_focus (GTK_WIDGET (FLOW_PAGE_VIEW (widget)->view));
}

static void
flow_page_view_dispose (GObject *object)
{
  FlowPageView *self = FLOW_PAGE_VIEW (object);

  if (self->doc != NULL)
    {
      flow_doc_remove_change_func (self->doc, self->watch);
      g_clear_object (&self->doc);
    }
  g_clear_pointer (&self->scroller, gtk_widget_unparent);

  G_OBJECT_CLASS (flow_page_view_parent_class)->dispose (object);
}

static void
flow_page_view_class_init (FlowPageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_page_view_dispose;
  widget_class->grab_focus = flow_page_view_grab_focus;
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flowpageview");
}

static void
flow_page_view_init (FlowPageView *self)
{
  GtkSourceLanguageManager *lm = gtk_source_language_manager_get_default ();
  GtkSourceLanguage *markdown = gtk_source_language_manager_get_language (lm, "markdown");
  g_autoptr(GtkSourceBuffer) buffer = gtk_source_buffer_new_with_language (markdown);

  self->buffer = GTK_TEXT_BUFFER (buffer);
  gtk_text_buffer_set_enable_undo (self->buffer, FALSE);
  self->view = GTK_SOURCE_VIEW (gtk_source_view_new_with_buffer (buffer));
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->view), 24);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (self->view), 24);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->view), 18);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (self->view), 18);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Page text"), -1);
  g_signal_connect (self->buffer, "insert-text", G_CALLBACK (insert_text_cb), self);
  g_signal_connect (self->buffer, "delete-range", G_CALLBACK (delete_range_cb), self);

  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->view));
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
}
