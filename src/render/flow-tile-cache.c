/* flow-tile-cache.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A retained raster of the board, as maps and Inkscape keep one: drawing
 * 10,000 shapes costs 40-60 ms in cairo calls however we cull, but copying
 * the pixels we drew last time costs a couple of milliseconds. So a frame
 * blits cached tiles and draws shapes only where something changed.
 *
 * Tiles: FLOW_TILE_SIZE device pixels square, ARGB32 on a transparent
 * background (the widget's background and dot grid show through), one
 * set ("level") per zoom. At zoom z, tile (tx, ty) holds board pixels
 * [tx * T, (tx + 1) * T) x [ty * T, (ty + 1) * T) of the board scaled by z,
 * i.e. the tile grid is anchored at the board origin. A tile is drawn with
 * flow_render_shapes() on the shapes the scene's grid finds under it
 * (flow_scene_query_paint), clipped to it, so its pixels are exactly those
 * flow_render_scene() puts there for the same zoom.
 *
 * Pixel alignment: a frame places tiles at whole device pixels, i.e. it
 * draws the view at offset round (offset * zoom) / zoom, never more than
 * half a pixel from the asked offset. Callers that draw over the board
 * (selection, previews) shift by the same fraction (the canvas does).
 *
 * Invalidation: every tile keeps a damage region, the parts of it that no
 * longer show the board. The scene reports damage (FlowSceneDamageFunc):
 * each touched shape's old and new paint area, bound arrows included, and
 * overflowing text as it is discovered; flow_tile_cache_invalidate() adds
 * more. Damage hits every level, so no tile ever shows stale pixels: a
 * frame repairs the damaged part of the current level's tiles (clear, then
 * draw the shapes under it clipped to it) and shows only the undamaged
 * part of other levels' tiles.
 *
 * Hidden shapes: a drag previews shapes elsewhere, so their old pixels must
 * go. The ids passed to flow_tile_cache_draw() are left out of every tile;
 * when the set changes, the paint areas of the shapes entering or leaving
 * it are damaged. A drag hides the same set on every frame, so its tiles
 * are drawn once when it starts and once when it ends.
 *
 * Budget: a frame first brings the visible tiles of the current zoom up to
 * date, repairs first, then new tiles, and stops starting work once
 * @budget_us is spent (always doing at least one tile, so a frame makes
 * progress even with a budget of 0). What is still missing is filled from
 * the other levels, nearest zoom first, scaled: a zoom gesture shows a
 * momentarily blurry board instead of stalling, and the call returns FALSE
 * so the caller draws again.
 *
 * Memory: tiles are kept in least-recently-used order and evicted beyond
 * max_bytes (64 MB by default, about four screens at 1920x1080), never
 * one the current frame uses.
 */

#define G_LOG_DOMAIN "flow-tile-cache"

#include "config.h"

#include <math.h>

#include "flow-render-private.h"
#include "flow-scene-private.h"
#include "flow-tile-cache.h"

#define T FLOW_TILE_SIZE
#define TILE_BYTES ((gsize) T * T * 4)

typedef struct _Level Level;

typedef struct
{
  gint64           key;       /* (tx, ty) packed */
  gint             tx, ty;
  Level           *level;
  cairo_surface_t *surface;
  cairo_region_t  *damage;    /* tile pixels; NULL when clean */
  GList            link;      /* in FlowTileCache.lru, most recent first */
  guint            frame;     /* the last frame that used it */
} Tile;

struct _Level
{
  double      zoom;
  GHashTable *tiles;          /* &Tile.key -> Tile*, owned */
};

typedef struct
{
  FlowOpId id;
  FlowRect paint;             /* where it painted when hidden */
  gboolean has_paint;
} Hidden;

struct _FlowTileCache
{
  FlowScene          *scene;
  GPtrArray          *levels;          /* Level*, owned */
  GQueue              lru;             /* Tile* */
  gsize               max_bytes;
  guint               frame;
  GHashTable         *hidden;          /* &Hidden.id -> Hidden*, owned */
  Tile               *rendering;       /* the tile being drawn, and where */
  const cairo_region_t *rendering_region;
  FlowTileCacheStats  stats;
  gboolean            frozen;          /* draw only what is cached */
};

