"""Test PKI for the integration suite, made with the openssl command line.

One call to make_pki(directory) writes, for the host name `localhost`:

* per key flavour ("ec": ECDSA P-256, "rsa": RSA 2048), a chain
  root CA -> intermediate CA -> server leaf;
* from the ECDSA chain's intermediate, extra leaves: expired, not yet
  valid, and one for the wrong host name;
* an unrelated, untrusted root with its own localhost leaf.

A server presents leaf + intermediate (Chain.server_chain); the client's
CA bundle holds only the root (Chain.root_cert). Everything is SHA-256.

Usable from the command line too:  python3 certs.py OUTDIR
"""

import ipaddress
import os
import subprocess
import sys
from dataclasses import dataclass, field

HOST = "localhost"


class OpenSSLError(RuntimeError):
    pass


def _openssl(*args, cwd=None):
    proc = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if proc.returncode != 0:
        raise OpenSSLError("openssl %s failed (%d):\n%s" % (
            " ".join(args), proc.returncode,
            proc.stderr.decode(errors="replace")))
    return proc.stdout


def _serial():
    # Positive, 64 random bits, no leading zero byte trouble.
    return "0x" + (b"\x40" + os.urandom(8)).hex()


# Key flavours: "ec" (P-256) and "rsa" (2048) as always; the certificate
# matrix adds "ec384" (P-384), "rsa1024" and "rsa4096".
_EC_CURVES = {"ec": "P-256", "ec384": "P-384"}
_RSA_BITS = {"rsa": 2048, "rsa1024": 1024, "rsa4096": 4096}


def _kind(flavour):
    """"ec" or "rsa": which leaf extension section a key flavour uses."""
    if flavour in _EC_CURVES:
        return "ec"
    if flavour in _RSA_BITS:
        return "rsa"
    raise ValueError(flavour)


def _genkey(path, flavour):
    if flavour in _EC_CURVES:
        _openssl("genpkey", "-algorithm", "EC",
                 "-pkeyopt", "ec_paramgen_curve:" + _EC_CURVES[flavour],
                 "-pkeyopt", "ec_param_enc:named_curve", "-out", path)
    elif flavour in _RSA_BITS:
        _openssl("genpkey", "-algorithm", "RSA",
                 "-pkeyopt", "rsa_keygen_bits:%d" % _RSA_BITS[flavour],
                 "-out", path)
    else:
        raise ValueError(flavour)
    os.chmod(path, 0o600)


_CA_EXT = """\
[v3_root]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_inter]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_leaf_ec]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @alt

[v3_leaf_rsa]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @alt

# For the certificate matrix (make_cert_matrix):
[v3_inter_nopathlen]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_inter_not_ca]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_inter_eku_clientauth]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# Non-critical, which RFC 5280 forbids but issuers do: BearSSL would
# ignore it, so the sidecar refuses the chain.
[v3_inter_name_constraints]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = permitted;DNS:other.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[v3_leaf_ec_clientauth]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @alt

[v3_leaf_ec_clientauth_critical]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = critical, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
subjectAltName = @alt

[v3_leaf_ec_selfsigned]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = @alt

# Go and this client ignore the Common Name: a leaf without
# subjectAltName names no host.
[v3_leaf_ec_cn_only]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

# Constraints the leaf's names satisfy (Go accepts the chain).
[v3_inter_nc_permits]
basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, @nc_permits
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[nc_permits]
permitted;DNS.1 = localhost
permitted;IP.1 = 127.0.0.0/255.0.0.0
excluded;DNS.1 = bad.localhost

[alt]
{alt}
"""

# `openssl ca` is the only openssl 3.0 command that takes explicit validity
# dates, which the expired and not-yet-valid leaves need.
_CA_CONF = """\
[ca]
default_ca = tb_ca

[tb_ca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}
serial = {dir}/serial
default_md = sha256
policy = tb_policy
unique_subject = no
copy_extensions = none
email_in_dn = no

[tb_policy]
commonName = supplied
organizationName = optional
"""


