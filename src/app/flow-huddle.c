/* flow-huddle.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A huddle is a window's workspace in a FlowRoom: hosted (we hold the room
 * key and hand out the invite link) or joined from a link. It does what
 * `flowsync-cli host` and `join` do (src/cli/flow-cli-peer.c), the app's
 * way: the room key is the workspace setting "room-key" (base64url), so a
 * link keeps working across restarts; documents are loaded off the UI
 * thread before the room starts, so the room's own (synchronous) loading
 * finds them in memory; every failure is a GError or the "problem" text,
 * never a hang.
 *
 * Our presence is one PRESENCE frame: the document we look at, plus our
 * pointer on a board (HAS_VIEWPORT) or our selection in a page
 * (HAS_SELECTION). Pointer motion comes at the display's event rate, so
 * updates are coalesced: the first goes out at once, later ones at most
 * every PRESENCE_INTERVAL_MS, and the last state always goes out.
 *
 * FLOWSYNC_LOOPBACK=1 in the environment is for tests on one machine: ICE
 * gathers on 127.0.0.1 only, asks no STUN server and a TURN server only
 * on this machine, and "this network" runs the embedded rendezvous server
 * on 127.0.0.1 with a free port, so no traffic leaves the machine.
 */

#define G_LOG_DOMAIN "flow-huddle"

#include "config.h"

#include <glib/gi18n.h>
#include <ifaddrs.h>
#include <math.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

#include "flow-catalog.h"
#include "flow-chat.h"
#include "flow-huddle.h"
#include "flow-link-nice.h"
#include "flow-rendezvous-server.h"
#include "flow-signaling-rendezvous.h"

#define ROOM_KEY_SETTING "room-key"

/* At most ~20 presence updates a second: smooth enough for a pointer,
 * little enough for a room of fifteen. */
#define PRESENCE_INTERVAL_MS 50

struct _FlowHuddle
{
  GObject               parent_instance;

  FlowWorkspace        *workspace;
  GSettings            *settings;     /* nullable */

  FlowRoom             *room;
  FlowSignaling        *signaling;
  FlowRendezvousServer *server;
  GPtrArray            *docs;         /* loaded before the room starts */
  GTask                *starting;     /* the host/join call in flight */
  FlowSyncInvite       *invite;
  char                 *title;        /* the workspace's, for links */
  gboolean              personal;     /* the user's default workspace */
  char                 *link;
  char                 *problem;
  FlowHuddleVia         via;
  gboolean              hosting;
  gboolean              fresh_key;    /* hosting with a new room key */
  gboolean              alone;        /* joined a room nobody is in */
  guint                 pending_loads;

  /* Our presence (kept across restarts of the room) */
  gboolean              has_doc;
  FlowOpId              doc;
  gboolean              has_viewport;
  double                x, y, zoom;
  char                 *tool;
  gboolean              has_selection;
  guint                 anchor, cursor;
  guint                 presence_timer;
  gboolean              presence_dirty;

  /* Who looks at which document, to tell "participants-changed" (rare)
   * from "presence-changed" (every pointer move). */
  char                 *whereabouts;
};

G_DEFINE_FINAL_TYPE (FlowHuddle, flow_huddle, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STATE,
  PROP_N_CONNECTED,
  PROP_LINK,
  PROP_ACTIVE,
  PROP_PROBLEM,
  PROP_HAS_UNSHARED,
  N_PROPS
};

enum {
  PARTICIPANTS_CHANGED,
  PRESENCE_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/**
 * flow_huddle_loopback:
 *
 * Whether FLOWSYNC_LOOPBACK=1 asks for a huddle that stays on 127.0.0.1
 * (tests).
 */
gboolean
flow_huddle_loopback (void)
{
  return g_strcmp0 (g_getenv ("FLOWSYNC_LOOPBACK"), "1") == 0;
}

/**
 * flow_huddle_path_for_link:
 * @link: an invite link
 * @error: the link's problem, for the user
 *
 * Where the app keeps the workspace of the room @link names:
 * `$XDG_DATA_HOME/flowsync/ROOM.flowsync`.
 *
 * Returns: (transfer full) (nullable): the path, or %NULL if @link is
 *   invalid or expired
 */
char *
flow_huddle_path_for_link (const char  *link,
                           GError     **error)
{
  g_autoptr(FlowSyncInvite) invite = flow_sync_invite_parse (link, error);
  g_autofree char *base = NULL;

  if (invite == NULL ||
      !flow_sync_invite_check_expiry (invite, g_get_real_time () / G_USEC_PER_SEC, error))
    return NULL;
  base = g_strdup_printf ("%s.flowsync", invite->room);
  return g_build_filename (g_get_user_data_dir (), "flowsync", base, NULL);
}

FlowHuddle *
flow_huddle_new (FlowWorkspace *workspace,
                 GSettings     *settings)
{
  FlowHuddle *self;

  g_return_val_if_fail (FLOW_IS_WORKSPACE (workspace), NULL);

  self = g_object_new (FLOW_TYPE_HUDDLE, NULL);
  self->workspace = g_object_ref (workspace);
  self->settings = settings != NULL ? g_object_ref (settings) : NULL;
  return self;
}

static void
set_problem (FlowHuddle *self,
             const char *problem)
{
  if (g_strcmp0 (self->problem, problem) == 0)
    return;
  g_free (self->problem);
  self->problem = g_strdup (problem);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROBLEM]);
}

