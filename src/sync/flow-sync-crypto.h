/* flow-sync-crypto.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* ARCHITECTURE.md §4, with libsodium doing all the cryptography. */

#define FLOW_SYNC_KEY_BYTES      32   /* room key, signaling key, session keys */
#define FLOW_SYNC_PUBLIC_BYTES   32   /* X25519 public key (crypto_kx) */
#define FLOW_SYNC_SECRET_BYTES   32   /* X25519 secret key (crypto_kx) */
#define FLOW_SYNC_ROOM_ID_LEN    32   /* hex of BLAKE2b-128 */
#define FLOW_SYNC_RECORD_MAX     (17 * 1024 * 1024) /* plaintext of one record */

#define FLOW_SYNC_CRYPTO_ERROR (flow_sync_crypto_error_quark ())

/**
 * FlowSyncCryptoError:
 * @FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK: an invite link that cannot be parsed
 * @FLOW_SYNC_CRYPTO_ERROR_EXPIRED: an invite link past its expiry
 *   (wrong scheme, no room, bad key encoding, room id not matching the key)
 * @FLOW_SYNC_CRYPTO_ERROR_FORGED: a sealed blob or a record that does not
 *   authenticate: wrong key, tampered, replayed or reordered; also bytes
 *   after a stream's FINAL record
 * @FLOW_SYNC_CRYPTO_ERROR_TRUNCATED: input shorter than its own framing
 *   says, or the stream ended without its final record (the link reports
 *   that one: FINAL never came, or flow_sync_cipher_get_pending() > 0)
 * @FLOW_SYNC_CRYPTO_ERROR_TOO_LARGE: a record length no record can have:
 *   above %FLOW_SYNC_RECORD_MAX plus the 17-byte tag and MAC, or below that
 *   overhead (0 included); refused from the four length bytes alone
 * @FLOW_SYNC_CRYPTO_ERROR_FAILED: libsodium refused (bad public key, no
 *   randomness)
 */
typedef enum
{
  FLOW_SYNC_CRYPTO_ERROR_INVALID_LINK,
  FLOW_SYNC_CRYPTO_ERROR_FORGED,
  FLOW_SYNC_CRYPTO_ERROR_TRUNCATED,
  FLOW_SYNC_CRYPTO_ERROR_TOO_LARGE,
  FLOW_SYNC_CRYPTO_ERROR_FAILED,
  FLOW_SYNC_CRYPTO_ERROR_EXPIRED,
} FlowSyncCryptoError;

typedef enum
{
  FLOW_SYNC_ROLE_EDIT,
  FLOW_SYNC_ROLE_VIEW,
} FlowSyncRole;

/**
 * FlowSyncInvite:
 * @host: (nullable): rendezvous host, %NULL for "LAN / embedded rendezvous"
 * @port: rendezvous port, 0 if the link names none
 * @room: the room id: hex of BLAKE2b-128 keyed by @key over "room-id"
 * @key: the room key (never leaves the app: it travels after `#`)
 * @expires: when the link stops being accepted, in seconds since the
 *   Unix epoch; 0 for never
 * @name: (nullable): the shared workspace's name, for the joiner's window
 *   title (see flow_sync_invite_clean_name(); a link with a name that is
 *   not clean parses without one)
 *
 * An invite link, `flowsync://HOST[:PORT]/r/ROOM#k=KEY&role=edit|view`
 * (plus `&exp=SECONDS` when it expires and `&name=NAME`, percent-encoded),
 * KEY being the 32-byte room key in unpadded base64url.
 *
 * The expiry is advice that FlowSync follows, not a lock: the key itself
 * admits to the room, and someone who edits the link can drop `exp`. Only
 * a new room key (a reset link) shuts out everyone who has an old link.
 */
typedef struct
{
  char         *host;
  guint16       port;
  char          room[FLOW_SYNC_ROOM_ID_LEN + 1];
  guint8        key[FLOW_SYNC_KEY_BYTES];
  FlowSyncRole  role;
  gint64        expires;
  char         *name;
} FlowSyncInvite;

#define FLOW_SYNC_INVITE_NAME_MAX 100

GQuark          flow_sync_crypto_error_quark  (void) G_GNUC_CONST;

/* Calls sodium_init() once; FALSE (and a critical) if it fails. Every
 * function below calls it, so callers need not. */
gboolean        flow_sync_crypto_init         (void);

FlowSyncInvite *flow_sync_invite_new          (const char           *host,
                                               guint16               port,
                                               FlowSyncRole          role);
