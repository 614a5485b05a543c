/* test-map.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The map CRDT of boards and the catalog (CRDT.md section 5): last-writer-
 * wins registers in every delivery order, causally later writes winning,
 * delete as an LWW flag that concurrent edits do not undo, value and key
 * validation, and the z-order / catalog order made of fractional-index
 * keys, down to the key generator itself.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-fracindex-private.h"
#include "flow-test-util.h"

/* What differs between a board and the catalog for these tests. */
typedef struct
{
  FlowDocKind  kind;
  const char  *entity_kind;
  const char  *other_kind;  /* a kind of the other document */
  const char  *string_key;  /* a string property */
  const char  *order_key;
} MapCase;

static const MapCase board_case = {
  FLOW_DOC_KIND_BOARD, "rect", "page", "text", "z",
};

static const MapCase catalog_case = {
  FLOW_DOC_KIND_CATALOG, "page", "rect", "title", "order",
};

static const FlowOpId doc_id = { 0, 0 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static FlowDoc *
new_doc (const MapCase *mc,
         FlowReplicaId  replica)
{
  return flow_doc_new (mc->kind, &doc_id, replica);
}

static void
apply (FlowDoc *doc,
       GBytes  *bytes)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_apply (doc, bytes, &error));
  g_assert_no_error (error);
}

static FlowDoc *
clone_doc (FlowDoc       *doc,
           FlowReplicaId  replica)
{
  FlowDoc *copy = flow_doc_new (flow_doc_get_kind (doc), &doc_id, replica);
  g_autoptr(GBytes) bytes = flow_doc_encode_since (doc, NULL);

  if (bytes != NULL)
    apply (copy, bytes);
  return copy;
}

static FlowOpId
create (FlowDoc    *doc,
        const char *kind)
{
  g_autoptr(GError) error = NULL;
  FlowOpId id = { 0, 0 };

  g_assert_true (flow_doc_create_entity (doc, kind, &id, &error));
  g_assert_no_error (error);
  g_assert_true (flow_doc_has_entity (doc, &id));
  g_assert_cmpstr (flow_doc_get_entity_kind (doc, &id), ==, kind);
  return id;
}

static void
set_string (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key,
            const char     *str)
{
  flow_test_set (doc, id, key, flow_value_new_string (str));
}

static void
set_number (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key,
            double          number)
{
  flow_test_set (doc, id, key, flow_value_new_number (number));
}

static void
set_deleted (FlowDoc        *doc,
             const FlowOpId *id,
             gboolean        deleted)
{
  flow_test_set (doc, id, "deleted", flow_value_new_bool (deleted));
}

static const char *
get_string (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  if (v == NULL)
    return NULL;
  g_assert_cmpint (flow_value_get_value_type (v), ==, FLOW_VALUE_STRING);
  return flow_value_get_string (v);
}

static gboolean
list_contains (GArray         *ids,
               const FlowOpId *id)
{
  for (guint i = 0; i < ids->len; i++)
    if (flow_op_id_equal (&g_array_index (ids, FlowOpId, i), id))
      return TRUE;
  return FALSE;
}

static void
collect_local_cb (FlowDoc    *doc,
                  FlowChange *change,
                  gpointer    user_data)
{
  GPtrArray *out = user_data;

  if (flow_change_is_local (change))
    g_ptr_array_add (out, g_bytes_ref (flow_change_get_bytes (change)));
}

static GPtrArray *
bytes_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

static gboolean
next_permutation (guint *p,
                  guint  n)
{
  guint i;
  guint j;

  if (n < 2)
    return FALSE;
  i = n - 1;
  while (i > 0 && p[i - 1] >= p[i])
    i--;
  if (i == 0)
    return FALSE;
  j = n - 1;
  while (p[j] <= p[i - 1])
    j--;
  {
    guint tmp = p[i - 1];

    p[i - 1] = p[j];
    p[j] = tmp;
  }
  for (guint a = i, b = n - 1; a < b; a++, b--)
    {
      guint tmp = p[a];

      p[a] = p[b];
      p[b] = tmp;
    }
  return TRUE;
}

typedef void (*CheckFunc) (FlowDoc *doc, gpointer data);

/* Applies @batches to fresh replicas of @base in every order; @check sees
 * each result. */
static void
deliver_all_orders (FlowDoc   *base,
                    GPtrArray *batches,
                    CheckFunc  check,
                    gpointer   data)
{
  g_autofree guint *p = g_new (guint, batches->len);
  guint orders = 0;

  for (guint i = 0; i < batches->len; i++)
    p[i] = i;
  do
    {
      g_autoptr(FlowDoc) doc = clone_doc (base, 0xabc);

      for (guint i = 0; i < batches->len; i++)
        apply (doc, g_ptr_array_index (batches, p[i]));
      g_assert_cmpuint (flow_doc_get_n_pending (doc), ==, 0);
      check (doc, data);
      orders++;
    }
  while (next_permutation (p, batches->len));
  g_assert_cmpuint (orders, >=, 1);
}

/* ------------------------------------------------------------------------
 * Last writer wins
 * ------------------------------------------------------------------------ */

typedef struct
{
  const MapCase *mc;
  FlowOpId       id;
  const char    *expected;
  gboolean       deleted;
} Expect;

static void
check_string_cb (FlowDoc  *doc,
                 gpointer  data)
{
  const Expect *e = data;

  g_assert_cmpstr (get_string (doc, &e->id, e->mc->string_key), ==, e->expected);
  g_assert_cmpint (flow_doc_entity_is_deleted (doc, &e->id), ==, e->deleted);
}

/* Three replicas write one property at once: the highest replica id wins
 * ties of lamport, in every delivery order; more ops before the write
 * (a higher lamport) beat a higher replica id. */
static void
test_lww_concurrent (gconstpointer data)
{
  const MapCase *mc = data;
  static const FlowReplicaId ids[] = { 0x30, 0x10, 0x20 };
  static const char *values[] = { "thirty", "ten", "twenty" };
  g_autoptr(FlowDoc) base = new_doc (mc, 1);
  g_autoptr(FlowVersionVector) base_vv = NULL;
  g_autoptr(GPtrArray) batches = bytes_array_new ();
  FlowDoc *replicas[3];
  Expect e = { mc, { 0, 0 }, "thirty", FALSE };

  e.id = create (base, mc->entity_kind);
  set_string (base, &e.id, mc->string_key, "base");
  base_vv = flow_doc_dup_version (base);

  for (guint i = 0; i < 3; i++)
    {
      replicas[i] = clone_doc (base, ids[i]);
      set_string (replicas[i], &e.id, mc->string_key, values[i]);
      g_assert_cmpstr (get_string (replicas[i], &e.id, mc->string_key), ==, values[i]);
      g_ptr_array_add (batches, flow_doc_encode_since (replicas[i], base_vv));
    }
  deliver_all_orders (base, batches, check_string_cb, &e);

  for (guint i = 0; i < 3; i++)
    for (guint j = 0; j < 3; j++)
      flow_test_sync_pair (replicas[i], replicas[j]);
  for (guint i = 0; i < 3; i++)
    check_string_cb (replicas[i], &e);

  /* Now the lowest replica writes twice while the others write once: its
   * second write has the higher lamport and wins everywhere. */
  g_clear_pointer (&base_vv, flow_version_vector_free);
  base_vv = flow_doc_dup_version (replicas[0]);
  g_clear_object (&base);
  base = clone_doc (replicas[0], 2);
  g_ptr_array_set_size (batches, 0);
  set_string (replicas[0], &e.id, mc->string_key, "a");
  set_string (replicas[1], &e.id, mc->string_key, "b1");
  set_string (replicas[1], &e.id, mc->string_key, "b2");
  set_string (replicas[2], &e.id, mc->string_key, "c");
  for (guint i = 0; i < 3; i++)
    g_ptr_array_add (batches, flow_doc_encode_since (replicas[i], base_vv));
  e.expected = "b2";
  deliver_all_orders (base, batches, check_string_cb, &e);
  for (guint i = 0; i < 3; i++)
    for (guint j = 0; j < 3; j++)
      flow_test_sync_pair (replicas[i], replicas[j]);
  for (guint i = 0; i < 3; i++)
    check_string_cb (replicas[i], &e);

  for (guint i = 0; i < 3; i++)
    g_object_unref (replicas[i]);
}