static void
set_link (FlowHuddle *self,
          const char *link)
{
  if (g_strcmp0 (self->link, link) == 0)
    return;
  g_free (self->link);
  self->link = g_strdup (link);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LINK]);
}

static void
notify_state (FlowHuddle *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CONNECTED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

static void
notify_has_unshared (FlowHuddle *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_UNSHARED]);
}

/* ------------------------------------------------------------------------
 * Stopping
 * ------------------------------------------------------------------------ */

/**
 * flow_huddle_stop:
 * @self: a huddle
 *
 * Leaves the room (the linked peers get a goodbye) and stops the embedded
 * server. A start in flight fails with %G_IO_ERROR_CANCELLED. Safe to call
 * when nothing runs.
 */
void
flow_huddle_stop (FlowHuddle *self)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  if (self->starting != NULL)
    {
      g_autoptr(GTask) task = g_steal_pointer (&self->starting);

      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The huddle was stopped"));
    }
  if (self->room != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->room, self);
      flow_room_stop (self->room);
      g_clear_object (&self->room);
    }
  if (self->signaling != NULL)
    g_signal_handlers_disconnect_by_data (self->signaling, self);
  g_clear_object (&self->signaling);
  if (self->server != NULL)
    flow_rendezvous_server_stop (self->server);
  g_clear_object (&self->server);
  g_clear_pointer (&self->invite, flow_sync_invite_free);
  g_ptr_array_set_size (self->docs, 0);
  self->hosting = FALSE;
  self->fresh_key = FALSE;
  self->alone = FALSE;
  self->pending_loads = 0;
  g_clear_pointer (&self->whereabouts, g_free);
  set_link (self, NULL);
  set_problem (self, NULL);
  notify_state (self);
  notify_has_unshared (self);
  g_signal_emit (self, signals[PARTICIPANTS_CHANGED], 0);
  g_signal_emit (self, signals[PRESENCE_CHANGED], 0, NULL);
}

/* ------------------------------------------------------------------------
 * Running the room
 * ------------------------------------------------------------------------ */

static void
room_state_cb (FlowRoom   *room,
               GParamSpec *pspec,
               FlowHuddle *self)
{
  notify_state (self);
}

/* "id=doc;" for every peer, so a presence change that moves nobody to
 * another document is told apart from one that does. */
static char *
dup_whereabouts (FlowHuddle *self)
{
  g_autoptr(GPtrArray) peers = flow_room_list_peers (self->room);
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < peers->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (peers, i);

      g_string_append_printf (text, "%s=", peer->id);
      if (peer->has_presence && (peer->presence.presence.flags & FLOW_SYNC_PRESENCE_HAS_DOC) != 0)
        {
          g_autofree char *doc = flow_op_id_to_string (&peer->presence.presence.doc);

          g_string_append (text, doc);
        }
      g_string_append_c (text, ';');
    }
  return g_string_free (text, FALSE);
}

static void
room_peers_cb (FlowRoom   *room,
               FlowHuddle *self)
{
  g_free (self->whereabouts);
  self->whereabouts = dup_whereabouts (self);
  g_signal_emit (self, signals[PARTICIPANTS_CHANGED], 0);
  g_signal_emit (self, signals[PRESENCE_CHANGED], 0, NULL);
}

static void
room_presence_cb (FlowRoom   *room,
                  const char *peer,
                  FlowHuddle *self)
{
  g_autofree char *whereabouts = dup_whereabouts (self);

  if (g_strcmp0 (whereabouts, self->whereabouts) != 0)
    {
      g_free (self->whereabouts);
      self->whereabouts = g_steal_pointer (&whereabouts);
      g_signal_emit (self, signals[PARTICIPANTS_CHANGED], 0);
    }
  g_signal_emit (self, signals[PRESENCE_CHANGED], 0, peer);
}

/* Whoever shared the huddle reset its link: this room is where old links
 * lead now, so we leave it too, and say why. */
static void
room_closed_cb (FlowRoom   *room,
                const char *peer,
                const char *name,
                FlowHuddle *self)
{
  g_autofree char *problem = NULL;

  if (self->hosting)
    return;
  if (name != NULL && *name != '\0')
    /* translators: %s is a participant's name */
    problem = g_strdup_printf (_("%s reset the invite link and this huddle ended; ask them for the new link"),
                               name);
  else
    problem = g_strdup (_("The invite link was reset and this huddle ended; ask for the new link"));
  flow_huddle_stop (self);
  set_problem (self, problem);
}

static void
room_unshared_cb (FlowRoom   *room,
                  GParamSpec *pspec,
                  FlowHuddle *self)
{
  notify_has_unshared (self);
}

static void
signaling_failed_cb (FlowSignaling *signaling,
                     const char    *message,
                     FlowHuddle    *self)
{
  g_autofree char *text = NULL;

  /* translators: %s is the reason, e.g. "Connection refused" */
  text = g_strdup_printf (_("Cannot reach the rendezvous server: %s. Retrying…"), message);
  set_problem (self, text);
}

