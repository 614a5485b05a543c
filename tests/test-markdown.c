/* test-markdown.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The page editor's helpers: the live-styling line scanner, the word
 * count, and the line diff behind page history. */

#include "config.h"

#include <string.h>

#include "flow-line-diff.h"
#include "flow-markdown-scan.h"
#include "flow-test-util.h"

typedef struct
{
  GString *out;
  const char *line;
} Spans;

static const char *kind_names[] = {
  "h1", "h2", "h3", "h4", "h5", "h6", "markup", "strong", "em", "code",
  "codeblock", "quote", "list", "link", "rule",
};

static void
span_cb (FlowMdKind  kind,
         gsize       start,
         gsize       end,
         gpointer    user_data)
{
  Spans *s = user_data;

  g_assert_cmpuint (start, <=, end);
  g_assert_cmpuint (end, <=, strlen (s->line));
  g_string_append_printf (s->out, "%s[%.*s] ", kind_names[kind], (int) (end - start), s->line + start);
}

static char *
scan (const char *line,
      gboolean    in_fence,
      gboolean   *out_fence)
{
  Spans s = { g_string_new (NULL), line };
  gboolean open = flow_markdown_scan_line (line, strlen (line), in_fence, span_cb, &s);

  if (out_fence)
    *out_fence = open;
  if (s.out->len > 0)
    g_string_truncate (s.out, s.out->len - 1);
  return g_string_free (s.out, FALSE);
}

static void
check (const char *line,
       const char *expected)
{
  g_autofree char *got = scan (line, FALSE, NULL);

  g_assert_cmpstr (got, ==, expected);
}

static void
test_scan_blocks (void)
{
  gboolean open;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;

  check ("# Title", "h1[# Title] markup[# ]");
  check ("### Deep *one*", "h3[### Deep *one*] markup[### ] markup[*] em[one] markup[*]");
  check ("#hashtag", "");
  check ("####### seven", "");
  check ("> quoted", "quote[> quoted] markup[> ]");
  check ("- item", "list[- ]");
  check ("  * [x] done", "list[* [x]]");
  check ("12. twelfth", "list[12. ]");
  check ("---", "rule[---]");
  check ("* * *", "rule[* * *]");

  a = scan ("```c", FALSE, &open);
  g_assert_cmpstr (a, ==, "codeblock[```c] markup[```c]");
  g_assert_true (open);
  b = scan ("# not a heading", TRUE, &open);
  g_assert_cmpstr (b, ==, "codeblock[# not a heading]");
  g_assert_true (open);
  c = scan ("```", TRUE, &open);
  g_assert_false (open);
}

static void
test_scan_inline (void)
{
  check ("a **bold** b", "markup[**] strong[bold] markup[**]");
  check ("an *em* and _em_", "markup[*] em[em] markup[*] markup[_] em[em] markup[_]");
  check ("snake_case_name", "");
  check ("use `x*y*z` here", "markup[`] code[x*y*z] markup[`]");
  check ("``a ` b``", "markup[``] code[a ` b] markup[``]");
  check ("see [the docs](https://x.org) now", "markup[[] link[the docs] markup[](https://x.org)]");
  check ("go to https://gnome.org.", "link[https://gnome.org]");
  check ("<https://a.b/c>", "link[<https://a.b/c>]");
  check ("2 * 3 * 4", "");
  check ("unclosed **bold", "");
  check ("\\*not em\\*", "");
  check ("ünïcødé **fät** ✓", "markup[**] strong[fät] markup[**]");
}