/* A write made after seeing another wins, whatever the replica ids and
 * whatever order a third replica receives them in. */
static void
test_lww_causal (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) high = new_doc (mc, 0xfff0);
  g_autoptr(FlowDoc) low = NULL;
  g_autoptr(GPtrArray) msgs = bytes_array_new ();
  g_autoptr(GPtrArray) batches = bytes_array_new ();
  g_autoptr(FlowDoc) empty = new_doc (mc, 5);
  FlowOpId other;
  Expect e = { mc, { 0, 0 }, NULL, FALSE };

  flow_doc_add_change_func (high, collect_local_cb, msgs, NULL);
  e.id = create (high, mc->entity_kind);
  other = create (high, mc->entity_kind);
  /* Many writes: a high lamport on the high replica. */
  for (guint i = 0; i < 50; i++)
    set_number (high, &other, "custom", i);
  set_string (high, &e.id, mc->string_key, "first");

  low = new_doc (mc, 1);
  flow_doc_add_change_func (low, collect_local_cb, msgs, NULL);
  flow_test_sync_pair (high, low);
  set_string (low, &e.id, mc->string_key, "second");

  e.expected = "second";
  check_string_cb (low, &e);
  flow_test_sync_pair (high, low);
  check_string_cb (high, &e);

  /* Every order of every message, including the later write first (it
   * waits for the ops it depends on). */
  g_ptr_array_add (batches, flow_doc_encode_since (high, NULL));
  g_ptr_array_add (batches, g_bytes_ref (g_ptr_array_index (msgs, msgs->len - 1)));
  deliver_all_orders (empty, batches, check_string_cb, &e);
  g_assert_cmpuint (msgs->len, ==, 54);
  {
    g_autoptr(FlowDoc) doc = new_doc (mc, 6);

    for (guint i = msgs->len; i > 0; i--)
      apply (doc, g_ptr_array_index (msgs, i - 1));
    g_assert_cmpuint (flow_doc_get_n_pending (doc), ==, 0);
    check_string_cb (doc, &e);
  }
}

/* Delete is the register "deleted": a concurrent property write keeps its
 * value but does not bring the entity back; concurrent delete and
 * undelete are decided like any write. */
static void
test_delete_concurrent (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) base = new_doc (mc, 1);
  g_autoptr(FlowDoc) a = NULL;
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(GPtrArray) batches = bytes_array_new ();
  g_autoptr(GArray) live = NULL;
  g_autoptr(GArray) all = NULL;
  g_autoptr(GArray) ordered = NULL;
  g_autofree char *key = NULL;
  FlowOpId keep;
  Expect e = { mc, { 0, 0 }, "edited", TRUE };

  e.id = create (base, mc->entity_kind);
  keep = create (base, mc->entity_kind);
  key = flow_doc_dup_order_key_between (base, NULL, NULL);
  set_string (base, &e.id, mc->order_key, key);
  set_string (base, &e.id, mc->string_key, "before");
  vv = flow_doc_dup_version (base);

  a = clone_doc (base, 0x10);
  b = clone_doc (base, 0x20);
  set_deleted (a, &e.id, TRUE);
  g_assert_true (flow_doc_entity_is_deleted (a, &e.id));
  set_string (b, &e.id, mc->string_key, "edited");
  set_number (b, &e.id, "custom", 3);
  g_ptr_array_add (batches, flow_doc_encode_since (a, vv));
  g_ptr_array_add (batches, flow_doc_encode_since (b, vv));
  deliver_all_orders (base, batches, check_string_cb, &e);

  flow_test_sync_pair (a, b);
  check_string_cb (a, &e);
  check_string_cb (b, &e);

  /* Still known, no longer listed as live or in the order. */
  live = flow_doc_list_entities (a, FALSE);
  all = flow_doc_list_entities (a, TRUE);
  ordered = flow_doc_list_ordered (a);
  g_assert_false (list_contains (live, &e.id));
  g_assert_true (list_contains (all, &e.id));
  g_assert_false (list_contains (ordered, &e.id));
  g_assert_true (list_contains (live, &keep));
  g_assert_true (list_contains (ordered, &keep));
  g_assert_true (flow_doc_has_entity (a, &e.id));

  /* A later write of another property after seeing the delete does not
   * resurrect it either. */
  set_string (b, &e.id, mc->string_key, "after");
  flow_test_sync_pair (a, b);
  e.expected = "after";
  check_string_cb (a, &e);

  /* Concurrent undelete (0x10) and delete (0x20): the higher replica
   * wins, on both sides. */
  set_deleted (a, &e.id, FALSE);
  g_assert_false (flow_doc_entity_is_deleted (a, &e.id));
  set_deleted (b, &e.id, TRUE);
  flow_test_sync_pair (a, b);
  check_string_cb (a, &e);
  check_string_cb (b, &e);

  /* An undelete after seeing the delete brings it back, in its place. */
  set_deleted (a, &e.id, FALSE);
  flow_test_sync_pair (a, b);
  e.deleted = FALSE;
  check_string_cb (a, &e);
  check_string_cb (b, &e);
  g_clear_pointer (&ordered, g_array_unref);
  ordered = flow_doc_list_ordered (b);
  g_assert_cmpuint (ordered->len, ==, 2);
  /* "keep" has no order key, which sorts first. */
  g_assert_true (flow_op_id_equal (&g_array_index (ordered, FlowOpId, 0), &keep));
  g_assert_true (flow_op_id_equal (&g_array_index (ordered, FlowOpId, 1), &e.id));
}

/* Random writes by several replicas with random partial syncs: once
 * everything is exchanged, every replica holds the same registers, and
 * every register holds the write that is greatest by (lamport, replica):
 * we recompute that from each replica's own history. */
