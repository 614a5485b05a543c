/* test-codec.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The byte-level codec (varints, zig-zag, fixed-width integers, the sticky
 * reader, chunks) and version vectors (set/get/merge/includes, their string
 * form and their binary encoding).
 */

#include "config.h"

#include <string.h>

#include "flow-codec-private.h"
#include "flow-error.h"
#include "flow-test-util.h"
#include "flow-version.h"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* The number of bytes canonical LEB128 takes for @v. */
static guint
varint_len (guint64 v)
{
  guint n = 1;

  while (v >= 0x80)
    {
      v >>= 7;
      n++;
    }
  return n;
}

/* A random value whose bit length is itself uniform, so every encoded
 * length from 1 to 10 bytes is well represented. */
static guint64
random_u64 (GRand *rand)
{
  guint bits = (guint) g_rand_int_range (rand, 0, 65);
  guint64 v = ((guint64) g_rand_int (rand) << 32) | g_rand_int (rand);

  if (bits == 0)
    return 0;
  if (bits < 64)
    v &= (G_GUINT64_CONSTANT (1) << bits) - 1;
  return v;
}

static GBytes *
bytes_from (const guint8 *data,
            gsize         len)
{
  return g_bytes_new (data, len);
}

/* A random vector with up to @max_entries replicas drawn from a small pool,
 * so that random vectors share replicas. */
static FlowVersionVector *
random_vector (GRand *rand,
               guint  max_entries)
{
  static const FlowReplicaId pool[] = {
    0, 1, 2, 0x7f, 0x80, 0xc0ffee, G_GUINT64_CONSTANT (0x8000000000000000),
    G_GUINT64_CONSTANT (0xfffffffffffffffe), G_MAXUINT64,
  };
  FlowVersionVector *vv = flow_version_vector_new ();
  guint n = (guint) g_rand_int_range (rand, 0, (gint) max_entries + 1);

  for (guint i = 0; i < n; i++)
    {
      FlowReplicaId replica = pool[g_rand_int_range (rand, 0, G_N_ELEMENTS (pool))];
      guint64 seq = g_rand_boolean (rand) ? (guint64) g_rand_int_range (rand, 0, 5)
                                          : random_u64 (rand);

      flow_version_vector_set (vv, replica, seq);
    }
  return vv;
}

/* ------------------------------------------------------------------------
 * Varints and zig-zag
 * ------------------------------------------------------------------------ */

static void
check_varint_round_trip (guint64 v)
{
  FlowBuf buf;
  FlowReader r;

  flow_buf_init (&buf, 0);
  flow_buf_put_varint (&buf, v);
  g_assert_cmpuint (buf.len, ==, varint_len (v));
  /* Canonical: only the last byte lacks the continuation bit, and it is
   * not a redundant zero (except for 0 itself). */
  for (gsize i = 0; i + 1 < buf.len; i++)
    g_assert_cmphex (buf.data[i] & 0x80, ==, 0x80);
  g_assert_cmphex (buf.data[buf.len - 1] & 0x80, ==, 0);
  if (buf.len > 1)
    g_assert_cmphex (buf.data[buf.len - 1], !=, 0);

  flow_reader_init (&r, buf.data, buf.len);
  g_assert_cmpuint (flow_reader_varint (&r), ==, v);
  g_assert_false (flow_reader_failed (&r));
  g_assert_true (flow_reader_at_end (&r));
  flow_buf_clear (&buf);
}

