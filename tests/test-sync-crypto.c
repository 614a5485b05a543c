/* test-sync-crypto.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "flow-sync-crypto.h"
#include "flow-test-util.h"

/* The key 00 01 02 … 1f, its base64url and the values derived from it. The
 * room id and signaling key were computed once with Python's hashlib
 * (blake2b keyed, and blake2b with salt = subkey id, person = context, which
 * is what crypto_kdf does), so they also pin the derivation to the spec,
 * not just to whatever libsodium call we happen to make. */
#define PINNED_KEY_B64  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"
#define PINNED_ROOM     "05779f4dbc61a7d54add1ad1fa709ea0"
#define PINNED_SIG_KEY  "ae67ca30a4b653426e09dd51bac9ecab06443b7b9699964f257f95a587918c2b"

#define ABYTES      17   /* crypto_secretstream_xchacha20poly1305_ABYTES */
#define HEADERBYTES 24

static void
pinned_key (guint8 key[FLOW_SYNC_KEY_BYTES])
{
  for (guint i = 0; i < FLOW_SYNC_KEY_BYTES; i++)
    key[i] = (guint8) i;
}

static char *
hex (const guint8 *data,
     gsize         len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

static GBytes *
random_bytes (GRand *rand,
              gsize  len)
{
  guint8 *data = g_malloc (len ? len : 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) g_rand_int (rand);
  return g_bytes_new_take (data, len);
}

/* ------------------------------------------------------------------------
 * Invite links
 * ------------------------------------------------------------------------ */

static FlowSyncInvite *
round_trip (const FlowSyncInvite *invite)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *link = flow_sync_invite_to_string (invite);
  FlowSyncInvite *back;

  g_test_message ("link %s", link);
  back = flow_sync_invite_parse (link, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpstr (back->host, ==, invite->host);
  g_assert_cmpuint (back->port, ==, invite->port);
  g_assert_cmpstr (back->room, ==, invite->room);
  g_assert_cmpmem (back->key, sizeof back->key, invite->key, sizeof invite->key);
  g_assert_cmpint (back->role, ==, invite->role);
  return back;
}

static void
test_link_round_trip (void)
{
  struct {
    const char   *host;
    guint16       port;
    FlowSyncRole  role;
    const char   *prefix;
  } cases[] = {
    { "rendezvous.example.org", 443, FLOW_SYNC_ROLE_EDIT, "flowsync://rendezvous.example.org:443/r/" },
    { "rendezvous.example.org", 0, FLOW_SYNC_ROLE_VIEW, "flowsync://rendezvous.example.org/r/" },
    { NULL, 0, FLOW_SYNC_ROLE_EDIT, "flowsync:///r/" },
    { "", 0, FLOW_SYNC_ROLE_VIEW, "flowsync:///r/" },
    { "127.0.0.1", 8080, FLOW_SYNC_ROLE_EDIT, "flowsync://127.0.0.1:8080/r/" },
    { "::1", 8443, FLOW_SYNC_ROLE_EDIT, "flowsync://[::1]:8443/r/" },
    { "fd00:1234::42", 0, FLOW_SYNC_ROLE_VIEW, "flowsync://[fd00:1234::42]/r/" },
    { "[::1]", 1, FLOW_SYNC_ROLE_VIEW, "flowsync://[::1]:1/r/" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FlowSyncInvite) invite = flow_sync_invite_new (cases[i].host, cases[i].port,
                                                               cases[i].role);
      g_autoptr(FlowSyncInvite) back = NULL;
      g_autofree char *link = flow_sync_invite_to_string (invite);
      char room[FLOW_SYNC_ROOM_ID_LEN + 1];

      if (cases[i].host == NULL || *cases[i].host == '\0')
        g_assert_null (invite->host);
      else
        g_assert_cmpstr (invite->host, ==, cases[i].host[0] == '[' ? "::1" : cases[i].host);
      flow_sync_room_id_for_key (invite->key, room);
      g_assert_cmpstr (invite->room, ==, room);

      g_assert_true (g_str_has_prefix (link, cases[i].prefix));
      g_assert_true (g_str_has_suffix (link, cases[i].role == FLOW_SYNC_ROLE_VIEW
                                             ? "&role=view" : "&role=edit"));
      back = round_trip (invite);
    }
}

static void
test_link_parse_pinned (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = NULL;
  guint8 key[FLOW_SYNC_KEY_BYTES];

  pinned_key (key);

  /* No role means edit; blanks around a pasted link are ignored; unknown
   * parameters are ignored (a later version may add some). */
  invite = flow_sync_invite_parse ("  flowsync://[::1]:9000/r/" PINNED_ROOM
                                   "#k=" PINNED_KEY_B64 "&v=2\n", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (invite->host, ==, "::1");
  g_assert_cmpuint (invite->port, ==, 9000);
  g_assert_cmpstr (invite->room, ==, PINNED_ROOM);
  g_assert_cmpmem (invite->key, sizeof invite->key, key, sizeof key);
  g_assert_cmpint (invite->role, ==, FLOW_SYNC_ROLE_EDIT);
  g_clear_pointer (&invite, flow_sync_invite_free);

  invite = flow_sync_invite_parse ("flowsync:///r/" PINNED_ROOM "#role=view&k=" PINNED_KEY_B64,
                                   &error);
  g_assert_no_error (error);
  g_assert_null (invite->host);
  g_assert_cmpuint (invite->port, ==, 0);
  g_assert_cmpint (invite->role, ==, FLOW_SYNC_ROLE_VIEW);
  g_clear_pointer (&invite, flow_sync_invite_free);

  /* The same room, back to text, is byte for byte the canonical link. */
  invite = flow_sync_invite_parse ("flowsync://h.example:7/r/" PINNED_ROOM "#k=" PINNED_KEY_B64,
                                   &error);
  g_assert_no_error (error);
  {
    g_autofree char *link = flow_sync_invite_to_string (invite);

    g_assert_cmpstr (link, ==, "flowsync://h.example:7/r/" PINNED_ROOM
                               "#k=" PINNED_KEY_B64 "&role=edit");
  }
}

/* A link may carry an expiry: it survives the round trip, and past it
 * the link is refused with the date, while the key still parses. */
static void
test_link_expiry (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowSyncInvite) invite = flow_sync_invite_new ("h.example", 7, FLOW_SYNC_ROLE_EDIT);
  g_autoptr(FlowSyncInvite) back = NULL;
  g_autofree char *link = NULL;

  /* Never: no parameter, accepted at any time. */
  link = flow_sync_invite_to_string (invite);
  g_assert_null (strstr (link, "exp="));
  g_assert_true (flow_sync_invite_check_expiry (invite, G_MAXINT64, &error));
  g_assert_no_error (error);
  g_clear_pointer (&link, g_free);

  /* 2026-12-07 12:00:00 UTC */
  invite->expires = 1796644800;
  link = flow_sync_invite_to_string (invite);
  g_assert_nonnull (strstr (link, "&exp=1796644800"));
  back = flow_sync_invite_parse (link, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->expires, ==, 1796644800);
  g_assert_cmpmem (back->key, sizeof back->key, invite->key, sizeof invite->key);

  /* A name rides along, escaped, and comes back as it was. */
  invite->name = g_strdup ("Ada’s Plans & Notes #2 = 100%");
  {
    g_autofree char *named = flow_sync_invite_to_string (invite);
    g_autoptr(FlowSyncInvite) again = flow_sync_invite_parse (named, &error);

    g_assert_no_error (error);
    g_test_message ("%s", named);
    g_assert_null (strstr (strchr (named, '#'), " "));
    g_assert_cmpstr (again->name, ==, "Ada’s Plans & Notes #2 = 100%");
    g_assert_cmpint (again->expires, ==, 1796644800);
  }

  /* A name that is not clean is only a title: left out, the link works.
   * Writing one cleans it; emoji with joiners and non-Latin scripts stay. */
  {
    static const char *unclean[] = {
      "%0A", "a%0Ab", "%FF%FE", "%E2%80%AEevil", "%20%20",
      "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789x",
    };

    for (guint i = 0; i < G_N_ELEMENTS (unclean); i++)
      {
        g_autofree char *text = g_strdup_printf ("flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&name=%s",
                                                 unclean[i]);
        g_autoptr(FlowSyncInvite) parsed = flow_sync_invite_parse (text, &error);

        g_assert_no_error (error);
        g_assert_null (parsed->name);
      }
    g_free (invite->name);
    invite->name = g_strdup ("\u202eAna 👩\u200d💻\n  فاطمه\t");
    {
      g_autofree char *named = flow_sync_invite_to_string (invite);
      g_autoptr(FlowSyncInvite) again = flow_sync_invite_parse (named, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (again->name, ==, "Ana 👩\u200d💻  فاطمه");
    }
    g_free (invite->name);
    invite->name = g_strnfill (150, 'x');
    {
      g_autofree char *named = flow_sync_invite_to_string (invite);
      g_autoptr(FlowSyncInvite) again = flow_sync_invite_parse (named, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (strlen (again->name), ==, FLOW_SYNC_INVITE_NAME_MAX);
    }
    g_clear_pointer (&invite->name, g_free);
  }

  /* Up to the second before, fine; from then on, refused with the date
   * and no key in the message. */
  g_assert_true (flow_sync_invite_check_expiry (back, 1796644799, &error));
  g_assert_no_error (error);
  g_assert_false (flow_sync_invite_check_expiry (back, 1796644800, &error));
  g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_EXPIRED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "expired on"));
  g_assert_nonnull (strstr (error->message, "ask whoever shared it for a new one"));
  {
    g_autofree char *pos = strstr (link, "k=") ? g_strndup (strstr (link, "k=") + 2, 20) : NULL;

    g_assert_null (strstr (error->message, pos));
  }
}

static void
test_link_invalid (void)
{
  /* Each bad link and a piece of the message the user must see. */
  const struct {
    const char *link;
    const char *message;
  } cases[] = {
    { "", "empty" },
    { "   \n", "empty" },
    { "hello world", "not a FlowSync invite link" },
    { "flowsync", "not a FlowSync invite link" },
    { "://", "not a FlowSync invite link" },
    { "\xff\xfe garbage \x01", "not a FlowSync invite link" },
    { "https://example.org/r/" PINNED_ROOM "#k=" PINNED_KEY_B64, "should start with" },
    { "mailto:someone@example.org", "should start with" },
    { "flowsync:/r/" PINNED_ROOM "#k=" PINNED_KEY_B64, "no “//”" },
    { "flowsync://eve@host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64, "user name" },
    { "flowsync://host:0/r/" PINNED_ROOM "#k=" PINNED_KEY_B64, "invalid port" },
    { "flowsync://host:99999/r/" PINNED_ROOM "#k=" PINNED_KEY_B64, "not a FlowSync invite link" },
    { "flowsync://[::1/r/" PINNED_ROOM "#k=" PINNED_KEY_B64, "not a FlowSync invite link" },
    { "flowsync://host/" PINNED_ROOM "#k=" PINNED_KEY_B64, "does not name a room" },
    { "flowsync://host/r/#k=" PINNED_KEY_B64, "does not name a room" },
    { "flowsync://host#k=" PINNED_KEY_B64, "does not name a room" },
    { "flowsync://host/r/" PINNED_ROOM, "missing its key" },
    { "flowsync://host/r/" PINNED_ROOM "#", "missing its key" },
    { "flowsync://host/r/" PINNED_ROOM "#role=edit", "missing its key" },
    { "flowsync://host/r/" PINNED_ROOM "#k=", "missing its key" },
    { "flowsync://host/r/" PINNED_ROOM "#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", "too short" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "AAAA", "too long" },
    { "flowsync://host/r/" PINNED_ROOM "#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+", "damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh!", "damaged" },
    /* The last character carries 2 bits that must be zero. */
    { "flowsync://host/r/" PINNED_ROOM "#k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9", "damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=%zz", "not a FlowSync invite link" },
    { "flowsync://host/r/" PINNED_ROOM "#k=%00", "bad %-escape" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&k=" PINNED_KEY_B64, "two keys" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&role=edit&role=view", "two roles" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&role=admin", "unknown role “admin”" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&role=", "unknown role" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&role=EDIT", "unknown role" },
    { "flowsync://host/r/00000000000000000000000000000000#k=" PINNED_KEY_B64, "does not match its key" },
    { "flowsync://host/r/05779F4DBC61A7D54ADD1AD1FA709EA0#k=" PINNED_KEY_B64, "does not match its key" },
    { "flowsync://host/r/" PINNED_ROOM "/#k=" PINNED_KEY_B64, "does not match its key" },
    { "flowsync://host/r/" PINNED_ROOM "#k=BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8", "does not match its key" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=0", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=-5", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=+5", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=1e9", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=tomorrow", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=253402300800", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=99999999999999999999999", "expiry is damaged" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&exp=5&exp=6", "two expiry dates" },
    { "flowsync://host/r/" PINNED_ROOM "#k=" PINNED_KEY_B64 "&name=a&name=b", "two workspace names" },

  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowSyncInvite) invite = flow_sync_invite_parse (cases[i].link, &error);

      g_test_message ("case %u: %s", i, error ? error->message : "(parsed)");
      g_assert_null (invite);
      g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      /* Messages end up in dialogs and logs: never with the key in them. */
      g_assert_null (strstr (error->message, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"));
    }
}

/* Random bytes, and random mutations of a good link, never crash the parser
 * and never give an invite whose room does not belong to its key. */
static void
test_link_garbage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowSyncInvite) good = flow_sync_invite_new ("[::1]", 5, FLOW_SYNC_ROLE_VIEW);
  g_autofree char *link = flow_sync_invite_to_string (good);
  gsize link_len = strlen (link);

  for (guint i = 0; i < 2000; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowSyncInvite) invite = NULL;
      g_autofree char *text = NULL;

      if (i % 2 == 0)
        {
          gsize len = g_rand_int_range (rand, 0, 120);

          text = g_malloc (len + 1);
          for (gsize j = 0; j < len; j++)
            text[j] = (char) g_rand_int_range (rand, 1, 256);
          text[len] = '\0';
        }
      else
        {
          text = g_strdup (link);
          text[g_rand_int_range (rand, 0, link_len)] = (char) g_rand_int_range (rand, 1, 256);
        }

      invite = flow_sync_invite_parse (text, &error);
      if (invite == NULL)
        {
          g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK);
        }
      else
        {
          char room[FLOW_SYNC_ROOM_ID_LEN + 1];

          flow_sync_room_id_for_key (invite->key, room);
          g_assert_cmpstr (room, ==, invite->room);
        }
    }
}

