#!/usr/bin/python3
"""Memory and CPU of the sidecar, the figures behind the manifests'
resources: requests and limits.

    /usr/bin/python3 tests/manifests/measure.py [build/tokenbridge-sidecar]

Against a local HTTPS exchange server (ECDSA P-256 chain, TLS 1.2), with
two CA bundles: the one root a kube-root-ca.crt ConfigMap holds, and
Debian's full bundle (what a trust-manager Bundle with public roots holds).

* `once`: VmHWM read from /proc at the moment the process exits (it runs
  under ptrace with PTRACE_O_TRACEEXIT, which stops it there with its
  memory intact; wait4's ru_maxrss would report the forking Python's), and
  CPU time from wait4() (including the short-lived resolver child, which
  the sidecar waits for), over several runs.
* `run`: the server issues tokens valid for 2 s, so the sidecar refreshes
  about once a second; VmHWM and smaps_rollup are read from /proc while it
  runs, and CPU per refresh is the growth of utime+stime+cutime+cstime
  (/proc/PID/stat) over the refreshes, divided by their number.
* probes, against a server issuing 1 h tokens (no refresh while measuring):
  an exec probe is `check` run PROBE_RUNS times (VmHWM at exit and CPU
  from wait4, as for `once`); an httpGet probe is PROBE_GETS GETs of each
  path to `run`'s listener (HEALTH_ADDR), costed as the growth of the
  sidecar's own utime+stime and its Rss before and after. Then the idle
  listener: the system calls strace -f sees in IDLE_SECONDS (0 expected).
  Neither counts what the node pays around a probe: the runtime's exec
  (runc, a process in the container's cgroup) or the kubelet's GET.
"""

import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import certs  # noqa: E402
from conftest import free_port  # noqa: E402
from exchange_server import ExchangeServer, server_context  # noqa: E402
from probes import http_get, idle_syscalls  # noqa: E402

DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ONCE_RUNS = 20
RUN_SECONDS = 30
PROBE_RUNS = 50
PROBE_GETS = 2000
IDLE_SECONDS = 5
TICK = os.sysconf("SC_CLK_TCK")


def proc_kb(pid, name, field):
    with open("/proc/%d/%s" % (pid, name)) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def cpu_s(pid, children=True):
    """utime+stime of pid, and of its waited-for children unless told."""
    with open("/proc/%d/stat" % pid) as f:
        # After the ")" of comm: fields 14-17 of proc(5) are at 11..14.
        rest = f.read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in rest[11:15 if children else 13]) / TICK


libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p,
                        ctypes.c_void_p]
PTRACE_TRACEME, PTRACE_CONT, PTRACE_SETOPTIONS = 0, 7, 0x4200
PTRACE_O_TRACEEXIT, PTRACE_EVENT_EXIT = 0x40, 6


def ptrace(req, pid, data=0):
    if libc.ptrace(req, pid, None, data) == -1:
        raise OSError(ctypes.get_errno(), "ptrace %d" % req)


def run_to_exit(binary, args, env):
    """Run binary; return (exit status, VmHWM in KiB at exit, rusage)."""
    null = os.open(os.devnull, os.O_RDWR)
    pid = os.fork()
    if pid == 0:
        try:
            for fd in (0, 1, 2):
                os.dup2(null, fd)
            ptrace(PTRACE_TRACEME, 0)
            os.execve(binary, [binary, *args], env)
        finally:
            os._exit(127)
    os.close(null)
    hwm = None
    _, status = os.waitpid(pid, 0)          # the exec's SIGTRAP
    ptrace(PTRACE_SETOPTIONS, pid, PTRACE_O_TRACEEXIT)
    ptrace(PTRACE_CONT, pid)
    while True:
        _, status, ru = os.wait4(pid, 0)
        if not os.WIFSTOPPED(status):
            return os.waitstatus_to_exitcode(status), hwm, ru
        sig = os.WSTOPSIG(status)
        if sig == signal.SIGTRAP and status >> 16 == PTRACE_EVENT_EXIT:
            hwm = proc_kb(pid, "status", "VmHWM")
            sig = 0
        ptrace(PTRACE_CONT, pid, sig)     # pass other signals on


def measure_once(binary, env):
    rss, cpu = [], []
    for _ in range(ONCE_RUNS):
        status, hwm, ru = run_to_exit(binary, ["once"], env)
        if status != 0:
            sys.exit("measure: `once` exited %d" % status)
        rss.append(hwm)
        cpu.append(ru.ru_utime + ru.ru_stime)
    return max(rss), sum(cpu) / len(cpu), max(cpu)


def measure_run(binary, env, server):
    before = len(server.requests)
    p = subprocess.Popen([binary, "run"], env=env, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not server.wait_requests(before + 1, timeout=10):
            sys.exit("measure: `run` made no request")
        time.sleep(0.2)
        first, cpu0 = len(server.requests), cpu_s(p.pid)
        hwm = rss_max = pss_max = 0
        end = time.monotonic() + RUN_SECONDS
        while time.monotonic() < end:
            hwm = proc_kb(p.pid, "status", "VmHWM")
            rss_max = max(rss_max, proc_kb(p.pid, "smaps_rollup", "Rss"))
            pss_max = max(pss_max, proc_kb(p.pid, "smaps_rollup", "Pss"))
            time.sleep(0.05)
        refreshes = len(server.requests) - first
        cpu = cpu_s(p.pid) - cpu0
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=5)
    return hwm, rss_max, pss_max, refreshes, cpu / max(refreshes, 1)