static void
test_varint_known (void)
{
  static const struct
  {
    guint64      value;
    const char  *bytes;
    gsize        len;
  } cases[] = {
    { 0, "\x00", 1 },
    { 1, "\x01", 1 },
    { 127, "\x7f", 1 },
    { 128, "\x80\x01", 2 },
    { 300, "\xac\x02", 2 },
    { 16383, "\xff\x7f", 2 },
    { 16384, "\x80\x80\x01", 3 },
    { G_MAXUINT32, "\xff\xff\xff\xff\x0f", 5 },
    { G_GUINT64_CONSTANT (0x8000000000000000), "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10 },
    { G_MAXUINT64, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      FlowBuf buf;
      FlowReader r;

      flow_buf_init (&buf, 0);
      flow_buf_put_varint (&buf, cases[i].value);
      g_assert_cmpmem (buf.data, buf.len, cases[i].bytes, cases[i].len);
      flow_buf_clear (&buf);

      flow_reader_init (&r, (const guint8 *) cases[i].bytes, cases[i].len);
      g_assert_cmpuint (flow_reader_varint (&r), ==, cases[i].value);
      g_assert_false (flow_reader_failed (&r));
      g_assert_true (flow_reader_at_end (&r));
    }
}

static void
test_varint_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  FlowBuf buf;
  FlowReader r;
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (guint64));

  /* Every power of two and its neighbours. */
  for (guint bit = 0; bit < 64; bit++)
    {
      guint64 p = G_GUINT64_CONSTANT (1) << bit;

      check_varint_round_trip (p - 1);
      check_varint_round_trip (p);
      check_varint_round_trip (p + 1);
    }
  check_varint_round_trip (G_MAXUINT64);

  /* A long stream through one buffer: the inline fast path and the slow
   * path both write into it, and the reader walks it back in order. */
  flow_buf_init (&buf, 16);
  for (guint i = 0; i < 20000; i++)
    {
      guint64 v = random_u64 (rand);

      g_array_append_val (values, v);
      flow_buf_put_varint (&buf, v);
    }
  flow_reader_init (&r, buf.data, buf.len);
  for (guint i = 0; i < values->len; i++)
    g_assert_cmpuint (flow_reader_varint (&r), ==, g_array_index (values, guint64, i));
  g_assert_false (flow_reader_failed (&r));
  g_assert_true (flow_reader_at_end (&r));
  flow_buf_clear (&buf);
}

static void
test_varint32 (void)
{
  FlowBuf buf;
  FlowReader r;

  flow_buf_init (&buf, 0);
  flow_buf_put_varint (&buf, G_MAXUINT32);
  flow_buf_put_varint (&buf, (guint64) G_MAXUINT32 + 1);
  flow_buf_put_varint (&buf, 7);

  flow_reader_init (&r, buf.data, buf.len);
  g_assert_cmpuint (flow_reader_varint32 (&r), ==, G_MAXUINT32);
  g_assert_false (flow_reader_failed (&r));
  /* 2^32 does not fit: the reader fails and stays failed. */
  g_assert_cmpuint (flow_reader_varint32 (&r), ==, 0);
  g_assert_true (flow_reader_failed (&r));
  g_assert_cmpuint (flow_reader_varint32 (&r), ==, 0);
  g_assert_true (flow_reader_failed (&r));
  flow_buf_clear (&buf);
}

static void
test_zigzag (void)
{
  static const struct
  {
    gint64  value;
    guint64 encoded;
  } cases[] = {
    { 0, 0 },
    { -1, 1 },
    { 1, 2 },
    { -2, 3 },
    { 2, 4 },
    { G_MAXINT32, G_GUINT64_CONSTANT (0xfffffffe) },
    { G_MININT32, G_GUINT64_CONSTANT (0xffffffff) },
    { G_MAXINT64, G_MAXUINT64 - 1 },
    { G_MININT64, G_MAXUINT64 },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpuint (flow_zigzag_encode (cases[i].value), ==, cases[i].encoded);
      g_assert_cmpint (flow_zigzag_decode (cases[i].encoded), ==, cases[i].value);
    }

  for (guint i = 0; i < 100000; i++)
    {
      gint64 v = (gint64) random_u64 (rand);
      guint64 z;

      if (g_rand_boolean (rand))
        v = -v;
      z = flow_zigzag_encode (v);
      g_assert_cmpint (flow_zigzag_decode (z), ==, v);
      /* Small magnitudes stay small. */
      if (v > -64 && v < 64)
        g_assert_cmpuint (z, <, 128);
    }
}

/* ------------------------------------------------------------------------
 * Reader
 * ------------------------------------------------------------------------ */

