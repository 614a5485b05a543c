/* test-timetravel.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Time travel (CRDT.md sections 6 and 7): flow_doc_checkout() at any
 * version the document went through gives exactly the state it had then,
 * for pages and boards, with remote merges in the history;
 * flow_doc_dup_version_at() names those versions by op count; versions
 * that are not states of the document are refused.
 */

#include "config.h"

#include <string.h>

#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-test-util.h"

static const FlowOpId doc_id = { 7, 1 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void
apply (FlowDoc *doc,
       GBytes  *bytes)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_apply (doc, bytes, &error));
  g_assert_no_error (error);
}

/* Brings @to up to date with @from, one way. */
static void
send (FlowDoc *from,
      FlowDoc *to)
{
  g_autoptr(FlowVersionVector) vv = flow_doc_dup_version (to);
  g_autoptr(GBytes) bytes = flow_doc_encode_since (from, vv);

  if (bytes != NULL)
    apply (to, bytes);
}

static void
insert (FlowDoc    *doc,
        guint       pos,
        const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_insert_text (doc, pos, text, -1, &error));
  g_assert_no_error (error);
}

static void
delete (FlowDoc *doc,
        guint    pos,
        guint    n)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_delete_text (doc, pos, n, &error));
  g_assert_no_error (error);
}

static FlowOpId
create (FlowDoc    *doc,
        const char *kind)
{
  g_autoptr(GError) error = NULL;
  FlowOpId id = { 0, 0 };

  g_assert_true (flow_doc_create_entity (doc, kind, &id, &error));
  g_assert_no_error (error);
  return id;
}

static void
append_value (GString         *out,
              const FlowValue *v)
{
  switch (flow_value_get_value_type (v))
    {
    case FLOW_VALUE_NUMBER:
      g_string_append_printf (out, "%.17g", flow_value_get_number (v));
      break;
    case FLOW_VALUE_STRING:
      g_string_append_printf (out, "'%s'", flow_value_get_string (v));
      break;
    case FLOW_VALUE_BOOL:
      g_string_append (out, flow_value_get_bool (v) ? "true" : "false");
      break;
    case FLOW_VALUE_COLOR:
      g_string_append_printf (out, "#%08x", flow_value_get_color (v));
      break;
    case FLOW_VALUE_NULL:
    case FLOW_VALUE_POINTS:
    case FLOW_VALUE_REF:
    case FLOW_VALUE_BYTES:
    default:
      g_string_append (out, flow_value_type_to_string (flow_value_get_value_type (v)));
      break;
    }
}

/* The whole visible state of a document as a string: the text of a page;
 * for a board every entity (deleted too) with its kind and properties,
 * then the z-order. */
