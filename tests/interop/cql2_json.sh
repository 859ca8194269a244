#!/usr/bin/env bash
# CQL2 JSON (filter-lang=cql2-json, OGC API - Features Part 3, issue 22):
# each JSON filter selects exactly what the same filter in CQL2 text
# selects, from the real server, as curl sends them; another party's
# draft is never found, counted or exported through one; bad JSON is a
# 400 problem naming where, and changes nothing.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
JSON=(-H 'Content-Type: application/geo+json')

for i in 1 2 3 4 5 6; do
    if [ $i -le 4 ]; then occ=2026-01-0${i}T12:00:00Z; else occ=2026-01-2${i}T12:00:00Z; fi
    req POST /collections/incidents/items "${B[@]}" "${JSON[@]}" \
        -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[35.$i,32.$i]},\"properties\":{\"title\":\"timed $i\",\"category\":\"explosion\",\"severity\":$(( (i % 5) + 1 )),\"occurred_at\":\"$occ\",\"valid_from\":\"2026-01-0${i}T00:00:00Z\",\"valid_to\":\"2026-02-0${i}T00:00:00Z\",\"status\":\"reported\"}}" >/dev/null
done
# A's draft: found by A, never by B, whatever the filter
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.5,32.5]},"properties":{"title":"A-hidden-draft","category":"explosion","severity":5,"occurred_at":"2026-01-25T00:00:00Z","status":"draft"}}' >/dev/null
DRAFT=$(jqb .id)

# items as WHO (A or B) with FILTER in LANG [curl args]: body in $FM_TMP/body
fq() {
    local who=$1 lang=$2 f=$3; shift 3
    local H=("${B[@]}"); [ "$who" = A ] && H=("${A[@]}")
    curl -s -G -o "$FM_TMP/body" -D "$FM_TMP/headers" -w '%{http_code}' "${H[@]}" "$FM_URL/collections/${C:-incidents}/items" \
        --data-urlencode "filter=$f" --data-urlencode "filter-lang=$lang" --data-urlencode limit=10000 "$@"
}
ids() { jq -c '[.features[].id] | sort' "$FM_TMP/body"; }
TOTAL=$(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched)
# pair TEXT JSON: both 200, the same ids, as many as numberMatched says,
# and a real selection (some but not all of B's incidents)
pair() {
    [ "$(fq B cql2-text "$1")" = 200 ] || { echo "text: $(body)"; return 1; }
    local t n; t=$(ids); n=$(jqb .numberMatched)
    [ "$(fq B cql2-json "$2")" = 200 ] || { echo "json: $(body)"; return 1; }
    [ "$(ids)" = "$t" ] && [ "$(jqb .numberMatched)" = "$n" ] && [ "$n" -ge 1 ] && [ "$n" -lt "$TOTAL" ] ||
        { echo "text $t ($n) json $(ids) ($(jqb .numberMatched)) of $TOTAL"; return 1; }
}
P() { printf '{"property":"%s"}' "$1"; }

check "/conformance declares cql2-json; /api offers filter-lang=cql2-json" \
    'curl -s "$FM_URL/conformance" | jq -e "[.conformsTo[]] | index(\"http://www.opengis.net/spec/cql2/1.0/conf/cql2-json\")" >/dev/null &&
     curl -s "$FM_URL/api" | jq -e "[.. | objects | select(.name? == \"filter-lang\") | .schema.enum[]] | index(\"cql2-json\")" >/dev/null'
