/* flow-store.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * FlowStore: persistence of a workspace's documents, off the caller's
 * thread.
 *
 * One writer thread owns the SQLite connection (flow-store-db.c) and runs
 * jobs from a queue in order: appends of changes, snapshots, loads, flushes.
 * FIFO order gives the guarantees we need without locks: a load sees every
 * change queued before it, a flush completes when everything before it is
 * committed, and a snapshot covers exactly the rows appended before it.
 *
 * Write-behind: tracked documents queue each change as it happens (a
 * reference to its encoded bytes; no copy). The writer commits whatever has
 * queued up in one transaction, so a burst of edits costs one commit, and
 * an edit waits for at most one commit in progress — well under the 100 ms
 * the design asks for. After each commit the owner's main context hears
 * "committed" with the sequence number of the last change made durable.
 *
 * A failed commit (a full disk, a read-only file) loses nothing: the jobs
 * stay queued, the owner hears "write-error", and the writer retries every
 * second and on every flush until it succeeds or the store is closed.
 * Meanwhile a load applies the changes still queued for its document on
 * top of what the file has, so it still sees everything queued before it.
 *
 * The store marks every document it loads with what the file holds of it
 * (Provenance), so that tracking it later can tell which of its ops the
 * file lacks (edits made while it was not tracked) and which op rows a
 * snapshot of it covers while other processes write to the same file.
 */

#define G_LOG_DOMAIN "flow-store"

#include "config.h"

#include <string.h>

#include "flow-store-private.h"

#define DEFAULT_SNAPSHOT_INTERVAL 10000
#define MAX_JOBS_PER_COMMIT       20000
#define RETRY_INTERVAL_US         (1 * G_USEC_PER_SEC)
#define IDLE_CHECKPOINT_US        (500 * G_TIME_SPAN_MILLISECOND)

typedef enum
{
  JOB_REGISTER,
  JOB_APPEND,
  JOB_SNAPSHOT,
  JOB_LOAD,
  JOB_LIST,
  JOB_HISTORY,
  JOB_VERSION,
  JOB_FLUSH,
  JOB_CLOSE,
  JOB_CALL,
  JOB_CRASH,
} JobKind;

/* One period of tracking a document, shared by its jobs: which op rows of
 * the document the FlowDoc holds (see flow_db_snapshot_row()). */
typedef struct
{
  gint64 base_row;   /* every row up to this one (set before tracking) */
  gint64 own_after;  /* and every row we stored after this one (writer) */
} Registration;

typedef struct
{
  JobKind        kind;
  char          *doc;
  FlowOpId       id;
  FlowDocKind    doc_kind;
  GBytes        *data;
  guint          n_ops;
  guint64        n_ops_total;
  FlowReplicaId  doc_replica;  /* the document's own replica... */
  guint64        next_seq;     /* ...and its next seq after this change */
  guint64        seq;
  gint64         time;
  FlowReplicaId  replica;      /* of the change's first op */
  gboolean       unknown;      /* ops of a document the store did not give out */
  Registration  *reg;
  gint64         last_row;     /* of a snapshot, once written */
  FlowStoreCallFunc call;      /* JOB_CALL: run on the writer thread */
  gpointer       call_data;
  GDestroyNotify call_destroy;
  GTask         *task;
} Job;

typedef struct
{
  FlowStore    *store;
  FlowDoc      *doc;
  char         *id;
  guint         func_id;
  guint64       since_snapshot;
  gint64        base_row;  /* reg's as tracking began; reg is the writer's now */
  Registration *reg;
} Tracked;

/* Attached to every document the store loads or stops tracking. */
typedef struct
{
  guint   store;     /* FlowStore.serial */
  guint64 n_ops;     /* its first n_ops ops (in the order applied here) are
                      * in the file or queued for it */
  gint64  base_row;  /* it holds every op row of the document up to this one */
} Provenance;

struct _FlowStore
{
  GObject        parent_instance;

  char          *path;
  guint          serial;      /* tells stores apart in Provenance */
  FlowReplicaId  replica;
  GMainContext  *context;
  GThread       *thread;
  GAsyncQueue   *queue;
  FlowDb        *db;          /* the writer thread's */
  GHashTable    *tracked;     /* FlowDoc* -> Tracked* */
  FlowIndex     *index;       /* search index upkeep (flow-store-search.c) */
  guint          snapshot_interval;
  guint64        queued;
  guint64        committed;   /* atomic */
  guint          closed : 1;

  /* Writer thread only. */
  GQueue         retry;       /* write jobs whose commit failed */
  gboolean       failing;
};

enum {
  COMMITTED,
  WRITE_ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (FlowStore, flow_store, G_TYPE_OBJECT)
G_DEFINE_QUARK (flow-store-error-quark, flow_store_error)

static GQuark
provenance_quark (void)
{
  return g_quark_from_static_string ("flow-store-provenance");
}

static Registration *
registration_new (gint64 base_row)
{
  Registration *reg = g_atomic_rc_box_new0 (Registration);

  reg->base_row = base_row;
  /* Until the writer registers the document, no row counts as ours. */
  reg->own_after = G_MAXINT64;
  return reg;
}

static void
registration_unref (Registration *reg)
{
  g_atomic_rc_box_release (reg);
}

/* ------------------------------------------------------------------------
 * Jobs
 * ------------------------------------------------------------------------ */

static Job *
job_new (JobKind kind)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  return job;
}

