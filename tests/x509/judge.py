#!/usr/bin/python3
"""OpenSSL's verdict (plus Go's no-CN rule) on every case of the corpus.

    python3 tests/x509/judge.py CASESDIR

For each case directory (see gen.py) the leaf is chain.pem's first
certificate, as a TLS client takes it, and the rest is untrusted:

    openssl verify -x509_strict -partial_chain -purpose sslserver \
        -attime NOW -CAfile bundle.pem -untrusted REST.pem \
        -verify_hostname HOST | -verify_ip IP  leaf.pem

Judging choices (each printed in the README of the differential, see
run_diff.py's report):

  * -purpose sslserver also sets the trust to "SSL server", so that the
    trust settings of a TRUSTED CERTIFICATE in the bundle count (a root
    with -addreject serverAuth, or -addtrust clientAuth alone, is refused
    with "certificate rejected"). Checked by the trust-* cases.
  * -partial_chain: Go's crypto/x509 (the original sidecar's verifier)
    and BearSSL take any certificate in the bundle as an anchor, self-
    signed or not; OpenSSL wants a self-signed root unless told. Cases
    tagged "partial-chain" also record the verdict without the flag.
  * The host is given to OpenSSL as x509_name_set() reads a URL host: one
    trailing dot removed (OpenSSL would otherwise compare it literally).
    Case is left as it is: OpenSSL compares names without case.
  * Go's rule: a DNS host is never matched against the Common Name. When
    the leaf has no DNS subjectAltName, OpenSSL falls back to the CN; such
    an accept counts as a refusal ("go: no DNS subjectAltName").
  * When -x509_strict alone refuses (the same command without it
    accepts), the case is marked strict_only: RFC 5280 form rules
    (non-critical basicConstraints on a CA, a CA without keyUsage, no
    AKID...) that Go does not apply either.

Writes CASESDIR/NAME/verdict.json per case and CASESDIR/verdicts.json,
keyed by the corpus stamp, this file and the OpenSSL version, so that an
unchanged corpus is not judged twice.
"""

import concurrent.futures
import hashlib
import ipaddress
import json
import os
import re
import subprocess
import sys

from cryptography import x509

PEM_RE = re.compile(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----"
                    r"\n?", re.S)
ERR_RE = re.compile(r"^error (\d+) at (\d+) depth lookup: (.*)$", re.M)


def openssl_version():
    return subprocess.run(["openssl", "version"], stdout=subprocess.PIPE,
                          check=True).stdout.decode().strip()


def host_args(host):
    """The -verify_* options for a URL host, and whether it is an IP."""
    try:
        ipaddress.ip_address(host)
        return ["-verify_ip", host], True
    except ValueError:
        pass
    if host.endswith("."):
        host = host[:-1]
    return ["-verify_hostname", host], False


def run_verify(d, now, hargs, strict=True, partial=True):
    argv = ["openssl", "verify"]
    if strict:
        argv.append("-x509_strict")
    if partial:
        argv.append("-partial_chain")
    argv += ["-purpose", "sslserver", "-attime", str(now),
             "-CAfile", os.path.join(d, "bundle.pem")]
    if os.path.getsize(os.path.join(d, "untrusted.pem")) > 0:
        argv += ["-untrusted", os.path.join(d, "untrusted.pem")]
    argv += hargs + [os.path.join(d, "leaf.pem")]
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL)
    out = p.stdout.decode(errors="replace")
    errors = ["%s at depth %s: %s" % m.groups() for m in ERR_RE.finditer(out)]
    ok = p.returncode == 0 and out.rstrip().endswith(": OK")
    if not ok and not errors:
        errors = [out.strip().splitlines()[-1] if out.strip() else
                  "openssl exit %d" % p.returncode]
    return {"ok": ok, "errors": errors}


