/* flow-chat-panel.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The huddle chat: the messages of the workspace's chat document
 * (flow-chat.c) in a list, oldest at the top, with an entry to post. The
 * chat is a document like any other, so a message posted while offline is
 * stored at once and reaches the others when the room next links; the
 * panel never talks to the room itself. It only watches the document:
 * every change, ours or a peer's, adds the rows of the messages it
 * created, so what we post and what arrives take the same path.
 *
 * The list sticks to its bottom while the user is there, and stays where
 * it is once they scroll up to read. While the panel is closed, messages
 * from others count as unread.
 *
 * Desktop notifications: a message from someone else that mentions our
 * display name, or someone joining the huddle, while our window is not
 * active, is announced with the "notification" signal; the window turns it
 * into a GNotification. Keeping the sending out of here lets the tests see
 * what would be sent without a session bus.
 */

#define G_LOG_DOMAIN "flow-chat-panel"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "flow-chat.h"
#include "flow-chat-panel.h"

/* Messages older than this that arrive (a peer catching us up on the
 * history) are shown but do not ring: they are not news. */
#define MENTION_MAX_AGE_US (10 * 60 * G_USEC_PER_SEC)

/* How far above the bottom still counts as "at the bottom". */
#define BOTTOM_SLACK 8.0

struct _FlowChatPanel
{
  GtkWidget        parent_instance;

  GtkWidget       *box;
  GtkScrolledWindow *scroller;
  GtkListBox      *list;
  GtkEntry        *entry;
  GtkWidget       *send_button;
  GtkLabel        *problem_label;

  GSettings       *settings;
  FlowWorkspace   *workspace;
  GCancellable    *cancellable;   /* loading the chat document */
  FlowDoc         *chat;
  guint            chat_watch;
  FlowHuddle      *huddle;
  GHashTable      *peers;         /* ids of the participants seen joined */

  GHashTable      *rows;          /* message id string -> its row (borrowed) */
  GPtrArray       *messages;      /* rows in list order (borrowed) */
  gboolean         stick_to_bottom;
  gboolean         scrolling;     /* moving the adjustment ourselves */
  gboolean         open;
  guint            n_unread;
  char            *problem;
};

G_DEFINE_FINAL_TYPE (FlowChatPanel, flow_chat_panel, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_OPEN,
  PROP_N_UNREAD,
  N_PROPS
};

enum {
  NOTIFICATION,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The sort key of a row, kept on it: (time, id) as flow_chat_list(). */
typedef struct
{
  gint64   time;
  FlowOpId id;
} RowKey;

/**
 * flow_chat_panel_new:
 * @settings: (nullable): the app's settings, for display-name and
 *   user-color
 *
 * Returns: (transfer floating): a panel showing no chat until
 *   flow_chat_panel_set_workspace()
 */
FlowChatPanel *
flow_chat_panel_new (GSettings *settings)
{
  FlowChatPanel *self = g_object_new (FLOW_TYPE_CHAT_PANEL, NULL);

  g_set_object (&self->settings, settings);
  return self;
}

/* ------------------------------------------------------------------------
 * Who we are
 * ------------------------------------------------------------------------ */

/**
 * flow_chat_panel_dup_name:
 * @self: a panel
 *
 * Returns: (transfer full): the name our messages are posted under: the
 *   display-name setting, else the account's real name, else its login
 *   (the same as the huddle tells the others)
 */
char *
flow_chat_panel_dup_name (FlowChatPanel *self)
{
  g_autofree char *display = NULL;

  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), NULL);

  display = self->settings != NULL ? g_settings_get_string (self->settings, "display-name") : NULL;
  if (display != NULL)
    g_strstrip (display);
  if (display != NULL && *display != '\0')
    return g_steal_pointer (&display);
  if (g_strcmp0 (g_get_real_name (), "Unknown") != 0 && *g_get_real_name () != '\0')
    return g_strdup (g_get_real_name ());
  return g_strdup (g_get_user_name ());
}