/* ------------------------------------------------------------------------
 * Room id and signaling key
 * ------------------------------------------------------------------------ */

static void
test_room_id (void)
{
  guint8 key[FLOW_SYNC_KEY_BYTES];
  char room[FLOW_SYNC_ROOM_ID_LEN + 1];
  char other[FLOW_SYNC_ROOM_ID_LEN + 1];

  pinned_key (key);
  flow_sync_room_id_for_key (key, room);
  g_assert_cmpstr (room, ==, PINNED_ROOM);
  g_assert_cmpuint (strlen (room), ==, FLOW_SYNC_ROOM_ID_LEN);

  /* One bit of key changes the room. */
  key[31] ^= 0x80;
  flow_sync_room_id_for_key (key, other);
  g_assert_cmpstr (other, !=, room);

  for (guint i = 0; i < 32; i++)
    {
      g_autoptr(FlowSyncInvite) a = flow_sync_invite_new (NULL, 0, FLOW_SYNC_ROLE_EDIT);
      g_autoptr(FlowSyncInvite) b = flow_sync_invite_new (NULL, 0, FLOW_SYNC_ROLE_EDIT);

      g_assert_cmpmem (a->key, 0, b->key, 0);
      g_assert_true (memcmp (a->key, b->key, sizeof a->key) != 0);
      g_assert_cmpstr (a->room, !=, b->room);
    }
}

