/* test-sync-frame.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-codec-private.h"
#include "flow-doc.h"
#include "flow-sync-frame.h"
#include "flow-test-util.h"
#include "flow-version.h"

/* ------------------------------------------------------------------------
 * Sample frames: every type, with edge values
 * ------------------------------------------------------------------------ */

static char *
repeat (const char *unit,
        gsize       total_bytes)
{
  GString *s = g_string_new (NULL);

  while (s->len + strlen (unit) <= total_bytes)
    g_string_append (s, unit);
  g_assert_cmpuint (s->len, ==, total_bytes);
  return g_string_free (s, FALSE);
}

static GBytes *
pattern_bytes (gsize len)
{
  guint8 *data = g_malloc (len ? len : 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 31 + 7);
  return g_bytes_new_take (data, len);
}

/* Fills @frames with one or more samples of every type. */
static GArray *
sample_frames (void)
{
  GArray *frames = g_array_new (FALSE, TRUE, sizeof (FlowSyncFrame));
  FlowSyncFrame f;
  FlowOpId doc = { G_MAXUINT64, G_MAXUINT64 };
  FlowOpId doc0 = { 0, 0 };
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();

  g_array_set_clear_func (frames, (GDestroyNotify) flow_sync_frame_clear);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_HELLO;
  f.hello.version = FLOW_SYNC_PROTOCOL_VERSION;
  f.hello.replica = 0x0123456789abcdefULL;
  f.hello.name = g_strdup ("Ada");
  f.hello.color = 0x336699ff;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_HELLO;
  f.hello.version = G_MAXUINT32;
  f.hello.replica = G_MAXUINT64;
  f.hello.name = repeat ("é", FLOW_SYNC_NAME_MAX);
  f.hello.color = 0xffffffff;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_HELLO;
  f.hello.version = 1;
  f.hello.name = g_strdup ("");
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_SUMMARY;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_SUMMARY;
  flow_version_vector_set (vv, 42, 1000);
  flow_version_vector_set (vv, G_MAXUINT64, 1);
  {
    g_autoptr(GBytes) v = flow_version_vector_encode (vv);
    g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);

    flow_sync_frame_summary_add (&f, &doc, v);
    flow_sync_frame_summary_add (&f, &doc0, empty);
    flow_sync_frame_summary_add (&f, &(FlowOpId) { 7, 300 }, v);
  }
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_OPS;
  f.ops.doc = doc0;
  f.ops.batch = g_bytes_new (NULL, 0);
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_OPS;
  f.ops.doc = doc;
  f.ops.batch = pattern_bytes (70000);
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_PRESENCE;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_PRESENCE;
  f.presence.flags = FLOW_SYNC_PRESENCE_HAS_DOC | FLOW_SYNC_PRESENCE_HAS_SELECTION;
  f.presence.doc = doc;
  f.presence.anchor = 12;
  f.presence.cursor = G_MAXUINT64;
  f.presence.tool = repeat ("ñ", FLOW_SYNC_TOOL_MAX);
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_PRESENCE;
  f.presence.flags = FLOW_SYNC_PRESENCE_ALL_FLAGS;
  f.presence.doc = doc0;
  f.presence.x = -1e300;
  f.presence.y = 0.125;
  f.presence.zoom = 1e-9;
  f.presence.tool = g_strdup ("pen");
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_CHAT;
  f.chat.id = doc;
  f.chat.lamport = G_MAXUINT64;
  f.chat.time = G_MININT64;
  f.chat.text = repeat ("é", FLOW_SYNC_CHAT_MAX);
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_CHAT;
  f.chat.id = (FlowOpId) { 5, 6 };
  f.chat.lamport = 1;
  f.chat.time = 1765100000000000;
  f.chat.text = g_strdup ("héllo 👋");
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_PING;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_PONG;
  f.ping.nonce = G_MAXUINT64;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_BYE;
  g_array_append_val (frames, f);

  memset (&f, 0, sizeof f);
  f.type = FLOW_SYNC_FRAME_BYE;
  f.bye.code = G_MAXUINT32;
  f.bye.text = repeat ("z", FLOW_SYNC_BYE_TEXT_MAX);
  g_array_append_val (frames, f);

  return frames;
}

static void
assert_str_equal (const char *a,
                  const char *b)
{
  g_assert_cmpstr (a ? a : "", ==, b ? b : "");
}

