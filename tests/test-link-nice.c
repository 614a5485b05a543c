/* test-link-nice.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* FlowNiceLink for real: two libnice agents in this process on 127.0.0.1,
 * and a relayed pair through a coturn server the test starts on 127.0.0.1
 * (skipped when coturn is not installed). Every wait is bounded by
 * WAIT_SECONDS and fails the test instead of hanging. */

#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "flow-link-nice.h"
#include "flow-test-sync.h"
#include "flow-test-util.h"

#define WAIT_SECONDS 20
#define N_SMALL_CHUNKS 10000
#define SMALL_CHUNK_LEN 44
#define CHUNKS_PER_SEND 10
#define BLOB_LEN (4 * 1024 * 1024)

/* ------------------------------------------------------------------------
 * Bounded waiting
 * ------------------------------------------------------------------------ */

typedef gboolean (*Condition) (gpointer data);

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the default main context until @cond holds. Returns %FALSE (and
 * fails the test) after WAIT_SECONDS. */
static gboolean
wait_for (Condition   cond,
          gpointer    data,
          const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (WAIT_SECONDS, set_flag_cb, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (timed_out)
    {
      g_test_fail_printf ("timed out after %d s waiting for %s", WAIT_SECONDS, what);
      return FALSE;
    }
  g_source_remove (id);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * One side of a link and what it saw
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowLink   *link;
  GByteArray *received;
  char       *closed_reason;
  guint       n_description_ready;
  guint       n_opened;
  guint       n_closed;
  gboolean    received_before_opened;
  gboolean    signal_after_closed;
} Side;

static void
description_ready_cb (FlowLink *link,
                      Side     *side)
{
  side->n_description_ready++;
  side->signal_after_closed |= side->n_closed > 0;
}

static void
opened_cb (FlowLink *link,
           Side     *side)
{
  g_assert_cmpint (flow_link_get_state (link), ==, FLOW_LINK_OPEN);
  side->n_opened++;
  side->signal_after_closed |= side->n_closed > 0;
}

static void
received_cb (FlowLink *link,
             GBytes   *data,
             Side     *side)
{
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  side->received_before_opened |= side->n_opened == 0;
  side->signal_after_closed |= side->n_closed > 0;
  g_byte_array_append (side->received, bytes, len);
}

static void
closed_cb (FlowLink   *link,
           const char *reason,
           Side       *side)
{
  g_assert_cmpint (flow_link_get_state (link), ==, FLOW_LINK_CLOSED);
  g_assert_nonnull (reason);
  side->n_closed++;
  g_free (side->closed_reason);
  side->closed_reason = g_strdup (reason);
}

static void
side_init (Side                *side,
           const FlowIceConfig *config,
           gboolean             controlling)
{
  memset (side, 0, sizeof *side);
  side->received = g_byte_array_new ();
  side->link = flow_nice_link_new (config, controlling);
  g_object_add_weak_pointer (G_OBJECT (side->link), (gpointer *) &side->link);
  g_signal_connect (side->link, "description-ready", G_CALLBACK (description_ready_cb), side);
  g_signal_connect (side->link, "opened", G_CALLBACK (opened_cb), side);
  g_signal_connect (side->link, "received", G_CALLBACK (received_cb), side);
  g_signal_connect (side->link, "closed", G_CALLBACK (closed_cb), side);
}

static gboolean
link_gone (gpointer data)
{
  return ((Side *) data)->link == NULL;
}

/* Closes and drops the link, then waits until it is finalized: that is
 * after its agent is released (flow-link-nice.c keeps the link alive until
 * then), so nothing of libnice outlives the test. */
static void
side_clear (Side *side)
{
  if (side->link != NULL)
    {
      g_signal_handlers_disconnect_by_data (side->link, side);
      flow_link_close (side->link, "test over");
      g_object_unref (side->link);
      wait_for (link_gone, side, "the link to be finalized");
    }
  g_clear_pointer (&side->received, g_byte_array_unref);
  g_clear_pointer (&side->closed_reason, g_free);
}

static gboolean
description_ready (gpointer data)
{
  return ((Side *) data)->n_description_ready > 0;
}

static gboolean
is_closed (gpointer data)
{
  return ((Side *) data)->n_closed > 0;
}

typedef struct
{
  Side a;
  Side b;
} Pair;

static gboolean
both_described (gpointer data)
{
  Pair *pair = data;

  /* A link that fails while gathering never gets a description. */
  return (description_ready (&pair->a) || is_closed (&pair->a)) &&
         (description_ready (&pair->b) || is_closed (&pair->b));
}

static gboolean
either_closed (gpointer data)
{
  Pair *pair = data;

  return pair->a.n_closed > 0 || pair->b.n_closed > 0;
}

/* Or one has failed: no need to wait any longer. */
static gboolean
both_opened (gpointer data)
{
  Pair *pair = data;

  return (pair->a.n_opened > 0 && pair->b.n_opened > 0) || either_closed (pair);
}

static gboolean
both_closed (gpointer data)
{
  Pair *pair = data;

  return pair->a.n_closed > 0 && pair->b.n_closed > 0;
}

static FlowIceConfig *
loopback_config (void)
{
  FlowIceConfig *config = flow_ice_config_new ();

  config->loopback_only = TRUE;
  return config;
}

/* Creates both sides (a controlling) and exchanges their descriptions. */
static gboolean
pair_exchange (Pair                *pair,
               const FlowIceConfig *config_a,
               const FlowIceConfig *config_b)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *desc_a = NULL;
  g_autofree char *desc_b = NULL;

  side_init (&pair->a, config_a, TRUE);
  side_init (&pair->b, config_b, FALSE);
  if (!wait_for (both_described, pair, "both descriptions"))
    return FALSE;
  g_assert_cmpstr (pair->a.closed_reason, ==, NULL);
  g_assert_cmpstr (pair->b.closed_reason, ==, NULL);

  desc_a = flow_link_dup_local_description (pair->a.link);
  desc_b = flow_link_dup_local_description (pair->b.link);
  g_assert_nonnull (desc_a);
  g_assert_nonnull (desc_b);

  g_assert_true (flow_link_set_remote_description (pair->a.link, desc_b, &error));
  g_assert_no_error (error);
  g_assert_true (flow_link_set_remote_description (pair->b.link, desc_a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (flow_link_get_state (pair->a.link), ==, FLOW_LINK_CONNECTING);
  g_assert_cmpint (flow_link_get_state (pair->b.link), ==, FLOW_LINK_CONNECTING);
  return TRUE;
}

/* pair_exchange(), then waits for opened on both sides. */
static gboolean
pair_connect (Pair                *pair,
              const FlowIceConfig *config_a,
              const FlowIceConfig *config_b)
{
  gint64 start;

  if (!pair_exchange (pair, config_a, config_b))
    return FALSE;

  start = g_get_monotonic_time ();
  if (!wait_for (both_opened, pair, "both sides to open"))
    return FALSE;
  g_test_message ("connected in %.1f ms", (g_get_monotonic_time () - start) / 1000.0);

  g_assert_cmpstr (pair->a.closed_reason, ==, NULL);
  g_assert_cmpstr (pair->b.closed_reason, ==, NULL);
  g_assert_cmpint (pair->a.n_opened, ==, 1);
  g_assert_cmpint (pair->b.n_opened, ==, 1);
  return TRUE;
}

static void
pair_clear (Pair *pair)
{
  side_clear (&pair->a);
  side_clear (&pair->b);
}

/* ------------------------------------------------------------------------
 * Traffic: many small coalesced sends, then one big blob, both ways
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowLink   *link;
  GByteArray *expected;   /* everything sent, in order */
  guint       next_chunk;
  guint       n_chunks;
  gsize       blob_len;
  guint       id;
} Feeder;

static void
append_small_chunk (GByteArray *out,
                    guint       index)
{
  guint8 chunk[SMALL_CHUNK_LEN];

  chunk[0] = index & 0xff;
  chunk[1] = (index >> 8) & 0xff;
  chunk[2] = (index >> 16) & 0xff;
  chunk[3] = 0xc5;
  for (guint j = 4; j < SMALL_CHUNK_LEN; j++)
    chunk[j] = (guint8) (index * 7 + j);
  g_byte_array_append (out, chunk, sizeof chunk);
}

static GBytes *
random_bytes (gsize   len,
              guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint8 *data = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    data[i] = g_rand_int (rand) & 0xff;
  return g_bytes_new_take (data, len);
}

/* Like the peer layer: once per main-loop turn, what is pending goes out in
 * one send. */
static gboolean
feed_cb (gpointer user_data)
{
  Feeder *feeder = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) batch = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;

  if (feeder->next_chunk < feeder->n_chunks)
    {
      for (guint i = 0; i < CHUNKS_PER_SEND && feeder->next_chunk < feeder->n_chunks; i++)
        append_small_chunk (batch, feeder->next_chunk++);
      bytes = g_byte_array_free_to_bytes (g_steal_pointer (&batch));
    }
  else
    {
      bytes = random_bytes (feeder->blob_len, 0x5eed0000 + feeder->n_chunks);
    }

  g_byte_array_append (feeder->expected, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_true (flow_link_send (feeder->link, bytes, &error));
  g_assert_no_error (error);

  if (feeder->next_chunk < feeder->n_chunks || g_bytes_get_size (bytes) != feeder->blob_len)
    return G_SOURCE_CONTINUE;
  feeder->id = 0;
  return G_SOURCE_REMOVE;
}

static void
feeder_start (Feeder   *feeder,
              FlowLink *link,
              guint     n_chunks,
              gsize     blob_len)
{
  memset (feeder, 0, sizeof *feeder);
  feeder->link = link;
  feeder->expected = g_byte_array_new ();
  feeder->n_chunks = n_chunks;
  feeder->blob_len = blob_len;
  feeder->id = g_idle_add (feed_cb, feeder);
}

static void
feeder_clear (Feeder *feeder)
{
  g_clear_handle_id (&feeder->id, g_source_remove);
  g_clear_pointer (&feeder->expected, g_byte_array_unref);
}

typedef struct
{
  Pair   *pair;
  Feeder *to_b;
  Feeder *to_a;
} Transfer;

static gboolean
transfer_done (gpointer data)
{
  Transfer *t = data;

  if (either_closed (t->pair))
    return TRUE;
  return t->to_b->id == 0 && t->to_a->id == 0 &&
         t->pair->b.received->len >= t->to_b->expected->len &&
         t->pair->a.received->len >= t->to_a->expected->len;
}

static void
assert_same_bytes (GByteArray *got,
                   GByteArray *expected)
{
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < got->len; i++)
    if (got->data[i] != expected->data[i])
      g_error ("first difference at byte %u of %u", i, got->len);
}