static guint32
our_color (FlowChatPanel *self)
{
  g_autofree char *rgb = self->settings != NULL ? g_settings_get_string (self->settings, "user-color") : NULL;
  guint64 value;

  if (rgb != NULL && rgb[0] == '#' && strlen (rgb) == 7 &&
      g_ascii_string_to_unsigned (rgb + 1, 16, 0, 0xffffff, &value, NULL))
    return ((guint32) value << 8) | 0xff;
  return 0x3584e4ff;
}

/* ------------------------------------------------------------------------
 * Problems and the entry
 * ------------------------------------------------------------------------ */

static void
set_problem (FlowChatPanel *self,
             const char    *problem)
{
  g_free (self->problem);
  self->problem = g_strdup (problem);
  gtk_label_set_text (self->problem_label, problem != NULL ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->problem_label), problem != NULL);
}

static const char *
too_long_message (void)
{
  return _("This message is too long: a chat message can be at most 16 KiB. Share long text as a page instead.");
}

/* Send works on something worth sending that fits; an over-long text says
 * why right away rather than when Send does nothing. */
static void
entry_changed_cb (FlowChatPanel *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));
  gboolean blank = TRUE;
  gboolean too_long = strlen (text) > FLOW_CHAT_TEXT_MAX;

  for (const char *p = text; *p != '\0' && blank; p = g_utf8_next_char (p))
    blank = g_unichar_isspace (g_utf8_get_char (p));
  gtk_widget_set_sensitive (self->send_button, self->chat != NULL && !blank && !too_long);
  if (too_long)
    set_problem (self, too_long_message ());
  else if (g_strcmp0 (self->problem, too_long_message ()) == 0)
    set_problem (self, NULL);
}

/* ------------------------------------------------------------------------
 * Rows
 * ------------------------------------------------------------------------ */

/* An author's colour, made readable: a light colour on the light style
 * (yellow on white) is darkened, a dark one on the dark style lightened. */
static char *
readable_color (guint32 color)
{
  guint r = color >> 24, g = (color >> 16) & 0xff, b = (color >> 8) & 0xff;
  guint luma = (299 * r + 587 * g + 114 * b) / 1000;
  gboolean dark_style = adw_style_manager_get_dark (adw_style_manager_get_default ());

  if (!dark_style && luma > 170)
    {
      r = r * 6 / 10;
      g = g * 6 / 10;
      b = b * 6 / 10;
    }
  else if (dark_style && luma < 90)
    {
      r = r + (255 - r) * 5 / 10;
      g = g + (255 - g) * 5 / 10;
      b = b + (255 - b) * 5 / 10;
    }
  return g_strdup_printf ("#%02x%02x%02x", r, g, b);
}

static GtkWidget *
new_row (const FlowChatMessage *message)
{
  g_autoptr(GDateTime) when = g_date_time_new_from_unix_local (message->time / G_USEC_PER_SEC);
  g_autofree char *color = readable_color (message->color);
  g_autofree char *escaped = g_markup_escape_text (*message->author != '\0' ? message->author : _("Someone"), -1);
  g_autofree char *markup = g_strdup_printf ("<span foreground=\"%s\" weight=\"bold\">%s</span>", color, escaped);
  g_autofree char *hhmm = when != NULL ? g_date_time_format (when, "%H:%M") : g_strdup ("");
  g_autofree char *full = when != NULL ? g_date_time_format (when, "%c") : NULL;
  GtkWidget *row, *box, *header, *author, *time, *text;
  RowKey *key;

  author = gtk_label_new (NULL);
  gtk_label_set_markup (GTK_LABEL (author), markup);
  gtk_label_set_xalign (GTK_LABEL (author), 0);
  gtk_label_set_ellipsize (GTK_LABEL (author), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (author, TRUE);

  time = gtk_label_new (hhmm);
  gtk_widget_set_tooltip_text (time, full);
  gtk_widget_add_css_class (time, "dim-label");
  gtk_widget_add_css_class (time, "caption");
  gtk_widget_add_css_class (time, "numeric");

  header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (header), author);
  gtk_box_append (GTK_BOX (header), time);

  text = gtk_label_new (message->text);
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (text), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (text), TRUE);
  gtk_label_set_xalign (GTK_LABEL (text), 0);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), text);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_set_focusable (row, FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  key = g_new0 (RowKey, 1);
  key->time = message->time;
  key->id = message->id;
  g_object_set_data_full (G_OBJECT (row), "flow-chat-key", key, g_free);
  g_object_set_data (G_OBJECT (row), "flow-chat-text", text);
  return row;
}

