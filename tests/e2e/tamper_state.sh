#!/usr/bin/env bash
# `events verify` covers the state the server acts on, not only the log:
# on a database made by a real server run (zones, incidents, movements,
# acknowledgements, a dispute, conflicts open, refreshed and resolved, a
# withdrawal, drafts, users and parties added), each edit of a table made
# directly in the file is caught and named by table, row and column, from
# the command line and from GET /events/verify. An untouched database
# verifies, also while and after `serve` ran for a while; so does one made
# by the schema-7 binary (tests/e2e/data/schema7_demo.sql.gz, a dump of a
# demo database the landed main of 2026-12-07 made and used), after the
# upgrade records its parties and users.
. "$(dirname "$0")/../lib.sh"
FM_CONFLICT_RECHECK_S=1 fm_start --demo
for u in liaison-a liaison-b supervisor admin; do fm_login $u; done
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
B=(-b "$FM_TMP/liaison-b.jar" -H 'X-Requested-With: fusionmap')
S=(-b "$FM_TMP/supervisor.jar" -H 'X-Requested-With: fusionmap')
ADM=(-b "$FM_TMP/admin.jar" -H 'X-Requested-With: fusionmap')
GJ=(-H 'Content-Type: application/geo+json')
MP=(-H 'Content-Type: application/merge-patch+json')
JS=(-H 'Content-Type: application/json')
stamp() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
ver() { req GET "/collections/$1/items/$2" "${A[@]}" >/dev/null; jqb .properties.version; }
zone() { # zone TITLE STATUS X1 X2: a restricted zone from X1 to X2 east, 32.9 to 32.95 north
    echo "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[$3,32.9],[$4,32.9],[$4,32.95],[$3,32.95],[$3,32.9]]]},
      \"properties\":{\"title\":\"$1\",\"type\":\"restricted\",\"status\":\"$2\",
      \"valid_from\":\"$(stamp -600)\",\"valid_to\":\"$(stamp 86400)\",\"altitude_floor_m\":0,\"altitude_ceiling_m\":1200}}"
}

