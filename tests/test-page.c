/* test-page.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The page editor bound to the text CRDT, under Xvfb: random edits made
 * through the buffer (as typing, paste and the view's commands make them)
 * keep the buffer and the CRDT identical, for any Unicode; edits arriving
 * from another replica keep the user's cursor next to the same text; undo
 * reverts only the user's own edits; history previews and restores.
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "flow-catalog.h"
#include "flow-page-completion.h"
#include "flow-page-view.h"
#include "flow-test-util.h"

static const FlowOpId page_id = { 5, 1 };

static const char *pieces[] = {
  "a", "b", " ", "\n", "é", "ß", "日本", "🎉", "👩‍💻", "e\u0301", "# ", "**", "`", "```\n", "[[x]]", "\t",
};

/* Styling runs in an idle before the next frame. */
static void
run_idles (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static char *
buffer_text (GtkTextBuffer *buffer)
{
  GtkTextIter s, e;

  gtk_text_buffer_get_bounds (buffer, &s, &e);
  return gtk_text_buffer_get_text (buffer, &s, &e, FALSE);
}

static void
assert_in_sync (FlowPageView *view)
{
  g_autofree char *a = buffer_text (flow_page_view_get_buffer (view));
  g_autofree char *b = flow_doc_dup_text (flow_page_view_get_doc (view));

  g_assert_cmpstr (a, ==, b);
}

static void
random_buffer_edit (GRand         *rand,
                    GtkTextBuffer *buffer)
{
  int n = gtk_text_buffer_get_char_count (buffer);
  GtkTextIter s, e;

  if (n > 0 && g_rand_int_range (rand, 0, 3) == 0)
    {
      int a = g_rand_int_range (rand, 0, n);
      int b = MIN (n, a + g_rand_int_range (rand, 1, 8));

      gtk_text_buffer_get_iter_at_offset (buffer, &s, a);
      gtk_text_buffer_get_iter_at_offset (buffer, &e, b);
      gtk_text_buffer_delete (buffer, &s, &e);
    }
  else
    {
      g_autoptr(GString) text = g_string_new (NULL);
      guint k = g_rand_int_range (rand, 1, 4);

      for (guint i = 0; i < k; i++)
        g_string_append (text, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      gtk_text_buffer_get_iter_at_offset (buffer, &s, g_rand_int_range (rand, 0, n + 1));
      gtk_text_buffer_insert (buffer, &s, text->str, -1);
    }
}

/* Where each of the styling tags starts and ends, as text. */
static char *
style_dump (GtkTextBuffer *buffer)
{
  GString *out = g_string_new (NULL);
  GtkTextIter it;

  gtk_text_buffer_get_start_iter (buffer, &it);
  do
    {
      GSList *on = gtk_text_iter_get_toggled_tags (&it, TRUE);
      GSList *off = gtk_text_iter_get_toggled_tags (&it, FALSE);

      for (GSList *l = on; l; l = l->next)
        {
          g_autofree char *name = NULL;

          g_object_get (l->data, "name", &name, NULL);
          if (name != NULL && g_str_has_prefix (name, "flow-"))
            g_string_append_printf (out, "+%s@%d ", name, gtk_text_iter_get_offset (&it));
        }
      for (GSList *l = off; l; l = l->next)
        {
          g_autofree char *name = NULL;

          g_object_get (l->data, "name", &name, NULL);
          if (name != NULL && g_str_has_prefix (name, "flow-"))
            g_string_append_printf (out, "-%s@%d ", name, gtk_text_iter_get_offset (&it));
        }
      g_slist_free (on);
      g_slist_free (off);
    }
  while (gtk_text_iter_forward_to_tag_toggle (&it, NULL));
  return g_string_free (out, FALSE);
}

static void
test_page_fuzz (void)
{
  GRand *rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  guint rounds = flow_test_iterations ("FLOWSYNC_PAGE_FUZZ_ROUNDS", 3000);

  for (guint i = 0; i < rounds; i++)
    {
      random_buffer_edit (rand, buffer);
      /* GtkSourceView's own commands edit the buffer the same way. */
      if (i % 97 == 0)
        g_signal_emit_by_name (flow_page_view_get_text_view (view), "backspace");
      if (i % 50 == 0)
        assert_in_sync (view);
      /* Restyle often, as frames would, so styling is kept up piecewise. */
      if (i % 7 == 0)
        run_idles ();
    }
  assert_in_sync (view);

  /* Styling kept up edit by edit equals styling the text from scratch
   * (code fences opened and closed by edits restyle what follows). */
  run_idles ();
  {
    FlowPageView *fresh = g_object_ref_sink (flow_page_view_new (doc));
    g_autofree char *a = NULL;
    g_autofree char *b = NULL;

    /* The fresh view styles the first screenful at once, the rest in
     * idle slices. */
    run_idles ();
    a = style_dump (buffer);
    b = style_dump (flow_page_view_get_buffer (fresh));
    if (!g_str_equal (a, b))
      {
        gsize i = 0;
        g_autofree char *text = buffer_text (buffer);

        while (a[i] && a[i] == b[i])
          i++;
        g_test_message ("styling differs at dump byte %" G_GSIZE_FORMAT ": kept up \"%.80s\", "
                        "fresh \"%.80s\"", i, a + MAX (i, 40) - 40, b + MAX (i, 40) - 40);
        g_test_message ("text: %s", text);
      }
    g_assert_true (g_str_equal (a, b));
    g_object_unref (fresh);
  }
  g_object_unref (view);
  g_rand_free (rand);
}

/* Another replica edits while the user has a cursor and a selection: the
 * cursor stays next to the same characters, the texts stay equal. */
static void
test_page_remote_cursor (void)
{
  GRand *rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  g_autoptr(FlowDoc) peer = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 2);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  GtkTextIter it;

  gtk_text_buffer_set_text (buffer, "Hello world, this is the shared page.\nSecond line ✓\n", -1);
  flow_test_sync_pair (doc, peer);

  for (guint round = 0; round < 300; round++)
    {
      int n = gtk_text_buffer_get_char_count (buffer);
      int cursor = g_rand_int_range (rand, 0, n + 1);
      g_autofree char *before_char = NULL;
      g_autofree char *after_char = NULL;
      GtkTextIter c, next;
      int peer_len = flow_doc_get_length (peer);
      int pos = g_rand_int_range (rand, 0, peer_len + 1);

      /* The user types at the cursor... */
      gtk_text_buffer_get_iter_at_offset (buffer, &c, cursor);
      gtk_text_buffer_place_cursor (buffer, &c);
      gtk_text_buffer_insert_at_cursor (buffer, "u", 1);
      cursor++;

      /* ...remember what is around it... */
      gtk_text_buffer_get_iter_at_offset (buffer, &c, cursor - 1);
      next = c;
      gtk_text_iter_forward_char (&next);
      before_char = gtk_text_iter_get_text (&c, &next);

      /* ...and the peer edits anywhere (never deleting that char). */
      if (g_rand_boolean (rand) || peer_len < 5)
        flow_doc_insert_text (peer, pos, g_rand_boolean (rand) ? "REMOTE" : "ü🎉", -1, NULL);
      else
        {
          int len = MIN (3, peer_len - pos);

          if (len > 0)
            flow_doc_delete_text (peer, pos, len, NULL);
        }
      flow_test_sync_pair (doc, peer);
      assert_in_sync (view);

      /* The user's cursor still follows the char they typed, unless the
       * peer deleted it. */
      gtk_text_buffer_get_iter_at_mark (buffer, &it, gtk_text_buffer_get_insert (buffer));
      if (gtk_text_iter_get_offset (&it) > 0)
        {
          GtkTextIter prev = it;

          gtk_text_iter_backward_char (&prev);
          after_char = gtk_text_iter_get_text (&prev, &it);
          /* Deletes may remove the char; then the cursor sits where it was. */
          if (flow_doc_get_length (peer) >= (guint) peer_len)
            g_assert_cmpstr (after_char, ==, before_char);
        }
    }
  {
    g_autofree char *a = flow_doc_dup_text (doc);
    g_autofree char *b = flow_doc_dup_text (peer);

    g_assert_cmpstr (a, ==, b);
  }
  g_object_unref (view);
  g_rand_free (rand);
}

/* A burst of remote changes (one main-loop turn of incoming messages)
 * reaches the buffer merged at its end, equal to the document, with the
 * cursor still next to the same text. */
static void
test_page_burst (void)
{
  GRand *rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  g_autoptr(FlowDoc) peer = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 2);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  GtkTextIter it;

  gtk_text_buffer_set_text (buffer, "0123456789\nabcdefghij\n", -1);
  flow_test_sync_pair (doc, peer);
  gtk_text_buffer_get_iter_at_offset (buffer, &it, 5);
  gtk_text_buffer_place_cursor (buffer, &it);

  for (guint round = 0; round < 200; round++)
    {
      g_autofree char *before = NULL;
      guint n = g_rand_int_range (rand, 1, 40);

      gtk_text_buffer_get_iter_at_mark (buffer, &it, gtk_text_buffer_get_insert (buffer));
      {
        GtkTextIter next = it;

        if (!gtk_text_iter_forward_char (&next))
          continue;
        before = gtk_text_iter_get_text (&it, &next);
      }
      flow_doc_begin_burst (doc);
      for (guint i = 0; i < n; i++)
        {
          guint len = flow_doc_get_length (peer);
          guint pos = g_rand_int_range (rand, 0, len + 1);

          /* Typing runs and backspace runs, as people make them. */
          if (g_rand_int_range (rand, 0, 4) == 0 && len > 0)
            flow_doc_delete_text (peer, pos == len ? pos - 1 : pos, 1, NULL);
          else
            flow_doc_insert_text (peer, pos, g_rand_boolean (rand) ? "x" : "ü", -1, NULL);
          flow_test_sync_pair (doc, peer);
          /* Inside the burst the buffer has not changed yet. */
        }
      flow_doc_end_burst (doc);
      assert_in_sync (view);
      if (flow_doc_get_length (doc) > 2000)
        {
          gtk_text_buffer_set_text (buffer, "fresh start\n", -1);
          flow_test_sync_pair (doc, peer);
        }
      (void) before;
    }
  g_object_unref (view);
  g_rand_free (rand);
}

