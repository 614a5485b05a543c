/* flow-store-db.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The workspace file: all the SQL of FlowSync. Only the store's writer
 * thread calls these functions.
 *
 * One SQLite file per workspace, in WAL mode, with STRICT tables:
 *  - meta: the format marker;
 *  - replicas: every replica id a session of this file has used, and
 *    whether one holds it now (see claim_replica());
 *  - docs: every document's kind and op count;
 *  - doc_seqs: per document and replica, the next seq of that replica's
 *    local ops, written in the same transaction as the ops, so a load can
 *    tell whether rows are missing;
 *  - ops: the append-only op log, one row per change (an encoded batch)
 *    with a CRC-32, since SQLite does not checksum data, and the session
 *    that stored it;
 *  - snapshots: the newest whole-document encoding per document and the
 *    last op row it covers. Opening a document loads the snapshot and
 *    replays the rows after it;
 *  - search_docs, search_text (FTS5), links, tags: the search index,
 *    derived data whose SQL lives in flow-store-search-db.c.
 *
 * Several processes may have the file open at once (the app and
 * flowsync-cli), so nothing here assumes it is the only writer: each
 * session has a replica id of its own, and a snapshot covers only rows
 * its document is known to hold (flow_db_snapshot_row()).
 *
 * A file is checked before anything writes to it: its raw header (SQLite?
 * ours? newer? truncated?), then a read-only integrity check. A file that
 * fails is refused and left exactly as it was, sidecar files included.
 */

#define G_LOG_DOMAIN "flow-store"

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flow-codec-private.h"
#include "flow-store-private.h"

struct _FlowDb
{
  sqlite3       *db;
  char          *path;
  FlowReplicaId  replica;

  sqlite3_stmt  *register_doc;
  sqlite3_stmt  *insert_op;
  sqlite3_stmt  *update_doc;
  sqlite3_stmt  *update_seq;
  sqlite3_stmt  *get_doc;
  sqlite3_stmt  *get_seqs;
  sqlite3_stmt  *get_snapshot;
  sqlite3_stmt  *put_snapshot;
  sqlite3_stmt  *select_ops;
  sqlite3_stmt  *list_docs;
  sqlite3_stmt  *history;
  sqlite3_stmt  *history_data;
  sqlite3_stmt  *last_row;
  sqlite3_stmt  *first_foreign_row;
};

/* Each entry moves the schema from version i to i + 1. docs/format.md
 * describes the tables. */
static const char * const migrations[FLOW_DB_SCHEMA_VERSION] = {
  /* 0 -> 1 */
  "CREATE TABLE meta ("
  "  key   TEXT PRIMARY KEY NOT NULL,"
  "  value ANY"
  ") STRICT;"
  "CREATE TABLE replicas ("
  "  id       INTEGER PRIMARY KEY,"
  "  in_use   INTEGER NOT NULL CHECK (in_use IN (0, 1)),"
  "  claimed  INTEGER NOT NULL,"
  "  released INTEGER"
  ") STRICT;"
  "CREATE TABLE docs ("
  "  id   TEXT PRIMARY KEY NOT NULL,"
  "  kind INTEGER NOT NULL,"
  "  ops  INTEGER NOT NULL DEFAULT 0"
  ") STRICT;"
  "CREATE TABLE doc_seqs ("
  "  doc      TEXT NOT NULL REFERENCES docs (id),"
  "  replica  INTEGER NOT NULL,"
  "  next_seq INTEGER NOT NULL,"
  "  PRIMARY KEY (doc, replica)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE TABLE ops ("
  "  row     INTEGER PRIMARY KEY,"
  "  doc     TEXT NOT NULL REFERENCES docs (id),"
  "  time    INTEGER NOT NULL,"
  "  n_ops   INTEGER NOT NULL,"
  "  replica INTEGER NOT NULL,"
  "  session INTEGER NOT NULL REFERENCES replicas (id),"
  "  crc     INTEGER NOT NULL,"
  "  data    BLOB NOT NULL"
  ") STRICT;"
  "CREATE INDEX ops_by_doc ON ops (doc, row);"
  "CREATE TABLE snapshots ("
  "  doc      TEXT PRIMARY KEY NOT NULL REFERENCES docs (id),"
  "  last_row INTEGER NOT NULL,"
  "  n_ops    INTEGER NOT NULL,"
  "  time     INTEGER NOT NULL,"
  "  data     BLOB NOT NULL"
  ") STRICT;"
  "INSERT INTO meta (key, value) VALUES ('format', 'flowsync-workspace');",

  /* 1 -> 2: the search index (flow-store-search-db.c). Every row is
   * derived from documents and the catalog, and rebuilt when stale. */
  "CREATE TABLE search_docs ("
  "  num   INTEGER PRIMARY KEY,"
  "  doc   TEXT NOT NULL UNIQUE,"
  "  kind  INTEGER NOT NULL,"
  "  title TEXT NOT NULL,"
  "  live  INTEGER NOT NULL CHECK (live IN (0, 1)),"
  "  n_ops INTEGER NOT NULL"
  ") STRICT;"
  "CREATE VIRTUAL TABLE search_text USING fts5 ("
  "  title, body, tokenize = 'unicode61 remove_diacritics 2'"
  ");"
  "CREATE TABLE links ("
  "  doc    TEXT NOT NULL,"
  "  key    TEXT NOT NULL,"
  "  target TEXT NOT NULL,"
  "  PRIMARY KEY (doc, key)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX links_by_key ON links (key);"
  "CREATE TABLE tags ("
  "  doc TEXT NOT NULL,"
  "  key TEXT NOT NULL,"
  "  tag TEXT NOT NULL,"
  "  PRIMARY KEY (doc, key)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX tags_by_key ON tags (key);",
};

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

