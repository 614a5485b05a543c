/* flow-test-ui.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "flow-application.h"
#include "flow-huddle.h"

G_BEGIN_DECLS

char     *flow_test_ui_init       (int         *argc,
                                   char      ***argv,
                                   const char  *name);
FlowApplication *flow_test_ui_app_new (void);
void      flow_test_ui_spin       (guint        ms);
gboolean  flow_test_ui_wait       (gboolean   (*check) (gpointer),
                                   gpointer     data,
                                   guint        ms);
void      flow_test_ui_screenshot (GtkWidget   *widget,
                                   const char  *name);

typedef gboolean (*FlowTestUiMatch) (GtkWidget     *widget,
                                     gconstpointer  data);

GtkWidget *flow_test_ui_find       (GtkWidget       *root,
                                    FlowTestUiMatch  match,
                                    gconstpointer    data);
GtkWidget *flow_test_ui_find_named (GtkWidget       *root,
                                    const char      *name);
GtkWidget *flow_test_ui_find_type  (GtkWidget       *root,
                                    GType            type);
GtkWidget *flow_test_ui_find_label (GtkWidget       *root,
                                    const char      *text);
GtkWidget *flow_test_ui_find_toplevel (GType         type);
void      flow_test_ui_host       (FlowHuddle      *huddle,
                                   FlowHuddleVia    via);

/* Runs the main loop until @check holds; fails the test after 30 s. */
#define WAIT_US (30 * G_USEC_PER_SEC)
#define WAIT_FOR(check)                                                    \
  G_STMT_START {                                                           \
    gint64 deadline_ = g_get_monotonic_time () + WAIT_US;                  \
    while (!(check))                                                       \
      {                                                                    \
        g_main_context_iteration (NULL, FALSE);                            \
        if (g_get_monotonic_time () > deadline_)                           \
          g_error ("timed out waiting for %s", #check);                    \
        g_usleep (1000);                                                   \
      }                                                                    \
  } G_STMT_END

G_END_DECLS
