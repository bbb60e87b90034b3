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


def _genkey(path, flavour):
    if flavour == "ec":
        _openssl("genpkey", "-algorithm", "EC",
                 "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-pkeyopt", "ec_param_enc:named_curve", "-out", path)
    elif flavour == "rsa":
        _openssl("genpkey", "-algorithm", "RSA",
                 "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
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

[alt]
DNS.1 = {host}
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


def _ext_file(directory, host):
    path = os.path.join(directory, "ext-%s.cnf" % host.replace("*", "_"))
    with open(path, "w") as f:
        f.write(_CA_EXT.format(host=host))
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
                start, end):
    """Sign with explicit notBefore/notAfter (YYYYMMDDHHMMSSZ)."""
    cadir = os.path.join(directory, "ca-" + name)
    os.makedirs(cadir, exist_ok=True)
    open(os.path.join(cadir, "index.txt"), "w").close()
    with open(os.path.join(cadir, "serial"), "w") as f:
        f.write((b"\x40" + os.urandom(8)).hex().upper() + "\n")
    conf = os.path.join(cadir, "ca.cnf")
    with open(conf, "w") as f:
        f.write(_CA_CONF.format(dir=cadir))
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
                      inter_key, ext, "v3_leaf_" + flavour)
    chain = _cat(os.path.join(d, "leaf-chain.pem"), leaf_cert, inter_cert)
    return Chain(flavour, root_cert, root_key, inter_cert, inter_key,
                 Leaf(leaf_cert, leaf_key, chain))


def _extra_leaf(chain, name, host=HOST, dates=None):
    d = os.path.dirname(chain.root_cert)
    ext = _ext_file(d, host)
    section = "v3_leaf_" + chain.flavour
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