static void
assert_bytes_equal (GBytes *a,
                    GBytes *b)
{
  gsize la = 0, lb = 0;
  const guint8 *da = a ? g_bytes_get_data (a, &la) : NULL;
  const guint8 *db = b ? g_bytes_get_data (b, &lb) : NULL;

  g_assert_cmpmem (da, la, db, lb);
}

static void
assert_op_id_equal (const FlowOpId *a,
                    const FlowOpId *b)
{
  g_assert_cmpuint (a->replica, ==, b->replica);
  g_assert_cmpuint (a->seq, ==, b->seq);
}

static void
assert_summary_equal (const FlowSyncFrame *a,
                      const FlowSyncFrame *b)
{
  guint na = a->summary.entries ? a->summary.entries->len : 0;
  guint nb = b->summary.entries ? b->summary.entries->len : 0;

  g_assert_cmpuint (na, ==, nb);
  for (guint i = 0; i < na; i++)
    {
      const FlowSyncSummaryEntry *ea = &g_array_index (a->summary.entries, FlowSyncSummaryEntry, i);
      const FlowSyncSummaryEntry *eb = &g_array_index (b->summary.entries, FlowSyncSummaryEntry, i);

      assert_op_id_equal (&ea->doc, &eb->doc);
      assert_bytes_equal (ea->version, eb->version);
    }
}

static void
assert_presence_equal (const FlowSyncFrame *a,
                       const FlowSyncFrame *b)
{
  g_assert_cmpuint (a->presence.flags, ==, b->presence.flags);
  if (a->presence.flags & FLOW_SYNC_PRESENCE_HAS_DOC)
    assert_op_id_equal (&a->presence.doc, &b->presence.doc);
  if (a->presence.flags & FLOW_SYNC_PRESENCE_HAS_SELECTION)
    {
      g_assert_cmpuint (a->presence.anchor, ==, b->presence.anchor);
      g_assert_cmpuint (a->presence.cursor, ==, b->presence.cursor);
    }
  if (a->presence.flags & FLOW_SYNC_PRESENCE_HAS_VIEWPORT)
    {
      g_assert_true (a->presence.x == b->presence.x);
      g_assert_true (a->presence.y == b->presence.y);
      g_assert_true (a->presence.zoom == b->presence.zoom);
    }
  assert_str_equal (a->presence.tool, b->presence.tool);
}

static void
assert_frame_equal (const FlowSyncFrame *a,
                    const FlowSyncFrame *b)
{
  g_assert_cmpint (a->type, ==, b->type);
  switch (a->type)
    {
    case FLOW_SYNC_FRAME_HELLO:
      g_assert_cmpuint (a->hello.version, ==, b->hello.version);
      g_assert_cmpuint (a->hello.replica, ==, b->hello.replica);
      assert_str_equal (a->hello.name, b->hello.name);
      g_assert_cmphex (a->hello.color, ==, b->hello.color);
      break;
    case FLOW_SYNC_FRAME_SUMMARY:
      assert_summary_equal (a, b);
      break;
    case FLOW_SYNC_FRAME_OPS:
      assert_op_id_equal (&a->ops.doc, &b->ops.doc);
      assert_bytes_equal (a->ops.batch, b->ops.batch);
      break;
    case FLOW_SYNC_FRAME_PRESENCE:
      assert_presence_equal (a, b);
      break;
    case FLOW_SYNC_FRAME_CHAT:
      assert_op_id_equal (&a->chat.id, &b->chat.id);
      g_assert_cmpuint (a->chat.lamport, ==, b->chat.lamport);
      g_assert_cmpint (a->chat.time, ==, b->chat.time);
      assert_str_equal (a->chat.text, b->chat.text);
      break;
    case FLOW_SYNC_FRAME_PING:
    case FLOW_SYNC_FRAME_PONG:
      g_assert_cmpuint (a->ping.nonce, ==, b->ping.nonce);
      break;
    case FLOW_SYNC_FRAME_BYE:
      g_assert_cmpuint (a->bye.code, ==, b->bye.code);
      assert_str_equal (a->bye.text, b->bye.text);
      break;
    case FLOW_SYNC_FRAME_UNKNOWN:
    default:
      g_assert_cmpuint (a->unknown_type, ==, b->unknown_type);
      break;
    }
}

/* All samples, encoded and concatenated, as the link layer would send
 * them; @ends gets the offset after each frame. */
