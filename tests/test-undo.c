/* test-undo.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Local undo and redo (CRDT.md section 6), with an injected clock: grouping
 * by time, undo touching only this replica's own work, deletes restored in
 * place around remote edits, exact round trips without concurrency, LWW
 * writes restored only while ours still wins, creates undone as deletes,
 * and undo/redo ops that sync like any others.
 */

#include "config.h"

#include <string.h>

#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-test-util.h"

#define MS (G_TIME_SPAN_MILLISECOND)

static const FlowOpId doc_id = { 0, 0 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

/* A document whose undo clock reads *@now. */
static FlowDoc *
new_doc (FlowDocKind    kind,
         FlowReplicaId  replica,
         gint64        *now)
{
  FlowDoc *doc = flow_doc_new (kind, &doc_id, replica);

  flow_doc_set_clock (doc, flow_test_clock, now, NULL);
  return doc;
}

static void
apply (FlowDoc *doc,
       GBytes  *bytes)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_apply (doc, bytes, &error));
  g_assert_no_error (error);
}

/* A new replica holding everything @doc has, with its own clock. */
static FlowDoc *
clone_doc (FlowDoc       *doc,
           FlowReplicaId  replica,
           gint64        *now)
{
  FlowDoc *copy = new_doc (flow_doc_get_kind (doc), replica, now);
  g_autoptr(GBytes) bytes = flow_doc_encode_since (doc, NULL);

  if (bytes != NULL)
    apply (copy, bytes);
  return copy;
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

static void
assert_text (FlowDoc    *doc,
             const char *expected)
{
  g_autofree char *text = flow_doc_dup_text (doc);

  g_assert_cmpstr (text, ==, expected);
  flow_text_check (doc->text);
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
set_number (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key,
            double          number)
{
  g_autoptr(FlowValue) v = flow_value_new_number (number);
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_set_property (doc, id, key, v, &error));
  g_assert_no_error (error);
}

static void
set_deleted (FlowDoc        *doc,
             const FlowOpId *id,
             gboolean        deleted)
{
  g_autoptr(FlowValue) v = flow_value_new_bool (deleted);
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_set_property (doc, id, "deleted", v, &error));
  g_assert_no_error (error);
}

/* The number, or -1 if unset. */
static double
get_number (FlowDoc        *doc,
            const FlowOpId *id,
            const char     *key)
{
  FlowValue *v = flow_doc_get_property (doc, id, key);

  return v ? flow_value_get_number (v) : -1;
}

static gboolean
undo (FlowDoc *doc)
{
  guint64 before = flow_doc_get_n_ops (doc);
  gboolean done = flow_doc_undo (doc);

  /* TRUE exactly when ops were made. */
  g_assert_cmpint (done, ==, flow_doc_get_n_ops (doc) > before);
  return done;
}

static gboolean
redo (FlowDoc *doc)
{
  guint64 before = flow_doc_get_n_ops (doc);
  gboolean done = flow_doc_redo (doc);

  g_assert_cmpint (done, ==, flow_doc_get_n_ops (doc) > before);
  return done;
}

/* Applies each change's text edits to @user_data, a copy of the text, which
 * must then match the document: undo and redo report what they change. */
static void
mirror_cb (FlowDoc    *doc,
           FlowChange *change,
           gpointer    user_data)
{
  GString *mirror = user_data;
  guint n = 0;
  const FlowTextEdit *edits = flow_change_get_text_edits (change, &n);
  g_autofree char *text = NULL;

  for (guint i = 0; i < n; i++)
    {
      const char *start = g_utf8_offset_to_pointer (mirror->str, edits[i].pos);
      const char *end = g_utf8_offset_to_pointer (start, edits[i].removed);
      gssize at = start - mirror->str;

      g_string_erase (mirror, at, end - start);
      g_string_insert_len (mirror, at, edits[i].inserted, (gssize) edits[i].inserted_len);
    }
  text = flow_doc_dup_text (doc);
  g_assert_cmpstr (mirror->str, ==, text);
}

static GString *
mirror_new (FlowDoc *doc)
{
  g_autofree char *text = flow_doc_dup_text (doc);
  GString *mirror = g_string_new (text);

  flow_doc_add_change_func (doc, mirror_cb, mirror, NULL);
  return mirror;
}

/* ------------------------------------------------------------------------
 * Text: basics and grouping
 * ------------------------------------------------------------------------ */

static void
test_text_basic (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  g_assert_false (flow_doc_can_undo (doc));
  g_assert_false (flow_doc_can_redo (doc));
  g_assert_false (undo (doc));
  g_assert_false (redo (doc));

  insert (doc, 0, "hello");
  g_assert_true (flow_doc_can_undo (doc));
  g_assert_false (flow_doc_can_redo (doc));

  now += 1000 * MS;
  g_assert_true (undo (doc));
  assert_text (doc, "");
  g_assert_false (flow_doc_can_undo (doc));
  g_assert_true (flow_doc_can_redo (doc));
  g_assert_false (undo (doc));

  now += 1000 * MS;
  g_assert_true (redo (doc));
  assert_text (doc, "hello");
  g_assert_true (flow_doc_can_undo (doc));
  g_assert_false (flow_doc_can_redo (doc));
  g_assert_false (redo (doc));

  now += 1000 * MS;
  g_assert_true (undo (doc));
  assert_text (doc, "");
  now += 1000 * MS;
  g_assert_true (redo (doc));
  assert_text (doc, "hello");
}

