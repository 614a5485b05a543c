/* flow-rendezvous-epoll.c
 *
 * Copyright 2026 FlowSync contributors
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

/* The "epoll" engine of the rendezvous server (docs/rendezvous.md,
 * "Performance"): each worker keeps all of its connections behind ONE
 * epoll fd, which is ONE GSource on the worker's main context, so the cost
 * of a message does not grow with the number of connections. A connection
 * is a plain Conn: an fd, an input buffer and an output buffer that exist
 * only while they hold bytes, and a few flags. No GObject, no GSource per
 * connection.
 *
 * HTTP: we read the request head ourselves. `GET /ws` is upgraded here
 * (RFC 6455, including the access token, the connection limits and the
 * subprotocol); anything else is handed, unread (we only MSG_PEEK), to the
 * worker's SoupServer, which serves /healthz, /metrics and / exactly as
 * the soup engine does.
 *
 * The room/peer logic is that of flow-rendezvous-server.c; this file only
 * moves bytes and frames. Everything runs under server->lock. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* accept4 */
#endif
#define G_LOG_DOMAIN "flow-rendezvous"

#include "config.h"

#include "flow-rendezvous-server-private.h"

#ifdef __linux__

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <glib-unix.h>

#define SCRATCH_SIZE (64 * 1024)
#define MAX_HEAD 8192
#define MAX_EVENTS 256
#define CLOSE_GRACE_USEC (2 * G_USEC_PER_SEC)
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum
{
  OP_CONTINUATION = 0x0,
  OP_TEXT = 0x1,
  OP_BINARY = 0x2,
  OP_CLOSE = 0x8,
  OP_PING = 0x9,
  OP_PONG = 0xa,
};

/* ---------------------------------------------------------------------
 * output
 * --------------------------------------------------------------------- */

static void conn_gone (Conn *conn);

/* Writes what the kernel takes, keeps the rest in wbuf. */
static void
queue_bytes (Conn          *conn,
             const guint8  *head,
             gsize          hlen,
             const void    *body,
             gsize          blen)
{
  gsize total = hlen + blen;
  gsize done = 0;

  if (conn->fd < 0 || conn->aborted)
    return;

  if (conn->wlen == conn->woff)
    {
      struct iovec iov[2] = { { (void *) head, hlen }, { (void *) body, blen } };
      struct msghdr mh = { 0 };
      ssize_t n;

      mh.msg_iov = iov;
      mh.msg_iovlen = blen > 0 ? 2 : 1;
      do
        n = sendmsg (conn->fd, &mh, MSG_NOSIGNAL);
      while (n < 0 && errno == EINTR);
      if (n < 0 && errno != EAGAIN)
        {
          flow_rv_conn_abort (conn, NULL);
          return;
        }
      if (n > 0)
        done = n;
      if (done == total)
        return;
      g_clear_pointer (&conn->wbuf, g_free);
      conn->wlen = conn->woff = 0;
    }
  else if (conn->woff > 0 && conn->woff >= conn->wlen / 2)
    {
      memmove (conn->wbuf, conn->wbuf + conn->woff, conn->wlen - conn->woff);
      conn->wlen -= conn->woff;
      conn->woff = 0;
    }

  conn->wbuf = g_realloc (conn->wbuf, conn->wlen + total - done);
  if (done < hlen)
    {
      memcpy (conn->wbuf + conn->wlen, head + done, hlen - done);
      conn->wlen += hlen - done;
      done = hlen;
    }
  memcpy (conn->wbuf + conn->wlen, (const guint8 *) body + (done - hlen), total - done);
  conn->wlen += total - done;
  conn->unflushed = conn->wlen - conn->woff;
}

