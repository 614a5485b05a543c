/* bench-rendezvous.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/*
 * Load generator for flowsync-rendezvous. Starts the server as a second
 * process on a free 127.0.0.1 port, connects N WebSocket clients in rooms
 * of 10 (at most 64 handshakes in flight), and prints one JSON object:
 *
 *   connect_all_s          time until all N clients have their "joined"
 *   rss_per_connection_kb  (server VmRSS after - before) / N
 *   relay_p50_ms/_p99_ms   send -> receive of "signal" messages (the first
 *                          peer of a room to its second), paced, while all
 *                          N clients stay connected
 *   held_50k               with --held N: a fresh server, N clients, and how
 *                          many of them are still connected after 10 s
 *                          (each sends one {"type":"ping"} meanwhile)
 *
 * The generator is a single epoll loop speaking just enough RFC 6455 (one
 * fixed handshake, unfragmented text frames with a zero mask key): a GLib
 * main loop polls every source on every turn, which at 10,000 sockets
 * would make the generator, not the server, the thing measured. Messages
 * are read for their "type" (and "data" for signals) by a string scan,
 * not a JSON parser. The client and server CPU seconds are reported next
 * to each figure, so which side was busy can be read off the output.
 *
 * RLIMIT_NOFILE is raised as far as allowed before the server is spawned
 * (the server inherits it). Each source address 127.0.0.x gets at most
 * ip_local_port_range ports towards the server's one port, so large runs
 * spread the clients over several. Whatever caps a run (descriptors,
 * ports, refused handshakes) is reported in the JSON, never hidden.
 * Nothing here asserts on time.
 *
 * One run is noisy (the machine is shared, the scheduler moves things
 * around), so the main run is repeated --runs times, each on a fresh
 * server: "runs" holds every run's figures and the top-level figures keep
 * their old names but are the median of the runs, so notes written
 * against single runs stay comparable. Failure counters are summed
 * instead (one failed client in any run is worth seeing), and
 * relay_p99_ms_max is the worst run's p99. A figure that did not happen
 * (connect_all_s when not everyone joined, relay percentiles when nothing
 * arrived) is null and ranks as the worst value in the median.
 *
 * With --server-cpu / --client-cpu the server (from fork to exec, so all
 * its threads) and the generator are pinned to one CPU each: on a 2-core
 * machine the generator otherwise competes with the server for its core,
 * and the figures measure the scheduler.
 *
 * Usage: bench-rendezvous [--clients N] [--runs N] [--held N]
 *                         [--relay-messages M] [--relay-per-ms K]
 *                         [--source-addresses K] [--server-cpu K]
 *                         [--client-cpu K] [--server PATH]
 *                         [--server-arg ARG ...]
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* sched_setaffinity, CPU_SET */
#endif

#include "config.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_IN_FLIGHT 64
#define ROOM_SIZE 10
#define SUBPROTOCOL "flowsync-rendezvous.v1"
/* RFC 6455's sample key and its accept value. */
#define WS_KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define CONNECT_DEADLINE_S 120
#define HOLD_S 10
#define MAX_RUNS 10

typedef enum {
  CLIENT_IDLE,
  CLIENT_CONNECTING,
  CLIENT_HANDSHAKE,
  CLIENT_OPEN,
  CLIENT_CLOSED,
  CLIENT_FAILED,
} ClientState;

typedef struct {
  int         fd;
  guint8      state;
  guint       joined : 1;
  guint       settled : 1;
  guint       want_out : 1;
  GByteArray *in;   /* partial input kept between reads; NULL when empty */
  GByteArray *out;  /* output the socket did not take yet; NULL when empty */
} Client;

typedef struct {
  int              epfd;
  Client          *clients;
  guint            n;
  guint16          port;
  guint            n_addrs;
  guint32          salt;
  gboolean         shutting_down;

  guint            next;
  guint            in_flight;
  guint            opened;
  guint            joined;
  guint            settled;
  guint            failed;
  guint            refused;          /* non-101 answers */
  guint            closed_by_server;
  guint            close_codes[8];   /* 1000..1011 folded, see count_close */
  guint            errors;
  guint            err_emfile;
  guint            err_addrnotavail;
  guint            err_connrefused;
  guint            err_reset;
  guint            err_other;
  char            *first_error;

  guint64          peer_joined;
  guint64          peer_left;
  guint64          presence;
  guint64          signals;
  guint64          pongs;
  guint64          server_pings;

  GArray          *latencies;        /* double, ms */
} Gen;

static guint8 rbuf[256 * 1024];

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static void
note_error (Gen        *g,
            const char *fmt,
            ...) G_GNUC_PRINTF (2, 3);

static void
note_error (Gen        *g,
            const char *fmt,
            ...)
{
  va_list ap;

  if (g->first_error != NULL)
    return;
  va_start (ap, fmt);
  g->first_error = g_strdup_vprintf (fmt, ap);
  va_end (ap);
}

static void
count_errno (Gen *g,
             int  err)
{
  switch (err)
    {
    case EMFILE:
    case ENFILE:
      g->err_emfile++;
      break;
    case EADDRNOTAVAIL:
    case EADDRINUSE:
      g->err_addrnotavail++;
      break;
    case ECONNREFUSED:
      g->err_connrefused++;
      break;
    case ECONNRESET:
    case EPIPE:
      g->err_reset++;
      break;
    default:
      g->err_other++;
      break;
    }
  note_error (g, "%s", g_strerror (err));
}

static void
client_drop (Gen    *g,
             Client *c,
             guint8  state)
{
  gboolean was_open = c->state == CLIENT_OPEN;

  if (c->state == CLIENT_CONNECTING || c->state == CLIENT_HANDSHAKE)
    g->in_flight--;
  if (c->fd >= 0)
    close (c->fd);   /* also removes it from the epoll set */
  c->fd = -1;
  c->state = state;
  if (c->in != NULL)
    g_byte_array_unref (c->in);
  if (c->out != NULL)
    g_byte_array_unref (c->out);
  c->in = c->out = NULL;
  if (was_open && !g->shutting_down)
    g->closed_by_server++;
  if (state == CLIENT_FAILED)
    g->failed++;
  if (!c->settled)
    {
      c->settled = TRUE;
      g->settled++;
    }
}

