/* flow-board-page.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A board tab: the tool bar and style bar above the board view, and the
 * history bar below it.
 *
 * History works on the document in memory: version n is the first n ops of
 * the board's log (flow_doc_dup_version_at()), checked out read-only and
 * shown in the same view. Restoring writes the differences as new edits
 * (flow_board_restore()), so nothing is lost and the restore itself can be
 * undone or merged by peers. The time-lapse steps the same preview.
 */

#define G_LOG_DOMAIN "flow-board-page"

#include "config.h"

#include <glib/gi18n.h>

#include "flow-application.h"
#include "flow-board.h"
#include "flow-board-page.h"
#include "flow-history-bar.h"
#include "flow-save-dialog.h"


struct _FlowBoardPage
{
  GtkWidget        parent_instance;

  GtkWidget       *box;
  GtkWidget       *tool_buttons[FLOW_CANVAS_TOOL_LAST + 1];
  GtkWidget       *stroke_button;
  GtkWidget       *fill_button;
  GtkWidget       *width_spin;
  GtkWidget       *opacity_spin;
  GtkWidget       *font_spin;
  GtkWidget       *zoom_button;
  GtkWidget       *history_button;
  GtkWidget       *view;
  GtkWidget       *history_bar;

  FlowDoc         *doc;
  FlowDoc         *preview;
  guint            watch;
  gboolean         updating;
};

G_DEFINE_FINAL_TYPE (FlowBoardPage, flow_board_page, GTK_TYPE_WIDGET)

static const struct {
  FlowCanvasTool  tool;
  const char     *icon;
  const char     *label;
} tools[] = {
  { FLOW_CANVAS_TOOL_SELECT,  "flowsync-tool-select-symbolic",      N_("Select") },
  { FLOW_CANVAS_TOOL_HAND,    "flowsync-tool-hand-symbolic",        N_("Hand") },
  { FLOW_CANVAS_TOOL_RECT,    "flowsync-tool-rectangle-symbolic",   N_("Rectangle") },
  { FLOW_CANVAS_TOOL_ELLIPSE, "flowsync-tool-ellipse-symbolic",     N_("Ellipse") },
  { FLOW_CANVAS_TOOL_DIAMOND, "flowsync-tool-diamond-symbolic",     N_("Diamond") },
  { FLOW_CANVAS_TOOL_LINE,    "flowsync-tool-line-symbolic",        N_("Line") },
  { FLOW_CANVAS_TOOL_ARROW,   "flowsync-tool-arrow-symbolic",       N_("Arrow") },
  { FLOW_CANVAS_TOOL_PEN,     "flowsync-tool-pen-symbolic",         N_("Pen") },
  { FLOW_CANVAS_TOOL_TEXT,    "flowsync-tool-text-symbolic",        N_("Text") },
  { FLOW_CANVAS_TOOL_STICKY,  "flowsync-tool-sticky-note-symbolic", N_("Sticky Note") },
  { FLOW_CANVAS_TOOL_IMAGE,   "flowsync-tool-image-symbolic",       N_("Image") },
  { FLOW_CANVAS_TOOL_ERASER,  "flowsync-tool-eraser-symbolic",      N_("Eraser") },
  { FLOW_CANVAS_TOOL_LASER,   "find-location-symbolic",             N_("Laser Pointer") },
};

static FlowCanvas *
canvas (FlowBoardPage *self)
{
  return flow_board_view_get_canvas (FLOW_BOARD_VIEW (self->view));
}

FlowBoardView *
flow_board_page_get_view (FlowBoardPage *self)
{
  g_return_val_if_fail (FLOW_IS_BOARD_PAGE (self), NULL);

  return FLOW_BOARD_VIEW (self->view);
}

FlowDoc *
flow_board_page_get_doc (FlowBoardPage *self)
{
  g_return_val_if_fail (FLOW_IS_BOARD_PAGE (self), NULL);

  return self->doc;
}

static void report_error (FlowBoardPage *self,
                          const char    *format,
                          ...) G_GNUC_PRINTF (2, 3);

