/* flow-page-view.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A page tab: a GtkSourceView bound both ways to the text CRDT, with live
 * Markdown styling, an outline, a word count and the page's history.
 *
 * Binding. Buffer edits become CRDT edits as they happen (GtkTextBuffer
 * counts in characters, which are code points, as the CRDT does), so
 * typing, paste, drag and drop, input methods and GtkSourceView's own
 * commands all arrive the same way. Changes from anywhere else (another
 * replica, undo, redo, a restore) arrive as text edits of a FlowChange and
 * are replayed into the buffer. Two flags keep the paths apart so that
 * nothing echoes. The buffer's own undo is off: undo is the document's,
 * which reverts only this user's edits. A replayed edit keeps the cursor
 * and selection next to the same characters; text arriving exactly at the
 * cursor goes after it, so the user's next keystroke lands where they were
 * typing.
 *
 * Styling. Lines are styled by flow-markdown-scan.c. The only state that
 * crosses lines is an open code fence, kept as a tag on each line inside
 * one, so an edit restyles its own lines and goes on only while the fence
 * state of the following lines changes.
 *
 * Presence. Other participants' carets and selections are text marks
 * placed at the code point offsets of their last PRESENCE, so they move
 * with every edit until the next update places them again. They are
 * drawn in the text view's ABOVE_TEXT layer (a small GtkSourceView
 * subclass), in buffer coordinates, for the visible lines only. Our own
 * caret and selection go out as "selection-moved".
 *
 * History. Version n is the first n ops of the page (as for boards); the
 * preview shows that text read-only in the same view, with the lines that
 * were removed or changed since in red and the lines added since in green
 * (flow-line-diff.c). Restoring writes the line differences as new edits,
 * one undo step, so unchanged lines keep their identity and merge with
 * concurrent edits.
 */

#define G_LOG_DOMAIN "flow-page-view"

#include "config.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <gtksourceview/gtksource.h>

#include "flow-history-bar.h"
#include "flow-line-diff.h"
#include "flow-links.h"
#include "flow-markdown-scan.h"
#include "flow-page-completion.h"
#include "flow-page-export.h"
#include "flow-page-view.h"
#include "flow-save-dialog.h"
#include "flow-catalog.h"
#include "flow-store-search.h"

#define RESTYLE_DELAY_MS 150
#define CARET_WIDTH      2
/* A caret's name flag shows while its owner works, then fades: it covers
 * the line above, which an idle participant should not hide. */
#define FLAG_SHOW_US     (3 * G_USEC_PER_SEC)
#define FLAG_FADE_US     (G_USEC_PER_SEC / 2)

/* One remote participant in this page. */
typedef struct
{
  FlowRemotePresence *p;
  GtkTextMark        *anchor;
  GtkTextMark        *cursor;
  PangoLayout        *label;     /* the name, created on first draw */
  gint64              moved_at;  /* monotonic µs of the last move */
} RemoteCaret;

/* The page's source view, drawing remote carets above the text. */
#define FLOW_TYPE_PRESENCE_SOURCE_VIEW (flow_presence_source_view_get_type ())
G_DECLARE_FINAL_TYPE (FlowPresenceSourceView, flow_presence_source_view, FLOW, PRESENCE_SOURCE_VIEW, GtkSourceView)

struct _FlowPresenceSourceView
{
  GtkSourceView  parent_instance;
  FlowPageView  *page;           /* unowned: the page owns the view */
};

G_DEFINE_FINAL_TYPE (FlowPresenceSourceView, flow_presence_source_view, GTK_SOURCE_TYPE_VIEW)

struct _FlowPageView
{
  GtkWidget      parent_instance;

  guint          show_tick;       /* re-scrolls until the shown offset is in view */
  guint          show_frames;
  GtkWidget     *box;
  GtkWidget     *scroller;
  GtkSourceView *view;
  GtkTextBuffer *buffer;        /* the page */
  GtkTextBuffer *preview_buffer;
  GtkWidget     *side_revealer;
  GtkListBox    *outline_list;
  GtkWidget     *words_label;
  GtkWidget     *outline_button;
  GtkWidget     *history_button;
  GtkWidget     *history_bar;

  GtkTextTag    *tags[FLOW_MD_N_KINDS];
  GtkTextTag    *fence_tag;
  GtkTextMark   *dirty_start;
  GtkTextMark   *dirty_end;
  gboolean       dirty;
  guint          restyle_source;
  int            styled_lines;      /* background styling has done lines < this */
  guint          background_source;
  guint          language_source;
  GtkTextTag    *link_tags[3];   /* FlowPageLinkKind: wiki, tag, issue */
  GtkTextTag    *removed_tag;
  GtkTextTag    *added_tag;

  GtkStringList *outline;
  GArray        *outline_offsets;  /* guint, char offset of each heading */
  guint          words;
  guint          stats_source;

  FlowDoc       *doc;
  FlowWorkspace *workspace;
  GtkListBox    *backlinks_list;
  GtkWidget     *backlinks_empty;
  GCancellable  *backlinks_cancel;
  gulong         committed_id;
  guint          backlinks_source;
  guint          catalog_watch;
  FlowDoc       *preview;
  guint          watch;
  guint          burst_watch;
  gboolean       in_burst;
  GArray        *burst_edits;   /* PendingEdit, merged, applied at the burst's end */
  guint          burst_cursor;
  guint          burst_bound;
  gboolean       from_buffer;  /* the CRDT edit being made comes from the buffer */
  gboolean       from_doc;     /* the buffer edit being made comes from the CRDT */
  gboolean       updating;

  GPtrArray     *remote;       /* RemoteCaret* */
  guint          flag_timer;   /* redraws while name flags fade */
  GArray        *remote_rects; /* GdkRectangle, reused by each frame */
  guint          sent_anchor, sent_cursor;
  gboolean       sent_selection;
};

G_DEFINE_FINAL_TYPE (FlowPageView, flow_page_view, GTK_TYPE_WIDGET)

enum {
  LINK_ACTIVATED,
  SELECTION_MOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------------
 * Live styling
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowPageView  *self;
  GtkTextBuffer *buffer;
  GtkTextIter    line_start;
  const char    *line;
} StyleCtx;

static void
apply_span_cb (FlowMdKind  kind,
               gsize       start,
               gsize       end,
               gpointer    user_data)
{
  StyleCtx *ctx = user_data;
  GtkTextIter s = ctx->line_start, e = ctx->line_start;

  if (end <= start)
    return;
  gtk_text_iter_forward_chars (&s, g_utf8_pointer_to_offset (ctx->line, ctx->line + start));
  gtk_text_iter_forward_chars (&e, g_utf8_pointer_to_offset (ctx->line, ctx->line + end));
  gtk_text_buffer_apply_tag (ctx->buffer, ctx->self->tags[kind], &s, &e);
}

static void
remove_style (FlowPageView  *self,
              GtkTextBuffer *buffer,
              GtkTextIter   *start,
              GtkTextIter   *end)
{
  for (guint k = 0; k < FLOW_MD_N_KINDS; k++)
    gtk_text_buffer_remove_tag (buffer, self->tags[k], start, end);
  for (guint k = 0; k < G_N_ELEMENTS (self->link_tags); k++)
    gtk_text_buffer_remove_tag (buffer, self->link_tags[k], start, end);
  gtk_text_buffer_remove_tag (buffer, self->fence_tag, start, end);
}

/* Styles one line; returns whether a fence is open after it. */
static gboolean
style_line (FlowPageView  *self,
            GtkTextBuffer *buffer,
            int            line_no,
            gboolean       in_fence)
{
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  StyleCtx ctx;
  gboolean open;

  gtk_text_buffer_get_iter_at_line (buffer, &start, line_no);
  end = start;
  if (!gtk_text_iter_ends_line (&end))
    gtk_text_iter_forward_to_line_end (&end);
  text = gtk_text_buffer_get_slice (buffer, &start, &end, TRUE);

  {
    GtkTextIter next = end;

    gtk_text_iter_forward_line (&next);
    remove_style (self, buffer, &start, &next);
    ctx = (StyleCtx) { self, buffer, start, text };
    open = flow_markdown_scan_line (text, strlen (text), in_fence, apply_span_cb, &ctx);
    /* The tag records what the line was styled with (inside a fence or
     * not), so a later restyle can tell where the old styling still
     * holds, even after lines were joined or split. */
    if (in_fence)
      gtk_text_buffer_apply_tag (buffer, self->fence_tag, &start, &next);
    if (!in_fence && !open)
      {
        g_autoptr(GArray) links = flow_links_extract (text, -1);

        for (guint i = 0; i < links->len; i++)
          {
            const FlowPageLink *link = &g_array_index (links, FlowPageLink, i);
            GtkTextIter ls = start, le = start;

            gtk_text_iter_forward_chars (&ls, link->start);
            gtk_text_iter_forward_chars (&le, link->end);
            gtk_text_buffer_apply_tag (buffer, self->link_tags[link->kind], &ls, &le);
          }
      }
  }
  return open;
}

/* Whether @line_no was styled as inside a code fence. */
static gboolean
line_fence_in (FlowPageView  *self,
               GtkTextBuffer *buffer,
               int            line_no)
{
  GtkTextIter it;

  gtk_text_buffer_get_iter_at_line (buffer, &it, line_no);
  return gtk_text_iter_has_tag (&it, self->fence_tag);
}

static void
no_span_cb (FlowMdKind kind,
            gsize      start,
            gsize      end,
            gpointer   user_data)
{
}

/* Whether a fence is open after @line_no, given what it was styled with. */
static gboolean
line_open_after (FlowPageView  *self,
                 GtkTextBuffer *buffer,
                 int            line_no)
{
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  if (line_no < 0)
    return FALSE;
  gtk_text_buffer_get_iter_at_line (buffer, &start, line_no);
  end = start;
  if (!gtk_text_iter_ends_line (&end))
    gtk_text_iter_forward_to_line_end (&end);
  text = gtk_text_buffer_get_slice (buffer, &start, &end, TRUE);
  return flow_markdown_scan_line (text, strlen (text), line_fence_in (self, buffer, line_no),
                                  no_span_cb, NULL);
}

/* Restyles lines first..last, then on while the lines after were styled
 * with another fence state than they now get. */
