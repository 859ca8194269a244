#!/usr/bin/env bash
# verify_bench.sh [SCALE]: the time `fusionmap events verify` takes on a
# large log. Loads the synthetic data set (load_synthetic.py; SCALE
# divides its 22,000 items, default 2) into a demo server, edits and
# acknowledges a tenth of them, then times verify (chain, cross-check and
# the replay of the state, data/replay.c) three times.
# FUSIONMAP=build/server/fusionmap bash tests/bench/verify_bench.sh 2
# (VERIFY_BENCH_KEEP=FILE keeps a copy of the database there)
. "$(dirname "$0")/../lib.sh"
SCALE=${1:-2}
fm_start --demo
TA=$(fm_token liaison-a) TB=$(fm_token liaison-b) TS=$(fm_token supervisor)
/usr/bin/python3 "$(dirname "$0")/load_synthetic.py" "$FM_URL" "$TA" "$TB" "$TS" "$SCALE"
/usr/bin/python3 - "$FM_URL" "$TA" "$TB" <<'PY'
# edits by A of a tenth of A's zones, and B's acknowledgements of them
import http.client, json, sys, urllib.parse
u = urllib.parse.urlsplit(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
def call(method, path, token, body=None, headers={}):
    h = {"Authorization": "Bearer " + token}
    h.update(headers)
    c.request(method, path, json.dumps(body) if body is not None else None, h)
    r = c.getresponse()
    return r.status, r.read()
st, text = call("GET", "/collections/zones/items?limit=10000", sys.argv[2])
mine = [f for f in json.loads(text)["features"] if f["properties"]["party"] == "A"
        and f["properties"]["status"] == "proposed"][::10]
n = 0
for f in mine:
    st, text = call("PATCH", "/collections/zones/items/%d" % f["id"], sys.argv[2],
                    {"properties": {"description": "edited"}},
                    {"Content-Type": "application/merge-patch+json", "If-Match": '"1"'})
    if st != 200: continue
    st, text = call("POST", "/collections/zones/items/%d/ack" % f["id"], sys.argv[3],
                    {"decision": "ack"}, {"Content-Type": "application/json", "If-Match": '"2"'})
    n += st == 200
print("edited and acknowledged %d zones" % n)
PY
fm_stop
sqlite3 "$FM_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
[ -n "${VERIFY_BENCH_KEEP:-}" ] && cp "$FM_DB" "$VERIFY_BENCH_KEEP"
echo "# $(sqlite3 "$FM_DB" "SELECT count(*) || ' records, ' || (SELECT count(*) FROM item_versions) || ' versions, ' || (SELECT count(*) FROM conflicts) || ' conflicts, ' || (SELECT count(*) FROM acks) || ' acks' FROM events")"
for i in 1 2 3; do
    t0=$(date +%s.%N)
    out=$("$FUSIONMAP" events verify --db "$FM_DB")
    t1=$(date +%s.%N)
    echo "# verify: $(echo "$t1 - $t0" | bc) s: $out"
done
check "the large log verifies" '[[ $out == ok:* ]]'
finish
