/* flow-undo.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Local undo and redo.
 *
 * Guarantees
 * ----------
 *  - Undo reverts only this replica's own edits, by making new ops. It never
 *    removes another replica's work: records name our ops by id, and
 *    - undoing an insert deletes those of *our* chars that are still
 *      visible, so text others typed inside the range survives;
 *    - undoing a delete types the deleted chars again (as new chars with new
 *      ids) where their tombstones are;
 *    - undoing a property write restores the old value only if our write is
 *      still the register's winner; if someone overwrote it since, their
 *      value stays.
 *  - Undoing a delete types each stretch of adjacent tombstones again, in
 *    document order, right after the stretch: the text comes back between
 *    the same items it sat between, others' text included. (Text typed
 *    concurrently with the undo goes wherever the merge rule puts it.)
 *  - Undoing a step that wrote one property several times (a drag)
 *    restores the value from before the step, once, if the step's last
 *    write still wins.
 *  - Because records use ids, not positions, an undo entry maps through any
 *    later local or remote edit for free.
 *  - Consecutive user edits closer than the capture timeout (500 ms) form
 *    one undo step. An undo or redo ends the step, as in Yjs: what the user
 *    types next is a step of its own. A new user edit clears the redo
 *    stack; undo and redo themselves do not.
 *
 * When undo re-types a deleted char X as X', we remember X -> X' (the
 * "redone" chain). Undoing an older insert of X then deletes X' instead, so
 * undo, undo, redo, redo always lands where the user expects. Property
 * writes chain the same way: when undo writes back the value op W had
 * written, its write W' stands for W, so undoing the step that made W
 * still finds "its" write winning. Without that, moving a shape twice and
 * undoing twice would leave it at the first move.
 */

#include "config.h"

#include <string.h>

#include "flow-doc-private.h"
#include "flow-undo-private.h"

#define CAPTURE_TIMEOUT_US (500 * G_TIME_SPAN_MILLISECOND)
#define MAX_ITEMS 1000

typedef struct
{
  GArray *records; /* FlowUndoRecord */
  gint64  time;
} Item;

struct _FlowUndo
{
  GPtrArray    *undo_stack;
  GPtrArray    *redo_stack;
  Item         *current;
  GHashTable   *redone;
  FlowUndoMode  mode;
  gboolean      current_on_stack;
  gboolean      capturing; /* the top undo step is a user edit and may grow */
};

static void
record_clear (gpointer data)
{
  FlowUndoRecord *r = data;

  g_clear_pointer (&r->old, flow_value_unref);
}

static Item *
item_new (void)
{
  Item *item = g_new0 (Item, 1);

  item->records = g_array_new (FALSE, FALSE, sizeof (FlowUndoRecord));
  g_array_set_clear_func (item->records, record_clear);
  return item;
}

static void
item_free (gpointer data)
{
  Item *item = data;

  g_array_unref (item->records);
  g_free (item);
}

FlowUndo *
flow_undo_new (void)
{
  FlowUndo *undo = g_new0 (FlowUndo, 1);

  undo->undo_stack = g_ptr_array_new_with_free_func (item_free);
  undo->redo_stack = g_ptr_array_new_with_free_func (item_free);
  undo->redone = g_hash_table_new (NULL, NULL);
  return undo;
}

void
flow_undo_free (FlowUndo *undo)
{
  if (undo == NULL)
    return;
  g_ptr_array_unref (undo->undo_stack);
  g_ptr_array_unref (undo->redo_stack);
  if (!undo->current_on_stack)
    g_clear_pointer (&undo->current, item_free);
  g_hash_table_unref (undo->redone);
  g_free (undo);
}

FlowUndoMode
flow_undo_get_mode (FlowUndo *undo)
{
  return undo->mode;
}

static Item *
current (FlowUndo *undo)
{
  g_assert (undo->current != NULL);
  return undo->current;
}

void
flow_undo_record_text (FlowUndo     *undo,
                       FlowUndoKind  kind,
                       FlowLv        start,
                       FlowLv        end)
{
  GArray *records = current (undo)->records;
  FlowUndoRecord r = { 0, };

  /* Typing on (or backspacing) extends the last record. */
  if (records->len > 0)
    {
      FlowUndoRecord *last = &g_array_index (records, FlowUndoRecord, records->len - 1);

      if (last->kind == kind && last->b == start)
        {
          last->b = end;
          return;
        }
      if (last->kind == kind && last->a == end)
        {
          last->a = start;
          return;
        }
    }

  r.kind = kind;
  r.a = start;
  r.b = end;
  g_array_append_val (records, r);
}

