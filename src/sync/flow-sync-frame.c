/* flow-sync-frame.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The frame codec of the peer protocol (docs/protocol.md is the reference).
 *
 * A link carries a byte stream: the link layer decrypts it and hands us
 * whatever arrived, which may be half a frame or several frames at once (we
 * coalesce frames into one write on the sending side). Every frame is
 *
 *   varint length | u8 type | body
 *
 * where length counts the type byte and the body. Knowing the length before
 * the body lets a reader wait for a whole frame, skip a frame type it does
 * not know, and refuse an oversized frame from its first four bytes, before
 * it has buffered (let alone allocated) anything for it.
 *
 * The bodies use the core's byte-level helpers (flow-codec-private.h):
 * LEB128 varints, little-endian fixed-width integers, and strings as
 * `varint length, bytes`. The readers there are sticky, so each body
 * decoder reads every field and checks for failure once at the end. No
 * count or length read from the wire sizes an allocation before it has been
 * checked against the bytes that are really left.
 *
 * Bytes after the last field a body decoder knows are ignored: that is how
 * a later protocol version may append fields to a frame without breaking
 * older peers.
 */

#define G_LOG_DOMAIN "flow-sync-frame"

#include "config.h"

#include <math.h>

#include "flow-codec-private.h"
#include "flow-sync-frame.h"

G_DEFINE_QUARK (flow-sync-error-quark, flow_sync_error)

/* A frame length of at most 16 MiB (2^24) takes at most four varint
 * bytes. */
#define LENGTH_PREFIX_MAX 4

/* The smallest wire size of a SUMMARY entry: an 8-byte replica, a one-byte
 * seq and a one-byte version length. Counts are checked against it. */
#define SUMMARY_ENTRY_MIN 10

/* ------------------------------------------------------------------------
 * Encoding
 * ------------------------------------------------------------------------ */

static gboolean
string_ok (const char *str,
           gsize       max)
{
  gsize len;

  if (str == NULL)
    return TRUE;
  len = strlen (str);
  return len <= max && g_utf8_validate_len (str, len, NULL);
}

static void
put_string (FlowBuf    *buf,
            const char *str)
{
  flow_buf_put_string (buf, str ? str : "", str ? strlen (str) : 0);
}

static void
put_op_id (FlowBuf        *buf,
           const FlowOpId *id)
{
  flow_buf_put_u64le (buf, id->replica);
  flow_buf_put_varint (buf, id->seq);
}

static void
put_gbytes (FlowBuf *buf,
            GBytes  *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes ? g_bytes_get_data (bytes, &len) : NULL;

  flow_buf_put_varint (buf, len);
  flow_buf_put_bytes (buf, data, len);
}

static void
put_presence (FlowBuf             *buf,
              const FlowSyncFrame *frame)
{
  guint flags = frame->presence.flags & FLOW_SYNC_PRESENCE_ALL_FLAGS;

  flow_buf_put_varint (buf, flags);
  if (flags & FLOW_SYNC_PRESENCE_HAS_DOC)
    put_op_id (buf, &frame->presence.doc);
  if (flags & FLOW_SYNC_PRESENCE_HAS_SELECTION)
    {
      flow_buf_put_varint (buf, frame->presence.anchor);
      flow_buf_put_varint (buf, frame->presence.cursor);
    }
  if (flags & FLOW_SYNC_PRESENCE_HAS_VIEWPORT)
    {
      flow_buf_put_f64 (buf, frame->presence.x);
      flow_buf_put_f64 (buf, frame->presence.y);
      flow_buf_put_f64 (buf, frame->presence.zoom);
    }
  put_string (buf, frame->presence.tool);
}

static gboolean
viewport_ok (double x,
             double y,
             double zoom)
{
  return isfinite (x) && isfinite (y) && isfinite (zoom) && zoom > 0;
}

/* Whether @frame may be encoded: the decoder would refuse anything else,
 * so sending it would only get our link closed. */
