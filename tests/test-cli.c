/* test-cli.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * flowsync-cli, run as a program on temporary workspaces: every command,
 * its output, and its exit status on success (0), failure (1) and bad usage
 * or bad input (2), with a message on stderr for each error.
 *
 * The program is $FLOWSYNC_CLI (set by tests/meson.build). Each test runs
 * it in its own g_dir_make_tmp() directory, with $XDG_DATA_HOME pointing
 * there too, so nothing outside is touched.
 */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "flow-board.h"
#include "flow-catalog.h"
#include "flow-test-util.h"
#include "flow-workspace.h"

#define EXIT_OK    0
#define EXIT_FAIL  1
#define EXIT_USAGE 2

typedef struct
{
  char *dir;
  char *ws;    /* a workspace path in dir (not created) */
  char *cli;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const char *cli = g_getenv ("FLOWSYNC_CLI");

  f->dir = g_dir_make_tmp ("flow-cli-XXXXXX", &error);
  g_assert_no_error (error);
  f->ws = g_build_filename (f->dir, "test.flowsync", NULL);
  if (cli != NULL && *cli != '\0')
    f->cli = g_strdup (cli);
  else
    f->cli = g_test_build_filename (G_TEST_BUILT, "..", "src", "cli", "flowsync-cli", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  flow_test_remove_tree (f->dir);
  g_assert_false (g_file_test (f->dir, G_FILE_TEST_EXISTS));
  g_free (f->dir);
  g_free (f->ws);
  g_free (f->cli);
}

/* ------------------------------------------------------------------------
 * Running the program
 * ------------------------------------------------------------------------ */

typedef struct
{
  int    status;
  char  *out;
  gsize  out_len;
  char  *err;
} Run;

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->out, g_free);
  g_clear_pointer (&r->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static char *
bytes_to_string (GBytes *bytes,
                 gsize  *len)
{
  gsize n = bytes ? g_bytes_get_size (bytes) : 0;
  char *s = g_malloc (n + 1);

  if (n > 0)
    memcpy (s, g_bytes_get_data (bytes, NULL), n);
  s[n] = '\0';
  if (len)
    *len = n;
  return s;
}

/* Runs flowsync-cli with the NULL-terminated @argv in @f's directory. */
static void
run_argv (Fixture            *f,
          Run                *r,
          const char * const *argv,
          const char * const *env)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) err = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *xdg = g_build_filename (f->dir, "xdg", NULL);
  g_autoptr(GString) line = g_string_new ("$ flowsync-cli");

  g_subprocess_launcher_set_cwd (launcher, f->dir);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", xdg, TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C.UTF-8", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "FLOWSYNC_WORKSPACE");
  for (guint i = 0; env && env[i]; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);

  g_ptr_array_add (args, f->cli);
  for (guint i = 0; argv[i]; i++)
    {
      g_ptr_array_add (args, (gpointer) argv[i]);
      g_string_append_printf (line, " '%s'", argv[i]);
    }
  g_ptr_array_add (args, NULL);
  g_test_message ("%s", line->str);

  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) args->pdata, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate (proc, NULL, NULL, &out, &err, &error));
  g_assert_no_error (error);

  r->out = bytes_to_string (out, &r->out_len);
  r->err = bytes_to_string (err, NULL);
  if (!g_subprocess_get_if_exited (proc))
    g_error ("flowsync-cli died of signal %d; stderr: %s", g_subprocess_get_term_sig (proc),
             r->err);
  r->status = g_subprocess_get_exit_status (proc);
  if (*r->err)
    g_test_message ("stderr: %s", r->err);
}

#define run(f, r, ...) \
  run_argv (f, r, (const char * const []) { __VA_ARGS__, NULL }, NULL)

/* Success: exit 0, nothing on stderr. */
static void
assert_ok (const Run *r)
{
  if (r->status != EXIT_OK)
    g_test_message ("stdout: %s", r->out);
  g_assert_cmpint (r->status, ==, EXIT_OK);
  g_assert_cmpstr (r->err, ==, "");
}

/* An error: @status and a message on stderr. */
static void
assert_error (const Run *r,
              int        status)
{
  g_assert_cmpint (r->status, ==, status);
  g_assert_true (g_str_has_prefix (r->err, "flowsync-cli: ") ||
                 g_str_has_prefix (r->err, "Usage:"));
  g_assert_cmpuint (strlen (r->err), >, 20);
  g_assert_true (g_str_has_suffix (r->err, "\n"));
  g_assert_true (g_utf8_validate (r->err, -1, NULL));
}

static char *
checksum (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

static void
write_file (const char *path,
            const char *data,
            gssize      len)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, data, len, &error));
  g_assert_no_error (error);
}

/* `init` then `new KIND TITLE`; returns the id it printed. */
static char *
cli_new (Fixture    *f,
         const char *kind,
         const char *title)
{
  g_auto(Run) r = { 0, };
  FlowOpId id;

  run (f, &r, "new", kind, title, "--workspace", f->ws);
  assert_ok (&r);
  g_assert_true (g_str_has_suffix (r.out, "\n"));
  r.out[strlen (r.out) - 1] = '\0';
  g_assert_true (flow_op_id_parse (r.out, &id));
  return g_steal_pointer (&r.out);
}