/* Returns FALSE when @conn is gone. */
static gboolean
flush (Conn *conn)
{
  while (conn->woff < conn->wlen)
    {
      ssize_t n = send (conn->fd, conn->wbuf + conn->woff, conn->wlen - conn->woff, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          flow_rv_conn_abort (conn, NULL);
          break;
        }
      conn->woff += n;
    }

  if (conn->woff == conn->wlen)
    {
      g_clear_pointer (&conn->wbuf, g_free);
      conn->wlen = conn->woff = 0;
    }
  conn->unflushed = conn->wlen - conn->woff;

  if (conn->unflushed == 0 && conn->destroy_after_flush)
    {
      conn_gone (conn);
      return FALSE;
    }
  return TRUE;
}

static void
send_frame (Conn       *conn,
            guint8      opcode,
            const void *payload,
            gsize       len)
{
  guint8 head[10];
  gsize hlen;

  head[0] = 0x80 | opcode;
  if (len < 126)
    {
      head[1] = len;
      hlen = 2;
    }
  else if (len <= 0xffff)
    {
      head[1] = 126;
      head[2] = len >> 8;
      head[3] = len & 0xff;
      hlen = 4;
    }
  else
    {
      head[1] = 127;
      for (guint i = 0; i < 8; i++)
        head[2 + i] = ((guint64) len >> (56 - 8 * i)) & 0xff;
      hlen = 10;
    }
  queue_bytes (conn, head, hlen, payload, len);
}

void
flow_rv_epoll_send_text (Conn       *conn,
                         const char *text,
                         gsize       len)
{
  send_frame (conn, OP_TEXT, text, len);
}

void
flow_rv_epoll_send_close (Conn       *conn,
                          gushort     code,
                          const char *reason)
{
  guint8 payload[125];
  gsize rlen = reason ? MIN (strlen (reason), sizeof payload - 2) : 0;

  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  if (rlen > 0)
    memcpy (payload + 2, reason, rlen);
  send_frame (conn, OP_CLOSE, payload, 2 + rlen);
}

void
flow_rv_epoll_send_ping (Conn *conn)
{
  send_frame (conn, OP_PING, NULL, 0);
}

/* ---------------------------------------------------------------------
 * connection lifetime
 * --------------------------------------------------------------------- */

static void
free_buffers (Conn *conn)
{
  g_clear_pointer (&conn->rbuf, g_free);
  g_clear_pointer (&conn->wbuf, g_free);
  g_clear_pointer (&conn->mbuf, g_free);
  conn->rlen = conn->wlen = conn->woff = conn->mlen = 0;
  conn->unflushed = 0;
}