static gboolean
frame_ok (const FlowSyncFrame *frame)
{
  switch (frame->type)
    {
    case FLOW_SYNC_FRAME_HELLO:
      return frame->hello.version > 0 && string_ok (frame->hello.name, FLOW_SYNC_NAME_MAX);
    case FLOW_SYNC_FRAME_PRESENCE:
      if ((frame->presence.flags & FLOW_SYNC_PRESENCE_HAS_VIEWPORT) &&
          !viewport_ok (frame->presence.x, frame->presence.y, frame->presence.zoom))
        return FALSE;
      return string_ok (frame->presence.tool, FLOW_SYNC_TOOL_MAX);
    case FLOW_SYNC_FRAME_CHAT:
      return string_ok (frame->chat.text, FLOW_SYNC_CHAT_MAX);
    case FLOW_SYNC_FRAME_BYE:
      return string_ok (frame->bye.text, FLOW_SYNC_BYE_TEXT_MAX);
    case FLOW_SYNC_FRAME_SUMMARY:
    case FLOW_SYNC_FRAME_OPS:
    case FLOW_SYNC_FRAME_PING:
    case FLOW_SYNC_FRAME_PONG:
      return TRUE;
    case FLOW_SYNC_FRAME_UNKNOWN:
    default:
      return FALSE;
    }
}

