/* flow-history-bar.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The history bar of boards and pages: a scale over a document's versions
 * (version n is its first n ops; the end is now), a label, "Restore This
 * Version", a close button and, for boards, a time-lapse that steps
 * through the versions in about ten seconds whatever the history's
 * length. It only reports what the user asks for; the page owning it
 * shows the version and does the restore.
 *
 * Signals: "preview" (guint64 n): show version n (n == total: the live
 * document); "restore" (); "close" ().
 */

#define G_LOG_DOMAIN "flow-history-bar"

#include "config.h"

#include <glib/gi18n.h>

#include "flow-history-bar.h"

#define TIMELAPSE_FRAMES   240
#define TIMELAPSE_INTERVAL 40 /* ms */

struct _FlowHistoryBar
{
  GtkWidget   parent_instance;

  GtkWidget  *revealer;
  GtkWidget  *scale;
  GtkWidget  *label;
  GtkWidget  *play_button;
  GtkWidget  *restore_button;
  char       *preview_note;

  guint64     total;
  guint64     position;
  guint64     play_step;
  guint       play_source;
  gboolean    updating;
};

enum {
  PREVIEW,
  RESTORE,
  CLOSE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FlowHistoryBar, flow_history_bar, GTK_TYPE_WIDGET)

static void
update (FlowHistoryBar *self)
{
  g_autofree char *text = NULL;

  self->updating = TRUE;
  gtk_range_set_range (GTK_RANGE (self->scale), 0, MAX (1, self->total));
  gtk_range_set_value (GTK_RANGE (self->scale), self->position);
  self->updating = FALSE;

  if (self->position >= self->total)
    /* translators: %lu is the number of edits in a document's history */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Current version · %lu edit",
                                         "Current version · %lu edits", self->total),
                            (gulong) self->total);
  else
    /* translators: the version after the first %lu of the document's %lu
     * edits, then a note on how it is shown */
    text = g_strdup_printf (_("Version %lu of %lu · %s"), (gulong) self->position,
                            (gulong) self->total, self->preview_note);
  gtk_label_set_text (GTK_LABEL (self->label), text);
  gtk_widget_set_sensitive (self->restore_button, self->position < self->total);
}

static void
emit_preview (FlowHistoryBar *self,
              guint64         n)
{
  self->position = MIN (n, self->total);
  update (self);
  g_signal_emit (self, signals[PREVIEW], 0, self->position);
}

/**
 * flow_history_bar_stop:
 * @self: a history bar
 *
 * Stops a running time-lapse.
 */
void
flow_history_bar_stop (FlowHistoryBar *self)
{
  g_return_if_fail (FLOW_IS_HISTORY_BAR (self));

  g_clear_handle_id (&self->play_source, g_source_remove);
  if (self->play_button == NULL)
    return;
  self->updating = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->play_button), FALSE);
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button), "media-playback-start-symbolic");
  self->updating = FALSE;
}

static void
scale_changed_cb (GtkRange       *range,
                  FlowHistoryBar *self)
{
  if (self->updating)
    return;
  flow_history_bar_stop (self);
  emit_preview (self, (guint64) gtk_range_get_value (range));
}

static gboolean
play_tick_cb (gpointer data)
{
  FlowHistoryBar *self = data;

  emit_preview (self, self->position + self->play_step);
  if (self->position >= self->total)
    {
      self->play_source = 0;
      flow_history_bar_stop (self);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
play_toggled_cb (GtkToggleButton *button,
                 FlowHistoryBar  *self)
{
  if (self->updating)
    return;
  if (!gtk_toggle_button_get_active (button))
    {
      flow_history_bar_stop (self);
      return;
    }
  self->play_step = MAX (1, self->total / TIMELAPSE_FRAMES);
  if (self->position >= self->total)
    emit_preview (self, 0);
  gtk_button_set_icon_name (GTK_BUTTON (button), "media-playback-pause-symbolic");
  self->play_source = g_timeout_add (TIMELAPSE_INTERVAL, play_tick_cb, self);
}

static void
restore_clicked_cb (FlowHistoryBar *self)
{
  flow_history_bar_stop (self);
  g_signal_emit (self, signals[RESTORE], 0);
}

static void
close_clicked_cb (FlowHistoryBar *self)
{
  flow_history_bar_stop (self);
  g_signal_emit (self, signals[CLOSE], 0);
}

/**
 * flow_history_bar_set_revealed:
 * @self: a history bar
 * @revealed: show or hide it
 *
 * Hiding stops the time-lapse. Either way the position goes back to now.
 */
void
flow_history_bar_set_revealed (FlowHistoryBar *self,
                               gboolean        revealed)
{
  g_return_if_fail (FLOW_IS_HISTORY_BAR (self));

  flow_history_bar_stop (self);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->revealer), revealed);
  self->position = self->total;
  update (self);
}