static void
close_fd (Conn *conn)
{
  if (conn->fd < 0)
    return;
  epoll_ctl (conn->worker->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
  close (conn->fd);
  conn->fd = -1;
}

/* Called by flow_rv_conn_destroy(). */
void
flow_rv_epoll_release (Conn *conn)
{
  close_fd (conn);
  free_buffers (conn);
}

/* The peer hung up, or the close handshake is done. */
static void
conn_gone (Conn *conn)
{
  if (!conn->closing)
    flow_rv_log_event ("leave", conn, NULL);
  flow_rv_conn_destroy (conn);
}

/* A connection that never got past HTTP. */
static void
pending_free (Conn *conn)
{
  g_queue_unlink (&conn->worker->pending, &conn->link);
  close_fd (conn);
  free_buffers (conn);
  g_free (conn->address);
  g_free (conn);
}

/* A protocol error: close frame, then drop all input until the peer hangs
 * up or the close grace period ends. */
static void
protocol_error (Conn       *conn,
                gushort     code,
                const char *reason)
{
  flow_rv_conn_close (conn, code, reason);
  conn->discard = TRUE;
}

/* ---------------------------------------------------------------------
 * frames
 * --------------------------------------------------------------------- */

static void
deliver_message (Conn         *conn,
                 const guint8 *text,
                 gsize         len)
{
  if (!g_utf8_validate_len ((const char *) text, len, NULL))
    {
      /* The frames are fine: we still wait for the client's close. */
      flow_rv_conn_close (conn, SOUP_WEBSOCKET_CLOSE_BAD_DATA, "invalid UTF-8");
      return;
    }
  if (!flow_rv_conn_take_token (conn, g_get_monotonic_time ()))
    return;
  flow_rv_conn_handle_text (conn, (const char *) text, len);
}

/* Parses one frame at @p. Returns the bytes consumed, 0 if the frame is not
 * complete yet, -1 if @conn is gone. Payloads are unmasked in place. */
static gssize
parse_frame (Conn   *conn,
             guint8 *p,
             gsize   avail)
{
  const FlowRendezvousConfig *config = conn->server->config;
  gboolean fin, masked;
  guint8 opcode;
  guint64 len;
  gsize hlen = 2;
  guint8 *payload;

  if (avail < 2)
    return 0;
  fin = (p[0] & 0x80) != 0;
  opcode = p[0] & 0x0f;
  masked = (p[1] & 0x80) != 0;
  len = p[1] & 0x7f;
  if (len == 126)
    {
      if (avail < 4)
        return 0;
      len = ((guint64) p[2] << 8) | p[3];
      hlen = 4;
    }
  else if (len == 127)
    {
      if (avail < 10)
        return 0;
      len = 0;
      for (guint i = 0; i < 8; i++)
        len = (len << 8) | p[2 + i];
      hlen = 10;
      if (len >> 63)
        {
          protocol_error (conn, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "bad frame length");
          return avail;
        }
    }
  if (masked)
    hlen += 4;
  if (avail < hlen)
    return 0;

  if ((p[0] & 0x70) != 0)
    {
      protocol_error (conn, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "reserved bits set");
      return avail;
    }
  if (!masked)
    {
      protocol_error (conn, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "client frames must be masked");
      return avail;
    }

  switch (opcode)
    {
    case OP_CLOSE:
    case OP_PING:
    case OP_PONG:
      if (!fin || len > 125)
        {
          protocol_error (conn, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "bad control frame");
          return avail;
        }
      break;

    case OP_BINARY:
      if (!conn->closing)
        {
          flow_rv_count_rejection (conn->server, "binary");
          flow_rv_conn_close (conn, SOUP_WEBSOCKET_CLOSE_UNSUPPORTED_DATA,
                              "binary frames are not supported");
        }
      conn->skip = len;
      return hlen;

    case OP_TEXT:
    case OP_CONTINUATION:
      if ((opcode == OP_TEXT) == conn->in_message)
        {
          protocol_error (conn, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR,
                          conn->in_message ? "expected a continuation frame"
                                           : "continuation outside a message");
          return avail;
        }
      if (len > config->max_message_size ||
          conn->mlen + len > config->max_message_size)
        {
          g_clear_pointer (&conn->mbuf, g_free);
          conn->mlen = 0;
          conn->in_message = FALSE;
          if (!conn->closing)
            flow_rv_conn_reject (conn, "too-large", "the message is larger than the server accepts",
                                 SOUP_WEBSOCKET_CLOSE_TOO_BIG);
          conn->skip = len;
          return hlen;
        }
      break;

    default:
      protocol_error (conn, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR, "unknown opcode");
      return avail;
    }

  if (avail - hlen < len)
    return 0;

  payload = p + hlen;
  for (gsize i = 0; i < len; i++)
    payload[i] ^= p[hlen - 4 + (i & 3)];

  /* Any complete frame is a sign of life. */
  flow_rv_conn_seen (conn, g_get_monotonic_time ());

  switch (opcode)
    {
    case OP_PING:
      if (!conn->closing)
        send_frame (conn, OP_PONG, payload, len);
      break;

    case OP_PONG:
      break;

    case OP_CLOSE:
      if (conn->closing)
        {
          /* The answer to our close: done. */
          conn_gone (conn);
          return -1;
        }
      /* Echo the code, then hang up once it is written. */
      if (len >= 2)
        {
          guint8 echo[2] = { payload[0], payload[1] };

          send_frame (conn, OP_CLOSE, echo, 2);
        }
      else
        send_frame (conn, OP_CLOSE, NULL, 0);
      flow_rv_log_event ("leave", conn, NULL);
      conn->closing = TRUE;
      conn->discard = TRUE;
      conn->close_deadline = g_get_monotonic_time () + CLOSE_GRACE_USEC;
      conn->destroy_after_flush = TRUE;
      if (conn->unflushed == 0 || conn->aborted)
        {
          flow_rv_conn_destroy (conn);
          return -1;
        }
      break;

    case OP_TEXT:
      if (conn->closing)
        break;
      if (fin)
        {
          deliver_message (conn, payload, len);
          break;
        }
      conn->mbuf = g_memdup2 (payload, len);
      conn->mlen = len;
      conn->in_message = TRUE;
      break;

    case OP_CONTINUATION:
      if (conn->closing)
        break;
      conn->mbuf = g_realloc (conn->mbuf, conn->mlen + len);
      if (len > 0)
        memcpy (conn->mbuf + conn->mlen, payload, len);
      conn->mlen += len;
      if (fin)
        {
          g_autofree guint8 *text = g_steal_pointer (&conn->mbuf);
          gsize tlen = conn->mlen;

          conn->mlen = 0;
          conn->in_message = FALSE;
          deliver_message (conn, text, tlen);
        }
      break;

    default:
      g_assert_not_reached ();
    }

  return hlen + len;
}

/* Parses what arrived. Returns FALSE when @conn is gone. */
static gboolean
feed (Conn   *conn,
      guint8 *data,
      gsize   n)
{
  guint8 *p;
  gsize avail, used = 0;

  if (conn->discard || conn->aborted)
    return TRUE;

  if (conn->rlen > 0)
    {
      conn->rbuf = g_realloc (conn->rbuf, conn->rlen + n);
      memcpy (conn->rbuf + conn->rlen, data, n);
      conn->rlen += n;
      p = conn->rbuf;
      avail = conn->rlen;
    }
  else
    {
      p = data;
      avail = n;
    }

  while (used < avail && !conn->discard && !conn->aborted)
    {
      gssize r;

      if (conn->skip > 0)
        {
          gsize d = MIN (conn->skip, avail - used);

          conn->skip -= d;
          used += d;
          continue;
        }

      r = parse_frame (conn, p + used, avail - used);
      if (r < 0)
        return FALSE;
      if (r == 0)
        break;
      used += r;
    }

  if (conn->discard || conn->aborted)
    used = avail;

  if (p == conn->rbuf)
    {
      if (used == avail)
        {
          g_clear_pointer (&conn->rbuf, g_free);
          conn->rlen = 0;
        }
      else if (used > 0)
        {
          memmove (conn->rbuf, conn->rbuf + used, avail - used);
          conn->rlen = avail - used;
          conn->rbuf = g_realloc (conn->rbuf, conn->rlen);
        }
    }
  else if (used < avail)
    {
      conn->rbuf = g_memdup2 (p + used, avail - used);
      conn->rlen = avail - used;
    }
  return TRUE;
}

/* Reads until the socket is drained (the fd is edge-triggered). */
static void
read_frames (Conn *conn)
{
  guint8 *scratch = conn->worker->scratch;

  for (;;)
    {
      ssize_t n = recv (conn->fd, scratch, SCRATCH_SIZE, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n <= 0)
        {
          conn_gone (conn);
          return;
        }
      if (!feed (conn, scratch, n))
        return;
    }
}

/* ---------------------------------------------------------------------
 * HTTP
 * --------------------------------------------------------------------- */

static void
http_refuse (Conn       *conn,
             const char *status,
             const char *extra_header)
{
  g_autofree char *response =
    g_strdup_printf ("HTTP/1.1 %s\r\nServer: flowsync-rendezvous/" PACKAGE_VERSION "\r\n"
                     "%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                     status, extra_header ? extra_header : "");

  (void) !send (conn->fd, response, strlen (response), MSG_NOSIGNAL);
  shutdown (conn->fd, SHUT_WR);
  pending_free (conn);
}

/* Whether the comma-separated list @value holds @token (ASCII case
 * ignored). */
static gboolean
header_has_token (const char *value,
                  const char *token)
{
  g_auto(GStrv) parts = NULL;

  if (value == NULL)
    return FALSE;
  parts = g_strsplit (value, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (g_ascii_strcasecmp (g_strstrip (parts[i]), token) == 0)
      return TRUE;
  return FALSE;
}

/* Hands a connection whose request we only peeked at to the SoupServer. */
static void
hand_to_soup (Conn *conn)
{
  Worker *worker = conn->worker;
  g_autoptr(GSocket) socket = NULL;
  int fd = conn->fd;

  epoll_ctl (worker->epfd, EPOLL_CTL_DEL, fd, NULL);
  conn->fd = -1;
  pending_free (conn);

  socket = g_socket_new_from_fd (fd, NULL);
  if (socket == NULL)
    {
      close (fd);
      return;
    }
  flow_rv_worker_serve_http (worker, socket);
}

/* @head: the request head, NUL-terminated, already consumed from the
 * socket. Answers 101 and turns @conn into a WebSocket (returns TRUE), or
 * refuses and frees @conn (returns FALSE). */
static gboolean
upgrade (Conn *conn,
         char *head)
{
  FlowRendezvousServer *self = conn->server;
  Worker *worker = conn->worker;
  g_autoptr(GString) protocols = g_string_new (NULL);
  const char *upgrade_h = NULL, *connection_h = NULL, *version_h = NULL, *key_h = NULL;
  const char *auth_h = NULL;
  gboolean has_protocol = FALSE;
  char *target, *query, *line, *next;
  g_autofree char *response = NULL;
  g_autofree char *accept = NULL;
  g_autofree guchar *key_bytes = NULL;
  gsize key_len = 0;
  guint8 digest[20];
  gsize digest_len = sizeof digest;
  g_autoptr(GChecksum) sha1 = NULL;

  /* "GET /ws?query HTTP/1.1" */
  line = strstr (head, "\r\n");
  *line = '\0';
  next = line + 2;
  target = strchr (head, ' ') + 1;
  if (strchr (target, ' ') == NULL)
    {
      http_refuse (conn, "400 Bad Request", NULL);
      return FALSE;
    }
  *strchr (target, ' ') = '\0';
  query = strchr (target, '?');
  if (query != NULL)
    query++;

  for (line = next; *line != '\0' && !g_str_has_prefix (line, "\r\n"); line = next)
    {
      char *colon, *value, *end = strstr (line, "\r\n");

      if (end == NULL)
        break;
      *end = '\0';
      next = end + 2;
      colon = strchr (line, ':');
      if (colon == NULL)
        continue;
      *colon = '\0';
      value = g_strstrip (colon + 1);
      if (g_ascii_strcasecmp (line, "Upgrade") == 0)
        upgrade_h = value;
      else if (g_ascii_strcasecmp (line, "Connection") == 0)
        connection_h = value;
      else if (g_ascii_strcasecmp (line, "Sec-WebSocket-Version") == 0)
        version_h = value;
      else if (g_ascii_strcasecmp (line, "Sec-WebSocket-Key") == 0)
        key_h = value;
      else if (g_ascii_strcasecmp (line, "Authorization") == 0)
        auth_h = value;
      else if (g_ascii_strcasecmp (line, "Sec-WebSocket-Protocol") == 0)
        {
          has_protocol = TRUE;
          g_string_append_printf (protocols, "%s,", value);
        }
    }

  /* The same order as the soup engine: token, limits, then the handshake. */
  if (!flow_rv_is_authorized (self, auth_h, query))
    {
      flow_rv_count_rejection (self, "unauthorized");
      http_refuse (conn, "401 Unauthorized", "WWW-Authenticate: Bearer\r\n");
      return FALSE;
    }
  if (!flow_rv_has_room_for (self, conn->address))
    {
      flow_rv_count_rejection (self, "too-many-connections");
      http_refuse (conn, "503 Service Unavailable", "Retry-After: 10\r\n");
      return FALSE;
    }

  if (key_h != NULL)
    key_bytes = g_base64_decode (key_h, &key_len);
  if (!header_has_token (upgrade_h, "websocket") ||
      !header_has_token (connection_h, "upgrade") ||
      g_strcmp0 (version_h, "13") != 0 ||
      key_len != 16 ||
      (has_protocol && !header_has_token (protocols->str, FLOW_RENDEZVOUS_SUBPROTOCOL)))
    {
      http_refuse (conn, "400 Bad Request", NULL);
      return FALSE;
    }

  sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  g_checksum_update (sha1, (const guchar *) key_h, strlen (key_h));
  g_checksum_update (sha1, (const guchar *) WS_GUID, strlen (WS_GUID));
  g_checksum_get_digest (sha1, digest, &digest_len);
  accept = g_base64_encode (digest, digest_len);
  response = g_strdup_printf ("HTTP/1.1 101 Switching Protocols\r\n"
                              "Server: flowsync-rendezvous/" PACKAGE_VERSION "\r\n"
                              "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                              accept,
                              has_protocol ? "Sec-WebSocket-Protocol: " : "",
                              has_protocol ? FLOW_RENDEZVOUS_SUBPROTOCOL : "",
                              has_protocol ? "\r\n" : "");

  g_queue_unlink (&worker->pending, &conn->link);
  conn->upgraded = TRUE;
  flow_rv_conn_register (worker, conn);
  queue_bytes (conn, (const guint8 *) response, strlen (response), NULL, 0);
  return TRUE;
}

/* A pending connection is readable: decide on the request line. We only
 * peek, so a request for soup reaches it unread; the fd is edge-triggered,
 * so a head that is not complete yet waits for the next edge. */
static void
read_head (Conn *conn)
{
  char head[MAX_HEAD + 1];
  char *end;
  gsize hlen;
  ssize_t n;

  do
    n = recv (conn->fd, head, MAX_HEAD, MSG_PEEK);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN)
    return;
  if (n <= 0)
    {
      pending_free (conn);
      return;
    }
  head[n] = '\0';

  end = g_strstr_len (head, n, "\r\n\r\n");
  if (end == NULL)
    {
      if (n == MAX_HEAD)
        http_refuse (conn, "431 Request Header Fields Too Large", NULL);
      return;
    }
  hlen = end + 4 - head;
  end[2] = '\0';

  if (!(g_str_has_prefix (head, "GET /ws ") || g_str_has_prefix (head, "GET /ws?")) ||
      strchr (head + 4, ' ') == NULL || strstr (head, "\r\n") == NULL)
    {
      hand_to_soup (conn);
      return;
    }

  /* Consume exactly the head; frames behind it stay in the socket. */
  {
    char sink[MAX_HEAD];
    gsize got = 0;

    while (got < hlen)
      {
        ssize_t r = recv (conn->fd, sink, hlen - got, 0);

        if (r < 0 && errno == EINTR)
          continue;
        if (r <= 0)
          {
            pending_free (conn);
            return;
          }
        got += r;
      }
  }

  if (upgrade (conn, head) && !conn->aborted)
    read_frames (conn);
}

/* ---------------------------------------------------------------------
 * the worker's epoll fd
 * --------------------------------------------------------------------- */

static gboolean
epoll_ready_cb (int          fd,
                GIOCondition condition,
                gpointer     user_data)
{
  Worker *worker = user_data;
  FlowRendezvousServer *self = worker->server;
  struct epoll_event events[MAX_EVENTS];
  int n;

  n = epoll_wait (worker->epfd, events, MAX_EVENTS, 0);
  for (int i = 0; i < n; i++)
    {
      Conn *conn = events[i].data.ptr;
      guint32 ev = events[i].events;
      g_autoptr(GRecMutexLocker) locker = g_rec_mutex_locker_new (&self->lock);

      if (!conn->upgraded)
        {
          read_head (conn);
          continue;
        }
      if ((ev & EPOLLOUT) && conn->woff < conn->wlen && !flush (conn))
        continue;
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        read_frames (conn);
    }
  return G_SOURCE_CONTINUE;
}

gboolean
flow_rv_epoll_worker_init (Worker  *worker,
                           GError **error)
{
  worker->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (worker->epfd < 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   "epoll_create1: %s", g_strerror (errsv));
      return FALSE;
    }
  worker->scratch = g_malloc (SCRATCH_SIZE);
  worker->epoll_source = g_unix_fd_source_new (worker->epfd, G_IO_IN);
  g_source_set_callback (worker->epoll_source, G_SOURCE_FUNC (epoll_ready_cb), worker, NULL);
  g_source_attach (worker->epoll_source, worker->context);
  return TRUE;
}

/* Called under the lock, after the worker's connections are destroyed. */
void
flow_rv_epoll_worker_free (Worker *worker)
{
  while (worker->pending.head != NULL)
    pending_free (worker->pending.head->data);
  if (worker->epoll_source != NULL)
    g_source_destroy (worker->epoll_source);
  g_clear_pointer (&worker->epoll_source, g_source_unref);
  if (worker->epfd >= 0)
    close (worker->epfd);
  worker->epfd = -1;
  g_clear_pointer (&worker->scratch, g_free);
}

static char *
address_of (int fd)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  char buf[INET6_ADDRSTRLEN];

  if (getpeername (fd, (struct sockaddr *) &ss, &sl) == 0)
    {
      if (ss.ss_family == AF_INET &&
          inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, buf, sizeof buf))
        return g_strdup (buf);
      if (ss.ss_family == AF_INET6 &&
          inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, buf, sizeof buf))
        return g_strdup (buf);
    }
  return g_strdup ("unknown");
}

