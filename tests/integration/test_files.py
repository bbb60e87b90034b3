"""The ServiceAccount token file in, the access token file out."""

import os
import signal
import time

import pytest

from conftest import expect_failure, expect_success, token_dir_listing


@pytest.mark.parametrize("content", [b"", b"\n", b" \t\r\n\n", b"\n\n\n"])
def test_empty_subject_token_sends_nothing(sidecar, content):
    sidecar.write_sa(content)
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.connections == 0, "connected with an empty subject token"
    assert any(str(sidecar.sa_path) in r["_line"] or "SA_TOKEN_PATH" in r["_line"]
               for r in res.errors), "error does not name the file\n%s" % res


def test_missing_subject_token_file(sidecar):
    sidecar.sa_path.unlink()
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.connections == 0
    assert any(str(sidecar.sa_path) in r["_line"] for r in res.errors), str(res)


def test_subject_token_path_is_directory(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"SA_TOKEN_PATH": str(sidecar.sa_dir)})
    expect_failure(sidecar, res)
    assert srv.connections == 0


@pytest.mark.parametrize("bad", [b"\x00", b"\x01", b"\x1b[2J", b"\x7f"])
def test_subject_token_with_control_characters(sidecar, bad):
    tok = sidecar.sa_token.encode()
    sidecar.write_sa(tok[:20] + bad + tok[20:] + b"\n")
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.connections == 0


def test_oversized_subject_token(sidecar):
    tok = (sidecar.sa_token * 400)[:64 * 1024]
    sidecar.write_sa(tok)
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.connections == 0


