#!/usr/bin/env bash
# ctibridge's CSTA decoders beside the independent peers (asn1c, libxml2 SAX2/xmlReader, memcpy ceiling,
# optionally asn1tools) on the peers' 200,000-event corpus. See Benchmarks/peers/README.md.
#
#   Benchmarks/peers/compare.sh [--rounds N] [--asn1tools] [--peers-only] [--update-docs]
#                               [--skip-build] [--rebuild-peers]
#
# Environment:
#   SHARED      the shared tree (default ../../shared relative to Benchmarks/, i.e. ../shared beside the repo)
#   PEERS_DIR   scratch dir for the copied peers, the corpus and the peer binaries
#               (default $TMPDIR/ctibridge-peers when TMPDIR is set, else <repo>/.build-peers)
#   PYTHON      python3 to use (needs asn1tools for the corpus generator)
#   CTIBRIDGE   an already built ctibridge binary to time (skips the release build)
#
# Nothing from the shared tree is copied into the repository: the copy lives in the scratch dir.
set -euo pipefail

ROUNDS=3
ASN1TOOLS=0
PEERS_ONLY=0
UPDATE_DOCS=0
SKIP_BUILD=0
REBUILD_PEERS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS="$2"; shift 2 ;;
    --rounds=*) ROUNDS="${1#*=}"; shift ;;
    --asn1tools) ASN1TOOLS=1; shift ;;
    --peers-only) PEERS_ONLY=1; shift ;;
    --update-docs) UPDATE_DOCS=1; shift ;;
    --skip-build) SKIP_BUILD=1; shift ;;
    --rebuild-peers) REBUILD_PEERS=1; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
BENCH_DIR="$(dirname "$HERE")"
REPO="$(dirname "$BENCH_DIR")"
PYTHON="${PYTHON:-python3}"
log() { printf '[compare] %s\n' "$*" >&2; }
die() { printf 'compare.sh: %s\n' "$1" >&2; exit "${2:-1}"; }

# --- locate the shared tree -------------------------------------------------------------------------------------
# SHARED may be absolute, relative to the current directory, or relative to Benchmarks/ (the documented default
# ../../shared); CTIBRIDGE_SHARED (what the tests use) and ../shared beside the repo are tried after it.
resolve_shared() {
  local c
  for c in ${SHARED:+"$SHARED"} ${SHARED:+"$BENCH_DIR/$SHARED"} ${CTIBRIDGE_SHARED:+"$CTIBRIDGE_SHARED"} \
           "$BENCH_DIR/../../shared" "$REPO/../shared"; do
    if [ -f "$c/tools/peers/run_peers.sh" ]; then (cd "$c" && pwd -P); return 0; fi
  done
  return 1
}
SHARED_DIR="$(resolve_shared)" || die "cannot find the shared tree (looked for tools/peers/run_peers.sh under \
SHARED='${SHARED:-}', \$CTIBRIDGE_SHARED, $BENCH_DIR/../../shared, $REPO/../shared). Set SHARED=/path/to/shared."
log "shared tree: $SHARED_DIR"

if [ -n "${PEERS_DIR:-}" ]; then SCRATCH="$PEERS_DIR"
elif [ -n "${TMPDIR:-}" ]; then SCRATCH="$TMPDIR/ctibridge-peers"
else SCRATCH="$REPO/.build-peers"; fi
mkdir -p "$SCRATCH"
SCRATCH="$(cd "$SCRATCH" && pwd -P)"
P="$SCRATCH/peers"
CORPUS="$P/corpus/perf"
log "scratch: $P"

# --- tools ------------------------------------------------------------------------------------------------------
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }
need gcc "apt-get install gcc"
need asn1c "apt-get install asn1c"
need xml2-config "apt-get install libxml2-dev"
"$PYTHON" -c 'import asn1tools' 2>/dev/null || die "python module asn1tools missing: pip install asn1tools lxml pyasn1"

# --- (a) copy the peers, corpus, peer binaries -----------------------------------------------------------------
mkdir -p "$P"
# Refresh the scripts and sources; keep what was generated or built here (corpus/, asn1/patched, asn1c-build/, …).
# The shared tree is read-only: copy without its modes and make the copy writable (a non-root user could not
# overwrite read-only files on the next run otherwise).
chmod -R u+w "$P"
cp -R "$SHARED_DIR/tools/peers/." "$P/"
chmod -R u+w "$P"
cd "$P"
if [ "$REBUILD_PEERS" = 1 ]; then rm -rf asn1/patched asn1c-build bench/xml_bench bench/membw; fi
if [ ! -d asn1/patched ] || [ -z "$(ls asn1/patched 2>/dev/null)" ]; then
  log "patching the ASN.1 modules (patch_asn1.py)"
  rm -rf asn1/patched && "$PYTHON" patch_asn1.py >/dev/null
