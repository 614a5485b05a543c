/* flow-canvas-presence.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * What a board shows of the other participants of a huddle, and what it
 * tells them of us: remote cursors with name labels, laser pointer trails,
 * following a peer, and our own pointer ("pointer-moved").
 *
 * None of it is part of the document: presence is never an op, and the
 * laser tool (ours or a peer's) only leaves a trail of timestamped points
 * here that fades out over LASER_FADE_US. The overlay is drawn by
 * flow_canvas_draw_presence() above the scene, never through the tile
 * cache, so a moving cursor or a fading trail redraws no tiles; the board
 * widget draws it in a child of its own so that only that child is redrawn
 * ("presence-changed").
 *
 * A peer whose pointer is outside our view shows as a badge with its name
 * on the nearest edge, pointed towards where it is, so nobody is lost
 * from sight just because they work elsewhere on the board.
 *
 * Board presence fields: x, y is the sender's pointer in board
 * coordinates, zoom the sender's zoom. Following a peer centres our view
 * on its pointer at its zoom; any pan or zoom made through the public
 * viewport functions (that is, by the user) stops following.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <pango/pangocairo.h>

#include "flow-canvas-private.h"

#define LASER_FADE_US      G_USEC_PER_SEC       /* a trail point lives 1 s */
#define LASER_BREAK_US     (250 * 1000)         /* a pause longer than this starts a new stroke */
#define LASER_MAX_POINTS   512                  /* per trail, oldest dropped */
#define LASER_WIDTH        4.0                  /* widget px, the newest end */
#define LASER_LOCAL_COLOR  0xe01b24ffu          /* GNOME red 3 */
#define LABEL_FONT         "Sans Bold 9"
#define LABEL_PAD_X        6.0
#define LABEL_PAD_Y        2.5
#define LABEL_DX           11.0                 /* from the arrow tip */
#define LABEL_DY           19.0
#define EDGE_MARGIN        6.0                  /* off-screen badge to widget edge */
#define EDGE_ARROW         7.0                  /* its pointer's length */

typedef struct
{
  double  x, y;       /* board */
  gint64  t;          /* monotonic µs */
  gboolean start;     /* not joined to the previous point */
} LaserPoint;

typedef struct
{
  FlowRemotePresence *p;       /* owned copy of the last update */
  GArray             *trail;   /* LaserPoint */
  PangoLayout        *layout;  /* the name label, kept between frames */
  gboolean            was_laser;
} Peer;

struct _FlowCanvasPresence
{
  GPtrArray    *peers;      /* Peer*, in the order of the last list */
  GArray       *laser;      /* LaserPoint, our own trail */
  char         *follow_id;
  PangoContext *pango;
  gint64        now;        /* tests: a fixed clock; 0: the real one */
  double        pointer_bx, pointer_by;
  gboolean      has_pointer;
  gboolean      following;  /* inside follow_apply(): not a local change */
};

enum {
  POINTER_MOVED,
  PRESENCE_CHANGED,
  FOLLOW_STOPPED,
  N_PRESENCE_SIGNALS
};

static guint presence_signals[N_PRESENCE_SIGNALS];

static void
peer_free (Peer *peer)
{
  flow_remote_presence_free (peer->p);
  g_array_unref (peer->trail);
  g_clear_object (&peer->layout);
  g_free (peer);
}

FlowCanvasPresence *
_flow_canvas_presence_new (void)
{
  FlowCanvasPresence *self = g_new0 (FlowCanvasPresence, 1);

  self->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  self->laser = g_array_new (FALSE, FALSE, sizeof (LaserPoint));
  return self;
}

void
_flow_canvas_presence_free (FlowCanvasPresence *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->peers);
  g_array_unref (self->laser);
  g_free (self->follow_id);
  g_clear_object (&self->pango);
  g_free (self);
}

