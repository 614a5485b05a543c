/* flow-text.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The text CRDT of pages: a persistent FugueMax list ("YjsMod" rule).
 *
 * What it guarantees
 * ------------------
 * Every inserted character is an item named by its op id. An item records
 * origin_left, the item just left of where it was typed, and origin_right,
 * the item that followed origin_left at that moment (tombstones count).
 * Replicas that have applied the same set of ops hold the same sequence of
 * items, whatever order the ops arrived in (ops arrive causally: origins
 * and delete targets always exist before they are referred to).
 *
 * Merge rule (integrate, below). A remote item X goes somewhere between its
 * origins. We scan the items o strictly between them, keep a committed
 * insertion point and a tentative one:
 *  - o.origin_left left of X.origin_left: stop, X goes here;
 *  - same origin_left: if o.origin_right is left of X's, o may belong to a
 *    subtree X should precede: remember the point before o (tentative);
 *    if the same origin_right, the lower op id goes left; if further right,
 *    X goes after o (clear tentative);
 *  - o.origin_left right of X.origin_left: o sits inside an earlier
 *    sibling's subtree; skip it.
 * This is maximally non-interleaving: two runs typed concurrently at one
 * spot, forwards or backwards, never interleave. Ties compare op ids by
 * (replica, seq), never local numbers.
 *
 * Deletes are ops of their own that name their target item; the item stays
 * as a tombstone so later ops can still refer to it. Deleting twice is
 * harmless. Nothing is ever garbage collected: the op log is the history.
 *
 * Runs. Chars typed one after another have origin_left = the previous char
 * and share origin_right, so the rule is applied to the first char of a
 * run and the rest follow it. We store:
 *  - ops: run-length encoded FlowTextOps, by LV (the op log's payload);
 *  - content: the UTF-8 of every char ever inserted, in LV order;
 *  - spans: runs of items, consecutive in LV, in document order, each
 *    visible or deleted, in the leaves of a B-tree whose internal nodes
 *    count visible and total items per child (an order-statistic tree, so
 *    "char at position p" and "position of this item" are O(log n));
 *  - lv_leaf: for every inserted char, the leaf holding it (the id index);
 *    NONE for delete ops, which makes "is this op an insert?" one load.
 *
 * Typing continues the current span in place, and a one-leaf cache of the
 * last position looked up makes sequential edits O(1) amortised.
 */

#include "config.h"

#include <string.h>

#include "flow-codec-private.h"
#include "flow-runs-private.h"
#include "flow-text-private.h"

FLOW_RUNS_CHECK (FlowTextOp, lv, len);

#define LEAF_MAX 32
#define NODE_MAX 16
#define NONE     G_MAXUINT32

/* Finding char k of a non-ASCII run walks its UTF-8, so such runs stop
 * growing at this length; ASCII runs index directly and grow freely. */
#define MAX_UTF8_RUN 1024

typedef struct
{
  FlowLv  lv;
  guint32 len     : 31;
  guint32 deleted : 1;
  guint32 off;   /* byte offset of the first char in content */
  guint32 bytes; /* UTF-8 length; == len when the span is ASCII */
} Span;

typedef struct
{
  guint32 parent;
  guint32 slot;  /* a hint: usually our index in the parent's children */
  guint32 prev;
  guint32 next;
  guint32 visible;
  guint32 total;
  guint32 n;
  Span    spans[LEAF_MAX];
} Leaf;

typedef struct
{
  guint32 parent;
  guint32 slot;  /* a hint, as for leaves */
  guint32 n;
  guint32 level; /* 1: children are leaves */
  guint32 child[NODE_MAX];
  guint32 visible[NODE_MAX];
  guint32 total[NODE_MAX];
} Node;

/* A point in the document: before char @k of span @si of leaf @li. At the
 * very end of the document si == n of the last leaf. */
typedef struct
{
  guint32 li;
  guint32 si;
  guint32 k;
} Cursor;

struct _FlowText
{
  FlowOpLog *log;

  Leaf      *leaves;
  guint32    n_leaves;
  guint32    cap_leaves;
  Node      *nodes;
  guint32    n_nodes;
  guint32    cap_nodes;
  guint32    root;
  guint32    height; /* 0: the root is a leaf */
  guint32    first_leaf;

  GArray    *lv_leaf; /* guint32 per LV: a leaf, or NONE */
  GArray    *ops;     /* FlowTextOp */
  FlowBuf    content;

  /* Where the last position lookup landed: leaf and its first visible
   * position. Valid until a leaf before it changes width. */
  guint32    cache_leaf;
  guint32    cache_start;
  gboolean   cache_valid;

  /* Where the last local insert ended: the span it grew and the visible
   * position after it. Typing on at that spot just grows the span again. */
  guint32    type_leaf;
  guint32    type_span;
  guint32    type_pos;
  FlowLv     type_next_lv;

  guint      op_cache;  /* index of the last op run found */

  /* A freshly loaded document keeps only its document order and which
   * chars are deleted; the span tree and the id index are built the first
   * time something needs them (ensure_tree()). Loading and showing a page
   * then touch a fraction of the memory editing it does. */
  gboolean     lazy;
  FlowLvRange *lazy_order;
  guint        lazy_n_order;
  guint8      *lazy_deleted;

  guint        visible;   /* visible chars in all: the text's length */
};

/* ------------------------------------------------------------------------
 * Private functions: allocation and widths
 * ------------------------------------------------------------------------ */

static guint32
leaf_new (FlowText *t)
{
  Leaf *leaf;

  if (t->n_leaves == t->cap_leaves)
    {
      t->cap_leaves = MAX (16, t->cap_leaves * 2);
      t->leaves = g_renew (Leaf, t->leaves, t->cap_leaves);
    }
  leaf = &t->leaves[t->n_leaves];
  leaf->parent = leaf->prev = leaf->next = NONE;
  leaf->slot = 0;
  leaf->visible = leaf->total = leaf->n = 0;
  return t->n_leaves++;
}

static guint32
node_new (FlowText *t,
          guint32   level)
{
  Node *node;

  if (t->n_nodes == t->cap_nodes)
    {
      t->cap_nodes = MAX (8, t->cap_nodes * 2);
      t->nodes = g_renew (Node, t->nodes, t->cap_nodes);
    }
  node = &t->nodes[t->n_nodes];
  node->parent = NONE;
  node->slot = 0;
  node->n = 0;
  node->level = level;
  return t->n_nodes++;
}

static inline guint32
child_parent (FlowText *t,
              guint32   child,
              gboolean  is_leaf)
{
  return is_leaf ? t->leaves[child].parent : t->nodes[child].parent;
}

static inline void
set_child_parent (FlowText *t,
                  guint32   child,
                  gboolean  is_leaf,
                  guint32   parent)
{
  if (is_leaf)
    t->leaves[child].parent = parent;
  else
    t->nodes[child].parent = parent;
}

static inline guint
child_index (const Node *node,
             guint32     child)
{
  for (guint i = 0; i < node->n; i++)
    if (node->child[i] == child)
      return i;
  g_assert_not_reached ();
  return 0;
}

/* Adds width deltas to a leaf and all its ancestors. */
static void
propagate (FlowText *t,
           guint32   li,
           gint32    dv,
           gint32    dt)
{
  Leaf *leaf = &t->leaves[li];
  guint32 child = li;
  guint32 parent = leaf->parent;
  guint32 *slot = &leaf->slot;

  leaf->visible += dv;
  leaf->total += dt;
  t->visible += dv;

  /* Every edit walks up here; the slot hints save scanning each parent's
   * children for the one we came from. */
  while (parent != NONE)
    {
      Node *node = &t->nodes[parent];
      guint i = *slot;

      if (i >= node->n || node->child[i] != child)
        *slot = i = child_index (node, child);
      node->visible[i] += dv;
      node->total[i] += dt;
      child = parent;
      parent = node->parent;
      slot = &node->slot;
    }

  if (dv != 0 && li != t->cache_leaf)
    t->cache_valid = FALSE;
}

static void
node_sums (const Node *node,
           guint32    *visible,
           guint32    *total)
{
  *visible = *total = 0;
  for (guint i = 0; i < node->n; i++)
    {
      *visible += node->visible[i];
      *total += node->total[i];
    }
}

static void
leaf_sums (Leaf *leaf)
{
  leaf->visible = leaf->total = 0;
  for (guint i = 0; i < leaf->n; i++)
    {
      leaf->total += leaf->spans[i].len;
      if (!leaf->spans[i].deleted)
        leaf->visible += leaf->spans[i].len;
    }
}