static void
report_error (FlowBoardPage *self,
              const char    *format,
              ...)
{
  g_autofree char *msg = NULL;
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);

  gtk_widget_activate_action (GTK_WIDGET (self), "win.show-error", "s", msg);
}

/* ------------------------------------------------------------------------
 * Tools and style
 * ------------------------------------------------------------------------ */

static void
sync_tool_buttons (FlowBoardPage *self)
{
  FlowCanvasTool tool = flow_canvas_get_tool (canvas (self));
  gboolean read_only = flow_canvas_get_read_only (canvas (self));

  self->updating = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->tool_buttons[i]), tools[i].tool == tool);
      gtk_widget_set_sensitive (self->tool_buttons[i], !read_only ||
                                tools[i].tool == FLOW_CANVAS_TOOL_SELECT ||
                                tools[i].tool == FLOW_CANVAS_TOOL_HAND ||
                                tools[i].tool == FLOW_CANVAS_TOOL_LASER);
    }
  self->updating = FALSE;
}

static void
tool_toggled_cb (GtkToggleButton *button,
                 FlowBoardPage   *self)
{
  guint i = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "tool-index"));

  if (self->updating || !gtk_toggle_button_get_active (button))
    return;
  flow_canvas_set_tool (canvas (self), tools[i].tool);
  gtk_widget_grab_focus (self->view);
}

static guint32
rgba_to_u32 (const GdkRGBA *c)
{
  return ((guint32) (CLAMP (c->red, 0, 1) * 255 + .5) << 24) |
         ((guint32) (CLAMP (c->green, 0, 1) * 255 + .5) << 16) |
         ((guint32) (CLAMP (c->blue, 0, 1) * 255 + .5) << 8) |
         (guint32) (CLAMP (c->alpha, 0, 1) * 255 + .5);
}

static void
u32_to_rgba (guint32  v,
             GdkRGBA *c)
{
  c->red = ((v >> 24) & 0xff) / 255.0;
  c->green = ((v >> 16) & 0xff) / 255.0;
  c->blue = ((v >> 8) & 0xff) / 255.0;
  c->alpha = (v & 0xff) / 255.0;
}

G_GNUC_BEGIN_IGNORE_DEPRECATIONS

static void
sync_style_widgets (FlowBoardPage *self)
{
  FlowCanvasStyle style;
  GdkRGBA c;

  flow_canvas_get_style (canvas (self), &style);
  self->updating = TRUE;
  u32_to_rgba (style.stroke, &c);
  gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (self->stroke_button), &c);
  u32_to_rgba (style.fill, &c);
  gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (self->fill_button), &c);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->width_spin), style.stroke_width);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->opacity_spin), style.opacity * 100);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->font_spin), style.font_size);
  self->updating = FALSE;
}

/* The style widgets show the first selected shape's style, or the style
 * the next shape will get when nothing is selected. */
static void
selection_changed_cb (FlowBoardPage *self)
{
  FlowCanvas *c = canvas (self);
  guint n;
  const FlowOpId *ids = flow_canvas_get_selection (c, &n);
  const FlowShape *shape = n > 0 ? flow_scene_lookup (flow_canvas_get_scene (c), &ids[0]) : NULL;
  GdkRGBA rgba;

  if (shape == NULL)
    {
      sync_style_widgets (self);
      return;
    }
  self->updating = TRUE;
  u32_to_rgba (shape->stroke, &rgba);
  gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (self->stroke_button), &rgba);
  u32_to_rgba (shape->fill, &rgba);
  gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (self->fill_button), &rgba);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->width_spin), shape->stroke_width);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->opacity_spin), shape->opacity * 100);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->font_spin), shape->font_size);
  self->updating = FALSE;
}