/* ------------------------------------------------------------------------
 * Private functions
 * ------------------------------------------------------------------------ */

static gint64
tile_key (gint tx,
          gint ty)
{
  return (gint64) (((guint64) (guint32) tx << 32) | (guint32) ty);
}

static void
tile_free (gpointer data)
{
  Tile *tile = data;

  cairo_surface_destroy (tile->surface);
  g_clear_pointer (&tile->damage, cairo_region_destroy);
  g_free (tile);
}

static void
level_free (gpointer data)
{
  Level *level = data;

  g_hash_table_unref (level->tiles);
  g_free (level);
}

static Level *
find_level (FlowTileCache *cache,
            double         zoom,
            gboolean       create)
{
  Level *level;

  for (guint i = 0; i < cache->levels->len; i++)
    {
      level = g_ptr_array_index (cache->levels, i);
      if (level->zoom == zoom)
        return level;
    }
  if (!create)
    return NULL;
  level = g_new0 (Level, 1);
  level->zoom = zoom;
  level->tiles = g_hash_table_new_full (flow_scene_key_hash, g_int64_equal, NULL, tile_free);
  g_ptr_array_add (cache->levels, level);
  return level;
}

static void
drop_tile (FlowTileCache *cache,
           Tile          *tile)
{
  g_queue_unlink (&cache->lru, &tile->link);
  cache->stats.bytes -= TILE_BYTES;
  cache->stats.n_tiles--;
  g_hash_table_remove (tile->level->tiles, &tile->key);
}

static void
drop_all (FlowTileCache *cache)
{
  g_queue_init (&cache->lru);
  g_ptr_array_set_size (cache->levels, 0);
  cache->stats.bytes = 0;
  cache->stats.n_tiles = 0;
}

static void
touch (FlowTileCache *cache,
       Tile          *tile)
{
  tile->frame = cache->frame;
  g_queue_unlink (&cache->lru, &tile->link);
  g_queue_push_head_link (&cache->lru, &tile->link);
}

/* The device pixels of @level that board rect @r touches, with a pixel of
 * slack for antialiasing, as whole pixels. */
static void
level_pixels (const Level    *level,
              const FlowRect *r,
              double         *x0,
              double         *y0,
              double         *x1,
              double         *y1)
{
  *x0 = floor (CLAMP (r->x * level->zoom, -1e12, 1e12)) - 1;
  *y0 = floor (CLAMP (r->y * level->zoom, -1e12, 1e12)) - 1;
  *x1 = ceil (CLAMP ((r->x + r->width) * level->zoom, -1e12, 1e12)) + 1;
  *y1 = ceil (CLAMP ((r->y + r->height) * level->zoom, -1e12, 1e12)) + 1;
}

static void
damage_tile (FlowTileCache          *cache,
             Tile                   *tile,
             const cairo_rectangle_int_t *rect)
{
  cairo_region_t *add = cairo_region_create_rectangle (rect);

  /* The part being drawn right now gets what is reported while it is. */
  if (tile == cache->rendering && cache->rendering_region != NULL)
    cairo_region_subtract (add, cache->rendering_region);
  if (!cairo_region_is_empty (add))
    {
      if (tile->damage == NULL)
        tile->damage = cairo_region_reference (add);
      else
        cairo_region_union (tile->damage, add);
    }
  cairo_region_destroy (add);
}

