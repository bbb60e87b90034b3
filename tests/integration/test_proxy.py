"""The sidecar through forward proxies (issue 12), in the proxy lab of
proxy_support.py: the exchange server's name resolves only for the
proxies, so a run that ignores the proxy variables fails instead of
succeeding by accident.

Go's default transport is the reference: HTTPS_PROXY/https_proxy (upper
case first), bare host:port read as http://, user:password@ sent as
Proxy-Authorization: Basic, NO_PROXY/no_proxy matching, a CONNECT to
host:port with the name unresolved by the client.
"""

import base64
import signal
import urllib.parse

import pytest

import proxy_support as ps
from conftest import expect_failure, expect_success


@pytest.fixture(scope="module")
def lab(pki):
    with ps.running_lab(pki) as lab:
        yield lab


@pytest.fixture
def srv(lab, sidecar):
    s = lab.exchange_server()
    sidecar.servers.append(s)
    return s


def run(sidecar, lab, srv, proxy_env, **kw):
    """The sidecar in the lab's client view, EXCHANGE_URL at `srv`."""
    env = {"EXCHANGE_URL": lab.exchange_url(srv)}
    env.update(proxy_env)
    extra = kw.pop("env", {})
    env.update(extra)
    return sidecar.run(srv, env=env, wrapper=lab.client_argv([]), **kw)


def tunnel_line(srv):
    return "CONNECT %s:%d" % (srv.lab_host, srv.port)


def credentials(sidecar, lab, password=None):
    """user:password@ for a proxy URL; every form of it is a secret."""
    password = password or lab.password
    for s in (password, urllib.parse.quote(password, safe=""),
              base64.b64encode(("%s:%s" % (lab.user, password)).encode())
              .decode()):
        sidecar.add_secret(s)
    return (lab.user, urllib.parse.quote(password, safe=""))


def log_text(res):
    return "\n".join(r["_line"] for r in res.records)


def assert_not_in_log(res, *texts):
    for t in texts:
        assert t not in res.stdout + res.stderr, \
            "%r in the output\n%s" % (t, res)


# ---- success through real proxies ----

@pytest.mark.parametrize("var", ["HTTPS_PROXY", "https_proxy"])
def test_squid(sidecar, lab, srv, var):
    res = run(sidecar, lab, srv, {var: lab.proxy_url(ps.PLAIN)})
    expect_success(sidecar, res, srv)
    log = lab.wait_log(lab.squid_access_log, tunnel_line(srv))
    assert "TCP_TUNNEL/200 " in log and tunnel_line(srv) in log, log
    # TLS to the target through the tunnel: SNI and Host are the target's.
    assert srv.requests[0].sni == ps.EXCHANGE_HOST
    assert srv.requests[0].header("Host") == "%s:%d" % (ps.EXCHANGE_HOST,
                                                        srv.port)
    # The start-up log names the proxy in use, without credentials.
    assert "127.0.0.1:%d" % ps.PLAIN in log_text(res), str(res)


def test_tinyproxy(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.TINY)})
    expect_success(sidecar, res, srv)
    log = lab.wait_log(lab.tinyproxy_log, tunnel_line(srv))
    assert tunnel_line(srv) in log, log


