"""TLS client certificates (TLS_CLIENT_CERT_PATH, TLS_CLIENT_KEY_PATH)
against nginx with `ssl_verify_client on`: nginx logs the subject, the
verification result and the serial of the certificate it was shown, and
each case checks that log against the sidecar's. The right certificate
(EC and RSA) gets a token; none, one from another CA and an expired one
are refused with one clear line, and so by OpenSSL's own server, which
aborts the handshake with an alert instead of answering; a pair rotated
while `run` is up is offered from the next exchange on, and a mismatched
new pair is logged and the previous one kept; a key file that is not a
key stops the start.

The client keys (their base64 body: the header line is no secret) are
registered with the harness, so that its leak check covers them."""

import json
import os
import signal
import subprocess
import time

import pytest

import certs
from conftest import expect_failure, expect_success, free_port
from exchange_server import random_token
from loop_support import AtomicDir, LoopRun
from nginx_support import PREAMBLE, TLS_SERVER, TOKEN_LOCATION, Nginx

CONF = PREAMBLE + """\
http {{
    log_format mtls escape=json '{{"dn":"$ssl_client_s_dn",'
        '"verify":"$ssl_client_verify","serial":"$ssl_client_serial",'
        '"ssl":"$ssl_protocol","status":"$status"}}';
    access_log {prefix}/access.log mtls;
""" + TLS_SERVER + """\
        # No resumption: every connection shows its certificate.
        ssl_session_cache off;
        ssl_session_tickets off;
        ssl_verify_client on;
        # leaf -> intermediate -> root
        ssl_verify_depth 2;
        ssl_client_certificate {client_ca};
""" + TOKEN_LOCATION + """\
    }}
}}
"""

EXPIRED = ("20200101000000Z", "20200201000000Z")


def serial(cert):
    """The leaf's serial as nginx logs it: upper-case hex."""
    out = subprocess.run(["openssl", "x509", "-in", cert, "-noout",
                          "-serial"], capture_output=True, text=True,
                         check=True).stdout
    return out.strip().split("=", 1)[1].upper()