static void
put_body (FlowBuf             *buf,
          const FlowSyncFrame *frame)
{
  switch (frame->type)
    {
    case FLOW_SYNC_FRAME_HELLO:
      flow_buf_put_varint (buf, frame->hello.version);
      flow_buf_put_u64le (buf, frame->hello.replica);
      put_string (buf, frame->hello.name);
      flow_buf_put_u32le (buf, frame->hello.color);
      break;
    case FLOW_SYNC_FRAME_SUMMARY:
      {
        guint n = frame->summary.entries ? frame->summary.entries->len : 0;

        flow_buf_put_varint (buf, n);
        for (guint i = 0; i < n; i++)
          {
            const FlowSyncSummaryEntry *e =
              &g_array_index (frame->summary.entries, FlowSyncSummaryEntry, i);

            put_op_id (buf, &e->doc);
            put_gbytes (buf, e->version);
          }
      }
      break;
    case FLOW_SYNC_FRAME_OPS:
      put_op_id (buf, &frame->ops.doc);
      put_gbytes (buf, frame->ops.batch);
      break;
    case FLOW_SYNC_FRAME_PRESENCE:
      put_presence (buf, frame);
      break;
    case FLOW_SYNC_FRAME_CHAT:
      put_op_id (buf, &frame->chat.id);
      flow_buf_put_varint (buf, frame->chat.lamport);
      flow_buf_put_varint (buf, flow_zigzag_encode (frame->chat.time));
      put_string (buf, frame->chat.text);
      break;
    case FLOW_SYNC_FRAME_PING:
    case FLOW_SYNC_FRAME_PONG:
      flow_buf_put_u64le (buf, frame->ping.nonce);
      break;
    case FLOW_SYNC_FRAME_BYE:
      flow_buf_put_varint (buf, frame->bye.code);
      put_string (buf, frame->bye.text);
      break;
    case FLOW_SYNC_FRAME_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
}

/**
 * flow_sync_frame_encode:
 * @frame: a frame whose fields keep to the protocol's limits
 *
 * Encodes @frame with its length prefix. Several encoded frames may simply
 * be concatenated.
 *
 * Returns: (transfer full) (nullable): the frame's bytes, or %NULL (with a
 *   critical warning) if @frame is invalid or larger than
 *   %FLOW_SYNC_FRAME_MAX_SIZE
 */
GBytes *
flow_sync_frame_encode (const FlowSyncFrame *frame)
{
  FlowBuf buf;
  gsize frame_len;
  guint8 prefix[LENGTH_PREFIX_MAX];
  guint n = 0;

  g_return_val_if_fail (frame != NULL, NULL);
  g_return_val_if_fail (frame_ok (frame), NULL);

  /* We do not know the body's size up front, so we leave room for the
   * longest length prefix, write type and body after it, and then move
   * the (small) frame back if its prefix turned out shorter. A frame big
   * enough for the move to cost anything has a four-byte prefix. */
  flow_buf_init (&buf, 64);
  buf.len = LENGTH_PREFIX_MAX;
  flow_buf_put_u8 (&buf, (guint8) frame->type);
  put_body (&buf, frame);

  frame_len = buf.len - LENGTH_PREFIX_MAX;
  if (frame_len > FLOW_SYNC_FRAME_MAX_SIZE)
    {
      flow_buf_clear (&buf);
      g_return_val_if_reached (NULL);
    }

  for (gsize v = frame_len; ; v >>= 7)
    {
      prefix[n++] = (guint8) (v >= 0x80 ? (v | 0x80) : v);
      if (v < 0x80)
        break;
    }
  memcpy (buf.data + LENGTH_PREFIX_MAX - n, prefix, n);
  if (n < LENGTH_PREFIX_MAX)
    {
      memmove (buf.data, buf.data + LENGTH_PREFIX_MAX - n, frame_len + n);
      buf.len = frame_len + n;
    }

  return flow_buf_steal_bytes (&buf);
}

/* ------------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------------ */

static char *
read_string (FlowReader *r,
             gsize       max)
{
  guint64 len = flow_reader_varint (r);
  const guint8 *p;

  if (len > max)
    {
      flow_reader_fail (r);
      return NULL;
    }
  if ((p = flow_reader_bytes (r, len)) == NULL)
    return NULL;
  /* This also refuses NUL bytes, so the result is a proper C string. */
  if (!g_utf8_validate_len ((const char *) p, len, NULL))
    {
      flow_reader_fail (r);
      return NULL;
    }
  return g_strndup ((const char *) p, len);
}

static GBytes *
read_gbytes (FlowReader *r)
{
  guint64 len = flow_reader_varint (r);
  const guint8 *p;

  if (len > flow_reader_remaining (r))
    {
      flow_reader_fail (r);
      return NULL;
    }
  if ((p = flow_reader_bytes (r, len)) == NULL)
    return NULL;
  return g_bytes_new (p, len);
}

static void
read_op_id (FlowReader *r,
            FlowOpId   *id)
{
  id->replica = flow_reader_u64le (r);
  id->seq = flow_reader_varint (r);
}

static void
read_summary (FlowReader    *r,
              FlowSyncFrame *out)
{
  guint64 n = flow_reader_varint (r);

  if (n > flow_reader_remaining (r) / SUMMARY_ENTRY_MIN)
    {
      flow_reader_fail (r);
      return;
    }
  for (guint64 i = 0; i < n && !flow_reader_failed (r); i++)
    {
      FlowOpId doc;
      g_autoptr(GBytes) version = NULL;

      read_op_id (r, &doc);
      version = read_gbytes (r);
      if (!flow_reader_failed (r))
        flow_sync_frame_summary_add (out, &doc, version);
    }
}

static void
read_presence (FlowReader    *r,
               FlowSyncFrame *out)
{
  /* Flags a later version defines come with parts we cannot know the size
   * of; such a peer puts those parts after the tool, where we ignore them. */
  out->presence.flags = (guint) flow_reader_varint (r) & FLOW_SYNC_PRESENCE_ALL_FLAGS;
  if (out->presence.flags & FLOW_SYNC_PRESENCE_HAS_DOC)
    read_op_id (r, &out->presence.doc);
  if (out->presence.flags & FLOW_SYNC_PRESENCE_HAS_SELECTION)
    {
      out->presence.anchor = flow_reader_varint (r);
      out->presence.cursor = flow_reader_varint (r);
    }
  if (out->presence.flags & FLOW_SYNC_PRESENCE_HAS_VIEWPORT)
    {
      out->presence.x = flow_reader_f64 (r);
      out->presence.y = flow_reader_f64 (r);
      out->presence.zoom = flow_reader_f64 (r);
      if (!flow_reader_failed (r) &&
          !viewport_ok (out->presence.x, out->presence.y, out->presence.zoom))
        flow_reader_fail (r);
    }
  out->presence.tool = read_string (r, FLOW_SYNC_TOOL_MAX);
}

/* Reads the body of a frame of a known @type into @out, whose type is
 * already set. */
static void
read_body (FlowReader    *r,
           FlowSyncFrame *out)
{
  switch (out->type)
    {
    case FLOW_SYNC_FRAME_HELLO:
      out->hello.version = flow_reader_varint32 (r);
      out->hello.replica = flow_reader_u64le (r);
      out->hello.name = read_string (r, FLOW_SYNC_NAME_MAX);
      out->hello.color = flow_reader_u32le (r);
      if (out->hello.version == 0)
        flow_reader_fail (r);
      break;
    case FLOW_SYNC_FRAME_SUMMARY:
      read_summary (r, out);
      break;
    case FLOW_SYNC_FRAME_OPS:
      read_op_id (r, &out->ops.doc);
      out->ops.batch = read_gbytes (r);
      break;
    case FLOW_SYNC_FRAME_PRESENCE:
      read_presence (r, out);
      break;
    case FLOW_SYNC_FRAME_CHAT:
      read_op_id (r, &out->chat.id);
      out->chat.lamport = flow_reader_varint (r);
      out->chat.time = flow_zigzag_decode (flow_reader_varint (r));
      out->chat.text = read_string (r, FLOW_SYNC_CHAT_MAX);
      break;
    case FLOW_SYNC_FRAME_PING:
    case FLOW_SYNC_FRAME_PONG:
      out->ping.nonce = flow_reader_u64le (r);
      break;
    case FLOW_SYNC_FRAME_BYE:
      out->bye.code = flow_reader_varint32 (r);
      out->bye.text = read_string (r, FLOW_SYNC_BYE_TEXT_MAX);
      break;
    case FLOW_SYNC_FRAME_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
}

static const char *
type_name (guint8 type)
{
  static const char *names[] = {
    "unknown", "HELLO", "SUMMARY", "OPS", "PRESENCE", "CHAT", "PING", "PONG", "BYE",
  };

  return type < G_N_ELEMENTS (names) ? names[type] : "unknown";
}

typedef enum
{
  PREFIX_OK,
  PREFIX_NEED_MORE,
  PREFIX_ERROR,
} PrefixResult;

/* Reads a frame's length prefix from the first bytes of @data, telling a
 * prefix that is still arriving from one that can never be valid. */
static PrefixResult
read_prefix (const guint8  *data,
             gsize          len,
             gsize         *frame_len,
             gsize         *prefix_len,
             GError       **error)
{
  FlowReader r;
  gsize n = 0;
  guint64 value;

  while (n < MIN (len, LENGTH_PREFIX_MAX) && (data[n] & 0x80) != 0)
    n++;
  if (n == LENGTH_PREFIX_MAX)
    {
      g_set_error (error, FLOW_SYNC_ERROR, FLOW_SYNC_ERROR_TOO_LARGE,
                   "Frame length prefix longer than %d bytes", LENGTH_PREFIX_MAX);
      return PREFIX_ERROR;
    }
  if (n == len)
    return PREFIX_NEED_MORE;

  flow_reader_init (&r, data, n + 1);
  value = flow_reader_varint (&r);
  if (flow_reader_failed (&r) || value == 0)
    {
      g_set_error (error, FLOW_SYNC_ERROR, FLOW_SYNC_ERROR_MALFORMED,
                   "Invalid frame length prefix");
      return PREFIX_ERROR;
    }
  if (value > FLOW_SYNC_FRAME_MAX_SIZE)
    {
      g_set_error (error, FLOW_SYNC_ERROR, FLOW_SYNC_ERROR_TOO_LARGE,
                   "Frame of %" G_GUINT64_FORMAT " bytes exceeds the limit of %d",
                   value, FLOW_SYNC_FRAME_MAX_SIZE);
      return PREFIX_ERROR;
    }
  *frame_len = (gsize) value;
  *prefix_len = n + 1;
  return PREFIX_OK;
}

/**
 * flow_sync_frame_decode:
 * @data: (array length=len): received bytes, starting at a frame boundary
 * @len: the number of bytes in @data
 * @consumed: (out): the size of the decoded frame, to skip before the next
 * @out: (out caller-allocates): the frame; clear it with
 *   flow_sync_frame_clear()
 * @error: return location for a #FlowSyncError
 *
 * Decodes the first frame of @data. A frame of a type this build does not
 * know decodes to %FLOW_SYNC_FRAME_UNKNOWN (with the raw type in
 * @out->unknown_type) so the caller can skip it.
 *
 * Returns: %TRUE if a frame was decoded. %FALSE with *@consumed == 0 and
 *   no error if @data holds only part of a frame; %FALSE with @error set if
 *   the frame is invalid, in which case the stream cannot be resynchronised.
 */
gboolean
flow_sync_frame_decode (const guint8   *data,
                        gsize           len,
                        gsize          *consumed,
                        FlowSyncFrame  *out,
                        GError        **error)
{
  FlowReader r;
  gsize frame_len = 0;
  gsize prefix_len = 0;
  guint8 type;

  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (consumed != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *consumed = 0;
  memset (out, 0, sizeof *out);

  switch (read_prefix (data, len, &frame_len, &prefix_len, error))
    {
    case PREFIX_NEED_MORE:
      return FALSE;
    case PREFIX_ERROR:
      return FALSE;
    case PREFIX_OK:
    default:
      break;
    }
  if (len - prefix_len < frame_len)
    return FALSE;

  type = data[prefix_len];
  flow_reader_init (&r, data + prefix_len + 1, frame_len - 1);
  if (type == FLOW_SYNC_FRAME_UNKNOWN || type > FLOW_SYNC_FRAME_BYE)
    {
      out->type = FLOW_SYNC_FRAME_UNKNOWN;
      out->unknown_type = type;
    }
  else
    {
      out->type = (FlowSyncFrameType) type;
      read_body (&r, out);
      if (flow_reader_failed (&r))
        {
          flow_sync_frame_clear (out);
          g_set_error (error, FLOW_SYNC_ERROR, FLOW_SYNC_ERROR_MALFORMED,
                       "Malformed %s frame", type_name (type));
          return FALSE;
        }
    }

  *consumed = prefix_len + frame_len;
  return TRUE;
}

static void
summary_entry_clear (gpointer data)
{
  FlowSyncSummaryEntry *e = data;

  g_clear_pointer (&e->version, g_bytes_unref);
}

/**
 * flow_sync_frame_summary_add:
 * @frame: a SUMMARY frame
 * @doc: a document id
 * @version: (nullable): the bytes of the document's encoded version vector
 *
 * Appends an entry to @frame, taking a reference on @version.
 */
void
flow_sync_frame_summary_add (FlowSyncFrame  *frame,
                             const FlowOpId *doc,
                             GBytes         *version)
{
  FlowSyncSummaryEntry e;

  g_return_if_fail (frame != NULL);
  g_return_if_fail (frame->type == FLOW_SYNC_FRAME_SUMMARY);
  g_return_if_fail (doc != NULL);

  if (frame->summary.entries == NULL)
    {
      frame->summary.entries = g_array_new (FALSE, FALSE, sizeof (FlowSyncSummaryEntry));
      g_array_set_clear_func (frame->summary.entries, summary_entry_clear);
    }
  e.doc = *doc;
  e.version = version ? g_bytes_ref (version) : g_bytes_new (NULL, 0);
  g_array_append_val (frame->summary.entries, e);
}

/**
 * flow_sync_frame_clear:
 * @frame: a frame
 *
 * Frees what @frame owns and zeroes it. Clearing twice is harmless.
 */
void
flow_sync_frame_clear (FlowSyncFrame *frame)
{
  g_return_if_fail (frame != NULL);

  switch (frame->type)
    {
    case FLOW_SYNC_FRAME_HELLO:
      g_free (frame->hello.name);
      break;
    case FLOW_SYNC_FRAME_SUMMARY:
      g_clear_pointer (&frame->summary.entries, g_array_unref);
      break;
    case FLOW_SYNC_FRAME_OPS:
      g_clear_pointer (&frame->ops.batch, g_bytes_unref);
      break;
    case FLOW_SYNC_FRAME_PRESENCE:
      g_free (frame->presence.tool);
      break;
    case FLOW_SYNC_FRAME_CHAT:
      g_free (frame->chat.text);
      break;
    case FLOW_SYNC_FRAME_BYE:
      g_free (frame->bye.text);
      break;
    case FLOW_SYNC_FRAME_PING:
    case FLOW_SYNC_FRAME_PONG:
    case FLOW_SYNC_FRAME_UNKNOWN:
    default:
      break;
    }
  memset (frame, 0, sizeof *frame);
}

/* ------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------ */

struct _FlowSyncFrameReader
{
  GByteArray *buf;
  gsize       offset;        /* start of the first frame not yet popped */
  guint32     peer_version;  /* from the peer's HELLO; 0 before it */
  GError     *error;         /* sticky: once set, every pop fails */
};

/**
 * flow_sync_frame_reader_new:
 *
 * Creates a reader for one direction of one link: it buffers received
 * bytes until they hold whole frames, checks that the first frame is
 * HELLO, and skips frames of unknown types after it.
 *
 * Returns: (transfer full): a new reader
 */
FlowSyncFrameReader *
flow_sync_frame_reader_new (void)
{
  FlowSyncFrameReader *reader = g_new0 (FlowSyncFrameReader, 1);

  reader->buf = g_byte_array_new ();
  return reader;
}

void
flow_sync_frame_reader_free (FlowSyncFrameReader *reader)
{
  if (reader == NULL)
    return;
  g_byte_array_unref (reader->buf);
  g_clear_error (&reader->error);
  g_free (reader);
}

/**
 * flow_sync_frame_reader_feed:
 * @reader: a reader
 * @data: (array length=len): bytes received from the peer
 * @len: their number
 *
 * Appends received bytes. They are ignored once the reader has failed.
 */
void
flow_sync_frame_reader_feed (FlowSyncFrameReader *reader,
                             const guint8        *data,
                             gsize                len)
{
  g_return_if_fail (reader != NULL);
  g_return_if_fail (data != NULL || len == 0);

  if (reader->error != NULL || len == 0)
    return;

  /* Drop popped frames before growing, so the buffer holds at most one
   * partial frame plus what the last read brought. */
  if (reader->offset > 0)
    {
      g_byte_array_remove_range (reader->buf, 0, (guint) reader->offset);
      reader->offset = 0;
    }
  g_byte_array_append (reader->buf, data, (guint) len);
}

static gboolean
reader_fail (FlowSyncFrameReader  *reader,
             GError               *error,
             GError              **out_error)
{
  reader->error = error;
  g_byte_array_set_size (reader->buf, 0);
  reader->offset = 0;
  g_propagate_error (out_error, g_error_copy (error));
  return FALSE;
}

/* Checks the order rules of the protocol for a frame just decoded. */
static gboolean
reader_check_order (FlowSyncFrameReader  *reader,
                    const FlowSyncFrame  *frame,
                    GError              **error)
{
  if (reader->peer_version == 0 && frame->type != FLOW_SYNC_FRAME_HELLO)
    {
      g_set_error (error, FLOW_SYNC_ERROR, FLOW_SYNC_ERROR_PROTOCOL,
                   "First frame is %s, not HELLO",
                   type_name (frame->type == FLOW_SYNC_FRAME_UNKNOWN
                              ? frame->unknown_type : (guint8) frame->type));
      return FALSE;
    }
  if (reader->peer_version != 0 && frame->type == FLOW_SYNC_FRAME_HELLO)
    {
      g_set_error (error, FLOW_SYNC_ERROR, FLOW_SYNC_ERROR_PROTOCOL, "Second HELLO frame");
      return FALSE;
    }
  return TRUE;
}

/**
 * flow_sync_frame_reader_pop:
 * @reader: a reader
 * @out: (out caller-allocates): the next frame; clear it with
 *   flow_sync_frame_clear()
 * @error: return location for a #FlowSyncError
 *
 * Takes the next whole frame out of the buffer, skipping frames of unknown
 * types. After an error the reader stays failed and the link must close.
 *
 * Returns: %TRUE if @out holds a frame; %FALSE without an error if more
 *   bytes are needed
 */
gboolean
flow_sync_frame_reader_pop (FlowSyncFrameReader  *reader,
                            FlowSyncFrame        *out,
                            GError              **error)
{
  g_return_val_if_fail (reader != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (out, 0, sizeof *out);
  if (reader->error != NULL)
    {
      g_propagate_error (error, g_error_copy (reader->error));
      return FALSE;
    }

  for (;;)
    {
      GError *local_error = NULL;
      gsize consumed = 0;

      /* An empty GByteArray may have NULL data, and NULL + 0 is undefined. */
      if (reader->offset == reader->buf->len)
        return FALSE;
      if (!flow_sync_frame_decode (reader->buf->data + reader->offset,
                                   reader->buf->len - reader->offset,
                                   &consumed, out, &local_error))
        {
          if (local_error != NULL)
            return reader_fail (reader, local_error, error);
          return FALSE;
        }
      reader->offset += consumed;

      if (!reader_check_order (reader, out, &local_error))
        {
          flow_sync_frame_clear (out);
          return reader_fail (reader, local_error, error);
        }
      if (out->type == FLOW_SYNC_FRAME_HELLO)
        reader->peer_version = out->hello.version;
      if (out->type != FLOW_SYNC_FRAME_UNKNOWN)
        return TRUE;
      flow_sync_frame_clear (out);
    }
}

/**
 * flow_sync_frame_reader_get_pending:
 * @reader: a reader
 *
 * Returns: the number of buffered bytes not yet popped as frames
 */
gsize
flow_sync_frame_reader_get_pending (FlowSyncFrameReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  return reader->buf->len - reader->offset;
}

/**
 * flow_sync_frame_reader_get_peer_version:
 * @reader: a reader
 *
 * Returns: the protocol version of the peer's HELLO, or 0 before it
 */
guint32
flow_sync_frame_reader_get_peer_version (FlowSyncFrameReader *reader)
{
  g_return_val_if_fail (reader != NULL, 0);

  return reader->peer_version;
}