static char *
describe (FlowDoc *doc)
{
  GString *out;
  g_autoptr(GArray) all = NULL;
  g_autoptr(GArray) ordered = NULL;

  if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
    {
      flow_text_check (doc->text);
      return flow_doc_dup_text (doc);
    }

  out = g_string_new (NULL);
  all = flow_doc_list_entities (doc, TRUE);
  for (guint i = 0; i < all->len; i++)
    {
      const FlowOpId *id = &g_array_index (all, FlowOpId, i);
      g_auto(GStrv) names = flow_doc_dup_property_names (doc, id);

      g_string_append_printf (out, "%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT " %s%s {",
                              id->replica, id->seq, flow_doc_get_entity_kind (doc, id),
                              flow_doc_entity_is_deleted (doc, id) ? " deleted" : "");
      for (guint k = 0; names[k] != NULL; k++)
        {
          g_string_append_printf (out, " %s=", names[k]);
          append_value (out, flow_doc_get_property (doc, id, names[k]));
        }
      g_string_append (out, " }\n");
    }
  ordered = flow_doc_list_ordered (doc);
  g_string_append (out, "order:");
  for (guint i = 0; i < ordered->len; i++)
    g_string_append_printf (out, " %" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                            g_array_index (ordered, FlowOpId, i).replica,
                            g_array_index (ordered, FlowOpId, i).seq);
  return g_string_free (out, FALSE);
}

/* What a document looked like after one of its changes. */
typedef struct
{
  FlowVersionVector *version;
  guint64            n_ops;
  char              *state;
  gboolean           local;
} Record;

static void
record_clear (gpointer data)
{
  Record *r = data;

  g_clear_pointer (&r->version, flow_version_vector_free);
  g_clear_pointer (&r->state, g_free);
}

static void
record_cb (FlowDoc    *doc,
           FlowChange *change,
           gpointer    user_data)
{
  GArray *records = user_data;
  Record r;

  r.version = flow_doc_dup_version (doc);
  r.n_ops = flow_doc_get_n_ops (doc);
  r.state = describe (doc);
  r.local = flow_change_is_local (change);
  g_array_append_val (records, r);
}

static GArray *
records_new (void)
{
  GArray *records = g_array_new (FALSE, FALSE, sizeof (Record));

  g_array_set_clear_func (records, record_clear);
  return records;
}

/* Checks out @doc at @version and asserts it is exactly @state (unless
 * %NULL), with that version and that many ops. */
static void
assert_checkout (FlowDoc                 *doc,
                 const FlowVersionVector *version,
                 const char              *state)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) old = flow_doc_checkout (doc, version, &error);
  g_autoptr(FlowVersionVector) old_version = NULL;
  g_autofree char *old_state = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (old);
  g_assert_cmpint (flow_doc_get_kind (old), ==, flow_doc_get_kind (doc));
  g_assert_true (flow_op_id_equal (flow_doc_get_id (old), flow_doc_get_id (doc)));
  old_version = flow_doc_dup_version (old);
  g_assert_true (flow_version_vector_equal (old_version, version));
  g_assert_cmpuint (flow_doc_get_n_ops (old), ==, flow_version_vector_total (version));
  g_assert_cmpuint (flow_doc_get_n_pending (old), ==, 0);
  old_state = describe (old);
  if (state != NULL)
    g_assert_cmpstr (old_state, ==, state);
}

static const char *pieces[] = { "a", "bc", "é", "日本", "😀", "x", "\xcc\x81", "Ωμ" };

/* ------------------------------------------------------------------------
 * Pages
 * ------------------------------------------------------------------------ */