static void
restyle_lines (FlowPageView  *self,
               GtkTextBuffer *buffer,
               int            first,
               int            last)
{
  int n_lines = gtk_text_buffer_get_line_count (buffer);
  gboolean open = line_open_after (self, buffer, first - 1);

  for (int l = MAX (first, 0); l < n_lines; l++)
    {
      if (l > last && line_fence_in (self, buffer, l) == open)
        break;
      open = style_line (self, buffer, l, open);
    }
}

static void
restyle_all (FlowPageView  *self,
             GtkTextBuffer *buffer)
{
  restyle_lines (self, buffer, 0, gtk_text_buffer_get_line_count (buffer));
}

/* Opening a long page styles the first screenful at once and the rest in
 * slices of a few milliseconds between frames, top to bottom (the fence
 * state flows downwards). Edits meanwhile restyle their own lines as
 * usual; the background pass restyles whatever it reaches. */
#define OPEN_LINES      120
#define SLICE_BUDGET_US 4000

static gboolean
background_style_cb (gpointer data)
{
  FlowPageView *self = data;
  gint64 end = g_get_monotonic_time () + SLICE_BUDGET_US;
  int n_lines = gtk_text_buffer_get_line_count (self->buffer);
  gboolean open = line_open_after (self, self->buffer, self->styled_lines - 1);

  while (self->styled_lines < n_lines)
    {
      open = style_line (self, self->buffer, self->styled_lines++, open);
      if ((self->styled_lines & 31) == 0 && g_get_monotonic_time () > end)
        return G_SOURCE_CONTINUE;
    }
  self->background_source = 0;
  return G_SOURCE_REMOVE;
}

static void
start_background_styling (FlowPageView *self)
{
  self->styled_lines = 0;
  g_clear_handle_id (&self->background_source, g_source_remove);
  {
    gboolean open = FALSE;
    int n_lines = gtk_text_buffer_get_line_count (self->buffer);

    while (self->styled_lines < MIN (n_lines, OPEN_LINES))
      open = style_line (self, self->buffer, self->styled_lines++, open);
  }
  if (self->styled_lines < gtk_text_buffer_get_line_count (self->buffer))
    self->background_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, background_style_cb, self, NULL);
}

/* Edits mark the lines they touch; the marks move with later edits, and
 * one restyle runs before the next frame is drawn. A burst of remote
 * edits (catching up on a page) costs one pass over what changed, not a
 * pass per edit. */
static gboolean
restyle_idle_cb (gpointer data)
{
  FlowPageView *self = data;
  GtkTextIter start, end;

  self->restyle_source = 0;
  gtk_text_buffer_get_iter_at_mark (self->buffer, &start, self->dirty_start);
  gtk_text_buffer_get_iter_at_mark (self->buffer, &end, self->dirty_end);
  self->dirty = FALSE;
  restyle_lines (self, self->buffer, gtk_text_iter_get_line (&start), gtk_text_iter_get_line (&end));
  return G_SOURCE_REMOVE;
}

static void
mark_dirty (FlowPageView *self,
            GtkTextIter  *start,
            GtkTextIter  *end)
{
  if (!self->dirty)
    {
      gtk_text_buffer_move_mark (self->buffer, self->dirty_start, start);
      gtk_text_buffer_move_mark (self->buffer, self->dirty_end, end);
      self->dirty = TRUE;
    }
  else
    {
      GtkTextIter s, e;

      gtk_text_buffer_get_iter_at_mark (self->buffer, &s, self->dirty_start);
      gtk_text_buffer_get_iter_at_mark (self->buffer, &e, self->dirty_end);
      if (gtk_text_iter_compare (start, &s) < 0)
        gtk_text_buffer_move_mark (self->buffer, self->dirty_start, start);
      if (gtk_text_iter_compare (end, &e) > 0)
        gtk_text_buffer_move_mark (self->buffer, self->dirty_end, end);
    }
  if (self->restyle_source == 0)
    self->restyle_source = g_idle_add_full (G_PRIORITY_HIGH_IDLE, restyle_idle_cb, self, NULL);
}

/* ------------------------------------------------------------------------
 * Word count and outline, recomputed shortly after edits stop
 * ------------------------------------------------------------------------ */

static void
outline_row_activated_cb (GtkListBox    *list,
                          GtkListBoxRow *row,
                          FlowPageView  *self)
{
  guint i = gtk_list_box_row_get_index (row);

  if (i < self->outline_offsets->len)
    flow_page_view_scroll_to_offset (self, g_array_index (self->outline_offsets, guint, i));
}

static void
update_stats (FlowPageView *self)
{
  GtkTextBuffer *buffer = self->buffer;
  GtkTextIter start, end;
  g_autofree char *text = NULL;
  g_autofree char *label = NULL;
  g_autoptr(GPtrArray) titles = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *child;
  const char *p;
  gboolean in_fence = FALSE;
  guint offset = 0;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  self->words = flow_markdown_count_words (text, -1);
  /* translators: the number of words on a page */
  label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u word", "%u words", self->words), self->words);
  gtk_label_set_text (GTK_LABEL (self->words_label), label);

  /* Headings outside code fences make the outline. */
  g_array_set_size (self->outline_offsets, 0);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->outline_list))) != NULL)
    gtk_list_box_remove (self->outline_list, child);
  p = text;
  while (*p)
    {
      const char *nl = strchr (p, '\n');
      gsize len = nl ? (gsize) (nl - p) : strlen (p);
      int level = in_fence ? 0 : flow_markdown_heading_level (p, len);
      guint chars = g_utf8_strlen (p, len);

      if (len >= 3 && (strncmp (p + strspn (p, " "), "```", 3) == 0 || strncmp (p + strspn (p, " "), "~~~", 3) == 0))
        in_fence = !in_fence;
      else if (level > 0)
        {
          const char *title = p + strspn (p, " ") + level;
          g_autofree char *t = g_strstrip (g_strndup (title, p + len - title));
          GtkWidget *row_label = gtk_label_new (t[0] ? t : _("(untitled heading)"));

          gtk_label_set_xalign (GTK_LABEL (row_label), 0);
          gtk_label_set_ellipsize (GTK_LABEL (row_label), PANGO_ELLIPSIZE_END);
          gtk_widget_set_margin_start (row_label, 6 + 12 * (level - 1));
          gtk_widget_set_margin_top (row_label, 3);
          gtk_widget_set_margin_bottom (row_label, 3);
          if (level == 1)
            gtk_widget_add_css_class (row_label, "heading");
          gtk_list_box_append (self->outline_list, row_label);
          g_array_append_val (self->outline_offsets, offset);
          g_ptr_array_add (titles, g_steal_pointer (&t));
        }
      offset += chars + (nl ? 1 : 0);
      if (nl == NULL)
        break;
      p = nl + 1;
    }
  g_ptr_array_add (titles, NULL);
  gtk_string_list_splice (self->outline, 0, g_list_model_get_n_items (G_LIST_MODEL (self->outline)),
                          (const char * const *) titles->pdata);
}

static gboolean
stats_timeout_cb (gpointer data)
{
  FlowPageView *self = data;

  self->stats_source = 0;
  update_stats (self);
  return G_SOURCE_REMOVE;
}

static void
queue_stats (FlowPageView *self)
{
  if (self->stats_source == 0)
    self->stats_source = g_timeout_add (RESTYLE_DELAY_MS, stats_timeout_cb, self);
}

/* ------------------------------------------------------------------------
 * Binding
 * ------------------------------------------------------------------------ */

