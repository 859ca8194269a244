#!/usr/bin/env bash
# conflicts_asof.sh - the conflicts as of a time (t=, issue 21: the time
# slider asked for them and got 400): each conflict as its latest record
# at or before t told it; a conflict with a draft stays its owner's.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
TA=$(fm_token liaison-a)
TB=$(fm_token liaison-b)
A=(-H "Authorization: Bearer $TA")
B=(-H "Authorization: Bearer $TB")
GJ=(-H 'Content-Type: application/geo+json')
BOX="bbox=9.5,9.5,10.5,10.5"
zone() { # PARTY-ARGS STATUS X0: a restricted zone near 10,10, its id printed
    local st=$2 x=$3
    shift 3
    req POST /collections/zones/items "$@" "${GJ[@]}" -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[$x,10.0],[$(echo "$x + 0.2" | bc),10.0],[$(echo "$x + 0.2" | bc),10.2],[$x,10.2],[$x,10.0]]]},\"properties\":{\"title\":\"asof $st $x\",\"type\":\"restricted\",\"status\":\"$st\"}}" >/dev/null
    jqb .id
}
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
conflicts() { req GET "/collections/conflicts/items?$BOX&$1" "${@:2}"; }

T0=$(now); sleep 1.1
ZA=$(zone A proposed 10.0 "${A[@]}")
ZB=$(zone B proposed 10.1 "${B[@]}")
conflicts "state=open" "${A[@]}" >/dev/null
C=$(jqb '.features[0].id')
sleep 1.1; T1=$(now); sleep 1.1
ETAG=$(curl -s -D - -o /dev/null "${A[@]}" "$FM_URL/collections/zones/items/$ZA" | grep -i '^etag:' | tr -d '\r' | cut -d' ' -f2)
req DELETE "/collections/zones/items/$ZA" "${A[@]}" -H "If-Match: $ETAG" >/dev/null
sleep 1.1; T2=$(now)

check "A's and B's zones overlap: a conflict opened ($C)" '[ -n "$C" ] && [ "$C" != null ]'
check "before it opened (t=$T0): no conflict there" \
    '[ "$(conflicts "t=$T0" "${B[@]}")" = 200 ] && [ "$(jqb ".features | length")" = 0 ] && [ "$(jqb .numberMatched)" = 0 ]'
check "while it held (t=$T1): the conflict, open, as then" \
    '[ "$(conflicts "t=$T1" "${B[@]}")" = 200 ] && [ "$(jqb ".features[0].id")" = "$C" ] &&
     [ "$(jqb ".features[0].properties.state")" = open ] && [ "$(jqb .numberMatched)" = 1 ]'
check "after A withdrew its zone (t=$T2): resolved; state=open finds none" \
    '[ "$(conflicts "t=$T2" "${B[@]}")" = 200 ] && [ "$(jqb ".features[0].properties.state")" = resolved ] &&
     [ "$(conflicts "t=$T2&state=open" "${B[@]}")" = 200 ] && [ "$(jqb ".features | length")" = 0 ]'
check "and now, without t, the same as t=$T2" \
    '[ "$(conflicts "" "${B[@]}")" = 200 ] && [ "$(jqb ".features[0].properties.state")" = resolved ]'
check "a view of one geometry type takes t too" \
    '[ "$(req GET "/collections/conflicts-areas/items?$BOX&t=$T1" "${B[@]}")" = 200 ] && [ "$(jqb ".features[0].id")" = "$C" ]'

# A's draft over B's zone: a conflict only A sees, then and later
ZD=$(zone A draft 10.15 "${A[@]}")
sleep 1.1; T3=$(now)
check "A sees the conflict with its draft as of t=$T3" \
    '[ "$(conflicts "t=$T3&state=open" "${A[@]}")" = 200 ] && [ "$(jqb ".features | length")" = 1 ]'
check "B does not, not even its count" \
    '[ "$(conflicts "t=$T3&state=open" "${B[@]}")" = 200 ] && [ "$(jqb ".features | length")" = 0 ] && [ "$(jqb .numberMatched)" = 0 ]'
check "a t that is no time is a 400 problem naming t" \
    '[ "$(conflicts "t=yesterday" "${B[@]}")" = 400 ] && is_problem 400 && jqb .detail | grep -q "t (as of)"'
finish