/* One random edit of a page. */
static void
edit_page (GRand   *rand,
           FlowDoc *doc)
{
  guint len = flow_doc_get_length (doc);
  guint what = (guint) g_rand_int_range (rand, 0, 10);

  if (what < 6 || len == 0)
    insert (doc, (guint) g_rand_int_range (rand, 0, (gint) len + 1),
            pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
  else if (what < 9)
    {
      guint pos = (guint) g_rand_int_range (rand, 0, (gint) len);

      delete (doc, pos, (guint) g_rand_int_range (rand, 1, (gint) MIN (len - pos, 5) + 1));
    }
  else
    {
      /* A grouped change: one record for several ops. */
      flow_doc_begin_change (doc);
      insert (doc, 0, "«");
      insert (doc, flow_doc_get_length (doc), "»");
      if (flow_doc_get_length (doc) > 3)
        delete (doc, 1, 1);
      flow_doc_end_change (doc);
    }
}

/* A, B and C edit one page; A hears from B and C now and then (B and C
 * also talk to each other), and records its state after every change,
 * local or remote. */
static void
run_page_history (GRand     *rand,
                  FlowDoc  **replicas,
                  GArray    *records)
{
  flow_doc_add_change_func (replicas[0], record_cb, records, NULL);

  for (guint step = 0; step < 150; step++)
    {
      guint who = (guint) g_rand_int_range (rand, 0, 3);
      guint what = (guint) g_rand_int_range (rand, 0, 10);

      if (what < 7)
        edit_page (rand, replicas[who]);
      else if (what < 9)
        send (replicas[g_rand_int_range (rand, 1, 3)], replicas[0]);
      else
        {
          send (replicas[1], replicas[2]);
          send (replicas[0], replicas[g_rand_int_range (rand, 1, 3)]);
        }
    }
  send (replicas[1], replicas[0]);
  send (replicas[2], replicas[0]);
  send (replicas[0], replicas[1]);
  send (replicas[0], replicas[2]);
}

static void
test_page (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_iter = flow_test_iterations ("FLOW_TIMETRAVEL_ITERATIONS", 20);

  for (guint iter = 0; iter < n_iter; iter++)
    {
      g_autoptr(GArray) records = records_new ();
      FlowDoc *replicas[3];
      guint n_remote = 0;
      guint n_local = 0;

      for (guint i = 0; i < 3; i++)
        replicas[i] = flow_doc_new (FLOW_DOC_KIND_PAGE, &doc_id, 0x10 * (i + 1));
      run_page_history (rand, replicas, records);
      g_assert_cmpuint (records->len, >, 20);

      for (guint i = 0; i < records->len; i++)
        {
          const Record *r = &g_array_index (records, Record, i);

          /* On A, which went through the state, and on B, which has the
           * same ops in another order but never was in most of A's
           * states. */
          assert_checkout (replicas[0], r->version, r->state);
          assert_checkout (replicas[1], r->version, r->state);
          if (r->local)
            n_local++;
          else
            n_remote++;
        }
      g_assert_cmpuint (n_local, >, 0);
      g_assert_cmpuint (n_remote, >, 0);

      /* The present is a version too. */
      {
        g_autoptr(FlowVersionVector) now = flow_doc_dup_version (replicas[0]);
        g_autofree char *state = describe (replicas[0]);

        assert_checkout (replicas[0], now, state);
      }

      for (guint i = 0; i < 3; i++)
        g_object_unref (replicas[i]);
    }
}

/* dup_version_at(n) names the first n ops in the order this replica
 * applied them: after each change, that is the version it recorded; and
 * every prefix in between is a state too. */
static void
test_version_at (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(GArray) records = records_new ();
  FlowDoc *replicas[3];
  g_autoptr(FlowVersionVector) prev = flow_version_vector_new ();
  guint64 n_ops;

  for (guint i = 0; i < 3; i++)
    replicas[i] = flow_doc_new (FLOW_DOC_KIND_PAGE, &doc_id, 0x10 * (i + 1));
  run_page_history (rand, replicas, records);

  for (guint i = 0; i < records->len; i++)
    {
      const Record *r = &g_array_index (records, Record, i);
      g_autoptr(FlowVersionVector) at = flow_doc_dup_version_at (replicas[0], r->n_ops);

      g_assert_true (flow_version_vector_equal (at, r->version));
    }

  n_ops = flow_doc_get_n_ops (replicas[0]);
  for (guint64 n = 0; n <= n_ops; n++)
    {
      g_autoptr(FlowVersionVector) at = flow_doc_dup_version_at (replicas[0], n);
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowDoc) old = NULL;

      g_assert_cmpuint (flow_version_vector_total (at), ==, n);
      g_assert_true (flow_version_vector_includes (at, prev));
      flow_version_vector_free (g_steal_pointer (&prev));
      prev = flow_version_vector_copy (at);

      /* Every few prefixes: a real state, and the same one on B. */
      if (n % 7 == 0 || n == n_ops)
        {
          g_autofree char *state = NULL;

          old = flow_doc_checkout (replicas[0], at, &error);
          g_assert_no_error (error);
          g_assert_cmpuint (flow_doc_get_n_ops (old), ==, n);
          state = describe (old);
          assert_checkout (replicas[1], at, state);
        }
    }

  {
    g_autoptr(FlowVersionVector) all = flow_doc_dup_version_at (replicas[0], n_ops);
    g_autoptr(FlowVersionVector) now = flow_doc_dup_version (replicas[0]);
    g_autoptr(FlowVersionVector) none = flow_doc_dup_version_at (replicas[0], 0);

    g_assert_true (flow_version_vector_equal (all, now));
    g_assert_cmpuint (flow_version_vector_get_n_replicas (none), ==, 0);
  }

  for (guint i = 0; i < 3; i++)
    g_object_unref (replicas[i]);
}

