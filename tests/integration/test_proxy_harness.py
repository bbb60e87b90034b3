"""The proxy lab (proxy_support.py) proven with curl: every proxy variant
carries a real exchange to the exchange server, refuses what it should,
and a client cannot reach the exchange server without a proxy."""

import shutil
import subprocess

import pytest

import proxy_support as ps

CURL = shutil.which("curl") or "/usr/bin/curl"


@pytest.fixture(scope="module")
def lab(pki):
    with ps.running_lab(pki) as lab:
        yield lab


@pytest.fixture
def srv(lab):
    s = lab.exchange_server()
    yield s
    s.stop()


def curl(lab, srv, *args, max_time=5):
    argv = [CURL, "-sS", "--max-time", str(max_time), "--cacert",
            lab.root_cert, "-d", "grant_type=x"] + list(args) + [
                lab.exchange_url(srv)]
    return subprocess.run(lab.client_argv(argv), capture_output=True,
                          text=True, timeout=max_time + 10)


def tunnel_line(srv):
    return "CONNECT %s:%d" % (srv.lab_host, srv.port)


def assert_exchanged(res, srv):
    assert res.returncode == 0, "curl failed: %s" % res.stderr
    assert srv.issued_tokens and srv.issued_tokens[-1] in res.stdout, \
        res.stdout


def test_client_view_resolves_only_the_proxy(lab, srv):
    res = curl(lab, srv)
    assert res.returncode == 6, "a direct attempt did not fail to " \
        "resolve: %d %s" % (res.returncode, res.stderr)
    assert not srv.requests
    out = subprocess.run(lab.client_argv(["getent", "hosts", ps.PROXY_HOST]),
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "127.0.0.1" in out.stdout, out


def test_direct_host_is_reachable_without_proxy(lab):
    srv = lab.exchange_server(direct=True)
    try:
        assert_exchanged(curl(lab, srv), srv)
        # ...and not through the proxy, which cannot resolve it (squid
        # answers 500).
        res = curl(lab, srv, "--proxy", lab.proxy_url(ps.PLAIN))
        assert res.returncode == 56 and "response 5" in res.stderr, \
            res.stderr
        assert len(srv.requests) == 1
    finally:
        srv.stop()


def test_squid_plain(lab, srv):
    assert_exchanged(curl(lab, srv, "--proxy", lab.proxy_url(ps.PLAIN)), srv)
    log = lab.wait_log(lab.squid_access_log, tunnel_line(srv))
    assert "TCP_TUNNEL/200" in log and tunnel_line(srv) in log, log


def test_tinyproxy_plain(lab, srv):
    assert_exchanged(curl(lab, srv, "--proxy", lab.proxy_url(ps.TINY)), srv)
    log = lab.wait_log(lab.tinyproxy_log, tunnel_line(srv))
    assert tunnel_line(srv) in log, log


@pytest.mark.parametrize("port", [ps.AUTH, ps.TINY_AUTH],
                         ids=["squid", "tinyproxy"])
@pytest.mark.parametrize("cred", ["right", "wrong", "missing"])
def test_basic_auth(lab, srv, port, cred):
    auth = {"right": (lab.user, lab.password),
            "wrong": (lab.user, "not-" + lab.password),
            "missing": None}[cred]
    res = curl(lab, srv, "--proxy", lab.proxy_url(port, auth))
    if cred == "right":
        assert_exchanged(res, srv)
        return
    # tinyproxy answers wrong credentials with 401, missing ones with 407.
    want = "401" if (port, cred) == (ps.TINY_AUTH, "wrong") else "407"
    assert res.returncode == 56 and want in res.stderr, res.stderr
    assert not srv.requests


def test_squid_auth_reserved_characters(lab, srv):
    # The user name and password that test_proxy.py percent-encodes.
    res = curl(lab, srv, "--proxy", lab.proxy_url(ps.AUTH), "--proxy-user",
               "%s:%s" % (lab.odd_user, lab.odd_password))
    assert_exchanged(res, srv)


def test_https_proxy(lab, srv):
    res = curl(lab, srv, "--proxy",
               lab.proxy_url(ps.TLS, scheme="https", host=ps.PROXY_HOST),
               "--proxy-cacert", lab.root_cert)
    assert_exchanged(res, srv)
    log = lab.wait_log(lab.squid_access_log, tunnel_line(srv))
    assert tunnel_line(srv) in log, log


def test_refused_connect(lab, srv):
    res = curl(lab, srv, "--proxy", lab.proxy_url(ps.REFUSE))
    assert res.returncode == 56 and "403" in res.stderr, res.stderr
    assert not srv.requests
    log = lab.wait_log(lab.squid_access_log, "TCP_DENIED/403")
    assert "TCP_DENIED/403" in log and tunnel_line(srv) in log, log


def test_stalling_proxy(lab, srv):
    before = lab.stall.accepted
    res = curl(lab, srv, "--proxy", lab.proxy_url(ps.STALL), max_time=1)
    assert res.returncode == 28, res.stderr
    assert lab.stall.accepted > before
    assert not srv.requests