def measure_exec_probe(binary, env):
    """(max VmHWM KiB, average CPU s) of `check` over PROBE_RUNS runs."""
    rss, cpu = [], []
    for _ in range(PROBE_RUNS):
        status, hwm, ru = run_to_exit(binary, ["check"], env)
        if status != 0:
            sys.exit("measure: `check` exited %d" % status)
        rss.append(hwm)
        cpu.append(ru.ru_utime + ru.ru_stime)
    return max(rss), sum(cpu) / len(cpu)


def measure_get(pid, port, path):
    """(sidecar CPU s per GET, Rss KiB before, after) over PROBE_GETS."""
    rss0, cpu0 = proc_kb(pid, "smaps_rollup", "Rss"), cpu_s(pid, False)
    for _ in range(PROBE_GETS):
        status, body = http_get("127.0.0.1", port, path, 1)
        if status != 200:
            sys.exit("measure: GET %s: %s %s" % (path, status, body))
    cpu = cpu_s(pid, False) - cpu0
    return cpu / PROBE_GETS, rss0, proc_kb(pid, "smaps_rollup", "Rss")


def measure_probes(binary, env, chain):
    """Print an exec probe's cost against an httpGet probe's, and the idle
    listener's system calls."""
    with ExchangeServer(server_context(chain.server_chain, chain.server_key),
                        expires_in=3600) as server:
        port = free_port()
        env = dict(env, EXCHANGE_URL=server.url("/v1/token"),
                   REFRESH_INTERVAL="1h", HEALTH_ADDR="127.0.0.1:%d" % port)
        p = subprocess.Popen([binary, "run"], env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            end = time.monotonic() + 10
            while http_get("127.0.0.1", port, "/readyz", 1)[0] != 200:
                if time.monotonic() > end:
                    sys.exit("measure: /readyz never answered 200")
                time.sleep(0.05)
            hwm, cpu = measure_exec_probe(binary, env)
            print("exec probe (`check`): VmHWM %d KiB (max of %d runs), CPU "
                  "%.2f ms average" % (hwm, PROBE_RUNS, cpu * 1e3))
            for path in ("/readyz", "/livez", "/metrics"):
                per, rss0, rss1 = measure_get(p.pid, port, path)
                print("httpGet %-8s: sidecar CPU %.1f us per GET (%d GETs), "
                      "Rss %d -> %d KiB" % (path, per * 1e6, PROBE_GETS,
                                            rss0, rss1))
            calls = idle_syscalls(p.pid, IDLE_SECONDS)
            print("idle listener: %d system calls in %d s (strace -f)%s" %
                  (len(calls), IDLE_SECONDS,
                   "".join("\n  " + c for c in calls[:10])))
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=5)


def main(argv):
    binary = os.path.abspath(argv[1] if len(argv) > 1 else
                             os.path.join(ROOT, "build", "tokenbridge-sidecar"))
    work = tempfile.mkdtemp(prefix="tokenbridge-measure-")
    try:
        chain = certs.make_chain(os.path.join(work, "pki"), "ec")
        full = os.path.join(work, "full-bundle.pem")
        with open(full, "wb") as w:
            for path in (DEBIAN_BUNDLE, chain.root_cert):
                with open(path, "rb") as r:
                    w.write(r.read())
        sa = os.path.join(work, "sa-token")
        with open(sa, "w") as f:
            f.write("eyJhbGciOiJSUzI1NiJ9.%s.%s" % (
                secrets.token_urlsafe(600), secrets.token_urlsafe(256)))
        with ExchangeServer(server_context(chain.server_chain,
                                           chain.server_key),
                            expires_in=2) as server:
            print("binary: %s, %d bytes" % (binary, os.path.getsize(binary)))
            for label, bundle in (("1 root (kube-root-ca.crt)",
                                   chain.root_cert),
                                  ("Debian bundle + 1 root", full)):
                env = {"SA_TOKEN_PATH": sa,
                       "OUTPUT_TOKEN_PATH": os.path.join(work, "token"),
                       "EXCHANGE_URL": server.url("/v1/token"),
                       "AUDIENCE": "my-service",
                       "CA_BUNDLE_PATH": bundle,
                       "TOKEN_FILE_MODE": "0640"}
                rss, cpu_avg, cpu_max = measure_once(binary, env)
                print("once, %s: VmHWM %d KiB (max of %d runs), CPU "
                      "%.1f ms average, %.1f ms max" %
                      (label, rss, ONCE_RUNS, cpu_avg * 1e3, cpu_max * 1e3))
                hwm, rss_max, pss_max, n, per = measure_run(binary, env,
                                                            server)
                print("run,  %s: VmHWM %d KiB, Rss max %d KiB, Pss max "
                      "%d KiB; %d refreshes in %d s, CPU %.1f ms per "
                      "refresh" % (label, hwm, rss_max, pss_max, n,
                                   RUN_SECONDS, per * 1e3))
                measure_probes(binary, env, chain)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
