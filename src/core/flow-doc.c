/* flow-doc.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * FlowDoc: one document (a page, a board or the catalog) and its history.
 *
 * A document is its op log plus the CRDT state built from it. Every change
 * takes one path, local or remote:
 *
 *   edit API / flow_doc_apply()  ->  ops appended, CRDT updated  ->  listeners
 *
 * and listeners (store, sync, views) react to the single notification of
 * each change. A change carries the LV range of its ops, so a listener can
 * encode exactly those ops (flow_change_get_bytes()) and forwarding or
 * persisting a change is idempotent on the other side: ops carry ids.
 *
 * Listeners are plain C functions (flow_doc_add_change_func()) rather
 * than a GObject signal: every keystroke notifies them, and asking GObject
 * whether a signal has handlers takes its global lock each time, which
 * cost a tenth of a keystroke's whole path.
 *
 * Remote batches are applied in causal order. Ops we already have are
 * dropped; a batch whose dependencies are missing waits in a pending list
 * and is retried whenever something new is applied.
 */

#define G_LOG_DOMAIN "flow-doc"

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "flow-codec-private.h"
#include "flow-doc-private.h"
#include "flow-error.h"
#include "flow-fracindex-private.h"

/* Pending batches above this total are dropped oldest first: a peer will
 * send them again when it sees our version vector. */
#define MAX_PENDING_BYTES (64u << 20)

/*
 * A change is built for every local edit and every applied batch, so the
 * document keeps the last one and reuses it when no listener kept a ref
 * (the usual case). While the document drives a change, change->doc is a
 * borrowed pointer: a spare owning a ref to its document would be a cycle.
 * A change that a listener kept is handed a ref to the document before
 * the document lets go of it (owns_doc), so it stays valid on its own.
 */
struct _FlowChange
{
  gatomicrefcount  ref_count;
  gboolean         owns_doc;
  gsize            size;     /* of the block, for reuse */
  FlowDoc         *doc;
  FlowLv           start;
  FlowLv           end;
  FlowOpId         first;
  gboolean         local;
  FlowTextEdit    *edits;    /* in the same block as the change */
  guint            n_edits;
  GArray          *entities; /* FlowOpId */
  GBytes          *bytes;
};

G_DEFINE_BOXED_TYPE (FlowChange, flow_change, flow_change_ref, flow_change_unref)
G_DEFINE_FINAL_TYPE (FlowDoc, flow_doc, G_TYPE_OBJECT)

/* ------------------------------------------------------------------------
 * FlowChange
 * ------------------------------------------------------------------------ */

/**
 * flow_change_ref:
 * @change: a change
 *
 * Returns: (transfer full): @change
 */
FlowChange *
flow_change_ref (FlowChange *change)
{
  g_return_val_if_fail (change != NULL, NULL);

  g_atomic_ref_count_inc (&change->ref_count);
  return change;
}

/**
 * flow_change_unref:
 * @change: (transfer full): a change
 */
void
flow_change_unref (FlowChange *change)
{
  g_return_if_fail (change != NULL);

  if (!g_atomic_ref_count_dec (&change->ref_count))
    return;
  if (change->owns_doc)
    g_object_unref (change->doc);
  g_clear_pointer (&change->entities, g_array_unref);
  g_clear_pointer (&change->bytes, g_bytes_unref);
  g_free (change);
}

/**
 * flow_change_get_doc:
 * @change: a change
 *
 * Returns: (transfer none): the document that changed
 */
FlowDoc *
flow_change_get_doc (FlowChange *change)
{
  return change->doc;
}

/**
 * flow_change_is_local:
 * @change: a change
 *
 * Returns: %TRUE for edits made here (including undo and redo), %FALSE for
 *   ops received from another replica
 */
gboolean
flow_change_is_local (FlowChange *change)
{
  return change->local;
}

/**
 * flow_change_get_n_ops:
 * @change: a change
 *
 * Returns: the number of ops in the change
 */
guint
flow_change_get_n_ops (FlowChange *change)
{
  return change->end - change->start;
}

/**
 * flow_change_get_bytes:
 * @change: a change
 *
 * Encodes the ops of the change as a batch, ready to persist or to send;
 * flow_doc_apply() on any replica applies it. The encoding is made once and
 * shared by every caller.
 *
 * Returns: (transfer none): the encoded batch
 */
GBytes *
flow_change_get_bytes (FlowChange *change)
{
  if (change->bytes == NULL)
    {
      FlowLvRange range = { change->start, change->end };

      change->bytes = _flow_doc_encode_ranges (change->doc, &range, 1, FALSE);
    }
  return change->bytes;
}

/**
 * flow_change_get_first_op:
 * @change: a change
 *
 * Returns: (transfer none): the id of the change's first op; its replica
 *   made the change
 */
const FlowOpId *
flow_change_get_first_op (FlowChange *change)
{
  return &change->first;
}

/**
 * flow_change_get_text_edits:
 * @change: a change of a page
 * @n_edits: (out): the number of edits
 *
 * The edits of the change, as they changed the visible text.
 *
 * Returns: (transfer none) (array length=n_edits): the visible text edits,
 *   to apply in order
 */
const FlowTextEdit *
flow_change_get_text_edits (FlowChange *change,
                            guint      *n_edits)
{
  *n_edits = change->n_edits;
  return change->n_edits ? change->edits : NULL;
}

/**
 * flow_change_get_entities:
 * @change: a change of a board or the catalog
 * @n_entities: (out): how many
 *
 * Returns: (transfer none) (array length=n_entities): the ids of the shapes
 *   or documents whose properties changed, each once
 */
const FlowOpId *
flow_change_get_entities (FlowChange *change,
                          guint      *n_entities)
{
  *n_entities = change->entities ? change->entities->len : 0;
  return *n_entities > 0 ? (const FlowOpId *) (gpointer) change->entities->data : NULL;
}

/* ------------------------------------------------------------------------
 * Changes
 * ------------------------------------------------------------------------ */

typedef struct
{
  guint          id;
  FlowChangeFunc func;
  gpointer       data;
  GDestroyNotify destroy;
} ChangeFunc;

typedef struct
{
  guint          id;
  FlowBurstFunc  func;
  gpointer       data;
  GDestroyNotify destroy;
} BurstFunc;

static void
burst_func_clear (gpointer data)
{
  BurstFunc *bf = data;

  if (bf->destroy)
    bf->destroy (bf->data);
}


static void
change_func_clear (gpointer data)
{
  ChangeFunc *cf = data;

  if (cf->destroy)
    cf->destroy (cf->data);
}

void
_flow_doc_begin_change (FlowDoc  *self,
                        gboolean  local)
{
  if (self->change_depth++ > 0)
    {
      g_assert (self->change_local == local);
      return;
    }

  self->change_start = self->log->len;
  self->change_local = local;
  if (local)
    {
      self->change_time = self->clock (self->clock_data);
      flow_undo_begin (self->undo, self->change_time);
    }
  /* What the edits did to the visible text is only worth working out
   * (remote edits need positions from the tree) for a listener. */
  self->change_details = self->change_funcs->len > 0;
  flow_array_clear (self->deltas);
  flow_array_clear (self->touched);
}

