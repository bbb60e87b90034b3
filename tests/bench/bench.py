#!/usr/bin/python3
"""make bench: tokenbridge-sidecar against curl, measured in the same run.

    /usr/bin/python3 tests/bench/bench.py --binary build/tokenbridge-sidecar

Builds nothing but a linker map of the binary `make` built (and, when
Debian's Go is installed, tests/bench/gosidecar). It starts the
integration suite's exchange server on loopback for an ECDSA P-256 chain
and an RSA 2048 chain (the budgets' chains), and for the hard cases a
P-384 chain (BearSSL 0.6 has no fast P-384 code) and an RSA 4096 chain
(root -> intermediate -> leaf for `localhost`; the server sends leaf +
intermediate) and measures, per chain:

* CPU time per exchange (user + sys from wait4's rusage, which includes
  reaped grandchildren such as the sidecar's resolver), `once` and curl
  alternating run by run, with the Debian CA bundle plus the test root and
  with the test root alone (a one-root bundle, as the namespace's
  `kube-root-ca.crt`, where curl's OpenSSL loads fast: the ratio says who
  wins);
* instructions (callgrind; the largest per-process total, i.e. the parent
  rather than its forked resolver), and the sidecar's CA bundle loading as
  the difference between the two bundles;
* peak resident memory at exit, stopped there with ptrace
  (PTRACE_O_TRACEEXIT): VmHWM from /proc/PID/status and Rss/Pss from
  /proc/PID/smaps_rollup, not ru_maxrss, which counts the parent's pages
  from before exec.

Then `run` mode: resident memory after the first exchange and after N
refreshes of a 3 s token, and, with an hour-long token, the CPU ticks and
system calls of the idle process; the cost of one probe, `check` run as
a process against a GET of /readyz on the health listener (HEALTH_ADDR),
when the build has one; and a Go equivalent of the original sidecar's
exchange (tests/bench/gosidecar: Go's default net/http client), built
with Debian's Go, in the same run. The size of the binary and of its parts
(from a linker map) comes first. Everything goes to stdout as Markdown
and to build/bench.md.

The figures are reported, never asserted: the bench exits 0 unless a
measurement itself failed.
"""

import argparse
import ctypes
import datetime
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import certs  # noqa: E402
from exchange_server import ExchangeServer, server_context  # noqa: E402

DEBIAN_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
BUNDLES = ("full", "root")
BUNDLE_NAMES = {"full": "Debian bundle + test root",
                "root": "one root (the test root alone)"}
# (key, name, certs.py flavour, held to the budgets)
CHAINS = (("ec", "ECDSA P-256", "ec", True),
          ("rsa", "RSA 2048", "rsa", True),
          ("ec384", "ECDSA P-384", "ec384", False),
          ("rsa4096", "RSA 4096", "rsa4096", False))
GO_SRC = os.path.join(HERE, "gosidecar")
PROBES = 200                # GETs of /readyz per measurement
CLIENTS = ("sidecar", "curl")

# The targets of issue 6.
# The budgets of issue 14 (footprint).
TARGET_BINARY_BYTES = 150 * 1000
TARGET_CPU_RATIO = 6.0
TARGET_PEAK_KIB = {"full": 300, "root": 230}
TARGET_ECDSA_INSTR = 38e6
TARGET_BUNDLE_SHARE = 0.10
RSS_FLAT_KIB = 4            # "flat": grows by at most one page

TOKEN_WRITTEN = 'msg="token written"'


# ---------------------------------------------------------------- helpers

def fmt_int(n):
    return "{:,}".format(n)


def fmt_ms(seconds):
    return "%.2f ms" % (seconds * 1e3)


def fmt_minstr(n):
    return "%.1f M" % (n / 1e6)


def fmt_ratio(x):
    return "%.1f×" % x


def spread(samples):
    """(median, p10, p90) of a list of numbers."""
    deciles = statistics.quantiles(samples, n=10, method="inclusive")
    return statistics.median(samples), deciles[0], deciles[-1]


def read_kib(path):
    """{key: value} of a /proc file of `Key:   123 kB` lines."""
    out = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[key] = int(parts[0])
    return out