def test_subject_token_reread_each_run(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    first = sidecar.sa_token
    from exchange_server import random_token
    sidecar.sa_token = random_token("sa")
    sidecar.add_secret(first)
    sidecar.write_sa(sidecar.sa_token)
    sidecar.take_snapshot()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    assert [r.form["subject_token"] for r in srv.requests] == \
        [first, sidecar.sa_token]


def test_output_directory_missing(sidecar):
    missing = sidecar.tmp / "no-such-dir" / "token"
    srv = sidecar.server()
    res = sidecar.run(srv, env={"OUTPUT_TOKEN_PATH": str(missing)})
    assert res.rc == 1, str(res)
    assert res.errors
    assert not missing.parent.exists(), "the sidecar created the directory"
    sidecar.assert_output_unchanged(res)


def test_output_path_is_a_directory(sidecar):
    target = sidecar.out_dir / "token"
    target.unlink()
    target.mkdir()
    (target / "keep").write_text("x")
    sidecar.take_snapshot()
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert (target / "keep").read_text() == "x"
    assert os.listdir(target) == ["keep"]


def test_output_symlink_replaced_not_followed_out_of_dir(sidecar):
    # Kubernetes projects files through symlinks; the sidecar replaces the
    # name in OUTPUT_TOKEN_PATH's directory (rename semantics) and must not
    # write through to the link's target.
    outside = sidecar.tmp / "outside-target"
    outside.write_bytes(b"must-stay")
    sidecar.out_path.unlink()
    os.symlink(outside, sidecar.out_path)
    sidecar.take_snapshot()
    srv = sidecar.server()
    res = sidecar.run(srv)
    assert res.rc == 0, str(res)
    assert outside.read_bytes() == b"must-stay", \
        "the token was written through the symlink"
    assert not os.path.islink(sidecar.out_path)
    assert sidecar.out_path.read_bytes() == srv.issued_tokens[-1].encode()
    assert token_dir_listing(sidecar.out_dir) == ["token"]


def test_other_files_in_output_directory_untouched(sidecar):
    (sidecar.out_dir / "neighbour").write_bytes(b"neighbour-content")
    sidecar.take_snapshot()
    srv = sidecar.server()
    res = sidecar.run(srv)
    assert res.rc == 0, str(res)
    assert token_dir_listing(sidecar.out_dir) == ["neighbour", "token"]
    assert (sidecar.out_dir / "neighbour").read_bytes() == b"neighbour-content"
    assert sidecar.out_path.read_bytes() == srv.issued_tokens[-1].encode()


FULL_DISK_SCRIPT = r'''
PATH=/usr/sbin:/usr/bin:/sbin:/bin
d="$1"; rep="$2"; old="$3"; shift 3
mount -t tmpfs -o size=16k,mode=0755 tmpfs "$d" || exit 90
printf %s "$old" > "$d/token" && chmod 600 "$d/token" || exit 91
"$@"; rc=$?
ls -A "$d" > "$rep.ls"; cat "$d/token" > "$rep.tok"
exit $rc
'''


def test_disk_full_keeps_old_token_and_leaves_no_temp_file(sidecar):
    # The output directory is a 16 KB tmpfs (private mount namespace) and
    # the new token is 24 KB: writing it fails with ENOSPC part-way.
    from conftest import UNSHARE
    import secrets as _s
    full = sidecar.tmp / "full"
    full.mkdir()
    report = sidecar.tmp / "report"
    old = "old-" + _s.token_hex(40)
    tok = "at" + _s.token_urlsafe(18 * 1024)
    srv = sidecar.server()
    srv.push(srv.issue(access_token=tok))
    wrapper = [UNSHARE, "-m", "/bin/sh", "-c", FULL_DISK_SCRIPT, "sh",
               str(full), str(report), old]
    res = sidecar.run(srv, wrapper=wrapper,
                      env={"OUTPUT_TOKEN_PATH": str(full / "token")})
    assert res.rc == 1, "expected exit 1 on a full disk\n%s" % res
    assert any("space" in r["_line"].lower() for r in res.errors), \
        "the error should say the disk is full\n%s" % res
    assert len(srv.requests) == 1
    listing = (sidecar.tmp / "report.ls").read_text().split()
    assert listing == ["token"], \
        "files left in the output directory: %r\n%s" % (listing, res)
    assert (sidecar.tmp / "report.tok").read_text() == old, \
        "the old token was changed on a failed write"


def test_projected_volume_symlinks(sidecar):
    # The kubelet's projected volume layout: token -> ..data/token,
    # ..data -> ..2024_01_01_00_00_00.123 (a timestamped directory).
    vol = sidecar.tmp / "projected"
    stamp = vol / "..2024_01_01_00_00_00.123456789"
    stamp.mkdir(parents=True)
    (stamp / "token").write_text(sidecar.sa_token)
    os.symlink(stamp.name, vol / "..data")
    os.symlink("..data/token", vol / "token")
    srv = sidecar.server()
    res = sidecar.run(srv, env={"SA_TOKEN_PATH": str(vol / "token")})
    expect_success(sidecar, res, srv)
    assert srv.requests[0].form["subject_token"] == sidecar.sa_token


def test_relative_output_path(sidecar):
    # cwd is the test's tmp directory, so "out/token" is sidecar.out_path.
    srv = sidecar.server()
    res = sidecar.run(srv, env={"OUTPUT_TOKEN_PATH": "out/token"})
    expect_success(sidecar, res, srv)


def test_bare_file_name_output_path(sidecar):
    # A name without a directory: the temp file goes in the cwd.
    srv = sidecar.server()
    before = set(os.listdir(sidecar.tmp))
    res = sidecar.run(srv, env={"OUTPUT_TOKEN_PATH": "token-here"})
    assert res.rc == 0, str(res)
    here = sidecar.tmp / "token-here"
    assert here.read_bytes() == srv.issued_tokens[-1].encode()
    new = set(os.listdir(sidecar.tmp)) - before
    assert new - {".token-here.expiry"} == {"token-here"}, \
        "files left in the cwd: %r" % new


def test_concurrent_writers(sidecar):
    # Two sidecars writing one file at the same time: both succeed, the
    # file holds one complete token, no temporary file is left.
    srv = sidecar.server()
    hs = [sidecar.spawn(srv) for _ in range(4)]
    results = [sidecar.finish(h) for h in hs]
    for r in results:
        assert r.rc == 0, str(r)
    assert token_dir_listing(sidecar.out_dir) == ["token"]
    assert sidecar.out_path.read_bytes().decode() in srv.issued_tokens
    assert len(srv.issued_tokens) == 4


# ---------------------------------------------------------- the directory

def test_directory_swapped_for_a_symlink_is_not_followed(sidecar):
    # OUTPUT_TOKEN_PATH=.../app/token. A container that can write to the
    # volume replaces `app` by a symlink between two refreshes: the token,
    # its expiry record and the sweep must stay in the directory opened at
    # start, and a SIGHUP (reload) says that the path was replaced.
    from loop_support import LoopRun
    app = sidecar.out_dir / "app"
    app.mkdir()
    token = app / "token"
    moved = sidecar.out_dir / "app-moved"
    elsewhere = sidecar.tmp / "elsewhere"
    elsewhere.mkdir()
    srv = sidecar.server(expires_in=3600)
    run = LoopRun(sidecar, srv, env={"OUTPUT_TOKEN_PATH": str(token)})
    try:
        run.wait_msg("token written", timeout=10)
        os.rename(app, moved)
        os.symlink(elsewhere, app)
        mark = run.mark()
        run.signal(signal.SIGHUP)
        run.wait_msg("token written", timeout=10, start=mark)
        warn = run.wait_for(lambda r: "no longer names the directory" in
                            r["msg"], 5, "the replaced-path warning", mark)
        assert warn["level"] == "warn" and warn["path"] == str(app), \
            warn["_line"]
        assert run.stop() is not None
    finally:
        run.close()
    assert run.finish() == 0, run
    assert os.listdir(elsewhere) == [], \
        "written through the symlink: %r\n%s" % (os.listdir(elsewhere), run)
    assert (moved / "token").read_bytes() == srv.issued_tokens[-1].encode()
    assert len(srv.issued_tokens) == 2
    assert token_dir_listing(moved) == ["token"]


def test_directory_removed_after_start_is_refused(sidecar):
    # The directory opened at start is gone (and its path now a symlink):
    # the token is written nowhere, and the error says why.
    from loop_support import LoopRun
    app = sidecar.out_dir / "app"
    app.mkdir()
    elsewhere = sidecar.tmp / "elsewhere"
    elsewhere.mkdir()
    srv = sidecar.server(expires_in=3600)
    run = LoopRun(sidecar, srv, env={"OUTPUT_TOKEN_PATH": str(app / "token")})
    try:
        run.wait_msg("token written", timeout=10)
        for name in os.listdir(app):
            os.unlink(app / name)
        os.rmdir(app)
        os.symlink(elsewhere, app)
        mark = run.mark()
        run.signal(signal.SIGHUP)
        fail = run.wait_msg("token refresh failed", timeout=10, start=mark)
        assert "has been removed" in fail["error"], fail["_line"]
        assert run.stop() is not None
    finally:
        run.close()
    assert run.finish() == 0, run
    assert os.listdir(elsewhere) == [], os.listdir(elsewhere)


def test_symlinked_output_directory_refused_at_start(sidecar):
    real = sidecar.tmp / "real"
    real.mkdir()
    link = sidecar.tmp / "link"
    os.symlink(real, link)
    srv = sidecar.server()
    res = sidecar.run(srv, env={"OUTPUT_TOKEN_PATH": str(link / "token")})
    assert res.rc == 2, str(res)
    assert srv.connections == 0
    assert any("symlink" in r["_line"] for r in res.errors), str(res)
    assert os.listdir(real) == []


def test_leftovers_of_long_names_and_expiry_records_are_swept(sidecar):
    # What a SIGKILL between create and rename leaves: the writer cuts the
    # name to 200 bytes, the expiry record's (.NAME.expiry) too (a short
    # name's record gives ..NAME.expiry.tmp-*: see test_tokenfile.c).
    name = "t" * 230
    old = time.time() - 3600
    left = [".%s.tmp-00112233aabb" % name[:200],
            "..%s.tmp-00112233aabb" % name[:199]]
    for n in left:
        p = sidecar.out_dir / n
        p.write_bytes(b"old-secret")
        os.utime(p, (old, old))
    srv = sidecar.server()
    res = sidecar.run(srv, env={
        "OUTPUT_TOKEN_PATH": str(sidecar.out_dir / name)})
    assert res.rc == 0, str(res)
    assert [r.get("count") for r in res.records
            if r["msg"].startswith("removed temporary files")] == ["2"], \
        str(res)
    assert sorted(os.listdir(sidecar.out_dir)) == sorted(
        ["token", name, "." + name + ".expiry"]), os.listdir(sidecar.out_dir)
    assert sidecar.out_path.read_bytes() == sidecar.snapshot[1]["token"][0]


# ---------------------------------------------------------- subPath

SUBPATH_SCRIPT = r'''
PATH=/usr/sbin:/usr/bin:/sbin:/bin
src="$1"; dst="$2"; shift 2
mount --bind "$src" "$dst" || exit 90
exec "$@"
'''


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root for a mount "
                    "namespace")