static FlowChange *
build_change (FlowDoc *self)
{
  FlowChange *change;
  gsize text_len = 0;
  guint n = self->deltas->len;
  char *p;

  /* One block: the change, its edits, then their inserted text (copied,
   * since the content arena may move later). */
  gsize size;

  for (guint i = 0; i < n; i++)
    text_len += g_array_index (self->deltas, FlowTextDelta, i).bytes;
  size = sizeof (FlowChange) + n * sizeof (FlowTextEdit) + text_len;

  change = g_steal_pointer (&self->spare_change);
  if (change != NULL && change->size < size)
    g_clear_pointer (&change, flow_change_unref);
  if (change == NULL)
    {
      change = g_malloc0 (size);
      change->size = size;
      g_atomic_ref_count_init (&change->ref_count);
    }
  change->edits = (FlowTextEdit *) (gpointer) (change + 1);
  change->n_edits = n;
  p = (char *) (change->edits + n);

  change->doc = self;
  change->owns_doc = FALSE;
  change->start = self->change_start;
  change->end = self->log->len;
  change->first = flow_oplog_lv_to_op_id (self->log, self->change_start);
  change->local = self->change_local;

  for (guint i = 0; i < n; i++)
    {
      const FlowTextDelta *d = &g_array_index (self->deltas, FlowTextDelta, i);
      FlowTextEdit *edit = &change->edits[i];

      edit->pos = d->pos;
      edit->removed = d->removed;
      edit->inserted_chars = d->inserted;
      edit->inserted_len = d->bytes;
      if (d->inserted > 0)
        {
          memcpy (p, flow_text_content (self->text, d->off), d->bytes);
          edit->inserted = p;
          p += d->bytes;
        }
    }

  if (self->touched->len > 0)
    {
      if (change->entities == NULL)
        change->entities = g_array_new (FALSE, FALSE, sizeof (FlowOpId));
      for (guint i = 0; i < self->touched->len; i++)
        {
          FlowLv lv = g_array_index (self->touched, FlowLv, i);
          FlowOpId id = flow_oplog_lv_to_op_id (self->log, lv);
          gboolean seen = FALSE;

          /* Changes touch few entities; a scan beats a hash table. */
          for (guint j = 0; j < change->entities->len && !seen; j++)
            seen = flow_op_id_equal (&g_array_index (change->entities, FlowOpId, j), &id);
          if (!seen)
            g_array_append_val (change->entities, id);
        }
    }

  return change;
}

/* Ends the document's use of @change: keeps it as the spare if nobody
 * else holds it, otherwise lets it own a ref to the document. */
static void
release_change (FlowDoc    *self,
                FlowChange *change)
{
  if (g_atomic_ref_count_compare (&change->ref_count, 1))
    {
      g_clear_pointer (&change->bytes, g_bytes_unref);
      if (change->entities != NULL)
        flow_array_clear (change->entities);
      g_clear_pointer (&self->spare_change, flow_change_unref);
      self->spare_change = change;
      return;
    }
  change->doc = g_object_ref (self);
  change->owns_doc = TRUE;
  flow_change_unref (change);
}

void
_flow_doc_end_change (FlowDoc *self)
{
  gboolean local;

  g_assert (self->change_depth > 0);
  if (--self->change_depth > 0)
    return;

  local = self->change_local;
  if (local)
    flow_undo_commit (self->undo, self->change_time);

  if (self->log->len > self->change_start && self->change_funcs->len > 0)
    {
      FlowChange *change = build_change (self);

      /* A listener may remove itself: iterate over a copy. */
      guint n = self->change_funcs->len;
      ChangeFunc stack[4];
      g_autofree ChangeFunc *heap = n > G_N_ELEMENTS (stack) ? g_new (ChangeFunc, n) : NULL;
      ChangeFunc *funcs = heap ? heap : stack;

      if (n > 0)
        memcpy (funcs, self->change_funcs->data, n * sizeof (ChangeFunc));
      for (guint i = 0; i < n; i++)
        funcs[i].func (self, change, funcs[i].data);
      release_change (self, change);
    }
}

void
_flow_doc_touch (FlowDoc *self,
                 FlowLv   entity)
{
  if (self->change_details)
    g_array_append_val (self->touched, entity);
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

/* Undo grouping needs only coarse time, and the coarse clock costs a
 * fraction of the precise one on every edit. */
static gint64
default_clock (gpointer data)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_MONOTONIC_COARSE, &ts) != 0)
    return g_get_monotonic_time ();
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static void
flow_doc_finalize (GObject *object)
{
  FlowDoc *self = FLOW_DOC (object);

  g_clear_pointer (&self->text, flow_text_free);
  g_clear_pointer (&self->map, flow_map_free);
  g_clear_pointer (&self->log, flow_oplog_free);
  g_clear_pointer (&self->undo, flow_undo_free);
  g_clear_pointer (&self->rand, g_rand_free);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->deltas, g_array_unref);
  g_clear_pointer (&self->touched, g_array_unref);
  g_clear_pointer (&self->agent_map, g_array_unref);
  g_clear_pointer (&self->scratch_ranges, g_array_unref);
  g_clear_pointer (&self->change_funcs, g_array_unref);
  g_clear_pointer (&self->burst_funcs, g_array_unref);
  g_clear_pointer (&self->enc_agents, g_array_unref);
  g_clear_pointer (&self->spare_change, flow_change_unref);
  flow_buf_clear (&self->enc_graph);
  flow_buf_clear (&self->enc_payload);
  flow_buf_clear (&self->enc_runs);
  flow_buf_clear (&self->enc_content);
  flow_buf_clear (&self->enc_chunks);
  flow_batch_clear (&self->scratch);
  if (self->clock_destroy)
    self->clock_destroy (self->clock_data);

  G_OBJECT_CLASS (flow_doc_parent_class)->finalize (object);
}

static void
flow_doc_class_init (FlowDocClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = flow_doc_finalize;
}