def cpu_ticks(pid):
    """utime + stime + cutime + cstime of a live process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:15])


@dataclass
class Memory:
    """Resident memory of one process at one moment, in KiB."""
    hwm: int        # VmHWM: the kernel's high-water mark
    vmrss: int      # VmRSS: the kernel's (batched) counter
    rss: int        # smaps_rollup Rss: exact, now
    pss: int        # smaps_rollup Pss: shared pages divided among sharers
    # smaps_rollup Anonymous: the pages no other process can share, what
    # each pod of a fleet pays for itself (the binary's pages are shared
    # through the page cache by every pod of a node that runs the image)
    anon: int

    peak: int = 0   # largest Rss seen at a system call (memory_at_exit)

    @classmethod
    def of(cls, pid):
        status = read_kib("/proc/%d/status" % pid)
        rollup = read_kib("/proc/%d/smaps_rollup" % pid)
        return cls(status["VmHWM"], status["VmRSS"], rollup["Rss"],
                   rollup["Pss"], rollup["Anonymous"])


class BenchError(RuntimeError):
    pass


def tail(path, n=2000):
    with open(path, errors="replace") as f:
        return f.read()[-n:]


# ---------------------------------------------------------------- processes

@dataclass
class Command:
    argv: List[str]             # argv[0] is an absolute path
    env: Dict[str, str]
    log: str                    # stdout and stderr go here
    check: Optional[Callable[[], None]] = None  # raises on a bad result


def run_timed(cmd):
    """Run cmd; its CPU time (user + sys, reaped descendants included)."""
    pid = os.posix_spawn(cmd.argv[0], cmd.argv, cmd.env, file_actions=[
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, cmd.log,
         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2)])
    _, status, usage = os.wait4(pid, 0)
    finish(cmd, os.waitstatus_to_exitcode(status))
    return usage.ru_utime + usage.ru_stime


def finish(cmd, rc):
    if rc != 0:
        raise BenchError("%s exited %d:\n%s" % (
            " ".join(cmd.argv), rc, tail(cmd.log)))
    if cmd.check:
        cmd.check()


def callgrind(cmd, outdir):
    """Instructions executed by cmd (see callgrind_totals)."""
    os.makedirs(outdir)
    argv = ["valgrind", "--tool=callgrind",
            "--callgrind-out-file=%s/cg.%%p" % outdir] + cmd.argv
    with open(cmd.log, "wb") as log:
        rc = subprocess.run(argv, env=cmd.env, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log).returncode
    finish(cmd, rc)
    return callgrind_totals(outdir)


# ptrace(2) through the C library: stop the process at every system call
# and at its exit, while its memory is still mapped, and read /proc there.
PTRACE_TRACEME, PTRACE_SYSCALL, PTRACE_SETOPTIONS = 0, 24, 0x4200
PTRACE_O_TRACESYSGOOD, PTRACE_O_TRACEEXIT = 0x1, 0x40
PTRACE_O_EXITKILL = 0x100000
PTRACE_EVENT_EXIT = 6
_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long


def _ptrace(request, pid, data=0):
    if _libc.ptrace(ctypes.c_long(request), ctypes.c_long(pid),
                    ctypes.c_void_p(0), ctypes.c_void_p(data)) == -1:
        err = ctypes.get_errno()
        raise OSError(err, "ptrace(%d): %s" % (request, os.strerror(err)))


def memory_at_exit(cmd, peak_only=False):
    """Run cmd under ptrace; its Memory at the moment it exits, with the
    exact peak Rss: resident memory grows by page faults but shrinks only
    in a system call (munmap, brk, madvise...), so the largest Rss seen at
    the system call stops is the peak. VmHWM is not: the kernel updates
    the high-water mark only on some of those paths."""
    pid = os.fork()
    if pid == 0:        # the child: redirect, ask to be traced, exec
        try:
            os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
            fd = os.open(cmd.log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            _ptrace(PTRACE_TRACEME, 0)
            os.execve(cmd.argv[0], cmd.argv, cmd.env)
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)          # stopped by the exec's SIGTRAP
    if not os.WIFSTOPPED(status):
        raise BenchError("%s did not start under ptrace (status %#x)" %
                         (cmd.argv[0], status))
    _ptrace(PTRACE_SETOPTIONS, pid, PTRACE_O_TRACESYSGOOD |
            PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL)
    syscall_stop = signal.SIGTRAP | 0x80
    exit_stop = signal.SIGTRAP | (PTRACE_EVENT_EXIT << 8)
    memory, peak, deliver = None, 0, 0
    while True:
        _ptrace(PTRACE_SYSCALL, pid, deliver)
        _, status = os.waitpid(pid, 0)
        if not os.WIFSTOPPED(status):
            break
        deliver = 0
        if os.WSTOPSIG(status) == syscall_stop:
            rollup = read_kib("/proc/%d/smaps_rollup" % pid)
            peak = max(peak, rollup["Rss"])
        elif status >> 8 == exit_stop:
            memory = Memory.of(pid)
        else:                               # a signal: pass it on
            deliver = os.WSTOPSIG(status)
    finish(cmd, os.waitstatus_to_exitcode(status))
    if memory is None and peak_only:
        # A multi-threaded program (Go's runtime) may end from a thread
        # that is not traced, so that the traced one gets no exit stop:
        # the peak seen at its system calls is all there is.
        memory = Memory(0, 0, peak, 0, 0)
    if memory is None:
        raise BenchError("%s ended without an exit stop" % cmd.argv[0])
    memory.peak = max(peak, memory.rss)
    return memory


# ---------------------------------------------------------------- setup

@dataclass
class Endpoint:
    """One exchange server and the CA bundles that trust it."""
    name: str
    server: ExchangeServer
    bundles: Dict[str, str]
    budget: bool = True     # counted in the targets line


class Bench:
    """The processes under comparison and where they run."""

    def __init__(self, binary, work):
        self.binary = binary
        self.work = work
        self.curl = shutil.which("curl")
        self.sa_token = os.path.join(work, "sa-token")
        with open(self.sa_token, "w") as f:   # the size of a real one
            f.write("eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0." + "x" * 700 +
                    "." + "s" * 342 + "\n")
        self.endpoints = {}
        self.curl_headers: List[str] = []
        self.body_file = os.path.join(work, "form-body")
        self.servers = []

    def server(self, chain, expires_in):
        srv = ExchangeServer(server_context(chain.server_chain,
                                            chain.server_key),
                             expires_in=expires_in)
        srv.start()
        self.servers.append(srv)
        return srv

    def add_endpoint(self, key, name, flavour, budget=True):
        chain = certs.make_chain(os.path.join(self.work, "pki"), flavour)
        full = os.path.join(self.work, "bundle-%s.pem" % key)
        with open(full, "wb") as out:
            for path in (DEBIAN_BUNDLE, chain.root_cert):
                with open(path, "rb") as f:
                    out.write(f.read())
        self.endpoints[key] = Endpoint(
            name, self.server(chain, 3600),
            {"full": full, "root": chain.root_cert}, budget)
        return chain

    def stop(self):
        for srv in self.servers:
            srv.stop()

    def sidecar_env(self, url, bundle, **extra):
        env = {"SA_TOKEN_PATH": self.sa_token,
               "OUTPUT_TOKEN_PATH": os.path.join(self.work, "out", "token"),
               "EXCHANGE_URL": url, "CA_BUNDLE_PATH": bundle,
               "EXCHANGE_TIMEOUT": "30s"}
        env.update(extra)
        return env

    def sidecar(self, ep, bundle):
        return Command([self.binary, "once"],
                       self.sidecar_env(ep.server.url(), ep.bundles[bundle]),
                       os.path.join(self.work, "sidecar.log"))

    def curl_cmd(self, ep, bundle):
        """The sidecar's POST through curl: same body, same headers as far
        as curl lets them be set, same CA bundle, TLS 1.2 like BearSSL."""
        out = os.path.join(self.work, "curl.out")

        def check():
            with open(out) as f:
                if "access_token" not in json.load(f):
                    raise BenchError("curl got no access_token")
        argv = [self.curl, "-sS", "--fail", "--tlsv1.2", "--tls-max", "1.2",
                "--cacert", ep.bundles[bundle], "-o", out,
                "--data-binary", "@" + self.body_file]
        for h in self.curl_headers:
            argv += ["-H", h]
        return Command(argv + [ep.server.url()],
                       {"PATH": "/usr/bin:/bin"},
                       os.path.join(self.work, "curl.log"), check)

    def command(self, client, ep, bundle):
        return (self.sidecar if client == "sidecar" else self.curl_cmd)(
            ep, bundle)

    def learn_request(self, ep):
        """Run the sidecar once and give curl what it sent; return how the
        two requests differ and what each negotiated."""
        srv = ep.server
        run_timed(self.sidecar(ep, "root"))
        ours = srv.requests[-1]
        with open(self.body_file, "wb") as f:
            f.write(ours.body)
        self.curl_headers = ["%s: %s" % (k, v) for k, v in ours.headers
                             if k.lower() not in ("host", "content-length")]
        run_timed(self.curl_cmd(ep, "root"))
        theirs = srv.requests[-1]
        if theirs.body != ours.body:
            raise BenchError("curl sent another body than the sidecar")
        mine, other = set(ours.headers), set(theirs.headers)
        return {"only sidecar": sorted(mine - other),
                "only curl": sorted(other - mine),
                "sidecar TLS": "%s %s" % (ours.tls_version, ours.cipher),
                "curl TLS": "%s %s" % (theirs.tls_version, theirs.cipher)}


# ---------------------------------------------------------------- size

# The release build without link-time optimisation, in a tree of its own:
# with LTO the linker map holds partitions of our code and BearSSL mixed,
# which no component can be told from.
NOLTO_DIR = "build/bench/nolto"
NOLTO = ("B=" + NOLTO_DIR, "REL_OPT=-Oz")


def make_eval(overrides=(), **expressions):
    """{name: value} of Makefile expressions, expanded by make itself (with
    `overrides`, VAR=value), so that the bench links exactly as the
    Makefile does."""
    script = "bench-print:\n" + "".join(
        "\t@echo '%s=%s'\n" % kv for kv in expressions.items())
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", REPO, "-f", "Makefile",
         "-f", "-"] + list(overrides) + ["bench-print"], input=script,
        text=True,
        stdout=subprocess.PIPE, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines())


def elf_facts(path):
    """(the program interpreter the binary requests, or None when it is
    static; whether it is stripped)."""
    out = subprocess.run(["readelf", "-lSW", path], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", out)
    return (m.group(1) if m else None), " .symtab " not in out


def with_libraries(path):
    """(total bytes of path and its shared libraries, library count)."""
    out = subprocess.run(["ldd", path], stdout=subprocess.PIPE, text=True,
                         stderr=subprocess.DEVNULL).stdout
    libs = {os.path.realpath(m) for m in
            re.findall(r"(/\S+) \(0x", out)} - {os.path.realpath(path)}
    return os.path.getsize(path) + sum(map(os.path.getsize, libs)), len(libs)


def docker_image_size(name="tokenbridge-sidecar"):
    """The local image's size in bytes; None when there is none (or no
    docker daemon)."""
    if not shutil.which("docker"):
        return None
    try:
        proc = subprocess.run(["docker", "image", "inspect", "-f",
                               "{{.Size}}", name], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True,
                              timeout=20)
    except subprocess.TimeoutExpired:
        return None
    return int(proc.stdout) if proc.returncode == 0 else None


SECTION_COLUMNS = {".text": "text", ".rodata": "rodata",
                   ".data.rel.ro": "data", ".data": "data", ".bss": "bss"}
_INPUT_SECTION = re.compile(
    r"^ (\S+)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S.*)$")


def link_map(binary, out_dir, overrides=()):
    """Re-link the sidecar from make's objects, with the Makefile's own
    command plus a linker map. Returns the map's path and whether the
    re-linked file is byte for byte the binary (it is not when the objects
    changed after the binary was linked)."""
    v = make_eval(overrides, link="$(REL_LD) $(REL_LDFLAGS)",
                  inputs="$(REL_START) $(call objs,musl,$(SRCS)) $(BR_MUSL) "
                         "$(REL_END)")
    os.makedirs(out_dir, exist_ok=True)
    map_path = os.path.join(out_dir, "sidecar%s.map" % (
        "-nolto" if overrides else ""))
    twin = os.path.join(out_dir, "tokenbridge-sidecar.relinked")
    subprocess.run(v["link"].split() + ["-o", twin] + v["inputs"].split() +
                   ["-Wl,-Map=" + map_path], cwd=REPO, check=True)
    with open(twin, "rb") as a, open(binary, "rb") as b:
        return map_path, a.read() == b.read()


def size_map(binary, out_dir):
    """The linker map to break the binary down by, and how it was made:
    (map, the re-link is the binary, None) without LTO, else the map of
    the build without LTO and (its size, its sections' bytes, the LTO
    binary's sections' bytes)."""
    map_path, exact = link_map(binary, out_dir)
    if "-flto" not in make_eval(opt="$(REL_OPT)")["opt"]:
        return map_path, exact, None
    target = NOLTO_DIR + "/tokenbridge-sidecar"
    plain = os.path.join(REPO, target)
    subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO] +
                   list(NOLTO) + [target], check=True,
                   stdout=subprocess.DEVNULL)
    map_path, _ = link_map(plain, out_dir, NOLTO)
    return map_path, exact, (os.path.getsize(plain), section_bytes(plain),
                             section_bytes(binary))


def section_bytes(path):
    """text + data of `size`: the bytes of the binary's loaded sections."""
    out = subprocess.run(["size", path], stdout=subprocess.PIPE, text=True,
                         check=True).stdout.splitlines()[1].split()
    return int(out[0]) + int(out[1])


