/* flow-fracindex.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * Fractional-index keys for z-order and catalog order.
 *
 * A key is a string compared with strcmp() (plain byte order). To place an
 * item between two others we make a key between their keys, so a move is
 * one LWW write of one key, never a renumbering.
 *
 * Format (after David Greenspan's scheme): an integer part, then a
 * fractional part.
 *  - Digits are base 62 in ASCII order: 0-9, A-Z, a-z.
 *  - The integer part is a head char and a fixed number of digits: heads
 *    'a'..'z' carry 1..26 digits, heads 'Z'..'A' carry 1..26 digits and sort
 *    below every 'a' key. So integers grow in length only logarithmically
 *    and repeated "put on top" keys stay short ("a0", "a1", ... "b10" ...).
 *  - The fractional part never ends in '0', so every position has exactly
 *    one key and "between" always exists.
 *
 * Jitter: two peers putting a shape into the same gap at once would make the
 * same key. Where it is safe we append two random digits, so concurrent
 * keys almost never collide; when they do, the order falls back to the
 * shape id, which is total. Validation rejects any key outside this
 * grammar so a peer cannot make our ordering depend on malformed input.
 */

#include "config.h"

#include <string.h>

#include "flow-fracindex-private.h"

static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
#define BASE 62

static int
digit_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'Z')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 36;
  return -1;
}

/* Length of the integer part (head + digits) for head @h, or 0. */
static gsize
integer_len (char h)
{
  if (h >= 'a' && h <= 'z')
    return (gsize) (h - 'a') + 2;
  if (h >= 'A' && h <= 'Z')
    return (gsize) ('Z' - h) + 2;
  return 0;
}

gboolean
flow_frac_key_is_valid (const char *key,
                        gsize       len)
{
  gsize ilen;

  if (key == NULL || len == 0 || len > FLOW_FRAC_KEY_MAX_LEN)
    return FALSE;
  ilen = integer_len (key[0]);
  if (ilen == 0 || len < ilen)
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (digit_value (key[i]) < 0)
      return FALSE;
  if (len > ilen && key[len - 1] == '0')
    return FALSE;
  return TRUE;
}

/* Digits strictly between fractions @a and @b (b == NULL means 1), written
 * to @out. Neither input ends in '0'; neither does the result. */
static void
midpoint (const char *a,
          const char *b,
          GString    *out)
{
  gsize n = 0;
  gsize a_len = strlen (a);
  int da, db;

  /* Shared leading digits (a is padded with zeros) are copied as is. */
  if (b != NULL)
    {
      while ((n < a_len ? a[n] : '0') == b[n])
        n++;
      g_string_append_len (out, b, n);
      a += MIN (n, a_len);
      b += n;
    }

  da = a[0] ? digit_value (a[0]) : 0;
  db = b != NULL ? digit_value (b[0]) : BASE;

  if (db - da > 1)
    {
      g_string_append_c (out, digits[(da + db) / 2]);
      return;
    }
  if (b != NULL && b[1] != '\0')
    {
      /* b is "d..." with more digits: "d" alone is below b and above a. */
      g_string_append_c (out, b[0]);
      return;
    }
  g_string_append_c (out, digits[da]);
  midpoint (a[0] ? a + 1 : a, NULL, out);
}

/* Adds one to the integer part @i (in place, into @out). Returns FALSE on
 * overflow of the largest integer. */
static gboolean
increment_integer (const char *i,
                   gsize       ilen,
                   GString    *out)
{
  char buf[32];
  gsize k;

  memcpy (buf, i, ilen);
  for (k = ilen - 1; k >= 1; k--)
    {
      int d = digit_value (buf[k]);

      if (d < BASE - 1)
        {
          buf[k] = digits[d + 1];
          g_string_append_len (out, buf, ilen);
          return TRUE;
        }
      buf[k] = '0';
    }

  /* All digits overflowed: the next head, one digit more or less. */
  if (buf[0] == 'z')
    return FALSE;
  if (buf[0] == 'Z')
    {
      g_string_append (out, "a0");
      return TRUE;
    }
  buf[0]++;
  g_string_append_c (out, buf[0]);
  for (k = 1; k < integer_len (buf[0]); k++)
    g_string_append_c (out, '0');
  return TRUE;
}