static void
job_free (Job *job)
{
  g_free (job->doc);
  g_clear_pointer (&job->data, g_bytes_unref);
  g_clear_pointer (&job->reg, registration_unref);
  if (job->call_destroy != NULL)
    job->call_destroy (job->call_data);
  g_clear_object (&job->task);
  g_free (job);
}

static gboolean
is_write (const Job *job)
{
  return job->kind == JOB_REGISTER || job->kind == JOB_APPEND || job->kind == JOB_SNAPSHOT;
}

/* ------------------------------------------------------------------------
 * Writer thread
 * ------------------------------------------------------------------------ */

typedef struct
{
  FlowStore *store;
  guint64    committed;
  GError    *error;
} Notify;

static void
notify_free (gpointer data)
{
  Notify *n = data;

  g_object_unref (n->store);
  g_clear_error (&n->error);
  g_free (n);
}

static gboolean
notify_cb (gpointer data)
{
  Notify *n = data;

  if (n->error != NULL)
    g_signal_emit (n->store, signals[WRITE_ERROR], 0, n->error);
  else
    g_signal_emit (n->store, signals[COMMITTED], 0, n->committed);
  return G_SOURCE_REMOVE;
}

static void
notify (FlowStore *self,
        guint64    committed,
        GError    *error)
{
  Notify *n = g_new0 (Notify, 1);

  n->store = g_object_ref (self);
  n->committed = committed;
  n->error = error ? g_error_copy (error) : NULL;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, notify_cb, n, notify_free);
}

/* What a transaction's appends did to one document: written once, at the
 * end of the transaction, rather than once per row. */
typedef struct
{
  const char    *doc;
  guint64        added_ops;
  FlowReplicaId  replica;
  guint64        next_seq;
} DocUpdate;

static void
note_update (GArray    *updates,
             const Job *job,
             guint      added_ops)
{
  DocUpdate u = { job->doc, added_ops, job->doc_replica, job->next_seq };

  for (guint i = 0; i < updates->len; i++)
    {
      DocUpdate *d = &g_array_index (updates, DocUpdate, i);

      if (g_str_equal (d->doc, job->doc) && d->replica == job->doc_replica)
        {
          d->added_ops += added_ops;
          d->next_seq = MAX (d->next_seq, job->next_seq);
          return;
        }
    }
  g_array_append_val (updates, u);
}

/*
 * The ops of @job (edits made before flow_store_track() of a document the
 * store did not load) that the file lacks: the file may hold some of them
 * already, and rows must not count an op twice (history versions are sums
 * of row sizes). Rare, so it may load the stored document.
 */
