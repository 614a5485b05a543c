/* flow-window.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A window shows one workspace: the catalog in the sidebar, documents in
 * tabs. Everything that touches the file goes through the store's async
 * API, so the UI thread never waits for the disk; edits are queued in the
 * store's write-behind log the moment they are made. Closing the window
 * first flushes that log; if the disk refuses, the window stays open with
 * the edits in memory and says so, rather than going away with them.
 *
 * In a huddle the window is the go-between of the huddle and the views:
 * our pointer on the current board and our selection in the current page
 * go to flow_huddle_set_pointer()/_set_selection(); the others' presence
 * goes to every open view showing the document they look at. The views'
 * signals are connected when the tab is made and only the selected tab's
 * are passed on, so no handler outlives a closed tab.
 */

#define G_LOG_DOMAIN "flow-window"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "flow-board-page.h"
#include "flow-catalog.h"
#include "flow-chat-panel.h"
#include "flow-huddle.h"
#include "flow-links.h"
#include "flow-page-export.h"
#include "flow-page-view.h"
#include "flow-share-dialog.h"
#include "flow-sidebar.h"
#include "flow-window.h"

struct _FlowWindow
{
  AdwApplicationWindow  parent_instance;

  /* Template widgets */
  AdwToastOverlay      *toast_overlay;
  AdwWindowTitle       *window_title;
  AdwFlap              *flap;
  FlowSidebar          *sidebar;
  GtkStack             *content_stack;
  GtkSpinner           *spinner;
  AdwStatusPage        *error_page;
  AdwTabView           *tab_view;
  GMenu                *recent_menu;
  GtkMenuButton        *huddle_button;
  GtkBox               *huddle_avatars;
  GtkImage             *huddle_icon;
  GtkLabel             *huddle_label;
  GtkLabel             *huddle_heading;
  GtkLabel             *huddle_problem;
  GtkListBox           *participants_list;
  GtkPopover           *huddle_popover;
  GtkToggleButton      *chat_button;
  GtkLabel             *chat_badge;
  GtkBox               *chat_box;
  FlowChatPanel        *chat_panel;       /* in chat_box; NULL once disposed */

  /* Owned */
  char                 *path;
  FlowWorkspace        *workspace;
  GCancellable         *cancellable;
  guint                 catalog_watch;
  gboolean              closing;
  gboolean              closed;
  gboolean              disposed;
  gboolean              write_error_shown;
  GHashTable           *pending_offsets;  /* doc id string -> offset + 1 */
  GHashTable           *follow_loads;     /* doc id strings opened to follow someone */
  guint                 follow_cursor;    /* the followed caret last shown, on a page */
  FlowHuddle           *huddle;           /* once the workspace is open */
  char                 *pending_join;     /* a link to join once it is */
  char                 *problem_shown;    /* the huddle problem last toasted */
  gboolean              unshared_shown;   /* the status said "not yet shared" */
  char                 *follow_peer;      /* the participant we follow, or NULL */
  FlowOpId              follow_doc;       /* the board where we follow it */
  gboolean              updating_follow;  /* setting Follow buttons, not the user */
  GtkCssProvider       *avatar_css;       /* participants' colours on their avatars */
};

G_DEFINE_FINAL_TYPE (FlowWindow, flow_window, ADW_TYPE_APPLICATION_WINDOW)

FlowWindow *
flow_window_new (FlowApplication *app)
{
  return g_object_new (FLOW_TYPE_WINDOW, "application", app, NULL);
}

const char *
flow_window_get_path (FlowWindow *self)
{
  g_return_val_if_fail (FLOW_IS_WINDOW (self), NULL);

  return self->path;
}

FlowWorkspace *
flow_window_get_workspace (FlowWindow *self)
{
  g_return_val_if_fail (FLOW_IS_WINDOW (self), NULL);

  return self->workspace;
}

/**
 * flow_window_show_error:
 * @self: a window
 * @message: what went wrong and what to do
 *
 * Shows @message in a toast that stays until dismissed.
 */
void
flow_window_show_error (FlowWindow *self,
                        const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  g_return_if_fail (FLOW_IS_WINDOW (self));

  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

static void
show_toast (FlowWindow *self,
            const char *message)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (message));
}

static void
update_content (FlowWindow *self)
{
  if (self->workspace == NULL)
    return;
  gtk_stack_set_visible_child_name (self->content_stack,
                                    adw_tab_view_get_n_pages (self->tab_view) > 0 ? "tabs" : "empty");
}

/* Enabled state of every window action, in one place. */
static void
flow_window_actions_update (FlowWindow *self)
{
  gboolean have_ws = self->workspace != NULL;
  AdwTabPage *page = adw_tab_view_get_selected_page (self->tab_view);
  FlowDoc *doc = page ? g_object_get_data (G_OBJECT (adw_tab_page_get_child (page)), "flow-doc") : NULL;
  gboolean editable = doc != NULL && !flow_doc_is_read_only (doc);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.new-board", have_ws);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.new-page", have_ws);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.import-markdown", have_ws);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.search", have_ws);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.share", have_ws && !self->closing);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.close-tab", page != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo", editable && flow_doc_can_undo (doc));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo", editable && flow_doc_can_redo (doc));
}

static void
update_recent_menu (FlowWindow *self)
{
  GSettings *settings = flow_application_get_settings (FLOW_APPLICATION (g_application_get_default ()));
  g_auto(GStrv) recent = g_settings_get_strv (settings, "recent-workspaces");

  g_menu_remove_all (self->recent_menu);
  for (guint i = 0; recent[i] != NULL; i++)
    {
      g_autofree char *title = flow_application_dup_workspace_title (FLOW_APPLICATION (g_application_get_default ()),
                                                                     recent[i]);
      g_autoptr(GMenuItem) item = g_menu_item_new (title, NULL);

      g_menu_item_set_action_and_target_value (item, "app.open-recent",
                                               g_variant_new_string (recent[i]));
      g_menu_append_item (self->recent_menu, item);
    }
}

static void
catalog_changed_cb (FlowDoc    *catalog,
                    FlowChange *change,
                    gpointer    user_data)
{
  FlowWindow *self = user_data;
  guint n_pages = adw_tab_view_get_n_pages (self->tab_view);

  /* Titles follow renames; a document moved to the trash (here or by a
   * peer) closes its tab. */
  for (guint i = n_pages; i-- > 0;)
    {
      AdwTabPage *page = adw_tab_view_get_nth_page (self->tab_view, i);
      FlowDoc *doc = g_object_get_data (G_OBJECT (adw_tab_page_get_child (page)), "flow-doc");
      FlowCatalogEntry entry;

      if (doc == NULL || !flow_catalog_get (catalog, flow_doc_get_id (doc), &entry))
        continue;
      if (entry.deleted)
        adw_tab_view_close_page (self->tab_view, page);
      else
        adw_tab_page_set_title (page, entry.title);
      flow_catalog_entry_clear (&entry);
    }
}

static void
doc_changed_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  flow_window_actions_update (user_data);
}

static void
remove_doc_watch (gpointer data)
{
  FlowDoc *doc = g_object_get_data (G_OBJECT (data), "flow-doc");
  guint watch = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (data), "flow-doc-watch"));

  if (doc != NULL && watch != 0)
    flow_doc_remove_change_func (doc, watch);
  g_object_set_data (G_OBJECT (data), "flow-doc-watch", NULL);
}

static AdwTabPage *
find_tab (FlowWindow     *self,
          const FlowOpId *id)
{
  guint n_pages = adw_tab_view_get_n_pages (self->tab_view);

  for (guint i = 0; i < n_pages; i++)
    {
      AdwTabPage *page = adw_tab_view_get_nth_page (self->tab_view, i);
      FlowDoc *doc = g_object_get_data (G_OBJECT (adw_tab_page_get_child (page)), "flow-doc");

      if (doc != NULL && flow_op_id_equal (flow_doc_get_id (doc), id))
        return page;
    }
  return NULL;
}

static void add_tab (FlowWindow *self,
                     FlowDoc    *doc);

static void
create_document (FlowWindow  *self,
                 FlowDocKind  kind,
                 const char  *title)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *doc = flow_workspace_new_document (self->workspace, kind, title, NULL, &error);

  if (doc == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Could not create the document: %s"), error->message);

      flow_window_show_error (self, msg);
      return;
    }
  add_tab (self, doc);
}

/* A search result opens its page at the match, once the page is shown. */
static void
apply_pending_offset (FlowWindow *self,
                      GtkWidget  *child)
{
  FlowDoc *doc = g_object_get_data (G_OBJECT (child), "flow-doc");
  g_autofree char *key = doc ? flow_op_id_to_string (flow_doc_get_id (doc)) : NULL;
  guint offset;

  if (key == NULL || !g_hash_table_contains (self->pending_offsets, key))
    return;
  offset = GPOINTER_TO_UINT (g_hash_table_lookup (self->pending_offsets, key)) - 1;
  g_hash_table_remove (self->pending_offsets, key);
  if (FLOW_IS_PAGE_VIEW (child))
    flow_page_view_scroll_to_offset (FLOW_PAGE_VIEW (child), offset);
}

