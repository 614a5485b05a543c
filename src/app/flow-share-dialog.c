/* flow-share-dialog.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The Share dialog: starts hosting the window's huddle if it is not
 * running, and shows its invite link in a read-only entry with a Copy
 * button and as a QR code (libqrencode; the modules are drawn as
 * rectangles, so the code stays sharp at any scale). A choice says where
 * the huddle is introduced: the rendezvous server of the preferences, or
 * "this network" (a server inside the app). Changing it restarts the
 * huddle; the room and its key stay the same, only the link's host
 * changes. A joined huddle shows the link it was joined with.
 *
 * The link may carry an expiry, fixed when it is chosen; FlowSync refuses
 * an expired link, but the key inside still opens the room to whoever
 * edits the date away. "Reset Link" is the lock: the huddle moves to a new
 * room key, and every earlier link leads to an empty room.
 */

#define G_LOG_DOMAIN "flow-share-dialog"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <qrencode.h>

#include "flow-share-dialog.h"
#include "flow-sync-crypto.h"

/* ------------------------------------------------------------------------
 * The QR code
 * ------------------------------------------------------------------------ */

#define FLOW_TYPE_QR_CODE (flow_qr_code_get_type ())

G_DECLARE_FINAL_TYPE (FlowQrCode, flow_qr_code, FLOW, QR_CODE, GtkWidget)

struct _FlowQrCode
{
  GtkWidget  parent_instance;

  QRcode    *code;   /* nullable */
};

G_DEFINE_FINAL_TYPE (FlowQrCode, flow_qr_code, GTK_TYPE_WIDGET)

#define QR_QUIET_ZONE 4   /* modules of white around the code, as the standard asks */

static void
flow_qr_code_set_text (FlowQrCode *self,
                       const char *text)
{
  g_clear_pointer (&self->code, QRcode_free);
  if (text != NULL && *text != '\0')
    {
      /* Level M survives a smudged screen photo; version 0 picks the
       * smallest code that fits. */
      self->code = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
      if (self->code == NULL)
        g_warning ("Cannot make a QR code of the link: %s", g_strerror (errno));
    }
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
flow_qr_code_snapshot (GtkWidget   *widget,
                       GtkSnapshot *snapshot)
{
  FlowQrCode *self = FLOW_QR_CODE (widget);
  const GdkRGBA white = { 1, 1, 1, 1 };
  const GdkRGBA black = { 0, 0, 0, 1 };
  int w = gtk_widget_get_width (widget);
  int h = gtk_widget_get_height (widget);
  int side = MIN (w, h);
  int n, module;
  float x0, y0;

  if (self->code == NULL || side <= 0)
    return;
  n = self->code->width + 2 * QR_QUIET_ZONE;
  /* Whole pixels per module: scanners dislike blurred edges. */
  module = MAX (1, side / n);
  x0 = (w - module * n) / 2;
  y0 = (h - module * n) / 2;
  gtk_snapshot_append_color (snapshot, &white, &GRAPHENE_RECT_INIT (x0, y0, module * n, module * n));
  for (int y = 0; y < self->code->width; y++)
    for (int x = 0; x < self->code->width; x++)
      if (self->code->data[y * self->code->width + x] & 1)
        gtk_snapshot_append_color (snapshot, &black,
                                   &GRAPHENE_RECT_INIT (x0 + (x + QR_QUIET_ZONE) * module,
                                                        y0 + (y + QR_QUIET_ZONE) * module,
                                                        module, module));
}

static void
flow_qr_code_finalize (GObject *object)
{
  g_clear_pointer (&FLOW_QR_CODE (object)->code, QRcode_free);

  G_OBJECT_CLASS (flow_qr_code_parent_class)->finalize (object);
}

static void
flow_qr_code_class_init (FlowQrCodeClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = flow_qr_code_finalize;
  GTK_WIDGET_CLASS (klass)->snapshot = flow_qr_code_snapshot;
  gtk_widget_class_set_css_name (GTK_WIDGET_CLASS (klass), "flowqrcode");
  gtk_widget_class_set_accessible_role (GTK_WIDGET_CLASS (klass), GTK_ACCESSIBLE_ROLE_IMG);
}

static void
flow_qr_code_init (FlowQrCode *self)
{
  gtk_widget_set_size_request (GTK_WIDGET (self), 220, 220);
}

/* ------------------------------------------------------------------------
 * The dialog
 * ------------------------------------------------------------------------ */

struct _FlowShareDialog
{
  AdwWindow       parent_instance;

  FlowHuddle     *huddle;
  GSettings      *settings;     /* nullable */
  GCancellable   *cancellable;
  GtkCheckButton *server_check;
  GtkCheckButton *network_check;
  AdwActionRow   *server_row;
  GtkEntry       *link_entry;
  GtkButton      *copy_button;
  FlowQrCode     *qr;
  GtkLabel       *status;
  GtkButton      *stop_button;
  AdwComboRow    *expiry_row;
  AdwActionRow   *reset_row;
  gint64          expires;      /* of the link shown; 0: never */
  char           *shown;        /* the huddle's link with that expiry */
  gboolean        updating;
};

/* The expiry choices, in seconds from when one is picked. */
static const gint64 expiry_seconds[] = { 0, 3600, 24 * 3600, 7 * 24 * 3600 };

G_DEFINE_FINAL_TYPE (FlowShareDialog, flow_share_dialog, ADW_TYPE_WINDOW)

static void
set_status (FlowShareDialog *self,
            const char      *text,
            gboolean         error)
{
  gtk_label_set_text (self->status, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->status), text != NULL && *text != '\0');
  if (error)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->status), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->status), "dim-label");
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->status), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->status), "dim-label");
    }
}

