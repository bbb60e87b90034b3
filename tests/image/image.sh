#!/usr/bin/env bash
# Build the container image without a registry, and with `test` run it as a
# pod would (tests/image/test_image.py).
#
#   tests/image/image.sh build|test|oci VERSION      (as root, from anywhere)
#
# `oci` (and `test`, after the Dockerfile's image) loads the multi-arch
# OCI image that `make oci` assembled from the two binaries
# (build/image/tokenbridge-sidecar-VERSION.oci.tar, tests/image/oci.py)
# into the same dockerd, by its docker-archive manifest for this
# machine's architecture, and runs the same tests against it; `oci` alone
# needs no Debian base and no docker build.
#
# A private dockerd (no bridge, no iptables) runs for the duration of the
# script only, its data root under $TB_IMAGE_CACHE (default
# /var/cache/tokenbridge-sidecar) so that a second run reuses the base image
# and the build cache. debian:bookworm is not pulled: mmdebstrap builds it
# from this machine's own apt sources, with the project's build packages
# already in, and `docker import` names it.
set -euo pipefail

mode=${1:-}
version=${2:-}
if [[ $mode != build && $mode != test && $mode != oci ]] || [[ -z $version ]]; then
	echo "usage: image.sh build|test|oci VERSION" >&2
	exit 2
fi
cd "$(dirname "$0")/../.."
root=$PWD

if [[ $(id -u) != 0 ]]; then
	echo "image.sh: needs root (it runs its own dockerd)" >&2
	exit 1
fi
sh third_party/deps.sh image

cache=${TB_IMAGE_CACHE:-/var/cache/tokenbridge-sidecar}
# The exec root holds unix sockets: keep its path short.
run=/run/tokenbridge-sidecar-docker
logs=$root/build/image
image=tokenbridge-sidecar:$version
mkdir -p "$cache/docker" "$cache/rootfs" "$run" "$logs"

# One run at a time: two dockerds cannot share a data root.
exec 9>"$cache/lock"
if ! flock -n 9; then
	echo "image: waiting for another run to release $cache/lock" >&2
	flock 9
fi

started=$SECONDS
phase() { printf 'image: %-34s (%3ds)\n' "$1" $((SECONDS - started)); }
show_log() {
	echo "image: $2 failed; the end of $1:" >&2
	tail -n 40 "$1" >&2
	exit 1
}

# ---- the private dockerd ----

dockerd_pid=
stop_dockerd() {
	[[ -n $dockerd_pid ]] || return 0
	kill -TERM "$dockerd_pid" 2>/dev/null || return 0
	# dockerd stops its containers and containerd first; give it 20 s.
	for _ in $(seq 1 200); do
		kill -0 "$dockerd_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$dockerd_pid" 2>/dev/null || true
	wait "$dockerd_pid" 2>/dev/null || true
	dockerd_pid=
}
trap stop_dockerd EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

dockerd --bridge=none --iptables=false --ip6tables=false \
	--data-root "$cache/docker" --exec-root "$run/exec" \
	--pidfile "$run/dockerd.pid" -H "unix://$run/docker.sock" \
	>"$logs/dockerd.log" 2>&1 &
dockerd_pid=$!
export DOCKER_HOST=unix://$run/docker.sock
for _ in $(seq 1 300); do
	docker version >/dev/null 2>&1 && break
	kill -0 "$dockerd_pid" 2>/dev/null || show_log "$logs/dockerd.log" dockerd
	sleep 0.1
done
docker version >/dev/null 2>&1 || show_log "$logs/dockerd.log" "dockerd start"
phase "dockerd up"

status=0
# The multi-arch image: loaded (its host-architecture image) and tested.
test_oci() {
	local oci=$root/build/image/tokenbridge-sidecar-$version.oci.tar
	[[ -s $oci ]] || { echo "image.sh: no $oci: make oci first" >&2; exit 1; }
	docker load -i "$oci" >>"$logs/docker-load.log" 2>&1 ||
		show_log "$logs/docker-load.log" "docker load"
	phase "loaded tokenbridge-sidecar-oci:$version"
	/usr/bin/python3 tests/image/test_image.py \
		"tokenbridge-sidecar-oci:$version" "$version" || status=1
	phase "OCI image tests done"
}
if [[ $mode == oci ]]; then
	test_oci
	exit $status
fi

# ---- debian:RELEASE, built locally ----

