"""Support for the run-mode (refresh loop) tests: test_refresh_loop.py.

conftest.Sidecar.run() runs the binary to completion; the refresh loop
needs a process that lives while the test watches it. LoopRun starts
`tokenbridge-sidecar run` in the background from a conftest Sidecar (its
files, environment and servers), reads stderr line by line as it comes
(each line stamped with time.monotonic()), and on finish() makes the same
checks as Sidecar.run(): no secret nor 8-byte piece of one in any output,
every stderr line a well-formed log record, no process of the session left.

Issuer is an ExchangeServer handler that records, for every token it
issues, the token, the subject token it was exchanged for, and its issue
and expiry times on the monotonic clock.

Also: kubelet-style atomic directory swaps (AtomicDir), temp-file and
/proc helpers, and the `slow` marker (registered by pytest_configure; the
test module loads this file as a plugin, `pytest_plugins`). Nothing here deselects tests:
`make test` runs slow tests too; `pytest -m "not slow"` skips them.
"""

import os
import re
import signal as _signal
import subprocess
import threading
import time
from dataclasses import dataclass
from typing import List, Optional

import pytest

from conftest import UNSHARE, find_leaks, parse_log, session_leftovers


# ---------------------------------------------------------------- marker
#
# conftest.py (not ours) registers no markers, and a decorator's
# pytest.mark.slow would warn at import time, before this plugin is loaded.
# So tests are tagged with @slow and given the registered marker here.


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: runs for tens of seconds (still part of make "
        "test; deselect with -m 'not slow')")


def slow(fn):
    fn._tb_slow = True
    return fn


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    for item in items:
        if getattr(getattr(item, "function", None), "_tb_slow", False):
            item.add_marker(pytest.mark.slow)


# ---------------------------------------------------------------- server


@dataclass
class Issued:
    token: str
    subject: Optional[str]
    issued_at: float        # monotonic, when the answer was made
    expires_at: float       # issued_at + expires_in
    expires_in: int


class Issuer:
    """ExchangeServer handler: issue a fresh token, remember when.

    `expires_in` may be changed between requests. Replies pushed on the
    server's queue still take precedence (failures are scripted that way).
    """

    def __init__(self, srv, expires_in=4):
        self.srv = srv
        self.expires_in = expires_in
        self.issued: List[Issued] = []
        self.by_token = {}
        self._lock = threading.Lock()
        srv.handler = self

    def __call__(self, req):
        exp = self.expires_in
        reply = self.srv.issue(expires_in=exp)
        now = time.monotonic()
        rec = Issued(reply.access_token, req.form.get("subject_token"), now,
                     now + exp, exp)
        with self._lock:
            self.issued.append(rec)
            self.by_token[reply.access_token.encode()] = (len(self.issued) - 1,
                                                          rec)
        return reply


def switch_cert(srv, chain_pem, key_pem):
    """Make an ExchangeServer present another certificate from now on."""
    from exchange_server import server_context
    ctx = server_context(chain_pem, key_pem)
    ctx.sni_callback = srv._sni
    srv.ssl_context = ctx


# ---------------------------------------------------------------- files


class AtomicDir:
    """A directory updated the way the kubelet updates projected volumes
    and ConfigMaps: <dir>/<name> -> ..data/<name>, ..data -> ..<timestamp>;
    an update writes a new timestamped directory, points a new symlink
    ..data_tmp at it and renames ..data_tmp over ..data (one atomic
    rename), then removes the old timestamped directory."""

    def __init__(self, path, names):
        self.path = str(path)
        self.names = list(names)
        os.makedirs(self.path, exist_ok=True)
        self.current = None
        self.n = 0

    def file(self, name):
        return os.path.join(self.path, name)

    def _stamp(self):
        self.n += 1
        t = time.gmtime()
        return "..%s.%09d" % (time.strftime("%Y_%m_%d_%H_%M_%S", t),
                              os.getpid() * 1000 + self.n)

    def update(self, contents, keep_old=False):
        """contents: {name: bytes or str}. Returns the new directory."""
        stamp = self._stamp()
        d = os.path.join(self.path, stamp)
        os.mkdir(d)
        for name, data in contents.items():
            if isinstance(data, str):
                data = data.encode()
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
            os.chmod(os.path.join(d, name), 0o644)
        tmp = os.path.join(self.path, "..data_tmp")
        os.symlink(stamp, tmp)
        os.rename(tmp, os.path.join(self.path, "..data"))
        for name in contents:
            link = os.path.join(self.path, name)
            if not os.path.islink(link):
                os.symlink(os.path.join("..data", name), link)
        old, self.current = self.current, d
        if old and not keep_old:
            for name in os.listdir(old):
                os.unlink(os.path.join(old, name))
            os.rmdir(old)
        return d