static inline guint32
span_visible (const Span *s)
{
  return s->deleted ? 0 : s->len;
}

static inline void ensure_lv_map (FlowText *t, FlowLv end);

static void
map_span (FlowText   *t,
          const Span *s,
          guint32     li)
{
  guint32 *map;

  ensure_lv_map (t, s->lv + s->len);
  map = (guint32 *) (gpointer) t->lv_leaf->data;
  for (guint32 i = 0; i < s->len; i++)
    map[s->lv + i] = li;
}

/* ------------------------------------------------------------------------
 * Private functions: tree structure
 * ------------------------------------------------------------------------ */

static void node_insert_child (FlowText *t,
                               guint32   parent,
                               guint32   after,
                               guint32   child,
                               gboolean  is_leaf,
                               guint32   visible,
                               guint32   total);

/* Inserts @child (with its widths) right after @after in @after's parent,
 * growing a new root when @after was the root. The parent's own widths
 * do not change: the caller split @after and the two halves sum up to what
 * @after held before. */
static void
insert_sibling (FlowText *t,
                guint32   after,
                guint32   child,
                gboolean  is_leaf,
                guint32   after_visible,
                guint32   after_total,
                guint32   visible,
                guint32   total)
{
  guint32 parent = child_parent (t, after, is_leaf);

  if (parent == NONE)
    {
      guint32 level = is_leaf ? 1 : t->nodes[after].level + 1;
      guint32 root = node_new (t, level);
      Node *node = &t->nodes[root];

      node->n = 2;
      node->child[0] = after;
      node->child[1] = child;
      node->visible[0] = after_visible;
      node->total[0] = after_total;
      node->visible[1] = visible;
      node->total[1] = total;
      set_child_parent (t, after, is_leaf, root);
      set_child_parent (t, child, is_leaf, root);
      t->root = root;
      t->height = level;
      return;
    }

  {
    Node *node = &t->nodes[parent];
    guint i = child_index (node, after);

    node->visible[i] = after_visible;
    node->total[i] = after_total;
  }
  node_insert_child (t, parent, after, child, is_leaf, visible, total);
}

static void
node_add_child (FlowText *t,
                guint32   parent,
                guint32   after,
                guint32   child,
                gboolean  is_leaf,
                guint32   visible,
                guint32   total)
{
  Node *node = &t->nodes[parent];
  guint i = child_index (node, after) + 1;

  g_assert (node->n < NODE_MAX);
  memmove (node->child + i + 1, node->child + i, (node->n - i) * sizeof (guint32));
  memmove (node->visible + i + 1, node->visible + i, (node->n - i) * sizeof (guint32));
  memmove (node->total + i + 1, node->total + i, (node->n - i) * sizeof (guint32));
  node->child[i] = child;
  node->visible[i] = visible;
  node->total[i] = total;
  node->n++;
  set_child_parent (t, child, is_leaf, parent);
}

static void
node_insert_child (FlowText *t,
                   guint32   parent,
                   guint32   after,
                   guint32   child,
                   gboolean  is_leaf,
                   guint32   visible,
                   guint32   total)
{
  guint32 sibling;
  Node *node;
  Node *right;
  guint half = NODE_MAX / 2;
  guint32 lv, lt, rv, rt;

  if (t->nodes[parent].n < NODE_MAX)
    {
      node_add_child (t, parent, after, child, is_leaf, visible, total);
      return;
    }

  /* Full: move the upper half to a new sibling, add the child to whichever
   * half holds @after, and only then tell the grandparent, so the widths
   * it records for both halves include the new child. */
  sibling = node_new (t, t->nodes[parent].level);
  node = &t->nodes[parent];
  right = &t->nodes[sibling];
  right->n = node->n - half;
  memcpy (right->child, node->child + half, right->n * sizeof (guint32));
  memcpy (right->visible, node->visible + half, right->n * sizeof (guint32));
  memcpy (right->total, node->total + half, right->n * sizeof (guint32));
  node->n = half;
  for (guint j = 0; j < right->n; j++)
    set_child_parent (t, right->child[j], is_leaf, sibling);

  node_add_child (t, child_parent (t, after, is_leaf), after, child, is_leaf, visible, total);

  node_sums (&t->nodes[parent], &lv, &lt);
  node_sums (&t->nodes[sibling], &rv, &rt);
  insert_sibling (t, parent, sibling, FALSE, lv, lt, rv, rt);
}

/* Splits a full leaf in two; the upper half moves to a new leaf. */
static guint32
leaf_split (FlowText *t,
            guint32   li)
{
  guint32 ri = leaf_new (t);
  Leaf *left = &t->leaves[li];
  Leaf *right = &t->leaves[ri];
  guint half = left->n / 2;

  right->n = left->n - half;
  memcpy (right->spans, left->spans + half, right->n * sizeof (Span));
  left->n = half;
  for (guint i = 0; i < right->n; i++)
    map_span (t, &right->spans[i], ri);

  right->next = left->next;
  right->prev = li;
  if (left->next != NONE)
    t->leaves[left->next].prev = ri;
  left->next = ri;

  leaf_sums (left);
  leaf_sums (right);
  insert_sibling (t, li, ri, TRUE, left->visible, left->total, right->visible, right->total);

  if (t->cache_leaf == li)
    t->cache_valid = FALSE;
  return ri;
}

/*
 * Makes room for @count more spans at index *@si of leaf *@li, splitting
 * the leaf when full; *@li and *@si then say where the spans go. We split
 * before touching any span so the widths the split records are exact; a
 * span at *@si - 1 stays next to the insertion point.
 */
static void
leaf_make_room (FlowText *t,
                guint32  *li,
                guint32  *si,
                guint     count)
{
  if (t->leaves[*li].n + count > LEAF_MAX)
    {
      guint32 ri = leaf_split (t, *li);
      guint half = t->leaves[*li].n;

      if (*si > half)
        {
          *li = ri;
          *si -= half;
        }
    }
}

/* Puts @count spans at index @si of leaf @li, which has room. Widths are
 * not updated: callers either put pieces of a span that was already there
 * (no change) or call propagate() for new items. */
static void
leaf_put (FlowText   *t,
          guint32     li,
          guint32     si,
          const Span *spans,
          guint       count)
{
  Leaf *leaf = &t->leaves[li];

  g_assert (leaf->n + count <= LEAF_MAX);
  memmove (leaf->spans + si + count, leaf->spans + si, (leaf->n - si) * sizeof (Span));
  memcpy (leaf->spans + si, spans, count * sizeof (Span));
  leaf->n += count;

  for (guint i = 0; i < count; i++)
    {
      const Span *s = &leaf->spans[si + i];

      if (s->lv >= t->lv_leaf->len || g_array_index (t->lv_leaf, guint32, s->lv) != li)
        map_span (t, s, li);
    }
}

/* Cuts the span before index @si of leaf @li (which has room for one more
 * span) at @k; the right piece goes to index @si. */
static void span_split (const FlowText *t, const Span *s, guint32 k, Span *left, Span *right);

static void
cut_span (FlowText *t,
          guint32   li,
          guint32   si,
          guint32   k)
{
  Span left;
  Span right;

  span_split (t, &t->leaves[li].spans[si - 1], k, &left, &right);
  t->leaves[li].spans[si - 1] = left;
  leaf_put (t, li, si, &right, 1);
}

/* ------------------------------------------------------------------------
 * Private functions: spans and content
 * ------------------------------------------------------------------------ */

static inline const char *
content_at (const FlowText *t,
            guint32         off)
{
  return (const char *) t->content.data + off;
}

/* Bytes taken by the first @k chars of @s. */
static guint32
span_prefix_bytes (const FlowText *t,
                   const Span     *s,
                   guint32         k)
{
  if (s->bytes == s->len)
    return k;
  return (guint32) (g_utf8_offset_to_pointer (content_at (t, s->off), k) -
                    content_at (t, s->off));
}

static void
span_split (const FlowText *t,
            const Span     *s,
            guint32         k,
            Span           *left,
            Span           *right)
{
  guint32 b = span_prefix_bytes (t, s, k);

  *left = *s;
  *right = *s;
  left->len = k;
  left->bytes = b;
  right->lv = s->lv + k;
  right->len = s->len - k;
  right->off = s->off + b;
  right->bytes = s->bytes - b;
}

