#!/usr/bin/env bash
# No network from imports (issue 17 item 5). A listener on 127.0.0.1 logs
# every connection; each file of ssrf_tricks.py names it (or a closed port)
# in a field GDAL or PROJ might open: a GeoJSON crs by link/url/name, KML
# network links and styles, GPX links, a CSV WKT, GeoPackage SRS
# definitions, data columns and related tables, a Shapefile .prj (a URL, a
# /vsicurl/ path, a PROJ grid by URL), a VRT in a zip. Each goes through
# POST /import and fusionmap import, with and without dry_run, with
# PROJ_NETWORK=ON and LIBKML_EXTERNAL_STYLE=YES in the environment to tempt
# them. The listener must see no connection at all; every answer is prompt
# (under 2 s), not a 5xx, and the same for the listening port and a closed
# one (status and text, the port number aside).
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
export PROJ_NETWORK=ON LIBKML_EXTERNAL_STYLE=YES

LOG="$FM_TMP/connections.log"
: >"$LOG"
$PY -u - "$LOG" >"$FM_TMP/port" <<'PYEOF' &
import socket, sys, threading, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1])
def silent(c):  # says nothing for 3 s, as a port that holds a fetch would
    time.sleep(3)
    c.close()
while True:
    c, a = s.accept()
    with open(sys.argv[1], "a") as log:
        log.write("connection from %s:%d\n" % a)
    threading.Thread(target=silent, args=(c,), daemon=True).start()
PYEOF
LISTENER=$!
stop_listener() { kill "$LISTENER" 2>/dev/null; wait "$LISTENER" 2>/dev/null; fm_stop; }
trap stop_listener EXIT
for _ in $(seq 1 100); do [ -s "$FM_TMP/port" ] && break; sleep 0.05; done
OPEN=$(cat "$FM_TMP/port")
CLOSED=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
connections() { wc -l <"$LOG"; }
check "the listener takes connections (the oracle works)" \
    'curl -s -m 0.5 -o /dev/null "http://127.0.0.1:$OPEN/"; [ "$(connections)" = 1 ]'
: >"$LOG"

$PY "$HERE/ssrf_tricks.py" "$FM_TMP/open" "http://127.0.0.1:$OPEN/" >"$FM_TMP/tricks" 2>"$FM_TMP/tricks.err" &&
    $PY "$HERE/ssrf_tricks.py" "$FM_TMP/closed" "http://127.0.0.1:$CLOSED/" >/dev/null 2>>"$FM_TMP/tricks.err" ||
    { echo "could not make the trick files:"; cat "$FM_TMP/tricks.err"; }

fm_start --demo
A=(-H "Authorization: Bearer $(fm_token liaison-a)")

# http DIR FILE COLLECTION FORMAT DRY -> "status seconds" ; the body in $FM_TMP/http-DIR
http() {
    curl -s -o "$FM_TMP/http-$1" -w '%{http_code} %{time_total}' -X POST "${A[@]}" \
        --data-binary @"$FM_TMP/$1/$2" "$FM_URL/import?collection=$3&format=$4&dry_run=$5"
}
# cli DIR FILE COLLECTION FORMAT DRY -> "exit seconds" ; stderr (log lines dropped) in $FM_TMP/cli-DIR
cli() {
    local t0 t1 rc dry=()
    [ "$5" = 1 ] && dry=(--dry-run)
    t0=$(date +%s%N)
    "$FUSIONMAP" import "$FM_TMP/$1/$2" --collection "$3" --format "$4" --party B "${dry[@]}" \
        --db "$FM_DB" >/dev/null 2>"$FM_TMP/cli-$1.raw"
    rc=$?
    t1=$(date +%s%N)
    grep -v '^[0-9-]*T[0-9:]*Z ' "$FM_TMP/cli-$1.raw" >"$FM_TMP/cli-$1"
    echo "$rc $(awk -v n=$((t1 - t0)) 'BEGIN { printf "%.3f", n / 1e9 }')"
}
# same_apart_from_port A B: the two texts equal once each port is PORT (and
# the ids of items a real import created are N)
same_apart_from_port() {
    [ "$(sed "s/$OPEN/PORT/g; s/\"id\":[0-9]*/\"id\":N/g" "$1")" = "$(sed "s/$CLOSED/PORT/g; s/\"id\":[0-9]*/\"id\":N/g" "$2")" ]
}
# prompt: no wait on the network (a connect to an address that does not
# answer waits 30 s and more); 5 s leaves room for a loaded machine, where a
# sanitized CLI's start alone took 2.6 s
prompt() { awk -v t="$1" 'BEGIN { exit !(t < 5) }'; }

