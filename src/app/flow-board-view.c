/* flow-board-view.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The board widget: a thin GTK shell around FlowCanvas, which holds all the
 * editing logic. This file only translates GTK input (gestures, keys,
 * scrolling, pinch, drag and drop, the clipboard) into canvas calls, and
 * draws by handing the canvas a cairo context. snapshot never changes the
 * document.
 *
 * Presence (remote cursors, laser trails) is drawn by a child drawing
 * area above the board, so a moving cursor or a fading trail redraws only
 * that child: GTK keeps the board's render node. The fading runs on a
 * tick callback only while a trail is left.
 */

#define G_LOG_DOMAIN "flow-board-view"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "flow-board-view.h"
#include "flow-window.h"
#include "flow-canvas-private.h"

struct _FlowBoardView
{
  GtkWidget   parent_instance;

  FlowCanvas *canvas;
  GtkWidget  *text_popover;
  GtkWidget  *text_view;
  FlowOpId    editing;
  gboolean    has_editing;

  double      pointer_x, pointer_y;
  double      drag_start_x, drag_start_y;
  double      zoom_scale;
  gboolean    space_down;
  guint       drag_button;

  GtkWidget  *presence_area;   /* the overlay of cursors and laser trails */
  GPtrArray  *presence;        /* FlowRemotePresence*, the last list, for set_doc */
  char       *follow_id;
  guint       tick_id;
};

enum {
  POINTER_MOVED,
  FOLLOW_STOPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FlowBoardView, flow_board_view, GTK_TYPE_WIDGET)

static FlowCanvasModifiers
modifiers_from_state (GdkModifierType state)
{
  FlowCanvasModifiers m = FLOW_CANVAS_MODIFIER_NONE;

  if (state & GDK_SHIFT_MASK)
    m |= FLOW_CANVAS_MODIFIER_SHIFT;
  if (state & GDK_CONTROL_MASK)
    m |= FLOW_CANVAS_MODIFIER_CTRL;
  if (state & GDK_ALT_MASK)
    m |= FLOW_CANVAS_MODIFIER_ALT;
  return m;
}

static double
event_pressure (GtkEventController *controller)
{
  GdkEvent *event = gtk_event_controller_get_current_event (controller);
  double pressure;

  if (event != NULL && gdk_event_get_axis (event, GDK_AXIS_PRESSURE, &pressure) &&
      pressure > 0 && pressure <= 1)
    return pressure;
  return 1.0;
}

static void
invalidate_cb (FlowBoardView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  /* The viewport may have moved under the cursors. */
  gtk_widget_queue_draw (self->presence_area);
}

static gboolean
laser_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  FlowBoardView *self = FLOW_BOARD_VIEW (widget);

  if (self->canvas != NULL && flow_canvas_update_laser (self->canvas))
    return G_SOURCE_CONTINUE;
  self->tick_id = 0;
  return G_SOURCE_REMOVE;
}

static void
presence_changed_cb (FlowBoardView *self)
{
  gtk_widget_queue_draw (self->presence_area);
  if (self->tick_id == 0 && flow_canvas_is_animating (self->canvas))
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), laser_tick_cb, NULL, NULL);
}

static void
pointer_moved_cb (FlowCanvas    *canvas,
                  double         x,
                  double         y,
                  double         zoom,
                  const char    *tool,
                  FlowBoardView *self)
{
  g_signal_emit (self, signals[POINTER_MOVED], 0, x, y, zoom, tool);
}

static void
follow_stopped_cb (FlowBoardView *self)
{
  g_clear_pointer (&self->follow_id, g_free);
  g_signal_emit (self, signals[FOLLOW_STOPPED], 0);
}

static void
draw_presence (GtkDrawingArea *area,
               cairo_t        *cr,
               int             width,
               int             height,
               gpointer        user_data)
{
  FlowBoardView *self = user_data;

  if (self->canvas != NULL)
    flow_canvas_draw_presence (self->canvas, cr);
}

/* ------------------------------------------------------------------------
 * Drawing
 * ------------------------------------------------------------------------ */

/* A dot grid shows where the paper is and how far it is zoomed. Dots sit
 * every 20 board units (the grid size when snapping) and thin out by
 * fives when they would come closer than 12 pixels. */
