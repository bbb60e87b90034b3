"""Review 13: a hostile forward proxy and a hostile token service.

The proxy here is a Python socket on 127.0.0.1 that answers CONNECT as a
script says (relay to a TLS server on loopback, wrong certificate, bytes
after the 200, huge heads, slow drips, 407s). The target is a name that is
never resolved (the proxy is the only one that ever sees it), so nothing
leaves loopback.
"""

import base64
import os
import signal
import socket
import threading
import time

import pytest

import certs
from conftest import ASAN_BIN, expect_failure, expect_success
from exchange_server import ExchangeServer, Reply, server_context

TARGET = "sts.review13.test"


@pytest.fixture(scope="module")
def target_leaf(pki):
    return certs._extra_leaf(pki.ec, "review13", host=TARGET)


class HostileProxy:
    """Accepts connections; `script(conn, head)` answers each CONNECT."""

    def __init__(self, script):
        self.script = script
        self.heads = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._one, args=(c,), daemon=True).start()

    def _one(self, c):
        head = b""
        c.settimeout(10)
        try:
            while b"\r\n\r\n" not in head:
                d = c.recv(4096)
                if not d:
                    return
                head += d
            self.heads.append(head)
            self.script(c, head, self)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop.set()
        self.sock.close()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port


def relay(a, b, stop_after=30.0):
    """Copy bytes both ways until one side closes."""
    end = time.monotonic() + stop_after

    def pump(src, dst):
        try:
            while time.monotonic() < end:
                d = src.recv(65536)
                if not d:
                    break
                dst.sendall(d)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    t = threading.Thread(target=pump, args=(b, a), daemon=True)
    t.start()
    pump(a, b)
    t.join(5)


def to_server(srv, answer=b"HTTP/1.1 200 Connection established\r\n\r\n"):
    def script(c, head, proxy):
        c.sendall(answer)
        up = socket.create_connection(("127.0.0.1", srv.port))
        relay(c, up)
        up.close()
    return script


@pytest.fixture
def proxies():
    made = []

    def make(script):
        p = HostileProxy(script)
        made.append(p)
        return p
    yield make
    for p in made:
        p.close()


def tls_server(sidecar, leaf):
    srv = ExchangeServer(server_context(leaf.chain, leaf.key))
    srv.start()
    sidecar.servers.append(srv)
    return srv


def run(sidecar, srv, proxy, **kw):
    env = {"EXCHANGE_URL": "https://%s/token" % TARGET,
           "HTTPS_PROXY": proxy.url}
    env.update(kw.pop("env", {}))
    return sidecar.run(srv, env=env, **kw)


def line(res):
    return "\n".join(r["_line"] for r in res.records)


# ---- the hostile proxy ----

def test_relay_to_the_right_server_works(sidecar, target_leaf, proxies):
    srv = tls_server(sidecar, target_leaf)
    srv.push(srv.issue())
    p = proxies(to_server(srv))
    res = run(sidecar, srv, p)
    expect_success(sidecar, res, srv)
    assert p.heads[0].startswith(b"CONNECT %s:443 HTTP/1.1\r\n" %
                                 TARGET.encode())


def test_200_then_a_server_for_another_name(sidecar, pki, proxies):
    srv = tls_server(sidecar, pki.wrong_host)
    srv.push(srv.issue())
    res = run(sidecar, srv, proxies(to_server(srv)))
    expect_failure(sidecar, res)
    assert not srv.requests, "the SA token went to a server for another name"


def test_200_then_a_server_under_another_root(sidecar, pki, proxies):
    srv = tls_server(sidecar, pki.untrusted)
    srv.push(srv.issue())
    res = run(sidecar, srv, proxies(to_server(srv)))
    expect_failure(sidecar, res)
    assert not srv.requests


def test_bytes_after_the_200(sidecar, target_leaf, proxies):
    srv = tls_server(sidecar, target_leaf)
    srv.push(srv.issue())
    res = run(sidecar, srv, proxies(to_server(
        srv, b"HTTP/1.1 200 OK\r\n\r\n\x16\x03\x03\x00\x02hi")))
    expect_failure(sidecar, res)
    assert "after its answer" in line(res), str(res)


