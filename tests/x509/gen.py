#!/usr/bin/python3
"""The differential corpus for the X.509 chain validator (issue 9).

    python3 tests/x509/gen.py OUTDIR

writes one directory per case under OUTDIR:

    bundle.pem   the CA bundle (CERTIFICATE or OpenSSL TRUSTED CERTIFICATE)
    chain.pem    the certificates in the order a server sends them
    host         the name the client asked for (as typed in the URL)
    meta.json    group, key type, what the case varies, notes

and OUTDIR/cases.json, the list of every case's meta. The verdicts are not
written here: judge.py asks OpenSSL (and applies Go's no-CN rule), and
run_diff.py asks the validator.

Deterministic: keys come from a fixed seed (EC and Ed25519 scalars hashed
from it, RSA primes searched from a seeded generator), serial numbers from
a generator seeded per group, and every date from the fixed NOW below.
ECDSA signatures are randomized by the library, so the bytes of an
ECDSA-signed certificate differ between runs (RSA-signed ones do not);
what each case is, and its verdict, do not. OUTDIR/stamp holds the
SHA-256 of this file: when it matches, the corpus is left as it is
(--force regenerates). The RSA keys, slow to derive in Python, are kept
in OUTDIR.keys.json.
"""

import base64
import datetime
import hashlib
import ipaddress
import json
import math
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import warnings

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (ec, ed25519, padding,
                                                       rsa)
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

warnings.filterwarnings("ignore", message=".*signatures are deprecated")

SEED = b"tokenbridge x509 diff, issue 9"
NOW = datetime.datetime(2026, 1, 15, 12, 0, 0)          # UTC, naive
NOW_UNIX = int((NOW - datetime.datetime(1970, 1, 1)).total_seconds())
DAY = datetime.timedelta(days=1)
SEC = datetime.timedelta(seconds=1)

HOST = "www.example.com"
SAN = ("dns:" + HOST,)

# ---------------------------------------------------------------- keys

EC_CURVES = {"p256": ec.SECP256R1(), "p384": ec.SECP384R1(),
             "p521": ec.SECP521R1(), "k256": ec.SECP256K1()}
RSA_BITS = {"rsa1024": 1024, "rsa2048": 2048, "rsa3072": 3072,
            "rsa4096": 4096}
SMALL_PRIMES = [p for p in range(3, 20000)
                if all(p % q for q in range(2, int(p ** 0.5) + 1))]
PRIMORIAL = 1
for _p in SMALL_PRIMES:
    PRIMORIAL *= _p
# RSA keys take seconds each in Python: they are kept beside the corpus
# (OUTDIR.keys.json), under this version of the derivation.
KEYGEN_VERSION = "1"
KEY_CACHE = {}
KEY_CACHE_DIRTY = []


def _stream(label, nbytes):
    out, i = b"", 0
    while len(out) < nbytes:
        out += hashlib.sha512(SEED + b"/" + label.encode() +
                              b"/%d" % i).digest()
        i += 1
    return out[:nbytes]


def _is_prime(n, rng):
    if math.gcd(n, PRIMORIAL) != 1:
        return False
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(12):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits, rng, e):
    while True:
        n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if (n - 1) % e and _is_prime(n, rng):
            return n


def _rsa(bits, label):
    rng = random.Random(_stream(label, 32))
    e = 65537
    while True:
        p = _prime(bits // 2, rng, e)
        q = _prime(bits - bits // 2, rng, e)
        if p != q and (p * q).bit_length() == bits:
            break
    if p < q:
        p, q = q, p
    d = pow(e, -1, (p - 1) * (q - 1))
    pub = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p),
                                 rsa.rsa_crt_dmq1(d, q),
                                 rsa.rsa_crt_iqmp(p, q), pub).private_key()


_KEYS = {}
# The RSA keys the corpus uses, derived up front on every core.
RSA_POOL = [(kt, label) for kt in RSA_BITS
            for label in ("root", "int", "leaf")] + \
    [("rsa2048", "int2"), ("rsa2048", "other")]


