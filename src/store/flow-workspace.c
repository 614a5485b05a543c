/* flow-workspace.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * FlowWorkspace: a workspace file, its catalog and the documents opened from
 * it. Every document it hands out is tracked by the store, so edits are
 * persisted as they happen; the catalog decides which documents exist.
 */

#define G_LOG_DOMAIN "flow-workspace"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>

#include "flow-error.h"
#include "flow-chat.h"
#include "flow-workspace.h"

struct _FlowWorkspace
{
  GObject     parent_instance;

  FlowStore  *store;
  FlowDoc    *catalog;
  GHashTable *docs; /* "id" -> FlowDoc */
};

G_DEFINE_FINAL_TYPE (FlowWorkspace, flow_workspace, G_TYPE_OBJECT)

enum {
  DOCUMENT_ADDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const FlowOpId catalog_id = { 0, 0 };

static void
flow_workspace_dispose (GObject *object)
{
  FlowWorkspace *self = FLOW_WORKSPACE (object);

  g_clear_pointer (&self->docs, g_hash_table_unref);
  g_clear_object (&self->catalog);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (flow_workspace_parent_class)->dispose (object);
}

static void
flow_workspace_class_init (FlowWorkspaceClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = flow_workspace_dispose;

  /**
   * FlowWorkspace::document-added:
   * @doc: the document
   *
   * A document (not the catalog) was loaded or created and is now tracked.
   * Emitted before anyone can edit it through this workspace, so a listener
   * that adds a change func here sees every later change (the sync layer
   * does).
   */
  signals[DOCUMENT_ADDED] =
    g_signal_new ("document-added", G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, FLOW_TYPE_DOC);
}

static void
flow_workspace_init (FlowWorkspace *self)
{
  self->docs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}

/**
 * flow_workspace_default_path:
 *
 * Returns: (transfer full): where the default workspace lives:
 *   `$XDG_DATA_HOME/flowsync/default.flowsync`
 */
char *
flow_workspace_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "flowsync", "default.flowsync", NULL);
}

/* Creates the folder a new workspace file goes into. */
static gboolean
make_parent_dir (const char  *path,
                 GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO,
                   "Cannot create the folder “%s”: %s", dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

static FlowWorkspace *
wrap (FlowStore  *store,
      GError    **error)
{
  g_autoptr(FlowWorkspace) self = NULL;

  if (store == NULL)
    return NULL;

  self = g_object_new (FLOW_TYPE_WORKSPACE, NULL);
  self->store = store;
  self->catalog = flow_store_load_doc (store, &catalog_id, FLOW_DOC_KIND_CATALOG, error);
  if (self->catalog == NULL)
    {
      g_autoptr(GError) close_error = NULL;

      flow_store_close (store, &close_error);
      return NULL;
    }
  flow_store_track (store, self->catalog);
  return g_steal_pointer (&self);
}

/**
 * flow_workspace_create:
 * @path: where to create the workspace; its folder is created if needed
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): a new, empty workspace
 */
FlowWorkspace *
flow_workspace_create (const char  *path,
                       GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  if (!make_parent_dir (path, error))
    return NULL;
  return wrap (flow_store_create (path, error), error);
}

/**
 * flow_workspace_open:
 * @path: a workspace file
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the workspace, or %NULL if the file
 *   is missing, not a workspace or damaged (see #FlowStoreError)
 */
FlowWorkspace *
flow_workspace_open (const char  *path,
                     GError     **error)
{
  g_return_val_if_fail (path != NULL, NULL);

  return wrap (flow_store_open (path, error), error);
}

/* Async open: the folder is made and the file opened in worker threads;
 * then the catalog loads on the store's writer thread. Only the wrapping
 * happens on the caller's thread. */

static void
open_catalog_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FlowStore *store = g_task_get_task_data (task);
  g_autoptr(FlowWorkspace) self = NULL;
  g_autoptr(GError) error = NULL;
  FlowDoc *catalog;

  catalog = flow_store_load_doc_finish (store, result, &error);
  if (catalog == NULL)
    {
      g_autoptr(GError) close_error = NULL;

      flow_store_close (store, &close_error);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  self = g_object_new (FLOW_TYPE_WORKSPACE, NULL);
  self->store = g_object_ref (store);
  self->catalog = catalog;
  flow_store_track (store, self->catalog);
  g_task_return_pointer (task, g_steal_pointer (&self), g_object_unref);
}

static void
open_store_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  FlowStore *store = flow_store_open_finish (result, &error);

  if (store == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, store, g_object_unref);
  flow_store_load_doc_async (store, &catalog_id, FLOW_DOC_KIND_CATALOG,
                             g_task_get_cancellable (task),
                             open_catalog_cb, g_object_ref (task));
}

