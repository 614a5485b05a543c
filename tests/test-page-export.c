/* test-page-export.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * src/render/flow-page-export.c: Markdown import (UTF-8 checks, BOM and
 * line ends), HTML export (structure, escaping, wiki links), PDF export
 * (rasterised with pdftoppm, read back with pdftotext, paginated), and
 * flowsync-cli's import and export commands.
 *
 * The real documents come from tests/data/markdown/ (see SOURCE.md there).
 * poppler-utils and xmllint are used when installed; tests that need a
 * missing tool are skipped.
 */

#include "config.h"

#include <string.h>

#include <cairo.h>
#include <glib/gstdio.h>

#include "flow-doc.h"
#include "flow-page-export.h"
#include "flow-test-util.h"

static const FlowOpId page_id = { 0, 0 };

static const char sample[] =
  "# Quarterly *plan*\n"
  "\n"
  "Intro paragraph with **bold**, _italic_, `inline code` and a "
  "[link](https://example.org/docs?a=1&b=2).\n"
  "\n"
  "Setext heading\n"
  "--------------\n"
  "\n"
  "- first bullet\n"
  "- second bullet\n"
  "  1. nested one\n"
  "  2. nested two\n"
  "\n"
  "3. third item\n"
  "4. fourth item\n"
  "\n"
  "> A quoted thought\n"
  "> over two lines.\n"
  "\n"
  "```c\n"
  "int main (void) { return 0; }\n"
  "```\n"
  "\n"
  "***\n"
  "\n"
  "See [[Meeting notes]] and [[My page/sub]], not `[[code]]`; #tag stays.\n"
  "\n"
  "![A diagram](diagram.png)\n"
  "\n"
  "<script>alert('x')</script>\n"
  "\n"
  "Inline <b onclick=\"x()\">html</b> and [bad](javascript:alert(1)).\n";

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------ */

static int
compare_paths (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static GPtrArray *
markdown_files (void)
{
  g_autofree char *dir_path = flow_test_data_path ("markdown");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".md") && !g_str_equal (name, "SOURCE.md"))
      g_ptr_array_add (files, g_build_filename (dir_path, name, NULL));
  g_ptr_array_sort (files, compare_paths);
  g_assert_cmpuint (files->len, >=, 10);
  return files;
}

static char *
read_file (const char *path,
           gsize      *len)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, len, &error);
  g_assert_no_error (error);
  return contents;
}

static char *
html_string (const char *markdown,
             const char *title)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = flow_page_export_html (markdown, title, &error);
  gsize len;
  const char *data;

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  g_assert_true (g_utf8_validate_len (data, len, NULL));
  return g_strndup (data, len);
}

static GBytes *
pdf_bytes (const char *markdown,
           const char *title)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_true (flow_page_export_pdf (markdown, title, out, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Where @needle is in @bytes, which may hold NUL bytes. */
static const char *
bytes_find (GBytes     *bytes,
            const char *needle)
{
  gsize len, n = strlen (needle);
  const char *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i + n <= len; i++)
    if (memcmp (data + i, needle, n) == 0)
      return data + i;
  return NULL;
}

static gboolean
have_tools (const char * const *tools)
{
  for (guint i = 0; tools[i] != NULL; i++)
    {
      g_autofree char *path = g_find_program_in_path (tools[i]);

      if (path == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("%s is not installed", tools[i]);

          g_test_skip (msg);
          return FALSE;
        }
    }
  return TRUE;
}

/* Runs @argv; returns the exit status and fills @out and @err. */
static int
run_argv (const char * const *argv,
          char              **out,
          char              **err)
{
  g_autoptr(GError) error = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err,
                &status, &error);
  g_assert_no_error (error);
  if (!WIFEXITED (status))
    g_error ("%s died with status %d", argv[0], status);
  return WEXITSTATUS (status);
}

static char *
run_tool (const char * const *argv)
{
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = run_argv (argv, &out, &err);

  if (status != 0)
    g_error ("%s failed (%d): %s", argv[0], status, err);
  return out;
}

static char *
write_temp (const char *dir,
            const char *name,
            GBytes     *bytes)
{
  char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  return path;
}

static int
pdf_pages (const char *pdf)
{
  g_autofree char *info = run_tool ((const char * const []) { "pdfinfo", pdf, NULL });
  const char *pages = strstr (info, "\nPages:");

  g_assert_nonnull (pages);
  return atoi (pages + strlen ("\nPages:"));
}