static void
cli_init (Fixture *f)
{
  g_auto(Run) r = { 0, };

  run (f, &r, "init", f->ws);
  assert_ok (&r);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

/* ------------------------------------------------------------------------
 * init, new, list
 * ------------------------------------------------------------------------ */

static void
test_init (Fixture       *f,
           gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *nested = g_build_filename (f->dir, "a", "b", "nested.flowsync", NULL);
  g_autoptr(GError) error = NULL;

  run (f, &r, "init", f->ws);
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, f->ws));
  g_assert_true (g_file_test (f->ws, G_FILE_TEST_IS_REGULAR));
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->ws, &error);

    g_assert_no_error (error);
    g_assert_true (flow_workspace_close (ws, &error));
  }

  /* Not over an existing file, which stays as it was. */
  before = checksum (f->ws);
  run_clear (&r);
  run (f, &r, "init", f->ws);
  assert_error (&r, EXIT_FAIL);
  g_assert_nonnull (strstr (r.err, "exists"));
  after = checksum (f->ws);
  g_assert_cmpstr (after, ==, before);

  /* Folders are created. */
  run_clear (&r);
  run (f, &r, "init", nested);
  assert_ok (&r);
  g_assert_true (g_file_test (nested, G_FILE_TEST_IS_REGULAR));

  /* Usage. */
  run_clear (&r);
  run (f, &r, "init");
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "init", "a.flowsync", "b.flowsync");
  assert_error (&r, EXIT_USAGE);
  {
    g_autofree char *a = g_build_filename (f->dir, "a.flowsync", NULL);

    g_assert_false (g_file_test (a, G_FILE_TEST_EXISTS));
  }
  run_clear (&r);
  run (f, &r, "init", "--bogus", f->ws);
  assert_error (&r, EXIT_USAGE);
}

static void
test_new_list (Fixture       *f,
               gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autofree char *page = NULL;
  g_autofree char *board = NULL;
  g_autofree char *filed = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;

  cli_init (f);
  page = cli_new (f, "page", "Notes ✓");
  board = cli_new (f, "board", "Wall");
  g_assert_cmpstr (page, !=, board);

  run (f, &r, "new", "page", "Filed", "--folder", "Team/Ωμέγα", "-w", f->ws);
  assert_ok (&r);
  filed = g_strstrip (g_strdup (r.out));

  run_clear (&r);
  run (f, &r, "list", "--workspace", f->ws);
  assert_ok (&r);
  lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4); /* three and the empty tail */
  g_assert_true (g_str_has_prefix (lines[0], page));
  g_assert_nonnull (strstr (lines[0], "page"));
  g_assert_true (g_str_has_suffix (lines[0], "Notes ✓"));
  g_assert_true (g_str_has_prefix (lines[1], board));
  g_assert_nonnull (strstr (lines[1], "board"));
  g_assert_true (g_str_has_suffix (lines[1], "Wall"));
  g_assert_true (g_str_has_prefix (lines[2], filed));
  g_assert_true (g_str_has_suffix (lines[2], "Filed  [Team/Ωμέγα]"));

  /* The workspace agrees. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->ws, &error);
    FlowCatalogEntry e;
    FlowOpId id;

    g_assert_no_error (error);
    g_assert_true (flow_op_id_parse (filed, &id));
    g_assert_true (flow_catalog_get (flow_workspace_get_catalog (ws), &id, &e));
    g_assert_cmpint (e.kind, ==, FLOW_DOC_KIND_PAGE);
    g_assert_cmpstr (e.title, ==, "Filed");
    g_assert_cmpstr (e.folder, ==, "Team/Ωμέγα");
    flow_catalog_entry_clear (&e);

    /* Trash the board for list --trash. */
    g_assert_true (flow_op_id_parse (board, &id));
    g_assert_true (flow_catalog_trash (flow_workspace_get_catalog (ws), &id, &error));
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }
  run_clear (&r);
  run (f, &r, "list", "-w", f->ws);
  assert_ok (&r);
  g_assert_null (strstr (r.out, board));
  run_clear (&r);
  run (f, &r, "list", "--trash", "-w", f->ws);
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, board));
  g_assert_nonnull (strstr (r.out, "(in the trash)"));

  /* $FLOWSYNC_WORKSPACE stands for --workspace. */
  run_clear (&r);
  run_argv (f, &r, (const char * const []) { "list", NULL },
            (const char * const []) { "FLOWSYNC_WORKSPACE", f->ws, NULL });
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, page));

  /* Usage. */
  run_clear (&r);
  run (f, &r, "new", "page", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "new", "poster", "Title", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "new", "catalog", "Title", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "list", "extra", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
}

/* Without --workspace or $FLOWSYNC_WORKSPACE, new creates the default
 * workspace under $XDG_DATA_HOME, and the other commands use it. */
static void
test_default_workspace (Fixture       *f,
                        gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autofree char *path = g_build_filename (f->dir, "xdg", "flowsync", "default.flowsync", NULL);

  run (f, &r, "list");
  assert_error (&r, EXIT_FAIL);
  g_assert_nonnull (strstr (r.err, "init"));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  run_clear (&r);
  run (f, &r, "new", "page", "First");
  assert_ok (&r);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  run_clear (&r);
  run (f, &r, "list");
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, "First"));
}

/* ------------------------------------------------------------------------
 * import and export
 * ------------------------------------------------------------------------ */

static const char markdown[] =
  "# Ünïcödé notes ✓\n"
  "\n"
  "- Ελληνικά, русский, עברית, 日本語, 한국어\n"
  "- Emoji: 🎉 👩‍💻 🇪🇺\n"
  "- Combining: e\xcc\x81 (e + U+0301)\n"
  "\tTabbed line\r\n"
  "Trailing spaces   \n"
  "\n"
  "> quote with “curly” quotes — and a dash\n"
  "No newline at the end: ∑";

