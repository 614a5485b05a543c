/* test-text.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * The text CRDT of pages (CRDT.md sections 1.1 and 7): local edits against
 * a plain string oracle with the B-tree invariants checked as we go, the
 * non-interleaving golden cases in every delivery order, order independence
 * of concurrent batches, the text edits reported to listeners, concurrent
 * deletes, and argument errors.
 */

#include "config.h"

#include <string.h>

#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-test-util.h"

static const FlowOpId page_id = { 0, 0 };

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static FlowDoc *
new_page (FlowReplicaId replica)
{
  return flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, replica);
}

static void
apply (FlowDoc *doc,
       GBytes  *bytes)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_apply (doc, bytes, &error));
  g_assert_no_error (error);
}

/* A new replica holding everything @doc has. */
static FlowDoc *
clone_page (FlowDoc       *doc,
            FlowReplicaId  replica)
{
  FlowDoc *copy = new_page (replica);
  g_autoptr(GBytes) bytes = flow_doc_encode_since (doc, NULL);

  if (bytes != NULL)
    apply (copy, bytes);
  g_assert_cmpuint (flow_doc_get_n_pending (copy), ==, 0);
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

/* Asserts @doc's text is @expected and its tree is sound. */
static void
assert_text (FlowDoc    *doc,
             const char *expected)
{
  g_autofree char *text = flow_doc_dup_text (doc);

  g_assert_cmpstr (text, ==, expected);
  g_assert_cmpuint (flow_doc_get_length (doc), ==, g_utf8_strlen (expected, -1));
  flow_text_check (doc->text);
}

static void
oracle_insert (GString    *s,
               guint       pos,
               const char *text,
               gssize      len)
{
  gsize at = (gsize) (g_utf8_offset_to_pointer (s->str, pos) - s->str);

  g_string_insert_len (s, (gssize) at, text, len);
}

static void
oracle_delete (GString *s,
               guint    pos,
               guint    n)
{
  const char *from = g_utf8_offset_to_pointer (s->str, pos);
  const char *to = g_utf8_offset_to_pointer (from, n);

  g_string_erase (s, from - s->str, to - from);
}

typedef enum
{
  TEXT_ASCII,     /* a-z only */
  TEXT_MIXED,     /* ASCII and non-ASCII, with at least one non-ASCII char */
  TEXT_NON_ASCII, /* 2-, 3- and 4-byte chars and a combining mark only */
} TextKind;

/*
 * 1-6 code points of @kind. The combining mark is a code point of its own.
 * Typed key by key, mixed text alternates ASCII and non-ASCII op runs,
 * which flow-text.c never merges (see test_sync_mixed_keystrokes()).
 */
static char *
random_text (GRand    *rand,
             TextKind  kind)
{
  static const char *ascii[] = { "a", "b", "c", "x", " ", "\n" };
  static const char *non_ascii[] = { "é", "日", "本", "😀", "\xcc\x81", "ß", "Ω" };
  GString *s = g_string_new (NULL);
  guint n = (guint) g_rand_int_range (rand, 1, 7);
  guint forced = (guint) g_rand_int_range (rand, 0, (gint) n);

  for (guint i = 0; i < n; i++)
    {
      gboolean use_ascii;

      switch (kind)
        {
        case TEXT_ASCII:
          use_ascii = TRUE;
          break;
        case TEXT_NON_ASCII:
          use_ascii = FALSE;
          break;
        case TEXT_MIXED:
        default:
          use_ascii = i != forced && g_rand_boolean (rand);
          break;
        }
      if (use_ascii)
        g_string_append (s, ascii[g_rand_int_range (rand, 0, G_N_ELEMENTS (ascii))]);
      else
        g_string_append (s, non_ascii[g_rand_int_range (rand, 0, G_N_ELEMENTS (non_ascii))]);
    }
  return g_string_free (s, FALSE);
}

/* ASCII only, or any kind of text. */
static char *
random_text_for (GRand    *rand,
                 gboolean  ascii)
{
  return random_text (rand, ascii ? TEXT_ASCII : (TextKind) g_rand_int_range (rand, 0, 3));
}

/* Collects the bytes of every local change of a document. */
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

/* Steps @p (a permutation of 0..n-1) to the next one in lexicographic
 * order; FALSE after the last. */
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

/*
 * Delivers @msgs to a fresh replica of @base in every order (dependencies
 * missing at first wait in the pending buffer) and asserts each ends with
 * @expected and nothing pending. Returns the number of orders tried.
 */
static guint
deliver_all_orders (FlowDoc    *base,
                    GPtrArray  *msgs,
                    const char *expected)
{
  guint n = msgs->len;
  g_autofree guint *p = g_new (guint, n);
  guint orders = 0;

  for (guint i = 0; i < n; i++)
    p[i] = i;

  do
    {
      g_autoptr(FlowDoc) doc = clone_page (base, 1000);

      for (guint i = 0; i < n; i++)
        apply (doc, g_ptr_array_index (msgs, p[i]));
      g_assert_cmpuint (flow_doc_get_n_pending (doc), ==, 0);
      assert_text (doc, expected);
      orders++;
    }
  while (next_permutation (p, n));

  return orders;
}

/* ------------------------------------------------------------------------
 * Local edits against an oracle
 * ------------------------------------------------------------------------ */

static void
run_random_edits (gboolean ascii)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) doc = new_page (7);
  g_autoptr(FlowDoc) copy = NULL;
  g_autoptr(GString) oracle = g_string_new (NULL);
  guint n_steps = flow_test_iterations ("FLOW_TEXT_STEPS", 4000);
  guint cursor = 0;

  for (guint step = 0; step < n_steps; step++)
    {
      guint len = (guint) g_utf8_strlen (oracle->str, -1);
      guint what = (guint) g_rand_int_range (rand, 0, 100);

      cursor = MIN (cursor, len);
      if (what < 35 || len == 0)
        {
          /* Typing on at the cursor (the fast path) or somewhere else. */
          g_autofree char *text = random_text_for (rand, ascii);

          if (g_rand_int_range (rand, 0, 4) == 0)
            cursor = (guint) g_rand_int_range (rand, 0, (gint) len + 1);
          insert (doc, cursor, text);
          oracle_insert (oracle, cursor, text, -1);
          cursor += (guint) g_utf8_strlen (text, -1);
        }
      else if (what < 55)
        {
          /* Backspace at the cursor: reversed delete runs. */
          if (cursor > 0)
            {
              delete (doc, cursor - 1, 1);
              oracle_delete (oracle, cursor - 1, 1);
              cursor--;
            }
        }
      else if (what < 65)
        {
          /* Forward delete at the cursor. */
          if (cursor < len)
            {
              delete (doc, cursor, 1);
              oracle_delete (oracle, cursor, 1);
            }
        }
      else if (what < 85)
        {
          /* A selection deleted anywhere, spanning old edits. */
          guint pos = (guint) g_rand_int_range (rand, 0, (gint) len + 1);
          guint n = (guint) g_rand_int_range (rand, 0, (gint) MIN (len - pos, 40) + 1);

          delete (doc, pos, n);
          oracle_delete (oracle, pos, n);
          cursor = pos;
        }
      else if (what < 95)
        {
          /* A grouped paste: several inserts in one change. */
          guint pos = (guint) g_rand_int_range (rand, 0, (gint) len + 1);

          flow_doc_begin_change (doc);
          for (guint k = 0; k < 3; k++)
            {
              g_autofree char *text = random_text_for (rand, ascii);

              insert (doc, pos, text);
              oracle_insert (oracle, pos, text, -1);
            }
          flow_doc_end_change (doc);
        }
      else
        {
          /* A partial insert: only the first code points of a string. */
          g_autofree char *text = random_text_for (rand, ascii);
          const char *end = g_utf8_offset_to_pointer (text, 1);
          g_autoptr(GError) error = NULL;
          guint pos = (guint) g_rand_int_range (rand, 0, (gint) len + 1);

          g_assert_true (flow_doc_insert_text (doc, pos, text, end - text, &error));
          g_assert_no_error (error);
          oracle_insert (oracle, pos, text, end - text);
        }

      if (step % 25 == 0)
        assert_text (doc, oracle->str);
      else
        g_assert_cmpuint (flow_doc_get_length (doc), ==, g_utf8_strlen (oracle->str, -1));
    }

  assert_text (doc, oracle->str);

  /* The whole history integrated as remote ops gives the same text. */
  copy = clone_page (doc, 8);
  assert_text (copy, oracle->str);
}