static GByteArray *
encode_stream (GArray *frames,
               GArray *ends)
{
  GByteArray *stream = g_byte_array_new ();

  for (guint i = 0; i < frames->len; i++)
    {
      g_autoptr(GBytes) bytes = flow_sync_frame_encode (&g_array_index (frames, FlowSyncFrame, i));
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);

      g_byte_array_append (stream, data, len);
      if (ends)
        {
          gsize end = stream->len;

          g_array_append_val (ends, end);
        }
    }
  return stream;
}

/* Appends a frame with raw @type and @body, length prefix included. */
static void
put_raw_frame (FlowBuf      *buf,
               guint8        type,
               const guint8 *body,
               gsize         len)
{
  flow_buf_put_varint (buf, len + 1);
  flow_buf_put_u8 (buf, type);
  flow_buf_put_bytes (buf, body, len);
}

static void
assert_decode_error (const guint8 *data,
                     gsize         len,
                     gint          code)
{
  g_auto(FlowSyncFrame) f = { 0 };
  g_autoptr(GError) error = NULL;
  gsize consumed = 99;

  g_assert_false (flow_sync_frame_decode (data, len, &consumed, &f, &error));
  g_assert_error (error, FLOW_SYNC_ERROR, code);
  g_assert_cmpuint (consumed, ==, 0);
}

