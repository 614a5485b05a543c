/* flow-types.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * FlowReplicaId:
 *
 * A random 64-bit identifier of one device (and session) editing one
 * workspace. Every op id carries it; ties between concurrent ops are broken
 * by comparing replica ids as unsigned integers.
 */
typedef guint64 FlowReplicaId;

/**
 * FlowOpId:
 * @replica: the replica that created the op
 * @seq: the op's sequence number, dense per (replica, document) from 0
 *
 * The globally unique name of one op. Shapes and documents are named by the
 * id of the op that created them.
 */
typedef struct
{
  FlowReplicaId replica;
  guint64       seq;
} FlowOpId;

/**
 * FlowDocKind:
 * @FLOW_DOC_KIND_PAGE: a Markdown page: a text sequence CRDT
 * @FLOW_DOC_KIND_BOARD: a whiteboard: shapes with last-writer-wins properties
 * @FLOW_DOC_KIND_CATALOG: the workspace catalog: documents with LWW properties
 * @FLOW_DOC_KIND_CHAT: the workspace's huddle chat: immutable messages
 *
 * The kind of a document; fixed when the document is created.
 */
typedef enum
{
  FLOW_DOC_KIND_PAGE    = 0,
  FLOW_DOC_KIND_BOARD   = 1,
  FLOW_DOC_KIND_CATALOG = 2,
  FLOW_DOC_KIND_CHAT    = 3,
} FlowDocKind;

#define FLOW_DOC_KIND_LAST FLOW_DOC_KIND_CHAT

/* Local versions (LVs) number the ops of one document in the order this
 * replica applied them. They are dense, start at 0, differ between replicas
 * and never leave the process: the codec translates them to FlowOpIds. */
typedef guint32 FlowLv;
#define FLOW_LV_NONE G_MAXUINT32

typedef struct _FlowDoc           FlowDoc;
typedef struct _FlowOpLog         FlowOpLog;
typedef struct _FlowVersionVector FlowVersionVector;
typedef struct _FlowChange        FlowChange;

const char  *flow_doc_kind_to_string   (FlowDocKind  kind);
gboolean     flow_doc_kind_from_string (const char  *str,
                                        FlowDocKind *kind);

gint         flow_op_id_compare        (const FlowOpId *a,
                                        const FlowOpId *b);
gboolean     flow_op_id_equal          (const FlowOpId *a,
                                        const FlowOpId *b);
char        *flow_op_id_to_string      (const FlowOpId *id);
gboolean     flow_op_id_parse          (const char     *str,
                                        FlowOpId       *id);

G_END_DECLS