static void
make_dir_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;

  if (!make_parent_dir (task_data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
make_dir_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, error);
      return;
    }
  flow_store_open_async (g_object_get_data (G_OBJECT (task), "path"), TRUE,
                         g_task_get_cancellable (task), open_store_cb, g_object_ref (task));
}

/**
 * flow_workspace_open_async:
 * @path: a workspace file
 * @create: create a new workspace there (its folder too) instead
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the caller's thread-default context when done
 * @user_data: data for @callback
 *
 * Opens or creates a workspace without blocking the calling thread.
 */
void
flow_workspace_open_async (const char          *path,
                           gboolean             create,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, flow_workspace_open_async);
  g_object_set_data_full (G_OBJECT (task), "path", g_strdup (path), g_free);
  if (create)
    {
      g_autoptr(GTask) mkdir_task = g_task_new (NULL, cancellable, make_dir_cb, g_object_ref (task));

      g_task_set_task_data (mkdir_task, g_strdup (path), g_free);
      g_task_run_in_thread (mkdir_task, make_dir_thread);
    }
  else
    flow_store_open_async (path, FALSE, cancellable, open_store_cb, g_object_ref (task));
}

/**
 * flow_workspace_open_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the workspace
 */
FlowWorkspace *
flow_workspace_open_finish (GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_workspace_get_store:
 * @self: a workspace
 *
 * Returns: (transfer none): its store
 */
FlowStore *
flow_workspace_get_store (FlowWorkspace *self)
{
  g_return_val_if_fail (FLOW_IS_WORKSPACE (self), NULL);

  return self->store;
}

/**
 * flow_workspace_get_catalog:
 * @self: a workspace
 *
 * Returns: (transfer none): the catalog document (see flow-catalog.h)
 */
FlowDoc *
flow_workspace_get_catalog (FlowWorkspace *self)
{
  g_return_val_if_fail (FLOW_IS_WORKSPACE (self), NULL);

  return self->catalog;
}

/**
 * flow_workspace_new_document:
 * @self: a workspace
 * @kind: page or board
 * @title: its title
 * @folder: (nullable): its folder
 * @error: return location for a #GError
 *
 * Adds a document to the catalog and returns it, empty and tracked.
 * Does not block on the file.
 *
 * Returns: (transfer none) (nullable): the new document
 */
FlowDoc *
flow_workspace_new_document (FlowWorkspace  *self,
                             FlowDocKind     kind,
                             const char     *title,
                             const char     *folder,
                             GError        **error)
{
  FlowDoc *doc;
  FlowOpId id;

  g_return_val_if_fail (FLOW_IS_WORKSPACE (self), NULL);

  if (!flow_catalog_add (self->catalog, kind, title, folder, &id, error))
    return NULL;
  /* The id is the catalog op just made, so the file holds nothing for it
   * yet: start empty instead of reading, which keeps this call off the
   * disk (the app calls it on its UI thread). */
  doc = flow_doc_new (kind, &id, flow_store_get_replica (self->store));
  flow_store_track (self->store, doc);
  g_hash_table_insert (self->docs, flow_op_id_to_string (&id), doc);
  g_signal_emit (self, signals[DOCUMENT_ADDED], 0, doc);
  return doc;
}

/* The kind of document @id: from the catalog, or the chat, which every
 * workspace has without a catalog entry (it is not a document the user
 * files or opens). */
static gboolean
catalog_kind (FlowWorkspace  *self,
              const FlowOpId *id,
              FlowDocKind    *kind)
{
  FlowCatalogEntry entry;

  if (flow_op_id_equal (id, &FLOW_CHAT_DOC_ID))
    {
      *kind = FLOW_DOC_KIND_CHAT;
      return TRUE;
    }
  if (!flow_catalog_get (self->catalog, id, &entry))
    return FALSE;
  *kind = entry.kind;
  flow_catalog_entry_clear (&entry);
  return TRUE;
}

/**
 * flow_workspace_load_document:
 * @self: a workspace
 * @id: a document in the catalog
 * @error: return location for a #GError
 *
 * Loads a document (once; later calls return the same object) and tracks
 * it. Blocks while it reads the file.
 *
 * Returns: (transfer none) (nullable): the document
 */
FlowDoc *
flow_workspace_load_document (FlowWorkspace   *self,
                              const FlowOpId  *id,
                              GError         **error)
{
  g_autofree char *key = NULL;
  FlowDocKind kind;
  FlowDoc *doc;

  g_return_val_if_fail (FLOW_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  key = flow_op_id_to_string (id);
  doc = g_hash_table_lookup (self->docs, key);
  if (doc != NULL)
    return doc;

  if (!catalog_kind (self, id, &kind))
    {
      g_set_error (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND,
                   "There is no document %s in this workspace", key);
      return NULL;
    }
  doc = flow_store_load_doc (self->store, id, kind, error);
  if (doc == NULL)
    return NULL;

  flow_store_track (self->store, doc);
  g_hash_table_insert (self->docs, g_steal_pointer (&key), doc);
  g_signal_emit (self, signals[DOCUMENT_ADDED], 0, doc);
  return doc;
}

/**
 * flow_workspace_lookup_document:
 * @self: a workspace
 * @id: a document id
 *
 * Returns: (transfer none) (nullable): the document if it is loaded
 */
FlowDoc *
flow_workspace_lookup_document (FlowWorkspace  *self,
                                const FlowOpId *id)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (FLOW_IS_WORKSPACE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  key = flow_op_id_to_string (id);
  return g_hash_table_lookup (self->docs, key);
}

static void
load_document_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FlowWorkspace *self = g_task_get_source_object (task);
  const FlowOpId *id = g_task_get_task_data (task);
  g_autofree char *key = flow_op_id_to_string (id);
  GError *error = NULL;
  FlowDoc *doc;

  doc = flow_store_load_doc_finish (self->store, result, &error);
  if (doc == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Two loads of one document may race; the first to finish wins so that
   * every caller edits the same tracked object. */
  if (g_hash_table_contains (self->docs, key))
    g_object_unref (doc);
  else
    {
      flow_store_track (self->store, doc);
      g_hash_table_insert (self->docs, g_strdup (key), doc);
      g_signal_emit (self, signals[DOCUMENT_ADDED], 0, doc);
    }
  g_task_return_pointer (task, g_object_ref (g_hash_table_lookup (self->docs, key)), g_object_unref);
}

/**
 * flow_workspace_load_document_async:
 * @self: a workspace
 * @id: a document in the catalog
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the document is loaded
 * @user_data: data for @callback
 *
 * Like flow_workspace_load_document(), but reads the file on the store's
 * writer thread.
 */
void
flow_workspace_load_document_async (FlowWorkspace       *self,
                                    const FlowOpId      *id,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  FlowDocKind kind;
  FlowDoc *doc;

  g_return_if_fail (FLOW_IS_WORKSPACE (self));
  g_return_if_fail (id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, flow_workspace_load_document_async);
  g_task_set_task_data (task, g_memdup2 (id, sizeof *id), g_free);

  doc = flow_workspace_lookup_document (self, id);
  if (doc != NULL)
    {
      g_task_return_pointer (task, g_object_ref (doc), g_object_unref);
      return;
    }
  if (!catalog_kind (self, id, &kind))
    {
      g_autofree char *key = flow_op_id_to_string (id);

      g_task_return_new_error (task, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND,
                               "There is no document %s in this workspace", key);
      return;
    }
  flow_store_load_doc_async (self->store, id, kind, cancellable,
                             load_document_cb, g_object_ref (task));
}

/**
 * flow_workspace_load_document_finish:
 * @self: a workspace
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the document
 */
FlowDoc *
flow_workspace_load_document_finish (FlowWorkspace  *self,
                                     GAsyncResult   *result,
                                     GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_workspace_close:
 * @self: a workspace
 * @error: return location for a #GError
 *
 * Saves everything and closes the file. See flow_store_close().
 *
 * Returns: %TRUE if everything was saved
 */
gboolean
flow_workspace_close (FlowWorkspace  *self,
                      GError        **error)
{
  g_return_val_if_fail (FLOW_IS_WORKSPACE (self), FALSE);

  return flow_store_close (self->store, error);
}