static void
signaling_joined_cb (FlowSignaling *signaling,
                     GStrv          peers,
                     FlowHuddle    *self)
{
  /* Someone who follows a link into an empty room would otherwise wait
   * without a word: whoever shared it may be offline, or may have reset
   * the link (a new room key makes a new room, and old links lead to an
   * empty one). The room keeps waiting; the first arrival clears this. */
  self->alone = !self->hosting && (peers == NULL || peers[0] == NULL) &&
                (self->room == NULL || flow_room_get_n_connected (self->room) == 0);
  set_problem (self, self->alone ? _("Nobody is in this huddle right now. Whoever shared the link may be "
                                     "offline, or may have reset the link; FlowSync keeps waiting.")
                                 : NULL);
}

static void
signaling_peer_joined_cb (FlowSignaling *signaling,
                          const char    *peer,
                          FlowHuddle    *self)
{
  if (!self->alone)
    return;
  self->alone = FALSE;
  set_problem (self, NULL);
}

static char *
dup_setting (FlowHuddle *self,
             const char *key)
{
  return self->settings != NULL ? g_settings_get_string (self->settings, key) : g_strdup ("");
}

/* Whether @host names this machine: under FLOWSYNC_LOOPBACK only such
 * servers are asked (a test's own TURN server on 127.0.0.1). */
static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  if (address == NULL)
    return g_ascii_strcasecmp (host, "localhost") == 0;
  return g_inet_address_get_is_loopback (address);
}

/* The preferences' STUN and TURN servers; empty keys mean none. */
static FlowIceConfig *
make_ice_config (FlowHuddle  *self,
                 GError     **error)
{
  g_autoptr(FlowIceConfig) ice = flow_ice_config_new ();
  g_autofree char *stun = dup_setting (self, "stun-server");
  g_autofree char *turn = dup_setting (self, "turn-server");

  ice->loopback_only = flow_huddle_loopback ();
  ice->relay_only = self->settings != NULL && g_settings_get_boolean (self->settings, "relay-only");
  if (*stun != '\0' && !ice->loopback_only &&
      !flow_ice_config_parse_server (stun, &ice->stun_host, &ice->stun_port, error))
    {
      g_prefix_error (error, _("The STUN server in Preferences is not valid: "));
      return NULL;
    }
  if (*turn != '\0')
    {
      if (!flow_ice_config_parse_server (turn, &ice->turn_host, &ice->turn_port, error))
        {
          g_prefix_error (error, _("The TURN server in Preferences is not valid: "));
          return NULL;
        }
      if (ice->loopback_only && !is_loopback_host (ice->turn_host))
        g_clear_pointer (&ice->turn_host, g_free);   /* tests: never ask a server outside */
      else
        {
          ice->turn_username = dup_setting (self, "turn-username");
          ice->turn_password = dup_setting (self, "turn-password");
        }
    }
  if (ice->relay_only && ice->turn_host == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Hiding your network address needs a TURN server; set one in Preferences"));
      return NULL;
    }
  return g_steal_pointer (&ice);
}

static void
profile (FlowHuddle *self,
         char      **name,
         guint32    *color)
{
  g_autofree char *display = dup_setting (self, "display-name");
  g_autofree char *rgb = self->settings != NULL ? g_settings_get_string (self->settings, "user-color")
                                                : NULL;
  guint64 value;

  if (*display != '\0')
    *name = g_steal_pointer (&display);
  else if (g_strcmp0 (g_get_real_name (), "Unknown") != 0 && *g_get_real_name () != '\0')
    *name = g_strdup (g_get_real_name ());
  else
    *name = g_strdup (g_get_user_name ());
  *color = 0x3584e4ff;
  if (rgb != NULL && rgb[0] == '#' && strlen (rgb) == 7 &&
      g_ascii_string_to_unsigned (rgb + 1, 16, 0, 0xffffff, &value, NULL))
    *color = ((guint32) value << 8) | 0xff;
}

/* What links call the workspace: its title, except that everyone's
 * default workspace is "My Workspace", so that one goes by its owner. */
static char *
dup_link_name (FlowHuddle *self)
{
  g_autofree char *name = NULL;
  guint32 color;

  if (!self->personal)
    return g_strdup (self->title);
  profile (self, &name, &color);
  /* translators: the name of someone's own workspace in invite links */
  return g_strdup_printf (_("%s’s Workspace"), name);
}

/**
 * flow_huddle_set_workspace_title:
 * @self: a huddle
 * @title: (nullable): the workspace's title
 * @personal: whether it is the user's default workspace
 *
 * Names the workspace in the links this huddle makes from now on, so a
 * joiner's window has a title: @title, or "NAME’s Workspace" for a
 * @personal one.
 */
void
flow_huddle_set_workspace_title (FlowHuddle *self,
                                 const char *title,
                                 gboolean    personal)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  g_free (self->title);
  self->title = g_strdup (title);
  self->personal = personal;
}