static void
test_text_grouping (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  /* Keystrokes 100 ms apart: one step, even though the burst lasts
   * longer than 500 ms in all. */
  for (guint i = 0; i < 10; i++)
    {
      insert (doc, i, "x");
      now += 100 * MS;
    }
  now += 1000 * MS;
  /* Then three keystrokes 600 ms apart: three steps. */
  insert (doc, 10, "a");
  now += 600 * MS;
  insert (doc, 11, "b");
  now += 600 * MS;
  insert (doc, 12, "c");
  now += 600 * MS;

  assert_text (doc, "xxxxxxxxxxabc");
  g_assert_true (undo (doc));
  assert_text (doc, "xxxxxxxxxxab");
  g_assert_true (undo (doc));
  assert_text (doc, "xxxxxxxxxxa");
  g_assert_true (undo (doc));
  assert_text (doc, "xxxxxxxxxx");
  g_assert_true (undo (doc));
  assert_text (doc, "");
  g_assert_false (flow_doc_can_undo (doc));

  /* And back, step by step. */
  g_assert_true (redo (doc));
  assert_text (doc, "xxxxxxxxxx");
  g_assert_true (redo (doc));
  assert_text (doc, "xxxxxxxxxxa");
  g_assert_true (redo (doc));
  g_assert_true (redo (doc));
  assert_text (doc, "xxxxxxxxxxabc");
  g_assert_false (redo (doc));
}

/* The boundary: closer than 500 ms merges, 500 ms does not. */
static void
test_text_grouping_boundary (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (doc, 0, "a");
  now += 499 * MS;
  insert (doc, 1, "b");
  now += 500 * MS;
  insert (doc, 2, "c");
  now += 10 * MS;

  g_assert_true (undo (doc));
  assert_text (doc, "ab");
  g_assert_true (undo (doc));
  assert_text (doc, "");
}

/* Typing and deleting in one step, and an explicit group spanning time. */
static void
test_text_grouping_mixed (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (doc, 0, "base ");
  now += 1000 * MS;

  /* Type, backspace, type on: one step. */
  insert (doc, 5, "hello");
  now += 100 * MS;
  delete (doc, 9, 1);
  now += 100 * MS;
  delete (doc, 8, 1);
  now += 100 * MS;
  insert (doc, 8, "p!");
  assert_text (doc, "base help!");
  now += 1000 * MS;

  /* A group is one step whatever the clock says inside it. */
  flow_doc_begin_change (doc);
  insert (doc, 0, "[");
  now += 5000 * MS;
  insert (doc, 11, "]");
  delete (doc, 1, 5);
  flow_doc_end_change (doc);
  assert_text (doc, "[help!]");
  now += 1000 * MS;

  g_assert_true (undo (doc));
  assert_text (doc, "base help!");
  g_assert_true (undo (doc));
  assert_text (doc, "base ");
  g_assert_true (redo (doc));
  assert_text (doc, "base help!");
  g_assert_true (redo (doc));
  assert_text (doc, "[help!]");
}

static void
test_text_redo_cleared (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (doc, 0, "one");
  now += 1000 * MS;
  insert (doc, 3, " two");
  now += 1000 * MS;
  g_assert_true (undo (doc));
  g_assert_true (flow_doc_can_redo (doc));

  /* A new edit drops what could be redone. */
  now += 1000 * MS;
  insert (doc, 3, "!");
  g_assert_false (flow_doc_can_redo (doc));
  g_assert_false (redo (doc));
  assert_text (doc, "one!");
  now += 1000 * MS;
  g_assert_true (undo (doc));
  assert_text (doc, "one");
  g_assert_true (undo (doc));
  assert_text (doc, "");
}

/*
 * A redo is not the user typing: keys typed right after a redo are a step
 * of their own, as in Yjs's UndoManager (CRDT.md cites it as the model),
 * whose capture window runs from the last user edit and ignores undo and
 * redo.
 */
static void
test_text_edit_after_redo (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (doc, 0, "a");
  now += 2000 * MS;
  g_assert_true (undo (doc));
  now += 100 * MS;
  g_assert_true (redo (doc));
  assert_text (doc, "a");
  now += 100 * MS;
  insert (doc, 1, "b");
  /* Keys typed on after that group again. */
  now += 100 * MS;
  insert (doc, 2, "c");
  now += 2000 * MS;

  g_assert_true (undo (doc));
  assert_text (doc, "a");
  g_assert_true (undo (doc));
  assert_text (doc, "");
  g_assert_false (undo (doc));
}

/* Only the most recent 1000 steps are kept. */
static void
test_text_limit (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);
  guint undone = 0;

  for (guint i = 0; i < 1010; i++)
    {
      insert (doc, i, "x");
      now += 600 * MS;
    }
  while (undo (doc))
    undone++;
  g_assert_cmpuint (undone, ==, 1000);
  g_assert_cmpuint (flow_doc_get_length (doc), ==, 10);
  g_assert_false (flow_doc_can_undo (doc));
}

/* ------------------------------------------------------------------------
 * Text: other replicas' work
 * ------------------------------------------------------------------------ */

/* Remote edits are never on our undo stack. */
static void
test_text_remote_not_undoable (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 2, &now);

  insert (b, 0, "theirs");
  flow_test_sync_pair (a, b);
  g_assert_false (flow_doc_can_undo (a));
  g_assert_false (undo (a));
  assert_text (a, "theirs");

  now += 1000 * MS;
  insert (a, 6, " mine");
  now += 1000 * MS;
  insert (b, 0, "> ");
  flow_test_sync_pair (a, b);
  assert_text (a, "> theirs mine");
  g_assert_true (undo (a));
  assert_text (a, "> theirs");
  g_assert_false (undo (a));
  flow_test_sync_pair (a, b);
  assert_text (b, "> theirs");
}

/* Text another replica typed inside the range we undo survives; redo puts
 * our text back around it. */
static void
test_text_remote_inside_insert (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 2, &now);

  insert (a, 0, "hello world");
  flow_test_sync_pair (a, b);
  insert (b, 5, "XX");
  insert (b, 0, "<");
  flow_test_sync_pair (a, b);
  assert_text (a, "<helloXX world");

  now += 1000 * MS;
  g_assert_true (undo (a));
  assert_text (a, "<XX");
  flow_test_sync_pair (a, b);
  assert_text (b, "<XX");

  now += 1000 * MS;
  g_assert_true (redo (a));
  assert_text (a, "<helloXX world");
  flow_test_sync_pair (a, b);
  assert_text (b, "<helloXX world");
}