def _alt_names(host):
    """The [alt] section: IP.1 for an address, DNS.1 for a name."""
    try:
        ipaddress.ip_address(host)
        return "IP.1 = %s" % host
    except ValueError:
        return "DNS.1 = %s" % host


def _ext_file(directory, host):
    path = os.path.join(directory, "ext-%s.cnf" % host.replace("*", "_")
                        .replace(":", "_"))
    with open(path, "w") as f:
        f.write(_CA_EXT.format(alt=_alt_names(host)))
    return path


def _self_signed_root(directory, name, flavour, cn):
    key = os.path.join(directory, name + ".key")
    cert = os.path.join(directory, name + ".pem")
    _genkey(key, flavour)
    ext = _ext_file(directory, HOST)
    _openssl("req", "-new", "-x509", "-key", key, "-out", cert, "-sha256",
             "-days", "3650", "-subj", "/O=tokenbridge tests/CN=" + cn,
             "-set_serial", _serial(), "-config", ext,
             "-extensions", "v3_root")
    return key, cert


def _sign(directory, name, key, subject, ca_cert, ca_key, ext, section,
          days=825):
    csr = os.path.join(directory, name + ".csr")
    cert = os.path.join(directory, name + ".pem")
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", subject,
             "-config", ext)
    _openssl("x509", "-req", "-in", csr, "-out", cert, "-CA", ca_cert,
             "-CAkey", ca_key, "-set_serial", _serial(), "-days", str(days),
             "-sha256", "-extfile", ext, "-extensions", section)
    os.unlink(csr)
    return cert


def _sign_dated(directory, name, key, subject, ca_cert, ca_key, ext, section,
                start, end, md="sha256"):
    """Sign with explicit notBefore/notAfter (YYYYMMDDHHMMSSZ)."""
    cadir = os.path.join(directory, "ca-" + name)
    os.makedirs(cadir, exist_ok=True)
    open(os.path.join(cadir, "index.txt"), "w").close()
    with open(os.path.join(cadir, "serial"), "w") as f:
        f.write((b"\x40" + os.urandom(8)).hex().upper() + "\n")
    conf = os.path.join(cadir, "ca.cnf")
    with open(conf, "w") as f:
        f.write(_CA_CONF.format(dir=cadir).replace(
            "default_md = sha256", "default_md = " + md))
    csr = os.path.join(cadir, name + ".csr")
    cert = os.path.join(directory, name + ".pem")
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", subject,
             "-config", ext)
    _openssl("ca", "-batch", "-notext", "-config", conf, "-in", csr,
             "-out", cert, "-cert", ca_cert, "-keyfile", ca_key,
             "-startdate", start, "-enddate", end, "-extfile", ext,
             "-extensions", section)
    return cert


def _cat(out, *paths):
    with open(out, "wb") as w:
        for p in paths:
            with open(p, "rb") as r:
                w.write(r.read())
    return out


@dataclass
class Leaf:
    """What a server needs: its certificate chain file and key."""
    cert: str          # the leaf alone
    key: str
    chain: str         # leaf + intermediate (what the server sends)


@dataclass
class Chain:
    flavour: str
    root_cert: str     # the client's CA bundle: this file alone
    root_key: str
    inter_cert: str
    inter_key: str
    leaf: Leaf

    # Convenience: the usual server material.
    @property
    def server_chain(self):
        return self.leaf.chain

    @property
    def server_key(self):
        return self.leaf.key


@dataclass
class PKI:
    directory: str
    ec: Chain
    rsa: Chain
    expired: Leaf = None
    not_yet_valid: Leaf = None
    wrong_host: Leaf = None
    leaf_only: Leaf = None          # the ECDSA leaf without its intermediate
    untrusted_root_cert: str = None
    untrusted: Leaf = None          # localhost leaf under the untrusted root
    extra: dict = field(default_factory=dict)

    def chain(self, flavour):
        return {"ec": self.ec, "rsa": self.rsa}[flavour]


