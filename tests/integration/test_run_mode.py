"""The long-running mode (`run`, the default without arguments): keeps the
token fresh, refreshes at once on SIGHUP, exits 0 on SIGTERM."""

import signal
import time

import pytest

from conftest import wait_for
from exchange_server import Reply


def stop(sidecar, h, sig=signal.SIGTERM, within=1.5):
    t = time.monotonic()
    h.proc.send_signal(sig)
    res = sidecar.finish(h, timeout=10)
    took = time.monotonic() - t
    assert took < within, "took %.2fs to stop on %s\n%s" % (took, sig.name,
                                                            res)
    return res


@pytest.mark.parametrize("args", [(), ("run",)])
def test_run_refreshes_before_expiry_and_stops_cleanly(sidecar, args):
    srv = sidecar.server(expires_in=3)   # short: refresh at about half
    h = sidecar.spawn(srv, args=args, env={"REFRESH_INTERVAL": "1h"})
    try:
        assert wait_for(lambda: len(srv.requests) >= 2, 6), \
            "no refresh within 6s of a 3s token:\n%s" % h.stderr_now()
        first, second = srv.requests[0].time, srv.requests[1].time
        assert 0.9 <= second - first <= 2.5, \
            "refreshed after %.2fs for a 3s token" % (second - first)
        assert wait_for(lambda: sidecar.out_path.read_bytes().decode() in
                        srv.issued_tokens[1:], 2)
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0, "run must exit 0 on SIGTERM\n%s" % res
    assert not res.errors, str(res)
    assert sidecar.out_path.read_bytes().decode() in srv.issued_tokens
    sidecar.assert_output(sidecar.out_path.read_bytes(), 0o600, res)
    written = [r for r in res.records if r["msg"] == "token written"]
    # The last exchange may have been cut short by the SIGTERM itself.
    assert len(written) >= 2 and \
        len(srv.issued_tokens) - 1 <= len(written) <= len(srv.issued_tokens), \
        "%d tokens issued, %d written\n%s" % (len(srv.issued_tokens),
                                              len(written), res)


def test_run_sighup_refreshes_now(sidecar):
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",))
    try:
        assert wait_for(lambda: len(srv.requests) == 1, 3), h.stderr_now()
        time.sleep(0.3)
        t = time.monotonic()
        h.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: len(srv.requests) == 2, 2), \
            "SIGHUP did not trigger a refresh:\n%s" % h.stderr_now()
        assert time.monotonic() - t < 1.0
        assert wait_for(lambda: sidecar.out_path.read_bytes() ==
                        srv.issued_tokens[1].encode(), 2)
        assert h.proc.poll() is None, "SIGHUP ended the process"
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0, str(res)


def test_run_keeps_going_after_failures(sidecar):
    srv = sidecar.server()
    srv.handler = lambda req: Reply(status=400, body={
        "error": "invalid_grant", "error_description": "nope"})
    h = sidecar.spawn(srv, args=("run",))
    try:
        assert wait_for(lambda: len(srv.requests) >= 1, 3), h.stderr_now()
        time.sleep(0.5)
        assert h.proc.poll() is None, "run exited after a failed exchange"
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0, str(res)
    assert any("invalid_grant" in r["_line"] for r in res.records), str(res)
    sidecar.assert_output_unchanged(res)


def test_run_sigterm_during_stalled_exchange(sidecar):
    srv = sidecar.server()
    srv.push(Reply(action="stall"))
    h = sidecar.spawn(srv, args=("run",), env={"EXCHANGE_TIMEOUT": "30s"})
    try:
        assert wait_for(lambda: len(srv.requests) == 1, 3), h.stderr_now()
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0, str(res)
    sidecar.assert_output_unchanged(res)


def test_run_bad_configuration_exits_2(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv, args=("run",), env={"REFRESH_INTERVAL": "abc"},
                      timeout=10)
    assert res.rc == 2, str(res)
    assert srv.connections == 0
    sidecar.assert_output_unchanged(res)