check "JSON = and <> with and/or/not select what the text does" \
    'pair "severity >= 3 AND NOT (category = '\''explosion'\'' OR severity = 5)" \
          "{\"op\":\"and\",\"args\":[{\"op\":\">=\",\"args\":[$(P severity),3]},{\"op\":\"not\",\"args\":[{\"op\":\"or\",\"args\":[{\"op\":\"=\",\"args\":[$(P category),\"explosion\"]},{\"op\":\"=\",\"args\":[$(P severity),5]}]}]}]}"'
check "JSON like (case-sensitive) selects what the text does" \
    'pair "title LIKE '\''timed %'\''" "{\"op\":\"like\",\"args\":[$(P title),\"timed %\"]}" &&
     [ "$(fq B cql2-json "{\"op\":\"like\",\"args\":[$(P title),\"TIMED %\"]}")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ]'
check "JSON in and between select what the text does" \
    'pair "severity IN (2, 3) OR severity BETWEEN 5 AND 5" \
          "{\"op\":\"or\",\"args\":[{\"op\":\"in\",\"args\":[$(P severity),[2,3]]},{\"op\":\"between\",\"args\":[$(P severity),5,5]}]}"'
check "JSON isNull selects what the text does" \
    'pair "valid_to IS NULL" "{\"op\":\"isNull\",\"args\":[$(P valid_to)]}"'
check "JSON s_intersects with a bbox and a GeoJSON Polygon, s_within, select what the text does" \
    'pair "S_INTERSECTS(geometry, BBOX(35.05, 32.05, 35.25, 32.25))" \
          "{\"op\":\"s_intersects\",\"args\":[$(P geometry),{\"bbox\":[35.05,32.05,35.25,32.25]}]}" &&
     pair "S_WITHIN(geometry, POLYGON((35.05 32.05, 35.45 32.05, 35.45 32.45, 35.05 32.45, 35.05 32.05)))" \
          "{\"op\":\"s_within\",\"args\":[$(P geometry),{\"type\":\"Polygon\",\"coordinates\":[[[35.05,32.05],[35.45,32.05],[35.45,32.45],[35.05,32.45],[35.05,32.05]]]}]}"'
check "JSON timestamps, t_intersects of the validity and t_before select what the text does" \
    'pair "occurred_at >= TIMESTAMP('\''2026-01-10T00:00:00Z'\'') AND category = '\''explosion'\''" \
          "{\"op\":\"and\",\"args\":[{\"op\":\">=\",\"args\":[$(P occurred_at),{\"timestamp\":\"2026-01-10T00:00:00Z\"}]},{\"op\":\"=\",\"args\":[$(P category),\"explosion\"]}]}" &&
     pair "T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('\''2026-02-03T12:00:00Z'\'', '\''..'\''))" \
          "{\"op\":\"t_intersects\",\"args\":[{\"interval\":[$(P valid_from),$(P valid_to)]},{\"interval\":[\"2026-02-03T12:00:00Z\",\"..\"]}]}" &&
     pair "T_BEFORE(occurred_at, DATE('\''2026-01-03'\''))" "{\"op\":\"t_before\",\"args\":[$(P occurred_at),{\"date\":\"2026-01-03\"}]}"'
check "a JSON filter applies to a view and to an export (CSV)" \
    'F="{\"op\":\"like\",\"args\":[$(P title),\"timed %\"]}" &&
     [ "$(C=incidents-points fq B cql2-json "$F")" = 200 ] && [ "$(jqb .numberMatched)" = 6 ] &&
     [ "$(fq B cql2-json "$F" --data-urlencode f=csv)" = 200 ] && [ "$(grep -c "timed " "$FM_TMP/body")" = 6 ]'
# ---- visibility ----------------------------------------------------------------
check "B never finds, counts or exports A's draft through a JSON filter; A finds it" \
    'D="{\"op\":\"=\",\"args\":[$(P title),\"A-hidden-draft\"]}" &&
     [ "$(fq B cql2-json "$D")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ] &&
     [ "$(fq B cql2-json "{\"op\":\"=\",\"args\":[$(P id),$DRAFT]}")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ] &&
     [ "$(fq B cql2-json "{\"op\":\"not\",\"args\":[$D]}")" = 200 ] && [ "$(jqb .numberMatched)" = "$TOTAL" ] && ! jqb .features | grep -q A-hidden-draft &&
     [ "$(fq B cql2-json "{\"op\":\"=\",\"args\":[$(P severity),5]}" --data-urlencode f=csv)" = 200 ] && ! grep -q A-hidden-draft "$FM_TMP/body" &&
     [ "$(C=incidents-points fq B cql2-json "$D")" = 200 ] && [ "$(jqb .numberMatched)" = 0 ] &&
     [ "$(fq A cql2-json "$D")" = 200 ] && [ "$(jqb .numberMatched)" = 1 ]'
# ---- bad input -------------------------------------------------------------------
check "JSON that does not parse is a 400 problem naming the character" \
    '[ "$(fq B cql2-json "{\"op\":\"=\",\"args\":[")" = 400 ] && is_problem 400 && [ "$(jqb .parameter)" = filter ] &&
     jqb .detail | grep -q "at character"'
check "an unknown property is a 400 naming its JSON pointer and the property" \
    '[ "$(fq B cql2-json "{\"op\":\"and\",\"args\":[{\"op\":\"isNull\",\"args\":[$(P title)]},{\"op\":\"=\",\"args\":[$(P colour),\"red\"]}]}")" = 400 ] &&
     is_problem 400 && jqb .detail | grep -q "at /args/1/args/0: colour is not a queryable"'
check "a literal of the wrong type, an unknown op, a text where a filter belongs: 400 each" \
    '[ "$(fq B cql2-json "{\"op\":\"=\",\"args\":[$(P severity),\"high\"]}")" = 400 ] && jqb .detail | grep -q "at /args/1: expected a number" &&
     [ "$(fq B cql2-json "{\"op\":\"s_crosses\",\"args\":[$(P geometry),{\"bbox\":[1,2,3,4]}]}")" = 400 ] && is_problem 400 &&
     [ "$(fq B cql2-json "severity = 1")" = 400 ] && is_problem 400'
check "an injection attempt in a JSON value is a value: no match, nothing changed" \
    'n=$TOTAL && [ "$(fq B cql2-json "{\"op\":\"=\",\"args\":[$(P title),\"x'\'' OR 1=1; DROP TABLE items; --\"]}")" = 200 ] &&
     [ "$(jqb .numberMatched)" = 0 ] && [ "$(curl -s "${B[@]}" "$FM_URL/collections/incidents/items?limit=1" | jq .numberMatched)" = "$n" ]'
finish
