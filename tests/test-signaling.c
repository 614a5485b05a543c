/* test-signaling.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* Suite `sync`: the two FlowSignaling implementations.
 *
 * The rendezvous client talks to our own server, in-process on 127.0.0.1
 * port 0 and on this main context. Where the server must misbehave (stay
 * silent, send malformed messages) a small SoupServer on 127.0.0.1 plays
 * it. The manual signaling is tested by wiring two objects together: what
 * one emits as `outgoing` goes into the other's receive().
 *
 * Every wait is bounded (WAIT_SECONDS) and fails the test when it runs
 * out; nothing asserts on wall time. */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "flow-rendezvous-server.h"
#include "flow-signaling-manual.h"
#include "flow-signaling-rendezvous.h"

#define ROOM "0123456789abcdef0123456789abcdef"
#define ROOM2 "fedcba9876543210fedcba9876543210"
#define WAIT_SECONDS 10

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until @cond holds; fails the test after
 * WAIT_SECONDS. */
#define WAIT_UNTIL(cond) \
  G_STMT_START { \
    gboolean expired_ = FALSE; \
    guint timeout_ = g_timeout_add_seconds (WAIT_SECONDS, set_flag_cb, &expired_); \
    while (!(cond) && !expired_) \
      g_main_context_iteration (NULL, TRUE); \
    if (!expired_) \
      g_source_remove (timeout_); \
    if (!(cond)) \
      g_error ("timed out after %d s waiting for: %s", WAIT_SECONDS, #cond); \
  } G_STMT_END

/* Runs the main context for @ms milliseconds. Only used to give something
 * that must *not* happen a chance to happen. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static GBytes *
all_byte_values (void)
{
  guint8 data[512];

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i & 0xff);
  return g_bytes_new (data, sizeof data);
}

/* ---------------------------------------------------------------------
 * a peer: one FlowSignaling and what it emitted
 * --------------------------------------------------------------------- */

typedef struct
{
  FlowSignaling *signaling;
  GPtrArray     *events;    /* "joined:a,b", "peer-joined:a", "signal:a", "failed", ... */
  GPtrArray     *blobs;     /* per event: its GBytes (signal, presence) or NULL */
  GPtrArray     *outgoing;  /* manual signaling: the texts to deliver */
  char          *failure;   /* the last failed message */
  guint          seen;      /* events consumed by expect() */
  GBytes        *blob;      /* that of the last event expect() consumed */
  gboolean       in_call;   /* inside a method call: no signal may come */
} Peer;

static void
record_with_data (Peer       *peer,
                  const char *event,
                  GBytes     *data)
{
  g_assert_false (peer->in_call);
  g_test_message ("%p: %s", peer, event);
  g_ptr_array_add (peer->events, g_strdup (event));
  g_ptr_array_add (peer->blobs, data != NULL ? g_bytes_ref (data) : NULL);
}

static void
record (Peer       *peer,
        const char *event)
{
  record_with_data (peer, event, NULL);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
joined_cb (FlowSignaling *signaling,
           char         **peers,
           Peer          *peer)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autofree char *list = NULL;
  g_autofree char *event = NULL;

  for (guint i = 0; peers[i] != NULL; i++)
    g_ptr_array_add (sorted, peers[i]);
  g_ptr_array_sort (sorted, compare_strings);
  g_ptr_array_add (sorted, NULL);
  list = g_strjoinv (",", (char **) sorted->pdata);
  event = g_strconcat ("joined:", list, NULL);
  g_assert_cmpint (flow_signaling_get_state (signaling), ==, FLOW_SIGNALING_JOINED);
  record (peer, event);
}

/* "peer-joined", "peer-left", "signal" and "presence" share one handler:
 * the event is "SIGNAL-NAME:PEER". */
static void
peer_event_cb (FlowSignaling *signaling,
               const char    *who,
               GBytes        *data,
               Peer          *peer)
{
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (signaling);
  g_autofree char *event = g_strconcat (g_signal_name (hint->signal_id), ":", who, NULL);

  record_with_data (peer, event, data);
}

static void
peer_membership_cb (FlowSignaling *signaling,
                    const char    *who,
                    Peer          *peer)
{
  peer_event_cb (signaling, who, NULL, peer);
}

static void
failed_cb (FlowSignaling *signaling,
           const char    *message,
           Peer          *peer)
{
  g_assert_nonnull (message);
  g_assert_cmpint (flow_signaling_get_state (signaling), ==, FLOW_SIGNALING_FAILED);
  g_free (peer->failure);
  peer->failure = g_strdup (message);
  g_test_message ("%p: failed: %s", peer, message);
  record (peer, "failed");
}

static void
outgoing_cb (FlowManualSignaling *signaling,
             const char          *text,
             Peer                *peer)
{
  g_assert_false (peer->in_call);
  /* One line of printable ASCII without spaces. */
  for (const char *c = text; *c != '\0'; c++)
    g_assert_true (g_ascii_isgraph (*c));
  g_ptr_array_add (peer->outgoing, g_strdup (text));
}

static Peer *
peer_new (FlowSignaling *signaling)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->signaling = signaling;
  peer->events = g_ptr_array_new_with_free_func (g_free);
  peer->blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  peer->outgoing = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (signaling, "joined", G_CALLBACK (joined_cb), peer);
  g_signal_connect (signaling, "signal", G_CALLBACK (peer_event_cb), peer);
  g_signal_connect (signaling, "presence", G_CALLBACK (peer_event_cb), peer);
  g_signal_connect (signaling, "peer-joined", G_CALLBACK (peer_membership_cb), peer);
  g_signal_connect (signaling, "peer-left", G_CALLBACK (peer_membership_cb), peer);
  g_signal_connect (signaling, "failed", G_CALLBACK (failed_cb), peer);
  if (FLOW_IS_MANUAL_SIGNALING (signaling))
    g_signal_connect (signaling, "outgoing", G_CALLBACK (outgoing_cb), peer);
  return peer;
}