/* Finds a live document by title, ignoring case (as [[links]] do); pages
 * win over boards of the same title. */
static gboolean
find_by_title (FlowWindow *self,
               const char *title,
               FlowOpId   *id)
{
  g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (self->workspace), FALSE);
  g_autofree char *want = flow_links_fold_title (title);
  gboolean found = FALSE;

  for (guint i = 0; i < entries->len; i++)
    {
      FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);
      g_autofree char *have = flow_links_fold_title (e->title);

      if (g_strcmp0 (have, want) == 0 && (!found || e->kind == FLOW_DOC_KIND_PAGE))
        {
          *id = e->id;
          found = TRUE;
        }
    }
  for (guint i = 0; i < entries->len; i++)
    flow_catalog_entry_clear (&g_array_index (entries, FlowCatalogEntry, i));
  return found;
}

static void
create_linked_page_cb (AdwMessageDialog *dialog,
                       const char       *response,
                       FlowWindow       *self)
{
  const char *title = g_object_get_data (G_OBJECT (dialog), "title");

  if (g_strcmp0 (response, "create") != 0 || self->workspace == NULL)
    return;
  create_document (self, FLOW_DOC_KIND_PAGE, title);
}

static void
page_link_activated_cb (GtkWidget  *view,
                        int         kind,
                        const char *target,
                        FlowWindow *self)
{
  FlowOpId id;

  if (self->workspace == NULL)
    return;
  if (kind == FLOW_PAGE_LINK_URL)
    {
      gtk_show_uri (GTK_WINDOW (self), target, GDK_CURRENT_TIME);
      return;
    }
  switch ((FlowPageLinkKind) kind)
    {
    case FLOW_PAGE_LINK_WIKI:
      if (find_by_title (self, target, &id))
        flow_window_open_document (self, &id);
      else
        {
          GtkWidget *dialog;
          g_autofree char *body = NULL;

          /* translators: %s is a page title */
          body = g_strdup_printf (_("There is no page called “%s” in this workspace yet."), target);
          dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Create Page?"), body);
          adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                            "cancel", _("_Cancel"),
                                            "create", _("C_reate Page"),
                                            NULL);
          adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "create",
                                                      ADW_RESPONSE_SUGGESTED);
          adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "create");
          adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
          g_object_set_data_full (G_OBJECT (dialog), "title", g_strdup (target), g_free);
          g_signal_connect_object (dialog, "response", G_CALLBACK (create_linked_page_cb), self, 0);
          gtk_window_present (GTK_WINDOW (dialog));
        }
      break;

    case FLOW_PAGE_LINK_ISSUE:
      {
        GSettings *settings = flow_application_get_settings (FLOW_APPLICATION (g_application_get_default ()));
        g_autofree char *pattern = settings ? g_settings_get_string (settings, "issue-url") : g_strdup ("");
        g_autofree char *key = g_uri_escape_string (target, NULL, FALSE);
        g_autoptr(GString) uri = g_string_new (pattern);

        if (pattern[0] == '\0' || strstr (pattern, "%s") == NULL)
          {
            show_toast (self, _("Set an issue tracker address in Preferences to open issue keys"));
            break;
          }
        g_string_replace (uri, "%s", key, 0);
        gtk_show_uri (GTK_WINDOW (self), uri->str, GDK_CURRENT_TIME);
      }
      break;

    case FLOW_PAGE_LINK_TAG:
      flow_sidebar_show_tag (self->sidebar, target);
      adw_flap_set_reveal_flap (self->flap, TRUE);
      break;

    default:
      break;
    }
}

/* ------------------------------------------------------------------------
 * Presence: ours to the huddle, the others' to the views
 * ------------------------------------------------------------------------ */

static FlowBoardView *
tab_board_view (GtkWidget *child)
{
  return child != NULL && FLOW_IS_BOARD_PAGE (child) ? flow_board_page_get_view (FLOW_BOARD_PAGE (child)) : NULL;
}

static FlowBoardView *
find_board_view (FlowWindow     *self,
                 const FlowOpId *id)
{
  AdwTabPage *page = find_tab (self, id);

  return page != NULL ? tab_board_view (adw_tab_page_get_child (page)) : NULL;
}

static void
set_tab_presence (GtkWidget *child,
                  GPtrArray *participants)
{
  FlowDoc *doc = g_object_get_data (G_OBJECT (child), "flow-doc");
  g_autoptr(GPtrArray) list = NULL;

  if (doc == NULL)
    return;
  list = flow_huddle_presence_for_doc (participants, flow_doc_get_id (doc));
  if (FLOW_IS_BOARD_PAGE (child))
    flow_board_view_set_remote_presence (tab_board_view (child), list);
  else if (FLOW_IS_PAGE_VIEW (child))
    flow_page_view_set_remote_presence (FLOW_PAGE_VIEW (child), list);
}

static void follow_to_peer_document (FlowWindow *self,
                                     GPtrArray  *participants);

/* Every open view shows the participants looking at its document. */
static void
update_remote_presence (FlowWindow *self)
{
  g_autoptr(GPtrArray) participants = NULL;
  guint n_pages;

  if (self->disposed)
    return;
  participants = self->huddle != NULL ? flow_huddle_list_participants (self->huddle)
                                      : g_ptr_array_new_with_free_func ((GDestroyNotify) flow_room_peer_free);
  follow_to_peer_document (self, participants);
  n_pages = adw_tab_view_get_n_pages (self->tab_view);
  for (guint i = 0; i < n_pages; i++)
    set_tab_presence (adw_tab_page_get_child (adw_tab_view_get_nth_page (self->tab_view, i)), participants);
}

static void update_follow_buttons (FlowWindow *self);
static void stop_following        (FlowWindow *self);

static const FlowRoomPeer *
find_peer (GPtrArray  *participants,
           const char *id)
{
  for (guint i = 0; i < participants->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (participants, i);

      if (g_strcmp0 (peer->id, id) == 0)
        return peer;
    }
  return NULL;
}

/* Applies the follow the user asked for, once the document's tab exists:
 * a board follows the pointer itself; a page shows the caret. */
static void
apply_follow (FlowWindow *self)
{
  AdwTabPage *tab;
  GtkWidget *child;

  if (self->follow_peer == NULL || (tab = find_tab (self, &self->follow_doc)) == NULL)
    return;
  child = adw_tab_page_get_child (tab);
  if (FLOW_IS_BOARD_PAGE (child))
    {
      FlowBoardView *view = tab_board_view (child);

      if (g_strcmp0 (flow_board_view_get_followed (view), self->follow_peer) != 0)
        flow_board_view_follow (view, self->follow_peer);
    }
  else if (FLOW_IS_PAGE_VIEW (child) && self->huddle != NULL)
    {
      g_autoptr(GPtrArray) participants = flow_huddle_list_participants (self->huddle);
      const FlowRoomPeer *peer = find_peer (participants, self->follow_peer);

      /* Only when their caret moves: in between, we may scroll around. */
      if (peer != NULL && peer->has_presence &&
          (peer->presence.presence.flags & FLOW_SYNC_PRESENCE_HAS_SELECTION) != 0 &&
          flow_op_id_equal (&peer->presence.presence.doc, &self->follow_doc) &&
          peer->presence.presence.cursor != self->follow_cursor)
        {
          self->follow_cursor = peer->presence.presence.cursor;
          flow_page_view_show_offset (FLOW_PAGE_VIEW (child), self->follow_cursor);
        }
    }
}

/* Following goes where the followed participant goes: when its presence
 * names another board or page of ours, that one opens and following goes
 * on there. Its leaving the huddle ends following. Runs before the views
 * get the new presence, so the board left behind lets go quietly instead
 * of reporting that its peer went away. */
static void
follow_to_peer_document (FlowWindow *self,
                         GPtrArray  *participants)
{
  const FlowRoomPeer *peer;
  const FlowOpId *doc;
  FlowCatalogEntry entry;
  FlowBoardView *left;
  gboolean followable;

  if (self->follow_peer == NULL)
    return;
  peer = find_peer (participants, self->follow_peer);
  if (peer == NULL || !peer->connected)
    {
      stop_following (self);
      return;
    }
  if (!peer->has_presence || (peer->presence.presence.flags & FLOW_SYNC_PRESENCE_HAS_DOC) == 0)
    return;
  doc = &peer->presence.presence.doc;
  if (flow_op_id_equal (doc, &self->follow_doc))
    {
      apply_follow (self);
      return;
    }
  /* A document whose catalog entry has not arrived yet: wait for it. */
  if (!flow_catalog_get (flow_workspace_get_catalog (self->workspace), doc, &entry))
    return;
  followable = !entry.deleted && (entry.kind == FLOW_DOC_KIND_BOARD || entry.kind == FLOW_DOC_KIND_PAGE);
  flow_catalog_entry_clear (&entry);
  if (!followable)
    return;
  left = find_board_view (self, &self->follow_doc);
  if (left != NULL)
    flow_board_view_follow (left, NULL);
  /* Set first: selecting the new tab checks it. */
  self->follow_doc = *doc;
  self->follow_cursor = G_MAXUINT;
  if (find_tab (self, doc) == NULL)
    g_hash_table_add (self->follow_loads, flow_op_id_to_string (doc));
  flow_window_open_document (self, doc);
  apply_follow (self);
}

