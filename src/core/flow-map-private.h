/* flow-map-private.h
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "flow-oplog-private.h"
#include "flow-value.h"

G_BEGIN_DECLS

typedef struct _FlowMap FlowMap;

typedef enum
{
  FLOW_MAP_OP_CREATE = 0,
  FLOW_MAP_OP_SET    = 1,
} FlowMapOpKind;

/* The payload of one map op, stored by LV. CREATE makes entity @lv of kind
 * @name (an interned string); SET writes @value to key @name of @entity. */
typedef struct
{
  FlowLv     entity;
  guint32    name;
  guint32    kind;
  FlowValue *value;
} FlowMapOp;

typedef struct
{
  const char    *name;
  FlowValueType  type;
  gboolean       nullable;
  gboolean     (*check) (const FlowValue *value);
} FlowKeySpec;

/* What a map document may contain: entity kinds, typed keys, and the key
 * whose string value orders entities (fractional index). Keys not listed
 * are accepted if well formed, so newer peers can add properties. */
typedef struct
{
  const char * const *kinds;
  const FlowKeySpec  *keys;
  guint               n_keys;
  const char         *order_key;
} FlowMapSchema;

extern const FlowMapSchema flow_board_schema;
extern const FlowMapSchema flow_catalog_schema;
extern const FlowMapSchema flow_chat_schema;

typedef struct
{
  guint32    key;
  FlowLv     winner;
  FlowValue *value;
} FlowProp;

typedef struct
{
  FlowLv         lv;
  guint32        kind;
  guint32        n_props;
  guint32        cap_props;
  FlowProp      *props;
  GSequenceIter *order_iter;
  guint          deleted : 1;
} FlowEntity;

FlowMap         *flow_map_new             (FlowOpLog           *log,
                                           const FlowMapSchema *schema);
void             flow_map_free            (FlowMap             *map);
gsize            flow_map_memory          (const FlowMap       *map);
guint32          flow_map_intern          (FlowMap             *map,
                                           const char          *str);
gboolean         flow_map_lookup_string   (const FlowMap       *map,
                                           const char          *str,
                                           guint32             *index);
const char      *flow_map_string          (const FlowMap       *map,
                                           guint32              index);
guint            flow_map_n_strings       (const FlowMap       *map);
gboolean         flow_map_check_kind      (const FlowMap       *map,
                                           const char          *kind,
                                           GError             **error);
gboolean         flow_map_check_set       (const FlowMap       *map,
                                           const char          *key,
                                           const FlowValue     *value,
                                           GError             **error);
void             flow_map_apply_create    (FlowMap             *map,
                                           FlowLv               lv,
                                           guint32              kind);
gboolean         flow_map_apply_set       (FlowMap             *map,
                                           FlowLv               lv,
                                           FlowLv               entity,
                                           guint32              key,
                                           FlowValue           *value);
const FlowMapOp *flow_map_get_op          (const FlowMap       *map,
                                           FlowLv               lv);
FlowEntity      *flow_map_get_entity      (const FlowMap       *map,
                                           FlowLv               lv);
const FlowProp  *flow_map_get_prop        (const FlowEntity    *entity,
                                           guint32              key);
guint            flow_map_n_entities      (const FlowMap       *map);
GArray          *flow_map_list            (FlowMap             *map,
                                           gboolean             include_deleted);
GSequence       *flow_map_get_order       (FlowMap             *map);
guint32          flow_map_order_key       (const FlowMap       *map);
guint32          flow_map_deleted_key     (const FlowMap       *map);

G_END_DECLS