def key_body(path):
    """A PEM key's base64 lines, joined: what must never be logged."""
    with open(path) as f:
        return "".join(line.strip() for line in f
                       if line.strip() and not line.startswith("-----"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory):
    """A chain nginx does not trust."""
    return certs.make_chain(str(tmp_path_factory.mktemp("other-ca")), "ec",
                            tag="other")


@pytest.fixture
def nginx(tmp_path, pki):
    """nginx requiring a client certificate under the EC or RSA test
    root, answering a fixed token; returns (Nginx, token)."""
    started = []

    def start(sidecar):
        token = random_token("mtls")
        sidecar.add_secret(token)
        prefix = tmp_path / "nginx"
        prefix.mkdir()
        body = json.dumps({"access_token": token, "token_type": "Bearer",
                           "expires_in": 1800}, separators=(",", ":"))
        client_ca = certs._cat(str(prefix / "client-ca.pem"),
                               pki.ec.root_cert, pki.rsa.root_cert)
        n = Nginx(str(prefix), CONF, chain=pki.ec.server_chain,
                  key=pki.ec.server_key, client_ca=client_ca, body=body)
        started.append(n)
        return n.start(), token
    yield start
    for n in started:
        n.stop()


def pair_env(sidecar, cert, key):
    """The variables that offer (cert, key), the key registered secret."""
    sidecar.add_secret(key_body(key))
    return {"TLS_CLIENT_CERT_PATH": cert, "TLS_CLIENT_KEY_PATH": key}


def url_env(ng, extra=None):
    env = {"EXCHANGE_URL": "https://localhost:%d/oauth/token" % ng.port}
    env.update(extra or {})
    return env


def one_error(res):
    """The run's one error line, as text."""
    assert len(res.errors) == 1, res.describe()
    return res.errors[0]["_line"]


@pytest.mark.parametrize("flavour", ["ec", "rsa"])
def test_right_certificate(sidecar, pki, nginx, flavour):
    cert, key = certs.client_leaf(pki.chain(flavour), "workload-" + flavour,
                                  flavour=flavour)
    ng, token = nginx(sidecar)
    env = dict(pair_env(sidecar, cert, key), CLIENT_AUTH="tls_client_auth",
               CLIENT_ID="workload-" + flavour)
    res = sidecar.run(env=url_env(ng, env))
    expect_success(sidecar, res, token=token)
    assert ng.access_log() == [{"dn": "CN=workload-" + flavour,
                                "verify": "SUCCESS", "serial": serial(cert),
                                "ssl": "TLSv1.2", "status": "200"}]


def test_no_certificate(sidecar, nginx):
    """nginx finishes a TLS 1.2 handshake without a client certificate
    and answers 400: the sidecar quotes nginx's words."""
    ng, _ = nginx(sidecar)
    res = sidecar.run(env=url_env(ng))
    expect_failure(sidecar, res)
    line = one_error(res)
    assert "HTTP 400" in line and "No required SSL certificate was sent" \
        in line and "kind=status" in line, line
    assert ng.access_log() == [{"dn": "", "verify": "NONE", "serial": "",
                                "ssl": "TLSv1.2", "status": "400"}]


@pytest.mark.parametrize("case", ["other-ca", "expired"])
def test_certificate_refused(sidecar, pki, nginx, other_ca, case):
    if case == "other-ca":
        cert, key = certs.client_leaf(other_ca, "stranger")
        why = "FAILED:unable to get local issuer certificate"
    else:
        cert, key = certs.client_leaf(pki.ec, "expired-client",
                                      dates=EXPIRED)
        why = "FAILED:certificate has expired"
    ng, _ = nginx(sidecar)
    res = sidecar.run(env=url_env(ng, pair_env(sidecar, cert, key)))
    expect_failure(sidecar, res)
    line = one_error(res)
    assert "HTTP 400" in line and "The SSL certificate error" in line, line
    assert [(r["dn"], r["verify"], r["serial"], r["status"])
            for r in ng.access_log()] == [
                ("CN=" + os.path.basename(key)[:-4], why, serial(cert),
                 "400")]


def write_pair(d, cert, key):
    """Put a pair in place as the kubelet updates a Secret volume."""
    with open(cert) as c, open(key) as k:
        d.update({"tls.crt": c.read(), "tls.key": k.read()})


def test_rotated_while_running(sidecar, pki, nginx):
    first = certs.client_leaf(pki.ec, "first")
    second = certs.client_leaf(pki.rsa, "second", flavour="rsa")
    stray_cert, stray_own_key = certs.client_leaf(pki.ec, "stray")
    _, stray_key = certs.client_leaf(pki.ec, "stray-other")
    for key in (first[1], second[1], stray_own_key, stray_key):
        sidecar.add_secret(key_body(key))
    d = AtomicDir(sidecar.tmp / "tls", ["tls.crt", "tls.key"])
    write_pair(d, *first)
    ng, _ = nginx(sidecar)
    run = LoopRun(sidecar, env=url_env(ng, {
        "TLS_CLIENT_CERT_PATH": d.file("tls.crt"),
        "TLS_CLIENT_KEY_PATH": d.file("tls.key")}))
    try:
        run.wait_msg("token written", timeout=10)
        assert ng.access_log()[-1]["serial"] == serial(first[0])

        write_pair(d, *second)
        m = run.mark()
        run.signal(signal.SIGHUP)
        run.wait_msg("TLS client certificate reloaded", start=m)
        run.wait_msg("token written", start=m)
        assert ng.access_log()[-1] == {
            "dn": "CN=second", "verify": "SUCCESS",
            "serial": serial(second[0]), "ssl": "TLSv1.2", "status": "200"}

        write_pair(d, stray_cert, stray_key)
        m = run.mark()
        run.signal(signal.SIGHUP)
        bad = run.wait_msg("the new TLS client certificate and key are not "
                           "usable: offering the previous pair", start=m)
        assert bad["level"] == "error"
        assert "TLS_CLIENT_CERT_PATH" in bad["error"] and \
            "does not belong to the certificate" in bad["error"], bad
        run.wait_msg("token written", start=m)
        log = ng.access_log()
        assert len(log) == 3 and log[-1]["serial"] == serial(second[0]), log

        # The key that belongs lands later: the pair is whole again.
        write_pair(d, stray_cert, stray_own_key)
        m = run.mark()
        run.signal(signal.SIGHUP)
        run.wait_msg("TLS client certificate reloaded", start=m)
        run.wait_msg("token written", start=m)
        assert ng.access_log()[-1]["serial"] == serial(stray_cert)
        assert run.stop() is not None
        assert run.finish() == 0, run.describe()
        assert not [r for r in run.records if r["level"] == "error"
                    and r is not bad], run.describe()
    finally:
        run.close()


@pytest.mark.parametrize("content", ["text", "certificate"])
def test_key_file_not_a_key(sidecar, pki, nginx, content):
    cert, key = certs.client_leaf(pki.ec, "workload")
    bad = sidecar.tmp / "not-a-key.pem"
    if content == "text":
        bad.write_text("this is not a key\n")
    else:
        with open(cert) as f:
            bad.write_text(f.read())
    ng, _ = nginx(sidecar)
    res = sidecar.run(env=url_env(ng, {"TLS_CLIENT_CERT_PATH": cert,
                                       "TLS_CLIENT_KEY_PATH": str(bad)}))
    expect_failure(sidecar, res, rc=2)
    line = one_error(res)
    assert "TLS_CLIENT_KEY_PATH" in line and str(bad) in line and \
        "not a PEM private key" in line, line
    assert ng.access_log() == []


class SServer:
    """`openssl s_server` requiring a client certificate (-Verify) and
    aborting the handshake when it has none or cannot verify it, as
    servers built on OpenSSL do (HAProxy `verify required`, Apache
    `SSLVerifyClient require`): TLS 1.2, with an alert."""

    def __init__(self, tmp, pki):
        self.port = free_port()
        self.out = tmp / "s_server.out"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                ["openssl", "s_server", "-accept", "127.0.0.1:%d" % self.port,
                 "-tls1_2", "-Verify", "2", "-verify_return_error",
                 "-CAfile", pki.ec.root_cert, "-cert", pki.ec.leaf.cert,
                 "-cert_chain", pki.ec.inter_cert, "-key", pki.ec.leaf.key,
                 "-www"], stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT)
        end = time.monotonic() + 10
        while "ACCEPT" not in self.output():
            assert self.proc.poll() is None and time.monotonic() < end, \
                "s_server did not start: %s" % self.output()
            time.sleep(0.05)

    def output(self):
        return self.out.read_text(errors="replace")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture
def s_server(tmp_path, pki):
    srv = SServer(tmp_path, pki)
    yield srv
    srv.stop()


@pytest.mark.parametrize("case,alert,says,server_says", [
    ("none", 40, "the server asked for a client certificate and refused "
     "to go on without one (TLS_CLIENT_CERT_PATH", "peer did not return a "
     "certificate"),
    ("other-ca", 48, "the server does not trust the client certificate's "
     "issuer", "unable to get local issuer certificate"),
    ("expired", 45, "the server refused the client certificate as expired",
     "certificate has expired"),
])
def test_handshake_aborted(sidecar, pki, other_ca, s_server, case, alert,
                           says, server_says):
    env = {"EXCHANGE_URL": "https://localhost:%d/oauth/token" %
           s_server.port}
    if case == "other-ca":
        env.update(pair_env(sidecar, *certs.client_leaf(other_ca, "s-other")))
    elif case == "expired":
        env.update(pair_env(sidecar, *certs.client_leaf(
            pki.ec, "s-expired", dates=EXPIRED)))
    res = sidecar.run(env=env)
    expect_failure(sidecar, res)
    line = one_error(res)
    assert says in line and "(TLS alert %d)" % alert in line and \
        "kind=tls" in line, line
    assert server_says in s_server.output(), s_server.output()