static void
peer_free (Peer *peer)
{
  g_signal_handlers_disconnect_by_data (peer->signaling, peer);
  g_object_unref (peer->signaling);
  g_ptr_array_unref (peer->events);
  g_ptr_array_unref (peer->blobs);
  g_ptr_array_unref (peer->outgoing);
  g_free (peer->failure);
  g_free (peer);
}

static void
peer_join (Peer       *peer,
           const char *room,
           const char *id)
{
  peer->in_call = TRUE;
  flow_signaling_join (peer->signaling, room, id);
  peer->in_call = FALSE;
  g_assert_cmpint (flow_signaling_get_state (peer->signaling), ==, FLOW_SIGNALING_JOINING);
}

static void
peer_leave (Peer *peer)
{
  peer->in_call = TRUE;
  flow_signaling_leave (peer->signaling);
  peer->in_call = FALSE;
  g_assert_cmpint (flow_signaling_get_state (peer->signaling), ==, FLOW_SIGNALING_IDLE);
}

static void
peer_send_signal (Peer       *peer,
                  const char *to,
                  GBytes     *data)
{
  peer->in_call = TRUE;
  flow_signaling_send_signal (peer->signaling, to, data);
  peer->in_call = FALSE;
}

static void
peer_send_presence (Peer   *peer,
                    GBytes *data)
{
  peer->in_call = TRUE;
  flow_signaling_send_presence (peer->signaling, data);
  peer->in_call = FALSE;
}

/* Waits for the next event of @peer and checks it is @expected. */
static void
expect (Peer       *peer,
        const char *expected)
{
  WAIT_UNTIL (peer->events->len > peer->seen);
  g_assert_cmpstr (g_ptr_array_index (peer->events, peer->seen), ==, expected);
  peer->blob = g_ptr_array_index (peer->blobs, peer->seen);
  peer->seen++;
}

static void
expect_nothing_more (Peer *peer)
{
  if (peer->events->len > peer->seen)
    g_error ("unexpected event %s", (const char *) g_ptr_array_index (peer->events, peer->seen));
}

/* The data of the signal or presence that expect() just consumed. */
static GBytes *
last_blob (Peer *peer)
{
  g_assert_nonnull (peer->blob);
  return peer->blob;
}

/* ---------------------------------------------------------------------
 * the rendezvous server, in-process
 * --------------------------------------------------------------------- */

typedef struct
{
  FlowRendezvousConfig *config;
  FlowRendezvousServer *server;
  char                 *url;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->config = flow_rendezvous_config_new ();
  g_free (f->config->listen);
  f->config->listen = g_strdup ("127.0.0.1");
}

static void
fixture_start (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  const char *scheme = f->config->tls_cert != NULL ? "wss" : "ws";

  f->server = flow_rendezvous_server_new (f->config);
  flow_rendezvous_server_start (f->server, &error);
  g_assert_no_error (error);
  f->url = g_strdup_printf ("%s://127.0.0.1:%u/ws", scheme,
                            flow_rendezvous_server_get_port (f->server));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->server != NULL)
    flow_rendezvous_server_stop (f->server);
  g_clear_object (&f->server);
  /* Let libsoup finish the closes. */
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  g_clear_pointer (&f->config, flow_rendezvous_config_free);
  g_free (f->url);
}

static Peer *
rendezvous_peer (Fixture    *f,
                 const char *token)
{
  return peer_new (flow_rendezvous_signaling_new (f->url, token));
}

/* A peer of @f that has joined @room as @id and seen its `joined`. */
static Peer *
joined_peer (Fixture    *f,
             const char *room,
             const char *id,
             const char *expected_joined)
{
  Peer *peer = rendezvous_peer (f, NULL);

  peer_join (peer, room, id);
  expect (peer, expected_joined);
  return peer;
}

/* alice, bob and carol in ROOM, each having seen the others join. */
static void
three_peers (Fixture  *f,
             Peer    **a,
             Peer    **b,
             Peer    **c)
{
  *a = joined_peer (f, ROOM, "alice", "joined:");
  *b = joined_peer (f, ROOM, "bob", "joined:alice");
  *c = joined_peer (f, ROOM, "carol", "joined:alice,bob");
  expect (*a, "peer-joined:bob");
  expect (*a, "peer-joined:carol");
  expect (*b, "peer-joined:carol");
}

static void
test_rendezvous_join (Fixture       *f,
                      gconstpointer  data)
{
  Peer *a, *b, *c, *other;

  fixture_start (f);

  a = joined_peer (f, ROOM, "alice", "joined:");
  b = joined_peer (f, ROOM, "bob", "joined:alice");
  expect (a, "peer-joined:bob");
  c = joined_peer (f, ROOM, "carol", "joined:alice,bob");
  expect (a, "peer-joined:carol");
  expect (b, "peer-joined:carol");

  /* Another room is another world. */
  other = joined_peer (f, ROOM2, "alice", "joined:");
  g_assert_cmpuint (flow_rendezvous_server_get_n_rooms (f->server), ==, 2);

  expect_nothing_more (a);
  expect_nothing_more (b);
  expect_nothing_more (c);
  peer_free (a);
  peer_free (b);
  peer_free (c);
  peer_free (other);
}