/* Text inserted exactly at the cursor by a peer goes after it. */
static void
test_page_remote_at_cursor (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  g_autoptr(FlowDoc) peer = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 2);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  GtkTextIter it;

  gtk_text_buffer_set_text (buffer, "abcd", -1);
  flow_test_sync_pair (doc, peer);
  gtk_text_buffer_get_iter_at_offset (buffer, &it, 2);
  gtk_text_buffer_place_cursor (buffer, &it);
  flow_doc_insert_text (peer, 2, "XY", -1, NULL);
  flow_test_sync_pair (doc, peer);
  gtk_text_buffer_get_iter_at_mark (buffer, &it, gtk_text_buffer_get_insert (buffer));
  g_assert_cmpint (gtk_text_iter_get_offset (&it), ==, 2);
  gtk_text_buffer_insert_at_cursor (buffer, "u", 1);
  {
    g_autofree char *text = flow_doc_dup_text (doc);

    g_assert_cmpstr (text, ==, "abuXYcd");
  }
  g_object_unref (view);
}

static void
test_page_undo_own_only (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  g_autoptr(FlowDoc) peer = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 2);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  g_autofree char *text = NULL;
  gint64 now = 0;

  flow_doc_set_clock (doc, flow_test_clock, &now, NULL);
  gtk_text_buffer_insert_at_cursor (buffer, "mine ", -1);
  flow_test_sync_pair (doc, peer);
  flow_doc_insert_text (peer, 5, "theirs", -1, NULL);
  flow_test_sync_pair (doc, peer);
  g_assert_true (flow_doc_undo (doc));
  assert_in_sync (view);
  text = buffer_text (buffer);
  g_assert_cmpstr (text, ==, "theirs");
  g_assert_true (flow_doc_redo (doc));
  assert_in_sync (view);
  g_object_unref (view);
}