static void
flow_doc_init (FlowDoc *self)
{
  self->log = flow_oplog_new ();
  self->undo = flow_undo_new ();
  /* Seeded from GLib's global generator (itself seeded from the system),
   * so a test that calls g_random_set_seed() gets the same z-order jitter
   * on every run: the sync simulation relies on it to be reproducible. */
  self->rand = g_rand_new_with_seed (g_random_int ());
  self->clock = default_clock;
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  self->deltas = g_array_sized_new (FALSE, FALSE, sizeof (FlowTextDelta), FLOW_SCRATCH_RESERVED);
  self->touched = g_array_sized_new (FALSE, FALSE, sizeof (FlowLv), FLOW_SCRATCH_RESERVED);
  self->agent_map = g_array_new (FALSE, TRUE, sizeof (guint32));
  self->scratch_ranges = g_array_sized_new (FALSE, FALSE, sizeof (FlowLvRange), FLOW_SCRATCH_RESERVED);
  self->change_funcs = g_array_new (FALSE, FALSE, sizeof (ChangeFunc));
  g_array_set_clear_func (self->change_funcs, change_func_clear);
  self->burst_funcs = g_array_new (FALSE, FALSE, sizeof (BurstFunc));
  g_array_set_clear_func (self->burst_funcs, burst_func_clear);
  self->enc_agents = g_array_new (FALSE, FALSE, sizeof (FlowReplicaId));
  flow_buf_init (&self->enc_graph, 64);
  flow_buf_init (&self->enc_payload, 64);
  flow_buf_init (&self->enc_runs, 64);
  flow_buf_init (&self->enc_content, 64);
  flow_buf_init (&self->enc_chunks, 64);
  flow_batch_init (&self->scratch);
}

/* ------------------------------------------------------------------------
 * Construction, identity, versions
 * ------------------------------------------------------------------------ */

/**
 * flow_doc_new:
 * @kind: the kind of document
 * @id: its id (the catalog op that created it; zero for the catalog)
 * @replica: the id of this replica
 *
 * Creates an empty document.
 *
 * Returns: (transfer full): a new document
 */
FlowDoc *
flow_doc_new (FlowDocKind     kind,
              const FlowOpId *id,
              FlowReplicaId   replica)
{
  FlowDoc *self;

  g_return_val_if_fail (kind <= FLOW_DOC_KIND_LAST, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  self = g_object_new (FLOW_TYPE_DOC, NULL);
  self->kind = kind;
  self->id = *id;
  self->replica = replica;
  self->agent = flow_oplog_agent (self->log, replica);

  switch (kind)
    {
    case FLOW_DOC_KIND_PAGE:
      self->text = flow_text_new (self->log);
      break;
    case FLOW_DOC_KIND_BOARD:
      self->map = flow_map_new (self->log, &flow_board_schema);
      break;
    case FLOW_DOC_KIND_CATALOG:
      self->map = flow_map_new (self->log, &flow_catalog_schema);
      break;
    case FLOW_DOC_KIND_CHAT:
      self->map = flow_map_new (self->log, &flow_chat_schema);
      break;
    default:
      g_assert_not_reached ();
    }

  return self;
}

/**
 * flow_doc_load:
 * @bytes: a document encoded by flow_doc_encode()
 * @replica: the id of this replica
 * @error: return location for a #GError
 *
 * Loads a document and its whole history.
 *
 * This is for the document's own snapshots. A page takes its text order
 * from the TEXT_ORDER chunk instead of merging every insert again, which
 * is what makes loading fast; the order is checked for shape (every insert
 * exactly once) but trusted beyond that, and the CRC guards it against
 * damage. Bytes from a peer go through flow_doc_apply(), which merges
 * every insert by its origins and so cannot be steered into another order.
 *
 * Returns: (transfer full) (nullable): the document, or %NULL with @error set
 */
FlowDoc *
flow_doc_load (GBytes         *bytes,
               FlowReplicaId   replica,
               GError        **error)
{
  g_autoptr(FlowDoc) self = NULL;
  FlowBatch batch;
  gsize len;
  const guint8 *data;
  gboolean ok;

  g_return_val_if_fail (bytes != NULL, NULL);

  data = g_bytes_get_data (bytes, &len);
  flow_batch_init (&batch);
  if (!flow_batch_decode (&batch, data, len, error))
    {
      flow_batch_clear (&batch);
      return NULL;
    }
  if (!(batch.flags & FLOW_BATCH_FLAG_FULL) || !batch.has_doc_id)
    {
      flow_batch_clear (&batch);
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED,
                           "This is a batch of changes, not a whole document");
      return NULL;
    }

  self = flow_doc_new (batch.kind, &batch.doc_id, replica);
  ok = _flow_doc_load_full (self, &batch, error);
  flow_batch_clear (&batch);
  return ok ? g_steal_pointer (&self) : NULL;
}

FlowDocKind
flow_doc_get_kind (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FLOW_DOC_KIND_PAGE);

  return self->kind;
}

/**
 * flow_doc_get_id:
 * @self: a document
 *
 * Returns: (transfer none): the document's id
 */
const FlowOpId *
flow_doc_get_id (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);

  return &self->id;
}

FlowReplicaId
flow_doc_get_replica (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), 0);

  return self->replica;
}

/**
 * flow_doc_is_read_only:
 * @self: a document
 *
 * Returns: whether local edits of @self are refused, as for an earlier
 *   version from flow_doc_checkout()
 */
gboolean
flow_doc_is_read_only (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);

  return self->read_only;
}

/**
 * flow_doc_get_n_ops:
 * @self: a document
 *
 * Returns: how many ops the document's history holds
 */
guint64
flow_doc_get_n_ops (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), 0);

  return self->log->len;
}

/**
 * flow_doc_get_next_seq:
 * @self: a document
 *
 * Returns: the seq of the next op this replica will make
 */
guint64
flow_doc_get_next_seq (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), 0);

  return flow_oplog_next_seq (self->log, self->agent);
}

/**
 * flow_doc_dup_version:
 * @self: a document
 *
 * Returns: (transfer full): the version vector of the current state
 */
FlowVersionVector *
flow_doc_dup_version (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);

  return flow_oplog_version (self->log);
}

/**
 * flow_doc_dup_version_at:
 * @self: a document
 * @n_ops: a number of ops, at most flow_doc_get_n_ops()
 *
 * The version made of the first @n_ops ops in the order this replica
 * applied them. Every such prefix is a state the document really had here,
 * which is what a history view steps through.
 *
 * Returns: (transfer full): the version vector
 */
FlowVersionVector *
flow_doc_dup_version_at (FlowDoc *self,
                         guint64  n_ops)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (n_ops <= self->log->len, NULL);

  return flow_oplog_version_at (self->log, (FlowLv) n_ops);
}

/**
 * flow_doc_add_change_func:
 * @self: a document
 * @func: called after every change
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the observer goes
 *
 * Adds an observer of changes: called once per local edit group (see
 * flow_doc_begin_change()) and once per applied remote batch, in the
 * order the funcs were added. The store persists and the sync layer sends
 * every change this way, and views follow the text.
 *
 * Returns: an id for flow_doc_remove_change_func()
 */
guint
flow_doc_add_change_func (FlowDoc        *self,
                          FlowChangeFunc  func,
                          gpointer        user_data,
                          GDestroyNotify  destroy)
{
  ChangeFunc cf;

  g_return_val_if_fail (FLOW_IS_DOC (self), 0);
  g_return_val_if_fail (func != NULL, 0);
  g_return_val_if_fail (self->change_depth == 0, 0);

  cf.id = ++self->next_change_func;
  cf.func = func;
  cf.data = user_data;
  cf.destroy = destroy;
  g_array_append_val (self->change_funcs, cf);
  return cf.id;
}