fi
if [ ! -s "$CORPUS/frames.bin" ] || [ ! -s "$CORPUS/frames-xml.bin" ] || [ ! -s "$CORPUS/expected.jsonl" ]; then
  log "generating the 200,000-event corpus (gen_corpus.py --events 200000 --seed 2 --services-every 0; a few minutes)"
  rm -rf "$CORPUS.tmp"
  "$PYTHON" gen_corpus.py --events 200000 --seed 2 --out "$CORPUS.tmp" --services-every 0 >/dev/null
  rm -rf "$CORPUS" && mv "$CORPUS.tmp" "$CORPUS"
fi
if [ ! -x asn1c-build/asn1c_bench ]; then
  log "building the asn1c peer (as run_peers.sh does)"
  rm -rf asn1c-build && mkdir -p asn1c-build/gen
  (cd asn1c-build/gen && asn1c -fcompound-names -fno-include-deps ../../asn1/patched/*.asn > ../asn1c.log 2>&1) \
    || die "asn1c failed, see $P/asn1c-build/asn1c.log"
  (cd asn1c-build/gen && gcc -O2 -I. -o ../asn1c_bench ../../bench/asn1c_bench.c $(ls *.c | grep -v converter-sample) -lm 2> ../gcc.log) \
    || die "gcc failed for asn1c_bench, see $P/asn1c-build/gcc.log"
fi
if [ ! -x bench/xml_bench ]; then
  log "building xml_bench"
  gcc -O2 -o bench/xml_bench bench/xml_bench.c $(xml2-config --cflags --libs)
fi
if [ ! -x bench/membw ]; then
  gcc -O2 -o bench/membw bench/membw.c
fi

# --- ctibridge (release) ----------------------------------------------------------------------------------------
if [ "$PEERS_ONLY" = 1 ]; then
  CTIBRIDGE=""
elif [ -n "${CTIBRIDGE:-}" ]; then
  [ -x "$CTIBRIDGE" ] || die "CTIBRIDGE=$CTIBRIDGE is not an executable"
  log "using CTIBRIDGE=$CTIBRIDGE (not rebuilt)"
else
  cd "$REPO"
  if [ "$SKIP_BUILD" = 0 ]; then
    log "building ctibridge (swift build -c release --product ctibridge)"
    swift build -c release --product ctibridge >&2 || die "swift build -c release --product ctibridge failed"
  fi
  CTIBRIDGE="$(swift build -c release --show-bin-path)/ctibridge"
  [ -x "$CTIBRIDGE" ] || die "no release binary at $CTIBRIDGE (run without --skip-build)"
fi
if [ -n "$CTIBRIDGE" ]; then
  # The decode command with --stats must exist and decode the corpus cleanly; check on the small dev corpus first.
  probe() {
    local file="$1" enc="$2" fr="$3" out
    if ! out="$("$CTIBRIDGE" decode "$file" --encoding "$enc" --framing "$fr" --stats 2>&1)"; then
      die "'ctibridge decode $file --encoding $enc --framing $fr --stats' failed — is the decode command (and the \
$enc codec) implemented yet? Output:
$out
Use --peers-only to time only the peers." 3
    fi
    printf '%s\n' "$out" | grep -q '"frames"' || die "'ctibridge decode … --stats' printed no {\"frames\":…} line:
$out" 3
    log "probe $enc: $(printf '%s\n' "$out" | grep '"frames"' | tail -1)"
  }
  probe "$SHARED_DIR/fixtures/corpus-dev/frames.bin" ber u16
  probe "$SHARED_DIR/fixtures/corpus-dev/frames-xml.bin" xml ecma323
fi

# --- (b) + (c) interleaved timed rounds and the table -------------------------------------------------------------
args=(--peers "$P" --corpus "$CORPUS" --rounds "$ROUNDS" --results "$HERE/results/latest.md")
[ -n "$CTIBRIDGE" ] && args+=(--ctibridge "$CTIBRIDGE")
[ "$ASN1TOOLS" = 1 ] && args+=(--asn1tools)
[ "$UPDATE_DOCS" = 1 ] && args+=(--docs "$REPO/docs/performance.md")
exec "$PYTHON" "$HERE/compare.py" "${args[@]}"
