/* flow-sync-crypto.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The cryptography of the sync layer (ARCHITECTURE.md §4; the wire format
 * is in docs/protocol.md, "Encryption"). libsodium does all of it; this
 * file only picks the primitives, derives the keys and frames the bytes.
 *
 * - The invite link carries the 32-byte room key after `#`, so it never
 *   reaches a server. The room id the server does see is a keyed BLAKE2b
 *   hash of a constant: it names the room without revealing the key.
 * - Signaling blobs are sealed with crypto_secretbox under a subkey of the
 *   room key (crypto_kdf), so the rendezvous relays what it cannot read or
 *   forge, and the room key itself is never used directly as a cipher key.
 * - Each link gets session keys from crypto_kx over two ephemeral X25519
 *   keys that travelled inside sealed signals. Each direction then runs one
 *   crypto_secretstream_xchacha20poly1305: its per-record counter is what
 *   turns a replayed, dropped or reordered record into an authentication
 *   failure, and its FINAL tag tells a clean end from a cut stream.
 *
 * Every error here is final for the object concerned: a link that saw one
 * forged byte is closed, never resynchronised.
 */

#define G_LOG_DOMAIN "flow-sync-crypto"

#include "config.h"

#include <string.h>

#include <sodium.h>

#include "flow-sync-crypto.h"

G_DEFINE_QUARK (flow-sync-crypto-error-quark, flow_sync_crypto_error)

#define LINK_SCHEME     "flowsync"
#define ROOM_PREFIX     "/r/"
#define ROOM_ID_MESSAGE "room-id"
#define SIGNALING_KDF_CONTEXT "flowsig_"
#define SIGNALING_KDF_ID 1

#define HEADER_BYTES crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define RECORD_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define LENGTH_BYTES 4

G_STATIC_ASSERT (FLOW_SYNC_KEY_BYTES == crypto_secretbox_KEYBYTES);
G_STATIC_ASSERT (FLOW_SYNC_KEY_BYTES == crypto_kdf_KEYBYTES);
G_STATIC_ASSERT (FLOW_SYNC_KEY_BYTES == crypto_kx_SESSIONKEYBYTES);
G_STATIC_ASSERT (FLOW_SYNC_KEY_BYTES == crypto_secretstream_xchacha20poly1305_KEYBYTES);
G_STATIC_ASSERT (FLOW_SYNC_PUBLIC_BYTES == crypto_kx_PUBLICKEYBYTES);
G_STATIC_ASSERT (FLOW_SYNC_SECRET_BYTES == crypto_kx_SECRETKEYBYTES);
G_STATIC_ASSERT (FLOW_SYNC_ROOM_ID_LEN == 2 * 16);
G_STATIC_ASSERT (sizeof SIGNALING_KDF_CONTEXT - 1 == crypto_kdf_CONTEXTBYTES);
G_STATIC_ASSERT (FLOW_SYNC_RECORD_MAX + RECORD_ABYTES <= G_MAXUINT32);

/**
 * flow_sync_crypto_init:
 *
 * Initialises libsodium once per process. Every function of this file calls
 * it, so callers need not.
 *
 * Returns: %FALSE (after a critical) if libsodium cannot start, which only
 *   happens when the system has no source of randomness
 */
gboolean
flow_sync_crypto_init (void)
{
  static gsize done = 0;
  static gboolean ok = FALSE;

  if (g_once_init_enter (&done))
    {
      /* sodium_init() is itself idempotent (1 = already initialised). */
      ok = sodium_init () >= 0;
      if (!ok)
        g_critical ("libsodium failed to initialise: no randomness available");
      g_once_init_leave (&done, 1);
    }
  return ok;
}

/* ------------------------------------------------------------------------
 * Room keys and invite links
 * ------------------------------------------------------------------------ */

/**
 * flow_sync_room_id_for_key:
 * @key: a room key
 * @room: (out caller-allocates): the room id, NUL-terminated
 *
 * The room id is the lowercase hex of BLAKE2b with a 16-byte output, keyed
 * by @key, over the ASCII message "room-id". It is what the rendezvous
 * server sees; without the key it cannot be turned back into one.
 */
void
flow_sync_room_id_for_key (const guint8 key[FLOW_SYNC_KEY_BYTES],
                           char         room[FLOW_SYNC_ROOM_ID_LEN + 1])
{
  guint8 hash[FLOW_SYNC_ROOM_ID_LEN / 2];

  g_return_if_fail (key != NULL);
  g_return_if_fail (room != NULL);

  flow_sync_crypto_init ();
  crypto_generichash (hash, sizeof hash,
                      (const guint8 *) ROOM_ID_MESSAGE, strlen (ROOM_ID_MESSAGE),
                      key, FLOW_SYNC_KEY_BYTES);
  sodium_bin2hex (room, FLOW_SYNC_ROOM_ID_LEN + 1, hash, sizeof hash);
}

