/* flow-join-dialog.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The Join dialog: paste an invite link, press Join. The link is checked
 * here, so a mistyped or cut-off link is an inline message under the entry
 * (flow_sync_invite_parse() says what is wrong) instead of a window that
 * waits for a room that does not exist. A valid link is handed on with the
 * "join" signal; the application opens the room's workspace and starts
 * the huddle there.
 */

#define G_LOG_DOMAIN "flow-join-dialog"

#include "config.h"

#include <glib/gi18n.h>

#include "flow-join-dialog.h"
#include "flow-sync-crypto.h"

struct _FlowJoinDialog
{
  AdwWindow  parent_instance;

  GtkEntry  *entry;
  GtkLabel  *error;
  GtkButton *join_button;
};

G_DEFINE_FINAL_TYPE (FlowJoinDialog, flow_join_dialog, ADW_TYPE_WINDOW)

enum {
  JOIN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

FlowJoinDialog *
flow_join_dialog_new (GtkWindow *parent)
{
  return g_object_new (FLOW_TYPE_JOIN_DIALOG,
                       "transient-for", parent,
                       "modal", TRUE,
                       "title", _("Join Huddle"),
                       "default-width", 480,
                       NULL);
}

void
flow_join_dialog_set_link (FlowJoinDialog *self,
                           const char     *link)
{
  g_return_if_fail (FLOW_IS_JOIN_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->entry), link != NULL ? link : "");
}

static void
show_error (FlowJoinDialog *self,
            const char     *message)
{
  gtk_label_set_text (self->error, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->entry), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->entry), "error");
}

/**
 * flow_join_dialog_submit:
 * @self: a join dialog
 *
 * Checks the link in the entry: a valid one is emitted with "join" and the
 * dialog closes; otherwise the dialog stays and says what is wrong.
 *
 * Returns: whether the link was valid
 */
gboolean
flow_join_dialog_submit (FlowJoinDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = NULL;
  g_autofree char *link = NULL;

  g_return_val_if_fail (FLOW_IS_JOIN_DIALOG (self), FALSE);

  /* Pasting from chat often brings spaces or a line break along. */
  link = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->entry))));
  if (*link == '\0')
    {
      show_error (self, _("Paste the invite link you were sent"));
      return FALSE;
    }
  invite = flow_sync_invite_parse (link, &error);
  if (invite == NULL ||
      !flow_sync_invite_check_expiry (invite, g_get_real_time () / G_USEC_PER_SEC, &error))
    {
      show_error (self, error->message);
      return FALSE;
    }
  if (invite->host == NULL)
    {
      show_error (self, _("This link names no rendezvous server; ask for a link that does"));
      return FALSE;
    }
  show_error (self, NULL);
  g_signal_emit (self, signals[JOIN], 0, link);
  gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

/**
 * flow_join_dialog_get_error:
 * @self: a join dialog
 *
 * Returns: (nullable): the error the dialog shows, %NULL if none
 */
const char *
flow_join_dialog_get_error (FlowJoinDialog *self)
{
  g_return_val_if_fail (FLOW_IS_JOIN_DIALOG (self), NULL);

  if (!gtk_widget_get_visible (GTK_WIDGET (self->error)))
    return NULL;
  return gtk_label_get_text (self->error);
}

static void
changed_cb (FlowJoinDialog *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));

  show_error (self, NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->join_button), *text != '\0');
}

static void
flow_join_dialog_class_init (FlowJoinDialogClass *klass)
{
  /**
   * FlowJoinDialog::join:
   * @link: a valid invite link
   */
  signals[JOIN] =
    g_signal_new ("join", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
flow_join_dialog_init (FlowJoinDialog *self)
{
  GtkWidget *box, *content, *header, *label, *clamp;

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  header = adw_header_bar_new ();
  gtk_box_append (GTK_BOX (box), header);

  content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (content, 12);
  gtk_widget_set_margin_bottom (content, 24);
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);

  label = gtk_label_new (_("Paste the invite link someone shared with you. The workspace opens in "
                           "a new window and stays in sync while the huddle runs."));
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_box_append (GTK_BOX (content), label);

  self->entry = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->entry, "flowsync://…");
  gtk_entry_set_activates_default (self->entry, TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Invite link"), -1);
  g_signal_connect_swapped (self->entry, "changed", G_CALLBACK (changed_cb), self);
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->entry));

  self->error = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error, TRUE);
  gtk_label_set_xalign (self->error, 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->error), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error), FALSE);
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->error));

  self->join_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Join")));
  gtk_widget_set_halign (GTK_WIDGET (self->join_button), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (self->join_button), "pill");
  gtk_widget_add_css_class (GTK_WIDGET (self->join_button), "suggested-action");
  gtk_widget_set_sensitive (GTK_WIDGET (self->join_button), FALSE);
  g_signal_connect_swapped (self->join_button, "clicked", G_CALLBACK (flow_join_dialog_submit), self);
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->join_button));
  gtk_window_set_default_widget (GTK_WINDOW (self), GTK_WIDGET (self->join_button));

  clamp = adw_clamp_new ();
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 480);
  adw_clamp_set_child (ADW_CLAMP (clamp), content);
  gtk_box_append (GTK_BOX (box), clamp);
  adw_window_set_content (ADW_WINDOW (self), box);
}
