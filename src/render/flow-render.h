/* flow-render.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "flow-scene.h"

G_BEGIN_DECLS

#define FLOW_RENDER_ERROR (flow_render_error_quark ())

typedef enum
{
  FLOW_RENDER_ERROR_EMPTY,      /* nothing to export */
  FLOW_RENDER_ERROR_TOO_LARGE,  /* the export would exceed 16384 px a side */
  FLOW_RENDER_ERROR_FAILED,     /* cairo failed */
} FlowRenderError;

typedef enum
{
  FLOW_EXPORT_PNG,
  FLOW_EXPORT_SVG,
  FLOW_EXPORT_PDF,
} FlowExportFormat;

GQuark    flow_render_error_quark  (void) G_GNUC_CONST;

/* Draws the shapes of @scene that intersect @visible (board coordinates)
 * onto @cr, whose user space is board space (the caller sets up the
 * viewport transform). Bottom to top, culled by the spatial index. */
void      flow_render_scene        (cairo_t          *cr,
                                    FlowScene        *scene,
                                    const FlowRect   *visible);
void      flow_render_shape        (cairo_t          *cr,
                                    FlowScene        *scene,
                                    const FlowShape  *shape);

/* Exports the whole board (@ids NULL) or the given shapes, fitted with a
 * margin, at @scale pixels per board unit (PNG) or points per unit. */
gboolean  flow_render_export       (FlowScene        *scene,
                                    const FlowOpId   *ids,
                                    guint             n_ids,
                                    FlowExportFormat  format,
                                    double            scale,
                                    GOutputStream    *stream,
                                    GError          **error);
void      flow_render_set_source_color (cairo_t       *cr,
                                    guint32           rgba,
                                    double            alpha);
gboolean  flow_export_format_from_string (const char *name,
                                    FlowExportFormat *format);

G_END_DECLS