static gint
compare_keys (const RowKey *a,
              const RowKey *b)
{
  if (a->time != b->time)
    return a->time < b->time ? -1 : 1;
  return flow_op_id_compare (&a->id, &b->id);
}

static gboolean
at_bottom (GtkAdjustment *adj)
{
  return gtk_adjustment_get_value (adj) >=
         gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj) - BOTTOM_SLACK;
}

/* Adds a message's row in (time, id) order. New messages nearly always
 * go last, so the search starts from the end. */
static gboolean
add_message (FlowChatPanel         *self,
             const FlowChatMessage *message)
{
  g_autofree char *key_str = flow_op_id_to_string (&message->id);
  GtkWidget *row;
  const RowKey *key;
  guint pos;

  if (g_hash_table_contains (self->rows, key_str))
    return FALSE;
  row = new_row (message);
  key = g_object_get_data (G_OBJECT (row), "flow-chat-key");
  for (pos = self->messages->len; pos > 0; pos--)
    if (compare_keys (g_object_get_data (g_ptr_array_index (self->messages, pos - 1), "flow-chat-key"), key) < 0)
      break;
  g_ptr_array_insert (self->messages, pos, row);
  g_hash_table_insert (self->rows, g_steal_pointer (&key_str), row);
  gtk_list_box_insert (self->list, row, pos);
  return TRUE;
}

static void
clear_messages (FlowChatPanel *self)
{
  g_hash_table_remove_all (self->rows);
  for (guint i = 0; i < self->messages->len; i++)
    gtk_list_box_remove (self->list, g_ptr_array_index (self->messages, i));
  g_ptr_array_set_size (self->messages, 0);
}

/* The list's height changed (rows added, the panel resized): stay at the
 * bottom if that is where the user was. */
static void
adjustment_changed_cb (GtkAdjustment *adj,
                       FlowChatPanel *self)
{
  if (!self->stick_to_bottom)
    return;
  self->scrolling = TRUE;
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  self->scrolling = FALSE;
}

static void
adjustment_value_changed_cb (GtkAdjustment *adj,
                             FlowChatPanel *self)
{
  if (!self->scrolling)
    self->stick_to_bottom = at_bottom (adj);
}

/* ------------------------------------------------------------------------
 * Notifications
 * ------------------------------------------------------------------------ */

static gboolean
window_is_active (FlowChatPanel *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  return root != NULL && GTK_IS_WINDOW (root) && gtk_window_is_active (GTK_WINDOW (root));
}

static void
notify_user (FlowChatPanel *self,
             const char    *id,
             const char    *title,
             const char    *body)
{
  if (window_is_active (self))
    return;
  g_debug ("notification %s: %s", id, title);
  g_signal_emit (self, signals[NOTIFICATION], 0, id, title, body);
}

static void
message_arrived (FlowChatPanel         *self,
                 const FlowChatMessage *message)
{
  g_autofree char *name = flow_chat_panel_dup_name (self);
  g_autofree char *title = NULL;
  g_autofree char *body = NULL;
  const char *author = *message->author != '\0' ? message->author : _("Someone");

  /* The same name is us on another device: not news either. */
  if (g_strcmp0 (message->author, name) == 0)
    return;
  if (!self->open)
    {
      self->n_unread++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNREAD]);
    }
  if (!flow_chat_mentions (message, name) || message->time < g_get_real_time () - MENTION_MAX_AGE_US)
    return;
  /* translators: a desktop notification; %s is who wrote */
  title = g_strdup_printf (_("%s mentioned you"), author);
  /* Notification servers show a few lines: a long message is cut. */
  if (g_utf8_strlen (message->text, -1) > 200)
    {
      g_autofree char *start = g_utf8_substring (message->text, 0, 200);

      body = g_strconcat (start, "…", NULL);
    }
  else
    body = g_strdup (message->text);
  notify_user (self, FLOW_CHAT_NOTIFICATION_MENTION, title, body);
}

