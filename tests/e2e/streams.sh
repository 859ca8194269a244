#!/usr/bin/env bash
# The live event stream's guarantees (tests/e2e/streams.py): a resumed stream
# misses nothing and shows nothing it should not (seeded; FM_SEED repeats);
# logout and a role change end a session's streams at once; 500 clients that
# never read cost bounded memory and do not slow writers.
. "$(dirname "$0")/../lib.sh"
export FM_STREAM_MAX=1000 # the default heartbeat (15 s): nothing here may wait for it
export FM_STREAM_STALL_MS=2000 # a client that takes nothing for 2 s is dropped
fm_start --demo --max-connections 1200 --max-per-ip 1200
py() {
    /usr/bin/python3 "$(dirname "$0")/streams.py" "$FM_URL" "$FM_DB" "$FM_PID" "$1"
}
for part in ${FM_STREAM_PARTS:-resume logout slow horizon}; do # FM_STREAM_PARTS picks some
    if [ "$part" = horizon ]; then # the same log, a server with a short horizon
        fm_stop
        FM_STREAM_HORIZON=1000 fm_start --max-connections 1200 --max-per-ip 1200
    fi
    t0=$(date +%s)
    out=$(py $part 2>&1)
    echo "# $part ($(($(date +%s) - t0)) s)"
    echo "$out"
    FM_PASSED=$((FM_PASSED + $(grep -c '^ok - ' <<<"$out")))
    FM_FAILED=$((FM_FAILED + $(grep -c '^FAIL - ' <<<"$out")))
    if ! grep -q '^ok - \|^FAIL - ' <<<"$out" || grep -q Traceback <<<"$out"; then
        FM_FAILED=$((FM_FAILED + 1))
        echo "FAIL - the $part part did not run to its end"
    fi
done
finish