static void
send_presence (FlowHuddle *self)
{
  FlowSyncFrame frame = { 0 };
  g_autoptr(GError) error = NULL;

  if (self->room == NULL)
    return;
  if (!self->has_doc)
    {
      flow_room_clear_presence (self->room);
      return;
    }
  frame.type = FLOW_SYNC_FRAME_PRESENCE;
  frame.presence.flags = FLOW_SYNC_PRESENCE_HAS_DOC;
  frame.presence.doc = self->doc;
  frame.presence.zoom = 1.0;
  if (self->has_viewport)
    {
      frame.presence.flags |= FLOW_SYNC_PRESENCE_HAS_VIEWPORT;
      frame.presence.x = self->x;
      frame.presence.y = self->y;
      frame.presence.zoom = self->zoom;
      frame.presence.tool = self->tool;   /* copied by the room */
    }
  if (self->has_selection)
    {
      frame.presence.flags |= FLOW_SYNC_PRESENCE_HAS_SELECTION;
      frame.presence.anchor = self->anchor;
      frame.presence.cursor = self->cursor;
    }
  if (!flow_room_set_presence (self->room, &frame, &error))
    g_debug ("Presence not sent: %s", error->message);
}

static gboolean
presence_timer_cb (gpointer user_data)
{
  FlowHuddle *self = user_data;

  if (!self->presence_dirty)
    {
      self->presence_timer = 0;
      return G_SOURCE_REMOVE;
    }
  self->presence_dirty = FALSE;
  send_presence (self);
  return G_SOURCE_CONTINUE;
}

/* Sends now if nothing went out in the last interval, else once it ends:
 * at most one frame per interval, and the latest state always goes. */
static void
queue_presence (FlowHuddle *self)
{
  if (self->presence_timer != 0)
    {
      self->presence_dirty = TRUE;
      return;
    }
  send_presence (self);
  self->presence_timer = g_timeout_add (PRESENCE_INTERVAL_MS, presence_timer_cb, self);
}

/* Every document is in memory: the room can start without touching the
 * disk on this thread. */
static void
start_room (FlowHuddle *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->starting);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowIceConfig) ice = NULL;
  g_autofree char *name = NULL;
  guint32 color;

  ice = make_ice_config (self, &error);
  if (ice == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      flow_huddle_stop (self);
      return;
    }
  self->room = flow_room_new (self->workspace, self->invite->key, self->signaling, flow_nice_link_factory,
                              g_steal_pointer (&ice), (GDestroyNotify) flow_ice_config_free);
  profile (self, &name, &color);
  flow_room_set_profile (self->room, name, color);
  g_signal_connect (self->room, "notify::state", G_CALLBACK (room_state_cb), self);
  g_signal_connect (self->room, "notify::n-connected", G_CALLBACK (room_state_cb), self);
  g_signal_connect (self->room, "peers-changed", G_CALLBACK (room_peers_cb), self);
  g_signal_connect (self->room, "presence-changed", G_CALLBACK (room_presence_cb), self);
  g_signal_connect (self->room, "notify::has-unshared", G_CALLBACK (room_unshared_cb), self);
  g_signal_connect (self->room, "closed", G_CALLBACK (room_closed_cb), self);
  if (!flow_room_start (self->room, &error))
    {
      g_prefix_error (&error, _("Cannot start the huddle: "));
      g_task_return_error (task, g_steal_pointer (&error));
      flow_huddle_stop (self);
      return;
    }
  send_presence (self);
  {
    g_autofree char *link = flow_sync_invite_to_string (self->invite);

    set_link (self, link);
  }
  notify_state (self);
  g_task_return_boolean (task, TRUE);
}

static void
doc_loaded_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FlowHuddle *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) doc = flow_workspace_load_document_finish (FLOW_WORKSPACE (source), result, &error);

  /* Stopped (or restarted) meanwhile: this start is over. */
  if (self->starting != task)
    return;
  if (doc != NULL)
    g_ptr_array_add (self->docs, g_steal_pointer (&doc));
  else
    g_warning ("A shared document cannot be loaded: %s", error->message);
  if (--self->pending_loads == 0)
    start_room (self);
}

static void
load_then_start (FlowHuddle *self)
{
  g_autoptr(GArray) entries = flow_catalog_list (flow_workspace_get_catalog (self->workspace), TRUE);

  notify_state (self);
  /* Every document and the chat, so that the room finds them in memory
   * and never reads the file on this thread. */
  self->pending_loads = entries->len + 1;
  flow_workspace_load_document_async (self->workspace, &FLOW_CHAT_DOC_ID, NULL, doc_loaded_cb,
                                      g_object_ref (self->starting));
  for (guint i = 0; i < entries->len; i++)
    {
      FlowCatalogEntry *e = &g_array_index (entries, FlowCatalogEntry, i);

      flow_workspace_load_document_async (self->workspace, &e->id, NULL, doc_loaded_cb,
                                          g_object_ref (self->starting));
    }
  for (guint i = 0; i < entries->len; i++)
    flow_catalog_entry_clear (&g_array_index (entries, FlowCatalogEntry, i));
}

static void
use_signaling (FlowHuddle    *self,
               FlowSignaling *signaling)
{
  self->signaling = signaling;
  g_signal_connect (signaling, "failed", G_CALLBACK (signaling_failed_cb), self);
  g_signal_connect (signaling, "joined", G_CALLBACK (signaling_joined_cb), self);
  g_signal_connect (signaling, "peer-joined", G_CALLBACK (signaling_peer_joined_cb), self);
}

