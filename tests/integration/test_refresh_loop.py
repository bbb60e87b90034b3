"""The run mode: the refresh loop over time, against a live server.

Short token lifetimes (2-4 s) make the loop turn quickly: lifetimes under
60 s are refreshed at 40-50% of the lifetime, never sooner than 1 s after
the last exchange. Every test also checks, through loop_support.LoopRun,
that no secret (ServiceAccount token, any issued access token) appears in
any output and that every stderr line is one well-formed log record.

Marked `slow` (tens of seconds): the continuous reader, the outage, and
the sanitizer/valgrind soak. They still run in `make test`.
"""

import email.utils
import os
import re
import signal
import time

import pytest

import certs

pytest.register_assert_rewrite("loop_support")

from conftest import (ASAN_BIN, PLAIN_BIN, TIME_RE,  # noqa: E402
                      VALGRIND, require_binary)
from exchange_server import Reply, random_token  # noqa: E402
from loop_support import (ASAN_ENV, SANITIZER_MARKS,  # noqa: E402
                          AtomicDir, Issuer, LoopRun,
                          assert_token, expiry_name, seconds,
                          sleeping_fd_targets,
                          slow, switch_cert, temp_files, vm_rss_kb,
                          TokenReader)

pytest_plugins = ("loop_support",)

FAILED = "token refresh failed"
WRITTEN = "token written"
STOPPING = "stopping on a termination signal"
SIGTERM_BUDGET = 1.0          # seconds from SIGTERM to exit


@pytest.fixture
def loops():
    """LoopRun factory; every process is killed at teardown whatever
    happened."""
    runs = []

    def start(sidecar, *a, **kw):
        r = LoopRun(sidecar, *a, **kw)
        runs.append(r)
        return r
    yield start
    for r in runs:
        r.close()


def only_token_file(sidecar, run=None):
    names = sorted(os.listdir(sidecar.out_dir))
    assert not temp_files(sidecar.out_dir), \
        "temporary file left behind: %r\n%s" % (names, run or "")
    assert names in ([sidecar.out_path.name],
                     sorted([sidecar.out_path.name, expiry_name(sidecar)])), \
        "output directory holds %r\n%s" % (names, run or "")


def stop_ok(run, budget=SIGTERM_BUDGET, sig=signal.SIGTERM):
    """Signal, then: exit 0 within budget, stop logged, standard checks."""
    took = run.stop(sig, timeout=max(10.0, budget * 3))
    rc = run.finish()
    assert took is not None, "still running %.0fs after %s\n%s" % (
        max(10.0, budget * 3), sig.name, run)
    assert rc == 0, "exit %s after %s\n%s" % (rc, sig.name, run)
    assert took <= budget, "exit took %.3fs after %s (limit %.1fs)\n%s" % (
        took, sig.name, budget, run)
    if run.env.get("LOG_LEVEL", "info") in ("debug", "info"):
        assert run.find(STOPPING), "no %r record\n%s" % (STOPPING, run)
    return took


def failures(run, start=0):
    return run.find(FAILED, start)


# ------------------------------------------------------------------ 1