static gboolean
unstored_ops (FlowStore  *self,
              Job        *job,
              GBytes    **data,
              guint      *n_ops,
              GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(FlowDoc) stored = NULL;
  g_autoptr(FlowVersionVector) before = NULL;
  guint64 n_before;

  stored = flow_db_load_doc (self->db, &job->id, job->doc_kind, NULL, NULL, &local_error);
  if (stored == NULL && g_error_matches (local_error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  n_before = stored ? flow_doc_get_n_ops (stored) : 0;
  if (n_before > 0)
    before = flow_doc_dup_version (stored);
  /* Nothing stored, or nothing readable: keep every op. */
  if (n_before == 0 || !flow_doc_apply (stored, job->data, NULL))
    {
      *data = g_bytes_ref (job->data);
      *n_ops = job->n_ops;
      return TRUE;
    }
  *n_ops = (guint) (flow_doc_get_n_ops (stored) - n_before);
  *data = *n_ops > 0 ? flow_doc_encode_since (stored, before) : NULL;
  return TRUE;
}

static gboolean
run_write (FlowStore  *self,
           Job        *job,
           GArray     *updates,
           guint64    *committed,
           GError    **error)
{
  switch (job->kind)
    {
    case JOB_REGISTER:
      /* Rows we append for the document from here on are its changes. */
      if (!flow_db_last_row (self->db, job->doc, &job->reg->own_after, error))
        return FALSE;
      return flow_db_register_doc (self->db, job->doc, job->doc_kind, error);

    case JOB_APPEND:
      {
        g_autoptr(GBytes) data = job->unknown ? NULL : g_bytes_ref (job->data);
        guint n_ops = job->n_ops;
        gint64 row;

        if (job->unknown && !unstored_ops (self, job, &data, &n_ops, error))
          return FALSE;
        if (n_ops > 0 && !flow_db_append (self->db, job->doc, job->time, n_ops, job->replica,
                                          data, &row, error))
          return FALSE;
        note_update (updates, job, n_ops);
        *committed = MAX (*committed, job->seq);
        return TRUE;
      }

    case JOB_SNAPSHOT:
      return flow_db_snapshot_row (self->db, job->doc, job->reg->base_row, job->reg->own_after,
                                   &job->last_row, error) &&
             flow_db_put_snapshot (self->db, job->doc, job->last_row, job->n_ops_total, job->data,
                                   error);

    case JOB_LOAD:
    case JOB_LIST:
    case JOB_HISTORY:
    case JOB_VERSION:
    case JOB_FLUSH:
    case JOB_CLOSE:
    case JOB_CALL:
    case JOB_CRASH:
    default:
      g_assert_not_reached ();
      return FALSE;
    }
}

/* Commits every write job in self->retry in one transaction. */
static gboolean
commit_writes (FlowStore  *self,
               GError    **error)
{
  g_autoptr(GArray) updates = g_array_new (FALSE, FALSE, sizeof (DocUpdate));
  guint64 committed = 0;
  GList *l;

  if (self->retry.length == 0)
    return TRUE;

  if (!flow_db_begin (self->db, error))
    goto fail;
  for (l = self->retry.head; l != NULL; l = l->next)
    if (!run_write (self, l->data, updates, &committed, error))
      {
        flow_db_rollback (self->db);
        goto fail;
      }
  /* Op counts and next seqs go in the same transaction as the ops. */
  for (guint i = 0; i < updates->len; i++)
    {
      const DocUpdate *u = &g_array_index (updates, DocUpdate, i);

      if ((u->added_ops > 0 && !flow_db_update_doc (self->db, u->doc, u->added_ops, error)) ||
          (u->next_seq > 0 && !flow_db_update_seq (self->db, u->doc, u->replica, u->next_seq, error)))
        {
          flow_db_rollback (self->db);
          goto fail;
        }
    }
  if (!flow_db_commit (self->db, error))
    {
      flow_db_rollback (self->db);
      goto fail;
    }

  /* The document holds the rows its snapshot covers, and now that they are
   * committed their numbers are final: later snapshots need only look at
   * the rows after them. */
  for (l = self->retry.head; l != NULL; l = l->next)
    {
      Job *job = l->data;

      if (job->kind == JOB_SNAPSHOT)
        job->reg->base_row = MAX (job->reg->base_row, job->last_row);
    }
  g_queue_clear_full (&self->retry, (GDestroyNotify) job_free);
  if (committed > 0)
    {
      g_atomic_pointer_set ((gpointer *) &self->committed, GSIZE_TO_POINTER (committed));
      notify (self, committed, NULL);
    }
  self->failing = FALSE;
  return TRUE;

fail:
  /* Keep the jobs; tell the owner once per streak of failures. */
  if (!self->failing)
    notify (self, 0, *error);
  self->failing = TRUE;
  return FALSE;
}

static void
return_error (Job    *job,
              GError *error)
{
  if (job->task)
    g_task_return_error (job->task, error);
  else
    g_error_free (error);
}

static gboolean
run_other (FlowStore *self,
           Job       *job)
{
  GError *error = NULL;

  switch (job->kind)
    {
    case JOB_LOAD:
      {
        g_autofree char *id = flow_op_id_to_string (&job->id);
        g_autoptr(GPtrArray) queued = g_ptr_array_new ();
        FlowDoc *doc;
        Provenance *p;
        gint64 last_row;

        /* Changes whose commit failed are still ours to show. */
        for (GList *l = self->retry.head; l != NULL; l = l->next)
          {
            Job *w = l->data;

            if (w->kind == JOB_APPEND && g_str_equal (w->doc, id))
              g_ptr_array_add (queued, w->data);
          }

        doc = flow_db_load_doc (self->db, &job->id, job->doc_kind, queued, &last_row, &error);
        if (doc == NULL)
          {
            return_error (job, error);
            return TRUE;
          }
        p = g_new (Provenance, 1);
        p->store = self->serial;
        p->n_ops = flow_doc_get_n_ops (doc);
        p->base_row = last_row;
        g_object_set_qdata_full (G_OBJECT (doc), provenance_quark (), p, g_free);
        g_task_return_pointer (job->task, doc, g_object_unref);
      }
      return TRUE;

    case JOB_LIST:
      {
        GArray *docs = flow_db_list_docs (self->db, &error);

        if (docs == NULL)
          return_error (job, error);
        else
          g_task_return_pointer (job->task, docs, (GDestroyNotify) g_array_unref);
      }
      return TRUE;

    case JOB_HISTORY:
      {
        GArray *rows = flow_db_history (self->db, &job->id, &error);

        if (rows == NULL)
          return_error (job, error);
        else
          g_task_return_pointer (job->task, rows, (GDestroyNotify) g_array_unref);
      }
      return TRUE;

    case JOB_VERSION:
      {
        FlowVersionVector *vv = flow_db_version_at (self->db, &job->id, job->n_ops_total, &error);

        if (vv == NULL)
          return_error (job, error);
        else
          g_task_return_pointer (job->task, vv, (GDestroyNotify) flow_version_vector_free);
      }
      return TRUE;

    case JOB_FLUSH:
      if (!commit_writes (self, &error))
        return_error (job, error);
      else
        g_task_return_boolean (job->task, TRUE);
      return TRUE;

    case JOB_CLOSE:
      if (!commit_writes (self, &error))
        {
          return_error (job, error);
          return TRUE;
        }
      flow_db_close (self->db, TRUE);
      self->db = NULL;
      g_task_return_boolean (job->task, TRUE);
      return FALSE;

    case JOB_CALL:
      job->call (self, self->db, job->call_data, job->task);
      return TRUE;

    case JOB_CRASH:
      {
        Job *dropped;

        /* What a kill -9 loses: every write not yet committed. */
        while ((dropped = g_queue_pop_head (&self->retry)) != NULL)
          job_free (dropped);
        while ((dropped = g_async_queue_try_pop (self->queue)) != NULL)
          {
            if (dropped->task != NULL)
              g_task_return_new_error (dropped->task, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED,
                                       "The workspace is closed");
            job_free (dropped);
          }
        flow_db_close (self->db, FALSE);
        self->db = NULL;
        g_task_return_boolean (job->task, TRUE);
      }
      return FALSE;

    case JOB_REGISTER:
    case JOB_APPEND:
    case JOB_SNAPSHOT:
    default:
      g_assert_not_reached ();
      return TRUE;
    }
}

static gpointer
writer_thread (gpointer data)
{
  FlowStore *self = data;

  gboolean wrote = FALSE;

  for (;;)
    {
      Job *job;
      gboolean go_on = TRUE;

      /* While commits fail, wake up every second to try again. After
       * writing, wait a little for more work and checkpoint the WAL if
       * none comes, so commits never pay for it while someone types. */
      if (self->retry.length > 0)
        job = g_async_queue_timeout_pop (self->queue, RETRY_INTERVAL_US);
      else if (wrote)
        {
          job = g_async_queue_timeout_pop (self->queue, IDLE_CHECKPOINT_US);
          if (job == NULL)
            {
              flow_db_checkpoint (self->db);
              wrote = FALSE;
              continue;
            }
        }
      else
        job = g_async_queue_pop (self->queue);
      wrote = TRUE;

      /* Take every write job that is queued, up to a limit: one commit. */
      while (job != NULL && is_write (job) && self->retry.length < MAX_JOBS_PER_COMMIT)
        {
          g_queue_push_tail (&self->retry, job);
          job = g_async_queue_try_pop (self->queue);
        }

      if (self->retry.length > 0)
        {
          g_autoptr(GError) error = NULL;

          commit_writes (self, &error);
        }

      if (job != NULL && is_write (job))
        g_queue_push_tail (&self->retry, job);
      else if (job != NULL)
        {
          go_on = run_other (self, job);
          job_free (job);
        }

      if (!go_on)
        break;
    }

  return NULL;
}

/* Queues @job for the writer. Takes ownership: the writer may free @job
 * at once, so it must not be touched after this. */
static void
push (FlowStore *self,
      Job       *job)
{
  g_async_queue_push (self->queue, job);
}

/* Runs a job that has a result, waiting for it: the synchronous API. */
static GAsyncResult *run_sync_full (FlowStore *self, Job *job, gboolean first);

typedef struct
{
  GAsyncResult *result;
} SyncWait;

static void
sync_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  SyncWait *wait = user_data;

  wait->result = g_object_ref (result);
}

static GAsyncResult *
run_sync_full (FlowStore *self,
               Job       *job,
               gboolean   first)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  SyncWait wait = { NULL };

  g_main_context_push_thread_default (context);
  job->task = g_task_new (self, NULL, sync_done_cb, &wait);
  if (first)
    g_async_queue_push_front (self->queue, job);
  else
    push (self, job);
  while (wait.result == NULL)
    g_main_context_iteration (context, TRUE);
  g_main_context_pop_thread_default (context);
  return wait.result;
}