def make_chain(directory, flavour, tag=None):
    tag = tag or flavour
    d = os.path.join(directory, tag)
    os.makedirs(d, exist_ok=True)
    ext = _ext_file(d, HOST)
    root_key, root_cert = _self_signed_root(
        d, "root", flavour, "tokenbridge test root (%s)" % tag)
    inter_key = os.path.join(d, "inter.key")
    _genkey(inter_key, flavour)
    inter_cert = _sign(d, "inter", inter_key,
                       "/O=tokenbridge tests/CN=tokenbridge test intermediate (%s)" % tag,
                       root_cert, root_key, ext, "v3_inter", days=1825)
    leaf_key = os.path.join(d, "leaf.key")
    _genkey(leaf_key, flavour)
    leaf_cert = _sign(d, "leaf", leaf_key, "/CN=" + HOST, inter_cert,
                      inter_key, ext, "v3_leaf_" + _kind(flavour))
    chain = _cat(os.path.join(d, "leaf-chain.pem"), leaf_cert, inter_cert)
    return Chain(flavour, root_cert, root_key, inter_cert, inter_key,
                 Leaf(leaf_cert, leaf_key, chain))


def _extra_leaf(chain, name, host=HOST, dates=None):
    d = os.path.dirname(chain.root_cert)
    ext = _ext_file(d, host)
    section = "v3_leaf_" + _kind(chain.flavour)
    subject = "/CN=" + host
    key = chain.leaf.key   # reuse: key generation is the slow part
    if dates:
        cert = _sign_dated(d, name, key, subject, chain.inter_cert,
                           chain.inter_key, ext, section, *dates)
    else:
        cert = _sign(d, name, key, subject, chain.inter_cert,
                     chain.inter_key, ext, section)
    full = _cat(os.path.join(d, name + "-chain.pem"), cert, chain.inter_cert)
    return Leaf(cert, key, full)


def client_leaf(chain, name, flavour="ec", dates=None):
    """A client certificate (clientAuth, subject CN=name) under the
    chain's intermediate, for mTLS: its file holds the leaf and the
    intermediate, as a client sends them. flavour: the client key's
    ("ec" or "rsa", whatever the chain's); dates: (notBefore, notAfter)
    as YYYYMMDDHHMMSSZ, e.g. for an expired one. Returns (chain file,
    key)."""
    d = os.path.dirname(chain.root_cert)
    key = os.path.join(d, name + ".key")
    _genkey(key, flavour)
    # The section suits RSA too: a client only signs (CertificateVerify).
    args = (d, name, key, "/CN=" + name, chain.inter_cert, chain.inter_key,
            _ext_file(d, HOST), "v3_leaf_ec_clientauth")
    cert = _sign_dated(*args, *dates) if dates else _sign(*args)
    full = _cat(os.path.join(d, name + "-chain.pem"), cert, chain.inter_cert)
    return full, key


def make_pki(directory):
    os.makedirs(directory, exist_ok=True)
    ec = make_chain(directory, "ec")
    rsa = make_chain(directory, "rsa")
    pki = PKI(directory, ec, rsa)
    pki.expired = _extra_leaf(ec, "expired",
                              dates=("20200101000000Z", "20200201000000Z"))
    pki.not_yet_valid = _extra_leaf(ec, "notyet",
                                    dates=("20900101000000Z", "20910101000000Z"))
    pki.wrong_host = _extra_leaf(ec, "wronghost", host="wrong-host.example.test")
    pki.leaf_only = Leaf(ec.leaf.cert, ec.leaf.key, ec.leaf.cert)
    other = make_chain(directory, "ec", tag="untrusted")
    pki.untrusted_root_cert = other.root_cert
    pki.untrusted = other.leaf
    return pki


# ---------------------------------------------------------------- matrix