static void
draw_dots (FlowBoardView *self,
           cairo_t       *cr,
           int            width,
           int            height)
{
  double zoom = flow_canvas_get_zoom (self->canvas);
  double step = 20, ox, oy, size;

  if (!flow_canvas_get_grid (self->canvas, &step) || step <= 0)
    step = 20;
  while (step * zoom < 12)
    step *= 5;
  flow_canvas_get_offset (self->canvas, &ox, &oy);
  size = MAX (1.0, MIN (2.0, zoom * 1.5));
  cairo_save (cr);
  cairo_set_source_rgba (cr, 0.1, 0.1, 0.15, 0.18);
  for (double bx = floor (ox / step) * step; (bx - ox) * zoom < width; bx += step)
    for (double by = floor (oy / step) * step; (by - oy) * zoom < height; by += step)
      cairo_rectangle (cr, round ((bx - ox) * zoom) - size / 2, round ((by - oy) * zoom) - size / 2, size, size);
  cairo_fill (cr);
  cairo_restore (cr);
}

static void
flow_board_view_snapshot (GtkWidget   *widget,
                          GtkSnapshot *snapshot)
{
  FlowBoardView *self = FLOW_BOARD_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_t *cr;

  if (width <= 0 || height <= 0 || self->canvas == NULL)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw_dots (self, cr, width, height);
  /* The canvas caches the board at device resolution. */
  _flow_canvas_set_scale_factor (self->canvas, gtk_widget_get_scale_factor (widget));
  flow_canvas_draw (self->canvas, cr);
  cairo_destroy (cr);
  gtk_widget_snapshot_child (widget, self->presence_area, snapshot);
}

static void
flow_board_view_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  FlowBoardView *self = FLOW_BOARD_VIEW (widget);

  if (self->canvas != NULL)
    flow_canvas_set_size (self->canvas, width, height);
  gtk_widget_allocate (self->presence_area, width, height, -1, NULL);
  if (self->text_popover != NULL)
    gtk_popover_present (GTK_POPOVER (self->text_popover));
}

static void
flow_board_view_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  *minimum = 100;
  *natural = 600;
}

/* ------------------------------------------------------------------------
 * Text editing: a popover over the shape
 * ------------------------------------------------------------------------ */

static void
finish_text_edit (FlowBoardView *self,
                  gboolean       apply)
{
  if (!self->has_editing)
    return;
  self->has_editing = FALSE;
  if (apply)
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
      GtkTextIter start, end;
      g_autofree char *text = NULL;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      flow_canvas_set_text (self->canvas, &self->editing, text);
    }
  else
    {
      /* Cancelling the editor of a text that never got any leaves no
       * empty shape behind (an empty text is deleted). */
      const FlowShape *shape = flow_scene_lookup (flow_canvas_get_scene (self->canvas), &self->editing);

      if (shape != NULL && shape->kind == FLOW_SHAPE_TEXT && (shape->text == NULL || shape->text[0] == '\0'))
        flow_canvas_set_text (self->canvas, &self->editing, "");
    }
  gtk_popover_popdown (GTK_POPOVER (self->text_popover));
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static gboolean
text_key_pressed_cb (GtkEventControllerKey *controller,
                     guint                  keyval,
                     guint                  keycode,
                     GdkModifierType        state,
                     FlowBoardView         *self)
{
  if (keyval == GDK_KEY_Escape)
    {
      finish_text_edit (self, FALSE);
      return GDK_EVENT_STOP;
    }
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter) && (state & GDK_CONTROL_MASK))
    {
      finish_text_edit (self, TRUE);
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

static void
text_popover_closed_cb (FlowBoardView *self)
{
  finish_text_edit (self, TRUE);
}

static void
edit_text_cb (FlowCanvas    *canvas,
              gconstpointer  id_ptr,
              FlowBoardView *self)
{
  const FlowOpId *id = id_ptr;
  const FlowShape *shape = flow_scene_lookup (flow_canvas_get_scene (canvas), id);
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (self->text_view));
  double x1, y1, x2, y2;

  if (shape == NULL)
    return;
  finish_text_edit (self, TRUE);
  self->editing = *id;
  self->has_editing = TRUE;
  gtk_text_buffer_set_text (buffer, shape->text ? shape->text : "", -1);
  flow_canvas_board_to_widget (canvas, shape->x, shape->y, &x1, &y1);
  flow_canvas_board_to_widget (canvas, shape->x + shape->w, shape->y + shape->h, &x2, &y2);
  gtk_popover_set_pointing_to (GTK_POPOVER (self->text_popover),
                               &(GdkRectangle) { (int) x1, (int) y1,
                                                 MAX (1, (int) (x2 - x1)), MAX (1, (int) (y2 - y1)) });
  gtk_popover_popup (GTK_POPOVER (self->text_popover));
  gtk_widget_grab_focus (self->text_view);
}