static void
test_signaling_key (void)
{
  guint8 key[FLOW_SYNC_KEY_BYTES];
  guint8 sig[FLOW_SYNC_KEY_BYTES];
  g_autofree char *sig_hex = NULL;

  pinned_key (key);
  flow_sync_signaling_key (key, sig);
  sig_hex = hex (sig, sizeof sig);
  g_assert_cmpstr (sig_hex, ==, PINNED_SIG_KEY);
  g_assert_true (memcmp (sig, key, sizeof key) != 0);
}

/* ------------------------------------------------------------------------
 * Sealed signaling blobs
 * ------------------------------------------------------------------------ */

static void
assert_open_fails (const guint8        key[FLOW_SYNC_KEY_BYTES],
                   GBytes             *sealed,
                   FlowSyncCryptoError code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) plain = flow_sync_open (key, sealed, &error);

  g_assert_null (plain);
  g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, (int) code);
}

static void
test_seal_open (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint8 room_key[FLOW_SYNC_KEY_BYTES];
  guint8 key[FLOW_SYNC_KEY_BYTES];
  guint8 other[FLOW_SYNC_KEY_BYTES];
  const gsize sizes[] = { 0, 1, 15, 16, 17, 200, 4096, 65536 + 3 };

  pinned_key (room_key);
  flow_sync_signaling_key (room_key, key);
  memcpy (other, key, sizeof key);
  other[0] ^= 1;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) data = random_bytes (rand, sizes[i]);
      g_autoptr(GBytes) sealed = flow_sync_seal (key, g_bytes_get_data (data, NULL), sizes[i]);
      g_autoptr(GBytes) again = flow_sync_seal (key, g_bytes_get_data (data, NULL), sizes[i]);
      g_autoptr(GBytes) plain = flow_sync_open (key, sealed, &error);

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (plain, data));
      g_assert_cmpuint (g_bytes_get_size (sealed), ==, 24 + 16 + sizes[i]);
      /* A fresh nonce each time: the same message never seals the same. */
      g_assert_false (g_bytes_equal (sealed, again));

      assert_open_fails (other, sealed, FLOW_SYNC_CRYPTO_ERROR_FORGED);
    }
}