static void
damage_level (FlowTileCache  *cache,
              Level          *level,
              const FlowRect *r)
{
  double x0, y0, x1, y1;
  gint tx0, ty0, tx1, ty1;
  GHashTableIter iter;
  Tile *tile;

  if (g_hash_table_size (level->tiles) == 0)
    return;
  level_pixels (level, r, &x0, &y0, &x1, &y1);
  tx0 = (gint) CLAMP (floor (x0 / T), G_MININT32, G_MAXINT32);
  ty0 = (gint) CLAMP (floor (y0 / T), G_MININT32, G_MAXINT32);
  tx1 = (gint) CLAMP (floor ((x1 - 1) / T), G_MININT32, G_MAXINT32);
  ty1 = (gint) CLAMP (floor ((y1 - 1) / T), G_MININT32, G_MAXINT32);

  /* Few tiles are held: walk them rather than a huge rectangle. */
  g_hash_table_iter_init (&iter, level->tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tile))
    {
      cairo_rectangle_int_t rect;
      double ox = (double) tile->tx * T, oy = (double) tile->ty * T;

      if (tile->tx < tx0 || tile->tx > tx1 || tile->ty < ty0 || tile->ty > ty1)
        continue;
      rect.x = (int) MAX (x0 - ox, 0);
      rect.y = (int) MAX (y0 - oy, 0);
      rect.width = (int) MIN (x1 - ox, T) - rect.x;
      rect.height = (int) MIN (y1 - oy, T) - rect.y;
      if (rect.width > 0 && rect.height > 0)
        damage_tile (cache, tile, &rect);
    }
}

static void
damage (FlowTileCache  *cache,
        const FlowRect *r)
{
  if (r == NULL)
    {
      /* Never while drawing a tile: only a rebuild damages everything. */
      g_return_if_fail (cache->rendering == NULL);
      drop_all (cache);
      return;
    }
  for (guint i = 0; i < cache->levels->len; i++)
    damage_level (cache, g_ptr_array_index (cache->levels, i), r);
}

static void
scene_damage_cb (FlowScene      *scene,
                 const FlowRect *rect,
                 gpointer        user_data)
{
  damage (user_data, rect);
}

static gboolean
shape_paint (FlowTileCache  *cache,
             const FlowOpId *id,
             FlowRect       *paint)
{
  const FlowShape *shape = flow_scene_lookup (cache->scene, id);

  if (shape == NULL)
    return FALSE;
  *paint = flow_scene_get_own (cache->scene, shape)->paint;
  return TRUE;
}

/* Makes @hidden the set of shapes left out of the tiles, damaging where
 * shapes entered or left it. O(n_hidden + previous n_hidden). */
static void
sync_hidden (FlowTileCache  *cache,
             const FlowOpId *hidden,
             guint           n_hidden)
{
  g_autoptr(GHashTable) wanted = NULL;
  GHashTableIter iter;
  Hidden *h;

  if (n_hidden == 0 && g_hash_table_size (cache->hidden) == 0)
    return;
  wanted = g_hash_table_new (flow_scene_id_hash, flow_scene_id_equal);
  for (guint i = 0; i < n_hidden; i++)
    {
      g_hash_table_add (wanted, (gpointer) &hidden[i]);
      if (g_hash_table_contains (cache->hidden, &hidden[i]))
        continue;
      h = g_new0 (Hidden, 1);
      h->id = hidden[i];
      h->has_paint = shape_paint (cache, &h->id, &h->paint);
      g_hash_table_insert (cache->hidden, &h->id, h);
      if (h->has_paint)
        damage (cache, &h->paint);
    }
  g_hash_table_iter_init (&iter, cache->hidden);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &h))
    {
      FlowRect now;

      if (g_hash_table_contains (wanted, &h->id))
        continue;
      /* Where it was hidden, and where it is now if it moved meanwhile. */
      if (h->has_paint)
        damage (cache, &h->paint);
      if (shape_paint (cache, &h->id, &now))
        damage (cache, &now);
      g_hash_table_iter_remove (&iter);
    }
}

static Tile *
tile_new (FlowTileCache *cache,
          Level         *level,
          gint           tx,
          gint           ty)
{
  Tile *tile = g_new0 (Tile, 1);
  cairo_rectangle_int_t all = { 0, 0, T, T };

  tile->tx = tx;
  tile->ty = ty;
  tile->key = tile_key (tx, ty);
  tile->level = level;
  tile->surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, T, T);
  tile->damage = cairo_region_create_rectangle (&all);
  tile->link.data = tile;
  g_hash_table_insert (level->tiles, &tile->key, tile);
  g_queue_push_head_link (&cache->lru, &tile->link);
  cache->stats.bytes += TILE_BYTES;
  cache->stats.n_tiles++;
  return tile;
}