/* The huddle's link, with the chosen expiry. */
static char *
dup_shown_link (FlowShareDialog *self)
{
  const char *link = flow_huddle_get_link (self->huddle);
  g_autoptr(FlowSyncInvite) invite = NULL;

  if (link == NULL)
    return NULL;
  /* A joined huddle's link keeps the expiry its host chose. */
  if (!flow_huddle_is_hosting (self->huddle))
    return g_strdup (link);
  invite = flow_sync_invite_parse (link, NULL);
  if (invite == NULL)
    return g_strdup (link);
  invite->expires = self->expires;
  return flow_sync_invite_to_string (invite);
}

static void
update (FlowShareDialog *self)
{
  g_autofree char *link = dup_shown_link (self);
  const char *problem = flow_huddle_get_problem (self->huddle);
  gboolean hosting = flow_huddle_is_hosting (self->huddle);
  gboolean active = flow_huddle_is_active (self->huddle);

  g_free (self->shown);
  self->shown = g_strdup (link);
  gtk_editable_set_text (GTK_EDITABLE (self->link_entry), link != NULL ? link : "");
  gtk_widget_set_sensitive (GTK_WIDGET (self->copy_button), link != NULL);
  flow_qr_code_set_text (self->qr, link);
  gtk_widget_set_visible (GTK_WIDGET (self->qr), link != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->stop_button), active);
  gtk_widget_set_sensitive (GTK_WIDGET (self->expiry_row), hosting && link != NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->reset_row), hosting && link != NULL);

  /* A joined huddle was introduced by its link's server: nothing to pick. */
  self->updating = TRUE;
  if (hosting)
    gtk_check_button_set_active (flow_huddle_get_via (self->huddle) == FLOW_HUDDLE_VIA_SERVER
                                 ? self->server_check : self->network_check, TRUE);
  self->updating = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->network_check), hosting || !active);

  if (problem != NULL)
    set_status (self, problem, TRUE);
  else if (active && link == NULL)
    set_status (self, _("Starting the huddle…"), FALSE);
  else if (!active)
    set_status (self, _("Not shared"), FALSE);
  else if (self->expires > 0 && hosting)
    {
      g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (self->expires);
      g_autofree char *text = g_date_time_format (when, "%x %H:%M");
      /* translators: %s is a date and time */
      g_autofree char *msg = g_strdup_printf (_("Anyone with this link can join and edit this workspace until %s"),
                                              text);

      set_status (self, msg, FALSE);
    }
  else
    set_status (self, _("Anyone with this link can join and edit this workspace"), FALSE);
}