@slow
def test_reader_never_sees_a_missing_partial_or_expired_token(sidecar, loops):
    """30 s of 4-second tokens; a reader opens and reads the file every
    millisecond. After the first write the file is always there, holds
    exactly one whole issued token, never an expired one, never an older
    one than before; each token is replaced before it expires."""
    lifetime, duration = 4, 30.0
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=lifetime)
    sidecar.remove_output()
    run = loops(sidecar, srv, env={"REFRESH_INTERVAL": "1h"})
    reader = TokenReader(sidecar.out_path, issuer, run.started).start()
    try:
        end = run.started + duration
        while time.monotonic() < end:
            assert run.proc.poll() is None, "sidecar exited\n%s" % run
            time.sleep(0.2)
        took = stop_ok(run)
    finally:
        reader.stop()
    problems, first_seen = reader.problems, reader.first_seen
    assert not problems, "reader saw:\n  %s\n%s" % ("\n  ".join(problems), run)
    issued = list(issuer.issued)
    written = run.find(WRITTEN)
    assert not failures(run), run
    # 40-50% of 4 s, plus the exchange itself: ~2 s apart.
    assert len(issued) >= int(duration / 2.1), \
        "only %d tokens in %.0fs\n%s" % (len(issued), duration, run)
    assert len(written) in (len(issued), len(issued) - 1), run
    spacing = [b.issued_at - a.issued_at for a, b in zip(issued, issued[1:])]
    assert all(1.55 <= s <= 2.6 for s in spacing), \
        "refresh spacing %r, expected 1.6-2.0 s (+latency)\n%s" % (
            ["%.3f" % s for s in spacing], run)
    # Every written token was seen, and seen before its predecessor expired.
    margins = []
    for i in range(len(written)):
        assert i in first_seen, "token #%d was never seen by the reader" % i
        if i > 0:
            margins.append(issued[i - 1].expires_at - first_seen[i])
    assert min(margins) > 0, margins
    last = max(first_seen)
    assert time.monotonic() - took < issued[last].expires_at, \
        "the last token had expired when the sidecar stopped"
    for rec in written:
        assert rec["expires_in"] == "%ds" % lifetime, rec["_line"]
        # 40-50% of a lifetime under a minute, to a tenth of a second.
        assert re.fullmatch(r"\d+\.\ds", rec["next_refresh_in"]), rec["_line"]
        assert 0.4 * lifetime <= float(rec["next_refresh_in"][:-1]) <= \
            0.5 * lifetime, rec["_line"]
        assert TIME_RE.match(rec["next_refresh_at"]), rec["_line"]
        assert TIME_RE.match(rec["expires_at"]), rec["_line"]
    assert reader.polls > duration * 300, reader.polls
    only_token_file(sidecar, run)
    assert_token(sidecar, issued[len(written) - 1].token, expires_in=lifetime)
    print("\n[reader] tokens=%d polls=%d max_poll_gap=%.1fms "
          "spacing=%.3f..%.3fs min_margin_before_expiry=%.3fs stop=%.3fs" % (
              len(issued), reader.polls, reader.max_gap * 1000,
              min(spacing), max(spacing), min(margins), took))


def test_reader_catches_a_non_atomic_writer(tmp_path):
    """Negative control for the reader above: a writer that truncates and
    rewrites the file in place (two writes), and one that keeps an expired
    token, are both caught."""
    class Book:
        by_token = {}
    tok = [random_token("at") for _ in range(2)]
    now = time.monotonic()
    from loop_support import Issued
    Book.by_token[tok[0].encode()] = (0, Issued(tok[0], None, now, now + 60, 60))
    Book.by_token[tok[1].encode()] = (1, Issued(tok[1], None, now, now + 0.3, 0))
    path = tmp_path / "token"
    path.write_bytes(tok[0].encode())
    reader = TokenReader(path, Book, now).start()
    try:
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            with open(path, "wb") as f:      # O_TRUNC, then two writes
                f.write(tok[0][:20].encode())
                f.flush()
                time.sleep(0.002)
                f.write(tok[0][20:].encode())
            time.sleep(0.002)
    finally:
        reader.stop()
    text = "\n".join(reader.problems)
    assert "partial" in text or "empty" in text, reader.problems
    tmp = tmp_path / "new"
    tmp.write_bytes(tok[1].encode())         # expires at +0.3 s
    os.rename(tmp, path)
    time.sleep(max(0.0, now + 0.4 - time.monotonic()))
    reader = TokenReader(path, Book, now).start()
    time.sleep(0.1)
    reader.stop()
    assert reader.problems and all("after it expired" in p
                                   for p in reader.problems), reader.problems


# ------------------------------------------------------------------ 2


