/* test-decode.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Robustness of the decoders: the trust boundary of the core.
 *
 * flow-batch.c promises that any byte string either decodes or yields a
 * GError, and never crashes, hangs or over-allocates. We feed it random
 * bytes, and valid batches (changes, catch-up batches and whole documents
 * of pages, boards and catalogs made by real edits) with random mutations:
 * bit flips, truncation, insertion, deletion, duplicated and spliced
 * chunks, huge varints, with the checksum of whole documents recomputed so
 * the mutation reaches the chunks. Every input goes to flow_doc_apply() on
 * new and non-empty documents of every kind, to flow_doc_load() and to
 * flow_version_vector_decode(). Each call must succeed or fail with a
 * FLOW_CORE_ERROR of a documented code, and a document that accepted an
 * input must still be consistent: its text tree passes flow_text_check(),
 * and its own encodings (whole and catch-up) load back to the same state.
 *
 * Then hand-made hostile batches: 2^24 ops claimed in a few bytes, deflate
 * bombs, deletes of things that are not characters, references to ops that
 * do not exist, the wrong kind of document and newer formats.
 *
 * FLOW_TEST_SEED=S reruns a run; FLOW_DECODE_ITERATIONS=N sets how many
 * mutated inputs each random test feeds (for soaking).
 */

#include "config.h"

#include <string.h>
#include <sys/resource.h>
#include <zlib.h>
#include <unistd.h>

#include "flow-chat.h"
#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-test-util.h"

static const FlowOpId doc_ids[] = {
  { 0x1234, 1 }, /* page */
  { 0x1234, 2 }, /* board */
  { 0, 0 },      /* catalog */
  { 0, 1 },      /* chat */
};

/* ------------------------------------------------------------------------
 * Documents
 * ------------------------------------------------------------------------ */

static FlowDoc *
new_doc (FlowDocKind   kind,
         FlowReplicaId replica)
{
  return flow_doc_new (kind, &doc_ids[kind], replica);
}

static gboolean
same_version (FlowDoc *a,
              FlowDoc *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);
  g_autofree char *sa = flow_version_vector_to_string (va);
  g_autofree char *sb = flow_version_vector_to_string (vb);

  /* Compared as strings, so a failure message could show them. */
  return g_str_equal (sa, sb);
}

/* Describes how two documents differ (text or map state), or NULL. */
static char *
difference (FlowDoc *a,
            FlowDoc *b)
{
  g_autoptr(GArray) ea = NULL;
  g_autoptr(GArray) eb = NULL;

  if (!same_version (a, b))
    return g_strdup ("version vectors differ");

  if (flow_doc_get_kind (a) == FLOW_DOC_KIND_PAGE)
    {
      g_autofree char *ta = flow_doc_dup_text (a);
      g_autofree char *tb = flow_doc_dup_text (b);

      if (g_str_equal (ta, tb))
        return NULL;
      return g_strdup_printf ("texts differ: \"%s\" vs \"%s\"", ta, tb);
    }

  ea = flow_doc_list_entities (a, TRUE);
  eb = flow_doc_list_entities (b, TRUE);
  if (ea->len != eb->len)
    return g_strdup ("entity counts differ");
  for (guint i = 0; i < ea->len; i++)
    {
      const FlowOpId *id = &g_array_index (ea, FlowOpId, i);
      g_auto(GStrv) names = flow_doc_dup_property_names (a, id);

      if (!flow_op_id_equal (id, &g_array_index (eb, FlowOpId, i)))
        return g_strdup ("entity ids differ");
      if (g_strcmp0 (flow_doc_get_entity_kind (a, id), flow_doc_get_entity_kind (b, id)) != 0)
        return g_strdup ("entity kinds differ");
      for (guint k = 0; names != NULL && names[k] != NULL; k++)
        if (!flow_value_equal (flow_doc_get_property (a, id, names[k]),
                               flow_doc_get_property (b, id, names[k])))
          return g_strdup_printf ("property %s differs", names[k]);
    }
  return NULL;
}

/* ------------------------------------------------------------------------
 * Feeding one input
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint32     seed;
  guint       iteration;
  const char *how;       /* what made the input */
  GBytes     *input;
  FlowDoc    *bases[FLOW_DOC_KIND_LAST + 1];  /* non-empty documents, by kind; copied per input */
  GBytes     *base_bytes[FLOW_DOC_KIND_LAST + 1];
  guint       n_accepted;
  guint       n_refused;
  guint       n_trusted_order;
} Feed;

static char *
hex (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len && i < 512; i++)
    g_string_append_printf (s, "%02x", data[i]);
  if (len > 512)
    g_string_append (s, "...");
  return g_string_free (s, FALSE);
}

G_GNUC_NORETURN static void feed_fail (Feed       *f,
                                       const char *format,
                                       ...) G_GNUC_PRINTF (2, 3);

/* Fails with everything needed to replay the input. */
static void
feed_fail (Feed       *f,
           const char *format,
           ...)
{
  g_autofree char *msg = NULL;
  g_autofree char *bytes = hex (f->input);
  va_list args;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_error ("seed %u, iteration %u (%s): %s\ninput (%zu bytes): %s\n(rerun with FLOW_TEST_SEED=%u)",
           f->seed, f->iteration, f->how, msg, g_bytes_get_size (f->input), bytes, f->seed);
}

/* A refusal must be a FLOW_CORE_ERROR with one of the allowed codes. */
static void
check_refusal (Feed         *f,
               const char   *what,
               const GError *error,
               gboolean      wrong_kind_ok)
{
  if (error == NULL)
    feed_fail (f, "%s failed without an error", what);
  if (error->domain != FLOW_CORE_ERROR)
    feed_fail (f, "%s failed with an error of domain %s", what, g_quark_to_string (error->domain));
  if (error->code != FLOW_CORE_ERROR_MALFORMED && error->code != FLOW_CORE_ERROR_UNSUPPORTED &&
      !(wrong_kind_ok && error->code == FLOW_CORE_ERROR_WRONG_KIND))
    feed_fail (f, "%s failed with code %d: %s", what, error->code, error->message);
  f->n_refused++;
}

/* A document that accepted something is consistent: its text tree, and
 * its whole and catch-up encodings load back to the same state. */
static void
check_consistent (Feed       *f,
                  FlowDoc    *doc,
                  const char *what)
{
  FlowDocKind kind = flow_doc_get_kind (doc);
  g_autoptr(GBytes) whole = flow_doc_encode (doc);
  g_autoptr(GBytes) since = flow_doc_encode_since (doc, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(FlowDoc) caught_up = new_doc (kind, 78);
  g_autofree char *diff = NULL;

  if (kind == FLOW_DOC_KIND_PAGE)
    {
      g_autofree char *text = flow_doc_dup_text (doc);

      flow_text_check (doc->text);
      if (!g_utf8_validate (text, -1, NULL) ||
          g_utf8_strlen (text, -1) != flow_doc_get_length (doc))
        feed_fail (f, "%s: the text is not %u characters of UTF-8", what,
                   flow_doc_get_length (doc));
    }

  loaded = flow_doc_load (whole, 77, &error);
  if (loaded == NULL)
    feed_fail (f, "%s: its own encoding does not load: %s", what, error->message);
  else if ((diff = difference (doc, loaded)) != NULL)
    feed_fail (f, "%s: its own encoding loads to another state: %s", what, diff);
  g_clear_error (&error);

  if (since != NULL && !flow_doc_apply (caught_up, since, &error))
    feed_fail (f, "%s: its catch-up batch is refused: %s", what, error->message);
  else if (flow_doc_get_n_pending (caught_up) > 0)
    feed_fail (f, "%s: its catch-up batch waits for ops", what);
  else if ((diff = difference (doc, caught_up)) != NULL)
    feed_fail (f, "%s: its catch-up batch gives another state: %s", what, diff);
}

static void
feed_apply (Feed       *f,
            FlowDoc    *doc,
            const char *what)
{
  g_autoptr(GError) error = NULL;
  guint64 n_ops = flow_doc_get_n_ops (doc);

  if (!flow_doc_apply (doc, f->input, &error))
    {
      check_refusal (f, what, error, TRUE);
      if (flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE)
        flow_text_check (doc->text);
      return;
    }
  if (error != NULL)
    feed_fail (f, "%s succeeded but set an error", what);
  f->n_accepted++;
  if (flow_doc_get_n_ops (doc) != n_ops || flow_doc_get_n_pending (doc) > 0)
    check_consistent (f, doc, what);
}

static void
feed_load (Feed *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) doc = NULL;
  g_autoptr(FlowDoc) applied = NULL;
  g_autofree char *diff = NULL;

  doc = flow_doc_load (f->input, 5, &error);
  if (doc == NULL)
    {
      check_refusal (f, "flow_doc_load()", error, FALSE);
      return;
    }
  if (error != NULL)
    feed_fail (f, "flow_doc_load() succeeded but set an error");
  f->n_accepted++;

  /* Loading trusts the stored document order (docs/format.md, "Loading
   * whole documents"); applying the same bytes integrates every insert by
   * its origins. They agree on everything flow_doc_encode() writes. */
  applied = new_doc (flow_doc_get_kind (doc), 6);
  if (!flow_doc_apply (applied, f->input, &error))
    feed_fail (f, "flow_doc_load() accepts what flow_doc_apply() refuses: %s", error->message);
  if ((diff = difference (doc, applied)) != NULL)
    {
      /* A stored order that disagrees with the origins: documented,
       * see /flow/decode/hostile/load-order. */
      f->n_trusted_order++;
      return;
    }
  check_consistent (f, doc, "a loaded document");
}

