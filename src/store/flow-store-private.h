/* flow-store-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>

#include "flow-store.h"

G_BEGIN_DECLS

/* The schema version this build writes; files with a higher one are
 * refused, lower ones are migrated forward when opened. */
#define FLOW_DB_SCHEMA_VERSION 2

/* PRAGMA application_id of every workspace file: "FLWS". */
#define FLOW_DB_APPLICATION_ID 0x464c5753

typedef struct _FlowDb FlowDb;
typedef struct _FlowIndex FlowIndex;

/* flow-store.c: running code on the writer thread, for the rest of the
 * store (see flow_store_push_call()). */
typedef void (*FlowStoreCallFunc) (FlowStore *store,
                                   FlowDb    *db,
                                   gpointer   data,
                                   GTask     *task);

void          flow_store_push_call   (FlowStore         *self,
                                      FlowStoreCallFunc  func,
                                      gpointer           data,
                                      GDestroyNotify     destroy,
                                      GTask             *task);
GAsyncResult *flow_store_call_sync   (FlowStore         *self,
                                      FlowStoreCallFunc  func,
                                      gpointer           data,
                                      GDestroyNotify     destroy);
gboolean      flow_store_check_open  (FlowStore         *self,
                                      GError           **error);
FlowIndex    *flow_store_get_index   (FlowStore         *self);
GMainContext *flow_store_get_context (FlowStore         *self);
void          flow_store_simulate_crash (FlowStore      *self);

/* flow-store-search.c: keeping the search index up to date. Called by
 * flow-store.c on the thread that owns the store. */
FlowIndex    *flow_index_new         (FlowStore         *store);
void          flow_index_free        (FlowIndex         *index);
void          flow_index_start       (FlowIndex         *index);
void          flow_index_track       (FlowIndex         *index,
                                      FlowDoc           *doc,
                                      gboolean           changed);
void          flow_index_untrack     (FlowIndex         *index,
                                      FlowDoc           *doc);
void          flow_index_changed     (FlowIndex         *index,
                                      FlowDoc           *doc);
void          flow_index_flush       (FlowIndex         *index);
void          flow_index_close       (FlowIndex         *index);
void          flow_index_abandon     (FlowIndex         *index);

gboolean  flow_db_check_file    (const char      *path,
                                 GError         **error);
FlowDb   *flow_db_open          (const char      *path,
                                 gboolean         create,
                                 GError         **error);
void      flow_db_close         (FlowDb          *db,
                                 gboolean         clean);
FlowReplicaId flow_db_get_replica (FlowDb        *db);
sqlite3  *flow_db_get_sqlite    (FlowDb          *db);
gboolean  flow_db_begin         (FlowDb          *db,
                                 GError         **error);
gboolean  flow_db_commit        (FlowDb          *db,
                                 GError         **error);
void      flow_db_rollback      (FlowDb          *db);
void      flow_db_checkpoint    (FlowDb          *db);
gboolean  flow_db_register_doc  (FlowDb          *db,
                                 const char      *doc,
                                 FlowDocKind      kind,
                                 GError         **error);
gboolean  flow_db_append        (FlowDb          *db,
                                 const char      *doc,
                                 gint64           time,
                                 guint            n_ops,
                                 FlowReplicaId    replica,
                                 GBytes          *data,
                                 gint64          *row,
                                 GError         **error);
gboolean  flow_db_update_doc    (FlowDb          *db,
                                 const char      *doc,
                                 guint64          added_ops,
                                 GError         **error);
gboolean  flow_db_update_seq    (FlowDb          *db,
                                 const char      *doc,
                                 FlowReplicaId    replica,
                                 guint64          next_seq,
                                 GError         **error);
gboolean  flow_db_put_snapshot  (FlowDb          *db,
                                 const char      *doc,
                                 gint64           last_row,
                                 guint64          n_ops,
                                 GBytes          *data,
                                 GError         **error);
FlowDoc  *flow_db_load_doc      (FlowDb          *db,
                                 const FlowOpId  *id,
                                 FlowDocKind      kind,
                                 GPtrArray       *queued,
                                 gint64          *last_row,
                                 GError         **error);
GArray   *flow_db_list_docs     (FlowDb          *db,
                                 GError         **error);
GArray   *flow_db_history       (FlowDb          *db,
                                 const FlowOpId  *id,
                                 GError         **error);
FlowVersionVector *flow_db_version_at (FlowDb     *db,
                                 const FlowOpId  *id,
                                 guint64          n_ops,
                                 GError         **error);
gboolean  flow_db_last_row      (FlowDb          *db,
                                 const char      *doc,
                                 gint64          *row,
                                 GError         **error);
gboolean  flow_db_snapshot_row  (FlowDb          *db,
                                 const char      *doc,
                                 gint64           base_row,
                                 gint64           own_after,
                                 gint64          *row,
                                 GError         **error);

G_END_DECLS