static void
style_changed_cb (GtkWidget     *widget,
                  FlowBoardPage *self)
{
  FlowCanvasStyle style;
  FlowCanvasStyleFields field;
  GdkRGBA c;

  if (self->updating)
    return;
  flow_canvas_get_style (canvas (self), &style);
  if (widget == self->stroke_button)
    {
      gtk_color_chooser_get_rgba (GTK_COLOR_CHOOSER (widget), &c);
      style.stroke = rgba_to_u32 (&c);
      field = FLOW_CANVAS_STYLE_STROKE;
    }
  else if (widget == self->fill_button)
    {
      gtk_color_chooser_get_rgba (GTK_COLOR_CHOOSER (widget), &c);
      style.fill = rgba_to_u32 (&c);
      field = FLOW_CANVAS_STYLE_FILL;
    }
  else if (widget == self->width_spin)
    {
      style.stroke_width = gtk_spin_button_get_value (GTK_SPIN_BUTTON (widget));
      field = FLOW_CANVAS_STYLE_STROKE_WIDTH;
    }
  else if (widget == self->opacity_spin)
    {
      style.opacity = gtk_spin_button_get_value (GTK_SPIN_BUTTON (widget)) / 100.0;
      field = FLOW_CANVAS_STYLE_OPACITY;
    }
  else
    {
      style.font_size = gtk_spin_button_get_value (GTK_SPIN_BUTTON (widget));
      field = FLOW_CANVAS_STYLE_FONT_SIZE;
    }
  flow_canvas_set_style (canvas (self), &style, field);
}

static GtkWidget *
color_button (FlowBoardPage *self,
              const char    *tooltip)
{
  GtkWidget *button = gtk_color_button_new ();

  gtk_color_chooser_set_use_alpha (GTK_COLOR_CHOOSER (button), TRUE);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_signal_connect (button, "color-set", G_CALLBACK (style_changed_cb), self);
  return button;
}

G_GNUC_END_IGNORE_DEPRECATIONS

static GtkWidget *
spin_button (FlowBoardPage *self,
             double         min,
             double         max,
             double         step,
             const char    *tooltip)
{
  GtkWidget *spin = gtk_spin_button_new_with_range (min, max, step);

  gtk_widget_set_tooltip_text (spin, tooltip);
  gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
  g_signal_connect (spin, "value-changed", G_CALLBACK (style_changed_cb), self);
  return spin;
}

static void
update_zoom_label (FlowBoardPage *self)
{
  g_autofree char *label = g_strdup_printf ("%.0f%%", flow_canvas_get_zoom (canvas (self)) * 100);

  gtk_menu_button_set_label (GTK_MENU_BUTTON (self->zoom_button), label);
}

static void
apply_settings (FlowBoardPage *self)
{
  GApplication *app = g_application_get_default ();
  GSettings *settings = FLOW_IS_APPLICATION (app) ? flow_application_get_settings (FLOW_APPLICATION (app)) : NULL;
  FlowCanvasStyle style;
  g_autofree char *stroke = NULL;
  g_autofree char *fill = NULL;
  g_autofree char *accent = NULL;
  GdkRGBA c;

  if (settings == NULL)
    return;
  flow_canvas_get_style (canvas (self), &style);
  stroke = g_settings_get_string (settings, "default-stroke-color");
  fill = g_settings_get_string (settings, "default-fill-color");
  if (gdk_rgba_parse (&c, stroke))
    style.stroke = rgba_to_u32 (&c);
  if (g_strcmp0 (fill, "transparent") == 0 || g_strcmp0 (fill, "") == 0)
    style.fill = 0;
  else if (gdk_rgba_parse (&c, fill))
    style.fill = rgba_to_u32 (&c);
  style.stroke_width = g_settings_get_double (settings, "default-stroke-width");
  style.font_size = g_settings_get_double (settings, "default-font-size");
  /* No selection yet, so this only sets the style of the next shape. */
  flow_canvas_set_style (canvas (self), &style, FLOW_CANVAS_STYLE_ALL);
  flow_canvas_set_grid (canvas (self), g_settings_get_boolean (settings, "grid-snap"),
                        g_settings_get_double (settings, "grid-size"));
  accent = g_settings_get_string (settings, "user-color");
  if (gdk_rgba_parse (&c, accent))
    flow_canvas_set_accent_color (canvas (self), rgba_to_u32 (&c) | 0xff);
}

static void
canvas_notify_cb (FlowBoardPage *self)
{
  update_zoom_label (self);
  sync_tool_buttons (self);
}

