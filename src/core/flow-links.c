/* flow-links.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Links, tags and issue keys in a page's Markdown.
 *
 * The text is decoded to code points once, so offsets are code point
 * offsets throughout. Two passes mark what is not prose: code (fenced and
 * indented blocks, then inline code spans, CommonMark-style but simpler:
 * no container blocks except a rough notion of lists) and URLs (from the
 * scheme, or "www.", to the next space). A third pass finds the tokens in
 * what is left:
 *
 *  - `[[Title]]` / `[[Title|label]]` on one line; with brackets nested,
 *    the innermost pair wins;
 *  - `#tag`: '#' then letters, digits, '_', '-' and '/', with at least one
 *    letter (so "#123" is not a tag); not after a word character, '&'
 *    (entities), '#', a backslash, or "](" (a link to an anchor), and not
 *    in a URL; "# Heading" has a space after the '#', so it is no tag;
 *  - issue keys `[A-Z][A-Z0-9]{1,9}-[0-9]+` between word boundaries.
 */

#include "config.h"

#include <string.h>

#include "flow-links.h"

enum {
  MASK_CODE = 1 << 0,
  MASK_URL  = 1 << 1,
};

typedef struct
{
  gunichar *s;
  glong     n;
  guint8   *mask;
  glong     wiki_fail;
  glong     wiki_inner;
} Scan;

/**
 * flow_page_link_clear:
 * @link: a link
 *
 * Frees what @link holds (the array of flow_links_extract() does this).
 */
void
flow_page_link_clear (FlowPageLink *link)
{
  g_clear_pointer (&link->target, g_free);
}

static inline gunichar
at (const Scan *sc,
    glong       i)
{
  return i >= 0 && i < sc->n ? sc->s[i] : 0;
}

static inline gboolean
is_word (gunichar c)
{
  return c == '_' || g_unichar_isalnum (c) || g_unichar_ismark (c);
}

static inline gboolean
is_space (gunichar c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || g_unichar_isspace (c);
}

static void
mark (Scan   *sc,
      glong   from,
      glong   to,
      guint8  bits)
{
  for (glong i = MAX (from, 0); i < MIN (to, sc->n); i++)
    sc->mask[i] |= bits;
}

/* The end of the line that starts at @i (the '\n' or the end). */
static glong
line_end (const Scan *sc,
          glong       i)
{
  while (i < sc->n && sc->s[i] != '\n')
    i++;
  return i;
}

/* Indentation in columns (tabs to multiples of 4) and its end. */
static guint
indent_of (const Scan *sc,
           glong       start,
           glong       end,
           glong      *first)
{
  guint cols = 0;
  glong i = start;

  for (; i < end && (sc->s[i] == ' ' || sc->s[i] == '\t'); i++)
    cols = sc->s[i] == '\t' ? (cols / 4 + 1) * 4 : cols + 1;
  *first = i;
  return cols;
}

static gboolean
rest_blank (const Scan *sc,
            glong       from,
            glong       end)
{
  for (glong i = from; i < end; i++)
    if (!is_space (sc->s[i]))
      return FALSE;
  return TRUE;
}

static glong
run_length (const Scan *sc,
            glong       i,
            gunichar    c)
{
  glong j = i;

  while (j < sc->n && sc->s[j] == c)
    j++;
  return j - i;
}

static gboolean
is_list_item (const Scan *sc,
              glong       p,
              glong       end)
{
  gunichar c = at (sc, p);
  glong j = p;

  if ((c == '-' || c == '*' || c == '+') && (p + 1 == end || at (sc, p + 1) == ' ' || at (sc, p + 1) == '\t'))
    return TRUE;
  while (j < end && j - p < 9 && at (sc, j) >= '0' && at (sc, j) <= '9')
    j++;
  return j > p && (at (sc, j) == '.' || at (sc, j) == ')') &&
         (j + 1 == end || at (sc, j + 1) == ' ' || at (sc, j + 1) == '\t');
}

static gboolean
is_heading (const Scan *sc,
            glong       p,
            glong       end)
{
  glong hashes = run_length (sc, p, '#');

  return hashes >= 1 && hashes <= 6 && (p + hashes == end || at (sc, p + hashes) == ' ' ||
                                        at (sc, p + hashes) == '\t');
}