static void
test_import_export (Fixture       *f,
                    gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autofree char *md = g_build_filename (f->dir, "Ünïcödé notes.md", NULL);
  g_autofree char *out_file = g_build_filename (f->dir, "out.md", NULL);
  g_autofree char *bad = g_build_filename (f->dir, "latin1.md", NULL);
  g_autofree char *id = NULL;
  g_autofree char *contents = NULL;
  /* Import makes Windows line ends LF (tests/test-page-export.c has the rest). */
  g_auto(GStrv) lines = g_strsplit (markdown, "\r\n", -1);
  g_autofree char *expected = g_strjoinv ("\n", lines);
  gsize len;

  cli_init (f);
  write_file (md, markdown, -1);

  run (f, &r, "import", md, "-w", f->ws);
  assert_ok (&r);
  id = g_strstrip (g_strdup (r.out));

  /* The title is the file name without its extension. */
  run_clear (&r);
  run (f, &r, "list", "-w", f->ws);
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, "Ünïcödé notes"));
  g_assert_null (strstr (r.out, ".md"));

  /* Byte for byte, by id and by title, to stdout and to a file. */
  run_clear (&r);
  run (f, &r, "export", id, "--format", "md", "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpuint (r.out_len, ==, strlen (expected));
  g_assert_cmpmem (r.out, r.out_len, expected, strlen (expected));
  run_clear (&r);
  run (f, &r, "export", "Ünïcödé notes", "-F", "md", "-o", out_file, "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpstr (r.out, ==, "");
  g_assert_true (g_file_get_contents (out_file, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, expected, strlen (expected));

  /* Import with a title and a folder. */
  run_clear (&r);
  run (f, &r, "import", md, "--title", "Second copy", "--folder", "Imports", "-w", f->ws);
  assert_ok (&r);
  run_clear (&r);
  run (f, &r, "export", "Second copy", "--format", "md", "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpmem (r.out, r.out_len, expected, strlen (expected));

  /* An empty file makes an empty page. */
  {
    g_autofree char *empty = g_build_filename (f->dir, "empty.md", NULL);

    write_file (empty, "", 0);
    run_clear (&r);
    run (f, &r, "import", empty, "-w", f->ws);
    assert_ok (&r);
    run_clear (&r);
    run (f, &r, "export", "empty", "--format", "md", "-w", f->ws);
    assert_ok (&r);
    g_assert_cmpuint (r.out_len, ==, 0);
  }

  /* Bad input. */
  write_file (bad, "caf\xe9\n", -1);
  run_clear (&r);
  run (f, &r, "import", bad, "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "import", "no-such-file.md", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "import", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "export", id, "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "export", id, "--format", "png", "-o", out_file, "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "export", "--format", "md", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
}

static void
test_export_json (Fixture       *f,
                  gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autoptr(GError) error = NULL;
  g_autofree char *page_id = NULL;
  g_autofree char *board_id = NULL;
  g_autoptr(GPtrArray) order = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *rect_id = NULL;
  g_autofree char *arrow_id = NULL;
  g_autofree char *gone_id = NULL;
  static const guint8 image[] = { 0x89, 'P', 'N', 'G', 0, 1, 2, 0xff };

  /* A page and a board with shapes of several kinds and value types. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_create (f->ws, &error);
    FlowDoc *page, *board;
    FlowOpId rect, arrow, stroke, img, gone;
    g_autoptr(FlowValue) fill = flow_value_new_color (0x336699ff);
    g_autoptr(FlowValue) text = flow_value_new_string ("Hello “board” ✓");
    g_autoptr(FlowValue) start = NULL;
    g_autoptr(FlowValue) points = NULL;
    g_autoptr(FlowValue) bytes_value = NULL;
    g_autoptr(GBytes) bytes = g_bytes_new_static (image, sizeof image);
    g_autoptr(GArray) ordered = NULL;
    const FlowPoint pts[] = { { 0, 0, 0.5f }, { 10.5f, -2, 1 } };

    g_assert_no_error (error);
    page = flow_workspace_new_document (ws, FLOW_DOC_KIND_PAGE, "JSON page", NULL, &error);
    g_assert_true (flow_doc_insert_text (page, 0, "Line one ✓\n\"quoted\"\n", -1, &error));
    board = flow_workspace_new_document (ws, FLOW_DOC_KIND_BOARD, "JSON board", NULL, &error);
    g_assert_no_error (error);
    page_id = flow_op_id_to_string (flow_doc_get_id (page));
    board_id = flow_op_id_to_string (flow_doc_get_id (board));

    g_assert_true (flow_board_add_shape (board, "rect", 10, 20, 100, 50, &rect, &error));
    g_assert_true (flow_doc_set_property (board, &rect, "fill", fill, &error));
    g_assert_true (flow_doc_set_property (board, &rect, "text", text, &error));
    g_assert_true (flow_board_add_shape (board, "arrow", 0, 0, 30, 30, &arrow, &error));
    start = flow_value_new_ref (&rect);
    g_assert_true (flow_doc_set_property (board, &arrow, "start", start, &error));
    g_assert_true (flow_board_add_shape (board, "stroke", 5, 5, 20, 20, &stroke, &error));
    points = flow_value_new_points (pts, G_N_ELEMENTS (pts));
    g_assert_true (flow_doc_set_property (board, &stroke, "points", points, &error));
    g_assert_true (flow_board_add_shape (board, "image", 1, 2, 3, 4, &img, &error));
    bytes_value = flow_value_new_bytes (bytes);
    g_assert_true (flow_doc_set_property (board, &img, "image", bytes_value, &error));
    g_assert_true (flow_board_add_shape (board, "ellipse", 0, 0, 1, 1, &gone, &error));
    g_assert_true (flow_board_delete (board, &gone, 1, &error));
    g_assert_true (flow_board_lower_to_bottom (board, &img, &error));
    g_assert_no_error (error);

    ordered = flow_doc_list_ordered (board);
    for (guint i = 0; i < ordered->len; i++)
      g_ptr_array_add (order, flow_op_id_to_string (&g_array_index (ordered, FlowOpId, i)));
    rect_id = flow_op_id_to_string (&rect);
    arrow_id = flow_op_id_to_string (&arrow);
    gone_id = flow_op_id_to_string (&gone);
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);
  }

  /* The page. */
  run (f, &r, "export", "JSON page", "--format", "json", "-w", f->ws);
  assert_ok (&r);
  {
    g_autoptr(JsonNode) root = parse_json (r.out);
    JsonObject *o;

    g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
    o = json_node_get_object (root);
    g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, page_id);
    g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "page");
    g_assert_cmpstr (json_object_get_string_member (o, "title"), ==, "JSON page");
    g_assert_cmpstr (json_object_get_string_member (o, "text"), ==, "Line one ✓\n\"quoted\"\n");
    g_assert_false (json_object_has_member (o, "shapes"));
  }

  /* The board: live shapes, bottom to top, with their properties. */
  run_clear (&r);
  run (f, &r, "export", board_id, "--format", "json", "-w", f->ws);
  assert_ok (&r);
  {
    g_autoptr(JsonNode) root = parse_json (r.out);
    JsonObject *o = json_node_get_object (root);
    JsonArray *shapes;

    g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, board_id);
    g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "board");
    g_assert_cmpstr (json_object_get_string_member (o, "title"), ==, "JSON board");
    g_assert_false (json_object_has_member (o, "text"));
    shapes = json_object_get_array_member (o, "shapes");
    g_assert_nonnull (shapes);
    g_assert_cmpuint (json_array_get_length (shapes), ==, 4);
    g_assert_cmpuint (order->len, ==, 4);

    for (guint i = 0; i < json_array_get_length (shapes); i++)
      {
        JsonObject *s = json_array_get_object_element (shapes, i);
        JsonObject *props = json_object_get_object_member (s, "properties");
        const char *id = json_object_get_string_member (s, "id");
        const char *kind = json_object_get_string_member (s, "kind");

        g_assert_cmpstr (id, ==, g_ptr_array_index (order, i));
        g_assert_cmpstr (id, !=, gone_id);
        g_assert_nonnull (props);
        g_assert_false (json_object_has_member (props, "deleted"));
        for (guint k = 0; k < 4; k++)
          {
            const char *key = (const char *[]) { "x", "y", "w", "h" }[k];

            g_assert_true (json_object_has_member (props, key));
            g_assert_true (JSON_NODE_HOLDS_VALUE (json_object_get_member (props, key)));
          }
        g_assert_true (json_object_has_member (props, "z"));

        if (g_str_equal (kind, "rect"))
          {
            g_assert_cmpstr (id, ==, rect_id);
            g_assert_cmpfloat (json_object_get_double_member (props, "x"), ==, 10);
            g_assert_cmpfloat (json_object_get_double_member (props, "y"), ==, 20);
            g_assert_cmpfloat (json_object_get_double_member (props, "w"), ==, 100);
            g_assert_cmpfloat (json_object_get_double_member (props, "h"), ==, 50);
            g_assert_cmpstr (json_object_get_string_member (props, "fill"), ==, "#336699ff");
            g_assert_cmpstr (json_object_get_string_member (props, "text"), ==, "Hello “board” ✓");
          }
        else if (g_str_equal (kind, "arrow"))
          {
            g_assert_cmpstr (id, ==, arrow_id);
            g_assert_cmpstr (json_object_get_string_member (props, "start"), ==, rect_id);
          }
        else if (g_str_equal (kind, "stroke"))
          {
            JsonArray *p = json_object_get_array_member (props, "points");
            JsonArray *p1;

            g_assert_cmpuint (json_array_get_length (p), ==, 2);
            p1 = json_array_get_array_element (p, 1);
            g_assert_cmpuint (json_array_get_length (p1), ==, 3);
            g_assert_cmpfloat (json_array_get_double_element (p1, 0), ==, 10.5);
            g_assert_cmpfloat (json_array_get_double_element (p1, 1), ==, -2);
            g_assert_cmpfloat (json_array_get_double_element (p1, 2), ==, 1);
          }
        else if (g_str_equal (kind, "image"))
          {
            gsize n;
            const char *b64 = json_object_get_string_member (props, "image");
            g_autofree guint8 *decoded = g_base64_decode (b64, &n);

            g_assert_cmpmem (decoded, n, image, sizeof image);
            g_assert_cmpuint (i, ==, 0); /* lowered to the bottom */
          }
        else
          g_assert_not_reached ();
      }
  }

  /* Markdown is for pages only. */
  run_clear (&r);
  run (f, &r, "export", "JSON board", "--format", "md", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
}

/* ------------------------------------------------------------------------
 * edit-page, history, checkout
 * ------------------------------------------------------------------------ */

typedef struct
{
  const char *op;
  const char *pos;
  const char *arg;
} Edit;

static void
test_edit_history_checkout (Fixture       *f,
                            gconstpointer  data)
{
  static const Edit edits[] = {
    { "--insert", "0", "Hello wörld\n" },
    { "--insert", "12", "- a list item, ünïcödé ✓\n" },
    { "-i", "5", "," },
    { "--delete", "0", "1" },
    { "-d", "13", "2" },
    { "--insert", "0", "h" },
    { "--insert", "36", "Last line 🎉" },
  };
  g_auto(Run) r = { 0, };
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowDoc) model = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) versions = g_array_new (FALSE, FALSE, sizeof (guint64));
  g_auto(GStrv) lines = NULL;
  g_autofree char *id = NULL;
  g_autofree char *replica = NULL;
  FlowOpId model_id = { 1, 0 };

  cli_init (f);
  id = cli_new (f, "page", "Notes");
  model = flow_doc_new (FLOW_DOC_KIND_PAGE, &model_id, 1);

  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      const Edit *e = &edits[i];
      guint pos = (guint) g_ascii_strtoull (e->pos, NULL, 10);

      run_clear (&r);
      run (f, &r, "edit-page", i % 2 ? id : "Notes", e->op, e->pos, e->arg, "-w", f->ws);
      assert_ok (&r);
      g_assert_cmpstr (r.out, ==, "");
      if (e->op[1] == 'i' || e->op[2] == 'i')
        g_assert_true (flow_doc_insert_text (model, pos, e->arg, -1, &error));
      else
        g_assert_true (flow_doc_delete_text (model, pos,
                                             (guint) g_ascii_strtoull (e->arg, NULL, 10), &error));
      g_assert_no_error (error);
      g_ptr_array_add (texts, flow_doc_dup_text (model));

      run_clear (&r);
      run (f, &r, "export", "Notes", "--format", "md", "-w", f->ws);
      assert_ok (&r);
      g_assert_cmpstr (r.out, ==, g_ptr_array_index (texts, i));
    }

  /* Bad edits: nothing changes. */
  {
    static const char * const bad[][4] = {
      { "--insert", "1000", "x", NULL },     /* past the end */
      { "--delete", "40", "100", NULL },     /* past the end */
      { "--insert", "-1", "x", NULL },
      { "--insert", "abc", "x", NULL },
      { "--delete", "0", NULL, NULL },
      { "--insert", "0", NULL, NULL },
      { NULL, NULL, NULL, NULL },            /* no edit at all */
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        const char *argv[8] = { "edit-page", "Notes", "-w", f->ws, };
        guint n = 4;

        for (guint k = 0; bad[i][k]; k++)
          argv[n++] = bad[i][k];
        argv[n] = NULL;
        run_clear (&r);
        run_argv (f, &r, argv, NULL);
        assert_error (&r, EXIT_USAGE);
      }
    run_clear (&r);
    run (f, &r, "edit-page", "Notes", "--insert", "0", "a", "--delete", "0", "1", "-w", f->ws);
    assert_error (&r, EXIT_USAGE);
    run_clear (&r);
    run (f, &r, "export", "Notes", "--format", "md", "-w", f->ws);
    assert_ok (&r);
    g_assert_cmpstr (r.out, ==, g_ptr_array_index (texts, texts->len - 1));
  }

  /* The page must still load after all this (and the CLI's edits must not
   * have made a snapshot the core refuses; see test-store). */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->ws, &error);
    FlowOpId doc_id;
    g_autofree char *text = NULL;
    FlowDoc *page;

    g_assert_no_error (error);
    g_assert_true (flow_op_id_parse (id, &doc_id));
    page = flow_workspace_load_document (ws, &doc_id, &error);
    g_assert_no_error (error);
    text = flow_doc_dup_text (page);
    g_assert_cmpstr (text, ==, g_ptr_array_index (texts, texts->len - 1));
    g_assert_true (flow_workspace_close (ws, &error));
  }

  /* history: one line per edit, oldest first. */
  run_clear (&r);
  run (f, &r, "history", "Notes", "-w", f->ws);
  assert_ok (&r);
  lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (edits) + 1);
  g_assert_cmpstr (lines[G_N_ELEMENTS (edits)], ==, "");
  for (guint i = 0; i < G_N_ELEMENTS (edits); i++)
    {
      g_autoptr(GRegex) re = g_regex_new ("^ *([0-9]+)  "
                                          "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2} +"
                                          "([0-9]+) ops? +([0-9a-f]{16})$", 0, 0, NULL);
      g_autoptr(GMatchInfo) match = NULL;
      g_autofree char *n_str = NULL;
      g_autofree char *ops_str = NULL;
      g_autofree char *rep = NULL;
      guint64 n, ops;

      g_assert_true (g_regex_match (re, lines[i], 0, &match));
      n_str = g_match_info_fetch (match, 1);
      ops_str = g_match_info_fetch (match, 2);
      rep = g_match_info_fetch (match, 3);
      n = g_ascii_strtoull (n_str, NULL, 10);
      ops = g_ascii_strtoull (ops_str, NULL, 10);
      g_assert_cmpuint (ops, >, 0);
      if (i > 0)
        g_assert_cmpuint (n, ==, g_array_index (versions, guint64, i - 1) + ops);
      else
        g_assert_cmpuint (n, ==, ops);
      g_array_append_val (versions, n);
      /* Each CLI run is a clean session: one replica throughout. */
      if (replica == NULL)
        replica = g_strdup (rep);
      g_assert_cmpstr (rep, ==, replica);
    }
  g_assert_cmpuint (g_array_index (versions, guint64, versions->len - 1), ==,
                    flow_doc_get_n_ops (model));

  /* checkout --at each version gives the text after that edit. */
  for (guint i = 0; i < versions->len; i++)
    {
      g_autofree char *at = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                             g_array_index (versions, guint64, i));

      run_clear (&r);
      run (f, &r, "checkout", "Notes", "--at", at, "-w", f->ws);
      assert_ok (&r);
      g_assert_cmpstr (r.out, ==, g_ptr_array_index (texts, i));
    }
  run_clear (&r);
  run (f, &r, "checkout", id, "--at", "0", "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpstr (r.out, ==, "");

  /* A version vector works as well, and -o writes a file. */
  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->ws, &error);
    g_autoptr(FlowVersionVector) vv = NULL;
    g_autofree char *vs = NULL;
    g_autofree char *out_file = g_build_filename (f->dir, "v3.md", NULL);
    g_autofree char *contents = NULL;
    FlowOpId doc_id;

    g_assert_no_error (error);
    g_assert_true (flow_op_id_parse (id, &doc_id));
    vv = flow_store_dup_version_at (flow_workspace_get_store (ws), &doc_id,
                                    g_array_index (versions, guint64, 2), &error);
    g_assert_no_error (error);
    vs = flow_version_vector_to_string (vv);
    g_assert_true (flow_workspace_close (ws, &error));

    run_clear (&r);
    run (f, &r, "checkout", "Notes", "--at", vs, "-o", out_file, "-w", f->ws);
    assert_ok (&r);
    g_assert_true (g_file_get_contents (out_file, &contents, NULL, NULL));
    g_assert_cmpstr (contents, ==, g_ptr_array_index (texts, 2));
  }

  /* Not versions. */
  {
    g_autofree char *inside = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                               g_array_index (versions, guint64, 0) - 1);
    guint64 last = g_array_index (versions, guint64, versions->len - 1);
    g_autofree char *beyond = g_strdup_printf ("%" G_GUINT64_FORMAT, last + 1);
    const char *bad[] = { inside, beyond, "nonsense", "ffff:3", "" };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        run_clear (&r);
        run (f, &r, "checkout", "Notes", "--at", bad[i], "-w", f->ws);
        assert_error (&r, EXIT_USAGE);
      }
  }
  run_clear (&r);
  run (f, &r, "checkout", "Notes", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "history", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);

  /* A board's history and checkout (as JSON). */
  {
    g_autofree char *board = cli_new (f, "board", "Wall");
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->ws, &error);
    FlowOpId board_id;
    FlowDoc *doc;

    g_assert_no_error (error);
    g_assert_true (flow_op_id_parse (board, &board_id));
    doc = flow_workspace_load_document (ws, &board_id, &error);
    g_assert_no_error (error);
    g_assert_true (flow_board_add_shape (doc, "rect", 1, 2, 3, 4, NULL, &error));
    g_assert_true (flow_board_add_shape (doc, "ellipse", 1, 2, 3, 4, NULL, &error));
    g_assert_true (flow_workspace_close (ws, &error));
    g_assert_no_error (error);

    run_clear (&r);
    run (f, &r, "history", "Wall", "-w", f->ws);
    assert_ok (&r);
    g_strfreev (lines);
    lines = g_strsplit (r.out, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 3);
    {
      g_autofree char *first = g_strdup_printf ("%" G_GUINT64_FORMAT,
                                                g_ascii_strtoull (lines[0], NULL, 10));
      g_autoptr(JsonNode) root = NULL;
      JsonArray *shapes;

      run_clear (&r);
      run (f, &r, "checkout", "Wall", "--at", first, "-w", f->ws);
      assert_ok (&r);
      root = parse_json (r.out);
      shapes = json_object_get_array_member (json_node_get_object (root), "shapes");
      g_assert_cmpuint (json_array_get_length (shapes), ==, 1);
    }
  }
}

