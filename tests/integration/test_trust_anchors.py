"""What the CA bundle says about each anchor, honoured end to end: the
real binary in `once` mode against the exchange server.

- OpenSSL `TRUSTED CERTIFICATE` blocks (as in p11-kit's
  ca-bundle.trust.crt): trust settings that reject serverAuth, or trust
  only other purposes, skip the anchor with one warning naming it; trust
  for serverAuth keeps it.
- An anchor that has expired refuses the chains that end at it, with a
  message that says the CA in the bundle expired.
- Name constraints on the anchor itself bind every chain under it.
- Anchors are found by the hash of their name: two with the same name
  (another key) are both tried, in either order.

The re-made roots keep the test root's key and name, so the server's
chain (leaf, intermediate) still leads to them; only what the bundle
says about the root changes.
"""

import datetime
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conftest import expect_failure, expect_success


def _root(sidecar):
    chain = sidecar.pki.ec
    cert = x509.load_pem_x509_certificate(open(chain.root_cert, "rb").read())
    key = serialization.load_pem_private_key(
        open(chain.root_key, "rb").read(), None)
    return cert, key


def remade_root(sidecar, name, start=None, end=None, constraints=None):
    """The test root with other dates or added name constraints."""
    cert, key = _root(sidecar)
    b = (x509.CertificateBuilder().subject_name(cert.subject)
         .issuer_name(cert.subject).public_key(cert.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(start or cert.not_valid_before)
         .not_valid_after(end or cert.not_valid_after))
    for ext in cert.extensions:
        b = b.add_extension(ext.value, ext.critical)
    if constraints is not None:
        b = b.add_extension(constraints, critical=True)
    path = sidecar.tmp / (name + ".pem")
    path.write_bytes(b.sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM))
    return str(path)


def trusted_certificate(sidecar, name, *options):
    """The test root as an OpenSSL TRUSTED CERTIFICATE with `options`."""
    path = sidecar.tmp / (name + ".pem")
    subprocess.run(["openssl", "x509", "-in", sidecar.pki.ec.root_cert,
                    "-trustout", *options, "-out", str(path)], check=True)
    assert b"BEGIN TRUSTED CERTIFICATE" in path.read_bytes()
    return str(path)


def bundle(sidecar, name, *paths):
    """Several PEM files in one bundle; an unrelated root keeps it loadable
    when the test root is skipped."""
    path = sidecar.tmp / (name + "-bundle.pem")
    path.write_bytes(b"".join(open(p, "rb").read() for p in paths))
    return str(path)


def run_with(sidecar, ca):
    srv = sidecar.server()
    return srv, sidecar.run(srv, env={"CA_BUNDLE_PATH": ca})


def test_trusted_certificate_for_server_auth_kept(sidecar):
    ca = trusted_certificate(sidecar, "trust-server", "-addtrust",
                             "serverAuth")
    srv, res = run_with(sidecar, ca)
    expect_success(sidecar, res, srv)
    assert res.warnings == [], str(res)


def _skipped(sidecar, options, why):
    ca = bundle(sidecar, "skip",
                trusted_certificate(sidecar, "tc", *options),
                sidecar.pki.untrusted_root_cert)
    srv, res = run_with(sidecar, ca)
    expect_failure(sidecar, res)
    assert srv.requests == [], str(res)
    warns = [w for w in res.warnings if "CA bundle" in w["msg"]]
    assert len(warns) == 1, str(res)
    assert warns[0]["certificate"] == "tokenbridge test root (ec)", str(res)
    assert why in warns[0]["reason"], str(res)
    assert "does not lead to a CA in the CA bundle" in \
        res.errors[0]["_line"], str(res)


def test_trusted_certificate_rejecting_server_auth_skipped(sidecar):
    _skipped(sidecar, ["-addreject", "serverAuth"], "reject serverAuth")


def test_trusted_certificate_trusted_for_other_purposes_skipped(sidecar):
    _skipped(sidecar, ["-addtrust", "clientAuth"], "leave out serverAuth")


