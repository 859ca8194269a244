#!/usr/bin/env bash
# copy.sh - `fusionmap copy` (issue 18) moves a cell between backends with
# its history and its chain: a SQLite cell with drafts, answers, a thread,
# a conflict and a key is copied to a PostgreSQL of this test's own and
# back to a new SQLite file. The three logs export to the same bytes, an
# export of either verifies against the others, a server on the copy
# answers each party as the original did (drafts included: still its
# owner's alone), logins and tokens go on working, and new ids follow the
# copied ones. A destination that holds a cell, the same database twice,
# and a copy that fails half-way change nothing.
. "$(dirname "$0")/../lib.sh"

check "PostgreSQL 15 + PostGIS started on loopback" fm_pg_start
[ -n "$FM_PG_URL" ] || finish
SRC="$FM_TMP/source.db"
BACK="$FM_TMP/back.db"
FM_DB=$SRC

# ---- a cell with some history, on SQLite ------------------------------------
fm_start --demo
for u in liaison-a liaison-b supervisor; do fm_login $u; done
A=(-b "$FM_TMP/liaison-a.jar" -H 'X-Requested-With: fusionmap')
B=(-b "$FM_TMP/liaison-b.jar" -H 'X-Requested-With: fusionmap')
GJ=(-H 'Content-Type: application/geo+json')
J=(-H 'Content-Type: application/json')
TOKEN_A=$(fm_token liaison-a)
stamp() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }
zone() { # title status: a zone of A's beside the demo's
    echo "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[35.70,33.00],[35.75,33.00],[35.75,33.05],[35.70,33.05],[35.70,33.00]]]},
      \"properties\":{\"title\":\"$1\",\"type\":\"restricted\",\"status\":\"$2\",\"valid_from\":\"$(stamp -60)\",\"valid_to\":\"$(stamp 86400)\"}}"
}
req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$(zone 'A draft only A sees' draft)" >/dev/null
DRAFT=$(jqb .id)
req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$(zone 'A proposal' proposed)" >/dev/null
PROP=$(jqb .id)
req POST "/collections/zones/items/$PROP/acks" "${B[@]}" "${J[@]}" -H 'If-Match: "1"' \
    -d '{"decision":"dispute","comment":"overlaps our road"}' >/dev/null
req POST "/collections/zones/items/$PROP/messages" "${A[@]}" "${J[@]}" -d '{"text":"we will move it north"}' >/dev/null
req POST "/collections/zones/items/$DRAFT/messages" "${A[@]}" "${J[@]}" -d '{"text":"a note on our own draft"}' >/dev/null
req POST /collections/movements/items "${B[@]}" "${GJ[@]}" -d "{\"type\":\"Feature\",
    \"geometry\":{\"type\":\"LineString\",\"coordinates\":[[35.60,33.08],[35.95,33.08]]},
    \"properties\":{\"title\":\"convoy through Range North\",\"type\":\"ground\",\"corridor_width_m\":300,
    \"valid_from\":\"$(stamp -3600)\",\"valid_to\":\"$(stamp 86400)\"}}" >/dev/null
"$FUSIONMAP" key new --out "$FM_TMP/b.key" >"$FM_TMP/b.pub"
req POST /keys "${B[@]}" "${J[@]}" -d @"$FM_TMP/b.pub" >/dev/null
check "the source's cell has drafts, a dispute, threads, a conflict and a key" \
    '[ -n "$DRAFT" ] && [ -n "$PROP" ] && [ "$(req GET /keys "${B[@]}")" = 200 ] && [ "$(jqb ".keys | length")" = 1 ]'

