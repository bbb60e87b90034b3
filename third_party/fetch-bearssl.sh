#!/bin/sh
# Fetch BearSSL's Debian source package, pinned by version and by the hash of
# its .dsc, into DEST (extracted tree at DEST/src).
#
# apt verifies the .dsc against the signed Sources index, and dpkg-source
# verifies the tarballs against the .dsc; the pinned hash below makes sure
# the package is the one this project was built and tested with.
#
# The deb-src entries are derived from the machine's own apt sources (deb822
# files and one-line lists), for the machine's release only, and kept in a
# private apt directory under DEST: the system's apt configuration is not
# touched.
set -eu

BEARSSL_VERSION="0.6+dfsg.1-3"
DSC_SHA256="9bd17e07fc9824b0223dcb4ba14adac17981a4d8f1d63b6655819fe8f2ed98d1"

dest=${1:?usage: fetch-bearssl.sh DEST}
[ -f "$dest/src/inc/bearssl.h" ] && exit 0
# apt reads relative Dir:: paths against its own directories: go absolute.
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)

# The machine's own file, not part of the repository.
# shellcheck source=/dev/null
. /etc/os-release
codename=${VERSION_CODENAME:?cannot tell the Debian release from /etc/os-release}

apt="$dest/apt"
rm -rf "$dest"
mkdir -p "$apt/parts" "$apt/lists/partial" "$dest/dl"
: >"$apt/none.list"

# deb822 stanzas of this release: the same entry with Types: deb-src.
for f in /etc/apt/sources.list.d/*.sources; do
	[ -f "$f" ] || continue
	awk -v rel="$codename" '
		function flush() {
			if (stanza != "" && hasdeb && enabled && relok)
				printf "%s\n", stanza
			stanza = ""; hasdeb = 0; enabled = 1; relok = 0
		}
		BEGIN { enabled = 1 }
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { if ($0 ~ /[ \t]deb([ \t]|$)/) hasdeb = 1; $0 = "Types: deb-src" }
		/^Enabled:/ { if (tolower($2) == "no") enabled = 0 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == rel || index($i, rel "-") == 1) relok = 1 }
		{ stanza = stanza $0 "\n" }
		END { flush() }
	' "$f"
done >"$apt/parts/derived.sources"

# One-line entries of this release: "deb [opts] uri suite comps".
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	awk -v rel="$codename" '
		$1 != "deb" { next }
		{
			i = 2
			if ($2 ~ /^\[/) while ($i !~ /\]$/) i++
			if ($2 ~ /^\[/) i++
			suite = $(i + 1)
			if (suite == rel || index(suite, rel "-") == 1) { $1 = "deb-src"; print }
		}
	' "$f"
done >"$apt/parts/derived.list"

if ! [ -s "$apt/parts/derived.sources" ] && ! [ -s "$apt/parts/derived.list" ]; then
	echo "fetch-bearssl: no apt source for Debian $codename found in /etc/apt" >&2
	exit 1
fi

aptopts="-o Dir::Etc::SourceList=$apt/none.list -o Dir::Etc::SourceParts=$apt/parts -o Dir::State::Lists=$apt/lists"
# shellcheck disable=SC2086
apt-get -q $aptopts update >"$apt/update.log" 2>&1 || {
	cat "$apt/update.log" >&2
	echo "fetch-bearssl: apt-get update of the derived deb-src entries failed" >&2
	exit 1
}
# shellcheck disable=SC2086
(cd "$dest/dl" && apt-get -q $aptopts source --download-only "bearssl=$BEARSSL_VERSION") >"$apt/source.log" 2>&1 || {
	cat "$apt/source.log" >&2
	echo "fetch-bearssl: apt-get source bearssl=$BEARSSL_VERSION failed" >&2
	exit 1
}

dsc="$dest/dl/bearssl_${BEARSSL_VERSION#*:}.dsc"
echo "$DSC_SHA256  $dsc" | sha256sum -c --quiet - || {
	echo "fetch-bearssl: $dsc does not match the pinned hash" >&2
	exit 1
}
dpkg-source -x "$dsc" "$dest/src.tmp" >"$apt/extract.log" 2>&1 || {
	cat "$apt/extract.log" >&2
	exit 1
}
mv "$dest/src.tmp" "$dest/src"
