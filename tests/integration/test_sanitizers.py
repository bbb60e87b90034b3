"""The same program built for the host: ASan+UBSan (with LeakSanitizer)
over many success and failure paths, and valgrind memcheck over a success
and failures."""

import os
import signal

import pytest

from conftest import (ASAN_BIN, PLAIN_BIN, VALGRIND, free_port, parse_log,
                      require_binary)
from exchange_server import Reply

ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0:"
                    "exitcode=86:strict_string_checks=1:"
                    "detect_stack_use_after_return=1:check_initialization_order=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87",
}
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer",
                   "UndefinedBehaviorSanitizer", "runtime error:")


def _setup(sidecar, pki, dns, name):
    """(server or None, env, extra run kwargs, expected exit code)."""
    srv = None
    kw = {}
    env = {}
    if name in ("success-ec", "success-rsa"):
        fl = name[-2:] if name.endswith("ec") else "rsa"
        srv = sidecar.server(fl)
        kw["flavour"] = fl
        env["AUDIENCE"] = "aud ience"
        return srv, env, kw, 0
    srv = sidecar.server()
    if name == "chunked-1-byte":
        srv.push(srv.issue(framing="chunked", chunk_sizes=[1] * 4096,
                           trailers=[("X", "y")]))
        return srv, env, kw, 0
    if name == "read-to-close":
        srv.push(srv.issue(framing="close"))
        return srv, env, kw, 0
    if name == "large-token":
        srv.push(srv.issue(access_token="at" + "x" * 20000))
        return srv, env, kw, 0
    if name == "json-log":
        env.update(LOG_FORMAT="json", LOG_LEVEL="debug")
        return srv, env, kw, 0
    if name == "plain-http":
        srv = sidecar.server(plain=True)
        return srv, env, kw, 0
    if name == "http-400":
        srv.push(Reply(status=400, body={"error": "invalid_grant",
                                         "error_description": "d\u00e9j\u00e0\n"}))
        return srv, env, kw, 1
    if name == "redirect":
        srv.push(Reply(status=302, headers=[("Location", "https://x.test/" +
                                             "y" * 700)]))
        return srv, env, kw, 1
    if name == "no-access-token":
        srv.push(Reply(body={"token_type": "Bearer"}))
        return srv, env, kw, 1
    if name == "bad-json":
        srv.push(Reply(body='{"access_token":"\\ud800","x":[1,2,{"a":'))
        return srv, env, kw, 1
    if name == "huge-body":
        srv.push(Reply(framing="chunked", body={"access_token": "a",
                                                "p": "x" * 90000}))
        return srv, env, kw, 1
    if name == "huge-headers":
        srv.push(Reply(headers=[("X-%d" % i, "v" * 900) for i in range(30)]))
        return srv, env, kw, 1
    if name == "untrusted":
        sidecar.servers.remove(srv)
        srv.stop()
        srv = sidecar.server(leaf=pki.untrusted)
        return srv, env, kw, 1
    if name == "expired":
        sidecar.servers.remove(srv)
        srv.stop()
        srv = sidecar.server(leaf=pki.expired)
        return srv, env, kw, 1
    if name == "stall":
        srv.push(Reply(action="stall"))
        env["EXCHANGE_TIMEOUT"] = "1s"
        return srv, env, kw, 1
    if name == "sigterm":
        srv.push(Reply(action="stall"))
        env["EXCHANGE_TIMEOUT"] = "20s"
        kw["signal_after"] = (signal.SIGTERM, 1.0)
        return srv, env, kw, None
    if name == "refused":
        env["EXCHANGE_URL"] = "https://localhost:%d/t" % free_port()
        return srv, env, kw, 1
    if name == "nxdomain":
        stub = dns("nxdomain")
        env["EXCHANGE_URL"] = "https://nx.tokenbridge.test/t"
        kw["resolv_conf"] = stub.resolv_conf()
        return srv, env, kw, 1
    if name == "dns-stall":
        stub = dns("stall")
        env["EXCHANGE_URL"] = "https://stall.tokenbridge.test/t"
        env["EXCHANGE_TIMEOUT"] = "1s"
        kw["resolv_conf"] = stub.resolv_conf()
        return srv, env, kw, 1
    if name == "empty-sa-token":
        sidecar.write_sa(b"\n")
        return srv, env, kw, 1
    if name == "bad-config":
        env["REFRESH_INTERVAL"] = "-5m"
        return srv, env, kw, 2
    if name == "bad-bundle":
        p = sidecar.tmp / "junk.pem"
        p.write_text("-----BEGIN CERTIFICATE-----\nAAAA!!\n-----END CERTIFICATE-----\n")
        env["CA_BUNDLE_PATH"] = str(p)
        return srv, env, kw, "nonzero"
    raise KeyError(name)