/* ------------------------------------------------------------------------
 * Images: file chooser, drag and drop, paste
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowBoardView *self;
  double         x, y;
} ImageData;

static void
insert_image_bytes (FlowBoardView *self,
                    GBytes        *bytes,
                    double         x,
                    double         y)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) png = NULL;

  /* Anything GdkPixbuf-backed GdkTexture can read (PNG, JPEG, …) is
   * stored as PNG, the one format the renderer decodes. */
  {
    g_autoptr(GdkTexture) texture = gdk_texture_new_from_bytes (bytes, &error);

    if (texture == NULL)
      goto fail;
    png = gdk_texture_save_to_png_bytes (texture);
  }
  if (flow_canvas_insert_image (self->canvas, png, "image/png", x, y, NULL, &error))
    return;

fail:
  {
    GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self)));
    g_autofree char *msg = g_strdup_printf (_("Could not insert the image: %s"), error->message);

    if (root != NULL)
      gtk_widget_activate_action (GTK_WIDGET (self), "win.show-error", "s", msg);
    g_warning ("%s", msg);
  }
}

static void
image_loaded_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  ImageData *data = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_file_load_bytes_finish (G_FILE (source), result, NULL, &error);

  if (bytes == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Could not read the image: %s"), error->message);

      gtk_widget_activate_action (GTK_WIDGET (data->self), "win.show-error", "s", msg);
    }
  else if (data->self->canvas != NULL)
    insert_image_bytes (data->self, bytes, data->x, data->y);
  g_object_unref (data->self);
  g_free (data);
}

static void
load_image_file (FlowBoardView *self,
                 GFile         *file,
                 double         x,
                 double         y)
{
  ImageData *data = g_new0 (ImageData, 1);

  data->self = g_object_ref (self);
  data->x = x;
  data->y = y;
  g_file_load_bytes_async (file, NULL, image_loaded_cb, data);
}

static void
image_chooser_response_cb (GtkNativeDialog *dialog,
                           int              response,
                           FlowBoardView   *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      double *pos = g_object_get_data (G_OBJECT (dialog), "pos");

      load_image_file (self, file, pos[0], pos[1]);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
image_requested_cb (FlowCanvas    *canvas,
                    double         x,
                    double         y,
                    FlowBoardView *self)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  double *pos = g_new (double, 2);

  pos[0] = x;
  pos[1] = y;
  chooser = gtk_file_chooser_native_new (_("Insert Image"),
                                         GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Insert"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("Images"));
  gtk_file_filter_add_pixbuf_formats (filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_set_data_full (G_OBJECT (chooser), "pos", pos, g_free);
  g_signal_connect (chooser, "response", G_CALLBACK (image_chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         FlowBoardView *self)
{
  if (flow_canvas_get_read_only (self->canvas))
    return FALSE;
  if (G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    {
      GSList *files = g_value_get_boxed (value);

      for (GSList *l = files; l != NULL; l = l->next)
        {
          g_autofree char *name = g_file_get_basename (l->data);
          GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

          /* Markdown dropped on a board becomes a page, as elsewhere. */
          if (name != NULL && (g_str_has_suffix (name, ".md") || g_str_has_suffix (name, ".markdown")) &&
              FLOW_IS_WINDOW (root))
            flow_window_import_file (FLOW_WINDOW (root), l->data);
          else
            load_image_file (self, l->data, x, y);
        }
      return files != NULL;
    }
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Clipboard
 * ------------------------------------------------------------------------ */

static gboolean
copy_to_clipboard (FlowBoardView *self,
                   GBytes        *shapes)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  g_autoptr(GPtrArray) providers = g_ptr_array_new ();
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GBytes) svg = NULL;
  GdkContentProvider *union_provider;

  if (shapes == NULL)
    return FALSE;
  /* Our own format first, then images other applications understand. */
  g_ptr_array_add (providers, gdk_content_provider_new_for_bytes (FLOW_CANVAS_SHAPES_MIME, shapes));
  svg = flow_canvas_export_selection (self->canvas, TRUE, NULL);
  if (svg != NULL)
    g_ptr_array_add (providers, gdk_content_provider_new_for_bytes ("image/svg+xml", svg));
  png = flow_canvas_export_selection (self->canvas, FALSE, NULL);
  if (png != NULL)
    g_ptr_array_add (providers, gdk_content_provider_new_for_bytes ("image/png", png));
  union_provider = gdk_content_provider_new_union ((GdkContentProvider **) providers->pdata,
                                                   providers->len);
  gdk_clipboard_set_content (clipboard, union_provider);
  g_object_unref (union_provider);
  return TRUE;
}

static void
paste_spliced_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(FlowBoardView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *mime = g_object_get_data (source, "mime");

  if (g_output_stream_splice_finish (G_OUTPUT_STREAM (source), result, &error) < 0 ||
      self->canvas == NULL)
    return;
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (source));
  if (g_strcmp0 (mime, FLOW_CANVAS_SHAPES_MIME) == 0)
    {
      if (!flow_canvas_paste (self->canvas, bytes, self->pointer_x, self->pointer_y, &error))
        {
          g_autofree char *msg = g_strdup_printf (_("Could not paste: %s"), error->message);

          gtk_widget_activate_action (GTK_WIDGET (self), "win.show-error", "s", msg);
        }
    }
  else
    insert_image_bytes (self, bytes, self->pointer_x, self->pointer_y);
}

static void
paste_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(FlowBoardView) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GOutputStream) out = NULL;
  const char *mime = NULL;

  stream = gdk_clipboard_read_finish (GDK_CLIPBOARD (source), result, &mime, &error);
  if (stream == NULL)
    return;
  /* Another application's clipboard is a pipe: read it without blocking. */
  out = g_memory_output_stream_new_resizable ();
  g_object_set_data_full (G_OBJECT (out), "mime", g_strdup (mime), g_free);
  g_output_stream_splice_async (out, stream,
                                G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE | G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                                G_PRIORITY_DEFAULT, NULL, paste_spliced_cb, g_object_ref (self));
}

static void
paste (FlowBoardView *self)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  static const char *mimes[] = { FLOW_CANVAS_SHAPES_MIME, "image/png", "image/jpeg", NULL };

  if (flow_canvas_get_read_only (self->canvas))
    return;
  gdk_clipboard_read_async (clipboard, mimes, G_PRIORITY_DEFAULT, NULL,
                            paste_read_cb, g_object_ref (self));
}

