/* flow-store-search.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Workspace search, backlinks and tags: an index kept in the workspace
 * file (flow-store-search-db.c) and kept up to date as documents change.
 *
 * Upkeep, on the thread that owns the store (FlowIndex):
 *  - a change of a tracked page or board marks it dirty; a change of the
 *    tracked catalog marks the catalog dirty (titles, trash, restore);
 *  - a second after the last mark (once typing pauses), and on flush,
 *    untrack, close and before every query, the dirty documents' text, links and tags are read from the
 *    FlowDocs, here, and handed to the writer thread as a job. The caller
 *    never waits for the file.
 *
 * On the writer thread:
 *  - when the store opens, the catalog is read from the file and the rows
 *    whose op count differs from the file's (documents edited by a session
 *    that crashed, by an older FlowSync, or never indexed) are queued. They
 *    are read in the background, a few milliseconds' worth per job, so op
 *    commits are not held up. Queries drain the queue first, so their
 *    answers are complete; closing drops it (the next session resumes).
 *  - the index's own writes are transactions of their own (never part of
 *    an op commit), so a failure there cannot cost an op.
 */

#define G_LOG_DOMAIN "flow-store"

#include "config.h"

#include <string.h>

#include "flow-catalog.h"
#include "flow-links.h"
#include "flow-store-search-private.h"

#define REINDEX_DELAY_MS 1000
#define STEP_BUDGET_US   (10 * 1000)

static const FlowOpId catalog_id = { 0, 0 };

struct _FlowIndex
{
  FlowStore  *store;          /* borrowed: the store owns us */

  /* The owner's thread. */
  GHashTable *dirty;          /* FlowDoc* (owned ref) set */
  FlowDoc    *catalog;        /* borrowed: tracked, so alive */
  gboolean    catalog_dirty;
  GSource    *timer;
  gint64      last_mark;      /* when a document was last marked dirty */

  /* Both threads. */
  gint        closing;        /* atomic */

  /* The writer thread. */
  GQueue      pending;        /* char* ids of stale documents */
  gboolean    step_queued;
};

/* ------------------------------------------------------------------------
 * What the index holds of a document
 * ------------------------------------------------------------------------ */

static gboolean
is_text_shape (const char *kind)
{
  return g_strcmp0 (kind, "text") == 0 || g_strcmp0 (kind, "sticky") == 0;
}

/* A page's text, or a board's text and sticky shapes' text, bottom to top,
 * one per line. */
static char *
doc_text (FlowDoc *doc)
{
  g_autoptr(GArray) shapes = NULL;
  GString *text;

  if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
    return flow_doc_dup_text (doc);
  if (flow_doc_get_kind (doc) != FLOW_DOC_KIND_BOARD)
    return g_strdup ("");

  text = g_string_new (NULL);
  shapes = flow_doc_list_ordered (doc);
  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowOpId *id = &g_array_index (shapes, FlowOpId, i);
      FlowValue *v;

      if (!is_text_shape (flow_doc_get_entity_kind (doc, id)))
        continue;
      v = flow_doc_get_property (doc, id, "text");
      if (v == NULL || flow_value_get_value_type (v) != FLOW_VALUE_STRING ||
          *flow_value_get_string (v) == '\0')
        continue;
      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, flow_value_get_string (v));
    }
  return g_string_free (text, FALSE);
}