static void
connect_canvas (FlowBoardPage *self)
{
  g_signal_connect_object (canvas (self), "notify::tool", G_CALLBACK (canvas_notify_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (canvas (self), "notify::zoom", G_CALLBACK (update_zoom_label), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (canvas (self), "notify::read-only", G_CALLBACK (sync_tool_buttons), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (canvas (self), "selection-changed", G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);
  canvas_notify_cb (self);
  selection_changed_cb (self);
}

/* ------------------------------------------------------------------------
 * History
 * ------------------------------------------------------------------------ */

static void
show_live (FlowBoardPage *self)
{
  g_clear_object (&self->preview);
  flow_board_view_set_doc (FLOW_BOARD_VIEW (self->view), self->doc);
  apply_settings (self);
  connect_canvas (self);
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  flow_history_bar_set_position (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
}

/**
 * flow_board_page_preview_version:
 * @self: a board page
 * @n_ops: how many ops of the board's history to show; the total shows
 *   the live board again
 *
 * Returns: %TRUE if the view now shows that version
 */
gboolean
flow_board_page_preview_version (FlowBoardPage *self,
                                 guint64        n_ops)
{
  g_autoptr(FlowVersionVector) version = NULL;
  g_autoptr(GError) error = NULL;
  FlowDoc *checkout;

  g_return_val_if_fail (FLOW_IS_BOARD_PAGE (self), FALSE);

  if (n_ops >= flow_doc_get_n_ops (self->doc))
    {
      if (self->preview != NULL)
        show_live (self);
      return TRUE;
    }
  version = flow_doc_dup_version_at (self->doc, n_ops);
  checkout = version ? flow_doc_checkout (self->doc, version, &error) : NULL;
  if (checkout == NULL)
    {
      if (error != NULL)
        report_error (self, _("Could not show that version: %s"), error->message);
      return FALSE;
    }
  g_clear_object (&self->preview);
  self->preview = checkout;
  flow_board_view_set_doc (FLOW_BOARD_VIEW (self->view), checkout);
  connect_canvas (self);
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  flow_history_bar_set_position (FLOW_HISTORY_BAR (self->history_bar), n_ops);
  return TRUE;
}

/**
 * flow_board_page_restore_preview:
 * @self: a board page showing a preview
 * @error: return location for a #GError
 *
 * Makes the board look like the previewed version, as new edits, and
 * shows the live board again.
 */
gboolean
flow_board_page_restore_preview (FlowBoardPage  *self,
                                 GError        **error)
{
  g_autoptr(FlowDoc) preview = NULL;

  g_return_val_if_fail (FLOW_IS_BOARD_PAGE (self), FALSE);
  g_return_val_if_fail (self->preview != NULL, FALSE);

  preview = g_object_ref (self->preview);
  if (!flow_board_restore (self->doc, preview, error))
    return FALSE;
  flow_board_page_show_history (self, FALSE);
  return TRUE;
}

static void
history_preview_cb (FlowBoardPage *self,
                    guint64        n)
{
  flow_board_page_preview_version (self, n);
}

static void
history_restore_cb (FlowBoardPage *self)
{
  g_autoptr(GError) error = NULL;

  if (self->preview != NULL && !flow_board_page_restore_preview (self, &error))
    report_error (self, _("Could not restore that version: %s"), error->message);
}

/**
 * flow_board_page_show_history:
 * @self: a board page
 * @show: show or hide the history bar
 *
 * Hiding it returns to the live board.
 */
void
flow_board_page_show_history (FlowBoardPage *self,
                              gboolean       show)
{
  g_return_if_fail (FLOW_IS_BOARD_PAGE (self));

  self->updating = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->history_button), show);
  self->updating = FALSE;
  if (!show && self->preview != NULL)
    show_live (self);
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (self->doc));
  flow_history_bar_set_revealed (FLOW_HISTORY_BAR (self->history_bar), show);
}

static void
history_close_cb (FlowBoardPage *self)
{
  flow_board_page_show_history (self, FALSE);
}

static void
history_toggled_cb (GtkToggleButton *button,
                    FlowBoardPage   *self)
{
  if (!self->updating)
    flow_board_page_show_history (self, gtk_toggle_button_get_active (button));
}

static void
doc_changed_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  FlowBoardPage *self = user_data;

  /* The history grows while a preview is shown (a peer's edits). */
  flow_history_bar_set_total (FLOW_HISTORY_BAR (self->history_bar), flow_doc_get_n_ops (doc));
}

/* ------------------------------------------------------------------------
 * Export
 * ------------------------------------------------------------------------ */

/**
 * flow_board_page_export:
 * @self: a board page
 * @format: PNG, SVG or PDF
 * @selection: only the selected shapes
 * @error: return location for a #GError
 *
 * Renders the shown board (or a history preview) in memory; writing it is
 * the caller's business.
 *
 * Returns: (transfer full) (nullable): the file's contents
 */
GBytes *
flow_board_page_export (FlowBoardPage     *self,
                        FlowExportFormat   format,
                        gboolean           selection,
                        GError           **error)
{
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  const FlowOpId *ids = NULL;
  guint n_ids = 0;

  g_return_val_if_fail (FLOW_IS_BOARD_PAGE (self), NULL);

  if (selection)
    {
      ids = flow_canvas_get_selection (canvas (self), &n_ids);
      if (n_ids == 0)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Nothing is selected"));
          return NULL;
        }
    }
  if (!flow_render_export (flow_canvas_get_scene (canvas (self)), ids, n_ids, format,
                           format == FLOW_EXPORT_PNG ? 2.0 : 1.0, out, error) ||
      !g_output_stream_close (out, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

static void
export_action_cb (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  FlowBoardPage *self = FLOW_BOARD_PAGE (widget);
  const char *what = g_variant_get_string (param, NULL);
  gboolean selection = g_str_has_prefix (what, "selection-");
  const char *ext = selection ? what + strlen ("selection-") : what;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *name = NULL;
  FlowExportFormat format;
  if (!flow_export_format_from_string (ext, &format))
    return;
  bytes = flow_board_page_export (self, format, selection, &error);
  if (bytes == NULL)
    {
      report_error (self, _("Could not export the board: %s"), error->message);
      return;
    }
  name = selection
    /* translators: the default file name of an export; %s is png, svg or pdf */
    ? g_strdup_printf (_("Selection.%s"), ext)
    /* translators: the default file name of an export; %s is png, svg or pdf */
    : g_strdup_printf (_("Board.%s"), ext);
  flow_save_dialog_run (widget, selection ? _("Export Selection") : _("Export Board"), name, bytes);
}

/* ------------------------------------------------------------------------
 * Construction
 * ------------------------------------------------------------------------ */

static GMenuModel *
arrange_menu (void)
{
  GMenu *menu = g_menu_new ();
  g_autoptr(GMenu) edit = g_menu_new ();
  g_autoptr(GMenu) order = g_menu_new ();
  g_autoptr(GMenu) align = g_menu_new ();
  g_autoptr(GMenu) export = g_menu_new ();

  g_menu_append (edit, _("D_uplicate"), "canvas.duplicate");
  g_menu_append (edit, _("_Group"), "canvas.group");
  g_menu_append (edit, _("Ung_roup"), "canvas.ungroup");
  g_menu_append (edit, _("_Lock"), "canvas.lock");
  g_menu_append (edit, _("U_nlock"), "canvas.unlock");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (edit));

  g_menu_append (order, _("Bring to _Front"), "canvas.raise-to-top");
  g_menu_append (order, _("Bring For_ward"), "canvas.raise");
  g_menu_append (order, _("Send _Backward"), "canvas.lower");
  g_menu_append (order, _("Send to Bac_k"), "canvas.lower-to-bottom");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (order));

  g_menu_append (align, _("Align _Left"), "canvas.align::left");
  g_menu_append (align, _("Align _Center"), "canvas.align::hcenter");
  g_menu_append (align, _("Align _Right"), "canvas.align::right");
  g_menu_append (align, _("Align _Top"), "canvas.align::top");
  g_menu_append (align, _("Align _Middle"), "canvas.align::vcenter");
  g_menu_append (align, _("Align _Bottom"), "canvas.align::bottom");
  g_menu_append (align, _("Distribute _Horizontally"), "canvas.distribute::horizontal");
  g_menu_append (align, _("Distribute _Vertically"), "canvas.distribute::vertical");
  g_menu_append_submenu (menu, _("_Align"), G_MENU_MODEL (align));

  g_menu_append (export, _("Export Board as _PNG…"), "board.export::png");
  g_menu_append (export, _("Export Board as _SVG…"), "board.export::svg");
  g_menu_append (export, _("Export Board as P_DF…"), "board.export::pdf");
  g_menu_append (export, _("Export Selection as PNG…"), "board.export::selection-png");
  g_menu_append (export, _("Export Selection as SVG…"), "board.export::selection-svg");
  g_menu_append (export, _("Export Selection as PDF…"), "board.export::selection-pdf");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (export));
  return G_MENU_MODEL (menu);
}