/*
 * Text that looks like an option ("--help", "-w", "--") is still the TEXT
 * of --insert, taken as it is, wherever --insert stands.
 */
static void
test_edit_option_like_text (Fixture       *f,
                            gconstpointer  data)
{
  static const char * const texts[] = { "- item", "---", "-x", "--help", "-w", "--", "-i", "--delete" };
  g_auto(Run) r = { 0, };
  g_autoptr(GString) expected = g_string_new (NULL);

  cli_init (f);
  g_free (cli_new (f, "page", "Notes"));

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      run_clear (&r);
      if (i % 2 == 0)
        run (f, &r, "edit-page", "Notes", "-w", f->ws, "--insert", "0", texts[i]);
      else
        run (f, &r, "edit-page", "--insert", "0", texts[i], "-w", f->ws, "Notes");
      assert_ok (&r);
      g_string_prepend (expected, texts[i]);
      run_clear (&r);
      run (f, &r, "export", "Notes", "--format", "md", "-w", f->ws);
      assert_ok (&r);
      g_assert_cmpstr (r.out, ==, expected->str);
    }

  /* Options that are not --insert's value are still options. */
  run_clear (&r);
  run (f, &r, "edit-page", "Notes", "--bogus", "--insert", "0", "x", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "edit-page", "Notes", "--insert", "0", "x", "--insert", "0", "y", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "edit-page", "--help");
  g_assert_cmpint (r.status, ==, EXIT_OK);
  g_assert_nonnull (strstr (r.out, "--insert POS TEXT"));
  run_clear (&r);
  run (f, &r, "export", "Notes", "--format", "md", "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpstr (r.out, ==, expected->str);
}

