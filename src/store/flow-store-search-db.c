/* flow-store-search-db.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The search index's SQL. Only the store's writer thread calls these.
 *
 * Tables (schema version 2, see flow-store-db.c and docs/format.md):
 *  - search_docs: one row per document the index knows: its catalog title
 *    and kind, whether it is live (listed in the catalog and not in the
 *    trash), and the op count of the version its text was read from (-1:
 *    never read). A row whose op count differs from docs.ops is stale and
 *    is read again in the background when the workspace opens.
 *  - search_text: FTS5 over (title, body), rowid = search_docs.num.
 *  - links, tags: per document, the [[link]] targets and #tags of its text,
 *    with a folded key (flow_links_fold_title()) to match on.
 *
 * All of it is derived data. Each write is a transaction of its own, run
 * between the op log's commits: a failure costs search freshness, never an
 * op, and the row stays stale so a later session reads it again.
 */

#define G_LOG_DOMAIN "flow-store"

#include "config.h"

#include <string.h>

#include "flow-links.h"
#include "flow-store-search-private.h"

static gboolean
sql_error (sqlite3     *db,
           int          rc,
           GError     **error)
{
  g_set_error (error, FLOW_STORE_ERROR,
               (rc & 0xff) == SQLITE_CORRUPT ? FLOW_STORE_ERROR_CORRUPT : FLOW_STORE_ERROR_IO,
               "The search index cannot be used: %s", sqlite3_errmsg (db));
  return FALSE;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static sqlite3_stmt *
prepare (sqlite3     *db,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      sql_error (db, rc, error);
      return NULL;
    }
  return stmt;
}

/* Steps @stmt to its end, then resets it for reuse. */
static gboolean
run (sqlite3       *db,
     sqlite3_stmt  *stmt,
     GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    ;
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return sql_error (db, rc, error);
  return TRUE;
}

static gboolean
begin (sqlite3  *db,
       GError  **error)
{
  int rc = sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL);

  return rc == SQLITE_OK || sql_error (db, rc, error);
}