static void
report (FlowPageView *self,
        GError       *error)
{
  /* The doc refused (a read-only checkout, or an internal limit): the
   * buffer and the doc now differ, so bring the buffer back to the doc. */
  g_autofree char *text = flow_doc_dup_text (self->doc);

  g_warning ("Page edit refused: %s", error->message);
  self->from_doc = TRUE;
  gtk_text_buffer_set_text (self->buffer, text, -1);
  restyle_all (self, self->buffer);
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
insert_text_after_cb (GtkTextBuffer *buffer,
                      GtkTextIter   *location,
                      const char    *text,
                      int            len,
                      FlowPageView  *self)
{
  GtkTextIter start = *location;

  gtk_text_iter_backward_chars (&start, g_utf8_strlen (text, len));
  mark_dirty (self, &start, location);
  queue_stats (self);
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
delete_range_after_cb (GtkTextBuffer *buffer,
                       GtkTextIter   *start,
                       GtkTextIter   *end,
                       FlowPageView  *self)
{
  mark_dirty (self, start, end);
  queue_stats (self);
}

/* Where an offset goes when an edit happens at @pos: after the edit if it
 * was after it; text inserted exactly at it goes after it. */
static guint
map_offset (guint o,
            guint pos,
            guint removed,
            guint inserted)
{
  if (o > pos + removed)
    return o - removed + inserted;
  if (o > pos)
    return pos;
  return o;
}

/* During a burst (flow_doc_begin_burst(): many remote changes in one
 * main-loop turn) edits are collected and merged, typing runs into one
 * insert and backspace runs into one delete, and reach the buffer in one
 * go at the burst's end. Nothing can edit the buffer meanwhile: a burst
 * does not run the main loop. */
typedef struct
{
  guint    pos;
  guint    removed;
  guint    inserted_chars;
  GString *inserted;
} PendingEdit;

static void
pending_edit_clear (gpointer data)
{
  PendingEdit *e = data;

  if (e->inserted != NULL)
    g_string_free (e->inserted, TRUE);
}

static void
collect_edit (FlowPageView       *self,
              const FlowTextEdit *edit)
{
  PendingEdit *last = self->burst_edits->len
    ? &g_array_index (self->burst_edits, PendingEdit, self->burst_edits->len - 1) : NULL;

  self->burst_cursor = map_offset (self->burst_cursor, edit->pos, edit->removed, edit->inserted_chars);
  self->burst_bound = map_offset (self->burst_bound, edit->pos, edit->removed, edit->inserted_chars);

  if (last != NULL && edit->removed == 0 && edit->pos == last->pos + last->inserted_chars)
    {
      g_string_append_len (last->inserted, edit->inserted, edit->inserted_len);
      last->inserted_chars += edit->inserted_chars;
      return;
    }
  if (last != NULL && edit->inserted_len == 0 && last->inserted_chars == 0)
    {
      if (edit->pos + edit->removed == last->pos)
        {
          last->pos = edit->pos;
          last->removed += edit->removed;
          return;
        }
      if (edit->pos == last->pos)
        {
          last->removed += edit->removed;
          return;
        }
    }
  g_array_append_val (self->burst_edits, ((PendingEdit) {
    edit->pos, edit->removed, edit->inserted_chars,
    g_string_new_len (edit->inserted, edit->inserted_len),
  }));
}

static void
place_selection (FlowPageView *self,
                 guint         cursor,
                 guint         bound)
{
  GtkTextIter ci, bi;

  /* The marks already moved with the text; only an insert exactly at them
   * leaves them on the wrong side. Moving marks is costly (the view
   * reacts to each), so only do it when needed. */
  gtk_text_buffer_get_iter_at_mark (self->buffer, &ci, gtk_text_buffer_get_insert (self->buffer));
  gtk_text_buffer_get_iter_at_mark (self->buffer, &bi, gtk_text_buffer_get_selection_bound (self->buffer));
  if ((guint) gtk_text_iter_get_offset (&ci) != cursor || (guint) gtk_text_iter_get_offset (&bi) != bound)
    {
      gtk_text_buffer_get_iter_at_offset (self->buffer, &ci, cursor);
      gtk_text_buffer_get_iter_at_offset (self->buffer, &bi, bound);
      gtk_text_buffer_select_range (self->buffer, &ci, &bi);
    }
}

static void
burst_cb (FlowDoc  *doc,
          gboolean  starting,
          gpointer  user_data)
{
  FlowPageView *self = user_data;
  GtkTextIter it;

  if (starting)
    {
      self->in_burst = TRUE;
      gtk_text_buffer_get_iter_at_mark (self->buffer, &it, gtk_text_buffer_get_insert (self->buffer));
      self->burst_cursor = gtk_text_iter_get_offset (&it);
      gtk_text_buffer_get_iter_at_mark (self->buffer, &it, gtk_text_buffer_get_selection_bound (self->buffer));
      self->burst_bound = gtk_text_iter_get_offset (&it);
      return;
    }

  self->in_burst = FALSE;
  if (self->burst_edits->len == 0)
    return;
  self->from_doc = TRUE;
  for (guint i = 0; i < self->burst_edits->len; i++)
    {
      const PendingEdit *e = &g_array_index (self->burst_edits, PendingEdit, i);
      GtkTextIter start, end;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &start, e->pos);
      if (e->removed > 0)
        {
          gtk_text_buffer_get_iter_at_offset (self->buffer, &end, e->pos + e->removed);
          gtk_text_buffer_delete (self->buffer, &start, &end);
        }
      if (e->inserted->len > 0)
        gtk_text_buffer_insert (self->buffer, &start, e->inserted->str, e->inserted->len);
    }
  self->from_doc = FALSE;
  g_array_set_size (self->burst_edits, 0);
  place_selection (self, self->burst_cursor, self->burst_bound);
}

static void
doc_changed_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  FlowPageView *self = user_data;
  const FlowTextEdit *edits;
  guint n_edits;
  GtkTextIter it;
  guint cursor, bound;

  if (self->from_buffer)
    return;

  edits = flow_change_get_text_edits (change, &n_edits);
  if (n_edits == 0)
    return;
  if (self->in_burst)
    {
      for (guint i = 0; i < n_edits; i++)
        collect_edit (self, &edits[i]);
      return;
    }
  gtk_text_buffer_get_iter_at_mark (self->buffer, &it, gtk_text_buffer_get_insert (self->buffer));
  cursor = gtk_text_iter_get_offset (&it);
  gtk_text_buffer_get_iter_at_mark (self->buffer, &it, gtk_text_buffer_get_selection_bound (self->buffer));
  bound = gtk_text_iter_get_offset (&it);

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
      cursor = map_offset (cursor, edits[i].pos, edits[i].removed, edits[i].inserted_chars);
      bound = map_offset (bound, edits[i].pos, edits[i].removed, edits[i].inserted_chars);
    }
  self->from_doc = FALSE;

  /* Only local undo/redo moves the cursor to the edit; everything else
   * leaves it where the user had it. */
  if (!flow_change_is_local (change) || self->preview != NULL)
    place_selection (self, cursor, bound);
  else
    {
      GtkTextIter ci;

      gtk_text_buffer_get_iter_at_offset (self->buffer, &ci,
                                          edits[n_edits - 1].pos + edits[n_edits - 1].inserted_chars);
      gtk_text_buffer_place_cursor (self->buffer, &ci);
      gtk_text_view_scroll_mark_onscreen (GTK_TEXT_VIEW (self->view), gtk_text_buffer_get_insert (self->buffer));
    }
}

/* Ctrl+click on a [[link]], #tag or issue key (or a Markdown link) asks
 * the window to follow it. */
/* A web address under @col in @line: inside [text](url), <url>, or bare. */
static char *
url_at (const char *line,
        guint       col)
{
  glong n_chars = g_utf8_strlen (line, -1);
  const char *at;
  const char *start, *end;

  if (col >= (guint) n_chars)
    return NULL;
  at = g_utf8_offset_to_pointer (line, col);

  /* [text](url): from the "[" to the ")". */
  for (const char *p = strstr (line, "]("); p != NULL; p = strstr (p + 2, "]("))
    {
      const char *open = p;
      const char *close = strchr (p + 2, ')');

      while (open > line && *open != '[')
        open--;
      if (close != NULL && *open == '[' && at >= open && at <= close)
        return g_strndup (p + 2, close - (p + 2));
    }
  /* A bare or <bracketed> address. */
  start = at;
  while (start > line && !g_ascii_isspace (start[-1]) && start[-1] != '<' && start[-1] != '(')
    start--;
  end = at;
  while (*end && !g_ascii_isspace (*end) && *end != '>' && *end != ')')
    end++;
  while (end > start && strchr (".,;:!?", end[-1]) != NULL)
    end--;
  if (g_str_has_prefix (start, "https://") || g_str_has_prefix (start, "http://"))
    return g_strndup (start, end - start);
  return NULL;
}

static gboolean
link_at (FlowPageView  *self,
         GtkTextIter   *iter,
         FlowPageLinkKind  *kind,
         char         **target)
{
  GtkTextIter start = *iter, end;
  g_autofree char *line = NULL;
  g_autoptr(GArray) links = NULL;
  guint col;

  gtk_text_iter_set_line_offset (&start, 0);
  end = start;
  if (!gtk_text_iter_ends_line (&end))
    gtk_text_iter_forward_to_line_end (&end);
  line = gtk_text_buffer_get_slice (gtk_text_iter_get_buffer (iter), &start, &end, TRUE);
  col = gtk_text_iter_get_line_offset (iter);
  links = flow_links_extract (line, -1);
  for (guint i = 0; i < links->len; i++)
    {
      FlowPageLink *link = &g_array_index (links, FlowPageLink, i);

      if (col >= link->start && col < link->end)
        {
          *kind = link->kind;
          *target = g_steal_pointer (&link->target);
          return TRUE;
        }
    }
  if ((*target = url_at (line, col)) != NULL)
    {
      *kind = FLOW_PAGE_LINK_URL;
      return TRUE;
    }
  return FALSE;
}

static void
click_pressed_cb (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  FlowPageView    *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  g_autofree char *target = NULL;
  FlowPageLinkKind kind;
  GtkTextIter iter;
  int bx, by;

  if (!(state & GDK_CONTROL_MASK) || n_press != 1)
    return;
  gtk_text_view_window_to_buffer_coords (GTK_TEXT_VIEW (self->view), GTK_TEXT_WINDOW_WIDGET,
                                         (int) x, (int) y, &bx, &by);
  if (!gtk_text_view_get_iter_at_location (GTK_TEXT_VIEW (self->view), &iter, bx, by))
    return;
  if (link_at (self, &iter, &kind, &target))
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
      g_signal_emit (self, signals[LINK_ACTIVATED], 0, (int) kind, target);
    }
}

/**
 * flow_page_view_activate_link_at:
 * @self: a page view
 * @offset: a character offset in the page
 *
 * Follows the link at @offset, as Ctrl+click does.
 *
 * Returns: %TRUE if there was a link
 */
gboolean
flow_page_view_activate_link_at (FlowPageView *self,
                                 guint         offset)
{
  g_autofree char *target = NULL;
  FlowPageLinkKind kind;
  GtkTextIter iter;

  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), FALSE);

  gtk_text_buffer_get_iter_at_offset (self->buffer, &iter, offset);
  if (!link_at (self, &iter, &kind, &target))
    return FALSE;
  g_signal_emit (self, signals[LINK_ACTIVATED], 0, (int) kind, target);
  return TRUE;
}

/* Ctrl+Z and friends belong to the window's undo, which is the document's;
 * GtkTextView would otherwise take them for its own (disabled) undo. */
static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                FlowPageView          *self)
{
  state &= gtk_accelerator_get_default_mod_mask ();
  if (state == GDK_CONTROL_MASK && (keyval == GDK_KEY_z || keyval == GDK_KEY_Z))
    return gtk_widget_activate_action (GTK_WIDGET (self), "win.undo", NULL);
  if ((state == (GDK_CONTROL_MASK | GDK_SHIFT_MASK) && (keyval == GDK_KEY_z || keyval == GDK_KEY_Z)) ||
      (state == GDK_CONTROL_MASK && keyval == GDK_KEY_y))
    return gtk_widget_activate_action (GTK_WIDGET (self), "win.redo", NULL);
  return GDK_EVENT_PROPAGATE;
}

/* ------------------------------------------------------------------------
 * History
 * ------------------------------------------------------------------------ */

static void
show_live (FlowPageView *self)
{
  g_clear_object (&self->preview);
  gtk_text_view_set_buffer (GTK_TEXT_VIEW (self->view), self->buffer);
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->view), !flow_doc_is_read_only (self->doc));
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  flow_history_bar_set_position (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  queue_stats (self);
}

/* The preview buffer shows the old text with what changed since marked:
 * lines gone or changed since in red, lines added since in green. */