@slow
def test_outage_backoff_and_recovery(sidecar, loops):
    """A run of 503s, then the connection closed, then stalls (before and
    after the handshake, each held past EXCHANGE_TIMEOUT), then a 503 with
    Retry-After: 1 as the server comes back, then success: the sidecar
    recovers by itself; the previous token file is untouched throughout;
    attempts count 1, 2, 3...; each wait follows the backoff (uniform in
    [1 s, min(30 s, 2^(n-1) s)]) or the server's Retry-After (a floor, with
    up to half as much again above it)."""
    timeout = 2.0
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=3600)
    unavailable = {"error": "temporarily_unavailable"}
    # (reply, expected kind, Retry-After in seconds or None, stalls?)
    plan = [
        (Reply(status=503, headers=[("Retry-After", "2")], body=unavailable),
         "status", 2.0, False),
        (Reply(status=503, body=unavailable), "status", None, False),
        (Reply(action="close"), None, None, False),
        (Reply(action="stall"), "timeout", None, True),
        (Reply(action="stall_handshake"), "timeout", None, True),
        (Reply(status=503, headers=[("Retry-After", "1")], body=unavailable),
         "status", 1.0, False),
    ]
    srv.push(*[p[0] for p in plan])
    run = loops(sidecar, srv, env={"EXCHANGE_TIMEOUT": "%ds" % timeout})
    deadline = time.monotonic() + 60
    checks = 0
    while not run.find(WRITTEN):
        assert time.monotonic() < deadline, "no recovery in 60s\n%s" % run
        assert run.proc.poll() is None, run
        # The failure invariant, checked continuously during the outage
        # (until the attempt that is to succeed may have begun).
        fs = failures(run)
        if len(fs) < len(plan) or time.monotonic() < \
                fs[-1]["_t"] + seconds(fs[-1]["next_try_in"]) - 0.2:
            sidecar.assert_output_unchanged()
            checks += 1
        time.sleep(0.02)
    assert checks > 100, checks
    ok = run.find(WRITTEN)[0]
    fails = failures(run)
    assert [int(f["attempt"]) for f in fails] == \
        list(range(1, len(plan) + 1)), run
    waits = [seconds(f["next_try_in"]) for f in fails]
    times = [f["_t"] for f in fails] + [ok["_t"]]
    gaps = [y - x for x, y in zip(times, times[1:])]
    for n, (f, (_, kind, ra, _s)) in enumerate(zip(fails, plan), start=1):
        # No token written by this process yet: error level, says so.
        assert f["level"] == "error", f["_line"]
        assert f["msg"] == FAILED + ": no token written yet", f["_line"]
        if kind:
            assert f["kind"] == kind, "attempt %d\n%s" % (n, run)
        w = waits[n - 1]
        if ra is not None:
            assert ra <= w <= ra * 1.5, "attempt %d: Retry-After %gs not " \
                "honoured, next_try_in %s\n%s" % (n, ra, f["next_try_in"],
                                                  run)
        else:
            ceiling = min(30.0, 2.0 ** (n - 1))
            assert 1.0 <= w <= ceiling, \
                "attempt %d: next_try_in %.1fs outside [1, %g]\n%s" % (
                    n, w, ceiling, run)
    for n, g in enumerate(gaps, start=1):
        # gap n: from failure n to the end of attempt n + 1
        w = waits[n - 1]
        stalls = n < len(plan) and plan[n][3]
        bound = max(w, min(30.0, 2.0 ** (n - 1))) + timeout + 0.5
        assert 0.9 <= g and w - 0.1 <= g <= bound, \
            "attempt %d -> %d after %.3fs (next_try_in %.1fs, bound %.1fs)" \
            "\n%s" % (n, n + 1, g, w, bound, run)
        if stalls:
            # a stalled attempt ends at EXCHANGE_TIMEOUT, not sooner
            assert w + timeout - 0.1 <= g <= w + timeout + 0.6, \
                "stalled attempt %d took %.3fs after a %.1fs wait\n%s" % (
                    n + 1, g - w, w, run)
        else:
            assert g <= w + 0.5, "attempt %d took %.3fs\n%s" % (
                n + 1, g - w, run)
    # Roughly growing: the later ceilings (4, 8, 16 s) get used.
    assert max(waits[2:5]) > 1.2, "backoff never grew: %r\n%s" % (waits, run)
    assert_token(sidecar, issuer.issued[-1].token, expires_in=3600)
    assert len(issuer.issued) == 1
    stop_ok(run)
    only_token_file(sidecar, run)
    print("\n[outage] kinds=%s next_try_in=%s gaps=%s total=%.1fs" % (
        [f["kind"] for f in fails], waits, ["%.2f" % g for g in gaps],
        ok["_t"] - run.started))


