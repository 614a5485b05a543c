/* flow-version.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Version vectors.
 *
 * A version vector maps each replica to the next sequence number we expect
 * from it: every op (r, s) with s < vv[r] is included. Because seqs are dense
 * per replica and ops are applied in causal order, a version vector names a
 * causally closed set of ops exactly, so it doubles as the name of a
 * document version (time travel) and as the sync summary ("send me what
 * this lacks").
 *
 * We keep the entries in an array sorted by replica id: the vectors are
 * small (one entry per device that ever edited the document), sorted arrays
 * merge and compare in one pass, and the encoding is canonical.
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "flow-codec-private.h"
#include "flow-error.h"
#include "flow-version.h"

typedef struct
{
  FlowReplicaId replica;
  guint64       next_seq;
} Entry;

struct _FlowVersionVector
{
  GArray *entries; /* Entry, sorted by replica, next_seq > 0 */
};

G_DEFINE_BOXED_TYPE (FlowVersionVector, flow_version_vector,
                     flow_version_vector_copy, flow_version_vector_free)

/* Maximum replicas in a decoded vector; far above any real workspace, it
 * bounds what a hostile peer can make us allocate. */
#define MAX_DECODED_ENTRIES (1u << 20)

/**
 * flow_version_vector_new:
 *
 * Returns: (transfer full): an empty version vector (the empty document)
 */
FlowVersionVector *
flow_version_vector_new (void)
{
  FlowVersionVector *vv = g_new0 (FlowVersionVector, 1);

  vv->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  return vv;
}

/**
 * flow_version_vector_copy:
 * @vv: a version vector
 *
 * Returns: (transfer full): a copy of @vv
 */
FlowVersionVector *
flow_version_vector_copy (const FlowVersionVector *vv)
{
  FlowVersionVector *copy = flow_version_vector_new ();

  g_array_append_vals (copy->entries, vv->entries->data, vv->entries->len);
  return copy;
}

/**
 * flow_version_vector_free:
 * @vv: (nullable): a version vector
 */
void
flow_version_vector_free (FlowVersionVector *vv)
{
  if (vv == NULL)
    return;
  g_array_unref (vv->entries);
  g_free (vv);
}

/* Binary search; returns the index of @replica or where it would go. */
static guint
find_entry (const FlowVersionVector *vv,
            FlowReplicaId            replica,
            gboolean                *found)
{
  guint lo = 0;
  guint hi = vv->entries->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const Entry *e = &g_array_index (vv->entries, Entry, mid);

      if (e->replica == replica)
        {
          *found = TRUE;
          return mid;
        }
      if (e->replica < replica)
        lo = mid + 1;
      else
        hi = mid;
    }

  *found = FALSE;
  return lo;
}

/**
 * flow_version_vector_get:
 * @vv: a version vector
 * @replica: a replica id
 *
 * Returns: the next seq expected from @replica (0 if none is included)
 */
guint64
flow_version_vector_get (const FlowVersionVector *vv,
                         FlowReplicaId            replica)
{
  gboolean found;
  guint i;

  g_return_val_if_fail (vv != NULL, 0);

  i = find_entry (vv, replica, &found);
  return found ? g_array_index (vv->entries, Entry, i).next_seq : 0;
}

/**
 * flow_version_vector_set:
 * @vv: a version vector
 * @replica: a replica id
 * @next_seq: the next seq expected from @replica; 0 removes the entry
 */
void
flow_version_vector_set (FlowVersionVector *vv,
                         FlowReplicaId      replica,
                         guint64            next_seq)
{
  gboolean found;
  guint i;

  g_return_if_fail (vv != NULL);

  i = find_entry (vv, replica, &found);
  if (found)
    {
      if (next_seq == 0)
        g_array_remove_index (vv->entries, i);
      else
        g_array_index (vv->entries, Entry, i).next_seq = next_seq;
    }
  else if (next_seq > 0)
    {
      Entry e = { replica, next_seq };

      g_array_insert_val (vv->entries, i, e);
    }
}