static void
stop_following (FlowWindow *self)
{
  FlowBoardView *view;

  if (self->follow_peer == NULL)
    return;
  view = find_board_view (self, &self->follow_doc);
  g_clear_pointer (&self->follow_peer, g_free);
  if (view != NULL)
    flow_board_view_follow (view, NULL);
  update_follow_buttons (self);
}

static void
start_following (FlowWindow     *self,
                 const char     *peer_id,
                 const FlowOpId *doc)
{
  stop_following (self);
  self->follow_peer = g_strdup (peer_id);
  self->follow_doc = *doc;
  self->follow_cursor = G_MAXUINT;
  update_follow_buttons (self);
  /* Switching tabs checks follow_doc, so it is set first; a document that
   * is not open yet gets followed when its tab is added. */
  flow_window_open_document (self, doc);
  apply_follow (self);
}

static gboolean
is_current_view (FlowWindow *self,
                 GtkWidget  *view)
{
  GtkWidget *child = flow_window_get_current_view (self);

  return child != NULL && (child == view || GTK_WIDGET (tab_board_view (child)) == view);
}

static void
board_pointer_moved_cb (FlowBoardView *view,
                        double         x,
                        double         y,
                        double         zoom,
                        const char    *tool,
                        FlowWindow    *self)
{
  if (self->huddle != NULL && is_current_view (self, GTK_WIDGET (view)))
    flow_huddle_set_pointer (self->huddle, x, y, zoom, tool);
}

static void
board_follow_stopped_cb (FlowBoardView *view,
                         FlowWindow    *self)
{
  /* A local pan or zoom, or the peer left the board. */
  if (self->follow_peer != NULL && find_board_view (self, &self->follow_doc) == view)
    {
      g_clear_pointer (&self->follow_peer, g_free);
      update_follow_buttons (self);
    }
}

static void
page_selection_moved_cb (FlowPageView *view,
                         guint         anchor,
                         guint         cursor,
                         FlowWindow   *self)
{
  if (self->huddle != NULL && is_current_view (self, GTK_WIDGET (view)))
    flow_huddle_set_selection (self->huddle, anchor, cursor);
}

/* The document of the selected tab, and our caret in it if it is a page
 * (a board waits for the pointer to move). */
static void
send_current_document (FlowWindow *self)
{
  GtkWidget *child = flow_window_get_current_view (self);
  FlowDoc *doc = child != NULL ? g_object_get_data (G_OBJECT (child), "flow-doc") : NULL;

  if (self->huddle == NULL)
    return;
  flow_huddle_set_document (self->huddle, doc != NULL ? flow_doc_get_id (doc) : NULL);
  if (doc != NULL && FLOW_IS_PAGE_VIEW (child))
    {
      GtkTextBuffer *buffer = flow_page_view_get_buffer (FLOW_PAGE_VIEW (child));
      GtkTextIter insert, bound;

      gtk_text_buffer_get_iter_at_mark (buffer, &insert, gtk_text_buffer_get_insert (buffer));
      gtk_text_buffer_get_iter_at_mark (buffer, &bound, gtk_text_buffer_get_selection_bound (buffer));
      flow_huddle_set_selection (self->huddle, gtk_text_iter_get_offset (&bound),
                                 gtk_text_iter_get_offset (&insert));
    }
}

static void
add_tab (FlowWindow *self,
         FlowDoc    *doc)
{
  FlowDoc *catalog = flow_workspace_get_catalog (self->workspace);
  FlowCatalogEntry entry;
  GtkWidget *child;
  AdwTabPage *page;
  guint watch;

  /* Opened to follow someone who has moved on meanwhile: not wanted. */
  {
    g_autofree char *key = flow_op_id_to_string (flow_doc_get_id (doc));

    if (g_hash_table_remove (self->follow_loads, key) &&
        (self->follow_peer == NULL || !flow_op_id_equal (flow_doc_get_id (doc), &self->follow_doc)))
      return;
  }
  page = find_tab (self, flow_doc_get_id (doc));
  if (page != NULL)
    {
      adw_tab_view_set_selected_page (self->tab_view, page);
      return;
    }
  if (!flow_catalog_get (catalog, flow_doc_get_id (doc), &entry))
    return;

  if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_BOARD)
    {
      child = GTK_WIDGET (flow_board_page_new (doc));
      g_signal_connect_object (tab_board_view (child), "pointer-moved",
                               G_CALLBACK (board_pointer_moved_cb), self, 0);
      g_signal_connect_object (tab_board_view (child), "follow-stopped",
                               G_CALLBACK (board_follow_stopped_cb), self, 0);
    }
  else
    {
      child = GTK_WIDGET (flow_page_view_new (doc));
      flow_page_view_set_workspace (FLOW_PAGE_VIEW (child), self->workspace);
      g_signal_connect_object (child, "link-activated", G_CALLBACK (page_link_activated_cb), self, 0);
      g_signal_connect_object (child, "selection-moved", G_CALLBACK (page_selection_moved_cb), self, 0);
    }
  g_object_set_data_full (G_OBJECT (child), "flow-doc", g_object_ref (doc), g_object_unref);
  watch = flow_doc_add_change_func (doc, doc_changed_cb, self, NULL);
  g_object_set_data (G_OBJECT (child), "flow-doc-watch", GUINT_TO_POINTER (watch));

  if (self->huddle != NULL)
    {
      g_autoptr(GPtrArray) participants = flow_huddle_list_participants (self->huddle);

      set_tab_presence (child, participants);
    }
  page = adw_tab_view_append (self->tab_view, child);
  adw_tab_page_set_title (page, entry.title);
  {
    g_autoptr(GIcon) icon = g_themed_icon_new (entry.kind == FLOW_DOC_KIND_BOARD
                                               ? "x-office-drawing-symbolic"
                                               : "x-office-document-symbolic");

    adw_tab_page_set_icon (page, icon);
  }
  adw_tab_view_set_selected_page (self->tab_view, page);
  flow_catalog_entry_clear (&entry);
  update_content (self);
  gtk_widget_grab_focus (child);
  apply_pending_offset (self, child);
  apply_follow (self);
}

static void
load_document_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(FlowWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) doc = NULL;

  doc = flow_workspace_load_document_finish (FLOW_WORKSPACE (source), result, &error);
  if (doc == NULL)
    {
      g_autofree char *msg = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* translators: %s is the reason */
      msg = g_strdup_printf (_("Could not open the document: %s"), error->message);
      flow_window_show_error (self, msg);
      return;
    }
  if (self->workspace == FLOW_WORKSPACE (source) && !self->closing)
    add_tab (self, doc);
}

/**
 * flow_window_open_document:
 * @self: a window
 * @id: a document of its workspace
 *
 * Opens the document in a tab, or switches to its tab. Loading happens off
 * the UI thread.
 */
void
flow_window_open_document (FlowWindow     *self,
                           const FlowOpId *id)
{
  AdwTabPage *page;

  g_return_if_fail (FLOW_IS_WINDOW (self));
  g_return_if_fail (self->workspace != NULL);

  page = find_tab (self, id);
  if (page != NULL)
    {
      adw_tab_view_set_selected_page (self->tab_view, page);
      return;
    }
  flow_workspace_load_document_async (self->workspace, id, self->cancellable,
                                      load_document_cb, g_object_ref (self));
}

static void
sidebar_open_document_cb (FlowSidebar *sidebar,
                          const char  *id_str,
                          FlowWindow  *self)
{
  FlowOpId id;

  if (flow_op_id_parse (id_str, &id))
    flow_window_open_document (self, &id);
}

static void
sidebar_open_result_cb (FlowSidebar *sidebar,
                        const char  *id_str,
                        guint        offset,
                        FlowWindow  *self)
{
  FlowOpId id;
  AdwTabPage *page;

  if (!flow_op_id_parse (id_str, &id))
    return;
  g_hash_table_insert (self->pending_offsets, g_strdup (id_str), GUINT_TO_POINTER (offset + 1));
  page = find_tab (self, &id);
  if (page != NULL)
    {
      adw_tab_view_set_selected_page (self->tab_view, page);
      apply_pending_offset (self, adw_tab_page_get_child (page));
      return;
    }
  flow_window_open_document (self, &id);
}