static void
feed_version (Feed *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) vv = flow_version_vector_decode (f->input, &error);
  g_autoptr(GBytes) again = NULL;

  if (vv == NULL)
    {
      if (!g_error_matches (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED))
        feed_fail (f, "flow_version_vector_decode() failed without a MALFORMED error");
      return;
    }
  /* "Every vector has exactly one encoding." */
  again = flow_version_vector_encode (vv);
  if (!g_bytes_equal (again, f->input))
    feed_fail (f, "flow_version_vector_decode() accepted a non-canonical encoding");
}

/* Sends the input everywhere. */
static void
feed (Feed *f)
{
  static const char * const fresh_names[] = { "a new page", "a new board", "a new catalog", "a new chat" };
  static const char * const base_names[] = { "a page", "a board", "a catalog", "a chat" };

  for (guint k = 0; k <= FLOW_DOC_KIND_LAST; k++)
    {
      g_autoptr(FlowDoc) fresh = new_doc (k, 9);
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowDoc) base = flow_doc_load (f->base_bytes[k], 77, &error);

      g_assert_no_error (error);
      feed_apply (f, fresh, fresh_names[k]);
      feed_apply (f, base, base_names[k]);
    }
  feed_load (f);
  feed_version (f);
}

/* ------------------------------------------------------------------------
 * A corpus of valid batches
 * ------------------------------------------------------------------------ */

static void
collect_change (FlowDoc    *doc,
                FlowChange *change,
                gpointer    user_data)
{
  GPtrArray *corpus = user_data;

  g_ptr_array_add (corpus, g_bytes_ref (flow_change_get_bytes (change)));
}

static void
sync_docs (FlowDoc *a,
           FlowDoc *b)
{
  flow_test_sync_pair (a, b);
}

/* Catch-up batches from several versions, and the whole document. */
static void
collect_state (GPtrArray *corpus,
               FlowDoc   *doc)
{
  guint64 n = flow_doc_get_n_ops (doc);

  g_ptr_array_add (corpus, flow_doc_encode (doc));
  for (guint i = 0; i < 3 && n > 0; i++)
    {
      g_autoptr(FlowVersionVector) v = flow_doc_dup_version_at (doc, n * i / 3);
      GBytes *since = flow_doc_encode_since (doc, v);

      if (since != NULL)
        g_ptr_array_add (corpus, since);
    }
}

static void
type_text (FlowDoc    *doc,
           guint       pos,
           const char *text)
{
  g_autoptr(GError) error = NULL;

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      g_assert_true (flow_doc_insert_text (doc, pos++, p, g_utf8_next_char (p) - p, &error));
      g_assert_no_error (error);
    }
}

static void
build_page_corpus (GPtrArray *corpus,
                   GBytes   **base)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 1);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 0xfedcba9876543210);
  g_autoptr(GString) big = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  gint64 clock = 0;

  flow_doc_set_clock (a, flow_test_clock, &clock, NULL);
  flow_doc_add_change_func (a, collect_change, corpus, NULL);
  flow_doc_add_change_func (b, collect_change, corpus, NULL);

  /* Whole-word inserts, a range delete, backspacing: the base page. */
  g_assert_true (flow_doc_insert_text (a, 0, "Hello, world!\n", -1, &error));
  g_assert_true (flow_doc_insert_text (a, 7, "wonderful ", -1, &error));
  g_assert_true (flow_doc_delete_text (a, 0, 7, &error));
  for (guint i = 0; i < 3; i++)
    g_assert_true (flow_doc_delete_text (a, flow_doc_get_length (a) - 2 - i, 1, &error));
  g_assert_true (flow_doc_insert_text (a, 0, "# Notes\n", -1, &error));
  g_assert_no_error (error);
  *base = flow_doc_encode (a);

  /* Then keystrokes in several scripts, a long compressible paste,
   * concurrent edits, undo and redo. */
  clock += G_USEC_PER_SEC;
  type_text (a, flow_doc_get_length (a), "Grüße, 世界 😀 ok");
  for (guint i = 0; i < 40; i++)
    g_string_append (big, "the quick brown fox jumps over the lazy dog ");
  g_assert_true (flow_doc_insert_text (a, 3, big->str, -1, &error));
  sync_docs (a, b);
  type_text (b, 2, "BBB");
  g_assert_true (flow_doc_delete_text (b, 10, 30, &error));
  type_text (a, 2, "aé");
  clock += G_USEC_PER_SEC;
  g_assert_true (flow_doc_undo (a));
  clock += G_USEC_PER_SEC;
  g_assert_true (flow_doc_undo (a));
  g_assert_true (flow_doc_redo (a));
  flow_doc_begin_change (b);
  g_assert_true (flow_doc_insert_text (b, 0, "x", -1, &error));
  g_assert_true (flow_doc_delete_text (b, 5, 2, &error));
  g_assert_true (flow_doc_insert_text (b, 1, "ÿ", -1, &error));
  flow_doc_end_change (b);
  g_assert_no_error (error);
  sync_docs (a, b);
  collect_state (corpus, a);
  collect_state (corpus, b);
}

static gboolean
set_value (FlowDoc        *doc,
           const FlowOpId *id,
           const char     *key,
           FlowValue      *value)
{
  g_autoptr(FlowValue) owned = value;
  g_autoptr(GError) error = NULL;
  gboolean ok = flow_doc_set_property (doc, id, key, owned, &error);

  g_assert_no_error (error);
  return ok;
}

static void
build_board_corpus (GPtrArray *corpus,
                    GBytes   **base)
{
  static const FlowPoint pts[] = { { 0, 0, 1 }, { 10.5f, -3, 0.5f }, { 20, 8, 0 } };
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 3);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_BOARD, 1ull << 63);
  g_autoptr(GBytes) image = g_bytes_new_static ("\x89PNG\r\n\x1a\n\0\0", 10);
  g_autoptr(GError) error = NULL;
  g_autofree char *z1 = NULL;
  g_autofree char *z2 = NULL;
  FlowOpId r1, r2, arrow;

  flow_doc_add_change_func (a, collect_change, corpus, NULL);
  flow_doc_add_change_func (b, collect_change, corpus, NULL);

  flow_doc_begin_change (a);
  g_assert_true (flow_doc_create_entity (a, "rect", &r1, &error));
  set_value (a, &r1, "x", flow_value_new_number (10));
  set_value (a, &r1, "y", flow_value_new_number (-20.25));
  set_value (a, &r1, "w", flow_value_new_number (100));
  set_value (a, &r1, "h", flow_value_new_number (50));
  set_value (a, &r1, "fill", flow_value_new_color (0x336699ff));
  z1 = flow_doc_dup_order_key_between (a, NULL, NULL);
  set_value (a, &r1, "z", flow_value_new_string (z1));
  flow_doc_end_change (a);
  *base = flow_doc_encode (a);

  g_assert_true (flow_doc_create_entity (a, "ellipse", &r2, &error));
  z2 = flow_doc_dup_order_key_between (a, &r1, NULL);
  set_value (a, &r2, "z", flow_value_new_string (z2));
  set_value (a, &r2, "text", flow_value_new_string ("Grüße 😀"));
  set_value (a, &r2, "stroke", flow_value_new_color (0xff0000ff));
  set_value (a, &r2, "image", flow_value_new_bytes (image));
  set_value (a, &r2, "mime_type", flow_value_new_string ("image/png"));
  set_value (a, &r2, "custom_key", flow_value_new_bool (TRUE));
  sync_docs (a, b);

  flow_doc_begin_change (b);
  g_assert_true (flow_doc_create_entity (b, "arrow", &arrow, &error));
  set_value (b, &arrow, "points", flow_value_new_points (pts, G_N_ELEMENTS (pts)));
  set_value (b, &arrow, "start", flow_value_new_ref (&r1));
  set_value (b, &arrow, "end", flow_value_new_ref (&r2));
  set_value (b, &r1, "x", flow_value_new_number (11));
  flow_doc_end_change (b);
  set_value (a, &r1, "deleted", flow_value_new_bool (TRUE));
  set_value (a, &r2, "fill", flow_value_new_null ());
  g_assert_true (flow_doc_undo (a));
  sync_docs (a, b);
  set_value (b, &arrow, "end", flow_value_new_ref (&arrow));
  g_assert_no_error (error);
  collect_state (corpus, a);
  collect_state (corpus, b);
}

