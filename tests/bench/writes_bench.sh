#!/usr/bin/env bash
# writes_bench.sh - the write tail: creates over HTTP from 8 clients at
# once, alone and while tiles are being served, on the 22k data set.
#
#   tests/bench/writes_bench.sh           (WRITES=2000 creates a run)
#   SMOKE=1 tests/bench/writes_bench.sh   (CI: the 1/20 data set, 200 creates, no goal)
#
# Each run on a fresh copy of the synthetic data set (bench_lib.sh builds
# it once), so that the writes change nothing the other benchmarks read.
# tests/bench/writes.py makes the creates (zones, incidents, movements as
# load_synthetic.py mixes them; each with its conflict check inside the
# transaction, on disk before the answer: db.c's group sync). The split (issue 23): the same creates
# (1) alone, (2) while tests/bench/sweep.py asks for every z12 and z14
# tile, 16 at a time, over and over (each write drops the tiles it
# touches, so the sweeps render). Prints creates/s, p50, p99 and max
# beside the goals (>= 1,000/s, p99 <= 50 ms, max <= 250 ms), then where
# a create's time went, from each answer's Server-Timing (FUSIONMAP_SPLIT=1:
# writes.py's SPLIT lines), the mean over all and over the slowest 1%.
# PHASES=alone runs the first part only.
set -euo pipefail
. "$(dirname "$0")/bench_lib.sh"
WRITES=${WRITES:-2000}
[ "$SMOKE" = 1 ] && WRITES=200
RES="$WORK/writes"
mkdir -p "$RES"
TA=$("$FM" token add liaison-a --db "$DB") TB=$("$FM" token add liaison-b --db "$DB")
echo "==> $WRITES creates from 8 clients ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
PHASES=${PHASES:-alone tiles} # PHASES=alone: the first part only
rm -f "$RES"/alone.txt "$RES"/tiles.txt
for phase in $PHASES; do
    rm -f "$WORK/writes.db"*
    cp "$DB" "$WORK/writes.db"
    start_fm "$WORK/writes.db" "$WORK/fm-writes" FUSIONMAP_BASEMAP=none FUSIONMAP_SPLIT=1
    SWEEPER=
    if [ $phase = tiles ]; then
        (while :; do for z in 12 14; do
            /usr/bin/python3 "$HERE/sweep.py" fm "$URL" $z 16 >>"$RES/sweeps.txt" || exit 0
        done; done) &
        SWEEPER=$!
        sleep 1
    fi
    /usr/bin/python3 "$HERE/writes.py" "$URL" "$TA" "$TB" "$WRITES" 8 >"$RES/$phase.txt"
    [ -n "$SWEEPER" ] && { kill "$SWEEPER" 2>/dev/null; wait "$SWEEPER" 2>/dev/null || true; }
    stop_fm
done
rm -f "$WORK/writes.db"*
/usr/bin/python3 - "$RES" <<'PY'
import os, sys
res = sys.argv[1]
def kv(name):
    line = [l for l in open(os.path.join(res, name + ".txt")) if l.startswith("RESULT")][-1]
    return dict(x.split("=") for x in line.split()[1:])
print()
print("%-34s %9s %9s %9s %9s   %s" % ("8 clients, creates", "per s", "p50 ms", "p99 ms", "max ms",
                                      "goal: >= 1000/s, p99 <= 50, max <= 250"))
bad = 0
for phase, label in (("alone", "alone"), ("tiles", "while tiles are served")):
    if not os.path.exists(os.path.join(res, phase + ".txt")):
        continue
    a = kv(phase)
    bad += int(a["bad"])
    ok = float(a["rps"]) >= 1000 and float(a["p99_ms"]) <= 50 and float(a["max_ms"]) <= 250
    print("%-34s %9s %9s %9s %9s   %s" % (label, a["rps"], a["p50_ms"], a["p99_ms"], a["max_ms"],
                                          "met" if ok else "not met"))
print("bad responses: %d" % bad)
print()
print("where a create's time went, ms (mean; tail: the slowest 1%)")
cols = None
for phase, label in (("alone", "alone"), ("tiles", "while tiles are served")):
    if not os.path.exists(os.path.join(res, phase + ".txt")):
        continue
    for l in open(os.path.join(res, phase + ".txt")):
        if not l.startswith("SPLIT"):
            continue
        w = l.split()
        kv2 = [x.split("=") for x in w[2:]]
        if cols is None:
            cols = [k for k, _ in kv2]
            print("%-34s" % "" + "".join("%10s" % k for k in cols))
        print("%-34s" % (label + (", tail" if w[1] != "all" else ", all")) + "".join("%10s" % v for _, v in kv2))
sys.exit(1 if bad else 0)
PY