def test_bare_host_port_is_http(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": "127.0.0.1:%d" % ps.PLAIN})
    expect_success(sidecar, res, srv)


def test_upper_case_wins(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {
        "HTTPS_PROXY": lab.proxy_url(ps.TINY),
        "https_proxy": lab.proxy_url(ps.STALL)})
    expect_success(sidecar, res, srv)
    assert tunnel_line(srv) in lab.wait_log(lab.tinyproxy_log,
                                            tunnel_line(srv))


def test_http_target_through_http_proxy(sidecar, lab):
    # An http:// EXCHANGE_URL goes through HTTP_PROXY as Go sends it: the
    # request itself to the proxy, in absolute form, and no CONNECT.
    srv = lab.exchange_server(plain=True)
    sidecar.servers.append(srv)
    res = run(sidecar, lab, srv, {"HTTP_PROXY": lab.proxy_url(ps.PLAIN),
                                  "HTTPS_PROXY": lab.proxy_url(ps.STALL)},
              env={"ALLOW_INSECURE_HTTP": "true"})
    expect_success(sidecar, res, srv)
    line = "POST http://%s:%d/token" % (srv.lab_host, srv.port)
    log = lab.wait_log(lab.squid_access_log, line)
    assert line in log and "CONNECT" not in log.split(line)[-1], log
    assert "HTTP_PROXY" in log_text(res), str(res)


def test_https_proxy(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(
        ps.TLS, scheme="https", host=ps.PROXY_HOST)})
    expect_success(sidecar, res, srv)
    log = lab.wait_log(lab.squid_access_log, tunnel_line(srv))
    assert tunnel_line(srv) in log, log


def test_https_proxy_with_untrusted_certificate(sidecar, lab, srv, pki):
    # The proxy's certificate is checked against the same bundle.
    res = run(sidecar, lab, srv, {
        "HTTPS_PROXY": lab.proxy_url(ps.TLS, scheme="https",
                                     host=ps.PROXY_HOST),
        "CA_BUNDLE_PATH": pki.untrusted_root_cert})
    expect_failure(sidecar, res)
    assert not srv.requests


# ---- Basic auth ----

@pytest.mark.parametrize("port", [ps.AUTH, ps.TINY_AUTH],
                         ids=["squid", "tinyproxy"])
def test_auth_right(sidecar, lab, srv, port):
    cred = credentials(sidecar, lab)
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(port, cred)},
              env={"LOG_LEVEL": "debug"})
    expect_success(sidecar, res, srv)
    assert_not_in_log(res, lab.password)


@pytest.mark.parametrize("port", [ps.AUTH, ps.TINY_AUTH],
                         ids=["squid", "tinyproxy"])
def test_auth_wrong(sidecar, lab, srv, port):
    cred = credentials(sidecar, lab, password="wrong-" + lab.password)
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(port, cred)},
              env={"LOG_LEVEL": "debug"})
    expect_failure(sidecar, res)
    line = log_text(res)
    assert "127.0.0.1:%d" % port in line and "wrong" in line, str(res)
    assert not srv.requests


@pytest.mark.parametrize("port", [ps.AUTH, ps.TINY_AUTH],
                         ids=["squid", "tinyproxy"])
def test_auth_missing(sidecar, lab, srv, port):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(port)})
    expect_failure(sidecar, res)
    line = log_text(res)
    assert "407" in line and "missing" in line, str(res)


def test_percent_encoded_credentials(sidecar, lab, srv):
    # '@', '+', ':', '/', ' ', '%', '?' and '#' percent-encoded, decoded
    # before Basic: squid's htpasswd check proves the decoding.
    for s in (lab.odd_password, urllib.parse.quote(lab.odd_password, safe="")):
        sidecar.add_secret(s)
    cred = (urllib.parse.quote(lab.odd_user, safe=""),
            urllib.parse.quote(lab.odd_password, safe=""))
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.AUTH, cred)})
    expect_success(sidecar, res, srv)


# ---- NO_PROXY ----

@pytest.mark.parametrize("no_proxy", [
    "direct.proxied.test", ".proxied.test", "proxied.test", "*",
    "other.test, DIRECT.Proxied.Test", " direct.proxied.test:{port} ",
    "*.proxied.test"])
def test_no_proxy_bypass(sidecar, lab, no_proxy):
    srv = lab.exchange_server(direct=True)
    sidecar.servers.append(srv)
    before = lab.squid_access_log()
    res = run(sidecar, lab, srv, {
        "HTTPS_PROXY": lab.proxy_url(ps.PLAIN),
        "NO_PROXY": no_proxy.format(port=srv.port)})
    expect_success(sidecar, res, srv)
    assert lab.squid_access_log() == before, "went through squid"
    assert "NO_PROXY" in log_text(res), str(res)