static void
client_set_want_out (Gen      *g,
                     Client   *c,
                     gboolean  want)
{
  struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0), .data.u32 = c - g->clients };

  if (c->want_out == want)
    return;
  c->want_out = want;
  epoll_ctl (g->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static gboolean
client_write (Gen        *g,
              Client     *c,
              const void *data,
              gsize       len)
{
  ssize_t n = 0;

  if (c->out == NULL)
    {
      n = send (c->fd, data, len, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN)
        {
          count_errno (g, errno);
          client_drop (g, c, CLIENT_FAILED);
          return FALSE;
        }
      if (n < 0)
        n = 0;
      if ((gsize) n == len)
        return TRUE;
      c->out = g_byte_array_new ();
    }
  g_byte_array_append (c->out, (const guint8 *) data + n, len - n);
  client_set_want_out (g, c, TRUE);
  return TRUE;
}

static void
client_flush (Gen    *g,
              Client *c)
{
  ssize_t n;

  if (c->out == NULL)
    {
      client_set_want_out (g, c, FALSE);
      return;
    }
  n = send (c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN)
    {
      count_errno (g, errno);
      client_drop (g, c, CLIENT_FAILED);
      return;
    }
  if (n > 0)
    g_byte_array_remove_range (c->out, 0, n);
  if (c->out->len == 0)
    {
      g_byte_array_unref (c->out);
      c->out = NULL;
      client_set_want_out (g, c, FALSE);
    }
}

/* A client frame: FIN, opcode, the mask bit with a zero key (so the
 * payload goes out as it is), payload. */
static gboolean
client_send_frame (Gen        *g,
                   Client     *c,
                   guint8      opcode,
                   const char *payload,
                   gsize       len)
{
  guint8 frame[16 + 1024];
  gsize hdr;

  frame[0] = 0x80 | opcode;
  if (len < 126)
    {
      frame[1] = 0x80 | len;
      hdr = 2;
    }
  else
    {
      g_assert (len <= 0xffff);
      frame[1] = 0x80 | 126;
      frame[2] = len >> 8;
      frame[3] = len & 0xff;
      hdr = 4;
    }
  memset (frame + hdr, 0, 4);
  hdr += 4;
  if (len <= sizeof frame - hdr)
    {
      memcpy (frame + hdr, payload, len);
      return client_write (g, c, frame, hdr + len);
    }
  else
    {
      g_autofree guint8 *big = g_malloc (hdr + len);

      memcpy (big, frame, hdr);
      memcpy (big + hdr, payload, len);
      return client_write (g, c, big, hdr + len);
    }
}

static gboolean
client_send_text (Gen        *g,
                  Client     *c,
                  const char *text,
                  gsize       len)
{
  return client_send_frame (g, c, 0x1, text, len);
}

static inline int
peer_id (Gen   *g,
         guint  i,
         char  *buf,
         gsize  size)
{
  return g_snprintf (buf, size, "%08x%08x", g->salt, i);
}

static inline int
room_id (Gen   *g,
         guint  i,
         char  *buf,
         gsize  size)
{
  return g_snprintf (buf, size, "%08x%024x", g->salt, i / ROOM_SIZE);
}

/* memmem() without _GNU_SOURCE. */
static const void *
find_bytes (const void *hay,
            gsize       hay_len,
            const void *needle,
            gsize       needle_len)
{
  const guint8 *h = hay;
  const guint8 *end = h + hay_len;
  guint8 first = *(const guint8 *) needle;

  while (hay_len >= needle_len && (h = memchr (h, first, end - h)) != NULL)
    {
      if ((gsize) (end - h) < needle_len)
        return NULL;
      if (memcmp (h, needle, needle_len) == 0)
        return h;
      h++;
    }
  return NULL;
}

/* Finds "key" : "…" in a flat JSON object and returns the raw (still
 * escaped) string value; NULL if absent or not a string. */
static const char *
scan_string (const char *p,
             gsize       len,
             const char *key,
             gsize      *out_len)
{
  gsize klen = strlen (key);
  const char *end = p + len;
  const char *q = p;

  while ((q = find_bytes (q, end - q, key, klen)) != NULL)
    {
      const char *v = q + klen;

      q = v;
      if (q - klen == p || q[-klen - 1] != '"' || v >= end || *v != '"')
        continue;
      v++;
      while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
        v++;
      if (v >= end || *v != ':')
        continue;
      v++;
      while (v < end && (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r'))
        v++;
      if (v >= end || *v != '"')
        return NULL;
      v++;
      for (const char *s = v; s < end; s++)
        {
          if (*s == '\\')
            s++;
          else if (*s == '"')
            {
              *out_len = s - v;
              return v;
            }
        }
      return NULL;
    }
  return NULL;
}

static void
client_on_text (Gen        *g,
                Client     *c,
                const char *msg,
                gsize       len)
{
  gsize tlen = 0;
  const char *type = scan_string (msg, len, "type", &tlen);

#define IS(lit) (tlen == sizeof lit - 1 && memcmp (type, lit, tlen) == 0)
  if (type == NULL)
    {
      g->errors++;
      note_error (g, "message without a type: %.*s", (int) MIN (len, 200), msg);
    }
  else if (IS ("peer-joined"))
    g->peer_joined++;
  else if (IS ("presence"))
    g->presence++;
  else if (IS ("signal"))
    {
      gsize dlen = 0;
      const char *data = scan_string (msg, len, "data", &dlen);

      g->signals++;
      if (data != NULL && dlen > 2 && data[0] == 't' && data[1] == '=')
        {
          gint64 sent = g_ascii_strtoll (data + 2, NULL, 10);
          double ms = (now_us () - sent) / 1000.0;

          g_array_append_val (g->latencies, ms);
        }
    }
  else if (IS ("joined"))
    {
      if (!c->joined)
        {
          c->joined = TRUE;
          g->joined++;
          if (!c->settled)
            {
              c->settled = TRUE;
              g->settled++;
            }
        }
    }
  else if (IS ("peer-left"))
    g->peer_left++;
  else if (IS ("pong"))
    g->pongs++;
  else if (IS ("error"))
    {
      g->errors++;
      note_error (g, "server error: %.*s", (int) MIN (len, 300), msg);
      if (!c->joined && !c->settled)
        {
          c->settled = TRUE;
          g->settled++;
        }
    }
  else
    {
      g->errors++;
      note_error (g, "unexpected message: %.*s", (int) MIN (len, 200), msg);
    }
#undef IS
}

/* Parses complete frames from @p; returns how many bytes were used, or
 * -1 if the client is gone. */
static gssize
client_on_frames (Gen          *g,
                  Client       *c,
                  const guint8 *p,
                  gsize         len)
{
  gsize used = 0;

  while (len - used >= 2)
    {
      const guint8 *f = p + used;
      gsize avail = len - used;
      guint8 opcode = f[0] & 0x0f;
      gboolean fin = (f[0] & 0x80) != 0;
      gboolean masked = (f[1] & 0x80) != 0;
      guint64 plen = f[1] & 0x7f;
      gsize hdr = 2;

      if (plen == 126)
        {
          if (avail < 4)
            break;
          plen = ((guint64) f[2] << 8) | f[3];
          hdr = 4;
        }
      else if (plen == 127)
        {
          if (avail < 10)
            break;
          plen = 0;
          for (int i = 0; i < 8; i++)
            plen = (plen << 8) | f[2 + i];
          hdr = 10;
        }
      if (masked)
        {
          note_error (g, "server sent a masked frame");
          client_drop (g, c, CLIENT_FAILED);
          return -1;
        }
      if (plen > 16 * 1024 * 1024)
        {
          note_error (g, "server frame of %" G_GUINT64_FORMAT " bytes", plen);
          client_drop (g, c, CLIENT_FAILED);
          return -1;
        }
      if (avail < hdr + plen)
        break;
      used += hdr + plen;

      switch (opcode)
        {
        case 0x1:
          if (!fin)
            {
              g->errors++;
              note_error (g, "fragmented message (not supported by the generator)");
              break;
            }
          client_on_text (g, c, (const char *) f + hdr, plen);
          break;
        case 0x8:
          {
            guint code = plen >= 2 ? (f[hdr] << 8 | f[hdr + 1]) : 1005;

            if (!g->shutting_down)
              note_error (g, "server closed a connection: %u %.*s", code,
                          (int) (plen > 2 ? MIN (plen - 2, 200) : 0), (const char *) f + hdr + 2);
            g->close_codes[code >= 1000 && code <= 1006 ? code - 1000 : 7]++;
            client_drop (g, c, CLIENT_CLOSED);
            return -1;
          }
        case 0x9:
          g->server_pings++;
          if (!client_send_frame (g, c, 0xA, (const char *) f + hdr, plen))
            return -1;
          break;
        case 0xA:
          break;
        default:
          g->errors++;
          note_error (g, "unexpected frame opcode %u", opcode);
          break;
        }
      if (c->state != CLIENT_OPEN)
        return -1;
    }
  return used;
}

static void
client_send_join (Gen    *g,
                  Client *c)
{
  char room[48], peer[24], msg[160];
  guint i = c - g->clients;
  int len;

  room_id (g, i, room, sizeof room);
  peer_id (g, i, peer, sizeof peer);
  len = g_snprintf (msg, sizeof msg, "{\"type\":\"join\",\"room\":\"%s\",\"peer\":\"%s\"}", room, peer);
  client_send_text (g, c, msg, len);
}

/* Returns bytes of @p used by the handshake answer, 0 if incomplete, -1 on
 * failure. */
static gssize
client_on_handshake (Gen          *g,
                     Client       *c,
                     const guint8 *p,
                     gsize         len)
{
  const guint8 *end = find_bytes (p, len, "\r\n\r\n", 4);
  g_autofree char *head = NULL;
  gsize hlen;

  if (end == NULL)
    {
      if (len > 8192)
        {
          note_error (g, "handshake answer too long");
          client_drop (g, c, CLIENT_FAILED);
          return -1;
        }
      return 0;
    }
  hlen = end - p + 4;
  head = g_ascii_strdown ((const char *) p, hlen);
  if (!g_str_has_prefix (head, "http/1.1 101") ||
      g_strstr_len ((const char *) p, hlen, WS_ACCEPT) == NULL ||
      strstr (head, SUBPROTOCOL) == NULL)
    {
      g->refused++;
      note_error (g, "handshake refused: %.*s", (int) MIN (hlen, 300), (const char *) p);
      client_drop (g, c, CLIENT_FAILED);
      return -1;
    }
  c->state = CLIENT_OPEN;
  g->in_flight--;
  g->opened++;
  client_send_join (g, c);
  if (c->state != CLIENT_OPEN)
    return -1;
  return hlen;
}

static void
client_on_readable (Gen    *g,
                    Client *c)
{
  const guint8 *p;
  gsize len;
  gssize used;
  ssize_t n = recv (c->fd, rbuf, sizeof rbuf, 0);

  if (n == 0)
    {
      if (c->state != CLIENT_OPEN && !g->shutting_down)
        note_error (g, "server closed the socket during the handshake");
      client_drop (g, c, c->state == CLIENT_OPEN ? CLIENT_CLOSED : CLIENT_FAILED);
      return;
    }
  if (n < 0)
    {
      if (errno == EAGAIN || errno == EINTR)
        return;
      count_errno (g, errno);
      client_drop (g, c, c->state == CLIENT_OPEN ? CLIENT_CLOSED : CLIENT_FAILED);
      return;
    }

  if (c->in != NULL)
    {
      g_byte_array_append (c->in, rbuf, n);
      p = c->in->data;
      len = c->in->len;
    }
  else
    {
      p = rbuf;
      len = n;
    }

  used = 0;
  if (c->state == CLIENT_HANDSHAKE)
    {
      used = client_on_handshake (g, c, p, len);
      if (used < 0)
        return;
    }
  if (c->state == CLIENT_OPEN)
    {
      gssize more = client_on_frames (g, c, p + used, len - used);

      if (more < 0)
        return;
      used += more;
    }

  if (c->in != NULL)
    {
      g_byte_array_remove_range (c->in, 0, used);
      if (c->in->len == 0)
        {
          g_byte_array_unref (c->in);
          c->in = NULL;
        }
    }
  else if ((gsize) used < len)
    {
      c->in = g_byte_array_sized_new (len - used);
      g_byte_array_append (c->in, p + used, len - used);
    }
}

static void
client_on_connected (Gen    *g,
                     Client *c)
{
  int err = 0;
  socklen_t elen = sizeof err;
  char req[512];
  int len;

  getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
  if (err != 0)
    {
      count_errno (g, err);
      client_drop (g, c, CLIENT_FAILED);
      return;
    }
  c->state = CLIENT_HANDSHAKE;
  len = g_snprintf (req, sizeof req,
                    "GET /ws HTTP/1.1\r\n"
                    "Host: 127.0.0.1:%u\r\n"
                    "Upgrade: websocket\r\n"
                    "Connection: Upgrade\r\n"
                    "Sec-WebSocket-Key: " WS_KEY "\r\n"
                    "Sec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Protocol: " SUBPROTOCOL "\r\n"
                    "\r\n", g->port);
  client_set_want_out (g, c, FALSE);
  client_write (g, c, req, len);
}

static void
client_start (Gen   *g,
              guint  i)
{
  Client *c = &g->clients[i];
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (g->port) };
  struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u32 = i };
  int one = 1;
  int fd;

  c->fd = -1;
  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      count_errno (g, errno);
      c->state = CLIENT_IDLE;
      client_drop (g, c, CLIENT_FAILED);
      return;
    }
  c->fd = fd;
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (g->n_addrs > 1)
    {
      /* 127.0.0.1, .2, … round robin; the port is chosen at connect() time
       * against the full 4-tuple. */
      struct sockaddr_in local = { .sin_family = AF_INET };

      local.sin_addr.s_addr = htonl (0x7f000001 + i % g->n_addrs);
#ifdef IP_BIND_ADDRESS_NO_PORT
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
#endif
      if (bind (fd, (struct sockaddr *) &local, sizeof local) < 0)
        {
          count_errno (g, errno);
          c->state = CLIENT_IDLE;
          client_drop (g, c, CLIENT_FAILED);
          return;
        }
    }
  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  c->state = CLIENT_CONNECTING;
  g->in_flight++;
  if (connect (fd, (struct sockaddr *) &sa, sizeof sa) < 0 && errno != EINPROGRESS)
    {
      count_errno (g, errno);
      client_drop (g, c, CLIENT_FAILED);
      return;
    }
  c->want_out = TRUE;
  epoll_ctl (g->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
gen_start_more (Gen *g)
{
  while (g->in_flight < MAX_IN_FLIGHT && g->next < g->n)
    client_start (g, g->next++);
}

static void
gen_pump (Gen *g,
          int  timeout_ms)
{
  struct epoll_event evs[1024];
  int n = epoll_wait (g->epfd, evs, G_N_ELEMENTS (evs), timeout_ms);

  for (int k = 0; k < n; k++)
    {
      Client *c = &g->clients[evs[k].data.u32];

      if (c->fd < 0)
        continue;
      if (c->state == CLIENT_CONNECTING)
        {
          if (evs[k].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
            client_on_connected (g, c);
          continue;
        }
      if ((evs[k].events & EPOLLOUT) && c->fd >= 0)
        client_flush (g, c);
      if ((evs[k].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && c->fd >= 0)
        client_on_readable (g, c);
    }
  gen_start_more (g);
}

static Gen *
gen_new (guint   n,
         guint16 port,
         guint   n_addrs)
{
  Gen *g = g_new0 (Gen, 1);

  g->n = n;
  g->port = port;
  g->n_addrs = MAX (n_addrs, 1);
  g->salt = g_random_int ();
  g->clients = g_new0 (Client, n);
  for (guint i = 0; i < n; i++)
    g->clients[i].fd = -1;
  g->epfd = epoll_create1 (EPOLL_CLOEXEC);
  g->latencies = g_array_new (FALSE, FALSE, sizeof (double));
  return g;
}

static guint
gen_count_alive (Gen *g)
{
  guint alive = 0;

  for (guint i = 0; i < g->n; i++)
    alive += g->clients[i].state == CLIENT_OPEN && g->clients[i].joined;
  return alive;
}

static void
gen_free (Gen *g)
{
  g->shutting_down = TRUE;
  for (guint i = 0; i < g->n; i++)
    if (g->clients[i].fd >= 0)
      client_drop (g, &g->clients[i], CLIENT_CLOSED);
  close (g->epfd);
  g_array_unref (g->latencies);
  g_free (g->first_error);
  g_free (g->clients);
  g_free (g);
}

/* Connects every client; returns the seconds it took, or -1 if not all of
 * them joined before the deadline. */
static double
gen_connect_all (Gen *g)
{
  gint64 t0 = now_us ();
  gint64 deadline = t0 + CONNECT_DEADLINE_S * G_USEC_PER_SEC;

  gen_start_more (g);
  while (g->settled < g->n && now_us () < deadline)
    gen_pump (g, 50);
  if (g->joined < g->n)
    return -1;
  return (now_us () - t0) / (double) G_USEC_PER_SEC;
}

/* ---- process figures ---- */

static gint64
proc_rss_kb (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  line = strstr (text, "\nVmRSS:");
  if (line == NULL)
    return -1;
  return g_ascii_strtoll (line + 7, NULL, 10);
}

static double
proc_cpu_s (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;
  const char *rest;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  rest = strrchr (text, ')');
  if (rest == NULL)
    return -1;
  fields = g_strsplit (rest + 2, " ", 0);
  if (g_strv_length (fields) < 13)
    return -1;
  /* utime and stime are fields 14 and 15; the split starts at field 3. */
  return (g_ascii_strtoull (fields[11], NULL, 10) + g_ascii_strtoull (fields[12], NULL, 10))
         / (double) sysconf (_SC_CLK_TCK);
}

static double
self_cpu_s (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec
         + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- the server ---- */

typedef struct {
  GSubprocess *proc;
  GPid         pid;
  guint16      port;
  char        *log_path;
} Server;

static guint16
free_port (void)
{
  struct sockaddr_in sa = { .sin_family = AF_INET };
  socklen_t len = sizeof sa;
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  guint16 port = 0;

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  if (fd >= 0 && bind (fd, (struct sockaddr *) &sa, sizeof sa) == 0 &&
      getsockname (fd, (struct sockaddr *) &sa, &len) == 0)
    port = ntohs (sa.sin_port);
  if (fd >= 0)
    close (fd);
  return port;
}

static gboolean
port_accepts (guint16 port)
{
  struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons (port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  gboolean ok;

  sa.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  ok = fd >= 0 && connect (fd, (struct sockaddr *) &sa, sizeof sa) == 0;
  if (fd >= 0)
    close (fd);
  return ok;
}

static char *
log_tail (const char *path)
{
  g_autofree char *text = NULL;
  gsize len = 0;

  if (path == NULL || !g_file_get_contents (path, &text, &len, NULL))
    return g_strdup ("");
  return g_strdup (text + (len > 600 ? len - 600 : 0));
}

static void
server_stop (Server *s)
{
  if (s->proc != NULL)
    {
      if (g_subprocess_get_identifier (s->proc) != NULL)
        {
          gint64 until = now_us () + 5 * G_USEC_PER_SEC;

          g_subprocess_send_signal (s->proc, SIGTERM);
          while (g_subprocess_get_identifier (s->proc) != NULL && now_us () < until)
            {
              g_main_context_iteration (NULL, FALSE);
              g_usleep (10000);
            }
          if (g_subprocess_get_identifier (s->proc) != NULL)
            g_subprocess_force_exit (s->proc);
        }
      g_subprocess_wait (s->proc, NULL, NULL);
      g_clear_object (&s->proc);
    }
  if (s->log_path != NULL)
    g_unlink (s->log_path);
  g_clear_pointer (&s->log_path, g_free);
}

/* Runs in the child between fork and exec: sched_setaffinity is a plain
 * system call, safe there, and everything the server starts later
 * (threads included) inherits the mask. */
static void
server_child_setup (gpointer data)
{
  const cpu_set_t *mask = data;

  sched_setaffinity (0, sizeof *mask, mask);
}

/* @affinity: the server's CPU mask, or NULL to leave it to inheritance. */
static gboolean
server_start (Server          *s,
              const char      *binary,
              GPtrArray       *extra_args,
              guint            n_clients,
              const cpu_set_t *affinity,
              GError         **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *tail = NULL;
  gint64 until;
  int fd;

  s->port = free_port ();
  if (s->port == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no free port on 127.0.0.1");
      return FALSE;
    }
  fd = g_file_open_tmp ("bench-rendezvous-XXXXXX.log", &s->log_path, error);
  if (fd < 0)
    return FALSE;
  close (fd);

  g_ptr_array_add (argv, g_strdup (binary));
  g_ptr_array_add (argv, g_strdup ("--listen"));
  g_ptr_array_add (argv, g_strdup ("127.0.0.1"));
  g_ptr_array_add (argv, g_strdup ("--port"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", s->port));
  for (guint i = 0; i < extra_args->len; i++)
    {
      const char *arg = extra_args->pdata[i];

      /* @N@ stands for the number of clients of this run. */
      if (strstr (arg, "@N@") != NULL)
        {
          g_auto(GStrv) parts = g_strsplit (arg, "@N@", -1);
          g_autofree char *num = g_strdup_printf ("%u", n_clients);

          g_ptr_array_add (argv, g_strjoinv (num, parts));
        }
      else
        g_ptr_array_add (argv, g_strdup (arg));
    }
  g_ptr_array_add (argv, NULL);

  /* meson sets these for benchmarks too; they would slow the server down
   * and touch freed pages (inflating RSS). */
  g_subprocess_launcher_unsetenv (launcher, "MALLOC_PERTURB_");
  g_subprocess_launcher_unsetenv (launcher, "MALLOC_CHECK_");
  g_subprocess_launcher_set_stdout_file_path (launcher, s->log_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, s->log_path);
  if (affinity != NULL)
    g_subprocess_launcher_set_child_setup (launcher, server_child_setup, (gpointer) affinity, NULL);
  s->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, error);
  if (s->proc == NULL)
    return FALSE;
  s->pid = atoi (g_subprocess_get_identifier (s->proc));

  until = now_us () + 10 * G_USEC_PER_SEC;
  while (now_us () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      if (g_subprocess_get_identifier (s->proc) == NULL)
        break;
      if (port_accepts (s->port))
        return TRUE;
      g_usleep (20000);
    }
  tail = log_tail (s->log_path);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "%s did not listen on 127.0.0.1:%u: %s", binary, s->port, tail);
  server_stop (s);
  return FALSE;
}

/* ---- limits ---- */

typedef struct {
  rlim_t   soft_before;
  rlim_t   hard_before;
  rlim_t   soft;
  rlim_t   hard;
  guint    port_range;
  guint    n_addrs;
} Limits;

static void
raise_nofile (Limits *l,
              guint   wanted)
{
  struct rlimit rl;
  rlim_t need = wanted + 1024;

  getrlimit (RLIMIT_NOFILE, &rl);
  l->soft_before = rl.rlim_cur;
  l->hard_before = rl.rlim_max;
  if (rl.rlim_max < need)
    {
      /* Only with CAP_SYS_RESOURCE; up to fs.nr_open. */
      struct rlimit up = { need, need };
      g_autofree char *nr_open = NULL;

      if (g_file_get_contents ("/proc/sys/fs/nr_open", &nr_open, NULL, NULL))
        up.rlim_cur = up.rlim_max = MIN (need, (rlim_t) g_ascii_strtoull (nr_open, NULL, 10));
      if (setrlimit (RLIMIT_NOFILE, &up) == 0)
        getrlimit (RLIMIT_NOFILE, &rl);
    }
  rl.rlim_cur = MIN (need, rl.rlim_max);
  if (rl.rlim_cur < l->soft_before)
    rl.rlim_cur = l->soft_before;
  setrlimit (RLIMIT_NOFILE, &rl);
  getrlimit (RLIMIT_NOFILE, &rl);
  l->soft = rl.rlim_cur;
  l->hard = rl.rlim_max;
}

static guint
ephemeral_ports (void)
{
  g_autofree char *text = NULL;
  guint lo = 32768, hi = 60999;

  if (g_file_get_contents ("/proc/sys/net/ipv4/ip_local_port_range", &text, NULL, NULL))
    sscanf (text, "%u %u", &lo, &hi);
  return hi >= lo ? hi - lo + 1 : 0;
}

static guint
addrs_for (guint n,
           guint ports)
{
  guint usable = MAX (ports * 9 / 10, 1);

  return MAX ((n + usable - 1) / usable, 1);
}

/* ---- JSON ---- */

static int
cmp_double (const void *a,
            const void *b)
{
  double x = *(const double *) a;
  double y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted,
            double  p)
{
  gsize i;

  if (sorted->len == 0)
    return -1;
  i = (gsize) (p * (sorted->len - 1) + 0.5);
  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

/* A small JSON writer: json-glib prints doubles with 17 digits. */
typedef struct {
  GString  *s;
  guint     depth;
  gboolean  first;
} Out;

/* The separator before a member or an array element. */
static void
out_sep (Out *o)
{
  g_string_append_printf (o->s, "%s\n%*s", o->first ? "" : ",", o->depth * 2, "");
  o->first = FALSE;
}

static void
out_key (Out        *o,
         const char *key)
{
  out_sep (o);
  g_string_append_printf (o->s, "\"%s\": ", key);
}

/* @key: NULL for the top-level object and for array elements. */
static void
out_open (Out        *o,
          const char *key,
          char        bracket)
{
  if (key != NULL)
    out_key (o, key);
  else if (o->depth > 0)
    out_sep (o);
  g_string_append_c (o->s, bracket);
  o->depth++;
  o->first = TRUE;
}

static void
out_close (Out  *o,
           char  bracket)
{
  o->depth--;
  g_string_append_printf (o->s, "\n%*s%c", o->depth * 2, "", bracket);
  o->first = FALSE;
}

static void
out_begin (Out        *o,
           const char *key)
{
  out_open (o, key, '{');
}

static void
out_end (Out *o)
{
  out_close (o, '}');
}

static void
out_str (Out        *o,
         const char *key,
         const char *value)
{
  out_key (o, key);
  g_string_append_c (o->s, '"');
  for (const guchar *c = (const guchar *) value; *c != '\0'; c++)
    {
      if (*c == '"' || *c == '\\')
        g_string_append_printf (o->s, "\\%c", *c);
      else if (*c < 0x20)
        g_string_append_printf (o->s, "\\u%04x", *c);
      else
        g_string_append_c (o->s, *c);
    }
  g_string_append_c (o->s, '"');
}

#define SET_INT(b, k, v) G_STMT_START { out_key (b, k); g_string_append_printf ((b)->s, "%" G_GINT64_FORMAT, (gint64) (v)); } G_STMT_END
#define SET_DBL(b, k, v) G_STMT_START { out_key (b, k); g_string_append_printf ((b)->s, "%.3f", (double) (v)); } G_STMT_END
#define SET_NULL(b, k) G_STMT_START { out_key (b, k); g_string_append ((b)->s, "null"); } G_STMT_END
#define SET_STR(b, k, v) out_str (b, k, v)

/* ---- figures of a run ---- */

typedef enum {
  FIG_INT = 1 << 0,  /* a count: printed without decimals when whole */
  FIG_SUM = 1 << 1,  /* a failure counter: summed over the runs, not medianed */
} FigureFlags;

enum {
  F_CONNECT_ALL_S,
  F_JOINED_AT_CONNECT,
  F_CONNECT_CLIENT_CPU_S,
  F_CONNECT_SERVER_CPU_S,
  F_SERVER_RSS_BEFORE_KB,
  F_SERVER_RSS_AFTER_KB,
  F_RSS_PER_CONNECTION_KB,
  F_RELAY_SENT,
  F_RELAY_RECEIVED,
  F_RELAY_SEND_RATE_PER_S,
  F_RELAY_P50_MS,
  F_RELAY_P99_MS,
  F_RELAY_MAX_MS,
  F_RELAY_CLIENT_CPU_S,
  F_RELAY_SERVER_CPU_S,
  F_STILL_CONNECTED,
  F_JOINED,
  F_FAILED,
  F_REFUSED_HANDSHAKES,
  F_CLOSED_BY_SERVER,
  F_ERROR_MESSAGES,
  F_SOCKET_FD_LIMIT,
  F_SOCKET_NO_LOCAL_PORT,
  F_SOCKET_REFUSED,
  F_SOCKET_RESET,
  F_SOCKET_OTHER,
  N_FIGURES
};

/* In output order; the names are those single runs always printed. */
static const struct {
  const char *name;
  const char *group;  /* the nested object it is printed in, or NULL */
  guint       flags;
} figures[N_FIGURES] = {
  [F_CONNECT_ALL_S]         = { "connect_all_s", NULL, 0 },
  [F_JOINED_AT_CONNECT]     = { "joined_at_connect", NULL, FIG_INT },
  [F_CONNECT_CLIENT_CPU_S]  = { "connect_client_cpu_s", NULL, 0 },
  [F_CONNECT_SERVER_CPU_S]  = { "connect_server_cpu_s", NULL, 0 },
  [F_SERVER_RSS_BEFORE_KB]  = { "server_rss_before_kb", NULL, FIG_INT },
  [F_SERVER_RSS_AFTER_KB]   = { "server_rss_after_kb", NULL, FIG_INT },
  [F_RSS_PER_CONNECTION_KB] = { "rss_per_connection_kb", NULL, 0 },
  [F_RELAY_SENT]            = { "relay_sent", NULL, FIG_INT },
  [F_RELAY_RECEIVED]        = { "relay_received", NULL, FIG_INT },
  [F_RELAY_SEND_RATE_PER_S] = { "relay_send_rate_per_s", NULL, 0 },
  [F_RELAY_P50_MS]          = { "relay_p50_ms", NULL, 0 },
  [F_RELAY_P99_MS]          = { "relay_p99_ms", NULL, 0 },
  [F_RELAY_MAX_MS]          = { "relay_max_ms", NULL, 0 },
  [F_RELAY_CLIENT_CPU_S]    = { "relay_client_cpu_s", NULL, 0 },
  [F_RELAY_SERVER_CPU_S]    = { "relay_server_cpu_s", NULL, 0 },
  [F_STILL_CONNECTED]       = { "still_connected", NULL, FIG_INT },
  [F_JOINED]                = { "joined", NULL, FIG_INT },
  [F_FAILED]                = { "failed", NULL, FIG_INT | FIG_SUM },
  [F_REFUSED_HANDSHAKES]    = { "refused_handshakes", NULL, FIG_INT | FIG_SUM },
  [F_CLOSED_BY_SERVER]      = { "closed_by_server", NULL, FIG_INT | FIG_SUM },
  [F_ERROR_MESSAGES]        = { "error_messages", NULL, FIG_INT | FIG_SUM },
  [F_SOCKET_FD_LIMIT]       = { "fd_limit", "socket_errors", FIG_INT | FIG_SUM },
  [F_SOCKET_NO_LOCAL_PORT]  = { "no_local_port", "socket_errors", FIG_INT | FIG_SUM },
  [F_SOCKET_REFUSED]        = { "refused", "socket_errors", FIG_INT | FIG_SUM },
  [F_SOCKET_RESET]          = { "reset", "socket_errors", FIG_INT | FIG_SUM },
  [F_SOCKET_OTHER]          = { "other", "socket_errors", FIG_INT | FIG_SUM },
};

/* One run's figures. NAN: not measured (left out of the JSON and of the
 * median); INFINITY: measured but it did not happen, e.g. connect_all_s
 * when not every client joined (printed null, ranks worst). */
typedef struct {
  double  v[N_FIGURES];
  char   *error;        /* why no server ran */
  char   *first_error;
  char   *server_cpus;  /* the server's Cpus_allowed_list */
} Run;

static void
run_init (Run *r)
{
  memset (r, 0, sizeof *r);
  for (guint f = 0; f < N_FIGURES; f++)
    r->v[f] = NAN;
}

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->error, g_free);
  g_clear_pointer (&r->first_error, g_free);
  g_clear_pointer (&r->server_cpus, g_free);
}

static void
out_number (Out        *b,
            const char *key,
            double      v,
            guint       flags)
{
  if (isnan (v))
    return;
  if (isinf (v))
    SET_NULL (b, key);
  else if ((flags & FIG_INT) && v == (double) (gint64) v)  /* no libm needed */
    SET_INT (b, key, v);
  else if (flags & FIG_INT)
    {
      /* The median of an even number of runs. */
      out_key (b, key);
      g_string_append_printf (b->s, "%.1f", v);
    }
  else
    SET_DBL (b, key, v);
}

/* Prints figures [@from, @to) of @v, opening a group's object at its
 * first measured figure. */
static void
out_figures (Out          *b,
             const double *v,
             guint         from,
             guint         to)
{
  const char *group = NULL;

  for (guint f = from; f < to; f++)
    {
      if (isnan (v[f]))
        continue;
      if (g_strcmp0 (figures[f].group, group) != 0)
        {
          if (group != NULL)
            out_end (b);
          group = figures[f].group;
          if (group != NULL)
            out_begin (b, group);
        }
      out_number (b, figures[f].name, v[f], figures[f].flags);
    }
  if (group != NULL)
    out_end (b);
}

/* The top level: per figure, the median of the runs that measured it
 * (the mean of the middle two for an even count), or the sum for failure
 * counters, which should not vanish because the other runs were clean. */
static void
aggregate (const Run *runs,
           guint      n_runs,
           double    *out)
{
  g_autoptr(GArray) vals = g_array_new (FALSE, FALSE, sizeof (double));

  for (guint f = 0; f < N_FIGURES; f++)
    {
      g_array_set_size (vals, 0);
      for (guint r = 0; r < n_runs; r++)
        if (!isnan (runs[r].v[f]))
          g_array_append_val (vals, runs[r].v[f]);
      out[f] = NAN;
      if (vals->len == 0)
        continue;
      if (figures[f].flags & FIG_SUM)
        {
          out[f] = 0;
          for (guint i = 0; i < vals->len; i++)
            out[f] += g_array_index (vals, double, i);
        }
      else
        {
          guint mid = vals->len / 2;

          g_array_sort (vals, cmp_double);
          out[f] = vals->len % 2 == 1
                   ? g_array_index (vals, double, mid)
                   : (g_array_index (vals, double, mid - 1) + g_array_index (vals, double, mid)) / 2;
        }
    }
}

static const char *
capacity_note (const Limits *l,
               guint         n)
{
  static char note[256];

  if (l->soft < (rlim_t) n + 64)
    {
      g_snprintf (note, sizeof note,
                  "RLIMIT_NOFILE %lu (hard %lu) is below the %u clients needed, in this "
                  "process and in the server: at most about %lu can connect. Raising the "
                  "hard limit needs CAP_SYS_RESOURCE (or ulimit -Hn / LimitNOFILE first)",
                  (unsigned long) l->soft, (unsigned long) l->hard, n,
                  (unsigned long) (l->soft > 64 ? l->soft - 64 : 0));
      return note;
    }
  return NULL;
}

/* ---- CPUs ---- */

/* "0-3,6" */
static char *
cpus_to_string (const cpu_set_t *set)
{
  GString *s = g_string_new (NULL);

  for (int i = 0; i < CPU_SETSIZE; i++)
    {
      int j = i;

      if (!CPU_ISSET (i, set))
        continue;
      while (j + 1 < CPU_SETSIZE && CPU_ISSET (j + 1, set))
        j++;
      g_string_append_printf (s, "%s%d", s->len > 0 ? "," : "", i);
      if (j > i)
        g_string_append_printf (s, "-%d", j);
      i = j;
    }
  return g_string_free (s, FALSE);
}

/* What the kernel says the process may run on, so the JSON shows the
 * pinning that took effect, not the one asked for. */
static char *
proc_cpus_allowed (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  line = strstr (text, "\nCpus_allowed_list:");
  if (line == NULL)
    return NULL;
  line += strlen ("\nCpus_allowed_list:");
  while (*line == ' ' || *line == '\t')
    line++;
  return g_strndup (line, strcspn (line, "\n"));
}

/* Checks @cpu (-1: no pinning) against the CPUs this process may use and
 * makes the one-CPU mask for it. */
static gboolean
cpu_mask_for (const char      *option,
              int              cpu,
              const cpu_set_t *available,
              cpu_set_t       *mask,
              GError         **error)
{
  if (cpu == -1)
    return TRUE;
  if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET (cpu, available))
    {
      g_autofree char *list = cpus_to_string (available);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--%s %d: CPU %d is not one this process may run on (%s); "
                   "-1 means no pinning", option, cpu, cpu, list);
      return FALSE;
    }
  CPU_ZERO (mask);
  CPU_SET (cpu, mask);
  return TRUE;
}

/* ---- runs ---- */

typedef struct {
  const char *server;
  GPtrArray  *server_args;
  guint       clients;
  guint       runs;
  guint       held;
  guint       relay_messages;
  guint       relay_per_ms;
  guint       source_addresses;
  Limits      limits;
  gboolean    pin_server;
  cpu_set_t   server_mask;
} Options;

static guint
source_addresses_for (Options *o,
                      guint    n)
{
  return o->source_addresses > 0 ? o->source_addresses : addrs_for (n, o->limits.port_range);
}

/* What every run of @n clients shares. */
static void
out_setup (Out     *b,
           Options *o,
           guint    n)
{
  SET_INT (b, "clients", n);
  SET_INT (b, "room_size", ROOM_SIZE);
  SET_INT (b, "source_addresses", source_addresses_for (o, n));
  if (capacity_note (&o->limits, n) != NULL)
    SET_STR (b, "capacity_note", capacity_note (&o->limits, n));
}

static void
record_outcomes (Run *r,
                 Gen *g)
{
  r->v[F_JOINED] = g->joined;
  r->v[F_FAILED] = g->failed;
  r->v[F_REFUSED_HANDSHAKES] = g->refused;
  r->v[F_CLOSED_BY_SERVER] = g->closed_by_server;
  r->v[F_ERROR_MESSAGES] = g->errors;
  r->v[F_SOCKET_FD_LIMIT] = g->err_emfile;
  r->v[F_SOCKET_NO_LOCAL_PORT] = g->err_addrnotavail;
  r->v[F_SOCKET_REFUSED] = g->err_connrefused;
  r->v[F_SOCKET_RESET] = g->err_reset;
  r->v[F_SOCKET_OTHER] = g->err_other;
  g_free (r->first_error);
  r->first_error = g_strdup (g->first_error);
}

/* Starts a server for @n clients and connects them; records the connect
 * figures into @r. Returns NULL (with r->error) if no server ran. */
static Gen *
connect_run (Run     *r,
             Options *o,
             guint    n,
             Server  *s)
{
  g_autoptr(GError) error = NULL;
  double cpu_c0, cpu_s0, connect_s;
  gint64 rss0, rss1;
  Gen *g;

  if (!server_start (s, o->server, o->server_args, n,
                     o->pin_server ? &o->server_mask : NULL, &error))
    {
      r->error = g_strdup (error->message);
      return NULL;
    }
  r->server_cpus = proc_cpus_allowed (s->pid);

  rss0 = proc_rss_kb (s->pid);
  g = gen_new (n, s->port, source_addresses_for (o, n));
  cpu_c0 = self_cpu_s ();
  cpu_s0 = proc_cpu_s (s->pid);
  connect_s = gen_connect_all (g);
  rss1 = proc_rss_kb (s->pid);

  r->v[F_CONNECT_ALL_S] = connect_s >= 0 ? connect_s : INFINITY;
  r->v[F_JOINED_AT_CONNECT] = g->joined;
  r->v[F_CONNECT_CLIENT_CPU_S] = self_cpu_s () - cpu_c0;
  r->v[F_CONNECT_SERVER_CPU_S] = proc_cpu_s (s->pid) - cpu_s0;
  r->v[F_SERVER_RSS_BEFORE_KB] = rss0;
  r->v[F_SERVER_RSS_AFTER_KB] = rss1;
  if (g->joined > 0)
    r->v[F_RSS_PER_CONNECTION_KB] = (rss1 - rss0) / (double) g->joined;
  return g;
}

static void
run_main (Run     *r,
          Options *o)
{
  Server s = { 0 };
  Gen *g;
  double cpu_c0, cpu_s0;
  guint rooms;

  g = connect_run (r, o, o->clients, &s);
  if (g == NULL)
    return;

  /* Relay: room r's first peer signals its second, rooms in turn, paced
   * at relay_per_ms messages per millisecond. */
  rooms = o->clients / ROOM_SIZE;
  if (rooms > 0 && g->joined > 0 && o->relay_messages > 0)
    {
      guint sent = 0, skipped = 0;
      gint64 t_next = now_us ();
      gint64 deadline = t_next + 60 * G_USEC_PER_SEC;
      gint64 t0 = t_next;
      gint64 last_send = t0;
      GArray *lat = g->latencies;

      cpu_c0 = self_cpu_s ();
      cpu_s0 = proc_cpu_s (s.pid);
      while ((sent < o->relay_messages || lat->len + skipped < sent) && now_us () < deadline)
        {
          gint64 now = now_us ();

          while (sent < o->relay_messages && now >= t_next)
            {
              for (guint k = 0; k < o->relay_per_ms && sent < o->relay_messages; k++, sent++)
                {
                  guint room = (sent * 7919u) % rooms;
                  Client *from = &g->clients[room * ROOM_SIZE];
                  char to[24], msg[160];
                  int len;

                  if (from->state != CLIENT_OPEN || g->clients[room * ROOM_SIZE + 1].state != CLIENT_OPEN)
                    {
                      skipped++;
                      continue;
                    }
                  peer_id (g, room * ROOM_SIZE + 1, to, sizeof to);
                  len = g_snprintf (msg, sizeof msg,
                                    "{\"type\":\"signal\",\"to\":\"%s\",\"data\":\"t=%" G_GINT64_FORMAT "\"}",
                                    to, now_us ());
                  client_send_text (g, from, msg, len);
                }
              t_next += 1000;
              last_send = now_us ();
            }
          gen_pump (g, sent < o->relay_messages ? 1 : 20);
        }
      g_array_sort (lat, cmp_double);
      r->v[F_RELAY_SENT] = sent - skipped;
      r->v[F_RELAY_RECEIVED] = lat->len;
      r->v[F_RELAY_SEND_RATE_PER_S] = (sent - skipped) / MAX ((last_send - t0) / 1e6, 1e-3);
      /* Nothing arrived: no latency, and the worst run for the median. */
      r->v[F_RELAY_P50_MS] = lat->len > 0 ? percentile (lat, 0.50) : INFINITY;
      r->v[F_RELAY_P99_MS] = lat->len > 0 ? percentile (lat, 0.99) : INFINITY;
      r->v[F_RELAY_MAX_MS] = lat->len > 0 ? percentile (lat, 1.0) : INFINITY;
      r->v[F_RELAY_CLIENT_CPU_S] = self_cpu_s () - cpu_c0;
      r->v[F_RELAY_SERVER_CPU_S] = proc_cpu_s (s.pid) - cpu_s0;
    }
  r->v[F_STILL_CONNECTED] = gen_count_alive (g);
  record_outcomes (r, g);

  server_stop (&s);  /* first, so TIME_WAIT lands on the server's port */
  gen_free (g);
}

static void
out_run (Out       *b,
         const Run *r,
         guint      index)
{
  out_begin (b, NULL);
  SET_INT (b, "run", index + 1);
  if (r->error != NULL)
    SET_STR (b, "error", r->error);
  if (r->server_cpus != NULL)
    SET_STR (b, "server_cpus_allowed", r->server_cpus);
  out_figures (b, r->v, 0, N_FIGURES);
  if (r->first_error != NULL)
    SET_STR (b, "first_error", r->first_error);
  out_end (b);
}

/* The top level: medians (see aggregate), the worst p99, then every run. */
static void
out_runs (Out       *b,
          Options   *o,
          const Run *runs)
{
  double med[N_FIGURES];
  double p99_max = NAN;
  const char *error = NULL;
  const char *first_error = NULL;

  aggregate (runs, o->runs, med);
  for (guint i = 0; i < o->runs; i++)
    {
      if (!isnan (runs[i].v[F_RELAY_P99_MS]) && !(runs[i].v[F_RELAY_P99_MS] <= p99_max))
        p99_max = runs[i].v[F_RELAY_P99_MS];
      if (error == NULL)
        error = runs[i].error;
      if (first_error == NULL)
        first_error = runs[i].first_error;
    }

  SET_INT (b, "run_count", o->runs);
  SET_STR (b, "aggregation",
           "top-level figures are the median of the runs (null, a figure that did not "
           "happen, ranks worst); failed, refused_handshakes, closed_by_server, "
           "error_messages and socket_errors are summed; relay_p99_ms_max is the worst "
           "run's relay_p99_ms");
  out_setup (b, o, o->clients);
  if (error != NULL)
    SET_STR (b, "error", error);
  out_figures (b, med, 0, F_RELAY_MAX_MS + 1);
  out_number (b, "relay_p99_ms_max", p99_max, 0);
  out_figures (b, med, F_RELAY_MAX_MS + 1, N_FIGURES);
  if (first_error != NULL)
    SET_STR (b, "first_error", first_error);

  out_open (b, "runs", '[');
  for (guint i = 0; i < o->runs; i++)
    out_run (b, &runs[i], i);
  out_close (b, ']');
}

static void
run_held (Out     *b,
          Options *o)
{
  Server s = { 0 };
  Run r;
  Gen *g;
  gint64 t0, until;
  guint pinged = 0;

  run_init (&r);
  out_begin (b, "held_50k");
  out_setup (b, o, o->held);
  g = connect_run (&r, o, o->held, &s);
  if (g == NULL)
    {
      SET_STR (b, "error", r.error);
      run_clear (&r);
      out_end (b);
      return;
    }
  if (r.server_cpus != NULL)
    SET_STR (b, "server_cpus_allowed", r.server_cpus);

  /* Hold for HOLD_S seconds; every client sends one ping, spread over the
   * first 80% of the hold. */
  g->pongs = 0;
  t0 = now_us ();
  until = t0 + HOLD_S * G_USEC_PER_SEC;
  while (now_us () < until)
    {
      double frac = (now_us () - t0) / (HOLD_S * 0.8 * G_USEC_PER_SEC);
      guint target = MIN ((guint) (frac * g->n), g->n);

      for (; pinged < target; pinged++)
        {
          Client *c = &g->clients[pinged];

          if (c->state == CLIENT_OPEN && c->joined)
            client_send_text (g, c, "{\"type\":\"ping\"}", 15);
        }
      gen_pump (g, 5);
    }
  /* Let the last pongs arrive. */
  until = now_us () + G_USEC_PER_SEC / 2;
  while (now_us () < until)
    gen_pump (g, 5);

  out_figures (b, r.v, F_CONNECT_ALL_S, F_RSS_PER_CONNECTION_KB + 1);
  SET_INT (b, "held_10s", gen_count_alive (g));
  SET_INT (b, "pongs", g->pongs);
  SET_INT (b, "server_pings_answered", g->server_pings);
  record_outcomes (&r, g);
  out_figures (b, r.v, F_JOINED, N_FIGURES);
  if (r.first_error != NULL)
    SET_STR (b, "first_error", r.first_error);
  out_end (b);

  server_stop (&s);
  gen_free (g);
  run_clear (&r);
}

int
main (int   argc,
      char *argv[])
{
  static int clients = 10000;
  static int runs = 3;
  static int held = 0;
  static int relay_messages = 2000;
  static int relay_per_ms = 10;
  static int source_addresses = 0;
  static int server_cpu = -1;
  static int client_cpu = -1;
  static char *server = NULL;
  static char **server_args = NULL;
  static char *engine = NULL;
  static const GOptionEntry entries[] = {
    { "clients", 0, 0, G_OPTION_ARG_INT, &clients, "Clients of the main run (10000)", "N" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs,
      "Repeat the main run N times, each on a fresh server, and report medians (3; at most "
      G_STRINGIFY (MAX_RUNS) ")", "N" },
    { "held", 0, 0, G_OPTION_ARG_INT, &held, "Also hold N clients for 10 s on a fresh server (0: skip)", "N" },
    { "relay-messages", 0, 0, G_OPTION_ARG_INT, &relay_messages, "Signals timed under load (2000)", "M" },
    { "relay-per-ms", 0, 0, G_OPTION_ARG_INT, &relay_per_ms, "Signals sent per millisecond (10)", "K" },
    { "source-addresses", 0, 0, G_OPTION_ARG_INT, &source_addresses,
      "Spread clients over 127.0.0.1..K (0: as many as the ephemeral port range needs)", "K" },
    { "server-cpu", 0, 0, G_OPTION_ARG_INT, &server_cpu, "Pin the server to CPU K (-1: no pinning)", "K" },
    { "client-cpu", 0, 0, G_OPTION_ARG_INT, &client_cpu, "Pin the load generator to CPU K (-1: no pinning)", "K" },
    { "server", 0, 0, G_OPTION_ARG_FILENAME, &server, "The flowsync-rendezvous binary", "PATH" },
    { "engine", 0, 0, G_OPTION_ARG_STRING, &engine,
      "Server engine, passed on as --engine=ENGINE (default: the server's)", "ENGINE" },
    { "server-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &server_args,
      "Extra server argument (repeatable; @N@ = clients of the run); replaces the default limit flags", "ARG" },
    { NULL }
  };
  /* Limits opened up for a local load test: many clients from one
   * address, quick handshakes. @N@ is the run's client count. */
  static const char *default_server_args[] = {
    "--stun-port=0",
    "--max-connections-per-address=0",
    "--max-connections=@N@",
    "--max-rooms=@N@",
    "--rate=1000000",
    "--burst=1000000",
    NULL
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new ("- load-test flowsync-rendezvous");
  g_autoptr(GError) error = NULL;
  Out out = { g_string_new (NULL), 0, TRUE };
  Out *b = &out;
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *engine_arg = NULL;
  g_autofree char *cpus_available = NULL;
  g_autofree char *client_cpus = NULL;
  cpu_set_t available, client_mask, now_allowed;
  Options o = { 0 };
  Run *results;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (clients < ROOM_SIZE || held < 0 || relay_messages < 0 || relay_per_ms < 1)
    {
      g_printerr ("--clients must be at least %d; --held, --relay-* not negative\n", ROOM_SIZE);
      return 2;
    }
  if (runs < 1 || runs > MAX_RUNS)
    {
      g_printerr ("--runs must be between 1 and %d\n", MAX_RUNS);
      return 2;
    }

  /* Pin before anything starts a thread, so GLib's helper threads follow
   * the generator; the server gets its own mask in the child (the whole
   * original set when only the generator is pinned, or it would inherit
   * the generator's CPU). */
  if (sched_getaffinity (0, sizeof available, &available) != 0)
    {
      g_printerr ("sched_getaffinity: %s\n", g_strerror (errno));
      return 1;
    }
  if (!cpu_mask_for ("server-cpu", server_cpu, &available, &o.server_mask, &error) ||
      !cpu_mask_for ("client-cpu", client_cpu, &available, &client_mask, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (client_cpu >= 0 && sched_setaffinity (0, sizeof client_mask, &client_mask) != 0)
    {
      g_printerr ("--client-cpu %d: sched_setaffinity: %s\n", client_cpu, g_strerror (errno));
      return 1;
    }
  if (server_cpu < 0 && client_cpu >= 0)
    o.server_mask = available;
  o.pin_server = server_cpu >= 0 || client_cpu >= 0;
  cpus_available = cpus_to_string (&available);
  if (sched_getaffinity (0, sizeof now_allowed, &now_allowed) == 0)
    client_cpus = cpus_to_string (&now_allowed);
  signal (SIGPIPE, SIG_IGN);

  o.server = server != NULL ? server : FLOWSYNC_RENDEZVOUS;
  if (server_args != NULL)
    for (char **a = server_args; *a != NULL; a++)
      g_ptr_array_add (args, *a);
  else
    for (const char **a = default_server_args; *a != NULL; a++)
      g_ptr_array_add (args, (char *) *a);
  if (engine != NULL)
    g_ptr_array_add (args, engine_arg = g_strdup_printf ("--engine=%s", engine));
  o.server_args = args;
  o.clients = clients;
  o.runs = runs;
  o.held = held;
  o.relay_messages = relay_messages;
  o.relay_per_ms = relay_per_ms;
  o.source_addresses = CLAMP (source_addresses, 0, 254);
  raise_nofile (&o.limits, MAX (o.clients, o.held));
  o.limits.port_range = ephemeral_ports ();

  out_begin (b, NULL);
  SET_STR (b, "benchmark", "bench-rendezvous");
  SET_STR (b, "server", o.server);
  SET_STR (b, "engine", engine != NULL ? engine : "default");
  out_begin (b, "rlimit_nofile");
  SET_INT (b, "soft_before", o.limits.soft_before);
  SET_INT (b, "hard_before", o.limits.hard_before);
  SET_INT (b, "soft", o.limits.soft);
  SET_INT (b, "hard", o.limits.hard);
  out_end (b);
  SET_INT (b, "ephemeral_ports_per_address", o.limits.port_range);
  SET_INT (b, "max_handshakes_in_flight", MAX_IN_FLIGHT);
  out_begin (b, "pinning");
  if (server_cpu >= 0)
    SET_INT (b, "server_cpu", server_cpu);
  else
    SET_NULL (b, "server_cpu");
  if (client_cpu >= 0)
    SET_INT (b, "client_cpu", client_cpu);
  else
    SET_NULL (b, "client_cpu");
  SET_STR (b, "cpus_available", cpus_available);
  if (client_cpus != NULL)
    SET_STR (b, "client_cpus_allowed", client_cpus);
  if (server_cpu >= 0 && server_cpu == client_cpu)
    SET_STR (b, "note", "server and generator share one CPU");
  out_end (b);

  results = g_new (Run, o.runs);
  for (guint i = 0; i < o.runs; i++)
    {
      run_init (&results[i]);
      run_main (&results[i], &o);
    }
  out_runs (b, &o, results);
  for (guint i = 0; i < o.runs; i++)
    run_clear (&results[i]);
  g_free (results);

  if (o.held > 0)
    run_held (b, &o);
  out_end (b);

  g_print ("%s\n", out.s->str);
  g_string_free (out.s, TRUE);
  return 0;
}