/* Fenced and indented code blocks. */
static void
mark_code_blocks (Scan *sc)
{
  gboolean in_fence = FALSE;
  gunichar fence_char = 0;
  glong fence_len = 0;
  gboolean prev_para = FALSE;
  gboolean in_list = FALSE;
  gboolean prev_blank = TRUE;

  for (glong ls = 0; ls < sc->n; )
    {
      glong le = line_end (sc, ls);
      glong next = le < sc->n ? le + 1 : le;
      glong p;
      guint indent = indent_of (sc, ls, le, &p);
      gboolean blank = rest_blank (sc, p, le);

      if (in_fence)
        {
          mark (sc, ls, next, MASK_CODE);
          if (indent <= 3 && at (sc, p) == fence_char && run_length (sc, p, fence_char) >= fence_len &&
              rest_blank (sc, p + run_length (sc, p, fence_char), le))
            in_fence = FALSE;
          prev_blank = FALSE;
          ls = next;
          continue;
        }

      if (indent <= 3 && (at (sc, p) == '`' || at (sc, p) == '~') && run_length (sc, p, at (sc, p)) >= 3)
        {
          gunichar c = at (sc, p);
          glong len = run_length (sc, p, c);
          gboolean ok = TRUE;

          /* A backtick fence's info string has no backticks. */
          if (c == '`')
            for (glong i = p + len; i < le; i++)
              if (sc->s[i] == '`')
                ok = FALSE;
          if (ok)
            {
              in_fence = TRUE;
              fence_char = c;
              fence_len = len;
              mark (sc, ls, next, MASK_CODE);
              prev_para = FALSE;
              prev_blank = FALSE;
              ls = next;
              continue;
            }
        }

      if (!blank && indent >= 4 && !prev_para && !in_list)
        {
          mark (sc, ls, next, MASK_CODE);
          prev_blank = FALSE;
          ls = next;
          continue;
        }

      if (blank)
        prev_para = FALSE;
      else if (indent <= 3 && is_list_item (sc, p, le))
        {
          in_list = TRUE;
          prev_para = TRUE;
        }
      else
        {
          /* Unindented prose after a blank line ends a list. */
          if (indent < 2 && prev_blank)
            in_list = FALSE;
          prev_para = !(indent <= 3 && is_heading (sc, p, le));
        }
      prev_blank = blank;
      ls = next;
    }
}

/* Whether the line starting after the '\n' at @i is blank. */
static gboolean
blank_line_follows (const Scan *sc,
                    glong       i)
{
  glong le = line_end (sc, i + 1);

  return rest_blank (sc, i + 1, le);
}

static gboolean
escaped (const Scan *sc,
         glong       i)
{
  glong backslashes = 0;

  while (i - 1 - backslashes >= 0 && sc->s[i - 1 - backslashes] == '\\' &&
         !(sc->mask[i - 1 - backslashes] & MASK_CODE))
    backslashes++;
  return backslashes % 2 == 1;
}

/* Inline code spans: a run of n backticks up to the next run of exactly n,
 * within one paragraph. An unmatched run is literal. */
static void
mark_code_spans (Scan *sc)
{
  glong i = 0;

  while (i < sc->n)
    {
      glong len;
      glong j;
      gboolean found = FALSE;

      if ((sc->mask[i] & MASK_CODE) || sc->s[i] != '`')
        {
          i++;
          continue;
        }
      if (escaped (sc, i))
        {
          i++;
          continue;
        }
      len = run_length (sc, i, '`');
      for (j = i + len; j < sc->n && !(sc->mask[j] & MASK_CODE); )
        {
          if (sc->s[j] == '\n' && blank_line_follows (sc, j))
            break;
          if (sc->s[j] == '`')
            {
              glong m = run_length (sc, j, '`');

              if (m == len)
                {
                  found = TRUE;
                  break;
                }
              j += m;
              continue;
            }
          j++;
        }
      if (found)
        {
          mark (sc, i, j + len, MASK_CODE);
          i = j + len;
        }
      else
        i += len;
    }
}

static gboolean
is_scheme_char (gunichar c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '-' || c == '.';
}

static gboolean
ends_url (gunichar c)
{
  return is_space (c) || c == '<' || c == '>' || c == '"';
}