static void
test_random_ascii (void)
{
  run_random_edits (TRUE);
}

static void
test_random_unicode (void)
{
  run_random_edits (FALSE);
}

/* Long fragmented documents: many leaves and internal nodes, so splits at
 * every level of the tree happen, and positions are looked up across them. */
static void
test_many_spans (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) doc = new_page (3);
  g_autoptr(GString) oracle = g_string_new (NULL);

  /* Every insert at a random spot makes new spans. */
  for (guint i = 0; i < 6000; i++)
    {
      guint len = (guint) g_utf8_strlen (oracle->str, -1);
      guint pos = (guint) g_rand_int_range (rand, 0, (gint) len + 1);
      const char *text = (i % 3 == 0) ? "日" : (i % 3 == 1) ? "ab" : "é";

      insert (doc, pos, text);
      oracle_insert (oracle, pos, text, -1);
      if (i % 500 == 0)
        assert_text (doc, oracle->str);
    }
  assert_text (doc, oracle->str);

  /* Delete every other char from the end, then the rest from the front. */
  for (guint pos = (guint) g_utf8_strlen (oracle->str, -1); pos >= 2; pos -= 2)
    {
      delete (doc, pos - 2, 1);
      oracle_delete (oracle, pos - 2, 1);
    }
  assert_text (doc, oracle->str);
  while (oracle->len > 0)
    {
      guint len = (guint) g_utf8_strlen (oracle->str, -1);
      guint n = MIN (len, 97);

      delete (doc, 0, n);
      oracle_delete (oracle, 0, n);
    }
  assert_text (doc, "");
  insert (doc, 0, "fresh");
  assert_text (doc, "fresh");
}

/* ------------------------------------------------------------------------
 * Non-interleaving golden cases (CRDT.md section 7)
 * ------------------------------------------------------------------------ */

typedef enum
{
  TYPE_FORWARD,
  TYPE_BACKWARD,
} TypeDir;

/* Types @s one char per change at @pos: forwards ("a", "ab", "abc") or
 * backwards ("c", "bc", "abc", each at @pos). */
static void
type_string (FlowDoc    *doc,
             guint       pos,
             const char *s,
             TypeDir     dir)
{
  glong n = g_utf8_strlen (s, -1);

  for (glong i = 0; i < n; i++)
    {
      glong k = dir == TYPE_FORWARD ? i : n - 1 - i;
      const char *from = g_utf8_offset_to_pointer (s, k);
      const char *to = g_utf8_next_char (from);
      g_autoptr(GError) error = NULL;

      g_assert_true (flow_doc_insert_text (doc, pos + (dir == TYPE_FORWARD ? (guint) i : 0),
                                           from, to - from, &error));
      g_assert_no_error (error);
    }
}

typedef struct
{
  const char    *base;
  guint          pos;
  TypeDir        dir_a;
  TypeDir        dir_b;
  FlowReplicaId  replica_a;
  FlowReplicaId  replica_b;
} TwoWriters;

static void
run_two_writers (const TwoWriters *tw)
{
  g_autoptr(FlowDoc) base = new_page (50);
  g_autoptr(FlowDoc) a = NULL;
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(GPtrArray) msgs = bytes_array_new ();
  g_autoptr(GPtrArray) msgs_a = bytes_array_new ();
  g_autoptr(GPtrArray) msgs_b = bytes_array_new ();
  g_autofree char *expected = NULL;
  g_autofree char *before = g_strndup (tw->base, tw->pos);
  const char *first;
  const char *second;
  guint orders;

  if (tw->base[0] != '\0')
    insert (base, 0, tw->base);
  a = clone_page (base, tw->replica_a);
  b = clone_page (base, tw->replica_b);
  flow_doc_add_change_func (a, collect_local_cb, msgs_a, NULL);
  flow_doc_add_change_func (b, collect_local_cb, msgs_b, NULL);

  type_string (a, tw->pos, "abc", tw->dir_a);
  type_string (b, tw->pos, "xyz", tw->dir_b);
  g_assert_cmpuint (msgs_a->len, ==, 3);
  g_assert_cmpuint (msgs_b->len, ==, 3);

  /* Whichever way each was typed, the runs stay whole, and the writer with
   * the lower replica id goes first (same origins: the id tie-break). */
  first = tw->replica_a < tw->replica_b ? "abc" : "xyz";
  second = tw->replica_a < tw->replica_b ? "xyz" : "abc";
  expected = g_strconcat (before, first, second, tw->base + tw->pos, NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_ptr_array_add (msgs, g_bytes_ref (g_ptr_array_index (msgs_a, i)));
      g_ptr_array_add (msgs, g_bytes_ref (g_ptr_array_index (msgs_b, i)));
    }

  /* A third replica receives the six keystrokes in all 720 orders. */
  orders = deliver_all_orders (base, msgs, expected);
  g_assert_cmpuint (orders, ==, 720);

  /* The writers themselves, each receiving the other's keystrokes. */
  for (guint i = 0; i < 3; i++)
    {
      apply (a, g_ptr_array_index (msgs_b, i));
      apply (b, g_ptr_array_index (msgs_a, i));
    }
  assert_text (a, expected);
  assert_text (b, expected);
  flow_test_assert_same (a, b);
}

static void
test_interleave_two_writers (void)
{
  static const char *bases[] = { "", "12", "hello" };
  static const TypeDir dirs[][2] = {
    { TYPE_FORWARD, TYPE_FORWARD },
    { TYPE_BACKWARD, TYPE_BACKWARD },
    { TYPE_FORWARD, TYPE_BACKWARD },
    { TYPE_BACKWARD, TYPE_FORWARD },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bases); i++)
    for (guint d = 0; d < G_N_ELEMENTS (dirs); d++)
      for (guint swap = 0; swap < 2; swap++)
        {
          TwoWriters tw;

          tw.base = bases[i];
          tw.pos = (guint) strlen (bases[i]) / 2 + (strlen (bases[i]) > 2 ? 1 : 0);
          tw.dir_a = dirs[d][0];
          tw.dir_b = dirs[d][1];
          tw.replica_a = swap ? 0x20 : 0x10;
          tw.replica_b = swap ? 0x10 : 0x20;
          run_two_writers (&tw);
        }
}

/*
 * mweidner037/fugue yjs-interleave: C types "c"; A sees it and types "a"
 * before it; concurrently B types "b" into its empty page. Yjs merges this
 * to "abc", putting b between a and the c that a was typed against.
 * FugueMax keeps "ac" together: b and c are both right of the start with
 * the same origins, so they are ordered by replica id, and a goes with c.
 */