/* Words of @text, squeezed: pdftotext breaks lines and hyphenates
 * differently from the source, so compare runs of word characters. */
static char *
squeeze (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isalnum (c))
        g_string_append_unichar (out, g_unichar_tolower (c));
    }
  return g_string_free (out, FALSE);
}

/* The share of non-white pixels on page @page of @pdf, at 50 dpi. */
static double
ink_on_page (const char *dir,
             const char *pdf,
             int         page)
{
  g_autofree char *prefix = g_build_filename (dir, "page", NULL);
  g_autofree char *png = g_strdup_printf ("%s.png", prefix);
  g_autofree char *num = g_strdup_printf ("%d", page);
  g_autofree char *ignored = run_tool ((const char * const []) {
      "pdftoppm", "-r", "50", "-png", "-singlefile", "-f", num, "-l", num, pdf, prefix, NULL });
  cairo_surface_t *s = cairo_image_surface_create_from_png (png);
  int w, h, stride, ink = 0;
  const guint8 *data;

  g_assert_cmpint (cairo_surface_status (s), ==, CAIRO_STATUS_SUCCESS);
  w = cairo_image_surface_get_width (s);
  h = cairo_image_surface_get_height (s);
  stride = cairo_image_surface_get_stride (s);
  data = cairo_image_surface_get_data (s);
  /* A4 at 50 dpi. */
  g_assert_cmpint (ABS (w - 413), <=, 1);
  g_assert_cmpint (ABS (h - 585), <=, 1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if ((*(const guint32 *) (data + y * stride + x * 4) & 0xffffff) != 0xffffff)
        ink++;
  cairo_surface_destroy (s);
  g_unlink (png);
  return ink / (double) (w * h);
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("flowsync-page-export-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

/* Fails, naming it, unless each of @needles is in @haystack. */
static void
assert_has_all (const char         *haystack,
                const char * const *needles)
{
  for (guint i = 0; needles[i] != NULL; i++)
    if (strstr (haystack, needles[i]) == NULL)
      g_error ("“%s” is missing from:\n%s", needles[i], haystack);
}

/* A structural check of HTML: every element that is opened is closed, in
 * order (void elements aside), and nothing follows </html>. HTML5 is not
 * XML, but our output is written to pass this. */
static void
assert_balanced (const char *html)
{
  static const char * const void_elements[] = { "meta", "img", "hr", "br", "input", "link", NULL };
  g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func (g_free);
  const char *p = html;

  g_assert_true (g_str_has_prefix (html, "<!DOCTYPE html>\n"));
  while ((p = strchr (p, '<')) != NULL)
    {
      const char *end = strchr (p, '>');
      gboolean closing = p[1] == '/';
      const char *name = p + (closing ? 2 : 1);
      gsize n = strspn (name, "abcdefghijklmnopqrstuvwxyz0123456789");
      g_autofree char *tag = g_strndup (name, n);

      g_assert_nonnull (end);
      if (p[1] == '!')
        {
          p = end + 1;
          continue;
        }
      g_assert_cmpuint (n, >, 0);
      if (closing)
        {
          g_assert_cmpuint (stack->len, >, 0);
          g_assert_cmpstr (g_ptr_array_index (stack, stack->len - 1), ==, tag);
          g_ptr_array_remove_index (stack, stack->len - 1);
        }
      else if (!g_strv_contains (void_elements, tag) && end[-1] != '/')
        g_ptr_array_add (stack, g_steal_pointer (&tag));
      p = end + 1;
    }
  g_assert_cmpuint (stack->len, ==, 0);
  g_assert_true (g_str_has_suffix (html, "</body>\n</html>\n"));
}

/* xmllint's HTML parser, if installed: no errors. */
static void
assert_xmllint_clean (const char *html)
{
  g_autofree char *xmllint = g_find_program_in_path ("xmllint");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GBytes) bytes = NULL;
  int status;

  if (xmllint == NULL)
    return;
  dir = make_temp_dir ();
  bytes = g_bytes_new (html, strlen (html));
  path = write_temp (dir, "page.html", bytes);
  status = run_argv ((const char * const []) { "xmllint", "--html", "--noout", path, NULL }, &out, &err);
  if (status != 0 || *err != '\0')
    g_error ("xmllint --html: %s", err);
  flow_test_remove_tree (dir);
}

/* ------------------------------------------------------------------------
 * HTML
 * ------------------------------------------------------------------------ */

static void
test_html_structure (void)
{
  g_autofree char *html = html_string (sample, "Plan <Q3> & \"more\"");

  assert_balanced (html);
  assert_xmllint_clean (html);

  /* The document around the body. */
  assert_has_all (html, (const char * const []) {
    "<html>\n<head>\n<meta charset=\"utf-8\">\n",
    "<title>Plan &lt;Q3&gt; &amp; &quot;more&quot;</title>",
    "<style>\n",
    "max-width: 70ch",
    "system-ui",
    "@media (prefers-color-scheme: dark)",
    NULL });

  g_assert_null (strstr (html, "<script"));
  g_assert_null (strstr (html, "<link"));

  /* The body's structure. */
  assert_has_all (html, (const char * const []) {
    "<h1>Quarterly <em>plan</em></h1>",
    "<h2>Setext heading</h2>",
    "<strong>bold</strong>",
    "<em>italic</em>",
    "<code>inline code</code>",
    "<a href=\"https://example.org/docs?a=1&amp;b=2\">link</a>",
    "<ul>\n<li>first bullet</li>\n<li>second bullet\n<ol>\n"
    "<li>nested one</li>\n<li>nested two</li>\n</ol>\n</li>\n</ul>",
    "<ol start=\"3\">\n<li>third item</li>",
    "<blockquote>\n<p>A quoted thought\nover two lines.</p>\n</blockquote>",
    "<pre><code class=\"language-c\">int main (void) { return 0; }\n"
    "</code></pre>",
    "<hr />",
    "<img src=\"diagram.png\" alt=\"A diagram\" />",
    NULL });

  /* Wiki links, not in code; tags stay text. */
  g_assert_nonnull (strstr (html, "See <a class=\"wikilink\" href=\"Meeting%20notes.html\">Meeting notes</a>"
                                  " and <a class=\"wikilink\" href=\"My%20page%2Fsub.html\">My page/sub</a>"
                                  ", not <code>[[code]]</code>; #tag stays."));

  /* Raw HTML is shown, escaped, never passed through. */
  g_assert_nonnull (strstr (html, "<pre><code>&lt;script&gt;alert('x')&lt;/script&gt;\n</code></pre>"));
  g_assert_nonnull (strstr (html, "Inline &lt;b onclick=&quot;x()&quot;&gt;html&lt;/b&gt; and "));
  g_assert_null (strstr (html, "javascript:"));
  g_assert_null (strstr (html, "onclick=\""));
}

static void
test_html_title (void)
{
  g_autofree char *from_heading = html_string ("Some text\n\n## The *real* title\n", NULL);
  g_autofree char *untitled = html_string ("Just text.\n", "");
  g_autofree char *empty = html_string ("", "Empty");

  g_assert_nonnull (strstr (from_heading, "<title>The real title</title>"));
  g_assert_nonnull (strstr (untitled, "<title>Untitled</title>"));
  g_assert_nonnull (strstr (empty, "<title>Empty</title>"));
  assert_balanced (empty);
  g_assert_nonnull (strstr (empty, "<body>\n</body>"));
}

static void
test_html_wikilinks (void)
{
  g_autofree char *html = html_string ("[[ Spaced ]] [[]] [[a[b]] [[x\ny]] [[[Inner]]] "
                                       "[see [[Not here]]](https://example.org/) [[Ünï & co]]\n",
                                       "Links");

  assert_balanced (html);
  assert_has_all (html, (const char * const []) {
    "<a class=\"wikilink\" href=\"Spaced.html\">Spaced</a>",
    "[[]]",
    "[<a class=\"wikilink\" href=\"Inner.html\">Inner</a>]",
    "<a href=\"https://example.org/\">see [[Not here]]</a>",
    "<a class=\"wikilink\" href=\"%C3%9Cn%C3%AF%20%26%20co.html\">"
    "Ünï &amp; co</a>",
    NULL });

  g_assert_null (strstr (html, "href=\"a"));
  g_assert_null (strstr (html, "href=\"x"));
}

static void
test_html_invalid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = flow_page_export_html ("caf\xe9", "Bad", &error);

  g_assert_null (bytes);
  g_assert_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_INVALID_TEXT);
}