# --- a realistic mix ---------------------------------------------------------
code=$(req POST /collections/zones/items/1/ack "${B[@]}" "${JS[@]}" -H 'If-Match: "1"' -d '{"decision":"ack"}')
check "B acknowledges A's zone 1, which becomes active ($code)" '[ "$code" = 200 ] && [ "$(jqb .properties.status)" = active ]'
code=$(req PATCH /collections/zones/items/1 "${A[@]}" "${MP[@]}" -H "If-Match: \"$(ver zones 1)\"" -d '{"properties":{"title":"Range North (extended)"}}')
check "A edits zone 1: its open conflict with B's convoy is refreshed in place ($code)" '[ "$code" = 200 ]'
code=$(req POST /collections/incidents/items "${B[@]}" "${GJ[@]}" -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.78,33.08]},"properties":{"title":"Flare seen","category":"other","severity":2}}')
INC=$(jqb .id)
check "B reports an incident inside zone 1 ($code)" '[ "$code" = 201 ]'
RC=$(sqlite3 "$FM_DB" "SELECT id FROM conflicts WHERE kind = 'incident_in_zone' AND a_id = $INC")
code=$(req POST "/collections/conflicts/items/$RC/resolve" "${S[@]}" "${JS[@]}" -d '{"comment":"flare was ours, agreed"}')
check "the supervisor resolves that conflict ($RC) with a comment ($code)" '[ "$code" = 200 ] && [ "$(jqb .properties.state)" = resolved ]'
code=$(req POST /collections/movements/items/7/ack "${A[@]}" "${JS[@]}" -H 'If-Match: "1"' -d '{"decision":"dispute","comment":"route crosses our range"}')
check "A disputes B's convoy ($code)" '[ "$code" = 200 ]'
code=$(req POST /collections/incidents/items/6/ack "${B[@]}" "${JS[@]}" -H 'If-Match: "1"' -d '{"decision":"ack","comment":"seen it too"}')
check "B acknowledges A's incident with a comment ($code)" '[ "$code" = 200 ]'
req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$(zone 'Short-lived range' proposed 35.2 35.25)" >/dev/null
GONE=$(jqb .id)
code=$(req DELETE "/collections/zones/items/$GONE" "${A[@]}" -H 'If-Match: "1"')
check "A withdraws a proposed zone ($code)" '[ "$code" = 204 ]'
code=$(req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$(zone 'Timed range' proposed 35.4 35.45)")
Z=$(jqb .id)
check "A proposes a zone with a window and a band ($code)" '[ "$code" = 201 ]'
code=$(req POST /collections/movements/items "${A[@]}" "${GJ[@]}" -d "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[35.60,33.08],[35.95,33.08]]},
    \"properties\":{\"title\":\"Draft patrol\",\"type\":\"ground\",\"status\":\"draft\",\"corridor_width_m\":200,\"valid_from\":\"$(stamp -600)\",\"valid_to\":\"$(stamp 86400)\"}}")
DM=$(jqb .id)
check "A drafts a movement through its own zone: a conflict A alone sees ($code)" \
    '[ "$code" = 201 ] && [ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM conflicts WHERE a_id = $DM AND vis_party = '"'A'"'")" -ge 1 ]'
code=$(req PATCH /collections/zones/items/4 "${A[@]}" "${MP[@]}" -H 'If-Match: "1"' -d '{"properties":{"description":"still drafting"}}')
check "A edits its draft zone 4 ($code)" '[ "$code" = 200 ]'
code=$(req POST /collections/incidents/items "${A[@]}" "${GJ[@]}" -d '{"type":"Feature","geometry":{"type":"Point","coordinates":[35.3,32.6]},"properties":{"title":"Unconfirmed report","category":"other","severity":1,"status":"draft"}}')
WD=$(jqb .id)
code2=$(req DELETE "/collections/incidents/items/$WD" "${A[@]}" -H 'If-Match: "1"')
check "A drafts an incident and withdraws the draft ($code, $code2)" '[ "$code" = 201 ] && [ "$code2" = 204 ]'
code=$(req POST /users "${ADM[@]}" "${JS[@]}" -d '{"name":"observer-b","party":"B","role":"viewer","password":"observer-pw"}')
check "the admin adds a user ($code)" '[ "$code" = 201 ]'
code=$(req POST /parties "${ADM[@]}" "${JS[@]}" -d '{"code":"C","name":"Side C","colour":"#aa00aa","kind":"side"}')
code2=$(req POST /parties "${ADM[@]}" "${JS[@]}" -d '{"code":"C","name":"Side C","colour":"#00aaaa","kind":"side"}')
check "the admin adds a party and changes its colour ($code, $code2)" '[ "$code" = 201 ] && [ "$code2" = 201 ]'
check "users and parties are records in the log (user_add, party_add, party_change)" \
    '[ "$(sqlite3 "$FM_DB" "SELECT group_concat(action) FROM (SELECT DISTINCT action FROM events WHERE collection IN ('"'users','parties'"') ORDER BY action)")" = party_add,party_change,user_add ]'
check "no password hash in any record" '[ "$(sqlite3 "$FM_DB" "SELECT count(*) FROM events WHERE after LIKE '"'%argon2%'"' OR after LIKE '"'%pwhash%'"'")" = 0 ]'
code=$(req GET "/events/log?since=0&limit=10000" "${B[@]}")
check "no party reads the records of accounts through the log" \
    '[ "$code" = 200 ] && [ "$(jqb '"'[.events[] | select(.collection == \"users\" or .collection == \"parties\")] | length'"')" = 0 ]'

# --- untouched: verifies, live over HTTP, with the re-check running ----------
sleep 3
code=$(req GET /events/verify "${S[@]}")
check "GET /events/verify while serving: ok ($code)" '[ "$code" = 200 ] && [ "$(jqb .ok)" = true ]'
fm_stop
sqlite3 "$FM_DB" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
N=$(sqlite3 "$FM_DB" "SELECT max(seq) FROM events")
check "the untouched database verifies after serve ran ($N records)" \
    'out=$("$FUSIONMAP" events verify --db "$FM_DB"); echo "# $out"; [[ $out == "ok: $N records"* ]]'
check "the refreshed conflict 1 is one verify checks as refreshed in place (versions moved on)" \
    '[ "$(sqlite3 "$FM_DB" "SELECT c.b_version <> json_extract(e.after, '"'\$.properties.items[1].version'"') FROM conflicts c JOIN events e ON e.seq = (SELECT max(seq) FROM events WHERE collection = '"'conflicts'"' AND item_id = 1) WHERE c.id = 1")" = 1 ]'

# tamper NAME SQL: a copy of the database with SQL applied (the triggers
# of the tables it names dropped first: SpatiaLite's need its functions)
tamper() {
    local copy="$FM_TMP/$1.db"
    cp "$FM_DB" "$copy"
    /usr/bin/python3 - "$copy" "$2" <<'PY'
import re, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
tables = set(re.findall(r"(?:UPDATE|INTO|FROM)\s+(\w+)", sys.argv[2]))
for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN (%s)"
                      % ",".join("?" * len(tables)), sorted(tables)).fetchall():
    c.execute('DROP TRIGGER "%s"' % t)
c.executescript(sys.argv[2])
c.commit()
PY
    echo "$copy"
}
# caught DB PATTERN: verify fails and its answer matches PATTERN (a bash regex)
caught() {
    local out rc
    out=$("$FUSIONMAP" events verify --db "$1")
    rc=$?
    echo "# $out"
    [ $rc -ne 0 ] && [[ $out =~ $2 ]]
}
V1=$(sqlite3 "$FM_DB" "SELECT max(version) FROM item_versions WHERE item_id = 1")
db=$(tamper party "UPDATE item_versions SET party = 'B' WHERE item_id = 1")
check "item_versions.party: named" 'caught "$db" "item_versions row item 1 version 1: column party is B, the log says A"'
PARTY_DB=$db
db=$(tamper status "UPDATE item_versions SET status = 'active' WHERE item_id = 1 AND sys_to IS NULL")
check "item_versions.status: named" 'caught "$db" "item_versions row item 1 version $V1: column status is active, the log says proposed"'
db=$(tamper geom "UPDATE item_versions SET geom = (SELECT geom FROM item_versions WHERE item_id = 2 AND version = 1) WHERE item_id = 1 AND version = 1")
check "item_versions.geom: named" 'caught "$db" "item_versions row item 1 version 1: column geom"'
db=$(tamper title "UPDATE item_versions SET title = 'Nothing here' WHERE item_id = 1 AND version = $V1")
check "item_versions.title: named" 'caught "$db" "item_versions row item 1 version $V1: column title is Nothing here, the log says Range North"'
db=$(tamper from "UPDATE item_versions SET valid_from = valid_from + 86400 WHERE item_id = $Z")
check "item_versions.valid_from: named" 'caught "$db" "item_versions row item $Z version 1: column valid_from"'
db=$(tamper to "UPDATE item_versions SET valid_to = valid_to - 3600 WHERE item_id = $Z")
check "item_versions.valid_to: named" 'caught "$db" "item_versions row item $Z version 1: column valid_to"'
db=$(tamper alt "UPDATE item_versions SET alt_ceiling = 99999 WHERE item_id = $Z")
check "item_versions.alt_ceiling: named" 'caught "$db" "item_versions row item $Z version 1: column alt_ceiling is 99999"'
db=$(tamper sysfrom "UPDATE item_versions SET sys_from = sys_from - 7200 WHERE item_id = 1 AND version = 1")
check "item_versions.sys_from: named" 'caught "$db" "item_versions row item 1 version 1: column sys_from"'
db=$(tamper systo "UPDATE item_versions SET sys_to = NULL WHERE item_id = 1 AND version = 1")
check "item_versions.sys_to (a version made current again): named" 'caught "$db" "item_versions row item 1 version 1: column sys_to is NULL"'
db=$(tamper by "UPDATE item_versions SET by_user = 'liaison-b' WHERE item_id = 1 AND version = $V1")
check "item_versions.by_user: named" 'caught "$db" "item_versions row item 1 version $V1: column by_user is liaison-b, the log says liaison-a"'
db=$(tamper items "UPDATE items SET created_by = 'liaison-b' WHERE id = 1")
check "items.created_by: named" 'caught "$db" "items row 1: column created_by is liaison-b, the log says liaison-a"'
db=$(tamper cstate "UPDATE conflicts SET state = 'open', resolved_by = NULL, comment = NULL WHERE id = $RC")
check "conflicts.state (a resolved conflict re-opened): named" 'caught "$db" "conflicts row $RC: column state is open, the log says resolved"'
db=$(tamper cby "UPDATE conflicts SET resolved_by = 'liaison-a' WHERE id = $RC")
check "conflicts.resolved_by: named" 'caught "$db" "conflicts row $RC: column resolved_by is liaison-a, the log says supervisor"'
db=$(tamper ccomment "UPDATE conflicts SET comment = 'B accepted fault' WHERE id = $RC")
check "conflicts.comment: named" 'caught "$db" "conflicts row $RC: column comment is B accepted fault"'
db=$(tamper cver "UPDATE conflicts SET b_version = b_version + 1 WHERE id = $RC")
check "conflicts.b_version of a resolved conflict: named" 'caught "$db" "conflicts row $RC: column b_version is [0-9]+, the log says [0-9]+"'
db=$(tamper cgeom "UPDATE conflicts SET geom = NULL WHERE id = $RC")
check "conflicts.geom: named" 'caught "$db" "conflicts row $RC: column geom"'
db=$(tamper crefreshed "UPDATE conflicts SET state = 'resolved', resolved_by = 'supervisor', comment = 'done' WHERE id = 1")
check "conflicts.state of a conflict refreshed in place: named" 'caught "$db" "conflicts row 1: column state is resolved, the log says open"'
db=$(tamper cvis "UPDATE conflicts SET vis_party = NULL WHERE vis_party = 'A'")
check "conflicts.vis_party (A's draft conflict shown to all): named" 'caught "$db" "conflicts row [0-9]+: column vis_party is NULL, the log says A"'
db=$(tamper role "UPDATE users SET role = 'admin' WHERE name = 'liaison-b'")
check "users.role raised to admin: named" 'caught "$db" "users row liaison-b: column role is admin, the log says liaison"'
db=$(tamper uparty "UPDATE users SET party = 'A' WHERE name = 'observer-b'")
check "users.party: named" 'caught "$db" "users row observer-b: column party is A, the log says B"'
db=$(tamper forged_user "INSERT INTO users (name, party, role, pwhash, created_at) SELECT 'mallory', 'B', 'supervisor', pwhash, created_at FROM users WHERE name = 'liaison-b'")
check "a user added in the file: named" 'caught "$db" "users row mallory: no record of it in the log"'
db=$(tamper colour "UPDATE parties SET colour = '#000000' WHERE code = 'C'")
check "parties.colour: named" 'caught "$db" "parties row C: column colour is #000000, the log says #00aaaa"'
db=$(tamper kind "UPDATE parties SET kind = 'supervisor' WHERE code = 'B'")
check "parties.kind: named" 'caught "$db" "parties row B: column kind is supervisor, the log says side"'
db=$(tamper owner_only "UPDATE item_versions SET owner_only = 0 WHERE item_id = 4")
check "item_versions.owner_only cleared on A's draft zone: named" 'caught "$db" "item_versions row item 4 version 1: column owner_only is 0, the log says 1"'
db=$(tamper draft "UPDATE events SET after_draft = 0 WHERE after_draft = 1 AND collection = 'zones'")
check "events.after_draft cleared on A's draft: named" 'caught "$db" "events row [0-9]+: column after_draft is 0, the log says 1"'
db=$(tamper cdraft "UPDATE events SET after_draft = 0 WHERE after_draft = 1 AND collection = 'conflicts'")
check "events.after_draft cleared on A's draft conflict: named" 'caught "$db" "events row [0-9]+: column after_draft is 0, the log says 1"'
db=$(tamper wdraft "UPDATE events SET after_draft = 0 WHERE action = 'withdraw' AND item_id = $WD")
check "events.after_draft cleared on the withdrawal of a draft (which would publish it): named" \
    'caught "$db" "events row [0-9]+: column after_draft is 0, the log says 1"'
