/* test-search.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The workspace search index (src/store/flow-store-search*.c): search,
 * snippets and match offsets, backlinks and tags, kept up to date as pages,
 * boards and the catalog change, across reopening, from files of schema
 * version 1, and through the asynchronous API and flowsync-cli.
 */

#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "flow-board.h"
#include "flow-catalog.h"
#include "flow-store-search.h"
#include "flow-workspace.h"

typedef struct
{
  char          *dir;
  char          *path;
  FlowWorkspace *ws;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("flow-search-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "test.flowsync", NULL);
  f->ws = flow_workspace_create (f->path, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (f->ws != NULL)
    {
      g_assert_true (flow_workspace_close (f->ws, NULL));
      g_clear_object (&f->ws);
    }
  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (f->dir, name, NULL);

      g_remove (child);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
reopen (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_workspace_close (f->ws, &error));
  g_assert_no_error (error);
  g_clear_object (&f->ws);
  f->ws = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
}

static FlowStore *
store (Fixture *f)
{
  return flow_workspace_get_store (f->ws);
}

static FlowDoc *
new_page (Fixture    *f,
          const char *title,
          const char *text)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *page = flow_workspace_new_document (f->ws, FLOW_DOC_KIND_PAGE, title, NULL, &error);

  g_assert_no_error (error);
  if (text != NULL)
    g_assert_true (flow_doc_insert_text (page, 0, text, -1, NULL));
  return page;
}

static GPtrArray *
search (Fixture    *f,
        const char *query)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *results = flow_store_search (store (f), query, 20, &error);

  g_assert_no_error (error);
  g_assert_nonnull (results);
  return results;
}

/* Whether @query finds @doc (and only documents among @docs). */
static gboolean
finds (Fixture        *f,
       const char     *query,
       const FlowOpId *doc)
{
  g_autoptr(GPtrArray) results = search (f, query);

  for (guint i = 0; i < results->len; i++)
    {
      FlowSearchResult *r = g_ptr_array_index (results, i);

      if (flow_op_id_equal (&r->doc, doc))
        return TRUE;
    }
  return FALSE;
}

static FlowSearchResult *
only_result (GPtrArray *results)
{
  g_assert_cmpuint (results->len, ==, 1);
  return g_ptr_array_index (results, 0);
}