@pytest.mark.parametrize("answer", [
    b"HTTP/1.1 200 OK\r\nX: " + b"a" * 9000 + b"\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 3000 + b"\r\n",
    b"HTTP/1.1 200 OK\r\nX: \x1b[31mred\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX\x00: y\r\n\r\n",
    b"HTTP/1.1 200\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
    b"HTTP/1.1 407 \x1b[2J\x1b[Hlevel=error msg=forged\r\n\r\n",
    b"HTTP/1.1 403 " + b"z" * 5000 + b"\r\n\r\n",
    b"\r\n\r\n", b"\n\n", b"HTTP/1.1 200 OK\n\n", b"HTTP/1.1 20",
    b"HTTP/9.9 200 OK\r\n\r\n", b"HTTP/1.1 2000 OK\r\n\r\n",
    b"\x16\x03\x01\x00\x04abcd",
])
def test_hostile_connect_answers(sidecar, target_leaf, proxies, answer):
    srv = tls_server(sidecar, target_leaf)
    srv.push(srv.issue())

    def script(c, head, proxy):
        c.sendall(answer)
        time.sleep(0.3)
    # The ASan build: an answer that overruns the reader aborts the run.
    res = run(sidecar, srv, proxies(script), env={"EXCHANGE_TIMEOUT": "3s"},
              binary=ASAN_BIN)
    # A 200 followed by a close ends in TLS failing; every other answer
    # in the CONNECT reader. One error line either way, none forged
    # (the harness parses every line as one record).
    expect_failure(sidecar, res)
    assert len(res.errors) == 1, str(res)
    assert "\x1b" not in res.stderr, str(res)
    assert not srv.requests


@pytest.mark.parametrize("first,byte,count,delay", [
    # One byte of a long head every 50 ms.
    (b"HTTP/1.1 200 OK\r\nX: ", b"a", 8000, 0.05),
    # Every 2 ms: the socket is nearly always readable when the deadline
    # passes, which is when exchange_step() skips its clock check
    # (revents != 0). The head stays under PROXY_HEAD_MAX for 16 s.
    (b"HTTP/1.1 200 OK\r\nX: ", b"X", 8000, 0.002),
])
def test_drip_ends_at_exchange_timeout(sidecar, target_leaf, proxies, first,
                                       byte, count, delay):
    srv = tls_server(sidecar, target_leaf)

    def script(c, head, proxy):
        c.sendall(first)
        for _ in range(count):
            c.sendall(byte)
            time.sleep(delay)
    res = run(sidecar, srv, proxies(script), env={"EXCHANGE_TIMEOUT": "2s"},
              timeout=60)
    expect_failure(sidecar, res)
    assert res.elapsed < 4.0, "a dripping proxy held the exchange %.1fs" % (
        res.elapsed)


def test_407_in_run_mode_backs_off(sidecar, target_leaf, proxies):
    srv = tls_server(sidecar, target_leaf)

    def script(c, head, proxy):
        c.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                  b"Proxy-Authenticate: Basic realm=x\r\n\r\n")
    p = proxies(script)
    res = run(sidecar, srv, p, args=("run",),
              signal_after=(signal.SIGTERM, 3.0), timeout=20)
    assert res.rc == 0, str(res)
    assert 1 <= len(p.heads) <= 3, "%d CONNECTs in 3 s" % len(p.heads)


def test_password_with_a_slash_is_refused(sidecar, proxies):
    """http://alice:12/34secret@proxy: Go reads host alice, port 12; the
    start-up log would name "http://alice:12" and the resolver be asked
    for "alice". Refused, naming neither."""
    p = proxies(lambda c, head, proxy: None)
    sidecar.add_secret("34secret")
    env = {"EXCHANGE_URL": "https://%s/token" % TARGET,
           "HTTPS_PROXY": "http://alice:12/34secret@127.0.0.1:%d" % p.port}
    res = sidecar.run(None, env=env)
    expect_failure(sidecar, res, rc=2)
    assert "alice" not in res.stderr, str(res)
    assert "percent-encode" in res.stderr, str(res)


# ---- proxy credentials ----

def test_proxy_reason_phrase_quoting_credentials(sidecar, target_leaf,
                                                 proxies):
    """A proxy that quotes the Proxy-Authorization it got in its reason
    phrase: the base64 of user:password must not reach the log."""
    srv = tls_server(sidecar, target_leaf)

    def script(c, head, proxy):
        auth = [h for h in head.split(b"\r\n")
                if h.lower().startswith(b"proxy-authorization:")]
        c.sendall(b"HTTP/1.1 403 bad " + (auth[0][21:] if auth else b"")
                  + b"\r\n\r\n")
    p = proxies(script)
    b64 = base64.b64encode(b"alice:s3cretpassw0rd").decode()
    sidecar.add_secret(b64)
    sidecar.add_secret("s3cretpassw0rd")
    env = {"EXCHANGE_URL": "https://%s/token" % TARGET,
           "HTTPS_PROXY": "http://alice:s3cretpassw0rd@127.0.0.1:%d" % p.port}
    res = sidecar.run(srv, env=env)
    expect_failure(sidecar, res)