static gboolean
decrement_integer (const char *i,
                   gsize       ilen,
                   GString    *out)
{
  char buf[32];
  gsize k;

  memcpy (buf, i, ilen);
  for (k = ilen - 1; k >= 1; k--)
    {
      int d = digit_value (buf[k]);

      if (d > 0)
        {
          buf[k] = digits[d - 1];
          g_string_append_len (out, buf, ilen);
          return TRUE;
        }
      buf[k] = 'z';
    }

  if (buf[0] == 'A')
    return FALSE;
  if (buf[0] == 'a')
    {
      g_string_append (out, "Zz");
      return TRUE;
    }
  buf[0]--;
  g_string_append_c (out, buf[0]);
  for (k = 1; k < integer_len (buf[0]); k++)
    g_string_append_c (out, 'z');
  return TRUE;
}

static void
add_jitter (GString *out,
            GRand   *jitter)
{
  if (jitter == NULL)
    return;
  g_string_append_c (out, digits[g_rand_int_range (jitter, 0, BASE)]);
  g_string_append_c (out, digits[g_rand_int_range (jitter, 1, BASE)]);
}

/*
 * flow_frac_key_between:
 * @a: (nullable): a valid key, or %NULL for "no lower bound"
 * @b: (nullable): a valid key above @a, or %NULL for "no upper bound"
 * @jitter: (nullable): random source for jitter digits
 *
 * Returns: (transfer full) (nullable): a valid key strictly between @a and
 * @b, or %NULL if none exists (below the smallest possible integer, or
 * when the keys around have grown to FLOW_FRAC_KEY_MAX_LEN).
 */
char *
flow_frac_key_between (const char *a,
                       const char *b,
                       GRand      *jitter)
{
  GString *out = g_string_new (NULL);
  gsize ia = a ? integer_len (a[0]) : 0;
  gsize ib = b ? integer_len (b[0]) : 0;

  g_return_val_if_fail (a == NULL || flow_frac_key_is_valid (a, strlen (a)), NULL);
  g_return_val_if_fail (b == NULL || flow_frac_key_is_valid (b, strlen (b)), NULL);
  g_return_val_if_fail (a == NULL || b == NULL || strcmp (a, b) < 0, NULL);

  if (a == NULL && b == NULL)
    {
      g_string_append (out, "a0");
      add_jitter (out, jitter);
    }
  else if (a == NULL)
    {
      /* Below b: its integer part if b has a fraction, else one less. */
      if (b[ib] != '\0')
        g_string_append_len (out, b, ib);
      else if (decrement_integer (b, ib, out))
        add_jitter (out, jitter);
      else
        {
          g_string_free (out, TRUE);
          return NULL;
        }
    }
  else if (b == NULL)
    {
      if (increment_integer (a, ia, out))
        add_jitter (out, jitter);
      else
        {
          g_string_append_len (out, a, ia);
          midpoint (a + ia, NULL, out);
        }
    }
  else if (ia == ib && memcmp (a, b, ia) == 0)
    {
      g_string_append_len (out, a, ia);
      midpoint (a + ia, b + ib, out);
    }
  else
    {
      GString *next = g_string_new (NULL);

      /* Round a up; if that still sits below b it is our key. */
      if (increment_integer (a, ia, next) && strcmp (next->str, b) < 0)
        {
          g_string_append_len (out, next->str, next->len);
          /* Jitter is only safe if b lies in a higher integer. */
          if (strncmp (next->str, b, next->len) != 0)
            add_jitter (out, jitter);
        }
      else
        {
          g_string_append_len (out, a, ia);
          midpoint (a + ia, NULL, out);
        }
      g_string_free (next, TRUE);
    }

  /* Bisecting one gap again and again lengthens keys by about one digit
   * every six times; past the limit there is no valid key to give. The
   * caller has to rebalance the order (rewrite keys evenly) instead. */
  if (out->len > FLOW_FRAC_KEY_MAX_LEN)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}