static gboolean
db_error (sqlite3     *db,
          int          rc,
          const char  *what,
          GError     **error)
{
  int code;

  switch (rc & 0xff)
    {
    case SQLITE_NOTADB:
      code = FLOW_STORE_ERROR_NOT_WORKSPACE;
      break;
    case SQLITE_CORRUPT:
      code = FLOW_STORE_ERROR_CORRUPT;
      break;
    default:
      code = FLOW_STORE_ERROR_IO;
      break;
    }
  g_set_error (error, FLOW_STORE_ERROR, code, "%s: %s", what,
               db ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
  return FALSE;
}

static gboolean
exec (sqlite3     *db,
      const char  *sql,
      GError     **error)
{
  char *msg = NULL;
  int rc = sqlite3_exec (db, sql, NULL, NULL, &msg);

  if (rc == SQLITE_OK)
    return TRUE;
  g_set_error (error, FLOW_STORE_ERROR,
               (rc & 0xff) == SQLITE_CORRUPT ? FLOW_STORE_ERROR_CORRUPT : FLOW_STORE_ERROR_IO,
               "Could not update the workspace: %s", msg ? msg : sqlite3_errstr (rc));
  sqlite3_free (msg);
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Checking a file before touching it
 * ------------------------------------------------------------------------ */

static guint32
be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static gboolean
check_header (const char  *path,
              GError     **error)
{
  g_autofree char *name = g_filename_display_name (path);
  guint8 header[100];
  struct stat st;
  guint32 page_size;
  guint32 pages;
  gssize n;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, FLOW_STORE_ERROR,
                   saved == ENOENT ? FLOW_STORE_ERROR_NOT_FOUND : FLOW_STORE_ERROR_IO,
                   "Cannot open “%s”: %s", name, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_WORKSPACE,
                   "“%s” is not a file", name);
      return FALSE;
    }
  n = read (fd, header, sizeof header);
  close (fd);

  if (n < (gssize) sizeof header || memcmp (header, "SQLite format 3", 16) != 0)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_WORKSPACE,
                   "“%s” is not a FlowSync workspace", name);
      return FALSE;
    }

  page_size = (guint32) header[16] << 8 | header[17];
  if (page_size == 1)
    page_size = 65536;
  pages = be32 (header + 28);
  if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1)) != 0)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT,
                   "“%s” is damaged (bad page size)", name);
      return FALSE;
    }
  /* The page count is trustworthy when its "valid for" counter matches. */
  if ((guint64) st.st_size % page_size != 0 ||
      (be32 (header + 92) == be32 (header + 24) && (guint64) st.st_size < (guint64) pages * page_size))
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT,
                   "“%s” is truncated: it is %" G_GUINT64_FORMAT " bytes, but should be at least %"
                   G_GUINT64_FORMAT, name, (guint64) st.st_size, (guint64) pages * page_size);
      return FALSE;
    }
  if (be32 (header + 68) != FLOW_DB_APPLICATION_ID)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_WORKSPACE,
                   "“%s” is a database of another program, not a FlowSync workspace", name);
      return FALSE;
    }
  if (be32 (header + 60) > FLOW_DB_SCHEMA_VERSION)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_TOO_NEW,
                   "“%s” was saved by a newer version of FlowSync (format %u; this version "
                   "reads up to %d). Update FlowSync to open it.",
                   name, be32 (header + 60), FLOW_DB_SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sidecar_exists (const char *path,
                const char *suffix)
{
  g_autofree char *name = g_strconcat (path, suffix, NULL);

  return g_file_test (name, G_FILE_TEST_EXISTS);
}

/* The quick_check and format test of flow_db_check_file(), on a read-only
 * connection; with @immutable one that creates no -wal or -shm and takes
 * no locks. */
static gboolean
check_contents (const char  *path,
                gboolean     immutable,
                GError     **error)
{
  g_autofree char *name = g_filename_display_name (path);
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *escaped = g_uri_escape_string (absolute, "/", FALSE);
  g_autofree char *uri = g_strconcat ("file://", escaped, immutable ? "?mode=ro&immutable=1" : "?mode=ro",
                                      NULL);
  g_autofree char *format = NULL;
  g_autoptr(GString) problems = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int rc;

  rc = sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
  if (rc != SQLITE_OK)
    {
      db_error (db, rc, "Cannot read the workspace", error);
      sqlite3_close (db);
      return FALSE;
    }
  sqlite3_busy_timeout (db, 5000);

  rc = sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        const char *line = (const char *) sqlite3_column_text (stmt, 0);

        if (g_strcmp0 (line, "ok") != 0 && problems->len < 400)
          g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", line);
      }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      db_error (db, rc, "The workspace cannot be read", error);
      if (g_error_matches (*error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO) && (rc & 0xff) != SQLITE_BUSY)
        (*error)->code = FLOW_STORE_ERROR_CORRUPT;
      sqlite3_close (db);
      return FALSE;
    }
  if (problems->len > 0)
    {
      sqlite3_close (db);
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT,
                   "“%s” is damaged: %s", name, problems->str);
      return FALSE;
    }

  if (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = 'format'", -1, &stmt, NULL) == SQLITE_OK &&
      sqlite3_step (stmt) == SQLITE_ROW)
    format = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  if (g_strcmp0 (format, "flowsync-workspace") != 0)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_WORKSPACE,
                   "“%s” is not a FlowSync workspace", name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