/*
 * Several flowsync-cli processes editing one page at the same time: each
 * either succeeds or fails with a message, and afterwards the page opens
 * and holds every edit that succeeded.
 */
static void
test_parallel_edits (Fixture       *f,
                     gconstpointer  data)
{
  GSubprocess *procs[8];
  g_autofree char *xdg = g_build_filename (f->dir, "xdg", NULL);
  g_auto(Run) r = { 0, };
  gboolean ok[G_N_ELEMENTS (procs)];
  guint n_ok = 0;

  cli_init (f);
  g_free (cli_new (f, "page", "Shared"));

  for (guint i = 0; i < G_N_ELEMENTS (procs); i++)
    {
      g_autoptr(GSubprocessLauncher) launcher =
        g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                   G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_autoptr(GError) error = NULL;
      g_autofree char *line = g_strdup_printf ("line %u\n", i);

      g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", xdg, TRUE);
      g_subprocess_launcher_unsetenv (launcher, "FLOWSYNC_WORKSPACE");
      procs[i] = g_subprocess_launcher_spawn (launcher, &error, f->cli, "edit-page", "Shared",
                                              "--insert", "0", line, "-w", f->ws, NULL);
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (procs); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *err = NULL;

      g_assert_true (g_subprocess_communicate_utf8 (procs[i], NULL, NULL, NULL, &err, &error));
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_if_exited (procs[i]));
      ok[i] = g_subprocess_get_exit_status (procs[i]) == EXIT_OK;
      if (ok[i])
        n_ok++;
      else
        {
          g_test_message ("edit %u failed: %s", i, err);
          g_assert_cmpuint (strlen (err), >, 0);
        }
      g_object_unref (procs[i]);
    }
  g_test_message ("%u of %u edits succeeded", n_ok, (guint) G_N_ELEMENTS (procs));

  /* Each session had a replica id of its own, and no snapshot hid the
   * rows of another. */
  run (f, &r, "export", "Shared", "--format", "md", "-w", f->ws);
  assert_ok (&r);
  for (guint i = 0; i < G_N_ELEMENTS (procs); i++)
    {
      g_autofree char *line = g_strdup_printf ("line %u\n", i);

      if (ok[i])
        g_assert_nonnull (strstr (r.out, line));
    }
  g_assert_cmpuint (strlen (r.out), ==, n_ok * strlen ("line 0\n"));
}