static GAsyncResult *
run_sync (FlowStore *self,
          Job       *job)
{
  return run_sync_full (self, job, FALSE);
}

static gboolean
check_open (FlowStore  *self,
            GError    **error)
{
  if (!self->closed)
    return TRUE;
  g_set_error_literal (error, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED,
                       "The workspace is closed");
  return FALSE;
}

/* Other parts of the store (the search index) run code on the writer
 * thread through these: @func gets the connection and @task (nullable),
 * in queue order with every other job. */

static Job *
call_job (FlowStoreCallFunc  func,
          gpointer           data,
          GDestroyNotify     destroy)
{
  Job *job = job_new (JOB_CALL);

  job->call = func;
  job->call_data = data;
  job->call_destroy = destroy;
  return job;
}

void
flow_store_push_call (FlowStore         *self,
                      FlowStoreCallFunc  func,
                      gpointer           data,
                      GDestroyNotify     destroy,
                      GTask             *task)
{
  Job *job = call_job (func, data, destroy);

  job->task = task;
  if (self->closed)
    {
      if (task != NULL)
        g_task_return_new_error (task, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED,
                                 "The workspace is closed");
      job_free (job);
      return;
    }
  push (self, job);
}

/* Returns: (transfer full): the result of @func's task, once it ran */
GAsyncResult *
flow_store_call_sync (FlowStore         *self,
                      FlowStoreCallFunc  func,
                      gpointer           data,
                      GDestroyNotify     destroy)
{
  return run_sync (self, call_job (func, data, destroy));
}

gboolean
flow_store_check_open (FlowStore  *self,
                       GError    **error)
{
  return check_open (self, error);
}

FlowIndex *
flow_store_get_index (FlowStore *self)
{
  return self->index;
}

GMainContext *
flow_store_get_context (FlowStore *self)
{
  return self->context;
}

/* ------------------------------------------------------------------------
 * GObject
 * ------------------------------------------------------------------------ */

static void
tracked_free (gpointer data)
{
  Tracked *t = data;

  flow_doc_remove_change_func (t->doc, t->func_id);
  g_object_unref (t->doc);
  g_free (t->id);
  registration_unref (t->reg);
  g_free (t);
}

static void
flow_store_dispose (GObject *object)
{
  FlowStore *self = FLOW_STORE (object);

  if (!self->closed && self->thread != NULL)
    {
      g_autoptr(GError) error = NULL;

      if (!flow_store_close (self, &error))
        g_critical ("Closing the workspace “%s” failed; recent changes may be lost: %s",
                    self->path, error->message);
    }
  g_clear_pointer (&self->tracked, g_hash_table_unref);

  G_OBJECT_CLASS (flow_store_parent_class)->dispose (object);
}

static void
flow_store_finalize (GObject *object)
{
  FlowStore *self = FLOW_STORE (object);

  g_clear_pointer (&self->index, flow_index_free);
  g_clear_pointer (&self->queue, g_async_queue_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->path);

  G_OBJECT_CLASS (flow_store_parent_class)->finalize (object);
}

