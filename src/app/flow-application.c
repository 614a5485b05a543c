/* flow-application.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The application: one instance per session (GApplication uniqueness), one
 * window per open workspace. Starting without arguments opens the last
 * workspace, or the default one under $XDG_DATA_HOME/flowsync/ (created on
 * first start). Workspace files given on the command line open in their
 * own windows; a workspace already open is just presented.
 *
 * Invite links (`flowsync flowsync://…`, a flowsync:// URI opened by the
 * desktop — the desktop file registers x-scheme-handler/flowsync — or the
 * Join dialog) open the room's workspace, $XDG_DATA_HOME/flowsync/ROOM.flowsync
 * (created on first join), and join its huddle there.
 */

#define G_LOG_DOMAIN "flow-application"

#include "config.h"

#include <glib/gi18n.h>

#include "flow-application.h"
#include "flow-huddle.h"
#include "flow-join-dialog.h"
#include "flow-sync-crypto.h"
#include "flow-preferences.h"
#include "flow-window.h"
#include "flow-workspace.h"

#define MAX_RECENT 10

struct _FlowApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
};

G_DEFINE_FINAL_TYPE (FlowApplication, flow_application, ADW_TYPE_APPLICATION)

FlowApplication *
flow_application_new (void)
{
  return g_object_new (FLOW_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       "resource-base-path", "/io/flowsync/FlowSync",
                       NULL);
}

GSettings *
flow_application_get_settings (FlowApplication *self)
{
  g_return_val_if_fail (FLOW_IS_APPLICATION (self), NULL);

  return self->settings;
}

/**
 * flow_application_dup_workspace_title:
 * @self: the application
 * @path: a workspace file
 *
 * The name to show for @path: "My Workspace" for the default one, the
 * name its invite link gave a joined one, else the file name without its
 * extension.
 *
 * Returns: (transfer full): the title
 */
char *
flow_application_dup_workspace_title (FlowApplication *self,
                                      const char      *path)
{
  g_autofree char *def = flow_workspace_default_path ();
  g_autoptr(GVariant) titles = NULL;
  const char *title = NULL;
  char *base, *dot;

  g_return_val_if_fail (FLOW_IS_APPLICATION (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  /* The default workspace's file name is an implementation detail. */
  if (g_strcmp0 (def, path) == 0)
    return g_strdup (_("My Workspace"));
  titles = g_settings_get_value (self->settings, "workspace-titles");
  if (g_variant_lookup (titles, path, "&s", &title) && *title != '\0')
    return g_strdup (title);
  base = g_path_get_basename (path);
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  return base;
}

/**
 * flow_application_set_workspace_title:
 * @self: the application
 * @path: a workspace file
 * @title: what to call it
 *
 * Remembers @title for @path (see flow_application_dup_workspace_title()).
 */
void
flow_application_set_workspace_title (FlowApplication *self,
                                      const char      *path,
                                      const char      *title)
{
  g_autoptr(GVariant) old = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key, *value;

  g_return_if_fail (FLOW_IS_APPLICATION (self));

  old = g_settings_get_value (self->settings, "workspace-titles");
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_iter_init (&iter, old);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (g_strcmp0 (key, path) != 0)
      g_variant_builder_add (&builder, "{ss}", key, value);
  g_variant_builder_add (&builder, "{ss}", path, title);
  g_settings_set_value (self->settings, "workspace-titles", g_variant_builder_end (&builder));
}

/**
 * flow_application_add_recent:
 * @self: the application
 * @path: a workspace file that just opened
 *
 * Moves @path to the front of the recent list and remembers it as the
 * workspace to open next time.
 */
void
flow_application_add_recent (FlowApplication *self,
                             const char      *path)
{
  g_auto(GStrv) old = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) recent = NULL;
  guint n = 1;

  g_return_if_fail (FLOW_IS_APPLICATION (self));

  old = g_settings_get_strv (self->settings, "recent-workspaces");
  g_strv_builder_add (builder, path);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT; i++)
    if (g_strcmp0 (old[i], path) != 0)
      {
        g_strv_builder_add (builder, old[i]);
        n++;
      }
  recent = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-workspaces", (const char * const *) recent);
  g_settings_set_string (self->settings, "last-workspace", path);
}

static FlowWindow *
find_window (FlowApplication *self,
             const char      *path)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      const char *wpath;

      if (!FLOW_IS_WINDOW (l->data))
        continue;
      wpath = flow_window_get_path (l->data);
      if (wpath != NULL && g_strcmp0 (wpath, path) == 0)
        return l->data;
    }
  return NULL;
}