static GMenuModel *
zoom_menu (void)
{
  GMenu *menu = g_menu_new ();

  g_menu_append (menu, _("Zoom _In"), "canvas.zoom-in");
  g_menu_append (menu, _("Zoom _Out"), "canvas.zoom-out");
  g_menu_append (menu, _("_Fit Board"), "canvas.zoom-fit");
  g_menu_append (menu, _("_Actual Size"), "canvas.zoom-reset");
  return G_MENU_MODEL (menu);
}

FlowBoardPage *
flow_board_page_new (FlowDoc *board)
{
  FlowBoardPage *self;

  g_return_val_if_fail (FLOW_IS_DOC (board), NULL);
  g_return_val_if_fail (flow_doc_get_kind (board) == FLOW_DOC_KIND_BOARD, NULL);

  self = g_object_new (FLOW_TYPE_BOARD_PAGE, NULL);
  self->doc = g_object_ref (board);
  self->view = flow_board_view_new (board);
  gtk_widget_insert_after (self->view, self->box, gtk_widget_get_first_child (self->box));
  apply_settings (self);
  connect_canvas (self);
  sync_style_widgets (self);
  self->watch = flow_doc_add_change_func (board, doc_changed_cb, self, NULL);
  return self;
}

static gboolean
flow_board_page_grab_focus (GtkWidget *widget)
{
  FlowBoardPage *self = FLOW_BOARD_PAGE (widget);

  return self->view != NULL && gtk_widget_grab_focus (self->view);
}