static void
test_seal_tampered (void)
{
  guint8 key[FLOW_SYNC_KEY_BYTES];
  const char *msg = "{\"ufrag\":\"abcd\",\"pwd\":\"secret\"}";
  g_autoptr(GBytes) sealed = NULL;
  const guint8 *data;
  gsize len;

  pinned_key (key);
  sealed = flow_sync_seal (key, (const guint8 *) msg, strlen (msg));
  data = g_bytes_get_data (sealed, &len);

  /* Every single-bit flip, in nonce, MAC or ciphertext, is caught. */
  for (gsize i = 0; i < len; i++)
    for (guint bit = 0; bit < 8; bit++)
      {
        g_autofree guint8 *copy = g_memdup2 (data, len);
        g_autoptr(GBytes) bad = NULL;

        copy[i] ^= 1u << bit;
        bad = g_bytes_new (copy, len);
        assert_open_fails (key, bad, FLOW_SYNC_CRYPTO_ERROR_FORGED);
      }

  /* Shorter than nonce + MAC: truncated; any shorter blob that is still
   * long enough: forged. */
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr(GBytes) bad = g_bytes_new (data, cut);

      assert_open_fails (key, bad,
                         cut < 24 + 16 ? FLOW_SYNC_CRYPTO_ERROR_TRUNCATED
                                       : FLOW_SYNC_CRYPTO_ERROR_FORGED);
    }
}

/* ------------------------------------------------------------------------
 * Session keys
 * ------------------------------------------------------------------------ */

static void
test_session_keys (void)
{
  g_autoptr(GError) error = NULL;
  FlowSyncKeypair client, server, eve;
  guint8 c_rx[32], c_tx[32], s_rx[32], s_tx[32], e_rx[32], e_tx[32];

  flow_sync_keypair_generate (&client);
  flow_sync_keypair_generate (&server);
  flow_sync_keypair_generate (&eve);

  g_assert_true (flow_sync_session_keys (&client, server.public_key, TRUE, c_rx, c_tx, &error));
  g_assert_no_error (error);
  g_assert_true (flow_sync_session_keys (&server, client.public_key, FALSE, s_rx, s_tx, &error));
  g_assert_no_error (error);

  g_assert_cmpmem (c_rx, 32, s_tx, 32);
  g_assert_cmpmem (c_tx, 32, s_rx, 32);
  g_assert_true (memcmp (c_rx, c_tx, 32) != 0);

  /* A third key pair (a man in the middle that swapped in its own public
   * key) ends up with other keys. */
  g_assert_true (flow_sync_session_keys (&eve, client.public_key, FALSE, e_rx, e_tx, &error));
  g_assert_true (memcmp (e_rx, s_rx, 32) != 0);
  g_assert_true (memcmp (e_tx, s_tx, 32) != 0);

  flow_sync_keypair_clear (&client);
  for (guint i = 0; i < sizeof client; i++)
    g_assert_cmpuint (((guint8 *) &client)[i], ==, 0);
  flow_sync_keypair_clear (&server);
  flow_sync_keypair_clear (&eve);
}

static void
test_session_keys_zero_public (void)
{
  g_autoptr(GError) error = NULL;
  FlowSyncKeypair ours;
  const guint8 zero[FLOW_SYNC_PUBLIC_BYTES] = { 0 };
  guint8 rx[32], tx[32];

  flow_sync_keypair_generate (&ours);
  memset (rx, 0xaa, sizeof rx);
  memset (tx, 0xaa, sizeof tx);

  for (guint client = 0; client < 2; client++)
    {
      g_assert_false (flow_sync_session_keys (&ours, zero, client, rx, tx, &error));
      g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_FAILED);
      g_clear_error (&error);
      g_assert_cmpmem (rx, sizeof rx, zero, sizeof zero);
      g_assert_cmpmem (tx, sizeof tx, zero, sizeof zero);
    }
  flow_sync_keypair_clear (&ours);
}

/* ------------------------------------------------------------------------
 * FlowSyncCipher
 * ------------------------------------------------------------------------ */

/* Two ends of one link, keyed as the real handshake keys them. */
typedef struct
{
  FlowSyncCipher *a;
  FlowSyncCipher *b;
  GBytes         *a_header;
  GBytes         *b_header;
} Pair;

static void
pair_init (Pair *pair)
{
  FlowSyncKeypair ka, kb;
  guint8 a_rx[32], a_tx[32], b_rx[32], b_tx[32];

  flow_sync_keypair_generate (&ka);
  flow_sync_keypair_generate (&kb);
  g_assert_true (flow_sync_session_keys (&ka, kb.public_key, TRUE, a_rx, a_tx, NULL));
  g_assert_true (flow_sync_session_keys (&kb, ka.public_key, FALSE, b_rx, b_tx, NULL));
  flow_sync_keypair_clear (&ka);
  flow_sync_keypair_clear (&kb);

  pair->a = flow_sync_cipher_new (a_tx, a_rx);
  pair->b = flow_sync_cipher_new (b_tx, b_rx);
  pair->a_header = flow_sync_cipher_start (pair->a);
  pair->b_header = flow_sync_cipher_start (pair->b);
  g_assert_cmpuint (g_bytes_get_size (pair->a_header), ==, HEADERBYTES);
}