static void
flow_store_class_init (FlowStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = flow_store_dispose;
  object_class->finalize = flow_store_finalize;

  /**
   * FlowStore::committed:
   * @self: the store
   * @seq: every change up to this sequence number (flow_store_get_queued()
   *   after queueing it) is now durable
   *
   * Emitted on the store's main context after each commit.
   */
  signals[COMMITTED] =
    g_signal_new ("committed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT64);

  /**
   * FlowStore::write-error:
   * @self: the store
   * @error: why the last commit failed
   *
   * Emitted when changes could not be saved. They stay queued and are
   * retried; nothing is lost while the store is open.
   */
  signals[WRITE_ERROR] =
    g_signal_new ("write-error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
flow_store_init (FlowStore *self)
{
  static gint serials;

  self->serial = (guint) g_atomic_int_add (&serials, 1) + 1;
  self->queue = g_async_queue_new_full ((GDestroyNotify) job_free);
  self->tracked = g_hash_table_new_full (NULL, NULL, NULL, tracked_free);
  self->snapshot_interval = DEFAULT_SNAPSHOT_INTERVAL;
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->retry);
  self->index = flow_index_new (self);
}

static FlowStore *
start (const char *path,
       FlowDb     *db)
{
  FlowStore *self = g_object_new (FLOW_TYPE_STORE, NULL);

  self->path = g_strdup (path);
  self->db = db;
  self->replica = flow_db_get_replica (db);
  self->thread = g_thread_new ("flow-store", writer_thread, self);
  flow_index_start (self->index);
  return self;
}

static FlowDb *
open_db (const char  *path,
         gboolean     create,
         GError     **error)
{
  if (!create && !flow_db_check_file (path, error))
    return NULL;
  return flow_db_open (path, create, error);
}

/**
 * flow_store_create:
 * @path: where to create the workspace file; nothing may be there yet
 * @error: return location for a #GError
 *
 * Blocks while it creates the file; use flow_store_open_async() from a UI.
 *
 * Returns: (transfer full) (nullable): the store
 */
FlowStore *
flow_store_create (const char  *path,
                   GError     **error)
{
  FlowDb *db;

  g_return_val_if_fail (path != NULL, NULL);

  db = open_db (path, TRUE, error);
  return db ? start (path, db) : NULL;
}

/**
 * flow_store_open:
 * @path: a workspace file
 * @error: return location for a #GError
 *
 * Opens a workspace. A file that is not an intact FlowSync workspace (not
 * SQLite, another program's database, damaged, truncated, or from a newer
 * FlowSync) is refused with a #FlowStoreError and left untouched. Blocks
 * while it checks the file; use flow_store_open_async() from a UI.
 *
 * Returns: (transfer full) (nullable): the store
 */
FlowStore *
flow_store_open (const char  *path,
                 GError     **error)
{
  FlowDb *db;

  g_return_val_if_fail (path != NULL, NULL);

  db = open_db (path, FALSE, error);
  return db ? start (path, db) : NULL;
}

/* A dropped result (a cancelled open) ends a session that made nothing. */
static void
db_close_clean (gpointer db)
{
  flow_db_close (db, TRUE);
}

static void
open_thread (GTask        *task,
             gpointer      source,
             gpointer      task_data,
             GCancellable *cancellable)
{
  const char *path = task_data;
  gboolean create = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (task), "create"));
  GError *error = NULL;
  FlowDb *db = open_db (path, create, &error);

  if (db == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, db, db_close_clean);
}

/**
 * flow_store_open_async:
 * @path: a workspace file
 * @create: create it instead (nothing may be at @path)
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the caller's thread-default context when done
 * @user_data: data for @callback
 *
 * Opens or creates a workspace in a worker thread.
 */
void
flow_store_open_async (const char          *path,
                       gboolean             create,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, flow_store_open_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_object_set_data (G_OBJECT (task), "create", GINT_TO_POINTER (create));
  g_task_run_in_thread (task, open_thread);
}

/**
 * flow_store_open_finish:
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the store
 */
FlowStore *
flow_store_open_finish (GAsyncResult  *result,
                        GError       **error)
{
  FlowDb *db;

  g_return_val_if_fail (G_IS_TASK (result), NULL);

  db = g_task_propagate_pointer (G_TASK (result), error);
  return db ? start (g_task_get_task_data (G_TASK (result)), db) : NULL;
}

const char *
flow_store_get_path (FlowStore *self)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);

  return self->path;
}

/**
 * flow_store_get_replica:
 * @self: a store
 *
 * Returns: this device's replica id in the workspace, for new documents
 */
FlowReplicaId
flow_store_get_replica (FlowStore *self)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), 0);

  return self->replica;
}

/**
 * flow_store_set_snapshot_interval:
 * @self: a store
 * @n_ops: take a snapshot of a tracked document every @n_ops ops
 *
 * Snapshots bound the work of opening a document: the newest one is
 * loaded and only the ops after it are replayed.
 */
void
flow_store_set_snapshot_interval (FlowStore *self,
                                  guint      n_ops)
{
  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (n_ops > 0);

  self->snapshot_interval = n_ops;
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------ */

/**
 * flow_store_list_docs:
 * @self: a store
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type FlowStoreDocInfo) (nullable): the
 *   documents the workspace holds ops for
 */
GArray *
flow_store_list_docs (FlowStore  *self,
                      GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);

  if (!check_open (self, error))
    return NULL;
  result = run_sync (self, job_new (JOB_LIST));
  return g_task_propagate_pointer (G_TASK (result), error);
}

static Job *
load_job (const FlowOpId *id,
          FlowDocKind     kind)
{
  Job *job = job_new (JOB_LOAD);

  job->id = *id;
  job->doc_kind = kind;
  return job;
}