ZV=$(sqlite3 "$FM_DB" "SELECT version FROM item_versions WHERE item_id = $Z AND sys_to IS NULL")
db=$(tamper forged_ack "INSERT INTO acks (item_id, version, party, user, at, decision, comment) VALUES ($Z, $ZV, 'B', 'liaison-b', strftime('%s','now'), 'ack', NULL)")
check "a forged acknowledgement row: named" 'caught "$db" "acks row [0-9]+ \(item $Z version $ZV party B\): no record"'
db=$(tamper ack_comment "UPDATE acks SET comment = 'never seen' WHERE comment = 'seen it too'")
check "acks.comment: named" 'caught "$db" "acks row [0-9]+: column comment is never seen, the log says seen it too"'
db=$(tamper ack_decision "UPDATE acks SET decision = 'ack', comment = NULL WHERE decision = 'dispute'")
check "acks.decision (a dispute turned into an ack): named" 'caught "$db" "acks row [0-9]+: column decision is ack, the log says dispute"'
db=$(tamper ack_gone "DELETE FROM acks WHERE decision = 'dispute'")
check "an acknowledgement row removed: named" 'caught "$db" "acks: the answer of party A to item 7 version 1 has no row"'
V1VID=$(sqlite3 "$FM_DB" "SELECT vid FROM item_versions WHERE item_id = 1 AND sys_to IS NULL")
db=$(tamper pic "UPDATE pic_zones SET party = 'B' WHERE item_id = 1")
check "pic_zones (the picture's cache) party: named" 'caught "$db" "pic_zones row vid $V1VID: column party differs from item_versions"'
db=$(tamper pic_gone "DELETE FROM pic_zones WHERE item_id = 1")
check "pic_zones row removed (zone 1 no longer drawn nor checked): named" 'caught "$db" "pic_zones row vid $V1VID: missing"'
db=$(tamper reach "UPDATE conflict_reach SET reach_m = 0")
check "conflict_reach: named" 'caught "$db" "conflict_reach row item [0-9]+: column reach_m"'