/* Reads @doc's text, links and tags, on the thread that owns @doc. */
FlowIndexText *
flow_index_text_new (FlowDoc *doc)
{
  FlowIndexText *t = g_new0 (FlowIndexText, 1);
  g_autoptr(GArray) links = NULL;

  t->doc = flow_op_id_to_string (flow_doc_get_id (doc));
  t->kind = flow_doc_get_kind (doc);
  t->n_ops = (gint64) flow_doc_get_n_ops (doc);
  t->text = doc_text (doc);
  /* The snippet markers must mean matches only (same code point count). */
  for (char *p = t->text; *p; p++)
    if (*p == '\x01' || *p == '\x02')
      *p = ' ';
  t->links = g_ptr_array_new_with_free_func (g_free);
  t->tags = g_ptr_array_new_with_free_func (g_free);

  links = flow_links_extract (t->text, -1);
  for (guint i = 0; i < links->len; i++)
    {
      FlowPageLink *l = &g_array_index (links, FlowPageLink, i);

      if (l->kind == FLOW_PAGE_LINK_WIKI)
        g_ptr_array_add (t->links, g_steal_pointer (&l->target));
      else if (l->kind == FLOW_PAGE_LINK_TAG)
        g_ptr_array_add (t->tags, g_steal_pointer (&l->target));
    }
  return t;
}

void
flow_index_text_free (FlowIndexText *t)
{
  g_free (t->doc);
  g_free (t->text);
  g_ptr_array_unref (t->links);
  g_ptr_array_unref (t->tags);
  g_free (t);
}

void
flow_index_entry_clear (FlowIndexEntry *e)
{
  g_clear_pointer (&e->doc, g_free);
  g_clear_pointer (&e->title, g_free);
}

/* Returns: (element-type FlowIndexEntry): every document of @catalog */
GArray *
flow_index_entries_new (FlowDoc *catalog)
{
  g_autoptr(GArray) list = flow_catalog_list (catalog, TRUE);
  GArray *entries = g_array_sized_new (FALSE, TRUE, sizeof (FlowIndexEntry), list->len);

  g_array_set_clear_func (entries, (GDestroyNotify) flow_index_entry_clear);
  for (guint i = 0; i < list->len; i++)
    {
      const FlowCatalogEntry *c = &g_array_index (list, FlowCatalogEntry, i);
      FlowIndexEntry e;

      e.doc = flow_op_id_to_string (&c->id);
      e.kind = c->kind;
      e.title = g_strdup (c->title ? c->title : "");
      e.live = !c->deleted;
      g_array_append_val (entries, e);
    }
  return entries;
}

/* ------------------------------------------------------------------------
 * Writer thread
 * ------------------------------------------------------------------------ */

static void
write_text_cb (FlowStore *store,
               FlowDb    *db,
               gpointer   data,
               GTask     *task)
{
  g_autoptr(GError) error = NULL;

  if (!flow_db_index_text (db, data, &error))
    g_debug ("Could not index document %s: %s", ((FlowIndexText *) data)->doc, error->message);
}

static void
write_catalog_cb (FlowStore *store,
                  FlowDb    *db,
                  gpointer   data,
                  GTask     *task)
{
  g_autoptr(GError) error = NULL;

  if (!flow_db_index_catalog (db, data, &error))
    g_debug ("Could not index the catalog: %s", error->message);
}

/* Reads one stale document from the file and indexes it. */
static void
index_from_file (FlowIndex  *self,
                 FlowDb     *db,
                 const char *doc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  FlowIndexText *t;
  FlowDocKind kind;
  FlowOpId id;

  if (!flow_db_index_doc_stale (db, doc, &kind, &error))
    {
      if (error != NULL)
        g_debug ("Could not check the index of %s: %s", doc, error->message);
      return;
    }
  if (!flow_op_id_parse (doc, &id) || kind > FLOW_DOC_KIND_BOARD)
    return;
  loaded = flow_db_load_doc (db, &id, kind, NULL, NULL, &error);
  if (loaded == NULL)
    {
      g_debug ("Could not read %s to index it: %s", doc, error->message);
      return;
    }
  t = flow_index_text_new (loaded);
  if (!flow_db_index_text (db, t, &error))
    g_debug ("Could not index document %s: %s", doc, error->message);
  flow_index_text_free (t);
}

static void step_cb (FlowStore *store,
                     FlowDb    *db,
                     gpointer   data,
                     GTask     *task);

