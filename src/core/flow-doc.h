/* flow-doc.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib-object.h>

#include "flow-types.h"
#include "flow-value.h"
#include "flow-version.h"

G_BEGIN_DECLS

#define FLOW_TYPE_DOC (flow_doc_get_type ())

G_DECLARE_FINAL_TYPE (FlowDoc, flow_doc, FLOW, DOC, GObject)

/**
 * FlowClockFunc:
 * @user_data: data given to flow_doc_set_clock()
 *
 * Returns: a monotonic time in microseconds
 */
typedef gint64 (*FlowClockFunc) (gpointer user_data);

/**
 * FlowTextEdit:
 * @pos: where the edit happened, in code points
 * @removed: how many code points were removed at @pos
 * @inserted: (nullable): the UTF-8 inserted at @pos (not nul-terminated)
 * @inserted_len: the length of @inserted in bytes
 * @inserted_chars: the length of @inserted in code points
 *
 * One change of a page's text. The edits of a #FlowChange apply one after
 * the other: each position is relative to the text after the edits before
 * it.
 */
typedef struct
{
  guint       pos;
  guint       removed;
  const char *inserted;
  gsize       inserted_len;
  guint       inserted_chars;
} FlowTextEdit;

#define FLOW_TYPE_CHANGE (flow_change_get_type ())

GType               flow_change_get_type        (void) G_GNUC_CONST;
FlowChange         *flow_change_ref             (FlowChange     *change);
void                flow_change_unref           (FlowChange     *change);
FlowDoc            *flow_change_get_doc         (FlowChange     *change);
gboolean            flow_change_is_local        (FlowChange     *change);
guint               flow_change_get_n_ops       (FlowChange     *change);
GBytes             *flow_change_get_bytes       (FlowChange     *change);
const FlowOpId     *flow_change_get_first_op    (FlowChange     *change);
const FlowTextEdit *flow_change_get_text_edits  (FlowChange     *change,
                                                 guint          *n_edits);
const FlowOpId     *flow_change_get_entities    (FlowChange     *change,
                                                 guint          *n_entities);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlowChange, flow_change_unref)

/**
 * FlowChangeFunc:
 * @doc: the document
 * @change: (transfer none): the change; take a reference to keep it
 * @user_data: data given to flow_doc_add_change_func()
 *
 * An observer of a document's changes (flow_doc_add_change_func()).
 */
typedef void (*FlowChangeFunc) (FlowDoc    *doc,
                                FlowChange *change,
                                gpointer    user_data);

/**
 * FlowBurstFunc:
 * @doc: the document
 * @starting: %TRUE when a burst begins, %FALSE when it ends
 * @user_data: data given to flow_doc_add_burst_func()
 *
 * An observer of bursts (flow_doc_begin_burst()).
 */
typedef void (*FlowBurstFunc) (FlowDoc  *doc,
                               gboolean  starting,
                               gpointer  user_data);

FlowDoc            *flow_doc_new                (FlowDocKind              kind,
                                                 const FlowOpId          *id,
                                                 FlowReplicaId            replica);
FlowDoc            *flow_doc_load               (GBytes                  *bytes,
                                                 FlowReplicaId            replica,
                                                 GError                 **error);
FlowDocKind         flow_doc_get_kind           (FlowDoc                 *self);
const FlowOpId     *flow_doc_get_id             (FlowDoc                 *self);
FlowReplicaId       flow_doc_get_replica        (FlowDoc                 *self);
gboolean            flow_doc_is_read_only       (FlowDoc                 *self);
guint64             flow_doc_get_n_ops          (FlowDoc                 *self);
FlowVersionVector  *flow_doc_dup_version        (FlowDoc                 *self);
FlowVersionVector  *flow_doc_dup_version_at     (FlowDoc                 *self,
                                                 guint64                  n_ops);
guint64             flow_doc_get_next_seq       (FlowDoc                 *self);
guint               flow_doc_add_change_func    (FlowDoc                 *self,
                                                 FlowChangeFunc           func,
                                                 gpointer                 user_data,
                                                 GDestroyNotify           destroy);