static void
test_html_documents (void)
{
  g_autoptr(GPtrArray) files = markdown_files ();

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *md = read_file (path, NULL);
      g_autofree char *base = g_path_get_basename (path);
      g_autofree char *html = html_string (md, base);

      g_test_message ("%s", base);
      assert_balanced (html);
      assert_xmllint_clean (html);
      g_assert_nonnull (strstr (html, "<h1>") ? strstr (html, "<h1>") : strstr (html, "<h2>"));
    }
}

/* ------------------------------------------------------------------------
 * PDF
 * ------------------------------------------------------------------------ */

static void
test_pdf_text (void)
{
  static const char * const tools[] = { "pdftoppm", "pdftotext", "pdfinfo", NULL };
  g_autoptr(GBytes) pdf = pdf_bytes (sample, "Plan «Q3»");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *info = NULL;
  g_autofree char *words = NULL;
  const char *data = g_bytes_get_data (pdf, NULL);

  g_assert_true (g_str_has_prefix (data, "%PDF-"));
  /* The link is annotated; the javascript: one is not. */
  g_assert_nonnull (bytes_find (pdf, "/URI (https://example.org/docs?a=1&b=2)"));
  g_assert_null (bytes_find (pdf, "javascript"));
  if (!have_tools (tools))
    return;

  dir = make_temp_dir ();
  path = write_temp (dir, "sample.pdf", pdf);
  g_assert_cmpint (pdf_pages (path), ==, 1);
  g_assert_cmpfloat (ink_on_page (dir, path, 1), >, 0.01);

  info = run_tool ((const char * const []) { "pdfinfo", path, NULL });
  g_assert_true (g_regex_match_simple ("^Title: +Plan «Q3»$", info, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Page size: +595.276 x 841.89 pts \\(A4\\)$", info,
                                       G_REGEX_MULTILINE, 0));

  text = run_tool ((const char * const []) { "pdftotext", "-enc", "UTF-8", path, "-", NULL });
  words = squeeze (text);
  for (const char * const *w = (const char * const []) {
         "Quarterly plan", "Intro paragraph with bold, italic, inline code and a link",
         "Setext heading", "first bullet", "nested two", "third item", "A quoted thought over two lines",
         "int main (void) { return 0; }", "See Meeting notes and My page/sub, not [[code]]",
         "A diagram", "<script>alert('x')</script>", "Inline <b onclick=\"x()\">html</b>", NULL };
       *w != NULL; w++)
    {
      g_autofree char *want = squeeze (*w);

      if (strstr (words, want) == NULL)
        g_error ("“%s” is not in the PDF's text:\n%s", *w, text);
    }
  /* List markers. */
  g_assert_nonnull (strstr (text, "•"));
  g_assert_nonnull (strstr (text, "3."));
  /* The page number. */
  g_assert_nonnull (strstr (text, "\n1\n"));
  flow_test_remove_tree (dir);
}