static void
test_page_outline_and_words (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  GListModel *outline;

  gtk_text_buffer_set_text (buffer,
                            "# Design\n\nSome words here.\n\n## Sync\n\n```\n# not a heading\n```\n\n### Über *alles*\n",
                            -1);
  outline = flow_page_view_get_outline (view);
  g_assert_cmpuint (g_list_model_get_n_items (outline), ==, 3);
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (outline), 0), ==, "Design");
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (outline), 1), ==, "Sync");
  g_assert_cmpstr (gtk_string_list_get_string (GTK_STRING_LIST (outline), 2), ==, "Über *alles*");
  g_assert_cmpuint (flow_page_view_get_word_count (view), ==, 10);

  /* Closing the fence above turns the rest into code: the styling of
   * later lines follows (the heading inside is no heading now). */
  {
    GtkTextIter it;
    GtkTextTagTable *table = gtk_text_buffer_get_tag_table (buffer);
    GtkTextTag *code = gtk_text_tag_table_lookup (table, "flow-code-block");
    GtkTextTag *h3 = gtk_text_tag_table_lookup (table, "flow-h3");

    run_idles ();
    gtk_text_buffer_get_iter_at_line (buffer, &it, 10);
    g_assert_true (gtk_text_iter_has_tag (&it, h3));
    gtk_text_buffer_get_iter_at_line (buffer, &it, 6);
    gtk_text_buffer_insert (buffer, &it, "```\n", -1);
    run_idles ();
    /* Now lines 6-7 are an empty fence, "# not a heading" is a heading,
     * the old closing fence opens a new block that runs to the end. */
    gtk_text_buffer_get_iter_at_line (buffer, &it, 11);
    g_assert_true (gtk_text_iter_has_tag (&it, code));
    g_assert_false (gtk_text_iter_has_tag (&it, h3));
  }
  g_object_unref (view);
}