def component(origin, bearssl_dirs):
    """Which part of the program an input file of the link belongs to."""
    m = re.search(r"libbearssl\.a\((\S+)\.o\)", origin)
    if m:
        return "BearSSL " + bearssl_dirs.get(m.group(1), "(other)")
    if re.match(r"build/(\S+/)?obj/musl/", origin):
        return "tokenbridge src/*/*.c"
    if "musl" in origin:
        return "musl libc"
    if "/gcc/" in origin:
        return "gcc runtime (crtbegin/end, libgcc)"
    return "other: " + origin


def size_breakdown(map_path):
    """{component: {column: bytes}} from a GNU ld map, and the shared
    libraries the link used."""
    bearssl_dirs = {}
    for src in glob.glob(os.path.join(
            REPO, "build/third_party/bearssl/src/src/**/*.c"),
            recursive=True):
        rel = os.path.relpath(os.path.dirname(src), os.path.join(
            REPO, "build/third_party/bearssl/src/src"))
        bearssl_dirs[os.path.basename(src)[:-2]] = \
            "(top)" if rel == "." else rel
    sizes = defaultdict(lambda: defaultdict(int))
    shared, column, pending = [], None, ""
    with open(map_path) as f:
        lines = f.read().split("Linker script and memory map",
                               1)[1].splitlines()
    for line in lines:
        if line.startswith("LOAD ") and line.endswith(".so"):
            shared.append(line[5:])
        if line.startswith("."):            # an output section
            column = SECTION_COLUMNS.get(line.split()[0])
            continue
        if re.fullmatch(r" [.\w]\S*", line):  # name alone: figures follow
            pending = line
            continue
        m = _INPUT_SECTION.match(pending + line if pending else line)
        pending = ""
        if m and column:
            sizes[component(m.group(3), bearssl_dirs)][column] += \
                int(m.group(2), 16)
    return sizes, shared


