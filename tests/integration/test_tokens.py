"""Several tokens from one sidecar (CONFIG_PATH): two projected tokens,
two exchange servers, one process, one loop, a schedule each."""

import json
import os
import re
import signal
import subprocess
import time

from conftest import ASAN_BIN, free_port, require_binary
from exchange_server import Reply, random_token
from test_health import PROMTOOL, get
from test_run_mode import stop, wait_for

# The per-token variables env_for() sets: with CONFIG_PATH they go in the
# file, and the environment must not set them too.
PER_TOKEN = ("SA_TOKEN_PATH", "OUTPUT_TOKEN_PATH", "EXCHANGE_TIMEOUT",
             "CA_BUNDLE_PATH", "EXCHANGE_URL", "ALLOW_INSECURE_HTTP")


def second_sa(sidecar):
    """A second projected token, as the kubelet mounts one per audience."""
    d = sidecar.tmp / "sa-b"
    d.mkdir(exist_ok=True)
    tok = random_token("sab")
    (d / "token").write_text(tok + "\n")
    sidecar.add_secret(tok)
    return d / "token", tok


def entry(sidecar, name, srv, sa, out, **keys):
    e = {"name": name, "sa_token_path": str(sa), "output_token_path": str(out),
         "exchange_url": srv.url("/token"), "exchange_timeout": "5s",
         "ca_bundle_path": sidecar.pki.chain("ec").root_cert,
         "audience": name}
    e.update(keys)
    return e


def write_config(sidecar, tokens, name="tokens.json"):
    path = sidecar.tmp / name
    path.write_text(json.dumps({"tokens": tokens}, indent=2))
    return path


def two_tokens(sidecar, a_keys=None, b_keys=None, a_srv=None, b_srv=None):
    """Servers a and b (fresh unless given), and the file naming both."""
    a = a_srv or sidecar.server()
    b = b_srv or sidecar.server()
    sa_b, tok_b = second_sa(sidecar)
    out_b = sidecar.out_dir / "token-b"
    cfg = write_config(sidecar, [
        entry(sidecar, "app-a", a, sidecar.sa_path, sidecar.out_path,
              **(a_keys or {})),
        entry(sidecar, "app-b", b, sa_b, out_b, **(b_keys or {}))])
    return a, b, cfg, out_b, tok_b


def spawn(sidecar, cfg, args=("run",), port=None, **env):
    full = {"CONFIG_PATH": str(cfg), "READY_MIN_VALIDITY": "1ms"}
    if port is not None:
        full["HEALTH_ADDR"] = "127.0.0.1:%d" % port
    full.update(env)
    return sidecar.spawn(None, args=args, env=full, unset=PER_TOKEN)


def by_token(res, name):
    return [r for r in res.records if r.get("token") == name]


def sample(text, name, token, extra=""):
    want = '%s{token="%s"%s} ' % (name, token, extra)
    for line in text.splitlines():
        if line.startswith(want):
            return float(line.split()[-1])
    raise AssertionError("no sample %s in\n%s" % (want, text))


def readyz_verbose(port, status, line_a, line_b, verdict):
    """/readyz?verbose: its status, a line per token, then the verdict."""
    got, _, body = get(port, "/readyz?verbose")
    lines = body.splitlines()
    assert got == status and len(lines) == 3, body
    assert lines[0].startswith(line_a) and lines[1].startswith(line_b), body
    assert lines[2] == "readyz check " + verdict, body
    return body


