/* flow-render-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "flow-render.h"

G_BEGIN_DECLS

void      flow_render_shapes       (cairo_t          *cr,
                                    FlowScene        *scene,
                                    GPtrArray        *shapes);

G_END_DECLS
