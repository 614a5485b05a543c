/* flow-save-dialog.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Exports are rendered in memory; this asks where to put them (through the
 * file chooser portal when there is one) and writes them asynchronously,
 * reporting a failure in the window. */

#define G_LOG_DOMAIN "flow-save-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "flow-save-dialog.h"

static void
written_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GtkWidget) widget = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not save the export: %s"), error->message);

      gtk_widget_activate_action (widget, "win.show-error", "s", msg);
    }
}

static void
response_cb (GtkNativeDialog *dialog,
             int              response,
             GtkWidget       *widget)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      GBytes *bytes = g_object_get_data (G_OBJECT (dialog), "bytes");

      g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                                           NULL, written_cb, g_object_ref (widget));
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (widget);
}

/**
 * flow_save_dialog_run:
 * @widget: the widget asking (its window is the dialog's parent)
 * @title: the dialog's title
 * @file_name: the suggested file name
 * @contents: what to write
 */
void
flow_save_dialog_run (GtkWidget  *widget,
                      const char *title,
                      const char *file_name,
                      GBytes     *contents)
{
  GtkFileChooserNative *chooser;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (contents != NULL);

  chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (gtk_widget_get_root (widget)),
                                         GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), file_name);
  g_object_set_data_full (G_OBJECT (chooser), "bytes", g_bytes_ref (contents),
                          (GDestroyNotify) g_bytes_unref);
  g_signal_connect (chooser, "response", G_CALLBACK (response_cb), g_object_ref (widget));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}
