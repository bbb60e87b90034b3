#!/bin/sh
# make repro: the build is reproducible. Clones HEAD twice, into two
# directories of different names and depths, builds each from clean (its
# own BearSSL fetch, its own objects) one after the other with a
# different umask, time zone and locale and no SOURCE_DATE_EPOCH given,
# and compares each architecture's binary and SBOM byte for byte; with
# arm64 among them, also the multi-arch OCI image made from the binaries
# (make oci, its source label the same fixed URL in both).
# Usage: sh tests/repro/repro.sh [ARCH...]   (default: the machine's own)
#
# It builds the last commit, not uncommitted changes. The clones are
# removed when they match, kept (and named) when they do not.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
[ $# -gt 0 ] || set -- "$(dpkg --print-architecture)"
commit=$(git -C "$root" rev-parse HEAD)
if [ -n "$(git -C "$root" status --porcelain --untracked-files=no)" ]; then
	echo "repro: building commit ${commit%"${commit#????????????}"}, not the uncommitted changes" >&2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tb-repro.XXXXXX")
one=$work/one
two=$work/second-checkout/of/the/same/commit

# build DIR UMASK ARCH...: a clean clone of the commit, built for each
# architecture, with $tz and $locale, into $log.
build() {
	dir=$1
	mask=$2
	shift 2
	git clone -q --no-checkout "$root" "$dir"
	git -C "$dir" checkout -q --detach "$commit"
	(
		cd "$dir"
		umask "$mask"
		for arch do
			env -u SOURCE_DATE_EPOCH TZ="$tz" LC_ALL="$locale" \
				make -s --no-print-directory ARCH="$arch" build \
				>>"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
		done
		[ -z "$oci" ] && exit 0
		env -u SOURCE_DATE_EPOCH TZ="$tz" LC_ALL="$locale" \
			make -s --no-print-directory oci IMAGE_SOURCE=repro \
			>>"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }
	)
}

oci=
case " $* " in *" arm64 "*) oci=build/image/tokenbridge-sidecar-$(sed -n 's/^VERSION := //p' "$root/Makefile").oci.tar ;; esac

tz=UTC locale=C log=$work/one.log
build "$one" 022 "$@"
tz=Pacific/Kiritimati locale=C.UTF-8 log=$work/two.log
build "$two" 077 "$@"

passed=0
failed=0
for arch in "$@"; do
	if [ "$arch" = "$(dpkg --print-architecture)" ]; then b=build; else b=build/$arch; fi
	for f in tokenbridge-sidecar sbom.spdx.json; do
		a=$one/$b/$f
		c=$two/$b/$f
		if cmp -s "$a" "$c"; then
			passed=$((passed + 1))
			echo "repro: $arch $f identical: $(sha256sum "$a" | cut -c1-64), $(wc -c <"$a") bytes"
		else
			failed=$((failed + 1))
			echo "repro: $arch $f DIFFERS: $(cmp "$a" "$c" | head -n 1); $(cmp -l "$a" "$c" | wc -l) bytes differ"
		fi
	done
done
if [ -n "$oci" ]; then
	if cmp -s "$one/$oci" "$two/$oci"; then
		passed=$((passed + 1))
		echo "repro: OCI image identical: $(sha256sum "$one/$oci" | cut -c1-64), $(wc -c <"$one/$oci") bytes"
	else
		failed=$((failed + 1))
		echo "repro: OCI image DIFFERS: $(cmp "$one/$oci" "$two/$oci" | head -n 1)"
	fi
fi
if [ "$failed" -eq 0 ]; then
	rm -rf "$work"
else
	echo "repro: the two trees are kept in $work" >&2
fi
echo "repro: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
