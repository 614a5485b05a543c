/* flow-rendezvous-config.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "flow-rendezvous"

#include "config.h"

#include "flow-rendezvous-config.h"

/**
 * flow_rendezvous_config_new:
 *
 * Returns: (transfer full): a configuration with the documented defaults
 *   (docs/rendezvous.md), listening on 127.0.0.1 with a free port.
 */
FlowRendezvousConfig *
flow_rendezvous_config_new (void)
{
  FlowRendezvousConfig *config = g_new0 (FlowRendezvousConfig, 1);

  config->listen = g_strdup ("127.0.0.1");
  config->port = 0;
  config->stun_port = 0;
  config->stun_enabled = FALSE;
  config->max_message_size = 64 * 1024;
  config->rate = 50;
  config->burst = 100;
  config->max_peers_per_room = 64;
  config->max_rooms = 100000;
  config->max_connections = 200000;
  config->max_connections_per_address = 64;
  config->handshake_timeout_ms = 10 * 1000;
  config->heartbeat_timeout_ms = 60 * 1000;
  config->max_send_queue = 1024 * 1024;
  config->threads = 1;
  config->engine = FLOW_RENDEZVOUS_ENGINE_AUTO;
  return config;
}

FlowRendezvousConfig *
flow_rendezvous_config_copy (const FlowRendezvousConfig *config)
{
  FlowRendezvousConfig *copy = g_memdup2 (config, sizeof *config);

  copy->listen = g_strdup (config->listen);
  copy->tls_cert = g_strdup (config->tls_cert);
  copy->tls_key = g_strdup (config->tls_key);
  copy->token = g_strdup (config->token);
  return copy;
}

void
flow_rendezvous_config_free (FlowRendezvousConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->listen);
  g_free (config->tls_cert);
  g_free (config->tls_key);
  g_free (config->token);
  g_free (config);
}

/**
 * flow_rendezvous_engine_from_string:
 * @name: `auto`, `soup` or `epoll`
 * @out: (out): the engine
 *
 * Returns: %TRUE if @name is an engine.
 */
gboolean
flow_rendezvous_engine_from_string (const char           *name,
                                    FlowRendezvousEngine *out)
{
  static const char * const names[] = { "auto", "soup", "epoll" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (name, names[i]) == 0)
      {
        *out = (FlowRendezvousEngine) i;
        return TRUE;
      }
  return FALSE;
}

const char *
flow_rendezvous_engine_to_string (FlowRendezvousEngine engine)
{
  switch (engine)
    {
    case FLOW_RENDEZVOUS_ENGINE_SOUP:
      return "soup";
    case FLOW_RENDEZVOUS_ENGINE_EPOLL:
      return "epoll";
    case FLOW_RENDEZVOUS_ENGINE_AUTO:
    default:
      return "auto";
    }
}

static gboolean
read_uint (GKeyFile   *kf,
           const char *key,
           guint64     max,
           guint64    *out,
           GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  guint64 value;

  if (!g_key_file_has_key (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, NULL))
    return TRUE;
  value = g_key_file_get_uint64 (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, &local_error);
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: ", key);
      return FALSE;
    }
  if (value > max)
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: %" G_GUINT64_FORMAT " is larger than %" G_GUINT64_FORMAT,
                   key, value, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
read_seconds (GKeyFile   *kf,
              const char *key,
              guint      *out_ms,
              GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  double value;

  if (!g_key_file_has_key (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, NULL))
    return TRUE;
  value = g_key_file_get_double (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, &local_error);
  if (local_error != NULL || !(value > 0 && value <= 86400))
    {
      g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                   "%s: expected seconds between 0 and 86400", key);
      return FALSE;
    }
  *out_ms = (guint) (value * 1000);
  return TRUE;
}

static void
read_string (GKeyFile   *kf,
             const char *key,
             char      **out)
{
  char *value = g_key_file_get_string (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, NULL);

  if (value != NULL)
    {
      g_free (*out);
      *out = value;
    }
}

/**
 * flow_rendezvous_config_load_keyfile:
 * @config: the configuration to update
 * @path: a keyfile with a `[rendezvous]` group
 * @error: return location for a #GError
 *
 * Sets every key present in @path; keys that are absent keep their values.
 *
 * Returns: %TRUE on success.
 */
gboolean
flow_rendezvous_config_load_keyfile (FlowRendezvousConfig  *config,
                                     const char            *path,
                                     GError               **error)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autofree char *token_file = NULL;
  guint64 v;
  double d;

  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!g_key_file_load_from_file (kf, path, G_KEY_FILE_NONE, error))
    return FALSE;

  read_string (kf, "listen", &config->listen);
  read_string (kf, "tls-cert", &config->tls_cert);
  read_string (kf, "tls-key", &config->tls_key);
  read_string (kf, "token", &config->token);
  read_string (kf, "token-file", &token_file);
  {
    g_autofree char *engine = g_key_file_get_string (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, "engine", NULL);

    if (engine != NULL && !flow_rendezvous_engine_from_string (g_strstrip (engine), &config->engine))
      {
        g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                     "engine: expected auto, soup or epoll");
        return FALSE;
      }
  }
  if (token_file != NULL)
    {
      g_autofree char *contents = NULL;

      if (!g_file_get_contents (token_file, &contents, NULL, error))
        return FALSE;
      g_free (config->token);
      config->token = g_strdup (g_strstrip (contents));
    }

#define UINT_KEY(key, field, max) \
  G_STMT_START { \
    v = config->field; \
    if (!read_uint (kf, key, max, &v, error)) \
      return FALSE; \
    config->field = v; \
  } G_STMT_END

  UINT_KEY ("port", port, 65535);
  UINT_KEY ("max-message-size", max_message_size, 16 * 1024 * 1024);
  UINT_KEY ("max-peers-per-room", max_peers_per_room, G_MAXUINT);
  UINT_KEY ("max-rooms", max_rooms, G_MAXUINT);
  UINT_KEY ("max-connections", max_connections, G_MAXUINT);
  UINT_KEY ("max-connections-per-address", max_connections_per_address, G_MAXUINT);
  UINT_KEY ("max-send-queue", max_send_queue, G_MAXUINT);
  UINT_KEY ("threads", threads, 256);
#undef UINT_KEY

  if (g_key_file_has_key (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, "stun-port", NULL))
    {
      v = 0;
      if (!read_uint (kf, "stun-port", 65535, &v, error))
        return FALSE;
      config->stun_port = v;
      config->stun_enabled = v != 0;
    }

  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "rate" : "burst";
      double *field = i == 0 ? &config->rate : &config->burst;
      g_autoptr(GError) local_error = NULL;

      if (!g_key_file_has_key (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, NULL))
        continue;
      d = g_key_file_get_double (kf, FLOW_RENDEZVOUS_CONFIG_GROUP, key, &local_error);
      if (local_error != NULL || !(d >= 1 && d <= 1e6))
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       "%s: expected a number between 1 and 1000000", key);
          return FALSE;
        }
      *field = d;
    }

  if (!read_seconds (kf, "handshake-timeout", &config->handshake_timeout_ms, error) ||
      !read_seconds (kf, "heartbeat-timeout", &config->heartbeat_timeout_ms, error))
    return FALSE;

  return TRUE;
}