def test_backoff_keeps_growing_after_the_token_expired(sidecar, loops):
    """A 3-second token, then an outage that outlasts it. While the token
    is valid each retry comes within 3/4 of its remaining life (warn); once
    it has expired the records say so (error) and the retries back off
    again instead of hammering the server at the 1 s floor for ever."""
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=3)
    run = loops(sidecar, srv)
    run.wait_msg(WRITTEN, timeout=10)
    srv.push(*[Reply(status=503, body={"error": "temporarily_unavailable"})
               for _ in range(6)])
    sidecar.take_snapshot()
    run.wait_for(lambda r: r["msg"].startswith(FAILED) and
                 r.get("attempt") == "5", 40, "attempt 5")
    exp = issuer.issued[0].expires_at
    fails = failures(run)
    sidecar.assert_output_unchanged()
    valid = [f for f in fails if f["_t"] < exp - 0.1]
    expired = [f for f in fails if f["_t"] > exp + 0.2]
    for f in valid:
        assert f["level"] == "warn" and "still valid" in f["msg"], f["_line"]
        left = exp + 0.1 - f["_t"]
        assert seconds(f["next_try_in"]) <= max(1.0, left * 0.75 + 0.05), \
            "retry after %s with %.2fs of validity left\n%s" % (
                f["next_try_in"], left, run)
    assert expired, run
    for f in expired:
        assert f["level"] == "error" and "has expired" in f["msg"], f["_line"]
    late = [seconds(f["next_try_in"]) for f in expired
            if int(f["attempt"]) >= 3]
    stop_ok(run)
    assert len(late) >= 2, run
    assert max(late) > 1.2, (
        "after the token expired, attempts %s all wait %r: the backoff "
        "stays at the 1 s floor (schedule_after_failure gets "
        "has_remaining=true, remaining=0)\n%s" % (
            [f["attempt"] for f in expired], late, run))


def test_retry_after_date_and_not_reused_by_a_later_failure(sidecar, loops):
    """429 with an HTTP-date Retry-After, 503 with Retry-After seconds;
    then a failure that never reached the server (the ServiceAccount token
    is gone) must use the normal backoff, not the previous Retry-After."""
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=3600)
    srv.push(Reply(status=429, headers=[("Retry-After", email.utils.formatdate(
                 time.time() + 4, usegmt=True))], body={"error": "slow_down"}),
             Reply(status=503, headers=[("Retry-After", "5")],
                   body={"error": "temporarily_unavailable"}))
    run = loops(sidecar, srv)
    # Retry-After is a floor with up to half as much again above it.
    f1 = run.wait_msg(FAILED, 1, timeout=10)
    assert 3.0 <= seconds(f1["next_try_in"]) <= 6.0, f1["_line"]
    f2 = run.wait_msg(FAILED, 2, timeout=10)
    assert 5.0 <= seconds(f2["next_try_in"]) <= 7.5, f2["_line"]
    assert f2["_t"] - f1["_t"] >= seconds(f1["next_try_in"]) - 0.1, run
    assert f2["_t"] - f1["_t"] >= 2.9, run
    saved = sidecar.sa_path.read_bytes()
    sidecar.sa_path.unlink()
    f3 = run.wait_msg(FAILED, 3, timeout=10)
    sidecar.sa_path.write_bytes(saved)
    assert f3["kind"] == "file", f3["_line"]
    assert f3["_t"] - f2["_t"] >= 4.9, run
    w3 = seconds(f3["next_try_in"])
    ok = run.wait_msg(WRITTEN, timeout=15)
    stop_ok(run)
    assert_token(sidecar, issuer.issued[-1].token)
    assert w3 <= 4.0, (
        "attempt 3 failed before any HTTP exchange (kind=file) yet waits "
        "%.1fs: the 503's Retry-After: 5 was reused (attempt-3 backoff is "
        "at most 4 s)\n%s" % (w3, run))
    assert ok["_t"] - f3["_t"] <= 4.5, run


# ------------------------------------------------------------------ 3


def _wait_until(cond, timeout, what, run):
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "%s did not happen\n%s" % (what, run)
        assert run.proc.poll() is None, "sidecar exited\n%s" % run
        time.sleep(0.01)