/**
 * flow_doc_remove_change_func:
 * @self: a document
 * @id: an id from flow_doc_add_change_func()
 */
void
flow_doc_remove_change_func (FlowDoc *self,
                             guint    id)
{
  g_return_if_fail (FLOW_IS_DOC (self));
  g_return_if_fail (self->change_depth == 0);

  for (guint i = 0; i < self->change_funcs->len; i++)
    if (g_array_index (self->change_funcs, ChangeFunc, i).id == id)
      {
        g_array_remove_index (self->change_funcs, i);
        return;
      }
  g_critical ("%s: no change func with id %u", G_STRFUNC, id);
}

/* ------------------------------------------------------------------------
 * Bursts
 *
 * A burst brackets many changes made in one go without the main loop
 * running in between: a sync layer applying a main-loop turn's worth of
 * incoming messages, a catch-up. Change funcs still see every change as it
 * happens (the store persists each one); burst funcs let views defer what
 * is costly per change, such as a text buffer's updates, to the burst's
 * end, where consecutive edits merge. Bursts nest; observers see only the
 * outermost begin and end.
 * ------------------------------------------------------------------------ */

static void
notify_burst (FlowDoc  *self,
              gboolean  starting)
{
  guint n = self->burst_funcs->len;
  g_autofree BurstFunc *funcs = NULL;

  if (n == 0)
    return;
  /* A copy, so observers may remove themselves. */
  funcs = g_memdup2 (self->burst_funcs->data, n * sizeof (BurstFunc));
  for (guint i = 0; i < n; i++)
    funcs[i].func (self, starting, funcs[i].data);
}

/**
 * flow_doc_add_burst_func:
 * @self: a document
 * @func: called when a burst begins and ends
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the func is removed
 *
 * Returns: an id for flow_doc_remove_burst_func()
 */
guint
flow_doc_add_burst_func (FlowDoc        *self,
                         FlowBurstFunc   func,
                         gpointer        user_data,
                         GDestroyNotify  destroy)
{
  BurstFunc bf;

  g_return_val_if_fail (FLOW_IS_DOC (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  bf.id = ++self->next_change_func;
  bf.func = func;
  bf.data = user_data;
  bf.destroy = destroy;
  g_array_append_val (self->burst_funcs, bf);
  return bf.id;
}

/**
 * flow_doc_remove_burst_func:
 * @self: a document
 * @id: an id from flow_doc_add_burst_func()
 */
void
flow_doc_remove_burst_func (FlowDoc *self,
                            guint    id)
{
  g_return_if_fail (FLOW_IS_DOC (self));

  for (guint i = 0; i < self->burst_funcs->len; i++)
    if (g_array_index (self->burst_funcs, BurstFunc, i).id == id)
      {
        g_array_remove_index (self->burst_funcs, i);
        return;
      }
  g_critical ("%s: no burst func with id %u", G_STRFUNC, id);
}

/**
 * flow_doc_begin_burst:
 * @self: a document
 *
 * Starts a burst of changes. The caller must not run the main loop until
 * the matching flow_doc_end_burst().
 */
void
flow_doc_begin_burst (FlowDoc *self)
{
  g_return_if_fail (FLOW_IS_DOC (self));

  if (self->burst_depth++ == 0)
    notify_burst (self, TRUE);
}

/**
 * flow_doc_end_burst:
 * @self: a document
 */
void
flow_doc_end_burst (FlowDoc *self)
{
  g_return_if_fail (FLOW_IS_DOC (self));
  g_return_if_fail (self->burst_depth > 0);

  if (--self->burst_depth == 0)
    notify_burst (self, FALSE);
}

/**
 * flow_doc_in_burst:
 * @self: a document
 *
 * Returns: whether a burst is running
 */
gboolean
flow_doc_in_burst (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);

  return self->burst_depth > 0;
}

/**
 * flow_doc_set_clock:
 * @self: a document
 * @func: (nullable): a monotonic clock, or %NULL for the system's
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data
 *
 * Sets the clock that groups edits into undo steps; tests inject their own.
 */
void
flow_doc_set_clock (FlowDoc        *self,
                    FlowClockFunc   func,
                    gpointer        user_data,
                    GDestroyNotify  destroy)
{
  g_return_if_fail (FLOW_IS_DOC (self));

  if (self->clock_destroy)
    self->clock_destroy (self->clock_data);
  self->clock = func ? func : default_clock;
  self->clock_data = func ? user_data : NULL;
  self->clock_destroy = func ? destroy : NULL;
}

/**
 * flow_doc_get_memory_size:
 * @self: a document
 *
 * Returns: an estimate of the heap memory the document uses, in bytes
 */
gsize
flow_doc_get_memory_size (FlowDoc *self)
{
  gsize total;

  g_return_val_if_fail (FLOW_IS_DOC (self), 0);

  total = sizeof *self + flow_oplog_memory (self->log);
  if (self->text)
    total += flow_text_memory (self->text);
  if (self->map)
    total += flow_map_memory (self->map);
  return total;
}

/* ------------------------------------------------------------------------
 * Encoding, applying, time travel
 * ------------------------------------------------------------------------ */

/**
 * flow_doc_encode:
 * @self: a document
 *
 * Encodes the whole document: its id, every op, and the current order of
 * its text, so flow_doc_load() needs no merging. The ops go in a canonical
 * order: replicas holding the same ops produce the same bytes.
 *
 * Returns: (transfer full): the encoding
 */
/* The ops that ops [start, end) refer to in their payload. */
static void
payload_refs (gpointer  data,
              FlowLv    start,
              FlowLv    end,
              GArray   *lvs)
{
  FlowDoc *self = data;

  if (self->text != NULL)
    {
      FlowLv lv = start;

      while (lv < end)
        {
          const FlowTextOp *op = flow_text_find_op (self->text, lv);
          FlowLv op_end = MIN (end, op->lv + op->len);

          if (op->kind == FLOW_TEXT_OP_INSERT)
            {
              /* Later chars of a run refer to the char before them. */
              FlowLv ol = lv == op->lv ? op->a : lv - 1;

              if (ol != FLOW_LV_NONE)
                g_array_append_val (lvs, ol);
              if (op->b != FLOW_LV_NONE)
                g_array_append_val (lvs, op->b);
            }
          else
            {
              /* The targets are a run of LVs; name both ends and let the
               * ranges between be covered by the segments they span. */
              guint32 k0 = lv - op->lv;
              guint32 k1 = op_end - 1 - op->lv;
              FlowLv a = op->reversed ? op->a - k1 : op->a + k0;
              FlowLv b = op->reversed ? op->a - k0 : op->a + k1;

              for (FlowLv t = a; t <= b; )
                {
                  FlowLv seg_end = MIN (flow_oplog_agent_run_end (self->log, t),
                                        flow_oplog_graph_run_end (self->log, t));

                  g_array_append_val (lvs, t);
                  t = seg_end;
                }
            }
          lv = op_end;
        }
    }
  else
    for (FlowLv lv = start; lv < end; lv++)
      {
        const FlowMapOp *op = flow_map_get_op (self->map, lv);

        if (op->kind != FLOW_MAP_OP_SET)
          continue;
        g_array_append_val (lvs, op->entity);
        if (flow_value_get_value_type (op->value) == FLOW_VALUE_REF)
          {
            FlowLv ref = flow_oplog_op_id_to_lv (self->log, flow_value_get_ref (op->value));

            if (ref != FLOW_LV_NONE)
              g_array_append_val (lvs, ref);
          }
      }
}

GBytes *
flow_doc_encode (FlowDoc *self)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);

  /* A canonical order, so replicas with the same ops encode the same bytes. */
  flow_oplog_canonical_order (self->log, payload_refs, self, ranges);
  return _flow_doc_encode_ranges (self, (const FlowLvRange *) (gpointer) ranges->data,
                                  ranges->len, TRUE);
}