/* Someone joined: a participant linked (and told its name) that was not
 * linked at the last change. Peers that drop out and come back count as
 * joining again, as they do for the others in the room. */
static void
participants_changed_cb (FlowChatPanel *self)
{
  g_autoptr(GPtrArray) peers = flow_huddle_list_participants (self->huddle);
  g_autoptr(GHashTable) now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) joined = g_ptr_array_new ();

  for (guint i = 0; i < peers->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (peers, i);

      if (!peer->connected || peer->name == NULL)
        continue;
      g_hash_table_add (now, g_strdup (peer->id));
      if (!g_hash_table_contains (self->peers, peer->id))
        g_ptr_array_add (joined, (gpointer) (*peer->name != '\0' ? peer->name : _("Someone")));
    }
  g_clear_pointer (&self->peers, g_hash_table_unref);
  self->peers = g_hash_table_ref (now);

  if (joined->len > 0)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
      const char *where = root != NULL && GTK_IS_WINDOW (root) ? gtk_window_get_title (GTK_WINDOW (root)) : NULL;
      g_autofree char *title = NULL;

      if (joined->len == 1)
        /* translators: a desktop notification; %s is a participant's name */
        title = g_strdup_printf (_("%s joined the huddle"), (const char *) joined->pdata[0]);
      else
        /* translators: a desktop notification; %s is a participant's name */
        title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s and %u other joined the huddle",
                                              "%s and %u others joined the huddle", joined->len - 1),
                                 (const char *) joined->pdata[0], joined->len - 1);
      notify_user (self, FLOW_CHAT_NOTIFICATION_JOINED, title,
                   where != NULL ? where : _("Say hello in the chat"));
    }
}

/**
 * flow_chat_panel_set_huddle:
 * @self: a panel
 * @huddle: (nullable): the huddle of the panel's workspace
 *
 * Watches @huddle for participants joining. Those already there when it
 * is set are not news.
 */
void
flow_chat_panel_set_huddle (FlowChatPanel *self,
                            FlowHuddle    *huddle)
{
  g_return_if_fail (FLOW_IS_CHAT_PANEL (self));
  g_return_if_fail (huddle == NULL || FLOW_IS_HUDDLE (huddle));

  if (self->huddle == huddle)
    return;
  if (self->huddle != NULL)
    g_signal_handlers_disconnect_by_data (self->huddle, self);
  g_set_object (&self->huddle, huddle);
  g_hash_table_remove_all (self->peers);
  if (huddle == NULL)
    return;
  g_signal_connect_object (huddle, "participants-changed", G_CALLBACK (participants_changed_cb),
                           self, G_CONNECT_SWAPPED);
  /* Seeds the set without telling: nobody is news yet. */
  {
    g_autoptr(GPtrArray) peers = flow_huddle_list_participants (huddle);

    for (guint i = 0; i < peers->len; i++)
      {
        const FlowRoomPeer *peer = g_ptr_array_index (peers, i);

        if (peer->connected && peer->name != NULL)
          g_hash_table_add (self->peers, g_strdup (peer->id));
      }
  }
}

/* ------------------------------------------------------------------------
 * The chat document
 * ------------------------------------------------------------------------ */

static void
chat_changed_cb (FlowDoc    *doc,
                 FlowChange *change,
                 gpointer    user_data)
{
  FlowChatPanel *self = user_data;
  gboolean local = flow_change_is_local (change);
  const FlowOpId *ids;
  guint n_ids = 0;

  ids = flow_change_get_entities (change, &n_ids);
  /* What we post ourselves is always shown, wherever the user had
   * scrolled to. */
  if (local)
    self->stick_to_bottom = TRUE;
  else
    self->stick_to_bottom = self->stick_to_bottom || at_bottom (gtk_scrolled_window_get_vadjustment (self->scroller));
  for (guint i = 0; i < n_ids; i++)
    {
      FlowChatMessage message = { 0 };

      if (!flow_chat_get (doc, &ids[i], &message))
        continue;
      if (add_message (self, &message) && !local)
        message_arrived (self, &message);
      flow_chat_message_clear (&message);
    }
}