static void
test_rendezvous_signal (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GBytes) all = all_byte_values ();
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GBytes) big = NULL;
  g_autoptr(GBytes) mark = g_bytes_new_static ("mark", 4);
  guint8 *big_data = g_malloc (40000);
  Peer *a, *b, *c;

  for (guint i = 0; i < 40000; i++)
    big_data[i] = (guint8) (i * 7 + i / 256);
  big = g_bytes_new_take (big_data, 40000);

  fixture_start (f);
  three_peers (f, &a, &b, &c);

  /* A → B, byte for byte, including 0x00 and 0x80..0xff. */
  peer_send_signal (a, "bob", all);
  expect (b, "signal:alice");
  g_assert_true (g_bytes_equal (last_blob (b), all));

  peer_send_signal (a, "bob", empty);
  expect (b, "signal:alice");
  g_assert_cmpuint (g_bytes_get_size (last_blob (b)), ==, 0);

  /* 40,000 bytes are 53,336 in base64: under the 64 KiB frame limit. */
  peer_send_signal (b, "alice", big);
  expect (a, "signal:bob");
  g_assert_true (g_bytes_equal (last_blob (a), big));

  /* Carol heard none of it: the presence that follows arrives first. */
  peer_send_presence (a, mark);
  expect (c, "presence:alice");
  expect (b, "presence:alice");
  g_assert_true (g_bytes_equal (last_blob (c), mark));

  /* A signal to someone not in the room is dropped by the server (an
   * error that does not close); the connection goes on. */
  peer_send_signal (a, "nobody", all);
  peer_send_signal (a, "carol", all);
  expect (c, "signal:alice");
  g_assert_cmpint (flow_signaling_get_state (a->signaling), ==, FLOW_SIGNALING_JOINED);

  expect_nothing_more (a);
  expect_nothing_more (b);
  peer_free (a);
  peer_free (b);
  peer_free (c);
}

static void
test_rendezvous_presence (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GBytes) all = all_byte_values ();
  Peer *a, *b, *c;

  fixture_start (f);
  three_peers (f, &a, &b, &c);

  peer_send_presence (b, all);
  expect (a, "presence:bob");
  expect (c, "presence:bob");
  g_assert_true (g_bytes_equal (last_blob (a), all));
  g_assert_true (g_bytes_equal (last_blob (c), all));

  /* Not back to the sender: had bob heard his own, it would come before
   * carol's. */
  peer_send_presence (c, all);
  expect (b, "presence:carol");
  expect_nothing_more (b);

  peer_free (a);
  peer_free (b);
  peer_free (c);
}

static void
test_rendezvous_leave (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GBytes) blob = g_bytes_new_static ("x", 1);
  Peer *a, *b, *c;

  fixture_start (f);
  three_peers (f, &a, &b, &c);

  peer_leave (b);
  expect (a, "peer-left:bob");
  expect (c, "peer-left:bob");

  /* Nothing reaches B any more, and what it sends goes nowhere. */
  peer_send_presence (b, blob);
  peer_send_presence (a, blob);
  expect (c, "presence:alice");
  expect_nothing_more (b);

  /* Joining again is a fresh connection; the old one is gone from the
   * room, so the same id is free. */
  peer_join (b, ROOM, "bob");
  expect (b, "joined:alice,carol");
  expect (a, "peer-joined:bob");
  expect (c, "peer-joined:bob");
  peer_send_signal (b, "alice", blob);
  expect (a, "signal:bob");

  /* Leaving while the join is in flight: no signal, ever. */
  peer_leave (b);
  expect (a, "peer-left:bob");
  peer_join (b, ROOM, "bob");
  peer_leave (b);
  run_for (200);
  expect_nothing_more (b);

  peer_free (a);
  peer_free (b);
  peer_free (c);
}

static void
test_rendezvous_server_stopped (Fixture       *f,
                                gconstpointer  data)
{
  Peer *a, *b;

  fixture_start (f);
  a = joined_peer (f, ROOM, "alice", "joined:");
  b = joined_peer (f, ROOM, "bob", "joined:alice");
  expect (a, "peer-joined:bob");

  flow_rendezvous_server_stop (f->server);
  expect (a, "failed");
  expect (b, "failed");
  g_assert_true (g_str_has_prefix (a->failure, "Connection to the rendezvous server lost"));

  /* Joining again tries a fresh connection, which is refused now. */
  peer_join (a, ROOM, "alice");
  expect (a, "failed");
  g_assert_true (g_str_has_prefix (a->failure, "Could not connect to the rendezvous server"));

  expect_nothing_more (b);
  peer_free (a);
  peer_free (b);
}

static void
test_rendezvous_duplicate_rejoin (Fixture       *f,
                                  gconstpointer  data)
{
  Peer *a, *twin;

  fixture_start (f);
  a = joined_peer (f, ROOM, "alice", "joined:");

  /* The server refuses a second "alice" (already-joined, close 1008). */
  twin = rendezvous_peer (f, NULL);
  peer_join (twin, ROOM, "alice");
  expect (twin, "failed");
  g_assert_cmpstr (twin->failure, ==, "Another peer with the same id is already in the room");

  /* After a failure, join() again with a fresh id works. */
  peer_join (twin, ROOM, "alice-2");
  expect (twin, "joined:alice");
  expect (a, "peer-joined:alice-2");
  expect_nothing_more (twin);

  peer_free (a);
  peer_free (twin);
}

static void
test_rendezvous_room_full (Fixture       *f,
                           gconstpointer  data)
{
  Peer *a, *b, *c;

  f->config->max_peers_per_room = 2;
  fixture_start (f);
  a = joined_peer (f, ROOM, "alice", "joined:");
  b = joined_peer (f, ROOM, "bob", "joined:alice");
  expect (a, "peer-joined:bob");

  c = rendezvous_peer (f, NULL);
  peer_join (c, ROOM, "carol");
  expect (c, "failed");
  g_assert_cmpstr (c->failure, ==, "The room is full");
  expect_nothing_more (c);

  /* A place frees up; carol gets in. */
  peer_leave (b);
  expect (a, "peer-left:bob");
  peer_join (c, ROOM, "carol");
  expect (c, "joined:alice");

  peer_free (a);
  peer_free (b);
  peer_free (c);
}

