/* flow-save-dialog.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void flow_save_dialog_run (GtkWidget  *widget,
                           const char *title,
                           const char *file_name,
                           GBytes     *contents);

G_END_DECLS