@pytest.mark.parametrize("args", [("once",), ("run",)])
def test_subpath_mount_of_the_token_file_is_refused(sidecar, args):
    # The kubelet's subPath mount bind-mounts the file itself: the rename
    # of a refresh replaces the name in the directory, never the mounted
    # inode. Here a file on the same file system is bind-mounted over
    # OUTPUT_TOKEN_PATH in a private mount namespace (same st_dev: only
    # the mount id tells).
    from conftest import UNSHARE
    src = sidecar.tmp / "pinned"
    src.write_bytes(b"pinned")
    srv = sidecar.server()
    wrapper = [UNSHARE, "-m", "/bin/sh", "-c", SUBPATH_SCRIPT, "sh",
               str(src), str(sidecar.out_path)]
    res = sidecar.run(srv, wrapper=wrapper, args=args, timeout=10)
    assert res.rc == 2, str(res)
    assert srv.connections == 0
    line = " ".join(r["_line"] for r in res.errors)
    assert "mount point" in line and "subPath" in line, str(res)
    assert src.read_bytes() == b"pinned"
    sidecar.assert_output_unchanged(res)


# ---------------------------------------------------------- check hardening

def test_check_is_not_dumpable_before_it_reads_the_token(sidecar, binary):
    # `check` reads the token back: core dumps must be off and the process
    # not dumpable (not readable by others of its user) before it opens the
    # token. strace shows the order of the system calls.
    import shutil
    import subprocess
    strace = shutil.which("strace")
    assert strace, "strace: make deps-test"
    sidecar.out_path.write_text("opaque-token")
    env = sidecar.env_for(sidecar.server())
    # The sanitizer build's leak checker cannot run under ptrace.
    env["ASAN_OPTIONS"] = "detect_leaks=0"
    log = sidecar.tmp / "strace.log"
    p = subprocess.run([strace, "-o", str(log), "-e",
                        "trace=prctl,setrlimit,prlimit64,open,openat",
                        binary, "check"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    calls = log.read_text().splitlines()
    token = [i for i, c in enumerate(calls) if str(sidecar.out_path) in c]
    dumpable = [i for i, c in enumerate(calls) if "PR_SET_DUMPABLE" in c and
                ("SUID_DUMP_DISABLE" in c or "PR_SET_DUMPABLE, 0" in c)]
    core = [i for i, c in enumerate(calls)
            if "RLIMIT_CORE" in c and "rlim_cur=0" in c]
    assert token and dumpable and core, "\n".join(calls)
    assert dumpable[0] < token[0] and core[0] < token[0], \
        "hardening after the token was opened:\n" + "\n".join(calls)


def test_check_does_not_wait_on_a_fifo(sidecar, binary):
    # A FIFO (or device) put in the token's place must not hold the probe,
    # nor the listener that reads the same file, in open().
    import subprocess
    os.unlink(sidecar.out_path)
    os.mkfifo(sidecar.out_path, 0o600)
    env = sidecar.env_for(sidecar.server())
    t = time.monotonic()
    p = subprocess.run([binary, "check"], env=env, capture_output=True,
                       text=True, timeout=10)
    assert time.monotonic() - t < 2
    assert p.returncode == 1, p.stderr
    assert "not a regular file" in p.stderr, p.stderr