/* Accepts what is pending on @listen_fd (a share of it when several workers
 * accept) into this worker's epoll set. */
void
flow_rv_epoll_accept (Worker *worker,
                      int     listen_fd)
{
  guint max = worker->server->n_workers > 1 ? 16 : 256;

  for (guint i = 0; i < max; i++)
    {
      struct epoll_event ev = { 0 };
      int one = 1;
      Conn *conn;
      int fd = accept4 (listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

      if (fd < 0)
        {
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          break;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

      conn = g_new0 (Conn, 1);
      conn->server = worker->server;
      conn->worker = worker;
      conn->fd = fd;
      conn->address = address_of (fd);
      conn->created = g_get_monotonic_time ();
      conn->link.data = conn;
      g_queue_push_tail_link (&worker->pending, &conn->link);

      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = conn;
      if (epoll_ctl (worker->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        pending_free (conn);
    }
}

/* Drops connections that did not finish their request head in the
 * handshake time. */
void
flow_rv_epoll_sweep_pending (Worker *worker,
                             gint64  now)
{
  gint64 limit = (gint64) worker->server->config->handshake_timeout_ms * 1000;
  GList *l = worker->pending.head;

  while (l != NULL)
    {
      Conn *conn = l->data;

      l = l->next;
      if (now - conn->created > limit)
        pending_free (conn);
    }
}

#else /* !__linux__ */

gboolean
flow_rv_epoll_worker_init (Worker  *worker,
                           GError **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "the epoll engine needs Linux");
  return FALSE;
}

void flow_rv_epoll_worker_free (Worker *worker) { }
void flow_rv_epoll_accept (Worker *worker, int listen_fd) { }
void flow_rv_epoll_sweep_pending (Worker *worker, gint64 now) { }
void flow_rv_epoll_send_text (Conn *conn, const char *text, gsize len) { }
void flow_rv_epoll_send_close (Conn *conn, gushort code, const char *reason) { }
void flow_rv_epoll_send_ping (Conn *conn) { }
void flow_rv_epoll_release (Conn *conn) { }

#endif