/**
 * flow_version_vector_merge:
 * @vv: a version vector
 * @other: another version vector
 *
 * Sets @vv to the element-wise maximum of @vv and @other: the union of the
 * two op sets.
 */
void
flow_version_vector_merge (FlowVersionVector       *vv,
                           const FlowVersionVector *other)
{
  g_return_if_fail (vv != NULL);
  g_return_if_fail (other != NULL);

  for (guint i = 0; i < other->entries->len; i++)
    {
      const Entry *e = &g_array_index (other->entries, Entry, i);

      if (flow_version_vector_get (vv, e->replica) < e->next_seq)
        flow_version_vector_set (vv, e->replica, e->next_seq);
    }
}

/**
 * flow_version_vector_contains:
 * @vv: a version vector
 * @id: an op id
 *
 * Returns: %TRUE if the op named @id is part of @vv
 */
gboolean
flow_version_vector_contains (const FlowVersionVector *vv,
                              const FlowOpId          *id)
{
  return id->seq < flow_version_vector_get (vv, id->replica);
}

/**
 * flow_version_vector_includes:
 * @vv: a version vector
 * @other: another version vector
 *
 * Returns: %TRUE if every op of @other is also in @vv
 */
gboolean
flow_version_vector_includes (const FlowVersionVector *vv,
                              const FlowVersionVector *other)
{
  for (guint i = 0; i < other->entries->len; i++)
    {
      const Entry *e = &g_array_index (other->entries, Entry, i);

      if (flow_version_vector_get (vv, e->replica) < e->next_seq)
        return FALSE;
    }
  return TRUE;
}

/**
 * flow_version_vector_equal:
 * @a: a version vector
 * @b: a version vector
 *
 * Returns: %TRUE if @a and @b name the same set of ops
 */
gboolean
flow_version_vector_equal (const FlowVersionVector *a,
                           const FlowVersionVector *b)
{
  return a->entries->len == b->entries->len &&
         (a->entries->len == 0 ||
          memcmp (a->entries->data, b->entries->data, a->entries->len * sizeof (Entry)) == 0);
}

/**
 * flow_version_vector_get_n_replicas:
 * @vv: a version vector
 *
 * Returns: the number of replicas with at least one op in @vv
 */
guint
flow_version_vector_get_n_replicas (const FlowVersionVector *vv)
{
  return vv->entries->len;
}

/**
 * flow_version_vector_get_nth:
 * @vv: a version vector
 * @n: an index below flow_version_vector_get_n_replicas()
 * @replica: (out) (optional): the replica
 * @next_seq: (out) (optional): its next seq
 *
 * Entries are ordered by replica id.
 */
void
flow_version_vector_get_nth (const FlowVersionVector *vv,
                             guint                    n,
                             FlowReplicaId           *replica,
                             guint64                 *next_seq)
{
  const Entry *e;

  g_return_if_fail (n < vv->entries->len);

  e = &g_array_index (vv->entries, Entry, n);
  if (replica)
    *replica = e->replica;
  if (next_seq)
    *next_seq = e->next_seq;
}

/**
 * flow_version_vector_total:
 * @vv: a version vector
 *
 * Returns: the number of ops in @vv
 */
guint64
flow_version_vector_total (const FlowVersionVector *vv)
{
  guint64 total = 0;

  for (guint i = 0; i < vv->entries->len; i++)
    total += g_array_index (vv->entries, Entry, i).next_seq;
  return total;
}

/**
 * flow_version_vector_to_string:
 * @vv: a version vector
 *
 * Formats @vv as comma-separated `REPLICA:NEXT_SEQ` pairs, the replica in 16
 * hex digits, e.g. "00c0ffee00c0ffee:12,0badcafe0badcafe:3". The empty
 * vector is "0" (the empty document).
 *
 * Returns: (transfer full): a string that flow_version_vector_parse() reads
 */
