/* main.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* flowsync-rendezvous: reads the keyfile and the flags, then runs
 * FlowRendezvousServer until SIGINT or SIGTERM. */

#define G_LOG_DOMAIN "flow-rendezvous"

#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include <glib-unix.h>

#include "flow-rendezvous-server.h"

static gboolean verbose;

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* One line per event: `time level=… domain=… event=… key=value …`. Under
 * systemd, stderr is the journal and we hand the fields over as they are. */
static GLogWriterOutput
log_writer_cb (GLogLevelFlags   log_level,
               const GLogField *fields,
               gsize            n_fields,
               gpointer         user_data)
{
  const char *message = NULL;
  const char *domain = NULL;
  const char *level;
  g_autoptr(GDateTime) now = NULL;
  g_autofree char *stamp = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
    }

  /* Per-connection events (info) and our debug output only with
   * --verbose; libsoup's frame-by-frame debug output never. */
  if ((log_level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) &&
      (!verbose || g_strcmp0 (domain, G_LOG_DOMAIN) != 0))
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald (fileno (stderr)))
    return g_log_writer_journald (log_level, fields, n_fields, user_data);

  if (log_level & G_LOG_LEVEL_ERROR)
    level = "error";
  else if (log_level & G_LOG_LEVEL_CRITICAL)
    level = "critical";
  else if (log_level & G_LOG_LEVEL_WARNING)
    level = "warning";
  else if (log_level & G_LOG_LEVEL_MESSAGE)
    level = "notice";
  else if (log_level & G_LOG_LEVEL_INFO)
    level = "info";
  else
    level = "debug";

  now = g_date_time_new_now_utc ();
  stamp = g_date_time_format_iso8601 (now);
  fprintf (stderr, "%s level=%s domain=%s %s\n", stamp, level, domain ? domain : "-",
           message ? message : "");
  return G_LOG_WRITER_HANDLED;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(FlowRendezvousConfig) config = flow_rendezvous_config_new ();
  g_autoptr(FlowRendezvousServer) server = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *config_path = NULL;
  g_autofree char *listen = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *token_file = NULL;
  g_autofree char *engine = NULL;
  gint port = -1, stun_port = -1;
  gint64 max_message_size = -1, max_peers = -1, max_rooms = -1, max_conns = -1;
  gint64 max_per_address = -1, max_send_queue = -1, threads = -1;
  double rate = -1, burst = -1, handshake = -1, heartbeat = -1;
  gboolean version = FALSE;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Read settings from FILE (group [rendezvous], keys named like the long options; "
      "default " FLOW_RENDEZVOUS_DEFAULT_CONFIG " if it exists). Options given here win.", "FILE" },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      "IP address to listen on: 0.0.0.0 or :: for all (default 127.0.0.1)", "ADDR" },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port for WebSocket and HTTP (default 8443)", "PORT" },
    { "stun-port", 0, 0, G_OPTION_ARG_INT, &stun_port,
      "UDP port of the STUN binding responder, 0 to turn it off (default 3478)", "PORT" },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert, "Serve TLS with this PEM certificate (chain)", "FILE" },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key, "PEM private key for --tls-cert", "FILE" },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      "Require this access token (first line of FILE) from clients", "FILE" },
    { "max-message-size", 0, 0, G_OPTION_ARG_INT64, &max_message_size, "Largest message in bytes (default 65536)", "BYTES" },
    { "rate", 0, 0, G_OPTION_ARG_DOUBLE, &rate, "Messages per second per connection (default 50)", "N" },
    { "burst", 0, 0, G_OPTION_ARG_DOUBLE, &burst, "Messages a connection may send at once (default 100)", "N" },
    { "max-peers-per-room", 0, 0, G_OPTION_ARG_INT64, &max_peers, "Peers per room (default 64)", "N" },
    { "max-rooms", 0, 0, G_OPTION_ARG_INT64, &max_rooms, "Rooms in all (default 100000)", "N" },
    { "max-connections", 0, 0, G_OPTION_ARG_INT64, &max_conns, "Connections in all (default 200000)", "N" },
    { "max-connections-per-address", 0, 0, G_OPTION_ARG_INT64, &max_per_address,
      "Connections per client IP address, 0 for no limit (default 64)", "N" },
    { "handshake-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &handshake, "Seconds a client has to join (default 10)", "SECONDS" },
    { "heartbeat-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &heartbeat,
      "Drop clients silent for this long (default 60)", "SECONDS" },
    { "max-send-queue", 0, 0, G_OPTION_ARG_INT64, &max_send_queue,
      "Disconnect clients with more than this many bytes waiting for them (default 1048576)", "BYTES" },
    { "threads", 0, 0, G_OPTION_ARG_INT64, &threads,
      "Worker threads, each with its own share of the connections (default: 1 per CPU with the "
      "epoll engine, 4 per CPU with soup, at most 32; TLS uses one)", "N" },
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine,
      "How connections are served: epoll (our own WebSocket layer on one epoll fd per worker; "
      "Linux, no TLS), soup (libsoup, also does TLS) or auto (default: epoll unless TLS)", "ENGINE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Log every join, leave and close", NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version and exit", NULL },
    { NULL }
  };

  g_log_set_writer_func (log_writer_cb, NULL, NULL);

  context = g_option_context_new ("- FlowSync rendezvous (signaling) and STUN server");
  g_option_context_set_summary (context,
    "Introduces FlowSync peers to each other: relays their sealed signaling and presence\n"
    "messages over WebSocket (/ws) and answers STUN binding requests over UDP.\n"
    "It stores nothing. HTTP endpoints: /healthz, /metrics (Prometheus), / (status).");
  g_option_context_set_description (context,
    "Examples:\n"
    "  flowsync-rendezvous --listen 0.0.0.0 --port 8443 --tls-cert cert.pem --tls-key key.pem\n"
    "  flowsync-rendezvous --config /etc/flowsync/rendezvous.conf\n\n"
    "Check a running server with: curl http://HOST:PORT/healthz\n"
    "Exit status: 0 on SIGINT/SIGTERM, 1 on a configuration or listen error.\n"
    "Protocol and settings: docs/rendezvous.md.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "flowsync-rendezvous: %s (see --help)\n", error->message);
      return 1;
    }
  if (version)
    {
      printf ("flowsync-rendezvous %s\n", PACKAGE_VERSION);
      return 0;
    }

  /* The file comes first, so that flags override it. */
  config->port = 8443;
  config->stun_port = 3478;
  config->stun_enabled = TRUE;
  config->threads = 0;  /* by engine, below */
  if (config_path == NULL && g_file_test (FLOW_RENDEZVOUS_DEFAULT_CONFIG, G_FILE_TEST_EXISTS))
    config_path = g_strdup (FLOW_RENDEZVOUS_DEFAULT_CONFIG);
  if (config_path != NULL && !flow_rendezvous_config_load_keyfile (config, config_path, &error))
    {
      fprintf (stderr, "flowsync-rendezvous: %s: %s\n", config_path, error->message);
      return 1;
    }

  if (listen) { g_free (config->listen); config->listen = g_steal_pointer (&listen); }
  if (tls_cert) { g_free (config->tls_cert); config->tls_cert = g_steal_pointer (&tls_cert); }
  if (tls_key) { g_free (config->tls_key); config->tls_key = g_steal_pointer (&tls_key); }
  if (token_file)
    {
      g_autofree char *contents = NULL;

      if (!g_file_get_contents (token_file, &contents, NULL, &error))
        {
          fprintf (stderr, "flowsync-rendezvous: %s\n", error->message);
          return 1;
        }
      g_free (config->token);
      config->token = g_strdup (g_strstrip (contents));
      if (config->token[0] == '\0')
        {
          fprintf (stderr, "flowsync-rendezvous: %s: the token file is empty\n", token_file);
          return 1;
        }
    }
  if (engine != NULL && !flow_rendezvous_engine_from_string (engine, &config->engine))
    {
      fprintf (stderr, "flowsync-rendezvous: --engine: expected auto, soup or epoll (see --help)\n");
      return 1;
    }
  if (port >= 0 && port <= 65535) config->port = port;
  if (stun_port >= 0 && stun_port <= 65535)
    {
      config->stun_port = stun_port;
      config->stun_enabled = stun_port != 0;
    }
  if (max_message_size > 0) config->max_message_size = MIN (max_message_size, 16 * 1024 * 1024);
  if (rate > 0) config->rate = rate;
  if (burst >= 1) config->burst = burst;
  if (max_peers >= 0) config->max_peers_per_room = MIN (max_peers, G_MAXUINT);
  if (max_rooms >= 0) config->max_rooms = MIN (max_rooms, G_MAXUINT);
  if (max_conns >= 0) config->max_connections = MIN (max_conns, G_MAXUINT);
  if (max_per_address >= 0) config->max_connections_per_address = MIN (max_per_address, G_MAXUINT);
  if (max_send_queue > 0) config->max_send_queue = max_send_queue;
  if (threads > 0) config->threads = MIN (threads, 256);
  if (config->threads == 0)
    {
      /* The soup engine's cost per message grows with the connections of a
       * context, so it spreads them thin; the epoll engine's does not, and
       * more threads than CPUs only add cross-thread hand-overs. */
      gboolean soup = config->engine == FLOW_RENDEZVOUS_ENGINE_SOUP ||
                      (config->engine == FLOW_RENDEZVOUS_ENGINE_AUTO &&
                       (config->tls_cert != NULL || config->tls_key != NULL));
#ifndef __linux__
      soup = TRUE;
#endif
      config->threads = MIN ((soup ? 4 : 1) * g_get_num_processors (), 32);
    }
  if (handshake > 0) config->handshake_timeout_ms = MIN (handshake, 86400) * 1000;
  if (heartbeat > 0) config->heartbeat_timeout_ms = MIN (heartbeat, 86400) * 1000;

  server = flow_rendezvous_server_new (config);
  if (!flow_rendezvous_server_start (server, &error))
    {
      fprintf (stderr, "flowsync-rendezvous: cannot start: %s\n", error->message);
      return 1;
    }

  /* Tests and scripts that pass --port 0 read the chosen port from here. */
  printf ("port=%u stun-port=%u\n", flow_rendezvous_server_get_port (server),
          flow_rendezvous_server_get_stun_port (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  flow_rendezvous_server_stop (server);
  return 0;
}