static void
queue_step (FlowIndex *self)
{
  if (self->step_queued || self->pending.length == 0 || g_atomic_int_get (&self->closing))
    return;
  self->step_queued = TRUE;
  flow_store_push_call (self->store, step_cb, NULL, NULL, NULL);
}

/* A few milliseconds of background indexing, then room for other jobs. */
static void
step_cb (FlowStore *store,
         FlowDb    *db,
         gpointer   data,
         GTask     *task)
{
  FlowIndex *self = flow_store_get_index (store);
  gint64 start = g_get_monotonic_time ();

  self->step_queued = FALSE;
  while (self->pending.length > 0 && !g_atomic_int_get (&self->closing) &&
         g_get_monotonic_time () - start < STEP_BUDGET_US)
    {
      g_autofree char *doc = g_queue_pop_head (&self->pending);

      index_from_file (self, db, doc);
    }
  queue_step (self);
}

/* Everything still queued in the background, now. */
static void
drain (FlowIndex *self,
       FlowDb    *db)
{
  while (self->pending.length > 0 && !g_atomic_int_get (&self->closing))
    {
      g_autofree char *doc = g_queue_pop_head (&self->pending);

      index_from_file (self, db, doc);
    }
}

/* On open: titles from the file's catalog, and the stale rows queued. */
static void
scan_cb (FlowStore *store,
         FlowDb    *db,
         gpointer   data,
         GTask     *task)
{
  FlowIndex *self = flow_store_get_index (store);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) catalog = NULL;
  g_autoptr(GPtrArray) stale = NULL;

  if (g_atomic_int_get (&self->closing))
    return;

  catalog = flow_db_load_doc (db, &catalog_id, FLOW_DOC_KIND_CATALOG, NULL, NULL, &error);
  if (catalog == NULL)
    g_debug ("Could not read the catalog to index it: %s", error->message);
  else if (flow_doc_get_n_ops (catalog) > 0)
    {
      g_autoptr(GArray) entries = flow_index_entries_new (catalog);

      if (!flow_db_index_catalog (db, entries, &error))
        g_debug ("Could not index the catalog: %s", error->message);
    }
  g_clear_error (&error);

  stale = flow_db_index_stale (db, &error);
  if (stale == NULL)
    {
      g_debug ("Could not look for documents to index: %s", error->message);
      return;
    }
  for (guint i = 0; i < stale->len; i++)
    g_queue_push_tail (&self->pending, g_strdup (g_ptr_array_index (stale, i)));
  queue_step (self);
}

/* ------------------------------------------------------------------------
 * The owner's thread
 * ------------------------------------------------------------------------ */

FlowIndex *
flow_index_new (FlowStore *store)
{
  FlowIndex *self = g_new0 (FlowIndex, 1);

  self->store = store;
  self->dirty = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  g_queue_init (&self->pending);
  return self;
}

static void
cancel_timer (FlowIndex *self)
{
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
}

void
flow_index_free (FlowIndex *self)
{
  cancel_timer (self);
  g_hash_table_unref (self->dirty);
  g_queue_clear_full (&self->pending, g_free);
  g_free (self);
}

/* Called when the store's writer thread is running. */
void
flow_index_start (FlowIndex *self)
{
  flow_store_push_call (self->store, scan_cb, NULL, NULL, NULL);
}

static void
push_text (FlowIndex *self,
           FlowDoc   *doc)
{
  flow_store_push_call (self->store, write_text_cb, flow_index_text_new (doc),
                        (GDestroyNotify) flow_index_text_free, NULL);
}

static void
push_catalog (FlowIndex *self)
{
  self->catalog_dirty = FALSE;
  if (self->catalog != NULL)
    flow_store_push_call (self->store, write_catalog_cb, flow_index_entries_new (self->catalog),
                          (GDestroyNotify) g_array_unref, NULL);
}

