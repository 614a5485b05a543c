/* flow-catalog.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The workspace catalog: which documents exist, their kind, title, folder,
 * order and whether they are in the trash. It is a map document like a
 * board (see flow-map.c), so creating, renaming or trashing a document is
 * an edit that syncs and merges like any other; a document's id is the id
 * of the catalog op that created it.
 */

#include "config.h"

#include <string.h>

#include "flow-catalog.h"
#include "flow-error.h"

#define MAX_TITLE 1024

void
flow_catalog_entry_clear (FlowCatalogEntry *entry)
{
  g_clear_pointer (&entry->title, g_free);
  g_clear_pointer (&entry->folder, g_free);
}

static gboolean
check_catalog (FlowDoc  *catalog,
               GError  **error)
{
  if (flow_doc_get_kind (catalog) == FLOW_DOC_KIND_CATALOG)
    return TRUE;
  g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND,
                       "This document is not a workspace catalog");
  return FALSE;
}

static gboolean
check_title (const char  *title,
             GError     **error)
{
  if (title == NULL || *title == '\0' || g_utf8_strlen (title, -1) > MAX_TITLE ||
      !g_utf8_validate (title, -1, NULL))
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "A title must be between 1 and %d characters", MAX_TITLE);
      return FALSE;
    }
  return TRUE;
}

static gboolean
set_string (FlowDoc         *catalog,
            const FlowOpId  *id,
            const char      *key,
            const char      *value,
            GError         **error)
{
  g_autoptr(FlowValue) v = value ? flow_value_new_string (value) : flow_value_new_null ();

  return flow_doc_set_property (catalog, id, key, v, error);
}

static gboolean
check_entry (FlowDoc         *catalog,
             const FlowOpId  *id,
             GError         **error)
{
  if (!check_catalog (catalog, error))
    return FALSE;
  if (flow_doc_has_entity (catalog, id))
    return TRUE;
  g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                       "There is no such document in this workspace");
  return FALSE;
}

/**
 * flow_catalog_add:
 * @catalog: a workspace catalog
 * @kind: %FLOW_DOC_KIND_PAGE or %FLOW_DOC_KIND_BOARD
 * @title: its title
 * @folder: (nullable): a folder, or %NULL for the top level
 * @id: (out) (optional): the new document's id
 * @error: return location for a #GError
 *
 * Adds a document after the last one, as one change.
 *
 * Returns: %TRUE on success
 */
gboolean
flow_catalog_add (FlowDoc      *catalog,
                  FlowDocKind   kind,
                  const char   *title,
                  const char   *folder,
                  FlowOpId     *id,
                  GError      **error)
{
  g_autoptr(GArray) ordered = NULL;
  g_autofree char *order = NULL;
  FlowOpId new_id;
  gboolean ok;

  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);

  if (!check_catalog (catalog, error) || !check_title (title, error))
    return FALSE;
  if (kind != FLOW_DOC_KIND_PAGE && kind != FLOW_DOC_KIND_BOARD)
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                           "A workspace holds pages and boards");
      return FALSE;
    }
  if (folder != NULL && !check_title (folder, error))
    return FALSE;

  ordered = flow_doc_list_ordered (catalog);
  order = flow_doc_dup_order_key_between (catalog,
                                          ordered->len ? &g_array_index (ordered, FlowOpId,
                                                                         ordered->len - 1) : NULL,
                                          NULL);

  flow_doc_begin_change (catalog);
  ok = flow_doc_create_entity (catalog, flow_doc_kind_to_string (kind), &new_id, error) &&
       set_string (catalog, &new_id, "title", title, error) &&
       (folder == NULL || set_string (catalog, &new_id, "folder", folder, error)) &&
       set_string (catalog, &new_id, "order", order, error);
  flow_doc_end_change (catalog);

  if (ok && id != NULL)
    *id = new_id;
  return ok;
}

gboolean
flow_catalog_rename (FlowDoc         *catalog,
                     const FlowOpId  *id,
                     const char      *title,
                     GError         **error)
{
  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);

  return check_entry (catalog, id, error) && check_title (title, error) &&
         set_string (catalog, id, "title", title, error);
}