static void
show_chat (FlowChatPanel *self,
           FlowDoc       *chat)
{
  g_autoptr(GArray) messages = flow_chat_list (chat);

  self->chat = g_object_ref (chat);
  self->chat_watch = flow_doc_add_change_func (chat, chat_changed_cb, self, NULL);
  self->stick_to_bottom = TRUE;
  for (guint i = 0; i < messages->len; i++)
    add_message (self, &g_array_index (messages, FlowChatMessage, i));
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), TRUE);
  entry_changed_cb (self);
}

static void
chat_loaded_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(FlowChatPanel) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) chat = NULL;

  chat = flow_workspace_load_document_finish (FLOW_WORKSPACE (source), result, &error);
  if (chat == NULL)
    {
      g_autofree char *msg = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* translators: %s is the reason */
      msg = g_strdup_printf (_("The chat could not be loaded: %s"), error->message);
      set_problem (self, msg);
      return;
    }
  if (self->workspace != FLOW_WORKSPACE (source) || self->chat != NULL)
    return;
  show_chat (self, chat);
}

static void
drop_chat (FlowChatPanel *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chat != NULL)
    {
      flow_doc_remove_change_func (self->chat, self->chat_watch);
      self->chat_watch = 0;
      g_clear_object (&self->chat);
    }
  clear_messages (self);
  if (self->n_unread != 0)
    {
      self->n_unread = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNREAD]);
    }
}

/**
 * flow_chat_panel_set_workspace:
 * @self: a panel
 * @workspace: (nullable): the workspace whose chat to show
 *
 * Shows the chat of @workspace, loading it off the UI thread; %NULL lets
 * go of the last one (do so before closing it).
 */
void
flow_chat_panel_set_workspace (FlowChatPanel *self,
                               FlowWorkspace *workspace)
{
  g_return_if_fail (FLOW_IS_CHAT_PANEL (self));
  g_return_if_fail (workspace == NULL || FLOW_IS_WORKSPACE (workspace));

  if (self->workspace == workspace)
    return;
  drop_chat (self);
  set_problem (self, NULL);
  g_set_object (&self->workspace, workspace);
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), FALSE);
  entry_changed_cb (self);
  if (workspace == NULL)
    return;
  self->cancellable = g_cancellable_new ();
  flow_workspace_load_document_async (workspace, &FLOW_CHAT_DOC_ID, self->cancellable,
                                      chat_loaded_cb, g_object_ref (self));
}

/**
 * flow_chat_panel_get_doc:
 * @self: a panel
 *
 * Returns: (transfer none) (nullable): the chat document, %NULL until it
 *   is loaded
 */
FlowDoc *
flow_chat_panel_get_doc (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), NULL);

  return self->chat;
}

/**
 * flow_chat_panel_post:
 * @self: a panel
 * @text: the message
 * @error: return location for a #GError
 *
 * Posts @text (without its surrounding blanks) under our display name and
 * colour. Online or not, it is stored at once and synced by the room.
 *
 * Returns: %FALSE if the chat is not loaded or @text is empty or too long
 */
gboolean
flow_chat_panel_post (FlowChatPanel  *self,
                      const char     *text,
                      GError        **error)
{
  g_autofree char *name = NULL;
  g_autofree char *stripped = NULL;

  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (self->chat == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("The chat is not loaded yet"));
      return FALSE;
    }
  stripped = g_strstrip (g_strdup (text));
  if (strlen (stripped) > FLOW_CHAT_TEXT_MAX)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, too_long_message ());
      return FALSE;
    }
  if (*stripped == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("An empty message cannot be sent"));
      return FALSE;
    }
  name = flow_chat_panel_dup_name (self);
  return flow_chat_post (self->chat, name, our_color (self), stripped, g_get_real_time (), NULL, error);
}

static void
send (FlowChatPanel *self)
{
  g_autoptr(GError) error = NULL;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->entry));

  /* Enter on a blank entry does nothing, like the disabled button. */
  if (!gtk_widget_get_sensitive (self->send_button) && strlen (text) <= FLOW_CHAT_TEXT_MAX)
    return;
  if (!flow_chat_panel_post (self, text, &error))
    {
      set_problem (self, error->message);
      return;
    }
  set_problem (self, NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->entry), "");
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}