def test_two_tokens_each_on_its_own_schedule(sidecar):
    a = sidecar.server(expires_in=2)
    b = sidecar.server(expires_in=6)
    a, b, cfg, out_b, tok_b = two_tokens(sidecar, a_srv=a, b_srv=b)
    port = free_port()
    h = spawn(sidecar, cfg, port=port)
    try:
        # a's token lives 2 s, b's 6 s: a refreshes about three times as
        # often, neither waiting for the other.
        assert wait_for(lambda: len(a.requests) >= 4, 8), h.stderr_now()
        assert 1 <= len(b.requests) <= 2, \
            "b: %d exchanges while a made %d" % (len(b.requests),
                                                 len(a.requests))
        assert wait_for(lambda: len(b.requests) >= 2, 6), h.stderr_now()
        gaps = [y.time - x.time for x, y in zip(a.requests, a.requests[1:])]
        assert all(0.7 <= g <= 1.8 for g in gaps), gaps
        # A short lifetime is refreshed at 40% to 50% of it (schedule.c).
        gap_b = b.requests[1].time - b.requests[0].time
        assert 2.3 <= gap_b <= 4.0, gap_b
        # Each server saw its own projected token and audience.
        assert {r.form["subject_token"] for r in a.requests} == \
            {sidecar.sa_token}
        assert {r.form["subject_token"] for r in b.requests} == {tok_b}
        assert {r.form["audience"] for r in a.requests} == {"app-a"}
        assert {r.form["audience"] for r in b.requests} == {"app-b"}
        assert wait_for(lambda: sidecar.out_path.read_text() in
                        a.issued_tokens[1:], 2)
        assert out_b.read_text() in b.issued_tokens
        body = readyz_verbose(port, 200, "[+]token app-a ok: valid for",
                              "[+]token app-b ok: valid for", "passed")
        status, _, text = get(port, "/metrics")
        assert status == 200
        assert sample(text, "tokenbridge_exchange_attempts_total",
                      "app-a") >= 4
        assert sample(text, "tokenbridge_exchange_attempts_total",
                      "app-b") >= 2
        assert sample(text, "tokenbridge_exchange_responses_total", "app-b",
                      ',code="2xx"') >= 2
        assert sample(text, "tokenbridge_trust_anchors", "app-a") >= 1
        assert "\ntokenbridge_exchange_attempts_total " not in text
        for s in sidecar.secrets():
            assert s not in body and s not in text
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)
    assert not res.errors, str(res)
    written_a = [r for r in by_token(res, "app-a")
                 if r["msg"] == "token written"]
    written_b = [r for r in by_token(res, "app-b")
                 if r["msg"] == "token written"]
    assert len(written_a) >= 4 and len(written_b) >= 2, str(res)
    assert {r["path"] for r in written_a} == {str(sidecar.out_path)}
    assert {r["path"] for r in written_b} == {str(out_b)}
    starting = [r for r in res.records
                if r["msg"] == "tokenbridge-sidecar starting"]
    assert sorted(r["token"] for r in starting) == ["app-a", "app-b"]
    assert os.stat(out_b).st_mode & 0o777 == 0o600


def test_a_failing_server_does_not_disturb_the_other(sidecar):
    a = sidecar.server(expires_in=2)
    b = sidecar.server()
    b.handler = lambda req: Reply(status=503, body={
        "error": "temporarily_unavailable"}, headers=[("Retry-After", "1")])
    a, b, cfg, out_b, _ = two_tokens(sidecar, a_srv=a, b_srv=b)
    port = free_port()
    h = spawn(sidecar, cfg, port=port)
    try:
        assert wait_for(lambda: len(a.requests) >= 4, 8), h.stderr_now()
        assert len(b.requests) >= 2, h.stderr_now()
        assert sidecar.out_path.read_text() in a.issued_tokens
        assert not out_b.exists()
        readyz_verbose(port, 503, "[+]token app-a ok",
                       "[-]token app-b failed: ", "failed")
        status, _, short = get(port, "/readyz")
        assert status == 503 and short.startswith("token app-b not ready: "), \
            short
        _, _, text = get(port, "/metrics")
        assert sample(text, "tokenbridge_exchange_failures_total", "app-b",
                      ',kind="status"') >= 2
        assert sample(text, "tokenbridge_exchange_failures_total", "app-a",
                      ',kind="status"') == 0
        if PROMTOOL is not None:
            lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                                  capture_output=True, text=True, timeout=30)
            assert lint.returncode == 0, lint.stdout + lint.stderr + text
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)
    failed = [r for r in res.errors if r["msg"].startswith(
        "token refresh failed")]
    assert failed and all(r.get("token") == "app-b" for r in failed), str(res)


