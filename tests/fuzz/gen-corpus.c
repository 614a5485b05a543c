/* gen-corpus.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Writes the seed corpora of the fuzz targets: a few valid batches and
 * whole documents of each kind, and version vectors as bytes and strings.
 * The output is committed under tests/fuzz/corpus/; rerun after a format
 * change:
 *
 *   ./gen-corpus ../tests/fuzz/corpus
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>

#include "flow-doc-private.h"

static const FlowOpId doc_ids[] = {
  { 0x1234, 1 },
  { 0x1234, 2 },
  { 0, 0 },
};

static const char *out_dir;

static void
save (const char *target,
      const char *name,
      GBytes     *bytes)
{
  g_autofree char *dir = g_build_filename (out_dir, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (dir, 0755);
  if (!g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), &error))
    g_error ("%s", error->message);
}

static void
save_change (FlowDoc    *doc,
             FlowChange *change,
             gpointer    user_data)
{
  static guint n_changes;
  const char *prefix = user_data;
  g_autofree char *name = g_strdup_printf ("%s-%s-%02u", prefix,
                                           flow_change_is_local (change) ? "change" : "received",
                                           n_changes++);

  save ("fuzz-batch", name, flow_change_get_bytes (change));
}

static FlowDoc *
new_doc (FlowDocKind   kind,
         FlowReplicaId replica,
         const char   *prefix)
{
  FlowDoc *doc = flow_doc_new (kind, &doc_ids[kind], replica);

  flow_doc_add_change_func (doc, save_change, (gpointer) prefix, NULL);
  return doc;
}

static void
sync_docs (FlowDoc *a,
           FlowDoc *b)
{
  g_autoptr(FlowVersionVector) va = flow_doc_dup_version (a);
  g_autoptr(FlowVersionVector) vb = flow_doc_dup_version (b);
  g_autoptr(GBytes) to_b = flow_doc_encode_since (a, vb);
  g_autoptr(GBytes) to_a = flow_doc_encode_since (b, va);

  if (to_b != NULL)
    flow_doc_apply (b, to_b, NULL);
  if (to_a != NULL)
    flow_doc_apply (a, to_a, NULL);
}

static void
save_state (const char *prefix,
            FlowDoc    *doc)
{
  g_autofree char *whole = g_strdup_printf ("%s-whole", prefix);
  g_autofree char *since = g_strdup_printf ("%s-since-half", prefix);
  g_autoptr(GBytes) w = flow_doc_encode (doc);
  g_autoptr(FlowVersionVector) half = flow_doc_dup_version_at (doc, flow_doc_get_n_ops (doc) / 2);
  g_autoptr(GBytes) s = flow_doc_encode_since (doc, half);

  save ("fuzz-batch", whole, w);
  if (s != NULL)
    save ("fuzz-batch", since, s);
}

static void
gen_pages (void)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_PAGE, 1, "page-a");
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_PAGE, 0xfedcba9876543210, "page-b");
  g_autoptr(GString) paste = g_string_new (NULL);

  flow_doc_insert_text (a, 0, "Hello, world!\n", -1, NULL);
  flow_doc_insert_text (a, 7, "wörld 世界 😀 ", -1, NULL);
  flow_doc_delete_text (a, 0, 5, NULL);
  flow_doc_delete_text (a, 4, 1, NULL);
  flow_doc_delete_text (a, 3, 1, NULL);
  for (guint i = 0; i < 12; i++)
    g_string_append (paste, "the quick brown fox jumps over the lazy dog ");
  flow_doc_insert_text (a, 2, paste->str, -1, NULL);
  sync_docs (a, b);
  flow_doc_insert_text (b, 1, "B", -1, NULL);
  flow_doc_insert_text (a, 1, "A", -1, NULL);
  flow_doc_delete_text (b, 10, 20, NULL);
  sync_docs (a, b);
  save_state ("page", a);
}

static void
set (FlowDoc        *doc,
     const FlowOpId *id,
     const char     *key,
     FlowValue      *value)
{
  g_autoptr(FlowValue) owned = value;

  flow_doc_set_property (doc, id, key, owned, NULL);
}

static void
gen_boards (void)
{
  static const FlowPoint pts[] = { { 0, 0, 1 }, { 10.5f, -3, 0.5f } };
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_BOARD, 3, "board-a");
  g_autoptr(FlowDoc) b = new_doc (FLOW_DOC_KIND_BOARD, 1ull << 63, "board-b");
  g_autoptr(GBytes) image = g_bytes_new_static ("\x89PNG\r\n", 6);
  g_autofree char *z = NULL;
  FlowOpId r, e, arrow;

  flow_doc_begin_change (a);
  flow_doc_create_entity (a, "rect", &r, NULL);
  set (a, &r, "x", flow_value_new_number (10));
  set (a, &r, "w", flow_value_new_number (100));
  set (a, &r, "fill", flow_value_new_color (0x336699ff));
  z = flow_doc_dup_order_key_between (a, NULL, NULL);
  set (a, &r, "z", flow_value_new_string (z));
  flow_doc_end_change (a);
  flow_doc_create_entity (a, "ellipse", &e, NULL);
  set (a, &e, "text", flow_value_new_string ("Grüße 😀"));
  set (a, &e, "image", flow_value_new_bytes (image));
  sync_docs (a, b);
  flow_doc_begin_change (b);
  flow_doc_create_entity (b, "arrow", &arrow, NULL);
  set (b, &arrow, "points", flow_value_new_points (pts, G_N_ELEMENTS (pts)));
  set (b, &arrow, "start", flow_value_new_ref (&r));
  set (b, &arrow, "end", flow_value_new_ref (&e));
  flow_doc_end_change (b);
  set (a, &r, "deleted", flow_value_new_bool (TRUE));
  set (a, &e, "text", flow_value_new_null ());
  sync_docs (a, b);
  save_state ("board", b);
}

static void
gen_catalogs (void)
{
  g_autoptr(FlowDoc) a = new_doc (FLOW_DOC_KIND_CATALOG, 5, "catalog-a");
  g_autofree char *o = NULL;
  FlowOpId page, board;

  flow_doc_begin_change (a);
  flow_doc_create_entity (a, "page", &page, NULL);
  set (a, &page, "title", flow_value_new_string ("Plans"));
  o = flow_doc_dup_order_key_between (a, NULL, NULL);
  set (a, &page, "order", flow_value_new_string (o));
  flow_doc_end_change (a);
  flow_doc_create_entity (a, "board", &board, NULL);
  set (a, &board, "folder", flow_value_new_string ("Work"));
  set (a, &page, "deleted", flow_value_new_bool (TRUE));
  save_state ("catalog", a);
}

static void
gen_versions (void)
{
  g_autoptr(FlowVersionVector) vv = flow_version_vector_new ();
  static const char * const strings[] = {
    "0", "00c0ffee00c0ffee:12,0badcafe0badcafe:3", "ffffffffffffffff:18446744073709551615",
  };

  {
    g_autoptr(GBytes) empty = flow_version_vector_encode (vv);

    save ("fuzz-version", "vv-empty", empty);
  }
  flow_version_vector_set (vv, 1, 5);
  flow_version_vector_set (vv, 0x8000, 300);
  flow_version_vector_set (vv, G_MAXUINT64, G_MAXUINT64);
  {
    g_autoptr(GBytes) bytes = flow_version_vector_encode (vv);

    save ("fuzz-version", "vv-three", bytes);
  }
  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      g_autofree char *name = g_strdup_printf ("string-%u", i);
      g_autoptr(GBytes) bytes = g_bytes_new_static (strings[i], strlen (strings[i]));

      save ("fuzz-version", name, bytes);
    }
}

int
main (int   argc,
      char *argv[])
{
  if (argc != 2)
    {
      fprintf (stderr, "Usage: %s CORPUS-DIR\n", argv[0]);
      return 2;
    }
  out_dir = argv[1];
  gen_pages ();
  gen_boards ();
  gen_catalogs ();
  gen_versions ();
  return 0;
}