@pytest.mark.parametrize("phase", ["sleep", "sleep-sigint", "backoff",
                                   "stalled-request", "stalled-handshake",
                                   "stalled-dns"])
def test_termination_signal_in_every_wait(sidecar, loops, dns, phase):
    """SIGTERM (SIGINT) while sleeping, backing off, waiting for a stalled
    server or a stalled DNS server: exit 0 within 1 s, no temp file."""
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=3600)
    env = {"EXCHANGE_TIMEOUT": "30s"}
    kw = {}
    if phase == "stalled-request":
        srv.push(Reply(action="stall"))
    elif phase == "stalled-handshake":
        srv.push(Reply(action="stall_handshake"))
    elif phase == "stalled-dns":
        stub = dns("stall")
        env["EXCHANGE_URL"] = "https://stall.tokenbridge.test:%d/token" % srv.port
        kw["resolv_conf"] = stub.resolv_conf()
    run = loops(sidecar, srv, env=env, **kw)
    sig = signal.SIGINT if phase.endswith("sigint") else signal.SIGTERM
    if phase.startswith("sleep"):
        run.wait_msg(WRITTEN, timeout=10)
    elif phase == "backoff":
        run.wait_msg(WRITTEN, timeout=10)
        sidecar.take_snapshot()
        srv.push(Reply(status=503, headers=[("Retry-After", "60")]))
        run.signal(signal.SIGHUP)
        f = run.wait_msg(FAILED, timeout=10)
        # The token is valid for an hour more: the retry waits a quarter
        # to three quarters of that, above the server's Retry-After.
        assert 900.0 <= seconds(f["next_try_in"]) <= 2700.0 and \
            f["level"] == "warn", f["_line"]
    elif phase == "stalled-request":
        _wait_until(lambda: srv.requests, 10, "a request", run)
    elif phase == "stalled-handshake":
        _wait_until(lambda: srv.connections, 10, "a connection", run)
    else:
        _wait_until(lambda: stub.queries, 10, "a DNS query", run)
    time.sleep(0.3)
    assert run.proc.poll() is None, run
    took = stop_ok(run, sig=sig)
    if phase.startswith("sleep"):
        assert_token(sidecar, issuer.issued[-1].token)
    else:
        sidecar.assert_output_unchanged()
    assert not temp_files(sidecar.out_dir), os.listdir(sidecar.out_dir)
    print("\n[%s] exit 0 after %.3fs" % (phase, took))


# ------------------------------------------------------------------ 4


def test_rotated_serviceaccount_token_is_sent(sidecar, loops):
    """The kubelet's projected token: token -> ..data/token, ..data ->
    ..<timestamp>; rotation renames a new ..data_tmp over ..data. The
    next exchange (SIGHUP, and later the scheduled one) sends the new
    token."""
    sa = AtomicDir(sidecar.tmp / "projected", ["token"])
    toks = [random_token("sa") for _ in range(3)]
    for t in toks:
        sidecar.add_secret(t)
    sa.update({"token": toks[0] + "\n"})
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=3600)
    run = loops(sidecar, srv, env={"SA_TOKEN_PATH": sa.file("token")})
    run.wait_msg(WRITTEN, timeout=10)
    assert issuer.issued[0].subject == toks[0]

    sa.update({"token": toks[1] + "\n"})
    issuer.expires_in = 4            # so that a scheduled refresh follows
    m = run.mark()
    t0 = time.monotonic()
    run.signal(signal.SIGHUP)
    run.wait_msg("SIGHUP", timeout=5, start=m)
    run.wait_msg(WRITTEN, timeout=5, start=m)
    assert time.monotonic() - t0 < 1.5, run
    assert issuer.issued[1].subject == toks[1], "SIGHUP exchange sent the " \
        "old ServiceAccount token"

    sa.update({"token": toks[2] + "\n"})
    m = run.mark()
    run.wait_msg(WRITTEN, timeout=5, start=m)     # scheduled, ~1.6-2 s
    assert issuer.issued[2].subject == toks[2], "scheduled exchange sent " \
        "the old ServiceAccount token"
    assert not failures(run), run
    stop_ok(run)
    assert_token(sidecar, issuer.issued[-1].token)


