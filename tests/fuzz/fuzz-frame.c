/* fuzz-frame.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * libFuzzer target for the peer protocol's frame decoder (src/sync), which
 * reads whatever a peer sends once the link has decrypted it. The input is
 * decoded as a stream of frames with flow_sync_frame_decode(), and fed to a
 * FlowSyncFrameReader in two pieces split at the input's first byte. Besides
 * crashes, leaks and huge allocations we abort when
 *  - a failure has no FLOW_SYNC_ERROR, or "needs more" consumed bytes;
 *  - a decoded frame claims more bytes than there were;
 *  - a decoded frame does not encode, or its encoding decodes to a frame
 *    that encodes to other bytes (encode ∘ decode is stable).
 *
 *   ./fuzz-frame -max_total_time=60 ../tests/fuzz/corpus/fuzz-frame
 */

#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "flow-sync-frame.h"

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

G_GNUC_NORETURN static void
die (const char *what)
{
  fprintf (stderr, "fuzz-frame: %s\n", what);
  abort ();
}

static void
check_reencode (const FlowSyncFrame *frame)
{
  g_autoptr(GBytes) once = flow_sync_frame_encode (frame);
  g_autoptr(GBytes) twice = NULL;
  g_auto(FlowSyncFrame) again = { 0 };
  g_autoptr(GError) error = NULL;
  gsize consumed = 0;

  if (once == NULL)
    die ("a decoded frame does not encode");
  if (!flow_sync_frame_decode (g_bytes_get_data (once, NULL), g_bytes_get_size (once),
                               &consumed, &again, &error))
    die ("an encoded frame does not decode");
  if (consumed != g_bytes_get_size (once))
    die ("an encoded frame decodes to another length");
  twice = flow_sync_frame_encode (&again);
  if (twice == NULL || !g_bytes_equal (once, twice))
    die ("encode (decode (encode (frame))) differs from encode (frame)");
}

static void
fuzz_decode (const uint8_t *data,
             size_t         size)
{
  gsize pos = 0;

  for (;;)
    {
      g_auto(FlowSyncFrame) frame = { 0 };
      g_autoptr(GError) error = NULL;
      gsize consumed = 0;

      if (!flow_sync_frame_decode (data + pos, size - pos, &consumed, &frame, &error))
        {
          if (consumed != 0)
            die ("a failed decode consumed bytes");
          if (error != NULL && error->domain != FLOW_SYNC_ERROR)
            die ("a decode failed with an error of another domain");
          return;
        }
      if (consumed == 0 || consumed > size - pos)
        die ("a decode consumed a wrong number of bytes");
      pos += consumed;
      if (frame.type != FLOW_SYNC_FRAME_UNKNOWN)
        check_reencode (&frame);
    }
}

static void
fuzz_reader (const uint8_t *data,
             size_t         size)
{
  g_autoptr(FlowSyncFrameReader) reader = flow_sync_frame_reader_new ();
  gsize split = size > 0 ? MIN ((gsize) data[0], size) : 0;
  g_autoptr(GError) error = NULL;
  FlowSyncFrame frame = { 0 };

  flow_sync_frame_reader_feed (reader, data, split);
  while (flow_sync_frame_reader_pop (reader, &frame, &error))
    flow_sync_frame_clear (&frame);
  g_clear_error (&error);
  flow_sync_frame_reader_feed (reader, data + split, size - split);
  while (flow_sync_frame_reader_pop (reader, &frame, &error))
    flow_sync_frame_clear (&frame);
  if (error != NULL && error->domain != FLOW_SYNC_ERROR)
    die ("the reader failed with an error of another domain");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  fuzz_decode (data, size);
  fuzz_reader (data, size);
  return 0;
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_FATAL_MASK);
  LLVMFuzzerTestOneInput ((const uint8_t *) "\x02\x06", 2);
  return 0;
}
