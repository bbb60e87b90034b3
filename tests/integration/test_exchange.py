"""The exchange itself: what the sidecar sends, what it accepts, what it
writes, over real TLS against exchange_server.py."""

import json
import os
import secrets
import urllib.parse

import pytest

from conftest import expect_failure, expect_success
from exchange_server import Reply, random_token

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
DEFAULT_STT = "urn:ietf:params:oauth:token-type:id_token"
EXPECTED_HEADERS = {"host", "content-type", "content-length", "accept",
                    "cache-control", "user-agent", "connection"}


def query_escape(s):
    """Go's url.QueryEscape."""
    return urllib.parse.quote_plus(s, safe="")


def expected_form(sa_token, audience=None, stt=DEFAULT_STT):
    parts = []
    if audience is not None:
        parts.append("audience=" + query_escape(audience))
    parts.append("grant_type=" + query_escape(GRANT_TYPE))
    parts.append("subject_token=" + query_escape(sa_token))
    parts.append("subject_token_type=" + query_escape(stt))
    return "&".join(parts).encode()


def check_request(req, port, version, body, target="/token"):
    assert req.method == "POST"
    assert req.version == "HTTP/1.1"
    assert req.target == target
    names = [n.lower() for n in req.header_names]
    assert len(names) == len(set(names)), "duplicate headers: %r" % req.headers
    assert set(names) == EXPECTED_HEADERS, "headers sent: %r" % req.headers
    assert req.header("Host") == "localhost:%d" % port
    assert req.header("Content-Type") == "application/x-www-form-urlencoded"
    assert req.header("Content-Length") == str(len(req.body))
    assert req.header("Accept") == "application/json"
    assert req.header("Cache-Control") == "no-store"
    assert req.header("User-Agent") == "tokenbridge-sidecar/" + version
    assert req.header("Connection") == "close"
    assert req.body == body, "form body\n got: %r\nwant: %r" % (req.body, body)


@pytest.mark.parametrize("flavour", ["ec", "rsa"])
def test_success_full_request(sidecar, version, flavour):
    srv = sidecar.server(flavour)
    res = sidecar.run(srv, flavour=flavour,
                      path="/oauth2/v1/token?tenant=t-1&q=a%20b#fragment")
    expect_success(sidecar, res, srv)
    assert len(srv.requests) == 1 and srv.connections == 1
    req = srv.requests[0]
    check_request(req, srv.port, version, expected_form(sidecar.sa_token),
                  target="/oauth2/v1/token?tenant=t-1&q=a%20b")
    form = req.form_pairs
    assert [k for k, _ in form] == ["grant_type", "subject_token",
                                    "subject_token_type"]
    assert req.form["subject_token"] == sidecar.sa_token
    assert req.form["grant_type"] == GRANT_TYPE
    assert req.form["subject_token_type"] == DEFAULT_STT
    assert req.sni == "localhost", "SNI sent: %r" % req.sni
    assert req.tls_version == "TLSv1.2"
    assert any(str(sidecar.out_path) in r["_line"] for r in res.levels("info")), \
        "no info record names the token file\n%s" % res


def test_url_without_path_sends_slash(sidecar, version):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"EXCHANGE_URL": "https://localhost:%d" %
                                srv.port})
    expect_success(sidecar, res, srv)
    assert srv.requests[0].target == "/"


def test_audience_present(sidecar, version):
    audience = "https://api.example.test/v1 äö?x=1&y=%2F~_.-"
    srv = sidecar.server()
    res = sidecar.run(srv, env={"AUDIENCE": audience})
    expect_success(sidecar, res, srv)
    req = srv.requests[0]
    check_request(req, srv.port, version,
                  expected_form(sidecar.sa_token, audience=audience))
    assert [k for k, _ in req.form_pairs] == [
        "audience", "grant_type", "subject_token", "subject_token_type"]
    assert req.form["audience"] == audience


def test_audience_empty_counts_as_absent(sidecar, version):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"AUDIENCE": ""})
    expect_success(sidecar, res, srv)
    check_request(srv.requests[0], srv.port, version,
                  expected_form(sidecar.sa_token))


def test_custom_subject_token_type(sidecar, version):
    stt = "urn:ietf:params:oauth:token-type:jwt"
    srv = sidecar.server()
    res = sidecar.run(srv, env={"SUBJECT_TOKEN_TYPE": stt})
    expect_success(sidecar, res, srv)
    check_request(srv.requests[0], srv.port, version,
                  expected_form(sidecar.sa_token, stt=stt))