/* Hands every dirty document to the writer now. */
void
flow_index_flush (FlowIndex *self)
{
  GHashTableIter iter;
  gpointer doc;

  cancel_timer (self);
  /* The catalog first: new documents get their titles with their text. */
  if (self->catalog_dirty)
    push_catalog (self);
  g_hash_table_iter_init (&iter, self->dirty);
  while (g_hash_table_iter_next (&iter, &doc, NULL))
    {
      push_text (self, doc);
      g_hash_table_iter_remove (&iter);
    }
}

static gboolean
timer_cb (gpointer data)
{
  FlowIndex *self = data;
  gint64 due = self->last_mark + REINDEX_DELAY_MS * G_TIME_SPAN_MILLISECOND;

  /* Still typing: look again a delay later (checking here rather than
   * re-arming on every change keeps marking cheap). */
  if (g_get_monotonic_time () < due)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&self->timer, g_source_unref);
  flow_index_flush (self);
  return G_SOURCE_REMOVE;
}

static void
mark_dirty (FlowIndex *self,
            FlowDoc   *doc)
{
  if (g_atomic_int_get (&self->closing))
    return;
  if (doc == self->catalog)
    self->catalog_dirty = TRUE;
  else if (!g_hash_table_contains (self->dirty, doc))
    g_hash_table_add (self->dirty, g_object_ref (doc));

  /* Pushed back by every change: a long page costs tens of milliseconds
   * of the writer's time to re-index, and an op commit waiting behind
   * that would make typing lag. So the index catches up when typing
   * pauses; queries catch up first anyway, so they are never stale. */
  self->last_mark = g_get_monotonic_time ();
  if (self->timer == NULL)
    {
      self->timer = g_timeout_source_new (REINDEX_DELAY_MS);
      g_source_set_static_name (self->timer, "[flow-store] reindex");
      g_source_set_callback (self->timer, timer_cb, self, NULL);
      g_source_attach (self->timer, flow_store_get_context (self->store));
    }
}

/* @changed: @doc has ops the file may not have (so the index neither) */
void
flow_index_track (FlowIndex *self,
                  FlowDoc   *doc,
                  gboolean   changed)
{
  FlowDocKind kind = flow_doc_get_kind (doc);

  if (kind == FLOW_DOC_KIND_CATALOG)
    {
      if (!flow_op_id_equal (flow_doc_get_id (doc), &catalog_id))
        return;
      self->catalog = doc;
    }
  else if (kind != FLOW_DOC_KIND_PAGE && kind != FLOW_DOC_KIND_BOARD)
    return;
  if (changed)
    mark_dirty (self, doc);
}

void
flow_index_untrack (FlowIndex *self,
                    FlowDoc   *doc)
{
  if (doc == self->catalog)
    {
      if (self->catalog_dirty)
        push_catalog (self);
      self->catalog = NULL;
    }
  else if (g_hash_table_contains (self->dirty, doc))
    {
      push_text (self, doc);
      g_hash_table_remove (self->dirty, doc);
    }
}

void
flow_index_changed (FlowIndex *self,
                    FlowDoc   *doc)
{
  FlowDocKind kind = flow_doc_get_kind (doc);

  if (doc == self->catalog || kind == FLOW_DOC_KIND_PAGE || kind == FLOW_DOC_KIND_BOARD)
    mark_dirty (self, doc);
}

/* Before the store closes: the last changes go in; background work stops. */
void
flow_index_close (FlowIndex *self)
{
  flow_index_flush (self);
  g_atomic_int_set (&self->closing, 1);
}

/* A crash (flow_store_simulate_crash()): stop without writing anything. */
void
flow_index_abandon (FlowIndex *self)
{
  g_atomic_int_set (&self->closing, 1);
}

/* ------------------------------------------------------------------------
 * Queries
 * ------------------------------------------------------------------------ */

/**
 * flow_search_result_free:
 * @result: a result of flow_store_search()
 */