def _sign_md(directory, name, key, subject, ca_cert, ca_key, ext, section,
             md, days=825):
    """Like _sign, with the signature hash `md` (e.g. "sha1")."""
    csr = os.path.join(directory, name + ".csr")
    cert = os.path.join(directory, name + ".pem")
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", subject,
             "-config", ext)
    _openssl("x509", "-req", "-in", csr, "-out", cert, "-CA", ca_cert,
             "-CAkey", ca_key, "-set_serial", _serial(), "-days", str(days),
             "-" + md, "-extfile", ext, "-extensions", section)
    os.unlink(csr)
    return cert


@dataclass
class MatrixCase:
    """One server certificate set-up of the matrix.

    leaf: what the server presents (Leaf.chain is sent in file order);
    bundle: the client's CA_BUNDLE_PATH; host: the name in EXCHANGE_URL
    (names other than localhost are mapped to 127.0.0.1 by a private
    /etc/hosts); ciphers: the server's OpenSSL cipher string (SECLEVEL=0
    where OpenSSL itself would refuse to load the chain)."""
    leaf: Leaf
    bundle: str
    host: str = HOST
    ciphers: str = None
    flavour: str = "ec"


WEAK = "DEFAULT:@SECLEVEL=0"
WILDCARD = "*.example.test"


