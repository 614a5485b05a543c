/* flow-page-export.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Pages in and out: Markdown import, and HTML and PDF export.
 *
 * Markdown is CommonMark as cmark (0.30) parses it, with no extensions:
 * no tables, no strikethrough, no task lists. Smart punctuation is off, so
 * the export shows the quotes and dashes the page has.
 *
 * Two FlowSync additions, done on cmark's tree after parsing (so neither
 * touches code spans or code blocks):
 *  - A wiki link `[[Title]]` (not empty, no brackets or line break inside,
 *    not already inside a link) becomes a link to the page of that title:
 *    `<a class="wikilink" href="Title.html">Title</a>` in HTML, the title
 *    escaped as one URI path segment (RFC 3986, ASCII only: "My notes/2"
 *    links to "My%20notes%2F2.html"). Exporting several pages into one
 *    folder, each as "TITLE.html", makes these links work. In PDF a wiki
 *    link is coloured like a link but points nowhere.
 *  - Raw HTML is never passed through (cmark's safe mode, CMARK_OPT_UNSAFE
 *    off). Rather than dropping it as cmark would, inline HTML is kept as
 *    plain, escaped text and an HTML block as a code block, so the export
 *    loses nothing the author wrote. cmark's safe mode also drops links
 *    and images to javascript:, vbscript:, file: and non-image data: URLs.
 * `#tags` stay text.
 *
 * HTML: one standalone HTML5 file with an embedded stylesheet in the
 * Adwaita spirit (system-ui fonts, a 70ch measure, monospace code on a
 * light panel, quiet block quotes and tables, a dark variant through
 * prefers-color-scheme). No scripts, no external resources besides the
 * page's own images.
 *
 * PDF: A4 portrait, 20 mm margins, the page number centred in the bottom
 * margin, the title as PDF metadata. Blocks are laid out with Pango one
 * line at a time, so a long paragraph or code block continues on the next
 * page; a heading is moved to the next page if it would end up alone at
 * the bottom. Links get PDF link annotations; images show their alt text
 * in grey italics. Empty Markdown gives one empty page (with its number).
 *
 * Import: UTF-8 only (the error names the byte offset of the first bad
 * byte), without NUL bytes, at most FLOW_PAGE_IMPORT_MAX_BYTES. A byte
 * order mark is dropped and CRLF and lone CR line ends become LF: pages
 * are LF-only, like the editor's buffer.
 */

#define G_LOG_DOMAIN "flow-page-export"

#include "config.h"

#include <string.h>

#include <cairo-pdf.h>
#include <cmark.h>
#include <pango/pangocairo.h>

#include "flow-page-export.h"