/* Undoing a delete types the text again where it was, even though others
 * edited around it, and inside it, meanwhile. */
static void
test_text_delete_restore (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 0x10, &now);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 0x20, &now);
  g_autoptr(FlowDoc) c = NULL;

  insert (a, 0, "hello world");
  now += 1000 * MS;
  flow_test_sync_pair (a, b);
  c = clone_doc (a, 0x30, &now);

  delete (a, 6, 5);
  insert (b, 6, "big ");
  insert (b, 15, "!");
  insert (c, 9, "X");
  flow_test_sync_pair (a, b);
  flow_test_sync_pair (a, c);
  flow_test_sync_pair (b, c);
  assert_text (a, "hello big X!");

  now += 1000 * MS;
  g_assert_true (undo (a));
  assert_text (a, "hello big worXld!");
  flow_test_sync_pair (a, b);
  flow_test_sync_pair (a, c);
  assert_text (b, "hello big worXld!");
  assert_text (c, "hello big worXld!");

  /* Redo deletes what undo typed again, not the others' text. */
  now += 1000 * MS;
  g_assert_true (redo (a));
  assert_text (a, "hello big X!");
  now += 1000 * MS;
  g_assert_true (undo (a));
  assert_text (a, "hello big worXld!");
}

/* Visible chars in document order, plus the tombstones in @restored. */
typedef struct
{
  FlowDoc    *doc;
  GHashTable *restored;
  GString    *out;
} Oracle;

static void
oracle_cb (FlowLv   lv,
           guint32  len,
           gboolean deleted,
           gpointer data)
{
  Oracle *o = data;

  for (guint32 k = 0; k < len; k++)
    if (!deleted || g_hash_table_contains (o->restored, GUINT_TO_POINTER (lv + k)))
      {
        gsize off = flow_text_byte_offset (o->doc->text, lv + k);
        const char *p = flow_text_content (o->doc->text, (guint32) off);

        g_string_append_len (o->out, p, g_utf8_next_char (p) - p);
      }
}

/* Random text by two replicas; a deletes ranges in one step while b edits
 * concurrently, and after seeing the delete. Undo must make every char a
 * deleted visible again exactly in its tombstone's place: the text is the
 * document order with those tombstones shown. */
static void
test_text_restore_in_place (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_iter = flow_test_iterations ("FLOW_UNDO_ITERATIONS", 30) * 10;
  static const char *pieces[] = { "ab", "é", "日本", "😀", " ", "xyz" };

  for (guint iter = 0; iter < n_iter; iter++)
    {
      gint64 now = 0;
      /* a's replica id is below b's or above it: ties break both ways. */
      g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 0x10 + iter % 2 * 0x20, &now);
      g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 0x20, &now);
      g_autoptr(GHashTable) restored = g_hash_table_new (NULL, NULL);
      g_autoptr(GString) expected = g_string_new (NULL);
      g_autofree char *deleted_text = NULL;
      g_autoptr(GString) mirror = mirror_new (a);
      Oracle oracle = { a, restored, expected };
      FlowLv before;

      for (guint i = 0; i < 12; i++)
        {
          FlowDoc *doc = g_rand_boolean (rand) ? a : b;

          insert (doc, (guint) g_rand_int_range (rand, 0, (gint) flow_doc_get_length (doc) + 1),
                  pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          if (g_rand_int_range (rand, 0, 3) == 0)
            flow_test_sync_pair (a, b);
          now += 1000 * MS;
        }
      flow_test_sync_pair (a, b);

      /* One step of deletes on a. */
      before = a->log->len;
      for (guint i = (guint) g_rand_int_range (rand, 1, 4); i > 0; i--)
        {
          guint len = flow_doc_get_length (a);
          guint pos;

          if (len == 0)
            break;
          pos = (guint) g_rand_int_range (rand, 0, (gint) len);
          delete (a, pos, (guint) g_rand_int_range (rand, 1, (gint) MIN (len - pos, 8) + 1));
          now += 100 * MS;
        }
      now += 1000 * MS;
      for (FlowLv lv = before; lv < a->log->len; lv++)
        {
          const FlowTextOp *op = flow_text_find_op (a->text, lv);
          FlowLv target = op->reversed ? op->a - (lv - op->lv) : op->a + (lv - op->lv);

          g_assert_cmpuint (op->kind, ==, FLOW_TEXT_OP_DELETE);
          g_hash_table_add (restored, GUINT_TO_POINTER (target));
        }

      /* b edits concurrently, then next to the tombstones. */
      for (guint round = 0; round < 2; round++)
        {
          for (guint i = (guint) g_rand_int_range (rand, 0, 4); i > 0; i--)
            {
              guint len = flow_doc_get_length (b);

              if (len > 0 && g_rand_boolean (rand))
                delete (b, (guint) g_rand_int_range (rand, 0, (gint) len), 1);
              else
                insert (b, (guint) g_rand_int_range (rand, 0, (gint) len + 1), "B");
            }
          flow_test_sync_pair (a, b);
        }
      deleted_text = flow_doc_dup_text (a);

      flow_text_visit_order (a->text, oracle_cb, &oracle);
      g_assert_true (undo (a));
      assert_text (a, expected->str);
      flow_test_sync_pair (a, b);
      assert_text (b, expected->str);

      /* Redo deletes exactly the copies; undoing again brings them back
       * in place once more. */
      g_assert_true (redo (a));
      assert_text (a, deleted_text);
      g_assert_true (undo (a));
      assert_text (a, expected->str);
      flow_test_sync_pair (a, b);
      flow_test_assert_same (a, b);
    }
}