static inline gboolean
span_can_append (const Span *s,
                 FlowLv      lv,
                 guint32     off,
                 gboolean    deleted)
{
  return s->lv + s->len == lv && s->off + s->bytes == off && s->deleted == (guint32) deleted;
}

/* Finds the span holding inserted char @lv. */
static void
locate (FlowText *t,
        FlowLv    lv,
        Cursor   *c)
{
  guint32 li = g_array_index (t->lv_leaf, guint32, lv);
  const Leaf *leaf = &t->leaves[li];

  for (guint32 i = 0; i < leaf->n; i++)
    {
      const Span *s = &leaf->spans[i];

      if (s->lv <= lv && lv < s->lv + s->len)
        {
          c->li = li;
          c->si = i;
          c->k = lv - s->lv;
          return;
        }
    }
  g_assert_not_reached ();
}

/* The first visible position of leaf @li. */
static guint32
leaf_start (FlowText *t,
            guint32   li)
{
  guint32 pos = 0;
  guint32 child = li;
  guint32 parent = t->leaves[li].parent;

  if (t->cache_valid && t->cache_leaf == li)
    return t->cache_start;

  while (parent != NONE)
    {
      const Node *node = &t->nodes[parent];

      for (guint i = 0; node->child[i] != child; i++)
        pos += node->visible[i];
      child = parent;
      parent = node->parent;
    }
  return pos;
}

/* The position of cursor @c counting tombstones too. */
static guint64
cursor_total_pos (FlowText     *t,
                  const Cursor *c)
{
  guint64 pos = c->k;
  guint32 child = c->li;
  guint32 parent = t->leaves[c->li].parent;
  const Leaf *leaf = &t->leaves[c->li];

  for (guint i = 0; i < c->si; i++)
    pos += leaf->spans[i].len;
  while (parent != NONE)
    {
      const Node *node = &t->nodes[parent];

      for (guint i = 0; node->child[i] != child; i++)
        pos += node->total[i];
      child = parent;
      parent = node->parent;
    }
  return pos;
}

static guint32
cursor_visible_pos (FlowText     *t,
                    const Cursor *c)
{
  const Leaf *leaf = &t->leaves[c->li];
  guint32 pos = leaf_start (t, c->li);

  for (guint i = 0; i < c->si; i++)
    pos += span_visible (&leaf->spans[i]);
  if (c->si < leaf->n && !leaf->spans[c->si].deleted)
    pos += c->k;
  return pos;
}

/*
 * Finds visible char number @pos (0-based, < length). Descends from the
 * root unless the cached leaf covers @pos.
 */
static void
find_visible (FlowText *t,
              guint32   pos,
              Cursor   *c)
{
  guint32 li;
  guint32 start;
  const Leaf *leaf;

  if (t->cache_valid &&
      pos >= t->cache_start &&
      pos < t->cache_start + t->leaves[t->cache_leaf].visible)
    {
      li = t->cache_leaf;
      start = t->cache_start;
    }
  else
    {
      guint32 idx = t->root;
      guint32 rest = pos;

      for (guint32 h = t->height; h > 0; h--)
        {
          const Node *node = &t->nodes[idx];
          guint i = 0;

          while (i + 1 < node->n && rest >= node->visible[i])
            rest -= node->visible[i++];
          idx = node->child[i];
        }
      li = idx;
      start = pos - rest;
      t->cache_leaf = li;
      t->cache_start = start;
      t->cache_valid = TRUE;
    }

  leaf = &t->leaves[li];
  pos -= start;
  for (guint32 i = 0; i < leaf->n; i++)
    {
      const Span *s = &leaf->spans[i];

      if (s->deleted)
        continue;
      if (pos < s->len)
        {
          c->li = li;
          c->si = i;
          c->k = pos;
          return;
        }
      pos -= s->len;
    }
  g_assert_not_reached ();
}

/* Moves @c to the next item boundary if it sits past a span or leaf end. */
static inline void
cursor_normalize (FlowText *t,
                  Cursor   *c)
{
  for (;;)
    {
      const Leaf *leaf = &t->leaves[c->li];

      if (c->si < leaf->n && c->k == leaf->spans[c->si].len)
        {
          c->si++;
          c->k = 0;
        }
      if (c->si < leaf->n || leaf->next == NONE)
        return;
      c->li = leaf->next;
      c->si = 0;
      c->k = 0;
    }
}

static inline gboolean
cursor_at_end (const FlowText *t,
               const Cursor   *c)
{
  return c->si == t->leaves[c->li].n;
}

static inline FlowLv
cursor_lv (const FlowText *t,
           const Cursor   *c)
{
  return t->leaves[c->li].spans[c->si].lv + c->k;
}

/* ------------------------------------------------------------------------
 * Private functions: ops
 * ------------------------------------------------------------------------ */

static guint32
content_append (FlowText   *t,
                const char *utf8,
                gsize       bytes)
{
  guint32 off = (guint32) t->content.len;

  g_assert (t->content.len + bytes < G_MAXUINT32);
  flow_buf_put_bytes (&t->content, utf8, bytes);
  return off;
}

static void
grow_lv_map (FlowText *t,
             guint     len)
{
  guint old = t->lv_leaf->len;

  g_array_set_size (t->lv_leaf, len);
  if (len > old)
    memset (&g_array_index (t->lv_leaf, guint32, old), 0xff, (len - old) * sizeof (guint32));
}

static inline void
ensure_lv_map (FlowText *t,
               FlowLv    end)
{
  if (G_UNLIKELY (t->lv_leaf->len < end))
    grow_lv_map (t, MAX (end, t->lv_leaf->len + t->lv_leaf->len / 2 + 64));
}

static void
record_insert_run (FlowText *t,
                   FlowLv    lv,
                   guint32   len,
                   FlowLv    origin_left,
                   FlowLv    origin_right,
                   guint32   off,
                   gboolean  ascii)
{
  FlowTextOp *last = t->ops->len ? &g_array_index (t->ops, FlowTextOp, t->ops->len - 1) : NULL;
  FlowTextOp op = { 0, };

  if (last != NULL &&
      last->kind == FLOW_TEXT_OP_INSERT &&
      last->lv + last->len == lv &&
      origin_left == lv - 1 &&
      origin_right == last->b &&
      last->ascii == (guint) ascii &&
      (ascii || last->len + len <= MAX_UTF8_RUN))
    {
      last->len += len;
      return;
    }

  op.lv = lv;
  op.len = len;
  op.kind = FLOW_TEXT_OP_INSERT;
  op.ascii = ascii;
  op.a = origin_left;
  op.b = origin_right;
  op.off = off;
  g_array_append_val (t->ops, op);
}

/* Stores insert ops [lv, lv + len) whose text is content[off ..]. Non-ASCII
 * text is cut into runs of at most MAX_UTF8_RUN chars; each later run's
 * origin_left is simply the char before it. */
static void
record_insert (FlowText *t,
               FlowLv    lv,
               guint32   len,
               FlowLv    origin_left,
               FlowLv    origin_right,
               guint32   off,
               gsize     bytes)
{
  if (bytes == len)
    {
      record_insert_run (t, lv, len, origin_left, origin_right, off, TRUE);
      return;
    }

  while (len > 0)
    {
      guint32 n = MIN (len, MAX_UTF8_RUN);
      const char *p = content_at (t, off);
      guint32 b = (guint32) (g_utf8_offset_to_pointer (p, n) - p);

      record_insert_run (t, lv, n, origin_left, origin_right, off, FALSE);
      origin_left = lv + n - 1;
      lv += n;
      len -= n;
      off += b;
    }
}

static void
record_delete (FlowText *t,
               FlowLv    lv,
               guint32   len,
               FlowLv    target,
               gboolean  reversed)
{
  FlowTextOp *last = t->ops->len ? &g_array_index (t->ops, FlowTextOp, t->ops->len - 1) : NULL;

  if (last != NULL && last->kind == FLOW_TEXT_OP_DELETE && last->lv + last->len == lv)
    {
      gboolean last_fwd = !last->reversed || last->len == 1;
      gboolean last_rev = last->reversed || last->len == 1;

      /* Forward delete: the next target follows the last one. */
      if (!reversed && last_fwd && last->a + last->len == target)
        {
          last->reversed = FALSE;
          last->len += len;
          return;
        }
      /* Backspace: each target precedes the last. */
      if ((reversed || len == 1) && last_rev && target + last->len == last->a)
        {
          last->reversed = TRUE;
          last->len += len;
          return;
        }
    }

  {
    FlowTextOp op = { 0, };

    op.lv = lv;
    op.len = len;
    op.kind = FLOW_TEXT_OP_DELETE;
    op.reversed = reversed && len > 1;
    op.a = target;
    op.b = FLOW_LV_NONE;
    g_array_append_val (t->ops, op);
  }
}

