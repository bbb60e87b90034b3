"""Hostile servers at the transport and TLS layer, `once` mode.

A raw TCP server (exchange_server.py actions "close", "reset", "raw_tcp")
and then real TLS through Python's ssl. For every case the sidecar must
exit 1 (never a signal), with exactly one error line whose text names the
problem, within EXCHANGE_TIMEOUT (TIMEOUT) plus MARGIN, leaving the old
token file byte for byte and no temporary file (conftest's invariant),
and must not send the request (the ServiceAccount token) anywhere.

Cases that must fail at once (the peer closed, reset, or spoke nonsense)
must also fail well before the deadline: a client that only notices at
the deadline would hide a bug in its EOF and error handling.

Overlap: test_exchange.py has "close" and a 0.15 s drip, test_tls.py a
TLS 1.3-only server; they check the exit status only. Here each is part
of the table with its message checked.
"""

import random
import re
import ssl
import time

import pytest

from conftest import expect_failure
from exchange_server import (ExchangeServer, Reply, server_context,
                             tls_alert_record)

TIMEOUT = 2.0
MARGIN = 0.8
FAST = 1.0          # a failure that needs no deadline comes within this

NOT_TLS = r"did not answer with TLS|malformed TLS record|is the port a " \
          r"(TLS|plain HTTP) server"


def random_bytes(n, seed):
    return bytes(random.Random(seed).getrandbits(8) for _ in range(n))


# name -> (Reply, regex for the error line, must be fast)
RAW = {
    "accept-then-close": (
        Reply(action="close"),
        r"closed the connection during the handshake|reset the connection",
        True),
    "close-after-clienthello": (
        Reply(action="raw_tcp", raw=b""),
        r"closed the connection during the handshake", True),
    "reset-during-handshake": (
        Reply(action="reset"),
        r"reset the connection", True),
    "reset-before-clienthello-read": (
        Reply(action="reset", raw_read_first=False),
        r"reset the connection", True),
    "plain-http-answer": (
        Reply(action="raw_tcp",
              raw=b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html\r\n"
                  b"Content-Length: 48\r\nConnection: close\r\n\r\n"
                  b"<html>The plain HTTP request was sent to HTTPS</html>"),
        r"did not answer with TLS: is the port a plain HTTP server", True),
    "plain-http-answer-then-stall": (
        Reply(action="raw_tcp", raw_then_stall=True,
              raw=b"HTTP/1.0 200 OK\r\n\r\n"),
        r"did not answer with TLS", True),
    "ssh-banner": (
        Reply(action="raw_tcp", raw=b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"),
        NOT_TLS, True),
    "random-bytes": (
        Reply(action="raw_tcp", raw=b"\x9c" + random_bytes(4095, 1)),
        NOT_TLS, True),
    "random-bytes-handshake-type": (
        # Looks like a TLS 1.2 handshake record, then garbage inside.
        Reply(action="raw_tcp",
              raw=b"\x16\x03\x03\x00\x40" + random_bytes(64, 2)),
        r"TLS with .* failed", True),
    "huge-record-length": (
        Reply(action="raw_tcp", raw=b"\x16\x03\x03\xff\xff" + b"\x00" * 32,
              raw_then_stall=True),
        r"malformed TLS record|TLS with .* failed", True),
    "alert-handshake-failure": (
        Reply(action="raw_tcp", raw=tls_alert_record("handshake_failure")),
        r"refused the handshake: no cipher suite or curve in common", True),
    "alert-protocol-version": (
        Reply(action="raw_tcp", raw=tls_alert_record("protocol_version")),
        r"refused TLS 1.2.*requires TLS 1.3", True),
    "alert-unrecognized-name": (
        Reply(action="raw_tcp", raw=tls_alert_record("unrecognized_name")),
        r"does not know the host name sent as SNI", True),
    "alert-internal-error": (
        Reply(action="raw_tcp", raw=tls_alert_record("internal_error")),
        r"aborted the connection with a TLS alert", True),
    "alert-tls10-record-version": (
        Reply(action="raw_tcp",
              raw=tls_alert_record("protocol_version", version=b"\x03\x01")),
        r"refused TLS 1.2|TLS 1.2", True),
    "silence-before-handshake": (
        Reply(action="stall_handshake"),
        r"did not answer within EXCHANGE_TIMEOUT", False),
    "silence-after-clienthello": (
        Reply(action="raw_tcp", raw=b"", raw_then_stall=True),
        r"did not answer within EXCHANGE_TIMEOUT", False),
}

# After a completed TLS 1.2 handshake.
AFTER_HANDSHAKE = {
    "nothing-after-handshake": (
        Reply(action="silent_after_handshake"),
        r"did not answer within EXCHANGE_TIMEOUT", False),
    "request-read-then-silence": (
        Reply(action="stall"),
        r"did not answer within EXCHANGE_TIMEOUT", False),
    # One byte a second: every read makes progress, the whole exchange
    # cannot finish; the deadline bounds the exchange, not each read.
    "drip-one-byte-per-second": (
        Reply(drip_delay=1.0, body={"access_token": "never-delivered"}),
        r"did not answer within EXCHANGE_TIMEOUT", False),
    "close-without-close-notify-mid-headers": (
        Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Type: appl",
              close_notify=False),
        r"closed in the middle of the response headers", True),
    "close-notify-without-answer": (
        # close_notify with nothing sent: a clean TLS end, no answer.
        Reply(action="close_after_request"),
        r"closed the connection without answering", True),
}