static void
fill_preview (FlowPageView *self,
              const char   *old_text,
              const char   *now_text)
{
  g_autoptr(GArray) hunks = flow_line_diff (old_text, now_text);
  GtkTextBuffer *buffer = self->preview_buffer;
  GtkTextIter end;

  gtk_text_buffer_set_text (buffer, "", 0);
  for (guint i = 0; i < hunks->len; i++)
    {
      const FlowDiffHunk *h = &g_array_index (hunks, FlowDiffHunk, i);
      const char *src = h->kind == FLOW_DIFF_ADDED ? now_text : old_text;

      gtk_text_buffer_get_end_iter (buffer, &end);
      if (h->kind == FLOW_DIFF_SAME)
        gtk_text_buffer_insert (buffer, &end, src + h->start, h->end - h->start);
      else
        gtk_text_buffer_insert_with_tags (buffer, &end, src + h->start, h->end - h->start,
                                          h->kind == FLOW_DIFF_REMOVED ? self->removed_tag : self->added_tag,
                                          NULL);
    }
  restyle_all (self, buffer);
}

/**
 * flow_page_view_preview_version:
 * @self: a page view
 * @n_ops: how many ops of the page's history to show; the total shows the
 *   live page again
 *
 * Returns: %TRUE if the view now shows that version
 */
gboolean
flow_page_view_preview_version (FlowPageView *self,
                                guint64       n_ops)
{
  g_autoptr(FlowVersionVector) version = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *old_text = NULL;
  g_autofree char *now_text = NULL;
  FlowDoc *checkout;

  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), FALSE);

  if (n_ops >= flow_doc_get_n_ops (self->doc))
    {
      if (self->preview != NULL)
        show_live (self);
      return TRUE;
    }
  version = flow_doc_dup_version_at (self->doc, n_ops);
  checkout = version ? flow_doc_checkout (self->doc, version, &error) : NULL;
  if (checkout == NULL)
    {
      if (error != NULL)
        {
          g_autofree char *msg = g_strdup_printf (_("Could not show that version: %s"), error->message);

          gtk_widget_activate_action (GTK_WIDGET (self), "win.show-error", "s", msg);
        }
      return FALSE;
    }
  g_clear_object (&self->preview);
  self->preview = checkout;
  old_text = flow_doc_dup_text (checkout);
  now_text = flow_doc_dup_text (self->doc);
  fill_preview (self, old_text, now_text);
  gtk_text_view_set_buffer (GTK_TEXT_VIEW (self->view), self->preview_buffer);
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->view), FALSE);
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  flow_history_bar_set_position (FLOW_HISTORY_BAR (self->history_bar), n_ops);
  return TRUE;
}

/**
 * flow_page_view_restore_preview:
 * @self: a page view showing a preview
 * @error: return location for a #GError
 *
 * Makes the page's text what it was at the previewed version, as new
 * line edits in one change, and shows the live page again.
 */
gboolean
flow_page_view_restore_preview (FlowPageView  *self,
                                GError       **error)
{
  g_autofree char *old_text = NULL;
  g_autofree char *now_text = NULL;
  g_autoptr(GArray) hunks = NULL;
  guint pos = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), FALSE);
  g_return_val_if_fail (self->preview != NULL, FALSE);

  old_text = flow_doc_dup_text (self->preview);
  now_text = flow_doc_dup_text (self->doc);
  /* From now back to then: what was added since goes, what was removed
   * since comes back. */
  hunks = flow_line_diff (now_text, old_text);
  flow_doc_begin_change (self->doc);
  for (guint i = 0; i < hunks->len && ok; i++)
    {
      const FlowDiffHunk *h = &g_array_index (hunks, FlowDiffHunk, i);

      switch (h->kind)
        {
        case FLOW_DIFF_SAME:
          pos += g_utf8_strlen (now_text + h->start, h->end - h->start);
          break;
        case FLOW_DIFF_REMOVED:
          ok = flow_doc_delete_text (self->doc, pos, g_utf8_strlen (now_text + h->start, h->end - h->start), error);
          break;
        case FLOW_DIFF_ADDED:
          ok = flow_doc_insert_text (self->doc, pos, old_text + h->start, h->end - h->start, error);
          pos += g_utf8_strlen (old_text + h->start, h->end - h->start);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  flow_doc_end_change (self->doc);
  if (!ok)
    return FALSE;
  flow_page_view_show_history (self, FALSE);
  return TRUE;
}

static void
history_preview_cb (FlowPageView *self,
                    guint64       n)
{
  flow_page_view_preview_version (self, n);
}

static void
restore_clicked_cb (FlowPageView *self)
{
  g_autoptr(GError) error = NULL;

  if (self->preview != NULL && !flow_page_view_restore_preview (self, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not restore that version: %s"), error->message);

      gtk_widget_activate_action (GTK_WIDGET (self), "win.show-error", "s", msg);
    }
}

/**
 * flow_page_view_show_history:
 * @self: a page view
 * @show: show or hide the history bar; hiding returns to the live page
 */
void
flow_page_view_show_history (FlowPageView *self,
                             gboolean      show)
{
  g_return_if_fail (FLOW_IS_PAGE_VIEW (self));

  self->updating = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->history_button), show);
  self->updating = FALSE;
  if (!show && self->preview != NULL)
    show_live (self);
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  flow_history_bar_set_revealed (FLOW_HISTORY_BAR (self->history_bar), show);
}

static void
history_toggled_cb (GtkToggleButton *button,
                    FlowPageView    *self)
{
  if (!self->updating)
    flow_page_view_show_history (self, gtk_toggle_button_get_active (button));
}

static void
close_history_cb (FlowPageView *self)
{
  flow_page_view_show_history (self, FALSE);
}

/* ------------------------------------------------------------------------
 * Backlinks: the pages whose [[links]] name this page's title
 * ------------------------------------------------------------------------ */

static void
backlink_row_activated_cb (GtkListBox    *list,
                           GtkListBoxRow *row,
                           FlowPageView  *self)
{
  const char *title = g_object_get_data (G_OBJECT (row), "flow-title");

  if (title != NULL)
    g_signal_emit (self, signals[LINK_ACTIVATED], 0, (int) FLOW_PAGE_LINK_WIKI, title);
}

static void
backlinks_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(FlowPageView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = flow_store_backlinks_finish (FLOW_STORE (source), result, &error);
  GtkWidget *child;
  FlowDoc *catalog;

  if (ids == NULL || self->workspace == NULL || self->doc == NULL)
    return;
  catalog = flow_workspace_get_catalog (self->workspace);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->backlinks_list))) != NULL)
    gtk_list_box_remove (self->backlinks_list, child);
  for (guint i = 0; i < ids->len; i++)
    {
      const FlowOpId *id = &g_array_index (ids, FlowOpId, i);
      FlowCatalogEntry entry;
      GtkWidget *row, *label;

      if (flow_op_id_equal (id, flow_doc_get_id (self->doc)) || !flow_catalog_get (catalog, id, &entry))
        continue;
      label = gtk_label_new (entry.title);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
      gtk_widget_set_margin_start (label, 6);
      gtk_widget_set_margin_top (label, 3);
      gtk_widget_set_margin_bottom (label, 3);
      row = gtk_list_box_row_new ();
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), label);
      g_object_set_data_full (G_OBJECT (row), "flow-title", g_strdup (entry.title), g_free);
      gtk_list_box_append (self->backlinks_list, row);
      flow_catalog_entry_clear (&entry);
    }
  gtk_widget_set_visible (self->backlinks_empty,
                          gtk_widget_get_first_child (GTK_WIDGET (self->backlinks_list)) == NULL);
}

static void
refresh_backlinks (FlowPageView *self)
{
  FlowCatalogEntry entry;

  if (self->workspace == NULL || self->doc == NULL ||
      !flow_catalog_get (flow_workspace_get_catalog (self->workspace), flow_doc_get_id (self->doc), &entry))
    return;
  g_cancellable_cancel (self->backlinks_cancel);
  g_clear_object (&self->backlinks_cancel);
  self->backlinks_cancel = g_cancellable_new ();
  flow_store_backlinks_async (flow_workspace_get_store (self->workspace), entry.title,
                              self->backlinks_cancel, backlinks_cb, g_object_ref (self));
  flow_catalog_entry_clear (&entry);
}

static void
catalog_changed_cb (FlowDoc    *catalog,
                    FlowChange *change,
                    gpointer    user_data)
{
  refresh_backlinks (user_data);
}

static void
focus_enter_cb (FlowPageView *self)
{
  refresh_backlinks (self);
}

/* Other pages gain and lose links to this one as they are edited; the
 * panel follows a second after edits are saved. */
static gboolean
backlinks_timeout_cb (gpointer data)
{
  FlowPageView *self = data;

  self->backlinks_source = 0;
  refresh_backlinks (self);
  return G_SOURCE_REMOVE;
}

static void
store_committed_cb (FlowPageView *self)
{
  /* A query makes the index catch up, which is work for the writer: wait
   * for edits to pause. */
  g_clear_handle_id (&self->backlinks_source, g_source_remove);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->backlinks_source = g_timeout_add (1500, backlinks_timeout_cb, self);
}

/**
 * flow_page_view_set_workspace:
 * @self: a page view
 * @workspace: the page's workspace
 *
 * Gives the view what it needs beyond the page: titles for [[link]]
 * completion and the search index for backlinks.
 */
void
flow_page_view_set_workspace (FlowPageView  *self,
                              FlowWorkspace *workspace)
{
  g_return_if_fail (FLOW_IS_PAGE_VIEW (self));
  g_return_if_fail (self->workspace == NULL);

  self->workspace = g_object_ref (workspace);
  self->catalog_watch = flow_doc_add_change_func (flow_workspace_get_catalog (workspace),
                                                  catalog_changed_cb, self, NULL);
  self->committed_id = g_signal_connect_object (flow_workspace_get_store (workspace), "committed",
                                               G_CALLBACK (store_committed_cb), self, G_CONNECT_SWAPPED);
  {
    /* The completion takes its own reference. */
    g_autoptr(FlowPageCompletion) completion = flow_page_completion_new (workspace);

    gtk_source_completion_add_provider (gtk_source_view_get_completion (self->view),
                                        GTK_SOURCE_COMPLETION_PROVIDER (completion));
  }
  refresh_backlinks (self);
}

/* ------------------------------------------------------------------------
 * Export: Markdown, HTML (cmark) and PDF (Pango on a cairo PDF surface),
 * rendered in memory, then written asynchronously where the user chooses
 * ------------------------------------------------------------------------ */