static void
test_pdf_paginate (void)
{
  static const char * const tools[] = { "pdftoppm", "pdftotext", "pdfinfo", NULL };
  g_autofree char *building_path = flow_test_data_path ("markdown/nodejs-BUILDING.md");
  g_autofree char *building = read_file (building_path, NULL);
  g_autoptr(GString) long_par = g_string_new ("# One long paragraph\n\n");
  g_autoptr(GString) long_code = g_string_new ("```\n");
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  g_autoptr(GBytes) c = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *words = NULL;
  int pages;

  for (int i = 0; i < 3000; i++)
    g_string_append_printf (long_par, "word%d ", i);
  g_string_append (long_par, "\n");
  for (int i = 0; i < 200; i++)
    g_string_append_printf (long_code, "line %d of the code\n", i);
  g_string_append (long_code, "```\n");

  a = pdf_bytes (building, "Building Node.js");
  b = pdf_bytes (long_par->str, NULL);
  c = pdf_bytes (long_code->str, NULL);
  if (!have_tools (tools))
    return;
  dir = make_temp_dir ();

  /* A real document. */
  path = write_temp (dir, "building.pdf", a);
  pages = pdf_pages (path);
  g_assert_cmpint (pages, >, 5);
  for (int p = 1; p <= pages; p++)
    g_assert_cmpfloat (ink_on_page (dir, path, p), >, 0.002);
  text = run_tool ((const char * const []) { "pdftotext", "-enc", "UTF-8", path, "-", NULL });
  words = squeeze (text);
  g_assert_nonnull (strstr (words, "buildingnodejs"));
  /* The last paragraph of the file. */
  {
    g_autofree char *last = squeeze ("please reserve and use a custom NODE_MODULE_VERSION by opening "
                                     "a pull request against the registry available at");

    g_assert_nonnull (strstr (words, last));
  }
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&words, g_free);

  /* One paragraph split across pages by lines: every word arrives, in order. */
  path = write_temp (dir, "paragraph.pdf", b);
  g_assert_cmpint (pdf_pages (path), >, 1);
  text = run_tool ((const char * const []) { "pdftotext", "-enc", "UTF-8", path, "-", NULL });
  {
    const char *p = text;

    for (int i = 0; i < 3000; i++)
      {
        g_autofree char *w = g_strdup_printf ("word%d", i);

        p = strstr (p, w);
        g_assert_nonnull (p);
      }
  }
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&text, g_free);

  /* And a code block. */
  path = write_temp (dir, "code.pdf", c);
  g_assert_cmpint (pdf_pages (path), >, 1);
  text = run_tool ((const char * const []) { "pdftotext", "-enc", "UTF-8", path, "-", NULL });
  g_assert_nonnull (strstr (text, "line 0 of the code"));
  g_assert_nonnull (strstr (text, "line 199 of the code"));
  g_assert_nonnull (strstr (text, "\n2\n"));
  flow_test_remove_tree (dir);
}

