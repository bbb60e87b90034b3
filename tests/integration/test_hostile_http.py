"""Hostile HTTP/1.1 responses and token bodies over a good TLS session,
`once` mode, the real static binary.

Every refused case must: exit 1 (never a signal); log exactly one error
line whose text names the problem (the regex beside each case); fail
within FAST seconds when the problem is in the bytes already sent (no
waiting for the deadline), or at EXCHANGE_TIMEOUT (TIMEOUT) when only the
deadline can end it; leave the previous token file byte for byte, with no
temporary file beside it; log no secret nor any 8-byte piece of one
(conftest's checks, on every run).

Accepted cases (1xx interim answers, exact limits) must write the token.

Overlap with test_exchange.py: it covers conflicting lengths, short body,
bad chunk size, missing final chunk, huge body/headers, JSON arrays and
null/number/empty tokens, and 301-308, checking the exit status and file
only. Cases repeated here check the message too; 3xx redirects are only
repeated with hostile Location values.
"""

import json
import re
import secrets

import pytest

from conftest import expect_failure, expect_success
from exchange_server import Reply, random_token

TIMEOUT = 2.0
MARGIN = 0.8
FAST = 1.0
HEADERS_MAX = 16 * 1024
BODY_MAX = 64 * 1024
TOKEN_MAX = 32 * 1024 - 1

OK_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
SIMPLE = json.dumps({"access_token": "never-written-token"}).encode()


def cl(body=SIMPLE, head=OK_HEAD, extra=b""):
    """A Content-Length response with `extra` header lines."""
    return head + extra + b"Content-Length: %d\r\n\r\n" % len(body) + body


def chunked(raw_chunks, head=OK_HEAD):
    return head + b"Transfer-Encoding: chunked\r\n\r\n" + raw_chunks


def R(raw, **kw):
    kw.setdefault("close_notify", True)
    return Reply(raw=raw, **kw)


STATUS = "does not start with an HTTP/1.x status line"
LIMIT_HEAD = r"headers are over the 16384-byte limit"
LIMIT_BODY = r"over the 65536-byte (body )?limit"