def test_http_target_proxy_error_body_quoting_credentials(sidecar, proxies):
    """http:// target through HTTP_PROXY: the proxy's own error page is
    read as the token service's answer; one that echoes the request's
    Proxy-Authorization must not put it in the log."""
    def script(c, head, proxy):
        auth = [h for h in head.split(b"\r\n")
                if h.lower().startswith(b"proxy-authorization:")]
        body = b'{"error":"proxy_denied","error_description":"got ' + \
            (auth[0] if auth else b"") + b'"}'
        c.sendall(b"HTTP/1.1 407 Nope\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
    p = proxies(script)
    b64 = base64.b64encode(b"alice:s3cretpassw0rd").decode()
    sidecar.add_secret(b64)
    env = {"EXCHANGE_URL": "http://%s/token" % TARGET,
           "ALLOW_INSECURE_HTTP": "true",
           "HTTP_PROXY": "http://alice:s3cretpassw0rd@127.0.0.1:%d" % p.port}
    res = sidecar.run(None, env=env, unset=("CA_BUNDLE_PATH",))
    expect_failure(sidecar, res)


# ---- the token service ----

def test_basic_authorization_quoted_back(sidecar, tmp_path):
    """client_secret_basic: a token service that quotes the Authorization
    header it got in its error: the base64 of id:secret must not reach
    the log (the raw secret is registered with the logger; this form was
    not)."""
    secret = "Zq8-" + os.urandom(5).hex()
    (tmp_path / "secret").write_text(secret)
    basic = base64.b64encode(("c:" + secret).encode()).decode()
    sidecar.add_secret(secret)
    sidecar.add_secret(basic)
    srv = sidecar.server()
    srv.handler = lambda req: Reply(status=401, body={
        "error": "invalid_client",
        "error_description": "got " + (req.header("Authorization") or "")})
    res = sidecar.run(srv, env={"CLIENT_AUTH": "client_secret_basic",
                                "CLIENT_ID": "c",
                                "CLIENT_SECRET_PATH": str(tmp_path / "secret")})
    expect_failure(sidecar, res)
    assert srv.requests and srv.requests[0].header("Authorization")


# ---- files that are not files ----

@pytest.mark.parametrize("var", ["CLIENT_SECRET_PATH", "SA_TOKEN_PATH"])
def test_secret_fifo_does_not_block(sidecar, tmp_path, var):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    srv = sidecar.server()
    srv.push(srv.issue())
    env = {var: str(fifo), "EXCHANGE_TIMEOUT": "2s"}
    if var == "CLIENT_SECRET_PATH":
        env.update({"CLIENT_AUTH": "client_secret_post", "CLIENT_ID": "c"})
    h = sidecar.spawn(srv, env=env)
    try:
        h.proc.wait(timeout=5)
    except Exception:
        h.proc.kill()
        h.proc.wait()
        pytest.fail("%s as a FIFO blocked the sidecar for 5 s" % var)
    res = sidecar.finish(h)
    expect_failure(sidecar, res, rc=res.rc)
    assert res.rc != 0 and "not a regular file" in res.stderr, str(res)


def test_client_key_fifo_does_not_block_reload(sidecar, tmp_path, pki):
    """private_key_jwt with the key replaced by a FIFO after start: the
    reload opens it and must not block the loop (health stops)."""
    key = tmp_path / "client.key"
    key.write_bytes(open(pki.ec.leaf.key, "rb").read())
    srv = sidecar.server()
    for _ in range(5):
        srv.push(srv.issue(expires_in=1))
    env = {"CLIENT_AUTH": "private_key_jwt", "CLIENT_ID": "c",
           "CLIENT_KEY_PATH": str(key), "MIN_REFRESH_INTERVAL": "1s",
           "REFRESH_BEFORE_EXPIRY": "1s"}
    h = sidecar.spawn(srv, env=env, args=("run",))
    time.sleep(1.0)
    key.unlink()
    os.mkfifo(key)
    time.sleep(3.0)
    with open("/proc/%d/wchan" % h.proc.pid) as f:
        st = f.read()
    h.proc.terminate()
    try:
        h.proc.wait(timeout=5)
        blocked = False
    except Exception:
        blocked = True
        h.proc.kill()
        h.proc.wait()
    assert not blocked, "SIGTERM ignored: the loop is blocked (wchan %s)" % st