static void
flow_window_actions_search_cb (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);

  adw_flap_set_reveal_flap (self->flap, TRUE);
  flow_sidebar_focus_search (self->sidebar);
}

GtkWidget *
flow_window_get_current_view (FlowWindow *self)
{
  AdwTabPage *page;

  g_return_val_if_fail (FLOW_IS_WINDOW (self), NULL);

  page = adw_tab_view_get_selected_page (self->tab_view);
  return page ? adw_tab_page_get_child (page) : NULL;
}

static void
tab_view_selected_page_cb (FlowWindow *self)
{
  AdwTabPage *page;
  FlowDoc *doc;

  if (self->disposed)
    return;
  page = adw_tab_view_get_selected_page (self->tab_view);
  doc = page ? g_object_get_data (G_OBJECT (adw_tab_page_get_child (page)), "flow-doc") : NULL;
  flow_sidebar_select (self->sidebar, doc ? flow_doc_get_id (doc) : NULL);
  flow_window_actions_update (self);
  /* Following shows a peer on one board: looking elsewhere ends it. */
  if (self->follow_peer != NULL && (doc == NULL || !flow_op_id_equal (flow_doc_get_id (doc), &self->follow_doc)))
    stop_following (self);
  send_current_document (self);
}

static gboolean
tab_view_close_page_cb (FlowWindow *self,
                        AdwTabPage *page)
{
  adw_tab_view_close_page_finish (self->tab_view, page, TRUE);
  return GDK_EVENT_STOP;
}

static void
tab_view_page_detached_cb (FlowWindow *self,
                           AdwTabPage *page,
                           int         position)
{
  FlowDoc *doc = g_object_get_data (G_OBJECT (adw_tab_page_get_child (page)), "flow-doc");

  remove_doc_watch (adw_tab_page_get_child (page));
  if (self->disposed)
    return;
  /* The followed board's tab closed: the Follow button lets go too. */
  if (self->follow_peer != NULL && doc != NULL && flow_op_id_equal (flow_doc_get_id (doc), &self->follow_doc))
    {
      g_clear_pointer (&self->follow_peer, g_free);
      update_follow_buttons (self);
    }
  update_content (self);
  flow_window_actions_update (self);
}

/* ------------------------------------------------------------------------
 * The huddle: connection state and participants in the header bar
 * ------------------------------------------------------------------------ */

static const char *
peer_name (const FlowRoomPeer *peer)
{
  return peer->name != NULL && *peer->name != '\0' ? peer->name : _("Someone");
}

/* "Looking at “Plan”", from the peer's presence and our catalog;
 * @followable tells whether that is a board or page, which can be
 * followed. */
static char *
peer_whereabouts (FlowWindow         *self,
                  const FlowRoomPeer *peer,
                  gboolean           *followable)
{
  FlowCatalogEntry entry;
  char *text;

  *followable = FALSE;
  if (!peer->connected)
    return g_strdup (_("Connecting…"));
  if (!peer->has_presence || (peer->presence.presence.flags & FLOW_SYNC_PRESENCE_HAS_DOC) == 0 ||
      !flow_catalog_get (flow_workspace_get_catalog (self->workspace), &peer->presence.presence.doc, &entry))
    return g_strdup (_("Here"));
  *followable = (entry.kind == FLOW_DOC_KIND_BOARD || entry.kind == FLOW_DOC_KIND_PAGE) && !entry.deleted;
  /* translators: %s is a document title */
  text = g_strdup_printf (_("Looking at “%s”"), entry.title);
  flow_catalog_entry_clear (&entry);
  return text;
}

static void
follow_toggled_cb (GtkToggleButton *button,
                   FlowWindow      *self)
{
  const char *peer_id = g_object_get_data (G_OBJECT (button), "peer-id");
  const FlowOpId *doc = g_object_get_data (G_OBJECT (button), "doc");

  if (self->updating_follow || self->workspace == NULL)
    return;
  if (!gtk_toggle_button_get_active (button))
    {
      stop_following (self);
      return;
    }
  start_following (self, peer_id, doc);
  gtk_popover_popdown (self->huddle_popover);
}

/* The Follow buttons show whom we follow, whatever changed it. */
static void
update_follow_buttons (FlowWindow *self)
{
  self->updating_follow = TRUE;
  for (GtkWidget *row = gtk_widget_get_first_child (GTK_WIDGET (self->participants_list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    {
      GtkToggleButton *button = g_object_get_data (G_OBJECT (row), "follow-button");
      const char *peer_id = button ? g_object_get_data (G_OBJECT (button), "peer-id") : NULL;

      if (button != NULL)
        gtk_toggle_button_set_active (button, self->follow_peer != NULL &&
                                              g_strcmp0 (peer_id, self->follow_peer) == 0);
    }
  self->updating_follow = FALSE;
}

static GtkWidget *
new_follow_button (FlowWindow         *self,
                   const FlowRoomPeer *peer)
{
  GtkWidget *button = gtk_toggle_button_new_with_mnemonic (_("_Follow"));
  g_autofree char *tooltip = NULL;

  /* translators: %s is a participant's name */
  tooltip = g_strdup_printf (_("Go where %s goes; pan, zoom or pick another tab to stop"),
                             peer_name (peer));
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  g_object_set_data_full (G_OBJECT (button), "peer-id", g_strdup (peer->id), g_free);
  g_object_set_data_full (G_OBJECT (button), "doc",
                          g_memdup2 (&peer->presence.presence.doc, sizeof (FlowOpId)), g_free);
  g_signal_connect_object (button, "toggled", G_CALLBACK (follow_toggled_cb), self, 0);
  return button;
}

/* An avatar in the participant's own colour, the colour of its cursor and
 * caret, rather than one derived from its name. AdwAvatar draws its disc
 * in an "avatar" node inside the widget. */
static void
color_avatar (GtkWidget *avatar,
              guint32    color,
              GString   *css)
{
  guint r = color >> 24, g = (color >> 16) & 0xff, b = (color >> 8) & 0xff;
  gboolean light = 299 * r + 587 * g + 114 * b > 160000;
  g_autofree char *name = NULL;

  if ((color & 0xff) == 0)
    color = 0x3584e4ff;   /* none said yet: as flow_huddle_presence_for_doc() */
  name = g_strdup_printf ("flow-peer-%06x", color >> 8);
  gtk_widget_add_css_class (avatar, name);
  g_string_append_printf (css, ".%s > avatar { background-image: none; background-color: #%06x; color: %s; }\n",
                          name, color >> 8, light ? "#241f31" : "#ffffff");
}

static void
update_participants (FlowWindow *self)
{
  g_autoptr(GString) css = g_string_new (NULL);
  g_autoptr(GPtrArray) peers = NULL;
  GtkWidget *child;
  guint shown = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->huddle_avatars))) != NULL)
    gtk_box_remove (self->huddle_avatars, child);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->participants_list))) != NULL)
    gtk_list_box_remove (self->participants_list, child);
  if (self->huddle == NULL)
    return;

  peers = flow_huddle_list_participants (self->huddle);
  for (guint i = 0; i < peers->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (peers, i);
      gboolean followable;
      g_autofree char *where = peer_whereabouts (self, peer, &followable);
      GtkWidget *row, *avatar;

      /* The header shows a few faces; the popover lists everyone. */
      if (shown < 4)
        {
          avatar = adw_avatar_new (24, peer_name (peer), TRUE);
          color_avatar (avatar, peer->color, css);
          gtk_widget_set_tooltip_text (avatar, peer_name (peer));
          if (!peer->connected)
            gtk_widget_set_opacity (avatar, 0.5);
          gtk_box_append (self->huddle_avatars, avatar);
          shown++;
        }
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), peer_name (peer));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), where);
      avatar = adw_avatar_new (32, peer_name (peer), TRUE);
      color_avatar (avatar, peer->color, css);
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), avatar);
      if (followable)
        {
          GtkWidget *follow = new_follow_button (self, peer);

          adw_action_row_add_suffix (ADW_ACTION_ROW (row), follow);
          g_object_set_data (G_OBJECT (row), "follow-button", follow);
        }
      gtk_list_box_append (self->participants_list, row);
    }
  if (peers->len > shown)
    {
      g_autofree char *more = g_strdup_printf ("+%u", peers->len - shown);

      gtk_box_append (self->huddle_avatars, gtk_label_new (more));
    }
  gtk_css_provider_load_from_data (self->avatar_css, css->str, -1);
  gtk_widget_set_visible (GTK_WIDGET (self->participants_list), peers->len > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->huddle_avatars), peers->len > 0);
  update_follow_buttons (self);
}