static void
build_catalog_corpus (GPtrArray *corpus,
                      GBytes   **base)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_CATALOG, 5);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_CATALOG, 6);
  g_autoptr(GError) error = NULL;
  g_autofree char *o1 = NULL;
  g_autofree char *o2 = NULL;
  FlowOpId page, board;

  flow_doc_add_change_func (a, collect_change, corpus, NULL);
  flow_doc_add_change_func (b, collect_change, corpus, NULL);

  flow_doc_begin_change (a);
  g_assert_true (flow_doc_create_entity (a, "page", &page, &error));
  set_value (a, &page, "title", flow_value_new_string ("Plans"));
  o1 = flow_doc_dup_order_key_between (a, NULL, NULL);
  set_value (a, &page, "order", flow_value_new_string (o1));
  flow_doc_end_change (a);
  *base = flow_doc_encode (a);

  sync_docs (a, b);
  flow_doc_begin_change (b);
  g_assert_true (flow_doc_create_entity (b, "board", &board, &error));
  set_value (b, &board, "title", flow_value_new_string ("Sketches ✏"));
  set_value (b, &board, "folder", flow_value_new_string ("Work/2026"));
  o2 = flow_doc_dup_order_key_between (b, &page, NULL);
  set_value (b, &board, "order", flow_value_new_string (o2));
  flow_doc_end_change (b);
  set_value (a, &page, "title", flow_value_new_string ("Plans, v2"));
  set_value (a, &page, "deleted", flow_value_new_bool (TRUE));
  sync_docs (a, b);
  g_assert_no_error (error);
  collect_state (corpus, a);
  collect_state (corpus, b);
}

static void
build_chat_corpus (GPtrArray *corpus,
                   GBytes   **base)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_CHAT, 5);
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_CHAT, 6);
  g_autoptr(GError) error = NULL;

  flow_doc_add_change_func (a, collect_change, corpus, NULL);
  flow_doc_add_change_func (b, collect_change, corpus, NULL);

  g_assert_true (flow_chat_post (a, "Ada", 0x3584e4ff, "Hello 👋", 1000, NULL, &error));
  *base = flow_doc_encode (a);
  sync_docs (a, b);
  g_assert_true (flow_chat_post (b, "Grace", 0xe01b24ff, "@ada hi!", 2000, NULL, &error));
  g_assert_true (flow_chat_post (a, "", 0, "same time", 2000, NULL, &error));
  sync_docs (a, b);
  g_assert_no_error (error);
  collect_state (corpus, a);
  collect_state (corpus, b);
}

typedef struct
{
  GPtrArray *corpus;  /* GBytes: valid batches of every kind */
  GBytes    *base[FLOW_DOC_KIND_LAST + 1]; /* by kind: small whole documents to apply to */
} Corpus;

static void
corpus_init (Corpus *c)
{
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();

  c->corpus = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  build_page_corpus (c->corpus, &c->base[FLOW_DOC_KIND_PAGE]);
  build_board_corpus (c->corpus, &c->base[FLOW_DOC_KIND_BOARD]);
  build_catalog_corpus (c->corpus, &c->base[FLOW_DOC_KIND_CATALOG]);
  build_chat_corpus (c->corpus, &c->base[FLOW_DOC_KIND_CHAT]);

  /* Version vectors too, for flow_version_vector_decode(). */
  g_ptr_array_add (c->corpus, flow_version_vector_encode (vv));
  flow_version_vector_set (vv, 1, 5);
  flow_version_vector_set (vv, G_MAXUINT64, G_MAXUINT64);
  flow_version_vector_set (vv, 0x8000, 1);
  g_ptr_array_add (c->corpus, flow_version_vector_encode (vv));
}

static void
corpus_clear (Corpus *c)
{
  g_clear_pointer (&c->corpus, g_ptr_array_unref);
  for (guint k = 0; k < G_N_ELEMENTS (c->base); k++)
    g_clear_pointer (&c->base[k], g_bytes_unref);
}

/* The corpus itself must go through unharmed. */
static void
test_valid_corpus (void)
{
  Corpus c;
  Feed f = { 0, };

  corpus_init (&c);
  g_assert_cmpuint (c.corpus->len, >, 30);
  for (guint k = 0; k < G_N_ELEMENTS (c.base); k++)
    f.base_bytes[k] = c.base[k];
  for (guint i = 0; i < c.corpus->len; i++)
    {
      f.iteration = i;
      f.how = "valid corpus entry";
      f.input = g_ptr_array_index (c.corpus, i);
      feed (&f);
    }
  g_test_message ("%u corpus entries: %u accepted, %u refused, %u loaded in a stored order the origins disagree with",
                  c.corpus->len, f.n_accepted, f.n_refused, f.n_trusted_order);
  corpus_clear (&c);
}

/* ------------------------------------------------------------------------
 * Mutations
 * ------------------------------------------------------------------------ */

static void
insert_bytes (GByteArray   *a,
              guint         at,
              const guint8 *data,
              guint         len)
{
  g_autoptr(GByteArray) tail = g_byte_array_new ();

  g_byte_array_append (tail, a->data + at, a->len - at);
  g_byte_array_set_size (a, at);
  g_byte_array_append (a, data, len);
  g_byte_array_append (a, tail->data, tail->len);
}

/* Writes @v as a varint over the bytes at @at. */
static void
put_varint_at (GByteArray *a,
               guint       at,
               guint64     v)
{
  guint8 tmp[10];
  guint n = 0;

  while (v >= 0x80)
    {
      tmp[n++] = (guint8) (v | 0x80);
      v >>= 7;
    }
  tmp[n++] = (guint8) v;
  g_byte_array_remove_range (a, at, MIN (n, a->len - at));
  insert_bytes (a, at, tmp, n);
}

static const char *
mutate_once (GRand      *rand,
             GByteArray *a,
             GPtrArray  *corpus)
{
  guint len = a->len;
  guint at = len ? g_rand_int_range (rand, 0, len) : 0;

  switch (g_rand_int_range (rand, 0, 10))
    {
    case 0:
      if (len == 0)
        return "nothing";
      a->data[at] ^= 1 << g_rand_int_range (rand, 0, 8);
      return "bit flip";
    case 1:
      if (len == 0)
        return "nothing";
      a->data[at] = (guint8) g_rand_int (rand);
      return "random byte";
    case 2:
      g_byte_array_set_size (a, at);
      return "truncation";
    case 3:
      {
        guint8 junk[8];
        guint n = g_rand_int_range (rand, 1, 9);

        for (guint i = 0; i < n; i++)
          junk[i] = (guint8) g_rand_int (rand);
        insert_bytes (a, at, junk, n);
        return "insertion";
      }
    case 4:
      if (len == 0)
        return "nothing";
      g_byte_array_remove_range (a, at, g_rand_int_range (rand, 1, MIN (len - at, 16) + 1));
      return "deletion";
    case 5:
      {
        /* A stretch copied elsewhere: a duplicated chunk, most likely. */
        guint from = len ? g_rand_int_range (rand, 0, len) : 0;
        guint n = len ? g_rand_int_range (rand, 1, MIN (len - from, 64) + 1) : 0;
        g_autofree guint8 *copy = g_memdup2 (a->data + from, n);

        insert_bytes (a, at, copy, n);
        return "duplicated stretch";
      }
    case 6:
      {
        static const guint64 huge[] = {
          G_MAXUINT64, G_MAXUINT32, 1u << 24, (1u << 24) + 1, 1ull << 40, G_MAXINT64, 0x80,
        };

        put_varint_at (a, at, huge[g_rand_int_range (rand, 0, G_N_ELEMENTS (huge))]);
        return "huge varint";
      }
    case 7:
      {
        /* An overlong varint: eleven bytes, or bits above 64. */
        static const guint8 overlong[] = {
          0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        };

        insert_bytes (a, at, overlong, g_rand_int_range (rand, 2, G_N_ELEMENTS (overlong) + 1));
        return "overlong varint";
      }
    case 8:
      {
        /* Splice: our head, another entry's tail. */
        GBytes *other = g_ptr_array_index (corpus, g_rand_int_range (rand, 0, corpus->len));
        gsize olen;
        const guint8 *odata = g_bytes_get_data (other, &olen);
        guint from = olen ? g_rand_int_range (rand, 0, olen) : 0;

        g_byte_array_set_size (a, at);
        g_byte_array_append (a, odata + from, olen - from);
        return "splice";
      }
    default:
      if (len == 0)
        return "nothing";
      a->data[at] = g_rand_boolean (rand) ? 0 : 0xff;
      return "zero or 0xff byte";
    }
}