static void
assert_decode_needs_more (const guint8 *data,
                          gsize         len)
{
  g_auto(FlowSyncFrame) f = { 0 };
  g_autoptr(GError) error = NULL;
  gsize consumed = 99;

  g_assert_false (flow_sync_frame_decode (data, len, &consumed, &f, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (consumed, ==, 0);
}

/* ------------------------------------------------------------------------
 * Tests
 * ------------------------------------------------------------------------ */

static void
test_roundtrip (void)
{
  g_autoptr(GArray) frames = sample_frames ();

  for (guint i = 0; i < frames->len; i++)
    {
      const FlowSyncFrame *in = &g_array_index (frames, FlowSyncFrame, i);
      g_autoptr(GBytes) bytes = flow_sync_frame_encode (in);
      g_auto(FlowSyncFrame) out = { 0 };
      g_autoptr(GError) error = NULL;
      gsize len, consumed = 0;
      const guint8 *data;

      g_assert_nonnull (bytes);
      data = g_bytes_get_data (bytes, &len);
      g_assert_true (flow_sync_frame_decode (data, len, &consumed, &out, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (consumed, ==, len);
      assert_frame_equal (in, &out);
    }
}

/* A SUMMARY and an OPS frame carry real core bytes from one document to
 * another. */
static void
test_core_bytes (void)
{
  FlowOpId id = { 1, 0 };
  g_autoptr(FlowDoc) a = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 1);
  g_autoptr(FlowDoc) b = flow_doc_new (FLOW_DOC_KIND_PAGE, &id, 2);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);
  g_autoptr(FlowVersionVector) got_vv = NULL;
  g_autoptr(GBytes) summary_bytes = NULL;
  g_autoptr(GBytes) ops_bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(FlowSyncFrame) summary = { 0 };
  g_auto(FlowSyncFrame) ops = { 0 };
  g_auto(FlowSyncFrame) got = { 0 };
  g_autofree char *text = NULL;
  gsize consumed;
  const FlowSyncSummaryEntry *e;

  g_assert_true (flow_doc_insert_text (a, 0, "Grüße, 世界\n", -1, &error));
  g_assert_no_error (error);

  summary.type = FLOW_SYNC_FRAME_SUMMARY;
  {
    g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
    g_autoptr(GBytes) v = flow_version_vector_encode (va);

    flow_sync_frame_summary_add (&summary, &id, v);
  }
  summary_bytes = flow_sync_frame_encode (&summary);
  g_assert_true (flow_sync_frame_decode (g_bytes_get_data (summary_bytes, NULL),
                                         g_bytes_get_size (summary_bytes),
                                         &consumed, &got, &error));
  g_assert_no_error (error);
  e = &g_array_index (got.summary.entries, FlowSyncSummaryEntry, 0);
  got_vv = flow_version_vector_decode (e->version, &error);
  g_assert_no_error (error);
  {
    g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);

    g_assert_true (flow_version_vector_equal (got_vv, va));
  }
  flow_sync_frame_clear (&got);

  ops.type = FLOW_SYNC_FRAME_OPS;
  ops.ops.doc = id;
  ops.ops.batch = flow_doc_encode_since (a, vb);
  ops_bytes = flow_sync_frame_encode (&ops);
  g_assert_true (flow_sync_frame_decode (g_bytes_get_data (ops_bytes, NULL),
                                         g_bytes_get_size (ops_bytes),
                                         &consumed, &got, &error));
  g_assert_no_error (error);
  g_assert_true (flow_doc_apply (b, got.ops.batch, &error));
  g_assert_no_error (error);
  text = flow_doc_dup_text (b);
  g_assert_cmpstr (text, ==, "Grüße, 世界\n");
}

static void
test_concatenated (void)
{
  g_autoptr(GArray) frames = sample_frames ();
  g_autoptr(GArray) ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_autoptr(GByteArray) stream = encode_stream (frames, ends);
  gsize pos = 0;

  for (guint i = 0; i < frames->len; i++)
    {
      g_auto(FlowSyncFrame) out = { 0 };
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      g_assert_true (flow_sync_frame_decode (stream->data + pos, stream->len - pos,
                                             &consumed, &out, &error));
      g_assert_no_error (error);
      pos += consumed;
      g_assert_cmpuint (pos, ==, g_array_index (ends, gsize, i));
      assert_frame_equal (&g_array_index (frames, FlowSyncFrame, i), &out);
    }
  g_assert_cmpuint (pos, ==, stream->len);
  assert_decode_needs_more (stream->data + pos, 0);
}

/* Feeds @stream in chunks of 1..@max_chunk bytes and checks that the reader
 * pops exactly @frames. */
static void
feed_in_chunks (GArray     *frames,
                GByteArray *stream,
                GRand      *rand,
                guint       max_chunk)
{
  g_autoptr(FlowSyncFrameReader) reader = flow_sync_frame_reader_new ();
  guint next = 0;
  gsize pos = 0;

  while (pos < stream->len)
    {
      /* MIN() evaluates its arguments twice: draw the size first. */
      gsize want = (gsize) g_rand_int_range (rand, 1, (gint32) max_chunk + 1);
      gsize n = MIN (stream->len - pos, want);

      flow_sync_frame_reader_feed (reader, stream->data + pos, n);
      pos += n;
      for (;;)
        {
          g_auto(FlowSyncFrame) out = { 0 };
          g_autoptr(GError) error = NULL;

          if (!flow_sync_frame_reader_pop (reader, &out, &error))
            {
              g_assert_no_error (error);
              break;
            }
          g_assert_cmpuint (next, <, frames->len);
          assert_frame_equal (&g_array_index (frames, FlowSyncFrame, next), &out);
          next++;
        }
    }
  g_assert_cmpuint (next, ==, frames->len);
  g_assert_cmpuint (flow_sync_frame_reader_get_pending (reader), ==, 0);
  g_assert_cmpuint (flow_sync_frame_reader_get_peer_version (reader), ==,
                    FLOW_SYNC_PROTOCOL_VERSION);
}

static void
test_reader_chunks (void)
{
  g_autoptr(GArray) frames = sample_frames ();
  g_autoptr(GByteArray) stream = NULL;
  guint32 seed = flow_test_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  /* The reader wants exactly one HELLO, first: keep the first sample and
   * drop the other HELLOs. */
  g_array_remove_range (frames, 1, 2);
  stream = encode_stream (frames, NULL);

  feed_in_chunks (frames, stream, rand, 1);          /* byte by byte */
  feed_in_chunks (frames, stream, rand, 7);
  feed_in_chunks (frames, stream, rand, 4096);
  feed_in_chunks (frames, stream, rand, (guint) stream->len);
}

/* Every proper prefix of a frame is "needs more"; every frame whose
 * declared length cuts its body short is malformed. */
static void
test_truncated (void)
{
  g_autoptr(GArray) frames = sample_frames ();

  for (guint i = 0; i < frames->len; i++)
    {
      const FlowSyncFrame *in = &g_array_index (frames, FlowSyncFrame, i);
      g_autoptr(GBytes) bytes = flow_sync_frame_encode (in);
      gsize len;
      const guint8 *data = g_bytes_get_data (bytes, &len);
      gsize step = len > 4096 ? 97 : 1;

      for (gsize n = 0; n < len; n += step)
        assert_decode_needs_more (data, n);

      /* Re-frame the same body with each shorter length. */
      {
        FlowReader r;
        gsize body_len;
        const guint8 *body;

        flow_reader_init (&r, data, len);
        body_len = (gsize) flow_reader_varint (&r);
        body = r.p;
        for (gsize n = 1; n < body_len; n += step)
          {
            FlowBuf buf;

            flow_buf_init (&buf, n + 8);
            flow_buf_put_varint (&buf, n);
            flow_buf_put_bytes (&buf, body, n);
            assert_decode_error (buf.data, buf.len, FLOW_SYNC_ERROR_MALFORMED);
            flow_buf_clear (&buf);
          }
      }
    }
}

static void
test_unknown_type (void)
{
  g_autoptr(FlowSyncFrameReader) reader = flow_sync_frame_reader_new ();
  g_autoptr(GArray) frames = sample_frames ();
  static const guint8 junk[] = { 1, 2, 3, 0xff, 0x80 };
  g_auto(FlowSyncFrame) out = { 0 };
  g_autoptr(GError) error = NULL;
  FlowBuf buf;
  gsize consumed = 0;

  /* decode reports it, with its raw type and whole length consumed */
  flow_buf_init (&buf, 64);
  put_raw_frame (&buf, 200, junk, sizeof junk);
  g_assert_true (flow_sync_frame_decode (buf.data, buf.len, &consumed, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out.type, ==, FLOW_SYNC_FRAME_UNKNOWN);
  g_assert_cmpuint (out.unknown_type, ==, 200);
  g_assert_cmpuint (consumed, ==, buf.len);
  flow_sync_frame_clear (&out);
  flow_buf_clear (&buf);

  /* the reader skips it after HELLO */
  {
    g_autoptr(GBytes) hello = flow_sync_frame_encode (&g_array_index (frames, FlowSyncFrame, 0));
    g_autoptr(GBytes) pong = flow_sync_frame_encode (&g_array_index (frames, FlowSyncFrame, 13));

    g_assert_cmpint (g_array_index (frames, FlowSyncFrame, 13).type, ==, FLOW_SYNC_FRAME_PONG);
    flow_buf_init (&buf, 64);
    flow_buf_put_bytes (&buf, g_bytes_get_data (hello, NULL), g_bytes_get_size (hello));
    put_raw_frame (&buf, 9, junk, sizeof junk);
    put_raw_frame (&buf, 0, NULL, 0);
    put_raw_frame (&buf, 255, junk, 1);
    flow_buf_put_bytes (&buf, g_bytes_get_data (pong, NULL), g_bytes_get_size (pong));
  }
  flow_sync_frame_reader_feed (reader, buf.data, buf.len);
  flow_buf_clear (&buf);
  g_assert_true (flow_sync_frame_reader_pop (reader, &out, &error));
  g_assert_cmpint (out.type, ==, FLOW_SYNC_FRAME_HELLO);
  flow_sync_frame_clear (&out);
  g_assert_true (flow_sync_frame_reader_pop (reader, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out.type, ==, FLOW_SYNC_FRAME_PONG);
  flow_sync_frame_clear (&out);
  g_assert_false (flow_sync_frame_reader_pop (reader, &out, &error));
  g_assert_no_error (error);
}

static void
assert_reader_fails (const guint8 *data,
                     gsize         len,
                     gint          code)
{
  g_autoptr(FlowSyncFrameReader) reader = flow_sync_frame_reader_new ();
  g_auto(FlowSyncFrame) out = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;

  flow_sync_frame_reader_feed (reader, data, len);
  while (ok)
    ok = flow_sync_frame_reader_pop (reader, &out, &error), flow_sync_frame_clear (&out);
  g_assert_error (error, FLOW_SYNC_ERROR, code);
  g_clear_error (&error);

  /* The failure is sticky, and the reader buffers nothing more. */
  flow_sync_frame_reader_feed (reader, data, len);
  g_assert_cmpuint (flow_sync_frame_reader_get_pending (reader), ==, 0);
  g_assert_false (flow_sync_frame_reader_pop (reader, &out, &error));
  g_assert_error (error, FLOW_SYNC_ERROR, code);
}

static void
test_order (void)
{
  g_autoptr(GArray) frames = sample_frames ();
  g_autoptr(GBytes) hello = flow_sync_frame_encode (&g_array_index (frames, FlowSyncFrame, 0));
  g_autoptr(GBytes) ping = flow_sync_frame_encode (&g_array_index (frames, FlowSyncFrame, 12));
  g_autoptr(GByteArray) two = g_byte_array_new ();
  FlowBuf buf;

  /* not HELLO first */
  assert_reader_fails (g_bytes_get_data (ping, NULL), g_bytes_get_size (ping),
                       FLOW_SYNC_ERROR_PROTOCOL);

  /* an unknown type before HELLO is not skipped */
  flow_buf_init (&buf, 16);
  put_raw_frame (&buf, 99, NULL, 0);
  assert_reader_fails (buf.data, buf.len, FLOW_SYNC_ERROR_PROTOCOL);
  flow_buf_clear (&buf);

  /* two HELLOs */
  g_byte_array_append (two, g_bytes_get_data (hello, NULL), g_bytes_get_size (hello));
  g_byte_array_append (two, g_bytes_get_data (hello, NULL), g_bytes_get_size (hello));
  assert_reader_fails (two->data, two->len, FLOW_SYNC_ERROR_PROTOCOL);

  /* HELLO with version 0 */
  {
    static const guint8 body[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4 };

    flow_buf_init (&buf, 16);
    put_raw_frame (&buf, FLOW_SYNC_FRAME_HELLO, body, sizeof body);
    assert_decode_error (buf.data, buf.len, FLOW_SYNC_ERROR_MALFORMED);
    assert_reader_fails (buf.data, buf.len, FLOW_SYNC_ERROR_MALFORMED);
    flow_buf_clear (&buf);
  }
}

/* Frames @body as a frame of @type, checks that it is malformed, and
 * clears @body. */
static void
assert_body_malformed (guint8   type,
                       FlowBuf *body)
{
  FlowBuf frame;

  flow_buf_init (&frame, body->len + 8);
  put_raw_frame (&frame, type, body->data, body->len);
  assert_decode_error (frame.data, frame.len, FLOW_SYNC_ERROR_MALFORMED);
  flow_buf_clear (&frame);
  flow_buf_clear (body);
}

static void
test_limits (void)
{
  FlowBuf buf;
  g_autofree char *long_name = repeat ("a", FLOW_SYNC_NAME_MAX + 1);
  g_autofree char *long_tool = repeat ("a", FLOW_SYNC_TOOL_MAX + 1);
  g_autofree char *long_chat = repeat ("a", FLOW_SYNC_CHAT_MAX + 1);
  static const guint8 bad_utf8[] = { 'a', 0xc3, 0x28 };
  static const guint8 with_nul[] = { 'a', 0, 'b' };

  /* strings above their bound */
  flow_buf_init (&buf, 512);
  flow_buf_put_varint (&buf, 1);
  flow_buf_put_u64le (&buf, 1);
  flow_buf_put_string (&buf, long_name, strlen (long_name));
  flow_buf_put_u32le (&buf, 0);
  assert_body_malformed (FLOW_SYNC_FRAME_HELLO, &buf);

  flow_buf_init (&buf, 64);
  flow_buf_put_varint (&buf, 0);
  flow_buf_put_string (&buf, long_tool, strlen (long_tool));
  assert_body_malformed (FLOW_SYNC_FRAME_PRESENCE, &buf);

  /* invalid UTF-8 and NUL bytes */
  for (guint k = 0; k < 2; k++)
    {
      flow_buf_init (&buf, 64);
      flow_buf_put_varint (&buf, 3);
      flow_buf_put_string (&buf, (const char *) (k ? with_nul : bad_utf8), 3);
      assert_body_malformed (FLOW_SYNC_FRAME_BYE, &buf);
    }

  /* a non-finite viewport, and zoom 0 */
  for (guint k = 0; k < 2; k++)
    {
      flow_buf_init (&buf, 64);
      flow_buf_put_varint (&buf, FLOW_SYNC_PRESENCE_HAS_VIEWPORT);
      flow_buf_put_f64 (&buf, k ? 1.0 : NAN);
      flow_buf_put_f64 (&buf, 1.0);
      flow_buf_put_f64 (&buf, k ? 0.0 : 1.0);
      flow_buf_put_varint (&buf, 0);
      assert_body_malformed (FLOW_SYNC_FRAME_PRESENCE, &buf);
    }

  /* huge counts and lengths with few bytes behind them: refused, not
   * allocated */
  flow_buf_init (&buf, 64);
  flow_buf_put_varint (&buf, G_MAXUINT64 >> 4);
  flow_buf_put_u64le (&buf, 1);
  assert_body_malformed (FLOW_SYNC_FRAME_SUMMARY, &buf);

  flow_buf_init (&buf, 64);
  flow_buf_put_u64le (&buf, 1);
  flow_buf_put_varint (&buf, 1);
  flow_buf_put_varint (&buf, (guint64) 1 << 40);
  assert_body_malformed (FLOW_SYNC_FRAME_OPS, &buf);

  /* the encoder refuses what the decoder would */
  if (g_test_undefined ())
    {
      FlowSyncFrame f = { 0 };
      GBytes *bytes;

      f.type = FLOW_SYNC_FRAME_CHAT;
      f.chat.text = long_chat;
      g_test_expect_message ("flow-sync-frame", G_LOG_LEVEL_CRITICAL, "*frame_ok*");
      bytes = flow_sync_frame_encode (&f);
      g_test_assert_expected_messages ();
      g_assert_null (bytes);
    }
}

static void
test_oversize (void)
{
  static const guint8 max_plus_one[] = { 0x81, 0x80, 0x80, 0x08 };  /* 2^24 + 1 */
  static const guint8 max[] = { 0x80, 0x80, 0x80, 0x08 };           /* 2^24 */
  static const guint8 five_bytes[] = { 0x80, 0x80, 0x80, 0x80 };
  static const guint8 zero[] = { 0x00, 0x01 };
  static const guint8 overlong[] = { 0x81, 0x00, 0x01 };
  FlowSyncFrame f = { 0 };
  g_autoptr(GBytes) bytes = NULL;
  g_auto(FlowSyncFrame) out = { 0 };
  g_autoptr(GError) error = NULL;
  gsize consumed = 0;

  /* refused from the prefix alone, before any body arrives */
  assert_decode_error (max_plus_one, sizeof max_plus_one, FLOW_SYNC_ERROR_TOO_LARGE);
  assert_decode_error (five_bytes, sizeof five_bytes, FLOW_SYNC_ERROR_TOO_LARGE);
  assert_decode_needs_more (five_bytes, 3);
  assert_decode_needs_more (max, sizeof max);
  assert_decode_error (zero, sizeof zero, FLOW_SYNC_ERROR_MALFORMED);
  assert_decode_error (overlong, sizeof overlong, FLOW_SYNC_ERROR_MALFORMED);
  assert_reader_fails (max_plus_one, sizeof max_plus_one, FLOW_SYNC_ERROR_TOO_LARGE);

  /* exactly the largest frame: type, replica, one-byte seq, four-byte
   * length and the batch */
  f.type = FLOW_SYNC_FRAME_OPS;
  f.ops.batch = pattern_bytes (FLOW_SYNC_FRAME_MAX_SIZE - 1 - 8 - 1 - 4);
  bytes = flow_sync_frame_encode (&f);
  g_assert_nonnull (bytes);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, FLOW_SYNC_FRAME_MAX_SIZE + 4);
  g_assert_true (flow_sync_frame_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                         &consumed, &out, &error));
  g_assert_no_error (error);
  assert_frame_equal (&f, &out);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* one byte more cannot be encoded */
  if (g_test_undefined ())
    {
      g_bytes_unref (f.ops.batch);
      f.ops.batch = pattern_bytes (FLOW_SYNC_FRAME_MAX_SIZE - 1 - 8 - 1 - 4 + 1);
      g_test_expect_message ("flow-sync-frame", G_LOG_LEVEL_CRITICAL, "*should not be reached*");
      bytes = flow_sync_frame_encode (&f);
      g_test_assert_expected_messages ();
      g_assert_null (bytes);
    }
  flow_sync_frame_clear (&f);
}

/* Decodes @data as a stream, both with decode() and through a reader fed
 * in random pieces. Whatever decodes must encode again to a frame that
 * decodes the same. */
static void
fuzz_one (const guint8 *data,
          gsize         len,
          GRand        *rand)
{
  g_autoptr(FlowSyncFrameReader) reader = flow_sync_frame_reader_new ();
  gsize pos = 0;

  for (;;)
    {
      g_auto(FlowSyncFrame) out = { 0 };
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      if (!flow_sync_frame_decode (data + pos, len - pos, &consumed, &out, &error))
        {
          g_assert_cmpuint (consumed, ==, 0);
          break;
        }
      g_assert_cmpuint (consumed, >, 0);
      g_assert_cmpuint (consumed, <=, len - pos);
      pos += consumed;
      if (out.type != FLOW_SYNC_FRAME_UNKNOWN)
        {
          g_autoptr(GBytes) again = flow_sync_frame_encode (&out);
          g_auto(FlowSyncFrame) out2 = { 0 };

          g_assert_nonnull (again);
          g_assert_true (flow_sync_frame_decode (g_bytes_get_data (again, NULL),
                                                 g_bytes_get_size (again),
                                                 &consumed, &out2, &error));
          g_assert_no_error (error);
          assert_frame_equal (&out, &out2);
        }
    }

  for (gsize fed = 0; fed < len; )
    {
      gsize want = (gsize) g_rand_int_range (rand, 1, 64);
      gsize n = MIN (len - fed, want);
      g_auto(FlowSyncFrame) out = { 0 };
      g_autoptr(GError) error = NULL;

      flow_sync_frame_reader_feed (reader, data + fed, n);
      fed += n;
      while (flow_sync_frame_reader_pop (reader, &out, &error))
        flow_sync_frame_clear (&out);
    }
}

static void
test_random_bytes (void)
{
  guint32 seed = flow_test_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  guint n = flow_test_iterations ("FLOW_TEST_ITERATIONS", 20000);
  guint8 data[256];

  for (guint i = 0; i < n; i++)
    {
      gsize len = g_rand_int_range (rand, 0, sizeof data + 1);

      for (gsize k = 0; k < len; k++)
        data[k] = (guint8) g_rand_int (rand);
      /* Small lengths and known types are where the interesting bugs
       * are; random bytes rarely hit them. */
      if (len > 2 && g_rand_boolean (rand))
        {
          data[0] = (guint8) g_rand_int_range (rand, 1, 0x80);
          data[1] = (guint8) g_rand_int_range (rand, 0, 10);
        }
      fuzz_one (data, len, rand);
    }
}

static void
test_mutations (void)
{
  guint32 seed = flow_test_seed ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GArray) frames = sample_frames ();
  g_autoptr(GByteArray) stream = NULL;
  guint n = flow_test_iterations ("FLOW_TEST_ITERATIONS", 3000);

  /* Without the big samples, so each iteration stays cheap. */
  for (guint i = frames->len; i-- > 0; )
    {
      FlowSyncFrameType type = g_array_index (frames, FlowSyncFrame, i).type;

      if (type == FLOW_SYNC_FRAME_OPS || type == FLOW_SYNC_FRAME_CHAT)
        g_array_remove_index (frames, i);
    }
  stream = encode_stream (frames, NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GByteArray) m = g_byte_array_new ();
      guint n_mut = g_rand_int_range (rand, 1, 6);

      g_byte_array_append (m, stream->data, stream->len);
      for (guint k = 0; k < n_mut && m->len > 0; k++)
        {
          guint at = g_rand_int_range (rand, 0, m->len);

          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0:
              m->data[at] ^= (guint8) (1u << g_rand_int_range (rand, 0, 8));
              break;
            case 1:
              m->data[at] = (guint8) g_rand_int (rand);
              break;
            case 2:
              g_byte_array_remove_index (m, at);
              break;
            default:
              g_byte_array_set_size (m, at);
              break;
            }
        }
      fuzz_one (m->data, m->len, rand);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/sync/frame/roundtrip", test_roundtrip);
  g_test_add_func ("/flow/sync/frame/core-bytes", test_core_bytes);
  g_test_add_func ("/flow/sync/frame/concatenated", test_concatenated);
  g_test_add_func ("/flow/sync/frame/reader-chunks", test_reader_chunks);
  g_test_add_func ("/flow/sync/frame/truncated", test_truncated);
  g_test_add_func ("/flow/sync/frame/unknown-type", test_unknown_type);
  g_test_add_func ("/flow/sync/frame/order", test_order);
  g_test_add_func ("/flow/sync/frame/limits", test_limits);
  g_test_add_func ("/flow/sync/frame/oversize", test_oversize);
  g_test_add_func ("/flow/sync/frame/random-bytes", test_random_bytes);
  g_test_add_func ("/flow/sync/frame/mutations", test_mutations);

  return g_test_run ();
}