def test_subject_token_needing_escapes(sidecar, version):
    # Not a JWT, but a file may hold anything printable: every byte class
    # of QueryEscape (kept, '+' for space, %XX) must come out as Go's.
    tok = "sa" + secrets.token_urlsafe(24) + " +/=&%~._-:" + \
        secrets.token_urlsafe(24)
    sidecar.sa_token = tok
    sidecar.write_sa(tok + "\n")
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    check_request(srv.requests[0], srv.port, version, expected_form(tok))
    assert srv.requests[0].form["subject_token"] == tok


@pytest.mark.parametrize("trailer", ["\n", "\r\n", " \t\r\n\n\n", "", "  "])
def test_subject_token_trailing_whitespace_dropped(sidecar, trailer):
    sidecar.write_sa(sidecar.sa_token + trailer)
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    assert srv.requests[0].form["subject_token"] == sidecar.sa_token


@pytest.mark.parametrize("mode,umask", [(0o600, 0o022), (0o640, 0o022),
                                        (0o640, 0o077), (0o644, 0o077),
                                        (0o400, 0o022)])
def test_token_file_mode(sidecar, mode, umask):
    # TOKEN_FILE_MODE is the file's mode, whatever the process umask.
    srv = sidecar.server()
    env = {} if mode == 0o600 and umask == 0o022 else \
        {"TOKEN_FILE_MODE": "%04o" % mode}
    res = sidecar.run(srv, env=env, preexec=lambda: os.umask(umask))
    expect_success(sidecar, res, srv, mode=mode)


def test_token_file_mode_three_digits(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv, env={"TOKEN_FILE_MODE": "640"})
    expect_success(sidecar, res, srv, mode=0o640)


def test_output_created_when_absent(sidecar):
    sidecar.remove_output()
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)


def test_previous_mode_not_inherited(sidecar):
    sidecar.prime_output(b"old-token", mode=0o644)
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv, mode=0o600)


def test_second_run_replaces_token(sidecar):
    srv = sidecar.server()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    sidecar.take_snapshot()
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)
    assert len(set(srv.issued_tokens)) == 2


# ------------------------------------------------------------ responses

@pytest.mark.parametrize("expires_in", [3600, "3600", None, 0, 86400 * 365])
def test_expires_in_forms(sidecar, expires_in):
    srv = sidecar.server()
    srv.push(srv.issue(expires_in=expires_in))
    res = sidecar.run(srv)
    # 0 is an unknown lifetime, as Go's oauth2 reads it: no expiry record
    # (one saying "now" would make `check` refuse the token).
    expect_success(sidecar, res, srv,
                   expires_in=None if expires_in == 0 else expires_in)


FRAMINGS = {
    "content-length": dict(framing="length"),
    "chunked": dict(framing="chunked"),
    "chunked-1-byte-chunks": dict(framing="chunked", chunk_sizes=[1] * 4096),
    "chunked-ext-trailers": dict(framing="chunked", chunk_ext=";ext=1",
                                 trailers=[("X-Trailer", "yes")]),
    "read-to-close": dict(framing="close"),
    "in-pieces": dict(pieces=5, piece_delay=0.05),
    "chunked-in-pieces": dict(framing="chunked", pieces=7, piece_delay=0.03),
    "100-continue-first": dict(interim=[100]),
    "two-interims": dict(interim=[100, 102], framing="chunked"),
    "no-content-type": dict(content_type=None),
    "json-charset": dict(content_type="application/json; charset=utf-8"),
}


@pytest.mark.parametrize("name", sorted(FRAMINGS))
def test_response_framing(sidecar, name):
    srv = sidecar.server()
    srv.push(srv.issue(**FRAMINGS[name]))
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)


def _raw_ok(tok, head, body=None):
    body = body if body is not None else json.dumps({"access_token": tok})
    return Reply(raw=head.replace(b"LEN", str(len(body)).encode()) +
                 body.encode())