void
flow_search_result_free (FlowSearchResult *result)
{
  if (result == NULL)
    return;
  g_free (result->title);
  g_free (result->snippet);
  g_free (result);
}

/**
 * flow_tag_count_clear:
 * @count: an element of flow_store_list_tags()'s array
 */
void
flow_tag_count_clear (FlowTagCount *count)
{
  g_clear_pointer (&count->tag, g_free);
}

static gboolean
has_word_char (const char *s)
{
  for (; *s; s = g_utf8_next_char (s))
    if (g_unichar_isalnum (g_utf8_get_char (s)))
      return TRUE;
  return FALSE;
}

/**
 * flow_search_query_to_fts:
 * @query: what the user typed
 *
 * Turns user text into a safe FTS5 query: every space-separated word is a
 * quoted string (so quotes, parentheses, `*`, `AND`, `OR`, `NEAR` and `-`
 * mean nothing special), all words must match, and the last one matches as
 * a prefix, so results follow typing. Words without a letter or digit are
 * dropped.
 *
 * Returns: (transfer full) (nullable): the FTS5 query, or %NULL if nothing
 *   is left to search for
 */
char *
flow_search_query_to_fts (const char *query)
{
  g_autofree char *valid = NULL;
  g_auto(GStrv) words = NULL;
  GString *fts;
  const char *last = NULL;

  if (query == NULL)
    return NULL;
  valid = g_utf8_make_valid (query, -1);
  for (char *p = valid; *p; p++)
    if (g_ascii_isspace (*p) || *p == '\x01' || *p == '\x02')
      *p = ' ';
  words = g_strsplit (valid, " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (has_word_char (words[i]))
      last = words[i];
  if (last == NULL)
    return NULL;

  fts = g_string_new (NULL);
  for (guint i = 0; words[i] != NULL; i++)
    {
      if (!has_word_char (words[i]))
        continue;
      if (fts->len > 0)
        g_string_append_c (fts, ' ');
      g_string_append_c (fts, '"');
      for (const char *p = words[i]; *p; p++)
        {
          if (*p == '"')
            g_string_append_c (fts, '"');
          g_string_append_c (fts, *p);
        }
      g_string_append_c (fts, '"');
      if (words[i] == last)
        g_string_append_c (fts, '*');
    }
  return g_string_free (fts, FALSE);
}

typedef enum
{
  QUERY_SEARCH,
  QUERY_BACKLINKS,
  QUERY_TAGS,
  QUERY_TAGGED,
  QUERY_REINDEX,
} QueryKind;

typedef struct
{
  QueryKind  kind;
  char      *arg;    /* FTS5 query, folded title or tag */
  guint      limit;
} Query;

static Query *
query_new (QueryKind   kind,
           char       *arg,
           guint       limit)
{
  Query *q = g_new0 (Query, 1);

  q->kind = kind;
  q->arg = arg;
  q->limit = limit;
  return q;
}

static void
query_free (gpointer data)
{
  Query *q = data;

  g_free (q->arg);
  g_free (q);
}

static void
return_array (GTask          *task,
              gpointer        array,
              GDestroyNotify  free_func,
              GError         *error)
{
  if (array == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, array, free_func);
}

static void
query_cb (FlowStore *store,
          FlowDb    *db,
          gpointer   data,
          GTask     *task)
{
  Query *q = data;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;
  /* Answers cover every document, so what is stale is read first. */
  drain (flow_store_get_index (store), db);

  switch (q->kind)
    {
    case QUERY_SEARCH:
      if (q->arg == NULL)
        g_task_return_pointer (task, g_ptr_array_new_with_free_func ((GDestroyNotify) flow_search_result_free),
                               (GDestroyNotify) g_ptr_array_unref);
      else
        return_array (task, flow_db_search (db, q->arg, q->limit, &error),
                      (GDestroyNotify) g_ptr_array_unref, error);
      break;
    case QUERY_BACKLINKS:
      return_array (task, flow_db_backlinks (db, q->arg, &error), (GDestroyNotify) g_array_unref, error);
      break;
    case QUERY_TAGS:
      return_array (task, flow_db_list_tags (db, &error), (GDestroyNotify) g_array_unref, error);
      break;
    case QUERY_TAGGED:
      return_array (task, flow_db_docs_with_tag (db, q->arg, &error), (GDestroyNotify) g_array_unref,
                    error);
      break;
    case QUERY_REINDEX:
      g_task_return_boolean (task, TRUE);
      break;
    default:
      g_assert_not_reached ();
    }
}

static GAsyncResult *
query_sync (FlowStore  *self,
            Query      *q,
            GError    **error)
{
  if (!flow_store_check_open (self, error))
    {
      query_free (q);
      return NULL;
    }
  flow_index_flush (flow_store_get_index (self));
  return flow_store_call_sync (self, query_cb, q, query_free);
}

static gpointer
query_sync_pointer (FlowStore  *self,
                    Query      *q,
                    GError    **error)
{
  g_autoptr(GAsyncResult) result = query_sync (self, q, error);

  return result ? g_task_propagate_pointer (G_TASK (result), error) : NULL;
}

static void
query_async (FlowStore           *self,
             Query               *q,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data,
             gpointer             source_tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  if (flow_store_check_open (self, NULL))
    flow_index_flush (flow_store_get_index (self));
  flow_store_push_call (self, query_cb, q, query_free, task);
}

static gpointer
query_finish (FlowStore     *self,
              GAsyncResult  *result,
              gpointer       source_tag,
              GError       **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_store_search:
 * @self: a store
 * @query: what the user typed (any text; see flow_search_query_to_fts())
 * @limit: the most results to return; 0 for all
 * @error: return location for a #GError
 *
 * Searches the titles and text of the workspace's live documents (not
 * those in the trash), including edits not yet indexed. A query that
 * makes no sense finds nothing; it is not an error. Blocks; use
 * flow_store_search_async() from a UI.
 *
 * Returns: (transfer full) (element-type FlowSearchResult) (nullable): the
 *   results, best first; %NULL only if the store is closed or the file
 *   cannot be read
 */
GPtrArray *
flow_store_search (FlowStore   *self,
                   const char  *query,
                   guint        limit,
                   GError     **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);

  return query_sync_pointer (self, query_new (QUERY_SEARCH, flow_search_query_to_fts (query), limit),
                             error);
}