static void
test_rendezvous_token (Fixture       *f,
                       gconstpointer  data)
{
  Peer *none, *wrong, *right;

  f->config->token = g_strdup ("s3cret");
  fixture_start (f);

  none = rendezvous_peer (f, NULL);
  peer_join (none, ROOM, "alice");
  expect (none, "failed");
  g_assert_cmpstr (none->failure, ==, "The rendezvous server refused the access token");

  wrong = rendezvous_peer (f, "guess");
  peer_join (wrong, ROOM, "bob");
  expect (wrong, "failed");
  g_assert_cmpstr (wrong->failure, ==, "The rendezvous server refused the access token");
  g_assert_cmpuint (flow_rendezvous_server_get_rejections (f->server, "unauthorized"), ==, 2);

  right = rendezvous_peer (f, "s3cret");
  peer_join (right, ROOM, "carol");
  expect (right, "joined:");

  peer_free (none);
  peer_free (wrong);
  peer_free (right);
}

static void
test_rendezvous_heartbeat_alive (Fixture       *f,
                                 gconstpointer  data)
{
  Peer *a;

  /* The server drops clients silent for 3 s; we ping every second. */
  f->config->heartbeat_timeout_ms = 3000;
  fixture_start (f);

  a = rendezvous_peer (f, NULL);
  flow_rendezvous_signaling_set_heartbeat_interval (FLOW_RENDEZVOUS_SIGNALING (a->signaling), 1);
  peer_join (a, ROOM, "alice");
  expect (a, "joined:");
  run_for (5000);
  expect_nothing_more (a);
  g_assert_cmpint (flow_signaling_get_state (a->signaling), ==, FLOW_SIGNALING_JOINED);

  peer_free (a);
}

static void
test_rendezvous_bad_url (void)
{
  const char *urls[] = { "http://127.0.0.1:1/ws", "not a url", "ws:///ws", "" };

  for (guint i = 0; i < G_N_ELEMENTS (urls); i++)
    {
      Peer *a = peer_new (flow_rendezvous_signaling_new (urls[i], NULL));

      /* Failing is for the main loop, not for join() itself. */
      peer_join (a, ROOM, "alice");
      expect (a, "failed");
      g_assert_true (strstr (a->failure, "ws://") != NULL);
      peer_free (a);
    }
}

/* Disposing with a connect in flight, while joined, and while failed must
 * be clean (ASan). */
static void
test_rendezvous_dispose (Fixture       *f,
                         gconstpointer  data)
{
  Peer *a, *b;
  FlowSignaling *pending;

  fixture_start (f);
  a = joined_peer (f, ROOM, "alice", "joined:");

  /* The ghosts use another room, as how far they got is up to chance. */
  pending = flow_rendezvous_signaling_new (f->url, NULL);
  flow_signaling_join (pending, ROOM2, "ghost");
  g_object_unref (pending);

  pending = flow_rendezvous_signaling_new (f->url, NULL);
  flow_signaling_join (pending, ROOM2, "ghost");
  for (guint i = 0; i < 3; i++)
    g_main_context_iteration (NULL, FALSE);
  g_object_unref (pending);

  b = joined_peer (f, ROOM, "bob", "joined:alice");
  expect (a, "peer-joined:bob");
  peer_free (b);
  expect (a, "peer-left:bob");

  /* Every connection but alice's is closed. */
  WAIT_UNTIL (flow_rendezvous_server_get_n_connections (f->server) == 1);

  peer_free (a);
}