/* ------------------------------------------------------------------------
 * stats
 * ------------------------------------------------------------------------ */

static void
test_stats (Fixture       *f,
            gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;
  g_autofree char *expected_ops = NULL;
  g_autofree char *expected_replica = NULL;
  g_autofree char *expected_path = NULL;
  guint64 total = 0;

  cli_init (f);
  a = cli_new (f, "page", "A");
  b = cli_new (f, "page", "B");
  c = cli_new (f, "board", "C");
  run (f, &r, "edit-page", "A", "--insert", "0", "Some text ✓", "-w", f->ws);
  assert_ok (&r);

  {
    g_autoptr(FlowWorkspace) ws = flow_workspace_open (f->ws, &error);
    g_autoptr(GArray) docs = NULL;
    FlowStore *store;

    g_assert_no_error (error);
    store = flow_workspace_get_store (ws);
    docs = flow_store_list_docs (store, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < docs->len; i++)
      total += g_array_index (docs, FlowStoreDocInfo, i).n_ops;
    expected_replica = g_strdup_printf ("replica    %016" G_GINT64_MODIFIER "x\n",
                                        flow_store_get_replica (store));
    g_assert_true (flow_workspace_close (ws, &error));
  }
  expected_ops = g_strdup_printf ("ops        %" G_GUINT64_FORMAT "\n", total);
  expected_path = g_strdup_printf ("workspace  %s\n", f->ws);

  run_clear (&r);
  run (f, &r, "stats", "-w", f->ws);
  assert_ok (&r);
  g_assert_true (g_str_has_prefix (r.out, expected_path));
  g_assert_nonnull (strstr (r.out, expected_replica));
  g_assert_nonnull (strstr (r.out, "documents  2 pages, 1 boards\n"));
  g_assert_nonnull (strstr (r.out, expected_ops));
  g_assert_nonnull (strstr (r.out, "file size  "));
  g_assert_cmpuint (total, >, 11);

  run_clear (&r);
  run (f, &r, "stats", "extra", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
}

/* ------------------------------------------------------------------------
 * replay-trace
 * ------------------------------------------------------------------------ */

static JsonNode *
load_gz_json (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GInputStream) raw = G_INPUT_STREAM (g_file_read (file, NULL, &error));
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  g_autoptr(GInputStream) in = g_converter_input_stream_new (raw, G_CONVERTER (z));
  g_autoptr(JsonParser) parser = json_parser_new ();

  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_stream (parser, in, NULL, &error));
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static void
test_replay_trace (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autofree char *trace = flow_test_data_path ("traces/friendsforever_flat.json.gz");
  g_autofree char *wrong = g_build_filename (f->dir, "wrong.json", NULL);
  g_autofree char *malformed = g_build_filename (f->dir, "malformed.json", NULL);
  g_autofree char *cut = g_build_filename (f->dir, "cut.json.gz", NULL);
  static const char * const members[] = {
    "trace", "kind", "ops", "matches", "runs", "replay_ms", "updates_ms", "encoded_bytes",
    "load_ms", "doc_bytes", "peak_rss_kb",
  };

  /* --json: every figure. */
  run (f, &r, "replay-trace", "--json", "--runs", "2", trace);
  assert_ok (&r);
  {
    g_autoptr(JsonNode) root = parse_json (r.out);
    JsonObject *o = json_node_get_object (root);

    for (guint i = 0; i < G_N_ELEMENTS (members); i++)
      g_assert_true (json_object_has_member (o, members[i]));
    g_assert_cmpuint (json_object_get_size (o), ==, G_N_ELEMENTS (members));
    g_assert_true (json_object_get_boolean_member (o, "matches"));
    g_assert_cmpstr (json_object_get_string_member (o, "trace"), ==, "friendsforever_flat");
    g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "sequential");
    g_assert_cmpint (json_object_get_int_member (o, "ops"), >, 0);
    g_assert_cmpint (json_object_get_int_member (o, "runs"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (o, "encoded_bytes"), >, 0);
    g_assert_cmpint (json_object_get_int_member (o, "doc_bytes"), >, 0);
    g_assert_cmpint (json_object_get_int_member (o, "peak_rss_kb"), >, 0);
    for (guint i = 0; i < 3; i++)
      {
        const char *ms = (const char *[]) { "replay_ms", "updates_ms", "load_ms" }[i];

        g_assert_cmpfloat (json_object_get_double_member (o, ms), >=, 0);
      }
  }

  /* Plain text. */
  run_clear (&r);
  run (f, &r, "replay-trace", trace);
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, "matches endContent"));

  /* endContent altered: replays, does not match, exit 1. */
  {
    g_autoptr(JsonNode) root = load_gz_json (trace);
    JsonObject *o = json_node_get_object (root);
    g_autofree char *end = g_strconcat (json_object_get_string_member (o, "endContent"), "!", NULL);
    g_autoptr(JsonGenerator) gen = json_generator_new ();
    g_autoptr(GError) error = NULL;

    json_object_set_string_member (o, "endContent", end);
    json_generator_set_root (gen, root);
    g_assert_true (json_generator_to_file (gen, wrong, &error));
    g_assert_no_error (error);
  }
  run_clear (&r);
  run (f, &r, "replay-trace", wrong);
  g_assert_cmpint (r.status, ==, EXIT_FAIL);
  g_assert_nonnull (strstr (r.out, "DOES NOT MATCH"));
  run_clear (&r);
  run (f, &r, "replay-trace", "--json", wrong);
  g_assert_cmpint (r.status, ==, EXIT_FAIL);
  {
    g_autoptr(JsonNode) root = parse_json (r.out);

    g_assert_false (json_object_get_boolean_member (json_node_get_object (root), "matches"));
  }

  /* Malformed input: exit 2 with a message. */
  write_file (malformed,
              "{\"endContent\": \"abc\", \"txns\": [{\"patches\": [[5, 0, \"x\"]]}]}", -1);
  run_clear (&r);
  run (f, &r, "replay-trace", malformed);
  assert_error (&r, EXIT_USAGE);
  write_file (malformed, "this is not JSON", -1);
  run_clear (&r);
  run (f, &r, "replay-trace", "--json", malformed);
  assert_error (&r, EXIT_USAGE);
  g_assert_cmpstr (r.out, ==, "");
  {
    g_autofree char *gz = NULL;
    gsize len;

    g_assert_true (g_file_get_contents (trace, &gz, &len, NULL));
    write_file (cut, gz, (gssize) len / 2);
  }
  run_clear (&r);
  run (f, &r, "replay-trace", cut);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "replay-trace", "no-such-trace.json");
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "replay-trace");
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "replay-trace", "--runs", "0", trace);
  assert_error (&r, EXIT_USAGE);
}

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------ */