static void
push_delta (GArray  *deltas,
            guint    pos,
            guint    removed,
            guint    inserted,
            guint32  off,
            guint32  bytes)
{
  FlowTextDelta *last;
  FlowTextDelta d = { pos, removed, inserted, off, bytes };

  if (deltas == NULL)
    return;

  /* Coalesce: deleting at the same spot again, or typing on. */
  if (deltas->len > 0)
    {
      last = &g_array_index (deltas, FlowTextDelta, deltas->len - 1);
      if (removed && !inserted && !last->inserted && last->pos == pos)
        {
          last->removed += removed;
          return;
        }
      if (removed && !inserted && !last->inserted && pos + removed == last->pos)
        {
          last->pos = pos;
          last->removed += removed;
          return;
        }
      if (inserted && !removed && !last->removed &&
          last->pos + last->inserted == pos && last->off + last->bytes == off)
        {
          last->inserted += inserted;
          last->bytes += bytes;
          return;
        }
    }
  *(FlowTextDelta *) flow_scratch_push (deltas, sizeof d) = d;
}

/*
 * Inserts the new span @s (new items) at cursor @c: before char c->k of span
 * c->si. Extends the span on the left when @s continues it, which is what
 * typing does.
 */
static void
insert_at (FlowText     *t,
           const Cursor *c,
           const Span   *s)
{
  guint32 li = c->li;
  guint32 si = c->si;
  Leaf *leaf = &t->leaves[li];

  if (si < leaf->n && c->k > 0 && c->k < leaf->spans[si].len)
    {
      si++;
      leaf_make_room (t, &li, &si, 2);
      cut_span (t, li, si, c->k);
      leaf_put (t, li, si, s, 1);
      map_span (t, s, li);
      propagate (t, li, s->len, s->len);
      return;
    }

  if (si < leaf->n && c->k > 0)
    si++; /* the cursor was at the end of span si */

  /* Extend the span on the left, in this leaf or the previous one. */
  {
    guint32 pli = li;
    guint32 psi = si;

    if (psi == 0 && leaf->prev != NONE)
      {
        pli = leaf->prev;
        psi = t->leaves[pli].n;
      }
    if (psi > 0)
      {
        Span *prev = &t->leaves[pli].spans[psi - 1];

        if (span_can_append (prev, s->lv, s->off, FALSE))
          {
            prev->len += s->len;
            prev->bytes += s->bytes;
            map_span (t, s, pli);
            propagate (t, pli, s->len, s->len);
            return;
          }
      }
  }

  leaf_make_room (t, &li, &si, 1);
  leaf_put (t, li, si, s, 1);
  map_span (t, s, li);
  propagate (t, li, s->len, s->len);
}

/* The item right after cursor @c (normalised), or FLOW_LV_NONE at the end. */
static FlowLv
item_at (FlowText *t,
         Cursor   *c)
{
  cursor_normalize (t, c);
  return cursor_at_end (t, c) ? FLOW_LV_NONE : cursor_lv (t, c);
}

const FlowTextOp *
flow_text_find_op (FlowText *t,
                   FlowLv    lv)
{
  const FlowTextOp *ops = (const FlowTextOp *) (gpointer) t->ops->data;
  guint n = t->ops->len;

  if (n == 0 || lv < ops[0].lv || lv >= ops[n - 1].lv + ops[n - 1].len)
    return NULL;
  return &ops[flow_runs_find (ops, n, sizeof (FlowTextOp), lv, &t->op_cache)];
}

static inline FlowLv
origin_left_of (const FlowTextOp *op,
                FlowLv            lv)
{
  return lv == op->lv ? op->a : lv - 1;
}

static inline guint64
pos_of (FlowText *t,
        FlowLv    lv,
        gint64    none_value)
{
  Cursor c;

  if (lv == FLOW_LV_NONE)
    return (guint64) none_value;
  locate (t, lv, &c);
  return cursor_total_pos (t, &c);
}

/*
 * Finds where remote item @lv with origins @ol / @or goes: the YjsMod rule
 * described at the top of this file. Returns the insertion cursor.
 *
 * Cost: O(log n) when nothing concurrent sits between the origins (the
 * common case); otherwise O(items scanned · log n).
 */
static FlowLv
integrate (FlowText *t,
           FlowLv    lv,
           FlowLv    ol,
           FlowLv    or,
           Cursor   *dest)
{
  Cursor cur;
  Cursor d;
  gint64 left_pos;
  gint64 right_pos;
  gint64 end_pos;
  FlowOpId x_id;
  gboolean scanning = FALSE;

  if (ol == FLOW_LV_NONE)
    {
      cur.li = t->first_leaf;
      cur.si = 0;
      cur.k = 0;
    }
  else
    {
      locate (t, ol, &cur);
      cur.k++;
    }

  /* Nothing between the origins: no concurrency to resolve. */
  if (item_at (t, &cur) == or)
    {
      *dest = cur;
      return or;
    }

  end_pos = (gint64) t->leaves[t->root].total;
  if (t->height > 0)
    {
      guint32 v;
      guint32 tot;

      node_sums (&t->nodes[t->root], &v, &tot);
      end_pos = tot;
    }
  left_pos = ol == FLOW_LV_NONE ? -1 : (gint64) pos_of (t, ol, -1);
  right_pos = (gint64) pos_of (t, or, end_pos);
  x_id = flow_oplog_lv_to_op_id (t->log, lv);
  d = cur;

  /* An honest origin_right lies after origin_left. One that does not (a
   * tampered op) would put the item past it; read it as "the end" instead.
   * Two items have the same relative order on every replica, so every
   * replica decides this the same way. */
  if (or != FLOW_LV_NONE && right_pos <= left_pos)
    {
      or = FLOW_LV_NONE;
      right_pos = end_pos;
    }

  for (;;)
    {
      const Span *s;
      const FlowTextOp *op;
      FlowLv o;
      FlowLv oleft;
      FlowLv oright;
      gint64 olp;

      if (!scanning)
        d = cur;
      cursor_normalize (t, &cur);
      if (!scanning)
        d = cur;
      if (cursor_at_end (t, &cur))
        break;
      o = cursor_lv (t, &cur);
      if (o == or)
        break;

      op = flow_text_find_op (t, o);
      g_assert (op != NULL && op->kind == FLOW_TEXT_OP_INSERT);
      oleft = origin_left_of (op, o);
      oright = op->b;

      /* Inside a run whose previous char we just passed, the item's
       * origin_left lies in the scanned range, right of ours: skip it
       * and every following char of the run in one step. (At the first
       * step the previous char is our own origin_left, which is no skip.) */
      if (cur.k > 0 && o != op->lv && o - 1 != ol)
        {
          guint32 step;

          s = &t->leaves[cur.li].spans[cur.si];
          step = MIN (s->len - cur.k, op->lv + op->len - o);
          if (or != FLOW_LV_NONE && or > o && or < o + step)
            step = or - o;
          cur.k += step;
          continue;
        }

      olp = oleft == ol ? left_pos : (gint64) pos_of (t, oleft, -1);
      if (olp < left_pos)
        break;
      if (olp == left_pos)
        {
          gint64 orp = oright == or ? right_pos : (gint64) pos_of (t, oright, end_pos);

          if (orp < right_pos)
            {
              scanning = TRUE;
            }
          else if (orp == right_pos)
            {
              FlowOpId o_id = flow_oplog_lv_to_op_id (t->log, o);

              if (flow_op_id_compare (&x_id, &o_id) < 0)
                break;
              scanning = FALSE;
            }
          else
            {
              scanning = FALSE;
            }
        }
      cur.k++;
    }

  *dest = d;
  return or;
}

/*
 * Marks the @len chars from cursor @c on deleted. They must lie in one
 * span. Returns how many were visible, and appends a delta for them.
 */