def _rsa_pem(job):
    kt, label = job
    k = _rsa(RSA_BITS[kt], "%s/%s" % (kt, label))
    return k.private_bytes(serialization.Encoding.PEM,
                           serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


def derive_pool():
    todo = [j for j in RSA_POOL
            if "%s/%s/%s" % (KEYGEN_VERSION, j[0], j[1]) not in KEY_CACHE]
    if not todo:
        return
    # biggest first, so that the two cores finish together
    todo.sort(key=lambda j: -RSA_BITS[j[0]])
    with multiprocessing.Pool(max(2, os.cpu_count() or 2)) as pool:
        for (kt, label), pem in zip(todo, pool.map(_rsa_pem, todo, 1)):
            ck = "%s/%s/%s" % (KEYGEN_VERSION, kt, label)
            KEY_CACHE[ck] = pem
            KEY_CACHE_DIRTY.append(ck)


def key(kt, label):
    """The key of type kt for role `label`, the same on every run."""
    k = (kt, label)
    if k not in _KEYS:
        lab = "%s/%s" % (kt, label)
        if kt in EC_CURVES:
            curve = EC_CURVES[kt]
            bits = curve.key_size
            d = int.from_bytes(_stream(lab, (bits + 7) // 8), "big")
            d = (d >> (8 * ((bits + 7) // 8) - (bits - 1))) | 1
            _KEYS[k] = ec.derive_private_key(d, curve)
        elif kt in RSA_BITS:
            ck = KEYGEN_VERSION + "/" + lab
            if ck in KEY_CACHE:
                _KEYS[k] = serialization.load_pem_private_key(
                    KEY_CACHE[ck].encode(), None)
            else:
                _KEYS[k] = _rsa(RSA_BITS[kt], lab)
                KEY_CACHE[ck] = _KEYS[k].private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption()).decode()
                KEY_CACHE_DIRTY.append(ck)
        elif kt == "ed25519":
            _KEYS[k] = ed25519.Ed25519PrivateKey.from_private_bytes(
                _stream(lab, 32))
        else:
            raise ValueError(kt)
    return _KEYS[k]


# ---------------------------------------------------------------- DER

def _len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + _len(len(content)) + content


def oid(dotted):
    parts = [int(x) for x in dotted.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for v in parts[2:]:
        enc = [v & 0x7f]
        v >>= 7
        while v:
            enc.append(0x80 | (v & 0x7f))
            v >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, out)


def der_items(data):
    """The elements of a DER SEQUENCE's content, each whole."""
    out, i = [], 0
    while i < len(data):
        j = i + 1
        n = data[j]
        j += 1
        if n & 0x80:
            k = n & 0x7f
            n = int.from_bytes(data[j:j + k], "big")
            j += k
        out.append(data[i:j + n])
        i = j + n
    return out


def der_body(elem):
    n = elem[1]
    if n & 0x80:
        return elem[2 + (n & 0x7f):]
    return elem[2:]


HASH_OID = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1",
            "sha384": "2.16.840.1.101.3.4.2.2",
            "sha512": "2.16.840.1.101.3.4.2.3"}
DEFAULT_VERSION = object()
HASH = {"sha1": hashes.SHA1, "sha224": hashes.SHA224,
        "sha256": hashes.SHA256, "sha384": hashes.SHA384,
        "sha512": hashes.SHA512, "md5": hashes.MD5}


def pss_algid(h, mgf, salt):
    def alg(name):
        return tlv(0x30, oid(HASH_OID[name]) + b"\x05\x00")
    params = (tlv(0xa0, alg(h)) +
              tlv(0xa1, tlv(0x30, oid("1.2.840.113549.1.1.8") + alg(mgf))) +
              tlv(0xa2, tlv(0x02, salt.to_bytes(2, "big").lstrip(b"\0")
                            or b"\0")))
    return tlv(0x30, oid("1.2.840.113549.1.1.10") + tlv(0x30, params))


def resign_pss(cert, issuer_key, h, mgf, salt):
    """cert signed again with RSASSA-PSS (cryptography 38's builder cannot):
    the TBS's signature field and the outer one both become PSS."""
    tbs_items = der_items(der_body(cert.tbs_certificate_bytes))
    algid = pss_algid(h, mgf, salt)
    tbs_items[2] = algid        # [0] version, serial, signature
    tbs = tlv(0x30, b"".join(tbs_items))
    sig = issuer_key.sign(tbs, padding.PSS(mgf=padding.MGF1(HASH[mgf]()),
                                           salt_length=salt), HASH[h]())
    der = tlv(0x30, tbs + algid + tlv(0x03, b"\0" + sig))
    return x509.load_der_x509_certificate(der)


def corrupt(der):
    """The same certificate with the signature's last byte flipped."""
    der = bytearray(der)
    der[-1] ^= 0x01
    return bytes(der)


def ext_der(ext_oid, value, critical=False):
    return tlv(0x30, oid(ext_oid) + (b"\x01\x01\xff" if critical else b"") +
               tlv(0x04, value))


def sign_raw(signer, tbs, h):
    if isinstance(signer, rsa.RSAPrivateKey):
        return signer.sign(tbs, padding.PKCS1v15(), HASH[h]())
    return signer.sign(tbs, ec.ECDSA(HASH[h]()))


def edit_tbs(cert, signer, h="sha256", exts=None, inner_alg=None,
             version=DEFAULT_VERSION, validity=None, spki=None):
    """cert with its TBS edited, signed again by signer with hash h:
    exts(list of extension DERs) -> new list; inner_alg replaces the TBS's
    signature AlgorithmIdentifier (the outer one is kept); version None
    drops the version field (v1), extensions too unless exts says;
    validity replaces the dates (TLVs); spki(old DER) -> new DER."""
    items = der_items(der_body(cert.tbs_certificate_bytes))
    outer = der_items(der_body(cert.public_bytes(
        serialization.Encoding.DER)))[1]
    if exts is not None:
        assert items[-1][0] == 0xa3
        lst = der_items(der_body(der_body(items[-1])))
        items[-1] = tlv(0xa3, tlv(0x30, b"".join(exts(lst))))
    if inner_alg is not None:
        items[2] = inner_alg
    if validity is not None:        # (notBefore TLV, notAfter TLV)
        items[4] = tlv(0x30, validity[0] + validity[1])
    if spki is not None:            # the SubjectPublicKeyInfo, edited
        items[6] = spki(items[6])
    if version is None:
        items = items[1:]
        if exts is None and items[-1][0] == 0xa3:
            items = items[:-1]
    tbs = tlv(0x30, b"".join(items))
    sig = sign_raw(signer, tbs, h)
    return tlv(0x30, tbs + outer + tlv(0x03, b"\0" + sig))


# ---------------------------------------------------------------- certs

RNG = random.Random(SEED)


class Node:
    """A certificate: `cert` as the builder made it (its names serve the
    certificates it issues), `der` as it is sent, perhaps edited after."""

    def __init__(self, cert, key_, der=None):
        self.cert = cert
        self.key = key_
        self.der = der or cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self):
        b = base64.encodebytes(self.der).decode().replace("\n", "")
        return "-----BEGIN CERTIFICATE-----\n%s-----END CERTIFICATE-----\n" \
            % "".join(b[i:i + 64] + "\n" for i in range(0, len(b), 64))


def name(cn, org="tokenbridge x509 diff"):
    attrs = []
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def general_name(s):
    kind, _, v = s.partition(":")
    if kind == "dns":
        return x509.DNSName(v)
    if kind == "ip":
        if "/" in v:
            return x509.IPAddress(ipaddress.ip_network(v))
        return x509.IPAddress(ipaddress.ip_address(v))
    if kind == "email":
        return x509.RFC822Name(v)
    if kind == "uri":
        return x509.UniformResourceIdentifier(v)
    if kind == "dn":
        return x509.DirectoryName(name(v))
    raise ValueError(s)


EKU = {"server": ExtendedKeyUsageOID.SERVER_AUTH,
       "client": ExtendedKeyUsageOID.CLIENT_AUTH,
       "code": ExtendedKeyUsageOID.CODE_SIGNING,
       "any": x509.ObjectIdentifier("2.5.29.37.0"),
       "sgc": x509.ObjectIdentifier("2.16.840.1.113730.4.1"),
       "mssgc": x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.3")}
KU_BITS = ("digital_signature", "content_commitment", "key_encipherment",
           "data_encipherment", "key_agreement", "key_cert_sign", "crl_sign",
           "encipher_only", "decipher_only")
KU_SHORT = {"ds": "digital_signature", "ke": "key_encipherment",
            "ka": "key_agreement", "cs": "key_cert_sign", "crl": "crl_sign",
            "nr": "content_commitment"}
DEFAULT = object()
UNKNOWN_OID = "1.3.6.1.4.1.55555.9.1"


def mk(cn, key_, parent=None, role="leaf", **o):
    """One certificate. parent: the issuing Node (None: self-signed).
    Options (DEFAULT means what a well-made certificate of the role has):
      nb, na       validity (datetime)
      bc           None (absent), or (ca, pathlen, critical)
      ku           None, or (["cs", "crl", ...], critical)
      eku          None, or (["server", ...], critical)
      san          list of "dns:x" / "ip:x", None for no extension
      san_critical
      nc           (permitted list or None, excluded list or None)
      extra        [(oid, der value, critical)]
      hash         "sha256" ...; pss=(hash, mgf hash, salt)
      skid, akid   False to leave out; akid=bytes for a wrong key id
      subject      a full x509.Name
      sign_key     sign with this key instead of the issuer's
      bad_sig      flip the signature's last byte
    """
    subject = o.get("subject") or name(cn)
    issuer_name = o.get("issuer_name") or (parent.cert.subject if parent
                                           else subject)
    signer = o.get("sign_key") or (parent.key if parent else key_)
    issuer_pub = (parent.key if parent else key_).public_key()
    ca_role = role != "leaf"
    nb_def, na_def = {"root": (NOW - 3650 * DAY, NOW + 3650 * DAY),
                      "int": (NOW - 1000 * DAY, NOW + 1500 * DAY),
                      "leaf": (NOW - 30 * DAY, NOW + 60 * DAY)}[role]
    b = x509.CertificateBuilder().subject_name(subject) \
        .issuer_name(issuer_name).public_key(key_.public_key()) \
        .serial_number(RNG.getrandbits(63) | (1 << 62)) \
        .not_valid_before(o.get("nb", nb_def)) \
        .not_valid_after(o.get("na", na_def))
    bc = o.get("bc", DEFAULT)
    if bc is DEFAULT:
        bc = (ca_role, o.get("pathlen"), True)
    if bc is not None:
        b = b.add_extension(x509.BasicConstraints(bc[0], bc[1]), bc[2])
    ku = o.get("ku", DEFAULT)
    if ku is DEFAULT:
        if ca_role:
            ku = (["cs", "crl"], True)
        elif isinstance(key_, rsa.RSAPrivateKey):
            ku = (["ds", "ke"], True)
        else:
            ku = (["ds"], True)
    if ku is not None:
        bits = {v: False for v in KU_BITS}
        for s in ku[0]:
            bits[KU_SHORT[s]] = True
        b = b.add_extension(x509.KeyUsage(**bits), ku[1])
    eku = o.get("eku", DEFAULT)
    if eku is DEFAULT:
        eku = None if ca_role else (["server"], False)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage([EKU[e] for e in eku[0]]),
                            eku[1])
    if o.get("skid", True):
        b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(
            key_.public_key()), o.get("skid_critical", False))
    akid = o.get("akid", True)
    if isinstance(akid, bytes):
        b = b.add_extension(x509.AuthorityKeyIdentifier(akid, None, None),
                            False)
    elif akid:
        b = b.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_pub),
            o.get("akid_critical", False))
    san = o.get("san")
    if san is not None:
        b = b.add_extension(x509.SubjectAlternativeName(
            [general_name(s) for s in san]), o.get("san_critical", False))
    nc = o.get("nc")
    if nc is not None:
        perm = [general_name(s) for s in nc[0]] if nc[0] else None
        excl = [general_name(s) for s in nc[1]] if nc[1] else None
        b = b.add_extension(x509.NameConstraints(perm, excl),
                            o.get("nc_critical", True))
    for ext_oid, value, crit in o.get("extra", ()):
        if ext_oid == "policies":
            b = b.add_extension(x509.CertificatePolicies([
                x509.PolicyInformation(
                    x509.ObjectIdentifier("2.5.29.32.0"), None)]), crit)
        elif ext_oid == "policy-constraints":
            b = b.add_extension(x509.PolicyConstraints(0, None), crit)
        elif ext_oid == "inhibit-any-policy":
            b = b.add_extension(x509.InhibitAnyPolicy(0), crit)
        elif ext_oid == "crldp":
            b = b.add_extension(x509.CRLDistributionPoints([
                x509.DistributionPoint([x509.UniformResourceIdentifier(
                    "http://crl.invalid/ca.crl")], None, None, None)]), crit)
        elif ext_oid == "aia":
            b = b.add_extension(x509.AuthorityInformationAccess([
                x509.AccessDescription(
                    x509.oid.AuthorityInformationAccessOID.OCSP,
                    x509.UniformResourceIdentifier(
                        "http://ocsp.invalid/"))]), crit)
        else:
            b = b.add_extension(x509.UnrecognizedExtension(
                x509.ObjectIdentifier(ext_oid), value), crit)
    h = o.get("hash", "sha256")
    pss = o.get("pss")
    if isinstance(signer, ed25519.Ed25519PrivateKey):
        cert = b.sign(signer, None)
    else:
        cert = b.sign(signer, HASH[h]())
    if pss is not None:
        cert = resign_pss(cert, signer, *pss)
    der = cert.public_bytes(serialization.Encoding.DER)
    if o.get("tbs") is not None:
        der = edit_tbs(cert, signer, h, **o["tbs"])
    if o.get("bad_sig"):
        der = corrupt(der)
    return Node(cert, key_, der)


def chain(kt, tag, ints=1, root=None, inter=None, leaf=None, kts=None,
          san=SAN):
    """A standard path: root -> ints intermediates -> leaf, all of key type
    kt (or kts=(root kt, int kt, leaf kt)). root/leaf: option dicts;
    inter: one dict for every intermediate, or a list, one per level
    (top first). Returns (root, [intermediates top first], leaf)."""
    rkt, ikt, lkt = kts or (kt, kt, kt)
    ro = dict(root or {})
    r = mk(ro.pop("cn", "Root %s %s" % (kt, tag)), key(rkt, "root"),
           None, "root", **ro)
    levels = inter if isinstance(inter, list) else [inter or {}] * ints
    parent, out = r, []
    for i, io in enumerate(levels):
        io = dict(io)
        if i < 2:
            k = key(ikt, ("int", "int2")[i])
        elif ikt in RSA_BITS:
            k = key(ikt, ("int", "int2")[i % 2])
        else:
            k = key(ikt, "int%d" % (i + 1))
        n = mk(io.pop("cn", "Intermediate %d %s %s" % (i + 1, kt, tag)), k,
               parent, "int", **io)
        out.append(n)
        parent = n
    lo = dict(leaf or {})
    lo.setdefault("san", list(san) if san is not None else None)
    lf = mk(lo.pop("cn", HOST), key(lkt, "leaf"), parent, "leaf", **lo)
    return r, out, lf


# ---------------------------------------------------------------- cases

CASES = []


def case(cname, bundle, certs, host=HOST, group="", kt="", note="",
         go=None, tags=()):
    """bundle: Nodes or ("trusted", Node, openssl x509 options) or raw PEM
    text; certs: Nodes in the order the server sends them (leaf first)."""
    assert cname not in {c["name"] for c in CASES}, cname
    CASES.append({"name": cname, "bundle": bundle, "chain": certs,
                  "host": host, "group": group, "kt": kt, "note": note,
                  "go": go, "tags": list(tags)})


# X509_CERT_AUX with reject [0] { serverAuth }: what `openssl x509
# -addreject serverAuth -trustout` appends to the certificate.
REJECT_SERVER_AUTH = tlv(0x30, tlv(0xa0, tlv(0x06, bytes.fromhex(
    "2b06010505070301"))))


def trusted_raw(der, aux):
    """A TRUSTED CERTIFICATE block from DER and trust settings, for
    certificates `openssl x509` would not read."""
    b = base64.encodebytes(der + aux).decode().replace("\n", "")
    return "-----BEGIN TRUSTED CERTIFICATE-----\n%s" \
        "-----END TRUSTED CERTIFICATE-----\n" % "".join(
            b[i:i + 64] + "\n" for i in range(0, len(b), 64))


def trusted_pem(node, opts, tmp):
    p = os.path.join(tmp, "in.pem")
    with open(p, "w") as f:
        f.write(node.pem)
    out = subprocess.run(["openssl", "x509", "-in", p, "-trustout"] +
                         list(opts), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=True)
    return out.stdout.decode()


def write_all(outdir):
    tmp = tempfile.mkdtemp(prefix="x509gen")
    index = []
    try:
        for c in CASES:
            d = os.path.join(outdir, c["name"])
            os.makedirs(d, exist_ok=True)
            parts = []
            for b in c["bundle"]:
                if isinstance(b, Node):
                    parts.append(b.pem)
                elif isinstance(b, tuple):
                    parts.append(trusted_pem(b[1], b[2], tmp))
                else:
                    parts.append(b)
            with open(os.path.join(d, "bundle.pem"), "w") as f:
                f.write("".join(parts))
            with open(os.path.join(d, "chain.pem"), "w") as f:
                f.write("".join(n.pem for n in c["chain"]))
            with open(os.path.join(d, "host"), "w") as f:
                f.write(c["host"] + "\n")
            meta = {k: c[k] for k in ("name", "host", "group", "kt", "note",
                                      "go", "tags")}
            meta["now"] = NOW_UNIX
            with open(os.path.join(d, "meta.json"), "w") as f:
                json.dump(meta, f, indent=1)
            index.append(meta)
    finally:
        shutil.rmtree(tmp)
    with open(os.path.join(outdir, "cases.json"), "w") as f:
        json.dump({"now": NOW_UNIX, "cases": index}, f, indent=1)


