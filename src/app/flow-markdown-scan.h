/* flow-markdown-scan.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What the live styling of a page marks, line by line. */
typedef enum
{
  FLOW_MD_HEADING1,
  FLOW_MD_HEADING2,
  FLOW_MD_HEADING3,
  FLOW_MD_HEADING4,
  FLOW_MD_HEADING5,
  FLOW_MD_HEADING6,
  FLOW_MD_MARKUP,      /* syntax characters: #, **, `, >, list bullets… */
  FLOW_MD_STRONG,
  FLOW_MD_EMPHASIS,
  FLOW_MD_CODE,        /* inline code */
  FLOW_MD_CODE_BLOCK,  /* fenced code, including the fences */
  FLOW_MD_QUOTE,
  FLOW_MD_LIST_MARKER,
  FLOW_MD_LINK,        /* [text](url), <url>, bare http(s) URLs */
  FLOW_MD_RULE,
  FLOW_MD_N_KINDS
} FlowMdKind;

/* @start and @end are byte offsets into the line. */
typedef void (*FlowMdSpanFunc) (FlowMdKind  kind,
                                gsize       start,
                                gsize       end,
                                gpointer    user_data);

gboolean  flow_markdown_scan_line  (const char     *line,
                                    gsize           len,
                                    gboolean        in_fence,
                                    FlowMdSpanFunc  func,
                                    gpointer        user_data);
int       flow_markdown_heading_level (const char  *line,
                                    gsize           len);
guint     flow_markdown_count_words (const char    *text,
                                    gssize          len);

G_END_DECLS
