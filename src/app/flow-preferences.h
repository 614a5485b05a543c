/* flow-preferences.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define FLOW_TYPE_PREFERENCES (flow_preferences_get_type ())

G_DECLARE_FINAL_TYPE (FlowPreferences, flow_preferences, FLOW, PREFERENCES, AdwPreferencesWindow)

FlowPreferences *flow_preferences_new (GSettings *settings);

G_END_DECLS