/* Draws the damaged part of @tile: clears it, then draws the shapes whose
 * paint area meets it (hidden ones left out), clipped to it. */
static void
repair (FlowTileCache *cache,
        Tile          *tile)
{
  g_autoptr(GPtrArray) shapes = g_ptr_array_new ();
  g_autoptr(GPtrArray) drawn = g_ptr_array_new ();
  cairo_region_t *region = g_steal_pointer (&tile->damage);
  double zoom = tile->level->zoom, ox = (double) tile->tx * T, oy = (double) tile->ty * T;
  cairo_rectangle_int_t e;
  FlowRect query;
  cairo_t *cr;

  cairo_region_get_extents (region, &e);
  query.x = (ox + e.x) / zoom;
  query.y = (oy + e.y) / zoom;
  query.width = e.width / zoom;
  query.height = e.height / zoom;
  flow_scene_query_paint (cache->scene, &query, shapes);
  for (guint i = 0; i < shapes->len; i++)
    {
      const FlowShape *s = g_ptr_array_index (shapes, i);

      if (!g_hash_table_contains (cache->hidden, &s->id))
        g_ptr_array_add (drawn, (gpointer) s);
    }

  cr = cairo_create (tile->surface);
  for (int i = 0; i < cairo_region_num_rectangles (region); i++)
    {
      cairo_rectangle_int_t r;

      cairo_region_get_rectangle (region, i, &r);
      cairo_rectangle (cr, r.x, r.y, r.width, r.height);
    }
  cairo_clip (cr);
  cairo_set_operator (cr, CAIRO_OPERATOR_CLEAR);
  cairo_paint (cr);
  cairo_set_operator (cr, CAIRO_OPERATOR_OVER);
  cairo_translate (cr, -ox, -oy);
  cairo_scale (cr, zoom, zoom);

  cache->rendering = tile;
  cache->rendering_region = region;
  flow_render_shapes (cr, cache->scene, drawn);
  cache->rendering = NULL;
  cache->rendering_region = NULL;

  cairo_destroy (cr);
  cairo_region_destroy (region);
}

typedef struct
{
  Level *level;
  gint   tx0, ty0, tx1, ty1;   /* visible tiles */
  double sx, sy;               /* device pixel of the widget's origin */
} View;

/* Brings the visible tiles of @view up to date: damaged ones first, then
 * missing ones, until none is left or the budget is spent (after at least
 * one). Drawing can damage tiles already done (text found overflowing),
 * so we go round until a round finds nothing to do. */
static void
update_tiles (FlowTileCache *cache,
              const View    *view,
              gint64         budget_us)
{
  gint64 start = g_get_monotonic_time ();
  gboolean worked = FALSE, busy = TRUE;

  /* Everything in view counts as used, done or not, so eviction spares it. */
  for (gint ty = view->ty0; ty <= view->ty1; ty++)
    for (gint tx = view->tx0; tx <= view->tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);
        Tile *tile = g_hash_table_lookup (view->level->tiles, &key);

        if (tile != NULL)
          touch (cache, tile);
      }
  /* During a zoom gesture every frame is at a new zoom: tiles drawn now
   * would be thrown away by the next frame, so show scaled tiles of the
   * zoom before and draw once the gesture settles. */
  if (cache->frozen)
    return;
  while (busy)
    {
      busy = FALSE;
      for (guint pass = 0; pass < 2; pass++)
        for (gint ty = view->ty0; ty <= view->ty1; ty++)
          for (gint tx = view->tx0; tx <= view->tx1; tx++)
            {
              gint64 key = tile_key (tx, ty);
              Tile *tile = g_hash_table_lookup (view->level->tiles, &key);

              if ((tile != NULL && tile->damage == NULL) || (tile == NULL) != (pass == 1))
                continue;
              if (worked && budget_us >= 0 && g_get_monotonic_time () - start >= budget_us)
                return;
              if (tile == NULL)
                {
                  tile = tile_new (cache, view->level, tx, ty);
                  tile->frame = cache->frame;
                  cache->stats.tiles_rendered++;
                }
              else
                cache->stats.tiles_repaired++;
              repair (cache, tile);
              worked = busy = TRUE;
            }
    }
}

