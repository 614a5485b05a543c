/* flow-line-diff.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Myers' O((N+M)D) difference of two texts by lines, for a page's history:
 * highlighting what changed between an earlier version and now, and
 * restoring an earlier version as the smallest set of line edits (so that
 * whatever was not changed keeps its identity in the CRDT and merges with
 * concurrent edits). Lines are compared by hash first, then by content.
 *
 * The trace of furthest-reaching paths is kept per D, which costs
 * O((N+M)·D) memory; a budget caps D, and past it the middle is reported
 * as one replacement, which is still a correct (if larger) diff.
 */

#include "config.h"

#include <string.h>

#include "flow-line-diff.h"

#define MAX_D 4000

typedef struct
{
  const char *text;
  gsize       start;
  gsize       end;
  guint       hash;
} Line;

typedef struct
{
  int x;
  int y;
} Move;

static GArray *
split_lines (const char *text)
{
  GArray *lines = g_array_new (FALSE, FALSE, sizeof (Line));
  gsize len = strlen (text);
  gsize pos = 0;

  while (pos < len)
    {
      const char *nl = memchr (text + pos, '\n', len - pos);
      gsize end = nl ? (gsize) (nl - text) + 1 : len;
      Line line = { text, pos, end, 5381 };

      for (gsize i = pos; i < end; i++)
        line.hash = line.hash * 33 + (guchar) text[i];
      g_array_append_val (lines, line);
      pos = end;
    }
  return lines;
}

static gboolean
line_equal (const Line *a,
            const Line *b)
{
  return a->hash == b->hash && a->end - a->start == b->end - b->start &&
         memcmp (a->text + a->start, b->text + b->start, a->end - a->start) == 0;
}

static void
push (GArray       *hunks,
      FlowDiffKind  kind,
      gsize         start,
      gsize         end)
{
  if (start == end)
    return;
  if (hunks->len > 0)
    {
      FlowDiffHunk *last = &g_array_index (hunks, FlowDiffHunk, hunks->len - 1);

      if (last->kind == kind && last->end == start)
        {
          last->end = end;
          return;
        }
    }
  g_array_append_val (hunks, ((FlowDiffHunk) { kind, start, end }));
}

/**
 * flow_line_diff:
 * @old_text: the earlier text
 * @new_text: the later text
 *
 * Returns: (transfer full) (element-type FlowDiffHunk): hunks in order;
 *   walking them rebuilds both texts (SAME+REMOVED give the old text,
 *   SAME+ADDED the new one, SAME ranges being the old text's)
 */
GArray *
flow_line_diff (const char *old_text,
                const char *new_text)
{
  g_autoptr(GArray) a = split_lines (old_text);
  g_autoptr(GArray) b = split_lines (new_text);
  GArray *hunks = g_array_new (FALSE, FALSE, sizeof (FlowDiffHunk));
  g_autoptr(GPtrArray) trace = g_ptr_array_new_with_free_func (g_free);
  int n, m, max, offset, d, found_d = -1;
  int *v;
  int pre = 0, suf = 0;

  /* Common prefix and suffix are cheap and common. */
  while (pre < (int) a->len && pre < (int) b->len &&
         line_equal (&g_array_index (a, Line, pre), &g_array_index (b, Line, pre)))
    pre++;
  while (suf < (int) a->len - pre && suf < (int) b->len - pre &&
         line_equal (&g_array_index (a, Line, a->len - 1 - suf), &g_array_index (b, Line, b->len - 1 - suf)))
    suf++;
  n = a->len - pre - suf;
  m = b->len - pre - suf;

  if (pre > 0)
    push (hunks, FLOW_DIFF_SAME, 0, g_array_index (a, Line, pre - 1).end);

  max = MIN (n + m, MAX_D);
  offset = max + 1;
  v = g_new0 (int, 2 * max + 3);
  for (d = 0; d <= max && (n > 0 || m > 0); d++)
    {
      for (int k = -d; k <= d; k += 2)
        {
          int x, y;

          if (k == -d || (k != d && v[offset + k - 1] < v[offset + k + 1]))
            x = v[offset + k + 1];
          else
            x = v[offset + k - 1] + 1;
          y = x - k;
          while (x < n && y < m &&
                 line_equal (&g_array_index (a, Line, pre + x), &g_array_index (b, Line, pre + y)))
            {
              x++;
              y++;
            }
          v[offset + k] = x;
          if (x >= n && y >= m)
            {
              found_d = d;
              break;
            }
        }
      g_ptr_array_add (trace, g_memdup2 (v, (2 * max + 3) * sizeof (int)));
      if (found_d >= 0)
        break;
    }
  g_free (v);

  if (n > 0 || m > 0)
    {
      if (found_d < 0)
        {
          /* Over budget: the whole middle is one replacement. */
          if (n > 0)
            push (hunks, FLOW_DIFF_REMOVED, g_array_index (a, Line, pre).start,
                  g_array_index (a, Line, pre + n - 1).end);
          if (m > 0)
            push (hunks, FLOW_DIFF_ADDED, g_array_index (b, Line, pre).start,
                  g_array_index (b, Line, pre + m - 1).end);
        }
      else
        {
          /* Walk the trace back from (n, m), collecting moves, then emit
           * them forwards. A move is (x, y) for a common line, (x, -1)
           * for a removed one and (-1, y) for an added one. */
          g_autoptr(GArray) moves = g_array_new (FALSE, FALSE, sizeof (Move));
          int x = n, y = m;

          for (d = found_d; d > 0; d--)
            {
              const int *pv = g_ptr_array_index (trace, d - 1);
              int k = x - y, pk, px, py;

              if (k == -d || (k != d && pv[offset + k - 1] < pv[offset + k + 1]))
                pk = k + 1;
              else
                pk = k - 1;
              px = pv[offset + pk];
              py = px - pk;
              while (x > px && y > py)
                {
                  x--;
                  y--;
                  g_array_append_val (moves, ((Move) { x, y }));
                }
              if (x == px)
                {
                  y--;
                  g_array_append_val (moves, ((Move) { -1, y }));
                }
              else
                {
                  x--;
                  g_array_append_val (moves, ((Move) { x, -1 }));
                }
            }
          while (x > 0 && y > 0)
            {
              x--;
              y--;
              g_array_append_val (moves, ((Move) { x, y }));
            }
          for (guint i = moves->len; i-- > 0;)
            {
              const Move *mv = &g_array_index (moves, Move, i);
              const Line *l;

              if (mv->x >= 0 && mv->y >= 0)
                {
                  l = &g_array_index (a, Line, pre + mv->x);
                  push (hunks, FLOW_DIFF_SAME, l->start, l->end);
                }
              else if (mv->x >= 0)
                {
                  l = &g_array_index (a, Line, pre + mv->x);
                  push (hunks, FLOW_DIFF_REMOVED, l->start, l->end);
                }
              else
                {
                  l = &g_array_index (b, Line, pre + mv->y);
                  push (hunks, FLOW_DIFF_ADDED, l->start, l->end);
                }
            }
        }
    }

  if (suf > 0)
    push (hunks, FLOW_DIFF_SAME, g_array_index (a, Line, a->len - suf).start,
          g_array_index (a, Line, a->len - 1).end);
  return hunks;
}