static guint32
mark_deleted_at (FlowText *t,
                 Cursor    c,
                 guint32   len,
                 GArray   *deltas)
{
  Leaf *leaf;
  Span *s;
  guint32 pos = 0;

  leaf = &t->leaves[c.li];
  s = &leaf->spans[c.si];
  g_assert (c.k + len <= s->len);

  if (s->deleted)
    return 0;
  if (deltas != NULL)
    pos = cursor_visible_pos (t, &c);

  /* Cut the span so [lv, lv + len) is a span of its own. */
  if (c.k > 0)
    {
      guint32 li = c.li;
      guint32 si = c.si + 1;

      leaf_make_room (t, &li, &si, 1);
      cut_span (t, li, si, c.k);
      c.li = li;
      c.si = si;
      c.k = 0;
    }
  if (len < t->leaves[c.li].spans[c.si].len)
    {
      guint32 li = c.li;
      guint32 si = c.si + 1;

      leaf_make_room (t, &li, &si, 1);
      cut_span (t, li, si, len);
      c.li = li;
      c.si = si - 1;
    }

  leaf = &t->leaves[c.li];
  s = &leaf->spans[c.si];
  s->deleted = TRUE;
  propagate (t, c.li, -(gint32) len, 0);
  push_delta (deltas, pos, len, 0, 0, 0);

  /* Merge with deleted neighbours in this leaf to keep spans few. */
  if (c.si + 1 < leaf->n && span_can_append (s, leaf->spans[c.si + 1].lv,
                                             leaf->spans[c.si + 1].off, TRUE) &&
      leaf->spans[c.si + 1].deleted)
    {
      s->len += leaf->spans[c.si + 1].len;
      s->bytes += leaf->spans[c.si + 1].bytes;
      memmove (leaf->spans + c.si + 1, leaf->spans + c.si + 2,
               (leaf->n - c.si - 2) * sizeof (Span));
      leaf->n--;
    }
  if (c.si > 0 && span_can_append (&leaf->spans[c.si - 1], s->lv, s->off, TRUE))
    {
      leaf->spans[c.si - 1].len += s->len;
      leaf->spans[c.si - 1].bytes += s->bytes;
      memmove (leaf->spans + c.si, leaf->spans + c.si + 1, (leaf->n - c.si - 1) * sizeof (Span));
      leaf->n--;
    }

  return len;
}

/* The same for chars [@lv, @lv + @len). */
static guint32
mark_deleted (FlowText *t,
              FlowLv    lv,
              guint32   len,
              GArray   *deltas)
{
  Cursor c;

  locate (t, lv, &c);
  return mark_deleted_at (t, c, len, deltas);
}

/* Deletes the chars [lv, lv + len), which may lie in several spans. */
static void
delete_range (FlowText *t,
              FlowLv    lv,
              guint32   len,
              GArray   *deltas)
{
  while (len > 0)
    {
      Cursor c;
      guint32 m;

      locate (t, lv, &c);
      m = MIN (len, t->leaves[c.li].spans[c.si].len - c.k);
      mark_deleted (t, lv, m, deltas);
      lv += m;
      len -= m;
    }
}

/* ------------------------------------------------------------------------
 * Private functions: building the tree in one pass
 * ------------------------------------------------------------------------ */

/* Appends span @s to the leaf being filled by bulk loading. */
static void
bulk_append (FlowText   *t,
             guint32    *li,
             const Span *s)
{
  Leaf *leaf = &t->leaves[*li];

  if (leaf->n > 0 && span_can_append (&leaf->spans[leaf->n - 1], s->lv, s->off, s->deleted))
    {
      leaf->spans[leaf->n - 1].len += s->len;
      leaf->spans[leaf->n - 1].bytes += s->bytes;
      return;
    }
  if (leaf->n == LEAF_MAX * 3 / 4)
    {
      guint32 next = leaf_new (t);

      leaf = &t->leaves[*li];
      leaf->next = next;
      t->leaves[next].prev = *li;
      *li = next;
      leaf = &t->leaves[next];
    }
  leaf->spans[leaf->n++] = *s;
}

/* Which chars are deleted: a bitmap over LVs, from the delete ops. */
static guint8 *
deleted_bitmap (FlowText *t)
{
  guint8 *deleted = g_malloc0 (t->log->len / 8 + 1);

  for (guint i = 0; i < t->ops->len; i++)
    {
      const FlowTextOp *op = &g_array_index (t->ops, FlowTextOp, i);
      FlowLv first;

      if (op->kind != FLOW_TEXT_OP_DELETE)
        continue;
      first = op->reversed ? op->a - (op->len - 1) : op->a;
      for (guint32 k = 0; k < op->len; k++)
        deleted[(first + k) / 8] |= 1 << ((first + k) % 8);
    }
  return deleted;
}

static inline gboolean
bit (const guint8 *bits,
     FlowLv        lv)
{
  return (bits[lv / 8] >> (lv % 8)) & 1;
}

/* The first LV in [lv, end) whose bit differs from @value, or @end. Whole
 * bytes of equal bits are skipped at once: most text is long stretches of
 * visible or of deleted chars. */
static FlowLv
next_change (const guint8 *bits,
             FlowLv        lv,
             FlowLv        end,
             gboolean      value)
{
  guint8 same = value ? 0xff : 0x00;

  while (lv < end)
    {
      if (lv % 8 == 0 && lv + 8 <= end && bits[lv / 8] == same)
        {
          lv += 8;
          continue;
        }
      if (bit (bits, lv) != value)
        return lv;
      lv++;
    }
  return end;
}

/*
 * Calls @func for each stretch of chars of the ranges @order (document
 * order) that are one op run, consecutive bytes, and all deleted or all
 * visible.
 */
static void
walk_order (FlowText          *t,
            const FlowLvRange *order,
            guint              n_ranges,
            const guint8      *deleted,
            void             (*func) (FlowText *t, const Span *s, gpointer data),
            gpointer           data)
{
  for (guint r = 0; r < n_ranges; r++)
    {
      FlowLv lv = order[r].start;

      while (lv < order[r].end)
        {
          const FlowTextOp *op = flow_text_find_op (t, lv);
          FlowLv op_end = MIN (order[r].end, op->lv + op->len);
          guint32 off = op->ascii ? op->off + (lv - op->lv)
                                  : (guint32) (g_utf8_offset_to_pointer (content_at (t, op->off),
                                                                         lv - op->lv) -
                                               content_at (t, 0));

          while (lv < op_end)
            {
              gboolean del = bit (deleted, lv);
              Span s;
              FlowLv k = next_change (deleted, lv + 1, op_end, del);

              s.lv = lv;
              s.len = k - lv;
              s.deleted = del;
              s.off = off;
              s.bytes = (guint32) (op->ascii ? s.len
                                   : (guint32) (g_utf8_offset_to_pointer (content_at (t, off), s.len) -
                                                content_at (t, off)));
              func (t, &s, data);
              off += s.bytes;
              lv = k;
            }
        }
    }
}

static void
bulk_append_cb (FlowText   *t,
                const Span *s,
                gpointer    data)
{
  bulk_append (t, data, s);
}

/* Builds the span tree in one pass from a document order, O(chars). */
static void
build_tree (FlowText          *t,
            const FlowLvRange *order,
            guint              n_ranges,
            const guint8      *deleted)
{
  GArray *level;
  guint32 li;

  g_assert (t->n_leaves == 1 && t->leaves[0].n == 0);

  li = t->first_leaf;
  walk_order (t, order, n_ranges, deleted, bulk_append_cb, &li);

  /* Widths and the id index, leaf by leaf. */
  grow_lv_map (t, t->log->len);
  for (guint32 l = t->first_leaf; l != NONE; l = t->leaves[l].next)
    {
      leaf_sums (&t->leaves[l]);
      for (guint32 i = 0; i < t->leaves[l].n; i++)
        map_span (t, &t->leaves[l].spans[i], l);
    }

  /* Internal levels, bottom up. */
  level = g_array_new (FALSE, FALSE, sizeof (guint32));
  for (guint32 l = t->first_leaf; l != NONE; l = t->leaves[l].next)
    g_array_append_val (level, l);

  t->height = 0;
  while (level->len > 1)
    {
      GArray *up = g_array_new (FALSE, FALSE, sizeof (guint32));
      gboolean is_leaf = t->height == 0;

      for (guint i = 0; i < level->len; )
        {
          guint32 ni = node_new (t, t->height + 1);
          Node *node = &t->nodes[ni];
          guint take = MIN (level->len - i, (guint) NODE_MAX * 3 / 4);

          /* Avoid a lonely last node. */
          if (level->len - i - take > 0 && level->len - i - take < 2)
            take--;
          for (guint j = 0; j < take; j++, i++)
            {
              guint32 child = g_array_index (level, guint32, i);

              node->child[node->n] = child;
              if (is_leaf)
                {
                  node->visible[node->n] = t->leaves[child].visible;
                  node->total[node->n] = t->leaves[child].total;
                }
              else
                node_sums (&t->nodes[child], &node->visible[node->n], &node->total[node->n]);
              set_child_parent (t, child, is_leaf, ni);
              node->n++;
            }
          g_array_append_val (up, ni);
        }
      g_array_unref (level);
      level = up;
      t->height++;
    }
  t->root = g_array_index (level, guint32, 0);
  if (t->height == 0)
    t->root = t->first_leaf;
  g_array_unref (level);
  t->cache_valid = FALSE;
}