void
_flow_canvas_presence_class_init (GObjectClass *klass)
{
  presence_signals[POINTER_MOVED] =
    g_signal_new ("pointer-moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  presence_signals[PRESENCE_CHANGED] =
    g_signal_new ("presence-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  presence_signals[FOLLOW_STOPPED] =
    g_signal_new ("follow-stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static gint64
now_us (FlowCanvas *self)
{
  return self->presence->now != 0 ? self->presence->now : g_get_monotonic_time ();
}

static void
presence_changed (FlowCanvas *self)
{
  g_signal_emit (self, presence_signals[PRESENCE_CHANGED], 0);
}

static Peer *
find_peer_in (GPtrArray  *peers,
              const char *peer_id)
{
  if (peer_id == NULL)
    return NULL;
  for (guint i = 0; i < peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (peers, i);

      if (g_strcmp0 (peer->p->peer_id, peer_id) == 0)
        return peer;
    }
  return NULL;
}

static Peer *
find_peer (FlowCanvas *self,
           const char *peer_id)
{
  return find_peer_in (self->presence->peers, peer_id);
}

/* Drops what has faded and keeps the trail bounded. */
static gboolean
trail_prune (GArray *trail,
             gint64  now)
{
  guint n = 0;

  while (n < trail->len && now - g_array_index (trail, LaserPoint, n).t >= LASER_FADE_US)
    n++;
  if (trail->len - n > LASER_MAX_POINTS)
    n = trail->len - LASER_MAX_POINTS;
  if (n > 0)
    g_array_remove_range (trail, 0, n);
  if (trail->len > 0)
    g_array_index (trail, LaserPoint, 0).start = TRUE;
  return n > 0;
}

static void
trail_add (GArray   *trail,
           double    x,
           double    y,
           gint64    now,
           gboolean  start)
{
  LaserPoint p = { x, y, now, start };

  if (trail->len > 0)
    {
      const LaserPoint *last = &g_array_index (trail, LaserPoint, trail->len - 1);

      if (!start && last->x == x && last->y == y)
        return;
      if (now - last->t > LASER_BREAK_US)
        p.start = TRUE;
    }
  else
    p.start = TRUE;
  g_array_append_val (trail, p);
  trail_prune (trail, now);
}

/* ------------------------------------------------------------------------
 * Following
 * ------------------------------------------------------------------------ */

/* Centres the view on the followed peer's pointer at its zoom. */
static void
follow_apply (FlowCanvas *self)
{
  Peer *peer = find_peer (self, self->presence->follow_id);
  double zoom;

  if (peer == NULL || !peer->p->has_viewport ||
      !isfinite (peer->p->x) || !isfinite (peer->p->y))
    return;
  zoom = peer->p->zoom;
  if (!isfinite (zoom) || zoom <= 0)
    zoom = self->zoom;
  zoom = CLAMP (zoom, FLOW_CANVAS_MIN_ZOOM, FLOW_CANVAS_MAX_ZOOM);
  self->presence->following = TRUE;
  if (zoom != self->zoom)
    {
      self->zoom = zoom;
      self->zoom_changed_at = g_get_monotonic_time ();
      g_object_notify (G_OBJECT (self), "zoom");
    }
  self->offset_x = CLAMP (peer->p->x - self->width / 2 / zoom, -1e9, 1e9);
  self->offset_y = CLAMP (peer->p->y - self->height / 2 / zoom, -1e9, 1e9);
  _flow_canvas_invalidate (self);
  self->presence->following = FALSE;
}

static void
stop_following (FlowCanvas *self)
{
  if (self->presence->follow_id == NULL)
    return;
  g_clear_pointer (&self->presence->follow_id, g_free);
  g_signal_emit (self, presence_signals[FOLLOW_STOPPED], 0);
}

/* Called by every public viewport change: the user took over. */
void
_flow_canvas_presence_viewport_changed (FlowCanvas *self)
{
  if (!self->presence->following)
    stop_following (self);
}

/* A new widget size keeps the followed pointer in the centre. */
void
_flow_canvas_presence_resized (FlowCanvas *self)
{
  if (self->presence->follow_id != NULL)
    follow_apply (self);
}

/**
 * flow_canvas_follow:
 * @self: a canvas
 * @peer_id: (nullable): the peer to follow, or %NULL to stop
 *
 * While set, each presence update of @peer_id centres the view on its
 * pointer at its zoom. A local pan or zoom, or the peer leaving the list,
 * stops following and emits "follow-stopped"; stopping with %NULL does not.
 */
void
flow_canvas_follow (FlowCanvas *self,
                    const char *peer_id)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  if (g_strcmp0 (peer_id, self->presence->follow_id) == 0)
    return;
  g_free (self->presence->follow_id);
  self->presence->follow_id = g_strdup (peer_id);
  if (peer_id != NULL)
    follow_apply (self);
}

/* Returns: (nullable): the id of the peer being followed */
const char *
flow_canvas_get_followed (FlowCanvas *self)
{
  g_return_val_if_fail (FLOW_IS_CANVAS (self), NULL);

  return self->presence->follow_id;
}

/* ------------------------------------------------------------------------
 * Remote presence
 * ------------------------------------------------------------------------ */

static PangoLayout *
new_label_layout (FlowCanvas *self,
                  const char *name)
{
  PangoLayout *layout;
  PangoFontDescription *font;

  if (self->presence->pango == NULL)
    self->presence->pango = pango_font_map_create_context (pango_cairo_font_map_get_default ());
  layout = pango_layout_new (self->presence->pango);
  font = pango_font_description_from_string (LABEL_FONT);
  pango_layout_set_font_description (layout, font);
  pango_font_description_free (font);
  pango_layout_set_text (layout, name != NULL && name[0] != '\0' ? name : "?", -1);
  return layout;
}

/**
 * flow_canvas_set_remote_presence:
 * @self: a canvas
 * @presences: (element-type FlowRemotePresence) (nullable): the peers
 *   looking at this board; copied
 *
 * Replaces what the board shows of other participants. A peer whose tool
 * is "laser" adds its pointer position to its trail; peers missing from
 * @presences disappear (a peer being followed that leaves stops following).
 */
void
flow_canvas_set_remote_presence (FlowCanvas *self,
                                 GPtrArray  *presences)
{
  FlowCanvasPresence *pr;
  g_autoptr(GPtrArray) peers = NULL;
  gint64 now;
  gboolean follow_moved = FALSE;

  g_return_if_fail (FLOW_IS_CANVAS (self));

  pr = self->presence;
  now = now_us (self);
  peers = g_ptr_array_new_with_free_func ((GDestroyNotify) peer_free);
  for (guint i = 0; presences != NULL && i < presences->len; i++)
    {
      const FlowRemotePresence *p = g_ptr_array_index (presences, i);
      Peer *peer;
      guint index;
      gboolean laser;

      if (p == NULL || p->peer_id == NULL || find_peer_in (peers, p->peer_id) != NULL)
        continue;
      peer = find_peer (self, p->peer_id);
      if (peer != NULL)
        {
          g_ptr_array_find (pr->peers, peer, &index);
          peer = g_ptr_array_steal_index (pr->peers, index);
          if (g_strcmp0 (peer->p->name, p->name) != 0)
            g_clear_object (&peer->layout);
          if (peer->p->has_viewport != p->has_viewport || peer->p->x != p->x ||
              peer->p->y != p->y || peer->p->zoom != p->zoom)
            follow_moved |= g_strcmp0 (p->peer_id, pr->follow_id) == 0;
          flow_remote_presence_free (peer->p);
        }
      else
        {
          peer = g_new0 (Peer, 1);
          peer->trail = g_array_new (FALSE, FALSE, sizeof (LaserPoint));
          follow_moved |= g_strcmp0 (p->peer_id, pr->follow_id) == 0;
        }
      peer->p = flow_remote_presence_copy (p);
      laser = p->has_viewport && g_strcmp0 (p->tool, "laser") == 0 &&
              isfinite (p->x) && isfinite (p->y);
      if (laser)
        trail_add (peer->trail, p->x, p->y, now, !peer->was_laser);
      peer->was_laser = laser;
      g_ptr_array_add (peers, peer);
    }
  g_ptr_array_unref (pr->peers);
  pr->peers = g_steal_pointer (&peers);

  if (pr->follow_id != NULL)
    {
      if (find_peer (self, pr->follow_id) == NULL)
        stop_following (self);
      else if (follow_moved)
        follow_apply (self);
    }
  presence_changed (self);
}

/* ------------------------------------------------------------------------
 * Our pointer and laser
 * ------------------------------------------------------------------------ */

/* Every pointer position the canvas sees, hovering or dragging. */
void
_flow_canvas_presence_pointer (FlowCanvas *self,
                               double      wx,
                               double      wy)
{
  FlowCanvasPresence *pr = self->presence;
  double bx, by;

  if (!isfinite (wx) || !isfinite (wy))
    return;
  flow_canvas_widget_to_board (self, wx, wy, &bx, &by);
  if (pr->has_pointer && bx == pr->pointer_bx && by == pr->pointer_by)
    return;
  pr->has_pointer = TRUE;
  pr->pointer_bx = bx;
  pr->pointer_by = by;
  if (self->tool == FLOW_CANVAS_TOOL_LASER)
    {
      trail_add (pr->laser, bx, by, now_us (self), FALSE);
      presence_changed (self);
    }
  g_signal_emit (self, presence_signals[POINTER_MOVED], 0, bx, by, self->zoom,
                 flow_canvas_tool_to_string (self->tool));
}

/* A new tool: the next laser stroke does not join the last one. */
void
_flow_canvas_presence_tool_changed (FlowCanvas *self)
{
  FlowCanvasPresence *pr = self->presence;

  if (pr->laser->len > 0)
    g_array_index (pr->laser, LaserPoint, pr->laser->len - 1).t =
      MIN (g_array_index (pr->laser, LaserPoint, pr->laser->len - 1).t, now_us (self) - LASER_BREAK_US - 1);
  /* Tell peers the tool changed even if the pointer did not move. */
  if (pr->has_pointer)
    g_signal_emit (self, presence_signals[POINTER_MOVED], 0, pr->pointer_bx, pr->pointer_by,
                   self->zoom, flow_canvas_tool_to_string (self->tool));
}

/**
 * flow_canvas_hover:
 * @self: a canvas
 * @x: widget x
 * @y: widget y
 *
 * Reports a pointer position outside a gesture (the widget's motion
 * events): the laser tool draws on hover too, and peers see our pointer.
 */
void
flow_canvas_hover (FlowCanvas *self,
                   double      x,
                   double      y)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  _flow_canvas_presence_pointer (self, x, y);
}

/* Whether a laser trail is still fading, so the widget should tick. */
gboolean
flow_canvas_is_animating (FlowCanvas *self)
{
  FlowCanvasPresence *pr;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  pr = self->presence;
  if (pr->laser->len > 0)
    return TRUE;
  for (guint i = 0; i < pr->peers->len; i++)
    if (((Peer *) g_ptr_array_index (pr->peers, i))->trail->len > 0)
      return TRUE;
  return FALSE;
}

/**
 * flow_canvas_update_laser:
 * @self: a canvas
 *
 * One animation frame: drops the laser points that have faded and emits
 * "presence-changed" while anything fades.
 *
 * Returns: whether trails remain (keep ticking)
 */
gboolean
flow_canvas_update_laser (FlowCanvas *self)
{
  FlowCanvasPresence *pr;
  gint64 now;
  gboolean any;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  pr = self->presence;
  now = now_us (self);
  any = pr->laser->len > 0;
  trail_prune (pr->laser, now);
  for (guint i = 0; i < pr->peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (pr->peers, i);

      any |= peer->trail->len > 0;
      trail_prune (peer->trail, now);
    }
  if (any)
    presence_changed (self);
  return flow_canvas_is_animating (self);
}

/* ------------------------------------------------------------------------
 * Drawing
 * ------------------------------------------------------------------------ */

static void
set_rgba (cairo_t *cr,
          guint32  rgba,
          double   alpha)
{
  double a = (rgba & 0xff) == 0 ? 1.0 : (rgba & 0xff) / 255.0;

  cairo_set_source_rgba (cr, ((rgba >> 24) & 0xff) / 255.0, ((rgba >> 16) & 0xff) / 255.0,
                         ((rgba >> 8) & 0xff) / 255.0, a * alpha);
}

/* Light colours get dark text, dark ones white (WCAG relative luminance,
 * close enough with a plain gamma). */
static gboolean
is_light (guint32 rgba)
{
  double r = pow (((rgba >> 24) & 0xff) / 255.0, 2.2);
  double g = pow (((rgba >> 16) & 0xff) / 255.0, 2.2);
  double b = pow (((rgba >> 8) & 0xff) / 255.0, 2.2);

  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.36;
}

static void
draw_trail (FlowCanvas *self,
            cairo_t    *cr,
            GArray     *trail,
            guint32     color,
            gint64      now)
{
  /* A soft glow under a bright core; each segment fades with its age.
   * Butt caps: translucent round caps would overlap into beads. */
  cairo_new_path (cr);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < trail->len; i++)
      {
        const LaserPoint *b = &g_array_index (trail, LaserPoint, i);
        double life = 1.0 - (double) (now - b->t) / LASER_FADE_US;
        double x1, y1, x2, y2, width;

        if (life <= 0)
          continue;
        life = MIN (life, 1.0);
        width = LASER_WIDTH * (0.35 + 0.65 * life);
        flow_canvas_board_to_widget (self, b->x, b->y, &x2, &y2);
        if (b->start || i == 0)
          {
            x1 = x2;
            y1 = y2;
          }
        else
          {
            const LaserPoint *a = &g_array_index (trail, LaserPoint, i - 1);

            flow_canvas_board_to_widget (self, a->x, a->y, &x1, &y1);
          }
        if (pass == 0)
          {
            set_rgba (cr, color, 0.25 * life);
            cairo_set_line_width (cr, width * 3);
          }
        else
          {
            set_rgba (cr, color, life);
            cairo_set_line_width (cr, width);
          }
        if (x1 == x2 && y1 == y2)
          continue;
        cairo_move_to (cr, x1, y1);
        cairo_line_to (cr, x2, y2);
        cairo_stroke (cr);
      }
  /* The newest point, the laser's spot, while it is fresh. */
  if (trail->len > 0)
    {
      const LaserPoint *head = &g_array_index (trail, LaserPoint, trail->len - 1);
      double life = 1.0 - (double) (now - head->t) / LASER_FADE_US;
      double x, y;

      if (life > 0)
        {
          flow_canvas_board_to_widget (self, head->x, head->y, &x, &y);
          set_rgba (cr, color, 0.3 * MIN (life, 1.0));
          cairo_arc (cr, x, y, LASER_WIDTH * 1.6, 0, 2 * G_PI);
          cairo_fill (cr);
          set_rgba (cr, color, MIN (life, 1.0));
          cairo_arc (cr, x, y, LASER_WIDTH * 0.7, 0, 2 * G_PI);
          cairo_fill (cr);
        }
    }
}

/* The label box of a cursor whose tip is at (wx, wy), widget coordinates. */
static void
label_box (Peer     *peer,
           double    wx,
           double    wy,
           FlowRect *box)
{
  int w = 0, h = 0;

  if (peer->layout != NULL)
    pango_layout_get_pixel_size (peer->layout, &w, &h);
  box->x = round (wx + LABEL_DX);
  box->y = round (wy + LABEL_DY);
  box->width = w + 2 * LABEL_PAD_X;
  box->height = h + 2 * LABEL_PAD_Y;
}

static void
rounded_rect (cairo_t  *cr,
              FlowRect *r,
              double    radius)
{
  radius = MIN (radius, MIN (r->width, r->height) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, r->x + r->width - radius, r->y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, r->x + r->width - radius, r->y + r->height - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, r->x + radius, r->y + r->height - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, r->x + radius, r->y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}

/* Whether the tip at (wx, wy) lies outside the widget; if so, @box is
 * the badge on the nearest edge and (@dx, @dy) the unit vector from its
 * centre towards the tip. */
static gboolean
edge_badge (FlowCanvas *self,
            Peer       *peer,
            double      wx,
            double      wy,
            FlowRect   *box,
            double     *dx,
            double     *dy)
{
  double cx, cy, len;

  if ((wx >= 0 && wy >= 0 && wx < self->width && wy < self->height) || !isfinite (wx) || !isfinite (wy))
    return FALSE;
  if (peer->layout == NULL)
    peer->layout = new_label_layout (self, peer->p->name);
  label_box (peer, 0, 0, box);
  box->x = round (CLAMP (wx - box->width / 2, EDGE_MARGIN + EDGE_ARROW,
                         self->width - box->width - EDGE_MARGIN - EDGE_ARROW));
  box->y = round (CLAMP (wy - box->height / 2, EDGE_MARGIN + EDGE_ARROW,
                         self->height - box->height - EDGE_MARGIN - EDGE_ARROW));
  cx = box->x + box->width / 2;
  cy = box->y + box->height / 2;
  len = hypot (wx - cx, wy - cy);
  *dx = len > 0 ? (wx - cx) / len : 1;
  *dy = len > 0 ? (wy - cy) / len : 0;
  return TRUE;
}

static void
draw_label (cairo_t  *cr,
            Peer     *peer,
            FlowRect *box)
{
  guint32 color = peer->p->color;

  pango_cairo_update_layout (cr, peer->layout);
  rounded_rect (cr, box, box->height / 2);
  set_rgba (cr, color, 1);
  cairo_fill_preserve (cr);
  if (is_light (color))
    cairo_set_source_rgba (cr, 0.2, 0.2, 0.22, 0.5);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 0.9);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
  if (is_light (color))
    cairo_set_source_rgba (cr, 0.1, 0.1, 0.12, 1);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 1);
  cairo_move_to (cr, box->x + LABEL_PAD_X, box->y + LABEL_PAD_Y);
  pango_cairo_show_layout (cr, peer->layout);
}