# --- the same over HTTP ------------------------------------------------------
"$FUSIONMAP" serve --db "$PARTY_DB" --port 0 >"$FM_TMP/s2.out" 2>"$FM_TMP/s2.err" &
S2=$!
for i in $(seq 1 100); do URL2=$(grep -o 'http://[0-9.]*:[0-9]*' "$FM_TMP/s2.out" | head -n1); [ -n "$URL2" ] && break; sleep 0.05; done
curl -sf -c "$FM_TMP/s2.jar" "${JS[@]}" -d '{"user":"supervisor","password":"supervisor"}' "$URL2/login" >/dev/null
curl -s -b "$FM_TMP/s2.jar" "$URL2/events/verify" >"$FM_TMP/v2.json"
echo "# $(cat "$FM_TMP/v2.json")"
check "GET /events/verify names the same table, row and column" \
    'jq -e ".ok == false and (.reason | test(\"item_versions row item 1 version 1: column party is B, the log says A\"))" "$FM_TMP/v2.json" >/dev/null'
curl -sf -c "$FM_TMP/s2b.jar" "${JS[@]}" -d '{"user":"liaison-b","password":"liaison-b"}' "$URL2/login" >/dev/null
curl -s -b "$FM_TMP/s2b.jar" "$URL2/events/verify" >"$FM_TMP/v2b.json"
echo "# $(cat "$FM_TMP/v2b.json")"
check "a liaison reads where, not the values (they may be a draft's)" \
    'jq -e ".ok == false and .reason == \"the state differs from the log: item_versions row item 1 version 1: column party\"" "$FM_TMP/v2b.json" >/dev/null'