/*
 * Regression: revert_text_delete() (flow-undo.c) used to type deleted
 * chars again in LV order, each at the visible position of its tombstone,
 * where a local insert goes right after the visible char before it, ahead
 * of any tombstones there. When chars were typed out of document order
 * ("world", then "hello " in front of it), the first char it brought back
 * landed ahead of the tombstones of chars that precede it: deleting the
 * line and undoing gave "worldhello ".
 */
static void
test_text_restore_order_delete (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (doc, 0, "world");
  now += 1000 * MS;
  insert (doc, 0, "hello ");
  now += 1000 * MS;
  delete (doc, 0, 11);
  now += 1000 * MS;

  g_assert_true (undo (doc));
  assert_text (doc, "hello world");
  g_assert_true (redo (doc));
  assert_text (doc, "");
}

/* The same flaw through redo: undo of an insert deletes by LV range, and
 * redo typed the chars again in LV order. */
static void
test_text_restore_order_redo (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  /* "x", then "a" before it, in one step. */
  insert (doc, 0, "x");
  now += 100 * MS;
  insert (doc, 0, "a");
  now += 1000 * MS;
  assert_text (doc, "ax");

  g_assert_true (undo (doc));
  assert_text (doc, "");
  g_assert_true (redo (doc));
  assert_text (doc, "ax");
  g_assert_true (undo (doc));
  assert_text (doc, "");
}

/* The same flaw with nothing but typing at the end: type "xca" and
 * backspace, undo twice, redo gave "axc". Undoing the typing deleted x, c
 * and the a that the first undo brought back, as two records; redo
 * restored the later record first, at position 0, and x and c after it. */
static void
test_text_restore_order_typing (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (doc, 0, "x");
  insert (doc, 1, "c");
  insert (doc, 2, "a");
  now += 1000 * MS;
  delete (doc, 2, 1);
  now += 1000 * MS;

  g_assert_true (undo (doc));
  assert_text (doc, "xca");
  g_assert_true (undo (doc));
  assert_text (doc, "");
  g_assert_true (redo (doc));
  assert_text (doc, "xca");
  g_assert_true (redo (doc));
  assert_text (doc, "xc");
}

/* Backspacing, then undo: the chars come back in order. */
static void
test_text_delete_backspace (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);

  insert (a, 0, "abcdéf");
  now += 1000 * MS;
  for (guint i = 6; i > 1; i--)
    {
      delete (a, i - 1, 1);
      now += 50 * MS;
    }
  assert_text (a, "a");
  now += 1000 * MS;
  g_assert_true (undo (a));
  assert_text (a, "abcdéf");
  g_assert_true (redo (a));
  assert_text (a, "a");
}

/* Each delete op made by @doc between LVs [@from, end) targets a char
 * that @doc itself inserted: undo and redo never delete others' text. */
static void
assert_deletes_own_text (FlowDoc *doc,
                         FlowLv   from)
{
  FlowReplicaId me = flow_doc_get_replica (doc);

  for (FlowLv lv = from; lv < doc->log->len; lv++)
    {
      const FlowTextOp *op = flow_text_find_op (doc->text, lv);
      FlowOpId id = flow_oplog_lv_to_op_id (doc->log, lv);
      FlowLv target;
      FlowOpId target_id;

      g_assert_nonnull (op);
      g_assert_cmpuint (id.replica, ==, me);
      if (op->kind != FLOW_TEXT_OP_DELETE)
        continue;
      target = op->reversed ? op->a - (lv - op->lv) : op->a + (lv - op->lv);
      target_id = flow_oplog_lv_to_op_id (doc->log, target);
      g_assert_cmpuint (target_id.replica, ==, me);
    }
}

/* Random concurrent editing with undo and redo on every replica: undo and
 * redo only ever delete the undoer's own chars, and replicas converge. */
static void
test_text_concurrent_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_iter = flow_test_iterations ("FLOW_UNDO_ITERATIONS", 30);

  for (guint iter = 0; iter < n_iter; iter++)
    {
      gint64 now = 0;
      FlowDoc *replicas[3];

      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        replicas[i] = new_doc (FLOW_DOC_KIND_PAGE, 0x100 + i, &now);

      for (guint step = 0; step < 80; step++)
        {
          FlowDoc *doc = replicas[g_rand_int_range (rand, 0, G_N_ELEMENTS (replicas))];
          guint len = flow_doc_get_length (doc);
          guint what = (guint) g_rand_int_range (rand, 0, 12);
          FlowLv before = doc->log->len;

          now += g_rand_boolean (rand) ? 100 * MS : 700 * MS;
          if (what < 4 || len == 0)
            insert (doc, (guint) g_rand_int_range (rand, 0, (gint) len + 1),
                    g_rand_boolean (rand) ? "àéî" : "日本");
          else if (what < 6)
            {
              guint pos = (guint) g_rand_int_range (rand, 0, (gint) len);

              delete (doc, pos, (guint) g_rand_int_range (rand, 1, (gint) MIN (len - pos, 4) + 1));
            }
          else if (what < 8)
            {
              undo (doc);
              assert_deletes_own_text (doc, before);
            }
          else if (what < 10)
            {
              redo (doc);
              assert_deletes_own_text (doc, before);
            }
          else
            flow_test_sync_pair (doc, replicas[g_rand_int_range (rand, 0, 3)]);
        }

      for (guint round = 0; round < 2; round++)
        for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
          for (guint j = i + 1; j < G_N_ELEMENTS (replicas); j++)
            flow_test_sync_pair (replicas[i], replicas[j]);
      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        {
          flow_test_assert_same (replicas[0], replicas[i]);
          flow_text_check (replicas[i]->text);
          g_assert_cmpuint (flow_doc_get_n_pending (replicas[i]), ==, 0);
        }
      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        g_object_unref (replicas[i]);
    }
}

/* ------------------------------------------------------------------------
 * Text: exact round trips without concurrency
 * ------------------------------------------------------------------------ */

