/* flow-sync-clock.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The only source of time and timers of the sync layer.
 *
 * Rooms, peers and in-memory links never call g_timeout_add() or
 * g_get_monotonic_time() themselves; they ask a FlowSyncClock. The real
 * clock maps onto the thread-default main context. The manual clock keeps
 * its timers in a queue ordered by (due time, scheduling order) and runs
 * them only when the owner advances it, so a simulation of twenty peers
 * with lossy links, heartbeats and reconnect back-off runs in one thread,
 * faster than real time, and does exactly the same thing for the same seed.
 *
 * A delay of 0 means "after the current main-loop turn": that is how the
 * peers coalesce every frame of one turn into a single write.
 */

#define G_LOG_DOMAIN "flow-sync-clock"

#include "config.h"

#include "flow-sync-clock.h"

typedef struct
{
  guint              id;
  gint64             due;
  guint64            order;
  FlowSyncTimerFunc  func;
  gpointer           user_data;
  GDestroyNotify     destroy;
  gboolean           queued;      /* manual clock: still in the queue */
  gboolean           running;     /* its callback runs now: cancel() only marks it */
  guint              source_id;   /* real clock */
  FlowSyncClock     *clock;       /* real clock, unowned */
} Timer;

struct _FlowSyncClock
{
  GObject       parent_instance;

  gboolean      manual;
  gint64        now;            /* manual clock */
  guint         next_id;
  guint64       next_order;
  GHashTable   *timers;         /* id -> Timer */
  GSequence    *queue;          /* manual clock: Timer, by (due, order) */
  GMainContext *context;        /* real clock */
};

G_DEFINE_FINAL_TYPE (FlowSyncClock, flow_sync_clock, G_TYPE_OBJECT)

static void
timer_free (gpointer data)
{
  Timer *timer = data;

  if (timer->source_id != 0)
    {
      GSource *source = g_main_context_find_source_by_id (timer->clock->context,
                                                          timer->source_id);
      if (source != NULL)
        g_source_destroy (source);
    }
  if (timer->destroy != NULL)
    timer->destroy (timer->user_data);
  g_free (timer);
}

static void
flow_sync_clock_finalize (GObject *object)
{
  FlowSyncClock *self = FLOW_SYNC_CLOCK (object);

  g_clear_pointer (&self->queue, g_sequence_free);
  g_clear_pointer (&self->timers, g_hash_table_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (flow_sync_clock_parent_class)->finalize (object);
}

static void
flow_sync_clock_class_init (FlowSyncClockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = flow_sync_clock_finalize;
}

static void
flow_sync_clock_init (FlowSyncClock *self)
{
  self->timers = g_hash_table_new_full (NULL, NULL, NULL, timer_free);
}

/**
 * flow_sync_clock_new_real:
 *
 * A clock on g_get_monotonic_time() whose timers are sources on the
 * thread-default main context of the caller.
 */
FlowSyncClock *
flow_sync_clock_new_real (void)
{
  FlowSyncClock *self = g_object_new (FLOW_TYPE_SYNC_CLOCK, NULL);

  self->context = g_main_context_ref_thread_default ();
  return self;
}

/**
 * flow_sync_clock_new_manual:
 * @start_us: the time it shows at first
 *
 * A clock that stands still until flow_sync_clock_run_next() or
 * flow_sync_clock_run_until() moves it.
 */
FlowSyncClock *
flow_sync_clock_new_manual (gint64 start_us)
{
  FlowSyncClock *self = g_object_new (FLOW_TYPE_SYNC_CLOCK, NULL);

  self->manual = TRUE;
  self->now = start_us;
  self->queue = g_sequence_new (NULL);
  return self;
}

gboolean
flow_sync_clock_is_manual (FlowSyncClock *self)
{
  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (self), FALSE);

  return self->manual;
}

/* Monotonic microseconds. */
gint64
flow_sync_clock_now (FlowSyncClock *self)
{
  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (self), 0);

  return self->manual ? self->now : g_get_monotonic_time ();
}

static gint
timer_compare (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  const Timer *ta = a;
  const Timer *tb = b;

  if (ta->due != tb->due)
    return ta->due < tb->due ? -1 : 1;
  return ta->order < tb->order ? -1 : ta->order > tb->order;
}