static void
run_yjs_interleave (FlowReplicaId ra,
                    FlowReplicaId rb,
                    FlowReplicaId rc)
{
  g_autoptr(FlowDoc) empty = new_page (99);
  g_autoptr(FlowDoc) a = new_page (ra);
  g_autoptr(FlowDoc) b = new_page (rb);
  g_autoptr(FlowDoc) c = new_page (rc);
  g_autoptr(GPtrArray) msgs = bytes_array_new ();
  const char *expected = rb < rc ? "bac" : "acb";

  flow_doc_add_change_func (a, collect_local_cb, msgs, NULL);
  flow_doc_add_change_func (b, collect_local_cb, msgs, NULL);
  flow_doc_add_change_func (c, collect_local_cb, msgs, NULL);

  insert (c, 0, "c");
  flow_test_sync_pair (c, a);
  insert (a, 0, "a");
  insert (b, 0, "b");
  g_assert_cmpuint (msgs->len, ==, 3);

  g_assert_cmpuint (deliver_all_orders (empty, msgs, expected), ==, 6);

  flow_test_sync_pair (a, b);
  flow_test_sync_pair (b, c);
  flow_test_sync_pair (a, c);
  assert_text (a, expected);
  assert_text (b, expected);
  assert_text (c, expected);
}

static void
test_interleave_yjs (void)
{
  /* The original ids: A < B < C. */
  run_yjs_interleave (1, 2, 3);
  /* Every other ranking of the three replicas. */
  run_yjs_interleave (1, 3, 2);
  run_yjs_interleave (2, 1, 3);
  run_yjs_interleave (2, 3, 1);
  run_yjs_interleave (3, 1, 2);
  run_yjs_interleave (3, 2, 1);
}

/* Three writers typing words at one spot, some forwards and some
 * backwards, with a fourth replica typing elsewhere: whatever the order of
 * delivery, no word is split. */
static void
test_interleave_three_words (void)
{
  static const struct
  {
    FlowReplicaId replica;
    const char   *word;
    TypeDir       dir;
  } writers[] = {
    { 0x30, "ab", TYPE_FORWARD },
    { 0x10, "xy", TYPE_BACKWARD },
    { 0x20, "pq", TYPE_FORWARD },
  };
  g_autoptr(FlowDoc) base = new_page (5);
  g_autoptr(GPtrArray) msgs = bytes_array_new ();
  g_autoptr(FlowDoc) first = NULL;
  g_autofree char *expected = NULL;

  insert (base, 0, "[]");
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      g_autoptr(FlowDoc) w = clone_page (base, writers[i].replica);

      flow_doc_add_change_func (w, collect_local_cb, msgs, NULL);
      type_string (w, 1, writers[i].word, writers[i].dir);
    }
  g_assert_cmpuint (msgs->len, ==, 6);

  /* Ordered by replica id: 0x10 "xy", 0x20 "pq", 0x30 "ab". */
  expected = g_strdup ("[xypqab]");
  g_assert_cmpuint (deliver_all_orders (base, msgs, expected), ==, 720);

  first = clone_page (base, 77);
  for (guint i = 0; i < msgs->len; i++)
    apply (first, g_ptr_array_index (msgs, i));
  assert_text (first, expected);
}

/*
 * Typing "aéaé" one key at a time makes four op runs of alternating kinds
 * (ASCII, non-ASCII: flow-text.c never merges the two), and in an update
 * each run after the first is one byte (origin_left is the op before,
 * origin_right as before). The decoder once refused a TEXT_OPS chunk with
 * more runs than half its bytes, so syncing these keystrokes failed with
 * "Malformed text ops" (fixed in a75fe11).
 */
static void
test_sync_mixed_keystrokes (void)
{
  g_autoptr(FlowDoc) a = new_page (1);
  g_autoptr(FlowDoc) b = new_page (2);
  g_autoptr(FlowDoc) c = new_page (3);
  g_autoptr(GPtrArray) msgs = bytes_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;

  flow_doc_add_change_func (a, collect_local_cb, msgs, NULL);
  type_string (a, 0, "aéaé", TYPE_FORWARD);
  assert_text (a, "aéaé");

  /* Keystroke by keystroke, it syncs. */
  for (guint i = 0; i < msgs->len; i++)
    apply (c, g_ptr_array_index (msgs, i));
  assert_text (c, "aéaé");

  /* All at once, too. */
  bytes = flow_doc_encode_since (a, NULL);
  g_assert_true (flow_doc_apply (b, bytes, &error));
  g_assert_no_error (error);
  assert_text (b, "aéaé");
  flow_test_assert_same (a, b);
}

/* ------------------------------------------------------------------------
 * Differential test against a naive YjsMod list
 * ------------------------------------------------------------------------ */

/*
 * The reference: CRDT.md section 1.1 written as plainly as possible, an
 * array of items scanned linearly, with none of the B-tree, spans, caches
 * or skips of flow-text.c. Replaying a replica's text ops in its LV order
 * (a topological order) must give its item order, tombstones included.
 */
typedef struct
{
  FlowOpId  id;
  FlowOpId  ol;      /* seq G_MAXUINT64: the start */
  FlowOpId  or;      /* seq G_MAXUINT64: the end */
  gboolean  deleted;
  char     *text;    /* one code point */
} RefItem;

static void
ref_item_clear (gpointer data)
{
  g_free (((RefItem *) data)->text);
}

static gboolean
ref_id_is_none (const FlowOpId *id)
{
  return id->seq == G_MAXUINT64;
}

/* The index of @id, or @none_value for the start/end. */
static gint
ref_index (GArray         *items,
           const FlowOpId *id,
           gint            none_value)
{
  if (ref_id_is_none (id))
    return none_value;
  for (guint i = 0; i < items->len; i++)
    if (flow_op_id_equal (&g_array_index (items, RefItem, i).id, id))
      return (gint) i;
  g_assert_not_reached ();
  return -1;
}

static void
ref_integrate (GArray  *items,
               RefItem *x)
{
  gint n = (gint) items->len;
  gint left = ref_index (items, &x->ol, -1);
  gint right = ref_index (items, &x->or, n);
  gint committed = left + 1;
  gint saved = -1;
  gboolean tentative = FALSE;

  g_assert_cmpint (left, <, right);
  for (gint i = left + 1; i < right; i++)
    {
      const RefItem *o = &g_array_index (items, RefItem, i);
      gint olp = ref_index (items, &o->ol, -1);
      gint orp = ref_index (items, &o->or, n);

      if (olp < left)
        break;
      if (olp == left)
        {
          if (orp == right)
            {
              if (flow_op_id_compare (&x->id, &o->id) < 0)
                break;
              tentative = FALSE;
            }
          else if (orp < right)
            {
              if (!tentative)
                {
                  tentative = TRUE;
                  saved = i;
                }
            }
          else
            tentative = FALSE;
        }
      if (!tentative)
        committed = i + 1;
    }
  g_array_insert_val (items, tentative ? saved : committed, *x);
}

static FlowOpId
ref_id_of (FlowDoc *doc,
           FlowLv   lv)
{
  FlowOpId none = { 0, G_MAXUINT64 };

  return lv == FLOW_LV_NONE ? none : flow_oplog_lv_to_op_id (doc->log, lv);
}