/**
 * flow_store_load_doc:
 * @self: a store
 * @id: the document's id
 * @kind: its kind
 * @error: return location for a #GError
 *
 * Loads a document: its newest snapshot and the ops after it. A document
 * the workspace holds nothing for yet comes back empty. Blocks; use
 * flow_store_load_doc_async() from a UI.
 *
 * Returns: (transfer full) (nullable): the document
 */
FlowDoc *
flow_store_load_doc (FlowStore       *self,
                     const FlowOpId  *id,
                     FlowDocKind      kind,
                     GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if (!check_open (self, error))
    return NULL;
  result = run_sync (self, load_job (id, kind));
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
flow_store_load_doc_async (FlowStore           *self,
                           const FlowOpId      *id,
                           FlowDocKind          kind,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  Job *job;

  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (id != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  job = load_job (id, kind);
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, flow_store_load_doc_async);
  if (self->closed)
    {
      g_task_return_new_error (job->task, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED,
                               "The workspace is closed");
      job_free (job);
      return;
    }
  push (self, job);
}

/**
 * flow_store_load_doc_finish:
 * @self: a store
 * @result: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the document
 */
FlowDoc *
flow_store_load_doc_finish (FlowStore     *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_store_dup_history:
 * @self: a store
 * @id: a document
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type FlowStoreRow) (nullable): the
 *   document's op rows, oldest first
 */
GArray *
flow_store_dup_history (FlowStore       *self,
                        const FlowOpId  *id,
                        GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  Job *job;

  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);

  if (!check_open (self, error))
    return NULL;
  job = job_new (JOB_HISTORY);
  job->id = *id;
  result = run_sync (self, job);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_store_dup_version_at:
 * @self: a store
 * @id: a document
 * @n_ops: an op count that ends a history row (#FlowStoreRow)
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the document's version right after
 *   that row, for flow_doc_checkout()
 */
FlowVersionVector *
flow_store_dup_version_at (FlowStore       *self,
                           const FlowOpId  *id,
                           guint64          n_ops,
                           GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  Job *job;

  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);

  if (!check_open (self, error))
    return NULL;
  job = job_new (JOB_VERSION);
  job->id = *id;
  job->n_ops_total = n_ops;
  result = run_sync (self, job);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------ */

static void
snapshot (FlowStore *self,
          Tracked   *t)
{
  Job *job = job_new (JOB_SNAPSHOT);

  job->doc = g_strdup (t->id);
  job->data = flow_doc_encode (t->doc);
  job->n_ops_total = flow_doc_get_n_ops (t->doc);
  job->reg = g_atomic_rc_box_acquire (t->reg);
  push (self, job);
  t->since_snapshot = 0;
}

/* Queues a change of @t's document: @data (taken) with @n_ops ops. */
static void
append (FlowStore     *self,
        Tracked       *t,
        GBytes        *data,
        guint          n_ops,
        FlowReplicaId  first_replica,
        gboolean       unknown)
{
  Job *job = job_new (JOB_APPEND);

  job->doc = g_strdup (t->id);
  job->id = *flow_doc_get_id (t->doc);
  job->doc_kind = flow_doc_get_kind (t->doc);
  job->data = data;
  job->n_ops = n_ops;
  job->replica = first_replica;
  job->doc_replica = flow_doc_get_replica (t->doc);
  job->next_seq = flow_doc_get_next_seq (t->doc);
  job->time = g_get_real_time ();
  job->seq = ++self->queued;
  job->unknown = unknown;
  push (self, job);

  t->since_snapshot += n_ops;
  if (t->since_snapshot >= self->snapshot_interval)
    snapshot (self, t);
}

static void
change_cb (FlowDoc    *doc,
           FlowChange *change,
           gpointer    user_data)
{
  Tracked *t = user_data;

  append (t->store, t, g_bytes_ref (flow_change_get_bytes (change)),
          flow_change_get_n_ops (change), flow_change_get_first_op (change)->replica, FALSE);
  flow_index_changed (t->store->index, doc);
}

/* The replica of the op @doc applied after its first @n_ops. */
static FlowReplicaId
replica_at (FlowDoc *doc,
            guint64  n_ops)
{
  g_autoptr(FlowVersionVector) before = flow_doc_dup_version_at (doc, n_ops);
  g_autoptr(FlowVersionVector) after = flow_doc_dup_version_at (doc, n_ops + 1);

  for (guint i = 0; i < flow_version_vector_get_n_replicas (after); i++)
    {
      FlowReplicaId replica;
      guint64 next_seq;

      flow_version_vector_get_nth (after, i, &replica, &next_seq);
      if (flow_version_vector_get (before, replica) != next_seq)
        return replica;
    }
  g_return_val_if_reached (flow_doc_get_replica (doc));
}

static gboolean
tracks_id (FlowStore  *self,
           const char *id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_str_equal (((Tracked *) value)->id, id))
      return TRUE;
  return FALSE;
}

/**
 * flow_store_track:
 * @self: a store
 * @doc: a document of this workspace, made with this store's replica id
 *   (flow_store_get_replica()): loaded from it, or new
 *
 * Persists every change of @doc from now on (write-behind), with snapshots
 * every so many ops and when the store closes. Ops @doc already has that
 * the store has not seen (edits made before tracking, or while it was not
 * tracked) are queued first, as one change. Call it on the thread that
 * edits @doc; only one document object per id may be tracked at a time.
 */
void
flow_store_track (FlowStore *self,
                  FlowDoc   *doc)
{
  g_autofree char *id = NULL;
  Provenance *p;
  gboolean known;
  guint64 stored;
  Tracked *t;
  Job *job;

  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (FLOW_IS_DOC (doc));
  g_return_if_fail (!self->closed);

  if (g_hash_table_contains (self->tracked, doc))
    return;
  id = flow_op_id_to_string (flow_doc_get_id (doc));
  g_return_if_fail (!tracks_id (self, id));

  /* What the file holds of @doc: what we loaded it from, or for all we
   * know nothing (the writer checks, see unstored_ops()). */
  p = g_object_get_qdata (G_OBJECT (doc), provenance_quark ());
  known = p != NULL && p->store == self->serial;
  stored = known ? p->n_ops : 0;

  t = g_new0 (Tracked, 1);
  t->store = self;
  t->doc = g_object_ref (doc);
  t->id = g_steal_pointer (&id);
  t->base_row = known ? p->base_row : 0;
  t->reg = registration_new (t->base_row);
  t->func_id = flow_doc_add_change_func (doc, change_cb, t, NULL);
  g_hash_table_insert (self->tracked, doc, t);

  job = job_new (JOB_REGISTER);
  job->doc = g_strdup (t->id);
  job->doc_kind = flow_doc_get_kind (doc);
  job->reg = g_atomic_rc_box_acquire (t->reg);
  push (self, job);

  flow_index_track (self->index, doc, flow_doc_get_n_ops (doc) > stored);
  if (flow_doc_get_n_ops (doc) > stored)
    {
      g_autoptr(FlowVersionVector) since = stored > 0 ? flow_doc_dup_version_at (doc, stored) : NULL;

      append (self, t, flow_doc_encode_since (doc, since), (guint) (flow_doc_get_n_ops (doc) - stored),
              replica_at (doc, stored), !known);
    }
}

/**
 * flow_store_untrack:
 * @self: a store
 * @doc: a tracked document
 *
 * Stops persisting @doc, after a last snapshot if it changed.
 */
void
flow_store_untrack (FlowStore *self,
                    FlowDoc   *doc)
{
  Provenance *p;
  Tracked *t;

  g_return_if_fail (FLOW_IS_STORE (self));

  t = g_hash_table_lookup (self->tracked, doc);
  if (t == NULL)
    return;
  flow_index_untrack (self->index, doc);
  if (t->since_snapshot > 0 && !self->closed)
    snapshot (self, t);

  /* Every op it has now is queued: tracking it again saves only later ones. */
  p = g_new (Provenance, 1);
  p->store = self->serial;
  p->n_ops = flow_doc_get_n_ops (doc);
  p->base_row = t->base_row;
  g_object_set_qdata_full (G_OBJECT (doc), provenance_quark (), p, g_free);
  g_hash_table_remove (self->tracked, doc);
}

/**
 * flow_store_get_queued:
 * @self: a store
 *
 * Returns: the sequence number of the last change queued for writing
 */
guint64
flow_store_get_queued (FlowStore *self)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), 0);

  return self->queued;
}