@pytest.mark.parametrize("no_proxy", [
    "other.test", ".direct.proxied.test", "direct.proxied.test:1",
    "127.0.0.0/8", "xdirect.proxied.test"])
def test_no_proxy_does_not_match(sidecar, lab, no_proxy):
    # Through squid, which cannot resolve the direct-only name: a failure
    # that names the proxy proves the proxy was used.
    srv = lab.exchange_server(direct=True)
    sidecar.servers.append(srv)
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.PLAIN),
                                  "no_proxy": no_proxy})
    expect_failure(sidecar, res)
    assert "127.0.0.1:%d" % ps.PLAIN in log_text(res), str(res)
    assert not srv.requests


def test_without_proxy_the_name_does_not_resolve(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {})
    expect_failure(sidecar, res)
    assert ps.EXCHANGE_HOST in log_text(res), str(res)
    # The start-up log says why no proxy is used.
    assert "HTTPS_PROXY" in log_text(res), str(res)


# ---- refusals, stalls, signals ----

def test_refused_connect(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.REFUSE)})
    expect_failure(sidecar, res)
    line = log_text(res)
    assert "403" in line and "127.0.0.1:%d" % ps.REFUSE in line, str(res)
    assert not srv.requests


def test_stalling_proxy_ends_at_exchange_timeout(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.STALL)},
              env={"EXCHANGE_TIMEOUT": "2s"}, timeout=20)
    expect_failure(sidecar, res)
    assert 1.8 <= res.elapsed <= 3.0, \
        "EXCHANGE_TIMEOUT=2s but the run took %.2fs\n%s" % (res.elapsed, res)
    assert b"CONNECT %s:%d HTTP/1.1\r\n" % (
        ps.EXCHANGE_HOST.encode(), srv.port) in lab.stall.received


def test_sigterm_while_waiting_for_the_proxy(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.STALL)},
              env={"EXCHANGE_TIMEOUT": "20s"},
              signal_after=(signal.SIGTERM, 0.7), timeout=15)
    assert res.rc != 0, str(res)
    assert res.elapsed < 2.0, "ignored SIGTERM for %.2fs\n%s" % (
        res.elapsed - 0.7, res)
    sidecar.assert_output_unchanged(res)


def test_sigterm_in_run_mode_while_waiting_for_the_proxy(sidecar, lab, srv):
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": lab.proxy_url(ps.STALL)},
              args=("run",), env={"EXCHANGE_TIMEOUT": "20s"},
              signal_after=(signal.SIGTERM, 0.7), timeout=15)
    assert res.rc == 0, str(res)
    assert res.elapsed < 2.0, str(res)


# ---- bad values and secrets ----

@pytest.mark.parametrize("value", [
    "http://proxy.proxied.test:99999", "socks5://127.0.0.1:1080",
    "http://u:p%zz@127.0.0.1:3129", "http://[::1:3128"])
def test_bad_proxy_value_refused_at_start(sidecar, lab, srv, value):
    sidecar.add_secret("p%zz")
    res = run(sidecar, lab, srv, {"HTTPS_PROXY": value})
    expect_failure(sidecar, res, rc=2)
    assert len(res.errors) == 1 and "HTTPS_PROXY" in res.errors[0]["_line"], \
        str(res)


def test_credentials_never_logged(sidecar, lab, srv):
    # Right, then wrong, at debug level: neither password, nor its
    # percent-encoded or base64 forms, nor any 8-byte piece of them
    # (the harness checks every run).
    for pw in (lab.password, "wrong-" + lab.password):
        cred = credentials(sidecar, lab, password=pw)
        res = run(sidecar, lab, srv,
                  {"HTTPS_PROXY": lab.proxy_url(ps.AUTH, cred)},
                  env={"LOG_LEVEL": "debug", "LOG_FORMAT": "json"})
        assert_not_in_log(res, pw, "Proxy-Authorization: Basic")