static void
update_huddle_state (FlowWindow *self)
{
  FlowRoomState state = self->huddle ? flow_huddle_get_state (self->huddle) : FLOW_ROOM_OFFLINE;
  gboolean active = self->huddle != NULL && flow_huddle_is_active (self->huddle);
  guint n = self->huddle ? flow_huddle_get_n_connected (self->huddle) : 0;
  const char *problem = self->huddle ? flow_huddle_get_problem (self->huddle) : NULL;
  gboolean unshared = self->huddle != NULL && flow_huddle_get_has_unshared (self->huddle);
  g_autofree char *label = NULL;
  const char *icon;
  const char *heading;
  const char *tooltip;

  if (!active || state == FLOW_ROOM_OFFLINE)
    {
      label = g_strdup (_("Offline"));
      icon = "network-offline-symbolic";
      heading = active ? _("Offline: edits are kept and shared on reconnect")
                       : _("Not in a huddle: share this workspace to work together");
    }
  else if (state == FLOW_ROOM_CONNECTING || n == 0)
    {
      label = g_strdup (state == FLOW_ROOM_CONNECTING ? _("Connecting…") : _("Waiting for others"));
      icon = "network-idle-symbolic";
      heading = state == FLOW_ROOM_CONNECTING ? _("Connecting to the huddle…")
                                              : _("In the huddle; nobody else is here yet");
    }
  else
    {
      /* translators: the huddle status in the header bar */
      label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Connected to %u", "Connected to %u", n), n);
      icon = "network-transmit-receive-symbolic";
      heading = _("Who Is Here");
    }
  tooltip = heading;
  /* Edits made while nobody was linked matter more than the state: they
   * exist only here until someone connects. */
  if (active && unshared)
    {
      g_free (label);
      label = g_strdup (_("Not yet shared"));
      tooltip = _("Edits made offline sync when someone connects");
    }
  gtk_label_set_text (self->huddle_label, label);
  gtk_image_set_from_icon_name (self->huddle_icon, icon);
  gtk_label_set_text (self->huddle_heading, heading);
  gtk_label_set_text (self->huddle_problem, problem != NULL ? problem : "");
  gtk_widget_set_visible (GTK_WIDGET (self->huddle_problem), problem != NULL);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->huddle_button), problem != NULL ? problem : tooltip);
  if (state == FLOW_ROOM_CONNECTED && n > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self->huddle_button), "connected");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->huddle_button), "connected");
}

/* Unshared edits reached a peer: say so once, since the status had
 * warned about them. Stopping the huddle is no such news. */
static void
huddle_unshared_cb (FlowWindow *self)
{
  gboolean unshared = flow_huddle_get_has_unshared (self->huddle);

  if (!unshared && self->unshared_shown && flow_huddle_is_active (self->huddle))
    show_toast (self, _("All changes shared"));
  self->unshared_shown = unshared;
  update_huddle_state (self);
}

/* A problem (server unreachable, bad settings) is said once in a toast and
 * stays visible in the status popover until it is gone. */
static void
huddle_problem_cb (FlowWindow *self)
{
  const char *problem = flow_huddle_get_problem (self->huddle);

  update_huddle_state (self);
  if (problem != NULL && g_strcmp0 (problem, self->problem_shown) != 0)
    show_toast (self, problem);
  g_free (self->problem_shown);
  self->problem_shown = g_strdup (problem);
}

static void
join_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(FlowWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!flow_huddle_join_finish (FLOW_HUDDLE (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && !self->closing)
    {
      /* translators: %s is the reason */
      g_autofree char *msg = g_strdup_printf (_("Cannot join the huddle: %s"), error->message);

      flow_window_show_error (self, msg);
    }
}

static void
start_pending_join (FlowWindow *self)
{
  g_autofree char *link = NULL;

  if (self->pending_join == NULL || self->huddle == NULL)
    return;   /* kept until the workspace is open */
  link = g_steal_pointer (&self->pending_join);
  flow_huddle_join_async (self->huddle, link, NULL, join_cb, g_object_ref (self));
}

/**
 * flow_window_join:
 * @self: a window
 * @link: an invite link to the room of the window's workspace
 *
 * Joins the huddle of @link with this window's workspace, now or as soon
 * as the workspace is open. A window already in that huddle stays in it.
 */
void
flow_window_join (FlowWindow *self,
                  const char *link)
{
  g_return_if_fail (FLOW_IS_WINDOW (self));
  g_return_if_fail (link != NULL);

  if (self->huddle != NULL && flow_huddle_is_active (self->huddle) && !flow_huddle_is_hosting (self->huddle))
    return;
  g_free (self->pending_join);
  self->pending_join = g_strdup (link);
  start_pending_join (self);
}

/**
 * flow_window_get_huddle:
 * @self: a window
 *
 * Returns: (transfer none) (nullable): the huddle of the window's
 *   workspace, %NULL until it is open
 */
FlowHuddle *
flow_window_get_huddle (FlowWindow *self)
{
  g_return_val_if_fail (FLOW_IS_WINDOW (self), NULL);

  return self->huddle;
}

static void
setup_huddle (FlowWindow    *self,
              FlowWorkspace *workspace)
{
  GSettings *settings = flow_application_get_settings (FLOW_APPLICATION (g_application_get_default ()));

  self->huddle = flow_huddle_new (workspace, settings);
  {
    g_autofree char *def = flow_workspace_default_path ();
    g_autofree char *title = flow_application_dup_workspace_title (FLOW_APPLICATION (g_application_get_default ()),
                                                                   self->path);

    flow_huddle_set_workspace_title (self->huddle, title, g_strcmp0 (def, self->path) == 0);
  }
  g_signal_connect_object (self->huddle, "notify::state", G_CALLBACK (update_huddle_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->huddle, "notify::n-connected", G_CALLBACK (update_huddle_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->huddle, "notify::active", G_CALLBACK (update_huddle_state), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->huddle, "notify::problem", G_CALLBACK (huddle_problem_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->huddle, "notify::has-unshared", G_CALLBACK (huddle_unshared_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->huddle, "participants-changed", G_CALLBACK (update_participants), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->huddle, "presence-changed", G_CALLBACK (update_remote_presence), self, G_CONNECT_SWAPPED);
  update_huddle_state (self);
  update_participants (self);
  send_current_document (self);
  flow_chat_panel_set_huddle (self->chat_panel, self->huddle);
  start_pending_join (self);
}

/* Leaves the room before the workspace closes: peers get a goodbye and
 * the room lets go of the documents. */
static void
stop_huddle (FlowWindow *self)
{
  if (self->huddle == NULL)
    return;
  if (self->chat_panel != NULL)
    flow_chat_panel_set_huddle (self->chat_panel, NULL);
  g_signal_handlers_disconnect_by_data (self->huddle, self);
  flow_huddle_stop (self->huddle);
  g_clear_object (&self->huddle);
}

static void
flow_window_actions_share_cb (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);
  GSettings *settings = flow_application_get_settings (FLOW_APPLICATION (g_application_get_default ()));
  FlowShareDialog *dialog;

  if (self->huddle == NULL)
    return;
  dialog = flow_share_dialog_new (GTK_WINDOW (self), self->huddle, settings);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------------
 * The huddle chat: a panel on the right, its unread count on its button,
 * its notifications on the desktop
 * ------------------------------------------------------------------------ */

static void
update_chat_badge (FlowWindow *self)
{
  guint n = flow_chat_panel_get_n_unread (self->chat_panel);
  g_autofree char *count = n > 99 ? g_strdup ("99+") : g_strdup_printf ("%u", n);
  g_autofree char *tooltip = NULL;

  gtk_label_set_text (self->chat_badge, count);
  gtk_widget_set_visible (GTK_WIDGET (self->chat_badge), n > 0);
  if (n > 0)
    /* translators: the Chat button's tooltip */
    tooltip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Huddle Chat (%u unread message)",
                                            "Huddle Chat (%u unread messages)", n), n);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->chat_button), tooltip != NULL ? tooltip : _("Huddle Chat"));
}

static void
chat_button_toggled_cb (FlowWindow *self)
{
  gboolean open = gtk_toggle_button_get_active (self->chat_button);

  flow_chat_panel_set_open (self->chat_panel, open);
  if (open)
    gtk_widget_grab_focus (GTK_WIDGET (flow_chat_panel_get_entry (self->chat_panel)));
}

/* A mention or a join while the window was in the background. Clicking
 * the notification brings this workspace's window back with the chat
 * open (app.show-chat finds the window by its path). Without a session
 * bus there is nobody to show it, and GIO's notification backends would
 * fail a critical on the missing connection: nothing is sent. */
static void
chat_notification_cb (FlowChatPanel *panel,
                      const char    *id,
                      const char    *title,
                      const char    *body,
                      FlowWindow    *self)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_autoptr(GNotification) notification = NULL;

  if (app == NULL || !g_application_get_is_registered (G_APPLICATION (app)) ||
      g_application_get_dbus_connection (G_APPLICATION (app)) == NULL || self->path == NULL)
    return;
  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  g_notification_set_default_action_and_target (notification, "app.show-chat", "s", self->path);
  g_application_send_notification (G_APPLICATION (app), id, notification);
}

