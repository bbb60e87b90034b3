#!/bin/sh
# Install the Debian packages a make target needs, and only those missing.
# Usage: deps.sh build|test|lint|demo|bench|image|manifests|node|arm64|arm64-test
# Without root or apt-get it prints the exact package list and fails, so a
# user on another system knows what to provide.
set -eu

build_pkgs="make gcc musl-tools libjsmn-dev dpkg-dev xz-utils ca-certificates openssl"
# squid (with basic_ncsa_auth) and tinyproxy: the forward proxies of
# test_proxy.py; apache2-utils is not needed, the test writes htpasswd.
# prometheus: promtool and the server that scrape the health listener.
test_pkgs="$build_pkgs libcmocka-dev python3 python3-pytest python3-cryptography nginx-light valgrind clang libclang-rt-14-dev util-linux curl strace squid tinyproxy prometheus"
# make lint: the analysers (scan-build is in clang-tools), over the build's
# fetched headers.
lint_pkgs="$build_pkgs clang-tidy clang-format clang-tools cppcheck shellcheck python3-flake8"
demo_pkgs="$build_pkgs python3"
# golang-go builds the Go equivalent of the original (tests/bench/gosidecar).
bench_pkgs="$build_pkgs python3 valgrind curl strace binutils golang-go"
# The image test runs its own dockerd and builds its base from Debian.
image_pkgs="docker.io mmdebstrap python3 openssl"
manifests_pkgs="python3 python3-pytest python3-yaml strace"
# make ARCH=arm64: Debian's cross compiler and musl for arm64 (multiarch:
# the arm64 architecture is added to dpkg first); its tests run the binary
# under qemu-user.
arm64_pkgs="$build_pkgs gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu musl-dev:arm64"
arm64_test_pkgs="$arm64_pkgs qemu-user-static python3 python3-pytest python3-cryptography openssl"
# Only when no npm is on PATH: a NodeSource nodejs conflicts with Debian's npm.
node_pkgs="nodejs npm"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
lint) want=$lint_pkgs ;;
demo) want=$demo_pkgs ;;
bench) want=$bench_pkgs ;;
image) want=$image_pkgs ;;
manifests) want=$manifests_pkgs ;;
node) want=$node_pkgs ;;
arm64) want=$arm64_pkgs ;;
arm64-test) want=$arm64_test_pkgs ;;
*) echo "deps.sh: unknown set '$1' (build, test, lint, demo, bench, image, manifests, node, arm64, arm64-test)" >&2; exit 2 ;;
esac

missing=
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "missing Debian packages:$missing" >&2
	echo "install them as root: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
case $missing in
*:arm64*)
	dpkg --print-foreign-architectures | grep -qx arm64 ||
		dpkg --add-architecture arm64
	;;
esac
# A fresh machine has no package lists yet; refresh them once, then install.
# $missing is a list of package names, split on purpose.
# shellcheck disable=SC2086
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
fi