static void
test_errors (Fixture       *f,
             gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_autofree char *notes = g_build_filename (f->dir, "notes.md", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "missing.flowsync", NULL);

  /* Usage. */
  run_argv (f, &r, (const char * const []) { NULL }, NULL);
  assert_error (&r, EXIT_USAGE);
  g_assert_nonnull (strstr (r.err, "replay-trace"));
  run_clear (&r);
  run (f, &r, "frobnicate");
  assert_error (&r, EXIT_USAGE);
  g_assert_nonnull (strstr (r.err, "frobnicate"));
  run_clear (&r);
  run (f, &r, "--help");
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, "edit-page"));
  run_clear (&r);
  run (f, &r, "export", "--help");
  assert_ok (&r);
  g_assert_nonnull (strstr (r.out, "--format"));
  run_clear (&r);
  run (f, &r, "--version");
  assert_ok (&r);
  g_assert_true (g_str_has_prefix (r.out, "flowsync-cli "));
  run_clear (&r);
  run (f, &r, "list", "--no-such-option", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);

  /* No workspace there. */
  run_clear (&r);
  run (f, &r, "list", "-w", missing);
  assert_error (&r, EXIT_FAIL);
  g_assert_nonnull (strstr (r.err, "init"));
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  run_clear (&r);
  run (f, &r, "new", "page", "X", "-w", missing);
  assert_error (&r, EXIT_FAIL);
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  /* Not a workspace: refused, untouched. */
  write_file (notes, "# Notes\n\nNot a workspace.\n", -1);
  before = checksum (notes);
  for (guint i = 0; i < 4; i++)
    {
      const char * const *argv = (const char * const *[]) {
        (const char * const []) { "list", "-w", notes, NULL },
        (const char * const []) { "new", "page", "X", "-w", notes, NULL },
        (const char * const []) { "edit-page", "X", "--insert", "0", "y", "-w", notes, NULL },
        (const char * const []) { "stats", "-w", notes, NULL },
      }[i];

      run_clear (&r);
      run_argv (f, &r, argv, NULL);
      assert_error (&r, EXIT_FAIL);
      g_assert_nonnull (strstr (r.err, "not a FlowSync workspace"));
    }
  after = checksum (notes);
  g_assert_cmpstr (after, ==, before);
  {
    g_autofree char *wal = g_strconcat (notes, "-wal", NULL);

    g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  }

  /* Unknown and ambiguous documents. */
  cli_init (f);
  g_free (cli_new (f, "page", "Twin"));
  g_free (cli_new (f, "board", "Twin"));
  g_free (cli_new (f, "board", "Board"));
  for (guint i = 0; i < 5; i++)
    {
      const char * const *argv = (const char * const *[]) {
        (const char * const []) { "export", "Nobody", "--format", "md", "-w", f->ws, NULL },
        (const char * const []) { "edit-page", "Nobody", "--insert", "0", "x", "-w", f->ws, NULL },
        (const char * const []) { "history", "0123456789abcdef-7", "-w", f->ws, NULL },
        (const char * const []) { "checkout", "Nobody", "--at", "0", "-w", f->ws, NULL },
        (const char * const []) { "export", "Twin", "--format", "json", "-w", f->ws, NULL },
      }[i];

      run_clear (&r);
      run_argv (f, &r, argv, NULL);
      assert_error (&r, EXIT_FAIL);
      g_assert_nonnull (strstr (r.err, "list"));
    }

  /* A board is not a page. */
  run_clear (&r);
  run (f, &r, "edit-page", "Board", "--insert", "0", "x", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);

  /* A title the catalog does not take. */
  {
    g_autofree char *title = g_strnfill (2000, 't');

    run_clear (&r);
    run (f, &r, "new", "page", title, "-w", f->ws);
    assert_error (&r, EXIT_USAGE);
  }

  /* An output file that cannot be written. */
  {
    g_autofree char *nowhere = g_build_filename (f->dir, "no", "such", "dir", "out.md", NULL);

    g_free (cli_new (f, "page", "Out"));
    run_clear (&r);
    run (f, &r, "export", "Out", "--format", "md", "-o", nowhere, "-w", f->ws);
    assert_error (&r, EXIT_FAIL);
    run_clear (&r);
    run (f, &r, "checkout", "Out", "--at", "0", "-o", nowhere, "-w", f->ws);
    assert_error (&r, EXIT_FAIL);
  }
}