RAW_OK = {
    "lower-case-headers": b"HTTP/1.1 200 OK\r\ncontent-type: application/json"
                          b"\r\ncontent-length: LEN\r\n\r\n",
    "upper-case-headers": b"HTTP/1.1 200 OK\r\nCONTENT-TYPE: application/json"
                          b"\r\nCONTENT-LENGTH: LEN\r\n\r\n",
    "no-reason-phrase": b"HTTP/1.1 200 \r\nContent-Length: LEN\r\n\r\n",
    "header-spaces": b"HTTP/1.1 200 OK\r\nContent-Length:   LEN  \r\n"
                     b"X-Empty:\r\n\r\n",
    "chunked-capitalised": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked"
                           b"\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(RAW_OK))
def test_response_header_spelling(sidecar, name):
    tok = random_token()
    sidecar.add_secret(tok)
    head = RAW_OK[name]
    body = json.dumps({"access_token": tok})
    if b"Chunked" in head:
        body_raw = "%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        reply = Reply(raw=head + body_raw.encode())
    else:
        reply = _raw_ok(tok, head)
    srv = sidecar.server()
    srv.push(reply)
    res = sidecar.run(srv)
    expect_success(sidecar, res, token=tok)


@pytest.mark.parametrize("flavour", ["ec", "rsa"])
def test_large_access_token(sidecar, flavour):
    tok = "at" + secrets.token_urlsafe(12 * 1024)    # 16 KB
    srv = sidecar.server(flavour)
    srv.push(srv.issue(access_token=tok, framing="chunked"))
    res = sidecar.run(srv, flavour=flavour)
    expect_success(sidecar, res, srv, token=tok)


def test_access_token_json_escapes_decoded(sidecar):
    a, b = "at" + secrets.token_urlsafe(30), secrets.token_urlsafe(30)
    tok = a + "/" + b + "A"
    body = '{"token_type":"Bearer","access_token":"%s\\/%s\\u0041",' \
        '"expires_in":60}' % (a, b)
    srv = sidecar.server()
    sidecar.add_secret(tok)
    srv.push(Reply(body=body))
    res = sidecar.run(srv)
    expect_success(sidecar, res, token=tok)


def test_extra_members_ignored(sidecar):
    srv = sidecar.server()
    srv.push(srv.issue(extra={"scope": "a b", "refresh_token": None,
                              "nested": {"x": [1, 2, {"y": True}]}}))
    res = sidecar.run(srv)
    expect_success(sidecar, res, srv)


# ------------------------------------------------------------ errors

def test_http_400_invalid_grant(sidecar):
    desc = "subject token expired (ref %s)" % secrets.token_hex(6)
    srv = sidecar.server()
    srv.push(Reply(status=400, body={"error": "invalid_grant",
                                     "error_description": desc}))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert srv.connections == 1, "once must not retry"
    lines = [r for r in res.errors
             if "invalid_grant" in r["_line"] and
             any(desc in v for v in r.values())]
    assert lines, "no error record with the RFC 6749 error and " \
        "description\n%s" % res


def test_http_401_error_without_description(sidecar):
    srv = sidecar.server()
    srv.push(Reply(status=401, body={"error": "invalid_client"}))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert any("invalid_client" in r["_line"] for r in res.errors), str(res)


@pytest.mark.parametrize("status,ctype", [(500, "text/html"),
                                          (503, "text/plain"),
                                          (400, "application/json")])
def test_http_error_raw_body_never_logged(sidecar, status, ctype):
    # A word as long as a token is withheld from the excerpt of a text
    # body, and JSON members other than the error's are never shown.
    marker = "RAWBODY" + secrets.token_hex(24)
    body = "<html><body>failure %s</body></html>" % marker
    if ctype == "application/json":
        body = '{"error":"invalid_request","debug":"%s"}' % marker
    srv = sidecar.server()
    srv.push(Reply(status=status, body=body, content_type=ctype))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert marker not in res.stdout + res.stderr, \
        "raw response body logged\n%s" % res
    assert any(str(status) in r["_line"] for r in res.errors), \
        "status %d not named\n%s" % (status, res)


@pytest.mark.parametrize("ctype", ["text/plain", "text/html"])
def test_http_error_short_text_body_is_shown(sidecar, ctype):
    # A gateway's plain answer says what went wrong: it is logged, cleaned
    # and bounded (issue 13), where it used to read "not JSON".
    srv = sidecar.server()
    srv.push(Reply(status=502, body="upstream connect error or disconnect",
                   content_type=ctype))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert any("upstream connect error or disconnect" in r.get("error", "")
               for r in res.errors), str(res)


def test_error_description_cannot_forge_log_lines(sidecar):
    desc = "bad\nlevel=info msg=forged\r\n\x1b[31mred\u2028end"
    srv = sidecar.server()
    srv.push(Reply(status=400, body={"error": "invalid_grant",
                                     "error_description": desc}))
    res = sidecar.run(srv)      # every line is checked to be one record
    expect_failure(sidecar, res)
    assert not [r for r in res.records if r["msg"] == "forged"], str(res)
    assert "\x1b" not in res.stderr, "raw escape character logged\n%s" % res


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_is_error_naming_location(sidecar, status):
    other = sidecar.server()
    srv = sidecar.server()
    location = other.url("/moved/token?from=%d" % status)
    srv.push(Reply(status=status, headers=[("Location", location)],
                   body="", content_type=None))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert any(location in r["_line"] for r in res.errors), \
        "error does not name the Location %s\n%s" % (location, res)
    assert other.connections == 0, "the redirect was followed"
    assert srv.connections == 1


BAD_SUCCESS_BODIES = {
    "missing-access-token": {"token_type": "Bearer", "expires_in": 3600,
                             "issued_token_type": "x"},
    "access-token-number": {"access_token": 12345, "token_type": "Bearer"},
    "access-token-null": {"access_token": None},
    "access-token-object": {"access_token": {"v": "x"}},
    "access-token-empty": {"access_token": "", "token_type": "Bearer"},
    "not-json": "access_token=abc&token_type=Bearer",
    "json-array": [{"access_token": "abc"}],
    "truncated-json": '{"access_token":"abc","token_type":"Bea',
    "trailing-garbage": '{"access_token":"abc"} xyz',
    "empty-body": "",
}


@pytest.mark.parametrize("status", [204, 202])
def test_success_status_without_token(sidecar, status):
    srv = sidecar.server()
    srv.push(Reply(status=status, body=b"" if status == 204 else
                   {"status": "pending"}, framing="close" if status == 204
                   else "length"))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)


