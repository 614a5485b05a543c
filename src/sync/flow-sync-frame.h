/* flow-sync-frame.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "flow-types.h"

G_BEGIN_DECLS

/* The version of the peer protocol this build speaks (docs/protocol.md). */
#define FLOW_SYNC_PROTOCOL_VERSION  1

/* Limits. A frame's length counts its type byte and its body. */
#define FLOW_SYNC_FRAME_MAX_SIZE    (16 * 1024 * 1024)
#define FLOW_SYNC_NAME_MAX          256
#define FLOW_SYNC_TOOL_MAX          32
#define FLOW_SYNC_CHAT_MAX          (16 * 1024)
#define FLOW_SYNC_BYE_TEXT_MAX      256

/* BYE codes: 0 is leaving; CLOSED asks the others to leave too (the room
 * key was replaced: whoever holds it should get the new link). */
#define FLOW_SYNC_BYE_LEFT          0
#define FLOW_SYNC_BYE_CLOSED        1

#define FLOW_SYNC_ERROR (flow_sync_error_quark ())

/**
 * FlowSyncError:
 * @FLOW_SYNC_ERROR_MALFORMED: a frame is truncated inside its declared
 *   length, holds an invalid field or breaks a limit
 * @FLOW_SYNC_ERROR_TOO_LARGE: a frame declares a length above
 *   %FLOW_SYNC_FRAME_MAX_SIZE
 * @FLOW_SYNC_ERROR_PROTOCOL: frames arrive in an order the protocol
 *   forbids (the first frame is not HELLO, or HELLO comes twice)
 *
 * Errors of the peer protocol. Each one ends the link.
 */
typedef enum
{
  FLOW_SYNC_ERROR_MALFORMED,
  FLOW_SYNC_ERROR_TOO_LARGE,
  FLOW_SYNC_ERROR_PROTOCOL,
} FlowSyncError;

/**
 * FlowSyncFrameType:
 * @FLOW_SYNC_FRAME_UNKNOWN: a type this build does not know (only ever
 *   decoded, never encoded; see FlowSyncFrame.unknown_type)
 *
 * The values are the type bytes on the wire: never renumber them.
 */
typedef enum
{
  FLOW_SYNC_FRAME_UNKNOWN  = 0,
  FLOW_SYNC_FRAME_HELLO    = 1,
  FLOW_SYNC_FRAME_SUMMARY  = 2,
  FLOW_SYNC_FRAME_OPS      = 3,
  FLOW_SYNC_FRAME_PRESENCE = 4,
  FLOW_SYNC_FRAME_CHAT     = 5,
  FLOW_SYNC_FRAME_PING     = 6,
  FLOW_SYNC_FRAME_PONG     = 7,
  FLOW_SYNC_FRAME_BYE      = 8,
} FlowSyncFrameType;

/* One document's entry of a SUMMARY: @version holds the bytes of
 * flow_version_vector_encode(), which the codec does not look into. */
typedef struct
{
  FlowOpId  doc;
  GBytes   *version;
} FlowSyncSummaryEntry;

/* Flags of a PRESENCE frame: which of its optional parts are present. */
typedef enum
{
  FLOW_SYNC_PRESENCE_HAS_DOC       = 1 << 0,
  FLOW_SYNC_PRESENCE_HAS_SELECTION = 1 << 1,
  FLOW_SYNC_PRESENCE_HAS_VIEWPORT  = 1 << 2,
} FlowSyncPresenceFlags;

#define FLOW_SYNC_PRESENCE_ALL_FLAGS 0x7

/**
 * FlowSyncFrame:
 *
 * One decoded frame: a plain struct whose @type says which member of the
 * union is valid. Strings are NUL-terminated, valid UTF-8 without NUL
 * bytes, and owned by the frame; so are the GBytes and the GArray. Free
 * the contents with flow_sync_frame_clear().
 *
 * A PRESENCE selection is @anchor..@cursor in code points of a page (equal
 * for a caret); a viewport is the board's scroll position and zoom (finite,
 * zoom > 0). CHAT @time is Unix time in microseconds.
 */
typedef struct
{
  FlowSyncFrameType type;
  guint8            unknown_type;  /* the raw type byte if @type is UNKNOWN */
  union
  {
    struct
    {
      guint32        version;
      FlowReplicaId  replica;
      char          *name;
      guint32        color;        /* 0xRRGGBBAA */
    } hello;
    struct
    {
      GArray *entries;             /* of FlowSyncSummaryEntry, may be NULL if empty */
    } summary;
    struct
    {
      FlowOpId  doc;
      GBytes   *batch;             /* opaque: flow_doc_encode_since() bytes */
    } ops;
    struct
    {
      guint     flags;             /* FlowSyncPresenceFlags */
      FlowOpId  doc;
      guint64   anchor;
      guint64   cursor;
      double    x;
      double    y;
      double    zoom;
      char     *tool;              /* may be NULL, meaning "" */
    } presence;
    struct
    {
      FlowOpId  id;
      guint64   lamport;
      gint64    time;
      char     *text;
    } chat;
    struct
    {
      guint64 nonce;
    } ping;                        /* PING and PONG */
    struct
    {
      guint32  code;
      char    *text;               /* may be NULL, meaning "" */
    } bye;
  };
} FlowSyncFrame;

typedef struct _FlowSyncFrameReader FlowSyncFrameReader;

GQuark               flow_sync_error_quark            (void) G_GNUC_CONST;

GBytes              *flow_sync_frame_encode           (const FlowSyncFrame  *frame);
gboolean             flow_sync_frame_decode           (const guint8         *data,
                                                       gsize                 len,
                                                       gsize                *consumed,
                                                       FlowSyncFrame        *out,
                                                       GError              **error);
void                 flow_sync_frame_clear            (FlowSyncFrame        *frame);
void                 flow_sync_frame_summary_add      (FlowSyncFrame        *frame,
                                                       const FlowOpId       *doc,
                                                       GBytes               *version);

FlowSyncFrameReader *flow_sync_frame_reader_new       (void);
void                 flow_sync_frame_reader_free      (FlowSyncFrameReader  *reader);
void                 flow_sync_frame_reader_feed      (FlowSyncFrameReader  *reader,
                                                       const guint8         *data,
                                                       gsize                 len);
gboolean             flow_sync_frame_reader_pop       (FlowSyncFrameReader  *reader,
                                                       FlowSyncFrame        *out,
                                                       GError              **error);
gsize                flow_sync_frame_reader_get_pending (FlowSyncFrameReader *reader);
guint32              flow_sync_frame_reader_get_peer_version (FlowSyncFrameReader *reader);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FlowSyncFrame, flow_sync_frame_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowSyncFrameReader, flow_sync_frame_reader_free)

G_END_DECLS
