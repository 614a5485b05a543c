/* flow-store-search-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "flow-store-private.h"
#include "flow-store-search.h"

G_BEGIN_DECLS

/* What the index holds of one document's contents. */
typedef struct
{
  char        *doc;     /* id, as flow_op_id_to_string() */
  FlowDocKind  kind;
  gint64       n_ops;   /* the document's op count when read */
  char        *text;
  GPtrArray   *links;   /* link targets */
  GPtrArray   *tags;    /* tags without '#' */
} FlowIndexText;

/* What the catalog says of one document. */
typedef struct
{
  char        *doc;
  FlowDocKind  kind;
  char        *title;
  gboolean     live;    /* listed and not in the trash */
} FlowIndexEntry;

FlowIndexText *flow_index_text_new       (FlowDoc          *doc);
void           flow_index_text_free      (FlowIndexText    *text);
void           flow_index_entry_clear    (FlowIndexEntry   *entry);
GArray        *flow_index_entries_new    (FlowDoc          *catalog);

/* flow-store-search-db.c: the writer thread's side. Each write is one
 * transaction of its own, so the index never holds up the op log. */
gboolean       flow_db_index_catalog     (FlowDb           *db,
                                          GArray           *entries,
                                          GError          **error);
gboolean       flow_db_index_text        (FlowDb           *db,
                                          const FlowIndexText *text,
                                          GError          **error);
GPtrArray     *flow_db_index_stale       (FlowDb           *db,
                                          GError          **error);
gboolean       flow_db_index_doc_stale   (FlowDb           *db,
                                          const char       *doc,
                                          FlowDocKind      *kind,
                                          GError          **error);
GPtrArray     *flow_db_search            (FlowDb           *db,
                                          const char       *match,
                                          guint             limit,
                                          GError          **error);
GArray        *flow_db_backlinks         (FlowDb           *db,
                                          const char       *key,
                                          GError          **error);
GArray        *flow_db_list_tags         (FlowDb           *db,
                                          GError          **error);
GArray        *flow_db_docs_with_tag     (FlowDb           *db,
                                          const char       *key,
                                          GError          **error);

G_END_DECLS