/* ------------------------------------------------------------------------
 * Boards
 * ------------------------------------------------------------------------ */

static void
edit_board (GRand   *rand,
            FlowDoc *doc)
{
  g_autoptr(GArray) known = flow_doc_list_entities (doc, TRUE);
  guint what = (guint) g_rand_int_range (rand, 0, 10);
  const FlowOpId *id;

  if (what < 2 || known->len == 0)
    {
      FlowOpId created;
      g_autofree char *z = flow_doc_dup_order_key_between (doc, NULL, NULL);

      /* Created with its properties, in one change. */
      flow_doc_begin_change (doc);
      created = create (doc, g_rand_boolean (rand) ? "rect" : "text");
      flow_test_set (doc, &created, "x", flow_value_new_number (g_rand_int_range (rand, -100, 100)));
      flow_test_set (doc, &created, "z", flow_value_new_string (z));
      flow_doc_end_change (doc);
      return;
    }

  id = &g_array_index (known, FlowOpId, g_rand_int_range (rand, 0, (gint) known->len));
  if (what < 5)
    flow_test_set (doc, id, g_rand_boolean (rand) ? "x" : "y",
         flow_value_new_number (g_rand_double_range (rand, -1000, 1000)));
  else if (what < 6)
    flow_test_set (doc, id, "fill", flow_value_new_color (g_rand_int (rand)));
  else if (what < 7)
    flow_test_set (doc, id, "text",
         flow_value_new_string (pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]));
  else if (what < 8)
    flow_test_set (doc, id, "deleted", flow_value_new_bool (g_rand_boolean (rand)));
  else if (what < 9)
    flow_test_set (doc, id, "x", flow_value_new_null ());
  else
    {
      /* Move it on top of another. */
      const FlowOpId *other = &g_array_index (known, FlowOpId,
                                              g_rand_int_range (rand, 0, (gint) known->len));
      g_autofree char *z = flow_doc_dup_order_key_between (doc, other, NULL);

      flow_test_set (doc, id, "z", flow_value_new_string (z));
    }
}

static void
test_board (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_iter = flow_test_iterations ("FLOW_TIMETRAVEL_ITERATIONS", 20);

  for (guint iter = 0; iter < n_iter; iter++)
    {
      g_autoptr(GArray) records = records_new ();
      FlowDoc *replicas[3];

      for (guint i = 0; i < 3; i++)
        replicas[i] = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 0x10 * (i + 1));
      flow_doc_add_change_func (replicas[0], record_cb, records, NULL);

      for (guint step = 0; step < 120; step++)
        {
          guint who = (guint) g_rand_int_range (rand, 0, 3);
          guint what = (guint) g_rand_int_range (rand, 0, 10);

          if (what < 7)
            edit_board (rand, replicas[who]);
          else if (what < 9)
            send (replicas[g_rand_int_range (rand, 1, 3)], replicas[0]);
          else
            {
              send (replicas[1], replicas[2]);
              send (replicas[0], replicas[g_rand_int_range (rand, 1, 3)]);
            }
        }
      send (replicas[1], replicas[0]);
      send (replicas[2], replicas[0]);
      send (replicas[0], replicas[1]);
      g_assert_cmpuint (records->len, >, 20);

      for (guint i = 0; i < records->len; i++)
        {
          const Record *r = &g_array_index (records, Record, i);

          assert_checkout (replicas[0], r->version, r->state);
          assert_checkout (replicas[1], r->version, r->state);
        }

      for (guint i = 0; i < 3; i++)
        g_object_unref (replicas[i]);
    }
}

/* ------------------------------------------------------------------------
 * Versions that are not states
 * ------------------------------------------------------------------------ */

