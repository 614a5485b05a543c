/* flow-map.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * A map of entities with last-writer-wins properties: the CRDT behind
 * boards (entities are shapes) and the workspace catalog (entities are
 * documents).
 *
 * Invariants and merge rules
 * --------------------------
 *  - An entity is named by the id of the op that created it, so ids are
 *    unique without coordination. CREATE fixes the entity's kind forever.
 *  - Every (entity, key) pair is a register. A SET op wins if its (lamport,
 *    replica, seq) is greater than the current winner's. Lamport stamps come
 *    from the causal graph, so a write made after seeing another always
 *    wins, and concurrent writes are decided the same way on every replica
 *    whatever order they arrive in. Applying an op twice is impossible: the
 *    op log drops duplicates before we see them.
 *  - Deletion is the register "deleted" set to true. A concurrent edit of a
 *    property never resurrects a deleted entity, and undoing a delete is
 *    just writing false.
 *  - The order of entities (z-order, catalog order) is the string register
 *    named by the schema's order key, a fractional index, compared as
 *    (key bytes, entity id). The id tie-break keeps the order total even
 *    when two replicas make the same key.
 *  - Values are checked against the schema before they are applied
 *    (flow_map_check_set()), so nothing malformed reaches a register.
 *
 * Ops are stored by LV (one per op) and keep their values, so any earlier
 * version can be rebuilt by replaying a prefix.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "flow-error.h"
#include "flow-fracindex-private.h"
#include "flow-map-private.h"

#define MAX_KEY_LEN 32

struct _FlowMap
{
  FlowOpLog           *log;
  const FlowMapSchema *schema;
  GArray              *ops;      /* FlowMapOp; index = LV */
  GPtrArray           *strings;  /* interned keys and kinds */
  GHashTable          *string_index;
  GHashTable          *entities; /* LV -> FlowEntity */
  GSequence           *order;    /* live entities by (order key, id) */
  guint32              order_key;
  guint32              deleted_key;
};

/* ------------------------------------------------------------------------
 * Schemas
 * ------------------------------------------------------------------------ */

static gboolean
check_size (const FlowValue *v)
{
  double d = flow_value_get_number (v);

  return d >= 0 && d <= 1e7;
}

static gboolean
check_coord (const FlowValue *v)
{
  return fabs (flow_value_get_number (v)) <= 1e9;
}

static gboolean
check_unit (const FlowValue *v)
{
  double d = flow_value_get_number (v);

  return d >= 0 && d <= 1;
}

static gboolean
check_font_size (const FlowValue *v)
{
  double d = flow_value_get_number (v);

  return d > 0 && d <= 1000;
}

static gboolean
check_stroke_width (const FlowValue *v)
{
  double d = flow_value_get_number (v);

  return d >= 0 && d <= 1000;
}

static gboolean
check_frac_key (const FlowValue *v)
{
  const char *s = flow_value_get_string (v);

  return flow_frac_key_is_valid (s, strlen (s));
}

static gboolean
check_short_string (const FlowValue *v)
{
  return strlen (flow_value_get_string (v)) <= 1024;
}

static gboolean
check_points (const FlowValue *v)
{
  guint n;
  const FlowPoint *p = flow_value_get_points (v, &n);

  for (guint i = 0; i < n; i++)
    if (!isfinite (p[i].x) || !isfinite (p[i].y) || fabsf (p[i].x) > 1e9f || fabsf (p[i].y) > 1e9f ||
        !(p[i].pressure >= 0 && p[i].pressure <= 1))
      return FALSE;
  return TRUE;
}

static const char * const board_kinds[] = {
  "rect", "ellipse", "diamond", "line", "arrow", "stroke", "text", "sticky", "image", NULL,
};