FlowSyncInvite *flow_sync_invite_parse        (const char           *link,
                                               GError              **error);
char           *flow_sync_invite_to_string    (const FlowSyncInvite *invite);
void            flow_sync_invite_free         (FlowSyncInvite       *invite);
char           *flow_sync_invite_clean_name   (const char           *name);
gboolean        flow_sync_invite_check_expiry (const FlowSyncInvite *invite,
                                               gint64                now,
                                               GError              **error);

void            flow_sync_room_id_for_key     (const guint8          key[FLOW_SYNC_KEY_BYTES],
                                               char                  room[FLOW_SYNC_ROOM_ID_LEN + 1]);

/* Signaling: every `data` blob relayed by the rendezvous server is sealed
 * with crypto_secretbox under a key derived (crypto_kdf) from the room key.
 * A sealed blob is nonce | MAC | ciphertext. */
void            flow_sync_signaling_key       (const guint8          room_key[FLOW_SYNC_KEY_BYTES],
                                               guint8                out[FLOW_SYNC_KEY_BYTES]);
GBytes         *flow_sync_seal                (const guint8          key[FLOW_SYNC_KEY_BYTES],
                                               const guint8         *data,
                                               gsize                 len);
GBytes         *flow_sync_open                (const guint8          key[FLOW_SYNC_KEY_BYTES],
                                               GBytes               *sealed,
                                               GError              **error);

/* Link keys: an ephemeral X25519 pair per link attempt; the public half
 * travels inside a sealed signal. The offering side is the crypto_kx
 * client, the answering side the server. */
typedef struct
{
  guint8 public_key[FLOW_SYNC_PUBLIC_BYTES];
  guint8 secret_key[FLOW_SYNC_SECRET_BYTES];
} FlowSyncKeypair;

void            flow_sync_keypair_generate    (FlowSyncKeypair      *pair);
void            flow_sync_keypair_clear       (FlowSyncKeypair      *pair);
gboolean        flow_sync_session_keys        (const FlowSyncKeypair *ours,
                                               const guint8          theirs[FLOW_SYNC_PUBLIC_BYTES],
                                               gboolean              client,
                                               guint8                rx[FLOW_SYNC_KEY_BYTES],
                                               guint8                tx[FLOW_SYNC_KEY_BYTES],
                                               GError              **error);

/**
 * FlowSyncCipher:
 *
 * The two crypto_secretstream_xchacha20poly1305 states of one link (one per
 * direction), plus the record framing on the byte stream:
 *
 *   header (24 bytes, once per direction) | record | record | ...
 *   record = u32 big-endian length of the ciphertext | ciphertext
 *
 * One record carries one coalesced write of frames. A record tagged FINAL
 * ends the direction; bytes after it, a record that does not authenticate
 * (tampered, replayed, reordered, under another key) or a length above the
 * limit are errors, after which the cipher refuses all further input. A plain
 * struct: it lives on the link's hot path.
 */
typedef struct _FlowSyncCipher FlowSyncCipher;

FlowSyncCipher *flow_sync_cipher_new          (const guint8          tx_key[FLOW_SYNC_KEY_BYTES],
                                               const guint8          rx_key[FLOW_SYNC_KEY_BYTES]);
void            flow_sync_cipher_free         (FlowSyncCipher       *cipher);
/* The bytes to send first: our header. */
GBytes         *flow_sync_cipher_start        (FlowSyncCipher       *cipher);
/* Encrypts one record (empty is fine) and returns what to write (length
 * prefix included), or NULL once the cipher is dead (feed failed).
 * @final: this record ends our direction (sent with BYE). */
GBytes         *flow_sync_cipher_seal         (FlowSyncCipher       *cipher,
                                               const guint8         *data,
                                               gsize                 len,
                                               gboolean              final);
/* Feeds received stream bytes. Appends the plaintext of every record that is
 * complete to @plain (one record after another, no separators). Sets @final
 * once the peer's FINAL record arrived. Partial input is buffered. On error
 * nothing of this call is appended and the cipher is dead: later feeds fail
 * with the same error, later seals return NULL. */
gboolean        flow_sync_cipher_feed         (FlowSyncCipher       *cipher,
                                               const guint8         *data,
                                               gsize                 len,
                                               GByteArray           *plain,
                                               gboolean             *final,
                                               GError              **error);
/* Bytes received but not yet part of a complete record. */
gsize           flow_sync_cipher_get_pending  (FlowSyncCipher       *cipher);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowSyncInvite, flow_sync_invite_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowSyncCipher, flow_sync_cipher_free)

G_END_DECLS