void
flow_undo_record_map_set (FlowUndo  *undo,
                          FlowLv     entity,
                          guint32    key,
                          FlowValue *old,
                          FlowLv     old_op,
                          FlowLv     op)
{
  FlowUndoRecord r = { 0, };

  r.kind = FLOW_UNDO_MAP_SET;
  r.entity = entity;
  r.key = key;
  r.op = op;
  r.old = old ? flow_value_ref (old) : NULL;
  r.old_op = old_op;
  g_array_append_val (current (undo)->records, r);
}

/*
 * Starts recording a change made at time @now. A user edit that closely
 * follows the last user edit continues its step, so we record straight
 * into it, unless an undo or redo came in between; an edit clears the redo
 * stack.
 */
void
flow_undo_begin (FlowUndo *undo,
                 gint64    now)
{
  GPtrArray *stack = undo->undo_stack;

  g_assert (undo->current == NULL);

  if (undo->mode != FLOW_UNDO_MODE_NORMAL)
    {
      undo->current = item_new ();
      return;
    }

  if (undo->redo_stack->len > 0)
    g_ptr_array_set_size (undo->redo_stack, 0);
  if (undo->capturing &&
      stack->len > 0 &&
      now - ((Item *) g_ptr_array_index (stack, stack->len - 1))->time < CAPTURE_TIMEOUT_US)
    {
      /* Record straight into the top step; it stays on the stack. */
      undo->current = g_ptr_array_index (stack, stack->len - 1);
      undo->current_on_stack = TRUE;
    }
  else
    undo->current = item_new ();
}

/*
 * Ends the change: the step goes (back) on the undo stack, or, while
 * undoing or redoing, on the other one.
 */
void
flow_undo_commit (FlowUndo *undo,
                  gint64    now)
{
  Item *item = g_steal_pointer (&undo->current);
  GPtrArray *stack;

  if (item == NULL)
    return;
  if (undo->current_on_stack)
    {
      undo->current_on_stack = FALSE;
      item->time = now;
      return;
    }
  if (item->records->len == 0)
    {
      item_free (item);
      return;
    }
  item->time = now;

  switch (undo->mode)
    {
    case FLOW_UNDO_MODE_UNDOING:
      stack = undo->redo_stack;
      break;
    case FLOW_UNDO_MODE_REDOING:
    case FLOW_UNDO_MODE_NORMAL:
    default:
      stack = undo->undo_stack;
      break;
    }

  g_ptr_array_add (stack, item);
  if (stack->len > MAX_ITEMS)
    g_ptr_array_remove_index (stack, 0);
  if (undo->mode == FLOW_UNDO_MODE_NORMAL)
    undo->capturing = TRUE;
}

gboolean
flow_undo_can_undo (FlowUndo *undo)
{
  return undo->undo_stack->len > 0;
}

gboolean
flow_undo_can_redo (FlowUndo *undo)
{
  return undo->redo_stack->len > 0;
}

static FlowLv
resolve (FlowUndo *undo,
         FlowLv    lv)
{
  gpointer next;

  while (g_hash_table_lookup_extended (undo->redone, GUINT_TO_POINTER (lv), NULL, &next))
    lv = GPOINTER_TO_UINT (next);
  return lv;
}

/* Takes back our insert of [a, b): delete what is still visible. */
static void
revert_text_insert (FlowUndo *undo,
                    FlowDoc  *doc,
                    FlowLv    a,
                    FlowLv    b)
{
  g_autoptr(GArray) deleted = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));
  FlowLv lv = a;

  while (lv < b)
    {
      FlowLv target = lv;
      guint32 m = 1;

      if (g_hash_table_size (undo->redone) == 0)
        m = b - lv;
      else if (g_hash_table_contains (undo->redone, GUINT_TO_POINTER (lv)))
        target = resolve (undo, lv);
      else
        while (lv + m < b && !g_hash_table_contains (undo->redone, GUINT_TO_POINTER (lv + m)))
          m++;

      flow_text_local_delete_lvs (doc->text, doc->agent, target, target == lv ? m : 1,
                                  deleted, doc->change_details ? doc->deltas : NULL);
      lv += m;
    }

  for (guint i = 0; i < deleted->len; i++)
    {
      const FlowLvRange *r = &g_array_index (deleted, FlowLvRange, i);

      flow_undo_record_text (undo, FLOW_UNDO_TEXT_DELETE, r->start, r->end);
    }
}

/* Tombstones to bring back: items consecutive in LV and in document order. */
typedef struct
{
  guint64 order; /* document position of the first, tombstones included */
  FlowLv  lv;
  guint32 len;
} Piece;