/**
 * flow_doc_encode_since:
 * @self: a document
 * @version: (nullable): what the receiver has; %NULL for nothing
 *
 * Encodes every op that @version lacks, in causal order: the answer to a
 * peer's version vector.
 *
 * Returns: (transfer full) (nullable): the batch, or %NULL if @version
 *   already has every op
 */
GBytes *
flow_doc_encode_since (FlowDoc                 *self,
                       const FlowVersionVector *version)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));
  g_autoptr(FlowVersionVector) empty = NULL;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);

  if (version == NULL)
    version = empty = flow_version_vector_new ();
  flow_oplog_missing_ranges (self->log, version, ranges);
  if (ranges->len == 0)
    return NULL;
  return _flow_doc_encode_ranges (self, (const FlowLvRange *) (gpointer) ranges->data,
                                  ranges->len, FALSE);
}

static gint
lv_range_cmp (gconstpointer a,
              gconstpointer b)
{
  const FlowLvRange *x = a;
  const FlowLvRange *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

/*
 * The LV ranges of the ops with from[r] <= seq < to[r], in LV order. Per
 * replica we binary-search its seq runs for from[r], so bringing a replica
 * up by a few ops costs O(log n), not a scan of the whole log.
 */
static void
ranges_between (FlowDoc                 *self,
                const FlowVersionVector *from,
                const FlowVersionVector *to,
                GArray                  *ranges)
{
  FlowOpLog *log = self->log;
  guint n = flow_version_vector_get_n_replicas (to);
  guint first = ranges->len;

  for (guint i = 0; i < n; i++)
    {
      FlowReplicaId replica;
      guint64 hi;
      guint64 lo;
      guint32 agent;
      GArray *runs;
      guint a = 0;
      guint b;

      flow_version_vector_get_nth (to, i, &replica, &hi);
      lo = from ? flow_version_vector_get (from, replica) : 0;
      if (lo >= hi || !flow_oplog_find_agent (log, replica, &agent))
        continue;

      runs = g_ptr_array_index (log->seq_runs, agent);
      b = runs->len;
      while (a < b)
        {
          guint mid = a + (b - a) / 2;
          const FlowSeqRun *run = &g_array_index (runs, FlowSeqRun, mid);

          if (run->seq + run->len <= lo)
            a = mid + 1;
          else
            b = mid;
        }
      for (; a < runs->len; a++)
        {
          const FlowSeqRun *run = &g_array_index (runs, FlowSeqRun, a);
          guint64 s = MAX (lo, run->seq);
          guint64 e = MIN (hi, run->seq + run->len);
          FlowLvRange r;

          if (run->seq >= hi)
            break;
          r.start = run->lv + (FlowLv) (s - run->seq);
          r.end = run->lv + (FlowLv) (e - run->seq);
          g_array_append_val (ranges, r);
        }
    }

  if (ranges->len - first > 1)
    {
      guint out = first;

      qsort (&g_array_index (ranges, FlowLvRange, first), ranges->len - first,
             sizeof (FlowLvRange), lv_range_cmp);
      for (guint i = first + 1; i < ranges->len; i++)
        {
          FlowLvRange *prev = &g_array_index (ranges, FlowLvRange, out);
          const FlowLvRange *cur = &g_array_index (ranges, FlowLvRange, i);

          if (prev->end == cur->start)
            prev->end = cur->end;
          else
            g_array_index (ranges, FlowLvRange, ++out) = *cur;
        }
      g_array_set_size (ranges, out + 1);
    }
}

/**
 * flow_doc_encode_between:
 * @self: a document
 * @from: (nullable): what the receiver has; %NULL for nothing
 * @to: the version the receiver should reach; it must be causally closed
 *
 * Encodes the ops of @to that @from lacks and that this document has, in
 * causal order. Useful to bring a replica to a given version rather than
 * to everything we know.
 *
 * Returns: (transfer full) (nullable): the batch, or %NULL if there is
 *   nothing to send
 */
GBytes *
flow_doc_encode_between (FlowDoc                 *self,
                         const FlowVersionVector *from,
                         const FlowVersionVector *to)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (to != NULL, NULL);

  ranges_between (self, from, to, ranges);
  if (ranges->len == 0)
    return NULL;
  return _flow_doc_encode_ranges (self, (const FlowLvRange *) (gpointer) ranges->data,
                                  ranges->len, FALSE);
}

static void
pending_add (FlowDoc *self,
             GBytes  *bytes)
{
  self->pending_bytes += g_bytes_get_size (bytes);
  g_ptr_array_add (self->pending, g_bytes_ref (bytes));
  while (self->pending_bytes > MAX_PENDING_BYTES && self->pending->len > 1)
    {
      self->pending_bytes -= g_bytes_get_size (g_ptr_array_index (self->pending, 0));
      g_ptr_array_remove_index (self->pending, 0);
    }
}

/* Applies one encoded batch as one change. *blocked says it (or part of it)
 * waits for missing ops. */
static gboolean
apply_one (FlowDoc   *self,
           GBytes    *bytes,
           gboolean  *blocked,
           GError   **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  gboolean ok;

  *blocked = FALSE;
  if (!flow_batch_decode (&self->scratch, data, len, error))
    return FALSE;
  if (self->scratch.kind != self->kind)
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND,
                   "Changes for a %s cannot be applied to a %s",
                   flow_doc_kind_to_string (self->scratch.kind),
                   flow_doc_kind_to_string (self->kind));
      return FALSE;
    }

  _flow_doc_begin_change (self, FALSE);
  ok = _flow_doc_apply_batch (self, &self->scratch, blocked, error);
  _flow_doc_end_change (self);
  flow_batch_reset (&self->scratch);
  return ok;
}

/**
 * flow_doc_apply:
 * @self: a document
 * @batch: ops encoded by another replica (flow_change_get_bytes(),
 *   flow_doc_encode_since() or flow_doc_encode())
 * @error: return location for a #GError
 *
 * Applies remote ops. Ops we already have are ignored, so applying a batch
 * twice changes nothing. Ops whose dependencies are missing wait until those
 * arrive (see flow_doc_get_n_pending()). Malformed or inconsistent input is
 * refused with an error; ops before the bad one may have been applied, each
 * valid on its own.
 *
 * Returns: %TRUE unless @batch was refused
 */