/* ------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------ */

static void
drag_begin_cb (GtkGestureDrag *gesture,
               double          x,
               double          y,
               FlowBoardView  *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  guint button = gtk_gesture_single_get_current_button (GTK_GESTURE_SINGLE (gesture));

  gtk_widget_grab_focus (GTK_WIDGET (self));
  /* Synthesised or touch sequences report no button. */
  if (button == 0)
    button = GDK_BUTTON_PRIMARY;
  if (button == GDK_BUTTON_SECONDARY)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  /* Space+drag pans, like the middle button. */
  if (self->space_down && button == GDK_BUTTON_PRIMARY)
    button = GDK_BUTTON_MIDDLE;
  self->drag_button = button;
  self->drag_start_x = x;
  self->drag_start_y = y;
  flow_canvas_press (self->canvas, x, y, event_pressure (GTK_EVENT_CONTROLLER (gesture)),
                     modifiers_from_state (state), button);
}

static void
drag_update_cb (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                FlowBoardView  *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));

  flow_canvas_motion (self->canvas, self->drag_start_x + dx, self->drag_start_y + dy,
                      event_pressure (GTK_EVENT_CONTROLLER (gesture)), modifiers_from_state (state));
}

static void
drag_end_cb (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             FlowBoardView  *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));

  flow_canvas_release (self->canvas, self->drag_start_x + dx, self->drag_start_y + dy,
                       modifiers_from_state (state));
}

static void
drag_cancel_cb (GtkGesture       *gesture,
                GdkEventSequence *sequence,
                FlowBoardView    *self)
{
  flow_canvas_cancel (self->canvas);
}

static void
click_pressed_cb (GtkGestureClick *gesture,
                  int              n_press,
                  double           x,
                  double           y,
                  FlowBoardView   *self)
{
  if (n_press == 2)
    flow_canvas_edit_at (self->canvas, x, y);
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           FlowBoardView            *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  flow_canvas_hover (self->canvas, x, y);
  if (!flow_canvas_is_dragging (self->canvas))
    gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                     self->space_down ? "grab"
                                                      : flow_canvas_get_cursor_name (self->canvas, x, y));
}