static void
collect_order_cb (FlowLv   lv,
                  guint32  len,
                  gboolean deleted,
                  gpointer data)
{
  GArray *out = data;

  for (guint32 k = 0; k < len; k++)
    {
      FlowLv item = lv + k;

      g_array_append_val (out, item);
      g_array_append_val (out, deleted);
    }
}

/* Replays @doc's text ops into the reference and compares item orders. */
static void
assert_matches_reference (FlowDoc *doc)
{
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (RefItem));
  g_autoptr(GArray) order = g_array_new (FALSE, FALSE, sizeof (FlowLv));
  GArray *ops = flow_text_get_ops (doc->text);
  g_autoptr(GString) visible = g_string_new (NULL);
  g_autofree char *text = flow_doc_dup_text (doc);

  g_array_set_clear_func (items, ref_item_clear);

  for (guint i = 0; i < ops->len; i++)
    {
      const FlowTextOp *op = &g_array_index (ops, FlowTextOp, i);

      if (op->kind == FLOW_TEXT_OP_INSERT)
        {
          const char *p = flow_text_content (doc->text, op->off);

          for (guint32 k = 0; k < op->len; k++)
            {
              RefItem x;
              const char *next = g_utf8_next_char (p);

              x.id = flow_oplog_lv_to_op_id (doc->log, op->lv + k);
              x.ol = ref_id_of (doc, k == 0 ? op->a : op->lv + k - 1);
              x.or = ref_id_of (doc, op->b);
              x.deleted = FALSE;
              x.text = g_strndup (p, next - p);
              ref_integrate (items, &x);
              p = next;
            }
        }
      else
        {
          for (guint32 k = 0; k < op->len; k++)
            {
              FlowOpId target = flow_oplog_lv_to_op_id (doc->log,
                                                        op->reversed ? op->a - k : op->a + k);

              g_array_index (items, RefItem, ref_index (items, &target, -1)).deleted = TRUE;
            }
        }
    }

  /* Same items in the same order, with the same tombstones. */
  flow_text_visit_order (doc->text, collect_order_cb, order);
  g_assert_cmpuint (order->len, ==, items->len * 2);
  for (guint i = 0; i < items->len; i++)
    {
      const RefItem *item = &g_array_index (items, RefItem, i);
      FlowOpId id = flow_oplog_lv_to_op_id (doc->log, g_array_index (order, FlowLv, 2 * i));

      g_assert_true (flow_op_id_equal (&id, &item->id));
      g_assert_cmpint (!!g_array_index (order, FlowLv, 2 * i + 1), ==, item->deleted);
      if (!item->deleted)
        g_string_append (visible, item->text);
    }
  g_assert_cmpstr (visible->str, ==, text);
}

static void
test_reference (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_iter = flow_test_iterations ("FLOW_TEXT_REFERENCE_ITERATIONS", 150);

  for (guint iter = 0; iter < n_iter; iter++)
    {
      FlowDoc *replicas[4];
      guint n = (guint) g_rand_int_range (rand, 2, G_N_ELEMENTS (replicas) + 1);
      gboolean ascii = iter % 2 == 0;

      for (guint i = 0; i < n; i++)
        replicas[i] = new_page (g_rand_int_range (rand, 1, 6) + 8 * i);

      /* Small pages and few positions, so concurrent inserts meet at the
       * same spots and inside each other's runs and deleted runs. */
      for (guint step = 0; step < 60; step++)
        {
          FlowDoc *doc = replicas[g_rand_int_range (rand, 0, (gint) n)];
          guint len = flow_doc_get_length (doc);
          guint what = (guint) g_rand_int_range (rand, 0, 10);

          if (what < 6 || len == 0)
            {
              g_autofree char *text = random_text_for (rand, ascii);
              guint pos = len / 2;

              if (g_rand_boolean (rand))
                pos = (guint) g_rand_int_range (rand, 0, (gint) len + 1);

              type_string (doc, pos, text, g_rand_boolean (rand) ? TYPE_FORWARD : TYPE_BACKWARD);
            }
          else if (what < 8)
            {
              guint pos = (guint) g_rand_int_range (rand, 0, (gint) len);

              delete (doc, pos, (guint) g_rand_int_range (rand, 1, (gint) MIN (len - pos, 5) + 1));
            }
          else
            {
              guint i = (guint) g_rand_int_range (rand, 0, (gint) n);
              guint j = (guint) g_rand_int_range (rand, 0, (gint) n);

              if (i != j)
                flow_test_sync_pair (replicas[i], replicas[j]);
            }
        }

      /* Each replica before the final sync, then all of them after it:
       * every replica applied the ops in its own topological order. */
      for (guint i = 0; i < n; i++)
        assert_matches_reference (replicas[i]);
      for (guint round = 0; round < 2; round++)
        for (guint i = 0; i < n; i++)
          for (guint j = i + 1; j < n; j++)
            flow_test_sync_pair (replicas[i], replicas[j]);
      for (guint i = 0; i < n; i++)
        {
          assert_matches_reference (replicas[i]);
          flow_test_assert_same (replicas[0], replicas[i]);
          flow_text_check (replicas[i]->text);
        }

      for (guint i = 0; i < n; i++)
        g_object_unref (replicas[i]);
    }
}

/* ------------------------------------------------------------------------
 * Order independence
 * ------------------------------------------------------------------------ */

/* Hand-made concurrent batches touching the same region. */
static void
test_order_independence_fixed (void)
{
  g_autoptr(FlowDoc) base = new_page (1);
  g_autoptr(GPtrArray) batches = bytes_array_new ();
  g_autoptr(FlowVersionVector) base_vv = NULL;
  FlowDoc *replicas[4];
  g_autofree char *expected = NULL;

  insert (base, 0, "The quick brown fox");
  base_vv = flow_doc_dup_version (base);
  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    replicas[i] = clone_page (base, 2 + i);

  insert (replicas[0], 4, "X");
  delete (replicas[0], 11, 5);
  insert (replicas[1], 4, "YY");
  delete (replicas[1], 9, 4);
  delete (replicas[2], 0, 4);
  insert (replicas[2], 15, " jumps");
  type_string (replicas[3], 4, "uvw", TYPE_BACKWARD);
  delete (replicas[3], 20, 2);
  insert (replicas[3], 0, "ö");

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    g_ptr_array_add (batches, flow_doc_encode_since (replicas[i], base_vv));

  /* Everyone syncs with everyone: that is the reference. */
  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    for (guint j = i + 1; j < G_N_ELEMENTS (replicas); j++)
      flow_test_sync_pair (replicas[i], replicas[j]);
  expected = flow_doc_dup_text (replicas[0]);
  for (guint i = 1; i < G_N_ELEMENTS (replicas); i++)
    assert_text (replicas[i], expected);

  g_assert_cmpuint (deliver_all_orders (base, batches, expected), ==, 24);

  /* Each batch twice (and all of them again) changes nothing. */
  {
    g_autoptr(FlowDoc) doc = clone_page (base, 1000);
    g_autoptr(FlowVersionVector) vv = NULL;
    g_autoptr(FlowVersionVector) vv2 = NULL;

    for (guint i = 0; i < batches->len; i++)
      {
        apply (doc, g_ptr_array_index (batches, i));
        apply (doc, g_ptr_array_index (batches, i));
      }
    vv = flow_doc_dup_version (doc);
    for (guint i = 0; i < batches->len; i++)
      apply (doc, g_ptr_array_index (batches, i));
    vv2 = flow_doc_dup_version (doc);
    g_assert_true (flow_version_vector_equal (vv, vv2));
    assert_text (doc, expected);
  }

  for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
    g_object_unref (replicas[i]);
}