static void
expiry_changed_cb (FlowShareDialog *self)
{
  guint i = adw_combo_row_get_selected (self->expiry_row);

  if (i >= G_N_ELEMENTS (expiry_seconds))
    return;
  self->expires = expiry_seconds[i] > 0 ? g_get_real_time () / G_USEC_PER_SEC + expiry_seconds[i] : 0;
  update (self);
}

/* Shows how hosting (or resetting the link) ended; @done, if any, says
 * what changed. */
static void
hosted (FlowShareDialog *self,
        GObject         *huddle,
        GAsyncResult    *result,
        const char      *done)
{
  g_autoptr(GError) error = NULL;

  if (!flow_huddle_host_finish (FLOW_HUDDLE (huddle), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && self->huddle != NULL)
        set_status (self, error->message, TRUE);
      return;
    }
  if (self->huddle == NULL)
    return;
  update (self);
  if (done != NULL)
    set_status (self, done, FALSE);
}

static void
reset_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(FlowShareDialog) self = user_data;

  hosted (self, source, result, _("This is a new link; earlier links no longer work"));
}

static void
reset_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   FlowShareDialog  *self)
{
  if (g_strcmp0 (response, "reset") != 0 || self->huddle == NULL || !flow_huddle_is_hosting (self->huddle))
    return;
  flow_huddle_reset_link_async (self->huddle, self->cancellable, reset_cb, g_object_ref (self));
  update (self);
}

/* Resetting drops everyone in the huddle: ask first. */
static void
reset_clicked_cb (GtkButton       *button,
                  FlowShareDialog *self)
{
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), _("Reset Invite Link?"),
                                                       _("Every earlier link stops working. Whoever is in the "
                                                         "huddle now needs the new link to come back.")));
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "reset", _("_Reset Link"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "reset", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (reset_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
host_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(FlowShareDialog) self = user_data;

  hosted (self, source, result, NULL);
}

static void
host (FlowShareDialog *self,
      FlowHuddleVia    via)
{
  flow_huddle_host_async (self->huddle, via, self->cancellable, host_cb, g_object_ref (self));
  update (self);
}

static void
via_toggled_cb (GtkCheckButton  *check,
                FlowShareDialog *self)
{
  FlowHuddleVia via = check == self->server_check ? FLOW_HUDDLE_VIA_SERVER : FLOW_HUDDLE_VIA_NETWORK;

  if (self->updating || !gtk_check_button_get_active (check))
    return;
  if (flow_huddle_is_active (self->huddle) &&
      (!flow_huddle_is_hosting (self->huddle) || flow_huddle_get_via (self->huddle) == via))
    return;
  host (self, via);
}

static void
copy_cb (GtkButton       *button,
         FlowShareDialog *self)
{
  if (self->shown == NULL)
    return;
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (button)), self->shown);
  set_status (self, _("Link copied"), FALSE);
}

static void
stop_cb (GtkButton       *button,
         FlowShareDialog *self)
{
  flow_huddle_stop (self->huddle);
  gtk_window_close (GTK_WINDOW (self));
}

static char *
server_subtitle (FlowShareDialog *self)
{
  g_autofree char *url = self->settings != NULL ? g_settings_get_string (self->settings, "rendezvous-url")
                                                : g_strdup ("");

  if (*url == '\0')
    return g_strdup (_("None set in Preferences"));
  return g_steal_pointer (&url);
}

/**
 * flow_share_dialog_new:
 * @parent: (nullable): the window whose workspace is shared
 * @huddle: that window's huddle
 * @settings: (nullable): the app's settings, for `rendezvous-url`
 *
 * Shows the huddle's link, hosting first if nothing runs: through the
 * configured rendezvous server if there is one, else on this network.
 */