/**
 * flow_catalog_move:
 * @catalog: a workspace catalog
 * @id: a document
 * @folder: (nullable): the folder, or %NULL for the top level
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
flow_catalog_move (FlowDoc         *catalog,
                   const FlowOpId  *id,
                   const char      *folder,
                   GError         **error)
{
  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);

  return check_entry (catalog, id, error) && (folder == NULL || check_title (folder, error)) &&
         set_string (catalog, id, "folder", folder, error);
}

static gboolean
set_deleted (FlowDoc         *catalog,
             const FlowOpId  *id,
             gboolean         deleted,
             GError         **error)
{
  g_autoptr(FlowValue) v = flow_value_new_bool (deleted);

  return check_entry (catalog, id, error) &&
         flow_doc_set_property (catalog, id, "deleted", v, error);
}

/* Moves a document to the trash; its content is kept and can be restored. */
gboolean
flow_catalog_trash (FlowDoc         *catalog,
                    const FlowOpId  *id,
                    GError         **error)
{
  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);

  return set_deleted (catalog, id, TRUE, error);
}

gboolean
flow_catalog_restore (FlowDoc         *catalog,
                      const FlowOpId  *id,
                      GError         **error)
{
  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);

  return set_deleted (catalog, id, FALSE, error);
}

static const char *
string_prop (FlowDoc        *catalog,
             const FlowOpId *id,
             const char     *key)
{
  FlowValue *v = flow_doc_get_property (catalog, id, key);

  return v && flow_value_get_value_type (v) == FLOW_VALUE_STRING ? flow_value_get_string (v) : NULL;
}

/**
 * flow_catalog_get:
 * @catalog: a workspace catalog
 * @id: a document id
 * @entry: (out caller-allocates): filled in; clear with flow_catalog_entry_clear()
 *
 * Returns: %TRUE if the catalog knows @id
 */
gboolean
flow_catalog_get (FlowDoc          *catalog,
                  const FlowOpId   *id,
                  FlowCatalogEntry *entry)
{
  const char *kind;

  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);

  memset (entry, 0, sizeof *entry);
  kind = flow_doc_get_entity_kind (catalog, id);
  if (kind == NULL || !flow_doc_kind_from_string (kind, &entry->kind))
    return FALSE;
  entry->id = *id;
  entry->title = g_strdup (string_prop (catalog, id, "title"));
  entry->folder = g_strdup (string_prop (catalog, id, "folder"));
  entry->deleted = flow_doc_entity_is_deleted (catalog, id);
  return TRUE;
}

/**
 * flow_catalog_list:
 * @catalog: a workspace catalog
 * @include_trash: whether to list trashed documents too
 *
 * Returns: (transfer full) (element-type FlowCatalogEntry): the documents in
 *   catalog order (trashed ones after the others)
 */
GArray *
flow_catalog_list (FlowDoc  *catalog,
                   gboolean  include_trash)
{
  GArray *entries = g_array_new (FALSE, TRUE, sizeof (FlowCatalogEntry));
  g_autoptr(GArray) ordered = flow_doc_list_ordered (catalog);

  g_array_set_clear_func (entries, (GDestroyNotify) flow_catalog_entry_clear);

  for (guint i = 0; i < ordered->len; i++)
    {
      FlowCatalogEntry entry;

      if (flow_catalog_get (catalog, &g_array_index (ordered, FlowOpId, i), &entry))
        g_array_append_val (entries, entry);
    }

  if (include_trash)
    {
      g_autoptr(GArray) all = flow_doc_list_entities (catalog, TRUE);

      for (guint i = 0; i < all->len; i++)
        {
          FlowCatalogEntry entry;
          const FlowOpId *id = &g_array_index (all, FlowOpId, i);

          if (flow_doc_entity_is_deleted (catalog, id) && flow_catalog_get (catalog, id, &entry))
            g_array_append_val (entries, entry);
        }
    }

  return entries;
}

/**
 * flow_catalog_find:
 * @catalog: a workspace catalog
 * @name: a document id (as flow_op_id_to_string() writes it) or a title
 * @id: (out): the document's id
 * @error: return location for a #GError
 *
 * Finds a document by id or by title. A title must name exactly one
 * document that is not in the trash.
 *
 * Returns: %TRUE if found
 */
gboolean
flow_catalog_find (FlowDoc      *catalog,
                   const char   *name,
                   FlowOpId     *id,
                   GError      **error)
{
  g_autoptr(GArray) entries = NULL;
  guint matches = 0;

  g_return_val_if_fail (FLOW_IS_DOC (catalog), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (flow_op_id_parse (name, id) && flow_doc_has_entity (catalog, id))
    return TRUE;

  entries = flow_catalog_list (catalog, FALSE);
  for (guint i = 0; i < entries->len; i++)
    {
      const FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);

      if (g_strcmp0 (e->title, name) == 0)
        {
          *id = e->id;
          matches++;
        }
    }

  if (matches == 1)
    return TRUE;
  if (matches == 0)
    g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                 "No document is called “%s”", name);
  else
    g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                 "%u documents are called “%s”; use the id from “flowsync-cli list”",
                 matches, name);
  return FALSE;
}
