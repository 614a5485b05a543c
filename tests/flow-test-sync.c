/* flow-test-sync.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* For tests in which the test itself is a peer of a room on 127.0.0.1. */

#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "flow-catalog.h"
#include "flow-link-nice.h"
#include "flow-signaling-rendezvous.h"
#include "flow-test-sync.h"
#include "flow-test-util.h"

/* Joins the room of @link (a rendezvous on 127.0.0.1) with @ws over
 * libnice links that gather on loopback only. */
FlowRoom *
flow_test_join_loopback (FlowWorkspace *ws,
                         const char    *link,
                         const char    *name,
                         guint32        color)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = flow_sync_invite_parse (link, &error);
  g_autoptr(FlowSignaling) signaling = NULL;
  g_autofree char *url = NULL;
  FlowIceConfig *ice = flow_ice_config_new ();
  FlowRoom *room;

  g_assert_no_error (error);
  g_assert_cmpstr (invite->host, ==, "127.0.0.1");
  ice->loopback_only = TRUE;
  url = flow_rendezvous_url_for_host (invite->host, invite->port, FALSE);
  signaling = flow_rendezvous_signaling_new (url, NULL);
  room = flow_room_new (ws, invite->key, signaling, flow_nice_link_factory,
                        ice, (GDestroyNotify) flow_ice_config_free);
  flow_room_set_profile (room, name, color);
  g_assert_true (flow_room_start (room, &error));
  g_assert_no_error (error);
  return room;
}

/* The document titled @title, loaded; %NULL if the catalog has none. */
FlowDoc *
flow_test_find_doc (FlowWorkspace *ws,
                    const char    *title)
{
  FlowOpId id;

  if (!flow_catalog_find (flow_workspace_get_catalog (ws), title, &id, NULL))
    return NULL;
  return flow_workspace_load_document (ws, &id, NULL);
}

/* Whether the page titled @title exists and contains @needle. */
gboolean
flow_test_page_has (FlowWorkspace *ws,
                    const char    *title,
                    const char    *needle)
{
  FlowDoc *doc = flow_test_find_doc (ws, title);
  g_autofree char *text = doc != NULL ? flow_doc_dup_text (doc) : NULL;

  return text != NULL && strstr (text, needle) != NULL;
}

/* ------------------------------------------------------------------------
 * A TURN server (coturn) on 127.0.0.1, for relayed links and for cutting
 * them: paused, it drops every relayed packet like a dead network.
 * ------------------------------------------------------------------------ */

struct _FlowTestTurn
{
  GSubprocess *server;
  char        *dir;
  guint16      port;
};

static char *
find_turnserver (void)
{
  char *path = g_find_program_in_path ("turnserver");

  if (path == NULL && g_file_test ("/usr/sbin/turnserver", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/sbin/turnserver");
  if (path == NULL && g_file_test ("/usr/bin/turnserver", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/bin/turnserver");
  return path;
}

static guint16
free_udp_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Sends STUN Binding requests (RFC 5389) until the server answers one,
 * for at most 30 s. */
static gboolean
turn_wait_ready (FlowTestTurn *turn)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) server = g_inet_socket_address_new (loopback, turn->port);
  g_autoptr(GError) error = NULL;
  guint8 request[20] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
                         'f', 'l', 'o', 'w', 's', 'y', 'n', 'c', 't', 'e', 's', 't' };

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
                         G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);

  for (guint attempt = 0; attempt < 300; attempt++)
    {
      guint8 response[512];
      gssize n;

      g_socket_send_to (socket, server, (const char *) request, sizeof request, NULL, NULL);
      if (!g_socket_condition_timed_wait (socket, G_IO_IN, 100 * 1000, NULL, NULL))
        continue;
      n = g_socket_receive (socket, (char *) response, sizeof response, NULL, NULL);
      if (n >= 20 && response[0] == 0x01 && response[1] == 0x01 &&
          memcmp (response + 8, request + 8, 12) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A GSubprocessLauncher child setup: if the test aborts, the kernel ends
 * the child (a server, an instance of the app) for it. */
void
flow_test_die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/**
 * flow_test_run_cli:
 * @out: (out) (optional): standard output; discarded if %NULL
 * @err: (out) (optional): standard error; into the test log if %NULL
 * @first: the first argument of `flowsync-cli` (FLOWSYNC_CLI), then more,
 *   ending with %NULL
 *
 * Runs `flowsync-cli ARGS…` to its end.
 *
 * Returns: its exit status
 */
int
flow_test_run_cli (char       **out,
                   char       **err,
                   const char  *first,
                   ...)
{
  const char *cli = g_getenv ("FLOWSYNC_CLI");
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;
  va_list args;

  g_assert_nonnull (cli);
  g_ptr_array_add (argv, (gpointer) cli);
  va_start (args, first);
  for (const char *a = first; a != NULL; a = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) a);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            (out != NULL ? G_SUBPROCESS_FLAGS_STDOUT_PIPE : G_SUBPROCESS_FLAGS_STDOUT_SILENCE) |
                            G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err != NULL ? err : &log, &error));
  g_assert_no_error (error);
  if (log != NULL && *log != '\0')
    g_test_message ("flowsync-cli %s: %s", first, log);
  g_assert_true (g_subprocess_get_if_exited (proc));
  return g_subprocess_get_exit_status (proc);
}

