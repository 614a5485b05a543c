/* flow-page-export.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define FLOW_PAGE_ERROR (flow_page_error_quark ())

typedef enum
{
  FLOW_PAGE_ERROR_INVALID_TEXT,  /* not UTF-8, or a NUL byte */
  FLOW_PAGE_ERROR_TOO_LARGE,     /* over FLOW_PAGE_IMPORT_MAX_BYTES */
  FLOW_PAGE_ERROR_FAILED,        /* cairo or the output stream failed */
} FlowPageError;

/* The largest Markdown file flow_page_import_markdown() accepts. */
#define FLOW_PAGE_IMPORT_MAX_BYTES (16 * 1024 * 1024)

GQuark    flow_page_error_quark          (void) G_GNUC_CONST;

GBytes   *flow_page_export_html          (const char     *markdown,
                                          const char     *title,
                                          GError        **error);
gboolean  flow_page_export_pdf           (const char     *markdown,
                                          const char     *title,
                                          GOutputStream  *stream,
                                          GError        **error);
char     *flow_page_import_markdown      (GBytes         *bytes,
                                          GError        **error);
char     *flow_page_title_from_markdown  (const char     *markdown,
                                          const char     *fallback);

G_END_DECLS