static void
test_reader_fixed_width (void)
{
  FlowBuf buf;
  FlowReader r;
  const guint8 *p;
  static const guint8 expected[] = {
    0xab,
    0x04, 0x03, 0x02, 0x01,
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
  };

  flow_buf_init (&buf, 0);
  flow_buf_put_u8 (&buf, 0xab);
  flow_buf_put_u32le (&buf, 0x01020304);
  flow_buf_put_u64le (&buf, G_GUINT64_CONSTANT (0x0102030405060708));
  /* Little-endian whatever the host. */
  g_assert_cmpmem (buf.data, buf.len, expected, sizeof expected);

  flow_buf_put_f64 (&buf, -1.5e300);
  flow_buf_put_f32 (&buf, 0.25f);
  flow_buf_put_string (&buf, "héllo", strlen ("héllo"));
  flow_buf_put_string (&buf, "", 0);
  flow_buf_put_bytes (&buf, "xyz", 3);

  flow_reader_init (&r, buf.data, buf.len);
  g_assert_cmpuint (flow_reader_u8 (&r), ==, 0xab);
  g_assert_cmphex (flow_reader_u32le (&r), ==, 0x01020304);
  g_assert_cmphex (flow_reader_u64le (&r), ==, G_GUINT64_CONSTANT (0x0102030405060708));
  g_assert_cmpfloat (flow_reader_f64 (&r), ==, -1.5e300);
  g_assert_cmpfloat (flow_reader_f32 (&r), ==, 0.25f);
  g_assert_cmpuint (flow_reader_varint (&r), ==, strlen ("héllo"));
  p = flow_reader_bytes (&r, strlen ("héllo"));
  g_assert_nonnull (p);
  g_assert_cmpmem (p, strlen ("héllo"), "héllo", strlen ("héllo"));
  g_assert_cmpuint (flow_reader_varint (&r), ==, 0);
  g_assert_cmpuint (flow_reader_remaining (&r), ==, 3);
  p = flow_reader_bytes (&r, 3);
  g_assert_cmpmem (p, 3, "xyz", 3);
  g_assert_false (flow_reader_failed (&r));
  g_assert_true (flow_reader_at_end (&r));
  flow_buf_clear (&buf);
}

/* After a failed read, every read returns 0 and the reader stays failed. */
static void
assert_failed_and_sticky (FlowReader *r)
{
  g_assert_true (flow_reader_failed (r));
  g_assert_cmpuint (flow_reader_remaining (r), ==, 0);
  g_assert_cmpuint (flow_reader_varint (r), ==, 0);
  g_assert_cmpuint (flow_reader_varint32 (r), ==, 0);
  g_assert_cmpuint (flow_reader_u8 (r), ==, 0);
  g_assert_cmpuint (flow_reader_u32le (r), ==, 0);
  g_assert_cmpuint (flow_reader_u64le (r), ==, 0);
  g_assert_cmpfloat (flow_reader_f64 (r), ==, 0.0);
  g_assert_null (flow_reader_bytes (r, 1));
  g_assert_true (flow_reader_failed (r));
}

static void
test_reader_truncated (void)
{
  static const guint64 values[] = {
    128, 300, 16384, G_MAXUINT32, G_GUINT64_CONSTANT (1) << 56, G_MAXUINT64,
  };
  static const guint8 data[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

  /* Every proper prefix of a multi-byte varint is a failure, not a short
   * value. */
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      FlowBuf buf;

      flow_buf_init (&buf, 0);
      flow_buf_put_varint (&buf, values[i]);
      for (gsize cut = 0; cut < buf.len; cut++)
        {
          FlowReader r;

          flow_reader_init (&r, buf.data, cut);
          g_assert_cmpuint (flow_reader_varint (&r), ==, 0);
          assert_failed_and_sticky (&r);
        }
      flow_buf_clear (&buf);
    }

  /* Fixed-width reads past the end. */
  for (gsize len = 0; len < 8; len++)
    {
      FlowReader r;

      flow_reader_init (&r, data, len);
      if (len < 4)
        {
          g_assert_cmpuint (flow_reader_u32le (&r), ==, 0);
          assert_failed_and_sticky (&r);
        }
      flow_reader_init (&r, data, len);
      g_assert_cmpuint (flow_reader_u64le (&r), ==, 0);
      assert_failed_and_sticky (&r);
    }

  /* A failure in the middle of the data stops everything after it, even
   * though bytes remain. */
  {
    FlowReader r;

    flow_reader_init (&r, data, sizeof data);
    g_assert_cmpuint (flow_reader_u8 (&r), ==, 1);
    g_assert_null (flow_reader_bytes (&r, sizeof data));
    assert_failed_and_sticky (&r);
  }
  {
    FlowReader r;

    flow_reader_init (&r, data, 0);
    g_assert_cmpuint (flow_reader_u8 (&r), ==, 0);
    assert_failed_and_sticky (&r);
  }
  {
    FlowReader r;

    flow_reader_init (&r, data, 3);
    g_assert_cmpfloat (flow_reader_f32 (&r), ==, 0.0f);
    assert_failed_and_sticky (&r);
  }
}