gboolean
flow_doc_apply (FlowDoc  *self,
                GBytes   *batch,
                GError  **error)
{
  guint64 before;
  gboolean blocked;

  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (batch != NULL, FALSE);
  g_return_val_if_fail (self->change_depth == 0, FALSE);

  before = self->log->len;
  if (!apply_one (self, batch, &blocked, error))
    return FALSE;
  if (blocked)
    pending_add (self, batch);

  /* New ops may unblock waiting batches, which may unblock others. */
  while (self->log->len > before && self->pending->len > 0)
    {
      g_autoptr(GPtrArray) waiting = g_steal_pointer (&self->pending);

      self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      self->pending_bytes = 0;
      before = self->log->len;

      for (guint i = 0; i < waiting->len; i++)
        {
          GBytes *bytes = g_ptr_array_index (waiting, i);
          g_autoptr(GError) local_error = NULL;

          if (!apply_one (self, bytes, &blocked, &local_error))
            g_debug ("Dropping a waiting batch: %s", local_error->message);
          else if (blocked)
            pending_add (self, bytes);
        }
    }

  return TRUE;
}

/**
 * flow_batch_dup_version:
 * @batch: an encoded batch
 * @error: return location for a #GError
 *
 * For each replica, one past the highest seq of its ops in @batch. Merged
 * into the version a document had before @batch was applied, this is the
 * version right after it — how the store names points in a history.
 *
 * Returns: (transfer full) (nullable): the version, or %NULL if @batch is
 *   malformed
 */
FlowVersionVector *
flow_batch_dup_version (GBytes  *batch,
                        GError **error)
{
  FlowVersionVector *vv;
  FlowBatch b;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (batch != NULL, NULL);

  data = g_bytes_get_data (batch, &len);
  flow_batch_init (&b);
  if (!flow_batch_decode (&b, data, len, error))
    {
      flow_batch_clear (&b);
      return NULL;
    }
  vv = flow_version_vector_new ();
  for (guint i = 0; i < b.runs->len; i++)
    {
      const FlowBatchRun *run = &g_array_index (b.runs, FlowBatchRun, i);
      FlowReplicaId replica = g_array_index (b.agents, FlowReplicaId, run->agent);

      if (flow_version_vector_get (vv, replica) < run->seq + run->len)
        flow_version_vector_set (vv, replica, run->seq + run->len);
    }
  flow_batch_clear (&b);
  return vv;
}

/**
 * flow_doc_get_n_pending:
 * @self: a document
 *
 * Returns: the number of received batches waiting for ops they depend on
 */
guint
flow_doc_get_n_pending (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), 0);

  return self->pending->len;
}

/**
 * flow_doc_checkout:
 * @self: a document
 * @version: a version of @self, e.g. from flow_doc_dup_version_at()
 * @error: return location for a #GError
 *
 * Rebuilds the document as it was at @version by replaying its ops into a
 * fresh document (time travel). The result has the history up to @version
 * and is independent of @self.
 *
 * The result is read-only: local edits fail with
 * %FLOW_CORE_ERROR_READ_ONLY. It shares @self's replica id, so edits made
 * on it would reuse op ids that @self has already given to other ops.
 * Restoring an old version means editing @self towards it. Remote batches
 * can still be applied, since they create no ids.
 *
 * Returns: (transfer full) (nullable): the old state, or %NULL with @error
 *   set if @version is not a state of this document
 */
FlowDoc *
flow_doc_checkout (FlowDoc                 *self,
                   const FlowVersionVector *version,
                   GError                 **error)
{
  g_autoptr(GArray) ranges = g_array_new (FALSE, FALSE, sizeof (FlowLvRange));
  g_autoptr(FlowDoc) copy = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gboolean blocked = FALSE;
  FlowOpLog *log;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (version != NULL, NULL);

  log = self->log;
  if (!flow_oplog_version_is_closed (log, version))
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_VERSION,
                           "This version is not a state of the document");
      return NULL;
    }

  ranges_between (self, NULL, version, ranges);

  copy = flow_doc_new (self->kind, &self->id, self->replica);
  copy->read_only = TRUE;
  if (ranges->len == 0)
    return g_steal_pointer (&copy);

  bytes = _flow_doc_encode_ranges (self, (const FlowLvRange *) (gpointer) ranges->data,
                                   ranges->len, FALSE);
  if (!apply_one (copy, bytes, &blocked, error))
    return NULL;
  g_assert (!blocked);
  return g_steal_pointer (&copy);
}

/* ------------------------------------------------------------------------
 * Undo
 * ------------------------------------------------------------------------ */

/**
 * flow_doc_begin_change:
 * @self: a document
 *
 * Groups the local edits up to the matching flow_doc_end_change() into one
 * change: one notification of the change funcs and one undo step. Calls
 * nest.
 */
void
flow_doc_begin_change (FlowDoc *self)
{
  g_return_if_fail (FLOW_IS_DOC (self));

  _flow_doc_begin_change (self, TRUE);
}

void
flow_doc_end_change (FlowDoc *self)
{
  g_return_if_fail (FLOW_IS_DOC (self));
  g_return_if_fail (self->change_depth > 0);

  _flow_doc_end_change (self);
}

gboolean
flow_doc_can_undo (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);

  return flow_undo_can_undo (self->undo);
}

gboolean
flow_doc_can_redo (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);

  return flow_undo_can_redo (self->undo);
}

/**
 * flow_doc_undo:
 * @self: a document
 *
 * Reverts this replica's most recent edit step with new ops. Other
 * replicas' work is never removed (see flow-undo.c).
 *
 * Returns: %TRUE if something was undone
 */
gboolean
flow_doc_undo (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (self->change_depth == 0, FALSE);

  return flow_undo_run (self->undo, self, FALSE);
}

/**
 * flow_doc_redo:
 * @self: a document
 *
 * Returns: %TRUE if something was redone
 */
gboolean
flow_doc_redo (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (self->change_depth == 0, FALSE);

  return flow_undo_run (self->undo, self, TRUE);
}

/* ------------------------------------------------------------------------
 * Pages
 * ------------------------------------------------------------------------ */

static gboolean
check_kind (FlowDoc      *self,
            gboolean      want_text,
            GError      **error)
{
  if ((self->text != NULL) != want_text)
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_WRONG_KIND,
                   want_text ? "A %s has no text" : "A %s has no properties",
                   flow_doc_kind_to_string (self->kind));
      return FALSE;
    }
  if (self->read_only)
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_READ_ONLY,
                           "An earlier version of a document cannot be edited");
      return FALSE;
    }
  return TRUE;
}