static void
pair_clear (Pair *pair)
{
  g_clear_pointer (&pair->a, flow_sync_cipher_free);
  g_clear_pointer (&pair->b, flow_sync_cipher_free);
  g_clear_pointer (&pair->a_header, g_bytes_unref);
  g_clear_pointer (&pair->b_header, g_bytes_unref);
}

static GBytes *
seal (FlowSyncCipher *cipher,
      const char     *text,
      gboolean        final)
{
  GBytes *record = flow_sync_cipher_seal (cipher, (const guint8 *) text, strlen (text), final);

  g_assert_nonnull (record);
  g_assert_cmpuint (g_bytes_get_size (record), ==, 4 + strlen (text) + ABYTES);
  return record;
}

static gboolean
feed_bytes (FlowSyncCipher  *cipher,
            GBytes          *bytes,
            GByteArray      *plain,
            gboolean        *final,
            GError         **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  return flow_sync_cipher_feed (cipher, data, len, plain, final, error);
}

static void
feed_ok (FlowSyncCipher *cipher,
         GBytes         *bytes,
         GByteArray     *plain)
{
  g_autoptr(GError) error = NULL;
  gboolean final;

  gboolean ok = feed_bytes (cipher, bytes, plain, &final, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
feed_fails (FlowSyncCipher      *cipher,
            GBytes              *bytes,
            FlowSyncCryptoError  code)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  gboolean final = TRUE;

  g_assert_false (feed_bytes (cipher, bytes, plain, &final, &error));
  g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, (int) code);
  g_test_message ("refused: %s", error->message);
  g_assert_cmpuint (plain->len, ==, 0);
  g_assert_false (final);
}

/* After an error, everything fails: feeding (with the same error), even
 * valid-looking bytes or nothing at all, and sealing. */
static void
assert_dead (FlowSyncCipher      *cipher,
             FlowSyncCryptoError  code)
{
  const guint8 byte = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) sealed = NULL;

  g_assert_false (flow_sync_cipher_feed (cipher, &byte, 1, plain, NULL, &error));
  g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, (int) code);
  g_clear_error (&error);
  g_assert_false (flow_sync_cipher_feed (cipher, NULL, 0, plain, NULL, &error));
  g_assert_error (error, FLOW_SYNC_CRYPTO_ERROR, (int) code);
  g_assert_cmpuint (plain->len, ==, 0);

  sealed = flow_sync_cipher_seal (cipher, &byte, 1, FALSE);
  g_assert_null (sealed);
}

/* A sender's whole stream, its header and @n random records (the last one
 * FINAL), and the plaintext it carries. Some records are empty. */
static GByteArray *
make_stream (FlowSyncCipher *sender,
             GBytes         *header,
             GRand          *rand,
             guint           n,
             GByteArray     *expected)
{
  GByteArray *stream = g_byte_array_new ();

  g_byte_array_append (stream, g_bytes_get_data (header, NULL), HEADERBYTES);
  for (guint i = 0; i < n; i++)
    {
      gsize len = g_rand_int_range (rand, 0, 8) == 0 ? 0 : g_rand_int_range (rand, 1, 3000);
      g_autoptr(GBytes) data = random_bytes (rand, len);
      g_autoptr(GBytes) record = flow_sync_cipher_seal (sender, g_bytes_get_data (data, NULL),
                                                        len, i == n - 1);

      g_byte_array_append (expected, g_bytes_get_data (data, NULL), len);
      g_byte_array_append (stream, g_bytes_get_data (record, NULL), g_bytes_get_size (record));
    }
  return stream;
}

static void
test_cipher_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GByteArray) by_byte = g_byte_array_new ();
  g_autoptr(GByteArray) by_chunk = g_byte_array_new ();
  g_autoptr(GByteArray) stream = NULL;
  Pair pair = { 0 };
  Pair other = { 0 };
  gboolean final = FALSE;
  gboolean ok;
  gsize off;

  pair_init (&pair);
  stream = make_stream (pair.a, pair.a_header, rand, 100, expected);

  /* Byte by byte: FINAL shows up with the very last byte, not before. */
  for (off = 0; off < stream->len; off++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (final);
      ok = flow_sync_cipher_feed (pair.b, stream->data + off, 1, by_byte, &final, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
    }
  g_assert_true (final);
  g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), ==, 0);
  g_assert_cmpmem (by_byte->data, by_byte->len, expected->data, expected->len);

  /* An empty feed after FINAL is fine and still says FINAL. */
  final = FALSE;
  g_assert_true (flow_sync_cipher_feed (pair.b, NULL, 0, by_byte, &final, NULL));
  g_assert_true (final);

  /* The other direction of a second link, in random chunks. */
  pair_init (&other);
  g_byte_array_set_size (expected, 0);
  g_clear_pointer (&stream, g_byte_array_unref);
  stream = make_stream (other.b, other.b_header, rand, 300, expected);
  final = FALSE;
  for (off = 0; off < stream->len;)
    {
      g_autoptr(GError) error = NULL;
      gsize want = g_rand_int_range (rand, 1, 9000);  /* not inside MIN(): it evaluates twice */
      gsize chunk = MIN (stream->len - off, want);

      g_assert_false (final);
      ok = flow_sync_cipher_feed (other.a, stream->data + off, chunk, by_chunk, &final, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      off += chunk;
    }
  g_assert_true (final);
  g_assert_cmpuint (flow_sync_cipher_get_pending (other.a), ==, 0);
  g_assert_cmpmem (by_chunk->data, by_chunk->len, expected->data, expected->len);

  pair_clear (&pair);
  pair_clear (&other);
}