/* Sends @n_chunks small chunks then a @blob_len blob each way at the same
 * time and checks that every byte arrives, in order. */
static void
run_transfer (Pair  *pair,
              guint  n_chunks,
              gsize  blob_len)
{
  Feeder to_b, to_a;
  Transfer t = { pair, &to_b, &to_a };
  gint64 start = g_get_monotonic_time ();

  feeder_start (&to_b, pair->a.link, n_chunks, blob_len);
  feeder_start (&to_a, pair->b.link, n_chunks, blob_len);

  if (wait_for (transfer_done, &t, "the transfer"))
    {
      g_assert_cmpuint (pair->a.n_closed, ==, 0);
      g_assert_cmpuint (pair->b.n_closed, ==, 0);
      g_test_message ("%u chunks and %" G_GSIZE_FORMAT " bytes each way in %.1f ms", n_chunks,
                      blob_len, (g_get_monotonic_time () - start) / 1000.0);
      assert_same_bytes (pair->b.received, to_b.expected);
      assert_same_bytes (pair->a.received, to_a.expected);
      g_assert_false (pair->a.received_before_opened);
      g_assert_false (pair->b.received_before_opened);
    }

  feeder_clear (&to_b);
  feeder_clear (&to_a);
}

/* ------------------------------------------------------------------------
 * Configuration
 * ------------------------------------------------------------------------ */