G_DEFINE_QUARK (flow-page-error-quark, flow_page_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (cmark_node, cmark_node_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (cmark_iter, cmark_iter_free)

#define PARSE_OPTIONS (CMARK_OPT_VALIDATE_UTF8)
#define RENDER_OPTIONS (CMARK_OPT_SAFE)

/* ------------------------------------------------------------------------
 * Parsing and the FlowSync additions
 * ------------------------------------------------------------------------ */

static gboolean
inside_link (cmark_node *node)
{
  for (cmark_node *p = cmark_node_parent (node); p != NULL; p = cmark_node_parent (p))
    {
      cmark_node_type type = cmark_node_get_type (p);

      if (type == CMARK_NODE_LINK || type == CMARK_NODE_IMAGE || type == CMARK_NODE_CUSTOM_INLINE)
        return TRUE;
    }
  return FALSE;
}

static void
insert_text_before (cmark_node *node,
                    const char *text,
                    gsize       len)
{
  g_autofree char *copy = g_strndup (text, len);
  cmark_node *t = cmark_node_new (CMARK_NODE_TEXT);

  cmark_node_set_literal (t, copy);
  cmark_node_insert_before (node, t);
}

static void
insert_wikilink_before (cmark_node *node,
                        const char *title)
{
  g_autofree char *segment = g_uri_escape_string (title, NULL, FALSE);
  g_autofree char *on_enter = g_strdup_printf ("<a class=\"wikilink\" href=\"%s.html\">", segment);
  cmark_node *link = cmark_node_new (CMARK_NODE_CUSTOM_INLINE);
  cmark_node *text = cmark_node_new (CMARK_NODE_TEXT);

  cmark_node_set_on_enter (link, on_enter);
  cmark_node_set_on_exit (link, "</a>");
  cmark_node_set_literal (text, title);
  cmark_node_append_child (link, text);
  cmark_node_insert_before (node, link);
}

/* Splits the text node @node at each [[Title]]. */
static void
split_wikilinks (cmark_node *node)
{
  g_autofree char *text = g_strdup (cmark_node_get_literal (node));
  const char *rest = text;
  const char *p = text;
  const char *open;

  while ((open = strstr (p, "[[")) != NULL)
    {
      const char *close = strstr (open + 2, "]]");
      g_autofree char *title = NULL;

      if (close == NULL)
        break;
      title = g_strndup (open + 2, close - open - 2);
      g_strstrip (title);
      if (*title == '\0' || strpbrk (title, "[]\n") != NULL)
        {
          p = open + 1;
          continue;
        }
      if (open > rest)
        insert_text_before (node, rest, open - rest);
      insert_wikilink_before (node, title);
      rest = p = close + 2;
    }

  if (rest == text)
    return;
  if (*rest != '\0')
    cmark_node_set_literal (node, rest);
  else
    cmark_node_free (node);
}

/* Parses @markdown and applies the FlowSync additions (see the top). */
static cmark_node *
parse_markdown (const char *markdown)
{
  cmark_node *root = cmark_parse_document (markdown, strlen (markdown), PARSE_OPTIONS);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr(cmark_iter) iter = NULL;
  cmark_event_type ev;

  cmark_consolidate_text_nodes (root);

  /* Collect first: the tree must not change under the iterator. */
  iter = cmark_iter_new (root);
  while ((ev = cmark_iter_next (iter)) != CMARK_EVENT_DONE)
    {
      cmark_node *node = cmark_iter_get_node (iter);
      cmark_node_type type = cmark_node_get_type (node);

      if (ev == CMARK_EVENT_ENTER &&
          (type == CMARK_NODE_HTML_BLOCK || type == CMARK_NODE_HTML_INLINE ||
           (type == CMARK_NODE_TEXT && !inside_link (node))))
        g_ptr_array_add (nodes, node);
    }

  for (guint i = 0; i < nodes->len; i++)
    {
      cmark_node *node = g_ptr_array_index (nodes, i);
      cmark_node *replacement;

      if (cmark_node_get_type (node) == CMARK_NODE_TEXT)
        {
          split_wikilinks (node);
          continue;
        }
      replacement = cmark_node_new (cmark_node_get_type (node) == CMARK_NODE_HTML_BLOCK
                                    ? CMARK_NODE_CODE_BLOCK : CMARK_NODE_TEXT);
      cmark_node_set_literal (replacement, cmark_node_get_literal (node));
      cmark_node_insert_before (node, replacement);
      cmark_node_free (node);
    }

  return root;
}

static gboolean
check_utf8 (const char  *markdown,
            GError     **error)
{
  const char *end;

  if (g_utf8_validate (markdown, -1, &end))
    return TRUE;
  g_set_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_INVALID_TEXT,
               "The page is not valid UTF-8 text (at byte %" G_GSIZE_FORMAT ")",
               (gsize) (end - markdown));
  return FALSE;
}

/* The plain text of @node's inlines (for titles). */
static void
append_plain_text (GString    *out,
                   cmark_node *node)
{
  for (cmark_node *c = cmark_node_first_child (node); c != NULL; c = cmark_node_next (c))
    {
      cmark_node_type type = cmark_node_get_type (c);

      if (type == CMARK_NODE_TEXT || type == CMARK_NODE_CODE || type == CMARK_NODE_HTML_INLINE)
        g_string_append (out, cmark_node_get_literal (c));
      else if (type == CMARK_NODE_SOFTBREAK || type == CMARK_NODE_LINEBREAK)
        g_string_append_c (out, ' ');
      else
        append_plain_text (out, c);
    }
}

/**
 * flow_page_title_from_markdown:
 * @markdown: a page's text
 * @fallback: (nullable): the title to use if there is no heading
 *
 * The text of the first ATX (`# Title`) or Setext (`Title` over `===` or
 * `---`) heading of @markdown that has any, as plain text (emphasis and
 * code marks dropped, line breaks as spaces, trimmed).
 *
 * Returns: (transfer full) (nullable): the title, or a copy of @fallback
 */
char *
flow_page_title_from_markdown (const char *markdown,
                               const char *fallback)
{
  g_autoptr(cmark_node) root = NULL;
  g_autoptr(cmark_iter) iter = NULL;
  cmark_event_type ev;

  g_return_val_if_fail (markdown != NULL, g_strdup (fallback));

  root = cmark_parse_document (markdown, strlen (markdown), PARSE_OPTIONS);
  iter = cmark_iter_new (root);
  while ((ev = cmark_iter_next (iter)) != CMARK_EVENT_DONE)
    {
      cmark_node *node = cmark_iter_get_node (iter);
      g_autoptr(GString) text = NULL;

      if (ev != CMARK_EVENT_ENTER || cmark_node_get_type (node) != CMARK_NODE_HEADING)
        continue;
      text = g_string_new (NULL);
      append_plain_text (text, node);
      g_strstrip (text->str);
      if (text->str[0] != '\0')
        return g_strdup (text->str);
    }
  return g_strdup (fallback);
}

/* ------------------------------------------------------------------------
 * HTML
 * ------------------------------------------------------------------------ */

static const char stylesheet[] =
  ":root {\n"
  "  color-scheme: light dark;\n"
  "  --bg: #ffffff; --fg: #241f31; --muted: #5e5c64; --accent: #1c71d8;\n"
  "  --panel: #f6f5f4; --border: #deddda;\n"
  "}\n"
  "@media (prefers-color-scheme: dark) {\n"
  "  :root {\n"
  "    --bg: #1e1e1e; --fg: #ffffff; --muted: #c0bfbc; --accent: #78aeed;\n"
  "    --panel: #303030; --border: #4a4a4a;\n"
  "  }\n"
  "}\n"
  "html { background: var(--bg); color: var(--fg); }\n"
  "body {\n"
  "  box-sizing: border-box; max-width: 70ch; margin: 0 auto; padding: 2.5rem 1.25rem 4rem;\n"
  "  font-family: system-ui, -apple-system, \"Cantarell\", \"Segoe UI\", \"Noto Sans\",\n"
  "    \"DejaVu Sans\", sans-serif;\n"
  "  font-size: 1rem; line-height: 1.6; overflow-wrap: break-word;\n"
  "}\n"
  "h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.75em 0 0.5em; font-weight: 700; }\n"
  "body > :first-child { margin-top: 0; }\n"
  "h1 { font-size: 2em; }\n"
  "h2 { font-size: 1.5em; }\n"
  "h3 { font-size: 1.25em; }\n"
  "h4 { font-size: 1.1em; }\n"
  "h5, h6 { font-size: 1em; }\n"
  "h6 { color: var(--muted); }\n"
  "p, ul, ol, pre, blockquote, table { margin: 0 0 1em; }\n"
  "a { color: var(--accent); }\n"
  "a.wikilink { text-decoration-style: dotted; }\n"
  "code, kbd, pre, samp {\n"
  "  font-family: ui-monospace, \"Source Code Pro\", \"DejaVu Sans Mono\", monospace;\n"
  "  font-size: 0.9em;\n"
  "}\n"
  "code { background: var(--panel); border-radius: 4px; padding: 0.1em 0.3em; }\n"
  "pre {\n"
  "  background: var(--panel); border-radius: 6px; padding: 0.75em 1em;\n"
  "  overflow-x: auto; line-height: 1.45;\n"
  "}\n"
  "pre code { background: none; padding: 0; font-size: inherit; }\n"
  "blockquote { padding: 0 1em; border-left: 3px solid var(--border); color: var(--muted); }\n"
  "blockquote > :last-child { margin-bottom: 0; }\n"
  "ul, ol { padding-left: 1.75em; }\n"
  "li > ul, li > ol { margin-bottom: 0; }\n"
  "li + li { margin-top: 0.25em; }\n"
  "hr { border: none; border-top: 1px solid var(--border); margin: 2em 0; }\n"
  "table { border-collapse: collapse; display: block; overflow-x: auto; }\n"
  "th, td { border: 1px solid var(--border); padding: 0.35em 0.75em; text-align: left; }\n"
  "th { background: var(--panel); }\n"
  "img { max-width: 100%; height: auto; }\n"
  "@media print {\n"
  "  body { max-width: none; padding: 0; }\n"
  "  a { color: inherit; }\n"
  "  pre { white-space: pre-wrap; }\n"
  "}\n";

/**
 * flow_page_export_html:
 * @markdown: a page's text (UTF-8)
 * @title: (nullable): the page's title; %NULL takes its first heading
 * @error: return location for a #GError
 *
 * A standalone HTML5 document of the page, with its own stylesheet. See
 * the top of this file for what is rendered how.
 *
 * Returns: (transfer full): the UTF-8 HTML, or %NULL if @markdown is not
 *   valid UTF-8
 */
GBytes *
flow_page_export_html (const char  *markdown,
                       const char  *title,
                       GError     **error)
{
  g_autoptr(cmark_node) root = NULL;
  g_autofree char *body = NULL;
  g_autofree char *derived = NULL;
  g_autofree char *escaped = NULL;
  GString *html;

  g_return_val_if_fail (markdown != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_utf8 (markdown, error))
    return NULL;
  if (title == NULL || *title == '\0')
    title = derived = flow_page_title_from_markdown (markdown, "Untitled");
  escaped = g_markup_escape_text (title, -1);

  root = parse_markdown (markdown);
  body = cmark_render_html (root, RENDER_OPTIONS);

  html = g_string_sized_new (strlen (body) + sizeof stylesheet + 512);
  g_string_append (html,
                   "<!DOCTYPE html>\n"
                   "<html>\n"
                   "<head>\n"
                   "<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"generator\" content=\"FlowSync\">\n");
  g_string_append_printf (html, "<title>%s</title>\n", escaped);
  g_string_append (html, "<style>\n");
  g_string_append (html, stylesheet);
  g_string_append (html, "</style>\n</head>\n<body>\n");
  g_string_append (html, body);
  g_string_append (html, "</body>\n</html>\n");

  return g_string_free_to_bytes (html);
}

/* ------------------------------------------------------------------------
 * PDF
 * ------------------------------------------------------------------------ */

#define PT_PER_MM       (72.0 / 25.4)
#define PAGE_WIDTH      (210.0 * PT_PER_MM)
#define PAGE_HEIGHT     (297.0 * PT_PER_MM)
#define MARGIN          (20.0 * PT_PER_MM)
#define CONTENT_WIDTH   (PAGE_WIDTH - 2 * MARGIN)
#define CONTENT_TOP     MARGIN
#define CONTENT_BOTTOM  (PAGE_HEIGHT - MARGIN)

#define SANS_FAMILY     "Cantarell,Noto Sans,DejaVu Sans,Sans"
#define MONO_FAMILY     "Source Code Pro,Noto Sans Mono,DejaVu Sans Mono,Monospace"
#define BODY_SIZE       10.5
#define CODE_SIZE       9.0
#define LIST_INDENT     20.0
#define QUOTE_INDENT    14.0
#define CODE_PAD        5.0

typedef struct
{
  double r, g, b;
} Rgb;

static const Rgb text_rgb  = { 0.14, 0.12, 0.19 };
static const Rgb muted_rgb = { 0.37, 0.36, 0.39 };
static const Rgb link_rgb  = { 0.11, 0.44, 0.85 };
static const Rgb panel_rgb = { 0.965, 0.961, 0.957 };
static const Rgb rule_rgb  = { 0.80, 0.79, 0.78 };

typedef struct
{
  char  *uri;   /* NULL for a wiki link */
  guint  start; /* byte range in the layout's text */
  guint  end;
} PdfLink;

static void
pdf_link_clear (gpointer data)
{
  PdfLink *link = data;

  g_free (link->uri);
}

typedef struct
{
  GString       *text;
  PangoAttrList *attrs;
  GArray        *links;  /* PdfLink */
} Inlines;

typedef struct
{
  cairo_t      *cr;
  PangoContext *context;
  int           page;
  double        y;        /* top of the next line */
  double        pending;  /* space owed after the last block */
  double        paid;     /* space already added since the last block */
  double        indent;   /* from the left margin */
  GArray       *bars;     /* double: x of each open block quote's bar */
  char         *marker;   /* a list item's marker, drawn with its first line */
  int           list_depth;
} Pdf;

static void
set_rgb (cairo_t   *cr,
         const Rgb *c)
{
  cairo_set_source_rgb (cr, c->r, c->g, c->b);
}

static guint16
channel (double v)
{
  return (guint16) (v * 65535.0 + 0.5);
}

static void
add_attr (PangoAttrList  *attrs,
          PangoAttribute *attr,
          guint           start,
          guint           end)
{
  attr->start_index = start;
  attr->end_index = end;
  pango_attr_list_insert (attrs, attr);
}

static void
add_color (PangoAttrList *attrs,
           const Rgb     *c,
           guint          start,
           guint          end)
{
  add_attr (attrs, pango_attr_foreground_new (channel (c->r), channel (c->g), channel (c->b)),
            start, end);
}

/* cmark's safe-mode rule for links, which its HTML renderer applies but
 * the tree does not: no javascript:, vbscript:, file: or data: URLs but
 * for data:image/{png,gif,jpeg,webp}. */
static gboolean
is_safe_url (const char *url)
{
  static const char * const images[] = { "png", "gif", "jpeg", "webp" };

  if (g_ascii_strncasecmp (url, "javascript:", 11) == 0 ||
      g_ascii_strncasecmp (url, "vbscript:", 9) == 0 ||
      g_ascii_strncasecmp (url, "file:", 5) == 0)
    return FALSE;
  if (g_ascii_strncasecmp (url, "data:", 5) != 0)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    if (g_ascii_strncasecmp (url + 5, "image/", 6) == 0 &&
        g_ascii_strncasecmp (url + 11, images[i], strlen (images[i])) == 0)
      return TRUE;
  return FALSE;
}

static void
collect_inlines (Inlines    *in,
                 cmark_node *parent)
{
  for (cmark_node *node = cmark_node_first_child (parent); node != NULL; node = cmark_node_next (node))
    {
      guint start = in->text->len;
      guint end;

      switch (cmark_node_get_type (node))
        {
        case CMARK_NODE_TEXT:
        case CMARK_NODE_HTML_INLINE:
          g_string_append (in->text, cmark_node_get_literal (node));
          break;
        case CMARK_NODE_SOFTBREAK:
          g_string_append_c (in->text, ' ');
          break;
        case CMARK_NODE_LINEBREAK:
          g_string_append (in->text, "\xe2\x80\xa8"); /* U+2028 LINE SEPARATOR */
          break;
        case CMARK_NODE_CODE:
          g_string_append (in->text, cmark_node_get_literal (node));
          end = in->text->len;
          add_attr (in->attrs, pango_attr_family_new (MONO_FAMILY), start, end);
          add_attr (in->attrs, pango_attr_scale_new (0.9), start, end);
          add_attr (in->attrs, pango_attr_background_new (channel (0.92), channel (0.92), channel (0.91)),
                    start, end);
          break;
        case CMARK_NODE_EMPH:
          collect_inlines (in, node);
          add_attr (in->attrs, pango_attr_style_new (PANGO_STYLE_ITALIC), start, in->text->len);
          break;
        case CMARK_NODE_STRONG:
          collect_inlines (in, node);
          add_attr (in->attrs, pango_attr_weight_new (PANGO_WEIGHT_BOLD), start, in->text->len);
          break;
        case CMARK_NODE_LINK:
        case CMARK_NODE_CUSTOM_INLINE:
          collect_inlines (in, node);
          end = in->text->len;
          add_color (in->attrs, &link_rgb, start, end);
          if (cmark_node_get_type (node) == CMARK_NODE_LINK)
            {
              const char *url = cmark_node_get_url (node);

              add_attr (in->attrs, pango_attr_underline_new (PANGO_UNDERLINE_SINGLE), start, end);
              if (url != NULL && *url != '\0' && is_safe_url (url) && end > start)
                {
                  PdfLink link = { g_strdup (url), start, end };

                  g_array_append_val (in->links, link);
                }
            }
          break;
        case CMARK_NODE_IMAGE:
          collect_inlines (in, node);
          if (in->text->len == start)
            g_string_append (in->text, "[image]");
          end = in->text->len;
          add_attr (in->attrs, pango_attr_style_new (PANGO_STYLE_ITALIC), start, end);
          add_color (in->attrs, &muted_rgb, start, end);
          break;
        case CMARK_NODE_NONE:
        case CMARK_NODE_DOCUMENT:
        case CMARK_NODE_BLOCK_QUOTE:
        case CMARK_NODE_LIST:
        case CMARK_NODE_ITEM:
        case CMARK_NODE_CODE_BLOCK:
        case CMARK_NODE_HTML_BLOCK:
        case CMARK_NODE_CUSTOM_BLOCK:
        case CMARK_NODE_PARAGRAPH:
        case CMARK_NODE_HEADING:
        case CMARK_NODE_THEMATIC_BREAK:
        default:
          collect_inlines (in, node);
          break;
        }
    }
}

static PangoLayout *
new_layout (Pdf         *pdf,
            const char  *family,
            double       size,
            PangoWeight  weight,
            double       width)
{
  PangoLayout *layout = pango_layout_new (pdf->context);
  PangoFontDescription *desc = pango_font_description_new ();

  pango_font_description_set_family (desc, family);
  pango_font_description_set_absolute_size (desc, size * PANGO_SCALE);
  pango_font_description_set_weight (desc, weight);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  if (width > 0)
    pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  return layout;
}

static void
draw_footer (Pdf *pdf)
{
  g_autoptr(PangoLayout) layout = new_layout (pdf, SANS_FAMILY, 9.0, PANGO_WEIGHT_NORMAL, CONTENT_WIDTH);
  g_autofree char *number = g_strdup_printf ("%d", pdf->page);
  int baseline;

  pango_layout_set_text (layout, number, -1);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  baseline = pango_layout_get_baseline (layout);
  set_rgb (pdf->cr, &muted_rgb);
  cairo_move_to (pdf->cr, MARGIN, PAGE_HEIGHT - MARGIN / 2 - baseline / (double) PANGO_SCALE);
  pango_cairo_show_layout (pdf->cr, layout);
}

static void
new_page (Pdf *pdf)
{
  draw_footer (pdf);
  cairo_show_page (pdf->cr);
  pdf->page++;
  pdf->y = CONTENT_TOP;
  pdf->pending = 0;
  pdf->paid = 0;
}

static gboolean
at_page_top (Pdf *pdf)
{
  return pdf->y <= CONTENT_TOP + 0.01;
}

/* Makes room for @height more points on this page, or starts a new one. */
static void
ensure_room (Pdf    *pdf,
             double  height)
{
  if (pdf->y + height > CONTENT_BOTTOM && !at_page_top (pdf))
    new_page (pdf);
}

static void
draw_bars (Pdf    *pdf,
           double  top,
           double  bottom)
{
  for (guint i = 0; i < pdf->bars->len; i++)
    {
      double x = g_array_index (pdf->bars, double, i);

      set_rgb (pdf->cr, &rule_rgb);
      cairo_rectangle (pdf->cr, MARGIN + x, top, 2.5, bottom - top);
      cairo_fill (pdf->cr);
    }
}

/* Pays the space owed between the last block and the next one, at least
 * @before. Gaps collapse as CSS margins do: a quote and its first
 * paragraph start after one gap, the larger. No space at the top of a
 * page. */
static void
begin_block (Pdf    *pdf,
             double  before)
{
  double gap = MAX (pdf->pending, before) - pdf->paid;

  pdf->pending = 0;
  if (at_page_top (pdf) || gap <= 0)
    return;
  pdf->paid += gap;
  if (pdf->y + gap > CONTENT_BOTTOM)
    {
      new_page (pdf);
      return;
    }
  draw_bars (pdf, pdf->y, pdf->y + gap);
  pdf->y += gap;
}

static void
end_block (Pdf    *pdf,
           double  after)
{
  pdf->pending = MAX (pdf->pending, after);
}

static char *
cairo_attr_string (const char *s)
{
  GString *out = g_string_new ("'");

  for (; *s; s++)
    {
      if (*s == '\'' || *s == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *s);
    }
  g_string_append_c (out, '\'');
  return g_string_free (out, FALSE);
}

static void
tag_links (Pdf             *pdf,
           PangoLayoutLine *line,
           GArray          *links,
           double           x,
           double           top,
           double           height)
{
  guint line_start = line->start_index;
  guint line_end = line->start_index + line->length;

  for (guint i = 0; links != NULL && i < links->len; i++)
    {
      const PdfLink *link = &g_array_index (links, PdfLink, i);
      guint start = MAX (link->start, line_start);
      guint end = MIN (link->end, line_end);
      int *ranges = NULL;
      int n_ranges = 0;

      if (link->uri == NULL || start >= end)
        continue;
      pango_layout_line_get_x_ranges (line, start, end, &ranges, &n_ranges);
      for (int r = 0; r < n_ranges; r++)
        {
          double x0 = x + ranges[2 * r] / (double) PANGO_SCALE;
          double w = (ranges[2 * r + 1] - ranges[2 * r]) / (double) PANGO_SCALE;
          char b[4][G_ASCII_DTOSTR_BUF_SIZE];
          g_autofree char *uri = cairo_attr_string (link->uri);
          g_autofree char *attrs = NULL;

          if (w <= 0)
            continue;
          attrs = g_strdup_printf ("rect=[%s %s %s %s] uri=%s",
                                   g_ascii_formatd (b[0], sizeof b[0], "%.2f", x0),
                                   g_ascii_formatd (b[1], sizeof b[1], "%.2f", top),
                                   g_ascii_formatd (b[2], sizeof b[2], "%.2f", w),
                                   g_ascii_formatd (b[3], sizeof b[3], "%.2f", height),
                                   uri);
          cairo_tag_begin (pdf->cr, CAIRO_TAG_LINK, attrs);
          cairo_tag_end (pdf->cr, CAIRO_TAG_LINK);
        }
      g_free (ranges);
    }
}

static void
draw_marker (Pdf    *pdf,
             double  x,
             double  baseline)
{
  g_autoptr(PangoLayout) layout = new_layout (pdf, SANS_FAMILY, BODY_SIZE, PANGO_WEIGHT_NORMAL, -1);
  PangoRectangle logical;

  pango_layout_set_text (layout, pdf->marker, -1);
  pango_layout_get_extents (layout, NULL, &logical);
  set_rgb (pdf->cr, &text_rgb);
  cairo_move_to (pdf->cr, x - 5 - logical.width / (double) PANGO_SCALE,
                 baseline - pango_layout_get_baseline (layout) / (double) PANGO_SCALE);
  pango_cairo_show_layout (pdf->cr, layout);
  g_clear_pointer (&pdf->marker, g_free);
}

/* Draws @layout line by line at the current indentation, breaking pages
 * between lines. @leading scales each line's height; @panel draws the
 * code block background. */
static void
emit_layout (Pdf         *pdf,
             PangoLayout *layout,
             GArray      *links,
             double       leading,
             const Rgb   *color,
             gboolean     panel)
{
  PangoLayoutIter *iter = pango_layout_get_iter (layout);
  double x = MARGIN + pdf->indent + (panel ? CODE_PAD : 0);
  gboolean first = TRUE;

  do
    {
      PangoLayoutLine *line = pango_layout_iter_get_line_readonly (iter);
      gboolean last = pango_layout_iter_at_last_line (iter);
      PangoRectangle logical;
      double h, top_pad, bottom_pad, baseline;

      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      h = logical.height / (double) PANGO_SCALE * leading;
      top_pad = panel && first ? CODE_PAD : 0;
      bottom_pad = panel && last ? CODE_PAD : 0;
      ensure_room (pdf, top_pad + h + bottom_pad);
      if (panel)
        {
          /* After a page break, the panel starts again with its padding. */
          if (at_page_top (pdf))
            top_pad = CODE_PAD;
          set_rgb (pdf->cr, &panel_rgb);
          cairo_rectangle (pdf->cr, MARGIN + pdf->indent, pdf->y,
                           CONTENT_WIDTH - pdf->indent, top_pad + h + bottom_pad);
          cairo_fill (pdf->cr);
        }
      draw_bars (pdf, pdf->y, pdf->y + top_pad + h + bottom_pad);
      pdf->y += top_pad;
      baseline = pdf->y + (h - logical.height / (double) PANGO_SCALE) / 2 +
                 (pango_layout_iter_get_baseline (iter) - logical.y) / (double) PANGO_SCALE;
      if (pdf->marker)
        draw_marker (pdf, MARGIN + pdf->indent, baseline);
      set_rgb (pdf->cr, color);
      cairo_move_to (pdf->cr, x + logical.x / (double) PANGO_SCALE, baseline);
      pango_cairo_show_layout_line (pdf->cr, line);
      tag_links (pdf, line, links, x, pdf->y, h);
      pdf->y += h + bottom_pad;
      pdf->paid = 0;
      first = FALSE;
    }
  while (pango_layout_iter_next_line (iter));

  pango_layout_iter_free (iter);
}

/* Lays out the inlines of @node (a paragraph or heading) and draws them. */
static void
emit_inlines (Pdf         *pdf,
              cmark_node  *node,
              const char  *family,
              double       size,
              PangoWeight  weight,
              double       leading,
              const Rgb   *color)
{
  Inlines in = { g_string_new (NULL), pango_attr_list_new (), g_array_new (FALSE, FALSE, sizeof (PdfLink)) };
  g_autoptr(PangoLayout) layout = new_layout (pdf, family, size, weight, CONTENT_WIDTH - pdf->indent);

  g_array_set_clear_func (in.links, pdf_link_clear);
  collect_inlines (&in, node);
  pango_layout_set_text (layout, in.text->str, (int) in.text->len);
  pango_layout_set_attributes (layout, in.attrs);
  emit_layout (pdf, layout, in.links, leading, color, FALSE);

  g_string_free (in.text, TRUE);
  pango_attr_list_unref (in.attrs);
  g_array_unref (in.links);
}

static gboolean
in_tight_list (cmark_node *node)
{
  cmark_node *item = cmark_node_parent (node);
  cmark_node *list = item ? cmark_node_parent (item) : NULL;

  return item != NULL && list != NULL &&
         cmark_node_get_type (item) == CMARK_NODE_ITEM &&
         cmark_node_get_type (list) == CMARK_NODE_LIST &&
         cmark_node_get_list_tight (list);
}

static void render_blocks (Pdf        *pdf,
                           cmark_node *parent);

static void
render_heading (Pdf        *pdf,
                cmark_node *node)
{
  static const double sizes[] = { 20.0, 16.0, 13.5, 12.0, 10.5, 10.5 };
  int level = CLAMP (cmark_node_get_heading_level (node), 1, 6);
  double size = sizes[level - 1];

  begin_block (pdf, level <= 2 ? 16 : 12);
  /* Keep the heading with a few lines of what follows it. */
  ensure_room (pdf, size * 1.3 + 3 * BODY_SIZE * 1.35);
  emit_inlines (pdf, node, SANS_FAMILY, size, PANGO_WEIGHT_BOLD, 1.2,
                level == 6 ? &muted_rgb : &text_rgb);
  if (level == 1)
    {
      /* A hairline under the page's main headings. */
      set_rgb (pdf->cr, &rule_rgb);
      cairo_rectangle (pdf->cr, MARGIN + pdf->indent, pdf->y + 1, CONTENT_WIDTH - pdf->indent, 0.75);
      cairo_fill (pdf->cr);
      pdf->y += 3;
    }
  end_block (pdf, 6);
}

static void
render_code_block (Pdf        *pdf,
                   cmark_node *node)
{
  g_autoptr(PangoLayout) layout = NULL;
  const char *literal = cmark_node_get_literal (node);
  gsize len = literal ? strlen (literal) : 0;

  while (len > 0 && literal[len - 1] == '\n')
    len--;
  begin_block (pdf, 8);
  layout = new_layout (pdf, MONO_FAMILY, CODE_SIZE, PANGO_WEIGHT_NORMAL,
                       CONTENT_WIDTH - pdf->indent - 2 * CODE_PAD);
  pango_layout_set_text (layout, literal ? literal : "", (int) len);
  emit_layout (pdf, layout, NULL, 1.2, &text_rgb, TRUE);
  end_block (pdf, 8);
}

static void
render_thematic_break (Pdf *pdf)
{
  begin_block (pdf, 10);
  ensure_room (pdf, 1);
  set_rgb (pdf->cr, &rule_rgb);
  cairo_rectangle (pdf->cr, MARGIN + pdf->indent, pdf->y, CONTENT_WIDTH - pdf->indent, 1);
  cairo_fill (pdf->cr);
  pdf->y += 1;
  pdf->paid = 0;
  end_block (pdf, 10);
}

static void
render_list (Pdf        *pdf,
             cmark_node *list)
{
  static const char * const bullets[] = { "\xe2\x80\xa2", "\xe2\x97\xa6", "\xe2\x96\xaa" };
  gboolean ordered = cmark_node_get_list_type (list) == CMARK_ORDERED_LIST;
  gboolean paren = cmark_node_get_list_delim (list) == CMARK_PAREN_DELIM;
  int number = cmark_node_get_list_start (list);
  gboolean tight = cmark_node_get_list_tight (list);

  begin_block (pdf, pdf->list_depth > 0 && tight ? 2 : 8);
  pdf->list_depth++;
  pdf->indent += LIST_INDENT;
  for (cmark_node *item = cmark_node_first_child (list); item != NULL; item = cmark_node_next (item))
    {
      g_free (pdf->marker);
      if (ordered)
        pdf->marker = g_strdup_printf ("%d%c", number++, paren ? ')' : '.');
      else
        pdf->marker = g_strdup (bullets[MIN (pdf->list_depth - 1, (int) G_N_ELEMENTS (bullets) - 1)]);
      if (item != cmark_node_first_child (list))
        begin_block (pdf, tight ? 2 : 6);
      render_blocks (pdf, item);
      if (pdf->marker != NULL)
        {
          /* An empty item: just its marker. */
          g_autoptr(PangoLayout) layout = new_layout (pdf, SANS_FAMILY, BODY_SIZE, PANGO_WEIGHT_NORMAL,
                                                      CONTENT_WIDTH - pdf->indent);

          begin_block (pdf, 0);
          emit_layout (pdf, layout, NULL, 1.35, &text_rgb, FALSE);
        }
    }
  pdf->indent -= LIST_INDENT;
  pdf->list_depth--;
  end_block (pdf, 8);
}

static void
render_blocks (Pdf        *pdf,
               cmark_node *parent)
{
  for (cmark_node *node = cmark_node_first_child (parent); node != NULL; node = cmark_node_next (node))
    {
      switch (cmark_node_get_type (node))
        {
        case CMARK_NODE_PARAGRAPH:
          {
            gboolean tight = in_tight_list (node);

            begin_block (pdf, tight ? 0 : 8);
            emit_inlines (pdf, node, SANS_FAMILY, BODY_SIZE, PANGO_WEIGHT_NORMAL, 1.35, &text_rgb);
            end_block (pdf, tight ? 2 : 8);
          }
          break;
        case CMARK_NODE_HEADING:
          render_heading (pdf, node);
          break;
        case CMARK_NODE_CODE_BLOCK:
        case CMARK_NODE_HTML_BLOCK:
          render_code_block (pdf, node);
          break;
        case CMARK_NODE_THEMATIC_BREAK:
          render_thematic_break (pdf);
          break;
        case CMARK_NODE_BLOCK_QUOTE:
          {
            double x = pdf->indent;

            begin_block (pdf, 8);
            g_array_append_val (pdf->bars, x);
            pdf->indent += QUOTE_INDENT;
            render_blocks (pdf, node);
            pdf->indent -= QUOTE_INDENT;
            g_array_set_size (pdf->bars, pdf->bars->len - 1);
            end_block (pdf, 8);
          }
          break;
        case CMARK_NODE_LIST:
          render_list (pdf, node);
          break;
        case CMARK_NODE_NONE:
        case CMARK_NODE_DOCUMENT:
        case CMARK_NODE_ITEM:
        case CMARK_NODE_CUSTOM_BLOCK:
        case CMARK_NODE_TEXT:
        case CMARK_NODE_SOFTBREAK:
        case CMARK_NODE_LINEBREAK:
        case CMARK_NODE_CODE:
        case CMARK_NODE_HTML_INLINE:
        case CMARK_NODE_CUSTOM_INLINE:
        case CMARK_NODE_EMPH:
        case CMARK_NODE_STRONG:
        case CMARK_NODE_LINK:
        case CMARK_NODE_IMAGE:
        default:
          render_blocks (pdf, node);
          break;
        }
    }
}

typedef struct
{
  GOutputStream *stream;
  GError        *error;
} PdfWriter;

static cairo_status_t
write_to_stream (void                *closure,
                 const unsigned char *data,
                 unsigned int         length)
{
  PdfWriter *w = closure;

  if (w->error != NULL)
    return CAIRO_STATUS_WRITE_ERROR;
  if (!g_output_stream_write_all (w->stream, data, length, NULL, NULL, &w->error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

/**
 * flow_page_export_pdf:
 * @markdown: a page's text (UTF-8)
 * @title: (nullable): the page's title, for the PDF's metadata; %NULL takes
 *   its first heading
 * @stream: where the PDF goes (not closed)
 * @error: return location for a #GError
 *
 * Typesets the page on A4 pages. See the top of this file.
 *
 * Returns: %TRUE if the whole PDF was written to @stream
 */
gboolean
flow_page_export_pdf (const char     *markdown,
                      const char     *title,
                      GOutputStream  *stream,
                      GError        **error)
{
  g_autoptr(cmark_node) root = NULL;
  g_autofree char *derived = NULL;
  PdfWriter writer = { stream, NULL };
  cairo_surface_t *surface;
  cairo_font_options_t *options;
  cairo_status_t status;
  Pdf pdf = { 0, };

  g_return_val_if_fail (markdown != NULL, FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_utf8 (markdown, error))
    return FALSE;
  if (title == NULL || *title == '\0')
    title = derived = flow_page_title_from_markdown (markdown, NULL);
  root = parse_markdown (markdown);

  surface = cairo_pdf_surface_create_for_stream (write_to_stream, &writer, PAGE_WIDTH, PAGE_HEIGHT);
  if (title != NULL)
    cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "FlowSync");

  pdf.cr = cairo_create (surface);
  pdf.context = pango_cairo_create_context (pdf.cr);
  pango_cairo_context_set_resolution (pdf.context, 72.0);
  options = cairo_font_options_create ();
  cairo_font_options_set_hint_metrics (options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (pdf.context, options);
  cairo_font_options_destroy (options);
  pdf.page = 1;
  pdf.y = CONTENT_TOP;
  pdf.bars = g_array_new (FALSE, FALSE, sizeof (double));

  render_blocks (&pdf, root);
  draw_footer (&pdf);
  cairo_show_page (pdf.cr);

  g_free (pdf.marker);
  g_array_unref (pdf.bars);
  g_object_unref (pdf.context);
  status = cairo_status (pdf.cr);
  cairo_destroy (pdf.cr);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);

  if (writer.error != NULL)
    {
      g_propagate_error (error, writer.error);
      return FALSE;
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_FAILED,
                   "Could not write the PDF: %s", cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Import
 * ------------------------------------------------------------------------ */

/**
 * flow_page_import_markdown:
 * @bytes: the contents of a Markdown file
 * @error: return location for a #GError
 *
 * Checks and normalises a Markdown file for a page: it must be UTF-8
 * without NUL bytes and at most %FLOW_PAGE_IMPORT_MAX_BYTES long; a
 * leading byte order mark is dropped, and CRLF and CR become LF.
 *
 * Returns: (transfer full): the page's text, or %NULL with
 *   %FLOW_PAGE_ERROR_INVALID_TEXT or %FLOW_PAGE_ERROR_TOO_LARGE
 */
char *
flow_page_import_markdown (GBytes  *bytes,
                           GError **error)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  gsize skip = 0;
  const char *nul;
  const char *end;
  char *text;
  char *out;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (size > FLOW_PAGE_IMPORT_MAX_BYTES)
    {
      g_autofree char *have = g_format_size_full (size, G_FORMAT_SIZE_IEC_UNITS);

      g_set_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_TOO_LARGE,
                   "The file is too large for a page (%s; at most %d MiB)", have,
                   FLOW_PAGE_IMPORT_MAX_BYTES >> 20);
      return NULL;
    }
  if (size == 0)
    return g_strdup ("");
  if (size >= 3 && memcmp (data, "\xef\xbb\xbf", 3) == 0)
    skip = 3;
  if ((nul = memchr (data + skip, '\0', size - skip)) != NULL)
    {
      g_set_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_INVALID_TEXT,
                   "The file is not text: it has a NUL byte at byte %" G_GSIZE_FORMAT,
                   (gsize) (nul - data));
      return NULL;
    }
  if (!g_utf8_validate_len (data + skip, size - skip, &end))
    {
      g_set_error (error, FLOW_PAGE_ERROR, FLOW_PAGE_ERROR_INVALID_TEXT,
                   "The file is not UTF-8 text: the bytes at byte %" G_GSIZE_FORMAT " are not "
                   "UTF-8. Convert it first, e.g. with iconv",
                   (gsize) (end - data));
      return NULL;
    }

  text = out = g_malloc (size - skip + 1);
  for (gsize i = skip; i < size; i++)
    {
      if (data[i] == '\r')
        {
          *out++ = '\n';
          if (i + 1 < size && data[i + 1] == '\n')
            i++;
        }
      else
        *out++ = data[i];
    }
  *out = '\0';
  return text;
}