/**
 * flow_doc_insert_text:
 * @self: a page
 * @pos: where to insert, in code points, at most flow_doc_get_length()
 * @text: valid UTF-8
 * @len: the length of @text in bytes, or -1 if nul-terminated
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
flow_doc_insert_text (FlowDoc     *self,
                      guint        pos,
                      const char  *text,
                      gssize       len,
                      GError     **error)
{
  guint n_chars;
  FlowLv lv;

  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  if (!check_kind (self, TRUE, error))
    return FALSE;
  if (len < 0)
    len = (gssize) strlen (text);
  /* Typing is mostly ASCII: then checking it is also counting it. */
  if (flow_is_ascii (text, (gsize) len))
    n_chars = (guint) len;
  else if (g_utf8_validate_len (text, (gsize) len, NULL))
    n_chars = (guint) g_utf8_strlen (text, len);
  else
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                           "Text must be valid UTF-8 without nul characters");
      return FALSE;
    }
  if (pos > flow_text_get_length (self->text))
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "Position %u is past the end of the text (%u characters)",
                   pos, flow_text_get_length (self->text));
      return FALSE;
    }
  if (n_chars == 0)
    return TRUE;
  if (self->log->len + (guint64) n_chars >= G_MAXUINT32 / 2)
    {
      g_set_error_literal (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                           "The document is too large");
      return FALSE;
    }

  _flow_doc_begin_change (self, TRUE);
  lv = flow_text_local_insert (self->text, self->agent, pos, text, (gsize) len, n_chars,
                               self->change_details ? self->deltas : NULL);
  flow_undo_record_text (self->undo, FLOW_UNDO_TEXT_INSERT, lv, lv + n_chars);
  _flow_doc_end_change (self);
  return TRUE;
}

/**
 * flow_doc_delete_text:
 * @self: a page
 * @pos: the first code point to delete
 * @n_chars: how many to delete
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
flow_doc_delete_text (FlowDoc  *self,
                      guint     pos,
                      guint     n_chars,
                      GError  **error)
{
  GArray *ranges = self->scratch_ranges;
  guint length;

  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);

  if (!check_kind (self, TRUE, error))
    return FALSE;
  flow_array_clear (ranges);
  length = flow_text_get_length (self->text);
  if (pos > length || n_chars > length - pos)
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "Cannot delete %u characters at %u: the text has %u", n_chars, pos, length);
      return FALSE;
    }
  if (n_chars == 0)
    return TRUE;

  _flow_doc_begin_change (self, TRUE);
  flow_text_local_delete (self->text, self->agent, pos, n_chars, ranges,
                          self->change_details ? self->deltas : NULL);
  for (guint i = 0; i < ranges->len; i++)
    {
      const FlowLvRange *r = &g_array_index (ranges, FlowLvRange, i);

      flow_undo_record_text (self->undo, FLOW_UNDO_TEXT_DELETE, r->start, r->end);
    }
  _flow_doc_end_change (self);
  return TRUE;
}

/**
 * flow_doc_dup_text:
 * @self: a page
 *
 * Returns: (transfer full): the text, UTF-8
 */
char *
flow_doc_dup_text (FlowDoc *self)
{
  GString *out;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->text != NULL, NULL);

  out = g_string_new (NULL);
  flow_text_append_to (self->text, out);
  return g_string_free (out, FALSE);
}

/**
 * flow_doc_get_length:
 * @self: a page
 *
 * Returns: the length of the text in code points
 */
guint
flow_doc_get_length (FlowDoc *self)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), 0);
  g_return_val_if_fail (self->text != NULL, 0);

  return flow_text_get_length (self->text);
}

/* ------------------------------------------------------------------------
 * Boards and the catalog
 * ------------------------------------------------------------------------ */

FlowLv
_flow_doc_entity_lv (FlowDoc        *self,
                     const FlowOpId *id)
{
  FlowLv lv = flow_oplog_op_id_to_lv (self->log, id);

  if (lv == FLOW_LV_NONE || flow_map_get_entity (self->map, lv) == NULL)
    return FLOW_LV_NONE;
  return lv;
}

/* Writes entity.key locally, recording how to undo it. */
gboolean
_flow_doc_set_property (FlowDoc   *self,
                        FlowLv     entity,
                        guint32    key,
                        FlowValue *value,
                        FlowLv    *lv_out)
{
  FlowEntity *e = flow_map_get_entity (self->map, entity);
  const FlowProp *prop = flow_map_get_prop (e, key);
  g_autoptr(FlowValue) old = prop ? flow_value_ref (prop->value) : NULL;
  FlowLv old_op = prop ? prop->winner : FLOW_LV_NONE;
  FlowLv lv;

  _flow_doc_begin_change (self, TRUE);
  lv = flow_oplog_push_local (self->log, self->agent, 1);
  flow_map_apply_set (self->map, lv, entity, key, value);
  flow_undo_record_map_set (self->undo, entity, key, old, old_op, lv);
  _flow_doc_touch (self, entity);
  _flow_doc_end_change (self);

  if (lv_out)
    *lv_out = lv;
  return TRUE;
}

/**
 * flow_doc_create_entity:
 * @self: a board or the catalog
 * @kind: a shape kind ("rect", "ellipse", ...) or document kind ("page",
 *   "board")
 * @id: (out) (optional): the new entity's id
 * @error: return location for a #GError
 *
 * Creates a shape or a catalog entry. Set its properties in the same change
 * (flow_doc_begin_change()) so peers see it complete.
 *
 * Returns: %TRUE on success
 */
gboolean
flow_doc_create_entity (FlowDoc     *self,
                        const char  *kind,
                        FlowOpId    *id,
                        GError     **error)
{
  FlowLv lv;

  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  if (!check_kind (self, FALSE, error) || !flow_map_check_kind (self->map, kind, error))
    return FALSE;

  _flow_doc_begin_change (self, TRUE);
  lv = flow_oplog_push_local (self->log, self->agent, 1);
  flow_map_apply_create (self->map, lv, flow_map_intern (self->map, kind));
  flow_undo_record_map_set (self->undo, lv, flow_map_deleted_key (self->map), NULL, FLOW_LV_NONE,
                            lv);
  _flow_doc_touch (self, lv);
  _flow_doc_end_change (self);

  if (id)
    *id = flow_oplog_lv_to_op_id (self->log, lv);
  return TRUE;
}

/**
 * flow_doc_set_property:
 * @self: a board or the catalog
 * @entity: the id of a shape or catalog entry
 * @key: a property name, such as "x" or "title"
 * @value: the new value; a null value unsets the property
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success
 */
