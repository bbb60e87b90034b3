"""Fixtures for the tokenbridge-sidecar integration suite.

The binary under test is build/tokenbridge-sidecar (TB_BIN overrides);
the host builds build/host/tokenbridge-sidecar-{asan,plain} are used by
test_sanitizers.py. Nothing here mocks the binary: every test runs it
against a real server on loopback.

Checks made on EVERY run (Sidecar.run):
  * no secret (the ServiceAccount token, every access token any server
    issued, and extra registered secrets), nor any 8-character piece of
    one, appears on stdout or stderr;
  * every stderr line is one well-formed log record (logfmt starting with
    time=, level=, msg=; or one JSON object with LOG_FORMAT=json);
  * no process of the run's session is left alive after it exits.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import List

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import certs  # noqa: E402
from dns_stub import DnsStub  # noqa: E402
from exchange_server import (ExchangeServer, random_token,  # noqa: E402
                             server_context)
from oauth_server import OAuthServer  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
RELEASE_BIN = os.environ.get("TB_BIN") or os.path.join(
    REPO, "build", "tokenbridge-sidecar")
ASAN_BIN = os.path.join(REPO, "build", "host", "tokenbridge-sidecar-asan")
PLAIN_BIN = os.path.join(REPO, "build", "host", "tokenbridge-sidecar-plain")

CHROOT = shutil.which("chroot") or "/usr/sbin/chroot"
UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
VALGRIND = shutil.which("valgrind") or "/usr/bin/valgrind"

SECRET_WINDOW = 8       # "not even a part": no 8-byte piece of a secret
DEFAULT_TIMEOUT = "5s"  # EXCHANGE_TIMEOUT for ordinary runs


def makefile_version():
    with open(os.path.join(REPO, "Makefile")) as f:
        m = re.search(r"^VERSION\s*:?=\s*(\S+)", f.read(), re.M)
    return m.group(1) if m else None


def require_binary(path):
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        pytest.fail("binary %s is missing: build it first (make%s)" % (
            path, " host-bins" if "/host/" in path else ""), pytrace=False)
    return path


# ---------------------------------------------------------------- logs

_BARE = r'[^\s"=\\\x00-\x1f\x7f-\uffff]+'
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_.\-]*)=(%s|%s)' % (_QUOTED, _BARE))


def _unquote(v):
    if not v.startswith('"'):
        return v
    out, i, s = [], 0, v[1:-1]
    while i < len(s):
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = s[i + 1]
        if n in '"\\':
            out.append(n)
            i += 2
        elif n == "n":
            out.append("\n")
            i += 2
        elif n == "t":
            out.append("\t")
            i += 2
        elif n == "r":
            out.append("\r")
            i += 2
        elif n == "x":
            out.append(chr(int(s[i + 2:i + 4], 16)))
            i += 4
        elif n == "u":
            out.append(chr(int(s[i + 2:i + 6], 16)))
            i += 6
        else:
            raise ValueError("unknown escape \\%s" % n)
    return "".join(out)


def parse_logfmt(line):
    """Parse one logfmt line into an ordered dict; ValueError if malformed."""
    rec, pos = {}, 0
    while pos < len(line):
        m = _PAIR.match(line, pos)
        if not m:
            raise ValueError("malformed logfmt at column %d: %r" % (pos, line))
        key = m.group(1)
        if key in rec:
            raise ValueError("duplicate key %s in %r" % (key, line))
        rec[key] = _unquote(m.group(2))
        pos = m.end()
        if pos < len(line):
            if line[pos] != " ":
                raise ValueError("expected a space at column %d: %r" %
                                 (pos, line))
            pos += 1
    return rec


def parse_json_line(line):
    def no_dupes(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate keys in %r" % line)
        return dict(pairs)
    rec = json.loads(line, object_pairs_hook=no_dupes)
    if not isinstance(rec, dict):
        raise ValueError("not a JSON object: %r" % line)
    return rec


TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
LEVELS = ("debug", "info", "warn", "error")


def parse_log(stderr, fmt="text"):
    """Every stderr line as a record; raises AssertionError naming the line."""
    if stderr and not stderr.endswith("\n"):
        raise AssertionError("stderr does not end with a newline: %r" %
                             stderr[-200:])
    records = []
    for line in stderr.splitlines():
        try:
            rec = parse_json_line(line) if fmt == "json" else parse_logfmt(line)
        except ValueError as e:
            raise AssertionError("stderr line is not a %s log record: %s\n"
                                 "line: %r" % (fmt, e, line))
        keys = list(rec)
        if fmt == "text" and keys[:3] != ["time", "level", "msg"]:
            raise AssertionError("log line must start time= level= msg=: %r"
                                 % line)
        for k in ("time", "level", "msg"):
            if not isinstance(rec.get(k), str):
                raise AssertionError("log record lacks %s: %r" % (k, line))
        if not TIME_RE.match(rec["time"]):
            raise AssertionError("bad time %r in %r" % (rec["time"], line))
        if rec["level"] not in LEVELS:
            raise AssertionError("bad level %r in %r" % (rec["level"], line))
        rec["_line"] = line
        records.append(rec)
    return records


def find_leaks(text, secret_values, window=SECRET_WINDOW):
    """Secrets (or window-sized pieces of them) that occur in text."""
    found = []
    for s in secret_values:
        if not s:
            continue
        if len(s) <= window:
            if s in text:
                found.append(s)
            continue
        for i in range(len(s) - window + 1):
            piece = s[i:i + window]
            if piece in text:
                found.append("%s... (piece %r of a %d-byte secret)" % (
                    s[:4], piece, len(s)))
                break
    return found


# ---------------------------------------------------------------- results

@dataclass
class Result:
    argv: List[str]
    rc: int
    stdout: str
    stderr: str
    elapsed: float
    records: list = field(default_factory=list)

    def levels(self, level):
        return [r for r in self.records if r["level"] == level]

    @property
    def errors(self):
        return self.levels("error")

    @property
    def warnings(self):
        return self.levels("warn")

    def describe(self):
        return "argv: %s\nexit: %s after %.2fs\nstdout:\n%s\nstderr:\n%s" % (
            " ".join(self.argv), self.rc, self.elapsed, self.stdout,
            self.stderr)

    def __str__(self):
        return self.describe()


def proc_stats():
    """(pid, the fields of /proc/PID/stat after the command) of every
    process: state, ppid, pgrp, session, ..."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        yield int(d), st[st.rindex(")") + 2:].split()


