/* flow-types.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow-error.h"
#include "flow-types.h"

G_DEFINE_QUARK (flow-core-error-quark, flow_core_error)

static const char *kind_names[] = { "page", "board", "catalog", "chat" };

/**
 * flow_doc_kind_to_string:
 * @kind: a #FlowDocKind
 *
 * Returns: (transfer none): "page", "board", "catalog" or "chat"
 */
const char *
flow_doc_kind_to_string (FlowDocKind kind)
{
  g_return_val_if_fail (kind <= FLOW_DOC_KIND_LAST, NULL);

  return kind_names[kind];
}

/**
 * flow_doc_kind_from_string:
 * @str: a kind name
 * @kind: (out): where to store the kind
 *
 * Returns: %TRUE if @str names a kind
 */
gboolean
flow_doc_kind_from_string (const char  *str,
                           FlowDocKind *kind)
{
  g_return_val_if_fail (str != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    {
      if (strcmp (str, kind_names[i]) == 0)
        {
          *kind = (FlowDocKind) i;
          return TRUE;
        }
    }

  return FALSE;
}

/**
 * flow_op_id_compare:
 * @a: an op id
 * @b: an op id
 *
 * Orders ids by replica (unsigned), then by seq. This is the tie-break of
 * every merge rule in FlowSync: it never depends on local state.
 *
 * Returns: a negative value, 0 or a positive value
 */
gint
flow_op_id_compare (const FlowOpId *a,
                    const FlowOpId *b)
{
  if (a->replica != b->replica)
    return a->replica < b->replica ? -1 : 1;
  if (a->seq != b->seq)
    return a->seq < b->seq ? -1 : 1;
  return 0;
}

/**
 * flow_op_id_equal:
 * @a: an op id
 * @b: an op id
 *
 * Returns: %TRUE if @a and @b name the same op
 */
gboolean
flow_op_id_equal (const FlowOpId *a,
                  const FlowOpId *b)
{
  return a->replica == b->replica && a->seq == b->seq;
}

/**
 * flow_op_id_to_string:
 * @id: an op id
 *
 * Formats @id as 16 hex digits of the replica, a dash and the decimal seq,
 * e.g. "00c0ffee00c0ffee-42". flow_op_id_parse() reads it back.
 *
 * Returns: (transfer full): a newly allocated string
 */
char *
flow_op_id_to_string (const FlowOpId *id)
{
  return g_strdup_printf ("%016" G_GINT64_MODIFIER "x-%" G_GUINT64_FORMAT,
                          id->replica, id->seq);
}

/**
 * flow_op_id_parse:
 * @str: a string from flow_op_id_to_string()
 * @id: (out): the parsed id
 *
 * Returns: %TRUE if @str was a well-formed id
 */
gboolean
flow_op_id_parse (const char *str,
                  FlowOpId   *id)
{
  const char *dash;
  char *end = NULL;
  guint64 replica;
  guint64 seq;

  g_return_val_if_fail (str != NULL, FALSE);

  dash = strchr (str, '-');
  if (dash == NULL || dash - str != 16)
    return FALSE;
  for (const char *p = str; p < dash; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  if (!g_ascii_isdigit (dash[1]))
    return FALSE;

  replica = g_ascii_strtoull (str, &end, 16);
  if (end != dash)
    return FALSE;
  errno = 0;
  seq = g_ascii_strtoull (dash + 1, &end, 10);
  if (*end != '\0' || errno != 0)
    return FALSE;

  id->replica = replica;
  id->seq = seq;
  return TRUE;
}