# ---------------------------------------------------------------- run mode

class RunningSidecar:
    """`tokenbridge-sidecar run` in the background, its log in a file."""

    def __init__(self, bench, url, bundle, name, wrapper=(), **env):
        self.log = os.path.join(bench.work, name + ".log")
        out = os.path.join(bench.work, name)
        os.makedirs(out)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                list(wrapper) + [bench.binary, "run"], env=bench.sidecar_env(
                    url, bundle, OUTPUT_TOKEN_PATH=os.path.join(out, "token"),
                    **env),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log)
        self.pid = self.proc.pid

    def written(self):
        with open(self.log, errors="replace") as f:
            return f.read().count(TOKEN_WRITTEN)

    def wait_written(self, n, timeout):
        """Wait for the n-th "token written" line; then let the process
        settle into its sleep."""
        end = time.monotonic() + timeout
        while self.written() < n:
            if self.proc.poll() is not None or time.monotonic() > end:
                raise BenchError("run mode: %d tokens written, wanted %d:\n%s"
                                 % (self.written(), n, tail(self.log)))
            time.sleep(0.05)
        time.sleep(0.2)

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def children(self):
        with open("/proc/%d/task/%d/children" % (self.pid, self.pid)) as f:
            return len(f.read().split())

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=10)
        if rc != 0:
            raise BenchError("run mode: exit status %d after SIGTERM:\n%s" %
                             (rc, tail(self.log)))


def refresh_loop(bench, chain, bundle, refreshes):
    """Memory, descriptors and CPU after the first exchange and after
    `refreshes` more, with a token that lives 3 s."""
    srv = bench.server(chain, 3)
    sc = RunningSidecar(bench, srv.url(), bundle, "run-loop")
    try:
        sc.wait_written(1, 30)
        first = Memory.of(sc.pid)
        ticks0, t0, fds0 = cpu_ticks(sc.pid), time.monotonic(), sc.fds()
        rss_max = first.rss
        for n in range(2, refreshes + 2):
            sc.wait_written(n, 30)
            rss_max = max(rss_max, Memory.of(sc.pid).rss)
        last = Memory.of(sc.pid)
        result = {"first": first, "last": last, "rss_max": rss_max,
                  "fds": (fds0, sc.fds()), "children": sc.children(),
                  "interval": (time.monotonic() - t0) / refreshes,
                  "cpu_per_refresh": (cpu_ticks(sc.pid) - ticks0) /
                  os.sysconf("SC_CLK_TCK") / refreshes}
    finally:
        sc.stop()
    return result


def callgrind_totals(outdir):
    """The largest per-process instruction total callgrind wrote in outdir:
    the parent's (a forked child's count includes the parent's work up to
    the fork, but not what the parent does after it)."""
    totals = []
    for path in glob.glob(os.path.join(outdir, "cg.*")):
        with open(path) as f:
            totals += [int(line.split()[1]) for line in f
                       if line.startswith(("summary:", "totals:"))]
    if not totals:
        raise BenchError("no callgrind totals in %s" % outdir)
    return max(totals)


def refresh_instructions(bench, chain, bundle, refreshes):
    """Instructions per refresh of `run`, where the bundle is loaded once
    at start as in a pod: callgrind over a run stopped after the first
    token is written, and over one stopped after 1 + `refreshes`; the
    difference divided by `refreshes`."""
    srv = bench.server(chain, 3)
    totals = []
    for n in (1, 1 + refreshes):
        name = "cg-run-%s-%d" % (os.path.basename(bundle), n)
        outdir = os.path.join(bench.work, name + ".out")
        os.makedirs(outdir)
        sc = RunningSidecar(bench, srv.url(), bundle, name,
                            wrapper=["valgrind", "--tool=callgrind",
                                     "--callgrind-out-file=%s/cg.%%p" %
                                     outdir])
        try:
            sc.wait_written(n, 60 + 10 * n)
        finally:
            sc.stop()
        totals.append(callgrind_totals(outdir))
    return (totals[1] - totals[0]) / refreshes


def idle(bench, chain, bundle, seconds, strace_seconds):
    """CPU ticks over `seconds` after the first exchange, with a token for
    an hour, then the system calls strace sees in `strace_seconds`."""
    srv = bench.server(chain, 3600)
    sc = RunningSidecar(bench, srv.url(), bundle, "run-idle",
                        REFRESH_INTERVAL="1h")
    try:
        sc.wait_written(1, 30)
        before = cpu_ticks(sc.pid)
        time.sleep(seconds)
        result = {"ticks": cpu_ticks(sc.pid) - before, "seconds": seconds,
                  "syscalls": None}
        if shutil.which("strace"):
            result["syscalls"] = count_syscalls(sc.pid, strace_seconds,
                                                bench.work)
    finally:
        sc.stop()
    return result