static void
test_page_history (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  guint64 then;
  gint64 now = 0;

  /* Undo groups edits closer than 500 ms; a clock keeps them apart. */
  flow_doc_set_clock (doc, flow_test_clock, &now, NULL);
  gtk_text_buffer_set_text (buffer, "one\ntwo\nthree\n", -1);
  then = flow_doc_get_n_ops (doc);
  {
    GtkTextIter s, e;

    gtk_text_buffer_get_iter_at_line (buffer, &s, 1);
    e = s;
    gtk_text_iter_forward_line (&e);
    gtk_text_buffer_delete (buffer, &s, &e);
    gtk_text_buffer_get_end_iter (buffer, &e);
    gtk_text_buffer_insert (buffer, &e, "four\n", -1);
  }
  flow_page_view_show_history (view, TRUE);
  g_assert_true (flow_page_view_preview_version (view, then));
  /* The preview shows the old text plus what was added since, marked. */
  {
    GtkTextBuffer *shown = gtk_text_view_get_buffer (flow_page_view_get_text_view (view));
    GtkTextTagTable *table = gtk_text_buffer_get_tag_table (shown);
    GtkTextIter it;
    g_autofree char *preview = buffer_text (shown);

    g_assert_false (gtk_text_view_get_editable (flow_page_view_get_text_view (view)));
    g_assert_true (shown != buffer);
    g_assert_cmpstr (preview, ==, "one\ntwo\nthree\nfour\n");
    gtk_text_buffer_get_iter_at_line (shown, &it, 1);
    g_assert_true (gtk_text_iter_has_tag (&it, gtk_text_tag_table_lookup (table, "flow-removed")));
    gtk_text_buffer_get_iter_at_line (shown, &it, 3);
    g_assert_true (gtk_text_iter_has_tag (&it, gtk_text_tag_table_lookup (table, "flow-added")));
  }
  now += G_USEC_PER_SEC;
  g_assert_true (flow_page_view_restore_preview (view, &error));
  g_assert_no_error (error);
  text = flow_doc_dup_text (doc);
  g_assert_cmpstr (text, ==, "one\ntwo\nthree\n");
  assert_in_sync (view);
  g_assert_true (gtk_text_view_get_buffer (flow_page_view_get_text_view (view)) == buffer);
  /* One undo step brings back what the restore replaced. */
  g_assert_true (flow_doc_undo (doc));
  g_clear_pointer (&text, g_free);
  text = flow_doc_dup_text (doc);
  g_assert_cmpstr (text, ==, "one\nthree\nfour\n");
  g_object_unref (view);
}

static void
link_cb (FlowPageView *view,
         int           kind,
         const char   *target,
         GString      *log)
{
  g_string_append_printf (log, "%d:%s;", kind, target);
}

