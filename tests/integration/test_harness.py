"""Negative controls for the suite's own machinery: the checks every run
relies on must actually catch what they claim to. These run shell scripts
in place of the sidecar; they test the harness, not the binary."""

import pytest

from conftest import (Sidecar, find_leaks, parse_json_line, parse_log,
                      parse_logfmt)
from dns_stub import DnsStub
from exchange_server import ExchangeServer, Reply, random_token


def test_logfmt_parser():
    rec = parse_logfmt('time=2024-01-01T00:00:00Z level=error msg="a \\"b\\" '
                       'c\\nd\\x01" k=v e=""')
    assert rec["msg"] == 'a "b" c\nd\x01' and rec["k"] == "v" and rec["e"] == ""
    for bad in ['time=1 level=info msg=a b', 'time=1 msg="unterminated',
                'free text', 'time=1 time=2', 'a=b  c=d']:
        with pytest.raises(ValueError):
            parse_logfmt(bad)
    with pytest.raises(ValueError):
        parse_json_line('{"a":1,"a":2}')
    with pytest.raises(AssertionError):
        parse_log("level=info time=2024-01-01T00:00:00Z msg=x\n")
    with pytest.raises(AssertionError):
        parse_log("time=2024-01-01T00:00:00Z level=info msg=x")  # no newline


def test_leak_finder():
    tok = random_token("sa")
    assert find_leaks("nothing here", [tok]) == []
    assert find_leaks("x" + tok + "y", [tok])
    assert find_leaks("prefix " + tok[10:18] + " suffix", [tok])
    assert find_leaks("partial " + tok[-8:], [tok])
    assert find_leaks("ok " + tok[:7], [tok]) == []


def _fake(tmp_path, body):
    p = tmp_path / "fake-sidecar"
    p.write_text("#!/bin/sh\n" + body + "\n")
    p.chmod(0o755)
    return str(p)


def test_harness_catches_leak(tmp_path, pki):
    sc = Sidecar(tmp_path, pki, None)
    fake = _fake(tmp_path, 'printf "time=2024-01-01T00:00:00Z level=info '
                 'msg=x t=%s\\n" "$(tail -c 20 "$SA_TOKEN_PATH")" >&2')
    with pytest.raises(AssertionError, match="SECRET LEAKED"):
        sc.run(binary=fake)


def test_harness_catches_malformed_log(tmp_path, pki):
    sc = Sidecar(tmp_path, pki, None)
    fake = _fake(tmp_path, 'echo "plain words on stderr" >&2')
    with pytest.raises(AssertionError, match="not a text log record"):
        sc.run(binary=fake)


def test_harness_catches_leftover_process(tmp_path, pki):
    sc = Sidecar(tmp_path, pki, None)
    fake = _fake(tmp_path, "sleep 30 </dev/null >/dev/null 2>&1 &")
    with pytest.raises(AssertionError, match="left behind"):
        sc.run(binary=fake)


def test_harness_catches_changed_output(tmp_path, pki):
    sc = Sidecar(tmp_path, pki, None)
    fake = _fake(tmp_path, 'printf x >> "$OUTPUT_TOKEN_PATH"; '
                 'touch "$OUTPUT_TOKEN_PATH.tmp"')
    res = sc.run(binary=fake)
    with pytest.raises(AssertionError):
        sc.assert_output_unchanged(res)


def test_harness_catches_in_place_write(tmp_path, pki):
    sc = Sidecar(tmp_path, pki, None)
    fake = _fake(tmp_path, 'printf tok > "$OUTPUT_TOKEN_PATH"')
    res = sc.run(binary=fake)
    with pytest.raises(AssertionError, match="in place"):
        sc.assert_output("tok", 0o600, res)


def test_server_records_and_answers(tmp_path, pki):
    import subprocess
    with ExchangeServer(None) as srv:
        srv.push(Reply(status=400, body={"error": "invalid_grant"}))
        out = subprocess.run(["curl", "-s", "-d", "a=1&b=x+y", srv.url()],
                             capture_output=True, text=True)
        assert '"invalid_grant"' in out.stdout
        out = subprocess.run(["curl", "-s", "-d", "c=3", srv.url()],
                             capture_output=True, text=True)
        assert srv.issued_tokens[0] in out.stdout
    assert [r.form_pairs for r in srv.requests] == [[("a", "1"), ("b", "x y")],
                                                    [("c", "3")]]


def test_dns_stub_answers(tmp_path):
    import socket
    import struct
    with DnsStub("answer", {"a.test": ["127.0.0.9"]}) as stub:
        q = struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + \
            b"\x01a\x04test\x00" + struct.pack("!HH", 1, 1)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(q, (stub.address, 53))
        data = s.recv(512)
        assert data[:2] == b"\x12\x34" and data[3] & 0x0F == 0
        assert data.endswith(socket.inet_aton("127.0.0.9"))
        s.sendto(q.replace(b"\x01a", b"\x01b"), (stub.address, 53))
        assert s.recv(512)[3] & 0x0F == 3      # NXDOMAIN
        s.close()
    assert [q[1] for q in stub.queries] == ["a.test", "b.test"]
