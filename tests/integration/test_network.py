"""Connecting: refused ports, name resolution through a private DNS stub
(never the machine's resolver), plain HTTP, termination signals."""

import signal

import pytest

import certs
from conftest import expect_failure, expect_success, free_port
from exchange_server import ExchangeServer, Reply, server_context


def test_connection_refused(sidecar):
    port = free_port()
    res = sidecar.run(env={"EXCHANGE_URL": "https://localhost:%d/token" % port})
    expect_failure(sidecar, res)
    assert res.elapsed < 2.0, "took %.2fs for a refused port" % res.elapsed
    assert any(str(port) in r["_line"] or "localhost" in r["_line"]
               for r in res.errors), str(res)


def test_unknown_host(sidecar, dns):
    stub = dns("nxdomain")
    host = "no-such-host.tokenbridge.test"
    res = sidecar.run(env={"EXCHANGE_URL": "https://%s/token" % host},
                      resolv_conf=stub.resolv_conf())
    expect_failure(sidecar, res)
    assert host in stub.names(), \
        "the DNS stub was not asked for %s (queries: %r)" % (host, stub.queries)
    assert any(host in r["_line"] for r in res.errors), \
        "error does not name the host\n%s" % res
    assert res.elapsed < 2.0, "took %.2fs for NXDOMAIN" % res.elapsed


def test_stalled_dns_server(sidecar, dns):
    stub = dns("stall")
    host = "stalled.tokenbridge.test"
    res = sidecar.run(env={"EXCHANGE_URL": "https://%s/token" % host,
                           "EXCHANGE_TIMEOUT": "2s"},
                      resolv_conf=stub.resolv_conf(), timeout=20)
    expect_failure(sidecar, res)
    assert host in stub.names(), "stub not queried: %r" % stub.queries
    # The resolver alone would wait 2 x 5 s; the exchange deadline wins.
    # (The harness also fails if the resolver helper outlives the run.)
    assert 1.8 <= res.elapsed <= 3.0, \
        "EXCHANGE_TIMEOUT=2s but the run took %.2fs\n%s" % (res.elapsed, res)


def test_every_address_is_tried(sidecar, dns, pki):
    # The name resolves to a dead address and to the live one; whatever
    # order the resolver returns, the exchange must succeed.
    host = "multi.tokenbridge.test"
    leaf = certs._extra_leaf(pki.ec, "multi-" + sidecar.tmp.name[-12:],
                             host=host)
    stub = dns("answer", {host: ["127.0.0.2", "127.0.0.1"]})
    srv = ExchangeServer(server_context(leaf.chain, leaf.key))
    srv.start()
    sidecar.servers.append(srv)
    res = sidecar.run(env={"EXCHANGE_URL": "https://%s:%d/token" %
                           (host, srv.port)},
                      resolv_conf=stub.resolv_conf())
    expect_success(sidecar, res, srv)
    assert srv.requests[0].header("Host") == "%s:%d" % (host, srv.port)
    assert srv.requests[0].sni == host


def test_plain_http_allowed_with_warning(sidecar):
    srv = sidecar.server(plain=True)
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    assert res.warnings, "no warning about plain http\n%s" % res
    assert any("ALLOW_INSECURE_HTTP" in r["_line"] or "http" in r["_line"]
               for r in res.warnings), str(res)
    assert srv.requests[0].form["subject_token"] == sidecar.sa_token


def test_plain_http_ip_literal(sidecar):
    srv = sidecar.server(plain=True)
    res = sidecar.run(srv, env={"EXCHANGE_URL": srv.url(host="127.0.0.1")})
    expect_success(sidecar, res, srv)
    assert srv.requests[0].header("Host") == "127.0.0.1:%d" % srv.port


@pytest.mark.parametrize("value", ["1", "t", "TRUE", "True"])
def test_allow_insecure_http_go_booleans(sidecar, value):
    srv = sidecar.server(plain=True)
    res = sidecar.run(srv, env={"ALLOW_INSECURE_HTTP": value})
    expect_success(sidecar, res, srv)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_termination_signal_ends_a_stalled_exchange(sidecar, sig):
    srv = sidecar.server()
    srv.push(Reply(action="stall"))
    res = sidecar.run(srv, env={"EXCHANGE_TIMEOUT": "20s"},
                      signal_after=(sig, 0.7), timeout=15)
    assert res.rc != 0, str(res)
    assert res.elapsed < 2.0, "ignored %s for %.2fs\n%s" % (
        sig.name, res.elapsed - 0.7, res)
    sidecar.assert_output_unchanged(res)


def test_termination_signal_during_stalled_dns(sidecar, dns):
    stub = dns("stall")
    res = sidecar.run(env={"EXCHANGE_URL": "https://slow.tokenbridge.test/t",
                           "EXCHANGE_TIMEOUT": "20s"},
                      resolv_conf=stub.resolv_conf(),
                      signal_after=(signal.SIGTERM, 0.7), timeout=15)
    assert res.rc != 0, str(res)
    assert res.elapsed < 2.0, "ignored SIGTERM for %.2fs\n%s" % (
        res.elapsed - 0.7, res)
    sidecar.assert_output_unchanged(res)


def test_plain_http_ipv6_literal(sidecar):
    srv = sidecar.server(plain=True, host="::1")
    res = sidecar.run(srv, env={"EXCHANGE_URL": srv.url(host="::1")})
    expect_success(sidecar, res, srv)
    assert srv.requests[0].header("Host") == "[::1]:%d" % srv.port


def test_ipv6_only_name(sidecar, dns, pki):
    # The name has only an AAAA record; the server listens on ::1 alone.
    host = "v6only.tokenbridge.test"
    leaf = certs._extra_leaf(pki.ec, "v6-" + sidecar.tmp.name[-12:], host=host)
    stub = dns("answer", {host: ["::1"]})
    srv = ExchangeServer(server_context(leaf.chain, leaf.key), host="::1")
    srv.start()
    sidecar.servers.append(srv)
    res = sidecar.run(env={"EXCHANGE_URL": "https://%s:%d/token" %
                           (host, srv.port)},
                      resolv_conf=stub.resolv_conf())
    expect_success(sidecar, res, srv)
    assert (host, 28) in [(q[1], q[2]) for q in stub.queries]