static void
test_config_parse_server (void)
{
  static const struct {
    const char *text;
    const char *host;
    guint16     port;
  } good[] = {
    { "stun.example.org", "stun.example.org", 3478 },
    { "stun.example.org:19302", "stun.example.org", 19302 },
    { "192.0.2.1:5000", "192.0.2.1", 5000 },
    { "  127.0.0.1:3479\n", "127.0.0.1", 3479 },
    { "[::1]:3478", "::1", 3478 },
    { "[2001:db8::1]:5349", "2001:db8::1", 5349 },
    { "::1", "::1", 3478 },
    { "turn.example.org:65535", "turn.example.org", 65535 },
  };
  static const char * const bad[] = {
    "", "   ", "host:0", "host:65536", "host:99999", "host:port", "host:", "[::1",
    "http://example.org", "a b:3478", "user@host:3478", "host:-1",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *host = NULL;
      guint16 port = 0;

      g_test_message ("good: “%s”", good[i].text);
      g_assert_true (flow_ice_config_parse_server (good[i].text, &host, &port, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (host, ==, good[i].host);
      g_assert_cmpuint (port, ==, good[i].port);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      char *host = NULL;
      guint16 port = 0;

      g_test_message ("bad: “%s”", bad[i]);
      g_assert_false (flow_ice_config_parse_server (bad[i], &host, &port, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (host);
    }
}

static void
test_config_copy (void)
{
  g_autoptr(FlowIceConfig) config = flow_ice_config_new ();
  g_autoptr(FlowIceConfig) copy = NULL;

  g_assert_null (config->stun_host);
  g_assert_null (config->turn_host);
  g_assert_false (config->relay_only);
  g_assert_cmpuint (config->connect_timeout_ms, ==, 0);

  config->stun_host = g_strdup ("192.0.2.1");
  config->stun_port = 3478;
  config->turn_host = g_strdup ("turn.example.org");
  config->turn_port = 3479;
  config->turn_username = g_strdup ("u");
  config->turn_password = g_strdup ("p");
  config->relay_only = TRUE;
  config->connect_timeout_ms = 1234;

  copy = flow_ice_config_copy (config);
  g_assert_true (copy->stun_host != config->stun_host);
  g_assert_cmpstr (copy->stun_host, ==, "192.0.2.1");
  g_assert_cmpuint (copy->stun_port, ==, 3478);
  g_assert_cmpstr (copy->turn_host, ==, "turn.example.org");
  g_assert_cmpuint (copy->turn_port, ==, 3479);
  g_assert_cmpstr (copy->turn_username, ==, "u");
  g_assert_cmpstr (copy->turn_password, ==, "p");
  g_assert_true (copy->relay_only);
  g_assert_false (copy->loopback_only);
  g_assert_cmpuint (copy->connect_timeout_ms, ==, 1234);

  flow_ice_config_free (NULL);
}

/* ------------------------------------------------------------------------
 * Loopback links
 * ------------------------------------------------------------------------ */

static void
test_connect (void)
{
  g_autoptr(FlowIceConfig) config = loopback_config ();
  g_autoptr(GError) error = NULL;
  Pair pair = { 0 };
  Side *a = &pair.a;
  const char *local_type = NULL, *remote_type = NULL;
  g_autofree char *desc = NULL;

  side_init (a, config, TRUE);
  side_init (&pair.b, config, FALSE);

  /* Gathering on loopback finishes inside the constructor, yet the signal
   * waits for the main loop, as FlowLink promises. */
  g_assert_cmpuint (a->n_description_ready, ==, 0);
  g_assert_cmpint (flow_link_get_state (a->link), ==, FLOW_LINK_NEW);
  g_assert_false (flow_nice_link_get_selected_pair_types (FLOW_NICE_LINK (a->link),
                                                          &local_type, &remote_type));

  /* Not open yet: nothing can be sent. */
  g_assert_false (flow_link_send (a->link, g_bytes_new_static ("x", 1), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_clear_error (&error);

  side_clear (a);
  side_clear (&pair.b);

  if (!pair_connect (&pair, config, config))
    goto out;

  g_assert_cmpuint (pair.a.n_description_ready, ==, 1);
  g_assert_cmpuint (pair.b.n_description_ready, ==, 1);

  /* The description carries credentials and the one loopback candidate. */
  desc = flow_link_dup_local_description (pair.a.link);
  g_assert_nonnull (strstr (desc, "a=ice-ufrag:"));
  g_assert_nonnull (strstr (desc, "a=ice-pwd:"));
  g_assert_nonnull (strstr (desc, " 127.0.0.1 "));
  g_assert_null (strstr (desc, "tcp"));

  g_assert_true (flow_nice_link_get_selected_pair_types (FLOW_NICE_LINK (pair.a.link),
                                                         &local_type, &remote_type));
  g_assert_cmpstr (local_type, ==, "host");
  g_assert_cmpstr (remote_type, ==, "host");

  /* Too late for a second description. */
  g_assert_false (flow_link_set_remote_description (pair.a.link, desc, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);

out:
  pair_clear (&pair);
}

static void
test_transfer (void)
{
  g_autoptr(FlowIceConfig) config = loopback_config ();
  Pair pair = { 0 };

  if (pair_connect (&pair, config, config))
    run_transfer (&pair, N_SMALL_CHUNKS, BLOB_LEN);
  pair_clear (&pair);
}

static void
test_close (void)
{
  g_autoptr(FlowIceConfig) config = loopback_config ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) tail = random_bytes (1024 * 1024, 42);
  Pair pair = { 0 };

  if (!pair_connect (&pair, config, config))
    goto out;

  /* Bytes still queued when close() is called reach the peer before its
   * end of stream: close lingers until they are written. */
  g_assert_true (flow_link_send (pair.a.link, tail, &error));
  g_assert_no_error (error);
  flow_link_close (pair.a.link, "bye for now");
  flow_link_close (pair.a.link, "twice is fine");

  /* closed comes from the main loop, not from inside close(). */
  g_assert_cmpint (flow_link_get_state (pair.a.link), ==, FLOW_LINK_CLOSED);
  g_assert_cmpuint (pair.a.n_closed, ==, 0);
  g_assert_false (flow_link_send (pair.a.link, tail, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);

  if (!wait_for (both_closed, &pair, "both sides to close"))
    goto out;
  g_assert_cmpstr (pair.a.closed_reason, ==, "bye for now");
  g_assert_cmpstr (pair.b.closed_reason, ==, "peer closed the connection");
  g_assert_cmpuint (pair.b.received->len, ==, g_bytes_get_size (tail));
  g_assert_true (memcmp (pair.b.received->data, g_bytes_get_data (tail, NULL),
                         pair.b.received->len) == 0);

  /* Exactly once, and nothing after it: the handlers stay connected
   * until both links are finalized. */
  for (Side *side = &pair.a; side <= &pair.b; side++)
    {
      g_object_unref (side->link);
      if (!wait_for (link_gone, side, "the link to be finalized"))
        goto out;
    }
  g_assert_cmpuint (pair.a.n_closed, ==, 1);
  g_assert_cmpuint (pair.b.n_closed, ==, 1);
  g_assert_false (pair.a.signal_after_closed);
  g_assert_false (pair.b.signal_after_closed);

out:
  pair_clear (&pair);
}

/* Dropping the last reference of an open link without close() is allowed:
 * the peer still learns that it is gone. */
static void
test_dispose_open (void)
{
  g_autoptr(FlowIceConfig) config = loopback_config ();
  Pair pair = { 0 };

  if (pair_connect (&pair, config, config))
    {
      g_signal_handlers_disconnect_by_data (pair.a.link, &pair.a);
      g_object_unref (pair.a.link);
      g_assert_null (pair.a.link);
      if (wait_for (is_closed, &pair.b, "the peer to see the end"))
        g_assert_cmpstr (pair.b.closed_reason, ==, "peer closed the connection");
    }
  pair_clear (&pair);
}

static void
test_garbage_description (void)
{
  g_autoptr(FlowIceConfig) config = loopback_config ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree char *huge = g_strnfill (64 * 1024, 'a');
  g_autofree char *dead = NULL;
  g_autofree char *valid_b = NULL;
  g_autofree char *valid_a = NULL;
  g_autoptr(GError) error = NULL;
  Pair pair = { 0 };
  const char *garbage[] = {
    "",
    "garbage",
    "\n\n\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n",
    "a=ice-ufrag:abcd\na=ice-pwd:short\na=candidate:1 1 UDP 2013266431 127.0.0.1 5000 typ host\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\na=candidate:garbage\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
    "a=candidate:1 1 UDP 2013266431 999.1.1.1 5000 typ host\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
    "a=candidate:1 1 UDP 2013266431 127.0.0.1 0 typ host\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
    "a=candidate:1 2 UDP 2013266431 127.0.0.1 5000 typ host\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
    "a=candidate:1 1 TCP 2013266431 127.0.0.1 5000 typ host tcptype active\n",
    "a=ice-ufrag:abcd\na=ice-pwd:0123456789012345678901\n"
    "a=candidate:1 1 UDP 2013266431 127.0.0.1 5000 typ nonsense\n",
    "a=ice-ufrag:\na=ice-pwd:\na=candidate:::::::::\n",
    "a=candidate:1 1 UDP 2013266431 127.0.0.1 5000 typ host\n",
    "\xff\xfe\xfd not UTF-8 a=ice-ufrag:abcd\n",
    huge,
  };

  /* The mutations below are of a description whose link is gone, so the
   * links that accept one send their checks nowhere. */
  side_init (&pair.a, config, TRUE);
  if (!wait_for (description_ready, &pair.a, "a description"))
    goto out;
  dead = flow_link_dup_local_description (pair.a.link);
  side_clear (&pair.a);

  side_init (&pair.a, config, TRUE);
  side_init (&pair.b, config, FALSE);
  if (!wait_for (both_described, &pair, "both descriptions"))
    goto out;
  valid_b = flow_link_dup_local_description (pair.b.link);
  valid_a = flow_link_dup_local_description (pair.a.link);

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_test_message ("garbage %u", i);
      g_assert_false (flow_link_set_remote_description (pair.a.link, garbage[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_clear_error (&error);
      g_assert_cmpint (flow_link_get_state (pair.a.link), ==, FLOW_LINK_NEW);
    }

  /* Mutations of a real description: any outcome but a crash is fine. A
   * mutation that is still accepted would start the checks, so each one
   * goes to a throwaway link. */
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(FlowLink) victim = flow_nice_link_new (config, TRUE);
      g_autofree char *mutated = g_strdup (dead);
      gsize len = strlen (mutated);
      guint n_changes = 1 + g_rand_int_range (rand, 0, 4);

      /* Mostly printable: bytes that are not UTF-8 never reach libnice. */
      for (guint j = 0; j < n_changes; j++)
        mutated[g_rand_int_range (rand, 0, len)] =
          g_rand_int_range (rand, 0, 8) == 0 ? '\n' : g_rand_int_range (rand, 32, 127);
      if (g_rand_boolean (rand))
        mutated[g_rand_int_range (rand, 0, len)] = '\0';
      if (!flow_link_set_remote_description (victim, mutated, &error))
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_clear_error (&error);
      flow_link_close (victim, "mutation done");
    }

  /* After all that, the link still connects. */
  g_assert_true (flow_link_set_remote_description (pair.a.link, valid_b, &error));
  g_assert_no_error (error);
  g_assert_true (flow_link_set_remote_description (pair.b.link, valid_a, &error));
  g_assert_no_error (error);
  if (wait_for (both_opened, &pair, "both sides to open after the garbage"))
    {
      g_assert_cmpstr (pair.a.closed_reason, ==, NULL);
      g_assert_cmpuint (pair.a.n_opened, ==, 1);
      g_assert_cmpuint (pair.b.n_opened, ==, 1);
    }

out:
  pair_clear (&pair);
}

/* The peer took our description but is gone before it answers: our checks
 * go unanswered and the link fails, through our connect timeout (3 s) or,
 * with the default timeout of 30 s, through libnice's own verdict (about
 * 7 s on loopback). */
static void
test_no_answer (gconstpointer data)
{
  guint timeout_ms = GPOINTER_TO_UINT (data);
  const char *expected = timeout_ms != 0 ? "ICE failed: no connection within"
                                         : "ICE failed: no candidate pair worked";
  g_autoptr(FlowIceConfig) config = loopback_config ();
  g_autoptr(GError) error = NULL;
  g_autofree char *desc_b = NULL;
  Pair pair = { 0 };
  gint64 start;

  config->connect_timeout_ms = timeout_ms;
  side_init (&pair.a, config, TRUE);
  side_init (&pair.b, config, FALSE);
  if (!wait_for (both_described, &pair, "both descriptions"))
    goto out;

  desc_b = flow_link_dup_local_description (pair.b.link);
  side_clear (&pair.b);

  g_assert_true (flow_link_set_remote_description (pair.a.link, desc_b, &error));
  g_assert_no_error (error);
  start = g_get_monotonic_time ();
  if (!wait_for (is_closed, &pair.a, "the unanswered link to fail"))
    goto out;

  g_test_message ("failed after %.1f s: %s", (g_get_monotonic_time () - start) / 1e6,
                  pair.a.closed_reason);
  g_assert_true (g_str_has_prefix (pair.a.closed_reason, expected));
  g_assert_cmpuint (pair.a.n_opened, ==, 0);

out:
  pair_clear (&pair);
}

/* relay_only without a TURN server has nothing to offer. Gathering ends
 * inside the constructor, yet closed waits for the main loop. */
static void
test_relay_only_without_turn (void)
{
  g_autoptr(FlowIceConfig) config = loopback_config ();
  Side side;

  config->relay_only = TRUE;
  side_init (&side, config, TRUE);
  g_assert_cmpint (flow_link_get_state (side.link), ==, FLOW_LINK_CLOSED);
  g_assert_cmpuint (side.n_closed, ==, 0);
  if (wait_for (is_closed, &side, "the link to close"))
    {
      g_assert_true (g_str_has_prefix (side.closed_reason, "TURN failed: no relay candidate"));
      g_assert_cmpuint (side.n_description_ready, ==, 0);
      g_assert_null (flow_link_dup_local_description (side.link));
    }
  side_clear (&side);
}

/* ------------------------------------------------------------------------
 * TURN through coturn on 127.0.0.1
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowTestTurn *server;
} Turn;

static void
turn_setup (Turn          *turn,
            gconstpointer  data)
{
  turn->server = flow_test_turn_start ();
}

static void
turn_teardown (Turn          *turn,
               gconstpointer  data)
{
  g_clear_pointer (&turn->server, flow_test_turn_free);
}

static FlowIceConfig *
turn_config (Turn       *turn,
             const char *password)
{
  FlowIceConfig *config = loopback_config ();

  config->turn_host = g_strdup ("127.0.0.1");
  config->turn_port = flow_test_turn_get_port (turn->server);
  config->turn_username = g_strdup (FLOW_TEST_TURN_USER);
  config->turn_password = g_strdup (password);
  config->relay_only = TRUE;
  return config;
}

static gboolean
turn_skip (Turn *turn)
{
  if (turn->server != NULL)
    return g_test_failed ();

  g_test_skip ("turnserver (Debian package coturn) is not installed");
  return TRUE;
}

static void
test_turn_relay (Turn          *turn,
                 gconstpointer  data)
{
  g_autoptr(FlowIceConfig) config = NULL;
  g_autoptr(FlowIceConfig) config_b = NULL;
  Pair pair = { 0 };
  const char *local_type = NULL, *remote_type = NULL;
  g_autofree char *desc = NULL;

  if (turn_skip (turn))
    return;

  /* One side names the server: that takes the name lookup path
   * ("localhost" comes from /etc/hosts, no DNS traffic). */
  config = turn_config (turn, FLOW_TEST_TURN_PASSWORD);
  config_b = flow_ice_config_copy (config);
  g_free (config_b->turn_host);
  config_b->turn_host = g_strdup ("localhost");
  if (!pair_connect (&pair, config, config_b))
    goto out;

  /* Only relayed candidates were offered, and the relay carries the pair. */
  desc = flow_link_dup_local_description (pair.a.link);
  g_assert_nonnull (strstr (desc, "typ relay"));
  g_assert_null (strstr (desc, "typ host"));
  for (Side *side = &pair.a; side <= &pair.b; side++)
    {
      g_assert_true (flow_nice_link_get_selected_pair_types (FLOW_NICE_LINK (side->link),
                                                             &local_type, &remote_type));
      g_assert_cmpstr (local_type, ==, "relay");
      g_assert_cmpstr (remote_type, ==, "relay");
    }

  run_transfer (&pair, 1000, 256 * 1024);

out:
  pair_clear (&pair);
}

static void
test_turn_wrong_password (Turn          *turn,
                          gconstpointer  data)
{
  g_autoptr(FlowIceConfig) config = NULL;
  Side side;

  if (turn_skip (turn))
    return;

  /* The allocation is refused, so there is nothing to offer: the link
   * closes before it has a description. */
  config = turn_config (turn, "not the password");
  side_init (&side, config, TRUE);
  if (wait_for (is_closed, &side, "the link to give up on TURN"))
    {
      g_test_message ("closed: %s", side.closed_reason);
      g_assert_true (g_str_has_prefix (side.closed_reason, "TURN failed"));
      g_assert_cmpuint (side.n_description_ready, ==, 0);
    }
  side_clear (&side);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/link-nice/config/parse-server", test_config_parse_server);
  g_test_add_func ("/flow/link-nice/config/copy", test_config_copy);
  g_test_add_func ("/flow/link-nice/connect", test_connect);
  g_test_add_func ("/flow/link-nice/transfer", test_transfer);
  g_test_add_func ("/flow/link-nice/close", test_close);
  g_test_add_func ("/flow/link-nice/dispose-open", test_dispose_open);
  g_test_add_func ("/flow/link-nice/garbage-description", test_garbage_description);
  g_test_add_data_func ("/flow/link-nice/no-answer/timeout", GUINT_TO_POINTER (3000),
                        test_no_answer);
  g_test_add_data_func ("/flow/link-nice/no-answer/ice-failed", GUINT_TO_POINTER (0),
                        test_no_answer);
  g_test_add_func ("/flow/link-nice/relay-only-without-turn", test_relay_only_without_turn);
  g_test_add ("/flow/link-nice/turn/relay", Turn, NULL,
              turn_setup, test_turn_relay, turn_teardown);
  g_test_add ("/flow/link-nice/turn/wrong-password", Turn, NULL,
              turn_setup, test_turn_wrong_password, turn_teardown);

  return g_test_run ();
}