static gboolean
scroll_cb (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           FlowBoardView            *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  GdkScrollUnit unit = gtk_event_controller_scroll_get_unit (controller);
  double step = unit == GDK_SCROLL_UNIT_WHEEL ? 40.0 : 1.0;

  if (state & GDK_CONTROL_MASK)
    {
      double factor = unit == GDK_SCROLL_UNIT_WHEEL ? pow (1.1, -dy) : exp (-dy / 200.0);

      flow_canvas_zoom_at (self->canvas, factor, self->pointer_x, self->pointer_y);
      return GDK_EVENT_STOP;
    }
  if (state & GDK_SHIFT_MASK && dx == 0)
    {
      dx = dy;
      dy = 0;
    }
  flow_canvas_pan_by (self->canvas, -dx * step, -dy * step);
  return GDK_EVENT_STOP;
}

static void
zoom_begin_cb (GtkGesture       *gesture,
               GdkEventSequence *sequence,
               FlowBoardView    *self)
{
  self->zoom_scale = 1.0;
  flow_canvas_cancel (self->canvas);
}

static void
zoom_scale_changed_cb (GtkGestureZoom *gesture,
                       double          scale,
                       FlowBoardView  *self)
{
  double cx, cy;

  if (scale <= 0 || self->zoom_scale <= 0)
    return;
  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &cx, &cy))
    {
      cx = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      cy = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  flow_canvas_zoom_at (self->canvas, scale / self->zoom_scale, cx, cy);
  self->zoom_scale = scale;
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                FlowBoardView         *self)
{
  gboolean shift = (state & GDK_SHIFT_MASK) != 0;
  double step = shift ? 10 : 1;
  gunichar ch;
  FlowCanvasTool tool;

  state &= gtk_accelerator_get_default_mod_mask ();
  switch (keyval)
    {
    case GDK_KEY_space:
      self->space_down = TRUE;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), "grab");
      return GDK_EVENT_STOP;
    case GDK_KEY_Escape:
      if (flow_canvas_is_dragging (self->canvas))
        flow_canvas_cancel (self->canvas);
      else
        {
          flow_canvas_clear_selection (self->canvas);
          flow_canvas_set_tool (self->canvas, FLOW_CANVAS_TOOL_SELECT);
        }
      return GDK_EVENT_STOP;
    case GDK_KEY_Delete:
    case GDK_KEY_BackSpace:
      flow_canvas_delete_selection (self->canvas);
      return GDK_EVENT_STOP;
    case GDK_KEY_Left:
      flow_canvas_nudge (self->canvas, -step, 0);
      return GDK_EVENT_STOP;
    case GDK_KEY_Right:
      flow_canvas_nudge (self->canvas, step, 0);
      return GDK_EVENT_STOP;
    case GDK_KEY_Up:
      flow_canvas_nudge (self->canvas, 0, -step);
      return GDK_EVENT_STOP;
    case GDK_KEY_Down:
      flow_canvas_nudge (self->canvas, 0, step);
      return GDK_EVENT_STOP;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
      {
        guint n;
        const FlowOpId *sel = flow_canvas_get_selection (self->canvas, &n);

        if (n == 1)
          {
            const FlowShape *shape = flow_scene_lookup (flow_canvas_get_scene (self->canvas), sel);

            if (shape != NULL && (shape->kind == FLOW_SHAPE_TEXT || shape->kind == FLOW_SHAPE_STICKY))
              {
                double wx, wy;

                flow_canvas_board_to_widget (self->canvas, shape->x + 1, shape->y + 1, &wx, &wy);
                flow_canvas_edit_at (self->canvas, wx, wy);
                return GDK_EVENT_STOP;
              }
          }
      }
      break;
    default:
      break;
    }

  if ((state & ~GDK_SHIFT_MASK) != 0)
    return GDK_EVENT_PROPAGATE;
  ch = gdk_keyval_to_unicode (gdk_keyval_to_lower (keyval));
  if (ch != 0 && flow_canvas_tool_from_shortcut (ch, &tool))
    {
      flow_canvas_set_tool (self->canvas, tool);
      return GDK_EVENT_STOP;
    }
  return GDK_EVENT_PROPAGATE;
}

static void
key_released_cb (GtkEventControllerKey *controller,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 FlowBoardView         *self)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_down = FALSE;
      gtk_widget_set_cursor_from_name (GTK_WIDGET (self), NULL);
    }
}

/* ------------------------------------------------------------------------
 * Actions (canvas.*)
 * ------------------------------------------------------------------------ */