/* Builds the tree of a lazily loaded document before its first use. */
static inline void
ensure_tree (FlowText *t)
{
  if (G_LIKELY (!t->lazy))
    return;
  build_tree (t, t->lazy_order, t->lazy_n_order, t->lazy_deleted);
  g_clear_pointer (&t->lazy_order, g_free);
  g_clear_pointer (&t->lazy_deleted, g_free);
  t->lazy = FALSE;
}

/* ------------------------------------------------------------------------
 * API implementation
 * ------------------------------------------------------------------------ */

FlowText *
flow_text_new (FlowOpLog *log)
{
  FlowText *t = g_new0 (FlowText, 1);

  t->log = log;
  t->lv_leaf = g_array_new (FALSE, FALSE, sizeof (guint32));
  t->ops = g_array_new (FALSE, FALSE, sizeof (FlowTextOp));
  flow_buf_init (&t->content, 256);
  t->root = t->first_leaf = leaf_new (t);
  t->height = 0;
  return t;
}

void
flow_text_free (FlowText *t)
{
  if (t == NULL)
    return;
  g_free (t->leaves);
  g_free (t->nodes);
  g_array_unref (t->lv_leaf);
  g_array_unref (t->ops);
  flow_buf_clear (&t->content);
  g_free (t->lazy_order);
  g_free (t->lazy_deleted);
  g_free (t);
}

/* Sizes the arrays for a document of known size, so loading it never
 * reallocates (and touches each page of memory once). */
void
flow_text_reserve (FlowText *t,
                   guint32   n_lvs,
                   guint     n_runs,
                   gsize     content_bytes)
{
  if (n_runs > t->ops->len)
    {
      guint len = t->ops->len;

      g_array_set_size (t->ops, n_runs);
      g_array_set_size (t->ops, len);
    }
  flow_buf_grow (&t->content, content_bytes);
}

gsize
flow_text_memory (const FlowText *t)
{
  return sizeof *t +
         t->cap_leaves * sizeof (Leaf) +
         t->cap_nodes * sizeof (Node) +
         t->lv_leaf->len * sizeof (guint32) +
         t->ops->len * sizeof (FlowTextOp) +
         t->content.cap +
         (t->lazy ? t->lazy_n_order * sizeof (FlowLvRange) + t->log->len / 8 + 1 : 0);
}

/* Returns the number of visible chars (code points). */
guint
flow_text_get_length (const FlowText *t)
{
  return t->visible;
}

/* Appends the visible text, as UTF-8, to @out. O(spans + bytes). */
static void
append_visible_cb (FlowText   *t,
                   const Span *s,
                   gpointer    data)
{
  if (!s->deleted)
    g_string_append_len (data, content_at (t, s->off), s->bytes);
}

void
flow_text_append_to (const FlowText *t,
                     GString        *out)
{
  if (t->lazy)
    {
      /* The visible text is at most all the content: one allocation. */
      gsize len = out->len;

      if (out->allocated_len < len + t->content.len + 1)
        {
          g_string_set_size (out, len + t->content.len);
          g_string_truncate (out, len);
        }
      walk_order ((FlowText *) t, t->lazy_order, t->lazy_n_order, t->lazy_deleted,
                  append_visible_cb, out);
      return;
    }

  for (guint32 li = t->first_leaf; li != NONE; li = t->leaves[li].next)
    {
      const Leaf *leaf = &t->leaves[li];

      for (guint32 i = 0; i < leaf->n; i++)
        if (!leaf->spans[i].deleted)
          g_string_append_len (out, content_at (t, leaf->spans[i].off), leaf->spans[i].bytes);
    }
}

const char *
flow_text_content (const FlowText *t,
                   guint32         off)
{
  return content_at (t, off);
}

GArray *
flow_text_get_ops (FlowText *t)
{
  return t->ops;
}

/*
 * flow_text_local_insert:
 *
 * Inserts @n_chars code points (@bytes of UTF-8) at visible position @pos
 * (<= length) as new ops of @agent. The new item goes right after the
 * visible char at pos - 1, before any tombstones that follow it.
 *
 * Returns: the LV of the first new op. Amortised O(1) when typing on.
 */
FlowLv
flow_text_local_insert (FlowText   *t,
                        guint32     agent,
                        guint       pos,
                        const char *utf8,
                        gsize       bytes,
                        guint       n_chars,
                        GArray     *deltas)
{
  Cursor c;
  FlowLv ol;
  FlowLv or;
  FlowLv lv;
  Span s;
  guint32 off;

  ensure_tree (t);
  g_assert (n_chars > 0);

  /* Typing on: nothing happened since our last insert ended at pos. */
  if (pos == t->type_pos && pos > 0 && t->log->len == t->type_next_lv &&
      t->type_leaf < t->n_leaves && t->type_span < t->leaves[t->type_leaf].n)
    {
      Span *prev = &t->leaves[t->type_leaf].spans[t->type_span];

      off = (guint32) t->content.len;
      if (span_can_append (prev, t->log->len, off, FALSE))
        {
          FlowTextOp *last = &g_array_index (t->ops, FlowTextOp, t->ops->len - 1);

          if (last->kind == FLOW_TEXT_OP_INSERT && last->lv + last->len == t->log->len)
            {
              /* The item after our last char is still its origin_right. */
              content_append (t, utf8, bytes);
              ol = t->log->len - 1;
              or = last->b;
              lv = flow_oplog_push_local (t->log, agent, n_chars);
              record_insert (t, lv, n_chars, ol, or, off, bytes);
              prev = &t->leaves[t->type_leaf].spans[t->type_span];
              prev->len += n_chars;
              prev->bytes += (guint32) bytes;
              map_span (t, &(Span) { lv, n_chars, 0, off, (guint32) bytes }, t->type_leaf);
              propagate (t, t->type_leaf, n_chars, n_chars);
              t->type_pos = pos + n_chars;
              t->type_next_lv = t->log->len;
              push_delta (deltas, pos, 0, n_chars, off, (guint32) bytes);
              return lv;
            }
        }
    }

  if (pos == 0)
    {
      c.li = t->first_leaf;
      c.si = 0;
      c.k = 0;
      ol = FLOW_LV_NONE;
    }
  else
    {
      find_visible (t, pos - 1, &c);
      ol = cursor_lv (t, &c);
      c.k++;
    }
  {
    Cursor probe = c;

    or = item_at (t, &probe);
  }

  off = content_append (t, utf8, bytes);
  lv = flow_oplog_push_local (t->log, agent, n_chars);
  record_insert (t, lv, n_chars, ol, or, off, bytes);

  s.lv = lv;
  s.len = n_chars;
  s.deleted = FALSE;
  s.off = off;
  s.bytes = (guint32) bytes;
  insert_at (t, &c, &s);

  /* Remember the span that now ends at pos + n_chars, for typing on. */
  {
    Cursor at;

    locate (t, lv + n_chars - 1, &at);
    t->type_leaf = at.li;
    t->type_span = at.si;
    t->type_pos = at.k + 1 == t->leaves[at.li].spans[at.si].len ? pos + n_chars : G_MAXUINT32;
    t->type_next_lv = t->log->len;
  }

  push_delta (deltas, pos, 0, n_chars, off, (guint32) bytes);
  return lv;
}

/*
 * flow_text_local_delete:
 *
 * Deletes @n_chars visible chars from @pos as new delete ops of @agent.
 * Appends the deleted items, as FlowLvRanges in document order, to
 * @deleted_ranges (for undo) when it is not %NULL.
 *
 * Returns: the LV of the first delete op. O(pieces · log n).
 */