def check(sidecar, srv, res, pattern, fast):
    expect_failure(sidecar, res)
    assert res.rc == 1, "exit status %s (a signal is negative)\n%s" % (
        res.rc, res)
    assert len(res.errors) == 1, "expected exactly one error line\n%s" % res
    line = res.errors[0]["_line"] + "\n" + res.errors[0].get("error", "")
    assert re.search(pattern, line, re.I), \
        "the error line does not name the problem (%r)\n%s" % (pattern, res)
    limit = FAST if fast else TIMEOUT + MARGIN
    assert res.elapsed <= limit, "took %.2fs (limit %.1fs)\n%s" % (
        res.elapsed, limit, res)
    if not fast:
        assert res.elapsed >= TIMEOUT - 0.2, \
            "gave up after %.2fs, before EXCHANGE_TIMEOUT\n%s" % (
                res.elapsed, res)


def run(sidecar, srv):
    return sidecar.run(srv, env={"EXCHANGE_TIMEOUT": "%gs" % TIMEOUT},
                       timeout=TIMEOUT + 10)


@pytest.mark.parametrize("name", sorted(RAW))
def test_transport_and_handshake(sidecar, name):
    reply, pattern, fast = RAW[name]
    srv = sidecar.server()
    srv.push(reply)
    res = run(sidecar, srv)
    check(sidecar, srv, res, pattern, fast)
    assert srv.requests == [] and srv.connections == 1, str(res)


@pytest.mark.parametrize("name", sorted(AFTER_HANDSHAKE))
def test_after_handshake(sidecar, name):
    reply, pattern, fast = AFTER_HANDSHAKE[name]
    srv = sidecar.server()
    srv.push(reply)
    res = run(sidecar, srv)
    check(sidecar, srv, res, pattern, fast)
    assert srv.connections == 1, str(res)


def _versioned_server(sidecar, pki, version, ciphers=None):
    leaf = pki.ec.leaf
    ctx = server_context(leaf.chain, leaf.key, min_version=version,
                         max_version=version, ciphers=ciphers)
    srv = ExchangeServer(ctx)
    srv.start()
    sidecar.servers.append(srv)
    return srv


def test_tls13_only_server(sidecar, pki):
    srv = _versioned_server(sidecar, pki, ssl.TLSVersion.TLSv1_3)
    res = run(sidecar, srv)
    check(sidecar, srv, res, r"refused TLS 1.2.*requires TLS 1.3", True)
    assert srv.requests == []


def _tls10_context_usable(pki):
    """Can this OpenSSL serve TLS 1.0 at all? (a loopback handshake)"""
    import socket
    import threading
    import warnings
    leaf = pki.ec.leaf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            sctx = server_context(leaf.chain, leaf.key,
                                  min_version=ssl.TLSVersion.TLSv1,
                                  max_version=ssl.TLSVersion.TLSv1,
                                  ciphers="DEFAULT:@SECLEVEL=0")
            cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            cctx.check_hostname = False
            cctx.verify_mode = ssl.CERT_NONE
            cctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            cctx.minimum_version = ssl.TLSVersion.TLSv1
            cctx.maximum_version = ssl.TLSVersion.TLSv1
        except (ssl.SSLError, ValueError) as e:
            return "cannot configure TLS 1.0: %s" % e
    a, b = socket.socketpair()
    out = {}

    def serve():
        try:
            s = sctx.wrap_socket(a, server_side=True)
            out["v"] = s.version()
            s.close()
        except (ssl.SSLError, OSError) as e:
            out["e"] = str(e)
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        c = cctx.wrap_socket(b)
        c.close()
    except (ssl.SSLError, OSError) as e:
        out.setdefault("e", str(e))
    t.join(5)
    a.close()
    b.close()
    if out.get("v") != "TLSv1":
        return "OpenSSL here cannot serve TLS 1.0: %s" % out.get("e", out)
    return None


