/* flow-cli-peer.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * `flowsync-cli host` and `flowsync-cli join`: an always-on headless peer.
 *
 * Both run a FlowRoom on a workspace until SIGINT or SIGTERM, then say
 * goodbye to the linked peers, flush the workspace and exit 0. `host` owns
 * the room: it keeps the room key in the workspace (a setting, never
 * synced), prints the invite link on standard output, and unless told to
 * use another rendezvous server it runs one itself (the same code as
 * flowsync-rendezvous) for a LAN huddle. `join` takes such a link. Logs go
 * to standard error; standard output carries only the link (and, with
 * --manual, the offer/answer lines the user copies between terminals).
 */

#define G_LOG_DOMAIN "flowsync-cli"

#include "config.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "flow-cli-peer.h"
#include "flow-link-nice.h"
#include "flow-rendezvous-server.h"
#include "flow-room.h"
#include "flow-signaling-manual.h"
#include "flow-signaling-rendezvous.h"
#include "flow-sync-crypto.h"

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

#define ROOM_KEY_SETTING "room-key"

typedef struct
{
  /* options */
  char         *workspace;
  char         *listen;
  char         *rendezvous;
  char         *advertise;
  char         *token;
  char         *stun;
  char         *turn;
  char         *turn_user;
  char         *turn_password;
  char         *name;
  gboolean      relay_only;
  gboolean      loopback;
  gboolean      manual;
  gboolean      new_link;
  char         *expires;

  /* state */
  GMainLoop            *loop;
  FlowWorkspace        *ws;
  FlowRendezvousServer *server;
  FlowSignaling        *signaling;
  FlowRoom             *room;
  FlowIceConfig        *ice;
  GDataInputStream     *stdin_lines;
  GCancellable         *cancellable;
  FlowRoomState         logged_state;
  guint                 logged_n;
  char                 *logged_members;
  guint                 sigint;
  guint                 sigterm;
  gboolean              quitting;
  int                   status;
} Peer;

static void G_GNUC_PRINTF (1, 2)
fail (const char *format,
      ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "flowsync-cli: %s\n", msg);
}

static void
peer_clear (Peer *p)
{
  if (p->cancellable != NULL)
    g_cancellable_cancel (p->cancellable);
  g_clear_object (&p->room);
  g_clear_object (&p->signaling);
  if (p->server != NULL)
    flow_rendezvous_server_stop (p->server);
  g_clear_object (&p->server);
  g_clear_object (&p->stdin_lines);
  g_clear_object (&p->cancellable);
  g_clear_object (&p->ws);
  g_clear_pointer (&p->ice, flow_ice_config_free);
  g_clear_handle_id (&p->sigint, g_source_remove);
  g_clear_handle_id (&p->sigterm, g_source_remove);
  g_clear_pointer (&p->loop, g_main_loop_unref);
  g_free (p->logged_members);
  g_free (p->workspace);
  g_free (p->listen);
  g_free (p->rendezvous);
  g_free (p->advertise);
  g_free (p->token);
  g_free (p->stun);
  g_free (p->turn);
  g_free (p->turn_user);
  g_free (p->turn_password);
  g_free (p->expires);
  g_free (p->name);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Peer, peer_clear)