def count_syscalls(pid, seconds, work):
    """{syscall: calls} that `strace -f -c -p pid` counts in `seconds`."""
    out = os.path.join(work, "strace.out")
    tracer = subprocess.Popen(["strace", "-f", "-c", "-o", out,
                               "-p", str(pid)], stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    time.sleep(seconds)
    tracer.send_signal(signal.SIGINT)
    _, messages = tracer.communicate(timeout=10)
    if "attached" not in messages:     # else an empty count means nothing
        raise BenchError("strace did not attach: %s" % messages.strip())
    calls = {}
    with open(out) as f:
        for line in f:
            parts = line.split()
            # % time, seconds, usecs/call, calls, [errors,] syscall
            if len(parts) >= 5 and re.fullmatch(r"[\d.]+", parts[0]) \
                    and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
    return calls


# ---------------------------------------------------------------- probes

def health_get(addr, timeout=2.0):
    """The status of GET /readyz at host:port, or None when nothing
    listens there."""
    host, _, port = addr.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/readyz")
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return None
    finally:
        conn.close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def probe_section(bench, chain, bundle, runs):
    """The cost of one readiness probe: `check` exec'd (what an exec probe
    costs the node) against a GET of /readyz on the listener of a running
    sidecar (HEALTH_ADDR), measured as the sidecar's CPU ticks over
    PROBES requests. A build without the listener says so."""
    srv = bench.server(chain, 3600)
    addr = "127.0.0.1:%d" % free_port()
    sc = RunningSidecar(bench, srv.url(), bundle, "run-probe",
                        REFRESH_INTERVAL="1h", HEALTH_ADDR=addr)
    try:
        sc.wait_written(1, 30)
        token = os.path.join(bench.work, "run-probe", "token")
        check = Command([bench.binary, "check"], bench.sidecar_env(
            srv.url(), bundle, OUTPUT_TOKEN_PATH=token),
            os.path.join(bench.work, "check.log"))
        run_timed(check)
        cpu = [run_timed(check) for _ in range(runs)]
        instr = callgrind(check, os.path.join(bench.work, "cg-check"))
        rows = [["`check` as a process: CPU, median [p10–p90]",
                 "%.2f [%.2f–%.2f] ms" % tuple(1e3 * x for x in spread(cpu))],
                ["`check` as a process: instructions (callgrind)",
                 fmt_int(instr)]]
        status = health_get(addr)
        if status is None:
            rows.append(["GET /readyz on HEALTH_ADDR",
                         "listener not available in this build"])
        else:
            rss0, ticks0 = Memory.of(sc.pid).rss, cpu_ticks(sc.pid)
            t0 = time.monotonic()
            for _ in range(PROBES):
                health_get(addr)
            wall = time.monotonic() - t0
            ticks = cpu_ticks(sc.pid) - ticks0
            rows += [["GET /readyz: status", str(status)],
                     ["GET /readyz: sidecar CPU per probe (%d probes)" % PROBES,
                      fmt_ms(ticks / os.sysconf("SC_CLK_TCK") / PROBES)],
                     ["GET /readyz: wall time per probe, client included",
                      fmt_ms(wall / PROBES)],
                     ["GET /readyz: sidecar Rss growth over the probes",
                      "%+d KiB" % (Memory.of(sc.pid).rss - rss0)]]
    finally:
        sc.stop()
    return ["## One readiness probe (ECDSA chain, Debian bundle + test root)",
            ""] + table(["", "value"], rows)


# ---------------------------------------------------------------- Go

def build_go(work):
    """tests/bench/gosidecar built with Debian's Go as the original's
    Dockerfile builds it (static, stripped); None without a Go."""
    go = shutil.which("go")
    if not go:
        return None, "no Go toolchain (sh third_party/deps.sh bench)"
    out = os.path.join(work, "gosidecar")
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod",
               GOPROXY="off", GOCACHE=os.path.join(work, "gocache"),
               GOPATH=os.path.join(work, "gopath"))
    proc = subprocess.run([go, "build", "-trimpath", "-ldflags=-s -w",
                           "-o", out, "."], cwd=GO_SRC, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True)
    if proc.returncode != 0:
        return None, "go build failed: %s" % proc.stdout.strip()[-300:]
    version = subprocess.run([go, "version"], stdout=subprocess.PIPE,
                             text=True).stdout.strip()
    return out, version


def go_section(bench, runs):
    """The Go equivalent's first exchange against the sidecar's and curl's,
    alternating run by run on the budgets' chains, Debian bundle."""
    binary, note = build_go(bench.work)
    lines = ["## The Go sidecar (an equivalent, see below)", "",
             "The original's source (hupe1980/tokenbridge-k8s-sidecar) "
             "cannot be fetched without the network, so this is "
             "tests/bench/gosidecar: a minimal equivalent written for the "
             "bench with the same default net/http client, form, headers "
             "and encoding/json, not the original's code.", ""]
    if binary is None:
        return lines + ["Not measured: %s." % note]
    versions = set()
    rows = [["binary", fmt_int(os.path.getsize(binary)) + " bytes",
             fmt_int(os.path.getsize(bench.binary)) + " bytes", ""]]
    for key in ("ec", "rsa"):
        ep = bench.endpoints.get(key)
        if ep is None:
            continue
        env = {"SA_TOKEN_PATH": bench.sa_token,
               "OUTPUT_TOKEN_PATH": os.path.join(bench.work, "out",
                                                 "go-token"),
               "EXCHANGE_URL": ep.server.url(),
               "SSL_CERT_FILE": ep.bundles["full"],
               "HOME": bench.work}
        cmds = {"go": Command([binary], env, os.path.join(bench.work,
                                                          "go.log")),
                "sidecar": bench.sidecar(ep, "full"),
                "curl": bench.curl_cmd(ep, "full")}
        cpu = {c: [] for c in cmds}
        for c in cmds:                  # warm the page cache
            run_timed(cmds[c])
            if c == "go":
                got = ep.server.requests[-1]
                versions.add("%s %s" % (got.tls_version, got.cipher))
        for _ in range(runs):
            for c in cmds:
                cpu[c].append(run_timed(cmds[c]))
        med = {c: spread(cpu[c])[0] for c in cmds}
        rows.append(["CPU time, %s chain, median" % ep.name,
                     fmt_ms(med["go"]), fmt_ms(med["sidecar"]),
                     "%s; curl %s" % (fmt_ratio(med["go"] / med["sidecar"]),
                                      fmt_ms(med["curl"]))])
        go_mem = memory_at_exit(cmds["go"], peak_only=True)
        sc_mem = memory_at_exit(cmds["sidecar"])
        rows.append(["peak Rss, %s chain" % ep.name,
                     "%s KiB" % fmt_int(go_mem.peak),
                     "%s KiB" % fmt_int(sc_mem.peak),
                     fmt_ratio(go_mem.peak / sc_mem.peak)])
    return lines + ["Built with %s; it negotiated %s (Go offers TLS 1.3, "
                    "the sidecar and curl are held to 1.2)." % (
                        note, ", ".join(sorted(versions))), ""] + table(
        ["first exchange, Debian bundle + test root", "Go equivalent",
         "tokenbridge-sidecar once", "Go / sidecar"], rows)


