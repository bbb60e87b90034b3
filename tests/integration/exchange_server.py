#!/usr/bin/python3
"""An RFC 8693 token exchange server for tests, HTTP/1.1 over Python's ssl.

Library use (what the pytest fixtures do):

    srv = ExchangeServer(ssl_context=server_context(chain_pem, key_pem))
    port = srv.start()                 # 127.0.0.1, a free port
    srv.push(Reply(status=400, body={"error": "invalid_grant"}))
    ...                                # run the client
    srv.requests[0].form               # what the client sent
    srv.stop()

Every request is recorded (RecordedRequest: method, target, version,
headers in order, raw body, parsed form, TLS server name, protocol,
cipher). What the server answers is a queue of Reply objects, one per
connection; when the queue is empty, `handler(request)` decides, and the
default handler issues a fresh random access token (see issue()).

A Reply can answer normally (status, headers, body framed by
Content-Length, chunked coding or connection close), or misbehave: close
at once, stall before the TLS handshake, stall after reading the request,
send the headers then stall, drip the answer byte by byte, or send raw
bytes. For honest timing every accepted socket has TCP_NODELAY and a
normal answer (status line, headers and body) goes out in one write.

Script use (prints one JSON line per request on stdout):

    python3 exchange_server.py --cert leaf-chain.pem --key leaf.key \
        [--port 0] [--plain] [--expires-in 3600] [--access-token TOKEN]
"""

import argparse
import json
import queue
import secrets
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple, Union

ISSUED_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"

REASONS = {
    100: "Continue", 102: "Processing", 103: "Early Hints",
    200: "OK", 201: "Created", 204: "No Content",
    301: "Moved Permanently", 302: "Found", 303: "See Other",
    307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
    404: "Not Found", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable",
}


def random_token(prefix="at"):
    """A distinctive, JWT-shaped random token (base64url segments)."""
    return "%s.%s.%s" % (prefix + secrets.token_urlsafe(12),
                         secrets.token_urlsafe(48), secrets.token_urlsafe(32))