/* Whole documents end in a CRC-32: recompute it so the mutation reaches
 * the chunks. */
static void
fix_crc (GByteArray *a)
{
  guint32 crc;

  if (a->len < 8 || memcmp (a->data, FLOW_FORMAT_MAGIC, 4) != 0)
    return;
  crc = GUINT32_TO_LE (flow_crc32 (a->data, a->len - 4));
  memcpy (a->data + a->len - 4, &crc, 4);
}

static void
run_mutations (guint fallback)
{
  guint32 seed = flow_test_seed ();
  guint n = flow_test_iterations ("FLOW_DECODE_ITERATIONS", fallback);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  Corpus c;
  Feed f = { 0, };

  corpus_init (&c);
  f.seed = seed;
  for (guint k = 0; k < G_N_ELEMENTS (c.base); k++)
    f.base_bytes[k] = c.base[k];

  for (guint i = 0; i < n; i++)
    {
      GBytes *orig = g_ptr_array_index (c.corpus, g_rand_int_range (rand, 0, c.corpus->len));
      gsize len;
      const guint8 *data = g_bytes_get_data (orig, &len);
      g_autoptr(GByteArray) a = g_byte_array_new ();
      g_autoptr(GBytes) input = NULL;
      guint n_mut = g_rand_int_range (rand, 1, 4);
      g_autofree char *how = NULL;
      const char *last = NULL;
      gboolean had_crc = len >= 8 && (data[6] & FLOW_BATCH_FLAG_CRC) != 0;

      g_byte_array_append (a, data, len);
      for (guint m = 0; m < n_mut; m++)
        last = mutate_once (rand, a, c.corpus);
      if (had_crc && g_rand_int_range (rand, 0, 4) != 0)
        fix_crc (a);

      how = g_strdup_printf ("%u mutations, the last a %s", n_mut, last);
      input = g_bytes_new (a->data, a->len);
      f.iteration = i;
      f.how = how;
      f.input = input;
      feed (&f);
    }

  g_test_message ("%u mutated inputs: %u calls accepted, %u refused, %u loaded in a stored order the origins disagree with", n,
                  f.n_accepted, f.n_refused, f.n_trusted_order);
  corpus_clear (&c);
}

static void
test_mutations (void)
{
  run_mutations (15000);
}

/* Random bytes, bare or behind a valid header. */
static void
test_random_bytes (void)
{
  guint32 seed = flow_test_seed ();
  guint n = flow_test_iterations ("FLOW_DECODE_ITERATIONS", 3000);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  Corpus c;
  Feed f = { 0, };

  corpus_init (&c);
  f.seed = seed;
  for (guint k = 0; k < G_N_ELEMENTS (c.base); k++)
    f.base_bytes[k] = c.base[k];

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GByteArray) a = g_byte_array_new ();
      g_autoptr(GBytes) input = NULL;
      guint len = g_rand_int_range (rand, 0, 96);
      gboolean header = g_rand_int_range (rand, 0, 4) != 0;

      if (header)
        {
          /* Magic, version 1, a kind, flags; then chunk-shaped noise: small
           * increasing types with plausible lengths. */
          guint8 h[] = { 'F', 'L', 'O', 'W', 1, (guint8) g_rand_int_range (rand, 0, 3),
                         (guint8) g_rand_int_range (rand, 0, 2) };
          guint type = 0;

          g_byte_array_append (a, h, sizeof h);
          while (a->len < len)
            {
              guint8 chunk[2];
              guint clen = g_rand_int_range (rand, 0, 12);

              type += g_rand_int_range (rand, 1, 3);
              chunk[0] = (guint8) type;
              chunk[1] = (guint8) clen;
              g_byte_array_append (a, chunk, 2);
              for (guint k = 0; k < clen; k++)
                {
                  guint8 b = g_rand_int_range (rand, 0, 3) == 0 ? g_rand_int (rand)
                                                                  : g_rand_int_range (rand, 0, 8);

                  g_byte_array_append (a, &b, 1);
                }
            }
        }
      else
        for (guint k = 0; k < len; k++)
          {
            guint8 b = (guint8) g_rand_int (rand);

            g_byte_array_append (a, &b, 1);
          }

      input = g_bytes_new (a->data, a->len);
      f.iteration = i;
      f.how = header ? "random chunks behind a header" : "random bytes";
      f.input = input;
      feed (&f);
    }

  g_test_message ("%u random inputs: %u calls accepted, %u refused", n, f.n_accepted, f.n_refused);
  corpus_clear (&c);
}

/* Strings for flow_version_vector_parse(): what it accepts prints back to
 * something it parses to the same vector. */
static void
test_version_strings (void)
{
  static const char * const seeds[] = {
    "0", "", "00c0ffee00c0ffee:12,0badcafe0badcafe:3", "0000000000000001:1",
    "ffffffffffffffff:18446744073709551615", "0000000000000001:0,0000000000000001:5",
    "0000000000000001:18446744073709551616", "00000000000000001:1", "000000000000000g:1",
    "0000000000000001:+1", "0000000000000001: 1", ",", "0000000000000001:1,", "x:y",
  };
  static const char alphabet[] = "0123456789abcdefABCDEF:,+- gx\xc3\xa9";
  guint32 seed = flow_test_seed ();
  guint n = flow_test_iterations ("FLOW_DECODE_ITERATIONS", 3000);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  for (guint i = 0; i < n + G_N_ELEMENTS (seeds); i++)
    {
      g_autofree char *str = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowVersionVector) vv = NULL;

      if (i < G_N_ELEMENTS (seeds))
        str = g_strdup (seeds[i]);
      else
        {
          GString *s = g_string_new (seeds[g_rand_int_range (rand, 0, G_N_ELEMENTS (seeds))]);
          guint n_mut = g_rand_int_range (rand, 1, 4);

          for (guint m = 0; m < n_mut; m++)
            {
              guint at = g_rand_int_range (rand, 0, s->len + 1);
              char ch = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];

              if (g_rand_boolean (rand) && at < s->len)
                g_string_erase (s, at, 1);
              else
                g_string_insert_c (s, at, ch);
            }
          str = g_string_free (s, FALSE);
        }

      vv = flow_version_vector_parse (str, &error);
      if (vv == NULL)
        {
          g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_VERSION);
          continue;
        }
      g_assert_no_error (error);
      {
        g_autofree char *printed = flow_version_vector_to_string (vv);
        g_autoptr(FlowVersionVector) again = flow_version_vector_parse (printed, &error);
        g_autofree char *printed2 = NULL;

        g_assert_no_error (error);
        printed2 = flow_version_vector_to_string (again);
        g_assert_cmpstr (printed, ==, printed2);
      }
    }
}

/* ------------------------------------------------------------------------
 * Hand-made batches
 * ------------------------------------------------------------------------ */

/* Builds FlowSync data chunk by chunk (docs/format.md). */
typedef struct
{
  FlowBuf buf;
  gsize   mark;
} Builder;

static void
builder_init (Builder     *b,
              guint64      version,
              FlowDocKind  kind,
              guint64      flags)
{
  flow_buf_init (&b->buf, 64);
  flow_buf_put_bytes (&b->buf, FLOW_FORMAT_MAGIC, 4);
  flow_buf_put_varint (&b->buf, version);
  flow_buf_put_varint (&b->buf, kind);
  flow_buf_put_varint (&b->buf, flags);
}

static void
builder_begin (Builder *b,
               guint    type)
{
  b->mark = flow_buf_begin_chunk (&b->buf, type);
}

static void
builder_end (Builder *b)
{
  flow_buf_end_chunk (&b->buf, b->mark);
}

static void
builder_varints (Builder *b,
                 guint    n,
                 ...)
{
  va_list args;

  va_start (args, n);
  for (guint i = 0; i < n; i++)
    flow_buf_put_varint (&b->buf, va_arg (args, guint64));
  va_end (args);
}

