/* flow-preferences.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Preferences are GSettings keys bound to rows; open boards pick up the
 * defaults for new shapes when they are next opened. */

#define G_LOG_DOMAIN "flow-preferences"

#include "config.h"

#include <glib/gi18n.h>

#include "flow-preferences.h"

struct _FlowPreferences
{
  AdwPreferencesWindow  parent_instance;

  /* Template widgets */
  AdwEntryRow          *name_row;
  AdwEntryRow          *issue_url_row;
  AdwEntryRow          *rendezvous_row;
  AdwEntryRow          *stun_row;
  AdwEntryRow          *turn_row;
  AdwEntryRow          *turn_user_row;
  AdwEntryRow          *turn_password_row;
  GtkSwitch            *relay_only_switch;
  GtkWidget            *user_color_button;
  AdwComboRow          *scheme_row;
  GtkWidget            *stroke_color_button;
  GtkWidget            *fill_color_button;
  GtkWidget            *stroke_width_spin;
  GtkWidget            *font_size_spin;
  GtkWidget            *grid_switch;
  GtkWidget            *grid_size_spin;

  /* Owned */
  GSettings            *settings;
};

G_DEFINE_FINAL_TYPE (FlowPreferences, flow_preferences, ADW_TYPE_PREFERENCES_WINDOW)

static const char *schemes[] = { "default", "light", "dark" };

G_GNUC_BEGIN_IGNORE_DEPRECATIONS

static const char *
color_key (FlowPreferences *self,
           GtkWidget       *button)
{
  if (button == self->user_color_button)
    return "user-color";
  if (button == self->stroke_color_button)
    return "default-stroke-color";
  return "default-fill-color";
}

static void
color_set_cb (GtkColorButton  *button,
              FlowPreferences *self)
{
  GdkRGBA c;
  g_autofree char *str = NULL;

  gtk_color_chooser_get_rgba (GTK_COLOR_CHOOSER (button), &c);
  str = g_strdup_printf ("#%02x%02x%02x%02x",
                         (guint) (c.red * 255 + .5), (guint) (c.green * 255 + .5),
                         (guint) (c.blue * 255 + .5), (guint) (c.alpha * 255 + .5));
  g_settings_set_string (self->settings, color_key (self, GTK_WIDGET (button)), str);
}

static void
load_color (FlowPreferences *self,
            GtkWidget       *button)
{
  g_autofree char *str = g_settings_get_string (self->settings, color_key (self, button));
  GdkRGBA c;

  if (g_strcmp0 (str, "transparent") == 0)
    str = (g_free (str), g_strdup ("rgba(0,0,0,0)"));
  if (gdk_rgba_parse (&c, str))
    gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (button), &c);
}

G_GNUC_END_IGNORE_DEPRECATIONS

static void
name_changed_cb (FlowPreferences *self)
{
  g_settings_set_string (self->settings, "display-name",
                         gtk_editable_get_text (GTK_EDITABLE (self->name_row)));
}

static void
scheme_changed_cb (FlowPreferences *self)
{
  guint i = adw_combo_row_get_selected (self->scheme_row);

  if (i < G_N_ELEMENTS (schemes))
    g_settings_set_string (self->settings, "color-scheme", schemes[i]);
}

FlowPreferences *
flow_preferences_new (GSettings *settings)
{
  FlowPreferences *self = g_object_new (FLOW_TYPE_PREFERENCES, NULL);
  g_autofree char *name = NULL;
  g_autofree char *scheme = NULL;

  self->settings = g_object_ref (settings);
  name = g_settings_get_string (settings, "display-name");
  gtk_editable_set_text (GTK_EDITABLE (self->name_row), name);
  g_signal_connect_swapped (self->name_row, "changed", G_CALLBACK (name_changed_cb), self);

  g_settings_bind (settings, "issue-url", self->issue_url_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "rendezvous-url", self->rendezvous_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "stun-server", self->stun_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "turn-server", self->turn_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "turn-username", self->turn_user_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "turn-password", self->turn_password_row, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "relay-only", self->relay_only_switch, "active", G_SETTINGS_BIND_DEFAULT);

  scheme = g_settings_get_string (settings, "color-scheme");
  for (guint i = 0; i < G_N_ELEMENTS (schemes); i++)
    if (g_strcmp0 (scheme, schemes[i]) == 0)
      adw_combo_row_set_selected (self->scheme_row, i);
  g_signal_connect_swapped (self->scheme_row, "notify::selected", G_CALLBACK (scheme_changed_cb), self);

  load_color (self, self->user_color_button);
  load_color (self, self->stroke_color_button);
  load_color (self, self->fill_color_button);
  g_settings_bind (settings, "default-stroke-width", self->stroke_width_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "default-font-size", self->font_size_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "grid-snap", self->grid_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "grid-size", self->grid_size_spin, "value", G_SETTINGS_BIND_DEFAULT);
  return self;
}

static void
flow_preferences_dispose (GObject *object)
{
  FlowPreferences *self = FLOW_PREFERENCES (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (flow_preferences_parent_class)->dispose (object);
}

static void
flow_preferences_class_init (FlowPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_preferences_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/flowsync/FlowSync/ui/flow-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, name_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, issue_url_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, rendezvous_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, stun_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, turn_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, turn_user_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, turn_password_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, relay_only_switch);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, user_color_button);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, scheme_row);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, stroke_color_button);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, fill_color_button);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, stroke_width_spin);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, font_size_spin);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, grid_switch);
  gtk_widget_class_bind_template_child (widget_class, FlowPreferences, grid_size_spin);
  gtk_widget_class_bind_template_callback (widget_class, color_set_cb);
}

static void
flow_preferences_init (FlowPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}
