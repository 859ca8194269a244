#!/usr/bin/env bash
# Lead times and deadlines (issue 19): the admin's rules (GET/PUT /rules,
# `fusionmap rules set`, each a record), late_notice on an item notified
# with less notice than its rule, answer_due, and an unanswered item that
# becomes overdue with the injected clock (POST /rules/clock, only under
# FUSIONMAP_TEST_CLOCK=1), reaches the supervisor's inbox and the stream's
# log, and is cleared by an answer or a withdrawal; a draft never does.
. "$(dirname "$0")/../lib.sh"
export FUSIONMAP_TEST_CLOCK=1
FM_DEADLINE_CHECK_S=1 fm_start --demo
declare -A AUTH
for w in liaison-a liaison-b supervisor viewer admin; do
    AUTH[$w]="Authorization: Bearer $(fm_token $w)"
done
J='Content-Type: application/json'
GJ='Content-Type: application/geo+json'
LINE='{"type":"LineString","coordinates":[[35.5,32.5],[35.52,32.52]]}'
PT='{"type":"Point","coordinates":[35.55,32.55]}'
at() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }
mk() { # WHO COLLECTION GEOMETRY PROPS: status code, Feature in body
    req POST "/collections/$2/items" -H "${AUTH[$1]}" -H "$GJ" \
        --data-binary '{"type":"Feature","geometry":'"$3"',"properties":'"$4"'}'
}
put_rules() { req PUT /rules -H "${AUTH[$1]}" -H "$J" --data-binary "$2"; }
rules() { curl -s -H "${AUTH[liaison-a]}" "$FM_URL/rules"; }
inbox() { req GET /inbox -H "${AUTH[$1]}" >/dev/null; }
advance() { req POST /rules/clock -H "${AUTH[admin]}" -H "$J" --data-binary "{\"advance_s\":$1}"; }

# ---- the demo: notified in good time, but for one example ----------------------
demo_marks() { # every demo item the supervisor sees: [title, late_notice] lines
    for c in zones incidents movements; do
        curl -s -H "${AUTH[supervisor]}" "$FM_URL/collections/$c/items?limit=100" |
            jq -c '.features[] | [.properties.title, (.properties.late_notice // false)]'
    done
}
check "the demo: only the medical evacuation flight (urgent, with its reason) shows late notice" \
    '[ "$(demo_marks | grep -c true)" = 1 ] && demo_marks | grep -q "\"Medical evacuation flight\",true" &&
     [ "$(demo_marks | wc -l)" -ge 7 ] &&
     curl -s -H "${AUTH[liaison-b]}" "$FM_URL/collections/movements/items?limit=100" |
       jq -e "[.features[] | select(.properties.title == \"Medical evacuation flight\")][0].properties | .urgent == true and (.urgent_reason | length > 0)" >/dev/null'
check "the demo's others were notified more than their notice before they start" \
    '(for c in zones movements; do curl -s -H "${AUTH[supervisor]}" "$FM_URL/collections/$c/items?limit=100" |
       jq -e "[.features[] | select(.properties.status != \"draft\" and .properties.title != \"Medical evacuation flight\") |
               ((.properties.valid_from | fromdate) - (.properties.notified_at | fromdate)) >= .properties.notice_required_s] | (length >= 1) and all" >/dev/null || exit 1; done)'