static void
test_rendezvous_tls (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  g_autofree char *dir = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;
  Peer *trusting, *plain;

  if (openssl == NULL)
    {
      g_test_skip ("openssl is not installed");
      return;
    }

  dir = g_dir_make_tmp ("test-signaling-XXXXXX", &error);
  g_assert_no_error (error);
  cert = g_build_filename (dir, "cert.pem", NULL);
  key = g_build_filename (dir, "key.pem", NULL);
  {
    const char *argv[] = {
      openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
      "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost", NULL,
    };

    g_spawn_sync (NULL, (char **) argv, NULL,
                  G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_spawn_check_wait_status (status, &error);
    g_assert_no_error (error);
  }
  certificate = g_tls_certificate_new_from_file (cert, &error);
  g_assert_no_error (error);

  f->config->tls_cert = g_strdup (cert);
  f->config->tls_key = g_strdup (key);
  f->config->engine = FLOW_RENDEZVOUS_ENGINE_SOUP;
  fixture_start (f);

  /* The system does not trust a self-signed certificate... */
  plain = rendezvous_peer (f, NULL);
  peer_join (plain, ROOM, "bob");
  expect (plain, "failed");
  g_assert_true (g_str_has_prefix (plain->failure, "Could not connect to the rendezvous server"));

  /* ...but a peer that pinned it connects. */
  trusting = rendezvous_peer (f, NULL);
  flow_rendezvous_signaling_set_accept_certificate (FLOW_RENDEZVOUS_SIGNALING (trusting->signaling),
                                                    certificate);
  peer_join (trusting, ROOM, "alice");
  expect (trusting, "joined:");

  peer_free (trusting);
  peer_free (plain);
  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
}

static void
test_rendezvous_url_for_host (void)
{
  g_autofree char *plain = flow_rendezvous_url_for_host ("rendezvous.example.org", 0, FALSE);
  g_autofree char *tls = flow_rendezvous_url_for_host ("rendezvous.example.org", 443, TRUE);
  g_autofree char *v4 = flow_rendezvous_url_for_host ("192.168.1.20", 9000, FALSE);
  g_autofree char *v6 = flow_rendezvous_url_for_host ("fe80::1", 9000, TRUE);

  g_assert_cmpstr (plain, ==, "ws://rendezvous.example.org:8443/ws");
  g_assert_cmpstr (tls, ==, "wss://rendezvous.example.org:443/ws");
  g_assert_cmpstr (v4, ==, "ws://192.168.1.20:9000/ws");
  g_assert_cmpstr (v6, ==, "wss://[fe80::1]:9000/ws");
  g_assert_null (flow_rendezvous_url_for_host (NULL, 0, FALSE));
  g_assert_null (flow_rendezvous_url_for_host ("", 0, TRUE));
}

/* ---------------------------------------------------------------------
 * a misbehaving server
 * --------------------------------------------------------------------- */

typedef enum
{
  FAKE_SILENT,         /* never answers join */
  FAKE_JOIN_THEN_MUTE, /* answers join, then nothing (no pongs) */
  FAKE_MALFORMED,      /* answers join with a script of bad messages */
} FakeMode;

typedef struct
{
  SoupServer *server;
  GPtrArray  *connections;
  FakeMode    mode;
  guint       pings;
  char       *url;
} FakeServer;

static const char *malformed_script[] = {
  /* before joined: ignored, we stay JOINING */
  "{\"type\":\"joined\",\"peers\":\"alice\"}",
  "{\"type\":\"signal\",\"from\":\"alice\",\"data\":\"AAAA\"}",
  "{\"type\":\"joined\",\"room\":\"" ROOM "\",\"peer\":\"bob\","
  "\"peers\":[\"alice\",7,\"bad id\",null]}",
  /* after joined: all ignored */
  "not json",
  "",
  "[1,2,3]",
  "\"just a string\"",
  "{}",
  "{\"type\":5}",
  "{\"type\":\"teleport\"}",
  "{\"type\":\"joined\",\"peers\":[]}",
  "{\"type\":\"peer-joined\"}",
  "{\"type\":\"peer-joined\",\"peer\":7}",
  "{\"type\":\"peer-joined\",\"peer\":\"no spaces please\"}",
  "{\"type\":\"peer-left\",\"peer\":[\"alice\"]}",
  "{\"type\":\"signal\",\"from\":\"alice\"}",
  "{\"type\":\"signal\",\"from\":\"alice\",\"data\":5}",
  "{\"type\":\"signal\",\"from\":\"alice\",\"data\":\"!!!!\"}",
  "{\"type\":\"signal\",\"from\":\"alice\",\"data\":\"AAA\"}",
  "{\"type\":\"signal\",\"from\":\"alice\",\"data\":\"A=AA\"}",
  "{\"type\":\"signal\",\"from\":\"alice\",\"data\":\"AA A\"}",
  "{\"type\":\"signal\",\"data\":\"AAAA\"}",
  "{\"type\":\"signal\",\"from\":\"\",\"data\":\"AAAA\"}",
  "{\"type\":\"presence\",\"from\":{},\"data\":\"AAAA\"}",
  "{\"type\":\"error\"}",
  "{\"type\":\"error\",\"code\":\"unknown-peer\",\"message\":\"no such peer\"}",
  "{\"type\":\"error\",\"code\":\"rate-limited\"}",
  "{\"type\":\"pong\",\"extra\":[1,2]}",
  /* and finally good ones, which must still arrive */
  "{\"type\":\"peer-joined\",\"peer\":\"carol\",\"extra\":true}",
  "{\"type\":\"signal\",\"from\":\"carol\",\"data\":\"AAEC/w==\"}",
  "{\"type\":\"presence\",\"from\":\"carol\",\"data\":\"\"}",
};

static void
fake_message_cb (SoupWebsocketConnection *ws,
                 gint                     type,
                 GBytes                  *message,
                 FakeServer              *fake)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *object;
  const char *kind;

  json_parser_load_from_data (parser, g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                              &error);
  g_assert_no_error (error);
  object = json_node_get_object (json_parser_get_root (parser));
  kind = json_object_get_string_member (object, "type");

  if (g_str_equal (kind, "ping"))
    {
      fake->pings++;
      return;
    }
  g_assert_cmpstr (kind, ==, "join");
  g_assert_cmpstr (json_object_get_string_member (object, "room"), ==, ROOM);

  switch (fake->mode)
    {
    case FAKE_SILENT:
      break;

    case FAKE_JOIN_THEN_MUTE:
      soup_websocket_connection_send_text (ws, "{\"type\":\"joined\",\"peers\":[]}");
      break;

    case FAKE_MALFORMED:
      {
        static const char binary[] = "{\"type\":\"joined\",\"peers\":[]}";

        soup_websocket_connection_send_binary (ws, binary, strlen (binary));
      }
      for (guint i = 0; i < G_N_ELEMENTS (malformed_script); i++)
        soup_websocket_connection_send_text (ws, malformed_script[i]);
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
fake_websocket_cb (SoupServer              *server,
                   SoupServerMessage       *msg,
                   const char              *path,
                   SoupWebsocketConnection *connection,
                   gpointer                 user_data)
{
  FakeServer *fake = user_data;

  g_ptr_array_add (fake->connections, g_object_ref (connection));
  g_signal_connect (connection, "message", G_CALLBACK (fake_message_cb), fake);
}

static FakeServer *
fake_server_new (FakeMode mode)
{
  FakeServer *fake = g_new0 (FakeServer, 1);
  g_autoptr(GError) error = NULL;
  const char *protocols[] = { "flowsync-rendezvous.v1", NULL };
  GSList *uris;

  fake->mode = mode;
  fake->connections = g_ptr_array_new_with_free_func (g_object_unref);
  fake->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (fake->server, "/ws", NULL, (char **) protocols,
                                     fake_websocket_cb, fake, NULL);
  soup_server_listen_local (fake->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (fake->server);
  fake->url = g_strdup_printf ("ws://127.0.0.1:%d/ws", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return fake;
}

static gboolean
fake_server_all_closed (FakeServer *fake)
{
  for (guint i = 0; i < fake->connections->len; i++)
    if (soup_websocket_connection_get_state (g_ptr_array_index (fake->connections, i)) !=
        SOUP_WEBSOCKET_STATE_CLOSED)
      return FALSE;
  return TRUE;
}

static void
fake_server_free (FakeServer *fake)
{
  for (guint i = 0; i < fake->connections->len; i++)
    {
      SoupWebsocketConnection *ws = g_ptr_array_index (fake->connections, i);

      g_signal_handlers_disconnect_by_data (ws, fake);
      if (soup_websocket_connection_get_state (ws) == SOUP_WEBSOCKET_STATE_OPEN)
        soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, NULL);
    }
  WAIT_UNTIL (fake_server_all_closed (fake));
  g_ptr_array_unref (fake->connections);
  soup_server_disconnect (fake->server);
  g_object_unref (fake->server);
  g_free (fake->url);
  g_free (fake);
}

static Peer *
fake_peer (FakeServer *fake,
           guint       heartbeat)
{
  Peer *peer = peer_new (flow_rendezvous_signaling_new (fake->url, NULL));

  flow_rendezvous_signaling_set_heartbeat_interval (FLOW_RENDEZVOUS_SIGNALING (peer->signaling),
                                                    heartbeat);
  return peer;
}

static void
test_rendezvous_join_timeout (void)
{
  FakeServer *fake = fake_server_new (FAKE_SILENT);
  Peer *a = fake_peer (fake, 1);

  peer_join (a, ROOM, "alice");
  expect (a, "failed");
  g_assert_cmpstr (a->failure, ==, "The rendezvous server did not answer the join");

  peer_free (a);
  fake_server_free (fake);
}

/* A socket that listens but never accepts: the TCP handshake completes,
 * the HTTP upgrade is never answered. */
static void
test_rendezvous_connect_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;
  Peer *a;

  g_assert_no_error (error);
  g_socket_bind (listener, address, FALSE, &error);
  g_assert_no_error (error);
  g_socket_listen (listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("ws://127.0.0.1:%u/ws",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  a = peer_new (flow_rendezvous_signaling_new (url, NULL));
  g_object_set (a->signaling, "heartbeat-interval", 1, NULL);
  peer_join (a, ROOM, "alice");
  expect (a, "failed");
  g_assert_cmpstr (a->failure, ==, "Could not reach the rendezvous server (timed out)");
  run_for (50);
  expect_nothing_more (a);

  peer_free (a);
  g_socket_close (listener, NULL);
}

static void
test_rendezvous_heartbeat_lost (void)
{
  FakeServer *fake = fake_server_new (FAKE_JOIN_THEN_MUTE);
  Peer *a = fake_peer (fake, 1);

  peer_join (a, ROOM, "alice");
  expect (a, "joined:");
  expect (a, "failed");
  g_assert_cmpstr (a->failure, ==, "The rendezvous server stopped answering");
  g_assert_cmpuint (fake->pings, >=, 1);

  /* The socket is closed on our side too. */
  WAIT_UNTIL (soup_websocket_connection_get_state (g_ptr_array_index (fake->connections, 0)) ==
              SOUP_WEBSOCKET_STATE_CLOSED);

  peer_free (a);
  fake_server_free (fake);
}

static void
test_rendezvous_malformed (void)
{
  FakeServer *fake = fake_server_new (FAKE_MALFORMED);
  Peer *a = fake_peer (fake, 15);
  const guint8 expected[] = { 0x00, 0x01, 0x02, 0xff };

  peer_join (a, ROOM, "bob");
  /* The bad peer ids of the joined list are left out. */
  expect (a, "joined:alice");
  expect (a, "peer-joined:carol");
  expect (a, "signal:carol");
  g_assert_cmpmem (g_bytes_get_data (last_blob (a), NULL), g_bytes_get_size (last_blob (a)),
                   expected, sizeof expected);
  expect (a, "presence:carol");
  g_assert_cmpuint (g_bytes_get_size (last_blob (a)), ==, 0);
  expect_nothing_more (a);
  g_assert_cmpint (flow_signaling_get_state (a->signaling), ==, FLOW_SIGNALING_JOINED);

  peer_free (a);
  fake_server_free (fake);
}

/* ---------------------------------------------------------------------
 * manual signaling
 * --------------------------------------------------------------------- */

typedef struct
{
  Peer *a;
  Peer *b;
} Pair;

static Pair
manual_pair (const char *room_a,
             const char *room_b)
{
  Pair pair = { peer_new (flow_manual_signaling_new ()), peer_new (flow_manual_signaling_new ()) };

  peer_join (pair.a, room_a, "alice");
  peer_join (pair.b, room_b, "bob");
  expect (pair.a, "joined:");
  expect (pair.b, "joined:");
  WAIT_UNTIL (pair.a->outgoing->len == 1 && pair.b->outgoing->len == 1);
  return pair;
}

static void
pair_clear (Pair *pair)
{
  peer_free (pair->a);
  peer_free (pair->b);
}

/* Delivers @from's outgoing texts to @to, as the user would. */
static void
deliver (Peer *from,
         Peer *to)
{
  for (guint i = 0; i < from->outgoing->len; i++)
    {
      g_autoptr(GError) error = NULL;

      to->in_call = TRUE;
      flow_manual_signaling_receive (FLOW_MANUAL_SIGNALING (to->signaling),
                                     g_ptr_array_index (from->outgoing, i), &error);
      to->in_call = FALSE;
      g_assert_no_error (error);
    }
  g_ptr_array_set_size (from->outgoing, 0);
}

static void
assert_refused (Peer       *peer,
                const char *text,
                gint        code)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  peer->in_call = TRUE;
  ok = flow_manual_signaling_receive (FLOW_MANUAL_SIGNALING (peer->signaling), text, &error);
  peer->in_call = FALSE;
  g_assert_error (error, FLOW_MANUAL_SIGNALING_ERROR, code);
  g_assert_false (ok);
  g_test_message ("refused: %s", error->message);
}

static void
test_manual_hello (void)
{
  Pair pair = manual_pair (ROOM, ROOM);
  g_autofree char *hello = g_strdup (g_ptr_array_index (pair.a->outgoing, 0));

  g_assert_true (g_str_has_prefix (hello, "flowsync-signal:1:"));
  deliver (pair.a, pair.b);
  expect (pair.b, "peer-joined:alice");
  deliver (pair.b, pair.a);
  expect (pair.a, "peer-joined:bob");

  /* The same hello again changes nothing; a bye makes alice leave. */
  g_ptr_array_add (pair.a->outgoing, g_strdup (hello));
  g_ptr_array_add (pair.a->outgoing,
                   flow_manual_signaling_dup_bye (FLOW_MANUAL_SIGNALING (pair.a->signaling)));
  deliver (pair.a, pair.b);
  expect (pair.b, "peer-left:alice");
  expect_nothing_more (pair.a);
  expect_nothing_more (pair.b);

  pair_clear (&pair);
}

static void
test_manual_signal (void)
{
  Pair pair = manual_pair (ROOM, ROOM);
  g_autoptr(GBytes) all = all_byte_values ();
  g_autoptr(GBytes) reply = g_bytes_new_static ("answer\0with nul", 15);
  g_autoptr(GError) error = NULL;
  GString *wrapped = g_string_new ("  ");
  const char *text;

  deliver (pair.a, pair.b);
  deliver (pair.b, pair.a);
  expect (pair.a, "peer-joined:bob");
  expect (pair.b, "peer-joined:alice");

  peer_send_signal (pair.a, "bob", all);
  WAIT_UNTIL (pair.a->outgoing->len == 1);
  deliver (pair.a, pair.b);
  expect (pair.b, "signal:alice");
  g_assert_true (g_bytes_equal (last_blob (pair.b), all));

  /* Round trip; a terminal that wrapped the line is fine. */
  peer_send_signal (pair.b, "alice", reply);
  WAIT_UNTIL (pair.b->outgoing->len == 1);
  text = g_ptr_array_index (pair.b->outgoing, 0);
  for (gsize i = 0; text[i] != '\0'; i++)
    {
      g_string_append_c (wrapped, text[i]);
      if (i % 20 == 19)
        g_string_append (wrapped, "\r\n");
    }
  g_string_append (wrapped, "\n");
  g_assert_true (flow_manual_signaling_receive (FLOW_MANUAL_SIGNALING (pair.a->signaling),
                                                wrapped->str, &error));
  g_assert_no_error (error);
  g_string_free (wrapped, TRUE);
  g_ptr_array_set_size (pair.b->outgoing, 0);
  expect (pair.a, "signal:bob");
  g_assert_true (g_bytes_equal (last_blob (pair.a), reply));

  peer_send_presence (pair.b, all);
  WAIT_UNTIL (pair.b->outgoing->len == 1);
  deliver (pair.b, pair.a);
  expect (pair.a, "presence:bob");
  g_assert_true (g_bytes_equal (last_blob (pair.a), all));

  /* Not to someone else. */
  peer_send_signal (pair.a, "mallory", all);
  run_for (50);
  g_assert_cmpuint (pair.a->outgoing->len, ==, 0);

  expect_nothing_more (pair.a);
  expect_nothing_more (pair.b);
  pair_clear (&pair);
}

static char *
forge (const guint8 *envelope,
       gsize         len)
{
  g_autofree char *base64 = g_base64_encode (envelope, len);

  return g_strconcat ("flowsync-signal:1:", base64, NULL);
}

static void
test_manual_garbage (void)
{
  Pair pair = manual_pair (ROOM, ROOM);
  const char *hello = g_ptr_array_index (pair.a->outgoing, 0);
  g_autofree char *truncated = g_strndup (hello, strlen (hello) - 4);
  g_autofree char *bad_char = g_strdup (hello);
  g_autofree char *future = g_strdup_printf ("flowsync-signal:2:%s",
                                             hello + strlen ("flowsync-signal:1:"));
  g_autofree char *long_text = NULL;
  g_autofree char *forged_kind = NULL;
  g_autofree char *forged_length = NULL;
  /* Well-formed base64 of bad envelopes: an unknown kind; a data length
   * that promises more than there is. */
  static const guint8 bad_kind[] = { 9, 2, 'a', 'b', 1, 'x', 0, 0, 0, 0 };
  static const guint8 bad_length[] = { 2, 2, 'a', 'b', 1, 'x', 0, 0, 0, 9, 'z' };

  assert_refused (pair.b, "", FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  assert_refused (pair.b, "hello bob", FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  assert_refused (pair.b, "flowsync-signal:", FLOW_MANUAL_SIGNALING_ERROR_VERSION);
  assert_refused (pair.b, future, FLOW_MANUAL_SIGNALING_ERROR_VERSION);
  assert_refused (pair.b, "flowsync-signal:1:", FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  assert_refused (pair.b, "flowsync-signal:1:!!!!", FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  assert_refused (pair.b, truncated, FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  bad_char[strlen (bad_char) - 6] = '*';
  assert_refused (pair.b, bad_char, FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  long_text = g_strdup_printf ("flowsync-signal:1:%0*d", 300 * 1024, 0);
  assert_refused (pair.b, long_text, FLOW_MANUAL_SIGNALING_ERROR_INVALID);

  forged_kind = forge (bad_kind, sizeof bad_kind);
  assert_refused (pair.b, forged_kind, FLOW_MANUAL_SIGNALING_ERROR_INVALID);
  forged_length = forge (bad_length, sizeof bad_length);
  assert_refused (pair.b, forged_length, FLOW_MANUAL_SIGNALING_ERROR_INVALID);

  /* Our own text pasted back. */
  assert_refused (pair.a, hello, FLOW_MANUAL_SIGNALING_ERROR_OWN_TEXT);

  /* None of it changed anything: the real hello still works. */
  run_for (50);
  expect_nothing_more (pair.b);
  deliver (pair.a, pair.b);
  expect (pair.b, "peer-joined:alice");

  pair_clear (&pair);
}

static void
test_manual_wrong_room (void)
{
  Pair pair = manual_pair (ROOM, ROOM2);
  g_autoptr(GError) error = NULL;

  pair.b->in_call = TRUE;
  g_assert_false (flow_manual_signaling_receive (FLOW_MANUAL_SIGNALING (pair.b->signaling),
                                                 g_ptr_array_index (pair.a->outgoing, 0), &error));
  pair.b->in_call = FALSE;
  g_assert_error (error, FLOW_MANUAL_SIGNALING_ERROR, FLOW_MANUAL_SIGNALING_ERROR_WRONG_ROOM);
  g_assert_cmpstr (error->message, ==, "This answer is for a different room");

  run_for (50);
  expect_nothing_more (pair.b);
  pair_clear (&pair);
}

static void
test_manual_lifecycle (void)
{
  Peer *a = peer_new (flow_manual_signaling_new ());
  Peer *b = peer_new (flow_manual_signaling_new ());
  g_autoptr(GBytes) blob = g_bytes_new_static ("x", 1);
  FlowSignaling *dropped;

  /* Before join: nothing accepted, nothing sent. */
  assert_refused (a, "flowsync-signal:1:AAAA", FLOW_MANUAL_SIGNALING_ERROR_NOT_JOINED);
  g_assert_null (flow_manual_signaling_dup_bye (FLOW_MANUAL_SIGNALING (a->signaling)));
  peer_send_presence (a, blob);

  peer_join (a, ROOM, "alice");
  peer_join (b, ROOM, "bob");
  expect (a, "joined:");
  expect (b, "joined:");

  /* A signal pasted without the hello before it introduces its sender. */
  peer_send_signal (b, "alice", blob);
  WAIT_UNTIL (b->outgoing->len == 2);
  g_ptr_array_remove_index (b->outgoing, 0);
  deliver (b, a);
  expect (a, "peer-joined:bob");
  expect (a, "signal:bob");

  /* The other side restarts under a new id: bob leaves, bob-2 joins. */
  peer_leave (b);
  peer_join (b, ROOM, "bob-2");
  expect (b, "joined:");
  peer_send_signal (b, "alice", blob);
  WAIT_UNTIL (b->outgoing->len == 2);
  deliver (b, a);
  expect (a, "peer-left:bob");
  expect (a, "peer-joined:bob-2");
  expect (a, "signal:bob-2");

  /* After leave, no signal, and texts are refused. */
  peer_send_presence (b, blob);
  WAIT_UNTIL (b->outgoing->len == 1);
  peer_leave (a);
  assert_refused (a, g_ptr_array_index (b->outgoing, 0), FLOW_MANUAL_SIGNALING_ERROR_NOT_JOINED);
  run_for (50);
  expect_nothing_more (a);

  /* Dropping one with events pending is clean. */
  dropped = flow_manual_signaling_new ();
  flow_signaling_join (dropped, ROOM, "carol");
  g_object_unref (dropped);
  run_for (50);

  peer_free (a);
  peer_free (b);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) \
  g_test_add ("/flow/signaling/rendezvous/" path, Fixture, NULL, \
              fixture_setup, fn, fixture_teardown)
  ADD ("join", test_rendezvous_join);
  ADD ("signal", test_rendezvous_signal);
  ADD ("presence", test_rendezvous_presence);
  ADD ("leave-rejoin", test_rendezvous_leave);
  ADD ("server-stopped", test_rendezvous_server_stopped);
  ADD ("duplicate-then-rejoin", test_rendezvous_duplicate_rejoin);
  ADD ("room-full", test_rendezvous_room_full);
  ADD ("token", test_rendezvous_token);
  ADD ("heartbeat-alive", test_rendezvous_heartbeat_alive);
  ADD ("dispose", test_rendezvous_dispose);
  ADD ("tls", test_rendezvous_tls);
#undef ADD
  g_test_add_func ("/flow/signaling/rendezvous/bad-url", test_rendezvous_bad_url);
  g_test_add_func ("/flow/signaling/rendezvous/url-for-host", test_rendezvous_url_for_host);
  g_test_add_func ("/flow/signaling/rendezvous/join-timeout", test_rendezvous_join_timeout);
  g_test_add_func ("/flow/signaling/rendezvous/connect-timeout", test_rendezvous_connect_timeout);
  g_test_add_func ("/flow/signaling/rendezvous/heartbeat-lost", test_rendezvous_heartbeat_lost);
  g_test_add_func ("/flow/signaling/rendezvous/malformed", test_rendezvous_malformed);
  g_test_add_func ("/flow/signaling/manual/hello", test_manual_hello);
  g_test_add_func ("/flow/signaling/manual/signal", test_manual_signal);
  g_test_add_func ("/flow/signaling/manual/garbage", test_manual_garbage);
  g_test_add_func ("/flow/signaling/manual/wrong-room", test_manual_wrong_room);
  g_test_add_func ("/flow/signaling/manual/lifecycle", test_manual_lifecycle);

  return g_test_run ();
}
