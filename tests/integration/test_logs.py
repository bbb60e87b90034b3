"""Log format and levels. (Every run in the suite is already checked for
well-formed lines and for secrets; these tests cover the settings.)"""

import pytest

from conftest import expect_failure, expect_success
from exchange_server import Reply


def test_json_success(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"LOG_FORMAT": "json"})
    expect_success(sidecar, res, srv)
    assert res.records, "no log record on success"
    for r in res.records:
        assert r["_line"].startswith("{") and r["_line"].endswith("}")


@pytest.mark.parametrize("reply", ["400", "stall"])
def test_json_failure(sidecar, reply):
    srv = sidecar.server()
    srv.push(Reply(status=400, body={"error": "invalid_grant",
                                     "error_description": 'quote " back \\ nl \n'})
             if reply == "400" else Reply(action="stall"))
    res = sidecar.run(srv, env={"LOG_FORMAT": "json", "EXCHANGE_TIMEOUT": "1s"})
    expect_failure(sidecar, res)


def test_json_plain_http_warning(sidecar):
    srv = sidecar.server(plain=True)
    res = sidecar.run(srv, env={"LOG_FORMAT": "json"})
    expect_success(sidecar, res, srv)
    assert res.warnings


def test_log_level_error_is_quiet_on_success(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"LOG_LEVEL": "error"})
    expect_success(sidecar, res, srv)
    assert res.stderr == "", "LOG_LEVEL=error printed:\n%s" % res


def test_log_level_error_still_reports_failure(sidecar):
    srv = sidecar.server()
    srv.push(Reply(status=400, body={"error": "invalid_grant"}))
    res = sidecar.run(srv, env={"LOG_LEVEL": "error"})
    expect_failure(sidecar, res)
    assert all(r["level"] == "error" for r in res.records), str(res)


def test_log_level_warn_hides_info(sidecar):
    srv = sidecar.server(plain=True)
    res = sidecar.run(srv, env={"LOG_LEVEL": "warn"})
    expect_success(sidecar, res, srv)
    assert res.warnings, "the plain-http warning must survive LOG_LEVEL=warn"
    assert not res.levels("info") and not res.levels("debug"), str(res)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_debug_level_leaks_nothing(sidecar, fmt):
    # Debug logging is where secrets usually slip out; the harness checks
    # every 8-byte piece of both tokens against the output.
    srv = sidecar.server()
    res = sidecar.run(srv, env={"LOG_LEVEL": "debug", "LOG_FORMAT": fmt,
                                "AUDIENCE": "aud"})
    expect_success(sidecar, res, srv)
    srv.push(Reply(status=400, body={"error": "invalid_grant"}))
    sidecar.take_snapshot()
    res = sidecar.run(srv, env={"LOG_LEVEL": "debug", "LOG_FORMAT": fmt})
    expect_failure(sidecar, res)


def test_server_echoing_tokens_in_error_is_redacted(sidecar):
    # A hostile or buggy server puts the subject token into its
    # error_description: it must not reach the log.
    srv = sidecar.server()
    srv.handler = lambda req: Reply(status=400, body={
        "error": "invalid_grant",
        "error_description": "bad token " + req.form.get("subject_token", "")})
    res = sidecar.run(srv)
    expect_failure(sidecar, res)


ECHOES = {
    # Identity providers often quote the start of a rejected JWT in their
    # error text; a redirect or a Content-Type can carry it too.
    "description-prefix": lambda t: Reply(status=400, body={
        "error": "invalid_grant",
        "error_description": "JWT %s... is not valid" % t[:24]}),
    "description-middle": lambda t: Reply(status=400, body={
        "error": "invalid_grant",
        "error_description": "bad signature in %s" % t[30:60]}),
    "description-suffix": lambda t: Reply(status=400, body={
        "error": "invalid_grant", "error_description": "...%s" % t[-24:]}),
    "error-code": lambda t: Reply(status=400, body={"error": t}),
    "location": lambda t: Reply(status=302, headers=[
        ("Location", "https://login.example.test/retry?subject_token=" + t)]),
    "content-type": lambda t: Reply(status=500, body="oops",
                                    content_type="text/plain; t=" + t),
}


@pytest.mark.parametrize("vector", sorted(ECHOES))
def test_server_echoing_subject_token_is_not_logged(sidecar, vector):
    # The contract: not even a part of a token in any log line, whatever
    # the server sends back. A realistic ServiceAccount JWT is ~900 bytes.
    import secrets as _s
    sidecar.sa_token = "eyJ" + _s.token_urlsafe(60) + "." + \
        _s.token_urlsafe(450) + "." + _s.token_urlsafe(190)
    sidecar.write_sa(sidecar.sa_token + "\n")
    srv = sidecar.server()
    srv.handler = lambda req: ECHOES[vector](req.form.get("subject_token", ""))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)


@pytest.mark.parametrize("field", ["token_type", "issued_token_type"])
def test_success_fields_echoing_the_access_token_not_logged(sidecar, field):
    # A buggy server puts the token into another member; the success log
    # line reports token_type and issued_token_type, and must not carry it.
    srv = sidecar.server()
    reply = srv.issue()
    body = dict(reply.body)
    body[field] = reply.access_token
    reply.body = body
    srv.push(reply)
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