/*
 * One scenario: random steps of edits on one replica, then undo all the
 * way back, redo all the way forward, and back and forth. Every state must
 * come back exactly, chars in order (see test_text_restore_order_delete()).
 * Half the scenarios start from text another replica typed, which undo
 * must leave as it was.
 */
static void
run_round_trip (GRand *rand,
                guint  n_steps)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = NULL;
  g_autoptr(GString) mirror = NULL;
  g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
  static const char *pieces[] = { "a", "bc", "é", "日本", "😀", " ", "\n", "xyz" };

  if (g_rand_boolean (rand))
    {
      g_autoptr(FlowDoc) other = new_doc (FLOW_DOC_KIND_PAGE, 2, &now);

      insert (other, 0, "theirs");
      insert (other, 3, "日本");
      doc = clone_doc (other, 1, &now);
    }
  else
    doc = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);
  mirror = mirror_new (doc);

  g_ptr_array_add (states, flow_doc_dup_text (doc));
  for (guint step = 0; step < n_steps; step++)
    {
      guint n_edits = (guint) g_rand_int_range (rand, 1, 4);

      /* Several edits 100 ms apart form the step; then a pause. */
      for (guint e = 0; e < n_edits; e++)
        {
          guint len = flow_doc_get_length (doc);

          if (len > 0 && g_rand_int_range (rand, 0, 3) == 0)
            {
              guint pos = (guint) g_rand_int_range (rand, 0, (gint) len);

              delete (doc, pos, (guint) g_rand_int_range (rand, 1, (gint) MIN (len - pos, 6) + 1));
            }
          else
            insert (doc, (guint) g_rand_int_range (rand, 0, (gint) len + 1),
                    pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          now += 100 * MS;
        }
      now += 900 * MS;
      g_ptr_array_add (states, flow_doc_dup_text (doc));
    }

  for (guint i = n_steps; i > 0; i--)
    {
      g_assert_true (undo (doc));
      assert_text (doc, g_ptr_array_index (states, i - 1));
      now += 10 * MS;
    }
  g_assert_false (flow_doc_can_undo (doc));
  for (guint i = 1; i <= n_steps; i++)
    {
      g_assert_true (redo (doc));
      assert_text (doc, g_ptr_array_index (states, i));
      now += 10 * MS;
    }
  g_assert_false (flow_doc_can_redo (doc));
  for (guint k = 0; k < 10; k++)
    {
      guint back = (guint) g_rand_int_range (rand, 1, (gint) n_steps + 1);

      for (guint i = 0; i < back; i++)
        g_assert_true (undo (doc));
      assert_text (doc, g_ptr_array_index (states, n_steps - back));
      for (guint i = 0; i < back; i++)
        g_assert_true (redo (doc));
      assert_text (doc, g_ptr_array_index (states, n_steps));
    }
}

static void
test_text_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_scenarios = flow_test_iterations ("FLOW_UNDO_SCENARIOS", 1000);

  /* Many short scenarios rather than one long one: most bugs show within
   * a few steps, and short ones are easy to read when one fails. */
  for (guint i = 0; i < n_scenarios; i++)
    run_round_trip (rand, (guint) g_rand_int_range (rand, 1, 12));
}

/* ------------------------------------------------------------------------
 * Boards
 * ------------------------------------------------------------------------ */

static void
test_board_set (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
  g_autoptr(GArray) live = NULL;
  FlowOpId id;

  flow_doc_begin_change (doc);
  id = create (doc, "rect");
  set_number (doc, &id, "x", 1);
  set_number (doc, &id, "y", 1);
  flow_doc_end_change (doc);
  now += 1000 * MS;
  set_number (doc, &id, "x", 3);
  now += 100 * MS;
  set_number (doc, &id, "y", 3);
  now += 1000 * MS;

  g_assert_true (undo (doc));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 1);
  g_assert_cmpfloat (get_number (doc, &id, "y"), ==, 1);

  /* Undoing the create deletes the shape (and unsets what it set). */
  g_assert_true (undo (doc));
  g_assert_true (flow_doc_entity_is_deleted (doc, &id));
  g_assert_true (flow_doc_has_entity (doc, &id));
  live = flow_doc_list_entities (doc, FALSE);
  g_assert_cmpuint (live->len, ==, 0);
  g_assert_false (undo (doc));

  g_assert_true (redo (doc));
  g_assert_false (flow_doc_entity_is_deleted (doc, &id));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 1);
  g_assert_cmpfloat (get_number (doc, &id, "y"), ==, 1);
  g_assert_true (redo (doc));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 3);
  g_assert_cmpfloat (get_number (doc, &id, "y"), ==, 3);
  g_assert_false (redo (doc));
}

/*
 * Regression. Dragging a shape writes x many times within one undo step.
 * flow-undo.c flow_undo_run() reverts the step's records newest first, and
 * revert_map_set() restores only while our write still wins its register.
 * It used to revert the newest write to the value of the write before it,
 * which made the restore op the winner, so every older write of the key
 * was skipped: undo moved the shape back by one mouse move, not to where
 * the drag started.
 */
static void
test_board_same_key_twice (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
  FlowOpId id;
  guint64 n_ops;

  flow_doc_begin_change (doc);
  id = create (doc, "rect");
  set_number (doc, &id, "x", 0);
  flow_doc_end_change (doc);
  now += 1000 * MS;

  /* A drag: ten moves 16 ms apart, one step. */
  for (guint i = 1; i <= 10; i++)
    {
      set_number (doc, &id, "x", 10 * i);
      now += 16 * MS;
    }
  now += 1000 * MS;

  /* One write per key, each way. */
  n_ops = flow_doc_get_n_ops (doc);
  g_assert_true (undo (doc));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 0);
  g_assert_false (flow_doc_entity_is_deleted (doc, &id));
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops + 1);
  g_assert_true (redo (doc));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 100);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops + 2);
  g_assert_true (undo (doc));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 0);
}