static GTask *
begin (FlowHuddle          *self,
       GCancellable        *cancellable,
       GAsyncReadyCallback  callback,
       gpointer             user_data,
       gpointer             tag)
{
  GTask *task;

  flow_huddle_stop (self);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tag);
  self->starting = g_object_ref (task);
  return task;
}

/* ------------------------------------------------------------------------
 * Hosting
 * ------------------------------------------------------------------------ */

static void
key_saved_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(FlowHuddle) self = user_data;
  g_autoptr(GError) error = NULL;

  /* Not fatal: the huddle runs; only the next session gets another link. */
  if (!flow_store_set_setting_finish (FLOW_STORE (source), result, &error))
    set_problem (self, error->message);
}

/* Remembers @invite's key as the workspace's room key, in the background. */
static void
save_room_key (FlowHuddle           *self,
               const FlowSyncInvite *invite)
{
  char b64[sodium_base64_ENCODED_LEN (FLOW_SYNC_KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

  sodium_bin2base64 (b64, sizeof b64, invite->key, FLOW_SYNC_KEY_BYTES,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  flow_store_set_setting_async (flow_workspace_get_store (self->workspace), ROOM_KEY_SETTING, b64,
                                NULL, key_saved_cb, g_object_ref (self));
}

static void
fail_start (FlowHuddle *self,
            GError     *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->starting);

  flow_huddle_stop (self);
  set_problem (self, error->message);
  g_task_return_error (task, error);
}

/* The room key saved in the workspace, or (none yet, or damaged) the fresh
 * key of the invite, saved now; read without blocking the UI thread. */
static void
room_key_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  FlowHuddle *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *stored = flow_store_dup_setting_finish (FLOW_STORE (source), result, &error);
  gsize len = 0;

  if (self->starting != task)
    return;   /* stopped or restarted meanwhile */
  if (error != NULL)
    {
      fail_start (self, g_steal_pointer (&error));
      return;
    }
  if (!self->fresh_key && stored != NULL &&
      sodium_base642bin (self->invite->key, sizeof self->invite->key, stored, strlen (stored),
                         NULL, &len, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
      len == FLOW_SYNC_KEY_BYTES)
    flow_sync_room_id_for_key (self->invite->key, self->invite->room);
  else
    save_room_key (self, self->invite);
  load_then_start (self);
}

/* A LAN address of this machine for the link: the first IPv4 address of an
 * interface that is up, not loopback, preferring private ranges. */
static char *
lan_address (void)
{
  struct ifaddrs *list = NULL;
  char *best = NULL;
  gboolean best_private = FALSE;

  if (getifaddrs (&list) != 0)
    return g_strdup (g_get_host_name ());
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      char text[INET_ADDRSTRLEN];
      guint32 a;
      gboolean private;

      if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET ||
          (ifa->ifa_flags & IFF_UP) == 0 || (ifa->ifa_flags & IFF_LOOPBACK) != 0)
        continue;
      a = ntohl (((struct sockaddr_in *) ifa->ifa_addr)->sin_addr.s_addr);
      private = (a >> 24) == 10 || (a >> 20) == 0xac1 || (a >> 16) == 0xc0a8;
      if (best != NULL && (best_private || !private))
        continue;
      inet_ntop (AF_INET, &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, text, sizeof text);
      g_free (best);
      best = g_strdup (text);
      best_private = private;
    }
  freeifaddrs (list);
  return best != NULL ? best : g_strdup (g_get_host_name ());
}

static gboolean
start_embedded_server (FlowHuddle  *self,
                       char       **host,
                       guint16     *port,
                       GError     **error)
{
  gboolean loopback = flow_huddle_loopback ();
  g_autoptr(FlowRendezvousConfig) config = flow_rendezvous_config_new ();
  g_autofree char *url = NULL;

  g_free (config->listen);
  config->listen = g_strdup (loopback ? "127.0.0.1" : "0.0.0.0");
  config->stun_enabled = FALSE;
  /* The well-known port first, so a link survives a restart of the app;
   * a free one when something else holds it. Tests take a free one. */
  config->port = loopback ? 0 : FLOW_RENDEZVOUS_DEFAULT_PORT;
  self->server = flow_rendezvous_server_new (config);
  if (!flow_rendezvous_server_start (self->server, NULL))
    {
      g_clear_object (&self->server);
      config->port = 0;
      self->server = flow_rendezvous_server_new (config);
      if (!flow_rendezvous_server_start (self->server, error))
        {
          g_prefix_error (error, _("Cannot run a rendezvous server on this network: "));
          g_clear_object (&self->server);
          return FALSE;
        }
    }
  *port = (guint16) flow_rendezvous_server_get_port (self->server);
  *host = loopback ? g_strdup ("127.0.0.1") : lan_address ();
  url = flow_rendezvous_url_for_host ("127.0.0.1", *port, FALSE);
  use_signaling (self, flow_rendezvous_signaling_new (url, NULL));
  return TRUE;
}

