#!/usr/bin/env bash
# cql2_backends.sh - CQL2 filter and sortby (OGC API - Features Part 3)
# on SQLite and on PostgreSQL/PostGIS (issues 18 and 22): two servers, one
# on each backend, with the same demo and the same items posted to each;
# every filter and sort below, as each party, gets the same answer from
# both, result for result and in the same order (numberMatched, the ids
# of the page), and each bad one the same 400 problem. On PostgreSQL too,
# another party's draft is never found, counted or ordered through a
# filter or a sort. Before issue 18's Part 3 PostgreSQL answered 400.
. "$(dirname "$0")/../lib.sh"
fm_pg_start || { echo "FAIL - no PostgreSQL"; exit 1; }
JSON=(-H 'Content-Type: application/geo+json')

# ---- the same cell on both backends -----------------------------------------
# each server: its URL and tokens (S: SQLite, P: PostgreSQL)
declare -A URL TA TB
TOP=$FM_TMP
PID_S=
trap 'kill "$PID_S" 2>/dev/null; fm_stop; fm_pg_stop' EXIT
for be in S P; do
    if [ $be = S ]; then # its own folder for its output
        FM_TMP=$TOP/sqlite && mkdir -p "$FM_TMP" && FM_DB=$FM_TMP/test.db
    else
        FM_TMP=$TOP && FM_DB=$FM_PG_URL
    fi
    fm_start --demo || exit 1
    URL[$be]=$FM_URL
    TA[$be]=$(fm_token liaison-a)
    TB[$be]=$(fm_token liaison-b)
    [ $be = S ] && { PID_S=$FM_PID; FM_PID=; }
done
# post WHO COLLECTION FEATURE-JSON to both; the id must be the same
post() {
    local who=$1 c=$2 body=$3 be tok pids=()
    for be in S P; do # both at once
        tok=${TB[$be]}; [ "$who" = A ] && tok=${TA[$be]}
        curl -s -o "$FM_TMP/post.$be" -H "Authorization: Bearer $tok" "${JSON[@]}" -d "$body" "${URL[$be]}/collections/$c/items" &
        pids+=($!)
    done
    wait "${pids[@]}"
    local s p
    s=$(jq -r .id "$FM_TMP/post.S") p=$(jq -r .id "$FM_TMP/post.P")
    [ "$s" = "$p" ] && [ "$s" != null ] ||
        echo "$c posted as $s and $p: $body: $(cat "$FM_TMP/post.S" "$FM_TMP/post.P")" >>"$FM_TMP/postfail"
    echo "$s"
}
pt() { printf '{"type":"Point","coordinates":[%s]}' "$1"; }
inc() { # title category severity occurred_at valid_from valid_to lon,lat [status]
    local p="\"title\":$1,\"category\":\"$2\",\"status\":\"${8:-reported}\""
    [ "$3" != - ] && p="$p,\"severity\":$3"
    [ "$4" != - ] && p="$p,\"occurred_at\":\"$4\""
    [ "$5" != - ] && p="$p,\"valid_from\":\"$5\""
    [ "$6" != - ] && p="$p,\"valid_to\":\"$6\""
    printf '{"type":"Feature","geometry":%s,"properties":{%s}}' "$(pt "$7")" "$p"
}
for i in 1 2 3 4 5 6; do
    if [ $i -le 4 ]; then occ=2026-01-0${i}T12:00:00Z; else occ=2026-01-2${i}T12:00:00Z; fi
    post B incidents "$(inc "\"timed $i\"" explosion $(( (i % 5) + 1 )) $occ 2026-01-0${i}T00:00:00Z 2026-02-0${i}T00:00:00Z 35.$i,32.$i)" >/dev/null
done
# titles for byte order, case and LIKE's specials; absent values
post B incidents "$(inc '"Zulu"' shelling 2 - - - 35.15,32.15)" >/dev/null
post B incidents "$(inc '"apple 50% off_x"' shelling - 2026-01-05T00:00:00Z - 2026-01-02T00:00:00Z 35.16,32.16)" >/dev/null
post B incidents "$(inc '"\u00c4pfel *star* a\\b"' shelling 4 - 2026-01-15T00:00:00Z - 35.17,32.17)" >/dev/null
post B incidents "$(inc '"\u00e9clat"' shelling 1 2025-06-01T08:30:00Z - - 35.18,32.18)" >/dev/null
post B incidents "$(inc '"\u00c9CLAT"' shelling 3 - - - 35.19,32.19)" >/dev/null
# A's draft, that B's filters and sorts must never reveal
DRAFT=$(post A incidents "$(inc '"A-hidden-draft"' explosion 5 2026-01-25T00:00:00Z - - 35.5,32.5 draft)")
post B zones '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[35.0,32.0],[35.3,32.0],[35.3,32.3],[35.0,32.3],[35.0,32.0]]]},"properties":{"title":"box","status":"proposed","altitude_floor_m":150,"altitude_ceiling_m":900}}' >/dev/null
post B movements '{"type":"Feature","geometry":{"type":"LineString","coordinates":[[35.1,32.1],[35.4,32.4]]},"properties":{"title":"wide","status":"notified","corridor_width_m":800}}' >/dev/null

check "the same items on both backends, with the same ids" '[ ! -s "$FM_TMP/postfail" ] || { cat "$FM_TMP/postfail"; false; }'

