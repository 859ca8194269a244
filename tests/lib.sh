# tests/lib.sh - shared by the shell tests: start the real fusionmap binary
# on port 0 with a temporary database, wait for its port, stop it.
#
#   . "$(dirname "$0")/../lib.sh"
#   fm_start [--demo] [serve options...]   # sets FM_URL, FM_PID, FM_DB, FM_TMP
#   fm_login USER                          # prints nothing; sets cookie jar $FM_TMP/USER.jar
#   fm_token USER                          # prints a bearer token for USER
#   fm_stop
#   fm_pg_start                            # a PostgreSQL 15 + PostGIS of its own: sets FM_PG_URL
#   check "sentence" 'shell code'          # evaluated here; counts passes and failures
#   check "sentence" command args...       # or a command
#   finish                                 # prints "N passed, N failed", exits non-zero on failure
#
# FUSIONMAP must name the binary (CTest passes it). FM_BACKEND=postgresql
# runs the script's server (and its command lines) on a PostgreSQL of the
# script's own (fm_pg_start) instead of a SQLite file: FM_DB is its URL.
set -u
: "${FUSIONMAP:?set FUSIONMAP to the fusionmap binary}"
FUSIONMAP=$(realpath "$FUSIONMAP")
FM_SOURCE_DIR=${FM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
FUSIONMAP=$(realpath "$FUSIONMAP")
FM_SOURCE_DIR=${FM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
FM_PASSED=0
FM_FAILED=0
FM_TMP=$(mktemp -d "${TMPDIR:-/tmp}/fmtest.XXXXXX")
FM_DB="$FM_TMP/test.db"
FM_PID=
FM_URL=

fm_start() {
    "$FUSIONMAP" serve --db "$FM_DB" --port 0 "$@" >"$FM_TMP/serve.out" 2>"$FM_TMP/serve.err" &
    FM_PID=$!
    local i
    for i in $(seq 1 200); do
        FM_URL=$(grep -o 'https\?://[0-9.]*:[0-9]\+' "$FM_TMP/serve.out" 2>/dev/null | head -n1)
        [ -n "$FM_URL" ] && return 0
        kill -0 "$FM_PID" 2>/dev/null || break
        sleep 0.05
    done
    echo "server did not start:" >&2
    cat "$FM_TMP/serve.err" >&2
    return 1
}

# fm_stop: SIGTERM, and the server must exit cleanly (status 0): under
# ASan/UBSan/LSan a report makes the status non-zero, and that fails the test.
fm_stop() {
    if [ -n "$FM_PID" ]; then
        kill "$FM_PID" 2>/dev/null
        wait "$FM_PID" 2>/dev/null
        local rc=$?
        FM_PID=
        if [ $rc -ne 0 ]; then
            FM_FAILED=$((FM_FAILED + 1))
            echo "FAIL - the server exited with status $rc when stopped"
            grep -A30 -E "Sanitizer|runtime error" "$FM_TMP/serve.err" | head -n 60
        fi
    fi
}

# fm_login USER [PASSWORD]: a session cookie in $FM_TMP/USER.jar
fm_login() {
    curl -sf -c "$FM_TMP/$1.jar" -H 'Content-Type: application/json' \
        -d "{\"user\":\"$1\",\"password\":\"${2:-$1}\"}" "$FM_URL/login" >/dev/null
}

# fm_token USER: a bearer token (made through the command line, on the test database)
fm_token() {
    "$FUSIONMAP" token add "$1" --db "$FM_DB"
}

# fm_tms_xml FILE: GDAL's description of the server's `all` tiles as XYZ
# (the WMS driver's TMS minidriver, YOrigin top: see shared CLIENTS.md)
fm_tms_xml() {
    cat >"$1" <<XML
<GDAL_WMS>
  <Service name="TMS"><ServerUrl>$FM_URL/tiles/all/\${z}/\${x}/\${y}.png</ServerUrl></Service>
  <DataWindow>
    <UpperLeftX>-20037508.34</UpperLeftX><UpperLeftY>20037508.34</UpperLeftY>
    <LowerRightX>20037508.34</LowerRightX><LowerRightY>-20037508.34</LowerRightY>
    <TileLevel>18</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY><YOrigin>top</YOrigin>
  </DataWindow>
  <Projection>EPSG:3857</Projection><BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY>
  <BandsCount>4</BandsCount><ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes>
</GDAL_WMS>
XML
}

check() {
    local name=$1
    shift
    local ok=0
    if [ $# -eq 1 ]; then
        eval "$1" && ok=1
    else
        "$@" && ok=1
    fi
    if [ $ok = 1 ]; then
        FM_PASSED=$((FM_PASSED + 1))
        echo "ok - $name"
    else
        FM_FAILED=$((FM_FAILED + 1))
        echo "FAIL - $name"
    fi
}

finish() {
    fm_stop
    fm_pg_stop
    if [ "$FM_FAILED" -gt 0 ]; then
        echo "--- server log:"
        tail -n 30 "$FM_TMP/serve.err"
    fi
    rm -rf "$FM_TMP"
    echo "$FM_PASSED passed, $FM_FAILED failed"
    [ "$FM_FAILED" -eq 0 ]
}
# fm_pg_start: a PostgreSQL 15 server of this test's own, on loopback at a
# free port, its files in $FM_TMP/pg, stopped at exit (fm_pg_stop). initdb
# and postgres refuse to run as root (CI is root): then they run as the
# unprivileged user `nobody`, owner of those files. Sets FM_PG_URL (a
# database "fusionmap" with PostGIS available). Fails loudly if it cannot.
FM_PG_DIR=
FM_PG_URL=
fm_pg_start() {
    local bin=/usr/lib/postgresql/15/bin
    [ -x "$bin/initdb" ] || { echo "no PostgreSQL 15 in $bin (scripts/setup.sh installs it)" >&2; return 1; }
    FM_PG_DIR="$FM_TMP/pg"
    mkdir -p "$FM_PG_DIR"
    local as=()
    if [ "$(id -u)" = 0 ]; then
        chmod 755 "$FM_TMP"
        chown nobody "$FM_PG_DIR"
        as=(runuser -u nobody --)
    fi
    "${as[@]}" "$bin/initdb" -D "$FM_PG_DIR/data" -U fusionmap --auth=trust -E UTF8 \
        --locale=C.UTF-8 >"$FM_TMP/pg.initdb" 2>&1 || { cat "$FM_TMP/pg.initdb" >&2; return 1; }
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    "${as[@]}" "$bin/pg_ctl" -D "$FM_PG_DIR/data" -l "$FM_PG_DIR/log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $FM_PG_DIR -c fsync=off" start \
        >"$FM_TMP/pg.start" 2>&1 || { cat "$FM_TMP/pg.start" "$FM_PG_DIR/log" >&2; return 1; }
    "${as[@]}" "$bin/createdb" -h 127.0.0.1 -p "$port" -U fusionmap fusionmap \
        2>"$FM_TMP/pg.createdb" || { cat "$FM_TMP/pg.createdb" >&2; return 1; }
    FM_PG_URL="postgresql://fusionmap@127.0.0.1:$port/fusionmap"
}
fm_pg_stop() {
    if [ -n "$FM_PG_DIR" ] && [ -f "$FM_PG_DIR/data/postmaster.pid" ]; then
        local as=()
        [ "$(id -u)" = 0 ] && as=(runuser -u nobody --)
        "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$FM_PG_DIR/data" -m immediate -w stop \
            >/dev/null 2>&1
    fi
}
trap 'fm_stop; fm_pg_stop' EXIT
if [ "${FM_BACKEND:-sqlite}" = postgresql ]; then
    fm_pg_start || { echo "FAIL - no PostgreSQL for FM_BACKEND=postgresql"; exit 1; }
    FM_DB=$FM_PG_URL
fi

# req METHOD PATH [curl args...]: the response body in $FM_TMP/body, headers
# in $FM_TMP/headers, and the status code printed.
req() {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" -o "$FM_TMP/body" -D "$FM_TMP/headers" -w '%{http_code}' "$@" "$FM_URL$path"
}
body() { cat "$FM_TMP/body"; }
header() { grep -i "^$1:" "$FM_TMP/headers" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }
# jqb FILTER: jq over the last body
jqb() { jq -r "$1" "$FM_TMP/body"; }
# is_problem STATUS: the last answer is problem+json with that status
is_problem() {
    header Content-Type | grep -q '^application/problem+json' && [ "$(jqb .status)" = "$1" ] &&
        [ -n "$(jqb .detail)" ]
}