static char *
page_title (FlowPageView *self)
{
  FlowCatalogEntry entry;
  char *title;

  if (self->workspace == NULL ||
      !flow_catalog_get (flow_workspace_get_catalog (self->workspace), flow_doc_get_id (self->doc), &entry))
    return g_strdup (_("Page"));
  title = g_strdup (entry.title);
  flow_catalog_entry_clear (&entry);
  return title;
}

/**
 * flow_page_view_export:
 * @self: a page view
 * @format: "md", "html" or "pdf"
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the page (or the history preview
 *   being shown) in that format
 */
GBytes *
flow_page_view_export (FlowPageView  *self,
                       const char    *format,
                       GError       **error)
{
  g_autofree char *text = flow_doc_dup_text (self->preview ? self->preview : self->doc);
  g_autofree char *title = page_title (self);

  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), NULL);

  if (g_str_equal (format, "md"))
    {
      gsize len = strlen (text);

      return g_bytes_new_take (g_steal_pointer (&text), len);
    }
  if (g_str_equal (format, "html"))
    return flow_page_export_html (text, title, error);
  if (g_str_equal (format, "pdf"))
    {
      g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (!flow_page_export_pdf (text, title, out, error) || !g_output_stream_close (out, NULL, error))
        return NULL;
      return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Unknown export format “%s”", format);
  return NULL;
}

static void
export_action_cb (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  FlowPageView *self = FLOW_PAGE_VIEW (widget);
  const char *format = g_variant_get_string (param, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = flow_page_view_export (self, format, &error);
  g_autofree char *title = page_title (self);
  g_autofree char *name = NULL;

  if (bytes == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Could not export the page: %s"), error->message);

      gtk_widget_activate_action (widget, "win.show-error", "s", msg);
      return;
    }
  g_strdelimit (title, "/\\", '-');
  name = g_strdup_printf ("%s.%s", title, format);
  flow_save_dialog_run (widget, _("Export Page"), name, bytes);
}

/* ------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------ */

/**
 * flow_page_view_scroll_to_offset:
 * @self: a page view
 * @offset: a character offset in the page
 *
 * Puts the cursor there and scrolls it into view.
 */
void
flow_page_view_scroll_to_offset (FlowPageView *self,
                                 guint         offset)
{
  GtkTextIter it;

  g_return_if_fail (FLOW_IS_PAGE_VIEW (self));

  gtk_text_buffer_get_iter_at_offset (self->buffer, &it, offset);
  gtk_text_buffer_place_cursor (self->buffer, &it);
  gtk_text_view_scroll_to_mark (GTK_TEXT_VIEW (self->view), gtk_text_buffer_get_insert (self->buffer),
                                0.1, TRUE, 0.0, 0.2);
  gtk_widget_grab_focus (GTK_WIDGET (self->view));
}

static gboolean
mark_in_view (FlowPageView *self,
              GtkTextMark  *mark)
{
  GtkTextIter it;
  GdkRectangle where, visible;

  gtk_text_buffer_get_iter_at_mark (self->buffer, &it, mark);
  gtk_text_view_get_iter_location (GTK_TEXT_VIEW (self->view), &it, &where);
  gtk_text_view_get_visible_rect (GTK_TEXT_VIEW (self->view), &visible);
  return visible.height > 0 && where.y >= visible.y && where.y + where.height <= visible.y + visible.height;
}

/* A view that was just created has no size and an unmeasured text, and
 * scrolling then lands nowhere: try again on the next frames until the
 * offset is on screen, for a second at most. */
static gboolean
show_tick_cb (GtkWidget     *widget,
              GdkFrameClock *clock,
              gpointer       user_data)
{
  FlowPageView *self = user_data;
  GtkTextMark *mark = gtk_text_buffer_get_mark (self->buffer, "flow-shown");

  /* A history preview shows another buffer meanwhile: nothing to show. */
  if (mark == NULL || gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->view)) != self->buffer ||
      mark_in_view (self, mark) || ++self->show_frames > 60)
    {
      self->show_tick = 0;
      return G_SOURCE_REMOVE;
    }
  gtk_text_view_scroll_to_mark (GTK_TEXT_VIEW (self->view), mark, 0.1, TRUE, 0.0, 0.3);
  return G_SOURCE_CONTINUE;
}

/**
 * flow_page_view_show_offset:
 * @self: a page view
 * @offset: a character offset in the page
 *
 * Scrolls @offset into view, leaving the cursor and the focus where they
 * are (following someone else's caret).
 */
void
flow_page_view_show_offset (FlowPageView *self,
                            guint         offset)
{
  GtkTextMark *mark;
  GtkTextIter it;

  g_return_if_fail (FLOW_IS_PAGE_VIEW (self));

  if (gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->view)) != self->buffer)
    return;   /* a history preview is shown */
  gtk_text_buffer_get_iter_at_offset (self->buffer, &it, offset);
  mark = gtk_text_buffer_get_mark (self->buffer, "flow-shown");
  if (mark == NULL)
    mark = gtk_text_buffer_create_mark (self->buffer, "flow-shown", &it, TRUE);
  else
    gtk_text_buffer_move_mark (self->buffer, mark, &it);
  if (mark_in_view (self, mark))
    return;
  gtk_text_view_scroll_to_mark (GTK_TEXT_VIEW (self->view), mark, 0.1, TRUE, 0.0, 0.3);
  self->show_frames = 0;
  if (self->show_tick == 0)
    self->show_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self->view), show_tick_cb, self, NULL);
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
  /* Style everything now, before the first frame, and drop the pending
   * restyle the load queued. */
  g_clear_handle_id (&self->restyle_source, g_source_remove);
  self->dirty = FALSE;
  g_clear_handle_id (&self->stats_source, g_source_remove);
  start_background_styling (self);
  queue_stats (self);
  {
    GtkTextIter start;

    gtk_text_buffer_get_start_iter (self->buffer, &start);
    gtk_text_buffer_place_cursor (self->buffer, &start);
  }
  gtk_text_view_set_editable (GTK_TEXT_VIEW (self->view), !flow_doc_is_read_only (page));
  self->watch = flow_doc_add_change_func (page, doc_changed_cb, self, NULL);
  self->burst_watch = flow_doc_add_burst_func (page, burst_cb, self, NULL);
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (page));
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

GtkTextView *
flow_page_view_get_text_view (FlowPageView *self)
{
  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), NULL);

  return GTK_TEXT_VIEW (self->view);
}

/**
 * flow_page_view_get_word_count:
 * @self: a page view
 *
 * Returns: the words on the page, as of the last update (they are
 *   counted shortly after typing stops)
 */
guint
flow_page_view_get_word_count (FlowPageView *self)
{
  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), 0);

  if (self->stats_source != 0)
    {
      g_clear_handle_id (&self->stats_source, g_source_remove);
      update_stats (self);
    }
  return self->words;
}

/**
 * flow_page_view_get_outline:
 * @self: a page view
 *
 * Returns: (transfer none): the headings' titles, in order
 */
GListModel *
flow_page_view_get_outline (FlowPageView *self)
{
  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), NULL);

  if (self->stats_source != 0)
    {
      g_clear_handle_id (&self->stats_source, g_source_remove);
      update_stats (self);
    }
  return G_LIST_MODEL (self->outline);
}

/* ------------------------------------------------------------------------
 * Presence: remote carets and selections, our own selection
 * ------------------------------------------------------------------------ */

static void
remote_caret_free (RemoteCaret *rc)
{
  GtkTextBuffer *buffer = gtk_text_mark_get_buffer (rc->anchor);

  if (buffer != NULL)
    {
      gtk_text_buffer_delete_mark (buffer, rc->anchor);
      gtk_text_buffer_delete_mark (buffer, rc->cursor);
    }
  g_object_unref (rc->anchor);
  g_object_unref (rc->cursor);
  flow_remote_presence_free (rc->p);
  g_clear_object (&rc->label);
  g_free (rc);
}

static RemoteCaret *
find_remote (FlowPageView *self,
             const char   *peer_id)
{
  for (guint i = 0; i < self->remote->len; i++)
    {
      RemoteCaret *rc = g_ptr_array_index (self->remote, i);

      if (g_strcmp0 (rc->p->peer_id, peer_id) == 0)
        return rc;
    }
  return NULL;
}

static void
iter_at_offset_clamped (GtkTextBuffer *buffer,
                        GtkTextIter   *iter,
                        guint          offset)
{
  gtk_text_buffer_get_iter_at_offset (buffer, iter, (int) MIN (offset, (guint) G_MAXINT));
}

/* How opaque @rc's name flag is now: 1 after a move, fading to 0. */
static double
flag_alpha (RemoteCaret *rc,
            gint64       now)
{
  gint64 age = now - rc->moved_at;

  if (age <= FLAG_SHOW_US)
    return 1;
  if (age >= FLAG_SHOW_US + FLAG_FADE_US)
    return 0;
  return 1 - (double) (age - FLAG_SHOW_US) / FLAG_FADE_US;
}

/* Redraws while a flag shows or fades; stops once all are gone. */
static gboolean
flag_timer_cb (gpointer user_data)
{
  FlowPageView *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean showing = FALSE;

  for (guint i = 0; i < self->remote->len; i++)
    if (now - ((RemoteCaret *) g_ptr_array_index (self->remote, i))->moved_at <= FLAG_SHOW_US + FLAG_FADE_US + 100000)
      showing = TRUE;
  gtk_widget_queue_draw (GTK_WIDGET (self->view));
  if (showing)
    return G_SOURCE_CONTINUE;
  self->flag_timer = 0;
  return G_SOURCE_REMOVE;
}

/**
 * flow_page_view_set_remote_presence:
 * @self: a page view
 * @presences: (element-type FlowRemotePresence) (nullable): the peers
 *   looking at this page; copied
 *
 * Shows a caret (a bar in the peer's colour with its name) and the
 * selection (the peer's colour, translucent) of each peer with a
 * selection, at its code point offsets, placed again on every call; in
 * between they move with the text. Peers not in the list disappear.
 */