/* Both directions of one link at once, interleaved as a real link is. */
static void
test_cipher_both_directions (void)
{
  g_autoptr(GByteArray) at_a = g_byte_array_new ();
  g_autoptr(GByteArray) at_b = g_byte_array_new ();
  Pair pair = { 0 };

  pair_init (&pair);
  feed_ok (pair.b, pair.a_header, at_b);
  feed_ok (pair.a, pair.b_header, at_a);
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *to_b = g_strdup_printf ("a says %u;", i);
      g_autofree char *to_a = g_strdup_printf ("b says %u;", i);
      g_autoptr(GBytes) r1 = seal (pair.a, to_b, i == 49);
      g_autoptr(GBytes) r2 = seal (pair.b, to_a, FALSE);

      feed_ok (pair.b, r1, at_b);
      feed_ok (pair.a, r2, at_a);
    }
  g_assert_true (g_str_has_prefix ((char *) at_b->data, "a says 0;a says 1;"));
  g_assert_true (g_str_has_prefix ((char *) at_a->data, "b says 0;b says 1;"));
  pair_clear (&pair);
}

static void
test_cipher_large_record (void)
{
  const gsize big = 16 * 1024 * 1024;
  const gsize chunk = 64 * 1024;
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autofree guint8 *data = g_malloc (FLOW_SYNC_RECORD_MAX);
  g_autoptr(GBytes) record = NULL;
  g_autoptr(GBytes) max_record = NULL;
  const guint8 *bytes;
  gsize len;
  Pair pair = { 0 };
  gboolean final = FALSE;

  for (gsize i = 0; i < FLOW_SYNC_RECORD_MAX; i++)
    data[i] = (guint8) (i * 131 + (i >> 16));

  pair_init (&pair);
  feed_ok (pair.b, pair.a_header, plain);
  record = flow_sync_cipher_seal (pair.a, data, big, FALSE);
  bytes = g_bytes_get_data (record, &len);
  g_assert_cmpuint (len, ==, 4 + big + ABYTES);

  for (gsize off = 0; off < len; off += chunk)
    {
      g_autoptr(GError) error = NULL;
      gsize n = MIN (chunk, len - off);

      g_assert_true (flow_sync_cipher_feed (pair.b, bytes + off, n, plain, &final, &error));
      g_assert_no_error (error);
      if (off + n < len)
        {
          g_assert_cmpuint (plain->len, ==, 0);
          g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), ==, off + n);
        }
    }
  g_assert_false (final);
  g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), ==, 0);
  g_assert_cmpmem (plain->data, plain->len, data, big);

  /* The largest record allowed, sealed FINAL, in one piece. */
  g_byte_array_set_size (plain, 0);
  max_record = flow_sync_cipher_seal (pair.a, data, FLOW_SYNC_RECORD_MAX, TRUE);
  g_assert_true (feed_bytes (pair.b, max_record, plain, &final, NULL));
  g_assert_true (final);
  g_assert_cmpmem (plain->data, plain->len, data, FLOW_SYNC_RECORD_MAX);

  pair_clear (&pair);
}

static void
test_cipher_empty_record (void)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) empty = NULL;
  g_autoptr(GBytes) final_empty = NULL;
  gboolean final = TRUE;
  Pair pair = { 0 };

  pair_init (&pair);
  empty = flow_sync_cipher_seal (pair.a, NULL, 0, FALSE);
  final_empty = flow_sync_cipher_seal (pair.a, NULL, 0, TRUE);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, 4 + ABYTES);

  feed_ok (pair.b, pair.a_header, plain);
  g_assert_true (feed_bytes (pair.b, empty, plain, &final, NULL));
  g_assert_false (final);
  g_assert_true (feed_bytes (pair.b, final_empty, plain, &final, NULL));
  g_assert_true (final);
  g_assert_cmpuint (plain->len, ==, 0);
  pair_clear (&pair);
}

static void
test_cipher_tampered (void)
{
  const gsize len = 4 + strlen ("second") + ABYTES;
  Pair pair = { 0 };

  /* Every byte of the second record's ciphertext (after the length), each
   * time on a fresh link whose receiver took the first record fine. */
  for (gsize i = 4; i < len; i++)
    {
      g_autoptr(GByteArray) plain = g_byte_array_new ();
      g_autoptr(GBytes) good = NULL;
      g_autoptr(GBytes) r2 = NULL;
      g_autoptr(GBytes) bad = NULL;
      g_autofree guint8 *copy = NULL;

      pair_init (&pair);
      good = seal (pair.a, "first record", FALSE);
      r2 = seal (pair.a, "second", FALSE);
      copy = g_memdup2 (g_bytes_get_data (r2, NULL), len);
      copy[i] ^= 0x40;
      bad = g_bytes_new_take (g_steal_pointer (&copy), len);

      feed_ok (pair.b, pair.a_header, plain);
      feed_ok (pair.b, good, plain);
      g_assert_cmpmem (plain->data, plain->len, "first record", 12);
      feed_fails (pair.b, bad, FLOW_SYNC_CRYPTO_ERROR_FORGED);
      assert_dead (pair.b, FLOW_SYNC_CRYPTO_ERROR_FORGED);
      pair_clear (&pair);
    }

  /* A tampered header makes the first record fail. */
  {
    g_autoptr(GByteArray) plain = g_byte_array_new ();
    g_autofree guint8 *header = NULL;
    g_autoptr(GBytes) bad_header = NULL;
    g_autoptr(GBytes) r1 = NULL;

    pair_init (&pair);
    header = g_memdup2 (g_bytes_get_data (pair.a_header, NULL), HEADERBYTES);
    header[3] ^= 1;
    bad_header = g_bytes_new (header, HEADERBYTES);
    r1 = seal (pair.a, "first record", FALSE);
    feed_ok (pair.b, bad_header, plain);
    feed_fails (pair.b, r1, FLOW_SYNC_CRYPTO_ERROR_FORGED);
    assert_dead (pair.b, FLOW_SYNC_CRYPTO_ERROR_FORGED);
    pair_clear (&pair);
  }
}

