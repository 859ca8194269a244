#!/usr/bin/env bash
# The supervisor's rulings on disputes (issue 19): POST .../ruling with
# uphold (the item stays disputed, its owner told through the log) or
# overrule (the item stands: the status the workflow gives it), a written
# reason; each ruling a record in the log, listed with the item's answers,
# and proven by `fusionmap events verify`.
. "$(dirname "$0")/../lib.sh"
fm_start --demo
declare -A AUTH
AUTH[A]="Authorization: Bearer $(fm_token liaison-a)"
AUTH[B]="Authorization: Bearer $(fm_token liaison-b)"
AUTH[SUP]="Authorization: Bearer $(fm_token supervisor)"
AUTH[VIEW]="Authorization: Bearer $(fm_token viewer)"
J='Content-Type: application/json'
GJ='Content-Type: application/geo+json'
mk() { # WHO COLLECTION GEOMETRY-JSON PROPS-JSON: the id
    curl -s -H "${AUTH[$1]}" -H "$GJ" "$FM_URL/collections/$2/items" \
        -d '{"type":"Feature","geometry":'"$3"',"properties":'"$4"'}' | jq .id
}
POLY='{"type":"Polygon","coordinates":[[[35.6,32.6],[35.61,32.6],[35.61,32.61],[35.6,32.6]]]}'
LINE='{"type":"LineString","coordinates":[[35.5,32.5],[35.52,32.52]]}'
PT='{"type":"Point","coordinates":[35.55,32.55]}'
version() { req GET "/collections/$1/items/$2" -H "${AUTH[A]}" >/dev/null; jqb .properties.version; }
status() { req GET "/collections/$1/items/$2" -H "${AUTH[A]}" >/dev/null; jqb .properties.status; }
dispute() { # WHO COLL ID REASON
    req POST "/collections/$2/items/$3/ack" -H "${AUTH[$1]}" -H "$J" -H "If-Match: \"$(version "$2" "$3")\"" \
        --data-binary "$(jq -cn --arg r "$4" '{decision:"dispute",comment:$r}')"
}
rule() { # WHO COLL ID BODY [If-Match]
    req POST "/collections/$2/items/$3/ruling" -H "${AUTH[$1]}" -H "$J" ${5:+-H "If-Match: \"$5\""} --data-binary "$4"
}

M=$(mk A movements "$LINE" '{"title":"Medical flight","type":"air","corridor_width_m":500,"status":"notified"}')
REASON='Route crosses our closed airspace; re-route south of 32.80N'
check "B disputes A's flight with a reason" '[ "$(dispute B movements $M "$REASON")" = 200 ] && [ "$(jqb .properties.status)" = disputed ]'
V=$(version movements $M)

check "a liaison (A, B) and the viewer may not rule (403)" \
    'for w in A B VIEW; do [ "$(rule $w movements $M "{\"decision\":\"uphold\",\"reason\":\"x\"}")" = 403 ] && is_problem 403 || exit 1; done'
check "a decision that is neither uphold nor overrule: 400 naming /decision" \
    '[ "$(rule SUP movements $M "{\"decision\":\"maybe\",\"reason\":\"x\"}")" = 400 ] && [ "$(jqb .pointer)" = /decision ]'