static void
test_pdf_empty (void)
{
  static const char * const tools[] = { "pdfinfo", NULL };
  g_autoptr(GBytes) pdf = pdf_bytes ("", "Empty page");
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;

  g_assert_true (g_str_has_prefix (g_bytes_get_data (pdf, NULL), "%PDF-"));
  if (!have_tools (tools))
    return;
  dir = make_temp_dir ();
  path = write_temp (dir, "empty.pdf", pdf);
  g_assert_cmpint (pdf_pages (path), ==, 1);
  flow_test_remove_tree (dir);
}

static void
test_pdf_documents (void)
{
  g_autoptr(GPtrArray) files = markdown_files ();

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *md = read_file (path, NULL);
      g_autoptr(GBytes) pdf = pdf_bytes (md, NULL);

      g_assert_true (g_str_has_prefix (g_bytes_get_data (pdf, NULL), "%PDF-"));
    }
}

static void
test_pdf_errors (void)
{
  g_autoptr(GError) error = NULL;
  static char buf[256];
  g_autoptr(GOutputStream) small = g_memory_output_stream_new (buf, sizeof buf, NULL, NULL);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  /* The stream fails: its error comes back. */
  g_assert_false (flow_page_export_pdf (sample, "Too big", small, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_clear_error (&error);

  g_assert_false (flow_page_export_pdf ("\xff", NULL, out, &error));
  g_assert_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_INVALID_TEXT);
}

/* ------------------------------------------------------------------------
 * Import
 * ------------------------------------------------------------------------ */

static char *
import (const char *data,
        gsize       len,
        GError    **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);

  return flow_page_import_markdown (bytes, error);
}

static void
test_import_documents (void)
{
  g_autoptr(GPtrArray) files = markdown_files ();

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autoptr(GError) error = NULL;
      g_autoptr(FlowDoc) page = flow_doc_new (FLOW_DOC_KIND_PAGE, &page_id, 1);
      g_autofree char *text = NULL;
      g_autofree char *stored = NULL;
      g_autofree char *crlf = NULL;
      g_autofree char *again = NULL;
      gsize len;
      g_autofree char *md = read_file (path, &len);

      g_test_message ("%s", path);
      /* The files are already LF-only UTF-8: import changes nothing. */
      text = import (md, len, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (text, strlen (text), md, len);

      /* Stored as a page's text and read back. */
      g_assert_true (flow_doc_insert_text (page, 0, text, -1, &error));
      g_assert_no_error (error);
      stored = flow_doc_dup_text (page);
      g_assert_cmpstr (stored, ==, text);
      g_assert_cmpuint (flow_doc_get_length (page), ==, g_utf8_strlen (text, -1));

      /* The same file with a BOM and Windows line ends imports the same. */
      {
        g_auto(GStrv) lines = g_strsplit (md, "\n", -1);
        g_autofree char *joined = g_strjoinv ("\r\n", lines);

        crlf = g_strconcat ("\xef\xbb\xbf", joined, NULL);
      }
      again = import (crlf, strlen (crlf), &error);
      g_assert_no_error (error);
      g_assert_cmpstr (again, ==, text);
    }
}