static void
test_reader_overlong (void)
{
  static const struct
  {
    const char *bytes;
    gsize       len;
    gboolean    ok;
    guint64     value;
  } cases[] = {
    /* Ten bytes hold 64 bits; the tenth may only carry bit 63. */
    { "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10, TRUE, G_MAXUINT64 },
    { "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10, TRUE, G_GUINT64_CONSTANT (1) << 63 },
    { "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10, FALSE, 0 },
    { "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, FALSE, 0 },
    { "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x40", 10, FALSE, 0 },
    /* Every number has one encoding: a last byte of 0 after others is an
     * overlong form. */
    { "\x80\x00", 2, FALSE, 0 },
    { "\xff\x00", 2, FALSE, 0 },
    { "\x81\x80\x00", 3, FALSE, 0 },
    { "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 10, FALSE, 0 },
    { "\x00", 1, TRUE, 0 },
    { "\x80\x01", 2, TRUE, 128 },
    /* An eleventh byte is an error even if it adds nothing. */
    { "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11, FALSE, 0 },
    { "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x81\x00", 11, FALSE, 0 },
    { "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 13, FALSE, 0 },
  };

  /* Each case alone, then followed by more data: the reader has a path
   * for varints near the end of the data and one for the rest. */
  for (guint pad = 0; pad <= 12; pad += 12)
    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        guint8 data[32] = { 0, };
        FlowReader r;
        guint64 v;

        memcpy (data, cases[i].bytes, cases[i].len);
        memset (data + cases[i].len, 0x7f, pad);
        flow_reader_init (&r, data, cases[i].len + pad);
        v = flow_reader_varint (&r);
        if (cases[i].ok)
          {
            g_assert_false (flow_reader_failed (&r));
            g_assert_cmpuint (v, ==, cases[i].value);
            g_assert_cmpuint (flow_reader_remaining (&r), ==, pad);
          }
        else
          {
            g_assert_cmpuint (v, ==, 0);
            assert_failed_and_sticky (&r);
          }
      }
}

static void
test_reader_sub (void)
{
  static const guint8 data[] = { 3, 'a', 'b', 'c', 0x96, 0x01, 9 };
  FlowReader r;
  FlowReader sub;

  flow_reader_init (&r, data, sizeof data);
  g_assert_true (flow_reader_sub (&r, flow_reader_varint (&r), &sub));
  g_assert_cmpuint (flow_reader_remaining (&sub), ==, 3);
  g_assert_cmpuint (flow_reader_u8 (&sub), ==, 'a');
  /* The sub-reader cannot read past its own end into its parent's data. */
  g_assert_null (flow_reader_bytes (&sub, 3));
  assert_failed_and_sticky (&sub);
  /* Its failure is its own. */
  g_assert_false (flow_reader_failed (&r));
  g_assert_cmpuint (flow_reader_varint (&r), ==, 150);
  g_assert_cmpuint (flow_reader_u8 (&r), ==, 9);
  g_assert_true (flow_reader_at_end (&r));

  /* A sub-reader longer than what remains fails both. */
  flow_reader_init (&r, data, sizeof data);
  g_assert_false (flow_reader_sub (&r, sizeof data + 1, &sub));
  g_assert_true (flow_reader_failed (&r));
  g_assert_true (flow_reader_failed (&sub));
  g_assert_cmpuint (flow_reader_u8 (&sub), ==, 0);
}

/* ------------------------------------------------------------------------
 * Buffers and chunks
 * ------------------------------------------------------------------------ */

static void
test_chunks (void)
{
  static const gsize sizes[] = { 0, 1, 126, 127, 128, 129, 300, 16383, 16384, 70000 };
  FlowBuf buf;
  FlowReader r;
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *data;
  gsize len;

  flow_buf_init (&buf, 0);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      gsize mark = flow_buf_begin_chunk (&buf, 100 + i * 50);

      /* The payload's length is only known at the end: the chunk header
       * must grow to fit it. */
      for (gsize k = 0; k < sizes[i]; k++)
        flow_buf_put_u8 (&buf, (guint8) (k * 7 + i));
      flow_buf_end_chunk (&buf, mark);
    }

  bytes = flow_buf_steal_bytes (&buf);
  g_assert_null (buf.data);
  g_assert_cmpuint (buf.len, ==, 0);
  data = g_bytes_get_data (bytes, &len);

  flow_reader_init (&r, data, len);
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      FlowReader sub;

      g_assert_cmpuint (flow_reader_varint (&r), ==, 100 + i * 50);
      g_assert_true (flow_reader_sub (&r, flow_reader_varint (&r), &sub));
      g_assert_cmpuint (flow_reader_remaining (&sub), ==, sizes[i]);
      for (gsize k = 0; k < sizes[i]; k++)
        g_assert_cmpuint (flow_reader_u8 (&sub), ==, (guint8) (k * 7 + i));
      g_assert_true (flow_reader_at_end (&sub));
      g_assert_false (flow_reader_failed (&sub));
    }
  g_assert_true (flow_reader_at_end (&r));
  g_assert_false (flow_reader_failed (&r));
}

static void
test_crc32 (void)
{
  /* The standard check value of CRC-32 (IEEE). */
  g_assert_cmphex (flow_crc32 ((const guint8 *) "123456789", 9), ==, 0xcbf43926);
  g_assert_cmphex (flow_crc32 ((const guint8 *) "", 0), ==, 0);
  g_assert_cmphex (flow_crc32 ((const guint8 *) "a", 1), ==, 0xe8b7be43);
}

/* ------------------------------------------------------------------------
 * Version vectors
 * ------------------------------------------------------------------------ */

static void
test_version_set_get (void)
{
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  g_autoptr(FlowVersionVector) copy = NULL;
  static const FlowReplicaId replicas[] = {
    G_MAXUINT64, 5, 0, G_GUINT64_CONSTANT (0x8000000000000000), 4, 6, 1,
  };
  FlowReplicaId prev = 0;
  FlowOpId id;

  g_assert_cmpuint (flow_version_vector_get_n_replicas (vv), ==, 0);
  g_assert_cmpuint (flow_version_vector_total (vv), ==, 0);
  g_assert_cmpuint (flow_version_vector_get (vv, 5), ==, 0);

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    flow_version_vector_set (vv, replicas[i], 10 + i);
  g_assert_cmpuint (flow_version_vector_get_n_replicas (vv), ==, G_N_ELEMENTS (replicas));
  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    g_assert_cmpuint (flow_version_vector_get (vv, replicas[i]), ==, 10 + i);
  g_assert_cmpuint (flow_version_vector_get (vv, 2), ==, 0);
  g_assert_cmpuint (flow_version_vector_total (vv), ==, 10 * 7 + 21);

  /* Entries come out sorted by replica, unsigned. */
  for (guint i = 0; i < flow_version_vector_get_n_replicas (vv); i++)
    {
      FlowReplicaId replica;
      guint64 next_seq;

      flow_version_vector_get_nth (vv, i, &replica, &next_seq);
      if (i > 0)
        g_assert_cmpuint (replica, >, prev);
      g_assert_cmpuint (next_seq, ==, flow_version_vector_get (vv, replica));
      prev = replica;
    }

  /* Overwrite, lower, and remove with 0. */
  flow_version_vector_set (vv, 5, 3);
  g_assert_cmpuint (flow_version_vector_get (vv, 5), ==, 3);
  flow_version_vector_set (vv, 5, 0);
  g_assert_cmpuint (flow_version_vector_get (vv, 5), ==, 0);
  g_assert_cmpuint (flow_version_vector_get_n_replicas (vv), ==, G_N_ELEMENTS (replicas) - 1);
  flow_version_vector_set (vv, 2, 0);
  g_assert_cmpuint (flow_version_vector_get_n_replicas (vv), ==, G_N_ELEMENTS (replicas) - 1);

  /* contains(): seqs below next_seq. */
  id.replica = 4;
  id.seq = 13;
  g_assert_true (flow_version_vector_contains (vv, &id));
  id.seq = 14;
  g_assert_false (flow_version_vector_contains (vv, &id));
  id.replica = 2;
  id.seq = 0;
  g_assert_false (flow_version_vector_contains (vv, &id));

  /* A copy is equal and independent. */
  copy = flow_version_vector_copy (vv);
  g_assert_true (flow_version_vector_equal (copy, vv));
  flow_version_vector_set (copy, 4, 100);
  g_assert_false (flow_version_vector_equal (copy, vv));
  g_assert_cmpuint (flow_version_vector_get (vv, 4), ==, 14);
}

static void
test_version_merge_includes (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowVersionVector) empty = flow_version_vector_new ();

  for (guint iter = 0; iter < 2000; iter++)
    {
      g_autoptr(FlowVersionVector) a = random_vector (rand, 6);
      g_autoptr(FlowVersionVector) b = random_vector (rand, 6);
      g_autoptr(FlowVersionVector) ab = flow_version_vector_copy (a);
      g_autoptr(FlowVersionVector) ba = flow_version_vector_copy (b);
      gboolean a_ge_b = TRUE;
      gboolean b_ge_a = TRUE;

      flow_version_vector_merge (ab, b);
      flow_version_vector_merge (ba, a);

      /* Element-wise maximum, commutative. */
      g_assert_true (flow_version_vector_equal (ab, ba));
      for (guint i = 0; i < flow_version_vector_get_n_replicas (ab); i++)
        {
          FlowReplicaId replica;
          guint64 next;

          flow_version_vector_get_nth (ab, i, &replica, &next);
          g_assert_cmpuint (next, ==, MAX (flow_version_vector_get (a, replica),
                                           flow_version_vector_get (b, replica)));
        }
      g_assert_true (flow_version_vector_includes (ab, a));
      g_assert_true (flow_version_vector_includes (ab, b));

      /* Idempotent. */
      flow_version_vector_merge (ab, a);
      g_assert_true (flow_version_vector_equal (ab, ba));
      flow_version_vector_merge (ab, ab);
      g_assert_true (flow_version_vector_equal (ab, ba));

      /* includes() is the element-wise order; equal() is both ways. */
      for (guint i = 0; i < flow_version_vector_get_n_replicas (ab); i++)
        {
          FlowReplicaId replica;

          flow_version_vector_get_nth (ab, i, &replica, NULL);
          if (flow_version_vector_get (a, replica) < flow_version_vector_get (b, replica))
            a_ge_b = FALSE;
          if (flow_version_vector_get (b, replica) < flow_version_vector_get (a, replica))
            b_ge_a = FALSE;
        }
      g_assert_cmpint (flow_version_vector_includes (a, b), ==, a_ge_b);
      g_assert_cmpint (flow_version_vector_includes (b, a), ==, b_ge_a);
      g_assert_cmpint (flow_version_vector_equal (a, b), ==, a_ge_b && b_ge_a);
      g_assert_true (flow_version_vector_includes (a, a));
      g_assert_true (flow_version_vector_includes (a, empty));
      g_assert_cmpint (flow_version_vector_includes (empty, a), ==,
                       flow_version_vector_get_n_replicas (a) == 0);
    }
}

static void
test_version_string_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  g_autoptr(FlowVersionVector) parsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *str = NULL;

  /* The documented form. */
  str = flow_version_vector_to_string (vv);
  g_assert_cmpstr (str, ==, "0");
  parsed = flow_version_vector_parse (str, &error);
  g_assert_no_error (error);
  g_assert_true (flow_version_vector_equal (parsed, vv));
  g_clear_pointer (&parsed, flow_version_vector_free);
  g_clear_pointer (&str, g_free);

  flow_version_vector_set (vv, G_GUINT64_CONSTANT (0x0badcafe0badcafe), 3);
  flow_version_vector_set (vv, G_GUINT64_CONSTANT (0x00c0ffee00c0ffee), 12);
  str = flow_version_vector_to_string (vv);
  g_assert_cmpstr (str, ==, "00c0ffee00c0ffee:12,0badcafe0badcafe:3");

  for (guint iter = 0; iter < 2000; iter++)
    {
      g_autoptr(FlowVersionVector) a = random_vector (rand, 8);
      g_autoptr(FlowVersionVector) b = NULL;
      g_autofree char *s = flow_version_vector_to_string (a);
      g_autofree char *s2 = NULL;

      b = flow_version_vector_parse (s, &error);
      g_assert_no_error (error);
      g_assert_nonnull (b);
      g_assert_true (flow_version_vector_equal (a, b));
      s2 = flow_version_vector_to_string (b);
      g_assert_cmpstr (s, ==, s2);
    }
}

static void
test_version_string_errors (void)
{
  static const char *bad[] = {
    "x",
    "00",
    "1:2",
    "00c0ffee00c0ffee",
    "00c0ffee00c0ffee:",
    "00c0ffee00c0ffee:-1",
    "00c0ffee00c0ffee:+1",
    "00c0ffee00c0ffee: 1",
    "00c0ffee00c0ffee:1 ",
    "00c0ffee00c0ffee:1x",
    "00c0ffee00c0ffee:0x1",
    "00c0ffee00c0ffeg:1",
    "000c0ffee00c0ffee:1",
    " 0c0ffee00c0ffee:1",
    "0xc0ffee00c0ffee:1",
    "00c0ffee00c0ffee:18446744073709551616",
    "00c0ffee00c0ffee:1,",
    ",00c0ffee00c0ffee:1",
    "00c0ffee00c0ffee:1,,0badcafe0badcafe:3",
    "00c0ffee00c0ffee:1;0badcafe0badcafe:3",
    "00c0ffee00c0ffee:1,00c0ffee00c0ffee:2",
    "00c0ffee00c0ffee:2,00c0ffee00c0ffee:1",
    "0,00c0ffee00c0ffee:1",
    /* The empty vector is spelled "0"; an empty string is not a version. */
    "",
    /* to_string() never writes a zero seq... */
    "00c0ffee00c0ffee:0",
    /* ...which must not hide a duplicate either. */
    "00c0ffee00c0ffee:0,00c0ffee00c0ffee:5",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowVersionVector) vv = flow_version_vector_parse (bad[i], &error);

      if (vv != NULL)
        g_test_message ("accepted \"%s\"", bad[i]);
      g_assert_null (vv);
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_VERSION);
    }
}

