"""Certificate checking and CA bundle handling."""

import re
import ssl

import pytest

from conftest import expect_failure, expect_success
from exchange_server import ExchangeServer, server_context


def tls_error(res, *words):
    """An error record mentioning one of `words` (case-insensitive)."""
    pat = re.compile("|".join(words), re.I)
    return any(pat.search(r["_line"]) for r in res.errors)


def test_untrusted_root(sidecar, pki):
    srv = sidecar.server(leaf=pki.untrusted)
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.requests == [], "a request was sent over an untrusted session"
    assert tls_error(res, "trust", "unknown", "issuer", "anchor", "certificate"), str(res)


def test_bundle_holds_only_unrelated_root(sidecar, pki):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"CA_BUNDLE_PATH": pki.untrusted_root_cert})
    expect_failure(sidecar, res)
    assert srv.requests == []


def test_wrong_host_name(sidecar, pki):
    srv = sidecar.server(leaf=pki.wrong_host)
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.requests == []
    assert tls_error(res, "name", "host"), str(res)


def test_expired_certificate(sidecar, pki):
    srv = sidecar.server(leaf=pki.expired)
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.requests == []
    assert tls_error(res, "expired", "valid", "date", "time"), str(res)


def test_not_yet_valid_certificate(sidecar, pki):
    srv = sidecar.server(leaf=pki.not_yet_valid)
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.requests == []


def test_missing_intermediate(sidecar, pki):
    # The server sends its leaf alone; the bundle holds only the root.
    srv = sidecar.server(leaf=pki.leaf_only)
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.requests == []


def test_rsa_server_with_ec_root(sidecar):
    srv = sidecar.server("rsa")
    res = sidecar.run(srv, flavour="ec")
    expect_failure(sidecar, res)
    assert srv.requests == []


def test_tls13_only_server_refused(sidecar, pki):
    # BearSSL speaks TLS 1.2; a 1.3-only server must fail cleanly.
    leaf = pki.ec.leaf
    ctx = server_context(leaf.chain, leaf.key,
                         min_version=ssl.TLSVersion.TLSv1_3)
    srv = ExchangeServer(ctx)
    srv.start()
    sidecar.servers.append(srv)
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.requests == []


def _bundle(sidecar, name, *parts, crlf=False):
    text = ""
    for p in parts:
        if p.startswith("/"):
            with open(p) as f:
                text += f.read()
        else:
            text += p
    if crlf:
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    path = sidecar.tmp / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("crlf", [False, True])
def test_bundle_with_several_roots_and_text(sidecar, pki, crlf):
    bundle = _bundle(sidecar, "bundle.pem",
                     "# a comment line before everything\n",
                     pki.untrusted_root_cert,
                     "\nsome text between blocks\n",
                     pki.rsa.root_cert, pki.ec.root_cert, "\n# trailer\n",
                     crlf=crlf)
    for flavour in ("ec", "rsa"):
        srv = sidecar.server(flavour)
        res = sidecar.run(srv, env={"CA_BUNDLE_PATH": bundle})
        expect_success(sidecar, res, srv)
        sidecar.take_snapshot()


def test_system_bundle_plus_test_root(sidecar, pki):
    # A realistic bundle: Debian's whole store with our root appended.
    system = "/etc/ssl/certs/ca-certificates.crt"
    bundle = _bundle(sidecar, "system-plus.pem", system, pki.ec.root_cert)
    srv = sidecar.server()
    res = sidecar.run(srv, env={"CA_BUNDLE_PATH": bundle})
    expect_success(sidecar, res, srv)


def test_ssl_cert_file_used_when_ca_bundle_path_unset(sidecar, pki):
    srv = sidecar.server()
    res = sidecar.run(srv, unset=["CA_BUNDLE_PATH"],
                      env={"SSL_CERT_FILE": pki.ec.root_cert})
    expect_success(sidecar, res, srv)


def test_ca_bundle_path_wins_over_ssl_cert_file(sidecar, pki):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"CA_BUNDLE_PATH": pki.ec.root_cert,
                                "SSL_CERT_FILE": pki.untrusted_root_cert})
    expect_success(sidecar, res, srv)
    sidecar.take_snapshot()
    res = sidecar.run(srv, env={"CA_BUNDLE_PATH": pki.untrusted_root_cert,
                                "SSL_CERT_FILE": pki.ec.root_cert})
    expect_failure(sidecar, res)


def test_system_default_bundle_does_not_trust_test_root(sidecar):
    # Neither CA_BUNDLE_PATH nor SSL_CERT_FILE: the system default bundle,
    # which cannot know the test root.
    srv = sidecar.server()
    res = sidecar.run(srv, unset=["CA_BUNDLE_PATH"])
    expect_failure(sidecar, res)
    assert srv.requests == []


@pytest.mark.parametrize("kind", ["missing", "empty", "garbage", "key-only"])
def test_unusable_ca_bundle(sidecar, pki, kind):
    path = sidecar.tmp / "bad-bundle.pem"
    if kind == "empty":
        path.write_text("")
    elif kind == "garbage":
        path.write_text("this is not a certificate bundle\n" * 10)
    elif kind == "key-only":
        with open(pki.ec.leaf.key) as f:
            path.write_text(f.read())
    srv = sidecar.server()
    res = sidecar.run(srv, env={"CA_BUNDLE_PATH": str(path)})
    assert res.rc in (1, 2), str(res)
    assert res.errors, str(res)
    sidecar.assert_output_unchanged(res)
    assert srv.connections == 0, "connected without a usable CA bundle"
    assert any(str(path) in r["_line"] or "CA_BUNDLE_PATH" in r["_line"]
               for r in res.errors), "error does not name the bundle\n%s" % res


@pytest.mark.parametrize("flavour,cipher,curve", [
    ("ec", "ECDHE-ECDSA-AES128-GCM-SHA256", "prime256v1"),
    ("ec", "ECDHE-ECDSA-AES256-GCM-SHA384", "secp384r1"),
    ("ec", "ECDHE-ECDSA-CHACHA20-POLY1305", "X25519"),
    ("rsa", "ECDHE-RSA-AES128-GCM-SHA256", "X25519"),
    ("rsa", "ECDHE-RSA-AES256-GCM-SHA384", "prime256v1"),
    ("rsa", "ECDHE-RSA-CHACHA20-POLY1305", "secp384r1"),
])
def test_tls_profile(sidecar, pki, flavour, cipher, curve):
    # The documented profile: ECDHE over X25519/P-256/P-384, ECDSA or RSA,
    # AES-GCM or ChaCha20-Poly1305. The server allows only one of each.
    leaf = pki.chain(flavour).leaf
    ctx = server_context(leaf.chain, leaf.key,
                         max_version=ssl.TLSVersion.TLSv1_2)
    ctx.set_ciphers(cipher)
    if curve != "X25519":
        # Python's ssl cannot name X25519 here; OpenSSL's default group
        # order puts it first, so leaving the default selects it.
        ctx.set_ecdh_curve(curve)
    srv = ExchangeServer(ctx)
    srv.start()
    sidecar.servers.append(srv)
    res = sidecar.run(srv, flavour=flavour)
    expect_success(sidecar, res, srv)
    assert srv.requests[0].cipher == cipher


def test_server_asking_for_client_certificate(sidecar, pki):
    # A server that requests (but does not require) a client certificate:
    # the client answers with none and goes on.
    leaf = pki.ec.leaf
    ctx = server_context(leaf.chain, leaf.key)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    ctx.load_verify_locations(pki.ec.root_cert)
    srv = ExchangeServer(ctx)
    srv.start()
    sidecar.servers.append(srv)
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