static gint
piece_compare (gconstpointer a,
               gconstpointer b)
{
  const Piece *pa = a;
  const Piece *pb = b;

  return (pa->order > pb->order) - (pa->order < pb->order);
}

/* Appends to @pieces the chars [a, b) stand for now (following the redone
 * chain) that are deleted. O(pieces · log n), plus a hash lookup per char
 * once anything was redone. */
static void
collect_deleted (FlowUndo *undo,
                 FlowDoc  *doc,
                 FlowLv    a,
                 FlowLv    b,
                 GArray   *pieces)
{
  gboolean chained = g_hash_table_size (undo->redone) > 0;
  FlowLv lv = a;

  while (lv < b)
    {
      Piece p;
      guint32 max = 1;
      gboolean deleted;

      p.lv = resolve (undo, lv);
      if (p.lv == lv && !chained)
        max = b - lv;
      else if (p.lv == lv)
        while (lv + max < b && !g_hash_table_contains (undo->redone, GUINT_TO_POINTER (lv + max)))
          max++;
      p.len = flow_text_item_run (doc->text, p.lv, max, &p.order, &deleted);
      if (deleted)
        g_array_append_val (pieces, p);
      lv += p.len;
    }
}

/*
 * Types @n pieces, adjacent in document order, again as one run right
 * after the last of them: nothing sits between the tombstones, so the copy
 * has the same neighbours the text had. Inserting at the visible position
 * instead would put it before any tombstones there, out of order.
 */
static void
restore_stretch (FlowUndo    *undo,
                 FlowDoc     *doc,
                 const Piece *pieces,
                 guint        n)
{
  g_autoptr(GString) copy = g_string_new (NULL); /* the insert may move the arena */
  const Piece *last = &pieces[n - 1];
  guint n_chars = 0;
  FlowLv fresh;

  for (guint i = 0; i < n; i++)
    {
      gsize off = flow_text_byte_offset (doc->text, pieces[i].lv);
      const char *p = flow_text_content (doc->text, (guint32) off);

      g_string_append_len (copy, p, g_utf8_offset_to_pointer (p, pieces[i].len) - p);
      n_chars += pieces[i].len;
    }

  fresh = flow_text_local_insert_after (doc->text, doc->agent, last->lv + last->len - 1,
                                        copy->str, copy->len, n_chars,
                                        doc->change_details ? doc->deltas : NULL);
  for (guint i = 0, k = 0; i < n; i++)
    for (guint32 j = 0; j < pieces[i].len; j++, k++)
      g_hash_table_insert (undo->redone, GUINT_TO_POINTER (pieces[i].lv + j),
                           GUINT_TO_POINTER (fresh + k));
  flow_undo_record_text (undo, FLOW_UNDO_TEXT_INSERT, fresh, fresh + n_chars);
}

/*
 * Takes back our delete of [a, b): types the chars that are still deleted
 * again where they were. The chars may have been typed in any order, so we
 * sort them into document order and restore each stretch of adjacent
 * tombstones as one run. O(pieces · log n + chars).
 */
static void
revert_text_delete (FlowUndo *undo,
                    FlowDoc  *doc,
                    FlowLv    a,
                    FlowLv    b)
{
  g_autoptr(GArray) array = g_array_new (FALSE, FALSE, sizeof (Piece));
  Piece *pieces;
  guint n = 0;

  collect_deleted (undo, doc, a, b, array);
  g_array_sort (array, piece_compare);
  pieces = (Piece *) (gpointer) array->data;

  /* A char reached twice (two LVs resolving to one copy) comes back once. */
  for (guint i = 0; i < array->len; i++)
    {
      Piece p = pieces[i];

      if (n > 0 && p.order < pieces[n - 1].order + pieces[n - 1].len)
        {
          guint64 skip = MIN (pieces[n - 1].order + pieces[n - 1].len - p.order, p.len);

          p.order += skip;
          p.lv += (FlowLv) skip;
          p.len -= (guint32) skip;
        }
      if (p.len > 0)
        pieces[n++] = p;
    }

  for (guint i = 0; i < n; )
    {
      guint j = i + 1;

      while (j < n && pieces[j].order == pieces[j - 1].order + pieces[j - 1].len)
        j++;
      restore_stretch (undo, doc, pieces + i, j - i);
      i = j;
    }
}

static guint
map_key_hash (gconstpointer p)
{
  const FlowUndoRecord *r = p;

  return r->entity * 31u + r->key;
}