void
flow_page_view_set_remote_presence (FlowPageView *self,
                                    GPtrArray    *presences)
{
  g_autoptr(GPtrArray) remote = NULL;

  g_return_if_fail (FLOW_IS_PAGE_VIEW (self));

  remote = g_ptr_array_new_with_free_func ((GDestroyNotify) remote_caret_free);
  for (guint i = 0; presences != NULL && i < presences->len; i++)
    {
      const FlowRemotePresence *p = g_ptr_array_index (presences, i);
      RemoteCaret *rc;
      GtkTextIter anchor, cursor;
      guint index;

      if (p == NULL || p->peer_id == NULL || !p->has_selection)
        continue;
      rc = find_remote (self, p->peer_id);
      if (rc != NULL)
        {
          g_ptr_array_find (self->remote, rc, &index);
          rc = g_ptr_array_steal_index (self->remote, index);
          if (g_strcmp0 (rc->p->name, p->name) != 0)
            {
              g_clear_object (&rc->label);
              rc->moved_at = g_get_monotonic_time ();   /* a new name is news */
            }
          if (rc->p->anchor != p->anchor || rc->p->cursor != p->cursor)
            rc->moved_at = g_get_monotonic_time ();
          flow_remote_presence_free (rc->p);
        }
      else
        {
          GtkTextIter start;

          rc = g_new0 (RemoteCaret, 1);
          rc->moved_at = g_get_monotonic_time ();
          gtk_text_buffer_get_start_iter (self->buffer, &start);
          rc->anchor = g_object_ref (gtk_text_buffer_create_mark (self->buffer, NULL, &start, TRUE));
          rc->cursor = g_object_ref (gtk_text_buffer_create_mark (self->buffer, NULL, &start, TRUE));
        }
      rc->p = flow_remote_presence_copy (p);
      iter_at_offset_clamped (self->buffer, &anchor, p->anchor);
      iter_at_offset_clamped (self->buffer, &cursor, p->cursor);
      gtk_text_buffer_move_mark (self->buffer, rc->anchor, &anchor);
      gtk_text_buffer_move_mark (self->buffer, rc->cursor, &cursor);
      g_ptr_array_add (remote, rc);
    }
  /* Those left in self->remote have gone. */
  g_ptr_array_unref (self->remote);
  self->remote = g_steal_pointer (&remote);
  gtk_widget_queue_draw (GTK_WIDGET (self->view));
  if (self->remote->len > 0 && self->flag_timer == 0)
    self->flag_timer = g_timeout_add (100, flag_timer_cb, self);
}

/* The caret of @rc in buffer coordinates. */
static void
remote_caret_rect (FlowPageView *self,
                   RemoteCaret  *rc,
                   GdkRectangle *caret)
{
  GtkTextIter iter;

  gtk_text_buffer_get_iter_at_mark (self->buffer, &iter, rc->cursor);
  gtk_text_view_get_iter_location (GTK_TEXT_VIEW (self->view), &iter, caret);
  caret->x -= CARET_WIDTH / 2;
  caret->width = CARET_WIDTH;
  caret->height = MAX (caret->height, 1);
}

/* The selection of @rc as one rectangle per display line, in buffer
 * coordinates, into self->remote_rects; only the lines that intersect
 * @visible. */
static void
remote_selection_rects (FlowPageView       *self,
                        RemoteCaret        *rc,
                        const GdkRectangle *visible)
{
  GtkTextView *view = GTK_TEXT_VIEW (self->view);
  GtkTextIter start, end, iter, top;
  int guard = 0;

  g_array_set_size (self->remote_rects, 0);
  gtk_text_buffer_get_iter_at_mark (self->buffer, &start, rc->anchor);
  gtk_text_buffer_get_iter_at_mark (self->buffer, &end, rc->cursor);
  gtk_text_iter_order (&start, &end);
  if (gtk_text_iter_equal (&start, &end))
    return;
  /* Start at the first visible line: a long selection costs what is seen. */
  gtk_text_view_get_line_at_y (view, &top, visible->y, NULL);
  iter = gtk_text_iter_compare (&top, &start) > 0 ? top : start;
  while (gtk_text_iter_compare (&iter, &end) < 0 && guard++ < 10000)
    {
      GtkTextIter line_end = iter;
      GdkRectangle a, b, r;
      gboolean wraps;

      /* An empty line (or a start at a line end) is its own end. */
      if (!gtk_text_iter_ends_line (&line_end))
        gtk_text_view_forward_display_line_end (view, &line_end);
      wraps = gtk_text_iter_compare (&line_end, &end) < 0;
      if (!wraps)
        line_end = end;
      gtk_text_view_get_iter_location (view, &iter, &a);
      gtk_text_view_get_iter_location (view, &line_end, &b);
      if (a.y > visible->y + visible->height)
        break;
      r.x = a.x;
      r.y = a.y;
      r.height = a.height;
      /* A selected line end shows as a little more width. */
      r.width = MAX (b.x - a.x, 0) + (wraps ? 6 : 0);
      if (r.width > 0)
        g_array_append_val (self->remote_rects, r);
      if (!wraps)
        break;
      iter = line_end;
      if (!gtk_text_view_forward_display_line (view, &iter) ||
          gtk_text_iter_compare (&iter, &line_end) <= 0)
        {
          /* At a buffer line end: the next line starts after it. */
          iter = line_end;
          if (!gtk_text_iter_forward_char (&iter))
            break;
        }
    }
}

static gboolean
color_is_light (guint32 rgba)
{
  double r = ((rgba >> 24) & 0xff) / 255.0;
  double g = ((rgba >> 16) & 0xff) / 255.0;
  double b = ((rgba >> 8) & 0xff) / 255.0;

  return 0.2126 * r * r + 0.7152 * g * g + 0.0722 * b * b > 0.36;
}

static GdkRGBA
peer_rgba (guint32 rgba,
           double  alpha)
{
  double a = (rgba & 0xff) == 0 ? 1.0 : (rgba & 0xff) / 255.0;

  return (GdkRGBA) { ((rgba >> 24) & 0xff) / 255.0, ((rgba >> 16) & 0xff) / 255.0,
                     ((rgba >> 8) & 0xff) / 255.0, a * alpha };
}

static void
snapshot_remote (FlowPageView *self,
                 GtkSnapshot  *snapshot)
{
  GtkTextView *view = GTK_TEXT_VIEW (self->view);
  GdkRectangle visible;

  if (self->remote->len == 0 || gtk_text_view_get_buffer (view) != self->buffer)
    return;
  gtk_text_view_get_visible_rect (view, &visible);
  for (guint i = 0; i < self->remote->len; i++)
    {
      RemoteCaret *rc = g_ptr_array_index (self->remote, i);
      GdkRGBA sel = peer_rgba (rc->p->color, 0.28);
      GdkRGBA solid = peer_rgba (rc->p->color, 1);
      GdkRectangle caret;

      remote_selection_rects (self, rc, &visible);
      for (guint j = 0; j < self->remote_rects->len; j++)
        {
          GdkRectangle *r = &g_array_index (self->remote_rects, GdkRectangle, j);

          gtk_snapshot_append_color (snapshot, &sel, &GRAPHENE_RECT_INIT (r->x, r->y, r->width, r->height));
        }

      remote_caret_rect (self, rc, &caret);
      if (caret.y + caret.height < visible.y || caret.y > visible.y + visible.height)
        continue;
      gtk_snapshot_append_color (snapshot, &solid,
                                 &GRAPHENE_RECT_INIT (caret.x, caret.y, caret.width, caret.height));
      /* The name in a small flag at the top of the caret, above the line
       * (below it on the first visible line, so it is never cut), while
       * its owner is active. */
      if (flag_alpha (rc, g_get_monotonic_time ()) <= 0)
        continue;
      {
        GdkRGBA text = color_is_light (rc->p->color) ? (GdkRGBA) { 0.1, 0.1, 0.12, 1 }
                                                      : (GdkRGBA) { 1, 1, 1, 1 };
        GskRoundedRect flag;
        int w, h;
        double fx, fy;

        if (rc->label == NULL)
          {
            PangoAttrList *attrs = pango_attr_list_new ();

            rc->label = gtk_widget_create_pango_layout (GTK_WIDGET (view),
                                                        rc->p->name != NULL && rc->p->name[0] != '\0'
                                                          ? rc->p->name : "?");
            pango_attr_list_insert (attrs, pango_attr_scale_new (0.75));
            pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
            pango_layout_set_attributes (rc->label, attrs);
            pango_attr_list_unref (attrs);
          }
        pango_layout_get_pixel_size (rc->label, &w, &h);
        fx = caret.x;
        fy = caret.y - h - 2;
        if (fy < visible.y)
          fy = caret.y + caret.height;
        gsk_rounded_rect_init (&flag, &GRAPHENE_RECT_INIT (fx, fy, w + 8, h + 2),
                               &GRAPHENE_SIZE_INIT (3, 3), &GRAPHENE_SIZE_INIT (3, 3),
                               &GRAPHENE_SIZE_INIT (3, 3), &GRAPHENE_SIZE_INIT (0, 0));
        if (fy > caret.y)
          {
            flag.corner[GSK_CORNER_TOP_LEFT] = GRAPHENE_SIZE_INIT (0, 0);
            flag.corner[GSK_CORNER_BOTTOM_LEFT] = GRAPHENE_SIZE_INIT (3, 3);
          }
        gtk_snapshot_push_opacity (snapshot, flag_alpha (rc, g_get_monotonic_time ()));
        gtk_snapshot_push_rounded_clip (snapshot, &flag);
        gtk_snapshot_append_color (snapshot, &solid, &flag.bounds);
        gtk_snapshot_pop (snapshot);
        gtk_snapshot_save (snapshot);
        gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (fx + 4, fy + 1));
        gtk_snapshot_append_layout (snapshot, rc->label, &text);
        gtk_snapshot_restore (snapshot);
        gtk_snapshot_pop (snapshot);
      }
    }
}

/**
 * flow_page_view_get_remote_caret:
 * @self: a page view
 * @peer_id: a peer in the last presence list
 * @caret: (out) (optional): its caret, in buffer coordinates
 * @n_selection_rects: (out) (optional): how many line rectangles its
 *   selection shows now (visible lines only)
 * @selection: (out) (optional): the first of them
 *
 * Where the caret and selection of @peer_id are drawn, for tests and
 * for scrolling to a participant.
 *
 * Returns: whether @peer_id has a caret in this page
 */