# ---- structure: validity, constraints, usages, extensions, order

def structure(kt):
    g = "structure"

    def std(tag, note="", go=None, tags=(), host=HOST, extra_chain=None,
            order=None, bundle_extra=(), **kw):
        r, ints, lf = chain(kt, tag, **kw)
        certs = [lf] + ints[::-1]
        if order is not None:
            allc = {"leaf": lf, "root": r}
            for i, n in enumerate(ints):
                allc["int%d" % (i + 1)] = n
            certs = [allc[x] for x in order]
        case("%s-%s" % (kt, tag), [r] + list(bundle_extra), certs, host, g,
             kt, note, go, tags)
        return r, ints, lf

    std("ok")
    # validity
    std("leaf-expired", leaf={"na": NOW - DAY})
    std("leaf-not-yet-valid", leaf={"nb": NOW + DAY})
    std("leaf-na-is-now", leaf={"na": NOW},
        note="notAfter == now: OpenSSL says expired, Go (now.After) valid",
        go="accept")
    std("leaf-na-now-plus-1", leaf={"na": NOW + SEC})
    std("leaf-na-now-minus-1", leaf={"na": NOW - SEC})
    std("leaf-nb-is-now", leaf={"nb": NOW})
    std("leaf-nb-now-plus-1", leaf={"nb": NOW + SEC})
    std("int-expired", inter={"na": NOW - DAY})
    std("int-not-yet-valid", inter={"nb": NOW + DAY})
    std("root-expired", root={"na": NOW - DAY},
        note="the anchor in the bundle expired")
    std("root-not-yet-valid", root={"nb": NOW + DAY})
    std("root-generalized-time", root={"na": datetime.datetime(2060, 1, 1)},
        note="notAfter past 2049: GeneralizedTime")
    std("int-generalized-time", inter={"na": datetime.datetime(2051, 1, 1)})
    std("leaf-generalized-expired",
        leaf={"nb": datetime.datetime(1951, 1, 1),
              "na": datetime.datetime(2025, 1, 1)})
    # basicConstraints and path length
    std("int-no-bc", inter={"bc": None})
    std("int-ca-false", inter={"bc": (False, None, True)})
    std("int-bc-noncritical", inter={"bc": (True, None, False)},
        note="RFC 5280 wants it critical; only -x509_strict refuses",
        tags=["strict-only"])
    std("root-no-bc", root={"bc": None})
    std("root-ca-false", root={"bc": (False, None, True)})
    std("int-pathlen0-direct", inter={"pathlen": 0})
    std("int-pathlen0-sub-int", ints=2, inter=[{"pathlen": 0}, {}])
    std("int-pathlen1-sub-int", ints=2, inter=[{"pathlen": 1}, {}])
    std("int-pathlen1-two-below", ints=3, inter=[{"pathlen": 1}, {}, {}])
    std("root-pathlen0-int", root={"pathlen": 0})
    std("root-pathlen0-direct-leaf", ints=0, root={"pathlen": 0})
    std("root-pathlen1-two-ints", ints=2, root={"pathlen": 1})
    std("root-pathlen1-one-int", root={"pathlen": 1})
    std("leaf-ca-true", leaf={"bc": (True, None, True),
                              "ku": (["ds", "cs"], True)})
    std("leaf-no-bc", leaf={"bc": None})
    std("leaf-directly-under-root", ints=0)
    # keyUsage
    std("int-ku-no-certsign", inter={"ku": (["ds", "crl"], True)})
    std("root-ku-no-certsign", root={"ku": (["ds", "crl"], True)})
    std("int-no-ku", inter={"ku": None},
        note="a CA without keyUsage: only -x509_strict refuses",
        tags=["strict-only"])
    std("int-ku-certsign-only", inter={"ku": (["cs"], True)})
    std("leaf-ku-certsign-only", leaf={"ku": (["cs"], True)})
    std("leaf-ku-keyencipherment-only", leaf={"ku": (["ke"], True)})
    std("leaf-ku-keyagreement-only", leaf={"ku": (["ka"], True)})
    std("leaf-ku-nonrepudiation-only", leaf={"ku": (["nr"], True)})
    std("leaf-no-ku", leaf={"ku": None})
    std("leaf-ku-noncritical", leaf={"ku": (["ds", "ke"], False)})
    # extendedKeyUsage
    std("leaf-eku-client-only", leaf={"eku": (["client"], False)})
    std("leaf-eku-client-critical", leaf={"eku": (["client"], True)})
    std("leaf-eku-code-only", leaf={"eku": (["code"], False)})
    std("leaf-eku-none", leaf={"eku": None})
    std("leaf-eku-any", leaf={"eku": (["any"], False)},
        note="anyExtendedKeyUsage alone: Go accepts it for serverAuth",
        go="accept")
    std("leaf-eku-server-any", leaf={"eku": (["server", "any"], False)})
    std("leaf-eku-server-client",
        leaf={"eku": (["client", "server"], False)})
    std("leaf-eku-sgc", leaf={"eku": (["sgc"], False)},
        note="Netscape Server Gated Crypto: OpenSSL and Go take it as "
        "serverAuth", go="accept")
    std("leaf-eku-mssgc", leaf={"eku": (["mssgc"], False)}, go="accept")
    std("leaf-eku-server-critical", leaf={"eku": (["server"], True)})
    std("int-eku-client", inter={"eku": (["client"], False)})
    std("int-eku-server", inter={"eku": (["server"], False)})
    std("int-eku-server-client",
        inter={"eku": (["server", "client"], False)})
    std("int-eku-any", inter={"eku": (["any"], False)}, go="accept")
    std("int-eku-code", inter={"eku": (["code"], False)})
    std("root-eku-client", root={"eku": (["client"], False)})
    std("root-eku-server", root={"eku": (["server"], False)})
    std("int2-eku-client-only-upper", ints=2,
        inter=[{"eku": (["client"], False)}, {}])
    # extensions
    unknown = (UNKNOWN_OID, b"\x05\x00", True)
    std("leaf-unknown-critical", leaf={"extra": [unknown]})
    std("int-unknown-critical", inter={"extra": [unknown]})
    std("root-unknown-critical", root={"extra": [unknown]})
    std("leaf-unknown-noncritical",
        leaf={"extra": [(UNKNOWN_OID, b"\x05\x00", False)]})
    std("int-policies-critical", inter={"extra": [("policies", None, True)]})
    std("leaf-policies-critical", leaf={"extra": [("policies", None, True)]})
    std("leaf-san-critical", leaf={"san_critical": True})
    std("leaf-akid-critical", leaf={"akid_critical": True},
        note="RFC 5280: AKID must not be critical; OpenSSL does not "
        "handle it as a critical extension", go="accept")
    std("int-skid-critical", inter={"skid_critical": True}, go="accept")
    std("int-akid-critical", inter={"akid_critical": True}, go="accept")
    std("int-policy-constraints-critical",
        inter={"extra": [("policy-constraints", None, True)]})
    std("int-inhibit-any-policy-critical",
        inter={"extra": [("inhibit-any-policy", None, True)]})
    std("leaf-crldp-critical", leaf={"extra": [("crldp", None, True)]},
        go="accept")
    std("leaf-aia-critical", leaf={"extra": [("aia", None, True)]},
        go="accept")
    std("leaf-empty-subject-san-critical",
        leaf={"subject": x509.Name([]), "san_critical": True})
    std("leaf-empty-subject-san-noncritical",
        leaf={"subject": x509.Name([])},
        note="RFC 5280: SAN must be critical when the subject is empty; "
        "only -x509_strict refuses", tags=["strict-only"])
    std("leaf-no-akid", leaf={"akid": False}, tags=["strict-only"],
        note="-x509_strict wants an authorityKeyIdentifier")
    std("int-no-skid", inter={"skid": False}, tags=["strict-only"],
        note="-x509_strict wants a CA's subjectKeyIdentifier")
    std("leaf-akid-mismatch", leaf={"akid": b"\x01" * 20},
        note="the leaf's AKID names another key: OpenSSL's issuer check "
        "fails; Go builds the path anyway", go="accept")
    std("int-akid-mismatch", inter={"akid": b"\x02" * 20}, go="accept")
    # signatures
    std("leaf-bad-signature", leaf={"bad_sig": True})
    std("int-bad-signature", inter={"bad_sig": True})
    std("root-bad-self-signature", root={"bad_sig": True},
        note="an anchor's own signature is not checked by OpenSSL or Go",
        go="accept")
    std("int-signed-by-other-key", inter={"sign_key": key(kt, "other")})
    std("leaf-signed-by-other-key", leaf={"sign_key": key(kt, "other")})
    # chain order and content
    std("order-root-included", order=["leaf", "int1", "root"])
    std("order-root-first", order=["leaf", "root", "int1"])
    std("order-missing-int", order=["leaf"])
    std("order-leaf-last", order=["int1", "leaf"],
        note="certs[0] is taken as the leaf, as a TLS client does")
    std("order-dup-int", order=["leaf", "int1", "int1"])
    std("order-dup-leaf", order=["leaf", "leaf", "int1"])
    std("order2-normal", ints=2)
    std("order2-reversed", ints=2, order=["leaf", "int1", "int2"])
    std("order3-shuffled", ints=3, order=["leaf", "int2", "root", "int3",
                                          "int1"])
    std("order3-reversed", ints=3, order=["leaf", "int1", "int2", "int3"])
    std("order3-missing-middle", ints=3, order=["leaf", "int3", "int1"])
    # unrelated certificates in the chain
    ur, uints, ulf = chain(kt, "unrelated-for-" + "extra", ints=1)
    r, ints, lf = chain(kt, "order-extra-unrelated")
    case("%s-order-extra-unrelated" % kt, [r],
         [lf, uints[0], ulf, ints[0], ur], HOST, g, kt)
    # the unrelated root in the bundle too: its path must not be taken
    case("%s-order-extra-unrelated-both-trusted" % kt, [ur, r],
         [lf, uints[0], ints[0]], HOST, g, kt)
    case("%s-bundle-unrelated-only" % kt, [ur], [lf, ints[0]], HOST, g, kt)
    case("%s-bundle-many" % kt, [ur] * 3 + [r], [lf, ints[0]], HOST, g, kt)
    # self-signed leaves
    ss = mk(HOST, key(kt, "leaf"), None, "leaf", san=list(SAN))
    case("%s-leaf-self-signed-untrusted" % kt, [r], [ss], HOST, g, kt)
    case("%s-leaf-self-signed-in-bundle" % kt, [ss], [ss], HOST, g, kt,
         note="the leaf itself is the anchor; Go accepts a root as the "
         "whole chain", go="accept")
    # an intermediate as the anchor (not self-signed)
    r, ints, lf = chain(kt, "anchor-intermediate")
    case("%s-anchor-intermediate-only" % kt, [ints[0]], [lf, ints[0]],
         HOST, g, kt, note="the bundle holds the intermediate, not its "
         "root: needs -partial_chain in OpenSSL; Go accepts", go="accept",
         tags=["partial-chain"])
    case("%s-anchor-intermediate-only-short-chain" % kt, [ints[0]], [lf],
         HOST, g, kt, go="accept", tags=["partial-chain"])
    case("%s-anchor-intermediate-and-root" % kt, [r, ints[0]], [lf],
         HOST, g, kt)
    # an anchor that is not a CA
    nca = mk("Not a CA %s" % kt, key(kt, "root"), None, "root",
             bc=(False, None, True))
    lf2 = mk(HOST, key(kt, "leaf"), nca, "leaf", san=list(SAN))
    case("%s-anchor-not-ca-issues-leaf" % kt, [nca], [lf2], HOST, g, kt)
    nbc = mk("No BC anchor %s" % kt, key(kt, "root"), None, "root", bc=None)
    lf3 = mk(HOST, key(kt, "leaf"), nbc, "leaf", san=list(SAN))
    case("%s-anchor-no-bc-issues-leaf" % kt, [nbc], [lf3], HOST, g, kt)
    # a renewed root: same name and key, one expired, one valid
    old = mk("Root renewed %s" % kt, key(kt, "root"), None, "root",
             nb=NOW - 4000 * DAY, na=NOW - DAY)
    new = mk("Root renewed %s" % kt, key(kt, "root"), None, "root")
    i1 = mk("Intermediate renewed %s" % kt, key(kt, "int"), new, "int")
    lf4 = mk(HOST, key(kt, "leaf"), i1, "leaf", san=list(SAN))
    case("%s-anchor-renewed-expired-first" % kt, [old, new], [lf4, i1],
         HOST, g, kt, note="two anchors with one name and key; the first "
         "in the bundle expired")
    case("%s-anchor-renewed-valid-first" % kt, [new, old], [lf4, i1],
         HOST, g, kt)
    # cross-signed intermediate: one path through an expired root
    ra = mk("Root cross A %s" % kt, key(kt, "root"), None, "root",
            nb=NOW - 4000 * DAY, na=NOW - DAY)
    rb = mk("Root cross B %s" % kt, key(kt, "other"), None, "root")
    ia = mk("Intermediate cross %s" % kt, key(kt, "int"), ra, "int")
    ib = mk("Intermediate cross %s" % kt, key(kt, "int"), rb, "int")
    lf5 = mk(HOST, key(kt, "leaf"), ia, "leaf", san=list(SAN))
    case("%s-cross-expired-path-first" % kt, [ra, rb], [lf5, ia, ib],
         HOST, g, kt, note="two paths; the first offered ends at an "
         "expired anchor: Go backtracks, OpenSSL does not", go="accept")
    case("%s-cross-valid-path-first" % kt, [ra, rb], [lf5, ib, ia],
         HOST, g, kt)
    case("%s-cross-only-valid-root-trusted" % kt, [rb], [lf5, ia, ib],
         HOST, g, kt, go="accept")