# ---------------------------------------------------------------- report

def system_lines():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    uname = os.uname()
    return ["- date: %s" % datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%d %H:%M UTC"),
            "- system: %s %s %s" % (uname.sysname, uname.release,
                                    uname.machine),
            "- CPU: %s, %d cores" % (cpu, os.cpu_count())]


def table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def size_section(binary, elf, curl_size, image, sizes, shared, exact,
                 nolto):
    size = os.path.getsize(binary)
    interp, stripped = elf
    rows = [["tokenbridge-sidecar, %s" % (
        "stripped" if stripped else "**not stripped**"), fmt_int(size)]]
    if interp:
        libc = os.path.realpath(interp)
        rows.append(["linking: **dynamic**, interpreter %s (%s bytes)" %
                     (interp, fmt_int(os.path.getsize(libc))),
                     fmt_int(size + os.path.getsize(libc))])
    else:
        rows.append(["linking: static", "—"])
    if image is not None:
        rows.append(["docker image `tokenbridge-sidecar`", fmt_int(image)])
    rows.append(["curl, with its %d shared libraries" % curl_size[1],
                 fmt_int(curl_size[0])])
    lines = ["## Size", ""] + table(["", "bytes"], rows)

    cols = ("text", "rodata", "data", "bss")
    order = sorted(sizes, key=lambda c: (not c.startswith("tokenbridge"),
                                         not c.startswith("BearSSL"),
                                         -sum(sizes[c][k] for k in cols[:3])))
    rows = []
    for comp in order:
        s = sizes[comp]
        rows.append([comp] + [fmt_int(s[k]) for k in cols] +
                    [fmt_int(sum(s[k] for k in cols[:3]))])
    total = {k: sum(sizes[c][k] for c in sizes) for k in cols}
    in_file = sum(total[k] for k in cols[:3])
    rows.append(["**all**"] + [fmt_int(total[k]) for k in cols] +
                [fmt_int(in_file)])
    rows.append(["ELF headers, relocations, dynamic tables, padding",
                 "", "", "", "", fmt_int((nolto[0] if nolto else size) -
                                         in_file)])
    lines += ["", "### Size by component (linker map, build/bench/"
              "sidecar%s.map)" % ("-nolto" if nolto else ""), ""]
    if nolto:
        lines += ["The release build is linked with LTO, which mixes our "
                  "code and BearSSL into partitions no map tells apart: "
                  "these are the components of the same build without "
                  "LTO (%s, %s bytes, %s in its sections); LTO takes %s "
                  "bytes of sections off the whole." % (
                      NOLTO_DIR, fmt_int(nolto[0]), fmt_int(nolto[1]),
                      fmt_int(nolto[1] - nolto[2])), ""]
    if not exact:
        lines += ["**The objects changed since the binary was linked: the "
                  "map is of a re-link that differs from it (run make).**",
                  ""]
    lines += table(["component", ".text", ".rodata", ".data + .data.rel.ro",
                    ".bss (memory)", "in the file"], rows)
    if shared:
        lines += ["", "Linked against shared %s: the C library is not in "
                  "these figures." % ", ".join(shared)]
    return lines


def exchange_section(ep, learned, cpu, instr, mem):
    lines = ["## One exchange: %s chain" % ep.name, ""]
    rows = []
    for bundle in BUNDLES:
        cells = []
        for client in CLIENTS:
            cells.append("%.2f [%.2f–%.2f] ms" % tuple(
                1e3 * x for x in spread(cpu[bundle][client])))
        ratio = spread(cpu[bundle]["curl"])[0] / spread(
            cpu[bundle]["sidecar"])[0]
        rows.append(["CPU time, %s: median [p10–p90]" % BUNDLE_NAMES[bundle]]
                    + cells + [fmt_ratio(ratio)])
    for bundle in BUNDLES:
        s, c = instr[bundle]["sidecar"], instr[bundle]["curl"]
        rows.append(["instructions, %s" % BUNDLE_NAMES[bundle],
                     fmt_minstr(s), fmt_minstr(c), fmt_ratio(c / s)])
    loading = {cl: instr["full"][cl] - instr["root"][cl] for cl in CLIENTS}
    rows.append(["of which CA bundle loading (full − root alone)"] +
                ["%s (%.1f %%)" % (fmt_minstr(loading[cl]),
                                   100.0 * loading[cl] / instr["full"][cl])
                 for cl in CLIENTS] + [""])
    for bundle in BUNDLES:
        for label, attr in (("peak Rss (smaps_rollup at every syscall)",
                             "peak"),
                            ("peak RSS (VmHWM)", "hwm"),
                            ("Rss at exit (smaps_rollup)", "rss"),
                            ("Pss at exit (smaps_rollup)", "pss")):
            s = getattr(mem[bundle]["sidecar"], attr)
            c = getattr(mem[bundle]["curl"], attr)
            rows.append(["%s, %s" % (label, BUNDLE_NAMES[bundle]),
                         "%s KiB" % fmt_int(s), "%s KiB" % fmt_int(c),
                         fmt_ratio(c / s)])
    lines += table(["per exchange", "tokenbridge-sidecar once", "curl",
                    "curl / sidecar"], rows)
    lines += ["", "TLS negotiated: sidecar %s; curl %s." %
              (learned["sidecar TLS"], learned["curl TLS"])]
    return lines + ["", who_wins(cpu, instr)]


