/* test-links.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * flow_links_extract(): wiki links, tags and issue keys in Markdown, with
 * code point offsets, outside code and URLs.
 *
 * Each case lists the expected links as "KIND start end target" lines, with
 * KIND one of W, T, I.
 */

#include "config.h"

#include <string.h>

#include "flow-links.h"

typedef struct
{
  const char *name;
  const char *text;
  const char *expected; /* "W 0 9 Page;T 10 14 tag" */
} Case;

static const Case cases[] = {
  { "empty", "", "" },
  { "plain", "no links here, just text.", "" },
  { "wiki", "see [[Page One]] now", "W 4 16 Page One" },
  { "wiki-trim", "[[  spaced title  ]]", "W 0 20 spaced title" },
  { "wiki-label", "[[Target page|the label]] x", "W 0 25 Target page" },
  { "wiki-label-trim", "[[ Target |label]]", "W 0 18 Target" },
  { "wiki-empty", "[[]] and [[ ]] and [[|x]]", "" },
  { "wiki-two", "[[A]][[B]]", "W 0 5 A;W 5 10 B" },
  { "wiki-multiline", "[[not\nalink]] [[ok]]", "W 14 20 ok" },
  { "wiki-unclosed", "[[open and #tag", "T 11 15 tag" },
  { "wiki-nested", "[[outer [[inner]] rest]]", "W 8 17 inner" },
  { "wiki-triple", "[[[x]]]", "W 1 6 x" },
  { "wiki-nested-prose", "[[a #t [[b]]", "T 4 6 t;W 7 12 b" },
  { "wiki-single-brackets", "[not] [a](b) [[c]", "" },
  { "wiki-bracket-inside", "[[a]b]]", "W 0 7 a]b" },
  { "wiki-escaped", "\\[[no]] [[yes]]", "W 8 15 yes" },
  { "wiki-hash-inside", "[[C# notes]]", "W 0 12 C# notes" },
  { "wiki-emoji", "😀 [[Café ☕]] 😀", "W 2 12 Café ☕" },
  { "wiki-cjk", "日本語の[[ページ]]です", "W 4 11 ページ" },

  { "tag", "a #tag b", "T 2 6 tag" },
  { "tag-start", "#tag", "T 0 4 tag" },
  { "tag-case", "#CamelCase", "T 0 10 CamelCase" },
  { "tag-chars", "#a_b-c/d9", "T 0 9 a_b-c/d9" },
  { "tag-trailing-punct", "#done. #next, #nested/ #dash-", "T 0 5 done;T 7 12 next;T 14 21 nested;T 23 28 dash" },
  { "tag-unicode", "#café #日本 #naïve", "T 0 5 café;T 6 9 日本;T 10 16 naïve" },
  { "tag-emoji-before", "😀#tag", "T 1 5 tag" },
  { "tag-emoji-stops", "#tag😀", "T 0 4 tag" },
  { "tag-numeric", "issue #123 and #2024-plan", "T 15 25 2024-plan" },
  { "heading", "# Heading\n## Sub heading\n###### Six", "" },
  { "heading-with-tag", "# Title #topic", "T 8 14 topic" },
  { "heading-closing", "## Title ##", "" },
  { "tag-no-space-line-start", "#notheading text", "T 0 11 notheading" },
  { "tag-after-word", "abc#def x_#y", "" },
  { "tag-entity", "&#123; &#x27;", "" },
  { "tag-double-hash", "##tag", "" },
  { "tag-escaped", "\\#nottag", "" },
  { "tag-url-fragment", "https://example.com/page#section and http://x.org/#frag", "" },
  { "tag-www", "www.example.com/#frag #real", "T 22 27 real" },
  { "tag-md-link-url", "[text](https://a.b/#frag) #after", "T 26 32 after" },
  { "tag-anchor-link", "[jump](#section)", "" },
  { "tag-in-parens", "(#tag)", "T 1 5 tag" },
  { "tag-lone-hash", "# # #", "" },

  { "issue", "fixes PROJ-123.", "I 6 14 PROJ-123" },
  { "issue-short", "AB-1 A-1", "I 0 4 AB-1" },
  { "issue-digits-in-key", "X2Y-42", "I 0 6 X2Y-42" },
  { "issue-long-key", "ABCDEFGHIJ-1 ABCDEFGHIJK-1", "I 0 12 ABCDEFGHIJ-1" },
  { "issue-lowercase", "proj-123 Proj-123", "" },
  { "issue-boundary", "xPROJ-1 PROJ-1x PROJ-1_ PROJ-12-3", "I 24 31 PROJ-12" },
  { "issue-no-digits", "PROJ- PROJ-x", "" },
  { "issue-in-parens", "(PROJ-9)", "I 1 7 PROJ-9" },
  { "issue-in-url", "https://jira.example.com/browse/PROJ-7", "" },
  { "issue-cjk", "見てPROJ-5です", "" },
  { "issue-cjk-space", "見て PROJ-5 です", "I 3 9 PROJ-5" },

  { "code-span", "`#notag [[no]] PROJ-1` #yes", "T 23 27 yes" },
  { "code-span-double", "``a ` #no`` #yes", "T 12 16 yes" },
  { "code-span-unmatched", "`` #yes `", "T 3 7 yes" },
  { "code-span-escaped", "\\`#yes`", "T 2 6 yes" },
  { "code-span-multiline", "`a\n#no` #yes", "T 8 12 yes" },
  { "code-span-para-break", "`a\n\n#yes`", "T 4 8 yes" },
  { "fence", "```\n#no [[no]]\n```\n#yes", "T 19 23 yes" },
  { "fence-tilde", "~~~ python\n#no\n~~~~\n#yes", "T 20 24 yes" },
  { "fence-longer-close", "````\n```\n#no\n````\n#yes", "T 18 22 yes" },
  { "fence-unclosed", "```\n#no\n[[no]]", "" },
  { "fence-indented", "   ```\n#no\n   ```\n#yes", "T 18 22 yes" },
  { "indented-code", "text\n\n    #no PROJ-1\n\n#yes", "T 22 26 yes" },
  { "indented-code-start", "    #no\n#yes", "T 8 12 yes" },
  { "indented-code-tab", "\t#no", "" },
  { "indented-continuation", "para\n    #yes", "T 9 13 yes" },
  { "indented-in-list", "- item\n\n    #yes", "T 12 16 yes" },
  { "list-ends", "- item\n\npara\n\n    #no", "" },

  { "mixed",
    "# Notes\n\nMet with [[Alice|her]] about PROJ-42 #meeting.\n```\n#code\n```\n",
    "W 18 31 Alice;I 38 45 PROJ-42;T 46 54 meeting" },
  { "emoji-offsets", "👩‍👩‍👧 #family 🇩🇪 [[Berlin]] DE-1",
    "T 6 13 family;W 17 27 Berlin;I 28 32 DE-1" },
  { "combining", "e\u0301 #cafe\u0301 [[e\u0301]]", "T 3 9 café;W 10 16 é" },
};

