#!/usr/bin/env bash
# The live CoT stream for TAK (issue 22): GET /cot/stream sends the items
# the caller may see as CoT events, then each change as it is written; a
# party's draft reaches its own party only, and the other side's stream
# only once it is proposed; a withdrawal is a forced delete (t-x-d-d); the
# events validate against the CoT Event schema; a ping keeps it alive.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cot_lib.sh"
export FM_STREAM_HEARTBEAT_MS=700
fm_start --demo
cot_setup
curl -sN "${A[@]}" "$FM_URL/cot/stream" >"$FM_TMP/a.cot" 2>/dev/null &
PA=$!
curl -sN "${B[@]}" "$FM_URL/cot/stream" -D "$FM_TMP/b.h" >"$FM_TMP/b.cot" 2>/dev/null &
PB=$!
trap 'kill $PA $PB 2>/dev/null' EXIT

check "on connect, B's stream holds the events of GET /cot for B (the same uids), as XML" \
    'waitfor b.cot "</event>" && sleep 0.3 && grep -qi "^Content-Type: application/xml" "$FM_TMP/b.h" &&
     [ "$(grep "^<event" "$FM_TMP/b.cot" | grep -v "t-x-c-t" | uids)" = "$(curl -s "${B[@]}" "$FM_URL/cot" | uids)" ]'
req POST /collections/zones/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[34.5,31.5],[34.6,31.5],[34.6,31.6],[34.5,31.5]]]},"properties":{"title":"A draft zone","status":"draft"}}' >/dev/null
DRAFT=$(jqb .id)
req POST /collections/incidents/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.2,32.2]},"properties":{"title":"B barrier","category":"other","severity":1,"status":"reported"}}' >/dev/null
BAR=$(jqb .id)
check "a draft reaches its party's stream live, and not the other side's (after a later change of B's)" \
    'waitfor a.cot "uid=\"fusionmap-zones-$DRAFT\"" && waitfor b.cot "uid=\"fusionmap-incidents-$BAR\"" &&
     ! grep -q "fusionmap-zones-$DRAFT\"" "$FM_TMP/b.cot" && ! grep -q "A draft zone" "$FM_TMP/b.cot"'
check "once proposed it reaches B live, in A's colour" \
    '[ "$(req PATCH "/collections/zones/items/$DRAFT" "${A[@]}" "${PATCH[@]}" -H "If-Match: \"1\"" -d "{\"properties\":{\"status\":\"proposed\"}}")" = 200 ] &&
     waitfor b.cot "uid=\"fusionmap-zones-$DRAFT\"" && grep "uid=\"fusionmap-zones-$DRAFT\"" "$FM_TMP/b.cot" | grep -q "A draft zone.*<strokeColor"'
req POST /collections/zones/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[36.5,33.5],[36.6,33.5],[36.6,33.6],[36.5,33.5]]],[[[36.8,33.8],[36.9,33.8],[36.9,33.9],[36.8,33.8]]]]},"properties":{"title":"two parts","status":"proposed"}}' >/dev/null
MULTI=$(jqb .id)
check "a MultiPolygon arrives whole: one shape per part" \
    'waitfor a.cot "uid=\"fusionmap-zones-$MULTI-part2\"" && grep -q "uid=\"fusionmap-zones-$MULTI\"" "$FM_TMP/a.cot"'
check "a withdrawal is a forced delete (t-x-d-d) of every uid, on both sides" \
    '[ "$(req DELETE "/collections/zones/items/$MULTI" "${B[@]}" -H "If-Match: \"1\"")" = 204 ] &&
     waitfor a.cot "<link uid=\"fusionmap-zones-$MULTI-part2\" relation=\"none\" type=\"u-d-f\"/><__forcedelete/>" &&
     waitfor b.cot "<link uid=\"fusionmap-zones-$MULTI\" relation=\"none\" type=\"u-d-f\"/><__forcedelete/>" &&
     grep -q "type=\"t-x-d-d\"" "$FM_TMP/b.cot"'
check "a ping (t-x-c-t) keeps an idle stream alive" \
    'n=$(grep -c "t-x-c-t" "$FM_TMP/b.cot"); for i in $(seq 1 60); do [ "$(grep -c "t-x-c-t" "$FM_TMP/b.cot")" -gt "$n" ] && break; sleep 0.1; done;
     [ "$(grep -c "t-x-c-t" "$FM_TMP/b.cot")" -gt "$n" ]'
check "every event either stream sent is valid against the CoT Event schema (xmllint)" \
    'for w in a b; do { echo "<events>"; grep "^<event.*</event>$" "$FM_TMP/$w.cot"; echo "</events>"; } >"$FM_TMP/$w.xml"; done &&
     [ "$(grep -c "^<event" "$FM_TMP/b.xml")" -ge 5 ] &&
     xmllint --noout --schema "$XSD" "$FM_TMP/a.xml" "$FM_TMP/b.xml" 2>"$FM_TMP/xsd.err" || { head -5 "$FM_TMP/xsd.err"; false; }'
check "B's stream never held A's draft while it was one" \
    '! grep -q "status=\"draft\"" "$FM_TMP/b.cot" && grep -q "status=\"draft\"" "$FM_TMP/a.cot"'
# a draft withdrawn while still a draft: B never hears of it, not even its deletion
req POST /collections/incidents/items "${A[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[34.7,31.7]},"properties":{"title":"A short draft","category":"other","severity":1,"status":"draft"}}' >/dev/null
SHORT=$(jqb .id)
req DELETE "/collections/incidents/items/$SHORT" "${A[@]}" -H 'If-Match: "1"' >/dev/null
req POST /collections/incidents/items "${B[@]}" "${JSON[@]}" \
    -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.3,32.3]},"properties":{"title":"B barrier 2","category":"other","severity":1,"status":"reported"}}' >/dev/null
BAR2=$(jqb .id)
check "a draft withdrawn as a draft: A's stream deletes it, B's never names it" \
    'waitfor a.cot "<link uid=\"fusionmap-incidents-$SHORT\"" && waitfor b.cot "uid=\"fusionmap-incidents-$BAR2\"" &&
     ! grep -q "fusionmap-incidents-$SHORT\"" "$FM_TMP/b.cot"'
check "without credentials the stream is a 401 problem" \
    '[ "$(req GET /cot/stream)" = 401 ] && is_problem 401'
kill $PA $PB 2>/dev/null
wait $PA $PB 2>/dev/null
finish