/**
 * flow_application_open_path:
 * @self: the application
 * @path: a workspace file
 * @create: create a new workspace at @path
 *
 * Shows the workspace at @path: presents its window if it is open, else
 * opens it in a new window (which reports failures itself).
 */
void
flow_application_open_path (FlowApplication *self,
                            const char      *path,
                            gboolean         create)
{
  FlowWindow *window;

  g_return_if_fail (FLOW_IS_APPLICATION (self));
  g_return_if_fail (path != NULL);

  window = find_window (self, path);
  if (window == NULL)
    {
      window = flow_window_new (self);
      flow_window_open (window, path, create);
    }
  gtk_window_present (GTK_WINDOW (window));
}

/**
 * flow_application_join:
 * @self: the application
 * @link: an invite link
 *
 * Opens (or creates) the workspace of the room @link names in a window and
 * joins the huddle there. A bad link is said in the active window, or
 * logged when there is none.
 */
static void
flow_application_join (FlowApplication *self,
                       const char      *link)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  FlowWindow *window;

  g_return_if_fail (FLOW_IS_APPLICATION (self));
  g_return_if_fail (link != NULL);

  path = flow_huddle_path_for_link (link, &error);
  if (path == NULL)
    {
      GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (self));
      /* translators: %s says what is wrong with the link */
      g_autofree char *msg = g_strdup_printf (_("Cannot join: %s"), error->message);

      if (active != NULL && FLOW_IS_WINDOW (active))
        flow_window_show_error (FLOW_WINDOW (active), msg);
      else
        g_warning ("%s", msg);
      return;
    }
  /* A room's file is named after the room: the link names the workspace
   * the first time. */
  {
    g_autoptr(FlowSyncInvite) invite = flow_sync_invite_parse (link, NULL);
    g_autoptr(GVariant) titles = g_settings_get_value (self->settings, "workspace-titles");
    const char *known = NULL;

    if (invite != NULL && invite->name != NULL && !g_variant_lookup (titles, path, "&s", &known))
      flow_application_set_workspace_title (self, path, invite->name);
  }
  window = find_window (self, path);
  if (window == NULL)
    {
      window = flow_window_new (self);
      flow_window_open_or_create (window, path, TRUE);
    }
  flow_window_join (window, link);
  gtk_window_present (GTK_WINDOW (window));
}

static void
flow_application_activate (GApplication *app)
{
  FlowApplication *self = FLOW_APPLICATION (app);
  g_autofree char *path = NULL;
  GtkWindow *active = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (active != NULL)
    {
      gtk_window_present (active);
      return;
    }

  path = g_settings_get_string (self->settings, "last-workspace");
  if (path[0] == '\0' || !g_path_is_absolute (path))
    {
      g_free (path);
      path = flow_workspace_default_path ();
    }
  /* Whether it exists is checked by the window's async open: a missing
   * default workspace is created, a missing recent one is reported. */
  {
    FlowWindow *window = flow_window_new (self);
    g_autofree char *def = flow_workspace_default_path ();

    flow_window_open_or_create (window, path, g_strcmp0 (path, def) == 0);
    gtk_window_present (GTK_WINDOW (window));
  }
}

static void
flow_application_open (GApplication  *app,
                       GFile        **files,
                       int            n_files,
                       const char    *hint)
{
  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *path = NULL;

      /* An invite link: the command line or the URI handler. */
      if (g_file_has_uri_scheme (files[i], "flowsync"))
        {
          g_autofree char *uri = g_file_get_uri (files[i]);

          flow_application_join (FLOW_APPLICATION (app), uri);
          continue;
        }
      path = g_file_get_path (files[i]);
      if (path == NULL)
        {
          g_autofree char *uri = g_file_get_uri (files[i]);

          g_warning ("Cannot open “%s”: FlowSync opens local workspace files", uri);
          continue;
        }
      flow_application_open_path (FLOW_APPLICATION (app), path, FALSE);
    }
}

static gboolean
color_scheme_get_mapping (GValue   *value,
                          GVariant *variant,
                          gpointer  user_data)
{
  const char *s = g_variant_get_string (variant, NULL);

  if (g_strcmp0 (s, "light") == 0)
    g_value_set_enum (value, ADW_COLOR_SCHEME_FORCE_LIGHT);
  else if (g_strcmp0 (s, "dark") == 0)
    g_value_set_enum (value, ADW_COLOR_SCHEME_FORCE_DARK);
  else
    g_value_set_enum (value, ADW_COLOR_SCHEME_DEFAULT);
  return TRUE;
}

static void
flow_application_actions_quit_cb (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  FlowApplication *self = user_data;
  g_autoptr(GList) windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));

  /* Each window saves and closes its workspace before it goes away. */
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);
}