FlowLv
flow_text_local_delete (FlowText *t,
                        guint32   agent,
                        guint     pos,
                        guint     n_chars,
                        GArray   *deleted_ranges,
                        GArray   *deltas)
{
  FlowLvRange stack[4];
  g_autoptr(GArray) heap = NULL;
  FlowLvRange *ranges = stack;
  guint n_ranges = 0;
  guint remaining = n_chars;
  FlowLv lv;
  FlowLv next;

  ensure_tree (t);
  g_assert (n_chars > 0);
  g_assert (pos + n_chars <= flow_text_get_length (t));

  /* Deleting at pos shifts the next char to pos, so look up pos again. */
  while (remaining > 0)
    {
      Cursor c;
      const Span *s;
      guint32 m;
      FlowLvRange r;

      find_visible (t, pos, &c);
      s = &t->leaves[c.li].spans[c.si];
      m = MIN (remaining, s->len - c.k);
      r.start = s->lv + c.k;
      r.end = r.start + m;
      mark_deleted_at (t, c, m, NULL);
      remaining -= m;

      /* Usually one range: keep them on the stack until that fails. */
      if (n_ranges > 0 && ranges[n_ranges - 1].end == r.start)
        {
          ranges[n_ranges - 1].end = r.end;
          continue;
        }
      if (n_ranges == G_N_ELEMENTS (stack) && heap == NULL)
        {
          heap = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));
          g_array_append_vals (heap, stack, n_ranges);
        }
      if (heap != NULL)
        {
          g_array_append_val (heap, r);
          ranges = (FlowLvRange *) (gpointer) heap->data;
        }
      else
        ranges[n_ranges] = r;
      n_ranges++;
    }

  lv = flow_oplog_push_local (t->log, agent, n_chars);
  next = lv;
  for (guint i = 0; i < n_ranges; i++)
    {
      record_delete (t, next, ranges[i].end - ranges[i].start, ranges[i].start, FALSE);
      next += ranges[i].end - ranges[i].start;
    }

  if (deleted_ranges != NULL)
    g_array_append_vals (deleted_ranges, ranges, n_ranges);
  push_delta (deltas, pos, n_chars, 0, 0, 0);
  return lv;
}

/*
 * flow_text_local_delete_lvs:
 *
 * Deletes, as new ops of @agent, those of the inserted chars [start, start
 * + len) that are still visible: how undo takes back an insert, by id, so
 * text that others typed in between survives. Appends the chars it deleted
 * to @deleted_ranges.
 *
 * Returns: the number of chars deleted (0 means no op was made)
 */
guint
flow_text_local_delete_lvs (FlowText *t,
                            guint32   agent,
                            FlowLv    start,
                            guint32   len,
                            GArray   *deleted_ranges,
                            GArray   *deltas)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));
  guint total = 0;
  FlowLv lv = start;
  FlowLv next;

  ensure_tree (t);
  while (lv < start + len)
    {
      Cursor c;
      const Span *s;
      guint32 m;

      locate (t, lv, &c);
      s = &t->leaves[c.li].spans[c.si];
      m = MIN (start + len - lv, s->len - c.k);
      if (!s->deleted)
        {
          FlowLvRange r = { lv, lv + m };

          mark_deleted (t, lv, m, deltas);
          g_array_append_val (ranges, r);
          total += m;
        }
      lv += m;
    }

  if (total == 0)
    return 0;

  next = flow_oplog_push_local (t->log, agent, total);
  for (guint i = 0; i < ranges->len; i++)
    {
      const FlowLvRange *r = &g_array_index (ranges, FlowLvRange, i);

      record_delete (t, next, r->end - r->start, r->start, FALSE);
      next += r->end - r->start;
    }
  if (deleted_ranges != NULL)
    g_array_append_vals (deleted_ranges, ranges->data, ranges->len);
  return total;
}

/* Stores an insert op without placing it; see flow_text_load_order(). */
void
flow_text_record_insert (FlowText   *t,
                         FlowLv      lv,
                         guint32     len,
                         FlowLv      origin_left,
                         FlowLv      origin_right,
                         const char *utf8,
                         gsize       bytes)
{
  guint32 off = content_append (t, utf8, bytes);

  record_insert (t, lv, len, origin_left, origin_right, off, bytes);
}

/*
 * flow_text_adopt_content:
 *
 * Takes @data (g_malloc'd, @len bytes) as the content of an empty text:
 * loading a whole page hands over the decoder's buffer instead of copying
 * it. Record its inserts with flow_text_record_insert_at().
 */
void
flow_text_adopt_content (FlowText *t,
                         guint8   *data,
                         gsize     len)
{
  g_assert (t->content.len == 0);

  flow_buf_clear (&t->content);
  t->content.data = data;
  t->content.len = len;
  t->content.cap = len;
}

/* Stores an insert op whose text is already content[off .. off + bytes). */
void
flow_text_record_insert_at (FlowText *t,
                            FlowLv    lv,
                            guint32   len,
                            FlowLv    origin_left,
                            FlowLv    origin_right,
                            guint32   off,
                            gsize     bytes)
{
  g_assert (off + bytes <= t->content.len);

  record_insert (t, lv, len, origin_left, origin_right, off, bytes);
}

void
flow_text_record_delete (FlowText *t,
                         FlowLv    lv,
                         guint32   len,
                         FlowLv    target,
                         gboolean  reversed)
{
  record_delete (t, lv, len, target, reversed);
}

/*
 * flow_text_apply_insert:
 *
 * Integrates a run of @len remote chars whose LVs [lv, lv + len) were just
 * added to the op log. The origins must be chars we have (the caller
 * validated this), with @origin_right after @origin_left.
 */
void
flow_text_apply_insert (FlowText   *t,
                        FlowLv      lv,
                        guint32     len,
                        FlowLv      origin_left,
                        FlowLv      origin_right,
                        const char *utf8,
                        gsize       bytes,
                        GArray     *deltas)
{
  Cursor dest;
  Span s;
  guint32 off = content_append (t, utf8, bytes);

  ensure_tree (t);
  /* Record the origins integrate() went by (see there), so the op is
   * stored and sent on as every replica applies it. */
  origin_right = integrate (t, lv, origin_left, origin_right, &dest);
  record_insert (t, lv, len, origin_left, origin_right, off, bytes);

  s.lv = lv;
  s.len = len;
  s.deleted = FALSE;
  s.off = off;
  s.bytes = (guint32) bytes;

  if (deltas != NULL)
    {
      Cursor probe = dest;
      guint32 pos;

      cursor_normalize (t, &probe);
      pos = cursor_at_end (t, &probe) ? flow_text_get_length (t)
                                      : cursor_visible_pos (t, &probe);
      insert_at (t, &dest, &s);
      push_delta (deltas, pos, 0, len, off, (guint32) bytes);
    }
  else
    insert_at (t, &dest, &s);
}

/*
 * flow_text_apply_delete:
 *
 * Applies @len remote delete ops: op lv + k deletes char @target + k, or
 * @target - k when @reversed. Already deleted chars stay deleted.
 */
void
flow_text_apply_delete (FlowText *t,
                        FlowLv    lv,
                        guint32   len,
                        FlowLv    target,
                        gboolean  reversed,
                        GArray   *deltas)
{
  ensure_tree (t);
  record_delete (t, lv, len, target, reversed);
  if (reversed)
    delete_range (t, target - (len - 1), len, deltas);
  else
    delete_range (t, target, len, deltas);
}

/* TRUE if [start, start + len) are all inserted chars. */
gboolean
flow_text_is_insert_range (FlowText *t,
                           FlowLv    start,
                           guint32   len)
{
  /* Origins are checked one at a time on every remote keystroke, and
   * mostly name chars far from the last op looked up: a char in the id
   * index is an insert, no search needed. (The index may not have a char
   * yet, while a whole page is loading: then we search the ops.) */
  if (len <= 4 && (guint64) start + len <= t->lv_leaf->len)
    {
      const guint32 *map = (const guint32 *) (gpointer) t->lv_leaf->data;
      guint32 i = 0;

      while (i < len && map[start + i] != NONE)
        i++;
      if (i == len)
        return TRUE;
    }

  while (len > 0)
    {
      const FlowTextOp *op = flow_text_find_op (t, start);
      guint32 m;

      if (op == NULL || op->kind != FLOW_TEXT_OP_INSERT)
        return FALSE;
      m = MIN (len, op->lv + op->len - start);
      start += m;
      len -= m;
    }
  return TRUE;
}