/*
 * Moving a shape twice, in two steps, then undoing twice takes it back to
 * where it started. The first undo's write wins the register, so the
 * second undo must treat it as standing for the first move; it used to
 * skip the move and undo the step before instead (deleting the shape).
 * Likewise for deleting and undeleting a shape just created.
 */
static void
test_board_same_key_steps (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
  FlowOpId id;

  id = create (doc, "rect");
  now += 1000 * MS;
  set_number (doc, &id, "x", 1);
  now += 1000 * MS;
  set_number (doc, &id, "x", 2);
  now += 1000 * MS;
  set_deleted (doc, &id, TRUE);
  now += 1000 * MS;

  for (guint round = 0; round < 2; round++)
    {
      g_assert_true (undo (doc));
      g_assert_false (flow_doc_entity_is_deleted (doc, &id));
      g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 2);
      g_assert_true (undo (doc));
      g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 1);
      g_assert_true (undo (doc));
      g_assert_cmpfloat (get_number (doc, &id, "x"), ==, -1);
      g_assert_false (flow_doc_entity_is_deleted (doc, &id));
      g_assert_true (undo (doc));
      g_assert_true (flow_doc_entity_is_deleted (doc, &id));
      g_assert_false (undo (doc));

      g_assert_true (redo (doc));
      g_assert_false (flow_doc_entity_is_deleted (doc, &id));
      g_assert_true (redo (doc));
      g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 1);
      g_assert_true (redo (doc));
      g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 2);
      g_assert_true (redo (doc));
      g_assert_true (flow_doc_entity_is_deleted (doc, &id));
      g_assert_false (redo (doc));
    }
}

/* A step that creates a shape and writes its keys, "deleted" included,
 * several times: undo deletes the shape and unsets what the step set. */
static void
test_board_same_key_create (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
  FlowOpId id;
  guint64 n_ops;

  flow_doc_begin_change (doc);
  id = create (doc, "rect");
  set_number (doc, &id, "x", 1);
  set_deleted (doc, &id, TRUE);
  set_number (doc, &id, "x", 2);
  set_deleted (doc, &id, FALSE);
  flow_doc_end_change (doc);
  now += 1000 * MS;

  n_ops = flow_doc_get_n_ops (doc);
  g_assert_true (undo (doc));
  g_assert_true (flow_doc_entity_is_deleted (doc, &id));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, -1);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops + 2);
  g_assert_true (redo (doc));
  g_assert_false (flow_doc_entity_is_deleted (doc, &id));
  g_assert_cmpfloat (get_number (doc, &id, "x"), ==, 2);
}

/* A drag someone else overwrote after seeing it stays theirs; a drag that
 * beat a concurrent write goes back to where it started. */
static void
test_board_same_key_remote (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 0x20, &now);
  g_autoptr(FlowDoc) b = NULL;
  FlowOpId id;

  flow_doc_begin_change (a);
  id = create (a, "rect");
  set_number (a, &id, "x", 0);
  set_number (a, &id, "y", 0);
  flow_doc_end_change (a);
  now += 1000 * MS;
  b = clone_doc (a, 0x10, &now);

  /* b writes y concurrently (it loses: fewer writes, lower lamport). */
  set_number (b, &id, "y", 99);
  flow_doc_begin_change (a);
  for (guint i = 1; i <= 5; i++)
    {
      set_number (a, &id, "x", 10 * i);
      set_number (a, &id, "y", 10 * i);
    }
  flow_doc_end_change (a);
  now += 1000 * MS;
  flow_test_sync_pair (a, b);
  g_assert_cmpfloat (get_number (a, &id, "y"), ==, 50);

  /* Then b moves x after seeing the drag: it wins. */
  set_number (b, &id, "x", 7);
  flow_test_sync_pair (a, b);

  g_assert_true (undo (a));
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 7);
  g_assert_cmpfloat (get_number (a, &id, "y"), ==, 0);
  flow_test_sync_pair (a, b);
  g_assert_cmpfloat (get_number (b, &id, "x"), ==, 7);
  g_assert_cmpfloat (get_number (b, &id, "y"), ==, 0);
}

/* The state of the first @n shapes of @ids, and that the others are as
 * good as never created. */
static char *
board_state (FlowDoc *doc,
             GArray  *ids,
             guint    n)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < ids->len; i++)
    {
      const FlowOpId *id = &g_array_index (ids, FlowOpId, i);
      gboolean deleted = flow_doc_entity_is_deleted (doc, id);
      double x = get_number (doc, id, "x");
      double y = get_number (doc, id, "y");

      if (i < n)
        g_string_append_printf (out, "%d %g %g; ", deleted, x, y);
      else
        g_assert_true (deleted && x == -1 && y == -1);
    }
  return g_string_free (out, FALSE);
}

static void
assert_board_state (FlowDoc    *doc,
                    GArray     *ids,
                    GPtrArray  *states,
                    GArray     *n_ids,
                    guint       step)
{
  g_autofree char *state = board_state (doc, ids, g_array_index (n_ids, guint, step));

  g_assert_cmpstr (state, ==, g_ptr_array_index (states, step));
}

/* Random steps of creates, moves (often one key many times) and deletes on
 * one replica: undoing every step, redoing them all, and going back and
 * forth gives back each state exactly. */
