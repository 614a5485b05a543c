/* flow-markdown-scan.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * A line scanner for the live styling of pages. It is not a Markdown
 * parser (export uses cmark for that): it recognises what a writer expects
 * to see styled while typing, one line at a time, so that an edit only
 * restyles the lines it touched. The one piece of state that crosses lines
 * is whether a fenced code block is open; the scanner takes it and returns
 * it for the next line, and the view keeps it per line.
 */

#include "config.h"

#include <string.h>

#include "flow-markdown-scan.h"

static gsize
leading_spaces (const char *line,
                gsize       len)
{
  gsize i = 0;

  while (i < len && line[i] == ' ')
    i++;
  return i;
}

static gboolean
is_fence (const char *line,
          gsize       len)
{
  gsize i = leading_spaces (line, len);

  if (i > 3 || len - i < 3)
    return FALSE;
  return (line[i] == '`' && line[i + 1] == '`' && line[i + 2] == '`') ||
         (line[i] == '~' && line[i + 1] == '~' && line[i + 2] == '~');
}

/**
 * flow_markdown_heading_level:
 * @line: a line, without its newline
 * @len: its length in bytes
 *
 * Returns: 1-6 for an ATX heading ("## Title"), else 0
 */
int
flow_markdown_heading_level (const char *line,
                             gsize       len)
{
  gsize i = leading_spaces (line, len);
  int level = 0;

  if (i > 3)
    return 0;
  while (i < len && line[i] == '#' && level < 7)
    {
      i++;
      level++;
    }
  if (level == 0 || level > 6)
    return 0;
  return i == len || line[i] == ' ' || line[i] == '\t' ? level : 0;
}

static gboolean
is_rule (const char *line,
         gsize       len)
{
  char c = 0;
  guint n = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (line[i] == ' ' || line[i] == '\t')
        continue;
      if (line[i] != '-' && line[i] != '*' && line[i] != '_')
        return FALSE;
      if (c != 0 && line[i] != c)
        return FALSE;
      c = line[i];
      n++;
    }
  return n >= 3;
}

/* Emphasis, strong, code spans and links within [start, end). */
static void
scan_inline (const char     *line,
             gsize           start,
             gsize           end,
             FlowMdSpanFunc  func,
             gpointer        data)
{
  gsize i = start;

  while (i < end)
    {
      char c = line[i];

      if (c == '\\' && i + 1 < end)
        {
          i += 2;
          continue;
        }
      if (c == '`')
        {
          gsize run = 0, j;

          while (i + run < end && line[i + run] == '`')
            run++;
          /* The span ends at the next run of the same length. */
          for (j = i + run; j < end; j++)
            if (line[j] == '`')
              {
                gsize r = 0;

                while (j + r < end && line[j + r] == '`')
                  r++;
                if (r == run)
                  break;
                j += r - 1;
              }
          if (j < end)
            {
              func (FLOW_MD_MARKUP, i, i + run, data);
              func (FLOW_MD_CODE, i + run, j, data);
              func (FLOW_MD_MARKUP, j, j + run, data);
              i = j + run;
              continue;
            }
          i += run;
          continue;
        }
      if ((c == '*' || c == '_') && i + 1 < end)
        {
          gboolean strong = line[i + 1] == c;
          gsize open = strong ? 2 : 1;
          const char *close;
          gsize j;

          /* Intraword underscores (snake_case) are not emphasis. */
          if (c == '_' && i > start && g_ascii_isalnum (line[i - 1]))
            {
              i++;
              continue;
            }
          if (i + open < end && line[i + open] != ' ')
            {
              close = strong ? (c == '*' ? "**" : "__") : (c == '*' ? "*" : "_");
              for (j = i + open + 1; j + open <= end; j++)
                if (strncmp (line + j, close, open) == 0 && line[j - 1] != ' ' &&
                    (strong || j + 1 >= end || line[j + 1] != c))
                  break;
              if (j + open <= end)
                {
                  func (FLOW_MD_MARKUP, i, i + open, data);
                  func (strong ? FLOW_MD_STRONG : FLOW_MD_EMPHASIS, i + open, j, data);
                  scan_inline (line, i + open, j, func, data);
                  func (FLOW_MD_MARKUP, j, j + open, data);
                  i = j + open;
                  continue;
                }
            }
          i += open;
          continue;
        }
      if (c == '[' && (i == start || line[i - 1] != '['))
        {
          const char *close = memchr (line + i, ']', end - i);

          if (close != NULL && (gsize) (close - line) + 1 < end && close[1] == '(')
            {
              const char *paren = memchr (close, ')', line + end - close);

              if (paren != NULL)
                {
                  gsize j = paren - line;

                  func (FLOW_MD_MARKUP, i, i + 1, data);
                  func (FLOW_MD_LINK, i + 1, close - line, data);
                  func (FLOW_MD_MARKUP, close - line, j + 1, data);
                  i = j + 1;
                  continue;
                }
            }
        }
      if (c == '<' && (strncmp (line + i + 1, "http://", MIN (7, end - i - 1)) == 0 ||
                       strncmp (line + i + 1, "https://", MIN (8, end - i - 1)) == 0) &&
          end - i > 8)
        {
          const char *gt = memchr (line + i, '>', end - i);

          if (gt != NULL)
            {
              func (FLOW_MD_LINK, i, gt - line + 1, data);
              i = gt - line + 1;
              continue;
            }
        }
      if ((c == 'h') && (i == start || !g_ascii_isalnum (line[i - 1])) &&
          (end - i > 8 && (strncmp (line + i, "http://", 7) == 0 || strncmp (line + i, "https://", 8) == 0)))
        {
          gsize j = i;

          while (j < end && line[j] != ' ' && line[j] != '\t' && line[j] != ')' && line[j] != '>')
            j++;
          /* Trailing punctuation ends a sentence, not the URL. */
          while (j > i && strchr (".,;:!?", line[j - 1]) != NULL)
            j--;
          func (FLOW_MD_LINK, i, j, data);
          i = j;
          continue;
        }
      i++;
    }
}