static gboolean
contains_id (GArray         *ids,
             const FlowOpId *doc)
{
  for (guint i = 0; i < ids->len; i++)
    if (flow_op_id_equal (&g_array_index (ids, FlowOpId, i), doc))
      return TRUE;
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Search
 * ------------------------------------------------------------------------ */

static void
test_basic (Fixture       *f,
            gconstpointer  data)
{
  FlowDoc *a = new_page (f, "Quarterly plan", "We ship the rocket in spring.\nThen we rest.");
  FlowDoc *b = new_page (f, "Groceries", "Milk, eggs, rocket salad.");
  g_autoptr(GPtrArray) results = NULL;
  FlowSearchResult *r;

  (void) b;
  /* The title. */
  results = search (f, "quarterly");
  r = only_result (results);
  g_assert_true (flow_op_id_equal (&r->doc, flow_doc_get_id (a)));
  g_assert_cmpint (r->kind, ==, FLOW_DOC_KIND_PAGE);
  g_assert_cmpstr (r->title, ==, "Quarterly plan");
  g_clear_pointer (&results, g_ptr_array_unref);

  /* The text, with a snippet and the offset of the match. */
  results = search (f, "spring");
  r = only_result (results);
  g_assert_nonnull (strstr (r->snippet, FLOW_SEARCH_MATCH_START "spring" FLOW_SEARCH_MATCH_END));
  g_assert_cmpuint (r->match_offset, ==, strlen ("We ship the rocket in "));
  g_assert_cmpfloat (r->rank, >, 0);
  g_clear_pointer (&results, g_ptr_array_unref);

  /* Both; all words must match; the last word is a prefix. */
  results = search (f, "rocket");
  g_assert_cmpuint (results->len, ==, 2);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = search (f, "rocket sal");
  r = only_result (results);
  g_assert_cmpstr (r->title, ==, "Groceries");
  g_clear_pointer (&results, g_ptr_array_unref);
  results = search (f, "ROCKET Spr");
  g_assert_cmpstr (only_result (results)->title, ==, "Quarterly plan");
  g_clear_pointer (&results, g_ptr_array_unref);

  /* A limit. */
  results = flow_store_search (store (f), "rocket", 1, NULL);
  g_assert_cmpuint (results->len, ==, 1);
  g_clear_pointer (&results, g_ptr_array_unref);

  results = search (f, "nothing-like-this");
  g_assert_cmpuint (results->len, ==, 0);
}

static void
test_edits (Fixture       *f,
            gconstpointer  data)
{
  FlowDoc *page = new_page (f, "Notes", "alpha beta gamma");
  FlowOpId page_id = *flow_doc_get_id (page);

  g_assert_true (finds (f, "beta", &page_id));
  /* Deleting the word: no longer found. */
  g_assert_true (flow_doc_delete_text (page, 6, 5, NULL));
  g_assert_false (finds (f, "beta", &page_id));
  g_assert_true (finds (f, "gamma", &page_id));
  /* New text is found at once. */
  g_assert_true (flow_doc_insert_text (page, 0, "delta ", -1, NULL));
  g_assert_true (finds (f, "delta", &page_id));
  /* Undo is an edit too. */
  g_assert_true (flow_doc_undo (page));
  g_assert_false (finds (f, "delta", &page_id));

  /* After a flush the index is written, and survives reopening. */
  g_assert_true (flow_doc_insert_text (page, 0, "epsilon ", -1, NULL));
  g_assert_true (flow_store_flush (store (f), NULL));
  reopen (f);
  {
    g_autoptr(GPtrArray) results = search (f, "epsilon");
    g_assert_cmpstr (only_result (results)->title, ==, "Notes");
  }
  {
    g_autoptr(GPtrArray) results = search (f, "beta");
    g_assert_cmpuint (results->len, ==, 0);
  }
}

static void
test_catalog (Fixture       *f,
              gconstpointer  data)
{
  FlowDoc *catalog = flow_workspace_get_catalog (f->ws);
  FlowDoc *page = new_page (f, "Old name", "some unique zebra text");
  FlowOpId page_id = *flow_doc_get_id (page);
  const FlowOpId *id = &page_id;

  g_assert_true (finds (f, "old name", &page_id));
  g_assert_true (flow_catalog_rename (catalog, id, "Brand new", NULL));
  g_assert_false (finds (f, "old", &page_id));
  g_assert_true (finds (f, "brand", &page_id));
  g_assert_true (finds (f, "zebra", &page_id));

  g_assert_true (flow_catalog_trash (catalog, id, NULL));
  g_assert_false (finds (f, "zebra", &page_id));
  g_assert_false (finds (f, "brand", &page_id));

  reopen (f);
  catalog = flow_workspace_get_catalog (f->ws);
  g_assert_false (finds (f, "zebra", &page_id));

  g_assert_true (flow_catalog_restore (catalog, id, NULL));
  g_assert_true (finds (f, "zebra", &page_id));
  reopen (f);
  g_assert_true (finds (f, "zebra", &page_id));
  g_assert_true (finds (f, "brand new", &page_id));
}

static void
test_board (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *board = flow_workspace_new_document (f->ws, FLOW_DOC_KIND_BOARD, "Wall", NULL, &error);
  FlowOpId board_id = *flow_doc_get_id (board);
  g_autoptr(FlowValue) sticky_text = flow_value_new_string ("Remember the kiwi");
  g_autoptr(FlowValue) text_text = flow_value_new_string ("Héllo wörld");
  g_autoptr(FlowValue) rect_text = flow_value_new_string ("hidden mango");
  g_autoptr(GPtrArray) results = NULL;
  FlowOpId sticky, text, rect;

  g_assert_no_error (error);
  g_assert_true (flow_board_add_shape (board, "sticky", 0, 0, 100, 100, &sticky, NULL));
  g_assert_true (flow_board_add_shape (board, "text", 200, 0, 100, 40, &text, NULL));
  g_assert_true (flow_board_add_shape (board, "rect", 0, 200, 100, 40, &rect, NULL));
  g_assert_true (flow_doc_set_property (board, &sticky, "text", sticky_text, NULL));
  g_assert_true (flow_doc_set_property (board, &text, "text", text_text, NULL));
  g_assert_true (flow_doc_set_property (board, &rect, "text", rect_text, NULL));

  results = search (f, "kiwi");
  g_assert_cmpint (only_result (results)->kind, ==, FLOW_DOC_KIND_BOARD);
  g_assert_cmpuint (only_result (results)->match_offset, ==, strlen ("Remember the "));
  g_clear_pointer (&results, g_ptr_array_unref);
  /* Diacritics do not matter. */
  g_assert_true (finds (f, "hello world", &board_id));
  g_assert_true (finds (f, "wörld", &board_id));
  /* Only text and sticky shapes are text. */
  g_assert_false (finds (f, "mango", &board_id));

  g_assert_true (flow_board_delete (board, &sticky, 1, NULL));
  g_assert_false (finds (f, "kiwi", &board_id));
  g_assert_true (finds (f, "hello", &board_id));
  reopen (f);
  g_assert_true (finds (f, "hello", &board_id));
  g_assert_false (finds (f, "kiwi", &board_id));
}

static void
test_unicode (Fixture       *f,
              gconstpointer  data)
{
  const char *text = "😀 ünïcödé 日本語 テキスト\n👩‍👩‍👧 family naïve café Zürich";
  FlowDoc *page = new_page (f, "Ünïcode", text);
  FlowOpId page_id = *flow_doc_get_id (page);
  g_autoptr(GPtrArray) results = NULL;
  FlowSearchResult *r;

  results = search (f, "naive");
  r = only_result (results);
  /* Code points, not bytes, before the match. */
  g_assert_cmpuint (r->match_offset, ==, g_utf8_strlen (text, strstr (text, "naïve") - text));
  g_assert_nonnull (strstr (r->snippet, "\x01naïve\x02"));
  g_clear_pointer (&results, g_ptr_array_unref);

  results = search (f, "zurich");
  g_assert_cmpuint (only_result (results)->match_offset, ==,
                    g_utf8_strlen (text, strstr (text, "Zürich") - text));
  g_clear_pointer (&results, g_ptr_array_unref);

  /* unicode61 keeps a run of CJK as one token: whole runs and prefixes. */
  g_assert_true (finds (f, "日本語", &page_id));
  g_assert_true (finds (f, "テキ", &page_id));
  g_assert_true (finds (f, "unicode", &page_id));
}

static void
test_garbage_queries (Fixture       *f,
                      gconstpointer  data)
{
  static const char * const queries[] = {
    "", " ", "\"", "\"\"", "\"unbalanced", "(", ")", "(a OR", "a AND", "AND", "OR", "NOT",
    "NEAR", "NEAR(a b)", "a NEAR/3 b", "*", "a*", "*a", "**", "-", "-a", "+", "^a", "a:b",
    "title:x", "body:", "{a b}", "col : x", "'", "\\", "\\\"", "%", "_", "a\"b", "😀", "日本",
    "\x01\x02", "\xff\xfe invalid", "a\nb\tc", "' OR 1=1 --", "); DROP TABLE docs; --",
  };
  FlowDoc *page = new_page (f, "Garbage", "a b c plain words AND OR NEAR");
  FlowOpId page_id = *flow_doc_get_id (page);

  (void) page;
  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) results = flow_store_search (store (f), queries[i], 10, &error);

      g_assert_no_error (error);
      g_assert_nonnull (results);
    }
  /* Operators are words like any other. */
  g_assert_true (finds (f, "AND", &page_id));
  g_assert_true (finds (f, "near", &page_id));
  g_assert_true (finds (f, "(plain)", &page_id));
  g_assert_true (finds (f, "\"words", &page_id));
  {
    g_autoptr(GPtrArray) results = search (f, "");
    g_assert_cmpuint (results->len, ==, 0);
  }
  /* The tables are still there. */
  g_assert_true (finds (f, "plain", &page_id));
}