/**
 * flow_test_turn_start:
 *
 * Starts coturn on 127.0.0.1 with a free port, the user "flow" with the
 * password "secret" (FLOW_TEST_TURN_USER/PASSWORD), relay ports of its own
 * and loopback peers allowed, and waits until it answers.
 *
 * Returns: (transfer full) (nullable): the server, or %NULL when coturn
 *   is not installed (the caller skips)
 */
FlowTestTurn *
flow_test_turn_start (void)
{
  g_autofree char *program = find_turnserver ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  FlowTestTurn *turn;
  guint min_port;

  if (program == NULL)
    return NULL;

  turn = g_new0 (FlowTestTurn, 1);
  turn->dir = g_dir_make_tmp ("flowsync-turn-XXXXXX", &error);
  g_assert_no_error (error);
  turn->port = free_udp_port ();
  /* Relay ports in a range of their own, away from the listener. */
  min_port = 40000 + (getpid () % 200) * 100;

  g_ptr_array_add (argv, g_strdup (program));
  g_ptr_array_add (argv, g_strdup ("-n"));
  g_ptr_array_add (argv, g_strdup ("--listening-ip=127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("--relay-ip=127.0.0.1"));
  g_ptr_array_add (argv, g_strdup_printf ("--listening-port=%u", turn->port));
  g_ptr_array_add (argv, g_strdup_printf ("--min-port=%u", min_port));
  g_ptr_array_add (argv, g_strdup_printf ("--max-port=%u", min_port + 99));
  g_ptr_array_add (argv, g_strdup ("--lt-cred-mech"));
  g_ptr_array_add (argv, g_strdup_printf ("--user=%s:%s", FLOW_TEST_TURN_USER, FLOW_TEST_TURN_PASSWORD));
  g_ptr_array_add (argv, g_strdup ("--realm=flowsync.test"));
  g_ptr_array_add (argv, g_strdup ("--no-tls"));
  g_ptr_array_add (argv, g_strdup ("--no-dtls"));
  g_ptr_array_add (argv, g_strdup ("--no-tcp"));
  g_ptr_array_add (argv, g_strdup ("--no-cli"));
  /* Both relayed candidates live on 127.0.0.1: the server relays between
   * loopback addresses only when told. */
  g_ptr_array_add (argv, g_strdup ("--allow-loopback-peers"));
  g_ptr_array_add (argv, g_strdup ("--no-stdout-log"));
  g_ptr_array_add (argv, g_strdup ("--simple-log"));
  g_ptr_array_add (argv, g_strdup_printf ("--log-file=%s/turn.log", turn->dir));
  g_ptr_array_add (argv, g_strdup_printf ("--pidfile=%s/turn.pid", turn->dir));
  g_ptr_array_add (argv, g_strdup_printf ("--userdb=%s/turndb", turn->dir));
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, flow_test_die_with_parent, NULL, NULL);
  turn->server = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata,
                                               &error);
  g_assert_no_error (error);

  if (!turn_wait_ready (turn))
    g_test_fail_printf ("turnserver on 127.0.0.1:%u did not answer", turn->port);
  return turn;
}

guint16
flow_test_turn_get_port (FlowTestTurn *turn)
{
  return turn->port;
}

/* Stops (SIGSTOP) or resumes (SIGCONT) the server: while it is stopped,
 * relayed links carry nothing and new allocations get no answer. */
void
flow_test_turn_pause (FlowTestTurn *turn,
                      gboolean      paused)
{
  g_subprocess_send_signal (turn->server, paused ? SIGSTOP : SIGCONT);
}

/* Stops the server, and puts its log into the test's when it failed. */
void
flow_test_turn_free (FlowTestTurn *turn)
{
  if (turn == NULL)
    return;
  g_subprocess_force_exit (turn->server);
  g_subprocess_wait (turn->server, NULL, NULL);
  g_clear_object (&turn->server);
  if (g_test_failed ())
    {
      g_autofree char *log_path = g_build_filename (turn->dir, "turn.log", NULL);
      g_autofree char *log = NULL;

      if (g_file_get_contents (log_path, &log, NULL, NULL))
        g_test_message ("turnserver log:\n%s", log);
    }
  flow_test_remove_tree (turn->dir);
  g_free (turn->dir);
  g_free (turn);
}