static void
test_cipher_replay_reorder (void)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) r1 = NULL;
  g_autoptr(GBytes) r2 = NULL;
  g_autoptr(GBytes) r3 = NULL;
  Pair pair = { 0 };

  /* Replayed: the same ciphertext twice. */
  pair_init (&pair);
  r1 = seal (pair.a, "pay 10", FALSE);
  feed_ok (pair.b, pair.a_header, plain);
  feed_ok (pair.b, r1, plain);
  feed_fails (pair.b, r1, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  assert_dead (pair.b, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  pair_clear (&pair);
  g_clear_pointer (&r1, g_bytes_unref);

  /* Reordered: the second record first. */
  pair_init (&pair);
  r1 = seal (pair.a, "one", FALSE);
  r2 = seal (pair.a, "two", FALSE);
  feed_ok (pair.b, pair.a_header, plain);
  feed_fails (pair.b, r2, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  assert_dead (pair.b, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  pair_clear (&pair);
  g_clear_pointer (&r1, g_bytes_unref);
  g_clear_pointer (&r2, g_bytes_unref);

  /* Dropped: the third record right after the first. */
  pair_init (&pair);
  r1 = seal (pair.a, "one", FALSE);
  r2 = seal (pair.a, "two", FALSE);
  r3 = seal (pair.a, "three", FALSE);
  g_byte_array_set_size (plain, 0);
  feed_ok (pair.b, pair.a_header, plain);
  feed_ok (pair.b, r1, plain);
  feed_fails (pair.b, r3, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  pair_clear (&pair);
}

static void
test_cipher_wrong_key (void)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) record = NULL;
  Pair pair = { 0 };
  Pair eve = { 0 };

  /* Records of one link, header included, into another link's receiver. */
  pair_init (&pair);
  pair_init (&eve);
  record = seal (pair.a, "hello", FALSE);
  feed_ok (eve.b, pair.a_header, plain);
  feed_fails (eve.b, record, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  assert_dead (eve.b, FLOW_SYNC_CRYPTO_ERROR_FORGED);

  /* Our own direction reflected back at us: a different key too. */
  feed_ok (pair.a, pair.a_header, plain);
  feed_fails (pair.a, record, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  pair_clear (&pair);
  pair_clear (&eve);
}

static GBytes *
length_prefix (guint32 len)
{
  guint32 be = GUINT32_TO_BE (len);

  return g_bytes_new (&be, 4);
}

/* The bytes of a read holding all the given pieces, in order. */
static GBytes *
join (GBytes *first,
      ...) G_GNUC_NULL_TERMINATED;

static GBytes *
join (GBytes *first,
      ...)
{
  GByteArray *joined = g_byte_array_new ();
  va_list args;

  va_start (args, first);
  for (GBytes *piece = first; piece != NULL; piece = va_arg (args, GBytes *))
    g_byte_array_append (joined, g_bytes_get_data (piece, NULL), g_bytes_get_size (piece));
  va_end (args);
  return g_byte_array_free_to_bytes (joined);
}

static void
test_cipher_bad_length (void)
{
  const guint32 lengths[] = { 0, 1, ABYTES - 1, FLOW_SYNC_RECORD_MAX + ABYTES + 1, G_MAXUINT32 };
  g_autoptr(GBytes) max = length_prefix (FLOW_SYNC_RECORD_MAX + ABYTES);
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  Pair pair = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr(GBytes) prefix = length_prefix (lengths[i]);

      /* Refused from the four length bytes alone, before any body. */
      pair_init (&pair);
      feed_ok (pair.b, pair.a_header, plain);
      feed_fails (pair.b, prefix, FLOW_SYNC_CRYPTO_ERROR_TOO_LARGE);
      assert_dead (pair.b, FLOW_SYNC_CRYPTO_ERROR_TOO_LARGE);
      pair_clear (&pair);
    }

  /* The largest length is accepted and waited for. */
  pair_init (&pair);
  feed_ok (pair.b, pair.a_header, plain);
  feed_ok (pair.b, max, plain);
  g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), ==, 4);
  pair_clear (&pair);
}

static void
test_cipher_after_final (void)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) last = NULL;
  g_autoptr(GBytes) extra = g_bytes_new ("x", 1);
  g_autoptr(GBytes) zeros = g_bytes_new ("\0\0\0", 3);
  g_autoptr(GBytes) joined = NULL;
  gboolean final = FALSE;
  Pair pair = { 0 };

  /* A byte in a later read. */
  pair_init (&pair);
  last = seal (pair.a, "bye", TRUE);
  feed_ok (pair.b, pair.a_header, plain);
  g_assert_true (feed_bytes (pair.b, last, plain, &final, NULL));
  g_assert_true (final);
  g_assert_cmpmem (plain->data, plain->len, "bye", 3);
  feed_fails (pair.b, extra, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  assert_dead (pair.b, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  pair_clear (&pair);
  g_clear_pointer (&last, g_bytes_unref);

  /* In the same read as FINAL: the whole read is refused, FINAL included. */
  pair_init (&pair);
  last = seal (pair.a, "bye", TRUE);
  joined = join (pair.a_header, last, zeros, NULL);
  feed_fails (pair.b, joined, FLOW_SYNC_CRYPTO_ERROR_FORGED);
  pair_clear (&pair);
}

static void
test_cipher_garbage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());

  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(GByteArray) plain = g_byte_array_new ();
      g_autoptr(GByteArray) garbage = g_byte_array_new ();
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) noise = random_bytes (rand, g_rand_int_range (rand, 0, 200));
      gsize off = 0;
      gboolean ok = TRUE;
      Pair pair = { 0 };
      guint32 clen = g_rand_int_range (rand, ABYTES, 200);
      guint32 be = GUINT32_TO_BE (clen);

      /* A random header, then a record of plausible length and random
       * content (or pure noise): garbage must fail, never decrypt. */
      pair_init (&pair);
      for (guint j = 0; j < HEADERBYTES; j++)
        {
          guint8 b = (guint8) g_rand_int (rand);

          g_byte_array_append (garbage, &b, 1);
        }
      if (i % 2 == 0)
        g_byte_array_append (garbage, (const guint8 *) &be, 4);
      g_byte_array_append (garbage, g_bytes_get_data (noise, NULL), g_bytes_get_size (noise));
      for (guint j = 0; j < clen + 4; j++)
        {
          guint8 b = (guint8) g_rand_int (rand);

          g_byte_array_append (garbage, &b, 1);
        }

      while (ok && off < garbage->len)
        {
          gsize want = g_rand_int_range (rand, 1, 64);
          gsize n = MIN (garbage->len - off, want);

          ok = flow_sync_cipher_feed (pair.b, garbage->data + off, n, plain, NULL, &error);
          off += n;
        }
      /* A random length may be out of range (TOO_LARGE) or in range and
       * waiting for more; in range and complete means FORGED. */
      if (ok)
        g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), >, 0);
      else
        {
          g_assert_true (g_error_matches (error, FLOW_SYNC_CRYPTO_ERROR,
                                          FLOW_SYNC_CRYPTO_ERROR_FORGED) ||
                         g_error_matches (error, FLOW_SYNC_CRYPTO_ERROR,
                                          FLOW_SYNC_CRYPTO_ERROR_TOO_LARGE));
          assert_dead (pair.b, (FlowSyncCryptoError) error->code);
        }
      g_assert_cmpuint (plain->len, ==, 0);
      pair_clear (&pair);
    }
}