static void
flow_window_actions_show_chat_cb (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);

  gtk_toggle_button_set_active (self->chat_button, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (flow_chat_panel_get_entry (self->chat_panel)));
}

static void
setup_chat (FlowWindow *self,
            GSettings  *settings)
{
  self->chat_panel = flow_chat_panel_new (settings);
  gtk_widget_set_size_request (GTK_WIDGET (self->chat_panel), 320, -1);
  gtk_box_append (self->chat_box, GTK_WIDGET (self->chat_panel));
  g_signal_connect_object (self->chat_panel, "notify::n-unread", G_CALLBACK (update_chat_badge),
                           self, G_CONNECT_SWAPPED);
  /* After, so that a test's handler can stop the emission and see what
   * would be sent without sending it. */
  g_signal_connect_object (self->chat_panel, "notification", G_CALLBACK (chat_notification_cb),
                           self, G_CONNECT_AFTER);
  g_signal_connect_object (self->chat_button, "toggled", G_CALLBACK (chat_button_toggled_cb),
                           self, G_CONNECT_SWAPPED);
  update_chat_badge (self);
}

/* ------------------------------------------------------------------------
 * Opening the workspace
 * ------------------------------------------------------------------------ */

/* The disk refused a commit (full, read-only, gone): say so once until a
 * commit succeeds again. The edits stay queued and are retried. */
static void
store_write_error_cb (FlowStore    *store,
                      const GError *error,
                      FlowWindow   *self)
{
  g_autofree char *msg = NULL;

  if (self->write_error_shown)
    return;
  self->write_error_shown = TRUE;
  /* translators: %s is the reason */
  msg = g_strdup_printf (_("Could not save: %s. Your edits are kept and will be saved when the disk allows it."),
                         error->message);
  flow_window_show_error (self, msg);
}

static void
store_committed_cb (FlowStore  *store,
                    guint64     committed,
                    FlowWindow *self)
{
  if (self->write_error_shown)
    {
      self->write_error_shown = FALSE;
      show_toast (self, _("All edits are saved again"));
    }
}

static void
set_workspace (FlowWindow    *self,
               FlowWorkspace *workspace)
{
  FlowApplication *app = FLOW_APPLICATION (g_application_get_default ());
  g_autofree char *title = flow_application_dup_workspace_title (app, self->path);

  self->workspace = g_object_ref (workspace);
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, self->path);
  {
    /* translators: the window title; %s is the workspace name */
    g_autofree char *wtitle = g_strdup_printf (_("%s — FlowSync"), title);

    gtk_window_set_title (GTK_WINDOW (self), wtitle);
  }

  flow_sidebar_set_catalog (self->sidebar, flow_workspace_get_catalog (workspace));
  flow_sidebar_set_store (self->sidebar, flow_workspace_get_store (workspace));
  g_signal_connect_object (flow_workspace_get_store (workspace), "write-error",
                           G_CALLBACK (store_write_error_cb), self, 0);
  g_signal_connect_object (flow_workspace_get_store (workspace), "committed",
                           G_CALLBACK (store_committed_cb), self, 0);
  self->catalog_watch = flow_doc_add_change_func (flow_workspace_get_catalog (workspace),
                                                  catalog_changed_cb, self, NULL);
  flow_application_add_recent (FLOW_APPLICATION (g_application_get_default ()), self->path);
  gtk_spinner_stop (self->spinner);
  flow_chat_panel_set_workspace (self->chat_panel, workspace);
  setup_huddle (self, workspace);
  update_content (self);
  flow_window_actions_update (self);
}

static void
open_failed (FlowWindow   *self,
             const GError *error)
{
  g_autofree char *desc = NULL;

  gtk_spinner_stop (self->spinner);
  /* translators: the first %s is the file, the second the reason */
  desc = g_strdup_printf (_("%s\n\n%s\n\nThe file was left untouched."), self->path, error->message);
  adw_status_page_set_description (self->error_page, desc);
  gtk_stack_set_visible_child_name (self->content_stack, "error");
  flow_window_actions_update (self);
}

static void
open_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(FlowWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) workspace = NULL;
  gboolean create_if_missing = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (self), "create-if-missing"));

  workspace = flow_workspace_open_finish (result, &error);
  if (workspace == NULL && create_if_missing &&
      g_error_matches (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND))
    {
      g_object_set_data (G_OBJECT (self), "create-if-missing", NULL);
      flow_workspace_open_async (self->path, TRUE, self->cancellable, open_cb, g_object_ref (self));
      return;
    }
  if (workspace == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        open_failed (self, error);
      return;
    }
  if (self->closing)
    {
      g_autoptr(GError) close_error = NULL;

      flow_workspace_close (workspace, &close_error);
      return;
    }
  set_workspace (self, workspace);
}

/**
 * flow_window_open:
 * @self: a window that shows no workspace yet
 * @path: a workspace file
 * @create: create a new workspace there instead
 *
 * Opens the workspace asynchronously; the window shows a spinner, then the
 * workspace or a clear error.
 */
void
flow_window_open (FlowWindow *self,
                  const char *path,
                  gboolean    create)
{
  g_return_if_fail (FLOW_IS_WINDOW (self));
  g_return_if_fail (self->path == NULL);

  self->path = g_strdup (path);
  gtk_stack_set_visible_child_name (self->content_stack, "loading");
  gtk_spinner_start (self->spinner);
  flow_workspace_open_async (path, create, self->cancellable, open_cb, g_object_ref (self));
}

/**
 * flow_window_open_or_create:
 * @self: a window that shows no workspace yet
 * @path: a workspace file
 * @create_if_missing: create it if there is no file at @path
 */
void
flow_window_open_or_create (FlowWindow *self,
                            const char *path,
                            gboolean    create_if_missing)
{
  g_object_set_data (G_OBJECT (self), "create-if-missing", GINT_TO_POINTER (create_if_missing));
  flow_window_open (self, path, FALSE);
}

/* ------------------------------------------------------------------------
 * Actions
 * ------------------------------------------------------------------------ */

static char *
unique_title (FlowWindow *self,
              const char *base)
{
  FlowDoc *catalog = flow_workspace_get_catalog (self->workspace);
  g_autoptr(GArray) entries = flow_catalog_list (catalog, TRUE);
  char *title = g_strdup (base);

  for (guint n = 2;; n++)
    {
      gboolean taken = FALSE;

      for (guint i = 0; i < entries->len && !taken; i++)
        taken = g_strcmp0 (g_array_index (entries, FlowCatalogEntry, i).title, title) == 0;
      if (!taken)
        return title;
      g_free (title);
      /* translators: a default document title and a number, e.g. "Untitled Board 2" */
      title = g_strdup_printf (_("%s %u"), base, n);
    }
}

static void
new_document (FlowWindow  *self,
              FlowDocKind  kind)
{
  g_autofree char *title = unique_title (self, kind == FLOW_DOC_KIND_BOARD ? _("Untitled Board")
                                                                         : _("Untitled Page"));

  create_document (self, kind, title);
}

static void
flow_window_actions_new_board_cb (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  new_document (FLOW_WINDOW (widget), FLOW_DOC_KIND_BOARD);
}

static void
flow_window_actions_new_page_cb (GtkWidget  *widget,
                                 const char *action_name,
                                 GVariant   *param)
{
  new_document (FLOW_WINDOW (widget), FLOW_DOC_KIND_PAGE);
}

static void
flow_window_actions_close_tab_cb (GtkWidget  *widget,
                                  const char *action_name,
                                  GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);
  AdwTabPage *page = adw_tab_view_get_selected_page (self->tab_view);

  if (page != NULL)
    adw_tab_view_close_page (self->tab_view, page);
}

static void
flow_window_actions_toggle_sidebar_cb (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);

  adw_flap_set_reveal_flap (self->flap, !adw_flap_get_reveal_flap (self->flap));
}

static FlowDoc *
current_doc (FlowWindow *self)
{
  GtkWidget *view = flow_window_get_current_view (self);

  return view ? g_object_get_data (G_OBJECT (view), "flow-doc") : NULL;
}

static void
flow_window_actions_undo_cb (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  FlowDoc *doc = current_doc (FLOW_WINDOW (widget));

  if (doc != NULL)
    flow_doc_undo (doc);
  flow_window_actions_update (FLOW_WINDOW (widget));
}

static void
flow_window_actions_redo_cb (GtkWidget  *widget,
                             const char *action_name,
                             GVariant   *param)
{
  FlowDoc *doc = current_doc (FLOW_WINDOW (widget));

  if (doc != NULL)
    flow_doc_redo (doc);
  flow_window_actions_update (FLOW_WINDOW (widget));
}

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     FlowWindow      *self)
{
  gboolean create = gtk_file_chooser_get_action (GTK_FILE_CHOOSER (dialog)) == GTK_FILE_CHOOSER_ACTION_SAVE;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path == NULL)
        flow_window_show_error (self, _("FlowSync can only open workspaces that are local files"));
      else if (create && !g_str_has_suffix (path, ".flowsync"))
        {
          g_autofree char *with_ext = g_strconcat (path, ".flowsync", NULL);

          flow_application_open_path (FLOW_APPLICATION (g_application_get_default ()), with_ext, TRUE);
        }
      else
        flow_application_open_path (FLOW_APPLICATION (g_application_get_default ()), path, create);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