static gboolean
starts_www (const Scan *sc,
            glong       i)
{
  static const char www[] = "www.";

  for (guint k = 0; k < 4; k++)
    if (g_unichar_tolower (at (sc, i + k)) != (gunichar) www[k])
      return FALSE;
  return !is_word (at (sc, i - 1));
}

/* URLs: from the scheme of "scheme://" (or from "www.") to the next space. */
static void
mark_urls (Scan *sc)
{
  for (glong i = 0; i < sc->n; i++)
    {
      glong start = -1;

      if (sc->s[i] == ':' && at (sc, i + 1) == '/' && at (sc, i + 2) == '/')
        {
          start = i;
          while (start > 0 && is_scheme_char (sc->s[start - 1]))
            start--;
          if (start == i)
            start = -1;
        }
      else if ((sc->s[i] == 'w' || sc->s[i] == 'W') && starts_www (sc, i))
        start = i;

      if (start >= 0)
        {
          glong end = i;

          while (end < sc->n && !ends_url (sc->s[end]))
            end++;
          mark (sc, start, end, MASK_URL);
          i = end;
        }
    }
}

static char *
ucs4_to_utf8 (const Scan *sc,
              glong       from,
              glong       to)
{
  while (from < to && is_space (sc->s[from]))
    from++;
  while (to > from && is_space (sc->s[to - 1]))
    to--;
  if (to <= from)
    return NULL;
  return g_ucs4_to_utf8 (sc->s + from, to - from, NULL, NULL, NULL);
}

static void
add (GArray       *links,
     FlowPageLinkKind  kind,
     glong         start,
     glong         end,
     char         *target)
{
  FlowPageLink link = { kind, (guint) start, (guint) end, target };

  g_array_append_val (links, link);
}

static inline gboolean
prose (const Scan *sc,
       glong       i)
{
  return i < sc->n && sc->mask[i] == 0;
}

/* `[[`…`]]` at @i: returns where to continue. */
static glong
scan_wiki (Scan   *sc,
           glong   i,
           GArray *links)
{
  glong open = i;
  glong close = -1;
  glong j_stop;
  glong bar;
  char *target;

  /* "[[[x]]]": the last two of a run of brackets open the link. */
  while (at (sc, open + 2) == '[' && prose (sc, open + 2))
    open++;
  i = open;
  /* Known answers of earlier scans keep this linear: no "]]" up to
   * wiki_fail, and a nested link further on (what precedes it is prose). */
  if (i < sc->wiki_fail || i < sc->wiki_inner)
    return i + 2;

  for (j_stop = i + 2; j_stop + 1 < sc->n; j_stop++)
    {
      glong j = j_stop;

      if (!prose (sc, j) || sc->s[j] == '\n')
        break;
      if (sc->s[j] == '[' && sc->s[j + 1] == '[')
        open = j;
      else if (sc->s[j] == ']' && sc->s[j + 1] == ']' && prose (sc, j + 1) && j >= open + 2)
        {
          close = j;
          break;
        }
    }
  if (close < 0)
    {
      sc->wiki_fail = j_stop;
      return i + 2;
    }
  /* Nested: the innermost pair is the link; what precedes it is prose. */
  if (open > i)
    {
      sc->wiki_inner = open;
      return i + 2;
    }

  for (bar = open + 2; bar < close && sc->s[bar] != '|'; bar++)
    ;
  target = ucs4_to_utf8 (sc, open + 2, bar);
  if (target != NULL)
    add (links, FLOW_PAGE_LINK_WIKI, open, close + 2, target);
  return close + 2;
}

static inline gboolean
is_tag_char (gunichar c)
{
  return c == '_' || c == '-' || c == '/' || g_unichar_isalnum (c) || g_unichar_ismark (c);
}

static glong
scan_tag (const Scan *sc,
          glong       i,
          GArray     *links)
{
  gunichar before = at (sc, i - 1);
  gboolean letter = FALSE;
  glong j;

  if (is_word (before) || before == '&' || before == '#' || before == '\\' ||
      (before == '(' && at (sc, i - 2) == ']'))
    return i + 1;

  for (j = i + 1; prose (sc, j) && is_tag_char (sc->s[j]); j++)
    letter |= g_unichar_isalpha (sc->s[j]);
  /* A trailing '-' or '/' is punctuation, not part of the tag. */
  while (j > i + 1 && (sc->s[j - 1] == '-' || sc->s[j - 1] == '/'))
    j--;
  if (j == i + 1 || !letter)
    return MAX (j, i + 1);

  add (links, FLOW_PAGE_LINK_TAG, i, j, g_ucs4_to_utf8 (sc->s + i + 1, j - i - 1, NULL, NULL, NULL));
  return j;
}