def who_wins(cpu, instr):
    """One sentence per bundle: who is cheaper, in time and instructions."""
    out = []
    for bundle in BUNDLES:
        t = spread(cpu[bundle]["curl"])[0] / spread(cpu[bundle]["sidecar"])[0]
        i = instr[bundle]["curl"] / instr[bundle]["sidecar"]
        parts = []
        for what, ratio in (("CPU time", t), ("instructions", i)):
            winner = "the sidecar" if ratio >= 1 else "**curl**"
            parts.append("%s wins on %s (%s)" % (winner, what,
                                                 fmt_ratio(ratio)))
        out.append("%s: %s." % (BUNDLE_NAMES[bundle].capitalize(),
                                ", ".join(parts)))
    return " ".join(out)


def run_section(loop, quiet, refreshes, per_refresh):
    first, last = loop["first"], loop["last"]
    rows = [
        ["smaps_rollup Rss after the first exchange / after %d refreshes"
         % refreshes, "%d / %d KiB (max %d)" % (first.rss, last.rss,
                                                loop["rss_max"])],
        ["of which anonymous (each pod's own; the rest is the binary's "
         "pages, shared)", "%d / %d KiB" % (first.anon, last.anon)],
        ["instructions per refresh (callgrind; the bundle loaded once, at "
         "start)", fmt_minstr(per_refresh)],
        ["VmRSS after the first exchange / after %d refreshes" % refreshes,
         "%d / %d KiB" % (first.vmrss, last.vmrss)],
        ["VmHWM after %d refreshes" % refreshes, "%d KiB" % last.hwm],
        ["open descriptors after the first / last", "%d / %d" %
         loop["fds"]],
        ["child processes left", str(loop["children"])],
        ["mean time between refreshes (expires_in=3)", "%.2f s" %
         loop["interval"]],
        ["CPU per refresh (utime+stime, children included)",
         fmt_ms(loop["cpu_per_refresh"])],
        ["idle CPU over %d s (expires_in=3600, REFRESH_INTERVAL=1h)"
         % quiet["seconds"], "%d ticks" % quiet["ticks"]],
    ]
    if quiet["syscalls"] is not None:
        rows.append(["system calls while idle (strace -f -c)",
                     ", ".join("%s ×%d" % kv for kv in
                               sorted(quiet["syscalls"].items())) or "none"])
    return ["## Run mode (ECDSA chain, Debian bundle + test root)", ""] + \
        table(["", "value"], rows)


def targets_line(size, interp, results, loop, quiet, per_refresh):
    def verdict(ok):
        return "met" if ok else "**not met**"
    eps = [results[k] for k in results if results[k]["budget"]]
    instr_ratio = min(r["instr"]["full"]["curl"] / r["instr"]["full"]
                      ["sidecar"] for r in eps)
    time_ratio = min(spread(r["cpu"]["full"]["curl"])[0] /
                     spread(r["cpu"]["full"]["sidecar"])[0] for r in eps)
    peak = {b: max(r["mem"][b]["sidecar"].peak for r in eps)
            for b in BUNDLES}
    ecdsa = results["ec"]["instr"]["full"]["sidecar"]
    share = max((r["instr"]["full"]["sidecar"] - r["instr"]["root"]
                 ["sidecar"]) / r["instr"]["full"]["sidecar"] for r in eps)
    growth = loop["rss_max"] - loop["first"].rss
    binary_note = "%s bytes%s" % (fmt_int(size), ", but dynamically linked "
                                  "(needs %s)" % interp if interp else "")
    items = [
        "binary ≤ 150 KB: %s (%s)" % (
            verdict(size <= TARGET_BINARY_BYTES and not interp), binary_note),
        "peak RSS ≤ %d KiB with the full bundle: %s (%d KiB)" % (
            TARGET_PEAK_KIB["full"],
            verdict(peak["full"] <= TARGET_PEAK_KIB["full"]), peak["full"]),
        "peak RSS ≤ %d KiB with one root: %s (%d KiB)" % (
            TARGET_PEAK_KIB["root"],
            verdict(peak["root"] <= TARGET_PEAK_KIB["root"]), peak["root"]),
        "ECDSA P-256 exchange ≤ 38 M instructions, full bundle: `once` %s "
        "(%s, the bundle's load included), `run` %s (%s per refresh)" % (
            verdict(ecdsa <= TARGET_ECDSA_INSTR), fmt_minstr(ecdsa),
            verdict(per_refresh <= TARGET_ECDSA_INSTR),
            fmt_minstr(per_refresh)),
        "CPU ≤ 1/6 of curl: %s (curl/sidecar ≥ %.1f× instructions, ≥ %.1f× "
        "time)" % (verdict(min(instr_ratio, time_ratio) >= TARGET_CPU_RATIO),
                   instr_ratio, time_ratio),
        "run-mode RSS flat: %s (%+d KiB at most)" % (
            verdict(growth <= RSS_FLAT_KIB), growth),
        "no system calls while idle: %s" % (
            "not measured (no strace)" if quiet["syscalls"] is None else
            verdict(not quiet["syscalls"])),
        "bundle loading ≤ 1/10 of the exchange: %s (%.1f %%)" % (
            verdict(share <= TARGET_BUNDLE_SHARE), 100 * share),
    ]
    return "**Targets:** " + "; ".join(items) + "."


# ---------------------------------------------------------------- main

def progress(what):
    print("bench: %s ..." % what, file=sys.stderr, flush=True)


def sidecar_version(binary):
    return subprocess.run([binary, "version"], stdout=subprocess.PIPE,
                          text=True).stdout.strip()


def curl_version():
    out = subprocess.run(["curl", "-V"], stdout=subprocess.PIPE,
                         text=True).stdout
    return " ".join(out.split()[:4]) if out else "unknown"