@pytest.mark.parametrize("name", sorted(BAD_SUCCESS_BODIES))
def test_unusable_success_response(sidecar, name):
    srv = sidecar.server()
    srv.push(Reply(status=200, body=BAD_SUCCESS_BODIES[name]))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)


BAD_FRAMES = {
    # Content-Length promises more than arrives before the close.
    "short-body": Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Type: application/json"
                        b"\r\nContent-Length: 200\r\n\r\n{\"access_token\":\"abc\"}"),
    "bad-chunk-size": Reply(raw=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
                            b"\r\n\r\nzz\r\n{\"access_token\":\"abc\"}\r\n0\r\n\r\n"),
    "chunked-no-terminator": Reply(raw=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                   b"chunked\r\n\r\n16\r\n{\"access_token\":"
                                   b"\"abc\"}\r\n"),
    "not-http": Reply(raw=b"SSH-2.0-OpenSSH_9.2\r\n"),
    "headers-only-then-close": Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Type: "
                                     b"application/json\r\n"),
    "conflicting-lengths": Reply(raw=b"HTTP/1.1 200 OK\r\nContent-Length: 22\r\n"
                                 b"Content-Length: 5\r\n\r\n"
                                 b"{\"access_token\":\"abc\"}"),
    "huge-body": Reply(body={"access_token": "abc", "pad": "x" * 100_000}),
    "huge-headers": Reply(headers=[("X-Pad-%d" % i, "y" * 1000)
                                   for i in range(24)],
                          body={"access_token": "abc"}),
}


@pytest.mark.parametrize("name", sorted(BAD_FRAMES))
def test_malformed_http_response(sidecar, name):
    srv = sidecar.server()
    srv.push(BAD_FRAMES[name])
    res = sidecar.run(srv)
    expect_failure(sidecar, res)


@pytest.mark.parametrize("action", ["close", "close_after_request"])
def test_server_closes_without_answer(sidecar, action):
    srv = sidecar.server()
    srv.push(Reply(action=action))
    res = sidecar.run(srv)
    expect_failure(sidecar, res)
    assert res.elapsed < 2.0, "took %.2fs to notice a closed connection" % \
        res.elapsed


# ------------------------------------------------------------ deadlines

STALLS = {
    "accept-then-silence": Reply(action="stall_handshake"),
    "request-read-no-answer": Reply(action="stall"),
    "headers-then-silence": Reply(action="headers_then_stall",
                                  body={"access_token": "abc"}),
    # One byte every 150 ms: every read makes progress, the whole does not
    # finish in time. EXCHANGE_TIMEOUT bounds the exchange, not each read.
    "drip-feed": Reply(drip_delay=0.15, body={"access_token": "abc"}),
}


@pytest.mark.parametrize("name", sorted(STALLS))
def test_exchange_timeout_bounds_the_whole_exchange(sidecar, name):
    srv = sidecar.server()
    srv.push(STALLS[name])
    res = sidecar.run(srv, env={"EXCHANGE_TIMEOUT": "2s"}, timeout=15)
    expect_failure(sidecar, res)
    assert 1.8 <= res.elapsed <= 3.0, \
        "EXCHANGE_TIMEOUT=2s but the run took %.2fs\n%s" % (res.elapsed, res)
    assert srv.connections == 1


def test_exchange_timeout_subsecond(sidecar):
    srv = sidecar.server()
    srv.push(Reply(action="stall"))
    res = sidecar.run(srv, env={"EXCHANGE_TIMEOUT": "700ms"}, timeout=15)
    expect_failure(sidecar, res)
    assert 0.6 <= res.elapsed <= 1.7, "took %.2fs" % res.elapsed