/* ------------------------------------------------------------------------
 * Open or closed: unread messages
 * ------------------------------------------------------------------------ */

/**
 * flow_chat_panel_set_open:
 * @self: a panel
 * @open: whether the user can see the panel
 *
 * Messages from others that arrive while the panel is closed count as
 * unread until it opens.
 */
void
flow_chat_panel_set_open (FlowChatPanel *self,
                          gboolean       open)
{
  g_return_if_fail (FLOW_IS_CHAT_PANEL (self));

  open = !!open;
  if (self->open == open)
    return;
  self->open = open;
  if (open && self->n_unread != 0)
    {
      self->n_unread = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNREAD]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPEN]);
}

gboolean
flow_chat_panel_get_open (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), FALSE);

  return self->open;
}

guint
flow_chat_panel_get_n_unread (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), 0);

  return self->n_unread;
}

guint
flow_chat_panel_get_n_messages (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), 0);

  return self->messages->len;
}

/**
 * flow_chat_panel_get_message_label:
 * @self: a panel
 * @index: a message, 0 being the oldest
 *
 * Returns: (transfer none): the label showing the message's text
 */
GtkLabel *
flow_chat_panel_get_message_label (FlowChatPanel *self,
                                   guint          index)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), NULL);
  g_return_val_if_fail (index < self->messages->len, NULL);

  return g_object_get_data (g_ptr_array_index (self->messages, index), "flow-chat-text");
}

GtkEntry *
flow_chat_panel_get_entry (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), NULL);

  return self->entry;
}

GtkWidget *
flow_chat_panel_get_send_button (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), NULL);

  return self->send_button;
}

/**
 * flow_chat_panel_get_problem:
 * @self: a panel
 *
 * Returns: (nullable): what the panel says is wrong (a refused message, a
 *   chat that could not be loaded), or %NULL
 */
const char *
flow_chat_panel_get_problem (FlowChatPanel *self)
{
  g_return_val_if_fail (FLOW_IS_CHAT_PANEL (self), NULL);

  return self->problem;
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

static void
flow_chat_panel_dispose (GObject *object)
{
  FlowChatPanel *self = FLOW_CHAT_PANEL (object);

  drop_chat (self);
  g_clear_object (&self->workspace);
  if (self->huddle != NULL)
    g_signal_handlers_disconnect_by_data (self->huddle, self);
  g_clear_object (&self->huddle);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->box, gtk_widget_unparent);

  G_OBJECT_CLASS (flow_chat_panel_parent_class)->dispose (object);
}

static void
flow_chat_panel_finalize (GObject *object)
{
  FlowChatPanel *self = FLOW_CHAT_PANEL (object);

  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_pointer (&self->messages, g_ptr_array_unref);
  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_free (self->problem);

  G_OBJECT_CLASS (flow_chat_panel_parent_class)->finalize (object);
}