static void
builder_agents (Builder *b,
                guint    n,
                ...)
{
  va_list args;

  builder_begin (b, FLOW_CHUNK_AGENTS);
  flow_buf_put_varint (&b->buf, n);
  va_start (args, n);
  for (guint i = 0; i < n; i++)
    flow_buf_put_u64le (&b->buf, va_arg (args, guint64));
  va_end (args);
  builder_end (b);
}

static GBytes *
builder_finish (Builder *b)
{
  return flow_buf_steal_bytes (&b->buf);
}

/* Reference encodings (flow-batch.c, read_ref()). */
#define REF_NONE              ((guint64) 0)
#define REF_BACK(d)           (((guint64) (d) << 2) | 1)
#define REF_EXT(agent)        (((guint64) (agent) << 2) | 2)

/* Graph run header: ((len - 1) << 2) | explicit_seq << 1 | parent_prev. */
#define GRAPH_RUN(len, explicit_seq, prev) \
  ((((guint64) (len) - 1) << 2) | ((explicit_seq) ? 2 : 0) | ((prev) ? 1 : 0))

/* Text run header: ((len - 1) << 3) | bit2 << 2 | bit1 << 1 | kind. */
#define TEXT_RUN(len, kind, bit1, bit2) \
  ((((guint64) (len) - 1) << 3) | ((bit2) ? 4 : 0) | ((bit1) ? 2 : 0) | (kind))

static void
assert_refused (FlowDoc *doc,
                GBytes  *bytes,
                gint     code)
{
  g_autoptr(GError) error = NULL;
  guint64 n_ops = flow_doc_get_n_ops (doc);

  g_assert_false (flow_doc_apply (doc, bytes, &error));
  g_assert_error (error, FLOW_CORE_ERROR, code);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, n_ops);
  g_assert_cmpuint (flow_doc_get_n_pending (doc), ==, 0);
}

/* A page holding "ab" from replica 1 (seqs 0, 1), and "a" deleted by
 * replica 1 (seq 2). */
static FlowDoc *
page_ab (void)
{
  FlowDoc *doc = new_doc (FLOW_DOC_KIND_PAGE, 1);
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_insert_text (doc, 0, "ab", -1, &error));
  g_assert_true (flow_doc_delete_text (doc, 0, 1, &error));
  g_assert_no_error (error);
  return doc;
}

/* One op by replica 2 (seq 0), parent (1, 2), as one text run. */
static GBytes *
page_update (guint64 run_header,
             guint64 ref_kind,
             guint64 ref_seq,
             gboolean with_content)
{
  Builder b;

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 2, (guint64) 2, (guint64) 1);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0,
                   (guint64) 1, REF_EXT (1), (guint64) 2);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 2, (guint64) 1, run_header);
  builder_varints (&b, 2, ref_kind, ref_seq);
  /* An insert has a second reference, its origin_right. */
  if ((run_header & 1) == FLOW_TEXT_OP_INSERT)
    builder_varints (&b, 1, REF_NONE);
  builder_end (&b);
  if (with_content)
    {
      builder_begin (&b, FLOW_CHUNK_TEXT_CONTENT);
      builder_varints (&b, 2, (guint64) 0, (guint64) 1);
      flow_buf_put_u8 (&b.buf, 'x');
      builder_end (&b);
    }
  return builder_finish (&b);
}

static void
test_hostile_builder_sane (void)
{
  g_autoptr(FlowDoc) doc = page_ab ();
  g_autoptr(GBytes) ok = page_update (TEXT_RUN (1, FLOW_TEXT_OP_INSERT, 0, 0), REF_EXT (1), 1,
                                      TRUE);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  /* The builder makes batches the decoder takes: "x" after "b". */
  g_assert_true (flow_doc_apply (doc, ok, &error));
  g_assert_no_error (error);
  text = flow_doc_dup_text (doc);
  g_assert_cmpstr (text, ==, "bx");
}

static void
test_hostile_delete_non_insert (void)
{
  g_autoptr(FlowDoc) doc = page_ab ();
  /* Replica 2 deletes op (1, 2), which is itself a delete. */
  g_autoptr(GBytes) bad = page_update (TEXT_RUN (1, FLOW_TEXT_OP_DELETE, 0, 0), REF_EXT (1), 2,
                                       FALSE);

  assert_refused (doc, bad, FLOW_CORE_ERROR_MALFORMED);
  flow_text_check (doc->text);
}

static void
test_hostile_missing_reference (void)
{
  g_autoptr(FlowDoc) doc = page_ab ();
  g_autoptr(GBytes) origin = page_update (TEXT_RUN (1, FLOW_TEXT_OP_INSERT, 0, 0), REF_EXT (1), 999,
                                          TRUE);
  g_autoptr(GBytes) target = page_update (TEXT_RUN (1, FLOW_TEXT_OP_DELETE, 0, 0), REF_EXT (1), 3,
                                          FALSE);
  g_autoptr(GBytes) huge = page_update (TEXT_RUN (1, FLOW_TEXT_OP_DELETE, 0, 0), REF_EXT (1),
                                        G_MAXINT64 - 1, FALSE);
  g_autoptr(FlowDoc) board = new_doc (FLOW_DOC_KIND_BOARD, 1);
  FlowOpId shape;
  Builder b;
  g_autoptr(GBytes) set = NULL;
  g_autoptr(GBytes) ref = NULL;
  g_autoptr(GError) error = NULL;

  assert_refused (doc, origin, FLOW_CORE_ERROR_MALFORMED);
  assert_refused (doc, target, FLOW_CORE_ERROR_MALFORMED);
  assert_refused (doc, huge, FLOW_CORE_ERROR_MALFORMED);

  /* A property write to a shape that does not exist, and a reference
   * value naming one. */
  g_assert_true (flow_doc_create_entity (board, "rect", &shape, &error));
  g_assert_no_error (error);
  for (guint variant = 0; variant < 2; variant++)
    {
      builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_BOARD, 0);
      builder_agents (&b, 2, (guint64) 2, (guint64) 1);
      builder_begin (&b, FLOW_CHUNK_GRAPH);
      builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0,
                       (guint64) 1, REF_EXT (1), (guint64) 0);
      builder_end (&b);
      builder_begin (&b, FLOW_CHUNK_MAP_STRINGS);
      builder_varints (&b, 1, (guint64) 1);
      flow_buf_put_string (&b.buf, "start", 5);
      builder_end (&b);
      builder_begin (&b, FLOW_CHUNK_MAP_OPS);
      /* SET, entity, key 0, a REF value. */
      builder_varints (&b, 4, (guint64) 1, (guint64) FLOW_MAP_OP_SET, REF_EXT (1),
                       (guint64) (variant ? 0 : 7));
      builder_varints (&b, 1, (guint64) 0);
      flow_buf_put_u8 (&b.buf, FLOW_VALUE_REF);
      builder_varints (&b, 2, REF_EXT (1), (guint64) (variant ? 42 : 0));
      builder_end (&b);
      if (variant == 0)
        set = builder_finish (&b);
      else
        ref = builder_finish (&b);
    }
  assert_refused (board, set, FLOW_CORE_ERROR_MALFORMED);
  assert_refused (board, ref, FLOW_CORE_ERROR_MALFORMED);
}