/* The badge of a peer out of view: its name, and a pointer from the
 * badge's edge towards it. */
static void
draw_edge_badge (cairo_t  *cr,
                 Peer     *peer,
                 FlowRect *box,
                 double    dx,
                 double    dy)
{
  double cx = box->x + box->width / 2, cy = box->y + box->height / 2;
  /* From the centre to where the direction leaves the box. */
  double reach = MIN (fabs (dx) > 1e-9 ? box->width / 2 / fabs (dx) : G_MAXDOUBLE,
                      fabs (dy) > 1e-9 ? box->height / 2 / fabs (dy) : G_MAXDOUBLE);
  double bx = cx + dx * (reach - 2), by = cy + dy * (reach - 2);

  cairo_save (cr);
  cairo_new_path (cr);
  cairo_move_to (cr, bx + dx * EDGE_ARROW, by + dy * EDGE_ARROW);
  cairo_line_to (cr, bx - dy * 5, by + dx * 5);
  cairo_line_to (cr, bx + dy * 5, by - dx * 5);
  cairo_close_path (cr);
  set_rgba (cr, peer->p->color, 1);
  cairo_fill (cr);
  cairo_restore (cr);
  draw_label (cr, peer, box);
}

static void
draw_cursor (FlowCanvas *self,
             cairo_t    *cr,
             Peer       *peer)
{
  /* An arrow pointer, tip at the origin, 20 px tall. */
  static const double arrow[][2] = {
    { 0, 0 }, { 0, 17 }, { 4.5, 13 }, { 7.5, 19.5 }, { 10.2, 18.3 }, { 7.3, 12 }, { 13, 12 },
  };
  guint32 color = peer->p->color;
  double wx, wy;
  FlowRect box;

  flow_canvas_board_to_widget (self, peer->p->x, peer->p->y, &wx, &wy);
  {
    double dx, dy;

    if (!isfinite (wx) || !isfinite (wy))
      return;   /* a far point beyond what a double can place */
    if (edge_badge (self, peer, wx, wy, &box, &dx, &dy))
      {
        draw_edge_badge (cr, peer, &box, dx, dy);
        return;
      }
  }

  cairo_save (cr);
  /* Showing the previous label left a current point: start afresh. */
  cairo_new_path (cr);
  cairo_translate (cr, round (wx), round (wy));
  for (guint i = 0; i < G_N_ELEMENTS (arrow); i++)
    cairo_line_to (cr, arrow[i][0], arrow[i][1]);
  cairo_close_path (cr);
  set_rgba (cr, color, 1);
  cairo_fill_preserve (cr);
  /* A light colour needs a dark edge to stand out on white paper. */
  if (is_light (color))
    cairo_set_source_rgba (cr, 0.2, 0.2, 0.22, 0.9);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 1);
  cairo_set_line_width (cr, 1.5);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_stroke (cr);
  cairo_restore (cr);

  if (peer->layout == NULL)
    peer->layout = new_label_layout (self, peer->p->name);
  label_box (peer, wx, wy, &box);
  draw_label (cr, peer, &box);
}