gboolean
flow_doc_set_property (FlowDoc         *self,
                       const FlowOpId  *entity,
                       const char      *key,
                       FlowValue       *value,
                       GError         **error)
{
  FlowLv lv;

  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (entity != NULL && key != NULL && value != NULL, FALSE);

  if (!check_kind (self, FALSE, error) || !flow_map_check_set (self->map, key, value, error))
    return FALSE;
  lv = _flow_doc_entity_lv (self, entity);
  if (lv == FLOW_LV_NONE)
    {
      g_autofree char *s = flow_op_id_to_string (entity);

      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "There is no item %s in this document", s);
      return FALSE;
    }
  if (flow_value_get_value_type (value) == FLOW_VALUE_REF &&
      _flow_doc_entity_lv (self, flow_value_get_ref (value)) == FLOW_LV_NONE)
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "Property “%s” refers to an item that does not exist", key);
      return FALSE;
    }

  return _flow_doc_set_property (self, lv, flow_map_intern (self->map, key), value, NULL);
}

/**
 * flow_doc_get_property:
 * @self: a board or the catalog
 * @entity: an entity id
 * @key: a property name
 *
 * Returns: (transfer none) (nullable): the current value, or %NULL if the
 *   entity does not exist or the property is unset
 */
FlowValue *
flow_doc_get_property (FlowDoc        *self,
                       const FlowOpId *entity,
                       const char     *key)
{
  FlowLv lv;
  guint32 k;
  const FlowProp *prop;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->map != NULL, NULL);

  lv = _flow_doc_entity_lv (self, entity);
  if (lv == FLOW_LV_NONE || !flow_map_lookup_string (self->map, key, &k))
    return NULL;
  prop = flow_map_get_prop (flow_map_get_entity (self->map, lv), k);
  if (prop == NULL || flow_value_get_value_type (prop->value) == FLOW_VALUE_NULL)
    return NULL;
  return prop->value;
}

/**
 * flow_doc_get_entity_kind:
 * @self: a board or the catalog
 * @entity: an entity id
 *
 * Returns: (transfer none) (nullable): the kind given at creation
 */
const char *
flow_doc_get_entity_kind (FlowDoc        *self,
                          const FlowOpId *entity)
{
  FlowLv lv;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->map != NULL, NULL);

  lv = _flow_doc_entity_lv (self, entity);
  if (lv == FLOW_LV_NONE)
    return NULL;
  return flow_map_string (self->map, flow_map_get_entity (self->map, lv)->kind);
}

/**
 * flow_doc_has_entity:
 * @self: a board or the catalog
 * @entity: an entity id
 *
 * Returns: %TRUE if the entity was ever created here (deleted or not)
 */
gboolean
flow_doc_has_entity (FlowDoc        *self,
                     const FlowOpId *entity)
{
  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (self->map != NULL, FALSE);

  return _flow_doc_entity_lv (self, entity) != FLOW_LV_NONE;
}

gboolean
flow_doc_entity_is_deleted (FlowDoc        *self,
                            const FlowOpId *entity)
{
  FlowLv lv;

  g_return_val_if_fail (FLOW_IS_DOC (self), FALSE);
  g_return_val_if_fail (self->map != NULL, FALSE);

  lv = _flow_doc_entity_lv (self, entity);
  return lv == FLOW_LV_NONE || flow_map_get_entity (self->map, lv)->deleted;
}

static GArray *
lvs_to_ids (FlowDoc *self,
            GArray  *lvs)
{
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (FlowOpId), lvs->len);

  for (guint i = 0; i < lvs->len; i++)
    {
      FlowOpId id = flow_oplog_lv_to_op_id (self->log, g_array_index (lvs, FlowLv, i));

      g_array_append_val (ids, id);
    }
  return ids;
}

/**
 * flow_doc_list_entities:
 * @self: a board or the catalog
 * @include_deleted: whether to list deleted entities too
 *
 * Returns: (transfer full) (element-type FlowOpId): entity ids, sorted by id
 */
GArray *
flow_doc_list_entities (FlowDoc  *self,
                        gboolean  include_deleted)
{
  g_autoptr(GArray) lvs = NULL;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->map != NULL, NULL);

  lvs = flow_map_list (self->map, include_deleted);
  return lvs_to_ids (self, lvs);
}

/**
 * flow_doc_list_ordered:
 * @self: a board or the catalog
 *
 * Returns: (transfer full) (element-type FlowOpId): the live entities in
 *   their order: bottom to top for a board, catalog order for the catalog
 */
GArray *
flow_doc_list_ordered (FlowDoc *self)
{
  g_autoptr(GArray) lvs = g_array_new (FALSE, FALSE, sizeof (FlowLv));
  GSequence *order;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->map != NULL, NULL);

  order = flow_map_get_order (self->map);
  for (GSequenceIter *it = g_sequence_get_begin_iter (order);
       !g_sequence_iter_is_end (it);
       it = g_sequence_iter_next (it))
    {
      FlowEntity *e = g_sequence_get (it);

      g_array_append_val (lvs, e->lv);
    }
  return lvs_to_ids (self, lvs);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

/**
 * flow_doc_dup_property_names:
 * @self: a board or the catalog
 * @entity: an entity id
 *
 * Returns: (transfer full) (nullable): the names of the set properties,
 *   sorted
 */
char **
flow_doc_dup_property_names (FlowDoc        *self,
                             const FlowOpId *entity)
{
  GPtrArray *names;
  FlowEntity *e;
  FlowLv lv;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->map != NULL, NULL);

  lv = _flow_doc_entity_lv (self, entity);
  if (lv == FLOW_LV_NONE)
    return NULL;
  e = flow_map_get_entity (self->map, lv);
  names = g_ptr_array_new ();
  for (guint i = 0; i < e->n_props; i++)
    if (flow_value_get_value_type (e->props[i].value) != FLOW_VALUE_NULL)
      g_ptr_array_add (names, g_strdup (flow_map_string (self->map, e->props[i].key)));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return (char **) g_ptr_array_free (names, FALSE);
}

static const char *
order_key_of (FlowDoc        *self,
              const FlowOpId *id)
{
  FlowValue *v;

  if (id == NULL)
    return NULL;
  v = flow_doc_get_property (self, id, flow_map_string (self->map, flow_map_order_key (self->map)));
  return v ? flow_value_get_string (v) : NULL;
}

/**
 * flow_doc_dup_order_key_between:
 * @self: a board or the catalog
 * @below: (nullable): the entity to go above, or %NULL for the bottom
 * @above: (nullable): the entity to go below, or %NULL for the top
 *
 * Makes a fractional-index key that sorts between the keys of @below and
 * @above, with random jitter so concurrent inserts rarely collide. Write it
 * to the order property ("z" on boards, "order" in the catalog).
 *
 * Returns: (transfer full) (nullable): the key, or %NULL if none exists
 */
char *
flow_doc_dup_order_key_between (FlowDoc        *self,
                                const FlowOpId *below,
                                const FlowOpId *above)
{
  const char *a;
  const char *b;

  g_return_val_if_fail (FLOW_IS_DOC (self), NULL);
  g_return_val_if_fail (self->map != NULL, NULL);

  a = order_key_of (self, below);
  b = order_key_of (self, above);
  /* Equal keys (a collision) have nothing between them: go past one. */
  if (a != NULL && b != NULL && strcmp (a, b) >= 0)
    b = NULL;
  return flow_frac_key_between (a, b, self->rand);
}