/* A parent that has not arrived is not an error: the batch waits. */
static void
test_hostile_missing_parent (void)
{
  g_autoptr(FlowDoc) doc = page_ab ();
  g_autoptr(GError) error = NULL;
  Builder b;
  g_autoptr(GBytes) bytes = NULL;

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 2, (guint64) 2, (guint64) 1);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0,
                   (guint64) 1, REF_EXT (1), (guint64) 50);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 4, (guint64) 1, TEXT_RUN (1, FLOW_TEXT_OP_INSERT, 0, 0), REF_EXT (1),
                   (guint64) 50);
  builder_varints (&b, 1, REF_NONE);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_CONTENT);
  builder_varints (&b, 2, (guint64) 0, (guint64) 1);
  flow_buf_put_u8 (&b.buf, 'x');
  builder_end (&b);
  bytes = builder_finish (&b);

  g_assert_true (flow_doc_apply (doc, bytes, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (flow_doc_get_n_pending (doc), ==, 1);
  g_assert_cmpuint (flow_doc_get_n_ops (doc), ==, 3);
}

static void
test_hostile_wrong_kind (void)
{
  g_autoptr(FlowDoc) page = page_ab ();
  g_autoptr(FlowDoc) board = new_doc (FLOW_DOC_KIND_BOARD, 2);
  g_autoptr(FlowDoc) catalog = new_doc (FLOW_DOC_KIND_CATALOG, 2);
  g_autoptr(FlowDoc) other = new_doc (FLOW_DOC_KIND_BOARD, 3);
  g_autoptr(GBytes) page_bytes = flow_doc_encode (page);
  g_autoptr(GBytes) board_bytes = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (flow_doc_create_entity (other, "rect", NULL, &error));
  g_assert_no_error (error);
  board_bytes = flow_doc_encode_since (other, NULL);

  assert_refused (board, page_bytes, FLOW_CORE_ERROR_WRONG_KIND);
  assert_refused (catalog, page_bytes, FLOW_CORE_ERROR_WRONG_KIND);
  assert_refused (catalog, board_bytes, FLOW_CORE_ERROR_WRONG_KIND);
  assert_refused (page, board_bytes, FLOW_CORE_ERROR_WRONG_KIND);
}

static void
test_hostile_versions (void)
{
  g_autoptr(FlowDoc) doc = page_ab ();
  g_autoptr(GBytes) good = flow_doc_encode_since (doc, NULL);
  gsize len;
  const guint8 *data = g_bytes_get_data (good, &len);
  struct { guint8 version; guint8 flags; guint extra_chunk; gint code; } cases[] = {
    { 2, 0, 0, FLOW_CORE_ERROR_UNSUPPORTED },      /* a newer format */
    { 127, 0, 0, FLOW_CORE_ERROR_UNSUPPORTED },
    { 0, 0, 0, FLOW_CORE_ERROR_MALFORMED },        /* no such version */
    { 1, 4, 0, FLOW_CORE_ERROR_UNSUPPORTED },      /* an unknown flag */
    { 1, 0, 9, FLOW_CORE_ERROR_UNSUPPORTED },      /* an unknown required chunk */
    { 1, 0, 64, -1 },                              /* an optional chunk: skipped */
    { 1, 0, 200, -1 },
  };

  g_assert_cmpuint (data[4], ==, FLOW_FORMAT_VERSION);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FlowDoc) fresh = new_doc (FLOW_DOC_KIND_PAGE, 3);
      g_autoptr(GByteArray) a = g_byte_array_new ();
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GError) error = NULL;

      g_byte_array_append (a, data, len);
      a->data[4] = cases[i].version;
      a->data[6] = cases[i].flags;
      if (cases[i].extra_chunk >= 128)
        {
          guint8 chunk[] = {
            (guint8) (cases[i].extra_chunk | 0x80), (guint8) (cases[i].extra_chunk >> 7), 1, 0xaa,
          };

          g_byte_array_append (a, chunk, sizeof chunk);
        }
      else if (cases[i].extra_chunk > 0)
        {
          guint8 chunk[] = { (guint8) cases[i].extra_chunk, 2, 0xaa, 0xbb };

          g_byte_array_append (a, chunk, sizeof chunk);
        }
      bytes = g_bytes_new (a->data, a->len);
      if (cases[i].code < 0)
        {
          g_autofree char *text = NULL;

          g_assert_true (flow_doc_apply (fresh, bytes, &error));
          g_assert_no_error (error);
          text = flow_doc_dup_text (fresh);
          g_assert_cmpstr (text, ==, "b");
        }
      else
        {
          g_autoptr(FlowDoc) loaded = NULL;

          assert_refused (fresh, bytes, cases[i].code);
          loaded = flow_doc_load (bytes, 3, &error);
          g_assert_null (loaded);
          g_assert_error (error, FLOW_CORE_ERROR, cases[i].code);
        }
    }
}

/* A whole document with a damaged checksum, or a batch where a document
 * is expected. */
static void
test_hostile_checksum (void)
{
  g_autoptr(FlowDoc) doc = page_ab ();
  g_autoptr(GBytes) whole = flow_doc_encode (doc);
  g_autoptr(GBytes) batch = flow_doc_encode_since (doc, NULL);
  g_autoptr(GByteArray) a = g_byte_array_new ();
  g_autoptr(GBytes) bad = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) loaded = NULL;

  g_byte_array_append (a, g_bytes_get_data (whole, NULL), g_bytes_get_size (whole));
  a->data[a->len / 2] ^= 0x10;
  bad = g_bytes_new (a->data, a->len);
  loaded = flow_doc_load (bad, 2, &error);
  g_assert_null (loaded);
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
  g_clear_error (&error);

  loaded = flow_doc_load (batch, 2, &error);
  g_assert_null (loaded);
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
}

#if defined(__SANITIZE_ADDRESS__)
# define FLOW_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define FLOW_ASAN 1
# endif
#endif

#ifndef FLOW_ASAN
/* The process's virtual memory size in bytes. */
static gsize
vm_size (void)
{
  g_autofree char *statm = NULL;
  gsize pages = 0;

  if (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    pages = g_ascii_strtoull (statm, NULL, 10);
  return pages * (gsize) sysconf (_SC_PAGESIZE);
}
#endif

/*
 * Runs @func in a subprocess that may map at most 512 MiB more than it has,
 * so a decoder that believes a count and allocates for it fails there
 * instead of swapping the machine. (AddressSanitizer reserves terabytes of
 * address space, so there we only check that it finishes.)
 */
static void
run_bounded (void (*func) (void))
{
  if (g_test_subprocess ())
    {
#ifndef FLOW_ASAN
      struct rlimit lim;

      lim.rlim_cur = lim.rlim_max = vm_size () + (512u << 20);
      g_assert_cmpint (setrlimit (RLIMIT_AS, &lim), ==, 0);
#endif
      func ();
      return;
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

#define MANY_OPS (1u << 24)

/* 2^24 ops in a few bytes, in every place a count appears. */
static void
many_ops_child (void)
{
  g_autoptr(FlowDoc) page = page_ab ();
  g_autoptr(FlowDoc) board = new_doc (FLOW_DOC_KIND_BOARD, 1);
  g_autoptr(GError) error = NULL;
  Builder b;
  GBytes *cases[8];
  guint n = 0;

  /* A page run of 2^24 deletes of chars that mostly do not exist. */
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 2, (guint64) 2, (guint64) 1);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (MANY_OPS, FALSE, FALSE), (guint64) 0,
                   (guint64) 1, REF_EXT (1), (guint64) 2);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 3, (guint64) 1, TEXT_RUN (MANY_OPS, FLOW_TEXT_OP_DELETE, 0, 0), REF_EXT (1));
  builder_varints (&b, 1, (guint64) 1);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  /* 2^24 inserts with a few bytes of "text". */
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 1, (guint64) 2);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 4, (guint64) 1, GRAPH_RUN (MANY_OPS, FALSE, FALSE), (guint64) 0,
                   (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 4, (guint64) 1, TEXT_RUN (MANY_OPS, FLOW_TEXT_OP_INSERT, 0, 0), REF_NONE,
                   REF_NONE);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_CONTENT);
  builder_varints (&b, 2, (guint64) 0, (guint64) MANY_OPS);
  flow_buf_put_bytes (&b.buf, "abc", 3);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  /* A board with 2^24 ops and a map-op count to match. */
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_BOARD, 0);
  builder_agents (&b, 1, (guint64) 2);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 4, (guint64) 1, GRAPH_RUN (MANY_OPS, FALSE, FALSE), (guint64) 0,
                   (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_STRINGS);
  builder_varints (&b, 1, (guint64) 1);
  flow_buf_put_string (&b.buf, "rect", 4);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_OPS);
  builder_varints (&b, 3, (guint64) MANY_OPS, (guint64) FLOW_MAP_OP_CREATE, (guint64) 0);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  /* Counts far beyond the limit: agents, graph runs, text-order runs. */
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_begin (&b, FLOW_CHUNK_AGENTS);
  builder_varints (&b, 1, (guint64) 1 << 60);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 1, (guint64) 2);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 3, (guint64) MANY_OPS, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 1, (guint64) 2);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 7, (guint64) 2, GRAPH_RUN (MANY_OPS, FALSE, FALSE), (guint64) 0, (guint64) 0,
                   GRAPH_RUN (MANY_OPS, FALSE, TRUE), (guint64) 0, (guint64) 0);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, FLOW_BATCH_FLAG_FULL);
  builder_agents (&b, 1, (guint64) 2);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 4, (guint64) 1, GRAPH_RUN (MANY_OPS, FALSE, FALSE), (guint64) 0,
                   (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_ORDER);
  builder_varints (&b, 3, (guint64) MANY_OPS, (guint64) 0, (guint64) 1);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  /* A property value: 2^24 points in a few bytes. */
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_BOARD, 0);
  builder_agents (&b, 1, (guint64) 2);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 4, (guint64) 1, GRAPH_RUN (2, FALSE, FALSE), (guint64) 0, (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_STRINGS);
  builder_varints (&b, 1, (guint64) 2);
  flow_buf_put_string (&b.buf, "rect", 4);
  flow_buf_put_string (&b.buf, "points", 6);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_OPS);
  builder_varints (&b, 6, (guint64) 2, (guint64) FLOW_MAP_OP_CREATE, (guint64) 0,
                   (guint64) FLOW_MAP_OP_SET, REF_BACK (1), (guint64) 1);
  flow_buf_put_u8 (&b.buf, FLOW_VALUE_POINTS);
  builder_varints (&b, 1, (guint64) MANY_OPS);
  builder_end (&b);
  cases[n++] = builder_finish (&b);

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (cases));
  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (cases[i], &len);
      FlowDoc *doc = data[5] == FLOW_DOC_KIND_PAGE ? page : board;
      g_autoptr(FlowDoc) loaded = NULL;

      g_assert_cmpuint (len, <, 64);
      g_assert_false (flow_doc_apply (doc, cases[i], &error));
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
      g_clear_error (&error);
      loaded = flow_doc_load (cases[i], 4, &error);
      g_assert_null (loaded);
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
      g_clear_error (&error);
      g_bytes_unref (cases[i]);
    }
  g_assert_cmpuint (flow_doc_get_n_ops (page), ==, 3);
}

