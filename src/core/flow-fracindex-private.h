/* flow-fracindex-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLOW_FRAC_KEY_MAX_LEN 1024

gboolean  flow_frac_key_is_valid (const char *key,
                                  gsize       len);
char     *flow_frac_key_between  (const char *a,
                                  const char *b,
                                  GRand      *jitter);

G_END_DECLS