same_stat (const GStatBuf *a,
           const GStatBuf *b)
{
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
         a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/*
 * flow_db_check_file:
 *
 * Refuses anything that is not an intact FlowSync workspace without
 * writing to it: raw header checks, then a read-only quick_check.
 *
 * A read-only SQLite connection to a WAL file creates -wal and -shm files
 * and leaves them behind. So unless a session has the file open (both
 * exist; then they are used as they are), the check reads it "immutable",
 * which creates nothing. Immutable means unlocked too: if the file changed
 * meanwhile (a session opened and checkpointed it), the answer may be
 * wrong, so the check runs again.
 */
gboolean
flow_db_check_file (const char  *path,
                    GError     **error)
{
  if (!check_header (path, error))
    return FALSE;

  for (guint attempt = 0; ; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean immutable = !sidecar_exists (path, "-wal") || !sidecar_exists (path, "-shm");
      GStatBuf before, after;
      gboolean ok;

      if (g_stat (path, &before) != 0)
        {
          int saved = errno;
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, FLOW_STORE_ERROR,
                       saved == ENOENT ? FLOW_STORE_ERROR_NOT_FOUND : FLOW_STORE_ERROR_IO,
                       "Cannot open “%s”: %s", name, g_strerror (saved));
          return FALSE;
        }
      ok = check_contents (path, immutable, &local_error);
      if (!immutable || (g_stat (path, &after) == 0 && same_stat (&before, &after)))
        {
          if (!ok)
            g_propagate_error (error, g_steal_pointer (&local_error));
          return ok;
        }
      if (attempt == 2)
        {
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO,
                       "“%s” kept changing while it was checked; try again", name);
          return FALSE;
        }
    }
}

/* ------------------------------------------------------------------------
 * Opening
 * ------------------------------------------------------------------------ */

static gint64
pragma_int (sqlite3    *db,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

static gboolean
migrate (sqlite3  *db,
         GError  **error)
{
  gint64 version = pragma_int (db, "PRAGMA user_version");

  if (version > FLOW_DB_SCHEMA_VERSION || version < 0)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_TOO_NEW,
                   "The workspace was saved by a newer version of FlowSync");
      return FALSE;
    }

  for (; version < FLOW_DB_SCHEMA_VERSION; version++)
    {
      g_autofree char *bump = g_strdup_printf ("PRAGMA user_version = %" G_GINT64_FORMAT, version + 1);

      if (!exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!exec (db, migrations[version], error) || !exec (db, bump, error))
        {
          exec (db, "ROLLBACK", NULL);
          return FALSE;
        }
      if (!exec (db, "COMMIT", error))
        return FALSE;
    }
  return TRUE;
}

/* Runs @sql with the int64 parameters @params. Returns SQLITE_ROW with
 * the first column of the first row in *@out (if not NULL), SQLITE_DONE if
 * there is no row, or an error code. */
static int
run_int64 (sqlite3      *db,
           const char   *sql,
           const gint64 *params,
           guint         n_params,
           gint64       *out)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      for (guint i = 0; i < n_params; i++)
        sqlite3_bind_int64 (stmt, (int) i + 1, params[i]);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW && out != NULL)
        *out = sqlite3_column_int64 (stmt, 0);
    }
  sqlite3_finalize (stmt);
  return rc;
}

/*
 * Claims a replica id for this session.
 *
 * The invariant: an op id (replica, seq) never names two different ops.
 * A session continues the seqs of its replica id where the documents'
 * stored ops end, so an id may be reused only by a session that starts
 * after the one that held it closed cleanly, having committed every op it
 * made. A row of `replicas` with in_use = 1 is held by a live session or
 * by one that crashed; the two cannot be told apart, and neither may be
 * reused. A crashed session's id stays retired for good: it may have sent
 * ops to peers that it never committed.
 *
 * Claiming happens in one write transaction, so two processes opening the
 * file at once cannot take the same id, and it is synced to disk before
 * any op is made with the id.
 */