static void
flow_application_actions_preferences_cb (GSimpleAction *action,
                                         GVariant      *param,
                                         gpointer       user_data)
{
  FlowApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  FlowPreferences *prefs = flow_preferences_new (self->settings);

  gtk_window_set_transient_for (GTK_WINDOW (prefs), parent);
  gtk_window_present (GTK_WINDOW (prefs));
}

static void
flow_application_actions_about_cb (GSimpleAction *action,
                                   GVariant      *param,
                                   gpointer       user_data)
{
  FlowApplication *self = user_data;
  static const char *developers[] = { "FlowSync contributors", NULL };
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

  adw_show_about_window (parent,
                         "application-name", _("FlowSync"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "developer-name", _("FlowSync contributors"),
                         "developers", developers,
                         "comments", _("Whiteboards and Markdown pages for distributed teams"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         /* translators: put your name here */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
flow_application_actions_help_cb (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  FlowApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));

  gtk_show_uri (parent, "help:flowsync", GDK_CURRENT_TIME);
}

static void
flow_application_actions_open_recent_cb (GSimpleAction *action,
                                         GVariant      *param,
                                         gpointer       user_data)
{
  flow_application_open_path (user_data, g_variant_get_string (param, NULL), FALSE);
}

static void
join_dialog_join_cb (FlowJoinDialog  *dialog,
                     const char      *link,
                     FlowApplication *self)
{
  flow_application_join (self, link);
}

/* app.join(LINK): joins LINK, or asks for one when it is empty. */
static void
flow_application_actions_join_cb (GSimpleAction *action,
                                  GVariant      *param,
                                  gpointer       user_data)
{
  FlowApplication *self = user_data;
  const char *link = param != NULL ? g_variant_get_string (param, NULL) : "";
  FlowJoinDialog *dialog;

  if (*link != '\0')
    {
      flow_application_join (self, link);
      return;
    }
  dialog = flow_join_dialog_new (gtk_application_get_active_window (GTK_APPLICATION (self)));
  g_signal_connect_object (dialog, "join", G_CALLBACK (join_dialog_join_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* app.show-chat(PATH): the default action of the chat's desktop
 * notifications (flow-window.c) brings back the window of the workspace
 * at PATH with its chat open. */
static void
flow_application_actions_show_chat_cb (GSimpleAction *action,
                                       GVariant      *param,
                                       gpointer       user_data)
{
  FlowApplication *self = user_data;
  FlowWindow *window = find_window (self, g_variant_get_string (param, NULL));

  if (window == NULL)
    {
      /* That window has closed since: the app comes forward anyway. */
      g_application_activate (G_APPLICATION (self));
      return;
    }
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-chat", NULL);
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "quit", flow_application_actions_quit_cb },
  { "preferences", flow_application_actions_preferences_cb },
  { "about", flow_application_actions_about_cb },
  { "help", flow_application_actions_help_cb },
  { "open-recent", flow_application_actions_open_recent_cb, "s" },
  { "join", flow_application_actions_join_cb, "s" },
  { "show-chat", flow_application_actions_show_chat_cb, "s" },
};

static void
flow_application_startup (GApplication *app)
{
  FlowApplication *self = FLOW_APPLICATION (app);
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.help", { "F1", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
    { "win.new-board", { "<Control>n", NULL } },
    { "win.new-page", { "<Control><Shift>n", NULL } },
    { "win.open-workspace", { "<Control>o", NULL } },
    { "win.close-tab", { "<Control>w", NULL } },
    { "win.toggle-sidebar", { "F9", NULL } },
    { "win.search", { "<Control><Shift>f", NULL } },
    { "win.undo", { "<Control>z", NULL } },
    { "win.redo", { "<Control><Shift>z", "<Control>y", NULL } },
  };

  G_APPLICATION_CLASS (flow_application_parent_class)->startup (app);

  self->settings = g_settings_new (APP_ID);
  g_settings_bind_with_mapping (self->settings, "color-scheme",
                                adw_style_manager_get_default (), "color-scheme",
                                G_SETTINGS_BIND_GET,
                                color_scheme_get_mapping, NULL, NULL, NULL);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

static void
flow_application_dispose (GObject *object)
{
  FlowApplication *self = FLOW_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (flow_application_parent_class)->dispose (object);
}

static void
flow_application_class_init (FlowApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = flow_application_dispose;
  app_class->startup = flow_application_startup;
  app_class->activate = flow_application_activate;
  app_class->open = flow_application_open;
}

static void
flow_application_init (FlowApplication *self)
{
}
