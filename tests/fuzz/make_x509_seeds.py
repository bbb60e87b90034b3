"""Write seeds for fuzz_x509 into tests/fuzz/corpus/x509/.

Each seed is the fuzz target's input format (fuzz_x509.c): a flags byte,
then 2-byte length-prefixed records, the last (flags & 3) of them the CA
bundle. The chains are valid at the target's fixed time (2030-01-01), so
the fuzzer starts from inputs that reach every check, signatures included.
Run: python3 tests/fuzz/make_x509_seeds.py (needs python3-cryptography).
"""

import datetime
import ipaddress
import os
import struct
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus",
                   "x509")
START = datetime.datetime(2025, 1, 1)
END = datetime.datetime(2035, 1, 1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pss_cert(subject, key, issuer_der, issuer_key):
    """RSASSA-PSS (SHA-256, salt 32) by the openssl CLI: Debian's
    python3-cryptography cannot sign certificates with PSS."""
    with tempfile.TemporaryDirectory() as d:
        paths = {n: os.path.join(d, n) for n in
                 ("k", "ik", "ic", "csr", "ext", "out")}
        open(paths["k"], "wb").write(pem_key(key))
        open(paths["ik"], "wb").write(pem_key(issuer_key))
        open(paths["ic"], "wb").write(x509.load_der_x509_certificate(
            issuer_der).public_bytes(serialization.Encoding.PEM))
        open(paths["ext"], "w").write(
            "basicConstraints=critical,CA:false\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n")
        subprocess.run(["openssl", "req", "-new", "-key", paths["k"],
                        "-subj", "/CN=" + subject, "-out", paths["csr"]],
                       check=True)
        subprocess.run(["openssl", "x509", "-req", "-in", paths["csr"],
                        "-CA", paths["ic"], "-CAkey", paths["ik"],
                        "-set_serial", "7", "-days", "3650", "-sha256",
                        "-sigopt", "rsa_padding_mode:pss",
                        "-sigopt", "rsa_pss_saltlen:32",
                        "-extfile", paths["ext"], "-outform", "DER",
                        "-out", paths["out"]], check=True,
                       stderr=subprocess.DEVNULL)
        return open(paths["out"], "rb").read()


def cert(subject, key, issuer, issuer_key, ca, sans=(), nc=None,
         algorithm=None):
    b = (x509.CertificateBuilder().subject_name(name(subject))
         .issuer_name(name(issuer)).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(START).not_valid_after(END)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None),
                        critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(list(sans)),
                            critical=False)
    if nc is not None:
        b = b.add_extension(nc, critical=True)
    c = b.sign(issuer_key, algorithm or hashes.SHA256())
    return c.public_bytes(serialization.Encoding.DER)


def seed(fname, flags, chain, bundle):
    recs = chain + bundle
    data = bytes([flags]) + b"".join(struct.pack(">H", len(r)) + r
                                     for r in recs)
    with open(os.path.join(OUT, fname), "wb") as f:
        f.write(data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rk = ec.generate_private_key(ec.SECP256R1())
    ik = ec.generate_private_key(ec.SECP384R1())
    lk = ec.generate_private_key(ec.SECP256R1())
    root = cert("seed root", rk, "seed root", rk, True)
    nc = x509.NameConstraints(
        permitted_subtrees=[x509.DNSName("localhost"),
                            x509.DNSName(".example.test"),
                            x509.IPAddress(ipaddress.ip_network(
                                "127.0.0.0/8")),
                            x509.IPAddress(ipaddress.ip_network("::1/128"))],
        excluded_subtrees=[x509.DNSName("x.bad.example.test")])
    inter = cert("seed inter", ik, "seed root", rk, True, nc=nc)
    # A wildcard that could stand for an excluded name is refused.
    nc_bad = x509.NameConstraints(
        permitted_subtrees=None,
        excluded_subtrees=[x509.DNSName("bad.example.test")])
    inter_bad = cert("seed inter", ik, "seed root", rk, True, nc=nc_bad)
    sans = [x509.DNSName("localhost"), x509.DNSName("*.example.test"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1"))]
    leaf = cert("seed leaf", lk, "seed inter", ik, False, sans=sans)
    # flags: bits 0-1 bundle records, 2-3 host, 4-6 chunk, 7 bad lengths
    seed("ec-in-order", 0x01, [leaf, inter], [root])
    seed("ec-out-of-order-ip", 0x05, [leaf, root, inter], [root])
    seed("ec-ipv6-chunk1", 0x19, [leaf, inter], [root])
    seed("ec-wildcard", 0x0d, [leaf, inter, inter], [root])
    seed("ec-bad-lengths", 0x81, [leaf, inter], [root])
    seed("ec-excluded", 0x01, [leaf, inter_bad], [root])
    rrk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rlk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rroot = cert("seed rsa root", rrk, "seed rsa root", rrk, True)
    pss_leaf = pss_cert("seed pss leaf", rlk, rroot, rrk)
    pkcs_leaf = cert("seed rsa leaf", rlk, "seed rsa root", rrk, False,
                     sans=sans, algorithm=hashes.SHA384())
    seed("rsa-pss", 0x01, [pss_leaf], [rroot])
    seed("rsa-pkcs1-two-anchors", 0x02, [pkcs_leaf], [root, rroot])


if __name__ == "__main__":
    main()