def test_tls10_only_server(sidecar, pki):
    why = _tls10_context_usable(pki)
    if why:
        pytest.skip(why)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        srv = _versioned_server(sidecar, pki, ssl.TLSVersion.TLSv1,
                                ciphers="DEFAULT:@SECLEVEL=0")
    res = run(sidecar, srv)
    # Observed with OpenSSL 3.0: the server settles on TLS 1.0 first, then
    # finds none of the client's suites (all TLS 1.2 AEAD suites) usable
    # and sends a handshake_failure alert, so the line says "no cipher
    # suite or curve in common" rather than naming the version; a server
    # answering with a TLS 1.0 ServerHello would get "does not speak TLS
    # 1.2". Either names why the handshake cannot succeed.
    check(sidecar, srv, res,
          r"does not speak TLS 1.2|refused TLS 1.2|no cipher suite", True)
    assert srv.requests == []


def test_tls11_only_server_says_version(sidecar, pki):
    """Like TLS 1.0: a server stuck at TLS 1.1."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            srv = _versioned_server(sidecar, pki, ssl.TLSVersion.TLSv1_1,
                                    ciphers="DEFAULT:@SECLEVEL=0")
        except (ssl.SSLError, ValueError) as e:
            pytest.skip("cannot configure TLS 1.1: %s" % e)
    res = run(sidecar, srv)
    check(sidecar, srv, res,
          r"does not speak TLS 1.2|refused TLS 1.2|no cipher suite", True)


def test_no_common_cipher_suite(sidecar, pki):
    """A TLS 1.2 server allowing only CBC suites the client never offers."""
    leaf = pki.ec.leaf
    ctx = server_context(leaf.chain, leaf.key,
                         max_version=ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers("ECDHE-ECDSA-AES128-SHA256")
    srv = ExchangeServer(ctx)
    srv.start()
    sidecar.servers.append(srv)
    res = run(sidecar, srv)
    check(sidecar, srv, res, r"no cipher suite or curve in common", True)


def test_reset_storm_then_success(sidecar):
    """After every kind of transport failure above, the next run on the
    same server works: nothing is remembered between runs."""
    srv = sidecar.server()
    for name in ("reset-during-handshake", "random-bytes",
                 "alert-handshake-failure"):
        srv.push(RAW[name][0])
        res = run(sidecar, srv)
        expect_failure(sidecar, res)
    t0 = time.monotonic()
    res = run(sidecar, srv)
    assert res.rc == 0, str(res)
    assert time.monotonic() - t0 < FAST + 1


def _padded_self_signed(sidecar, name, pad):
    """A self-signed localhost certificate carrying a `pad`-byte
    non-critical private extension: any server can send one."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                            "localhost")])
    now = datetime.datetime.utcnow()
    cert = (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier("1.3.6.1.4.1.99999.1"),
                b"\x04" + b"\x83" + len(b"x" * pad).to_bytes(3, "big") +
                b"x" * pad), critical=False)
            .sign(key, hashes.SHA256()))
    cpath = sidecar.tmp / (name + ".pem")
    kpath = sidecar.tmp / (name + ".key")
    cpath.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    kpath.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return str(cpath), str(kpath)


@pytest.mark.parametrize("pad,want", [
    # The first version wrote past its 16 KiB buffer from here on; a
    # 600 KB certificate crashed `once` with SIGSEGV.
    (20000, r"does not lead to a CA in the CA bundle"),
    (40000, r"does not lead to a CA in the CA bundle"),
    (49152, r"more certificates or bytes than a chain may hold"),
    (600000, r"more certificates or bytes than a chain may hold"),
])
def test_oversized_certificate(sidecar, pad, want):
    cert, key = _padded_self_signed(sidecar, "pad%d" % pad, pad)
    srv = ExchangeServer(server_context(cert, key))
    srv.start()
    sidecar.servers.append(srv)
    res = run(sidecar, srv)
    check(sidecar, srv, res, want, True)
    assert srv.requests == []