def make_cert_matrix(pki, directory=None):
    """Extra chains and leaves for test_cert_matrix.py, keyed by case name.

    Reuses make_pki's chains where it can (keys are the slow part); adds
    P-384 and RSA 4096 chains, an expired intermediate, an intermediate
    without CA:TRUE, leaves with a clientAuth-only EKU (critical and not),
    a 1024-bit RSA leaf, a SHA-1 signed leaf, a self-signed leaf, a
    wildcard leaf, a three-level chain sent out of order, and bundles."""
    directory = directory or os.path.join(pki.directory, "matrix")
    os.makedirs(directory, exist_ok=True)
    ec, rsa = pki.ec, pki.rsa
    cases = {}

    def bundle(name, *paths):
        return _cat(os.path.join(directory, name + "-bundle.pem"), *paths)

    def dated_inter(name, chain, start, end, section="v3_inter"):
        key = os.path.join(directory, name + ".key")
        _genkey(key, chain.flavour)
        ext = _ext_file(directory, HOST)
        cert = _sign_dated(directory, name, key,
                           "/O=tokenbridge tests/CN=tokenbridge test %s" % name,
                           chain.root_cert, chain.root_key, ext, section,
                           start, end)
        return key, cert

    def inter(name, chain, section):
        key = os.path.join(directory, name + ".key")
        _genkey(key, chain.flavour)
        ext = _ext_file(directory, HOST)
        cert = _sign(directory, name, key,
                     "/O=tokenbridge tests/CN=tokenbridge test %s" % name,
                     chain.root_cert, chain.root_key, ext, section, days=1825)
        return key, cert

    def leaf_under(name, inter_cert, inter_key, flavour="ec", host=HOST,
                   section=None, md="sha256", key=None, extra=()):
        ext = _ext_file(directory, host)
        if key is None:
            key = os.path.join(directory, name + ".key")
            _genkey(key, flavour)
        section = section or "v3_leaf_" + _kind(flavour)
        cert = _sign_md(directory, name, key, "/CN=" + host, inter_cert,
                        inter_key, ext, section, md)
        chain = _cat(os.path.join(directory, name + "-chain.pem"), cert,
                     inter_cert, *extra)
        return Leaf(cert, key, chain)

    # -- accepted --
    cases["ecdsa-p256"] = MatrixCase(ec.leaf, ec.root_cert)
    cases["rsa-2048"] = MatrixCase(rsa.leaf, rsa.root_cert, flavour="rsa")
    p384 = make_chain(directory, "ec384")
    cases["ecdsa-p384"] = MatrixCase(p384.leaf, p384.root_cert,
                                     flavour="ec384")
    r4096 = make_chain(directory, "rsa4096")
    cases["rsa-4096"] = MatrixCase(r4096.leaf, r4096.root_cert,
                                   flavour="rsa4096")
    wild = leaf_under("wildcard", ec.inter_cert, ec.inter_key,
                      host=WILDCARD, key=ec.leaf.key)
    for name, host in (("wildcard-one-label", "a.example.test"),
                       ("wildcard-two-labels", "a.b.example.test"),
                       ("wildcard-bare-domain", "example.test")):
        cases[name] = MatrixCase(wild, ec.root_cert, host=host)
    cases["bundle-with-intermediate"] = MatrixCase(
        ec.leaf, bundle("root-and-inter", ec.inter_cert, ec.root_cert))

    # A three-level chain root -> upper -> lower -> leaf, sent as
    # leaf, upper, lower (RFC 5246 wants leaf, lower, upper).
    up_key, up_cert = inter("upper", ec, "v3_inter_nopathlen")
    low_key = os.path.join(directory, "lower.key")
    _genkey(low_key, "ec")
    ext = _ext_file(directory, HOST)
    low_cert = _sign(directory, "lower", low_key,
                     "/O=tokenbridge tests/CN=tokenbridge test lower",
                     up_cert, up_key, ext, "v3_inter", days=1825)
    deep = leaf_under("deep", low_cert, low_key, key=ec.leaf.key)
    in_order = _cat(os.path.join(directory, "deep-in-order.pem"), deep.cert,
                    low_cert, up_cert)
    out_of_order = _cat(os.path.join(directory, "deep-out-of-order.pem"),
                        deep.cert, up_cert, low_cert)
    cases["three-level-in-order"] = MatrixCase(
        Leaf(deep.cert, deep.key, in_order), ec.root_cert)
    cases["three-level-out-of-order"] = MatrixCase(
        Leaf(deep.cert, deep.key, out_of_order), ec.root_cert)

    # -- refused --
    cases["expired-leaf"] = MatrixCase(pki.expired, ec.root_cert)
    cases["not-yet-valid-leaf"] = MatrixCase(pki.not_yet_valid, ec.root_cert)
    ek, ec_ = dated_inter("expired-inter", ec, "20200101000000Z",
                          "20210101000000Z")
    cases["expired-intermediate"] = MatrixCase(
        leaf_under("under-expired-inter", ec_, ek, key=ec.leaf.key),
        ec.root_cert)
    cases["hostname-mismatch"] = MatrixCase(pki.wrong_host, ec.root_cert)
    self_key = ec.leaf.key
    self_cert = os.path.join(directory, "selfsigned.pem")
    _openssl("req", "-new", "-x509", "-key", self_key, "-out", self_cert,
             "-sha256", "-days", "365", "-subj", "/CN=" + HOST,
             "-set_serial", _serial(), "-config", _ext_file(directory, HOST),
             "-extensions", "v3_leaf_ec_selfsigned")
    cases["self-signed-leaf"] = MatrixCase(Leaf(self_cert, self_key,
                                                self_cert), ec.root_cert)
    # Go trusts a leaf that is itself in the pool, byte for byte; another
    # certificate with the same name and key is not that leaf.
    cases["pinned-self-signed-leaf"] = MatrixCase(
        Leaf(self_cert, self_key, self_cert), self_cert)
    twin = os.path.join(directory, "selfsigned-twin.pem")
    _openssl("req", "-new", "-x509", "-key", self_key, "-out", twin,
             "-sha256", "-days", "365", "-subj", "/CN=" + HOST,
             "-set_serial", _serial(), "-config", _ext_file(directory, HOST),
             "-extensions", "v3_leaf_ec_selfsigned")
    cases["pinned-leaf-twin"] = MatrixCase(Leaf(twin, self_key, twin),
                                           self_cert)
    cases["untrusted-root"] = MatrixCase(pki.untrusted, ec.root_cert)
    cases["missing-intermediate"] = MatrixCase(pki.leaf_only, ec.root_cert)
    nk, nc = inter("inter-not-ca", ec, "v3_inter_not_ca")
    cases["intermediate-not-ca"] = MatrixCase(
        leaf_under("under-not-ca", nc, nk, key=ec.leaf.key), ec.root_cert)
    cases["eku-clientauth-only"] = MatrixCase(
        leaf_under("eku-client", ec.inter_cert, ec.inter_key,
                   key=ec.leaf.key, section="v3_leaf_ec_clientauth"),
        ec.root_cert)
    cases["eku-clientauth-only-critical"] = MatrixCase(
        leaf_under("eku-client-crit", ec.inter_cert, ec.inter_key,
                   key=ec.leaf.key, section="v3_leaf_ec_clientauth_critical"),
        ec.root_cert)
    for name, section in (("intermediate-eku-clientauth",
                           "v3_inter_eku_clientauth"),
                          ("intermediate-name-constraints",
                           "v3_inter_name_constraints")):
        ik, ic = inter(name, ec, section)
        cases[name] = MatrixCase(
            leaf_under("under-" + name, ic, ik, key=ec.leaf.key),
            ec.root_cert)
    # Go parity: IP-address URLs checked against iPAddress SANs only,
    # constraints enforced (not refused), the Common Name never used.
    for name, host in (("ip-san-v4", "127.0.0.1"), ("ip-san-v6", "::1")):
        cases[name] = MatrixCase(
            leaf_under(name, ec.inter_cert, ec.inter_key, host=host,
                       key=ec.leaf.key), ec.root_cert, host=host)
    cases["ip-host-dns-san"] = MatrixCase(ec.leaf, ec.root_cert,
                                          host="127.0.0.1")
    cases["trailing-dot-host"] = MatrixCase(ec.leaf, ec.root_cert,
                                            host=HOST + ".")
    pk, pc = inter("inter-nc-permits", ec, "v3_inter_nc_permits")
    cases["name-constraints-satisfied"] = MatrixCase(
        leaf_under("under-nc-permits", pc, pk, key=ec.leaf.key),
        ec.root_cert)
    cases["name-constraints-excluded"] = MatrixCase(
        leaf_under("under-nc-excluded", pc, pk, key=ec.leaf.key,
                   host="bad.localhost"), ec.root_cert, host="bad.localhost")
    cases["cn-only-leaf"] = MatrixCase(
        leaf_under("cn-only", ec.inter_cert, ec.inter_key, key=ec.leaf.key,
                   section="v3_leaf_ec_cn_only"), ec.root_cert)
    cases["rsa-1024-leaf"] = MatrixCase(
        leaf_under("rsa1024", rsa.inter_cert, rsa.inter_key,
                   flavour="rsa1024"), rsa.root_cert, ciphers=WEAK,
        flavour="rsa")
    cases["sha1-signed-leaf"] = MatrixCase(
        leaf_under("sha1", ec.inter_cert, ec.inter_key, key=ec.leaf.key,
                   md="sha1"), ec.root_cert, ciphers=WEAK)
    return cases


def describe(path):
    """One-line subject/issuer/dates summary of a certificate (for messages)."""
    out = _openssl("x509", "-in", path, "-noout", "-subject", "-issuer",
                   "-startdate", "-enddate")
    return " | ".join(out.decode().split("\n")).strip(" |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: certs.py OUTDIR")
    p = make_pki(sys.argv[1])
    for name in ("ec", "rsa"):
        c = p.chain(name)
        print("%s: root %s, server chain %s, key %s" % (
            name, c.root_cert, c.server_chain, c.server_key))
    for name in ("expired", "not_yet_valid", "wrong_host", "untrusted"):
        leaf = getattr(p, name)
        print("%s: %s  [%s]" % (name, leaf.chain, describe(leaf.cert)))