static gboolean
end (sqlite3   *db,
     gboolean   ok,
     GError   **error)
{
  int rc;

  if (!ok)
    {
      if (!sqlite3_get_autocommit (db))
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  rc = sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      sql_error (db, rc, error);
      if (!sqlite3_get_autocommit (db))
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

static gboolean
apply_entry (sqlite3              *db,
             const FlowIndexEntry *e,
             GError              **error)
{
  g_autoptr(sqlite3_stmt) get = NULL;
  gint64 num = 0;
  gboolean found = FALSE;
  gboolean same_title = FALSE;
  gboolean same_rest = FALSE;
  int rc;

  get = prepare (db, "SELECT num, title, live, kind FROM search_docs WHERE doc = ?", error);
  if (get == NULL)
    return FALSE;
  sqlite3_bind_text (get, 1, e->doc, -1, SQLITE_STATIC);
  rc = sqlite3_step (get);
  if (rc == SQLITE_ROW)
    {
      found = TRUE;
      num = sqlite3_column_int64 (get, 0);
      same_title = g_strcmp0 ((const char *) sqlite3_column_text (get, 1), e->title) == 0;
      same_rest = sqlite3_column_int (get, 2) == (e->live ? 1 : 0) &&
                  sqlite3_column_int (get, 3) == (int) e->kind;
    }
  else if (rc != SQLITE_DONE)
    return sql_error (db, rc, error);

  if (!found)
    {
      g_autoptr(sqlite3_stmt) ins = NULL;
      g_autoptr(sqlite3_stmt) fts = NULL;

      ins = prepare (db, "INSERT INTO search_docs (doc, kind, title, live, n_ops) "
                         "VALUES (?, ?, ?, ?, -1)", error);
      fts = prepare (db, "INSERT INTO search_text (rowid, title, body) VALUES (?, ?, '')", error);
      if (ins == NULL || fts == NULL)
        return FALSE;
      sqlite3_bind_text (ins, 1, e->doc, -1, SQLITE_STATIC);
      sqlite3_bind_int (ins, 2, e->kind);
      sqlite3_bind_text (ins, 3, e->title, -1, SQLITE_STATIC);
      sqlite3_bind_int (ins, 4, e->live ? 1 : 0);
      if (!run (db, ins, error))
        return FALSE;
      sqlite3_bind_int64 (fts, 1, sqlite3_last_insert_rowid (db));
      sqlite3_bind_text (fts, 2, e->title, -1, SQLITE_STATIC);
      return run (db, fts, error);
    }

  if (!same_title || !same_rest)
    {
      g_autoptr(sqlite3_stmt) upd = prepare (db, "UPDATE search_docs SET kind = ?, title = ?, live = ? "
                                                 "WHERE num = ?", error);

      if (upd == NULL)
        return FALSE;
      sqlite3_bind_int (upd, 1, e->kind);
      sqlite3_bind_text (upd, 2, e->title, -1, SQLITE_STATIC);
      sqlite3_bind_int (upd, 3, e->live ? 1 : 0);
      sqlite3_bind_int64 (upd, 4, num);
      if (!run (db, upd, error))
        return FALSE;
    }
  if (!same_title)
    {
      g_autoptr(sqlite3_stmt) fts = prepare (db, "UPDATE search_text SET title = ? WHERE rowid = ?", error);

      if (fts == NULL)
        return FALSE;
      sqlite3_bind_text (fts, 1, e->title, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (fts, 2, num);
      if (!run (db, fts, error))
        return FALSE;
    }
  return TRUE;
}

/*
 * flow_db_index_catalog:
 * @entries: (element-type FlowIndexEntry): every document of the catalog
 *
 * Brings titles, kinds and liveness up to date; rows of documents the
 * catalog no longer lists stop being live.
 */
gboolean
flow_db_index_catalog (FlowDb  *self,
                       GArray  *entries,
                       GError **error)
{
  sqlite3 *db = flow_db_get_sqlite (self);
  g_autoptr(GHashTable) listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) unlisted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(sqlite3_stmt) live = NULL;
  g_autoptr(sqlite3_stmt) unlist = NULL;
  gboolean ok = TRUE;
  int rc;

  if (!begin (db, error))
    return FALSE;
  for (guint i = 0; ok && i < entries->len; i++)
    {
      const FlowIndexEntry *e = &g_array_index (entries, FlowIndexEntry, i);

      g_hash_table_add (listed, e->doc);
      ok = apply_entry (db, e, error);
    }

  if (ok)
    ok = (live = prepare (db, "SELECT doc FROM search_docs WHERE live = 1", error)) != NULL &&
         (unlist = prepare (db, "UPDATE search_docs SET live = 0 WHERE doc = ?", error)) != NULL;
  if (ok)
    {
      while ((rc = sqlite3_step (live)) == SQLITE_ROW)
        {
          const char *doc = (const char *) sqlite3_column_text (live, 0);

          if (!g_hash_table_contains (listed, doc))
            g_ptr_array_add (unlisted, g_strdup (doc));
        }
      if (rc != SQLITE_DONE)
        ok = sql_error (db, rc, error);
    }
  for (guint i = 0; ok && i < unlisted->len; i++)
    {
      sqlite3_bind_text (unlist, 1, g_ptr_array_index (unlisted, i), -1, SQLITE_STATIC);
      ok = run (db, unlist, error);
    }
  return end (db, ok, error);
}

static gboolean
replace_keys (sqlite3         *db,
              const char      *table,
              const char      *doc,
              GPtrArray       *values,
              GError         **error)
{
  g_autofree char *del_sql = g_strdup_printf ("DELETE FROM %s WHERE doc = ?", table);
  g_autofree char *ins_sql = g_strdup_printf ("INSERT INTO %s VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                                              table);
  g_autoptr(sqlite3_stmt) del = prepare (db, del_sql, error);
  g_autoptr(sqlite3_stmt) ins = NULL;

  if (del == NULL || (ins = prepare (db, ins_sql, error)) == NULL)
    return FALSE;
  sqlite3_bind_text (del, 1, doc, -1, SQLITE_STATIC);
  if (!run (db, del, error))
    return FALSE;
  for (guint i = 0; i < values->len; i++)
    {
      const char *value = g_ptr_array_index (values, i);
      g_autofree char *key = flow_links_fold_title (value);

      sqlite3_bind_text (ins, 1, doc, -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 2, key, -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 3, value, -1, SQLITE_STATIC);
      if (!run (db, ins, error))
        return FALSE;
    }
  return TRUE;
}

/*
 * flow_db_index_text:
 *
 * Stores a document's text, links and tags. A document the catalog has
 * not listed yet gets a row that is not live until it does.
 */
gboolean
flow_db_index_text (FlowDb               *self,
                    const FlowIndexText  *t,
                    GError              **error)
{
  sqlite3 *db = flow_db_get_sqlite (self);
  g_autoptr(sqlite3_stmt) upsert = NULL;
  g_autoptr(sqlite3_stmt) del = NULL;
  g_autoptr(sqlite3_stmt) ins = NULL;
  g_autofree char *title = NULL;
  gint64 num = 0;
  gboolean ok;
  int rc;

  if (!begin (db, error))
    return FALSE;

  ok = (upsert = prepare (db, "INSERT INTO search_docs (doc, kind, title, live, n_ops) "
                              "VALUES (?1, ?2, '', 0, ?3) "
                              "ON CONFLICT (doc) DO UPDATE SET n_ops = excluded.n_ops "
                              "RETURNING num, title", error)) != NULL &&
       (del = prepare (db, "DELETE FROM search_text WHERE rowid = ?", error)) != NULL &&
       (ins = prepare (db, "INSERT INTO search_text (rowid, title, body) VALUES (?, ?, ?)",
                       error)) != NULL;
  if (ok)
    {
      sqlite3_bind_text (upsert, 1, t->doc, -1, SQLITE_STATIC);
      sqlite3_bind_int (upsert, 2, t->kind);
      sqlite3_bind_int64 (upsert, 3, t->n_ops);
      rc = sqlite3_step (upsert);
      if (rc == SQLITE_ROW)
        {
          num = sqlite3_column_int64 (upsert, 0);
          title = g_strdup ((const char *) sqlite3_column_text (upsert, 1));
          rc = sqlite3_step (upsert);
        }
      if (rc != SQLITE_DONE)
        ok = sql_error (db, rc, error);
      sqlite3_reset (upsert);
    }
  if (ok)
    {
      sqlite3_bind_int64 (del, 1, num);
      ok = run (db, del, error);
    }
  if (ok)
    {
      sqlite3_bind_int64 (ins, 1, num);
      sqlite3_bind_text (ins, 2, title ? title : "", -1, SQLITE_STATIC);
      sqlite3_bind_text (ins, 3, t->text, -1, SQLITE_STATIC);
      ok = run (db, ins, error);
    }
  ok = ok && replace_keys (db, "links", t->doc, t->links, error) &&
       replace_keys (db, "tags", t->doc, t->tags, error);
  return end (db, ok, error);
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------ */

#define STALE_SQL \
  "SELECT s.doc, s.kind FROM search_docs s LEFT JOIN docs d ON d.id = s.doc " \
  "WHERE s.n_ops != coalesce (d.ops, 0)"

/* Returns: (element-type utf8): the documents whose text must be read
 * again, live ones first */
GPtrArray *
flow_db_index_stale (FlowDb  *self,
                     GError **error)
{
  sqlite3 *db = flow_db_get_sqlite (self);
  g_autoptr(GPtrArray) docs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(sqlite3_stmt) stmt = prepare (db, STALE_SQL " ORDER BY s.live DESC, s.num", error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (docs, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  if (rc != SQLITE_DONE)
    {
      sql_error (db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&docs);
}

/* Whether @doc's row is (still) stale; its kind in *@kind. */
gboolean
flow_db_index_doc_stale (FlowDb       *self,
                         const char   *doc,
                         FlowDocKind  *kind,
                         GError      **error)
{
  sqlite3 *db = flow_db_get_sqlite (self);
  g_autoptr(sqlite3_stmt) stmt = prepare (db, STALE_SQL " AND s.doc = ?", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, doc, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *kind = (FlowDocKind) sqlite3_column_int (stmt, 1);
      return TRUE;
    }
  if (rc != SQLITE_DONE)
    sql_error (db, rc, error);
  return FALSE;
}

/* The code point offset of the first \x01 in @marked, or 0. */
static guint
first_match_offset (const char *marked)
{
  const char *p = marked ? strchr (marked, '\x01') : NULL;

  return p ? (guint) g_utf8_strlen (marked, p - marked) : 0;
}

/*
 * flow_db_search:
 * @match: an FTS5 query (flow_search_query_to_fts())
 *
 * Returns: (element-type FlowSearchResult): the live documents that match,
 * best first. An FTS5 syntax error gives no results, not an error.
 */
GPtrArray *
flow_db_search (FlowDb      *self,
                const char  *match,
                guint        limit,
                GError     **error)
{
  sqlite3 *db = flow_db_get_sqlite (self);
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_search_result_free);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  stmt = prepare (db,
                  "SELECT d.doc, d.kind, d.title, "
                  "  snippet (search_text, -1, char (1), char (2), '…', 16), "
                  "  highlight (search_text, 1, char (1), char (2)), "
                  "  bm25 (search_text, 5.0, 1.0) AS score "
                  "FROM search_text JOIN search_docs d ON d.num = search_text.rowid "
                  "WHERE search_text MATCH ?1 AND d.live = 1 "
                  "ORDER BY score, d.num LIMIT ?2", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, match, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, limit > 0 ? (gint64) limit : -1);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FlowSearchResult *r = g_new0 (FlowSearchResult, 1);

      if (!flow_op_id_parse ((const char *) sqlite3_column_text (stmt, 0), &r->doc))
        {
          flow_search_result_free (r);
          continue;
        }
      r->kind = (FlowDocKind) sqlite3_column_int (stmt, 1);
      r->title = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      r->snippet = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      if (r->snippet == NULL)
        r->snippet = g_strdup ("");
      r->match_offset = first_match_offset ((const char *) sqlite3_column_text (stmt, 4));
      r->rank = -sqlite3_column_double (stmt, 5);
      g_ptr_array_add (results, r);
    }
  /* A query FTS5 cannot parse is the user's typing, not a failure. */
  if (rc != SQLITE_DONE && (rc & 0xff) == SQLITE_ERROR)
    {
      g_debug ("Search query %s: %s", match, sqlite3_errmsg (db));
      g_ptr_array_set_size (results, 0);
    }
  else if (rc != SQLITE_DONE)
    {
      sql_error (db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&results);
}

static GArray *
doc_ids (sqlite3      *db,
         const char   *sql,
         const char   *key,
         GError      **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  g_autoptr(sqlite3_stmt) stmt = prepare (db, sql, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FlowOpId id;

      if (flow_op_id_parse ((const char *) sqlite3_column_text (stmt, 0), &id))
        g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      sql_error (db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&ids);
}

/* Returns: (element-type FlowOpId): live documents linking to @key, by title */
GArray *
flow_db_backlinks (FlowDb      *self,
                   const char  *key,
                   GError     **error)
{
  return doc_ids (flow_db_get_sqlite (self),
                  "SELECT d.doc FROM links l JOIN search_docs d ON d.doc = l.doc "
                  "WHERE l.key = ?1 AND d.live = 1 ORDER BY d.title, d.num", key, error);
}

/* Returns: (element-type FlowOpId): live documents tagged @key, by title */
GArray *
flow_db_docs_with_tag (FlowDb      *self,
                       const char  *key,
                       GError     **error)
{
  return doc_ids (flow_db_get_sqlite (self),
                  "SELECT d.doc FROM tags t JOIN search_docs d ON d.doc = t.doc "
                  "WHERE t.key = ?1 AND d.live = 1 ORDER BY d.title, d.num", key, error);
}

/* Returns: (element-type FlowTagCount): the tags of live documents, by key */
GArray *
flow_db_list_tags (FlowDb  *self,
                   GError **error)
{
  sqlite3 *db = flow_db_get_sqlite (self);
  g_autoptr(GArray) tags = g_array_new (FALSE, TRUE, sizeof (FlowTagCount));
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_array_set_clear_func (tags, (GDestroyNotify) flow_tag_count_clear);
  /* The most used spelling of each tag, then how many documents have it. */
  stmt = prepare (db,
                  "WITH live AS (SELECT t.key, t.tag FROM tags t "
                  "              JOIN search_docs d ON d.doc = t.doc WHERE d.live = 1), "
                  "spellings AS (SELECT key, tag, count (*) AS n FROM live GROUP BY key, tag) "
                  "SELECT (SELECT tag FROM spellings s WHERE s.key = k.key "
                  "        ORDER BY n DESC, tag LIMIT 1), "
                  "       count (*) "
                  "FROM live k GROUP BY k.key ORDER BY k.key", error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      FlowTagCount c;

      c.tag = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      c.n_docs = (guint) sqlite3_column_int64 (stmt, 1);
      g_array_append_val (tags, c);
    }
  if (rc != SQLITE_DONE)
    {
      sql_error (db, rc, error);
      return NULL;
    }
  return g_steal_pointer (&tags);
}
