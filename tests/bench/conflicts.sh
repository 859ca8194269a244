#!/usr/bin/env bash
# tests/bench/conflicts.sh - the deconfliction engine under load. Not a
# test: run it alone, on a quiet machine, after building (cmake --build
# build). It compiles tests/bench/bench_conflicts.c against the built
# store (build/data, build/common), loads 10,000 zones, 10,000 incidents
# and 2,000 movements in the demo area and prints:
#   - the full re-check (first, which opens everything; steady state; as of
#     a later time; back to now)
#   - creating one movement including its conflict check and commit,
#     p50/p90/p99/max over N_TIMED (default 500), split into the writer
#     thread's CPU time and the rest (I/O, locks, waiting for a core), and
#     zones and incidents
#   - the peer: the machine alone writing and fdatasync'ing one movement's
#     WAL frames (100 pages), N_TIMED times
# The targets (issue 7): a movement under 10 ms at p99, a re-check under 10 s.
#
#   tests/bench/conflicts.sh [BUILD_DIR] [SEED] [N_TIMED]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
seed=${2:-7}
n=${3:-500}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmbench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
[ -f "$build/data/libfm_data.a" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 1; }
cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I"$root/common" -I"$root/data" \
    "$here/bench_conflicts.c" "$build/data/libfm_data.a" "$build/common/libfm_common.a" \
    $(pkg-config --cflags --libs sqlite3 spatialite jansson libargon2 gnutls libsodium libpq gdal) -lpthread -lm \
    -o "$tmp/bench_conflicts"
echo "# $(nproc) cores, $(uname -m); $(date -u +%Y-%m-%dT%H:%M:%SZ)"
"$tmp/bench_conflicts" "$tmp/bench.db" "$seed" "$n"
echo "# database: $(du -h "$tmp/bench.db" | cut -f1) (+ WAL $(du -h "$tmp/bench.db-wal" 2>/dev/null | cut -f1))"
