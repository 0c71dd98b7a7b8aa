#!/usr/bin/env bash
# Build the libFuzzer harness for the CSTA decoders and run it.
#
#   Fuzz/run.sh [seconds]            # default 30; the full run is 600
#
# Environment: FUZZ_CONFIG=release|debug (default release), SHARED (the shared tree; default ../shared beside the
# repo, or $CTIBRIDGE_SHARED), FUZZ_ARGS (extra libFuzzer flags, e.g. "-max_len=65535"),
# CSTA_FUZZ_ROUNDTRIP=1 (also check decode→encode→decode).
# Corpus: Fuzz/corpus/work (grows, kept between runs) + Fuzz/corpus/seeds (from the shared fixtures);
# crashes, leaks and timeouts go to Fuzz/artifacts/. One worker, one job: the machine is shared.
set -euo pipefail
SECS="${1:-30}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(dirname "$HERE")"
CONFIG="${FUZZ_CONFIG:-release}"
cd "$HERE"

shared=""
for c in ${SHARED:+"$SHARED"} ${CTIBRIDGE_SHARED:+"$CTIBRIDGE_SHARED"} "$REPO/../shared"; do
  if [ -d "$c/fixtures" ]; then shared="$(cd "$c" && pwd -P)"; break; fi
done

# -sanitize=fuzzer instruments every Swift module for coverage (CSTA too, not just the harness) and links
# libFuzzer's main(); -sanitize=address catches out-of-bounds reads through unsafe pointers.
echo "[fuzz] swift build -c $CONFIG --product CSTAFuzz -Xswiftc -sanitize=fuzzer,address" >&2
swift build -c "$CONFIG" --product CSTAFuzz -Xswiftc -sanitize=fuzzer,address >&2
BIN="$(swift build -c "$CONFIG" --show-bin-path)/CSTAFuzz"
# libFuzzer's main must be in the binary, not a Swift main (else the harness would run once and exit).
# (grep without -q: with pipefail, an early grep exit would SIGPIPE nm and fail the check.)
nm "$BIN" 2>/dev/null | grep 'T LLVMFuzzerRunDriver' >/dev/null || { echo "run.sh: $BIN does not contain libFuzzer" >&2; exit 1; }

mkdir -p corpus/work corpus/seeds artifacts
if [ -n "$shared" ]; then
  python3 "$HERE/seed_corpus.py" "$shared" corpus/seeds >&2
else
  echo "[fuzz] no shared tree found (set SHARED=…): running without fixture seeds" >&2
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
# ASan: leak checking off (libxml2 and the Swift runtime keep caches), but everything else fatal.
# SWIFT_BACKTRACE=enable=no: on a trap the Swift runtime's backtracer (swift-backtrace) trips ASan in
# CrashHandlerLinux.cpp (a stack-buffer-underflow report that hides the real error) and is left behind holding this
# script's pipe open, so run.sh never returns. libFuzzer + ASan print the stack themselves.
SWIFT_BACKTRACE="${SWIFT_BACKTRACE:-enable=no}" \
ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}" \
"$BIN" corpus/work corpus/seeds \
  -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
  -dict="$HERE/csta.dict" -artifact_prefix="$HERE/artifacts/" -print_final_stats=1 \
  ${FUZZ_ARGS:-} 2>&1 | tee "$log" | grep -E --line-buffered '^#[0-9]+.*(INITED|DONE|pulse)|ERROR|SUMMARY|Test unit written|==[0-9]+==|Fatal|precondition' >&2
rc=${PIPESTATUS[0]}
set -e
echo "---- final stats ----"
grep -E '^stat::' "$log" || true
grep -E '^#[0-9]+' "$log" | tail -1
execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
echo "executed units: ${execs:-?} (time limit ${SECS}s); exit code $rc (0 = no crash, 77 = crash/trap, 70 = timeout, 71 = OOM); artifacts: $(ls artifacts | wc -l) in Fuzz/artifacts/"
exit "$rc"