static void
test_import_normalise (void)
{
  static const struct { const char *in; gsize len; const char *out; } cases[] = {
    { "", 0, "" },
    { "\xef\xbb\xbf", 3, "" },
    { "\xef\xbb\xbf# Title\r\n", 12, "# Title\n" },
    { "a\r\nb\rc\nd\r\r\ne\r", 13, "a\nb\nc\nd\n\ne\n" },
    { "\r\n\r", 3, "\n\n" },
    /* Only a leading BOM goes; one inside is a zero-width no-break space. */
    { "a\xef\xbb\xbf", 4, "a\xef\xbb\xbf" },
    { "\xef\xbb\xbf\xef\xbb\xbf", 6, "\xef\xbb\xbf" },
    { "Ünïcödé 日本語 🎉\tx", 28, "Ünïcödé 日本語 🎉\tx" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *text = import (cases[i].in, cases[i].len, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (text, ==, cases[i].out);
    }
}

static void
test_import_invalid (void)
{
  static const struct { const char *in; gsize len; const char *offset; } cases[] = {
    { "caf\xe9\n", 5, "at byte 3" },
    { "\xef\xbb\xbf" "ab\xff", 6, "at byte 5" },
    { "ok\xc0\xaf", 4, "at byte 2" },            /* overlong */
    { "ab\xed\xa0\x80", 5, "at byte 2" },        /* a surrogate */
    { "abc\xe2\x82", 5, "at byte 3" },           /* cut short at the end */
    { "ab\0cd", 5, "NUL byte at byte 2" },
    { "\xef\xbb\xbf\0", 4, "NUL byte at byte 3" },
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *big = NULL;
  g_autofree char *text = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) e = NULL;
      g_autofree char *t = import (cases[i].in, cases[i].len, &e);

      g_assert_null (t);
      g_assert_error (e, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_INVALID_TEXT);
      if (strstr (e->message, cases[i].offset) == NULL)
        g_error ("case %u: “%s” does not say “%s”", i, e->message, cases[i].offset);
    }

  /* Too large, and just small enough. */
  big = g_malloc (FLOW_PAGE_IMPORT_MAX_BYTES + 1);
  memset (big, 'a', FLOW_PAGE_IMPORT_MAX_BYTES + 1);
  text = import (big, FLOW_PAGE_IMPORT_MAX_BYTES + 1, &error);
  g_assert_null (text);
  g_assert_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "at most 16 MiB"));
  g_clear_error (&error);
  text = import (big, FLOW_PAGE_IMPORT_MAX_BYTES, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (text), ==, FLOW_PAGE_IMPORT_MAX_BYTES);
}