void                flow_doc_remove_change_func (FlowDoc                 *self,
                                                 guint                    id);
guint               flow_doc_add_burst_func     (FlowDoc                 *self,
                                                 FlowBurstFunc            func,
                                                 gpointer                 user_data,
                                                 GDestroyNotify           destroy);
void                flow_doc_remove_burst_func  (FlowDoc                 *self,
                                                 guint                    id);
void                flow_doc_begin_burst        (FlowDoc                 *self);
void                flow_doc_end_burst          (FlowDoc                 *self);
gboolean            flow_doc_in_burst           (FlowDoc                 *self);
void                flow_doc_set_clock          (FlowDoc                 *self,
                                                 FlowClockFunc            func,
                                                 gpointer                 user_data,
                                                 GDestroyNotify           destroy);
gsize               flow_doc_get_memory_size    (FlowDoc                 *self);

GBytes             *flow_doc_encode             (FlowDoc                 *self);
GBytes             *flow_doc_encode_since       (FlowDoc                 *self,
                                                 const FlowVersionVector *version);
GBytes             *flow_doc_encode_between     (FlowDoc                 *self,
                                                 const FlowVersionVector *from,
                                                 const FlowVersionVector *to);
gboolean            flow_doc_apply              (FlowDoc                 *self,
                                                 GBytes                  *batch,
                                                 GError                 **error);
FlowVersionVector  *flow_batch_dup_version      (GBytes                  *batch,
                                                 GError                 **error);
guint               flow_doc_get_n_pending      (FlowDoc                 *self);
FlowDoc            *flow_doc_checkout           (FlowDoc                 *self,
                                                 const FlowVersionVector *version,
                                                 GError                 **error);

void                flow_doc_begin_change       (FlowDoc                 *self);
void                flow_doc_end_change         (FlowDoc                 *self);
gboolean            flow_doc_can_undo           (FlowDoc                 *self);
gboolean            flow_doc_can_redo           (FlowDoc                 *self);
gboolean            flow_doc_undo               (FlowDoc                 *self);
gboolean            flow_doc_redo               (FlowDoc                 *self);

/* Pages */
gboolean            flow_doc_insert_text        (FlowDoc                 *self,
                                                 guint                    pos,
                                                 const char              *text,
                                                 gssize                   len,
                                                 GError                 **error);
gboolean            flow_doc_delete_text        (FlowDoc                 *self,
                                                 guint                    pos,
                                                 guint                    n_chars,
                                                 GError                 **error);
char               *flow_doc_dup_text           (FlowDoc                 *self);
guint               flow_doc_get_length         (FlowDoc                 *self);

/* Boards and the catalog */
gboolean            flow_doc_create_entity      (FlowDoc                 *self,
                                                 const char              *kind,
                                                 FlowOpId                *id,
                                                 GError                 **error);
gboolean            flow_doc_set_property       (FlowDoc                 *self,
                                                 const FlowOpId          *entity,
                                                 const char              *key,
                                                 FlowValue               *value,
                                                 GError                 **error);
FlowValue          *flow_doc_get_property       (FlowDoc                 *self,
                                                 const FlowOpId          *entity,
                                                 const char              *key);
const char         *flow_doc_get_entity_kind    (FlowDoc                 *self,
                                                 const FlowOpId          *entity);
gboolean            flow_doc_has_entity         (FlowDoc                 *self,
                                                 const FlowOpId          *entity);
gboolean            flow_doc_entity_is_deleted  (FlowDoc                 *self,
                                                 const FlowOpId          *entity);
GArray             *flow_doc_list_entities      (FlowDoc                 *self,
                                                 gboolean                 include_deleted);
GArray             *flow_doc_list_ordered       (FlowDoc                 *self);
char              **flow_doc_dup_property_names (FlowDoc                 *self,
                                                 const FlowOpId          *entity);
char               *flow_doc_dup_order_key_between (FlowDoc              *self,
                                                 const FlowOpId          *below,
                                                 const FlowOpId          *above);

G_END_DECLS