# ---- the rules --------------------------------------------------------------
check "GET /rules: the defaults (a movement: 48 h notice, 24 h urgent, 12 h to answer)" \
    '[ "$(req GET /rules -H "${AUTH[viewer]}")" = 200 ] &&
     [ "$(jqb "[.rules[] | select(.collection == \"movements\" and .type == \"*\")][0] | [.notice_s, .urgent_notice_s, .answer_s, .source] | join(\",\")")" = "172800,86400,43200,default" ]'
BEFORE=$(rules)
check "a liaison, the supervisor, the viewer may not set rules (403 problem)" \
    '(for w in liaison-a supervisor viewer; do [ "$(put_rules $w "{\"collection\":\"movements\",\"notice_s\":1}")" = 403 ] && is_problem 403 || exit 1; done)'
check "an unknown collection: 400 naming /collection" \
    '[ "$(put_rules admin "{\"collection\":\"boats\",\"notice_s\":1}")" = 400 ] && is_problem 400 && [ "$(jqb .pointer)" = /collection ]'
check "a negative, a fractional, a too long notice: 400 naming /notice_s" \
    '(for v in -1 1.5 "\"48h\"" 99999999; do [ "$(put_rules admin "{\"collection\":\"movements\",\"notice_s\":$v}")" = 400 ] && [ "$(jqb .pointer)" = /notice_s ] || exit 1; done)'
check "urgent notice above the notice: 400 naming /urgent_notice_s" \
    '[ "$(put_rules admin "{\"collection\":\"movements\",\"notice_s\":60,\"urgent_notice_s\":120}")" = 400 ] && [ "$(jqb .pointer)" = /urgent_notice_s ]'
check "a movement type outside the vocabulary, an unknown field: 400" \
    '[ "$(put_rules admin "{\"collection\":\"movements\",\"type\":\"submarine\"}")" = 400 ] && [ "$(jqb .pointer)" = /type ] &&
     [ "$(put_rules admin "{\"collection\":\"movements\",\"speed\":3}")" = 400 ] && [ "$(jqb .pointer)" = /speed ]'
check "an array whose second rule is bad: 400 naming /1/..., and the first is not kept" \
    '[ "$(put_rules admin "[{\"collection\":\"zones\",\"notice_s\":5,\"urgent_notice_s\":1},{\"collection\":\"zones\",\"answer_s\":-5}]")" = 400 ] &&
     [ "$(jqb .pointer)" = /1/answer_s ]'
check "not JSON, an empty array: 400" \
    '[ "$(put_rules admin "{nope")" = 400 ] && [ "$(put_rules admin "[]")" = 400 ] && is_problem 400'
check "none of the refusals changed the rules" '[ "$(rules)" = "$BEFORE" ]'
check "nor wrote a record" \
    '[ "$(req GET "/events/log?limit=10000" -H "${AUTH[admin]}")" = 200 ] && [ "$(jqb "[.events[] | select(.action == \"rules_set\")] | length")" = 0 ]'

# short rules, in seconds: notice 1 h (urgent 10 min), 60 s to answer
check "the admin sets the movements' rule (200, the rules in force after)" \
    '[ "$(put_rules admin "{\"collection\":\"movements\",\"type\":\"*\",\"notice_s\":3600,\"urgent_notice_s\":600,\"answer_s\":60,\"answer_before_s\":30}")" = 200 ] &&
     [ "$(jqb "[.rules[] | select(.collection == \"movements\" and .type == \"*\")][0] | [.notice_s, .answer_s, .source, .set_by] | join(\",\")")" = "3600,60,set,admin" ]'
check "the change is a record in the log (rules_set: the rule before, the default, and after), seen by A" \
    '[ "$(req GET "/events/log?limit=10000" -H "${AUTH[liaison-a]}")" = 200 ] &&
     [ "$(jqb "[.events[] | select(.action == \"rules_set\")][0] | [.after.notice_s, .before.notice_s, .user] | @json")" = "[3600,172800,\"admin\"]" ]'
check "fusionmap rules set (the command line) sets the zones' rule, a record by cli" \
    '"$FUSIONMAP" rules set --db "$FM_DB" --collection zones --notice 2h --urgent-notice 30m --answer 30m >/dev/null &&
     [ "$(rules | jq -r "[.rules[] | select(.collection == \"zones\" and .type == \"*\")][0] | [.notice_s, .answer_s, .set_by] | join(\",\")")" = "7200,1800,cli" ]'
check "fusionmap rules set refuses a bad duration (exit 2) and changes nothing" \
    'B2=$(rules); ! "$FUSIONMAP" rules set --db "$FM_DB" --collection zones --notice 2x 2>/dev/null && [ "$(rules)" = "$B2" ]'
check "fusionmap rules show prints the rules" \
    '"$FUSIONMAP" rules show --db "$FM_DB" | jq -e "map(select(.collection == \"zones\"))[0].notice_s == 7200" >/dev/null'

# ---- late notice --------------------------------------------------------------
check "a movement notified 10 min before it starts (rule: 1 h) is accepted and marked late_notice" \
    '[ "$(mk liaison-a movements "$LINE" "{\"title\":\"Late convoy\",\"type\":\"ground\",\"status\":\"notified\",\"valid_from\":\"$(at "+10 min")\"}")" = 201 ] &&
     [ "$(jqb .properties.late_notice)" = true ] && [ "$(jqb .properties.notice_required_s)" = 3600 ] && [ -n "$(jqb .properties.answer_due)" ]'
LATE=$(jqb .id)
check "one notified 3 h ahead is not late" \
    '[ "$(mk liaison-a movements "$LINE" "{\"title\":\"Planned convoy\",\"type\":\"ground\",\"status\":\"notified\",\"valid_from\":\"$(at "+3 hours")\"}")" = 201 ] &&
     [ "$(jqb .properties.late_notice)" = false ]'
ONTIME=$(jqb .id)
check "urgent with a reason, 20 min ahead (urgent rule: 10 min): not late" \
    '[ "$(mk liaison-a movements "$LINE" "{\"title\":\"Casualty evacuation\",\"type\":\"air\",\"status\":\"notified\",\"urgent\":true,\"urgent_reason\":\"casualty\",\"valid_from\":\"$(at "+20 min")\"}")" = 201 ] &&
     [ "$(jqb .properties.late_notice)" = false ] && [ "$(jqb .properties.notice_required_s)" = 600 ]'
URGENT=$(jqb .id)
N0=$(curl -s -H "${AUTH[liaison-a]}" "$FM_URL/collections/movements/items?limit=1000" | jq .numberMatched)
check "urgent without a reason: 400 naming /properties/urgent_reason, nothing created" \
    '[ "$(mk liaison-a movements "$LINE" "{\"title\":\"x\",\"status\":\"notified\",\"urgent\":true,\"valid_from\":\"$(at "+20 min")\"}")" = 400 ] &&
     is_problem 400 && [ "$(jqb .pointer)" = /properties/urgent_reason ] &&
     [ "$(curl -s -H "${AUTH[liaison-a]}" "$FM_URL/collections/movements/items?limit=1000" | jq .numberMatched)" = "$N0" ]'
check "a client cannot clear late_notice: the server owns it" \
    '[ "$(mk liaison-a movements "$LINE" "{\"title\":\"Sneaky\",\"status\":\"notified\",\"late_notice\":false,\"answer_due\":\"2099-01-01T00:00:00Z\",\"valid_from\":\"$(at "+5 min")\"}")" = 201 ] &&
     [ "$(jqb .properties.late_notice)" = true ] && [ "$(jqb .properties.answer_due)" != 2099-01-01T00:00:00Z ]'
SNEAKY=$(jqb .id)
check "B sees late_notice on the item, in the list and in the CSV export" \
    '[ "$(req GET /collections/movements/items/$LATE -H "${AUTH[liaison-b]}")" = 200 ] && [ "$(jqb .properties.late_notice)" = true ] &&
     [ "$(req GET "/collections/movements/items?limit=1000" -H "${AUTH[liaison-b]}")" = 200 ] &&
     [ "$(jqb "[.features[] | select(.id == $LATE)][0].properties.late_notice")" = true ] &&
     curl -s -H "${AUTH[liaison-b]}" "$FM_URL/collections/movements/items?f=csv&limit=1000" | head -n1 | grep -q late_notice'
check "a draft carries no marks (no late_notice, no answer_due)" \
    '[ "$(mk liaison-a movements "$LINE" "{\"title\":\"Secret draft move\",\"status\":\"draft\",\"valid_from\":\"$(at "+5 min")\"}")" = 201 ] &&
     [ "$(jqb ".properties | has(\"late_notice\") or has(\"answer_due\")")" = false ]'
DRAFT=$(jqb .id)
req POST "/collections/movements/items/$DRAFT/messages" -H "${AUTH[liaison-a]}" -H "$J" --data-binary '{"text":"draft note"}' >/dev/null

check "B's inbox: the late convoy is to answer, with its title, party and answer_due" \
    'inbox liaison-b && [ "$(jqb "[.to_answer[] | select(.id == $LATE)][0] | [.title, .party, .late_notice] | @json")" = "[\"Late convoy\",\"A\",true]" ] &&
     [ "$(jqb .counts.to_answer)" = "$(jqb ".to_answer | length")" ]'

# ---- overdue, with the injected clock ------------------------------------------
check "the clock moves only for the admin (403 for A)" \
    '[ "$(req POST /rules/clock -H "${AUTH[liaison-a]}" -H "$J" --data-binary "{\"advance_s\":60}")" = 403 ] && is_problem 403'
check "a bad advance: 400 naming /advance_s" \
    '[ "$(advance -5)" = 400 ] && [ "$(jqb .pointer)" = /advance_s ]'
check "before the clock moves nothing of ours is overdue" \
    'inbox supervisor && [ "$(jqb "[.overdue[] | select(.collection == \"movements\" and (.id == $LATE or .id == $ONTIME))] | length")" = 0 ]'
check "the admin moves the clock 2 min ahead: the unanswered movements become overdue" \
    '[ "$(advance 120)" = 200 ] && [ "$(jqb .offset_s)" = 120 ] && [ "$(jqb .overdue_marked)" -ge 3 ]'
secs() { date -u -d "$1" +%s; }
check "overdue_at is stamped on the deadlines' clock (as answer_due is compared): not before answer_due, within a minute of the clock's now (not 2 min behind it); the inbox and the record say the same" \
    '[ "$(advance 0)" = 200 ] && N=$(jqb .now) &&
     [ "$(req GET /collections/movements/items/$LATE -H "${AUTH[liaison-b]}")" = 200 ] && D=$(jqb .properties.answer_due) && O=$(jqb .properties.overdue_at) &&
     echo "# clock now $N, answer_due $D, overdue_at $O" && [ "$(secs "$O")" -ge "$(secs "$D")" ] &&
     [ $(( $(secs "$N") - $(secs "$O") )) -ge 0 ] && [ $(( $(secs "$N") - $(secs "$O") )) -lt 60 ] &&
     inbox supervisor && [ "$(jqb "[.overdue[] | select(.id == $LATE)][0].overdue_at")" = "$O" ] &&
     [ "$(req GET "/events/log?limit=10000" -H "${AUTH[liaison-b]}")" = 200 ] &&
     [ "$(jqb "[.events[] | select(.action == \"overdue\" and .item == $LATE)][0].after.overdue_at")" = "$O" ]'
check "the supervisor's inbox lists them overdue, in names (title, party)" \
    'inbox supervisor && [ "$(jqb "[.overdue[] | select(.id == $LATE)][0] | [.title, .party] | @json")" = "[\"Late convoy\",\"A\"]" ] &&
     [ "$(jqb "[.overdue[] | select(.id == $ONTIME or .id == $URGENT)] | length")" = 2 ] && [ "$(jqb .counts.overdue)" = "$(jqb ".overdue | length")" ]'
check "A (waiting) and B (owing) see it overdue too" \
    'inbox liaison-a && [ "$(jqb "[.overdue[] | select(.id == $LATE)] | length")" = 1 ] &&
     inbox liaison-b && [ "$(jqb "[.overdue[] | select(.id == $LATE)][0].waiting_for")" = you ]'
check "the item says overdue on GET (A and B)" \
    '(for w in liaison-a liaison-b; do [ "$(req GET /collections/movements/items/$LATE -H "${AUTH[$w]}")" = 200 ] && [ "$(jqb .properties.overdue)" = true ] || exit 1; done)'
check "the lists say it too (the wall and the side lists read them), with its time; the views as well" \
    '(for w in liaison-a liaison-b supervisor; do [ "$(req GET "/collections/movements/items?limit=1000" -H "${AUTH[$w]}")" = 200 ] &&
       [ "$(jqb "[.features[] | select(.id == $LATE)][0].properties | [.overdue, (.overdue_at | test(\"^20\"))] | @json")" = "[true,true]" ] || exit 1; done) &&
     [ "$(req GET "/collections/movements/items?limit=1000&properties=title,overdue" -H "${AUTH[liaison-b]}")" = 200 ] &&
     [ "$(jqb "[.features[] | select(.id == $LATE)][0].properties | keys | @json")" = "[\"overdue\",\"title\"]" ]'
check "a list as of a past time (t=) marks nothing overdue" \
    '[ "$(req GET "/collections/movements/items?limit=1000&t=$(date -u -d "+1 second" +%Y-%m-%dT%H:%M:%SZ)" -H "${AUTH[liaison-b]}")" = 200 ] &&
     [ "$(jqb "[.features[] | select(.id == $LATE)] | length")" = 1 ] &&
     [ "$(jqb "[.features[] | select(.properties.overdue)] | length")" = 0 ]'
check "overdue is a record on the stream's log, seen by B" \
    '[ "$(req GET "/events/log?limit=10000" -H "${AUTH[liaison-b]}")" = 200 ] &&
     [ "$(jqb "[.events[] | select(.action == \"overdue\" and .item == $LATE)][0].after.title")" = "Late convoy" ]'
check "the draft is overdue to no one, and B never sees it: not in its log nor its inbox" \
    '[ "$(jqb "[.events[] | select(.item == $DRAFT)] | length")" = 0 ] &&
     inbox liaison-b && ! jqb . | grep -q "Secret draft move" && [ "$(jqb "[.. | objects | select(.id? == $DRAFT)] | length")" = 0 ] &&
     [ "$(jqb "[.messages[] | select(.id == $DRAFT)] | length")" = 0 ] &&
     inbox supervisor && ! jqb . | grep -q "Secret draft move"'
check "nor is the draft overdue to its own party (never notified)" \
    'inbox liaison-a && [ "$(jqb "[.overdue[] | select(.id == $DRAFT)] | length")" = 0 ]'
check "B's answer clears it: acknowledged, off every overdue list" \
    'V=$(curl -s -H "${AUTH[liaison-b]}" "$FM_URL/collections/movements/items/$LATE" | jq .properties.version) &&
     [ "$(req POST /collections/movements/items/$LATE/ack -H "${AUTH[liaison-b]}" -H "$J" -H "If-Match: \"$V\"" --data-binary "{\"decision\":\"ack\"}")" = 200 ] &&
     inbox supervisor && [ "$(jqb "[.overdue[] | select(.id == $LATE)] | length")" = 0 ] &&
     inbox liaison-b && [ "$(jqb "[.overdue[] | select(.id == $LATE)] | length")" = 0 ] && [ "$(jqb "[.to_answer[] | select(.id == $LATE)] | length")" = 0 ]'
check "the answered item no longer says overdue, and keeps its late_notice" \
    '[ "$(req GET /collections/movements/items/$LATE -H "${AUTH[liaison-a]}")" = 200 ] && [ "$(jqb ".properties | has(\"overdue\")")" = false ] &&
     [ "$(jqb .properties.late_notice)" = true ] && [ "$(jqb ".properties | has(\"answer_due\")")" = false ] &&
     [ "$(req GET "/collections/movements/items?limit=1000" -H "${AUTH[liaison-a]}")" = 200 ] &&
     [ "$(jqb "[.features[] | select(.id == $LATE)][0].properties | has(\"overdue\")")" = false ]'
check "a withdrawal clears it too" \
    'V=$(curl -s -H "${AUTH[liaison-a]}" "$FM_URL/collections/movements/items/$SNEAKY" | jq .properties.version) &&
     [ "$(req DELETE /collections/movements/items/$SNEAKY -H "${AUTH[liaison-a]}" -H "If-Match: \"$V\"")" = 204 ] &&
     inbox supervisor && [ "$(jqb "[.overdue[] | select(.id == $SNEAKY)] | length")" = 0 ]'
check "the check runs on every write: a new movement, due in 60 s by the real clock, is overdue at once on a clock 120 s ahead" \
    '[ "$(mk liaison-b movements "$LINE" "{\"title\":\"Night patrol\",\"status\":\"notified\",\"valid_from\":\"$(at "+3 hours")\"}")" = 201 ] &&
     NEW=$(jqb .id) && inbox supervisor && [ "$(jqb "[.overdue[] | select(.id == $NEW)] | length")" = 1 ]'

# the timer: an incident rule of 2 s to answer, nothing written after it
check "the timer marks an unanswered incident overdue by itself (polled, at most 20 s)" \
    '[ "$(put_rules admin "{\"collection\":\"incidents\",\"answer_s\":2}")" = 200 ] &&
     [ "$(mk liaison-a incidents "$PT" "{\"title\":\"Shots heard\",\"category\":\"other\",\"status\":\"reported\",\"valid_from\":\"$(at "-130 seconds")\"}")" = 201 ] &&
     INC=$(jqb .id) && ok=0 && for i in $(seq 1 100); do
        inbox supervisor; [ "$(jqb "[.overdue[] | select(.collection == \"incidents\" and .id == $INC)] | length")" = 1 ] && { ok=1; break; }; sleep 0.2; done && [ $ok = 1 ]'

# ---- lists with many overdue items: each page marks its own, right -----------------
# 130 of B's movements, overdue at once (due in 60 s, the clock 120 s ahead);
# A answers two, B withdraws one, B keeps two drafts; paged by 25
for i in $(seq 1 130); do
    mk liaison-b movements "$LINE" "{\"title\":\"Bulk $i\",\"status\":\"notified\",\"valid_from\":\"$(at "+3 hours")\"}" >/dev/null
    BULK[$i]=$(jqb .id)
done
for i in 1 2; do mk liaison-b movements "$LINE" "{\"title\":\"Bulk draft $i\",\"status\":\"draft\",\"valid_from\":\"$(at "+3 hours")\"}" >/dev/null; done
for i in 7 64; do
    req POST "/collections/movements/items/${BULK[$i]}/ack" -H "${AUTH[liaison-a]}" -H "$J" -H 'If-Match: "1"' --data-binary '{"decision":"ack"}' >/dev/null
done
req DELETE "/collections/movements/items/${BULK[100]}" -H "${AUTH[liaison-b]}" -H 'If-Match: "1"' >/dev/null
pages() { # WHO QUERY: every page's Bulk features, as [title, overdue, overdue_at set] lines
    local off=0 n
    while :; do
        req GET "/collections/movements/items?limit=25&offset=$off$2" -H "${AUTH[$1]}" >/dev/null || return 1
        jq -c '.features[] | select(.properties.title | startswith("Bulk")) | [.properties.title, (.properties.overdue // false), (.properties.overdue_at != null)]' "$FM_TMP/body"
        n=$(jqb .numberReturned); off=$((off + 25)); [ "$n" = 25 ] || break
    done
}
check "B's pages: the 127 still waiting are overdue with their time, the 2 answered and the withdrawn one are not" \
    'pages liaison-b "" >"$FM_TMP/pb" && [ "$(grep -c "true,true" "$FM_TMP/pb")" = 127 ] &&
     [ "$(grep -c "\"Bulk 7\",false,false\|\"Bulk 64\",false,false" "$FM_TMP/pb")" = 2 ] &&
     ! grep -q "\"Bulk 100\"" "$FM_TMP/pb" && [ "$(grep -c "\"Bulk draft" "$FM_TMP/pb")" = 2 ] &&
     ! grep -q "draft.*true" "$FM_TMP/pb"'
check "A (the other side) and the supervisor see the same marks, and never B's drafts" \
    'pages liaison-a "" >"$FM_TMP/pa" && pages supervisor "" >"$FM_TMP/ps" &&
     grep -v draft "$FM_TMP/pb" | sort >"$FM_TMP/pb2" && sort "$FM_TMP/pa" | cmp -s - "$FM_TMP/pb2" && sort "$FM_TMP/ps" | cmp -s - "$FM_TMP/pb2" &&
     ! grep -q draft "$FM_TMP/pa"'
check "the same with properties= and crs= (the page is rewritten, the marks stay)" \
    'pages liaison-a "&properties=title,overdue,overdue_at&crs=http://www.opengis.net/def/crs/EPSG/0/3857" >"$FM_TMP/pc" &&
     sort "$FM_TMP/pc" | cmp -s - "$FM_TMP/pb2"'
# ---- the inbox's overdue entries by age ---------------------------------------
# the clock an hour further: the bulk movements late by an hour and more;
# a new air movement with 3400 s to answer, late by about 320 s
advance 3600 >/dev/null
put_rules admin '{"collection":"movements","type":"air","notice_s":3600,"urgent_notice_s":600,"answer_s":3400,"answer_before_s":30}' >/dev/null
mk liaison-b movements "$LINE" "{\"title\":\"Fresh overdue\",\"type\":\"air\",\"status\":\"notified\",\"valid_from\":\"$(at "+3 hours")\"}" >/dev/null
FRESH=$(jqb .id)
check "an overdue entry says how late (overdue_by_s), and the inbox its clock (now)" \
    'inbox supervisor && [ "$(jqb "[.overdue[] | select(.id == $FRESH)][0].overdue_by_s")" -ge 200 ] &&
     [ "$(jqb "[.overdue[] | select(.id == $FRESH)][0].overdue_by_s")" -lt 600 ] &&
     [ "$(jqb "[.overdue[] | select(.id == ${BULK[5]})][0].overdue_by_s")" -ge 3600 ] && jqb .now | grep -q "^20.*Z$" &&
     [ "$(jqb ".overdue_filter")" = null ]'
ALL=$(jqb .counts.overdue)
check "overdue_min_s=1800: the old ones only (the bulk, not the fresh one); counts agree, the rest hidden" \
    '[ "$(req GET "/inbox?overdue_min_s=1800" -H "${AUTH[supervisor]}")" = 200 ] &&
     [ "$(jqb "[.overdue[] | select(.id == $FRESH)] | length")" = 0 ] && [ "$(jqb "[.overdue[] | select(.title | startswith(\"Bulk \"))] | length")" = 127 ] &&
     [ "$(jqb "[.overdue[] | select(.overdue_by_s < 1800)] | length")" = 0 ] &&
     [ "$(jqb .counts.overdue)" = "$(jqb ".overdue | length")" ] && [ "$(jqb ".counts.overdue + .overdue_filter.hidden")" = "$ALL" ] &&
     [ "$(jqb .overdue_filter.min_s)" = 1800 ] && [ "$(jqb .overdue_filter.max_s)" = null ]'
check "overdue_max_s=600: the new ones only; the other lists unchanged" \
    'inbox supervisor; jqb "[.to_rule, .conflicts] | @json" >"$FM_TMP/other" &&
     [ "$(req GET "/inbox?overdue_max_s=600" -H "${AUTH[supervisor]}")" = 200 ] &&
     [ "$(jqb "[.overdue[] | select(.id == $FRESH)] | length")" = 1 ] && [ "$(jqb "[.overdue[] | select(.overdue_by_s > 600)] | length")" = 0 ] &&
     [ "$(jqb "[.overdue[] | select(.title | startswith(\"Bulk \"))] | length")" = 0 ] &&
     [ "$(jqb "[.to_rule, .conflicts] | @json")" = "$(cat "$FM_TMP/other")" ]'
check "both, a window, for A (who owes the answer): the fresh one, and never B's drafts" \
    '[ "$(req GET "/inbox?overdue_min_s=200&overdue_max_s=600" -H "${AUTH[liaison-a]}")" = 200 ] &&
     [ "$(jqb "[.overdue[] | select(.id == $FRESH)][0].waiting_for")" = you ] && [ "$(jqb ".overdue | length")" -ge 1 ] &&
     ! jqb . | grep -q "Bulk draft"'
check "bad ages: negative, fractional, words, min above max, unknown parameter: 400 naming it" \
    '(for q in overdue_min_s=-1 overdue_max_s=1.5 overdue_min_s=hour overdue_min_s=99999999999; do
         [ "$(req GET "/inbox?$q" -H "${AUTH[supervisor]}")" = 400 ] && is_problem 400 && [ "$(jqb .parameter)" = "${q%%=*}" ] || exit 1; done) &&
     [ "$(req GET "/inbox?overdue_min_s=600&overdue_max_s=60" -H "${AUTH[supervisor]}")" = 400 ] && [ "$(jqb .parameter)" = overdue_min_s ] &&
     [ "$(req GET "/inbox?overdue_since=60" -H "${AUTH[supervisor]}")" = 400 ] && [ "$(jqb .parameter)" = overdue_since ]'

check "GET of one item agrees with its page" \
    '[ "$(req GET /collections/movements/items/${BULK[5]} -H "${AUTH[liaison-a]}")" = 200 ] && [ "$(jqb .properties.overdue)" = true ] &&
     [ "$(req GET /collections/movements/items/${BULK[7]} -H "${AUTH[liaison-a]}")" = 200 ] && [ "$(jqb ".properties | has(\"overdue\")")" = false ]'

check "verify: the log and the state agree (the rules and deadlines tables replayed)" \
    '[ "$(req GET /events/verify -H "${AUTH[admin]}")" = 200 ] && [ "$(jqb .ok)" = true ]'

# the test clock is refused outside a test/demo mode
check "a server without FUSIONMAP_TEST_CLOCK=1 refuses the clock (403), even to the admin" \
    'env -u FUSIONMAP_TEST_CLOCK "$FUSIONMAP" serve --db "$FM_TMP/other.db" --port 0 --demo >"$FM_TMP/o.out" 2>/dev/null & OP=$!
     U2=; for i in $(seq 1 200); do U2=$(grep -o "http://[0-9.]*:[0-9]*" "$FM_TMP/o.out" | head -n1); [ -n "$U2" ] && break; sleep 0.05; done
     T2=$(env -u FUSIONMAP_TEST_CLOCK "$FUSIONMAP" token add admin --db "$FM_TMP/other.db")
     code=$(curl -s -o "$FM_TMP/body" -D "$FM_TMP/headers" -w "%{http_code}" -X POST -H "Authorization: Bearer $T2" -H "$J" --data-binary "{\"advance_s\":60}" "$U2/rules/clock")
     kill $OP; wait $OP; [ "$code" = 403 ] && is_problem 403'

# verify replays the two tables from the log: a changed row is caught
fm_stop
sqlite3 "$FM_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
tampered() { # SQL PATTERN: verify of a copy with SQL applied fails, naming PATTERN
    cp "$FM_DB" "$FM_TMP/t.db" && sqlite3 "$FM_TMP/t.db" "$1" && local out
    out=$("$FUSIONMAP" events verify --db "$FM_TMP/t.db" 2>&1) && return 1
    echo "# $out"
    [[ $out =~ $2 ]]
}
check "the untouched database verifies" '"$FUSIONMAP" events verify --db "$FM_DB" | grep -q "^ok"'
check "a deadline moved later: verify names the deadlines row" \
    'tampered "UPDATE deadlines SET due_at = due_at + 3600 WHERE item_id = $LATE" "deadlines row"'
check "an overdue mark removed: caught" \
    'tampered "UPDATE deadlines SET overdue_at = NULL WHERE item_id = $ONTIME" "deadlines row"'
check "a deadline deleted: caught (the log tells it, no row holds it)" \
    'tampered "DELETE FROM deadlines WHERE item_id = $URGENT" "no row holds it"'
check "a rule changed behind the log: caught" \
    'tampered "UPDATE deadline_rules SET answer_s = 999 WHERE collection = '"'movements'"'" "deadline_rules row"'
finish
