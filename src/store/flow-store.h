/* flow-store.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "flow-doc.h"

G_BEGIN_DECLS

#define FLOW_STORE_ERROR (flow_store_error_quark ())

/**
 * FlowStoreError:
 * @FLOW_STORE_ERROR_NOT_FOUND: no such workspace file or document
 * @FLOW_STORE_ERROR_EXISTS: a file is already there
 * @FLOW_STORE_ERROR_NOT_WORKSPACE: the file is not a FlowSync workspace
 * @FLOW_STORE_ERROR_CORRUPT: the workspace is damaged or truncated
 * @FLOW_STORE_ERROR_TOO_NEW: the workspace was written by a newer FlowSync
 * @FLOW_STORE_ERROR_IO: the disk refused a read or write (full, read-only,
 *   permissions)
 * @FLOW_STORE_ERROR_CLOSED: the store was closed
 * @FLOW_STORE_ERROR_WRONG_KIND: the document exists, but is of another kind
 *   than the caller asked for (a mistake of the caller, not damage)
 */
typedef enum
{
  FLOW_STORE_ERROR_NOT_FOUND,
  FLOW_STORE_ERROR_EXISTS,
  FLOW_STORE_ERROR_NOT_WORKSPACE,
  FLOW_STORE_ERROR_CORRUPT,
  FLOW_STORE_ERROR_TOO_NEW,
  FLOW_STORE_ERROR_IO,
  FLOW_STORE_ERROR_CLOSED,
  FLOW_STORE_ERROR_WRONG_KIND,
} FlowStoreError;

/**
 * FlowStoreDocInfo:
 * @id: the document's id
 * @kind: its kind
 * @n_ops: how many ops the store holds for it
 */
typedef struct
{
  FlowOpId    id;
  FlowDocKind kind;
  guint64     n_ops;
} FlowStoreDocInfo;

/**
 * FlowStoreRow:
 * @row: the row's number, increasing in the order ops were applied here
 * @time: when it was stored, in microseconds since the Unix epoch
 * @n_ops: the ops in the row
 * @ops_before: how many ops of the document come before it (so after this
 *   row the document had @ops_before + @n_ops ops: a version for
 *   flow_doc_dup_version_at())
 * @replica: the replica that made the row's first op
 *
 * One entry of a document's history: one local edit or received batch.
 */
typedef struct
{
  gint64        row;
  gint64        time;
  guint         n_ops;
  guint64       ops_before;
  FlowReplicaId replica;
} FlowStoreRow;

#define FLOW_TYPE_STORE (flow_store_get_type ())

G_DECLARE_FINAL_TYPE (FlowStore, flow_store, FLOW, STORE, GObject)

GQuark         flow_store_error_quark   (void) G_GNUC_CONST;

FlowStore     *flow_store_create        (const char           *path,
                                         GError              **error);
FlowStore     *flow_store_open          (const char           *path,
                                         GError              **error);
void           flow_store_open_async    (const char           *path,
                                         gboolean              create,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
FlowStore     *flow_store_open_finish   (GAsyncResult         *result,
                                         GError              **error);
const char    *flow_store_get_path      (FlowStore            *self);
FlowReplicaId  flow_store_get_replica   (FlowStore            *self);
void           flow_store_set_snapshot_interval (FlowStore    *self,
                                         guint                 n_ops);

GArray        *flow_store_list_docs     (FlowStore            *self,
                                         GError              **error);
FlowDoc       *flow_store_load_doc      (FlowStore            *self,
                                         const FlowOpId       *id,
                                         FlowDocKind           kind,
                                         GError              **error);
void           flow_store_load_doc_async (FlowStore           *self,
                                         const FlowOpId       *id,
                                         FlowDocKind           kind,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
FlowDoc       *flow_store_load_doc_finish (FlowStore          *self,
                                         GAsyncResult         *result,
                                         GError              **error);
GArray        *flow_store_dup_history   (FlowStore            *self,
                                         const FlowOpId       *id,
                                         GError              **error);
FlowVersionVector *flow_store_dup_version_at (FlowStore       *self,
                                         const FlowOpId       *id,
                                         guint64               n_ops,
                                         GError              **error);

void           flow_store_track         (FlowStore            *self,
                                         FlowDoc              *doc);
void           flow_store_untrack       (FlowStore            *self,
                                         FlowDoc              *doc);
guint64        flow_store_get_queued    (FlowStore            *self);
guint64        flow_store_get_committed (FlowStore            *self);
gboolean       flow_store_flush         (FlowStore            *self,
                                         GError              **error);
void           flow_store_flush_async   (FlowStore            *self,
                                         GCancellable         *cancellable,
                                         GAsyncReadyCallback   callback,
                                         gpointer              user_data);
gboolean       flow_store_flush_finish  (FlowStore            *self,
                                         GAsyncResult         *result,
                                         GError              **error);
char          *flow_store_dup_setting   (FlowStore            *self,
                                         const char           *key,
                                         GError              **error);
gboolean       flow_store_set_setting   (FlowStore            *self,
                                         const char           *key,
                                         const char           *value,
                                         GError              **error);
void           flow_store_dup_setting_async  (FlowStore           *self,
                                              const char          *key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
char          *flow_store_dup_setting_finish (FlowStore           *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void           flow_store_set_setting_async  (FlowStore           *self,
                                              const char          *key,
                                              const char          *value,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean       flow_store_set_setting_finish (FlowStore           *self,
                                              GAsyncResult        *result,
                                              GError             **error);
gboolean       flow_store_close         (FlowStore            *self,
                                         GError              **error);

G_END_DECLS
