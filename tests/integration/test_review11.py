"""Review 11 of the one-loop change: hostile servers and listener clients
that the state machine and the listener must survive. Each test names the
finding it reproduces."""

import os
import signal
import socket
import subprocess
import threading
import time

from conftest import free_port
from test_health import get, spawn_with_listener
from test_run_mode import stop, wait_for

INTERIM = b"HTTP/1.1 100 Continue\r\n\r\n"


class InterimFlood:
    """A plain HTTP server that reads the request, then sends 100 Continue
    answers for as long as the client reads them: never a final answer."""

    def __init__(self):
        self.ls = socket.socket()
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(8)
        self.port = self.ls.getsockname()[1]
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/token" % self.port

    def _serve(self):
        self.ls.settimeout(0.2)
        while not self.done.is_set():
            try:
                c, _ = self.ls.accept()
            except OSError:
                continue
            threading.Thread(target=self._flood, args=(c,), daemon=True).start()

    def _flood(self, c):
        c.settimeout(1)
        try:
            c.recv(65536)
            chunk = INTERIM * 2000
            while not self.done.is_set():
                c.sendall(chunk)
        except OSError:
            pass
        finally:
            c.close()

    def stop(self):
        self.done.set()
        self.ls.close()


def flood_env(flood):
    return {"EXCHANGE_URL": flood.url(), "ALLOW_INSECURE_HTTP": "true",
            "CA_BUNDLE_PATH": None, "EXCHANGE_TIMEOUT": "1s"}


def test_interim_flood_is_bounded_by_the_deadline_once(sidecar):
    """F1: endless 1xx answers keep http_call_step reading for ever: the
    exchange outlives EXCHANGE_TIMEOUT and the CPU is pinned."""
    flood = InterimFlood()
    try:
        res = sidecar.run(env=flood_env(flood), timeout=6)
    finally:
        flood.stop()
    assert res.rc == 1 and res.elapsed < 2.5, str(res)
    assert len(res.errors) == 1 and \
        "more than 5 informational" in res.errors[0]["error"], str(res)


def test_interim_flood_leaves_sigterm_and_probes_working(sidecar):
    """F1 in run mode: the loop never gets back to ppoll (where SIGTERM is
    unblocked), so the listener stops answering and SIGTERM is ignored."""
    flood = InterimFlood()
    try:
        h, port = spawn_with_listener(sidecar, None, **flood_env(flood))
        try:
            time.sleep(0.5)
            assert get(port, "/livez", timeout=1)[0] == 200
            assert wait_for(lambda: "token refresh failed" in h.stderr_now(),
                            3), h.stderr_now()
        finally:
            res = stop(sidecar, h)
    finally:
        flood.stop()
    assert res.rc == 0, str(res)


def test_a_connect_flood_does_not_starve_probes(sidecar):
    """F2: a new connection evicts the oldest client still sending its
    request, even one accepted a moment ago in the same wakeup: clients
    that connect and send nothing, fast enough, cut every probe off."""
    srv = sidecar.server(expires_in=3600)
    h, port = spawn_with_listener(sidecar, srv)
    stop_flood = threading.Event()

    def flooder():
        held = []
        while not stop_flood.is_set():
            try:
                held.append(socket.create_connection(("127.0.0.1", port),
                                                     timeout=1))
            except OSError:
                pass
            if len(held) > 64:
                held.pop(0).close()
        for s in held:
            s.close()

    try:
        assert wait_for(lambda: "token written" in h.stderr_now(), 5)
        threads = [threading.Thread(target=flooder) for _ in range(4)]
        for t in threads:
            t.start()
        failed = 0
        for _ in range(20):
            try:
                if get(port, "/livez", timeout=1)[0] != 200:
                    failed += 1
            except (OSError, Exception):
                failed += 1
        stop_flood.set()
        for t in threads:
            t.join()
    finally:
        stop_flood.set()
        res = stop(sidecar, h)
    assert failed <= 2, "%d of 20 probes failed under a connect flood" % failed
    assert res.rc == 0, str(res)


def test_the_resolver_child_holds_no_listener_and_no_token(sidecar):
    """F3: the resolver is a fork() without exec: it inherits the health
    listener, its clients, the timers, the token directory and a copy of
    the ServiceAccount token, and outlives a SIGKILLed parent with the
    health port still bound (a restarted container cannot listen)."""
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.77", 53))      # a DNS server that never answers
    port = free_port()
    h = sidecar.spawn(None, args=("run",), resolv_conf="nameserver 127.0.0.77\n",
                      env={"EXCHANGE_URL": "http://tb-review.invalid/token",
                           "ALLOW_INSECURE_HTTP": "true", "CA_BUNDLE_PATH": None,
                           "EXCHANGE_TIMEOUT": "30s",
                           "HEALTH_ADDR": "127.0.0.1:%d" % port})
    try:
        # The child's own DNS socket is fine; what the parent has open
        # (but the answer pipe and the standard streams) is not. A child
        # may be gone between two readings (a retry forks a new one):
        # read one that is there.
        kid_fds = []

        def sample():
            parent = set(fd_targets(h.proc.pid))
            for kid in children(h.proc.pid):
                try:
                    kid_fds[:] = [f for f in fd_targets(kid) if f in parent]
                    return True
                except FileNotFoundError:
                    continue
            return False
        assert wait_for(sample, 5), h.stderr_now()
        held = [f for f in kid_fds if
                f.startswith(("socket:", "anon_inode:")) or
                f.startswith(str(sidecar.out_path.parent))]
        assert not held, "the resolver child holds %r" % held
    finally:
        h.proc.send_signal(signal.SIGTERM)
        sidecar.finish(h, timeout=5)
        dns.close()


def children(pid):
    out = subprocess.run(["ps", "--ppid", str(pid), "-o", "pid="],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def fd_targets(pid):
    return [os.readlink("/proc/%d/fd/%s" % (pid, f))
            for f in os.listdir("/proc/%d/fd" % pid)]