static void
test_version_encode_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  g_autoptr(GBytes) bytes = NULL;
  static const guint8 expected[] = {
    2,
    0x01, 0, 0, 0, 0, 0, 0, 0, 5,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x01,
  };

  /* The documented layout: count, then (u64le replica, varint seq) sorted
   * by replica. */
  flow_version_vector_set (vv, G_MAXUINT64, 128);
  flow_version_vector_set (vv, 1, 5);
  bytes = flow_version_vector_encode (vv);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   expected, sizeof expected);

  for (guint iter = 0; iter < 2000; iter++)
    {
      g_autoptr(FlowVersionVector) a = random_vector (rand, 8);
      g_autoptr(GBytes) enc = flow_version_vector_encode (a);
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowVersionVector) b = flow_version_vector_decode (enc, &error);
      g_autoptr(GBytes) enc2 = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (b);
      g_assert_true (flow_version_vector_equal (a, b));
      /* One vector, one encoding. */
      enc2 = flow_version_vector_encode (b);
      g_assert_true (g_bytes_equal (enc, enc2));
    }
}

static void
assert_decode_fails (const guint8 *data,
                     gsize         len)
{
  g_autoptr(GBytes) bytes = bytes_from (data, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) vv = flow_version_vector_decode (bytes, &error);

  g_assert_null (vv);
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
}