def der_edits():
    """Certificates cryptography's builder will not make, edited in DER."""
    g = "der"
    san_oid, bc_oid, nc_oid = "2.5.29.17", "2.5.29.19", "2.5.29.30"

    def san(*names):
        return tlv(0x30, b"".join(tlv(0x82, n) for n in names))

    def subtree(dns, extra=b""):
        return tlv(0x30, tlv(0x82, dns) + extra)

    def nc(*subtrees):
        return tlv(0x30, tlv(0xa0, b"".join(subtrees)))

    def is_oid(e, dotted):
        return der_items(der_body(e))[0] == oid(dotted)

    def add(*new):
        return lambda lst: lst + list(new)

    def replace(dotted, value, critical=False):
        return lambda lst: [ext_der(dotted, value, critical)
                            if is_oid(e, dotted) else e for e in lst]

    for kt in ("p256", "rsa2048"):
        sig_alg = {"p256": (tlv(0x30, oid("1.2.840.10045.4.3.3"))),
                   "rsa2048": tlv(0x30, oid("1.2.840.113549.1.1.12") +
                                  b"\x05\x00")}[kt]
        rows = [
            ("leaf-dup-san", {}, {"tbs": {"exts": add(ext_der(
                san_oid, san(b"evil.org")))}}, HOST),
            ("leaf-dup-san-evil-first", {}, {"tbs": {"exts": lambda lst: [
                ext_der(san_oid, san(b"evil.org"))] + lst}}, HOST),
            ("leaf-san-nul", {}, {"tbs": {"exts": replace(
                san_oid, san(b"www.example.com\0.evil.org"))}}, HOST),
            ("leaf-san-nul-tail", {}, {"tbs": {"exts": replace(
                san_oid, san(b"www.example.com\0"))}}, HOST),
            ("leaf-san-empty-sequence", {}, {"tbs": {"exts": replace(
                san_oid, tlv(0x30, b""))}}, HOST),
            ("leaf-san-ip-5-bytes", {}, {"tbs": {"exts": replace(
                san_oid, tlv(0x30, tlv(0x82, HOST.encode()) +
                             tlv(0x87, b"\xc0\x00\x02\x0a\x01")))}},
             HOST),
            ("leaf-inner-alg-mismatch", {}, {"tbs": {"inner_alg": sig_alg}},
             HOST),
            ("int-inner-alg-mismatch", {"tbs": {"inner_alg": sig_alg}}, {},
             HOST),
            ("int-dup-bc", {"tbs": {"exts": add(ext_der(
                bc_oid, tlv(0x30, b""), True))}}, {}, HOST),
            ("int-dup-nc", {"nc": (["dns:example.com"], None),
                            "tbs": {"exts": add(ext_der(
                                nc_oid, nc(subtree(b"example.org")), True))}},
             {"san": ["dns:www.example.org"], "cn": "www.example.org"},
             "www.example.org"),
            ("int-dup-nc-reverse", {"nc": (["dns:example.org"], None),
                                    "tbs": {"exts": add(ext_der(
                                        nc_oid, nc(subtree(b"example.com")),
                                        True))}},
             {"san": ["dns:www.example.com"]}, HOST),
            ("int-nc-minimum", {"tbs": {"exts": add(ext_der(
                nc_oid, nc(subtree(b"example.com", tlv(0x80, b"\x01"))),
                True))}}, {}, HOST),
            ("int-nc-maximum", {"tbs": {"exts": add(ext_der(
                nc_oid, nc(subtree(b"example.com", tlv(0x81, b"\x05"))),
                True))}}, {}, HOST),
            ("int-nc-minimum-zero-explicit", {"tbs": {"exts": add(ext_der(
                nc_oid, nc(subtree(b"example.com", tlv(0x80, b"\x00"))),
                True))}}, {}, HOST),
            ("int-v1", {"tbs": {"version": None}}, {}, HOST),
            ("leaf-v1", {}, {"tbs": {"version": None}}, HOST),
        ]
        for tag, io, lo, host in rows:
            lo = dict(lo)
            r, ints, lf = chain(kt, "der-" + tag, inter=io, leaf=lo)
            case("der-%s-%s" % (kt, tag), [r], [lf, ints[0]], host, g, kt)
        r, ints, lf = chain(kt, "der-root-v1", root={"tbs": {"version":
                                                             None}})
        case("der-%s-root-v1" % kt, [r], [lf, ints[0]], HOST, g, kt,
             note="a v1 root (no extensions): Go takes any root; OpenSSL "
             "3.0 refuses it as a CA", go="accept")


def ext_encodings():
    """Extension values with trailing bytes, non-DER booleans, negative
    path lengths, empty key usages: what OpenSSL's decoder refuses."""
    g = "extenc"
    SAN_OID, BC, KU, EKU_OID, NC = (
        "2.5.29.17", "2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.30")

    def is_oid(e, dotted):
        return der_items(der_body(e))[0] == oid(dotted)

    def replace(dotted, value, crit_bytes=b"\x01\x01\xff"):
        def fn(lst):
            return [tlv(0x30, oid(dotted) + crit_bytes + tlv(0x04, value))
                    if is_oid(e, dotted) else e for e in lst]
        return fn

    def add(raw):
        return lambda lst: lst + [raw]

    san_ok = tlv(0x30, tlv(0x82, HOST.encode()))
    bc_ca = tlv(0x30, b"\x01\x01\xff")
    unknown = oid(UNKNOWN_OID)
    rows = [
        ("leaf-san-trailing", {}, {"tbs": {"exts": replace(
            SAN_OID, san_ok + b"\0\0", b"")}}),
        ("int-bc-trailing", {"tbs": {"exts": replace(
            BC, bc_ca + b"\0\0")}}, {}),
        ("int-bc-pathlen-negative", {"tbs": {"exts": replace(
            BC, tlv(0x30, b"\x01\x01\xff\x02\x01\xff"))}}, {}),
        ("int-bc-pathlen-huge", {"tbs": {"exts": replace(
            BC, tlv(0x30, b"\x01\x01\xff" +
                    tlv(0x02, b"\x01" + b"\0" * 8)))}}, {}),
        ("int-bc-ca-bool-01", {"tbs": {"exts": replace(
            BC, tlv(0x30, b"\x01\x01\x01"))}}, {}),
        ("int-ku-trailing", {"tbs": {"exts": replace(
            KU, b"\x03\x02\x01\x06\0\0")}}, {}),
        ("int-ku-empty", {"tbs": {"exts": replace(KU, b"\x03\x01\x00")}},
         {}),
        ("leaf-ku-empty", {}, {"tbs": {"exts": replace(
            KU, b"\x03\x01\x00")}}),
        ("leaf-eku-trailing", {}, {"tbs": {"exts": replace(
            EKU_OID, tlv(0x30, oid("1.3.6.1.5.5.7.3.1")) + b"\0\0",
            b"")}}),
        ("leaf-eku-empty", {}, {"tbs": {"exts": replace(
            EKU_OID, tlv(0x30, b""), b"")}}),
        ("int-nc-trailing", {"nc": (["dns:example.com"], None),
                             "tbs": {"exts": lambda lst: [
                                 e + b"" for e in lst]}}, {}),
        ("leaf-unknown-critical-bool-01", {}, {"tbs": {"exts": add(
            tlv(0x30, unknown + b"\x01\x01\x01" + tlv(0x04, b"\x05\x00")))}}),
        ("leaf-unknown-critical-explicit-false", {}, {"tbs": {"exts": add(
            tlv(0x30, unknown + b"\x01\x01\x00" + tlv(0x04, b"\x05\x00")))}}),
        ("leaf-ext-bad-critical-tag", {}, {"tbs": {"exts": add(
            tlv(0x30, unknown + b"\x02\x01\xff" + tlv(0x04, b"\x05\x00")))}}),
    ]
    # the NC with trailing bytes: built from the real value
    for kt in ("p256", "rsa2048"):
        for tag, io, lo in rows:
            if tag == "int-nc-trailing":
                io = {"nc": (["dns:example.com"], None),
                      "tbs": {"exts": lambda lst: [
                          tlv(0x30, oid(NC) + b"\x01\x01\xff" + tlv(
                              0x04, der_body(der_items(der_body(e))[2]) +
                              b"\0\0")) if is_oid(e, NC) else e
                          for e in lst]}}
            r, ints, lf = chain(kt, "extenc-" + tag, inter=dict(io),
                                leaf=dict(lo))
            case("extenc-%s-%s" % (kt, tag), [r], [lf, ints[0]], HOST, g, kt)