static void
canvas_action_cb (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  FlowBoardView *self = FLOW_BOARD_VIEW (widget);
  FlowCanvas *canvas = self->canvas;
  const char *name = action_name + strlen ("canvas.");

  if (g_str_equal (name, "delete"))
    flow_canvas_delete_selection (canvas);
  else if (g_str_equal (name, "duplicate"))
    flow_canvas_duplicate (canvas);
  else if (g_str_equal (name, "group"))
    flow_canvas_group (canvas);
  else if (g_str_equal (name, "ungroup"))
    flow_canvas_ungroup (canvas);
  else if (g_str_equal (name, "raise"))
    flow_canvas_restack (canvas, FLOW_CANVAS_RAISE);
  else if (g_str_equal (name, "lower"))
    flow_canvas_restack (canvas, FLOW_CANVAS_LOWER);
  else if (g_str_equal (name, "raise-to-top"))
    flow_canvas_restack (canvas, FLOW_CANVAS_RAISE_TO_TOP);
  else if (g_str_equal (name, "lower-to-bottom"))
    flow_canvas_restack (canvas, FLOW_CANVAS_LOWER_TO_BOTTOM);
  else if (g_str_equal (name, "select-all"))
    flow_canvas_select_all (canvas);
  else if (g_str_equal (name, "zoom-in"))
    flow_canvas_zoom_at (canvas, 1.25, gtk_widget_get_width (widget) / 2.0,
                         gtk_widget_get_height (widget) / 2.0);
  else if (g_str_equal (name, "zoom-out"))
    flow_canvas_zoom_at (canvas, 0.8, gtk_widget_get_width (widget) / 2.0,
                         gtk_widget_get_height (widget) / 2.0);
  else if (g_str_equal (name, "zoom-fit"))
    flow_canvas_zoom_to_fit (canvas);
  else if (g_str_equal (name, "zoom-reset"))
    flow_canvas_zoom_reset (canvas);
  else if (g_str_equal (name, "copy"))
    {
      g_autoptr(GBytes) bytes = flow_canvas_copy_selection (canvas);

      copy_to_clipboard (self, bytes);
    }
  else if (g_str_equal (name, "cut"))
    {
      g_autoptr(GBytes) bytes = flow_canvas_copy_selection (canvas);

      if (copy_to_clipboard (self, bytes))
        flow_canvas_delete_selection (canvas);
    }
  else if (g_str_equal (name, "paste"))
    paste (self);
  else if (g_str_equal (name, "lock"))
    flow_canvas_set_locked (canvas, TRUE);
  else if (g_str_equal (name, "unlock"))
    flow_canvas_set_locked (canvas, FALSE);
  else if (g_str_equal (name, "tool"))
    {
      const char *tool_name = g_variant_get_string (param, NULL);

      for (guint t = 0; t <= FLOW_CANVAS_TOOL_LAST; t++)
        if (g_str_equal (flow_canvas_tool_to_string (t), tool_name))
          flow_canvas_set_tool (canvas, t);
    }
  else if (g_str_equal (name, "align"))
    {
      static const char *names[] = { "left", "hcenter", "right", "top", "vcenter", "bottom" };
      const char *s = g_variant_get_string (param, NULL);

      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        if (g_str_equal (s, names[i]))
          flow_canvas_align (canvas, i);
    }
  else if (g_str_equal (name, "distribute"))
    flow_canvas_distribute (canvas, g_str_equal (g_variant_get_string (param, NULL), "vertical")
                                    ? FLOW_CANVAS_DISTRIBUTE_VERTICAL
                                    : FLOW_CANVAS_DISTRIBUTE_HORIZONTAL);
}

/* ------------------------------------------------------------------------
 * Life cycle
 * ------------------------------------------------------------------------ */

/**
 * flow_board_view_set_doc:
 * @self: a board view
 * @board: the board to show and edit
 *
 * Shows @board with a new canvas, keeping the viewport. The history
 * preview uses this to swap in read-only checkouts.
 */