kill "$S2"
wait "$S2"
check "that server stopped cleanly" '[ $? -eq 0 ]'

# --- a database of the schema-7 binary ---------------------------------------
OLD="$FM_TMP/old.db"
gzip -dc "$(dirname "$0")/data/schema7_demo.sql.gz" | sqlite3 "$OLD"
check "the old database is at schema 7 and has no account records" \
    '[ "$(sqlite3 "$OLD" "PRAGMA user_version")" = 7 ] && [ "$(sqlite3 "$OLD" "SELECT count(*) FROM events WHERE collection IN ('"'users','parties'"')")" = 0 ]'
check "it verifies after the upgrade" \
    'out=$("$FUSIONMAP" events verify --db "$OLD"); echo "# $out"; [[ $out == ok:* ]]'
check "the upgrade recorded its 4 parties and 6 users, marked found_at_upgrade" \
    '[ "$(sqlite3 "$OLD" "SELECT count(*) FROM events WHERE action IN ('"'party_add','user_add'"') AND json_extract(after, '"'\$.found_at_upgrade'"') = 1")" = 10 ]'
cp "$OLD" "$FM_TMP/old-role.db"
sqlite3 "$FM_TMP/old-role.db" "UPDATE users SET role = 'admin' WHERE name = 'observer-b'"
check "and a role raised in it afterwards is named" 'caught "$FM_TMP/old-role.db" "users row observer-b: column role is admin, the log says viewer"'
FM_DB=$OLD fm_start
fm_login liaison-a
code=$(req PATCH /collections/zones/items/1 "${A[@]}" "${MP[@]}" -H "If-Match: \"$(ver zones 1)\"" -d '{"properties":{"description":"after the upgrade"}}')
check "the upgraded server serves and writes ($code)" '[ "$code" = 200 ]'
fm_stop
check "and the old database still verifies after that" \
    'out=$("$FUSIONMAP" events verify --db "$OLD"); echo "# $out"; [[ $out == ok:* ]]'
finish