SCENARIOS = ["success-ec", "success-rsa", "chunked-1-byte", "read-to-close",
             "large-token", "json-log", "plain-http", "http-400", "redirect",
             "no-access-token", "bad-json", "huge-body", "huge-headers",
             "untrusted", "expired", "stall", "sigterm", "refused",
             "nxdomain", "dns-stall", "empty-sa-token", "bad-config",
             "bad-bundle"]


def _check(sidecar, srv, res, expected):
    if expected == 0:
        assert res.rc == 0, str(res)
        sidecar.assert_output(srv.issued_tokens[-1], 0o600, res)
    else:
        if expected == "nonzero" or expected is None:
            assert res.rc not in (0, None), str(res)
        else:
            assert res.rc == expected, str(res)
        sidecar.assert_output_unchanged(res)


@pytest.fixture(scope="module")
def asan_bin():
    return require_binary(ASAN_BIN)


@pytest.fixture(scope="module")
def plain_bin():
    return require_binary(PLAIN_BIN)


@pytest.mark.parametrize("name", SCENARIOS)
def test_asan_ubsan(sidecar, pki, dns, asan_bin, name):
    srv, env, kw, expected = _setup(sidecar, pki, dns, name)
    res = sidecar.run(srv, env=env, binary=asan_bin, extra_env=ASAN_ENV,
                      check_log=False, timeout=60, **kw)
    text = res.stdout + res.stderr
    assert not any(m in text for m in SANITIZER_MARKS), \
        "sanitizer report in %s\n%s" % (name, res)
    assert res.rc not in (86, 87), "sanitizer exit code\n%s" % res
    res.records = parse_log(res.stderr, env.get("LOG_FORMAT", "text"))
    _check(sidecar, srv, res, expected)


def _valgrind(sidecar, plain_bin, srv, env, **kw):
    logdir = sidecar.tmp / "vg"
    logdir.mkdir(exist_ok=True)
    wrapper = [VALGRIND, "-q", "--error-exitcode=99", "--leak-check=full",
               "--track-fds=no", "--log-file=%s/vg.%%p" % logdir]
    env = dict(env)
    env.setdefault("EXCHANGE_TIMEOUT", "60s")
    res = sidecar.run(srv, env=env, binary=plain_bin, wrapper=wrapper,
                      timeout=180, **kw)
    reports = []
    logs = sorted(os.listdir(logdir))
    assert logs, "valgrind wrote no log file: did it run?\n%s" % res
    for f in logs:
        text = (logdir / f).read_text()
        if text.strip():
            reports.append("%s:\n%s" % (f, text))
        (logdir / f).unlink()
    assert res.rc != 99 and not reports, \
        "valgrind reported errors (exit %s):\n%s\n%s" % (
            res.rc, "\n".join(reports), res)
    return res


def test_valgrind_success(sidecar, plain_bin):
    srv = sidecar.server()
    res = _valgrind(sidecar, plain_bin, srv, {"AUDIENCE": "a"})
    assert res.rc == 0, str(res)
    sidecar.assert_output(srv.issued_tokens[-1], 0o600, res)


@pytest.mark.parametrize("failure", ["http-400", "untrusted", "bad-config"])
def test_valgrind_failure(sidecar, pki, plain_bin, failure):
    if failure == "untrusted":
        srv = sidecar.server(leaf=pki.untrusted)
        want = 1
        env = {}
    else:
        srv = sidecar.server()
        srv.push(Reply(status=400, body={"error": "invalid_grant",
                                         "error_description": "expired"}))
        want = 1
        env = {}
        if failure == "bad-config":
            env = {"TOKEN_FILE_MODE": "0999"}
            want = 2
    res = _valgrind(sidecar, plain_bin, srv, env)
    assert res.rc == want, str(res)
    sidecar.assert_output_unchanged(res)