/**
 * flow_sync_invite_new:
 * @host: (nullable): the rendezvous host, %NULL or "" for LAN / embedded;
 *   an IPv6 literal with or without brackets
 * @port: the rendezvous port, 0 for none
 * @role: the role the link grants
 *
 * Creates the invite of a new room: a fresh random room key and its room id.
 *
 * Returns: (transfer full): the invite, free with flow_sync_invite_free()
 */
FlowSyncInvite *
flow_sync_invite_new (const char   *host,
                      guint16       port,
                      FlowSyncRole  role)
{
  FlowSyncInvite *invite;

  g_return_val_if_fail (role == FLOW_SYNC_ROLE_EDIT || role == FLOW_SYNC_ROLE_VIEW, NULL);

  flow_sync_crypto_init ();
  invite = g_new0 (FlowSyncInvite, 1);
  /* An IPv6 literal typed as in a URL, "[::1]", is stored bare, as
   * flow_sync_invite_parse() gives it: to_string() adds the brackets. */
  if (host != NULL && host[0] == '[' && g_str_has_suffix (host, "]"))
    invite->host = g_strndup (host + 1, strlen (host) - 2);
  else
    invite->host = g_strdup (host);
  if (invite->host != NULL && *invite->host == '\0')
    g_clear_pointer (&invite->host, g_free);
  invite->port = port;
  invite->role = role;
  randombytes_buf (invite->key, sizeof invite->key);
  flow_sync_room_id_for_key (invite->key, invite->room);
  return invite;
}

/**
 * flow_sync_invite_free:
 * @invite: (nullable): an invite
 *
 * Frees @invite, wiping its room key first.
 */
void
flow_sync_invite_free (FlowSyncInvite *invite)
{
  if (invite == NULL)
    return;
  g_free (invite->host);
  g_free (invite->name);
  sodium_memzero (invite, sizeof *invite);
  g_free (invite);
}

static const char *
role_to_string (FlowSyncRole role)
{
  return role == FLOW_SYNC_ROLE_VIEW ? "view" : "edit";
}

/**
 * flow_sync_invite_to_string:
 * @invite: an invite
 *
 * Formats @invite as `flowsync://HOST[:PORT]/r/ROOM#k=KEY&role=ROLE`, an
 * IPv6 host in brackets, `flowsync:///r/...` without a host.
 *
 * Returns: (transfer full): the link. It holds the room key: wipe it with
 *   sodium_memzero() or at least never log it.
 */