static gboolean
parse_options (Peer         *p,
               const char   *command,
               const char   *args,
               const char   *summary,
               gboolean      hosting,
               int          *argc,
               char       ***argv)
{
  const GOptionEntry common[] = {
    { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &p->workspace,
      "The workspace file (instead of the WORKSPACE argument)", "PATH" },
    { "rendezvous", 'r', 0, G_OPTION_ARG_STRING, &p->rendezvous,
      "Use the rendezvous server at URL (ws://HOST:PORT/ws or wss://…)", "URL" },
    { "token", 0, 0, G_OPTION_ARG_STRING, &p->token,
      "Access token of a private rendezvous server", "TOKEN" },
    { "stun", 0, 0, G_OPTION_ARG_STRING, &p->stun,
      "STUN server, to find our public address behind NAT", "HOST:PORT" },
    { "turn", 0, 0, G_OPTION_ARG_STRING, &p->turn,
      "TURN server (UDP), to relay when no direct path works", "HOST:PORT" },
    { "turn-user", 0, 0, G_OPTION_ARG_STRING, &p->turn_user, "TURN user name", "USER" },
    { "turn-password", 0, 0, G_OPTION_ARG_STRING, &p->turn_password, "TURN password", "PASSWORD" },
    { "relay-only", 0, 0, G_OPTION_ARG_NONE, &p->relay_only,
      "Only connect through the TURN server (hides our addresses from peers)", NULL },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &p->name,
      "The name the others see (default: the host name)", "NAME" },
    { "manual", 0, 0, G_OPTION_ARG_NONE, &p->manual,
      "No rendezvous server: print our offer lines and read the other peer's from standard input", NULL },
    { "loopback", 0, 0, G_OPTION_ARG_NONE, &p->loopback,
      "Offer only 127.0.0.1 to peers (tests on one machine)", NULL },
    { NULL }
  };
  const GOptionEntry host_only[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &p->listen,
      "Run the rendezvous server on ADDRESS:PORT (default 0.0.0.0:8443; port 0 picks a free one)",
      "ADDRESS:PORT" },
    { "advertise", 'a', 0, G_OPTION_ARG_STRING, &p->advertise,
      "The host name or address the invite link names (default: the listen address, or this "
      "machine's name)", "HOST" },
    { "new-link", 0, 0, G_OPTION_ARG_NONE, &p->new_link,
      "Make a new room key: earlier invite links stop working", NULL },
    { "expires", 0, 0, G_OPTION_ARG_STRING, &p->expires,
      "Print a link that FlowSync refuses after DURATION (30m, 12h, 7d, 2w); it is advice, "
      "not a lock: --new-link is", "DURATION" },
    { NULL }
  };
  g_autofree char *params = g_strdup_printf ("%s %s", command, args);
  g_autoptr(GOptionContext) context = g_option_context_new (params);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, summary);
  g_option_context_set_description (context,
    "Runs until interrupted (Ctrl+C, SIGTERM), keeping the workspace in sync with the\n"
    "other members of its room. Edits made while no peer is linked are kept and sync\n"
    "when one comes back. Logs go to standard error.");
  g_option_context_add_main_entries (context, common, NULL);
  if (hosting)
    g_option_context_add_main_entries (context, host_only, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fail ("%s. See “flowsync-cli %s --help”.", error->message, command);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_ice_config (Peer    *p,
                 GError **error)
{
  p->ice = flow_ice_config_new ();
  p->ice->loopback_only = p->loopback;
  p->ice->relay_only = p->relay_only;
  if (p->stun != NULL &&
      !flow_ice_config_parse_server (p->stun, &p->ice->stun_host, &p->ice->stun_port, error))
    return FALSE;
  if (p->turn != NULL &&
      !flow_ice_config_parse_server (p->turn, &p->ice->turn_host, &p->ice->turn_port, error))
    return FALSE;
  if (p->relay_only && p->turn == NULL)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--relay-only needs a TURN server (--turn)");
      return FALSE;
    }
  p->ice->turn_username = g_strdup (p->turn_user);
  p->ice->turn_password = g_strdup (p->turn_password);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Logging what happens in the room
 * ------------------------------------------------------------------------ */

static void
state_changed_cb (FlowRoom   *room,
                  GParamSpec *pspec,
                  Peer       *p)
{
  static const char * const names[] = { "offline", "connecting", "connected" };
  FlowRoomState state = flow_room_get_state (room);
  guint n = flow_room_get_n_connected (room);

  /* Both properties notify; log each (state, peers) pair once. */
  if (state == p->logged_state && n == p->logged_n)
    return;
  p->logged_state = state;
  p->logged_n = n;
  g_printerr ("flowsync-cli: room=%s state=%s peers=%u\n", flow_room_get_id (room),
              names[state], flow_room_get_n_connected (room));
}

static void
peers_changed_cb (FlowRoom *room,
                  Peer     *p)
{
  g_autoptr(GPtrArray) peers = flow_room_list_peers (room);
  g_autoptr(GString) list = g_string_new (NULL);

  for (guint i = 0; i < peers->len; i++)
    {
      FlowRoomPeer *peer = g_ptr_array_index (peers, i);

      if (list->len > 0)
        g_string_append (list, ", ");
      g_string_append_printf (list, "%s%s", peer->name != NULL && *peer->name ? peer->name : peer->id,
                              peer->connected ? "" : " (linking)");
    }
  /* peers-changed also fires for changes we do not print (presence). */
  if (g_strcmp0 (p->logged_members, list->str) == 0)
    return;
  g_free (p->logged_members);
  p->logged_members = g_strdup (list->str);
  g_printerr ("flowsync-cli: members: %s\n", list->len > 0 ? list->str : "none");
}

/* ------------------------------------------------------------------------
 * Manual signaling over standard input and output
 * ------------------------------------------------------------------------ */

static void read_line (Peer *p);

static void
outgoing_cb (FlowManualSignaling *signaling,
             const char          *text,
             Peer                *p)
{
  printf ("%s\n", text);
  fflush (stdout);
}

static void
line_read_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Peer *p = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
                                                                      result, NULL, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      if (error != NULL)
        fail ("Cannot read standard input: %s", error->message);
      return;   /* end of input: keep running with what we have */
    }
  g_strstrip (line);
  if (*line != '\0' &&
      !flow_manual_signaling_receive (FLOW_MANUAL_SIGNALING (p->signaling), line, &error))
    fail ("Ignoring that line: %s", error->message);
  read_line (p);
}