static void
clip_to_region (cairo_t              *cr,
                const cairo_region_t *region)
{
  for (int i = 0; i < cairo_region_num_rectangles (region); i++)
    {
      cairo_rectangle_int_t r;

      cairo_region_get_rectangle (region, i, &r);
      cairo_rectangle (cr, r.x, r.y, r.width, r.height);
    }
  cairo_clip (cr);
}

/* The part of @tile that shows the board, in widget pixels, for a level
 * drawn scaled by @f with its origin at (@x, @y): rounded inwards. */
static cairo_region_t *
valid_region (const Tile *tile,
              double      f,
              double      x,
              double      y)
{
  cairo_rectangle_int_t all = { 0, 0, T, T };
  cairo_region_t *valid = cairo_region_create_rectangle (&all);
  cairo_region_t *out;

  if (tile->damage != NULL)
    cairo_region_subtract (valid, tile->damage);
  if (f == 1.0)
    {
      cairo_region_translate (valid, (int) x, (int) y);
      return valid;
    }
  out = cairo_region_create ();
  for (int i = 0; i < cairo_region_num_rectangles (valid); i++)
    {
      cairo_rectangle_int_t r, w;
      double x0, y0, x1, y1;

      cairo_region_get_rectangle (valid, i, &r);
      x0 = ceil (x + r.x * f);
      y0 = ceil (y + r.y * f);
      x1 = floor (x + (r.x + r.width) * f);
      y1 = floor (y + (r.y + r.height) * f);
      if (x1 <= x0 || y1 <= y0 || fabs (x0) > G_MAXINT32 / 2 || fabs (y0) > G_MAXINT32 / 2 ||
          fabs (x1) > G_MAXINT32 / 2 || fabs (y1) > G_MAXINT32 / 2)
        continue;
      w = (cairo_rectangle_int_t) { (int) x0, (int) y0, (int) (x1 - x0), (int) (y1 - y0) };
      cairo_region_union_rectangle (out, &w);
    }
  cairo_region_destroy (valid);
  return out;
}

/* Paints what @tile has of @uncovered and takes it out of @uncovered. */
static void
paint_tile (FlowTileCache  *cache,
            cairo_t        *cr,
            Tile           *tile,
            double          f,
            double          x,
            double          y,
            cairo_region_t *uncovered)
{
  cairo_region_t *part = valid_region (tile, f, x, y);

  cairo_region_intersect (part, uncovered);
  if (!cairo_region_is_empty (part))
    {
      cairo_save (cr);
      clip_to_region (cr, part);
      cairo_translate (cr, x, y);
      if (f != 1.0)
        {
          cairo_scale (cr, f, f);
          cache->stats.fallback_paints++;
          touch (cache, tile);
        }
      cairo_set_source_surface (cr, tile->surface, 0, 0);
      /* Mid-gesture frames last a frame each: the cheapest scaling will do. */
      if (f != 1.0)
        cairo_pattern_set_filter (cairo_get_source (cr), cache->frozen ? CAIRO_FILTER_FAST
                                                                       : CAIRO_FILTER_BILINEAR);
      cairo_paint (cr);
      cairo_restore (cr);
      cairo_region_subtract (uncovered, part);
    }
  cairo_region_destroy (part);
}

static gint
level_distance_cmp (gconstpointer a,
                    gconstpointer b,
                    gpointer      user_data)
{
  double zoom = *(const double *) user_data;
  double da = fabs (log ((*(Level * const *) a)->zoom / zoom));
  double db = fabs (log ((*(Level * const *) b)->zoom / zoom));

  return da < db ? -1 : da > db;
}

/* Fills what the current level lacks from the other levels, nearest zoom
 * first, each tile scaled to the current zoom. */