FlowShareDialog *
flow_share_dialog_new (GtkWindow  *parent,
                       FlowHuddle *huddle,
                       GSettings  *settings)
{
  FlowShareDialog *self;
  g_autofree char *subtitle = NULL;
  g_autofree char *url = NULL;

  g_return_val_if_fail (FLOW_IS_HUDDLE (huddle), NULL);

  self = g_object_new (FLOW_TYPE_SHARE_DIALOG,
                       "transient-for", parent,
                       "modal", TRUE,
                       "title", _("Share Workspace"),
                       "default-width", 460,
                       "default-height", 680,
                       NULL);
  self->huddle = g_object_ref (huddle);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  subtitle = server_subtitle (self);
  adw_action_row_set_subtitle (self->server_row, subtitle);
  url = settings != NULL ? g_settings_get_string (settings, "rendezvous-url") : g_strdup ("");
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_check), *url != '\0');
  gtk_widget_set_sensitive (GTK_WIDGET (self->server_row), *url != '\0');

  g_signal_connect_object (huddle, "notify::link", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (huddle, "notify::problem", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (huddle, "notify::active", G_CALLBACK (update), self, G_CONNECT_SWAPPED);

  if (!flow_huddle_is_active (huddle))
    host (self, *url != '\0' ? FLOW_HUDDLE_VIA_SERVER : FLOW_HUDDLE_VIA_NETWORK);
  else
    update (self);
  return self;
}

/**
 * flow_share_dialog_get_link:
 * @self: a share dialog
 *
 * Returns: the link the dialog shows, "" while there is none
 */
const char *
flow_share_dialog_get_link (FlowShareDialog *self)
{
  g_return_val_if_fail (FLOW_IS_SHARE_DIALOG (self), NULL);

  return gtk_editable_get_text (GTK_EDITABLE (self->link_entry));
}

/**
 * flow_share_dialog_get_qr_modules:
 * @self: a share dialog
 *
 * Returns: the side of the QR code shown, in modules; 0 if none is shown
 */
guint
flow_share_dialog_get_qr_modules (FlowShareDialog *self)
{
  g_return_val_if_fail (FLOW_IS_SHARE_DIALOG (self), 0);

  if (self->qr->code == NULL || !gtk_widget_get_visible (GTK_WIDGET (self->qr)))
    return 0;
  return self->qr->code->width;
}

/**
 * flow_share_dialog_get_status:
 * @self: a share dialog
 *
 * Returns: the status or error line the dialog shows
 */
const char *
flow_share_dialog_get_status (FlowShareDialog *self)
{
  g_return_val_if_fail (FLOW_IS_SHARE_DIALOG (self), NULL);

  return gtk_label_get_text (self->status);
}

static void
flow_share_dialog_dispose (GObject *object)
{
  FlowShareDialog *self = FLOW_SHARE_DIALOG (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->huddle);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->shown, g_free);

  G_OBJECT_CLASS (flow_share_dialog_parent_class)->dispose (object);
}

static void
flow_share_dialog_class_init (FlowShareDialogClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = flow_share_dialog_dispose;
}

static GtkWidget *
via_row (FlowShareDialog *self,
         const char      *title,
         GtkCheckButton **check)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  *check = GTK_CHECK_BUTTON (gtk_check_button_new ());
  gtk_widget_set_valign (GTK_WIDGET (*check), GTK_ALIGN_CENTER);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), GTK_WIDGET (*check));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), GTK_WIDGET (*check));
  g_signal_connect (*check, "toggled", G_CALLBACK (via_toggled_cb), self);
  return row;
}