def test_a_stalled_server_does_not_delay_the_other(sidecar):
    a = sidecar.server(expires_in=2)
    b = sidecar.server()
    b.handler = lambda req: Reply(action="stall")
    a, b, cfg, _, _ = two_tokens(sidecar, a_srv=a, b_srv=b,
                                 b_keys={"exchange_timeout": "30s"})
    h = spawn(sidecar, cfg)
    try:
        assert wait_for(lambda: len(b.requests) == 1, 3), h.stderr_now()
        assert wait_for(lambda: len(a.requests) >= 4, 8), h.stderr_now()
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)


def test_once_and_check_cover_every_token(sidecar):
    a, b, cfg, out_b, _ = two_tokens(sidecar)
    res = sidecar.finish(spawn(sidecar, cfg, args=("once",)))
    assert res.rc == 0, str(res)
    assert sidecar.out_path.read_text() == a.issued_tokens[0]
    assert out_b.read_text() == b.issued_tokens[0]
    res = sidecar.finish(spawn(sidecar, cfg, args=("check",)))
    assert res.rc == 0, str(res)
    out_b.unlink()
    res = sidecar.finish(spawn(sidecar, cfg, args=("check",)))
    assert res.rc == 1, str(res)
    assert [r["token"] for r in res.errors] == ["app-b"], str(res)


def refused(sidecar, cfg, *words, **env):
    res = sidecar.finish(spawn(sidecar, cfg, args=("once",), **env))
    assert res.rc == 2, str(res)
    assert len(res.errors) == 1, str(res)
    for w in words:
        assert w in res.errors[0]["error"], str(res)
    return res


def test_refused_at_start(sidecar):
    srv = sidecar.server()
    same = write_config(sidecar, [
        entry(sidecar, "a", srv, sidecar.sa_path, sidecar.out_path),
        entry(sidecar, "b", srv, sidecar.sa_path,
              sidecar.out_dir / "." / "token")], "same.json")
    refused(sidecar, same, "tokens a and b both write")
    refused(sidecar, same, "CONFIG_PATH=%s and AUDIENCE are both set" % same,
            "neither wins", AUDIENCE="x")
    bad = write_config(sidecar, [dict(entry(sidecar, "a", srv, sidecar.sa_path,
                                            sidecar.out_path), audiense="x")],
                       "bad.json")
    refused(sidecar, bad, 'unknown key "audiense"')
    many = write_config(sidecar, [
        entry(sidecar, "t%d" % i, srv, sidecar.sa_path,
              sidecar.out_dir / ("t%d" % i)) for i in range(9)], "many.json")
    refused(sidecar, many, "lists 9 tokens", "at most 8")
    refused(sidecar, sidecar.tmp / "missing.json", "cannot be opened")
    # LOG_FORMAT applies even when the file is bad.
    res = refused(sidecar, bad, "audiense", LOG_FORMAT="json")
    assert res.errors[0]["msg"] == "invalid configuration"
    assert srv.requests == []
    sidecar.assert_output_unchanged(res)


def test_sighup_refreshes_every_token(sidecar):
    a, b, cfg, _, _ = two_tokens(sidecar)
    h = spawn(sidecar, cfg)
    try:
        assert wait_for(lambda: len(a.requests) == 1 and
                        len(b.requests) == 1, 3), h.stderr_now()
        h.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: len(a.requests) == 2 and
                        len(b.requests) == 2, 2), h.stderr_now()
        time.sleep(0.2)
    finally:
        res = stop(sidecar, h, within=1.0)
    assert res.rc == 0, str(res)


def reload_only_after(h, cond, within, then):
    """cond() holds within `within` s with the CA bundle not yet reloaded,
    and the reload is logged within `then` s more."""
    assert wait_for(cond, within), h.stderr_now()
    assert "CA bundle reloaded" not in h.stderr_now()
    assert wait_for(lambda: "CA bundle reloaded" in h.stderr_now(), then), \
        h.stderr_now()