static const FlowKeySpec board_keys[] = {
  { "x",            FLOW_VALUE_NUMBER, FALSE, check_coord },
  { "y",            FLOW_VALUE_NUMBER, FALSE, check_coord },
  { "w",            FLOW_VALUE_NUMBER, FALSE, check_size },
  { "h",            FLOW_VALUE_NUMBER, FALSE, check_size },
  { "rotation",     FLOW_VALUE_NUMBER, FALSE, check_coord },
  { "stroke",       FLOW_VALUE_COLOR,  FALSE, NULL },
  { "fill",         FLOW_VALUE_COLOR,  FALSE, NULL },
  { "stroke_width", FLOW_VALUE_NUMBER, FALSE, check_stroke_width },
  { "opacity",      FLOW_VALUE_NUMBER, FALSE, check_unit },
  { "font_size",    FLOW_VALUE_NUMBER, FALSE, check_font_size },
  { "text",         FLOW_VALUE_STRING, FALSE, NULL },
  { "points",       FLOW_VALUE_POINTS, FALSE, check_points },
  { "z",            FLOW_VALUE_STRING, FALSE, check_frac_key },
  { "deleted",      FLOW_VALUE_BOOL,   FALSE, NULL },
  { "start",        FLOW_VALUE_REF,    TRUE,  NULL },
  { "end",          FLOW_VALUE_REF,    TRUE,  NULL },
  { "group",        FLOW_VALUE_STRING, TRUE,  check_short_string },
  { "image",        FLOW_VALUE_BYTES,  FALSE, NULL },
  { "mime_type",    FLOW_VALUE_STRING, FALSE, check_short_string },
  { "locked",       FLOW_VALUE_BOOL,   FALSE, NULL },
};

const FlowMapSchema flow_board_schema = {
  board_kinds, board_keys, G_N_ELEMENTS (board_keys), "z",
};

static const char * const catalog_kinds[] = { "page", "board", NULL };

static const FlowKeySpec catalog_keys[] = {
  { "title",   FLOW_VALUE_STRING, FALSE, check_short_string },
  { "folder",  FLOW_VALUE_STRING, FALSE, check_short_string },
  { "order",   FLOW_VALUE_STRING, FALSE, check_frac_key },
  { "deleted", FLOW_VALUE_BOOL,   FALSE, NULL },
};

const FlowMapSchema flow_catalog_schema = {
  catalog_kinds, catalog_keys, G_N_ELEMENTS (catalog_keys), "order",
};

static gboolean
check_message_text (const FlowValue *v)
{
  const char *text = flow_value_get_string (v);

  return *text != '\0' && strlen (text) <= 16 * 1024;
}

static gboolean
check_time (const FlowValue *v)
{
  double t = flow_value_get_number (v);

  return isfinite (t) && t >= 0 && t <= 1e17;
}

static const char * const chat_kinds[] = { "message", NULL };

/* Messages never change once posted: only CREATE and the SETs of the same
 * change; "order" exists because every map schema has an order key, and
 * chat orders by (time, id) instead (flow-chat.c). */
static const FlowKeySpec chat_keys[] = {
  { "author",  FLOW_VALUE_STRING, FALSE, check_short_string },
  { "color",   FLOW_VALUE_COLOR,  FALSE, NULL },
  { "text",    FLOW_VALUE_STRING, FALSE, check_message_text },
  { "time",    FLOW_VALUE_NUMBER, FALSE, check_time },
  { "order",   FLOW_VALUE_STRING, FALSE, check_frac_key },
};

const FlowMapSchema flow_chat_schema = {
  chat_kinds, chat_keys, G_N_ELEMENTS (chat_keys), "order",
};

/* ------------------------------------------------------------------------
 * Private functions
 * ------------------------------------------------------------------------ */

static void
entity_free (gpointer data)
{
  FlowEntity *e = data;

  g_free (e->props);
  g_free (e);
}

static const char *
order_string (const FlowMap    *map,
              const FlowEntity *e)
{
  const FlowProp *p = flow_map_get_prop (e, map->order_key);

  if (p == NULL || flow_value_get_value_type (p->value) != FLOW_VALUE_STRING)
    return "";
  return flow_value_get_string (p->value);
}

static gint
order_cmp (gconstpointer a,
           gconstpointer b,
           gpointer      user_data)
{
  FlowMap *map = user_data;
  const FlowEntity *x = a;
  const FlowEntity *y = b;
  int r = strcmp (order_string (map, x), order_string (map, y));
  FlowOpId ix, iy;

  if (r != 0)
    return r;
  ix = flow_oplog_lv_to_op_id (map->log, x->lv);
  iy = flow_oplog_lv_to_op_id (map->log, y->lv);
  return flow_op_id_compare (&ix, &iy);
}

static void
order_update (FlowMap    *map,
              FlowEntity *e)
{
  if (e->order_iter != NULL)
    {
      g_sequence_remove (e->order_iter);
      e->order_iter = NULL;
    }
  if (!e->deleted)
    e->order_iter = g_sequence_insert_sorted (map->order, e, order_cmp, map);
}

