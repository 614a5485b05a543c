/* flow-cli-json.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "flow-doc.h"

G_BEGIN_DECLS

char *flow_cli_doc_to_json (FlowDoc    *doc,
                            const char *title);

G_END_DECLS