static gboolean
map_key_equal (gconstpointer a,
               gconstpointer b)
{
  const FlowUndoRecord *ra = a;
  const FlowUndoRecord *rb = b;

  return ra->entity == rb->entity && ra->key == rb->key;
}

/* The first write of each entity.key in @item, looked up by any write of
 * the same key; %NULL if the item writes none. */
static GHashTable *
first_writes_new (Item *item)
{
  GHashTable *first = NULL;

  for (guint i = 0; i < item->records->len; i++)
    {
      FlowUndoRecord *r = &g_array_index (item->records, FlowUndoRecord, i);

      if (r->kind != FLOW_UNDO_MAP_SET)
        continue;
      if (first == NULL)
        first = g_hash_table_new (map_key_hash, map_key_equal);
      if (!g_hash_table_contains (first, r))
        g_hash_table_add (first, r);
    }
  return first;
}

/*
 * Takes back a step's writes of entity.key, @last being its last write and
 * @first its first, unless someone overwrote @last (or the op that redid
 * it): restores the value the key had before @first. The write we make
 * records its own inverse (see _flow_doc_set_property()).
 */
static void
revert_map_set (FlowUndo             *undo,
                FlowDoc              *doc,
                const FlowUndoRecord *last,
                const FlowUndoRecord *first)
{
  FlowEntity *e = flow_map_get_entity (doc->map, last->entity);
  guint32 deleted_key = flow_map_deleted_key (doc->map);
  const FlowProp *prop;
  FlowLv winner;
  FlowLv old_op = first->old_op;
  FlowLv lv;
  g_autoptr(FlowValue) restore = NULL;

  if (e == NULL)
    return;

  /* A create op stands for "deleted = false" until someone writes it. */
  prop = flow_map_get_prop (e, last->key);
  if (prop != NULL)
    winner = prop->winner;
  else if (last->key == deleted_key)
    winner = last->entity;
  else
    return;
  if (winner != resolve (undo, last->op))
    return;

  if (first->key == deleted_key && first->op == first->entity)
    restore = flow_value_new_bool (TRUE);
  else
    restore = first->old ? flow_value_ref (first->old) : flow_value_new_null ();

  _flow_doc_set_property (doc, last->entity, last->key, restore, &lv);

  /* Our write redoes the op that had written the old value (the create,
   * for an unwritten "deleted"): undoing an older step that names that op
   * must see it as still winning. */
  if (old_op == FLOW_LV_NONE && first->key == deleted_key && first->op != first->entity)
    old_op = first->entity;
  if (old_op != FLOW_LV_NONE)
    g_hash_table_insert (undo->redone, GUINT_TO_POINTER (old_op), GUINT_TO_POINTER (lv));
}

/*
 * flow_undo_run:
 *
 * Undoes (or redoes) the most recent step that still changes something.
 *
 * Returns: %TRUE if an edit was made
 */
gboolean
flow_undo_run (FlowUndo *undo,
               FlowDoc  *doc,
               gboolean  redo)
{
  GPtrArray *stack = redo ? undo->redo_stack : undo->undo_stack;

  /* The next user edit starts a step of its own. */
  undo->capturing = FALSE;

  while (stack->len > 0)
    {
      Item *item = g_ptr_array_steal_index (stack, stack->len - 1);
      g_autoptr(GHashTable) first_writes = first_writes_new (item);
      guint64 before = doc->log->len;

      undo->mode = redo ? FLOW_UNDO_MODE_REDOING : FLOW_UNDO_MODE_UNDOING;
      _flow_doc_begin_change (doc, TRUE);

      for (guint i = item->records->len; i > 0; i--)
        {
          const FlowUndoRecord *r = &g_array_index (item->records, FlowUndoRecord, i - 1);
          gpointer first;

          switch (r->kind)
            {
            case FLOW_UNDO_TEXT_INSERT:
              revert_text_insert (undo, doc, r->a, r->b);
              break;
            case FLOW_UNDO_TEXT_DELETE:
              revert_text_delete (undo, doc, r->a, r->b);
              break;
            case FLOW_UNDO_MAP_SET:
              /* Newest first: the last write of a key reverts all the
               * step's writes of it; the older ones are then done. */
              if (g_hash_table_steal_extended (first_writes, r, &first, NULL))
                revert_map_set (undo, doc, r, first);
              break;
            default:
              g_assert_not_reached ();
            }
        }

      _flow_doc_end_change (doc);
      undo->mode = FLOW_UNDO_MODE_NORMAL;
      item_free (item);

      if (doc->log->len > before)
        return TRUE;
    }

  return FALSE;
}