def test_run_expires_in_zero_is_an_unknown_lifetime(sidecar):
    # "expires_in": 0 taken literally made the next refresh due at once:
    # one exchange a second, for ever. Go's oauth2 reads 0 as "unknown";
    # so does the sidecar: REFRESH_INTERVAL decides, said once.
    import subprocess
    srv = sidecar.server(expires_in=0)
    h = sidecar.spawn(srv, args=("run",), env={"REFRESH_INTERVAL": "1h"})
    try:
        assert wait_for(lambda: len(srv.requests) == 1, 3), h.stderr_now()
        time.sleep(3.5)
        assert len(srv.requests) == 1, \
            "%d exchanges in 3.5 s with expires_in 0\n%s" % (
                len(srv.requests), h.stderr_now())
        # `check` accepts the token: no expiry record saying "now".
        chk = subprocess.run([sidecar.binary, "check"],
                             env=sidecar.env_for(srv), capture_output=True,
                             text=True, timeout=10)
        assert chk.returncode == 0, chk.stderr
        h.proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: len(srv.requests) == 2, 3), h.stderr_now()
        assert wait_for(lambda: sidecar.out_path.read_bytes() ==
                        srv.issued_tokens[1].encode(), 2)
        time.sleep(0.3)
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0 and not res.errors, str(res)
    said = [r for r in res.records if "expires_in 0" in r["msg"]]
    assert len(said) == 1 and said[0]["level"] == "warn", str(res)
    written = [r for r in res.records if r["msg"] == "token written"]
    assert len(written) == 2, str(res)
    for r in written:
        assert r["expires_in"] == "unknown", r["_line"]
    # REFRESH_INTERVAL decides: the first refresh anywhere from 5% of it
    # (spread over a whole period), the next one in its last tenth.
    assert 180 <= float(written[0]["next_refresh_in"][:-1]) <= 3600, \
        written[0]["_line"]
    assert 3240 <= float(written[1]["next_refresh_in"][:-1]) <= 3600, \
        written[1]["_line"]
    sidecar.assert_output(srv.issued_tokens[1], 0o600, res, expires_in=None)


def test_run_sleeps_on_boottime_and_the_wall_clock(sidecar):
    # Between refreshes the process sleeps in ppoll() on two timers:
    # CLOCK_BOOTTIME (7), which goes on counting while the machine is
    # suspended (CLOCK_MONOTONIC, and a ppoll() timeout, do not), and
    # CLOCK_REALTIME (0), which also sees time the machine cannot (a VM
    # held by its host). Both are due when the log says the refresh is.
    import os
    import re
    srv = sidecar.server(expires_in=3600)
    h = sidecar.spawn(srv, args=("run",))
    try:
        assert wait_for(lambda: "token written" in h.stderr_now(), 5), \
            h.stderr_now()
        time.sleep(0.3)
        next_in = float(re.search(r"next_refresh_in=([0-9.]+)s",
                                  h.stderr_now()).group(1))
        timers = {}
        for fd in os.listdir("/proc/%d/fd" % h.proc.pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (h.proc.pid, fd))
                if target != "anon_inode:[timerfd]":
                    continue
                with open("/proc/%d/fdinfo/%s" % (h.proc.pid, fd)) as f:
                    info = f.read()
            except OSError:
                continue
            clock = int(re.search(r"clockid:\s*(\d+)", info).group(1))
            left = re.search(r"it_value:\s*\((\d+),\s*(\d+)\)", info)
            timers[clock] = int(left.group(1)) + int(left.group(2)) / 1e9
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0, str(res)
    assert sorted(timers) == [0, 7], \
        "timers by clock id: %r (7 = CLOCK_BOOTTIME, 0 = CLOCK_REALTIME)" % (
            timers,)
    for clock, left in timers.items():
        assert abs(left - next_in) < 5, \
            "clock %d timer due in %.1fs, next_refresh_in %.1fs" % (
                clock, left, next_in)


def test_run_retry_after_is_a_floor_with_jitter(sidecar):
    # A fleet told "Retry-After: 2" must not come back in step: every wait
    # is at least 2 s and at most 3 s, and they are not all the same.
    import re
    srv = sidecar.server()
    srv.handler = lambda req: Reply(
        status=503, headers=[("Retry-After", "2")],
        body={"error": "temporarily_unavailable"})
    h = sidecar.spawn(srv, args=("run",))
    try:
        assert wait_for(lambda: len(srv.requests) >= 5, 20), h.stderr_now()
    finally:
        res = stop(sidecar, h)
    assert res.rc == 0, str(res)
    failed = [r for r in res.records
              if r["msg"].startswith("token refresh failed")]
    waits = [float(re.fullmatch(r"([0-9.]+)s", r["next_try_in"]).group(1))
             for r in failed]
    times = [r.time for r in srv.requests]
    assert len(waits) >= 4, str(res)
    assert all(2.0 <= w <= 3.0 for w in waits), waits
    assert len(set(waits)) > 1, "every retry after exactly %r" % waits
    for w, (a, b) in zip(waits, zip(times, times[1:])):
        assert b - a >= w - 0.1, "retried %.2fs after, told %.1fs" % (
            b - a, w)