gboolean
flow_page_view_get_remote_caret (FlowPageView *self,
                                 const char   *peer_id,
                                 GdkRectangle *caret,
                                 guint        *n_selection_rects,
                                 GdkRectangle *selection)
{
  RemoteCaret *rc;
  GdkRectangle visible;

  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), FALSE);

  rc = find_remote (self, peer_id);
  if (rc == NULL)
    return FALSE;
  if (caret != NULL)
    remote_caret_rect (self, rc, caret);
  gtk_text_view_get_visible_rect (GTK_TEXT_VIEW (self->view), &visible);
  remote_selection_rects (self, rc, &visible);
  if (n_selection_rects != NULL)
    *n_selection_rects = self->remote_rects->len;
  if (selection != NULL && self->remote_rects->len > 0)
    *selection = g_array_index (self->remote_rects, GdkRectangle, 0);
  return TRUE;
}

/**
 * flow_page_view_get_remote_flag_alpha:
 * @self: a page view
 * @peer_id: a peer in the last presence list
 *
 * Returns: how opaque the name flag of @peer_id's caret is now: 1 for a
 *   while after it moved, then fading to 0; 0 for an unknown peer
 */
double
flow_page_view_get_remote_flag_alpha (FlowPageView *self,
                                      const char   *peer_id)
{
  RemoteCaret *rc;

  g_return_val_if_fail (FLOW_IS_PAGE_VIEW (self), 0);

  rc = find_remote (self, peer_id);
  return rc != NULL ? flag_alpha (rc, g_get_monotonic_time ()) : 0;
}

/* Our caret or selection bound moved: tell the huddle, once per change. */
static void
emit_selection_moved (FlowPageView *self)
{
  GtkTextIter insert, bound;
  guint anchor, cursor;

  gtk_text_buffer_get_iter_at_mark (self->buffer, &insert, gtk_text_buffer_get_insert (self->buffer));
  gtk_text_buffer_get_iter_at_mark (self->buffer, &bound, gtk_text_buffer_get_selection_bound (self->buffer));
  anchor = gtk_text_iter_get_offset (&bound);
  cursor = gtk_text_iter_get_offset (&insert);
  if (self->sent_selection && anchor == self->sent_anchor && cursor == self->sent_cursor)
    return;
  self->sent_selection = TRUE;
  self->sent_anchor = anchor;
  self->sent_cursor = cursor;
  g_signal_emit (self, signals[SELECTION_MOVED], 0, anchor, cursor);
}

static void
mark_set_cb (GtkTextBuffer *buffer,
             GtkTextIter   *location,
             GtkTextMark   *mark,
             FlowPageView  *self)
{
  if (mark == gtk_text_buffer_get_insert (buffer) || mark == gtk_text_buffer_get_selection_bound (buffer))
    emit_selection_moved (self);
}

static void
flow_presence_source_view_snapshot_layer (GtkTextView      *view,
                                          GtkTextViewLayer  layer,
                                          GtkSnapshot      *snapshot)
{
  FlowPresenceSourceView *self = FLOW_PRESENCE_SOURCE_VIEW (view);

  GTK_TEXT_VIEW_CLASS (flow_presence_source_view_parent_class)->snapshot_layer (view, layer, snapshot);
  if (layer == GTK_TEXT_VIEW_LAYER_ABOVE_TEXT && self->page != NULL)
    snapshot_remote (self->page, snapshot);
}

static void
flow_presence_source_view_class_init (FlowPresenceSourceViewClass *klass)
{
  GTK_TEXT_VIEW_CLASS (klass)->snapshot_layer = flow_presence_source_view_snapshot_layer;
}

static void
flow_presence_source_view_init (FlowPresenceSourceView *self)
{
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

  g_clear_handle_id (&self->flag_timer, g_source_remove);
  if (self->show_tick != 0 && self->view != NULL)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self->view), self->show_tick);
  self->show_tick = 0;
  g_clear_handle_id (&self->stats_source, g_source_remove);
  g_clear_handle_id (&self->restyle_source, g_source_remove);
  g_clear_handle_id (&self->background_source, g_source_remove);
  g_clear_handle_id (&self->language_source, g_source_remove);
  g_clear_handle_id (&self->backlinks_source, g_source_remove);
  g_cancellable_cancel (self->backlinks_cancel);
  g_clear_object (&self->backlinks_cancel);
  if (self->workspace != NULL)
    {
      flow_doc_remove_change_func (flow_workspace_get_catalog (self->workspace), self->catalog_watch);
      g_clear_object (&self->workspace);
    }
  if (self->doc != NULL)
    {
      flow_doc_remove_change_func (self->doc, self->watch);
      flow_doc_remove_burst_func (self->doc, self->burst_watch);
      g_clear_object (&self->doc);
    }
  g_clear_object (&self->preview);
  if (self->view != NULL)
    FLOW_PRESENCE_SOURCE_VIEW (self->view)->page = NULL;
  g_clear_pointer (&self->remote, g_ptr_array_unref);
  g_clear_pointer (&self->remote_rects, g_array_unref);
  if (self->buffer != NULL)
    g_signal_handlers_disconnect_by_func (self->buffer, mark_set_cb, self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->buffer);
  g_clear_object (&self->preview_buffer);
  g_clear_object (&self->outline);
  g_clear_pointer (&self->outline_offsets, g_array_unref);
  g_clear_pointer (&self->burst_edits, g_array_unref);

  G_OBJECT_CLASS (flow_page_view_parent_class)->dispose (object);
}

static void
flow_page_view_class_init (FlowPageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_page_view_dispose;
  widget_class->grab_focus = flow_page_view_grab_focus;

  /**
   * FlowPageView::link-activated:
   * @kind: a #FlowPageLinkKind
   * @target: the page title, tag or issue key
   */
  gtk_widget_class_install_action (widget_class, "page.export", "s", export_action_cb);

  signals[LINK_ACTIVATED] = g_signal_new ("link-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                          0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_STRING);
  /**
   * FlowPageView::selection-moved:
   * @anchor: the fixed end of our selection, in code points
   * @cursor: our caret, in code points
   *
   * Our caret or selection changed, for the huddle's PRESENCE.
   */
  signals[SELECTION_MOVED] = g_signal_new ("selection-moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT, G_TYPE_UINT);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flowpageview");
}

static void
make_tags (FlowPageView  *self,
           GtkTextBuffer *buffer)
{
  GtkTextTagTable *table = gtk_text_buffer_get_tag_table (buffer);
  static const double scales[] = { 1.8, 1.5, 1.3, 1.15, 1.05, 1.0 };

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("flow-h%u", i + 1);

      self->tags[FLOW_MD_HEADING1 + i] =
        gtk_text_buffer_create_tag (buffer, name, "weight", PANGO_WEIGHT_BOLD,
                                    "scale", scales[i], "pixels-above-lines", i < 2 ? 12 : 6,
                                    "pixels-below-lines", 4, NULL);
    }
  self->tags[FLOW_MD_MARKUP] = gtk_text_buffer_create_tag (buffer, "flow-markup", "foreground", "#8a8a8a", NULL);
  self->tags[FLOW_MD_STRONG] = gtk_text_buffer_create_tag (buffer, "flow-strong", "weight", PANGO_WEIGHT_BOLD, NULL);
  self->tags[FLOW_MD_EMPHASIS] = gtk_text_buffer_create_tag (buffer, "flow-em", "style", PANGO_STYLE_ITALIC, NULL);
  self->tags[FLOW_MD_CODE] = gtk_text_buffer_create_tag (buffer, "flow-code", "family", "Monospace",
                                                         "background", "rgba(127,127,127,0.15)", NULL);
  self->tags[FLOW_MD_CODE_BLOCK] = gtk_text_buffer_create_tag (buffer, "flow-code-block", "family", "Monospace",
                                                               "paragraph-background", "rgba(127,127,127,0.12)", NULL);
  self->tags[FLOW_MD_QUOTE] = gtk_text_buffer_create_tag (buffer, "flow-quote", "style", PANGO_STYLE_ITALIC,
                                                          "left-margin", 48, "foreground", "#707070", NULL);
  self->tags[FLOW_MD_LIST_MARKER] = gtk_text_buffer_create_tag (buffer, "flow-list", "foreground", "#3584e4",
                                                                "weight", PANGO_WEIGHT_BOLD, NULL);
  self->tags[FLOW_MD_LINK] = gtk_text_buffer_create_tag (buffer, "flow-link", "foreground", "#1c71d8",
                                                         "underline", PANGO_UNDERLINE_SINGLE, NULL);
  self->tags[FLOW_MD_RULE] = gtk_text_buffer_create_tag (buffer, "flow-rule", "foreground", "#9a9a9a",
                                                         "strikethrough", TRUE, NULL);
  /* Lower priority than the styles above only matters for colours; the
   * fence tag is invisible bookkeeping. */
  self->fence_tag = gtk_text_buffer_create_tag (buffer, "flow-in-fence", NULL);
  self->link_tags[FLOW_PAGE_LINK_WIKI] = gtk_text_buffer_create_tag (buffer, "flow-wikilink", "foreground", "#1c71d8",
                                                                "underline", PANGO_UNDERLINE_SINGLE, NULL);
  self->link_tags[FLOW_PAGE_LINK_TAG] = gtk_text_buffer_create_tag (buffer, "flow-tag", "foreground", "#9141ac",
                                                               "weight", PANGO_WEIGHT_SEMIBOLD, NULL);
  self->link_tags[FLOW_PAGE_LINK_ISSUE] = gtk_text_buffer_create_tag (buffer, "flow-issue", "foreground", "#1c71d8",
                                                                 "underline", PANGO_UNDERLINE_SINGLE, NULL);
  self->removed_tag = gtk_text_buffer_create_tag (buffer, "flow-removed",
                                                  "paragraph-background", "rgba(224,27,36,0.15)",
                                                  "strikethrough", TRUE, NULL);
  self->added_tag = gtk_text_buffer_create_tag (buffer, "flow-added",
                                                "paragraph-background", "rgba(46,194,126,0.18)", NULL);
  (void) table;
}