static gboolean
use_configured_server (FlowHuddle  *self,
                       char       **host,
                       guint16     *port,
                       GError     **error)
{
  g_autofree char *url = dup_setting (self, "rendezvous-url");
  g_autoptr(GUri) uri = NULL;

  if (*url == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No rendezvous server is set in Preferences; share on this network instead"));
      return FALSE;
    }
  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_host (uri) == NULL ||
      (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   /* translators: %s is what the user typed in Preferences */
                   _("The rendezvous server “%s” in Preferences is not a ws:// or wss:// address"), url);
      return FALSE;
    }
  /* The link carries only host and port; joiners derive the rest. */
  *host = g_strdup (g_uri_get_host (uri));
  *port = g_uri_get_port (uri) > 0 ? (guint16) g_uri_get_port (uri) : 0;
  use_signaling (self, flow_rendezvous_signaling_new (url, NULL));
  return TRUE;
}

/**
 * flow_huddle_host_async:
 * @self: a huddle
 * @via: where the huddle is introduced
 * @cancellable: (nullable): ignored beyond the task's usual meaning
 * @callback: called once the room runs, or failed to start
 * @user_data: for @callback
 *
 * Stops whatever runs, then hosts the workspace: the invite link (the
 * "link" property) is ready when @callback runs with success.
 */
static void
host_async (FlowHuddle          *self,
            FlowHuddleVia        via,
            gboolean             fresh_key,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = NULL;
  guint16 port = 0;
  gboolean ok;

  task = begin (self, cancellable, callback, user_data, flow_huddle_host_async);
  self->via = via;
  self->hosting = TRUE;
  self->fresh_key = fresh_key;
  if (via == FLOW_HUDDLE_VIA_NETWORK)
    ok = start_embedded_server (self, &host, &port, &error);
  else
    ok = use_configured_server (self, &host, &port, &error);
  if (!ok)
    {
      fail_start (self, g_steal_pointer (&error));
      return;
    }
  self->invite = flow_sync_invite_new (host, port, FLOW_SYNC_ROLE_EDIT);
  self->invite->name = dup_link_name (self);
  flow_store_dup_setting_async (flow_workspace_get_store (self->workspace), ROOM_KEY_SETTING,
                                NULL, room_key_read_cb, g_object_ref (self->starting));
}

void
flow_huddle_host_async (FlowHuddle          *self,
                        FlowHuddleVia        via,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  host_async (self, via, FALSE, cancellable, callback, user_data);
}

/**
 * flow_huddle_reset_link_async:
 * @self: a huddle that hosts
 * @cancellable: (nullable): as usual
 * @callback: called once the huddle runs again, with the new link
 * @user_data: for @callback
 *
 * Hosts again, the same way, under a new room key (saved in the
 * workspace): every earlier link now leads to an empty room, and whoever
 * is in the huddle is asked to leave (FlowRoom::closed) and must join again
 * with the new link. Fails unless the huddle hosts. Finish with
 * flow_huddle_host_finish().
 */
void
flow_huddle_reset_link_async (FlowHuddle          *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  if (!self->hosting)
    {
      g_task_report_new_error (self, callback, user_data, flow_huddle_host_async,
                               G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only a huddle you share has a link to reset"));
      return;
    }
  /* Those linked now leave the old room with us, so that nobody waits
   * there for whoever still follows an old link. */
  if (self->room != NULL)
    flow_room_close (self->room);
  host_async (self, self->via, TRUE, cancellable, callback, user_data);
}

gboolean
flow_huddle_host_finish (FlowHuddle    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------
 * Joining
 * ------------------------------------------------------------------------ */

/**
 * flow_huddle_join_async:
 * @self: a huddle
 * @link: an invite link
 * @cancellable: (nullable): as usual
 * @callback: called once the room runs, or with a clear error
 * @user_data: for @callback
 *
 * Stops whatever runs, then joins the room of @link with this workspace.
 * The room key is kept in the workspace, so sharing it later invites to
 * the same room.
 */
void
flow_huddle_join_async (FlowHuddle          *self,
                        const char          *link,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;

  g_return_if_fail (FLOW_IS_HUDDLE (self));
  g_return_if_fail (link != NULL);

  task = begin (self, cancellable, callback, user_data, flow_huddle_join_async);
  self->invite = flow_sync_invite_parse (link, &error);
  if (self->invite != NULL &&
      flow_sync_invite_check_expiry (self->invite, g_get_real_time () / G_USEC_PER_SEC, &error))
    {
      url = flow_rendezvous_url_for_invite (self->invite->host, self->invite->port);
      if (url == NULL)
        g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                             _("This link names no rendezvous server; ask for a link that does"));
    }
  if (error != NULL)
    {
      fail_start (self, g_steal_pointer (&error));
      return;
    }
  /* Sharing this workspace later invites to the same room. */
  save_room_key (self, self->invite);
  use_signaling (self, flow_rendezvous_signaling_new (url, NULL));
  load_then_start (self);
}

gboolean
flow_huddle_join_finish (FlowHuddle    *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------
 * State
 * ------------------------------------------------------------------------ */

/**
 * flow_huddle_is_active:
 * @self: a huddle
 *
 * Returns: whether a room runs or is starting
 */
gboolean
flow_huddle_is_active (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), FALSE);

  return self->room != NULL || self->starting != NULL;
}

