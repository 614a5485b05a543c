/* flow-tile-cache.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <cairo.h>

#include "flow-scene.h"

G_BEGIN_DECLS

/* Tiles are square, this many device pixels a side. */
#define FLOW_TILE_SIZE 256
#define FLOW_TILE_CACHE_DEFAULT_MAX_BYTES ((gsize) 64 * 1024 * 1024)

typedef struct _FlowTileCache FlowTileCache;

/* Counters since the cache was made (for tests and benchmarks). */
typedef struct
{
  guint64 tiles_rendered;   /* new tiles drawn */
  guint64 tiles_repaired;   /* damaged parts of tiles drawn again */
  guint64 tiles_evicted;
  guint64 fallback_paints;  /* tiles of another zoom drawn scaled */
  guint   n_tiles;          /* held now */
  guint   n_levels;         /* zooms held now */
  gsize   bytes;            /* pixel memory held now */
} FlowTileCacheStats;

FlowTileCache *flow_tile_cache_new           (FlowScene          *scene);
void           flow_tile_cache_free          (FlowTileCache      *cache);
void           flow_tile_cache_set_max_bytes (FlowTileCache      *cache,
                                              gsize               max_bytes);
void           flow_tile_cache_invalidate    (FlowTileCache      *cache,
                                              const FlowRect     *board_rect);
void           flow_tile_cache_trim          (FlowTileCache      *cache);
gboolean       flow_tile_cache_draw          (FlowTileCache      *cache,
                                              cairo_t            *cr,
                                              double              zoom,
                                              double              offset_x,
                                              double              offset_y,
                                              int                 width,
                                              int                 height,
                                              gint64              budget_us,
                                              const FlowOpId     *hidden,
                                              guint               n_hidden);
void           flow_tile_cache_get_stats     (FlowTileCache      *cache,
                                              FlowTileCacheStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowTileCache, flow_tile_cache_free)

void            flow_tile_cache_set_frozen (FlowTileCache *cache,
                                            gboolean       frozen);

G_END_DECLS