static void
flow_board_page_dispose (GObject *object)
{
  FlowBoardPage *self = FLOW_BOARD_PAGE (object);

  if (self->doc != NULL)
    {
      flow_doc_remove_change_func (self->doc, self->watch);
      g_clear_object (&self->doc);
    }
  g_clear_object (&self->preview);
  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (flow_board_page_parent_class)->dispose (object);
}

static void
flow_board_page_class_init (FlowBoardPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_board_page_dispose;
  widget_class->grab_focus = flow_board_page_grab_focus;
  gtk_widget_class_install_action (widget_class, "board.export", "s", export_action_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flowboardpage");
}

static void
flow_board_page_init (FlowBoardPage *self)
{
  GtkWidget *toolbar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  GtkWidget *tool_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *spacer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *arrange_button = gtk_menu_button_new ();
  g_autoptr(GMenuModel) arrange = arrange_menu ();
  g_autoptr(GMenuModel) zoom = zoom_menu ();
  GtkWidget *group = NULL;

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  /* Tool bar: tools, then the style of the selection / next shape. */
  gtk_widget_add_css_class (toolbar, "toolbar");
  gtk_widget_add_css_class (tool_box, "linked");
  for (guint i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      GtkWidget *button = gtk_toggle_button_new ();
      g_autofree char *tooltip = NULL;
      gunichar key = flow_canvas_tool_get_shortcut (tools[i].tool);
      char keybuf[8] = { 0 };

      g_unichar_to_utf8 (g_unichar_toupper (key), keybuf);
      /* translators: a tool name and its keyboard shortcut, e.g. "Pen (P)" */
      tooltip = g_strdup_printf (_("%s (%s)"), _(tools[i].label), keybuf);
      gtk_button_set_icon_name (GTK_BUTTON (button), tools[i].icon);
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _(tools[i].label), -1);
      gtk_widget_add_css_class (button, "flat");
      if (group != NULL)
        gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), GTK_TOGGLE_BUTTON (group));
      else
        group = button;
      g_object_set_data (G_OBJECT (button), "tool-index", GUINT_TO_POINTER (i));
      g_signal_connect (button, "toggled", G_CALLBACK (tool_toggled_cb), self);
      gtk_box_append (GTK_BOX (tool_box), button);
      self->tool_buttons[i] = button;
    }
  gtk_box_append (GTK_BOX (toolbar), tool_box);
  gtk_box_append (GTK_BOX (toolbar), gtk_separator_new (GTK_ORIENTATION_VERTICAL));

  self->stroke_button = color_button (self, _("Stroke Color"));
  self->fill_button = color_button (self, _("Fill Color"));
  self->width_spin = spin_button (self, 0, 100, 1, _("Stroke Width"));
  self->opacity_spin = spin_button (self, 0, 100, 5, _("Opacity (%)"));
  self->font_spin = spin_button (self, 1, 400, 1, _("Font Size"));
  gtk_box_append (GTK_BOX (toolbar), self->stroke_button);
  gtk_box_append (GTK_BOX (toolbar), self->fill_button);
  /* The numeric style settings sit in a popover to keep the bar narrow
   * enough for the sidebar to stay beside the board. */
  {
    GtkWidget *grid = gtk_grid_new ();
    GtkWidget *popover = gtk_popover_new ();
    GtkWidget *button = gtk_menu_button_new ();
    const char *labels[] = { N_("Stroke width"), N_("Opacity (%)"), N_("Font size") };
    GtkWidget *spins[] = { self->width_spin, self->opacity_spin, self->font_spin };

    gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
    gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
    for (guint i = 0; i < G_N_ELEMENTS (spins); i++)
      {
        GtkWidget *label = gtk_label_new (_(labels[i]));

        gtk_label_set_xalign (GTK_LABEL (label), 0);
        gtk_grid_attach (GTK_GRID (grid), label, 0, i, 1, 1);
        gtk_grid_attach (GTK_GRID (grid), spins[i], 1, i, 1, 1);
      }
    gtk_popover_set_child (GTK_POPOVER (popover), grid);
    gtk_menu_button_set_popover (GTK_MENU_BUTTON (button), popover);
    gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (button), "document-properties-symbolic");
    gtk_widget_set_tooltip_text (button, _("Stroke Width, Opacity and Font Size"));
    gtk_widget_add_css_class (button, "flat");
    gtk_box_append (GTK_BOX (toolbar), button);
  }

  gtk_widget_set_hexpand (spacer, TRUE);
  gtk_box_append (GTK_BOX (toolbar), spacer);

  self->zoom_button = gtk_menu_button_new ();
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->zoom_button), zoom);
  gtk_widget_set_tooltip_text (self->zoom_button, _("Zoom"));
  gtk_box_append (GTK_BOX (toolbar), self->zoom_button);

  self->history_button = gtk_toggle_button_new ();
  gtk_button_set_icon_name (GTK_BUTTON (self->history_button), "document-open-recent-symbolic");
  gtk_widget_set_tooltip_text (self->history_button, _("History"));
  gtk_widget_add_css_class (self->history_button, "flat");
  g_signal_connect (self->history_button, "toggled", G_CALLBACK (history_toggled_cb), self);
  gtk_box_append (GTK_BOX (toolbar), self->history_button);

  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (arrange_button), "view-more-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (arrange_button), arrange);
  gtk_widget_set_tooltip_text (arrange_button, _("Arrange and Export"));
  gtk_box_append (GTK_BOX (toolbar), arrange_button);
  gtk_box_append (GTK_BOX (self->box), toolbar);

  /* History bar. */
  self->history_bar = flow_history_bar_new (TRUE, _("read-only preview"));
  g_signal_connect_swapped (self->history_bar, "preview", G_CALLBACK (history_preview_cb), self);
  g_signal_connect_swapped (self->history_bar, "restore", G_CALLBACK (history_restore_cb), self);
  g_signal_connect_swapped (self->history_bar, "close", G_CALLBACK (history_close_cb), self);
  gtk_box_append (GTK_BOX (self->box), self->history_bar);
}