gboolean
flow_text_is_deleted (FlowText *t,
                      FlowLv    lv)
{
  Cursor c;

  ensure_tree (t);
  locate (t, lv, &c);
  return t->leaves[c.li].spans[c.si].deleted;
}

/* Byte offset of inserted char @lv in the content arena. */
gsize
flow_text_byte_offset (FlowText *t,
                       FlowLv    lv)
{
  const FlowTextOp *op = flow_text_find_op (t, lv);

  g_assert (op != NULL && op->kind == FLOW_TEXT_OP_INSERT);
  if (op->ascii)
    return op->off + (lv - op->lv);
  return g_utf8_offset_to_pointer (content_at (t, op->off), lv - op->lv) - content_at (t, 0);
}

/* The visible position of item @lv: the number of visible chars before it. */
guint
flow_text_visible_pos (FlowText *t,
                       FlowLv    lv)
{
  Cursor c;

  ensure_tree (t);
  locate (t, lv, &c);
  return cursor_visible_pos (t, &c);
}

/*
 * flow_text_item_run:
 *
 * Describes item @lv and the items after it in its span: sets *@order to
 * the position of @lv counting tombstones too (document order), and
 * *@deleted. Undo uses it to put deleted items back in document order.
 *
 * Returns: how many items from @lv on, at most @max, are consecutive in
 * both LV and document order and all deleted or all visible. O(log n).
 */
guint32
flow_text_item_run (FlowText *t,
                    FlowLv    lv,
                    guint32   max,
                    guint64  *order,
                    gboolean *deleted)
{
  Cursor c;
  const Span *s;

  ensure_tree (t);
  locate (t, lv, &c);
  s = &t->leaves[c.li].spans[c.si];
  *order = cursor_total_pos (t, &c);
  *deleted = s->deleted;
  return MIN (max, s->len - c.k);
}

/*
 * flow_text_local_insert_after:
 *
 * Like flow_text_local_insert(), but puts the new items right after item
 * @after, which may be a tombstone: undo types deleted text again next to
 * its own tombstones, so it lands where it was even among tombstones and
 * others' text.
 *
 * Returns: the LV of the first new op. O(log n).
 */
FlowLv
flow_text_local_insert_after (FlowText   *t,
                              guint32     agent,
                              FlowLv      after,
                              const char *utf8,
                              gsize       bytes,
                              guint       n_chars,
                              GArray     *deltas)
{
  Cursor c;
  Cursor probe;
  FlowLv or;
  FlowLv lv;
  guint32 pos;
  Span s;

  ensure_tree (t);
  g_assert (n_chars > 0);

  locate (t, after, &c);
  c.k++;
  pos = cursor_visible_pos (t, &c);
  probe = c;
  or = item_at (t, &probe);

  s.off = content_append (t, utf8, bytes);
  lv = flow_oplog_push_local (t->log, agent, n_chars);
  record_insert (t, lv, n_chars, after, or, s.off, bytes);

  s.lv = lv;
  s.len = n_chars;
  s.deleted = FALSE;
  s.bytes = (guint32) bytes;
  insert_at (t, &c, &s);
  push_delta (deltas, pos, 0, n_chars, s.off, (guint32) bytes);
  return lv;
}

/* Calls @func for every span in document order. */
void
flow_text_visit_order (FlowText *t,
                       void    (*func) (FlowLv lv, guint32 len, gboolean deleted, gpointer data),
                       gpointer  data)
{
  ensure_tree (t);
  for (guint32 li = t->first_leaf; li != NONE; li = t->leaves[li].next)
    {
      const Leaf *leaf = &t->leaves[li];

      for (guint32 i = 0; i < leaf->n; i++)
        func (leaf->spans[i].lv, leaf->spans[i].len, leaf->spans[i].deleted, data);
    }
}

/*
 * flow_text_load_order:
 *
 * Sets the document order of a freshly decoded document, whose ops are
 * recorded: @order lists every inserted char exactly once, as LV ranges in
 * document order (the decoder checked this); which chars are deleted
 * follows from the delete ops. Nothing is merged again, and the span tree
 * is only built when something needs it: until then the text is read
 * straight from the order. O(ranges + deletes).
 */
void
flow_text_load_order (FlowText          *t,
                      const FlowLvRange *order,
                      guint              n_ranges)
{
  guint64 inserted = 0;
  guint64 deleted = 0;

  g_assert (t->n_leaves == 1 && t->leaves[0].n == 0 && !t->lazy);

  t->lazy_deleted = deleted_bitmap (t);
  t->lazy_order = g_memdup2 (order, n_ranges * sizeof (FlowLvRange));
  t->lazy_n_order = n_ranges;
  for (guint r = 0; r < n_ranges; r++)
    inserted += order[r].end - order[r].start;
  for (guint i = 0; i < t->ops->len; i++)
    if (g_array_index (t->ops, FlowTextOp, i).kind == FLOW_TEXT_OP_DELETE)
      deleted += g_array_index (t->ops, FlowTextOp, i).len;

  /* A char deleted twice (concurrently) counts once: count the bits. Only
   * inserted chars are ever marked, so the whole bitmap will do. */
  if (deleted > 0)
    {
      gsize n_bytes = t->log->len / 8 + 1;

      deleted = 0;
      for (gsize i = 0; i < n_bytes; i++)
        deleted += (guint) __builtin_popcount (t->lazy_deleted[i]);
    }
  t->visible = (guint) (inserted - deleted);
  t->lazy = TRUE;
}

/* Checks every structural invariant; aborts on a violation. For tests. */
void
flow_text_check (FlowText *t)
{
  guint32 n_leaves_seen = 0;
  guint32 prev = NONE;
  guint all_visible = 0;

  ensure_tree (t);

  /* Delete ops are not in the id index (flow_text_is_insert_range()). */
  for (guint i = 0; i < t->ops->len; i++)
    {
      const FlowTextOp *op = &g_array_index (t->ops, FlowTextOp, i);

      for (guint32 k = 0; op->kind == FLOW_TEXT_OP_DELETE && k < op->len; k++)
        g_assert_true (op->lv + k >= t->lv_leaf->len ||
                       g_array_index (t->lv_leaf, guint32, op->lv + k) == NONE);
    }

  for (guint32 li = t->first_leaf; li != NONE; li = t->leaves[li].next)
    {
      Leaf *leaf = &t->leaves[li];
      guint32 v = 0, tot = 0;

      g_assert_cmpuint (leaf->prev, ==, prev);
      g_assert (leaf->n > 0 || t->height == 0);
      for (guint32 i = 0; i < leaf->n; i++)
        {
          const Span *s = &leaf->spans[i];

          g_assert_cmpuint (s->len, >, 0);
          tot += s->len;
          v += span_visible (s);
          for (guint32 k = 0; k < s->len; k++)
            g_assert_cmpuint (g_array_index (t->lv_leaf, guint32, s->lv + k), ==, li);
          g_assert_cmpuint (span_prefix_bytes (t, s, s->len), ==, s->bytes);
        }
      g_assert_cmpuint (v, ==, leaf->visible);
      g_assert_cmpuint (tot, ==, leaf->total);
      all_visible += v;
      if (leaf->parent != NONE)
        {
          Node *node = &t->nodes[leaf->parent];
          guint i = child_index (node, li);

          g_assert_cmpuint (node->visible[i], ==, v);
          g_assert_cmpuint (node->total[i], ==, tot);
        }
      prev = li;
      n_leaves_seen++;
    }
  g_assert_cmpuint (n_leaves_seen, ==, t->n_leaves);
  g_assert_cmpuint (all_visible, ==, t->visible);

  for (guint32 ni = 0; ni < t->n_nodes; ni++)
    {
      Node *node = &t->nodes[ni];

      g_assert_cmpuint (node->n, >, 0);
      if (node->parent != NONE)
        {
          Node *parent = &t->nodes[node->parent];
          guint i = child_index (parent, ni);
          guint32 v, tot;

          node_sums (node, &v, &tot);
          g_assert_cmpuint (parent->visible[i], ==, v);
          g_assert_cmpuint (parent->total[i], ==, tot);
          g_assert_cmpuint (parent->level, ==, node->level + 1);
        }
      else
        g_assert_cmpuint (ni, ==, t->root);
    }
}