def session_leftovers(sid):
    """Live (non-zombie) processes still in session `sid`."""
    return [pid for pid, rest in proc_stats()
            if int(rest[3]) == sid and rest[0] != "Z"]


# ---------------------------------------------------------------- files

def expiry_record_name(token_name):
    """The binary records the reported expiry next to the token, as
    DIR/.NAME.expiry (Unix seconds and a newline), for its `check` probe."""
    return "." + token_name + ".expiry"


def check_expiry_record(token_path, mode, expires_in="any", ctx=""):
    """expires_in: "any" (present or not), None (must be absent), or the
    seconds the server reported (must be present, now + expires_in)."""
    token_path = str(token_path)
    rec = os.path.join(os.path.dirname(token_path),
                       expiry_record_name(os.path.basename(token_path)))
    if expires_in is None:
        assert not os.path.lexists(rec), \
            "expiry record %s exists without expires_in%s" % (rec, ctx)
        return
    if not os.path.lexists(rec):
        assert expires_in == "any", "no expiry record %s%s" % (rec, ctx)
        return
    with open(rec) as f:
        text = f.read()
    assert re.fullmatch(r"\d{1,18}\n", text), \
        "expiry record holds %r%s" % (text, ctx)
    st = os.lstat(rec)
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == mode, \
        "expiry record mode %o%s" % (stat.S_IMODE(st.st_mode), ctx)
    if expires_in != "any":
        want = time.time() + int(expires_in)
        assert abs(int(text) - want) <= 5, \
            "expiry record %s, expected about %d%s" % (text.strip(), want, ctx)


def token_dir_listing(directory, name="token"):
    """The directory's entries, the token's expiry record left out."""
    return sorted(n for n in os.listdir(directory)
                  if n != expiry_record_name(name))


# ---------------------------------------------------------------- harness

@dataclass
class Running:
    argv: list
    env: dict
    out_f: object
    err_f: object
    proc: object = None
    start: float = 0.0

    def stderr_now(self):
        try:
            return self.err_f.read_text(errors="replace")
        except OSError:
            return ""