gboolean
flow_huddle_is_hosting (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), FALSE);

  return flow_huddle_is_active (self) && self->hosting;
}

FlowHuddleVia
flow_huddle_get_via (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), FLOW_HUDDLE_VIA_NETWORK);

  return self->via;
}

/**
 * flow_huddle_get_state:
 * @self: a huddle
 *
 * Returns: the room's state; %FLOW_ROOM_CONNECTING while documents load,
 *   %FLOW_ROOM_OFFLINE when no huddle runs
 */
FlowRoomState
flow_huddle_get_state (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), FLOW_ROOM_OFFLINE);

  if (self->room != NULL)
    return flow_room_get_state (self->room);
  return self->starting != NULL ? FLOW_ROOM_CONNECTING : FLOW_ROOM_OFFLINE;
}

guint
flow_huddle_get_n_connected (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), 0);

  return self->room != NULL ? flow_room_get_n_connected (self->room) : 0;
}

/**
 * flow_huddle_get_link:
 * @self: a huddle
 *
 * Returns: (nullable): the invite link of the running room
 */
const char *
flow_huddle_get_link (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), NULL);

  return self->link;
}

/**
 * flow_huddle_get_problem:
 * @self: a huddle
 *
 * Returns: (nullable): why the huddle does not work right now, for the user
 */
const char *
flow_huddle_get_problem (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), NULL);

  return self->problem;
}

/**
 * flow_huddle_get_room:
 * @self: a huddle
 *
 * Returns: (transfer none) (nullable): the running room
 */
FlowRoom *
flow_huddle_get_room (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), NULL);

  return self->room;
}

/**
 * flow_huddle_list_participants:
 * @self: a huddle
 *
 * Returns: (transfer container) (element-type FlowRoomPeer): the other
 *   members, possibly none
 */
GPtrArray *
flow_huddle_list_participants (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), NULL);

  if (self->room == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) flow_room_peer_free);
  return flow_room_list_peers (self->room);
}

/**
 * flow_huddle_set_document:
 * @self: a huddle
 * @doc: (nullable): the document the user looks at
 *
 * Tells the others which document we look at (kept across restarts of the
 * room).
 */
void
flow_huddle_set_document (FlowHuddle     *self,
                          const FlowOpId *doc)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  /* Pointer and selection belonged to the previous document. */
  if (doc == NULL || !self->has_doc || !flow_op_id_equal (doc, &self->doc))
    {
      self->has_viewport = FALSE;
      self->has_selection = FALSE;
    }
  self->has_doc = doc != NULL;
  if (doc != NULL)
    self->doc = *doc;
  queue_presence (self);
}

/**
 * flow_huddle_set_pointer:
 * @self: a huddle
 * @x: our pointer on the current board, in board coordinates
 * @y: our pointer on the current board, in board coordinates
 * @zoom: our zoom (widget pixels per board unit)
 * @tool: (nullable): the tool's name, e.g. "laser"
 *
 * Tells the others where we point on the board set with
 * flow_huddle_set_document() (a board view's "pointer-moved"). Updates are
 * coalesced to at most one every 50 ms.
 */
void
flow_huddle_set_pointer (FlowHuddle *self,
                         double      x,
                         double      y,
                         double      zoom,
                         const char *tool)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  /* The room refuses what peers could not draw: drop it here. */
  if (!isfinite (x) || !isfinite (y) || !isfinite (zoom) || zoom <= 0)
    return;
  if (tool != NULL && (strlen (tool) > FLOW_SYNC_TOOL_MAX || !g_utf8_validate (tool, -1, NULL)))
    tool = NULL;
  self->has_viewport = TRUE;
  self->has_selection = FALSE;
  self->x = x;
  self->y = y;
  self->zoom = zoom;
  if (g_strcmp0 (self->tool, tool) != 0)
    {
      g_free (self->tool);
      self->tool = g_strdup (tool);
    }
  queue_presence (self);
}

/**
 * flow_huddle_set_selection:
 * @self: a huddle
 * @anchor: the fixed end of our selection in the current page, in code points
 * @cursor: our caret, in code points
 *
 * Tells the others our caret and selection in the page set with
 * flow_huddle_set_document() (a page view's "selection-moved"); coalesced
 * like flow_huddle_set_pointer().
 */
void
flow_huddle_set_selection (FlowHuddle *self,
                           guint       anchor,
                           guint       cursor)
{
  g_return_if_fail (FLOW_IS_HUDDLE (self));

  self->has_selection = TRUE;
  self->has_viewport = FALSE;
  self->anchor = anchor;
  self->cursor = cursor;
  queue_presence (self);
}

/**
 * flow_huddle_get_has_unshared:
 * @self: a huddle
 *
 * Returns: whether edits made while no peer was linked have not reached
 *   anyone yet (FlowRoom:has-unshared); %FALSE when no huddle runs
 */
gboolean
flow_huddle_get_has_unshared (FlowHuddle *self)
{
  g_return_val_if_fail (FLOW_IS_HUDDLE (self), FALSE);

  return self->room != NULL && flow_room_get_has_unshared (self->room);
}