# name -> (Reply, regex, fast)
CASES = {
    # ---- status line
    "status-four-digits": (R(b"HTTP/1.1 2000 OK\r\n\r\n"), STATUS, True),
    "status-two-digits": (R(b"HTTP/1.1 20 OK\r\n\r\n"), STATUS, True),
    "status-http2": (R(b"HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
                     STATUS, True),
    "status-http1.2": (R(b"HTTP/1.2 200 OK\r\n\r\n{}"), STATUS, True),
    "status-lowercase-http": (R(cl(head=b"http/1.1 200 OK\r\n")), STATUS,
                              True),
    "status-icy": (R(b"ICY 200 OK\r\n\r\n"), STATUS, True),
    "status-no-space-before-reason": (R(cl(head=b"HTTP/1.1 200OK\r\n")),
                                      STATUS, True),
    "status-leading-space": (R(cl(head=b" HTTP/1.1 200 OK\r\n")), STATUS,
                             True),
    "status-blank-line-first": (R(b"\r\n" + cl()), STATUS, True),
    "status-600": (R(cl(head=b"HTTP/1.1 600 Odd\r\n")), STATUS, True),
    "status-099": (R(cl(head=b"HTTP/1.1 099 Odd\r\n")), STATUS, True),
    "status-line-only-then-eof": (R(b"HTTP/1.1 200 OK\r\n"),
                                  r"closed in the middle of the response "
                                  r"headers", True),
    "status-101-switching": (R(b"HTTP/1.1 101 Switching Protocols\r\n"
                               b"Upgrade: h2c\r\n\r\n" + cl()),
                             r"switched protocols \(101\)", True),

    # ---- header section
    "headers-one-17k-line": (R(cl(extra=b"X-Big: " + b"a" * 17000 +
                                  b"\r\n")), LIMIT_HEAD, True),
    "headers-many-lines-20k": (R(cl(extra=b"".join(
        b"X-Pad-%03d: %s\r\n" % (i, b"b" * 90) for i in range(200)))),
        LIMIT_HEAD, True),
    # Headers that never end while the connection stays open: the limit,
    # not the deadline, must end it.
    "headers-endless-connection-open": (
        R(OK_HEAD + b"".join(b"X-Pad-%03d: %s\r\n" % (i, b"c" * 100)
                             for i in range(200)), then_stall=True),
        LIMIT_HEAD, True),
    "header-without-colon": (R(cl(extra=b"X-No-Colon value\r\n")),
                             r"header line has no colon", True),
    "header-obs-fold-space": (R(cl(extra=b"X-Folded: a\r\n  b\r\n")),
                              r"obsolete header line folding", True),
    "header-obs-fold-tab": (R(cl(extra=b"X-Folded: a\r\n\tb\r\n")),
                            r"obsolete header line folding", True),
    "header-nul-in-value": (R(cl(extra=b"X-Nul: a\x00b\r\n")),
                            r"headers hold a NUL byte", True),
    "header-nul-in-name": (R(cl(extra=b"X-N\x00ul: ab\r\n")),
                           r"headers hold a NUL byte", True),
    "header-nul-in-reason": (R(cl(head=b"HTTP/1.1 200 O\x00K\r\n")),
                             r"headers hold a NUL byte", True),
    "header-bare-cr-in-value": (R(cl(extra=b"X-Cr: a\rb\r\n")),
                                r"control character", True),
    "header-escape-in-value": (R(cl(extra=b"X-Esc: \x1b[31mred\r\n")),
                               r"control character", True),
    "header-space-before-colon": (R(cl(extra=b"Content-Type : text/html"
                                       b"\r\n")),
                                  r"header name is malformed", True),
    "header-empty-name": (R(cl(extra=b": value\r\n")),
                          r"header name is empty", True),

    # ---- framing: Content-Length
    "content-length-two-values": (
        R(OK_HEAD + b"Content-Length: 30\r\nContent-Length: %d\r\n\r\n"
          % len(SIMPLE) + SIMPLE),
        r"two different Content-Length headers", True),
    "content-length-list": (
        R(OK_HEAD + b"Content-Length: %d, %d\r\n\r\n" % (
            len(SIMPLE), len(SIMPLE)) + SIMPLE),
        r"Content-Length header is not a number", True),
    "content-length-negative": (R(OK_HEAD + b"Content-Length: -1\r\n\r\n"),
                                r"Content-Length header is not a number",
                                True),
    "content-length-plus": (R(OK_HEAD + b"Content-Length: +%d\r\n\r\n"
                              % len(SIMPLE) + SIMPLE),
                            r"Content-Length header is not a number", True),
    "content-length-hex": (R(OK_HEAD + b"Content-Length: 0x20\r\n\r\n"
                             + SIMPLE),
                           r"Content-Length header is not a number", True),
    "content-length-20-digits": (
        R(OK_HEAD + b"Content-Length: 18446744073709551617\r\n\r\n"),
        r"Content-Length header is not a number", True),
    "content-length-over-limit-connection-open": (
        R(OK_HEAD + b"Content-Length: 70000\r\n\r\n" + b"{" * 1000,
          then_stall=True),
        r"body of 70000 bytes is over the 65536-byte limit", True),
    "content-length-19-digits": (
        R(OK_HEAD + b"Content-Length: 9999999999999999999\r\n\r\n"),
        r"over the 65536-byte limit", True),
    "content-length-and-chunked": (
        R(OK_HEAD + b"Content-Length: 40\r\nTransfer-Encoding: chunked\r\n"
          b"\r\n" + b"%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n\r\n"),
        r"both Content-Length and Transfer-Encoding", True),
    "chunked-and-content-length": (
        R(OK_HEAD + b"Transfer-Encoding: chunked\r\nContent-Length: 40\r\n"
          b"\r\n" + b"%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n\r\n"),
        r"both Content-Length and Transfer-Encoding", True),
    "transfer-encoding-gzip-chunked": (
        R(OK_HEAD + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"),
        r"transfer coding other than chunked", True),
    "transfer-encoding-twice": (
        R(OK_HEAD + b"Transfer-Encoding: chunked\r\n"
          b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        r"transfer coding other than chunked", True),
    "body-short-then-eof": (
        R(OK_HEAD + b"Content-Length: 200\r\n\r\n" + SIMPLE),
        r"closed after %d of 200 body bytes" % len(SIMPLE), True),
    "body-short-then-eof-no-close-notify": (
        R(OK_HEAD + b"Content-Length: 200\r\n\r\n" + SIMPLE,
          close_notify=False),
        r"closed after %d of 200 body bytes" % len(SIMPLE), True),
    "body-short-connection-open": (
        R(OK_HEAD + b"Content-Length: 200\r\n\r\n" + SIMPLE,
          then_stall=True),
        r"did not answer within EXCHANGE_TIMEOUT", False),
    "body-read-to-close-over-limit": (
        R(OK_HEAD + b"\r\n" + b'{"access_token":"x","pad":"' +
          b"p" * (BODY_MAX + 100) + b'"}'),
        LIMIT_BODY, True),

    # ---- framing: chunked
    "chunk-size-overflow-64bit": (
        R(chunked(b"10000000000000001\r\n" + SIMPLE + b"\r\n0\r\n\r\n")),
        r"chunk is over the 65536-byte body limit", True),
    "chunk-size-overflow-many-f": (
        R(chunked(b"f" * 40 + b"\r\n" + SIMPLE + b"\r\n0\r\n\r\n")),
        r"chunk is over the 65536-byte body limit", True),
    "chunk-size-negative": (
        R(chunked(b"-1\r\n" + SIMPLE + b"\r\n0\r\n\r\n")),
        r"does not start with a hexadecimal size", True),
    "chunk-size-plus": (
        R(chunked(b"+%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n\r\n")),
        r"does not start with a hexadecimal size", True),
    "chunk-size-0x-prefix": (
        R(chunked(b"0x%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n\r\n")),
        r"junk after the size", True),
    "chunk-size-trailing-junk": (
        R(chunked(b"%xz\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n\r\n")),
        r"junk after the size", True),
    "chunk-size-empty-line": (
        R(chunked(b"\r\n" + SIMPLE + b"\r\n0\r\n\r\n")),
        r"does not start with a hexadecimal size", True),
    "chunk-size-nul": (
        R(chunked(b"%x\x00\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n\r\n")),
        r"NUL byte", True),
    "chunk-size-line-endless": (
        R(chunked(b"1" + b"0" * 2000), then_stall=True),
        r"chunk size or trailer line is over 1024 bytes|chunk is over", True),
    "chunk-longer-than-size": (
        R(chunked(b"5\r\n" + SIMPLE + b"\r\n0\r\n\r\n")),
        r"chunk is longer than its stated size", True),
    "chunk-short-then-eof": (
        R(chunked(b"200\r\n" + SIMPLE)),
        r"closed in the middle of a chunk", True),
    "chunked-missing-final-chunk": (
        R(chunked(b"%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n")),
        r"closed before the last chunk", True),
    "chunked-missing-final-crlf": (
        R(chunked(b"%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n")),
        r"closed before the last chunk", True),
    "chunked-trailer-without-colon": (
        R(chunked(b"%x\r\n" % len(SIMPLE) + SIMPLE +
                  b"\r\n0\r\nno colon here\r\n\r\n")),
        r"trailer line has no colon", True),
    "chunked-total-over-limit": (
        R(chunked(b"".join(b"1000\r\n" + b"q" * 4096 + b"\r\n"
                           for _ in range(17)) + b"0\r\n\r\n")),
        LIMIT_BODY, True),
    "chunked-trailers-endless": (
        R(chunked(b"%x\r\n" % len(SIMPLE) + SIMPLE + b"\r\n0\r\n" +
                  b"".join(b"X-T-%03d: %s\r\n" % (i, b"t" * 100)
                           for i in range(200))), then_stall=True),
        r"trailers are over the 16384-byte limit", True),

    # ---- interim answers that never end: refused after five, as Go does
    "endless-100-continue": (
        R(b"HTTP/1.1 100 Continue\r\n\r\n" * 400, pieces=400,
          piece_delay=0.01),
        r"more than 5 informational \(1xx\) answers", True),

    # ---- status and body semantics
    "200-html": (Reply(body="<html><body>Welcome to nginx!</body></html>",
                       content_type="text/html"),
                 r"answered HTTP 200 with a \d+-byte body that is not a JSON "
                 r"object \(Content-Type \"text/html\"\)", True),
    "200-json-array": (Reply(body=[{"access_token": "in-an-array"}]),
                       r"not a JSON object", True),
    "200-json-string": (Reply(body='"access_token"'),
                        r"not a JSON object", True),
    "access-token-number": (Reply(body='{"access_token": 12345678901}'),
                            r"access_token is not a string", True),
    "access-token-null": (Reply(body='{"access_token": null}'),
                          r"access_token is not a string", True),
    "access-token-true": (Reply(body='{"access_token": true}'),
                          r"access_token is not a string", True),
    "access-token-empty": (Reply(body='{"access_token": ""}'),
                           r"access_token is empty", True),
    "access-token-nested-only": (
        Reply(body='{"data": {"access_token": "nested-token-value"}}'),
        r"has no access_token", True),
    "deep-nesting-brackets": (Reply(body="[" * 10000),
                              r"not a JSON object", True),
    "deep-nesting-balanced": (Reply(body="[" * 10000 + "]" * 10000),
                              r"not a JSON object", True),
    "deep-nesting-objects": (Reply(body='{"a":' * 10000 + "1" +
                                   "}" * 10000),
                             r"not a JSON object", True),
    "deep-nesting-under-token": (
        Reply(body='{"access_token":"nest-token-abcdef","x":' + "[" * 5000
              + "]" * 5000 + "}"),
        r"not a JSON object", True),
    "many-members": (
        Reply(body="{" + ",".join('"k%d":%d' % (i, i) for i in range(3000))
              + ',"access_token":"many-members-token"}'),
        r"not a JSON object", True),
    "duplicate-access-token": (
        Reply(body='{"access_token":"dup-first-token1","token_type":"Bearer",'
                   '"access_token":"dup-second-token2"}'),
        r"more than one access_token", True),
    "duplicate-access-token-escaped-key": (
        Reply(body='{"access_token":"dup-first-token1",'
                   '"acc\\u0065ss_token":"dup-second-token2"}'),
        r"more than one access_token", True),
    "duplicate-access-token-same-value": (
        Reply(body='{"access_token":"dup-same-token11",'
                   '"access_token":"dup-same-token11"}'),
        r"more than one access_token", True),
    "body-with-nul": (Reply(body=b'{"access_token":"nul-body-token1"}\x00'),
                      r"not a JSON object", True),
    "body-invalid-utf8": (
        Reply(body=b'{"access_token":"bad-utf8-\xc3\x28-token"}'),
        r"not a JSON object", True),
    "body-lone-surrogate": (
        Reply(body='{"access_token":"surrogate-\\ud800-token"}'),
        r"not a JSON object|control character|access_token", True),
}

# Access tokens the sidecar must refuse (registered as secrets: they
# must not appear in any log, even in part).
BAD_TOKENS = {
    "access-token-with-newline-escape": (
        lambda a, b: (a + "\\n" + b, a + "\n" + b),
        r"access_token holds a control character"),
    "access-token-with-u0000": (
        lambda a, b: (a + "\\u0000" + b, a + "\0" + b),
        r"access_token holds a control character|NUL"),
    "access-token-with-tab-escape": (
        lambda a, b: (a + "\\t" + b, a + "\t" + b),
        r"access_token holds a control character"),
    "access-token-with-del": (
        lambda a, b: (a + "\\u007f" + b, a + "\x7f" + b),
        r"access_token holds a control character"),
    "access-token-40k": (
        lambda a, b: (a + secrets.token_urlsafe(30000) + b,) * 2,
        r"access_token is longer than 32767 bytes"),
}


def check_failure(sidecar, res, pattern, fast):
    expect_failure(sidecar, res)
    assert res.rc == 1, "exit status %s\n%s" % (res.rc, res)
    assert len(res.errors) == 1, "expected exactly one error line\n%s" % res
    line = res.errors[0]["_line"]
    text = line + "\n" + res.errors[0].get("error", "")   # unescaped too
    assert re.search(pattern, text, re.I), \
        "the error line does not name the problem (%r)\n%s" % (pattern, res)
    assert len(line) < 2000, "error line of %d bytes\n%s" % (len(line), res)
    limit = FAST if fast else TIMEOUT + MARGIN
    assert res.elapsed <= limit, "took %.2fs (limit %.1fs)\n%s" % (
        res.elapsed, limit, res)
    if not fast:
        assert res.elapsed >= TIMEOUT - 0.2, str(res)


def run(sidecar, srv):
    return sidecar.run(srv, env={"EXCHANGE_TIMEOUT": "%gs" % TIMEOUT},
                       timeout=TIMEOUT + 10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_response(sidecar, name):
    reply, pattern, fast = CASES[name]
    srv = sidecar.server()
    srv.push(reply)
    res = run(sidecar, srv)
    check_failure(sidecar, res, pattern, fast)
    assert srv.connections == 1 and len(srv.requests) == 1, str(res)
    # The client hanging up on a server still writing is expected; any
    # other server error means the case did not run as scripted.
    other = [e for e in srv.errors if not re.search(
        r"EOF|reset|Broken pipe|timed out", e, re.I)]
    assert not other, other


@pytest.mark.parametrize("name", sorted(BAD_TOKENS))
def test_unusable_access_token(sidecar, name):
    make, pattern = BAD_TOKENS[name]
    a, b = "at" + secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    encoded, decoded = make(a, b)
    sidecar.add_secret(a)
    sidecar.add_secret(b)
    sidecar.add_secret(decoded)
    srv = sidecar.server()
    srv.push(Reply(body='{"token_type":"Bearer","access_token":"%s",'
                        '"expires_in":3600}' % encoded))
    res = run(sidecar, srv)
    check_failure(sidecar, res, pattern, True)


@pytest.mark.parametrize("status", [301, 302, 307])
@pytest.mark.parametrize("kind", ["long", "non-ascii", "relative"])
def test_redirect_hostile_location(sidecar, status, kind):
    """The error names the Location (bounded, escaped); never followed."""
    if kind == "long":
        loc = "https://elsewhere.example.test/" + "seg/" * 1500
    elif kind == "non-ascii":
        loc = "https://b\u00fccher.example.test/t\u00f6ken?\u2028x=1"
    else:
        loc = "/v2/token?moved=1"
    srv = sidecar.server()
    srv.push(Reply(status=status, body=b"", content_type=None,
                   headers=[("Location", loc)]))
    res = run(sidecar, srv)
    check_failure(sidecar, res, r"HTTP %d, a redirect to" % status, True)
    line = res.errors[0]["_line"]
    prefix = loc[:40].encode("ascii", "backslashreplace").decode()
    if kind != "non-ascii":
        assert prefix in line, "Location not named\n%s" % res
    else:
        assert "example.test" in line, "Location not named\n%s" % res
    assert srv.connections == 1


# ------------------------------------------------------------ accepted

def _token_reply(srv, tok, **kw):
    srv.issued_tokens.append(tok)
    return Reply(body={"access_token": tok, "token_type": "Bearer",
                       "expires_in": 3600}, **kw)


def test_100_continue_then_answer(sidecar):
    srv = sidecar.server()
    srv.push(srv.issue(interim=[100]))
    expect_success(sidecar, run(sidecar, srv), srv)


def test_103_early_hints_with_headers_then_answer(sidecar):
    tok = random_token()
    srv = sidecar.server()
    body = json.dumps({"access_token": tok}).encode()
    srv.issued_tokens.append(tok)
    srv.push(R(b"HTTP/1.1 103 Early Hints\r\n"
               b"Link: </style.css>; rel=preload; as=style\r\n"
               b"Link: </app.js>; rel=preload; as=script\r\n\r\n" + cl(body)))
    expect_success(sidecar, run(sidecar, srv), srv, token=tok)


def test_100_and_103_in_separate_writes_chunked(sidecar):
    srv = sidecar.server()
    srv.push(srv.issue(interim=[100, 103], framing="chunked", pieces=6,
                       piece_delay=0.05))
    expect_success(sidecar, run(sidecar, srv), srv)


def test_many_interims_each_under_the_limit(sidecar):
    """Five interim answers of 1 KiB each, Go's limit: each head is under
    16 KiB, so the limit is per head and the answer is accepted."""
    tok = random_token()
    srv = sidecar.server()
    srv.issued_tokens.append(tok)
    interim = (b"HTTP/1.1 103 Early Hints\r\nLink: <" + b"l" * 1000 +
               b">; rel=preload\r\n\r\n")
    body = json.dumps({"access_token": tok}).encode()
    srv.push(R(interim * 5 + cl(body)))
    expect_success(sidecar, run(sidecar, srv), srv, token=tok)


def test_headers_exactly_at_the_limit(sidecar):
    """A head (status line to blank line) of exactly 16384 bytes is
    accepted; one byte more is refused (next test)."""
    tok = random_token()
    body = json.dumps({"access_token": tok}).encode()
    srv = sidecar.server()
    srv.issued_tokens.append(tok)
    srv.push(R(_head_of(HEADERS_MAX, body) + body))
    expect_success(sidecar, run(sidecar, srv), srv, token=tok)


def test_headers_one_byte_over_the_limit(sidecar):
    tok = random_token()
    sidecar.add_secret(tok)
    body = json.dumps({"access_token": tok}).encode()
    srv = sidecar.server()
    srv.push(R(_head_of(HEADERS_MAX + 1, body) + body))
    check_failure(sidecar, run(sidecar, srv), LIMIT_HEAD, True)


def _head_of(size, body):
    start = OK_HEAD + b"Content-Length: %d\r\n" % len(body)
    pad = size - len(start) - len(b"X-Pad: \r\n\r\n")
    head = start + b"X-Pad: " + b"z" * pad + b"\r\n\r\n"
    assert len(head) == size
    return head


def _body_of(size, tok):
    start = '{"access_token":"%s","pad":"' % tok
    body = start + "p" * (size - len(start) - 2) + '"}'
    assert len(body) == size
    return body.encode()


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_body_exactly_at_the_limit(sidecar, framing):
    tok = random_token()
    srv = sidecar.server()
    srv.issued_tokens.append(tok)
    srv.push(Reply(body=_body_of(BODY_MAX, tok), framing=framing,
                   chunk_sizes=[4096] * 16))
    expect_success(sidecar, run(sidecar, srv), srv, token=tok)


@pytest.mark.parametrize("framing", ["length", "chunked", "close"])
def test_body_one_byte_over_the_limit(sidecar, framing):
    tok = random_token()
    sidecar.add_secret(tok)
    srv = sidecar.server()
    srv.push(Reply(body=_body_of(BODY_MAX + 1, tok), framing=framing,
                   chunk_sizes=[4096] * 17))
    check_failure(sidecar, run(sidecar, srv), LIMIT_BODY, True)


def test_access_token_exactly_at_the_limit(sidecar):
    tok = "at" + secrets.token_urlsafe(TOKEN_MAX)[:TOKEN_MAX - 2]
    assert len(tok) == TOKEN_MAX
    srv = sidecar.server()
    srv.push(_token_reply(srv, tok))
    expect_success(sidecar, run(sidecar, srv), srv, token=tok)


def test_access_token_one_byte_over_the_limit(sidecar):
    tok = "at" + secrets.token_urlsafe(TOKEN_MAX)[:TOKEN_MAX - 1]
    assert len(tok) == TOKEN_MAX + 1
    sidecar.add_secret(tok)
    srv = sidecar.server()
    srv.push(Reply(body={"access_token": tok}))
    check_failure(sidecar, run(sidecar, srv),
                  r"access_token is longer than 32767 bytes", True)


def test_nested_access_token_is_not_a_duplicate(sidecar):
    """Only top-level members count: a nested access_token beside the
    real one is no duplicate, and the top-level one is written."""
    tok = random_token()
    srv = sidecar.server()
    srv.issued_tokens.append(tok)
    srv.push(Reply(body='{"meta":{"access_token":"nested-decoy-value"},'
                        '"access_token":"%s"}' % tok))
    expect_success(sidecar, run(sidecar, srv), srv, token=tok)