# what each party reads, with the server's address taken out
snapshot() { # OUT-FILE: A's and B's views of the cell, and the supervisor's
    local f=$1 p
    : >"$f"
    for who in A B; do
        eval "ARGS=(\"\${$who[@]}\")"
        for p in /collections/zones/items /collections/movements/items /collections/conflicts/items \
            "/collections/zones/items/$PROP/messages" "/collections/zones/items/$DRAFT/messages" \
            "/collections/zones/items/$PROP/acks" "/collections/zones/items/$DRAFT" /pending /disputes \
            "/events/log?limit=10000" /keys /inbox; do
            printf '%s %s %s ' "$who" "$p" "$(req GET "$p" "${ARGS[@]}")" >>"$f"
            jq -cS 'walk(if type == "object" then del(.links, .timeStamp, .now) else . end)' "$FM_TMP/body" \
                | sed "s|$FM_URL||g" >>"$f"
        done
    done
}
snapshot "$FM_TMP/view-source"
check "each party's view was read (24 answers, each 200 but B's two 404s for A's draft and its thread; A's view holds the draft, B's not)" \
    '[ "$(grep -c "^[AB] [^ ]* 200 " "$FM_TMP/view-source")" = 22 ] &&
     [ "$(grep -c "^B /collections/zones/items/$DRAFT[^ ]* 404 " "$FM_TMP/view-source")" = 2 ] &&
     grep "^A " "$FM_TMP/view-source" | grep -q "A draft only A sees" && ! grep "^B " "$FM_TMP/view-source" | grep -q "A draft only A sees"'
fm_stop
"$FUSIONMAP" events export --db "$SRC" --out "$FM_TMP/source.jsonl" 2>/dev/null

# ---- to PostgreSQL -------------------------------------------------------------
check "copy from the SQLite file to PostgreSQL succeeds and checks the copy's chain" \
    '"$FUSIONMAP" copy --from "$SRC" --to "$FM_PG_URL" >"$FM_TMP/copy.out" 2>"$FM_TMP/copy.err" &&
     grep -q "^copied [0-9]* rows ([0-9]* records of the log)" "$FM_TMP/copy.out" &&
     grep -q "^ok: [0-9]* records, the chain is intact" "$FM_TMP/copy.out"'
"$FUSIONMAP" events export --db "$FM_PG_URL" --out "$FM_TMP/pg.jsonl" 2>/dev/null
check "the copy's log exports to the same bytes as the source's" 'cmp -s "$FM_TMP/source.jsonl" "$FM_TMP/pg.jsonl"'
check "the source's export verifies against the copy, and the copy's against the source" \
    '"$FUSIONMAP" events verify --db "$FM_PG_URL" --against "$FM_TMP/source.jsonl" >/dev/null 2>&1 &&
     "$FUSIONMAP" events verify --db "$SRC" --against "$FM_TMP/pg.jsonl" >/dev/null 2>&1'

FM_DB=$FM_PG_URL
fm_start
snapshot "$FM_TMP/view-pg"
check "a server on the copy answers A and B exactly as the original did (A's draft and its thread A's alone)" \
    'cmp -s "$FM_TMP/view-source" "$FM_TMP/view-pg" ||
     { diff <(tr "," "\n" <"$FM_TMP/view-source") <(tr "," "\n" <"$FM_TMP/view-pg") | head -n 20; false; }'
check "and B still gets 404 for A's draft on the copy" \
    '[ "$(req GET "/collections/zones/items/$DRAFT" "${B[@]}")" = 404 ] && is_problem 404'
check "the sessions and the bearer tokens made on the source work on the copy" \
    '[ "$(req GET /me "${A[@]}")" = 200 ] && [ "$(jqb .user)" = liaison-a ] &&
     [ "$(req GET /me -H "Authorization: Bearer $TOKEN_A")" = 200 ]'
MAXID=$(psql -Atq "$FM_PG_URL" -c "SELECT max(id) FROM items")
check "a new item on the copy takes the next id after the copied ones ($((MAXID + 1)))" \
    '[ "$(req POST /collections/zones/items "${A[@]}" "${GJ[@]}" -d "$(zone "after the move" draft)")" = 201 ] &&
     [ "$(jqb .id)" = $((MAXID + 1)) ]'
check "and a new message too (ids of every copied table follow)" \
    '[ "$(req POST "/collections/zones/items/$PROP/messages" "${A[@]}" "${J[@]}" -d "{\"text\":\"moved\"}")" = 201 ]'
