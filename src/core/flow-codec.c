/* flow-codec.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <zlib.h>

#include "flow-codec-private.h"

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

void
flow_buf_init (FlowBuf *buf,
               gsize    reserve)
{
  buf->len = 0;
  buf->cap = MAX (reserve, 16);
  buf->data = g_malloc (buf->cap);
}

void
flow_buf_clear (FlowBuf *buf)
{
  g_clear_pointer (&buf->data, g_free);
  buf->len = buf->cap = 0;
}

void
flow_buf_grow (FlowBuf *buf,
               gsize    extra)
{
  gsize want = buf->len + extra;

  if (want <= buf->cap)
    return;
  buf->cap = MAX (MAX (buf->cap * 2, want), 64);
  buf->data = g_realloc (buf->data, buf->cap);
}

/* Hands the bytes over to a GBytes without copying them. */
GBytes *
flow_buf_steal_bytes (FlowBuf *buf)
{
  GBytes *bytes = g_bytes_new_take (g_steal_pointer (&buf->data), buf->len);

  buf->len = buf->cap = 0;
  return bytes;
}

void
flow_buf_put_varint_slow (FlowBuf *buf,
                          guint64  value)
{
  flow_buf_grow (buf, 10);
  while (value >= 0x80)
    {
      buf->data[buf->len++] = (guint8) (value | 0x80);
      value >>= 7;
    }
  buf->data[buf->len++] = (guint8) value;
}

void
flow_buf_put_bytes (FlowBuf    *buf,
                    const void *data,
                    gsize       len)
{
  if (len == 0)
    return;
  flow_buf_grow (buf, len);
  memcpy (buf->data + buf->len, data, len);
  buf->len += len;
}

void
flow_buf_put_u64le (FlowBuf *buf,
                    guint64  value)
{
  guint64 le = GUINT64_TO_LE (value);

  flow_buf_put_bytes (buf, &le, sizeof le);
}

void
flow_buf_put_u32le (FlowBuf *buf,
                    guint32  value)
{
  guint32 le = GUINT32_TO_LE (value);

  flow_buf_put_bytes (buf, &le, sizeof le);
}

void
flow_buf_put_f64 (FlowBuf *buf,
                  double   value)
{
  guint64 bits;

  memcpy (&bits, &value, sizeof bits);
  flow_buf_put_u64le (buf, bits);
}

void
flow_buf_put_f32 (FlowBuf *buf,
                  float    value)
{
  guint32 bits;

  memcpy (&bits, &value, sizeof bits);
  flow_buf_put_u32le (buf, bits);
}

void
flow_buf_put_string (FlowBuf    *buf,
                     const char *str,
                     gsize       len)
{
  flow_buf_put_varint (buf, len);
  flow_buf_put_bytes (buf, str, len);
}

/* A chunk is `varint type, varint length, payload`. We do not know the
 * payload's length up front, so we reserve one length byte, write the
 * payload, and move it along if the length needs more bytes. Most chunks of
 * an update message are shorter than 128 bytes, so the move is rare. */
gsize
flow_buf_begin_chunk (FlowBuf *buf,
                      guint    type)
{
  flow_buf_put_varint (buf, type);
  flow_buf_put_u8 (buf, 0);
  return buf->len;
}