/* Random concurrent edits by four replicas, some of which saw part of the
 * others' work first, so batches overlap and depend on each other. */
static void
test_order_independence_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  guint n_iter = flow_test_iterations ("FLOW_TEXT_ORDER_ITERATIONS", 60);

  for (guint iter = 0; iter < n_iter; iter++)
    {
      g_autoptr(FlowDoc) base = new_page (1);
      g_autoptr(GPtrArray) batches = bytes_array_new ();
      g_autoptr(FlowVersionVector) base_vv = NULL;
      g_autofree char *expected = NULL;
      FlowDoc *replicas[4];
      gboolean ascii = iter % 2 == 0;

      for (guint k = 0; k < 5; k++)
        {
          g_autofree char *text = random_text_for (rand, ascii);

          insert (base, (guint) g_rand_int_range (rand, 0, (gint) flow_doc_get_length (base) + 1),
                  text);
        }
      base_vv = flow_doc_dup_version (base);
      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        replicas[i] = clone_page (base, g_rand_int (rand) | 1);

      for (guint round = 0; round < 3; round++)
        {
          for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
            for (guint k = 0; k < 3; k++)
              {
                FlowDoc *doc = replicas[i];
                guint len = flow_doc_get_length (doc);
                guint pos = (guint) g_rand_int_range (rand, 0, (gint) len + 1);

                if (len > 0 && g_rand_int_range (rand, 0, 3) == 0)
                  {
                    guint at = MIN (pos, len - 1);
                    guint n = (guint) g_rand_int_range (rand, 1, (gint) MIN (len - at, 6) + 1);

                    delete (doc, at, n);
                  }
                else
                  {
                    g_autofree char *text = NULL;

                    text = random_text_for (rand, ascii);

                    type_string (doc, pos, text,
                                 g_rand_boolean (rand) ? TYPE_FORWARD : TYPE_BACKWARD);
                  }
              }
          /* Some replicas see some others' work before going on. */
          if (g_rand_boolean (rand))
            {
              guint i = (guint) g_rand_int_range (rand, 0, 4);
              guint j = (guint) g_rand_int_range (rand, 0, 4);

              if (i != j)
                flow_test_sync_pair (replicas[i], replicas[j]);
            }
        }

      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        g_ptr_array_add (batches, flow_doc_encode_since (replicas[i], base_vv));
      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        for (guint j = i + 1; j < G_N_ELEMENTS (replicas); j++)
          flow_test_sync_pair (replicas[i], replicas[j]);
      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        for (guint j = i + 1; j < G_N_ELEMENTS (replicas); j++)
          flow_test_sync_pair (replicas[i], replicas[j]);
      expected = flow_doc_dup_text (replicas[0]);
      for (guint i = 1; i < G_N_ELEMENTS (replicas); i++)
        {
          flow_test_assert_same (replicas[0], replicas[i]);
          assert_text (replicas[i], expected);
        }

      deliver_all_orders (base, batches, expected);

      for (guint i = 0; i < G_N_ELEMENTS (replicas); i++)
        g_object_unref (replicas[i]);
    }
}

/* ------------------------------------------------------------------------
 * Text edits reported to listeners
 * ------------------------------------------------------------------------ */

typedef struct
{
  GString *mirror;
  guint    n_changes;
  guint    n_remote;
  guint    n_edits;
} Mirror;

static void
mirror_apply (Mirror     *m,
              FlowDoc    *doc,
              FlowChange *change)
{
  guint n = 0;
  const FlowTextEdit *edits = flow_change_get_text_edits (change, &n);
  g_autofree char *text = NULL;

  g_assert_true (flow_change_get_doc (change) == doc);
  for (guint i = 0; i < n; i++)
    {
      const FlowTextEdit *e = &edits[i];

      g_assert_cmpuint (e->pos + e->removed, <=, g_utf8_strlen (m->mirror->str, -1));
      if (e->removed > 0)
        oracle_delete (m->mirror, e->pos, e->removed);
      if (e->inserted_chars > 0)
        {
          g_assert_nonnull (e->inserted);
          g_assert_cmpuint (g_utf8_strlen (e->inserted, (gssize) e->inserted_len), ==,
                            e->inserted_chars);
          oracle_insert (m->mirror, e->pos, e->inserted, (gssize) e->inserted_len);
        }
      else
        g_assert_cmpuint (e->inserted_len, ==, 0);
    }

  /* After every change, the mirror is the document's text. */
  text = flow_doc_dup_text (doc);
  g_assert_cmpstr (m->mirror->str, ==, text);
  m->n_changes++;
  m->n_edits += n;
  if (!flow_change_is_local (change))
    m->n_remote++;
}

static void
mirror_func_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  mirror_apply (user_data, doc, change);
}

