/* flowsync-cli.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * flowsync-cli: FlowSync workspaces from the command line.
 *
 * Exit codes: 0 success; 1 the operation failed (or, for replay-trace, the
 * replay did not match); 2 bad usage or bad input. Errors go to stderr and
 * say what to do next.
 */

#define G_LOG_DOMAIN "flowsync-cli"

#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "flow-catalog.h"
#include "flow-chat.h"
#include "flow-cli-json.h"
#include "flow-cli-peer.h"
#include "flow-error.h"
#include "flow-page-export.h"
#include "flow-render.h"
#include "flow-store-search.h"
#include "flow-trace.h"
#include "flow-workspace.h"

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

static char *opt_workspace;

static const GOptionEntry workspace_entries[] = {
  { "workspace", 'w', 0, G_OPTION_ARG_FILENAME, &opt_workspace,
    "The workspace file (default: $FLOWSYNC_WORKSPACE, or the default workspace "
    "of the FlowSync app)", "PATH" },
  { NULL }
};

typedef struct
{
  const char *name;
  const char *args;
  const char *summary;
  int       (*run) (int argc, char **argv);
} Command;

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static void G_GNUC_PRINTF (1, 2)
fail (const char *format,
      ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "flowsync-cli: %s\n", msg);
}

/* Parses @argc/@argv with @entries plus --workspace. Returns FALSE and
 * reports the problem if the command line is wrong. */
static gboolean
parse (const char         *name,
       const char         *args,
       const char         *summary,
       const char         *description,
       const GOptionEntry *entries,
       int                *argc,
       char             ***argv)
{
  g_autofree char *params = g_strdup_printf ("%s %s", name, args);
  g_autoptr(GOptionContext) context = g_option_context_new (params);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, summary);
  if (description)
    g_option_context_set_description (context, description);
  if (entries)
    g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_main_entries (context, workspace_entries, NULL);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fail ("%s. See “flowsync-cli %s --help”.", error->message, name);
      return FALSE;
    }
  return TRUE;
}

static char *
workspace_path (void)
{
  const char *env = g_getenv ("FLOWSYNC_WORKSPACE");

  if (opt_workspace)
    return g_strdup (opt_workspace);
  if (env && *env)
    return g_strdup (env);
  return flow_workspace_default_path ();
}

/* Opens the workspace. With @create_default, the default workspace is
 * created if it does not exist yet (as the app does on its first start). */
static FlowWorkspace *
open_workspace (gboolean create_default)
{
  g_autofree char *path = workspace_path ();
  g_autoptr(GError) error = NULL;
  FlowWorkspace *ws;

  if (create_default && opt_workspace == NULL && g_getenv ("FLOWSYNC_WORKSPACE") == NULL &&
      !g_file_test (path, G_FILE_TEST_EXISTS))
    ws = flow_workspace_create (path, &error);
  else
    ws = flow_workspace_open (path, &error);

  if (ws == NULL)
    {
      if (g_error_matches (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_NOT_FOUND))
        fail ("There is no workspace at “%s”. Create one with “flowsync-cli init %s”, "
              "or choose another with --workspace.", path, path);
      else
        fail ("%s", error->message);
    }
  return ws;
}

static gboolean
close_workspace (FlowWorkspace *ws)
{
  g_autoptr(GError) error = NULL;

  if (flow_workspace_close (ws, &error))
    return TRUE;
  fail ("Could not save the workspace: %s", error->message);
  return FALSE;
}

/* Finds a document by id or title. */
static FlowDoc *
find_doc (FlowWorkspace     *ws,
          const char        *name,
          FlowCatalogEntry  *entry)
{
  g_autoptr(GError) error = NULL;
  FlowDoc *catalog = flow_workspace_get_catalog (ws);
  FlowOpId id;
  FlowDoc *doc;

  if (!flow_catalog_find (catalog, name, &id, &error))
    {
      fail ("%s. “flowsync-cli list” shows the documents.", error->message);
      return NULL;
    }
  flow_catalog_get (catalog, &id, entry);
  doc = flow_workspace_load_document (ws, &id, &error);
  if (doc == NULL)
    {
      fail ("%s", error->message);
      flow_catalog_entry_clear (entry);
    }
  return doc;
}

static gboolean
parse_uint (const char *str,
            guint      *out)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (str, 10, 0, G_MAXUINT32, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

static char *
format_time (gint64 us)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (us / G_USEC_PER_SEC);

  return dt ? g_date_time_format (dt, "%Y-%m-%d %H:%M:%S") : g_strdup ("?");
}