static void
test_version_decode_errors (void)
{
  static const guint8 unsorted[] = {
    2,
    2, 0, 0, 0, 0, 0, 0, 0, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 1,
  };
  static const guint8 duplicate[] = {
    2,
    1, 0, 0, 0, 0, 0, 0, 0, 1,
    1, 0, 0, 0, 0, 0, 0, 0, 2,
  };
  static const guint8 zero_seq[] = {
    1,
    1, 0, 0, 0, 0, 0, 0, 0, 0,
  };
  static const guint8 trailing[] = {
    1,
    1, 0, 0, 0, 0, 0, 0, 0, 1,
    0,
  };
  static const guint8 count_too_big[] = {
    3,
    1, 0, 0, 0, 0, 0, 0, 0, 1,
    2, 0, 0, 0, 0, 0, 0, 0, 1,
  };
  static const guint8 huge_count[] = {
    0xff, 0xff, 0xff, 0xff, 0x0f,
    1, 0, 0, 0, 0, 0, 0, 0, 1,
  };
  static const guint8 overlong_seq[] = {
    1,
    1, 0, 0, 0, 0, 0, 0, 0,
    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
  };
  /* seq 5 written in two bytes: a second encoding of the same vector. */
  static const guint8 non_minimal_seq[] = {
    1,
    1, 0, 0, 0, 0, 0, 0, 0,
    0x85, 0x00,
  };
  static const guint8 valid[] = {
    0,
  };
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  g_autoptr(GBytes) good = NULL;
  const guint8 *data;
  gsize len;

  assert_decode_fails (unsorted, sizeof unsorted);
  assert_decode_fails (duplicate, sizeof duplicate);
  assert_decode_fails (zero_seq, sizeof zero_seq);
  assert_decode_fails (trailing, sizeof trailing);
  assert_decode_fails (count_too_big, sizeof count_too_big);
  assert_decode_fails (huge_count, sizeof huge_count);
  assert_decode_fails (overlong_seq, sizeof overlong_seq);
  assert_decode_fails (non_minimal_seq, sizeof non_minimal_seq);

  /* The empty vector is one zero byte, nothing else. */
  {
    g_autoptr(GBytes) bytes = bytes_from (valid, sizeof valid);
    g_autoptr(GError) error = NULL;
    g_autoptr(FlowVersionVector) empty = flow_version_vector_decode (bytes, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (flow_version_vector_get_n_replicas (empty), ==, 0);
  }

  /* Every proper prefix of a valid encoding is refused. */
  flow_version_vector_set (vv, 7, 300);
  flow_version_vector_set (vv, G_MAXUINT64, G_MAXUINT64);
  flow_version_vector_set (vv, 0, 1);
  good = flow_version_vector_encode (vv);
  data = g_bytes_get_data (good, &len);
  for (gsize cut = 0; cut < len; cut++)
    assert_decode_fails (data, cut);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/codec/varint/known", test_varint_known);
  g_test_add_func ("/flow/codec/varint/round-trip", test_varint_round_trip);
  g_test_add_func ("/flow/codec/varint/uint32", test_varint32);
  g_test_add_func ("/flow/codec/zigzag/round-trip", test_zigzag);
  g_test_add_func ("/flow/codec/reader/fixed-width", test_reader_fixed_width);
  g_test_add_func ("/flow/codec/reader/truncated", test_reader_truncated);
  g_test_add_func ("/flow/codec/reader/overlong", test_reader_overlong);
  g_test_add_func ("/flow/codec/reader/sub", test_reader_sub);
  g_test_add_func ("/flow/codec/buf/chunks", test_chunks);
  g_test_add_func ("/flow/codec/crc32", test_crc32);
  g_test_add_func ("/flow/version/set-get", test_version_set_get);
  g_test_add_func ("/flow/version/merge-includes", test_version_merge_includes);
  g_test_add_func ("/flow/version/string/round-trip", test_version_string_round_trip);
  g_test_add_func ("/flow/version/string/errors", test_version_string_errors);
  g_test_add_func ("/flow/version/encode/round-trip", test_version_encode_round_trip);
  g_test_add_func ("/flow/version/decode/errors", test_version_decode_errors);

  return g_test_run ();
}