static void
assert_checkout_refused (FlowDoc                 *doc,
                         const FlowVersionVector *version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) old = NULL;
  guint64 n_ops = flow_doc_get_n_ops (doc);

  old = flow_doc_checkout (doc, version, &error);
  g_assert_null (old);
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_VERSION);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
}

static void
run_invalid (FlowDocKind kind)
{
  g_autoptr(FlowDoc) a = flow_doc_new (kind, &doc_id, 0xa);
  g_autoptr(FlowDoc) b = flow_doc_new (kind, &doc_id, 0xb);
  g_autoptr(FlowVersionVector) vv = NULL;
  gboolean page = kind == FLOW_DOC_KIND_PAGE;
  FlowOpId shape = { 0, 0 };

  /* a0; b sees it and makes b0; a sees that and makes a1 (after b0). */
  if (page)
    insert (a, 0, "x");
  else
    shape = create (a, "rect");
  flow_test_sync_pair (a, b);
  if (page)
    insert (b, 1, "y");
  else
    flow_test_set (b, &shape, "x", flow_value_new_number (1));
  flow_test_sync_pair (a, b);
  if (page)
    insert (a, 2, "z");
  else
    flow_test_set (a, &shape, "y", flow_value_new_number (2));

  /* Ahead of what we have: a seq too far, or a replica we never heard of. */
  vv = flow_doc_dup_version (a);
  flow_version_vector_set (vv, 0xa, flow_version_vector_get (vv, 0xa) + 1);
  assert_checkout_refused (a, vv);
  g_clear_pointer (&vv, flow_version_vector_free);
  vv = flow_doc_dup_version (a);
  flow_version_vector_set (vv, 0xdead, 1);
  assert_checkout_refused (a, vv);
  g_clear_pointer (&vv, flow_version_vector_free);
  /* b does not have a1 yet. */
  vv = flow_doc_dup_version (a);
  assert_checkout_refused (b, vv);
  g_clear_pointer (&vv, flow_version_vector_free);

  /* Not causally closed: a1 without b0, b0 without a0. */
  vv = flow_version_vector_new ();
  flow_version_vector_set (vv, 0xa, 2);
  assert_checkout_refused (a, vv);
  flow_version_vector_set (vv, 0xa, 0);
  flow_version_vector_set (vv, 0xb, 1);
  assert_checkout_refused (a, vv);
  assert_checkout_refused (b, vv);

  /* The closed ones are fine. */
  flow_version_vector_set (vv, 0xa, 1);
  flow_version_vector_set (vv, 0xb, 0);
  assert_checkout (a, vv, page ? "x" : NULL);
  flow_version_vector_set (vv, 0xb, 1);
  assert_checkout (a, vv, page ? "xy" : NULL);
  assert_checkout (b, vv, page ? "xy" : NULL);
  flow_version_vector_set (vv, 0xa, 2);
  assert_checkout (a, vv, page ? "xyz" : NULL);
  g_clear_pointer (&vv, flow_version_vector_free);

  /* The empty version is the empty document. */
  vv = flow_version_vector_new ();
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(FlowDoc) empty = flow_doc_checkout (a, vv, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (flow_doc_get_n_ops (empty), ==, 0);
    if (page)
      g_assert_cmpuint (flow_doc_get_length (empty), ==, 0);
    else
      {
        g_autoptr(GArray) all = flow_doc_list_entities (empty, TRUE);

        g_assert_cmpuint (all->len, ==, 0);
      }
  }
}

static void
test_invalid_page (void)
{
  run_invalid (FLOW_DOC_KIND_PAGE);
}

static void
test_invalid_board (void)
{
  run_invalid (FLOW_DOC_KIND_BOARD);
}

/* ------------------------------------------------------------------------
 * What a checkout is
 * ------------------------------------------------------------------------ */

/* A checkout is a document of its own: editing the original afterwards
 * leaves it alone. */