class Sidecar:
    """One test's sidecar: its files, its environment, its runs."""

    def __init__(self, tmp_path, pki, binary):
        self.tmp = tmp_path
        self.pki = pki
        self.binary = binary
        self.sa_dir = tmp_path / "sa"
        self.out_dir = tmp_path / "out"
        self.sa_dir.mkdir()
        self.out_dir.mkdir()
        self.sa_path = self.sa_dir / "token"
        self.out_path = self.out_dir / "token"
        self.sa_token = random_token("sa")
        self.sa_path.write_text(self.sa_token + "\n")
        self.extra_secrets = []
        self.servers = []
        self.snapshot = None
        self.prime_output()

    # -- secrets and files --

    def add_secret(self, s):
        self.extra_secrets.append(s)

    def secrets(self):
        out = [self.sa_token] + self.extra_secrets
        for srv in self.servers:
            out += list(srv.issued_tokens)
            if srv.fixed_access_token:
                out.append(srv.fixed_access_token)
        return out

    def write_sa(self, text):
        data = text.encode() if isinstance(text, str) else text
        self.sa_path.write_bytes(data)

    def prime_output(self, content=None, mode=0o600):
        """Put a previous token in the output file and remember the state."""
        if content is None:
            content = ("previous-" + secrets.token_hex(24)).encode()
        self.out_path.write_bytes(content)
        os.chmod(self.out_path, mode)
        self.take_snapshot()

    def remove_output(self):
        self.out_path.unlink()
        self.take_snapshot()

    def take_snapshot(self):
        listing = sorted(os.listdir(self.out_dir))
        files = {}
        for name in listing:
            p = self.out_dir / name
            st = os.lstat(p)
            files[name] = (p.read_bytes() if stat.S_ISREG(st.st_mode) else None,
                           stat.S_IMODE(st.st_mode), st.st_ino)
        self.snapshot = (listing, files)

    def assert_output_unchanged(self, result=None):
        """The failure invariant: directory and token file exactly as before."""
        ctx = ("\n" + result.describe()) if result is not None else ""
        listing, files = self.snapshot
        now = sorted(os.listdir(self.out_dir))
        assert now == listing, \
            "output directory changed: %r -> %r%s" % (listing, now, ctx)
        for name, (data, mode, ino) in files.items():
            p = self.out_dir / name
            st = os.lstat(p)
            if data is not None:
                assert p.read_bytes() == data, \
                    "%s content changed on failure%s" % (name, ctx)
            assert stat.S_IMODE(st.st_mode) == mode, \
                "%s mode changed %o -> %o%s" % (
                    name, mode, stat.S_IMODE(st.st_mode), ctx)
            assert st.st_ino == ino, "%s was replaced on failure%s" % (name, ctx)

    def assert_output(self, token, mode=0o600, result=None,
                      expires_in="any"):
        """The success invariant: exactly the token, with its mode; beside
        it nothing but the expiry record (see check_expiry_record)."""
        ctx = ("\n" + result.describe()) if result is not None else ""
        name = self.out_path.name
        now = sorted(os.listdir(self.out_dir))
        extra = [n for n in now if n not in (name, expiry_record_name(name))]
        assert name in now and not extra, \
            "output directory holds %r, expected only %r (and its expiry " \
            "record)%s" % (now, name, ctx)
        data = self.out_path.read_bytes()
        want = token.encode() if isinstance(token, str) else token
        assert data == want, "token file holds %r, expected %r%s" % (
            data[:80], want[:80], ctx)
        st = os.stat(self.out_path)
        assert stat.S_ISREG(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == mode, \
            "token file mode %o, expected %o%s" % (stat.S_IMODE(st.st_mode),
                                                   mode, ctx)
        old = self.snapshot[1].get(name)
        if old is not None:
            assert st.st_ino != old[2], \
                "token file rewritten in place (same inode), not replaced " \
                "atomically by rename%s" % ctx
        check_expiry_record(self.out_path, mode, expires_in, ctx)

    # -- servers --

    def server(self, flavour="ec", leaf=None, plain=False, **kw):
        """Start an exchange server (TLS with the given chain, or plain)."""
        ctx = None
        if not plain:
            lf = leaf or self.pki.chain(flavour).leaf
            ctx = server_context(lf.chain, lf.key)
        srv = ExchangeServer(ctx, **kw)
        srv.start()
        self.servers.append(srv)
        return srv

    def env_for(self, srv=None, flavour="ec", path="/token"):
        env = {
            "SA_TOKEN_PATH": str(self.sa_path),
            "OUTPUT_TOKEN_PATH": str(self.out_path),
            "EXCHANGE_TIMEOUT": DEFAULT_TIMEOUT,
            "CA_BUNDLE_PATH": self.pki.chain(flavour).root_cert,
        }
        if srv is not None:
            env["EXCHANGE_URL"] = srv.url(path)
            if srv.ssl_context is None:
                env["ALLOW_INSECURE_HTTP"] = "true"
                del env["CA_BUNDLE_PATH"]
        return env

    # -- running --

    def spawn(self, srv=None, env=None, args=("once",), flavour="ec",
              path="/token", unset=(), binary=None, resolv_conf=None,
              wrapper=(), extra_env=None, preexec=None, chroot=None):
        """Start the binary; returns a Running handle (see finish()).

        env: variables over the defaults from env_for(srv); unset: names
        to drop; resolv_conf: text for a private /etc/resolv.conf (mount
        namespace); wrapper: argv prefix (valgrind); chroot: directory.
        """
        full = self.env_for(srv, flavour, path)
        full.update(env or {})
        for k in unset:
            full.pop(k, None)
        full = {k: v for k, v in full.items() if v is not None}
        if extra_env:
            full.update(extra_env)
        binary = binary or self.binary
        argv = list(wrapper) + [binary] + list(args)
        if chroot is not None:
            argv = [CHROOT, str(chroot)] + list(wrapper) + [binary] + list(args)
        if resolv_conf is not None:
            rc = self.tmp / ("resolv-%d.conf" % time.monotonic_ns())
            rc.write_text(resolv_conf)
            argv = [UNSHARE, "-m", "/bin/sh", "-c",
                    'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"',
                    "sh", str(rc)] + argv
        n = time.monotonic_ns()
        h = Running(argv, full, self.tmp / ("stdout-%d" % n),
                    self.tmp / ("stderr-%d" % n))
        with open(h.out_f, "wb") as so, open(h.err_f, "wb") as se:
            h.start = time.monotonic()
            h.proc = subprocess.Popen(argv, env=full, stdin=subprocess.DEVNULL,
                                      stdout=so, stderr=se, cwd=str(self.tmp),
                                      start_new_session=True,
                                      preexec_fn=preexec)
        return h

    def finish(self, h, timeout=30, check_leaks=True, check_log=True,
               log_format=None):
        """Wait for a spawned run and apply the standard checks."""
        try:
            rc_ = h.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            h.proc.kill()
            h.proc.wait()
            rc_ = None
        elapsed = time.monotonic() - h.start
        stdout = h.out_f.read_text(errors="replace")
        stderr = h.err_f.read_text(errors="replace")
        h.out_f.unlink()
        h.err_f.unlink()
        res = Result(h.argv, rc_, stdout, stderr, elapsed)
        left = session_leftovers(h.proc.pid)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if rc_ is None:
            raise AssertionError("the sidecar did not exit within %ss\n%s" %
                                 (timeout, res.describe()))
        assert not left, "processes left behind after exit: %r\n%s" % (
            left, res.describe())
        if check_leaks:
            leaks = find_leaks(stdout + stderr, self.secrets())
            assert not leaks, "SECRET LEAKED in output: %r\n%s" % (
                leaks, res.describe())
        if check_log:
            fmt = log_format or h.env.get("LOG_FORMAT") or "text"
            res.records = parse_log(stderr, fmt)
        return res

    def run(self, srv=None, timeout=30, check_leaks=True, check_log=True,
            log_format=None, signal_after=None, **kw):
        """Run the binary to completion; a Result after the standard checks
        (see spawn() for the arguments). signal_after=(sig, seconds)."""
        h = self.spawn(srv, **kw)
        if signal_after is not None:
            sig, delay = signal_after
            try:
                h.proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                h.proc.send_signal(sig)
        return self.finish(h, timeout, check_leaks, check_log, log_format)

    def close(self):
        for srv in self.servers:
            srv.stop()


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return certs.make_pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture(scope="session")
def binary():
    return require_binary(RELEASE_BIN)


@pytest.fixture(scope="session")
def version(binary):
    out = subprocess.run([binary, "version"], env={}, capture_output=True,
                         text=True, timeout=10)
    m = re.fullmatch(r"tokenbridge-sidecar (\S+)\n", out.stdout)
    assert out.returncode == 0 and m, "`version` printed %r (exit %d)" % (
        out.stdout, out.returncode)
    return m.group(1)


@pytest.fixture
def sidecar(tmp_path, pki, binary):
    sc = Sidecar(tmp_path, pki, binary)
    yield sc
    sc.close()


@pytest.fixture
def dns():
    stubs = []

    def start(mode="nxdomain", records=None, stall=()):
        d = DnsStub(mode, records, stall=stall)
        d.start()
        stubs.append(d)
        return d
    yield start
    for d in stubs:
        d.stop()


def wait_for(cond, timeout, step=0.02):
    """Poll cond() until it is true or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def expect_failure(sidecar, res, rc=1):
    """The common failure assertions: exit code, an error record, file."""
    assert res.rc == rc, "expected exit %d\n%s" % (rc, res.describe())
    assert res.errors, "no level=error log record\n%s" % res.describe()
    sidecar.assert_output_unchanged(res)


def expect_success(sidecar, res, srv=None, token=None, mode=0o600,
                   expires_in="any"):
    assert res.rc == 0, "expected success\n%s" % res.describe()
    assert not res.errors, "error records on success\n%s" % res.describe()
    if token is None:
        assert srv is not None and srv.issued_tokens, \
            "server issued nothing\n%s" % res.describe()
        token = srv.issued_tokens[-1]
    sidecar.assert_output(token, mode, res, expires_in)


@pytest.fixture(scope="module")
def oauth(tmp_path_factory):
    """oidc-provider on loopback with a client per authentication method
    (oauth_server.py), one per test module."""
    d = tmp_path_factory.mktemp("oauth")
    pki = certs.make_pki(str(d / "pki"))
    with OAuthServer(str(d / "server"), pki) as server:
        yield server
