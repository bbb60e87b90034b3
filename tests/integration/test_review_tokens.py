"""Hostile review of several tokens, bounded steps and the listener's ring:
each test is an attack, and asserts what the sidecar should do."""

import os
import socket
import threading
import time

import pytest

from conftest import free_port
from exchange_server import Reply, random_token
from test_health import get
from test_review11 import InterimFlood
from test_run_mode import stop, wait_for
from test_tokens import entry, second_sa, spawn, write_config

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def some_tokens(sidecar, n, name_len=63):
    """n tokens with names of name_len characters, one server each."""
    tokens = []
    for i in range(n):
        srv = sidecar.server()
        d = sidecar.tmp / ("sa-%d" % i)
        d.mkdir(exist_ok=True)
        tok = random_token("sa%d" % i)
        (d / "token").write_text(tok + "\n")
        sidecar.add_secret(tok)
        name = ("t%d-" % i + "x" * name_len)[:name_len]
        tokens.append(entry(sidecar, name, srv, d / "token",
                            sidecar.out_dir / ("token-%d" % i)))
    return tokens


@pytest.mark.parametrize("n,name_len", [(8, 63), (3, 5)])
def test_metrics_fit_for_several_tokens(sidecar, n, name_len):
    """Up to CONFIG_TOKENS_MAX tokens, names as long as allowed: /metrics
    must answer 200, not 503 "metrics do not fit" (from 3 tokens on)."""
    cfg = write_config(sidecar, some_tokens(sidecar, n, name_len))
    port = free_port()
    h = spawn(sidecar, cfg, port=port)
    try:
        assert wait_for(lambda: all(
            (sidecar.out_dir / ("token-%d" % i)).exists()
            for i in range(n)), 10), h.stderr_now()
        status, _, text = get(port, "/metrics")
        assert status == 200, text
    finally:
        stop(sidecar, h)


def test_a_token_path_that_is_another_tokens_expiry_record(sidecar):
    """Token b's output is the file where token a records its expiry
    (.NAME.expiry beside a's token): a's refresh overwrites b's token.
    The configuration must be refused, like two tokens naming one file."""
    a = sidecar.server()
    b = sidecar.server()
    sa_b, _ = second_sa(sidecar)
    out_b = sidecar.out_dir / (".%s.expiry" % sidecar.out_path.name)
    # b first: `once` runs the tokens in order, so a writes last.
    cfg = write_config(sidecar, [
        entry(sidecar, "app-b", b, sa_b, out_b),
        entry(sidecar, "app-a", a, sidecar.sa_path, sidecar.out_path)])
    res = sidecar.run(None, env={"CONFIG_PATH": str(cfg)},
                      unset=("SA_TOKEN_PATH", "OUTPUT_TOKEN_PATH",
                             "EXCHANGE_TIMEOUT", "CA_BUNDLE_PATH",
                             "EXCHANGE_URL", "ALLOW_INSECURE_HTTP"),
                      check_leaks=False)
    # Before the fix: rc 0, and b's file held a's expiry ("1796127143\n").
    assert res.rc == 2, str(res)
    assert "tokens app-b and app-a both write" in res.stderr, str(res)
    assert not out_b.exists() and not a.requests and not b.requests


def stalled_cpu(sidecar, reply, settle=1.0, window=3.0):
    """CPU seconds the sidecar burns over `window` while its one server
    stalls as `reply` says, after `settle`."""
    srv = sidecar.server()
    srv.push(reply)
    h = sidecar.spawn(srv, args=("run",), env={"EXCHANGE_TIMEOUT": "30s"})
    try:
        assert wait_for(lambda: len(srv.requests) >= 1 or
                        reply.action == "silent_after_handshake", 5)
        time.sleep(settle)
        c0 = cpu_seconds(h.proc.pid)
        time.sleep(window)
        used = cpu_seconds(h.proc.pid) - c0
    finally:
        stop(sidecar, h, within=2.0)
    return used


def test_no_busy_loop_while_the_server_stalls_after_headers(sidecar):
    used = stalled_cpu(sidecar, Reply(action="headers_then_stall"))
    assert used < 0.1, "%.2f s of CPU in 3 s of a stalled server" % used


def test_no_busy_loop_while_the_server_is_silent_after_handshake(sidecar):
    used = stalled_cpu(sidecar, Reply(action="silent_after_handshake"))
    assert used < 0.1, "%.2f s of CPU in 3 s of a silent server" % used


def test_one_byte_clients_do_not_keep_probes_out(sidecar):
    """Clients that send one byte and stall, many more than 4 slots: a
    probe that sends its request at once is still answered."""
    srv = sidecar.server(expires_in=3600)
    port = free_port()
    h = sidecar.spawn(srv, args=("run",),
                      env={"HEALTH_ADDR": "127.0.0.1:%d" % port})
    held = []
    try:
        assert wait_for(lambda: len(srv.requests) >= 1, 5)
        time.sleep(0.3)
        failed = 0
        for _ in range(50):
            for _ in range(8):
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"G")
                held.append(s)
            try:
                status, _, _ = get(port, "/livez", timeout=1.0)
                failed += status != 200
            except OSError:
                failed += 1
        assert failed == 0, "%d of 50 probes failed" % failed
    finally:
        for s in held:
            s.close()
        stop(sidecar, h)