char *
flow_version_vector_to_string (const FlowVersionVector *vv)
{
  GString *str;

  if (vv->entries->len == 0)
    return g_strdup ("0");

  str = g_string_new (NULL);
  for (guint i = 0; i < vv->entries->len; i++)
    {
      const Entry *e = &g_array_index (vv->entries, Entry, i);

      g_string_append_printf (str, "%s%016" G_GINT64_MODIFIER "x:%" G_GUINT64_FORMAT,
                              i ? "," : "", e->replica, e->next_seq);
    }
  return g_string_free (str, FALSE);
}

/**
 * flow_version_vector_parse:
 * @str: a string from flow_version_vector_to_string()
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the vector, or %NULL with @error set
 */
FlowVersionVector *
flow_version_vector_parse (const char  *str,
                           GError     **error)
{
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  g_auto(GStrv) parts = NULL;

  g_return_val_if_fail (str != NULL, NULL);

  if (g_strcmp0 (str, "0") == 0)
    return g_steal_pointer (&vv);
  if (*str == '\0')
    goto bad;

  parts = g_strsplit (str, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *colon = strchr (parts[i], ':');
      char *end = NULL;
      guint64 replica;
      guint64 seq;

      if (colon == NULL || colon - parts[i] != 16 || !g_ascii_isdigit (colon[1]))
        goto bad;
      for (const char *p = parts[i]; p < colon; p++)
        if (!g_ascii_isxdigit (*p))
          goto bad;
      replica = g_ascii_strtoull (parts[i], &end, 16);
      errno = 0;
      seq = g_ascii_strtoull (colon + 1, &end, 10);
      /* Each replica once, with at least one op: one text per version. */
      if (*end != '\0' || errno != 0 || seq == 0)
        goto bad;
      if (flow_version_vector_get (vv, replica) != 0)
        goto bad;
      flow_version_vector_set (vv, replica, seq);
    }

  return g_steal_pointer (&vv);

bad:
  g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_VERSION,
               "“%s” is not a version: expected REPLICA:SEQ pairs separated by commas", str);
  return NULL;
}

/**
 * flow_version_vector_encode:
 * @vv: a version vector
 *
 * Encodes @vv as `varint count`, then per entry `u64le replica, varint
 * next_seq`, ordered by replica.
 *
 * Returns: (transfer full): the encoding
 */
GBytes *
flow_version_vector_encode (const FlowVersionVector *vv)
{
  FlowBuf buf;

  flow_buf_init (&buf, 4 + vv->entries->len * 12);
  flow_buf_put_varint (&buf, vv->entries->len);
  for (guint i = 0; i < vv->entries->len; i++)
    {
      const Entry *e = &g_array_index (vv->entries, Entry, i);

      flow_buf_put_u64le (&buf, e->replica);
      flow_buf_put_varint (&buf, e->next_seq);
    }
  return flow_buf_steal_bytes (&buf);
}

/**
 * flow_version_vector_decode:
 * @bytes: bytes from flow_version_vector_encode()
 * @error: return location for a #GError
 *
 * Entries must be sorted by replica without duplicates and have a non-zero
 * seq, so every vector has exactly one encoding.
 *
 * Returns: (transfer full) (nullable): the vector, or %NULL with @error set
 */
FlowVersionVector *
flow_version_vector_decode (GBytes  *bytes,
                            GError **error)
{
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  FlowReader r;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint64 n;

  flow_reader_init (&r, data, len);
  n = flow_reader_varint (&r);
  /* Each entry takes at least 9 bytes. */
  if (n > MAX_DECODED_ENTRIES || n > flow_reader_remaining (&r) / 9)
    goto bad;

  g_array_set_size (vv->entries, (guint) n);
  for (guint i = 0; i < n; i++)
    {
      Entry *e = &g_array_index (vv->entries, Entry, i);

      e->replica = flow_reader_u64le (&r);
      e->next_seq = flow_reader_varint (&r);
      if (e->next_seq == 0 ||
          (i > 0 && g_array_index (vv->entries, Entry, i - 1).replica >= e->replica))
        goto bad;
    }
  if (flow_reader_failed (&r) || !flow_reader_at_end (&r))
    goto bad;

  return g_steal_pointer (&vv);

bad:
  g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED,
                       "Malformed version vector");
  return NULL;
}