static gboolean
set_language_cb (gpointer data)
{
  FlowPageView *self = data;
  GtkSourceLanguageManager *lm = gtk_source_language_manager_get_default ();
  GtkSourceLanguage *markdown = gtk_source_language_manager_get_language (lm, "markdown");

  self->language_source = 0;
  gtk_source_buffer_set_language (GTK_SOURCE_BUFFER (self->buffer), markdown);
  gtk_source_buffer_set_language (GTK_SOURCE_BUFFER (self->preview_buffer), markdown);
  return G_SOURCE_REMOVE;
}

/* The editor follows the light or dark style with libadwaita's matching
 * GtkSourceView schemes. */
static void
update_scheme (FlowPageView *self)
{
  GtkSourceStyleSchemeManager *sm = gtk_source_style_scheme_manager_get_default ();
  gboolean dark = adw_style_manager_get_dark (adw_style_manager_get_default ());
  GtkSourceStyleScheme *scheme = gtk_source_style_scheme_manager_get_scheme (sm, dark ? "Adwaita-dark" : "Adwaita");

  if (scheme != NULL)
    {
      gtk_source_buffer_set_style_scheme (GTK_SOURCE_BUFFER (self->buffer), scheme);
      gtk_source_buffer_set_style_scheme (GTK_SOURCE_BUFFER (self->preview_buffer), scheme);
    }
}

static void
flow_page_view_init (FlowPageView *self)
{
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *side_title = gtk_label_new (_("Outline"));
  GtkWidget *side_scroller = gtk_scrolled_window_new ();
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *spacer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkEventController *key;
  GtkSourceBuffer *buffer;
  GtkSourceBuffer *preview;

  self->outline = gtk_string_list_new (NULL);
  self->outline_offsets = g_array_new (FALSE, FALSE, sizeof (guint));
  self->burst_edits = g_array_new (FALSE, FALSE, sizeof (PendingEdit));
  g_array_set_clear_func (self->burst_edits, pending_edit_clear);

  /* Two buffers sharing one tag table: the page, and the read-only
   * history preview. */
  buffer = gtk_source_buffer_new (NULL);
  self->buffer = GTK_TEXT_BUFFER (buffer);
  make_tags (self, self->buffer);
  preview = gtk_source_buffer_new (gtk_text_buffer_get_tag_table (self->buffer));
  self->preview_buffer = GTK_TEXT_BUFFER (preview);
  /* Compiling GtkSourceView's Markdown highlighting takes tens of
   * milliseconds the first time; the page's own styling already shows,
   * so it can wait until after the first frame. */
  self->language_source = g_idle_add_full (G_PRIORITY_LOW, set_language_cb, self, NULL);
  gtk_text_buffer_set_enable_undo (self->buffer, FALSE);
  gtk_text_buffer_set_enable_undo (self->preview_buffer, FALSE);
  {
    GtkTextIter start;

    gtk_text_buffer_get_start_iter (self->buffer, &start);
    self->dirty_start = gtk_text_buffer_create_mark (self->buffer, NULL, &start, TRUE);
    self->dirty_end = gtk_text_buffer_create_mark (self->buffer, NULL, &start, FALSE);
  }

  self->view = g_object_new (FLOW_TYPE_PRESENCE_SOURCE_VIEW, "buffer", buffer, NULL);
  FLOW_PRESENCE_SOURCE_VIEW (self->view)->page = self;
  self->remote = g_ptr_array_new_with_free_func ((GDestroyNotify) remote_caret_free);
  self->remote_rects = g_array_new (FALSE, FALSE, sizeof (GdkRectangle));
  g_signal_connect (self->buffer, "mark-set", G_CALLBACK (mark_set_cb), self);
  g_signal_connect_swapped (self->buffer, "notify::cursor-position", G_CALLBACK (emit_selection_moved), self);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (self->view), 32);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (self->view), 32);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (self->view), 24);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (self->view), 24);
  gtk_text_view_set_pixels_below_lines (GTK_TEXT_VIEW (self->view), 2);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Page text"), -1);
  g_signal_connect (self->buffer, "insert-text", G_CALLBACK (insert_text_cb), self);
  g_signal_connect_after (self->buffer, "insert-text", G_CALLBACK (insert_text_after_cb), self);
  g_signal_connect (self->buffer, "delete-range", G_CALLBACK (delete_range_cb), self);
  g_signal_connect_after (self->buffer, "delete-range", G_CALLBACK (delete_range_after_cb), self);
  key = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (key, GTK_PHASE_CAPTURE);
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->view), key);
  {
    GtkGesture *click = gtk_gesture_click_new ();

    gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
    gtk_event_controller_set_propagation_phase (GTK_EVENT_CONTROLLER (click), GTK_PHASE_CAPTURE);
    g_signal_connect (click, "pressed", G_CALLBACK (click_pressed_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self->view), GTK_EVENT_CONTROLLER (click));
  }
  {
    GtkEventController *focus = gtk_event_controller_focus_new ();

    g_signal_connect_swapped (focus, "enter", G_CALLBACK (focus_enter_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self->view), focus);
  }

  self->scroller = gtk_scrolled_window_new ();
  gtk_widget_set_hexpand (self->scroller, TRUE);
  gtk_widget_set_vexpand (self->scroller, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->view));

  /* The outline, at the side. */
  gtk_widget_add_css_class (side_title, "heading");
  gtk_label_set_xalign (GTK_LABEL (side_title), 0);
  gtk_widget_set_margin_start (side_title, 12);
  gtk_widget_set_margin_top (side_title, 12);
  self->outline_list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_widget_add_css_class (GTK_WIDGET (self->outline_list), "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->outline_list),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Outline"), -1);
  g_signal_connect (self->outline_list, "row-activated", G_CALLBACK (outline_row_activated_cb), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (side_scroller), GTK_WIDGET (self->outline_list));
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (side_scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (side_scroller, TRUE);
  gtk_box_append (GTK_BOX (side), side_title);
  gtk_box_append (GTK_BOX (side), side_scroller);
  {
    GtkWidget *title = gtk_label_new (_("Linked From"));

    gtk_widget_add_css_class (title, "heading");
    gtk_label_set_xalign (GTK_LABEL (title), 0);
    gtk_widget_set_margin_start (title, 12);
    self->backlinks_list = GTK_LIST_BOX (gtk_list_box_new ());
    gtk_widget_add_css_class (GTK_WIDGET (self->backlinks_list), "navigation-sidebar");
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->backlinks_list),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, _("Documents linking here"), -1);
    g_signal_connect (self->backlinks_list, "row-activated", G_CALLBACK (backlink_row_activated_cb), self);
    self->backlinks_empty = gtk_label_new (_("No page links here yet"));
    gtk_widget_add_css_class (self->backlinks_empty, "dim-label");
    gtk_label_set_xalign (GTK_LABEL (self->backlinks_empty), 0);
    gtk_widget_set_margin_start (self->backlinks_empty, 12);
    gtk_widget_set_margin_bottom (self->backlinks_empty, 12);
    gtk_box_append (GTK_BOX (side), title);
    gtk_box_append (GTK_BOX (side), GTK_WIDGET (self->backlinks_list));
    gtk_box_append (GTK_BOX (side), self->backlinks_empty);
  }
  gtk_widget_set_size_request (side, 220, -1);
  gtk_widget_add_css_class (side, "flow-page-side");
  self->side_revealer = gtk_revealer_new ();
  gtk_revealer_set_transition_type (GTK_REVEALER (self->side_revealer), GTK_REVEALER_TRANSITION_TYPE_SLIDE_LEFT);
  gtk_revealer_set_child (GTK_REVEALER (self->side_revealer), side);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->side_revealer), TRUE);
  gtk_box_append (GTK_BOX (content), self->scroller);
  gtk_box_append (GTK_BOX (content), self->side_revealer);

  /* The status bar: word count, outline and history toggles. */
  gtk_widget_add_css_class (bar, "toolbar");
  self->words_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->words_label, "dim-label");
  gtk_widget_add_css_class (self->words_label, "numeric");
  gtk_widget_set_hexpand (spacer, TRUE);
  self->outline_button = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (self->outline_button), "view-list-symbolic");
  gtk_widget_set_tooltip_text (self->outline_button, _("Outline"));
  gtk_widget_add_css_class (self->outline_button, "flat");
  g_object_bind_property (self->outline_button, "active", self->side_revealer, "reveal-child",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->outline_button), TRUE);
  self->history_button = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (self->history_button), "document-open-recent-symbolic");
  gtk_widget_set_tooltip_text (self->history_button, _("History"));
  gtk_widget_add_css_class (self->history_button, "flat");
  g_signal_connect (self->history_button, "toggled", G_CALLBACK (history_toggled_cb), self);
  gtk_box_append (GTK_BOX (bar), self->words_label);
  gtk_box_append (GTK_BOX (bar), spacer);
  gtk_box_append (GTK_BOX (bar), self->outline_button);
  gtk_box_append (GTK_BOX (bar), self->history_button);
  {
    g_autoptr(GMenu) menu = g_menu_new ();
    GtkWidget *export_button = gtk_menu_button_new ();

    g_menu_append (menu, _("Export as _Markdown…"), "page.export::md");
    g_menu_append (menu, _("Export as _HTML…"), "page.export::html");
    g_menu_append (menu, _("Export as _PDF…"), "page.export::pdf");
    gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (export_button), G_MENU_MODEL (menu));
    gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (export_button), "document-send-symbolic");
    gtk_widget_set_tooltip_text (export_button, _("Export"));
    gtk_widget_add_css_class (export_button, "flat");
    gtk_box_append (GTK_BOX (bar), export_button);
  }

  /* The history bar. */
  self->history_bar = flow_history_bar_new (FALSE, _("red: changed since, green: added since"));
  g_signal_connect_swapped (self->history_bar, "preview", G_CALLBACK (history_preview_cb), self);
  g_signal_connect_swapped (self->history_bar, "restore", G_CALLBACK (restore_clicked_cb), self);
  g_signal_connect_swapped (self->history_bar, "close", G_CALLBACK (close_history_cb), self);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (self->box), content);
  gtk_box_append (GTK_BOX (self->box), self->history_bar);
  gtk_box_append (GTK_BOX (self->box), bar);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  update_scheme (self);
  g_signal_connect_object (adw_style_manager_get_default (), "notify::dark",
                           G_CALLBACK (update_scheme), self, G_CONNECT_SWAPPED);
}