# ------------------------------------------------------------------ 5


def test_ca_bundle_configmap_swap(sidecar, loops, pki):
    """ConfigMap-style swaps of CA_BUNDLE_PATH: a broken bundle is refused
    with an error and the old anchors keep working; a bundle for a new CA
    (the server switching to a certificate from it) is picked up on SIGHUP;
    swapping back is picked up by the next scheduled refresh alone."""
    new = certs.make_chain(str(sidecar.tmp / "pki-new"), "ec", tag="new-ca")
    old_root = open(pki.ec.root_cert, "rb").read()
    new_root = open(new.root_cert, "rb").read()
    ca = AtomicDir(sidecar.tmp / "configmap", ["ca.crt"])
    ca.update({"ca.crt": old_root})
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=3600)
    run = loops(sidecar, srv, env={"CA_BUNDLE_PATH": ca.file("ca.crt")})
    run.wait_msg(WRITTEN, timeout=10)

    # 1. Broken bundle: error, previous anchors kept, exchange still works.
    m = run.mark()
    ca.update({"ca.crt": "-----BEGIN CERTIFICATE-----\nnot base64 !!\n"
                         "-----END CERTIFICATE-----\n"})
    run.signal(signal.SIGHUP)
    bad = run.wait_msg("CA bundle reload failed", timeout=5, start=m)
    assert bad["level"] == "error", bad["_line"]
    run.wait_msg(WRITTEN, timeout=5, start=m)
    assert not failures(run, m), run
    assert len(issuer.issued) == 2

    # 2. New CA, server switches to a certificate from it: SIGHUP.
    m = run.mark()
    ca.update({"ca.crt": new_root})
    switch_cert(srv, new.leaf.chain, new.leaf.key)
    issuer.expires_in = 4
    run.signal(signal.SIGHUP)
    ok = run.wait_msg("CA bundle reloaded", timeout=5, start=m)
    assert ok["trust_anchors"] == "1", ok["_line"]
    run.wait_msg(WRITTEN, timeout=5, start=m)
    assert not failures(run, m), run

    # 3. Back to the old CA, no signal: the scheduled refresh notices.
    m = run.mark()
    ca.update({"ca.crt": old_root})
    switch_cert(srv, pki.ec.leaf.chain, pki.ec.leaf.key)
    run.wait_msg("CA bundle reloaded", timeout=5, start=m)
    run.wait_msg(WRITTEN, timeout=5, start=m)
    assert not failures(run, m), run
    assert len(issuer.issued) == 4
    stop_ok(run)
    assert_token(sidecar, issuer.issued[-1].token)


def test_ca_bundle_rewritten_in_place(sidecar, loops, pki):
    """The bundle rewritten in place after the load, its size and mtime
    kept (stat cannot tell). The root the first exchange used is kept by
    the store; the server then sends a chain to the other root, which is
    read from the file: that exchange is refused with one line naming the
    bundle and saying it changed since it was loaded, and the one after
    reloads it and succeeds."""
    other = open(pki.rsa.root_cert, "rb").read()
    root = open(pki.ec.root_cert, "rb").read()
    path = sidecar.tmp / "in-place.pem"
    path.write_bytes(other + root)
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=4)
    run = loops(sidecar, srv, env={"CA_BUNDLE_PATH": str(path)})
    run.wait_msg(WRITTEN, timeout=10)
    m = run.mark()
    st = os.stat(path)
    with open(path, "r+b") as f:            # same inode, same length
        f.write(root + other)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    switch_cert(srv, pki.rsa.leaf.chain, pki.rsa.leaf.key)
    bad = run.wait_msg(FAILED, timeout=10, start=m)
    assert "the CA bundle %s changed since it was loaded" % path in \
        bad["_line"], bad["_line"]
    ok = run.wait_msg("CA bundle reloaded", timeout=10, start=m)
    assert ok["trust_anchors"] == "2", ok["_line"]
    run.wait_msg(WRITTEN, timeout=10, start=m)
    assert len(failures(run, m)) == 1, run
    assert len(issuer.issued) == 2
    stop_ok(run)