static void
read_line (Peer *p)
{
  g_data_input_stream_read_line_async (p->stdin_lines, G_PRIORITY_DEFAULT, p->cancellable,
                                       line_read_cb, p);
}

static void
start_manual (Peer *p)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (0, FALSE);

  g_signal_connect (p->signaling, "outgoing", G_CALLBACK (outgoing_cb), p);
  p->stdin_lines = g_data_input_stream_new (in);
  read_line (p);
}

/* ------------------------------------------------------------------------
 * Running
 * ------------------------------------------------------------------------ */

static gboolean
quit_cb (gpointer user_data)
{
  Peer *p = user_data;

  g_printerr ("flowsync-cli: leaving the room\n");
  p->quitting = TRUE;
  g_main_loop_quit (p->loop);
  return G_SOURCE_CONTINUE;
}

/* Installed first thing, so that a SIGTERM right after the link is printed
 * still ends in a clean exit (it is handled when the loop runs). */
static void
install_signals (Peer *p)
{
  p->sigint = g_unix_signal_add (SIGINT, quit_cb, p);
  p->sigterm = g_unix_signal_add (SIGTERM, quit_cb, p);
}

static gboolean
open_workspace (Peer        *p,
                const char  *path,
                gboolean     create,
                GError     **error)
{
  if (create && !g_file_test (path, G_FILE_TEST_EXISTS))
    p->ws = flow_workspace_create (path, error);
  else
    p->ws = flow_workspace_open (path, error);
  return p->ws != NULL;
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static int
run_room (Peer                 *p,
          const FlowSyncInvite *invite)
{
  g_autoptr(GError) error = NULL;
  gboolean done = FALSE;

  p->room = flow_room_new (p->ws, invite->key, p->signaling, flow_nice_link_factory, p->ice, NULL);
  flow_room_set_profile (p->room, p->name != NULL ? p->name : g_get_host_name (), 0x3584e4ff);
  g_signal_connect (p->room, "notify::state", G_CALLBACK (state_changed_cb), p);
  g_signal_connect (p->room, "notify::n-connected", G_CALLBACK (state_changed_cb), p);
  g_signal_connect (p->room, "peers-changed", G_CALLBACK (peers_changed_cb), p);
  if (p->manual)
    start_manual (p);
  if (!flow_room_start (p->room, &error))
    {
      fail ("Cannot open the room: %s", error->message);
      return EXIT_FAIL;
    }

  if (!p->quitting)
    g_main_loop_run (p->loop);
  g_clear_handle_id (&p->sigint, g_source_remove);
  g_clear_handle_id (&p->sigterm, g_source_remove);

  /* Goodbye to every peer, then give the links a moment to send it. */
  flow_room_stop (p->room);
  g_timeout_add (200, stop_timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  g_clear_object (&p->room);
  if (!flow_workspace_close (p->ws, &error))
    {
      fail ("Closing the workspace failed; recent changes may be lost: %s", error->message);
      return EXIT_FAIL;
    }
  return EXIT_OK;
}

static const char *
workspace_argument (Peer  *p,
                    int    argc,
                    char **argv,
                    int    index)
{
  if (p->workspace != NULL)
    return p->workspace;
  if (argc > index)
    return argv[index];
  return NULL;
}

/* Splits ADDRESS:PORT ("[::]:8443" for IPv6). */
/* "30m", "12h", "7d", "2w" or plain seconds; 0 if it is none of them or
 * beyond ten years. */
static gint64
parse_duration (const char *text)
{
  static const struct { char unit; gint64 seconds; } units[] = {
    { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 24 * 3600 }, { 'w', 7 * 24 * 3600 },
  };
  g_autofree char *number = g_strdup (text);
  gsize len = strlen (number);
  gint64 scale = 1;
  guint64 value = 0;

  if (len == 0)
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (units); i++)
    if (number[len - 1] == units[i].unit)
      {
        scale = units[i].seconds;
        number[len - 1] = '\0';
      }
  if (!g_ascii_string_to_unsigned (number, 10, 1, 10 * 366 * 24 * 3600 / scale, &value, NULL))
    return 0;
  return (gint64) value * scale;
}

static gboolean
parse_listen (const char  *text,
              char       **address,
              guint16     *port,
              GError     **error)
{
  const char *colon = strrchr (text, ':');
  guint64 value;

  if (colon == NULL || colon == text ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &value, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s” is not ADDRESS:PORT (for example 0.0.0.0:8443)", text);
      return FALSE;
    }
  if (text[0] == '[' && colon[-1] == ']')
    *address = g_strndup (text + 1, colon - text - 2);
  else
    *address = g_strndup (text, colon - text);
  *port = (guint16) value;
  return TRUE;
}

/* The host and port the invite link names: from --rendezvous, or our own
 * server. */
static gboolean
link_host_from_url (const char  *url,
                    char       **host,
                    guint16     *port,
                    GError     **error)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, error);

  if (uri == NULL)
    return FALSE;
  if (g_strcmp0 (g_uri_get_scheme (uri), "ws") != 0 && g_strcmp0 (g_uri_get_scheme (uri), "wss") != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "“%s” is not a ws:// or wss:// URL", url);
      return FALSE;
    }
  *host = g_strdup (g_uri_get_host (uri));
  *port = g_uri_get_port (uri) > 0 ? (guint16) g_uri_get_port (uri) : 0;
  return TRUE;
}