def measure_cpu(bench, ep, runs):
    """CPU seconds per run, sidecar and curl alternating run by run."""
    cpu = {b: {c: [] for c in CLIENTS} for b in BUNDLES}
    for bundle in BUNDLES:
        cmds = {c: bench.command(c, ep, bundle) for c in CLIENTS}
        for c in CLIENTS:                   # warm the page cache
            run_timed(cmds[c])
        for _ in range(runs):
            for c in CLIENTS:
                cpu[bundle][c].append(run_timed(cmds[c]))
    return cpu


def measure_instructions_and_memory(bench, ep, key):
    instr = {b: {} for b in BUNDLES}
    mem = {b: {} for b in BUNDLES}
    for bundle in BUNDLES:
        for c in CLIENTS:
            cmd = bench.command(c, ep, bundle)
            instr[bundle][c] = callgrind(cmd, os.path.join(
                bench.work, "cg-%s-%s-%s" % (key, bundle, c)))
            mem[bundle][c] = memory_at_exit(cmd)
    return instr, mem


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", default=os.path.join(REPO, "build",
                                                     "tokenbridge-sidecar"))
    ap.add_argument("--runs", type=int, default=30,
                    help="timed runs per client, chain and bundle")
    ap.add_argument("--refreshes", type=int, default=100,
                    help="run mode: refreshes after the first exchange")
    ap.add_argument("--idle-seconds", type=int, default=10)
    ap.add_argument("--strace-seconds", type=int, default=3)
    ap.add_argument("--chains", default=",".join(c[0] for c in CHAINS),
                    help="comma-separated chains to measure (ec, rsa, "
                    "ec384, rsa4096); ec is always measured")
    ap.add_argument("--quick", action="store_true",
                    help="10 timed runs and 10 refreshes")
    ap.add_argument("--output", default=os.path.join(REPO, "build",
                                                     "bench.md"))
    args = ap.parse_args(argv)
    if args.quick:
        args.runs, args.refreshes = 10, 10
    args.binary = os.path.abspath(args.binary)
    args.chains = set(args.chains.split(",")) | {"ec"}
    return args


def main(argv=None):
    args = parse_args(argv)
    for tool in ("curl", "valgrind", "readelf"):
        if not shutil.which(tool):
            raise BenchError("%s is missing: sh third_party/deps.sh bench"
                             % tool)
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="tokenbridge-bench-")
    os.makedirs(os.path.join(work, "out"))
    bench = Bench(args.binary, work)
    try:
        progress("certificates and servers")
        chains = {key: bench.add_endpoint(key, name, flavour, budget)
                  for key, name, flavour, budget in CHAINS
                  if key in args.chains}
        ec = chains["ec"]
        learned = {k: bench.learn_request(ep)
                   for k, ep in bench.endpoints.items()}

        progress("size")
        size = os.path.getsize(args.binary)
        elf = elf_facts(args.binary)
        map_path, exact, nolto = size_map(
            args.binary, os.path.join(REPO, "build", "bench"))
        sizes, shared = size_breakdown(map_path)
        size_lines = size_section(args.binary, elf,
                                  with_libraries(bench.curl),
                                  docker_image_size(), sizes, shared, exact,
                                  nolto)

        # CPU time first, on a quiet machine; then the run-mode probes in
        # the background while callgrind counts (instruction counts do
        # not depend on load) and ptrace stops processes at exit.
        results = {}
        for key, ep in bench.endpoints.items():
            progress("CPU time, %s, %d runs each" % (ep.name, args.runs))
            results[key] = {"cpu": measure_cpu(bench, ep, args.runs),
                            "budget": ep.budget}
        full = bench.endpoints["ec"].bundles["full"]
        progress("Go equivalent of the original")
        go = go_section(bench, args.runs)
        progress("one probe: check against GET /readyz")
        probe = probe_section(bench, ec, full, args.runs)
        with ThreadPoolExecutor(max_workers=2) as pool:
            progress("run mode (%d refreshes) and idle, in the background"
                     % args.refreshes)
            loop_f = pool.submit(refresh_loop, bench, ec, full,
                                 args.refreshes)
            idle_f = pool.submit(idle, bench, ec, full, args.idle_seconds,
                                 args.strace_seconds)
            for key, ep in bench.endpoints.items():
                progress("callgrind and memory at exit, %s" % ep.name)
                instr, mem = measure_instructions_and_memory(bench, ep, key)
                results[key].update(instr=instr, mem=mem)
            progress("callgrind over run mode, %s" % bench.endpoints["ec"].name)
            per_refresh = refresh_instructions(bench, ec, full, 3)
            progress("waiting for the run-mode probes")
            loop, quiet = loop_f.result(), idle_f.result()
    finally:
        bench.stop()
        shutil.rmtree(work, ignore_errors=True)

    lines = ["# tokenbridge-sidecar bench", ""] + system_lines() + [
        "- binary: %s (`%s`)" % (os.path.relpath(args.binary, REPO),
                                 sidecar_version(args.binary)),
        "- curl: %s" % curl_version(),
        "- %d timed runs per client, chain and bundle, alternating; "
        "CPU = user + sys from wait4; curl limited to TLS 1.2 like "
        "BearSSL" % args.runs, ""]
    lines += size_lines + [""]
    for key, ep in bench.endpoints.items():
        r = results[key]
        lines += exchange_section(ep, learned[key], r["cpu"], r["instr"],
                                  r["mem"]) + [""]
    diff = learned["ec"]
    lines += ["curl posts the sidecar's body; request headers %s." % (
        "identical" if not (diff["only sidecar"] or diff["only curl"]) else
        "differing: only the sidecar's %s, only curl's %s" % (
            diff["only sidecar"], diff["only curl"])), ""]
    lines += run_section(loop, quiet, args.refreshes, per_refresh) + [""]
    lines += probe + [""] + go + [""]
    lines += ["Bench time: %.0f s." % (time.monotonic() - started), "",
              targets_line(size, elf[0], results, loop, quiet, per_refresh)]
    report = "\n".join(lines) + "\n"
    print(report)
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(report)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, OSError, subprocess.CalledProcessError) as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(1)