# ---- compare: each filter, sort and bad input on both (cql2_backends.py) ----------
BOXUTM=$(printf "35.05 32.05\n35.25 32.25\n" | gdaltransform -s_srs OGC:CRS84 -t_srs EPSG:32636 -output_xy | paste -sd' ' | tr ' ' ,)
cfg=$(jq -nc --arg su "${URL[S]}" --arg sa "${TA[S]}" --arg sb "${TB[S]}" --arg pu "${URL[P]}" \
    --arg pa "${TA[P]}" --arg pb "${TB[P]}" --argjson d "$DRAFT" --arg box "$BOXUTM" \
    '{S: {url: $su, A: $sa, B: $sb}, P: {url: $pu, A: $pa, B: $pb}, draft: $d, boxutm: $box}')
python3 "$(dirname "$0")/cql2_backends.py" "$cfg" >"$FM_TMP/compare.out" 2>&1
while IFS=$'\t' read -r res name why; do
    case "$res" in
    ok | FAIL) [ -n "$why" ] && echo "   $why"; check "$name" '[ "$res" = ok ]' ;;
    nonempty) ;;
    *) check "cql2_backends.py ran: $res $name" false ;;
    esac
done <"$FM_TMP/compare.out"
check "cql2_backends.py compared every case" 'grep -q "^nonempty" "$FM_TMP/compare.out" || { tail -5 "$FM_TMP/compare.out"; false; }'

# ans BE WHO COLL [curl args]: status, numberMatched and the page's ids, or a problem's detail
ans() {
    local be=$1 who=$2 c=$3 tok; shift 3
    tok=${TB[$be]}; [ "$who" = A ] && tok=${TA[$be]}
    curl -s -G -o "$FM_TMP/ans.$be" -w '%{http_code} ' -H "Authorization: Bearer $tok" \
        "${URL[$be]}/collections/$c/items" "$@" --data-urlencode limit=1000
    jq -c 'if .type == "FeatureCollection" then [.numberMatched, [.features[].id]] else [.detail, .parameter] end' "$FM_TMP/ans.$be"
}

# ---- another party's draft, on PostgreSQL -----------------------------------------
# page BE WHO COLL [curl args]: the ids of the page
page() { ans "$@" | sed 's/^[0-9]* //' | jq -c '.[1]'; }
ALL_B=$(curl -s -H "Authorization: Bearer ${TB[P]}" "${URL[P]}/collections/incidents/items?limit=1" | jq .numberMatched)
check "PostgreSQL: B never finds or counts A's draft through a filter; A does" \
    '[ "$(ans P B incidents --data-urlencode "filter=title = '\''A-hidden-draft'\''")" = "200 [0,[]]" ] &&
     [ "$(ans P B incidents --data-urlencode "filter=id = $DRAFT")" = "200 [0,[]]" ] &&
     [ "$(ans P B incidents --data-urlencode "filter=status = '\''draft'\''")" = "200 [0,[]]" ] &&
     ans P B incidents --data-urlencode "filter=NOT (title = '\''A-hidden-draft'\'')" | grep -q "^200 \[$ALL_B," &&
     ans P B incidents --data-urlencode "filter=severity = 5 OR title LIKE '\''A-%'\''" >/dev/null && ! grep -q A-hidden-draft "$FM_TMP/ans.P" &&
     [ "$(ans P A incidents --data-urlencode "filter=title = '\''A-hidden-draft'\''")" = "200 [1,[$DRAFT]]" ]'
check "PostgreSQL: B's sort puts nothing of A's draft first (its severity 5 is the highest) nor counts it; A's does" \
    '[ "$(page P B incidents --data-urlencode sortby=-severity,-id --data-urlencode limit=1)" != "[$DRAFT]" ] &&
     ans P B incidents --data-urlencode sortby=-severity --data-urlencode limit=1 | grep -q "^200 \[$ALL_B," &&
     [ "$(page P A incidents --data-urlencode sortby=-severity,-id --data-urlencode limit=1)" = "[$DRAFT]" ]'
check "PostgreSQL: a filter applies to an export (CSV), without A's draft" \
    '[ "$(curl -s -G -o "$FM_TMP/b.csv" -w "%{http_code}" -H "Authorization: Bearer ${TB[P]}" "${URL[P]}/collections/incidents/items" --data-urlencode "filter=title LIKE '\''timed %'\'' OR severity = 5" --data-urlencode f=csv)" = 200 ] &&
     [ "$(grep -c "timed " "$FM_TMP/b.csv")" = 6 ] && ! grep -q A-hidden-draft "$FM_TMP/b.csv"'

check "PostgreSQL: an injection attempt is a value: no match, nothing changed" \
    '[ "$(ans P B incidents --data-urlencode "filter=title = '\''x'\'''\'' OR 1=1; DROP TABLE items; --'\''")" = "200 [0,[]]" ] &&
     [ "$(curl -s -H "Authorization: Bearer ${TB[P]}" "${URL[P]}/collections/incidents/items?limit=1" | jq .numberMatched)" = "$ALL_B" ]'

# the SQLite server: stopped as fm_stop does, its status checked
kill "$PID_S" 2>/dev/null
wait "$PID_S" 2>/dev/null
rc=$?
check "the SQLite server stopped cleanly (status $rc)" '[ "$rc" = 0 ]'
finish
