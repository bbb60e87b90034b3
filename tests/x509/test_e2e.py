"""End to end sample of the differential test: chains served over TLS on
loopback to the real binary (`tokenbridge-sidecar once`).

The server is the integration suite's exchange_server.py (Python's ssl,
TLS 1.2 and 1.3, the chain sent in file order, so a shuffled file is a
shuffled Certificate message); it answers a token, so an accepted chain
means exit 0 and the token written, and a refused one exit 1 with one
error record of kind=tls naming the certificate problem.

Each case is also judged by OpenSSL (judge.py's command line, at the real
time) and, when it is built, by build/x509/x509check: the three must
agree, tying the corpus's verdicts to what the binary does on the wire.

    TB_BIN=build/tokenbridge-sidecar /usr/bin/python3 -m pytest -q \
        -p no:cacheprovider tests/x509/test_e2e.py
"""

import datetime
import os
import re
import secrets
import subprocess
import sys

import pytest

from cryptography.hazmat.primitives import serialization

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import gen  # noqa: E402
import judge  # noqa: E402
from exchange_server import ExchangeServer, server_context  # noqa: E402

BIN = os.environ.get("TB_BIN") or os.path.join(REPO, "build",
                                               "tokenbridge-sidecar")
X509CHECK = os.environ.get("X509CHECK") or os.path.join(REPO, "build",
                                                        "x509", "x509check")

# Certificates must be valid now, not at the corpus's fixed time.
gen.NOW = datetime.datetime.utcnow().replace(microsecond=0)
NOW_UNIX = int((gen.NOW - datetime.datetime(1970, 1, 1)).total_seconds())

LOCAL = ["dns:localhost"]


def _ec():
    r, ints, lf = gen.chain("p256", "e2e-ec", san=LOCAL,
                            leaf={"cn": "localhost"})
    return [r], [lf, ints[0]], "localhost"


def _rsa():
    r, ints, lf = gen.chain("rsa2048", "e2e-rsa", san=LOCAL,
                            leaf={"cn": "localhost"})
    return [r], [lf, ints[0]], "localhost"


def _shuffled():
    r, ints, lf = gen.chain("p256", "e2e-shuffled", ints=3, san=LOCAL,
                            leaf={"cn": "localhost"})
    return [r], [lf, ints[1], ints[0], ints[2]], "localhost"


def _ip():
    r, ints, lf = gen.chain("p256", "e2e-ip", san=["ip:127.0.0.1"],
                            leaf={"cn": "127.0.0.1"})
    return [r], [lf, ints[0]], "127.0.0.1"


def _ipv6():
    r, ints, lf = gen.chain("p256", "e2e-ipv6", san=["ip:::1"],
                            leaf={"cn": "x"})
    return [r], [lf, ints[0]], "::1"


def _ip_dns_san():
    r, ints, lf = gen.chain("p256", "e2e-ip-dns", san=["dns:127.0.0.1"],
                            leaf={"cn": "127.0.0.1"})
    return [r], [lf, ints[0]], "127.0.0.1"


def _nc_ok():
    r, ints, lf = gen.chain("p256", "e2e-nc-ok", san=LOCAL,
                            leaf={"cn": "localhost"},
                            inter={"nc": (["dns:localhost"], None)})
    return [r], [lf, ints[0]], "localhost"


def _nc_outside():
    r, ints, lf = gen.chain("p256", "e2e-nc-out", san=LOCAL,
                            leaf={"cn": "localhost"},
                            inter={"nc": (["dns:example.com"], None)})
    return [r], [lf, ints[0]], "localhost"


def _cn_only():
    r, ints, lf = gen.chain("p256", "e2e-cn-only", san=None,
                            leaf={"cn": "localhost"})
    return [r], [lf, ints[0]], "localhost"


def _eku_client():
    r, ints, lf = gen.chain("rsa2048", "e2e-eku", san=LOCAL,
                            leaf={"cn": "localhost",
                                  "eku": (["client"], False)})
    return [r], [lf, ints[0]], "localhost"


def _root_expired():
    r, ints, lf = gen.chain("p256", "e2e-root-expired", san=LOCAL,
                            leaf={"cn": "localhost"},
                            root={"na": gen.NOW - gen.DAY})
    return [r], [lf, ints[0]], "localhost"


def _trust_reject():
    r, ints, lf = gen.chain("p256", "e2e-trust", san=LOCAL,
                            leaf={"cn": "localhost"})
    # Another key type: the corpus reuses one key per type and role, and
    # a distrust is bound to the key, which would take this root too.
    other, _, _ = gen.chain("rsa2048", "e2e-trust-other")
    return ([other, ("trusted", r, ["-addreject", "serverAuth"])],
            [lf, ints[0]], "localhost")