/**
 * flow_store_get_committed:
 * @self: a store
 *
 * Returns: the sequence number of the last change known to be durable
 */
guint64
flow_store_get_committed (FlowStore *self)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), 0);

  return GPOINTER_TO_SIZE (g_atomic_pointer_get ((gpointer *) &self->committed));
}

/**
 * flow_store_flush:
 * @self: a store
 * @error: return location for a #GError
 *
 * Waits until every change queued so far is committed.
 *
 * Returns: %TRUE if everything is durable
 */
gboolean
flow_store_flush (FlowStore  *self,
                  GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_val_if_fail (FLOW_IS_STORE (self), FALSE);

  if (!check_open (self, error))
    return FALSE;
  flow_index_flush (self->index);
  result = run_sync (self, job_new (JOB_FLUSH));
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
flow_store_flush_async (FlowStore           *self,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  Job *job;

  g_return_if_fail (FLOW_IS_STORE (self));

  job = job_new (JOB_FLUSH);
  job->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (job->task, flow_store_flush_async);
  if (self->closed)
    {
      g_task_return_new_error (job->task, FLOW_STORE_ERROR, FLOW_STORE_ERROR_CLOSED,
                               "The workspace is closed");
      job_free (job);
      return;
    }
  flow_index_flush (self->index);
  push (self, job);
}

gboolean
flow_store_flush_finish (FlowStore     *self,
                         GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (FLOW_IS_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/*
 * flow_store_simulate_crash:
 *
 * For tests: ends the session the way a killed process does. Writes not yet
 * committed are dropped, the replica id is not released (so it is retired,
 * see flow-store-db.c), and nothing is snapshotted. The file is then exactly
 * what a crash at this moment leaves behind.
 */
void
flow_store_simulate_crash (FlowStore *self)
{
  g_autoptr(GAsyncResult) result = NULL;

  g_return_if_fail (FLOW_IS_STORE (self));

  if (self->closed)
    return;
  flow_index_abandon (self->index);
  result = run_sync_full (self, job_new (JOB_CRASH), TRUE);
  g_thread_join (g_steal_pointer (&self->thread));
  self->closed = TRUE;
  g_hash_table_remove_all (self->tracked);
}

/**
 * flow_store_close:
 * @self: a store
 * @error: return location for a #GError
 *
 * Snapshots every tracked document that changed, commits everything and
 * closes the file cleanly. If the last commit fails the store stays open
 * (nothing is dropped) and this returns %FALSE; try again later.
 *
 * Returns: %TRUE if the workspace was closed with everything saved
 */
gboolean
flow_store_close (FlowStore  *self,
                  GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (FLOW_IS_STORE (self), FALSE);

  if (self->closed)
    return TRUE;

  flow_index_close (self->index);
  g_hash_table_iter_init (&iter, self->tracked);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Tracked *t = value;

      if (t->since_snapshot > 0)
        snapshot (self, t);
    }

  result = run_sync (self, job_new (JOB_CLOSE));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  g_thread_join (g_steal_pointer (&self->thread));
  self->closed = TRUE;
  g_hash_table_remove_all (self->tracked);
  return TRUE;
}

/* ------------------------------------------------------------------------
 * Settings: small per-workspace values that never sync (the room key of
 * the workspace's room, for one). They live in the meta table under a
 * "setting:" prefix, written on the writer thread like everything else.
 * ------------------------------------------------------------------------ */

typedef struct
{
  char     *key;
  char     *value;
  gboolean  set;
} SettingCall;

static void
setting_call_free (gpointer data)
{
  SettingCall *c = data;

  g_free (c->key);
  g_free (c->value);
  g_free (c);
}

static void
setting_cb (FlowStore *store,
            FlowDb    *db,
            gpointer   data,
            GTask     *task)
{
  SettingCall *c = data;
  sqlite3 *sql = flow_db_get_sqlite (db);
  g_autofree char *key = g_strconcat ("setting:", c->key, NULL);
  sqlite3_stmt *stmt = NULL;
  const char *query;
  int rc;

  if (!c->set)
    query = "SELECT value FROM meta WHERE key = ?1";
  else if (c->value != NULL)
    query = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
  else
    query = "DELETE FROM meta WHERE key = ?1";

  rc = sqlite3_prepare_v2 (sql, query, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
      if (c->set && c->value != NULL)
        sqlite3_bind_text (stmt, 2, c->value, -1, SQLITE_TRANSIENT);
      rc = sqlite3_step (stmt);
    }

  if (rc == SQLITE_ROW)
    {
      const unsigned char *text = sqlite3_column_text (stmt, 0);

      g_task_return_pointer (task, g_strdup ((const char *) text), g_free);
    }
  else if (rc == SQLITE_DONE)
    g_task_return_pointer (task, NULL, NULL);
  else
    g_task_return_new_error (task, FLOW_STORE_ERROR, FLOW_STORE_ERROR_IO,
                             "Could not %s the setting “%s”: %s",
                             c->set ? "save" : "read", c->key, sqlite3_errmsg (sql));
  sqlite3_finalize (stmt);
}

/**
 * flow_store_dup_setting:
 * @key: the setting's name
 *
 * Reads a value saved with flow_store_set_setting(). Blocks on the writer
 * thread for one query.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if unset (with
 *   @error set if it could not be read)
 */
char *
flow_store_dup_setting (FlowStore   *self,
                        const char  *key,
                        GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  SettingCall *c;

  g_return_val_if_fail (FLOW_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (!check_open (self, error))
    return NULL;
  c = g_new0 (SettingCall, 1);
  c->key = g_strdup (key);
  result = flow_store_call_sync (self, setting_cb, c, setting_call_free);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_store_set_setting:
 * @key: the setting's name
 * @value: (nullable): its value, or %NULL to remove it
 *
 * Saves a workspace-local value (committed before this returns). Settings
 * are not ops: they never sync.
 */
gboolean
flow_store_set_setting (FlowStore   *self,
                        const char  *key,
                        const char  *value,
                        GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) local_error = NULL;
  SettingCall *c;

  g_return_val_if_fail (FLOW_IS_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (!check_open (self, error))
    return FALSE;
  c = g_new0 (SettingCall, 1);
  c->key = g_strdup (key);
  c->value = g_strdup (value);
  c->set = TRUE;
  result = flow_store_call_sync (self, setting_cb, c, setting_call_free);
  g_free (g_task_propagate_pointer (G_TASK (result), &local_error));
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

static void
setting_async (FlowStore           *self,
               const char          *key,
               const char          *value,
               gboolean             set,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data,
               gpointer             tag)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  SettingCall *c = g_new0 (SettingCall, 1);

  g_task_set_source_tag (task, tag);
  c->key = g_strdup (key);
  c->value = g_strdup (value);
  c->set = set;
  flow_store_push_call (self, setting_cb, c, setting_call_free, task);
}

/**
 * flow_store_dup_setting_async:
 *
 * Reads a setting on the writer thread without blocking the caller; see
 * flow_store_dup_setting().
 */
void
flow_store_dup_setting_async (FlowStore           *self,
                              const char          *key,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (key != NULL);

  setting_async (self, key, NULL, FALSE, cancellable, callback, user_data,
                 flow_store_dup_setting_async);
}

/* Returns: (transfer full) (nullable): the value, or %NULL if unset or on
 * error (then @error is set). */
char *
flow_store_dup_setting_finish (FlowStore     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * flow_store_set_setting_async:
 *
 * Saves a setting on the writer thread without blocking the caller; see
 * flow_store_set_setting().
 */
void
flow_store_set_setting_async (FlowStore           *self,
                              const char          *key,
                              const char          *value,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_return_if_fail (FLOW_IS_STORE (self));
  g_return_if_fail (key != NULL);

  setting_async (self, key, value, TRUE, cancellable, callback, user_data,
                 flow_store_set_setting_async);
}

gboolean
flow_store_set_setting_finish (FlowStore     *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  GError *local_error = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  g_free (g_task_propagate_pointer (G_TASK (result), &local_error));
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}
