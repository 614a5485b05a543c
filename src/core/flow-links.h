/* flow-links.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FlowPageLinkKind:
 * @FLOW_PAGE_LINK_WIKI: a `[[Page title]]` or `[[Page title|label]]` link
 * @FLOW_PAGE_LINK_TAG: a `#tag`
 * @FLOW_PAGE_LINK_ISSUE: an issue key such as `PROJ-123`
 *
 * What a #FlowPageLink in a page's Markdown is.
 */
typedef enum
{
  FLOW_PAGE_LINK_WIKI,
  FLOW_PAGE_LINK_TAG,
  FLOW_PAGE_LINK_ISSUE,
} FlowPageLinkKind;

/**
 * FlowPageLink:
 * @kind: what it is
 * @start: the code point offset of the token's first character in the text
 * @end: the code point offset just past the token (so `[[`…`]]` and the
 *   `#` are inside [@start, @end))
 * @target: (not nullable): what it names: the page title of a wiki link,
 *   trimmed and without a `|label`; a tag without its `#`, case kept; an
 *   issue key as written
 *
 * One link, tag or issue key found by flow_links_extract(). Offsets count
 * code points (as GtkTextIter offsets do), not bytes.
 */
typedef struct
{
  FlowPageLinkKind  kind;
  guint         start;
  guint         end;
  char         *target;
} FlowPageLink;

void     flow_page_link_clear          (FlowPageLink   *link);
GArray  *flow_links_extract       (const char *markdown,
                                   gssize      len);
char    *flow_links_fold_title    (const char *title);

G_END_DECLS