while read -r file coll fmt; do
    for dry in 1 0; do
        : >"$LOG"
        read -r s_open t_open <<<"$(http open "$file" "$coll" "$fmt" "$dry")"
        read -r s_closed t_closed <<<"$(http closed "$file" "$coll" "$fmt" "$dry")"
        sleep 0.05
        check "POST /import $file (dry_run=$dry): no connection, $s_open in ${t_open}s / ${t_closed}s, the same for an open and a closed port" \
            '[ "$(connections)" = 0 ] && [ "$s_open" = "$s_closed" ] && [ "${s_open:0:1}" = 2 -o "${s_open:0:1}" = 4 ] &&
             prompt "$t_open" && prompt "$t_closed" && same_apart_from_port "$FM_TMP/http-open" "$FM_TMP/http-closed" ||
             { echo "   connections: $(connections); open: $s_open $t_open $(head -c 300 "$FM_TMP/http-open"); closed: $s_closed $t_closed $(head -c 300 "$FM_TMP/http-closed")"; false; }'
        case $s_open in 4*) check "  ... and the 4xx is problem+json with a detail" \
            'jq -e ".detail | length > 10" "$FM_TMP/http-open" >/dev/null' ;;
        esac
        : >"$LOG"
        read -r r_open t_open <<<"$(cli open "$file" "$coll" "$fmt" "$dry")"
        read -r r_closed t_closed <<<"$(cli closed "$file" "$coll" "$fmt" "$dry")"
        sleep 0.05
        check "fusionmap import $file (dry run: $dry): no connection, exit $r_open in ${t_open}s / ${t_closed}s, the same for an open and a closed port" \
            '[ "$(connections)" = 0 ] && [ "$r_open" = "$r_closed" ] && [ "$r_open" -le 1 ] &&
             prompt "$t_open" && prompt "$t_closed" && same_apart_from_port "$FM_TMP/cli-open" "$FM_TMP/cli-closed" ||
             { echo "   connections: $(connections); open: $r_open $t_open $(cat "$FM_TMP/cli-open"); closed: $r_closed $t_closed $(cat "$FM_TMP/cli-closed")"; false; }'
    done
done <"$FM_TMP/tricks"

# the clear refusals, by name
expect() { # FILE STATUS 'detail regex'
    local got want=$2 re=$3
    got=$(http open "$1" incidents "$(grep "^$1 " "$FM_TMP/tricks" | cut -d' ' -f3)" 1 | cut -d' ' -f1)
    check "$1 is refused with $2 saying why" \
        '[ "$got" = "$want" ] && jq -r .detail "$FM_TMP/http-open" | grep -Eq -- "$re" || { echo "   got $got: $(cat "$FM_TMP/http-open")"; false; }'
}
for f in crs-link crs-url crs-upper-case crs-linked crs-escaped crs-on-geometry crs-link-opengis; do
    expect $f.geojson 400 'gives its CRS as a link .*never fetch'
done
expect crs-name-url.geojson 400 'NETWORK_ACCESS=NO'
expect prj-url.zip 400 'its .prj is not a coordinate reference system'
expect prj-vsicurl.zip 400 'its .prj is not a coordinate reference system'
expect prj-grid-url.zip 400 'grid from the network, and fusionmap never fetches|could not be read or reprojected'
# past 8 MiB the pre-check does not parse the file (memory): GDAL meets the
# switches instead, and the refusal names what the file asked for
$PY - "$FM_TMP/big.geojson" "http://127.0.0.1:$OPEN/crs" <<'PYEOF'
import sys
f = open(sys.argv[1], "w")
f.write('{"type":"FeatureCollection","crs":{"type":"link","properties":{"href":"%s"}},"features":[' % sys.argv[2])
f.write(",".join('{"type":"Feature","geometry":{"type":"Point","coordinates":[35.1,32.1]},"properties":{"title":"p%06d","pad":"%s"}}' % (i, "x" * 60) for i in range(65000)))
f.write("]}")
PYEOF
: >"$LOG"
check "a 9 MB GeoJSON with a crs link through fusionmap import: no connection, exit 1 naming the resource" \
    '[ "$(stat -c %s "$FM_TMP/big.geojson")" -gt 8388608 ] &&
     ! "$FUSIONMAP" import "$FM_TMP/big.geojson" --collection incidents --party B --dry-run --max-features 100000 --db "$FM_DB" >/dev/null 2>"$FM_TMP/big.err" &&
     grep -q "names a network resource (http://127.0.0.1:$OPEN/crs): fusionmap never fetches" "$FM_TMP/big.err" && sleep 0.1 && [ "$(connections)" = 0 ] ||
     { echo "   connections: $(connections); $(grep -v "^20" "$FM_TMP/big.err")"; false; }'
check "no connection reached the listener in the whole run" '[ "$(connections)" = 0 ]'
check "the server is still up" '[ "$(req GET /conformance)" = 200 ]'
kill "$LISTENER" 2>/dev/null
wait "$LISTENER" 2>/dev/null
finish