def _bundle_fds(pid, directory):
    """The descriptors of pid open on a file under directory, sampled
    between refreshes, and how many descriptors it has in all."""
    fds = sleeping_fd_targets(pid)
    return [t for t in fds.values() if t.startswith(str(directory))], \
        len(fds)


def test_ca_bundle_swaps_keep_one_descriptor(sidecar, loops, pki):
    """The store keeps the loaded bundle open to read anchors from: one
    descriptor, on the version loaded, after any number of ConfigMap
    swaps and reloads; and the process's descriptor count does not
    grow."""
    new = certs.make_chain(str(sidecar.tmp / "pki-new"), "ec", tag="fd-ca")
    root = open(pki.ec.root_cert, "rb").read()
    roots = [root, root + open(new.root_cert, "rb").read()]
    ca = AtomicDir(sidecar.tmp / "configmap", ["ca.crt"])
    ca.update({"ca.crt": roots[0]})
    srv = sidecar.server()
    Issuer(srv, expires_in=3600)
    run = loops(sidecar, srv, env={"CA_BUNDLE_PATH": ca.file("ca.crt")})
    run.wait_msg(WRITTEN, timeout=10)
    held, count = _bundle_fds(run.pid, ca.path)
    assert len(held) == 1, held
    for i in range(1, 21):
        m = run.mark()
        ca.update({"ca.crt": roots[i % 2]})
        run.signal(signal.SIGHUP)
        run.wait_msg("CA bundle reloaded", timeout=5, start=m)
        run.wait_msg(WRITTEN, timeout=5, start=m)
        now, total = _bundle_fds(run.pid, ca.path)
        assert now == [os.path.join(ca.current, "ca.crt")], (now, i)
        assert total == count, (total, count, i)
    stop_ok(run)


# ------------------------------------------------------------------ 6


def test_json_log_records_and_level_filter(sidecar, loops):
    """LOG_FORMAT=json: every stderr line is a JSON object, the loop's
    records carry their documented keys; LOG_LEVEL=warn drops info."""
    srv = sidecar.server()
    issuer = Issuer(srv, expires_in=4)
    run = loops(sidecar, srv, env={"LOG_FORMAT": "json"})
    w1 = run.wait_msg(WRITTEN, timeout=10)
    srv.push(Reply(status=503, body={"error": "temporarily_unavailable",
                                     "error_description": "try later"}))
    f = run.wait_msg(FAILED, timeout=10)
    run.wait_msg(WRITTEN, 2, timeout=10)
    run.signal(signal.SIGHUP)
    run.wait_msg(WRITTEN, 3, timeout=5)
    stop_ok(run)
    for line in run.stderr.splitlines():
        assert line.startswith("{") and line.endswith("}"), line
    assert w1["expires_in"] == "4s" and re.fullmatch(r"\d+\.\ds",
                                                     w1["next_refresh_in"])
    for k in ("path", "expires_at", "next_refresh_at", "token_type"):
        assert isinstance(w1.get(k), str), (k, w1["_line"])
    assert f["level"] == "warn" and "still valid" in f["msg"], f["_line"]
    assert f["attempt"] == "1" and f["kind"] == "status", f["_line"]
    assert "503" in f["error"], f["_line"]
    assert re.fullmatch(r"\d+\.\ds", f["next_try_in"]), f["_line"]
    assert all(isinstance(v, str) for r in run.records for k, v in r.items()
               if k != "_t")
    assert_token(sidecar, issuer.issued[-1].token)

    # LOG_LEVEL=warn: only the failure shows.
    srv.push(Reply(status=503, body={"error": "temporarily_unavailable"}))
    run2 = loops(sidecar, srv, env={"LOG_FORMAT": "json", "LOG_LEVEL": "warn"})
    run2.wait_msg(FAILED, timeout=10)
    _wait_until(lambda: len(issuer.issued) == 4, 10, "the retry", run2)
    time.sleep(0.2)
    stop_ok(run2)
    # The stop record is info: filtered out like the rest.
    assert {r["level"] for r in run2.records} <= {"warn", "error"}, run2
    assert [r["msg"] for r in run2.records] == [
        FAILED + ": no token written yet"], run2


# ------------------------------------------------------------------ 7


SOAK_CYCLES = 60