static void
paint_fallback (FlowTileCache  *cache,
                cairo_t        *cr,
                const View     *view,
                cairo_region_t *uncovered)
{
  g_autoptr(GPtrArray) others = g_ptr_array_new ();
  double zoom = view->level->zoom;
  cairo_rectangle_int_t need;

  for (guint i = 0; i < cache->levels->len; i++)
    if (g_ptr_array_index (cache->levels, i) != view->level)
      g_ptr_array_add (others, g_ptr_array_index (cache->levels, i));
  g_ptr_array_sort_with_data (others, level_distance_cmp, &zoom);

  for (guint i = 0; i < others->len && !cairo_region_is_empty (uncovered); i++)
    {
      Level *level = g_ptr_array_index (others, i);
      double f = zoom / level->zoom;
      g_autoptr(GPtrArray) tiles = g_ptr_array_new ();
      GHashTableIter iter;
      Tile *tile;

      cairo_region_get_extents (uncovered, &need);
      /* Collect first: painting touches tiles (LRU), not the table. */
      g_hash_table_iter_init (&iter, level->tiles);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tile))
        {
          double x = tile->tx * (double) T * f - view->sx, y = tile->ty * (double) T * f - view->sy;

          if (x < need.x + need.width && x + T * f > need.x &&
              y < need.y + need.height && y + T * f > need.y)
            g_ptr_array_add (tiles, tile);
        }
      for (guint k = 0; k < tiles->len; k++)
        {
          tile = g_ptr_array_index (tiles, k);
          paint_tile (cache, cr, tile, f, tile->tx * (double) T * f - view->sx,
                      tile->ty * (double) T * f - view->sy, uncovered);
        }
    }
}

/* Evicts least recently used tiles beyond max_bytes, never one this frame
 * uses; drops levels left empty (but the current one). */
static void
evict (FlowTileCache *cache,
       Level         *current)
{
  while (cache->stats.bytes > cache->max_bytes && cache->lru.tail != NULL)
    {
      Tile *tile = cache->lru.tail->data;

      if (tile->frame == cache->frame)
        break;
      drop_tile (cache, tile);
      cache->stats.tiles_evicted++;
    }
  for (guint i = 0; i < cache->levels->len; i++)
    {
      Level *level = g_ptr_array_index (cache->levels, i);

      if (level != current && g_hash_table_size (level->tiles) == 0)
        g_ptr_array_remove_index_fast (cache->levels, i--);
    }
}

/* ------------------------------------------------------------------------
 * API implementation
 * ------------------------------------------------------------------------ */

/**
 * flow_tile_cache_new:
 * @scene: the scene to draw; it must outlive the cache
 *
 * Makes an empty cache and becomes @scene's damage listener
 * (flow_scene_set_damage_func), so every change of the scene reaches the
 * tiles.
 *
 * Returns: (transfer full): a new cache
 */
FlowTileCache *
flow_tile_cache_new (FlowScene *scene)
{
  FlowTileCache *cache;

  g_return_val_if_fail (scene != NULL, NULL);

  cache = g_new0 (FlowTileCache, 1);
  cache->scene = scene;
  cache->levels = g_ptr_array_new_with_free_func (level_free);
  cache->max_bytes = FLOW_TILE_CACHE_DEFAULT_MAX_BYTES;
  cache->hidden = g_hash_table_new_full (flow_scene_id_hash, flow_scene_id_equal, NULL, g_free);
  g_queue_init (&cache->lru);
  flow_scene_set_damage_func (scene, scene_damage_cb, cache);
  return cache;
}

void
flow_tile_cache_free (FlowTileCache *cache)
{
  if (cache == NULL)
    return;
  flow_scene_set_damage_func (cache->scene, NULL, NULL);
  drop_all (cache);
  g_ptr_array_unref (cache->levels);
  g_hash_table_unref (cache->hidden);
  g_free (cache);
}

/* Sets the pixel memory the cache may keep between frames. A frame always
 * keeps the tiles it shows, even beyond it. */
void
flow_tile_cache_set_max_bytes (FlowTileCache *cache,
                               gsize          max_bytes)
{
  g_return_if_fail (cache != NULL);

  cache->max_bytes = max_bytes;
}

/**
 * flow_tile_cache_invalidate:
 * @board_rect: (nullable): a board rectangle, or %NULL for everything
 *
 * Marks the pixels of @board_rect as stale at every zoom. The scene's own
 * changes arrive by themselves; this is for anything else that changes
 * how the board looks.
 */