static void
test_title (void)
{
  static const struct { const char *md; const char *fallback; const char *title; } cases[] = {
    { "# Hello\n\ntext", "f", "Hello" },
    { "   ## Closed heading ##   \n", "f", "Closed heading" },
    { "Setext one\n==========\n", "f", "Setext one" },
    { "Para\n\nSetext two\nacross lines\n---\n# Later\n", "f", "Setext two across lines" },
    { "# *Emph* and `code` [link](x) ![img](y)\n", "f", "Emph and code link img" },
    { "```\n# not a heading\n```\n\n    # nor this\n\n## Real\n", "f", "Real" },
    { "#\n\n# \n\n## Second\n", "f", "Second" },
    { "#hashtag is not a heading\n", "file name", "file name" },
    { "", "file name", "file name" },
    { "no heading", NULL, NULL },
    { "> # Quoted heading\n", "f", "Quoted heading" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *title = flow_page_title_from_markdown (cases[i].md, cases[i].fallback);

      g_assert_cmpstr (title, ==, cases[i].title);
    }
}

/* ------------------------------------------------------------------------
 * flowsync-cli import and export
 * ------------------------------------------------------------------------ */

typedef struct
{
  const char *cli;
  char       *dir;
  char       *ws;
} Cli;

static gboolean
cli_setup (Cli *c)
{
  c->cli = g_getenv ("FLOWSYNC_CLI");
  if (c->cli == NULL)
    {
      g_test_skip ("FLOWSYNC_CLI is not set (meson test sets it)");
      return FALSE;
    }
  c->dir = make_temp_dir ();
  c->ws = g_build_filename (c->dir, "test.flowsync", NULL);
  return TRUE;
}

static void
cli_clear (Cli *c)
{
  g_autofree char *wal = g_strconcat (c->ws, "-wal", NULL);
  g_autofree char *shm = g_strconcat (c->ws, "-shm", NULL);

  g_unlink (wal);
  g_unlink (shm);
  flow_test_remove_tree (c->dir);
  g_free (c->dir);
  g_free (c->ws);
}

/* Runs flowsync-cli with @args and -w; returns its exit status. */
static int
cli (Cli         *c,
     char       **out,
     char       **err,
     const char  *first,
     ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *o = NULL;
  g_autofree char *e = NULL;
  const char *arg;
  va_list args;
  int status;

  g_ptr_array_add (argv, (gpointer) c->cli);
  va_start (args, first);
  for (arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, (gpointer) "-w");
  g_ptr_array_add (argv, c->ws);
  g_ptr_array_add (argv, NULL);

  status = run_argv ((const char * const *) argv->pdata, &o, &e);
  if (out)
    *out = g_steal_pointer (&o);
  if (err)
    *err = g_steal_pointer (&e);
  return status;
}

static void
test_cli_round_trip (void)
{
  g_autoptr(GPtrArray) files = markdown_files ();
  Cli c = { 0, };

  if (!cli_setup (&c))
    return;
  g_assert_cmpint (cli (&c, NULL, NULL, "init", c.ws, NULL), ==, 0);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *id = NULL;
      g_autofree char *err = NULL;
      g_autofree char *out = NULL;
      g_autofree char *md = NULL;
      gsize len;

      g_assert_cmpint (cli (&c, &id, &err, "import", path, NULL), ==, 0);
      g_assert_cmpstr (err, ==, "");
      g_strstrip (id);
      g_assert_cmpint (cli (&c, &out, NULL, "export", id, "--format", "md", NULL), ==, 0);
      md = read_file (path, &len);
      g_assert_cmpmem (out, strlen (out), md, len);
    }
  cli_clear (&c);
}