static void
flow_share_dialog_init (FlowShareDialog *self)
{
  GtkWidget *box, *content, *group, *row, *link_box, *header, *clamp, *scrolled;

  self->cancellable = g_cancellable_new ();
  gtk_widget_add_css_class (GTK_WIDGET (self), "flow-share-dialog");

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  header = adw_header_bar_new ();
  gtk_box_append (GTK_BOX (box), header);

  content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_top (content, 12);
  gtk_widget_set_margin_bottom (content, 24);
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);

  /* Where the others meet us. */
  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Introduce Participants Through"));
  row = via_row (self, _("Rendezvous Server"), &self->server_check);
  self->server_row = ADW_ACTION_ROW (row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  row = via_row (self, _("This Network"), &self->network_check);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                               _("A server inside FlowSync; people on the same network can join"));
  gtk_check_button_set_group (self->network_check, self->server_check);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
  gtk_box_append (GTK_BOX (content), group);

  /* The link, to copy. */
  link_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (link_box, "linked");
  self->link_entry = GTK_ENTRY (gtk_entry_new ());
  gtk_editable_set_editable (GTK_EDITABLE (self->link_entry), FALSE);
  gtk_widget_set_hexpand (GTK_WIDGET (self->link_entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->link_entry),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Invite link"), -1);
  gtk_box_append (GTK_BOX (link_box), GTK_WIDGET (self->link_entry));
  self->copy_button = GTK_BUTTON (gtk_button_new_from_icon_name ("edit-copy-symbolic"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->copy_button), _("Copy Link"));
  g_signal_connect (self->copy_button, "clicked", G_CALLBACK (copy_cb), self);
  gtk_box_append (GTK_BOX (link_box), GTK_WIDGET (self->copy_button));
  gtk_box_append (GTK_BOX (content), link_box);

  /* The same link for a phone camera. */
  self->qr = g_object_new (FLOW_TYPE_QR_CODE, NULL);
  gtk_widget_set_halign (GTK_WIDGET (self->qr), GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->qr), _("The invite link as a QR code"));
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->qr));

  self->status = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->status, TRUE);
  gtk_label_set_justify (self->status, GTK_JUSTIFY_CENTER);
  gtk_widget_set_name (GTK_WIDGET (self->status), "share-status");
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->status));

  /* How long the link works, and a way to make old ones stop. */
  group = adw_preferences_group_new ();
  {
    const char *choices[] = { N_("Never"), N_("In an Hour"), N_("In a Day"), N_("In a Week"), NULL };
    g_autoptr(GtkStringList) model = gtk_string_list_new (NULL);
    GtkWidget *button;

    for (guint i = 0; choices[i] != NULL; i++)
      gtk_string_list_append (model, _(choices[i]));
    self->expiry_row = ADW_COMBO_ROW (adw_combo_row_new ());
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->expiry_row), _("Link Expires"));
    adw_combo_row_set_model (self->expiry_row, G_LIST_MODEL (model));
    g_signal_connect_swapped (self->expiry_row, "notify::selected", G_CALLBACK (expiry_changed_cb), self);
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (self->expiry_row));

    self->reset_row = ADW_ACTION_ROW (adw_action_row_new ());
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->reset_row), _("Reset Link"));
    adw_action_row_set_subtitle (self->reset_row, _("Make every earlier link stop working"));
    button = gtk_button_new_with_mnemonic (_("_Reset…"));
    gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
    gtk_widget_set_name (button, "share-reset");
    g_signal_connect (button, "clicked", G_CALLBACK (reset_clicked_cb), self);
    adw_action_row_add_suffix (self->reset_row, button);
    adw_action_row_set_activatable_widget (self->reset_row, button);
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), GTK_WIDGET (self->reset_row));
  }
  gtk_box_append (GTK_BOX (content), group);

  self->stop_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Stop Sharing")));
  gtk_widget_set_halign (GTK_WIDGET (self->stop_button), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (self->stop_button), "pill");
  gtk_widget_add_css_class (GTK_WIDGET (self->stop_button), "destructive-action");
  g_signal_connect (self->stop_button, "clicked", G_CALLBACK (stop_cb), self);
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->stop_button));

  clamp = adw_clamp_new ();
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 480);
  adw_clamp_set_child (ADW_CLAMP (clamp), content);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), scrolled);
  adw_window_set_content (ADW_WINDOW (self), box);
}