run_chooser (FlowWindow *self,
             gboolean    create)
{
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (create ? _("New Workspace") : _("Open Workspace"),
                                         GTK_WINDOW (self),
                                         create ? GTK_FILE_CHOOSER_ACTION_SAVE
                                                : GTK_FILE_CHOOSER_ACTION_OPEN,
                                         create ? _("_Create") : _("_Open"),
                                         _("_Cancel"));
  gtk_file_filter_set_name (filter, _("FlowSync Workspaces"));
  gtk_file_filter_add_pattern (filter, "*.flowsync");
  gtk_file_filter_add_mime_type (filter, "application/x-flowsync-workspace");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  if (create)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _("Workspace.flowsync"));
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

/* ------------------------------------------------------------------------
 * Importing Markdown files as pages
 * ------------------------------------------------------------------------ */

static void
import_loaded_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(FlowWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_file_load_bytes_finish (G_FILE (source), result, NULL, &error);
  g_autofree char *text = NULL;
  g_autofree char *base = g_file_get_basename (G_FILE (source));
  g_autofree char *title = NULL;
  FlowDoc *doc;
  char *dot;

  if (bytes != NULL)
    text = flow_page_import_markdown (bytes, &error);
  if (text == NULL || self->workspace == NULL)
    {
      g_autofree char *msg = NULL;

      if (self->workspace == NULL)
        return;
      /* translators: %1$s is a file name, %2$s the reason */
      msg = g_strdup_printf (_("Could not import “%s”: %s"), base, error->message);
      flow_window_show_error (self, msg);
      return;
    }
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  {
    g_autofree char *wanted = flow_page_title_from_markdown (text, base);

    /* Importing a file twice gives "Plan" and "Plan 2", so [[links]]
     * stay unambiguous. */
    title = unique_title (self, wanted);
  }
  doc = flow_workspace_new_document (self->workspace, FLOW_DOC_KIND_PAGE, title, NULL, &error);
  if (doc == NULL || !flow_doc_insert_text (doc, 0, text, -1, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not import “%s”: %s"), base, error->message);

      flow_window_show_error (self, msg);
      return;
    }
  add_tab (self, doc);
}

/**
 * flow_window_import_file:
 * @self: a window showing a workspace
 * @file: a Markdown file
 *
 * Reads @file without blocking and adds it as a new page.
 */
void
flow_window_import_file (FlowWindow *self,
                         GFile      *file)
{
  g_return_if_fail (FLOW_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  if (self->workspace == NULL)
    return;
  g_file_load_bytes_async (file, self->cancellable, import_loaded_cb, g_object_ref (self));
}

static void
import_chooser_response_cb (GtkNativeDialog *dialog,
                            int              response,
                            FlowWindow      *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          flow_window_import_file (self, file);
        }
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

static void
flow_window_actions_import_cb (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);
  GtkFileChooserNative *chooser;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  chooser = gtk_file_chooser_native_new (_("Import Markdown"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_file_filter_set_name (filter, _("Markdown Files"));
  gtk_file_filter_add_pattern (filter, "*.md");
  gtk_file_filter_add_pattern (filter, "*.markdown");
  gtk_file_filter_add_mime_type (filter, "text/markdown");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_signal_connect (chooser, "response", G_CALLBACK (import_chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
is_markdown_file (GFile *file)
{
  g_autofree char *name = g_file_get_basename (file);

  const char *dot = name ? strrchr (name, '.') : NULL;

  return dot != NULL && (g_ascii_strcasecmp (dot, ".md") == 0 || g_ascii_strcasecmp (dot, ".markdown") == 0);
}

static gboolean
drop_cb (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         FlowWindow    *self)
{
  GSList *files;
  gboolean any = FALSE;

  if (self->workspace == NULL || !G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = g_value_get_boxed (value);
  for (GSList *l = files; l != NULL; l = l->next)
    if (is_markdown_file (l->data))
      {
        flow_window_import_file (self, l->data);
        any = TRUE;
      }
  if (!any)
    show_toast (self, _("Only Markdown files (.md) can be dropped here; drop images on a board"));
  return any;
}

static void
flow_window_actions_open_workspace_cb (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *param)
{
  run_chooser (FLOW_WINDOW (widget), FALSE);
}

static void
flow_window_actions_new_workspace_cb (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  run_chooser (FLOW_WINDOW (widget), TRUE);
}

static void
flow_window_actions_show_error_cb (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *param)
{
  flow_window_show_error (FLOW_WINDOW (widget), g_variant_get_string (param, NULL));
}

/* Sidebar document actions carry the document id as their target. */

static gboolean
param_id (GVariant *param,
          FlowOpId *id)
{
  return param != NULL && flow_op_id_parse (g_variant_get_string (param, NULL), id);
}

typedef struct
{
  FlowWindow *self;
  FlowOpId    id;
  gboolean    rename;
  GtkEntry   *entry;
} PromptData;

static void
prompt_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    PromptData       *data)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *catalog;
  const char *text;
  gboolean ok = TRUE;

  if (g_strcmp0 (response, "apply") == 0 && data->self->workspace != NULL)
    {
      catalog = flow_workspace_get_catalog (data->self->workspace);
      text = gtk_editable_get_text (GTK_EDITABLE (data->entry));
      if (data->rename)
        ok = text[0] != '\0' && flow_catalog_rename (catalog, &data->id, text, &error);
      else
        ok = flow_catalog_move (catalog, &data->id, text[0] ? text : NULL, &error);
      if (!ok)
        {
          g_autofree char *msg = g_strdup_printf (_("Could not change the document: %s"),
                                                  error ? error->message : _("the title is empty"));

          flow_window_show_error (data->self, msg);
        }
    }
  /* Enter in the entry answers, then closes the dialog, which answers
   * again with the close response: only the first answer counts. */
  g_signal_handlers_disconnect_by_func (dialog, prompt_response_cb, data);
  g_object_unref (data->self);
  g_free (data);
}

static void
entry_activate_cb (GtkEntry         *entry,
                   AdwMessageDialog *dialog)
{
  adw_message_dialog_response (dialog, "apply");
  gtk_window_close (GTK_WINDOW (dialog));
}

static void
prompt (FlowWindow     *self,
        const FlowOpId *id,
        gboolean        rename)
{
  FlowDoc *catalog = flow_workspace_get_catalog (self->workspace);
  FlowCatalogEntry entry;
  PromptData *data;
  GtkWidget *dialog;

  if (!flow_catalog_get (catalog, id, &entry))
    return;
  dialog = adw_message_dialog_new (GTK_WINDOW (self),
                                   rename ? _("Rename Document") : _("Move to Folder"),
                                   rename ? NULL : _("Leave the folder empty to move the document out of its folder"));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "apply", rename ? _("_Rename") : _("_Move"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "apply",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "apply");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  data = g_new0 (PromptData, 1);
  data->self = g_object_ref (self);
  data->id = *id;
  data->rename = rename;
  data->entry = GTK_ENTRY (gtk_entry_new ());
  gtk_editable_set_text (GTK_EDITABLE (data->entry),
                         rename ? entry.title : (entry.folder ? entry.folder : ""));
  gtk_entry_set_placeholder_text (data->entry, rename ? _("Title") : _("Folder"));
  g_signal_connect (data->entry, "activate", G_CALLBACK (entry_activate_cb), dialog);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), GTK_WIDGET (data->entry));
  g_signal_connect (dialog, "response", G_CALLBACK (prompt_response_cb), data);
  gtk_window_present (GTK_WINDOW (dialog));
  flow_catalog_entry_clear (&entry);
}

static void
flow_window_actions_rename_document_cb (GtkWidget  *widget,
                                        const char *action_name,
                                        GVariant   *param)
{
  FlowOpId id;

  if (param_id (param, &id))
    prompt (FLOW_WINDOW (widget), &id, TRUE);
}

static void
flow_window_actions_move_document_cb (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  FlowOpId id;

  if (param_id (param, &id))
    prompt (FLOW_WINDOW (widget), &id, FALSE);
}

static void
undo_trash_cb (AdwToast   *toast,
               FlowWindow *self)
{
  const char *id_str = g_object_get_data (G_OBJECT (toast), "flow-doc-id");
  FlowOpId id;

  if (self->workspace != NULL && flow_op_id_parse (id_str, &id))
    flow_catalog_restore (flow_workspace_get_catalog (self->workspace), &id, NULL);
}

static void
flow_window_actions_trash_document_cb (GtkWidget  *widget,
                                       const char *action_name,
                                       GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  FlowDoc *catalog = flow_workspace_get_catalog (self->workspace);
  FlowCatalogEntry entry;
  FlowOpId id;
  AdwToast *toast;
  g_autofree char *msg = NULL;

  if (!param_id (param, &id) || !flow_catalog_get (catalog, &id, &entry))
    return;
  if (!flow_catalog_trash (catalog, &id, &error))
    {
      msg = g_strdup_printf (_("Could not move the document to the trash: %s"), error->message);
      flow_window_show_error (self, msg);
      flow_catalog_entry_clear (&entry);
      return;
    }
  /* translators: %s is a document title */
  msg = g_strdup_printf (_("“%s” moved to the trash"), entry.title);
  toast = adw_toast_new (msg);
  adw_toast_set_button_label (toast, _("_Undo"));
  g_object_set_data_full (G_OBJECT (toast), "flow-doc-id", flow_op_id_to_string (&id), g_free);
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (undo_trash_cb), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  flow_catalog_entry_clear (&entry);
}

static void
flow_window_actions_restore_document_cb (GtkWidget  *widget,
                                         const char *action_name,
                                         GVariant   *param)
{
  FlowWindow *self = FLOW_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  FlowOpId id;

  if (!param_id (param, &id))
    return;
  if (!flow_catalog_restore (flow_workspace_get_catalog (self->workspace), &id, &error))
    {
      g_autofree char *msg = g_strdup_printf (_("Could not restore the document: %s"), error->message);

      flow_window_show_error (self, msg);
      return;
    }
  show_toast (self, _("Document restored"));
}

/* ------------------------------------------------------------------------
 * Closing: flush, then close the file, then go away
 * ------------------------------------------------------------------------ */

static void
flush_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(FlowWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!flow_store_flush_finish (FLOW_STORE (source), result, &error))
    {
      g_autofree char *msg = NULL;

      self->closing = FALSE;
      gtk_widget_set_visible (GTK_WIDGET (self), TRUE);
      /* translators: %s is the reason */
      msg = g_strdup_printf (_("Could not save the workspace: %s. Your edits are kept; free some space and close again."),
                             error->message);
      flow_window_show_error (self, msg);
      return;
    }
  self->closed = TRUE;
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
save_window_state (FlowWindow *self)
{
  GSettings *settings = flow_application_get_settings (FLOW_APPLICATION (g_application_get_default ()));
  int width, height;

  gtk_window_get_default_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_boolean (settings, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
  if (!gtk_window_is_maximized (GTK_WINDOW (self)))
    {
      g_settings_set_int (settings, "window-width", width);
      g_settings_set_int (settings, "window-height", height);
    }
}

static gboolean
flow_window_close_request (GtkWindow *window)
{
  FlowWindow *self = FLOW_WINDOW (window);

  save_window_state (self);
  if (self->closed || self->workspace == NULL)
    return GTK_WINDOW_CLASS (flow_window_parent_class)->close_request (window);
  if (self->closing)
    return GDK_EVENT_STOP;

  self->closing = TRUE;
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
  /* Goodbye to the huddle first: its BYE goes out while the disk works. */
  if (self->huddle != NULL)
    flow_huddle_stop (self->huddle);
  flow_store_flush_async (flow_workspace_get_store (self->workspace), NULL,
                          flush_cb, g_object_ref (self));
  return GDK_EVENT_STOP;
}

static void
flow_window_dispose (GObject *object)
{
  FlowWindow *self = FLOW_WINDOW (object);

  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  stop_huddle (self);
  if (self->workspace != NULL)
    {
      g_autoptr(GError) error = NULL;
      guint n_pages = adw_tab_view_get_n_pages (self->tab_view);

      for (guint i = 0; i < n_pages; i++)
        remove_doc_watch (adw_tab_page_get_child (adw_tab_view_get_nth_page (self->tab_view, i)));
      flow_doc_remove_change_func (flow_workspace_get_catalog (self->workspace), self->catalog_watch);
      flow_sidebar_set_catalog (self->sidebar, NULL);
      flow_sidebar_set_store (self->sidebar, NULL);
      if (self->chat_panel != NULL)
        flow_chat_panel_set_workspace (self->chat_panel, NULL);
      /* Everything was flushed; this writes the closing snapshot. */
      if (!flow_workspace_close (self->workspace, &error))
        g_warning ("Closing %s: %s", self->path, error->message);
      g_clear_object (&self->workspace);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), FLOW_TYPE_WINDOW);
  self->chat_panel = NULL;   /* went with chat_box */
  if (self->avatar_css != NULL)
    {
      gtk_style_context_remove_provider_for_display (gtk_widget_get_display (GTK_WIDGET (self)),
                                                     GTK_STYLE_PROVIDER (self->avatar_css));
      g_clear_object (&self->avatar_css);
    }

  G_OBJECT_CLASS (flow_window_parent_class)->dispose (object);
}

static void
flow_window_finalize (GObject *object)
{
  FlowWindow *self = FLOW_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->pending_offsets, g_hash_table_unref);
  g_clear_pointer (&self->follow_loads, g_hash_table_unref);
  g_free (self->path);
  g_free (self->pending_join);
  g_free (self->problem_shown);
  g_free (self->follow_peer);

  G_OBJECT_CLASS (flow_window_parent_class)->finalize (object);
}

static void
flow_window_class_init (FlowWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = flow_window_dispose;
  object_class->finalize = flow_window_finalize;
  window_class->close_request = flow_window_close_request;

  g_type_ensure (FLOW_TYPE_SIDEBAR);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/flowsync/FlowSync/ui/flow-window.ui");
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, error_page);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, tab_view);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, recent_menu);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_button);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_avatars);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_icon);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_label);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_heading);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_problem);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, participants_list);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, huddle_popover);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, chat_button);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, chat_badge);
  gtk_widget_class_bind_template_child (widget_class, FlowWindow, chat_box);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_open_document_cb);
  gtk_widget_class_bind_template_callback (widget_class, sidebar_open_result_cb);
  gtk_widget_class_bind_template_callback (widget_class, tab_view_selected_page_cb);
  gtk_widget_class_bind_template_callback (widget_class, tab_view_close_page_cb);
  gtk_widget_class_bind_template_callback (widget_class, tab_view_page_detached_cb);

  gtk_widget_class_install_action (widget_class, "win.new-board", NULL, flow_window_actions_new_board_cb);
  gtk_widget_class_install_action (widget_class, "win.new-page", NULL, flow_window_actions_new_page_cb);
  gtk_widget_class_install_action (widget_class, "win.close-tab", NULL, flow_window_actions_close_tab_cb);
  gtk_widget_class_install_action (widget_class, "win.toggle-sidebar", NULL, flow_window_actions_toggle_sidebar_cb);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, flow_window_actions_undo_cb);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, flow_window_actions_redo_cb);
  gtk_widget_class_install_action (widget_class, "win.open-workspace", NULL, flow_window_actions_open_workspace_cb);
  gtk_widget_class_install_action (widget_class, "win.new-workspace", NULL, flow_window_actions_new_workspace_cb);
  gtk_widget_class_install_action (widget_class, "win.show-error", "s", flow_window_actions_show_error_cb);
  gtk_widget_class_install_action (widget_class, "win.search", NULL, flow_window_actions_search_cb);
  gtk_widget_class_install_action (widget_class, "win.share", NULL, flow_window_actions_share_cb);
  gtk_widget_class_install_action (widget_class, "win.show-chat", NULL, flow_window_actions_show_chat_cb);
  gtk_widget_class_install_action (widget_class, "win.import-markdown", NULL, flow_window_actions_import_cb);
  gtk_widget_class_install_action (widget_class, "win.rename-document", "s", flow_window_actions_rename_document_cb);
  gtk_widget_class_install_action (widget_class, "win.move-document", "s", flow_window_actions_move_document_cb);
  gtk_widget_class_install_action (widget_class, "win.trash-document", "s", flow_window_actions_trash_document_cb);
  gtk_widget_class_install_action (widget_class, "win.restore-document", "s", flow_window_actions_restore_document_cb);
}

static void
flow_window_init (FlowWindow *self)
{
  GSettings *settings;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->avatar_css = gtk_css_provider_new ();
  gtk_style_context_add_provider_for_display (gtk_widget_get_display (GTK_WIDGET (self)),
                                              GTK_STYLE_PROVIDER (self->avatar_css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  {
    GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

    g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
    gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  }
  self->pending_offsets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->follow_loads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  settings = flow_application_get_settings (FLOW_APPLICATION (g_application_get_default ()));
  setup_chat (self, settings);
  if (settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
      update_recent_menu (self);
      g_signal_connect_object (settings, "changed::recent-workspaces",
                               G_CALLBACK (update_recent_menu), self, G_CONNECT_SWAPPED);
    }
  flow_window_actions_update (self);
}