gboolean
flow_history_bar_get_revealed (FlowHistoryBar *self)
{
  g_return_val_if_fail (FLOW_IS_HISTORY_BAR (self), FALSE);

  return gtk_revealer_get_reveal_child (GTK_REVEALER (self->revealer));
}

/**
 * flow_history_bar_set_total:
 * @self: a history bar
 * @total: the document's number of ops now
 *
 * When the bar shows "now", it keeps doing so as the history grows.
 */
void
flow_history_bar_set_total (FlowHistoryBar *self,
                            guint64         total)
{
  g_return_if_fail (FLOW_IS_HISTORY_BAR (self));

  if (self->position >= self->total)
    self->position = total;
  self->total = total;
  self->position = MIN (self->position, total);
  update (self);
}

/**
 * flow_history_bar_set_position:
 * @self: a history bar
 * @position: the version shown, without emitting "preview"
 */
void
flow_history_bar_set_position (FlowHistoryBar *self,
                               guint64         position)
{
  g_return_if_fail (FLOW_IS_HISTORY_BAR (self));

  self->position = MIN (position, self->total);
  update (self);
}

guint64
flow_history_bar_get_position (FlowHistoryBar *self)
{
  g_return_val_if_fail (FLOW_IS_HISTORY_BAR (self), 0);

  return self->position;
}

/**
 * flow_history_bar_new:
 * @with_time_lapse: add the time-lapse button
 * @preview_note: how a preview is shown, e.g. "read-only preview"
 */
GtkWidget *
flow_history_bar_new (gboolean    with_time_lapse,
                      const char *preview_note)
{
  FlowHistoryBar *self = g_object_new (FLOW_TYPE_HISTORY_BAR, NULL);
  GtkWidget *box = gtk_revealer_get_child (GTK_REVEALER (self->revealer));

  self->preview_note = g_strdup (preview_note);
  if (with_time_lapse)
    {
      self->play_button = gtk_toggle_button_new ();
      gtk_button_set_icon_name (GTK_BUTTON (self->play_button), "media-playback-start-symbolic");
      gtk_widget_set_tooltip_text (self->play_button, _("Play the History as a Time-Lapse"));
      g_signal_connect (self->play_button, "toggled", G_CALLBACK (play_toggled_cb), self);
      gtk_box_prepend (GTK_BOX (box), self->play_button);
    }
  update (self);
  return GTK_WIDGET (self);
}

static void
flow_history_bar_dispose (GObject *object)
{
  FlowHistoryBar *self = FLOW_HISTORY_BAR (object);

  g_clear_handle_id (&self->play_source, g_source_remove);
  g_clear_pointer (&self->revealer, gtk_widget_unparent);
  g_clear_pointer (&self->preview_note, g_free);

  G_OBJECT_CLASS (flow_history_bar_parent_class)->dispose (object);
}

static void
flow_history_bar_class_init (FlowHistoryBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_history_bar_dispose;

  signals[PREVIEW] = g_signal_new ("preview", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);
  signals[RESTORE] = g_signal_new ("restore", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CLOSE] = g_signal_new ("close", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flowhistorybar");
}

static void
flow_history_bar_init (FlowHistoryBar *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");

  gtk_widget_add_css_class (box, "toolbar");
  self->scale = gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 1);
  gtk_scale_set_draw_value (GTK_SCALE (self->scale), FALSE);
  gtk_widget_set_hexpand (self->scale, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scale),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Version"), -1);
  g_signal_connect (self->scale, "value-changed", G_CALLBACK (scale_changed_cb), self);
  self->label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->label, "dim-label");
  gtk_widget_add_css_class (self->label, "numeric");
  self->restore_button = gtk_button_new_with_mnemonic (_("_Restore This Version"));
  gtk_widget_add_css_class (self->restore_button, "suggested-action");
  g_signal_connect_swapped (self->restore_button, "clicked", G_CALLBACK (restore_clicked_cb), self);
  gtk_widget_add_css_class (close, "flat");
  gtk_widget_set_tooltip_text (close, _("Back to the Current Version"));
  g_signal_connect_swapped (close, "clicked", G_CALLBACK (close_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), self->scale);
  gtk_box_append (GTK_BOX (box), self->label);
  gtk_box_append (GTK_BOX (box), self->restore_button);
  gtk_box_append (GTK_BOX (box), close);

  self->revealer = gtk_revealer_new ();
  gtk_revealer_set_transition_type (GTK_REVEALER (self->revealer), GTK_REVEALER_TRANSITION_TYPE_SLIDE_UP);
  gtk_revealer_set_child (GTK_REVEALER (self->revealer), box);
  gtk_widget_set_parent (self->revealer, GTK_WIDGET (self));
}
