/* flow-catalog.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-doc.h"

G_BEGIN_DECLS

/**
 * FlowCatalogEntry:
 * @id: the document's id
 * @kind: page or board
 * @title: (nullable): its title
 * @folder: (nullable): the folder it is filed in; %NULL at the top level
 * @deleted: whether it is in the trash
 *
 * One document of a workspace, as listed by the catalog.
 */
typedef struct
{
  FlowOpId     id;
  FlowDocKind  kind;
  char        *title;
  char        *folder;
  gboolean     deleted;
} FlowCatalogEntry;

void      flow_catalog_entry_clear (FlowCatalogEntry  *entry);
gboolean  flow_catalog_add         (FlowDoc           *catalog,
                                    FlowDocKind        kind,
                                    const char        *title,
                                    const char        *folder,
                                    FlowOpId          *id,
                                    GError           **error);
gboolean  flow_catalog_rename      (FlowDoc           *catalog,
                                    const FlowOpId    *id,
                                    const char        *title,
                                    GError           **error);
gboolean  flow_catalog_move        (FlowDoc           *catalog,
                                    const FlowOpId    *id,
                                    const char        *folder,
                                    GError           **error);
gboolean  flow_catalog_trash       (FlowDoc           *catalog,
                                    const FlowOpId    *id,
                                    GError           **error);
gboolean  flow_catalog_restore     (FlowDoc           *catalog,
                                    const FlowOpId    *id,
                                    GError           **error);
gboolean  flow_catalog_get         (FlowDoc           *catalog,
                                    const FlowOpId    *id,
                                    FlowCatalogEntry  *entry);
GArray   *flow_catalog_list        (FlowDoc           *catalog,
                                    gboolean           include_trash);
gboolean  flow_catalog_find        (FlowDoc           *catalog,
                                    const char        *name,
                                    FlowOpId          *id,
                                    GError           **error);

G_END_DECLS