/**
 * flow_huddle_presence_for_doc:
 * @participants: (element-type FlowRoomPeer): from
 *   flow_huddle_list_participants()
 * @doc: a document
 *
 * What the widgets showing @doc draw of the others: the participants whose
 * presence says they look at @doc, with their name, colour, pointer or
 * selection.
 *
 * Returns: (transfer container) (element-type FlowRemotePresence): a list
 *   for flow_board_view_set_remote_presence() or
 *   flow_page_view_set_remote_presence(), possibly empty
 */
GPtrArray *
flow_huddle_presence_for_doc (GPtrArray      *participants,
                              const FlowOpId *doc)
{
  GPtrArray *list = flow_remote_presence_list_new ();

  g_return_val_if_fail (participants != NULL, list);
  g_return_val_if_fail (doc != NULL, list);

  for (guint i = 0; i < participants->len; i++)
    {
      const FlowRoomPeer *peer = g_ptr_array_index (participants, i);
      const FlowSyncFrame *frame = &peer->presence;
      FlowRemotePresence *rp;

      if (!peer->has_presence || (frame->presence.flags & FLOW_SYNC_PRESENCE_HAS_DOC) == 0 ||
          !flow_op_id_equal (&frame->presence.doc, doc))
        continue;
      rp = flow_remote_presence_new (peer->id,
                                     peer->name != NULL && *peer->name != '\0' ? peer->name : _("Someone"),
                                     /* No colour said yet: the accent blue, never invisible. */
                                     (peer->color & 0xff) != 0 ? peer->color : 0x3584e4ff);
      if ((frame->presence.flags & FLOW_SYNC_PRESENCE_HAS_VIEWPORT) != 0)
        {
          rp->has_viewport = TRUE;
          rp->x = frame->presence.x;
          rp->y = frame->presence.y;
          rp->zoom = frame->presence.zoom;
          if (frame->presence.tool != NULL && *frame->presence.tool != '\0')
            rp->tool = g_strdup (frame->presence.tool);
        }
      if ((frame->presence.flags & FLOW_SYNC_PRESENCE_HAS_SELECTION) != 0)
        {
          rp->has_selection = TRUE;
          rp->anchor = (guint) MIN (frame->presence.anchor, G_MAXUINT);
          rp->cursor = (guint) MIN (frame->presence.cursor, G_MAXUINT);
        }
      g_ptr_array_add (list, rp);
    }
  return list;
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

static void
flow_huddle_dispose (GObject *object)
{
  FlowHuddle *self = FLOW_HUDDLE (object);

  if (self->docs != NULL)
    flow_huddle_stop (self);
  g_clear_handle_id (&self->presence_timer, g_source_remove);
  g_clear_object (&self->workspace);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (flow_huddle_parent_class)->dispose (object);
}

static void
flow_huddle_finalize (GObject *object)
{
  FlowHuddle *self = FLOW_HUDDLE (object);

  g_clear_pointer (&self->docs, g_ptr_array_unref);
  g_free (self->link);
  g_free (self->title);
  g_free (self->problem);
  g_free (self->tool);
  g_free (self->whereabouts);

  G_OBJECT_CLASS (flow_huddle_parent_class)->finalize (object);
}

static void
flow_huddle_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  FlowHuddle *self = FLOW_HUDDLE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, flow_huddle_get_state (self));
      break;
    case PROP_N_CONNECTED:
      g_value_set_uint (value, flow_huddle_get_n_connected (self));
      break;
    case PROP_LINK:
      g_value_set_string (value, self->link);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, flow_huddle_is_active (self));
      break;
    case PROP_PROBLEM:
      g_value_set_string (value, self->problem);
      break;
    case PROP_HAS_UNSHARED:
      g_value_set_boolean (value, flow_huddle_get_has_unshared (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
flow_huddle_class_init (FlowHuddleClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_huddle_dispose;
  object_class->finalize = flow_huddle_finalize;
  object_class->get_property = flow_huddle_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, FLOW_TYPE_ROOM_STATE, FLOW_ROOM_OFFLINE,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_CONNECTED] =
    g_param_spec_uint ("n-connected", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LINK] =
    g_param_spec_string ("link", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROBLEM] =
    g_param_spec_string ("problem", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /**
   * FlowHuddle:has-unshared:
   *
   * FlowRoom:has-unshared of the running room: local edits that no peer
   * has received yet.
   */
  properties[PROP_HAS_UNSHARED] =
    g_param_spec_boolean ("has-unshared", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * FlowHuddle::participants-changed:
   *
   * Someone joined or left, linked, renamed, or looks at another document:
   * call flow_huddle_list_participants() again.
   */
  signals[PARTICIPANTS_CHANGED] =
    g_signal_new ("participants-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  /**
   * FlowHuddle::presence-changed:
   * @peer: (nullable): the participant whose presence changed, %NULL for
   *   any
   *
   * A pointer, selection or document of the others changed: redraw with
   * flow_huddle_presence_for_doc().
   */
  signals[PRESENCE_CHANGED] =
    g_signal_new ("presence-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
flow_huddle_init (FlowHuddle *self)
{
  self->docs = g_ptr_array_new_with_free_func (g_object_unref);
  self->via = FLOW_HUDDLE_VIA_NETWORK;
}
