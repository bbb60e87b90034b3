#!/bin/sh
# Write the SPDX 2.3 SBOM of the static binary: the sidecar and what is
# linked into it (musl, BearSSL, jsmn, gcc's runtime), with their Debian
# package versions and hashes.
# Usage: sbom.sh OUT BIN VERSION ARCH LIBC_A LIBGCC_A BEARSSL_DSC JSMN_H
#
# The content is a function of its inputs only: the packages' versions,
# the files' hashes and SOURCE_DATE_EPOCH (the last commit's time, set by
# the Makefile; 0 outside a git checkout) as the creation time, so two
# builds of the same commit give the same file. Only sh and coreutils: the
# image's builder has no Python.
set -eu

[ $# -eq 8 ] || {
	echo "usage: sbom.sh OUT BIN VERSION ARCH LIBC_A LIBGCC_A BEARSSL_DSC JSMN_H" >&2
	exit 2
}
out=$1 bin=$2 version=$3 arch=$4 libc=$5 libgcc=$6 dsc=$7 jsmn=$8
here=$(dirname "$0")

sha() { sha256sum "$1" | cut -d' ' -f1; }
# The Debian binary package that installed a file: "name:arch".
owner() {
	o=$(dpkg-query -S "$1" | head -n 1)
	echo "${o%%: *}"
}
field() { dpkg-query -W -f="\${$2}" "$1"; }
# purl versions escape '+' (and ':' of an epoch).
purlver() { printf '%s' "$1" | sed 's/%/%25/g; s/+/%2B/g; s/:/%3A/g'; }

# The machine's own file, not part of the repository.
# shellcheck source=/dev/null
. /etc/os-release
distro="${ID:-debian}-${VERSION_ID:-unknown}"
created=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y-%m-%dT%H:%M:%SZ)
bin_sha=$(sha "$bin")

# BearSSL: the source package, pinned in fetch-bearssl.sh.
br_ver=$(sed -n 's/^BEARSSL_VERSION="\(.*\)"$/\1/p' "$here/fetch-bearssl.sh")
br_pin=$(sed -n 's/^DSC_SHA256="\(.*\)"$/\1/p' "$here/fetch-bearssl.sh")
br_sha=$(sha "$dsc")
[ "$br_sha" = "$br_pin" ] || { echo "sbom: $dsc is not the pinned .dsc" >&2; exit 1; }
# jsmn: jsmn.h from libjsmn-dev, pinned in jsmn.sh.
js_pin=$(sed -n 's/^JSMN_SHA256="\(.*\)"$/\1/p' "$here/jsmn.sh")
js_sha=$(sha "$jsmn")
[ "$js_sha" = "$js_pin" ] || { echo "sbom: $jsmn is not the pinned jsmn.h" >&2; exit 1; }
js_pkg=$(owner /usr/include/jsmn.h)
# musl and libgcc: the packages that own the archives linked.
mu_pkg=$(owner "$libc")
gc_pkg=$(owner "$libgcc")

# package SPDXID NAME VERSION SUPPLIED-AS LICENSE SHA256 PURL COMMENT
package() {
	cat <<JSON
    {
      "SPDXID": "SPDXRef-Package-$1",
      "name": "$2",
      "versionInfo": "$3",
      "supplier": "Organization: Debian",
      "downloadLocation": "NOASSERTION",
      "filesAnalyzed": false,
      "sourceInfo": "$4",
      "licenseConcluded": "$5",
      "licenseDeclared": "$5",
      "copyrightText": "NOASSERTION",
      "checksums": [{"algorithm": "SHA256", "checksumValue": "$6"}],
      "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "$7"}],
      "comment": "$8"
    },
JSON
}