static gboolean
claim_replica (FlowDb  *self,
               GError **error)
{
  gint64 id = 0;
  gint64 now = g_get_real_time ();
  int rc;

  if (!exec (self->db, "BEGIN IMMEDIATE", error))
    return FALSE;

  /* The most recently released id: the one this device used last. */
  rc = run_int64 (self->db, "SELECT id FROM replicas WHERE in_use = 0 "
                            "ORDER BY released DESC, id LIMIT 1", NULL, 0, &id);
  if (rc == SQLITE_ROW)
    {
      gint64 params[] = { now, id };

      rc = run_int64 (self->db, "UPDATE replicas SET in_use = 1, claimed = ?1 WHERE id = ?2",
                      params, G_N_ELEMENTS (params), NULL);
    }
  else if (rc == SQLITE_DONE)
    {
      /* None free: a new random id, never one the file has seen. */
      do
        {
          do
            id = (gint64) ((guint64) g_random_int () << 32 | g_random_int ());
          while (id == 0);
          rc = run_int64 (self->db, "SELECT 1 FROM replicas WHERE id = ?1", &id, 1, NULL);
        }
      while (rc == SQLITE_ROW);
      if (rc == SQLITE_DONE)
        {
          gint64 params[] = { id, now };

          rc = run_int64 (self->db, "INSERT INTO replicas (id, in_use, claimed) VALUES (?1, 1, ?2)",
                          params, G_N_ELEMENTS (params), NULL);
        }
    }
  if (rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "Could not start a session on the workspace", error);
      exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  if (!exec (self->db, "COMMIT", error))
    {
      exec (self->db, "ROLLBACK", NULL);
      return FALSE;
    }
  self->replica = (FlowReplicaId) id;
  return TRUE;
}

/* Hands our replica id back for reuse; only after a clean session. If this
 * fails the id merely stays retired. */
static void
release_replica (FlowDb *self)
{
  gint64 params[] = { g_get_real_time (), (gint64) self->replica };

  run_int64 (self->db, "UPDATE replicas SET in_use = 0, released = ?1 WHERE id = ?2",
             params, G_N_ELEMENTS (params), NULL);
}

static gboolean
prepare (FlowDb        *self,
         sqlite3_stmt **stmt,
         const char    *sql,
         GError       **error)
{
  int rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);

  if (rc != SQLITE_OK)
    return db_error (self->db, rc, "The workspace has an unexpected layout", error);
  return TRUE;
}

/* Opens the connection of flow_db_open(), migrates and starts a session. */
static gboolean
open_connection (FlowDb    *self,
                 gboolean   create,
                 GError   **error)
{
  g_autofree char *name = g_filename_display_name (self->path);
  int rc;

  rc = sqlite3_open_v2 (self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    return db_error (self->db, rc, "Cannot open the workspace", error);
  sqlite3_busy_timeout (self->db, 5000);
  sqlite3_extended_result_codes (self->db, TRUE);

  /* SQLite falls back to reading a file it may not write. Refuse that
   * before the first read, which would leave -wal and -shm files behind. */
  if (sqlite3_db_readonly (self->db, "main") != 0)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO,
                   "Cannot write to “%s”: it is read-only", name);
      return FALSE;
    }

  /* A new file gets its identity before WAL mode, so it is in the main
   * file's header from the start and flow_db_check_file() can see it. */
  if (create)
    {
      g_autofree char *app_id = g_strdup_printf ("PRAGMA application_id = %d", FLOW_DB_APPLICATION_ID);

      if (!exec (self->db, app_id, error) || !migrate (self->db, error))
        return FALSE;
    }

  /* synchronous stays FULL until the replica is claimed (see there). */
  /* Checkpoints run when the writer is idle (flow_db_checkpoint()), so a
   * commit does not stall copying the WAL back; SQLite's own automatic
   * checkpoint stays as a cap on the WAL's size (64 MiB of 4 KiB pages). */
  if (!exec (self->db, "PRAGMA journal_mode = WAL", error) ||
      !exec (self->db, "PRAGMA wal_autocheckpoint = 16384", error) ||
      !exec (self->db, "PRAGMA synchronous = FULL", error) ||
      !exec (self->db, "PRAGMA foreign_keys = ON", error))
    return FALSE;

  if (!create)
    {
      gint64 before = pragma_int (self->db, "PRAGMA user_version");

      if (!migrate (self->db, error))
        return FALSE;
      /* Keep the main file's header current for the next check. */
      if (before != FLOW_DB_SCHEMA_VERSION)
        exec (self->db, "PRAGMA wal_checkpoint (TRUNCATE)", NULL);
    }

  return claim_replica (self, error) &&
         exec (self->db, "PRAGMA synchronous = NORMAL", error) &&
         prepare (self, &self->register_doc,
                  "INSERT INTO docs (id, kind) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", error) &&
         prepare (self, &self->insert_op,
                  "INSERT INTO ops (doc, time, n_ops, replica, session, crc, data) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", error) &&
         prepare (self, &self->update_doc, "UPDATE docs SET ops = ops + ? WHERE id = ?", error) &&
         prepare (self, &self->update_seq,
                  "INSERT INTO doc_seqs (doc, replica, next_seq) VALUES (?, ?, ?) "
                  "ON CONFLICT (doc, replica) DO UPDATE SET next_seq = max (next_seq, excluded.next_seq)",
                  error) &&
         prepare (self, &self->get_doc, "SELECT kind FROM docs WHERE id = ?", error) &&
         prepare (self, &self->get_seqs, "SELECT replica, next_seq FROM doc_seqs WHERE doc = ?", error) &&
         prepare (self, &self->get_snapshot,
                  "SELECT last_row, data FROM snapshots WHERE doc = ?", error) &&
         prepare (self, &self->put_snapshot,
                  "INSERT INTO snapshots (doc, last_row, n_ops, time, data) VALUES (?, ?, ?, ?, ?) "
                  "ON CONFLICT (doc) DO UPDATE SET last_row = excluded.last_row, "
                  "n_ops = excluded.n_ops, time = excluded.time, data = excluded.data", error) &&
         prepare (self, &self->select_ops,
                  "SELECT row, crc, data FROM ops WHERE doc = ? AND row > ? ORDER BY row", error) &&
         prepare (self, &self->list_docs, "SELECT id, kind, ops FROM docs ORDER BY rowid", error) &&
         prepare (self, &self->history,
                  "SELECT row, time, n_ops, replica FROM ops WHERE doc = ? ORDER BY row", error) &&
         prepare (self, &self->history_data,
                  "SELECT n_ops, data FROM ops WHERE doc = ? ORDER BY row", error) &&
         prepare (self, &self->last_row, "SELECT max (row) FROM ops WHERE doc = ?", error) &&
         prepare (self, &self->first_foreign_row,
                  "SELECT row FROM ops WHERE doc = ?1 AND row > ?2 "
                  "AND (session != ?3 OR row <= ?4) ORDER BY row LIMIT 1", error);
}