static void
test_scan_random (void)
{
  GRand *rand = g_rand_new_with_seed (flow_test_seed ());
  static const char *pieces[] = { "*", "**", "_", "`", "[", "](", ")", "#", " ", "a", "é", "<", ">",
                                  "http://", "-", "1.", "\\", "~~~", "```", "✓" };

  /* Any line is scanned without reading outside it (span_cb checks the
   * bounds). */
  for (guint n = 0; n < 20000; n++)
    {
      g_autoptr(GString) line = g_string_new (NULL);
      guint len = g_rand_int_range (rand, 0, 12);

      for (guint i = 0; i < len; i++)
        g_string_append (line, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
      g_free (scan (line->str, g_rand_boolean (rand), NULL));
    }
  g_rand_free (rand);
}

static void
test_words (void)
{
  g_assert_cmpuint (flow_markdown_count_words ("", -1), ==, 0);
  g_assert_cmpuint (flow_markdown_count_words ("# Hello, world!", -1), ==, 2);
  g_assert_cmpuint (flow_markdown_count_words ("don't re-use   it\n\n- x", -1), ==, 4);
  g_assert_cmpuint (flow_markdown_count_words ("Größe über naïve", -1), ==, 3);
  g_assert_cmpuint (flow_markdown_count_words ("日本語です", -1), ==, 5);
  g_assert_cmpuint (flow_markdown_count_words ("emoji 🎉 party", -1), ==, 2);
}

/* Rebuilds both texts from the hunks. */
static void
check_diff (const char *old_text,
            const char *new_text)
{
  g_autoptr(GArray) hunks = flow_line_diff (old_text, new_text);
  g_autoptr(GString) a = g_string_new (NULL);
  g_autoptr(GString) b = g_string_new (NULL);

  for (guint i = 0; i < hunks->len; i++)
    {
      const FlowDiffHunk *h = &g_array_index (hunks, FlowDiffHunk, i);

      switch (h->kind)
        {
        case FLOW_DIFF_SAME:
          g_string_append_len (a, old_text + h->start, h->end - h->start);
          g_string_append_len (b, old_text + h->start, h->end - h->start);
          break;
        case FLOW_DIFF_REMOVED:
          g_string_append_len (a, old_text + h->start, h->end - h->start);
          break;
        case FLOW_DIFF_ADDED:
          g_string_append_len (b, new_text + h->start, h->end - h->start);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_assert_cmpstr (a->str, ==, old_text);
  g_assert_cmpstr (b->str, ==, new_text);
}

static void
test_diff (void)
{
  GRand *rand = g_rand_new_with_seed (flow_test_seed ());
  g_autoptr(GArray) hunks = NULL;

  check_diff ("", "");
  check_diff ("a\n", "");
  check_diff ("", "a\nb");
  check_diff ("a\nb\nc\n", "a\nx\nc\n");
  check_diff ("a\nb\nc", "a\nb\nc\nd");
  check_diff ("same\n", "same\n");

  /* A changed middle line is one removal and one addition, the rest the
   * same. */
  hunks = flow_line_diff ("one\ntwo\nthree\n", "one\n2\nthree\n");
  g_assert_cmpuint (hunks->len, ==, 4);
  g_assert_cmpint (g_array_index (hunks, FlowDiffHunk, 0).kind, ==, FLOW_DIFF_SAME);
  g_assert_cmpint (g_array_index (hunks, FlowDiffHunk, 1).kind, ==, FLOW_DIFF_REMOVED);
  g_assert_cmpint (g_array_index (hunks, FlowDiffHunk, 2).kind, ==, FLOW_DIFF_ADDED);
  g_assert_cmpint (g_array_index (hunks, FlowDiffHunk, 3).kind, ==, FLOW_DIFF_SAME);

  for (guint n = 0; n < 2000; n++)
    {
      g_autoptr(GString) x = g_string_new (NULL);
      g_autoptr(GString) y = g_string_new (NULL);
      guint lx = g_rand_int_range (rand, 0, 30), ly = g_rand_int_range (rand, 0, 30);

      for (guint i = 0; i < lx; i++)
        g_string_append_printf (x, "%c%s", 'a' + g_rand_int_range (rand, 0, 4), g_rand_boolean (rand) ? "\n" : "");
      for (guint i = 0; i < ly; i++)
        g_string_append_printf (y, "%c%s", 'a' + g_rand_int_range (rand, 0, 4), g_rand_boolean (rand) ? "\n" : "");
      check_diff (x->str, y->str);
    }
  g_rand_free (rand);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/flow/markdown/scan/blocks", test_scan_blocks);
  g_test_add_func ("/flow/markdown/scan/inline", test_scan_inline);
  g_test_add_func ("/flow/markdown/scan/random", test_scan_random);
  g_test_add_func ("/flow/markdown/words", test_words);
  g_test_add_func ("/flow/markdown/diff", test_diff);

  return g_test_run ();
}
