/* flow-cli-peer.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

int flow_cli_host (int argc, char **argv);
int flow_cli_join (int argc, char **argv);