/**
 * flow_markdown_scan_line:
 * @line: one line of a page, without its newline
 * @len: its length in bytes
 * @in_fence: whether a fenced code block is open before this line
 * @func: called for every styled span
 * @user_data: data for @func
 *
 * Returns: whether a fenced code block is open after this line
 */
gboolean
flow_markdown_scan_line (const char     *line,
                         gsize           len,
                         gboolean        in_fence,
                         FlowMdSpanFunc  func,
                         gpointer        user_data)
{
  gsize i;
  int level;

  if (is_fence (line, len))
    {
      func (FLOW_MD_CODE_BLOCK, 0, len, user_data);
      func (FLOW_MD_MARKUP, 0, len, user_data);
      return !in_fence;
    }
  if (in_fence)
    {
      func (FLOW_MD_CODE_BLOCK, 0, len, user_data);
      return TRUE;
    }

  if ((level = flow_markdown_heading_level (line, len)) > 0)
    {
      gsize marks = leading_spaces (line, len) + level;

      func (FLOW_MD_HEADING1 + level - 1, 0, len, user_data);
      func (FLOW_MD_MARKUP, 0, MIN (len, marks + 1), user_data);
      scan_inline (line, MIN (len, marks + 1), len, func, user_data);
      return FALSE;
    }
  if (is_rule (line, len))
    {
      func (FLOW_MD_RULE, 0, len, user_data);
      return FALSE;
    }

  i = leading_spaces (line, len);
  if (i < len && line[i] == '>')
    {
      gsize body = i + 1 < len && line[i + 1] == ' ' ? i + 2 : i + 1;

      func (FLOW_MD_QUOTE, 0, len, user_data);
      func (FLOW_MD_MARKUP, i, body, user_data);
      scan_inline (line, body, len, func, user_data);
      return FALSE;
    }
  if (i + 1 < len && (line[i] == '-' || line[i] == '*' || line[i] == '+') && line[i + 1] == ' ')
    {
      gsize body = i + 2;

      /* Task list boxes belong to the marker. */
      if (body + 3 <= len && line[body] == '[' && line[body + 2] == ']' &&
          (line[body + 1] == ' ' || line[body + 1] == 'x' || line[body + 1] == 'X'))
        body += 3;
      func (FLOW_MD_LIST_MARKER, i, body, user_data);
      scan_inline (line, body, len, func, user_data);
      return FALSE;
    }
  if (i < len && g_ascii_isdigit (line[i]))
    {
      gsize j = i;

      while (j < len && g_ascii_isdigit (line[j]) && j - i < 9)
        j++;
      if (j + 1 < len && (line[j] == '.' || line[j] == ')') && line[j + 1] == ' ')
        {
          func (FLOW_MD_LIST_MARKER, i, j + 2, user_data);
          scan_inline (line, j + 2, len, func, user_data);
          return FALSE;
        }
    }
  scan_inline (line, 0, len, func, user_data);
  return FALSE;
}

/**
 * flow_markdown_count_words:
 * @text: UTF-8 text
 * @len: its length in bytes, or -1 if nul-terminated
 *
 * Counts runs of letters, digits and joiners (apostrophes, hyphens inside
 * words). Each CJK ideograph counts as a word, as word processors do.
 *
 * Returns: the number of words
 */
guint
flow_markdown_count_words (const char *text,
                           gssize      len)
{
  const char *p = text;
  const char *end = len < 0 ? text + strlen (text) : text + len;
  gboolean in_word = FALSE;
  guint n = 0;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          p++;
          in_word = FALSE;
          continue;
        }
      if (g_unichar_isalnum (c) || g_unichar_ismark (c))
        {
          GUnicodeScript script = g_unichar_get_script (c);

          if (script == G_UNICODE_SCRIPT_HAN || script == G_UNICODE_SCRIPT_HIRAGANA ||
              script == G_UNICODE_SCRIPT_KATAKANA)
            {
              n++;
              in_word = FALSE;
            }
          else if (!in_word)
            {
              n++;
              in_word = TRUE;
            }
        }
      else if (!(in_word && (c == '\'' || c == 0x2019 || c == '-')))
        in_word = FALSE;
      p = g_utf8_next_char (p);
    }
  return n;
}