/* Links are styled and Ctrl+click follows them. */
static void
test_page_links (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
  FlowPageView *view = g_object_ref_sink (flow_page_view_new (doc));
  GtkTextBuffer *buffer = flow_page_view_get_buffer (view);
  GtkTextTagTable *table = gtk_text_buffer_get_tag_table (buffer);
  g_autoptr(GString) log = g_string_new (NULL);
  GtkTextIter it;

  g_signal_connect (view, "link-activated", G_CALLBACK (link_cb), log);
  gtk_text_buffer_set_text (buffer, "See [[Design Notes]] and #sync, fixes PROJ-42.\n`[[not a link]]`\n"
                            "Read [the guide](https://gnome.org/guide) or https://flowsync.test/x.\n", -1);
  run_idles ();
  gtk_text_buffer_get_iter_at_offset (buffer, &it, 8);
  g_assert_true (gtk_text_iter_has_tag (&it, gtk_text_tag_table_lookup (table, "flow-wikilink")));
  gtk_text_buffer_get_iter_at_offset (buffer, &it, 27);
  g_assert_true (gtk_text_iter_has_tag (&it, gtk_text_tag_table_lookup (table, "flow-tag")));

  g_assert_true (flow_page_view_activate_link_at (view, 8));
  g_assert_true (flow_page_view_activate_link_at (view, 27));
  g_assert_true (flow_page_view_activate_link_at (view, 40));
  g_assert_false (flow_page_view_activate_link_at (view, 1));
  g_assert_false (flow_page_view_activate_link_at (view, 52));
  g_assert_cmpstr (log->str, ==, "0:Design Notes;1:sync;2:PROJ-42;");
  g_string_truncate (log, 0);
  /* Web addresses, in a Markdown link or bare. */
  g_assert_true (flow_page_view_activate_link_at (view, 64 + 8));
  g_assert_true (flow_page_view_activate_link_at (view, 64 + 50));
  g_assert_false (flow_page_view_activate_link_at (view, 64 + 1));
  g_assert_cmpstr (log->str, ==, "100:https://gnome.org/guide;100:https://flowsync.test/x;");
  g_object_unref (view);
}

/* [[ completion offers the workspace's titles and closes the link. */
static void
test_page_completion (void)
{
  g_autofree char *dir = g_dir_make_tmp ("flow-page-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "w.flowsync", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = flow_workspace_create (path, &error);
  g_autoptr(FlowPageCompletion) completion = NULL;
  g_autoptr(GPtrArray) titles = NULL;
  g_autoptr(GtkTextBuffer) buffer = gtk_text_buffer_new (NULL);
  GtkTextIter end;
  g_autofree char *prefix = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Design Notes", NULL, &error));
  g_assert_nonnull (flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "Old design", NULL, &error));
  g_assert_nonnull (flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "Roadmap", NULL, &error));
  completion = flow_page_completion_new (ws);

  titles = flow_page_completion_match (completion, "des");
  g_assert_cmpuint (titles->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (titles, 0), ==, "Design Notes");
  g_assert_cmpstr (g_ptr_array_index (titles, 1), ==, "Old design");
  g_clear_pointer (&titles, g_ptr_array_unref);
  titles = flow_page_completion_match (completion, "");
  g_assert_cmpuint (titles->len, ==, 3);

  gtk_text_buffer_set_text (buffer, "text [[Des", -1);
  gtk_text_buffer_get_end_iter (buffer, &end);
  prefix = flow_page_completion_get_prefix (&end);
  g_assert_cmpstr (prefix, ==, "Des");
  g_clear_pointer (&prefix, g_free);
  gtk_text_buffer_set_text (buffer, "done [[Design Notes]] more", -1);
  gtk_text_buffer_get_end_iter (buffer, &end);
  g_assert_null (flow_page_completion_get_prefix (&end));

  g_assert_true (flow_workspace_close (ws, &error));
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("ADW_DISABLE_PORTAL", "1", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/flow/page/fuzz", test_page_fuzz);
  g_test_add_func ("/flow/page/remote-cursor", test_page_remote_cursor);
  g_test_add_func ("/flow/page/remote-at-cursor", test_page_remote_at_cursor);
  g_test_add_func ("/flow/page/burst", test_page_burst);
  g_test_add_func ("/flow/page/undo-own-only", test_page_undo_own_only);
  g_test_add_func ("/flow/page/outline-words", test_page_outline_and_words);
  g_test_add_func ("/flow/page/history", test_page_history);
  g_test_add_func ("/flow/page/links", test_page_links);
  g_test_add_func ("/flow/page/completion", test_page_completion);

  return g_test_run ();
}