TEMP_RE = re.compile(r"^\..*\.tmp-[0-9a-f]+$")


# The sanitizer builds stop at the first report, with exit codes that no
# ordinary failure uses, and these words mark a report in their output.
ASAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:exitcode=86:"
                    "strict_string_checks=1:detect_stack_use_after_return=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:exitcode=87",
}
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer",
                   "UndefinedBehaviorSanitizer", "runtime error:")


def temp_files(directory):
    """The writer's temporary files (.<name>.tmp-<hex>) in directory."""
    return [n for n in os.listdir(directory) if TEMP_RE.match(n)]


def vm_rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def fd_targets(pid):
    d = "/proc/%d/fd" % pid
    out = {}
    for n in os.listdir(d):
        try:
            out[int(n)] = os.readlink(os.path.join(d, n))
        except OSError:
            pass
    return out


def unix_socket_inodes():
    """Inodes of every AF_UNIX socket (the resolver's socketpair)."""
    with open("/proc/net/unix") as f:
        next(f)
        return {"socket:[%s]" % line.split()[6] for line in f
                if len(line.split()) >= 7}


def sleeping_fd_targets(pid, timeout=2.0):
    """fd_targets(pid) once the process sleeps between refreshes: no
    exchange in flight, so no TCP socket and no resolver pipe beyond the
    standard streams (the loop's two timers and the resolver's AF_UNIX
    socket are always open), so that descriptors compare equal only when
    sampled in the same state. After `timeout` whatever is open is
    returned (and will differ)."""
    end = time.monotonic() + timeout
    while True:
        fds = fd_targets(pid)
        unix = unix_socket_inodes()
        busy = [n for n, t in fds.items() if n > 2 and t not in unix and
                (t.startswith("socket:") or t.startswith("pipe:"))]
        if not busy or time.monotonic() >= end:
            return fds
        time.sleep(0.005)


