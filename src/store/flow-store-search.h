/* flow-store-search.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "flow-store.h"

G_BEGIN_DECLS

/**
 * FLOW_SEARCH_MATCH_START:
 *
 * The byte before each match in FlowSearchResult.snippet ("\x01").
 */
#define FLOW_SEARCH_MATCH_START "\x01"

/**
 * FLOW_SEARCH_MATCH_END:
 *
 * The byte after each match in FlowSearchResult.snippet ("\x02").
 */
#define FLOW_SEARCH_MATCH_END "\x02"

/**
 * FlowSearchResult:
 * @doc: the document
 * @kind: page or board
 * @title: its title
 * @snippet: a short excerpt around the matches (of the text, or of the
 *   title if only it matched), each match between
 *   %FLOW_SEARCH_MATCH_START and %FLOW_SEARCH_MATCH_END; "…" marks cut
 *   text. Escape it before showing it as Pango markup.
 * @match_offset: the code point offset of the first match in the
 *   document's text (for a board: in the text of its text and sticky
 *   shapes, bottom to top, joined by newlines); 0 if only the title matched
 * @rank: relevance (bm25, title words weigh more); higher is better
 *
 * One hit of flow_store_search().
 */
typedef struct
{
  FlowOpId     doc;
  FlowDocKind  kind;
  char        *title;
  char        *snippet;
  guint        match_offset;
  double       rank;
} FlowSearchResult;

/**
 * FlowTagCount:
 * @tag: the tag, without '#' (the spelling used most, if it varies in case)
 * @n_docs: how many live documents carry it
 */
typedef struct
{
  char  *tag;
  guint  n_docs;
} FlowTagCount;

void        flow_search_result_free       (FlowSearchResult     *result);
void        flow_tag_count_clear          (FlowTagCount         *count);

GPtrArray  *flow_store_search             (FlowStore            *self,
                                           const char           *query,
                                           guint                 limit,
                                           GError              **error);
void        flow_store_search_async       (FlowStore            *self,
                                           const char           *query,
                                           guint                 limit,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GPtrArray  *flow_store_search_finish      (FlowStore            *self,
                                           GAsyncResult         *result,
                                           GError              **error);

GArray     *flow_store_backlinks          (FlowStore            *self,
                                           const char           *title,
                                           GError              **error);
void        flow_store_backlinks_async    (FlowStore            *self,
                                           const char           *title,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GArray     *flow_store_backlinks_finish   (FlowStore            *self,
                                           GAsyncResult         *result,
                                           GError              **error);

GArray     *flow_store_list_tags          (FlowStore            *self,
                                           GError              **error);
void        flow_store_list_tags_async    (FlowStore            *self,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GArray     *flow_store_list_tags_finish   (FlowStore            *self,
                                           GAsyncResult         *result,
                                           GError              **error);

GArray     *flow_store_docs_with_tag      (FlowStore            *self,
                                           const char           *tag,
                                           GError              **error);
void        flow_store_docs_with_tag_async (FlowStore           *self,
                                           const char           *tag,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GArray     *flow_store_docs_with_tag_finish (FlowStore          *self,
                                           GAsyncResult         *result,
                                           GError              **error);

gboolean    flow_store_reindex            (FlowStore            *self,
                                           GError              **error);

char       *flow_search_query_to_fts      (const char           *query);

G_END_DECLS