def test_listener_leaks_no_descriptors_under_a_flood(sidecar):
    srv = sidecar.server(expires_in=3600)
    port = free_port()
    h = sidecar.spawn(srv, args=("run",),
                      env={"HEALTH_ADDR": "127.0.0.1:%d" % port})
    try:
        assert wait_for(lambda: len(srv.requests) >= 1, 5)
        assert wait_for(lambda: get(port, "/livez")[0] == 200, 2)
        fd_dir = "/proc/%d/fd" % h.proc.pid
        before = len(os.listdir(fd_dir))
        socks = []
        for i in range(300):
            s = socket.create_connection(("127.0.0.1", port))
            if i % 3 == 0:
                s.sendall(b"GET /livez HTTP/1.1\r\n")
            elif i % 3 == 1:
                s.shutdown(socket.SHUT_WR)
            socks.append(s)
        for s in socks:
            s.close()
        # Every one of them gone after the client deadline (2 s).
        assert wait_for(lambda: len(os.listdir(fd_dir)) <= before, 4), \
            "%d descriptors before, %d after" % (
                before, len(os.listdir(fd_dir)))
    finally:
        stop(sidecar, h)


def stop_under(sidecar, h, flood):
    """SIGTERM while `flood` still floods: stopped within 1 s."""
    try:
        stop(sidecar, h, within=1.0)
    finally:
        flood.stop()


def test_one_tokens_flooding_server_does_not_delay_another(sidecar):
    """Token a's server sends 100 Continue without end (a 30 s timeout):
    token b, on a 2 s lifetime, still refreshes on time, probes answer,
    and SIGTERM is quick."""
    flood = InterimFlood()
    b = sidecar.server(expires_in=2)
    sa_b, _ = second_sa(sidecar)
    a_entry = entry(sidecar, "app-a", b, sidecar.sa_path, sidecar.out_path,
                    exchange_url=flood.url(), exchange_timeout="30s",
                    allow_insecure_http=True)
    del a_entry["ca_bundle_path"]
    cfg = write_config(sidecar, [
        a_entry, entry(sidecar, "app-b", b, sa_b,
                       sidecar.out_dir / "token-b")])
    port = free_port()
    h = spawn(sidecar, cfg, port=port)
    try:
        assert wait_for(lambda: len(b.requests) >= 1, 3), h.stderr_now()
        t0 = time.monotonic()
        assert wait_for(lambda: len(b.requests) >= 4, 5), \
            "b: %d exchanges in %.1f s\n%s" % (
                len(b.requests), time.monotonic() - t0, h.stderr_now())
        for _ in range(5):
            assert get(port, "/livez", timeout=1.0)[0] == 200
    finally:
        stop_under(sidecar, h, flood)


def test_sigterm_under_one_tokens_flood_alone(sidecar):
    """The same flood, one token, a 30 s timeout: SIGTERM within 1 s."""
    flood = InterimFlood()
    h = sidecar.spawn(None, args=("run",), env={
        "EXCHANGE_URL": flood.url(), "ALLOW_INSECURE_HTTP": "true",
        "CA_BUNDLE_PATH": None, "EXCHANGE_TIMEOUT": "30s"})
    try:
        time.sleep(1.5)
    finally:
        stop_under(sidecar, h, flood)


def test_sigterm_under_a_connect_flood_on_the_listener(sidecar):
    """Clients that connect and close without end keep the listener
    readable: SIGTERM must still stop the sidecar within 1 s."""
    srv = sidecar.server(expires_in=3600)
    port = free_port()
    h = sidecar.spawn(srv, args=("run",),
                      env={"HEALTH_ADDR": "127.0.0.1:%d" % port})
    done = threading.Event()

    def flooder():
        while not done.is_set():
            try:
                s = socket.create_connection(("127.0.0.1", port), 0.5)
                s.close()
            except OSError:
                pass

    threads = [threading.Thread(target=flooder) for _ in range(4)]
    try:
        assert wait_for(lambda: len(srv.requests) >= 1, 5)
        for t in threads:
            t.start()
        time.sleep(1.0)
        stop(sidecar, h, within=1.0)
    finally:
        done.set()
        for t in threads:
            t.join()


def test_clients_that_do_not_read_metrics_do_not_keep_probes_out(sidecar):
    """Four clients ask for /metrics of 8 tokens (44 KB) with a receive
    buffer of a few bytes and never read: the answer outgrows the socket
    buffers, and each holds a slot while it is written. A probe must
    still be answered."""
    cfg = write_config(sidecar, some_tokens(sidecar, 8))
    port = free_port()
    h = spawn(sidecar, cfg, port=port)
    held = []
    try:
        assert wait_for(lambda: all(
            (sidecar.out_dir / ("token-%d" % i)).exists()
            for i in range(8)), 10), h.stderr_now()
        for _ in range(4):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            held.append(s)
        time.sleep(0.3)
        status, _, body = get(port, "/livez", timeout=1.0)
        assert status == 200, body
    finally:
        for s in held:
            s.close()
        stop(sidecar, h)
