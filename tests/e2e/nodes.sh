#!/usr/bin/env bash
# nodes.sh - several servers on one PostgreSQL behave as one (issue 18):
# three `fusionmap serve` processes on a PostgreSQL of this test's own,
# HAProxy in front of them on loopback. A session made on one node works
# on the others, and its logout ends it on all; a write on one node
# reaches a stream on another at once (LISTEN/NOTIFY; tests/e2e/nodes.py
# prints the delays) and a tile cached on a third; the conflict re-check
# runs on one node at a time and another takes it over when that one is
# killed; a stream through the balancer whose node is killed resumes on
# another with Last-Event-ID, nothing lost, repeated or out of order.
. "$(dirname "$0")/../lib.sh"

command -v haproxy >/dev/null || { echo "FAIL - no haproxy (scripts/setup.sh installs it)"; exit 1; }
check "PostgreSQL 15 + PostGIS started on loopback" fm_pg_start
[ -n "$FM_PG_URL" ] || finish
FM_DB=$FM_PG_URL
export FM_CONFLICT_RECHECK_S=1 # the re-check's turn comes every second

NODE_PID=() NODE_URL=()
# start_node N [ARGS...]: node N on a free port; its log in $FM_TMP/node-N.err
start_node() {
    local n=$1 i
    shift
    "$FUSIONMAP" serve --db "$FM_PG_URL" --port 0 "$@" >"$FM_TMP/node-$n.out" 2>"$FM_TMP/node-$n.err" &
    NODE_PID[$n]=$!
    for i in $(seq 1 200); do
        NODE_URL[$n]=$(grep -o 'http://[0-9.]*:[0-9]\+' "$FM_TMP/node-$n.out" 2>/dev/null | head -n1)
        [ -n "${NODE_URL[$n]}" ] && return 0
        sleep 0.05
    done
    cat "$FM_TMP/node-$n.err" >&2
    return 1
}
HAPROXY_PID=
stop_all() {
    [ -n "$HAPROXY_PID" ] && kill "$HAPROXY_PID" 2>/dev/null
    local p
    for p in "${NODE_PID[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
}
trap 'stop_all; fm_pg_stop' EXIT

check "node 1 starts on the PostgreSQL with the demo, nodes 2 and 3 beside it" \
    'start_node 1 --demo && start_node 2 && start_node 3'

# ---- one session, every node -----------------------------------------------------
curl -sf -c "$FM_TMP/a.jar" -H 'Content-Type: application/json' \
    -d '{"user":"liaison-a","password":"liaison-a"}' "${NODE_URL[1]}/login" >/dev/null
A=(-b "$FM_TMP/a.jar" -H 'X-Requested-With: fusionmap')
check "A logs in on node 1 and is known on nodes 2 and 3" \
    '[ "$(curl -s -o /dev/null -w "%{http_code}" "${A[@]}" "${NODE_URL[2]}/me")" = 200 ] &&
     [ "$(curl -s -o /dev/null -w "%{http_code}" "${A[@]}" "${NODE_URL[3]}/me")" = 200 ]'
TILE=/tiles/all/10/613/412.png # the demo's border area at zoom 10
ETAG0=$(curl -s -D - -o /dev/null "${A[@]}" "${NODE_URL[3]}$TILE" | grep -i '^etag:' | tr -d '\r')
curl -s -D - -o /dev/null "${A[@]}" "${NODE_URL[3]}$TILE" >/dev/null # now cached on node 3
check "A writes through node 2 with the session made on node 1 (201)" \
    '[ "$(curl -s -o "$FM_TMP/body" -w "%{http_code}" "${A[@]}" -H "Content-Type: application/geo+json" \
        -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.60,33.00],[35.90,33.00],[35.90,33.20],[35.60,33.20],[35.60,33.00]]]},
             \"properties\":{\"title\":\"written on node 2\",\"type\":\"restricted\",\"status\":\"proposed\"}}" \
        "${NODE_URL[2]}/collections/zones/items")" = 201 ]'
etag_now() { curl -s -D - -o /dev/null "${A[@]}" "${NODE_URL[3]}$TILE" | grep -i '^etag:' | tr -d '\r'; }
check "node 3's cached tile shows node 2's write (its ETag changed)" \
    'for i in $(seq 1 20); do [ -n "$ETAG0" ] && [ "$(etag_now)" != "$ETAG0" ] && break; sleep 0.1; done; [ "$(etag_now)" != "$ETAG0" ]'
curl -s -o /dev/null "${A[@]}" -X POST "${NODE_URL[3]}/logout"
check "A's logout on node 3 ends the session on nodes 1 and 2 (401 within 2 s)" \
    'for i in $(seq 1 20); do [ "$(curl -s -o /dev/null -w "%{http_code}" "${A[@]}" "${NODE_URL[1]}/me")" = 401 ] &&
        [ "$(curl -s -o /dev/null -w "%{http_code}" "${A[@]}" "${NODE_URL[2]}/me")" = 401 ] && break; sleep 0.1; done;
     [ "$(curl -s -o /dev/null -w "%{http_code}" "${A[@]}" "${NODE_URL[2]}/me")" = 401 ]'