# name -> (builder, OpenSSL's verdict, which the binary must share)
CASES = {
    "ecdsa-chain": (_ec, "accept"),
    "rsa-chain": (_rsa, "accept"),
    "shuffled-chain": (_shuffled, "accept"),
    "ip-literal-ip-san": (_ip, "accept"),
    "ip-literal-dns-san": (_ip_dns_san, "refuse"),
    "ipv6-literal-ip-san": (_ipv6, "accept"),
    "name-constrained-satisfied": (_nc_ok, "accept"),
    "name-constrained-outside": (_nc_outside, "refuse"),
    "cn-only-leaf": (_cn_only, "refuse"),
    "leaf-eku-client-only": (_eku_client, "refuse"),
    "root-expired": (_root_expired, "refuse"),
    "root-trust-reject-serverauth": (_trust_reject, "refuse"),
}


def write_case(d, bundle, certs, host):
    """The case as gen.py lays one out, plus the leaf's key."""
    gen.CASES.clear()
    gen.case(os.path.basename(d), bundle, certs, host)
    gen.write_all(os.path.dirname(d))
    key = certs[0].key.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    with open(os.path.join(d, "key.pem"), "wb") as f:
        f.write(key)


def run_sidecar(tmp, url, bundle):
    sa = tmp / "sa-token"
    sa.write_text("sa." + secrets.token_urlsafe(24) + "\n")
    out = tmp / "out"
    out.mkdir()
    env = {"SA_TOKEN_PATH": str(sa), "OUTPUT_TOKEN_PATH": str(out / "token"),
           "EXCHANGE_URL": url, "CA_BUNDLE_PATH": bundle,
           "EXCHANGE_TIMEOUT": "5s", "PATH": "/usr/bin:/bin"}
    p = subprocess.run([BIN, "once"], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30)
    return p, out / "token"


@pytest.mark.parametrize("name", sorted(CASES))
def test_e2e(tmp_path, name):
    if not os.access(BIN, os.X_OK):
        pytest.fail("binary %s is missing: build it first (make)" % BIN,
                    pytrace=False)
    build, want = CASES[name]
    d = tmp_path / "cases" / name
    bundle, certs, host = build()
    write_case(str(d), bundle, certs, host)

    # OpenSSL's view of the same files, at the real time
    v = judge.judge_one(str(d), NOW_UNIX)
    assert v["verdict"] == want, "OpenSSL/Go say %s (%s), the case " \
        "expects %s" % (v["verdict"], v["reason"], want)

    srv = ExchangeServer(server_context(str(d / "chain.pem"),
                                        str(d / "key.pem")),
                         host="::1" if ":" in host else "127.0.0.1")
    try:
        srv.start()
    except OSError as e:
        pytest.skip("no loopback for %s: %s" % (host, e))
    try:
        url = srv.url("/token", host=host)
        p, token_path = run_sidecar(tmp_path, url, str(d / "bundle.pem"))
    finally:
        srv.stop()
    err = p.stderr.decode(errors="replace")
    ctx = "\nexit %d\nstderr:\n%s" % (p.returncode, err)
    if want == "accept":
        assert p.returncode == 0, "the sidecar refused a chain OpenSSL " \
            "accepts" + ctx
        assert srv.issued_tokens and token_path.read_text() == \
            srv.issued_tokens[-1], "token not written" + ctx
    else:
        assert p.returncode != 0, "FALSE ACCEPT: the sidecar accepted a " \
            "chain OpenSSL refuses (%s)%s" % (v["reason"], ctx)
        assert not token_path.exists(), "token written on a refusal" + ctx
        assert not srv.requests, "a request was sent over a refused " \
            "chain" + ctx
        errors = [ln for ln in err.splitlines() if " level=error " in ln]
        assert len(errors) == 1, "expected one error record" + ctx
        assert re.search(r"\bkind=tls\b", errors[0]), \
            "the refusal is not a TLS/certificate error" + ctx

    # the library harness on the same files, when built
    if os.access(X509CHECK, os.X_OK):
        c = subprocess.run([X509CHECK, str(d / "bundle.pem"),
                            str(d / "chain.pem"), host, str(NOW_UNIX)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        got = c.stdout.decode().split(" ", 1)[0].strip()
        assert got == want, "x509check says %r%s" % (
            c.stdout.decode().strip(), ctx)
