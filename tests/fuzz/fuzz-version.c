/* fuzz-version.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * libFuzzer target for version vectors, which peers send each other to
 * ask for what they lack. The input goes to flow_version_vector_decode()
 * as bytes and to flow_version_vector_parse() as a string. Besides
 * crashes and leaks we abort when
 *  - a failure has no FLOW_CORE_ERROR of the documented code;
 *  - a decoded vector encodes to other bytes ("every vector has exactly
 *    one encoding");
 *  - a parsed vector prints to a string that does not parse back to it.
 *
 *   ./fuzz-version -max_total_time=60 ../tests/fuzz/corpus/fuzz-version
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "flow-error.h"
#include "flow-version.h"

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

G_GNUC_NORETURN static void
die (const char *what)
{
  fprintf (stderr, "fuzz-version: %s\n", what);
  abort ();
}

static void
fuzz_decode (const uint8_t *data,
             size_t         size)
{
  g_autoptr(GBytes) input = g_bytes_new (data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) vv = flow_version_vector_decode (input, &error);
  g_autoptr(GBytes) again = NULL;

  if (vv == NULL)
    {
      if (!g_error_matches (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_MALFORMED))
        die ("decode failed without a MALFORMED error");
      return;
    }
  again = flow_version_vector_encode (vv);
  if (!g_bytes_equal (again, input))
    die ("decode accepted a second encoding of a vector");
}

static void
fuzz_parse (const uint8_t *data,
            size_t         size)
{
  g_autofree char *str = g_strndup ((const char *) data, size);
  g_autoptr(GError) error = NULL;
  g_autoptr(FlowVersionVector) vv = flow_version_vector_parse (str, &error);
  g_autoptr(FlowVersionVector) again = NULL;
  g_autofree char *printed = NULL;
  g_autofree char *printed2 = NULL;

  if (vv == NULL)
    {
      if (!g_error_matches (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_VERSION))
        die ("parse failed without an INVALID_VERSION error");
      return;
    }
  printed = flow_version_vector_to_string (vv);
  again = flow_version_vector_parse (printed, &error);
  if (again == NULL)
    die ("a printed vector does not parse");
  printed2 = flow_version_vector_to_string (again);
  if (!g_str_equal (printed, printed2) ||
      flow_version_vector_total (vv) != flow_version_vector_total (again))
    die ("a printed vector parses to another vector");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  fuzz_decode (data, size);
  fuzz_parse (data, size);
  return 0;
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);
  LLVMFuzzerTestOneInput ((const uint8_t *) "0", 1);
  return 0;
}