static void
test_board_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_scenarios = flow_test_iterations ("FLOW_UNDO_SCENARIOS", 1000) / 5;

  for (guint scenario = 0; scenario < n_scenarios; scenario++)
    {
      gint64 now = 0;
      g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
      g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
      g_autoptr(GArray) n_ids = g_array_new (FALSE, FALSE, sizeof (guint));
      g_autoptr(GPtrArray) states = g_ptr_array_new_with_free_func (g_free);
      guint n_steps = (guint) g_rand_int_range (rand, 1, 10);

      g_array_append_val (n_ids, ids->len);
      g_ptr_array_add (states, board_state (doc, ids, 0));
      for (guint step = 0; step < n_steps; step++)
        {
          for (guint e = (guint) g_rand_int_range (rand, 1, 6); e > 0; e--)
            {
              guint what = (guint) g_rand_int_range (rand, 0, 10);

              if (what < 2 || ids->len == 0)
                {
                  FlowOpId id = create (doc, "rect");

                  g_array_append_val (ids, id);
                }
              else
                {
                  const FlowOpId *id = &g_array_index (ids, FlowOpId,
                                                       g_rand_int_range (rand, 0, (gint) ids->len));

                  if (what < 8)
                    set_number (doc, id, g_rand_boolean (rand) ? "x" : "y",
                                g_rand_int_range (rand, 0, 5));
                  else
                    set_deleted (doc, id, g_rand_boolean (rand));
                }
              now += 16 * MS;
            }
          now += 1000 * MS;
          g_array_append_val (n_ids, ids->len);
          g_ptr_array_add (states, board_state (doc, ids, ids->len));
        }

      /* A step may change nothing visible (x = 3 twice), but it always
       * makes ops, so each undo and redo finds something to do. */
      for (guint i = n_steps; i > 0; i--)
        {
          g_assert_true (undo (doc));
          assert_board_state (doc, ids, states, n_ids, i - 1);
        }
      g_assert_false (undo (doc));
      for (guint i = 1; i <= n_steps; i++)
        {
          g_assert_true (redo (doc));
          assert_board_state (doc, ids, states, n_ids, i);
        }
      g_assert_false (redo (doc));
      for (guint k = 0; k < 5; k++)
        {
          guint back = (guint) g_rand_int_range (rand, 1, (gint) n_steps + 1);

          for (guint i = 0; i < back; i++)
            g_assert_true (undo (doc));
          assert_board_state (doc, ids, states, n_ids, n_steps - back);
          for (guint i = 0; i < back; i++)
            g_assert_true (redo (doc));
          assert_board_state (doc, ids, states, n_ids, n_steps);
        }
    }
}

static void
test_board_delete (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
  g_autoptr(FlowDoc) b = NULL;
  FlowOpId id;

  id = create (a, "ellipse");
  set_number (a, &id, "x", 5);
  now += 1000 * MS;
  b = clone_doc (a, 2, &now);

  set_deleted (a, &id, TRUE);
  now += 1000 * MS;
  flow_test_sync_pair (a, b);
  g_assert_true (flow_doc_entity_is_deleted (b, &id));

  g_assert_true (undo (a));
  g_assert_false (flow_doc_entity_is_deleted (a, &id));
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 5);
  flow_test_sync_pair (a, b);
  g_assert_false (flow_doc_entity_is_deleted (b, &id));

  g_assert_true (redo (a));
  g_assert_true (flow_doc_entity_is_deleted (a, &id));
  flow_test_sync_pair (a, b);
  g_assert_true (flow_doc_entity_is_deleted (b, &id));
}

/* Undo restores the old value only while our write is the register's
 * winner: not after someone overwrote it, but yes if a concurrent write
 * lost to ours. */
static void
test_board_overwritten (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 0x20, &now);
  g_autoptr(FlowDoc) b = NULL;
  FlowOpId id;

  flow_doc_begin_change (a);
  id = create (a, "rect");
  set_number (a, &id, "x", 1);
  set_number (a, &id, "y", 1);
  set_number (a, &id, "w", 1);
  flow_doc_end_change (a);
  now += 1000 * MS;
  b = clone_doc (a, 0x10, &now);

  /* One step writes x, y and w. */
  flow_doc_begin_change (a);
  set_number (a, &id, "x", 2);
  set_number (a, &id, "y", 2);
  set_number (a, &id, "w", 2);
  flow_doc_end_change (a);
  now += 1000 * MS;

  /* b writes y after seeing our write (it wins, later), and w at the
   * same time as ours (it loses: same lamport, lower replica). */
  set_number (b, &id, "w", 9);
  flow_test_sync_pair (a, b);
  set_number (b, &id, "y", 7);
  flow_test_sync_pair (a, b);
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 2);
  g_assert_cmpfloat (get_number (a, &id, "y"), ==, 7);
  g_assert_cmpfloat (get_number (a, &id, "w"), ==, 2);

  g_assert_true (undo (a));
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 1);
  g_assert_cmpfloat (get_number (a, &id, "y"), ==, 7);
  g_assert_cmpfloat (get_number (a, &id, "w"), ==, 1);
  flow_test_sync_pair (a, b);
  g_assert_cmpfloat (get_number (b, &id, "x"), ==, 1);
  g_assert_cmpfloat (get_number (b, &id, "y"), ==, 7);
  g_assert_cmpfloat (get_number (b, &id, "w"), ==, 1);

  /* Redo brings back ours where the undo's write still wins. */
  now += 1000 * MS;
  g_assert_true (redo (a));
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 2);
  g_assert_cmpfloat (get_number (a, &id, "y"), ==, 7);
  g_assert_cmpfloat (get_number (a, &id, "w"), ==, 2);
}

/* A step whose only write was overwritten changes nothing: undo skips it
 * and undoes the step before. */
static void
test_board_overwritten_skip (void)
{
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 0x10, &now);
  g_autoptr(FlowDoc) b = NULL;
  FlowOpId id;
  FlowOpId other;

  id = create (a, "rect");
  now += 1000 * MS;
  other = create (a, "rect");
  now += 1000 * MS;
  b = clone_doc (a, 0x20, &now);
  set_number (a, &id, "x", 2);
  now += 1000 * MS;
  /* Concurrent, and b's replica is higher: b wins. */
  set_number (b, &id, "x", 3);
  flow_test_sync_pair (a, b);
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 3);

  g_assert_true (undo (a));
  g_assert_cmpfloat (get_number (a, &id, "x"), ==, 3);
  g_assert_false (flow_doc_entity_is_deleted (a, &id));
  g_assert_true (flow_doc_entity_is_deleted (a, &other));
}