static void
test_query_to_fts (void)
{
  static const struct { const char *in; const char *out; } cases[] = {
    { "hello", "\"hello\"*" },
    { "  hello   world ", "\"hello\" \"world\"*" },
    { "a\"b", "\"a\"\"b\"*" },
    { "AND OR", "\"AND\" \"OR\"*" },
    { "( ) * -", NULL },
    { "", NULL },
    { "foo (", "\"foo\"*" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = flow_search_query_to_fts (cases[i].in);

      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

/* ------------------------------------------------------------------------
 * Links and tags
 * ------------------------------------------------------------------------ */

static void
test_backlinks (Fixture       *f,
                gconstpointer  data)
{
  FlowDoc *catalog = flow_workspace_get_catalog (f->ws);
  FlowDoc *target = new_page (f, "Meeting Notes", "the target");
  FlowDoc *a = new_page (f, "A", "see [[meeting notes]] and [[Other|x]]");
  FlowOpId a_id = *flow_doc_get_id (a);
  FlowDoc *b = new_page (f, "B", "`[[Meeting Notes]]` is code, not a link");
  FlowOpId b_id = *flow_doc_get_id (b);
  FlowDoc *c = new_page (f, "C", "nothing yet");
  FlowOpId c_id = *flow_doc_get_id (c);
  g_autoptr(GArray) ids = NULL;

  (void) target;
  ids = flow_store_backlinks (store (f), "Meeting Notes", NULL);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_true (contains_id (ids, &a_id));
  g_assert_false (contains_id (ids, &b_id));
  g_clear_pointer (&ids, g_array_unref);

  /* Edits add and remove links. */
  g_assert_true (flow_doc_insert_text (c, 0, "[[ MEETING NOTES |label]] ", -1, NULL));
  g_assert_true (flow_doc_delete_text (a, 0, 4, NULL));
  g_assert_true (flow_doc_insert_text (a, 0, "not ", -1, NULL));
  ids = flow_store_backlinks (store (f), "meeting notes", NULL);
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_true (contains_id (ids, &c_id));
  g_clear_pointer (&ids, g_array_unref);

  /* Breaking the brackets removes the link. */
  g_assert_true (flow_doc_delete_text (a, 8, 1, NULL));
  ids = flow_store_backlinks (store (f), "Meeting Notes", NULL);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_true (contains_id (ids, &c_id));
  g_clear_pointer (&ids, g_array_unref);

  /* Trashed documents link nowhere. */
  g_assert_true (flow_catalog_trash (catalog, flow_doc_get_id (c), NULL));
  ids = flow_store_backlinks (store (f), "Meeting Notes", NULL);
  g_assert_cmpuint (ids->len, ==, 0);
  g_clear_pointer (&ids, g_array_unref);

  reopen (f);
  ids = flow_store_backlinks (store (f), "other", NULL);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_true (contains_id (ids, &a_id));
}

static guint
tag_count (GArray     *tags,
           const char *tag)
{
  for (guint i = 0; i < tags->len; i++)
    if (g_strcmp0 (g_array_index (tags, FlowTagCount, i).tag, tag) == 0)
      return g_array_index (tags, FlowTagCount, i).n_docs;
  return 0;
}

static void
test_tags (Fixture       *f,
           gconstpointer  data)
{
  FlowDoc *catalog = flow_workspace_get_catalog (f->ws);
  FlowDoc *a = new_page (f, "A", "# Heading\n#project #idea");
  FlowDoc *b = new_page (f, "B", "more on #project and #Idea, not #123 or a#b");
  FlowOpId b_id = *flow_doc_get_id (b);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) tags = NULL;
  g_autoptr(GArray) ids = NULL;
  FlowDoc *board;
  FlowOpId sticky;
  g_autoptr(FlowValue) note = flow_value_new_string ("todo #project");

  tags = flow_store_list_tags (store (f), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tags->len, ==, 2);
  g_assert_cmpuint (tag_count (tags, "project"), ==, 2);
  /* One tag whatever the case; a tie of spellings goes to the first. */
  g_assert_cmpuint (tag_count (tags, "Idea") + tag_count (tags, "idea"), ==, 2);
  g_clear_pointer (&tags, g_array_unref);

  ids = flow_store_docs_with_tag (store (f), "#IDEA", NULL);
  g_assert_cmpuint (ids->len, ==, 2);
  g_clear_pointer (&ids, g_array_unref);

  /* Sticky notes carry tags too. */
  board = flow_workspace_new_document (f->ws, FLOW_DOC_KIND_BOARD, "Board", NULL, NULL);
  g_assert_true (flow_board_add_shape (board, "sticky", 0, 0, 10, 10, &sticky, NULL));
  g_assert_true (flow_doc_set_property (board, &sticky, "text", note, NULL));
  ids = flow_store_docs_with_tag (store (f), "project", NULL);
  g_assert_cmpuint (ids->len, ==, 3);
  g_clear_pointer (&ids, g_array_unref);

  /* Removing a tag; trashing a document. */
  g_assert_true (flow_doc_delete_text (a, 10, 9, NULL));
  g_assert_true (flow_catalog_trash (catalog, flow_doc_get_id (board), NULL));
  tags = flow_store_list_tags (store (f), NULL);
  g_assert_cmpuint (tag_count (tags, "project"), ==, 1);
  g_clear_pointer (&tags, g_array_unref);

  reopen (f);
  ids = flow_store_docs_with_tag (store (f), "project", NULL);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_true (contains_id (ids, &b_id));
}

/* ------------------------------------------------------------------------
 * Upkeep
 * ------------------------------------------------------------------------ */

static gint64
count_rows (const char *path,
            const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 n = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return n;
}

static gboolean
quit_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
run_main_loop (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, quit_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Edits reach the file's index on their own, shortly after. */
static void
test_incremental (Fixture       *f,
                  gconstpointer  data)
{
  FlowDoc *page = new_page (f, "Live", "start");
  const char *sql = "SELECT count (*) FROM search_text WHERE search_text MATCH 'xylophone'";

  g_assert_true (flow_store_flush (store (f), NULL));
  g_assert_cmpint (count_rows (f->path, sql), ==, 0);
  g_assert_true (flow_doc_insert_text (page, 5, " xylophone", -1, NULL));
  /* Not at once... */
  g_assert_cmpint (count_rows (f->path, sql), ==, 0);
  /* ...but after the debounce and a commit, without any call. */
  for (guint i = 0; i < 50 && count_rows (f->path, sql) == 0; i++)
    run_main_loop (100);
  g_assert_cmpint (count_rows (f->path, sql), ==, 1);
}

static void
done_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Returns: (transfer full): the result of an async call just made */
static GAsyncResult *
wait_for (GAsyncResult **result)
{
  /* The call returned before the answer: the caller never waits. */
  g_assert_null (*result);
  while (*result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return g_steal_pointer (result);
}

static void
test_async (Fixture       *f,
            gconstpointer  data)
{
  FlowDoc *page = new_page (f, "Async", "[[Target]] #tagged asynchronous words");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  GAsyncResult *pending = NULL;
  GAsyncResult *result;
  GPtrArray *results;
  GArray *ids;

  /* A large page keeps the writer busy while the caller goes on. */
  for (guint i = 0; i < 200; i++)
    g_assert_true (flow_doc_insert_text (page, flow_doc_get_length (page), " filler text line\n", -1, NULL));

  flow_store_search_async (store (f), "asynchr", 10, NULL, done_cb, &pending);
  result = wait_for (&pending);
  results = flow_store_search_finish (store (f), result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 1);
  g_ptr_array_unref (results);
  g_object_unref (result);

  flow_store_backlinks_async (store (f), "target", NULL, done_cb, &pending);
  result = wait_for (&pending);
  ids = flow_store_backlinks_finish (store (f), result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 1);
  g_array_unref (ids);
  g_object_unref (result);

  flow_store_list_tags_async (store (f), NULL, done_cb, &pending);
  result = wait_for (&pending);
  ids = flow_store_list_tags_finish (store (f), result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpstr (g_array_index (ids, FlowTagCount, 0).tag, ==, "tagged");
  g_array_unref (ids);
  g_object_unref (result);

  flow_store_docs_with_tag_async (store (f), "tagged", NULL, done_cb, &pending);
  result = wait_for (&pending);
  ids = flow_store_docs_with_tag_finish (store (f), result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 1);
  g_array_unref (ids);
  g_object_unref (result);

  /* A cancelled search says so. */
  g_cancellable_cancel (cancellable);
  flow_store_search_async (store (f), "words", 10, cancellable, done_cb, &pending);
  result = wait_for (&pending);
  g_assert_null (flow_store_search_finish (store (f), result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_object_unref (result);

  /* A closed store says so. */
  g_assert_true (flow_workspace_close (f->ws, NULL));
  flow_store_search_async (store (f), "words", 10, NULL, done_cb, &pending);
  result = wait_for (&pending);
  g_assert_null (flow_store_search_finish (store (f), result, &error));
  g_assert_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED);
  g_clear_error (&error);
  g_object_unref (result);
  g_clear_object (&f->ws);
}

static void
exec_sql (const char *path,
          const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

/* A file of schema version 1 (before the index) gets one when opened. */
static void
test_migration (Fixture       *f,
                gconstpointer  data)
{
  FlowDoc *page = new_page (f, "From the past", "an old [[Link]] #oldtag with quokka");
  FlowOpId page_id = *flow_doc_get_id (page);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) ids = NULL;

  (void) page;
  g_assert_true (flow_workspace_close (f->ws, &error));
  g_clear_object (&f->ws);
  /* What version 1 looked like. */
  exec_sql (f->path, "DROP TABLE search_docs; DROP TABLE search_text; DROP TABLE links; "
                     "DROP TABLE tags; PRAGMA user_version = 1; PRAGMA wal_checkpoint (TRUNCATE);");
  g_assert_cmpint (count_rows (f->path, "PRAGMA user_version"), ==, 1);

  f->ws = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (finds (f, "quokka", &page_id));
  g_assert_true (finds (f, "past", &page_id));
  ids = flow_store_backlinks (store (f), "link", NULL);
  g_assert_cmpuint (ids->len, ==, 1);
  g_clear_pointer (&ids, g_array_unref);
  ids = flow_store_docs_with_tag (store (f), "oldtag", NULL);
  g_assert_cmpuint (ids->len, ==, 1);

  g_assert_true (flow_workspace_close (f->ws, &error));
  g_clear_object (&f->ws);
  g_assert_cmpint (count_rows (f->path, "PRAGMA user_version"), ==, 2);
  g_assert_cmpint (count_rows (f->path, "SELECT count (*) FROM search_docs WHERE live = 1"), ==, 1);
  f->ws = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
}

/* Rows that fell behind the op log (a crash between the commit of ops and
 * the index, another program's edits) are read again when the file opens. */
static void
test_stale (Fixture       *f,
            gconstpointer  data)
{
  FlowDoc *page = new_page (f, "Stale", "before");
  FlowOpId page_id = *flow_doc_get_id (page);
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_insert_text (page, 6, " walrus", -1, NULL));
  g_assert_true (flow_workspace_close (f->ws, &error));
  g_clear_object (&f->ws);
  /* The index as it was before the last edit. */
  exec_sql (f->path, "UPDATE search_docs SET n_ops = n_ops - 1; "
                     "UPDATE search_text SET body = 'before';");
  g_assert_cmpint (count_rows (f->path, "SELECT count (*) FROM search_text "
                                        "WHERE search_text MATCH 'walrus'"), ==, 0);

  f->ws = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  /* In the background, without a query. */
  g_assert_true (flow_store_reindex (store (f), &error));
  g_assert_no_error (error);
  g_assert_cmpint (count_rows (f->path, "SELECT count (*) FROM search_text "
                                        "WHERE search_text MATCH 'walrus'"), ==, 1);
  g_assert_true (finds (f, "walrus", &page_id));
}

/* Many documents: queries see all of them, including ones the background
 * has not reached. */
static void
test_many (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;

  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *title = g_strdup_printf ("Page %u", i);
      g_autofree char *text = g_strdup_printf ("common text number%u", i);

      new_page (f, title, text);
    }
  g_assert_true (flow_workspace_close (f->ws, &error));
  g_clear_object (&f->ws);
  exec_sql (f->path, "DELETE FROM search_docs; DELETE FROM search_text; DELETE FROM links; "
                     "DELETE FROM tags;");
  f->ws = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
  results = search (f, "common");
  g_assert_cmpuint (results->len, ==, 20);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = flow_store_search (store (f), "common", 0, NULL);
  g_assert_cmpuint (results->len, ==, 60);
  g_clear_pointer (&results, g_ptr_array_unref);
  results = search (f, "number59");
  g_assert_cmpstr (only_result (results)->title, ==, "Page 59");
}

/* flowsync-cli search QUERY */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  const char *cli = g_getenv ("FLOWSYNC_CLI");
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (cli == NULL)
    {
      g_test_skip ("FLOWSYNC_CLI is not set");
      return;
    }
  new_page (f, "CLI page", "findable ünicode text");
  g_assert_true (flow_workspace_close (f->ws, &error));
  g_clear_object (&f->ws);

  {
    const char *argv[] = { cli, "search", "-w", f->path, "finda", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "CLI page"));
    g_assert_nonnull (strstr (out, "[findable]"));
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *argv[] = { cli, "search", "-w", f->path, "(\"nomatch", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
    /* No results: exit status 1, like grep. */
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 1);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *argv[] = { cli, "search", "-w", f->path, "--json", "ünicode", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                                 &status, &error));
    g_assert_true (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (out, "\"match_offset\""));
  }
  f->ws = flow_workspace_open (f->path, &error);
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/search/basic", test_basic);
  ADD ("/search/edits", test_edits);
  ADD ("/search/catalog", test_catalog);
  ADD ("/search/board", test_board);
  ADD ("/search/unicode", test_unicode);
  ADD ("/search/garbage-queries", test_garbage_queries);
  g_test_add_func ("/search/query-to-fts", test_query_to_fts);
  ADD ("/search/backlinks", test_backlinks);
  ADD ("/search/tags", test_tags);
  ADD ("/search/incremental", test_incremental);
  ADD ("/search/async", test_async);
  ADD ("/search/migration", test_migration);
  ADD ("/search/stale", test_stale);
  ADD ("/search/many", test_many);
  ADD ("/search/cli", test_cli);

  return g_test_run ();
}