static void
test_lww_random (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  FlowDoc *replicas[4];
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    replicas[i] = new_doc (mc, (FlowReplicaId) g_rand_int (rand) << 8 | i);

  for (guint step = 0; step < 400; step++)
    {
      guint r = (guint) g_rand_int_range (rand, 0, G_N_ELEMENTS (replicas));
      FlowDoc *doc = replicas[r];
      guint what = (guint) g_rand_int_range (rand, 0, 10);
      g_autoptr(GArray) known = flow_doc_list_entities (doc, TRUE);

      if (what == 0 || known->len == 0)
        {
          FlowOpId id = create (doc, mc->entity_kind);

          g_array_append_val (ids, id);
        }
      else if (what < 8)
        {
          guint k = (guint) g_rand_int_range (rand, 0, (gint) known->len);
          FlowOpId id = g_array_index (known, FlowOpId, k);
          g_autofree char *v = g_strdup_printf ("%u-%u", r, step);

          set_string (doc, &id, mc->string_key, v);
          if (g_rand_boolean (rand))
            set_number (doc, &id, "custom", step);
        }
      else if (what < 9)
        {
          guint k = (guint) g_rand_int_range (rand, 0, (gint) known->len);
          FlowOpId id = g_array_index (known, FlowOpId, k);

          set_deleted (doc, &id, g_rand_boolean (rand));
        }
      else
        flow_test_sync_pair (doc, replicas[g_rand_int_range (rand, 0, G_N_ELEMENTS (replicas))]);
    }

  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
      for (guint j = 0; j < G_N_ELEMENTS (replicas); j++)
        flow_test_sync_pair (replicas[i], replicas[j]);

  for (guint k = 0; k < ids->len; k++)
    {
      const FlowOpId *id = &g_array_index (ids, FlowOpId, k);
      FlowDoc *first = replicas[0];
      FlowMap *map = first->map;
      guint32 key;
      FlowLv best = FLOW_LV_NONE;
      FlowLv entity = flow_oplog_op_id_to_lv (first->log, id);

      /* The reference: scan the whole history for writes of this key. */
      g_assert_true (flow_map_lookup_string (map, mc->string_key, &key));
      for (FlowLv lv = 0; lv < first->log->len; lv++)
        {
          const FlowMapOp *op = flow_map_get_op (map, lv);

          if (op->kind == FLOW_MAP_OP_SET && op->entity == entity && op->name == key &&
              (best == FLOW_LV_NONE || flow_oplog_compare_lv (first->log, lv, best) > 0))
            best = lv;
        }

      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        {
          const char *v = get_string (replicas[i], id, mc->string_key);

          if (best == FLOW_LV_NONE)
            g_assert_null (v);
          else
            g_assert_cmpstr (v, ==, flow_value_get_string (flow_map_get_op (map, best)->value));
          g_assert_cmpint (flow_doc_entity_is_deleted (replicas[i], id), ==,
                           flow_doc_entity_is_deleted (first, id));
        }
    }

  for (guint i = 1; i < G_N_ELEMENTS (replicas); i++)
    {
      g_autoptr(GArray) o0 = flow_doc_list_ordered (replicas[0]);
      g_autoptr(GArray) oi = flow_doc_list_ordered (replicas[i]);

      flow_test_assert_same (replicas[0], replicas[i]);
      g_assert_cmpmem (o0->data, o0->len * sizeof (FlowOpId),
                       oi->data, oi->len * sizeof (FlowOpId));
    }
  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    g_object_unref (replicas[i]);
}

/* ------------------------------------------------------------------------
 * Validation
 * ------------------------------------------------------------------------ */

/* Asserts that writing @value (transfer full) to @key is refused with
 * INVALID_ARGUMENT and changes nothing. */