mu_ver=$(field "$mu_pkg" Version)
gc_ver=$(field "$gc_pkg" Version)
js_ver=$(field "$js_pkg" Version)
{
	cat <<JSON
{
  "spdxVersion": "SPDX-2.3",
  "dataLicense": "CC0-1.0",
  "SPDXID": "SPDXRef-DOCUMENT",
  "name": "tokenbridge-sidecar-$version-$arch",
  "documentNamespace": "https://spdx.org/spdxdocs/tokenbridge-sidecar-$version-$arch-$bin_sha",
  "creationInfo": {
    "created": "$created",
    "creators": ["Tool: tokenbridge-sidecar third_party/sbom.sh"],
    "comment": "created is SOURCE_DATE_EPOCH, the time of the commit built"
  },
  "documentDescribes": ["SPDXRef-Package-tokenbridge-sidecar"],
  "packages": [
JSON
	package musl "musl" "$mu_ver" \
		"Debian binary package $mu_pkg $mu_ver, source package $(field "$mu_pkg" source:Package)" \
		MIT "$(sha "$libc")" \
		"pkg:deb/$ID/${mu_pkg%%:*}@$(purlver "$mu_ver")?arch=${mu_pkg##*:}&distro=$distro" \
		"the checksum is of $(basename "$libc"), the archive linked (with its crt objects)"
	package bearssl "bearssl" "$br_ver" \
		"Debian source package bearssl $br_ver, built with the project's flags (third_party/bearssl.mk)" \
		MIT "$br_sha" \
		"pkg:deb/$ID/bearssl@$(purlver "$br_ver")?arch=source&distro=$distro" \
		"the checksum is of the source package's .dsc, pinned in third_party/fetch-bearssl.sh"
	package jsmn "jsmn" "$js_ver" \
		"Debian binary package $js_pkg $js_ver, source package $(field "$js_pkg" source:Package)" \
		MIT "$js_sha" \
		"pkg:deb/$ID/${js_pkg%%:*}@$(purlver "$js_ver")?arch=$(field "$js_pkg" Architecture)&distro=$distro" \
		"header-only; the checksum is of jsmn.h, pinned in third_party/jsmn.sh"
	package libgcc "libgcc" "$gc_ver" \
		"Debian binary package $gc_pkg $gc_ver, source package $(field "$gc_pkg" source:Package)" \
		"GPL-3.0-or-later WITH GCC-exception-3.1" "$(sha "$libgcc")" \
		"pkg:deb/$ID/${gc_pkg%%:*}@$(purlver "$gc_ver")?arch=$(field "$gc_pkg" Architecture)&distro=$distro" \
		"the checksum is of $(basename "$libgcc"), linked with crtbeginS.o and crtendS.o"
	cat <<JSON
    {
      "SPDXID": "SPDXRef-Package-tokenbridge-sidecar",
      "name": "tokenbridge-sidecar",
      "versionInfo": "$version",
      "downloadLocation": "NOASSERTION",
      "filesAnalyzed": false,
      "licenseConcluded": "MIT",
      "licenseDeclared": "MIT",
      "copyrightText": "NOASSERTION",
      "primaryPackagePurpose": "APPLICATION",
      "checksums": [{"algorithm": "SHA256", "checksumValue": "$bin_sha"}],
      "comment": "the static binary for $arch; the checksum is of the stripped file"
    }
  ],
  "relationships": [
    {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Package-tokenbridge-sidecar"},
    {"spdxElementId": "SPDXRef-Package-tokenbridge-sidecar", "relationshipType": "STATIC_LINK", "relatedSpdxElement": "SPDXRef-Package-musl"},
    {"spdxElementId": "SPDXRef-Package-tokenbridge-sidecar", "relationshipType": "STATIC_LINK", "relatedSpdxElement": "SPDXRef-Package-bearssl"},
    {"spdxElementId": "SPDXRef-Package-tokenbridge-sidecar", "relationshipType": "CONTAINS", "relatedSpdxElement": "SPDXRef-Package-jsmn"},
    {"spdxElementId": "SPDXRef-Package-tokenbridge-sidecar", "relationshipType": "STATIC_LINK", "relatedSpdxElement": "SPDXRef-Package-libgcc"}
  ]
}
JSON
} >"$out.tmp"
if cmp -s "$out.tmp" "$out"; then rm -f "$out.tmp"; else mv "$out.tmp" "$out"; fi