static const char * const sidecar_suffixes[] = { "-wal", "-shm", "-journal" };

/* Creates @path, which must not exist, and notes what it is and which
 * sidecar files were there already, for remove_created(). */
static gboolean
create_file (const char  *path,
             GStatBuf    *created,
             guint       *had_sidecars,
             GError     **error)
{
  g_autofree char *name = g_filename_display_name (path);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, FLOW_STORE_ERROR,
                   saved == EEXIST ? FLOW_STORE_ERROR_EXISTS : FLOW_STORE_ERROR_IO,
                   saved == EEXIST ? "“%s” already exists" : "Cannot create “%s”: %s",
                   name, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, created) != 0)
    memset (created, 0, sizeof *created);
  close (fd);

  *had_sidecars = 0;
  for (guint i = 0; i < G_N_ELEMENTS (sidecar_suffixes); i++)
    if (sidecar_exists (path, sidecar_suffixes[i]))
      *had_sidecars |= 1u << i;
  return TRUE;
}

/* Undoes create_file() after a failed create, so that a later create or
 * open is not confused by an empty or half-made file. The file came from
 * O_EXCL, so it is ours, unless something replaced it meanwhile. */
static void
remove_created (const char     *path,
                const GStatBuf *created,
                guint           had_sidecars)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0 || created->st_ino == 0 ||
      st.st_dev != created->st_dev || st.st_ino != created->st_ino)
    return;
  g_unlink (path);
  for (guint i = 0; i < G_N_ELEMENTS (sidecar_suffixes); i++)
    if (!(had_sidecars & (1u << i)))
      {
        g_autofree char *sidecar = g_strconcat (path, sidecar_suffixes[i], NULL);

        g_unlink (sidecar);
      }
}

/*
 * flow_db_open:
 *
 * Opens @path for writing (creating it if @create; it must not exist then),
 * migrates its schema, and starts a session. Existing files must already
 * have passed flow_db_check_file(). A failed create leaves no file behind.
 */
FlowDb *
flow_db_open (const char  *path,
              gboolean     create,
              GError     **error)
{
  FlowDb *self;
  GStatBuf created;
  guint had_sidecars = 0;

  if (create && !create_file (path, &created, &had_sidecars, error))
    return NULL;

  self = g_new0 (FlowDb, 1);
  self->path = g_strdup (path);
  if (!open_connection (self, create, error))
    {
      /* No op was made under the replica id, if one was claimed. */
      flow_db_close (self, TRUE);
      if (create)
        remove_created (path, &created, had_sidecars);
      return NULL;
    }
  return self;
}

/*
 * Ends the session. A clean close (everything this session made is
 * committed) releases our replica id for the next session; SQLite
 * checkpoints the WAL into the main file.
 */
void
flow_db_close (FlowDb   *self,
               gboolean  clean)
{
  if (self == NULL)
    return;

  g_clear_pointer (&self->register_doc, sqlite3_finalize);
  g_clear_pointer (&self->insert_op, sqlite3_finalize);
  g_clear_pointer (&self->update_doc, sqlite3_finalize);
  g_clear_pointer (&self->update_seq, sqlite3_finalize);
  g_clear_pointer (&self->get_doc, sqlite3_finalize);
  g_clear_pointer (&self->get_seqs, sqlite3_finalize);
  g_clear_pointer (&self->get_snapshot, sqlite3_finalize);
  g_clear_pointer (&self->put_snapshot, sqlite3_finalize);
  g_clear_pointer (&self->select_ops, sqlite3_finalize);
  g_clear_pointer (&self->list_docs, sqlite3_finalize);
  g_clear_pointer (&self->history, sqlite3_finalize);
  g_clear_pointer (&self->history_data, sqlite3_finalize);
  g_clear_pointer (&self->last_row, sqlite3_finalize);
  g_clear_pointer (&self->first_foreign_row, sqlite3_finalize);

  if (self->db != NULL)
    {
      if (clean && self->replica != 0)
        release_replica (self);
      sqlite3_close (self->db);
    }
  g_free (self->path);
  g_free (self);
}

FlowReplicaId
flow_db_get_replica (FlowDb *self)
{
  return self->replica;
}