static void
test_hostile_many_ops (void)
{
  run_bounded (many_ops_child);
}

/* A raw-deflated run of @n copies of @c. */
static GBytes *
deflated (gsize n,
          char  c)
{
  g_autofree char *raw = g_malloc (n);
  z_stream zs = { 0, };
  gsize cap = n / 500 + 1024;
  guint8 *out = g_malloc (cap);

  memset (raw, c, n);
  g_assert_cmpint (deflateInit2 (&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), ==, Z_OK);
  zs.next_in = (Bytef *) raw;
  zs.avail_in = (uInt) n;
  zs.next_out = out;
  zs.avail_out = (uInt) cap;
  g_assert_cmpint (deflate (&zs, Z_FINISH), ==, Z_STREAM_END);
  deflateEnd (&zs);
  return g_bytes_new_take (out, cap - zs.avail_out);
}

/* One insert run of @n_chars by a new replica, with @codec content that
 * claims @raw_len bytes. */
static GBytes *
page_with_content (guint32  n_chars,
                   guint64  codec,
                   guint64  raw_len,
                   GBytes  *payload)
{
  Builder b;

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 1, (guint64) 9);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 4, (guint64) 1, GRAPH_RUN (n_chars, FALSE, FALSE), (guint64) 0, (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 4, (guint64) 1, TEXT_RUN (n_chars, FLOW_TEXT_OP_INSERT, 0, 0), REF_NONE,
                   REF_NONE);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_CONTENT);
  builder_varints (&b, 2, codec, raw_len);
  flow_buf_put_bytes (&b.buf, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload));
  builder_end (&b);
  return builder_finish (&b);
}

static void
deflate_bombs_child (void)
{
  g_autoptr(GBytes) bomb = deflated (16u << 20, 'a');      /* 16 MiB in ~16 KiB */
  g_autoptr(GBytes) small = deflated (1u << 20, 'a');      /* 1 MiB in ~1 KiB */
  g_autoptr(GBytes) tiny = deflated (100, 'a');
  g_autoptr(GBytes) truncated = g_bytes_new_from_bytes (small, 0, g_bytes_get_size (small) / 2);
  struct
  {
    guint32  n_chars;
    guint64  codec;
    guint64  raw_len;
    GBytes  *payload;
    gint     code;
  } cases[] = {
    /* It inflates to far more than it claims. */
    { 100, 1, 100, small, FLOW_CORE_ERROR_MALFORMED },
    /* More than the limit, or than the ratio allows. */
    { MANY_OPS, 1, MANY_OPS, small, FLOW_CORE_ERROR_MALFORMED },
    { MANY_OPS - 1, 1, 4ull * (MANY_OPS - 1), bomb, FLOW_CORE_ERROR_MALFORMED },
    { 1000, 1, G_MAXUINT64, tiny, FLOW_CORE_ERROR_MALFORMED },
    /* Cut short, or claiming less than it is. */
    { 1u << 20, 1, 1u << 20, truncated, FLOW_CORE_ERROR_MALFORMED },
    { 50, 1, 50, tiny, FLOW_CORE_ERROR_MALFORMED },
    /* An unknown codec. */
    { 100, 2, 100, tiny, FLOW_CORE_ERROR_UNSUPPORTED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1);
      g_autoptr(GBytes) bytes = page_with_content (cases[i].n_chars, cases[i].codec,
                                                   cases[i].raw_len,
                                                   cases[i].payload);

      assert_refused (doc, bytes, cases[i].code);
    }

  /* Within the limits a high ratio is fine: 1 MiB of text arrives. */
  {
    g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1);
    g_autoptr(GBytes) bytes = page_with_content (1u << 20, 1, 1u << 20, small);
    g_autoptr(GError) error = NULL;

    if (flow_doc_apply (doc, bytes, &error))
      {
        g_assert_cmpuint (flow_doc_get_length (doc), ==, 1u << 20);
        flow_text_check (doc->text);
      }
    else
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
  }
}

static void
test_hostile_deflate_bombs (void)
{
  run_bounded (deflate_bombs_child);
}

/* decode_map_ops() used to leave the value of a CREATE op (and of every op
 * after a malformed one) as the array held it, and resetting the batch
 * unreffed it: a crash on ordinary board batches. We plant a pointer there. */
static void
test_map_ops_uninitialised (void)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 1);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  FlowValue *planted = flow_value_new_null ();
  FlowBatch batch;
  FlowBatchMapOp *op;
  gboolean leaked;

  g_assert_true (flow_doc_create_entity (a, "rect", NULL, &error));
  bytes = flow_doc_encode_since (a, NULL);

  flow_batch_init (&batch);
  g_array_set_size (batch.map_ops, 1);
  g_array_index (batch.map_ops, FlowBatchMapOp, 0).value = planted;
  batch.map_ops->len = 0; /* as a shrink that kept the old contents */

  g_assert_true (flow_batch_decode (&batch, g_bytes_get_data (bytes, NULL),
                                    g_bytes_get_size (bytes), &error));
  g_assert_no_error (error);
  op = &g_array_index (batch.map_ops, FlowBatchMapOp, 0);
  g_assert_cmpuint (op->kind, ==, FLOW_MAP_OP_CREATE);
  leaked = op->value == planted;
  /* What reset would do to it, we do safely: it is ours. */
  op->value = NULL;
  flow_batch_clear (&batch);
  flow_value_unref (planted);

  g_assert_false (leaked);
}

/* A remote board batch writing a property whose name is not well formed
 * (an upper-case letter) is bad encoded data: MALFORMED, not the
 * INVALID_ARGUMENT of a local caller's mistake, as it used to be. */
static void
test_hostile_bad_key (void)
{
  g_autoptr(FlowDoc) board = new_doc (FLOW_DOC_KIND_BOARD, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint64 n_ops;
  Builder b;

  g_assert_true (flow_doc_create_entity (board, "rect", NULL, &error));
  g_assert_no_error (error);
  n_ops = flow_doc_get_n_ops (board);

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_BOARD, 0);
  builder_agents (&b, 2, (guint64) 2, (guint64) 1);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0,
                   (guint64) 1, REF_EXT (1), (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_STRINGS);
  builder_varints (&b, 1, (guint64) 1);
  flow_buf_put_string (&b.buf, "X", 1);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_OPS);
  builder_varints (&b, 5, (guint64) 1, (guint64) FLOW_MAP_OP_SET, REF_EXT (1), (guint64) 0,
                   (guint64) 0);
  flow_buf_put_u8 (&b.buf, FLOW_VALUE_BOOL);
  flow_buf_put_u8 (&b.buf, 1);
  builder_end (&b);
  bytes = builder_finish (&b);

  g_assert_false (flow_doc_apply (board, bytes, &error));
  g_assert_cmpuint (flow_doc_get_n_ops (board), ==, n_ops);
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
}

/* A version vector has exactly one encoding: "85 00" is not 5 (it used to
 * be). */
static void
test_version_overlong (void)
{
  static const guint8 overlong[] = { 0x01, 1, 0, 0, 0, 0, 0, 0, 0, 0x85, 0x00 };
  g_autoptr(GBytes) bytes = g_bytes_new_static (overlong, sizeof overlong);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) vv = flow_version_vector_decode (bytes, &error);

  g_assert_null (vv);
  g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
}