static void
test_independent (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &doc_id, 1);
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(FlowDoc) old = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  insert (doc, 0, "hello");
  vv = flow_doc_dup_version (doc);
  insert (doc, 5, " world");
  old = flow_doc_checkout (doc, vv, &error);
  g_assert_no_error (error);
  g_assert_false (flow_doc_can_undo (old));

  delete (doc, 0, 6);
  text = flow_doc_dup_text (doc);
  g_assert_cmpstr (text, ==, "world");
  g_clear_pointer (&text, g_free);
  text = flow_doc_dup_text (old);
  g_assert_cmpstr (text, ==, "hello");
}

/*
 * A checkout carries the replica id of the document it came from and
 * would resume its seqs from the old version, so an edit made on it would
 * reuse ids the original already gave to other ops (syncing the two would
 * then drop ops as duplicates and diverge silently). Checkouts are
 * therefore read-only.
 */
static void
test_checkout_edit_ids (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &doc_id, 1);
  g_autoptr(FlowDoc) board = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(FlowVersionVector) bvv = NULL;
  g_autoptr(FlowDoc) old = NULL;
  g_autoptr(FlowDoc) old_board = NULL;
  g_autoptr(FlowValue) value = flow_value_new_number (1);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  FlowOpId shape;

  /* A checkout shares the replica id of its source, so an edit of it
   * would reuse op ids the source already gave to other ops: refused. */
  insert (doc, 0, "hel");
  vv = flow_doc_dup_version (doc);
  insert (doc, 3, "lo");
  old = flow_doc_checkout (doc, vv, &error);
  g_assert_no_error (error);
  g_assert_true (flow_doc_is_read_only (old));
  g_assert_false (flow_doc_is_read_only (doc));

  g_assert_false (flow_doc_insert_text (old, 3, "p", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (old, 0, 1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
  g_clear_error (&error);
  g_assert_false (flow_doc_can_undo (old));
  text = flow_doc_dup_text (old);
  g_assert_cmpstr (text, ==, "hel");

  /* Remote ops create no ids, so syncing into a checkout still works. */
  flow_test_sync_pair (doc, old);
  flow_test_assert_same (doc, old);

  g_assert_true (flow_doc_create_entity (board, "rect", &shape, &error));
  g_assert_no_error (error);
  bvv = flow_doc_dup_version (board);
  old_board = flow_doc_checkout (board, bvv, &error);
  g_assert_no_error (error);
  g_assert_false (flow_doc_create_entity (old_board, "rect", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
  g_clear_error (&error);
  g_assert_false (flow_doc_set_property (old_board, &shape, "x", value, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
}

/* Checkout encodes the ops up to the version and applies them, so the
 * "Malformed text ops" bug of test-text (fixed in a75fe11) reached time
 * travel too. */
static void
test_checkout_mixed_keystrokes (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_PAGE, &doc_id, 1);
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(FlowDoc) old = NULL;
  g_autoptr(GError) error = NULL;

  insert (doc, 0, "a");
  insert (doc, 1, "é");
  insert (doc, 2, "a");
  insert (doc, 3, "é");
  vv = flow_doc_dup_version (doc);
  old = flow_doc_checkout (doc, vv, &error);
  g_assert_no_error (error);
  g_assert_nonnull (old);
  assert_checkout (doc, vv, "aéaé");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/timetravel/page", test_page);
  g_test_add_func ("/flow/timetravel/board", test_board);
  g_test_add_func ("/flow/timetravel/version-at", test_version_at);
  g_test_add_func ("/flow/timetravel/invalid/page", test_invalid_page);
  g_test_add_func ("/flow/timetravel/invalid/board", test_invalid_board);
  g_test_add_func ("/flow/timetravel/independent", test_independent);
  g_test_add_func ("/flow/timetravel/edit-ids", test_checkout_edit_ids);
  g_test_add_func ("/flow/timetravel/mixed-keystrokes", test_checkout_mixed_keystrokes);

  return g_test_run ();
}