/* The connection, for the search index's SQL (flow-store-search-db.c). */
sqlite3 *
flow_db_get_sqlite (FlowDb *self)
{
  return self->db;
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

gboolean
flow_db_begin (FlowDb  *self,
               GError **error)
{
  return exec (self->db, "BEGIN IMMEDIATE", error);
}

gboolean
flow_db_commit (FlowDb  *self,
                GError **error)
{
  return exec (self->db, "COMMIT", error);
}

void
flow_db_rollback (FlowDb *self)
{
  if (!sqlite3_get_autocommit (self->db))
    exec (self->db, "ROLLBACK", NULL);
}

static gboolean
step_done (FlowDb        *self,
           sqlite3_stmt  *stmt,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    return db_error (self->db, rc, "Could not save to the workspace", error);
  return TRUE;
}

gboolean
flow_db_register_doc (FlowDb       *self,
                      const char   *doc,
                      FlowDocKind   kind,
                      GError      **error)
{
  sqlite3_bind_text (self->register_doc, 1, doc, -1, SQLITE_STATIC);
  sqlite3_bind_int (self->register_doc, 2, kind);
  return step_done (self, self->register_doc, error);
}

/*
 * flow_db_append:
 *
 * Appends one encoded change of @doc, stored by this session, inside the
 * caller's transaction. The document's op count and next seqs are written
 * by flow_db_update_doc() and flow_db_update_seq() before the same
 * transaction commits.
 */
gboolean
flow_db_append (FlowDb         *self,
                const char     *doc,
                gint64          time,
                guint           n_ops,
                FlowReplicaId   replica,
                GBytes         *data,
                gint64         *row,
                GError        **error)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  sqlite3_bind_text (self->insert_op, 1, doc, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (self->insert_op, 2, time);
  sqlite3_bind_int64 (self->insert_op, 3, n_ops);
  sqlite3_bind_int64 (self->insert_op, 4, (gint64) replica);
  sqlite3_bind_int64 (self->insert_op, 5, (gint64) self->replica);
  sqlite3_bind_int64 (self->insert_op, 6, flow_crc32 (bytes, len));
  sqlite3_bind_blob (self->insert_op, 7, bytes, (int) len, SQLITE_STATIC);
  if (!step_done (self, self->insert_op, error))
    return FALSE;
  *row = sqlite3_last_insert_rowid (self->db);
  return TRUE;
}

gboolean
flow_db_update_doc (FlowDb      *self,
                    const char  *doc,
                    guint64      added_ops,
                    GError     **error)
{
  sqlite3_bind_int64 (self->update_doc, 1, (gint64) added_ops);
  sqlite3_bind_text (self->update_doc, 2, doc, -1, SQLITE_STATIC);
  return step_done (self, self->update_doc, error);
}

/* Records that @replica's ops in @doc run up to @next_seq - 1. */
gboolean
flow_db_update_seq (FlowDb         *self,
                    const char     *doc,
                    FlowReplicaId   replica,
                    guint64         next_seq,
                    GError        **error)
{
  sqlite3_bind_text (self->update_seq, 1, doc, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (self->update_seq, 2, (gint64) replica);
  sqlite3_bind_int64 (self->update_seq, 3, (gint64) next_seq);
  return step_done (self, self->update_seq, error);
}

gboolean
flow_db_put_snapshot (FlowDb      *self,
                      const char  *doc,
                      gint64       last_row,
                      guint64      n_ops,
                      GBytes      *data,
                      GError     **error)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  sqlite3_bind_text (self->put_snapshot, 1, doc, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (self->put_snapshot, 2, last_row);
  sqlite3_bind_int64 (self->put_snapshot, 3, (gint64) n_ops);
  sqlite3_bind_int64 (self->put_snapshot, 4, g_get_real_time ());
  sqlite3_bind_blob (self->put_snapshot, 5, bytes, (int) len, SQLITE_STATIC);
  return step_done (self, self->put_snapshot, error);
}

/* The newest op row of @doc in *@row, or 0 if it has none. */
gboolean
flow_db_last_row (FlowDb      *self,
                  const char  *doc,
                  gint64      *row,
                  GError     **error)
{
  int rc;

  *row = 0;
  sqlite3_bind_text (self->last_row, 1, doc, -1, SQLITE_STATIC);
  rc = sqlite3_step (self->last_row);
  if (rc == SQLITE_ROW)
    *row = sqlite3_column_int64 (self->last_row, 0);
  sqlite3_reset (self->last_row);
  sqlite3_clear_bindings (self->last_row);
  if (rc != SQLITE_ROW)
    return db_error (self->db, rc, "Cannot read the workspace", error);
  return TRUE;
}

/*
 * flow_db_snapshot_row:
 * @base_row: the document in memory holds every op row of @doc up to this
 * @own_after: and every row this session stored after this one
 * @row: (out): the last row a snapshot of it may claim to cover
 *
 * A snapshot stands for all rows up to its last_row, and loading skips
 * them. Another session of the file may have appended rows that our
 * document lacks, so that is the row before the first such row, or the
 * newest row if there is none.
 */
gboolean
flow_db_snapshot_row (FlowDb      *self,
                      const char  *doc,
                      gint64       base_row,
                      gint64       own_after,
                      gint64      *row,
                      GError     **error)
{
  sqlite3_stmt *stmt = self->first_foreign_row;
  gboolean foreign = FALSE;
  int rc;

  sqlite3_bind_text (stmt, 1, doc, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 2, base_row);
  sqlite3_bind_int64 (stmt, 3, (gint64) self->replica);
  sqlite3_bind_int64 (stmt, 4, own_after);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *row = sqlite3_column_int64 (stmt, 0) - 1;
      foreign = TRUE;
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return db_error (self->db, rc, "Cannot read the workspace", error);
  return foreign || flow_db_last_row (self, doc, row, error);
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------ */

static gboolean
corrupt (GError     **error,
         const char  *what,
         const char  *doc,
         GError      *cause)
{
  g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CORRUPT,
               "The workspace is damaged: %s of document %s%s%s", what, doc,
               cause ? ": " : "", cause ? cause->message : "");
  return FALSE;
}

/* Whether @doc holds every op that doc_seqs says is stored for @id. */
static gboolean
has_stored_seqs (FlowDb      *self,
                 const char  *id,
                 FlowDoc     *doc,
                 GError     **error)
{
  g_autoptr(FlowVersionVector) vv = flow_doc_dup_version (doc);
  gboolean complete = TRUE;
  int rc;

  sqlite3_bind_text (self->get_seqs, 1, id, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (self->get_seqs)) == SQLITE_ROW)
    {
      FlowReplicaId replica = (FlowReplicaId) sqlite3_column_int64 (self->get_seqs, 0);
      guint64 next_seq = (guint64) sqlite3_column_int64 (self->get_seqs, 1);

      if (flow_version_vector_get (vv, replica) < next_seq)
        complete = FALSE;
    }
  sqlite3_reset (self->get_seqs);
  sqlite3_clear_bindings (self->get_seqs);
  if (rc != SQLITE_DONE)
    return db_error (self->db, rc, "Cannot read the workspace", error);
  if (!complete)
    return corrupt (error, "missing ops in the history", id, NULL);
  return TRUE;
}

/*
 * flow_db_load_doc:
 * @queued: (nullable) (element-type GBytes): changes of the document not
 *   committed yet, oldest first
 * @last_row: (out) (optional): the newest op row the result holds; it holds
 *   every row up to that one
 *
 * Loads a document: its newest snapshot, then every op row after it, in
 * order, then @queued. A document the workspace does not know yet comes
 * back empty.
 */
FlowDoc *
flow_db_load_doc (FlowDb          *self,
                  const FlowOpId  *id,
                  FlowDocKind      kind,
                  GPtrArray       *queued,
                  gint64          *last_row,
                  GError         **error)
{
  g_autofree char *doc = flow_op_id_to_string (id);
  g_autoptr(FlowDoc) result = NULL;
  gint64 row = 0;
  int rc;

  sqlite3_bind_text (self->get_doc, 1, doc, -1, SQLITE_STATIC);
  rc = sqlite3_step (self->get_doc);
  if (rc == SQLITE_ROW)
    {
      FlowDocKind stored = (FlowDocKind) sqlite3_column_int (self->get_doc, 0);

      if (stored != kind)
        {
          sqlite3_reset (self->get_doc);
          sqlite3_clear_bindings (self->get_doc);
          g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_WRONG_KIND,
                       "Document %s is a %s, not a %s", doc,
                       flow_doc_kind_to_string (stored), flow_doc_kind_to_string (kind));
          return NULL;
        }
    }
  sqlite3_reset (self->get_doc);
  sqlite3_clear_bindings (self->get_doc);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "Cannot read the workspace", error);
      return NULL;
    }

  /* The newest snapshot... */
  sqlite3_bind_text (self->get_snapshot, 1, doc, -1, SQLITE_STATIC);
  rc = sqlite3_step (self->get_snapshot);
  if (rc == SQLITE_ROW)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (self->get_snapshot, 1),
                                             sqlite3_column_bytes (self->get_snapshot, 1));
      g_autoptr(GError) local_error = NULL;

      row = sqlite3_column_int64 (self->get_snapshot, 0);
      result = flow_doc_load (bytes, self->replica, &local_error);
      if (result == NULL || flow_doc_get_kind (result) != kind ||
          !flow_op_id_equal (flow_doc_get_id (result), id))
        {
          sqlite3_reset (self->get_snapshot);
          sqlite3_clear_bindings (self->get_snapshot);
          corrupt (error, "the snapshot", doc, local_error);
          return NULL;
        }
    }
  sqlite3_reset (self->get_snapshot);
  sqlite3_clear_bindings (self->get_snapshot);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "Cannot read the workspace", error);
      return NULL;
    }
  if (result == NULL)
    result = flow_doc_new (kind, id, self->replica);

  /* ...then the ops after it... */
  sqlite3_bind_text (self->select_ops, 1, doc, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (self->select_ops, 2, row);
  while ((rc = sqlite3_step (self->select_ops)) == SQLITE_ROW)
    {
      const guint8 *data = sqlite3_column_blob (self->select_ops, 2);
      gsize len = (gsize) sqlite3_column_bytes (self->select_ops, 2);
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) local_error = NULL;

      row = sqlite3_column_int64 (self->select_ops, 0);
      if ((guint32) sqlite3_column_int64 (self->select_ops, 1) != flow_crc32 (data, len))
        {
          sqlite3_reset (self->select_ops);
          sqlite3_clear_bindings (self->select_ops);
          corrupt (error, "an op row (checksum mismatch)", doc, NULL);
          return NULL;
        }
      bytes = g_bytes_new (data, len);
      if (!flow_doc_apply (result, bytes, &local_error))
        {
          sqlite3_reset (self->select_ops);
          sqlite3_clear_bindings (self->select_ops);
          corrupt (error, "an op row", doc, local_error);
          return NULL;
        }
    }
  sqlite3_reset (self->select_ops);
  sqlite3_clear_bindings (self->select_ops);
  if (rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "Cannot read the workspace", error);
      return NULL;
    }

  /* ...then what is still on its way to the file. */
  for (guint i = 0; queued != NULL && i < queued->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (!flow_doc_apply (result, g_ptr_array_index (queued, i), &local_error))
        {
          g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO,
                       "Cannot load document %s: a change not saved yet does not apply: %s",
                       doc, local_error->message);
          return NULL;
        }
    }

  /* Everything committed must be here, in causal order. */
  if (flow_doc_get_n_pending (result) > 0)
    {
      corrupt (error, "missing ops in the history", doc, NULL);
      return NULL;
    }
  if (!has_stored_seqs (self, doc, result, error))
    return NULL;

  if (last_row != NULL)
    *last_row = row;
  return g_steal_pointer (&result);
}