static void
run_mirror (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(FlowDoc) observer = new_page (0x99);
  FlowDoc *editors[3];
  Mirror m = { g_string_new (NULL), 0, 0, 0 };

  flow_doc_add_change_func (observer, mirror_func_cb, &m, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (editors); i++)
    editors[i] = new_page (0x10 + i);

  for (guint step = 0; step < 400; step++)
    {
      guint who = (guint) g_rand_int_range (rand, 0, G_N_ELEMENTS (editors) + 1);
      FlowDoc *doc = who < G_N_ELEMENTS (editors) ? editors[who] : observer;
      guint len = flow_doc_get_length (doc);
      guint what = (guint) g_rand_int_range (rand, 0, 10);

      if (what < 5 || len == 0)
        {
          g_autofree char *text = random_text_for (rand, FALSE);

          type_string (doc, (guint) g_rand_int_range (rand, 0, (gint) len + 1), text,
                       g_rand_boolean (rand) ? TYPE_FORWARD : TYPE_BACKWARD);
        }
      else if (what < 8)
        {
          guint pos = (guint) g_rand_int_range (rand, 0, (gint) len);

          delete (doc, pos, (guint) g_rand_int_range (rand, 1, (gint) MIN (len - pos, 8) + 1));
        }
      else
        {
          /* A grouped change mixing inserts and deletes. */
          flow_doc_begin_change (doc);
          insert (doc, 0, "«");
          insert (doc, flow_doc_get_length (doc), "»");
          if (flow_doc_get_length (doc) > 4)
            delete (doc, 1, 2);
          flow_doc_end_change (doc);
        }

      /* Editors sync among themselves now and then; the observer catches
       * up from one of them, so its batches hold concurrent work. */
      if (g_rand_int_range (rand, 0, 4) == 0)
        flow_test_sync_pair (editors[g_rand_int_range (rand, 0, 3)],
                             editors[g_rand_int_range (rand, 0, 3)]);
      if (g_rand_int_range (rand, 0, 3) == 0)
        flow_test_sync_pair (observer, editors[g_rand_int_range (rand, 0, 3)]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (editors); i++)
    flow_test_sync_pair (observer, editors[i]);
  for (guint i = 0; i < G_N_ELEMENTS (editors); i++)
    flow_test_sync_pair (observer, editors[i]);
  for (guint i = 0; i < G_N_ELEMENTS (editors); i++)
    flow_test_assert_same (observer, editors[i]);
  assert_text (observer, m.mirror->str);
  g_assert_cmpuint (m.n_remote, >, 10);
  g_assert_cmpuint (m.n_changes, >, m.n_remote);

  for (guint i = 0; i < G_N_ELEMENTS (editors); i++)
    g_object_unref (editors[i]);
  g_string_free (m.mirror, TRUE);
}

static void
test_edits_change_func (void)
{
  run_mirror ();
}

static void
keep_change_cb (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  GPtrArray *kept = user_data;

  /* Keep every other change: the document reuses the ones nobody keeps. */
  if (flow_change_get_n_ops (change) % 2 == 1)
    g_ptr_array_add (kept, flow_change_ref (change));
}

/* A change a listener keeps stays whole after later edits, and keeps its
 * document alive. */
static void
test_edits_kept (void)
{
  FlowDoc *doc = new_page (1);
  g_autoptr(FlowDoc) other = new_page (2);
  g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func ((GDestroyNotify) flow_change_unref);
  GWeakRef weak;
  guint n_edits;
  const FlowTextEdit *edits;

  g_weak_ref_init (&weak, doc);
  flow_doc_add_change_func (doc, keep_change_cb, kept, NULL);
  insert (doc, 0, "a");     /* kept: 1 op */
  insert (doc, 1, "bc");    /* reused */
  insert (doc, 3, "def");   /* kept */
  delete (doc, 0, 2);       /* reused */
  g_assert_cmpuint (kept->len, ==, 2);

  g_object_unref (doc);
  doc = g_weak_ref_get (&weak);
  g_assert_nonnull (doc);   /* the kept changes hold it */
  g_object_unref (doc);

  edits = flow_change_get_text_edits (kept->pdata[1], &n_edits);
  g_assert_cmpuint (n_edits, ==, 1);
  g_assert_cmpuint (edits[0].pos, ==, 3);
  g_assert_cmpmem (edits[0].inserted, edits[0].inserted_len, "def", 3);
  g_assert_cmpuint (flow_change_get_n_ops (kept->pdata[1]), ==, 3);

  /* Their bytes still encode their own ops. */
  apply (other, flow_change_get_bytes (kept->pdata[0]));
  apply (other, flow_change_get_bytes (kept->pdata[1]));
  g_assert_cmpuint (flow_doc_get_n_pending (other), ==, 1);

  g_clear_pointer (&kept, g_ptr_array_unref);
  doc = g_weak_ref_get (&weak);
  g_assert_null (doc);
  g_weak_ref_clear (&weak);
}

/* A remote delete whose targets are scattered by concurrent inserts is
 * reported as several edits that reproduce the text. */
static void
test_edits_scattered_delete (void)
{
  g_autoptr(FlowDoc) a = new_page (1);
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(FlowDoc) c = NULL;
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(GBytes) del = NULL;
  Mirror m = { g_string_new (NULL), 0, 0, 0 };

  insert (a, 0, "0123456789");
  b = clone_page (a, 2);
  c = clone_page (a, 3);
  vv = flow_doc_dup_version (a);

  /* B splits the text in three places; A deletes all of it. */
  insert (b, 2, "X");
  insert (b, 6, "Y");
  insert (b, 10, "Z");
  delete (a, 0, 10);
  del = flow_doc_encode_since (a, vv);

  flow_test_sync_pair (b, c);
  g_string_assign (m.mirror, "01X234Y567Z89");
  assert_text (c, m.mirror->str);
  flow_doc_add_change_func (c, mirror_func_cb, &m, NULL);
  apply (c, del);
  assert_text (c, "XYZ");
  g_assert_cmpstr (m.mirror->str, ==, "XYZ");
  g_assert_cmpuint (m.n_changes, ==, 1);
  g_assert_cmpuint (m.n_edits, >=, 1);
  g_string_free (m.mirror, TRUE);
}

/* ------------------------------------------------------------------------
 * Deleting deleted text
 * ------------------------------------------------------------------------ */

static void
test_delete_deleted (void)
{
  g_autoptr(FlowDoc) base = new_page (1);
  g_autoptr(FlowDoc) a = NULL;
  g_autoptr(FlowDoc) b = NULL;
  g_autoptr(FlowDoc) c = NULL;
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(GBytes) from_a = NULL;
  g_autoptr(GBytes) from_b = NULL;
  Mirror m = { g_string_new (NULL), 0, 0, 0 };

  insert (base, 0, "abcdefgh");
  vv = flow_doc_dup_version (base);
  a = clone_page (base, 2);
  b = clone_page (base, 3);
  c = clone_page (base, 4);

  /* Overlapping concurrent deletes: "cdef" forwards, "defg" by
   * backspacing from the end. */
  delete (a, 2, 4);
  for (guint i = 0; i < 4; i++)
    delete (b, 7 - i - 1, 1);
  assert_text (a, "abgh");
  assert_text (b, "abch");
  from_a = flow_doc_encode_since (a, vv);
  from_b = flow_doc_encode_since (b, vv);

  g_string_assign (m.mirror, "abcdefgh");
  flow_doc_add_change_func (c, mirror_func_cb, &m, NULL);
  apply (c, from_a);
  apply (c, from_b);
  /* Twice: nothing happens the second time. */
  apply (c, from_a);
  apply (c, from_b);
  assert_text (c, "abh");
  g_assert_cmpstr (m.mirror->str, ==, "abh");

  flow_test_sync_pair (a, b);
  assert_text (a, "abh");
  assert_text (b, "abh");
  flow_test_assert_same (a, c);

  /* Everyone deletes everything at once. */
  delete (a, 0, 3);
  delete (b, 1, 2);
  delete (b, 0, 1);
  delete (c, 0, 3);
  flow_test_sync_pair (a, b);
  flow_test_sync_pair (b, c);
  flow_test_sync_pair (a, c);
  assert_text (a, "");
  assert_text (b, "");
  assert_text (c, "");
  g_assert_cmpstr (m.mirror->str, ==, "");

  /* Text typed into the void after that still lands and merges. */
  insert (a, 0, "A");
  insert (b, 0, "B");
  flow_test_sync_pair (a, b);
  assert_text (a, "AB");
  flow_test_assert_same (a, b);
  g_string_free (m.mirror, TRUE);
}

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

static void
assert_unchanged (FlowDoc    *doc,
                  const char *text,
                  guint64     n_ops)
{
  assert_text (doc, text);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
}

static void
test_errors (void)
{
  g_autoptr(FlowDoc) doc = new_page (1);
  g_autoptr(GError) error = NULL;
  FlowOpId board_id = { 9, 9 };
  g_autoptr(FlowDoc) board = flow_doc_new (FLOW_DOC_KIND_BOARD, &board_id, 1);
  guint64 n_ops;

  /* An empty page. */
  g_assert_false (flow_doc_insert_text (doc, 1, "x", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (doc, 0, 1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (flow_doc_delete_text (doc, 0, 0, &error));
  g_assert_no_error (error);
  assert_unchanged (doc, "", 0);

  insert (doc, 0, "héllo");
  n_ops = flow_doc_get_n_ops (doc);
  g_assert_cmpuint (n_ops, ==, 5);

  /* Positions past the end, in code points, not bytes. */
  g_assert_false (flow_doc_insert_text (doc, 6, "x", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_insert_text (doc, G_MAXUINT, "x", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (doc, 6, 0, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (doc, 5, 1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (doc, 0, 6, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (doc, 1, G_MAXUINT, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (doc, G_MAXUINT, 2, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_unchanged (doc, "héllo", n_ops);

  /* Invalid UTF-8, and nul characters inside the given length. */
  g_assert_false (flow_doc_insert_text (doc, 0, "\xff", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_insert_text (doc, 0, "\xc3", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_insert_text (doc, 0, "é", 1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_insert_text (doc, 0, "a\0b", 3, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (flow_doc_insert_text (doc, 0, "\xed\xa0\x80", -1, &error)); /* a surrogate */
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_unchanged (doc, "héllo", n_ops);

  /* Empty inserts and deletes are no-ops, not errors. */
  g_assert_true (flow_doc_insert_text (doc, 5, "", -1, &error));
  g_assert_true (flow_doc_insert_text (doc, 2, "xyz", 0, &error));
  g_assert_true (flow_doc_delete_text (doc, 5, 0, &error));
  g_assert_no_error (error);
  assert_unchanged (doc, "héllo", n_ops);

  /* A length cuts the text. */
  g_assert_true (flow_doc_insert_text (doc, 5, "!?", 1, &error));
  g_assert_no_error (error);
  assert_text (doc, "héllo!");

  /* Text calls on a board. */
  g_assert_false (flow_doc_insert_text (board, 0, "x", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
  g_clear_error (&error);
  g_assert_false (flow_doc_delete_text (board, 0, 0, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
  g_clear_error (&error);
  g_assert_cmpuint (flow_doc_get_n_ops (board), ==, 0);

  /* A page's batch does not apply to a board. */
  {
    g_autoptr(GBytes) bytes = flow_doc_encode_since (doc, NULL);

    g_assert_false (flow_doc_apply (board, bytes, &error));
    g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND);
    g_clear_error (&error);
    g_assert_cmpuint (flow_doc_get_n_ops (board), ==, 0);
  }
}

/* ------------------------------------------------------------------------
 * Keystroke encoding
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowLv before; /* the document's op count before the local edit */
  guint  n_checked;
} KeystrokeCheck;

/* The short path that encodes a keystroke must write exactly what the
 * general encoder writes for the same ops. */
static void
compare_encoders (FlowDoc    *doc,
                  FlowChange *change,
                  gpointer    user_data)
{
  KeystrokeCheck *check = user_data;
  FlowLvRange range = { check->before, (FlowLv) flow_doc_get_n_ops (doc) };
  g_autoptr(GBytes) general = NULL;
  GBytes *bytes;

  if (!flow_change_is_local (change))
    return;
  bytes = flow_change_get_bytes (change);
  doc->encode_general_only = TRUE;
  general = _flow_doc_encode_ranges (doc, &range, 1, FALSE);
  doc->encode_general_only = FALSE;
  g_assert_true (g_bytes_equal (bytes, general));
  check->n_checked++;
}

static void
test_keystroke_encoding (void)
{
  static const char *pieces[] = { "a", "b", "é", "日本", "👍🏽", "e\xcc\x81", " ", "\n", "xyz" };
  g_autoptr(FlowDoc) a = new_page (1);
  g_autoptr(FlowDoc) b = new_page (2);
  g_autoptr(GRand) rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(GString) big = g_string_new (NULL);
  KeystrokeCheck check = { 0, 0 };

  flow_doc_add_change_func (a, compare_encoders, &check, NULL);
  for (guint i = 0; i < 300; i++)
    g_string_append (big, "long text ");

  for (guint step = 0; step < 3000; step++)
    {
      guint len = flow_doc_get_length (a);
      guint what = (guint) g_rand_int_range (rand, 0, 100);

      check.before = (FlowLv) flow_doc_get_n_ops (a);
      if (what < 55 || len == 0)
        insert (a, (guint) g_rand_int_range (rand, 0, (gint) len + 1),
                pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      else if (what < 75)
        delete (a, (guint) g_rand_int_range (rand, 0, (gint) len), 1);
      else if (what < 82)
        {
          guint pos = (guint) g_rand_int_range (rand, 0, (gint) len);
          guint n = (guint) g_rand_int_range (rand, 1, 8);

          delete (a, pos, MIN (len - pos, n));
        }
      else if (what < 85)
        insert (a, (guint) g_rand_int_range (rand, 0, (gint) len + 1), big->str);
      else if (what < 90)
        {
          /* A grouped change: several runs in one batch. */
          flow_doc_begin_change (a);
          insert (a, 0, "x");
          insert (a, flow_doc_get_length (a), "y");
          flow_doc_end_change (a);
        }
      else if (what < 95)
        {
          /* Concurrent typing on B: later local ops have two parents and
           * refer to B's characters. */
          guint blen = flow_doc_get_length (b);

          insert (b, (guint) g_rand_int_range (rand, 0, (gint) blen + 1), "B");
          flow_test_sync_pair (a, b);
        }
      else
        {
          check.before = (FlowLv) flow_doc_get_n_ops (a);
          flow_test_sync_pair (a, b);
        }
    }
  flow_test_sync_pair (a, b);
  flow_test_assert_same (a, b);
  g_assert_cmpuint (check.n_checked, >, 2500);
}

/* ------------------------------------------------------------------------
 * Replicas at random: the short paths against the long ones
 * ------------------------------------------------------------------------ */

typedef struct
{
  GPtrArray *forwarded; /* GBytes of changes, to deliver again at random */
  GPtrArray *kept;      /* FlowChange, as a listener may keep them */
  GPtrArray *kept_bytes; /* their bytes when they were new */
  GRand     *rand;
} Replicas;

/* Every change, local or remote (whole, partial or a duplicate), encodes
 * to the same bytes on the short path and the general one; some changes
 * are kept to check later that reuse never touches them. */
static void
replicas_change_cb (FlowDoc    *doc,
                    FlowChange *change,
                    gpointer    user_data)
{
  Replicas *r = user_data;
  FlowLvRange range = { (FlowLv) (flow_doc_get_n_ops (doc) - flow_change_get_n_ops (change)),
                        (FlowLv) flow_doc_get_n_ops (doc) };
  g_autoptr(GBytes) general = NULL;
  GBytes *bytes = flow_change_get_bytes (change);

  doc->encode_general_only = TRUE;
  general = _flow_doc_encode_ranges (doc, &range, 1, FALSE);
  doc->encode_general_only = FALSE;
  g_assert_true (g_bytes_equal (bytes, general));

  if (r->forwarded->len < 2000)
    g_ptr_array_add (r->forwarded, g_bytes_ref (bytes));
  if (g_rand_int_range (r->rand, 0, 8) == 0)
    {
      g_ptr_array_add (r->kept, flow_change_ref (change));
      g_ptr_array_add (r->kept_bytes, g_bytes_ref (bytes));
    }
}

/* The cached length is the length of the text, whatever path changed it. */
static void
assert_length (FlowDoc  *doc,
               gboolean  deep)
{
  g_autofree char *text = flow_doc_dup_text (doc);

  g_assert_cmpuint (flow_doc_get_length (doc), ==, g_utf8_strlen (text, -1));
  if (deep)
    flow_text_check (doc->text);
}

static FlowDoc *
replicas_watch (Replicas *r,
                FlowDoc  *doc)
{
  flow_doc_add_change_func (doc, replicas_change_cb, r, NULL);
  return doc;
}

/* A checkout refuses local edits, takes the rest of the history as remote
 * ops, and then holds the text of its source. */
static void
replicas_checkout (Replicas *r,
                   FlowDoc  *doc)
{
  guint64 at = (guint64) g_rand_int_range (r->rand, 0, (gint) flow_doc_get_n_ops (doc) + 1);
  g_autoptr(FlowVersionVector) version = flow_doc_dup_version_at (doc, at);
  g_autoptr(FlowDoc) old = flow_doc_checkout (doc, version, NULL);
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;

  g_assert_nonnull (old);
  replicas_watch (r, old);
  assert_length (old, FALSE);
  g_assert_false (flow_doc_insert_text (old, 0, "z", -1, &error));
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
  g_clear_error (&error);
  if (flow_doc_get_length (old) > 0)
    {
      g_assert_false (flow_doc_delete_text (old, 0, 1, &error));
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY);
      g_clear_error (&error);
    }
  g_assert_false (flow_doc_undo (old));
  g_assert_false (flow_doc_redo (old));
  g_assert_cmpuint (flow_doc_get_n_ops (old), ==, at);

  {
    g_autoptr(FlowVersionVector) have = flow_doc_dup_version (old);

    rest = flow_doc_encode_since (doc, have);
  }
  if (rest != NULL)
    apply (old, rest);
  assert_length (old, TRUE);
  text = flow_doc_dup_text (old);
  expected = flow_doc_dup_text (doc);
  g_assert_cmpstr (text, ==, expected);
}

static void
test_random_replicas (void)
{
  static const char *pieces[] = { "a", "b", "é", "日本", "👍🏽", "e\xcc\x81", " ", "\n", "xyz", "hello world " };
  /* Replica ids with every byte in use. */
  static const FlowReplicaId ids[] = { G_GUINT64_CONSTANT (0xffffffffffffff01), 2,
                                       G_GUINT64_CONSTANT (0x8000000000000003) };
  Replicas r = { g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref),
                 g_ptr_array_new_with_free_func ((GDestroyNotify) flow_change_unref),
                 g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref),
                 g_rand_new_with_seed (flow_test_seed ()) };
  FlowDoc *docs[G_N_ELEMENTS (ids)];
  g_autoptr(GString) big = g_string_new (NULL);
  guint steps = flow_test_iterations ("FLOW_TEXT_REPLICA_STEPS", 2000);

  for (guint i = 0; i < 40; i++)
    g_string_append (big, "long text ");
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    docs[i] = replicas_watch (&r, new_page (ids[i]));

  for (guint step = 0; step < steps; step++)
    {
      guint w = (guint) g_rand_int_range (r.rand, 0, G_N_ELEMENTS (docs));
      FlowDoc *doc = docs[w];
      guint len = flow_doc_get_length (doc);
      guint what = (guint) g_rand_int_range (r.rand, 0, 100);

      if (what < 36 || len == 0)
        insert (doc, (guint) g_rand_int_range (r.rand, 0, (gint) len + 1),
                g_rand_int_range (r.rand, 0, 30) == 0
                  ? big->str
                  : pieces[g_rand_int_range (r.rand, 0, G_N_ELEMENTS (pieces))]);
      else if (what < 48)
        {
          guint pos = (guint) g_rand_int_range (r.rand, 0, (gint) len);
          guint n = (guint) g_rand_int_range (r.rand, 1, 20);

          delete (doc, pos, g_rand_int_range (r.rand, 0, 3) == 0 ? MIN (n, len - pos) : 1);
        }
      else if (what < 56)
        {
          /* Backspacing: remote runs of these are stored reversed. */
          guint pos = (guint) g_rand_int_range (r.rand, 1, (gint) len + 1);
          guint n = (guint) g_rand_int_range (r.rand, 1, 6);

          for (guint k = 0; k < MIN (n, pos); k++)
            delete (doc, pos - 1 - k, 1);
        }
      else if (what < 63)
        flow_doc_undo (doc);
      else if (what < 67)
        flow_doc_redo (doc);
      else if (what < 70)
        {
          flow_doc_begin_change (doc);
          insert (doc, 0, "x");
          if (flow_doc_get_length (doc) > 3)
            delete (doc, 1, 2);
          insert (doc, flow_doc_get_length (doc), "yé");
          flow_doc_end_change (doc);
        }
      else if (what < 78 && r.forwarded->len > 0)
        {
          /* Old changes again: duplicates, parts of what we have, and
           * batches that wait for their dependencies. */
          for (guint k = 0; k < 3; k++)
            apply (doc, r.forwarded->pdata[g_rand_int_range (r.rand, 0, (gint) r.forwarded->len)]);
        }
      else if (what < 88)
        flow_test_sync_pair (doc, docs[(w + (guint) g_rand_int_range (r.rand, 1, G_N_ELEMENTS (docs))) %
                                       G_N_ELEMENTS (docs)]);
      else if (what < 93)
        {
          g_autoptr(GBytes) bytes = flow_doc_encode (doc);
          g_autoptr(GError) error = NULL;
          FlowDoc *loaded = flow_doc_load (bytes, ids[w], &error);

          g_assert_no_error (error);
          assert_length (loaded, FALSE);
          g_object_unref (doc);
          docs[w] = doc = replicas_watch (&r, loaded);
        }
      else
        replicas_checkout (&r, doc);

      assert_length (doc, g_rand_int_range (r.rand, 0, 10) == 0);
    }

  /* Kept changes are as they were, though their records could have been
   * reused and their documents replaced by reloads. */
  g_assert_cmpuint (r.kept->len, >, 0);
  for (guint i = 0; i < r.kept->len; i++)
    {
      FlowChange *change = r.kept->pdata[i];
      GBytes *bytes = r.kept_bytes->pdata[i];

      g_assert_true (g_bytes_equal (flow_change_get_bytes (change), bytes));
    }

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    for (guint j = 0; j < G_N_ELEMENTS (docs); j++)
      if (i != j)
        flow_test_sync_pair (docs[i], docs[j]);
  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      assert_length (docs[i], TRUE);
      flow_test_assert_same (docs[0], docs[i]);
    }

  for (guint i = 0; i < G_N_ELEMENTS (docs); i++)
    g_object_unref (docs[i]);
  g_ptr_array_unref (r.kept);
  g_ptr_array_unref (r.kept_bytes);
  g_ptr_array_unref (r.forwarded);
  g_rand_free (r.rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/text/random/ascii", test_random_ascii);
  g_test_add_func ("/flow/text/random/unicode", test_random_unicode);
  g_test_add_func ("/flow/text/random/many-spans", test_many_spans);
  g_test_add_func ("/flow/text/interleave/two-writers", test_interleave_two_writers);
  g_test_add_func ("/flow/text/interleave/yjs-interleave", test_interleave_yjs);
  g_test_add_func ("/flow/text/interleave/three-words", test_interleave_three_words);
  g_test_add_func ("/flow/text/reference/yjsmod", test_reference);
  g_test_add_func ("/flow/text/sync/mixed-keystrokes", test_sync_mixed_keystrokes);
  g_test_add_func ("/flow/text/order-independence/fixed", test_order_independence_fixed);
  g_test_add_func ("/flow/text/order-independence/random", test_order_independence_random);
  g_test_add_func ("/flow/text/edits/change-func", test_edits_change_func);
  g_test_add_func ("/flow/text/edits/scattered-delete", test_edits_scattered_delete);
  g_test_add_func ("/flow/text/edits/kept", test_edits_kept);
  g_test_add_func ("/flow/text/delete/already-deleted", test_delete_deleted);
  g_test_add_func ("/flow/text/errors", test_errors);
  g_test_add_func ("/flow/text/encode/keystrokes", test_keystroke_encoding);
  g_test_add_func ("/flow/text/random/replicas", test_random_replicas);

  return g_test_run ();
}