static void
assert_set_fails (FlowDoc        *doc,
                  const FlowOpId *id,
                  const char     *key,
                  FlowValue      *value)
{
  g_autoptr(FlowValue) v = value;
  g_autoptr(GError) error = NULL;
  guint64 n_ops = flow_doc_get_n_ops (doc);
  FlowValue *before = flow_doc_get_property (doc, id, key);
  g_autoptr(FlowValue) before_ref = before ? flow_value_ref (before) : NULL;

  g_assert_nonnull (v);
  g_assert_false (flow_doc_set_property (doc, id, key, v, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
  g_assert_true (flow_value_equal (flow_doc_get_property (doc, id, key), before_ref));
}

static FlowValue *
points_value (float x,
              float y,
              float pressure)
{
  FlowPoint p[2] = { { 0, 0, 1 }, { x, y, pressure } };

  return flow_value_new_points (p, 2);
}

static void
test_invalid_board (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowValue) one = flow_value_new_number (1);
  g_autofree char *long_str = g_strnfill (1025, 'x');
  g_autofree char *long_key = g_strnfill (33, 'k');
  g_autofree char *long_z = NULL;
  FlowOpId id;
  FlowOpId ghost = { 12345, 6 };
  guint64 n_ops;

  id = create (doc, "rect");
  set_number (doc, &id, "opacity", 0.5);
  n_ops = flow_doc_get_n_ops (doc);

  /* Ranges. */
  assert_set_fails (doc, &id, "opacity", flow_value_new_number (2));
  assert_set_fails (doc, &id, "opacity", flow_value_new_number (-0.01));
  assert_set_fails (doc, &id, "x", flow_value_new_number (1.5e9));
  assert_set_fails (doc, &id, "y", flow_value_new_number (-1.5e9));
  assert_set_fails (doc, &id, "rotation", flow_value_new_number (2e9));
  assert_set_fails (doc, &id, "w", flow_value_new_number (-1));
  assert_set_fails (doc, &id, "h", flow_value_new_number (1e8));
  assert_set_fails (doc, &id, "font_size", flow_value_new_number (0));
  assert_set_fails (doc, &id, "font_size", flow_value_new_number (1000.5));
  assert_set_fails (doc, &id, "stroke_width", flow_value_new_number (-0.5));
  assert_set_fails (doc, &id, "stroke_width", flow_value_new_number (1001));
  assert_set_fails (doc, &id, "group", flow_value_new_string (long_str));
  assert_set_fails (doc, &id, "mime_type", flow_value_new_string (long_str));

  /* Types. */
  assert_set_fails (doc, &id, "opacity", flow_value_new_string ("0.5"));
  assert_set_fails (doc, &id, "x", flow_value_new_bool (TRUE));
  assert_set_fails (doc, &id, "stroke", flow_value_new_number (0xff0000ff));
  assert_set_fails (doc, &id, "fill", flow_value_new_string ("#ff0000"));
  assert_set_fails (doc, &id, "text", flow_value_new_number (1));
  assert_set_fails (doc, &id, "deleted", flow_value_new_number (1));
  assert_set_fails (doc, &id, "locked", flow_value_new_string ("yes"));
  assert_set_fails (doc, &id, "points", flow_value_new_number (1));
  assert_set_fails (doc, &id, "start", flow_value_new_string ("1:2"));
  assert_set_fails (doc, &id, "z", flow_value_new_number (1));
  assert_set_fails (doc, &id, "image", flow_value_new_string ("data"));

  /* Points: finite, in range, pressure in [0, 1]. NaN cannot be a number
   * value, but it can sit in a point. */
  assert_set_fails (doc, &id, "points", points_value (NAN, 0, 1));
  assert_set_fails (doc, &id, "points", points_value (0, INFINITY, 1));
  assert_set_fails (doc, &id, "points", points_value (2e9f, 0, 1));
  assert_set_fails (doc, &id, "points", points_value (0, 0, 1.5f));
  assert_set_fails (doc, &id, "points", points_value (0, 0, -0.1f));
  assert_set_fails (doc, &id, "points", points_value (0, 0, NAN));

  /* Z keys outside the fractional-index grammar. */
  long_z = g_strconcat ("a0", long_str, NULL);
  assert_set_fails (doc, &id, "z", flow_value_new_string (""));
  assert_set_fails (doc, &id, "z", flow_value_new_string ("a"));
  assert_set_fails (doc, &id, "z", flow_value_new_string ("a00"));
  assert_set_fails (doc, &id, "z", flow_value_new_string ("b0"));
  assert_set_fails (doc, &id, "z", flow_value_new_string ("a0!"));
  assert_set_fails (doc, &id, "z", flow_value_new_string ("0a"));
  assert_set_fails (doc, &id, "z", flow_value_new_string ("a0 V"));
  assert_set_fails (doc, &id, "z", flow_value_new_string (long_z));

  /* References to entities that do not exist. */
  assert_set_fails (doc, &id, "start", flow_value_new_ref (&ghost));
  assert_set_fails (doc, &id, "end", flow_value_new_ref (&doc_id));

  /* Malformed property names. */
  assert_set_fails (doc, &id, "", flow_value_new_number (1));
  assert_set_fails (doc, &id, "X", flow_value_new_number (1));
  assert_set_fails (doc, &id, "1a", flow_value_new_number (1));
  assert_set_fails (doc, &id, "_a", flow_value_new_number (1));
  assert_set_fails (doc, &id, "a-b", flow_value_new_number (1));
  assert_set_fails (doc, &id, "a b", flow_value_new_number (1));
  assert_set_fails (doc, &id, "é", flow_value_new_number (1));
  assert_set_fails (doc, &id, long_key, flow_value_new_number (1));

  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
  g_assert_cmpfloat (flow_value_get_number (flow_doc_get_property (doc, &id, "opacity")), ==, 0.5);

  /* An unknown entity, unknown kinds. */
  g_assert_false (flow_doc_set_property (doc, &ghost, "x", one, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_create_entity (doc, "circle", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_create_entity (doc, "page", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_create_entity (doc, "", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
}

/* The values at the edges of each range, and every value type, are
 * accepted. */
static void
test_valid_board (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autoptr(GBytes) image = g_bytes_new_static ("\x89PNG", 4);
  g_autofree char *max_str = g_strnfill (1024, 'x');
  FlowPoint pts[3] = { { -1e9f, 1e9f, 0 }, { 0, 0, 1 }, { 1.5f, -2.5f, 0.5f } };
  static const char *kinds[] = {
    "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text", "sticky", "image",
  };
  FlowOpId id;
  FlowOpId other;
  g_auto(GStrv) names = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    create (doc, kinds[i]);
  id = create (doc, "arrow");
  other = create (doc, "rect");

  set_number (doc, &id, "opacity", 0);
  set_number (doc, &id, "opacity", 1);
  set_number (doc, &id, "x", -1e9);
  set_number (doc, &id, "y", 1e9);
  set_number (doc, &id, "w", 0);
  set_number (doc, &id, "h", 1e7);
  set_number (doc, &id, "rotation", -3.14);
  set_number (doc, &id, "font_size", 1000);
  set_number (doc, &id, "stroke_width", 0);
  flow_test_set (doc, &id, "stroke", flow_value_new_color (0x112233ff));
  flow_test_set (doc, &id, "fill", flow_value_new_color (0));
  set_string (doc, &id, "text", "héllo\nwörld");
  flow_test_set (doc, &id, "points", flow_value_new_points (pts, 3));
  flow_test_set (doc, &id, "points", flow_value_new_points (NULL, 0));
  set_string (doc, &id, "z", "a0");
  set_string (doc, &id, "z", "Zz");
  set_string (doc, &id, "z", "a0V");
  set_string (doc, &id, "z", "b00");
  flow_test_set (doc, &id, "start", flow_value_new_ref (&other));
  flow_test_set (doc, &id, "end", flow_value_new_ref (&id));
  set_string (doc, &id, "group", max_str);
  flow_test_set (doc, &id, "image", flow_value_new_bytes (image));
  set_string (doc, &id, "mime_type", "image/png");
  flow_test_set (doc, &id, "locked", flow_value_new_bool (TRUE));
  /* Keys this build does not know are kept, for newer peers. */
  set_number (doc, &id, "future_key_2", 42);

  g_assert_cmpuint (flow_value_get_color (flow_doc_get_property (doc, &id, "stroke")), ==,
                    0x112233ff);
  g_assert_cmpstr (get_string (doc, &id, "z"), ==, "b00");
  g_assert_true (flow_op_id_equal (flow_value_get_ref (flow_doc_get_property (doc, &id, "start")),
                                   &other));
  g_assert_true (g_bytes_equal (flow_value_get_bytes (flow_doc_get_property (doc, &id, "image")),
                                image));
  g_assert_cmpfloat (flow_value_get_number (flow_doc_get_property (doc, &id, "future_key_2")), ==,
                     42);

  names = flow_doc_dup_property_names (doc, &id);
  g_assert_cmpuint (g_strv_length (names), ==, 20);

  /* Everything survives a round trip to another replica. */
  {
    g_autoptr(FlowDoc) copy = clone_doc (doc, 2);
    g_auto(GStrv) copy_names = flow_doc_dup_property_names (copy, &id);

    g_assert_cmpuint (g_strv_length (copy_names), ==, 20);
    for (guint i = 0; names[i] != NULL; i++)
      {
        g_assert_true (g_strv_contains ((const char * const *) copy_names, names[i]));
        g_assert_true (flow_value_equal (flow_doc_get_property (doc, &id, names[i]),
                                         flow_doc_get_property (copy, &id, names[i])));
      }
  }

  /* Sorted (it once sorted the pointers; fixed in a75fe11). */
  for (guint i = 1; names[i] != NULL; i++)
    g_assert_cmpstr (names[i - 1], <, names[i]);
}

static void
test_nan_number (void)
{
  if (g_test_subprocess ())
    {
      /* A critical, and no value. */
      FlowValue *v = flow_value_new_number (NAN);

      g_assert_null (v);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*isfinite*");
}

static void
test_invalid_catalog (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_CATALOG, &doc_id, 1);
  g_autoptr(FlowDoc) page = flow_doc_new (FLOW_DOC_KIND_PAGE, &doc_id, 1);
  g_autoptr(FlowValue) one = flow_value_new_number (1);
  g_autoptr(GError) error = NULL;
  g_autofree char *long_str = g_strnfill (1025, 'x');
  FlowOpId id;
  FlowOpId board;

  id = create (doc, "page");
  board = create (doc, "board");
  set_string (doc, &id, "title", "");
  set_string (doc, &board, "folder", "Projects/2026");

  assert_set_fails (doc, &id, "title", flow_value_new_string (long_str));
  assert_set_fails (doc, &id, "folder", flow_value_new_string (long_str));
  assert_set_fails (doc, &id, "title", flow_value_new_number (3));
  assert_set_fails (doc, &id, "order", flow_value_new_string ("a00"));
  assert_set_fails (doc, &id, "deleted", flow_value_new_string ("true"));

  g_assert_false (flow_doc_create_entity (doc, "rect", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_create_entity (doc, "catalog", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* A page has no entities. */
  g_assert_false (flow_doc_create_entity (page, "page", NULL, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
  g_clear_error (&error);
  g_assert_false (flow_doc_set_property (page, &id, "title", one, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
  g_clear_error (&error);
  g_assert_cmpuint (flow_doc_get_n_ops (page), ==, 0);

  /* A board's batch does not apply to the catalog. */
  {
    g_autoptr(FlowDoc) b = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 3);
    g_autoptr(GBytes) bytes = NULL;

    create (b, "rect");
    bytes = flow_doc_encode_since (b, NULL);
    g_assert_false (flow_doc_apply (doc, bytes, &error));
    g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
    g_clear_error (&error);
  }
}

/* A null value unsets a property: its default applies again. */
static void
test_null_unsets (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) doc = new_doc (mc, 1);
  g_autoptr(FlowDoc) copy = NULL;
  g_auto(GStrv) names = NULL;
  FlowOpId id = create (doc, mc->entity_kind);

  set_string (doc, &id, mc->string_key, "x");
  set_number (doc, &id, "custom", 1);
  flow_test_set (doc, &id, mc->string_key, flow_value_new_null ());
  /* Unsetting what was never set is fine too. */
  flow_test_set (doc, &id, "never", flow_value_new_null ());
  g_assert_null (flow_doc_get_property (doc, &id, mc->string_key));
  g_assert_null (flow_doc_get_property (doc, &id, "never"));
  names = flow_doc_dup_property_names (doc, &id);
  g_assert_cmpuint (g_strv_length (names), ==, 1);
  g_assert_cmpstr (names[0], ==, "custom");

  /* deleted = null is "not deleted". */
  set_deleted (doc, &id, TRUE);
  g_assert_true (flow_doc_entity_is_deleted (doc, &id));
  flow_test_set (doc, &id, "deleted", flow_value_new_null ());
  g_assert_false (flow_doc_entity_is_deleted (doc, &id));

  copy = clone_doc (doc, 2);
  g_assert_null (flow_doc_get_property (copy, &id, mc->string_key));
  g_assert_false (flow_doc_entity_is_deleted (copy, &id));
}

static void
record_change_cb (FlowDoc    *doc,
                  FlowChange *change,
                  gpointer    user_data)
{
  g_ptr_array_add (user_data, flow_change_ref (change));
}

/* Changes name the entities they touched, once each; a remote write that
 * loses its register changes nothing visible and names nothing. */
static void
test_change_entities (void)
{
  g_autoptr(FlowDoc) a = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 0x20);
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(GPtrArray) changes = NULL;
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(GBytes) from_b = NULL;
  const FlowOpId *touched;
  guint n;
  FlowOpId s1;
  FlowOpId s2;

  changes = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_change_unref);
  flow_doc_begin_change (a);
  s1 = create (a, "rect");
  set_number (a, &s1, "x", 1);
  set_number (a, &s1, "y", 2);
  s2 = create (a, "ellipse");
  flow_doc_end_change (a);

  b = clone_doc (a, 0x10);
  vv = flow_doc_dup_version (a);
  set_number (a, &s1, "x", 5);
  set_number (b, &s1, "x", 7);   /* loses: same lamport, lower replica */
  set_number (b, &s2, "y", 9);   /* wins: nobody else wrote it */
  from_b = flow_doc_encode_since (b, vv);

  flow_doc_add_change_func (a, record_change_cb, changes, NULL);
  apply (a, from_b);
  g_assert_cmpuint (changes->len, ==, 1);

  touched = flow_change_get_entities (g_ptr_array_index (changes, 0), &n);
  g_assert_false (flow_change_is_local (g_ptr_array_index (changes, 0)));
  g_assert_cmpuint (flow_change_get_n_ops (g_ptr_array_index (changes, 0)), ==, 2);
  g_assert_cmpuint (n, ==, 1);
  g_assert_true (flow_op_id_equal (&touched[0], &s2));
  g_assert_cmpfloat (flow_value_get_number (flow_doc_get_property (a, &s1, "x")), ==, 5);
  g_assert_cmpfloat (flow_value_get_number (flow_doc_get_property (a, &s2, "y")), ==, 9);
}

static void
test_change_entities_local (void)
{
  g_autoptr(FlowDoc) a = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autoptr(GPtrArray) changes = NULL;
  const FlowOpId *touched;
  guint n;
  FlowOpId s1;
  FlowOpId s2;

  changes = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_change_unref);
  flow_doc_add_change_func (a, record_change_cb, changes, NULL);
  flow_doc_begin_change (a);
  s1 = create (a, "rect");
  set_number (a, &s1, "x", 1);
  s2 = create (a, "ellipse");
  set_number (a, &s1, "y", 2);
  set_number (a, &s2, "y", 2);
  flow_doc_end_change (a);
  g_assert_cmpuint (changes->len, ==, 1);
  g_assert_true (flow_change_is_local (g_ptr_array_index (changes, 0)));
  g_assert_cmpuint (flow_change_get_n_ops (g_ptr_array_index (changes, 0)), ==, 5);
  touched = flow_change_get_entities (g_ptr_array_index (changes, 0), &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_true (flow_op_id_equal (&touched[0], &s1));
  g_assert_true (flow_op_id_equal (&touched[1], &s2));
}

/*
 * flow-batch.c decode_map_ops() sets a create op's kind and name but not
 * its value, and flow_batch_reset(), run after every flow_doc_apply(),
 * unrefs the value. Until 20f25a8 the op array was not zero-filled, so a
 * create op's value was whatever the heap left there: applying board
 * batches crashed at random (it did in this suite). We stand for a reused
 * heap block by scribbling over the array's spare room, and check that a
 * decoded create op has no value.
 */
static void
test_decode_create_value (void)
{
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  FlowBatch b;
  const guint8 *data;
  gsize len;
  FlowBatchMapOp *op;
  gpointer value;

  create (doc, "rect");
  bytes = flow_doc_encode_since (doc, NULL);
  data = g_bytes_get_data (bytes, &len);

  flow_batch_init (&b);
  g_array_set_size (b.map_ops, 4);
  memset (b.map_ops->data, 0xa5, 4 * sizeof (FlowBatchMapOp));
  b.map_ops->len = 0; /* room with old bytes in it, as after a realloc */

  g_assert_true (flow_batch_decode (&b, data, len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (b.map_ops->len, ==, 1);
  op = &g_array_index (b.map_ops, FlowBatchMapOp, 0);
  g_assert_cmpuint (op->kind, ==, FLOW_MAP_OP_CREATE);
  value = op->value;
  op->value = NULL; /* or flow_batch_clear() would unref 0xa5a5a5a5a5a5a5a5 */
  flow_batch_clear (&b);
  g_assert_null (value);
}

/* ------------------------------------------------------------------------
 * Order (z-order, catalog order)
 * ------------------------------------------------------------------------ */

static void
assert_order (FlowDoc       *doc,
              const MapCase *mc,
              GArray        *model)
{
  g_autoptr(GArray) ordered = flow_doc_list_ordered (doc);

  g_assert_cmpuint (ordered->len, ==, model->len);
  for (guint i = 0; i < model->len; i++)
    {
      g_assert_true (flow_op_id_equal (&g_array_index (ordered, FlowOpId, i),
                                       &g_array_index (model, FlowOpId, i)));
      if (i > 0)
        g_assert_cmpstr (get_string (doc, &g_array_index (ordered, FlowOpId, i - 1),
                                     mc->order_key), <,
                         get_string (doc, &g_array_index (ordered, FlowOpId, i), mc->order_key));
    }
}

/* Places a new entity at @index of @model (bottom = 0) and returns its key. */
static char *
place (FlowDoc       *doc,
       const MapCase *mc,
       GArray        *model,
       guint          index)
{
  const FlowOpId *below = index > 0 ? &g_array_index (model, FlowOpId, index - 1) : NULL;
  const FlowOpId *above = index < model->len ? &g_array_index (model, FlowOpId, index) : NULL;
  char *key = flow_doc_dup_order_key_between (doc, below, above);
  FlowOpId id;

  g_assert_nonnull (key);
  g_assert_true (flow_frac_key_is_valid (key, strlen (key)));
  if (below)
    g_assert_cmpstr (get_string (doc, below, mc->order_key), <, key);
  if (above)
    g_assert_cmpstr (key, <, get_string (doc, above, mc->order_key));

  id = create (doc, mc->entity_kind);
  set_string (doc, &id, mc->order_key, key);
  g_array_insert_val (model, index, id);
  return key;
}

static void
test_order_between (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) doc = new_doc (mc, 1);
  g_autoptr(FlowDoc) copy = NULL;
  g_autoptr(GArray) model = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  gsize max_len = 0;

  for (guint i = 0; i < 600; i++)
    {
      g_autofree char *key = place (doc, mc, model,
                                    (guint) g_rand_int_range (rand, 0, (gint) model->len + 1));

      max_len = MAX (max_len, strlen (key));
      if (i % 50 == 0)
        assert_order (doc, mc, model);
    }
  assert_order (doc, mc, model);
  g_test_message ("longest key after 600 random placements: %" G_GSIZE_FORMAT, max_len);
  g_assert_cmpuint (max_len, <, 16);

  /* Moving entities: re-key random ones into random places. */
  for (guint i = 0; i < 300; i++)
    {
      guint from = (guint) g_rand_int_range (rand, 0, (gint) model->len);
      FlowOpId id = g_array_index (model, FlowOpId, from);
      guint to;
      g_autofree char *key = NULL;
      const FlowOpId *below;
      const FlowOpId *above;

      g_array_remove_index (model, from);
      to = (guint) g_rand_int_range (rand, 0, (gint) model->len + 1);
      below = to > 0 ? &g_array_index (model, FlowOpId, to - 1) : NULL;
      above = to < model->len ? &g_array_index (model, FlowOpId, to) : NULL;
      key = flow_doc_dup_order_key_between (doc, below, above);
      set_string (doc, &id, mc->order_key, key);
      g_array_insert_val (model, to, id);
    }
  assert_order (doc, mc, model);

  copy = clone_doc (doc, 2);
  assert_order (copy, mc, model);
}

static void
test_order_append (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) doc = new_doc (mc, 1);
  g_autoptr(GArray) model = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  gsize max_top = 0;
  gsize max_bottom = 0;
  guint n = flow_test_iterations ("FLOW_MAP_APPENDS", 10000);

  /* Put on top, again and again; then under everything. */
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = place (doc, mc, model, model->len);

      max_top = MAX (max_top, strlen (key));
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = place (doc, mc, model, 0);

      max_bottom = MAX (max_bottom, strlen (key));
    }
  assert_order (doc, mc, model);
  g_test_message ("longest key: %" G_GSIZE_FORMAT " on top, %" G_GSIZE_FORMAT " at the bottom",
                  max_top, max_bottom);
  g_assert_cmpuint (max_top, <, 12);
  g_assert_cmpuint (max_bottom, <, 12);
}

/* Inserting into the same gap again and again is the worst case: each key
 * bisects the last one's gap, ~0.17 chars per insert (CRDT.md 5.3). */
static void
test_order_same_gap (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) doc = new_doc (mc, 1);
  g_autoptr(GArray) model = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  gsize max_len = 0;

  g_free (place (doc, mc, model, 0));
  g_free (place (doc, mc, model, 1));
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *key = place (doc, mc, model, 1);

      max_len = MAX (max_len, strlen (key));
    }
  assert_order (doc, mc, model);
  g_test_message ("longest key after 1000 inserts into one gap: %" G_GSIZE_FORMAT, max_len);
  g_assert_cmpuint (max_len, <=, 1000 / 4);
}

/* Equal keys (two replicas picking the same one) sort by entity id,
 * identically on every replica. */
static void
test_order_equal_keys (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) base = new_doc (mc, 1);
  g_autoptr(FlowDoc) a = NULL;
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(GArray) oa = NULL;
  g_autoptr(GArray) ob = NULL;
  g_autofree char *past = NULL;
  FlowOpId bottom;
  FlowOpId top;
  FlowOpId from_a;
  FlowOpId from_b;

  bottom = create (base, mc->entity_kind);
  set_string (base, &bottom, mc->order_key, "a0");
  top = create (base, mc->entity_kind);
  set_string (base, &top, mc->order_key, "a2");
  a = clone_doc (base, 0x20);
  b = clone_doc (base, 0x10);

  from_a = create (a, mc->entity_kind);
  set_string (a, &from_a, mc->order_key, "a1");
  from_b = create (b, mc->entity_kind);
  set_string (b, &from_b, mc->order_key, "a1");
  flow_test_sync_pair (a, b);

  oa = flow_doc_list_ordered (a);
  ob = flow_doc_list_ordered (b);
  g_assert_cmpuint (oa->len, ==, 4);
  g_assert_cmpmem (oa->data, 4 * sizeof (FlowOpId), ob->data, 4 * sizeof (FlowOpId));
  g_assert_true (flow_op_id_equal (&g_array_index (oa, FlowOpId, 0), &bottom));
  g_assert_true (flow_op_id_equal (&g_array_index (oa, FlowOpId, 1), &from_b));
  g_assert_true (flow_op_id_equal (&g_array_index (oa, FlowOpId, 2), &from_a));
  g_assert_true (flow_op_id_equal (&g_array_index (oa, FlowOpId, 3), &top));

  /* Nothing lies between equal keys: the key goes past them, below the
   * next one. */
  past = flow_doc_dup_order_key_between (a, &from_b, &from_a);
  g_assert_nonnull (past);
  g_assert_true (flow_frac_key_is_valid (past, strlen (past)));
  g_assert_cmpstr (past, >, "a1");

  /* Keys made for one gap vary, thanks to jitter, so concurrent inserts
   * rarely collide. (One pair may collide by chance; ten in a row cannot
   * in practice.) */
  {
    g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; i < 10; i++)
      {
        char *ka = flow_doc_dup_order_key_between (i % 2 ? a : b, &top, NULL);
        char *kc = flow_doc_dup_order_key_between (i % 2 ? a : b, &bottom, &from_b);

        g_assert_cmpstr (ka, >, "a2");
        g_assert_cmpstr (kc, >, "a0");
        g_assert_cmpstr (kc, <, "a1");
        g_hash_table_add (seen, ka);
        g_free (kc);
      }
    g_assert_cmpuint (g_hash_table_size (seen), >, 1);
  }
}

/* Concurrent moves of one entity: one move wins, the same everywhere. */
static void
test_order_concurrent_moves (gconstpointer data)
{
  const MapCase *mc = data;
  g_autoptr(FlowDoc) base = new_doc (mc, 1);
  g_autoptr(GArray) model = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
  g_autoptr(FlowDoc) a = NULL;
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(GArray) oa = NULL;
  g_autoptr(GArray) ob = NULL;
  g_autofree char *to_top = NULL;
  g_autofree char *to_bottom = NULL;
  FlowOpId moved;

  for (guint i = 0; i < 5; i++)
    g_free (place (base, mc, model, i));
  moved = g_array_index (model, FlowOpId, 2);
  a = clone_doc (base, 0x10);
  b = clone_doc (base, 0x20);

  to_top = flow_doc_dup_order_key_between (a, &g_array_index (model, FlowOpId, 4), NULL);
  set_string (a, &moved, mc->order_key, to_top);
  to_bottom = flow_doc_dup_order_key_between (b, NULL, &g_array_index (model, FlowOpId, 0));
  set_string (b, &moved, mc->order_key, to_bottom);
  flow_test_sync_pair (a, b);

  /* 0x20 wins the tie: the entity is at the bottom on both. */
  g_assert_cmpstr (get_string (a, &moved, mc->order_key), ==, to_bottom);
  oa = flow_doc_list_ordered (a);
  ob = flow_doc_list_ordered (b);
  g_assert_cmpmem (oa->data, oa->len * sizeof (FlowOpId), ob->data, ob->len * sizeof (FlowOpId));
  g_assert_true (flow_op_id_equal (&g_array_index (oa, FlowOpId, 0), &moved));
}

/* ------------------------------------------------------------------------
 * Fractional-index keys
 * ------------------------------------------------------------------------ */

static gboolean
key_valid (const char *key)
{
  return flow_frac_key_is_valid (key, strlen (key));
}

static void
test_frac_validity (void)
{
  static const char *valid[] = {
    "a0", "az", "a0V", "a01", "b00", "bzz", "Zz", "Z0", "Z01", "Yzz", "Y00",
    "zzzzzzzzzzzzzzzzzzzzzzzzzzz",
    "A00000000000000000000000000",
    "A000000000000000000000000001",
    "a0zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz1",
  };
  static const char *invalid[] = {
    "", "a", "b0", "Z", "Y0", "a00", "a0V0", "0", "00", "!", "a!", "a0!", "a0 ", " a0",
    "a0-", "\xc3\xa9", "a0\xc3\xa9", "zzzzzzzzzzzzzzzzzzzzzzzzzz", "A0000000000000000000000000",
  };
  g_autofree char *max = g_strnfill (FLOW_FRAC_KEY_MAX_LEN, '1');
  g_autofree char *over = g_strnfill (FLOW_FRAC_KEY_MAX_LEN + 1, '1');

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    if (!key_valid (valid[i]))
      g_error ("'%s' should be valid", valid[i]);
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    if (key_valid (invalid[i]))
      g_error ("'%s' should be invalid", invalid[i]);

  /* The length limit, and only the given length is looked at. */
  max[0] = 'a';
  over[0] = 'a';
  g_assert_true (key_valid (max));
  g_assert_false (key_valid (over));
  g_assert_true (flow_frac_key_is_valid ("a0V!!!", 3));
  g_assert_false (flow_frac_key_is_valid ("a0V", 0));
  g_assert_false (flow_frac_key_is_valid (NULL, 0));
}

static void
check_between (const char *a,
               const char *b,
               const char *expected,
               GRand      *jitter)
{
  g_autofree char *k = flow_frac_key_between (a, b, jitter);

  if (expected != NULL && jitter == NULL)
    g_assert_cmpstr (k, ==, expected);
  g_assert_nonnull (k);
  g_assert_true (key_valid (k));
  if (a != NULL)
    g_assert_cmpstr (a, <, k);
  if (b != NULL)
    g_assert_cmpstr (k, <, b);
  if (expected != NULL && jitter != NULL)
    g_assert_true (g_str_has_prefix (k, expected));
}

static void
test_frac_between_edges (void)
{
  g_autoptr(GRand) jitter = g_rand_new_with_seed (flow_test_seed ());
  g_autofree char *largest = g_strnfill (27, 'z');
  g_autofree char *smallest = g_strnfill (27, '0');
  g_autofree char *smallest_plus = NULL;
  g_autofree char *k = NULL;

  for (guint pass = 0; pass < 2; pass++)
    {
      GRand *j = pass ? jitter : NULL;

      check_between (NULL, NULL, "a0", j);
      check_between ("a0", NULL, "a1", j);
      check_between ("az", NULL, "b00", j);
      check_between ("bzz", NULL, "c000", j);
      check_between ("Zz", NULL, "a0", j);
      check_between ("Yzz", NULL, "Z0", j);
      check_between (NULL, "a0", "Zz", j);
      check_between (NULL, "b00", "az", j);
      check_between (NULL, "Z0", "Yzz", j);
      check_between ("a0V", NULL, "a1", j);
      check_between ("a0", "a1", "a0V", j);
      check_between ("a0", "a0V", "a0F", j);
      check_between ("a0", "a01", "a00V", j);
      check_between ("a0y", "a0z", "a0yV", j);
      check_between ("a0y", "a1", "a0z", j);
      check_between ("a0", "b00", "a1", j);
      check_between ("Zz", "a0", "ZzV", j);
      check_between ("Zz", "a1", "a0", j);
    }

  /* A key with a fraction below b: b's integer alone. */
  check_between (NULL, "a0V", "a0", NULL);

  /* The largest integer has no successor; a fraction still fits. */
  largest[0] = 'z';
  check_between (largest, NULL, NULL, NULL);
  check_between (largest, NULL, NULL, jitter);

  /* Nothing is below the smallest integer... */
  smallest[0] = 'A';
  g_assert_true (key_valid (smallest));
  k = flow_frac_key_between (NULL, smallest, NULL);
  g_assert_null (k);
  /* ...but something is below anything above it. */
  smallest_plus = g_strconcat (smallest, "1", NULL);
  check_between (NULL, smallest_plus, smallest, NULL);
  check_between (smallest, smallest_plus, NULL, NULL);
}

/* A random valid key: a random integer part and a short fraction. */
static char *
random_key (GRand *rand)
{
  static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  GString *s = g_string_new (NULL);
  /* Mostly the short integers real keys use, sometimes any head. */
  char head = g_rand_int_range (rand, 0, 4) == 0 ? "ABCXYZabcxyz"[g_rand_int_range (rand, 0, 12)]
                                                 : "Zabc"[g_rand_int_range (rand, 0, 4)];
  gsize ilen = head >= 'a' ? (gsize) (head - 'a') + 1 : (gsize) ('Z' - head) + 1;
  guint frac = (guint) g_rand_int_range (rand, 0, 5);

  g_string_append_c (s, head);
  for (gsize i = 0; i < ilen; i++)
    {
      /* Extreme digits often, for carries and borrows. */
      if (g_rand_int_range (rand, 0, 3) == 0)
        g_string_append_c (s, "0z"[g_rand_int_range (rand, 0, 2)]);
      else
        g_string_append_c (s, digits[g_rand_int_range (rand, 0, 62)]);
    }
  for (guint i = 0; i < frac; i++)
    g_string_append_c (s, digits[g_rand_int_range (rand, i + 1 == frac ? 1 : 0, 62)]);
  return g_string_free (s, FALSE);
}

static void
test_frac_between_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(GRand) jitter = g_rand_new_with_seed (g_rand_int (rand));
  g_autoptr(GPtrArray) pool = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < 200; i++)
    g_ptr_array_add (pool, random_key (rand));
  for (guint i = 0; i < pool->len; i++)
    g_assert_true (key_valid (g_ptr_array_index (pool, i)));

  for (guint iter = 0; iter < 50000; iter++)
    {
      const char *a = g_ptr_array_index (pool, g_rand_int_range (rand, 0, (gint) pool->len));
      const char *b = g_ptr_array_index (pool, g_rand_int_range (rand, 0, (gint) pool->len));
      GRand *j = g_rand_boolean (rand) ? jitter : NULL;
      int cmp = strcmp (a, b);
      g_autofree char *k = NULL;

      if (cmp == 0)
        continue;
      if (cmp > 0)
        {
          const char *t = a;

          a = b;
          b = t;
        }
      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0:
          a = NULL;
          break;
        case 1:
          b = NULL;
          break;
        default:
          break;
        }

      k = flow_frac_key_between (a, b, j);
      if (k == NULL)
        {
          /* Only nothing below the smallest integer. */
          g_assert_null (a);
          g_assert_cmpint (b[0], ==, 'A');
          continue;
        }
      if (!key_valid (k))
        g_error ("between (%s, %s) = '%s' is not a valid key", a, b, k);
      if ((a != NULL && strcmp (a, k) >= 0) || (b != NULL && strcmp (k, b) >= 0))
        g_error ("between (%s, %s) = '%s' is out of order", a, b, k);

      /* Grow the pool with results, so later pairs get close together. */
      if (pool->len < 5000)
        g_ptr_array_add (pool, g_steal_pointer (&k));
    }
}

/* Keys near the length limit: the documented contract is a valid key or
 * NULL, never a key the document then refuses (it once returned a key of
 * 1025 chars here; fixed in a75fe11). */
static void
test_frac_between_max_len (void)
{
  g_autofree char *a = g_strnfill (FLOW_FRAC_KEY_MAX_LEN - 1, '1');
  g_autofree char *b = g_strnfill (FLOW_FRAC_KEY_MAX_LEN, '1');
  g_autofree char *k = NULL;
  g_autoptr(FlowDoc) doc = flow_doc_new (FLOW_DOC_KIND_BOARD, &doc_id, 1);
  g_autofree char *key = NULL;
  FlowOpId below;
  FlowOpId above;

  /* Both valid ("a0" then '1's); nothing valid of at most the maximum
   * length lies between them (it would end in '0'). */
  a[0] = b[0] = 'a';
  a[1] = b[1] = '0';
  g_assert_true (key_valid (a));
  g_assert_true (key_valid (b));

  k = flow_frac_key_between (a, b, NULL);
  below = create (doc, "rect");
  above = create (doc, "rect");
  set_string (doc, &below, "z", a);
  set_string (doc, &above, "z", b);
  key = flow_doc_dup_order_key_between (doc, &below, &above);

  if (k != NULL)
    g_test_message ("between() made a key of %" G_GSIZE_FORMAT " chars", strlen (k));
  g_assert_null (k);
  g_assert_null (key);

  /* Just below the limit there is still room. */
  a[FLOW_FRAC_KEY_MAX_LEN - 2] = '\0';
  g_free (k);
  k = flow_frac_key_between (a, b, NULL);
  g_assert_nonnull (k);
  g_assert_true (key_valid (k));
  g_assert_cmpstr (a, <, k);
  g_assert_cmpstr (k, <, b);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_data_func ("/flow/map/lww/concurrent/board", &board_case, test_lww_concurrent);
  g_test_add_data_func ("/flow/map/lww/concurrent/catalog", &catalog_case, test_lww_concurrent);
  g_test_add_data_func ("/flow/map/lww/causal/board", &board_case, test_lww_causal);
  g_test_add_data_func ("/flow/map/lww/causal/catalog", &catalog_case, test_lww_causal);
  g_test_add_data_func ("/flow/map/lww/random/board", &board_case, test_lww_random);
  g_test_add_data_func ("/flow/map/lww/random/catalog", &catalog_case, test_lww_random);
  g_test_add_data_func ("/flow/map/delete/concurrent/board", &board_case, test_delete_concurrent);
  g_test_add_data_func ("/flow/map/delete/concurrent/catalog", &catalog_case,
                        test_delete_concurrent);
  g_test_add_data_func ("/flow/map/null-unsets/board", &board_case, test_null_unsets);
  g_test_add_data_func ("/flow/map/null-unsets/catalog", &catalog_case, test_null_unsets);
  g_test_add_func ("/flow/map/validation/board/invalid", test_invalid_board);
  g_test_add_func ("/flow/map/validation/board/valid", test_valid_board);
  g_test_add_func ("/flow/map/validation/board/nan", test_nan_number);
  g_test_add_func ("/flow/map/validation/catalog", test_invalid_catalog);
  g_test_add_func ("/flow/map/decode/create-value", test_decode_create_value);
  g_test_add_func ("/flow/map/changes/entities/remote", test_change_entities);
  g_test_add_func ("/flow/map/changes/entities/local", test_change_entities_local);
  g_test_add_data_func ("/flow/map/order/between/board", &board_case, test_order_between);
  g_test_add_data_func ("/flow/map/order/between/catalog", &catalog_case, test_order_between);
  g_test_add_data_func ("/flow/map/order/append/board", &board_case, test_order_append);
  g_test_add_data_func ("/flow/map/order/append/catalog", &catalog_case, test_order_append);
  g_test_add_data_func ("/flow/map/order/same-gap/board", &board_case, test_order_same_gap);
  g_test_add_data_func ("/flow/map/order/same-gap/catalog", &catalog_case, test_order_same_gap);
  g_test_add_data_func ("/flow/map/order/equal-keys/board", &board_case, test_order_equal_keys);
  g_test_add_data_func ("/flow/map/order/equal-keys/catalog", &catalog_case, test_order_equal_keys);
  g_test_add_data_func ("/flow/map/order/concurrent-moves/board", &board_case,
                        test_order_concurrent_moves);
  g_test_add_data_func ("/flow/map/order/concurrent-moves/catalog", &catalog_case,
                        test_order_concurrent_moves);
  g_test_add_func ("/flow/map/fracindex/validity", test_frac_validity);
  g_test_add_func ("/flow/map/fracindex/between/edges", test_frac_between_edges);
  g_test_add_func ("/flow/map/fracindex/between/random", test_frac_between_random);
  g_test_add_func ("/flow/map/fracindex/between/max-len", test_frac_between_max_len);

  return g_test_run ();
}