GArray *
flow_db_list_docs (FlowDb  *self,
                   GError **error)
{
  g_autoptr(GArray) docs = g_array_new (FALSE, FALSE, sizeof (FlowStoreDocInfo));
  int rc;

  while ((rc = sqlite3_step (self->list_docs)) == SQLITE_ROW)
    {
      FlowStoreDocInfo info;
      const char *id = (const char *) sqlite3_column_text (self->list_docs, 0);

      if (id == NULL || !flow_op_id_parse (id, &info.id))
        continue;
      info.kind = (FlowDocKind) sqlite3_column_int (self->list_docs, 1);
      info.n_ops = (guint64) sqlite3_column_int64 (self->list_docs, 2);
      if (info.kind <= FLOW_DOC_KIND_LAST)
        g_array_append_val (docs, info);
    }
  sqlite3_reset (self->list_docs);
  if (rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "Cannot read the workspace", error);
      return NULL;
    }
  return g_steal_pointer (&docs);
}

GArray *
flow_db_history (FlowDb          *self,
                 const FlowOpId  *id,
                 GError         **error)
{
  g_autofree char *doc = flow_op_id_to_string (id);
  g_autoptr(GArray) rows = g_array_new (FALSE, FALSE, sizeof (FlowStoreRow));
  guint64 total = 0;
  int rc;

  sqlite3_bind_text (self->history, 1, doc, -1, SQLITE_STATIC);
  while ((rc = sqlite3_step (self->history)) == SQLITE_ROW)
    {
      FlowStoreRow row;

      row.row = sqlite3_column_int64 (self->history, 0);
      row.time = sqlite3_column_int64 (self->history, 1);
      row.n_ops = (guint) sqlite3_column_int64 (self->history, 2);
      row.replica = (FlowReplicaId) sqlite3_column_int64 (self->history, 3);
      row.ops_before = total;
      total += row.n_ops;
      g_array_append_val (rows, row);
    }
  sqlite3_reset (self->history);
  sqlite3_clear_bindings (self->history);
  if (rc != SQLITE_DONE)
    {
      db_error (self->db, rc, "Cannot read the workspace", error);
      return NULL;
    }
  return g_steal_pointer (&rows);
}