def test_only_skipped_anchors_is_a_config_error(sidecar):
    ca = trusted_certificate(sidecar, "only", "-addreject", "serverAuth")
    srv, res = run_with(sidecar, ca)
    expect_failure(sidecar, res, rc=2)
    assert "holds no usable certificate" in res.errors[0]["_line"], str(res)


def test_expired_anchor_refused(sidecar):
    ca = remade_root(sidecar, "expired-root",
                     start=datetime.datetime(2015, 1, 1),
                     end=datetime.datetime(2020, 1, 1))
    srv, res = run_with(sidecar, ca)
    expect_failure(sidecar, res)
    assert srv.requests == [], str(res)
    line = res.errors[0]["_line"]
    assert "the CA certificate in the CA bundle" in line and \
        "has expired" in line and "update the bundle" in line, str(res)


def test_anchor_name_constraints_enforced(sidecar):
    nc = x509.NameConstraints(permitted_subtrees=[x509.DNSName(
        ".example.org")], excluded_subtrees=None)
    ca = remade_root(sidecar, "constrained-root", constraints=nc)
    srv, res = run_with(sidecar, ca)
    expect_failure(sidecar, res)
    assert srv.requests == [], str(res)
    assert "outside a CA's name constraints" in res.errors[0]["_line"], \
        str(res)


def test_anchor_name_constraints_satisfied(sidecar):
    nc = x509.NameConstraints(permitted_subtrees=[x509.DNSName(
        "localhost")], excluded_subtrees=[x509.DNSName("other.localhost")])
    ca = remade_root(sidecar, "constrained-ok-root", constraints=nc)
    srv, res = run_with(sidecar, ca)
    expect_success(sidecar, res, srv)


def test_rejected_copy_wins_in_either_order(sidecar):
    """A root listed twice, once with trust settings rejecting serverAuth:
    it is not an anchor, whichever copy comes first (OpenSSL keeps the
    first)."""
    rejected = trusted_certificate(sidecar, "rej", "-addreject", "serverAuth")
    plain = sidecar.pki.ec.root_cert
    for order in ((rejected, plain), (plain, rejected)):
        ca = bundle(sidecar, "twice", *order, sidecar.pki.untrusted_root_cert)
        srv, res = run_with(sidecar, ca)
        expect_failure(sidecar, res)
        assert srv.requests == [], str(res)
        reasons = [w["reason"] for w in res.warnings if "reason" in w]
        assert len(reasons) == 2, str(res)


def impostor_root(sidecar, name):
    """A root with the test root's name and extensions but another key:
    the server's chain does not lead to it."""
    cert, _ = _root(sidecar)
    key = ec.generate_private_key(ec.SECP256R1())
    b = (x509.CertificateBuilder().subject_name(cert.subject)
         .issuer_name(cert.subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(cert.not_valid_before)
         .not_valid_after(cert.not_valid_after))
    for ext in cert.extensions:
        if not isinstance(ext.value, (x509.SubjectKeyIdentifier,
                                      x509.AuthorityKeyIdentifier)):
            b = b.add_extension(ext.value, ext.critical)
    path = sidecar.tmp / (name + ".pem")
    path.write_bytes(b.sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM))
    return str(path)


def test_same_name_anchors_both_tried(sidecar):
    """Two anchors named alike: whichever comes first, the one whose key
    signs the chain is found; the impostor alone refuses it."""
    impostor = impostor_root(sidecar, "impostor")
    real = sidecar.pki.ec.root_cert
    srv, res = run_with(sidecar, bundle(sidecar, "impostor-only", impostor))
    expect_failure(sidecar, res)
    assert srv.requests == [], str(res)
    assert "a signature in the chain does not verify" in \
        res.errors[0]["_line"], str(res)
    for order in ((impostor, real), (real, impostor)):
        srv, res = run_with(sidecar, bundle(sidecar, "same-name", *order))
        expect_success(sidecar, res, srv)
        assert res.records[0]["trust_anchors"] == "2", str(res)