static gboolean
real_timer_cb (gpointer data)
{
  Timer *timer = data;
  FlowSyncClock *self = timer->clock;
  guint id = timer->id;

  /* One-shot: the source goes away when we return FALSE, so forget it
   * before the callback can cancel it (or the clock) again. */
  timer->source_id = 0;
  timer->running = TRUE;
  g_object_ref (self);
  timer->func (timer->user_data);
  g_hash_table_remove (self->timers, GUINT_TO_POINTER (id));
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/**
 * flow_sync_clock_schedule:
 * @delay_us: how long from now; 0 runs it after the current main-loop turn
 * @destroy: (nullable): frees @user_data when the timer ran or was cancelled
 *
 * Schedules a one-shot timer. Timers with the same due time run in the
 * order they were scheduled.
 *
 * Returns: a non-zero id for flow_sync_clock_cancel()
 */
guint
flow_sync_clock_schedule (FlowSyncClock      *self,
                          gint64              delay_us,
                          FlowSyncTimerFunc   func,
                          gpointer            user_data,
                          GDestroyNotify      destroy)
{
  Timer *timer;

  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (self), 0);
  g_return_val_if_fail (func != NULL, 0);

  timer = g_new0 (Timer, 1);
  do
    timer->id = ++self->next_id;
  while (timer->id == 0 || g_hash_table_contains (self->timers, GUINT_TO_POINTER (timer->id)));
  timer->order = self->next_order++;
  timer->func = func;
  timer->user_data = user_data;
  timer->destroy = destroy;
  timer->clock = self;
  delay_us = MAX (delay_us, 0);
  timer->due = flow_sync_clock_now (self) + delay_us;
  g_hash_table_insert (self->timers, GUINT_TO_POINTER (timer->id), timer);

  if (self->manual)
    {
      g_sequence_insert_sorted (self->queue, timer, timer_compare, NULL);
      timer->queued = TRUE;
    }
  else
    {
      g_autoptr(GSource) source = NULL;

      if (delay_us == 0)
        source = g_idle_source_new ();
      else
        source = g_timeout_source_new ((guint) MIN ((delay_us + 999) / 1000, G_MAXUINT));
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, real_timer_cb, timer, NULL);
      g_source_set_static_name (source, "[flowsync] sync timer");
      timer->source_id = g_source_attach (source, self->context);
    }

  return timer->id;
}

static void
unqueue (FlowSyncClock *self,
         Timer         *timer)
{
  GSequenceIter *iter;

  iter = g_sequence_lookup (self->queue, timer, timer_compare, NULL);
  g_assert (iter != NULL);
  g_sequence_remove (iter);
}

/* Cancels a timer that has not run yet; an id that already ran (or 0) is
 * ignored. */
void
flow_sync_clock_cancel (FlowSyncClock *self,
                        guint          id)
{
  Timer *timer;

  g_return_if_fail (FLOW_IS_SYNC_CLOCK (self));

  timer = g_hash_table_lookup (self->timers, GUINT_TO_POINTER (id));
  /* A running timer is freed (and its data destroyed) when its callback
   * returns, not under its feet. */
  if (timer == NULL || timer->running)
    return;
  if (self->manual && timer->queued)
    unqueue (self, timer);
  g_hash_table_remove (self->timers, GUINT_TO_POINTER (id));
}

/**
 * flow_sync_clock_run_next:
 * @limit_us: do not run a timer due after this time
 *
 * Manual clock: moves the time to the first timer's due time and runs it.
 *
 * Returns: %TRUE if a timer ran
 */
gboolean
flow_sync_clock_run_next (FlowSyncClock *self,
                          gint64         limit_us)
{
  GSequenceIter *first;
  Timer *timer;
  guint id;

  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (self), FALSE);
  g_return_val_if_fail (self->manual, FALSE);

  first = g_sequence_get_begin_iter (self->queue);
  if (g_sequence_iter_is_end (first))
    return FALSE;
  timer = g_sequence_get (first);
  if (timer->due > limit_us)
    return FALSE;

  g_sequence_remove (first);
  timer->queued = FALSE;
  timer->running = TRUE;
  self->now = MAX (self->now, timer->due);
  id = timer->id;
  g_object_ref (self);
  timer->func (timer->user_data);
  g_hash_table_remove (self->timers, GUINT_TO_POINTER (id));
  g_object_unref (self);
  return TRUE;
}

/* Manual clock: runs every timer due up to @time_us (including the ones
 * they schedule), then shows @time_us. Returns how many ran. */
guint
flow_sync_clock_run_until (FlowSyncClock *self,
                           gint64         time_us)
{
  guint n = 0;

  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (self), 0);
  g_return_val_if_fail (self->manual, 0);

  while (flow_sync_clock_run_next (self, time_us))
    n++;
  self->now = MAX (self->now, time_us);
  return n;
}

gsize
flow_sync_clock_get_n_pending (FlowSyncClock *self)
{
  g_return_val_if_fail (FLOW_IS_SYNC_CLOCK (self), 0);

  return g_hash_table_size (self->timers);
}
