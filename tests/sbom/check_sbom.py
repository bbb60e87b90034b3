#!/usr/bin/python3
"""The SBOM against what was built: `make test-sbom`.

    check_sbom.py SBOM BIN ARCH

Checks that SBOM (third_party/sbom.sh's SPDX 2.3 JSON) describes BIN by its
SHA-256, lists musl, BearSSL, jsmn and libgcc with the versions dpkg has
installed (BearSSL: the version pinned in fetch-bearssl.sh) and the pinned
hashes, links each to the binary, and carries SOURCE_DATE_EPOCH as its
creation time. Ends with `sbom: N passed, M failed`.
"""

import hashlib
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def pinned(script, name):
    with open(os.path.join(ROOT, "third_party", script)) as f:
        return re.search(r'^%s="(.*)"$' % name, f.read(), re.M).group(1)


def dpkg_version(pkg):
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                          capture_output=True, text=True,
                          check=True).stdout


def main(argv):
    sbom_path, bin_path, arch = argv
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok    " + name)
        else:
            failed += 1
            print("FAIL  %s %s" % (name, detail))

    with open(sbom_path) as f:
        doc = json.load(f)
    with open(bin_path, "rb") as f:
        bin_sha = hashlib.sha256(f.read()).hexdigest()
    check("SPDX 2.3, CC0-1.0", doc.get("spdxVersion") == "SPDX-2.3"
          and doc.get("dataLicense") == "CC0-1.0")
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    want = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    check("created at SOURCE_DATE_EPOCH (%s)" % want,
          doc["creationInfo"]["created"] == want,
          doc["creationInfo"]["created"])
    pkgs = {p["SPDXID"]: p for p in doc["packages"]}

    def sha(p):
        return [c["checksumValue"] for c in p.get("checksums", [])
                if c["algorithm"] == "SHA256"]

    main_pkg = pkgs.get("SPDXRef-Package-tokenbridge-sidecar", {})
    check("describes the binary by its SHA-256",
          doc.get("documentDescribes") == [main_pkg.get("SPDXID")]
          and sha(main_pkg) == [bin_sha] and arch in doc.get("name", ""),
          repr(sha(main_pkg)))
    expect = {
        "musl": (dpkg_version("musl-dev:" + arch), None),
        "bearssl": (pinned("fetch-bearssl.sh", "BEARSSL_VERSION"),
                    pinned("fetch-bearssl.sh", "DSC_SHA256")),
        "jsmn": (dpkg_version("libjsmn-dev"),
                 pinned("jsmn.sh", "JSMN_SHA256")),
        "libgcc": (None, None),
    }
    linked = {r["relatedSpdxElement"] for r in doc["relationships"]
              if r["spdxElementId"] == main_pkg.get("SPDXID")
              and r["relationshipType"] in ("STATIC_LINK", "CONTAINS")}
    for name, (version, digest) in expect.items():
        p = pkgs.get("SPDXRef-Package-" + name)
        if p is None:
            check("lists %s" % name, False)
            continue
        check("%s %s%s" % (name, p.get("versionInfo"),
                           ", pinned hash" if digest else ""),
              (version is None or p.get("versionInfo") == version)
              and (digest is None or sha(p) == [digest])
              and len(sha(p)) == 1
              and p["externalRefs"][0]["referenceLocator"].startswith(
                  "pkg:deb/"), repr(p))
        check("%s linked into the binary" % name, p["SPDXID"] in linked)
    print("sbom: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