static inline gboolean
is_upper_ascii (gunichar c)
{
  return c >= 'A' && c <= 'Z';
}

static inline gboolean
is_digit_ascii (gunichar c)
{
  return c >= '0' && c <= '9';
}

static glong
scan_issue (const Scan *sc,
            glong       i,
            GArray     *links)
{
  glong j = i + 1;
  glong k;

  if (is_word (at (sc, i - 1)))
    return i + 1;
  while (prose (sc, j) && (is_upper_ascii (sc->s[j]) || is_digit_ascii (sc->s[j])))
    j++;
  if (j - i < 2 || j - i > 10 || !prose (sc, j) || sc->s[j] != '-' ||
      !prose (sc, j + 1) || !is_digit_ascii (sc->s[j + 1]))
    return j;
  for (k = j + 1; prose (sc, k) && is_digit_ascii (sc->s[k]); k++)
    ;
  if (k < sc->n && is_word (sc->s[k]))
    return k;

  add (links, FLOW_PAGE_LINK_ISSUE, i, k, g_ucs4_to_utf8 (sc->s + i, k - i, NULL, NULL, NULL));
  return k;
}

/**
 * flow_links_extract:
 * @markdown: a page's text (invalid UTF-8 is read as U+FFFD)
 * @len: its length in bytes, or -1 if nul-terminated
 *
 * Finds the wiki links, tags and issue keys of @markdown, outside code
 * blocks, code spans and URLs.
 *
 * Returns: (transfer full) (element-type FlowPageLink): the links in text
 *   order; the array clears its elements
 */
GArray *
flow_links_extract (const char *markdown,
                    gssize      len)
{
  GArray *links = g_array_new (FALSE, TRUE, sizeof (FlowPageLink));
  g_autofree char *valid = NULL;
  g_autofree gunichar *chars = NULL;
  g_autofree guint8 *mask = NULL;
  Scan sc;

  g_array_set_clear_func (links, (GDestroyNotify) flow_page_link_clear);
  g_return_val_if_fail (markdown != NULL || len == 0, links);

  if (markdown == NULL)
    return links;
  if (len < 0)
    len = (gssize) strlen (markdown);
  if (!g_utf8_validate_len (markdown, (gsize) len, NULL))
    {
      valid = g_utf8_make_valid (markdown, len);
      markdown = valid;
      len = (gssize) strlen (valid);
    }
  chars = g_utf8_to_ucs4_fast (markdown, len, &sc.n);
  mask = g_malloc0 (MAX (sc.n, 1));
  sc.s = chars;
  sc.mask = mask;
  sc.wiki_fail = 0;
  sc.wiki_inner = 0;

  mark_code_blocks (&sc);
  mark_code_spans (&sc);
  mark_urls (&sc);

  for (glong i = 0; i < sc.n; )
    {
      gunichar c = sc.s[i];

      if (sc.mask[i] != 0)
        i++;
      else if (c == '[' && at (&sc, i + 1) == '[' && prose (&sc, i + 1) && !escaped (&sc, i))
        i = scan_wiki (&sc, i, links);
      else if (c == '#')
        i = scan_tag (&sc, i, links);
      else if (is_upper_ascii (c))
        i = scan_issue (&sc, i, links);
      else
        i++;
    }
  return links;
}

/**
 * flow_links_fold_title:
 * @title: a page title or link target
 *
 * The form in which titles compare when links are resolved: trimmed,
 * NFKC-normalised and case-folded, so `[[meeting Notes]]` links to
 * "Meeting notes".
 *
 * Returns: (transfer full): the folded title
 */
char *
flow_links_fold_title (const char *title)
{
  g_autofree char *copy = NULL;
  g_autofree char *normal = NULL;

  g_return_val_if_fail (title != NULL, NULL);

  copy = g_utf8_make_valid (title, -1);
  g_strstrip (copy);
  normal = g_utf8_normalize (copy, -1, G_NORMALIZE_NFKC);
  return g_utf8_casefold (normal ? normal : copy, -1);
}