/*
 * flow_db_version_at:
 *
 * The version of a document right after the history row that brings it to
 * @n_ops ops: rows are changes in the order they were applied here, each
 * extends the document causally, so the union of the first k is a state the
 * document really had. Fails if no row ends at @n_ops.
 */
FlowVersionVector *
flow_db_version_at (FlowDb          *self,
                    const FlowOpId  *id,
                    guint64          n_ops,
                    GError         **error)
{
  g_autofree char *doc = flow_op_id_to_string (id);
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  guint64 total = 0;
  int rc;

  if (n_ops == 0)
    return g_steal_pointer (&vv);

  sqlite3_bind_text (self->history_data, 1, doc, -1, SQLITE_STATIC);
  while (total < n_ops && (rc = sqlite3_step (self->history_data)) == SQLITE_ROW)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (sqlite3_column_blob (self->history_data, 1),
                                             sqlite3_column_bytes (self->history_data, 1));
      g_autoptr(FlowVersionVector) row = flow_batch_dup_version (bytes, NULL);

      if (row == NULL)
        {
          sqlite3_reset (self->history_data);
          corrupt (error, "an op row", doc, NULL);
          return NULL;
        }
      flow_version_vector_merge (vv, row);
      total += (guint64) sqlite3_column_int64 (self->history_data, 0);
    }
  sqlite3_reset (self->history_data);
  sqlite3_clear_bindings (self->history_data);

  if (total != n_ops)
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND,
                   "%" G_GUINT64_FORMAT " is not a version in this document's history; "
                   "“flowsync-cli history” lists them", n_ops);
      return NULL;
    }
  return g_steal_pointer (&vv);
}

/**
 * flow_db_checkpoint:
 * @db: a workspace database
 *
 * Copies what the WAL holds back into the file, as far as readers allow,
 * without blocking anyone (a passive checkpoint). For the writer's idle
 * moments; failures are harmless and ignored.
 */
void
flow_db_checkpoint (FlowDb *db)
{
  sqlite3_wal_checkpoint_v2 (db->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
}