def server_context(chain_pem, key_pem, min_version=None, max_version=None,
                   ciphers=None):
    """A server SSLContext presenting chain_pem (leaf first) with key_pem.

    ciphers: an OpenSSL cipher string set before the chain is loaded, e.g.
    "DEFAULT:@SECLEVEL=0", without which OpenSSL refuses to load a chain
    with a 1024-bit RSA key or a SHA-1 signature, or to speak TLS 1.0.
    The chain is sent in file order (OpenSSL does not reorder it)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    ctx.load_cert_chain(chain_pem, key_pem)
    if min_version is not None:
        ctx.minimum_version = min_version
    if max_version is not None:
        ctx.maximum_version = max_version
    return ctx


@dataclass
class RecordedRequest:
    method: str
    target: str
    version: str
    headers: List[Tuple[str, str]]      # in order, as sent
    body: bytes                         # raw body bytes
    head: bytes                         # raw request line and headers
    sni: Optional[str] = None
    tls_version: Optional[str] = None
    cipher: Optional[str] = None
    peer: Optional[Tuple[str, int]] = None
    time: float = 0.0

    def header(self, name):
        """The value of header `name` (case-insensitive); None if absent.
        Raises if the header appears more than once."""
        vals = self.header_all(name)
        if len(vals) > 1:
            raise AssertionError("header %s sent %d times: %r" %
                                 (name, len(vals), vals))
        return vals[0] if vals else None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def header_names(self):
        return [k for k, _ in self.headers]

    @property
    def form_pairs(self):
        """The body as an ordered list of (key, value) pairs."""
        return urllib.parse.parse_qsl(self.body.decode("utf-8", "replace"),
                                      keep_blank_values=True,
                                      strict_parsing=bool(self.body))

    @property
    def form(self):
        return dict(self.form_pairs)

    def to_json(self):
        return {
            "method": self.method, "target": self.target,
            "version": self.version, "headers": self.headers,
            "body_len": len(self.body), "sni": self.sni,
            "tls_version": self.tls_version, "cipher": self.cipher,
        }


@dataclass
class Reply:
    """What to answer on one connection.

    action:
      "respond"            normal answer (the default)
      "close"              close the TCP connection at once (before TLS)
      "stall_handshake"    accept and never say a word
      "stall"              read the request, then never answer
      "close_after_request" read the request, then close without answering
      "headers_then_stall" send status line and headers, then stall
      "silent_after_handshake" complete the TLS handshake, then neither
                           read nor write until stop()
      Raw TCP, before any TLS (the server's TLS context is not used):
      "reset"              read the client's first bytes (its ClientHello)
                           unless raw_read_first is False, then close with
                           SO_LINGER 0, so the client gets a TCP RST
      "raw_tcp"            read the client's first bytes likewise, send
                           `raw` (plain HTTP, random bytes, a TLS alert
                           record: see tls_alert_record()), then close, or
                           with raw_then_stall hold the connection open
    framing: "length" (Content-Length), "chunked", or "close" (neither
      header: the body ends when the connection does).
    """
    status: int = 200
    body: Union[bytes, str, dict, list, None] = b""
    headers: List[Tuple[str, str]] = field(default_factory=list)
    reason: Optional[str] = None
    framing: str = "length"
    content_type: Optional[str] = "application/json"
    chunk_sizes: Optional[List[int]] = None   # default: the body in 3 chunks
    chunk_ext: str = ""                        # e.g. ';name=value'
    trailers: List[Tuple[str, str]] = field(default_factory=list)
    interim: List[int] = field(default_factory=list)   # 1xx sent first
    action: str = "respond"
    raw: Optional[bytes] = None         # send exactly these bytes instead
    pieces: int = 1                     # split the answer into this many writes
    piece_delay: float = 0.0            # seconds between pieces
    drip_delay: Optional[float] = None  # one byte per write, this far apart
    close_notify: bool = True           # TLS: send close_notify when done
    access_token: Optional[str] = None  # informational: the token in body
    raw_read_first: bool = True         # "reset"/"raw_tcp": read ClientHello
    raw_then_stall: bool = False        # "raw_tcp": keep the socket open
    then_stall: bool = False            # "respond": stay open after answering

    def body_bytes(self):
        b = self.body
        if b is None:
            return b""
        if isinstance(b, (dict, list)):
            return json.dumps(b).encode()
        if isinstance(b, str):
            return b.encode()
        return bytes(b)

    def encode(self):
        """The full answer as bytes (1xx, status line, headers, body)."""
        if self.raw is not None:
            return self.raw
        out = []
        for code in self.interim:
            out.append(("HTTP/1.1 %d %s\r\n\r\n" %
                        (code, REASONS.get(code, "Info"))).encode())
        body = self.body_bytes()
        reason = self.reason if self.reason is not None else \
            REASONS.get(self.status, "Status")
        lines = ["HTTP/1.1 %d %s" % (self.status, reason)]
        names = {k.lower() for k, _ in self.headers}
        if self.content_type and "content-type" not in names:
            lines.append("Content-Type: " + self.content_type)
        if "cache-control" not in names:
            lines.append("Cache-Control: no-store")
        if self.framing == "length" and "content-length" not in names:
            lines.append("Content-Length: %d" % len(body))
        elif self.framing == "chunked":
            lines.append("Transfer-Encoding: chunked")
        if "connection" not in names:
            lines.append("Connection: close")
        lines += ["%s: %s" % kv for kv in self.headers]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode()
        if self.framing != "chunked":
            return b"".join(out) + head + body
        sizes = self.chunk_sizes
        if sizes is None:
            n = max(1, (len(body) + 2) // 3)
            sizes = [n] * 3
        chunks, pos = [], 0
        for size in sizes:
            if pos >= len(body):
                break
            piece = body[pos:pos + size]
            pos += len(piece)
            chunks.append(b"%x%s\r\n%s\r\n" % (len(piece),
                                               self.chunk_ext.encode(), piece))
        if pos < len(body):
            piece = body[pos:]
            chunks.append(b"%x\r\n%s\r\n" % (len(piece), piece))
        end = b"0\r\n" + b"".join(("%s: %s\r\n" % kv).encode()
                                  for kv in self.trailers) + b"\r\n"
        return b"".join(out) + head + b"".join(chunks) + end


TLS_ALERTS = {"handshake_failure": 40, "bad_certificate": 42,
              "protocol_version": 70, "insufficient_security": 71,
              "internal_error": 80, "unrecognized_name": 112,
              "certificate_required": 116}


def tls_alert_record(description, level=2, version=b"\x03\x03"):
    """One plaintext TLS alert record (fatal by default); description is a
    number or a TLS_ALERTS name."""
    if isinstance(description, str):
        description = TLS_ALERTS[description]
    return b"\x15" + version + b"\x00\x02" + bytes([level, description])


def token_body(access_token, expires_in=3600, token_type="Bearer",
               issued_token_type=ISSUED_TOKEN_TYPE, extra=None):
    body = {"access_token": access_token,
            "issued_token_type": issued_token_type,
            "token_type": token_type}
    if expires_in is not None:
        body["expires_in"] = expires_in
    if extra:
        body.update(extra)
    return body


class ExchangeServer:
    """A threaded HTTP/1.1 (optionally TLS) token exchange server."""

    def __init__(self, ssl_context=None, host="127.0.0.1", port=0,
                 expires_in=3600, access_token=None, io_timeout=10.0,
                 on_request=None):
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self.expires_in = expires_in
        self.fixed_access_token = access_token
        self.io_timeout = io_timeout
        self.on_request = on_request            # callback(RecordedRequest)
        self.handler: Optional[Callable[[RecordedRequest], Reply]] = None
        self.requests: List[RecordedRequest] = []
        self.issued_tokens: List[str] = []
        self.connections = 0
        self.handshake_errors: List[str] = []
        self.errors: List[str] = []
        self._replies = queue.Queue()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []
        self._sock = None
        self._socks = []
        if ssl_context is not None:
            ssl_context.sni_callback = self._sni

    # ---- configuration ----

    def push(self, *replies):
        """Queue replies, one per future connection, in order."""
        for r in replies:
            self._replies.put(r)

    def issue(self, access_token=None, expires_in="default", **kw):
        """A success Reply with a token; the token is recorded as issued."""
        tok = access_token or self.fixed_access_token or random_token()
        if expires_in == "default":
            expires_in = self.expires_in
        with self._lock:
            self.issued_tokens.append(tok)
        body_extra = kw.pop("extra", None)
        reply = Reply(status=200, body=token_body(tok, expires_in,
                                                  extra=body_extra), **kw)
        reply.access_token = tok
        return reply

    # ---- life cycle ----

    @property
    def scheme(self):
        return "https" if self.ssl_context is not None else "http"

    def url(self, path="/token", host="localhost"):
        if ":" in host:
            host = "[%s]" % host
        return "%s://%s:%d%s" % (self.scheme, host, self.port, path)

    def start(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.host, self.port))
        s.listen(64)
        s.settimeout(0.5)
        self._sock = s
        self.port = s.getsockname()[1]
        t = threading.Thread(target=self._accept_loop, daemon=True,
                             name="exchange-accept")
        t.start()
        self._threads.append(t)
        return self.port

    def stop(self):
        self._stop.set()
        if self._sock:
            try:   # wakes the accept() at once
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in list(self._threads):
            t.join(timeout=5)
        if self._sock:
            self._sock.close()
        for c in list(self._socks):
            try:
                c.close()
            except OSError:
                pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def wait_requests(self, n, timeout=5.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.requests) >= n:
                return True
            time.sleep(0.01)
        return len(self.requests) >= n

    # ---- internals ----

    def _sni(self, sslobj, name, ctx):
        try:
            sslobj.tb_sni = name
        except AttributeError:
            pass
        return None

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, peer = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                raise
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._socks.append(conn)
            t = threading.Thread(target=self._serve, args=(conn, peer),
                                 daemon=True, name="exchange-conn")
            t.start()
            self._threads.append(t)

    def _next_reply(self):
        try:
            return self._replies.get_nowait()
        except queue.Empty:
            return None

    def _stall(self, sock):
        # Hold the connection open, reading and discarding, until stop().
        sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                data = sock.recv(4096)
                if data == b"":
                    # Peer gone: nothing more to do but keep quiet.
                    self._stop.wait(0.1)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            except (OSError, ssl.SSLError):
                self._stop.wait(0.1)

    def _serve(self, conn, peer):
        reply = self._next_reply()
        try:
            if reply is not None and reply.action == "close":
                conn.close()
                return
            if reply is not None and reply.action == "stall_handshake":
                self._stall(conn)
                return
            if reply is not None and reply.action in ("reset", "raw_tcp"):
                self._raw_tcp(conn, reply)
                return
            sock = conn
            sni = tls_version = cipher = None
            if self.ssl_context is not None:
                conn.settimeout(self.io_timeout)
                try:
                    sock = self.ssl_context.wrap_socket(conn, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    with self._lock:
                        self.handshake_errors.append(str(e))
                    conn.close()
                    return
                with self._lock:
                    self._socks.append(sock)
                if reply is not None and \
                        reply.action == "silent_after_handshake":
                    self._stop.wait()
                    return
                sni = getattr(sock, "tb_sni", None)
                tls_version = sock.version()
                c = sock.cipher()
                cipher = c[0] if c else None
            sock.settimeout(self.io_timeout)
            req = self._read_request(sock, peer)
            if req is None:
                sock.close()
                return
            req.sni, req.tls_version, req.cipher = sni, tls_version, cipher
            with self._lock:
                self.requests.append(req)
            if self.on_request:
                self.on_request(req)
            if reply is None:
                reply = self.handler(req) if self.handler else self.issue()
            self._answer(sock, reply)
        except Exception as e:  # recorded for the test's eyes
            with self._lock:
                self.errors.append("%s: %s" % (type(e).__name__, e))
            try:
                conn.close()
            except OSError:
                pass

    def _raw_tcp(self, conn, reply):
        """"reset" and "raw_tcp": no TLS at all, see Reply."""
        conn.settimeout(self.io_timeout)
        if reply.raw_read_first:
            try:
                conn.recv(65536)     # the ClientHello (one write)
            except OSError:
                pass
        if reply.action == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
            conn.close()
            return
        try:
            conn.sendall(reply.raw or b"")
        except OSError:
            pass
        if reply.raw_then_stall:
            self._stall(conn)
            return
        try:
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(1.0)
            while conn.recv(65536):   # let the client read, then see EOF
                pass
        except OSError:
            pass
        conn.close()

    def _read_request(self, sock, peer):
        buf = b""
        while b"\r\n\r\n" not in buf:
            try:
                data = sock.recv(65536)
            except (socket.timeout, ssl.SSLError, OSError) as e:
                with self._lock:
                    self.errors.append("reading request: %s" % e)
                return None
            if not data:
                if buf:
                    with self._lock:
                        self.errors.append("request truncated: %r" % buf[:200])
                return None
            buf += data
            if len(buf) > 1 << 20:
                raise ValueError("request head too large")
        head, _, rest = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        method, target, version = lines[0].decode("latin-1").split(" ", 2)
        headers = []
        for line in lines[1:]:
            k, sep, v = line.decode("latin-1").partition(":")
            if not sep:
                raise ValueError("malformed header line %r" % line)
            headers.append((k, v.strip(" \t")))
        lower = {}
        for k, v in headers:
            lower.setdefault(k.lower(), v)
        body = rest
        if "content-length" in lower:
            need = int(lower["content-length"])
            while len(body) < need:
                data = sock.recv(65536)
                if not data:
                    break
                body += data
            body = body[:need] if len(body) >= need else body
        elif lower.get("transfer-encoding", "").lower() == "chunked":
            body = self._read_chunked(sock, body)
        return RecordedRequest(method, target, version, headers, body, head,
                               peer=peer, time=time.time())

    def _read_chunked(self, sock, buf):
        out = b""
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            line, _, buf = buf.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            if size == 0:
                while b"\r\n\r\n" not in b"\r\n" + buf:
                    buf += sock.recv(65536)
                return out
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            out += buf[:size]
            buf = buf[size + 2:]

    def _send(self, sock, data):
        sock.sendall(data)

    def _answer(self, sock, reply):
        if reply.action == "stall":
            self._stall(sock)
            return
        if reply.action == "close_after_request":
            self._close(sock, reply)
            return
        data = reply.encode()
        if reply.action == "headers_then_stall":
            end = data.find(b"\r\n\r\n") + 4
            self._send(sock, data[:end])
            self._stall(sock)
            return
        if reply.drip_delay is not None:
            for i in range(len(data)):
                if self._stop.is_set():
                    return
                self._send(sock, data[i:i + 1])
                time.sleep(reply.drip_delay)
        elif reply.pieces > 1:
            step = max(1, -(-len(data) // reply.pieces))
            for i in range(0, len(data), step):
                if i:
                    time.sleep(reply.piece_delay)
                self._send(sock, data[i:i + step])
        else:
            self._send(sock, data)   # one write: headers and body together
        if reply.then_stall:
            self._stall(sock)
            return
        self._close(sock, reply)

    def _close(self, sock, reply):
        if isinstance(sock, ssl.SSLSocket) and reply.close_notify:
            try:
                sock.settimeout(1.0)
                raw = sock.unwrap()     # sends close_notify
                raw.close()
                return
            except (ssl.SSLError, OSError, ValueError):
                pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--cert", help="PEM: leaf certificate, then intermediates")
    ap.add_argument("--key", help="PEM private key of the leaf")
    ap.add_argument("--plain", action="store_true", help="plain HTTP, no TLS")
    ap.add_argument("--expires-in", type=int, default=3600)
    ap.add_argument("--access-token", default=None,
                    help="always issue this token (default: random each time)")
    args = ap.parse_args(argv)
    ctx = None
    if not args.plain:
        if not (args.cert and args.key):
            ap.error("--cert and --key are required unless --plain")
        ctx = server_context(args.cert, args.key)

    def log(req):
        rec = req.to_json()
        rec["form"] = {k: (v if k != "subject_token" else
                           "<%d bytes>" % len(v)) for k, v in req.form_pairs}
        print(json.dumps(rec), flush=True)

    srv = ExchangeServer(ctx, host=args.host, port=args.port,
                         expires_in=args.expires_in,
                         access_token=args.access_token, on_request=log)
    srv.start()
    print("listening on %s:%d; exchange URL %s (Ctrl-C to stop)" %
          (args.host, srv.port, srv.url("/token")), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