def test_shared_bundle_waits_for_the_exchange_using_it(sidecar):
    """Both tokens trust one bundle, loaded once. It changes while b's
    handshake stalls, validating against it: a's refreshes go on, and the
    reload waits until b's exchange is over (ASan would see the anchors
    freed under b's handshake)."""
    asan = require_binary(ASAN_BIN)
    bundle = sidecar.tmp / "ca.pem"
    bundle.write_text(open(sidecar.pki.chain("ec").root_cert).read())
    a = sidecar.server(expires_in=2)
    b = sidecar.server()
    b.handler = lambda req: Reply(action="stall_handshake")
    b.push(Reply(action="stall_handshake"))
    keys = {"ca_bundle_path": str(bundle)}
    a, b, cfg, _, _ = two_tokens(sidecar, a_srv=a, b_srv=b, a_keys=keys,
                                 b_keys=dict(keys, exchange_timeout="4s"))
    h = sidecar.spawn(None, args=("run",), binary=asan, unset=PER_TOKEN,
                      env={"CONFIG_PATH": str(cfg)})
    try:
        assert wait_for(lambda: b.connections == 1 and
                        len(a.requests) >= 1, 5), h.stderr_now()
        fresh = sidecar.tmp / "ca.pem.new"
        fresh.write_text(bundle.read_text())
        os.rename(fresh, bundle)
        n = len(a.requests)
        reload_only_after(h, lambda: len(a.requests) >= n + 2, 4, 6)
    finally:
        res = stop(sidecar, h, within=1.5)
    assert res.rc == 0, str(res)
    starting = [r for r in res.records
                if r["msg"] == "tokenbridge-sidecar starting"]
    assert [r["ca_bundle"] for r in starting] == [str(bundle)] * 2
    reloads = [r for r in res.records if r["msg"] == "CA bundle reloaded"]
    timed_out = [i for i, r in enumerate(res.records)
                 if r.get("token") == "app-b" and
                 r["msg"].startswith("token refresh failed")]
    assert reloads and timed_out, str(res)
    assert res.records.index(reloads[0]) > timed_out[0], str(res)


def test_readme_documents_every_key():
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "src", "config", "configfile.c")) as f:
        src = f.read()
    table = src[src.index("names[CONFIGFILE_KEYS] = {"):]
    table = table[:table.index("};")]
    names = re.findall(r'"([A-Z_]+)"', table)
    assert len(names) == 24
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    for n in names + ["NAME"]:
        assert "\n| `%s` |" % n.lower() in readme, n


def test_sighup_reload_waits_for_the_shared_bundle_to_be_free(sidecar):
    """A SIGHUP-forced reload of a shared bundle, due while the other
    token's exchange validates against it, is kept pending and done when
    the last exchange using the bundle ends (the file never changes, so
    only the SIGHUP asks for it). b's first handshake stalls; a's exchange
    after the SIGHUP stalls too, and is still in flight when b's retry
    (carrying b's SIGHUP) starts: without the pending reload both
    attempts find the bundle busy and the reload is lost."""
    bundle = sidecar.tmp / "ca.pem"
    bundle.write_text(open(sidecar.pki.chain("ec").root_cert).read())
    a = sidecar.server()
    b = sidecar.server()
    a.push(a.issue(), Reply(action="stall_handshake"))
    b.push(Reply(action="stall_handshake"))
    keys = {"ca_bundle_path": str(bundle)}
    a, b, cfg, _, _ = two_tokens(sidecar, a_srv=a, b_srv=b,
                                 a_keys=dict(keys, exchange_timeout="5s"),
                                 b_keys=dict(keys, exchange_timeout="2s"))
    h = spawn(sidecar, cfg)
    try:
        assert wait_for(lambda: len(a.requests) == 1 and
                        b.connections == 1, 5), h.stderr_now()
        h.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: a.connections == 2, 2), h.stderr_now()
        # b's stall ends (2 s), its retry runs while a's stalls (5 s).
        reload_only_after(h, lambda: len(b.requests) == 1, 4, 6)
    finally:
        res = stop(sidecar, h, within=1.5)
    assert res.rc == 0, str(res)
    reloads = [r for r in res.records if r["msg"] == "CA bundle reloaded"]
    a_failed = [r for r in res.records if r.get("token") == "app-a" and
                r["msg"].startswith("token refresh failed")]
    assert len(reloads) == 1 and a_failed, str(res)
    # Done by the job whose exchange freed the bundle: a's, at its end.
    assert reloads[0]["token"] == "app-a" and \
        res.records.index(reloads[0]) > res.records.index(a_failed[0]), \
        str(res)
