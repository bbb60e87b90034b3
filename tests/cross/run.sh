#!/bin/sh
# make test-arm64: the cross-built static binary run under qemu-user, as
# a pod on an arm64 node would run it: its ELF headers (static PIE for
# the architecture, no interpreter, no shared library), `version`, then
# part of the integration suite with the binary behind a qemu wrapper:
# `once` against the loopback exchange server with an ECDSA and an RSA
# chain (every request field checked), `check`, and `run` refreshing and
# stopping on SIGTERM, also in a stalled exchange.
# Usage: sh tests/cross/run.sh ARCH BIN
set -eu

arch=${1:?usage: run.sh ARCH BIN}
bin=${2:?usage: run.sh ARCH BIN}
cd "$(dirname "$0")/../.."
root=$PWD
case $arch in
arm64) qemu=qemu-aarch64-static machine=AArch64 ;;
*) echo "cross: no emulator known for $arch" >&2; exit 2 ;;
esac
command -v "$qemu" >/dev/null 2>&1 || {
	echo "cross: $qemu missing: sh third_party/deps.sh $arch-test" >&2
	exit 1
}
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")

fail() { echo "cross: $*" >&2; exit 1; }
hdr=$(readelf -h "$bin")
echo "$hdr" | grep -q "Machine: *$machine" || fail "$bin is not built for $machine"
echo "$hdr" | grep -q "Type: *DYN" || fail "$bin is not a PIE"
readelf -l "$bin" | grep -q INTERP && fail "$bin asks for a dynamic loader"
readelf -d "$bin" | grep -q NEEDED && fail "$bin needs a shared library"
echo "cross: $bin: static PIE for $machine, $(wc -c <"$bin") bytes"

# Not binfmt_misc (the host's kernel settings are not the test's to
# change): a wrapper that execs the emulator, so the process the suite
# starts, signals and waits for is the emulated sidecar itself.
wrap=$root/build/$arch/qemu/tokenbridge-sidecar
mkdir -p "$(dirname "$wrap")"
printf '#!/bin/sh\nexec %s %s "$@"\n' "$(command -v "$qemu")" "$bin" >"$wrap"
chmod +x "$wrap"

out=$(env -i "$wrap" version)
version=$(sed -n 's/^VERSION := //p' Makefile)
[ "$out" = "tokenbridge-sidecar $version" ] || fail "version printed '$out'"
echo "cross: version: $out"

TB_BIN=$wrap /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	"tests/integration/test_exchange.py::test_success_full_request" \
	"tests/integration/test_exchange.py::test_http_400_invalid_grant" \
	tests/integration/test_check.py \
	"tests/integration/test_run_mode.py::test_run_refreshes_before_expiry_and_stops_cleanly" \
	"tests/integration/test_run_mode.py::test_run_sigterm_during_stalled_exchange"