static void
test_cipher_truncated (void)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) r1 = NULL;
  g_autoptr(GBytes) cut = NULL;
  g_autoptr(GBytes) half_header = NULL;
  gboolean final = TRUE;
  Pair pair = { 0 };

  pair_init (&pair);

  /* Half a header: pending, nothing else. */
  half_header = g_bytes_new (g_bytes_get_data (pair.a_header, NULL), 10);
  g_assert_true (feed_bytes (pair.b, half_header, plain, &final, NULL));
  g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), ==, 10);
  pair_clear (&pair);

  /* A record missing its last byte: the stream ends with bytes pending,
   * no plaintext, and no FINAL, which is how the link tells a cut stream
   * from a clean end. */
  pair_init (&pair);
  r1 = seal (pair.a, "the whole story", TRUE);
  cut = g_bytes_new (g_bytes_get_data (r1, NULL), g_bytes_get_size (r1) - 1);
  feed_ok (pair.b, pair.a_header, plain);
  g_assert_true (feed_bytes (pair.b, cut, plain, &final, NULL));
  g_assert_false (final);
  g_assert_cmpuint (plain->len, ==, 0);
  g_assert_cmpuint (flow_sync_cipher_get_pending (pair.b), ==, g_bytes_get_size (r1) - 1);
  pair_clear (&pair);
}

/* A read that holds good records and then a bad one gives nothing. */
static void
test_cipher_all_or_nothing (void)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) joined = NULL;
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(GBytes) r1 = NULL;
  g_autoptr(GBytes) r2 = NULL;
  guint8 *data;
  gsize len;
  Pair pair = { 0 };

  pair_init (&pair);
  r1 = seal (pair.a, "good", FALSE);
  r2 = seal (pair.a, "bad!", FALSE);
  joined = join (pair.a_header, r1, r2, NULL);
  len = g_bytes_get_size (joined);
  data = g_memdup2 (g_bytes_get_data (joined, NULL), len);
  data[len - 1] ^= 1;
  bad = g_bytes_new_take (data, len);

  g_byte_array_append (plain, (const guint8 *) "kept", 4);
  g_assert_false (feed_bytes (pair.b, bad, plain, NULL, NULL));
  g_assert_cmpmem (plain->data, plain->len, "kept", 4);
  pair_clear (&pair);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_assert_true (flow_sync_crypto_init ());

  g_test_add_func ("/flow/sync/crypto/link/round-trip", test_link_round_trip);
  g_test_add_func ("/flow/sync/crypto/link/parse-pinned", test_link_parse_pinned);
  g_test_add_func ("/flow/sync/crypto/link/invalid", test_link_invalid);
  g_test_add_func ("/flow/sync/crypto/link/expiry", test_link_expiry);
  g_test_add_func ("/flow/sync/crypto/link/garbage", test_link_garbage);
  g_test_add_func ("/flow/sync/crypto/room-id", test_room_id);
  g_test_add_func ("/flow/sync/crypto/signaling-key", test_signaling_key);
  g_test_add_func ("/flow/sync/crypto/seal/round-trip", test_seal_open);
  g_test_add_func ("/flow/sync/crypto/seal/tampered", test_seal_tampered);
  g_test_add_func ("/flow/sync/crypto/kx/match", test_session_keys);
  g_test_add_func ("/flow/sync/crypto/kx/zero-public", test_session_keys_zero_public);
  g_test_add_func ("/flow/sync/crypto/cipher/round-trip", test_cipher_round_trip);
  g_test_add_func ("/flow/sync/crypto/cipher/both-directions", test_cipher_both_directions);
  g_test_add_func ("/flow/sync/crypto/cipher/large-record", test_cipher_large_record);
  g_test_add_func ("/flow/sync/crypto/cipher/empty-record", test_cipher_empty_record);
  g_test_add_func ("/flow/sync/crypto/cipher/tampered", test_cipher_tampered);
  g_test_add_func ("/flow/sync/crypto/cipher/replay-reorder", test_cipher_replay_reorder);
  g_test_add_func ("/flow/sync/crypto/cipher/wrong-key", test_cipher_wrong_key);
  g_test_add_func ("/flow/sync/crypto/cipher/bad-length", test_cipher_bad_length);
  g_test_add_func ("/flow/sync/crypto/cipher/after-final", test_cipher_after_final);
  g_test_add_func ("/flow/sync/crypto/cipher/garbage", test_cipher_garbage);
  g_test_add_func ("/flow/sync/crypto/cipher/truncated", test_cipher_truncated);
  g_test_add_func ("/flow/sync/crypto/cipher/all-or-nothing", test_cipher_all_or_nothing);

  return g_test_run ();
}