def dns_sans(leaf_pem):
    """The leaf's DNS subjectAltNames (None when it has no SAN at all)."""
    try:
        cert = x509.load_pem_x509_certificate(leaf_pem.encode())
        ext = cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName)
        return ext.value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        return None
    except Exception:  # noqa: BLE001
        # cryptography refuses some odd encodings (duplicate extensions,
        # bad IP lengths): ask OpenSSL; nothing readable counts as no SAN
        p = subprocess.run(["openssl", "x509", "-noout", "-ext",
                            "subjectAltName"], input=leaf_pem.encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        text = p.stdout.decode(errors="replace")
        if "Subject Alternative Name" not in text:
            return None
        return re.findall(r"DNS:([^,\s]*)", text)


def judge_one(d, now):
    with open(os.path.join(d, "chain.pem")) as f:
        certs = PEM_RE.findall(f.read())
    with open(os.path.join(d, "host")) as f:
        host = f.read().strip()
    with open(os.path.join(d, "leaf.pem"), "w") as f:
        f.write(certs[0] if certs else "")
    with open(os.path.join(d, "untrusted.pem"), "w") as f:
        f.write("".join(certs[1:]))
    with open(os.path.join(d, "meta.json")) as f:
        meta = json.load(f)
    hargs, is_ip = host_args(host)
    strict = run_verify(d, now, hargs)
    v = {"name": os.path.basename(d), "host": host, "openssl_args": hargs,
         "strict": strict, "lax": None, "no_partial": None, "go_rule": None,
         "strict_only": False}
    if not strict["ok"]:
        v["lax"] = run_verify(d, now, hargs, strict=False)
    elif "partial-chain" in meta.get("tags", []):
        v["no_partial"] = run_verify(d, now, hargs, partial=False)
    if not is_ip and certs:
        sans = dns_sans(certs[0])
        if not sans:
            v["go_rule"] = ("go: no subjectAltName, the CN is not used"
                            if sans is None else
                            "go: no DNS subjectAltName, the CN is not used")
    ok = strict["ok"] and v["go_rule"] is None
    v["verdict"] = "accept" if ok else "refuse"
    v["strict_only"] = (not strict["ok"] and v["lax"]["ok"] and
                        v["go_rule"] is None)
    if ok:
        v["reason"] = "OK"
    elif not strict["ok"]:
        v["reason"] = "openssl: " + "; ".join(strict["errors"])
    else:
        v["reason"] = v["go_rule"]
    with open(os.path.join(d, "verdict.json"), "w") as f:
        json.dump(v, f, indent=1)
    return v


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: judge.py CASESDIR\n")
        return 2
    top = argv[0]
    with open(os.path.join(top, "cases.json")) as f:
        index = json.load(f)
    with open(os.path.join(top, "stamp")) as f:
        stamp = f.read().strip()
    with open(os.path.abspath(__file__), "rb") as f:
        mine = hashlib.sha256(f.read()).hexdigest()
    key = "%s %s %s" % (stamp, mine, openssl_version())
    out = os.path.join(top, "verdicts.json")
    try:
        with open(out) as f:
            if json.load(f).get("key") == key:
                print("judge: %s is up to date" % out)
                return 0
    except (OSError, ValueError):
        pass
    now = index["now"]
    names = [c["name"] for c in index["cases"]]
    jobs = max(2, os.cpu_count() or 2)
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        verdicts = list(ex.map(lambda n: judge_one(os.path.join(top, n),
                                                   now), names))
    with open(out + ".tmp", "w") as f:
        json.dump({"key": key, "now": now,
                   "verdicts": {v["name"]: v for v in verdicts}}, f, indent=1)
    os.replace(out + ".tmp", out)
    acc = sum(v["verdict"] == "accept" for v in verdicts)
    print("judge: %d cases: OpenSSL/Go accept %d, refuse %d (%d of them "
          "refused by -x509_strict alone, %d by Go's no-CN rule alone)" % (
              len(verdicts), acc, len(verdicts) - acc,
              sum(v["strict_only"] for v in verdicts),
              sum(v["strict"]["ok"] and v["go_rule"] is not None
                  for v in verdicts)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