static gboolean
key_is_well_formed (const char *key)
{
  gsize len = strlen (key);

  if (len == 0 || len > MAX_KEY_LEN || !g_ascii_islower (key[0]))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_islower (key[i]) && !g_ascii_isdigit (key[i]) && key[i] != '_')
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------
 * API implementation
 * ------------------------------------------------------------------------ */

FlowMap *
flow_map_new (FlowOpLog           *log,
              const FlowMapSchema *schema)
{
  FlowMap *map = g_new0 (FlowMap, 1);

  map->log = log;
  map->schema = schema;
  map->ops = g_array_new (FALSE, TRUE, sizeof (FlowMapOp));
  map->strings = g_ptr_array_new_with_free_func (g_free);
  map->string_index = g_hash_table_new (g_str_hash, g_str_equal);
  map->entities = g_hash_table_new_full (NULL, NULL, NULL, entity_free);
  map->order = g_sequence_new (NULL);
  map->order_key = flow_map_intern (map, schema->order_key);
  map->deleted_key = flow_map_intern (map, "deleted");
  return map;
}

void
flow_map_free (FlowMap *map)
{
  if (map == NULL)
    return;
  for (guint i = 0; i < map->ops->len; i++)
    g_clear_pointer (&g_array_index (map->ops, FlowMapOp, i).value, flow_value_unref);
  g_array_unref (map->ops);
  g_sequence_free (map->order);
  g_hash_table_unref (map->entities);
  g_hash_table_unref (map->string_index);
  g_ptr_array_unref (map->strings);
  g_free (map);
}

gsize
flow_map_memory (const FlowMap *map)
{
  GHashTableIter iter;
  gpointer value;
  gsize total = sizeof *map + map->ops->len * sizeof (FlowMapOp);

  g_hash_table_iter_init (&iter, map->entities);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    total += sizeof (FlowEntity) + ((FlowEntity *) value)->cap_props * sizeof (FlowProp) + 48;
  return total;
}

/* Returns the index of @str in the string table, adding it if needed. */
guint32
flow_map_intern (FlowMap    *map,
                 const char *str)
{
  guint32 index;
  char *copy;

  if (flow_map_lookup_string (map, str, &index))
    return index;
  copy = g_strdup (str);
  index = map->strings->len;
  g_ptr_array_add (map->strings, copy);
  g_hash_table_insert (map->string_index, copy, GUINT_TO_POINTER (index + 1));
  return index;
}

gboolean
flow_map_lookup_string (const FlowMap *map,
                        const char    *str,
                        guint32       *index)
{
  gpointer v = g_hash_table_lookup (map->string_index, str);

  if (v == NULL)
    return FALSE;
  *index = GPOINTER_TO_UINT (v) - 1;
  return TRUE;
}

const char *
flow_map_string (const FlowMap *map,
                 guint32        index)
{
  return g_ptr_array_index (map->strings, index);
}

guint
flow_map_n_strings (const FlowMap *map)
{
  return map->strings->len;
}

gboolean
flow_map_check_kind (const FlowMap  *map,
                     const char     *kind,
                     GError        **error)
{
  for (guint i = 0; map->schema->kinds[i] != NULL; i++)
    if (strcmp (map->schema->kinds[i], kind) == 0)
      return TRUE;

  g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
               "“%s” is not a kind of item this document can hold", kind);
  return FALSE;
}

/*
 * Checks that @value may be written to @key: the key is well formed and,
 * if the schema knows it, the value has its type and passes its check.
 */
gboolean
flow_map_check_set (const FlowMap    *map,
                    const char       *key,
                    const FlowValue  *value,
                    GError          **error)
{
  FlowValueType type = flow_value_get_value_type (value);

  if (!key_is_well_formed (key))
    {
      g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a property name", key);
      return FALSE;
    }

  for (guint i = 0; i < map->schema->n_keys; i++)
    {
      const FlowKeySpec *spec = &map->schema->keys[i];

      if (strcmp (spec->name, key) != 0)
        continue;
      /* Null unsets a property (its default applies); undo needs it. */
      if (type == FLOW_VALUE_NULL)
        return TRUE;
      if (type != spec->type || (spec->check != NULL && !spec->check (value)))
        {
          g_set_error (error, FLOW_CORE_ERROR, FLOW_CORE_ERROR_INVALID_ARGUMENT,
                       "Invalid value for property “%s”: expected a valid %s",
                       key, flow_value_type_to_string (spec->type));
          return FALSE;
        }
      return TRUE;
    }

  return TRUE;
}

