"""The ServiceAccount token file in, the access token file out."""

import os

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