static void
test_chat (Fixture       *f,
           gconstpointer  data)
{
  g_auto(Run) r = { 0, };
  g_auto(GStrv) lines = NULL;

  cli_init (f);
  run (f, &r, "chat", "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpstr (r.out, ==, "");

  run_clear (&r);
  run (f, &r, "chat", "--post", "Hello, @Grace 👋", "--name", "Ada", "-w", f->ws);
  assert_ok (&r);
  run_clear (&r);
  run (f, &r, "chat", "-p", "second", "-n", "Grace", "-w", f->ws);
  assert_ok (&r);

  run_clear (&r);
  run (f, &r, "chat", "-w", f->ws);
  assert_ok (&r);
  lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_true (g_str_has_suffix (lines[0], "  Ada: Hello, @Grace 👋"));
  g_assert_true (g_str_has_suffix (lines[1], "  Grace: second"));

  /* An empty message is refused and nothing is added. */
  run_clear (&r);
  run (f, &r, "chat", "--post", "", "-w", f->ws);
  assert_error (&r, EXIT_USAGE);
  run_clear (&r);
  run (f, &r, "chat", "-w", f->ws);
  assert_ok (&r);
  g_assert_cmpuint (strlen (r.out), >, 0);
  g_strfreev (lines);
  lines = g_strsplit (r.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/flow/cli/init", test_init);
  ADD ("/flow/cli/new-list", test_new_list);
  ADD ("/flow/cli/default-workspace", test_default_workspace);
  ADD ("/flow/cli/import-export", test_import_export);
  ADD ("/flow/cli/export-json", test_export_json);
  ADD ("/flow/cli/edit-history-checkout", test_edit_history_checkout);
  ADD ("/flow/cli/edit-page/option-like-text", test_edit_option_like_text);
  ADD ("/flow/cli/edit-page/parallel", test_parallel_edits);
  ADD ("/flow/cli/stats", test_stats);
  ADD ("/flow/cli/chat", test_chat);
  ADD ("/flow/cli/replay-trace", test_replay_trace);
  ADD ("/flow/cli/errors", test_errors);

#undef ADD

  return g_test_run ();
}