/**
 * flow_store_search_async:
 * @self: a store
 * @query: what the user typed
 * @limit: the most results; 0 for all
 * @cancellable: (nullable): a #GCancellable (cancel the previous search
 *   when the user types on)
 * @callback: called on the caller's thread-default context
 * @user_data: data for @callback
 *
 * flow_store_search() on the writer thread.
 */
void
flow_store_search_async (FlowStore           *self,
                         const char          *query,
                         guint                limit,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  query_async (self, query_new (QUERY_SEARCH, flow_search_query_to_fts (query), limit),
               cancellable, callback, user_data, flow_store_search_async);
}

/**
 * flow_store_search_finish:
 * @self: a store
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type FlowSearchResult) (nullable): the
 *   results, best first
 */
GPtrArray *
flow_store_search_finish (FlowStore     *self,
                          GAsyncResult  *result,
                          GError       **error)
{
  return query_finish (self, result, flow_store_search_async, error);
}

/**
 * flow_store_backlinks:
 * @self: a store
 * @title: a page title
 * @error: return location for a #GError
 *
 * The live documents whose text has a `[[link]]` to @title (compared as
 * flow_links_fold_title() does: without regard to case). Blocks; use
 * flow_store_backlinks_async() from a UI.
 *
 * Returns: (transfer full) (element-type FlowOpId) (nullable): their ids,
 *   by title
 */