void
flow_map_apply_create (FlowMap *map,
                       FlowLv   lv,
                       guint32  kind)
{
  FlowEntity *e = g_new0 (FlowEntity, 1);
  FlowMapOp *op;

  if (map->ops->len <= lv)
    g_array_set_size (map->ops, MAX (lv + 1, map->ops->len * 3 / 2));
  op = &g_array_index (map->ops, FlowMapOp, lv);
  op->kind = FLOW_MAP_OP_CREATE;
  op->entity = lv;
  op->name = kind;

  e->lv = lv;
  e->kind = kind;
  g_hash_table_insert (map->entities, GUINT_TO_POINTER (lv), e);
  order_update (map, e);
}

/*
 * Applies SET op @lv: @entity.@key = @value (the op keeps a reference).
 * The entity must exist and the value must have passed
 * flow_map_check_set().
 *
 * Returns: %TRUE if the op won its register (the visible value changed)
 */
gboolean
flow_map_apply_set (FlowMap   *map,
                    FlowLv     lv,
                    FlowLv     entity,
                    guint32    key,
                    FlowValue *value)
{
  FlowEntity *e = flow_map_get_entity (map, entity);
  FlowMapOp *op;
  FlowProp *prop = NULL;

  g_assert (e != NULL);

  if (map->ops->len <= lv)
    g_array_set_size (map->ops, MAX (lv + 1, map->ops->len * 3 / 2));
  op = &g_array_index (map->ops, FlowMapOp, lv);
  op->kind = FLOW_MAP_OP_SET;
  op->entity = entity;
  op->name = key;
  op->value = flow_value_ref (value);

  for (guint i = 0; i < e->n_props; i++)
    if (e->props[i].key == key)
      {
        prop = &e->props[i];
        break;
      }

  if (prop == NULL)
    {
      if (e->n_props == e->cap_props)
        {
          e->cap_props = MAX (4, e->cap_props * 2);
          e->props = g_renew (FlowProp, e->props, e->cap_props);
        }
      prop = &e->props[e->n_props++];
      prop->key = key;
    }
  else if (flow_oplog_compare_lv (map->log, lv, prop->winner) < 0)
    return FALSE;

  prop->winner = lv;
  prop->value = value;

  if (key == map->deleted_key)
    {
      e->deleted = flow_value_get_value_type (value) == FLOW_VALUE_BOOL && flow_value_get_bool (value);
      order_update (map, e);
    }
  else if (key == map->order_key)
    order_update (map, e);

  return TRUE;
}

const FlowMapOp *
flow_map_get_op (const FlowMap *map,
                 FlowLv         lv)
{
  if (lv >= map->ops->len)
    return NULL;
  return &g_array_index (map->ops, FlowMapOp, lv);
}

FlowEntity *
flow_map_get_entity (const FlowMap *map,
                     FlowLv         lv)
{
  return g_hash_table_lookup (map->entities, GUINT_TO_POINTER (lv));
}

const FlowProp *
flow_map_get_prop (const FlowEntity *e,
                   guint32           key)
{
  for (guint i = 0; i < e->n_props; i++)
    if (e->props[i].key == key)
      return &e->props[i];
  return NULL;
}

guint
flow_map_n_entities (const FlowMap *map)
{
  return g_hash_table_size (map->entities);
}

static gint
lv_id_cmp (gconstpointer a,
           gconstpointer b,
           gpointer      user_data)
{
  FlowOpLog *log = user_data;
  FlowOpId x = flow_oplog_lv_to_op_id (log, *(const FlowLv *) a);
  FlowOpId y = flow_oplog_lv_to_op_id (log, *(const FlowLv *) b);

  return flow_op_id_compare (&x, &y);
}

/* Returns the LVs of the entities, sorted by id (so the same on every
 * replica). */
GArray *
flow_map_list (FlowMap  *map,
               gboolean  include_deleted)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (FlowLv));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, map->entities);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      FlowEntity *e = value;

      if (include_deleted || !e->deleted)
        g_array_append_val (out, e->lv);
    }
  g_array_sort_with_data (out, lv_id_cmp, map->log);
  return out;
}

GSequence *
flow_map_get_order (FlowMap *map)
{
  return map->order;
}

guint32
flow_map_order_key (const FlowMap *map)
{
  return map->order_key;
}

guint32
flow_map_deleted_key (const FlowMap *map)
{
  return map->deleted_key;
}