# ---- the live stream across nodes ------------------------------------------------
TA=$("$FUSIONMAP" token add liaison-a --db "$FM_PG_URL" 2>/dev/null)
TB=$("$FUSIONMAP" token add liaison-b --db "$FM_PG_URL" 2>/dev/null)
py() { /usr/bin/python3 "$(dirname "$0")/nodes.py" "$@"; }
run_py() { # counts the script's ok/FAIL lines as this test's
    local out
    out=$(py "$@" 2>&1)
    echo "$out"
    FM_PASSED=$((FM_PASSED + $(grep -c '^ok - ' <<<"$out")))
    FM_FAILED=$((FM_FAILED + $(grep -c '^FAIL - ' <<<"$out")))
    if ! grep -q '^ok - \|^FAIL - ' <<<"$out" || grep -q Traceback <<<"$out"; then
        FM_FAILED=$((FM_FAILED + 1))
        echo "FAIL - nodes.py $1 did not run to its end"
    fi
}
run_py latency "${NODE_URL[1]}" "${NODE_URL[3]}" "$TA" "$TB"

# ---- the duties: one node at a time ---------------------------------------------------
holders() { # the nodes whose latest word on the re-check is "this server does it"
    local n
    for n in 1 2 3; do
        [ -n "${NODE_PID[$n]}" ] && kill -0 "${NODE_PID[$n]}" 2>/dev/null &&
            grep -o 'conflict re-check: [a-z ]*' "$FM_TMP/node-$n.err" | tail -n1 | grep -q 'this server' && echo "$n"
    done
}
sleep 2
check "the conflict re-check runs on exactly one node ($(holders | tr '\n' ' '))" '[ "$(holders | wc -l)" = 1 ]'
HOLDER=$(holders | head -n1)
kill -9 "${NODE_PID[$HOLDER]}"
wait "${NODE_PID[$HOLDER]}" 2>/dev/null
NODE_PID[$HOLDER]=
check "its node killed, another takes the re-check over within 5 s" \
    'for i in $(seq 1 50); do [ "$(holders | wc -l)" = 1 ] && break; sleep 0.1; done; [ "$(holders | wc -l)" = 1 ]'
start_node "$HOLDER" # back, as a standby for the duty
check "the node back holds no duty (another does it)" \
    'sleep 2; [ "$(holders | wc -l)" = 1 ] && [ "$(holders)" != "$HOLDER" ]'

# ---- HAProxy in front: a stream whose node dies resumes on another --------------------
LB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
{
    printf 'global\n  log stderr format raw local0 warning\n'
    printf 'defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  timeout server 60s\n  timeout tunnel 1h\n'
    printf '  retries 3\n  option redispatch\n'
    printf 'frontend fm\n  bind 127.0.0.1:%s\n  default_backend nodes\n' "$LB_PORT"
    printf 'backend nodes\n  balance roundrobin\n  http-response set-header X-Node %%s\n'
    printf '  option httpchk GET /conformance\n'
    for n in 1 2 3; do
        printf '  server n%s %s check inter 300ms fall 1 rise 1\n' "$n" "${NODE_URL[$n]#http://}"
    done
} >"$FM_TMP/haproxy.cfg"
haproxy -f "$FM_TMP/haproxy.cfg" -db >"$FM_TMP/haproxy.log" 2>&1 &
HAPROXY_PID=$!
check "HAProxy balances the three nodes on loopback" \
    'for i in $(seq 1 50); do [ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$LB_PORT/conformance")" = 200 ] && break; sleep 0.1; done;
     [ "$(curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$LB_PORT/conformance")" = 200 ]'
run_py failover "http://127.0.0.1:$LB_PORT" "$TA" "$TB" "n1=${NODE_PID[1]},n2=${NODE_PID[2]},n3=${NODE_PID[3]}"
check "the log written by the nodes verifies" \
    '"$FUSIONMAP" events verify --db "$FM_PG_URL" 2>/dev/null | grep -q "^ok: .* the chain is intact"'
stops_clean() { # every node still up exits with status 0 on SIGTERM (under ASan: no report)
    local n rc=0
    for n in 1 2 3; do
        [ -n "${NODE_PID[$n]}" ] && kill -0 "${NODE_PID[$n]}" 2>/dev/null || continue
        kill "${NODE_PID[$n]}"
        wait "${NODE_PID[$n]}" || { echo "node $n: status $?"; grep -A20 -E "Sanitizer|runtime error" "$FM_TMP/node-$n.err" | head -n 40; rc=1; }
        NODE_PID[$n]=
    done
    return $rc
}
check "the nodes still up stop cleanly" stops_clean
stop_all
[ "$FM_FAILED" -gt 0 ] && for n in 1 2 3; do echo "--- node $n:"; tail -n 15 "$FM_TMP/node-$n.err"; done
finish
