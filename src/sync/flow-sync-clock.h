/* flow-sync-clock.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define FLOW_TYPE_SYNC_CLOCK (flow_sync_clock_get_type ())

G_DECLARE_FINAL_TYPE (FlowSyncClock, flow_sync_clock, FLOW, SYNC_CLOCK, GObject)

typedef void (*FlowSyncTimerFunc) (gpointer user_data);

FlowSyncClock *flow_sync_clock_new_real        (void);
FlowSyncClock *flow_sync_clock_new_manual      (gint64              start_us);
gboolean       flow_sync_clock_is_manual       (FlowSyncClock      *self);
gint64         flow_sync_clock_now             (FlowSyncClock      *self);
guint          flow_sync_clock_schedule        (FlowSyncClock      *self,
                                                gint64              delay_us,
                                                FlowSyncTimerFunc   func,
                                                gpointer            user_data,
                                                GDestroyNotify      destroy);
void           flow_sync_clock_cancel          (FlowSyncClock      *self,
                                                guint               id);
gboolean       flow_sync_clock_run_next        (FlowSyncClock      *self,
                                                gint64              limit_us);
guint          flow_sync_clock_run_until       (FlowSyncClock      *self,
                                                gint64              time_us);
gsize          flow_sync_clock_get_n_pending   (FlowSyncClock      *self);

/* Cancels *id if set and zeroes it, like g_clear_handle_id(). */
static inline void
flow_sync_clock_clear (FlowSyncClock *self,
                       guint         *id)
{
  if (*id != 0)
    {
      flow_sync_clock_cancel (self, *id);
      *id = 0;
    }
}

G_END_DECLS