GArray *
flow_store_backlinks (FlowStore   *self,
                      const char  *title,
                      GError     **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);
  g_return_val_if_fail (title != NULL, NULL);

  return query_sync_pointer (self, query_new (QUERY_BACKLINKS, flow_links_fold_title (title), 0), error);
}

void
flow_store_backlinks_async (FlowStore           *self,
                            const char          *title,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (title != NULL);

  query_async (self, query_new (QUERY_BACKLINKS, flow_links_fold_title (title), 0),
               cancellable, callback, user_data, flow_store_backlinks_async);
}

/**
 * flow_store_backlinks_finish:
 *
 * Returns: (transfer full) (element-type FlowOpId) (nullable): the ids
 */
GArray *
flow_store_backlinks_finish (FlowStore     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return query_finish (self, result, flow_store_backlinks_async, error);
}

/**
 * flow_store_list_tags:
 * @self: a store
 * @error: return location for a #GError
 *
 * The tags of the live documents, in case-insensitive order. Blocks; use
 * flow_store_list_tags_async() from a UI.
 *
 * Returns: (transfer full) (element-type FlowTagCount) (nullable): the
 *   tags with how many documents carry each; the array clears its elements
 */
GArray *
flow_store_list_tags (FlowStore  *self,
                      GError    **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);

  return query_sync_pointer (self, query_new (QUERY_TAGS, NULL, 0), error);
}

void
flow_store_list_tags_async (FlowStore           *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_STORE (self));

  query_async (self, query_new (QUERY_TAGS, NULL, 0), cancellable, callback, user_data,
               flow_store_list_tags_async);
}

/**
 * flow_store_list_tags_finish:
 *
 * Returns: (transfer full) (element-type FlowTagCount) (nullable): the tags
 */
GArray *
flow_store_list_tags_finish (FlowStore     *self,
                             GAsyncResult  *result,
                             GError       **error)
{
  return query_finish (self, result, flow_store_list_tags_async, error);
}

static char *
tag_key (const char *tag)
{
  return flow_links_fold_title (tag[0] == '#' ? tag + 1 : tag);
}

/**
 * flow_store_docs_with_tag:
 * @self: a store
 * @tag: a tag, with or without its '#'; case does not matter
 * @error: return location for a #GError
 *
 * Blocks; use flow_store_docs_with_tag_async() from a UI.
 *
 * Returns: (transfer full) (element-type FlowOpId) (nullable): the live
 *   documents that carry @tag, by title
 */
GArray *
flow_store_docs_with_tag (FlowStore   *self,
                          const char  *tag,
                          GError     **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);
  g_return_val_if_fail (tag != NULL, NULL);

  return query_sync_pointer (self, query_new (QUERY_TAGGED, tag_key (tag), 0), error);
}

void
flow_store_docs_with_tag_async (FlowStore           *self,
                                const char          *tag,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (tag != NULL);

  query_async (self, query_new (QUERY_TAGGED, tag_key (tag), 0), cancellable, callback, user_data,
               flow_store_docs_with_tag_async);
}

/**
 * flow_store_docs_with_tag_finish:
 *
 * Returns: (transfer full) (element-type FlowOpId) (nullable): the ids
 */
GArray *
flow_store_docs_with_tag_finish (FlowStore     *self,
                                 GAsyncResult  *result,
                                 GError       **error)
{
  return query_finish (self, result, flow_store_docs_with_tag_async, error);
}

/**
 * flow_store_reindex:
 * @self: a store
 * @error: return location for a #GError
 *
 * Waits until the index holds every tracked document's current text and
 * every document the file holds (the background indexing after opening is
 * done). Queries do this themselves; this is for tools and tests.
 *
 * Returns: %TRUE unless the store is closed
 */
gboolean
flow_store_reindex (FlowStore  *self,
                    GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (FLOW_IS_STORE (self), FALSE);

  result = query_sync (self, query_new (QUERY_REINDEX, NULL, 0), error);
  return result != NULL && g_task_propagate_boolean (G_TASK (result), error);
}
