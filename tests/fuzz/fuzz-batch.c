/* fuzz-batch.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * libFuzzer target for the batch decoder, the trust boundary of the core.
 *
 * Each input goes to flow_doc_apply() on a new and on a non-empty page,
 * board and catalog, and to flow_doc_load(). Besides crashes, leaks and
 * sanitizer reports, we abort when
 *  - a call fails without a FLOW_CORE_ERROR of a documented code;
 *  - a document that accepted the input is inconsistent: its text tree
 *    fails flow_text_check(), or its own whole or catch-up encoding does
 *    not load back to the same state;
 *  - flow_doc_load() accepts what flow_doc_apply() of the same bytes
 *    refuses.
 * One bug already reported is let through (see try_load()), so the fuzzer
 * keeps looking for new ones.
 *
 *   ./fuzz-batch -max_total_time=60 ../tests/fuzz/corpus/fuzz-batch
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow-doc-private.h"
#include "flow-error.h"

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

static const FlowOpId doc_ids[] = {
  { 0x1234, 1 },
  { 0x1234, 2 },
  { 0, 0 },
};

/* Small non-empty documents of each kind, whole-encoded. */
static GBytes *bases[3];

G_GNUC_NORETURN static void
die (const char *what,
     const char *detail)
{
  fprintf (stderr, "fuzz-batch: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort ();
}

static FlowDoc *
new_doc (FlowDocKind   kind,
         FlowReplicaId replica)
{
  return flow_doc_new (kind, &doc_ids[kind], replica);
}

/* Do two documents hold the same ops and state? */
static gboolean
same (FlowDoc *a,
      FlowDoc *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);
  g_autofree char *sa = flow_version_vector_to_string (va);
  g_autofree char *sb = flow_version_vector_to_string (vb);
  g_autoptr(GArray) ea = NULL;
  g_autoptr(GArray) eb = NULL;

  if (!g_str_equal (sa, sb))
    return FALSE;
  if (flow_doc_get_kind (a) == FLOW_DOC_KIND_PAGE)
    {
      g_autofree char *ta = flow_doc_dup_text (a);
      g_autofree char *tb = flow_doc_dup_text (b);

      return g_str_equal (ta, tb);
    }

  ea = flow_doc_list_entities (a, TRUE);
  eb = flow_doc_list_entities (b, TRUE);
  if (ea->len != eb->len)
    return FALSE;
  for (guint i = 0; i < ea->len; i++)
    {
      const FlowOpId *id = &g_array_index (ea, FlowOpId, i);
      g_auto(GStrv) names = flow_doc_dup_property_names (a, id);

      if (!flow_op_id_equal (id, &g_array_index (eb, FlowOpId, i)) ||
          g_strcmp0 (flow_doc_get_entity_kind (a, id), flow_doc_get_entity_kind (b, id)) != 0)
        return FALSE;
      for (guint k = 0; names != NULL && names[k] != NULL; k++)
        if (!flow_value_equal (flow_doc_get_property (a, id, names[k]),
                               flow_doc_get_property (b, id, names[k])))
          return FALSE;
    }
  return TRUE;
}

static void
check_refusal (const GError *error,
               gboolean      from_apply)
{
  if (error == NULL)
    die ("refused without an error", NULL);
  if (error->domain != FLOW_CORE_ERROR)
    die ("refused with an error of another domain", error->message);
  if (error->code != FLOW_CORE_ERROR_MALFORMED && error->code != FLOW_CORE_ERROR_UNSUPPORTED &&
      !(from_apply && error->code == FLOW_CORE_ERROR_WRONG_KIND))
    die ("refused with an undocumented code", error->message);
}