static char *
describe (GArray *links)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < links->len; i++)
    {
      const FlowPageLink *l = &g_array_index (links, FlowPageLink, i);
      char kind = l->kind == FLOW_PAGE_LINK_WIKI ? 'W' : l->kind == FLOW_PAGE_LINK_TAG ? 'T' : 'I';

      g_string_append_printf (s, "%s%c %u %u %s", i ? ";" : "", kind, l->start, l->end, l->target);
    }
  return g_string_free (s, FALSE);
}

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(GArray) links = flow_links_extract (c->text, -1);
  g_autofree char *got = describe (links);
  g_autofree char *expected = g_utf8_normalize (c->expected, -1, G_NORMALIZE_NFC);
  g_autofree char *got_nfc = g_utf8_normalize (got, -1, G_NORMALIZE_NFC);

  /* "combining" spells é decomposed in the text; compare NFC. */
  if (g_strcmp0 (c->name, "combining") == 0)
    g_assert_cmpstr (got_nfc, ==, expected);
  else
    g_assert_cmpstr (got, ==, c->expected);
}

/* Every token's offsets cover exactly its text. */
static void
test_offsets_cover_token (void)
{
  const char *text = "✨ [[Ünïcode Pàge|x]] then #tåg and KEY-77 🎉 [[日本]]";
  g_autoptr(GArray) links = flow_links_extract (text, -1);
  glong n;
  g_autofree gunichar *chars = g_utf8_to_ucs4_fast (text, -1, &n);

  g_assert_cmpuint (links->len, ==, 4);
  for (guint i = 0; i < links->len; i++)
    {
      const FlowPageLink *l = &g_array_index (links, FlowPageLink, i);
      g_autofree char *token = g_ucs4_to_utf8 (chars + l->start, l->end - l->start, NULL, NULL, NULL);

      g_assert_cmpuint (l->end, <=, n);
      switch (l->kind)
        {
        case FLOW_PAGE_LINK_WIKI:
          g_assert_true (g_str_has_prefix (token, "[[") && g_str_has_suffix (token, "]]"));
          g_assert_nonnull (strstr (token, l->target));
          break;
        case FLOW_PAGE_LINK_TAG:
          g_assert_cmpint (token[0], ==, '#');
          g_assert_cmpstr (token + 1, ==, l->target);
          break;
        case FLOW_PAGE_LINK_ISSUE:
          g_assert_cmpstr (token, ==, l->target);
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static void
test_length (void)
{
  /* @len cuts the text; the rest is not read. */
  g_autoptr(GArray) links = flow_links_extract ("#one #two", 4);

  g_assert_cmpuint (links->len, ==, 1);
  g_assert_cmpstr (g_array_index (links, FlowPageLink, 0).target, ==, "one");
}

static void
test_invalid_utf8 (void)
{
  /* Each invalid byte reads as one U+FFFD, so offsets still count. */
  g_autoptr(GArray) links = flow_links_extract ("\xff\xfe #tag [[x\xc3]]", -1);

  g_assert_cmpuint (links->len, ==, 2);
  g_assert_cmpuint (g_array_index (links, FlowPageLink, 0).start, ==, 3);
  g_assert_cmpstr (g_array_index (links, FlowPageLink, 0).target, ==, "tag");
  g_assert_cmpstr (g_array_index (links, FlowPageLink, 1).target, ==, "x\xef\xbf\xbd");
}

static void
test_garbage (void)
{
  /* Random bytes and Markdown punctuation never crash or overrun. */
  static const char alphabet[] = "[]#`~ \n\t|&\\/:wAZ0-9_(){}*";
  GRand *rand = g_rand_new_with_seed (42);

  for (guint round = 0; round < 2000; round++)
    {
      guint len = g_rand_int_range (rand, 0, 80);
      g_autofree char *text = g_malloc (len + 1);
      g_autoptr(GArray) links = NULL;
      glong n;

      for (guint i = 0; i < len; i++)
        text[i] = round % 5 == 0 ? (char) g_rand_int_range (rand, 1, 256)
                                 : alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
      text[len] = '\0';
      links = flow_links_extract (text, -1);
      {
        g_autofree char *valid = g_utf8_make_valid (text, -1);
        n = g_utf8_strlen (valid, -1);
      }
      for (guint i = 0; i < links->len; i++)
        {
          const FlowPageLink *l = &g_array_index (links, FlowPageLink, i);

          g_assert_cmpuint (l->start, <, l->end);
          g_assert_cmpuint (l->end, <=, (guint) n);
          g_assert_true (g_utf8_validate (l->target, -1, NULL));
          g_assert_cmpstr (l->target, !=, "");
          if (i > 0)
            g_assert_cmpuint (g_array_index (links, FlowPageLink, i - 1).end, <=, l->start);
        }
    }
  g_rand_free (rand);
}

static void
test_large (void)
{
  /* Linear time: a long page of tags and pathological brackets. */
  GString *s = g_string_new (NULL);
  g_autoptr(GArray) links = NULL;
  gint64 start;

  for (guint i = 0; i < 20000; i++)
    g_string_append (s, "[[ #t`");
  for (guint i = 0; i < 20000; i++)
    g_string_append (s, "#tag PROJ-1 ");
  start = g_get_monotonic_time ();
  links = flow_links_extract (s->str, (gssize) s->len);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_cmpuint (links->len, >=, 40000);
  g_string_free (s, TRUE);
}

static void
test_fold_title (void)
{
  g_autofree char *a = flow_links_fold_title ("  Meeting Notes ");
  g_autofree char *b = flow_links_fold_title ("meeting notes");
  g_autofree char *c = flow_links_fold_title ("CAFE\u0301");
  g_autofree char *d = flow_links_fold_title ("café");
  g_autofree char *e = flow_links_fold_title ("Straße");
  g_autofree char *f = flow_links_fold_title ("STRASSE");

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (c, ==, d);
  g_assert_cmpstr (e, ==, f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/links/extract/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/links/offsets", test_offsets_cover_token);
  g_test_add_func ("/links/length", test_length);
  g_test_add_func ("/links/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/links/garbage", test_garbage);
  g_test_add_func ("/links/large", test_large);
  g_test_add_func ("/links/fold-title", test_fold_title);

  return g_test_run ();
}