/* Replica 2 inserts "x" after 'c' and before 'a' of "abc": origins on the
 * wrong sides of each other. */
static void
test_hostile_inverted_origins (void)
{
  g_autoptr(FlowDoc) doc = new_doc (FLOW_DOC_KIND_PAGE, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) whole = NULL;
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(FlowDoc) other = new_doc (FLOW_DOC_KIND_PAGE, 4);
  g_autofree char *text = NULL;
  g_autofree char *loaded_text = NULL;
  g_autofree char *other_text = NULL;
  Builder b;

  g_assert_true (flow_doc_insert_text (doc, 0, "abc", -1, &error));
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE, 0);
  builder_agents (&b, 2, (guint64) 2, (guint64) 1);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0,
                   (guint64) 1, REF_EXT (1), (guint64) 2);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 6, (guint64) 1, TEXT_RUN (1, FLOW_TEXT_OP_INSERT, 0, 0),
                   REF_EXT (1), (guint64) 2, REF_EXT (1), (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_CONTENT);
  builder_varints (&b, 2, (guint64) 0, (guint64) 1);
  flow_buf_put_u8 (&b.buf, 'x');
  builder_end (&b);
  bytes = builder_finish (&b);

  if (!flow_doc_apply (doc, bytes, &error))
    {
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
      return;
    }

  /* Accepted: then the page must stay loadable, and another replica must
   * place the insert the same way. It used to fail to load. */
  flow_text_check (doc->text);
  whole = flow_doc_encode (doc);
  loaded = flow_doc_load (whole, 1, &error);
  g_assert_no_error (error);
  text = flow_doc_dup_text (doc);
  loaded_text = flow_doc_dup_text (loaded);
  g_assert_cmpstr (text, ==, loaded_text);
  g_assert_true (flow_doc_apply (other, whole, &error));
  g_assert_no_error (error);
  other_text = flow_doc_dup_text (other);
  g_assert_cmpstr (text, ==, other_text);
}

/* A whole page "ab" whose stored document order says "ba": what
 * flow_doc_encode() never writes. */
static void
test_hostile_load_order (void)
{
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(FlowDoc) applied = new_doc (FLOW_DOC_KIND_PAGE, 3);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *loaded_text = NULL;
  g_autofree char *applied_text = NULL;
  guint32 crc;
  Builder b;

  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_PAGE,
                FLOW_BATCH_FLAG_FULL | FLOW_BATCH_FLAG_CRC);
  builder_begin (&b, FLOW_CHUNK_DOC_ID);
  flow_buf_put_u64le (&b.buf, doc_ids[FLOW_DOC_KIND_PAGE].replica);
  flow_buf_put_varint (&b.buf, doc_ids[FLOW_DOC_KIND_PAGE].seq);
  builder_end (&b);
  builder_agents (&b, 1, (guint64) 1);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 4, (guint64) 1, GRAPH_RUN (2, FALSE, FALSE), (guint64) 0, (guint64) 0);
  builder_end (&b);
  /* Op 1 first, then op 0: zigzag(+1), 1, zigzag(-2), 1. */
  builder_begin (&b, FLOW_CHUNK_TEXT_ORDER);
  builder_varints (&b, 5, (guint64) 2, (guint64) 2, (guint64) 1, (guint64) 3, (guint64) 1);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_OPS);
  builder_varints (&b, 4, (guint64) 1, TEXT_RUN (2, FLOW_TEXT_OP_INSERT, 0, 0), (guint64) 0,
                   (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_TEXT_CONTENT);
  builder_varints (&b, 2, (guint64) 0, (guint64) 2);
  flow_buf_put_bytes (&b.buf, "ab", 2);
  builder_end (&b);
  crc = GUINT32_TO_LE (flow_crc32 (b.buf.data, b.buf.len));
  flow_buf_put_bytes (&b.buf, &crc, 4);
  bytes = builder_finish (&b);

  g_assert_true (flow_doc_apply (applied, bytes, &error));
  g_assert_no_error (error);
  applied_text = flow_doc_dup_text (applied);
  g_assert_cmpstr (applied_text, ==, "ab");

  /* Loads trust the stored order (docs/format.md, "Loading whole
   * documents"): such a page loads as its TEXT_ORDER says, and stays
   * consistent with itself. */
  loaded = flow_doc_load (bytes, 3, &error);
  g_assert_no_error (error);
  flow_text_check (loaded->text);
  loaded_text = flow_doc_dup_text (loaded);
  g_assert_cmpstr (loaded_text, ==, "ba");
}

/* Replica 3 writes a property of a shape that replica 5 created, but its
 * op's only parent is older than that shape: it names a concurrent op. */
static void
test_hostile_concurrent_reference (void)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 1);
  g_autoptr(FlowDoc) c = new_doc (FLOW_DOC_KIND_BOARD, 5);
  g_autoptr(FlowDoc) loaded = NULL;
  g_autoptr(GBytes) from_c = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) whole = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *diff = NULL;
  Builder b;

  g_assert_true (flow_doc_create_entity (a, "rect", NULL, &error));
  g_assert_true (flow_doc_create_entity (c, "rect", NULL, &error));
  from_c = flow_doc_encode_since (c, NULL);
  g_assert_true (flow_doc_apply (a, from_c, &error));

  /* Op (3, 0), parent (1, 0), sets (5, 0).locked = true. */
  builder_init (&b, FLOW_FORMAT_VERSION, FLOW_DOC_KIND_BOARD, 0);
  builder_agents (&b, 3, (guint64) 3, (guint64) 1, (guint64) 5);
  builder_begin (&b, FLOW_CHUNK_GRAPH);
  builder_varints (&b, 6, (guint64) 1, GRAPH_RUN (1, FALSE, FALSE), (guint64) 0,
                   (guint64) 1, REF_EXT (1), (guint64) 0);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_STRINGS);
  builder_varints (&b, 1, (guint64) 1);
  flow_buf_put_string (&b.buf, "locked", 6);
  builder_end (&b);
  builder_begin (&b, FLOW_CHUNK_MAP_OPS);
  builder_varints (&b, 5, (guint64) 1, (guint64) FLOW_MAP_OP_SET, REF_EXT (2), (guint64) 0,
                   (guint64) 0);
  flow_buf_put_u8 (&b.buf, FLOW_VALUE_BOOL);
  flow_buf_put_u8 (&b.buf, 1);
  builder_end (&b);
  bytes = builder_finish (&b);

  if (!flow_doc_apply (a, bytes, &error))
    {
      g_assert_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED);
      return;
    }

  /* Accepted: the board must still reopen its own encoding, which used to
   * refer forwards to the shape and fail to load. */
  whole = flow_doc_encode (a);
  loaded = flow_doc_load (whole, 1, &error);
  g_assert_no_error (error);
  diff = difference (a, loaded);
  g_assert_null (diff);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/decode/valid-corpus", test_valid_corpus);
  g_test_add_func ("/flow/decode/mutations", test_mutations);
  g_test_add_func ("/flow/decode/random-bytes", test_random_bytes);
  g_test_add_func ("/flow/decode/version-strings", test_version_strings);
  g_test_add_func ("/flow/decode/version-overlong", test_version_overlong);
  g_test_add_func ("/flow/decode/hostile/builder", test_hostile_builder_sane);
  g_test_add_func ("/flow/decode/hostile/delete-non-insert", test_hostile_delete_non_insert);
  g_test_add_func ("/flow/decode/hostile/missing-reference", test_hostile_missing_reference);
  g_test_add_func ("/flow/decode/hostile/missing-parent", test_hostile_missing_parent);
  g_test_add_func ("/flow/decode/hostile/wrong-kind", test_hostile_wrong_kind);
  g_test_add_func ("/flow/decode/hostile/versions", test_hostile_versions);
  g_test_add_func ("/flow/decode/hostile/checksum", test_hostile_checksum);
  g_test_add_func ("/flow/decode/hostile/inverted-origins", test_hostile_inverted_origins);
  g_test_add_func ("/flow/decode/hostile/concurrent-reference", test_hostile_concurrent_reference);
  g_test_add_func ("/flow/decode/hostile/load-order", test_hostile_load_order);
  g_test_add_func ("/flow/decode/hostile/bad-key", test_hostile_bad_key);
  g_test_add_func ("/flow/decode/hostile/many-ops", test_hostile_many_ops);
  g_test_add_func ("/flow/decode/hostile/deflate-bombs", test_hostile_deflate_bombs);
  g_test_add_func ("/flow/decode/map-ops-uninitialised", test_map_ops_uninitialised);

  return g_test_run ();
}