/* ------------------------------------------------------------------------
 * Undo and redo sync
 * ------------------------------------------------------------------------ */

static void
forward_cb (FlowDoc    *doc,
            FlowChange *change,
            gpointer    user_data)
{
  FlowDoc *peer = user_data;

  if (flow_change_is_local (change))
    apply (peer, flow_change_get_bytes (change));
}

static void
test_sync_text (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 1, &now);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 2, &now);

  /* Every change a makes, undo and redo included, goes to b as it is
   * made. */
  flow_doc_add_change_func (a, forward_cb, b, NULL);
  for (guint step = 0; step < 400; step++)
    {
      guint len = flow_doc_get_length (a);
      guint what = (guint) g_rand_int_range (rand, 0, 10);
      g_autofree char *ta = NULL;
      g_autofree char *tb = NULL;

      now += g_rand_boolean (rand) ? 100 * MS : 800 * MS;
      if (what < 4 || len == 0)
        insert (a, (guint) g_rand_int_range (rand, 0, (gint) len + 1), "日本語");
      else if (what < 6)
        delete (a, (guint) g_rand_int_range (rand, 0, (gint) len), 1);
      else if (what < 8)
        undo (a);
      else
        redo (a);

      ta = flow_doc_dup_text (a);
      tb = flow_doc_dup_text (b);
      g_assert_cmpstr (ta, ==, tb);
    }
  flow_test_assert_same (a, b);
  flow_text_check (b->text);
  g_assert_cmpuint (flow_doc_get_n_pending (b), ==, 0);
}

static void
test_sync_board (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  gint64 now = 0;
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 1, &now);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_BOARD, 2, &now);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (FlowOpId));

  flow_doc_add_change_func (a, forward_cb, b, NULL);
  for (guint step = 0; step < 300; step++)
    {
      guint what = (guint) g_rand_int_range (rand, 0, 10);

      now += g_rand_boolean (rand) ? 100 * MS : 800 * MS;
      if (what < 2 || ids->len == 0)
        {
          FlowOpId id = create (a, "rect");

          g_array_append_val (ids, id);
        }
      else if (what < 5)
        set_number (a, &g_array_index (ids, FlowOpId, g_rand_int_range (rand, 0, (gint) ids->len)),
                    g_rand_boolean (rand) ? "x" : "y", step);
      else if (what < 6)
        set_deleted (a, &g_array_index (ids, FlowOpId, g_rand_int_range (rand, 0, (gint) ids->len)),
                     g_rand_boolean (rand));
      else if (what < 8)
        undo (a);
      else
        redo (a);

      for (guint i = 0; i < ids->len; i++)
        {
          const FlowOpId *id = &g_array_index (ids, FlowOpId, i);

          g_assert_cmpfloat (get_number (a, id, "x"), ==, get_number (b, id, "x"));
          g_assert_cmpfloat (get_number (a, id, "y"), ==, get_number (b, id, "y"));
          g_assert_cmpint (flow_doc_entity_is_deleted (a, id), ==,
                           flow_doc_entity_is_deleted (b, id));
        }
    }
  flow_test_assert_same (a, b);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/undo/text/basic", test_text_basic);
  g_test_add_func ("/flow/undo/text/grouping", test_text_grouping);
  g_test_add_func ("/flow/undo/text/grouping/boundary", test_text_grouping_boundary);
  g_test_add_func ("/flow/undo/text/grouping/mixed", test_text_grouping_mixed);
  g_test_add_func ("/flow/undo/text/redo-cleared", test_text_redo_cleared);
  g_test_add_func ("/flow/undo/text/edit-after-redo", test_text_edit_after_redo);
  g_test_add_func ("/flow/undo/text/limit", test_text_limit);
  g_test_add_func ("/flow/undo/text/remote/not-undoable", test_text_remote_not_undoable);
  g_test_add_func ("/flow/undo/text/remote/inside-insert", test_text_remote_inside_insert);
  g_test_add_func ("/flow/undo/text/remote/delete-restore", test_text_delete_restore);
  g_test_add_func ("/flow/undo/text/remote/random", test_text_concurrent_random);
  g_test_add_func ("/flow/undo/text/remote/restore-in-place", test_text_restore_in_place);
  g_test_add_func ("/flow/undo/text/backspace", test_text_delete_backspace);
  g_test_add_func ("/flow/undo/text/round-trip", test_text_round_trip);
  g_test_add_func ("/flow/undo/text/restore-order/undo-delete", test_text_restore_order_delete);
  g_test_add_func ("/flow/undo/text/restore-order/redo-insert", test_text_restore_order_redo);
  g_test_add_func ("/flow/undo/text/restore-order/typing", test_text_restore_order_typing);
  g_test_add_func ("/flow/undo/board/set", test_board_set);
  g_test_add_func ("/flow/undo/board/same-key-twice", test_board_same_key_twice);
  g_test_add_func ("/flow/undo/board/same-key-twice/create", test_board_same_key_create);
  g_test_add_func ("/flow/undo/board/same-key-twice/steps", test_board_same_key_steps);
  g_test_add_func ("/flow/undo/board/same-key-twice/remote", test_board_same_key_remote);
  g_test_add_func ("/flow/undo/board/round-trip", test_board_round_trip);
  g_test_add_func ("/flow/undo/board/delete", test_board_delete);
  g_test_add_func ("/flow/undo/board/overwritten", test_board_overwritten);
  g_test_add_func ("/flow/undo/board/overwritten/skip", test_board_overwritten_skip);
  g_test_add_func ("/flow/undo/sync/text", test_sync_text);
  g_test_add_func ("/flow/undo/sync/board", test_sync_board);

  return g_test_run ();
}