void
flow_board_view_set_doc (FlowBoardView *self,
                         FlowDoc       *board)
{
  double ox = 0, oy = 0, zoom = 1;
  gboolean had = self->canvas != NULL;

  g_return_if_fail (FLOW_IS_BOARD_VIEW (self));

  if (had)
    {
      if (flow_canvas_get_doc (self->canvas) == board)
        return;
      flow_canvas_get_offset (self->canvas, &ox, &oy);
      zoom = flow_canvas_get_zoom (self->canvas);
      g_signal_handlers_disconnect_by_data (self->canvas, self);
      g_clear_object (&self->canvas);
    }
  self->canvas = flow_canvas_new (board);
  _flow_canvas_set_zoom_settle (self->canvas, 150 * G_TIME_SPAN_MILLISECOND);
  g_signal_connect_swapped (self->canvas, "invalidate", G_CALLBACK (invalidate_cb), self);
  g_signal_connect (self->canvas, "edit-text", G_CALLBACK (edit_text_cb), self);
  g_signal_connect (self->canvas, "image-requested", G_CALLBACK (image_requested_cb), self);
  g_signal_connect_swapped (self->canvas, "presence-changed", G_CALLBACK (presence_changed_cb), self);
  g_signal_connect (self->canvas, "pointer-moved", G_CALLBACK (pointer_moved_cb), self);
  flow_canvas_set_size (self->canvas, gtk_widget_get_width (GTK_WIDGET (self)),
                        gtk_widget_get_height (GTK_WIDGET (self)));
  if (had)
    {
      flow_canvas_zoom_at (self->canvas, zoom, 0, 0);
      flow_canvas_set_offset (self->canvas, ox, oy);
    }
  /* The new canvas shows the same participants and follows the same one
   * (after the viewport is restored, which would stop following). */
  flow_canvas_set_remote_presence (self->canvas, self->presence);
  flow_canvas_follow (self->canvas, self->follow_id);
  g_signal_connect_swapped (self->canvas, "follow-stopped", G_CALLBACK (follow_stopped_cb), self);
  g_object_notify (G_OBJECT (self), "canvas");
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GtkWidget *
flow_board_view_new (FlowDoc *board)
{
  FlowBoardView *self = g_object_new (FLOW_TYPE_BOARD_VIEW, NULL);

  flow_board_view_set_doc (self, board);
  return GTK_WIDGET (self);
}

/**
 * flow_board_view_set_remote_presence:
 * @self: a board view
 * @presences: (element-type FlowRemotePresence) (nullable): the peers
 *   looking at this board; copied
 *
 * Shows the cursors (an arrow and a name label in each peer's colour) and
 * laser trails of @presences over the board; peers not in the list
 * disappear. While following a peer, its updates move our viewport.
 */
void
flow_board_view_set_remote_presence (FlowBoardView *self,
                                     GPtrArray     *presences)
{
  g_return_if_fail (FLOW_IS_BOARD_VIEW (self));

  g_clear_pointer (&self->presence, g_ptr_array_unref);
  self->presence = flow_remote_presence_list_new ();
  for (guint i = 0; presences != NULL && i < presences->len; i++)
    g_ptr_array_add (self->presence, flow_remote_presence_copy (g_ptr_array_index (presences, i)));
  flow_canvas_set_remote_presence (self->canvas, self->presence);
}

/**
 * flow_board_view_follow:
 * @self: a board view
 * @peer_id: (nullable): the peer to follow, %NULL to stop
 *
 * Centres our view on @peer_id's pointer at its zoom, now and on each of
 * its presence updates, until a local pan or zoom ("follow-stopped").
 */
void
flow_board_view_follow (FlowBoardView *self,
                        const char    *peer_id)
{
  g_return_if_fail (FLOW_IS_BOARD_VIEW (self));

  g_free (self->follow_id);
  self->follow_id = g_strdup (peer_id);
  flow_canvas_follow (self->canvas, peer_id);
}

/* Returns: (nullable): the peer being followed */
const char *
flow_board_view_get_followed (FlowBoardView *self)
{
  g_return_val_if_fail (FLOW_IS_BOARD_VIEW (self), NULL);

  return self->follow_id;
}

FlowCanvas *
flow_board_view_get_canvas (FlowBoardView *self)
{
  g_return_val_if_fail (FLOW_IS_BOARD_VIEW (self), NULL);

  return self->canvas;
}

enum {
  PROP_0,
  PROP_CANVAS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
flow_board_view_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  FlowBoardView *self = FLOW_BOARD_VIEW (object);

  switch (prop_id)
    {
    case PROP_CANVAS:
      g_value_set_object (value, self->canvas);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_board_view_dispose (GObject *object)
{
  FlowBoardView *self = FLOW_BOARD_VIEW (object);

  if (self->canvas != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->canvas, self);
      g_clear_object (&self->canvas);
    }
  g_clear_pointer (&self->text_popover, gtk_widget_unparent);
  g_clear_pointer (&self->presence_area, gtk_widget_unparent);
  g_clear_pointer (&self->presence, g_ptr_array_unref);
  g_clear_pointer (&self->follow_id, g_free);

  G_OBJECT_CLASS (flow_board_view_parent_class)->dispose (object);
}

static void
flow_board_view_class_init (FlowBoardViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char *simple[] = {
    "delete", "duplicate", "group", "ungroup", "raise", "lower", "raise-to-top",
    "lower-to-bottom", "select-all", "zoom-in", "zoom-out", "zoom-fit", "zoom-reset",
    "copy", "cut", "paste", "lock", "unlock",
  };

  object_class->dispose = flow_board_view_dispose;
  object_class->get_property = flow_board_view_get_property;
  widget_class->snapshot = flow_board_view_snapshot;
  widget_class->size_allocate = flow_board_view_size_allocate;
  widget_class->measure = flow_board_view_measure;

  properties[PROP_CANVAS] = g_param_spec_object ("canvas", NULL, NULL, FLOW_TYPE_CANVAS,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[POINTER_MOVED] =
    g_signal_new ("pointer-moved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_DOUBLE, G_TYPE_DOUBLE, G_TYPE_DOUBLE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[FOLLOW_STOPPED] =
    g_signal_new ("follow-stopped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  for (guint i = 0; i < G_N_ELEMENTS (simple); i++)
    {
      g_autofree char *name = g_strconcat ("canvas.", simple[i], NULL);

      gtk_widget_class_install_action (widget_class, name, NULL, canvas_action_cb);
    }
  gtk_widget_class_install_action (widget_class, "canvas.tool", "s", canvas_action_cb);
  gtk_widget_class_install_action (widget_class, "canvas.align", "s", canvas_action_cb);
  gtk_widget_class_install_action (widget_class, "canvas.distribute", "s", canvas_action_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_d, GDK_CONTROL_MASK, "canvas.duplicate", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK, "canvas.group", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_g, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "canvas.ungroup", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketright, GDK_CONTROL_MASK, "canvas.raise", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketleft, GDK_CONTROL_MASK, "canvas.lower", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketright, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "canvas.raise-to-top", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketleft, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "canvas.lower-to-bottom", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_braceright, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "canvas.raise-to-top", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_braceleft, GDK_CONTROL_MASK | GDK_SHIFT_MASK, "canvas.lower-to-bottom", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_a, GDK_CONTROL_MASK, "canvas.select-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_c, GDK_CONTROL_MASK, "canvas.copy", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_x, GDK_CONTROL_MASK, "canvas.cut", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_v, GDK_CONTROL_MASK, "canvas.paste", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, GDK_CONTROL_MASK, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "canvas.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "canvas.zoom-reset", NULL);

  gtk_widget_class_set_css_name (widget_class, "flowboardview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
flow_board_view_init (FlowBoardView *self)
{
  GtkGesture *drag, *click, *zoom;
  GtkEventController *motion, *scroll, *key, *text_key;
  GtkDropTarget *drop;
  GtkWidget *scroller;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Board"), -1);

  /* Above the board, never taking input. */
  self->presence_area = gtk_drawing_area_new ();
  gtk_widget_set_can_target (self->presence_area, FALSE);
  gtk_widget_set_can_focus (self->presence_area, FALSE);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (self->presence_area), draw_presence, self, NULL);
  gtk_widget_set_parent (self->presence_area, GTK_WIDGET (self));

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  g_signal_connect (drag, "cancel", G_CALLBACK (drag_cancel_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_PRIMARY);
  g_signal_connect (click, "pressed", G_CALLBACK (click_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));

  zoom = gtk_gesture_zoom_new ();
  g_signal_connect (zoom, "begin", G_CALLBACK (zoom_begin_cb), self);
  g_signal_connect (zoom, "scale-changed", G_CALLBACK (zoom_scale_changed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (zoom));

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "enter", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  key = gtk_event_controller_key_new ();
  g_signal_connect (key, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  g_signal_connect (key, "key-released", G_CALLBACK (key_released_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), key);

  drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));

  /* The text editor for text shapes and sticky notes. */
  self->text_view = gtk_text_view_new ();
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (self->text_view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (self->text_view), FALSE);
  text_key = gtk_event_controller_key_new ();
  g_signal_connect (text_key, "key-pressed", G_CALLBACK (text_key_pressed_cb), self);
  gtk_widget_add_controller (self->text_view, text_key);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scroller), 240);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 80);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->text_view);
  self->text_popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (self->text_popover), scroller);
  gtk_popover_set_position (GTK_POPOVER (self->text_popover), GTK_POS_BOTTOM);
  gtk_widget_set_parent (self->text_popover, GTK_WIDGET (self));
  g_signal_connect_swapped (self->text_popover, "closed", G_CALLBACK (text_popover_closed_cb), self);
}