/**
 * flow_canvas_draw_presence:
 * @self: a canvas
 * @cr: a cairo context whose user space is the widget's pixels
 *
 * Draws laser trails (ours and peers') and remote cursors with their name
 * labels. Draw it above flow_canvas_draw(); it never touches the tiles.
 */
void
flow_canvas_draw_presence (FlowCanvas *self,
                           cairo_t    *cr)
{
  FlowCanvasPresence *pr;
  gint64 now;

  g_return_if_fail (FLOW_IS_CANVAS (self));
  g_return_if_fail (cr != NULL);

  pr = self->presence;
  now = now_us (self);
  cairo_save (cr);
  for (guint i = 0; i < pr->peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (pr->peers, i);

      if (peer->trail->len > 0)
        draw_trail (self, cr, peer->trail, peer->p->color, now);
    }
  if (pr->laser->len > 0)
    draw_trail (self, cr, pr->laser, LASER_LOCAL_COLOR, now);
  for (guint i = 0; i < pr->peers->len; i++)
    {
      Peer *peer = g_ptr_array_index (pr->peers, i);

      if (peer->p->has_viewport && isfinite (peer->p->x) && isfinite (peer->p->y))
        draw_cursor (self, cr, peer);
    }
  cairo_restore (cr);
}

/* ------------------------------------------------------------------------
 * For tests
 * ------------------------------------------------------------------------ */