/* ------------------------------------------------------------------------
 * Commands
 * ------------------------------------------------------------------------ */

static int
cmd_init (int    argc,
          char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowWorkspace) ws = NULL;
  const char *path;

  if (!parse ("init", "PATH", "Create a new, empty workspace file at PATH.", NULL, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    {
      fail ("init needs the path of the new workspace, e.g. “flowsync-cli init notes.flowsync”.");
      return EXIT_USAGE;
    }
  path = argv[1];

  ws = flow_workspace_create (path, &error);
  if (ws == NULL)
    {
      fail ("%s", error->message);
      return EXIT_FAIL;
    }
  if (!close_workspace (ws))
    return EXIT_FAIL;
  printf ("Created workspace %s\n", path);
  return EXIT_OK;
}

static int
cmd_new (int    argc,
         char **argv)
{
  static char *folder;
  static const GOptionEntry entries[] = {
    { "folder", 'f', 0, G_OPTION_ARG_STRING, &folder, "File the document in FOLDER", "FOLDER" },
    { NULL }
  };
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  FlowDocKind kind;
  FlowDoc *doc;

  if (!parse ("new", "board|page TITLE", "Create a board or a page and print its id.",
              NULL, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 3 || !flow_doc_kind_from_string (argv[1], &kind) || kind == FLOW_DOC_KIND_CATALOG)
    {
      fail ("new needs a kind (board or page) and a title, e.g. “flowsync-cli new page Notes”.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (TRUE)))
    return EXIT_FAIL;
  doc = flow_workspace_new_document (ws, kind, argv[2], folder, &error);
  if (doc == NULL)
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_USAGE;
    }
  id = flow_op_id_to_string (flow_doc_get_id (doc));
  if (!close_workspace (ws))
    return EXIT_FAIL;
  printf ("%s\n", id);
  return EXIT_OK;
}

static int
cmd_list (int    argc,
          char **argv)
{
  static gboolean trash;
  static const GOptionEntry entries[] = {
    { "trash", 't', 0, G_OPTION_ARG_NONE, &trash, "Also list documents in the trash", NULL },
    { NULL }
  };
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GArray) entries_list = NULL;

  if (!parse ("list", "", "List the documents of the workspace: id, kind, title, folder.",
              NULL, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 1)
    {
      fail ("list takes no arguments.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  entries_list = flow_catalog_list (flow_workspace_get_catalog (ws), trash);
  for (guint i = 0; i < entries_list->len; i++)
    {
      const FlowCatalogEntry *e = &g_array_index (entries_list, FlowCatalogEntry, i);
      g_autofree char *id = flow_op_id_to_string (&e->id);

      printf ("%s  %-5s  %s%s%s%s\n", id, flow_doc_kind_to_string (e->kind),
              e->title ? e->title : "",
              e->folder ? "  [" : "", e->folder ? e->folder : "", e->folder ? "]" : "");
      if (e->deleted)
        printf ("    (in the trash)\n");
    }
  return close_workspace (ws) ? EXIT_OK : EXIT_FAIL;
}

static int
cmd_import (int    argc,
            char **argv)
{
  static char *title;
  static char *folder;
  static const GOptionEntry entries[] = {
    { "title", 't', 0, G_OPTION_ARG_STRING, &title, "The page's title (default: the file name)", "TITLE" },
    { "folder", 'f', 0, G_OPTION_ARG_STRING, &folder, "File the page in FOLDER", "FOLDER" },
    { NULL }
  };
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  g_autofree char *id = NULL;
  GStatBuf st;
  gsize len;
  FlowDoc *doc;

  if (!parse ("import", "FILE.md", "Import a Markdown file as a new page and print its id.",
              "The file must be UTF-8 text of at most 16 MiB. A byte order mark is dropped "
              "and Windows (CRLF) and old Mac (CR) line ends become LF.",
              entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    {
      fail ("import needs one Markdown file, e.g. “flowsync-cli import notes.md”.");
      return EXIT_USAGE;
    }
  /* Refuse a huge file before reading it. */
  if (g_stat (argv[1], &st) == 0 && st.st_size > FLOW_PAGE_IMPORT_MAX_BYTES)
    {
      fail ("Could not import “%s”: it is too large for a page (at most %d MiB).", argv[1],
            FLOW_PAGE_IMPORT_MAX_BYTES >> 20);
      return EXIT_USAGE;
    }
  if (!g_file_get_contents (argv[1], &contents, &len, &error))
    {
      fail ("%s", error->message);
      return EXIT_USAGE;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  if (!(text = flow_page_import_markdown (bytes, &error)))
    {
      fail ("Could not import “%s”: %s.", argv[1], error->message);
      return EXIT_USAGE;
    }

  if (title == NULL)
    {
      char *dot;

      name = g_path_get_basename (argv[1]);
      if ((dot = strrchr (name, '.')) != NULL && dot != name)
        *dot = '\0';
    }

  if (!(ws = open_workspace (TRUE)))
    return EXIT_FAIL;
  doc = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, title ? title : name, folder, &error);
  if (doc == NULL || !flow_doc_insert_text (doc, 0, text, -1, &error))
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_FAIL;
    }
  id = flow_op_id_to_string (flow_doc_get_id (doc));
  if (!close_workspace (ws))
    return EXIT_FAIL;
  printf ("%s\n", id);
  return EXIT_OK;
}

static gboolean
write_output (const char *output,
              const char *data,
              gsize       len)
{
  g_autoptr(GError) error = NULL;

  if (output == NULL || g_str_equal (output, "-"))
    {
      fwrite (data, 1, len, stdout);
      return fflush (stdout) == 0;
    }
  if (!g_file_set_contents (output, data, (gssize) len, &error))
    {
      fail ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* Draws @doc, a board, as PNG, SVG or PDF into a new buffer. */
static GBytes *
export_board_image (FlowDoc           *doc,
                    FlowExportFormat   format,
                    double             scale,
                    GError           **error)
{
  g_autoptr(FlowScene) scene = flow_scene_new (doc);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (!flow_render_export (scene, NULL, 0, format, scale, out, error) ||
      !g_output_stream_close (out, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Typesets @doc, a page, as a standalone HTML file or an A4 PDF. */
static GBytes *
export_page_document (FlowDoc     *doc,
                      const char  *format,
                      const char  *title,
                      GError     **error)
{
  g_autofree char *text = flow_doc_dup_text (doc);
  g_autoptr(GOutputStream) out = NULL;

  if (g_str_equal (format, "html"))
    return flow_page_export_html (text, title, error);
  out = g_memory_output_stream_new_resizable ();
  if (!flow_page_export_pdf (text, title, out, error) ||
      !g_output_stream_close (out, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Fills @data with the export of @doc in @format. Returns an exit code. */
static int
export_data (FlowDoc          *doc,
             const char       *name,
             const char       *format,
             double            scale,
             const char       *title,
             GBytes          **data)
{
  g_autoptr(GError) error = NULL;
  FlowExportFormat image_format;
  gboolean is_page = flow_doc_get_kind (doc) == FLOW_DOC_KIND_PAGE;
  char *text;

  if (is_page && (g_str_equal (format, "html") || g_str_equal (format, "pdf")))
    {
      if (!(*data = export_page_document (doc, format, title, &error)))
        {
          fail ("%s.", error->message);
          return EXIT_FAIL;
        }
      return EXIT_OK;
    }
  if (flow_export_format_from_string (format, &image_format))
    {
      if (flow_doc_get_kind (doc) != FLOW_DOC_KIND_BOARD)
        {
          fail ("“%s” is a page; pages export as Markdown, JSON, HTML or PDF "
                "(--format md|json|html|pdf).", name);
          return EXIT_USAGE;
        }
      if (!(*data = export_board_image (doc, image_format, scale, &error)))
        {
          fail ("%s", error->message);
          return EXIT_FAIL;
        }
      return EXIT_OK;
    }
  if (g_str_equal (format, "md") || g_str_equal (format, "html"))
    {
      if (!is_page)
        {
          fail ("“%s” is a board; boards export as JSON, PNG, SVG or PDF "
                "(--format json|png|svg|pdf).", name);
          return EXIT_USAGE;
        }
      text = flow_doc_dup_text (doc);
    }
  else
    {
      g_autofree char *json = flow_cli_doc_to_json (doc, title);

      text = g_strconcat (json, "\n", NULL);
    }
  *data = g_bytes_new_take (text, strlen (text));
  return EXIT_OK;
}

static int
cmd_export (int    argc,
            char **argv)
{
  static char *format;
  static char *output;
  static double scale = 1.0;
  static const GOptionEntry entries[] = {
    { "format", 'F', 0, G_OPTION_ARG_STRING, &format,
      "md or html (pages), png or svg (boards), json or pdf (both)", "FORMAT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      "Write to FILE instead of standard output (- for standard output); png, svg and pdf need it",
      "FILE" },
    { "scale", 's', 0, G_OPTION_ARG_DOUBLE, &scale,
      "Pixels (png) or points (svg, pdf) per board unit (default 1)", "SCALE" },
    { NULL }
  };
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GBytes) data = NULL;
  FlowCatalogEntry entry = { 0, };
  FlowExportFormat image_format;
  gboolean is_image;
  FlowDoc *doc;
  int status;

  if (!parse ("export", "DOC", "Export a document (id or title) as Markdown, JSON, HTML, PNG, SVG or PDF.",
              "Markdown is the page's text as it is; HTML is a page as a standalone web page "
              "with its own stylesheet; a page's PDF is typeset on A4 paper. JSON describes "
              "pages and boards; PNG, SVG and PDF draw a whole board on white, with a margin.",
              entries, &argc, &argv))
    return EXIT_USAGE;
  is_image = format != NULL && flow_export_format_from_string (format, &image_format);
  if (argc != 2 || format == NULL ||
      (!is_image && !g_str_equal (format, "md") && !g_str_equal (format, "json") &&
       !g_str_equal (format, "html")))
    {
      fail ("export needs a document and --format md, json, html, png, svg or pdf, e.g. "
            "“flowsync-cli export Notes --format md”.");
      return EXIT_USAGE;
    }
  if (is_image && output == NULL)
    {
      fail ("--format %s writes binary data; name a file with --output FILE (or - for "
            "standard output).", format);
      return EXIT_USAGE;
    }
  if (!(scale > 0 && scale <= 64))
    {
      fail ("--scale must be above 0 and at most 64, not %g.", scale);
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  if (!(doc = find_doc (ws, argv[1], &entry)))
    {
      close_workspace (ws);
      return EXIT_FAIL;
    }

  status = export_data (doc, argv[1], format, scale, entry.title, &data);
  if (status == EXIT_OK &&
      !write_output (output, g_bytes_get_data (data, NULL), g_bytes_get_size (data)))
    status = EXIT_FAIL;
  flow_catalog_entry_clear (&entry);
  if (!close_workspace (ws) && status == EXIT_OK)
    status = EXIT_FAIL;
  return status;
}

static int
cmd_edit_page (int    argc,
               char **argv)
{
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  FlowCatalogEntry entry = { 0, };
  const char *name = NULL;
  const char *text = NULL;
  gboolean insert = FALSE;
  gboolean delete = FALSE;
  FlowDoc *doc;
  guint pos = 0;
  guint n = 0;
  gboolean ok = TRUE;

  /* --insert and --delete take two values each, which GOption cannot
   * parse, and TEXT must be taken as it is even if it looks like an option
   * ("--help", "-w", "--"). So they and their values are taken out of the
   * command line before GOption sees the rest. */
  for (int i = 1; i < argc; )
    {
      gboolean is_insert = g_str_equal (argv[i], "--insert") || g_str_equal (argv[i], "-i");
      gboolean is_delete = g_str_equal (argv[i], "--delete") || g_str_equal (argv[i], "-d");

      if (g_str_equal (argv[i], "--workspace") || g_str_equal (argv[i], "-w"))
        {
          /* Its value is a path, whatever it looks like. */
          i += 2;
          continue;
        }
      if (!is_insert && !is_delete)
        {
          i++;
          continue;
        }
      if (i + 2 >= argc || insert || delete)
        {
          ok = FALSE;
          break;
        }
      if (is_insert)
        {
          insert = TRUE;
          ok = parse_uint (argv[i + 1], &pos);
          text = argv[i + 2];
        }
      else
        {
          delete = TRUE;
          ok = parse_uint (argv[i + 1], &pos) && parse_uint (argv[i + 2], &n);
        }
      if (!ok)
        break;
      memmove (&argv[i], &argv[i + 3], (gsize) (argc - i - 3 + 1) * sizeof (char *));
      argc -= 3;
    }

  if (ok && !parse ("edit-page", "DOC (--insert POS TEXT | --delete POS LEN)",
                    "Edit a page's text. Positions count characters (Unicode code points) from 0.",
                    "Examples:\n  flowsync-cli edit-page Notes --insert 0 \"# Title\"\n"
                    "  flowsync-cli edit-page Notes --delete 0 2",
                    NULL, &argc, &argv))
    return EXIT_USAGE;
  /* GOption refused every other option; what is left is the document. */
  if (ok && argc == 2)
    name = argv[1];
  if (!ok || name == NULL || insert == delete)
    {
      fail ("edit-page needs a document and either --insert POS TEXT or --delete POS LEN, "
            "e.g. “flowsync-cli edit-page Notes --insert 0 Hello”.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  if (!(doc = find_doc (ws, name, &entry)))
    {
      close_workspace (ws);
      return EXIT_FAIL;
    }
  flow_catalog_entry_clear (&entry);
  if (flow_doc_get_kind (doc) != FLOW_DOC_KIND_PAGE)
    {
      fail ("“%s” is a board, not a page.", name);
      close_workspace (ws);
      return EXIT_USAGE;
    }

  if (insert)
    ok = flow_doc_insert_text (doc, pos, text, -1, &error);
  else
    ok = flow_doc_delete_text (doc, pos, n, &error);
  if (!ok)
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_USAGE;
    }
  return close_workspace (ws) ? EXIT_OK : EXIT_FAIL;
}

static int
cmd_history (int    argc,
             char **argv)
{
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) rows = NULL;
  FlowCatalogEntry entry = { 0, };
  FlowDoc *doc;

  if (!parse ("history", "DOC",
              "Show a document's history: one line per change, oldest first.",
              "Columns: the version after the change (a number of ops, for “checkout "
              "--at”), the time it was saved, how many ops it had, and the replica "
              "(device) that made it.",
              NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    {
      fail ("history needs a document, e.g. “flowsync-cli history Notes”.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  if (!(doc = find_doc (ws, argv[1], &entry)))
    {
      close_workspace (ws);
      return EXIT_FAIL;
    }
  flow_catalog_entry_clear (&entry);

  rows = flow_store_dup_history (flow_workspace_get_store (ws), flow_doc_get_id (doc), &error);
  if (rows == NULL)
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_FAIL;
    }
  for (guint i = 0; i < rows->len; i++)
    {
      const FlowStoreRow *row = &g_array_index (rows, FlowStoreRow, i);
      g_autofree char *when = format_time (row->time);

      printf ("%8" G_GUINT64_FORMAT "  %s  %6u op%s  %016" G_GINT64_MODIFIER "x\n",
              row->ops_before + row->n_ops, when, row->n_ops, row->n_ops == 1 ? " " : "s",
              row->replica);
    }
  return close_workspace (ws) ? EXIT_OK : EXIT_FAIL;
}

static int
cmd_checkout (int    argc,
              char **argv)
{
  static char *at;
  static char *output;
  static const GOptionEntry entries[] = {
    { "at", 'a', 0, G_OPTION_ARG_STRING, &at,
      "The version: an op count from “history”, or a version vector REPLICA:SEQ,...", "VERSION" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE instead of standard output", "FILE" },
    { NULL }
  };
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) vv = NULL;
  g_autoptr(FlowDoc) old = NULL;
  g_autofree char *data = NULL;
  FlowCatalogEntry entry = { 0, };
  FlowDoc *doc;
  guint64 n;
  gboolean ok;

  if (!parse ("checkout", "DOC --at VERSION",
              "Print a document as it was at an earlier version: a page's text, a board as JSON.",
              "The workspace is not changed. Find versions with “flowsync-cli history DOC”.",
              entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2 || at == NULL)
    {
      fail ("checkout needs a document and --at VERSION, e.g. “flowsync-cli checkout Notes --at 120”.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  if (!(doc = find_doc (ws, argv[1], &entry)))
    {
      close_workspace (ws);
      return EXIT_FAIL;
    }

  if (g_ascii_string_to_unsigned (at, 10, 0, G_MAXUINT64, &n, NULL))
    vv = flow_store_dup_version_at (flow_workspace_get_store (ws), flow_doc_get_id (doc), n, &error);
  else
    vv = flow_version_vector_parse (at, &error);
  if (vv != NULL)
    old = flow_doc_checkout (doc, vv, &error);
  if (old == NULL)
    {
      fail ("%s", error->message);
      flow_catalog_entry_clear (&entry);
      close_workspace (ws);
      return EXIT_USAGE;
    }

  if (flow_doc_get_kind (old) == FLOW_DOC_KIND_PAGE)
    data = flow_doc_dup_text (old);
  else
    {
      char *json = flow_cli_doc_to_json (old, entry.title);

      data = g_strconcat (json, "\n", NULL);
      g_free (json);
    }
  flow_catalog_entry_clear (&entry);
  ok = write_output (output, data, strlen (data));
  return close_workspace (ws) && ok ? EXIT_OK : EXIT_FAIL;
}

static int
cmd_stats (int    argc,
           char **argv)
{
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) docs = NULL;
  g_autofree char *path = NULL;
  g_autofree char *size = NULL;
  GStatBuf st;
  guint64 total_ops = 0;
  guint n_pages = 0, n_boards = 0;

  if (!parse ("stats", "", "Show statistics of the workspace: documents, ops, file size.",
              NULL, NULL, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 1)
    {
      fail ("stats takes no arguments.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  path = g_strdup (flow_store_get_path (flow_workspace_get_store (ws)));
  docs = flow_store_list_docs (flow_workspace_get_store (ws), &error);
  if (docs == NULL)
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_FAIL;
    }
  for (guint i = 0; i < docs->len; i++)
    {
      const FlowStoreDocInfo *info = &g_array_index (docs, FlowStoreDocInfo, i);

      total_ops += info->n_ops;
      n_pages += info->kind == FLOW_DOC_KIND_PAGE;
      n_boards += info->kind == FLOW_DOC_KIND_BOARD;
    }

  printf ("workspace  %s\n", path);
  printf ("replica    %016" G_GINT64_MODIFIER "x\n", flow_store_get_replica (flow_workspace_get_store (ws)));
  printf ("documents  %u pages, %u boards\n", n_pages, n_boards);
  printf ("ops        %" G_GUINT64_FORMAT "\n", total_ops);
  if (!close_workspace (ws))
    return EXIT_FAIL;
  if (g_stat (path, &st) == 0)
    {
      size = g_format_size ((guint64) st.st_size);
      printf ("file size  %s\n", size);
    }
  return EXIT_OK;
}

static int
cmd_replay_trace (int    argc,
                  char **argv)
{
  static gboolean json;
  static int runs = 5;
  static const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the figures as one JSON object", NULL },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Time each figure N times and report the median (default 5)", "N" },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowTrace) trace = NULL;
  g_autofree char *name = NULL;
  FlowTraceResult result;
  struct rusage usage;

  if (!parse ("replay-trace", "TRACE.json[.gz]",
              "Replay an editing trace and check the result against its endContent.",
              "Traces use the format of josephg/editing-traces: sequential, or concurrent with\n"
              "“parents” (replayed with one replica per agent that exchange ops by version\n"
              "vector). Exit status: 0 if the text matches, 1 if not, 2 for bad input.\n\n"
              "With --json the figures are: trace, kind, ops, matches, runs, replay_ms (the\n"
              "replay), updates_ms (every edit encoded as an update message, decoded and\n"
              "applied on a second replica), encoded_bytes (the whole document with its full\n"
              "history), load_ms (decoding that and producing the text), doc_bytes (heap memory\n"
              "of the loaded document) and peak_rss_kb (of this process). Times are medians of\n"
              "--runs runs in this process.",
              entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 2)
    {
      fail ("replay-trace needs one trace file, e.g. “flowsync-cli replay-trace automerge-paper.json.gz”.");
      return EXIT_USAGE;
    }
  if (runs < 1 || runs > 1000)
    {
      fail ("--runs must be between 1 and 1000.");
      return EXIT_USAGE;
    }

  trace = flow_trace_load (argv[1], &error);
  if (trace == NULL || !flow_trace_measure (trace, (guint) runs, &result, &error))
    {
      fail ("Cannot replay “%s”: %s", argv[1], error->message);
      return EXIT_USAGE;
    }
  getrusage (RUSAGE_SELF, &usage);

  name = g_path_get_basename (argv[1]);
  if (g_str_has_suffix (name, ".gz"))
    name[strlen (name) - 3] = '\0';
  if (g_str_has_suffix (name, ".json"))
    name[strlen (name) - 5] = '\0';

  if (json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonGenerator) gen = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "trace");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, trace->concurrent ? "concurrent" : "sequential");
      json_builder_set_member_name (b, "ops");
      json_builder_add_int_value (b, (gint64) result.ops);
      json_builder_set_member_name (b, "matches");
      json_builder_add_boolean_value (b, result.matches);
      json_builder_set_member_name (b, "runs");
      json_builder_add_int_value (b, result.runs);
      json_builder_set_member_name (b, "replay_ms");
      json_builder_add_double_value (b, result.replay_ms);
      json_builder_set_member_name (b, "updates_ms");
      json_builder_add_double_value (b, result.updates_ms);
      json_builder_set_member_name (b, "encoded_bytes");
      json_builder_add_int_value (b, (gint64) result.encoded_bytes);
      json_builder_set_member_name (b, "load_ms");
      json_builder_add_double_value (b, result.load_ms);
      json_builder_set_member_name (b, "doc_bytes");
      json_builder_add_int_value (b, (gint64) result.doc_bytes);
      json_builder_set_member_name (b, "peak_rss_kb");
      json_builder_add_int_value (b, usage.ru_maxrss);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      json_generator_set_root (gen, root);
      text = json_generator_to_data (gen, NULL);
      printf ("%s\n", text);
    }
  else
    {
      printf ("%s: %s, %" G_GUINT64_FORMAT " ops, %s\n", name,
              trace->concurrent ? "concurrent" : "sequential", result.ops,
              result.matches ? "matches endContent" : "DOES NOT MATCH endContent");
      printf ("  replay %.1f ms, updates %.1f ms, load %.1f ms (medians of %u runs)\n",
              result.replay_ms, result.updates_ms, result.load_ms, result.runs);
      printf ("  encoded %zu bytes with full history, loaded document %zu bytes, peak RSS %ld KiB\n",
              result.encoded_bytes, result.doc_bytes, usage.ru_maxrss);
    }

  return result.matches ? EXIT_OK : EXIT_FAIL;
}

static char *
plain_snippet (const char *snippet)
{
  GString *s = g_string_new (NULL);

  for (const char *p = snippet; *p; p++)
    {
      if (*p == '\x01')
        g_string_append_c (s, '[');
      else if (*p == '\x02')
        g_string_append_c (s, ']');
      else if (*p == '\n' || *p == '\r' || *p == '\t')
        g_string_append_c (s, ' ');
      else
        g_string_append_c (s, *p);
    }
  return g_string_free (s, FALSE);
}

static int
cmd_search (int    argc,
            char **argv)
{
  static gboolean json;
  static int limit = 20;
  static const GOptionEntry entries[] = {
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the results as a JSON array", NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, "Show at most N results (default 20; 0 for all)", "N" },
    { NULL }
  };
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *query = NULL;

  if (!parse ("search", "QUERY…",
              "Search the titles and text of the documents (pages, and the text and sticky notes "
              "of boards; not the trash).",
              "Every word must match, the last one as a prefix; case and accents do not matter. "
              "Matches are shown in [brackets]. The exit status is 0 if something was found, "
              "1 if nothing was, 2 on bad usage.",
              entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc < 2 || limit < 0)
    {
      fail ("search needs a QUERY (and --limit is 0 or more).");
      return EXIT_USAGE;
    }
  query = g_strjoinv (" ", argv + 1);

  if (!(ws = open_workspace (FALSE)))
    return EXIT_FAIL;
  results = flow_store_search (flow_workspace_get_store (ws), query, (guint) limit, &error);
  if (results == NULL)
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_FAIL;
    }

  if (json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < results->len; i++)
        {
          const FlowSearchResult *r = g_ptr_array_index (results, i);
          g_autofree char *id = flow_op_id_to_string (&r->doc);
          g_autofree char *snippet = plain_snippet (r->snippet);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_string_value (builder, id);
          json_builder_set_member_name (builder, "kind");
          json_builder_add_string_value (builder, flow_doc_kind_to_string (r->kind));
          json_builder_set_member_name (builder, "title");
          json_builder_add_string_value (builder, r->title);
          json_builder_set_member_name (builder, "snippet");
          json_builder_add_string_value (builder, snippet);
          json_builder_set_member_name (builder, "match_offset");
          json_builder_add_int_value (builder, r->match_offset);
          json_builder_set_member_name (builder, "rank");
          json_builder_add_double_value (builder, r->rank);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      json_generator_set_pretty (generator, TRUE);
      text = json_generator_to_data (generator, NULL);
      printf ("%s\n", text);
    }
  else
    for (guint i = 0; i < results->len; i++)
      {
        const FlowSearchResult *r = g_ptr_array_index (results, i);
        g_autofree char *id = flow_op_id_to_string (&r->doc);
        g_autofree char *snippet = plain_snippet (r->snippet);

        printf ("%s  %-5s  %s\n    %s\n", id, flow_doc_kind_to_string (r->kind), r->title, snippet);
      }

  if (!close_workspace (ws))
    return EXIT_FAIL;
  return results->len > 0 ? EXIT_OK : EXIT_FAIL;
}

/* ------------------------------------------------------------------------
 * chat
 * ------------------------------------------------------------------------ */

static int
cmd_chat (int    argc,
          char **argv)
{
  g_autoptr(FlowWorkspace) ws = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) messages = NULL;
  g_autofree char *post = NULL;
  g_autofree char *name = NULL;
  FlowDoc *chat;
  const GOptionEntry entries[] = {
    { "post", 'p', 0, G_OPTION_ARG_STRING, &post, "Post TEXT to the chat", "TEXT" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "The author name to post as (default: the user's real name)", "NAME" },
    { NULL }
  };

  if (!parse ("chat", "[--post TEXT]",
              "Show the workspace's huddle chat, oldest message first, or post to it. Messages sync "
              "with the room like documents.", NULL, entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc != 1)
    {
      fail ("chat takes no arguments; post with --post TEXT.");
      return EXIT_USAGE;
    }

  if (!(ws = open_workspace (post != NULL)))
    return EXIT_FAIL;
  chat = flow_workspace_load_document (ws, &FLOW_CHAT_DOC_ID, &error);
  if (chat == NULL)
    {
      fail ("%s", error->message);
      close_workspace (ws);
      return EXIT_FAIL;
    }

  if (post != NULL)
    {
      const char *author = name != NULL ? name : g_get_real_name ();

      if (!flow_chat_post (chat, author, 0x3584e4ff, post, g_get_real_time (), NULL, &error))
        {
          fail ("%s", error->message);
          close_workspace (ws);
          return EXIT_USAGE;
        }
      return close_workspace (ws) ? EXIT_OK : EXIT_FAIL;
    }

  messages = flow_chat_list (chat);
  for (guint i = 0; i < messages->len; i++)
    {
      const FlowChatMessage *m = &g_array_index (messages, FlowChatMessage, i);
      g_autoptr(GDateTime) time = g_date_time_new_from_unix_local (m->time / G_USEC_PER_SEC);
      g_autofree char *when = time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("?");

      printf ("%s  %s: %s\n", when, *m->author != '\0' ? m->author : "(someone)", m->text);
    }
  return close_workspace (ws) ? EXIT_OK : EXIT_FAIL;
}

/* ------------------------------------------------------------------------
 * Main
 * ------------------------------------------------------------------------ */

static const Command commands[] = {
  { "init",         "PATH",                "Create a new workspace", cmd_init },
  { "new",          "board|page TITLE",    "Create a board or a page", cmd_new },
  { "list",         "",                    "List the documents", cmd_list },
  { "import",       "FILE.md",             "Import a Markdown file as a page", cmd_import },
  { "export",       "DOC --format md|json|html|png|svg|pdf", "Export a document", cmd_export },
  { "edit-page",    "DOC (--insert POS TEXT | --delete POS LEN)", "Edit a page's text", cmd_edit_page },
  { "history",      "DOC",                 "Show a document's history", cmd_history },
  { "checkout",     "DOC --at VERSION",    "Show a document as it was at a version", cmd_checkout },
  { "stats",        "",                    "Show workspace statistics", cmd_stats },
  { "search",       "QUERY",               "Search the documents' titles and text", cmd_search },
  { "replay-trace", "[--json] TRACE",      "Replay an editing trace and check it", cmd_replay_trace },
  { "chat",         "[--post TEXT]",       "Show the huddle chat, or post to it", cmd_chat },
  { "host",         "WORKSPACE",           "Share a workspace: print its invite link and stay in sync", flow_cli_host },
  { "join",         "LINK WORKSPACE",      "Join a room from an invite link and stay in sync", flow_cli_join },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: flowsync-cli COMMAND [OPTION…]\n\n"
                "Work with FlowSync workspaces from the command line.\n\nCommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-13s %-44s %s\n", commands[i].name, commands[i].args, commands[i].summary);
  fprintf (out, "\nEvery command takes --workspace PATH (default: $FLOWSYNC_WORKSPACE, or the\n"
                "FlowSync app's default workspace) and --help. DOC is a document id or title.\n");
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  g_set_prgname ("flowsync-cli");

  if (argc < 2)
    {
      usage (stderr);
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      usage (stdout);
      return EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      printf ("flowsync-cli %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      return commands[i].run (argc - 1, argv + 1);

  fail ("“%s” is not a command. “flowsync-cli --help” lists them.", argv[1]);
  return EXIT_USAGE;
}