static void
flow_chat_panel_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  FlowChatPanel *self = FLOW_CHAT_PANEL (object);

  switch (prop_id)
    {
    case PROP_OPEN:
      g_value_set_boolean (value, self->open);
      break;
    case PROP_N_UNREAD:
      g_value_set_uint (value, self->n_unread);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_chat_panel_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  FlowChatPanel *self = FLOW_CHAT_PANEL (object);

  switch (prop_id)
    {
    case PROP_OPEN:
      flow_chat_panel_set_open (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_chat_panel_class_init (FlowChatPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = flow_chat_panel_dispose;
  object_class->finalize = flow_chat_panel_finalize;
  object_class->get_property = flow_chat_panel_get_property;
  object_class->set_property = flow_chat_panel_set_property;

  /**
   * FlowChatPanel:open:
   *
   * Whether the user can see the panel; see flow_chat_panel_set_open().
   */
  properties[PROP_OPEN] =
    g_param_spec_boolean ("open", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * FlowChatPanel:n-unread:
   *
   * Messages from others that arrived while the panel was closed.
   */
  properties[PROP_N_UNREAD] =
    g_param_spec_uint ("n-unread", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FlowChatPanel::notification:
   * @self: the panel
   * @id: %FLOW_CHAT_NOTIFICATION_MENTION or %FLOW_CHAT_NOTIFICATION_JOINED
   * @title: what happened
   * @body: more of it
   *
   * Something worth a desktop notification happened while the window was
   * not active: someone else mentioned our display name, or joined the
   * huddle.
   */
  signals[NOTIFICATION] =
    g_signal_new ("notification", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "flowchatpanel");
}

static void
flow_chat_panel_init (FlowChatPanel *self)
{
  GtkWidget *heading, *placeholder, *bottom, *scroller;
  GtkAdjustment *adj;

  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->messages = g_ptr_array_new ();
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->stick_to_bottom = TRUE;

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  heading = gtk_label_new (_("Huddle Chat"));
  gtk_widget_add_css_class (heading, "heading");
  gtk_label_set_xalign (GTK_LABEL (heading), 0);
  gtk_widget_set_margin_start (heading, 12);
  gtk_widget_set_margin_end (heading, 12);
  /* As tall as the tab bar beside it, so their lines meet. */
  gtk_widget_set_margin_top (heading, 13);
  gtk_widget_set_margin_bottom (heading, 13);
  gtk_box_append (GTK_BOX (self->box), heading);
  gtk_box_append (GTK_BOX (self->box), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));

  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "background");
  gtk_widget_set_valign (GTK_WIDGET (self->list), GTK_ALIGN_END);
  placeholder = gtk_label_new (_("No messages yet. Messages are kept in the workspace, so everyone who joins can read them."));
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_label_set_justify (GTK_LABEL (placeholder), GTK_JUSTIFY_CENTER);
  gtk_widget_set_margin_start (placeholder, 24);
  gtk_widget_set_margin_end (placeholder, 24);
  gtk_widget_set_margin_top (placeholder, 24);
  gtk_widget_set_margin_bottom (placeholder, 24);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_list_box_set_placeholder (self->list, placeholder);

  scroller = gtk_scrolled_window_new ();
  self->scroller = GTK_SCROLLED_WINDOW (scroller);
  gtk_scrolled_window_set_policy (self->scroller, GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (self->scroller, GTK_WIDGET (self->list));
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_box_append (GTK_BOX (self->box), scroller);
  adj = gtk_scrolled_window_get_vadjustment (self->scroller);
  g_signal_connect_object (adj, "changed", G_CALLBACK (adjustment_changed_cb), self, 0);
  g_signal_connect_object (adj, "value-changed", G_CALLBACK (adjustment_value_changed_cb), self, 0);

  gtk_box_append (GTK_BOX (self->box), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));

  self->problem_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->problem_label, TRUE);
  gtk_label_set_xalign (self->problem_label, 0);
  gtk_widget_set_margin_start (GTK_WIDGET (self->problem_label), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->problem_label), 12);
  gtk_widget_set_margin_top (GTK_WIDGET (self->problem_label), 6);
  gtk_widget_add_css_class (GTK_WIDGET (self->problem_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->problem_label), FALSE);
  gtk_box_append (GTK_BOX (self->box), GTK_WIDGET (self->problem_label));

  bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_start (bottom, 6);
  gtk_widget_set_margin_end (bottom, 6);
  gtk_widget_set_margin_top (bottom, 6);
  gtk_widget_set_margin_bottom (bottom, 6);
  self->entry = GTK_ENTRY (gtk_entry_new ());
  gtk_entry_set_placeholder_text (self->entry, _("Message"));
  gtk_widget_set_hexpand (GTK_WIDGET (self->entry), TRUE);
  gtk_widget_set_sensitive (GTK_WIDGET (self->entry), FALSE);
  g_signal_connect_object (self->entry, "changed", G_CALLBACK (entry_changed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->entry, "activate", G_CALLBACK (send), self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (bottom), GTK_WIDGET (self->entry));
  self->send_button = gtk_button_new_with_mnemonic (_("_Send"));
  gtk_widget_add_css_class (self->send_button, "suggested-action");
  gtk_widget_set_sensitive (self->send_button, FALSE);
  g_signal_connect_object (self->send_button, "clicked", G_CALLBACK (send), self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (bottom), self->send_button);
  gtk_box_append (GTK_BOX (self->box), bottom);
}
