"""The server certificate matrix: every check BearSSL's X.509 validation
makes, one certificate set-up each, against the real static binary in
`once` mode (certificates from certs.make_cert_matrix, made per session).

Refused set-ups must fail the exchange (exit 1) before any request is
sent, with one error line whose text names the failed check (the words
tls.c gives each BearSSL error), within EXCHANGE_TIMEOUT, leaving the old
token file and its directory exactly as they were (conftest's invariant).
Accepted set-ups must write the token.

Host names other than localhost (the wildcard cases) are mapped to
127.0.0.1 by running the binary in a private mount namespace whose
/etc/hosts is bind-mounted from a file of the test's own:
    unshare -m sh -c 'mount --bind HOSTS /etc/hosts && exec BIN once'

Overlap with test_tls.py (expired, untrusted root, wrong host, missing
intermediate): those tests check the exit status and file; here the same
set-ups are part of the matrix so that each refusal's log line is checked
for the name of the failed check.
"""

import re

import pytest

import certs
from conftest import UNSHARE, expect_failure, expect_success
from exchange_server import ExchangeServer, server_context

TIMEOUT = "3s"
MARGIN = 1.0

# case -> regex the single error line must match (case-insensitive).
REFUSED = {
    "expired-leaf": r"has expired or is not yet valid",
    "not-yet-valid-leaf": r"has expired or is not yet valid",
    "expired-intermediate": r"has expired or is not yet valid",
    "hostname-mismatch": r"does not name the host in EXCHANGE_URL",
    "wildcard-two-labels": r"does not name the host in EXCHANGE_URL",
    "wildcard-bare-domain": r"does not name the host in EXCHANGE_URL",
    "self-signed-leaf": r"does not lead to a CA in the CA bundle",
    "untrusted-root": r"does not lead to a CA in the CA bundle",
    "pinned-leaf-twin": r"does not lead to a CA in the CA bundle",
    "missing-intermediate": r"does not lead to a CA in the CA bundle"
                            r".*intermediate",
    "intermediate-not-ca": r"is not a CA \(basicConstraints CA:TRUE "
                           r"missing\)",
    # The usual form: EKU present, not critical, serverAuth absent.
    "eku-clientauth-only": r"leaves out TLS server authentication",
    # Marked critical: refused either for the EKU or as an unknown
    # critical extension; both name the certificate's problem.
    "eku-clientauth-only-critical": r"leaves out TLS server "
                                    r"authentication",
    # Go's verifier (the original sidecar's) checks EKU along the whole
    # chain and enforces name constraints, and so does the sidecar.
    "intermediate-eku-clientauth": r"leaves out TLS server "
                                   r"authentication",
    "intermediate-name-constraints": r"outside a CA's name constraints",
    "name-constraints-excluded": r"outside a CA's name constraints",
    "ip-host-dns-san": r"IP addresses for an IP host",
    "cn-only-leaf": r"no subjectAltName; the Common Name is not used",
    "rsa-1024-leaf": r"RSA key shorter than 2048 bits",
    "sha1-signed-leaf": r"SHA-1",
}
# Go builds the path from what was sent, in any order, and so does the
# sidecar: leaf, upper, lower is accepted like leaf, lower, upper.
ACCEPTED = ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-4096",
            "wildcard-one-label", "bundle-with-intermediate",
            "three-level-in-order", "three-level-out-of-order",
            "ip-san-v4", "ip-san-v6", "trailing-dot-host",
            "name-constraints-satisfied", "pinned-self-signed-leaf"]


@pytest.fixture(scope="module")
def matrix(pki):
    return certs.make_cert_matrix(pki)


def hosts_wrapper(sidecar, names):
    """argv prefix running the binary with its own /etc/hosts."""
    hosts = sidecar.tmp / "hosts"
    hosts.write_text("127.0.0.1 localhost %s\n::1 localhost ip6-localhost\n"
                     % " ".join(names))
    return [UNSHARE, "-m", "/bin/sh", "-c",
            'mount --bind "$1" /etc/hosts && shift && exec "$@"', "sh",
            str(hosts)]


def start(sidecar, case):
    ctx = server_context(case.leaf.chain, case.leaf.key, ciphers=case.ciphers)
    srv = ExchangeServer(ctx, host="::1" if case.host == "::1" else
                         "127.0.0.1")
    srv.start()
    sidecar.servers.append(srv)
    return srv


def run_case(sidecar, case):
    srv = start(sidecar, case)
    authority = "[%s]" % case.host if ":" in case.host else case.host
    env = {"CA_BUNDLE_PATH": case.bundle, "EXCHANGE_TIMEOUT": TIMEOUT,
           "EXCHANGE_URL": "https://%s:%d/token" % (authority, srv.port)}
    wrapper = ()
    if case.host not in (certs.HOST, "127.0.0.1", "::1"):
        wrapper = hosts_wrapper(sidecar, [case.host])
    res = sidecar.run(srv, env=env, wrapper=wrapper, timeout=20)
    return srv, res


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused(sidecar, matrix, name):
    case = matrix[name]
    srv, res = run_case(sidecar, case)
    expect_failure(sidecar, res)
    assert srv.requests == [], \
        "a request (and the ServiceAccount token) went over a session " \
        "with a refused certificate\n%s" % res
    assert len(res.errors) == 1, "expected one error line\n%s" % res
    line = res.errors[0]["_line"]
    assert re.search(REFUSED[name], line, re.I), \
        "the error does not name the failed check (%r)\n%s" % (
            REFUSED[name], res)
    assert "TLS" in line, str(res)
    assert res.elapsed < 3 + MARGIN, str(res)


@pytest.mark.parametrize("name", ACCEPTED)
def test_accepted(sidecar, matrix, name):
    case = matrix[name]
    srv, res = run_case(sidecar, case)
    expect_success(sidecar, res, srv)
    # RFC 6066: no SNI for an IP address; a DNS name without its dot.
    sni = None if ":" in case.host or case.host[0].isdigit() else \
        case.host.rstrip(".")
    assert srv.requests[0].sni == sni
    authority = "[%s]" % case.host if ":" in case.host else case.host
    assert srv.requests[0].header("Host") == "%s:%d" % (authority, srv.port)


def test_wildcard_hosts_file_really_used(sidecar, matrix):
    """Guard for the wildcard cases: a name only the private /etc/hosts
    knows resolves (so a refusal above is the certificate check, not DNS),
    and without the private file it does not."""
    case = matrix["wildcard-one-label"]
    srv = start(sidecar, case)
    env = {"CA_BUNDLE_PATH": case.bundle,
           "EXCHANGE_URL": "https://b.example.test:%d/token" % srv.port,
           "EXCHANGE_TIMEOUT": TIMEOUT}
    res = sidecar.run(srv, env=env,
                      wrapper=hosts_wrapper(sidecar, ["b.example.test"]))
    expect_success(sidecar, res, srv)
