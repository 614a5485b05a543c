/* flow-test-ui.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* What every test of the app's widgets needs: a clean environment, a way
 * to let the main loop run, and screenshots for people to look at. */

#include "config.h"

#include "flow-test-ui.h"

/**
 * flow_test_ui_init:
 * @name: used in the temporary folder's name
 *
 * Points XDG_DATA_HOME and XDG_CONFIG_HOME at a fresh temporary folder (a
 * new user: nothing there yet), keeps settings in memory, turns off the
 * accessibility bus and portals (their missing-bus warnings would be
 * fatal under g_test), picks the cairo renderer on X11 and calls
 * gtk_test_init().
 *
 * Returns: (transfer full): the temporary folder, for the caller to remove
 */
char *
flow_test_ui_init (int         *argc,
                   char      ***argv,
                   const char  *name)
{
  g_autofree char *template = g_strdup_printf ("flow-%s-xdg-XXXXXX", name);
  char *xdg = g_dir_make_tmp (template, NULL);
  g_autofree char *data_home = g_build_filename (xdg, "data", NULL);
  g_autofree char *config_home = g_build_filename (xdg, "config", NULL);

  g_assert_nonnull (xdg);
  g_setenv ("XDG_DATA_HOME", data_home, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config_home, TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("ADW_DISABLE_PORTAL", "1", TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);
  gtk_test_init (argc, argv, NULL);
  return xdg;
}

/* The app, registered but not unique: every test process has its own. */
FlowApplication *
flow_test_ui_app_new (void)
{
  FlowApplication *app = flow_application_new ();

  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, NULL));
  return app;
}

/* Runs the main loop for @ms milliseconds. */
void
flow_test_ui_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

/* Runs the main loop until @check holds or @ms pass; says which. */
gboolean
flow_test_ui_wait (gboolean (*check) (gpointer),
                   gpointer   data,
                   guint      ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (!check (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

/* Saves @widget as FLOWSYNC_SCREENSHOT_DIR/@name (nothing without that
 * variable). Screenshots are for people to look at, not assertions: a
 * window that has not drawn yet (slow sanitizer builds) just gets none. */
void
flow_test_ui_screenshot (GtkWidget  *widget,
                         const char *name)
{
  const char *dir = g_getenv ("FLOWSYNC_SCREENSHOT_DIR");
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  GskRenderer *renderer;
  int w, h;

  if (dir == NULL)
    return;
  flow_test_ui_spin (200);
  /* The widget paintable shows the last frame: let one be drawn. */
  gtk_widget_queue_draw (widget);
  gtk_test_widget_wait_for_draw (widget);
  flow_test_ui_spin (50);
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    {
      g_test_message ("screenshot %s skipped: the window has not drawn", name);
      return;
    }
  renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

/* The first widget under @root (itself included, depth first) that
 * @match accepts, or %NULL. */
GtkWidget *
flow_test_ui_find (GtkWidget       *root,
                   FlowTestUiMatch  match,
                   gconstpointer    data)
{
  if (match (root, data))
    return root;
  for (GtkWidget *c = gtk_widget_get_first_child (root); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = flow_test_ui_find (c, match, data);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
has_name (GtkWidget     *widget,
          gconstpointer  name)
{
  return g_strcmp0 (gtk_widget_get_name (widget), name) == 0;
}

static gboolean
has_type (GtkWidget     *widget,
          gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type));
}

static gboolean
is_label (GtkWidget     *widget,
          gconstpointer  text)
{
  return GTK_IS_LABEL (widget) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (widget)), text) == 0;
}

/* The first widget under @root named @name (gtk_widget_set_name()). */
GtkWidget *
flow_test_ui_find_named (GtkWidget  *root,
                         const char *name)
{
  return flow_test_ui_find (root, has_name, name);
}

/* The first widget under @root of @type. */
GtkWidget *
flow_test_ui_find_type (GtkWidget *root,
                        GType      type)
{
  return flow_test_ui_find (root, has_type, GSIZE_TO_POINTER (type));
}

/* The first label under @root that shows @text. */
GtkWidget *
flow_test_ui_find_label (GtkWidget  *root,
                         const char *text)
{
  return flow_test_ui_find (root, is_label, text);
}

/* The first visible toplevel of @type (a dialog the app opened), or %NULL. */
GtkWidget *
flow_test_ui_find_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* transfer none */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type) && gtk_widget_get_visible (w))
        return w;
    }
  return NULL;
}

static void
hosted_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_huddle_host_finish (FLOW_HUDDLE (source), result, &error));
  g_assert_no_error (error);
  *(gboolean *) user_data = TRUE;
}

/* Hosts @huddle @via, and waits until its link is ready. */
void
flow_test_ui_host (FlowHuddle    *huddle,
                   FlowHuddleVia  via)
{
  gboolean hosted = FALSE;

  flow_huddle_host_async (huddle, via, NULL, hosted_cb, &hosted);
  WAIT_FOR (hosted);
}