@slow
def test_soak_static_asan_valgrind(tmp_path, pki, binary):
    """Three sidecars at once, 2-second tokens (a refresh a second, the
    floor), SOAK_CYCLES exchanges each, then SIGTERM: the static binary's
    VmRSS after the last cycle is within 8 KB of that after cycle 5 and its
    descriptors never change; the ASan+UBSan build reports nothing and
    leaks nothing; valgrind memcheck reports no error and no leak."""
    from conftest import Sidecar
    asan = require_binary(ASAN_BIN)
    plain = require_binary(PLAIN_BIN)
    vglogs = tmp_path / "vg"
    vglogs.mkdir()
    flavours = {
        "static": dict(binary=binary),
        "asan": dict(binary=asan, extra_env=ASAN_ENV, strict_log=False),
        "valgrind": dict(binary=plain, strict_log=False, wrapper=[
            VALGRIND, "-q", "--error-exitcode=99", "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--log-file=%s/vg.%%p" % vglogs]),
    }
    cars, runs, issuers = {}, {}, {}
    try:
        for name, kw in flavours.items():
            d = tmp_path / name
            d.mkdir()
            sc = cars[name] = Sidecar(d, pki, kw["binary"])
            srv = sc.server()
            issuers[name] = Issuer(srv, expires_in=2)
            runs[name] = LoopRun(sc, srv, env={"EXCHANGE_TIMEOUT": "20s"},
                                 **kw)
        st = runs["static"]
        samples = {}
        fds = {}
        for cycle in range(1, SOAK_CYCLES + 1):
            st.wait_msg(WRITTEN, cycle, timeout=15)
            # Sampled in the sleep that follows: the token directory and
            # the sleep's two timers, the same every cycle.
            fds[cycle] = sleeping_fd_targets(st.pid)
            if cycle in (5, SOAK_CYCLES):
                samples[cycle] = vm_rss_kb(st.pid)
        for name in ("asan", "valgrind"):
            runs[name].wait_msg(WRITTEN, SOAK_CYCLES, timeout=60)
        took = {}
        for name, r in runs.items():
            took[name] = r.stop(timeout=60)
        for name, r in runs.items():
            r.finish()
    finally:
        for r in runs.values():
            r.close()
        for sc in cars.values():
            sc.close()
    report = []
    for name, r in runs.items():
        cycles = len(r.find(WRITTEN))
        report.append("%s: %d cycles, exit %s after %.2fs" % (
            name, cycles, r.rc, took[name] or -1))
        assert not failures(r), "%s had failures\n%s" % (name, r)
        assert r.find(STOPPING), "%s: no stop record\n%s" % (name, r)
        text = r.stdout + r.stderr
        assert not any(m in text for m in SANITIZER_MARKS), \
            "%s: sanitizer report\n%s" % (name, text[-6000:])
        assert r.rc == 0, "%s exited %s\n%s" % (name, r.rc, text[-6000:])
        assert_token(cars[name], issuers[name].issued[cycles - 1].token)
        assert not temp_files(cars[name].out_dir)
    vg = []
    assert os.listdir(vglogs), "valgrind wrote no log file: did it run?"
    for f in sorted(os.listdir(vglogs)):
        t = (vglogs / f).read_text()
        if t.strip():
            vg.append("%s:\n%s" % (f, t))
    assert not vg, "valgrind:\n%s" % "\n".join(vg)
    assert took["static"] < 1.0 and took["asan"] < 2.0, took
    counts = {c: len(v) for c, v in fds.items()}
    assert len(set(map(frozenset, (v.items() for v in fds.values())))) == 1, \
        "descriptors changed: %r" % {c: fds[c] for c in (1, 5, SOAK_CYCLES)}
    grow = samples[SOAK_CYCLES] - samples[5]
    print("\n[soak] %s; static VmRSS after cycle 5: %d kB, after cycle %d: "
          "%d kB (%+d kB); fds %s" % ("; ".join(report), samples[5],
                                      SOAK_CYCLES, samples[SOAK_CYCLES], grow,
                                      sorted(set(counts.values()))))
    assert grow <= 8, "VmRSS grew %d kB over %d cycles" % (
        grow, SOAK_CYCLES - 5)