static void
test_cli_formats (void)
{
  Cli c = { 0, };
  g_autofree char *md_path = NULL;
  g_autofree char *pdf_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *pdf = NULL;
  g_autoptr(GBytes) windows = NULL;
  gsize len;

  if (!cli_setup (&c))
    return;
  md_path = g_build_filename (c.dir, "Windows notes.md", NULL);
  pdf_path = g_build_filename (c.dir, "notes.pdf", NULL);
  windows = g_bytes_new_static ("\xef\xbb\xbf# Notes\r\n\r\n- one\r\n- two [[Other]]\r\n", 38);
  g_free (write_temp (c.dir, "Windows notes.md", windows));

  g_assert_cmpint (cli (&c, NULL, NULL, "init", c.ws, NULL), ==, 0);
  g_assert_cmpint (cli (&c, NULL, &err, "import", md_path, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_clear_pointer (&err, g_free);

  /* Normalised on the way in; the title is the file name. */
  g_assert_cmpint (cli (&c, &out, NULL, "export", "Windows notes", "--format", "md", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "# Notes\n\n- one\n- two [[Other]]\n");
  g_clear_pointer (&out, g_free);

  /* HTML to standard output. */
  g_assert_cmpint (cli (&c, &out, NULL, "export", "Windows notes", "--format", "html", NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "<!DOCTYPE html>\n"));
  g_assert_nonnull (strstr (out, "<title>Windows notes</title>"));
  g_assert_nonnull (strstr (out, "<h1>Notes</h1>"));
  g_assert_nonnull (strstr (out, "<li>two <a class=\"wikilink\" href=\"Other.html\">Other</a></li>"));
  assert_balanced (out);
  g_clear_pointer (&out, g_free);

  /* PDF to a file; it needs --output. */
  g_assert_cmpint (cli (&c, NULL, NULL, "export", "Windows notes", "--format", "pdf", "-o", pdf_path, NULL),
                   ==, 0);
  pdf = read_file (pdf_path, &len);
  g_assert_true (g_str_has_prefix (pdf, "%PDF-"));
  g_assert_cmpint (cli (&c, NULL, &err, "export", "Windows notes", "--format", "pdf", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--output"));
  g_clear_pointer (&err, g_free);

  /* JSON still works for pages. */
  g_assert_cmpint (cli (&c, &out, NULL, "export", "Windows notes", "--format", "json", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"page\""));
  g_clear_pointer (&out, g_free);

  /* Pages are not drawn as images; boards have no HTML. */
  g_assert_cmpint (cli (&c, NULL, &err, "export", "Windows notes", "--format", "png", "-o", pdf_path, NULL),
                   ==, 2);
  g_assert_nonnull (strstr (err, "html"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (&c, NULL, NULL, "new", "board", "Sketch", NULL), ==, 0);
  g_assert_cmpint (cli (&c, NULL, &err, "export", "Sketch", "--format", "html", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "board"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli (&c, NULL, &err, "export", "Windows notes", "--format", "docx", NULL), ==, 2);
  g_clear_pointer (&err, g_free);

  /* An explicit title. */
  g_assert_cmpint (cli (&c, NULL, NULL, "import", md_path, "--title", "Renamed", NULL), ==, 0);
  g_assert_cmpint (cli (&c, &out, NULL, "export", "Renamed", "--format", "html", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "<title>Renamed</title>"));
  g_clear_pointer (&out, g_free);

  cli_clear (&c);
}

static void
test_cli_bad_input (void)
{
  static const struct { const char *name; const char *data; gsize len; const char *says; } cases[] = {
    { "latin1.md", "caf\xe9\n", 5, "at byte 3" },
    { "binary.md", "PK\3\4\0\0", 6, "NUL byte at byte 4" },
  };
  Cli c = { 0, };

  if (!cli_setup (&c))
    return;
  g_assert_cmpint (cli (&c, NULL, NULL, "init", c.ws, NULL), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) bytes = g_bytes_new_static (cases[i].data, cases[i].len);
      g_autofree char *path = write_temp (c.dir, cases[i].name, bytes);
      g_autofree char *err = NULL;
      g_autofree char *out = NULL;

      g_assert_cmpint (cli (&c, NULL, &err, "import", path, NULL), ==, 2);
      if (strstr (err, cases[i].says) == NULL)
        g_error ("“%s” does not say “%s”", err, cases[i].says);
      /* Nothing was created. */
      g_assert_cmpint (cli (&c, &out, NULL, "list", NULL), ==, 0);
      g_assert_cmpstr (out, ==, "");
    }
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (cli (&c, NULL, &err, "import", "/nonexistent/file.md", NULL), ==, 2);
    g_assert_cmpstr (err, !=, "");
  }
  cli_clear (&c);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/render/page-export/html/structure", test_html_structure);
  g_test_add_func ("/flow/render/page-export/html/title", test_html_title);
  g_test_add_func ("/flow/render/page-export/html/wikilinks", test_html_wikilinks);
  g_test_add_func ("/flow/render/page-export/html/invalid", test_html_invalid);
  g_test_add_func ("/flow/render/page-export/html/documents", test_html_documents);
  g_test_add_func ("/flow/render/page-export/pdf/text", test_pdf_text);
  g_test_add_func ("/flow/render/page-export/pdf/paginate", test_pdf_paginate);
  g_test_add_func ("/flow/render/page-export/pdf/empty", test_pdf_empty);
  g_test_add_func ("/flow/render/page-export/pdf/documents", test_pdf_documents);
  g_test_add_func ("/flow/render/page-export/pdf/errors", test_pdf_errors);
  g_test_add_func ("/flow/render/page-export/import/documents", test_import_documents);
  g_test_add_func ("/flow/render/page-export/import/normalise", test_import_normalise);
  g_test_add_func ("/flow/render/page-export/import/invalid", test_import_invalid);
  g_test_add_func ("/flow/render/page-export/title", test_title);
  g_test_add_func ("/flow/render/page-export/cli/round-trip", test_cli_round_trip);
  g_test_add_func ("/flow/render/page-export/cli/formats", test_cli_formats);
  g_test_add_func ("/flow/render/page-export/cli/bad-input", test_cli_bad_input);

  return g_test_run ();
}