/* Fixes the clock of laser trails (0: the real monotonic clock). */
void
_flow_canvas_set_now (FlowCanvas *self,
                      gint64      now_us)
{
  g_return_if_fail (FLOW_IS_CANVAS (self));

  self->presence->now = now_us;
}

/* Where the cursor of @peer_id is drawn: its tip and its label box, in
 * widget coordinates. */
gboolean
_flow_canvas_get_remote_cursor (FlowCanvas *self,
                                const char *peer_id,
                                double     *wx,
                                double     *wy,
                                FlowRect   *label)
{
  Peer *peer;
  double x, y;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  peer = find_peer (self, peer_id);
  if (peer == NULL || !peer->p->has_viewport)
    return FALSE;
  flow_canvas_board_to_widget (self, peer->p->x, peer->p->y, &x, &y);
  if (peer->layout == NULL)
    peer->layout = new_label_layout (self, peer->p->name);
  if (wx)
    *wx = x;
  if (wy)
    *wy = y;
  if (label)
    label_box (peer, x, y, label);
  return TRUE;
}

/* Whether @peer_id is out of view and shown as a badge on the edge; if
 * so, the badge's box in widget coordinates. */
gboolean
_flow_canvas_get_edge_badge (FlowCanvas *self,
                             const char *peer_id,
                             FlowRect   *box)
{
  Peer *peer;
  FlowRect b;
  double wx, wy, dx, dy;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), FALSE);

  peer = find_peer (self, peer_id);
  if (peer == NULL || !peer->p->has_viewport)
    return FALSE;
  flow_canvas_board_to_widget (self, peer->p->x, peer->p->y, &wx, &wy);
  if (!edge_badge (self, peer, wx, wy, &b, &dx, &dy))
    return FALSE;
  if (box)
    *box = b;
  return TRUE;
}

/* The number of points of the laser trail of @peer_id (%NULL: ours). */
guint
_flow_canvas_get_laser_length (FlowCanvas *self,
                               const char *peer_id)
{
  Peer *peer;

  g_return_val_if_fail (FLOW_IS_CANVAS (self), 0);

  if (peer_id == NULL)
    return self->presence->laser->len;
  peer = find_peer (self, peer_id);
  return peer != NULL ? peer->trail->len : 0;
}