check "no reason, a blank reason, a control character: 400 naming /reason" \
    '[ "$(rule SUP movements $M "{\"decision\":\"uphold\"}")" = 400 ] && [ "$(jqb .pointer)" = /reason ] &&
     [ "$(rule SUP movements $M "{\"decision\":\"uphold\",\"reason\":\"  \"}")" = 400 ] &&
     [ "$(rule SUP movements $M "{\"decision\":\"uphold\",\"reason\":\"a\\u0007\"}")" = 400 ]'
check "a reason of 4,001 characters: 413" \
    '[ "$(rule SUP movements $M "{\"decision\":\"uphold\",\"reason\":\"$(printf "x%.0s" $(seq 4001))\"}")" = 413 ] && is_problem 413'
check "an unknown member: 400" '[ "$(rule SUP movements $M "{\"decision\":\"uphold\",\"reason\":\"x\",\"status\":\"active\"}")" = 400 ]'
check "a stale If-Match: 412" '[ "$(rule SUP movements $M "{\"decision\":\"uphold\",\"reason\":\"x\"}" 99)" = 412 ]'
check "nothing was written by the refusals: no ruling yet" \
    '[ "$(req GET /collections/movements/items/$M/acks -H "${AUTH[A]}")" = 200 ] && [ "$(jqb ".rulings | length")" = 0 ]'

UPHOLD='The route must change: the airspace was closed at 14:00'
check "the supervisor upholds B's dispute (200): the flight stays disputed, same version" \
    '[ "$(rule SUP movements $M "$(jq -cn --arg r "$UPHOLD" "{decision:\"uphold\",reason:\$r}")" $V)" = 200 ] &&
     [ "$(jqb .ruling.decision)" = uphold ] && [ "$(jqb .ruling.status)" = disputed ] &&
     [ "$(status movements $M)" = disputed ] && [ "$(version movements $M)" = "$V" ]'
check "the ruling is with the item's answers, with its reason" \
    '[ "$(req GET /collections/movements/items/$M/acks -H "${AUTH[A]}")" = 200 ] &&
     [ "$(jqb ".rulings[0].reason")" = "$UPHOLD" ] && [ "$(jqb ".rulings[0].by")" = supervisor ] &&
     [ "$(jqb ".rulings[0].version")" = "$V" ] && [ "$(jqb ".acks[-1].comment")" = "$REASON" ]'
check "A, the owner, is told: the ruling is a record on A's log" \
    '[ "$(req GET "/events/log?limit=10000" -H "${AUTH[A]}")" = 200 ] &&
     [ "$(jqb "[.events[] | select(.action == \"ruling\" and .item == $M)][0].after.reason")" = "$UPHOLD" ]'
check "the item carries its latest dispute reason and ruling (A and B alike)" \
    'for w in A B; do [ "$(req GET /collections/movements/items/$M -H "${AUTH[$w]}")" = 200 ] &&
        [ "$(jqb .properties.dispute.reason)" = "$REASON" ] && [ "$(jqb .properties.dispute.party)" = B ] &&
        [ "$(jqb .properties.ruling.decision)" = uphold ] && [ "$(jqb .properties.ruling.reason)" = "$UPHOLD" ] || exit 1; done'
check "and answers 200, not 304, to its ETag: the ruling came without a new version" \
    '[ "$(req GET /collections/movements/items/$M -H "${AUTH[A]}" -H "If-None-Match: \"$V\"")" = 200 ]'
check "the list's Features (the stored versions) carry neither" \
    '[ "$(req GET "/collections/movements/items?limit=1000" -H "${AUTH[A]}")" = 200 ] &&
     [ "$(jqb "[.features[] | select(.id == $M)][0].properties | has(\"dispute\") or has(\"ruling\")")" = false ]'
check "a version is ruled on once: a second ruling is 409" \
    '[ "$(rule SUP movements $M "{\"decision\":\"overrule\",\"reason\":\"changed my mind\"}")" = 409 ] && is_problem 409'

# overrule, per collection: the status the workflow gives the item
Z=$(mk A zones "$POLY" '{"title":"Exercise area","type":"restricted","status":"proposed"}')
check "B disputes A's zone; the supervisor overrules: the zone is active (as if acknowledged)" \
    '[ "$(dispute B zones $Z "too wide")" = 200 ] && VZ=$(version zones $Z) &&
     [ "$(rule SUP zones $Z "{\"decision\":\"overrule\",\"reason\":\"the area was agreed on Monday\"}")" = 200 ] &&
     [ "$(jqb .item.properties.status)" = active ] && [ "$(jqb .ruling.status)" = active ] &&
     [ "$(status zones $Z)" = active ] && [ "$(version zones $Z)" = $((VZ + 1)) ]'
check "the zone's history shows the supervisor's step after the ruling" \
    '[ "$(req GET /collections/zones/items/$Z/history -H "${AUTH[B]}")" = 200 ] &&
     [ "$(jqb ".versions[-1].by")" = supervisor ] && [ "$(jqb ".versions[-1].feature.properties.status")" = active ]'
check "a client cannot store a dispute or a ruling of its own: they are dropped" \
    '[ "$(req PATCH /collections/zones/items/$Z -H "${AUTH[A]}" -H "Content-Type: application/merge-patch+json" -H "If-Match: \"$(version zones $Z)\"" \
        --data-binary "{\"properties\":{\"description\":\"x\",\"dispute\":{\"reason\":\"forged\"},\"ruling\":{\"decision\":\"overrule\"}}}")" = 200 ] &&
     [ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM item_versions WHERE feature LIKE '"'%forged%'"'")" = 0 ] &&
     [ "$(req GET /collections/zones/items/$Z -H "${AUTH[B]}")" = 200 ] && [ "$(jqb .properties.dispute.reason)" = "too wide" ]'
I=$(mk A incidents "$PT" '{"title":"Shots reported","category":"small_arms","severity":3,"status":"reported"}')
check "an incident overruled: under review (the supervisor's step from disputed that keeps it open)" \
    '[ "$(dispute B incidents $I "not ours")" = 200 ] &&
     [ "$(rule SUP incidents $I "{\"decision\":\"overrule\",\"reason\":\"confirmed by two sources\"}")" = 200 ] &&
     [ "$(status incidents $I)" = under_review ]'
M2=$(mk A movements "$LINE" '{"title":"Convoy","type":"ground","corridor_width_m":200,"status":"notified"}')
check "a movement overruled: notified again (the supervisor's step from disputed)" \
    '[ "$(dispute B movements $M2 "wrong day")" = 200 ] &&
     [ "$(rule SUP movements $M2 "{\"decision\":\"overrule\",\"reason\":\"the day is right\"}")" = 200 ] &&
     [ "$(status movements $M2)" = notified ]'
check "no ruling on an item not disputed (409)" \
    '[ "$(rule SUP zones $Z "{\"decision\":\"uphold\",\"reason\":\"x\"}")" = 409 ] && is_problem 409'
D=$(mk A zones "$POLY" '{"title":"secret-draft","status":"draft"}')
check "A's draft: the supervisor gets the 404 of a missing item" \
    '[ "$(rule SUP zones $D "{\"decision\":\"uphold\",\"reason\":\"x\"}")" = 404 ] && a=$(jqb .detail | sed "s/$D/N/") &&
     [ "$(rule SUP zones 999999 "{\"decision\":\"uphold\",\"reason\":\"x\"}")" = 404 ] && [ "$(jqb .detail | sed "s/999999/N/")" = "$a" ]'

check "fusionmap events verify passes after the rulings" '"$FUSIONMAP" events verify --db "$FM_DB" >/dev/null'
sqlite3 "$FM_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cp "$FM_DB" "$FM_TMP/t.db"
python3 - "$FM_TMP/t.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("DROP TRIGGER rulings_no_update")
c.execute("UPDATE rulings SET decision = 'overrule', reason = 'B was right' WHERE id = 1")
c.commit()
PY
check "a ruling altered in SQLite: verify fails, naming it" \
    'out=$("$FUSIONMAP" events verify --db "$FM_TMP/t.db"); rc=$?; echo "# $out"; [ $rc -ne 0 ] && [[ $out =~ "rulings row 1: column" ]]'
check "the append-only trigger refuses the edit in place" \
    '! sqlite3 "$FM_DB" "UPDATE rulings SET reason = '"'x'"'" 2>/dev/null'
finish
