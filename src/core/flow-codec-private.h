/* flow-codec-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Byte-level building blocks of every FlowSync encoding.
 *
 * Writers append to a FlowBuf, a growable byte array we own outright so the
 * per-keystroke encode path does no more than one allocation.
 *
 * Readers are "sticky": the first out-of-bounds or malformed read marks the
 * reader failed, and every later read returns 0 without touching memory. A
 * decoder therefore reads a whole structure and checks flow_reader_failed()
 * once, instead of testing every call. Nothing a reader returns may be used
 * to size an allocation without first being checked against
 * flow_reader_remaining(): that is how our decoders refuse to over-allocate
 * on hostile input.
 *
 * Integers are unsigned LEB128 (at most 10 bytes for 64 bits; an eleventh
 * byte, or bits above 64, is an error). Signed integers are zig-zag encoded
 * first. Fixed-width integers are little-endian.
 */

#pragma once

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

typedef struct
{
  guint8 *data;
  gsize   len;
  gsize   cap;
} FlowBuf;

typedef struct
{
  const guint8 *p;
  const guint8 *end;
  gboolean      failed;
} FlowReader;

void     flow_buf_init          (FlowBuf       *buf,
                                 gsize          reserve);
void     flow_buf_clear         (FlowBuf       *buf);
void     flow_buf_grow          (FlowBuf       *buf,
                                 gsize          extra);
GBytes  *flow_buf_steal_bytes   (FlowBuf       *buf);
void     flow_buf_put_varint_slow (FlowBuf     *buf,
                                   guint64      value);
void     flow_buf_put_bytes     (FlowBuf       *buf,
                                 const void    *data,
                                 gsize          len);
void     flow_buf_put_u64le     (FlowBuf       *buf,
                                 guint64        value);
void     flow_buf_put_u32le     (FlowBuf       *buf,
                                 guint32        value);
void     flow_buf_put_f64       (FlowBuf       *buf,
                                 double         value);
void     flow_buf_put_f32       (FlowBuf       *buf,
                                 float          value);
void     flow_buf_put_string    (FlowBuf       *buf,
                                 const char    *str,
                                 gsize          len);
gsize    flow_buf_begin_chunk   (FlowBuf       *buf,
                                 guint          type);
void     flow_buf_end_chunk     (FlowBuf       *buf,
                                 gsize          mark);

static inline void
flow_buf_put_u8 (FlowBuf *buf,
                 guint8   value)
{
  if (G_UNLIKELY (buf->len == buf->cap))
    flow_buf_grow (buf, 1);
  buf->data[buf->len++] = value;
}

/* Most varints are one byte; keep that case inline. */
static inline void
flow_buf_put_varint (FlowBuf *buf,
                     guint64  value)
{
  if (value < 0x80 && buf->len < buf->cap)
    buf->data[buf->len++] = (guint8) value;
  else
    flow_buf_put_varint_slow (buf, value);
}

static inline guint64
flow_zigzag_encode (gint64 value)
{
  return ((guint64) value << 1) ^ (guint64) (value >> 63);
}

static inline gint64
flow_zigzag_decode (guint64 value)
{
  return (gint64) (value >> 1) ^ -(gint64) (value & 1);
}

static inline void
flow_reader_init (FlowReader   *r,
                  const guint8 *data,
                  gsize         len)
{
  /* Empty GBytes may have NULL data, and NULL + 0 is undefined. */
  r->p = data;
  r->end = len > 0 ? data + len : data;
  r->failed = FALSE;
}

guint64 flow_reader_varint_slow (FlowReader *r);

static inline guint64
flow_reader_varint (FlowReader *r)
{
  if (r->p < r->end && *r->p < 0x80)
    return *r->p++;
  return flow_reader_varint_slow (r);
}

static inline gsize
flow_reader_remaining (const FlowReader *r)
{
  return (gsize) (r->end - r->p);
}

static inline gboolean
flow_reader_failed (const FlowReader *r)
{
  return r->failed;
}

static inline gboolean
flow_reader_at_end (const FlowReader *r)
{
  return r->p == r->end;
}

static inline void
flow_reader_fail (FlowReader *r)
{
  r->failed = TRUE;
  r->p = r->end;
}

/* A reader over the next @len bytes of @r, which skips them. */
static inline gboolean
flow_reader_sub (FlowReader *r,
                 gsize       len,
                 FlowReader *sub)
{
  if (len > flow_reader_remaining (r))
    {
      flow_reader_fail (r);
      flow_reader_init (sub, NULL, 0);
      sub->failed = TRUE;
      return FALSE;
    }
  flow_reader_init (sub, r->p, len);
  r->p += len;
  return TRUE;
}

guint32       flow_reader_varint32   (FlowReader *r);
guint8        flow_reader_u8         (FlowReader *r);
guint32       flow_reader_u32le      (FlowReader *r);
guint64       flow_reader_u64le      (FlowReader *r);
double        flow_reader_f64        (FlowReader *r);
float         flow_reader_f32        (FlowReader *r);
const guint8 *flow_reader_bytes      (FlowReader *r,
                                      gsize       len);

/* Empties a scratch array the hot paths reset on every keystroke. Only for
 * arrays without a clear func and not zero-terminated: then emptying is
 * just forgetting the elements, and g_array_set_size() costs a call into
 * g_array_remove_range() each time. */
static inline void
flow_array_clear (GArray *array)
{
  array->len = 0;
}

/* Sets the length of such an array. GArray keeps its allocated size to
 * itself, so *@cap remembers the largest length we ever set (GArray never
 * gives memory back while the array lives): below it, resizing and
 * appending on the per-keystroke paths is a store rather than a call. */
static inline void
flow_array_resize (GArray *array,
                   guint   len,
                   guint  *cap)
{
  if (G_UNLIKELY (len > *cap))
    {
      g_array_set_size (array, MAX (len, *cap * 2));
      *cap = array->len;
    }
  array->len = len;
}

/* For scratch arrays made with g_array_sized_new (FALSE, FALSE, size,
 * FLOW_SCRATCH_RESERVED): appends one element (uninitialised) and returns
 * it, without a call while the preallocated room lasts. */
#define FLOW_SCRATCH_RESERVED 16

static inline gpointer
flow_scratch_push (GArray *array,
                   gsize   elt_size)
{
  if (G_LIKELY (array->len < FLOW_SCRATCH_RESERVED))
    array->len++;
  else
    g_array_set_size (array, array->len + 1);
  return array->data + elt_size * (array->len - 1);
}

/* Appends one element (uninitialised) and returns it. */
#define flow_array_push(array, Type, cap) \
  (flow_array_resize ((array), (array)->len + 1, (cap)), \
   &g_array_index ((array), Type, (array)->len - 1))

gboolean      flow_is_ascii          (const char   *s,
                                      gsize         len);
guint32       flow_crc32             (const guint8 *data,
                                      gsize         len);

G_END_DECLS