int
flow_cli_host (int    argc,
               char **argv)
{
  g_auto(Peer) p = { .status = EXIT_OK, .logged_state = (FlowRoomState) -1 };
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = NULL;
  g_autofree char *stored = NULL;
  g_autofree char *link = NULL;
  g_autofree char *url = NULL;
  g_autofree char *host = NULL;
  const char *path;
  guint16 port = 0;
  gint64 lifetime = 0;

  /* Standard output carries the link (and manual signaling) only. */
  g_log_writer_default_set_use_stderr (TRUE);
  p.loop = g_main_loop_new (NULL, FALSE);
  install_signals (&p);

  if (!parse_options (&p, "host", "WORKSPACE",
                      "Keep a workspace available to its room: print its invite link and sync "
                      "with everyone who joins", TRUE, &argc, &argv))
    return EXIT_USAGE;
  path = workspace_argument (&p, argc, argv, 1);
  if (path == NULL)
    {
      fail ("Which workspace? Give its file: flowsync-cli host WORKSPACE");
      return EXIT_USAGE;
    }
  if (p.expires != NULL && (lifetime = parse_duration (p.expires)) <= 0)
    {
      fail ("--expires wants a duration such as 30m, 12h, 7d or 2w, not “%s”", p.expires);
      return EXIT_USAGE;
    }
  if (!make_ice_config (&p, &error))
    {
      fail ("%s", error->message);
      return EXIT_USAGE;
    }
  p.cancellable = g_cancellable_new ();

  if (!open_workspace (&p, path, FALSE, &error))
    {
      fail ("Cannot open “%s”: %s", path, error->message);
      return EXIT_FAIL;
    }

  /* Where the others meet us. */
  if (p.manual)
    p.signaling = flow_manual_signaling_new ();
  else if (p.rendezvous != NULL)
    {
      g_autofree char *derived = NULL;

      if (!link_host_from_url (p.rendezvous, &host, &port, &error))
        {
          fail ("%s", error->message);
          return EXIT_USAGE;
        }
      /* The link carries only host and port; joiners derive the rest. */
      derived = flow_rendezvous_url_for_invite (host, port);
      if (g_strcmp0 (derived, p.rendezvous) != 0)
        g_printerr ("flowsync-cli: warning: joiners will try %s from the invite link; "
                    "tell them to pass --rendezvous %s\n", derived, p.rendezvous);
      p.signaling = flow_rendezvous_signaling_new (p.rendezvous, p.token);
    }
  else
    {
      g_autoptr(FlowRendezvousConfig) config = flow_rendezvous_config_new ();
      g_autofree char *address = NULL;
      guint16 listen_port = 0;

      if (!parse_listen (p.listen != NULL ? p.listen : "0.0.0.0:8443", &address, &listen_port, &error))
        {
          fail ("%s", error->message);
          return EXIT_USAGE;
        }
      g_free (config->listen);
      config->listen = g_strdup (address);
      config->port = listen_port;
      config->stun_enabled = FALSE;
      g_free (config->token);
      config->token = g_strdup (p.token);
      p.server = flow_rendezvous_server_new (config);
      if (!flow_rendezvous_server_start (p.server, &error))
        {
          fail ("Cannot run the rendezvous server on %s: %s",
                p.listen != NULL ? p.listen : "0.0.0.0:8443", error->message);
          return EXIT_FAIL;
        }
      port = (guint16) flow_rendezvous_server_get_port (p.server);
      if (p.advertise != NULL)
        host = g_strdup (p.advertise);
      else if (g_str_equal (address, "0.0.0.0") || g_str_equal (address, "::"))
        host = g_strdup (g_get_host_name ());
      else
        host = g_strdup (address);
      /* We reach our own server over loopback when it listens everywhere. */
      url = flow_rendezvous_url_for_host (g_str_equal (address, "0.0.0.0") ? "127.0.0.1"
                                          : g_str_equal (address, "::") ? "::1" : address,
                                          port, FALSE);
      p.signaling = flow_rendezvous_signaling_new (url, p.token);
      g_printerr ("flowsync-cli: rendezvous server listening on %s port %u\n", address, port);
    }

  /* The room key lives in the workspace, so the link survives restarts. */
  if (!p.new_link)
    stored = flow_store_dup_setting (flow_workspace_get_store (p.ws), ROOM_KEY_SETTING, &error);
  if (error != NULL)
    {
      fail ("%s", error->message);
      return EXIT_FAIL;
    }
  invite = flow_sync_invite_new (p.manual ? NULL : host, port, FLOW_SYNC_ROLE_EDIT);
  if (stored != NULL)
    {
      gsize len = 0;

      if (sodium_base642bin (invite->key, sizeof invite->key, stored, strlen (stored), NULL, &len,
                             NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
          len != FLOW_SYNC_KEY_BYTES)
        {
          fail ("The room key saved in this workspace is damaged; run with --new-link to make a new one");
          return EXIT_FAIL;
        }
      flow_sync_room_id_for_key (invite->key, invite->room);
    }
  else
    {
      char b64[sodium_base64_ENCODED_LEN (FLOW_SYNC_KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];

      sodium_bin2base64 (b64, sizeof b64, invite->key, FLOW_SYNC_KEY_BYTES,
                         sodium_base64_VARIANT_URLSAFE_NO_PADDING);
      if (!flow_store_set_setting (flow_workspace_get_store (p.ws), ROOM_KEY_SETTING, b64, &error))
        {
          fail ("Cannot save the room key: %s", error->message);
          return EXIT_FAIL;
        }
    }

  /* The joiner's window shows the workspace's name. */
  {
    g_autofree char *base = g_path_get_basename (path);
    char *dot = strrchr (base, '.');

    if (dot != NULL && dot != base)
      *dot = '\0';
    invite->name = g_steal_pointer (&base);
  }
  if (lifetime > 0)
    invite->expires = g_get_real_time () / G_USEC_PER_SEC + lifetime;

  link = flow_sync_invite_to_string (invite);
  printf ("%s\n", link);
  fflush (stdout);
  g_printerr ("flowsync-cli: hosting “%s” in room %s\n", path, invite->room);

  return run_room (&p, invite);
}

int
flow_cli_join (int    argc,
               char **argv)
{
  g_auto(Peer) p = { .status = EXIT_OK, .logged_state = (FlowRoomState) -1 };
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = NULL;
  g_autofree char *url = NULL;
  const char *path;

  g_log_writer_default_set_use_stderr (TRUE);
  p.loop = g_main_loop_new (NULL, FALSE);
  install_signals (&p);

  if (!parse_options (&p, "join", "LINK WORKSPACE",
                      "Join a room from its invite link and keep WORKSPACE (created if missing) "
                      "in sync with it", FALSE, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2)
    {
      fail ("Which room? Give its invite link: flowsync-cli join LINK WORKSPACE");
      return EXIT_USAGE;
    }
  path = workspace_argument (&p, argc, argv, 2);
  if (path == NULL)
    {
      fail ("Which workspace? Give a file to keep the room's documents in: flowsync-cli join LINK WORKSPACE");
      return EXIT_USAGE;
    }
  invite = flow_sync_invite_parse (argv[1], &error);
  if (invite == NULL ||
      !flow_sync_invite_check_expiry (invite, g_get_real_time () / G_USEC_PER_SEC, &error))
    {
      fail ("%s", error->message);
      return EXIT_USAGE;
    }
  if (!make_ice_config (&p, &error))
    {
      fail ("%s", error->message);
      return EXIT_USAGE;
    }

  if (p.manual)
    p.signaling = flow_manual_signaling_new ();
  else
    {
      url = p.rendezvous != NULL ? g_strdup (p.rendezvous)
                                 : flow_rendezvous_url_for_invite (invite->host, invite->port);
      if (url == NULL)
        {
          fail ("This link is for a LAN huddle and names no server: give the host's address with "
                "--rendezvous ws://HOST:PORT/ws, or use --manual");
          return EXIT_USAGE;
        }
      p.signaling = flow_rendezvous_signaling_new (url, p.token);
    }

  p.cancellable = g_cancellable_new ();
  if (!open_workspace (&p, path, TRUE, &error))
    {
      fail ("Cannot open “%s”: %s", path, error->message);
      return EXIT_FAIL;
    }
  g_printerr ("flowsync-cli: joining room %s%s%s\n", invite->room,
              url != NULL ? " through " : "", url != NULL ? url : "");
  return run_room (&p, invite);
}