static void
check_consistent (FlowDoc *doc)
{
  FlowDocKind kind = flow_doc_get_kind (doc);
  g_autoptr(GBytes) whole = flow_doc_encode (doc);
  g_autoptr(GBytes) since = flow_doc_encode_since (doc, NULL);
  g_autoptr(FlowDoc) caught_up = new_doc (kind, 78);
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(GError) error = NULL;

  if (kind == FLOW_DOC_KIND_PAGE)
    flow_text_check (doc->text);

  loaded = flow_doc_load (whole, 77, &error);
  if (loaded == NULL)
    die ("a document's own encoding does not load", error->message);
  if (!same (doc, loaded))
    die ("a document's own encoding loads to another state", NULL);
  g_clear_error (&error);

  if (since == NULL)
    return;
  if (!flow_doc_apply (caught_up, since, &error))
    die ("a document's catch-up batch is refused", error->message);
  if (flow_doc_get_n_pending (caught_up) > 0)
    die ("a document's catch-up batch waits for ops", NULL);
  if (!same (doc, caught_up))
    die ("a document's catch-up batch gives another state", NULL);
}

static void
try_apply (FlowDoc *doc,
           GBytes  *input)
{
  g_autoptr(GError) error = NULL;
  guint64 n_ops = flow_doc_get_n_ops (doc);

  if (!flow_doc_apply (doc, input, &error))
    {
      check_refusal (error, TRUE);
      if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
        flow_text_check (doc->text);
      return;
    }
  if (error != NULL)
    die ("flow_doc_apply() succeeded with an error", NULL);
  if (flow_doc_get_n_ops (doc) != n_ops)
    check_consistent (doc);
}

static void
try_load (GBytes *input)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) doc = NULL;
  g_autoptr(FlowDoc) applied = NULL;

  doc = flow_doc_load (input, 5, &error);
  if (doc == NULL)
    {
      check_refusal (error, FALSE);
      return;
    }
  applied = new_doc (flow_doc_get_kind (doc), 6);
  if (!flow_doc_apply (applied, input, &error))
    die ("flow_doc_load() accepts what flow_doc_apply() refuses", error->message);
  /* Loads trust a page's stored order (docs/format.md, "Loading whole
   * documents"), so a mutated TEXT_ORDER may load differently from what
   * apply merges; see test-decode's /flow/decode/hostile/load-order. */
  if (same (doc, applied))
    check_consistent (doc);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  /* A copy of exactly @size bytes, so AddressSanitizer sees overreads. */
  g_autoptr(GBytes) input = g_bytes_new (data, size);

  for (guint k = 0; k <= FLOW_DOC_KIND_LAST; k++)
    {
      g_autoptr(FlowDoc) fresh = new_doc (k, 9);
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowDoc) base = flow_doc_load (bases[k], 77, &error);

      if (base == NULL)
        die ("a base document does not load", error->message);
      try_apply (fresh, input);
      try_apply (base, input);
    }
  try_load (input);
  return 0;
}

static GBytes *
make_base (FlowDocKind kind)
{
  g_autoptr(FlowDoc) doc = new_doc (kind, 1);
  g_autoptr(FlowValue) title = flow_value_new_string ("Plans");
  g_autoptr(FlowValue) x = flow_value_new_number (12.5);
  g_autoptr(GError) error = NULL;
  FlowOpId id;

  switch (kind)
    {
    case FLOW_DOC_KIND_PAGE:
      flow_doc_insert_text (doc, 0, "Hello, wörld!\n", -1, &error);
      flow_doc_insert_text (doc, 7, "big ", -1, &error);
      flow_doc_delete_text (doc, 0, 3, &error);
      break;
    case FLOW_DOC_KIND_BOARD:
      flow_doc_create_entity (doc, "rect", &id, &error);
      flow_doc_set_property (doc, &id, "x", x, &error);
      break;
    case FLOW_DOC_KIND_CATALOG:
      flow_doc_create_entity (doc, "page", &id, &error);
      flow_doc_set_property (doc, &id, "title", title, &error);
      break;
    default:
      g_assert_not_reached ();
    }
  if (error != NULL)
    die ("making a base document", error->message);
  return flow_doc_encode (doc);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical inside the core on hostile input is a bug too. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);

  for (guint k = 0; k <= FLOW_DOC_KIND_LAST; k++)
    bases[k] = make_base (k);

  /* Warm GLib's one-time state (types, quarks) outside any run, so the
   * leak checker sees none of it. */
  for (guint k = 0; k <= FLOW_DOC_KIND_LAST; k++)
    LLVMFuzzerTestOneInput (g_bytes_get_data (bases[k], NULL), g_bytes_get_size (bases[k]));
  return 0;
}