void
flow_buf_end_chunk (FlowBuf *buf,
                    gsize    mark)
{
  gsize payload = buf->len - mark;
  guint8 tmp[10];
  guint n = 0;
  guint64 v = payload;

  while (v >= 0x80)
    {
      tmp[n++] = (guint8) (v | 0x80);
      v >>= 7;
    }
  tmp[n++] = (guint8) v;

  if (n > 1)
    {
      flow_buf_grow (buf, n - 1);
      memmove (buf->data + mark + n - 1, buf->data + mark, payload);
      buf->len += n - 1;
    }
  memcpy (buf->data + mark - 1, tmp, n);
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------ */

guint64
flow_reader_varint_slow (FlowReader *r)
{
  guint64 value = 0;
  guint shift = 0;

  /* Seqs and lengths are mostly two or three bytes. The inline reader
   * handled one byte, so here p[0] >= 0x80 if there is a byte at all. */
  if (r->end - r->p >= 3)
    {
      const guint8 *p = r->p;

      if (p[1] < 0x80)
        {
          if (p[1] == 0)
            goto fail;
          r->p += 2;
          return (guint64) (p[0] & 0x7f) | (guint64) p[1] << 7;
        }
      if (p[2] < 0x80)
        {
          if (p[2] == 0)
            goto fail;
          r->p += 3;
          return (guint64) (p[0] & 0x7f) | (guint64) (p[1] & 0x7f) << 7 | (guint64) p[2] << 14;
        }
    }

  while (r->p < r->end)
    {
      guint8 byte = *r->p++;

      if (shift == 63 && (byte & 0x7e) != 0)
        break; /* bits beyond 64 */
      value |= (guint64) (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0)
        {
          /* A last byte of 0 after others is an overlong encoding: every
           * number has one encoding, so encodings can be compared. */
          if (byte == 0 && shift > 0)
            break;
          return value;
        }
      shift += 7;
      if (shift > 63)
        break;
    }

fail:
  flow_reader_fail (r);
  return 0;
}

guint32
flow_reader_varint32 (FlowReader *r)
{
  guint64 value = flow_reader_varint (r);

  if (value > G_MAXUINT32)
    {
      flow_reader_fail (r);
      return 0;
    }
  return (guint32) value;
}

guint8
flow_reader_u8 (FlowReader *r)
{
  if (r->p >= r->end)
    {
      flow_reader_fail (r);
      return 0;
    }
  return *r->p++;
}

const guint8 *
flow_reader_bytes (FlowReader *r,
                   gsize       len)
{
  const guint8 *p = r->p;

  if (len > flow_reader_remaining (r))
    {
      flow_reader_fail (r);
      return NULL;
    }
  r->p += len;
  return p;
}

guint32
flow_reader_u32le (FlowReader *r)
{
  const guint8 *p = flow_reader_bytes (r, 4);
  guint32 v;

  if (p == NULL)
    return 0;
  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

guint64
flow_reader_u64le (FlowReader *r)
{
  const guint8 *p = flow_reader_bytes (r, 8);
  guint64 v;

  if (p == NULL)
    return 0;
  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

double
flow_reader_f64 (FlowReader *r)
{
  guint64 bits = flow_reader_u64le (r);
  double v;

  memcpy (&v, &bits, sizeof v);
  return v;
}

float
flow_reader_f32 (FlowReader *r)
{
  guint32 bits = flow_reader_u32le (r);
  float v;

  memcpy (&v, &bits, sizeof v);
  return v;
}

/* Splits off the next @len bytes as their own reader, so a chunk's decoder
 * cannot read past its chunk even if it is buggy. */
guint32
flow_crc32 (const guint8 *data,
            gsize         len)
{
  uLong crc = crc32 (0L, Z_NULL, 0);

  /* zlib takes a uInt length; feed big buffers in pieces. */
  while (len > 0)
    {
      uInt n = (uInt) MIN (len, (gsize) G_MAXUINT32 / 2);

      crc = crc32 (crc, data, n);
      data += n;
      len -= n;
    }
  return (guint32) crc;
}

/* TRUE if @len bytes are all ASCII and none is NUL (text never holds NUL),
 * checked eight bytes at a time. */
gboolean
flow_is_ascii (const char *s,
               gsize       len)
{
  const guint8 *p = (const guint8 *) s;
  gsize i = 0;

  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, p + i, 8);
      /* High bit set, or a zero byte. */
      if ((w & 0x8080808080808080ull) != 0 ||
          ((w - 0x0101010101010101ull) & ~w & 0x8080808080808080ull) != 0)
        return FALSE;
    }
  for (; i < len; i++)
    if (p[i] == 0 || p[i] >= 0x80)
      return FALSE;
  return TRUE;
}