# The builder's base, named in the Dockerfile.
release=$(sed -n 's/^FROM debian:\([a-z]*\) AS build$/\1/p' Dockerfile)
[[ -n $release ]] || { echo "image.sh: no 'FROM debian:RELEASE AS build' in Dockerfile" >&2; exit 1; }
# The packages `make deps` would install, so the build installs nothing.
build_pkgs=$(sed -n 's/^build_pkgs="\(.*\)"$/\1/p' third_party/deps.sh)
[[ -n $build_pkgs ]] || { echo "image.sh: no build_pkgs in third_party/deps.sh" >&2; exit 1; }

# This machine's apt sources for RELEASE, binary entries only: deb822
# stanzas (enabled, Types with deb, a Suite of the release) and one-line
# "deb [opts] uri suite comps" entries. mmdebstrap downloads through them
# and leaves them in the image, where fetch-bearssl.sh derives its deb-src
# entries from them.
sources=$(mktemp -d)
trap 'stop_dockerd; rm -rf "$sources"' EXIT
for f in /etc/apt/sources.list.d/*.sources; do
	[[ -f $f ]] || continue
	awk -v rel="$release" '
		function flush() {
			if (stanza != "" && hasdeb && enabled && relok)
				printf "%s\n", stanza
			stanza = ""; hasdeb = 0; enabled = 1; relok = 0
		}
		BEGIN { enabled = 1 }
		/^[ \t]*$/ { flush(); next }
		/^#/ { next }
		/^Types:/ { if ($0 ~ /[ \t]deb([ \t]|$)/) hasdeb = 1; $0 = "Types: deb" }
		/^Enabled:/ { if (tolower($2) == "no") enabled = 0 }
		/^Suites:/ {
			s = "Suites:"
			for (i = 2; i <= NF; i++)
				if ($i == rel || index($i, rel "-") == 1) { s = s " " $i; relok = 1 }
			$0 = s
		}
		{ stanza = stanza $0 "\n" }
		END { flush() }
	' "$f"
done >"$sources/apt.sources"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[[ -f $f ]] || continue
	awk -v rel="$release" '
		$1 != "deb" { next }
		{
			i = 2
			if ($2 ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
			suite = $(i + 1)
			if (suite == rel || index(suite, rel "-") == 1) print
		}
	' "$f"
done >"$sources/apt.list"
mirrors=()
for f in "$sources/apt.sources" "$sources/apt.list"; do
	[[ -s $f ]] && mirrors+=("$f")
done
if [[ ${#mirrors[@]} == 0 ]]; then
	echo "image.sh: no apt source for Debian $release in /etc/apt" >&2
	exit 1
fi

# The tarball is named after everything that goes into it.
key=$( { echo "$release $build_pkgs"; cat "${mirrors[@]}"; } | sha256sum | cut -c1-16)
tarball=$cache/rootfs/$release-$key.tar
if [[ ! -s $tarball ]]; then
	rm -f "$cache"/rootfs/*.tar
	mmdebstrap --variant=apt --format=tar --include="${build_pkgs// /,}" \
		"$release" "$tarball.tmp" "${mirrors[@]}" \
		>"$logs/mmdebstrap.log" 2>&1 || show_log "$logs/mmdebstrap.log" mmdebstrap
	mv "$tarball.tmp" "$tarball"
	phase "mmdebstrap $release"
fi
have=$(docker image inspect -f '{{index .Config.Labels "tokenbridge.rootfs"}}' \
	"debian:$release" 2>/dev/null || true)
if [[ $have != "$key" ]]; then
	docker import --change "LABEL tokenbridge.rootfs=$key" \
		--change 'CMD ["bash"]' "$tarball" "debian:$release" >/dev/null
	phase "imported debian:$release"
fi

# ---- the image ----

# The legacy builder: BuildKit is not part of Debian's docker.io. The
# builder stage gets a tag of its own (the second build reuses it) so that
# its layers, the build cache, are not dangling; what the prune then drops
# is only what newer builds and bases superseded.
: >"$logs/docker-build.log"
# The source label names this checkout's upstream, when it has one.
source=$(git config --get remote.origin.url 2>/dev/null || true)
for target in "--target=build -t tokenbridge-sidecar-build:$version" "-t $image"; do
	# shellcheck disable=SC2086 # two words each, by design
	DOCKER_BUILDKIT=0 docker build --network host \
		--build-arg VERSION="$version" --build-arg SOURCE="$source" \
		$target . \
		>>"$logs/docker-build.log" 2>&1 ||
		show_log "$logs/docker-build.log" "docker build"
done
docker image prune -f >/dev/null
phase "built $image"

if [[ $mode == test ]]; then
	/usr/bin/python3 tests/image/test_image.py "$image" "$version" || status=1
	phase "tests done"
	test_oci
	exit $status
fi