def seconds(text):
    """'1.7s' or '12s' -> float; anything else raises ValueError."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)s", text or "")
    if not m:
        raise ValueError("not a duration in seconds: %r" % (text,))
    return float(m.group(1))


# ---------------------------------------------------------------- process


class LoopRun:
    """One `tokenbridge-sidecar run` process in the background."""

    def __init__(self, sidecar, srv=None, env=None, binary=None, args=("run",),
                 flavour="ec", extra_env=None, resolv_conf=None, wrapper=(),
                 unset=(), log_format=None, strict_log=True):
        full = sidecar.env_for(srv, flavour)
        full.update(env or {})
        for k in unset:
            full.pop(k, None)
        if extra_env:
            full.update(extra_env)
        full = {k: v for k, v in full.items() if v is not None}
        self.sidecar = sidecar
        self.env = full
        self.fmt = log_format or full.get("LOG_FORMAT") or "text"
        self.strict_log = strict_log
        argv = list(wrapper) + [binary or sidecar.binary] + list(args)
        if resolv_conf is not None:
            rc = sidecar.tmp / ("resolv-%d.conf" % time.monotonic_ns())
            rc.write_text(resolv_conf)
            argv = [UNSHARE, "-m", "/bin/sh", "-c",
                    'mount --bind "$1" /etc/resolv.conf && shift && '
                    'exec "$@"', "sh", str(rc)] + argv
        self.argv = argv
        self.lines = []            # (monotonic time, line)
        self.records = []          # parsed records, each with "_t"
        self.bad_lines = []
        self._raw = []
        self._cond = threading.Condition()
        self._out = sidecar.tmp / ("loop-stdout-%d" % time.monotonic_ns())
        self._out_f = open(self._out, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env=full, stdin=subprocess.DEVNULL,
                                     stdout=self._out_f,
                                     stderr=subprocess.PIPE,
                                     cwd=str(sidecar.tmp),
                                     start_new_session=True)
        self.pid = self.proc.pid
        self.rc = None
        self.stdout = ""
        self._reader = threading.Thread(target=self._read, daemon=True,
                                        name="loop-stderr")
        self._reader.start()

    # -- stderr --

    def _read(self):
        f = self.proc.stderr
        while True:
            raw = f.readline()
            if not raw:
                break
            t = time.monotonic()
            line = raw.decode("utf-8", "replace")
            rec = None
            if line.endswith("\n"):
                try:
                    rec = parse_log(line, self.fmt)[0]
                    rec["_t"] = t
                except AssertionError as e:
                    rec = None
                    with self._cond:
                        self.bad_lines.append((line, str(e)))
            with self._cond:
                self._raw.append(line)
                self.lines.append((t, line.rstrip("\n")))
                if rec is not None:
                    self.records.append(rec)
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def stderr(self):
        with self._cond:
            return "".join(self._raw)

    def find(self, msg, start=0):
        """Records from index `start` whose msg starts with `msg`."""
        with self._cond:
            return [r for r in self.records[start:]
                    if r["msg"].startswith(msg)]

    def wait_for(self, pred, timeout, what="a log record", start=0):
        """The first record (from index start) for which pred(rec) holds."""
        end = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.records[start:]:
                    if pred(r):
                        return r
                left = end - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and
                                 not self._reader.is_alive()):
                    raise AssertionError(
                        "no %s within %.1fs (exit %s)\n%s" % (
                            what, timeout, self.proc.poll(), self.describe()))
                self._cond.wait(min(left, 0.05))

    def wait_msg(self, msg, count=1, timeout=10.0, start=0):
        """The count-th record whose msg starts with `msg`."""
        seen = []

        def pred(r):
            if r["msg"].startswith(msg) and not any(r is s for s in seen):
                seen.append(r)
            return len(seen) >= count
        self.wait_for(pred, timeout, "%d x %r" % (count, msg), start)
        return seen[count - 1]

    def mark(self):
        """Index for wait_for(start=...): only records after now."""
        with self._cond:
            return len(self.records)

    # -- signals and end --

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=_signal.SIGTERM, timeout=10.0):
        """Send sig, wait for the exit; returns seconds from signal to exit
        (None when still alive after timeout: the process is then killed
        and the test fails in finish())."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return time.monotonic() - t0

    def finish(self, check_leaks=True):
        """Make sure the process has ended; run the standard checks."""
        if self.proc.poll() is None:
            try:
                self.proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.rc = "killed"
        if self.rc is None:
            self.rc = self.proc.returncode
        self._reader.join(timeout=5)
        self._out_f.close()
        self.stdout = self._out.read_text(errors="replace")
        self._out.unlink()
        left = session_leftovers(self.pid)
        for pid in left:
            try:
                os.kill(pid, _signal.SIGKILL)
            except OSError:
                pass
        assert not left, "processes left behind after exit: %r\n%s" % (
            left, self.describe())
        if check_leaks:
            leaks = find_leaks(self.stdout + self.stderr,
                               self.sidecar.secrets())
            assert not leaks, "SECRET LEAKED in output: %r\n%s" % (
                leaks, self.describe())
        if self.strict_log:
            parse_log(self.stderr, self.fmt)
            assert not self.bad_lines, self.bad_lines
        return self.rc

    def close(self):
        """For fixture teardown: never leave the process running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in session_leftovers(self.pid):
            try:
                os.kill(pid, _signal.SIGKILL)
            except OSError:
                pass
        if not self._out_f.closed:
            self._out_f.close()

    def describe(self, tail=60):
        with self._cond:
            lines = self.lines[-tail:]
        return "argv: %s\nexit: %s\nstderr (last %d lines, t=+s):\n%s" % (
            " ".join(self.argv), self.proc.poll(), len(lines),
            "\n".join("%8.3f %s" % (t - self.started, l) for t, l in lines))

    __str__ = describe


# ---------------------------------------------------------------- output


def expiry_name(sidecar):
    """The expiry record written next to the token: .<name>.expiry."""
    return "." + sidecar.out_path.name + ".expiry"


def assert_token(sidecar, token, mode=0o600, expires_in=None, ctx=""):
    """Success state of the output directory: the token file holds exactly
    `token` with `mode`; besides it only the expiry record may exist (and
    must, with about now + expires_in, when expires_in is given); no
    temporary file."""
    names = sorted(os.listdir(sidecar.out_dir))
    allowed = {sidecar.out_path.name, expiry_name(sidecar)}
    assert sidecar.out_path.name in names and set(names) <= allowed, \
        "output directory holds %r\n%s" % (names, ctx)
    data = sidecar.out_path.read_bytes()
    want = token.encode() if isinstance(token, str) else token
    assert data == want, "token file holds %d bytes, not the last issued " \
        "token (%d bytes)\n%s" % (len(data), len(want), ctx)
    st = os.stat(sidecar.out_path)
    assert (st.st_mode & 0o7777) == mode, "token file mode %o\n%s" % (
        st.st_mode & 0o7777, ctx)
    if expires_in is not None:
        p = sidecar.out_dir / expiry_name(sidecar)
        assert p.exists(), "no expiry record %s\n%s" % (p.name, ctx)
        val = int(p.read_text())
        # written at the last refresh, which was at most expires_in ago
        now = time.time()
        assert now - 2 <= val <= now + expires_in + 2, \
            "expiry record %d, now %d, expires_in %d\n%s" % (
                val, now, expires_in, ctx)


# ---------------------------------------------------------------- reader


class TokenReader:
    """A thread that opens and reads `path` about every millisecond and
    judges each read against `issuer` (an Issuer, or anything with a
    by_token dict: bytes -> (index, Issued)).

    Problems: the file missing after it was first seen, empty, holding
    bytes that are no issued token (a partial write), holding a token
    whose expiry had passed when the read began, or an older token than a
    previous read. first_seen maps token index -> monotonic time."""

    def __init__(self, path, issuer, t0=None, max_problems=20):
        self.path = str(path)
        self.issuer = issuer
        self.t0 = t0 if t0 is not None else time.monotonic()
        self.max_problems = max_problems
        self.problems = []
        self.first_seen = {}
        self.polls = 0
        self.max_gap = 0.0
        self.before_first = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name="token-reader")

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(5)

    def _problem(self, text):
        if len(self.problems) < self.max_problems:
            self.problems.append(text)

    def _loop(self):
        last_idx, seen_any, prev = -1, False, None
        while not self._stop.is_set():
            t = time.monotonic()
            if prev is not None:
                self.max_gap = max(self.max_gap, t - prev)
            prev = t
            self.polls += 1
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                if seen_any:
                    self._problem("file missing at +%.3fs" % (t - self.t0))
                else:
                    self.before_first += 1
                time.sleep(0.001)
                continue
            try:
                chunks = []
                while True:
                    b = os.read(fd, 65536)
                    if not b:
                        break
                    chunks.append(b)
            finally:
                os.close(fd)
            data = b"".join(chunks)
            seen_any = True
            entry = self.issuer.by_token.get(data)
            if not data:
                self._problem("empty file at +%.3fs" % (t - self.t0))
            elif entry is None:
                self._problem("file holds %d bytes that are no issued token "
                              "(partial?) at +%.3fs" % (len(data), t - self.t0))
            else:
                idx, rec = entry
                self.first_seen.setdefault(idx, t)
                if t >= rec.expires_at:
                    self._problem("token #%d read %.3fs after it expired" % (
                        idx, t - rec.expires_at))
                if idx < last_idx:
                    self._problem("token #%d read after #%d" % (idx, last_idx))
                last_idx = max(last_idx, idx)
            time.sleep(0.001)