fm_stop
check "the copy's log, grown on PostgreSQL, verifies" \
    '"$FUSIONMAP" events verify --db "$FM_PG_URL" 2>/dev/null | grep -q "^ok: .* the chain is intact"'

# ---- and back, to a new SQLite file ------------------------------------------------
check "copy from PostgreSQL to a new SQLite file succeeds" \
    '"$FUSIONMAP" copy --from "$FM_PG_URL" --to "$BACK" >"$FM_TMP/back.out" 2>&1 && grep -q "^ok:" "$FM_TMP/back.out"'
"$FUSIONMAP" events export --db "$FM_PG_URL" --out "$FM_TMP/pg2.jsonl" 2>/dev/null
"$FUSIONMAP" events export --db "$BACK" --out "$FM_TMP/back.jsonl" 2>/dev/null
check "its log is PostgreSQL's, byte for byte, and SQLite's full replay of the tables passes" \
    'cmp -s "$FM_TMP/pg2.jsonl" "$FM_TMP/back.jsonl" && "$FUSIONMAP" events verify --db "$BACK" 2>&1 | grep -q "^ok:"'
Q="SELECT vid, item_id, version, status, title, sys_from, sys_to, feature, hex(geom) FROM item_versions"
check "the items, versions and geometries came back as the source kept them" \
    '[ "$(sqlite3 "$SRC" "$Q ORDER BY vid" | md5sum)" = "$(sqlite3 "$BACK" "$Q WHERE item_id <= $MAXID ORDER BY vid" | md5sum)" ]'

# ---- what copy refuses, changing nothing ----------------------------------------------
N=$(psql -Atq "$FM_PG_URL" -c "SELECT count(*) FROM events")
check "a destination that holds a cell is refused (exit 1, it says why) and keeps its log" \
    '! "$FUSIONMAP" copy --from "$SRC" --to "$FM_PG_URL" >/dev/null 2>"$FM_TMP/err" &&
     grep -q "already holds a cell" "$FM_TMP/err" && [ "$(psql -Atq "$FM_PG_URL" -c "SELECT count(*) FROM events")" = "$N" ]'
check "the same database twice is refused" \
    '! "$FUSIONMAP" copy --from "$SRC" --to "$SRC" 2>"$FM_TMP/err" && grep -q "the same" "$FM_TMP/err"'
check "copy without --to is a usage error (exit 2)" \
    '"$FUSIONMAP" copy --from "$SRC" >/dev/null 2>&1; [ $? = 2 ]'
check "an unreachable PostgreSQL is a clear error, and no file is made" \
    '! "$FUSIONMAP" copy --from "$SRC" --to "postgresql://nobody@127.0.0.1:1/none" 2>"$FM_TMP/err" &&
     grep -qi "connect" "$FM_TMP/err" && [ ! -e "postgresql:" ]'
# a source the destination cannot take (an answer to an item that does not
# exist: PostgreSQL keeps that reference) fails after the log went in
cp "$SRC" "$FM_TMP/odd.db"
sqlite3 "$FM_TMP/odd.db" "INSERT INTO acks (item_id, version, party, user, at, decision) VALUES (999999, 1, 'B', 'liaison-b', 1, 'ack')"
psql -q "$FM_PG_URL" -c "DROP SCHEMA public CASCADE; CREATE SCHEMA public" 2>/dev/null
check "a copy that fails half-way leaves the destination without any of it (one transaction)" \
    '! "$FUSIONMAP" copy --from "$FM_TMP/odd.db" --to "$FM_PG_URL" >/dev/null 2>"$FM_TMP/err" &&
     grep -q "acks" "$FM_TMP/err" && [ "$(psql -Atq "$FM_PG_URL" -c "SELECT count(*) FROM events")" = 0 ] &&
     [ "$(psql -Atq "$FM_PG_URL" -c "SELECT count(*) FROM items")" = 0 ]'
finish