char *
flow_sync_invite_to_string (const FlowSyncInvite *invite)
{
  char key_b64[sodium_base64_ENCODED_LEN (FLOW_SYNC_KEY_BYTES,
                                          sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  g_autofree char *path = NULL;
  g_autofree char *fragment = NULL;
  char *link;

  g_return_val_if_fail (invite != NULL, NULL);

  flow_sync_crypto_init ();
  sodium_bin2base64 (key_b64, sizeof key_b64, invite->key, sizeof invite->key,
                     sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  path = g_strconcat (ROOM_PREFIX, invite->room, NULL);
  {
    GString *f = g_string_new (NULL);

    g_string_append_printf (f, "k=%s&role=%s", key_b64, role_to_string (invite->role));
    if (invite->expires > 0)
      g_string_append_printf (f, "&exp=%" G_GINT64_FORMAT, invite->expires);
    if (invite->name != NULL)
      {
        g_autofree char *clean = flow_sync_invite_clean_name (invite->name);
        g_autofree char *name = clean != NULL ? g_uri_escape_string (clean, NULL, FALSE) : NULL;

        if (name != NULL)
          g_string_append_printf (f, "&name=%s", name);
      }
    fragment = g_string_free (f, FALSE);
  }

  /* An empty host (not NULL) keeps the `//`, giving `flowsync:///r/...`.
   * g_uri_join() puts an IPv6 literal in brackets. */
  link = g_uri_join (G_URI_FLAGS_ENCODED_FRAGMENT, LINK_SCHEME, NULL,
                     invite->host ? invite->host : "",
                     invite->port ? invite->port : -1,
                     path, NULL, fragment);

  sodium_memzero (key_b64, sizeof key_b64);
  sodium_memzero (fragment, strlen (fragment));
  return link;
}

static gboolean
invalid_link (GError     **error,
              const char  *message)
{
  g_set_error_literal (error, FLOW_SYNC_CRYPTO_ERROR,
                       FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK, message);
  return FALSE;
}

/* Decodes the base64url key of a link into @key. The messages tell a key
 * that was mangled from one that was cut off, the usual fate of a link
 * pasted into a chat. */
static gboolean
decode_key (const char  *text,
            guint8       key[FLOW_SYNC_KEY_BYTES],
            GError     **error)
{
  /* Room for a few bytes too many, so a long key is reported as such
   * rather than as bad base64. */
  guint8 buf[FLOW_SYNC_KEY_BYTES + 16];
  size_t len = 0;
  const char *end = NULL;
  int rc;

  if (*text == '\0')
    return invalid_link (error, "This invite link is missing its key");

  rc = sodium_base642bin (buf, sizeof buf, text, strlen (text), NULL, &len, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  if (rc != 0 || *end != '\0')
    {
      sodium_memzero (buf, sizeof buf);
      if (rc != 0 && strlen (text) > sodium_base64_ENCODED_LEN (sizeof buf,
                                                                sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return invalid_link (error, "This invite link's key is too long");
      return invalid_link (error, "This invite link's key is damaged (it is not valid base64url)");
    }
  if (len != FLOW_SYNC_KEY_BYTES)
    {
      sodium_memzero (buf, sizeof buf);
      return invalid_link (error, len < FLOW_SYNC_KEY_BYTES
                                  ? "This invite link's key is too short: the link may have been cut off"
                                  : "This invite link's key is too long");
    }
  memcpy (key, buf, FLOW_SYNC_KEY_BYTES);
  sodium_memzero (buf, sizeof buf);
  return TRUE;
}

static gboolean
parse_role (const char    *text,
            FlowSyncRole  *role,
            GError       **error)
{
  g_autofree char *shown = NULL;

  if (g_str_equal (text, "edit"))
    *role = FLOW_SYNC_ROLE_EDIT;
  else if (g_str_equal (text, "view"))
    *role = FLOW_SYNC_ROLE_VIEW;
  else
    {
      /* The role is not secret, but it comes from a stranger: escape it and
       * keep it short before it reaches a dialog or a log. */
      shown = g_strescape (text, NULL);
      if (strlen (shown) > 32)
        strcpy (shown + 29, "...");
      g_set_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK,
                   "This invite link grants an unknown role “%s” (expected “edit” or “view”)",
                   shown);
      return FALSE;
    }
  return TRUE;
}

/* The expiry, whole seconds since the epoch: digits only, and before the
 * year 10000 so that every date can be shown. */
static gboolean
parse_expiry (const char  *text,
              gint64      *expires,
              GError     **error)
{
  guint64 value = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 1, G_GINT64_CONSTANT (253402300799), &value, NULL) ||
      !g_ascii_isdigit (*text))
    return invalid_link (error, "This invite link's expiry is damaged");
  *expires = (gint64) value;
  return TRUE;
}

/* Whether @c may be part of a workspace name, which ends up in a window
 * title: no control characters, line breaks or bidi overrides (which
 * could make a title read as something else). */
static gboolean
name_char_ok (gunichar c)
{
  switch ((int) g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_SURROGATE:
      return FALSE;
    default:
      return !(c >= 0x202a && c <= 0x202e) && !(c >= 0x2066 && c <= 0x2069);
    }
}

/**
 * flow_sync_invite_clean_name:
 * @name: (nullable): a workspace name, from anywhere
 *
 * What of @name a link can carry: valid UTF-8 without the characters
 * name_char_ok() refuses, without surrounding blanks, cut at a character
 * to at most %FLOW_SYNC_INVITE_NAME_MAX bytes.
 *
 * Returns: (transfer full) (nullable): the name, %NULL if nothing is left
 */
char *
flow_sync_invite_clean_name (const char *name)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (name == NULL)
    return NULL;
  valid = g_utf8_make_valid (name, -1);
  out = g_string_new (NULL);
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      char buf[6];
      int n;

      if (!name_char_ok (c))
        continue;
      n = g_unichar_to_utf8 (c, buf);
      if (out->len + n > FLOW_SYNC_INVITE_NAME_MAX)
        break;
      g_string_append_len (out, buf, n);
    }
  g_strstrip (out->str);
  if (*out->str == '\0')
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

/* The workspace name is only a title: one that is not as
 * flow_sync_invite_clean_name() makes them is left out, and the link
 * still works. */
static void
parse_name (const char  *text,
            char       **name)
{
  g_autofree char *clean = flow_sync_invite_clean_name (text);

  g_clear_pointer (name, g_free);
  if (clean != NULL && g_str_equal (clean, text))
    *name = g_steal_pointer (&clean);
}

/* Parses the fragment, `k=KEY&role=ROLE&exp=SECONDS&name=NAME` (all but
 * the key optional, other parameters ignored so a later version may add
 * some). The raw fragment is still
 * percent-encoded, so an escaped `&` or `=` cannot split a value. */
static gboolean
parse_fragment (const char      *fragment,
                FlowSyncInvite  *invite,
                GError         **error)
{
  g_auto(GStrv) params = NULL;
  gboolean have_key = FALSE;
  gboolean have_role = FALSE;
  gboolean have_expiry = FALSE;
  gboolean have_name = FALSE;

  if (fragment == NULL || *fragment == '\0')
    return invalid_link (error, "This invite link is missing its key (the part after “#”)");

  params = g_strsplit (fragment, "&", -1);
  for (guint i = 0; params[i] != NULL; i++)
    {
      char *eq = strchr (params[i], '=');
      g_autofree char *value = NULL;
      gboolean ok;

      if (eq == NULL)
        continue;
      *eq = '\0';
      if (!g_str_equal (params[i], "k") && !g_str_equal (params[i], "role") &&
          !g_str_equal (params[i], "exp") && !g_str_equal (params[i], "name"))
        continue;

      value = g_uri_unescape_string (eq + 1, NULL);
      if (value == NULL)
        return invalid_link (error, "This invite link is damaged (bad %-escape after “#”)");

      if (g_str_equal (params[i], "k"))
        {
          if (have_key)
            return invalid_link (error, "This invite link has two keys");
          have_key = TRUE;
          ok = decode_key (value, invite->key, error);
          sodium_memzero (value, strlen (value));
        }
      else if (g_str_equal (params[i], "name"))
        {
          if (have_name)
            return invalid_link (error, "This invite link has two workspace names");
          have_name = TRUE;
          parse_name (value, &invite->name);
          ok = TRUE;
        }
      else if (g_str_equal (params[i], "exp"))
        {
          if (have_expiry)
            return invalid_link (error, "This invite link has two expiry dates");
          have_expiry = TRUE;
          ok = parse_expiry (value, &invite->expires, error);
        }
      else
        {
          if (have_role)
            return invalid_link (error, "This invite link has two roles");
          have_role = TRUE;
          ok = parse_role (value, &invite->role, error);
        }
      if (!ok)
        return FALSE;
    }

  if (!have_key)
    return invalid_link (error, "This invite link is missing its key");
  if (!have_role)
    invite->role = FLOW_SYNC_ROLE_EDIT;
  return TRUE;
}

/* Fills @invite's host and port from @uri. */
static gboolean
parse_authority (GUri            *uri,
                 FlowSyncInvite  *invite,
                 GError         **error)
{
  const char *host = g_uri_get_host (uri);
  int port = g_uri_get_port (uri);

  if (host == NULL)
    return invalid_link (error, "This invite link has no “//” after “flowsync:”");
  if (g_uri_get_userinfo (uri) != NULL)
    return invalid_link (error, "This invite link has a user name before its host, "
                                "which FlowSync links never have");
  if (port == 0)
    return invalid_link (error, "This invite link has an invalid port (0)");

  invite->host = *host != '\0' ? g_strdup (host) : NULL;
  invite->port = port > 0 ? (guint16) port : 0;
  return TRUE;
}

/**
 * flow_sync_invite_parse:
 * @link: an invite link, as pasted by the user (surrounding blanks are
 *   ignored)
 * @error: return location for a #FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK
 *
 * Parses `flowsync://HOST[:PORT]/r/ROOM#k=KEY&role=edit|view`: HOST may be
 * empty, an IPv6 literal goes in brackets, role defaults to edit, and ROOM
 * must be the room id of KEY. The error messages are meant for the user;
 * none of them contains the key.
 *
 * Returns: (transfer full) (nullable): the invite, or %NULL with @error set
 */
FlowSyncInvite *
flow_sync_invite_parse (const char  *link,
                        GError     **error)
{
  g_autoptr(FlowSyncInvite) invite = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *text = NULL;
  const char *path;

  g_return_val_if_fail (link != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  flow_sync_crypto_init ();
  text = g_strstrip (g_strdup (link));
  if (*text == '\0')
    {
      invalid_link (error, "The invite link is empty");
      return NULL;
    }

  /* The fragment stays percent-encoded so parse_fragment() can split it
   * first and unescape each value after. GUri's own error would name the
   * offending part of the link, key included, so we replace it. */
  uri = g_uri_parse (text, G_URI_FLAGS_ENCODED_FRAGMENT, NULL);
  sodium_memzero (text, strlen (text));
  if (uri == NULL)
    {
      invalid_link (error, "This is not a FlowSync invite link "
                           "(it should look like “flowsync://host/r/…#k=…”)");
      return NULL;
    }
  if (g_ascii_strcasecmp (g_uri_get_scheme (uri), LINK_SCHEME) != 0)
    {
      invalid_link (error, "This is not a FlowSync invite link "
                           "(it should start with “flowsync://”)");
      return NULL;
    }

  invite = g_new0 (FlowSyncInvite, 1);
  if (!parse_authority (uri, invite, error))
    return NULL;

  path = g_uri_get_path (uri);
  if (!g_str_has_prefix (path, ROOM_PREFIX) || path[strlen (ROOM_PREFIX)] == '\0')
    {
      invalid_link (error, "This invite link does not name a room (“/r/…” after the host)");
      return NULL;
    }

  if (!parse_fragment (g_uri_get_fragment (uri), invite, error))
    return NULL;

  /* Last, so a damaged key is reported as such rather than as a mismatch. */
  flow_sync_room_id_for_key (invite->key, invite->room);
  if (!g_str_equal (path + strlen (ROOM_PREFIX), invite->room))
    {
      invalid_link (error, "This invite link's room does not match its key: "
                           "the link was altered or pieced together from two links");
      return NULL;
    }

  return g_steal_pointer (&invite);
}

/**
 * flow_sync_invite_check_expiry:
 * @invite: an invite
 * @now: the time, in seconds since the Unix epoch
 * @error: return location for a #FLOW_SYNC_CRYPTO_ERROR_EXPIRED
 *
 * Whether @invite may still be used at @now; if not, the error says since
 * when (in local time), for the user.
 *
 * Returns: %TRUE if the link never expires or has not expired yet
 */
gboolean
flow_sync_invite_check_expiry (const FlowSyncInvite  *invite,
                               gint64                 now,
                               GError               **error)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *when = NULL;

  g_return_val_if_fail (invite != NULL, FALSE);

  if (invite->expires == 0 || now < invite->expires)
    return TRUE;
  utc = g_date_time_new_from_unix_utc (invite->expires);
  local = utc != NULL ? g_date_time_to_local (utc) : NULL;
  when = local != NULL ? g_date_time_format (local, "%x %H:%M") : g_strdup ("?");
  g_set_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_EXPIRED,
               "This invite link expired on %s; ask whoever shared it for a new one", when);
  return FALSE;
}

/* ------------------------------------------------------------------------
 * Sealed signaling blobs
 * ------------------------------------------------------------------------ */

/**
 * flow_sync_signaling_key:
 * @room_key: a room key
 * @out: (out caller-allocates): the signaling key
 *
 * Derives the key that seals signaling blobs: crypto_kdf subkey 1 of
 * @room_key in the context "flowsig_". A separate key keeps the room key
 * itself out of every cipher, and leaves other subkey ids free.
 */
void
flow_sync_signaling_key (const guint8 room_key[FLOW_SYNC_KEY_BYTES],
                         guint8       out[FLOW_SYNC_KEY_BYTES])
{
  g_return_if_fail (room_key != NULL);
  g_return_if_fail (out != NULL);

  flow_sync_crypto_init ();
  crypto_kdf_derive_from_key (out, FLOW_SYNC_KEY_BYTES, SIGNALING_KDF_ID,
                              SIGNALING_KDF_CONTEXT, room_key);
}

/**
 * flow_sync_seal:
 * @key: the signaling key
 * @data: (array length=len) (nullable): the bytes to seal
 * @len: the size of @data
 *
 * Seals @data with crypto_secretbox under a fresh random nonce.
 *
 * Returns: (transfer full): nonce (24 bytes) | MAC (16) | ciphertext
 */
GBytes *
flow_sync_seal (const guint8  key[FLOW_SYNC_KEY_BYTES],
                const guint8 *data,
                gsize         len)
{
  gsize sealed_len;
  guint8 *sealed;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (len <= G_MAXSIZE - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES,
                        NULL);

  flow_sync_crypto_init ();
  sealed_len = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;
  sealed = g_malloc (sealed_len);
  /* Random nonces are safe with XSalsa20's 192-bit nonce: no counter to
   * keep across restarts or between the peers sharing the key. */
  randombytes_buf (sealed, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy (sealed + crypto_secretbox_NONCEBYTES, data, len, sealed, key);
  return g_bytes_new_take (sealed, sealed_len);
}

/**
 * flow_sync_open:
 * @key: the signaling key
 * @sealed: a blob made by flow_sync_seal()
 * @error: return location for a #FLOW_SYNC_CRYPTO_ERROR_TRUNCATED (shorter
 *   than a nonce and a MAC) or #FLOW_SYNC_CRYPTO_ERROR_FORGED (does not
 *   authenticate under @key)
 *
 * Returns: (transfer full) (nullable): the plaintext, or %NULL with @error
 */
GBytes *
flow_sync_open (const guint8   key[FLOW_SYNC_KEY_BYTES],
                GBytes        *sealed,
                GError       **error)
{
  const guint8 *data;
  gsize len;
  gsize plain_len;
  guint8 *plain;

  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (sealed != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  flow_sync_crypto_init ();
  data = g_bytes_get_data (sealed, &len);
  if (len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    {
      g_set_error (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_TRUNCATED,
                   "A sealed message is too short (%" G_GSIZE_FORMAT " bytes)", len);
      return NULL;
    }

  plain_len = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
  /* Never a NULL output buffer, even for an empty message. */
  plain = g_malloc (MAX (plain_len, 1));
  if (crypto_secretbox_open_easy (plain, data + crypto_secretbox_NONCEBYTES,
                                  len - crypto_secretbox_NONCEBYTES, data, key) != 0)
    {
      g_free (plain);
      g_set_error_literal (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_FORGED,
                           "A sealed message does not authenticate: "
                           "it was altered or sealed under another room's key");
      return NULL;
    }
  return g_bytes_new_take (plain, plain_len);
}

/* ------------------------------------------------------------------------
 * Link keys
 * ------------------------------------------------------------------------ */

/**
 * flow_sync_keypair_generate:
 * @pair: (out caller-allocates): the pair to fill
 *
 * Generates an ephemeral X25519 key pair (crypto_kx) for one link attempt.
 */
void
flow_sync_keypair_generate (FlowSyncKeypair *pair)
{
  g_return_if_fail (pair != NULL);

  flow_sync_crypto_init ();
  crypto_kx_keypair (pair->public_key, pair->secret_key);
}

/**
 * flow_sync_keypair_clear:
 * @pair: a key pair
 *
 * Wipes @pair: call it as soon as the session keys are derived.
 */
void
flow_sync_keypair_clear (FlowSyncKeypair *pair)
{
  g_return_if_fail (pair != NULL);

  sodium_memzero (pair, sizeof *pair);
}

/**
 * flow_sync_session_keys:
 * @ours: our ephemeral key pair
 * @theirs: the peer's ephemeral public key
 * @client: %TRUE on the offering side, %FALSE on the answering side
 * @rx: (out caller-allocates): the key the peer's direction is encrypted with
 * @tx: (out caller-allocates): the key our direction is encrypted with
 * @error: return location for a #FLOW_SYNC_CRYPTO_ERROR_FAILED
 *
 * Derives the two session keys of a link with crypto_kx: the client's @tx
 * is the server's @rx and the other way round.
 *
 * Returns: %FALSE if libsodium refuses @theirs (a low-order point such as
 *   all zeros, which would give a key known to everyone); @rx and @tx are
 *   then zeroed
 */
gboolean
flow_sync_session_keys (const FlowSyncKeypair  *ours,
                        const guint8            theirs[FLOW_SYNC_PUBLIC_BYTES],
                        gboolean                client,
                        guint8                  rx[FLOW_SYNC_KEY_BYTES],
                        guint8                  tx[FLOW_SYNC_KEY_BYTES],
                        GError                **error)
{
  int rc;

  g_return_val_if_fail (ours != NULL, FALSE);
  g_return_val_if_fail (theirs != NULL, FALSE);
  g_return_val_if_fail (rx != NULL && tx != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  flow_sync_crypto_init ();
  if (client)
    rc = crypto_kx_client_session_keys (rx, tx, ours->public_key, ours->secret_key, theirs);
  else
    rc = crypto_kx_server_session_keys (rx, tx, ours->public_key, ours->secret_key, theirs);

  if (rc != 0)
    {
      sodium_memzero (rx, FLOW_SYNC_KEY_BYTES);
      sodium_memzero (tx, FLOW_SYNC_KEY_BYTES);
      g_set_error_literal (error, FLOW_SYNC_CRYPTO_ERROR, FLOW_SYNC_CRYPTO_ERROR_FAILED,
                           "The peer sent an unusable public key");
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * FlowSyncCipher: one secretstream per direction
 * ------------------------------------------------------------------------ */

struct _FlowSyncCipher
{
  crypto_secretstream_xchacha20poly1305_state push;
  crypto_secretstream_xchacha20poly1305_state pull;

  /* Each key is wiped once its state is initialised: start() for tx, the
   * peer's header for rx. */
  guint8      tx_key[FLOW_SYNC_KEY_BYTES];
  guint8      rx_key[FLOW_SYNC_KEY_BYTES];

  /* Received bytes that do not yet form a header or a whole record. Only a
   * partial record stays here between feeds: whole records are consumed
   * in place, from the caller's buffer when nothing was pending. */
  GByteArray *pending;

  /* The first error: later feeds repeat it, later seals return NULL. */
  GError     *failure;

  guint       started : 1;
  guint       final_sent : 1;
  guint       have_header : 1;
  guint       final_received : 1;
};

/**
 * flow_sync_cipher_new:
 * @tx_key: the key of our direction (the @tx of flow_sync_session_keys())
 * @rx_key: the key of the peer's direction (the @rx)
 *
 * Returns: (transfer full): a cipher, free with flow_sync_cipher_free()
 */
FlowSyncCipher *
flow_sync_cipher_new (const guint8 tx_key[FLOW_SYNC_KEY_BYTES],
                      const guint8 rx_key[FLOW_SYNC_KEY_BYTES])
{
  FlowSyncCipher *cipher;

  g_return_val_if_fail (tx_key != NULL, NULL);
  g_return_val_if_fail (rx_key != NULL, NULL);

  flow_sync_crypto_init ();
  cipher = g_new0 (FlowSyncCipher, 1);
  memcpy (cipher->tx_key, tx_key, FLOW_SYNC_KEY_BYTES);
  memcpy (cipher->rx_key, rx_key, FLOW_SYNC_KEY_BYTES);
  cipher->pending = g_byte_array_new ();
  return cipher;
}

/**
 * flow_sync_cipher_free:
 * @cipher: (nullable): a cipher
 *
 * Frees @cipher, wiping its keys, stream states and buffered input.
 */
void
flow_sync_cipher_free (FlowSyncCipher *cipher)
{
  if (cipher == NULL)
    return;
  if (cipher->pending->len > 0)
    sodium_memzero (cipher->pending->data, cipher->pending->len);
  g_byte_array_unref (cipher->pending);
  g_clear_error (&cipher->failure);
  sodium_memzero (cipher, sizeof *cipher);
  g_free (cipher);
}

/**
 * flow_sync_cipher_start:
 * @cipher: a cipher
 *
 * Starts our direction. Call it once, and send its bytes before any record.
 *
 * Returns: (transfer full): our 24-byte secretstream header
 */
GBytes *
flow_sync_cipher_start (FlowSyncCipher *cipher)
{
  guint8 header[HEADER_BYTES];

  g_return_val_if_fail (cipher != NULL, NULL);
  g_return_val_if_fail (!cipher->started, NULL);

  crypto_secretstream_xchacha20poly1305_init_push (&cipher->push, header, cipher->tx_key);
  sodium_memzero (cipher->tx_key, sizeof cipher->tx_key);
  cipher->started = TRUE;
  return g_bytes_new (header, sizeof header);
}

/**
 * flow_sync_cipher_seal:
 * @cipher: a started cipher
 * @data: (array length=len) (nullable): the plaintext, at most
 *   %FLOW_SYNC_RECORD_MAX bytes; it may be empty
 * @len: the size of @data
 * @final: whether this record ends our direction (no seal after it)
 *
 * Encrypts one record, tagged FINAL or MESSAGE.
 *
 * Returns: (transfer full) (nullable): the bytes to write, length prefix
 *   included, or %NULL once the cipher has failed on input
 */
GBytes *
flow_sync_cipher_seal (FlowSyncCipher *cipher,
                       const guint8   *data,
                       gsize           len,
                       gboolean        final)
{
  guint8 *record;
  gsize clen;
  guint32 be_len;
  guint8 tag;

  g_return_val_if_fail (cipher != NULL, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (len <= FLOW_SYNC_RECORD_MAX, NULL);
  g_return_val_if_fail (cipher->started, NULL);
  g_return_val_if_fail (!cipher->final_sent, NULL);

  /* A link whose input was forged is being torn down: encrypting more for
   * it is pointless, and the caller learns it from feed()'s error. */
  if (cipher->failure != NULL)
    return NULL;

  clen = len + RECORD_ABYTES;
  record = g_malloc (LENGTH_BYTES + clen);
  be_len = GUINT32_TO_BE ((guint32) clen);
  memcpy (record, &be_len, LENGTH_BYTES);
  tag = final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
              : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
  crypto_secretstream_xchacha20poly1305_push (&cipher->push, record + LENGTH_BYTES, NULL,
                                              data, len, NULL, 0, tag);
  if (final)
    {
      cipher->final_sent = TRUE;
      sodium_memzero (&cipher->push, sizeof cipher->push);
    }
  return g_bytes_new_take (record, LENGTH_BYTES + clen);
}

static gboolean
fail (FlowSyncCipher       *cipher,
      GError              **error,
      FlowSyncCryptoError   code,
      const char           *format,
      ...) G_GNUC_PRINTF (4, 5);

/* Kills @cipher with a first error, and reports it. */
static gboolean
fail (FlowSyncCipher       *cipher,
      GError              **error,
      FlowSyncCryptoError   code,
      const char           *format,
      ...)
{
  va_list args;

  va_start (args, format);
  cipher->failure = g_error_new_valist (FLOW_SYNC_CRYPTO_ERROR, code, format, args);
  va_end (args);
  sodium_memzero (&cipher->pull, sizeof cipher->pull);
  sodium_memzero (cipher->rx_key, sizeof cipher->rx_key);
  if (error != NULL)
    *error = g_error_copy (cipher->failure);
  return FALSE;
}

/* Decrypts the record @ciphertext (@clen bytes, already checked to be in
 * range) and appends its plaintext to @plain. */
static gboolean
open_record (FlowSyncCipher  *cipher,
             const guint8    *ciphertext,
             gsize            clen,
             GByteArray      *plain,
             GError         **error)
{
  guint old_len = plain->len;
  gsize mlen = clen - RECORD_ABYTES;
  guint8 scratch;
  guint8 tag = 0;
  int rc;

  g_byte_array_set_size (plain, old_len + mlen);
  rc = crypto_secretstream_xchacha20poly1305_pull (&cipher->pull,
                                                   mlen > 0 ? plain->data + old_len : &scratch,
                                                   NULL, &tag, ciphertext, clen, NULL, 0);
  if (rc != 0)
    {
      g_byte_array_set_size (plain, old_len);
      return fail (cipher, error, FLOW_SYNC_CRYPTO_ERROR_FORGED,
                   "An encrypted record does not authenticate: it was altered, "
                   "replayed, reordered or encrypted under another key");
    }
  /* We only ever send MESSAGE and FINAL; PUSH or REKEY means a peer that
   * does not speak our protocol, even if it holds the key. */
  if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
    cipher->final_received = TRUE;
  else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
    {
      sodium_memzero (plain->data + old_len, mlen);
      g_byte_array_set_size (plain, old_len);
      return fail (cipher, error, FLOW_SYNC_CRYPTO_ERROR_FORGED,
                   "An encrypted record has an unexpected tag (%u)", tag);
    }
  return TRUE;
}

/* Consumes the header and every whole record at the start of @data,
 * decrypting records into @plain; *@consumed says how far it got. Stops at
 * a partial header or record, or with an error. */
static gboolean
consume (FlowSyncCipher  *cipher,
         const guint8    *data,
         gsize            len,
         gsize           *consumed,
         GByteArray      *plain,
         GError         **error)
{
  gsize off = 0;

  *consumed = 0;
  if (!cipher->have_header)
    {
      if (len < HEADER_BYTES)
        return TRUE;
      if (crypto_secretstream_xchacha20poly1305_init_pull (&cipher->pull, data,
                                                           cipher->rx_key) != 0)
        return fail (cipher, error, FLOW_SYNC_CRYPTO_ERROR_FORGED,
                     "The peer's encryption header is invalid");
      sodium_memzero (cipher->rx_key, sizeof cipher->rx_key);
      cipher->have_header = TRUE;
      off = HEADER_BYTES;
    }

  while (!cipher->final_received && len - off >= LENGTH_BYTES)
    {
      guint32 clen;

      memcpy (&clen, data + off, LENGTH_BYTES);
      clen = GUINT32_FROM_BE (clen);
      /* Checked before buffering any of the record, so a hostile length
       * costs us nothing. No record is shorter than its tag and MAC. */
      if (clen < RECORD_ABYTES || clen > FLOW_SYNC_RECORD_MAX + RECORD_ABYTES)
        return fail (cipher, error, FLOW_SYNC_CRYPTO_ERROR_TOO_LARGE,
                     "An encrypted record has an impossible length (%u bytes; "
                     "the limit is %u)", clen, FLOW_SYNC_RECORD_MAX + RECORD_ABYTES);
      if (len - off - LENGTH_BYTES < clen)
        break;

      if (!open_record (cipher, data + off + LENGTH_BYTES, clen, plain, error))
        return FALSE;
      off += LENGTH_BYTES + clen;
    }

  *consumed = off;
  if (cipher->final_received && off < len)
    return fail (cipher, error, FLOW_SYNC_CRYPTO_ERROR_FORGED,
                 "Data arrived after the end of the encrypted stream");
  return TRUE;
}

/**
 * flow_sync_cipher_feed:
 * @cipher: a cipher
 * @data: (array length=len) (nullable): bytes received from the peer
 * @len: the size of @data
 * @plain: the array the plaintext of each whole record is appended to
 * @final: (out) (optional): set to whether the peer's FINAL record arrived
 * @error: return location for a #FLOW_SYNC_CRYPTO_ERROR
 *
 * Feeds received stream bytes: the peer's header first, then records. A
 * partial header or record is buffered until the rest arrives; a record
 * length out of range is refused from its four length bytes alone.
 *
 * On error nothing is appended to @plain, not even records that
 * authenticated before the bad one in the same call, and the cipher is dead:
 * every later feed fails with the same error and every later seal returns
 * %NULL. Costs time linear in @len (a big record arriving in many small
 * pieces is never copied more than once).
 *
 * Returns: %FALSE on a forged, replayed or reordered record, bytes after the
 *   FINAL record, or an impossible record length
 */
gboolean
flow_sync_cipher_feed (FlowSyncCipher  *cipher,
                       const guint8    *data,
                       gsize            len,
                       GByteArray      *plain,
                       gboolean        *final,
                       GError         **error)
{
  GByteArray *pending;
  guint plain_len;
  gsize consumed;
  gboolean from_caller;
  gboolean ok;

  g_return_val_if_fail (cipher != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (plain != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (final != NULL)
    *final = FALSE;
  if (cipher->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (cipher->failure));
      return FALSE;
    }
  if (len == 0)
    {
      if (final != NULL)
        *final = cipher->final_received;
      return TRUE;
    }

  pending = cipher->pending;
  plain_len = plain->len;

  /* When nothing is pending (the common case: whole records per read) we
   * decrypt straight from @data and buffer only a trailing partial record.
   * Otherwise the pending bytes and @data must be contiguous: append. */
  from_caller = pending->len == 0;
  if (!from_caller)
    g_byte_array_append (pending, data, len);

  if (from_caller)
    ok = consume (cipher, data, len, &consumed, plain, error);
  else
    ok = consume (cipher, pending->data, pending->len, &consumed, plain, error);

  if (!ok)
    {
      /* Plaintext of records that did authenticate, but the caller gets
       * all of a call or none of it. */
      if (plain->len > plain_len)
        sodium_memzero (plain->data + plain_len, plain->len - plain_len);
      g_byte_array_set_size (plain, plain_len);
      return FALSE;
    }

  /* What stays pending after a record completed arrived in this very call,
   * so moving it costs at most @len: linear overall. */
  if (from_caller)
    g_byte_array_append (pending, data + consumed, len - consumed);
  else if (consumed > 0)
    g_byte_array_remove_range (pending, 0, consumed);

  if (final != NULL)
    *final = cipher->final_received;
  return TRUE;
}

/**
 * flow_sync_cipher_get_pending:
 * @cipher: a cipher
 *
 * Returns: the number of received bytes not yet part of a whole header or
 *   record. Non-zero when the stream ends means it was cut off.
 */
gsize
flow_sync_cipher_get_pending (FlowSyncCipher *cipher)
{
  g_return_val_if_fail (cipher != NULL, 0);

  return cipher->pending->len;
}
