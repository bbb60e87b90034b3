"""`check`: the probe. Per its usage text: exit 0 when OUTPUT_TOKEN_PATH
holds a token valid for 10 s more, else 1 with the reason; no network."""

import base64
import json
import secrets
import time

import pytest

from conftest import expect_success, expiry_record_name


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(exp=None, **claims):
    if exp is not None:
        claims["exp"] = exp
    claims.setdefault("sub", "system:serviceaccount:ns:" + secrets.token_hex(4))
    return "%s.%s.%s" % (b64url(b'{"alg":"RS256","typ":"JWT"}'),
                         b64url(json.dumps(claims).encode()),
                         b64url(secrets.token_bytes(64)))


def check(sidecar, srv=None, **kw):
    before = srv.connections if srv is not None else 0
    res = sidecar.run(srv, args=("check",), **kw)
    if srv is not None:
        assert srv.connections == before, "check used the network"
    return res


def expect_unusable(sidecar, res, *words):
    assert res.rc == 1, str(res)
    assert len(res.records) == 1 and res.records[0]["level"] == "error", \
        str(res)
    line = res.records[0]["_line"].lower()
    assert any(w in line for w in words), str(res)


def test_check_after_successful_exchange(sidecar):
    srv = sidecar.server(expires_in=3600)
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv, expires_in=3600)
    n = srv.connections
    res = sidecar.run(srv, args=("check",))
    assert res.rc == 0 and res.stdout == "" and res.stderr == "", str(res)
    assert srv.connections == n


def test_check_without_token(sidecar):
    sidecar.remove_output()
    srv = sidecar.server()
    res = check(sidecar, srv)
    expect_unusable(sidecar, res, str(sidecar.out_path).lower())


def test_check_empty_token(sidecar):
    sidecar.prime_output(b"")
    res = check(sidecar, sidecar.server())
    expect_unusable(sidecar, res, "empty")


@pytest.mark.parametrize("delta,ok", [(3600, True), (60, True), (-60, False),
                                      (5, False)])
def test_check_jwt_exp(sidecar, delta, ok):
    tok = jwt(int(time.time()) + delta)
    sidecar.add_secret(tok)
    sidecar.prime_output(tok.encode())
    res = check(sidecar, sidecar.server())
    if ok:
        assert res.rc == 0, str(res)
    else:
        expect_unusable(sidecar, res, "expire")
    sidecar.assert_output_unchanged(res)


def test_check_jwt_issued_by_exchange(sidecar):
    # The server issues a JWT that expires in 5 s, while claiming 3600 s:
    # the token's own exp decides.
    tok = jwt(int(time.time()) + 5)
    srv = sidecar.server()
    srv.push(srv.issue(access_token=tok, expires_in=3600))
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    res = check(sidecar, srv)
    expect_unusable(sidecar, res, "expire")


@pytest.mark.parametrize("delta,ok", [(3600, True), (-10, False)])
def test_check_recorded_expiry(sidecar, delta, ok):
    opaque = "opaque-" + secrets.token_hex(20)
    sidecar.add_secret(opaque)
    sidecar.out_path.write_text(opaque)
    (sidecar.out_dir / expiry_record_name("token")).write_text(
        "%d\n" % (int(time.time()) + delta))
    sidecar.take_snapshot()
    res = check(sidecar, sidecar.server())
    assert res.rc == (0 if ok else 1), str(res)
    sidecar.assert_output_unchanged(res)


def test_check_opaque_token_without_record(sidecar):
    res = check(sidecar, sidecar.server())
    assert res.rc == 0, str(res)


def test_check_bad_configuration(sidecar):
    res = check(sidecar, sidecar.server(), env={"TOKEN_FILE_MODE": "abc"})
    assert res.rc == 2, str(res)