void
flow_tile_cache_invalidate (FlowTileCache  *cache,
                            const FlowRect *board_rect)
{
  g_return_if_fail (cache != NULL);

  damage (cache, board_rect);
}

/* Drops every tile, to give the memory back (a hidden board, say). */
void
flow_tile_cache_trim (FlowTileCache *cache)
{
  g_return_if_fail (cache != NULL);

  drop_all (cache);
}

/**
 * flow_tile_cache_draw:
 * @cr: a cairo context whose user space is the widget's device pixels
 * @zoom: device pixels per board unit
 * @offset_x: the board x at the widget's left edge (rounded to a whole
 *   device pixel, see the top of this file)
 * @width: the widget's width in device pixels
 * @budget_us: microseconds to spend drawing tiles, negative for no limit;
 *   at least one tile is drawn whatever the budget
 * @hidden: (array length=n_hidden) (nullable): shapes to leave out
 *
 * Draws the board at @zoom over what @cr has, with transparent pixels
 * where there is no shape. Tiles missing when the budget runs out show
 * another zoom's tiles scaled, or nothing.
 *
 * Returns: %TRUE when the frame is exact; %FALSE when tiles are still
 *   missing or damaged, and the caller should draw again soon
 */
gboolean
flow_tile_cache_draw (FlowTileCache  *cache,
                      cairo_t        *cr,
                      double          zoom,
                      double          offset_x,
                      double          offset_y,
                      int             width,
                      int             height,
                      gint64          budget_us,
                      const FlowOpId *hidden,
                      guint           n_hidden)
{
  cairo_rectangle_int_t all = { 0, 0, width, height };
  cairo_region_t *uncovered;
  gboolean complete;
  View view;

  g_return_val_if_fail (cache != NULL && cr != NULL, TRUE);
  g_return_val_if_fail (zoom > 0 && isfinite (zoom), TRUE);
  g_return_val_if_fail (hidden != NULL || n_hidden == 0, TRUE);

  if (width <= 0 || height <= 0)
    return TRUE;
  cache->frame++;
  sync_hidden (cache, hidden, n_hidden);

  view.level = find_level (cache, zoom, TRUE);
  view.sx = round (CLAMP (offset_x * zoom, -1e12, 1e12));
  view.sy = round (CLAMP (offset_y * zoom, -1e12, 1e12));
  view.tx0 = (gint) floor (view.sx / T);
  view.ty0 = (gint) floor (view.sy / T);
  view.tx1 = (gint) floor ((view.sx + width - 1) / T);
  view.ty1 = (gint) floor ((view.sy + height - 1) / T);
  update_tiles (cache, &view, budget_us);

  /* The current level, exact, then the others where it has holes. */
  complete = TRUE;
  uncovered = cairo_region_create_rectangle (&all);
  for (gint ty = view.ty0; ty <= view.ty1; ty++)
    for (gint tx = view.tx0; tx <= view.tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);
        Tile *tile = g_hash_table_lookup (view.level->tiles, &key);

        if (tile == NULL || tile->damage != NULL)
          complete = FALSE;
        if (tile != NULL)
          paint_tile (cache, cr, tile, 1.0, tx * (double) T - view.sx, ty * (double) T - view.sy,
                      uncovered);
      }
  if (!complete)
    paint_fallback (cache, cr, &view, uncovered);
  cairo_region_destroy (uncovered);

  evict (cache, view.level);
  return complete;
}

void
flow_tile_cache_get_stats (FlowTileCache      *cache,
                           FlowTileCacheStats *stats)
{
  g_return_if_fail (cache != NULL && stats != NULL);

  *stats = cache->stats;
  stats->n_levels = cache->levels->len;
}

/**
 * flow_tile_cache_set_frozen:
 * @cache: a tile cache
 * @frozen: draw only tiles already rendered (scaled from other zooms where
 *   the current zoom has none), render nothing new
 *
 * For frames during a zoom gesture: they stay cheap and slightly blurry,
 * and the first frame after the gesture settles renders the exact tiles.
 */
void
flow_tile_cache_set_frozen (FlowTileCache *cache,
                            gboolean       frozen)
{
  g_return_if_fail (cache != NULL);

  cache->frozen = !!frozen;
}