def edit_sig(der, fn):
    """der with its signature BIT STRING's content replaced by
    fn(signature bytes) (which includes the unused-bits byte)."""
    tbs, alg, bits = der_items(der_body(der))
    return tlv(0x30, tbs + alg + tlv(0x03, fn(der_body(bits)[1:])))


def edit_alg(cert, signer, h, algid):
    """cert with both AlgorithmIdentifiers replaced by algid, signed again
    (PKCS #1 v1.5 or ECDSA with hash h)."""
    items = der_items(der_body(cert.tbs_certificate_bytes))
    items[2] = algid
    tbs = tlv(0x30, b"".join(items))
    return tlv(0x30, tbs + algid + tlv(0x03, b"\0" + sign_raw(signer, tbs,
                                                              h)))


def signatures():
    """Signature encodings: what strict DER parsers (OpenSSL 3, Go) refuse
    and a lenient ECDSA or RSA decoder might take."""
    g = "sigenc"

    def int_tlv(v, pad=0, strip=False):
        b = v.to_bytes((v.bit_length() + 7) // 8 or 1, "big")
        if b[0] & 0x80 and not strip:
            b = b"\0" + b
        return tlv(0x02, b"\0" * pad + b)

    def ec_rs(sig):
        r, s_ = [int.from_bytes(der_body(x), "big")
                 for x in der_items(der_body(sig))]
        return r, s_

    def leaf_for(tag, kt, want=None, tries=600):
        """A chain whose leaf signature satisfies want(sig bytes)."""
        r = mk("Root sigenc %s %s" % (kt, tag), key(kt, "root"), None, "root")
        i = mk("Intermediate sigenc %s %s" % (kt, tag), key(kt, "int"), r,
               "int")
        for _ in range(tries):
            lf = mk(HOST, key(kt, "leaf"), i, "leaf", san=list(SAN))
            sig = der_body(der_items(der_body(lf.der))[2])[1:]
            if want is None or want(sig):
                return r, i, lf, sig
        raise RuntimeError("no signature for " + tag)

    kt = "p256"
    rows = [
        ("ecdsa-r-extra-zero", None, lambda sig: b"\0" + tlv(0x30, int_tlv(
            ec_rs(sig)[0], pad=1) + int_tlv(ec_rs(sig)[1]))),
        ("ecdsa-r-negative", lambda sig: ec_rs(sig)[0].bit_length() % 8 == 0,
         lambda sig: b"\0" + tlv(0x30, int_tlv(ec_rs(sig)[0], strip=True) +
                                 int_tlv(ec_rs(sig)[1]))),
        ("ecdsa-trailing-bytes", None, lambda sig: b"\0" + sig + b"\0\0"),
        ("ecdsa-seq-long-length", None, lambda sig: b"\0\x30\x81" +
         bytes([len(der_body(sig))]) + der_body(sig)),
        ("ecdsa-raw-r-s", None, lambda sig: b"\0" + b"".join(
            x.to_bytes(32, "big") for x in ec_rs(sig))),
        ("bitstring-unused-bits", None, lambda sig: b"\x01" + sig),
    ]
    for tag, want, fn in rows:
        r, i, lf, _ = leaf_for(tag, kt, want)
        bad = Node(lf.cert, lf.key, edit_sig(lf.der, fn))
        case("sigenc-%s-%s" % (kt, tag), [r], [bad, i], HOST, g, kt)
    # ECDSA AlgorithmIdentifier with NULL parameters (RFC 5758: absent)
    r, i, lf, _ = leaf_for("ecdsa-alg-null", kt)
    der = edit_alg(lf.cert, i.key, "sha256", tlv(0x30, oid(
        "1.2.840.10045.4.3.2") + b"\x05\x00"))
    case("sigenc-%s-ecdsa-alg-null-params" % kt, [r],
         [Node(lf.cert, lf.key, der), i], HOST, g, kt)

    kt = "rsa2048"
    k = key(kt, "int").private_numbers()
    n_bytes = (k.public_numbers.n.bit_length() + 7) // 8

    def rsa_raw(tbs, digest_info):
        em = b"\0\x01" + b"\xff" * (n_bytes - 3 - len(digest_info)) + \
            b"\0" + digest_info
        v = pow(int.from_bytes(em, "big"), k.d, k.public_numbers.n)
        return v.to_bytes(n_bytes, "big")

    rows = [
        ("rsa-sig-leading-zero-stripped", lambda sig: sig[0] == 0,
         lambda sig: b"\0" + sig[1:]),
        ("rsa-sig-extra-zero", None, lambda sig: b"\0\0" + sig),
        ("rsa-sig-trailing-byte", None, lambda sig: b"\0" + sig + b"\0"),
        ("bitstring-unused-bits", None, lambda sig: b"\x01" + sig),
    ]
    for tag, want, fn in rows:
        r, i, lf, _ = leaf_for(tag, kt, want, tries=3000)
        bad = Node(lf.cert, lf.key, edit_sig(lf.der, fn))
        case("sigenc-%s-%s" % (kt, tag), [r], [bad, i], HOST, g, kt)
    # DigestInfo without the NULL parameters, and with a SHA-384 digest
    # under sha256WithRSAEncryption
    r, i, lf, _ = leaf_for("rsa-digestinfo", kt)
    tbs = lf.cert.tbs_certificate_bytes
    h256 = hashlib.sha256(tbs).digest()
    for tag, di in (
            ("rsa-digestinfo-no-null", tlv(0x30, tlv(0x30, oid(
                HASH_OID["sha256"])) + tlv(0x04, h256))),
            ("rsa-digestinfo-null", tlv(0x30, tlv(0x30, oid(
                HASH_OID["sha256"]) + b"\x05\x00") + tlv(0x04, h256))),
            ("rsa-digestinfo-wrong-hash-oid", tlv(0x30, tlv(0x30, oid(
                HASH_OID["sha384"]) + b"\x05\x00") + tlv(0x04, h256))),
            ("rsa-digestinfo-trailing", tlv(0x30, tlv(0x30, oid(
                HASH_OID["sha256"]) + b"\x05\x00") + tlv(0x04, h256) +
                b"\0"))):
        sig = rsa_raw(tbs, di)
        bad = Node(lf.cert, lf.key, edit_sig(lf.der,
                                             lambda _s: b"\0" + sig))
        case("sigenc-%s-%s" % (kt, tag), [r], [bad, i], HOST, g, kt)
    # sha256WithRSAEncryption without its NULL parameters
    r, i, lf, _ = leaf_for("rsa-alg-no-null", kt)
    der = edit_alg(lf.cert, i.key, "sha256", tlv(0x30, oid(
        "1.2.840.113549.1.1.11")))
    case("sigenc-%s-rsa-alg-no-null-params" % kt, [r],
         [Node(lf.cert, lf.key, der), i], HOST, g, kt)
    # an ECDSA algorithm on an RSA issuer's signature
    der = edit_alg(lf.cert, i.key, "sha256", tlv(0x30, oid(
        "1.2.840.10045.4.3.2")))
    case("sigenc-%s-ecdsa-alg-rsa-key" % kt, [r],
         [Node(lf.cert, lf.key, der), i], HOST, g, kt)


def times():
    """Validity encodings: UTCTime's century, DER's canonical forms."""
    g = "time"

    def utc(s):
        return tlv(0x17, s.encode())

    def gen_t(s):
        return tlv(0x18, s.encode())

    ok_nb = utc("250101000000Z")
    rows = [
        ("utc-1950-not-before", utc("500101000000Z"), utc("491231235959Z"),
         "notBefore 1950 as UTCTime 50, notAfter 2049 as UTCTime 49"),
        ("utc-1950-not-after", ok_nb, utc("500101000000Z"),
         "notAfter UTCTime 50 is 1950 (expired), not 2050"),
        ("utc-2049-not-after", ok_nb, utc("491231235959Z"), ""),
        ("gen-2030-not-after", ok_nb, gen_t("20300101000000Z"),
         "GeneralizedTime before 2050 (RFC 5280 wants UTCTime)"),
        ("gen-fraction", ok_nb, gen_t("20300101000000.5Z"),
         "fractional seconds: not DER for certificates"),
        ("utc-no-seconds", ok_nb, utc("3001010000Z"), ""),
        ("utc-offset", ok_nb, utc("300101000000+0000"), ""),
        ("gen-no-zulu", ok_nb, gen_t("20300101000000"), ""),
        ("gen-feb-31", ok_nb, gen_t("20300231000000Z"), "February 31"),
        ("utc-hour-24", ok_nb, utc("300101240000Z"), ""),
        ("utc-month-13", ok_nb, utc("301301000000Z"), ""),
        ("utc-sec-60", ok_nb, utc("300101235960Z"), "a leap second"),
        ("utc-leap-day", ok_nb, utc("280229000000Z"), "2028-02-29 exists"),
        ("utc-nonleap-day", ok_nb, utc("270229000000Z"),
         "2027-02-29 does not"),
        ("gen-year-9999", ok_nb, gen_t("99991231235959Z"),
         "RFC 5280's no-expiry date"),
        ("nb-after-na", utc("300101000000Z"), utc("250101000000Z"),
         "notBefore after notAfter"),
    ]
    for kt in ("p256", "rsa2048"):
        for tag, nb, na, note in rows:
            r, ints, lf = chain(kt, "time-" + tag,
                                leaf={"tbs": {"validity": (nb, na)}})
            case("time-%s-leaf-%s" % (kt, tag), [r], [lf, ints[0]], HOST, g,
                 kt, note=note)
        for tag in ("utc-1950-not-after", "gen-feb-31"):
            _, nb, na, note = [x for x in rows if x[0] == tag][0]
            r, ints, lf = chain(kt, "time-int-" + tag,
                                inter={"tbs": {"validity": (nb, na)}})
            case("time-%s-int-%s" % (kt, tag), [r], [lf, ints[0]], HOST, g,
                 kt, note=note)
            r, ints, lf = chain(kt, "time-root-" + tag,
                                root={"tbs": {"validity": (nb, na)}})
            case("time-%s-root-%s" % (kt, tag), [r], [lf, ints[0]], HOST, g,
                 kt, note=note)


def odd_paths(kt):
    """Self-issued intermediates (a key roll-over: the root's name, another
    key), v4-mapped addresses under IP constraints, and keys off curve."""
    g = "paths"
    rn = "Root selfissued %s" % kt
    for tag, ro in (("", {}), ("-root-pathlen0", {"pathlen": 0})):
        r = mk(rn, key(kt, "root"), None, "root", **ro)
        si = mk(rn, key(kt, "int"), r, "int")
        lf = mk(HOST, key(kt, "leaf"), si, "leaf", san=list(SAN))
        case("paths-%s-self-issued-int%s" % (kt, tag), [r], [lf, si], HOST,
             g, kt, note="an intermediate with the root's own name and "
             "another key; RFC 5280 does not count it for pathLen",
             go="refuse" if tag else "accept")
    # an intermediate and a leaf that name each other in a loop
    r = mk("Root loop %s" % kt, key(kt, "root"), None, "root")
    a = mk("Loop A %s" % kt, key(kt, "int"), r, "int")
    b = mk("Loop B %s" % kt, key(kt, "int2"), a, "int")
    a2 = mk("Loop A %s" % kt, key(kt, "int"), b, "int")   # A again, by B
    lf = mk(HOST, key(kt, "leaf"), a2, "leaf", san=list(SAN))
    case("paths-%s-loop-then-root" % kt, [r], [lf, a2, b, a], HOST, g, kt,
         note="A is sent twice, once issued by B and once by the root")
    other = mk("Root other loop %s" % kt, key(kt, "other"), None, "root")
    case("paths-%s-loop-no-root" % kt, [other], [lf, a2, b], HOST, g, kt)
    # IP constraints and IPv4-mapped IPv6 addresses
    if kt == "p256":
        for tag, perm, excl, san in (
                ("perm-v4-san-mapped", ["ip:192.0.2.0/24"], None,
                 ["ip:::ffff:192.0.2.10"]),
                ("excl-v4-san-mapped", None, ["ip:192.0.2.0/24"],
                 ["ip:::ffff:192.0.2.10"]),
                ("perm-mapped-san-v4", ["ip:::ffff:192.0.2.0/120"], None,
                 ["ip:192.0.2.10"])):
            host = san[0][3:]
            r, ints, lf = chain(kt, "paths-" + tag, san=san,
                                leaf={"cn": "x"},
                                inter={"nc": (perm, excl)})
            case("paths-%s-nc-%s" % (kt, tag), [r], [lf, ints[0]], host, g,
                 kt, note="permitted %s excluded %s, SAN %s" % (
                     perm, excl, san))

        # the leaf's EC point moved off the curve
        def off_curve(spki_der):
            raw = bytearray(spki_der)
            raw[-1] ^= 0x01
            return bytes(raw)
        r, ints, lf = chain(kt, "paths-off-curve",
                            leaf={"tbs": {"spki": off_curve}})
        case("paths-%s-leaf-key-off-curve" % kt, [r], [lf, ints[0]], HOST,
             g, kt, note="the leaf's public point is not on P-256")


def anchor_copies(kt):
    """The chain sends a copy of the anchor (same name and key) without the
    restriction the bundle's copy carries: the bundle's must count."""
    g = "anchor-copy"
    cn = "Root copy %s" % kt
    rk, ik = key(kt, "root"), key(kt, "int")
    plain = mk(cn, rk, None, "root")
    rows = [
        ("expired", {"nb": NOW - 4000 * DAY, "na": NOW - DAY}, {}),
        ("nc-outside", {"nc": (["dns:example.org"], None)}, {}),
        ("eku-client", {"eku": (["client"], False)}, {}),
        ("pathlen0", {"pathlen": 0}, {}),
        ("pathlen0-two-ints", {"pathlen": 0}, {"two": True}),
    ]
    for tag, ro, extra in rows:
        bundled = mk(cn, rk, None, "root", **ro)
        i1 = mk("Intermediate copy %s %s" % (kt, tag), ik, plain, "int")
        last = i1
        ints = [i1]
        if extra.get("two"):
            last = mk("Intermediate copy 2 %s %s" % (kt, tag),
                      key(kt, "int2"), i1, "int")
            ints.append(last)
        lf = mk(HOST, key(kt, "leaf"), last, "leaf", san=list(SAN))
        case("copy-%s-%s-sent" % (kt, tag), [bundled],
             [lf] + ints[::-1] + [plain], HOST, g, kt,
             note="the bundle's root is %s; the chain sends its copy "
             "without that" % tag)
        case("copy-%s-%s-not-sent" % (kt, tag), [bundled],
             [lf] + ints[::-1], HOST, g, kt)
    # a forged copy: the root's name, another key, issuing the path
    fake = mk(cn, key(kt, "other"), None, "root")
    fi = mk("Intermediate forged %s" % kt, ik, fake, "int")
    lf = mk(HOST, key(kt, "leaf"), fi, "leaf", san=list(SAN))
    case("copy-%s-forged-root-sent" % kt, [plain], [lf, fi, fake], HOST, g,
         kt, note="the chain sends a root with the anchor's name and "
         "another key")
    case("copy-%s-forged-root-not-sent" % kt, [plain], [lf, fi], HOST, g,
         kt)
    # signed by the anchor's key under another issuer name
    wi = mk("Intermediate misnamed %s" % kt, ik, plain, "int",
            issuer_name=name("Someone else %s" % kt))
    lf = mk(HOST, key(kt, "leaf"), wi, "leaf", san=list(SAN))
    case("copy-%s-int-issuer-name-mismatch" % kt, [plain], [lf, wi], HOST,
         g, kt, note="the anchor's key signed it, but it names another "
         "issuer")
    # the leaf names the intermediate as issuer, signed by the root's key
    i1 = mk("Intermediate skip %s" % kt, ik, plain, "int")
    lf = mk(HOST, key(kt, "leaf"), i1, "leaf", san=list(SAN),
            sign_key=rk)
    case("copy-%s-leaf-signed-by-grandparent" % kt, [plain], [lf, i1], HOST,
         g, kt)
    bundled = ("trusted", plain, ["-addreject", "serverAuth"])
    i1 = mk("Intermediate copy %s trust" % kt, ik, plain, "int")
    lf = mk(HOST, key(kt, "leaf"), i1, "leaf", san=list(SAN))
    case("copy-%s-trust-reject-sent" % kt, [bundled], [lf, i1, plain], HOST,
         g, kt, note="the bundle rejects the root for serverAuth; the "
         "chain sends a plain copy")


def limits():
    """Chain length and count limits, P-256 only (X509_PATH_MAX,
    X509_CHAIN_CERTS)."""
    g, kt = "limits", "p256"
    for n in (6, 7, 8, 9):
        r, ints, lf = chain(kt, "path%d" % n, ints=n)
        case("%s-path-%d-intermediates" % (kt, n), [r], [lf] + ints[::-1],
             HOST, g, kt, note="%d certificates in the path, the leaf "
             "included" % (n + 1))
    r, ints, lf = chain(kt, "count")
    others = [mk("Unrelated %d" % i, key(kt, "x%d" % i), None, "root")
              for i in range(12)]
    for total in (12, 13):
        certs = [lf, ints[0]] + others[:total - 2]
        case("%s-chain-%d-certs" % (kt, total), [r], certs, HOST, g, kt,
             note="%d certificates sent, 2 of them the path" % total)
    case("%s-chain-12-certs-int-last" % kt, [r],
         [lf] + others[:10] + [ints[0]], HOST, g, kt)


def keys_and_hashes():
    g = "keys"
    for kt in ("p256", "p384", "p521", "rsa2048", "rsa3072", "rsa4096"):
        r, ints, lf = chain(kt, "keys")
        case("keys-%s-ok" % kt, [r], [lf, ints[0]], HOST, g, kt)
        for h in ("sha256", "sha384", "sha512"):
            r, ints, lf = chain(kt, "hash-" + h, root={"hash": h},
                                inter={"hash": h}, leaf={"hash": h})
            case("keys-%s-all-%s" % (kt, h), [r], [lf, ints[0]], HOST, g,
                 kt)
        for lvl in ("leaf", "int", "root"):
            opts = {lvl if lvl != "int" else "inter": {"hash": "sha1"}}
            r, ints, lf = chain(kt, "sha1-" + lvl, **opts)
            case("keys-%s-sha1-%s" % (kt, lvl), [r], [lf, ints[0]], HOST, g,
                 kt, go="accept" if lvl == "root" else "refuse",
                 note="a SHA-1 signature on the %s" % lvl)
        r, ints, lf = chain(kt, "sha224", leaf={"hash": "sha224"})
        case("keys-%s-sha224-leaf" % kt, [r], [lf, ints[0]], HOST, g, kt,
             note="Go has no SHA-224 signature algorithms", go="refuse")
    # key types mixed along the path
    for kts in (("rsa2048", "p256", "rsa2048"), ("p256", "rsa2048", "p256"),
                ("p521", "p384", "p256"), ("rsa4096", "p384", "p256"),
                ("rsa2048", "rsa3072", "p521"), ("p384", "p521", "rsa4096"),
                ("p256", "p256", "rsa1024"), ("rsa1024", "p256", "p256"),
                ("p256", "rsa1024", "p256"), ("p256", "p256", "k256"),
                ("k256", "p256", "p256"), ("p256", "p256", "ed25519"),
                ("ed25519", "p256", "p256"), ("p256", "ed25519", "p256")):
        r, ints, lf = chain(kts[0], "mixed-" + "-".join(kts), kts=kts)
        case("keys-mixed-%s" % "-".join(kts), [r], [lf, ints[0]], HOST, g,
             "-".join(kts))
    # MD5 (RSA only)
    r, ints, lf = chain("rsa2048", "md5", leaf={"hash": "md5"})
    case("keys-rsa2048-md5-leaf", [r], [lf, ints[0]], HOST, g, "rsa2048")
    # RSASSA-PSS signatures, on the leaf and on the intermediate
    for lvl in ("leaf", "inter"):
        for h, mgf, salt, go in (("sha256", "sha256", 32, "accept"),
                                 ("sha384", "sha384", 48, "accept"),
                                 ("sha512", "sha512", 64, "accept"),
                                 ("sha256", "sha256", 20, "refuse"),
                                 ("sha256", "sha256", 0, "refuse"),
                                 ("sha256", "sha1", 32, "refuse"),
                                 ("sha1", "sha1", 20, "refuse")):
            for kt in ("rsa2048", "rsa4096") if h == "sha256" and \
                    salt == 32 else ("rsa2048",):
                tag = "pss-%s-%s-mgf1-%s-salt%d" % (
                    "leaf" if lvl == "leaf" else "int", h, mgf, salt)
                r, ints, lf = chain(kt, tag,
                                    **{lvl: {"pss": (h, mgf, salt)}})
                case("keys-%s-%s" % (kt, tag), [r], [lf, ints[0]], HOST, g,
                     kt, go=go, note="Go wants salt = hash length and MGF1 "
                     "with the same hash")
    # a PSS-signed leaf under an EC intermediate is impossible; an RSA
    # intermediate under an EC root, signing the leaf with PSS:
    r, ints, lf = chain("p256", "pss-mixed", kts=("p256", "rsa2048", "p256"),
                        leaf={"pss": ("sha256", "sha256", 32)})
    case("keys-mixed-pss-rsa-int-ec-leaf", [r], [lf, ints[0]], HOST, g,
         "p256-rsa2048-p256", go="accept")


def hosts():
    g, kt = "names", "p256"
    # (tag, SANs or None for none, cn, host, go verdict when notable)
    rows = [
        ("exact", ["dns:www.example.com"], HOST, "www.example.com", None),
        ("mismatch", ["dns:www.example.com"], HOST, "api.example.com", None),
        ("second-san", ["dns:a.example.org", "dns:www.example.com"], HOST,
         "www.example.com", None),
        ("wildcard", ["dns:*.example.com"], HOST, "www.example.com", None),
        ("wildcard-bare-domain", ["dns:*.example.com"], HOST,
         "example.com", None),
        ("wildcard-two-labels", ["dns:*.example.com"], HOST,
         "a.b.example.com", None),
        ("wildcard-partial-prefix", ["dns:f*.example.com"], HOST,
         "foo.example.com", "refuse"),
        ("wildcard-partial-suffix", ["dns:*oo.example.com"], HOST,
         "foo.example.com", "refuse"),
        ("wildcard-partial-nomatch", ["dns:f*.example.com"], HOST,
         "bar.example.com", None),
        ("wildcard-tld", ["dns:*.com"], HOST, "example.com", "accept"),
        ("wildcard-trailing-dot-san", ["dns:*.example.com."], HOST,
         "www.example.com", "accept"),
        ("san-leading-dot", ["dns:.example.com"], HOST, "www.example.com",
         None),
        ("san-leading-dot-apex", ["dns:.example.com"], HOST, "example.com",
         None),
        ("wildcard-only-label-host", ["dns:*.example.com"], HOST,
         ".example.com", None),
        ("wildcard-uppercase-star-label", ["dns:*.Example.com"], HOST,
         "WWW.example.COM.", None),
        ("wildcard-alone", ["dns:*"], HOST, "localhost", "accept"),
        ("wildcard-middle", ["dns:www.*.com"], HOST, "www.example.com",
         None),
        ("wildcard-double", ["dns:*.*.example.com"], HOST,
         "a.b.example.com", None),
        ("wildcard-not-leftmost-host", ["dns:*.example.com"], HOST,
         "*.example.com", None),
        ("wildcard-idna", ["dns:*.xn--bcher-kva.example"], HOST,
         "www.xn--bcher-kva.example", None),
        ("case-san-upper", ["dns:WWW.Example.COM"], HOST, "www.example.com",
         None),
        ("case-host-upper", ["dns:www.example.com"], HOST,
         "WWW.EXAMPLE.com", None),
        ("case-wildcard", ["dns:*.EXAMPLE.com"], HOST, "Www.Example.Com",
         None),
        ("trailing-dot-host", ["dns:www.example.com"], HOST,
         "www.example.com.", None),
        ("trailing-dot-san", ["dns:www.example.com."], HOST,
         "www.example.com", "accept"),
        ("trailing-dot-wildcard-host", ["dns:*.example.com"], HOST,
         "www.example.com.", None),
        ("empty-label-host", ["dns:www..example.com"], HOST,
         "www..example.com", None),
        ("suffix-not-label", ["dns:example.com"], HOST, "wwwexample.com",
         None),
        ("host-longer", ["dns:example.com"], HOST, "www.example.com", None),
        ("localhost", ["dns:localhost"], "localhost", "localhost", None),
        ("ipv4", ["ip:192.0.2.10"], "192.0.2.10", "192.0.2.10", None),
        ("ipv4-mismatch", ["ip:192.0.2.10"], "x", "192.0.2.11", None),
        ("ipv4-among-dns", ["dns:www.example.com", "ip:192.0.2.10"], HOST,
         "192.0.2.10", None),
        ("ipv4-dns-san-only", ["dns:192.0.2.10"], "192.0.2.10",
         "192.0.2.10", None),
        ("ipv4-cn-only", None, "192.0.2.10", "192.0.2.10", None),
        ("ipv6", ["ip:2001:db8::1"], "x", "2001:db8::1", None),
        ("ipv6-other-spelling", ["ip:2001:db8::1"], "x",
         "2001:DB8:0:0:0:0:0:1", None),
        ("ipv6-mismatch", ["ip:2001:db8::1"], "x", "2001:db8::2", None),
        ("ipv6-dns-san", ["dns:2001:db8::1"], "x", "2001:db8::1", None),
        ("ipv4-mapped-host", ["ip:192.0.2.10"], "x", "::ffff:192.0.2.10",
         "accept"),
        ("ipv4-mapped-san", ["ip:::ffff:192.0.2.10"], "x", "192.0.2.10",
         "accept"),
        ("ip-san-dns-host", ["ip:192.0.2.10"], HOST, HOST, "refuse"),
        ("loopback", ["ip:127.0.0.1"], "x", "127.0.0.1", None),
        ("cn-only", None, HOST, HOST, "refuse"),
        ("cn-only-wildcard", None, "*.example.com", HOST, "refuse"),
        ("cn-only-localhost", None, "localhost", "localhost", "refuse"),
        ("cn-matches-san-does-not", ["dns:other.example.com"], HOST, HOST,
         None),
        ("empty-san-dns", ["dns:"], HOST, HOST, None),
        ("email-san-only", ["email:admin@example.com"], HOST, HOST,
         "refuse"),
        ("uri-san-only", ["uri:https://www.example.com/"], HOST, HOST,
         "refuse"),
    ]
    for tag, sans, cn, host, go in rows:
        r, ints, lf = chain(kt, "name-" + tag, san=sans, leaf={"cn": cn})
        case("names-%s" % tag, [r], [lf, ints[0]], host, g, kt, go=go,
             note="SAN %s, CN %s" % (sans, cn))
    # the same names with an RSA chain
    again = ("exact", "mismatch", "wildcard", "wildcard-bare-domain",
             "wildcard-two-labels", "ipv4", "ipv6", "cn-only",
             "trailing-dot-host")
    for tag, sans, cn, host, go in [x for x in rows if x[0] in again]:
        r, ints, lf = chain("rsa2048", "name-" + tag, san=sans,
                            leaf={"cn": cn})
        case("names-rsa2048-%s" % tag, [r], [lf, ints[0]], host, g,
             "rsa2048", go=go)


def constraints():
    g, kt = "constraints", "p256"
    rows = [
        # (tag, permitted, excluded, leaf SANs, host, leaf cn)
        ("perm-dns-match", ["dns:example.com"], None, ["dns:www.example.com"],
         HOST, HOST),
        ("perm-dns-exact-domain", ["dns:example.com"], None,
         ["dns:example.com"], "example.com", "example.com"),
        ("perm-dns-nomatch", ["dns:example.com"], None,
         ["dns:www.example.org"], "www.example.org", "www.example.org"),
        ("perm-dns-label-boundary", ["dns:example.com"], None,
         ["dns:wwwexample.com"], "wwwexample.com", "wwwexample.com"),
        ("perm-dns-leading-dot-sub", ["dns:.example.com"], None,
         ["dns:www.example.com"], HOST, HOST),
        ("perm-dns-leading-dot-apex", ["dns:.example.com"], None,
         ["dns:example.com"], "example.com", "example.com"),
        ("perm-dns-wildcard-san", ["dns:example.com"], None,
         ["dns:*.example.com"], HOST, HOST),
        ("perm-dns-second-san-outside", ["dns:example.com"], None,
         ["dns:www.example.com", "dns:evil.org"], HOST, HOST),
        ("perm-dns-case", ["dns:EXAMPLE.com"], None,
         ["dns:www.Example.COM"], HOST, HOST),
        ("perm-dns-two-one-matches", ["dns:example.org", "dns:example.com"],
         None, ["dns:www.example.com"], HOST, HOST),
        ("perm-dns-ip-san-unconstrained", ["dns:example.com"], None,
         ["ip:192.0.2.10"], "192.0.2.10", "x"),
        ("perm-dns-ip-host-cn-outside", ["dns:example.com"], None,
         ["ip:192.0.2.10"], "192.0.2.10", "evil.org"),
        ("perm-dns-cn-outside-san-inside", ["dns:example.com"], None,
         ["dns:www.example.com"], HOST, "evil.org"),
        ("perm-dns-localhost", ["dns:localhost"], None, ["dns:localhost"],
         "localhost", "localhost"),
        ("excl-dns-match", None, ["dns:evil.example.com"],
         ["dns:evil.example.com"], "evil.example.com", "evil.example.com"),
        ("excl-dns-case", None, ["dns:evil.example.com"],
         ["dns:EVIL.Example.COM"], "evil.example.com", "evil.example.com"),
        ("excl-dns-case-constraint", None, ["dns:EVIL.EXAMPLE.COM"],
         ["dns:evil.example.com"], "evil.example.com", "evil.example.com"),
        ("excl-dns-other", None, ["dns:evil.example.com"],
         ["dns:www.example.com"], HOST, HOST),
        ("excl-dns-sub-of-excluded", None, ["dns:example.com"],
         ["dns:www.example.com"], HOST, HOST),
        ("excl-dns-leading-dot-apex", None, ["dns:.example.com"],
         ["dns:example.com"], "example.com", "example.com"),
        ("excl-dns-leading-dot-sub", None, ["dns:.example.com"],
         ["dns:www.example.com"], HOST, HOST),
        ("excl-dns-wildcard-san", None, ["dns:evil.example.com"],
         ["dns:*.example.com"], HOST, HOST),
        ("perm-excl-dns", ["dns:example.com"], ["dns:evil.example.com"],
         ["dns:www.example.com"], HOST, HOST),
        ("perm-excl-dns-hit", ["dns:example.com"], ["dns:evil.example.com"],
         ["dns:evil.example.com"], "evil.example.com", "evil.example.com"),
        ("perm-ip-match", ["ip:192.0.2.0/24"], None, ["ip:192.0.2.10"],
         "192.0.2.10", "x"),
        ("perm-ip-nomatch", ["ip:192.0.2.0/24"], None, ["ip:198.51.100.1"],
         "198.51.100.1", "x"),
        ("perm-ip-dns-san-unconstrained", ["ip:192.0.2.0/24"], None,
         ["dns:www.example.com"], HOST, HOST),
        ("excl-ip-match", None, ["ip:192.0.2.0/24"], ["ip:192.0.2.10"],
         "192.0.2.10", "x"),
        ("excl-ip-other", None, ["ip:192.0.2.0/24"], ["ip:198.51.100.1"],
         "198.51.100.1", "x"),
        ("perm-ipv6-match", ["ip:2001:db8::/32"], None, ["ip:2001:db8::1"],
         "2001:db8::1", "x"),
        ("perm-ipv6-nomatch", ["ip:2001:db8::/32"], None,
         ["ip:2001:db9::1"], "2001:db9::1", "x"),
        ("perm-ipv4-v6-san", ["ip:192.0.2.0/24"], None, ["ip:2001:db8::1"],
         "2001:db8::1", "x"),
        ("perm-dns-and-ip", ["dns:example.com", "ip:192.0.2.0/24"], None,
         ["dns:www.example.com", "ip:192.0.2.10"], HOST, HOST),
        ("perm-dns-and-ip-ip-outside", ["dns:example.com", "ip:192.0.2.0/24"],
         None, ["dns:www.example.com", "ip:198.51.100.1"], HOST, HOST),
        ("perm-email", ["email:example.com"], None, ["dns:www.example.com"],
         HOST, HOST),
        ("perm-uri", ["uri:.example.com"], None, ["dns:www.example.com"],
         HOST, HOST),
        ("perm-dirname-match", ["dn:%s" % HOST], None,
         ["dns:www.example.com"], HOST, HOST),
        ("excl-dirname-other", None, ["dn:evil"], ["dns:www.example.com"],
         HOST, HOST),
        ("perm-dns-cn-only-leaf", ["dns:example.com"], None, None, HOST,
         HOST),
        ("perm-dns-exact-host-wildcard-san", ["dns:www.example.com"], None,
         ["dns:*.example.com"], HOST, HOST),
        ("perm-dns-leading-dot-wildcard-san", ["dns:.example.com"], None,
         ["dns:*.example.com"], HOST, HOST),
        ("excl-dns-leading-dot-wildcard-san", None, ["dns:.example.com"],
         ["dns:*.example.com"], HOST, HOST),
        ("excl-dns-apex-wildcard-san", None, ["dns:example.com"],
         ["dns:*.example.com"], HOST, HOST),
        ("perm-dns-trailing-dot-constraint", ["dns:example.com."], None,
         ["dns:www.example.com"], HOST, HOST),
        ("perm-dns-san-trailing-dot-extra", ["dns:example.com"], None,
         ["dns:www.example.com", "dns:www.example.com."], HOST, HOST),
        ("perm-dns-empty", ["dns:"], None, ["dns:www.example.com"], HOST,
         HOST),
        ("excl-dns-empty", None, ["dns:"], ["dns:www.example.com"], HOST,
         HOST),
        ("excl-ip-all-v4", None, ["ip:0.0.0.0/0"], ["ip:192.0.2.10"],
         "192.0.2.10", "x"),
        ("perm-ip-host-route", ["ip:192.0.2.10/32"], None, ["ip:192.0.2.10"],
         "192.0.2.10", "x"),
    ]
    for where in ("int", "root"):
        for tag, perm, excl, sans, host, cn in rows:
            nc = {"nc": (perm, excl)}
            opts = {"inter": nc} if where == "int" else {"root": nc}
            r, ints, lf = chain(kt, "nc-%s-%s" % (where, tag), san=sans,
                                leaf={"cn": cn}, **opts)
            case("nc-%s-%s" % (where, tag), [r], [lf, ints[0]], host, g, kt,
                 note="nameConstraints on the %s: permitted %s excluded %s; "
                 "leaf SAN %s CN %s" % (where, perm, excl, sans, cn))
    # constraints on the upper of two intermediates, leaf outside
    r, ints, lf = chain(kt, "nc-upper", ints=2, san=["dns:www.example.org"],
                        leaf={"cn": "www.example.org"},
                        inter=[{"nc": (["dns:example.com"], None)}, {}])
    case("nc-upper-int-leaf-outside", [r], [lf, ints[1], ints[0]],
         "www.example.org", g, kt)
    # the lower intermediate's own SAN outside the root's constraints
    r, ints, lf = chain(kt, "nc-int-san", root={"nc": (["dns:example.com"],
                                                       None)},
                        inter={"san": ["dns:ca.example.org"]})
    case("nc-root-int-has-san-outside", [r], [lf, ints[0]], HOST, g, kt)
    # non-critical nameConstraints
    r, ints, lf = chain(kt, "nc-noncrit", san=["dns:www.example.org"],
                        leaf={"cn": "www.example.org"},
                        inter={"nc": (["dns:example.com"], None),
                               "nc_critical": False})
    case("nc-int-noncritical-leaf-outside", [r], [lf, ints[0]],
         "www.example.org", g, kt)
    # RSA chain, one matching and one outside
    for tag, sans, host in (("match", ["dns:www.example.com"], HOST),
                            ("outside", ["dns:www.example.org"],
                             "www.example.org")):
        r, ints, lf = chain("rsa2048", "nc-rsa-" + tag, san=sans,
                            inter={"nc": (["dns:example.com"], None)})
        case("nc-rsa2048-int-%s" % tag, [r], [lf, ints[0]], host, g,
             "rsa2048")


def trust_settings():
    """OpenSSL TRUSTED CERTIFICATE anchors (X509_CERT_AUX)."""
    g = "trust"
    for kt in ("p256", "rsa2048"):
        r, ints, lf = chain(kt, "trust")
        other, _, _ = chain(kt, "trust-unrelated")
        certs = [lf, ints[0]]
        rows = [
            ("plain-trustout", []),
            ("reject-serverauth", ["-addreject", "serverAuth"]),
            ("trust-clientauth-only", ["-addtrust", "clientAuth"]),
            ("trust-serverauth", ["-addtrust", "serverAuth"]),
            ("reject-clientauth", ["-addreject", "clientAuth"]),
            ("reject-anyeku", ["-addreject", "anyExtendedKeyUsage"]),
            ("trust-anyeku", ["-addtrust", "anyExtendedKeyUsage"]),
            ("trust-server-reject-server", ["-addtrust", "serverAuth",
                                            "-addreject", "serverAuth"]),
            ("trust-server-reject-anyeku", ["-addtrust", "serverAuth",
                                            "-addreject",
                                            "anyExtendedKeyUsage"]),
            ("trust-anyeku-reject-server", ["-addtrust",
                                            "anyExtendedKeyUsage",
                                            "-addreject", "serverAuth"]),
            ("trust-client-and-server", ["-addtrust", "clientAuth",
                                         "-addtrust", "serverAuth"]),
            ("trust-codesign-only", ["-addtrust", "codeSigning"]),
            ("reject-email-only", ["-addreject", "emailProtection"]),
            ("reject-client-trust-client", ["-addtrust", "clientAuth",
                                            "-addreject", "clientAuth"]),
        ]
        for tag, opts in rows:
            case("trust-%s-%s" % (kt, tag), [("trusted", r, opts)], certs,
                 HOST, g, kt, note="the root as TRUSTED CERTIFICATE %s" %
                 " ".join(opts))
        rej = ("trusted", r, ["-addreject", "serverAuth"])
        cli = ("trusted", r, ["-addtrust", "clientAuth"])
        case("trust-%s-reject-with-unrelated-plain" % kt, [other, rej],
             certs, HOST, g, kt)
        case("trust-%s-clientonly-with-unrelated-plain" % kt, [other, cli],
             certs, HOST, g, kt)
        case("trust-%s-reject-then-plain-copy" % kt, [rej, r], certs, HOST,
             g, kt, note="OpenSSL keeps the first of two identical "
             "certificates in a store")
        case("trust-%s-plain-copy-then-reject" % kt, [r, rej], certs, HOST,
             g, kt)
        irej = ("trusted", ints[0], ["-addreject", "serverAuth"])
        case("trust-%s-int-reject-with-root" % kt, [r, irej], certs, HOST,
             g, kt, note="a rejected intermediate in the bundle, its root "
             "trusted: OpenSSL takes the chain's intermediate from the "
             "store (trusted first) and honours its rejection")
        # The rejection must hold when the rejected certificate itself is
        # one this validator cannot read (an impossible date here), and
        # a TRUSTED CERTIFICATE that cannot be decoded must not be taken
        # for a harmless one (second review).
        odd = edit_tbs(ints[0].cert, ints[0].key, validity=(
            tlv(0x17, b"250230000000Z"), tlv(0x17, b"350101000000Z")))
        case("trust-%s-int-reject-unreadable-with-root" % kt,
             [r, trusted_raw(odd, REJECT_SERVER_AUTH)], certs, HOST, g, kt,
             note="the rejected intermediate's own certificate has 30 "
             "February as notBefore")
        bad = trusted_raw(ints[0].der, REJECT_SERVER_AUTH).split("\n")
        bad[2] = bad[2][:10] + "!" + bad[2][11:]
        case("trust-%s-int-reject-bad-base64-with-root" % kt,
             [r, "\n".join(bad)], certs, HOST, g, kt,
             note="a TRUSTED CERTIFICATE block whose base64 is broken")


def main(argv):
    force = "--force" in argv
    args = [a for a in argv if a != "--force"]
    if len(args) != 1:
        sys.stderr.write("usage: gen.py [--force] OUTDIR\n")
        return 2
    outdir = args[0]
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    stamp = os.path.join(outdir, "stamp")
    try:
        with open(stamp) as f:
            if f.read().strip() == digest and not force:
                print("gen: %s is up to date" % outdir)
                return 0
    except OSError:
        pass
    if os.path.isdir(outdir):
        shutil.rmtree(outdir)
    os.makedirs(outdir)
    cache = outdir.rstrip("/") + ".keys.json"
    try:
        with open(cache) as f:
            KEY_CACHE.update(json.load(f))
    except (OSError, ValueError):
        pass
    derive_pool()
    groups = [(structure, kt) for kt in ("p256", "rsa2048", "p384")] + \
        [(limits,), (der_edits,), (times,), (signatures,), (ext_encodings,)] + \
        [(f, kt) for kt in ("p256", "rsa2048")
         for f in (anchor_copies, odd_paths)] + \
        [(keys_and_hashes,), (hosts,), (constraints,), (trust_settings,)]
    for fn, *args in groups:
        # serial numbers from a seed per group: a group that loops until a
        # randomized ECDSA signature has some shape moves no other group's
        RNG.seed(SEED + ("/%s/%s" % (fn.__name__, args)).encode())
        fn(*args)
    write_all(outdir)
    if KEY_CACHE_DIRTY:
        with open(cache + ".tmp", "w") as f:
            json.dump(KEY_CACHE, f)
        os.replace(cache + ".tmp", cache)
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    print("gen: %d cases in %s" % (len(CASES), outdir))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
